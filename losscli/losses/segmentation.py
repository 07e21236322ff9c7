"""Segmentation losses of MONAI, segmentation_models_pytorch and kornia, in torch ops so autograd gives their gradients.

MONAI's Dice + cross entropy, Dice + focal, generalized Dice, soft clDice and
distance-transform Hausdorff losses; smp's soft Jaccard (IoU) and MCC losses;
the Lovász-softmax and Lovász hinge losses of Berman et al. (2018) as kornia
computes them. Multi-class inputs are (N, C, d1, ...) with the classes on axis
1, as these libraries take them; class-index targets (N, d1, ...) are turned
into one-hot masks. Each function takes its tensors positionally in the order
of its spec's roles, ``reduction`` and its parameters as keywords.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from losscli.losses import per_sample_mean, reduce


def _one_hot(target: torch.Tensor, input: torch.Tensor) -> torch.Tensor:
    """Class indices (N, d1, ...) as one-hot masks shaped like ``input`` (N, C, d1, ...); masks as they are."""
    if target.is_floating_point():
        return target.to(input.dtype)
    return F.one_hot(target, input.shape[1]).movedim(-1, 1).to(input.dtype)


def _activate(input: torch.Tensor, sigmoid: bool) -> torch.Tensor:
    """Probabilities from logits: a softmax over the classes (axis 1), or a sigmoid per channel (always for C = 1)."""
    if sigmoid or input.shape[1] == 1:
        return torch.sigmoid(input)
    return torch.softmax(input, dim=1)


def _drop_background(*tensors: torch.Tensor, include_background: bool) -> tuple[torch.Tensor, ...]:
    """Without channel 0 unless ``include_background`` (or there is a single channel, as MONAI keeps it)."""
    if include_background or tensors[0].shape[1] == 1:
        return tensors
    return tuple(t[:, 1:] for t in tensors)


def _spatial_sum(x: torch.Tensor) -> torch.Tensor:
    """Σ over the spatial axes 2, ...: (N, C, d1, ...) to (N, C)."""
    return x.reshape(*x.shape[:2], -1).sum(dim=2)


def _soft_dice(p: torch.Tensor, y: torch.Tensor, smooth_nr: float, smooth_dr: float) -> torch.Tensor:
    """MONAI's DiceLoss per sample and class: 1 - (2 Σ p·y + smooth_nr) / (Σ p + Σ y + smooth_dr), shape (N, C)."""
    return 1 - (2 * _spatial_sum(p * y) + smooth_nr) / (_spatial_sum(p) + _spatial_sum(y) + smooth_dr)


def dice_ce(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    lambda_dice: float = 1.0,
    lambda_ce: float = 1.0,
    sigmoid: bool = False,
    include_background: bool = True,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    reduction: str = "mean",
) -> torch.Tensor:
    """Dice plus cross entropy per sample, as ``monai.losses.DiceCELoss(softmax=True)`` (or ``sigmoid=True``).

    l_n = λ_dice · mean_c Dice_{n,c} + λ_ce · mean over the sample's pixels of
    the cross entropy (binary with logits for a single channel).

    Args:
      input: logits (N, C, d1, ...).
      target: class indices (N, d1, ...) or one-hot masks shaped like input.
      lambda_dice, lambda_ce: the weights of the two terms.
      sigmoid: Dice on a sigmoid per channel instead of the softmax over the
        classes (the cross entropy is MONAI's either way: softmax for C > 1).
      include_background: keep channel 0 in the Dice term (MONAI's cross
        entropy always keeps it).
      smooth_nr, smooth_dr: added to the Dice numerator and denominator.
      reduction: ``none`` (one value per sample), or ``mean`` over them.
    """
    y = _one_hot(target, input)
    p, yd = _drop_background(_activate(input, sigmoid), y, include_background=include_background)
    dice = _soft_dice(p, yd, smooth_nr, smooth_dr).mean(dim=1)
    if input.shape[1] == 1:
        ce = per_sample_mean(F.binary_cross_entropy_with_logits(input, y, reduction="none"))
    else:
        ce = per_sample_mean(-(y * F.log_softmax(input, dim=1)).sum(dim=1))
    return reduce(lambda_dice * dice + lambda_ce * ce, reduction)


def sigmoid_focal(input: torch.Tensor, target: torch.Tensor, gamma: float) -> torch.Tensor:
    """MONAI's sigmoid focal loss per element: (1 - p_t)^γ · BCE, with (1 - p_t) = sigmoid(-x·(2y - 1))."""
    bce = F.binary_cross_entropy_with_logits(input, target, reduction="none")
    return torch.exp(gamma * F.logsigmoid(-input * (2 * target - 1))) * bce


def dice_focal(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    lambda_dice: float = 1.0,
    lambda_focal: float = 1.0,
    gamma: float = 2.0,
    sigmoid: bool = False,
    include_background: bool = True,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    reduction: str = "mean",
) -> torch.Tensor:
    """Dice plus sigmoid focal loss per sample, as ``monai.losses.DiceFocalLoss(softmax=True)``.

    l_n = λ_dice · mean_c Dice_{n,c} + λ_focal · mean over the sample's
    channels and pixels of (1 - p_t)^γ · BCE(x, y); its mean over the samples
    is MONAI's ``mean`` (the focal term averaged over every element).

    Args:
      input: logits (N, C, d1, ...).
      target: class indices (N, d1, ...) or one-hot masks shaped like input.
      lambda_dice, lambda_focal: the weights of the two terms.
      gamma: the focal exponent γ (0 is binary cross entropy).
      sigmoid: Dice on a sigmoid per channel instead of the softmax.
      include_background: keep channel 0 in both terms.
      smooth_nr, smooth_dr: added to the Dice numerator and denominator.
      reduction: ``none`` (one value per sample), or ``mean`` over them.
    """
    y = _one_hot(target, input)
    p, x, yd = _drop_background(_activate(input, sigmoid), input, y, include_background=include_background)
    dice = _soft_dice(p, yd, smooth_nr, smooth_dr).mean(dim=1)
    focal = per_sample_mean(sigmoid_focal(x, yd, gamma))
    return reduce(lambda_dice * dice + lambda_focal * focal, reduction)


def generalized_dice(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    w_type: str = "square",
    include_background: bool = True,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    reduction: str = "mean",
) -> torch.Tensor:
    """Generalized Dice loss per sample (Sudre et al., 2017), as ``monai.losses.GeneralizedDiceLoss``.

    l_n = 1 - (2 Σ_c w_c Σ p·y + smooth_nr) / (Σ_c w_c (Σ p + Σ y) + smooth_dr),
    w_c = 1 / (Σ y)² (``square``), 1 / Σ y (``simple``) or 1 (``uniform``); a
    class absent from the sample's target takes the sample's largest weight.

    Args:
      input: probabilities (N, C, d1, ...).
      target: one-hot masks shaped like input.
      w_type: ``square``, ``simple`` or ``uniform``.
      include_background: keep channel 0.
      smooth_nr, smooth_dr: added to the numerator and denominator.
      reduction: ``none`` (one value per sample), ``sum`` or ``mean``.
    """
    p, y = _drop_background(input, target.to(input.dtype), include_background=include_background)
    tp, volume = _spatial_sum(p * y), _spatial_sum(y)
    denominator = _spatial_sum(p) + volume
    with torch.no_grad():
        if w_type == "square":
            w = volume.reciprocal() ** 2
        elif w_type == "simple":
            w = volume.reciprocal()
        else:
            w = torch.ones_like(volume)
        absent = torch.isinf(w)
        w = torch.where(absent, torch.zeros_like(w), w)
        w = torch.where(absent, w.amax(dim=1, keepdim=True), w)
    numer = 2 * (tp * w).sum(dim=1) + smooth_nr
    denom = (denominator * w).sum(dim=1) + smooth_dr
    return reduce(1 - numer / denom, reduction)


def jaccard(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    mode: str = "multiclass",
    smooth: float = 0.0,
    eps: float = 1e-7,
    log_loss: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    """Soft Jaccard (IoU) loss of the whole batch per class, as ``segmentation_models_pytorch.losses.JaccardLoss``.

    IoU_c = (Σ p·y + smooth) / max(Σ p + Σ y - Σ p·y + smooth, eps), sums over
    the batch and the pixels; l_c = 1 - IoU_c (or -log max(IoU_c, eps) with
    ``log_loss``), 0 for a class absent from the batch's targets; the loss is
    the mean over the classes.

    Args:
      input: logits: (N, C, d1, ...) for ``multiclass`` (softmax) and
        ``multilabel`` (a sigmoid per channel), (N, d1, ...) for ``binary``.
      target: class indices (N, d1, ...) or one-hot masks for ``multiclass``;
        0/1 masks shaped like input otherwise.
      mode: ``multiclass``, ``multilabel`` or ``binary``, as smp's.
      smooth: added to the intersection and the union.
      eps: the floor of the union (and of the IoU with ``log_loss``).
      log_loss: -log IoU instead of 1 - IoU.
      reduction: ``none`` (one value per class), or ``mean`` over the classes.
    """
    if mode == "binary":
        p, y = torch.sigmoid(input).reshape(len(input), 1, -1), target.to(input.dtype).reshape(len(input), 1, -1)
    else:
        y = _one_hot(target, input) if mode == "multiclass" else target.to(input.dtype)
        p = torch.softmax(input, dim=1) if mode == "multiclass" else torch.sigmoid(input)
        p, y = p.reshape(*p.shape[:2], -1), y.reshape(*y.shape[:2], -1)
    intersection = (p * y).sum(dim=(0, 2))
    union = (p + y).sum(dim=(0, 2)) - intersection
    score = (intersection + smooth) / (union + smooth).clamp_min(eps)
    loss = -torch.log(score.clamp_min(eps)) if log_loss else 1 - score
    loss = torch.where(y.sum(dim=(0, 2)) > 0, loss, torch.zeros_like(loss))
    return reduce(loss, reduction)


def _lovasz_grad(sorted_target: torch.Tensor) -> torch.Tensor:
    """The gradient of the Lovász extension of the Jaccard loss at errors sorted in decreasing order (last axis)."""
    total = sorted_target.sum(dim=-1, keepdim=True)
    intersection = total - sorted_target.cumsum(dim=-1)
    union = total + (1 - sorted_target).cumsum(dim=-1)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[..., :1], jaccard[..., 1:] - jaccard[..., :-1]], dim=-1)


def _lovasz(errors: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Σ over the last axis of the errors, sorted decreasingly, times the Lovász gradient of their targets."""
    errors_sorted, order = torch.sort(errors, dim=-1, descending=True)
    return (errors_sorted * _lovasz_grad(target.gather(-1, order))).sum(dim=-1)


def lovasz_softmax(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Lovász-softmax loss per image (Berman et al., 2018), as ``kornia.losses.lovasz_softmax_loss``.

    l_n = mean_c Σ_i |e|_(i) · g_c(i): the errors |p_c - y_c| of the image's
    pixels sorted decreasingly, weighted by the gradient of the Lovász
    extension of 1 - IoU_c, averaged over every class (present or not).

    Args:
      input: logits (N, C, d1, ...), C >= 2 (softmax over axis 1).
      target: class indices (N, d1, ...).
      reduction: ``none`` (one value per image), ``sum`` or ``mean``.
    """
    p = torch.softmax(input, dim=1).reshape(*input.shape[:2], -1)
    y = _one_hot(target, input).reshape(p.shape)
    return reduce(_lovasz((p - y).abs(), y).mean(dim=1), reduction)


def lovasz_hinge(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Lovász hinge loss per image (Berman et al., 2018), as ``kornia.losses.lovasz_hinge_loss``.

    l_n = Σ_i max(e, 0)_(i) · g(i), e = 1 - x·(2y - 1) the hinge errors of the
    image's pixels sorted decreasingly, g the Lovász gradient of 1 - IoU.

    Args:
      input: logits (N, d1, ...), one binary mask per sample.
      target: 0/1 masks of the same shape.
      reduction: ``none`` (one value per image), ``sum`` or ``mean``.
    """
    x = input.reshape(len(input), -1)
    y = target.to(input.dtype).reshape(x.shape)
    errors = 1 - x * (2 * y - 1)
    errors_sorted, order = torch.sort(errors, dim=-1, descending=True)
    return reduce((F.relu(errors_sorted) * _lovasz_grad(y.gather(-1, order))).sum(dim=-1), reduction)


def mcc(input: torch.Tensor, target: torch.Tensor, *, eps: float = 1e-5, reduction: str = "mean") -> torch.Tensor:
    """Matthews correlation coefficient loss of the whole batch, as ``segmentation_models_pytorch.losses.MCCLoss``.

    1 - (TP·TN - FP·FN) / sqrt((TP + FP)(TP + FN)(TN + FP)(TN + FN)), the soft
    counts TP = Σ p·y, TN = Σ (1 - p)(1 - y), FP = Σ p(1 - y), FN = Σ (1 - p)y
    over every sample and pixel, each plus ``eps``.

    Args:
      input: probabilities (N, d1, ...).
      target: 0/1 masks of the same shape.
      eps: added to each of the four counts.
      reduction: ``mean``: the single value of the batch.
    """
    y = target.to(input.dtype)
    tp = (input * y).sum() + eps
    tn = ((1 - input) * (1 - y)).sum() + eps
    fp = (input * (1 - y)).sum() + eps
    fn = ((1 - input) * y).sum() + eps
    return 1 - (tp * tn - fp * fn) / torch.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))


def _soft_erode(img: torch.Tensor) -> torch.Tensor:
    """Minimum over the 3-pixel line along each spatial axis, then over the axes (MONAI's soft_erode)."""
    spatial = img.ndim - 2
    pool = F.max_pool2d if spatial == 2 else F.max_pool3d
    out = None
    for axis in range(spatial):
        kernel = tuple(3 if a == axis else 1 for a in range(spatial))
        padding = tuple(1 if a == axis else 0 for a in range(spatial))
        eroded = -pool(-img, kernel, (1,) * spatial, padding)
        out = eroded if out is None else torch.minimum(out, eroded)
    return out


def _soft_dilate(img: torch.Tensor) -> torch.Tensor:
    pool = F.max_pool2d if img.ndim == 4 else F.max_pool3d
    return pool(img, 3, 1, 1)


def soft_skeleton(img: torch.Tensor, iterations: int) -> torch.Tensor:
    """The soft skeleton of Shit et al. (2021), as MONAI's ``soft_skel``: iterated soft erosions and openings."""
    skel = F.relu(img - _soft_dilate(_soft_erode(img)))
    for _ in range(iterations):
        img = _soft_erode(img)
        delta = F.relu(img - _soft_dilate(_soft_erode(img)))
        skel = skel + F.relu(delta - skel * delta)
    return skel


def soft_cldice(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    iter_: int = 3,
    smooth_nr: float = 1.0,
    smooth_dr: float = 1.0,
    smooth: float = 1e-4,
    include_background: bool = True,
    reduction: str = "mean",
) -> torch.Tensor:
    """Soft clDice loss per sample (Shit et al., 2021), as ``monai.losses.SoftclDiceLoss``.

    Tprec = (Σ S(p)·y + smooth_nr) / (Σ S(p) + smooth_dr), Tsens = (Σ S(y)·p +
    smooth_nr) / (Σ S(y) + smooth_dr), S the soft skeleton, sums over each
    sample's channels and pixels; l_n = 1 - 2·Tprec·Tsens / (Tprec + Tsens + smooth).

    Args:
      input: probabilities (N, C, H, W) or (N, C, H, W, D).
      target: masks of the same shape.
      iter_: iterations of the soft skeleton.
      smooth_nr, smooth_dr: added to the numerators and denominators of Tprec and Tsens.
      smooth: added to the denominator of their harmonic mean.
      include_background: keep channel 0.
      reduction: ``none`` (one value per sample), ``sum`` or ``mean``.
    """
    p, y = _drop_background(input, target.to(input.dtype), include_background=include_background)
    skel_p, skel_y = soft_skeleton(p, iter_), soft_skeleton(y, iter_)

    def total(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1).sum(dim=1)

    tprec = (total(skel_p * y) + smooth_nr) / (total(skel_p) + smooth_dr)
    tsens = (total(skel_y * p) + smooth_nr) / (total(skel_y) + smooth_dr)
    return reduce(1 - 2 * tprec * tsens / (tprec + tsens + smooth), reduction)


def distance_field(mask: np.ndarray) -> np.ndarray:
    """Each pixel's distance to the other side of the mask's boundary, 0 for an all-in or all-out mask (MONAI's)."""
    from scipy.ndimage import distance_transform_edt

    fg = mask > 0.5
    if not fg.any() or fg.all():
        return np.zeros(mask.shape)
    return distance_transform_edt(fg) + distance_transform_edt(~fg)


def _distance_fields(x: torch.Tensor) -> torch.Tensor:
    """MONAI's distance_field of every (sample, channel) image of (N, C, ...), without gradient."""
    a = x.detach().cpu().numpy()
    fields = np.zeros(a.shape)
    for n in range(a.shape[0]):
        for c in range(a.shape[1]):
            fields[n, c] = distance_field(a[n, c])
    return torch.as_tensor(fields, dtype=x.dtype, device=x.device)


def hausdorff_dt(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float = 2.0,
    include_background: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    """Distance-transform Hausdorff loss (Karimi & Salcudean, 2019), as ``monai.losses.HausdorffDTLoss``.

    l_{n,c} = mean over the pixels of (p - y)² · (d_p^α + d_y^α), d_p and d_y
    the distance fields of the masks p > 0.5 and y > 0.5 (Euclidean distance
    transforms, computed without gradient).

    Args:
      input: probabilities (N, C, H, W) or (N, C, H, W, D).
      target: masks of the same shape.
      alpha: the exponent α of the distances.
      include_background: keep channel 0 (MONAI drops it by default).
      reduction: ``none`` (one value per sample and channel, (N, C)), ``sum`` or ``mean``.
    """
    p, y = _drop_background(input, target.to(input.dtype), include_background=include_background)
    distance = _distance_fields(p) ** alpha + _distance_fields(y) ** alpha
    losses = ((p - y) ** 2 * distance).reshape(*p.shape[:2], -1).mean(dim=2)
    return reduce(losses, reduction)
