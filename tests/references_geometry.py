"""Independent references for the segmentation, embedding and box losses torch.nn lacks.

Each takes float64 arrays ``a`` (by role name), the case's parameters ``p`` and
a reduction, and returns the per-sample (per-row, per-anchor, per-box) losses
or their reduction. Written in numpy from the source definitions — Keras'
``dice``/``tversky``/``cosine_similarity``/``circle`` (and Sun et al., 2020),
optax's ``cosine_distance``/``ntxent``, torchvision's IoU losses — never from
losscli's torch code. Keras' documented examples come out of them:
``dice_np`` gives [0.5, 0.757576] on ``keras.losses.Dice``'s (axis=(1, 2, 3)),
``cosine_similarity_np`` gives [-0, -1, 1] on ``CosineSimilarity``'s, and
``ntxent_np`` gives log 3 on ``optax.ntxent``'s.

* ``*_grad_np``: closed-form gradients (Dice, Tversky), exact where finite
  differences would be the weaker check.
* ``*_sklearn``: scikit-learn's ``f1_score`` and ``jaccard_score``, which are
  Dice and Tversky(α = β = 1) on hard 0/1 masks.
* ``ciou_grad_np``: torchvision's CIoU gradient holds α constant, so it is not
  the derivative of the value; it comes from complex-step differentiation of
  the value with α frozen at the unperturbed boxes (exact to rounding).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import f1_score, jaccard_score

try:
    from tests.references import reduce
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from references import reduce

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()
BOX_EPSILON = 1e-7  # torchvision's eps default


# --- Dice and Tversky -----------------------------------------------------------------


def _axes(x: np.ndarray, p: dict) -> tuple[int, ...]:
    return tuple(range(2 if p.get("per_class") else 1, x.ndim))


def _mean_count(x: np.ndarray, p: dict, reduction: str) -> int:
    """How many losses ``mean`` averages (samples, or samples × classes): the gradient's divisor."""
    if reduction != "mean":
        return 1
    return x.shape[0] * (x.shape[1] if p.get("per_class") else 1)


def _expand(values: np.ndarray, x: np.ndarray, p: dict) -> np.ndarray:
    """Per-sample (per-class) values broadcast back over the mask elements."""
    return values.reshape(values.shape + (1,) * (x.ndim - values.ndim))


def dice_np(a, p, reduction):
    """Keras' dice with axis over each sample's (and class's) elements, plus a smoothing term."""
    x, y, s = a["input"], a["target"], p.get("smooth", 0.0)
    axes = _axes(x, p)
    score = (2 * (x * y).sum(axis=axes) + s) / (x.sum(axis=axes) + y.sum(axis=axes) + s + KERAS_EPSILON)
    return reduce(1 - score, reduction)


def dice_grad_np(a, p, reduction):
    """d/dx of dice_np: -(2y·Den - Num) / Den², Num = 2Σxy + s, Den = Σx + Σy + s + 1e-7."""
    x, y, s = a["input"], a["target"], p.get("smooth", 0.0)
    axes = _axes(x, p)
    num = _expand(2 * (x * y).sum(axis=axes) + s, x, p)
    den = _expand(x.sum(axis=axes) + y.sum(axis=axes) + s + KERAS_EPSILON, x, p)
    return {"input": -(2 * y * den - num) / den**2 / _mean_count(x, p, reduction)}


def _tversky_parts(a, p):
    x, y, s = a["input"], a["target"], p.get("smooth", 0.0)
    alpha, beta = p.get("alpha", 0.5), p.get("beta", 0.5)
    axes = _axes(x, p)
    tp = (x * y).sum(axis=axes)
    fp = (x * (1 - y)).sum(axis=axes)  # predicted foreground where the mask has none
    fn = ((1 - x) * y).sum(axis=axes)  # mask foreground the prediction misses
    return tp + s, tp + alpha * fp + beta * fn + s + KERAS_EPSILON


def tversky_np(a, p, reduction):
    """1 - TP / (TP + α·FP + β·FN) per sample (Salehi et al., 2017; Keras' documented α/β roles)."""
    num, den = _tversky_parts(a, p)
    return reduce(1 - num / den, reduction)


def tversky_grad_np(a, p, reduction):
    """d/dx of tversky_np: dTP/dx = y, dFP/dx = 1 - y, dFN/dx = -y."""
    x, y = a["input"], a["target"]
    alpha, beta = p.get("alpha", 0.5), p.get("beta", 0.5)
    num, den = (_expand(v, x, p) for v in _tversky_parts(a, p))
    d_den = y + alpha * (1 - y) - beta * y
    return {"input": -(y * den - num * d_den) / den**2 / _mean_count(x, p, reduction)}


def _per_sample_metric(metric, a) -> np.ndarray:
    x, y = a["input"], a["target"]
    rows = zip(y.reshape(len(y), -1), x.reshape(len(x), -1), strict=True)
    return np.array([1 - metric(t.astype(int), q.astype(int), zero_division=0.0) for t, q in rows])


def dice_sklearn(a, p, reduction):
    """1 - F1 of each sample's hard mask: 2TP / (2TP + FP + FN) is Dice on 0/1 values."""
    return reduce(_per_sample_metric(f1_score, a), reduction)


def jaccard_sklearn(a, p, reduction):
    """1 - Jaccard index (IoU) of each sample's hard mask: Tversky with α = β = 1."""
    return reduce(_per_sample_metric(jaccard_score, a), reduction)


# --- cosines --------------------------------------------------------------------------


def cosine_similarity_np(a, p, reduction):
    """-Σ x̂·ŷ over the last axis, v̂ = v / max(|v|, 1e-7) (Keras 3's normalize)."""
    x, y = a["input"], a["target"]
    nx = np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), KERAS_EPSILON)
    ny = np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), KERAS_EPSILON)
    return reduce(-((x / nx) * (y / ny)).sum(axis=-1), reduction)


def cosine_distance_np(a, p, reduction):
    """optax: 1 - x·y / (sqrt(max(|x|², ε)) · sqrt(max(|y|², ε)))."""
    x, y, eps = a["input"], a["target"], p.get("epsilon", 0.0)
    nx = np.sqrt(np.maximum((x * x).sum(axis=-1), eps))
    ny = np.sqrt(np.maximum((y * y).sum(axis=-1), eps))
    return reduce(1 - (x * y).sum(axis=-1) / (nx * ny), reduction)


def _cosine_matrix(e: np.ndarray) -> np.ndarray:
    u = e / np.linalg.norm(e, axis=1, keepdims=True)
    return u @ u.T


# --- NT-Xent and Circle ---------------------------------------------------------------


def ntxent_np(a, p, reduction):
    """optax's ntxent, pair by pair: -log(e^{s_ij} / (e^{s_ij} + Σ_{k: label_k ≠ label_i} e^{s_ik})).

    ``none`` gives each anchor's sum over its positives, ``mean`` the mean over
    the ordered positive pairs.
    """
    e, labels, tau = a["embeddings"], a["labels"], p.get("temperature", 0.07)
    s = _cosine_matrix(e) / tau
    n = len(labels)
    per_anchor, pairs = np.zeros(n), 0
    for i in range(n):
        negatives = [k for k in range(n) if labels[k] != labels[i]]
        for j in range(n):
            if j == i or labels[j] != labels[i]:
                continue
            pairs += 1
            per_anchor[i] -= math.log(
                math.exp(s[i, j]) / (math.exp(s[i, j]) + sum(math.exp(s[i, k]) for k in negatives))
            )
    if reduction == "mean":
        return np.asarray(per_anchor.sum() / pairs)
    return reduce(per_anchor, reduction)


def circle_np(a, p, reduction):
    """Sun et al. (2020), eq. 6 with the cosine similarity s, as Keras' Circle parametrises it.

    L_i = log(1 + Σ_{k∈N(i)} exp(γ α_k (s_k - Δ_n)) · Σ_{j∈P(i)} exp(-γ α_j (s_j - Δ_p))),
    α_j = [O_p - s_j]_+, α_k = [s_k - O_n]_+, O_p = 1 + m, O_n = -m, Δ_p = 1 - m, Δ_n = m.
    ``mean`` averages the anchors that have a positive and a negative.
    """
    e, labels = a["embeddings"], a["labels"]
    gamma, m = p.get("gamma", 80.0), p.get("margin", 0.4)
    s = _cosine_matrix(e)
    n = len(labels)
    per_anchor, valid = np.zeros(n), 0
    for i in range(n):
        pos = [s[i, j] for j in range(n) if j != i and labels[j] == labels[i]]
        neg = [s[i, k] for k in range(n) if labels[k] != labels[i]]
        if not pos or not neg:
            continue
        valid += 1
        pos_logits = [-gamma * max(1 + m - sp, 0.0) * (sp - (1 - m)) for sp in pos]
        neg_logits = [gamma * max(sn + m, 0.0) * (sn - m) for sn in neg]
        lse = np.logaddexp.reduce(pos_logits) + np.logaddexp.reduce(neg_logits)
        per_anchor[i] = np.logaddexp(0.0, lse)  # log(1 + e^lse) without overflow
    if reduction == "mean":
        return np.asarray(per_anchor.sum() / valid)
    return reduce(per_anchor, reduction)


# --- boxes ----------------------------------------------------------------------------
# Written for real or complex arrays: comparisons look at the real parts, so the
# complex-step derivative of ciou goes through the same branches as the value.


def _max(u, v):
    return np.where(u.real >= v.real, u, v)


def _min(u, v):
    return np.where(u.real <= v.real, u, v)


def _iou(b, g, eps):
    """IoU = |A ∩ B| / (|A ∪ B| + eps) of box rows, the union, and the enclosing box's corners."""
    x1, y1, x2, y2 = b.T
    x1g, y1g, x2g, y2g = g.T
    w = _min(x2, x2g) - _max(x1, x1g)
    h = _min(y2, y2g) - _max(y1, y1g)
    inter = np.where((w.real > 0) & (h.real > 0), w * h, 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter / (union + eps), union, (_min(x1, x1g), _min(y1, y1g), _max(x2, x2g), _max(y2, y2g))


def giou_np(a, p, reduction):
    """torchvision: 1 - IoU + (|C| - |A ∪ B|) / (|C| + eps)."""
    eps = p.get("eps", BOX_EPSILON)
    iou, union, (xc1, yc1, xc2, yc2) = _iou(a["input"], a["target"], eps)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return reduce(1 - iou + (area_c - union) / (area_c + eps), reduction)


def _diou(b, g, eps):
    iou, _, (xc1, yc1, xc2, yc2) = _iou(b, g, eps)
    diag = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    center_b = ((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
    center_g = ((g[:, 0] + g[:, 2]) / 2, (g[:, 1] + g[:, 3]) / 2)
    rho = (center_b[0] - center_g[0]) ** 2 + (center_b[1] - center_g[1]) ** 2
    return 1 - iou + rho / diag, iou


def diou_np(a, p, reduction):
    """torchvision: 1 - IoU + ρ² / (c² + eps)."""
    return reduce(_diou(a["input"], a["target"], p.get("eps", BOX_EPSILON))[0], reduction)


def _ciou(b, g, eps, alpha=None):
    loss, iou = _diou(b, g, eps)
    v = (
        4
        / math.pi**2
        * (np.arctan((g[:, 2] - g[:, 0]) / (g[:, 3] - g[:, 1])) - np.arctan((b[:, 2] - b[:, 0]) / (b[:, 3] - b[:, 1])))
        ** 2
    )
    if alpha is None:
        alpha = v / (1 - iou + v + eps)
    return loss + alpha * v, alpha


def ciou_np(a, p, reduction):
    """torchvision: 1 - IoU + ρ² / (c² + eps) + α·v, v = 4/π² (atan(w_g/h_g) - atan(w/h))².

    α = v / (1 - IoU + v + eps).
    """
    return reduce(_ciou(a["input"], a["target"], p.get("eps", BOX_EPSILON))[0], reduction)


def ciou_grad_np(a, p, reduction, step=1e-30):
    """torchvision's CIoU gradient: α frozen (``torch.no_grad``), by complex steps f(x + ih) = f + ih·f' + O(h²)."""
    b, g, eps = a["input"], a["target"], p.get("eps", BOX_EPSILON)
    _, alpha = _ciou(b, g, eps)
    grad = np.zeros_like(b)
    for i in np.ndindex(b.shape):
        moved = b.astype(complex)
        moved[i] += 1j * step
        grad[i] = reduce(_ciou(moved, g, eps, alpha)[0], reduction).sum().imag / step
    return {"input": grad}
