"""Reference cases for the image-restoration losses (see ``lossref``).

ssim is checked against MONAI's SSIMLoss (the valid window: the default) and kornia's SSIM map ('same' and
'valid' padding), ms_ssim against MONAI's compute_ms_ssim, psnr against kornia's psnr_loss, charbonnier against
kornia's charbonnier_loss rescaled and a numpy formula, total_variation against kornia's total_variation;
gradients by autograd through the libraries (finite differences for numpy), and through ``test_gradcheck``
against finite differences of losscli's own functions. Images are small so that gradcheck stays quick: each
case is large enough for the window and scales its parameters ask for, and for those the registry's
``test_every_parameter_changes_its_reference`` resets to their defaults. The predictions are noisy copies of
the targets, so that every scale's contrast-structure term stays well above MS-SSIM's relu at 0 (``_ms_ssim_kinks``);
total variation's images alternate in sign so that no two neighbours are near a tie (|·|'s kink). MONAI holds
the scale weights in float32: the cases' weights are exact binary fractions, so that it computes with the
weights the case gives (``test_image`` checks Wang et al.'s five, rounded by MONAI, with a tolerance).
"""

from __future__ import annotations

import numpy as np

try:
    from tests import references_image as ref
    from tests.lossref import NAME_DRAWERS, NAME_KINKS, Case, Reference, numpy_ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references_image as ref
    from lossref import NAME_DRAWERS, NAME_KINKS, Case, Reference, numpy_ref


def library_ref(fn) -> Reference:
    return Reference(f"{fn.__name__.rsplit('_', 1)[-1]} via {fn.__name__}, autograd through it", fn, torch_ops=True)


# --- inputs -------------------------------------------------------------------------


def _draw_images(spec, params, rng, shape=(3, 1, 16, 18), scale=1.0, noise=0.1, **options):
    """Targets uniform in [0.2, 0.8] and predictions that are noisy copies of them, both times ``scale``."""
    target = rng.uniform(0.2, 0.8, shape)
    return {"input": scale * (target + rng.normal(0.0, noise, shape)), "target": scale * target}


def _draw_variation(spec, params, rng, shape=(3, 2, 6, 7), **options):
    """Images alternating in sign like a checkerboard, magnitudes in [0.2, 1]: neighbours differ by 0.4 at least."""
    rows, cols = np.indices(shape[-2:])
    return {"input": np.where((rows + cols) % 2 == 0, 1.0, -1.0) * rng.uniform(0.2, 1.0, shape)}


for _name in ("ssim", "ms_ssim", "psnr", "charbonnier"):
    NAME_DRAWERS[_name] = _draw_images
NAME_DRAWERS["total_variation"] = _draw_variation


def _ms_ssim_kinks(a, p):
    """Each scale's factor (mean cs, the coarsest scale's SSIM) from MONAI's relu at 0."""
    import torch

    return float(np.abs(ref.ms_ssim_factors({k: torch.tensor(v) for k, v in a.items()}, p)).min())


NAME_KINKS["ms_ssim"] = _ms_ssim_kinks


# --- cases --------------------------------------------------------------------------

SSIM_MONAI = library_ref(ref.ssim_monai)
SSIM_KORNIA = library_ref(ref.ssim_kornia)
MS_SSIM = library_ref(ref.ms_ssim_monai)
PSNR = library_ref(ref.psnr_kornia)
CHARBONNIER = library_ref(ref.charbonnier_kornia)
TOTAL_VARIATION = library_ref(ref.total_variation_kornia)

CASES = [
    Case("ssim", "defaults", SSIM_MONAI, {}, {"shape": (2, 1, 11, 12)}),
    Case("ssim", "window_sigma_channels", SSIM_MONAI, {"window_size": 7, "sigma": 1.0}, {"shape": (1, 2, 11, 11)}),
    Case("ssim", "constants", SSIM_MONAI, {"k1": 0.05, "k2": 0.1, "data_range": 2.0}, {"shape": (2, 1, 11, 11)}),
    Case("ssim", "same_padding", SSIM_KORNIA, {"padding": "same"}, {"shape": (1, 2, 11, 12)}),
    Case("ssim", "kornia_valid_one_channel", SSIM_KORNIA, {}, {"shape": (2, 11, 12)}),
    Case("ssim", "same_small_window", SSIM_KORNIA, {"padding": "same", "window_size": 5}, {"shape": (2, 1, 6, 7)}),
    Case(
        "ms_ssim",
        "two_scales_one_pixel_window",
        MS_SSIM,
        {"window_size": 1, "weights": [0.375, 0.625]},
        {"shape": (1, 1, 32, 32)},  # MONAI pools after its last scale too: 2^5 pixels for the default five
    ),
    Case(
        "ms_ssim",
        "three_scales",
        MS_SSIM,
        {"window_size": 3, "sigma": 1.0, "weights": [0.125, 0.375, 0.5]},
        {"shape": (2, 1, 12, 13)},
    ),
    Case(
        "ms_ssim",
        "constants_odd_sizes",
        MS_SSIM,
        {"window_size": 3, "weights": [0.5, 0.5], "k1": 0.05, "k2": 0.1, "data_range": 2.0},
        {"shape": (2, 1, 7, 9), "scale": 2.0},
    ),
    Case(
        "ms_ssim",
        "two_scales_channels",
        MS_SSIM,
        {"window_size": 5, "weights": [0.25, 0.75]},
        {"shape": (1, 3, 10, 11)},
    ),
    Case("psnr", "defaults", PSNR, {}, {"shape": (3, 1, 8, 8)}),
    Case("psnr", "max_val_8bit", PSNR, {"max_val": 255.0}, {"shape": (2, 6, 5), "scale": 255.0}),
    Case("charbonnier", "defaults", CHARBONNIER, {}, {"shape": (3, 1, 6, 7)}),
    Case("charbonnier", "eps_rows", numpy_ref(ref.charbonnier_np), {"eps": 0.05}, {"shape": (5, 3), "noise": 0.08}),
    Case("charbonnier", "eps", CHARBONNIER, {"eps": 0.2}, {"shape": (2, 8, 8)}),
    Case("total_variation", "channels", TOTAL_VARIATION),
    Case("total_variation", "pixel_mean_one_channel", TOTAL_VARIATION, {"pixel_mean": True}, {"shape": (3, 5, 6)}),
    Case("total_variation", "pixel_mean_single_row", TOTAL_VARIATION, {"pixel_mean": True}, {"shape": (2, 2, 1, 5)}),
]
