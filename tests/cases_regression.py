"""Reference cases for the regression and distribution losses torch.nn lacks (see ``lossref``).

Each loss is checked against a numpy formula written from its source library's
definition and, where one exists, against the library's own value:
scikit-learn's ``mean_absolute_percentage_error``, ``mean_squared_log_error``,
``mean_pinball_loss``, ``mean_tweedie_deviance``, ``mean_gamma_deviance`` and
``mean_poisson_deviance``, and ``scipy.special.kl_div``.
"""

from __future__ import annotations

import numpy as np

try:
    from tests import lossref
    from tests import references_regression as ref
    from tests.lossref import NAME_DRAWERS, NAME_KINKS, Case, D, N, Reference, numpy_ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import lossref
    import references_regression as ref
    from lossref import NAME_DRAWERS, NAME_KINKS, Case, D, N, Reference, numpy_ref

C = lossref.C
QUANTILES = [0.1, 0.5, 0.9]


def sklearn_ref(fn) -> Reference:
    return Reference(f"scikit-learn {fn.__name__}", fn)


# --- inputs -------------------------------------------------------------------------


def _signed_magnitudes(rng, low, high, shape) -> np.ndarray:
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(low, high, shape)


def _draw_mape(spec, params, rng, zero_targets=False, **options):
    target = np.zeros((N, D)) if zero_targets else _signed_magnitudes(rng, 0.5, 3.0, (N, D))
    return {"input": rng.normal(0.0, 2.0, (N, D)), "target": target}


def _draw_msle(spec, params, rng, clamped=False, **options):
    x, y = np.exp(rng.normal(0.0, 1.5, (N, D))), np.exp(rng.normal(0.0, 1.5, (N, D)))
    if clamped:  # below epsilon, Keras raises both to 1e-7: the loss is flat in x there
        x[0, :] = -rng.uniform(0.2, 2.0, D)
        x[2, 1] = -0.5
        y[1, :] = 0.0
        y[3, 0] = -1.5
    return {"input": x, "target": y}


def _draw_log_cosh(spec, params, rng, large=False, **options):
    y = rng.normal(0.0, 1.5, (N, D))
    if large:  # cosh(d) overflows float64 beyond |d| = 710
        return {"input": y + _signed_magnitudes(rng, 720.0, 900.0, (N, D)), "target": y}
    return {"input": rng.normal(0.0, 1.5, (N, D)), "target": y}


def _draw_pinball(spec, params, rng, layout="single", **options):
    n_quantiles = len(params.get("quantile") or [0.5])
    y = rng.normal(0.0, 2.0, N)
    if layout == "single":
        return {"input": rng.normal(0.0, 2.0, N), "target": y}
    if layout == "same":  # (N, D) against (N, D): one quantile per column, or the same for all
        return {"input": rng.normal(0.0, 2.0, (N, D)), "target": rng.normal(0.0, 2.0, (N, D))}
    offsets = np.linspace(-1.5, 1.5, n_quantiles) if n_quantiles > 1 else np.zeros(1)
    x = y[:, None] + offsets + rng.normal(0.0, 1.0, (N, n_quantiles))
    return {"input": x, "target": y[:, None] if layout == "column" else y}


def _tweedie_target(rng, power: float, shape) -> np.ndarray:
    if power <= 0:
        return rng.normal(0.5, 1.5, shape)  # any real
    if power < 2:  # counts, or compound Poisson-gamma amounts, with exact zeros
        counts = rng.poisson(1.2, shape).astype(np.float64)
        counts.flat[[0, 4]] = 0.0
        return counts if power == 1 else counts * rng.gamma(2.0, 0.7, shape)
    return rng.gamma(2.0, 1.0, shape) + 0.05


def _draw_tweedie(spec, params, rng, **options):
    power = params.get("power", spec.param("power").default if spec.param("power") else 1.5)
    x = rng.normal(0.5, 1.5, (N, D)) if power == 0 else rng.uniform(0.3, 3.0, (N, D))
    return {"input": x, "target": _tweedie_target(rng, power, (N, D))}


def _draw_gamma_deviance(spec, params, rng, **options):
    return {"input": rng.uniform(0.3, 3.0, (N, D)), "target": _tweedie_target(rng, 2.0, (N, D))}


def _draw_poisson_deviance(spec, params, rng, **options):
    return {"input": rng.uniform(0.3, 4.0, (N, D)), "target": _tweedie_target(rng, 1.0, (N, D))}


def _draw_generalized_kl(spec, params, rng, normalized=False, zeros=False, **options):
    if normalized:  # two proper distributions per row: the extra terms cancel and it is the KL divergence
        x = lossref.ref.log_softmax(rng.normal(size=(N, C)))
        y = np.exp(lossref.ref.log_softmax(rng.normal(size=(N, C))))
    else:
        x, y = rng.normal(0.0, 1.0, (N, C)), rng.uniform(0.05, 3.0, (N, C))
    if zeros:
        y[0, 1] = y[2, 0] = y[2, 3] = 0.0
    return {"input": x, "target": y}


NAME_DRAWERS.update(
    mape=_draw_mape,
    msle=_draw_msle,
    log_cosh=_draw_log_cosh,
    pinball=_draw_pinball,
    tweedie=_draw_tweedie,
    gamma_deviance=_draw_gamma_deviance,
    poisson_deviance=_draw_poisson_deviance,
    generalized_kl=_draw_generalized_kl,
)


def _error_kink(a, p) -> float:
    """|x - y| is not differentiable at x = y (targets broadcast over quantile columns)."""
    x, y = a["input"], a["target"]
    if y.ndim == x.ndim - 1:
        y = y[..., None]
    return float(np.abs(x - y).min())


def _clamp_kink(a, p) -> float:
    """max(x, epsilon) is not differentiable at x = epsilon."""
    return float(np.abs(a["input"] - ref.KERAS_EPSILON).min())


NAME_KINKS.update(mape=_error_kink, pinball=_error_kink, msle=_clamp_kink)


# --- cases --------------------------------------------------------------------------

LOG_COSH_CLOSED_FORM = Reference(
    "numpy log_cosh_np, closed-form gradient tanh(d)", ref.log_cosh_np, grad_fn=ref.log_cosh_grad_np
)

CASES = [
    Case("mape", "plain", numpy_ref(ref.mape_np)),
    Case("mape", "sklearn", sklearn_ref(ref.mape_sklearn)),
    Case("mape", "zero_targets", numpy_ref(ref.mape_np), {}, {"zero_targets": True}),
    Case("msle", "plain", numpy_ref(ref.msle_np)),
    Case("msle", "sklearn", sklearn_ref(ref.msle_sklearn)),
    Case("msle", "clamped", numpy_ref(ref.msle_np), {}, {"clamped": True}),
    Case("log_cosh", "plain", numpy_ref(ref.log_cosh_np)),
    Case("log_cosh", "literal", numpy_ref(ref.log_cosh_literal_np)),
    Case("log_cosh", "large_errors", LOG_COSH_CLOSED_FORM, {}, {"large": True}),
    Case("pinball", "median", numpy_ref(ref.pinball_np)),
    Case("pinball", "q90", numpy_ref(ref.pinball_np), {"quantile": [0.9]}),
    Case("pinball", "q90_sklearn", sklearn_ref(ref.pinball_sklearn), {"quantile": [0.9]}),
    Case("pinball", "quantiles", numpy_ref(ref.pinball_np), {"quantile": QUANTILES}, {"layout": "quantiles"}),
    Case(
        "pinball",
        "quantiles_sklearn",
        sklearn_ref(ref.pinball_sklearn),
        {"quantile": QUANTILES},
        {"layout": "quantiles"},
    ),
    Case(
        "pinball",
        "quantiles_column_target",
        sklearn_ref(ref.pinball_sklearn),
        {"quantile": [0.05, 0.25, 0.75, 0.95]},
        {"layout": "column"},
    ),
    Case("pinball", "same_shape_q25", sklearn_ref(ref.pinball_sklearn), {"quantile": [0.25]}, {"layout": "same"}),
    Case(
        "pinball",
        "same_shape_per_column",
        sklearn_ref(ref.pinball_sklearn),
        {"quantile": QUANTILES},
        {"layout": "same"},
    ),
    Case("tweedie", "poisson_p1", sklearn_ref(ref.tweedie_sklearn), {"power": 1.0}),
    Case("tweedie", "default", numpy_ref(ref.tweedie_np)),
    Case("tweedie", "default_sklearn", sklearn_ref(ref.tweedie_sklearn)),
    Case("tweedie", "compound_p1_2", sklearn_ref(ref.tweedie_sklearn), {"power": 1.2}),
    Case("tweedie", "normal_p0", sklearn_ref(ref.tweedie_sklearn), {"power": 0.0}),
    Case("tweedie", "gamma_p2", sklearn_ref(ref.tweedie_sklearn), {"power": 2.0}),
    Case("tweedie", "inverse_gaussian_p3", sklearn_ref(ref.tweedie_sklearn), {"power": 3.0}),
    Case("tweedie", "positive_stable_p2_5", numpy_ref(ref.tweedie_np), {"power": 2.5}),
    Case("tweedie", "extreme_stable_p_neg1", sklearn_ref(ref.tweedie_sklearn), {"power": -1.0}),
    Case("gamma_deviance", "sklearn", sklearn_ref(ref.gamma_deviance_sklearn)),
    Case("gamma_deviance", "plain", numpy_ref(ref.gamma_deviance_np)),
    Case("poisson_deviance", "sklearn", sklearn_ref(ref.poisson_deviance_sklearn)),
    Case("poisson_deviance", "scipy", Reference("scipy scipy.special.kl_div", ref.poisson_deviance_scipy)),
    Case("generalized_kl", "plain", numpy_ref(ref.generalized_kl_np)),
    Case(
        "generalized_kl",
        "scipy_zeros",
        Reference("scipy scipy.special.kl_div", ref.generalized_kl_scipy),
        {},
        {"zeros": True},
    ),
    Case("generalized_kl", "normalized", numpy_ref(ref.generalized_kl_np), {}, {"normalized": True}),
]


# --- robust losses (kornia; Barron 2019) and optax's l2_loss --------------------------------------------


def kornia_ref(name: str) -> Reference:
    """kornia's own loss function, differentiated by autograd."""
    return Reference(f"kornia kornia.losses.{name}", ref.kornia_loss(name), torch_ops=True)


def _draw_robust(spec, params, rng, scale=1.5, **options):
    """Residuals of every size around the bend at |d| ≈ 1; ``scale`` 1e20: residuals whose square overflows
    float32 (and, for 1e160, float64)."""
    y = rng.normal(0.0, 1.5, (N, D))
    if scale > 100:
        return {"input": y + _signed_magnitudes(rng, scale, 4 * scale, (N, D)), "target": y}
    return {"input": rng.normal(0.0, scale, (N, D)), "target": y}


NAME_DRAWERS.update(cauchy=_draw_robust, welsch=_draw_robust, geman_mcclure=_draw_robust)

CASES += [
    Case("cauchy", "kornia", kornia_ref("cauchy_loss")),
    Case("cauchy", "barron_alpha_0", numpy_ref(ref.barron_np(0.0))),
    Case("cauchy", "small_residuals", kornia_ref("cauchy_loss"), {}, {"scale": 0.05}),
    Case("cauchy", "large_residuals", numpy_ref(ref.barron_np(0.0)), {}, {"scale": 1e20}),
    Case("welsch", "kornia", kornia_ref("welsch_loss")),
    Case("welsch", "barron_alpha_minus_inf", numpy_ref(ref.barron_np(-np.inf))),
    Case("welsch", "small_residuals", kornia_ref("welsch_loss"), {}, {"scale": 1e-3}),
    Case("welsch", "large_residuals", kornia_ref("welsch_loss"), {}, {"scale": 1e20}),
    Case("geman_mcclure", "kornia", kornia_ref("geman_mcclure_loss")),
    Case("geman_mcclure", "barron_alpha_minus_2", numpy_ref(ref.barron_np(-2.0))),
    Case("geman_mcclure", "large_residuals", numpy_ref(ref.barron_np(-2.0)), {}, {"scale": 1e20}),
    Case("l2_loss", "plain", numpy_ref(ref.l2_loss_np)),
]
