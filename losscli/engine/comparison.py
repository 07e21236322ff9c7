"""Several models under several losses, from tensors built once."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from losscli.advice.advisor import HUBER_TUNING, find_mistakes, infer_label_type, residual_scale
from losscli.advice.integer_labels import significant
from losscli.engine.chunked import evaluate
from losscli.engine.params import parse_params
from losscli.engine.results import Comparison
from losscli.engine.validate import Input
from losscli.errors import DataError, UnknownParamError, UsageError
from losscli.io.inputs import CompareInputs, as_computed
from losscli.registry import LossSpec, get_loss
from losscli.render.modelnames import distinguishing_names


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


DEFAULT_LOSSES: dict[str, tuple[str, ...]] = {
    "continuous": ("mse", "l1", "huber"),
    "bounded": ("bce", "bce_with_logits", "mse"),
    "binary": ("bce_with_logits", "bce"),
    "multiclass": ("cross_entropy", "multi_margin"),
    "onehot": ("cross_entropy", "categorical_hinge"),
    "multilabel": ("bce_with_logits", "bce", "multilabel_soft_margin"),
    "signed": ("soft_margin", "hinge"),
    "distribution": ("cross_entropy",),
    "count": ("poisson_nll", "poisson_deviance", "mse"),
}
"""The losses ``compare`` takes without ``-l``: a fixed list per label type, never a function of the data
(outliers, imbalance, spread), so a script reads the same columns from every data set of a type. Where a loss
comes in a logit and a probability form (bce_with_logits, bce), the form the models' outputs fit is kept:
a loss whose predictions would be a classic mistake for one of the models is left out. Counts' poisson_deviance
and mse compare rates with the counts, so they are kept for models that predict rates (not log-rates)."""

REASONS = {
    "mse": "squared error, minimised by the mean: large errors weigh most",
    "l1": "absolute error, minimised by the median: large errors weigh less",
    "huber": "squared below delta, absolute above",
    "bce": "log loss of probabilities, a proper scoring rule",
    "bce_with_logits": "log loss of logits (sigmoid built in), a proper scoring rule",
    "cross_entropy": "log loss of class scores (softmax built in), a proper scoring rule",
    "multi_margin": "multi-class hinge: does the true class outscore the others by the margin?",
    "categorical_hinge": "hinge on the one-hot rows: the true class's score against the best other",
    "multilabel_soft_margin": "sigmoid log loss per label, averaged per sample",
    "soft_margin": "logistic loss of raw scores against labels in {-1, 1}",
    "hinge": "SVM hinge max(0, 1 - y·x): only wrong or unconfident scores cost",
    "poisson_nll": "Poisson negative log-likelihood, a proper scoring rule for counts",
    "poisson_deviance": "Poisson deviance of the rates, 0 for a perfect fit",
}
"""What each default loss measures; ``_reason`` adds the labels' type and where the parameters come from."""

TYPE_REASONS = {
    ("bounded", "mse"): "Brier score of probability outputs: their squared error",
    ("count", "mse"): "squared error of the predicted rates",
    ("distribution", "cross_entropy"): "cross entropy with soft targets: KL divergence plus the targets' "
    "entropy, so it ranks the models as KL does",
}


POOLED_RESIDUALS = 1 << 23
"""Residuals pooled for huber's delta at most (64 MB); more rows are sampled at an even stride. The median of
2^23 |residuals| is within about 0.05 % of the whole's, about the four digits delta is given in."""


def default_losses(
    labels: Input, models: list[tuple[str, Input]], items: list[str] | None = None
) -> tuple[list[tuple[LossSpec, dict[str, Any]]], dict[str, str]]:
    """The losses to compare without ``-l``, their parameters (``-p`` ``items`` on top), and why each is compared.

    The losses are ``DEFAULT_LOSSES`` of the labels' type, minus the forms the models' outputs do not fit;
    if every one is left out, the first.
    """
    label_type = infer_label_type(labels.array).label_type
    preds = [pred.array for _, pred in models]
    rates = label_type == "count" and _rates(labels.array, preds)
    chosen = []
    for name in DEFAULT_LOSSES[label_type]:
        spec = get_loss(name)
        if (label_type, name) in FOR_RATES and not rates:
            continue
        if any(find_mistakes(spec, pred, None, {}, spec.default_reduction) for pred in preds):
            continue
        chosen.append(spec)
    chosen = chosen or [get_loss(DEFAULT_LOSSES[label_type][0])]
    given = split_params(chosen, items or [])
    losses, reasons = [], {}
    for spec in chosen:
        params, why = {}, ""
        policy = SCALE_POLICIES.get(spec.name)
        user = given.get(spec.name, {})
        if policy is not None and policy[0] not in user:
            params, why = policy[1](labels.array, preds, rates)
        if user:
            note = ", ".join(f"{k}={json.dumps(v)}" for k, v in user.items()) + " as given with -p"
            why = f"{why}; {note}" if why else note
        text = TYPE_REASONS.get((label_type, spec.name)) or REASONS[spec.name]
        reasons[spec.name] = f"{text}{f'; {why}' if why else ''} ({label_type} labels)"
        losses.append((spec, {**params, **user}))
    return losses, reasons


FOR_RATES = {("count", "poisson_deviance"), ("count", "mse")}
"""Default losses that compare predicted rates with counts: left out for models that predict log-rates."""


def _huber_delta(labels: np.ndarray, preds: list[np.ndarray], rates: bool) -> tuple[dict[str, Any], str]:
    """huber's delta at Huber's 1.345 robust standard deviations of the models' pooled residuals.

    delta is a threshold on the errors, so its scale is theirs: 1.345 σ gives 95 % efficiency if they are
    Gaussian, and beyond it an error weighs by its size. The labels' spread is no such scale: it holds the
    signal the models explain, and a delta from it is so large that huber is mse / 2. One delta for all the
    models, from their pooled residuals, keeps the column one loss (a delta per model would score each model
    under a loss of its own). σ is 1.4826 × their median absolute value (``residual_scale``): it ignores up
    to half of them being wild, so a few gross errors barely move it; and it is taken from 0, as a robust
    regression's scale is, since a model's bias is error too.
    """
    residuals = _pooled_residuals(labels, preds)
    if residuals.size == 0:
        return {}, "delta = 1, its default: no model's predictions are shaped like the labels"
    scale = residual_scale(residuals)
    if not scale > 0 or not math.isfinite(scale):
        return {}, "delta = 1, its default: over half the residuals are 0, so their robust σ is 0"
    why = f"delta = {HUBER_TUNING} × {significant(scale)}, the robust σ of all models' residuals"
    return {"delta": significant(HUBER_TUNING * scale)}, why


def _log_input(labels: np.ndarray, preds: list[np.ndarray], rates: bool) -> tuple[dict[str, Any], str]:
    """poisson_nll reads the predictions as rates when the models predict rates, else as log-rates (torch's)."""
    if rates:
        return {"log_input": False}, "log_input=false: the models predict rates, not log-rates"
    return {}, "the predictions read as log-rates"


SCALE_POLICIES = {"huber": ("delta", _huber_delta), "poisson_nll": ("log_input", _log_input)}
"""loss → (the parameter set from the data, the function that sets it and says why)."""


def _pooled_residuals(labels: np.ndarray, preds: list[np.ndarray]) -> np.ndarray:
    """predictions - labels of every model shaped like the labels, in float64 (a strided sample when many)."""
    fitting = [p for p in preds if p.shape == labels.shape]
    if not fitting:
        return np.empty(0)
    step = max(1, -(-labels.size * len(fitting) // POOLED_RESIDUALS))
    y = labels.reshape(-1)[::step]
    return np.concatenate([np.subtract(p.reshape(-1)[::step], y, dtype=np.float64) for p in fitting])


def _rates(labels: np.ndarray, preds: list[np.ndarray]) -> bool:
    """Whether count models predict rates rather than log-rates: all positive, and each model's mean on the
    labels' scale (nearer their mean than the mean of its exp is, in ratio: calibration in the large)."""
    if not preds or any(p.size == 0 or p.min() <= 0 for p in preds):
        return False
    target = float(np.mean(labels, dtype=np.float64))
    if target <= 0:
        return False
    with np.errstate(over="ignore"):  # exp of large rates is inf: so much further from the counts
        return all(
            abs(math.log(float(np.mean(p, dtype=np.float64)) / target))
            < abs(math.log(float(np.mean(np.exp(p.astype(np.float64)))) / target))
            for p in preds
        )


def compare(
    data: CompareInputs,
    losses: list[tuple[LossSpec, dict[str, Any]]],
    *,
    columns: list[str] | None = None,
    dtype: str = "float32",
    keep_going: bool = False,
    reasons: dict[str, str] | None = None,
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
        reasons=dict(reasons or {}),
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
            result.warnings += [f"{name}, {key}: {w}" for w in outcome.warnings]
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
