"""Independent references for the metric-learning and self-supervised losses: pytorch-metric-learning itself.

Each ``*_pml`` calls pml's own loss class on the case's float64 tensors (by
role name), with its parameters, and returns the value or the per-element
output losscli gives for the reduction; autograd through pml gives the
reference gradients, those with respect to the class centres and proxies
included (pml's ``W`` / ``proxies`` parameter is replaced by the case's
tensor, so the gradient reaches it). pml is configured to compute what each
reduction means:

* ``mean``: pml's default reducer, untouched (AvgNonZeroReducer for
  ContrastiveLoss and SupConLoss, MeanReducer for MultiSimilarityLoss,
  ArcFaceLoss, CosFaceLoss and VICRegLoss, DivisorReducer for ProxyAnchorLoss);
* ``sum``: ``reducer=SumReducer()``, each sub-loss summed and the sums added;
* ``none``: ``reducer=DoNothingReducer()``, whose per-pair (per-element,
  per-proxy) losses are added up onto their anchor (sample, proxy).

VICReg's ``sum`` is pml's default value and its ``none`` the three weighted
terms, each the mean of pml's sub-loss as its MeanReducer takes it. pml's
distances are its defaults: LpDistance (p = 2, power 1, normalised embeddings)
for ContrastiveLoss, CosineSimilarity for the others. ArcFace's margin is
given to pml in degrees (``np.degrees`` of losscli's radians).

Barlow Twins is in no installed library: ``barlow_twins_np`` is the paper's
pseudocode in numpy, with the standardisation of the authors' code
(BatchNorm1d: the biased variance plus eps).
"""

from __future__ import annotations

import numpy as np
import torch
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning.reducers import DoNothingReducer, SumReducer

try:
    from tests.references import reduce
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from references import reduce

REDUCERS = {"sum": SumReducer, "none": DoNothingReducer}


def _reducer(reduction: str) -> dict:
    return {"reducer": REDUCERS[reduction]()} if reduction in REDUCERS else {}


def _per_owner(loss_dict: dict, size: int) -> torch.Tensor:
    """pml's unreduced sub-losses added up onto what each term belongs to: the anchor of a pair, or the element."""
    total = torch.zeros(size, dtype=torch.float64)
    for info in loss_dict.values():
        losses, indices = info["losses"], info["indices"]
        if not torch.is_tensor(losses):  # pml's 0 for a sub-loss with no terms (no positive pair, say)
            continue
        owners = indices[0] if isinstance(indices, tuple) else indices
        total = total.index_add(0, owners, losses.reshape(-1))
    return total


def _labelled(loss: torch.nn.Module, t: dict, reduction: str, size: int | None = None) -> torch.Tensor:
    out = loss(t["embeddings"], t["labels"])
    return _per_owner(out, size or len(t["labels"])) if reduction == "none" else out


def _with(loss: torch.nn.Module, name: str, tensor: torch.Tensor) -> torch.nn.Module:
    """The loss with its learned parameter ``name`` (W, proxies) replaced by ``tensor``, so autograd reaches it."""
    delattr(loss, name)
    setattr(loss, name, tensor)
    return loss


def contrastive_pml(t, p, reduction):
    loss = pml.ContrastiveLoss(
        pos_margin=p.get("pos_margin", 0.0), neg_margin=p.get("neg_margin", 1.0), **_reducer(reduction)
    )
    return _labelled(loss, t, reduction)


def supcon_pml(t, p, reduction):
    return _labelled(pml.SupConLoss(temperature=p.get("temperature", 0.1), **_reducer(reduction)), t, reduction)


def multi_similarity_pml(t, p, reduction):
    loss = pml.MultiSimilarityLoss(
        alpha=p.get("alpha", 2.0), beta=p.get("beta", 50.0), base=p.get("base", 0.5), **_reducer(reduction)
    )
    return _labelled(loss, t, reduction)


def arcface_pml(t, p, reduction):
    dim, classes = t["weight"].shape
    margin = np.degrees(p.get("margin", 0.5))  # pml takes degrees
    loss = pml.ArcFaceLoss(classes, dim, margin=margin, scale=p.get("scale", 64.0), **_reducer(reduction))
    return _labelled(_with(loss, "W", t["weight"]), t, reduction)


def cosface_pml(t, p, reduction):
    dim, classes = t["weight"].shape
    loss = pml.CosFaceLoss(
        classes, dim, margin=p.get("margin", 0.35), scale=p.get("scale", 64.0), **_reducer(reduction)
    )
    return _labelled(_with(loss, "W", t["weight"]), t, reduction)


def proxy_anchor_pml(t, p, reduction):
    classes, dim = t["proxies"].shape
    loss = pml.ProxyAnchorLoss(
        classes, dim, margin=p.get("margin", 0.1), alpha=p.get("alpha", 32.0), **_reducer(reduction)
    )
    return _labelled(_with(loss, "proxies", t["proxies"]), t, reduction, size=classes)


def vicreg_pml(t, p, reduction):
    weights = {k: p[k] for k in ("invariance_lambda", "variance_mu", "covariance_v", "eps") if k in p}
    if reduction == "sum":  # the loss: pml's default MeanReducer
        return pml.VICRegLoss(**weights)(t["embeddings"], ref_emb=t["ref_emb"])
    terms = pml.VICRegLoss(**weights, reducer=DoNothingReducer())(t["embeddings"], ref_emb=t["ref_emb"])
    mean = {name: torch.mean(info["losses"]) for name, info in terms.items()}
    return torch.stack(
        [mean["invariance_loss"], mean["variance_loss1"] + mean["variance_loss2"], mean["covariance_loss"]]
    )


def barlow_twins_np(a, p, reduction):
    """Zbontar et al. (2021), Algorithm 1: c = z_a_normᵀ z_b_norm / N, loss Σ (1 - c_ii)² + λ Σ_{i≠j} c_ij²,
    each view standardised as the authors' BatchNorm1d(affine=False) does: (z - mean) / sqrt(biased var + eps).
    ``none`` gives the two terms."""
    eps, lambd = p.get("eps", 1e-5), p.get("lambda", 0.0051)

    def standardised(z):
        return (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + eps)

    c = standardised(a["embeddings"]).T @ standardised(a["ref_emb"]) / len(a["embeddings"])
    on_diagonal = ((1.0 - np.diag(c)) ** 2).sum()
    off_diagonal = sum(c[i, j] ** 2 for i in range(len(c)) for j in range(len(c)) if i != j)
    return reduce(np.array([on_diagonal, lambd * off_diagonal]), reduction)
