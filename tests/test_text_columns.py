"""Columns of text (ids, names, categories, dates) beside the numbers: left out of a default choice of columns,
in whole and streamed reads of every form, and never silently when a number hides among them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import losscli

ROWS = 40


@pytest.fixture
def table():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": [f"r{i:03d}" for i in range(ROWS)],
            "y": rng.normal(size=ROWS),
            "a": rng.normal(size=ROWS),
            "region": rng.choice(["north", "south", "east"], ROWS),
            "b": rng.normal(size=ROWS),
        }
    )
    return frame


def expected_mse(frame):
    """mse of the numeric prediction column a against y, as numpy computes it."""
    return float(np.mean((frame["a"].to_numpy() - frame["y"].to_numpy()) ** 2))


@pytest.mark.parametrize("form", ["csv", "tsv", "parquet"])
@pytest.mark.parametrize("chunk", [None, "7"])
def test_compute_leaves_text_columns_out_of_the_predictions(tmp_path, table, invoke_json, form, chunk):
    path = tmp_path / f"t.{form}"
    table = table.drop(columns=["b"])
    if form == "parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False, sep="," if form == "csv" else "\t")
    args = ["compute", "mse", path, "--label-col", "y", "--dtype", "float64", "--no-grad"]
    out = invoke_json([*args, *(["--chunk-size", chunk] if chunk else [])])
    assert out["inputs"]["input"]["columns"] == ["a"]
    assert out["value"] == pytest.approx(expected_mse(table), rel=1e-12)


def test_compare_takes_only_the_numeric_columns_as_models(tmp_path, table, invoke_json):
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    for extra in ([], ["-l", "mse", "--chunk-size", "5"]):
        out = invoke_json(["compare", path, "--label-col", "y", "--dtype", "float64", *extra])
        assert [row["name"] for row in out["rows"]] == ["a", "b"]


def test_a_text_column_chosen_is_still_an_error(tmp_path, table, expect_error):
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    expect_error(
        ["compute", "mse", path, "--label-col", "y", "--pred-col", "region"], 3, "column 'region'", "cannot read"
    )


def test_a_number_among_the_text_is_an_error_whole_and_streamed(tmp_path, table, expect_error):
    table.loc[30, "region"] = "12"  # a column of text and one number: a typo, or numbers: not left out silently
    table = table.drop(columns=["b"])
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    args = ["compute", "mse", path, "--label-col", "y", "--no-grad"]
    expect_error(args, 3, "column 'region'", "cannot read")
    expect_error([*args, "--chunk-size", "4"], 3, "column 'region'", "row 31 holds the number '12'", "--pred-col")


def test_the_api_leaves_text_columns_of_a_dataframe_out(table):
    found = losscli.compute("mse", table.drop(columns=["y", "b"]), table["y"], dtype="float64", grad=False)
    assert found.inputs["input"].columns == ["a"]
    assert found.value == pytest.approx(expected_mse(table), rel=1e-12)
