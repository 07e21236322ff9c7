"""Specs of the segmentation losses of MONAI, smp and kornia (see ``losscli.losses.segmentation``).

Multi-class inputs put the classes on axis 1, (N, C, d1, ...), as these
libraries do; targets are class indices (N, d1, ...) or one-hot masks shaped
like the input. Dice and Tversky, the Keras overlaps, are in ``geometry``.
"""

from __future__ import annotations

from losscli.catalog.geometry import MASK_PROBS, MASK_TARGET, NOT_IN_ARTICLE
from losscli.registry import LossSpec, Param, Role, register

IMPL = "losscli.losses.segmentation:"

SEG_LOGITS = Role(
    "input",
    "pred",
    "(N, C, d1, ...)",
    domain="logits",
    doc="class scores (logits) per pixel, the C classes on axis 1 (C = 1: one binary channel)",
)
SEG_LABELS = Role(
    "target",
    "target",
    "(N, d1, ...) or (N, C, d1, ...)",
    dtype="index_or_prob",
    domain="class",
    doc="class indices per pixel, or one-hot masks shaped like the input (required for C = 1)",
)
SEG_INDEX = Role(
    "target", "target", "(N, d1, ...)", dtype="index", domain="class", doc="class indices in [0, C) per pixel"
)
CLASS_PROBS = Role(
    "input",
    "pred",
    "(N, C, d1, ...)",
    domain="prob",
    doc="predicted probabilities in [0, 1] per class channel (softmax or sigmoid outputs), the classes on axis 1",
)
CLASS_MASKS = Role(
    "target", "target", "same shape as input", domain="prob", doc="one-hot masks: 0/1 per pixel and class channel"
)
IMAGE_PROBS = Role(
    "input",
    "pred",
    "(N, C, H, W) or (N, C, H, W, D)",
    domain="prob",
    doc="predicted probabilities in [0, 1] per class channel of 2-D or 3-D images (save them as .npy)",
)
IMAGE_MASKS = Role(
    "target", "target", "same shape as input", domain="prob", doc="true masks: 0/1 per pixel and class channel"
)
BINARY_LOGITS = Role(
    "input", "pred", "(N, d1, ...)", domain="logits", doc="logits of the foreground, one mask per sample (row)"
)
BINARY_MASKS = Role("target", "target", "same shape as input", domain="prob", doc="true masks: 0 or 1 per pixel")

LAMBDA_DICE = Param("lambda_dice", 1.0, "weight of the Dice term", minimum=0)
SIGMOID = Param(
    "sigmoid",
    False,
    "Dice on a sigmoid per channel (multi-label masks) instead of the softmax over the classes",
    kind="bool",
)
INCLUDE_BACKGROUND = Param(
    "include_background", True, "keep channel 0 (the background); false drops it from the Dice term", kind="bool"
)
SMOOTH_NR = Param("smooth_nr", 1e-5, "added to the Dice numerator", minimum=0)
SMOOTH_DR = Param("smooth_dr", 1e-5, "added to the Dice denominator (keeps an empty class finite)", minimum=0)
MONAI_LOGITS = (
    "losscli takes logits: the Dice term is MONAI's with softmax=True (sigmoid=True with -p sigmoid=true); MONAI's "
    "default applies no activation, which on logits is no Dice at all. A single channel (C = 1) is binary: a sigmoid, "
    "where MONAI would skip the softmax and leave the logits, and the targets must be 0/1 masks shaped like the input. "
    "Class-index targets are one-hot encoded first (MONAI's to_onehot_y=True). MONAI's class weights (weight) are not "
    "offered. "
)
PER_SAMPLE_MEAN = (
    "reduction 'none' gives one value per sample; 'mean' averages them, which is MONAI's mean (both terms are means "
    "over samples of equal size), so chunked runs, --ci and --by work per sample."
)
PER_SAMPLE = (
    PER_SAMPLE_MEAN + " MONAI's 'sum' is not offered: it adds the per-class Dice values to a sum of per-pixel terms, "
    "not the samples' losses."
)
POOLED = (
    "The batch is pooled into one overlap, so the value of N samples is not a mean of per-sample values: it is "
    "computed whole (--chunk-size is ignored), --worst and --by have no per-sample values, and --ci needs "
    "--ci-method bootstrap, which recomputes it on resampled samples."
)

register(
    LossSpec(
        name="dice_ce",
        torch_name=None,
        source="MONAI monai.losses.DiceCELoss",
        family="segmentation",
        impl=IMPL + "dice_ce",
        aliases=("DiceCELoss", "dice_cross_entropy", "dice_plus_ce"),
        roles=(SEG_LOGITS, SEG_LABELS),
        params=(
            LAMBDA_DICE,
            Param("lambda_ce", 1.0, "weight of the cross-entropy term", minimum=0),
            SIGMOID,
            Param(
                "include_background",
                True,
                "keep channel 0 in the Dice term; false drops it there (the cross entropy keeps every class, as MONAI)",
                kind="bool",
            ),
            SMOOTH_NR,
            SMOOTH_DR,
        ),
        formula="l_n = λ_dice · mean_c [1 - (2 Σ p·y + smooth_nr) / (Σ p + Σ y + smooth_dr)] + λ_ce · mean_pixels "
        "(-Σ_c y_c log softmax(x)_c), p = softmax(x) over axis 1; sums over each sample's pixels",
        use_when="Semantic segmentation from logits (the nnU-Net recipe): the cross entropy gives every pixel a "
        "smooth, well-scaled gradient from the start, the Dice term keeps small structures from being swamped by "
        "the background.",
        avoid_when="Your predictions are probabilities already (use dice or generalized_dice), or the classes are "
        "extremely imbalanced and the pixel term still dominates (try dice_focal or generalized_dice).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="seg_classes",
        decomposition="rows",
        reductions=("mean", "none"),
        label_kind="class",
        curve="class",
        notes=MONAI_LOGITS
        + "The cross entropy is MONAI's: softmax over the classes for C > 1 even with -p sigmoid=true, binary "
        "cross entropy with logits for C = 1. " + PER_SAMPLE,
    )
)

register(
    LossSpec(
        name="dice_focal",
        torch_name=None,
        source="MONAI monai.losses.DiceFocalLoss",
        family="segmentation",
        impl=IMPL + "dice_focal",
        aliases=("DiceFocalLoss", "dice_plus_focal"),
        roles=(SEG_LOGITS, SEG_LABELS),
        params=(
            LAMBDA_DICE,
            Param("lambda_focal", 1.0, "weight of the focal term", minimum=0),
            Param("gamma", 2.0, "focusing exponent γ of the focal term (0: binary cross entropy)", minimum=0),
            SIGMOID,
            Param(
                "include_background", True, "keep channel 0 (the background) in both terms; false drops it", kind="bool"
            ),
            SMOOTH_NR,
            SMOOTH_DR,
        ),
        formula="l_n = λ_dice · mean_c Dice_{n,c} + λ_focal · mean over channels and pixels of (1 - p_t)^γ · "
        "BCE(x, y), p_t = sigmoid(x) where y = 1 and 1 - sigmoid(x) where y = 0; Dice on softmax(x)",
        use_when="Segmentation with rare foreground classes or many easy pixels (lesions, small organs): the focal "
        "term (Lin et al., 2017) down-weights the pixels already right, the Dice term scores the overlap.",
        avoid_when="Classes are balanced and easy (dice_ce is simpler and better calibrated), or the predictions "
        "are probabilities rather than logits.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="seg_classes",
        decomposition="rows",
        reductions=("mean", "none"),
        label_kind="class",
        curve="class",
        notes=MONAI_LOGITS
        + "The focal term is MONAI's FocalLoss as DiceFocalLoss builds it: a sigmoid focal loss per channel on the "
        "one-hot target (no α), exp(γ · logsigmoid(-x(2y - 1))) · BCE, the paper's (1 - p_t)^γ on 0/1 targets. "
        "Where MONAI and the paper (Lin et al.) differ, losscli follows the paper: its loss is a sum of per-element "
        "terms, so 'mean' is the mean over every element (which is MONAI's 'mean' too) and a sample's value is the "
        "mean of its elements; MONAI's 'sum' first averages each image's focal terms over its pixels and then sums "
        "(kept for backward compatibility, its code says), neither the paper's sum nor a sum of samples' losses, and "
        "is not offered. " + PER_SAMPLE_MEAN,
    )
)

register(
    LossSpec(
        name="generalized_dice",
        torch_name=None,
        source="MONAI monai.losses.GeneralizedDiceLoss",
        family="segmentation",
        impl=IMPL + "generalized_dice",
        aliases=("GeneralizedDiceLoss", "gdl", "generalised_dice"),
        roles=(CLASS_PROBS, CLASS_MASKS),
        params=(
            Param(
                "w_type",
                "square",
                "class weights from the target volume V_c = Σ y_c: square 1/V², simple 1/V, uniform 1",
                kind="str",
                choices=("square", "simple", "uniform"),
            ),
            Param("include_background", True, "keep channel 0 (the background); false drops it", kind="bool"),
            Param("smooth_nr", 1e-5, "added to the numerator", minimum=0),
            Param("smooth_dr", 1e-5, "added to the denominator", minimum=0),
        ),
        formula="l_n = 1 - (2 Σ_c w_c Σ p·y + smooth_nr) / (Σ_c w_c (Σ p + Σ y) + smooth_dr), w_c = 1 / (Σ y_c)², "
        "sums over each sample's pixels",
        use_when="Multi-class segmentation with very unequal class sizes (Sudre et al., 2017): each class is "
        "weighted by the inverse square of its volume, so small structures count as much as large ones.",
        avoid_when="Predictions are logits (apply the softmax first, or use dice_ce), or a class is absent from many "
        "samples: its weight is then borrowed from the sample's largest, which makes the loss jumpy.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class_masks",
        decomposition="rows",
        label_kind="mask",
        curve="class",
        notes="As MONAI's GeneralizedDiceLoss with its defaults (no activation: the inputs are probabilities, batch "
        "false: one value per sample). The weights are computed without gradient, as MONAI's; a class with an empty "
        "target (infinite weight) takes the largest finite weight of its sample, as in MONAI. reduction 'none' gives "
        "one value per sample (MONAI's (N, 1)). optax's multiclass_generalized_dice_loss computes the same index over "
        "the batch with a softmax inside; losscli follows MONAI.",
    )
)

register(
    LossSpec(
        name="jaccard",
        torch_name=None,
        source="segmentation_models_pytorch segmentation_models_pytorch.losses.JaccardLoss",
        family="segmentation",
        impl=IMPL + "jaccard",
        aliases=("JaccardLoss", "iou_loss", "soft_iou", "soft_jaccard"),
        roles=(
            Role(
                "input",
                "pred",
                "(N, C, d1, ...); (N, d1, ...) with mode=binary",
                domain="logits",
                doc="logits per pixel, the C classes on axis 1 (one mask per sample for mode=binary)",
            ),
            Role(
                "target",
                "target",
                "(N, d1, ...) class indices, or masks shaped like the input",
                dtype="index_or_prob",
                domain="class",
                doc="class indices per pixel (multiclass), or 0/1 masks shaped like the input",
            ),
        ),
        params=(
            Param(
                "mode",
                "multiclass",
                "multiclass (softmax over axis 1), multilabel (a sigmoid per channel) or binary (a sigmoid)",
                kind="str",
                choices=("multiclass", "multilabel", "binary"),
            ),
            Param("smooth", 0.0, "added to the intersection and the union", minimum=0),
            Param("eps", 1e-7, "floor of the union (and of the IoU with log_loss)", minimum=0),
            Param("log_loss", False, "-log(IoU) instead of 1 - IoU", kind="bool"),
        ),
        formula="l_c = 1 - (Σ p_c·y_c + smooth) / max(Σ p_c + Σ y_c - Σ p_c·y_c + smooth, eps), sums over the whole "
        "batch; 0 for a class absent from the targets; loss = mean_c l_c",
        use_when="Segmentation scored by IoU: the soft Jaccard index of each class over the batch, directly "
        "optimised; stricter than Dice on partial overlaps.",
        avoid_when="You need per-image values (intervals, --worst: use lovasz_softmax or dice per image), or the "
        "predictions are probabilities already (apply a logit, or use tversky with α = β = 1).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="jaccard",
        decomposition=None,
        reductions=("mean", "none"),
        label_kind="class",
        curve="class_batch",
        notes="As smp's JaccardLoss(mode, from_logits=True): the softmax (or sigmoid) is applied inside, the IoU of "
        "each class pools every sample and pixel of the batch (smp's dims=(0, 2)), and a class no target pixel "
        "holds scores 0 but still counts in the mean over classes. reduction 'none' gives the C per-class losses. "
        "smp's classes option is not offered. " + POOLED,
    )
)

register(
    LossSpec(
        name="lovasz_softmax",
        torch_name=None,
        source="kornia kornia.losses.lovasz_softmax_loss",
        family="segmentation",
        impl=IMPL + "lovasz_softmax",
        aliases=("LovaszSoftmaxLoss", "lovasz_softmax_loss", "lovasz"),
        roles=(SEG_LOGITS, SEG_INDEX),
        params=(),
        formula="l_n = mean_c Σ_i e_c(i) · (J_c(i) - J_c(i - 1)), e_c = |softmax(x)_c - [y = c]| sorted decreasingly, "
        "J_c(i) the Jaccard loss of the i largest errors: the Lovász extension of 1 - IoU_c",
        use_when="Semantic segmentation scored by mean IoU (Berman et al., 2018): a convex surrogate of the Jaccard "
        "loss per image; often used to fine-tune after cross entropy.",
        avoid_when="Training from scratch on its own (its gradient is sparse early on; start with cross entropy), or "
        "you need a smooth loss (it is piecewise linear in the errors).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="seg_classes",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="As kornia: per image (a sample's pixels), every class averaged including those absent from the image, "
        "then the mean over images. Berman et al.'s reference code and smp's LovaszLoss default to per_image=False "
        "(the batch pooled into one image) and classes='present' (absent classes skipped): pass the batch as one "
        "sample to pool it. reduction 'none' gives one value per image. Needs C >= 2 classes.",
    )
)

register(
    LossSpec(
        name="lovasz_hinge",
        torch_name=None,
        source="kornia kornia.losses.lovasz_hinge_loss",
        family="segmentation",
        impl=IMPL + "lovasz_hinge",
        aliases=("LovaszHingeLoss", "lovasz_hinge_loss"),
        roles=(BINARY_LOGITS, BINARY_MASKS),
        params=(),
        formula="l_n = Σ_i max(e(i), 0) · (J(i) - J(i - 1)), e = 1 - x·(2y - 1) the hinge errors sorted decreasingly, "
        "J(i) the Jaccard loss of the i largest errors",
        use_when="Binary segmentation scored by IoU (Berman et al., 2018): the Lovász extension of the Jaccard loss "
        "on hinge errors of the logits, per image.",
        avoid_when="Multi-class masks (use lovasz_softmax), or probabilities rather than logits (the hinge needs "
        "signed scores).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="binary_masks",
        decomposition="rows",
        label_kind="mask",
        curve="elementwise",
        notes="As kornia and Berman et al.'s lovasz_hinge(per_image=True): one value per image (reduction 'none'), "
        "'mean' over images. smp's LovaszLoss(mode='binary') defaults to per_image=False, one image of the whole "
        "batch. Targets must be 0 or 1; an image without foreground still scores its false positives.",
    )
)

register(
    LossSpec(
        name="mcc",
        torch_name=None,
        source="segmentation_models_pytorch segmentation_models_pytorch.losses.MCCLoss",
        family="segmentation",
        impl=IMPL + "mcc",
        aliases=("MCCLoss", "matthews_correlation_loss"),
        roles=(MASK_PROBS, MASK_TARGET),
        params=(
            Param("eps", 1e-5, "added to each of the four soft counts (keeps a one-class batch finite)", minimum=0),
        ),
        formula="1 - (TP·TN - FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)), TP = Σ p·y + eps, TN = Σ (1-p)(1-y) + eps, "
        "FP = Σ p(1-y) + eps, FN = Σ (1-p)y + eps over the whole batch",
        use_when="Binary segmentation with heavy class imbalance (skin lesions; Abhishek & Hamarneh, 2021): MCC uses "
        "all four cells of the confusion matrix, so the true negatives count too, unlike Dice and IoU.",
        avoid_when="You need per-image values (intervals, --worst), or the predictions are logits (apply a sigmoid).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="masks",
        decomposition=None,
        reductions=("mean",),
        label_kind="mask",
        curve="mask_pair",
        notes="As smp's MCCLoss: probabilities in, soft counts pooled over the whole batch, eps added to each count. "
        "MONAI's MCCLoss computes one MCC per sample and channel (batch=False), smooths only the denominator "
        "(smooth_dr=1e-5 under the square root) and scores a perfect prediction 0; with batch=True and eps -> 0 the "
        "two agree. " + POOLED,
    )
)

register(
    LossSpec(
        name="soft_cldice",
        torch_name=None,
        source="MONAI monai.losses.SoftclDiceLoss",
        family="segmentation",
        impl=IMPL + "soft_cldice",
        aliases=("SoftclDiceLoss", "cldice", "centerline_dice"),
        roles=(IMAGE_PROBS, IMAGE_MASKS),
        params=(
            Param("iter_", 3, "iterations of the soft skeleton (its largest radius)", kind="int", minimum=0),
            Param("smooth_nr", 1.0, "added to the numerators of Tprec and Tsens", minimum=0),
            Param("smooth_dr", 1.0, "added to the denominators of Tprec and Tsens", minimum=0),
            Param("smooth", 1e-4, "added to the denominator of their harmonic mean", minimum=0),
            Param("include_background", True, "keep channel 0 (the background); false drops it", kind="bool"),
        ),
        formula="l_n = 1 - 2·Tprec·Tsens / (Tprec + Tsens + smooth), Tprec = (Σ S(p)·y + smooth_nr) / (Σ S(p) + "
        "smooth_dr), Tsens = (Σ S(y)·p + smooth_nr) / (Σ S(y) + smooth_dr), S the soft skeleton (iterated min/max "
        "pooling)",
        use_when="Tubular or curvilinear structures (vessels, neurons, roads; Shit et al., 2021): it scores the "
        "overlap of skeletons, so breaking a thin vessel costs as much as missing a thick one.",
        avoid_when="Blob-like objects (dice is enough), or inputs that are not 2-D or 3-D images. Usually combined "
        "with dice rather than used alone.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class_images",
        decomposition="rows",
        label_kind="mask",
        curve="image",
        notes="As MONAI 1.6's SoftclDiceLoss with its defaults (iter_=3, smooth_nr=smooth_dr=1, smooth=1e-4, "
        "probabilities in, no activation): one value per sample, pooling its channels and pixels; older MONAI "
        "releases and the authors' code pooled the whole batch and dropped channel 0 always. The skeleton is "
        "differentiated through (max pooling and ReLU), as in MONAI.",
    )
)

register(
    LossSpec(
        name="hausdorff_dt",
        torch_name=None,
        source="MONAI monai.losses.HausdorffDTLoss",
        family="segmentation",
        impl=IMPL + "hausdorff_dt",
        aliases=("HausdorffDTLoss", "hausdorff", "hausdorff_distance_transform"),
        roles=(IMAGE_PROBS, IMAGE_MASKS),
        params=(
            Param("alpha", 2.0, "exponent α of the distances (larger weighs far errors more)", minimum=0),
            Param(
                "include_background",
                False,
                "keep channel 0 (MONAI drops it by default); a single channel is always kept",
                kind="bool",
            ),
        ),
        formula="l_{n,c} = mean_pixels (p - y)² · (d_p^α + d_y^α), d_p, d_y the Euclidean distance transforms of the "
        "masks p > 0.5 and y > 0.5 (distance to the boundary, on either side)",
        use_when="Segmentation where boundary errors far from the true contour matter (Karimi & Salcudean, 2019): a "
        "differentiable estimate of the Hausdorff distance, usually added to dice.",
        avoid_when="Large 3-D volumes in a loop (the distance transforms run on the CPU every call), or when you want "
        "the gradient of the distances themselves (they are held constant).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class_images",
        decomposition="rows",
        label_kind="mask",
        curve="image",
        notes="As MONAI's HausdorffDTLoss with its defaults (α = 2, include_background false, probabilities in): the "
        "distance fields come from scipy's distance_transform_edt of the thresholded masks, without gradient (the "
        "reported gradient treats them as constants), and are 0 for a mask all inside or all outside. reduction "
        "'none' gives one value per sample and channel (N, C); 'mean' averages them.",
    )
)
