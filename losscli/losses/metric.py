"""Metric-learning and self-supervised losses on batches of embeddings, in torch ops so autograd gives their gradients.

pytorch-metric-learning's (pml's) ContrastiveLoss, SupConLoss, MultiSimilarityLoss, ArcFaceLoss, CosFaceLoss,
ProxyAnchorLoss and VICRegLoss, each with the distance and the reducer pml gives it by default, and Barlow
Twins as its authors' code computes it. Embeddings (and class centres, proxies) are L2-normalised as pml's
``CosineSimilarity``/``LpDistance`` do (``F.normalize``: the norm floored at 1e-12). ``mean`` is pml's default
reduction of each loss, which is not always the mean of the ``none`` output: each function says what it is.
Each function takes its tensors positionally in the order of its spec's roles, ``reduction`` and its
parameters as keywords.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from losscli.losses import reduce
from losscli.losses.geometry import _pair_masks, _reduce_over, _unit_rows

PML_SQUARE_NORM_FLOOR = 1e-24
"""``F.normalize``'s ``eps=1e-12`` floors the norm, i.e. the squared norm at 1e-24 (what pml normalises with)."""


def _unit(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to norm 1 as pml's distances scale them; a zero row stays zero."""
    return _unit_rows(x, PML_SQUARE_NORM_FLOOR)


def _cosines(embeddings: torch.Tensor, others: torch.Tensor | None = None) -> torch.Tensor:
    """(N, M) cosines of the rows of ``embeddings`` with the rows of ``others`` (with each other without)."""
    unit = _unit(embeddings)
    return unit @ (unit if others is None else _unit(others)).T


def _log_one_plus_sum_exp(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """log(1 + Σ_j e^{x_ij}) over the kept j of each row i, 0 for a row with none: pml's ``logsumexp(add_one=True)``."""
    one = x.new_zeros(len(x), 1)
    return torch.logsumexp(torch.cat([x.masked_fill(~keep, -math.inf), one], dim=1), dim=1)


def _mean_of_nonzero(losses: torch.Tensor) -> torch.Tensor:
    """The mean of the terms above 0, 0 when none is: pml's ``AvgNonZeroReducer``."""
    return losses.sum() / (losses > 0).sum().clamp(min=1)


# --- pairs and anchors of a labelled batch ---------------------------------------------


def contrastive(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    *,
    pos_margin: float = 0.0,
    neg_margin: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Pairwise contrastive loss (Hadsell et al., 2006), as ``pytorch_metric_learning.losses.ContrastiveLoss``.

    With d_ij the Euclidean distance of the L2-normalised embeddings (pml's
    default ``LpDistance``), each ordered positive pair (same label, i ≠ j)
    costs [d_ij - pos_margin]_+ and each ordered negative pair
    [neg_margin - d_ij]_+.

    Args:
      embeddings: (N, D) embeddings, normalised here.
      labels: (N,) integer labels; equal labels mark positive pairs.
      pos_margin: positives closer than this cost nothing.
      neg_margin: negatives farther than this cost nothing.
      reduction: ``none`` (per anchor i: the sum of its pairs' terms),
        ``sum`` (every pair), or ``mean``: pml's default ``AvgNonZeroReducer``,
        the mean of the non-zero positive terms plus the mean of the non-zero
        negative terms (each 0 when none is non-zero).

    Returns:
      The per-anchor sums or their reduction. Two equal embeddings are at
      distance 0, where the distance has no derivative: its gradient is
      taken as 0 there, as ``torch.cdist``'s is.
    """
    unit = _unit(embeddings)
    square = unit.pow(2).sum(dim=1)
    squared = (square.unsqueeze(1) + square.unsqueeze(0) - 2.0 * unit @ unit.T).clamp(min=0.0)
    apart = squared > 0  # sqrt has an infinite slope at 0 (the diagonal): keep it off the graph there
    distance = torch.where(apart, torch.where(apart, squared, 1.0).sqrt(), 0.0)
    positive, negative = _pair_masks(labels)
    pos = torch.where(positive, F.relu(distance - pos_margin), 0.0)
    neg = torch.where(negative, F.relu(neg_margin - distance), 0.0)
    if reduction == "mean":
        return _mean_of_nonzero(pos) + _mean_of_nonzero(neg)
    return reduce((pos + neg).sum(dim=1), reduction)


def supcon(
    embeddings: torch.Tensor, labels: torch.Tensor, *, temperature: float = 0.1, reduction: str = "mean"
) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al., 2020, L^sup_out), as ``pytorch_metric_learning.losses.SupConLoss``.

    With s_ij = cos(e_i, e_j) / τ, anchor i costs
    l_i = -1/|P(i)| · Σ_{p ∈ P(i)} log(e^{s_ip} / Σ_{a ≠ i} e^{s_ia}),
    P(i) its positives (same label, p ≠ i).

    Args:
      embeddings: (N, D) embeddings, normalised here (pml's ``CosineSimilarity``).
      labels: (N,) integer labels; equal labels mark positive pairs.
      temperature: τ > 0; smaller values sharpen the softmax.
      reduction: ``none`` (per anchor, 0 for an anchor without a positive),
        ``sum``, or ``mean`` over the anchors that have a positive (pml's
        ``AvgNonZeroReducer``: every other anchor's loss is above 0).

    Returns:
      The per-anchor losses or their reduction. SupContrast's own code scales
      them by τ / 0.07 (its ``base_temperature``); pml does not, nor does this.
    """
    logits = _cosines(embeddings) / temperature
    positive, negative = _pair_masks(labels)
    # log Σ_{a ≠ i} e^{s_ia}: finite, as validation asks for a positive pair and a second label.
    denominator = torch.logsumexp(logits.masked_fill(~(positive | negative), -math.inf), dim=1, keepdim=True)
    positives = positive.sum(dim=1)
    per_anchor = -torch.where(positive, logits - denominator, 0.0).sum(dim=1) / positives.clamp(min=1)
    return _reduce_over(per_anchor, (positives > 0).sum(), reduction)


def multi_similarity(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    *,
    alpha: float = 2.0,
    beta: float = 50.0,
    base: float = 0.5,
    reduction: str = "mean",
) -> torch.Tensor:
    """Multi-similarity loss (Wang et al., 2019), as ``pytorch_metric_learning.losses.MultiSimilarityLoss``.

    With s_ij the cosine, anchor i costs
    l_i = 1/α · log(1 + Σ_{P(i)} e^{-α (s_ip - base)}) + 1/β · log(1 + Σ_{N(i)} e^{β (s_in - base)}).

    Args:
      embeddings: (N, D) embeddings, normalised here (pml's ``CosineSimilarity``).
      labels: (N,) integer labels.
      alpha: weight of the positive similarities.
      beta: weight of the negative similarities.
      base: the similarity λ both sums are measured from.
      reduction: ``none`` (per anchor), ``sum``, or ``mean`` over every
        anchor (pml's ``MeanReducer``).

    Returns:
      The per-anchor losses or their reduction. Every pair counts: the
      paper's pair mining is pml's separate ``MultiSimilarityMiner``.
    """
    similarity = _cosines(embeddings)
    positive, negative = _pair_masks(labels)
    pos = _log_one_plus_sum_exp(-alpha * (similarity - base), positive) / alpha
    neg = _log_one_plus_sum_exp(beta * (similarity - base), negative) / beta
    return reduce(pos + neg, reduction)


# --- class centres and proxies ----------------------------------------------------------


def _margin_softmax(
    cosines: torch.Tensor, labels: torch.Tensor, target_logits: torch.Tensor, scale: float, reduction: str
) -> torch.Tensor:
    """Cross entropy of s · cosines with each sample's true-class cosine replaced by its ``target_logits``."""
    true_class = F.one_hot(labels, cosines.shape[1]).bool()
    logits = scale * torch.where(true_class, target_logits.unsqueeze(1), cosines)
    return reduce(F.cross_entropy(logits, labels, reduction="none"), reduction)


def _true_class_cosines(embeddings: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor):
    """(N, C) cosines of the embeddings with the class centres (the columns of W), and (N,) those of the true class."""
    cosines = _cosines(embeddings, weight.T)
    return cosines, cosines.gather(1, labels.unsqueeze(1)).squeeze(1)


def arcface(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    weight: torch.Tensor,
    *,
    margin: float = 0.5,
    scale: float = 64.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Additive angular margin loss (Deng et al., 2019), as ``pytorch_metric_learning.losses.ArcFaceLoss``.

    With cos θ_j the cosine of the embedding and class centre j (a column of
    W), the true class y's logit becomes cos(θ_y + m) while θ_y <= π - m, and
    cos θ_y - m · sin m past it (so that it keeps falling as θ_y grows); the
    loss is the cross entropy of s times those logits.

    Args:
      embeddings: (N, D) embeddings, normalised here.
      labels: (N,) class indices in [0, C).
      weight: (D, C) class centres, one per column (pml's ``W``), normalised here.
      margin: m, an angle in radians (pml's ``margin`` is in degrees: 28.6° = 0.4992 rad).
      scale: s, the norm the logits are scaled to.
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over the samples
        (pml's ``MeanReducer``).

    Returns:
      The per-sample losses or their reduction. The angle's derivative
      grows as 1/sin θ_y near θ_y = 0; an embedding exactly on its centre
      (or opposite it), where θ_y has a kink, gets no gradient through θ_y
      (pml's is NaN there). The logit jumps at θ_y = π - m, as in pml and
      insightface.
    """
    cosines, true_cosine = _true_class_cosines(embeddings, labels, weight)
    # acos has an infinite slope at ±1, where the cosine's own gradient is 0 (an embedding on its centre or
    # opposite it: the angle has a kink there, like |x| at 0): hold the angle constant there instead of 0·∞ = NaN.
    inside = true_cosine.abs() < 1.0
    angle = torch.where(
        inside, torch.acos(torch.where(inside, true_cosine, 0.0)), torch.acos(true_cosine.clamp(-1.0, 1.0)).detach()
    )
    logit = torch.where(
        angle <= math.pi - margin, torch.cos(angle + margin), torch.cos(angle) - margin * math.sin(margin)
    )
    return _margin_softmax(cosines, labels, logit, scale, reduction)


def cosface(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    weight: torch.Tensor,
    *,
    margin: float = 0.35,
    scale: float = 64.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Large margin cosine loss (Wang et al., 2018), as ``pytorch_metric_learning.losses.CosFaceLoss``.

    The true class y's cosine becomes cos θ_y - m; the loss is the cross
    entropy of s times the cosines.

    Args:
      embeddings: (N, D) embeddings, normalised here.
      labels: (N,) class indices in [0, C).
      weight: (D, C) class centres, one per column (pml's ``W``), normalised here.
      margin: m, subtracted from the true class's cosine.
      scale: s, the norm the logits are scaled to.
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over the samples.

    Returns:
      The per-sample losses or their reduction.
    """
    cosines, true_cosine = _true_class_cosines(embeddings, labels, weight)
    return _margin_softmax(cosines, labels, true_cosine - margin, scale, reduction)


def proxy_anchor(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    proxies: torch.Tensor,
    *,
    margin: float = 0.1,
    alpha: float = 32.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Proxy-Anchor loss (Kim et al., 2020), as ``pytorch_metric_learning.losses.ProxyAnchorLoss``.

    With s_ic the cosine of embedding i and proxy c, each proxy c costs
    pos_c = log(1 + Σ_{i: y_i = c} e^{-α (s_ic - δ)}) and
    neg_c = log(1 + Σ_{i: y_i ≠ c} e^{α (s_ic + δ)}).

    Args:
      embeddings: (N, D) embeddings, normalised here.
      labels: (N,) class indices in [0, C).
      proxies: (C, D) one proxy per class, a row each (pml's ``proxies``), normalised here.
      margin: δ.
      alpha: α, the scale of the similarities.
      reduction: ``none`` (per proxy: pos_c + neg_c, shape (C,)), ``sum``, or
        ``mean``: pml's ``DivisorReducer``, Σ pos_c over the proxies of the
        classes in the batch plus Σ neg_c over all C proxies.

    Returns:
      The per-proxy losses or their reduction.
    """
    own = F.one_hot(labels, len(proxies)).bool().T  # (C, N): the embeddings of each proxy's class
    similarity = _cosines(embeddings, proxies).T
    pos = _log_one_plus_sum_exp(-alpha * (similarity - margin), own)
    neg = _log_one_plus_sum_exp(alpha * (similarity + margin), ~own)
    if reduction == "mean":
        return pos.sum() / own.any(dim=1).sum() + neg.sum() / len(proxies)
    return reduce(pos + neg, reduction)


# --- two views of a batch ---------------------------------------------------------------


def _off_diagonal_squares(matrix: torch.Tensor) -> torch.Tensor:
    """Σ_{i ≠ j} m_ij² of a square matrix."""
    diagonal = torch.eye(len(matrix), dtype=torch.bool, device=matrix.device)
    return matrix.masked_fill(diagonal, 0.0).pow(2).sum()


def barlow_twins(
    embeddings: torch.Tensor,
    ref_emb: torch.Tensor,
    *,
    lambd: float = 0.0051,
    eps: float = 1e-5,
    reduction: str = "sum",
) -> torch.Tensor:
    """Barlow Twins (Zbontar et al., 2021), as its authors' ``facebookresearch/barlowtwins`` computes it.

    Each view is batch-normalised feature by feature (``BatchNorm1d`` without
    affine parameters, in training mode: the biased variance, plus eps), C =
    ẑ_Aᵀ ẑ_B / N is their (D, D) cross-correlation, and the loss is
    Σ_i (1 - C_ii)² + λ · Σ_{i ≠ j} C_ij².

    Args:
      embeddings: (N, D) the first view's embeddings (projector outputs).
      ref_emb: (N, D) the second view's, row for row the same samples.
      lambd: λ, the weight of the redundancy-reduction (off-diagonal) term.
      eps: added to each feature's variance, as ``BatchNorm1d``'s eps.
      reduction: ``sum`` (the loss) or ``none``: its two terms, the invariance
        term Σ (1 - C_ii)² and the redundancy term λ · Σ C_ij², shape (2,).

    Returns:
      The loss or its two terms. The paper's pseudocode divides by the
      unbiased standard deviation without eps instead, which scales C by
      (N - 1) / N.
    """
    first = F.batch_norm(embeddings, None, None, training=True, eps=eps)
    second = F.batch_norm(ref_emb, None, None, training=True, eps=eps)
    correlation = first.T @ second / len(embeddings)
    invariance = (1.0 - torch.diagonal(correlation)).pow(2).sum()
    return reduce(torch.stack([invariance, lambd * _off_diagonal_squares(correlation)]), reduction)


def _variance_hinge(z: torch.Tensor, eps: float) -> torch.Tensor:
    """mean_d [1 - sqrt(Var(z_d) + eps)]_+, the unbiased variance of each feature over the batch."""
    return F.relu(1.0 - torch.sqrt(z.var(dim=0) + eps)).mean()


def _covariance_penalty(z: torch.Tensor) -> torch.Tensor:
    """Σ_{i ≠ j} Cov(z)_ij² / D, the unbiased covariance of the features over the batch."""
    centred = z - z.mean(dim=0)
    covariance = centred.T @ centred / (len(z) - 1)
    return _off_diagonal_squares(covariance) / z.shape[1]


def vicreg(
    embeddings: torch.Tensor,
    ref_emb: torch.Tensor,
    *,
    invariance_lambda: float = 25.0,
    variance_mu: float = 25.0,
    covariance_v: float = 1.0,
    eps: float = 1e-4,
    reduction: str = "sum",
) -> torch.Tensor:
    """VICReg (Bardes et al., 2022), as ``pytorch_metric_learning.losses.VICRegLoss``.

    λ · mean((z - z')²) + μ · (v(z) + v(z')) / 2 + ν · (c(z) + c(z')), with
    v the mean over the features of [1 - sqrt(Var + eps)]_+ and c the sum of
    the squared off-diagonal covariances over D.

    Args:
      embeddings: (N, D) the first view's embeddings z.
      ref_emb: (N, D) the second view's z', row for row the same samples.
      invariance_lambda: λ, the weight of the mean squared distance.
      variance_mu: μ, the weight of the variance hinge.
      covariance_v: ν, the weight of the covariance penalty.
      eps: added to each variance before its square root.
      reduction: ``sum`` (the loss: pml's value with its default ``MeanReducer``)
        or ``none``: its three weighted terms (invariance, variance,
        covariance), shape (3,).

    Returns:
      The loss or its terms.
    """
    invariance = invariance_lambda * F.mse_loss(embeddings, ref_emb)
    variance = variance_mu * (_variance_hinge(embeddings, eps) + _variance_hinge(ref_emb, eps)) / 2
    covariance = covariance_v * (_covariance_penalty(embeddings) + _covariance_penalty(ref_emb))
    return reduce(torch.stack([invariance, variance, covariance]), reduction)
