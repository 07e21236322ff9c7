"""Slices (--by), the worst rows (--worst) and sample weights (--sample-weight), against pandas' groupby and
qcut with numpy, numpy's argsort, scipy's t test and scikit-learn's metrics with sample_weight."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import log_softmax, softmax
from sklearn import metrics

import losscli

N = 3000


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """Labels y, two models, a text slice column with empty cells, an integer and a float column, weights."""
    rng = np.random.default_rng(15)
    frame = pd.DataFrame({"y": rng.normal(size=N)})
    frame["a"] = frame.y + rng.normal(size=N)
    frame["b"] = frame.y + rng.standard_t(3, size=N) * 0.8
    frame["region"] = rng.choice(["north", "south", "east", "west"], N)
    frame.loc[rng.random(N) < 0.05, "region"] = None
    frame["hour"] = rng.integers(0, 6, N)
    frame["age"] = rng.uniform(18, 90, N)
    frame["w"] = rng.gamma(2.0, size=N)
    path = tmp_path_factory.mktemp("rows") / "table.csv"
    frame.to_csv(path, index=False)
    return frame, str(path)


def squared(frame, model):
    return (frame[model] - frame.y) ** 2


def by_slice(found, column, model, loss):
    return {row["slice"][column]: row["values"][model][loss] for row in found["slices"]}


# --- slices ---------------------------------------------------------------------------------------------


def test_slices_of_a_text_column_match_pandas_groupby(table, invoke_json):
    frame, path = table
    out = invoke_json(
        [
            "compare",
            path,
            "--label-col",
            "y",
            "--pred-col",
            "a,b",
            "-l",
            "mse,l1",
            "--by",
            "region",
            "--dtype",
            "float64",
        ]
    )
    model_a, model_b = (row["pred"] for row in out["rows"])
    for model, column in ((model_a, "a"), (model_b, "b")):
        errors = frame[column] - frame.y
        expected_mse = (errors**2).groupby(frame.region, dropna=False).mean()
        expected_l1 = errors.abs().groupby(frame.region, dropna=False).mean()
        got_mse, got_l1 = by_slice(out, "region", model, "mse"), by_slice(out, "region", model, "l1")
        for key, value in expected_mse.items():
            key = None if pd.isna(key) else key
            assert got_mse[key] == pytest.approx(value, rel=1e-12)
            assert got_l1[key] == pytest.approx(expected_l1[key if key is not None else np.nan], rel=1e-12)
    counts = frame.region.value_counts(dropna=False)
    assert {row["slice"]["region"]: row["n"] for row in out["slices"]} == {
        (None if pd.isna(k) else k): v for k, v in counts.items()
    }
    assert [row["slice"]["region"] for row in out["slices"]] == ["east", "north", "south", "west", None]


def test_a_float_column_is_cut_at_its_quantiles_as_qcut_cuts(table, invoke_json):
    frame, path = table
    out = invoke_json(
        [
            "compute",
            "mse",
            path,
            "--label-col",
            "y",
            "--pred-col",
            "a",
            "--by",
            "age",
            "--bins",
            "4",
            "--no-grad",
            "--dtype",
            "float64",
        ]
    )
    bins, edges = pd.qcut(frame.age, 4, retbins=True)
    expected = squared(frame, "a").groupby(bins, observed=True).mean()
    assert [row["values"]["mse"] for row in out["slices"]] == pytest.approx(expected.to_numpy(), rel=1e-12)
    assert [row["n"] for row in out["slices"]] == bins.value_counts(sort=False).tolist()
    assert out["bins"]["age"] == pytest.approx(edges.tolist(), rel=1e-12)


def test_crossed_columns_and_the_smallest_slices_left_out(table, invoke_json):
    frame, path = table
    out = invoke_json(
        [
            "compute",
            "l1",
            path,
            "--label-col",
            "y",
            "--pred-col",
            "b",
            "--by",
            "region,hour",
            "--min-slice-size",
            "110",
            "--no-grad",
            "--dtype",
            "float64",
        ]
    )
    errors = (frame.b - frame.y).abs()
    groups = errors.groupby([frame.region, frame.hour], dropna=False)
    sizes = groups.size()
    expected = groups.mean()[sizes >= 110]
    found = {(row["slice"]["region"], row["slice"]["hour"]): row["values"]["l1"] for row in out["slices"]}
    assert len(found) == len(expected) and out["slices_left_out"] == int((sizes < 110).sum()) > 0
    for (region, hour), value in expected.items():
        assert found[(None if pd.isna(region) else region, hour)] == pytest.approx(value, rel=1e-12)
    assert all(row["n"] >= 110 for row in out["slices"])


@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_every_slice_gets_its_interval_and_streams_to_the_same_digits(table, invoke_json, method):
    frame, path = table
    args = [
        "compare",
        path,
        "--label-col",
        "y",
        "--pred-col",
        "a,b",
        "-l",
        "mse",
        "--by",
        "region",
        "--ci",
        "--ci-method",
        method,
        "--dtype",
        "float64",
    ]
    whole = invoke_json(args)
    for size in ("1", "700", "8193"):
        streamed = invoke_json([*args, "--chunk-size", size])
        assert streamed["slices"] == whole["slices"]
    if method == "t":
        model = whole["rows"][0]["pred"]
        for row in whole["slices"]:
            key = row["slice"]["region"]
            rows = squared(frame, "a")[frame.region.isna() if key is None else frame.region == key]
            expected = stats.ttest_1samp(rows, 0).confidence_interval(0.95)
            assert row["ci"][model]["mse"] == pytest.approx([expected.low, expected.high], rel=1e-9)


def test_by_class_slices_by_the_label(write_file, invoke_json):
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(400, 3))
    labels = rng.integers(0, 3, 400)
    pred = write_file("logits.npy", logits)
    y = write_file("y.npy", labels)
    out = invoke_json(["compute", "ce", pred, y, "--by-class", "--no-grad", "--dtype", "float64"])
    rows = -log_softmax(logits, axis=1)[np.arange(400), labels]
    expected = pd.Series(rows).groupby(labels).mean()
    assert [row["slice"]["class"] for row in out["slices"]] == [0, 1, 2]
    assert [row["values"]["cross_entropy"] for row in out["slices"]] == pytest.approx(expected.to_numpy(), rel=1e-12)


def test_slices_from_a_file_of_their_own(table, write_file, invoke_json):
    frame, path = table
    slices = write_file("slices.parquet", {"segment": frame.region.fillna("none").to_numpy()})
    out = invoke_json(
        [
            "compute",
            "mse",
            path,
            "--label-col",
            "y",
            "--pred-col",
            "a",
            "--slices",
            slices,
            "--by",
            "segment",
            "--no-grad",
            "--dtype",
            "float64",
        ]
    )
    expected = squared(frame, "a").groupby(frame.region.fillna("none")).mean()
    assert {row["slice"]["segment"]: row["values"]["mse"] for row in out["slices"]} == pytest.approx(expected.to_dict())


def test_a_slice_column_is_no_label_column(tmp_path, invoke_json):
    """--by names a numeric column of the labels' file: the labels are its other column."""
    y = np.arange(10.0)
    pd.DataFrame({"y": y, "batch": [1, 2] * 5}).to_csv(tmp_path / "y.csv", index=False)
    pd.DataFrame({"p": y + 1}).to_csv(tmp_path / "p.csv", index=False)
    out = invoke_json(["compute", "mse", tmp_path / "p.csv", tmp_path / "y.csv", "--by", "batch", "--no-grad"])
    assert out["inputs"]["target"]["columns"] == ["y"] and out["value"] == 1.0
    assert [row["n"] for row in out["slices"]] == [5, 5]


def test_slice_rows_must_match(table, write_file, expect_error):
    _, path = table
    slices = write_file("s.csv", ["g", *range(10)])
    expect_error(
        ["compute", "mse", path, "--label-col", "y", "--pred-col", "a", "--slices", slices, "--by", "g"],
        3,
        "10 rows",
        "one row per sample",
    )


def test_the_api_slices_a_dataframe(table):
    frame, _ = table
    found = losscli.compare(
        {"a": frame.a, "b": frame.b}, frame[["y", "region"]], losses=["mse"], by="region", dtype="float64"
    )
    expected = squared(frame, "b").groupby(frame.region).mean()
    got = {row.key["region"]: row.values["b"]["mse"] for row in found.slices}
    assert {k: got[k] for k in expected.index} == pytest.approx(expected.to_dict(), rel=1e-12)


# --- worst rows -----------------------------------------------------------------------------------------


def test_worst_rows_are_the_argsort_of_the_rows_losses(table, invoke_json):
    frame, path = table
    out = invoke_json(
        ["compare", path, "--label-col", "y", "--pred-col", "a,b", "-l", "mse,l1", "--worst", "7", "--dtype", "float64"]
    )
    for row in out["rows"]:
        column = row["pred"].rsplit(":", 1)[1]
        for loss, per_row in (("mse", squared(frame, column)), ("l1", (frame[column] - frame.y).abs())):
            worst = out["worst"][row["pred"]][loss]
            expected = np.argsort(-per_row.to_numpy(), kind="stable")[:7]
            assert [w["index"] for w in worst] == expected.tolist()
            assert [w["row"] for w in worst] == (expected + 1).tolist()
            assert [w["loss"] for w in worst] == pytest.approx(per_row.to_numpy()[expected], rel=1e-12)
            assert [w["pred"] for w in worst] == pytest.approx(frame[column].to_numpy()[expected])
            assert [w["label"] for w in worst] == pytest.approx(frame.y.to_numpy()[expected])


def test_worst_rows_of_a_multi_column_loss_and_streamed(write_file, invoke_json):
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(2000, 4)) * 3
    labels = rng.integers(0, 4, 2000)
    labels[[5, 9]] = [0, 0]
    logits[[5, 9]] = [[-9, 9, 0, 0], [-9, 9, 0, 0]]  # the same large loss twice: the earlier row first
    pred = write_file(
        "logits.csv", [",".join(f"c{j}" for j in range(4)), *(",".join(repr(float(v)) for v in r) for r in logits)]
    )
    y = write_file("y.csv", ["y", *labels.tolist()])
    args = ["compute", "cross_entropy", pred, y, "--worst", "5", "--dtype", "float64", "--no-grad"]
    out = invoke_json(args)
    rows = -log_softmax(logits, axis=1)[np.arange(2000), labels]
    expected = np.argsort(-rows, kind="stable")[:5]
    assert [w["index"] for w in out["worst"]] == expected.tolist()
    assert out["worst"][0]["index"] == 5 and out["worst"][1]["index"] == 9
    assert out["worst"][0]["pred"] == pytest.approx(logits[5].tolist()) and out["worst"][0]["label"] == 0
    assert invoke_json([*args, "--chunk-size", "3"])["worst"] == out["worst"]


def test_worst_needs_a_loss_per_row(write_file, expect_error):
    emb = write_file("e.csv", ["a,b", "1,0", "0.9,0.1", "0,1", "0.1,0.9"])
    labels = write_file("l.csv", ["g", 0, 0, 1, 1])
    expect_error(["compute", "ntxent", emb, labels, "--worst", "2"], 2, "does not decompose", "--worst")
    expect_error(["compute", "mse", labels, labels, "--worst", "2", "-f", "csv"], 2, "-f json")


def test_the_table_shows_the_worst_rows_counted_from_1(table, invoke):
    frame, path = table
    result = invoke(["compute", "mse", path, "--label-col", "y", "--pred-col", "a", "--worst", "3", "--no-grad"])
    assert result.exit_code == 0
    first = int(np.argmax(squared(frame, "a").to_numpy())) + 1
    table_rows = result.stdout.split("Worst rows under mse")[1].splitlines()
    assert any(line.split("│")[1].strip() == str(first) for line in table_rows if "│" in line)


# --- sample weights -------------------------------------------------------------------------------------


REFERENCES = {
    "mse": lambda y, p, w: metrics.mean_squared_error(y, p, sample_weight=w),
    "l1": lambda y, p, w: metrics.mean_absolute_error(y, p, sample_weight=w),
    "pinball:quantile=0.8": lambda y, p, w: metrics.mean_pinball_loss(y, p, alpha=0.8, sample_weight=w),
    "poisson_deviance": lambda y, p, w: metrics.mean_poisson_deviance(y, p, sample_weight=w),
    "gamma_deviance": lambda y, p, w: metrics.mean_gamma_deviance(y, p, sample_weight=w),
    "tweedie:power=1.5": lambda y, p, w: metrics.mean_tweedie_deviance(y, p, power=1.5, sample_weight=w),
}


@pytest.mark.parametrize("loss", REFERENCES)
def test_weights_match_scikit_learn(loss):
    rng = np.random.default_rng(11)
    y = rng.gamma(2.0, size=500) + 0.1
    p = y * rng.uniform(0.5, 1.5, 500)
    w = rng.random(500) * 3
    w[:20] = 0
    name, _, setting = loss.partition(":")
    params = {setting.split("=")[0]: float(setting.split("=")[1])} if setting else {}
    found = losscli.compute(name, p, y, sample_weight=w, dtype="float64", grad=False, **params)
    assert found.value == pytest.approx(REFERENCES[loss](y, p, w), rel=1e-10)


def test_weighted_log_loss_and_cross_entropy_match_scikit_learn():
    rng = np.random.default_rng(12)
    w = rng.random(300)
    y = rng.integers(0, 2, 300)
    prob = rng.uniform(0.02, 0.98, 300)
    found = losscli.compute("bce", prob, y.astype(float), sample_weight=w, dtype="float64", grad=False)
    assert found.value == pytest.approx(metrics.log_loss(y, prob, sample_weight=w), rel=1e-10)
    classes = rng.integers(0, 4, 300)
    logits = rng.normal(size=(300, 4))
    found = losscli.compute("cross_entropy", logits, classes, sample_weight=w, dtype="float64", grad=False)
    assert found.value == pytest.approx(metrics.log_loss(classes, softmax(logits, axis=1), sample_weight=w), rel=1e-10)


def test_the_gradient_is_that_of_the_weighted_mean():
    rng = np.random.default_rng(13)
    y = rng.normal(size=(200, 3))
    p = y + rng.normal(size=(200, 3))
    w = rng.random(200)
    found = losscli.compute("mse", p, y, sample_weight=w, dtype="float64")
    expected = 2 * w[:, None] * (p - y) / (3 * w.sum())  # d/dp of Σ wᵢ Σⱼ (pᵢⱼ − yᵢⱼ)² / (3 Σ wᵢ)
    np.testing.assert_allclose(found.grad, expected, rtol=1e-12)
    assert found.value == pytest.approx(metrics.mean_squared_error(y, p, sample_weight=w), rel=1e-12)
    total = losscli.compute("mse", p, y, sample_weight=w, reduction="sum", dtype="float64")
    assert total.value == pytest.approx(float((w[:, None] * (p - y) ** 2).sum()), rel=1e-12)


def test_weights_from_a_column_or_a_file_whole_and_streamed(table, write_file, invoke_json):
    frame, path = table
    weights = write_file("w.npy", frame.w.to_numpy())
    expected = metrics.mean_squared_error(frame.y, frame.a, sample_weight=frame.w)
    base = ["compute", "mse", path, "--label-col", "y", "--pred-col", "a", "--dtype", "float64"]
    for option in ("w", weights):
        for extra in ([], ["--chunk-size", "128"]):
            out = invoke_json([*base, "--sample-weight", option, *extra])
            assert out["value"] == pytest.approx(expected, rel=1e-12)
    compared = invoke_json(
        [
            "compare",
            path,
            "--label-col",
            "y",
            "-l",
            "mse",
            "--by",
            "region,hour,age",
            "--sample-weight",
            "w",
            "--dtype",
            "float64",
        ]
    )
    assert [row["name"] for row in compared["rows"]] == ["a", "b"]  # the slice and weight columns are no models
    compared = invoke_json(
        [
            "compare",
            path,
            "--label-col",
            "y",
            "--pred-col",
            "a,b",
            "-l",
            "mse",
            "--by",
            "region",
            "--sample-weight",
            "w",
            "--dtype",
            "float64",
        ]
    )
    slices = {row["slice"]["region"]: row["values"][compared["rows"][0]["pred"]]["mse"] for row in compared["slices"]}
    grouped = frame.dropna(subset=["region"]).groupby("region")
    for region, rows in grouped:
        assert slices[region] == pytest.approx(
            metrics.mean_squared_error(rows.y, rows.a, sample_weight=rows.w), rel=1e-12
        )


def test_weighted_interval_is_the_ratio_estimators():
    rng = np.random.default_rng(14)
    y = rng.normal(size=400)
    p = y + rng.normal(size=400)
    w = rng.random(400) * 2
    found = losscli.compute("l1", p, y, sample_weight=w, dtype="float64", grad=False, ci=0.9)
    u, x = w * np.abs(p - y), w
    r = u.sum() / x.sum()
    se = np.sqrt(400 / 399 * ((u - r * x) ** 2).sum()) / x.sum()
    half = stats.t.ppf(0.95, 399) * se
    assert found.ci == pytest.approx((r - half, r + half), rel=1e-9)


@pytest.mark.parametrize(
    ("weights", "fragment"),
    [
        (["1", "2", "-1", "1"], "row 3 is -1"),
        (["1", "", "1", "1"], "row 2 is empty"),
        (["1", "inf", "1", "1"], "row 2 is inf"),
        (["0", "0", "0", "0"], "every weight is 0"),
        (["1", "x", "1", "1"], "row 2 holds 'x'"),
    ],
)
def test_bad_weights_are_data_errors(write_file, expect_error, weights, fragment):
    pred = write_file("p.csv", ["p", 1, 2, 3, 4])
    y = write_file("y.csv", ["y,w", *(f"{v},{w}" for v, w in zip([1, 2, 3, 5], weights, strict=True))])
    expect_error(
        ["compute", "mse", pred, y, "--label-col", "y", "--sample-weight", "w"], 3, "--sample-weight", fragment
    )


def test_weights_of_other_rows_are_a_data_error(write_file, expect_error):
    pred = write_file("p.csv", ["p", 1, 2, 3, 4])
    w = write_file("w.csv", ["w", 1, 1, 1])
    expect_error(["compute", "mse", pred, pred, "--sample-weight", w], 3, "--sample-weight", "3 weights")
    expect_error(["compute", "mse", pred, pred, "--sample-weight", w, "--chunk-size", "2"], 3, "--sample-weight")


def test_weights_need_a_loss_per_row(write_file, expect_error):
    emb = write_file("e.csv", ["a,b", "1,0", "0.9,0.1", "0,1", "0.1,0.9"])
    labels = write_file("l.csv", ["g", 0, 0, 1, 1])
    w = write_file("w.csv", ["w", 1, 1, 1, 1])
    expect_error(["compute", "circle", emb, labels, "--sample-weight", w], 2, "does not decompose")
    expect_error(["compute", "mse", labels, labels, "--sample-weight", w, "--reduction", "none"], 2, "--reduction")
    expect_error(["compute", "mse", labels, labels, "--sample-weight", "nope"], 3, "no such file")


def test_json_keys(table, invoke_json):
    _, path = table
    out = invoke_json(
        [
            "compute",
            "mse",
            path,
            "--label-col",
            "y",
            "--pred-col",
            "a",
            "--by",
            "region",
            "--worst",
            "1",
            "--sample-weight",
            "w",
            "--ci",
        ]
    )
    assert {"slices", "slices_left_out", "slice_columns", "bins", "worst", "sample_weight"} <= set(out)
    assert set(out["slices"][0]) == {"slice", "n", "values", "ci"}
    assert set(out["worst"][0]) == {"row", "index", "loss", "pred", "label", "weight"}
    json.dumps(out)


def test_sample_models_by_region_match_a_pandas_groupby(invoke, invoke_json):
    """The issue's own check: compare sample_data/models.csv --label-col y --by region --ci."""
    args = ["compare", "sample_data/models.csv", "--label-col", "y", "--by", "region", "--ci"]
    frame = pd.read_csv("sample_data/models.csv")
    out = invoke_json([*args, "--dtype", "float64"])
    assert out["slice_columns"] == ["region"] and [row["n"] for row in out["slices"]] == [5, 5, 5, 5]
    table = invoke(args).stdout
    for model in ("model_a", "model_b", "model_c"):
        errors = frame[model] - frame.y
        expected = {"mse": (errors**2).groupby(frame.region).mean(), "l1": errors.abs().groupby(frame.region).mean()}
        pred = f"sample_data/models.csv:{model}"
        for loss, values in expected.items():
            assert by_slice(out, "region", pred, loss) == pytest.approx(values.to_dict(), rel=1e-12)
            section = table.split(f"{loss} by region")[1].split(" by region")[0]
            for region, value in values.items():
                line = next(line for line in section.splitlines() if f"│ {region} " in line)
                assert f"{value:.4g}" in line
