"""Several models under several losses, from tensors built once."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from losscli.advisor import advise, find_mistakes, infer_label_type
from losscli.chunked import evaluate
from losscli.errors import DataError, UnknownParamError, UsageError
from losscli.inputs import CompareInputs, as_computed
from losscli.modelnames import distinguishing_names
from losscli.params import parse_params
from losscli.registry import LossSpec, get_loss
from losscli.results import Comparison
from losscli.validate import Input


def split_params(specs: list[LossSpec], items: list[str]) -> dict[str, dict[str, Any]]:
    """``-p`` items for each loss that takes them; a parameter no loss takes is a usage error."""
    per_loss: dict[str, dict[str, Any]] = {}
    for item in items:
        key = item.partition("=")[0].strip()
        takers = [spec for spec in specs if spec.param(key) is not None]
        if not takers:
            names = ", ".join(spec.name for spec in specs)
            raise UnknownParamError(f"none of the compared losses ({names}) takes a parameter {key!r}")
        for spec in takers:
            per_loss.setdefault(spec.name, {}).update(parse_params(spec, [item]))
    return per_loss


def default_losses(labels: Input, models: list[tuple[str, Input]]) -> list[tuple[LossSpec, dict[str, Any]]]:
    """The losses ``recommend`` lists for these labels that run on them as they are.

    Losses needing converted labels or further inputs are left out, and so are
    losses whose predictions would be a classic mistake for any model (e.g.
    ``bce`` when a model outputs logits).
    """
    advice = advise(infer_label_type(labels.array))
    chosen = []
    for rec in advice.recommendations:
        spec = get_loss(rec.loss)
        if not rec.labels_as_is or any(r.default is None for r in spec.input_roles):
            continue
        if any(find_mistakes(spec, pred.array, None, {}, spec.default_reduction) for _, pred in models):
            continue
        chosen.append((spec, dict(rec.params)))
    return chosen or [(get_loss(advice.recommendations[0].loss), dict(advice.recommendations[0].params))]


def compare(
    data: CompareInputs,
    losses: list[tuple[LossSpec, dict[str, Any]]],
    *,
    columns: list[str] | None = None,
    dtype: str = "float32",
    keep_going: bool = False,
) -> Comparison:
    """Evaluate every loss on every model (no gradients) and rank the models per loss.

    ``columns`` names each loss's column (default: the loss's name); the same
    loss may come twice under other parameters. A model whose file could not
    be read (``data.failed``), or whose loss is not finite or is refused, gets
    an error for that column and the others are still compared; without
    ``keep_going`` the first such failure is raised as a ``DataError``.
    """
    for spec, _ in losses:
        extra = [r.name for r in spec.input_roles if r.default is None]
        if extra or spec.target_role is None:
            raise UsageError(f"compare takes losses of predictions and labels only; {spec.name} also needs {extra}")
    keys = columns or [spec.name for spec, _ in losses]
    shown = distinguishing_names(data.order)
    result = Comparison(
        labels=data.labels.source,
        losses=keys,
        models=list(data.order),
        values={model: dict.fromkeys(keys) for model in data.order},
        params={key: params for key, (_, params) in zip(keys, losses, strict=True) if params},
        baseline=data.baseline,
        names={model: data.names.get(model, shown[model]) for model in data.order},
        loss_names={key: spec.name for key, (spec, _) in zip(keys, losses, strict=True)},
    )
    for model, message in data.failed.items():
        result.errors[model] = dict.fromkeys(keys, message)
    labels = _shared(data.labels, dtype)
    for name, pred in data.models:
        try:
            pred = _shared(pred, dtype)
        except DataError as e:
            if not keep_going:
                raise
            result.errors[name] = dict.fromkeys(keys, str(e))
            continue
        for key, (spec, params) in zip(keys, losses, strict=True):
            inputs = {
                spec.pred_role.name: Input(spec.pred_role, pred.array, pred.source, pred.columns),
                spec.target_role.name: Input(spec.target_role, labels.array, labels.source, labels.columns),
            }
            try:
                outcome = evaluate(spec, inputs, params, spec.default_reduction, grad=False, dtype=dtype)
                value = outcome.value
                if value is None or not math.isfinite(value):
                    raise DataError(f"the loss is {value}: check the predictions (and the labels) for it")
            except DataError as e:
                if not keep_going:
                    raise DataError(f"{name} under {key}: {e}") from e
                result.errors.setdefault(name, {})[key] = str(e)
                continue
            result.values[name][key] = value
            result.warnings += [f"{name}, {key}: {w}" for w in outcome.warnings if not w.startswith("the loss is ")]
    _rank(result)
    return result


def _shared(inp: Input, dtype: str) -> Input:
    """The input converted once to what every loss's tensor can share: writable, contiguous, ``dtype``
    (a value past its range is an error, see ``inputs.as_computed``)."""
    shared = as_computed(Input(inp.role, inp.array, inp.source, inp.columns), np.dtype(dtype).type)
    if not shared.array.flags.writeable or not shared.array.flags.c_contiguous:
        shared.array = np.array(shared.array, order="C")
    return shared


def _rank(result: Comparison) -> None:
    """Best model per loss, change against the baseline, and where the losses disagree."""
    for loss in result.losses:
        scored = [(v, m) for m in result.models if (v := result.values[m][loss]) is not None]
        result.best[loss] = min(scored)[1] if scored else None
    if result.baseline is not None:
        base = result.values[result.baseline]
        for model in result.models:
            result.change[model] = {loss: _percent(result.values[model][loss], base[loss]) for loss in result.losses}
    winners: dict[str, list[str]] = {}
    for loss, model in result.best.items():
        if model is not None:
            winners.setdefault(model, []).append(loss)
    if len(winners) > 1:
        result.disagreements = winners


def _percent(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0:
        return None
    return 100.0 * (value - base) / abs(base)
