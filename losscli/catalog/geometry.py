"""Specs of the segmentation, embedding and detection losses torch.nn lacks (see ``losscli.losses.geometry``)."""

from __future__ import annotations

from losscli.registry import LossSpec, Param, Role, register

NOT_IN_ARTICLE = "not in the article"
IMPL = "losscli.losses.geometry:"

# --- segmentation masks ---------------------------------------------------------------

MASK_PROBS = Role(
    "input",
    "pred",
    "(N, d1, ...) or (N, C, d1, ...), one sample per row",
    domain="prob",
    doc="predicted probabilities in [0, 1] (sigmoid or softmax outputs), one mask per sample",
)
MASK_TARGET = Role(
    "target",
    "target",
    "same shape as input",
    domain="prob",
    doc="true masks: 0/1 per pixel (soft values in [0, 1] are accepted)",
)
SMOOTH = Param(
    "smooth",
    0.0,
    "added to the numerator and the denominator; > 0 makes an empty mask predicted empty score 0",
    minimum=0,
)
PER_CLASS = Param(
    "per_class",
    False,
    "one overlap per sample and class (axis 1 of (N, C, d1, ...)), instead of pooling every class",
    kind="bool",
)

register(
    LossSpec(
        name="dice",
        torch_name=None,
        source="Keras keras.losses.Dice",
        family="segmentation",
        impl=IMPL + "dice",
        aliases=("Dice", "soft_dice", "sorensen_dice", "dice_coefficient_loss"),
        roles=(MASK_PROBS, MASK_TARGET),
        params=(SMOOTH, PER_CLASS),
        formula="l_n = 1 - (2 · Σ x·y + smooth) / (Σ x + Σ y + smooth + 1e-7), sums over each sample's "
        "elements (each sample's and class's with per_class)",
        use_when="Segmentation masks where the foreground is a small part of the image: the loss scores the "
        "overlap with the true region, so the many easy background pixels cannot dominate it as they do "
        "pixel-wise bce.",
        avoid_when="The predictions are logits (apply a sigmoid/softmax first, or use bce_with_logits), or you "
        "need calibrated per-pixel probabilities: Dice only cares about the overlap and gives noisy gradients "
        "for tiny or empty masks (combining it with bce is common).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="masks",
        decomposition="rows",
        label_kind="mask",
        notes="One Dice per sample, as Keras' Dice with axis=(1, ...): Keras' default (axis=None) pools the whole "
        "batch into a single Dice, which differs from the mean of the per-sample ones. reduction 'none' gives "
        "(N,) or (N, C) with per_class; 'mean' averages those. Keras guards the denominator with 1e-7 only: "
        "an empty mask predicted (nearly) empty scores a loss of 1 unless smooth > 0. For multi-class masks "
        "pass one-hot targets of shape (N, C, ...) with -p per_class=true, the usual mean of per-class Dice.",
    )
)

register(
    LossSpec(
        name="tversky",
        torch_name=None,
        source="Keras keras.losses.Tversky",
        family="segmentation",
        impl=IMPL + "tversky",
        aliases=("Tversky", "TverskyLoss", "tversky_index_loss"),
        roles=(MASK_PROBS, MASK_TARGET),
        params=(
            Param("alpha", 0.5, "weight α of the false positives Σ x·(1 - y)", minimum=0),
            Param("beta", 0.5, "weight β of the false negatives Σ (1 - x)·y; β > α favours recall", minimum=0),
            SMOOTH,
            PER_CLASS,
        ),
        formula="l_n = 1 - (TP + smooth) / (TP + α·FP + β·FN + smooth + 1e-7), TP = Σ x·y, FP = Σ x·(1 - y), "
        "FN = Σ (1 - x)·y over each sample's elements",
        use_when="Segmentation of small or rare structures where missing foreground costs more than "
        "over-segmenting it (Salehi et al., 2017): raise β above α (e.g. α=0.3, β=0.7) to trade precision "
        "for recall. α = β = 0.5 is dice; α = β = 1 is the Jaccard (IoU) loss.",
        avoid_when="False positives and false negatives cost the same (dice is the same with fewer knobs), "
        "or the predictions are logits rather than probabilities.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="masks",
        decomposition="rows",
        label_kind="mask",
        notes="One index per sample, as Keras' Tversky with axis=(1, ...) (Keras' default pools the batch). α "
        "weighs the false positives and β the false negatives as in the paper and Keras' documentation; "
        "Keras' code applied them the other way round until keras-team/keras#23333. With α = β = 0.5 and "
        "smooth 0 it equals dice up to where the 1e-7 sits.",
    )
)

# --- embeddings -----------------------------------------------------------------------

VECTORS = Role("input", "pred", "(N, D) or (N, ..., D)", doc="predicted vectors, one per row (last axis)")
TRUE_VECTORS = Role("target", "target", "same shape as input", doc="true vectors, one per row")

register(
    LossSpec(
        name="cosine_similarity",
        torch_name=None,
        source="Keras keras.losses.CosineSimilarity",
        family="embedding",
        impl=IMPL + "cosine_similarity",
        aliases=("CosineSimilarity", "cosine_proximity", "negative_cosine_similarity", "neg_cosine"),
        roles=(VECTORS, TRUE_VECTORS),
        params=(),
        formula="l_n = -Σ_d x̂_{n,d} · ŷ_{n,d}, v̂ = v / max(|v|, 1e-7): minus the cosine of each row pair",
        use_when="Regressing directions rather than magnitudes: embeddings, normalised features, word "
        "vectors; the loss runs from -1 (same direction) to 1 (opposite).",
        avoid_when="The length of the vectors matters (use mse), or you need a non-negative distance to "
        "report (use cosine_distance: this value plus 1, with the same gradient).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="vectors",
        decomposition="rows",
        notes="Per row: reduction 'none' gives one value per row (the shape without the last axis); 'mean' "
        "averages the rows. Norms are floored at 1e-7 as Keras' normalize does, so a zero vector scores 0 "
        "(orthogonal) instead of NaN, but a zero prediction gets a gradient of -ŷ · 1e7. The gradient is "
        "orthogonal to each input row: scaling a row changes nothing.",
        curve="cosine",
    )
)

register(
    LossSpec(
        name="cosine_distance",
        torch_name=None,
        source="optax optax.losses.cosine_distance",
        family="embedding",
        impl=IMPL + "cosine_distance",
        aliases=("cos_distance", "cosine_dissimilarity"),
        roles=(
            Role(
                "input",
                "pred",
                "(N, D) or (N, ..., D)",
                domain="direction",
                doc="predicted vectors, one per row; not all zeros unless epsilon > 0",
            ),
            Role(
                "target",
                "target",
                "same shape as input",
                domain="direction",
                doc="true vectors, one per row; not all zeros unless epsilon > 0",
            ),
        ),
        params=(
            Param(
                "epsilon",
                0.0,
                "floor of the squared norms (the smallest norm is sqrt(epsilon)); > 0 lets zero vectors count "
                "as orthogonal",
                minimum=0,
            ),
        ),
        formula="l_n = 1 - x_n·y_n / (sqrt(max(|x_n|², ε)) · sqrt(max(|y_n|², ε)))",
        use_when="Matching directions of embeddings or features when you want a distance: 0 for the same "
        "direction, 1 orthogonal, 2 opposite (optax's cosine_distance).",
        avoid_when="Magnitudes matter (use mse), or pairs are labelled similar/dissimilar (use "
        "cosine_embedding, which adds a margin for dissimilar pairs).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="vectors",
        decomposition="rows",
        notes="Per row, like cosine_similarity + 1. optax's epsilon defaults to 0, so an all-zero row is "
        "0/0: losscli refuses it unless -p epsilon > 0 (then it scores 1, orthogonal, and a zero prediction "
        "gets a gradient of -ŷ / sqrt(epsilon)). epsilon floors the squared norm, not the norm. Norms are "
        "taken without squaring the components, in float64, so rows too short or long to square in float32 "
        "(1e-30, 3e38) keep their direction and an epsilon float32 rounds to 0 (1e-50) still floors them; a "
        "prediction whose norm (or floor sqrt(epsilon)) is below 1.2e-38, the smallest normal float32, is "
        "refused (exit 3), as its gradient of about 1/norm would overflow.",
        curve="cosine",
    )
)

EMBEDDINGS = Role(
    "embeddings", "pred", "(N, D)", doc="one embedding per row (normalised inside: only directions matter)"
)
GROUP_LABELS = Role(
    "labels",
    "target",
    "(N,)",
    dtype="index",
    domain="class",
    doc="integer labels; equal labels mark positive pairs, different ones negative pairs",
)
PAIRS_RESAMPLING = (
    "a row's loss depends on the other rows of the batch (its positives and negatives), and a bootstrap repeats "
    "rows: each repeat would be a false positive pair of similarity 1, so the interval would be that of another loss"
)

register(
    LossSpec(
        name="ntxent",
        curve="contrastive",
        torch_name=None,
        source="optax optax.losses.ntxent",
        family="embedding",
        impl=IMPL + "ntxent",
        aliases=("NTXentLoss", "simclr", "normalized_temperature_cross_entropy"),
        roles=(EMBEDDINGS, GROUP_LABELS),
        params=(
            Param(
                "temperature",
                0.07,
                "τ dividing the cosines; smaller values sharpen the softmax over the negatives",
                minimum=0,
                strict_minimum=True,
            ),
        ),
        formula="ℓ_ij = -log(exp(s_ij) / (exp(s_ij) + Σ_{k: label_k ≠ label_i} exp(s_ik))), s = cos / τ, "
        "for every positive pair (i, j), i ≠ j; mean over the positive pairs",
        use_when="Contrastive self-supervised or supervised representation learning (SimCLR): two views of "
        "the same item share a label, and every other item in the batch serves as a negative.",
        avoid_when="The batch is small (few negatives make a weak signal), or you have explicit "
        "anchor/positive/negative triplets (use triplet_margin).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="embedding_labels",
        decomposition=None,
        resampling=PAIRS_RESAMPLING,
        label_kind="class",
        notes="As optax: the denominator holds the positive pair and the anchor's negatives only (not its "
        "other positives); cosines floor the squared norms at the dtype's machine epsilon. reduction 'none' "
        "gives one value per anchor, the sum of ℓ_ij over its positives (0 without one); 'mean' divides "
        "the total by the number of ordered positive pairs (optax's mean), which is the mean over anchors "
        "when each has exactly one positive. The batch needs a positive pair and two labels at least.",
    )
)

register(
    LossSpec(
        name="circle",
        curve="contrastive",
        torch_name=None,
        source="Keras keras.losses.Circle",
        family="embedding",
        impl=IMPL + "circle",
        aliases=("Circle", "circle_metric_loss"),
        roles=(EMBEDDINGS, GROUP_LABELS),
        params=(
            Param(
                "gamma", 80.0, "scale γ of the similarities (the paper uses 80 to 256)", minimum=0, strict_minimum=True
            ),
            Param(
                "margin",
                0.4,
                "relaxation m: positives are pushed above 1 - m and negatives below m (the paper uses 0.25 to 0.4)",
            ),
        ),
        formula="l_i = softplus(logsumexp_{j∈P(i)} -γ·[1 + m - s_ij]_+·(s_ij - 1 + m) + logsumexp_{k∈N(i)} "
        "γ·[s_ik + m]_+·(s_ik - m)), s the cosine, P(i)/N(i) the same-/other-label rows",
        use_when="Metric learning from class labels (face, re-identification, fine-grained retrieval): "
        "each similarity is weighted by how far it is from its optimum, so a batch's hard pairs dominate "
        "(Sun et al., 2020).",
        avoid_when="Batches hold few samples per class (no positive pairs), or you want an unsupervised "
        "contrastive loss over augmented views with a temperature (use ntxent).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="embedding_labels",
        decomposition=None,
        resampling=PAIRS_RESAMPLING,
        label_kind="class",
        notes="Keras expects unit-norm embeddings; losscli normalises each row first (norm floored at 1e-7), "
        "which is the same on unit rows. Cosine distances are floored at 0 as in Keras. The weights [·]_+ "
        "are differentiated through, as in Keras (the paper's code stops their gradient). reduction 'none' "
        "gives one value per anchor (0 for an anchor without a positive); 'mean' averages over the anchors "
        "that have a positive and a negative (Keras' mask). γ = 80 makes values and gradients large: tens, "
        "not units.",
    )
)

# --- boxes ----------------------------------------------------------------------------

BOX_EPS = Param("eps", 1e-7, "added to the denominators against division by zero", minimum=0)
BOX_NOTES = (
    "Boxes are x1, y1, x2, y2 columns (convert x, y, w, h first); validation refuses x2 < x1 or y2 < y1. "
    "torchvision's default reduction is 'none'; losscli's is 'mean' over the boxes ('none' gives one value per box)."
)


def _box_roles(domain: str, extra: str = "") -> tuple[Role, Role]:
    return (
        Role("input", "pred", "(N, 4)", domain=domain, doc=f"predicted boxes: x1, y1, x2, y2 per row{extra}"),
        Role("target", "target", "(N, 4)", domain=domain, doc=f"true boxes: x1, y1, x2, y2 per row{extra}"),
    )


register(
    LossSpec(
        name="giou",
        torch_name=None,
        source="torchvision torchvision.ops.generalized_box_iou_loss",
        family="detection",
        impl=IMPL + "giou",
        aliases=("generalized_box_iou_loss", "generalized_iou", "generalized_box_iou"),
        roles=_box_roles("boxes"),
        params=(BOX_EPS,),
        formula="l_n = 1 - IoU + (|C| - |A ∪ B|) / (|C| + eps), IoU = |A ∩ B| / (|A ∪ B| + eps), C the smallest "
        "box enclosing A and B",
        use_when="Bounding-box regression (DETR, many YOLO variants): scale-invariant like IoU, and still "
        "informative when the boxes do not overlap, where plain 1 - IoU has no gradient.",
        avoid_when="Boxes are not axis-aligned corners, or one box contains the other often: GIoU then "
        "reduces to IoU and converges slowly (diou/ciou move the centres directly).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="boxes",
        decomposition="rows",
        label_kind="boxes",
        notes=BOX_NOTES + " Values lie in [0, 2); disjoint boxes score above 1.",
        curve="boxes",
    )
)

register(
    LossSpec(
        name="diou",
        torch_name=None,
        source="torchvision torchvision.ops.distance_box_iou_loss",
        family="detection",
        impl=IMPL + "diou",
        aliases=("distance_box_iou_loss", "distance_iou", "distance_box_iou"),
        roles=_box_roles("boxes"),
        params=(BOX_EPS,),
        formula="l_n = 1 - IoU + ρ² / (c² + eps), ρ the distance between the box centres, c the diagonal of "
        "the smallest enclosing box",
        use_when="Bounding-box regression where fast convergence matters: the centre-distance term pulls "
        "the boxes together even when one contains the other (Zheng et al., 2020).",
        avoid_when="Aspect ratios matter as much as positions (use ciou), or boxes are not axis-aligned corners.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="boxes",
        decomposition="rows",
        label_kind="boxes",
        notes=BOX_NOTES,
        curve="boxes",
    )
)

register(
    LossSpec(
        name="ciou",
        torch_name=None,
        source="torchvision torchvision.ops.complete_box_iou_loss",
        family="detection",
        impl=IMPL + "ciou",
        aliases=("complete_box_iou_loss", "complete_iou", "complete_box_iou"),
        roles=_box_roles("boxes_aspect", " (positive height: the aspect ratio w/h must exist)"),
        params=(BOX_EPS,),
        formula="l_n = 1 - IoU + ρ² / (c² + eps) + α·v, v = 4/π² · (atan(w_B/h_B) - atan(w_A/h_A))², "
        "α = v / (1 - IoU + v + eps)",
        use_when="Bounding-box regression where overlap, centre distance and aspect ratio should all "
        "converge (YOLOv4/v5-style detectors; Zheng et al., 2020).",
        avoid_when="Boxes can have zero height (the aspect ratio w/h is undefined), or you need the exact "
        "derivative of the value (α is held constant in the gradient).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="boxes",
        decomposition="rows",
        label_kind="boxes",
        notes=BOX_NOTES + " As torchvision and the CIoU paper do, α is computed without gradient: the "
        "reported gradient is that of the value with α frozen, not its exact derivative. Boxes need a "
        "positive height (w/h).",
        curve="boxes",
    )
)
