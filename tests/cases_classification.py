"""Reference cases for the classification and ranking losses torch.nn lacks (see ``lossref``).

Every case is checked by ``tests/test_losses.py`` under each reduction, for value and
gradient, in float32, and with gradcheck. The references are numpy formulas written
from each source library (``references_classification``), scikit-learn's
``hinge_loss`` where it computes the same loss, and, at the parameter values where a
loss reduces to a torch.nn one, that loss's own reference.
"""

from __future__ import annotations

import numpy as np

try:
    from tests import lossref
    from tests import references as ref
    from tests import references_classification as cls
    from tests.lossref import Case, N, Reference, numpy_ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import lossref
    import references as ref
    import references_classification as cls
    from lossref import Case, N, Reference, numpy_ref

HINGE_SKLEARN = Reference("scikit-learn sklearn.metrics.hinge_loss", cls.hinge_sklearn)
MULTICLASS_HINGE_SKLEARN = Reference("scikit-learn sklearn.metrics.hinge_loss", cls.multiclass_hinge_sklearn)
BRIER_SKLEARN = Reference("scikit-learn sklearn.metrics.brier_score_loss", cls.brier_sklearn)
LIST_LENGTH = 6


# --- drawers ------------------------------------------------------------------------


def _draw_hinge(spec, params, rng, labels="01", **options):
    """Scores and labels in one encoding: ``01``, ``pm1``, or all ``ones`` / all ``zeros``."""
    shape = (N, 3)
    target = {
        "01": lambda: rng.integers(0, 2, shape).astype(np.float64),
        "pm1": lambda: rng.choice([-1.0, 1.0], shape),
        "ones": lambda: np.ones(shape),
        "zeros": lambda: np.zeros(shape),
    }[labels]()
    return {"input": rng.normal(0.0, 1.5, shape), "target": target}


def _draw_sparsemax(spec, params, rng, binary=False, scale=1.0, **options):
    """Class scores with indices; ``binary``: two classes with 0/1 labels; ``scale`` stretches the scores."""
    if binary:
        return {"input": rng.normal(0.0, 1.0, (N, 2)), "target": rng.integers(0, 2, N)}
    arrays = lossref.DRAWERS["class"](spec, params, rng, **options)
    arrays["input"] = arrays["input"] * scale
    return arrays


def _draw_ranking(spec, params, rng, labels="graded", single_list=False, **options):
    """Lists of scores with relevance: ``graded`` 0..3 (one list all 0), or ``binary`` (one relevant item)."""
    scores = rng.normal(0.0, 1.5, (N, LIST_LENGTH))
    if labels == "binary":
        relevance = np.eye(LIST_LENGTH)[rng.integers(0, LIST_LENGTH, N)]
    else:
        relevance = rng.integers(0, 4, (N, LIST_LENGTH)).astype(np.float64)
        relevance[2] = 0.0
    if single_list:
        return {"input": scores[0], "target": relevance[0]}
    return {"input": scores, "target": relevance}


def _draw_sigmoid_focal(spec, params, rng, saturated=False, **options):
    """``saturated``: |logits| in [38, 45], where σ(x) rounds to 0 or 1 in float64, with 0/1 labels."""
    if not saturated:
        return lossref.DRAWERS["same"](spec, params, rng, **options)
    shape = (N, 3)
    logits = rng.choice([-1.0, 1.0], shape) * rng.uniform(38.0, 45.0, shape)
    return {"input": logits, "target": rng.integers(0, 2, shape).astype(np.float64)}


def _draw_softmax_focal(spec, params, rng, saturated=False, **options):
    """``saturated``: one class per sample leads by ~40, so its softmax probability rounds to 1."""
    arrays = lossref.DRAWERS["class"](spec, params, rng, **options)
    if saturated:
        arrays["input"][np.arange(N), rng.integers(0, arrays["input"].shape[1], N)] += 40.0
    return arrays


def _draw_binary_scores(spec, params, rng, flat=False, large=False, **options):
    """Scores and 0/1 labels, (N, 3) or ``flat`` (N,); ``large``: |scores| of 3-8, beyond sparse_plus's bend."""
    shape = (N,) if flat else (N, 3)
    scores = rng.normal(0.0, 1.5, shape)
    if large:
        scores = rng.choice([-1.0, 1.0], shape) * rng.uniform(3.0, 8.0, shape)
    return {"input": scores, "target": rng.integers(0, 2, shape)}


def _draw_brier(spec, params, rng, layout="binary", **options):
    """Probabilities and labels: ``binary`` (N,), ``column`` (N, 1), ``two`` (N, 2) or ``classes`` (N, C)."""
    if layout in ("binary", "column"):
        p = rng.uniform(0.02, 0.98, N)
        return {"input": p[:, None] if layout == "column" else p, "target": rng.integers(0, 2, N)}
    n_classes = 2 if layout == "two" else lossref.C
    probs = cls.softmax(rng.normal(0.0, 1.5, (N, n_classes)))
    return {"input": probs, "target": rng.integers(0, n_classes, N)}


lossref.NAME_DRAWERS.update(
    binary_sparsemax=_draw_binary_scores,
    brier=_draw_brier,
    sigmoid_focal=_draw_sigmoid_focal,
    softmax_focal=_draw_softmax_focal,
    hinge=_draw_hinge,
    squared_hinge=_draw_hinge,
    sparsemax=_draw_sparsemax,
    ranking_softmax=_draw_ranking,
)
lossref.NAME_KINKS.update(
    hinge=cls.hinge_kinks,
    squared_hinge=cls.hinge_kinks,
    categorical_hinge=cls.categorical_hinge_kinks,
    multiclass_hinge=cls.multiclass_hinge_kinks,
    perceptron=cls.perceptron_kinks,
    sparsemax=cls.sparsemax_kinks,
    multiclass_perceptron=cls.multiclass_perceptron_kinks,
)


# --- cases --------------------------------------------------------------------------

HINGE = numpy_ref(cls.hinge_np)
SQUARED_HINGE = numpy_ref(cls.squared_hinge_np)
CATEGORICAL_HINGE = numpy_ref(cls.categorical_hinge_np)
MULTICLASS_HINGE = numpy_ref(cls.multiclass_hinge_np)
SIGMOID_FOCAL = numpy_ref(cls.sigmoid_focal_np)
SOFTMAX_FOCAL = numpy_ref(cls.softmax_focal_np)
GCE = numpy_ref(cls.generalized_cross_entropy_np)
POLY1 = numpy_ref(cls.poly1_cross_entropy_np)
SPARSEMAX = numpy_ref(cls.sparsemax_np)
RANKING_SOFTMAX = numpy_ref(cls.ranking_softmax_np)

CASES = [
    Case("hinge", "labels_01", HINGE, {}, {"labels": "01"}),
    Case("hinge", "labels_pm1", HINGE, {}, {"labels": "pm1"}),
    Case("hinge", "all_ones", HINGE, {}, {"labels": "ones"}),
    Case("hinge", "all_zeros", HINGE, {}, {"labels": "zeros"}),
    Case("hinge", "sklearn_01", HINGE_SKLEARN, {}, {"labels": "01"}),
    Case("hinge", "sklearn_pm1", HINGE_SKLEARN, {}, {"labels": "pm1"}),
    Case("squared_hinge", "labels_01", SQUARED_HINGE, {}, {"labels": "01"}),
    Case("squared_hinge", "labels_pm1", SQUARED_HINGE, {}, {"labels": "pm1"}),
    Case("squared_hinge", "all_zeros", SQUARED_HINGE, {}, {"labels": "zeros"}),
    Case("categorical_hinge", "indices", CATEGORICAL_HINGE),
    Case("categorical_hinge", "onehot", CATEGORICAL_HINGE, {}, {"onehot": True}),
    Case("categorical_hinge", "kdim", CATEGORICAL_HINGE, {}, {"kdim": True}),
    Case("multiclass_hinge", "plain", MULTICLASS_HINGE),
    Case("multiclass_hinge", "kdim", MULTICLASS_HINGE, {}, {"kdim": True}),
    Case("multiclass_hinge", "sklearn", MULTICLASS_HINGE_SKLEARN),
    Case("perceptron", "plain", numpy_ref(cls.perceptron_np)),
    Case("sigmoid_focal", "soft_targets", SIGMOID_FOCAL),
    Case("sigmoid_focal", "hard_targets", SIGMOID_FOCAL, {}, {"hard": True}),
    Case("sigmoid_focal", "alpha_gamma", SIGMOID_FOCAL, {"alpha": 0.6, "gamma": 1.5}, {"hard": True}),
    Case("sigmoid_focal", "gamma_below_1", SIGMOID_FOCAL, {"gamma": 0.5}),
    Case("sigmoid_focal", "alpha_disabled", SIGMOID_FOCAL, {"alpha": -1.0}, {"hard": True}),
    Case("sigmoid_focal", "saturated_gamma_below_1", SIGMOID_FOCAL, {"gamma": 0.5}, {"saturated": True}),
    Case(
        "sigmoid_focal",
        "gamma0_is_bce_with_logits",
        numpy_ref(ref.bce_with_logits_np),
        {"alpha": -1.0, "gamma": 0.0},
    ),
    Case("softmax_focal", "indices", SOFTMAX_FOCAL),
    Case("softmax_focal", "onehot", SOFTMAX_FOCAL, {}, {"onehot": True}),
    Case("softmax_focal", "soft", SOFTMAX_FOCAL, {"alpha": 1.0, "gamma": 3.0}, {"soft": True}),
    Case("softmax_focal", "label_smoothing", SOFTMAX_FOCAL, {"label_smoothing": 0.2, "gamma": 0.5}),
    Case("softmax_focal", "kdim", SOFTMAX_FOCAL, {"alpha": 0.5}, {"kdim": True}),
    Case(
        "softmax_focal",
        "saturated_gamma_below_1",
        numpy_ref(cls.softmax_focal_unclipped_np),
        {"gamma": 0.5},
        {"saturated": True},
    ),
    Case(
        "softmax_focal",
        "gamma0_alpha1_is_cross_entropy",
        numpy_ref(ref.cross_entropy_np),
        {"alpha": 1.0, "gamma": 0.0},
    ),
    Case("generalized_cross_entropy", "default_q", GCE),
    Case("generalized_cross_entropy", "q1_is_mae", GCE, {"q": 1.0}),
    Case("generalized_cross_entropy", "small_q", GCE, {"q": 1e-3}),
    Case("generalized_cross_entropy", "kdim", GCE, {"q": 0.4}, {"kdim": True}),
    Case("poly1_cross_entropy", "indices", POLY1),
    Case("poly1_cross_entropy", "soft", POLY1, {"epsilon": 1.0}, {"soft": True}),
    Case("poly1_cross_entropy", "onehot_eps_minus1", POLY1, {"epsilon": -1.0}, {"onehot": True}),
    Case("poly1_cross_entropy", "kdim", POLY1, {"epsilon": 0.5}, {"kdim": True}),
    Case(
        "poly1_cross_entropy",
        "eps0_is_cross_entropy",
        numpy_ref(ref.cross_entropy_np),
        {"epsilon": 0.0},
    ),
    Case("sparsemax", "plain", SPARSEMAX),
    Case("sparsemax", "kdim", SPARSEMAX, {}, {"kdim": True}),
    Case("sparsemax", "large_scores", SPARSEMAX, {}, {"scale": 40.0}),
    Case("sparsemax", "two_classes_is_binary_sparsemax", numpy_ref(cls.binary_sparsemax_np), {}, {"binary": True}),
    Case("ranking_softmax", "graded", RANKING_SOFTMAX),
    Case("ranking_softmax", "one_relevant", RANKING_SOFTMAX, {}, {"labels": "binary"}),
    Case("ranking_softmax", "single_list", RANKING_SOFTMAX, {}, {"single_list": True}),
    Case("multiclass_perceptron", "plain", numpy_ref(cls.multiclass_perceptron_np)),
    Case("multiclass_perceptron", "kdim", numpy_ref(cls.multiclass_perceptron_np), {}, {"kdim": True}),
    Case("binary_sparsemax", "optax", numpy_ref(cls.binary_sparsemax_optax_np)),
    Case("binary_sparsemax", "flat", numpy_ref(cls.binary_sparsemax_optax_np), {}, {"flat": True}),
    Case("binary_sparsemax", "beyond_the_bend", numpy_ref(cls.binary_sparsemax_optax_np), {}, {"large": True}),
    Case("binary_sparsemax", "is_sparsemax_of_0_x", numpy_ref(cls.binary_sparsemax_as_multiclass_np)),
    Case("brier", "binary_sklearn", BRIER_SKLEARN),
    Case("brier", "binary_np", numpy_ref(cls.brier_np)),
    Case("brier", "column_sklearn", BRIER_SKLEARN, {}, {"layout": "column"}),
    Case("brier", "binary_unhalved_sklearn", BRIER_SKLEARN, {"scale_by_half": False}),
    Case("brier", "two_columns_sklearn", BRIER_SKLEARN, {}, {"layout": "two"}),
    Case("brier", "classes_sklearn", BRIER_SKLEARN, {}, {"layout": "classes"}),
    Case("brier", "classes_np", numpy_ref(cls.brier_np), {}, {"layout": "classes"}),
    Case("brier", "classes_halved_sklearn", BRIER_SKLEARN, {"scale_by_half": True}, {"layout": "classes"}),
]
