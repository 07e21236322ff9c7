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
        "sparsemax_loss is its binary form sparse_plus(±x) on 0/1 labels, registered as binary_sparsemax "
        "(which the name sparsemax_loss names): this loss on two classes with scores (0, x). "
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

register(
    LossSpec(
        name="multiclass_perceptron",
        torch_name=None,
        source="optax optax.losses.multiclass_perceptron_loss",
        family="classification",
        impl=f"{IMPL}:multiclass_perceptron",
        aliases=("multiclass_perceptron_loss", "structured_perceptron", "collins_perceptron"),
        roles=(CLASS_SCORES, CLASS_INDEX),
        params=(),
        formula="l_n = max_c x_{n,c} - x_{n,y_n}; mean over samples",
        use_when="Training a multi-class linear (or structured) classifier with the perceptron rule "
        "(Collins, 2002): only a sample whose true class is not the top score costs anything, and its "
        "gradient moves the top class down and the true class up.",
        avoid_when="You want a margin (use multiclass_hinge, the same with a margin of 1) or probabilities "
        "(use cross_entropy): the perceptron is content once the true class ties for the top score.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="class",
        decomposition="rows",
        label_kind="class",
        curve="class",
        notes="multiclass_hinge without the margin; the multi-class form of perceptron (optax's "
        "perceptron_loss, here `perceptron`, on labels in {-1, 1}). optax takes the classes on the last axis; losscli "
        "takes them on dimension 1, as torch does, so (N, C, d1, ...) scores work too. Where several classes "
        "tie for the maximum, the gradient of the max is shared equally among them, as in JAX. Per sample: "
        "reduction none gives (N,).",
    )
)

register(
    LossSpec(
        name="binary_sparsemax",
        torch_name=None,
        source="optax optax.losses.sparsemax_loss",
        family="classification",
        impl=f"{IMPL}:binary_sparsemax",
        aliases=("sparsemax_loss", "binary_sparsemax_loss", "sparse_sigmoid_loss"),
        roles=(
            Role("input", "pred", "(N, *)", doc="scores (logits), one independent binary prediction per element"),
            Role("target", "target", "same shape as input", domain="binary", doc="labels in {0, 1}"),
        ),
        params=(),
        formula="l_i = sparse_plus(s_i), s_i = -x_i if y_i = 1 else x_i; sparse_plus(s) = 0 for s <= -1, "
        "(s + 1)² / 4 for |s| < 1, s for s >= 1; mean over all elements",
        use_when="Binary classification with a sparse sigmoid (Blondel et al., 2020, Fenchel-Young losses): "
        "like the logistic loss but exactly 0 once a score is on the right side by 1, so confident samples "
        "stop contributing, and the predicted probability sparse_sigmoid(x) reaches exactly 0 or 1.",
        avoid_when="You need smooth, calibrated probabilities (use bce_with_logits), or one class out of "
        "several per sample (use sparsemax, the multi-class form).",
        article_section=NOT_IN_ARTICLE,
        shape_rule="same",
        decomposition="elements",
        label_kind="binary",
        notes="optax's sparsemax_loss (the name sparsemax_loss now names this loss, not the multi-class "
        "sparsemax). It is the multi-class sparsemax loss (`sparsemax`, optax's multiclass_sparsemax_loss) on "
        "two classes with scores (0, x). optax treats any non-zero label as 1; losscli takes labels 0 and 1 "
        "only (exit 3 otherwise: map -1 to 0). Differentiable once everywhere: the gradient (s + 1) / 2 "
        "inside |s| < 1 is 0 below and ±1 beyond. Per element.",
    )
)

register(
    LossSpec(
        name="brier",
        torch_name=None,
        source="scikit-learn sklearn.metrics.brier_score_loss",
        family="classification",
        impl=f"{IMPL}:brier",
        aliases=("brier_score", "brier_score_loss", "brier_loss"),
        roles=(
            Role(
                "input",
                "pred",
                "(N,) probabilities of the positive class, or (N, C) class probabilities",
                domain="prob",
                doc="predicted probabilities in [0, 1] (after a sigmoid or softmax): of class 1 for 1-D input, "
                "one column per class (rows summing to 1) for (N, C)",
            ),
            Role(
                "target",
                "target",
                "(N,)",
                dtype="index",
                domain="class",
                doc="0/1 labels for (N,) probabilities; class indices in [0, C) for (N, C)",
            ),
        ),
        params=(
            Param(
                "scale_by_half",
                None,
                "halve the score (scikit-learn's scale_by_half); unset is scikit-learn's 'auto': halved for "
                "(N,) and (N, 2) probabilities (range [0, 1]), not for 3 or more classes (range [0, 2])",
                kind="bool",
            ),
        ),
        formula="l_n = Σ_c (p_{n,c} - [c = y_n])² over the C columns ((1 - p, p) for 1-D input), halved for "
        "C = 2: (p_n - y_n)² for binary input; not halved for C >= 3 (scikit-learn's 'auto'); mean over samples",
        use_when="Checking (or training for) calibrated probabilities: a strictly proper scoring rule that, "
        "unlike log loss, stays bounded for a confident mistake; the standard companion of a reliability "
        "diagram for a classifier's predict_proba.",
        avoid_when="The model outputs logits (apply a sigmoid or softmax first, or use bce_with_logits / "
        "cross_entropy), or rare classes matter: a confident miss costs at most 1 (2 with C classes), so "
        "the score barely notices a few badly wrong probabilities of a rare class.",
        article_section=NOT_IN_ARTICLE,
        shape_rule="brier",
        decomposition="elements",
        label_kind="class",
        curve="class",
        notes="As scikit-learn >= 1.7: (N,) or (N, 1) probabilities are the positive class's, with 0/1 labels; "
        "(N, C) probabilities take class indices, the columns in class order 0..C-1 (scikit-learn's labels "
        "in sorted order), and C >= 2. scikit-learn sums the squared errors over the classes and, by default "
        "('auto'), halves the sum for binary tasks (N,) / (N, 2) but not for 3 or more classes, so the "
        "multi-class score lies in [0, 2]: -p scale_by_half=true or false chooses. Rows of (N, C) must sum to "
        "1 within 0.01 (scikit-learn only warns): exit 3 otherwise. reduction none gives one value per "
        "sample, mean their average (scikit-learn's value). For its use as a calibration check see "
        "`losscli recommend`, which lists it when the predictions are probabilities.",
    )
)
