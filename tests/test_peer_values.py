"""The robust, perceptron, sparsemax and Brier losses of issue 17 on the values their peers' own tests and docs print.

``test_losses`` checks them against formulas and the peers' functions on random inputs; here each meets the
numbers written in its peer's test suite or documentation (optax's ``_regression_test.py`` and
``_classification_test.py``, scikit-learn's ``brier_score_loss`` docstring, Barron's closed forms at d = 2),
and the inputs where the peers' own code overflows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from losscli.engine.core import build_loss
from losscli.registry import get_loss


def loss_of(name: str, *arrays, reduction: str = "none", dtype=torch.float64, **params):
    """The loss ``name`` on these arrays (each a tensor of ``dtype``, integer arrays as int64)."""
    spec = get_loss(name)
    tensors = [torch.tensor(a, dtype=torch.int64 if np.asarray(a).dtype.kind in "iu" else dtype) for a in arrays]
    return build_loss(spec, params, reduction, dtype)(*tensors)


def test_l2_loss_on_optax_l2_loss_test():
    """optax L2LossTest: ys = [-2, -1, 0.5, 1], ts = [-1.5, 0, -1, 1], expected 0.5 · (ts - ys)²."""
    ys, ts = np.array([-2.0, -1.0, 0.5, 1.0]), np.array([-1.5, 0.0, -1.0, 1.0])
    np.testing.assert_allclose(loss_of("l2_loss", ys, ts).numpy(), [0.125, 0.5, 1.125, 0.0], rtol=1e-15)
    assert loss_of("l2_loss", ys, ts, reduction="sum").item() == pytest.approx(1.75, rel=1e-15)


def test_multiclass_perceptron_on_optax_perceptron_test():
    """optax PerceptronTest.test_batched_multi_class: scores [[10, 3], [11, -2]], labels [1, 0] → [7, 0]."""
    out = loss_of("multiclass_perceptron", [[10.0, 3.0], [11.0, -2.0]], np.array([1, 0]))
    np.testing.assert_allclose(out.numpy(), [7.0, 0.0])


def test_binary_sparsemax_on_optax_sparsemax_test():
    """optax SparsemaxTest.test_batched_binary: scores [10, 20], labels [1, 0] → [0, 20]; and inside the bend."""
    out = loss_of("binary_sparsemax", [10.0, 20.0, 0.5, 0.5], [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(out.numpy(), [0.0, 20.0, 0.5**2 / 4, 1.5**2 / 4])
    assert get_loss("sparsemax_loss").name == "binary_sparsemax"


def test_brier_on_scikit_learns_docstring():
    """brier_score_loss's examples: 0.0375, 0.075 with scale_by_half=False, and 0.146 for three classes (which
    the doctest prints to its digits: 0.44 / 3)."""
    y, p = np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3])
    assert loss_of("brier", p, y, reduction="mean").item() == pytest.approx(0.0375, rel=1e-12)
    assert loss_of("brier", p, y, reduction="mean", scale_by_half=False).item() == pytest.approx(0.075, rel=1e-12)
    probs = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.2, 0.2, 0.6]]
    assert loss_of("brier", probs, np.array([0, 1, 2]), reduction="mean").item() == pytest.approx(0.44 / 3, rel=1e-12)


def test_robust_losses_at_a_residual_of_2():
    """Barron's ρ(2, α, 1): log 3 (α = 0), 1 - e⁻² (α = -∞), 2 · 4 / 8 = 1 (α = -2)."""
    x, y = [2.0, -2.0], [0.0, 0.0]
    np.testing.assert_allclose(loss_of("cauchy", x, y).numpy(), [math.log(3.0)] * 2, rtol=1e-15)
    np.testing.assert_allclose(loss_of("welsch", x, y).numpy(), [1.0 - math.exp(-2.0)] * 2, rtol=1e-15)
    np.testing.assert_allclose(loss_of("geman_mcclure", x, y).numpy(), [1.0, 1.0], rtol=1e-15)


@pytest.mark.parametrize("loss", ["cauchy", "welsch", "geman_mcclure"])
def test_robust_losses_stay_finite_where_the_square_overflows_float32(loss):
    """|d| = 1e20: d² is inf in float32, where kornia's cauchy is inf and its geman_mcclure inf / inf = NaN."""
    x = torch.tensor([1e20, -3e25, 0.0, 1e-30], dtype=torch.float32, requires_grad=True)
    value = build_loss(get_loss(loss), {}, "sum", torch.float32)(x, torch.zeros(4))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(x.grad).all()
    expected = {"cauchy": 2 * math.log(1e20) + 2 * math.log(3e25) - 2 * math.log(2.0), "welsch": 2.0}
    assert value.item() == pytest.approx(expected.get(loss, 4.0), rel=1e-6)
    assert x.grad[2] == 0.0  # the minimum, a tie of prediction and target
