"""Unit tests of ``losscli.advice.integer_labels`` (issue 11): whole-number labels read as class indices,
counts or integer-valued measurements. The tests' decisions are checked at published chi-square
critical values, the statistics against scipy.stats (the module computes them with scipy.special);
the readings against seeded draws of known distributions and the shapes of known datasets
(scikit-learn's iris, wine, digits, diabetes and Linnerud), through ``infer_label_type`` and
``advise`` as ``recommend`` calls them.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import datasets

from losscli.advice import advisor
from losscli.advice.advisor import advise, infer_label_type
from losscli.advice.integer_labels import (
    ALPHA,
    MAX_CELLS,
    MIN_EXPECTED,
    MISFIT,
    CountModel,
    dispersion_p,
    fit_counts,
    goodness_of_fit,
    pooled_cells,
    spread_of,
)


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- the decisions at published critical values ------------------------------------------

# The chi-square distribution's critical values as printed in statistical tables: C. M. Thompson, "Tables of
# the percentage points of the chi-square distribution", Biometrika 32 (1941), reprinted in most textbooks'
# appendices; the upper 1 % points also in the NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.4.
UPPER_1_PERCENT = {2: 9.210, 4: 13.277, 10: 23.209, 20: 37.566, 50: 76.154}
"""x with P(X > x) = 0.01: where the goodness-of-fit test rejects at ``ALPHA``."""
TWO_SIDED_1_PERCENT = {19: (6.844, 38.582), 50: (27.991, 79.490), 100: (67.328, 140.169)}
"""x with P(X <= x) = 0.005 and P(X > x) = 0.005: where the two-sided dispersion test rejects at ``ALPHA``."""


@pytest.mark.parametrize("df", TWO_SIDED_1_PERCENT)
def test_the_dispersion_test_rejects_beyond_the_tables_critical_values(df):
    """n labels of mean 10 whose (n - 1) · variance / mean is a critical value of chi-square(n - 1)."""
    n, mean = df + 1, 10.0
    lower, upper = TWO_SIDED_1_PERCENT[df]  # both outside POISSON_BAND: the p-value alone decides
    for critical in (lower, upper):
        assert dispersion_p(n, mean, mean * critical / df) == pytest.approx(ALPHA, rel=1e-3)
    cases = [(lower * 0.99, "under"), (lower * 1.01, "poisson"), (upper * 0.99, "poisson"), (upper * 1.01, "over")]
    for statistic, spread in cases:
        dispersion = statistic / df
        assert spread_of(dispersion, dispersion_p(n, mean, mean * dispersion)) == spread, statistic


@pytest.mark.parametrize("df", UPPER_1_PERCENT)
def test_the_count_fit_rejects_beyond_the_tables_critical_value(df):
    """A one-parameter model tested on df + 2 cells of 20 expected labels, every cell off by +d or -d.

    The statistic is (df + 2) · d² / 20; the misfit, d / 40, exceeds ``MISFIT``, so the p-value alone decides.
    """
    cells, expected = df + 2, 20.0
    probs = np.full(cells, 1.0 / cells)
    for factor, fits in ((0.99, True), (1.0, None), (1.01, False)):
        d = np.sqrt(UPPER_1_PERCENT[df] * factor * expected / cells)
        observed = np.full(cells, expected)
        observed[0::2] += d
        observed[1::2] -= d
        p, misfit, got_df = goodness_of_fit(observed, probs, 1)
        assert got_df == df and misfit == pytest.approx(d / (2 * expected)) and misfit > MISFIT
        if fits is None:
            assert p == pytest.approx(ALPHA, rel=1e-3)
        else:
            assert (p >= ALPHA) is fits, (factor, p)


# --- the statistics against scipy.stats ----------------------------------------------------


@pytest.mark.parametrize(
    "y",
    [
        rng(1).poisson(20, 200),
        rng(2).negative_binomial(2, 0.1, 500),
        rng(3).binomial(20, 0.3, 500),
        rng(4).poisson(3, 20),
        rng(5).poisson(12, 60) + rng(6).integers(0, 4, 60),
    ],
    ids=["poisson", "negative_binomial", "binomial", "small", "near_the_level"],
)
def test_dispersion_p_is_the_two_sided_chi_square_test(y):
    n, mean, var = len(y), y.mean(), y.var(ddof=1)
    statistic = (n - 1) * var / mean
    reference = min(1.0, 2 * min(stats.chi2.cdf(statistic, n - 1), stats.chi2.sf(statistic, n - 1)))
    assert dispersion_p(n, mean, var) == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize(
    "model, reference",
    [
        (CountModel("Poisson", 0.49), stats.poisson(0.49)),
        (CountModel("Poisson", 19.9), stats.poisson(19.9)),
        (CountModel("Poisson", 5e5), stats.poisson(5e5)),
        (CountModel("negative binomial", 17.5, 2.11), stats.nbinom(2.11, 2.11 / (2.11 + 17.5))),
        (CountModel("negative binomial", 4.8, 0.3), stats.nbinom(0.3, 0.3 / 5.1)),
        (CountModel("binomial", 6.0, 17.0), stats.binom(17, 6.0 / 17)),
    ],
    ids=["poisson_0.49", "poisson_19.9", "poisson_5e5", "negative_binomial", "negative_binomial_size_0.3", "binomial"],
)
def test_log_pmf_is_scipys(model, reference):
    top = int(reference.ppf(1 - 1e-12)) + 5
    ours = model.log_pmf(top)
    theirs = reference.logpmf(np.arange(top + 1))
    finite = np.isfinite(theirs)
    np.testing.assert_array_equal(np.isfinite(ours), finite)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-9, atol=1e-7)
    # scipy's pmf of the binomial and negative binomial is Boost's, computed apart from the log formula
    np.testing.assert_allclose(np.exp(ours), reference.pmf(np.arange(top + 1)), rtol=1e-7, atol=1e-300)


def test_moment_fits_have_the_samples_mean_and_variance():
    """Katz's family by moments: the fitted model's mean and variance are the sample's (scipy's moments)."""
    nb = CountModel.by_moments(17.5, 160.0, "over", top=90)
    assert stats.nbinom(nb.size, nb.size / (nb.size + nb.mean)).stats("mv") == pytest.approx((17.5, 160.0))
    b = CountModel.by_moments(6.0, 4.2, "under", top=12)
    mean, var = stats.binom(int(b.size), b.mean / b.size).stats("mv")
    assert mean == pytest.approx(6.0) and var == pytest.approx(4.2, rel=0.05)  # the trials are a whole number
    assert CountModel.by_moments(3.0, 2.9, "poisson", top=9) == CountModel("Poisson", 3.0)


def test_goodness_of_fit_is_scipys_chisquare_on_the_pooled_cells():
    y = rng(5).poisson(3.0, 2000)
    freq = np.bincount(y)
    model = CountModel("Poisson", float(y.mean()))
    probs = np.exp(model.log_pmf(len(freq) - 1))
    expected = len(y) * np.append(probs, 1 - probs.sum())
    starts = pooled_cells(expected)
    cells = np.add.reduceat(expected, starts)
    assert cells.min() >= max(MIN_EXPECTED, len(y) / MAX_CELLS) and len(cells) <= MAX_CELLS
    observed = np.add.reduceat(np.append(freq, 0), starts)
    reference = stats.chisquare(observed, cells, ddof=1)
    p, misfit, df = goodness_of_fit(freq, probs, 1)
    assert df == len(cells) - 2
    assert p == pytest.approx(reference.pvalue, rel=1e-9)
    assert misfit == pytest.approx(0.5 * np.abs(observed - cells).sum() / len(y))


def test_pooled_cells_of_a_huge_sample_stay_under_the_cap():
    expected = np.full(5000, 2000.0)
    starts = pooled_cells(expected)
    assert len(starts) <= MAX_CELLS
    assert np.add.reduceat(expected, starts).min() >= expected.sum() / MAX_CELLS


def _fits(y: np.ndarray) -> bool | None:
    mean, var = float(y.mean()), float(y.var(ddof=1))
    return fit_counts(np.bincount(y), mean, var, spread_of(var / mean, dispersion_p(len(y), mean, var))).fits


@pytest.mark.parametrize(
    "draw",
    [lambda g: g.poisson(3.0, 200), lambda g: g.negative_binomial(3, 0.3, 200), lambda g: g.binomial(12, 0.4, 200)],
    ids=["poisson", "negative_binomial", "binomial"],
)
def test_the_count_fit_keeps_its_level_on_counts(draw):
    """Counts of each member of the family are rejected about as often as the test's level says."""
    g = rng(6)
    rejected = sum(_fits(draw(g)) is False for _ in range(200))
    assert rejected <= 200 * 3 * ALPHA


def test_the_count_fit_rejects_uniform_classes():
    g = rng(7)
    assert all(_fits(g.integers(0, 10, 300)) is False for _ in range(50))


# --- readings: the cases of issue 11 -------------------------------------------------------


def linnerud() -> tuple[np.ndarray, np.ndarray]:
    """The Linnerud data: physiological measurements (weight lb, waist in, pulse) and exercise counts."""
    d = datasets.load_linnerud()
    return d.target.astype(np.int64), d.data.astype(np.int64)


def stars(n: int = 500) -> np.ndarray:
    return rng(6).choice([1, 2, 3, 4, 5], n, p=[0.1, 0.1, 0.2, 0.3, 0.3])


CASES = {
    # name: (labels, type, confidence, other readings)
    "poisson20_n200": (lambda: rng(1).poisson(20, 200), "count", "strong", []),
    "poisson0.5_n200": (lambda: rng(2).poisson(0.5, 200), "count", "weak", ["multiclass"]),
    "poisson3_n20": (lambda: rng(3).poisson(3, 20), "multiclass", "weak", ["count"]),
    "classes0..9_n1000": (lambda: rng(4).integers(0, 10, 1000), "multiclass", "strong", []),
    "classes1..5_n1000": (lambda: rng(5).integers(1, 6, 1000), "multiclass", "weak", ["continuous"]),
    "stars1..5": (stars, "multiclass", "weak", ["continuous"]),
    "ages18..90": (lambda: rng(8).integers(18, 91, 500), "continuous", "strong", []),
    "weights_lb": (lambda: np.round(rng(7).normal(180, 25, 200)).astype(int), "continuous", "weak", ["count"]),
    "binomial20_0.3": (lambda: rng(9).binomial(20, 0.3, 500), "count", "weak", ["multiclass"]),
    "negative_binomial_long_tail": (lambda: rng(11).negative_binomial(2, 0.1, 500), "count", "strong", []),
    "negative_binomial_0..15": (lambda: rng(12).negative_binomial(5, 0.5, 500), "count", "weak", ["multiclass"]),
    "zero_inflated_poisson50": (
        lambda: rng(18).poisson(50, 400) * (rng(19).random(400) > 0.3),
        "count",
        "strong",
        [],
    ),
    "two_count_columns": (
        lambda: np.column_stack([rng(14).poisson(4, 300), rng(15).poisson(30, 300)]),
        "count",
        "strong",
        [],
    ),
    "linnerud_physiological": (lambda: linnerud()[0], "continuous", "strong", []),
    "linnerud_exercise": (lambda: linnerud()[1], "count", "weak", ["continuous"]),
    "iris": (lambda: datasets.load_iris().target, "multiclass", "strong", []),
    "wine": (lambda: datasets.load_wine().target, "multiclass", "strong", []),
    "digits": (lambda: datasets.load_digits().target, "multiclass", "strong", []),
    "diabetes_progression": (lambda: datasets.load_diabetes().target.astype(np.int64), "continuous", "strong", []),
    "ids": (lambda: rng(13).integers(10**9, 10**12, 300), "continuous", "weak", ["count"]),
}


@pytest.mark.parametrize("name", CASES)
def test_whole_numbers_read_as_a_statistician_would(name):
    make, label_type, confidence, others = CASES[name]
    y = make()
    profile = infer_label_type(y)
    assert (profile.label_type, profile.confidence) == (label_type, confidence), profile.reading
    assert [alt.label_type for alt in profile.alternatives] == others
    assert profile.reading and all(alt.reading for alt in profile.alternatives)
    advice = advise(profile, labels=y)
    assert advice.confidence == confidence and advice.reading == profile.reading
    assert [alt.label_type for alt in advice.alternatives] == others
    first = {"count": "poisson_nll", "multiclass": "cross_entropy", "continuous": "mse"}
    assert advice.recommendations[0].loss == first[label_type]
    assert [alt.recommendation.loss for alt in advice.alternatives] == [first[t] for t in others]


def test_poisson_counts_far_from_zero_are_counts_with_the_evidence_that_says_so():
    """The issue's case: 200 Poisson(20) counts, none below 10, were 31 classes weighted for cross_entropy."""
    y = rng(1).poisson(20, 200)
    profile = infer_label_type(y)
    ev = profile.evidence
    assert profile.label_type == "count" and profile.counts is None
    assert ev["missing_below_min"] == f"0..{y.min() - 1}"
    assert ev["mean"] == pytest.approx(y.mean(), rel=1e-3)
    assert ev["variance"] == pytest.approx(y.var(ddof=1), rel=1e-3)
    assert ev["dispersion"] == pytest.approx(y.var(ddof=1) / y.mean(), rel=1e-3)
    assert ev["zero_share"] == 0 and ev["spread"] == "consistent with a Poisson's"
    assert ev["gaps"] == (y.max() - y.min() + 1) - len(np.unique(y))
    assert ev["count_fit"]["model"].startswith("Poisson") and ev["count_fit"]["verdict"] == "fits"
    assert "Poisson" in profile.reading
    assert all("weight" not in r.params for r in advise(profile, labels=y).recommendations)


def test_poisson_half_is_counts_not_binary():
    y = rng(2).poisson(0.5, 200)
    assert set(np.unique(y)) == {0, 1, 2, 3}
    profile = infer_label_type(y)
    assert profile.label_type == "count"
    assert profile.evidence["zero_share"] == pytest.approx(np.mean(y == 0), abs=1e-3)


def test_one_based_classes_keep_the_numbered_from_one_warning():
    y = rng(5).integers(1, 6, 1000)
    advice = advise(infer_label_type(y), labels=y)
    assert advice.recommendations[0].loss == "cross_entropy"
    assert any("no label is 0" in w for w in advice.warnings), advice.warnings
    assert "ordered scale" in advice.alternatives[0].reason


def test_a_matrix_is_read_column_by_column():
    physiological, _ = linnerud()
    profile = infer_label_type(physiological)
    columns = profile.evidence["columns"]
    assert [c["column"] for c in columns] == [1, 2, 3]
    waist = columns[1]
    assert waist["reading"] == "continuous" and waist["confidence"] == "strong"
    assert waist["dispersion"] == pytest.approx(physiological[:, 1].var(ddof=1) / physiological[:, 1].mean(), rel=1e-3)
    assert waist["spread"] == "narrower than a Poisson's"
    assert profile.reading.startswith("column 2")
    assert profile.evidence["column_readings"] == {"continuous": 2, "count": 1}


def test_identifiers_get_a_clear_statement():
    profile = infer_label_type(rng(13).integers(10**9, 10**12, 300))
    assert "every value is distinct, as identifiers are" in profile.reading
    assert profile.evidence["count_fit"]["verdict"].startswith("untested (values beyond")


def test_more_than_thirty_contiguous_classes_are_an_open_question():
    """100 balanced classes follow no count distribution: measurements, or classes if the user says so."""
    profile = infer_label_type(rng(16).integers(0, 100, 20_000))
    assert profile.label_type == "continuous" and profile.confidence == "weak"
    assert [alt.label_type for alt in profile.alternatives] == ["multiclass"]


def test_per_pixel_class_maps_stay_classes():
    y = rng(17).integers(0, 4, (8, 16, 16))
    assert infer_label_type(y).label_type == "multiclass"


@pytest.mark.parametrize("column", [np.zeros(50, np.int64), np.full(50, 7)], ids=["zeros", "sevens"])
def test_a_constant_column_of_a_matrix(column):
    y = np.column_stack([rng(18).poisson(4, 50), column])
    expected = "count" if column[0] == 0 else "continuous"
    assert infer_label_type(y).label_type == expected


@pytest.mark.parametrize("n", [5000, 5001])
def test_outliers_of_whole_numbers_are_judged_from_their_counts_as_from_the_values(n):
    """Integer measurements with 1 % gross errors: median, MAD and outliers as numpy finds them."""
    g = rng(20)
    y = np.round(g.normal(100, 5, n)).astype(np.int64)
    y[g.choice(n, n // 100, replace=False)] += 200
    profile = infer_label_type(y)
    assert profile.label_type == "continuous"
    median = np.median(y)
    scale = 1.4826 * np.median(np.abs(y - median))
    ev = profile.evidence
    assert ev["median"] == pytest.approx(median) and ev["robust_scale"] == pytest.approx(scale, rel=1e-3)
    assert ev["n_outliers"] == np.count_nonzero(np.abs(y - median) > 3.5 * scale) >= n // 100
    assert advise(profile, labels=y).recommendations[1].loss == "smooth_l1"


@pytest.mark.parametrize("seed", range(20))
def test_the_median_of_a_frequency_table_is_numpys_median_of_the_values(seed):
    g = rng(100 + seed)
    values = np.sort(g.choice(50, size=int(g.integers(1, 12)), replace=False)).astype(np.float64)
    weights = g.integers(1, 4, len(values))
    assert advisor._median(values, weights) == np.median(np.repeat(values, weights))
