"""Independent references for the image-restoration losses: MONAI's and kornia's own functions.

* ``ssim_monai``: ``monai.losses.SSIMLoss`` itself (1 - SSIM per image, the valid window), with its reduction;
* ``ssim_kornia``: ``kornia.metrics.ssim``'s map (``eps=0``: MONAI and the paper add nothing to the
  denominator), 1 - its mean over each image's channels and pixels; 'same' and 'valid' padding;
* ``ms_ssim_monai``: ``monai.metrics.regression.compute_ms_ssim``, 1 - its value per image;
* ``psnr_kornia``: ``kornia.losses.psnr_loss``;
* ``charbonnier_kornia``: ε · ``kornia.losses.charbonnier_loss``(x/ε, y/ε) + ε, which is sqrt((x - y)² + ε²);
  ``charbonnier_np`` the same formula in numpy (gradient by finite differences);
* ``total_variation_kornia``: ``kornia.losses.total_variation`` ('sum', or 'mean' for pixel_mean), its
  (N, C) values added over the channels.

MONAI casts its images to float32 (``convert_data_type(..., dtype=torch.float)``) and builds its Gaussian in
torch's default dtype: ``monai_in_float64`` keeps the case's float64 for both while MONAI's own code runs, so
that the reference is exact to float64 rounding (``test_image`` checks MONAI untouched, in float32, too).
Autograd through the libraries gives the reference gradients. (N, H, W) images are given to both libraries as
(N, 1, H, W).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import kornia
import numpy as np
import torch
from monai.losses import SSIMLoss
from monai.metrics import regression as monai_regression

try:
    from tests.references import reduce as reduce_np
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from references import reduce as reduce_np

KORNIA_SIGMA, KORNIA_K = 1.5, (0.01, 0.03)


def _reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _nchw(x: torch.Tensor) -> torch.Tensor:
    return x.unsqueeze(1) if x.ndim == 3 else x


@contextlib.contextmanager
def monai_in_float64() -> Iterator[None]:
    """MONAI's SSIM code, without its cast to float32 and with its Gaussian built in float64."""
    original = monai_regression.convert_data_type

    def keep_dtype(data, output_type=None, device=None, dtype=None, **options):
        return original(data, output_type=output_type, device=device, **options)

    default = torch.get_default_dtype()
    monai_regression.convert_data_type = keep_dtype
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        monai_regression.convert_data_type = original
        torch.set_default_dtype(default)


def _ssim_options(p: dict) -> dict:
    return {
        "data_range": p.get("data_range", 1.0),
        "kernel_type": "gaussian",
        "kernel_sigma": p.get("sigma", 1.5),
        "k1": p.get("k1", 0.01),
        "k2": p.get("k2", 0.03),
    }


def ssim_monai(t, p, reduction):
    """``monai.losses.SSIMLoss(spatial_dims=2)``: 1 - SSIM per image over the valid window."""
    assert p.get("padding", "valid") == "valid", "MONAI has only the valid window"
    loss = SSIMLoss(spatial_dims=2, win_size=p.get("window_size", 11), reduction=reduction, **_ssim_options(p))
    with monai_in_float64():
        out = loss(_nchw(t["input"]), _nchw(t["target"]))
    return out.reshape(-1) if reduction == "none" else out


def ssim_kornia(t, p, reduction):
    """1 - the mean of ``kornia.metrics.ssim``'s map over each image (kornia's window has σ 1.5 and its k1, k2
    are 0.01 and 0.03: the case must keep them)."""
    assert (p.get("sigma", 1.5), p.get("k1", 0.01), p.get("k2", 0.03)) == (KORNIA_SIGMA, *KORNIA_K), p
    ssim_map = kornia.metrics.ssim(
        _nchw(t["input"]),
        _nchw(t["target"]),
        p.get("window_size", 11),
        max_val=float(p.get("data_range", 1.0)),
        eps=0.0,
        padding=p.get("padding", "valid"),
    )
    return _reduce(1.0 - ssim_map.mean(dim=(1, 2, 3)), reduction)


def ms_ssim_monai(t, p, reduction):
    """1 - ``monai.metrics.regression.compute_ms_ssim`` per image (the default weights: Wang et al.'s five)."""
    weights = p.get("weights") or (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
    with monai_in_float64():
        value = monai_regression.compute_ms_ssim(
            _nchw(t["input"]),
            _nchw(t["target"]),
            spatial_dims=2,
            kernel_size=p.get("window_size", 11),
            weights=tuple(weights),
            **_ssim_options(p),
        )
    return _reduce(1.0 - value.reshape(-1), reduction)


def ms_ssim_factors(t, p) -> np.ndarray:
    """The (S, N) factors MONAI multiplies (the mean cs of each finer scale, the SSIM of the coarsest), before
    its relu: where one is near 0 the loss has a kink."""
    x, y = _nchw(t["input"]), _nchw(t["target"])
    scales = len(p.get("weights") or range(5))
    options = {**_ssim_options(p), "kernel_sigma": (p.get("sigma", 1.5),) * 2}
    factors = []
    with monai_in_float64():
        for j in range(scales):
            ssim, cs = monai_regression.compute_ssim_and_cs(
                x, y, spatial_dims=2, kernel_size=(p.get("window_size", 11),) * 2, **options
            )
            factors.append((ssim if j == scales - 1 else cs).reshape(len(x), -1).mean(dim=1))
            x, y = torch.nn.functional.avg_pool2d(x, 2), torch.nn.functional.avg_pool2d(y, 2)
    return torch.stack(factors).numpy()


def psnr_kornia(t, p, reduction):
    """``kornia.losses.psnr_loss``: -PSNR of the MSE pooled over the batch, the one value whatever the reduction
    (losscli's psnr has 'mean' only; the registry's parameter test asks every reference for 'none')."""
    return kornia.losses.psnr_loss(t["input"], t["target"], p.get("max_val", 1.0))


def charbonnier_kornia(t, p, reduction):
    """ε · kornia's charbonnier_loss(d / ε) + ε = ε · (sqrt((d / ε)² + 1) - 1) + ε = sqrt(d² + ε²)."""
    eps = p.get("eps", 1e-3)
    per_element = eps * kornia.losses.charbonnier_loss(t["input"] / eps, t["target"] / eps, reduction="none") + eps
    return _reduce(per_element, reduction)


def charbonnier_np(a, p, reduction):
    """The Charbonnier penalty of LapSRN (Lai et al., 2017, eq. 3): sqrt((x - y)² + ε²) per element."""
    eps = p.get("eps", 1e-3)
    return reduce_np(np.sqrt((a["input"] - a["target"]) ** 2 + eps**2), reduction)


def total_variation_kornia(t, p, reduction):
    """``kornia.losses.total_variation`` of each image's channels, added: one value per image."""
    per_channel = kornia.losses.total_variation(_nchw(t["input"]), reduction="mean" if p.get("pixel_mean") else "sum")
    return _reduce(per_channel.sum(dim=1), reduction)
