"""Reading inputs a chunk of rows at a time (issue 7): ``loading.iter_row_chunks``,
``inputs.stream_inputs``, ``chunked.stream`` and ``compute --chunk-size``.

The streamed result must be the in-memory one: the same arrays out of the
files, the same value (to 1e-6 relative), the same gradient (identical in
float64, within float32 rounding in float32), the same errors with the file's
row numbers. Memory must not grow with the number of rows (the subprocess test
at the end, run only with ``LOSSCLI_SLOW=1``).
"""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import losscli.api
import losscli.cli
import losscli.engine.chunked
from losscli import render
from losscli.advice.advisor import find_mistakes
from losscli.engine.chunked import GradientSum, stream
from losscli.engine.validate import Input
from losscli.errors import DataError
from losscli.io import textchunks
from losscli.io.loading import iter_row_chunks, read_source, rechunk, select_columns
from losscli.io.spill import SpilledArray
from losscli.registry import get_loss

N = 23  # rows of the generated files: prime, so no chunk size below divides it
CHUNK_SIZES = (1, 3, 7, N + 5)
F32_RTOL = 4e-7  # a few float32 ulps: the mean's 1/N applied before or after the sum
RNG = np.random.default_rng(7)
TABLE = np.column_stack([RNG.normal(size=N).round(4), RNG.integers(0, 5, N), RNG.normal(size=N).round(3)])


def streamed(path: str, chunk_rows: int, **options) -> tuple[np.ndarray, list[int]]:
    """The chunks of ``iter_row_chunks`` joined, and their lengths."""
    _, chunks = iter_row_chunks(path, chunk_rows, **options)
    parts = list(chunks)
    return np.concatenate(parts), [len(p) for p in parts]


def whole(path: str, selectors=None, exclude=(), **read) -> np.ndarray:
    return select_columns(read_source(path, **read), selectors, exclude=exclude)


def expected_lengths(n: int, chunk_rows: int) -> list[int]:
    return [min(chunk_rows, n - start) for start in range(0, n, chunk_rows)]


def assert_same_array(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


# --- iter_row_chunks: the same arrays as reading whole -------------------------------------------


def _text(rows: np.ndarray, delimiter: str, header: list[str] | None) -> str:
    lines = [delimiter.join(header)] if header else []
    lines += [delimiter.join(f"{v:g}" for v in np.atleast_1d(row)) for row in rows]
    return "\n".join(lines) + "\n"


SELECTIONS = [
    pytest.param({}, id="all"),
    pytest.param({"selectors": ["b"]}, id="name"),
    pytest.param({"selectors": ["c", "a"]}, id="names-reordered"),
    pytest.param({"selectors": ["0", "-1"]}, id="indices"),
    pytest.param({"exclude": ["b"]}, id="exclude"),
]


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize(
    "name, delimiter, header",
    [("h.csv", ",", True), ("n.csv", ",", False), ("h.tsv", "\t", True), ("n.tsv", "\t", False)],
)
def test_text_tables_stream_as_read_whole(write_file, name, delimiter, header, selection, chunk_rows):
    path = write_file(name, _text(TABLE, delimiter, ["a", "b", "c"] if header else None))
    if not header:  # no names: the columns are "0", "1", "2"
        renamed = {"a": "0", "b": "1", "c": "2"}
        selection = {k: [renamed.get(s, s) for s in v] for k, v in selection.items()}
    got, lengths = streamed(path, chunk_rows, **selection)
    assert_same_array(got, whole(path, **selection))
    assert lengths == expected_lengths(N, chunk_rows)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_of_streamed_csv(write_file, dtype):
    path = write_file("a.csv", _text(TABLE, ",", ["a", "b", "c"]))
    _, chunks = iter_row_chunks(path, 5, selectors=["a"], float_dtype=dtype)
    parts = list(chunks)
    assert {p.dtype for p in parts} == {np.dtype(dtype)}
    np.testing.assert_array_equal(np.concatenate(parts), whole(path, ["a"], float_dtype=dtype))


def test_unselected_text_column_is_not_parsed(write_file):
    """An id column nobody asked for may hold text, as when the file is read whole."""
    path = write_file("ids.csv", "id,x\n" + "".join(f"row{i},{i / 4}\n" for i in range(N)))
    got, _ = streamed(path, 4, selectors=["x"])
    assert_same_array(got, whole(path, ["x"]))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"a,b\r\n1,2\r\n3,4\r\n5,6\r\n", id="crlf"),
        pytest.param(b"a,b\n1,2\n\n3,4\n5,6\n", id="blank-line"),
        pytest.param(b"\xef\xbb\xbfa,b\n1,2\n3,4\n5,6\n", id="bom"),
        pytest.param(b"\xef\xbb\xbf# a comment\na,b\n1,2\n3,4\n5,6\n", id="bom-then-comment"),
        pytest.param(b"# a comment\n\na,b\n1,2\n# between\n3,4\n5,6\n# the end", id="comments"),
        pytest.param(b"a,b\r1,2\r3,4\r5,6\r", id="lone-cr"),
        pytest.param(b"a,b\n1,2\n3,4\n5,6", id="no-final-newline"),
        pytest.param(b'"a","b"\n"1","2"\n3,4\n5,6\n', id="quoted"),
        pytest.param(b"a,b\n1e3,inf\n3,4\n5,-6E-2\n", id="exponents-inf"),
        pytest.param(b"a,b\n1,2\n   \n3,4\n5,6\n", id="line-of-spaces"),
        pytest.param(b"a,b\r\n1,2\r\n \t \r\n3,4\r\n5,6\r\n  ", id="crlf-lines-of-spaces"),
        pytest.param(b"a\n1\n \n2\n\t\n3\n", id="one-column-lines-of-spaces"),
    ],
)
@pytest.mark.parametrize("piece_bytes", [1, 5, 13, 4 << 20], ids=lambda n: f"pieces-of-{n}")
def test_text_variants_stream_as_read_whole(monkeypatch, write_file, content, piece_bytes):
    """However the bytes are cut into pieces for the parser, lines stay whole."""
    monkeypatch.setattr(textchunks, "_PIECE_BYTES", piece_bytes)
    path = write_file("v.csv", content)
    for chunk_rows in (1, 2, 10):
        got, _ = streamed(path, chunk_rows)
        assert_same_array(got, whole(path))


def test_many_blocks_of_the_csv_reader_rechunk_exactly(write_file):
    """Past the reader's 1 MiB block the blocks are re-cut into chunks of exactly N rows."""
    n = 150_000
    values = np.arange(n) / 8
    path = write_file("big.csv", "x\n" + "\n".join(map(str, values)) + "\n")
    assert os.path.getsize(path) > 1 << 20
    got, lengths = streamed(path, 40_000)
    assert lengths == [40_000, 40_000, 40_000, 30_000]
    np.testing.assert_array_equal(got, values)


def test_lines_of_spaces_past_the_first_block(write_file):
    """The reader meets the line of spaces after rows it has given: it reads again from there, none twice."""
    n = 150_000
    values = np.arange(n) / 8
    lines = [f"{v},{-v}" for v in values]
    lines.insert(140_000, "   ")
    path = write_file("late.csv", "a,b\n" + "\n".join(lines) + "\n")
    got, lengths = streamed(path, 40_000)
    assert lengths == [40_000, 40_000, 40_000, 30_000]
    assert_same_array(got, whole(path))


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
def test_npy_streams_copies_of_the_memory_map(write_file, chunk_rows):
    array = RNG.normal(size=(N, 3)).astype(np.float32)
    path = write_file("a.npy", array)
    _, chunks = iter_row_chunks(path, chunk_rows)
    parts = list(chunks)
    # copies, so that the map's pages can be let go after each chunk (they would stay in the resident set)
    assert all(p.flags.owndata and not isinstance(p, np.memmap) for p in parts)
    assert [len(p) for p in parts] == expected_lengths(N, chunk_rows)
    assert_same_array(np.concatenate(parts), whole(path))
    got, _ = streamed(path, chunk_rows, selectors=["-1"])
    assert_same_array(got, whole(path, ["-1"]))


def test_npy_of_more_dimensions_streams_along_rows(write_file):
    array = RNG.normal(size=(N, 2, 3))
    path = write_file("a.npy", array)
    got, lengths = streamed(path, 4)
    assert_same_array(got, array)
    assert lengths == expected_lengths(N, 4)


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
@pytest.mark.parametrize("selection", SELECTIONS)
def test_parquet_streams_across_row_groups(tmp_path, selection, chunk_rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "a.parquet")
    table = pa.table({"a": TABLE[:, 0], "b": TABLE[:, 1].astype(np.int64), "c": TABLE[:, 2].astype(np.float32)})
    pq.write_table(table, path, row_group_size=5)  # row groups of 5 rows, chunks of another size
    got, lengths = streamed(path, chunk_rows, **selection)
    assert_same_array(got, whole(path, **selection))
    assert lengths == expected_lengths(N, chunk_rows)


def test_parquet_null_is_a_data_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = str(tmp_path / "null.parquet")
    pq.write_table(pa.table({"a": pa.array([1.0, None, 3.0])}), path)
    with pytest.raises(DataError, match="null.parquet"):
        streamed(path, 2)


@pytest.mark.parametrize("chunk_rows", (1, 4, N + 5))
def test_fallbacks_read_whole_then_slice(write_file, chunk_rows):
    commented = write_file("c.csv", "# a comment\n" + _text(TABLE, ",", ["a", "b", "c"]) + "# the end\n")
    spaced = write_file("w.txt", _text(TABLE, "   ", None))
    archive = write_file("z.npz", {"x": TABLE, "y": TABLE[:, 1]})
    for path, options, read in [
        (commented, {"selectors": ["c"]}, {}),
        (commented, {}, {}),
        (spaced, {"exclude": ["1"]}, {}),
        (archive, {"key": "x"}, {"key": "x"}),
        (archive, {"key": "y", "key_option": "--label-key"}, {"key": "y"}),
    ]:
        got, lengths = streamed(path, chunk_rows, **options)
        selection = {k: v for k, v in options.items() if k in ("selectors", "exclude")}
        assert_same_array(got, whole(path, **selection, **read))
        assert lengths == expected_lengths(N, chunk_rows), path


def test_rechunk_cuts_blocks_of_any_size_exactly():
    blocks = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 6), np.arange(6, 15), np.arange(15, 17)]
    chunks = list(rechunk(iter(blocks), 4))
    assert [len(c) for c in chunks] == [4, 4, 4, 4, 1]
    np.testing.assert_array_equal(np.concatenate(chunks), np.arange(17))
    assert list(rechunk(iter([]), 3)) == []


# --- problems in streamed files ---------------------------------------------------------------


def _bad_cell_file(write_file, late: bool) -> str:
    """A bad cell in the reader's first block, or past its first 1 MiB."""
    rows = 150_000 if late else 3
    return write_file("bad.csv", "x\n" + "".join(f"{i / 8}\n" for i in range(rows)) + "abc\n1\n")


def test_bad_cell_past_the_first_block_is_a_data_error(write_file):
    with pytest.raises(DataError, match="bad.csv"):
        streamed(_bad_cell_file(write_file, late=True), 10_000)


def test_bad_cell_in_the_first_block_is_a_data_error(write_file):
    with pytest.raises(DataError, match="bad.csv"):
        streamed(_bad_cell_file(write_file, late=False), 2)


@pytest.mark.parametrize(
    "late",
    [
        pytest.param(True, id="past-first-block"),
        pytest.param(False, id="first-block"),
    ],
)
def test_bad_cell_through_the_cli(expect_error, write_file, late):
    pred = _bad_cell_file(write_file, late)
    rows = 150_000 + 2 if late else 5
    labels = write_file("y.csv", "y\n" + "1\n" * rows)
    expect_error(["compute", "mse", pred, labels, "--chunk-size", "50000" if late else "2"], 3, "bad.csv")


def test_empty_cell_is_a_data_error(write_file, expect_error):
    path = write_file("gap.csv", "x,y\n1,2\n2,\n3,4\n4,5\n")
    with pytest.raises(DataError, match="gap.csv.*empty cell"):
        streamed(path, 2, selectors=["y"])
    expect_error(["compute", "mse", path, "--label-col", "y", "--chunk-size", "2"], 3, "gap.csv", "empty cell")


def test_nan_cell_is_not_called_empty(write_file, expect_error):
    pred, labels = write_file("nan.csv", "x\n1\n2\nnan\n4\n"), write_file("y.csv", "y\n1\n2\n3\n4\n")
    whole_line = expect_error(["compute", "mse", pred, labels], 3, "nan.csv", "NaN", "row 3")
    line = expect_error(["compute", "mse", pred, labels, "--chunk-size", "2"], 3, "nan.csv")
    assert "empty cell" not in line and "NaN" in line, (line, whole_line)


def test_float32_cells_are_quoted_as_written(expect_error):
    root = Path(__file__).resolve().parent.parent / "sample_data"
    args = ["compute", "bce", root / "binary_logits.csv", root / "binary_labels.csv"]
    expect_error(args, 3, "row 1 (line 2), column 'logit': -0.659 is outside [0, 1]")


# --- compute --chunk-size equals the in-memory computation ---------------------------------------------


@pytest.fixture
def data(write_file):
    """Generated input files of N rows, by purpose."""
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(N, 4)).round(4)
    classes = rng.integers(0, 4, N)
    probs = rng.dirichlet(np.ones(4), N).round(6)
    probs /= probs.sum(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    x, y = rng.normal(size=N).round(4) * 3, rng.normal(size=N).round(4) * 3
    files = {
        "x": write_file("x.csv", _text(x[:, None], ",", ["x"])),
        "y": write_file("y.csv", _text(y[:, None], ",", ["y"])),
        "xy": write_file("xy.csv", _text(np.column_stack([x, y]), ",", ["pred", "y"])),
        "var": write_file("var.csv", _text(rng.uniform(0.2, 2, (N, 1)).round(4), ",", ["var"])),
        "binary": write_file("binary.csv", _text(rng.integers(0, 2, (N, 1)), ",", ["y"])),
        "logits": write_file("logits.csv", _text(logits, ",", ["c0", "c1", "c2", "c3"])),
        "classes": write_file("classes.txt", _text(classes[:, None], ",", None)),
        "log_probs": write_file("log_probs.csv", _text(log_probs, ",", None)),
        "probs": write_file("probs.csv", _text(probs, ",", None)),
        "quantiles": write_file("q.csv", _text(x[:, None] + np.array([-1.0, 0.0, 1.0]), ",", ["q1", "q5", "q9"])),
        "x_parquet": write_file("x.parquet", {"x": x}),
        "y_parquet": write_file("y.parquet", {"y": y}),
        "logits_npy": write_file("logits.npy", logits.astype(np.float32)),
        "classes_npy": write_file("classes.npy", classes),
    }
    return {k: str(v) for k, v in files.items()}


CASES = [
    pytest.param("mse", ["x", "y"], [], id="mse"),
    pytest.param("l1", ["x", "y"], [], id="l1"),
    pytest.param("bce_with_logits", ["x", "binary"], [], id="bce_with_logits"),
    pytest.param("cross_entropy", ["logits", "classes"], [], id="cross_entropy"),
    pytest.param("cross_entropy", ["logits", "classes"], ["-p", "weight=[1,2,0.5,1.5]"], id="ce-weight"),
    pytest.param("cross_entropy", ["logits", "classes"], ["-p", "ignore_index=2"], id="ce-ignore"),
    pytest.param(
        "cross_entropy",
        ["logits", "classes"],
        ["-p", "weight=[1,2,0.5,1.5]", "-p", "ignore_index=1"],
        id="ce-weight-ignore",
    ),
    pytest.param("kl_div", ["log_probs", "probs"], ["--reduction", "batchmean"], id="kl_div-batchmean"),
    pytest.param("pinball", ["quantiles", "y"], ["-p", "quantile=[0.1,0.5,0.9]"], id="pinball-3q"),
    pytest.param("smooth_l1", ["x", "y"], ["--reduction", "none"], id="smooth_l1-none"),
    pytest.param("smooth_l1", ["x", "y"], ["--reduction", "sum"], id="smooth_l1-sum"),
    pytest.param("mse", ["xy"], ["--label-col", "y"], id="single-file"),
    pytest.param("gaussian_nll", ["x", "y"], ["--input", "var={var}"], id="gaussian_nll-var"),
    pytest.param("mse", ["x_parquet", "y_parquet"], [], id="parquet"),
    pytest.param("cross_entropy", ["logits_npy", "classes_npy"], [], id="npy"),
]


def assert_same_result(chunked: dict, whole: dict, dtype: str) -> None:
    """JSON results of ``compute``: everything equal (the warnings too), the value to 1e-6, the gradients to
    float rounding."""
    rtol = F32_RTOL if dtype == "float32" else 1e-12
    for key in whole:
        if key not in ("value", "values", "gradients"):
            assert chunked[key] == whole[key], key
    if whole["value"] is None:
        assert chunked["value"] is None
    else:
        assert chunked["value"] == pytest.approx(whole["value"], rel=1e-6)
    if whole["values"] is not None:
        np.testing.assert_allclose(chunked["values"], whole["values"], rtol=rtol, atol=0)
    assert chunked["gradients"].keys() == whole["gradients"].keys()
    for name, want in whole["gradients"].items():
        got = chunked["gradients"][name]
        assert got["shape"] == want["shape"]
        np.testing.assert_allclose(got["values"], want["values"], rtol=rtol, atol=1e-12, err_msg=name)
        for stat in ("norm", "mean", "min", "max"):
            assert got[stat] == pytest.approx(want[stat], rel=1e-6, abs=1e-12), (name, stat)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss, files, options", CASES)
def test_chunk_size_equals_in_memory(invoke_json, data, loss, files, options, dtype):
    args = ["compute", loss, *(data[f] for f in files), *(o.format(**data) for o in options), "--dtype", dtype]
    expected = invoke_json(args)
    assert expected["n_samples"] == N
    for chunk_rows in (1, 4, N + 1):
        assert_same_result(invoke_json([*args, "--chunk-size", chunk_rows]), expected, dtype)


@pytest.mark.parametrize(
    "loss, files", [("cross_entropy", ["logits", "classes"]), ("bce_with_logits", ["x", "binary"])]
)
def test_advisor_warnings_see_every_row(invoke_json, data, loss, files):
    args = ["compute", loss, *(data[f] for f in files)]
    expected = invoke_json(args)["warnings"]
    assert invoke_json([*args, "--chunk-size", "1"])["warnings"] == expected


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grad_out_with_chunk_size_equals_in_memory(invoke, data, tmp_path, dtype):
    for loss, files in [("mse", ["x", "y"]), ("cross_entropy", ["logits", "classes"])]:
        outputs = []
        for name, extra in [("whole", []), ("chunked", ["--chunk-size", "4"])]:
            target = tmp_path / f"{loss}-{name}.npy"
            result = invoke(
                ["compute", loss, *(data[f] for f in files), "--dtype", dtype, "--grad-out", target, *extra]
            )
            assert result.exit_code == 0, result.stderr
            outputs.append(np.load(target))
        got, want = outputs[1], outputs[0]
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=F32_RTOL if dtype == "float32" else 1e-12, atol=1e-12)


def test_table_output_with_chunk_size(invoke, data):
    args = ["compute", "mse", data["x"], data["y"], "--rows", "3"]
    table, chunked = invoke(args), invoke([*args, "--chunk-size", "5"])
    assert chunked.exit_code == 0 and chunked.stderr == ""
    assert chunked.stdout == table.stdout


def test_gaussian_nll_shared_variance_streams(invoke_json, data, write_file):
    shared = write_file("var1.csv", "var\n0.5\n")
    args = ["compute", "gaussian_nll", data["x"], data["y"], "--input", f"var={shared}"]
    assert_same_result(invoke_json([*args, "--chunk-size", "4"]), invoke_json(args), "float32")


def test_zero_dimensional_npy_with_chunk_size(expect_error, write_file):
    pred, target = write_file("one.npy", np.array([1.0, 2.0, 0.5])), write_file("t.npy", np.array(1))
    expect_error(["compute", "cross_entropy", pred, target], 3, "one.npy")
    expect_error(["compute", "cross_entropy", pred, target, "--chunk-size", "2"], 3, "one.npy")


def test_per_row_tensor_parameter_of_a_1d_input(invoke_json, write_file):
    pred = write_file("p.csv", "x\n0.5\n-1\n2\n0.1\n")
    labels = write_file("l.csv", "y\n0\n1\n1\n0\n")
    args = ["compute", "bce_with_logits", pred, labels, "-p", "pos_weight=[1,2,3,4]"]
    assert_same_result(invoke_json([*args, "--chunk-size", "2"]), invoke_json(args), "float32")


@pytest.mark.parametrize("chunk_rows", (1, 4, N + 1))
def test_a_1d_input_of_a_per_row_loss_is_one_sample(invoke_json, data, write_file, chunk_rows):
    """A per-row loss reads a 1-D input as one sample (one ranked list, one box): streamed, it is joined whole,
    as computed in memory, not scored a chunk per sample."""
    relevance = write_file("relevance.csv", _text(np.arange(N)[:, None] % 3, ",", ["r"]))
    box, true_box = write_file("box.csv", "b\n1\n2\n4\n5\n"), write_file("true.csv", "b\n1.5\n2\n4.5\n6\n")
    for args in (["compute", "ranking_softmax", data["x"], relevance], ["compute", "giou", box, true_box]):
        expected = invoke_json(args)
        assert expected["n_samples"] == (N if "ranking_softmax" in args else 1)
        assert_same_result(invoke_json([*args, "--chunk-size", chunk_rows]), expected, "float32")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("form", ["row", "0-d"])
def test_shared_input_comes_with_every_chunk(invoke_json, data, write_file, form, reduction, dtype):
    """A variance of one row, or a 0-d one, is broadcast over every chunk; its gradient sums the chunks'."""
    shared = write_file("var1.csv", "var\n0.5\n") if form == "row" else write_file("var0.npy", np.array(0.7))
    args = ["compute", "gaussian_nll", data["x"], data["y"], "--input", f"var={shared}"]
    args += ["--reduction", reduction, "--dtype", dtype]
    expected = invoke_json(args)
    assert expected["gradients"]["var"]["shape"] == ([1] if form == "row" else [])
    for chunk_rows in (1, 4, N + 1):
        assert_same_result(invoke_json([*args, "--chunk-size", chunk_rows]), expected, dtype)


def test_shared_row_the_loss_refuses_is_an_error(expect_error, data, write_file):
    """One label for many predictions is mse's shape error, even in chunks of one row, where the shapes would agree."""
    one = write_file("one.csv", "y\n0.5\n")
    args = ["compute", "mse", data["x"], one]
    expect_error(args, 3, "one.csv", "mse needs the same shape")
    for chunk_rows in ("1", "4"):
        expect_error([*args, "--chunk-size", chunk_rows], 3, "one.csv", "mse needs the same shape")


def test_inputs_of_a_single_value_stream(invoke_json, write_file):
    pred, target = write_file("p.npy", np.array(1.5)), write_file("t.npy", np.array(0.25))
    args = ["compute", "mse", pred, target]
    assert_same_result(invoke_json([*args, "--chunk-size", "1"]), invoke_json(args), "float32")


@pytest.mark.parametrize("chunk_rows", (1, 3, N + 1))
def test_per_row_tensor_parameters_of_any_chunk_size(invoke_json, data, chunk_rows):
    weights = json.dumps(np.random.default_rng(5).uniform(0.5, 2, N).round(2).tolist(), separators=(",", ":"))
    args = ["compute", "bce_with_logits", data["x"], data["binary"], "-p", f"pos_weight={weights}", "-p", "weight=[2]"]
    assert_same_result(invoke_json([*args, "--chunk-size", chunk_rows]), invoke_json(args), "float32")


def test_per_row_tensor_parameter_too_short_names_the_rows(expect_error, data):
    args = ["compute", "bce_with_logits", data["x"], data["binary"], "-p", "pos_weight=[1,2,3]"]
    expect_error(args, 2, "pos_weight has 3 values")
    for chunk_rows in ("1", "2", "50"):
        expect_error([*args, "--chunk-size", chunk_rows], 2, "pos_weight has 3 values", "x.csv", f"{N} rows")


@pytest.mark.parametrize(
    "loss, files, param",
    [
        ("bce_with_logits", ["x", "binary"], f"pos_weight={list(range(1, N + 3))}"),  # more values than rows
        ("pinball", ["x", "y"], "quantile=[0.1,0.5,0.9]"),  # quantiles go by column, not by row
    ],
)
def test_tensor_parameter_a_1d_input_refuses_is_the_same_error(expect_error, data, loss, files, param):
    args = ["compute", loss, *(data[f] for f in files), "-p", param.replace(" ", "")]
    whole_line = expect_error(args, 2, param.split("=")[0])
    for chunk_rows in ("1", "2", "50"):
        assert expect_error([*args, "--chunk-size", chunk_rows], 2) == whole_line


# --- the advisor's warnings: every row, as in memory ----------------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mistake_cases() -> list:
    """(loss, predictions, labels, options, a fragment of the warning in memory or None, whether the first 3 rows
    alone would warn otherwise) for each of the advisor's checks a streamed loss can fail."""
    rng = np.random.default_rng(21)
    logits = rng.normal(0, 2, (N, 4)).round(3)
    probs = _softmax(logits)
    log_probs = np.log(probs)
    classes = rng.permutation(np.arange(N) % 4)  # balanced
    onehot = np.eye(4, dtype=np.int64)[classes]
    x = rng.normal(0, 2, N).round(3)
    bits = np.arange(N) % 2
    probs_then_logits = probs.copy()
    probs_then_logits[-3:] = logits[-3:] * 10
    ragged = probs.copy()
    ragged[-1] *= 0.5  # still in [0, 1], but that row no longer sums to 1
    shifted = log_probs.copy()
    shifted[-1] -= 1.0  # still <= 0, but exp of that row sums to 1/e
    sigmoid_then_logits = 1 / (1 + np.exp(-x))
    sigmoid_then_logits[-3:] = [-4.0, 3.5, 5.0]
    two_ones = onehot.copy()
    two_ones[-1] = [0, 1, 1, 0]
    ignored = np.full(N, -100)
    ignored_until_late = ignored.copy()
    ignored_until_late[-2:] = [0, 1]
    from_one = classes % 3 + 1
    zero_late = from_one.copy()
    zero_late[-3:] = 0
    rare = np.zeros(N, dtype=np.int64)
    rare[-1] = 1
    late_rare = np.r_[[0, 1, 0, 1], np.zeros(N - 4, dtype=np.int64)]  # 21 negatives to 2 positives: 10.5:1
    balanced_late = np.r_[np.zeros(8, dtype=np.int64), np.arange(N - 8) % 2 ^ 1]
    rare_class = np.r_[[0, 1, 2, 3], np.zeros(N - 4, dtype=np.int64)]
    rare_column = np.column_stack([bits, 1 - bits, np.r_[np.zeros(N - 1, dtype=np.int64), 1]])
    batchmean = ["--reduction", "batchmean"]
    return [
        pytest.param("cross_entropy", probs, classes, [], "softmax probabilities", False, id="softmax-to-ce"),
        pytest.param("cross_entropy", ragged, classes, [], "probabilities (all in [0, 1])", True, id="one-row-off-1"),
        pytest.param("cross_entropy", probs_then_logits, classes, [], None, True, id="logits-late"),
        pytest.param("bce_with_logits", 1 / (1 + np.exp(-x)), bits, [], "double sigmoid", False, id="sigmoid-to-bcel"),
        pytest.param("bce_with_logits", sigmoid_then_logits, bits, [], None, True, id="sigmoid-then-logits"),
        pytest.param("nll", probs, classes, [], "nll wants log-probabilities", False, id="probs-to-nll"),
        pytest.param("nll", shifted, classes, [], "not log-probabilities", True, id="log-probs-off-late"),
        pytest.param("kl_div", probs, _softmax(x[:, None] * logits), batchmean, "kl_div wants", False, id="kl-probs"),
        pytest.param("kl_div", log_probs, probs, [], "pass --reduction batchmean", False, id="kl-mean"),
        # one quantile column against flat labels is pinball's own layout, not torch broadcasting
        pytest.param("pinball", x[:, None], x + 1, [], None, False, id="quantile-column-vs-flat"),
        pytest.param("multilabel_margin", logits, onehot, [], "one-hot rows", False, id="onehot-for-indices"),
        pytest.param("multilabel_margin", logits, two_ones, [], None, True, id="onehot-until-late"),
        pytest.param("cross_entropy", logits, onehot, ["-p", "weight=[1,2,1,1]"], "-p weight", False, id="onehot-w"),
        pytest.param("cross_entropy", logits, ignored, [], "every label equals ignore_index", False, id="ignored"),
        pytest.param("cross_entropy", logits, ignored_until_late, [], None, True, id="ignored-until-late"),
        pytest.param("cross_entropy", logits, from_one, [], "no label is 0 (they run 1..3)", False, id="from-one"),
        pytest.param("cross_entropy", logits, zero_late, [], None, True, id="zero-late"),
        pytest.param("bce_with_logits", x, rare, [], "positives are 0.04348", False, id="rare-positive"),
        pytest.param("bce_with_logits", x, late_rare, [], "-p pos_weight=[10.5]", True, id="rare-after-first-rows"),
        pytest.param("bce_with_logits", x, balanced_late, [], None, True, id="balanced-after-first-rows"),
        pytest.param("cross_entropy", logits, rare_class, [], "outnumbers the smallest 20:1", True, id="rare-class"),
        pytest.param("cross_entropy", logits, np.eye(4)[rare_class], [], "-p weight=[", True, id="rare-onehot"),
        pytest.param(
            "bce_with_logits", logits[:, :3], rare_column, [], "pos_weight=[1.091,0.9167,22]", True, id="rare-column"
        ),
    ]


@pytest.mark.parametrize("loss, pred, labels, options, warning, first_rows_differ", _mistake_cases())
def test_streamed_warnings_are_those_of_every_row(
    invoke_json, write_file, loss, pred, labels, options, warning, first_rows_differ
):
    """Each of the advisor's checks, streamed in chunks of 1, 3, 7 and more rows than the file: the warnings
    of the whole arrays, word for word, including where the first rows alone would warn or stay silent wrongly."""
    paths = [
        write_file(f"{name}.npy", a)
        if a.ndim == 2 and a.shape[1] == 1
        else write_file(f"{name}.csv", _text(a, ",", None))
        for name, a in (("p", pred), ("y", labels))
    ]
    args = ["compute", loss, *paths, *options]
    expected = invoke_json(args)["warnings"]
    advice = [w for w in expected if not w.startswith("the loss is ")]  # not the advisor's: a NaN value
    assert advice == [] if warning is None else any(warning in w for w in advice), expected
    if first_rows_differ:
        spec = get_loss(loss)
        assert find_mistakes(spec, pred[:3], labels[:3], {}, spec.default_reduction) != advice
    for chunk_rows in CHUNK_SIZES:
        assert invoke_json([*args, "--chunk-size", chunk_rows])["warnings"] == expected, chunk_rows


def test_streamed_run_warns_of_a_class_imbalance(invoke_json, write_file):
    labels = write_file("rare.csv", "y\n" + "".join("1\n" if i == 5 else "0\n" for i in range(N)))
    pred = write_file("logits.csv", _text(np.random.default_rng(9).normal(size=(N, 1)).round(3), ",", ["x"]))
    args = ["compute", "bce_with_logits", pred, labels]
    expected = invoke_json(args)["warnings"]
    assert any("imbalance" in warning for warning in expected)
    assert invoke_json([*args, "--chunk-size", "4"])["warnings"] == expected


# --- errors ---------------------------------------------------------------------------------------------


def test_different_row_counts_name_the_row(expect_error, write_file):
    long = write_file("long.csv", "x\n" + "".join(f"{i}\n" for i in range(12)))
    short = write_file("short.csv", "y\n" + "".join(f"{i}\n" for i in range(9)))
    for chunk_rows in ("4", "5", "100"):
        line = expect_error(["compute", "mse", long, short, "--chunk-size", chunk_rows], 3, "short.csv", "long.csv")
        assert "row 9" in line and "different numbers of rows" in line, line


def test_validation_error_in_a_later_chunk_names_the_files_row(expect_error, write_file):
    logits = write_file("logits.csv", _text(RNG.normal(size=(12, 3)).round(3), ",", ["a", "b", "c"]))
    classes = [0, 1, 2, 0, 1, 2, 0, 1, 5, 0, 1, 2]
    labels = write_file("labels.csv", "y\n" + "".join(f"{c}\n" for c in classes))
    args = ["compute", "cross_entropy", logits, labels]
    whole_line = expect_error(args, 3, "labels.csv", "row 9", "class index 5")
    line = expect_error([*args, "--chunk-size", "4"], 3, "labels.csv", "row 9", "class index 5")
    assert line == whole_line
    assert "row 1," not in line  # the chunk's own row


@pytest.mark.parametrize(
    "loss, files, options, fragment",
    [
        pytest.param("cross_entropy", ["x", "classes"], [], "x.csv has input of shape (23,);", id="1-D-scores"),
        pytest.param("mse", ["x", "logits"], [], "has target of shape (23, 4)", id="same"),
        pytest.param("nll", ["log_probs", "onehot"], [], "one-hot rows of shape (23, 4)", id="onehot-for-indices"),
        pytest.param("generalized_kl", ["x", "y"], [], "x.csv has input of shape (23,)", id="rows-of-1-D"),
        pytest.param(
            "gaussian_nll", ["logits", "logits"], ["--input", "var={xy}"], "var of shape (23, 4)", id="variance"
        ),
        pytest.param("mse", ["x", "one"], [], "x.csv has input of shape (23,) but", id="shared-row"),
        pytest.param(
            "bce_with_logits", ["x", "logits"], ["-p", "pos_weight=[1,2,3]"], "target of shape (23, 4)", id="per-row-p"
        ),
    ],
)
def test_streamed_shape_errors_quote_the_files_shapes(expect_error, data, write_file, loss, files, options, fragment):
    """The chunk's shape is not the file's: the rows are counted (read once, to the end) and the message is the
    one reading the files whole gives."""
    data = {**data, "one": write_file("one.csv", "y\n0.5\n")}
    data["onehot"] = write_file("onehot.csv", _text(np.eye(4, dtype=int)[np.arange(N) % 4], ",", None))
    args = ["compute", loss, *(data[f] for f in files), *(o.format(**data) for o in options)]
    whole_line = expect_error(args, 3, fragment)
    for chunk_rows in ("1", "2", "5", "50"):
        assert expect_error([*args, "--chunk-size", chunk_rows], 3) == whole_line, chunk_rows


def test_streamed_shape_error_reports_a_bad_cell_met_counting_the_rows(expect_error, write_file):
    """Counting the rows reads them: a bad cell on the way is the error, as it is reading the files whole."""
    bad = _bad_cell_file(write_file, late=True)
    labels = write_file("y.csv", "y\n" + "0\n" * 150_002)
    args = ["compute", "cross_entropy", bad, labels]
    expect_error(args, 3, "bad.csv")
    assert "has input of shape" not in expect_error([*args, "--chunk-size", "50000"], 3, "bad.csv")


def test_stdin_streams_as_a_file_does(invoke_json, expect_error, write_file):
    """Standard input is read once, from start to end, a piece at a time, as a file is."""
    text = "# pandas' index, a comment and a lone line of spaces\n,x\n0,1\n1,2.5\n   \n2,-4\n"
    labels = write_file("y.csv", "y\n1\n2\n3\n")
    args = ["compute", "mse", "-", labels]
    whole = invoke_json(args, input=text)
    assert whole["value"] == pytest.approx(np.mean((np.array([1, 2.5, -4]) - [1, 2, 3]) ** 2))
    assert invoke_json([*args, "--chunk-size", "2"], input=text) == whole
    expect_error(["compute", "mse", "-", "-", "--chunk-size", "2"], 2, "standard input", input=text)


def test_non_decomposing_loss_is_computed_whole_with_a_warning(invoke, invoke_json, write_file, monkeypatch):
    embeddings = write_file("e.csv", [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    labels = write_file("l.csv", [0, 0, 1, 1])
    calls = _spy_on_stream(monkeypatch)
    chunked = invoke_json(["compute", "ntxent", embeddings, labels, "--chunk-size", "2"])
    assert chunked.pop("warnings") == ["ntxent does not decompose over samples: --chunk-size is ignored"]
    whole = invoke_json(["compute", "ntxent", embeddings, labels])
    assert whole.pop("warnings") == [] and chunked == whole
    monkeypatch.setattr(losscli.api, "MEMORY_BUDGET", 1)  # past the budget: still whole, and no warning
    assert invoke_json(["compute", "ntxent", embeddings, labels])["warnings"] == []
    assert calls == []


# --- automatic streaming past the memory budget ----------------------------------------------------------


def _spy_on_stream(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    real = losscli.engine.chunked.stream

    @functools.wraps(real)
    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(losscli.engine.chunked, "stream", spy)
    return calls


@pytest.mark.parametrize("loss, files, options", [CASES[0], CASES[6], CASES[12]])
def test_inputs_past_the_memory_budget_are_streamed(invoke_json, data, monkeypatch, loss, files, options):
    args = ["compute", loss, *(data[f] for f in files), *(o.format(**data) for o in options)]
    calls = _spy_on_stream(monkeypatch)
    expected = invoke_json(args)
    assert calls == [], "small inputs are read whole"
    monkeypatch.setattr(losscli.api, "MEMORY_BUDGET", 64)
    got = invoke_json(args)
    assert len(calls) == 1
    assert_same_result(got, expected, "float32")


def test_stream_api():
    """``chunked.stream`` directly: progress hears the rows done; no rows or a non-decomposing loss refused."""
    spec = get_loss("mse")
    x = np.arange(10, dtype=np.float64)

    def chunks(step):
        for start in range(0, 10, step):
            yield {
                "input": Input(spec.pred_role, x[start : start + step], "x.csv", None, start),
                "target": Input(spec.target_role, np.zeros_like(x[start : start + step]), "y.csv", None, start),
            }

    heard: list[int] = []
    result = stream(spec, chunks(4), {}, "mean", dtype="float64", progress=heard.append)
    assert heard == [4, 8, 10]
    assert result.value == pytest.approx(np.mean(x**2), rel=1e-15) and result.n_samples == 10
    np.testing.assert_allclose(result.gradients["input"].values, 2 * x / 10, rtol=1e-15)
    kept = stream(spec, chunks(3), {}, "sum", dtype="float64", keep_rows=5)
    assert kept.gradients["input"].values.shape == (5,) and kept.gradients["input"].shape == (10,)
    every = stream(spec, chunks(3), {}, "none", dtype="float64")  # every row: kept on disk, not in memory
    assert isinstance(every.values, SpilledArray) and isinstance(every.gradients["input"].values, SpilledArray)
    np.testing.assert_array_equal(np.asarray(every.values), x**2)
    np.testing.assert_array_equal(np.asarray(every.gradients["input"].values), 2 * x)
    with pytest.raises(DataError, match="no rows"):
        stream(spec, iter([]), {}, "mean")
    with pytest.raises(ValueError, match="decompose"):
        stream(get_loss("ntxent"), chunks(4), {}, "mean")


@pytest.mark.parametrize("scale", [0.25, -2.0])
def test_gradient_sum_of_a_stream_of_unknown_length(scale):
    import torch

    full = np.random.default_rng(3).normal(size=(11, 2)).astype(np.float32)
    total = GradientSum(keep_rows=4)
    for start in range(0, 11, 3):
        total.add(torch.from_numpy(full[start : start + 3].copy()))
    grad = total.gradient(scale)
    assert grad.shape == (11, 2)
    np.testing.assert_allclose(grad.values, full[:4] * scale, rtol=1e-7)
    v = full.astype(np.float64).ravel() * scale
    assert (grad.norm, grad.mean, grad.min, grad.max) == pytest.approx(
        (np.linalg.norm(v), v.mean(), v.min(), v.max()), rel=1e-12
    )


# --- the progress display ----------------------------------------------------------------------------------


def test_no_progress_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    with render.row_progress("rows", delay=0) as progress:  # pytest's stderr is no terminal
        progress(10)
        progress(20)
    assert capsys.readouterr() == ("", "")
    buffer = io.StringIO()
    monkeypatch.setattr(render, "stderr", lambda: Console(file=buffer, force_terminal=False))
    with render.row_progress("rows", delay=0) as progress:
        progress(10)
    assert buffer.getvalue() == "" and capsys.readouterr() == ("", "")


def _terminal(monkeypatch) -> io.StringIO:
    buffer = io.StringIO()
    monkeypatch.setattr(render, "stderr", lambda: Console(file=buffer, force_terminal=True, width=80))
    return buffer


def test_progress_on_a_terminal_stderr_only(capsys, monkeypatch):
    buffer = _terminal(monkeypatch)
    with render.row_progress("mse: rows read", delay=0) as progress:
        progress(1234)
        progress(5678)
    assert "mse: rows read" in buffer.getvalue() and "5,678" in buffer.getvalue()
    assert capsys.readouterr().out == ""


def test_progress_waits_for_its_delay(monkeypatch):
    buffer = _terminal(monkeypatch)
    with render.row_progress("rows", delay=3600) as progress:
        progress(10)
    assert buffer.getvalue() == ""


def test_cli_progress_never_on_stdout(invoke, data, monkeypatch):
    buffer = _terminal(monkeypatch)
    monkeypatch.setattr(render, "row_progress", functools.partial(render.row_progress, delay=0))
    result = invoke(["compute", "mse", data["x"], data["y"], "--chunk-size", "5", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)  # nothing but the JSON document
    assert "mse: rows read" in buffer.getvalue()
    assert "rows read" not in result.stdout and result.stderr == ""


# --- memory independent of the number of rows ------------------------------------------------------------------


def _write_pair(tmp_path: Path, n: int) -> tuple[str, str]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(n)
    paths = []
    for name in ("pred", "labels"):
        path = tmp_path / f"{name}_{n}.csv"
        pcsv.write_csv(pa.table({name: rng.random(n, dtype=np.float32)}), path)
        paths.append(str(path))
    return paths[0], paths[1]


def _peak_rss_mib(args: list[str]) -> float:
    """Run a command; its own peak resident memory (``os.wait4``'s rusage), in MiB."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert os.waitstatus_to_exitcode(status) == 0, stderr
    return usage.ru_maxrss / 1024  # kB on Linux


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("LOSSCLI_SLOW") != "1", reason="about 7 s: set LOSSCLI_SLOW=1 to run it")
def test_peak_memory_does_not_grow_with_rows(tmp_path, losscli_exe):
    peaks = []
    for n in (2_000_000, 4_000_000):
        pred, labels = _write_pair(tmp_path, n)
        peaks.append(_peak_rss_mib([losscli_exe, "compute", "mse", pred, labels, "--chunk-size", "100000"]))
    small, large = peaks
    assert large - small < 60, f"peak RSS {small:.0f} MiB at 2M rows, {large:.0f} MiB at 4M rows"
