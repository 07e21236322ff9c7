"""Large arrays as JSON/CSV text (losscli.io.textout) against json, csv and numpy themselves."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from losscli.io import textout


def _arrays():
    rng = np.random.default_rng(3)
    special = np.array([0.0, -0.0, 1.0, -3.0, 1e-8, 1e20, 1 / 3, 5e-45, 3.4e38, 0.1], np.float64)
    for dtype in (np.float32, np.float64):
        yield pytest.param(rng.normal(size=57).astype(dtype), id=f"1d-{dtype.__name__}")
        yield pytest.param(special.astype(dtype), id=f"special-{dtype.__name__}")
        yield pytest.param(rng.normal(size=(7, 3)).astype(dtype), id=f"2d-{dtype.__name__}")
        yield pytest.param(rng.normal(size=(3, 2, 4, 2)).astype(dtype), id=f"4d-{dtype.__name__}")
        yield pytest.param(np.array(2.5, dtype), id=f"0d-{dtype.__name__}")
        yield pytest.param(np.zeros((4, 0), dtype), id=f"empty-rows-{dtype.__name__}")
        yield pytest.param(np.zeros((0,), dtype), id=f"empty-{dtype.__name__}")
    yield pytest.param(np.arange(-3, 9, dtype=np.int64).reshape(4, 3), id="int64")


@pytest.fixture(params=[1, 5, 1 << 20], ids=["block-1", "block-5", "block-1M"])
def block(request, monkeypatch):
    monkeypatch.setattr(textout, "BLOCK_ELEMENTS", request.param)


def _json_text(array: np.ndarray) -> str:
    out = io.StringIO()
    textout.write_json_array(out, array)
    return out.getvalue()


@pytest.mark.parametrize("array", list(_arrays()))
def test_json_array_reads_back_exactly(block, array):
    text = _json_text(array)
    back = json.loads(text)
    assert np.shape(back) == array.shape  # nested alike
    np.testing.assert_array_equal(np.asarray(back, dtype=array.dtype), array)  # each number reads back the same
    if array.dtype.kind == "f" and array.size:
        assert all(isinstance(x, float) for x in np.asarray(back, dtype=object).ravel())  # 1.0 stays a float


def _digits(number: str) -> str:
    """The significant digits of a decimal number."""
    return number.lstrip("-").split("e")[0].replace(".", "").strip("0") or "0"


@pytest.mark.parametrize("array", list(_arrays()))
def test_json_numbers_are_the_shortest_that_round_trip(block, array):
    """No more significant digits than numpy's shortest repr of each value in the array's dtype."""
    if array.dtype.kind != "f" or not array.size:
        return
    numbers = _json_text(array.reshape(-1)).strip("[]").split(", ")
    for number, value in zip(numbers, array.reshape(-1), strict=True):
        assert len(_digits(number)) <= len(_digits(np.format_float_scientific(value, unique=True)))


def test_json_non_finite_is_null(block):
    array = np.array([[1.5, np.nan], [np.inf, -np.inf]], np.float32)
    assert json.loads(_json_text(array)) == [[1.5, None], [None, None]]


def test_write_json_replaces_placeholders(block):
    arrays = {textout.placeholder(0): np.array([1.0, 2.0], np.float32), textout.placeholder(1): np.eye(2)}
    document = {"a": 'x, "quoted"', "values": textout.placeholder(0), "nested": {"g": textout.placeholder(1)}}
    out = io.StringIO()
    textout.write_json(out, document, arrays)
    assert out.getvalue().endswith("}\n")
    assert json.loads(out.getvalue()) == {
        "a": 'x, "quoted"',
        "values": [1.0, 2.0],
        "nested": {"g": [[1.0, 0.0], [0.0, 1.0]]},
    }


@pytest.mark.parametrize("array", list(_arrays()))
def test_long_csv_is_what_the_csv_module_writes(block, array):
    out = io.StringIO()
    textout.write_long_csv(out, "grad_input", array)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    want = [["grad_input", ",".join(map(str, index)), value] for index, value in np.ndenumerate(array)]
    assert [row[:2] for row in rows] == [row[:2] for row in want]
    got = np.array([float(row[2]) for row in rows], dtype=np.float64).astype(array.dtype)
    np.testing.assert_array_equal(got, array.reshape(-1))
    if array.ndim > 1 and array.size:
        assert out.getvalue().splitlines()[0] == 'grad_input,"0,0' + ",0" * (array.ndim - 2) + '",' + rows[0][2]


def test_long_csv_non_finite(block):
    out = io.StringIO()
    textout.write_long_csv(out, "values", np.array([np.nan, np.inf, -np.inf, 2.0], np.float64))
    assert [row[2] for row in csv.reader(io.StringIO(out.getvalue()))] == ["nan", "inf", "-inf", "2"]


def test_columns_csv(block):
    rng = np.random.default_rng(5)
    blocks = [rng.normal(size=(9, 1)).astype(np.float32), rng.normal(size=(9, 3)).astype(np.float32)]
    out = io.StringIO()
    textout.write_columns_csv(out, ["a", "b[0]", "b[1]", "b[2]"], blocks)
    lines = out.getvalue().splitlines()
    assert lines[0] == "a,b[0],b[1],b[2]"
    table = np.array([[float(x) for x in line.split(",")] for line in lines[1:]]).astype(np.float32)
    np.testing.assert_array_equal(table, np.hstack(blocks))


@pytest.mark.parametrize("array", list(_arrays()))
def test_npy_is_what_numpy_save_writes(block, array):
    ours, theirs = io.BytesIO(), io.BytesIO()
    textout.write_npy(ours, array)
    np.save(theirs, array)
    assert ours.getvalue() == theirs.getvalue()
