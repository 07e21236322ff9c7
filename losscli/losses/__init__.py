"""Losses written in torch ops, so autograd gives their exact gradients.

Each function takes its tensors positionally in the order of its spec's
roles, and ``reduction`` plus the spec's parameters as keywords.
"""

from __future__ import annotations

import torch


def per_sample_mean(x: torch.Tensor) -> torch.Tensor:
    """The mean of each sample's elements (axis 0 counts the samples): (N, ...) to (N,)."""
    return x.reshape(len(x), -1).mean(dim=1)


def reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """torch's reductions: the losses as they are (``none``), their sum, or their mean."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(f"unknown reduction {reduction!r}")
