"""`losscli compare` (issue 4, SPEC §3): several models under several losses, in one table.

Values are checked against independent references (numpy formulas, scikit-learn's
``mean_squared_error``, ``mean_absolute_error`` and ``log_loss``); the best /
baseline / disagreement logic on small crafted files whose answers are known by
hand; the defaults on every label type of ``sample_data/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import log_loss, mean_absolute_error, mean_poisson_deviance, mean_squared_error

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
SPEC_KEYS = {"labels", "losses", "rows", "best"}
RTOL = 2e-5  # float32 computation against float64 references


# --- references ----------------------------------------------------------------------


def read_table(name: str) -> np.ndarray:
    """A sample_data text table as float64: ``#`` comment lines and a header line skipped."""
    lines = [line for line in (SAMPLES / name).read_text().splitlines() if line and not line.startswith("#")]
    if not lines[0].replace(",", "").replace(".", "").replace("-", "").strip().isdigit():
        lines = lines[1:]
    return np.array([[float(v) for v in line.split(",")] for line in lines]).squeeze()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def smooth_l1_ref(p, y, beta=1.0):
    d = np.abs(np.asarray(p, float) - np.asarray(y, float))
    return float(np.mean(np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)))


def huber_ref(p, y, delta=1.0):
    d = np.abs(np.asarray(p, float) - np.asarray(y, float))
    return float(np.mean(np.where(d <= delta, 0.5 * d**2, delta * (d - 0.5 * delta))))


def bce_logits_ref(logits, labels):
    x, y = np.asarray(logits, float), np.asarray(labels, float)
    return float(np.mean(np.logaddexp(0.0, x) - y * x))


def multi_margin_ref(logits, labels, margin=1.0, weight=None):
    x, y = np.asarray(logits, float), np.asarray(labels, int)
    n, c = x.shape
    own = x[np.arange(n), y][:, None]
    hinge = np.maximum(0.0, margin - own + x)
    hinge[np.arange(n), y] = 0.0
    if weight is not None:
        hinge *= np.asarray(weight, float)[y][:, None]
    return float(np.mean(hinge.sum(axis=1) / c))


def weighted_ce_ref(logits, labels, weight):
    x, y, w = np.asarray(logits, float), np.asarray(labels, int), np.asarray(weight, float)
    nll = -np.log(softmax(x)[np.arange(len(y)), y])
    return float(np.sum(w[y] * nll) / np.sum(w[y]))


def regression_refs(p, y, delta=1.0):
    return {
        "mse": mean_squared_error(y, p),
        "l1": mean_absolute_error(y, p),
        "smooth_l1": smooth_l1_ref(p, y),
        "huber": huber_ref(p, y, delta),
    }


def residual_sigma(preds, y):
    """Robust σ of all the models' errors pooled, around 0: median |error| / Φ⁻¹(3/4) (robust regression's)."""
    errors = np.concatenate([np.asarray(p, float) - np.asarray(y, float) for p in preds])
    return float(np.median(np.abs(errors)) / norm.ppf(0.75))


# --- sample_data: the four label types of the "done when" ----------------------

CASES = {
    "regression": (
        "regression_labels.csv",
        ["regression_pred.csv", "regression_pred_b.csv", "regression_pred_c.csv"],
        ["mse", "l1", "huber"],
        ["gaussian_nll", "smooth_l1", "log_cosh"],
    ),
    "binary": (
        "binary_labels.csv",
        ["binary_logits.csv", "binary_logits_b.csv"],
        ["bce_with_logits"],
        ["bce", "soft_margin"],
    ),
    "multiclass": (
        "multiclass_labels.txt",
        ["multiclass_logits.csv", "multiclass_logits_b.csv"],
        ["cross_entropy", "multi_margin"],
        ["nll"],
    ),
    "multilabel": (
        "multilabel_labels.csv",
        ["multilabel_logits.csv", "multilabel_logits_b.csv"],
        ["bce_with_logits", "multilabel_soft_margin"],
        ["bce", "multilabel_margin"],
    ),
}


def reference_values(case: str, pred_file: str, labels_file: str, delta: float = 1.0) -> dict[str, float]:
    p, y = read_table(pred_file), read_table(labels_file)
    if case == "regression":
        return regression_refs(p, y, delta)
    if case == "binary":
        return {"bce_with_logits": log_loss(y, sigmoid(p), labels=[0, 1])}
    if case == "multiclass":
        return {
            "cross_entropy": log_loss(y.astype(int), softmax(p), labels=list(range(p.shape[1]))),
            "multi_margin": multi_margin_ref(p, y),
        }
    ref = bce_logits_ref(p, y)  # multilabel: mean over every label; soft margin: per sample, then over samples
    per_sample = np.mean(np.logaddexp(0.0, p) - y * p, axis=1)
    return {"bce_with_logits": ref, "multilabel_soft_margin": float(per_sample.mean())}


@pytest.fixture
def in_samples(monkeypatch):
    """Run from sample_data/ so that file names (and hence row names) are short."""
    monkeypatch.chdir(SAMPLES)
    return SAMPLES


@pytest.fixture
def crafted(tmp_path, monkeypatch, write_file):
    """``crafted(name, rows)`` writes a CSV in the (current) tmp directory and returns its bare name."""
    monkeypatch.chdir(tmp_path)

    def write(name, rows):
        write_file(name, rows)
        return name

    return write


@pytest.mark.parametrize("case", CASES)
def test_default_losses_and_values_on_sample_data(invoke_json, in_samples, case):
    labels, preds, chosen, not_chosen = CASES[case]
    data = invoke_json(["compare", *preds, "--labels", labels])
    assert data.keys() >= SPEC_KEYS
    assert data["labels"] == labels
    assert data["losses"] == chosen
    for loss in not_chosen:
        assert loss not in data["losses"]
    assert [row["pred"] for row in data["rows"]] == preds
    assert list(data["reasons"]) == chosen
    delta = 1.0
    if case == "regression":  # Huber's 1.345 robust σ of the pooled residuals, given to 4 digits
        delta = data["params"]["huber"]["delta"]
        assert delta == pytest.approx(1.345 * residual_sigma([read_table(p) for p in preds], read_table(labels)), 5e-4)
    for row in data["rows"]:
        ref = reference_values(case, row["pred"], labels, delta)
        assert row["values"].keys() == set(chosen)
        for loss in chosen:
            assert row["values"][loss] == pytest.approx(ref[loss], rel=RTOL), (row["pred"], loss)
    for loss in chosen:
        expected = min(data["rows"], key=lambda r: r["values"][loss])["pred"]
        assert data["best"][loss] == expected


def test_default_for_probabilities_is_bce_not_bce_with_logits(invoke_json, in_samples):
    data = invoke_json(["compare", "binary_probs.csv", "--labels", "binary_labels.csv"])
    assert data["losses"] == ["bce"]
    p, y = read_table("binary_probs.csv"), read_table("binary_labels.csv")
    assert data["rows"][0]["values"]["bce"] == pytest.approx(log_loss(y, p, labels=[0, 1]), rel=RTOL)


def test_default_for_log_probs_is_cross_entropy_which_is_their_nll(invoke_json, in_samples):
    data = invoke_json(["compare", "multiclass_log_probs.csv", "--labels", "multiclass_labels.txt"])
    assert data["losses"] == ["cross_entropy", "multi_margin"]  # the columns of logits too
    lp, y = read_table("multiclass_log_probs.csv"), read_table("multiclass_labels.txt").astype(int)
    assert data["rows"][0]["values"]["cross_entropy"] == pytest.approx(-lp[np.arange(len(y)), y].mean(), rel=RTOL)
    assert data["warnings"] == []


def test_sample_regression_c_disagrees_with_a(invoke_json, in_samples):
    """The shipped third model: mse prefers C, l1 prefers A (outliers at work); huber, whose delta (4.118 from
    the pooled residuals) keeps C's errors of 2.0-2.6 in its squared part, sides with mse."""
    data = invoke_json(["compare", "regression_pred.csv", "regression_pred_c.csv", "--labels", "regression_labels.csv"])
    assert data["best"] == {
        "mse": "regression_pred_c.csv",
        "l1": "regression_pred.csv",
        "huber": "regression_pred_c.csv",
    }
    assert data["disagreements"] == {"regression_pred_c.csv": ["mse", "huber"], "regression_pred.csv": ["l1"]}


# --- --loss, -p -------------------------------------------------------------------------


def test_loss_option_repeatable_comma_separated_and_aliases(invoke_json, in_samples):
    data = invoke_json(
        [
            "compare",
            "regression_pred.csv",
            "regression_pred_b.csv",
            "--labels",
            "regression_labels.csv",
            "-l",
            "MSELoss",
            "--loss",
            "L1Loss,smooth-l1",
            "-l",
            "l2",
        ]
    )
    assert data["losses"] == ["mse", "l1", "smooth_l1", "l2"]
    y = read_table("regression_labels.csv")
    for row in data["rows"]:
        p = read_table(row["pred"])
        ref = {**regression_refs(p, y), "l2": float(np.sum((p - y) ** 2))}  # l2 defaults to the sum
        del ref["huber"]
        assert set(row["values"]) == set(ref)
        for loss, value in ref.items():
            assert row["values"][loss] == pytest.approx(value, rel=RTOL), loss


def test_alias_and_canonical_name_give_one_column(invoke_json, in_samples):
    data = invoke_json(["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-l", "mse,MSELoss"])
    assert data["losses"] == ["mse"]


def test_param_applies_only_to_losses_that_take_it(invoke_json, in_samples):
    data = invoke_json(
        ["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-l", "mse,huber", "-p", "delta=2"]
    )
    assert data["losses"] == ["mse", "huber"]
    assert data["params"] == {"huber": {"delta": 2.0}}
    p, y = read_table("regression_pred.csv"), read_table("regression_labels.csv")
    values = data["rows"][0]["values"]
    assert values["mse"] == pytest.approx(mean_squared_error(y, p), rel=RTOL)
    assert values["huber"] == pytest.approx(huber_ref(p, y, 2.0), rel=RTOL)
    assert values["huber"] != pytest.approx(huber_ref(p, y, 1.0), rel=1e-3)


def test_params_with_default_losses(invoke_json, in_samples):
    data = invoke_json(["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-p", "delta=0.5"])
    assert data["losses"] == ["mse", "l1", "huber"]
    assert data["params"] == {"huber": {"delta": 0.5}}
    assert data["reasons"]["huber"].endswith("; delta=0.5 as given with -p (continuous labels)")
    p, y = read_table("regression_pred.csv"), read_table("regression_labels.csv")
    values = data["rows"][0]["values"]
    assert values["huber"] == pytest.approx(huber_ref(p, y, 0.5), rel=RTOL)
    assert values["mse"] == pytest.approx(mean_squared_error(y, p), rel=RTOL)


def test_param_shared_by_two_losses_goes_to_both(invoke_json, in_samples):
    weight = [1.0, 2.0, 0.5, 1.0]
    data = invoke_json(
        [
            "compare",
            "multiclass_logits.csv",
            "--labels",
            "multiclass_labels.txt",
            "-l",
            "cross_entropy,multi_margin",
            "-p",
            f"weight={json.dumps(weight)}",
            "-p",
            "margin=2",
        ]
    )
    assert data["params"]["cross_entropy"] == {"weight": weight}
    assert data["params"]["multi_margin"] == {"weight": weight, "margin": 2.0}
    x, y = read_table("multiclass_logits.csv"), read_table("multiclass_labels.txt").astype(int)
    values = data["rows"][0]["values"]
    assert values["cross_entropy"] == pytest.approx(weighted_ce_ref(x, y, weight), rel=RTOL)
    assert values["multi_margin"] == pytest.approx(multi_margin_ref(x, y, 2.0, weight), rel=RTOL)


def test_param_no_compared_loss_takes_is_a_usage_error(expect_error, in_samples):
    expect_error(
        ["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-l", "mse,l1", "-p", "delta=2"],
        2,
        "delta",
    )
    # the default losses of these labels (mse, l1, huber) take no beta
    expect_error(["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-p", "beta=2"], 2, "beta")


def test_unknown_loss_is_a_usage_error(expect_error, in_samples):
    expect_error(
        ["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-l", "mse,nosuch"], 2, "nosuch"
    )


def test_loss_needing_more_inputs_is_a_usage_error(expect_error, in_samples):
    expect_error(
        ["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-l", "margin_ranking"],
        2,
        "margin_ranking",
    )


# --- best, --sort, --baseline, disagreements on crafted files -----------------------------

# Labels 0; A is exact but for one error of 10, B is 3 off everywhere, C is 4 off everywhere.
#   mse:       A 20    B 9    C 16   → B
#   l1:        A 2     B 3    C 4    → A
#   smooth_l1: A 1.9   B 2.5  C 3.5  → A
ZEROS = [0, 0, 0, 0, 0]
MODEL_A = [0, 0, 0, 0, 10]
MODEL_B = [3, -3, 3, -3, 3]
MODEL_C = [4, 4, -4, 4, -4]


@pytest.fixture
def outlier_files(crafted):
    return {
        "y": crafted("y.csv", ["y", *ZEROS]),
        "a": crafted("a.csv", ["a", *MODEL_A]),
        "b": crafted("b.csv", ["b", *MODEL_B]),
        "c": crafted("c.csv", ["c", *MODEL_C]),
    }


def test_best_per_loss_and_disagreements(invoke_json, outlier_files):
    f = outlier_files
    data = invoke_json(["compare", f["a"], f["b"], f["c"], "--labels", f["y"], "-l", "mse,l1,smooth_l1"])
    values = {row["pred"]: row["values"] for row in data["rows"]}
    assert values["a.csv"] == pytest.approx({"mse": 20.0, "l1": 2.0, "smooth_l1": 1.9})
    assert values["b.csv"] == pytest.approx({"mse": 9.0, "l1": 3.0, "smooth_l1": 2.5})
    assert values["c.csv"] == pytest.approx({"mse": 16.0, "l1": 4.0, "smooth_l1": 3.5})
    assert data["best"] == {"mse": "b.csv", "l1": "a.csv", "smooth_l1": "a.csv"}
    assert data["disagreements"] == {"b.csv": ["mse"], "a.csv": ["l1", "smooth_l1"]}


def test_no_disagreement_when_all_losses_agree(invoke, invoke_json, outlier_files):
    f = outlier_files
    data = invoke_json(["compare", f["b"], f["c"], "--labels", f["y"], "-l", "mse,l1,smooth_l1"])
    assert data["best"] == {"mse": "b.csv", "l1": "b.csv", "smooth_l1": "b.csv"}
    assert data["disagreements"] == {}
    result = invoke(["compare", f["b"], f["c"], "--labels", f["y"], "-l", "mse,l1,smooth_l1"])
    assert result.exit_code == 0
    assert "disagree" not in result.stdout


def test_disagreement_note_under_the_table(invoke, outlier_files):
    f = outlier_files
    result = invoke(["compare", f["a"], f["b"], "--labels", f["y"], "-l", "mse,l1"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "The losses disagree" in out
    assert out.index("The losses disagree") > out.rindex("└")  # after the table's bottom border
    assert out.index("The losses disagree") > out.index("best in its column")
    flat = " ".join(out.split())
    assert "mse prefers b;" in flat  # the models as the table names them
    assert "l1 prefers a " in flat
    assert "outliers" in flat and "2.6.1" in flat


def test_table_marks_the_best_value_of_each_column(invoke, outlier_files):
    f = outlier_files
    result = invoke(["compare", f["a"], f["b"], "--labels", f["y"], "-l", "mse,l1"])
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") >= 3}
    assert [c.strip() for c in rows["a"].split("│")[2:4]] == ["20", "2 *"]  # a.csv's row, named by what differs
    assert [c.strip() for c in rows["b"].split("│")[2:4]] == ["9 *", "3"]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("mse", ["b.csv", "c.csv", "a.csv"]),
        ("l1", ["a.csv", "b.csv", "c.csv"]),
        ("MSELoss", ["b.csv", "c.csv", "a.csv"]),
    ],
)
def test_sort_orders_rows_ascending(invoke, invoke_json, outlier_files, sort, order):
    f = outlier_files
    args = ["compare", f["a"], f["c"], f["b"], "--labels", f["y"], "-l", "mse,l1", "--sort", sort]
    assert [row["pred"] for row in invoke_json(args)["rows"]] == order
    rows = list(csv.reader(io.StringIO(invoke([*args, "-f", "csv"]).stdout)))
    assert [r[0] for r in rows[1:]] == order
    table = invoke(args).stdout
    assert sorted(order, key=table.index) == order


def test_without_sort_rows_keep_the_command_line_order(invoke_json, outlier_files):
    f = outlier_files
    data = invoke_json(["compare", f["c"], f["a"], f["b"], "--labels", f["y"], "-l", "mse"])
    assert [row["pred"] for row in data["rows"]] == ["c.csv", "a.csv", "b.csv"]


def test_sort_by_unknown_or_uncompared_loss_is_a_usage_error(expect_error, outlier_files):
    f = outlier_files
    expect_error(["compare", f["a"], f["b"], "--labels", f["y"], "-l", "mse,l1", "--sort", "nosuch"], 2, "nosuch")
    expect_error(["compare", f["a"], f["b"], "--labels", f["y"], "-l", "mse,l1", "--sort", "huber"], 2, "huber")


def test_baseline_percent_change(invoke_json, outlier_files):
    f = outlier_files
    data = invoke_json(["compare", f["a"], f["b"], f["c"], "--labels", f["y"], "-l", "mse,l1", "--baseline", f["b"]])
    assert data["baseline"] == "b.csv"
    assert [row["pred"] for row in data["rows"]] == ["a.csv", "b.csv", "c.csv"]  # not added twice
    change = {row["pred"]: row["change_pct"] for row in data["rows"]}
    # mse: A 20, B 9, C 16; l1: A 2, B 3, C 4
    assert change["b.csv"] == pytest.approx({"mse": 0.0, "l1": 0.0})
    assert change["a.csv"] == pytest.approx({"mse": 100 * 11 / 9, "l1": 100 * -1 / 3}, rel=1e-5)
    assert change["c.csv"] == pytest.approx({"mse": 100 * 7 / 9, "l1": 100 * 1 / 3}, rel=1e-5)


def test_baseline_not_among_pred_is_added_as_a_row(invoke, invoke_json, outlier_files):
    f = outlier_files
    args = ["compare", f["a"], f["c"], "--labels", f["y"], "-l", "mse", "--baseline", f["b"]]
    data = invoke_json(args)
    preds = [row["pred"] for row in data["rows"]]
    assert sorted(preds) == ["a.csv", "b.csv", "c.csv"]
    values = {row["pred"]: row["values"]["mse"] for row in data["rows"]}
    assert values["b.csv"] == pytest.approx(9.0)
    assert data["best"] == {"mse": "b.csv"}
    change = {row["pred"]: row["change_pct"]["mse"] for row in data["rows"]}
    assert change == pytest.approx({"a.csv": 100 * 11 / 9, "b.csv": 0.0, "c.csv": 100 * 7 / 9}, rel=1e-5)
    table = invoke(args).stdout
    assert "b (baseline)" in table
    assert "(+122.2%)" in table and "(+77.8%)" in table
    rows = list(csv.reader(io.StringIO(invoke([*args, "-f", "csv"]).stdout)))
    assert rows[0] == ["pred", "name", "mse", "mse_change_pct"]
    by_name = {r[0]: r for r in rows[1:]}
    assert float(by_name["a.csv"][3]) == pytest.approx(122.2, abs=0.1)


def test_baseline_in_single_file_mode_names_a_column_model(invoke_json, expect_error, in_samples):
    data = invoke_json(["compare", "models.csv", "--label-col", "y", "-l", "mse", "--baseline", "models.csv:model_a"])
    assert data["baseline"] == "models.csv:model_a"
    values = {row["pred"]: row["values"]["mse"] for row in data["rows"]}
    change = {row["pred"]: row["change_pct"]["mse"] for row in data["rows"]}
    base = values["models.csv:model_a"]
    for model, value in values.items():
        assert change[model] == pytest.approx(100 * (value - base) / base, rel=1e-6)
    expect_error(["compare", "models.csv", "--label-col", "y", "--baseline", "model_z"], 2, "model_z")


# --- single-file mode ----------------------------------------------------------------------


def test_single_file_every_other_column_is_a_model(invoke_json, in_samples):
    data = invoke_json(["compare", "models.csv", "--label-col", "y"])
    assert data["labels"] == "models.csv"
    assert data["losses"] == ["mse", "l1", "huber"]
    names = ["models.csv:model_a", "models.csv:model_b", "models.csv:model_c"]
    assert [row["pred"] for row in data["rows"]] == names
    # the same numbers as the separate files
    y = read_table("regression_labels.csv")
    paths = ["regression_pred.csv", "regression_pred_b.csv", "regression_pred_c.csv"]
    assert data["params"]["huber"]["delta"] == pytest.approx(1.345 * residual_sigma(map(read_table, paths), y), 5e-4)
    for row, path in zip(data["rows"], paths, strict=True):
        ref = regression_refs(read_table(path), y, data["params"]["huber"]["delta"])
        for loss in data["losses"]:
            assert row["values"][loss] == pytest.approx(ref[loss], rel=RTOL)
    assert data["best"]["mse"] == "models.csv:model_b"


def test_single_file_pred_col_picks_models(invoke_json, in_samples):
    data = invoke_json(["compare", "models.csv", "--label-col", "y", "--pred-col", "model_a", "--pred-col", "model_c"])
    assert [row["pred"] for row in data["rows"]] == ["models.csv:model_a", "models.csv:model_c"]
    assert data["disagreements"] == {"models.csv:model_c": ["mse", "huber"], "models.csv:model_a": ["l1"]}
    same = invoke_json(["compare", "models.csv", "--label-col", "y", "--pred-col", "model_a,model_c"])
    assert same["rows"] == data["rows"]


def test_single_file_parquet(invoke_json, in_samples):
    data = invoke_json(["compare", "regression.parquet", "--label-col", "y", "-l", "mse"])
    assert [row["pred"] for row in data["rows"]] == ["regression.parquet:pred"]
    p, y = read_table("regression_pred.csv"), read_table("regression_labels.csv")
    assert data["rows"][0]["values"]["mse"] == pytest.approx(mean_squared_error(y, p), rel=RTOL)


# --- input forms -----------------------------------------------------------------------------


def test_pred_col_in_each_file_with_labels(invoke_json, in_samples):
    """With --labels, --pred-col picks the same column in every PRED file: CSV, TSV, parquet."""
    data = invoke_json(
        [
            "compare",
            "regression.csv",
            "regression.tsv",
            "regression.parquet",
            "--labels",
            "regression_labels.csv",
            "--pred-col",
            "pred",
            "-l",
            "mse,l1",
        ]
    )
    p, y = read_table("regression_pred.csv"), read_table("regression_labels.csv")
    assert [row["pred"] for row in data["rows"]] == ["regression.csv", "regression.tsv", "regression.parquet"]
    for row in data["rows"]:
        assert row["values"]["mse"] == pytest.approx(mean_squared_error(y, p), rel=RTOL)
        assert row["values"]["l1"] == pytest.approx(mean_absolute_error(y, p), rel=RTOL)


def test_labels_from_parquet_column(invoke_json, in_samples):
    data = invoke_json(
        ["compare", "regression_pred.csv", "--labels", "regression.parquet", "--label-col", "y", "-l", "l1"]
    )
    p, y = read_table("regression_pred.csv"), read_table("regression_labels.csv")
    assert data["rows"][0]["values"]["l1"] == pytest.approx(mean_absolute_error(y, p), rel=RTOL)


def test_npy_inputs(invoke_json, crafted, write_file):
    write_file("y.npy", np.array(ZEROS, dtype=np.float64))
    write_file("a.npy", np.array(MODEL_A, dtype=np.float32))
    write_file("b.npy", np.array(MODEL_B, dtype=np.float64))
    data = invoke_json(["compare", "a.npy", "b.npy", "--labels", "y.npy", "-l", "mse,l1"])
    values = {row["pred"]: row["values"] for row in data["rows"]}
    assert values == {"a.npy": pytest.approx({"mse": 20.0, "l1": 2.0}), "b.npy": pytest.approx({"mse": 9.0, "l1": 3.0})}


def test_npz_with_keys(invoke_json, in_samples):
    data = invoke_json(
        ["compare", "multiclass.npz", "--pred-key", "logits", "--labels", "multiclass.npz", "--label-key", "labels"]
    )
    x, y = read_table("multiclass_logits.csv"), read_table("multiclass_labels.txt").astype(int)
    assert data["losses"] == ["cross_entropy", "multi_margin"]
    assert data["rows"][0]["values"]["cross_entropy"] == pytest.approx(
        log_loss(y, softmax(x), labels=range(4)), rel=RTOL
    )


def test_labels_from_stdin(invoke_json, in_samples):
    labels = (SAMPLES / "regression_labels.csv").read_text()
    data = invoke_json(
        ["compare", "regression_pred.csv", "regression_pred_b.csv", "--labels", "-", "-l", "mse"], input=labels
    )
    y = read_table("regression_labels.csv")
    for row in data["rows"]:
        assert row["values"]["mse"] == pytest.approx(mean_squared_error(y, read_table(row["pred"])), rel=RTOL)


def test_two_stdin_inputs_are_a_usage_error(expect_error, in_samples):
    expect_error(["compare", "-", "--labels", "-"], 2, "standard input", input="1\n2\n")


# --- output formats ----------------------------------------------------------------------------


def test_json_keys_per_spec(invoke_json, outlier_files):
    f = outlier_files
    data = invoke_json(["compare", f["a"], f["b"], "--labels", f["y"], "-l", "mse,l1"])
    assert data.keys() >= SPEC_KEYS
    assert data["labels"] == "y.csv"
    assert data["losses"] == ["mse", "l1"]
    for row in data["rows"]:
        assert {"pred", "values"} <= row.keys()
        assert list(row["values"]) == ["mse", "l1"]
        assert all(isinstance(v, float) for v in row["values"].values())
    assert set(data["best"]) == {"mse", "l1"}


def test_csv_parses(invoke, invoke_json, outlier_files):
    f = outlier_files
    args = ["compare", f["a"], f["b"], f["c"], "--labels", f["y"], "-l", "mse,l1,smooth_l1"]
    result = invoke([*args, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["pred", "name", "mse", "l1", "smooth_l1"]
    data = invoke_json(args)
    expected = {row["pred"]: row["values"] for row in data["rows"]}
    assert [r[:2] for r in rows[1:]] == [["a.csv", "a"], ["b.csv", "b"], ["c.csv", "c"]]
    for path, _, *cells in rows[1:]:
        assert [float(c) for c in cells] == pytest.approx([expected[path][k] for k in rows[0][2:]])


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_misfit_prediction_file_is_named_and_nothing_printed_with_fail_fast(expect_error, outlier_files, crafted, fmt):
    f = outlier_files
    crafted("short.csv", ["s", 1, 2, 3])
    args = ["compare", f["a"], "short.csv", f["b"], "--labels", f["y"], "-l", "mse,l1", "-f", fmt, "--fail-fast"]
    line = expect_error(args, 3, "short.csv")
    assert "(3,)" in line and "(5,)" in line


def test_misfit_class_count_is_named(expect_error, in_samples):
    # 4 classes in the labels, a model with 12 rows of 4 scores against 16 binary labels
    expect_error(
        ["compare", "binary_logits.csv", "multiclass_logits.csv", "--labels", "binary_labels.csv", "--fail-fast"],
        3,
        "multiclass_logits.csv",
    )


def test_missing_files(expect_error, outlier_files):
    f = outlier_files
    expect_error(["compare", f["a"], "nosuch.csv", "--labels", f["y"], "--fail-fast"], 3, "nosuch.csv")
    expect_error(["compare", f["a"], "--labels", "nolabels.csv"], 3, "nolabels.csv")  # labels: always the end
    expect_error(["compare", f["a"], "--labels", f["y"], "--baseline", "nobase.csv", "--fail-fast"], 3, "nobase.csv")


def test_labels_required(expect_error, outlier_files):
    f = outlier_files
    expect_error(["compare", f["a"], f["b"]], 2, "--labels")
    expect_error(["compare", f["a"]], 2, "--label-col")
    # single-file mode takes one file
    expect_error(["compare", f["a"], f["b"], "--label-col", "a"], 2, "--label-col")


# --- one process: each file read once, torch imported once ----------------------------------------


def test_each_file_is_read_once(invoke_json, in_samples, monkeypatch):
    import losscli.io.inputs
    import losscli.io.loading

    calls: list[str] = []
    original = losscli.io.loading.read_source

    def counting(path, *args, **kwargs):
        calls.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(losscli.io.inputs, "read_source", counting)
    monkeypatch.setattr(losscli.io.loading, "read_source", counting)
    preds = ["regression_pred.csv", "regression_pred_b.csv", "regression_pred_c.csv"]
    invoke_json(
        [
            "compare",
            *preds,
            "--labels",
            "regression_labels.csv",
            "--baseline",
            "regression_pred.csv",
            "-l",
            "mse,l1,smooth_l1,huber",
        ]
    )
    assert sorted(calls) == sorted(["regression_labels.csv", *preds])

    calls.clear()
    invoke_json(["compare", "models.csv", "--label-col", "y", "--baseline", "models.csv:model_b"])
    assert calls == ["models.csv"]


def test_no_child_processes(invoke_json, in_samples, monkeypatch):
    """Everything happens in this process: nothing is forked or spawned."""

    def refuse(*args, **kwargs):
        raise AssertionError("compare started another process")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "fork", refuse)
    monkeypatch.setattr(os, "posix_spawn", refuse)
    monkeypatch.setattr(os, "system", refuse)
    data = invoke_json(
        [
            "compare",
            "regression_pred.csv",
            "regression_pred_b.csv",
            "regression_pred_c.csv",
            "--labels",
            "regression_labels.csv",
        ]
    )
    assert len(data["rows"]) == 3


def test_every_loss_runs_on_the_same_tensors(invoke_json, in_samples, monkeypatch):
    import losscli.engine.core

    seen: list[tuple] = []  # keeps every tensor alive, so distinct tensors cannot share an address
    original = losscli.engine.core.build_loss

    def recording(*args, **kwargs):
        fn = original(*args, **kwargs)

        def run(*tensors):
            seen.append(tensors)
            return fn(*tensors)

        return run

    monkeypatch.setattr(losscli.engine.core, "build_loss", recording)
    invoke_json(["compare", "regression_pred.csv", "regression_pred_b.csv", "--labels", "regression_labels.csv"])
    assert len(seen) == 6  # 2 models x 3 losses
    label_ptrs = {tensors[1].data_ptr() for tensors in seen}
    pred_ptrs = {tensors[0].data_ptr() for tensors in seen}
    assert len(label_ptrs) == 1  # one labels tensor for every loss and model
    assert len(pred_ptrs) == 2  # one tensor per model


def test_console_script_imports_torch_once(losscli_exe):
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "NO_COLOR": "1"}
    result = subprocess.run(
        [
            losscli_exe,
            "compare",
            "regression_pred.csv",
            "regression_pred_b.csv",
            "regression_pred_c.csv",
            "--labels",
            "regression_labels.csv",
            "-l",
            "mse,l1,smooth_l1,huber",
            "-f",
            "json",
        ],
        cwd=SAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    ]
    assert imported.count("torch") == 1
    data = json.loads(result.stdout)
    assert len(data["rows"]) == 3 and data["losses"] == ["mse", "l1", "smooth_l1", "huber"]


# --- default losses: a fixed list per label type, scales from the residuals (issue 12, point 8) ---

EXPECTED_DEFAULTS = {  # the README's table, for models that output logits, scores or values
    "continuous": ["mse", "l1", "huber"],
    "bounded": ["bce_with_logits", "mse"],
    "binary": ["bce_with_logits"],
    "multiclass": ["cross_entropy", "multi_margin"],
    "onehot": ["cross_entropy", "categorical_hinge"],
    "multilabel": ["bce_with_logits", "multilabel_soft_margin"],
    "signed": ["soft_margin", "hinge"],
    "distribution": ["cross_entropy"],
    "count": ["poisson_nll"],  # log-rates
}


def gaussian_with_two_outliers() -> np.ndarray:
    y = np.random.default_rng(0).normal(0, 1, 1000)
    y[[10, 20]] = [9.0, -8.0]
    return y


def test_gaussian_labels_with_two_outliers_get_the_fixed_columns_and_delta_from_the_residuals(
    invoke, invoke_json, write_file
):
    y = gaussian_with_two_outliers()
    g = np.random.default_rng(1)
    preds = [y + g.normal(0, 0.3, 1000), y + g.standard_t(2, 1000) * 0.5, y + 0.4]  # tight, heavy-tailed, biased
    labels = write_file("y.npy", y)
    models = [write_file(f"model_{i}.npy", p) for i, p in enumerate(preds)]
    data = invoke_json(["compare", *models, "--labels", labels])
    assert data["losses"] == ["mse", "l1", "huber"]  # no log_cosh, no smooth_l1: the list of the type
    sigma = residual_sigma(preds, y)
    assert 0.3 < sigma < 0.6  # the errors' scale, far below the labels' (1) and its 12.79 of the issue
    delta = data["params"]["huber"]["delta"]
    assert data["params"] == {"huber": {"delta": delta}}
    assert delta == pytest.approx(1.345 * sigma, rel=5e-4)
    for row, p in zip(data["rows"], preds, strict=True):
        assert row["values"]["huber"] == pytest.approx(huber_ref(p, y, delta), rel=RTOL)
    heavy = data["rows"][1]["values"]  # its large errors are linear in huber: far from mse / 2
    assert heavy["huber"] < 0.5 * 0.5 * mean_squared_error(y, preds[1])
    assert set(data["reasons"]) == {"mse", "l1", "huber"}
    assert f"{sigma:.4g}" in data["reasons"]["huber"] and "residuals" in data["reasons"]["huber"]
    table = invoke(["compare", *models, "--labels", labels]).stdout
    for loss, reason in data["reasons"].items():
        assert f"{loss}: {reason[:40]}" in " ".join(table.split()), loss
    header = invoke(["compare", *models, "--labels", labels, "-f", "csv"]).stdout.splitlines()[0]
    assert header == "pred,name,mse,l1,huber"


def dataset(label_type: str, variant: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Labels of one type in several shapes of data (outliers or not, balanced or not), and two models' outputs."""
    g = np.random.default_rng(100 + variant)
    n = 600
    if label_type == "continuous":
        y = [g.normal(0, 1, n), gaussian_with_two_outliers()[:n], 1000 * g.standard_t(2, n), g.integers(18, 91, n)]
        y = y[variant].astype(float)
        return y, [y + g.normal(0, s, n) for s in (1.0, 3.0)]
    if label_type == "binary":
        share = (0.5, 0.05, 0.01, 0.3)[variant]
        y = (g.random(n) < share).astype(float)
        y[0] = 1.0
        return y, [g.normal(0, 2, n) for _ in range(2)]
    if label_type == "multiclass":
        rare = g.integers(0, 9, n)
        rare[:6] = 9  # 1 % of a tenth class
        y = [g.integers(0, 10, n), g.integers(0, 4, n), rare, g.integers(0, 3, n)][variant]
        y[: y.max() + 1] = np.arange(y.max() + 1)
        return y, [g.normal(0, 2, (n, y.max() + 1)) for _ in range(2)]
    if label_type == "multilabel":
        k = 3 + variant % 3
        y = (g.random((n, k)) < np.array([0.5, 0.3, 0.02, 0.1, 0.6])[:k]).astype(float)
        return y, [g.normal(0, 2, y.shape) for _ in range(2)]
    if label_type == "count":
        y = [g.poisson(20, n), g.negative_binomial(2, 0.1, n), g.poisson(50, n), g.poisson(8, n)][variant]
        return y, [np.log(g.uniform(1, 60, n)) - variant for _ in range(2)]
    raise AssertionError(label_type)


@pytest.mark.parametrize("label_type", ["continuous", "binary", "multiclass", "multilabel", "count"])
def test_default_columns_are_the_same_on_every_data_set_of_a_type(invoke, invoke_json, write_file, label_type):
    headers = set()
    for variant in range(4):
        y, preds = dataset(label_type, variant)
        labels = write_file(f"{label_type}_{variant}/y.npy", y)
        models = [write_file(f"{label_type}_{variant}/model_{i}.npy", p) for i, p in enumerate(preds)]
        data = invoke_json(["compare", *models, "--labels", labels])
        assert data["losses"] == EXPECTED_DEFAULTS[label_type], variant
        assert not any("weight" in params for params in data["params"].values())  # no class weights from counts
        assert list(data["reasons"]) == data["losses"]
        headers.add(invoke(["compare", *models, "--labels", labels, "-f", "csv"]).stdout.splitlines()[0])
    assert len(headers) == 1, headers


@pytest.mark.parametrize("label_type", sorted(EXPECTED_DEFAULTS))
def test_default_columns_of_each_type_are_the_readmes(invoke_json, write_file, label_type):
    g = np.random.default_rng(7)
    n = 400
    y = {
        "continuous": lambda: g.normal(5, 2, n),
        "bounded": lambda: g.beta(2, 5, n),
        "binary": lambda: (np.arange(n) % 3 == 0).astype(float),
        "multiclass": lambda: np.arange(n) % 5,
        "onehot": lambda: np.eye(4)[np.arange(n) % 4],
        "multilabel": lambda: (g.random((n, 3)) < 0.4).astype(float),
        "signed": lambda: np.where(np.arange(n) % 2, 1.0, -1.0),
        "distribution": lambda: g.dirichlet(np.ones(3), n),
        "count": lambda: g.poisson(25, n),
    }[label_type]()
    shape = (n, 5) if label_type == "multiclass" else y.shape
    pred = np.log(g.uniform(5, 50, shape)) if label_type == "count" else g.normal(0, 1, shape)
    data = invoke_json(["compare", write_file("p.npy", pred), "--labels", write_file("y.npy", y)])
    assert data["losses"] == EXPECTED_DEFAULTS[label_type]
    assert all(data["reasons"][loss].endswith(f"({label_type} labels)") for loss in data["losses"])


def test_probability_outputs_take_the_probability_forms(invoke_json, write_file):
    y = (np.arange(300) % 4 == 0).astype(float)
    p = 1 / (1 + np.exp(-np.random.default_rng(3).normal(0, 2, 300)))
    assert invoke_json(["compare", write_file("p.npy", p), "--labels", write_file("y.npy", y)])["losses"] == ["bce"]
    soft = np.random.default_rng(4).beta(2, 5, 300)
    data = invoke_json(["compare", write_file("q.npy", p), "--labels", write_file("soft.npy", soft)])
    assert data["losses"] == ["bce", "mse"]
    assert data["rows"][0]["values"]["mse"] == pytest.approx(mean_squared_error(soft, p), rel=RTOL)  # Brier score


def test_count_models_of_rates_read_as_rates(invoke_json, write_file):
    g = np.random.default_rng(5)
    y = g.poisson(20, 500)
    rates = [np.clip(y + g.normal(0, 3, 500), 0.5, None), g.uniform(10, 30, 500)]
    data = invoke_json(
        ["compare", *(write_file(f"r{i}.npy", r) for i, r in enumerate(rates)), "--labels", write_file("y.npy", y)]
    )
    assert data["losses"] == ["poisson_nll", "poisson_deviance", "mse"]
    assert data["params"] == {"poisson_nll": {"log_input": False}}
    assert "rates" in data["reasons"]["poisson_nll"]
    for row, r in zip(data["rows"], rates, strict=True):
        assert row["values"]["poisson_deviance"] == pytest.approx(mean_poisson_deviance(y, r), rel=1e-4)
        assert row["values"]["poisson_nll"] == pytest.approx(np.mean(r - y * np.log(r + 1e-8)), rel=1e-4)
    log_rates = invoke_json(["compare", write_file("lr.npy", np.log(rates[0])), "--labels", write_file("y2.npy", y)])
    assert log_rates["losses"] == ["poisson_nll"] and log_rates["params"] == {}


def test_named_losses_have_no_reasons(invoke, invoke_json, in_samples):
    args = ["compare", "regression_pred.csv", "--labels", "regression_labels.csv", "-l", "mse,huber"]
    assert invoke_json(args)["reasons"] == {}
    assert "squared error" not in invoke(args).stdout


def test_huber_delta_when_the_errors_are_constant_or_none(invoke_json, write_file):
    """Errors all 1: σ = 1.4826 (the median |error| scaled); none at all: delta stays at its default, and says so."""
    y = np.random.default_rng(6).normal(0, 10, 200)
    data = invoke_json(["compare", write_file("p.npy", y + 1.0), "--labels", write_file("y.npy", y)])
    assert data["params"]["huber"]["delta"] == pytest.approx(1.345 / norm.ppf(0.75), rel=5e-4)  # every error is 1
    exact = invoke_json(["compare", write_file("same.npy", y), "--labels", write_file("y2.npy", y)])
    assert "huber" not in exact["params"] and "delta = 1, its default" in exact["reasons"]["huber"]
