"""Every registered loss against an independent reference, under every reduction it allows.

``CASES`` holds one or more reference cases per loss (parameters, a data
variant and the reference that backs it). Tests are parametrized over the
cases and, through them, over ``list_losses()``: a loss registered without a
case fails ``test_every_loss_has_a_reference``.

Inputs come from ``make_inputs``, one seeded factory keyed by ``spec.name`` and
``spec.shape_rule``; it redraws until every hinge, clamp and kink of the loss is
at least ``MIN_KINK`` away, so finite differences and gradcheck are stable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

from losscli.engine.core import build_loss, compute
from losscli.engine.validate import Input, validate
from losscli.registry import LossSpec, get_loss, list_losses

try:
    from tests import (
        cases_classification,
        cases_geometry,
        cases_image,
        cases_metric,
        cases_regression,
        cases_segmentation,
    )
    from tests import references as ref
    from tests.lossref import (
        FD_ATOL,
        FD_RTOL,
        RTOL,
        C,
        Case,
        D,
        N,
        Reference,
        numpy_ref,
        torch_ref,
    )
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import cases_classification
    import cases_geometry
    import cases_image
    import cases_metric
    import cases_regression
    import cases_segmentation
    import references as ref
    from lossref import FD_ATOL, FD_RTOL, RTOL, C, Case, D, N, Reference, numpy_ref, torch_ref

CE = torch_ref("CrossEntropyLoss", ref.cross_entropy_torch)
NLL = torch_ref("NLLLoss", ref.nll_torch, autograd=False)  # its output is rebuilt with new_tensor: no graph
NLL_ND = torch_ref("NLLLossNd", ref.nll_torch)
KL = torch_ref("KLDivLoss", ref.kl_div_torch)
CTC = torch_ref("CTCLoss", ref.ctc_torch)
GAUSSIAN_CLOSED_FORM = Reference(
    "numpy gaussian_nll_np, closed-form gradient", ref.gaussian_nll_np, grad_fn=ref.gaussian_nll_grad_np
)
W4 = [0.5, 2.0, 1.0, 3.0]

CASES = [
    Case("l1", "plain", numpy_ref(ref.l1_np)),
    Case("mse", "plain", numpy_ref(ref.squared_error_np)),
    Case("l2", "plain", numpy_ref(ref.squared_error_np)),
    Case("cross_entropy", "plain", CE),
    Case("cross_entropy", "weight", CE, {"weight": W4}),
    Case("cross_entropy", "ignore_default", CE, {}, {"ignore_index": -100}),
    Case("cross_entropy", "ignore_weight", CE, {"ignore_index": 2, "weight": W4}, {"ignore_index": 2}),
    Case("cross_entropy", "label_smoothing", CE, {"label_smoothing": 0.1}),
    Case(
        "cross_entropy",
        "smoothing_weight_ignore",
        CE,
        {"label_smoothing": 0.2, "weight": W4, "ignore_index": 1},
        {"ignore_index": 1},
    ),
    Case("cross_entropy", "soft", CE, {}, {"soft": True}),
    Case("cross_entropy", "soft_weight_smoothing", CE, {"weight": W4, "label_smoothing": 0.3}, {"soft": True}),
    Case("cross_entropy", "kdim_weight", CE, {"weight": W4}, {"kdim": True}),
    Case("cross_entropy", "onehot_int_targets", CE, {}, {"onehot": True}),
    Case(
        "cross_entropy",
        "numpy_smoothing_weight_ignore",
        numpy_ref(ref.cross_entropy_np),
        {"label_smoothing": 0.2, "weight": W4, "ignore_index": 3},
        {"ignore_index": 3},
    ),
    Case(
        "cross_entropy",
        "numpy_soft_smoothing",
        numpy_ref(ref.cross_entropy_np),
        {"label_smoothing": 0.25, "weight": W4},
        {"soft": True},
    ),
    Case("nll", "plain", NLL),
    Case("nll", "weight", NLL, {"weight": W4}),
    Case("nll", "ignore_weight", NLL, {"weight": W4, "ignore_index": 0}, {"ignore_index": 0}),
    Case("nll2d", "plain", NLL_ND),
    Case("nll2d", "ignore_weight", NLL_ND, {"weight": W4, "ignore_index": 3}, {"ignore_index": 3}),
    Case("poisson_nll", "plain", numpy_ref(ref.poisson_nll_np)),
    Case("poisson_nll", "full", numpy_ref(ref.poisson_nll_np), {"full": True}),
    Case("poisson_nll", "rate_input", numpy_ref(ref.poisson_nll_np), {"log_input": False}),
    Case(
        "poisson_nll",
        "rate_input_full_eps",
        numpy_ref(ref.poisson_nll_np),
        {"log_input": False, "full": True, "eps": 0.1},
    ),
    Case("gaussian_nll", "var_per_output", numpy_ref(ref.gaussian_nll_np)),
    Case("gaussian_nll", "var_n1", numpy_ref(ref.gaussian_nll_np), {}, {"var_shape": (N, 1)}),
    Case("gaussian_nll", "var_n", numpy_ref(ref.gaussian_nll_np), {"full": True}, {"var_shape": (N,)}),
    Case("gaussian_nll", "full_eps", numpy_ref(ref.gaussian_nll_np), {"full": True, "eps": 0.1}),
    Case(
        "gaussian_nll",
        "clamped_var",
        GAUSSIAN_CLOSED_FORM,
        {"eps": 0.1},
        {"var_range": (0.01, 0.3)},
        autograd_differs="autograd ignores the clamp of the variance at eps (torch documents it)",
    ),
    Case("kl_div", "plain", KL),
    Case("kl_div", "log_target", torch_ref("KLDivLoss_log_target", ref.kl_div_torch), {"log_target": True}),
    Case("kl_div", "numpy_zero_target", numpy_ref(ref.kl_div_np), {}, {"zero_target": True}),
    Case("bce", "soft", numpy_ref(ref.bce_np)),
    Case("bce", "hard_weight", numpy_ref(ref.bce_np), {"weight": [0.5, 2.0, 1.5]}, {"hard": True}),
    Case("bce", "scalar_weight", numpy_ref(ref.bce_np), {"weight": [3.0]}),
    Case("bce_with_logits", "soft", numpy_ref(ref.bce_with_logits_np)),
    Case(
        "bce_with_logits",
        "pos_weight",
        numpy_ref(ref.bce_with_logits_np),
        {"pos_weight": [3.0, 0.5, 1.0]},
        {"hard": True},
    ),
    Case(
        "bce_with_logits",
        "weight_pos_weight",
        numpy_ref(ref.bce_with_logits_np),
        {"weight": [0.5, 2.0, 1.5], "pos_weight": [3.0, 0.5, 1.0]},
    ),
    Case("margin_ranking", "plain", torch_ref("MarginRankingLoss", ref.margin_ranking_torch)),
    Case("margin_ranking", "margin", torch_ref("MarginRankingLoss", ref.margin_ranking_torch), {"margin": 0.5}),
    Case("hinge_embedding", "plain", torch_ref("HingeEmbeddingLoss", ref.hinge_embedding_torch)),
    Case("hinge_embedding", "margin", torch_ref("HingeEmbeddingLoss", ref.hinge_embedding_torch), {"margin": 2.0}),
    Case("multilabel_margin", "padded", torch_ref("MultiLabelMarginLoss", ref.multilabel_margin_torch)),
    Case("smooth_l1", "plain", torch_ref("SmoothL1Loss", ref.smooth_l1_torch)),
    Case("smooth_l1", "beta", torch_ref("SmoothL1Loss", ref.smooth_l1_torch), {"beta": 0.5}),
    Case("smooth_l1", "beta_zero", torch_ref("SmoothL1Loss", ref.smooth_l1_torch), {"beta": 0.0}),
    Case("huber", "plain", torch_ref("HuberLoss", ref.huber_torch)),
    Case("huber", "delta", torch_ref("HuberLoss", ref.huber_torch), {"delta": 2.0}),
    Case("soft_margin", "plain", torch_ref("SoftMarginLoss", ref.soft_margin_torch)),
    Case("multilabel_soft_margin", "soft", numpy_ref(ref.multilabel_soft_margin_np)),
    Case(
        "multilabel_soft_margin",
        "hard_weight",
        numpy_ref(ref.multilabel_soft_margin_np),
        {"weight": [0.5, 2.0, 1.5]},
        {"hard": True},
    ),
    Case("cosine_embedding", "plain", torch_ref("CosineEmbeddingLoss", ref.cosine_embedding_torch)),
    Case("cosine_embedding", "margin", torch_ref("CosineEmbeddingLoss", ref.cosine_embedding_torch), {"margin": 0.3}),
    Case(
        "cosine_embedding",
        "negative_margin",
        torch_ref("CosineEmbeddingLoss", ref.cosine_embedding_torch),
        {"margin": -0.2},
    ),
    Case("multi_margin", "plain", torch_ref("MultiMarginLoss", ref.multi_margin_torch)),
    Case("multi_margin", "squared", torch_ref("MultiMarginLoss", ref.multi_margin_torch), {"p": 2}),
    Case(
        "multi_margin",
        "margin_weight",
        torch_ref("MultiMarginLoss", ref.multi_margin_torch),
        {"margin": 0.5, "weight": W4},
    ),
    Case(
        "multi_margin",
        "squared_weight",
        torch_ref("MultiMarginLoss", ref.multi_margin_torch),
        {"p": 2, "weight": W4, "margin": 2.0},
    ),
    Case("triplet_margin", "plain", torch_ref("TripletMarginLoss", ref.triplet_margin_torch)),
    Case("triplet_margin", "swap", torch_ref("TripletMarginLoss", ref.triplet_margin_torch), {"swap": True}),
    Case(
        "triplet_margin",
        "p1_margin_eps",
        torch_ref("TripletMarginLoss", ref.triplet_margin_torch),
        {"p": 1.0, "margin": 0.5, "eps": 0.01},
    ),
    Case("triplet_margin", "numpy_p3_swap", numpy_ref(ref.triplet_margin_np), {"p": 3.0, "swap": True}),
    Case("triplet_margin_with_distance", "pairwise", numpy_ref(ref.triplet_margin_with_distance_np)),
    Case(
        "triplet_margin_with_distance",
        "pairwise_swap",
        numpy_ref(ref.triplet_margin_with_distance_np),
        {"distance": "pairwise", "swap": True, "margin": 2.0},
    ),
    Case(
        "triplet_margin_with_distance", "cosine", numpy_ref(ref.triplet_margin_with_distance_np), {"distance": "cosine"}
    ),
    Case(
        "triplet_margin_with_distance",
        "cosine_swap",
        numpy_ref(ref.triplet_margin_with_distance_np),
        {"distance": "cosine", "swap": True, "margin": 0.2},
    ),
    Case("ctc", "padded_lengths", CTC),
    Case("ctc", "default_lengths", CTC, {}, {"layout": "defaults"}),
    Case("ctc", "concatenated", CTC, {}, {"layout": "concat"}),
    Case("ctc", "blank_last", CTC, {"blank": 3}),
    Case("ctc", "zero_infinity", CTC, {"zero_infinity": True}, {"infeasible": True}),
    Case("ctc", "zero_infinity_feasible", CTC, {"zero_infinity": True}),
]
CASES += cases_regression.CASES + cases_classification.CASES + cases_geometry.CASES + cases_metric.CASES
CASES += cases_segmentation.CASES + cases_image.CASES

CASE_REDUCTIONS = [pytest.param(c, r, id=f"{c.id}-{r}", marks=c.engine_marks) for c in CASES for r in c.spec.reductions]
CASE_PARAMS = [pytest.param(c, id=c.id) for c in CASES]
ENGINE_CASE_PARAMS = [pytest.param(c, id=c.id, marks=c.engine_marks) for c in CASES]


# --- running the engine -------------------------------------------------------------


def run_engine(spec: LossSpec, params, arrays, reduction: str, dtype: str = "float64"):
    """``compute`` on fresh copies of the arrays (it validates and converts its inputs in place)."""
    inputs = {r.name: Input(r, np.array(arrays[r.name]), "x.csv", None) for r in spec.roles if r.name in arrays}
    return compute(spec, inputs, dict(params), reduction, grad=True, dtype=dtype)


def assert_close(actual, expected, rtol=RTOL, atol=1e-12, what=""):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


# --- coverage of the registry -------------------------------------------------------


def test_every_loss_has_a_reference():
    registered = {spec.name for spec in list_losses()}
    covered = {case.loss for case in CASES}
    assert registered - covered == set(), "losses without a reference case"
    assert covered - registered == set(), "cases for unregistered losses"


def test_every_parameter_is_exercised():
    missing = [
        f"{spec.name}.{p.name}"
        for spec in list_losses()
        for p in spec.params
        if not any(c.loss == spec.name and c.params.get(p.name, p.default) != p.default for c in CASES)
    ]
    assert missing == []


def test_every_parameter_changes_its_reference():
    """Each parameter, set as some case sets it, changes the reference's per-element losses on that case's data."""
    unchanged = []
    for spec in list_losses():
        for p in spec.params:
            cases = [c for c in CASES if c.loss == spec.name and c.params.get(p.name, p.default) != p.default]
            for case in cases:
                arrays = case.inputs()
                with np.errstate(all="ignore"):
                    set_ = case.reference.value(arrays, case.params, "none")
                    reset = case.reference.value(arrays, {**case.params, p.name: p.default}, "none")
                if set_.shape != reset.shape or not np.allclose(set_, reset, rtol=1e-9, atol=1e-12, equal_nan=True):
                    break
            else:
                unchanged.append(f"{spec.name}.{p.name}")
    assert unchanged == []


def test_torch_references_are_preferred():
    """A loss with a reference in PyTorch's own suite has at least one case backed by it."""
    names = {
        "KLDivLoss",
        "NLLLoss",
        "SmoothL1Loss",
        "HuberLoss",
        "MultiLabelMarginLoss",
        "HingeEmbeddingLoss",
        "SoftMarginLoss",
        "MultiMarginLoss",
        "CosineEmbeddingLoss",
        "TripletMarginLoss",
        "MarginRankingLoss",
        "CTCLoss",
        "CrossEntropyLoss",
    }
    assert names <= set(ref.TORCH_REFS)
    for spec in list_losses():
        if spec.torch_name in names:
            assert any(c.loss == spec.name and c.reference.torch_ops for c in CASES), spec.name


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_inputs_are_valid_and_reproducible(case):
    first, second = case.inputs(), case.inputs()
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    inputs = {r.name: Input(r, first[r.name], "x.csv") for r in case.spec.roles if r.name in first}
    validate(case.spec, inputs, dict(case.params))


# --- values and gradients against the references ------------------------------------


@pytest.mark.parametrize(("case", "reduction"), CASE_REDUCTIONS)
def test_matches_reference(case, reduction):
    spec, arrays = case.spec, case.inputs()
    result = run_engine(spec, case.params, arrays, reduction)
    expected, expected_grads = case.reference.evaluate(spec, arrays, case.params, reduction)

    if reduction == "none":
        assert result.value is None
        assert_close(result.values, expected, what=f"{case.reference.source}: values")
    else:
        assert result.values is None
        assert_close(result.value, expected, what=f"{case.reference.source}: value")
        assert np.ndim(expected) == 0

    assert set(result.gradients) == {r.name for r in spec.roles if r.differentiable}
    rtol, atol = (RTOL, 1e-10) if case.reference.exact_gradient else (FD_RTOL, FD_ATOL)
    for name, grad in result.gradients.items():
        actual, wanted = grad.values, expected_grads[name]
        assert_close(actual, wanted, rtol=rtol, atol=atol, what=f"{case.reference.source}: d/d{name}")


def _caught(actual, expected, **tolerances) -> bool:
    """Whether ``assert_close`` tells ``actual`` from ``expected``."""
    try:
        assert_close(actual, expected, **tolerances)
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize("spec", list_losses(), ids=lambda spec: spec.name)
def test_a_value_or_gradient_off_by_a_thousandth_fails_a_reference(spec):
    """The reference checks can fail: for every loss, some case no longer matches once the engine's value, or
    its gradient with respect to each input, is scaled by 1.001 (a published example may give a value or a
    gradient of 0, where no scale shows: another case of the loss must then catch it)."""
    caught: set[str] = set()
    wanted = {"value"} | {r.name for r in spec.roles if r.differentiable}
    for case in (c for c in CASES if c.loss == spec.name and not c.engine_marks):
        arrays, reduction = case.inputs(), spec.default_reduction
        result = run_engine(spec, case.params, arrays, reduction)
        expected, expected_grads = case.reference.evaluate(spec, arrays, case.params, reduction)
        if _caught(result.value * 1.001, expected):
            caught.add("value")
        rtol, atol = (RTOL, 1e-10) if case.reference.exact_gradient else (FD_RTOL, FD_ATOL)
        for name, grad in result.gradients.items():
            if _caught(grad.values * 1.001, expected_grads[name], rtol=rtol, atol=atol):
                caught.add(name)
        if caught == wanted:
            return
    assert wanted - caught == set(), "scaled by 1.001 and still matching every case's reference"


@pytest.mark.parametrize(("case", "reduction"), [p for p in CASE_REDUCTIONS if not p.marks][::20])
def test_gradient_summary_matches_values(case, reduction):
    for grad in run_engine(case.spec, case.params, case.inputs(), reduction).gradients.values():
        v = grad.values.astype(np.float64)
        assert grad.norm == pytest.approx(np.linalg.norm(v.ravel()), rel=1e-12, abs=1e-300)
        assert grad.mean == pytest.approx(v.mean(), rel=1e-9, abs=1e-15)
        assert (grad.min, grad.max) == (v.min(), v.max())


@pytest.mark.parametrize("case", ENGINE_CASE_PARAMS)
def test_float32_value_matches_float64_reference(case):
    spec, arrays = case.spec, case.inputs()
    reduction = spec.default_reduction
    result = run_engine(spec, case.params, arrays, reduction, dtype="float32")
    expected, _ = case.reference.evaluate(spec, arrays, case.params, reduction)
    assert result.dtype == "float32"
    assert result.gradients[spec.pred_role.name].values.dtype == np.float32
    assert_close(result.value, expected, rtol=RTOL, atol=1e-7, what=f"float32 {reduction}")


# --- gradcheck on the built torch loss ----------------------------------------------


def _tensors(case: Case, reduction: str):
    """The validated inputs as float64 tensors, ctc's default lengths filled in, differentiable ones requiring grad."""
    spec = case.spec
    arrays = case.inputs()
    inputs = {r.name: Input(r, arrays[r.name], "x.csv") for r in spec.roles if r.name in arrays}
    validate(spec, inputs, dict(case.params))
    tensors = {}
    for role in spec.roles:
        a = inputs[role.name].array
        if role.differentiable:
            tensors[role.name] = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        else:
            tensors[role.name] = torch.from_numpy(np.array(a))
    loss = build_loss(spec, dict(case.params), reduction, torch.float64)
    return spec, tensors, loss


def _gradcheck(case: Case, reduction: str, through: Callable[[torch.Tensor], torch.Tensor] | None = None) -> bool:
    spec, tensors, loss = _tensors(case, reduction)
    names = [r.name for r in spec.roles if r.differentiable]

    def fn(*diff):
        args = dict(tensors)
        for name, t in zip(names, diff, strict=True):
            args[name] = through(t) if through is not None else t
        return loss(*args.values())

    return torch.autograd.gradcheck(fn, tuple(tensors[n] for n in names), eps=1e-6, atol=1e-7, rtol=1e-5)


def _gradcheck_marks(case: Case) -> list:
    if case.autograd_differs:
        return [pytest.mark.skip(reason=case.autograd_differs)]
    return list(case.engine_marks)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize(
    ("case", "reduction"),
    [pytest.param(*p.values, id=p.id, marks=_gradcheck_marks(p.values[0])) for p in CASE_REDUCTIONS],
)
def test_gradcheck(case, reduction):
    assert _gradcheck(case, reduction)


@pytest.mark.parametrize("case", [p for p in CASE_PARAMS if p.values[0].loss == "ctc"])
def test_ctc_gradcheck_through_log_softmax(case):
    """What torch's own suite checks: the CTC gradient is right for log_probs = log_softmax(z)."""
    assert _gradcheck(case, "mean", through=lambda z: torch.log_softmax(z, dim=-1))


def test_ctc_gradient_is_the_derivative_of_the_value():
    case = next(c for c in CASES if c.loss == "ctc")
    arrays = case.inputs()
    result = run_engine(case.spec, case.params, arrays, "sum")
    _, grads = case.reference.evaluate(case.spec, arrays, case.params, "sum")
    assert_close(result.gradients["log_probs"].values, grads["log_probs"], rtol=RTOL, atol=1e-10)


# --- scikit-learn as a second, unrelated implementation -----------------------------


def _sklearn_cases():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(N, D)), rng.normal(size=(N, D))
    probs, bits = rng.uniform(0.05, 0.95, 12), np.array([0, 1] * 6, dtype=np.float64)
    logits, classes = rng.normal(size=(8, C)), np.array([0, 1, 2, 3, 3, 2, 1, 0])
    softmax = np.exp(ref.log_softmax(logits))
    return [
        pytest.param("mse", "mean", {}, x, y, mean_squared_error(y, x), id="mse"),
        pytest.param("l1", "mean", {}, x, y, mean_absolute_error(y, x), id="l1"),
        pytest.param("l2", "sum", {}, x, y, mean_squared_error(y, x) * x.size, id="l2"),
        pytest.param("bce", "mean", {}, probs, bits, log_loss(bits, probs), id="bce"),
        pytest.param(
            "bce_with_logits",
            "mean",
            {},
            np.log(probs / (1 - probs)),
            bits,
            log_loss(bits, probs),
            id="bce_with_logits",
        ),
        pytest.param(
            "cross_entropy",
            "mean",
            {},
            logits,
            classes,
            log_loss(classes, softmax, labels=range(C)),
            id="cross_entropy",
        ),
        pytest.param(
            "cross_entropy",
            "mean",
            {"weight": W4},
            logits,
            classes,
            log_loss(classes, softmax, labels=range(C), sample_weight=np.array(W4)[classes]),
            id="cross_entropy-weight",
        ),
    ]


@pytest.mark.parametrize(("loss", "reduction", "params", "pred", "labels", "expected"), _sklearn_cases())
def test_matches_sklearn(loss, reduction, params, pred, labels, expected):
    result = run_engine(get_loss(loss), params, {"input": pred, "target": labels}, reduction)
    assert result.value == pytest.approx(expected, rel=RTOL)
