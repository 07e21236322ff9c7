"""Specs of the metric-learning and self-supervised embedding losses (see ``losscli.losses.metric``).

pytorch-metric-learning's losses on labelled batches (contrastive, supcon,
multi_similarity), on class centres or proxies given as an input of their own
(arcface, cosface, proxy_anchor), and the two-view losses barlow_twins and
vicreg. Every one of them is a statistic of the whole batch: none decomposes
over samples.
"""

from __future__ import annotations

from losscli.catalog.geometry import EMBEDDINGS, GROUP_LABELS, PAIRS_RESAMPLING
from losscli.registry import LossSpec, Param, Role, register

NOT_IN_ARTICLE = "not in the article"
IMPL = "losscli.losses.metric:"
PML = "pytorch-metric-learning pytorch_metric_learning.losses."
NORMALISED = (
    "Embeddings are L2-normalised first, as pml's default distance does (F.normalize: norms floored at 1e-12, so a "
    "zero row stays zero)."
)

CLASS_LABELS = Role(
    "labels",
    "target",
    "(N,)",
    dtype="index",
    domain="class",
    doc="the class index of each embedding, in [0, C)",
)
CENTRES_RESAMPLING = (
    "its class centres (--input {role}) belong to the whole batch, not one to a row, and a bootstrap resamples "
    "every input's rows"
)
VIEWS_RESAMPLING = (
    "its value is a statistic of the whole batch (each feature's spread and the features' correlations over the "
    "rows), and a bootstrap's repeated rows change those statistics themselves, so the interval would be that of "
    "other batches"
)
TEMPERATURE_DOC = "τ dividing the cosines; smaller values sharpen the softmax over the batch"

# --- labelled batches: pairs and anchors -----------------------------------------------

register(
    LossSpec(
        name="contrastive",
        curve="contrastive",
        torch_name=None,
        source=PML + "ContrastiveLoss",
        family="embedding",
        impl=IMPL + "contrastive",
        aliases=("ContrastiveLoss", "pairwise_contrastive", "siamese_contrastive"),
        roles=(EMBEDDINGS, GROUP_LABELS),
        params=(
            Param("pos_margin", 0.0, "positive pairs closer than this distance cost nothing"),
            Param("neg_margin", 1.0, "negative pairs farther apart than this distance cost nothing"),
        ),
        formula="positive pair (i, j): [d_ij - pos_margin]_+; negative pair: [neg_margin - d_ij]_+, d the "
        "Euclidean distance of the normalised embeddings, over every ordered pair i ≠ j; mean = the mean of the "
        "non-zero positive terms + the mean of the non-zero negative terms",
        use_when="Siamese or metric learning from labels (Hadsell et al., 2006): pull same-label embeddings "
        "together and push the others beyond a margin, the simplest pair loss and a strong baseline "
        "(Musgrave et al., 2020).",
        avoid_when="Your pairs come as two files of embeddings labelled ±1 (use cosine_embedding or hinge_embedding), "
        "or you want every negative of an anchor weighed against its positives at once (supcon, multi_similarity).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="embedding_labels",
        decomposition=None,
        resampling=PAIRS_RESAMPLING,
        label_kind="class",
        notes=NORMALISED + " The distance is not squared (pml's LpDistance with power 1; Hadsell et al. square "
        "it), so unit embeddings lie within distance 2 of each other: neg_margin >= 2 makes every negative pair "
        "count. 'mean' is pml's default AvgNonZeroReducer: the positive and the negative terms are each averaged "
        "over the pairs whose term is above 0, and the two averages added, so it is not the mean of 'none', which "
        "gives one value per anchor (the sum of its pairs' terms); 'sum' adds every pair's term. Two equal "
        "embeddings are at distance 0, where the distance has no derivative: its gradient is 0 there, as "
        "torch.cdist's (which pml uses) is. MONAI's ContrastiveLoss is another loss, SimCLR's NT-Xent (see "
        "ntxent).",
    )
)

register(
    LossSpec(
        name="supcon",
        curve="contrastive",
        torch_name=None,
        source=PML + "SupConLoss",
        family="embedding",
        impl=IMPL + "supcon",
        aliases=("SupConLoss", "supervised_contrastive"),
        roles=(EMBEDDINGS, GROUP_LABELS),
        params=(Param("temperature", 0.1, TEMPERATURE_DOC, minimum=0, strict_minimum=True),),
        formula="l_i = -1/|P(i)| · Σ_{p∈P(i)} log(exp(s_ip) / Σ_{a≠i} exp(s_ia)), s = cos / τ, P(i) the other "
        "rows of i's label; mean over the anchors that have a positive",
        use_when="Supervised contrastive learning (Khosla et al., 2020): labelled batches, often two augmented "
        "views per image, where every same-class embedding is a positive and the rest of the batch the "
        "negatives; pre-training a classifier's encoder before a linear head.",
        avoid_when="The batch holds few samples per class (anchors without a positive add nothing), or there are "
        "no labels beyond the views of one item (ntxent is the self-supervised case).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="embedding_labels",
        decomposition=None,
        resampling=PAIRS_RESAMPLING,
        label_kind="class",
        notes=NORMALISED + " This is the paper's L^sup_out (the mean over the positives outside the log). "
        "reduction 'none' gives one value per anchor, 0 for an anchor without a positive; 'mean' averages the "
        "others (pml's AvgNonZeroReducer; every anchor with a positive costs more than 0). The default τ is pml's "
        "0.1; the authors' SupContrast code uses 0.07 and multiplies the loss by τ / 0.07 (1 at its default): pml "
        "leaves that factor out, and so does losscli.",
    )
)

register(
    LossSpec(
        name="multi_similarity",
        curve="contrastive",
        torch_name=None,
        source=PML + "MultiSimilarityLoss",
        family="embedding",
        impl=IMPL + "multi_similarity",
        aliases=("MultiSimilarityLoss", "ms_loss", "multi_similarity_loss"),
        roles=(EMBEDDINGS, GROUP_LABELS),
        params=(
            Param("alpha", 2.0, "α, the sharpness of the positives' soft minimum", minimum=0, strict_minimum=True),
            Param("beta", 50.0, "β, the sharpness of the negatives' soft maximum", minimum=0, strict_minimum=True),
            Param("base", 0.5, "λ, the similarity both sums are measured from"),
        ),
        formula="l_i = 1/α · log(1 + Σ_{P(i)} exp(-α (s_ip - λ))) + 1/β · log(1 + Σ_{N(i)} exp(β (s_in - λ))), "
        "s the cosine; mean over the anchors",
        use_when="Metric learning for retrieval from class labels (Wang et al., 2019): each anchor weighs its "
        "hard positives and hard negatives by how similar they are, relative to each other and to λ.",
        avoid_when="You want the paper's pair mining too (pml keeps it in MultiSimilarityMiner, which losscli "
        "does not run), or batches hold one sample per class.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="embedding_labels",
        decomposition=None,
        resampling=PAIRS_RESAMPLING,
        label_kind="class",
        notes=NORMALISED + " Every positive and negative pair of the batch counts, as in pml's loss without a "
        "miner; the paper first mines the pairs (ε = 0.1). An anchor without a positive has only its negative "
        "term. reduction 'none' gives one value per anchor; 'mean' averages them over all anchors (pml's "
        "MeanReducer). β = 50 makes the negative term a near-maximum over the hardest negatives.",
    )
)

# --- class centres and proxies ----------------------------------------------------------

WEIGHT = Role(
    "weight",
    "pred",
    "(D, C)",
    doc="the class centres, one column per class: pml's W (embedding_size × num_classes), normalised inside; "
    "its gradient is reported too",
)
PROXIES = Role(
    "proxies",
    "pred",
    "(C, D)",
    doc="one proxy per class, a row each: pml's proxies (num_classes × embedding_size), normalised inside; its "
    "gradient is reported too",
)
SCALE = Param("scale", 64.0, "s, the norm the cosine logits are scaled to", minimum=0, strict_minimum=True)
CENTRES_NOTES = (
    "Embeddings and the columns of W are L2-normalised first, as pml does (F.normalize). Give W with "
    "--input weight=W.npy, laid out as pml's loss.W, (D, C): one column per class; a (C, D) matrix is refused "
    "with a hint to transpose it (when C ≠ D: a square W cannot be told apart). The gradient with respect to W is "
    "reported beside that of the embeddings. "
    "reduction 'none' gives one value per sample; 'mean' averages them (pml's MeanReducer)."
)

register(
    LossSpec(
        name="arcface",
        curve="class_centres",
        torch_name=None,
        source=PML + "ArcFaceLoss",
        family="embedding",
        impl=IMPL + "arcface",
        aliases=("ArcFaceLoss", "additive_angular_margin"),
        roles=(EMBEDDINGS, CLASS_LABELS, WEIGHT),
        params=(
            Param(
                "margin",
                0.5,
                "m, the angle added to the true class's, in radians (the paper's 0.5; pml's margin is in degrees: "
                "28.6° = 0.4992 rad)",
                minimum=0,
                maximum=1.5707963267948966,
            ),
            SCALE,
        ),
        formula="l_n = CE(s · [cos θ_j, with j = y_n: cos(θ_y + m) if θ_y <= π - m else cos θ_y - m·sin m]), "
        "cos θ_j the cosine of e_n and W's column j",
        use_when="Face recognition and other open-set identification with many classes (Deng et al., 2019): a "
        "softmax over class centres with an angular margin, so that embeddings of one identity cluster tightly "
        "on the sphere and new identities can be compared by cosine.",
        avoid_when="You have no class centres to learn (use supcon or contrastive on the batch), classes are few "
        "and closed-set (cross_entropy on logits is simpler), or the data are noisy: the margin amplifies label "
        "noise (sub-center ArcFace exists for that).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class_centres",
        decomposition=None,
        resampling=CENTRES_RESAMPLING.format(role="weight"),
        label_kind="class",
        notes=CENTRES_NOTES + " The margin is in radians, as in the paper and insightface (m = 0.5); pml's "
        "ArcFaceLoss takes degrees (its default 28.6 is 0.4992 rad): -p margin refuses more than π/2 (90°), so a "
        "margin given in degrees is caught. Past θ_y = π - m, cos(θ_y + m) would rise again: pml and insightface "
        "use cos θ_y - m·sin m there, which keeps the logit falling but jumps at θ_y = π - m; so does losscli. The "
        "derivative of θ_y grows as 1/sin θ_y near θ_y = 0; an embedding exactly on its class centre (or opposite "
        "it), where θ_y has a kink like |x| at 0, gets no gradient through θ_y, where pml's is NaN.",
    )
)

register(
    LossSpec(
        name="cosface",
        curve="class_centres",
        torch_name=None,
        source=PML + "CosFaceLoss",
        family="embedding",
        impl=IMPL + "cosface",
        aliases=("CosFaceLoss", "large_margin_cosine", "lmcl", "additive_cosine_margin"),
        roles=(EMBEDDINGS, CLASS_LABELS, WEIGHT),
        params=(Param("margin", 0.35, "m, subtracted from the true class's cosine", minimum=0), SCALE),
        formula="l_n = CE(s · [cos θ_j, with j = y_n: cos θ_y - m]), cos θ_j the cosine of e_n and W's column j",
        use_when="Face recognition and open-set identification (Wang et al., 2018): like arcface, a softmax over "
        "class centres with a margin, here on the cosine itself, which is smooth everywhere.",
        avoid_when="You have no class centres to learn (use supcon or contrastive), or a closed set of few classes "
        "(cross_entropy).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class_centres",
        decomposition=None,
        resampling=CENTRES_RESAMPLING.format(role="weight"),
        label_kind="class",
        notes=CENTRES_NOTES + " m and s default to the paper's and pml's 0.35 and 64.",
    )
)

register(
    LossSpec(
        name="proxy_anchor",
        curve="proxies",
        torch_name=None,
        source=PML + "ProxyAnchorLoss",
        family="embedding",
        impl=IMPL + "proxy_anchor",
        aliases=("ProxyAnchorLoss", "proxy_anchor_loss"),
        roles=(EMBEDDINGS, CLASS_LABELS, PROXIES),
        params=(
            Param("margin", 0.1, "δ, how far inside each proxy's neighbourhood its embeddings should lie"),
            Param("alpha", 32.0, "α, the scale of the similarities", minimum=0, strict_minimum=True),
        ),
        formula="per proxy c: pos_c = log(1 + Σ_{i: y_i = c} exp(-α (s_ic - δ))), neg_c = log(1 + Σ_{i: y_i ≠ c} "
        "exp(α (s_ic + δ))); mean = Σ pos_c / (classes in the batch) + Σ neg_c / C",
        use_when="Metric learning for retrieval with one learned proxy per class (Kim et al., 2020): each proxy "
        "is an anchor against the whole batch, which converges fast and weighs hard examples like a pair loss.",
        avoid_when="Classes are too many or open-ended to keep a proxy each, or you have no proxies to learn "
        "(supcon, multi_similarity).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="proxies",
        decomposition=None,
        resampling=CENTRES_RESAMPLING.format(role="proxies"),
        label_kind="class",
        notes="Embeddings and proxies are L2-normalised first, as pml does. Give the proxies with --input "
        "proxies=P.npy, laid out as pml's loss.proxies, (C, D): one row per class (a (D, C) matrix is refused with "
        "a hint to transpose it); their gradient is reported beside that of the embeddings. reduction 'none' gives "
        "one value per proxy, pos_c + neg_c, shape (C,), not per sample; 'sum' adds them; 'mean' is pml's "
        "DivisorReducer, the positive terms over the proxies whose class is in the batch and the negative terms "
        "over all C.",
    )
)

# --- two views of a batch ---------------------------------------------------------------

VIEW = Role("embeddings", "pred", "(N, D)", doc="the first view's embeddings (projector outputs), one sample per row")
REF_VIEW = Role(
    "ref_emb", "pred", "(N, D)", doc="the second view's embeddings: the same samples, row for row, augmented otherwise"
)
TERMS = "reduction 'sum', the default, is the loss; 'none' gives its terms"

register(
    LossSpec(
        name="barlow_twins",
        curve="views",
        torch_name=None,
        source="losscli (Zbontar et al., 2021, Barlow Twins: Self-Supervised Learning via Redundancy Reduction; "
        "its authors' facebookresearch/barlowtwins code)",
        family="embedding",
        impl=IMPL + "barlow_twins",
        aliases=("BarlowTwinsLoss", "barlow"),
        roles=(VIEW, REF_VIEW),
        params=(
            Param(
                "lambda",
                0.0051,
                "λ, the weight of the off-diagonal (redundancy) term (the authors' code's --lambd)",
                minimum=0,
                torch_name="lambd",
            ),
            Param("eps", 1e-5, "added to each feature's variance before dividing (BatchNorm1d's eps)", minimum=0),
        ),
        formula="Σ_i (1 - C_ii)² + λ · Σ_{i≠j} C_ij², C = BN(z_A)ᵀ BN(z_B) / N the cross-correlation of the views, "
        "BN standardising each feature over the batch",
        use_when="Self-supervised pre-training on two augmented views per image without negatives or a large batch "
        "(Zbontar et al., 2021): the views' cross-correlation is driven to the identity, making the features "
        "invariant and decorrelated.",
        avoid_when="The batch is small against the embedding width (the correlations are then noisy), or you have "
        "labels (supcon) or want explicit variance/covariance weights (vicreg).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="views",
        decomposition=None,
        resampling=VIEWS_RESAMPLING,
        label_kind="none",
        reductions=("sum", "none"),
        default_reduction="sum",
        notes=TERMS + ", shape (2,): the invariance term Σ (1 - C_ii)² and the redundancy term λ · Σ C_ij². Each "
        "view is batch-normalised as the authors' code does (BatchNorm1d without affine parameters: the biased "
        "variance over the N rows, plus eps); the paper's pseudocode divides by the unbiased standard deviation "
        "without eps, which scales C by (N - 1) / N. λ defaults to the code's 0.0051 (the paper says 5·10⁻³). "
        "Give the second view with --input ref_emb=PATH.",
    )
)

register(
    LossSpec(
        name="vicreg",
        curve="views",
        torch_name=None,
        source=PML + "VICRegLoss",
        family="embedding",
        impl=IMPL + "vicreg",
        aliases=("VICRegLoss", "variance_invariance_covariance"),
        roles=(VIEW, REF_VIEW),
        params=(
            Param("invariance_lambda", 25.0, "λ, the weight of the mean squared distance of the views", minimum=0),
            Param("variance_mu", 25.0, "μ, the weight of the variance hinge", minimum=0),
            Param("covariance_v", 1.0, "ν, the weight of the off-diagonal covariance penalty", minimum=0),
            Param("eps", 1e-4, "added to each variance before its square root", minimum=0),
        ),
        formula="λ · mean((z - z')²) + μ · (v(z) + v(z')) / 2 + ν · (c(z) + c(z')), v = mean_d [1 - sqrt(Var z_d + "
        "eps)]_+, c = Σ_{i≠j} Cov(z)_ij² / D",
        use_when="Self-supervised pre-training on two views (Bardes et al., 2022): invariance between the views, "
        "and the variance and covariance terms keep the embeddings from collapsing, with no negatives and "
        "weights you can set apart.",
        avoid_when="You have labels (supcon, arcface), or batches too small to estimate each feature's variance "
        "(two rows at least; dozens in practice).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="views",
        decomposition=None,
        resampling=VIEWS_RESAMPLING,
        label_kind="none",
        reductions=("sum", "none"),
        default_reduction="sum",
        notes=TERMS + ", shape (3,): the weighted invariance, variance and covariance terms. The value is pml's "
        "VICRegLoss with its default MeanReducer (each term averaged as the paper's code averages it, the terms "
        "added), whose variance term halves the two views' hinges as the authors' code does. Variances and "
        "covariances are unbiased (over N - 1). Give the second view with --input ref_emb=PATH.",
    )
)
