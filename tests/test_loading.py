"""Tests for losscli.io.loading: every input form of SPEC §2 and its error messages (§4)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import numpy as np
import pytest

from losscli.errors import DataError
from losscli.io.loading import (
    Source,
    cell_as_written,
    iter_row_chunks,
    read_source,
    resolve_columns,
    select_columns,
    split_column_options,
)

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def data_error(*args, **kwargs) -> str:
    """The message of the DataError that read_source(*args, **kwargs) raises."""
    with pytest.raises(DataError) as caught:
        read_source(*args, **kwargs)
    return str(caught.value)


def selection_error(source: Source, selectors, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        select_columns(source, selectors, **kwargs)
    return str(caught.value)


# --- text tables ---------------------------------------------------------------------------


def test_csv_with_header(tmp_path):
    path = write(tmp_path, "preds.csv", "pred,label\n0.5,1\n0.25,0\n")
    source = read_source(path)
    assert source.name == path
    assert source.columns == ["pred", "label"]
    assert source.array.shape == (2, 2)
    assert source.array.dtype == np.float64
    np.testing.assert_array_equal(select_columns(source, ["pred"]), [0.5, 0.25])


def test_csv_without_header_names_columns_by_position(tmp_path):
    source = read_source(write(tmp_path, "p.csv", "1.5,2\n3,4\n"))
    assert source.columns == ["0", "1"]
    np.testing.assert_array_equal(source.array, [[1.5, 2], [3, 4]])


def test_single_column_table_gives_1d(tmp_path):
    source = read_source(write(tmp_path, "p.csv", "score\n0.1\n0.2\n0.3\n"))
    picked = select_columns(source, None)
    assert picked.shape == (3,)
    assert np.shares_memory(picked, source.array)  # no copy on top of the Arrow buffer
    np.testing.assert_array_equal(picked, [0.1, 0.2, 0.3])


def test_comment_lines_at_top_and_in_the_middle_are_skipped(tmp_path):
    text = "# written by model v2\n  # indented comment\n\na,b\n1,2\n# halfway\n\n3,4\n   \n5,6\n# end"
    source = read_source(write(tmp_path, "p.csv", text))
    assert source.columns == ["a", "b"]
    np.testing.assert_array_equal(source.array, [[1, 2], [3, 4], [5, 6]])


def test_hash_inside_a_header_name_is_kept(tmp_path):
    source = read_source(write(tmp_path, "p.csv", "a,#b\n1,2\n"))
    assert source.columns == ["a", "#b"]


def test_tsv(tmp_path):
    source = read_source(write(tmp_path, "p.tsv", "pred\tlabel\n0.5\t1\n0.7\t0\n"))
    assert source.columns == ["pred", "label"]
    np.testing.assert_array_equal(source.array, [[0.5, 1], [0.7, 0]])


@pytest.mark.parametrize(
    "text",
    [
        "a\tb\n1\t2\n3\t4\n",  # tab
        "a,b\n1,2\n3,4\n",  # comma
        "a b\n1 2\n3 4\n",  # spaces
        "  a    b  \n 1  2\n\n3\t 4   \n  \n",  # runs of mixed whitespace, padded lines, blank lines
        "# comment\na b\r\n1 2\r\n3 4\r\n",  # comment and CRLF line ends
    ],
)
def test_txt_sniffs_the_delimiter(tmp_path, text):
    source = read_source(write(tmp_path, "p.txt", text))
    assert source.columns == ["a", "b"]
    np.testing.assert_array_equal(source.array, [[1, 2], [3, 4]])
    assert source.array.dtype == np.int64


def test_txt_space_separated_without_header(tmp_path):
    source = read_source(write(tmp_path, "p.txt", "0.1 0.9 1\n0.8 0.2 0\n"))
    assert source.columns == ["0", "1", "2"]
    np.testing.assert_array_equal(select_columns(source, ["-1"]), [1, 0])


def test_stdin_is_csv_with_sniffed_delimiter():
    source = read_source("-", stdin=io.BytesIO(b"pred,label\n0.5,1\n"))
    assert source.name == "<stdin>"
    assert source.columns == ["pred", "label"]
    source = read_source("-", stdin=io.BytesIO(b"1\t2\n3\t4\n"))
    np.testing.assert_array_equal(source.array, [[1, 2], [3, 4]])


def test_stdin_defaults_to_sys_stdin_buffer(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"1\n2\n")))
    np.testing.assert_array_equal(select_columns(read_source("-"), None), [1, 2])


def test_extension_is_case_insensitive(tmp_path):
    source = read_source(write(tmp_path, "P.CSV", "1,2\n"))
    np.testing.assert_array_equal(source.array, [[1, 2]])


def test_integer_columns_stay_int64(tmp_path):
    source = read_source(write(tmp_path, "labels.csv", "y\n0\n2\n1\n"))
    assert source.array.dtype == np.int64
    assert select_columns(source, None).dtype == np.int64


def test_integer_column_next_to_floats_comes_back_int64(tmp_path):
    source = read_source(write(tmp_path, "p.csv", "pred,label\n0.5,1\n0.25,0\n"))
    assert source.array.dtype == np.float64  # one 2-D array: the float column wins
    label = select_columns(source, ["label"])
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, [1, 0])
    assert select_columns(source, ["label", "pred"]).dtype == np.float64


def test_whole_numbers_are_integers_however_written(tmp_path):
    """'1.0' is the class 1 (SPEC §2): a column of whole numbers is int64 on the fast and the slow path."""
    for text in ("y\n1.0\n0\n", "# comment: the byte-level path\ny\n1.0\n0\n"):
        labels = select_columns(read_source(write(tmp_path, "p.csv", text)), None)
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(labels, [1, 0])
    assert select_columns(read_source(write(tmp_path, "q.csv", "y\n1.5\n0\n")), None).dtype == np.float64


def test_float32_request_reads_floats_as_float32(tmp_path):
    source = read_source(write(tmp_path, "p.csv", "x,y\n0.5,1\n1.25,2\n"), float_dtype=np.float32)
    assert select_columns(source, ["x"]).dtype == np.float32
    assert select_columns(source, ["y"]).dtype == np.int64


def test_bool_columns_become_int64(tmp_path):
    source = read_source(write(tmp_path, "p.csv", "flag,x\ntrue,1\nfalse,2\n"))
    flag = select_columns(source, ["flag"])
    assert flag.dtype == np.int64
    np.testing.assert_array_equal(flag, [1, 0])


def test_nan_and_inf_first_row_is_data_not_header(tmp_path):
    source = read_source(write(tmp_path, "p.csv", "nan,inf\n2,-inf\n"))
    assert source.columns == ["0", "1"]
    assert source.array.shape == (2, 2)
    assert np.isnan(source.array[0, 0])
    assert source.array[0, 1] == np.inf and source.array[1, 1] == -np.inf


def test_header_names_are_stripped_and_bom_ignored(tmp_path):
    source = read_source(write(tmp_path, "p.csv", b"\xef\xbb\xbfpred, label\n1, 2\n"))
    assert source.columns == ["pred", "label"]
    np.testing.assert_array_equal(select_columns(source, ["label"]), [2])


def test_quoted_header_names(tmp_path):
    source = read_source(write(tmp_path, "p.csv", '"pred, raw",label\n1,2\n'))
    assert source.columns == ["pred, raw", "label"]


def test_large_table_spans_several_arrow_chunks(tmp_path):
    rows = 120_000  # well over pyarrow's 1 MB block: several chunks per column
    values = np.arange(rows, dtype=np.float64) / 7
    lines = "\n".join(f"{float(v)!r},{i}" for i, v in enumerate(values))
    source = read_source(write(tmp_path, "big.csv", "x,i\n" + lines + "\n"))
    assert source.array.flags.c_contiguous
    np.testing.assert_array_equal(select_columns(source, ["x"]), values)
    np.testing.assert_array_equal(select_columns(source, ["i"]), np.arange(rows))


# --- text table errors ---------------------------------------------------------------------------


def test_non_numeric_cell_names_file_row_line_column_and_fix(tmp_path):
    path = write(tmp_path, "preds.csv", "# model v2\nscore,label\n0.5,1\n0.2,0\nabc,1\n")
    source = read_source(path)
    message = selection_error(source, ["score"])
    assert message == (
        f"{path}: row 3 (line 5), column 'score': cannot read 'abc' as a number; "
        "fix the cell or choose numeric columns with --pred-col"
    )
    assert "--label-col" in selection_error(source, None, exclude=["label"], option="--label-col")


def test_bad_cell_line_counts_blank_and_comment_lines(tmp_path):
    path = write(tmp_path, "p.csv", "x\n1\n\n2\n# note\n\n3\noops\n")
    message = selection_error(read_source(path), None)
    assert "row 4 (line 8), column 'x': cannot read 'oops' as a number" in message


def test_bad_cell_late_in_a_large_file_is_located(tmp_path):
    lines = [f"{i},{i}" for i in range(100_000)]
    lines[98_765] = "98765,x9"
    path = write(tmp_path, "p.csv", "a,b\n" + "\n".join(lines) + "\n")
    message = selection_error(read_source(path), ["b"])
    assert "row 98766 (line 98767), column 'b': cannot read 'x9' as a number" in message


def test_non_numeric_column_can_be_left_out(tmp_path):
    path = write(tmp_path, "p.csv", "id,pred,label\nx1,0.5,1\nx2,0.25,0\n")
    source = read_source(path)
    np.testing.assert_array_equal(select_columns(source, ["pred"]), [0.5, 0.25])
    # a column of text and no number (an id) is no default prediction column
    np.testing.assert_array_equal(select_columns(source, None, exclude=["label"]), [0.5, 0.25])
    assert selection_error(source, ["id"]) == (
        f"{path}: row 1 (line 2), column 'id': cannot read 'x1' as a number; "
        "fix the cell or choose numeric columns with --pred-col"
    )


def test_a_column_of_text_and_numbers_is_still_an_error(tmp_path):
    path = write(tmp_path, "p.csv", "id,pred,label\nx1,0.5,1\n7,0.25,0\n")
    assert selection_error(read_source(path), None, exclude=["label"]) == (
        f"{path}: row 1 (line 2), column 'id': cannot read 'x1' as a number; "
        "fix the cell or choose numeric columns with --pred-col"
    )


def test_date_column_is_reported_as_its_text(tmp_path):
    path = write(tmp_path, "p.csv", "day,x\n2024-01-31,1\n")
    assert "column 'day': cannot read '2024-01-31' as a number" in selection_error(read_source(path), ["day"])


def test_long_bad_cell_is_shortened(tmp_path):
    path = write(tmp_path, "p.csv", "x\n" + "y" * 500 + "\n")
    message = selection_error(read_source(path), None)
    assert "cannot read '" + "y" * 37 + "...' as a number" in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a,b\n1,2\n3,\n", "row 2 (line 3), column 'b'"),
        ('a,b\n1,2\n3,""\n', "row 2 (line 3), column 'b'"),
        ("a,b\n1,2\n3,  \n", "row 2 (line 3), column 'b'"),
        ("a,b\n1,\n2,x\n", "row 1 (line 2), column 'b'"),
    ],
)
def test_empty_cell(tmp_path, text, where):
    path = write(tmp_path, "p.csv", text)
    message = selection_error(read_source(path), ["b"], option="--label-col")
    assert message == f"{path}: {where}: empty cell; fill it in or choose other columns with --label-col"


def test_ragged_row_names_the_line(tmp_path):
    path = write(tmp_path, "p.csv", "a,b\n1,2\n\n3\n4,5\n")
    assert data_error(path) == (
        f"{path}: line 4 has 1 field but the header (line 1) has 2; give every row the same number of fields"
    )
    path = write(tmp_path, "q.txt", "1 2\n3 4 5\n")
    assert data_error(path) == (
        f"{path}: line 2 has 3 fields but the first row (line 1) has 2; give every row the same number of fields"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        ("# only a comment\n\n", "no data rows, only comments and blank lines"),
        ("pred,label\n", "a header on line 1 but no data rows below it"),
        ("# c\npred,label\n\n# c\n", "a header on line 2 but no data rows below it"),
    ],
)
def test_empty_tables(tmp_path, text, expected):
    path = write(tmp_path, "p.csv", text)
    assert data_error(path).startswith(f"{path}: {expected}")


def test_empty_stdin():
    assert data_error("-", stdin=io.BytesIO(b"")).startswith("<stdin>: standard input is empty")


# --- .npy / .npz ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4, 5)])
def test_npy_any_shape_memory_mapped(tmp_path, shape):
    stored = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    path = str(tmp_path / "p.npy")
    np.save(path, stored)
    source = read_source(path)
    assert isinstance(source.array, np.memmap)
    assert source.columns is None
    assert source.array.dtype == np.float32  # as stored
    np.testing.assert_array_equal(source.array, stored)
    assert select_columns(source, None) is source.array


def test_npy_bool_is_kept(tmp_path):
    path = str(tmp_path / "y.npy")
    np.save(path, np.array([True, False]))
    assert read_source(path).array.dtype == np.bool_


class _Trap:
    """Unpickling this creates the directory ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_npy_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"
    path = str(tmp_path / "evil.npy")
    np.save(path, np.array([_Trap(str(marker)), 1], dtype=object), allow_pickle=True)
    message = data_error(path)
    assert "pickled Python objects" in message and "never unpickles" in message
    assert message.startswith(f"{path}: ")
    assert not marker.exists()
    np.load(path, allow_pickle=True)  # the trap works when something does unpickle
    assert marker.exists()


def test_pickled_array_in_npz_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"
    path = str(tmp_path / "evil.npz")
    np.savez(path, x=np.array([_Trap(str(marker))], dtype=object))
    assert "pickled Python objects" in data_error(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array(["a", "b"]), "holds text (dtype <U1), not numbers"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]), "holds a structured array, not numbers"),
        (np.zeros(2, dtype=complex), "holds complex numbers"),
        (np.array(["2024-01-01"], dtype="datetime64[D]"), "holds dates"),
    ],
)
def test_npy_non_numeric_dtypes_refused(tmp_path, array, expected):
    path = str(tmp_path / "p.npy")
    np.save(path, array)
    assert expected in data_error(path)


def test_corrupt_npy(tmp_path):
    path = write(tmp_path, "p.npy", b"not an array at all")
    assert data_error(path).startswith(f"{path}: not a valid .npy file")
    full = tmp_path / "full.npy"
    np.save(full, np.arange(1000.0))
    path = write(tmp_path, "cut.npy", full.read_bytes()[:300])
    assert data_error(path).startswith(f"{path}: not a readable .npy file")
    # a damaged header dict: numpy's parser stops with tokenize's TokenError, not a ValueError
    damaged = full.read_bytes().replace(b"'shape': (", b"'shape':((", 1)
    with pytest.raises(tokenize.TokenError):
        np.lib.format.read_array_header_1_0(io.BytesIO(damaged[8:]))
    path = write(tmp_path, "header.npy", damaged)
    assert data_error(path).startswith(f"{path}: not a valid .npy file")


def test_npz_archive_named_npy(tmp_path):
    path = tmp_path / "p.npy"
    with open(path, "wb") as handle:
        np.savez(handle, x=np.zeros(2))
    assert "holds an .npz archive, not a .npy array; rename it to .npz" in data_error(str(path))


def test_npz_single_array(tmp_path):
    path = str(tmp_path / "p.npz")
    np.savez(path, scores=np.arange(6.0).reshape(3, 2))
    source = read_source(path)
    assert source.columns is None
    np.testing.assert_array_equal(source.array, np.arange(6.0).reshape(3, 2))


def test_npz_with_key(tmp_path):
    path = str(tmp_path / "p.npz")
    np.savez_compressed(path, pred=np.zeros(3), label=np.array([0, 1, 1]))
    np.testing.assert_array_equal(read_source(path, key="label").array, [0, 1, 1])


def test_npz_several_arrays_without_key_lists_keys(tmp_path):
    path = str(tmp_path / "p.npz")
    np.savez(path, pred=np.zeros(3), label=np.ones(3))
    assert data_error(path, key_option="--label-key") == (
        f"{path}: holds 2 arrays (pred, label); pass --label-key NAME to choose one"
    )


def test_npz_unknown_key_lists_keys(tmp_path):
    path = str(tmp_path / "p.npz")
    np.savez(path, pred=np.zeros(3), label=np.ones(3))
    assert data_error(path, key="lable") == (
        f"{path}: no array 'lable' in the archive (arrays: pred, label); fix --pred-key"
    )


def test_key_on_a_file_that_is_not_npz(tmp_path):
    path = write(tmp_path, "p.csv", "1\n")
    assert data_error(path, key="x", key_option="--label-key") == (
        f"{path}: --label-key x applies to .npz archives only; drop it or give an .npz file"
    )


@pytest.mark.parametrize(
    ("shape", "what"), [((0,), "rows"), ((0, 3), "rows"), ((5, 0), "columns"), ((2, 0, 3), "values")]
)
@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_empty_arrays_are_refused(tmp_path, shape, what, suffix):
    path = str(tmp_path / f"e{suffix}")
    (np.save if suffix == ".npy" else np.savez)(path, np.zeros(shape))
    name = path if suffix == ".npy" else f"{path}: array 'arr_0'"
    assert data_error(path) == f"{name}: an empty array of shape {shape} (no {what}); give at least one value"
    with pytest.raises(DataError, match="empty array"):
        iter_row_chunks(path, 2)


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def test_compressed_npz_past_the_limit_is_refused_before_inflating(tmp_path, monkeypatch):
    """A small archive that inflates to far more (zeros deflate ~1000:1) is refused from its header:
    nothing is inflated but the header (the limit is lowered here; it is 1 GiB)."""
    from losscli.io import npz

    path = write(tmp_path, "bomb.npz", _npz_bytes(x=np.zeros(1 << 20)))  # 8 MiB of zeros in ~8 KiB
    assert os.path.getsize(path) < 64 << 10
    monkeypatch.setattr(npz, "NPZ_INFLATE_LIMIT", 1 << 20)
    inflated = []
    real_read_array = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: inflated.append(1) or real_read_array(*a, **k))
    message = data_error(path)
    assert message.startswith(f"{path}: array 'x' inflates to 8.0 MiB (shape (1048576,), float64) from ")
    assert "more than the 1.0 MiB losscli inflates in memory; stream it with --chunk-size" in message
    assert not inflated
    # Under --chunk-size it streams, a chunk at a time, with the values numpy reads.
    _, chunks = iter_row_chunks(path, 300_000)
    parts = list(chunks)
    assert [len(p) for p in parts] == [300_000, 300_000, 300_000, 148_576]
    assert not any(p.any() for p in parts)
    # Below the limit, and for an archive stored without compression, it is read whole.
    monkeypatch.setattr(npz, "NPZ_INFLATE_LIMIT", 8 << 20)
    np.testing.assert_array_equal(read_source(path).array, np.zeros(1 << 20))


def test_npz_entry_whose_size_lies_about_its_header_is_corrupt(tmp_path):
    """The zip entry's declared size must be the .npy header's plus shape x itemsize."""
    import zipfile

    member = io.BytesIO()
    np.save(member, np.arange(4.0))
    data = member.getvalue()
    header = data[: len(data) - 32].replace(b"(4,)", b"(9,)")  # claims 9 float64 values, holds 4
    path = str(tmp_path / "lie.npz")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header + data[-32:])
    message = data_error(path)
    assert message.startswith(f"{path}: array 'x' is corrupt: its header declares shape (9,) of float64 (")
    assert message.endswith("save the archive again")
    with pytest.raises(DataError, match="is corrupt"):
        iter_row_chunks(path, 2)


@pytest.mark.parametrize("chunk_rows", [1, 3, 10])
@pytest.mark.parametrize("order", ["C", "F"])
def test_npz_streams_as_read_whole(tmp_path, chunk_rows, order):
    array = np.asarray(np.arange(24.0).reshape(8, 3), order=order)
    path = write(tmp_path, "a.npz", _npz_bytes(x=array, y=np.arange(8)))
    for key, selectors in (("x", None), ("x", ["2", "0"]), ("y", None)):
        _, chunks = iter_row_chunks(path, chunk_rows, key=key, selectors=selectors)
        np.testing.assert_array_equal(
            np.concatenate(list(chunks)), select_columns(read_source(path, key=key), selectors)
        )


# --- Parquet ---------------------------------------------------------------------------


def write_parquet(tmp_path: Path, columns: dict) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "p.parquet")
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_numeric_columns(tmp_path):
    import pyarrow as pa

    path = write_parquet(
        tmp_path,
        {
            "pred": pa.array([0.5, 0.25, 0.75], pa.float32()),
            "label": pa.array([1, 0, 2], pa.int8()),
            "flag": pa.array([True, False, True]),
        },
    )
    source = read_source(path)
    assert source.columns == ["pred", "label", "flag"]
    assert source.array.dtype == np.float64  # floats are float64 here, whatever the file stores
    np.testing.assert_array_equal(select_columns(source, ["pred"]), [0.5, 0.25, 0.75])
    label = select_columns(source, ["label"])
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, [1, 0, 2])
    np.testing.assert_array_equal(select_columns(source, ["flag"]), [1, 0, 1])


def test_pq_extension_and_int_table(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "y.pq")
    pq.write_table(pa.table({"y": pa.array([3, 1], pa.int32())}), path)
    picked = select_columns(read_source(path), None)
    assert picked.dtype == np.int64
    np.testing.assert_array_equal(picked, [3, 1])


def test_parquet_non_numeric_and_null_columns(tmp_path):
    import pyarrow as pa

    path = write_parquet(
        tmp_path,
        {
            "name": pa.array(["a", "b"]),
            "score": pa.array([0.5, None]),
            "ok": pa.array([1.0, 2.0]),
        },
    )
    source = read_source(path)
    np.testing.assert_array_equal(select_columns(source, ["ok"]), [1.0, 2.0])
    assert selection_error(source, ["name"]) == (
        f"{path}: column 'name' holds string values, not numbers; convert it to numbers when writing the file, "
        "or choose numeric columns with --pred-col"
    )
    assert selection_error(source, ["score"]) == (
        f"{path}: row 2, column 'score': empty cell (null); fill it in or choose other columns with --pred-col"
    )


@pytest.mark.parametrize("chunk_rows", [None, 1, 2])
@pytest.mark.parametrize("index", ["filtered", "named"])
def test_pandas_index_of_a_parquet_file_is_left_out_with_a_note(tmp_path, index, chunk_rows):
    """df.to_parquet stores an index that is not a range as a column its metadata names; it is no data."""
    import pandas as pd

    frame = pd.DataFrame({"id": [7, 3, 9, 10], "p": [0.1, 0.5, 0.9, 0.2], "y": [0.0, 1.0, 1.0, 0.0]})
    frame = frame.iloc[[0, 2, 3]] if index == "filtered" else frame.set_index("id")
    stored = "__index_level_0__" if index == "filtered" else "id"
    path = str(tmp_path / "pandas.parquet")
    frame.to_parquet(path)
    want = pd.read_parquet(path)  # pandas reads the column back as the index
    if chunk_rows is None:
        source = read_source(path)
        got = select_columns(source, None)
    else:
        source, chunks = iter_row_chunks(path, chunk_rows)
        got = np.concatenate(list(chunks))
    assert source.columns == list(want.columns) == (["id", "p", "y"] if index == "filtered" else ["p", "y"])
    np.testing.assert_array_equal(got, want.to_numpy())
    note = f"{path}: column {stored!r} is pandas' index (as df.to_parquet writes it), not data: left out"
    assert source.notes == [note]


def test_default_pandas_index_leaves_every_column(tmp_path):
    import pandas as pd

    path = str(tmp_path / "plain.parquet")
    pd.DataFrame({"p": [0.1, 0.5], "y": [0.0, 1.0]}).to_parquet(path)
    source = read_source(path)
    assert source.columns == ["p", "y"] and source.notes == []


def test_parquet_of_pandas_index_only_holds_no_data(tmp_path):
    import pandas as pd

    path = str(tmp_path / "index.parquet")
    pd.DataFrame({"id": [5, 1, 3]}).set_index("id").to_parquet(path)
    assert data_error(path) == (
        f"{path}: the Parquet file holds no data (3 rows, 0 columns besides pandas' index 'id'); "
        "give a file with at least one row of numbers"
    )


@pytest.mark.parametrize(("columns", "counts"), [(1, "0 rows, 1 column"), (0, "0 rows, 0 columns")])
def test_parquet_without_rows_or_columns(tmp_path, columns, counts):
    import pyarrow as pa

    path = write_parquet(tmp_path, {"a": pa.array([], pa.float64())} if columns else {})
    message = f"{path}: the Parquet file holds no data ({counts})"
    assert data_error(path).startswith(message)
    with pytest.raises(DataError) as caught:
        iter_row_chunks(path, 2)
    assert str(caught.value).startswith(message)


def test_corrupt_parquet(tmp_path):
    path = write(tmp_path, "p.parquet", b"PAR1 this is not parquet")
    assert data_error(path).startswith(f"{path}: not a readable Parquet file")


def test_arrow_chunks_honour_their_offset():
    import pyarrow as pa

    from losscli.io.arrow import _numpy_chunks

    column = pa.chunked_array([pa.array([0.0, 1.0, 2.0, 3.0, 4.0]).slice(2), pa.array([5.0])])
    np.testing.assert_array_equal(np.concatenate(_numpy_chunks(column, "float")), [2.0, 3.0, 4.0, 5.0])


# --- files ---------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.csv")
    assert data_error(path) == f"{path}: no such file"


def test_directory(tmp_path):
    assert data_error(str(tmp_path)) == f"{tmp_path}: is a directory, not a file; give the path of a file inside it"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path, "p.csv", "1\n")
    os.chmod(path, 0)
    assert data_error(path) == f"{path}: cannot read (Permission denied)"


def test_unknown_extension(tmp_path):
    path = write(tmp_path, "p.xlsx", "1\n")
    assert data_error(path) == (
        f"{path}: unsupported file type '.xlsx'; "
        "use .csv, .tsv, .txt, .npy, .npz, .parquet (or .pq), or - for CSV on standard input"
    )


# --- column selection ---------------------------------------------------------------------------


@pytest.fixture
def table(tmp_path) -> Source:
    return read_source(write(tmp_path, "t.csv", "a,b,c,label\n1,2,3,0\n4,5,6,1\n"))


def test_select_by_name_index_and_negative_index(table):
    np.testing.assert_array_equal(select_columns(table, ["b"]), [2, 5])
    np.testing.assert_array_equal(select_columns(table, ["0"]), [1, 4])
    np.testing.assert_array_equal(select_columns(table, ["-1"]), [0, 1])
    picked = select_columns(table, ["c", "a"])
    assert picked.shape == (2, 2)
    np.testing.assert_array_equal(picked, [[3, 1], [6, 4]])


def test_exact_name_wins_over_index(tmp_path):
    source = read_source(write(tmp_path, "t.csv", "x,0\n1,2\n"))
    np.testing.assert_array_equal(select_columns(source, ["0"]), [2])
    np.testing.assert_array_equal(select_columns(source, ["1"]), [2])


def test_select_everything(table):
    assert select_columns(table, None).shape == (2, 4)


def test_exclude_gives_every_other_column(table):
    picked = select_columns(table, None, exclude=["label"])
    np.testing.assert_array_equal(picked, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(select_columns(table, None, exclude=["-1", "a", "b"]), [3, 6])
    assert resolve_columns(table, None, exclude=["label"]) == [0, 1, 2]


def test_explicit_selectors_ignore_exclude(table):
    np.testing.assert_array_equal(select_columns(table, ["label"], exclude=["label"]), [0, 1])


def test_excluding_every_column(tmp_path):
    source = read_source(write(tmp_path, "t.csv", "label\n1\n"))
    assert selection_error(source, None, exclude=["label"]) == (
        f"{source.name}: no column is left for --pred-col once 'label' is excluded; give the file more columns"
    )


def test_split_column_options():
    assert split_column_options(["a,b", "c"]) == ["a", "b", "c"]
    assert split_column_options(["a, b,", " c "]) == ["a", "b", "c"]
    assert split_column_options(None) is None
    assert split_column_options([]) is None


def test_comma_lists_select_in_order(table):
    np.testing.assert_array_equal(select_columns(table, split_column_options(["c,-4"])), [[3, 1], [6, 4]])


def test_unknown_column_name(table):
    assert selection_error(table, ["lable"], option="--label-col") == (
        f"{table.name}: no column 'lable'; the columns are 'a', 'b', 'c', 'label'; "
        "give --label-col one of these names or a 0-based index"
    )


def test_unknown_column_lists_only_the_first_twenty(tmp_path):
    header = ",".join(f"c{i}" for i in range(30))
    source = read_source(write(tmp_path, "t.csv", header + "\n" + ",".join("1" * 30) + "\n"))
    message = selection_error(source, ["zzz"])
    assert "'c19', ... (10 more)" in message
    assert "'c20'" not in message


def test_index_out_of_range(table):
    assert selection_error(table, ["4"]) == (
        f"{table.name}: column index 4 is out of range (4 columns; the columns are 'a', 'b', 'c', 'label'); "
        "give --pred-col an index from -4 to 3"
    )
    assert "column index -5 is out of range" in selection_error(table, ["-5"])


def test_empty_selection(table):
    assert selection_error(table, []) == (
        f"{table.name}: --pred-col names no column; give a column name or a 0-based index"
    )


def test_select_array_columns_by_index_only(tmp_path):
    path = str(tmp_path / "p.npy")
    np.save(path, np.arange(6).reshape(2, 3))
    source = read_source(path)
    np.testing.assert_array_equal(select_columns(source, ["-1"]), [2, 5])
    np.testing.assert_array_equal(select_columns(source, None, exclude=["1"]), [[0, 2], [3, 5]])
    assert selection_error(source, ["score"]) == (
        f"{path}: 'score' is not a column index, and an array has no column names; "
        "give --pred-col an index from -3 to 2"
    )
    assert selection_error(source, ["3"]) == (
        f"{path}: column index 3 is out of range (3 columns; the array has shape (2, 3)); "
        "give --pred-col an index from -3 to 2"
    )


def test_selecting_columns_of_1d_and_4d_arrays(tmp_path):
    flat, deep = str(tmp_path / "flat.npy"), str(tmp_path / "deep.npy")
    np.save(flat, np.zeros(3))
    np.save(deep, np.zeros((2, 3, 4, 5)))
    assert selection_error(read_source(flat), ["0"], option="--label-col") == (
        f"{flat}: a 1-D array of shape (3,) has no columns to pick with --label-col; drop --label-col"
    )
    assert selection_error(read_source(deep), ["0"]) == (
        f"{deep}: --pred-col picks columns of 2-D data, but the array has shape (2, 3, 4, 5); drop --pred-col"
    )


# --- cells as written, for error messages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "row", "column", "written"),
    [
        ("a.csv", "# c\nid,y\n\na, 99999999999999999999 \nb,3.5e38\n", 1, "y", "3.5e38"),
        ("a.csv", "id,y\na,1\nb,\"1e400\"\n", 1, "y", "1e400"),
        ("a.tsv", "1\t16777219\n2\t2\n", 0, "1", "16777219"),
        ("a.txt", "  1   2\n\t3 \t 99999999999999999999\n", 1, "1", "99999999999999999999"),
        ("a.csv", "y\r\n1\r\n2e400\r\n", 1, "y", "2e400"),
        ("a.csv", "y\n1\n", 5, "y", None),  # no such row
        ("a.csv", "y\n1\n", 0, "z", None),  # no such column
        ("a.npy", None, 0, "0", None),  # not text
    ],
)
def test_cell_as_written(tmp_path, name, content, row, column, written):
    path = str(tmp_path / name)
    if content is None:
        np.save(path, np.zeros(2))
    else:
        write(tmp_path, name, content)
    assert cell_as_written(path, row, column) == written
    assert cell_as_written("<stdin>", row, column) is None


# --- start-up ---------------------------------------------------------------------------


def test_loading_imports_neither_pandas_nor_torch(tmp_path):
    """Importing the module, and reading every form, leaves pandas and torch unimported."""
    csv_path = write(tmp_path, "p.csv", "id,pred,label\nx,0.5,1\ny,,0\n")
    npz_path = str(tmp_path / "p.npz")
    np.savez(npz_path, x=np.zeros(3))
    parquet_path = write_parquet(tmp_path, {"a": np.array([1.0, 2.0]), "s": np.array(["u", "v"])})
    code = textwrap.dedent(
        f"""
        import sys
        import losscli.io.loading as loading
        from losscli.errors import DataError
        assert "pandas" not in sys.modules and "torch" not in sys.modules, "import"
        csv = loading.read_source({csv_path!r})
        loading.select_columns(csv, ["label"])
        for selector in ("id", "pred"):
            try:
                loading.select_columns(csv, [selector])
            except DataError:
                pass
        loading.read_source({npz_path!r})
        loading.select_columns(loading.read_source({parquet_path!r}), ["a"])
        print(sorted(name for name in ("pandas", "torch") if name in sys.modules))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- streamed text: pieces of whole lines, each parsed by every core ----------------------------


def test_streamed_bad_cell_in_a_later_piece_names_its_row_and_line(monkeypatch, write_file):
    """The piece holding the bad cell is read again as a whole read reads a file: the same message."""
    from losscli.io import loading, textchunks

    monkeypatch.setattr(textchunks, "_PIECE_BYTES", 8)
    path = write_file("p.csv", b"a\n1\n2\n\n3\n4\n5\nx\n7\n")
    _, chunks = loading.iter_row_chunks(path, 2)
    with pytest.raises(DataError) as streamed:
        list(chunks)
    with pytest.raises(DataError) as whole:
        select_columns(read_source(path), None)
    assert str(streamed.value) == str(whole.value)
    assert "row 6 (line 8), column 'a': cannot read 'x' as a number" in str(streamed.value)
