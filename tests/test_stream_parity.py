"""Streaming is the whole read, a chunk at a time (issue 11): ``compute --chunk-size N`` accepts exactly
what ``compute`` accepts, with the same value, and refuses exactly what it refuses, with the same error line.

Each case writes the same predictions and labels in every form that can hold them (CSV, TSV, .npy, .npz,
Parquet), with the column types that used to part the two readers (integers past 2**24, booleans, uint64,
strings, nulls, nested Parquet types, values past float32 or int64, no rows), then runs the whole read and
chunks of 1, 2 and 7 rows. A value is also checked against a reference computed with numpy from the file
as pandas, pyarrow or numpy reads it; an error against the cell it must name.
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from losscli.io import textchunks
from losscli.io.loading import iter_row_chunks, read_source, select_columns

N = 9  # rows: above the largest chunk size, so every size cuts the file
CHUNKS = (1, 2, 7)
BAD_ROW = 6  # 1-based row of the special value, in a later chunk than the first for every size
RNG = np.random.default_rng(11)
LOGITS = RNG.normal(size=(N, 3)).round(3)
FLOATS = RNG.normal(size=N).round(4)
CLASSES = [0, 2, 1, 1, 0, 2, 2, 1, 0]
BOOLS = [bool(c % 2) for c in CLASSES]


@dataclass
class Column:
    """One column of labels (or predictions) as each form stores it; ``None`` where a form cannot."""

    text: list[str] | None
    arrow: Any = None  # a pyarrow array
    numpy: np.ndarray | None = None


@dataclass
class Case:
    loss: str
    labels: Column
    pred: Column | None = None  # default: FLOATS, or LOGITS for class losses
    options: list[str] = field(default_factory=list)
    reference: Callable[..., float] | None = None  # (pred, labels as read, float dtype of the run) -> value
    fragments: tuple[str, ...] = ()  # the error line names these (the file is always named)


def _floats(values, dtype=np.float64) -> Column:
    array = np.asarray(values, dtype=dtype)
    return Column([repr(float(v)) for v in array], pa.array(array), array)


def _ints(values, arrow_type="int64", numpy_dtype=np.int64) -> Column:
    return Column([str(v) for v in values], pa.array(values, getattr(pa, arrow_type)()), np.array(values, numpy_dtype))


def _with(values: list, at: int, value: Any) -> list:
    values = list(values)
    values[at - 1] = value
    return values


def mse(p: np.ndarray, y: np.ndarray, dtype: type) -> float:
    """The mean squared error of the values as the run's dtype holds them (torch converts the files' numbers)."""
    p, y = (np.asarray(a, np.float64).astype(dtype).astype(np.float64) for a in (p, y))
    return float(np.mean((p - y) ** 2))


def cross_entropy(logits: np.ndarray, y: np.ndarray, dtype: type) -> float:
    x = np.asarray(logits, np.float64)
    log_p = x - x.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(x)), np.asarray(y, np.int64)]))


def bce_with_logits(x: np.ndarray, y: np.ndarray, dtype: type) -> float:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))))


def _cases() -> dict[str, Case]:
    big = [16777219 + i for i in range(N)]  # past 2**24: not every one is a float32
    huge = _with(CLASSES, BAD_ROW, 2**64 - 1)
    return {
        "floats": Case("mse", _floats(FLOATS[::-1]), reference=mse),
        "float32 file": Case("mse", _floats(FLOATS[::-1], np.float32), reference=mse),
        "classes": Case("ce", _ints(CLASSES), reference=cross_entropy),
        "int32 classes": Case("ce", _ints(CLASSES, "int32", np.int32), reference=cross_entropy),
        "int64 past 2**24": Case("mse", _ints(big), pred=_floats(np.array(big) + 0.5), reference=mse),
        "int64 past 2**24 float64": Case(
            "mse", _ints(big), pred=_floats(np.array(big) + 0.5), options=["--dtype", "float64"], reference=mse
        ),
        "booleans": Case(
            "bce_with_logits",
            Column([str(b) for b in BOOLS], pa.array(BOOLS), np.array(BOOLS)),
            reference=bce_with_logits,
        ),
        "uint64 classes": Case("ce", _ints(CLASSES, "uint64", np.uint64), reference=cross_entropy),
        "uint64 past int64": Case(
            "ce", _ints(huge, "uint64", np.uint64), fragments=(f"row {BAD_ROW}", "18446744073709551615")
        ),
        "text past int64": Case(
            "ce",
            Column([str(v) for v in _with(CLASSES, BAD_ROW, 99999999999999999999)]),
            fragments=(f"row {BAD_ROW}", "99999999999999999999", "int64"),
        ),
        "float past int64": Case(
            "ce",
            Column(None, numpy=np.array(_with(CLASSES, BAD_ROW, 1e20), np.float64)),
            fragments=(f"row {BAD_ROW}", "1e+20", "int64"),
        ),
        "strings": Case(
            "mse",
            Column(
                [str(v) for v in _with(CLASSES, BAD_ROW, "x")],
                pa.array([str(v) for v in CLASSES]),
                np.array([str(v) for v in CLASSES]),
            ),
            fragments=("number",),  # "cannot read 'x' as a number", "holds string values, not numbers"
        ),
        "empty cell": Case(
            "mse",
            # A quoted empty cell: an empty line would be a blank line, skipped.
            Column(
                [str(v) for v in _with(CLASSES, BAD_ROW, '""')],
                pa.array(_with(CLASSES, BAD_ROW, None), pa.float64()),
            ),
            fragments=(f"row {BAD_ROW}", "empty cell"),
        ),
        "past float32": Case(
            "mse",
            _floats(_with(FLOATS, BAD_ROW, 3.5e38)),
            fragments=(f"row {BAD_ROW}", "3.5e", "overflows float32", "--dtype float64"),
        ),
        "past float32 in float64": Case(
            "mse", _floats(_with(FLOATS, BAD_ROW, 3.5e38)), options=["--dtype", "float64"], reference=mse
        ),
        "past float64": Case(
            "mse",
            Column([repr(float(v)) if row != BAD_ROW else "1e400" for row, v in enumerate(FLOATS, 1)]),
            fragments=(f"row {BAD_ROW}", "1e400", "float64"),
        ),
        "decimals": Case(
            "mse",
            Column(None, pa.array([decimal.Decimal(f"{v:.4f}") for v in FLOATS], pa.decimal128(10, 4))),
            reference=mse,
        ),
        **{
            f"parquet {name}": Case("mse", Column(None, array), fragments=("not numbers",))
            for name, array in {
                "lists": pa.array([[float(v)] for v in FLOATS]),
                "structs": pa.array([{"a": float(v)} for v in FLOATS]),
                "timestamps": pa.array([datetime.datetime(2024, 1, i + 1) for i in range(N)]),
                "dictionary": pa.array([str(c) for c in CLASSES]).dictionary_encode(),
                "nulls only": pa.nulls(N),
            }.items()
        },
    }


CASES = _cases()
FORMS = (".csv", ".tsv", ".npy", ".npz", ".parquet")


def _holds(form: str, column: Column) -> bool:
    """Whether files of ``form`` can hold ``column``."""
    scores = column.numpy is not None and column.numpy.ndim == 2
    if form in (".csv", ".tsv"):
        return column.text is not None
    if form == ".parquet":
        return column.arrow is not None or scores
    return column.numpy is not None


def _write(path: Path, column: Column, name: str) -> None:
    """Write ``column`` (a 2-D numpy column for class scores) to ``path``."""
    import pyarrow.parquet as pq

    suffix = path.suffix
    if suffix in (".csv", ".tsv"):
        delimiter = "," if suffix == ".csv" else "\t"
        if column.numpy is not None and column.numpy.ndim == 2:
            header = delimiter.join(f"{name}{j}" for j in range(column.numpy.shape[1]))
            rows = [delimiter.join(repr(float(v)) for v in row) for row in column.numpy]
        else:
            header, rows = name, column.text
        path.write_text("\n".join([header, *rows]) + "\n")
    elif suffix == ".parquet":
        if column.numpy is not None and column.numpy.ndim == 2:
            table = pa.table({f"{name}{j}": column.numpy[:, j] for j in range(column.numpy.shape[1])})
        else:
            table = pa.table({name: column.arrow})
        pq.write_table(table, path, row_group_size=4)  # row groups that chunks cut across
    elif suffix == ".npy":
        np.save(path, column.numpy)
    else:
        np.savez_compressed(path, **{name: column.numpy})


def _pred_column(case: Case) -> Column:
    if case.pred is not None:
        return case.pred
    if case.loss == "ce":
        return Column([], None, LOGITS)
    return _floats(FLOATS)


def _read_back(path: Path) -> np.ndarray:
    """The file as pandas, pyarrow or numpy reads it: the independent side of a reference value."""
    import pandas as pd
    import pyarrow.parquet as pq

    if path.suffix in (".csv", ".tsv"):
        frame = pd.read_csv(path, sep="," if path.suffix == ".csv" else "\t")
    elif path.suffix == ".parquet":
        frame = pq.read_table(path).to_pandas()
    else:
        array = np.load(path, allow_pickle=False)
        return array[next(iter(array.files))] if path.suffix == ".npz" else array
    values = frame.to_numpy()
    return values[:, 0] if values.shape[1] == 1 else values


PARAMS = [
    pytest.param(name, form, id=f"{name}-{form[1:]}")
    for name, case in CASES.items()
    for form in FORMS
    if _holds(form, case.labels) and _holds(form, _pred_column(case))
]


@pytest.mark.parametrize(("name", "form"), PARAMS)
def test_streamed_run_is_the_whole_run(invoke, tmp_path, monkeypatch, name, form):
    case = CASES[name]
    pred, labels = tmp_path / f"pred{form}", tmp_path / f"labels{form}"
    _write(labels, case.labels, "y")
    _write(pred, _pred_column(case), "p")
    monkeypatch.setattr(textchunks, "_PIECE_BYTES", 16)  # text: a piece of a line or two, each read on its own
    args = ["compute", case.loss, str(pred), str(labels), "--no-grad", "-f", "json", *case.options]
    whole = invoke(args)
    assert whole.exit_code in (0, 3), (whole.exit_code, whole.stderr)
    if whole.exit_code == 0:
        assert whole.stderr == ""  # no warning, no raw RuntimeWarning from numpy or torch
        value = json.loads(whole.stdout)["value"]
        assert case.reference is not None, f"expected an error, got {value}"
        dtype = np.float64 if "float64" in case.options else np.float32
        want = case.reference(_read_back(pred), _read_back(labels), dtype)
        assert value == pytest.approx(want, rel=1e-5)
    else:
        assert case.reference is None, whole.stderr
        line = whole.stderr.strip()
        assert line.startswith("Error: ") and "\n" not in line, whole.stderr
        for fragment in (str(labels if "pred" not in line else pred), *case.fragments):
            assert fragment in line, (fragment, line)
    for chunk_rows in CHUNKS:
        streamed = invoke([*args, "--chunk-size", chunk_rows])
        assert streamed.exit_code == whole.exit_code, (chunk_rows, streamed.stderr, whole.stderr)
        if whole.exit_code == 0:
            assert streamed.stderr == ""
            assert json.loads(streamed.stdout)["value"] == pytest.approx(value, rel=1e-6), chunk_rows
        else:
            assert streamed.stderr.strip() == whole.stderr.strip(), chunk_rows


# --- the arrays themselves: same values, same integer columns --------------------------------------------


LOADER_COLUMNS = {
    "float": _floats(FLOATS),
    "int": _ints(CLASSES),
    "int past 2**24": _ints([16777219 + i for i in range(N)]),
    "uint64": _ints(CLASSES, "uint64", np.uint64),
    "bool": Column([str(b) for b in BOOLS], pa.array(BOOLS), np.array(BOOLS)),
    "whole floats": _floats([float(c) for c in CLASSES]),
}


@pytest.mark.parametrize("float_dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("kind", "form"),
    [(kind, form) for kind, column in LOADER_COLUMNS.items() for form in FORMS if _holds(form, column)],
)
def test_streamed_arrays_are_the_whole_arrays(tmp_path, monkeypatch, kind, form, float_dtype):
    """The chunks joined are the whole read's array, exactly; a column read whole as integers comes in
    integer chunks (so class indices stay exact); and both hold what pandas, pyarrow or numpy read."""
    path = tmp_path / f"t{form}"
    _write(path, LOADER_COLUMNS[kind], "y")
    monkeypatch.setattr(textchunks, "_PIECE_BYTES", 16)
    whole = select_columns(read_source(str(path), float_dtype=float_dtype), None)
    reference = _read_back(path)
    np.testing.assert_array_equal(whole.astype(np.float64), reference.astype(np.float64).astype(whole.dtype))
    for chunk_rows in CHUNKS:
        _, chunks = iter_row_chunks(str(path), chunk_rows, float_dtype=float_dtype)
        parts = list(chunks)
        np.testing.assert_array_equal(np.concatenate(parts), whole)
        if whole.dtype.kind in "iub":
            assert all(p.dtype.kind in "iub" for p in parts), [p.dtype for p in parts]


# --- damaged files and odd selections, streamed as read whole (found by tests/test_properties.py) ---------


def _same_failure(invoke, args: list[Any], fragment: str) -> None:
    """The whole read and every chunk size end in the same one-line Error: (exit 3) naming ``fragment``."""
    whole = invoke(args)
    assert whole.exit_code == 3, (whole.exit_code, whole.stderr)
    assert whole.stderr.startswith("Error: ") and whole.stderr.count("\n") == 1, whole.stderr
    assert fragment in whole.stderr, whole.stderr
    for chunk_rows in CHUNKS:
        streamed = invoke([*args, "--chunk-size", chunk_rows])
        assert (streamed.exit_code, streamed.stderr) == (3, whole.stderr), chunk_rows


def test_a_ragged_line_names_the_header_line_when_streamed(invoke, tmp_path, monkeypatch):
    monkeypatch.setattr(textchunks, "_PIECE_BYTES", 16)
    path = tmp_path / "t.csv"
    path.write_text("a,b\n" + "0.5,0.5\n" * 8 + "1,2,3\n")
    _same_failure(invoke, ["compute", "mse", path, path], "line 10 has 3 fields but the header (line 1) has 2")
    path.write_text("0.5,0.5\n" * 8 + "1,2,3\n")
    args = ["compute", "mse", path, path, "--no-header"]
    _same_failure(invoke, args, "line 9 has 3 fields but the first row (line 1) has 2")


def test_a_column_chosen_twice_streams_as_read_whole(invoke_json, tmp_path, monkeypatch):
    monkeypatch.setattr(textchunks, "_PIECE_BYTES", 16)
    pred, labels = tmp_path / "p.csv", tmp_path / "y.csv"
    pred.write_text("a,b\n" + "".join(f"{v},{2 * v}\n" for v in FLOATS))
    labels.write_text("y,z\n" + "".join(f"{v},{v}\n" for v in CLASSES))
    args = ["compute", "mse", pred, labels, "--pred-col", "b", "--pred-col", "-1", "--label-col", "y,z", "--no-grad"]
    reference = np.mean((np.column_stack([2 * FLOATS, 2 * FLOATS]) - np.array(CLASSES)[:, None]) ** 2)
    assert invoke_json(args)["value"] == pytest.approx(reference, rel=1e-6)
    for chunk_rows in CHUNKS:
        assert invoke_json([*args, "--chunk-size", chunk_rows])["value"] == pytest.approx(reference, rel=1e-6)


def test_a_damaged_deflate_stream_in_an_npz_is_a_data_error(invoke, tmp_path):
    import zipfile

    path = tmp_path / "t.npz"
    np.savez_compressed(path, y=np.linspace(0, 1, 4096))  # compressible: the member is a deflate stream
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("y.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)  # past the local header
    for offset in range(start + 80, start + 120):  # inside the deflate stream, past the .npy header
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive, pytest.raises(Exception) as raised, archive.open("y.npy") as member:
        member.read()
    assert type(raised.value).__name__ in ("error", "BadZipFile")  # zlib.error, or zipfile's CRC check
    _same_failure(invoke, ["compute", "mse", path, path, "--no-grad"], f"{path}: array 'y' cannot be read")


def _damage_column(path: Path, column: int) -> None:
    """Flip bits in the first data page of one column of a Parquet file (its page header and values)."""
    import pyarrow.parquet as pq

    start = pq.ParquetFile(path).metadata.row_group(0).column(column).data_page_offset
    data = bytearray(path.read_bytes())
    for offset in range(start, start + 40):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def test_a_damaged_parquet_column_is_an_error_only_when_chosen(invoke, invoke_json, tmp_path):
    """As pandas' read_parquet(columns=...) would, read whole or streamed: the damaged column fails (exit 3,
    naming it), the others are read."""
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    y, p = np.arange(64, dtype=np.float64), np.linspace(0, 1, 64)
    pq.write_table(pa.table({"y": y, "p": p, "bad": p}), path, compression="zstd")
    _damage_column(path, 2)
    with pytest.raises((OSError, pa.ArrowException)):
        pq.read_table(path)
    np.testing.assert_array_equal(pq.read_table(path, columns=["y", "p"]).column("y").to_numpy(), y)
    reference = float(np.mean((p - y) ** 2))
    args = ["compute", "mse", path, "--pred-col", "p", "--label-col", "y", "--no-grad"]
    assert invoke_json(args)["value"] == pytest.approx(reference, rel=1e-6)
    for chunk_rows in CHUNKS:
        assert invoke_json([*args, "--chunk-size", chunk_rows])["value"] == pytest.approx(reference, rel=1e-6)
    bad = ["compute", "mse", path, "--pred-col", "bad", "--label-col", "y", "--no-grad"]
    _same_failure(invoke, bad, f"{path}: column 'bad' is not readable Parquet (")
    assert invoke(bad).stderr.rstrip().endswith("write the file again, or choose other columns with --pred-col")


def test_a_parquet_column_shorter_than_the_file_says_is_damaged(invoke, invoke_json, tmp_path):
    """A flipped bit in a page header can make a column read with fewer rows than the file's metadata
    says (pyarrow: 'expected length 1 but got length 0'): that column is damaged, the other is read."""
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"A": pa.array([0.5], pa.float32()), "A0": pa.array([0.0], pa.float32())}), path)
    data = bytearray(path.read_bytes())
    data[83] ^= 0b10  # in A0's page header: its number of values
    path.write_bytes(bytes(data))
    with pytest.raises(pa.ArrowInvalid, match="expected length 1 but got length 0"):
        pq.ParquetFile(path).read()
    assert invoke_json(["compute", "mse", path, path, "--pred-col", "A", "--label-col", "A"])["value"] == 0.0
    args = ["compute", "mse", path, "--pred-col", "A0", "--label-col", "A", "--no-grad"]
    _same_failure(invoke, args, f"{path}: column 'A0' is not readable Parquet (it holds 0 rows where the file")


def test_a_parquet_column_name_that_is_not_utf8_is_a_data_error(invoke, tmp_path):
    """A flipped bit in the footer can leave a column name that is not UTF-8: pyarrow raises
    UnicodeDecodeError (a ValueError) opening the file; that is a damaged file (exit 3), not a bug."""
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"A": pa.array([0.5, 1.5])}), path)
    data = bytearray(path.read_bytes())
    footer = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    at = data.index(b"A", footer)  # the first mention of the name in the footer: the schema's
    data[at] = 0xC1  # no UTF-8 byte
    path.write_bytes(bytes(data))
    with pytest.raises(UnicodeDecodeError):
        pq.ParquetFile(path).schema_arrow  # noqa: B018 (the read is the test)
    _same_failure(invoke, ["compute", "mse", path, path, "--no-grad"], f"{path}: not a readable Parquet file (")


def test_a_hex_cell_is_refused_in_whichever_piece_it_lands(invoke, tmp_path, monkeypatch):
    """A streamed piece of plain integers holding 0x1A would be read as 26 by pyarrow's inference, while the
    whole column (with a 2.5 further down) is text: both refuse the cell, with the same line."""
    import pandas as pd

    monkeypatch.setattr(textchunks, "_PIECE_BYTES", 16)
    labels = tmp_path / "y.csv"
    labels.write_text("y\n1\n0x1A\n" + "2\n" * 9 + "2.5\n")
    pred = tmp_path / "p.csv"
    pred.write_text("p\n" + "0.5\n" * 12)
    assert not pd.api.types.is_numeric_dtype(pd.read_csv(labels)["y"])  # pandas reads no number from it either
    _same_failure(invoke, ["compute", "mse", pred, labels], "row 2 (line 3), column 'y': cannot read '0x1A'")
