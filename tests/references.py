"""Independent references for every loss: PyTorch's own test formulas and plain numpy.

Two kinds of reference live here:

* ``TORCH_REFS``: ``torch.testing._internal.common_nn.loss_reference_fns``, the
  formulas PyTorch's test suite checks its losses against. They are written with
  elementary torch ops (loops, ``clamp``, ``log``), not with the loss kernels, so
  autograd through them is an independent gradient too.
* numpy formulas (``*_np``) for the losses torch's suite has no reference for, and
  as a second opinion on a few that it has. Each takes float64 arrays and returns
  the per-element losses (or the reduced value); gradients come from
  ``finite_difference_gradient``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np


def _load_torch_reference_fns() -> dict[str, Callable]:
    """Import torch's reference table; its module parses ``sys.argv`` at import time."""
    argv = sys.argv
    sys.argv = [argv[0]]
    try:
        from torch.testing._internal.common_nn import loss_reference_fns
    finally:
        sys.argv = argv
    return dict(loss_reference_fns)


TORCH_REFS = _load_torch_reference_fns()


def reduce(losses: np.ndarray, reduction: str, batch: int | None = None) -> np.ndarray:
    """Apply a torch reduction to per-element losses (``batchmean`` divides by the batch size)."""
    if reduction == "mean":
        return np.asarray(losses.mean())
    if reduction == "sum":
        return np.asarray(losses.sum())
    if reduction == "batchmean":
        return np.asarray(losses.sum() / (batch if batch is not None else losses.shape[0]))
    if reduction == "none":
        return losses
    raise ValueError(reduction)


def finite_difference_gradient(
    f: Callable[[dict[str, np.ndarray]], float], arrays: dict[str, np.ndarray], name: str, step: float = 1e-6
) -> np.ndarray:
    """Central differences of the scalar ``f(arrays)`` with respect to ``arrays[name]``, in float64."""
    base = {k: np.array(v, copy=True) for k, v in arrays.items()}
    x = base[name]
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        keep = x[i]
        x[i] = keep + step
        up = f(base)
        x[i] = keep - step
        down = f(base)
        x[i] = keep
        grad[i] = (up - down) / (2 * step)
    return grad


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log σ(x) = -log(1 + exp(-x)), stable for large |x|."""
    return -np.logaddexp(0.0, -x)


def log_softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# --- regression -------------------------------------------------------------------


def l1_np(a, p, reduction):
    return reduce(np.abs(a["input"] - a["target"]), reduction)


def squared_error_np(a, p, reduction):
    """mse and l2 alike: (x - y)^2, reduced as asked (l2 only changes the default reduction)."""
    return reduce((a["input"] - a["target"]) ** 2, reduction)


def poisson_nll_np(a, p, reduction):
    """exp(x) - y·x (log_input) or x - y·log(x + eps).

    ``full`` adds Stirling's term y·log y - y + ½·log(2πy) where y > 1.
    """
    x, y = a["input"], a["target"]
    loss = np.exp(x) - y * x if p.get("log_input", True) else x - y * np.log(x + p.get("eps", 1e-8))
    if p.get("full", False):
        safe = np.where(y > 1, y, 2.0)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe)
        loss = loss + np.where(y > 1, stirling, 0.0)
    return reduce(loss, reduction)


def gaussian_nll_np(a, p, reduction):
    """½·(log v + (x - y)²/v) with v = max(var, eps); var may be (N, 1) or (N,); ``full`` adds ½·log 2π."""
    x, y, var = a["input"], a["target"], a["var"]
    if var.shape == x.shape[:-1]:
        var = var[..., None]
    v = np.maximum(var, p.get("eps", 1e-6))
    loss = 0.5 * (np.log(v) + (x - y) ** 2 / v)
    if p.get("full", False):
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(np.broadcast_to(loss, x.shape), reduction)


def gaussian_nll_grad_np(a, p, reduction):
    """Closed-form gradients of ``gaussian_nll_np`` (summed for ``none``), with torch's documented convention:
    the clamp of var to eps is ignored by autograd, so d/dvar is ½·(1/v - (x - y)²/v²) at v = max(var, eps)."""
    x, y, var = a["input"], a["target"], a["var"]
    v = np.maximum(var[..., None] if var.shape == x.shape[:-1] else var, p.get("eps", 1e-6))
    scale = 1.0 / x.size if reduction == "mean" else 1.0
    d_var = np.broadcast_to(0.5 * (1 / v - (x - y) ** 2 / v**2) * scale, x.shape)
    if var.shape != x.shape:
        d_var = d_var.sum(axis=-1, keepdims=var.ndim == x.ndim)
    return {"input": (x - y) / v * scale, "var": d_var}


# --- classification -----------------------------------------------------------------


def bce_np(a, p, reduction):
    """-w·[y·log x + (1 - y)·log(1 - x)], each log clamped at -100 as torch does."""
    x, y = a["input"], a["target"]
    w = np.asarray(p["weight"]) if p.get("weight") is not None else 1.0
    loss = -w * (y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
    return reduce(loss, reduction)


def bce_with_logits_np(a, p, reduction):
    """-w·[pos_weight·y·log σ(x) + (1 - y)·log σ(-x)]."""
    x, y = a["input"], a["target"]
    w = np.asarray(p["weight"]) if p.get("weight") is not None else 1.0
    pw = np.asarray(p["pos_weight"]) if p.get("pos_weight") is not None else 1.0
    loss = -w * (pw * y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x))
    return reduce(loss, reduction)


def multilabel_soft_margin_np(a, p, reduction):
    """Per sample: -1/C·Σ_c w_c·[y·log σ(x) + (1 - y)·log σ(-x)]; then reduced over N."""
    x, y = a["input"], a["target"]
    w = np.asarray(p["weight"]) if p.get("weight") is not None else 1.0
    per_class = -w * (y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x))
    return reduce(per_class.mean(axis=1), reduction)


def cross_entropy_np(a, p, reduction):
    """Cross entropy on logits over axis 1, with torch's conventions.

    Index targets: l_n = (1 - ε)·w_{y_n}·(-log p_{n,y_n}) + ε/C·Σ_c w_c·(-log p_{n,c}); ignored
    samples are 0, and the mean divides by Σ_n w_{y_n} over the samples not ignored.
    Probability targets: t' = (1 - ε)·t + ε/C, l_n = -Σ_c w_c·t'_c·log p_{n,c}; the mean divides by N.
    """
    x, t = a["input"], a["target"]
    n_classes = x.shape[1]
    eps = p.get("label_smoothing", 0.0)
    w = np.asarray(p["weight"], dtype=np.float64) if p.get("weight") is not None else np.ones(n_classes)
    wb = w.reshape((1, n_classes) + (1,) * (x.ndim - 2))
    logp = log_softmax(x, axis=1)
    if t.shape == x.shape:
        t = (1 - eps) * t + eps / n_classes
        return reduce(-(wb * t * logp).sum(axis=1), reduction)
    t = t.astype(np.int64)
    keep = t != p.get("ignore_index", -100)
    safe_t = np.where(keep, t, 0)
    picked = np.take_along_axis(logp, safe_t[:, None], axis=1)[:, 0]
    w_t = w[safe_t] * keep
    loss = (1 - eps) * w_t * -picked + eps / n_classes * -(wb * logp).sum(axis=1) * keep
    if reduction == "mean":
        return np.asarray(loss.sum() / w_t.sum())
    return reduce(loss, reduction)


def kl_div_np(a, p, reduction):
    """y·(log y - x) with 0·log 0 = 0; with log_target: exp(y)·(y - x)."""
    x, y = a["input"], a["target"]
    if p.get("log_target", False):
        loss = np.exp(y) * (y - x)
    else:
        loss = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - x), 0.0)
    return reduce(loss, reduction, batch=x.shape[0])


# --- embedding ----------------------------------------------------------------------


def pairwise_distance_np(u: np.ndarray, v: np.ndarray, p: float = 2.0, eps: float = 1e-6) -> np.ndarray:
    """||u - v + eps||_p per row, as torch.nn.PairwiseDistance."""
    return (np.abs(u - v + eps) ** p).sum(axis=-1) ** (1.0 / p)


def cosine_distance_np(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """1 - cos(u, v) per row."""
    return 1.0 - (u * v).sum(axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))


def _triplet(a, margin, swap, distance, reduction):
    d_p = distance(a["anchor"], a["positive"])
    d_n = distance(a["anchor"], a["negative"])
    if swap:
        d_n = np.minimum(d_n, distance(a["positive"], a["negative"]))
    return reduce(np.maximum(margin + d_p - d_n, 0.0), reduction)


def triplet_margin_np(a, p, reduction):
    """max(0, margin + ||a - p + eps||_p - ||a - n + eps||_p), with the optional distance swap."""
    power, eps = p.get("p", 2.0), p.get("eps", 1e-6)
    return _triplet(
        a, p.get("margin", 1.0), p.get("swap", False), lambda u, v: pairwise_distance_np(u, v, power, eps), reduction
    )


def triplet_margin_with_distance_np(a, p, reduction):
    """max(0, margin + d(a, p) - d(a, n)), d Euclidean (PairwiseDistance) or 1 - cosine."""
    distance = cosine_distance_np if p.get("distance", "pairwise") == "cosine" else pairwise_distance_np
    return _triplet(a, p.get("margin", 1.0), p.get("swap", False), distance, reduction)


# --- PyTorch's own references, adapted to (tensors by role, params, reduction) --------


def _weight(p, like):
    import torch

    w = p.get("weight")
    return None if w is None else torch.tensor(w, dtype=like.dtype)


def cross_entropy_torch(t, p, reduction):
    return TORCH_REFS["CrossEntropyLoss"](
        t["input"],
        t["target"],
        weight=_weight(p, t["input"]),
        ignore_index=p.get("ignore_index", -100),
        reduction=reduction,
        label_smoothing=p.get("label_smoothing", 0.0),
    )


def nll_torch(t, p, reduction):
    key = "NLLLoss" if t["input"].dim() == 2 else "NLLLossNd"
    return TORCH_REFS[key](
        t["input"],
        t["target"],
        weight=_weight(p, t["input"]),
        ignore_index=p.get("ignore_index", -100),
        reduction=reduction,
    )


def kl_div_torch(t, p, reduction):
    key = "KLDivLoss_log_target" if p.get("log_target", False) else "KLDivLoss"
    return TORCH_REFS[key](t["input"], t["target"], reduction=reduction)


def smooth_l1_torch(t, p, reduction):
    return TORCH_REFS["SmoothL1Loss"](t["input"], t["target"], reduction=reduction, beta=p.get("beta", 1.0))


def huber_torch(t, p, reduction):
    return TORCH_REFS["HuberLoss"](t["input"], t["target"], reduction=reduction, delta=p.get("delta", 1.0))


def multilabel_margin_torch(t, p, reduction):
    return TORCH_REFS["MultiLabelMarginLoss"](t["input"], t["target"], reduction=reduction)


def hinge_embedding_torch(t, p, reduction):
    return TORCH_REFS["HingeEmbeddingLoss"](t["input"], t["target"], margin=p.get("margin", 1.0), reduction=reduction)


def soft_margin_torch(t, p, reduction):
    return TORCH_REFS["SoftMarginLoss"](t["input"], t["target"], reduction=reduction)


def multi_margin_torch(t, p, reduction):
    return TORCH_REFS["MultiMarginLoss"](
        t["input"],
        t["target"],
        p=p.get("p", 1),
        margin=p.get("margin", 1.0),
        weight=_weight(p, t["input"]),
        reduction=reduction,
    )


def cosine_embedding_torch(t, p, reduction):
    return TORCH_REFS["CosineEmbeddingLoss"](
        t["input1"], t["input2"], t["target"], margin=p.get("margin", 0.0), reduction=reduction
    )


def triplet_margin_torch(t, p, reduction):
    return TORCH_REFS["TripletMarginLoss"](
        t["anchor"],
        t["positive"],
        t["negative"],
        margin=p.get("margin", 1.0),
        p=p.get("p", 2.0),
        eps=p.get("eps", 1e-6),
        swap=p.get("swap", False),
        reduction=reduction,
    )


def margin_ranking_torch(t, p, reduction):
    return TORCH_REFS["MarginRankingLoss"](
        t["input1"], t["input2"], t["target"], margin=p.get("margin", 0.0), reduction=reduction
    )


def ctc_torch(t, p, reduction):
    """Graves' alpha recursion from torch's suite; lengths default as losscli documents.

    With zero_infinity the reference runs per sample and replaces an infinite loss
    (an input too short for its labels) by a constant 0, as torch documents.
    """
    import torch

    lp, targets = t["log_probs"], t["targets"]
    steps, batch, _ = lp.shape
    in_len = t.get("input_lengths", torch.full((batch,), steps, dtype=torch.long))
    tg_len = t.get("target_lengths")
    if tg_len is None:
        tg_len = torch.full((batch,), targets.shape[-1], dtype=torch.long)
    ref, blank = TORCH_REFS["CTCLoss"], p.get("blank", 0)
    if not p.get("zero_infinity", False):
        return ref(lp, targets, in_len, tg_len, blank=blank, reduction=reduction)
    ends = torch.cumsum(tg_len, 0)
    losses = []
    for i in range(batch):
        length = int(tg_len[i])
        row = targets[i : i + 1, :length] if targets.dim() == 2 else targets[int(ends[i]) - length : int(ends[i])]
        loss = ref(lp[:, i : i + 1], row, in_len[i : i + 1], tg_len[i : i + 1], blank=blank, reduction="none")[0]
        losses.append(loss if torch.isfinite(loss) else lp.new_zeros(()))
    out = torch.stack(losses)
    if reduction == "mean":
        return (out / tg_len.clamp(min=1).to(out.dtype)).mean()
    return out.sum() if reduction == "sum" else out
