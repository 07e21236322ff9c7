"""Hypothesis strategies for ``test_properties.py``: input files as real tools write them, and what they hold.

A strategy here draws a whole input set for one command: the files (bytes
written by numpy, pandas, pyarrow, the csv module, or byte by byte with the
line ends, quoting, comments and corruption real files have), the command-line
options that pick the columns, and what a reader that keeps SPEC §2 and the
header rules of issue 11 must make of them. That last part is the oracle:

* ``read_text`` reads text with Python's csv module and the written rules
  (blank and ``#`` lines skipped, the header rule, pandas' index column), on
  its own, without losscli's code;
* arrays (``.npy``, ``.npz``, Parquet columns) are known exactly because the
  generator wrote them.

A reading is a ``Table`` or an array, a ``Fails`` (the command must end with
one ``Error:`` line and one of its exit codes) or an ``Unknown`` (the rules do
not fix the outcome, e.g. a flipped byte: only the error contract is checked).
Where the rules allow two readings (a file with lone CR line ends may be read
or refused), ``Inputs.readings`` lists each.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

# --- what a file holds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fails:
    """The command must fail: exactly one ``Error:`` line, no output, and one of these exit codes."""

    codes: frozenset[int]
    why: str


def unusable(why: str) -> Fails:
    """Input data the SPEC refuses (§4: exit 3)."""
    return Fails(frozenset({3}), why)


def refused(why: str) -> Fails:
    """Refused either as a usage error or as a data error (the SPEC does not say which)."""
    return Fails(frozenset({2, 3}), why)


@dataclass(frozen=True)
class Unknown:
    """The rules leave the outcome open: only the contract (no traceback, one error line, ...) is checked."""

    why: str


Column = Any  # np.ndarray (exact values) | Fails | Unknown


@dataclass
class Table:
    """A table as a reader keeping the rules must see it: names, and each column's values or its problem."""

    names: list[str]
    columns: list[Column]
    n_rows: int
    notes: tuple[str, ...] = ()
    """Fragments of the warnings the reader must give (e.g. ``index`` for pandas' index column left out)."""


# --- numbers and their texts ------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)", re.I)
PLAIN_INT = re.compile(r"[+-]?[0-9]+")
F32_MAX = float(np.finfo(np.float32).max)
INT64 = (-(2**63), 2**63 - 1)


def cell_value(text: str) -> int | float | None:
    """The number a text cell holds (spaces around it ignored), an int when written as one; None if not a number."""
    stripped = text.strip(" \t")
    if not _NUMBER.fullmatch(stripped):
        return None
    return int(stripped) if PLAIN_INT.fullmatch(stripped) else float(stripped)


def as_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits
        return float("inf") if value > 0 else float("-inf")


def exact_array(values: list[int | float]) -> np.ndarray:
    """Numbers as int64 when all are integers int64 holds, else float64 (as a float parse rounds them)."""
    if all(isinstance(v, int) and INT64[0] <= v <= INT64[1] for v in values):
        return np.array(values, dtype=np.int64)
    return np.array([as_float(v) for v in values], dtype=np.float64)


def text_column(cells: list[str]) -> Column:
    """A column of text cells: its exact values, or why it cannot be read as numbers."""
    values = []
    for row, text in enumerate(cells):
        if not text.strip(" \t"):
            return unusable(f"data row {row + 1}: empty cell")
        value = cell_value(text)
        if value is None:
            return unusable(f"data row {row + 1}: {text!r} is not a number")
        values.append(value)
    return exact_array(values)


def format_number(value: int | float, style: str) -> str:
    """A number as text in one of the ways tools write numbers."""
    if isinstance(value, int):
        if style == "point" and abs(value) < 2**53:
            return f"{value}.0"
        if style == "exp" and abs(value) < 2**53:
            return f"{value:.17e}"  # exact below 2**53
        return str(value)
    return {
        "repr": repr,
        "g17": lambda v: f"{v:.17g}",
        "g6": lambda v: f"{v:.6g}",
        "exp": lambda v: f"{v:.9e}",
        "point": lambda v: f"{v:.3f}",
    }[style](value)


NUMBER_STYLES = st.sampled_from(["repr", "repr", "g17", "g6", "exp", "point"])


def _weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    return st.sampled_from([s for weight, s in choices for _ in range(weight)]).flatmap(lambda s: s)


def _signed(magnitudes: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(magnitudes, st.booleans()).map(lambda t: -t[0] if t[1] else t[0])


def reals(wide: bool = True) -> st.SearchStrategy:
    """Regression values: small ints and floats, tiny and huge magnitudes, -0.0, integers past 2**24 and 2**53.

    ``wide`` adds magnitudes whose squares overflow float32 (the oracle then
    accepts an overflow warning) and integers beyond int64.
    """
    choices = [
        (4, st.integers(-1000, 1000)),
        (6, st.floats(-1e3, 1e3, allow_nan=False)),
        (1, _signed(st.floats(1e-45, 1e-30))),
        (1, _signed(st.floats(1e6, 1e17))),
        (1, st.sampled_from([0.0, -0.0, 2**24 + 1, 16777219, 2**53 + 1, -(2**53) - 1])),
    ]
    if wide:
        choices += [
            (1, _signed(st.floats(1e19, 1e37))),
            (1, st.sampled_from([2**63 - 1, -(2**63), 10**20, -(10**20)])),
        ]
    return _weighted(*choices)


def whole_numbers() -> st.SearchStrategy:
    """Integers, some past float32's exact range (2**24) and float64's (2**53)."""
    return _weighted(
        (4, st.integers(-1000, 1000)),
        (2, st.integers(-(2**53), 2**53)),
        (1, st.sampled_from([2**24 + 1, 16777219, -(2**24) - 3, 2**53 + 1, 2**62])),
    )


def logits() -> st.SearchStrategy:
    return _weighted(
        (3, st.integers(-20, 20)),
        (6, st.floats(-30, 30, allow_nan=False)),
        (1, _signed(st.floats(1e-45, 1e-30))),
        (1, _signed(st.floats(100, 1e5))),
        (1, st.sampled_from([0.0, -0.0])),
    )


def probabilities() -> st.SearchStrategy:
    return _weighted(
        (6, st.floats(0, 1)),
        (2, st.integers(0, 1)),
        (2, st.sampled_from([0.0, 1.0, 0.5, 1e-30, 1e-45, 1 - 2**-24, 1 - 1e-12, -0.0])),
    )


# --- the loss problems: what a user means to compute ------------------------------------------------------

LOSSES = ("mse", "l1", "cross_entropy", "bce", "bce_with_logits")
ALIASES = {
    "mse": ["mse", "MSELoss", "mean_squared_error"],
    "l1": ["l1", "mae", "L1Loss"],
    "cross_entropy": ["cross_entropy", "ce", "CrossEntropyLoss"],
    "bce": ["bce", "BCELoss"],
    "bce_with_logits": ["bce_with_logits", "BCEWithLogitsLoss"],
}


@dataclass
class Problem:
    """The columns a user has in mind: predictions and labels, each a list of columns of numbers."""

    loss: str
    pred: list[list[int | float]]
    labels: list[list[int | float]]
    n_rows: int
    kind: str  # "regression" | "classes" | "probabilities"


def _columns(draw: Any, n_rows: int, width: int, values: st.SearchStrategy) -> list[list[int | float]]:
    return [draw(st.lists(values, min_size=n_rows, max_size=n_rows)) for _ in range(width)]


ROWS = _weighted((1, st.just(0)), (3, st.just(1)), (11, st.integers(2, 8)), (3, st.integers(9, 40)))


@st.composite
def problems(draw: Any, loss: str | None = None, rows: st.SearchStrategy = ROWS) -> Problem:
    loss = loss or draw(st.sampled_from(LOSSES))
    n_rows = draw(rows)
    if loss == "cross_entropy":
        n_classes = draw(st.integers(2, 4))
        pred = _columns(draw, n_rows, n_classes, logits())
        labels = _columns(draw, n_rows, 1, st.integers(0, n_classes - 1))
        return Problem(loss, pred, labels, n_rows, "classes")
    width = draw(st.integers(1, 3))
    if loss == "bce":
        pred, labels = _columns(draw, n_rows, width, probabilities()), _columns(draw, n_rows, width, probabilities())
        return Problem(loss, pred, labels, n_rows, "probabilities")
    if loss == "bce_with_logits":
        pred, labels = _columns(draw, n_rows, width, logits()), _columns(draw, n_rows, width, probabilities())
        return Problem(loss, pred, labels, n_rows, "probabilities")
    def column() -> list[int | float]:  # real values, or whole numbers (counts, prices in cents, ids)
        values = draw(st.sampled_from([reals(), reals(), whole_numbers()]))
        return draw(st.lists(values, min_size=n_rows, max_size=n_rows))

    pred, labels = [column() for _ in range(width)], [column() for _ in range(width)]
    return Problem(loss, pred, labels, n_rows, "regression")


# --- column names --------------------------------------------------------------------------------------------

_NAME_FIRST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_éüßøλ概率名"
_NAME_REST = _NAME_FIRST + "0123456789.-"


@st.composite
def column_name(draw: Any, kind: str) -> str:
    """A header name: plain, with spaces, commas or quotes (not in .txt), or unicode; never a number."""
    base = draw(st.text(_NAME_FIRST, min_size=1, max_size=1)) + draw(st.text(_NAME_REST, max_size=6))
    if kind != "txt":
        extra = draw(st.sampled_from(["", "", "", " x", ",y", ' "q"', " #2", ";z"]))
        base += extra
    return base


@st.composite
def column_names(draw: Any, count: int, kind: str) -> list[str]:
    names = draw(st.lists(column_name(kind), min_size=count, max_size=count, unique_by=lambda n: n.strip()))
    return names


# --- reading text as the rules say ------------------------------------------------------------------------


def split_fields(line: str, kind: str) -> list[str]:
    if kind == "txt":
        return re.split(r"[ \t]+", line.strip(" \t"))
    return next(csv.reader([line], delimiter="\t" if kind == "tsv" else ","))


def stdin_kind(data: bytes) -> str:
    """How a table on standard input is split (README: read off its first data line): tabs, commas, or runs of
    spaces, whichever that line shows first in this order; a line of one field is CSV."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = [line.removesuffix("\r") for line in text.split("\n")] if "\n" in text else text.split("\r")
    first = next((line for line in lines if line.strip(" \t\r") and not line.strip(" \t\r").startswith("#")), "")
    if "\t" in first:
        return "tsv"
    if "," in first or len(first.split()) < 2:
        return "csv"
    return "txt"


def _odd_numeral(text: str) -> bool:
    """A text Python's ``float()`` reads but that is no plain decimal number: the rules do not say."""
    if cell_value(text) is not None:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_sequence(fields: list[str]) -> bool:
    return [f.strip(" \t") for f in fields] == [str(i) for i in range(len(fields))]


def read_text(data: bytes, kind: str, header: bool | None) -> list[Table | Fails | Unknown]:
    """Every reading of a text table the rules allow (SPEC §2, issue 11's header rules).

    ``kind`` is csv, tsv or txt; ``header`` is ``--header`` (True), ``--no-header``
    (False) or neither (None).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [Unknown("not UTF-8")]
    text = text.removeprefix("\ufeff")
    readings: list[Table | Fails | Unknown] = []
    if "\r" in text and "\n" not in text:  # lone CR line ends: "parse or get a message"
        lines = text.split("\r")
        readings.append(unusable("lone CR line ends"))
    else:
        lines = [line.removesuffix("\r") for line in text.split("\n")]
    data_lines = [line for line in lines if line.strip(" \t\r") and not line.strip(" \t\r").startswith("#")]
    if not data_lines:
        return [*readings, unusable("no data line")]
    try:
        rows = [split_fields(line, kind) for line in data_lines]
    except csv.Error:
        return [Unknown("a line the csv module cannot split")]
    if any(_odd_numeral(f) for row in rows for f in row):
        return [Unknown("a numeral Python's float() reads but Arrow does not (1_000, full-width digits)")]
    first = rows[0]
    below_plain = len(rows) > 1 and all(PLAIN_INT.fullmatch(f.strip(" \t")) for f in rows[1])
    ambiguous = False
    if header is not None:
        choices = [header]
    elif any(cell_value(f) is None for f in first):
        choices = [True]
    elif _is_sequence(first) and len(rows) > 1 and not below_plain:
        odd = '"' in data_lines[0] or any(f != f.strip(" \t") for f in first)
        choices = [True, False] if odd else [True]
    else:
        choices = [False]
        ambiguous = _is_sequence(first) and len(first) >= 2 and below_plain
        if ambiguous and ('"' in data_lines[0] or any(f != f.strip(" \t") for f in first)):
            ambiguous = False  # written oddly: whether the warning is due is not clear-cut
    for is_header in choices:
        readings.append(_table(rows, is_header, ("--header",) if ambiguous and not is_header else ()))
    return readings


def text_rules(data: bytes, kind: str) -> set[str]:
    """Which of issue 11's text rules a file touches: pandas' index column, a ``0,1,...`` first line, lone CRs."""
    found = set()
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if "\r" in text and "\n" not in text:
        found.add("lone CR")
    lines = [line.strip("\r") for line in re.split(r"[\r\n]", text)]
    first = next((line for line in lines if line.strip(" \t") and not line.strip(" \t").startswith("#")), None)
    if first is not None:
        try:
            fields = split_fields(first, kind)
        except csv.Error:
            return found
        if fields and fields[0].strip(" \t") == "":
            found.add("pandas index")
        if _is_sequence(fields):
            found.add("numeric header")
    return found


def _table(rows: list[list[str]], is_header: bool, notes: tuple[str, ...]) -> Table | Fails:
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        return unusable("rows with different numbers of fields")
    if is_header:
        names, body = [f.strip(" \t") for f in rows[0]], rows[1:]
    else:
        names, body = [str(i) for i in range(width)], rows
    if is_header and names[0] == "":
        names, body, notes = names[1:], [row[1:] for row in body], (*notes, "index")
    if not body:
        return unusable("a header and no data rows")
    if not names:
        return unusable("no columns")
    columns = [text_column([row[i] for row in body]) for i in range(len(names))]
    return Table(names, columns, len(body), notes)


def select(table: Table | Fails | Unknown, selectors: list[str] | None, exclude: list[str] = ()) -> Column:
    """The columns ``--pred-col``/``--label-col`` pick: name first, else a 0-based (or negative) index."""
    if not isinstance(table, Table):
        return table
    n = len(table.names)

    def resolve(selector: str) -> int | None:
        text = selector.strip()
        if text in table.names:
            return table.names.index(text)
        if not re.fullmatch(r"-?[0-9]+", text):
            return None
        index = int(text)
        return index % n if -n <= index < n else None

    if selectors is None:
        excluded = [resolve(s) for s in exclude]
        if None in excluded:
            return refused(f"no column {exclude}")
        indices = [i for i in range(n) if i not in excluded]
        if not indices:
            return refused("no column left")
    else:
        indices = [resolve(s) for s in selectors]
        if None in indices:
            return refused(f"no column {selectors}")
    picked = [table.columns[i] for i in indices]
    for column in picked:
        if not isinstance(column, np.ndarray):
            return column
    if len(picked) == 1:
        return picked[0]
    if table.n_rows == 0:
        return np.empty((0, len(picked)))
    return np.column_stack(picked)


# --- writing text tables --------------------------------------------------------------------------------------


@dataclass
class Layout:
    """How a problem's columns sit in one or two tables, and the options that pick them."""

    tables: list[list[tuple[str, list[Any]]]]  # per file: (name, cells) columns; cells are numbers or text
    header: bool  # the files carry a header line
    pred_options: list[str]
    label_options: list[str]
    single_file: bool
    pred_selectors: list[str] | None
    label_selectors: list[str] | None


def _selector_options(option: str, selectors: list[str], draw: Any) -> list[str]:
    if draw(st.booleans()):
        return [option, ",".join(selectors)]
    return [part for s in selectors for part in (option, s)]


def _selectors(draw: Any, names: list[str] | None, positions: list[int], width: int, by_name_ok: bool) -> list[str]:
    chosen = []
    for position in positions:
        name = names[position] if names else None
        usable = by_name_ok and name is not None and "," not in name and name == name.strip()
        if usable and draw(st.booleans()):
            chosen.append(name)
        elif draw(st.integers(0, 4)) == 0:
            chosen.append(str(position - width))  # negative: counts from the end
        else:
            chosen.append(str(position))
    return chosen


DECOYS = ("text", "int", "empty")


def _decoy(draw: Any, kind: str, n_rows: int) -> list[Any]:
    if kind == "text":
        return [draw(st.sampled_from(["a1", "id-7", "x", "n/a", "Z9"])) for _ in range(n_rows)]
    if kind == "int":
        return list(range(n_rows))
    return [""] * n_rows


@st.composite
def layouts(draw: Any, problem: Problem, kind: str, header: bool | None = None) -> Layout:
    """Put the problem's columns in files: two tables (with decoy columns) or one, named or not, in any order."""
    header = draw(st.booleans()) if header is None else header
    single = draw(st.booleans())
    pred_cols = [(f"p{i}", col) for i, col in enumerate(problem.pred)]
    label_cols = [(f"y{i}", col) for i, col in enumerate(problem.labels)]
    kinds = draw(st.lists(st.sampled_from(DECOYS), max_size=2))
    decoys = [(f"d{i}", _decoy(draw, kind, problem.n_rows)) for i, kind in enumerate(kinds)]
    if kind == "txt":  # no empty cells in runs of spaces
        decoys = [(n, c) for n, c in decoys if c[:1] != [""]]
    files = [pred_cols + label_cols + decoys] if single else [pred_cols + decoys[:1], label_cols + decoys[1:]]
    files = [draw(st.permutations(cols)) for cols in files]
    # give real names (after the order is fixed, so that names are unique per file)
    tables = []
    for cols in files:
        names = draw(column_names(len(cols), kind))
        tables.append([(names[i], cells, tag) for i, (tag, cells) in enumerate(cols)])
    by_name_ok = header

    def positions(table: list, prefix: str) -> list[int]:
        tagged = [(tag, i) for i, (_, _, tag) in enumerate(table) if tag.startswith(prefix)]
        return [i for tag, i in sorted(tagged, key=lambda t: int(t[0][1:]))]

    def picks(table: list, prefix: str) -> list[str]:
        names = [name for name, _, _ in table]
        return _selectors(draw, names if header else None, positions(table, prefix), len(table), by_name_ok)

    def has_decoys(table: list) -> bool:
        return any(tag.startswith("d") for _, _, tag in table)

    if single:
        table = tables[0]
        label_sel = picks(table, "y")
        pred_sel = picks(table, "p") if has_decoys(table) or draw(st.booleans()) else None
    else:
        # decoy columns need the columns named; otherwise the options are given or not
        label_sel = picks(tables[1], "y") if has_decoys(tables[1]) or draw(st.booleans()) else None
        pred_sel = picks(tables[0], "p") if has_decoys(tables[0]) or draw(st.booleans()) else None
    return Layout(
        tables=[[(name, cells) for name, cells, _ in table] for table in tables],
        header=header,
        pred_options=_selector_options("--pred-col", pred_sel, draw) if pred_sel else [],
        label_options=_selector_options("--label-col", label_sel, draw) if label_sel else [],
        single_file=single,
        pred_selectors=pred_sel,
        label_selectors=label_sel,
    )


@dataclass
class Written:
    """One text file's bytes, and how it was written (for the report of a failing example)."""

    data: bytes
    how: str


def _needs_quotes(text: str, delimiter: str) -> bool:
    return delimiter in text or '"' in text or text != text.strip(" \t") or "\r" in text or "\n" in text


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@st.composite
def cell_texts(draw: Any, columns: list[tuple[str, list[Any]]]) -> list[list[str]]:
    """Each column's cells as text: numbers in one style per column (as a tool writes a column)."""
    texts = []
    for _, cells in columns:
        style = draw(NUMBER_STYLES)
        texts.append([format_number(c, style) if isinstance(c, (int, float)) else c for c in cells])
    return texts


EXTRA_LINES = ["# a comment", "#", "  # indented, with, commas", '# "quoted"', "", " ", "\t", "  \t "]
"""Comment and blank lines put anywhere in a text table."""

POISONS = {
    "text": ["abc", "1.2.3", "--1", "0x1A", "1,5", "n/a", "True"],
    "empty": [""],
    "nonfinite": ["nan", "NaN", "inf", "-inf", "1e400", "-1e400", "1" + "0" * 400],
    "float32 overflow": ["3.5e38", "-3.5e38", "1e39"],
    "odd numeral": ["1_000", "\uff11", "\u0661"],  # Python's float() reads them, Arrow does not
}


@st.composite
def raw_text(
    draw: Any, names: list[str] | None, columns: list[list[str]], kind: str, *, corrupt: bool = True
) -> Written:
    """A text table written byte by byte: quoting, padding, comments, blank lines, line ends, BOM, poison."""
    delimiter = {"csv": ",", "tsv": "\t", "txt": None}[kind]
    n_rows = len(columns[0]) if columns else 0
    rows = [[columns[c][r] for c in range(len(columns))] for r in range(n_rows)]
    how = [f"raw {kind}"]
    damage = draw(st.sampled_from(["none"] * 13 + ["poison", "extra field", "missing field"])) if corrupt else "none"
    if damage == "poison" and rows and columns:
        family = draw(st.sampled_from(sorted(POISONS)))
        poison = draw(st.sampled_from(POISONS[family]))
        if kind == "txt" and (poison == "" or " " in poison):
            poison = "abc"
        r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(columns) - 1))
        rows[r][c] = poison
        how.append(f"poison {poison!r} at data row {r + 1}, column {c}")
    elif damage == "extra field" and rows:
        r = draw(st.integers(0, len(rows) - 1))
        rows[r] = [*rows[r], draw(st.sampled_from(["1", "0.5", ""] if kind != "txt" else ["1", "0.5"]))]
        how.append(f"extra field on data row {r + 1}")
    elif damage == "missing field" and rows and len(rows[0]) >= 2:
        r = draw(st.integers(0, len(rows) - 1))
        rows[r] = rows[r][:-1]
        how.append(f"missing field on data row {r + 1}")
    lines: list[list[str]] = ([names] if names is not None else []) + rows
    if kind == "txt":
        text_lines = []
        for fields in lines:
            seps = [draw(st.sampled_from([" ", "  ", "\t", " \t", "\t ", " \t  ", "\t\t"])) for _ in fields]
            lead = draw(st.sampled_from(["", "", "", " ", "\t", " \t"]))
            trail = draw(st.sampled_from(["", "", "", " ", "\t", "\t "]))
            text_lines.append(lead + "".join(f + s for f, s in zip(fields, [*seps[1:], ""], strict=True)) + trail)
        how.append("runs of spaces and tabs")
    else:
        quoting = draw(st.sampled_from(["none", "minimal", "all", "names"]))
        pad = quoting in ("none", "names") and draw(st.integers(0, 4)) == 0
        trailing = draw(st.integers(0, 9)) == 0
        how.append(f"quoting {quoting}" + ", padded cells" * pad + ", trailing delimiter" * trailing)
        text_lines = []
        for index, fields in enumerate(lines):
            is_names = names is not None and index == 0
            out = []
            for f in fields:
                if quoting == "all" or (quoting == "names" and is_names) or _needs_quotes(f, delimiter):
                    out.append(_quote(f))
                elif pad and f:
                    out.append(draw(st.sampled_from(["", " ", "  "])) + f + draw(st.sampled_from(["", " "])))
                else:
                    out.append(f)
            text_lines.append(delimiter.join(out) + (delimiter if trailing else ""))
    # comments and blank lines anywhere (a comment never starts a data line: it is a line of its own)
    extras = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(text_lines)),
                st.sampled_from(EXTRA_LINES),
            ),
            max_size=3,
        )
    )
    for position, extra in sorted(extras, reverse=True):
        text_lines.insert(position, extra)
    if extras:
        how.append(f"{len(extras)} comment/blank lines")
    if draw(st.integers(0, 15)) == 0:  # past losscli's small-file parser: the pyarrow path
        filler = draw(st.sampled_from(["#" + "x" * (300 << 10), " " * (300 << 10)]))
        text_lines.insert(draw(st.integers(0, len(text_lines))), filler)
        how.append("a 300 KiB comment or blank line")
    ending = draw(st.sampled_from(["\n"] * 4 + ["\r\n"] * 3 + ["\r"]))
    final = draw(st.booleans())
    text = ending.join(text_lines) + (ending if final and text_lines else "")
    bom = draw(st.integers(0, 5)) == 0
    how.append({"\n": "LF", "\r\n": "CRLF", "\r": "CR"}[ending] + (" + BOM" if bom else ""))
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    return Written(data, ", ".join(how))


@st.composite
def csv_module_text(draw: Any, names: list[str] | None, columns: list[list[Any]], kind: str) -> Written:
    """A table written by the csv module, numbers as Python numbers (so QUOTE_NONNUMERIC leaves them bare)."""
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    ending = draw(st.sampled_from(["\r\n", "\n"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t" if kind == "tsv" else ",", quoting=quoting, lineterminator=ending)
    if names is not None:
        writer.writerow(names)
    n_rows = len(columns[0]) if columns else 0
    for r in range(n_rows):
        writer.writerow([columns[c][r] for c in range(len(columns))])
    return Written(buffer.getvalue().encode("utf-8"), f"csv.writer quoting={quoting} lineterminator={ending!r}")


@st.composite
def pandas_text(
    draw: Any, names: list[str] | None, columns: list[list[Any]], kind: str
) -> tuple[Written, int]:
    """A table written by ``DataFrame.to_csv``; also the number of leading columns pandas added as data.

    Without names the columns are pandas' RangeIndex, written as the header
    ``0,1,...`` (``pd.DataFrame(array).to_csv(index=False)``). ``index=True``
    writes the index as a first column: unnamed under a header it is pandas'
    index (left out); named, or without a header, it is data.
    """
    import pandas as pd

    frame = pd.DataFrame({i: pd.Series(col, dtype=_pandas_dtype(col)) for i, col in enumerate(columns)})
    if names is not None:
        frame.columns = names
    index = draw(st.booleans())
    header = names is not None or draw(st.booleans())
    index_name = None
    if index:
        if draw(st.booleans()):
            frame.index = pd.Index(draw(st.lists(st.integers(-5, 99), min_size=len(frame), max_size=len(frame))))
        if draw(st.integers(0, 3)) == 0:
            index_name = "row_id"
            frame.index.name = index_name
    options: dict[str, Any] = dict(
        sep={"csv": ",", "tsv": "\t", "txt": " "}[kind],
        index=index,
        header=header,
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
    )
    if kind != "txt":
        options["quoting"] = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    float_format = draw(st.sampled_from([None, None, "%.6g", "%.10e"]))
    if float_format:
        options["float_format"] = float_format
    text = frame.to_csv(**options)
    shown = {k: v for k, v in options.items() if k != "sep"}
    added = 1 if index and (not header or index_name is not None) else 0
    return Written(text.encode("utf-8"), f"DataFrame.to_csv({shown}) sep={options['sep']!r}"), added


def _pandas_dtype(column: list[Any]) -> str:
    if not all(isinstance(v, (int, float)) for v in column):
        return "object"
    if all(isinstance(v, int) and INT64[0] <= v <= INT64[1] for v in column):
        return "int64"
    if all(isinstance(v, int) for v in column):
        return "object"  # beyond int64: written as the integers they are
    return "float64"


@st.composite
def savetxt_text(draw: Any, names: list[str] | None, columns: list[list[Any]], kind: str) -> Written:
    """A numeric table written by ``numpy.savetxt``; its ``header=`` is a ``#`` comment unless ``comments=''``."""
    array = np.array([[as_float(v) for v in col] for col in columns], dtype=np.float64).T.reshape(-1, len(columns))
    delimiter = {"csv": ",", "tsv": "\t", "txt": draw(st.sampled_from([" ", "\t"]))}[kind]
    fmt = draw(st.sampled_from(["%.18e", "%.10g", "%g", "%.6f"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    options: dict[str, Any] = dict(fmt=fmt, delimiter=delimiter, newline=newline, encoding="utf-8")
    if names is not None:
        options["header"] = delimiter.join(names)
        if draw(st.booleans()):
            options["comments"] = ""
    buffer = io.BytesIO()
    np.savetxt(buffer, array, **options)
    return Written(buffer.getvalue(), f"numpy.savetxt({ {k: v for k, v in options.items() if k != 'header'} })")


# --- inputs of a command ------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """Files in the working directory (and standard input) plus the options that pick pred and labels.

    ``readings`` lists the (pred, labels, warning fragments) a reader keeping
    the rules may see; pred and labels are arrays, ``Fails`` or ``Unknown``.
    """

    files: dict[str, bytes]
    pred: str
    labels: str | None
    options: list[str]
    readings: list[tuple[Any, Any, tuple[str, ...]]] = field(repr=False)
    stdin: bytes | None = None
    how: list[str] = field(default_factory=list)
    rules: frozenset[str] = frozenset()
    """The issue 11 rules the files touch (``pandas index``, ``numeric header``, ...), for triage."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis prints failing examples with this
        printer.text(repr(self))

    def __repr__(self) -> str:
        shown = {name: (data if len(data) <= 2000 else data[:2000] + b"...") for name, data in self.files.items()}
        stdin = "" if self.stdin is None else f", stdin={self.stdin[:2000]!r}"
        return (
            f"Inputs(files={shown!r}{stdin}, pred={self.pred!r}, labels={self.labels!r}, "
            f"options={self.options!r}, how={self.how!r})"
        )


TEXT_EXTENSIONS = {"csv": ".csv", "tsv": ".tsv", "txt": ".txt"}


@st.composite
def text_inputs(draw: Any, problem: Problem, kind: str, stdin: bool = False) -> Inputs:
    """The problem written as .csv/.tsv/.txt files (or CSV on standard input) by one of four writers."""
    layout = draw(layouts(problem, kind))
    header_option = draw(st.sampled_from([None, None, None, "--header", "--no-header"]))
    header = {"--header": True, "--no-header": False, None: None}[header_option]
    written, added_per_file = [], []
    for table in layout.tables:
        names = [name for name, _ in table] if layout.header else None
        numbers = [cells for _, cells in table]
        numeric = all(isinstance(v, (int, float)) for col in numbers for v in col)
        writer = draw(st.sampled_from(["raw", "raw", "raw", "csv", "pandas", "pandas", "savetxt"]))
        if writer == "csv" and kind == "txt":
            writer = "raw"
        if writer == "savetxt" and not numeric:
            writer = "pandas"
        added = 0
        if writer == "raw":
            out = draw(raw_text(names, draw(cell_texts(table)), kind))
        elif writer == "csv":
            out = draw(csv_module_text(names, numbers, kind))
        elif writer == "pandas":
            if kind == "txt" and names is not None and any(" " in n or '"' in n for n in names):
                names = None
            out, added = draw(pandas_text(names, numbers, kind))
        else:
            out = draw(savetxt_text(names, numbers, kind))
        if writer != "raw" and draw(st.integers(0, 14)) == 0:  # a ragged last line
            tail = {"csv": "1,2,3,4,5,6,7,8,9", "tsv": "1\t2\t3\t4\t5\t6\t7\t8\t9", "txt": "1 2 3 4 5 6 7 8 9"}[kind]
            out = Written(out.data + tail.encode(), out.how + ", a ragged last line")
        damaged, damage = draw(corrupted(out.data, intact=14))
        if damage:
            out = Written(damaged, f"{out.how}, {damage}")
        written.append(out)
        added_per_file.append(added)
    # the options pick columns by the user's numbering: pandas' data index column shifts the indices
    shift = added_per_file
    pred_sel = _shifted(layout.pred_selectors, shift[0])
    label_sel = _shifted(layout.label_selectors, shift[0] if layout.single_file else shift[1])
    options = _selector_options("--pred-col", pred_sel, draw) if pred_sel else []
    options += _selector_options("--label-col", label_sel, draw) if label_sel else []
    if header_option:
        options.append(header_option)
    ext = TEXT_EXTENSIONS[kind]
    names = ["data" + ext] if layout.single_file else ["pred" + ext, "labels" + ext]
    files = dict(zip(names, (w.data for w in written), strict=True))
    pred_path, labels_path = names[0], (None if layout.single_file else names[1])
    stdin_data, kinds = None, [kind] * len(written)
    if stdin:
        which = 0 if layout.single_file or draw(st.booleans()) else 1
        stdin_data = files.pop(names[which])
        kinds[which] = stdin_kind(stdin_data)  # standard input has no extension: its first line shows the delimiter
        if which == 0:
            pred_path = "-"
        else:
            labels_path = "-"
    table_readings = [
        [Unknown("damaged bytes")] if ("truncated" in w.how or "flipped" in w.how) else read_text(w.data, k, header)
        for w, k in zip(written, kinds, strict=True)
    ]
    readings = []
    if layout.single_file:
        for table in table_readings[0]:
            exclude = label_sel if pred_sel is None else ()
            notes = table.notes if isinstance(table, Table) else ()
            readings.append((select(table, pred_sel, exclude), select(table, label_sel), notes))
    else:
        for pred_table, label_table in itertools.product(*table_readings):
            notes = tuple(n for t in (pred_table, label_table) if isinstance(t, Table) for n in t.notes)
            readings.append((select(pred_table, pred_sel), select(label_table, label_sel), notes))
    how = [f"{name}: {w.how}" for name, w in zip(names, written, strict=True)]
    rules = set().union(*(text_rules(w.data, kind) for w in written)) | ({header_option} if header_option else set())
    return Inputs(files, pred_path, labels_path, options, readings, stdin_data, how, frozenset(rules))


def _shifted(selectors: list[str] | None, shift: int) -> list[str] | None:
    """Selectors after ``shift`` leading data columns were added (names stay, indices move)."""
    if not selectors or not shift:
        return selectors
    return [str(int(s) + shift) if re.fullmatch(r"[0-9]+", s) else s for s in selectors]


# --- arrays: .npy and .npz ------------------------------------------------------------------------------------

NUMPY_DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint64", "bool"]


def _cast(values: np.ndarray, dtype: str) -> np.ndarray | None:
    """``values`` (float64, or int for big integers) in ``dtype`` exactly, or None when it cannot hold them."""
    target = np.dtype(dtype)
    if target.kind == "b":
        return values.astype(bool) if np.isin(values, [0, 1]).all() else None
    if target.kind in "iu":
        info = np.iinfo(target)
        as_float = values.astype(np.float64)
        outside = values.size and (values.min() < info.min or values.max() > info.max)
        if not np.all(np.floor(as_float) == as_float) or outside:
            return None
        with np.errstate(invalid="ignore"):  # 2.0**63 is not above int64's max as a float: it wraps round
            cast = values.astype(target)
        return cast if np.all(cast == values) else None
    with np.errstate(all="ignore"):
        cast = values.astype(target)
    # float16 (or float32) cannot hold a value past its range: it would become inf
    return cast if np.isfinite(cast).all() or not np.isfinite(values.astype(np.float64)).all() else None


@st.composite
def nd_arrays(draw: Any, problem: Problem, role: str, squeeze: bool = True) -> tuple[np.ndarray, str]:
    """The problem's pred or labels as an array, in a dtype that holds them (often a lossy float one).

    One column is shape (N,) when ``squeeze``, else (N, 1) (labels of classes are always (N,)).
    """
    columns = problem.pred if role == "pred" else problem.labels
    values = exact_array([v for col in columns for v in col]) if columns and columns[0] else np.empty(0)
    values = values.reshape(len(columns), problem.n_rows).T if columns else values
    class_labels = role == "labels" and problem.kind == "classes"
    if values.ndim == 2 and values.shape[1] == 1 and (class_labels or squeeze):
        values = values[:, 0]
    candidates = [d for d in NUMPY_DTYPES if _cast(values, d) is not None]
    dtype = draw(st.sampled_from(candidates)) if candidates else "float64"
    array = _cast(values, dtype) if candidates else values.astype(np.float64)
    return array, dtype


@st.composite
def npy_bytes(draw: Any, array: np.ndarray) -> tuple[bytes, str]:
    """``numpy.save`` of the array in C or Fortran order, little- or big-endian."""
    how = [str(array.dtype)]
    if array.dtype.itemsize > 1 and draw(st.booleans()):
        array = array.astype(array.dtype.newbyteorder(">"))
        how.append("big-endian")
    if array.ndim >= 2 and draw(st.booleans()):
        array = np.asfortranarray(array)
        how.append("Fortran order")
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue(), " ".join(how)


def shapes_of_size(size: int) -> st.SearchStrategy:
    """Every 0-d (size 1), 1-d, 2-d or 3-d shape of ``size`` elements; shapes with a 0 for size 0."""
    shapes = [(size,)]
    if size == 1:
        shapes.append(())
    for a in range(1, size + 1):
        if size % a == 0:
            shapes.append((a, size // a))
            shapes.extend((a, b, size // a // b) for b in range(1, size // a + 1) if (size // a) % b == 0)
    if size == 0:
        shapes += [(0, 3), (2, 0), (0, 2, 2)]
    return st.sampled_from(shapes)


class _Unpickled:
    """An object whose unpickling creates a file: any trace of it means a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return open, (self.path, "w")


def pickled_npy(marker: str) -> bytes:
    """An .npy of dtype object whose loading with pickles allowed would create ``marker``."""
    buffer = io.BytesIO()
    np.save(buffer, np.array([_Unpickled(marker), 1], dtype=object), allow_pickle=True)
    return buffer.getvalue()


MARKER = "UNPICKLED"
"""The file a pickle in a generated input creates when loaded: it must never appear."""


@st.composite
def corrupted(draw: Any, data: bytes, intact: int = 5) -> tuple[bytes, str]:
    """Bytes truncated, with a bit flipped, or (``intact`` times in ``intact + 2``) as they were."""
    damage = draw(st.sampled_from(["none"] * intact + ["truncate", "flip"]))
    if damage == "truncate" and data:
        cut = draw(st.integers(0, len(data) - 1))
        return data[:cut], f"truncated to {cut} of {len(data)} bytes"
    if damage == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        bit = draw(st.integers(0, 7))
        return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :], f"bit {bit} of byte {at} flipped"
    return data, ""


def _array_reading(array: np.ndarray, damage: str) -> Any:
    """What an array file holds: the array; nothing usable once truncated; anything after a flipped bit."""
    if not damage:
        return array
    return unusable("a truncated array file") if damage.startswith("truncated") else Unknown(damage)


@st.composite
def npy_inputs(draw: Any, problem: Problem) -> Inputs:
    squeeze = draw(st.sampled_from([True, True, False]))
    pred, _ = draw(nd_arrays(problem, "pred", squeeze))
    labels, _ = draw(nd_arrays(problem, "labels", squeeze if draw(st.integers(0, 9)) else not squeeze))
    if problem.kind == "regression" and draw(st.booleans()):  # elementwise losses take any shape
        shape = draw(shapes_of_size(pred.size))
        pred, labels = pred.reshape(shape), labels.reshape(shape)
    files, readings, how = {}, {}, []
    for name, array in (("pred.npy", pred), ("labels.npy", labels)):
        data, described = draw(npy_bytes(array))
        data, damage = draw(corrupted(data, intact=16))
        files[name] = data
        how.append(f"{name}: numpy.save {described} shape {array.shape}" + (f", {damage}" if damage else ""))
        readings[name] = _array_reading(array, damage)
    special = draw(st.sampled_from(["none"] * 26 + ["pickled", "npz renamed", "text renamed", "nan"]))
    if special == "nan" and labels.dtype.kind == "f" and labels.size:
        poisoned = labels.copy()
        poisoned.reshape(-1)[draw(st.integers(0, labels.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        files["labels.npy"] = draw(npy_bytes(poisoned))[0]
        readings["labels.npy"] = unusable("NaN or inf")
        how.append("labels.npy: a NaN or inf in it")
    elif special == "pickled":
        files["labels.npy"] = pickled_npy(MARKER)
        readings["labels.npy"] = unusable("pickled objects")
        how.append("labels.npy: dtype object (a pickle that creates a file when loaded)")
    elif special == "npz renamed":
        buffer = io.BytesIO()
        np.savez(buffer, labels=labels)
        files["labels.npy"] = buffer.getvalue()
        readings["labels.npy"] = unusable("an .npz archive named .npy")
        how.append("labels.npy: an .npz archive")
    elif special == "text renamed":
        files["labels.npy"] = b"1,2\n3,4\n"
        readings["labels.npy"] = unusable("text named .npy")
        how.append("labels.npy: CSV text")
    options = []
    header_option = draw(st.sampled_from([None] * 6 + ["--header", "--no-header"]))
    if header_option:
        options.append(header_option)
    rules = {r for r in (header_option, "empty" if pred.size == 0 or labels.size == 0 else None) if r}
    pair = [(readings["pred.npy"], readings["labels.npy"], ())]
    return Inputs(files, "pred.npy", "labels.npy", options, pair, None, how, frozenset(rules))


KEYS = st.sampled_from(["arr_0", "logits", "labels", "y", "pred", "x_1", "scores"])


@st.composite
def npz_inputs(draw: Any, problem: Problem) -> Inputs:
    """One archive holding both (keys needed) or an archive each; extra arrays; compressed or not."""
    squeeze = draw(st.sampled_from([True, True, False]))
    pred, _ = draw(nd_arrays(problem, "pred", squeeze))
    labels, _ = draw(nd_arrays(problem, "labels", squeeze if draw(st.integers(0, 9)) else not squeeze))
    compressed = draw(st.booleans())
    save = np.savez_compressed if compressed else np.savez
    together = draw(st.booleans())
    how = [f"{save.__name__} pred {pred.dtype}{pred.shape}, labels {labels.dtype}{labels.shape}"]
    options: list[str] = []
    files: dict[str, bytes] = {}

    def archive(arrays: dict[str, np.ndarray]) -> bytes:
        buffer = io.BytesIO()
        save(buffer, **arrays)
        return buffer.getvalue()

    if together:
        pred_key, label_key = draw(st.lists(KEYS, min_size=2, max_size=2, unique=True))
        members = {pred_key: pred, label_key: labels}
        if draw(st.booleans()):
            members["extra"] = np.arange(3)
        files["data.npz"] = archive(members)
        pred_path = labels_path = "data.npz"
        key_choice = draw(st.sampled_from(["both"] * 8 + ["missing", "wrong"]))
        readings = [pred, labels]
        if key_choice == "both":
            options += ["--pred-key", pred_key, "--label-key", label_key]
        elif key_choice == "missing":
            options += ["--pred-key", pred_key]
            readings[1] = refused("several arrays and no --label-key")
        else:
            options += ["--pred-key", pred_key, "--label-key", "nope"]
            readings[1] = refused("no array 'nope'")
        how.append(f"one archive: {sorted(members)}; {key_choice} keys")
    else:
        pred_key, label_key = draw(KEYS), draw(KEYS)
        files["pred.npz"], files["labels.npz"] = archive({pred_key: pred}), archive({label_key: labels})
        pred_path, labels_path = "pred.npz", "labels.npz"
        readings = [pred, labels]
        if draw(st.booleans()):
            options += ["--pred-key", pred_key]
        if draw(st.integers(0, 11)) == 0:
            options += ["--label-key", "nope"]
            readings[1] = refused("no array 'nope'")
        how.append(f"two archives: pred[{pred_key}], labels[{label_key}]")
    for name in list(files):
        data, damage = draw(corrupted(files[name], intact=16))
        if damage:
            files[name] = data
            how.append(f"{name}: {damage}")
            which = [0, 1] if together else [0 if name == "pred.npz" else 1]
            for i in which:
                readings[i] = Unknown(damage)
    if not together and draw(st.integers(0, 20)) == 0:
        buffer = io.BytesIO()
        np.savez(buffer, labels=np.array([_Unpickled(MARKER)], dtype=object))
        files["labels.npz"] = buffer.getvalue()
        readings[1] = unusable("pickled objects")
        how.append("labels.npz: an object array (a pickle that creates a file when loaded)")
    rules = frozenset({"empty"} if pred.size == 0 or labels.size == 0 else ())
    return Inputs(files, pred_path, labels_path, options, [(readings[0], readings[1], ())], None, how, rules)


# --- Parquet ----------------------------------------------------------------------------------------------------

ARROW_TYPES = ["float64", "float32", "int64", "int32", "int16", "int8", "uint8", "uint32", "uint64", "bool"]


@st.composite
def parquet_column(draw: Any, cells: list[Any]) -> tuple[Any, Column, str]:
    """A pyarrow array for a column of the problem (or a decoy) and what a reader must make of it."""
    import pyarrow as pa

    if cells and all(isinstance(c, str) for c in cells) and cells[0] == "":
        return pa.array([None] * len(cells), pa.float64()), unusable("an all-null column"), "nulls"
    if cells and all(isinstance(c, str) for c in cells):
        return pa.array(cells, pa.string()), unusable("strings"), "string"
    values = exact_array(cells) if cells else np.empty(0)
    candidates = [t for t in ARROW_TYPES if _cast(values, t) is not None]
    arrow_type = draw(st.sampled_from(candidates)) if candidates else "float64"
    array = _cast(values, arrow_type) if candidates else values.astype(np.float64)
    variant = draw(st.sampled_from(["plain"] * 36 + ["null", "string", "timestamp", "list"]))
    if variant == "null" and len(cells):
        at = draw(st.integers(0, len(cells) - 1))
        mask = np.zeros(len(cells), dtype=bool)
        mask[at] = True
        return pa.array(array, mask=mask), unusable("a null cell"), f"{arrow_type} with a null"
    if variant == "string":
        return pa.array([repr(v) for v in array.tolist()], pa.string()), unusable("numbers as strings"), "string"
    if variant == "timestamp":
        return pa.array(np.array(range(len(cells)), dtype="datetime64[s]")), unusable("timestamps"), "timestamp"
    if variant == "list":
        return pa.array([[float(v)] for v in array.tolist()], pa.list_(pa.float64())), unusable("lists"), "list"
    reading: Column = array.astype(np.int64) if array.dtype.kind == "b" else array
    if array.dtype == np.uint64 and array.size and array.max() > INT64[1]:
        reading = Unknown("uint64 past int64")
    return pa.array(array), reading, arrow_type


@st.composite
def parquet_inputs(draw: Any, problem: Problem) -> Inputs:
    """The problem's tables as Parquet: pyarrow with small row groups, or pandas with its index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    layout = draw(layouts(problem, "csv", header=True))
    files, table_readings, how = {}, [], []
    names_out = ["data.parquet"] if layout.single_file else ["pred.parquet", "labels.parquet"]
    for name, table in zip(names_out, layout.tables, strict=True):
        arrays, columns, kinds = [], [], []
        for _, cells in table:
            array, reading, kind = draw(parquet_column(cells))
            arrays.append(array)
            columns.append(reading)
            kinds.append(kind)
        names = [n for n, _ in table]
        arrow_table = pa.table(arrays, names=names)
        writer = draw(st.sampled_from(["pyarrow", "pyarrow", "pandas"]))
        notes: tuple[str, ...] = ()
        buffer = io.BytesIO()
        if writer == "pandas" and all(k not in ("list", "timestamp") for k in kinds):
            frame = arrow_table.to_pandas()
            # A RangeIndex is kept in the metadata only, unless index=True stores it as a column;
            # any other index is stored as a column (named, or __index_level_0__). Columns are left out.
            index = draw(st.sampled_from(["range", "range stored", "shuffled", "named"]))
            if index in ("shuffled", "named") and len(frame):
                frame.index = np.array(draw(st.permutations(range(len(frame)))), dtype=np.int64) + 10
                if index == "named":
                    frame.index.name = "row_id"
            stored = index == "range stored" or (index != "range" and len(frame) > 0)
            notes = ("index",) if stored else ()
            frame.to_parquet(buffer, index=True if index == "range stored" else None)
            described = f"DataFrame.to_parquet(index={'True' if index == 'range stored' else 'None'}), {index} index"
        else:
            row_group = draw(st.integers(1, 5))
            compression = draw(st.sampled_from(["snappy", "none", "zstd"]))
            pq.write_table(arrow_table, buffer, row_group_size=row_group, compression=compression)
            described = f"pq.write_table(row_group_size={row_group})"
        data, damage = draw(corrupted(buffer.getvalue(), intact=16))
        files[name] = data
        columns_written = dict(zip(names, kinds, strict=True))
        how.append(f"{name}: {described}, columns {columns_written}" + (f", {damage}" if damage else ""))
        table_readings.append(Unknown(damage) if damage else Table(names, columns, problem.n_rows, notes))
    options = [*layout.pred_options, *layout.label_options]
    header_option = draw(st.sampled_from([None] * 6 + ["--header", "--no-header"]))
    if header_option:
        options.append(header_option)
    if layout.single_file:
        table = table_readings[0]
        exclude = layout.label_selectors if layout.pred_selectors is None else ()
        notes = table.notes if isinstance(table, Table) else ()
        readings = [(select(table, layout.pred_selectors, exclude), select(table, layout.label_selectors), notes)]
        pred_path, labels_path = names_out[0], None
    else:
        notes = tuple(n for t in table_readings if isinstance(t, Table) for n in t.notes)
        pred = select(table_readings[0], layout.pred_selectors)
        readings = [(pred, select(table_readings[1], layout.label_selectors), notes)]
        pred_path, labels_path = names_out
    rules = {r for r in (header_option, "empty" if problem.n_rows == 0 else None) if r}
    rules |= {"pandas index"} if any(isinstance(t, Table) and "index" in t.notes for t in table_readings) else set()
    return Inputs(files, pred_path, labels_path, options, readings, None, how, frozenset(rules))
