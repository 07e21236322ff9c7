"""Runs over sharded inputs: a task per partition (a shard of every sharded role), merged in partition order.

Each task reads its shards, checks them as a file is checked (its messages
name the shard and its rows), and runs the loss a chunk at a time into the
mergeable states a single run keeps: the value's sums (``chunked.Run``), the
advisor's totals (``MistakeStats``) and the rows' sums (``RowCollector``:
intervals, slices, worst rows). The client merges them in partition order,
totals with ``math.fsum``, so the answer does not depend on how many workers
ran the tasks or in what order they finished. The tasks run in this process
one after the other (``--engine local``) or on Dask (``executors``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Any

import numpy as np

from losscli.errors import DataError
from losscli.registry import get_loss


@dataclasses.dataclass
class ComputeTask:
    """One partition of a ``compute``: its shards, and what the run asks of them."""

    loss: str
    params: dict[str, Any]
    reduction: str
    grad: bool
    dtype: str
    keep_rows: int | None
    pred: str
    labels: str | None
    extra: dict[str, str]
    files: dict[str, Any]
    """Column and key options, as ``gather_inputs`` takes them."""
    shared: frozenset[str] = frozenset()
    """The roles whose file is not sharded: every partition gets it whole."""
    index: int = 0
    offset: int = 0
    """The partition's first row among all of the run's (when the run needs it: bootstrap weights, slices)."""
    statistics: Any = None
    slicing: Any = None
    """This partition's part of the run's slices (its rows' codes)."""
    worst: int | None = None
    weight_column: str | None = None
    """``--sample-weight COL``: a column of this partition's labels shard."""
    grad_dir: str | None = None
    """Write this partition's gradient here (``part-NNNNN.npy``), and keep none of its rows."""


@dataclasses.dataclass
class Partial:
    """What a partition's task gives back, to be merged with the others'."""

    run: Any
    stats: Any
    collector: Any
    notes: list[str]
    warnings: list[str]
    rows: int
    inputs: dict[str, Any]
    """Each role's ``InputInfo`` for this shard."""
    weight_sum: float | None = None
    grad_files: list[str] = dataclasses.field(default_factory=list)


MODEL = "pred"


def compute_partition(task: ComputeTask) -> Partial:
    """Read a partition's shards and run the loss over them; what a single run would keep, unfinished."""
    import torch

    from losscli.advice.advisor import MistakeStats
    from losscli.engine import core
    from losscli.engine.chunked import DEFAULT_CHUNK_ROWS, Run, _chunks, splits
    from losscli.engine.rows import RowCollector
    from losscli.engine.validate import validate
    from losscli.io import rowcolumns, shards
    from losscli.io.inputs import gather_inputs

    torch.set_num_threads(1)  # a worker per core: torch's own threads would only fight over them
    spec = get_loss(task.loss)
    with contextlib.ExitStack() as stack:
        local = {
            name: stack.enter_context(shards.local_file(path)) if path is not None else None
            for name, path in {"pred": task.pred, "labels": task.labels, **task.extra}.items()
        }
        named = {
            path: original
            for path, original in zip(local.values(), (task.pred, task.labels, *task.extra.values()), strict=True)
            if path
        }
        extra = {name: local[name] for name in task.extra}
        data, notes = gather_inputs(spec, local["pred"], local["labels"], extra=extra, **task.files)
        for inp in data.values():  # messages and results name the shard, not a local copy of it
            inp.source = named.get(inp.source, inp.source)
        validate(spec, data, task.params)
        target = spec.target_role.name if spec.target_role is not None else None
        stats = MistakeStats(spec, task.params)
        stats.add(data[spec.pred_role.name].array, data[target].array if target else None)
        arrays = {name: inp.array for name, inp in data.items()}
        pred = arrays[spec.pred_role.name]
        rows = len(pred) if pred.ndim else 1
        weights = None
        if task.weight_column is not None:
            column = rowcolumns.read_row_columns(local["labels"] or local["pred"], [task.weight_column])
            weights = rowcolumns.sample_weights(
                column[task.weight_column], f"{task.labels or task.pred}:{task.weight_column}"
            )
            if len(weights) != rows:
                raise DataError(
                    f"--sample-weight {task.weight_column}: {task.labels} has {len(weights)} weights for {rows} rows"
                )
        collector = None
        if task.statistics is not None or task.slicing is not None or task.worst:
            collector = RowCollector(task.statistics, task.slicing, task.worst, offset=task.offset)
            collector.column(spec.name, [MODEL], task.reduction, (spec.pred_role.name, target))
        keep = None if task.grad_dir else task.keep_rows
        run = Run(
            spec,
            task.params,
            task.reduction,
            task.grad,
            task.dtype,
            keep,
            None,
            None,
            task.shared,
            rows=collector.single(spec.name, MODEL) if collector is not None else None,
            weights=weights,
            row_offset=task.offset,
        )
        step = DEFAULT_CHUNK_ROWS if splits(spec, arrays, task.params) else None
        with core.torch_warnings() as caught:
            for start, chunk in _chunks(arrays, rows, step):
                run.add(start, chunk)
        if collector is not None:
            collector.finish(rows)
        partial = Partial(
            run,
            stats,
            collector,
            notes,
            core.warning_texts(caught),
            rows,
            {name: _info(inp) for name, inp in data.items()},
            None if weights is None else float(weights.sum()),
        )
        if task.grad_dir is not None:
            partial.grad_files = _write_partition_gradients(task, run)
    return partial


def _info(inp: Any) -> Any:
    from losscli.engine.results import InputInfo

    return InputInfo(inp.source, inp.columns, tuple(inp.array.shape))


def _write_partition_gradients(task: ComputeTask, run: Any) -> list[str]:
    """This partition's rows of the summed loss's gradient as ``part-NNNNN.npy`` (one file per argument with
    rows), each written atomically into the run's directory (``scale_gradient_file`` makes them the reduced
    value's once the whole run's divisor is known); the run keeps their statistics and no rows."""
    from pathlib import Path

    from losscli.io.outfiles import atomic_write

    written = []
    for name, gradient_sum in run.sums.items():
        if gradient_sum.__class__.__name__ == "SharedGradient":
            continue
        values = np.concatenate(gradient_sum.kept) if gradient_sum.kept else np.empty(0)
        suffix = "" if len(run.sums) == 1 else f"-{name}"
        path = Path(task.grad_dir) / f"part-{task.index:05d}{suffix}.npy"
        with atomic_write(path, "--grad-out") as f:
            np.save(f, values, allow_pickle=False)
        gradient_sum.kept = []
        written.append(path.name)
    return written


def scale_gradient_file(job: tuple[str, float]) -> str:
    """Multiply a partition's gradient file by the run's scale (1 / its divisor), in place and atomically."""
    from pathlib import Path

    from losscli.io.outfiles import atomic_write

    path, scale = job
    values = np.load(path, allow_pickle=False)
    with atomic_write(Path(path), "--grad-out") as f:
        np.save(f, (values * scale).astype(values.dtype, copy=False), allow_pickle=False)
    return path


def merge_compute(
    partials: list[Partial], spec: Any, reduction: str, given: dict[str, str], slicing: Any = None
) -> tuple[Any, Any]:
    """The ``ComputeResult`` of a run's partitions, merged in order, and their merged ``RowCollector``.

    ``given`` maps each role to its input as the command named it (a glob, a directory, a file); a role
    whose file every partition shared keeps that file's shape, the others' rows add up."""
    from losscli.advice.advisor import MistakeStats, judge_mistakes
    from losscli.engine.chunked import Run
    from losscli.engine.rows import RowCollector
    from losscli.engine.validate import Input

    run = Run.merged([p.run for p in partials])
    stats = MistakeStats.merged([p.stats for p in partials])
    notes = list(dict.fromkeys(note for p in partials for note in p.notes))
    warnings = list(dict.fromkeys(w for p in partials for w in p.warnings))
    first = partials[0].inputs
    stand_ins = {
        role.name: Input(role, np.empty(0), given.get(role.name, first[role.name].path), first[role.name].columns)
        for role in spec.roles
        if role.name in first
    }
    result = run.result(stand_ins, judge_mistakes(stats, reduction) + warnings)
    result.warnings[:0] = notes
    result.n_samples = sum(p.rows for p in partials)
    for name, info in result.inputs.items():
        shapes = [p.inputs[name].shape for p in partials]
        if name in partials[0].run.shared or not shapes[0]:
            info.shape = shapes[0]
        else:
            info.shape = (sum(shape[0] for shape in shapes), *shapes[0][1:])
    collectors = [p.collector for p in partials]
    collector = RowCollector.merged(collectors, slicing) if collectors[0] is not None else None
    return result, collector


def _scale(partials: list[Partial]) -> float:
    """What the summed loss's gradient is multiplied by to be the run's (its divisor over every partition)."""
    import copy
    import math

    run = copy.copy(partials[0].run)
    run.total = math.fsum(p.run.total for p in partials)
    run.count = math.fsum(p.run.count for p in partials)
    run.rows, run.n_rows = sum(p.run.rows for p in partials), None
    return run.reduced()[1]


def plan_offsets(rows: list[int]) -> list[int]:
    """Each partition's first row, from the partitions' rows."""
    return [int(x) for x in np.concatenate([[0], np.cumsum(rows)[:-1]])] if rows else []


def grad_directory(path: str) -> str:
    """``--grad-out DIR/``'s directory, refused when it holds files (a run writes a fresh set)."""
    if os.path.isdir(path) and os.listdir(path):
        raise DataError(f"--grad-out {path}: the directory holds files already; name an empty or new one")
    return path


@dataclasses.dataclass
class Describe:
    """Phase 0 of a sharded run, when it needs the rows before computing: a partition's rows, and its columns
    of the rows (``--by``, ``--by-class``)."""

    labels: str | None
    pred: str
    by: tuple[str, ...]
    by_class: bool
    files: dict[str, Any]


def describe_partition(task: Describe) -> tuple[int, dict[str, Any]]:
    """A partition's rows and its slice columns (pandas Series), read from its labels shard."""
    from losscli.io import rowcolumns, shards
    from losscli.io.loading import read_source, select_columns

    source_path = task.labels or task.pred
    with shards.local_file(source_path) as local:
        columns = rowcolumns.read_row_columns(local, task.by, header=task.files.get("header")) if task.by else {}
        source = read_source(local, key=task.files.get("label_key"), header=task.files.get("header"))
        labels = np.asarray(
            select_columns(source, task.files.get("label_cols"), exclude=list(task.by), option="--label-col")
        )
        rows = len(labels) if labels.ndim else 1
        if task.by_class:
            from losscli.engine.rows import class_codes

            columns["class"] = class_codes(labels, source_path)
    return rows, columns


def compute_sharded(
    spec: Any,
    pred: str,
    labels: str | None,
    extra: dict[str, str],
    files: dict[str, Any],
    params: dict[str, Any],
    reduction: str,
    *,
    grad: bool,
    dtype: str,
    keep_rows: int | None,
    statistics: Any,
    request: Any,
    engine: str | None,
    scheduler: str | None,
    timeout: float,
    grad_dir: str | None = None,
) -> tuple[Any, Any, Any, Any]:
    """``compute`` over sharded inputs: (the result, its rows' collector, its ``RowOptions``, the executor's
    description). Every sharded role must have as many shards; a role given as one file is every partition's."""
    import pandas as pd

    from losscli.engine import executors
    from losscli.engine.rows import RowOptions, Slicing, make_slicing
    from losscli.io import shards

    if spec.decomposition is None:
        raise DataError(f"{spec.name} does not decompose over samples (its rows interact), so it cannot run on shards")
    if request.sample_weight is not None and os.path.exists(request.sample_weight):
        raise DataError("--sample-weight: on shards, give the weights as a column of the label shards (COL)")
    if request.slices is not None:
        raise DataError("--slices: on shards, give the slice columns as columns of the label shards (--by COL)")
    given = {"pred": pred, "labels": labels, **extra}
    expanded = {name: shards.expand(path) if shards.is_sharded(path) else None for name, path in given.items() if path}
    sharded = {name: found for name, found in expanded.items() if found is not None}
    count = shards.pair_shards(sharded) if sharded else 1
    shard_of = {name: (found or [given[name]] * count) for name, found in expanded.items()}
    roles = {"pred": spec.pred_role.name, "labels": spec.target_role.name if spec.target_role else None}
    shared = frozenset(roles.get(name, name) for name in given if given[name] and name not in sharded)
    weight_column = request.sample_weight
    in_labels = [*request.by, *([weight_column] if weight_column else [])]
    task_files = {**{k: v for k, v in files.items() if k != "extra"}, "row_columns": in_labels}
    run_on = executors.executor(engine or "dask", scheduler, timeout)
    try:
        offsets = [0] * count
        slicing = None
        if request.slicing or (statistics is not None and statistics.bootstrap):
            described = run_on.map(
                describe_partition,
                [
                    Describe(
                        shard_of.get("labels", [None] * count)[i],
                        shard_of["pred"][i],
                        request.by,
                        request.by_class,
                        task_files,
                    )
                    for i in range(count)
                ],
            )
            offsets = plan_offsets([rows for rows, _ in described])
            if request.slicing:
                names = list(described[0][1])
                columns = {name: pd.concat([c[name] for _, c in described], ignore_index=True) for name in names}
                slicing = make_slicing(columns, request.bins, request.min_slice_size)
        tasks = []
        for i in range(count):
            part = None
            if slicing is not None:
                end = offsets[i + 1] if i + 1 < count else slicing.rows
                part = Slicing(
                    slicing.columns, slicing.codes[offsets[i] : end], slicing.keys, slicing.bins, slicing.min_size
                )
            tasks.append(
                ComputeTask(
                    spec.name,
                    params,
                    reduction,
                    grad,
                    dtype,
                    keep_rows,
                    shard_of["pred"][i],
                    shard_of["labels"][i] if "labels" in shard_of else None,
                    {name: shard_of[name][i] for name in extra},
                    task_files,
                    shared,
                    index=i,
                    offset=offsets[i],
                    statistics=statistics,
                    slicing=part,
                    worst=request.worst,
                    weight_column=weight_column,
                    grad_dir=grad_dir,
                )
            )
        partials = run_on.map(compute_partition, tasks)
        if grad_dir is not None:
            scale = _scale(partials)
            if scale != 1.0:
                files = [os.path.join(grad_dir, name) for p in partials for name in p.grad_files]
                run_on.map(scale_gradient_file, [(path, scale) for path in files])
        where = run_on.describe()
    finally:
        run_on.close()
    result, collector = merge_compute(
        partials, spec, reduction, {roles.get(k, k): v for k, v in given.items() if v}, slicing
    )
    result.grad_files = [name for p in partials for name in p.grad_files]
    options = RowOptions(slicing, request.worst, None)
    return result, collector, options, {"engine": run_on.name, "where": where, "partitions": count}


@dataclasses.dataclass
class CompareTask:
    """One partition of a ``compare``: each model's shard, the labels' shard, the losses and the row options."""

    models: list[tuple[str, str]]
    """(the model as the command named it, its shard in this partition)."""
    labels: str | None
    """The labels' shard; None when the models are columns of one sharded table (``--label-col``)."""
    losses: list[tuple[str, str, dict[str, Any]]]
    """(column, loss, parameters)."""
    files: dict[str, Any]
    dtype: str
    index: int = 0
    offset: int = 0
    statistics: Any = None
    slicing: Any = None
    worst: int | None = None
    weight_column: str | None = None
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    """model → the name ``--name`` gives it."""
    baseline: str | None = None


def compare_partition(task: CompareTask) -> Any:
    """Read a partition's shards and run every loss on every model: the comparison's ``Evaluation``, unfinished."""
    import torch

    from losscli.engine import comparison
    from losscli.engine.rows import RowOptions
    from losscli.engine.validate import Input
    from losscli.io import rowcolumns, shards
    from losscli.io.inputs import gather_compare_inputs

    torch.set_num_threads(1)
    with contextlib.ExitStack() as stack:
        local_labels = stack.enter_context(shards.local_file(task.labels)) if task.labels is not None else None
        locals_ = [(name, stack.enter_context(shards.local_file(shard)), shard) for name, shard in task.models]
        data = gather_compare_inputs([path for _, path, _ in locals_], local_labels, keep_going=True, **task.files)
        named = {local: shard for _, local, shard in locals_}
        if local_labels is not None:
            named[local_labels] = task.labels
        rename = _model_names(task, locals_, data)
        data.order = [rename.get(m, m) for m in data.order]
        data.models = [(rename.get(m, m), inp) for m, inp in data.models]
        data.failed = {rename.get(m, m): message for m, message in data.failed.items()}
        data.names, data.baseline = dict(task.names), task.baseline
        for _, inp in [*data.models, ("labels", data.labels)]:
            inp.source = named.get(inp.source, inp.source)
        weights = None
        if task.weight_column is not None:
            source = local_labels or locals_[0][1]
            column = rowcolumns.read_row_columns(source, [task.weight_column])[task.weight_column]
            weights = rowcolumns.sample_weights(column, f"{task.labels or task.models[0][1]}:{task.weight_column}")
        specs = [(get_loss(loss), params) for _, loss, params in task.losses]
        options = RowOptions(task.slicing, task.worst, weights)
        evaluation = comparison.start_evaluation(
            data,
            specs,
            [key for key, _, _ in task.losses],
            task.dtype,
            True,
            None,
            task.statistics,
            options,
            task.offset,
        )
        readable = [name for name, _ in data.models]
        for (key, _, params), (spec, _) in zip(task.losses, specs, strict=True):
            evaluation.add_streamed_column(key, spec, params, readable)
        labels = comparison._shared(data.labels, task.dtype).array
        models = {}
        for name, inp in data.models:
            try:
                models[name] = comparison._shared(inp, task.dtype).array
            except DataError as e:
                models[name] = e
        rows = evaluation.stream(data, iter([(0, labels, models)]))
        if weights is not None and len(weights) != rows:
            raise DataError(
                f"--sample-weight {task.weight_column}: {len(weights)} weights for {rows} rows of {task.labels}"
            )
        if evaluation.collector is not None:
            evaluation.collector.finish(rows)
        evaluation.rows = rows
        evaluation.notes = data.notes
        for column in evaluation.columns:  # what goes back is the sums, not the rows
            for cell in column.cells.values():
                cell.inputs = {
                    name: Input(inp.role, np.empty(0), inp.source, inp.columns) for name, inp in cell.inputs.items()
                }
    return evaluation


def _model_names(task: CompareTask, locals_: list[tuple[str, str, str]], data: Any) -> dict[str, str]:
    """Each model of a partition's ``CompareInputs`` under the name the command gave it."""
    if task.labels is None:  # columns of one table: FILE:COLUMN, FILE as the command named it
        ((given, local, _),) = locals_
        return {
            model: f"{given}:{model.split(':', 1)[1]}" if model.startswith(f"{local}:") else model
            for model in data.order
        }
    return {local: given for given, local, _ in locals_}


def merge_comparison(parts: list[Any], gates: Any, slicing: Any, keep_going: bool) -> Any:
    """One comparison of its partitions' evaluations, merged in order: a model that failed in any partition
    fails (the first partition's reason), the others' sums merge, then the values, ranks and gates."""
    from losscli.advice.advisor import MistakeStats
    from losscli.engine.chunked import Run
    from losscli.engine.rows import RowCollector

    merged = parts[0]
    result = merged.result
    for part in parts[1:]:
        for model, errors in part.result.errors.items():
            for key, message in errors.items():
                result.errors.setdefault(model, {}).setdefault(key, message)
    for index, column in enumerate(merged.columns):
        for name, cell in column.cells.items():
            cells = [part.columns[index].cells.get(name) for part in parts]
            if any(c is None or c.failed for c in cells) or column.key in result.errors.get(name, {}):
                cell.failed = True
                continue
            cell.run = Run.merged([c.run for c in cells])
            cell.stats = MistakeStats.merged([c.stats for c in cells])
            cell.messages = list(dict.fromkeys(m for c in cells for m in c.messages))
    if merged.collector is not None:
        merged.collector = RowCollector.merged([part.collector for part in parts], slicing)
    merged.options = dataclasses.replace(merged.options, weights=None)  # each partition weighed its own rows
    if not keep_going and result.errors:
        model, errors = next(iter(result.errors.items()))
        key, message = next(iter(errors.items()))
        raise DataError(f"{model} under {key}: {message}")
    rows = sum(part.rows for part in parts)
    merged.judge_streamed()
    merged._finish(rows)
    result.warnings[:0] = list(dict.fromkeys(note for part in parts for note in part.notes))
    return merged.conclude(gates)


def compare_sharded(
    models: list[str],
    labels: str | None,
    losses: list[tuple[str, str, dict[str, Any]]],
    files: dict[str, Any],
    *,
    dtype: str,
    statistics: Any,
    gates: Any,
    request: Any,
    keep_going: bool,
    engine: str | None,
    scheduler: str | None,
    timeout: float,
    names: dict[str, str] | None = None,
    baseline: str | None = None,
) -> Any:
    """``compare`` over sharded inputs: a task per partition (every model's shard and the labels'), merged."""
    import pandas as pd

    from losscli.engine import executors
    from losscli.engine.rows import Slicing, make_slicing
    from losscli.io import shards

    if request.sample_weight is not None and os.path.exists(request.sample_weight):
        raise DataError("--sample-weight: on shards, give the weights as a column of the label shards (COL)")
    if request.slices is not None:
        raise DataError("--slices: on shards, give the slice columns as columns of the label shards (--by COL)")
    expanded = {model: shards.expand(model) if shards.is_sharded(model) else [model] for model in models}
    if labels is not None:
        expanded[labels] = shards.expand(labels) if shards.is_sharded(labels) else [labels]
    count = shards.pair_shards(expanded)
    label_shards = expanded.get(labels) if labels is not None else None
    weight_column = request.sample_weight
    task_files = {**files, "row_columns": [*request.by, *([weight_column] if weight_column else [])]}
    run_on = executors.executor(engine or "dask", scheduler, timeout)
    try:
        offsets, slicing = [0] * count, None
        if request.slicing or (statistics is not None and statistics.bootstrap):
            described = run_on.map(
                describe_partition,
                [
                    Describe(
                        label_shards[i] if label_shards else None,
                        expanded[models[0]][i],
                        request.by,
                        request.by_class,
                        files,
                    )
                    for i in range(count)
                ],
            )
            offsets = plan_offsets([rows for rows, _ in described])
            if request.slicing:
                columns = {n: pd.concat([c[n] for _, c in described], ignore_index=True) for n in described[0][1]}
                slicing = make_slicing(columns, request.bins, request.min_slice_size)
        tasks = []
        for i in range(count):
            part = None
            if slicing is not None:
                end = offsets[i + 1] if i + 1 < count else slicing.rows
                part = Slicing(
                    slicing.columns, slicing.codes[offsets[i] : end], slicing.keys, slicing.bins, slicing.min_size
                )
            tasks.append(
                CompareTask(
                    [(model, expanded[model][i]) for model in models],
                    label_shards[i] if label_shards else None,
                    losses,
                    task_files,
                    dtype,
                    index=i,
                    offset=offsets[i],
                    statistics=statistics,
                    slicing=part,
                    worst=request.worst,
                    weight_column=weight_column,
                    names=dict(names or {}),
                    baseline=baseline,
                )
            )
        parts = run_on.map(compare_partition, tasks)
        where = run_on.describe()
    finally:
        run_on.close()
    for part in parts:
        part.result.labels = labels if labels is not None else models[0]
    result = merge_comparison(parts, gates, slicing, keep_going)
    result.engine = {"engine": run_on.name, "where": where, "partitions": count}
    return result


@dataclasses.dataclass
class SampleTask:
    """One partition of a ``recommend``: its labels' (and predictions') shard, of which to keep ``cap`` rows."""

    labels: str
    pred: str | None
    files: dict[str, Any]
    cap: int


def sample_partition(task: SampleTask) -> tuple[int, Any, Any, list[str]]:
    """A partition's rows, and every k-th of its label (and prediction) rows (``Input``s), at most ``cap``."""
    from losscli.io import shards
    from losscli.io.inputs import gather_advice_inputs

    with contextlib.ExitStack() as stack:
        labels = stack.enter_context(shards.local_file(task.labels))
        pred = stack.enter_context(shards.local_file(task.pred)) if task.pred is not None else None
        label_input, pred_input, notes = gather_advice_inputs(labels, pred, **task.files)
        rows = len(label_input.array) if label_input.array.ndim else 1
        step = max(1, -(-rows // task.cap))
        kept = [
            None if inp is None else dataclasses.replace(inp, array=np.array(inp.array[::step]), source=path)
            for inp, path in ((label_input, task.labels), (pred_input, task.pred))
        ]
    return rows, kept[0], kept[1], [note.replace(labels, task.labels) for note in notes]


SAMPLE_ROWS = 1_000_000
"""``recommend`` on shards reads at most this many rows of them, evenly spread (every k-th of each shard)."""


def sample_sharded(
    labels: str, pred: str | None, files: dict[str, Any], *, engine: str | None, scheduler: str | None, timeout: float
) -> tuple[Any, Any, list[str], int, str]:
    """The label (and prediction) rows ``recommend`` reads of sharded inputs, as ``Input``s named as given:
    (labels, predictions, notes, the rows in all, the executor's description)."""
    from losscli.engine import executors
    from losscli.io import shards

    label_shards = shards.expand(labels) if shards.is_sharded(labels) else [labels]
    roles = {"labels": label_shards}
    if pred is not None:
        roles["pred"] = shards.expand(pred) if shards.is_sharded(pred) else [pred]
    count = shards.pair_shards(roles)
    cap = max(1, SAMPLE_ROWS // count)
    run_on = executors.executor(engine or "dask", scheduler, timeout)
    try:
        parts = run_on.map(
            sample_partition,
            [SampleTask(label_shards[i], roles["pred"][i] if pred else None, files, cap) for i in range(count)],
        )
        where = run_on.describe()
    finally:
        run_on.close()
    rows = sum(p[0] for p in parts)
    label_input = dataclasses.replace(parts[0][1], array=np.concatenate([p[1].array for p in parts]), source=labels)
    pred_input = None
    if pred is not None:
        pred_input = dataclasses.replace(parts[0][2], array=np.concatenate([p[2].array for p in parts]), source=pred)
    notes = list(dict.fromkeys(note for p in parts for note in p[3]))
    return label_input, pred_input, notes, rows, f"{run_on.name}: {where}, {count} partitions"
