"""Regression and distribution losses torch.nn lacks, written in torch ops so autograd gives their gradients.

Keras' percentage and log errors, log-cosh, the pinball (quantile) loss, the
Tweedie deviances as scikit-learn defines them, and optax's generalized KL
divergence. Each function takes ``input`` (the predictions) and ``target``
positionally, ``reduction`` and its parameters as keywords.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from losscli.losses import reduce

KERAS_EPSILON = 1e-7
"""``keras.backend.epsilon()``: the floor of MAPE's denominator and of MSLE's logs."""


def mape(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute percentage error, as ``keras.losses.MeanAbsolutePercentageError``.

    l_i = 100 · |y_i - x_i| / max(|y_i|, 1e-7)

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element).

    Returns:
      The per-element losses or their reduction. A target of 0 divides by
      1e-7, so its error is multiplied by 1e9.
    """
    return reduce(100.0 * (target - input).abs() / target.abs().clamp(min=KERAS_EPSILON), reduction)


def msle(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Mean squared logarithmic error, as ``keras.losses.MeanSquaredLogarithmicError``.

    l_i = (log(1 + max(x_i, 1e-7)) - log(1 + max(y_i, 1e-7)))^2

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element).

    Returns:
      The per-element losses or their reduction. Values below 1e-7 (zero and
      negative ones too) are raised to 1e-7 first, as Keras does, so a
      negative prediction has zero gradient.
    """
    # log1p(v) is Keras' log(v + 1), without the rounding of 1 + v for small v.
    first = torch.log1p(input.clamp(min=KERAS_EPSILON))
    second = torch.log1p(target.clamp(min=KERAS_EPSILON))
    return reduce((first - second) ** 2, reduction)


def log_cosh(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Log-cosh loss, as ``optax.losses.log_cosh`` and ``keras.losses.LogCosh``.

    l_i = log(cosh(x_i - y_i)) = |d| + softplus(-2|d|) - log 2, d = x_i - y_i

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element).

    Returns:
      The per-element losses or their reduction: about d²/2 for small errors
      and |d| - log 2 for large ones.
    """
    # cosh(d) = exp(|d|) · (1 + exp(-2|d|)) / 2: no exp of a large number, so no
    # overflow, and the softplus term only ever sees arguments <= 0.
    d = (input - target).abs()
    return reduce(d + F.softplus(-2.0 * d) - math.log(2.0), reduction)


def pinball(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    quantile: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Pinball (quantile) loss; for one quantile q, ``sklearn.metrics.mean_pinball_loss(alpha=q)`` per element.

    l_i = max(q · (y_i - x_i), (q - 1) · (y_i - x_i))

    Args:
      input: predicted quantiles x: (N,) or (N, D) for one quantile, or
        (N, Q) with column k predicting quantile q_k.
      target: true values y: shaped like ``input``, or (N,) against (N, Q)
        predictions (each row's target compared with each of its quantiles).
      quantile: the quantile levels in [0, 1], one or Q of them (Q for
        (N, Q) predictions); None means the median, 0.5.
      reduction: ``none`` (per element, shaped like ``input``), ``sum``, or
        ``mean`` over all N·Q elements (the mean over quantiles of
        scikit-learn's per-quantile means).

    Returns:
      The per-element losses or their reduction.
    """
    if quantile is None:
        quantile = torch.full((1,), 0.5, dtype=input.dtype)
    q = quantile.to(dtype=input.dtype).reshape(-1)
    if q.numel() > 1 and (input.ndim < 2 or input.shape[-1] != q.numel()):
        raise ValueError(f"{q.numel()} quantiles need predictions with {q.numel()} columns, got {tuple(input.shape)}")
    if target.ndim == input.ndim - 1:
        target = target.unsqueeze(-1)  # (N,) against (N, Q): one target per row, broadcast over the quantiles
    diff = target - input
    # Under-predictions (diff > 0) cost q per unit, over-predictions 1 - q.
    return reduce(torch.maximum(q * diff, (q - 1.0) * diff), reduction)


def _tweedie_deviance(x: torch.Tensor, y: torch.Tensor, p: float) -> torch.Tensor:
    """The unit deviance of scikit-learn's ``mean_tweedie_deviance``, per element."""
    if 0 < p < 1:
        raise ValueError(f"no Tweedie distribution has power {p} in (0, 1)")
    if p == 0:
        return (y - x) ** 2
    if p == 1:
        # 2 (y log(y / x) - y + x), with 0 · log 0 = 0. xlogy(y, y) - y · log(x)
        # rather than xlogy(y, y / x): the latter's backward divides 0 by 0 at y = 0.
        return 2.0 * (torch.special.xlogy(y, y) - y * torch.log(x) - y + x)
    if p == 2:
        return 2.0 * (torch.log(x / y) + y / x - 1.0)
    # The positive part keeps y^(2-p) real for p < 0, where y may be negative.
    return 2.0 * (
        y.clamp(min=0) ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
        - y * x ** (1.0 - p) / (1.0 - p)
        + x ** (2.0 - p) / (2.0 - p)
    )


def tweedie(input: torch.Tensor, target: torch.Tensor, *, power: float = 1.5, reduction: str = "mean") -> torch.Tensor:
    """Tweedie deviance of power p, as ``sklearn.metrics.mean_tweedie_deviance(power=p)`` per element.

    p = 0:  (y - x)^2
    p = 1:  2 · (y · log(y / x) - y + x)
    p = 2:  2 · (log(x / y) + y / x - 1)
    else:   2 · (max(y, 0)^(2-p) / ((1-p)(2-p)) - y · x^(1-p) / (1-p) + x^(2-p) / (2-p))

    Args:
      input: predicted means x, any shape; > 0 unless p = 0.
      target: observed values y, the same shape; any real for p <= 0, >= 0
        for 1 <= p < 2, > 0 for p >= 2.
      power: p <= 0 or p >= 1 (0 normal, 1 Poisson, (1, 2) compound
        Poisson-gamma, 2 gamma, 3 inverse Gaussian); (0, 1) raises ValueError.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element).

    Returns:
      The per-element deviances or their reduction.
    """
    return reduce(_tweedie_deviance(input, target, power), reduction)


def gamma_deviance(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Gamma deviance, as ``sklearn.metrics.mean_gamma_deviance`` per element: the Tweedie deviance with p = 2.

    l_i = 2 · (log(x_i / y_i) + y_i / x_i - 1)

    Args:
      input: predicted means x > 0, any shape.
      target: observed values y > 0, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element).

    Returns:
      The per-element deviances or their reduction.
    """
    return reduce(_tweedie_deviance(input, target, 2.0), reduction)


def poisson_deviance(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Poisson deviance, as ``sklearn.metrics.mean_poisson_deviance`` per element: the Tweedie deviance with p = 1.

    l_i = 2 · (y_i · log(y_i / x_i) - y_i + x_i), with 0 · log 0 = 0

    Args:
      input: predicted means x > 0 (rates, not their logs), any shape.
      target: observed counts y >= 0, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element).

    Returns:
      The per-element deviances or their reduction.
    """
    return reduce(_tweedie_deviance(input, target, 1.0), reduction)


def generalized_kl(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Generalized KL divergence of each row, as ``optax.losses.generalized_kl_divergence``.

    l_n = Σ_c [ y_nc · (log y_nc - x_nc) - y_nc + exp(x_nc) ], with 0 · log 0 = 0

    The Bregman divergence of t·log t - t: a divergence between non-negative
    measures that need not sum to 1. For normalised rows Σ exp(x) = Σ y = 1 and
    it is the KL divergence of each row.

    Args:
      input: log-predictions x (logs of a non-negative measure), (N, C) or
        (N, ..., C).
      target: the target measure y >= 0, the same shape (not in log space).
      reduction: ``none`` (one value per row: the shape of ``input`` without
        its last axis), ``sum``, or ``mean`` over the rows.

    Returns:
      The per-row divergences or their reduction.
    """
    per_element = torch.special.xlogy(target, target) - target * input - target + torch.exp(input)
    return reduce(per_element.sum(dim=-1), reduction)


# --- Barron's (2019) robust losses at scale c = 1, as kornia.losses ships them; optax's l2_loss ---------


def cauchy(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Cauchy (Lorentzian) loss, as ``kornia.losses.cauchy_loss``: Barron's general loss at α = 0, c = 1.

    l_i = log(½ · (x_i - y_i)² + 1)

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element; kornia's default is none).

    Returns:
      The per-element losses or their reduction.
    """
    d = input - target
    # log1p(d²/2) = 2 log(sqrt(1 + d²/2)) = 2 log(hypot(d/√2, 1)): the hypot form never squares a large d
    # (d² overflows past |d| ≈ 1.8e19 in float32), log1p keeps small d exact; both branches have finite
    # gradients everywhere, so torch.where passes no NaN back
    small = d.abs() < 1.0
    return reduce(
        torch.where(
            small, torch.log1p(0.5 * d.square()), 2.0 * torch.log(torch.hypot(d / math.sqrt(2.0), torch.ones_like(d)))
        ),
        reduction,
    )


def welsch(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Welsch (Leclerc) loss, as ``kornia.losses.welsch_loss``: Barron's general loss at α = -∞, c = 1.

    l_i = 1 - exp(-½ · (x_i - y_i)²)

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element; kornia's default is none).

    Returns:
      The per-element losses or their reduction, each in [0, 1).
    """
    # -expm1 does not cancel for small d, where 1 - exp(-d²/2) would round to 0
    return reduce(-torch.expm1(-0.5 * (input - target).square()), reduction)


def geman_mcclure(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Geman-McClure loss, as ``kornia.losses.geman_mcclure_loss``: Barron's general loss at α = -2, c = 1.

    l_i = 2 · (x_i - y_i)² / ((x_i - y_i)² + 4)

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      reduction: ``none`` (per element), ``sum`` or ``mean`` (over every element; kornia's default is none).

    Returns:
      The per-element losses or their reduction, each in [0, 2).
    """
    d = input - target
    # d² / (d² + 4) = (d / hypot(d, 2))²: no square of a large d, which would give inf / inf = NaN
    return reduce(2.0 * (d / torch.hypot(d, torch.full_like(d, 2.0))).square(), reduction)


def l2_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Half the squared error, as ``optax.losses.l2_loss``.

    l_i = ½ · (x_i - y_i)²

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      reduction: ``none`` (per element, as optax returns it), ``sum`` or ``mean`` (over every element).

    Returns:
      The per-element losses or their reduction: mse / 2 under ``mean``.
    """
    return reduce(0.5 * (input - target).square(), reduction)
