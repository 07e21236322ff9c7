"""The advisor: what the labels are, which losses fit them, and the classic mistakes.

It turns the source article's closing rule of thumb (section 2.7: unbounded
real-valued labels → squared error; class labels → cross entropy) into
recommendations backed by the data, and checks a loss against predictions
and labels the way a careful reviewer would. ``recommend`` never imports torch
or pandas, and scipy only to read whole-number labels (``integer_labels``).
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.advice.integer_labels import MAX_CLASSES, PMF_LIMIT, Reading, read_column, read_matrix
from losscli.advice.integer_labels import significant as _number
from losscli.catalog.image import ms_ssim_smallest_side
from losscli.engine.params import parse_params
from losscli.engine.validate import Input, role_domain, shape_text, validate
from losscli.errors import DataError, UsageError
from losscli.registry import LossSpec, Role, get_loss

LABEL_TYPES = {
    "continuous": "real values, not all in [0, 1]",
    "bounded": "real values within [0, 1]",
    "binary": "one column of {0, 1}",
    "multiclass": "one column of integers numbered from 0 (or 1), few values, frequencies unlike counts'",
    "onehot": "a 0/1 matrix with exactly one 1 per row",
    "multilabel": "a 0/1 matrix with any number of 1s per row",
    "signed": "values in {-1, 1}",
    "distribution": "non-negative rows summing to 1",
    "count": "non-negative integers whose frequencies follow a count distribution",
}

RULE_REAL = "article 2.7: unbounded real-valued labels → squared error (MSE)"
RULE_CLASS = "article 2.7: class labels (bit vectors) → cross entropy"
RULE_RANGE = "article 2.4: predictions and labels should share a range (sigmoid outputs with labels in [0, 1])"
RULE_OUTLIERS = "article 2.6.1: SmoothL1 is less sensitive to outliers than MSE"

OUTLIER_Z = 3.5  # modified z-score |y - median| / (1.4826 · MAD) beyond which a value is an outlier
OUTLIER_SHARE = 0.001  # outliers matter from 0.1 % of the values (a Gaussian gives ~0.05 %)
SEVERE_IMBALANCE = 10.0  # majority / minority count ratio
ROW_SUM_TOLERANCE = 1e-3
HUBER_TUNING = 1.345  # Huber's constant: 95 % efficiency on Gaussian errors
MAD_TO_SD = 1.482602218505602  # 1 / Φ⁻¹(3/4): the MAD of Gaussian values times this estimates their σ


@dataclass
class LabelProfile:
    """What the labels are, and the evidence that decided it."""

    label_type: str
    evidence: dict[str, Any] = field(default_factory=dict)
    counts: np.ndarray | None = None
    """Samples per class (multiclass, onehot) or positives per column (binary, multilabel)."""
    n_samples: int = 0
    confidence: str = "strong"
    """``strong`` when the evidence leaves one reading, ``weak`` when it leaves others (``given`` by --label-type)."""
    reading: str = ""
    """Why these labels are of this type, in a sentence (empty: ``LABEL_TYPES``' description says it)."""
    alternatives: list[LabelProfile] = field(default_factory=list)
    """The other readings weak evidence leaves open, each with its own ``reading``."""

    @property
    def imbalance(self) -> float | None:
        """Majority over minority count: classes, or positives against negatives per column."""
        if self.counts is None or self.n_samples == 0:
            return None
        if self.label_type in ("binary", "multilabel"):
            pos = self.counts.astype(np.float64)
            neg = self.n_samples - pos
            both = np.minimum(pos, neg)
            ratios = np.where(both > 0, np.maximum(pos, neg) / np.maximum(both, 1), np.inf)
            return float(ratios.max())
        present = self.counts[self.counts > 0]
        return float(present.max() / present.min()) if len(present) else None


@dataclass
class PredProfile:
    """What the predictions look like."""

    kind: str  # log_probs | softmax | probs | real
    evidence: dict[str, Any] = field(default_factory=dict)
    residual_scale: float | None = None
    """``residual_scale`` of predictions − labels when they have one shape (None otherwise)."""

    @property
    def description(self) -> str:
        return {
            "log_probs": "log-probabilities (each row's exp sums to 1: log_softmax outputs)",
            "softmax": "probabilities whose rows sum to 1 (softmax outputs)",
            "probs": "probabilities in [0, 1] (sigmoid outputs)",
            "real": "unbounded real values (logits or regression outputs)",
        }[self.kind]


@dataclass
class Recommendation:
    loss: str
    torch_name: str | None
    reason: str
    rule: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    reduction: str | None = None
    command: str | None = ""
    """The ``losscli compute`` line, which runs on the files given (PRED, LABELS, VAR… stand for files not
    given: predictions of the shape the loss wants for these labels); None when it would not run."""
    fix: str | None = None
    """Why the line would not run, and what to change first (0/1 to ±1, classes numbered from 0, …)."""


@dataclass
class Alternative:
    """Another reading of the labels that weak evidence leaves open, and its first recommendation."""

    label_type: str
    reason: str
    recommendation: Recommendation


@dataclass
class Advice:
    """Everything ``recommend`` found: plain data for the renderer."""

    label_type: str
    evidence: dict[str, Any]
    recommendations: list[Recommendation]
    predictions: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    confidence: str = "strong"
    reading: str = ""
    alternatives: list[Alternative] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``recommend -f json`` document."""
        from losscli.render import advice_dict

        return advice_dict(self)

    def __repr__(self) -> str:
        best = ", ".join(r.loss for r in self.recommendations[:3])
        return f"<Advice: {self.label_type} labels ({self.confidence}); recommended: {best}>"

    def _repr_html_(self) -> str:
        from losscli.render import html_table

        rows: list[tuple[str, Any]] = [("label type", f"{self.label_type} ({self.confidence})"), ("", self.reading)]
        rows += [(f"{rank}. {r.loss}", r.reason) for rank, r in enumerate(self.recommendations, 1)]
        rows += [("warning", w) for w in self.warnings]
        return html_table(rows)


def _distinct(flat: np.ndarray) -> np.ndarray | None:
    """The sorted distinct values of integral labels (O(N) for a compact range); None for real values."""
    if flat.dtype.kind not in "iub" and not np.all(np.floor(flat) == flat):
        return None
    if flat.dtype.kind == "b":
        flat = flat.view(np.uint8)  # numpy has no bool subtraction
    lo = flat.min()  # a numpy scalar: a float label of 2.0**63 is no int64, and no Python int is cast to one
    if int(flat.max()) - int(lo) > 10 * len(flat) + 1000:
        return np.unique(flat)
    present = np.bincount((flat - lo).astype(np.int64), minlength=1) > 0
    return np.flatnonzero(present) + lo


# --- labels --------------------------------------------------------------------------


@np.errstate(over="ignore")  # labels near float64's limit: their sums and means are inf, shown as null
def infer_label_type(labels: np.ndarray) -> LabelProfile:
    """Classify labels into one of ``LABEL_TYPES`` from their values alone."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    per_pixel = y.ndim > 2
    if per_pixel:  # masks and per-pixel class maps: judge the values
        y = y.reshape(-1)
    flat = y.reshape(-1)
    n = int(y.shape[0]) if y.ndim else 1
    values = _distinct(flat)
    lo, hi = float(flat.min()), float(flat.max())
    integral = values is not None
    evidence: dict[str, Any] = {
        "shape": list(np.shape(labels)),
        "n_samples": n,
        "n_columns": int(y.shape[1]) if y.ndim == 2 else 1,
        "n_unique": int(len(values)) if integral else None,
        "integral": integral,
        "min": _number(lo),
        "max": _number(hi),
    }
    zero_one = integral and lo >= 0 and hi <= 1
    signed = integral and lo == -1 and hi == 1 and not np.any(values == 0)
    if y.ndim == 2:
        row_sums = y.sum(axis=1, dtype=np.float64)
        evidence["row_sum_min"], evidence["row_sum_max"] = _number(row_sums.min()), _number(row_sums.max())
        if zero_one:
            counts = y.sum(axis=0, dtype=np.int64)
            if np.all(row_sums == 1):
                return _with_balance(LabelProfile("onehot", evidence, counts, n))
            return _with_balance(LabelProfile("multilabel", evidence, counts, n))
        if signed:
            return LabelProfile("signed", evidence, None, n)
        if lo >= 0 and np.abs(row_sums - 1).max() <= ROW_SUM_TOLERANCE:
            return LabelProfile("distribution", evidence, None, n)
    else:
        if zero_one:
            if per_pixel:
                evidence["segmentation_mask"] = True
            return _with_balance(LabelProfile("binary", evidence, np.array([np.count_nonzero(y)]), n))
        if signed:
            return LabelProfile("signed", evidence, None, n)
        if per_pixel and integral and lo >= 0 and len(values) <= MAX_CLASSES and hi + 1 <= 2 * len(values):
            return _with_balance(LabelProfile("multiclass", evidence, np.bincount(flat.astype(np.int64)), n))
    if integral and lo >= 0:
        reading = read_matrix(y) if y.ndim == 2 else read_column(flat, classes=not per_pixel)
        return _from_reading(reading, flat, evidence, n)
    if per_pixel and np.ndim(labels) in (3, 4):  # real values per pixel: a batch of images
        evidence["images"] = True
    if lo >= 0 and hi <= 1:
        return LabelProfile("bounded", evidence, None, n)
    evidence.update(_outliers(flat))
    return LabelProfile("continuous", evidence, None, n)


def _from_reading(reading: Reading, flat: np.ndarray, evidence: dict[str, Any], n: int) -> LabelProfile:
    """The profile of whole-number labels as ``reading`` reads them, with a profile per other reading."""
    evidence.update(reading.evidence)
    types = [reading.label_type] + [label_type for label_type, _ in reading.alternatives]
    if "continuous" in types:  # the recommendations for measurements weigh their outliers
        if int(flat.max()) <= PMF_LIMIT:
            freq = np.bincount(flat.astype(np.int64, copy=False))
            present = np.flatnonzero(freq)
            evidence.update(_outliers(present, freq[present]))
        else:
            evidence.update(_outliers(flat))

    def profile(label_type: str, why: str, own: dict[str, Any]) -> LabelProfile:
        if label_type != "multiclass":
            return LabelProfile(label_type, own, None, n, reading=why)
        return _with_balance(LabelProfile(label_type, own, np.bincount(flat.astype(np.int64)), n, reading=why))

    main = profile(reading.label_type, reading.reason, evidence)
    main.confidence = reading.confidence
    main.alternatives = [profile(t, why, dict(evidence)) for t, why in reading.alternatives]
    return main


def _median(x: np.ndarray, weights: np.ndarray | None) -> float:
    """The median of ``x``, each value counted ``weights`` times (a frequency table) when given."""
    if weights is None:
        return float(np.median(x))
    order = np.argsort(x, kind="stable")
    ranked, total = x[order], np.cumsum(weights[order])
    n = int(total[-1])
    return (float(ranked[np.searchsorted(total, (n + 1) // 2)]) + float(ranked[np.searchsorted(total, n // 2 + 1)])) / 2


def _outliers(x: np.ndarray, weights: np.ndarray | None = None) -> dict[str, Any]:
    """Share of values far from the median, in robust (MAD) units.

    ``weights`` makes ``x`` a frequency table (each value counted so often): whole numbers are
    judged from their counts, in time proportional to their range rather than their number.
    """
    x = x.astype(np.float64, copy=False)
    median = _median(x, weights)
    deviation = np.abs(x - median)
    scale = 1.4826 * _median(deviation, weights)
    rule = f"|y - median| > {OUTLIER_Z} · 1.4826 · MAD"
    if scale == 0:
        mean = np.average(x, weights=weights)
        scale = float(np.sqrt(np.average((x - mean) ** 2, weights=weights)))
        rule = f"|y - median| > {OUTLIER_Z} · std (the MAD is 0)"
    far = deviation > OUTLIER_Z * scale
    n = len(x) if weights is None else int(weights.sum())
    n_out = 0 if scale == 0 else int(np.count_nonzero(far) if weights is None else weights[far].sum())
    return {
        "median": _number(median),
        "robust_scale": _number(scale),
        "n_outliers": n_out,
        "outlier_share": _number(n_out / max(n, 1)),
        "outlier_rule": rule,
        "outliers": n_out > 0 and n_out / max(n, 1) >= OUTLIER_SHARE,
    }


def residual_scale(residuals: np.ndarray) -> float:
    """σ of Gaussian errors, from the residuals predictions - labels, unmoved by up to half of them being wild:
    1.4826 × their median absolute value (statsmodels' robust regression scale, ``mad(resid, center=0)``).
    Centred at 0, not at their median, since a model's bias is part of its error. 0 when over half the
    residuals are 0, and for none; NaN and infinities are left out. ``residuals`` is reordered in place."""
    r = residuals.reshape(-1)
    if not np.isfinite(r).all():
        r = r[np.isfinite(r)]
    if r.size == 0:
        return 0.0
    return float(MAD_TO_SD * np.median(np.abs(r, out=r), overwrite_input=True))


def _residuals(pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """predictions - labels in float64: a new array (``residual_scale`` may reorder it)."""
    return np.subtract(pred, labels, dtype=np.float64)


def _with_balance(profile: LabelProfile) -> LabelProfile:
    """Add class-balance evidence and the weights that would even it out."""
    counts, n = profile.counts, profile.n_samples
    ev = profile.evidence
    if profile.label_type in ("binary", "multilabel"):
        share = counts / max(n, 1)
        ev["positive_share"] = _number(share[0]) if len(share) == 1 else [_number(s) for s in share]
    else:
        ev["class_counts"] = {str(k): int(c) for k, c in enumerate(counts)} if len(counts) <= 50 else None
    ratio = profile.imbalance
    ev["imbalance_ratio"] = None if ratio is None or not np.isfinite(ratio) else _number(ratio)
    ev["severe_imbalance"] = ratio is not None and ratio >= SEVERE_IMBALANCE
    return profile


def balancing_params(profile: LabelProfile) -> dict[str, Any]:
    """``pos_weight`` = negatives/positives per column, or ``weight`` = inverse class frequency."""
    counts, n = profile.counts, profile.n_samples
    if counts is None:
        return {}
    if profile.label_type in ("binary", "multilabel"):
        pos = counts.astype(np.float64)
        return {"pos_weight": [_number((n - p) / p) if p > 0 else 1 for p in pos]}
    present = np.count_nonzero(counts)
    return {"weight": [_number(n / (present * c)) if c > 0 else 1 for c in counts]}


def profile_for_type(label_type: str) -> LabelProfile:
    """A profile for ``--label-type``: no inspection, no evidence."""
    return LabelProfile(label_type, {"given": "--label-type"}, confidence="given", reading="given by --label-type")


# --- predictions ---------------------------------------------------------------------


def _grown(shape: tuple[int, ...] | None, rows: np.ndarray) -> tuple[int, ...]:
    """The shape of the rows so far (None before the first chunk) once ``rows`` are added below them."""
    return rows.shape if shape is None else (shape[0] + len(rows), *shape[1:])


def _stacked(shapes: list[tuple[int, ...] | None]) -> tuple[int, ...] | None:
    """The shape of several parts' rows one below the other (a 0-d part is the whole of a shared input)."""
    present = [s for s in shapes if s is not None]
    if not present or not present[0]:
        return present[0] if present else None
    return (sum(s[0] for s in present), *present[0][1:])


class PredStats:
    """What ``describe_predictions`` judges, gathered a chunk of rows at a time: the same totals for any chunks.

    The shape, the extremes, and the largest distance from 1 of a row's sum over
    ``class_axis`` (of the values, and of their exp, in float64). Each sum is
    taken only while the extremes so far leave its kind possible (all <= 0 for
    log-probabilities, all in [0, 1] for softmax outputs); when they are
    needed at the end, every chunk has had it.
    """

    def __init__(self, class_axis: int = 1) -> None:
        self.class_axis = class_axis
        self.shape: tuple[int, ...] | None = None
        self.lo, self.hi = math.inf, -math.inf
        self.exp_sum_error = self.sum_error = 0.0

    def add(self, rows: np.ndarray) -> None:
        """Take in the next rows of the predictions (a 0-d array is all of them)."""
        p = np.asarray(rows)
        self.shape = _grown(self.shape, p)
        if p.size == 0:
            return
        self.lo, self.hi = min(self.lo, float(p.min())), max(self.hi, float(p.max()))
        if not self.has_classes:
            return
        if self.hi <= 0:
            sums = np.exp(p.astype(np.float64)).sum(axis=self.class_axis)
            self.exp_sum_error = max(self.exp_sum_error, float(np.abs(sums - 1).max()))
        if self.lo >= 0 and self.hi <= 1:
            sums = p.sum(axis=self.class_axis, dtype=np.float64)
            self.sum_error = max(self.sum_error, float(np.abs(sums - 1).max()))

    @classmethod
    def merged(cls, parts: list[PredStats]) -> PredStats:
        """The totals of several runs' rows, one after the other (a distributed run's partitions): a part whose
        extremes leave a kind impossible took no sum for it, and neither does the whole need one."""
        merged = cls(parts[0].class_axis)
        merged.shape = _stacked([p.shape for p in parts])
        merged.lo = min(p.lo for p in parts)
        merged.hi = max(p.hi for p in parts)
        merged.exp_sum_error = max(p.exp_sum_error for p in parts)
        merged.sum_error = max(p.sum_error for p in parts)
        return merged

    @property
    def has_classes(self) -> bool:
        """Whether the predictions have a class axis of more than one column, whose rows can sum to 1."""
        return self.shape is not None and len(self.shape) >= 2 and self.shape[self.class_axis] > 1

    def profile(self) -> PredProfile:
        """Logits, probabilities, or log-probabilities, from the totals."""
        lo, hi = self.lo, self.hi
        evidence: dict[str, Any] = {"shape": list(self.shape or ()), "min": _number(lo), "max": _number(hi)}
        if self.has_classes:
            if hi <= 0:
                evidence["exp_row_sum_max_error"] = _number(self.exp_sum_error)
                if self.exp_sum_error <= ROW_SUM_TOLERANCE:
                    return PredProfile("log_probs", evidence)
            if lo >= 0 and hi <= 1:
                evidence["row_sum_max_error"] = _number(self.sum_error)
                if self.sum_error <= ROW_SUM_TOLERANCE:
                    return PredProfile("softmax", evidence)
        if lo >= 0 and hi <= 1:
            return PredProfile("probs", evidence)
        return PredProfile("real", evidence)


def describe_predictions(pred: np.ndarray, class_axis: int = 1) -> PredProfile:
    """Logits, probabilities, or log-probabilities, from the values and the sums over ``class_axis``."""
    stats = PredStats(class_axis)
    stats.add(pred)
    return stats.profile()


# --- recommendations -----------------------------------------------------------------


def _rec(
    name: str,
    reason: str,
    rule: str | None = None,
    params: dict | None = None,
    reduction: str | None = None,
    fix: str | None = None,
) -> Recommendation:
    spec = get_loss(name)
    return Recommendation(spec.name, spec.torch_name, reason, rule, params or {}, reduction, fix=fix)


def _class_weight_note(profile: LabelProfile, params: dict[str, Any]) -> str:
    if not profile.evidence.get("severe_imbalance"):
        return ""
    key, values = next(iter(params.items()))
    ratio = profile.evidence["imbalance_ratio"]
    if ratio is None:  # a class (or a label column's positives) with no example: no weight can even that out
        return " A class has no example at all: no weight evens that out; check that these are the labels meant."
    return f" The classes are imbalanced ({ratio}:1): -p {key}={json.dumps(values)} evens them out."


def _recommend_continuous(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    ev = p.evidence
    if ev.get("outliers"):
        share = f"{100 * ev['outlier_share']:.2g}%"
        return [
            _rec(
                "mse",
                f"Unbounded real-valued labels; note that {ev['n_outliers']} outliers ({share}) "
                "will dominate the squared error.",
                RULE_REAL,
            ),
            _rec(
                "smooth_l1",
                f"{ev['n_outliers']} labels ({share}) lie beyond {ev['outlier_rule']}: quadratic for small "
                "errors, linear for large ones, so they do not dominate.",
                RULE_OUTLIERS,
            ),
            _huber(pred),
            _rec("l1", "Absolute error: its minimiser is the median, which the outliers barely move.", "article 2.2"),
            _rec("log_cosh", "Smooth everywhere: about (x - y)^2 / 2 for small errors and |x - y| for large ones."),
        ]
    reasons = [
        _rec(
            "mse",
            "Unbounded real-valued labels without notable outliers: the squared error's minimiser is the mean.",
            RULE_REAL,
        ),
        _rec("l1", "Absolute error, if you want the median and a gradient that does not shrink.", "article 2.2"),
        _rec("smooth_l1", "A safe middle ground should outliers appear later.", RULE_OUTLIERS),
    ]
    if ev.get("n_columns", 1) == 1 and ev.get("n_samples") and not ev.get("images"):
        reasons.append(_rec("gaussian_nll", "If the model also predicts a variance per sample (given as var)."))
    return reasons + _images(p)


def _images(p: LabelProfile) -> list[Recommendation]:
    """Image-restoration losses for labels that are a batch of real-valued images, (N, C, H, W) or (N, H, W):
    ssim when its 11-pixel window fits, ms_ssim when its five scales do (176 pixels a side), charbonnier always;
    data_range is the labels' span when they leave [0, 1]."""
    ev = p.evidence
    if not ev.get("images"):
        return []
    side = min(ev["shape"][-2:])
    lo, hi = ev["min"], ev["max"]
    span = {} if lo >= 0 and hi <= 1 else {"data_range": _number(hi - lo)}
    found = []
    if side >= get_loss("ssim").param("window_size").default:
        found.append(
            _rec(
                "ssim",
                "The labels are images: 1 - SSIM compares each predicted image's local means, contrasts and "
                "structure with the true one, as restoration (denoising, super-resolution) is judged."
                + (f" data_range = {span['data_range']}, the labels' span." if span else ""),
                params=span,
            )
        )
    if side >= (smallest := ms_ssim_smallest_side()):
        found.append(
            _rec(
                "ms_ssim",
                f"SSIM over five scales, coarse structure included (images of {smallest} pixels a side).",
                None,
                span,
            )
        )
    found.append(
        _rec(
            "charbonnier",
            "A smooth l1 per pixel, robust to outliers, the pixel loss of super-resolution (often beside ssim).",
        )
    )
    return found


def _huber(pred: PredProfile | None) -> Recommendation:
    """Huber's loss, its delta at Huber's 1.345 residual standard deviations when the residuals are known.

    delta is a threshold on the errors, so its scale is the residuals', not the labels' (whose spread holds
    the signal the model explains too: a delta from it is so large that huber is mse / 2). Without
    predictions the residuals are unknown: the line keeps torch's default and the reason says how to set it.
    """
    what = "Like smooth_l1 with the gradient bounded by delta"
    if pred is None or not pred.residual_scale:
        return _rec(
            "huber",
            f"{what} (default 1, for errors of about unit size): set delta to about {HUBER_TUNING} × the "
            "robust scale of your model's residuals (95 % efficiency on Gaussian errors); --pred computes it.",
            RULE_OUTLIERS,
        )
    scale = pred.residual_scale
    return _rec(
        "huber",
        f"{what}: delta = {HUBER_TUNING} × {_number(scale)}, the robust σ (1.4826 × median |error|) of the "
        "residuals predictions - labels, keeps 95 % efficiency if the errors are Gaussian.",
        RULE_OUTLIERS,
        {"delta": _number(HUBER_TUNING * scale)},
    )


def _recommend_bounded(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    return [
        _rec(
            "bce",
            "Real labels within [0, 1] are soft targets: binary cross entropy on sigmoid outputs fits their range.",
            RULE_RANGE,
        ),
        _rec("mse", "Squared error on sigmoid outputs also keeps predictions and labels in one range.", RULE_RANGE),
        _rec(
            "bce_with_logits",
            "The same cross entropy if the model outputs logits (sigmoid built in, numerically stabler).",
            RULE_RANGE,
        ),
        *_images(p),
    ]


def _recommend_binary(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    weights = balancing_params(p)
    share = p.evidence.get("positive_share")
    heavy = bool(p.evidence.get("severe_imbalance"))
    counted = f" ({share:.1%} positives)" if share is not None else ""
    return [
        _rec(
            "bce_with_logits",
            f"Binary {{0, 1}} labels{counted}: sigmoid and cross entropy in one stable step on logits."
            + _class_weight_note(p, weights),
            RULE_CLASS,
            weights if heavy else {},
        ),
        *_focal("sigmoid_focal", p),
        *_masks(p),
        _rec("bce", "The same loss if the model already outputs probabilities (after a sigmoid).", RULE_CLASS),
        *_brier(pred, ("probs", "softmax")),
        _rec(
            "soft_margin",
            "The logistic loss for labels written as {-1, 1}.",
            "article 2.6.10",
            fix="soft_margin wants labels in {-1, 1}: map 0 to -1 (2·y - 1), then run it on the new labels",
        ),
    ]


def _focal(name: str, p: LabelProfile) -> list[Recommendation]:
    """The focal loss, when the classes are severely imbalanced: easy majority examples stop dominating."""
    if not p.evidence.get("severe_imbalance"):
        return []
    ratio = p.evidence["imbalance_ratio"]
    return [
        _rec(
            name,
            f"Severe imbalance ({'a class without examples' if ratio is None else f'{ratio}:1'}): "
            "the focal loss scales each term by "
            "(1 - p_t)^gamma, so the many easy examples stop drowning the rare ones (alpha 0.25, gamma 2).",
        )
    ]


def _brier(pred: PredProfile | None, kinds: tuple[str, ...]) -> list[Recommendation]:
    """The Brier score as the calibration check, when the predictions given are probabilities of these kinds."""
    if pred is None or pred.kind not in kinds:
        return []
    return [
        _rec(
            "brier",
            "The predictions are probabilities: the Brier score (scikit-learn's brier_score_loss) checks their "
            "calibration, bounded where log loss is not; report it beside the training loss.",
        )
    ]


def _masks(p: LabelProfile) -> list[Recommendation]:
    """Overlap losses for segmentation masks: they score the mask as a whole, whatever its share of pixels."""
    if not p.evidence.get("segmentation_mask"):
        return []
    return [
        _rec(
            "dice",
            "The labels are masks (one 0/1 value per pixel): Dice scores the overlap of each predicted mask, "
            "so a small object counts as much as a large background. Give it sigmoid probabilities.",
        ),
        _rec(
            "tversky",
            "Dice with separate weights for false positives (alpha) and false negatives (beta): raise beta "
            "when missing a thin structure costs more than a spurious pixel.",
        ),
        _rec(
            "lovasz_hinge",
            "On logits, when the masks are scored by IoU: the Lovász hinge optimises each image's Jaccard "
            "index directly (often to fine-tune after bce_with_logits).",
        ),
    ]


def _class_maps(p: LabelProfile) -> list[Recommendation]:
    """Overlap losses for per-pixel class maps (N, d1, ...): labels of more than one axis per sample."""
    if len(p.evidence.get("shape", ())) <= 2:
        return []
    return [
        _rec(
            "dice_ce",
            "The labels are class maps (one class index per pixel): Dice plus cross entropy on logits (MONAI's "
            "DiceCELoss, the nnU-Net recipe), so small structures are not swamped by the background.",
        ),
        _rec(
            "lovasz_softmax",
            "When the model is scored by mean IoU: the Lovász-softmax loss optimises each image's Jaccard index "
            "per class (often to fine-tune after cross entropy).",
        ),
    ]


def _recommend_multiclass(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    weights = balancing_params(p)
    heavy = bool(p.evidence.get("severe_imbalance"))
    classes = f"{p.evidence['min']}..{p.evidence['max']}" if "max" in p.evidence else "0..C-1"
    return [
        _rec(
            "cross_entropy",
            f"Class indices {classes}: cross entropy on logits." + _class_weight_note(p, weights),
            RULE_CLASS,
            weights if heavy else {},
        ),
        _rec("nll", "The same loss if the model ends in log_softmax.", "article 2.6.2", weights if heavy else {}),
        *_class_maps(p),
        *_focal("softmax_focal", p),
        _rec(
            "multi_margin", "A multi-class hinge (SVM-style) when only the ranking of scores matters.", "article 2.6.13"
        ),
        *_brier(pred, ("softmax",)),
    ]


ARGMAX_FIX = "{loss} wants class indices: take the argmax of each one-hot row (one column 0..C-1), then run it on them"


def _recommend_onehot(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    return [
        _rec(
            "cross_entropy",
            "One-hot rows are class labels: cross_entropy reads them as class probabilities (the same value "
            "as their argmax indices, unless you pass weight).",
            RULE_CLASS,
        ),
        _rec(
            "nll",
            "With log_softmax outputs, after turning the rows into indices (argmax of each row).",
            "article 2.6.2",
            fix=ARGMAX_FIX.format(loss="nll"),
        ),
        *_focal("softmax_focal", p),
        _rec("categorical_hinge", "A hinge that takes the one-hot rows as they are (Keras' CategoricalHinge)."),
        _rec(
            "multi_margin",
            "A multi-class hinge, also on argmax indices.",
            "article 2.6.13",
            fix=ARGMAX_FIX.format(loss="multi_margin"),
        ),
    ]


def _recommend_multilabel(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    weights = balancing_params(p)
    heavy = bool(p.evidence.get("severe_imbalance"))
    return [
        _rec(
            "bce_with_logits",
            "0/1 rows with any number of 1s: one sigmoid cross entropy per label." + _class_weight_note(p, weights),
            RULE_CLASS,
            weights if heavy else {},
        ),
        *_focal("sigmoid_focal", p),
        _rec("multilabel_soft_margin", "The same one-versus-all loss averaged per sample.", "article 2.6.11"),
        _rec(
            "multilabel_margin",
            "A hinge version; needs each row as class indices padded with -1.",
            "article 2.6.9",
            fix="multilabel_margin wants each row as the indices of its 1s, then -1s (row 0 1 1 0 → 1 2 -1 -1): "
            "write the labels so, then run it on them",
        ),
    ]


def _recommend_signed(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    return [
        _rec("soft_margin", "Labels in {-1, 1}: the logistic loss on raw scores.", "article 2.6.10"),
        _rec("hinge", "The SVM hinge max(0, 1 - y·x): only wrong or unconfident scores cost anything."),
        _rec("squared_hinge", "The hinge squared: smooth at the margin, harder on large violations."),
        _rec(
            "hinge_embedding",
            "If the predictions are distances between pairs (similar = 1, dissimilar = -1).",
            "article 2.6.8",
        ),
        _rec(
            "margin_ranking",
            "If each label orders a pair of scores (the second score file as input2).",
            "article 2.6.7",
        ),
        _rec(
            "cosine_embedding",
            "If each label says whether two embeddings are similar (the second embeddings as input2).",
            "article 2.6.12",
        ),
    ]


def _recommend_distribution(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    return [
        _rec(
            "kl_div",
            "Rows are probability distributions: KL divergence on log-probability inputs; batchmean gives the "
            "divergence per sample.",
            "article 2.6.4",
            reduction="batchmean",
        ),
        _rec(
            "cross_entropy",
            "Cross entropy with soft targets on logits: KL plus the targets' constant entropy.",
            RULE_CLASS,
        ),
        _rec(
            "generalized_kl",
            "If the predictions are unnormalised (log-)intensities rather than distributions: the generalised "
            "KL adds the mass mismatch exp(x) - y.",
        ),
    ]


def _recommend_count(p: LabelProfile, pred: PredProfile | None) -> list[Recommendation]:
    hint = ""
    if pred is not None and pred.kind != "real" and float(pred.evidence["min"]) >= 0:
        hint = " Your predictions are non-negative: if they are rates rather than log-rates, pass -p log_input=false."
    return [
        _rec("poisson_nll", "Non-negative integer counts: Poisson likelihood with log-rate predictions." + hint),
        _rec(
            "poisson_deviance",
            "The Poisson deviance of predicted rates (> 0, not log-rates): scikit-learn's "
            "mean_poisson_deviance, 0 for a perfect fit.",
        ),
        _rec(
            "tweedie",
            "Counts with many zeros and a long tail (claims, sales): the Tweedie deviance with 1 < power < 2.",
        ),
        _rec("mse", "Squared error on the counts, if they are large and roughly symmetric.", RULE_REAL),
    ]


def _quantile_rec(quantiles: list[float]) -> Recommendation:
    """Asked for quantiles: the pinball loss, one prediction column per quantile."""
    value: Any = quantiles[0] if len(quantiles) == 1 else quantiles
    columns = "one prediction column" if len(quantiles) == 1 else f"{len(quantiles)} prediction columns (N×Q)"
    return _rec(
        "pinball",
        f"You asked for quantiles {', '.join(f'{q:g}' for q in quantiles)}: the pinball loss is minimised by "
        f"each quantile of the labels, with {columns}.",
        params={"quantile": value},
    )


RECOMMENDERS = {
    "continuous": _recommend_continuous,
    "bounded": _recommend_bounded,
    "binary": _recommend_binary,
    "multiclass": _recommend_multiclass,
    "onehot": _recommend_onehot,
    "multilabel": _recommend_multilabel,
    "signed": _recommend_signed,
    "distribution": _recommend_distribution,
    "count": _recommend_count,
}


def command_line(rec: Recommendation, arguments: list[str]) -> str:
    """The exact ``losscli compute`` line for a recommendation, after the loss name: files and options."""
    words = ["losscli", "compute", rec.loss, *arguments]
    for role in get_loss(rec.loss).input_roles:
        if role.default is None:
            words += ["--input", f"{role.name}={role.name.upper()}"]
    for key, value in rec.params.items():
        words += ["-p", f"{key}={json.dumps(value, separators=(',', ':'))}"]
    if rec.reduction:
        words += ["--reduction", rec.reduction]
    return shlex.join(words)


GIVEN_LABELS, GIVEN_PRED = Role("labels", "target", "(N,) or (N, C)"), Role("pred", "pred", "(N,) or (N, C)")


def _given(x: np.ndarray | Input | None, role: Role, name: str) -> Input | None:
    """A loaded input as it is, an array as an input named ``name`` (the placeholder of its file)."""
    if x is None or isinstance(x, Input):
        return x
    return Input(role, np.asarray(x), name)


def advise(
    profile: LabelProfile,
    *,
    labels: np.ndarray | Input | None = None,
    pred: np.ndarray | Input | None = None,
    arguments: list[str] | None = None,
    check_loss: str | None = None,
    quantiles: list[float] | None = None,
) -> Advice:
    """Rank the losses for these labels and check the predictions against them.

    ``labels`` and ``pred`` are arrays, or the inputs as read from their files (whose names and columns
    the fixes quote). A recommendation whose ``losscli compute`` line would fail on them gets a ``fix``
    instead of its ``command``; so does the first suggestion of another reading (``alternatives``), which
    is the first of that reading's recommendations that runs, if one does.
    """
    label_input, pred_input = _given(labels, GIVEN_LABELS, "LABELS"), _given(pred, GIVEN_PRED, "PRED")
    y = label_input.array if label_input is not None else None
    p = pred_input.array if pred_input is not None else None
    pred_profile = describe_predictions(p) if p is not None else None
    if pred_profile is not None and y is not None and p.shape == y.shape:
        pred_profile.residual_scale = residual_scale(_residuals(p, y))
    recommendations = RECOMMENDERS[profile.label_type](profile, pred_profile)
    if quantiles:
        recommendations.insert(0, _quantile_rec(quantiles))
    readings = [(other, RECOMMENDERS[other.label_type](other, pred_profile)) for other in profile.alternatives]
    for rec in [*recommendations, *(rec for _, recs in readings for rec in recs)]:
        rec.fix = rec.fix or what_to_fix(get_loss(rec.loss), rec.params, label_input, pred_input)
        rec.command = None if rec.fix else command_line(rec, arguments or ["PRED", "LABELS"])
    alternatives = [
        Alternative(other.label_type, other.reading, next((r for r in recs if r.fix is None), recs[0]))
        for other, recs in readings
    ]
    spec = get_loss(check_loss or recommendations[0].loss)
    params = next((r.params for r in recommendations if r.loss == spec.name), {}) if not check_loss else {}
    reduction = next((r.reduction for r in recommendations if r.loss == spec.name), None)
    warnings = find_mistakes(spec, p, y, params, reduction or spec.default_reduction, profile)
    predictions = None
    if pred_profile is not None:
        predictions = {"kind": pred_profile.kind, "description": pred_profile.description, **pred_profile.evidence}
    reading = profile.reading or LABEL_TYPES[profile.label_type]
    return Advice(
        profile.label_type,
        profile.evidence,
        recommendations,
        predictions,
        warnings,
        profile.confidence,
        reading,
        alternatives,
    )


# --- will the line run? ----------------------------------------------------------------


def what_to_fix(spec: LossSpec, params: dict[str, Any], labels: Input | None, pred: Input | None) -> str | None:
    """Why ``losscli compute`` of ``spec`` would fail on these labels and predictions, with the fix; None if
    it runs.

    It runs ``compute``'s own checks (``validate``, no torch) on the labels and the predictions; without
    predictions, on a stand-in of the shape the loss wants for these labels (what PRED stands for in the
    suggested line: one column per class for class indices 0..C-1, the labels' shape for elementwise
    losses), and likewise for the further inputs (VAR, INPUT2). Without labels the line is a template.
    """
    if labels is None or spec.target_role is None:
        return None
    try:  # the values as compute reads them from the line's -p items
        params = parse_params(spec, [f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in params.items()])
    except UsageError as e:
        return str(e)
    y = labels.array
    one_based = _numbered_from_one(spec, y, None if pred is None else pred.array)
    if one_based:
        return one_based
    pred_shape = pred.array.shape if pred is not None else _stand_in_shape(spec, y, params)
    if pred_shape is None:
        return None  # a shape rule the advisor does not know: nothing to check
    inputs = {spec.target_role.name: Input(spec.target_role, y, labels.source, labels.columns, labels.first_row)}
    for role in spec.roles:
        if role is spec.pred_role and pred is not None:
            inputs[role.name] = Input(role, pred.array, pred.source, pred.columns, pred.first_row)
        elif role is spec.pred_role or (role is not spec.target_role and role.default is None):
            name = "PRED" if role is spec.pred_role else role.name.upper()  # the line's placeholders
            inputs[role.name] = Input(role, np.broadcast_to(np.int8(1), pred_shape), name)
    try:
        validate(spec, inputs, params)
    except (DataError, UsageError) as e:
        return str(e)
    if spec.pred_role.shape in ROWS_ONLY and len(pred_shape) != 2:  # torch takes these as matrices only
        pred_name = pred.source if pred is not None else "PRED"
        return (
            f"{spec.name} scores predictions of shape {spec.pred_role.shape}, one row per sample, but {pred_name} "
            f"would be {shape_text(pred_shape)}: give one row per sample (flatten the pixels of a per-pixel map)"
        )
    return None


ROWS_ONLY = ("(N, C)", "(N, D)")
"""Prediction shapes (as the registry writes them) of losses whose torch function takes matrices only."""


def _class_indices(spec: LossSpec, y: np.ndarray) -> bool:
    """Whether ``spec`` reads labels ``y`` as class indices (rather than as class probabilities per column)."""
    if spec.shape_rule not in ("class", "class4d"):
        return False
    return spec.target_role.dtype == "index" or not (y.ndim == 2 and y.shape[1] > 1)


def _stand_in_shape(spec: LossSpec, y: np.ndarray, params: dict[str, Any]) -> tuple[int, ...] | None:
    """The shape of the predictions the loss wants for labels ``y``: the shape PRED stands for."""
    rule = spec.shape_rule
    if rule in ("same", "gaussian", "rows", "masks", "tweedie"):
        return y.shape
    if rule in ("class", "class4d"):
        if not _class_indices(spec, y):
            return y.shape
        return (y.shape[0], _largest_index(y) + 1, *y.shape[1:])
    if rule == "quantiles":
        quantiles = params.get("quantile")
        return (len(y), len(quantiles)) if isinstance(quantiles, list) and len(quantiles) > 1 else y.shape
    if rule == "pair":
        return (len(y), 2)
    return None


MAX_STAND_IN_CLASSES = 1 << 20
"""Class indices beyond this are no classes a model scores: the stand-in has 2 columns, and they fail."""


def _largest_index(y: np.ndarray) -> int:
    """The largest class index of labels ``y``; 1 when they are no class indices (the checks then say why)."""
    if y.size == 0 or y.dtype.kind not in "iubf":
        return 1
    hi = y.max()
    if not 0 <= hi < MAX_STAND_IN_CLASSES or (y.dtype.kind == "f" and np.any(np.floor(y) != y)):
        return 1
    return max(int(hi), 1)


def _numbered_from_one(spec: LossSpec, y: np.ndarray, pred: np.ndarray | None) -> str | None:
    """The fix for class indices 1..K read by a loss that numbers K classes 0..K-1 (K columns of scores).

    Without predictions, labels 1..K are taken for K classes, as a model trained on them would score
    them; predictions with K + 1 columns (an unused class 0) take them as they are.
    """
    if not _class_indices(spec, y) or y.size == 0 or y.dtype.kind not in "iuf":
        return None
    lo, hi = y.min(), y.max()
    if lo != 1 or not np.isfinite(hi) or hi >= MAX_STAND_IN_CLASSES or np.any(np.floor(y) != y):
        return None
    k = int(hi)
    if pred is not None and (pred.ndim < 2 or pred.shape[1] != k):
        return None  # the checks of compute say what is wrong, if anything
    return f"the labels are numbered 1..{k}: subtract 1 so that the classes are 0..{k - 1}, as {spec.name} numbers them"


# --- mistakes ------------------------------------------------------------------------


def _pred_mistake(spec: LossSpec, expects: str, kind: str, evidence: dict[str, Any]) -> str | None:
    """A warning when the predictions are not the kind of values (domain ``expects``) the loss expects."""
    name = spec.name
    classes = spec.target_role is not None and spec.target_role.dtype in ("index", "index_or_prob")
    if expects == "logits" and kind in ("softmax", "probs"):
        if classes:
            what = "softmax probabilities (rows sum to 1)" if kind == "softmax" else "probabilities (all in [0, 1])"
            return (
                f"the predictions look like {what}, but {name} applies log_softmax "
                "itself and wants logits: probabilities squash the scores into [0, 1], so the loss has a floor "
                "above 0 and its gradients shrink (training slows); pass the logits from before the softmax"
            )
        return (
            f"the predictions look like sigmoid outputs (all in [0, 1]), but {name} applies a sigmoid itself: "
            "a double sigmoid keeps every probability within [0.5, 0.73], so the loss cannot approach 0; pass "
            "the logits from before the sigmoid, or use bce on these probabilities"
        )
    if expects == "log_probs" and kind != "log_probs":
        what = "probabilities (all in [0, 1])" if kind in ("softmax", "probs") else "not log-probabilities"
        if name == "kl_div":
            return (
                f"the predictions are {what}, but kl_div wants log-probabilities as input (the target stays "
                "probabilities): otherwise the result is not a divergence and can turn negative; pass "
                "log_softmax outputs (or log of the probabilities)"
            )
        consequence = "it only picks -input[n, y_n], so " + (
            "the loss turns negative and rewards nothing" if kind in ("softmax", "probs") else "it is no likelihood"
        )
        return (
            f"the predictions are {what} (the exp of each row does not sum to 1), but {name} wants "
            f"log-probabilities (log_softmax outputs): {consequence}; apply log_softmax, or use cross_entropy "
            "on logits"
        )
    if expects == "positive" and float(evidence["min"]) <= 0:
        return (
            f"the predictions reach {evidence['min']}, but {name} wants positive means (rates, not log-rates): "
            "exponentiate them, or use a loss on the log scale (poisson_nll for log-rates)"
        )
    if expects == "prob" and kind in ("real", "log_probs"):
        return (
            f"the predictions leave [0, 1] (min {evidence['min']}, max {evidence['max']}): they look like logits, "
            f"but {name} wants probabilities; apply a sigmoid first, or use bce_with_logits"
        )
    return None


def _imbalance_mistake(spec: LossSpec, profile: LabelProfile, params: dict[str, Any]) -> str | None:
    if not profile.evidence.get("severe_imbalance") or profile.counts is None:
        return None
    if params.get("weight") is not None or params.get("pos_weight") is not None:
        return None
    ratio = profile.evidence["imbalance_ratio"]
    weights = balancing_params(profile)
    key, values = next(iter(weights.items()))
    setting = f"-p {key}={json.dumps(values, separators=(',', ':'))}"
    if spec.param(key) is not None:
        fix = f"pass {setting}"
    elif key == "pos_weight" and spec.pred_role.domain == "prob" and spec.family == "classification":
        fix = f"use bce_with_logits with {setting}"
    else:
        return None
    if profile.label_type == "binary":
        what = f"positives are {profile.evidence['positive_share']} of the values"
    elif ratio is None:
        what = "some class or label column has no examples at all"
    else:
        what = f"the largest class outnumbers the smallest {ratio}:1"
    return f"severe class imbalance ({what}): the loss is dominated by the majority class; {fix}"


PRED_CHECKS = ("logits", "log_probs", "prob", "positive")
"""The prediction domains whose values the advisor checks (see ``_pred_mistake``)."""


EXACT_ROWS = 1 << 24
"""Rows of 0/1 values whose sum float32 holds exactly."""
NARROW = 6
"""Columns up to which counting column by column beats numpy's reductions along the rows."""


def _ones_per_column_and_row(bits: np.ndarray, per_row: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The 1s in each column (int64) of a 2-D array of 0s and 1s, and in each row when ``per_row``.

    numpy reduces short rows slowly (over a few columns, several times a pass over the values), so a narrow
    array is counted column by column; a wider one is summed with ``einsum``, exactly: float32 holds the
    counts of ``EXACT_ROWS`` rows, which are taken at a time.
    """
    if bits.shape[1] <= NARROW:
        columns = np.empty(bits.shape[1], dtype=np.int64)
        rows = np.zeros(len(bits), dtype=np.uint8) if per_row else None
        for j in range(bits.shape[1]):
            ones = bits[:, j] == 1
            columns[j] = np.count_nonzero(ones)
            if rows is not None:
                rows += ones.view(np.uint8)
        return columns, rows
    values = bits if bits.dtype in (np.float32, np.float64) else bits.astype(np.int64)
    parts = (values[start : start + EXACT_ROWS] for start in range(0, len(values), EXACT_ROWS))
    columns = sum(np.einsum("ij->j", part).astype(np.int64) for part in parts)
    return columns, np.einsum("ij->i", values) if per_row else None


class MistakeStats:
    """What ``judge_mistakes`` checks, gathered from the predictions and labels a chunk of rows at a time.

    Every total merges exactly: shapes, extremes, counts of 1s per column and of
    labels per class, and whether every label so far is 0 or 1 and every row
    holds one 1. So any split of the rows gives the totals of the whole arrays,
    hence the same warnings with the same numbers (``find_mistakes`` is one
    chunk of all the rows). A total is taken only for the checks ``spec``
    makes, and memory is that of the class counts, whatever the number of rows.
    """

    def __init__(self, spec: LossSpec, params: dict[str, Any]) -> None:
        self.spec, self.params = spec, params
        self.expects = role_domain(spec, spec.pred_role, params)  # tweedie's depends on its power
        self.pred_shape: tuple[int, ...] | None = None
        self.pred_values = PredStats(-1 if spec.shape_rule == "ctc" else 1) if self.expects in PRED_CHECKS else None
        self.ignore = params.get("ignore_index", -100) if spec.param("ignore_index") else None
        self.label_shape: tuple[int, ...] | None = None
        self.label_dtype: np.dtype | None = None
        self.bits: bool | None = None
        """Whether the checks need ``zero_one``, ``rows_of_one`` and ``ones`` (decided by the first labels)."""
        self.zero_one = self.rows_of_one = True
        self.ones: np.ndarray | int = 0
        """The 1s per column of 2-D labels, or among all the labels."""
        self.kept = 0
        """Index labels other than ``ignore_index``, and their extremes."""
        self.kept_lo, self.kept_hi = math.inf, -math.inf
        self.class_counts = np.zeros(0, dtype=np.int64)
        """Integral index labels >= 0 per class, ``n_valid`` in all."""
        self.n_valid = 0

    @classmethod
    def merged(cls, parts: list[MistakeStats]) -> MistakeStats:
        """The totals of several runs' rows, one after the other (a distributed run's partitions, in order)."""
        first = parts[0]
        merged = cls(first.spec, first.params)
        merged.pred_shape = _stacked([p.pred_shape for p in parts])
        merged.label_shape = _stacked([p.label_shape for p in parts])
        if merged.pred_values is not None:
            merged.pred_values = PredStats.merged([p.pred_values for p in parts])
        dtypes = [p.label_dtype for p in parts if p.label_dtype is not None]
        merged.label_dtype = np.result_type(*dtypes) if dtypes else None
        merged.bits = next((p.bits for p in parts if p.bits is not None), None)
        merged.zero_one = all(p.zero_one for p in parts)
        merged.rows_of_one = all(p.rows_of_one for p in parts)
        if merged.zero_one:  # once a part is not all 0/1, no part's counts of 1s are needed
            merged.ones = sum((p.ones for p in parts), start=0)
        merged.kept = sum(p.kept for p in parts)
        merged.kept_lo = min(p.kept_lo for p in parts)
        merged.kept_hi = max(p.kept_hi for p in parts)
        width = max(len(p.class_counts) for p in parts)
        merged.class_counts = sum(
            (np.pad(p.class_counts, (0, width - len(p.class_counts))) for p in parts),
            start=np.zeros(width, dtype=np.int64),
        )
        merged.n_valid = sum(p.n_valid for p in parts)
        return merged

    def add(self, pred: np.ndarray | None, labels: np.ndarray | None) -> None:
        """Take in the next rows of the predictions and of the labels; None adds nothing of that input."""
        if pred is not None:
            self.pred_shape = _grown(self.pred_shape, pred)
            if self.pred_values is not None:
                self.pred_values.add(pred)
        if labels is not None:
            self.label_shape = _grown(self.label_shape, labels)
            if self.spec.target_role is not None:
                self._add_labels(labels)

    def _add_labels(self, y: np.ndarray) -> None:
        dtype = self.spec.target_role.dtype
        self.label_dtype = y.dtype if self.label_dtype is None else np.promote_types(self.label_dtype, y.dtype)
        classes = dtype in ("index", "index_or_prob")
        if self.bits is None:
            self.bits = (y.ndim == 2 and classes) or self.spec.label_kind in ("binary", "multilabel")
        if y.size == 0:
            return
        if self.bits and self.zero_one:
            n_ones = np.count_nonzero(y == 1)
            self.zero_one = n_ones + np.count_nonzero(y == 0) == y.size
            if self.zero_one and y.ndim == 2:
                columns, rows = _ones_per_column_and_row(y, per_row=classes)
                self.ones = self.ones + columns
                self.rows_of_one = self.rows_of_one and (rows is None or bool((rows == 1).all()))
            elif self.zero_one:
                self.ones += n_ones
        if dtype == "index" or (dtype == "index_or_prob" and y.ndim == 1):
            self._add_indices(y)

    def _add_indices(self, y: np.ndarray) -> None:
        lo, hi = y.min(), y.max()
        kept = y
        if self.ignore is not None and lo <= self.ignore <= hi:  # else no label is ignored: no copy
            kept = y[y != self.ignore]
        if kept.size and y.dtype.kind in "iuf":
            self.kept += kept.size
            kept_lo, kept_hi = (lo, hi) if kept is y else (kept.min(), kept.max())
            self.kept_lo, self.kept_hi = min(self.kept_lo, float(kept_lo)), max(self.kept_hi, float(kept_hi))
        integral = y.dtype.kind in "iub" and lo >= 0  # every label valid: no copy
        valid = y if integral else y[(y >= 0) & (y == np.floor(y))]
        counts = np.bincount(valid.reshape(-1).astype(np.int64, copy=False))
        if len(counts) > len(self.class_counts):
            self.class_counts = np.concatenate([self.class_counts, np.zeros(len(counts) - len(self.class_counts), int)])
        self.class_counts[: len(counts)] += counts
        self.n_valid += valid.size

    def balance(self) -> LabelProfile | None:
        """The class counts of the labels, for the losses whose targets are classes or 0/1 bits."""
        target, shape = self.spec.target_role, self.label_shape
        if target is None or shape is None or math.prod(shape) == 0:
            return None
        bits = bool(self.bits) and self.zero_one
        if target.dtype == "index_or_prob" and len(shape) == 2 and bits and self.rows_of_one:
            return _with_balance(LabelProfile("onehot", {}, np.asarray(self.ones), shape[0]))
        if target.dtype == "index" or (target.dtype == "index_or_prob" and len(shape) == 1):
            if self.n_valid == 0:
                return None
            return _with_balance(LabelProfile("multiclass", {}, self.class_counts, self.n_valid))
        if self.spec.label_kind in ("binary", "multilabel") and bits:
            if len(shape) == 2:  # one column per label
                return _with_balance(LabelProfile("multilabel", {}, np.asarray(self.ones), shape[0]))
            return _with_balance(LabelProfile("binary", {}, np.array([self.ones]), math.prod(shape)))
        return None


def judge_mistakes(stats: MistakeStats, reduction: str, profile: LabelProfile | None = None) -> list[str]:
    """The classic mistakes of using ``stats.spec`` on the inputs ``stats`` took in, each with its fix.

    ``profile``, when it has class counts, judges the balance instead of the labels' own counts.
    """
    spec, params = stats.spec, stats.params
    found: list[str] = []
    target = spec.target_role
    values = stats.pred_values
    if values is not None and values.shape is not None and math.prod(values.shape):
        pred_profile = values.profile()
        message = _pred_mistake(spec, stats.expects, pred_profile.kind, pred_profile.evidence)
        if message:
            found.append(message)
    pred_shape, label_shape = stats.pred_shape, stats.label_shape
    column = pred_shape is not None and len(pred_shape) == 2 and pred_shape[1] == 1
    # pinball compares each row's label with each of the row's quantile columns: that is no mistake
    if column and label_shape is not None and len(label_shape) == 1 and spec.shape_rule != "quantiles":
        found.append(
            f"the predictions have shape ({pred_shape[0]}, 1) and the labels ({label_shape[0]},): torch would "
            f"broadcast them to ({pred_shape[0]}, {label_shape[0]}) and compare every prediction with every "
            "label; squeeze the predictions to one dimension"
        )
    if spec.name == "kl_div" and reduction == "mean":
        found.append(
            "kl_div with reduction 'mean' divides by every element (N·C), not by the N samples, so it is not "
            "the KL divergence; pass --reduction batchmean"
        )
    if label_shape is None or target is None or math.prod(label_shape) == 0:
        return found
    onehot = len(label_shape) == 2 and label_shape[1] > 1 and bool(stats.bits) and stats.zero_one
    onehot = onehot and stats.rows_of_one
    if onehot and target.dtype == "index":
        found.append(
            f"the labels are one-hot rows, but {spec.name} wants class indices: take the argmax of each row "
            "(one column of integers 0..C-1)"
        )
    if onehot and target.dtype == "index_or_prob" and params.get("weight") is not None:
        found.append(
            "one-hot rows are read as class probabilities: with -p weight the mean then divides by N, not by "
            "the summed weights of the targets as it does for class indices; give indices (argmax of each row) "
            "for the usual weighted mean"
        )
    ignore = stats.ignore
    is_index = target.dtype == "index" or (target.dtype == "index_or_prob" and len(label_shape) == 1)
    if is_index and stats.label_dtype.kind in "iuf":
        if ignore is not None and stats.kept == 0:
            found.append(
                f"every label equals ignore_index ({ignore}): nothing counts, so the mean is NaN; check the "
                "labels or the -p ignore_index value"
            )
        elif stats.kept and stats.kept_lo >= 1 and spec.shape_rule in ("class", "class4d"):
            found.append(
                f"no label is 0 (they run {_number(stats.kept_lo)}..{_number(stats.kept_hi)}): if the classes are "
                "numbered from 1, subtract 1 so that label k picks column k"
            )
    balance = profile if profile is not None and profile.counts is not None else stats.balance()
    if balance is not None:
        message = _imbalance_mistake(spec, balance, params)
        if message:
            found.append(message)
    return found


def find_mistakes(
    spec: LossSpec,
    pred: np.ndarray | None,
    labels: np.ndarray | None,
    params: dict[str, Any],
    reduction: str,
    profile: LabelProfile | None = None,
) -> list[str]:
    """The classic mistakes of using ``spec`` on these predictions and labels, each with its fix."""
    stats = MistakeStats(spec, params)
    stats.add(pred, labels)
    return judge_mistakes(stats, reduction, profile)
