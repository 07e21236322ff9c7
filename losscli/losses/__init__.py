"""Losses written in torch ops, so autograd gives their exact gradients.

Each function takes its tensors positionally in the order of its spec's
roles, and ``reduction`` plus the spec's parameters as keywords.
"""

from __future__ import annotations

import torch


def reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """torch's reductions: the losses as they are (``none``), their sum, or their mean."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(f"unknown reduction {reduction!r}")
