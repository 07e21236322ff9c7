"""Reference cases for the metric-learning and self-supervised losses (see ``lossref``).

Each pml loss is checked against pml's own class, called directly on the
case's float64 tensors (``references_metric``), its gradient against autograd
through pml — with respect to the class centres W of arcface/cosface and the
proxies of proxy_anchor too — and, through ``test_gradcheck``, against finite
differences of losscli's own function. Barlow Twins is checked against a numpy
formula from the paper's pseudocode and finite differences. The data variants
cover uneven groups (an anchor without a positive), embeddings far from their
class centre (arcface's branch past π - m), classes missing from the batch
(proxy_anchor's divisor) and features whose spread is above and below
VICReg's hinge at 1.
"""

from __future__ import annotations

import numpy as np

try:
    from tests import references_metric as ref
    from tests.lossref import NAME_DRAWERS, NAME_KINKS, Case, Reference, numpy_ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references_metric as ref
    from lossref import NAME_DRAWERS, NAME_KINKS, Case, Reference, numpy_ref

DIM, CLASSES = 4, 3
GROUPS = {
    "pairs": [0, 1, 2, 0, 1, 2],
    "uneven": [3, 3, 3, 7, 7, -1, 5, 5],  # -1 has no positive
}


def pml_ref(fn) -> Reference:
    return Reference(f"pytorch-metric-learning via {fn.__name__}, autograd through it", fn, torch_ops=True)


# --- inputs -------------------------------------------------------------------------


def _draw_labelled(spec, params, rng, groups="pairs", **options):
    labels = GROUPS[groups]
    return {"embeddings": rng.normal(0.0, 1.0, (len(labels), DIM)), "labels": np.array(labels)}


def _centres(rng, labels, far: bool) -> tuple[np.ndarray, np.ndarray]:
    """(C, D) centres and embeddings near their class's centre, or (``far``) near its opposite."""
    centres = rng.normal(0.0, 1.0, (CLASSES, DIM))
    sign = -1.0 if far else 1.0
    return centres, sign * centres[labels] + rng.normal(0.0, 0.8, (len(labels), DIM))


def _draw_class_centres(spec, params, rng, far=False, **options):
    labels = rng.integers(0, CLASSES, 7)
    centres, embeddings = _centres(rng, labels, far)
    return {"embeddings": embeddings, "labels": labels, "weight": centres.T.copy()}


def _draw_proxies(spec, params, rng, missing_class=False, **options):
    labels = np.array([0, 1, 0, 0, 1, 1, 0]) if missing_class else np.array([0, 1, 2, 2, 1, 0, 2])
    centres, embeddings = _centres(rng, labels, False)
    return {"embeddings": embeddings, "labels": labels, "proxies": centres}


def _draw_views(spec, params, rng, spread=(0.5, 1.8), **options):
    """Ten samples of D features in two views: the second a noisy copy of the first; one spread per feature."""
    first = rng.normal(0.0, 1.0, (10, DIM)) * np.linspace(*spread, DIM)
    return {"embeddings": first, "ref_emb": first + rng.normal(0.0, 0.5, first.shape)}


for _name in ("contrastive", "supcon", "multi_similarity"):
    NAME_DRAWERS[_name] = _draw_labelled
NAME_DRAWERS["arcface"] = NAME_DRAWERS["cosface"] = _draw_class_centres
NAME_DRAWERS["proxy_anchor"] = _draw_proxies
NAME_DRAWERS["barlow_twins"] = NAME_DRAWERS["vicreg"] = _draw_views


# --- kinks --------------------------------------------------------------------------


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _contrastive_kinks(a, p):
    """Pairs at a margin (the hinges), or at distance 0 (no derivative)."""
    u, labels = _unit(a["embeddings"]), a["labels"]
    d = np.linalg.norm(u[:, None] - u[None], axis=-1)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    gaps = [np.abs(d - p.get("pos_margin", 0.0))[same & off], np.abs(d - p.get("neg_margin", 1.0))[~same], d[off]]
    return float(min(g.min(initial=np.inf) for g in gaps))


def _arcface_kinks(a, p):
    """The true class's angle at π - m (the logit's jump) or at 0 and π (acos has no derivative)."""
    cos = _unit(a["embeddings"]) @ _unit(a["weight"].T).T
    angle = np.arccos(cos[np.arange(len(a["labels"])), a["labels"]])
    return float(min(np.abs(angle - (np.pi - p.get("margin", 0.5))).min(), angle.min(), (np.pi - angle).min()))


def _vicreg_kinks(a, p):
    """A feature whose standard deviation sqrt(Var + eps) is at the hinge, 1."""
    eps = p.get("eps", 1e-4)
    return float(min(np.abs(np.sqrt(z.var(axis=0, ddof=1) + eps) - 1.0).min() for z in (a["embeddings"], a["ref_emb"])))


NAME_KINKS["contrastive"] = _contrastive_kinks
NAME_KINKS["arcface"] = _arcface_kinks
NAME_KINKS["vicreg"] = _vicreg_kinks


# --- cases --------------------------------------------------------------------------

CONTRASTIVE = pml_ref(ref.contrastive_pml)
SUPCON = pml_ref(ref.supcon_pml)
MULTI_SIMILARITY = pml_ref(ref.multi_similarity_pml)
ARCFACE = pml_ref(ref.arcface_pml)
COSFACE = pml_ref(ref.cosface_pml)
PROXY_ANCHOR = pml_ref(ref.proxy_anchor_pml)
VICREG = pml_ref(ref.vicreg_pml)
BARLOW_TWINS = numpy_ref(ref.barlow_twins_np)
UNEVEN = {"groups": "uneven"}

CASES = [
    Case("contrastive", "pairs", CONTRASTIVE),
    Case("contrastive", "uneven_groups", CONTRASTIVE, {}, UNEVEN),
    Case("contrastive", "margins", CONTRASTIVE, {"pos_margin": 0.6, "neg_margin": 1.5}, UNEVEN),
    Case("supcon", "pairs", SUPCON),
    Case("supcon", "uneven_groups", SUPCON, {}, UNEVEN),
    Case("supcon", "temperature", SUPCON, {"temperature": 0.5}, UNEVEN),
    Case("multi_similarity", "pairs", MULTI_SIMILARITY),
    Case("multi_similarity", "uneven_groups", MULTI_SIMILARITY, {}, UNEVEN),
    Case("multi_similarity", "weights", MULTI_SIMILARITY, {"alpha": 5.0, "beta": 10.0, "base": 0.2}, UNEVEN),
    Case("arcface", "near_centres", ARCFACE),
    Case("arcface", "far_from_centres", ARCFACE, {}, {"far": True}),
    Case("arcface", "margin_scale", ARCFACE, {"margin": 0.3, "scale": 16.0}),
    Case("arcface", "wide_margin_far", ARCFACE, {"margin": 1.2, "scale": 8.0}, {"far": True}),
    Case("cosface", "near_centres", COSFACE),
    Case("cosface", "far_from_centres", COSFACE, {}, {"far": True}),
    Case("cosface", "margin_scale", COSFACE, {"margin": 0.1, "scale": 10.0}),
    Case("proxy_anchor", "every_class", PROXY_ANCHOR),
    Case("proxy_anchor", "class_missing", PROXY_ANCHOR, {}, {"missing_class": True}),
    Case("proxy_anchor", "margin_alpha", PROXY_ANCHOR, {"margin": 0.3, "alpha": 8.0}, {"missing_class": True}),
    Case("barlow_twins", "views", BARLOW_TWINS),
    Case("barlow_twins", "lambda_eps", BARLOW_TWINS, {"lambda": 0.5, "eps": 0.1}),
    Case("vicreg", "views", VICREG),
    Case("vicreg", "small_spread", VICREG, {}, {"spread": (0.2, 0.7)}),
    Case(
        "vicreg",
        "weights_eps",
        VICREG,
        {"invariance_lambda": 2.0, "variance_mu": 5.0, "covariance_v": 3.0, "eps": 0.3},
        {"spread": (0.2, 0.7)},
    ),
]
