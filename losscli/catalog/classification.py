"""Specs of the classification and ranking losses torch.nn lacks (see ``losscli.losses.classification``)."""

from __future__ import annotations

from losscli.registry import LossSpec, Param, Role, register

NOT_IN_ARTICLE = "not in the article"
IMPL = "losscli.losses.classification"

SCORES = Role("input", "pred", "(N, *)", doc="decision scores (unbounded, e.g. a linear model's output)")
CLASS_SCORES = Role("input", "pred", "(N, C) or (N, C, d1, ...)", doc="unnormalised class scores")
CLASS_LOGITS = Role(
    "input", "pred", "(N, C) or (N, C, d1, ...)", domain="logits", doc="unnormalised class scores (logits)"
)
CLASS_INDEX = Role(
    "target", "target", "(N,) or (N, d1, ...)", dtype="index", domain="class", doc="class indices in [0, C)"
)
CLASS_INDEX_OR_PROB = Role(
    "target",
    "target",
    "(N,) class indices, or (N, C) class probabilities",
    dtype="index_or_prob",
    domain="class",
    doc="class indices in [0, C), or one-hot / probability rows shaped like the input",
)
HINGE_TARGET = Role(
    "target",
    "target",
    "same shape as input",
    domain="binary_or_sign",
    doc="labels all in {0, 1} (mapped to -1/1) or all in {-1, 1}",
)
GAMMA = Param("gamma", 2.0, "focusing exponent of the modulating factor; 0 turns the focal term off", minimum=0)


register(
    LossSpec(
        name="hinge",
        torch_name=None,
        source="Keras keras.losses.Hinge",
        family="classification",
        impl=f"{IMPL}:hinge",
        aliases=("Hinge", "binary_hinge", "svm_hinge"),
        roles=(SCORES, HINGE_TARGET),
        params=(),
        formula="l_i = max(0, 1 - y_i · x_i), y_i in {-1, 1} (0/1 labels become 2y - 1); mean over all elements",
        use_when="Binary (or one-vs-all multi-label) classification with a linear SVM's margin: "
        "scores beyond the margin cost nothing, so training stops pushing confident correct samples.",
        avoid_when="You need calibrated probabilities (use bce_with_logits), or the model outputs "
        "probabilities (a sigmoid output never clears the margin of 1).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="binary",
        notes="As Keras: if every label is 0 or 1 they are mapped to -1/1, otherwise they must all be "
        "-1 or 1; a mix of 0 and -1 is an error. Keras' per-sample value is the mean over the last axis, "
        "so its default mean equals this mean over all elements; reduction none is per element. "
        "The gradient is -y_i where 1 - y_i · x_i > 0, and 0 beyond the margin.",
    )
)

register(
    LossSpec(
        name="squared_hinge",
        torch_name=None,
        source="Keras keras.losses.SquaredHinge",
        family="classification",
        impl=f"{IMPL}:squared_hinge",
        aliases=("SquaredHinge", "l2_svm", "hinge_squared"),
        roles=(SCORES, HINGE_TARGET),
        params=(),
        formula="l_i = max(0, 1 - y_i · x_i)^2, y_i in {-1, 1} (0/1 labels become 2y - 1); mean over all elements",
        use_when="Binary classification with an L2-SVM margin: smooth at the margin (its gradient "
        "shrinks to 0 there), and harder on large violations than hinge.",
        avoid_when="The labels are noisy or hold outliers: the squared violation lets a few badly "
        "wrong samples dominate (use hinge); or you need probabilities (use bce_with_logits).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="binary",
        notes="Labels as hinge: all 0/1 (mapped to -1/1) or all -1/1. Mean over all elements, which "
        "equals Keras' default; reduction none is per element. Differentiable everywhere: "
        "-2·y_i·max(0, 1 - y_i · x_i).",
    )
)

register(
    LossSpec(
        name="categorical_hinge",
        torch_name=None,
        source="Keras keras.losses.CategoricalHinge",
        family="classification",
        impl=f"{IMPL}:categorical_hinge",
        aliases=("CategoricalHinge", "cat_hinge"),
        roles=(
            CLASS_SCORES,
            Role(
                "target",
                "target",
                "(N,) class indices, or (N, C) one-hot rows",
                dtype="index_or_prob",
                domain="class",
                doc="class indices in [0, C), or one-hot rows shaped like the input",
            ),
        ),
        params=(),
        formula="l_n = max(0, neg_n - pos_n + 1), pos_n = Σ_c y_{n,c} · x_{n,c}, "
        "neg_n = max_c (1 - y_{n,c}) · x_{n,c}; mean over samples",
        use_when="Multi-class classification with an SVM-style margin on one-hot targets, "
        "matching a Keras model trained with CategoricalHinge.",
        avoid_when="You want the textbook Crammer–Singer hinge (use multiclass_hinge: Keras' neg "
        "never drops below 0), or calibrated probabilities (use cross_entropy).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="Keras' exact form: neg takes the max over every class with the true class's score "
        "multiplied by 0, so neg >= 0 and, when all wrong classes score below 0, the loss is "
        "max(0, 1 - x_y). Class indices are one-hot encoded first; rows shaped like the input are "
        "used as given. Per sample: reduction none gives (N,), mean averages over samples.",
    )
)

register(
    LossSpec(
        name="multiclass_hinge",
        torch_name=None,
        source="optax optax.losses.multiclass_hinge_loss",
        family="classification",
        impl=f"{IMPL}:multiclass_hinge",
        aliases=("multiclass_hinge_loss", "crammer_singer", "crammer_singer_hinge"),
        roles=(CLASS_SCORES, CLASS_INDEX),
        params=(),
        formula="l_n = max_c (x_{n,c} + 1 - [c = y_n]) - x_{n,y_n} = max(0, 1 + max_{c != y_n} x_{n,c} - x_{n,y_n})",
        use_when="Multi-class classification with the Crammer–Singer margin: only the strongest "
        "wrong class has to trail the true class by 1.",
        avoid_when="Every wrong class should pay for its own violation (use multi_margin, the "
        "Weston–Watkins sum), or you need probabilities (use cross_entropy).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="scikit-learn's multiclass hinge_loss is the mean of this. Per sample: reduction none "
        "gives (N,). The gradient is +1 on the strongest violating class and -1 on the true class "
        "while the margin is violated, 0 otherwise.",
    )
)

register(
    LossSpec(
        name="perceptron",
        torch_name=None,
        source="optax optax.losses.perceptron_loss",
        family="classification",
        impl=f"{IMPL}:perceptron",
        aliases=("perceptron_criterion", "binary_perceptron"),
        roles=(
            SCORES,
            Role("target", "target", "same shape as input", domain="sign", doc="labels in {-1, 1}"),
        ),
        params=(),
        formula="l_i = max(0, -y_i · x_i); mean over all elements",
        use_when="Training a linear classifier with the perceptron rule: only misclassified "
        "samples (y · x < 0) move the weights.",
        avoid_when="You want a margin (use hinge: the perceptron is content with y · x = 0+) or "
        "probabilities (use soft_margin or bce_with_logits).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="signed",
        notes="optax requires labels in {-1, 1}; 0/1 labels are refused (map 0 to -1). The loss and "
        "its gradient (-y_i on misclassified elements) are 0 for every correctly signed score, "
        "so all-zero scores are a (useless) minimum too. Per element.",
    )
)

register(
    LossSpec(
        name="sigmoid_focal",
        torch_name=None,
        source="torchvision torchvision.ops.sigmoid_focal_loss",
        family="classification",
        impl=f"{IMPL}:sigmoid_focal",
        aliases=("sigmoid_focal_loss", "focal", "binary_focal", "retinanet_focal"),
        roles=(
            Role("input", "pred", "(N, *)", domain="logits", doc="logits (before the sigmoid), one per label"),
            Role("target", "target", "same shape as input", domain="prob", doc="targets in [0, 1] (0/1 labels)"),
        ),
        params=(
            Param(
                "alpha",
                0.25,
                "weight of the positive term (1 - alpha weighs the negatives), at most 1; "
                "a negative value (torchvision uses -1) disables the weighting",
                maximum=1,
            ),
            GAMMA,
        ),
        formula="l_i = α_t · (1 - p_t)^γ · BCE(x_i, y_i), p = σ(x), p_t = p·y + (1 - p)·(1 - y), "
        "α_t = α·y + (1 - α)·(1 - y); mean over all elements",
        use_when="Binary or multi-label classification with severe imbalance and many easy "
        "negatives (dense detection, rare events): (1 - p_t)^γ shrinks the loss of well-classified "
        "elements so the rare hard ones drive training.",
        avoid_when="The classes are balanced and you need calibrated probabilities (the focal term "
        "pulls them towards 0.5; use bce_with_logits), or exactly one class per sample applies "
        "(use softmax_focal).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="binary",
        notes="torchvision's default reduction is none; losscli's is mean over all elements (RetinaNet "
        "instead sums and divides by the number of positive anchors: use --reduction sum and divide). "
        "The default α = 0.25 weighs positives less than negatives, as in the paper. With γ = 0 and "
        "α < 0 it is bce_with_logits. BCE uses the stable log-sigmoid form, and 1 - p_t is computed as "
        "y·σ(-x) + (1 - y)·σ(x): torchvision's 1 - p_t rounds to 0 once |x| > ~17 in float32, which "
        "makes its gradient NaN for γ < 1; here it stays finite. Keras' BinaryFocalCrossentropy("
        "apply_class_balancing=True, from_logits=True) is the same formula, with its probabilities "
        "clipped to [1e-7, 1 - 1e-7].",
    )
)

register(
    LossSpec(
        name="softmax_focal",
        torch_name=None,
        source="Keras keras.losses.CategoricalFocalCrossentropy",
        family="classification",
        impl=f"{IMPL}:softmax_focal",
        aliases=(
            "CategoricalFocalCrossentropy",
            "categorical_focal_crossentropy",
            "categorical_focal",
            "multiclass_focal",
        ),
        roles=(CLASS_LOGITS, CLASS_INDEX_OR_PROB),
        params=(
            Param("alpha", 0.25, "one weight for every class (Keras also takes a list per class)", minimum=0),
            GAMMA,
            Param(
                "label_smoothing",
                0.0,
                "mix the target with the uniform distribution: y·(1 - ε) + ε/C, in [0, 1]",
                minimum=0,
                maximum=1,
            ),
        ),
        formula="l_n = -Σ_c α · (1 - p_{n,c})^γ · y_{n,c} · log p_{n,c}, p = softmax(x); mean over samples",
        use_when="Single-label multi-class classification with imbalanced classes or many easy "
        "samples: cross entropy with the confident samples down-weighted by (1 - p)^γ.",
        avoid_when="You need calibrated probabilities (use cross_entropy, which it equals times α "
        "for γ = 0), or a sample can carry several labels (use sigmoid_focal).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="Keras' CategoricalFocalCrossentropy with from_logits=True (its default takes "
        "probabilities). Class indices are one-hot encoded first; probability rows are used as given. "
        "log p comes from log_softmax, so it stays exact where Keras clips p to [1e-7, 1 - 1e-7] "
        "(Keras caps each -log p at 16.1 and zeroes its gradient there; losscli does not). 1 - p is "
        "-expm1(log p), kept above the smallest float so (1 - p)^γ has a finite gradient for γ < 1 "
        "where p rounds to 1. Per sample: reduction none gives (N,).",
    )
)

register(
    LossSpec(
        name="generalized_cross_entropy",
        torch_name=None,
        source="losscli (Zhang & Sabuncu, 2018, Generalized Cross Entropy Loss for Training Deep Neural "
        "Networks with Noisy Labels)",
        family="classification",
        impl=f"{IMPL}:generalized_cross_entropy",
        aliases=("gce", "lq_loss", "generalized_ce"),
        roles=(CLASS_LOGITS, CLASS_INDEX),
        params=(
            Param(
                "q",
                0.7,
                "in (0, 1]: towards 0 it becomes cross entropy, at 1 the MAE 1 - p_y",
                minimum=0,
                maximum=1,
                strict_minimum=True,
            ),
        ),
        formula="l_n = (1 - p_{n,y_n}^q) / q, p = softmax(x); mean over samples",
        use_when="Classification with noisy labels: between cross entropy (fast to train) and the "
        "noise-robust MAE, mislabelled samples pull less than under cross entropy.",
        avoid_when="The labels are clean (cross_entropy trains faster), or there are many classes "
        "and large q (like MAE it can underfit: the gradient vanishes for samples with small p_y).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="Written as -expm1(q · log_softmax(x)_y) / q, exact for small q where it tends to "
        "cross entropy. The paper's truncated variant (L_q with a threshold k) is not included. "
        "Per sample: reduction none gives (N,).",
    )
)

register(
    LossSpec(
        name="poly1_cross_entropy",
        torch_name=None,
        source="optax optax.losses.poly_loss_cross_entropy",
        family="classification",
        impl=f"{IMPL}:poly1_cross_entropy",
        aliases=("poly_loss_cross_entropy", "poly1", "poly_loss", "polyloss"),
        roles=(CLASS_LOGITS, CLASS_INDEX_OR_PROB),
        params=(
            Param(
                "epsilon",
                2.0,
                "coefficient added to the first polynomial term (1 - p_t); the paper suggests 2 for "
                "ImageNet and -1 for detection, and -1 is the least that keeps the loss decreasing in p_t",
                minimum=-1,
            ),
        ),
        formula="l_n = -Σ_c y_{n,c} · log p_{n,c} + ε · Σ_c y_{n,c} · (1 - p_{n,c}), p = softmax(x); "
        "index targets: -log p_y + ε · (1 - p_y); mean over samples",
        use_when="Classification where tuning one coefficient on top of cross entropy helps "
        "(PolyLoss, Leng et al. 2022): ε > 0 pushes harder on samples that are not yet confident.",
        avoid_when="You have no validation budget to tune ε (cross_entropy is ε = 0), or the "
        "labels are noisy (generalized_cross_entropy or sigmoid_focal fit better).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="Defaults and argument name follow optax (epsilon = 2.0). Class indices are one-hot "
        "encoded first; probability rows are used as given (optax takes probability rows only). "
        "1 - p is computed as -expm1(log_softmax), accurate for p near 1. Per sample: reduction none gives (N,).",
    )
)

register(
    LossSpec(
        name="sparsemax",
        torch_name=None,
        source="optax optax.losses.multiclass_sparsemax_loss",
        family="classification",
        impl=f"{IMPL}:sparsemax",
        aliases=("multiclass_sparsemax", "multiclass_sparsemax_loss", "sparsemax_multiclass"),
        roles=(CLASS_SCORES, CLASS_INDEX),
        params=(),
        formula="l_n = -z_y + ½ · Σ_{j in S(z)} (z_j^2 - τ(z)^2) + ½, sparsemax(z) = max(z - τ, 0) the "
        "projection of z onto the simplex, S(z) its support; mean over samples",
        use_when="Classification with a sparsemax output layer (Martins & Astudillo 2016): "
        "probabilities that are exactly 0 for hopeless classes; the loss is 0 once the true class "
        "leads every other by at least 1.",
        avoid_when="You need a full, smooth softmax distribution (use cross_entropy), or several labels per sample.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="The gradient is sparsemax(z) - onehot(y). The scores are shifted by their row maximum "
        "first (the loss is invariant to it) so the squares do not cancel for large scores. optax's "
        "sparsemax_loss (so also the name sparsemax_loss here) is its binary form "
        "sparse_plus(±x) on 0/1 labels: this loss on two classes with scores (0, x). "
        "Per sample: reduction none gives (N,).",
    )
)

register(
    LossSpec(
        name="ranking_softmax",
        curve="ranking",
        torch_name=None,
        source="optax optax.losses.ranking_softmax_loss",
        family="ranking",
        impl=f"{IMPL}:ranking_softmax",
        aliases=("ranking_softmax_loss", "softmax_ranking", "listwise_softmax"),
        roles=(
            Role("input", "pred", "(N, L), one list of L items per row", doc="item scores"),
            Role(
                "target",
                "target",
                "same shape as input",
                domain="nonneg",
                doc="relevance label per item (>= 0, e.g. graded 0..4 or clicks)",
            ),
        ),
        params=(),
        formula="l_n = -Σ_i y_{n,i} · log_softmax(s_n)_i; mean over lists",
        use_when="Learning to rank whole lists with graded relevance (listwise): the softmax over "
        "each list's scores is pushed towards its relevant items.",
        avoid_when="You only have preference pairs (use margin_ranking), or the lists have different "
        "lengths (pad them and mask: losscli has no where/weights inputs, unlike optax).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="rows",
        label_kind="relevance",
        notes="As optax, the labels are not normalised: a list's loss scales with the sum of its "
        "labels (TF-Ranking and rax divide by it). A list whose labels are all 0 costs 0 and still "
        "counts in the mean. optax's where/weights arguments are not supported. Per list: reduction "
        "none gives (N,).",
    )
)
