"""Image-restoration losses on batches of images, in torch ops so autograd gives their gradients.

1 - SSIM as MONAI's ``SSIMLoss`` computes it (a Gaussian window, the valid part of the image, as the paper's
MATLAB code), or on kornia's reflect-padded ('same') map; 1 - MS-SSIM on Wang et al.'s dyadic pyramid as MONAI's
``MultiScaleSSIMMetric`` computes it; kornia's ``psnr_loss`` (-PSNR of the MSE pooled over the batch); the
Charbonnier penalty sqrt((x - y)² + ε²) of the super-resolution literature; and kornia's anisotropic total
variation. Images are (N, C, H, W), or (N, H, W) read as one channel. Each function takes its tensors
positionally in the order of its spec's roles, ``reduction`` and its parameters as keywords.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from losscli.catalog.image import MS_SSIM_WEIGHTS, ms_ssim_smallest_side
from losscli.losses import per_sample_mean, reduce


def _as_nchw(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) as it is; (N, H, W) as one channel."""
    if x.ndim == 3:
        return x.unsqueeze(1)
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W) or (N, H, W), got {tuple(x.shape)}")
    return x


def _wide(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) images in float64 at least: the local variances E[x²] - μ² cancel digits, which float32
    (seven of them) cannot spare; the loss is cast back to the input's dtype."""
    return _as_nchw(x).to(torch.promote_types(x.dtype, torch.float64))


def gaussian_window(window_size: int, sigma: float, dtype: torch.dtype) -> torch.Tensor:
    """The 1-D Gaussian of ``window_size`` (odd) taps at the integers -r..r, r = window_size // 2, summing to 1."""
    r = window_size // 2
    offsets = torch.arange(-r, r + 1, dtype=dtype)
    g = torch.exp(-(offsets**2) / (2.0 * sigma**2))
    return g / g.sum()


def _blur(x: torch.Tensor, window: torch.Tensor, padding: str) -> torch.Tensor:
    """The separable Gaussian filter of every channel: the valid part, or reflect-padded to keep (H, W)."""
    channels, r = x.shape[1], len(window) // 2
    if padding == "same":
        x = F.pad(x, (r, r, r, r), mode="reflect")
    rows = window.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    columns = window.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    return F.conv2d(F.conv2d(x, rows, groups=channels), columns, groups=channels)


def _ssim_maps(
    x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, c1: float, c2: float, padding: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """The SSIM map and the contrast-structure map cs of two (N, C, H, W) batches (Wang et al., 2004, eq. 13)."""
    mu_x, mu_y = _blur(x, window, padding), _blur(y, window, padding)
    sigma_x = _blur(x * x, window, padding) - mu_x * mu_x
    sigma_y = _blur(y * y, window, padding) - mu_y * mu_y
    sigma_xy = _blur(x * y, window, padding) - mu_x * mu_y
    cs = (2.0 * sigma_xy + c2) / (sigma_x + sigma_y + c2)
    luminance = (2.0 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    return luminance * cs, cs


def ssim(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    data_range: float = 1.0,
    padding: str = "valid",
    reduction: str = "mean",
) -> torch.Tensor:
    """1 - SSIM per image (Wang et al., 2004), as ``monai.losses.SSIMLoss(spatial_dims=2)``.

    SSIM = l · cs at each pixel, l = (2 μx μy + C1) / (μx² + μy² + C1), cs = (2 σxy + C2) / (σx² + σy² + C2),
    the moments weighted by a Gaussian window, C1 = (k1 L)², C2 = (k2 L)², L = ``data_range``; an image's SSIM
    is the mean of its map over channels and pixels.

    Args:
      input: predicted images x, (N, C, H, W) or (N, H, W).
      target: true images y, the same shape.
      window_size: the window's width and height in pixels, odd.
      sigma: the Gaussian's standard deviation in pixels.
      k1: C1 = (k1 · data_range)², the luminance term's guard.
      k2: C2 = (k2 · data_range)², the contrast-structure term's guard.
      data_range: L, the range of the pixel values (1 for [0, 1], 255 for 8-bit images).
      padding: ``valid`` (the pixels where the window fits, as MONAI and the paper's MATLAB code) or ``same``
        (kornia's: the image reflect-padded by window_size // 2, one SSIM per pixel).
      reduction: ``none`` (one loss per image, (N,)), ``sum`` or ``mean`` over the images.

    Returns:
      The per-image losses 1 - SSIM or their reduction, worked out in float64 and returned in the input's dtype.
    """
    x, y = _wide(input), _wide(target)
    window = gaussian_window(window_size, sigma, x.dtype)
    ssim_map, _ = _ssim_maps(x, y, window, (k1 * data_range) ** 2, (k2 * data_range) ** 2, padding)
    return reduce(1.0 - per_sample_mean(ssim_map), reduction).to(input.dtype)


def _positive_power(v: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """v^w for v > 0 and 0 for v <= 0 (MONAI's relu(v)^w), with the gradient 0 rather than 0 · ∞ = NaN there."""
    positive = v > 0
    return torch.where(positive, torch.where(positive, v, torch.ones_like(v)) ** w, torch.zeros_like(v))


def ms_ssim(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    data_range: float = 1.0,
    weights: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """1 - MS-SSIM per image (Wang, Simoncelli and Bovik, 2003), as ``monai.metrics.MultiScaleSSIMMetric``.

    With S = len(weights) scales, the images halved S - 1 times by 2×2 average pooling (odd sizes floored):
    MS-SSIM = Π_{j<S} [cs_j]_+^{w_j} · [ssim_S]_+^{w_S}, cs_j and ssim_S each the mean of its (valid) map over
    the image's channels and pixels.

    Args:
      input: predicted images x, (N, C, H, W) or (N, H, W); H and W at least window_size · 2^(S - 1).
      target: true images y, the same shape.
      window_size, sigma, k1, k2, data_range: as for ``ssim``, at every scale.
      weights: the exponents w_j of the scales, finest first; None means Wang et al.'s five.
      reduction: ``none`` (one loss per image, (N,)), ``sum`` or ``mean`` over the images.

    Returns:
      The per-image losses 1 - MS-SSIM or their reduction. A scale whose mean cs (or the coarsest scale's
      SSIM) is 0 or negative zeroes the product, as MONAI's relu does; its gradient is 0 there, not NaN.
    """
    x, y = _wide(input), _wide(target)
    w = torch.as_tensor(MS_SSIM_WEIGHTS if weights is None else weights, dtype=x.dtype)
    scales = len(w)
    smallest = ms_ssim_smallest_side(window_size, w)
    if min(x.shape[-2:]) < smallest:
        raise ValueError(
            f"images of {x.shape[-2]}x{x.shape[-1]} pixels are too small for {scales} scales of a {window_size}-pixel "
            f"window: each side needs {smallest} pixels at least"
        )
    window = gaussian_window(window_size, sigma, x.dtype)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    terms = []
    for j in range(scales):
        ssim_map, cs = _ssim_maps(x, y, window, c1, c2, "valid")
        terms.append(per_sample_mean(ssim_map if j == scales - 1 else cs))
        if j < scales - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    values = torch.stack(terms)  # (S, N)
    ms = torch.prod(_positive_power(values, w.view(-1, 1)), dim=0)
    return reduce(1.0 - ms, reduction).to(input.dtype)


def psnr(input: torch.Tensor, target: torch.Tensor, *, max_val: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """-PSNR of the batch, as ``kornia.losses.psnr_loss``: -10 · log10(max_val² / MSE), the MSE over every element.

    Args:
      input: predicted images (or any values), any shape.
      target: true values, the same shape.
      max_val: the data range of the images (1 for [0, 1], 255 for 8-bit).
      reduction: ``mean``, the only one: kornia pools the squared errors of the whole batch into one MSE.

    Returns:
      The scalar loss, in dB (lower is better). Identical inputs (MSE 0) would give -inf: the shape rule refuses
      them.
    """
    if reduction != "mean":
        raise ValueError(f"psnr pools the batch into one MSE: reduction {reduction!r} is not one of: mean")
    mse = torch.mean((input - target) ** 2)
    return -10.0 * torch.log10(max_val**2 / mse)


def charbonnier(
    input: torch.Tensor, target: torch.Tensor, *, eps: float = 1e-3, reduction: str = "mean"
) -> torch.Tensor:
    """Charbonnier penalty sqrt((x - y)² + ε²) per element (Charbonnier et al., 1994; LapSRN, Lai et al., 2017).

    Args:
      input: predictions x, any shape.
      target: true values y, the same shape.
      eps: ε > 0: the penalty is quadratic, (x - y)² / 2ε + ε, for |x - y| ≪ ε and linear, |x - y|, beyond.
      reduction: ``none`` (per element), ``sum`` or ``mean``.

    Returns:
      The per-element losses or their reduction: ε · (sqrt((d/ε)² + 1) - 1) + ε, kornia's charbonnier_loss of
      d/ε rescaled. Smooth everywhere: the gradient (x - y) / sqrt((x - y)² + ε²) is 0 at x = y.
    """
    d2 = (input - target) ** 2
    return reduce(torch.sqrt(d2 + eps**2), reduction)


def total_variation(input: torch.Tensor, *, pixel_mean: bool = False, reduction: str = "mean") -> torch.Tensor:
    """Anisotropic total variation per image, as ``kornia.losses.total_variation`` with its channels added.

    TV = Σ |x[i+1, j] - x[i, j]| + Σ |x[i, j+1] - x[i, j]| over each channel's pixels, summed over the channels.

    Args:
      input: images x, (N, C, H, W) or (N, H, W).
      pixel_mean: average each direction's differences over their count ((H - 1)·W and H·(W - 1)) before
        adding them, as kornia's ``reduction='mean'`` (an axis of length 1 contributes 0).
      reduction: ``none`` (one value per image, (N,)), ``sum`` or ``mean`` over the images.

    Returns:
      The per-image total variations or their reduction. Equal neighbours have the gradient 0 (torch's |·|).
    """
    x = _as_nchw(input)
    vertical = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(-2)
    horizontal = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(-2)
    if pixel_mean:
        terms = [t.sum(dim=-1) / max(t.shape[-1], 1) for t in (vertical, horizontal)]
    else:
        terms = [t.sum(dim=-1) for t in (vertical, horizontal)]
    return reduce((terms[0] + terms[1]).sum(dim=1), reduction)
