"""What people read at 60, 80 and 200 columns: every command on ``sample_data/`` (``make demo``, ``list``,
``info``, ``recommend``, ``curve``) fits the terminal, ends no line in spaces, cuts no number, and shows
the numbers its JSON output holds; rows are counted from 1 in tables and messages alike."""

from __future__ import annotations

import io
import json
import math
import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner, Result

from losscli import terminal
from losscli.cli import app
from losscli.registry import list_losses
from losscli.render import command_lines

REPO = Path(__file__).resolve().parents[1]
WIDTHS = (60, 80, 200)


def _demo_commands() -> list[list[str]]:
    """The command lines of the Makefile's ``demo`` target, as argument lists."""
    text = (REPO / "Makefile").read_text()
    body = text.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    return [
        shlex.split(line.strip().replace("$(S)", "sample_data"))[1:]
        for line in body.splitlines()
        if line.strip().startswith("$(LOSSCLI)")
    ]


DEMO = _demo_commands()
COMPUTE = [args for args in DEMO if args[0] == "compute"]
OTHERS = [
    ["list"],
    ["list", "--family", "segmentation"],
    ["list", "bce*"],
    ["recommend", "sample_data/multiclass_labels.txt", "--pred", "sample_data/multiclass_logits.csv"],
    ["recommend", "sample_data/binary_labels.csv", "--pred", "sample_data/binary_probs.csv"],
    ["recommend", "sample_data/regression_labels.csv"],
    ["curve", "bce", "--target", "1,0"],
    ["curve", "mse,l1,smooth_l1,huber", "--target", "0", "--range", "-3:3", "--grad"],
    *(["info", spec.name] for spec in list_losses()),
]
MORE_COMPUTE = [  # wide gradients, per-element values of several dimensions, several gradients
    ["compute", "cross_entropy", "sample_data/multiclass_logits.csv", "sample_data/multiclass_labels.txt"],
    ["compute", "nll2d", "sample_data/nll2d_log_probs.npy", "sample_data/nll2d_labels.npy", "--reduction", "none"],
    ["compute", "mse", "sample_data/regression_pred.csv", "sample_data/regression_labels.csv", "--reduction", "none"],
    [
        "compute",
        "margin_ranking",
        "sample_data/ranking_scores1.csv",
        "sample_data/ranking_labels.csv",
        "--input",
        "input2=sample_data/ranking_scores2.csv",
    ],
]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths as the Makefile and the README give them: relative to the repository."""
    monkeypatch.chdir(REPO)


def run(args: list[str], width: int) -> Result:
    """``losscli ARGS`` in a terminal ``width`` columns wide (Rich reads COLUMNS)."""
    result = CliRunner().invoke(app, args, env={"COLUMNS": str(width)}, terminal_width=width)
    assert result.exit_code == 0, (args, result.stderr, result.exception)
    return result


def assert_readable(result: Result, width: int) -> None:
    """No line wider than the terminal or ending in spaces, no number cut short, no "1 rows"."""
    for line in result.stdout.splitlines():
        assert cell_len(line) <= width, (width, line)
        assert line == line.rstrip(), repr(line)
        assert not re.search(r"[\d.]…|…[\d.]", line), line  # Rich's ellipsis inside a number
    for line in result.stderr.splitlines():  # Warning: lines are soft-wrapped: the terminal folds them
        assert line == line.rstrip(), repr(line)
    plural_of_one = re.search(
        r"(?<![\w/.,])1 (losses|rows|columns|values|models|warnings|labels|samples)\b", result.stdout
    )
    assert plural_of_one is None, plural_of_one


def agrees(shown: str, reference: float) -> bool:
    """Whether a number as shown is ``reference`` to the digits shown (half a unit of the last one)."""
    value = float(shown)
    if value == 0 or not math.isfinite(value):
        return value == reference
    mantissa = re.sub(r"[eE].*", "", shown).lstrip("+-").replace(".", "").lstrip("0")
    last_digit = math.floor(math.log10(abs(value))) - max(len(mantissa), 1) + 1
    return abs(value - reference) <= 0.5 * 10.0**last_digit * (1 + 1e-9)


def _cells(line: str, bar: str) -> list[str]:
    return [cell.strip() for cell in line.strip()[1:-1].split(bar)]


def parse_tables(stdout: str) -> list[tuple[str, list[str], list[list[str]], str]]:
    """Each boxed table below a heading: (heading, column headers, body rows, the note line below it)."""
    lines = stdout.splitlines()
    tables = []
    for i, line in enumerate(lines):
        if not line.startswith("┏"):
            continue
        start = i
        while start and lines[start - 1] and not lines[start - 1].startswith(("└", "┏")):
            start -= 1
        heading = " ".join(lines[start:i])
        middle = next(j for j in range(i, len(lines)) if lines[j].startswith("┡"))
        end = next(j for j in range(middle, len(lines)) if lines[j].startswith("└"))
        header_lines = [_cells(row, "┃") for row in lines[i + 1 : middle]]
        headers = [" ".join(filter(None, parts)) for parts in zip(*header_lines, strict=True)]
        body = [_cells(row, "│") for row in lines[middle + 1 : end]]
        note = []
        for row in lines[end + 1 :]:
            if not row or row.startswith(("┏", "Gradient", "Per-element")):
                break
            note.append(row)
        tables.append((heading, headers, body, " ".join(note)))
    return tables


def _flat_rows(values: Any) -> np.ndarray:
    array = np.array(values, dtype=float)
    return array.reshape(1, 1) if array.ndim == 0 else array.reshape(array.shape[0], -1)


def assert_tables_show_the_json_numbers(stdout: str, document: dict[str, Any]) -> None:
    """The value, the gradients' statistics and every cell of the per-element and gradient tables are
    the JSON's numbers, at the row (counted from 1) and column the table names."""
    value = re.search(r"^value\s+(\S+)$", stdout, re.MULTILINE)
    assert (value is None) == (document["value"] is None)
    if value is not None:
        assert agrees(value.group(1), document["value"]), (value.group(1), document["value"])
    tables = parse_tables(stdout)
    expected = (document["values"] is not None) + len(document["gradients"])
    assert len(tables) == expected, stdout
    for heading, headers, body, note in tables:
        if heading.startswith("Per-element"):
            array = _flat_rows(document["values"])
        else:
            name = re.match(r"Gradient d loss / d (\w+)", heading).group(1)
            gradient = document["gradients"][name]
            array = _flat_rows(gradient["values"])
            for stat, shown in re.findall(r"\b(norm|mean|min|max) (\S+)", heading):
                assert agrees(shown, gradient[stat]), (stat, shown, gradient[stat])
        assert headers[0] == "row (1-based)"
        columns = [h for h in headers[1:] if h != "…"]
        indices = [0] if columns == ["value"] else [int(h) for h in columns]
        assert indices == list(range(len(indices)))
        assert [row[0] for row in body] == [str(i) for i in range(1, len(body) + 1)]
        for row in body:
            for index, shown in zip(indices, row[1:], strict=False):
                reference = array[int(row[0]) - 1, index]
                assert agrees(shown, reference), (heading, row[0], index, shown, reference)
        left_out = array.shape[1] - len(indices)
        assert ("…" in headers) == (left_out > 0)
        if left_out > 1:
            assert f"columns {len(indices)}–{array.shape[1] - 1} of {array.shape[1]} not shown" in note, note
        elif left_out:
            assert f"column {len(indices)} of {array.shape[1]} not shown" in note, note
        if len(body) < array.shape[0]:
            assert f"first {len(body)} of {array.shape[0]} rows" in note, note


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", COMPUTE + MORE_COMPUTE, ids=lambda args: " ".join(args[:2]) + f"/{len(args)}")
def test_compute_tables_fit_and_show_the_json_numbers(args, width):
    table = run(args, width)
    assert_readable(table, width)
    document = json.loads(run([*args, "-f", "json"], width).stdout)
    assert_tables_show_the_json_numbers(table.stdout, document)


@pytest.mark.parametrize("width", WIDTHS)
def test_twenty_classes_show_whole_numbers_and_say_what_is_left_out(width, tmp_path):
    """Gradients of 1e-5 and less among 20 classes: the columns that fit, each number whole (once shown as
    ``5.640…``), and a line naming the columns left out."""
    rng = np.random.default_rng(4)
    logits, labels = tmp_path / "logits.csv", tmp_path / "labels.csv"
    np.savetxt(logits, rng.normal(scale=5.0, size=(12, 20)), delimiter=",", fmt="%.6f")
    np.savetxt(labels, rng.integers(0, 20, size=12), fmt="%d")
    args = ["compute", "cross_entropy", str(logits), str(labels), "--rows", "4"]
    table = run(args, width)
    assert_readable(table, width)
    document = json.loads(run([*args, "-f", "json"], width).stdout)
    assert_tables_show_the_json_numbers(table.stdout, document)
    [(_, headers, body, note)] = parse_tables(table.stdout)
    assert "-f json" in note and "--grad-out" in note
    assert any("e-" in cell for row in body for cell in row)  # the small ones are there, in full
    if width == 200:
        assert len(headers) > 10


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [args for args in DEMO if args[0] != "compute"] + OTHERS, ids=" ".join)
def test_other_commands_fit_the_terminal(args, width):
    assert_readable(run(args, width), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_list_shows_every_name_and_alias_whole(width):
    out = run(["list"], width).stdout
    assert out.splitlines()[0] == f"{len(list_losses())} losses"
    words = set(re.findall(r"[\w.-]+", out))
    for spec in list_losses():
        assert {spec.name, *spec.aliases} <= words, spec.name
    assert run(["list", "bce_with*"], width).stdout.splitlines()[0] == "1 loss"


@pytest.mark.parametrize("width", WIDTHS)
def test_info_tables_cut_no_word(width):
    spec = next(s for s in list_losses() if s.name == "ctc")
    out = run(["info", "ctc"], width).stdout
    words = set(re.findall(r"\S+", out.replace("│", " ").replace("┃", " ")))
    for role in spec.roles:
        assert role.name in words
    assert "--input" in words and "input_lengths=PATH" in words
    assert "connectionist_temporal_classification" in out


@pytest.mark.parametrize("width", WIDTHS)
def test_recommend_commands_are_cut_where_the_shell_joins_them(width):
    args = ["recommend", "sample_data/multiclass_labels.txt", "--pred", "sample_data/multiclass_logits.csv"]
    out = run(args, width).stdout
    document = json.loads(run([*args, "-f", "json"], width).stdout)
    recommended = [r["command"] for r in document["recommendations"]]
    alternatives = [alt["recommendations"][0]["command"] for alt in document["alternatives"]]
    joined = re.sub(r" \\\n\s+", " ", out)  # as the shell reads a line ending in a backslash
    printed = [line.strip()[2:] for line in joined.splitlines() if line.strip().startswith("$ ")]
    # the alternatives come first; a line that would not run is a "fix:" line instead (command null)
    assert printed == [c for c in alternatives + recommended if c is not None]
    assert out.count("fix: ") == (alternatives + recommended).count(None)


def test_command_lines_keep_options_with_their_values_and_quotes_whole():
    command = "$ losscli compute huber 'my preds.csv' labels.csv -p delta=2 --input var=\"a b.csv\" --no-grad"
    lines = command_lines(command, 30)
    assert all(cell_len(line) <= 30 for line in lines)
    assert all(line.endswith(" \\") for line in lines[:-1])
    assert shlex.split(" ".join(line.removesuffix(" \\") for line in lines)) == shlex.split(command)
    for group in ("-p delta=2", '--input var="a b.csv"', "'my preds.csv'"):
        assert any(group in line for line in lines), (group, lines)


# --- the console's stream: no trailing spaces ---------------------------------------------------------------


def test_trimmed_lines_drop_trailing_spaces_but_keep_escape_codes():
    out = io.StringIO()
    stream = terminal.TrimmedLines(out)
    stream.write("a  \x1b[0m\nb \t\n  c")
    assert out.getvalue() == "a\x1b[0m\nb\n"
    stream.write("  ")
    stream.flush()  # a line not yet ended goes out, all but the spaces that may end it
    assert out.getvalue() == "a\x1b[0m\nb\n  c"
    stream.write("d  \n")
    assert out.getvalue() == "a\x1b[0m\nb\n  c  d\n"
    stream.write("e \x1b[1m ")
    stream.flush()
    assert out.getvalue().endswith("d\ne\x1b[1m")


def test_colour_output_ends_no_line_in_spaces():
    args = ["compute", "mse", "sample_data/regression_pred.csv", "sample_data/regression_labels.csv", "--rows", "3"]
    result = run([*args, "--color", "always"], 80)
    assert "\x1b[" in result.stdout
    for line in result.stdout.splitlines():
        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
        assert plain == plain.rstrip(), repr(line)


# --- one row numbering ----------------------------------------------------------------------------------


def test_the_row_a_message_names_is_the_row_the_table_shows(tmp_path):
    """Rows count from 1 below the header, in error messages (with the file's line) and in tables alike."""
    body = ["# scores", "score", "0.5", "", "1.5", "{}", "2.5"]
    labels = tmp_path / "labels.csv"
    labels.write_text("y\n0\n0\n0\n0\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(body).format("nan") + "\n")
    result = CliRunner().invoke(app, ["compute", "mse", str(bad), str(labels)])
    assert result.exit_code == 3
    assert f"{bad}: row 3 (line 6), column 'score'" in result.stderr
    good = tmp_path / "good.csv"
    good.write_text("\n".join(body).format("7") + "\n")
    out = run(["compute", "mse", str(good), str(labels), "--reduction", "none", "--no-grad"], 80).stdout
    [(_, headers, rows, _)] = parse_tables(out)
    assert headers[0] == "row (1-based)"
    assert rows[2] == ["3", "49"]


def test_a_bad_cell_and_a_bad_value_are_counted_alike(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("y\n0\n0\n0\n")
    text = tmp_path / "text.csv"
    text.write_text("p\n0.5\n\nx\n0.5\n")
    nan = tmp_path / "nan.csv"
    nan.write_text("p\n0.5\n\nnan\n0.5\n")
    messages = []
    for path in (text, nan):
        result = CliRunner().invoke(app, ["compute", "mse", str(path), str(labels)])
        assert result.exit_code == 3
        messages.append(result.stderr)
    assert all("row 2 (line 4), column 'p'" in message for message in messages), messages


@pytest.mark.parametrize(("option", "row"), [([], 2), (["--no-header"], 3)])
def test_a_row_s_line_follows_the_header_option(tmp_path, option, row):
    """``0,1`` above floats is a header unless --no-header makes it data: the row named follows, the line
    stays the file's."""
    pred = tmp_path / "pred.csv"
    pred.write_text("0,1\n0.5,1.5\nnan,2.5\n1,1\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("0,1\n1.5,1.5\n1.5,1.5\n1.5,1.5\n")
    result = CliRunner().invoke(app, ["compute", "mse", str(pred), str(labels), *option])
    assert result.exit_code == 3, result.stderr
    assert f"pred.csv: row {row} (line 3), column '0'" in result.stderr, result.stderr
