"""Specs of the regression and distribution losses torch.nn lacks (see ``losscli.losses.regression``).

Keras' percentage and logarithmic errors, log-cosh (optax and Keras), the
pinball loss and the Tweedie deviances that scikit-learn ships as metrics,
and optax's generalized KL divergence.
"""

from __future__ import annotations

from losscli.catalog.torch_nn import INPUT, NOT_IN_ARTICLE, TARGET
from losscli.registry import LossSpec, Param, Role, register

IMPL = "losscli.losses.regression"

register(
    LossSpec(
        name="mape",
        curve="relative",
        torch_name=None,
        source="Keras keras.losses.MeanAbsolutePercentageError",
        family="regression",
        impl=f"{IMPL}:mape",
        aliases=("MeanAbsolutePercentageError", "mean_absolute_percentage_error"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = 100 · |y_i - x_i| / max(|y_i|, 1e-7); mean over all elements",
        use_when="Errors should count relative to the size of the target (demand, prices, "
        "forecasts compared across series of different scales), and the targets stay well away from 0.",
        avoid_when="Targets can be 0 or close to it: one zero target multiplies its error by 1e9 and "
        "swamps the mean. It also favours under-prediction (under-predicting a positive target by a "
        "non-negative amount costs at most 100, over-predicting has no bound), so forecasts come out low.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes="The denominator is |y| floored at Keras' epsilon 1e-7: a negative target counts by its size, "
        "a zero target divides by 1e-7. The gradient is ±100 / max(|y|, 1e-7) per element (0 at x = y). "
        "Keras averages over the last axis and then over the batch, the same as the mean over all elements; "
        "--reduction none gives one value per element. scikit-learn's mean_absolute_percentage_error is this "
        "divided by 100 (its floor is float64's machine epsilon).",
    )
)

register(
    LossSpec(
        name="msle",
        curve="positive",
        torch_name=None,
        source="Keras keras.losses.MeanSquaredLogarithmicError",
        family="regression",
        impl=f"{IMPL}:msle",
        aliases=("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "mean_squared_log_error"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = (log(1 + max(x_i, 1e-7)) - log(1 + max(y_i, 1e-7)))^2; mean over all elements",
        use_when="Non-negative targets spanning orders of magnitude (counts, prices, sales) where relative "
        "errors matter: predicting 110 for 100 costs about as much as 11 for 10, and under-predicting "
        "costs more than over-predicting by the same amount.",
        avoid_when="Predictions can be negative: they are raised to 1e-7 first, so their gradient is 0 and "
        "the model gets no signal to come back; or absolute errors matter (use mse).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes="Both x and y are clamped below at Keras' epsilon 1e-7, so zero and negative predictions "
        "have gradient 0. Computed with log1p, which equals Keras' log(v + 1) without its rounding for "
        "small v. For inputs >= 1e-7 it equals scikit-learn's mean_squared_log_error. --reduction none gives "
        "one value per element (Keras gives the mean over the last axis per sample).",
    )
)

register(
    LossSpec(
        name="log_cosh",
        torch_name=None,
        source="optax optax.losses.log_cosh",
        family="regression",
        impl=f"{IMPL}:log_cosh",
        aliases=("LogCosh",),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = log(cosh(x_i - y_i)) = |d| + softplus(-2|d|) - log 2, d = x_i - y_i; mean over all elements",
        use_when="Regression that should act like mse for small errors (about d²/2) and like l1 for large "
        "ones (about |d| - log 2), with a gradient tanh(d) that is smooth everywhere: a twice "
        "differentiable alternative to huber.",
        avoid_when="You need to choose where quadratic turns linear (huber's delta): log-cosh switches "
        "at |d| ≈ 1 in the units of the target, so rescale targets whose errors are far from that scale.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes="The same as keras.losses.LogCosh. Computed as |d| + softplus(-2|d|) - log 2, which never "
        "takes exp of a large number: log(cosh(d)) taken literally overflows to inf for |d| > 710 in "
        "float64 and |d| > 89 in float32. The gradient tanh(d) is bounded by 1. optax returns per-element "
        "values (--reduction none); Keras' default averages over every element (mean).",
    )
)

register(
    LossSpec(
        name="pinball",
        torch_name=None,
        source="losscli (scikit-learn sklearn.metrics.mean_pinball_loss as a loss; Koenker and Bassett, 1978)",
        family="regression",
        impl=f"{IMPL}:pinball",
        aliases=("quantile", "quantile_regression", "mean_pinball_loss"),
        roles=(
            Role(
                "input",
                "pred",
                "(N,) or (N, D) for one quantile; (N, Q) for Q quantiles",
                doc="predicted quantiles, column k predicting quantile level k",
            ),
            Role(
                "target",
                "target",
                "same shape as input, or (N,) against (N, Q) input",
                doc="true values (one per row is compared with each of the row's quantiles)",
            ),
        ),
        params=(
            Param(
                "quantile",
                None,
                "quantile level q in [0, 1], or a list of Q levels, one per input column, e.g. "
                "[0.1,0.5,0.9]; unset means 0.5 (the median)",
                kind="tensor",
            ),
        ),
        formula="l_ik = max(q_k · (y_i - x_ik), (q_k - 1) · (y_i - x_ik)); mean over all N·Q elements",
        use_when="You want a quantile of the target rather than its mean: prediction intervals "
        "(q = 0.1 and 0.9), asymmetric costs (running out of stock costs more than overstock: q > 0.5), "
        "or several quantiles at once as N×Q predictions against one target column.",
        avoid_when="You want the conditional mean (use mse) or need a smooth gradient: the gradient "
        "is -q or 1 - q per element, whatever the size of the error. Quantile columns are fitted "
        "independently and can cross (the 0.9 column below the 0.5 one); sort them or use a monotone head.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="quantiles",
        decomposition="elements",
        notes="Under-predictions cost q per unit, over-predictions 1 - q; q = 0.5 gives half the absolute "
        "error (l1 / 2). With (N, Q) input and (N,) target each row's target is compared with each of its "
        "Q quantiles; mean averages over all N·Q elements, which equals the mean over quantiles of "
        "scikit-learn's mean_pinball_loss(alpha=q_k) on each column, and --reduction none gives (N, Q). "
        "Levels outside [0, 1], or a count other than 1 or Q, are refused (exit 2). At the kink x = y "
        "the gradient is the average of both sides, 0.5 - q.",
    )
)

register(
    LossSpec(
        name="tweedie",
        curve="positive",
        torch_name=None,
        source="losscli (scikit-learn sklearn.metrics.mean_tweedie_deviance as a loss)",
        family="regression",
        impl=f"{IMPL}:tweedie",
        aliases=("tweedie_deviance", "mean_tweedie_deviance"),
        roles=(
            Role(
                "input",
                "pred",
                "(N, *)",
                doc="predicted means (> 0 unless power = 0): the mean itself, not its log",
            ),
            Role(
                "target",
                "target",
                "same shape as input",
                doc="observed values: any for power <= 0, >= 0 for 1 <= power < 2, > 0 for power >= 2",
            ),
        ),
        params=(
            Param(
                "power",
                1.5,
                "Tweedie power p, <= 0 or >= 1: 0 normal (squared error), 1 Poisson, between 1 and 2 "
                "compound Poisson-gamma, 2 gamma, 3 inverse Gaussian; (0, 1) is refused",
            ),
        ),
        formula="p = 0: (y - x)^2; p = 1: 2 · (y · log(y / x) - y + x); p = 2: 2 · (log(x / y) + y / x - 1); "
        "otherwise 2 · (max(y, 0)^(2-p) / ((1-p)(2-p)) - y · x^(1-p) / (1-p) + x^(2-p) / (2-p)); "
        "mean over all elements",
        use_when="Non-negative targets with many exact zeros and a long right tail (insurance claims, "
        "rainfall, sales per item): 1 < p < 2 models a point mass at 0 plus a continuous part; the "
        "model predicts the mean, usually as exp of a log-link output.",
        avoid_when="Targets are negative (allowed only for p <= 0), or the model outputs log-means "
        "(pass exp of them: tweedie wants x > 0). For pure counts poisson_deviance (p = 1) and for "
        "positive amounts without zeros gamma_deviance (p = 2) say what they are.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="tweedie",
        decomposition="elements",
        notes="The unit deviance exactly as scikit-learn's mean_tweedie_deviance computes it, 0 at x = y. "
        "Inputs are checked as scikit-learn checks them: x > 0 unless p = 0; y >= 0 for 1 <= p < 2 and "
        "y > 0 for p >= 2 (exit 3), and a power in (0, 1) is refused (exit 2). The default power 1.5 is "
        "LightGBM's and XGBoost's; scikit-learn's metric defaults to 0 (the squared error). The formula "
        "subtracts terms of similar size when x ≈ y, so float32 loses digits for large values (and x = y "
        "can come out a rounding error below 0).",
    )
)

register(
    LossSpec(
        name="gamma_deviance",
        curve="positive",
        torch_name=None,
        source="losscli (scikit-learn sklearn.metrics.mean_gamma_deviance as a loss)",
        family="regression",
        impl=f"{IMPL}:gamma_deviance",
        aliases=("mean_gamma_deviance", "gamma"),
        roles=(
            Role("input", "pred", "(N, *)", domain="positive", doc="predicted means > 0 (not their logs)"),
            Role("target", "target", "same shape as input", domain="positive", doc="observed values > 0"),
        ),
        params=(),
        formula="l_i = 2 · (log(x_i / y_i) + y_i / x_i - 1); mean over all elements",
        use_when="Positive continuous targets whose spread grows with their mean (claim sizes, "
        "durations, costs): the loss depends only on the ratio x / y, so every scale counts the same.",
        avoid_when="Targets can be 0 (log(x / y) is undefined: use tweedie with 1 < p < 2), or the "
        "predictions are log-means (pass exp of them).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes="tweedie with power 2. Scale-invariant: multiplying x and y by the same c leaves it "
        "unchanged. x and y must both be > 0 (exit 3 otherwise).",
    )
)

register(
    LossSpec(
        name="poisson_deviance",
        curve="positive",
        torch_name=None,
        source="losscli (scikit-learn sklearn.metrics.mean_poisson_deviance as a loss)",
        family="regression",
        impl=f"{IMPL}:poisson_deviance",
        aliases=("mean_poisson_deviance",),
        roles=(
            Role("input", "pred", "(N, *)", domain="positive", doc="predicted rates > 0 (not their logs)"),
            Role("target", "target", "same shape as input", domain="nonneg", doc="observed counts >= 0"),
        ),
        params=(),
        formula="l_i = 2 · (y_i · log(y_i / x_i) - y_i + x_i), with 0 · log 0 = 0; mean over all elements",
        use_when="Count targets (events, claims, clicks) with a model that predicts the rate itself; it "
        "scores on scikit-learn's mean_poisson_deviance scale, where a perfect fit scores 0.",
        avoid_when="The model outputs log-rates: poisson_nll (log_input=true) takes them directly and "
        "has the same minimiser; or the counts are over-dispersed (variance far above the mean).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="count",
        notes="tweedie with power 1. Equals 2 · (poisson_nll(log x, y) + y · log y - y): the same minimiser "
        "and twice poisson_nll's gradient in x, but 0 at a perfect prediction. A zero count contributes "
        "2x. Predictions must be > 0 (exit 3 otherwise).",
    )
)

register(
    LossSpec(
        name="generalized_kl",
        curve="distribution",
        torch_name=None,
        source="optax optax.losses.generalized_kl_divergence",
        family="distribution",
        impl=f"{IMPL}:generalized_kl",
        aliases=("generalized_kl_divergence", "convex_kl_divergence", "convex_kl", "generalised_kl", "i_divergence"),
        roles=(
            Role(
                "input",
                "pred",
                "(N, C)",
                doc="log-predictions: logs of a non-negative measure, normalised (log_softmax) or not",
            ),
            Role(
                "target",
                "target",
                "(N, C), same shape as input",
                domain="nonneg",
                doc="target measure >= 0 (probabilities or unnormalised amounts), not in log space",
            ),
        ),
        params=(),
        formula="l_n = Σ_c [y_nc · (log y_nc - x_nc) - y_nc + exp(x_nc)] (x = log q); mean over the N rows",
        use_when="Matching non-negative measures that need not sum to 1 (intensities, counts per bin, "
        "non-negative matrix factorisation): it is >= 0 and 0 exactly when exp(x) = y, where kl_div on "
        "unnormalised inputs can turn negative.",
        avoid_when="Both sides are proper distributions and you want torch's conventions (use kl_div "
        "with --reduction batchmean: the same value), or the input holds probabilities rather than "
        "their logs.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="rows",
        decomposition="rows",
        label_kind="distribution",
        notes="optax's convex_kl_divergence is the deprecated name of the same function. Unlike kl_div "
        "(per element y · (log y - x), whose 'mean' divides by N·C), it adds exp(x) - y per element, sums "
        "each row over its last axis and its mean divides by the N rows; --reduction none gives one value "
        "per row. For rows with Σ exp(x) = Σ y, e.g. both normalised, it equals kl_div's batchmean. "
        "Terms with y = 0 contribute exp(x) (0 · log 0 = 0). The gradient is exp(x) - y.",
    )
)

# --- robust losses of Barron (2019), as kornia ships them; optax's l2_loss ---------------------------

BARRON = "Barron, 2019, A General and Adaptive Robust Loss Function (CVPR)"
KORNIA_SCALE = (
    "kornia has no scale argument, and neither has losscli: the penalty stops being quadratic at residuals of "
    "about 1 in the units of the data (Barron's c = 1); for a scale c divide predictions and targets by c first."
)
KORNIA_REDUCTION = "kornia's default reduction is none; losscli's is mean over all elements, as for every loss."

register(
    LossSpec(
        name="cauchy",
        torch_name=None,
        source="kornia kornia.losses.cauchy_loss",
        family="regression",
        impl=f"{IMPL}:cauchy",
        aliases=("cauchy_loss", "CauchyLoss", "lorentzian", "lorentzian_loss"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = log(½ · (x_i - y_i)² + 1) (Barron's ρ with α = 0, c = 1); mean over all elements",
        use_when="Regression (or image residuals, optical flow, registration) with many gross outliers: "
        "quadratic near 0 but only logarithmic beyond, so an outlier's pull d / (1 + d²/2) fades as 1/d "
        "instead of growing as in mse.",
        avoid_when="The errors are Gaussian with few outliers (mse is efficient and convex), or the residuals "
        "are not about unit size (there is no scale: divide x and y by it). Not convex: far from the answer "
        "the gradient is small and training can stall.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes=f"{BARRON}: the general loss ρ(d, α, c) at α = 0, c = 1 (Cauchy/Lorentzian). {KORNIA_SCALE} "
        f"Unbounded, growing as 2 log |d|. Computed as log1p(d²/2), and as 2 log(hypot(d/√2, 1)) for |d| >= 1 "
        f"so that d² never overflows (kornia's log1p(d²/2) is inf past |d| ≈ 1.8e19 in float32). {KORNIA_REDUCTION}",
    )
)

register(
    LossSpec(
        name="welsch",
        torch_name=None,
        source="kornia kornia.losses.welsch_loss",
        family="regression",
        impl=f"{IMPL}:welsch",
        aliases=("welsch_loss", "WelschLoss", "leclerc", "leclerc_loss"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = 1 - exp(-½ · (x_i - y_i)²) (Barron's ρ with α = -∞, c = 1); mean over all elements",
        use_when="Regression or image residuals where outliers should be ignored outright: the loss saturates "
        "at 1 and an outlier's gradient d · exp(-d²/2) vanishes, so a few wild targets cannot move the fit.",
        avoid_when="Training starts far from the answer: residuals beyond about 3 get almost no gradient, so "
        "initialise with mse or l1 first; or the residuals are not about unit size (divide x and y by a scale).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes=f"{BARRON}: the general loss at α = -∞, c = 1 (Welsch, also called Leclerc). {KORNIA_SCALE} "
        f"Computed as -expm1(-d²/2), exact for small d where 1 - exp cancels (kornia uses an equivalent tanh "
        f"form there). {KORNIA_REDUCTION}",
    )
)

register(
    LossSpec(
        name="geman_mcclure",
        torch_name=None,
        source="kornia kornia.losses.geman_mcclure_loss",
        family="regression",
        impl=f"{IMPL}:geman_mcclure",
        aliases=("geman_mcclure_loss", "GemanMcclureLoss", "geman_mc_clure"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = 2 · (x_i - y_i)² / ((x_i - y_i)² + 4) (Barron's ρ with α = -2, c = 1); mean over all elements",
        use_when="Regression or image residuals with outliers that should count only a bounded amount: "
        "quadratic near 0, saturating at 2, with a gradient 16 d / (d² + 4)² that fades as 1/d³; between "
        "cauchy (unbounded) and welsch (saturating faster).",
        avoid_when="You need a convex loss or a useful gradient far from the answer (it fades for |d| beyond "
        "a few units); or the residuals are not about unit size (divide x and y by a scale).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes=f"{BARRON}: the general loss at α = -2, c = 1. Note the scale: Geman and McClure's own form "
        f"d² / (d² + σ²) is half of this with σ = 2; losscli follows kornia (and Barron). {KORNIA_SCALE} "
        f"Computed as 2 · (d / hypot(d, 2))², which never squares a large d (kornia's d² / (d² + 4) is "
        f"inf / inf = NaN past |d| ≈ 1.8e19 in float32). {KORNIA_REDUCTION}",
    )
)

register(
    LossSpec(
        name="l2_loss",
        torch_name=None,
        source="optax optax.losses.l2_loss",
        family="regression",
        impl=f"{IMPL}:l2_loss",
        aliases=("half_squared_error", "half_mse"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = ½ · (x_i - y_i)²; mean over all elements",
        use_when="You want optax's (and Bishop's) L2 loss with the ½ that makes its gradient the plain error "
        "x - y, e.g. to match a JAX training loop's loss values: half of mse.",
        avoid_when="You want the sum of squared errors (use l2, which is torch's MSELoss(reduction='sum'), "
        "without the ½) or the mean squared error itself (mse).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        notes="The name l2_loss used to be an alias of l2 (the sum of squared errors, without the ½): it now "
        "names optax's loss, and `losscli compute l2_loss` computes this. optax returns per-element values "
        "(--reduction none); losscli's default mean is mse / 2, and --reduction sum gives l2 / 2. optax's "
        "squared_error is the same without the ½ (mse here).",
    )
)
