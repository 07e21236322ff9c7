"""Independent references for the regression and distribution losses torch.nn lacks.

Each takes float64 arrays ``a`` (by role name), the case's parameters ``p`` and
a reduction, and returns the per-element (per-row for ``generalized_kl``)
losses or their reduction, like ``references``. Two kinds:

* ``*_np``: numpy, written from the source library's definition (Keras'
  losses.py, optax's losses, scikit-learn's ``_mean_tweedie_deviance``), never
  from losscli's torch code.
* ``*_sklearn`` / ``*_scipy``: the value computed by scikit-learn's metric (or
  ``scipy.special.kl_div``) itself. Per-element values come from the metric on
  one element at a time (or on one sample with ``multioutput='raw_values'``),
  and ``mean`` from the metric on all of them.

Gradients come from finite differences unless a ``*_grad_np`` gives them in
closed form (where the values are too large for differences to resolve them).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import kl_div as scipy_kl_div
from sklearn.metrics import (
    mean_absolute_percentage_error,
    mean_gamma_deviance,
    mean_pinball_loss,
    mean_poisson_deviance,
    mean_squared_log_error,
    mean_tweedie_deviance,
)

try:
    from tests.references import reduce
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from references import reduce

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()


def _grad_scale(x: np.ndarray, reduction: str) -> float:
    """d(reduced value)/d(per-element value): 1/n for mean, 1 for sum and for the sum of ``none``'s values."""
    return 1.0 / x.size if reduction == "mean" else 1.0


def _per_element(metric, x: np.ndarray, y: np.ndarray, **kwargs) -> np.ndarray:
    """A scikit-learn metric on each element alone: its per-element loss."""
    out = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        out[i] = metric(np.array([y[i]]), np.array([x[i]]), **kwargs)
    return out


# --- Keras: MeanAbsolutePercentageError, MeanSquaredLogarithmicError ------------------


def mape_np(a, p, reduction):
    """Keras: 100 · |y - x| / max(|y|, epsilon)."""
    x, y = a["input"], a["target"]
    return reduce(100.0 * np.abs((y - x) / np.maximum(np.abs(y), KERAS_EPSILON)), reduction)


def mape_sklearn(a, p, reduction):
    """100 × scikit-learn's mean_absolute_percentage_error (the same as Keras' for targets far from 0)."""
    x, y = a["input"], a["target"]
    if reduction == "mean":
        return np.asarray(100.0 * mean_absolute_percentage_error(y, x))
    per_element = mean_absolute_percentage_error(y.reshape(1, -1), x.reshape(1, -1), multioutput="raw_values")
    return reduce(100.0 * per_element.reshape(x.shape), reduction)


def msle_np(a, p, reduction):
    """Keras: (log(max(x, epsilon) + 1) - log(max(y, epsilon) + 1))^2."""
    x, y = a["input"], a["target"]
    first = np.log(np.maximum(x, KERAS_EPSILON) + 1.0)
    second = np.log(np.maximum(y, KERAS_EPSILON) + 1.0)
    return reduce((first - second) ** 2, reduction)


def msle_sklearn(a, p, reduction):
    """scikit-learn's mean_squared_log_error, (log1p(y) - log1p(x))^2 (Keras' for inputs >= epsilon)."""
    x, y = a["input"], a["target"]
    if reduction == "mean":
        return np.asarray(mean_squared_log_error(y, x))
    per_element = mean_squared_log_error(y.reshape(1, -1), x.reshape(1, -1), multioutput="raw_values")
    return reduce(per_element.reshape(x.shape), reduction)


# --- log-cosh -----------------------------------------------------------------------


def log_cosh_np(a, p, reduction):
    """optax: logaddexp(d, -d) - log 2, d = x - y."""
    d = a["input"] - a["target"]
    return reduce(np.logaddexp(d, -d) - math.log(2.0), reduction)


def log_cosh_literal_np(a, p, reduction):
    """Keras' docstring formula taken literally: log((exp(d) + exp(-d)) / 2) (overflows for |d| > 710)."""
    d = a["input"] - a["target"]
    return reduce(np.log((np.exp(d) + np.exp(-d)) / 2.0), reduction)


def log_cosh_grad_np(a, p, reduction):
    """d log(cosh(d)) / dx = tanh(d)."""
    x = a["input"]
    return {"input": np.tanh(x - a["target"]) * _grad_scale(x, reduction)}


# --- pinball ------------------------------------------------------------------------


def _levels(p) -> np.ndarray:
    quantile = p.get("quantile")
    return np.asarray([0.5] if quantile is None else quantile, dtype=np.float64)


def _columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The target against each column of (N, Q) predictions, or as it is when shaped like them."""
    return y.reshape(y.shape[0], -1) if y.shape != x.shape else y


def pinball_np(a, p, reduction):
    """q · max(y - x, 0) + (1 - q) · max(x - y, 0), q_k for column k."""
    x = a["input"]
    y, q = _columns(x, a["target"]), _levels(p)
    return reduce(q * np.maximum(y - x, 0.0) + (1.0 - q) * np.maximum(x - y, 0.0), reduction)


def pinball_sklearn(a, p, reduction):
    """scikit-learn's mean_pinball_loss(alpha=q_k) on each quantile's column; mean: the mean over quantiles."""
    x, y, q = a["input"], a["target"], _levels(p)
    if x.ndim == 1 or len(q) == 1:  # one quantile, targets shaped like the predictions
        if reduction == "mean":
            return np.asarray(mean_pinball_loss(y, x, alpha=float(q[0])))
        raw = mean_pinball_loss(y.reshape(1, -1), x.reshape(1, -1), alpha=float(q[0]), multioutput="raw_values")
        return reduce(raw.reshape(x.shape), reduction)
    y = np.broadcast_to(_columns(x, y), x.shape)
    if reduction == "mean":
        return np.asarray(np.mean([mean_pinball_loss(y[:, k], x[:, k], alpha=q[k]) for k in range(len(q))]))
    columns = [
        mean_pinball_loss(y[None, :, k], x[None, :, k], alpha=q[k], multioutput="raw_values") for k in range(len(q))
    ]
    return reduce(np.stack(columns, axis=1), reduction)


# --- Tweedie deviances --------------------------------------------------------------


def tweedie_np(a, p, reduction):
    """scikit-learn's unit Tweedie deviance, branch by branch."""
    x, y, power = a["input"], a["target"], p.get("power", 1.5)
    if power == 0:
        dev = (y - x) ** 2
    elif power == 1:
        y_log_y_over_x = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / x), 0.0)
        dev = 2 * (y_log_y_over_x - y + x)
    elif power == 2:
        dev = 2 * (np.log(x / y) + y / x - 1)
    else:
        dev = 2 * (
            np.where(y > 0, y, 0.0) ** (2 - power) / ((1 - power) * (2 - power))
            - y * x ** (1 - power) / (1 - power)
            + x ** (2 - power) / (2 - power)
        )
    return reduce(dev, reduction)


def tweedie_sklearn(a, p, reduction):
    """scikit-learn's mean_tweedie_deviance(power=p)."""
    x, y, power = a["input"], a["target"], p.get("power", 1.5)
    if reduction == "mean":
        return np.asarray(mean_tweedie_deviance(y.ravel(), x.ravel(), power=power))
    return reduce(_per_element(mean_tweedie_deviance, x, y, power=power), reduction)


def gamma_deviance_np(a, p, reduction):
    return tweedie_np(a, {"power": 2.0}, reduction)


def gamma_deviance_sklearn(a, p, reduction):
    """scikit-learn's mean_gamma_deviance."""
    x, y = a["input"], a["target"]
    if reduction == "mean":
        return np.asarray(mean_gamma_deviance(y.ravel(), x.ravel()))
    return reduce(_per_element(mean_gamma_deviance, x, y), reduction)


def poisson_deviance_sklearn(a, p, reduction):
    """scikit-learn's mean_poisson_deviance."""
    x, y = a["input"], a["target"]
    if reduction == "mean":
        return np.asarray(mean_poisson_deviance(y.ravel(), x.ravel()))
    return reduce(_per_element(mean_poisson_deviance, x, y), reduction)


def poisson_deviance_scipy(a, p, reduction):
    """2 · scipy.special.kl_div(y, x): scipy's elementwise y · log(y / x) - y + x is half the Poisson deviance."""
    return reduce(2.0 * scipy_kl_div(a["target"], a["input"]), reduction)


# --- generalized KL (optax) ---------------------------------------------------------


def generalized_kl_np(a, p, reduction):
    """optax: Σ_c y · (where(y == 0, 0, log y) - x) + Σ_c (exp(x) - y), per row."""
    x, y = a["input"], a["target"]
    kl = (y * (np.where(y == 0, 0.0, np.log(np.where(y == 0, 1.0, y))) - x)).sum(axis=-1)
    return reduce(kl + (np.exp(x) - y).sum(axis=-1), reduction)


def generalized_kl_scipy(a, p, reduction):
    """Σ_c scipy.special.kl_div(y, exp(x)): scipy's elementwise y · log(y / q) - y + q, summed per row."""
    return reduce(scipy_kl_div(a["target"], np.exp(a["input"])).sum(axis=-1), reduction)


# --- Barron (2019)'s general robust loss; kornia's cauchy, welsch and geman_mcclure losses ---------------


def barron_rho(d: np.ndarray, alpha: float, c: float = 1.0) -> np.ndarray:
    """ρ(d, α, c) of Barron, 2019 (eq. 1 and its limits α = 0, α = -∞), in numpy, from the paper.

    ρ = |α - 2| / α · (((d / c)² / |α - 2| + 1)^(α / 2) - 1); α = 0: log(½ (d / c)² + 1);
    α = -∞: 1 - exp(-½ (d / c)²).
    """
    z = (d / c) ** 2
    if alpha == 0:
        return np.log(0.5 * z + 1.0)
    if alpha == -np.inf:
        return 1.0 - np.exp(-0.5 * z)
    b = abs(alpha - 2.0)
    return b / alpha * ((z / b + 1.0) ** (alpha / 2.0) - 1.0)


def barron_np(alpha: float):
    """The numpy reference of Barron's loss at ``alpha`` (c = 1, kornia's scale) per element."""

    def reference(a, p, reduction):
        return reduce(barron_rho(a["input"] - a["target"], alpha), reduction)

    reference.__name__ = f"barron_rho_alpha_{alpha}"
    return reference


def kornia_loss(name: str):
    """kornia's own function ``kornia.losses.<name>`` on torch tensors (imported on use)."""

    def reference(t, p, reduction):
        import kornia.losses

        return getattr(kornia.losses, name)(t["input"], t["target"], reduction=reduction)

    reference.__name__ = name
    return reference


def l2_loss_np(a, p, reduction):
    """optax l2_loss: 0.5 * squared_error(predictions, targets), elementwise."""
    return reduce(0.5 * (a["input"] - a["target"]) ** 2, reduction)
