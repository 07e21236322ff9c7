"""Reference cases for the segmentation losses of MONAI, smp and kornia (see ``lossref``).

The MONAI and kornia losses are checked against the library's own class or
function on the case's float64 tensors (``references_segmentation``), with
autograd through it for the gradient; smp's Jaccard and MCC losses, which do
not import here, against numpy formulas of its source with finite
differences, cross-checked by MONAI's ``DiceLoss(jaccard=True, batch=True)``
and ``MCCLoss(batch=True)`` and scikit-learn's ``matthews_corrcoef`` where
they agree. The data variants cover class-index and one-hot targets, a single
binary channel, classes absent from a sample or from the batch (MONAI's
borrowed generalized-Dice weight, smp's zeroed class), 2-D and 3-D images,
an all-background mask and hard 0/1 predictions.
"""

from __future__ import annotations

import numpy as np

try:
    from tests import references_segmentation as ref
    from tests.lossref import NAME_DRAWERS, NAME_KINKS, Case, N, Reference
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references_segmentation as ref
    from lossref import NAME_DRAWERS, NAME_KINKS, Case, N, Reference

CLASSES = 3


def library_ref(fn) -> Reference:
    return Reference(f"{fn.__module__.split('.')[-1]} {fn.__name__}, autograd through it", fn, torch_ops=True)


def numpy_fd(fn) -> Reference:
    return Reference(f"numpy {fn.__name__} (smp's formula), finite differences", fn)


DICE_CE = library_ref(ref.dice_ce_monai)
DICE_FOCAL = library_ref(ref.dice_focal_monai)
GDL = library_ref(ref.generalized_dice_monai)
CLDICE = library_ref(ref.soft_cldice_monai)
HAUSDORFF = library_ref(ref.hausdorff_dt_monai)
LOVASZ_SOFTMAX = library_ref(ref.lovasz_softmax_kornia)
LOVASZ_HINGE = library_ref(ref.lovasz_hinge_kornia)
JACCARD = numpy_fd(ref.jaccard_np)
JACCARD_MONAI = library_ref(ref.jaccard_dice_monai)
MCC = numpy_fd(ref.mcc_np)
MCC_MONAI = library_ref(ref.mcc_monai)
MCC_SKLEARN = Reference(
    "scikit-learn 1 - matthews_corrcoef on hard masks, finite differences of mcc_np",
    ref.mcc_sklearn,
    grad_fn=ref.mcc_grad_fd,
)


# --- inputs -------------------------------------------------------------------------


def _one_hot(index: np.ndarray, classes: int) -> np.ndarray:
    return np.moveaxis(np.eye(classes)[index], -1, 1)


def _labels(rng, classes, shape, absent) -> np.ndarray:
    """Class indices; ``absent``: the last class nowhere in the batch ("batch") or not in sample 0 ("sample")."""
    index = rng.integers(0, classes, shape)
    if absent == "batch":
        index[index == classes - 1] = 0
    elif absent == "sample":
        index[0][index[0] == classes - 1] = 0
    return index


def _draw_logits(spec, params, rng, classes=CLASSES, spatial=(2, 3), target="index", absent=None, **options):
    """Logits (N, C, *spatial) and class indices, one-hot masks, or (C = 1) a 0/1 mask shaped like the logits."""
    x = rng.normal(0.0, 1.5, (N, classes, *spatial))
    if classes == 1:
        return {"input": x, "target": (rng.uniform(size=x.shape) < 0.4).astype(np.float64)}
    index = _labels(rng, classes, (N, *spatial), absent)
    return {"input": x, "target": index if target == "index" else _one_hot(index, classes)}


def _draw_class_probs(spec, params, rng, classes=CLASSES, spatial=(2, 3), absent=None, **options):
    """Softmax probabilities (N, C, *spatial) and one-hot masks."""
    x = rng.normal(0.0, 1.5, (N, classes, *spatial))
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    return {"input": probs, "target": _one_hot(_labels(rng, classes, (N, *spatial), absent), classes)}


def _draw_images(spec, params, rng, spatial=(5, 5), samples=3, empty=False, **options):
    """Two-channel probabilities (N, 2, *spatial), none within 0.1 of 0.5 (the distance fields' threshold), and
    one-hot masks of a random blob; ``empty``: sample 0 all background (a distance field of zeros)."""
    u = rng.uniform(size=(samples, *spatial))
    foreground = np.where(u < 0.5, rng.uniform(0.05, 0.4, u.shape), rng.uniform(0.6, 0.95, u.shape))
    mask = (rng.uniform(size=u.shape) < 0.4).astype(np.float64)
    if empty:
        mask[0] = 0.0
    return {"input": np.stack([1 - foreground, foreground], axis=1), "target": np.stack([1 - mask, mask], axis=1)}


def _draw_binary(spec, params, rng, layout="image", pred="logits", target="hard", empty=False, **options):
    """One mask per sample: (N, 2, 3) logits (lovasz_hinge, jaccard binary), (N, C, 2, 3) per channel
    (jaccard multilabel) or (N, 8) probabilities (mcc), with 0/1 (or soft) masks."""
    shape = {"image": (N, 2, 3), "channels": (N, CLASSES, 2, 3), "flat": (N, 8)}[layout]
    y = (rng.uniform(size=shape) < 0.4).astype(np.float64)
    y.reshape(N, -1)[:, 0] = 1.0
    if empty:
        y[1] = 0.0
    if target == "soft":
        y = rng.uniform(0.0, 1.0, shape)
    if pred == "probs":
        x = rng.uniform(0.05, 0.95, shape)
    elif pred == "hard":
        x = (rng.uniform(size=shape) < 0.5).astype(np.float64)
    else:
        x = rng.normal(0.0, 1.5, shape)
    return {"input": x, "target": y}


def _draw_jaccard(spec, params, rng, **options):
    if params.get("mode", "multiclass") == "multiclass":
        return _draw_logits(spec, params, rng, **options)
    return _draw_binary(spec, params, rng, layout="image" if params["mode"] == "binary" else "channels", **options)


for _name in ("dice_ce", "dice_focal", "lovasz_softmax"):
    NAME_DRAWERS[_name] = _draw_logits
NAME_DRAWERS["generalized_dice"] = _draw_class_probs
NAME_DRAWERS["soft_cldice"] = NAME_DRAWERS["hausdorff_dt"] = _draw_images
NAME_DRAWERS["lovasz_hinge"] = NAME_DRAWERS["mcc"] = _draw_binary
NAME_DRAWERS["jaccard"] = _draw_jaccard


def _hinge_kinks(a, p) -> float:
    """The hinge's kink at error 0 (x = ±1 on the right side), and ties between the errors it sorts."""
    errors = np.sort((1 - a["input"] * (2 * a["target"] - 1)).reshape(len(a["input"]), -1), axis=1)
    return float(min(np.abs(errors).min(), 1000 * np.diff(errors, axis=1).min()))


def _softmax_ties(a, p) -> float:
    """Ties between a class's errors |softmax - one-hot| within an image: where the sort order (the kink) changes."""
    x, y = a["input"], a["target"]
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    errors = np.abs(probs - np.moveaxis(np.eye(x.shape[1])[y], -1, 1)).reshape(*x.shape[:2], -1)
    return float(np.diff(np.sort(errors, axis=2), axis=2).min()) * 1000  # finite differences: no ties within 1e-4


NAME_KINKS["lovasz_hinge"] = _hinge_kinks
NAME_KINKS["lovasz_softmax"] = _softmax_ties
NAME_KINKS["hausdorff_dt"] = lambda a, p: float(np.abs(a["input"] - 0.5).min())


CASES = [
    Case("dice_ce", "index_target", DICE_CE),
    Case("dice_ce", "onehot_target", DICE_CE, {}, {"target": "onehot"}),
    Case("dice_ce", "weighted", DICE_CE, {"lambda_dice": 0.3, "lambda_ce": 1.7}),
    Case("dice_ce", "sigmoid", DICE_CE, {"sigmoid": True}, {"target": "onehot"}),
    Case("dice_ce", "no_background", DICE_CE, {"include_background": False}, {"absent": "sample"}),
    Case("dice_ce", "smooth_absent_class", DICE_CE, {"smooth_nr": 0.5, "smooth_dr": 2.0}, {"absent": "sample"}),
    Case("dice_ce", "single_channel", DICE_CE, {}, {"classes": 1}),
    Case("dice_ce", "volume", DICE_CE, {}, {"spatial": (2, 2, 3)}),
    Case("dice_focal", "index_target", DICE_FOCAL),
    Case("dice_focal", "weighted_gamma", DICE_FOCAL, {"lambda_dice": 0.4, "lambda_focal": 2.5, "gamma": 0.5}),
    Case("dice_focal", "sigmoid_onehot", DICE_FOCAL, {"sigmoid": True}, {"target": "onehot"}),
    Case("dice_focal", "no_background", DICE_FOCAL, {"include_background": False}),
    Case("dice_focal", "smooth_absent_class", DICE_FOCAL, {"smooth_nr": 1.0, "smooth_dr": 0.5}, {"absent": "sample"}),
    Case("dice_focal", "single_channel", DICE_FOCAL, {"gamma": 1.0}, {"classes": 1}),
    Case("generalized_dice", "square", GDL),
    Case("generalized_dice", "absent_class_borrows_weight", GDL, {}, {"absent": "sample"}),
    Case("generalized_dice", "simple", GDL, {"w_type": "simple"}, {"absent": "sample"}),
    Case("generalized_dice", "uniform", GDL, {"w_type": "uniform"}),
    Case("generalized_dice", "no_background", GDL, {"include_background": False}, {"classes": 4}),
    Case("generalized_dice", "smooth", GDL, {"smooth_nr": 0.5, "smooth_dr": 1.5}, {"absent": "batch"}),
    Case("jaccard", "multiclass_index", JACCARD),
    Case("jaccard", "multiclass_onehot_absent_class", JACCARD, {}, {"target": "onehot", "absent": "batch"}),
    Case("jaccard", "monai_jaccard_dice", JACCARD_MONAI),
    Case("jaccard", "monai_jaccard_dice_smooth", JACCARD_MONAI, {"smooth": 1.0}),
    Case("jaccard", "smooth", JACCARD, {"smooth": 1.0}, {"absent": "batch"}),
    Case("jaccard", "log_loss", JACCARD, {"log_loss": True}),
    Case("jaccard", "eps_floors_the_union", JACCARD, {"eps": 40.0}),
    Case("jaccard", "binary", JACCARD, {"mode": "binary"}),
    Case("jaccard", "multilabel", JACCARD, {"mode": "multilabel"}),
    Case("lovasz_softmax", "index_target", LOVASZ_SOFTMAX),
    Case("lovasz_softmax", "absent_class", LOVASZ_SOFTMAX, {}, {"absent": "batch", "classes": 4}),
    Case("lovasz_softmax", "two_classes_larger", LOVASZ_SOFTMAX, {}, {"classes": 2, "spatial": (3, 4)}),
    Case("lovasz_hinge", "image", LOVASZ_HINGE),
    Case("lovasz_hinge", "empty_mask", LOVASZ_HINGE, {}, {"empty": True}),
    Case("mcc", "soft_pred", MCC, {}, {"layout": "flat", "pred": "probs"}),
    Case("mcc", "soft_target", MCC, {}, {"layout": "image", "pred": "probs", "target": "soft"}),
    Case("mcc", "large_eps", MCC, {"eps": 0.5}, {"layout": "flat", "pred": "probs"}),
    Case("mcc", "monai_batch_no_eps", MCC_MONAI, {"eps": 0.0}, {"layout": "flat", "pred": "probs"}),
    Case("mcc", "sklearn_hard", MCC_SKLEARN, {"eps": 0.0}, {"layout": "flat", "pred": "hard"}),
    Case("soft_cldice", "image", CLDICE),
    Case("soft_cldice", "one_iteration", CLDICE, {"iter_": 1}),
    Case("soft_cldice", "smoothing", CLDICE, {"smooth_nr": 0.5, "smooth_dr": 0.2, "smooth": 0.1}),
    Case("soft_cldice", "no_background", CLDICE, {"include_background": False}, {"spatial": (6, 5)}),
    Case("soft_cldice", "volume", CLDICE, {}, {"spatial": (3, 4, 4), "samples": 2}),
    Case("hausdorff_dt", "image", HAUSDORFF),
    Case("hausdorff_dt", "with_background", HAUSDORFF, {"include_background": True}),
    Case("hausdorff_dt", "alpha_one", HAUSDORFF, {"alpha": 1.0}),
    Case("hausdorff_dt", "empty_mask", HAUSDORFF, {}, {"empty": True}),
    Case("hausdorff_dt", "volume", HAUSDORFF, {"alpha": 1.5}, {"spatial": (3, 4, 4), "samples": 2}),
]
