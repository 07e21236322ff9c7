"""The forked parser (losscli.io.forkread): large text inputs parsed in a child while torch imports.

Its results must be those of the thread path in every respect: values, column
names, integer columns, and the one-line errors for bad cells.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from losscli.errors import DataError
from losscli.io import forkread
from losscli.io.loading import read_source, select_columns


@pytest.fixture
def fork_always(monkeypatch):
    monkeypatch.setattr(forkread, "FORK_MIN_BYTES", 0)


def test_small_inputs_are_not_forked(write_file):
    path = write_file("p.csv", ["p", 1, 2, 3])
    assert forkread.start([path, None, "-"], "float32") is None


def test_forked_sources_equal_read_source(fork_always, write_file):
    rng = np.random.default_rng(0)
    table = [["a", "b", "y"], *([f"{x:.6f}", f"{z:.6f}", int(k)] for x, z, k in rng.normal(size=(50, 3)))]
    path = write_file("t.csv", table)
    labels = write_file("y.tsv", [["y"], *([int(v)] for v in rng.integers(0, 4, 50))])
    collect = forkread.start([path, labels], "float32")
    assert collect is not None
    sources = collect()
    for name in (path, labels):
        whole = read_source(name, float_dtype=np.float32)
        forked = sources[name]
        assert forked.columns == whole.columns and forked.integer_columns == whole.integer_columns
        np.testing.assert_array_equal(select_columns(forked, None), select_columns(whole, None))
        assert select_columns(forked, None).dtype == select_columns(whole, None).dtype
        assert select_columns(forked, None).flags.writeable


def test_bad_cell_is_the_same_data_error(fork_always, write_file):
    path = write_file("bad.csv", "p\n1\nabc\n3\n")
    with pytest.raises(DataError) as whole:
        select_columns(read_source(path), None)
    sources = forkread.start([path], "float64")()
    with pytest.raises(DataError) as forked:
        select_columns(sources[path], None)
    assert str(forked.value) == str(whole.value)


@pytest.mark.parametrize(
    "args",
    [
        ["mse", "p.csv", "y.csv"],
        ["cross_entropy", "logits.csv", "labels.csv", "-p", "weight=[1,2,3]"],
        ["mse", "both.csv", "--label-col", "y"],
    ],
)
def test_compute_through_the_fork_equals_the_thread(monkeypatch, invoke, write_file, args):
    rng = np.random.default_rng(1)
    written = {
        "p.csv": write_file("p.csv", ["p", *rng.normal(size=30)]),
        "y.csv": write_file("y.csv", ["y", *rng.normal(size=30)]),
        "logits.csv": write_file("logits.csv", [["a", "b", "c"], *rng.normal(size=(30, 3)).tolist()]),
        "labels.csv": write_file("labels.csv", ["k", *rng.integers(0, 3, 30)]),
        "both.csv": write_file("both.csv", [["p", "y"], *rng.normal(size=(30, 2)).tolist()]),
    }
    argv = ["compute", *(written.get(a, a) for a in args), "-f", "json"]
    monkeypatch.setattr(forkread, "FORK_MIN_BYTES", 1 << 60)
    thread = invoke(argv)
    assert thread.exit_code == 0, thread.stderr
    monkeypatch.setattr(forkread, "FORK_MIN_BYTES", 0)
    forked = invoke(argv)
    assert forked.exit_code == 0, forked.stderr
    assert json.loads(forked.stdout) == json.loads(thread.stdout)


def test_compute_bad_cell_through_the_fork(fork_always, expect_error, write_file):
    pred = write_file("p.csv", "p\n1\nabc\n3\n")
    labels = write_file("y.csv", ["y", 1, 2, 3])
    expect_error(["compute", "mse", pred, labels], 3, "p.csv", "row 2", "'abc'")


def test_a_reader_left_uncollected_stops_its_child(fork_always, write_file):
    import os

    path = write_file("p.csv", ["p", 1, 2, 3])
    with pytest.raises(RuntimeError), forkread.start([path], "float32") as reader:
        child = reader.pid
        raise RuntimeError("the import failed")
    assert reader.pid == 0 and reader.memfds == []
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # killed and reaped already


def test_parser_pool_has_one_thread_until_the_import_is_done():
    import os
    import time

    import pyarrow as pa

    cores = pa.cpu_count()
    imported_read, imported_write = os.pipe()
    forkread._one_thread_until_closed(imported_read)
    try:
        assert pa.cpu_count() == 1
    finally:
        os.close(imported_write)
    deadline = time.monotonic() + 5
    while pa.cpu_count() != cores and time.monotonic() < deadline:
        time.sleep(0.01)
    os.close(imported_read)
    assert pa.cpu_count() == cores
