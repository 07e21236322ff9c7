"""Several models under several losses, from tensors built once."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from losscli.advice.advisor import (
    HUBER_TUNING,
    MistakeStats,
    find_mistakes,
    infer_label_type,
    judge_mistakes,
    residual_scale,
)
from losscli.advice.integer_labels import significant
from losscli.engine import core as engine
from losscli.engine.chunked import DEFAULT_CHUNK_ROWS, Run, evaluate, splits
from losscli.engine.params import parse_params
from losscli.engine.results import Comparison, Difference
from losscli.engine.rows import RowCollector, RowOptions
from losscli.engine.significance import (
    Gate,
    Gates,
    Statistics,
    above_gate,
    gate_columns,
    recomputed,
    recomputed_estimate,
)
from losscli.engine.stats import Estimate, holm
from losscli.engine.validate import Input, validate
from losscli.errors import DataError, UnknownParamError, UsageError
from losscli.io.inputs import CompareChunk, CompareInputs, as_computed
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


STATISTICS_CHUNK_ROWS = 1 << 18
"""Rows per chunk when ``--ci`` collects every row's loss of every model: their memory stays that of a chunk."""


def compare(
    data: CompareInputs,
    losses: list[tuple[LossSpec, dict[str, Any]]],
    *,
    columns: list[str] | None = None,
    dtype: str = "float32",
    keep_going: bool = False,
    reasons: dict[str, str] | None = None,
    statistics: Statistics | None = None,
    gates: Gates | None = None,
    chunks: Iterator[CompareChunk] | None = None,
    rows: RowOptions | None = None,
) -> Comparison:
    """Evaluate every loss on every model (no gradients) and rank the models per loss.

    ``columns`` names each loss's column (default: the loss's name); the same
    loss may come twice under other parameters. A model whose file could not
    be read (``data.failed``), or whose loss is not finite or is refused, gets
    an error for that column and the others are still compared; without
    ``keep_going`` the first such failure is raised as a ``DataError``.
    With ``statistics`` (``--ci``), every value gets an interval and every
    model its paired difference against the loss's baseline; ``gates`` are
    judged last. With ``chunks`` (``io.inputs.stream_compare_inputs``), the
    rows come a chunk at a time and ``data`` holds none of them. ``rows``
    asks for slices, the worst rows, and weighs the rows (``RowOptions``).
    """
    evaluation = start_evaluation(data, losses, columns, dtype, keep_going, reasons, statistics, rows)
    result, keys = evaluation.result, evaluation.result.losses
    if chunks is not None:
        for key, (spec, params) in zip(keys, losses, strict=True):
            evaluation.add_streamed_column(key, spec, params, [name for name, _ in data.models])
        evaluation.run_streamed(data, chunks)
    else:
        labels = _shared(data.labels, dtype)
        preds = []
        for name, pred in data.models:
            try:
                preds.append((name, _shared(pred, dtype)))
            except DataError as e:
                if not keep_going:
                    raise
                result.errors[name] = dict.fromkeys(keys, str(e))
        for key, (spec, params) in zip(keys, losses, strict=True):
            evaluation.add_column(key, spec, params, labels, preds)
        evaluation.run(labels.array.shape[0] if labels.array.ndim else 1)
    return evaluation.conclude(gates)


def start_evaluation(
    data: CompareInputs,
    losses: list[tuple[LossSpec, dict[str, Any]]],
    columns: list[str] | None,
    dtype: str,
    keep_going: bool,
    reasons: dict[str, str] | None,
    statistics: Statistics | None,
    rows: RowOptions | None,
    offset: int = 0,
) -> Evaluation:
    """The ``Evaluation`` of a comparison, before any loss is run: its result's models and columns."""
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
    return Evaluation(result, dtype, keep_going, statistics, rows or RowOptions(), offset)


@dataclasses.dataclass
class _Cell:
    """One model under one loss: its inputs, its run (a loss that decomposes), what it warns."""

    inputs: dict[str, Input]
    messages: list[str]
    run: Run | None = None
    failed: bool = False
    replicates: np.ndarray | None = None
    """The loss recomputed on each bootstrap resample (a loss that does not decompose)."""
    stats: MistakeStats | None = None
    """The advisor's statistics of a streamed model, judged once all its rows are in."""


@dataclasses.dataclass
class _Column:
    key: str
    spec: LossSpec
    params: dict[str, Any]
    cells: dict[str, _Cell]
    split: bool = True


class Evaluation:
    """Every loss of a comparison on every model, a chunk of rows at a time for all of them at once, so that
    each chunk's per-row losses of every model go to the intervals' sums together (``RowCollector``)."""

    def __init__(
        self,
        result: Comparison,
        dtype: str,
        keep_going: bool,
        statistics: Statistics | None,
        rows: RowOptions,
        offset: int = 0,
    ) -> None:
        self.result, self.dtype, self.keep_going, self.statistics = result, dtype, keep_going, statistics
        self.options = rows
        self.offset = offset
        """The first row among all of a distributed run's (a partition's): what the rows' sums hear."""
        self.columns: list[_Column] = []
        wanted = statistics is not None or rows.slicing is not None or rows.worst or rows.sample
        collector = RowCollector(statistics, rows.slicing, rows.worst, rows.sample, offset=offset) if wanted else None
        self.collector = collector
        self.rows = 0

    def fail(self, model: str, key: str, error: DataError) -> None:
        if not self.keep_going:
            raise DataError(f"{model} under {key}: {error}") from error
        self.result.errors.setdefault(model, {})[key] = str(error)

    def add_column(
        self, key: str, spec: LossSpec, params: dict[str, Any], labels: Input, preds: list[tuple[str, Input]]
    ) -> None:
        """Check every model's inputs for the loss; a loss that does not decompose is computed here, whole."""
        column = _Column(key, spec, params, {})
        reduction = spec.default_reduction
        for name, pred in preds:
            if key in self.result.errors.get(name, {}):
                continue
            inputs = {
                spec.pred_role.name: Input(spec.pred_role, pred.array, pred.source, pred.columns),
                spec.target_role.name: Input(spec.target_role, labels.array, labels.source, labels.columns),
            }
            try:
                if spec.decomposition is None:
                    outcome = evaluate(spec, inputs, params, reduction, grad=False, dtype=self.dtype)
                    self._value(name, key, outcome)
                    cell = _Cell(inputs, [])
                    if self.statistics is not None and self.statistics.bootstrap:
                        cell.replicates = recomputed(spec, inputs, params, reduction, self.dtype, self.statistics)
                else:
                    cell = _Cell(inputs, engine.check_inputs(spec, inputs, params, reduction))
                    arrays = {role: inp.array for role, inp in inputs.items()}
                    column.split = column.split and splits(spec, arrays, params)
                    hook = self._hook(key, name)
                    weights = self.options.weights
                    cell.run = Run(
                        spec, params, reduction, False, self.dtype, None, None, None, rows=hook, weights=weights
                    )
            except DataError as e:
                self.fail(name, key, e)
                continue
            column.cells[name] = cell
        self._register(column)

    def _register(self, column: _Column) -> None:
        spec = column.spec
        if self.collector is not None:
            roles = (spec.pred_role.name, spec.target_role.name)
            self.collector.column(column.key, list(column.cells), spec.default_reduction, roles)
        self.columns.append(column)

    def _hook(self, key: str, model: str) -> Any:
        return self.collector.hook(key, model) if self.collector is not None else None

    def run(self, rows: int) -> None:
        """Run the losses that decompose over the rows, chunk by chunk, then take their values."""
        step = STATISTICS_CHUNK_ROWS if self.collector is not None else DEFAULT_CHUNK_ROWS
        for start in range(0, max(rows, 1), step):
            for column in self.columns:
                if column.spec.decomposition is None or (start and not column.split):
                    continue
                for name, cell in column.cells.items():
                    if not cell.failed:
                        arrays = {role: inp.array for role, inp in cell.inputs.items()}
                        if column.split:
                            arrays = {role: a[start : start + step] for role, a in arrays.items()}
                        self._add(column, name, cell, start, arrays)
                self._flush(column, start, min(step, rows - start) if column.split else rows)
            if self.collector is not None and start == 0:
                self.collector.start()
        self._finish(rows)

    def add_streamed_column(self, key: str, spec: LossSpec, params: dict[str, Any], models: list[str]) -> None:
        """A loss whose inputs come a chunk at a time (``run_streamed``); the advisor judges all the rows."""
        if spec.decomposition is None:
            raise UsageError(
                f"{key}: {spec.name} does not decompose over samples, so it cannot be streamed: "
                "compare without --chunk-size"
            )
        column = _Column(key, spec, params, {})
        for name in models:
            if key not in self.result.errors.get(name, {}):
                run = Run(
                    spec,
                    params,
                    spec.default_reduction,
                    False,
                    self.dtype,
                    None,
                    None,
                    None,
                    rows=self._hook(key, name),
                    weights=self.options.weights,
                    row_offset=self.offset,
                )
                column.cells[name] = _Cell({}, [], run, stats=MistakeStats(spec, params))
        self._register(column)

    def run_streamed(self, data: CompareInputs, chunks: Iterator[CompareChunk]) -> None:
        """Run every loss on each chunk of every model as it is read (``io.inputs.stream_compare_inputs``):
        each chunk validated (its messages name the files' rows), the advisor's statistics gathered."""
        rows = self.stream(data, chunks)
        self.judge_streamed()
        self._finish(rows)

    def judge_streamed(self) -> None:
        """The advisor's warnings of every streamed model, from its statistics over all of its rows."""
        for column in self.columns:
            for cell in column.cells.values():
                if cell.stats is not None:
                    cell.messages[:0] = judge_mistakes(cell.stats, column.spec.default_reduction)

    def stream(self, data: CompareInputs, chunks: Iterator[CompareChunk]) -> int:
        """``run_streamed``'s chunks, without the values that end it: how many rows they held."""
        shown = dict(data.models)
        rows = 0
        for first, labels, models in chunks:
            for column in self.columns:
                spec, key = column.spec, column.key
                for name, cell in column.cells.items():
                    got = models.get(name)
                    if cell.failed:
                        continue
                    if isinstance(got, DataError):
                        cell.failed = True
                        self.fail(name, key, got)
                        continue
                    inputs = {
                        spec.pred_role.name: Input(spec.pred_role, got, shown[name].source, shown[name].columns, first),
                        spec.target_role.name: Input(
                            spec.target_role, labels, data.labels.source, data.labels.columns, first
                        ),
                    }
                    try:
                        validate(spec, inputs, column.params)
                        arrays = {role: inp.array for role, inp in inputs.items()}
                        if first == 0 and not splits(spec, arrays, column.params):
                            raise UsageError(
                                f"{key}: each of these inputs' rows is not a sample of its own (a 1-D input of a "
                                "loss per row is one sample): compare them without --chunk-size"
                            )
                    except DataError as e:
                        cell.failed = True
                        self.fail(name, key, e)
                        continue
                    cell.stats.add(arrays[spec.pred_role.name], arrays[spec.target_role.name])
                    cell.inputs = inputs
                    self._add(column, name, cell, first, arrays)
                self._flush(column, first, len(labels) if labels.ndim else 1)
            if self.collector is not None and first == 0:
                self.collector.start()
            rows = first + (len(labels) if labels.ndim else 1)
        return rows

    def _add(self, column: _Column, name: str, cell: _Cell, start: int, arrays: dict[str, np.ndarray]) -> None:
        """Run a model's loss on some rows; torch's refusal fails the model under this loss."""
        with engine.torch_warnings() as caught:
            try:
                cell.run.add(start, arrays)
            except DataError as e:
                cell.failed = True
                self.fail(name, column.key, e)
        cell.messages += engine.warning_texts(caught)

    def _flush(self, column: _Column, start: int, rows: int) -> None:
        if self.collector is not None:
            failed = {name for name, cell in column.cells.items() if cell.failed}
            self.collector.flush(column.key, self.offset + start, rows, failed)

    def _finish(self, rows: int) -> None:
        """Every run's value (a value that is not finite fails its model), and the intervals' sums."""
        self.rows = rows
        weights = self.options.weights
        if weights is not None and len(weights) != rows:
            raise DataError(
                f"--sample-weight: {len(weights)} weights, but the labels have {rows} rows; give one weight per row"
            )
        for column in self.columns:
            for name, cell in column.cells.items():
                if cell.run is not None and not cell.failed:
                    outcome = cell.run.result(cell.inputs, list(dict.fromkeys(cell.messages)))
                    try:
                        self._value(name, column.key, outcome)
                    except DataError as e:
                        cell.failed = True
                        self.fail(name, column.key, e)
        if self.collector is not None:
            self.collector.finish(rows)

    def _value(self, model: str, key: str, outcome: Any) -> None:
        value = outcome.value
        if value is None or not math.isfinite(value):
            raise DataError(f"the loss is {value}: check the predictions (and the labels) for it")
        self.result.values[model][key] = value
        self.result.warnings += [f"{model}, {key}: {w}" for w in outcome.warnings]

    def conclude(self, gates: Gates | None = None) -> Comparison:
        """Once every value is in: the ranking, intervals and differences, slices and worst rows, and gates."""
        result = self.result
        _rank(result)
        if self.statistics is not None:
            self.significance()
        self.row_results()
        if gates:
            result.gates = self.judge(gates)
        return result

    # --- intervals and differences --------------------------------------------------------------------

    def contrast(self, column: _Column, weights: dict[str, float]) -> Estimate:
        """The estimate of Σ weight · value over some models of a column (one model: its value)."""
        if column.spec.decomposition is None:
            replicates = sum(w * column.cells[m].replicates for m, w in weights.items())
            point = sum(w * self.result.values[m][column.key] for m, w in weights.items())
            return recomputed_estimate(point, replicates, self.statistics)
        return self.collector.contrast(column.key, weights)

    def _scored(self, column: _Column) -> list[str]:
        return [m for m in column.cells if self.result.values[m][column.key] is not None]

    def significance(self) -> None:
        """Every value's interval, and every model's paired difference against its loss's baseline."""
        result, statistics = self.result, self.statistics
        result.statistics = statistics
        result.alternative = "less" if result.baseline is not None else "two-sided"
        alpha = 1 - statistics.level
        for model in result.models:
            result.ci[model] = dict.fromkeys(result.losses)
            result.differences[model] = dict.fromkeys(result.losses)
        for column in self.columns:
            key = column.key
            scored = self._scored(column)
            for model in scored:
                found = self.contrast(column, {model: 1.0})
                result.ci[model][key] = (found.low, found.high)
            reference = result.reference(key)
            if reference not in scored:
                continue
            others = [m for m in scored if m != reference]
            found = {m: self.contrast(column, {m: 1.0, reference: -1.0}) for m in others}
            p_values = [found[m].p_value(result.alternative) for m in others]
            for model, p, adjusted in zip(others, p_values, holm(p_values), strict=True):
                estimate_ = found[model]
                result.differences[model][key] = Difference(
                    estimate_.value, (estimate_.low, estimate_.high), p, adjusted, bool(adjusted < alpha)
                )

    # --- slices and worst rows ------------------------------------------------------------------------

    def row_results(self) -> None:
        """Every slice's values (and intervals), and every model's worst rows, into the result."""
        result, collector = self.result, self.collector
        if collector is None:
            return
        if collector.slicing is not None:
            scored = {column.key: self._scored(column) for column in self.columns}

            def values_of(stratum: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
                values: dict[str, Any] = {model: dict.fromkeys(result.losses) for model in result.models}
                ci: dict[str, Any] | None = None
                if self.statistics is not None:
                    ci = {model: dict.fromkeys(result.losses) for model in result.models}
                for key, models in scored.items():
                    if key not in collector.groups:
                        continue
                    for model in models:
                        found = collector.contrast(key, {model: 1.0}, stratum)
                        values[model][key] = _finite(found.value)
                        if ci is not None and math.isfinite(found.low):
                            ci[model][key] = [found.low, found.high]
                return values, ci

            result.slices, result.slices_left_out = collector.slice_rows(values_of)
            result.slicing = collector.slicing
        if collector.samples:
            result.samples = {
                column: {model: sample.arrays() for model, sample in per.items() if model in scored_models}
                for column, per in collector.samples.items()
                for scored_models in [self._scored(next(c for c in self.columns if c.key == column))]
            }
        if collector.worst:
            result.worst = {
                model: {
                    column.key: collector.worst[column.key][model].rows()
                    for column in self.columns
                    if model in self._scored(column) and model in collector.worst.get(column.key, {})
                }
                for model in result.models
            }

    # --- gates ----------------------------------------------------------------------------------------

    def judge(self, gates: Gates) -> list[Gate]:
        """Every check of the gates, in the order given: each model under each column a gate names."""
        result = self.result
        checks: list[Gate] = []
        by_key = {column.key: column for column in self.columns}
        for loss, bound in gates.above:
            for key in gate_columns(loss, result.losses, result.loss_names, "--fail-above"):
                for model in result.models:
                    interval = result.ci.get(model, {}).get(key)
                    checks.append(above_gate(model, key, result.values[model][key], interval, bound, gates.on))
        for loss, pct in gates.worse:
            for key in gate_columns(loss, result.losses, result.loss_names, "--fail-if-worse"):
                checks += self._worse(by_key[key], pct, gates.on)
        return checks

    def _worse(self, column: _Column, pct: float, on: str) -> list[Gate]:
        """``--fail-if-worse``: each model against the baseline's value raised by ``pct`` percent; with ``ci``,
        failed only when significantly above it (Holm across the models)."""
        result, key = self.result, column.key
        reference = result.reference(key)
        base = result.values.get(reference, {}).get(key) if reference is not None else None
        if base is None:
            raise DataError(f"--fail-if-worse {key}: the baseline {reference} has no value to compare with")
        factor = 1 + math.copysign(pct / 100, base)
        bound = base * factor
        models = [m for m in result.models if m != reference]
        if on != "ci":
            return [
                Gate(
                    m, key, "fail-if-worse", v, bound, v is not None and not v > bound, None, None, reference, base, pct
                )
                for m in models
                if (v := result.values[m][key]) is not None or m in result.errors
            ]
        scored = [m for m in models if result.values[m][key] is not None]
        found = {m: self.contrast(column, {m: 1.0, reference: -factor}) for m in scored}
        alternative = "greater" if result.baseline is not None else "two-sided"
        adjusted = dict(zip(scored, holm([found[m].p_value(alternative) for m in scored]), strict=True))
        alpha = 1 - self.statistics.level
        return [
            Gate(
                m,
                key,
                "fail-if-worse",
                result.values[m][key],
                bound,
                not (adjusted[m] < alpha and found[m].value > 0),
                p_value=adjusted[m],
                baseline=reference,
                baseline_value=base,
                pct=pct,
            )
            for m in scored
        ]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


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
