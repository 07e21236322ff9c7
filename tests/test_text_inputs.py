"""Text tables as people write them (issue 11): pandas' index and header, ``--header/--no-header``,
pipes and other non-regular files, closed standard input, lines of millions of fields, ``.txt``
whitespace and old line ends.

Every read path must give the same table: the small-table Python path, pyarrow's (files past
``SMALL_TEXT``), the forked parser (``forkread``), and the streamed reader (``--chunk-size``).
References are pandas' and numpy's own readers.
"""

from __future__ import annotations

import collections
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losscli.errors import DataError
from losscli.io import files, forkread, loading, npy, npz, text, textchunks
from losscli.io.loading import iter_row_chunks, read_source, select_columns

RNG = np.random.default_rng(11)
INDEX_NOTE = "the first column has no name: read as pandas' index (as df.to_csv writes it) and left out"
TIMEOUT = 60  # seconds: a run that waits on a pipe forever fails instead of hanging the suite


@pytest.fixture(params=["python", "pyarrow", "forked", "streamed"])
def read_path(request, monkeypatch):
    """``read(path, **options) -> (array of every column, Source)`` through one of the four read paths."""
    path_kind = request.param
    if path_kind != "python":
        monkeypatch.setattr(text, "SMALL_TEXT", 0)  # past the Python path: pyarrow parses

    def read(path: str, **options) -> tuple[np.ndarray, loading.Source]:
        if path_kind == "forked":
            monkeypatch.setattr(forkread, "FORK_MIN_BYTES", 0)
            source = forkread.start([path], "float64", options.get("header"))()[path]
        elif path_kind == "streamed":
            source, chunks = iter_row_chunks(path, 3, **options)
            return np.concatenate(list(chunks)), source
        else:
            source = read_source(path, **options)
        return select_columns(source, None), source

    read.kind = path_kind
    return read


def pandas_frame(n_rows: int = 7, n_columns: int = 3) -> pd.DataFrame:
    return pd.DataFrame(RNG.normal(size=(n_rows, n_columns)), columns=[f"m{j}" for j in range(n_columns)])


# --- pandas' index column ------------------------------------------------------------------------------


@pytest.mark.parametrize("comment", [False, True], ids=["plain", "commented"])
def test_pandas_index_column_is_left_out_in_every_read_path(tmp_path, read_path, comment):
    path = str(tmp_path / "p.csv")
    pandas_frame().to_csv(path)
    if comment:  # comment lines send the file down the byte-level pyarrow path
        Path(path).write_text("# written by pandas\n" + Path(path).read_text())
    got, source = read_path(path)
    reference = pd.read_csv(path, index_col=0, comment="#")
    np.testing.assert_array_equal(got, reference.to_numpy())
    assert source.columns == list(reference.columns)
    assert source.notes == [f"{path}: {INDEX_NOTE}"]


def test_pandas_index_of_a_single_column_gives_a_vector(tmp_path, read_path):
    path = str(tmp_path / "p.csv")
    pd.DataFrame({"prediction": RNG.normal(size=5)}).to_csv(path)
    got, source = read_path(path)
    np.testing.assert_array_equal(got, pd.read_csv(path, index_col=0)["prediction"].to_numpy())
    assert got.shape == (5,) and source.columns == ["prediction"]


def test_column_indices_count_after_the_index(tmp_path):
    path = str(tmp_path / "p.csv")
    frame = pandas_frame()
    frame.to_csv(path)
    source = read_source(path)
    np.testing.assert_array_equal(select_columns(source, ["0"]), frame["m0"].to_numpy())
    np.testing.assert_array_equal(select_columns(source, ["-1"]), frame["m2"].to_numpy())
    np.testing.assert_array_equal(select_columns(source, ["m1"]), frame["m1"].to_numpy())


def test_mse_of_two_pandas_files_with_their_index(tmp_path, invoke, invoke_json):
    """Read as data, the two index columns (equal) halved the MSE of two (N, 1) columns."""
    p, y = RNG.normal(size=40), RNG.normal(size=40)
    pred, labels = str(tmp_path / "p.csv"), str(tmp_path / "y.csv")
    pd.DataFrame({"prediction": p}).to_csv(pred)
    pd.DataFrame({"label": y}).to_csv(labels)
    expected = np.mean(
        (pd.read_csv(pred, index_col=0)["prediction"] - pd.read_csv(labels, index_col=0)["label"]) ** 2
    )
    notes = [f"{pred}: {INDEX_NOTE}", f"{labels}: {INDEX_NOTE}"]
    for extra in ([], ["--chunk-size", "7"]):
        out = invoke_json(["compute", "mse", pred, labels, "--dtype", "float64", *extra])
        assert out["value"] == pytest.approx(expected, rel=1e-12)
        assert out["n_samples"] == 40 and out["warnings"] == notes
        table = invoke(["compute", "mse", pred, labels, *extra])
        assert table.exit_code == 0
        assert [line for line in table.stderr.splitlines() if line.startswith("Warning:")] == [
            f"Warning: {note}" for note in notes
        ]


def test_cross_entropy_sees_no_extra_class(tmp_path, invoke_json):
    logits = RNG.normal(size=(12, 4))
    classes = RNG.integers(0, 4, 12)
    pred, labels = str(tmp_path / "logits.csv"), str(tmp_path / "classes.csv")
    pd.DataFrame(logits).to_csv(pred)  # header ",0,1,2,3"
    pd.DataFrame({"y": classes}).to_csv(labels)
    read_back = pd.read_csv(pred, index_col=0).to_numpy()
    log_softmax = read_back - np.log(np.exp(read_back).sum(axis=1, keepdims=True))
    expected = -np.mean(log_softmax[np.arange(12), classes])
    out = invoke_json(["compute", "cross_entropy", pred, labels, "--dtype", "float64"])
    assert out["value"] == pytest.approx(expected, rel=1e-12)
    assert out["gradients"]["input"]["shape"] == [12, 4]


def test_a_file_named_twice_says_its_note_once(tmp_path, invoke_json):
    path = str(tmp_path / "p.csv")
    pandas_frame(n_columns=1).to_csv(path)
    assert invoke_json(["compute", "mse", path, path])["warnings"] == [f"{path}: {INDEX_NOTE}"]


def test_compare_and_recommend_warn_of_the_index(tmp_path, invoke, invoke_json):
    labels, model = str(tmp_path / "y.csv"), str(tmp_path / "m.csv")
    y = RNG.normal(size=30)
    pd.DataFrame({"y": y}).to_csv(labels)
    pd.DataFrame({"p": y + RNG.normal(size=30)}).to_csv(model)
    compared = invoke_json(["compare", model, "--labels", labels, "-l", "mse", "--dtype", "float64"])
    expected = np.mean((pd.read_csv(model, index_col=0)["p"] - pd.read_csv(labels, index_col=0)["y"]) ** 2)
    assert compared["rows"][0]["values"]["mse"] == pytest.approx(expected, rel=1e-12)
    assert compared["warnings"][:2] == [f"{labels}: {INDEX_NOTE}", f"{model}: {INDEX_NOTE}"]
    advice = invoke_json(["recommend", labels, "--pred", model])
    assert advice["evidence"]["shape"] == [30]
    assert advice["warnings"][:2] == [f"{labels}: {INDEX_NOTE}", f"{model}: {INDEX_NOTE}"]
    for args in (["compare", model, "--labels", labels, "-l", "mse"], ["recommend", labels]):
        result = invoke(args)
        assert result.exit_code == 0 and f"Warning: {labels}: {INDEX_NOTE}" in result.stderr.splitlines()


# --- the header: numbers that are column names -------------------------------------------------------


@pytest.mark.parametrize("n_columns", [1, 3])
def test_pandas_header_of_column_numbers_above_floats(tmp_path, read_path, n_columns):
    """``pd.DataFrame(array).to_csv(index=False)`` writes 0,1,... above the floats: a header, not a row."""
    path = str(tmp_path / "p.csv")
    pd.DataFrame(RNG.normal(size=(6, n_columns))).to_csv(path, index=False)
    got, source = read_path(path)
    reference = pd.read_csv(path).to_numpy()
    np.testing.assert_array_equal(got, reference[:, 0] if n_columns == 1 else reference)
    assert source.columns == [str(j) for j in range(n_columns)]
    if n_columns == 1:  # a lone 0 above a float may be a value written with %g: the warning names --no-header
        assert len(source.notes) == 1 and "line 1 (0)" in source.notes[0] and "--no-header" in source.notes[0]
        assert read_path(path, header=True)[1].notes == []
    else:
        assert source.notes == []


def test_pandas_header_of_floats_written_as_whole_numbers(tmp_path, read_path):
    """pandas writes 2.0 as "2.0": one such cell on the next line makes the numbers a header."""
    path = str(tmp_path / "p.csv")
    pd.DataFrame(np.array([[1.0, 2.5], [3.0, 4.0]])).to_csv(path, index=False)
    assert Path(path).read_text().splitlines()[:2] == ["0,1", "1.0,2.5"]
    got, _ = read_path(path)
    np.testing.assert_array_equal(got, [[1.0, 2.5], [3.0, 4.0]])


def test_column_numbers_above_plain_integers_stay_data(tmp_path, read_path):
    """A first row 0,1,2 above whole numbers may be data (class indices): read as data, with a warning."""
    path = str(tmp_path / "c.csv")
    Path(path).write_text("0,1,2\n3,4,5\n6,7,8\n")
    got, source = read_path(path)
    np.testing.assert_array_equal(got, np.loadtxt(path, delimiter=",", ndmin=2))
    assert len(source.notes) == 1
    assert "line 1 (0,1,2)" in source.notes[0] and "--header" in source.notes[0]
    got, source = read_path(path, header=True)
    np.testing.assert_array_equal(got, [[3, 4, 5], [6, 7, 8]])
    assert source.columns == ["0", "1", "2"] and source.notes == []
    assert read_path(path, header=False)[1].notes == []


def test_one_column_of_class_indices_is_data_without_a_warning(tmp_path, read_path):
    path = str(tmp_path / "y.csv")
    Path(path).write_text("0\n1\n2\n1\n")
    got, source = read_path(path)
    np.testing.assert_array_equal(got, [0, 1, 2, 1])
    assert source.notes == []


@pytest.mark.parametrize(
    "text",
    ["1,0\n1.5,2\n", "0,2\n1.5,2\n", "0,1\n", "0,1\n2,3\n", "0,1\n# c\n\n2,3\n"],
    ids=["not-in-order", "not-consecutive", "alone", "integers", "integers-after-comments"],
)
def test_numbers_that_do_not_number_the_columns_are_data(tmp_path, text):
    path = str(tmp_path / "d.csv")
    Path(path).write_text(text)
    np.testing.assert_array_equal(read_source(path).array, np.loadtxt(path, delimiter=",", ndmin=2))


def test_header_options_override_the_detection(tmp_path, read_path):
    path = str(tmp_path / "t.csv")
    Path(path).write_text("0.5,1.5\n2,3\n")
    got, source = read_path(path, header=True)
    np.testing.assert_array_equal(got, [[2, 3]])
    assert source.columns == ["0.5", "1.5"]
    named = str(tmp_path / "n.csv")
    Path(named).write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"n\.csv: row 1 \(line 1\), column '0': cannot read 'a' as a number"):
        read_path(named, header=False)


def test_header_options_on_the_command_line(write_file, invoke_json, expect_error):
    pred = write_file("p.csv", "0,1\n1,2\n3,5\n")
    labels = write_file("y.csv", "0,1\n1,2\n3,4\n")
    guessed = invoke_json(["compute", "mse", pred, labels, "--dtype", "float64"])
    assert guessed["n_samples"] == 3 and guessed["value"] == pytest.approx(np.mean([0, 0, 0, 0, 0, 1]))
    assert len(guessed["warnings"]) == 2 and all("--header" in w for w in guessed["warnings"])
    header = invoke_json(["compute", "mse", pred, labels, "--header", "--dtype", "float64"])
    assert header["n_samples"] == 2 and header["value"] == pytest.approx(0.25) and header["warnings"] == []
    no_header = invoke_json(["compute", "mse", pred, labels, "--no-header", "--dtype", "float64"])
    assert no_header["n_samples"] == 3 and no_header["warnings"] == []
    streamed = invoke_json(["compute", "mse", pred, labels, "--header", "--chunk-size", "1", "--dtype", "float64"])
    assert streamed["value"] == header["value"] and streamed["n_samples"] == 2
    stdin = invoke_json(["compute", "mse", "-", labels, "--header", "--dtype", "float64"], input="0,1\n1,2\n3,5\n")
    assert stdin["value"] == header["value"]
    x1, x2 = write_file("x1.csv", "0\n1.5\n-2\n"), write_file("x2.csv", "0\n0.5\n1\n")  # pandas' headers
    ranked = write_file("r.csv", "1\n-1\n1\n")  # --no-header applies to --input files too
    margin = ["compute", "margin_ranking", x1, ranked, "--input", f"input2={x2}", "--dtype", "float64"]
    expect_error(margin, 3, "shape")  # r.csv holds 3 labels for 2 pairs
    assert invoke_json([*margin, "--no-header"])["value"] == pytest.approx(np.mean(np.maximum(0, [0, 1, 3])))
    named = write_file("named.csv", "a,b\n1,2\n")
    expect_error(["compute", "mse", named, named, "--no-header"], 3, "named.csv", "row 1 (line 1)", "'a'")
    expect_error(["compute", "mse", write_file("h.csv", "a,b\n"), labels, "--header"], 3, "h.csv", "no data rows")


def test_header_options_on_compare_and_recommend(write_file, invoke_json):
    labels = write_file("y.csv", "0\n1\n2\n0\n")  # class indices: data
    model = write_file("m.csv", "0,1,2\n2,1,0\n0,2,1\n1,0,2\n")
    assert invoke_json(["recommend", labels])["evidence"]["shape"] == [4]
    assert invoke_json(["recommend", labels, "--header"])["evidence"]["shape"] == [3]
    compared = invoke_json(["compare", model, "--labels", labels, "-l", "cross_entropy"])
    assert "may be pandas' header of column numbers or a row of data" in compared["warnings"][0]
    headed = invoke_json(["compare", model, "--labels", labels, "-l", "cross_entropy", "--no-header"])
    assert headed["warnings"] == [] and headed["rows"] == compared["rows"]


# --- pipes, /dev/stdin, process substitution -------------------------------------------------------


class _FifoWriter(threading.Thread):
    """Opens a FIFO for writing once, writes ``data`` and closes it: one writer, once, as a shell's ``> fifo``.

    A reader that opens the FIFO a second time would wait forever for another
    writer. After ``TIMEOUT`` seconds the thread opens it once more, which lets
    such a reader go (it then finds no data and fails): a regression fails the
    test instead of hanging the suite. ``released`` says whether that happened.
    """

    def __init__(self, path: str, data: bytes) -> None:
        super().__init__(daemon=True)
        self.path, self.data, self.released = path, data, False
        self.finished = threading.Event()
        self.start()

    def run(self) -> None:
        with open(self.path, "wb") as handle:
            handle.write(self.data)
        if not self.finished.wait(TIMEOUT):
            self.released = True
            with open(self.path, "wb"):
                pass

    def __enter__(self) -> _FifoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finished.set()
        self.join(TIMEOUT)
        assert not self.released, f"{self.path} was opened twice"


@pytest.fixture
def opened(monkeypatch) -> collections.Counter:
    """How many times the readers (``losscli.io``'s modules that open files) opened each path: a pipe must be
    opened once.

    (Opening it twice hangs only when its writer is done before the second
    open, a race: counting catches the mistake every time.)
    """
    counts: collections.Counter = collections.Counter()

    def counting_open(path, *args, **kwargs):
        counts[str(path)] += 1
        return open(path, *args, **kwargs)

    for module in (files, npy, npz, text, textchunks):
        monkeypatch.setattr(module, "open", counting_open, raising=False)
    return counts


def _run(exe: str, args: list[str], **options) -> subprocess.CompletedProcess:
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=TIMEOUT, **options)


PRED_TEXT = "p\n1\n2.5\n-1\n4\n"
LABEL_TEXT = "y\n1\n2\n0\n3\n"
TABLE_TEXT = "p,y\n1,1\n2.5,2\n-1,0\n4,3\n"
MSE = np.mean((np.array([1, 2.5, -1, 4]) - [1, 2, 0, 3]) ** 2)


@pytest.mark.parametrize("extra", [[], ["--chunk-size", "3"]], ids=["whole", "streamed"])
def test_fifo_with_one_writer_is_read_once(tmp_path, invoke_json, write_file, opened, extra):
    fifo = str(tmp_path / "p.csv")
    os.mkfifo(fifo)
    labels = write_file("y.csv", LABEL_TEXT)
    with _FifoWriter(fifo, PRED_TEXT.encode()):
        out = invoke_json(["compute", "mse", fifo, labels, "--dtype", "float64", *extra])
    assert out["value"] == pytest.approx(MSE)
    assert opened[fifo] == 1


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "{fifo}", "--label-col", "y", "-l", "mse"],
        ["recommend", "{fifo}", "--label-col", "y", "--pred-col", "p"],
        ["recommend", "{fifo}", "--label-col", "y", "--pred", "{fifo}", "--pred-col", "p"],
        ["compute", "mse", "{fifo}", "--label-col", "y", "--chunk-size", "2"],
        ["compute", "mse", "{fifo}", "{fifo}", "--label-col", "y", "--pred-col", "p"],
    ],
    ids=["compare", "recommend", "recommend-pred", "compute-streamed", "compute-twice"],
)
def test_fifo_holding_labels_and_predictions(tmp_path, invoke_json, opened, args):
    """Two roles from one pipe: it is read once all the same."""
    fifo = str(tmp_path / "t.csv")
    os.mkfifo(fifo)
    with _FifoWriter(fifo, TABLE_TEXT.encode()):
        out = invoke_json([a.format(fifo=fifo) for a in args])
    assert opened[fifo] == 1
    if args[0] == "compare":
        assert out["rows"][0]["values"]["mse"] == pytest.approx(MSE)
    elif args[0] == "compute":
        assert out["value"] == pytest.approx(MSE)
    else:
        assert out["evidence"]["shape"] == [4]


def test_process_substitution_is_a_pipe_read_as_csv(invoke_json, write_file, opened):
    """``<(cat p.csv)`` is /dev/fd/N: a pipe without an extension, read as CSV as ``-`` is."""
    labels = write_file("y.csv", LABEL_TEXT)
    for extra in ([], ["--chunk-size", "2"]):
        read_end, write_end = os.pipe()
        os.write(write_end, PRED_TEXT.encode())
        os.close(write_end)
        path = f"/dev/fd/{read_end}"
        try:
            out = invoke_json(["compute", "mse", path, labels, "--dtype", "float64", *extra])
        finally:
            os.close(read_end)
        assert out["value"] == pytest.approx(MSE)
        assert opened.pop(path) == 1


def test_fifo_and_dev_stdin_in_a_real_process(tmp_path, losscli_exe):
    fifo = str(tmp_path / "p.csv")
    os.mkfifo(fifo)
    with _FifoWriter(fifo, PRED_TEXT.encode()):
        done = _run(losscli_exe, ["compute", "mse", fifo, "/dev/stdin", "-f", "json"], input=LABEL_TEXT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == pytest.approx(MSE)


def test_fifo_of_a_binary_form_is_refused_without_opening_it(tmp_path, expect_error, write_file, opened):
    """No writer ever comes: opening would wait forever. ``stat`` says it is a pipe; that is enough."""
    labels = write_file("y.csv", LABEL_TEXT)
    for name in ("p.npy", "p.npz", "p.parquet"):
        fifo = str(tmp_path / name)
        os.mkfifo(fifo)
        with _FifoWriter(fifo, b""):  # lets a wrongly opening reader go
            suffix = Path(name).suffix
            expect_error(["compute", "mse", fifo, labels], 3, fifo, "not a regular file", suffix, "save it to a file")
            expect_error(["compute", "mse", fifo, labels, "--chunk-size", "2"], 3, fifo, "not a regular file")
            assert opened[fifo] == 0
            open(fifo, "rb").close()  # the writer's one open, taken here
    odd = str(tmp_path / "p.json")
    os.mkfifo(odd)
    expect_error(["compute", "mse", odd, labels], 3, odd, "unsupported file type '.json'")


CLOSED = (
    "<stdin>: standard input is closed; send the data through it (e.g. cat p.csv | losscli ... -) "
    "or give a file path instead of -"
)


def test_closed_standard_input(monkeypatch, write_file, losscli_exe):
    labels = write_file("y.csv", LABEL_TEXT)
    done = _run(losscli_exe, ["compute", "mse", "-", labels], preexec_fn=lambda: os.close(0))
    assert (done.returncode, done.stdout, done.stderr.splitlines()) == (3, "", [f"Error: {CLOSED}"])
    monkeypatch.setattr(sys, "stdin", None)  # what Python makes of a closed file descriptor 0
    for read in (lambda: read_source("-"), lambda: iter_row_chunks("-", 2)):
        with pytest.raises(DataError) as caught:
            read()
        assert str(caught.value) == CLOSED


# --- a line of millions of fields ----------------------------------------------------------------------


def _wide_text(values: np.ndarray, header: str | None = None) -> str:
    lines = [header] if header is not None else []
    lines += [",".join(f"{v:.6g}" for v in row) for row in np.atleast_2d(values)]
    return "\n".join(lines) + "\n"


def test_wide_table_reads_as_pandas_does(tmp_path, read_path):
    width = text.WIDE_FIELDS + 5
    path = str(tmp_path / "w.csv")
    pd.DataFrame(RNG.normal(size=(3, width)), columns=[f"c{j}" for j in range(width)]).to_csv(path)
    got, source = read_path(path)
    np.testing.assert_array_equal(got, pd.read_csv(path, index_col=0).to_numpy())
    assert source.columns[:2] == ["c0", "c1"] and source.notes == [f"{path}: {INDEX_NOTE}"]


def test_wide_line_of_integers_stays_integer(tmp_path, read_path):
    values = RNG.integers(-5, 5, size=text.WIDE_FIELDS * 2)
    path = str(tmp_path / "w.txt")
    Path(path).write_text("\t " + " ".join(map(str, values)) + " \n")  # runs of spaces and tabs
    got, _ = read_path(path)
    np.testing.assert_array_equal(got, values[None, :])
    assert got.dtype == np.int64


def test_wide_line_errors_name_the_cell(tmp_path, write_file, expect_error):
    width = text.WIDE_FIELDS + 1
    cells = ["1"] * width
    cells[7] = "x"
    bad = write_file("bad.csv", ",".join(["1"] * width) + "\n" + ",".join(cells) + "\n")
    expect_error(["compute", "mse", bad, bad], 3, "bad.csv", "row 2 (line 2), column '7'", "'x'", "fix the cell")
    cells[7] = ""
    empty = write_file("empty.csv", ",".join(["1"] * width) + "\n" + ",".join(cells) + "\n")
    expect_error(["compute", "mse", empty, empty], 3, "empty.csv", "row 2 (line 2), column '7'", "empty cell")
    ragged = write_file("ragged.csv", ",".join(["1"] * width) + "\n" + ",".join(["1"] * (width + 1)) + "\n")
    expect_error(["compute", "mse", ragged, ragged], 3, "ragged.csv", "line 2 has", "give every row the same")


def _peak_rss_reading(path: str, *extra: str) -> int:
    """Peak resident memory (bytes) of a fresh Python that reads ``path`` with ``read_source``."""
    code = (
        "import resource, sys\n"
        "from losscli.io.loading import read_source, select_columns\n"
        "select_columns(read_source(sys.argv[1]), None)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, path, *extra], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return int(done.stdout) * 1024


def test_one_line_of_many_fields_takes_memory_in_proportion(tmp_path):
    """pyarrow's table reader keeps kilobytes per column: 200,000 fields took about 2 GB (5 million, 20 GB)."""
    path = tmp_path / "line.csv"
    path.write_text(_wide_text(RNG.normal(size=200_000)))
    baseline = tmp_path / "small.csv"
    baseline.write_text(_wide_text(RNG.normal(size=(2000, 100))))  # the same size, in a shape pyarrow likes
    assert _peak_rss_reading(str(path)) < _peak_rss_reading(str(baseline)) + 100 * path.stat().st_size


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("LOSSCLI_SLOW"), reason="about a minute: set LOSSCLI_SLOW=1 to run it")
def test_five_million_fields_on_one_line(tmp_path, losscli_exe):
    """The issue's case: pyarrow took 20 GB and three minutes, then failed (or its forked parser died: exit 1)."""
    values = RNG.normal(size=5_000_000)
    path, zeros = tmp_path / "wide.csv", tmp_path / "zeros.csv"
    path.write_text(_wide_text(values))
    zeros.write_text(",".join(["0"] * len(values)) + "\n")
    expected = np.mean(np.float32(np.loadtxt(path, delimiter=",")) ** 2)
    for extra in ([], ["--chunk-size", "1000"]):
        done = _run(losscli_exe, ["compute", "mse", str(path), str(zeros), "--no-grad", "-f", "json", *extra])
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["n_samples"] == 1 and out["value"] == pytest.approx(expected, rel=1e-5)
    assert _peak_rss_reading(str(path)) < 25 * path.stat().st_size
    path.write_text(_wide_text(values, ",".join(f"c{j}" for j in range(len(values)))))
    assert _peak_rss_reading(str(path)) < 25 * path.stat().st_size


# --- .txt whitespace and line ends ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1 \t 2\n3\t4\n",
        "\t1  2\n3 4\n",
        "1 2\t\n3 4\t\n",
        "1\t2\n3 4\n",
        "a \t b\n1\t\t2\n \t3   4\t \n",
        "1 2\r\n\t3\t4 \r\n",
    ],
    ids=["tab-between-spaces", "leading-tab", "trailing-tabs", "tab-then-spaces", "header-tab-runs", "crlf"],
)
def test_txt_splits_at_runs_of_spaces_and_tabs(tmp_path, read_path, text):
    path = str(tmp_path / "w.txt")
    Path(path).write_text(text, newline="")
    has_header = text.startswith("a")
    got, _ = read_path(path)
    np.testing.assert_array_equal(got, np.loadtxt(path, ndmin=2, skiprows=int(has_header)))


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"1\r2\r3\r", "p.csv"),
        (b"a,b\r1,2\r3,4\r", "p.csv"),
        (b"a,b\r\n1,2\r3,4\r\n5,6\r", "p.csv"),
        (b"# old Mac\ra\tb\r1\t2\r\r3\t4", "p.tsv"),
        (b"1 2\r3  4\r", "p.txt"),
    ],
    ids=["cr", "cr-header", "crlf-and-cr", "cr-comment-tsv", "cr-txt"],
)
def test_lone_carriage_returns_end_lines(tmp_path, read_path, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    got, _ = read_path(str(path))
    header = 0 if b"a" in data else None
    sep = {".csv": ",", ".tsv": "\t", ".txt": r"\s+"}[path.suffix]
    reference = pd.read_csv(io.BytesIO(data), sep=sep, header=header, comment="#", engine="python").to_numpy()
    np.testing.assert_array_equal(got, reference[:, 0] if reference.shape[1] == 1 else reference)


def test_lone_carriage_return_far_down_never_hides_a_row(tmp_path, read_path):
    """Past the first bytes a lone CR is left to pyarrow, which ends the line there: a comment ends there too."""
    rows = np.arange(40_000).reshape(-1, 2)
    body = "".join(f"{a},{b}\n" for a, b in rows)
    data = ("a,b\n" + body + "# note\r7,8\n9,10\n").encode()
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    got, _ = read_path(str(path))
    np.testing.assert_array_equal(got, np.vstack([rows, [[7, 8], [9, 10]]]))


# --- the Python path for small files reads lines as pyarrow does ---------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        # str.splitlines ends a line at a vertical tab, a form feed or \x1c-\x1e; pyarrow (and csv) do not
        ("v.csv", "a,b\n1,2\n3,4\x0b5,6\n", "line 3 has 3 fields but the header (line 1) has 2"),
        ("f.csv", "a,b\n1,2\x0c3,4\n", "line 2 has 3 fields but the header (line 1) has 2"),
        ("g.csv", "a,b\n1,2\x1e3,4\n", "line 2 has 3 fields but the header (line 1) has 2"),
        # stripping a line would take its last (empty) field off with the tab before it
        ("t.tsv", "a\tb\tc\n1\t2\t\n", "row 1 (line 2), column 'c': empty cell"),
        ("u.tsv", "a\tb\n1\t2\t\n", "line 2 has 3 fields but the header (line 1) has 2"),
        # pyarrow reads 0x1A as 26 in a column of integers; float(), numpy.loadtxt and pandas do not
        ("h.csv", "a,b\n1,2\n0x1A,3\n5,6\n", "row 2 (line 3), column 'a': cannot read '0x1A' as a number"),
        ("h.txt", "1 2\n3 0X1a\n5 6\n", "row 2 (line 2), column '1': cannot read '0X1a' as a number"),
        ("j.csv", "a\n1\n-0x10\n2.5\n", "row 2 (line 3), column 'a': cannot read '-0x10' as a number"),
        # a quote left open goes on to the next line (RFC 4180), as pyarrow reads it
        ("q.tsv", '"0.5"\n"1e-30 \n"0.0"\n', "cannot read '1e-30 \\n0.0\"' as a number"),
    ],
)
def test_every_read_path_refuses_what_pyarrow_refuses(tmp_path, read_path, name, text, problem):
    """Each read path (Python, pyarrow, forked, streamed) refuses these files, naming the line or cell, as
    pyarrow's own line splitting and pandas' number parsing would."""
    path = tmp_path / name
    path.write_bytes(text.encode())
    with pytest.raises(DataError) as raised:
        read_path(str(path))
    assert problem in str(raised.value)


# --- every read path gives the table written ---------------------------------------------------------


def _read_every_way(path: str, header: bool | None) -> dict[str, np.ndarray]:
    """The whole table through each read path: Python, pyarrow, forked parser, streamed."""
    got = {}
    with pytest.MonkeyPatch.context() as patch:
        got["python"] = select_columns(read_source(path, header=header), None)
        patch.setattr(text, "SMALL_TEXT", 0)
        got["pyarrow"] = select_columns(read_source(path, header=header), None)
        patch.setattr(forkread, "FORK_MIN_BYTES", 0)
        got["forked"] = select_columns(forkread.start([path], "float64", header)()[path], None)
        got["streamed"] = np.concatenate(list(iter_row_chunks(path, 2, header=header)[1]))
    return got


@st.composite
def text_tables(draw):
    """A table of numbers written as text in one of the ways people write them, and the array it holds."""
    n_rows, n_columns = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
    kinds = draw(st.lists(st.booleans(), min_size=n_columns, max_size=n_columns))  # True: float column
    values = [[draw(floats) if kind else draw(st.integers(-1000, 1000)) for kind in kinds] for _ in range(n_rows)]
    cells = [[repr(v) for v in row] for row in values]
    extension = draw(st.sampled_from([".csv", ".tsv", ".txt"]))
    header = draw(st.sampled_from(["none", "names", "numbers", "index"]))
    if header == "index" and extension == ".txt":
        header = "names"  # an empty first field cannot be written between runs of spaces
    lines = [[str(i), *row] for i, row in enumerate(cells)] if header == "index" else [list(row) for row in cells]
    expected, option = np.array(values, dtype=np.float64), None
    if header == "names":
        lines.insert(0, [f"c{j}" for j in range(n_columns)])
    elif header == "index":
        lines.insert(0, ["", *(f"c{j}" for j in range(n_columns))])
    elif header == "numbers":
        lines.insert(0, [str(j) for j in range(n_columns)])
        if not any(kinds):  # above plain integers the numbers are data, unless --header says otherwise
            option = draw(st.sampled_from([None, True]))
            if option is None:
                expected = np.vstack([np.arange(n_columns), expected])
    else:
        first_numbers = cells[0] == [str(j) for j in range(n_columns)]
        option = draw(st.sampled_from([None, False])) if not first_numbers else False
    if extension == ".txt":
        separators = st.text(alphabet=" \t", min_size=1, max_size=3)
        text_lines = [
            draw(st.text(alphabet=" \t", max_size=2))
            + "".join(cell + (draw(separators) if j < len(line) - 1 else "") for j, cell in enumerate(line))
            + draw(st.text(alphabet=" \t", max_size=2))
            for line in lines
        ]
    else:
        text_lines = [("," if extension == ".csv" else "\t").join(line) for line in lines]
    if draw(st.booleans()):  # comment lines and blank lines, above and among the rows
        at = draw(st.integers(0, len(text_lines)))
        text_lines[at:at] = ["# a comment", ""]
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = line_end.join(text_lines) + draw(st.sampled_from(["", line_end]))
    return text, extension, option, expected if n_columns > 1 else expected[:, 0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=text_tables())
def test_every_read_path_gives_the_table_written(table):
    text, extension, header, expected = table
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "t" + extension)
        Path(path).write_bytes(text.encode())
        for kind, got in _read_every_way(path, header).items():
            np.testing.assert_array_equal(got, expected, err_msg=f"{kind}: {text!r}")
