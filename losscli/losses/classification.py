"""Classification and ranking losses torch.nn lacks, written in torch ops so autograd gives their gradients.

Class-score inputs follow torch's layout: ``(N, C)`` or ``(N, C, d1, ...)``
with the classes on dimension 1, and targets are either class indices of
shape ``(N,)``/``(N, d1, ...)`` or (where a loss accepts them) class
probabilities shaped like the input. Losses defined per sample (a sum or max
over the classes) return one value per sample with ``reduction="none"``;
element-wise losses return one value per element.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from losscli.losses import reduce


def _class_distribution(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Targets as rows over dimension 1: probabilities shaped like ``input`` as given, class indices one-hot."""
    if target.shape == input.shape:
        return target.to(input.dtype)
    return F.one_hot(target.long(), input.shape[1]).movedim(-1, 1).to(input.dtype)


def _hinge_labels(target: torch.Tensor) -> torch.Tensor:
    """Keras' convert_binary_labels_to_hinge: labels all in {0, 1} become 2y - 1; others pass unchanged."""
    if ((target == 0) | (target == 1)).all():
        return 2.0 * target - 1.0
    return target


def hinge(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Binary hinge loss, as ``keras.losses.Hinge``.

    Args:
      input: (N, *) decision scores (unbounded, not probabilities).
      target: labels shaped like ``input``, either all in {0, 1} (mapped to
        {-1, 1} by 2y - 1, as Keras does) or all in {-1, 1}.
      reduction: ``none`` (per element), ``sum``, or ``mean`` over all elements.

    Returns:
      l_i = max(0, 1 - y_i · x_i), reduced.

    The 0/1 test is on the whole target, as in Keras: a target of only 1s is
    already valid in both encodings and maps to itself.
    """
    y = _hinge_labels(target.to(input.dtype))
    return reduce(torch.clamp(1.0 - y * input, min=0.0), reduction)


def squared_hinge(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Squared binary hinge loss, as ``keras.losses.SquaredHinge``.

    Args:
      input: (N, *) decision scores.
      target: labels shaped like ``input``, all in {0, 1} (mapped to {-1, 1})
        or all in {-1, 1}.
      reduction: ``none`` (per element), ``sum``, or ``mean`` over all elements.

    Returns:
      l_i = max(0, 1 - y_i · x_i)^2, reduced.
    """
    y = _hinge_labels(target.to(input.dtype))
    return reduce(torch.clamp(1.0 - y * input, min=0.0).square(), reduction)


def categorical_hinge(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Categorical hinge loss, exactly as ``keras.losses.CategoricalHinge``.

    Args:
      input: (N, C) or (N, C, d1, ...) class scores.
      target: class indices (N,) / (N, d1, ...) (one-hot encoded here), or
        rows shaped like ``input`` (one-hot rows, used as given).
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over samples.

    Returns:
      l_n = max(0, neg_n - pos_n + 1) with pos_n = Σ_c y_{n,c} · x_{n,c} and
      neg_n = max_c (1 - y_{n,c}) · x_{n,c}, reduced.

    Keras' neg includes the true class with weight 0, so neg_n >= 0: when every
    wrong class scores below 0, the loss is max(0, 1 - x_y), not
    1 + max_{c != y} x_c - x_y (that is multiclass_hinge).
    """
    y = _class_distribution(input, target)
    pos = (y * input).sum(dim=1)
    neg = ((1.0 - y) * input).amax(dim=1)
    return reduce(torch.clamp(neg - pos + 1.0, min=0.0), reduction)


def multiclass_hinge(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Crammer–Singer multiclass hinge loss, as ``optax.losses.multiclass_hinge_loss``.

    Args:
      input: (N, C) or (N, C, d1, ...) class scores.
      target: (N,) or (N, d1, ...) class indices in [0, C).
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over samples.

    Returns:
      l_n = max_c (x_{n,c} + 1 - [c = y_n]) - x_{n,y_n}
          = max(0, 1 + max_{c != y_n} x_{n,c} - x_{n,y_n}), reduced.
    """
    one_hot = _class_distribution(input, target)
    picked = (input * one_hot).sum(dim=1)
    return reduce((input + 1.0 - one_hot).amax(dim=1) - picked, reduction)


def perceptron(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Binary perceptron loss, as ``optax.losses.perceptron_loss``.

    Args:
      input: (N, *) decision scores.
      target: labels in {-1, 1} shaped like ``input``.
      reduction: ``none`` (per element), ``sum``, or ``mean`` over all elements.

    Returns:
      l_i = max(0, -y_i · x_i), reduced: the hinge without its margin.
    """
    return reduce(torch.clamp(-target.to(input.dtype) * input, min=0.0), reduction)


def sigmoid_focal(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al., 2017), as ``torchvision.ops.sigmoid_focal_loss``.

    Args:
      input: (N, *) logits, one independent binary prediction per element.
      target: targets in [0, 1] shaped like ``input`` (0/1 labels or soft ones).
      alpha: weight of the positive term (1 - alpha for the negative term);
        a negative alpha disables the weighting.
      gamma: exponent of the modulating factor (1 - p_t).
      reduction: ``none`` (per element), ``sum``, or ``mean`` over all elements
        (torchvision's own default is ``none``).

    Returns:
      l_i = α_t · (1 - p_t)^γ · BCE(x_i, y_i) with p = σ(x), p_t = p·y + (1 - p)·(1 - y),
      α_t = α·y + (1 - α)·(1 - y), reduced.
    """
    y = target.to(input.dtype)
    ce = F.binary_cross_entropy_with_logits(input, y, reduction="none")  # the stable log-sigmoid form
    # 1 - p_t = y·σ(-x) + (1 - y)·σ(x): the same value as torchvision's 1 - p_t, without its
    # cancellation, which rounds 1 - p_t to 0 once |x| > ~17 (float32) and turns the gradient of
    # (1 - p_t)^γ into NaN for γ < 1; the clamp only guards an exact 0 after underflow
    one_minus_p_t = y * torch.sigmoid(-input) + (1.0 - y) * torch.sigmoid(input)
    loss = ce * one_minus_p_t.clamp(min=torch.finfo(input.dtype).tiny) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss
    return reduce(loss, reduction)


def softmax_focal(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Categorical (softmax) focal loss, as ``keras.losses.CategoricalFocalCrossentropy(from_logits=True)``.

    Args:
      input: (N, C) or (N, C, d1, ...) logits.
      target: class indices (N,) / (N, d1, ...), or class probabilities
        (one-hot rows included) shaped like ``input``.
      alpha: one weight for every class.
      gamma: exponent of the modulating factor (1 - p_c).
      label_smoothing: the target becomes y·(1 - ε) + ε/C.
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over samples.

    Returns:
      l_n = -Σ_c α · (1 - p_{n,c})^γ · y_{n,c} · log p_{n,c} with p = softmax(x), reduced.

    log p comes from log_softmax, so it stays finite and exact where Keras clips
    p to [1e-7, 1 - 1e-7] first (the two agree while every p is inside).
    """
    n_classes = input.shape[1]
    y = _class_distribution(input, target)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / n_classes
    log_p = F.log_softmax(input, dim=1)
    # 1 - p = -expm1(log p); the clamp keeps the gradient of (1 - p)^γ finite for γ < 1 where p rounds to 1
    one_minus_p = (-torch.expm1(log_p)).clamp(min=torch.finfo(input.dtype).tiny)
    modulating = one_minus_p**gamma
    return reduce(-(alpha * modulating * y * log_p).sum(dim=1), reduction)


def generalized_cross_entropy(
    input: torch.Tensor, target: torch.Tensor, *, q: float = 0.7, reduction: str = "mean"
) -> torch.Tensor:
    """Generalized cross entropy L_q (Zhang & Sabuncu, 2018), robust to noisy labels.

    Args:
      input: (N, C) or (N, C, d1, ...) logits.
      target: (N,) or (N, d1, ...) class indices in [0, C).
      q: in (0, 1]; q → 0 gives cross entropy, q = 1 gives the MAE 1 - p_y.
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over samples.

    Returns:
      l_n = (1 - p_{n,y_n}^q) / q with p = softmax(x), reduced.
    """
    log_p_y = F.log_softmax(input, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    # 1 - p^q = -expm1(q · log p): exact for small q, where it tends to -q · log p (cross entropy)
    return reduce(-torch.expm1(q * log_p_y) / q, reduction)


def poly1_cross_entropy(
    input: torch.Tensor, target: torch.Tensor, *, epsilon: float = 2.0, reduction: str = "mean"
) -> torch.Tensor:
    """Poly-1 loss (Leng et al., 2022), as ``optax.losses.poly_loss_cross_entropy``.

    Args:
      input: (N, C) or (N, C, d1, ...) logits.
      target: class indices (N,) / (N, d1, ...), or class probabilities shaped like ``input``.
      epsilon: coefficient added to the first polynomial term (1 - p_t).
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over samples.

    Returns:
      l_n = CE_n + ε · Σ_c y_{n,c} · (1 - p_{n,c}) with p = softmax(x) and
      CE_n = -Σ_c y_{n,c} · log p_{n,c}; for an index target, -log p_y + ε · (1 - p_y).
    """
    log_p = F.log_softmax(input, dim=1)
    y = _class_distribution(input, target)
    cross_entropy = -(y * log_p).sum(dim=1)
    one_minus_pt = (y * -torch.expm1(log_p)).sum(dim=1)
    return reduce(cross_entropy + epsilon * one_minus_pt, reduction)


def sparsemax(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Multiclass sparsemax loss (Martins & Astudillo, 2016), as ``optax.losses.multiclass_sparsemax_loss``.

    Args:
      input: (N, C) or (N, C, d1, ...) class scores z.
      target: (N,) or (N, d1, ...) class indices in [0, C).
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over samples.

    Returns:
      l_n = -z_y + ½ · Σ_{j ∈ S(z)} (z_j² - τ(z)²) + ½, reduced, where
      sparsemax(z) = max(z - τ, 0) is the Euclidean projection of z onto the
      simplex and S(z) its support; the gradient is sparsemax(z) - onehot(y).
    """
    z = input.movedim(1, -1)
    # the loss is invariant to adding a constant to z; shifting by the row
    # maximum keeps the squares from cancelling catastrophically for large scores
    z = z - z.detach().amax(dim=-1, keepdim=True)
    ranks = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    z_sorted = z.sort(dim=-1, descending=True).values
    cumsum = z_sorted.cumsum(dim=-1)
    support_size = (1.0 + ranks * z_sorted > cumsum).sum(dim=-1, keepdim=True)  # the support is a prefix
    tau = (cumsum.gather(-1, support_size - 1) - 1.0) / support_size.to(z.dtype)
    in_support = (z > tau).to(z.dtype)
    z_y = z.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
    loss = -z_y + 0.5 * (in_support * (z.square() - tau.square())).sum(dim=-1) + 0.5
    return reduce(loss, reduction)


def ranking_softmax(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Listwise softmax ranking loss, as ``optax.losses.ranking_softmax_loss``.

    Args:
      input: (N, L) scores, one list of L items per row (or one list (L,)).
      target: relevance labels >= 0 shaped like ``input``.
      reduction: ``none`` (per list), ``sum``, or ``mean`` over lists.

    Returns:
      l_n = -Σ_i y_{n,i} · log_softmax(s_n)_i, reduced. As in optax the labels
      are not normalised to sum to 1, so a list's loss scales with Σ_i y_{n,i},
      and a list with all labels 0 costs 0 (and still counts in the mean).
    """
    neg_log_p = -F.log_softmax(input, dim=-1)
    return reduce((target.to(input.dtype) * neg_log_p).sum(dim=-1), reduction)


def multiclass_perceptron(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Multiclass perceptron loss (Collins, 2002), as ``optax.losses.multiclass_perceptron_loss``.

    Args:
      input: (N, C) or (N, C, d1, ...) class scores.
      target: (N,) or (N, d1, ...) class indices in [0, C).
      reduction: ``none`` (per sample), ``sum``, or ``mean`` over samples.

    Returns:
      l_n = max_c x_{n,c} - x_{n,y_n}, reduced. Scores tied for the maximum share its gradient equally.
    """
    picked = input.gather(1, target.long().unsqueeze(1)).squeeze(1)
    return reduce(input.amax(dim=1) - picked, reduction)


def binary_sparsemax(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Binary sparsemax loss (Blondel et al., 2020), as ``optax.losses.sparsemax_loss``.

    Args:
      input: (N, *) scores x.
      target: labels in {0, 1} shaped like ``input``.
      reduction: ``none`` (per element), ``sum``, or ``mean`` over all elements.

    Returns:
      l_i = sparse_plus(s_i) with s_i = -x_i for y_i = 1 and x_i for y_i = 0, reduced, where
      sparse_plus(s) = 0 for s <= -1, (s + 1)² / 4 for |s| < 1 and s for s >= 1 (``jax.nn.sparse_plus``).
    """
    s = (1.0 - 2.0 * target.to(input.dtype)) * input
    # (clamp(s, -1, 1) + 1)² / 4 + relu(s - 1): the three pieces of sparse_plus without a where
    inner = s.clamp(-1.0, 1.0)
    return reduce((inner + 1.0).square() / 4.0 + F.relu(s - 1.0), reduction)


def brier(
    input: torch.Tensor, target: torch.Tensor, *, scale_by_half: bool | None = None, reduction: str = "mean"
) -> torch.Tensor:
    """Brier score, as ``sklearn.metrics.brier_score_loss`` (scikit-learn >= 1.7) per sample.

    Args:
      input: probabilities: (N,) or (N, 1) of the positive class, or (N, C) with one column per class.
      target: (N,) labels: 0/1 for the positive class's probabilities, class indices in [0, C) for (N, C).
      scale_by_half: halve the score; None is scikit-learn's ``auto``, which halves it for (N,), (N, 1) and
        (N, 2) probabilities and not for three classes or more.
      reduction: ``none`` (per sample: shaped like a binary ``input``, (N,) for (N, C)), ``sum``, or ``mean``
        over samples (scikit-learn's value).

    Returns:
      Σ_c (p_{n,c} - [c = y_n])², times ½ when halved; for binary input (p_n - y_n)² halved is
      scikit-learn's (1 - p_n - (1 - y_n))² + (p_n - y_n)² halved.
    """
    binary = input.ndim == 1 or input.shape[1] == 1
    if scale_by_half is None:
        scale_by_half = binary or input.shape[1] < 3
    if binary:
        # the two columns (1 - p, p) against (1 - y, y) err by the same amount: twice (p - y)²
        losses = 2.0 * (input - target.reshape(input.shape).to(input.dtype)).square()
    else:
        losses = (input - _class_distribution(input, target)).square().sum(dim=1)
    return reduce(0.5 * losses if scale_by_half else losses, reduction)
