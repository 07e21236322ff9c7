"""Unit tests of ``losscli.advice.advisor`` (issue 3, SPEC §3 ``recommend``): label-type inference,
the ranked recommendations, the balancing weights, what predictions look like, and the
classic mistakes ``find_mistakes`` catches — on realistic, seeded data, numpy only.
"""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from scipy.stats import norm

from losscli.advice import advisor
from losscli.advice.advisor import (
    LABEL_TYPES,
    MistakeStats,
    PredStats,
    advise,
    balancing_params,
    command_line,
    describe_predictions,
    find_mistakes,
    infer_label_type,
    judge_mistakes,
    profile_for_type,
)
from losscli.registry import get_loss

try:
    from tests.spec_tables import FIRST_RECOMMENDATION as FIRST
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from spec_tables import FIRST_RECOMMENDATION as FIRST

N = 4000


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- realistic label fixtures, one (or more) per label type -------------------------------


def gaussian_with_outliers(n: int = N, share: float = 0.01, seed: int = 0) -> np.ndarray:
    """House-price-like regression targets: N(10, 2) with 1 % gross errors 40–80 away."""
    g = rng(seed)
    y = g.normal(10.0, 2.0, n)
    bad = g.choice(n, int(share * n), replace=False)
    y[bad] += g.choice([-1.0, 1.0], len(bad)) * g.uniform(40, 80, len(bad))
    return y


def clean_gaussian(n: int = 100_000, seed: int = 1) -> np.ndarray:
    return rng(seed).normal(0.0, 1.0, n)


def beta_soft_labels(n: int = N, seed: int = 2) -> np.ndarray:
    return rng(seed).beta(2.0, 5.0, n)


def binary_5pct(n: int = 2000, seed: int = 3) -> np.ndarray:
    """Exactly 5 % positives (100 of 2000): negatives/positives = 19."""
    y = np.zeros(n, dtype=np.int64)
    y[rng(seed).choice(n, n // 20, replace=False)] = 1
    return y


def ten_classes(n: int = N, seed: int = 4) -> np.ndarray:
    return rng(seed).integers(0, 10, n)


def rare_class(n: int = 3000, seed: int = 5) -> np.ndarray:
    """Nine common classes and class 9 at 1 % of the rows."""
    g = rng(seed)
    y = g.integers(0, 9, n)
    y[g.choice(n, n // 100, replace=False)] = 9
    return y


def onehot5(n: int = N, seed: int = 6) -> np.ndarray:
    return np.eye(5)[rng(seed).integers(0, 5, n)]


MULTILABEL_RATES = np.array([0.5, 0.3, 0.2, 0.1, 0.05, 0.02])


def multilabel6(n: int = N, seed: int = 7) -> np.ndarray:
    return (rng(seed).random((n, 6)) < MULTILABEL_RATES).astype(np.float64)


def signed(n: int = N, seed: int = 8) -> np.ndarray:
    return rng(seed).choice([-1.0, 1.0], n)


def dirichlet_rows(n: int = N, seed: int = 9) -> np.ndarray:
    return rng(seed).dirichlet(np.ones(4), n)


def poisson_counts(n: int = N, seed: int = 10) -> np.ndarray:
    return rng(seed).poisson(50.0, n)


FIXTURES = {
    "continuous": gaussian_with_outliers,
    "continuous_clean": clean_gaussian,
    "bounded": beta_soft_labels,
    "binary": binary_5pct,
    "multiclass": ten_classes,
    "multiclass_floats": lambda: ten_classes().astype(np.float64),
    "multiclass_rare": rare_class,
    "onehot": onehot5,
    "multilabel": multilabel6,
    "signed": signed,
    "distribution": dirichlet_rows,
    "count": poisson_counts,
}


@pytest.mark.parametrize("name", FIXTURES)
def test_each_label_type_is_detected_and_the_first_recommendation_is_the_spec_table(name):
    expected = name.split("_")[0]
    labels = FIXTURES[name]()
    profile = infer_label_type(labels)
    assert profile.label_type == expected, profile.evidence
    advice = advise(profile, labels=labels)
    assert advice.label_type == expected
    assert advice.recommendations[0].loss == FIRST[expected]
    assert advice.evidence is profile.evidence
    assert profile.evidence["n_samples"] == len(labels)
    assert profile.evidence["shape"] == list(labels.shape)
    for rec in advice.recommendations:
        spec = get_loss(rec.loss)
        assert rec.loss == spec.name and rec.torch_name == spec.torch_name
        assert rec.reason.strip()
        assert (rec.command is None) == bool(rec.fix), rec  # labels to convert first: a fix, not a line
        assert rec.fix or rec.command.startswith(f"losscli compute {rec.loss} ")


def test_nine_label_types_are_those_of_the_spec():
    assert set(LABEL_TYPES) == set(FIRST) == set(advisor.RECOMMENDERS)


@pytest.mark.parametrize("label_type", sorted(FIRST))
def test_given_label_type_skips_the_inspection(label_type):
    profile = profile_for_type(label_type)
    assert profile.evidence == {"given": "--label-type"}
    advice = advise(profile)
    assert advice.recommendations[0].loss == FIRST[label_type]
    assert advice.warnings == []
    assert advice.recommendations[0].command == shlex.join(
        ["losscli", "compute", FIRST[label_type], "PRED", "LABELS"]
        + (["--reduction", "batchmean"] if label_type == "distribution" else [])
    )


# --- continuous: outliers by a robust rule ------------------------------------------------


def test_continuous_with_one_percent_outliers_lists_smooth_l1_and_huber_with_a_delta():
    y = gaussian_with_outliers()
    profile = infer_label_type(y)
    ev = profile.evidence
    assert ev["outliers"] is True
    assert 40 <= ev["n_outliers"] <= 50  # the 40 gross errors, plus a few Gaussian tails
    assert ev["outlier_share"] == pytest.approx(0.01, abs=0.003)
    assert ev["median"] == pytest.approx(10.0, abs=0.15)
    assert ev["robust_scale"] == pytest.approx(2.0, rel=0.06)  # 1.4826 · MAD estimates σ = 2
    assert "MAD" in ev["outlier_rule"]
    recs = advise(profile, labels=y).recommendations
    names = [r.loss for r in recs]
    assert names[0] == "mse"
    assert {"smooth_l1", "huber"} <= set(names)
    assert "outlier" in recs[0].reason
    huber = recs[names.index("huber")]
    assert huber.params == {}  # the labels' spread is no residual scale: without predictions, the default
    assert "--pred computes it" in huber.reason
    pred = y + np.random.default_rng(7).normal(0, 0.5, len(y))
    huber = next(r for r in advise(profile, labels=y, pred=pred).recommendations if r.loss == "huber")
    sigma = np.median(np.abs(pred - y)) / norm.ppf(0.75)  # the errors' robust σ around 0 (robust regression's)
    assert huber.params["delta"] == pytest.approx(1.345 * sigma, rel=5e-4)
    assert huber.params["delta"] == pytest.approx(1.345 * 0.5, rel=0.06)  # σ of the errors, not the labels' 2
    assert "-p delta=" in huber.command
    assert "2.6.1" in (recs[names.index("smooth_l1")].rule or "")
    assert "2.7" in (recs[0].rule or "")


def test_clean_gaussian_of_100k_values_flags_no_outliers():
    y = clean_gaussian()
    profile = infer_label_type(y)
    assert profile.label_type == "continuous"
    assert profile.evidence["outliers"] is False
    assert profile.evidence["outlier_share"] < advisor.OUTLIER_SHARE  # ~0.05 % Gaussian tails only
    recs = advise(profile, labels=y).recommendations
    assert recs[0].loss == "mse"
    assert "huber" not in [r.loss for r in recs]
    assert "without notable outliers" in recs[0].reason


# --- classes: balance and weights --------------------------------------------------------


def test_binary_with_5_percent_positives_is_severely_imbalanced_with_pos_weight_19():
    y = binary_5pct()
    profile = infer_label_type(y)
    ev = profile.evidence
    assert profile.label_type == "binary"
    assert ev["positive_share"] == 0.05
    assert ev["imbalance_ratio"] == 19
    assert ev["severe_imbalance"] is True
    assert balancing_params(profile) == {"pos_weight": [19]}
    top = advise(profile, labels=y).recommendations[0]
    assert top.loss == "bce_with_logits"
    assert top.params == {"pos_weight": [19]}
    words = shlex.split(top.command)
    assert words[words.index("-p") + 1] == "pos_weight=[19]"
    assert "19" in top.reason


def test_balanced_binary_gets_no_weights():
    y = (rng(11).random(2000) < 0.45).astype(np.int64)
    profile = infer_label_type(y)
    assert profile.evidence["severe_imbalance"] is False
    top = advise(profile, labels=y).recommendations[0]
    assert top.params == {}
    assert "-p" not in shlex.split(top.command)


@pytest.mark.parametrize("as_float", [False, True])
def test_ten_class_labels_as_ints_and_as_floats(as_float):
    y = ten_classes()
    if as_float:
        y = y.astype(np.float64)
    profile = infer_label_type(y)
    ev = profile.evidence
    assert profile.label_type == "multiclass"
    assert ev["integral"] is True and ev["n_unique"] == 10
    assert ev["min"] == 0 and ev["max"] == 9
    assert sorted(ev["class_counts"]) == [str(k) for k in range(10)]
    assert sum(ev["class_counts"].values()) == len(y)
    assert ev["severe_imbalance"] is False
    top = advise(profile, labels=y).recommendations[0]
    assert top.loss == "cross_entropy" and top.params == {}


def test_rare_class_weights_match_sklearn_balanced():
    compute_class_weight = pytest.importorskip("sklearn.utils.class_weight").compute_class_weight
    y = rare_class()
    profile = infer_label_type(y)
    assert profile.label_type == "multiclass"
    assert profile.evidence["severe_imbalance"] is True
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)
    weights = balancing_params(profile)["weight"]
    assert weights == pytest.approx(expected, rel=1e-3)  # four significant digits
    top = advise(profile, labels=y).recommendations[0]
    assert top.loss == "cross_entropy"
    assert top.params["weight"] == weights
    assert "-p" in shlex.split(top.command)


def test_weights_of_an_absent_class_and_of_present_classes_follow_sklearn():
    compute_class_weight = pytest.importorskip("sklearn.utils.class_weight").compute_class_weight
    y = np.array([0] * 50 + [2] * 50 + [3] * 5)
    profile = infer_label_type(y)
    assert profile.label_type == "multiclass"
    weights = balancing_params(profile)["weight"]
    assert len(weights) == 4  # one per column 0..3, class 1 neutral
    present = [weights[k] for k in (0, 2, 3)]
    assert present == pytest.approx(compute_class_weight("balanced", classes=np.array([0, 2, 3]), y=y), rel=1e-3)
    assert weights[1] == 1


def test_onehot_n_by_5():
    y = onehot5()
    profile = infer_label_type(y)
    assert profile.label_type == "onehot"
    assert profile.evidence["n_columns"] == 5
    assert profile.evidence["row_sum_min"] == profile.evidence["row_sum_max"] == 1
    assert list(profile.counts) == list(y.sum(axis=0).astype(int))
    assert advise(profile, labels=y).recommendations[0].loss == "cross_entropy"


def test_multilabel_pos_weight_per_column():
    y = multilabel6()
    profile = infer_label_type(y)
    assert profile.label_type == "multilabel"
    pos = y.sum(axis=0)
    assert profile.evidence["positive_share"] == pytest.approx(pos / len(y), rel=1e-3)
    assert profile.evidence["severe_imbalance"] is True  # 2 % positives in the last column
    weights = balancing_params(profile)["pos_weight"]
    assert weights == pytest.approx((len(y) - pos) / pos, rel=1e-3)
    recs = advise(profile, labels=y).recommendations
    losses = [r.loss for r in recs]
    assert losses[0] == "bce_with_logits" and "multilabel_soft_margin" in losses
    assert recs[0].params == {"pos_weight": weights}


def test_signed_distribution_and_count_evidence():
    s = infer_label_type(signed())
    assert s.label_type == "signed" and s.evidence["min"] == -1 and s.evidence["max"] == 1
    ranked = [r.loss for r in advise(s).recommendations]
    assert ranked[0] == "soft_margin" and {"hinge", "hinge_embedding"} <= set(ranked)
    d = infer_label_type(dirichlet_rows())
    assert d.label_type == "distribution"
    assert d.evidence["row_sum_min"] == pytest.approx(1) and d.evidence["row_sum_max"] == pytest.approx(1)
    recs = advise(d).recommendations
    assert recs[0].reduction == "batchmean" and "--reduction batchmean" in recs[0].command
    assert "cross_entropy" in [r.loss for r in recs]
    y = poisson_counts()
    c = infer_label_type(y)
    assert c.label_type == "count" and c.confidence == "strong"
    assert c.evidence["dispersion"] == pytest.approx(y.var(ddof=1) / y.mean(), rel=1e-3)
    assert c.evidence["spread"] == "consistent with a Poisson's" and c.evidence["count_fit"]["verdict"] == "fits"
    assert c.evidence["integral"] is True and c.evidence["min"] >= 0


def test_column_vector_and_bool_labels():
    y = binary_5pct()
    assert infer_label_type(y[:, None]).label_type == "binary"
    assert infer_label_type(y.astype(bool)).label_type == "binary"
    assert infer_label_type(np.eye(3, dtype=bool)[ten_classes() % 3]).label_type == "onehot"


def test_imbalance_property():
    assert infer_label_type(binary_5pct()).imbalance == pytest.approx(19)
    y = ten_classes()
    counts = np.bincount(y)
    assert infer_label_type(y).imbalance == pytest.approx(counts.max() / counts.min())
    assert profile_for_type("binary").imbalance is None


# --- what predictions look like ----------------------------------------------------------


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


LOGITS = rng(20).normal(0, 2.5, (500, 10))
BIN_LOGITS = rng(21).normal(0, 2.5, 2000)


@pytest.mark.parametrize(
    ("pred", "kind"),
    [
        (LOGITS, "real"),
        (softmax(LOGITS), "softmax"),
        (softmax(LOGITS).astype(np.float32), "softmax"),
        (np.log(softmax(LOGITS)), "log_probs"),
        (sigmoid(LOGITS), "probs"),
        (sigmoid(BIN_LOGITS), "probs"),
        (BIN_LOGITS, "real"),
    ],
    ids=["logits", "softmax", "softmax32", "log_softmax", "sigmoid_matrix", "sigmoid", "binary_logits"],
)
def test_describe_predictions(pred, kind):
    profile = describe_predictions(pred)
    assert profile.kind == kind
    assert profile.description
    assert profile.evidence["shape"] == list(pred.shape)


def test_advise_reports_what_the_predictions_look_like():
    y = ten_classes()[:500]
    advice = advise(infer_label_type(y), labels=y, pred=softmax(LOGITS), arguments=["p.npy", "y.npy"])
    assert advice.predictions["kind"] == "softmax"
    assert "softmax" in advice.predictions["description"]
    assert advice.recommendations[0].command == "losscli compute cross_entropy p.npy y.npy"


# --- the classic mistakes ----------------------------------------------------------------

Y10 = rng(22).integers(0, 10, 500)
YBIN = (rng(23).random(2000) < 0.4).astype(np.float64)
DIST = rng(24).dirichlet(np.ones(10), 500)


def mistakes(loss, pred, labels, params=None, reduction=None, profile=None):
    spec = get_loss(loss)
    return find_mistakes(spec, pred, labels, params or {}, reduction or spec.default_reduction, profile)


def one(found):
    assert len(found) == 1, found
    return found[0]


def test_softmax_probabilities_to_cross_entropy():
    w = one(mistakes("cross_entropy", softmax(LOGITS), Y10))
    assert "softmax" in w and "logits" in w and "floor" in w


def test_probabilities_to_nll():
    w = one(mistakes("nll", softmax(LOGITS), Y10))
    assert "negative" in w and "log_softmax" in w


def test_logits_to_bce():
    w = one(mistakes("bce", BIN_LOGITS, YBIN))
    assert "sigmoid" in w and "bce_with_logits" in w


def test_sigmoid_outputs_to_bce_with_logits():
    w = one(mistakes("bce_with_logits", sigmoid(BIN_LOGITS), YBIN))
    assert "double sigmoid" in w and "bce" in w


def test_onehot_labels_where_indices_are_wanted():
    w = one(mistakes("nll", np.log(softmax(LOGITS)), np.eye(10)[Y10]))
    assert "one-hot" in w and "argmax" in w


def test_labels_numbered_from_one():
    w = one(mistakes("cross_entropy", LOGITS, Y10 % 9 + 1))
    assert "subtract 1" in w


def test_kl_div_with_probabilities_and_with_mean():
    w = one(mistakes("kl_div", softmax(LOGITS), DIST, reduction="batchmean"))
    assert "log-probabilities" in w and "log_softmax" in w
    w = one(mistakes("kl_div", np.log(softmax(LOGITS)), DIST, reduction="mean"))
    assert "batchmean" in w
    assert mistakes("kl_div", np.log(softmax(LOGITS)), DIST, reduction="batchmean") == []


def test_column_predictions_against_flat_labels():
    w = one(mistakes("mse", BIN_LOGITS[:, None], YBIN))
    assert "(2000, 1)" in w and "(2000,)" in w and "squeeze" in w
    assert mistakes("mse", BIN_LOGITS[:, None], YBIN[:, None]) == []


def test_every_label_is_ignore_index():
    w = one(mistakes("cross_entropy", LOGITS, np.full(500, -100)))
    assert "ignore_index" in w and "NaN" in w
    w = one(mistakes("nll", np.log(softmax(LOGITS)), np.full(500, -1), params={"ignore_index": -1}))
    assert "(-1)" in w


def test_severe_imbalance_suggests_the_weights():
    w = one(mistakes("bce_with_logits", rng(25).normal(0, 2, 2000), binary_5pct().astype(np.float64)))
    assert "imbalance" in w and "-p pos_weight=[19]" in w
    w = one(mistakes("bce", sigmoid(rng(25).normal(0, 2, 2000)), binary_5pct().astype(np.float64)))
    assert "bce_with_logits" in w and "pos_weight=[19]" in w
    y = rare_class()
    w = one(mistakes("cross_entropy", rng(26).normal(0, 2, (len(y), 10)), y))
    assert "imbalance" in w and "-p weight=[" in w
    assert mistakes("cross_entropy", rng(26).normal(0, 2, (len(y), 10)), y, params={"weight": [1.0] * 10}) == []


def test_multilabel_imbalance_suggests_pos_weight_per_column():
    y = multilabel6()
    w = one(mistakes("bce_with_logits", rng(27).normal(0, 2, y.shape), y))
    pos = y.sum(axis=0)
    expected = [advisor._number(v) for v in (len(y) - pos) / pos]
    assert "pos_weight=[" + ",".join(str(v) for v in expected) + "]" in w


def test_imbalanced_onehot_labels_warn_without_a_profile():
    y = np.eye(5)[np.r_[np.zeros(10, int), rng(28).integers(1, 5, 990)]]
    found = mistakes("cross_entropy", rng(29).normal(0, 2, (1000, 5)), y)
    assert any("imbalance" in w and "weight" in w for w in found), found


@pytest.mark.parametrize(
    ("loss", "pred", "labels", "reduction"),
    [
        ("cross_entropy", LOGITS, Y10, None),
        ("cross_entropy", LOGITS, np.eye(10)[Y10], None),
        ("nll", np.log(softmax(LOGITS)), Y10, None),
        ("bce", sigmoid(BIN_LOGITS), YBIN, None),
        ("bce_with_logits", BIN_LOGITS, YBIN, None),
        ("mse", BIN_LOGITS, BIN_LOGITS + rng(30).normal(0, 1, 2000), None),
        ("kl_div", np.log(softmax(LOGITS)), DIST, "batchmean"),
        ("soft_margin", BIN_LOGITS, np.where(YBIN > 0, 1.0, -1.0), None),
        ("poisson_nll", np.log(rng(31).uniform(20, 80, 2000)), rng(32).poisson(50, 2000), None),
    ],
    ids=["ce", "ce_soft", "nll", "bce", "bce_with_logits", "mse", "kl_div", "soft_margin", "poisson_nll"],
)
def test_no_spurious_warnings_on_clean_inputs(loss, pred, labels, reduction):
    assert mistakes(loss, pred, labels, reduction=reduction) == []


@pytest.mark.parametrize("power", [-1.0, 0.0, 1.0, 1.5, 2.0, 3.0])
def test_tweedie_predictions_are_checked_for_the_domain_of_its_power(power):
    """Log-means (some <= 0) fed to tweedie: a warning exactly for the powers whose deviance scikit-learn's
    mean_tweedie_deviance refuses on them (all but 0, the squared error); the means themselves pass."""
    from sklearn.metrics import mean_tweedie_deviance

    y = rng(34).uniform(1, 5, 200)  # > 0: targets every power allows
    log_means = np.log(y) - 1.0
    assert (log_means <= 0).any() and (log_means > 0).any()
    try:
        mean_tweedie_deviance(y, log_means, power=power)
        refused = False
    except ValueError:
        refused = True
    found = mistakes("tweedie", log_means, y, params={"power": power})
    assert bool(found) == refused, found
    if refused:
        w = one(found)
        assert "tweedie" in w and "positive means" in w and "exponentiate" in w
    assert mistakes("tweedie", np.exp(log_means), y, params={"power": power}) == []


def test_tweedie_checked_by_advise_uses_its_default_power():
    """recommend --loss tweedie has no -p: the default power 1.5 wants positive means."""
    y = rng(35).poisson(50, 300)
    log_rates = np.log(rng(36).uniform(30, 70, 300)) - 5.0
    found = advise(infer_label_type(y), labels=y, pred=log_rates, check_loss="tweedie").warnings
    assert any("tweedie" in w and "positive means" in w for w in found), found
    assert advise(infer_label_type(y), labels=y, pred=np.exp(log_rates), check_loss="tweedie").warnings == []


def test_advise_checks_the_top_recommendation_with_its_own_params():
    y = binary_5pct()
    logits = rng(33).normal(0, 2, len(y))
    # the top recommendation already carries pos_weight: no imbalance warning
    assert advise(infer_label_type(y), labels=y, pred=logits).warnings == []
    # the same loss checked as given (--loss) has no weights: the warning says which
    found = advise(infer_label_type(y), labels=y, pred=logits, check_loss="bce_with_logits").warnings
    assert any("pos_weight=[19]" in w for w in found)


# --- the same checks on statistics gathered chunk by chunk ------------------------------------


def _in_chunks(arrays: list[np.ndarray | None], rows: int):
    """The arrays' rows ``rows`` at a time, side by side (None stays None)."""
    n = max(len(a) for a in arrays if a is not None)
    for start in range(0, n, rows):
        yield [None if a is None else a[start : start + rows] for a in arrays]


def chunked_mistakes(loss, pred, labels, params=None, reduction=None, rows=1):
    spec = get_loss(loss)
    stats = MistakeStats(spec, params or {})
    for pred_rows, label_rows in _in_chunks([pred, labels], rows):
        stats.add(pred_rows, label_rows)
    return judge_mistakes(stats, reduction or spec.default_reduction)


IMBALANCED_ONEHOT = np.eye(5)[np.r_[np.zeros(10, int), rng(28).integers(1, 5, 990)]]
SORTED_RARE = np.sort(rare_class())  # the rare class 9 only in the last rows
MISTAKES = [
    pytest.param("cross_entropy", softmax(LOGITS), Y10, {}, None, True, id="softmax-to-ce"),
    pytest.param("cross_entropy", sigmoid(LOGITS), Y10, {}, None, True, id="sigmoid-to-ce"),
    pytest.param("nll", softmax(LOGITS), Y10, {}, None, True, id="probs-to-nll"),
    pytest.param("nll", LOGITS, Y10, {}, None, True, id="logits-to-nll"),
    pytest.param("bce", BIN_LOGITS, YBIN, {}, None, True, id="logits-to-bce"),
    pytest.param("bce_with_logits", sigmoid(BIN_LOGITS), YBIN, {}, None, True, id="sigmoid-to-bcel"),
    pytest.param("nll", np.log(softmax(LOGITS)), np.eye(10)[Y10], {}, None, True, id="onehot-for-indices"),
    pytest.param("cross_entropy", LOGITS, np.eye(10)[Y10], {"weight": [1.0] * 10}, None, True, id="onehot-weight"),
    pytest.param("cross_entropy", LOGITS, Y10 % 9 + 1, {}, None, True, id="from-one"),
    pytest.param("kl_div", softmax(LOGITS), DIST, {}, "batchmean", True, id="kl-probs"),
    pytest.param("kl_div", np.log(softmax(LOGITS)), DIST, {}, "mean", True, id="kl-mean"),
    pytest.param("mse", BIN_LOGITS[:, None], YBIN, {}, None, True, id="column-vs-flat"),
    pytest.param("cross_entropy", LOGITS, np.full(500, -100), {}, None, True, id="all-ignored"),
    pytest.param(
        "nll", np.log(softmax(LOGITS)), np.full(500, -1), {"ignore_index": -1}, None, True, id="all-ignored-1"
    ),
    pytest.param("cross_entropy", LOGITS, np.r_[np.full(499, -100), 3], {}, None, True, id="one-not-ignored"),
    pytest.param("bce_with_logits", BIN_LOGITS, binary_5pct().astype(np.float64), {}, None, True, id="rare-positives"),
    pytest.param("bce", sigmoid(BIN_LOGITS), np.sort(binary_5pct()).astype(np.float64), {}, None, True, id="bce-rare"),
    pytest.param("cross_entropy", rng(26).normal(0, 2, (3000, 10)), SORTED_RARE, {}, None, True, id="rare-class"),
    pytest.param("bce_with_logits", rng(27).normal(0, 2, (N, 6)), multilabel6(), {}, None, True, id="multilabel"),
    pytest.param("cross_entropy", rng(29).normal(0, 2, (1000, 5)), IMBALANCED_ONEHOT, {}, None, True, id="onehot-rare"),
    pytest.param(
        "tweedie", np.log(rng(34).uniform(1, 5, 200)) - 1, rng(34).uniform(1, 5, 200), {}, None, True, id="tw"
    ),
    pytest.param(
        "tweedie", rng(34).uniform(1, 5, 200), rng(34).uniform(1, 5, 200), {"power": 0.0}, None, False, id="tw0"
    ),
    pytest.param("mse", BIN_LOGITS, None, {}, None, False, id="no-labels"),
    pytest.param("triplet_margin", LOGITS, None, {}, None, False, id="no-target"),
]


@pytest.mark.parametrize("rows", [1, 3, 64, 10**6])
@pytest.mark.parametrize(("loss", "pred", "labels", "params", "reduction", "warns"), MISTAKES)
def test_statistics_gathered_in_chunks_give_the_warnings_of_the_whole_arrays(
    loss, pred, labels, params, reduction, warns, rows
):
    expected = mistakes(loss, pred, labels, params, reduction)
    assert bool(expected) == warns, expected
    assert chunked_mistakes(loss, pred, labels, params, reduction, rows) == expected


@pytest.mark.parametrize(
    ("loss", "pred", "labels", "reduction"),
    [
        ("cross_entropy", LOGITS, np.sort(Y10), None),  # a chunk of one class is no imbalance of them all
        ("cross_entropy", LOGITS, np.eye(10)[np.sort(Y10)], None),
        ("nll", np.log(softmax(LOGITS)), np.sort(Y10), None),
        ("bce_with_logits", BIN_LOGITS, np.sort(YBIN), None),
        ("bce", sigmoid(BIN_LOGITS), YBIN, None),
        ("kl_div", np.log(softmax(LOGITS)), DIST, "batchmean"),
        ("cross_entropy", LOGITS, np.sort(Y10)[::-1], None),  # the 0s come last
    ],
    ids=["ce", "ce_soft", "nll", "bce_with_logits", "bce", "kl_div", "ce_zero_last"],
)
def test_clean_inputs_in_chunks_stay_clean(loss, pred, labels, reduction):
    assert mistakes(loss, pred, labels, reduction=reduction) == []
    for rows in (1, 5, 333):
        assert chunked_mistakes(loss, pred, labels, reduction=reduction, rows=rows) == []


@pytest.mark.parametrize(
    "pred",
    [LOGITS, softmax(LOGITS), softmax(LOGITS).astype(np.float32), np.log(softmax(LOGITS)), sigmoid(LOGITS)],
    ids=["logits", "softmax", "softmax32", "log_softmax", "sigmoid_matrix"],
)
def test_prediction_statistics_in_chunks_describe_the_whole_array(pred):
    ragged = pred.copy()
    ragged[-1] *= 0.9  # the last row's sums move off 1
    for p in (pred, ragged):
        whole = describe_predictions(p)
        for rows in (1, 7, 1000):
            stats = PredStats()
            for (part,) in _in_chunks([p], rows):
                stats.add(part)
            assert (stats.profile().kind, stats.profile().evidence) == (whole.kind, whole.evidence)


def test_statistics_hold_no_rows():
    """The totals are as large after a hundred chunks as after one: class counts, not rows."""
    spec = get_loss("cross_entropy")
    sizes = []
    for repeats in (1, 100):
        stats = MistakeStats(spec, {})
        for _ in range(repeats):
            stats.add(softmax(LOGITS), Y10)
        sizes.append(sum(np.asarray(v).nbytes for v in vars(stats).values() if isinstance(v, np.ndarray)))
        assert stats.pred_shape == (500 * repeats, 10) and stats.class_counts.sum() == 500 * repeats
    assert sizes[0] == sizes[1]


def test_command_line_quotes_paths_and_writes_params_as_json():
    rec = advisor.Recommendation("bce_with_logits", "BCEWithLogitsLoss", "r", params={"pos_weight": [1.5, 19]})
    line = command_line(rec, ["my preds.csv", "labels.csv", "--label-col", "y"])
    assert shlex.split(line) == [
        "losscli",
        "compute",
        "bce_with_logits",
        "my preds.csv",
        "labels.csv",
        "--label-col",
        "y",
        "-p",
        "pos_weight=[1.5,19]",
    ]
