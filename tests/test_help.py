"""Help that teaches (examples that run, options in panels, a fast --help) and shell completion for bash, zsh, fish."""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import shellingham
from typer.testing import CliRunner

from losscli.cli import app
from losscli.registry import FAMILIES, list_losses

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ["list", "info", "compute", "compare", "report", "curve", "recommend"]


def help_text(command: str | None, columns: int) -> str:
    args = ([command] if command else []) + ["--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


def help_examples(text: str) -> list[str]:
    """The commands under the help's "Examples" heading: ``$ `` lines, joined over lines ending in ``\\``."""
    lines = [line.strip() for line in text.splitlines()]
    heading = next(i for i, line in enumerate(lines) if line.startswith("Examples"))
    found: list[str] = []
    continued = False
    for line in lines[heading + 1 :]:
        if continued:
            found[-1] += " " + line.removesuffix("\\").strip()
        elif line.startswith("$ "):
            found.append(line[2:].removesuffix("\\").strip())
        else:
            assert line == "" or line.startswith("# "), f"not an example or its comment: {line!r}"
        continued = line.endswith("\\")
    return found


def shell_words(command: str) -> list[str]:
    """``command`` split as a shell splits it, unquoted globs expanded (sorted, as bash sorts them)."""
    lexer = shlex.shlex(command, posix=False)
    lexer.whitespace_split = True
    words: list[str] = []
    for token in lexer:
        if token[0] in "'\"":
            words += shlex.split(token)
        elif any(c in token for c in "*?["):
            matches = sorted(glob.glob(token))
            assert matches, f"{token} matches no file"
            words += matches
        else:
            words.append(token)
    return words


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_ends_with_examples_that_run(command, monkeypatch, tmp_path):
    narrow, wide = help_text(command, 80), help_text(command, 200)
    examples = help_examples(narrow)
    assert 2 <= len(examples) <= 3, examples
    assert help_examples(wide) == examples, "an example is wrapped at 80 columns"
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 80
    last = [line.strip() for line in narrow.splitlines() if line.strip()][-1]
    assert examples[-1].endswith(last.removeprefix("$ ")), "the help ends with its examples"
    # run "from the repository root", as the help says, but in a copy of it: a report example writes its --out
    (tmp_path / "sample_data").symlink_to(REPO / "sample_data")
    monkeypatch.chdir(tmp_path)
    for example in examples:
        words = shell_words(example)
        assert words[0] == "losscli"
        if command is not None:
            assert words[1] == command, f"{command}'s help shows another command: {example}"
        result = CliRunner().invoke(app, words[1:], env={"COLUMNS": "80"})
        assert result.exit_code == 0, f"{example}\n{result.output}"
        assert "Error:" not in result.stderr, example
        assert result.stdout.strip(), f"{example} printed nothing"
        if "--out" in words:
            assert (tmp_path / words[words.index("--out") + 1]).stat().st_size > 0, example


def test_example_extraction_sees_a_failing_example(monkeypatch):
    """The runner above can fail: an example naming a missing file exits 3."""
    monkeypatch.chdir(REPO)
    words = shell_words("losscli compute mse sample_data/no_such_file.csv --label-col y")
    assert CliRunner().invoke(app, words[1:]).exit_code == 3
    assert shell_words("losscli list 'bce*' sample_data/regression_pred*.csv") == [
        "losscli",
        "list",
        "bce*",
        "sample_data/regression_pred.csv",
        "sample_data/regression_pred_b.csv",
        "sample_data/regression_pred_c.csv",
    ]


def help_panels(text: str) -> dict[str, list[str]]:
    """Each Rich panel's title and the options (or arguments) at the start of its rows."""
    panels: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        title = re.match(r"\s*╭─ (.+?) ─", line)
        if title:
            current = panels.setdefault(title.group(1), [])
        elif current is not None and line.strip().startswith("│"):
            cell = [word for word in line.strip()[1:].split() if word != "*"]  # * marks a required option
            if cell and cell[0].startswith("-"):
                current.append(cell[0].split(",")[0])
    return panels


@pytest.mark.parametrize("command", COMMANDS)
def test_options_are_grouped_in_panels(command):
    panels = help_panels(help_text(command, 200))
    assert panels["Options"] == ["--help"], "every option but --help belongs in a named panel"
    named = [title for title in panels if title in ("Inputs", "Loss options", "Output")]
    assert named == sorted(named, key=["Inputs", "Loss options", "Output"].index)
    assert {"--color", "--quiet", "--strict", "--format"} <= set(panels["Output"])


@pytest.mark.parametrize(
    ("command", "panel", "options"),
    [
        ("compute", "Inputs", {"--input", "--pred-col", "--label-col", "--pred-key", "--label-key", "--header"}),
        ("compute", "Inputs", {"--chunk-size"}),
        ("compute", "Loss options", {"--param", "--reduction", "--grad", "--dtype"}),
        ("compute", "Output", {"--rows", "--grad-out", "--format"}),
        ("compare", "Inputs", {"--labels", "--pred-col", "--label-col", "--pred-key", "--label-key", "--header"}),
        ("compare", "Loss options", {"--loss", "--param", "--dtype"}),
        ("compare", "Output", {"--sort", "--baseline", "--format"}),
        ("compute", "Slices, worst rows and weights", {"--by", "--slices", "--bins", "--min-slice-size", "--by-class"}),
        ("compute", "Slices, worst rows and weights", {"--worst", "--sample-weight"}),
        ("compare", "Slices, worst rows and weights", {"--by", "--slices", "--bins", "--min-slice-size", "--by-class"}),
        ("compare", "Slices, worst rows and weights", {"--worst", "--sample-weight"}),
        ("report", "Output", {"--out", "--sort", "--baseline", "--format"}),
        ("report", "Slices, worst rows and weights", {"--by", "--worst", "--sample-weight"}),
        ("recommend", "Inputs", {"--pred", "--pred-col", "--label-col", "--pred-key", "--label-key", "--header"}),
        ("recommend", "Loss options", {"--label-type", "--loss", "--quantiles"}),
        ("curve", "Loss options", {"--target", "--param", "--classes"}),
        ("curve", "Output", {"--range", "--points", "--grad", "--out", "--size", "--format"}),
        ("list", "Loss options", {"--family"}),
    ],
)
def test_option_panels(command, panel, options):
    assert options <= set(help_panels(help_text(command, 200))[panel])


HEAVY = ("torch", "pandas", "numpy")


def modules_after(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The heavy modules loaded by ``losscli ARGS`` run in a fresh interpreter."""
    code = (
        "import sys\n"
        "from losscli.cli import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='losscli')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert done.stdout, done.stderr  # it did print its help, or completions
    return [m for m in done.stderr.strip().split(",") if m]


@pytest.mark.parametrize("args", [["--help"], ["compute", "--help"], ["compare", "-h"], ["curve", "--help"]])
def test_help_imports_no_torch_pandas_or_numpy(args):
    assert modules_after(args) == []


def test_completion_imports_no_torch_pandas_or_numpy():
    env = {"_LOSSCLI_COMPLETE": "complete_bash", "COMP_WORDS": "losscli compare x.csv -l mse,hu", "COMP_CWORD": "4"}
    assert modules_after([], env) == []


def test_import_check_sees_numpy():
    """A command that does load numpy is seen doing so (the check above can fail)."""
    code = "import sys, losscli.io.loading; print(','.join(m for m in ('numpy',) if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "numpy"


# Shell completion. The protocol is Click's, as Typer's scripts speak it: the script runs losscli with
# _LOSSCLI_COMPLETE=complete_SHELL and the words typed so far (bash: COMP_WORDS and COMP_CWORD; zsh and fish:
# _TYPER_COMPLETE_ARGS), and losscli prints the candidates in that shell's format.

NAMES = {spec.name: spec.name for spec in list_losses()} | {
    alias: spec.name for spec in list_losses() for alias in spec.aliases
}
"""Every loss name and alias, and the loss it names, straight from the registry's specs."""


def bash_complete(words: str) -> list[str]:
    """What losscli offers bash for the last word of ``words`` (a trailing space: a new, empty word)."""
    split = words.split(" ")
    env = {"_LOSSCLI_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(split) - 1)}
    result = CliRunner().invoke(app, [], env=env)
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("losscli compute hu", {"huber"}),
        ("losscli compute bce", {"bce", "bce_with_logits", "bcewl"}),
        ("losscli compute BCE", {"BCELoss", "BCEWithLogitsLoss"}),
        ("losscli compute ", set(NAMES)),
        ("losscli info cross", {n for n in NAMES if n.startswith("cross")}),
        ("losscli recommend --loss tri", {n for n in NAMES if n.startswith("tri")}),
        ("losscli list ", set(NAMES)),
        ("losscli list --family s", {f for f in FAMILIES if f.startswith("s")}),
        ("losscli list --family ", set(FAMILIES)),
        ("losscli compute mse --reduction ", {"mean", "sum", "none", "batchmean"}),
        ("losscli compute mse a.csv --dtype ", {"float32", "float64"}),
        ("losscli compare a.csv --format ", {"table", "json", "csv"}),
        ("losscli curve mse -f j", {"json"}),
        ("losscli recommend --label-type m", {"multiclass", "multilabel"}),
        ("losscli info mse --color ", {"auto", "always", "never"}),
        ("losscli info mse --colour a", {"auto", "always"}),
        ("losscli ", {"list", "info", "compute", "compare", "report", "curve", "recommend"}),
        ("losscli --version ", {"list", "info", "compute", "compare", "report", "curve", "recommend"}),
        ("losscli co", {"compute", "compare"}),
    ],
)
def test_bash_completion(words, expected):
    assert set(bash_complete(words)) == expected


@pytest.mark.parametrize(
    "words",
    [
        "losscli compute mse ",  # PRED
        "losscli compute mse sample_data/regression_pred.csv sam",  # LABELS
        "losscli compare ",
        "losscli compare a.csv --labels ",
        "losscli recommend ",
        "losscli recommend --pred ",
        "losscli compute mse a.csv --grad-out ",
        "losscli curve bce --out ",
    ],
)
def test_files_are_left_to_the_shell(words):
    """No candidates: bash's ``complete -o default``, zsh's ``_files`` and fish complete file names."""
    assert bash_complete(words) == []


def test_comma_lists_complete_after_the_last_comma():
    assert set(bash_complete("losscli curve bce,hu")) == {"bce,huber"}
    got = set(bash_complete("losscli compare a.csv -l mse,m"))
    expected = {f"mse,{n}" for n, loss in NAMES.items() if n.startswith("m") and loss != "mse"}
    assert got == expected
    assert "mse,mae" in got and "mse,mean_squared_error" not in got  # an alias of a listed loss is left out
    assert set(bash_complete("losscli compare a.csv -l l1 --loss mse,hub")) == {"mse,huber"}
    assert set(bash_complete("losscli curve MSELoss,l1,")) == {f"MSELoss,l1,{n}" for n, x in NAMES.items()} - {
        f"MSELoss,l1,{n}" for n, x in NAMES.items() if x in ("mse", "l1")
    }


def test_sort_completes_the_compared_losses():
    assert bash_complete("losscli compare a.csv -l mse,l1 -l huber --sort ") == ["mse", "l1", "huber"]
    assert bash_complete("losscli compare a.csv -l mse,l1 --sort l") == ["l1"]
    assert set(bash_complete("losscli compare a.csv --sort hu")) == {"huber"}  # no --loss: any loss


def test_zsh_completion_protocol():
    env = {"_LOSSCLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "losscli compute hu"}
    result = CliRunner().invoke(app, [], env=env)
    assert result.stdout.strip() == """_arguments '*: :(("huber":"regression loss"))'"""
    env["_TYPER_COMPLETE_ARGS"] = "losscli compute HuberL"
    assert "alias of huber" in CliRunner().invoke(app, [], env=env).stdout
    env["_TYPER_COMPLETE_ARGS"] = "losscli compute mse "  # a file: zsh's own file completion
    assert CliRunner().invoke(app, [], env=env).stdout.strip() == "_files"


def test_fish_completion_protocol():
    env = {
        "_LOSSCLI_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": "losscli list --family seg",
    }
    result = CliRunner().invoke(app, [], env=env)
    assert result.stdout.strip() == "segmentation"
    env["_TYPER_COMPLETE_ARGS"] = "losscli curve bce,hu"
    assert CliRunner().invoke(app, [], env=env).stdout.strip() == "bce,huber\tregression loss"
    # is-args: exit 0 when losscli has candidates, 1 to let fish complete file names
    env["_TYPER_COMPLETE_FISH_ACTION"] = "is-args"
    assert CliRunner().invoke(app, [], env=env).exit_code == 0
    env["_TYPER_COMPLETE_ARGS"] = "losscli compute mse "
    assert CliRunner().invoke(app, [], env=env).exit_code == 1


SCRIPT_LINES = {
    "bash": [
        'COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \\',
        "COMP_CWORD=$COMP_CWORD \\",
        "_LOSSCLI_COMPLETE=complete_bash $1 ) )",
        "complete -o default -F _losscli_completion losscli",
    ],
    "zsh": [
        "#compdef losscli",
        'eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _LOSSCLI_COMPLETE=complete_zsh losscli)',
        "compdef _losscli_completion losscli",
    ],
    "fish": [
        "complete --command losscli --no-files --arguments "
        '"(env _LOSSCLI_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args '
        '_TYPER_COMPLETE_ARGS=(commandline -cp) losscli)" --condition "env _LOSSCLI_COMPLETE=complete_fish '
        '_TYPER_COMPLETE_FISH_ACTION=is-args _TYPER_COMPLETE_ARGS=(commandline -cp) losscli"'
    ],
}


@pytest.fixture
def shell_is(monkeypatch):
    """``shell_is(name)``: shellingham finds ``name`` among the parent processes (None: finds nothing)."""

    def detect(name: str | None, login_shell: str = "") -> None:
        def detect_shell() -> tuple[str, str]:
            if name is None:
                raise shellingham.ShellDetectionFailure()
            return name, f"/bin/{name}"

        monkeypatch.setattr(shellingham, "detect_shell", detect_shell)
        monkeypatch.setenv("SHELL", login_shell)

    return detect


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion(shell, shell_is):
    shell_is(shell)
    shown = CliRunner().invoke(app, ["--show-completion"])
    assert shown.exit_code == 0, shown.output
    lines = [line.strip() for line in shown.stdout.splitlines()]
    for line in SCRIPT_LINES[shell]:
        assert line in lines
    # Click's own way to ask for a given shell's script prints the same
    sourced = CliRunner().invoke(app, [], env={"_LOSSCLI_COMPLETE": f"source_{shell}"})
    assert sourced.stdout.strip() == shown.stdout.strip()


def test_show_completion_falls_back_on_the_login_shell(shell_is):
    shell_is(None, login_shell="/usr/bin/zsh")
    assert "compdef _losscli_completion losscli" in CliRunner().invoke(app, ["--show-completion"]).stdout
    shell_is("sh", login_shell="/usr/local/bin/fish")  # run from a Makefile
    assert "complete --command losscli" in CliRunner().invoke(app, ["--show-completion"]).stdout


@pytest.mark.parametrize("option", ["--show-completion", "--install-completion"])
def test_unknown_shell_is_a_usage_error(option, shell_is, tmp_path):
    shell_is("sh", login_shell="/bin/sh")
    result = CliRunner().invoke(app, [option], env={"HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {option}: cannot tell which shell to complete for (sh)")
    assert "_LOSSCLI_COMPLETE=source_bash" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("shell", "script", "rc", "rc_line"),
    [
        ("bash", ".bash_completions/losscli.sh", ".bashrc", "source '{home}/.bash_completions/losscli.sh'"),
        ("zsh", ".zfunc/_losscli", ".zshrc", "fpath+=~/.zfunc; autoload -Uz compinit; compinit"),
        ("fish", ".config/fish/completions/losscli.fish", None, None),
    ],
)
def test_install_completion(shell, script, rc, rc_line, shell_is, tmp_path):
    shell_is(shell)
    if rc is not None:
        (tmp_path / rc).write_text("# the user's own settings\nalias ll='ls -l'\n")
    for _ in range(2):  # a second install changes nothing
        result = CliRunner().invoke(app, ["--install-completion"], env={"HOME": str(tmp_path)})
        assert result.exit_code == 0, result.output
    installed = f"{shell} completion installed in {tmp_path / script}; it takes effect in a new shell"
    assert result.stdout.strip() == installed
    sourced = CliRunner().invoke(app, [], env={"_LOSSCLI_COMPLETE": f"source_{shell}"}).stdout
    assert (tmp_path / script).read_text().strip() == sourced.strip()
    if rc is not None:
        text = (tmp_path / rc).read_text()
        assert text.startswith("# the user's own settings\nalias ll='ls -l'\n")
        assert text.splitlines().count(rc_line.format(home=tmp_path)) == 1


def test_install_completion_unwritable_home(shell_is, tmp_path):
    shell_is("bash")
    (tmp_path / ".bashrc").mkdir()  # a directory where the file should be
    result = CliRunner().invoke(app, ["--install-completion"], env={"HOME": str(tmp_path)})
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("Error: --install-completion: cannot write ")
    assert ".bashrc" in result.stderr


@pytest.fixture(scope="module")
def real_bash(losscli_exe):
    """Run a script in a real bash, with the installed ``losscli`` console script first on PATH."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")

    def run(script: str) -> str:
        env = {**os.environ, "PATH": f"{Path(losscli_exe).parent}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run(
            [bash, "--norc", "--noprofile", "-c", script], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_completion_in_a_real_bash(real_bash):
    """Source what --show-completion prints (shellingham finds the bash running it), then press Tab."""
    out = real_bash(
        """
        eval "$(losscli --show-completion)"
        complete -p losscli
        tab() {  # the words typed so far, as bash splits them; the last is the one being completed
            COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
            _losscli_completion losscli "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            echo "$*: ${COMPREPLY[*]}"
        }
        tab losscli compute hu
        tab losscli curve bce,hu
        tab losscli list --family seg
        tab losscli compare a.csv -l mse,l1 --sort ''
        tab losscli compute mse ''
        """
    )
    lines = out.splitlines()
    assert lines[0] == "complete -o default -F _losscli_completion losscli"
    assert lines[1:] == [
        "losscli compute hu: huber",
        "losscli curve bce,hu: bce,huber",
        "losscli list --family seg: segmentation",
        "losscli compare a.csv -l mse,l1 --sort : mse l1",
        "losscli compute mse : ",
    ]
