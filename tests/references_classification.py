"""Numpy references for the classification and ranking losses torch.nn lacks, written from their sources.

Each follows its library's definition literally (Keras' clip of softmax
probabilities, optax's one-hot algebra, torchvision's p_t), in float64 and
independently of ``losscli.losses.classification``: where the torch code uses a
stable rewrite (log_softmax, expm1, a sort-based projection), the reference
uses the plain formula (softmax then log, powers, a bisection). Each takes the
arrays by role name, the parameters and a torch reduction, and returns the
per-element (or per-sample) losses or the reduced value.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import hinge_loss

try:
    from tests import references as ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references as ref

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()


def softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def one_hot_rows(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Targets as rows over axis 1: given rows as floats, class indices one-hot (np.eye)."""
    if t.shape == x.shape:
        return t.astype(np.float64)
    return np.moveaxis(np.eye(x.shape[1])[t.astype(np.int64)], -1, 1)


def keras_hinge_labels(y: np.ndarray) -> np.ndarray:
    """keras convert_binary_labels_to_hinge: 2y - 1 if every label is 0 or 1, else unchanged."""
    y = y.astype(np.float64)
    return 2.0 * y - 1.0 if np.isin(y, (0.0, 1.0)).all() else y


# --- margins ------------------------------------------------------------------------


def hinge_np(a, p, reduction):
    """Keras hinge: max(1 - y·x, 0) after the 0/1 → ±1 conversion."""
    y = keras_hinge_labels(a["target"])
    return ref.reduce(np.maximum(1.0 - y * a["input"], 0.0), reduction)


def squared_hinge_np(a, p, reduction):
    """Keras squared_hinge: square(max(1 - y·x, 0)) after the 0/1 → ±1 conversion."""
    y = keras_hinge_labels(a["target"])
    return ref.reduce(np.square(np.maximum(1.0 - y * a["input"], 0.0)), reduction)


def hinge_sklearn(a, p, reduction):
    """scikit-learn's hinge_loss on the flattened elements; one element at a time (a one-hot
    sample_weight) for ``none``, so the ±1 encoding is always fitted on all the labels."""
    x, y = a["input"].ravel(), a["target"].ravel()
    if reduction == "none":
        picks = np.eye(x.size)
        return np.array([hinge_loss(y, x, sample_weight=w) for w in picks]).reshape(a["input"].shape)
    mean = hinge_loss(y, x)
    return np.asarray(mean * x.size if reduction == "sum" else mean)


def categorical_hinge_np(a, p, reduction):
    """Keras categorical_hinge over the class axis: max(neg - pos + 1, 0), neg = max((1 - y)·x), pos = Σ y·x."""
    x = np.moveaxis(a["input"], 1, -1)
    y = np.moveaxis(one_hot_rows(a["input"], a["target"]), 1, -1)
    pos = np.sum(y * x, axis=-1)
    neg = np.max((1.0 - y) * x, axis=-1)
    return ref.reduce(np.maximum(neg - pos + 1.0, 0.0), reduction)


def multiclass_hinge_np(a, p, reduction):
    """optax multiclass_hinge_loss: max(x + 1 - onehot) - <x, onehot>."""
    x = np.moveaxis(a["input"], 1, -1)
    onehot = np.moveaxis(one_hot_rows(a["input"], a["target"]), 1, -1)
    return ref.reduce(np.max(x + 1.0 - onehot, axis=-1) - np.sum(x * onehot, axis=-1), reduction)


def multiclass_hinge_sklearn(a, p, reduction):
    """scikit-learn's Crammer–Singer hinge_loss with labels=range(C); per sample via a one-hot sample_weight."""
    x, y = a["input"], a["target"]
    labels = np.arange(x.shape[1])
    if reduction == "none":
        return np.array([hinge_loss(y, x, labels=labels, sample_weight=w) for w in np.eye(len(y))])
    mean = hinge_loss(y, x, labels=labels)
    return np.asarray(mean * len(y) if reduction == "sum" else mean)


def multiclass_hinge_kinks(a, params) -> float:
    """Distance to a tie between the two largest entries of x + 1 - onehot (where the max switches)."""
    x = np.moveaxis(a["input"], 1, -1)
    shifted = np.sort(x + 1.0 - np.moveaxis(one_hot_rows(a["input"], a["target"]), 1, -1), axis=-1)
    return float((shifted[..., -1] - shifted[..., -2]).min())


def categorical_hinge_kinks(a, params) -> float:
    """Distance to the hinge (neg - pos + 1 = 0) and to a tie in neg's max."""
    x = np.moveaxis(a["input"], 1, -1)
    y = np.moveaxis(one_hot_rows(a["input"], a["target"]), 1, -1)
    terms = np.sort((1.0 - y) * x, axis=-1)
    margin = terms[..., -1] - np.sum(y * x, axis=-1) + 1.0
    return float(min(np.abs(margin).min(), (terms[..., -1] - terms[..., -2]).min()))


def hinge_kinks(a, params) -> float:
    return float(np.abs(1.0 - keras_hinge_labels(a["target"]) * a["input"]).min())


def perceptron_np(a, p, reduction):
    """optax perceptron_loss: max(0, -x·y)."""
    return ref.reduce(np.maximum(0.0, -a["input"] * a["target"]), reduction)


def perceptron_kinks(a, params) -> float:
    return float(np.abs(a["input"]).min())


# --- cross-entropy family -----------------------------------------------------------


def sigmoid_focal_np(a, p, reduction):
    """torchvision sigmoid_focal_loss: BCE·(1 - p_t)^γ, times α_t when α >= 0."""
    x, y = a["input"], a["target"]
    alpha, gamma = p.get("alpha", 0.25), p.get("gamma", 2.0)
    prob = sigmoid(x)
    ce = -(y * ref.log_sigmoid(x) + (1.0 - y) * ref.log_sigmoid(-x))
    p_t = prob * y + (1.0 - prob) * (1.0 - y)
    loss = ce * (1.0 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss
    return ref.reduce(loss, reduction)


def softmax_focal_np(a, p, reduction, clip: float = KERAS_EPSILON):
    """Keras categorical_focal_crossentropy(from_logits=True), literally: smooth the labels, softmax,
    renormalise, clip to [1e-7, 1 - 1e-7], then Σ_c α·(1 - p_c)^γ·(-y_c·log p_c)."""
    x = np.moveaxis(a["input"], 1, -1)
    y = np.moveaxis(one_hot_rows(a["input"], a["target"]), 1, -1)
    alpha, gamma, smoothing = p.get("alpha", 0.25), p.get("gamma", 2.0), p.get("label_smoothing", 0.0)
    if smoothing:
        y = y * (1.0 - smoothing) + smoothing / x.shape[-1]
    output = softmax(x, axis=-1)
    output = output / output.sum(axis=-1, keepdims=True)
    output = np.clip(output, clip, 1.0 - clip)
    cce = -y * np.log(output)
    focal = np.power(1.0 - output, gamma) * alpha * cce
    return ref.reduce(focal.sum(axis=-1), reduction)


def softmax_focal_unclipped_np(a, p, reduction):
    """The same formula without Keras' clip of p, for saturated logits where the clip changes the value."""
    return softmax_focal_np(a, p, reduction, clip=0.0)


def generalized_cross_entropy_np(a, p, reduction):
    """Zhang & Sabuncu's L_q: (1 - p_y^q) / q with p = softmax over the classes."""
    q = p.get("q", 0.7)
    prob = softmax(a["input"], axis=1)
    p_y = np.take_along_axis(prob, a["target"].astype(np.int64)[:, None], axis=1)[:, 0]
    return ref.reduce((1.0 - p_y**q) / q, reduction)


def poly1_cross_entropy_np(a, p, reduction):
    """optax poly_loss_cross_entropy: softmax_cross_entropy + ε·Σ y·(1 - softmax(x))."""
    eps = p.get("epsilon", 2.0)
    x = a["input"]
    y = one_hot_rows(x, a["target"])
    prob = softmax(x, axis=1)
    cross_entropy = -(y * np.log(prob)).sum(axis=1)
    return ref.reduce(cross_entropy + eps * (y * (1.0 - prob)).sum(axis=1), reduction)


# --- sparsemax ----------------------------------------------------------------------


def simplex_threshold(z: np.ndarray) -> float:
    """τ with Σ_j max(z_j - τ, 0) = 1: bisection to locate the support, then τ exactly from it."""
    lo, hi = z.max() - 1.0, z.max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.maximum(z - mid, 0.0).sum() > 1.0:
            lo = mid
        else:
            hi = mid
    support = z > 0.5 * (lo + hi)
    return float((z[support].sum() - 1.0) / support.sum())


def sparsemax_np(a, p, reduction):
    """optax multiclass_sparsemax_loss: <p, z - z_y> + ½·(1 - <p, p>), p = projection of z onto the simplex."""
    x = np.moveaxis(a["input"], 1, -1)
    flat, labels = x.reshape(-1, x.shape[-1]), a["target"].astype(np.int64).reshape(-1)
    losses = []
    for z, y in zip(flat, labels, strict=True):
        proba = np.maximum(z - simplex_threshold(z), 0.0)
        losses.append(proba @ (z - z[y]) + 0.5 * (1.0 - proba @ proba))
    return ref.reduce(np.array(losses).reshape(x.shape[:-1]), reduction)


def sparse_plus(x: np.ndarray) -> np.ndarray:
    """jax.nn.sparse_plus: 0 for x <= -1, (x + 1)^2 / 4 for |x| < 1, x for x >= 1."""
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, (x + 1.0) ** 2 / 4.0))


def binary_sparsemax_np(a, p, reduction):
    """optax sparsemax_loss (binary) on the score difference x = z_1 - z_0: sparse_plus(y ? -x : x)."""
    z, y = a["input"], a["target"]
    x = z[:, 1] - z[:, 0]
    return ref.reduce(sparse_plus(np.where(y == 1, -x, x)), reduction)


def sparsemax_kinks(a, params) -> float:
    """Distance from each score to τ, where the support of sparsemax changes."""
    x = np.moveaxis(a["input"], 1, -1)
    flat = x.reshape(-1, x.shape[-1])
    return float(min(np.abs(z - simplex_threshold(z)).min() for z in flat))


# --- ranking ------------------------------------------------------------------------


def ranking_softmax_np(a, p, reduction):
    """optax ranking_softmax_loss: -Σ_i y_i·log(exp(s_i) / Σ_j exp(s_j)) per list, labels not normalised."""
    s, y = a["input"], a["target"]
    log_p = np.log(softmax(s, axis=-1))
    return ref.reduce(-(y * log_p).sum(axis=-1), reduction)


# --- optax multiclass_perceptron_loss and sparsemax_loss; scikit-learn brier_score_loss ----------------


def multiclass_perceptron_np(a, p, reduction):
    """optax multiclass_perceptron_loss: max(scores) - <scores, one_hot(labels)>, the classes on axis 1."""
    x = np.moveaxis(a["input"], 1, -1)
    one_hot = np.eye(x.shape[-1])[a["target"].astype(np.int64)]
    return ref.reduce(x.max(axis=-1) - (x * one_hot).sum(axis=-1), reduction)


def multiclass_perceptron_kinks(a, params) -> float:
    """The gap between the two top scores of each sample, where the max switches class."""
    x = np.sort(np.moveaxis(a["input"], 1, -1), axis=-1)
    return float((x[..., -1] - x[..., -2]).min())


def binary_sparsemax_optax_np(a, p, reduction):
    """optax sparsemax_loss: jax.nn.sparse_plus(where(labels, -logits, logits)), per element."""
    x, y = a["input"], a["target"]
    return ref.reduce(sparse_plus(np.where(y != 0, -x, x)), reduction)


def binary_sparsemax_as_multiclass_np(a, p, reduction):
    """The multi-class sparsemax loss (the bisection above) on two classes scored (0, x), labels y."""
    x, y = a["input"].reshape(-1), a["target"].reshape(-1)
    z = np.stack([np.zeros_like(x), x], axis=1)
    losses = sparsemax_np({"input": z, "target": y}, p, "none")
    return ref.reduce(losses.reshape(a["input"].shape), reduction)


def _sklearn_half(p):
    value = p.get("scale_by_half")
    return "auto" if value is None else value


def brier_sklearn(a, p, reduction):
    """scikit-learn's brier_score_loss itself: on every sample alone (``none``, ``sum``) or on all (``mean``)."""
    from sklearn.metrics import brier_score_loss

    x, y = a["input"], a["target"].astype(np.int64)
    binary = x.ndim == 1 or x.shape[1] == 1
    kwargs = {"scale_by_half": _sklearn_half(p)}
    if not binary:
        kwargs["labels"] = np.arange(x.shape[1])
    with warnings.catch_warnings():  # finite differences move a row's sum off 1, which scikit-learn warns of
        warnings.filterwarnings("ignore", "The y_prob values do not sum to one", UserWarning)
        if reduction == "mean":
            return np.asarray(brier_score_loss(y, x, **kwargs))
        per_row = np.array([brier_score_loss(y[i : i + 1], x[i : i + 1], **kwargs) for i in range(len(y))])
    return ref.reduce(per_row.reshape(x.shape if binary else x.shape[:1]), reduction)


def brier_np(a, p, reduction):
    """The definition (Brier, 1950; scikit-learn's user guide): Σ_c (p_c - o_c)² over both columns (1 - p, p)
    of binary input, or the C columns; halved for fewer than 3 columns unless scale_by_half says otherwise."""
    x, y = a["input"], a["target"].astype(np.int64)
    binary = x.ndim == 1 or x.shape[1] == 1
    probs = np.stack([1.0 - x.reshape(-1), x.reshape(-1)], axis=1) if binary else x
    outcome = np.eye(probs.shape[1])[y.reshape(-1)]
    losses = ((probs - outcome) ** 2).sum(axis=1)
    half = p.get("scale_by_half")
    if half is None:
        half = probs.shape[1] < 3
    if half:
        losses = 0.5 * losses
    return ref.reduce(losses.reshape(x.shape if binary else x.shape[:1]), reduction)
