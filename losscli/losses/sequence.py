"""Sequence losses: CTC with the derivative of its value."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def ctc(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    *,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> torch.Tensor:
    """CTC loss with torch's value and the true gradient with respect to ``log_probs``.

    Args:
      log_probs: (T, N, C) log-probabilities per time step.
      targets: (N, S) padded or (sum of target_lengths,) concatenated labels.
      input_lengths, target_lengths: (N,) lengths per sample.
      blank, zero_infinity: as ``torch.nn.CTCLoss``.
      reduction: ``none`` (per sample), ``sum``, or ``mean`` (each sample's loss
        divided by its target length, then the mean over the batch).

    Returns:
      ``torch.nn.functional.ctc_loss``'s value, bit for bit.

    torch's CTC backward returns ``exp(log_probs) · s_n - posterior`` on every
    time step a sample uses (``s_n`` the sample's weight in the reduction):
    the gradient with respect to the logits of a ``log_softmax``, not with
    respect to ``log_probs`` themselves (the extra term cancels through
    ``log_softmax``). Subtracting ``s_n · (exp(x) - exp(x).detach())``, which
    is exactly zero in value, leaves the derivative of the value: minus the
    posterior of each label at each step.
    """
    per_sample = F.ctc_loss(
        log_probs, targets, input_lengths, target_lengths, blank=blank, reduction="none", zero_infinity=zero_infinity
    )
    steps = torch.arange(log_probs.shape[0]).unsqueeze(1)
    weight = (steps < input_lengths.unsqueeze(0)).to(log_probs.dtype)  # (T, N): the steps each sample uses
    if zero_infinity:
        with torch.no_grad():
            finite = torch.isfinite(
                F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=blank, reduction="none")
            )
        weight = weight * finite.to(log_probs.dtype)
    probs = log_probs.exp()
    offset = ((probs - probs.detach()).sum(dim=2) * weight).sum(dim=0)  # (N,), zero in value
    per_sample = per_sample - offset
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    return (per_sample / target_lengths.clamp(min=1).to(per_sample.dtype)).mean()
