"""Intervals, paired differences and gates (issue 14), against scipy, statsmodels and numpy formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

import losscli
from losscli import api
from losscli.engine import significance
from losscli.engine import stats as lstats


def write_column(path, name, values):
    np.savetxt(path, np.asarray(values), header=name, comments="", fmt="%.17g")
    return str(path)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """20 000 rows; b better than a by a hair (errors 0.1 % smaller, drawn apart), c by a real margin."""
    d = tmp_path_factory.mktemp("pair")
    rng = np.random.default_rng(14)
    n = 20_000
    y = rng.normal(size=n)
    a = y + rng.normal(size=n)
    b = y + rng.normal(size=n) * 0.999
    c = y + rng.normal(size=n) * 0.9
    files = {k: write_column(d / f"{k}.csv", k, v) for k, v in dict(y=y, a=a, b=b, c=c).items()}
    return files, {k: v for k, v in dict(y=y, a=a, b=b, c=c).items()}


# --- the t method ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
@pytest.mark.parametrize(("loss", "columns"), [("mse", 1), ("mse", 3), ("l1", 1), ("smooth_l1", 2)])
def test_t_interval_is_the_one_sample_t_interval_of_the_rows(loss, columns, level):
    rng = np.random.default_rng(columns)
    y = rng.normal(size=(300, columns)).squeeze()
    pred = y + rng.standard_t(4, size=y.shape)
    found = losscli.compute(loss, pred, y, dtype="float64", grad=False, ci=level)
    error = pred - y
    elementwise = {
        "mse": error**2,
        "l1": abs(error),
        "smooth_l1": np.where(abs(error) < 1, 0.5 * error**2, abs(error) - 0.5),
    }
    rows = elementwise[loss].reshape(len(y), -1).mean(axis=1)
    expected = stats.ttest_1samp(rows, 0).confidence_interval(level)
    np.testing.assert_allclose(found.ci, (expected.low, expected.high), rtol=1e-9)


def test_sum_is_rows_times_the_mean_interval():
    rng = np.random.default_rng(3)
    y = rng.normal(size=200)
    pred = y + rng.normal(size=200)
    found = losscli.compute("mse", pred, y, reduction="sum", dtype="float64", grad=False, ci=0.95)
    expected = stats.ttest_1samp((pred - y) ** 2, 0).confidence_interval(0.95)
    np.testing.assert_allclose(found.ci, (200 * expected.low, 200 * expected.high), rtol=1e-9)


def ratio_interval(u, w, level):
    """The delta-method interval of Σu / Σw, written from the textbook (Cochran, Sampling Techniques 6.9)."""
    n = len(u)
    r = u.sum() / w.sum()
    z = u - r * w
    se = math.sqrt(n / (n - 1) * (z**2).sum()) / w.sum()
    half = stats.t.ppf(0.5 + level / 2, n - 1) * se
    return r - half, r + half


@pytest.mark.parametrize("ignore", [False, True])
def test_weighted_cross_entropy_uses_the_ratio_estimator(ignore):
    rng = np.random.default_rng(5)
    n, k = 400, 3
    logits = rng.normal(size=(n, k))
    target = rng.integers(0, k, n)
    if ignore:
        target[rng.random(n) < 0.2] = -100
    weight = np.array([1.0, 3.0, 0.5])
    found = losscli.compute(
        "cross_entropy", logits, target, weight=weight.tolist(), dtype="float64", grad=False, ci=0.9
    )
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    kept = target != -100
    safe = np.where(kept, target, 0)
    w = np.where(kept, weight[safe], 0.0)
    u = -w * log_p[np.arange(n), safe]
    np.testing.assert_allclose(found.value, u.sum() / w.sum(), rtol=1e-9)
    np.testing.assert_allclose(found.ci, ratio_interval(u, w, 0.9), rtol=1e-9)
    # a plain mean of the rows' weighted losses would be another (wrong) interval
    wrong = stats.ttest_1samp(u / w.mean(), 0).confidence_interval(0.9)
    assert not np.allclose(found.ci, (wrong.low, wrong.high), rtol=1e-3)


# --- paired differences ----------------------------------------------------------------------------------


def test_a_hair_is_not_significant_and_a_margin_is(pair, invoke_json):
    files, v = pair
    out = invoke_json(
        [
            "compare",
            files["a"],
            files["b"],
            files["c"],
            "--labels",
            files["y"],
            "-l",
            "mse",
            "--ci",
            "--dtype",
            "float64",
        ]
    )
    assert out["best"]["mse"] == files["c"]
    assert out["alternative"] == "two-sided"
    la, lb, lc = ((v[k] - v["y"]) ** 2 for k in "abc")
    raw = {}
    for model, losses in ((files["a"], la), (files["b"], lb)):
        difference = out["differences"][model]["mse"]
        test = stats.ttest_rel(losses, lc)
        interval = test.confidence_interval(0.95)
        assert difference["p_value"] == pytest.approx(test.pvalue, rel=1e-6, abs=1e-300)
        assert difference["delta"] == pytest.approx(np.mean(losses - lc), rel=1e-9)
        np.testing.assert_allclose(difference["ci"], (interval.low, interval.high), rtol=1e-9)
        raw[model] = difference["p_value"]
    assert out["differences"][files["c"]]["mse"] is None
    # a against b: a hair apart
    hair = invoke_json(
        ["compare", files["a"], files["b"], "--labels", files["y"], "-l", "mse", "--ci", "--dtype", "float64"]
    )
    assert hair["best"]["mse"] == files["b"]
    difference = hair["differences"][files["a"]]["mse"]
    assert difference["significant"] is False
    assert difference["p_value"] == pytest.approx(stats.ttest_rel(la, lb).pvalue, rel=1e-6)
    assert out["differences"][files["a"]]["mse"]["significant"] is True
    holm = multipletests([raw[files["a"]], raw[files["b"]]], method="holm")[1]
    adjusted = [out["differences"][m]["mse"]["p_adjusted"] for m in (files["a"], files["b"])]
    np.testing.assert_allclose(adjusted, holm, rtol=1e-9)


def test_with_a_baseline_the_p_value_is_one_sided_lower(pair):
    files, v = pair
    found = api.run_compare(
        [files["a"], files["b"], files["c"]], files["y"], losses=["mse"], baseline=files["a"], ci=0.95, dtype="float64"
    )
    assert found.alternative == "less"
    la = (v["a"] - v["y"]) ** 2
    for k in "bc":
        lk = (v[k] - v["y"]) ** 2
        expected = stats.ttest_rel(lk, la, alternative="less").pvalue
        assert found.differences[files[k]]["mse"].p_value == pytest.approx(expected, rel=1e-6, abs=1e-300)
    assert found.differences[files["c"]]["mse"].significant
    assert not found.differences[files["b"]]["mse"].significant


def test_holm_matches_statsmodels():
    rng = np.random.default_rng(0)
    for size in (1, 2, 5, 9):
        p = rng.random(size) ** 3
        np.testing.assert_allclose(lstats.holm(list(p)), multipletests(p, method="holm")[1], rtol=1e-12)
    assert math.isnan(lstats.holm([0.1, math.nan])[1])


def test_five_models_holm_adjusted_in_compare():
    rng = np.random.default_rng(9)
    y = rng.normal(size=500)
    preds = {f"m{k}": y + rng.normal(size=500) * (1 + 0.04 * k) for k in range(5)}
    found = losscli.compare(preds, y, losses=["l1"], baseline="m0", ci=0.9, dtype="float64")
    l0 = abs(preds["m0"] - y)
    p = [stats.ttest_rel(abs(preds[m] - y), l0, alternative="less").pvalue for m in ["m1", "m2", "m3", "m4"]]
    got = [found.differences[m]["l1"] for m in ["m1", "m2", "m3", "m4"]]
    np.testing.assert_allclose([d.p_value for d in got], p, rtol=1e-9)
    np.testing.assert_allclose([d.p_adjusted for d in got], multipletests(p, method="holm")[1], rtol=1e-9)
    assert [d.significant for d in got] == [q < 0.1 for q in multipletests(p, method="holm")[1]]


# --- the bootstrap --------------------------------------------------------------------------------------


def test_bootstrap_spread_agrees_with_scipy_bootstrap():
    rng = np.random.default_rng(21)
    y = rng.normal(size=2000)
    pred = y + rng.normal(size=2000)
    found = losscli.compute("mse", pred, y, dtype="float64", grad=False, ci=0.95, ci_method="bootstrap", resamples=4000)
    reference = stats.bootstrap(((pred - y) ** 2,), np.mean, n_resamples=4000, method="percentile", random_state=1)
    low, high = reference.confidence_interval
    width = high - low
    assert found.ci[0] == pytest.approx(low, abs=0.06 * width)
    assert found.ci[1] == pytest.approx(high, abs=0.06 * width)
    assert (found.ci[1] - found.ci[0]) == pytest.approx(width, rel=0.08)


def test_the_seed_decides_the_interval():
    rng = np.random.default_rng(2)
    y = rng.normal(size=300)
    pred = y + rng.normal(size=300)
    run = lambda seed: losscli.compute("l1", pred, y, grad=False, ci=0.95, ci_method="bootstrap", seed=seed).ci  # noqa: E731
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_poisson_weights_have_poisson_moments_and_depend_on_the_row_only():
    w = lstats.poisson_weights(7, 0, 5000, 200).astype(float)
    assert w.mean() == pytest.approx(1, abs=0.01)
    assert w.var() == pytest.approx(1, abs=0.02)
    counts = np.bincount(w.astype(int).ravel(), minlength=6)[:6] / w.size
    np.testing.assert_allclose(counts, stats.poisson.pmf(np.arange(6), 1), atol=0.002)
    np.testing.assert_array_equal(lstats.poisson_weights(7, 1000, 300, 200), w[:, 1000:1300])


def test_recomputing_the_loss_gives_the_sums_replicates():
    """The bootstrap that recomputes a loss on resampled rows (for losses that do not decompose) draws the
    weights the summing bootstrap draws: on mse the two agree."""
    rng = np.random.default_rng(4)
    n = 3000
    y = rng.normal(size=n)
    pred = y + rng.normal(size=n)
    settings = significance.Statistics(0.95, "bootstrap", 300, 11)
    tally = settings.tally([1])
    tally.add(0, 0, [(pred - y) ** 2], 1.0)
    tally.finish(n)
    summed = tally.replicates(0, np.ones(1))
    spec = losscli.info("mse")
    from losscli.engine.validate import Input

    inputs = {"input": Input(spec.roles[0], pred, "<pred>"), "target": Input(spec.roles[1], y, "<labels>")}
    recomputed = significance.recomputed(spec, inputs, {}, "mean", "float64", settings)
    np.testing.assert_allclose(recomputed, summed, rtol=1e-9)


# --- streamed = in memory --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_streamed_runs_give_the_same_intervals_to_the_last_digit(pair, method):
    files, _ = pair
    models = [files["a"], files["b"], files["c"]]
    whole = api.run_compare(models, files["y"], losses=["mse,l1"], ci=0.95, ci_method=method).to_dict()
    one = api.run_compute("mse", files["a"], files["y"], ci=0.95, ci_method=method, grad=False).ci
    for size in (7, 1000, 8193):
        streamed = api.run_compare(models, files["y"], losses=["mse,l1"], ci=0.95, ci_method=method, chunk_size=size)
        assert streamed.to_dict()["ci"] == whole["ci"]
        assert streamed.to_dict()["differences"] == whole["differences"]
        assert (
            api.run_compute("mse", files["a"], files["y"], ci=0.95, ci_method=method, grad=False, chunk_size=size).ci
            == one
        )


# --- coverage ---------------------------------------------------------------------------------------------


def coverage(sets, rows, method, seed=0):
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(sets):
        y = rng.normal(size=rows)
        pred = y + rng.normal(size=rows)  # the mean squared error is 1
        low, high = losscli.compute("mse", pred, y, dtype="float64", grad=False, ci=0.95, ci_method=method).ci
        hits += low <= 1 <= high
    return hits / sets


def test_t_intervals_cover_the_true_mean_loss_95_percent_of_the_time():
    """400 data sets: 95 % ± 2 % (the binomial sd of 400 trials at 95 % is 1.1 %)."""
    assert 0.93 <= coverage(400, 200, "t") <= 0.97


@pytest.mark.slow
def test_bootstrap_intervals_cover_the_true_mean_loss_95_percent_of_the_time():
    assert 0.93 <= coverage(400, 200, "bootstrap") <= 0.97


# --- gates ------------------------------------------------------------------------------------------------


def test_fail_if_worse_exits_4_for_a_significantly_worse_model_and_0_for_an_equal_one(pair, invoke):
    files, _ = pair
    worse = invoke(
        [
            "compare",
            files["c"],
            files["a"],
            "--labels",
            files["y"],
            "-l",
            "mse",
            "--baseline",
            files["c"],
            "--ci",
            "--fail-if-worse",
            "mse",
            "-f",
            "json",
        ]
    )
    assert worse.exit_code == 4, worse.stderr
    assert worse.stderr.startswith("Gate failed: ") and files["a"] in worse.stderr
    import json

    document = json.loads(worse.stdout)
    assert document["passed"] is False
    assert [(g["model"], g["rule"], g["passed"]) for g in document["gates"]] == [(files["a"], "fail-if-worse", False)]
    equal = invoke(
        [
            "compare",
            files["c"],
            files["a"],
            "--labels",
            files["y"],
            "-l",
            "mse",
            "--baseline",
            files["a"],
            "--ci",
            "--fail-if-worse",
            "mse=5",
        ]
    )
    assert equal.exit_code == 0, equal.stderr
    same = invoke(
        [
            "compare",
            files["a"],
            files["a"] + "",
            "--labels",
            files["y"],
            "--name",
            f"copy={files['a']}",
            "-l",
            "mse",
            "--fail-if-worse",
            "mse",
        ]
    )
    assert same.exit_code == 0, same.stderr


def test_a_hair_fails_a_point_gate_but_not_an_interval_gate(pair, invoke):
    files, _ = pair
    args = [
        "compare",
        files["b"],
        files["a"],
        "--labels",
        files["y"],
        "-l",
        "mse",
        "--baseline",
        files["b"],
        "--fail-if-worse",
        "mse",
    ]
    assert invoke(args).exit_code == 4  # a is above b's value
    assert invoke([*args, "--ci"]).exit_code == 0  # but not significantly
    assert invoke([*args, "--ci", "--gate-on", "point"]).exit_code == 4


def test_fail_above_on_the_value_or_the_whole_interval(write_file, invoke):
    y = write_file("y.csv", ["y", *range(10)])
    pred = write_file("p.csv", ["p", *(v + (3 if v == 9 else 0.5) for v in range(10))])  # one error of 3
    mse = (9 * 0.25 + 9) / 10
    assert invoke(["compute", "mse", pred, y, "--fail-above", f"mse={mse - 0.01}"]).exit_code == 4
    assert invoke(["compute", "mse", pred, y, "--fail-above", f"mse={mse + 0.01}"]).exit_code == 0
    result = invoke(["compute", "MSELoss", pred, y, "--fail-above", f"mse={mse - 0.01}", "--ci", "-f", "json"])
    assert result.exit_code == 0  # the interval reaches below the bound
    import json

    gate = json.loads(result.stdout)["gates"][0]
    assert gate["passed"] is True and gate["ci"][0] < gate["bound"] < gate["value"]
    steady = write_file("q.csv", ["p", *(v + 0.5 + 0.01 * (v % 2) for v in range(10))])  # mse about 0.255
    assert invoke(["compute", "mse", steady, y, "--fail-above", "mse=0.2", "--ci"]).exit_code == 4


def test_the_api_judges_gates_without_raising(pair):
    files, v = pair
    found = losscli.compare(
        {"a": v["a"], "c": v["c"]}, v["y"], losses=["mse"], baseline="c", ci=0.95, fail_if_worse={"mse": 0}
    )
    assert found.passed is False and [g.model for g in found.gates if not g.passed] == ["a"]
    assert losscli.compute("mse", v["c"], v["y"], fail_above=10).passed is True


# --- options and errors -----------------------------------------------------------------------------------


def test_bare_ci_before_the_files_takes_the_default_level(pair, invoke_json):
    files, _ = pair
    out = invoke_json(["compare", "--ci", files["a"], files["b"], "--labels", files["y"], "-l", "l1"])
    assert out["ci_level"] == 0.95 and out["ci_method"] == "t" and out["resamples"] is None
    assert (
        invoke_json(["compare", "--ci", "0.8", files["a"], files["b"], "--labels", files["y"], "-l", "l1"])["ci_level"]
        == 0.8
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--ci", "1.5"], "between 0 and 1"),
        (["--ci-method", "bootstrap"], "add --ci"),
        (["--ci", "--resamples", "50"], "--ci-method bootstrap"),
        (["--ci", "--ci-method", "jackknife"], "choose t or bootstrap"),
        (["--ci", "--reduction", "none"], "reduced value"),
        (["--fail-if-worse", "mse"], "use losscli compare"),
        (["--fail-above", "mse=abc"], "LOSS=VALUE"),
        (["--fail-above", "l1=1"], "name a computed loss"),
        (["--gate-on", "ci", "--fail-above", "mse=1"], "add --ci"),
    ],
)
def test_usage_errors(write_file, expect_error, args, fragment):
    y = write_file("y.csv", ["y", 1, 2, 3])
    pred = write_file("p.csv", ["p", 1, 2, 4])
    expect_error(["compute", "mse", pred, y, *args], 2, fragment)


def test_losses_whose_rows_interact_say_why_they_have_no_interval(write_file, expect_error):
    emb = write_file("e.csv", ["a,b", "1,0", "0.9,0.1", "0,1", "0.1,0.9"])
    labels = write_file("l.csv", ["g", 0, 0, 1, 1])
    for loss in ("ntxent", "circle", "contrastive", "supcon", "multi_similarity"):
        expect_error(["compute", loss, emb, labels, "--ci"], 2, "has no interval", "repeats rows")
    weight = write_file("w.csv", ["c0,c1", "1,0", "0,1"])
    for loss, role in (("arcface", "weight"), ("cosface", "weight"), ("proxy_anchor", "proxies")):
        args = ["compute", loss, emb, labels, "--input", f"{role}={weight}", "--ci", "--ci-method", "bootstrap"]
        expect_error(args, 2, f"{loss} has no interval", f"class centres (--input {role})")
    for loss in ("barlow_twins", "vicreg"):
        expect_error(["compute", loss, emb, "--input", f"ref_emb={emb}", "--ci"], 2, "has no interval", "whole batch")


@pytest.mark.parametrize(("loss", "pred"), [("jaccard", [[2, -1, 1], [-1, 2, -2], [1, -2, 2]]), ("mcc", None)])
def test_losses_that_pool_the_batch_are_bootstrapped_by_recomputing_them(
    write_file, expect_error, invoke_json, loss, pred
):
    """smp's Jaccard and MCC: one overlap of the whole batch, no per-sample values for a t interval."""
    masks = write_file("m.csv", [[1, 0, 1], [0, 1, 0], [1, 0, 0]])
    pred = write_file("p.csv", pred or [[0.9, 0.2, 0.7], [0.1, 0.8, 0.4], [0.6, 0.3, 0.2]])
    args = ["compute", loss, pred, masks, "--no-grad"] + (["-p", "mode=binary"] if loss == "jaccard" else [])
    expect_error([*args, "--ci"], 2, f"{loss} does not decompose over samples", "--ci-method bootstrap")
    out = invoke_json([*args, "--ci", "--ci-method", "bootstrap", "--resamples", "200"])
    assert out["ci_method"] == "bootstrap" and out["ci"][0] <= out["ci"][1]


def test_psnr_of_the_pooled_batch_is_bootstrapped_by_recomputing_it(write_file, expect_error, invoke_json):
    """psnr is one MSE of the whole batch: no t interval, but each resample of the images is scored anew."""
    rng = np.random.default_rng(3)
    target = rng.uniform(0.2, 0.8, (6, 1, 4, 4))
    pred = target + rng.normal(0.0, 0.1, target.shape)
    files = [write_file("p.npy", pred), write_file("t.npy", target)]
    expect_error(["compute", "psnr", *files, "--ci"], 2, "psnr does not decompose", "use --ci-method bootstrap")
    out = invoke_json(
        ["compute", "psnr", *files, "--ci", "--ci-method", "bootstrap", "--no-grad", "--dtype", "float64"]
    )
    low, high = out["ci"]
    per_image = -10 * np.log10(1 / ((pred - target) ** 2).mean(axis=(1, 2, 3)))
    assert low < out["value"] < high
    assert per_image.min() < low and high < per_image.max()  # a resampled batch's PSNR lies between its images'


def test_compare_chunk_size_needs_named_losses(pair, expect_error):
    files, _ = pair
    expect_error(["compare", files["a"], "--labels", files["y"], "--chunk-size", "100"], 2, "-l")
