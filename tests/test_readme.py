"""Every `losscli` example of the README runs, and reads well in an 80-column terminal (issue 12).

Each example is run in-process from a directory holding `sample_data/` and the README's `a.csv`/`b.csv`,
at COLUMNS=80: it must end as the README shows (an `Error:` example exits 3, the others 0), and its output
must have no line wider than 80 cells, no number cut short by an ellipsis, and, for `compare`, a distinct
name on every model row.
"""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

import pytest
from conftest import REPO
from rich.cells import cell_len

from losscli.cli import app

WIDTH = 80


def _examples() -> list[tuple[int, str, int]]:
    """(line number, command, exit code) for every losscli command in the README's code blocks: 3 when an
    ``Error:`` line follows it, 4 when its output shows a ``Gate failed:`` line, else 0."""
    lines = (REPO / "README.md").read_text().splitlines()
    examples, in_block, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_block = not in_block
            i += 1
            continue
        text = line[2:] if line.startswith("$ ") else line
        start = i
        while in_block and text.endswith("\\") and i + 1 < len(lines):  # a command continued on the next line
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        command_line = line.startswith(("$ ", "losscli ", "cat "))  # not an indented line of output
        if (
            in_block
            and command_line
            and "losscli " in text.split("#")[0]
            and not re.search(r"\b[A-Z]{4,}\b|\[", text.split("|")[0])  # a synopsis: LOSS PRED [LABELS]
        ):
            command = text.split("#")[0].strip()
            output = list(itertools.takewhile(lambda out: not out.startswith(("$ ", "```")), lines[i + 1 :]))
            code = 3 if output[:1] and output[0].startswith("Error:") else 0
            code = 4 if any(out.startswith("Gate failed:") for out in output) else code
            examples.append((start + 1, command, code))
        i += 1
    return examples


EXAMPLES = _examples()


def test_the_readme_has_examples_to_run():
    assert len(EXAMPLES) > 30
    assert any("compare" in command for _, command, _ in EXAMPLES)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "sample_data").symlink_to(REPO / "sample_data")
    (tmp_path / "a.csv").write_text("pred\n1\n2\n3\n4\n")  # the README's predictions and labels
    (tmp_path / "b.csv").write_text("y\n0.5\n3\n2\n4.5\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _arguments(command: str, workdir: Path) -> tuple[list[str], bytes | None]:
    """The command's arguments after `losscli`, and what a `cat FILE |` before it feeds standard input."""
    stdin = None
    pipeline = [part.strip() for part in command.split("|")]
    for part in pipeline:
        words = shlex.split(part)
        if words and words[0] == "cat":
            stdin = (workdir / words[1]).read_bytes()
        if words and words[0] == "losscli":
            return words[1:], stdin
    raise AssertionError(command)


@pytest.mark.parametrize(
    ("line", "command", "code"),
    [  # under pytest-xdist, the example on a scheduler runs in the worker of tests/test_distributed.py's cluster
        pytest.param(*example, marks=[pytest.mark.xdist_group("dask")] if "--scheduler" in example[1] else [])
        for example in EXAMPLES
    ],
    ids=[f"README:{n}" for n, _, _ in EXAMPLES],
)
def test_readme_example_runs_and_fits_80_columns(runner, workdir, line, command, code, request):
    args, stdin = _arguments(command, workdir)
    if "--install-completion" in args:  # it writes to the user's home: tests/test_help.py runs it in a temporary one
        pytest.skip("writes shell start-up files")
    if "--scheduler" in args:  # the README's scheduler on port 8786 is the tests' own cluster here
        args[args.index("--scheduler") + 1] = request.getfixturevalue("cluster")
    result = runner.invoke(app, args, input=stdin, env={"COLUMNS": str(WIDTH)})
    if code == 3:
        assert result.exit_code == 3, (result.stdout, result.stderr)
        assert result.stderr.startswith("Error: ")
        return
    assert result.exit_code == code, (result.stderr, result.exception)
    if code == 4:
        assert result.stderr.startswith("Gate failed: "), result.stderr
    machine = any(a in ("json", "csv", "value") for a in args) or "--value-only" in args
    for text in ([] if machine else [result.stdout]) + [result.stderr]:
        for out in text.splitlines():
            if out.startswith(("Warning: ", "Error: ", "Gate failed: ", "{")):  # one line each, wrapped by the terminal
                continue
            assert cell_len(out) <= WIDTH, out
            assert not re.search(r"\d…|…\d", out), f"a number cut short: {out}"
            assert out == out.rstrip(), f"trailing spaces: {out!r}"
    if args[0] == "compare" and "-f" not in args:
        rows = [out.split("│")[1].strip() for out in result.stdout.splitlines() if out.startswith("│")]
        named = [row for row in rows if row]
        assert len(named) == len(set(named)) >= 2, rows
