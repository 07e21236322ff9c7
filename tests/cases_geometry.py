"""Reference cases for the segmentation, embedding and box losses torch.nn lacks (see ``lossref``).

Each loss is checked against a numpy formula written from its source's
definition (``references_geometry``), on several data variants: hard and soft
masks, multi-class masks per class, Keras' and optax's documented examples,
zero vectors, uneven groups of labels, overlapping, disjoint and nested boxes.
Dice and Tversky also meet scikit-learn's ``f1_score`` and ``jaccard_score``
on hard masks, and Tversky with α = β = 0.5 meets the Dice reference.
"""

from __future__ import annotations

import numpy as np

try:
    from tests import references_geometry as ref
    from tests.lossref import NAME_DRAWERS, NAME_KINKS, Case, D, N, Reference, numpy_ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references_geometry as ref
    from lossref import NAME_DRAWERS, NAME_KINKS, Case, D, N, Reference, numpy_ref

CLASSES = 3


def closed_form(fn, grad_fn) -> Reference:
    return Reference(f"numpy {fn.__name__}, closed-form gradient", fn, grad_fn=grad_fn)


DICE = closed_form(ref.dice_np, ref.dice_grad_np)
TVERSKY = closed_form(ref.tversky_np, ref.tversky_grad_np)
DICE_SKLEARN = Reference(
    "scikit-learn 1 - f1_score per sample, closed-form gradient", ref.dice_sklearn, grad_fn=ref.dice_grad_np
)
JACCARD_SKLEARN = Reference(
    "scikit-learn 1 - jaccard_score per sample, closed-form gradient", ref.jaccard_sklearn, grad_fn=ref.tversky_grad_np
)
TVERSKY_AS_DICE = Reference("numpy dice_np (Tversky with α = β = 0.5 is Dice)", ref.dice_np, grad_fn=ref.dice_grad_np)
CIOU_ALPHA = "ciou's aspect term α is computed without gradient, as torchvision does: autograd is not d(value)"
CIOU = Reference("numpy ciou_np, complex-step gradient with α frozen", ref.ciou_np, grad_fn=ref.ciou_grad_np)


# --- inputs -------------------------------------------------------------------------


def _draw_masks(spec, params, rng, layout="flat", target="hard", pred="soft", samples=N, **options):
    """Predicted probabilities and masks: (N, 8) rows, (N, 2, 3) images, or (N, C, 2, 3) one-hot classes."""
    if layout == "keras_example":  # keras.losses.Dice's docstring, axis=(1, 2, 3): losses [0.5, 0.75757575]
        y = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
        x = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
        return {"input": x, "target": y}
    if layout == "classes":
        shape = (samples, CLASSES, 2, 3)
        y = np.moveaxis(np.eye(CLASSES)[rng.integers(0, CLASSES, (samples, 2, 3))], -1, 1)
    else:
        shape = (N, 8) if layout == "flat" else (N, 2, 3)
        y = (rng.uniform(size=shape) < 0.4).astype(np.float64)
        y.reshape(N, -1)[:, 0] = 1.0  # every sample has foreground: sklearn's F1 of an empty mask is a convention
    if target == "soft":
        y = rng.uniform(0.0, 1.0, shape)
    elif target == "empty":  # one sample without foreground, predicted nearly empty: only smooth rescues it
        y[1] = 0.0
    x = rng.uniform(0.05, 0.95, shape)
    if pred == "hard":
        x = (rng.uniform(size=shape) < 0.5).astype(np.float64)
    elif target == "empty":
        x[1] = rng.uniform(0.0, 0.01, x[1].shape)
    return {"input": x, "target": y}


def _draw_vectors(spec, params, rng, layout="flat", zero_target_row=False, **options):
    if layout == "keras_example":  # keras.losses.cosine_similarity's docstring: [-0., -0.999, 0.999]
        return {
            "input": np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]),
            "target": np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
        }
    shape = (N, D) if layout == "flat" else (N, 2, D)
    x, y = rng.normal(0.0, 1.5, shape), rng.normal(0.0, 1.5, shape)
    if zero_target_row:  # the target is not differentiated: a zero vector there keeps the gradient defined
        y[2] = 0.0
    return {"input": x, "target": y}


def _draw_embeddings(spec, params, rng, groups="pairs", **options):
    """Six embeddings in 4-D with labels: three pairs, uneven groups (one anchor alone), or optax's example."""
    if groups == "optax_example":  # optax.ntxent's docstring: 1-D embeddings, loss log 3 = 1.0986123
        return {
            "embeddings": np.array([[0.08969027], [1.6291292], [0.8622629], [0.13612625]]),
            "labels": np.array([0, 0, 1, 1]),
        }
    labels = {"pairs": [0, 1, 2, 0, 1, 2], "uneven": [3, 3, 3, 7, 7, -1]}[groups]
    return {"embeddings": rng.normal(0.0, 1.0, (len(labels), 4)), "labels": np.array(labels)}


def _draw_boxes(spec, params, rng, layout="overlap", **options):
    """Predicted boxes and true ones near them (overlapping), far away (disjoint) or around them (nested)."""
    corner, size = rng.uniform(0.0, 6.0, (N, 2)), rng.uniform(1.0, 4.0, (N, 2))
    pred = np.hstack([corner, corner + size])
    if layout == "overlap":
        g_corner = corner + rng.normal(0.0, 0.8, (N, 2))
        g_size = size * rng.uniform(0.6, 1.5, (N, 2))
    elif layout == "disjoint":  # a gap of 0.5 to 3 to the right or the left of the predicted box
        g_size = rng.uniform(1.0, 4.0, (N, 2))
        gap, right = rng.uniform(0.5, 3.0, N), rng.uniform(size=N) < 0.5
        g_x1 = np.where(right, pred[:, 2] + gap, pred[:, 0] - gap - g_size[:, 0])
        g_corner = np.column_stack([g_x1, corner[:, 1] + rng.normal(0.0, 2.0, N)])
    else:  # nested: the true box holds the predicted one
        g_corner = corner - rng.uniform(0.3, 1.5, (N, 2))
        g_size = size + (corner - g_corner) + rng.uniform(0.3, 1.5, (N, 2))
    return {"input": pred, "target": np.hstack([g_corner, g_corner + g_size])}


for _name in ("dice", "tversky"):
    NAME_DRAWERS[_name] = _draw_masks
for _name in ("cosine_similarity", "cosine_distance"):
    NAME_DRAWERS[_name] = _draw_vectors
for _name in ("ntxent", "circle"):
    NAME_DRAWERS[_name] = _draw_embeddings
for _name in ("giou", "diou", "ciou"):
    NAME_DRAWERS[_name] = _draw_boxes


# --- kinks --------------------------------------------------------------------------


def _cosine_distance_kinks(a, p):
    """The squared norms of the predictions against the floor ε (the target is not differentiated)."""
    return float(np.abs((a["input"] ** 2).sum(axis=-1) - p.get("epsilon", 0.0)).min())


def _circle_kinks(a, p):
    """Where a weight [·]_+ or the distance floor switches: s = -m for negatives, s = 1 + m for positives, s = 1."""
    e, labels, m = a["embeddings"], a["labels"], p.get("margin", 0.4)
    u = e / np.linalg.norm(e, axis=1, keepdims=True)
    s = u @ u.T
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    gaps = [np.abs(s + m)[~same], np.abs(1 + m - s)[same & off], np.abs(1 - s)[off]]
    return float(min(g.min(initial=np.inf) for g in gaps))


def _box_kinks(a, p):
    """Ties between corners (min/max switch) and overlaps of zero width or height (the intersection's clamp)."""
    b, g = a["input"], a["target"]
    ties = np.abs(b - g).min()
    w = np.minimum(b[:, 2], g[:, 2]) - np.maximum(b[:, 0], g[:, 0])
    h = np.minimum(b[:, 3], g[:, 3]) - np.maximum(b[:, 1], g[:, 1])
    return float(min(ties, np.abs(w).min(), np.abs(h).min()))


NAME_KINKS["cosine_distance"] = _cosine_distance_kinks
NAME_KINKS["circle"] = _circle_kinks
for _name in ("giou", "diou", "ciou"):
    NAME_KINKS[_name] = _box_kinks


# --- cases --------------------------------------------------------------------------

CASES = [
    Case("dice", "flat_hard_target", DICE),
    Case("dice", "image_soft_target", DICE, {}, {"layout": "image", "target": "soft"}),
    Case("dice", "keras_example", DICE, {}, {"layout": "keras_example"}),
    # One image first: test_every_parameter_changes_its_reference compares per_class's (N, C) output with the
    # pooled (N,) one, which only broadcasts for N = 1.
    Case("dice", "per_class_one_image", DICE, {"per_class": True}, {"layout": "classes", "samples": 1}),
    Case("dice", "per_class", DICE, {"per_class": True}, {"layout": "classes"}),
    Case("dice", "smooth_empty_mask", DICE, {"smooth": 1.0}, {"target": "empty"}),
    Case("dice", "per_class_smooth", DICE, {"per_class": True, "smooth": 0.5}, {"layout": "classes"}),
    Case("dice", "sklearn_f1_hard", DICE_SKLEARN, {}, {"pred": "hard"}),
    Case("tversky", "flat_hard_target", TVERSKY),
    Case("tversky", "equals_dice", TVERSKY_AS_DICE, {}, {"layout": "image"}),
    Case("tversky", "recall_heavy", TVERSKY, {"alpha": 0.3, "beta": 0.7}),
    Case("tversky", "precision_heavy_soft", TVERSKY, {"alpha": 0.8, "beta": 0.2}, {"target": "soft"}),
    Case("tversky", "per_class_one_image", TVERSKY, {"per_class": True}, {"layout": "classes", "samples": 1}),
    Case(
        "tversky", "per_class_smooth", TVERSKY, {"per_class": True, "smooth": 1.0, "beta": 0.9}, {"layout": "classes"}
    ),
    Case("tversky", "smooth_empty_mask", TVERSKY, {"smooth": 1.0, "alpha": 0.4}, {"target": "empty"}),
    Case("tversky", "sklearn_jaccard_hard", JACCARD_SKLEARN, {"alpha": 1.0, "beta": 1.0}, {"pred": "hard"}),
    Case("cosine_similarity", "rows", numpy_ref(ref.cosine_similarity_np)),
    Case("cosine_similarity", "keras_example", numpy_ref(ref.cosine_similarity_np), {}, {"layout": "keras_example"}),
    Case("cosine_similarity", "zero_target_row", numpy_ref(ref.cosine_similarity_np), {}, {"zero_target_row": True}),
    Case("cosine_similarity", "batch_of_rows", numpy_ref(ref.cosine_similarity_np), {}, {"layout": "nested"}),
    Case("cosine_distance", "rows", numpy_ref(ref.cosine_distance_np)),
    Case("cosine_distance", "keras_example", numpy_ref(ref.cosine_distance_np), {}, {"layout": "keras_example"}),
    Case("cosine_distance", "epsilon_floor", numpy_ref(ref.cosine_distance_np), {"epsilon": 2.0}),
    Case(
        "cosine_distance",
        "epsilon_zero_target_row",
        numpy_ref(ref.cosine_distance_np),
        {"epsilon": 1e-12},
        {"zero_target_row": True},
    ),
    Case("cosine_distance", "batch_of_rows", numpy_ref(ref.cosine_distance_np), {}, {"layout": "nested"}),
    Case("ntxent", "pairs", numpy_ref(ref.ntxent_np)),
    Case("ntxent", "uneven_groups", numpy_ref(ref.ntxent_np), {}, {"groups": "uneven"}),
    Case("ntxent", "temperature", numpy_ref(ref.ntxent_np), {"temperature": 0.5}, {"groups": "uneven"}),
    Case("ntxent", "optax_example", numpy_ref(ref.ntxent_np), {}, {"groups": "optax_example"}),
    Case("circle", "pairs", numpy_ref(ref.circle_np)),
    Case("circle", "uneven_groups", numpy_ref(ref.circle_np), {}, {"groups": "uneven"}),
    Case("circle", "paper_face_setting", numpy_ref(ref.circle_np), {"gamma": 256.0, "margin": 0.25}),
    Case("circle", "small_gamma_margin", numpy_ref(ref.circle_np), {"gamma": 2.0, "margin": 0.1}, {"groups": "uneven"}),
    Case("giou", "overlap", numpy_ref(ref.giou_np)),
    Case("giou", "disjoint", numpy_ref(ref.giou_np), {}, {"layout": "disjoint"}),
    Case("giou", "nested", numpy_ref(ref.giou_np), {}, {"layout": "nested"}),
    Case("giou", "eps", numpy_ref(ref.giou_np), {"eps": 0.5}),
    Case("diou", "overlap", numpy_ref(ref.diou_np)),
    Case("diou", "disjoint", numpy_ref(ref.diou_np), {}, {"layout": "disjoint"}),
    Case("diou", "nested", numpy_ref(ref.diou_np), {}, {"layout": "nested"}),
    Case("diou", "eps", numpy_ref(ref.diou_np), {"eps": 0.5}, {"layout": "disjoint"}),
    # torchvision holds α constant in the gradient: finite differences of the loss (gradcheck) disagree by design.
    Case("ciou", "overlap", CIOU, autograd_differs=CIOU_ALPHA),
    Case("ciou", "disjoint", CIOU, {}, {"layout": "disjoint"}, autograd_differs=CIOU_ALPHA),
    Case("ciou", "nested", CIOU, {}, {"layout": "nested"}, autograd_differs=CIOU_ALPHA),
    Case("ciou", "eps", CIOU, {"eps": 0.5}, autograd_differs=CIOU_ALPHA),
]
