"""Rows kept in a temporary file (losscli.io.spill) read back as the arrays that were appended."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from losscli.io import textout
from losscli.io.spill import Spill


@pytest.mark.parametrize("tail", [(), (3,), (2, 2)])
def test_spilled_rows_read_back_exactly(tail):
    rng = np.random.default_rng(1)
    blocks = [rng.normal(size=(n, *tail)).astype(np.float32) for n in (5, 1, 0, 7)]
    spill = Spill(np.float32)
    for block in blocks:
        spill.append(block)
    whole = np.concatenate(blocks)
    array = spill.array()
    assert array.shape == whole.shape and array.ndim == whole.ndim and len(array) == len(whole)
    np.testing.assert_array_equal(np.asarray(array), whole)
    for start, stop in [(0, 3), (4, 9), (10, 100), (-3, None), (5, 5)]:
        np.testing.assert_array_equal(array[start:stop], whole[start:stop])
    np.testing.assert_array_equal(array[-1], whole[-1])


def test_scale_is_applied_as_in_memory():
    values = np.random.default_rng(2).normal(size=(11, 2)).astype(np.float32)
    spill = Spill(np.float32)
    spill.append(values[:4])
    spill.append(values[4:])
    scale = 1 / 11
    expected = values.copy()
    expected *= scale
    np.testing.assert_array_equal(np.asarray(spill.array(scale)), expected)


def test_writers_take_a_spilled_array(monkeypatch):
    monkeypatch.setattr(textout, "BLOCK_ELEMENTS", 4)
    values = np.random.default_rng(3).normal(size=(9, 3)).astype(np.float64)
    spill = Spill(np.float64)
    spill.append(values)
    out = io.StringIO()
    textout.write_json_array(out, spill.array())
    np.testing.assert_array_equal(np.array(json.loads(out.getvalue())), values)
    out = io.StringIO()
    textout.write_long_csv(out, "g", spill.array())
    assert len(out.getvalue().splitlines()) == values.size


def test_rows_of_another_shape_are_refused():
    spill = Spill(np.float32)
    spill.append(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        spill.append(np.zeros((2, 4)))


def test_no_room_for_the_spill_file_is_one_error_line(monkeypatch, expect_error, write_file):
    import errno

    from losscli.io import spill

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spill.tempfile, "TemporaryFile", full)
    pred, labels = write_file("p.csv", "x\n1\n2\n3\n"), write_file("y.csv", "y\n0\n2\n5\n")
    args = ["compute", "mse", pred, labels, "--chunk-size", "2", "-f", "json"]
    expect_error(args, 3, "No space left on device", "TMPDIR")


def test_a_signal_while_the_spill_file_has_a_name_leaves_nothing(monkeypatch, invoke, write_file, tmp_path):
    """Where O_TMPFILE is missing, TemporaryFile makes a named file and unlinks it: no signal falls between."""
    import os
    import signal
    import tempfile

    spill_dir = tmp_path / "tmp"
    spill_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill_dir))
    monkeypatch.setattr(tempfile, "_O_TMPFILE_WORKS", False)
    make = tempfile._mkstemp_inner

    def make_then_stop(*args, **kwargs):
        made = make(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return made

    monkeypatch.setattr(tempfile, "_mkstemp_inner", make_then_stop)
    pred, labels = write_file("p.csv", "x\n1\n2\n3\n"), write_file("y.csv", "y\n0\n2\n5\n")
    result = invoke(["compute", "mse", pred, labels, "--chunk-size", "2", "-f", "json"])
    assert result.exit_code == 143 and result.stderr == "Error: interrupted by SIGTERM\n"
    assert os.listdir(spill_dir) == []


def test_a_failed_read_back_is_one_error_naming_tmpdir(monkeypatch):
    import errno

    from losscli.errors import DataError
    from losscli.io import spill as spill_module

    spill = Spill(np.float32)
    spill.append(np.zeros(4))

    def broken(*args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(spill_module.os, "preadv", broken)
    with pytest.raises(DataError, match="read back the streamed rows .* Input/output error; set TMPDIR"):
        spill.array()[:2]
