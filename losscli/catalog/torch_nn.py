"""The losses of torch.nn, one ``LossSpec`` each, plain data.

Shapes use N for samples, C for classes, D for features, T for time steps and
S for the longest target sequence. Article sections refer to the source
tutorial summarised in ``shared/seed/loss-functions-article.md``.
"""

from __future__ import annotations

from losscli.registry import LossSpec, Param, Role, register

NOT_IN_ARTICLE = "not in the article"

# Roles shared by many losses.
INPUT = Role("input", "pred", "(N, *)", doc="model outputs")
TARGET = Role("target", "target", "(N, *), same shape as input", doc="true values")
SIGN_TARGET = Role("target", "target", "same shape as input", domain="sign", doc="labels in {-1, 1}")
LOGITS = Role("input", "pred", "(N, C) or (N, C, d1, ...)", domain="logits", doc="unnormalised class scores (logits)")
LOG_PROBS = Role(
    "input", "pred", "(N, C) or (N, C, d1, ...)", domain="log_probs", doc="log-probabilities (log_softmax outputs)"
)
CLASS_TARGET = Role(
    "target",
    "target",
    "(N,) or (N, d1, ...)",
    dtype="index",
    domain="class",
    doc="class indices in [0, C)",
)

TRIPLET = (
    Role("anchor", "pred", "(N, D)", doc="anchor embeddings"),
    Role("positive", "pred", "(N, D)", doc="embeddings of the same identity"),
    Role("negative", "pred", "(N, D)", doc="embeddings of another identity"),
)

# Parameters shared by many losses.
TRIPLET_MARGIN = Param(
    "margin", 1.0, "how much closer the positive must be than the negative", minimum=0, strict_minimum=True
)
TRIPLET_SWAP = Param(
    "swap", False, "use the distance positive-negative when it is smaller (distance swap)", kind="bool"
)
WEIGHT_C = Param("weight", None, "rescaling weight per class, a list of C numbers", kind="tensor")
IGNORE_INDEX = Param(
    "ignore_index",
    -100,
    "target value that is ignored and does not contribute to the loss or its mean",
    kind="int",
)


register(
    LossSpec(
        name="l1",
        torch_name="L1Loss",
        family="regression",
        impl="torch.nn:L1Loss",
        aliases=("L1Loss", "mae", "mean_absolute_error", "lad", "lae"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = |x_i - y_i|; mean or sum over all elements",
        use_when="Regression where every error should count in proportion to its size, "
        "and outliers should not dominate: the median is its minimiser.",
        avoid_when="You need a smooth gradient near zero: the gradient is ±1 everywhere, "
        "so it does not shrink as predictions improve.",
        article_section="2.2",
        shape_rule="same",
        decomposition="elements",
        notes="The gradient is sign(x - y) / n, and 0 where x == y.",
    )
)

register(
    LossSpec(
        name="mse",
        torch_name="MSELoss",
        family="regression",
        impl="torch.nn:MSELoss",
        aliases=("MSELoss", "mean_squared_error", "squared_error"),
        roles=(INPUT, TARGET),
        params=(),
        formula="l_i = (x_i - y_i)^2; mean (MSE = 1/n · Σ (y_i - x_i)^2) or sum",
        use_when="Regression on unbounded real-valued labels (the article's rule 2.7): "
        "its minimiser is the conditional mean, and large errors are punished hard.",
        avoid_when="The labels hold outliers you do not want to chase (use smooth_l1 or "
        "huber), or the labels are class identifiers (use cross_entropy).",
        article_section="2.4",
        shape_rule="same",
        decomposition="elements",
        notes="Predictions and labels should share a range: sigmoid outputs want labels in [0, 1].",
    )
)

register(
    LossSpec(
        name="l2",
        torch_name="MSELoss",
        family="regression",
        impl="torch.nn:MSELoss",
        aliases=("sse", "sum_squared_error"),
        roles=(INPUT, TARGET),
        params=(),
        formula="L = Σ_i (x_i - y_i)^2 (the sum of squared errors)",
        use_when="You want the plain sum of squared errors, as in the article's L2 loss "
        "and in least-squares fits; the same minimiser as mse.",
        avoid_when="Batch sizes vary: the sum grows with N, so mse is easier to compare.",
        article_section="2.3",
        shape_rule="same",
        decomposition="elements",
        default_reduction="sum",
        notes="torch has no L2Loss class: this is MSELoss(reduction='sum'); --reduction mean gives mse. The name "
        "l2_loss is not this loss's: it names optax's l2_loss, ½ · (x - y)² per element (half of this).",
    )
)

register(
    LossSpec(
        name="cross_entropy",
        curve="class",
        torch_name="CrossEntropyLoss",
        family="classification",
        impl="torch.nn:CrossEntropyLoss",
        aliases=("CrossEntropyLoss", "ce", "xent", "categorical_cross_entropy", "softmax_cross_entropy"),
        roles=(
            LOGITS,
            Role(
                "target",
                "target",
                "(N,) class indices, or (N, C) class probabilities",
                dtype="index_or_prob",
                domain="class",
                doc="class indices in [0, C), or soft targets shaped like the input",
            ),
        ),
        params=(
            WEIGHT_C,
            IGNORE_INDEX,
            Param(
                "label_smoothing", 0.0, "mix the target with the uniform distribution, in [0, 1]", minimum=0, maximum=1
            ),
        ),
        formula="l_n = -w_{y_n} · log(exp(x_{n,y_n}) / Σ_c exp(x_{n,c})); "
        "soft targets: l_n = -Σ_c w_c · p_{n,c} · log_softmax(x_n)_c",
        use_when="Single-label classification from logits (the article's rule 2.7 for class "
        "labels): log_softmax and NLL in one numerically stable step.",
        avoid_when="The inputs are already probabilities or log-probabilities (use nll on "
        "log_softmax outputs), or a sample can carry several labels (use bce_with_logits).",
        article_section="2.5",
        shape_rule="class",
        decomposition="target_weight",
        label_kind="class",
        notes="The weighted mean divides by the sum of the target classes' weights for index "
        "targets, but by N for probability targets. Target values equal to ignore_index "
        "are skipped; if all are, the mean is NaN.",
    )
)

register(
    LossSpec(
        name="nll",
        curve="class",
        torch_name="NLLLoss",
        family="classification",
        impl="torch.nn:NLLLoss",
        aliases=("NLLLoss", "negative_log_likelihood"),
        roles=(LOG_PROBS, CLASS_TARGET),
        params=(WEIGHT_C, IGNORE_INDEX),
        formula="l_n = -w_{y_n} · x_{n,y_n}; mean = Σ l_n / Σ w_{y_n}",
        use_when="Classification when the model already ends in log_softmax.",
        avoid_when="The inputs are logits or probabilities: nll only picks x[n, y_n], so "
        "probabilities give negative losses; use cross_entropy on logits.",
        article_section="2.6.2",
        shape_rule="class",
        decomposition="target_weight",
        label_kind="class",
        notes="No softmax inside: the input must be log-probabilities.",
    )
)

register(
    LossSpec(
        name="nll2d",
        curve="class4d",
        torch_name="NLLLoss2d",
        family="classification",
        impl="torch.nn:NLLLoss",
        aliases=("NLLLoss2d", "nll_2d", "pixel_nll"),
        roles=(
            Role("input", "pred", "(N, C, H, W)", domain="log_probs", doc="per-pixel log-probabilities"),
            Role("target", "target", "(N, H, W)", dtype="index", domain="class", doc="class index per pixel"),
        ),
        params=(WEIGHT_C, IGNORE_INDEX),
        formula="l_{n,h,w} = -w_{y} · x_{n, y_{n,h,w}, h, w}; mean over the non-ignored pixels",
        use_when="Per-pixel classification (semantic segmentation) with a log_softmax head.",
        avoid_when="Inputs are logits (use cross_entropy, which accepts (N, C, H, W) too).",
        article_section="2.6.3",
        shape_rule="class4d",
        decomposition="target_weight",
        label_kind="class",
        notes="torch.nn.NLLLoss2d is deprecated; this runs NLLLoss on 4-D inputs, which is the same.",
    )
)

register(
    LossSpec(
        name="poisson_nll",
        torch_name="PoissonNLLLoss",
        family="regression",
        impl="torch.nn:PoissonNLLLoss",
        aliases=("PoissonNLLLoss", "poisson"),
        roles=(
            Role("input", "pred", "(N, *)", doc="log of the expected count (or the count with log_input=false)"),
            Role("target", "target", "same shape as input", domain="nonneg", doc="observed counts"),
        ),
        params=(
            Param(
                "log_input",
                True,
                "true: input is log(λ), loss exp(x) - y·x; false: loss x - y·log(x + eps)",
                kind="bool",
            ),
            Param("full", False, "add the Stirling term y·log(y) - y + 0.5·log(2πy) for y > 1", kind="bool"),
            Param("eps", 1e-8, "added inside the log when log_input=false"),
        ),
        formula="l_i = exp(x_i) - y_i · x_i (log_input=true); x_i - y_i · log(x_i + eps) (log_input=false)",
        use_when="Count data (events, clicks) modelled as Poisson with rate exp(x).",
        avoid_when="The counts are over-dispersed (variance far above the mean) or the labels are not counts.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="count",
    )
)

register(
    LossSpec(
        name="gaussian_nll",
        torch_name="GaussianNLLLoss",
        family="regression",
        impl="torch.nn:GaussianNLLLoss",
        aliases=("GaussianNLLLoss", "gaussian", "heteroscedastic"),
        roles=(
            Role("input", "pred", "(N, *)", doc="predicted means"),
            TARGET,
            Role(
                "var",
                "pred",
                "same shape as input, or input's shape with the last dimension 1 or dropped",
                domain="nonneg",
                doc="predicted variances (>= 0; clamped to eps)",
            ),
        ),
        params=(
            Param("full", False, "add the constant 0.5·log(2π)", kind="bool"),
            Param("eps", 1e-6, "variances are clamped to at least eps"),
        ),
        formula="l_i = 0.5 · (log(max(var_i, eps)) + (x_i - y_i)^2 / max(var_i, eps)) [+ 0.5·log(2π)]",
        use_when="Regression where the model predicts its own uncertainty (a variance per output).",
        avoid_when="You have no variance estimate: with a constant variance it is MSE up to scale.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="gaussian",
        decomposition="elements",
        notes="Pass the variances with --input var=PATH; both the means and the variances get gradients.",
    )
)

register(
    LossSpec(
        name="kl_div",
        curve="distribution",
        torch_name="KLDivLoss",
        family="distribution",
        impl="torch.nn:KLDivLoss",
        aliases=("KLDivLoss", "kl", "kld", "kullback_leibler"),
        roles=(
            Role("input", "pred", "(N, *)", domain="log_probs", doc="log-probabilities (log_softmax outputs)"),
            Role(
                "target", "target", "same shape as input", doc="probabilities (log-probabilities with log_target=true)"
            ),
        ),
        params=(Param("log_target", False, "the target is given as log-probabilities", kind="bool"),),
        formula="l_i = y_i · (log(y_i) - x_i) (x = log q); with log_target: exp(y_i) · (y_i - x_i)",
        use_when="Matching a predicted distribution to a target distribution (distillation, "
        "label distributions); use --reduction batchmean for the true KL divergence.",
        avoid_when="The input holds probabilities rather than log-probabilities, or the "
        "targets are hard class labels (use cross_entropy).",
        article_section="2.6.4",
        shape_rule="same",
        decomposition="elements",
        label_kind="distribution",
        reductions=("mean", "batchmean", "sum", "none"),
        notes="reduction='mean' divides by every element (N·C), not by N: only 'batchmean' "
        "gives the KL divergence per sample. Terms with y_i = 0 count as 0.",
    )
)

register(
    LossSpec(
        name="bce",
        torch_name="BCELoss",
        family="classification",
        impl="torch.nn:BCELoss",
        aliases=("BCELoss", "binary_cross_entropy", "log_loss"),
        roles=(
            Role("input", "pred", "(N, *)", domain="prob", doc="probabilities in [0, 1] (sigmoid outputs)"),
            Role("target", "target", "same shape as input", domain="prob", doc="targets in [0, 1]"),
        ),
        params=(Param("weight", None, "rescaling weight per element, broadcast against the input", kind="tensor"),),
        formula="l_i = -w_i · [y_i · log(x_i) + (1 - y_i) · log(1 - x_i)]",
        use_when="Binary or multi-label targets when the model already outputs probabilities.",
        avoid_when="The model outputs logits: use bce_with_logits, which is numerically stabler.",
        article_section="2.6.5",
        shape_rule="same",
        decomposition="elements",
        label_kind="binary",
        notes="Each log is clamped at -100, so a confident wrong prediction costs at most 100.",
    )
)

register(
    LossSpec(
        name="bce_with_logits",
        torch_name="BCEWithLogitsLoss",
        family="classification",
        impl="torch.nn:BCEWithLogitsLoss",
        aliases=("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", "sigmoid_cross_entropy", "bcewl"),
        roles=(
            Role("input", "pred", "(N, *)", domain="logits", doc="logits (before the sigmoid)"),
            Role("target", "target", "same shape as input", domain="prob", doc="targets in [0, 1]"),
        ),
        params=(
            Param("weight", None, "rescaling weight per element, broadcast against the input", kind="tensor"),
            Param(
                "pos_weight",
                None,
                "weight of the positive term per class (negatives/positives balances a class)",
                kind="tensor",
            ),
        ),
        formula="l_i = -w_i · [p_c · y_i · log σ(x_i) + (1 - y_i) · log(1 - σ(x_i))]",
        use_when="Binary and multi-label classification from logits: a sigmoid and BCE in one "
        "numerically stable step; pos_weight handles imbalance.",
        avoid_when="The inputs already went through a sigmoid (that would apply it twice).",
        article_section="2.6.6",
        shape_rule="same",
        decomposition="elements",
        label_kind="binary",
    )
)

register(
    LossSpec(
        name="margin_ranking",
        curve="pair_difference",
        torch_name="MarginRankingLoss",
        family="ranking",
        impl="torch.nn:MarginRankingLoss",
        aliases=("MarginRankingLoss", "ranking", "pairwise_ranking"),
        roles=(
            Role("input1", "pred", "(N,)", doc="scores of the first item of each pair"),
            Role("input2", "pred", "(N,)", doc="scores of the second item of each pair"),
            Role("target", "target", "(N,)", domain="sign", doc="1 if input1 should rank higher, -1 if input2"),
        ),
        params=(Param("margin", 0.0, "the score gap a correctly ordered pair must exceed"),),
        formula="l_i = max(0, -y_i · (x1_i - x2_i) + margin)",
        use_when="Learning to rank from pairs: only the order of the two scores matters.",
        avoid_when="You have graded relevance for whole lists (a listwise loss fits better).",
        article_section="2.6.7",
        shape_rule="same",
        decomposition="elements",
        label_kind="signed",
    )
)

register(
    LossSpec(
        name="hinge_embedding",
        curve="distance",
        torch_name="HingeEmbeddingLoss",
        family="embedding",
        impl="torch.nn:HingeEmbeddingLoss",
        aliases=("HingeEmbeddingLoss",),
        roles=(
            Role("input", "pred", "(N, *)", doc="distances between pairs (e.g. L1 distance)"),
            SIGN_TARGET,
        ),
        params=(Param("margin", 1.0, "distance beyond which dissimilar pairs cost nothing"),),
        formula="l_i = x_i if y_i = 1; max(0, margin - x_i) if y_i = -1",
        use_when="Learning whether two inputs are similar from their distance: similar pairs "
        "pull the distance down, dissimilar ones push it past the margin.",
        avoid_when="The inputs are raw scores rather than distances (use soft_margin).",
        article_section="2.6.8",
        shape_rule="same",
        decomposition="elements",
        label_kind="signed",
    )
)

register(
    LossSpec(
        name="multilabel_margin",
        curve="multilabel_margin",
        torch_name="MultiLabelMarginLoss",
        family="multilabel",
        impl="torch.nn:MultiLabelMarginLoss",
        aliases=("MultiLabelMarginLoss",),
        roles=(
            Role("input", "pred", "(N, C)", doc="class scores"),
            Role(
                "target",
                "target",
                "(N, C)",
                dtype="index",
                domain="multilabel_index",
                doc="each row: the sample's class indices, then -1 padding",
            ),
        ),
        params=(),
        formula="l_n = Σ_{j in targets} Σ_{i not in targets} max(0, 1 - (x_{n,j} - x_{n,i})) / C",
        use_when="Multi-label classification with a hinge: every true class should outscore every other class by 1.",
        avoid_when="Your labels are 0/1 indicator rows (use multilabel_soft_margin or "
        "bce_with_logits, or convert to index rows).",
        article_section="2.6.9",
        shape_rule="same",
        decomposition="rows",
        label_kind="multilabel",
        notes="Targets are read up to the first -1 of each row; later entries are ignored.",
    )
)

register(
    LossSpec(
        name="smooth_l1",
        torch_name="SmoothL1Loss",
        family="regression",
        impl="torch.nn:SmoothL1Loss",
        aliases=("SmoothL1Loss", "smoothl1"),
        roles=(INPUT, TARGET),
        params=(Param("beta", 1.0, "the error size where the loss turns from quadratic to linear", minimum=0),),
        formula="l_i = 0.5 · (x_i - y_i)^2 / beta if |x_i - y_i| < beta, else |x_i - y_i| - 0.5 · beta",
        use_when="Regression with outliers: quadratic near zero, linear beyond beta, so "
        "large errors do not blow up the gradient (Fast R-CNN's box loss).",
        avoid_when="The errors are small and Gaussian (plain mse is then the better estimator).",
        article_section="2.6.1",
        shape_rule="same",
        decomposition="elements",
        notes="huber(delta) = delta · smooth_l1(beta = delta); with beta = 0 it is l1.",
    )
)

register(
    LossSpec(
        name="huber",
        torch_name="HuberLoss",
        family="regression",
        impl="torch.nn:HuberLoss",
        aliases=("HuberLoss",),
        roles=(INPUT, TARGET),
        params=(
            Param(
                "delta",
                1.0,
                "the error size where the loss turns from quadratic to linear",
                minimum=0,
                strict_minimum=True,
            ),
        ),
        formula="l_i = 0.5 · (x_i - y_i)^2 if |x_i - y_i| < delta, else delta · (|x_i - y_i| - 0.5 · delta)",
        use_when="Regression with outliers when you want the gradient bounded by delta.",
        avoid_when="The errors are small and Gaussian (use mse).",
        article_section="2.6.1",
        shape_rule="same",
        decomposition="elements",
        notes="huber(delta) = delta · smooth_l1(beta = delta): the same for delta = 1.",
    )
)

register(
    LossSpec(
        name="soft_margin",
        torch_name="SoftMarginLoss",
        family="classification",
        impl="torch.nn:SoftMarginLoss",
        aliases=("SoftMarginLoss", "logistic"),
        roles=(Role("input", "pred", "(N, *)", domain="logits", doc="scores (logits)"), SIGN_TARGET),
        params=(),
        formula="l_i = log(1 + exp(-y_i · x_i)); mean over all elements",
        use_when="Two-class classification with labels in {-1, 1}: the logistic loss.",
        avoid_when="Labels are 0/1 (use bce_with_logits, which is the same loss for them).",
        article_section="2.6.10",
        shape_rule="same",
        decomposition="elements",
        label_kind="signed",
    )
)

register(
    LossSpec(
        name="multilabel_soft_margin",
        torch_name="MultiLabelSoftMarginLoss",
        family="multilabel",
        impl="torch.nn:MultiLabelSoftMarginLoss",
        aliases=("MultiLabelSoftMarginLoss",),
        roles=(
            Role("input", "pred", "(N, C)", domain="logits", doc="class logits"),
            Role("target", "target", "(N, C)", domain="prob", doc="0/1 indicator per class"),
        ),
        params=(WEIGHT_C,),
        formula="l_n = -1/C · Σ_c w_c · [y_{n,c} · log σ(x_{n,c}) + (1 - y_{n,c}) · log σ(-x_{n,c})]",
        use_when="Multi-label classification from logits and 0/1 rows, one-versus-all.",
        avoid_when="Exactly one class per sample (use cross_entropy).",
        article_section="2.6.11",
        shape_rule="same",
        decomposition="rows",
        label_kind="multilabel",
        notes="Equals bce_with_logits averaged over classes per sample (mean over N afterwards).",
    )
)

register(
    LossSpec(
        name="cosine_embedding",
        curve="cosine",
        torch_name="CosineEmbeddingLoss",
        family="embedding",
        impl="torch.nn:CosineEmbeddingLoss",
        aliases=("CosineEmbeddingLoss",),
        roles=(
            Role("input1", "pred", "(N, D)", doc="first embeddings"),
            Role("input2", "pred", "(N, D)", doc="second embeddings"),
            Role("target", "target", "(N,)", domain="sign", doc="1 for similar pairs, -1 for dissimilar"),
        ),
        params=(
            Param("margin", 0.0, "cosine below which dissimilar pairs cost nothing, in [-1, 1]", minimum=-1, maximum=1),
        ),
        formula="l_i = 1 - cos(x1_i, x2_i) if y_i = 1; max(0, cos(x1_i, x2_i) - margin) if y_i = -1",
        use_when="Learning embeddings where direction, not length, encodes similarity.",
        avoid_when="Vector length carries meaning (use a distance-based loss such as triplet_margin).",
        article_section="2.6.12",
        shape_rule="pair",
        decomposition="rows",
        label_kind="signed",
    )
)

register(
    LossSpec(
        name="multi_margin",
        curve="class",
        torch_name="MultiMarginLoss",
        family="classification",
        impl="torch.nn:MultiMarginLoss",
        aliases=("MultiMarginLoss", "multiclass_svm"),
        roles=(Role("input", "pred", "(N, C)", doc="class scores"), CLASS_TARGET),
        params=(
            Param("p", 1, "1 for the hinge, 2 for the squared hinge", kind="int", choices=("1", "2")),
            Param("margin", 1.0, "how far the true class must outscore the others"),
            WEIGHT_C,
        ),
        formula="l_n = Σ_{i != y_n} max(0, w_{y_n} · (margin - x_{n,y_n} + x_{n,i}))^p / C",
        use_when="Multi-class classification with an SVM-style hinge on the scores.",
        avoid_when="You need calibrated probabilities (use cross_entropy).",
        article_section="2.6.13",
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
    )
)

register(
    LossSpec(
        name="triplet_margin",
        curve="triplet",
        torch_name="TripletMarginLoss",
        family="embedding",
        impl="torch.nn:TripletMarginLoss",
        aliases=("TripletMarginLoss", "triplet"),
        roles=TRIPLET,
        params=(
            TRIPLET_MARGIN,
            Param("p", 2.0, "the norm of the pairwise distance", minimum=0, strict_minimum=True),
            Param("eps", 1e-6, "added to the difference before taking the norm"),
            TRIPLET_SWAP,
        ),
        formula="l_i = max(0, d(a_i, p_i) - d(a_i, n_i) + margin), d(u, v) = ||u - v + eps||_p",
        use_when="Metric learning from triplets: an anchor nearer its positive than its negative.",
        avoid_when="You only have labelled pairs (use cosine_embedding or hinge_embedding).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="rows",
        label_kind="none",
    )
)

register(
    LossSpec(
        name="triplet_margin_with_distance",
        curve="triplet",
        torch_name="TripletMarginWithDistanceLoss",
        family="embedding",
        impl="torch.nn:TripletMarginWithDistanceLoss",
        aliases=("TripletMarginWithDistanceLoss", "triplet_distance"),
        roles=TRIPLET,
        params=(
            Param(
                "distance",
                "pairwise",
                "pairwise: Euclidean distance (PairwiseDistance); cosine: 1 - cosine similarity",
                kind="distance",
                choices=("pairwise", "cosine"),
                torch_name="distance_function",
            ),
            TRIPLET_MARGIN,
            TRIPLET_SWAP,
        ),
        formula="l_i = max(0, d(a_i, p_i) - d(a_i, n_i) + margin) for a chosen distance d",
        use_when="Triplet metric learning with a distance other than the p-norm, e.g. cosine.",
        avoid_when="The Euclidean distance is what you want: triplet_margin is the same and faster.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="rows",
        label_kind="none",
    )
)

register(
    LossSpec(
        name="ctc",
        curve="ctc",
        torch_name="CTCLoss",
        family="sequence",
        impl="losscli.losses.sequence:ctc",
        aliases=("CTCLoss", "connectionist_temporal_classification"),
        roles=(
            Role(
                "log_probs",
                "pred",
                "(T, N, C)",
                domain="log_probs",
                doc="log_softmax outputs per time step; class 0 is blank by default",
            ),
            Role(
                "targets",
                "target",
                "(N, S) padded, or (sum of target_lengths,) concatenated",
                dtype="index",
                domain="ctc_label",
                doc="label sequences (no blanks)",
            ),
            Role(
                "input_lengths",
                "extra",
                "(N,)",
                dtype="length",
                doc="time steps used per sample",
                default="T for every sample",
            ),
            Role(
                "target_lengths",
                "extra",
                "(N,)",
                dtype="length",
                doc="labels per sample",
                default="S for every sample ((N, S) targets only)",
            ),
        ),
        params=(
            Param("blank", 0, "index of the blank label", kind="int"),
            Param(
                "zero_infinity",
                False,
                "replace infinite losses (input too short) and their gradients by 0",
                kind="bool",
            ),
        ),
        formula="l_n = -log Σ_{alignments a of y_n} Π_t p_t(a_t); mean divides each l_n by its target length first",
        use_when="Sequence labelling without alignments: speech or handwriting recognition.",
        avoid_when="Inputs and targets are aligned step by step (use cross_entropy per step).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="ctc",
        decomposition=None,
        batch_dim=1,
        label_kind="sequence",
        notes="An input shorter than its target (plus one step per repeated label) has infinite loss; "
        "zero_infinity=true zeroes it. torch's own CTC backward returns the gradient with respect to the "
        "logits of a log_softmax; losscli reports d(value)/d(log_probs), which differs from it by "
        "exp(log_probs) per used step and gives the same logits gradient through log_softmax.",
    )
)
