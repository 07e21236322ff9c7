"""Specs of the image-restoration losses (see ``losscli.losses.image``): SSIM, MS-SSIM, PSNR, Charbonnier, TV.

MONAI's SSIM and MS-SSIM (1 - the index of each image), kornia's PSNR loss and total variation, and the
Charbonnier penalty of the super-resolution literature. Images are (N, C, H, W) arrays, or (N, H, W) for one
channel, typically .npy files; axis 0 counts the images.
"""

from __future__ import annotations

from losscli.registry import LossSpec, Param, Role, register

NOT_IN_ARTICLE = "not in the article"
IMPL = "losscli.losses.image:"

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
"""Wang, Simoncelli and Bovik (2003), Table 1: the exponents of ms_ssim's five scales, finest first."""


def ms_ssim_smallest_side(window_size: int = 11, weights: object = None) -> int:
    """The fewest pixels a side ms_ssim takes: the window at the coarsest of its scales (one per weight, Wang et
    al.'s five when ``weights`` is None), the image halved at each scale: window_size · 2^(S - 1), 176 by default."""
    scales = len(MS_SSIM_WEIGHTS if weights is None else weights)
    return window_size * 2 ** (scales - 1)


IMAGES = Role(
    "input",
    "pred",
    "(N, C, H, W) or (N, H, W)",
    doc="predicted (restored) images, one per index of axis 0 (save them as .npy)",
)
TRUE_IMAGES = Role("target", "target", "same shape as input", doc="the true (reference) images")

WINDOW = Param("window_size", 11, "the Gaussian window's width and height in pixels (odd)", kind="int", minimum=1)
SIGMA = Param("sigma", 1.5, "the Gaussian window's standard deviation in pixels", minimum=0, strict_minimum=True)
K1 = Param("k1", 0.01, "C1 = (k1 · data_range)², which keeps the luminance term finite", minimum=0, strict_minimum=True)
K2 = Param(
    "k2",
    0.03,
    "C2 = (k2 · data_range)², which keeps the contrast-structure term finite",
    minimum=0,
    strict_minimum=True,
)
DATA_RANGE = Param(
    "data_range",
    1.0,
    "L, the range of the pixel values: 1 for images in [0, 1], 255 for 8-bit ones",
    minimum=0,
    strict_minimum=True,
)
SSIM_FORMULA = (
    "SSIM = mean over channels and pixels of l · cs, l = (2 μx μy + C1) / (μx² + μy² + C1), cs = (2 σxy + C2) / "
    "(σx² + σy² + C2), the local moments weighted by a Gaussian window, C1 = (k1 L)², C2 = (k2 L)²"
)

register(
    LossSpec(
        name="ssim",
        curve="image_brightness",
        torch_name=None,
        source="MONAI monai.losses.SSIMLoss",
        family="image",
        impl=IMPL + "ssim",
        aliases=("SSIMLoss", "ssim_loss", "structural_similarity"),
        roles=(IMAGES, TRUE_IMAGES),
        params=(
            WINDOW,
            SIGMA,
            K1,
            K2,
            DATA_RANGE,
            Param(
                "padding",
                "valid",
                "valid: only the pixels where the window fits (MONAI, the paper's MATLAB code); same: reflect-pad "
                "the image by window_size // 2 and score every pixel (kornia)",
                kind="str",
                choices=("valid", "same"),
            ),
        ),
        formula="l_n = 1 - SSIM(x_n, y_n), " + SSIM_FORMULA + "; mean over the images",
        use_when="Image restoration (denoising, super-resolution, compression, MRI reconstruction) where "
        "perceived structure matters more than each pixel's error (Wang et al., 2004): SSIM compares local "
        "means, contrasts and correlations, so a blurred or shifted texture costs more than a slight global offset.",
        avoid_when="Images are smaller than the window (11 pixels a side by default), the pixel values themselves "
        "must be exact (mse, l1, charbonnier), or colours and flat regions matter: SSIM barely sees a uniform "
        "brightness or colour shift in flat areas; it is often combined with l1.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="images",
        decomposition="rows",
        label_kind="image",
        notes="As MONAI's SSIMLoss(spatial_dims=2) by default: one SSIM per image, the mean of its map over its "
        "channels and the pixels where the window fits ('valid', as Wang et al.'s MATLAB ssim_index), and the "
        "loss 1 - SSIM, averaged over the images by 'mean' ('none' gives (N,)). -p padding=same gives kornia's map "
        "(reflect padding, one SSIM per pixel), whose mean over the batch is kornia.metrics.ssim's; kornia's "
        "ssim_loss is (1 - SSIM) / 2, clamped to [0, 1], half this loss, and adds eps = 1e-12 to the denominator, "
        "which losscli (like MONAI and the paper) does not. The window is a sampled Gaussian at the integer offsets "
        "-r..r (r = window_size // 2), normalised to sum 1, as both libraries build it. Each side of an image needs "
        "window_size pixels ('valid') or more than window_size // 2 ('same'). (N, H, W) images are one channel each. "
        "The moments are worked out in float64 (σ² = E[x²] - μ² cancels digits float32 cannot spare) and the loss "
        "returned in the run's dtype.",
    )
)

register(
    LossSpec(
        name="ms_ssim",
        curve="image_brightness",
        torch_name=None,
        source="MONAI monai.metrics.MultiScaleSSIMMetric (as 1 - MS-SSIM)",
        family="image",
        impl=IMPL + "ms_ssim",
        aliases=("MultiScaleSSIMLoss", "multiscale_ssim", "msssim_loss"),
        roles=(IMAGES, TRUE_IMAGES),
        params=(
            WINDOW,
            SIGMA,
            K1,
            K2,
            DATA_RANGE,
            Param(
                "weights",
                None,
                "the exponent of each scale, finest first, e.g. [0.2,0.3,0.5] for three scales; unset means Wang et "
                "al.'s five, [0.0448,0.2856,0.3001,0.2363,0.1333]",
                kind="tensor",
            ),
        ),
        formula="l_n = 1 - Π_{j<S} [cs_j]_+^{w_j} · [SSIM_S]_+^{w_S}: the images halved S - 1 times by 2×2 average "
        "pooling, cs_j the mean contrast-structure term of scale j and SSIM_S the SSIM of the coarsest; mean over "
        "the images",
        use_when="Image restoration and compression where structure at several viewing distances matters (Wang, "
        "Simoncelli and Bovik, 2003): MS-SSIM weighs coarse structure that single-scale SSIM misses; the loss of "
        "choice for learned image compression and a common term beside l1 in restoration.",
        avoid_when="Images are small: each side needs window_size · 2^(S-1) pixels, 176 with the defaults (11-pixel "
        "window, five scales); use ssim, fewer scales (-p weights=[...]) or a smaller window. Avoid it too when "
        "flat colours or exact pixel values matter (l1, charbonnier).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="images",
        decomposition="rows",
        label_kind="image",
        notes="As MONAI's compute_ms_ssim: at each scale the contrast-structure map is averaged over the image's "
        "channels and valid pixels before the product, each factor passed through relu (a scale with a negative "
        "mean cs makes MS-SSIM 0 and the loss 1, with the gradient 0); pytorch-msssim and "
        "torchmetrics take the product per channel and then average the channels, which is the same for "
        "one-channel images. Odd sizes are floored by the pooling, as MONAI's avg_pool2d (pytorch-msssim pads "
        "them). The minimum size is the one the coarsest scale needs, each side at least window_size · 2^(S - 1) "
        "pixels, checked before computing (MONAI's own check uses (S - 1)², which agrees for 3 and 5 scales only, and"
        " MONAI pools once more after its coarsest scale, so it also needs 2^S pixels). The moments are worked out in"
        " float64 and the loss returned in the run's dtype. "
        "kornia's MS_SSIMLoss is another loss: Zhao et al.'s MS-SSIM + L1 mix with Gaussians of five widths at full "
        "resolution.",
    )
)

register(
    LossSpec(
        name="psnr",
        curve="image_brightness",
        torch_name=None,
        source="kornia kornia.losses.psnr_loss",
        family="image",
        impl=IMPL + "psnr",
        aliases=("PSNRLoss", "psnr_loss", "negative_psnr"),
        roles=(
            Role("input", "pred", "(N, C, H, W), (N, H, W) or any shape", doc="predicted images (or any values)"),
            Role("target", "target", "same shape as input", doc="the true images"),
        ),
        params=(
            Param(
                "max_val",
                1.0,
                "the data range: 1 for images in [0, 1], 255 for 8-bit ones",
                minimum=0,
                strict_minimum=True,
            ),
        ),
        formula="l = -PSNR = -10 · log10(max_val² / MSE), MSE = the mean of (x - y)² over every element of the batch",
        use_when="Reporting or optimising the standard fidelity figure of image restoration and compression, in "
        "dB: -PSNR is a monotone function of the MSE, so minimising it fits the same model as mse, with gradients "
        "scaled by 1/MSE (large once the errors are small).",
        avoid_when="You need a per-image loss (the batch's squared errors are pooled into one MSE, so one bad image "
        "weighs by its pixels, not as one image of N), the prediction can equal the target exactly (PSNR is "
        "infinite), or perceived quality matters (ssim, ms_ssim).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="psnr",
        decomposition=None,
        reductions=("mean",),
        label_kind="image",
        notes="As kornia.losses.psnr_loss: the MSE is pooled over the whole batch (every image, channel and pixel), "
        "so the value is the PSNR of the batch, not the mean of per-image PSNRs (torchmetrics' "
        "PeakSignalNoiseRatio with dim=(1, 2, 3) or scikit-image image by image give those); reduction 'mean' is "
        "the only one. It does not split into per-sample terms: --chunk-size is ignored and --ci recomputes it on "
        "resampled images (--ci-method bootstrap). max_val is the data range, not the largest pixel. Inputs equal "
        "everywhere (MSE 0, PSNR infinite, the gradient 0/0) are refused.",
    )
)

register(
    LossSpec(
        name="charbonnier",
        torch_name=None,
        source="losscli (Lai et al., 2017, LapSRN: the Charbonnier penalty sqrt((x - y)² + ε²); "
        "kornia.losses.charbonnier_loss is its ε = 1 form less 1)",
        family="image",
        impl=IMPL + "charbonnier",
        aliases=("CharbonnierLoss", "l1_charbonnier"),
        roles=(
            Role("input", "pred", "any shape: images (N, C, H, W), or values", doc="predictions"),
            Role("target", "target", "same shape as input", doc="true values"),
        ),
        params=(
            Param(
                "eps",
                1e-3,
                "ε: quadratic for residuals well below ε, linear (|x - y|) beyond; LapSRN's 1e-3",
                minimum=0,
                strict_minimum=True,
            ),
        ),
        formula="l_i = sqrt((x_i - y_i)² + ε²); mean over all elements",
        use_when="Super-resolution, deblurring and video restoration (LapSRN, EDVR, BasicVSR): a differentiable "
        "l1 that is robust to outliers like l1, without l1's kink at 0, so the gradient fades smoothly as a pixel "
        "becomes right.",
        avoid_when="You want the errors' squares to count (mse) or a loss exactly 0 for a perfect fit: the minimum "
        "is ε per element, not 0 (subtract ε if it matters).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="image",
        notes="The form of the super-resolution literature, sqrt(d² + ε²) with ε = 1e-3 (LapSRN; BasicSR's "
        "CharbonnierLoss takes ε² = 1e-12 as its eps). kornia's charbonnier_loss is Barron's sqrt(d² + 1) - 1 at "
        "scale 1, which differs: this loss is ε · kornia(d / ε) + ε, a penalty in the data's units with an offset ε. "
        "Element-wise like l1, so any shape is accepted and chunked runs, --ci and --worst work per element.",
    )
)

register(
    LossSpec(
        name="total_variation",
        curve="image_step",
        torch_name=None,
        source="kornia kornia.losses.total_variation",
        family="image",
        impl=IMPL + "total_variation",
        aliases=("TotalVariation", "tv", "tv_loss", "anisotropic_tv"),
        roles=(IMAGES,),
        params=(
            Param(
                "pixel_mean",
                False,
                "average each direction's differences over their count before adding them (kornia's "
                "reduction='mean'), instead of summing them",
                kind="bool",
            ),
        ),
        formula="l_n = Σ_c [Σ |x[i+1, j] - x[i, j]| + Σ |x[i, j+1] - x[i, j]|] over image n's channels c and pixels; "
        "mean over the images",
        use_when="A smoothness prior on a predicted image (Rudin, Osher and Fatemi, 1992): a regulariser added to "
        "a restoration, style-transfer or inverse-problem loss, which penalises noise and ringing but lets sharp "
        "edges through better than a squared gradient would. It takes no target.",
        avoid_when="As the only loss (it is minimised by any constant image), or when fine texture must survive: it "
        "flattens textures into piecewise-constant patches (staircasing).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="image",
        decomposition="rows",
        label_kind="none",
        notes="kornia's total_variation gives one value per image and channel, (N, C); losscli adds the channels, "
        "so 'none' gives one value per image, (N,), and 'mean' averages them ('sum' is the batch's total, kornia's "
        "TotalVariation()(x).sum()). Anisotropic: the absolute vertical and horizontal differences are added, not "
        "combined as sqrt(dx² + dy²). Equal neighbouring pixels have the gradient 0 (the subgradient torch's abs "
        "takes). Give only PRED: the loss has no target.",
    )
)
