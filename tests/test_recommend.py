"""`losscli recommend` end to end (issue 3, SPEC §3), and the warnings `compute` gives for the
same classic mistakes: detected label types, the SPEC table's first suggestion, runnable
`losscli compute` lines, the output formats, the errors, and that recommend stays free of
torch and pandas.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

try:
    from tests.spec_tables import FIRST_RECOMMENDATION as FIRST
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from spec_tables import FIRST_RECOMMENDATION as FIRST


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def binary_5pct(n: int = 2000) -> np.ndarray:
    y = np.zeros(n)
    y[rng(3).choice(n, n // 20, replace=False)] = 1
    return y


def rare_class(n: int = 3000) -> np.ndarray:
    g = rng(5)
    y = g.integers(0, 9, n)
    y[g.choice(n, n // 100, replace=False)] = 9
    return y


def labels_for(label_type: str) -> np.ndarray:
    """Realistic, seeded labels of each type (as the files users have)."""
    n = 2000
    if label_type == "continuous":
        y = rng(0).normal(10, 2, n)
        bad = rng(1).choice(n, n // 100, replace=False)
        y[bad] += rng(2).choice([-1, 1], len(bad)) * 60.0
        return y
    if label_type == "bounded":
        return rng(2).beta(2, 5, n)
    if label_type == "binary":
        return binary_5pct(n)
    if label_type == "multiclass":
        return rng(4).integers(0, 10, n)
    if label_type == "onehot":
        return np.eye(5)[rng(6).integers(0, 5, n)]
    if label_type == "multilabel":
        return (rng(7).random((n, 6)) < [0.5, 0.3, 0.2, 0.1, 0.05, 0.02]).astype(float)
    if label_type == "signed":
        return rng(8).choice([-1.0, 1.0], n)
    if label_type == "distribution":
        return rng(9).dirichlet(np.ones(4), n)
    if label_type == "count":
        return rng(10).poisson(50, n)
    raise AssertionError(label_type)


def preds_for(label_type: str, labels: np.ndarray) -> np.ndarray:
    """Correct predictions for each type: what a well-built model would output for the top loss."""
    g = rng(100)
    if label_type == "continuous":
        return labels + g.normal(0, 1, labels.shape)
    if label_type == "bounded":
        return np.clip(labels + g.normal(0, 0.05, labels.shape), 0.001, 0.999)
    if label_type in ("binary", "signed"):
        return g.normal(0, 2, labels.shape)
    if label_type == "multiclass":
        return g.normal(0, 2, (len(labels), 10))
    if label_type in ("onehot", "multilabel"):
        return g.normal(0, 2, labels.shape)
    if label_type == "distribution":
        return np.log(softmax(g.normal(0, 1, labels.shape)))
    if label_type == "count":
        return np.log(g.uniform(30, 70, labels.shape))
    raise AssertionError(label_type)


def recommend(invoke_json, *args):
    out = invoke_json(["recommend", *args])
    assert set(out) >= {"label_type", "evidence", "recommendations", "warnings"}
    for rec in out["recommendations"]:
        assert set(rec) >= {"loss", "torch_name", "reason", "command"}
        assert rec["reason"]
    return out


def warnings_of(invoke, args):
    """Run recommend/compute in JSON and return its warnings (asserting success, nothing on stderr)."""
    result = invoke([*args, "-f", "json"])
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    return json.loads(result.stdout)["warnings"]


# --- label types --------------------------------------------------------------------------


@pytest.mark.parametrize("label_type", sorted(FIRST))
def test_detects_each_label_type_and_ranks_the_spec_first(invoke_json, write_file, label_type):
    path = write_file(f"{label_type}.npy", labels_for(label_type))
    out = recommend(invoke_json, path)
    assert out["label_type"] == label_type, out["evidence"]
    assert out["recommendations"][0]["loss"] == FIRST[label_type]
    assert out["evidence"]["n_samples"] == 2000
    assert out["warnings"] == []
    for rec in out["recommendations"]:
        if rec["command"] is None:  # labels to convert first (0/1 to ±1, one-hot rows to indices, …)
            assert rec["fix"]
            continue
        words = shlex.split(rec["command"])
        assert words[:3] == ["losscli", "compute", rec["loss"]]
        assert path in words


@pytest.mark.parametrize("label_type", sorted(FIRST))
def test_given_label_type_needs_no_file(invoke_json, label_type):
    out = recommend(invoke_json, "--label-type", label_type)
    assert out["label_type"] == label_type
    assert out["evidence"] == {"given": "--label-type"}
    assert out["recommendations"][0]["loss"] == FIRST[label_type]
    assert out["warnings"] == []


def test_continuous_with_outliers_evidence_from_a_csv(invoke_json, write_file):
    path = write_file("prices.csv", ["price", *labels_for("continuous").round(4)])
    out = recommend(invoke_json, path)
    ev = out["evidence"]
    assert out["label_type"] == "continuous"
    assert ev["outliers"] is True and ev["n_outliers"] >= 20
    losses = [r["loss"] for r in out["recommendations"]]
    assert losses[0] == "mse" and {"smooth_l1", "huber"} <= set(losses)
    huber = out["recommendations"][losses.index("huber")]
    assert huber["params"] == {}  # without predictions the residuals are unknown: the default, and how to set it
    assert "1.345 × the robust scale of your model's residuals" in huber["reason"]
    assert "delta" not in huber["command"]


def test_huber_delta_from_the_residuals_with_pred(invoke, invoke_json, write_file):
    y = labels_for("continuous")
    pred = y + rng(20).standard_t(3, len(y)) * 0.7  # heavy-tailed errors: their scale is no label statistic
    out = recommend(invoke_json, write_file("y.npy", y), "--pred", write_file("p.npy", pred))
    huber = next(r for r in out["recommendations"] if r["loss"] == "huber")
    sigma = np.median(np.abs(pred - y)) / norm.ppf(0.75)  # robust σ of the errors around 0
    assert huber["params"]["delta"] == pytest.approx(1.345 * sigma, rel=5e-4)
    assert f"{1.345 * sigma:.4g}" in shlex.split(huber["command"])[-1]
    assert f"{sigma:.4g}" in huber["reason"] and "residuals" in huber["reason"]
    result = invoke([*shlex.split(huber["command"])[1:], "--no-grad", "-f", "json"])
    assert result.exit_code == 0, result.stderr


def test_clean_gaussian_of_100k_values_flags_no_outliers(invoke_json, write_file):
    path = write_file("clean.npy", rng(11).normal(0, 1, 100_000))
    out = recommend(invoke_json, path)
    assert out["label_type"] == "continuous"
    assert out["evidence"]["outliers"] is False
    assert "huber" not in [r["loss"] for r in out["recommendations"]]


def test_binary_5_percent_positives_pos_weight_ready_to_paste(invoke_json, write_file):
    out = recommend(invoke_json, write_file("clicks.csv", ["clicked", *binary_5pct().astype(int)]))
    assert out["label_type"] == "binary"
    assert out["evidence"]["positive_share"] == 0.05
    assert out["evidence"]["severe_imbalance"] is True
    top = out["recommendations"][0]
    assert top["loss"] == "bce_with_logits"
    words = shlex.split(top["command"])
    assert words[words.index("-p") + 1] == "pos_weight=[19]"


@pytest.mark.parametrize("cells", ["ints", "floats"])
def test_ten_class_labels_in_a_csv_as_ints_and_floats(invoke_json, write_file, cells):
    y = rng(4).integers(0, 10, 2000)
    rows = [int(v) for v in y] if cells == "ints" else [float(v) for v in y]
    out = recommend(invoke_json, write_file("digits.csv", ["digit", *rows]))
    assert out["label_type"] == "multiclass"
    assert out["evidence"]["n_unique"] == 10
    assert out["recommendations"][0]["loss"] == "cross_entropy"
    assert out["recommendations"][0]["params"] == {}


def test_rare_class_weight_matches_sklearn(invoke_json, write_file):
    compute_class_weight = pytest.importorskip("sklearn.utils.class_weight").compute_class_weight
    y = rare_class()
    out = recommend(invoke_json, write_file("rare.npy", y))
    assert out["label_type"] == "multiclass"
    assert out["evidence"]["severe_imbalance"] is True
    top = out["recommendations"][0]
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)
    assert top["params"]["weight"] == pytest.approx(expected, rel=1e-3)
    words = shlex.split(top["command"])
    assert json.loads(words[words.index("-p") + 1].removeprefix("weight=")) == top["params"]["weight"]


def test_multilabel_pos_weight_per_column(invoke_json, write_file):
    y = labels_for("multilabel")
    out = recommend(invoke_json, write_file("tags.npy", y))
    pos = y.sum(axis=0)
    assert out["label_type"] == "multilabel"
    assert out["evidence"]["positive_share"] == pytest.approx(pos / len(y), rel=1e-3)
    assert out["recommendations"][0]["params"]["pos_weight"] == pytest.approx((len(y) - pos) / pos, rel=1e-3)
    assert "multilabel_soft_margin" in [r["loss"] for r in out["recommendations"]]


# --- commands are runnable -----------------------------------------------------------------


@pytest.mark.parametrize(
    "label_type", ["continuous", "bounded", "binary", "multiclass", "onehot", "signed", "distribution", "count"]
)
def test_the_recommended_command_runs(invoke, invoke_json, write_file, label_type):
    y = labels_for(label_type)
    labels = write_file(f"{label_type} labels.npy", y)  # a space: the command must quote it
    pred = write_file(f"{label_type}_pred.npy", preds_for(label_type, y))
    out = recommend(invoke_json, labels, "--pred", pred)
    assert out["warnings"] == []
    command = out["recommendations"][0]["command"]
    words = shlex.split(command)
    assert words[0] == "losscli"
    result = invoke([*words[1:], "--no-grad", "-f", "json"])
    assert result.exit_code == 0, (command, result.stderr)
    computed = json.loads(result.stdout)
    assert computed["loss"] == FIRST[label_type]
    assert computed["warnings"] == []


def test_the_rare_class_command_with_weights_runs(invoke, invoke_json, write_file):
    y = rare_class()
    labels = write_file("rare.npy", y)
    pred = write_file("logits.npy", rng(12).normal(0, 2, (len(y), 10)))
    out = recommend(invoke_json, labels, "--pred", pred)
    command = out["recommendations"][0]["command"]
    result = invoke([*shlex.split(command)[1:], "--no-grad", "-f", "json"])
    assert result.exit_code == 0, (command, result.stderr)
    assert json.loads(result.stdout)["params"]["weight"] == pytest.approx(out["recommendations"][0]["params"]["weight"])


def test_single_file_mode(invoke, invoke_json, write_file):
    y = rng(13).normal(0, 1, 200)
    rows = ["p,y", *(f"{a},{b}" for a, b in zip(y + rng(14).normal(0, 0.1, 200), y, strict=True))]
    data = write_file("data.csv", rows)
    out = recommend(invoke_json, data, "--label-col", "y", "--pred-col", "p")
    assert out["label_type"] == "continuous"
    assert out["predictions"]["kind"] == "real"
    assert out["evidence"]["shape"] == [200]
    assert out["warnings"] == []
    for rec in out["recommendations"]:
        if "--input" in rec["command"]:
            continue  # gaussian_nll needs the user's variances
        result = invoke([*shlex.split(rec["command"])[1:], "--no-grad", "-f", "json"])
        assert result.exit_code == 0, (rec["command"], result.stderr)


def test_single_file_mode_with_pred_col_only_gives_a_runnable_command(invoke, invoke_json, write_file):
    y = rng(13).normal(0, 1, 200)
    rows = ["p,y", *(f"{a},{b}" for a, b in zip(y + rng(14).normal(0, 0.1, 200), y, strict=True))]
    data = write_file("data.csv", rows)
    out = recommend(invoke_json, data, "--pred-col", "p")
    assert out["evidence"]["shape"] == [200]
    command = out["recommendations"][0]["command"]
    result = invoke([*shlex.split(command)[1:], "--no-grad", "-f", "json"])
    assert result.exit_code == 0, (command, result.stderr)


def test_npz_keys_are_carried_into_the_command(invoke, invoke_json, write_file):
    y = rng(15).integers(0, 4, 300)
    bundle = write_file("bundle.npz", {"y": y, "logits": rng(16).normal(0, 2, (300, 4))})
    out = recommend(invoke_json, bundle, "--label-key", "y", "--pred", bundle, "--pred-key", "logits")
    assert out["label_type"] == "multiclass"
    command = out["recommendations"][0]["command"]
    result = invoke([*shlex.split(command)[1:], "--no-grad", "-f", "json"])
    assert result.exit_code == 0, (command, result.stderr)


# --- classic mistakes: recommend --pred and compute -----------------------------------------

N_CLS, C = 400, 4
LOGITS = rng(20).normal(0, 2.5, (N_CLS, C))
Y = rng(21).integers(0, C, N_CLS)
BIN_LOGITS = rng(22).normal(0, 2.5, 1000)
YBIN = (rng(23).random(1000) < 0.4).astype(float)
DIST = rng(24).dirichlet(np.ones(C), N_CLS)


@pytest.fixture
def files(write_file):
    return {
        "logits": write_file("logits.npy", LOGITS),
        "softmax": write_file("softmax.npy", softmax(LOGITS)),
        "log_softmax": write_file("log_softmax.npy", np.log(softmax(LOGITS))),
        "y": write_file("y.npy", Y),
        "y_from_1": write_file("y_from_1.npy", Y + 1),  # 1..C: max == C
        "y_from_1_fits": write_file("y_from_1_fits.npy", Y % (C - 1) + 1),  # 1..C-1
        "onehot": write_file("onehot.npy", np.eye(C)[Y]),
        "ignored": write_file("ignored.npy", np.full(N_CLS, -100)),
        "dist": write_file("dist.npy", DIST),
        "bin_logits": write_file("bin_logits.npy", BIN_LOGITS),
        "bin_probs": write_file("bin_probs.npy", sigmoid(BIN_LOGITS)),
        "bin_column": write_file("bin_column.npy", BIN_LOGITS[:, None]),
        "ybin": write_file("ybin.npy", YBIN),
        "y5": write_file("y5.npy", binary_5pct(1000)),
        "rare": write_file("rare.npy", rare_class()),
        "rare_logits": write_file("rare_logits.npy", rng(25).normal(0, 2, (3000, 10))),
        "reg_pred": write_file("reg_pred.npy", BIN_LOGITS + rng(26).normal(0, 1, 1000)),
    }


# (recommend args, compute args, fragments the warning must hold)
MISTAKES = {
    "softmax_to_cross_entropy": (
        ["y", "--pred", "softmax"],
        ["cross_entropy", "softmax", "y"],
        ["softmax", "logits", "pass the logits"],
    ),
    "probabilities_to_nll": (
        ["y", "--pred", "softmax", "--loss", "nll"],
        ["nll", "softmax", "y"],
        ["turns negative", "log_softmax"],
    ),
    "sigmoid_to_bce_with_logits": (
        ["ybin", "--pred", "bin_probs"],
        ["bce_with_logits", "bin_probs", "ybin"],
        ["double sigmoid", "use bce"],
    ),
    "labels_from_1_that_fit": (
        ["y_from_1_fits", "--pred", "logits"],
        ["cross_entropy", "logits", "y_from_1_fits"],
        ["subtract 1"],
    ),
    "kl_div_probabilities": (
        ["dist", "--pred", "softmax"],
        ["kl_div", "softmax", "dist", "--reduction", "batchmean"],
        ["log-probabilities", "log_softmax"],
    ),
    "all_ignore_index": (
        ["ignored", "--pred", "logits", "--loss", "cross_entropy"],
        ["cross_entropy", "logits", "ignored"],
        ["ignore_index (-100)", "NaN"],
    ),
    "binary_imbalance": (
        ["y5", "--pred", "bin_logits", "--loss", "bce_with_logits"],
        ["bce_with_logits", "bin_logits", "y5"],
        ["imbalance", "-p pos_weight=[19]"],
    ),
    "multiclass_imbalance": (
        ["rare", "--pred", "rare_logits", "--loss", "ce"],
        ["ce", "rare_logits", "rare"],
        ["imbalance", "-p weight=["],
    ),
}


def _args(files, args):
    return [files.get(a, a) for a in args]


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_warned_by_recommend(invoke, files, mistake):
    args, _, fragments = MISTAKES[mistake]
    found = warnings_of(invoke, ["recommend", *_args(files, args)])
    assert any(all(f in w for f in fragments) for w in found), found


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_warned_by_compute_json(invoke, files, mistake):
    _, args, fragments = MISTAKES[mistake]
    found = warnings_of(invoke, ["compute", *_args(files, args), "--no-grad"])
    assert any(all(f in w for f in fragments) for w in found), found


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_warned_by_compute_table_on_stderr_only(invoke, files, mistake):
    _, args, fragments = MISTAKES[mistake]
    result = invoke(["compute", *_args(files, args), "--no-grad"])
    assert result.exit_code == 0, result.stderr
    assert "Warning:" in result.stderr
    assert all(f in result.stderr for f in fragments), result.stderr
    assert "Warning" not in result.stdout
    assert fragments[0] not in result.stdout


@pytest.mark.parametrize("mistake", ["softmax_to_cross_entropy", "binary_imbalance"])
def test_recommend_table_warns_on_stderr_only(invoke, files, mistake):
    args, _, fragments = MISTAKES[mistake]
    result = invoke(["recommend", *_args(files, args)])
    assert result.exit_code == 0, result.stderr
    assert "Warning:" in result.stderr and fragments[0] in result.stderr
    assert "Warning" not in result.stdout


def test_logits_to_bce(invoke, files, expect_error):
    found = warnings_of(invoke, ["recommend", files["ybin"], "--pred", files["bin_logits"], "--loss", "bce"])
    assert any("logits" in w and "sigmoid" in w and "bce_with_logits" in w for w in found), found
    expect_error(
        ["compute", "bce", files["bin_logits"], files["ybin"]], 3, "bin_logits.npy", "sigmoid", "bce_with_logits"
    )


def test_onehot_labels_for_nll(invoke, files, expect_error):
    found = warnings_of(invoke, ["recommend", files["onehot"], "--pred", files["log_softmax"], "--loss", "nll"])
    assert any("one-hot" in w and "argmax" in w for w in found), found
    expect_error(["compute", "nll", files["log_softmax"], files["onehot"]], 3, "onehot.npy", "one-hot", "argmax")


def test_labels_numbered_1_to_c(invoke, files, expect_error):
    found = warnings_of(invoke, ["recommend", files["y_from_1"], "--pred", files["logits"]])
    assert any("subtract 1" in w for w in found), found
    expect_error(["compute", "cross_entropy", files["logits"], files["y_from_1"]], 3, "y_from_1.npy", "subtract 1")


@pytest.mark.parametrize("reduction", [None, "mean"])
def test_kl_div_mean_reduction_says_batchmean_once(invoke, files, reduction):
    args = ["compute", "kl_div", files["log_softmax"], files["dist"], "--no-grad"]
    if reduction:
        args += ["--reduction", reduction]
    found = warnings_of(invoke, args)
    assert len(found) == 1, found  # torch's own batchmean UserWarning is not repeated
    assert "batchmean" in found[0] and "--reduction batchmean" in found[0]
    table = invoke(args)
    assert table.exit_code == 0
    assert table.stderr.count("Warning") == 1, table.stderr
    assert "UserWarning" not in table.stderr


def test_kl_div_batchmean_is_clean(invoke, files):
    args = ["compute", "kl_div", files["log_softmax"], files["dist"], "--reduction", "batchmean", "--no-grad"]
    assert warnings_of(invoke, args) == []
    table = invoke(args)
    assert table.exit_code == 0 and table.stderr == ""


def test_column_predictions_against_flat_labels(invoke, files, expect_error):
    found = warnings_of(invoke, ["recommend", files["ybin"], "--pred", files["bin_column"]])
    assert any("(1000, 1)" in w and "(1000,)" in w and "squeeze" in w for w in found), found
    # compute refuses the shapes outright, naming both (SPEC §4: wrong shape is exit 3)
    expect_error(["compute", "mse", files["bin_column"], files["ybin"]], 3, "(1000, 1)", "(1000,)")


def test_all_ignored_labels_give_null_value(invoke, files):
    result = invoke(["compute", "cross_entropy", files["logits"], files["ignored"], "--no-grad", "-f", "json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)  # strict: no bare NaN
    assert out["value"] is None
    assert any("ignore_index" in w for w in out["warnings"])


def test_binary_imbalance_from_bce_suggests_bce_with_logits_weights(invoke, files, write_file):
    probs = write_file("p5.npy", sigmoid(rng(27).normal(0, 2, 1000)))
    found = warnings_of(invoke, ["compute", "bce", probs, files["y5"], "--no-grad"])
    assert any("bce_with_logits" in w and "pos_weight=[19]" in w for w in found), found


def test_weights_silence_the_imbalance_warning(invoke, files):
    assert (
        warnings_of(invoke, ["compute", "bce_with_logits", files["bin_logits"], files["y5"], "-p", "pos_weight=[19]"])
        == []
    )
    assert warnings_of(invoke, ["recommend", files["y5"], "--pred", files["bin_logits"]]) == []  # top carries it


def test_onehot_imbalance_warned_by_compute_as_by_recommend(invoke, write_file):
    y = np.eye(5)[np.r_[np.zeros(10, int), rng(28).integers(1, 5, 990)]]
    labels = write_file("oh_rare.npy", y)
    logits = write_file("oh_logits.npy", rng(29).normal(0, 2, (1000, 5)))
    rec = warnings_of(invoke, ["recommend", labels, "--pred", logits])
    assert any("imbalance" in w for w in rec), rec
    comp = warnings_of(invoke, ["compute", "cross_entropy", logits, labels, "--no-grad"])
    assert any("imbalance" in w and "-p weight=[" in w for w in comp), comp


CLEAN = {
    "cross_entropy_logits_indices": (["y", "--pred", "logits"], ["cross_entropy", "logits", "y"]),
    "cross_entropy_onehot": (["onehot", "--pred", "logits"], ["cross_entropy", "logits", "onehot"]),
    "bce_probabilities": (["ybin", "--pred", "bin_probs", "--loss", "bce"], ["bce", "bin_probs", "ybin"]),
    "bce_with_logits": (["ybin", "--pred", "bin_logits"], ["bce_with_logits", "bin_logits", "ybin"]),
    "nll_log_softmax": (["y", "--pred", "log_softmax", "--loss", "nll"], ["nll", "log_softmax", "y"]),
    "mse_regression": (["bin_logits", "--pred", "reg_pred"], ["mse", "reg_pred", "bin_logits"]),
    "kl_div_batchmean": (
        ["dist", "--pred", "log_softmax"],
        ["kl_div", "log_softmax", "dist", "--reduction", "batchmean"],
    ),
}


@pytest.mark.parametrize("case", CLEAN)
def test_no_spurious_warnings_on_clean_inputs(invoke, files, case):
    rec_args, compute_args = CLEAN[case]
    assert warnings_of(invoke, ["recommend", *_args(files, rec_args)]) == []
    assert warnings_of(invoke, ["compute", *_args(files, compute_args), "--no-grad"]) == []
    table = invoke(["compute", *_args(files, compute_args), "--no-grad"])
    assert table.exit_code == 0 and table.stderr == ""


@pytest.mark.parametrize(
    ("pred", "kind"),
    [("logits", "real"), ("softmax", "softmax"), ("log_softmax", "log_probs"), ("bin_probs", "probs")],
)
def test_recommend_says_what_the_predictions_look_like(invoke_json, files, pred, kind):
    labels = files["ybin"] if pred == "bin_probs" else files["y"]
    out = recommend(invoke_json, labels, "--pred", files[pred])
    assert out["predictions"]["kind"] == kind
    assert out["predictions"]["description"]


# --- output formats --------------------------------------------------------------------------


def test_csv_format_parses(invoke, write_file):
    path = write_file("digits.npy", rng(4).integers(0, 10, 500))
    result = invoke(["recommend", path, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {"loss", "torch_name", "label_type", "reason", "command"} <= set(rows[0])
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    assert rows[0]["loss"] == "cross_entropy" and rows[0]["label_type"] == "multiclass"
    assert shlex.split(rows[0]["command"])[:3] == ["losscli", "compute", "cross_entropy"]


def test_table_format_names_the_type_and_the_first_loss(invoke, write_file):
    path = write_file("tags.npy", labels_for("multilabel"))
    result = invoke(["recommend", path])
    assert result.exit_code == 0, result.stderr
    assert "multilabel" in result.stdout
    assert "bce_with_logits" in result.stdout
    assert result.stdout.index("bce_with_logits") < result.stdout.index("multilabel_soft_margin")
    assert "losscli compute bce_with_logits" in result.stdout


# --- errors ------------------------------------------------------------------------------------


def test_no_labels_and_no_label_type(expect_error):
    expect_error(["recommend"], 2, "--label-type")


def test_unknown_label_type(expect_error):
    expect_error(["recommend", "--label-type", "ordinal"], 2, "--label-type")


def test_unknown_loss(expect_error, write_file):
    expect_error(["recommend", write_file("y.npy", Y), "--loss", "no_such_loss"], 2, "no_such_loss")


def test_missing_file(expect_error, tmp_path):
    expect_error(["recommend", str(tmp_path / "absent.csv")], 3, "absent.csv")


def test_nan_in_labels_names_the_row(expect_error, write_file):
    path = write_file("y.csv", ["y", 1, 0, "nan", 2])
    expect_error(["recommend", path], 3, "y.csv", "row 3", "NaN")
    path = write_file("data.csv", ["p,y", "0.1,1", "0.2,", "0.3,0"])
    expect_error(["recommend", path, "--label-col", "y", "--pred-col", "p"], 3, "data.csv", "row 2")


# --- speed: recommend imports neither torch nor pandas, and scipy only for whole numbers ----------

IMPORT_PROBE = """
import json, sys
sys.argv = ["losscli", "recommend", *json.loads(sys.argv[1])]
from losscli.cli import app
try:
    app()
except SystemExit as e:
    code = e.code
else:
    code = 0
print(json.dumps({"code": code, **{m: m in sys.modules for m in ("torch", "pandas", "scipy")}}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args, labels, scipy",
    [
        (["--label-type", "binary", "-f", "json"], None, False),
        (["LABELS"], rng(4).normal(3.0, 2.0, 300), False),
        (["LABELS"], rng(4).integers(0, 10, 300), True),  # the count tests need scipy.special
    ],
    ids=["label_type", "real_csv", "whole_number_csv"],
)
def test_recommend_imports_no_torch_or_pandas_and_scipy_only_for_whole_numbers(write_file, args, labels, scipy):
    if labels is not None:
        args = [write_file("labels.csv", ["y", *labels]) if a == "LABELS" else a for a in args]
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "torch": False, "pandas": False, "scipy": scipy}, proc.stderr
    assert proc.stdout.strip()


def test_a_prediction_column_against_flat_labels_is_a_broadcast_mistake(invoke_json, write_file):
    """Fed as they are to a torch.nn regression loss, (N, 1) and (N,) broadcast to (N, N)."""
    rng = np.random.default_rng(4)
    pred = write_file("col.npy", rng.normal(size=(30, 1)))
    labels = write_file("flat.npy", 3 * rng.normal(size=30))
    warnings = invoke_json(["recommend", labels, "--pred", pred])["warnings"]
    assert any("shape (30, 1) and the labels (30,)" in w and "(30, 30)" in w for w in warnings), warnings


# --- whole-number labels: classes, counts or measurements (issue 11) -----------------------------


def test_poisson_counts_far_from_zero_are_counts_not_classes(invoke_json, write_file):
    """200 Poisson(20) counts, none below 10: counts, with the evidence that decided in the JSON."""
    y = rng(1).poisson(20, 200)
    out = recommend(invoke_json, write_file("counts.csv", ["count", *y]))
    assert out["label_type"] == "count" and out["confidence"] == "strong" and out["alternatives"] == []
    assert out["recommendations"][0]["loss"] == "poisson_nll"
    assert all("weight" not in rec["params"] for rec in out["recommendations"])
    ev = out["evidence"]
    assert ev["n_unique"] == len(np.unique(y)) and ev["missing_below_min"] == f"0..{y.min() - 1}"
    assert ev["dispersion"] == pytest.approx(y.var(ddof=1) / y.mean(), rel=1e-3)
    assert ev["count_fit"]["verdict"] == "fits" and "Poisson" in out["reading"]


def test_body_measurements_as_whole_numbers_are_continuous(invoke_json, write_file):
    """Linnerud's physiological data (weight lb, waist in, pulse; 20 x 3 integers): measurements."""
    from sklearn.datasets import load_linnerud

    y = load_linnerud().target.astype(int)
    path = write_file("body.csv", [["weight", "waist", "pulse"], *y.tolist()])
    out = recommend(invoke_json, path)
    assert out["label_type"] == "continuous" and out["confidence"] == "strong"
    assert out["recommendations"][0]["loss"] == "mse"
    assert [c["reading"] for c in out["evidence"]["columns"]] == ["continuous", "continuous", "count"]


def test_weak_evidence_lists_both_readings_with_their_first_recommendation(invoke, invoke_json, write_file):
    """20 Poisson(3) counts: too few to tell counts from class indices; both readings, each runnable."""
    y = rng(3).poisson(3, 20)
    labels = write_file("small.npy", y)
    out = recommend(invoke_json, labels)
    assert out["confidence"] == "weak"
    readings = [out["label_type"]] + [alt["label_type"] for alt in out["alternatives"]]
    assert sorted(readings) == ["count", "multiclass"]
    for alt in out["alternatives"]:
        assert alt["reason"]
        (rec,) = alt["recommendations"]
        assert rec["loss"] == FIRST[alt["label_type"]]
        words = shlex.split(rec["command"])
        assert words[:3] == ["losscli", "compute", rec["loss"]] and labels in words
    table = invoke(["recommend", labels])
    assert table.exit_code == 0, table.stderr
    assert "(weak evidence)" in table.stdout
    other = out["alternatives"][0]
    assert f"Could also be read as {other['label_type']}" in table.stdout
    assert f"losscli compute {other['recommendations'][0]['loss']}" in table.stdout


def test_weak_evidence_in_csv_adds_the_other_readings_rows(invoke, write_file):
    path = write_file("ratings.npy", rng(6).choice([1, 2, 3, 4, 5], 500, p=[0.1, 0.1, 0.2, 0.3, 0.3]))
    result = invoke(["recommend", path, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["label_type"] == "multiclass" and rows[0]["confidence"] == "weak"
    alternative = [r for r in rows if r["rank"] == "alternative"]
    assert [(r["label_type"], r["loss"]) for r in alternative] == [("continuous", "mse")]
    assert "ordered scale" in alternative[0]["reading"]


def test_given_label_type_has_no_alternatives(invoke_json):
    out = recommend(invoke_json, "--label-type", "count")
    assert out["confidence"] == "given" and out["alternatives"] == []


@pytest.mark.parametrize("values", [[2.0**63], [2.0**63, 2.0**63 + 2048], [-(2.0**63) - 4096.0, -(2.0**63)]])
def test_whole_numbers_past_int64_are_read_without_overflow(invoke_json, write_file, values):
    """Whole floats beyond int64 (as a float64 run reads 9223372036854775807) have distinct values to count
    all the same (found by tests/test_properties.py: an OverflowError, exit 1)."""
    out = recommend(invoke_json, write_file("big.npy", np.array(values)))
    assert out["evidence"]["n_unique"] == len(np.unique(values))


def test_labels_without_a_positive_say_so_not_a_ratio_of_none(invoke_json, write_file):
    """All-zero binary labels: the imbalance has no finite ratio; the reasons say a class has no example
    (found by tests/test_properties.py: 'The classes are imbalanced (None:1)')."""
    out = recommend(invoke_json, write_file("zeros.csv", [0, 0, 0, 0]))
    reasons = " ".join(r["reason"] for r in out["recommendations"])
    assert "None" not in reasons and "no example at all" in reasons


# --- every suggested line runs, or carries its fix instead (issue 12, point 7) ---------------

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
N_CASE = 300
CLASS_SCORES = {"cross_entropy", "nll", "multi_margin", "softmax_focal", "categorical_hinge", "multiclass_hinge"}
CLASS_SCORES |= {"dice_ce", "lovasz_softmax"}  # (N, C, d1, ...) logits of per-pixel class maps
LOG_PROBS = {"nll", "kl_div"}
PROBABILITIES = {"bce", "dice", "tversky"}
POSITIVE = {"poisson_deviance", "tweedie", "gamma_deviance"}


def log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def stand_in_pred(loss: str, y: np.ndarray, params: dict) -> np.ndarray:
    """Predictions of the shape and kind the loss wants for labels ``y`` (SPEC: one column per class 0..max)."""
    g = rng(200)
    if loss in CLASS_SCORES:
        shape = y.shape if y.ndim == 2 and y.shape[1] > 1 else (len(y), int(y.max()) + 1, *y.shape[1:])
    elif loss == "pinball" and isinstance(params.get("quantile"), list):
        shape = (len(y), len(params["quantile"]))
    elif loss == "cosine_embedding":
        shape = (len(y), 3)
    else:
        shape = y.shape
    x = g.normal(0, 1, shape)
    if loss in LOG_PROBS:
        return log_softmax(x)
    if loss in PROBABILITIES:
        return sigmoid(x)
    if loss in POSITIVE:
        return np.exp(x)
    return x


def runnable_words(command: str, loss: str, params: dict, y: np.ndarray, write_file) -> list[str]:
    """The line's words after ``losscli``, its placeholders (PRED, VAR, INPUT2) replaced by files."""
    pred = stand_in_pred(loss, y, params)
    files = {
        "PRED": lambda: write_file(f"stand_in_{loss}.npy", pred),
        "INPUT2": lambda: write_file(f"stand_in_{loss}_2.npy", rng(201).normal(0, 1, pred.shape)),
        "VAR": lambda: write_file(f"stand_in_{loss}_var.npy", np.exp(rng(202).normal(0, 1, y.shape))),
    }
    words = shlex.split(command)
    assert words[:2] == ["losscli", "compute"], command
    out = []
    for word in words[1:]:
        name, eq, value = word.partition("=")
        if word in files:
            word = files[word]()
        elif eq and value in files and word.startswith(("var=", "input2=")):
            word = f"{name}={files[value]()}"
        out.append(word)
    assert "LABELS" not in out, command
    return out


def suggested(out: dict) -> list[dict]:
    """Every recommendation recommend printed: the ranked ones and each other reading's first suggestion."""
    return [*out["recommendations"], *(r for alt in out["alternatives"] for r in alt["recommendations"])]


def assert_every_line_runs(invoke, out: dict, y: np.ndarray, write_file) -> list[dict]:
    """Run each suggested line (exit 0); each line left out carries a fix. Returns the lines with a fix."""
    fixed = []
    for rec in suggested(out):
        if rec["command"] is None:
            assert rec["fix"] and isinstance(rec["fix"], str), rec
            fixed.append(rec)
            continue
        assert rec["fix"] is None, rec
        words = runnable_words(rec["command"], rec["loss"], rec["params"], y, write_file)
        result = invoke([*words, "--no-grad", "-f", "json"])
        assert result.exit_code == 0, (rec["command"], result.stderr, result.exception)
    return fixed


def case_labels(name: str) -> np.ndarray:
    """Labels of every type of the SPEC's table, and those that need a fix before some losses take them."""
    g, n = rng(300), N_CASE
    cases = {
        "continuous": lambda: labels_for("continuous")[:n],
        "continuous_clean": lambda: g.normal(3, 2, n),
        "continuous_matrix": lambda: g.normal(0, 5, (n, 3)),
        "bounded": lambda: g.beta(2, 5, n),
        "binary": lambda: (g.random(n) < 0.4).astype(float),
        "binary_5pct": lambda: binary_5pct(n),
        "binary_mask": lambda: (g.random((40, 8, 8)) < 0.2).astype(np.int64),
        "multiclass": lambda: g.integers(0, 10, n),
        "multiclass_rare": lambda: rare_class(n),
        "classes_1_to_5": lambda: g.integers(1, 6, n),
        "pixel_classes": lambda: g.integers(0, 4, (30, 6, 6)),
        "onehot": lambda: np.eye(5)[g.integers(0, 5, n)],
        "multilabel": lambda: (g.random((n, 4)) < 0.3).astype(float),
        "signed": lambda: g.choice([-1.0, 1.0], n),
        "signed_matrix": lambda: g.choice([-1, 1], (n, 3)),
        "distribution": lambda: g.dirichlet(np.ones(4), n),
        "count": lambda: g.poisson(20, n),
        "count_small": lambda: g.poisson(0.5, n),
        "count_few": lambda: g.poisson(3, 20),
        "count_matrix": lambda: g.poisson(30, (n, 2)),
        "ages": lambda: g.integers(18, 91, n),
    }
    return cases[name]()


CASES = [
    "continuous", "continuous_clean", "continuous_matrix", "bounded", "binary", "binary_5pct", "binary_mask",
    "multiclass", "multiclass_rare", "classes_1_to_5", "pixel_classes", "onehot", "multilabel", "signed",
    "signed_matrix", "distribution", "count", "count_small", "count_few", "count_matrix", "ages",
]  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_every_suggested_line_runs_on_the_labels(invoke, invoke_json, write_file, name):
    y = case_labels(name)
    labels = write_file(f"{name} labels.npy", y)
    assert_every_line_runs(invoke, recommend(invoke_json, labels), y, write_file)


def natural_pred(y: np.ndarray, label_type: str) -> np.ndarray:
    """What a model built for the detected type outputs: logits per class, per label, or one value per label."""
    g = rng(400)
    if label_type == "multiclass":
        return g.normal(0, 2, (len(y), int(y.max()) + 1, *y.shape[1:]))
    if label_type == "distribution":
        return log_softmax(g.normal(0, 1, y.shape))
    if label_type == "count":
        return np.log(g.uniform(1, 40, y.shape))
    return g.normal(0, 2, y.shape)


@pytest.mark.parametrize("name", CASES)
def test_every_suggested_line_runs_with_the_predictions(invoke, invoke_json, write_file, name):
    y = case_labels(name)
    labels = write_file(f"{name}_labels.npy", y)
    label_type = invoke_json(["recommend", labels])["label_type"]
    pred = write_file(f"{name}_pred.npy", natural_pred(y, label_type))
    out = recommend(invoke_json, labels, "--pred", pred)
    assert_every_line_runs(invoke, out, y, write_file)


@pytest.mark.parametrize(
    "labels, pred",
    [
        ("binary_labels.csv", "binary_logits.csv"),
        ("binary_labels.csv", "binary_probs.csv"),
        ("binary_labels.csv", None),
        ("multiclass_labels.txt", "multiclass_logits.csv"),
        ("multiclass_labels.txt", "multiclass_log_probs.csv"),
        ("multilabel_labels.csv", "multilabel_logits.csv"),
        ("multilabel_index.csv", None),
        ("regression_labels.csv", "regression_pred.csv"),
        ("regression_labels.csv", None),
        ("signed_labels.csv", "signed_scores.csv"),
        ("pairs_labels.csv", "pairs_l1_distance.csv"),
        ("ranking_labels.csv", "ranking_scores1.csv"),
        ("poisson_counts.csv", "poisson_log_rate.csv"),
        ("kl_targets.csv", "kl_log_probs.csv"),
        ("nll2d_labels.npy", None),
        ("ctc_targets.csv", None),
    ],
)
def test_every_suggested_line_runs_on_sample_data(invoke, invoke_json, write_file, monkeypatch, labels, pred):
    monkeypatch.chdir(SAMPLES)
    args = [labels, *(["--pred", pred] if pred else [])]
    out = recommend(invoke_json, *args)
    y = np.load(labels) if labels.endswith(".npy") else read_sample(labels)
    assert_every_line_runs(invoke, out, y, write_file)


def read_sample(name: str) -> np.ndarray:
    lines = [line for line in (SAMPLES / name).read_text().splitlines() if line and not line.startswith("#")]
    rows = [line.replace(",", " ").split() for line in lines]
    if not rows[0][0].lstrip("-").replace(".", "").isdigit():
        rows = rows[1:]
    return np.array([[float(v) for v in row] for row in rows]).squeeze()


@pytest.mark.parametrize(
    "name, pred, extra",
    [
        ("classes_1_to_5", lambda y: rng(1).normal(0, 1, (len(y), 5)), []),  # a 5-class model: labels 1..5 fail
        ("classes_1_to_5", lambda y: rng(1).normal(0, 1, (len(y), 6)), []),  # an unused class 0: they run
        ("binary", lambda y: sigmoid(rng(2).normal(0, 2, len(y))), []),  # probabilities: bce, not the logit losses
        ("bounded", lambda y: rng(3).normal(0, 2, len(y)), []),  # logits against soft targets: bce cannot run
        ("multiclass", lambda y: rng(4).normal(0, 1, len(y)), []),  # one score per row: no class loss runs
        ("continuous", lambda y: rng(5).normal(0, 1, (len(y), 2)), []),  # two columns against one
        ("continuous", lambda y: y + rng(6).normal(0, 1, len(y)), ["--loss", "l1"]),
        ("continuous", lambda y: rng(7).normal(0, 1, (len(y), 3)), ["--quantiles", "0.1,0.5,0.9"]),
        ("count", lambda y: rng(8).uniform(1, 40, len(y)), ["--loss", "poisson_deviance"]),  # rates
        ("count", lambda y: rng(9).normal(0, 1, len(y)), []),  # log-rates below 0: no deviance of rates
        ("signed", lambda y: rng(10).normal(0, 1, (len(y), 3)), []),  # embeddings: cosine_embedding's shape
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_every_suggested_line_runs_with_other_predictions(invoke, invoke_json, write_file, name, pred, extra):
    y = case_labels(name)
    labels, predictions = write_file(f"{name}.npy", y), write_file(f"{name}_pred.npy", pred(y))
    out = recommend(invoke_json, labels, "--pred", predictions, *extra)
    assert_every_line_runs(invoke, out, y, write_file)


@pytest.mark.parametrize("quantiles", ["0.5", "0.1,0.5,0.9"])
def test_quantile_lines_run(invoke, invoke_json, write_file, quantiles):
    y = case_labels("continuous")
    out = recommend(invoke_json, write_file("y.npy", y), "--quantiles", quantiles)
    assert out["recommendations"][0]["loss"] == "pinball"
    assert assert_every_line_runs(invoke, out, y, write_file) == []


@pytest.mark.parametrize("name", ["continuous", "binary", "classes_1_to_5", "count"])
def test_single_file_lines_run(invoke, invoke_json, write_file, name):
    y = case_labels(name)
    p = natural_pred(y, "continuous")
    data = write_file(f"{name}.csv", ["y,p", *(f"{a},{b}" for a, b in zip(y, p, strict=True))])
    out = recommend(invoke_json, data, "--label-col", "y", "--pred-col", "p")
    assert_every_line_runs(invoke, out, y, write_file)
    for rec in suggested(out):
        if rec["command"] is not None:
            assert shlex.split(rec["command"])[4:8] == ["--label-col", "y", "--pred-col", "p"], rec["command"]


@pytest.mark.parametrize(
    "label_type, labels",
    [
        ("signed", np.array([0.0, 1.0] * 50)),  # {0, 1} read as {-1, 1}
        ("binary", np.array([-1.0, 1.0] * 50)),  # {-1, 1} read as {0, 1}
        ("count", np.array([-2, 0, 3, 5] * 25)),  # negative counts
        ("multiclass", np.array([1, 2, 3, 4, 5] * 20)),  # classes from 1
        ("multiclass", np.linspace(0, 3, 100)),  # real values as classes
        ("onehot", np.eye(3)[np.arange(99) % 3]),
        ("multilabel", (np.arange(300).reshape(100, 3) % 4 == 0).astype(float)),
        ("distribution", np.full((100, 4), 0.25)),
        ("bounded", np.linspace(-1, 2, 100)),  # "bounded" labels outside [0, 1]
        ("continuous", np.linspace(-1, 2, 100)),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_given_label_type_lines_run_or_say_the_fix(invoke, invoke_json, write_file, label_type, labels):
    path = write_file("y.npy", labels)
    out = recommend(invoke_json, path, "--label-type", label_type)
    assert out["label_type"] == label_type
    assert_every_line_runs(invoke, out, labels, write_file)


def test_labels_numbered_from_1_get_the_fix_in_every_format(invoke, invoke_json, write_file):
    """The issue's case: classes 1..5, a 5-class model; no class loss can run on them until they are 0..4."""
    labels = write_file("ratings.csv", ["stars", *case_labels("classes_1_to_5")])
    out = recommend(invoke_json, labels)
    classes = [r for r in out["recommendations"] if r["loss"] in ("cross_entropy", "nll", "multi_margin")]
    assert len(classes) == 3
    for rec in classes:
        assert rec["command"] is None
        assert "numbered 1..5" in rec["fix"] and "0..4" in rec["fix"] and "subtract 1" in rec["fix"]
    assert [alt["recommendations"][0]["command"] is not None for alt in out["alternatives"]] == [True]  # mse runs
    table = invoke(["recommend", labels])
    assert table.exit_code == 0
    text = " ".join(table.stdout.split())
    assert "$ losscli compute cross_entropy" not in text and "$ losscli compute nll" not in text
    assert text.count("fix: the labels are numbered 1..5") == 3
    rows = list(csv.DictReader(io.StringIO(invoke(["recommend", labels, "-f", "csv"]).stdout)))
    assert [(row["command"], bool(row["fix"])) for row in rows if row["rank"] != "alternative"] == [("", True)] * 3


def test_soft_margin_on_0_1_labels_says_map_0_to_minus_1(invoke, invoke_json, in_samples_dir):
    out = recommend(invoke_json, "binary_labels.csv")
    soft = next(r for r in out["recommendations"] if r["loss"] == "soft_margin")
    assert soft["command"] is None and "map 0 to -1" in soft["fix"]
    text = " ".join(invoke(["recommend", "binary_labels.csv"]).stdout.split())
    assert "fix: soft_margin wants labels in {-1, 1}: map 0 to -1" in text
    assert "$ losscli compute soft_margin" not in text


@pytest.fixture
def in_samples_dir(monkeypatch):
    monkeypatch.chdir(SAMPLES)
    return SAMPLES
