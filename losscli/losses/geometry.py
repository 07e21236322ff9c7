"""Segmentation, embedding and box-regression losses torch.nn lacks, in torch ops so autograd gives their gradients.

Keras' soft Dice and Tversky overlaps, Keras' and optax's cosine losses,
optax's NT-Xent and Keras' Circle loss on labelled batches of embeddings, and
torchvision's generalized, distance and complete IoU losses on boxes given as
``x1, y1, x2, y2`` columns. Each function takes its tensors positionally in
the order of its spec's roles, ``reduction`` and its parameters as keywords.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from losscli.losses import reduce

KERAS_EPSILON = 1e-7
"""``keras.backend.epsilon()``: Dice's and Tversky's denominator floor, Keras' smallest norm in ``normalize``."""
BOX_EPSILON = 1e-7
"""torchvision's default ``eps`` of the IoU losses."""


def _reduce_over(losses: torch.Tensor, count: torch.Tensor, reduction: str) -> torch.Tensor:
    """Like ``reduce``, but ``mean`` divides the sum by ``count`` (the terms that exist) instead of ``numel``."""
    if reduction == "mean":
        return losses.sum() / count
    return reduce(losses, reduction)


def _unit_rows(x: torch.Tensor, min_square_norm: float) -> torch.Tensor:
    """x / sqrt(max(|x|², ε)) = x / max(|x|, sqrt(ε)) along the last axis, ε = ``min_square_norm``.

    Worked out in float64 (at least) and cast back, with |x| taken as m · |x / m|, m the row's largest
    magnitude held constant for autograd (so the gradient is still x̂): squaring then neither underflows
    (1e-30² is 0 in float32, which made a short row 0/0) nor overflows (3e38² in float32, which made a long
    row 0), and the floor sqrt(ε) is kept where float32 would round ε to 0 (1e-50). A zero row stays zero,
    with the gradient 1 / sqrt(ε) (0/0 for ε = 0, as in optax).
    """
    wide = x.to(torch.promote_types(x.dtype, torch.float64))
    with torch.no_grad():
        if wide.shape[-1] == 0:  # vectors of no components: amax has no identity, and any scale does
            scale = wide.new_ones((*wide.shape[:-1], 1))
        else:
            scale = wide.abs().amax(dim=-1, keepdim=True)
            scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    norm = torch.linalg.vector_norm(wide / scale, dim=-1, keepdim=True) * scale
    return (wide / norm.clamp(min=math.sqrt(min_square_norm))).to(x.dtype)


# --- segmentation masks ---------------------------------------------------------------


def _overlap_dims(x: torch.Tensor, per_class: bool) -> tuple[int, ...]:
    return tuple(range(2 if per_class else 1, x.ndim))


def dice(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    smooth: float = 0.0,
    per_class: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    """Soft Dice loss per sample, as ``keras.losses.Dice(axis=(1, …))``, with an optional smoothing term.

    l_n = 1 - (2 · Σ x·y + smooth) / (Σ x + Σ y + smooth + 1e-7), sums over
    every axis but the batch (and the class axis 1 with ``per_class``).

    Args:
      input: predicted probabilities x in [0, 1], shape (N, …) or (N, C, …).
      target: masks y in [0, 1] (usually 0/1), the same shape.
      smooth: added to the numerator and the denominator (Laplace smoothing);
        0 is Keras' Dice, whose only guard is 1e-7 in the denominator.
      per_class: one Dice per sample and class (axis 1), instead of one per
        sample pooling every class.
      reduction: ``none`` (per sample, or (N, C) per sample and class),
        ``sum`` or ``mean`` over those.

    Returns:
      The per-sample (per-class) losses or their reduction. An empty mask
      predicted empty scores 1 - smooth / (smooth + 1e-7): 1 with smooth 0.
    """
    dims = _overlap_dims(input, per_class)
    intersection = (input * target).sum(dim=dims)
    cardinality = input.sum(dim=dims) + target.sum(dim=dims)
    score = (2.0 * intersection + smooth) / (cardinality + smooth + KERAS_EPSILON)
    return reduce(1.0 - score, reduction)


def tversky(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = 0.0,
    per_class: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    """Tversky loss per sample (Salehi et al., 2017), as ``keras.losses.Tversky(axis=(1, …))``.

    l_n = 1 - (TP + smooth) / (TP + α·FP + β·FN + smooth + 1e-7), with the
    soft counts TP = Σ x·y, FP = Σ x·(1 - y), FN = Σ (1 - x)·y summed over
    every axis but the batch (and the class axis 1 with ``per_class``).

    Args:
      input: predicted probabilities x in [0, 1], shape (N, …) or (N, C, …).
      target: masks y in [0, 1] (usually 0/1), the same shape.
      alpha: weight of the false positives.
      beta: weight of the false negatives; β > α favours recall.
      smooth: added to the numerator and the denominator.
      per_class: one index per sample and class (axis 1).
      reduction: ``none`` (per sample, or (N, C)), ``sum`` or ``mean``.

    Returns:
      The per-sample (per-class) losses or their reduction. With α = β = 0.5
      and smooth 0 this is ``dice`` (up to where the 1e-7 sits).
    """
    dims = _overlap_dims(input, per_class)
    true_pos = (input * target).sum(dim=dims)
    false_pos = (input * (1.0 - target)).sum(dim=dims)
    false_neg = ((1.0 - input) * target).sum(dim=dims)
    score = (true_pos + smooth) / (true_pos + alpha * false_pos + beta * false_neg + smooth + KERAS_EPSILON)
    return reduce(1.0 - score, reduction)


# --- embeddings -----------------------------------------------------------------------


def cosine_similarity(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Negative cosine similarity, as ``keras.losses.CosineSimilarity(axis=-1)``.

    l_n = -Σ_d x̂_{n,d} · ŷ_{n,d}, with v̂ = v / max(|v|, 1e-7) (Keras' ``normalize``)

    Args:
      input: predicted vectors x, shape (N, D) or (N, …, D).
      target: true vectors y, the same shape.
      reduction: ``none`` (one value per row: the shape without the last
        axis), ``sum`` or ``mean`` over the rows.

    Returns:
      Values in [-1, 1], -1 when x and y point the same way. A zero vector
      stays zero, so its row scores 0 (orthogonal); below the floor the
      normalisation is a scaling by 1e7, so the gradient at a zero
      prediction is -ŷ · 1e7.
    """
    floor = KERAS_EPSILON**2  # Keras floors the norm at 1e-7, i.e. the squared norm at 1e-14
    cos = (_unit_rows(input, floor) * _unit_rows(target, floor)).sum(dim=-1)
    return reduce(-cos, reduction)


def cosine_distance(
    input: torch.Tensor, target: torch.Tensor, *, epsilon: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """Cosine distance, as ``optax.losses.cosine_distance``.

    l_n = 1 - Σ_d x_{n,d} · y_{n,d} / (sqrt(max(|x_n|², ε)) · sqrt(max(|y_n|², ε)))

    Args:
      input: predicted vectors x, shape (N, D) or (N, …, D).
      target: true vectors y, the same shape.
      epsilon: floor of the squared norms (so the smallest norm is sqrt(ε)).
        optax's default 0 leaves a zero vector undefined (0/0); validation
        refuses zero rows unless ε > 0, and then the gradient at a zero
        prediction is -ŷ / sqrt(ε). The norms are taken without squaring
        the components, so very short or long rows (1e-30, 3e38 in
        float32) keep their direction, and ε too small for float32 (1e-50)
        still floors them.
      reduction: ``none`` (one value per row), ``sum`` or ``mean``.

    Returns:
      Values in [0, 2]: 0 for the same direction, 1 orthogonal, 2 opposite.
    """
    cos = (_unit_rows(input, epsilon) * _unit_rows(target, epsilon)).sum(dim=-1)
    return reduce(1.0 - cos, reduction)


def _pair_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, N) masks of the positive pairs (same label, i ≠ j) and the negative pairs (different labels)."""
    same = labels.unsqueeze(1) == labels.unsqueeze(0)
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def ntxent(
    embeddings: torch.Tensor, labels: torch.Tensor, *, temperature: float = 0.07, reduction: str = "mean"
) -> torch.Tensor:
    """Normalized temperature-scaled cross entropy (NT-Xent, SimCLR), as ``optax.losses.ntxent``.

    With s_ij = cos(e_i, e_j) / τ, for each positive pair (i, j) (same
    label, i ≠ j): ℓ_ij = -log(exp(s_ij) / (exp(s_ij) + Σ_{k: label_k ≠ label_i} exp(s_ik))).

    Args:
      embeddings: (N, D) embeddings e; cosines floor the squared norms at
        the dtype's machine epsilon, as optax does.
      labels: (N,) integers; equal labels mark positive pairs (e.g. two
        augmented views of one image).
      temperature: τ > 0; smaller values sharpen the softmax.
      reduction: ``none`` (per anchor i: Σ_j ℓ_ij over its positives, 0 for
        an anchor without one), ``sum``, or ``mean`` — optax's mean over the
        ordered positive pairs, not over the anchors.

    Returns:
      The per-anchor sums or their reduction.
    """
    unit = _unit_rows(embeddings, torch.finfo(embeddings.dtype).eps)
    scaled = unit @ unit.T / temperature
    positive, negative = _pair_masks(labels)
    # log Σ over the negatives of each anchor: finite, as validation asks for two labels at least.
    negatives = torch.logsumexp(scaled.masked_fill(~negative, -math.inf), dim=1, keepdim=True)
    # -log(e^s / (e^s + e^n)) = log(1 + e^(n - s)) = softplus(n - s), stable for any gap.
    pair_loss = F.softplus(negatives - scaled)
    per_anchor = torch.where(positive, pair_loss, torch.zeros_like(pair_loss)).sum(dim=1)
    return _reduce_over(per_anchor, positive.sum(), reduction)


def circle(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    *,
    gamma: float = 80.0,
    margin: float = 0.4,
    reduction: str = "mean",
) -> torch.Tensor:
    """Circle loss (Sun et al., 2020) on a labelled batch, as ``keras.losses.Circle``.

    With s_ij the cosine of the L2-normalised embeddings and m the margin, for
    each anchor i:
      l_i = softplus(logsumexp_{j in P(i)} (-γ · [1 + m - s_ij]_+ · (s_ij - (1 - m)))
                     + logsumexp_{k in N(i)} (γ · [s_ik + m]_+ · (s_ik - m)))
    over its positives P(i) (same label, j ≠ i) and negatives N(i).

    Args:
      embeddings: (N, D) embeddings; normalised here (Keras expects unit rows;
        on unit rows the two agree), the norm floored at 1e-7 as Keras'
        ``normalize`` does.
      labels: (N,) integer class labels.
      gamma: scale γ of the similarities.
      margin: relaxation m: positives aim above 1 - m, negatives below m.
      reduction: ``none`` (per anchor, 0 for an anchor without a positive or
        a negative), ``sum``, or ``mean`` over the anchors that have both (the
        mask Keras puts on the zero losses).

    Returns:
      The per-anchor losses or their reduction. The weights [·]_+ are
      differentiated through, as in Keras (the paper's code stops their
      gradient).
    """
    unit = _unit_rows(embeddings, KERAS_EPSILON**2)
    distance = (1.0 - unit @ unit.T).clamp(min=0.0)  # Keras' cosine distance 1 - s, floored at 0
    positive, negative = _pair_masks(labels)
    pos_logits = -gamma * (margin + distance).clamp(min=0.0) * (margin - distance)
    neg_logits = gamma * (1.0 + margin - distance).clamp(min=0.0) * (1.0 - margin - distance)
    has_pos, has_neg = positive.any(dim=1, keepdim=True), negative.any(dim=1, keepdim=True)
    # Rows with no pair at all get finite dummies: logsumexp of only -inf has a NaN gradient.
    fill_pos = torch.where(has_pos, -math.inf, 0.0)
    fill_neg = torch.where(has_neg, -math.inf, 0.0)
    pos_term = torch.logsumexp(torch.where(positive, pos_logits, fill_pos), dim=1)
    neg_term = torch.logsumexp(torch.where(negative, neg_logits, fill_neg), dim=1)
    valid = (has_pos & has_neg).squeeze(1)
    per_anchor = torch.where(valid, F.softplus(pos_term + neg_term), torch.zeros_like(pos_term))
    return _reduce_over(per_anchor, valid.sum(), reduction)


# --- boxes ----------------------------------------------------------------------------


def _iou_parts(input: torch.Tensor, target: torch.Tensor, eps: float):
    """IoU = I / (U + eps) of boxes (N, 4) and the corners of their smallest enclosing boxes."""
    x1, y1, x2, y2 = input.unbind(dim=-1)
    x1g, y1g, x2g, y2g = target.unbind(dim=-1)
    # torchvision counts the intersection only where both sides are positive; clamping
    # each side at 0 gives the same value and the same (zero) gradient when apart.
    overlap_w = (torch.minimum(x2, x2g) - torch.maximum(x1, x1g)).clamp(min=0.0)
    overlap_h = (torch.minimum(y2, y2g) - torch.maximum(y1, y1g)).clamp(min=0.0)
    intersection = overlap_w * overlap_h
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intersection
    iou = intersection / (union + eps)
    enclosing = (torch.minimum(x1, x1g), torch.minimum(y1, y1g), torch.maximum(x2, x2g), torch.maximum(y2, y2g))
    return iou, union, enclosing


def giou(
    input: torch.Tensor, target: torch.Tensor, *, eps: float = BOX_EPSILON, reduction: str = "mean"
) -> torch.Tensor:
    """Generalized IoU loss, as ``torchvision.ops.generalized_box_iou_loss``.

    l_n = 1 - IoU + (|C| - |A ∪ B|) / (|C| + eps), IoU = |A ∩ B| / (|A ∪ B| + eps),
    C the smallest box enclosing the predicted box A and the true box B.

    Args:
      input: predicted boxes (N, 4) as x1, y1, x2, y2 with x2 >= x1, y2 >= y1.
      target: true boxes (N, 4), the same layout.
      eps: added to the union and the enclosing area against division by 0.
      reduction: ``none`` (per box), ``sum`` or ``mean`` (torchvision's
        default is ``none``).

    Returns:
      Values in [0, 2]: 0 for identical boxes, above 1 for disjoint ones,
      growing with the empty space between them (so they still get a gradient).
    """
    iou, union, (xc1, yc1, xc2, yc2) = _iou_parts(input, target, eps)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return reduce(1.0 - iou + (area_c - union) / (area_c + eps), reduction)


def _diou_terms(input: torch.Tensor, target: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(1 - IoU + ρ² / (c² + eps), IoU): torchvision's distance-IoU loss and the IoU it uses."""
    iou, _, (xc1, yc1, xc2, yc2) = _iou_parts(input, target, eps)
    diagonal_sq = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    x1, y1, x2, y2 = input.unbind(dim=-1)
    x1g, y1g, x2g, y2g = target.unbind(dim=-1)
    centers_sq = ((x1 + x2 - x1g - x2g) / 2) ** 2 + ((y1 + y2 - y1g - y2g) / 2) ** 2
    return 1.0 - iou + centers_sq / diagonal_sq, iou


def diou(
    input: torch.Tensor, target: torch.Tensor, *, eps: float = BOX_EPSILON, reduction: str = "mean"
) -> torch.Tensor:
    """Distance IoU loss, as ``torchvision.ops.distance_box_iou_loss``.

    l_n = 1 - IoU + ρ² / (c² + eps), ρ the distance between the boxes'
    centres, c the diagonal of the smallest enclosing box.

    Args:
      input: predicted boxes (N, 4) as x1, y1, x2, y2 with x2 >= x1, y2 >= y1.
      target: true boxes (N, 4), the same layout.
      eps: added to the union and to c² against division by 0.
      reduction: ``none`` (per box), ``sum`` or ``mean``.

    Returns:
      Values in [0, 2): 0 for identical boxes.
    """
    loss, _ = _diou_terms(input, target, eps)
    return reduce(loss, reduction)


def ciou(
    input: torch.Tensor, target: torch.Tensor, *, eps: float = BOX_EPSILON, reduction: str = "mean"
) -> torch.Tensor:
    """Complete IoU loss, as ``torchvision.ops.complete_box_iou_loss``.

    l_n = 1 - IoU + ρ² / (c² + eps) + α·v, v = 4/π² · (atan(w_B / h_B) - atan(w_A / h_A))²,
    α = v / (1 - IoU + v + eps), held constant in the gradient.

    Args:
      input: predicted boxes (N, 4) as x1, y1, x2, y2, of positive height.
      target: true boxes (N, 4), the same layout.
      eps: added to the union, to c² and to α's denominator.
      reduction: ``none`` (per box), ``sum`` or ``mean``.

    Returns:
      The per-box losses or their reduction. As in torchvision (and the CIoU
      paper), α is computed without gradient, so the gradient is that of
      the value with α frozen, not the value's exact derivative.
    """
    loss, iou = _diou_terms(input, target, eps)
    x1, y1, x2, y2 = input.unbind(dim=-1)
    x1g, y1g, x2g, y2g = target.unbind(dim=-1)
    v = (4 / math.pi**2) * (torch.atan((x2g - x1g) / (y2g - y1g)) - torch.atan((x2 - x1) / (y2 - y1))) ** 2
    with torch.no_grad():
        alpha = v / (1.0 - iou + v + eps)
    return reduce(loss + alpha * v, reduction)
