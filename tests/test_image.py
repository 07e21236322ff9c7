"""The image-restoration losses beyond ``test_losses``' small cases: full-size defaults, the peers untouched.

``test_losses`` checks every case against MONAI (run in float64) and kornia on images small enough for
gradcheck. Here: ms_ssim with its default 11-pixel window and Wang et al.'s five scales on images of the size it
needs, against MONAI as it ships (float32, weights rounded to float32) and in float64; ssim against kornia's
own ``ssim_loss`` (half of 1 - SSIM) and MONAI's ``SSIMLoss`` in float32; the zeros and ties where a peer's
gradient is NaN or undefined; and the sample images of ``sample_data/`` against the peers.
"""

from __future__ import annotations

import kornia
import numpy as np
import pytest
import torch
from conftest import REPO
from monai.losses import SSIMLoss
from monai.metrics.regression import compute_ms_ssim

from losscli.losses import image

try:
    from tests import references_image as ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references_image as ref

SAMPLES = REPO / "sample_data"


def noisy_pair(shape, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    target = rng.uniform(0.2, 0.8, shape)
    return torch.tensor(target + rng.normal(0.0, noise, shape)), torch.tensor(target)


def test_ms_ssim_defaults_against_monai_as_it_ships():
    """176 × 180 pixels: the least the 11-pixel window takes at the fifth scale (176 / 16 = 11)."""
    x, y = noisy_pair((2, 1, 176, 180))
    ours = image.ms_ssim(x, y, reduction="none")
    shipped = 1 - compute_ms_ssim(x.float(), y.float(), spatial_dims=2).reshape(-1)
    np.testing.assert_allclose(ours.numpy(), shipped.double().numpy(), rtol=1e-4)
    exact = ref.ms_ssim_monai({"input": x, "target": y}, {}, "none")  # its weights float32, the rest float64
    np.testing.assert_allclose(ours.numpy(), exact.numpy(), rtol=1e-7)


def test_ms_ssim_five_scales_value_and_gradient_against_monai():
    x, y = noisy_pair((2, 2, 48, 50), seed=1)
    x.requires_grad_(True)
    ours = image.ms_ssim(x, y, window_size=3)
    (grad,) = torch.autograd.grad(ours, x)
    x2 = x.detach().clone().requires_grad_(True)
    theirs = ref.ms_ssim_monai({"input": x2, "target": y}, {"window_size": 3}, "mean")
    (expected,) = torch.autograd.grad(theirs, x2)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-7)
    # MONAI rounds the weights to float32 (0.0448 to 1e-8 or so): 1e-7 of the gradient's scale, 1e-4, is its mark
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-5, atol=1e-10)


def test_ms_ssim_too_small_images_raise_a_clear_error():
    x, y = noisy_pair((1, 1, 100, 200))
    with pytest.raises(ValueError, match="each side needs 176 pixels at least"):
        image.ms_ssim(x, y)


def test_ms_ssim_with_a_negative_scale_is_1_with_a_finite_gradient():
    """Anti-correlated images: a scale's mean cs is negative, relu makes MS-SSIM 0 and the loss 1, flat there:
    the gradient is 0, as MONAI's (no 0 · ∞ = NaN from v^w at v = 0)."""
    x, y = noisy_pair((1, 1, 32, 32), seed=2)
    x = (1.0 - y).clone().requires_grad_(True)
    loss = image.ms_ssim(x, y, window_size=3, weights=torch.tensor([0.5, 0.5]))
    (grad,) = torch.autograd.grad(loss, x)
    assert loss.item() == 1.0
    assert torch.isfinite(grad).all() and (grad == 0).all()
    x2 = x.detach().clone().requires_grad_(True)
    monai = ref.ms_ssim_monai({"input": x2, "target": y}, {"window_size": 3, "weights": [0.5, 0.5]}, "mean")
    assert monai.item() == 1.0
    (monai_grad,) = torch.autograd.grad(monai, x2)
    assert (monai_grad == 0).all()


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_ssim_is_twice_kornias_ssim_loss(padding):
    """kornia's ssim_loss is (1 - SSIM) / 2 over the whole map (clamped to [0, 1]); on images of one size the
    mean of per-image losses is the map's mean."""
    x, y = noisy_pair((3, 2, 14, 15), seed=3)
    ours = image.ssim(x, y, padding=padding)
    kornias = kornia.losses.ssim_loss(x, y, 11, max_val=1.0, eps=0.0, padding=padding)
    assert ours.item() == pytest.approx(2 * kornias.item(), rel=1e-12)


def test_ssim_against_monai_as_it_ships():
    x, y = noisy_pair((3, 1, 20, 24), seed=4)
    ours = image.ssim(x.float(), y.float(), reduction="none")
    assert ours.dtype == torch.float32
    shipped = SSIMLoss(spatial_dims=2, reduction="none")(x.float(), y.float()).reshape(-1)
    np.testing.assert_allclose(ours.numpy(), shipped.numpy(), rtol=1e-4)


def test_ssim_in_float32_keeps_the_digits_of_float64():
    """The local variances E[x²] - μ² are worked out in float64: a large offset costs float32 nothing."""
    x, y = noisy_pair((2, 1, 16, 16), seed=5)
    x, y = x + 100.0, y + 100.0
    wide = image.ssim(x, y, data_range=101.0)
    narrow = image.ssim(x.float(), y.float(), data_range=101.0)
    assert narrow.item() == pytest.approx(wide.item(), rel=1e-5)


def test_ssim_of_identical_images_is_0_with_gradient_0():
    _, y = noisy_pair((2, 1, 12, 12), seed=6)
    x = y.clone().requires_grad_(True)
    loss = image.ssim(x, y)
    (grad,) = torch.autograd.grad(loss, x)
    assert abs(loss.item()) < 1e-12
    assert torch.isfinite(grad).all() and grad.abs().max() < 1e-12


def test_total_variation_of_a_constant_image_is_0_with_gradient_0():
    x = torch.full((2, 3, 5, 6), 0.5, dtype=torch.float64, requires_grad=True)
    loss = image.total_variation(x)
    (grad,) = torch.autograd.grad(loss, x)
    assert loss.item() == 0.0 == kornia.losses.total_variation(x).sum().item()
    assert (grad == 0).all()


def test_charbonnier_at_a_perfect_fit_is_eps_with_gradient_0():
    y = torch.linspace(0, 1, 12, dtype=torch.float64).reshape(3, 4)
    x = y.clone().requires_grad_(True)
    loss = image.charbonnier(x, y, eps=1e-3)
    (grad,) = torch.autograd.grad(loss, x)
    assert loss.item() == pytest.approx(1e-3, rel=1e-12)
    assert (grad == 0).all()


def test_sample_images_against_the_peers(invoke_json):
    """The sample_data/ images, through the CLI in float64, against the libraries themselves."""
    pred, target = SAMPLES / "image_pred.npy", SAMPLES / "image_target.npy"
    x, y = (torch.tensor(np.load(p), dtype=torch.float64) for p in (pred, target))

    def value(*args):
        return invoke_json(["compute", *map(str, args), "--no-grad", "--dtype", "float64"])["value"]

    monai_ssim = ref.ssim_monai({"input": x, "target": y}, {}, "mean").item()
    assert value("ssim", pred, target) == pytest.approx(monai_ssim, rel=1e-9)
    assert value("psnr", pred, target) == pytest.approx(kornia.losses.psnr_loss(x, y, 1.0).item(), rel=1e-9)
    tv = kornia.losses.total_variation(x).sum(dim=1).mean().item()
    assert value("total_variation", pred) == pytest.approx(tv, rel=1e-9)
    charbonnier = ref.charbonnier_kornia({"input": x, "target": y}, {}, "mean").item()
    assert value("charbonnier", pred, target) == pytest.approx(charbonnier, rel=1e-9)
    large, large_target = SAMPLES / "image_large_pred.npy", SAMPLES / "image_large_target.npy"
    xl, yl = (torch.tensor(np.load(p), dtype=torch.float64) for p in (large, large_target))
    monai_ms = ref.ms_ssim_monai({"input": xl, "target": yl}, {"data_range": 255.0}, "mean").item()
    assert value("ms_ssim", large, large_target, "-p", "data_range=255") == pytest.approx(monai_ms, rel=1e-7)
