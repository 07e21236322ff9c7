"""Whole-number labels read as a statistician would: class indices, event counts or measurements.

The values alone decide, by evidence printed with the verdict (``recommend``'s ``evidence``):

* **class indices** are numbered from 0 (or 1), take few distinct values (at most ``MAX_CLASSES``)
  covering at least half of 0..max, and their frequencies follow no count distribution;
* **counts** follow a count distribution: the member of Katz's family that the index of dispersion
  (variance / mean, 1 for a Poisson) points to — binomial below 1, Poisson near 1, negative
  binomial above — fitted by moments, passes a chi-square goodness-of-fit test (with zeros, also
  with the zeros set apart: a hurdle model); and their spread grows as a Poisson's, or they
  reach down to 0;
* **integer-valued measurements** (``continuous``) sit far from 0 with a spread narrower than any
  count of their mean, or follow no count distribution at all; far from 0 with a spread wider
  than a Poisson's they are measurements most likely, overdispersed counts possibly.

When the evidence leaves two readings open (a small sample, a count distribution that fits
class-like values, values numbered 1..K that may be ratings) the reading is ``weak`` and lists
the other one.

The chi-square tails and the count distributions' log-probabilities are scipy.special's, imported
only when whole numbers are read: scipy.special loads in about 0.4 s (scipy.stats in about 1.7 s),
and the rest of losscli does not need it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ALPHA = 0.01
"""Level of the dispersion and goodness-of-fit tests."""
POISSON_BAND = (0.8, 1.25)
"""Dispersion indices read as a Poisson's even where a large sample tells them from 1."""
MISFIT = 0.05
"""Share of the labels a count distribution may misplace and still fit (the test's effect size)."""
MIN_EXPECTED = 5.0  # Cochran's rule: cells of the chi-square test expect at least 5 labels
MAX_CELLS = 100  # ... and at most this many cells, so a huge sample judges the shape, not each value
PMF_LIMIT = 1 << 20
"""Largest value a count distribution is tabulated up to (8 MB of float64)."""
MAX_CLASSES = 30
"""More distinct values than this are not read as class indices (``--label-type multiclass`` says so)."""
SMALL_SAMPLE = 50
"""Below this many labels, the dispersion test cannot tell a Poisson's spread from half or twice it."""
SHOWN_COLUMNS = 20
"""Columns of a matrix whose evidence is listed one by one."""


def significant(x: float | None) -> float | int | None:
    """Four significant digits, for display and for ``-p`` values; None stays None."""
    if x is None:
        return None
    value = float(f"{float(x):.4g}")
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def dispersion_p(n: int, mean: float, var: float) -> float:
    """Two-sided p-value of the dispersion test: (n - 1) · variance / mean is chi-square(n - 1) for Poisson counts."""
    if n < 2 or mean <= 0:
        return 1.0
    from scipy.special import chdtr, chdtrc  # the chi-square tails P(X <= x), P(X > x)

    statistic = (n - 1) * var / mean
    return min(1.0, 2.0 * min(float(chdtr(n - 1, statistic)), float(chdtrc(n - 1, statistic))))


def spread_of(dispersion: float, p_value: float) -> str:
    """``poisson``, ``over`` or ``under``: the spread against a Poisson's, beyond chance and beyond ``POISSON_BAND``."""
    if p_value >= ALPHA or POISSON_BAND[0] <= dispersion <= POISSON_BAND[1]:
        return "poisson"
    return "over" if dispersion > 1 else "under"


@dataclass(frozen=True)
class CountModel:
    """A member of Katz's family of count distributions, fitted by moments."""

    family: str  # Poisson | negative binomial | binomial
    mean: float
    size: float = 0.0
    """The negative binomial's size r (variance = mean + mean² / r), or the binomial's number of trials."""

    @classmethod
    def by_moments(cls, mean: float, var: float, spread: str, top: int) -> CountModel:
        """The family the spread points to, with the sample's mean and variance (binomial trials >= ``top``)."""
        if spread == "over":
            return cls("negative binomial", mean, mean * mean / (var - mean))
        if spread == "under":
            return cls("binomial", mean, float(max(round(mean / (1 - var / mean)), top)))
        return cls("Poisson", mean)

    @property
    def n_params(self) -> int:
        return 1 if self.family == "Poisson" else 2

    def log_pmf(self, top: int) -> np.ndarray:
        """log P(k) for k = 0..top (-inf beyond a binomial's trials), as scipy.stats computes it."""
        from scipy.special import gammaln, xlog1py, xlogy

        k = np.arange(top + 1, dtype=np.float64)
        if self.family == "Poisson":
            return xlogy(k, self.mean) - self.mean - gammaln(k + 1)
        if self.family == "negative binomial":
            r = self.size
            p = r / (r + self.mean)  # scipy's p: the count is of failures before the r-th success
            return gammaln(r + k) - gammaln(k + 1) - gammaln(r) + r * math.log(p) + xlog1py(k, -p)
        trials = self.size
        p = self.mean / trials
        # gammaln has poles at 0, -1, ...: beyond the trials the coefficient's log is -inf
        log_coef = gammaln(trials + 1) - gammaln(k + 1) - gammaln(trials - k + 1)
        return log_coef + xlogy(k, p) + xlog1py(trials - k, -p)

    def __str__(self) -> str:
        mean = f"{self.mean:.3g}"
        if self.family == "negative binomial":
            return f"negative binomial (mean {mean}, size {self.size:.3g})"
        if self.family == "binomial":
            return f"binomial ({int(self.size)} trials, p {self.mean / self.size:.3g})"
        return f"Poisson (mean {mean})"


@dataclass
class CountFit:
    """A count distribution fitted to the labels' frequencies, and how well it fits."""

    model: CountModel
    hurdle: bool
    """Whether the zeros are set apart (fitted exactly) and the model describes the positive values."""
    p_value: float | None
    """Of the chi-square goodness-of-fit test; None when too few labels fill two cells beyond the parameters."""
    misfit: float | None
    """Total variation distance between the labels' and the model's frequencies: the share of labels misplaced."""
    df: int

    @property
    def fits(self) -> bool | None:
        """True when the test does not reject the model or it misplaces few labels; None when untested."""
        if self.p_value is None or self.misfit is None:
            return None
        return self.p_value >= ALPHA or self.misfit <= MISFIT

    @property
    def description(self) -> str:
        return f"{self.model} with the zeros set apart (hurdle)" if self.hurdle else str(self.model)

    def evidence(self) -> dict[str, Any]:
        verdict = {True: "fits", False: "does not fit", None: "untested (too few labels)"}[self.fits]
        return {
            "model": self.description,
            "verdict": verdict,
            "p_value": significant(self.p_value),
            "misfit": significant(self.misfit),
            "df": self.df if self.p_value is not None else None,
        }


def pooled_cells(expected: np.ndarray) -> list[int]:
    """Where each cell of the chi-square test starts, given the labels each value expects.

    Adjacent values are pooled from the left until the cell expects ``MIN_EXPECTED`` labels and at
    least 1 / ``MAX_CELLS`` of them; a short remainder joins the last cell.
    """
    target = max(MIN_EXPECTED, float(expected.sum()) / MAX_CELLS)
    total = np.cumsum(expected).tolist()  # bisect on a list: a cell costs a microsecond, not numpy's call
    starts, reached = [0], 0.0
    while True:
        end = bisect.bisect_left(total, reached + target)
        if end >= len(total) - 1:
            break
        starts.append(end + 1)
        reached = total[end]
    if total[-1] - reached < target and len(starts) > 1:
        starts.pop()
    return starts


def goodness_of_fit(observed: np.ndarray, probs: np.ndarray, n_params: int) -> tuple[float | None, float | None, int]:
    """Chi-square test of labels per value (``observed``) against a model's probabilities of the same values.

    The model's mass beyond the last value is one more cell, observed empty; cells are pooled by
    ``pooled_cells``. Returns the p-value, the misfit (total variation distance over the cells) and
    the degrees of freedom; p-value and misfit are None below one degree of freedom.
    """
    n = float(observed.sum())
    expected = n * np.append(probs, max(0.0, 1.0 - float(probs.sum())))
    observed = np.append(observed, 0).astype(np.float64)
    starts = pooled_cells(expected)
    obs, exp = np.add.reduceat(observed, starts), np.add.reduceat(expected, starts)
    df = len(starts) - 1 - n_params
    if df < 1:
        return None, None, df
    statistic = float(np.sum((obs - exp) ** 2 / exp))
    from scipy.special import chdtrc  # P(X > x) for X ~ chi-square(df)

    return float(chdtrc(df, statistic)), 0.5 * float(np.abs(obs - exp).sum()) / n, df


def fit_counts(freq: np.ndarray, mean: float, var: float, spread: str) -> CountFit:
    """The Katz model the spread points to, tested on the frequencies of 0..max (``freq``).

    When it does not fit and zeros are present, the zeros are set apart: the model, fitted to the
    positive values, is tested on them alone (a hurdle model, one parameter more).
    """
    top = len(freq) - 1
    model = CountModel.by_moments(mean, var, spread, top)
    with np.errstate(divide="ignore", under="ignore"):
        fit = CountFit(model, False, *goodness_of_fit(freq, np.exp(model.log_pmf(top)), model.n_params))
        positives = freq[1:]
        n_pos = int(positives.sum())
        if fit.fits is not False or freq[0] == 0 or n_pos < 2:
            return fit
        k = np.arange(1, top + 1, dtype=np.float64)
        pos_mean = float(positives @ k) / n_pos
        pos_var = float(positives @ (k - pos_mean) ** 2) / (n_pos - 1)
        if pos_var == 0:
            return fit
        pos_spread = spread_of(pos_var / pos_mean, dispersion_p(n_pos, pos_mean, pos_var))
        pos_model = CountModel.by_moments(pos_mean, pos_var, pos_spread, top)
        pmf = np.exp(pos_model.log_pmf(top))
        p, misfit, df = goodness_of_fit(positives, pmf[1:] / (1.0 - pmf[0]), pos_model.n_params)
    hurdle = CountFit(pos_model, True, p, None if misfit is None else misfit * n_pos / float(freq.sum()), df)
    return hurdle if hurdle.fits else fit


# --- readings ------------------------------------------------------------------------


@dataclass
class Reading:
    """What whole-number labels are, how sure the evidence makes it, why, and what else they could be."""

    label_type: str
    confidence: str  # strong | weak
    reason: str
    alternatives: list[tuple[str, str]] = field(default_factory=list)
    """Other readings the evidence leaves open: (label type, why)."""
    evidence: dict[str, Any] = field(default_factory=dict)


def _span(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}..{hi}"


SPREADS = {
    "poisson": "consistent with a Poisson's",
    "over": "wider than a Poisson's",
    "under": "narrower than a Poisson's",
}


def read_column(x: np.ndarray, *, classes: bool) -> Reading:
    """Class indices, counts or measurements: one column of non-negative integers (of any dtype).

    ``classes`` allows the class-index reading (one column of labels; not a column of a matrix).
    """
    n = len(x)
    lo, hi = int(x.min()), int(x.max())
    if hi <= PMF_LIMIT:  # one pass: the moments from the counts of each value
        freq = np.bincount(x.astype(np.int64, copy=False))
        k = int(np.count_nonzero(freq))
        value = np.arange(len(freq), dtype=np.float64)
        mean = float(freq @ value) / n
        var = float(freq @ (value - mean) ** 2) / (n - 1) if n > 1 else 0.0
        zeros = int(freq[0])
    else:
        freq, k = None, 1 + int(np.count_nonzero(np.diff(np.sort(x))))  # np.unique's hashing is slower
        xf = x.astype(np.float64, copy=False)
        mean = float(xf.mean())
        var = float(xf.var(ddof=1)) if n > 1 else 0.0
        zeros = 0
    sd = math.sqrt(var)
    dispersion = var / mean if mean > 0 else 0.0
    p_disp = dispersion_p(n, mean, var)
    spread = spread_of(dispersion, p_disp)
    evidence: dict[str, Any] = {
        "mean": significant(mean),
        "variance": significant(var),
        "dispersion": significant(dispersion),
        "dispersion_p": significant(p_disp),
        "spread": SPREADS[spread],
        "zero_share": significant(zeros / n),
        "missing_below_min": _span(0, lo - 1) if lo > 0 else None,
        "gaps": hi - lo + 1 - k,
    }
    if var == 0:
        if lo == 0:
            return Reading("count", "strong", "every label is 0: no event counted", [], evidence)
        return Reading("continuous", "strong", f"every label is {lo}: one value, no spread to read", [], evidence)
    fit = fit_counts(freq, mean, var, spread) if freq is not None else None
    evidence["count_fit"] = (
        fit.evidence() if fit is not None else {"model": None, "verdict": f"untested (values beyond {PMF_LIMIT})"}
    )
    fits = fit.fits if fit is not None else None
    shown = _span(lo, hi)
    dispersion_text = f"variance/mean {dispersion:.3g}; p = {p_disp:.2g} against a Poisson's 1"
    fit_text = ""
    if fit is not None and fits is not None:
        verb = "fits" if fits else "does not fit"
        fit_text = f"a {fit.description} {verb} their frequencies (p = {fit.p_value:.2g}, misfit {fit.misfit:.1%})"
    if classes and lo <= 1 and k <= MAX_CLASSES and hi + 1 <= 2 * k:
        indices = f"{k} values {shown} numbered from {lo}"
        if fits is False:
            if lo == 0:
                return Reading("multiclass", "strong", f"{indices}, and {fit_text}: class indices", [], evidence)
            scale = (
                f"values 1..{hi} without 0 may be an ordered scale (ratings): a regression loss on the scale keeps "
                "the order that cross entropy ignores"
            )
            reason = f"{indices}, and {fit_text}: class indices"
            return Reading("multiclass", "weak", reason, [("continuous", scale)], evidence)
        if fits is None:
            return Reading(
                "multiclass",
                "weak",
                f"{indices}: class indices most likely ({n} labels are too few to test a count distribution)",
                [("count", f"counts {shown} would look the same in {n} labels")],
                evidence,
            )
        return Reading(
            "count",
            "weak",
            f"{fit_text}: event counts",
            [("multiclass", f"{indices} could also be class indices whose frequencies happen to fit")],
            evidence,
        )
    near_zero = lo <= sd
    above = f"the smallest, {lo}, is {lo / sd:.2g} standard deviations above 0"
    if spread == "under" and not near_zero:
        return Reading(
            "continuous",
            "strong",
            f"values {shown} sit far from 0 ({above}) and spread less than counts of their mean would "
            f"({dispersion_text}): integer-valued measurements",
            [],
            evidence,
        )
    if fit is None:
        distinct = "; every value is distinct, as identifiers are" if k == n > 1 else ""
        return Reading(
            "continuous",
            "weak",
            f"values reach {hi}, too large to tabulate a count distribution{distinct}: read as measurements",
            [("count", f"counts this large would look the same ({dispersion_text})")],
            evidence,
        )
    if fits is False:
        missing = f", and no label lies in 0..{lo - 1}" if lo > 1 else ""
        reading = Reading("continuous", "strong", f"{fit_text}{missing}: integer-valued measurements", [], evidence)
        if classes and lo <= 1 and k > MAX_CLASSES and hi - lo + 1 == k:
            reading.confidence = "weak"
            reading.alternatives.append(
                ("multiclass", f"{k} values cover {shown}: class indices, if there are more than {MAX_CLASSES} classes")
            )
        return reading
    tested = f", and {fit_text}" if fit_text else ""
    # counts whose distribution went untested (too few labels) could be measurements
    untested = [] if fits else [("continuous", f"{n} labels are too few to test a count distribution")]
    if spread == "poisson":
        poisson = f"their spread is consistent with a Poisson's, which grows with the mean ({dispersion_text})"
        reason = f"{poisson}{tested}: event counts"
        if n < SMALL_SAMPLE and not near_zero:
            chance = (
                f"{n} labels cannot tell a Poisson's spread from half or twice it: integer-valued measurements "
                f"far from 0 ({above}) could show it by chance"
            )
            return Reading("count", "weak", reason, [("continuous", chance)], evidence)
        return Reading("count", "weak" if untested else "strong", reason, untested, evidence)
    if near_zero:
        if lo == 0:
            zeros = f"{evidence['zero_share']:.1%} of the labels are 0"
        else:
            zeros = f"the smallest, {lo}, lies within one standard deviation ({sd:.3g}) of 0"
        reason = f"their values reach down to 0 ({zeros}){tested}: event counts"
        return Reading("count", "weak" if untested else "strong", reason, untested, evidence)
    return Reading(
        "continuous",
        "weak",
        f"values {shown} sit far from 0 ({above}) and spread wider than a Poisson's ({dispersion_text}): "
        "integer-valued measurements most likely",
        [("count", f"overdispersed counts would look the same{': ' + fit_text if fit_text else ''}")],
        evidence,
    )


def read_matrix(y: np.ndarray) -> Reading:
    """Counts when every column reads as counts, measurements otherwise; each column judged alone."""
    columns = np.ascontiguousarray(y.T)  # one copy, then each column is read at full speed
    readings = [read_column(column, classes=False) for column in columns]
    types = [r.label_type for r in readings]
    evidence: dict[str, Any] = {
        "column_readings": {t: types.count(t) for t in sorted(set(types))},
        "columns": [
            {"column": j + 1, "reading": r.label_type, "confidence": r.confidence, **r.evidence}
            for j, r in enumerate(readings[:SHOWN_COLUMNS])
        ],
    }
    if all(t == "count" for t in types):
        reading = Reading("count", "strong", "every column reads as event counts", [], evidence)
        weak = next((j for j, r in enumerate(readings) if r.confidence == "weak"), None)
        if weak is not None:
            reading.confidence = "weak"
            reading.alternatives.append(("continuous", f"column {weak + 1}: {readings[weak].alternatives[0][1]}"))
        return reading
    measured = [j for j, t in enumerate(types) if t == "continuous"]
    first = next((j for j in measured if readings[j].confidence == "strong"), measured[0])
    more = f" (and {len(measured) - 1} more)" if len(measured) > 1 else ""
    reading = Reading("continuous", "strong", f"column {first + 1}{more}: {readings[first].reason}", [], evidence)
    if all(t == "count" or any(a == "count" for a, _ in r.alternatives) for t, r in zip(types, readings, strict=True)):
        reading.confidence = "weak"
        reading.alternatives.append(("count", f"column {first + 1}: {readings[first].alternatives[0][1]}"))
    return reading
