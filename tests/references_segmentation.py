"""Independent references for the segmentation losses: MONAI's and kornia's own classes, numpy formulas of smp's.

Each ``*_monai`` / ``*_kornia`` calls the library's loss on the case's float64
tensors (by role name), configured as the losscli spec documents: the Dice
terms with ``softmax=True`` (``sigmoid=True`` with -p sigmoid=true or a single
channel), class-index targets one-hot encoded by MONAI's own
``to_onehot_y=True`` (given as (N, 1, d1, ...)). Autograd through the library
gives the reference gradients. Where losscli's ``none`` is one value per sample
and the library has no such output, the library is called on each sample
alone (a batch of one), which is what a per-sample loss means; ``mean`` is the
library's own ``mean`` on the whole batch.

segmentation_models_pytorch does not import beside this torch: ``jaccard_np``
and ``mcc_np`` are its JaccardLoss and MCCLoss written in numpy from its
source (losses/jaccard.py, losses/_functional.py ``soft_jaccard_score``,
losses/mcc.py), differentiated by finite differences; MONAI's
``DiceLoss(jaccard=True, batch=True)`` and ``MCCLoss(batch=True)`` and
scikit-learn's ``matthews_corrcoef`` cross-check them where they agree.
"""

from __future__ import annotations

import numpy as np
import torch
from kornia import losses as kl
from monai import losses as ml
from sklearn.metrics import matthews_corrcoef

try:
    from tests.references import finite_difference_gradient, reduce
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from references import finite_difference_gradient, reduce


def _monai_target(target: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """MONAI's target layout: one-hot masks as they are, class indices as (N, 1, d1, ...) with to_onehot_y."""
    if target.is_floating_point():
        return target, False
    return target.unsqueeze(1), True


def _activation(x: torch.Tensor, p: dict) -> dict:
    single = x.shape[1] == 1
    return {"sigmoid": bool(p.get("sigmoid", False)) or single, "softmax": not p.get("sigmoid", False) and not single}


def _per_sample(loss, x: torch.Tensor, y: torch.Tensor, reduction: str) -> torch.Tensor:
    """The library's mean on the batch, or its value on each sample alone for ``none``."""
    if reduction == "none":
        return torch.stack([loss(x[n : n + 1], y[n : n + 1]) for n in range(len(x))])
    return loss(x, y)


def dice_ce_monai(t, p, reduction):
    x = t["input"]
    y, onehot = _monai_target(t["target"])
    keys = ("lambda_dice", "lambda_ce", "include_background", "smooth_nr", "smooth_dr")
    loss = ml.DiceCELoss(to_onehot_y=onehot, **_activation(x, p), **{k: p[k] for k in keys if k in p})
    return _per_sample(loss, x, y, reduction)


def dice_focal_monai(t, p, reduction):
    x = t["input"]
    y, onehot = _monai_target(t["target"])
    keys = ("lambda_dice", "lambda_focal", "gamma", "include_background", "smooth_nr", "smooth_dr")
    loss = ml.DiceFocalLoss(to_onehot_y=onehot, **_activation(x, p), **{k: p[k] for k in keys if k in p})
    return _per_sample(loss, x, y, reduction)


def generalized_dice_monai(t, p, reduction):
    keys = ("w_type", "include_background", "smooth_nr", "smooth_dr")
    loss = ml.GeneralizedDiceLoss(reduction=reduction, **{k: p[k] for k in keys if k in p})
    out = loss(t["input"], t["target"])
    return out.reshape(len(t["input"])) if reduction == "none" else out


def soft_cldice_monai(t, p, reduction):
    keys = ("iter_", "smooth_nr", "smooth_dr", "smooth", "include_background")
    return ml.SoftclDiceLoss(reduction=reduction, **{k: p[k] for k in keys if k in p})(t["input"], t["target"])


def hausdorff_dt_monai(t, p, reduction):
    keys = ("alpha", "include_background")
    out = ml.HausdorffDTLoss(reduction=reduction, **{k: p[k] for k in keys if k in p})(t["input"], t["target"])
    return out.reshape(out.shape[:2]) if reduction == "none" else out


def jaccard_dice_monai(t, p, reduction):
    """MONAI's DiceLoss(jaccard=True, batch=True): per class over the batch, (2 TP + 2s) / (2 union + 2s) = smp's IoU
    when every class occurs in the targets (MONAI scores an absent class, smp zeroes it) and eps does not bind."""
    x = t["input"]
    y, onehot = _monai_target(t["target"])
    s = 2 * p.get("smooth", 0.0)
    loss = ml.DiceLoss(
        jaccard=True, batch=True, softmax=True, to_onehot_y=onehot, smooth_nr=s, smooth_dr=s, reduction=reduction
    )
    out = loss(x, y)
    return out.reshape(-1) if reduction == "none" else out


def lovasz_softmax_kornia(t, p, reduction):
    x, y = t["input"], t["target"]
    if reduction == "none":
        return torch.stack([kl.lovasz_softmax_loss(x[n : n + 1], y[n : n + 1]) for n in range(len(x))])
    mean = kl.lovasz_softmax_loss(x, y)
    return mean * len(x) if reduction == "sum" else mean


def lovasz_hinge_kornia(t, p, reduction):
    x, y = t["input"].unsqueeze(1), t["target"]
    if reduction == "none":
        return torch.stack([kl.lovasz_hinge_loss(x[n : n + 1], y[n : n + 1]) for n in range(len(x))])
    mean = kl.lovasz_hinge_loss(x, y)
    return mean * len(x) if reduction == "sum" else mean


def mcc_monai(t, p, reduction):
    """MONAI's MCCLoss pooled over the batch without smoothing: smp's formula with eps = 0."""
    x, y = t["input"].reshape(1, 1, -1), t["target"].reshape(1, 1, -1)
    return ml.MCCLoss(batch=True, smooth_nr=0.0, smooth_dr=0.0)(x, y)


# --- numpy formulas of segmentation_models_pytorch ---------------------------------------


def _softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def jaccard_np(a, p, reduction):
    """smp JaccardLoss(mode, from_logits=True, smooth, eps, log_loss): soft_jaccard_score over dims (0, 2), then the
    per-class losses zeroed where the class has no target pixel, then their mean (``none``: the per-class losses)."""
    x, target = a["input"], a["target"]
    mode, smooth, eps = p.get("mode", "multiclass"), p.get("smooth", 0.0), p.get("eps", 1e-7)
    n = len(x)
    if mode == "binary":
        y_pred, y_true = _sigmoid(x).reshape(n, 1, -1), target.reshape(n, 1, -1).astype(np.float64)
    elif mode == "multiclass":
        y_pred = _softmax(x).reshape(n, x.shape[1], -1)
        if target.shape == x.shape:
            y_true = target.reshape(y_pred.shape).astype(np.float64)
        else:
            y_true = np.moveaxis(np.eye(x.shape[1])[target.reshape(n, -1)], -1, 1)  # N, HW, C -> N, C, HW
    else:
        y_pred, y_true = _sigmoid(x).reshape(n, x.shape[1], -1), target.reshape(n, x.shape[1], -1)
    intersection = (y_pred * y_true).sum(axis=(0, 2))
    cardinality = (y_pred + y_true).sum(axis=(0, 2))
    union = cardinality - intersection
    scores = (intersection + smooth) / np.maximum(union + smooth, eps)
    loss = -np.log(np.maximum(scores, eps)) if p.get("log_loss") else 1.0 - scores
    loss = loss * (y_true.sum(axis=(0, 2)) > 0)
    return loss if reduction == "none" else reduce(loss, reduction)


def mcc_np(a, p, reduction):
    """smp MCCLoss(eps): the four soft counts over the whole batch, each plus eps; 1 - MCC."""
    x, y, eps = a["input"], a["target"], p.get("eps", 1e-5)
    tp = (x * y).sum() + eps
    tn = ((1 - x) * (1 - y)).sum() + eps
    fp = (x * (1 - y)).sum() + eps
    fn = ((1 - x) * y).sum() + eps
    return np.asarray(1.0 - (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))


def mcc_sklearn(a, p, reduction):
    """1 - scikit-learn's matthews_corrcoef of the hard 0/1 masks, pooled (the counts are exact for hard masks)."""
    return np.asarray(1.0 - matthews_corrcoef(a["target"].ravel().astype(int), a["input"].ravel().astype(int)))


def mcc_grad_fd(a, p, reduction):
    """Central differences of ``mcc_np``: sklearn's hard counts have no gradient of their own."""
    return {"input": finite_difference_gradient(lambda arrs: float(mcc_np(arrs, p, reduction)), a, "input")}
