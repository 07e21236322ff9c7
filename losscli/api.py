"""losscli's Python API: the functions ``import losscli`` gives, and that every command of the CLI calls.

Each public function takes predictions and labels as numpy arrays, pandas
Series or DataFrames, torch tensors (detached and moved to the CPU), nested
lists, or paths of any file the CLI reads; runs the same checks; and returns a
result record (``losscli.engine.results``) whose ``to_dict()`` is the CLI's
``-f json`` document. Problems are ``LossCliError`` exceptions with the CLI's
messages. The ``run_*`` functions are the same computations with the CLI's
file options (columns, ``.npz`` keys, header, chunks), which ``losscli.cli``
translates its options into.

Importing this module loads neither torch nor pandas: torch loads when a loss
is computed, pandas only when a result is turned into a DataFrame.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, BinaryIO

from losscli.errors import LossCliWarning, UsageError
from losscli.registry import FAMILIES, LossSpec, get_loss
from losscli.registry import list_losses as _registered

if TYPE_CHECKING:  # the layers below load when a function needs them: `list` and `info` need none
    from losscli.advice import advisor
    from losscli.engine.results import Comparison, ComputeResult, CurveSet
    from losscli.engine.rows import RowRequest

Data = Any
"""What the API takes for an input: a path (``str``, ``os.PathLike``), or an array-like held in memory."""

__all__ = ["compare", "compute", "curve", "info", "list_losses", "recommend", "report"]

GRADIENT_SUFFIXES = (".npy", ".npz", ".csv")
"""The files ``grad_out`` writes."""

MEMORY_BUDGET = 1 << 30
"""Input files larger than this together are read a chunk at a time, for losses that allow it."""


# --- compute ---------------------------------------------------------------------------------------------


def compute(
    loss: str,
    pred: Data,
    labels: Data | None = None,
    *,
    reduction: str | None = None,
    grad: bool = True,
    dtype: str = "float32",
    inputs: Mapping[str, Data] | None = None,
    grad_out: str | os.PathLike | None = None,
    ci: float | None = None,
    ci_method: str | None = None,
    resamples: int | None = None,
    seed: int | None = None,
    fail_above: float | None = None,
    gate_on: str | None = None,
    by: str | Sequence[str] | None = None,
    slices: Data | None = None,
    bins: int = 5,
    min_slice_size: int = 1,
    by_class: bool = False,
    worst: int | None = None,
    sample_weight: Data | str | None = None,
    **params: Any,
) -> ComputeResult:
    """A loss's value and its gradient, computed by the loss's torch implementation with autograd.

    Args:
      loss: a loss name or alias (``"mse"``, ``"ce"``, ``"BCEWithLogitsLoss"``; ``losscli.list_losses()``).
      pred: the predictions, filling the loss's first differentiable argument (``input``, ``input1``,
        ``anchor``, ``log_probs``): a numpy array, pandas Series or DataFrame, torch tensor, nested list,
        or a path (``.csv .tsv .txt .npy .npz .parquet``).
      labels: the target, in any of the same forms; None for losses without one (the triplet losses).
      reduction: ``"mean"``, ``"sum"``, ``"none"`` (or ``"batchmean"`` for ``kl_div``); default: the
        loss's torch default.
      grad: whether to compute gradients.
      dtype: ``"float32"`` (torch's default) or ``"float64"``.
      inputs: further arguments by torch's name, e.g. ``{"var": v}`` for ``gaussian_nll``.
      grad_out: a ``.npy``, ``.npz`` or ``.csv`` path to write the whole gradient to (atomically).
      ci: a confidence level (``0.95``): ``.ci`` is then the value's interval (``--ci``).
      ci_method: ``"t"`` (default) or ``"bootstrap"``; ``resamples`` (1000) and ``seed`` (0) are the
        bootstrap's.
      fail_above: a bound: ``.passed`` is False when the value (with ``ci``: its whole interval) is above it,
        and ``.gates`` says so (``--fail-above``; ``gate_on`` ``"point"`` or ``"ci"`` as ``--gate-on``).
      by: column(s) to slice the rows by (crossed): of ``slices`` (a DataFrame or a path, one row per
        sample), else of ``labels`` (a DataFrame or a path); ``.slices`` then holds the value per slice
        (``--by``). ``bins``: quantile bins of a numeric column of many values; ``min_slice_size``: smaller
        slices are left out; ``by_class``: slice by the class label itself.
      worst: ``.worst`` holds this many rows of largest loss, with their predictions and labels (``--worst``).
      sample_weight: a weight per row (array-like), a column of ``labels``, or a path: the loss becomes
        Σ wᵢℓᵢ / Σ wᵢ, as scikit-learn's ``sample_weight`` (``--sample-weight``).
      **params: the loss's parameters, e.g. ``delta=2.0`` for ``huber``, ``weight=[1, 2, 0.5]``.

    Returns:
      A ``ComputeResult``: ``.value`` (the reduced loss, None for ``reduction="none"``), ``.values``
      (per-element losses for ``"none"``), ``.grad`` (d value / d pred as a numpy array), ``.gradients``
      (every differentiable argument's ``Gradient``), ``.warnings``, ``.inputs``, and ``.to_dict()``,
      the CLI's ``compute -f json`` document.

    Raises:
      UsageError: an unknown loss, parameter or reduction (the CLI's exit 2).
      DataError: inputs the loss cannot take (the CLI's exit 3), with the CLI's message.
    """
    from losscli.io.memory import in_memory_source

    sources = {"pred": pred, "labels": labels, **dict(inputs or {})}
    names = {role: _memory_name(role, data) for role, data in sources.items()}
    preloaded = {names[role]: in_memory_source(names[role], data) for role, data in sources.items() if names[role]}
    paths = {role: names[role] or (os.fspath(data) if data is not None else None) for role, data in sources.items()}
    return _warned(
        run_compute(
            loss,
            paths["pred"],
            paths["labels"],
            param_items=_param_items(params),
            input_items=[f"{role}={path}" for role, path in paths.items() if role not in ("pred", "labels")],
            reduction=reduction,
            grad=grad,
            dtype=dtype,
            grad_out=grad_out,
            preloaded=preloaded,
            ci=ci,
            ci_method=ci_method,
            resamples=resamples,
            seed=seed,
            fail_above=[] if fail_above is None else [f"{get_loss(loss).name}={fail_above!r}"],
            gate_on=gate_on,
            row_request=_row_request(labels, by, slices, bins, min_slice_size, by_class, worst, sample_weight),
        )
    )


def _row_request(
    labels: Data | None,
    by: str | Sequence[str] | None,
    slices: Data | None,
    bins: int,
    min_slice_size: int,
    by_class: bool,
    worst: int | None,
    sample_weight: Data | str | None,
) -> RowRequest:
    """The Python API's slicing, worst-row and weight arguments as the CLI's ``RowRequest``: columns of a
    DataFrame held in memory are read from it here, paths are left to the readers."""
    from losscli.engine.rows import RowRequest

    names = (by,) if isinstance(by, str) else tuple(by or ())
    request = RowRequest(names, None, bins, min_slice_size, by_class, worst)
    in_labels: list[str] = []
    if names:
        if slices is not None and _is_path(slices):
            request.slices = os.fspath(slices)
        elif slices is not None or (labels is not None and not _is_path(labels)):
            from losscli.io.rowcolumns import frame_columns

            table = slices if slices is not None else labels
            request.columns = frame_columns("<slices>" if slices is not None else "<labels>", table, names)
            in_labels += list(names) if slices is None else []
    if sample_weight is not None:
        if isinstance(sample_weight, str) and labels is not None and not _is_path(labels):
            from losscli.io.rowcolumns import frame_columns

            request.weights = frame_columns("<labels>", labels, [sample_weight], "sample_weight")[sample_weight]
            request.sample_weight = f"<labels>:{sample_weight}"
            in_labels.append(sample_weight)
        elif _is_path(sample_weight):
            request.sample_weight = os.fspath(sample_weight)
        else:
            request.weights, request.sample_weight = sample_weight, "<sample_weight>"
    request.in_labels = tuple(in_labels)
    return request


def run_compute(
    loss: str,
    pred: str,
    labels: str | None = None,
    *,
    param_items: Sequence[str] = (),
    input_items: Sequence[str] = (),
    reduction: str | None = None,
    grad: bool = True,
    dtype: str = "float32",
    grad_out: str | os.PathLike | None = None,
    pred_cols: Sequence[str] | None = None,
    label_cols: Sequence[str] | None = None,
    pred_key: str | None = None,
    label_key: str | None = None,
    header: bool | None = None,
    chunk_size: int | None = None,
    keep_rows: int | None = None,
    progress: Callable[[str], contextlib.AbstractContextManager[Callable[[int], None]]] | None = None,
    preloaded: Mapping[str, Any] | None = None,
    stdin: BinaryIO | None = None,
    ci: float | None = None,
    ci_method: str | None = None,
    resamples: int | None = None,
    seed: int | None = None,
    fail_above: Sequence[str] = (),
    gate_on: str | None = None,
    row_request: RowRequest | None = None,
    engine: str | None = None,
    scheduler: str | None = None,
    scheduler_timeout: float = 10.0,
) -> ComputeResult:
    """``compute`` on files named as the CLI names them: ``KEY=VALUE`` parameter and ``NAME=PATH`` input
    items, column and key options, ``header``, and ``chunk_size`` (stream the files ``chunk_size`` rows at a
    time; automatic past ``MEMORY_BUDGET`` for losses whose samples are independent). ``keep_rows`` keeps
    only the first rows of the gradient (what a table shows); ``progress(description)`` gives a context whose
    value hears the rows read so far, in streamed runs. ``row_request`` asks for slices, the worst rows and sample
    weights (``RowRequest``). Sharded inputs (a glob, a directory, a URL, a list) run a task per partition,
    here or on Dask (``engine``, ``scheduler``: ``engine.partitions``). Usage errors are raised before any
    file is read."""
    from losscli.engine.rows import RowRequest

    row_request = row_request or RowRequest()
    from losscli.engine import rows as row_analysis
    from losscli.engine import significance
    from losscli.engine.params import check_reduction, parse_inputs, parse_params
    from losscli.io.inputs import gather_inputs, stream_inputs
    from losscli.io.outfiles import check_output

    spec = get_loss(loss)
    params = parse_params(spec, list(param_items))
    chosen_reduction = check_reduction(spec, reduction)
    if dtype not in ("float32", "float64"):
        raise UsageError(f"dtype {dtype!r}: choose float32 or float64")
    statistics = significance.statistics_options(ci, ci_method, resamples, seed)
    gates = significance.gate_options(fail_above, (), gate_on, statistics)
    for gated, _ in gates.above:
        significance.gate_columns(gated, [spec.name], {spec.name: spec.name}, "--fail-above")
    if gates and chosen_reduction == "none":
        raise UsageError("--fail-above gates the reduced value: use --reduction mean or sum (not none)")
    problem = significance.interval_problem(spec, chosen_reduction, statistics) if statistics else None
    problem = problem or row_analysis.row_analysis_problem(
        spec,
        chosen_reduction,
        slices=row_request.slicing,
        worst=bool(row_request.worst),
        weights=row_request.sample_weight is not None or row_request.weights is not None,
    )
    if problem:
        raise UsageError(problem)
    row_request.check()
    extra = parse_inputs(spec, list(input_items))
    from losscli.io.shards import is_sharded

    sharded = engine is not None or any(is_sharded(p) for p in (pred, labels, *extra.values()))
    if sharded and (preloaded or stdin is not None or "-" in (pred, labels)):
        raise UsageError("sharded inputs and --engine read files: give every input as a path, not - or an array")
    grad_dir = None
    if sharded and grad_out is not None and (os.fspath(grad_out).endswith("/") or os.path.isdir(grad_out)):
        grad_dir, grad_out = os.fspath(grad_out), None
        if not grad:
            raise UsageError("--grad-out needs gradients: drop --no-grad")
    grad_path = None
    if grad_out is not None:  # refused now rather than after the whole computation
        named = {"PRED": pred, "LABELS": labels, **{f"--input {name}": path for name, path in extra.items()}}
        named = {k: v for k, v in named.items() if not (preloaded and v in preloaded)}
        grad_path = check_output("--grad-out", os.fspath(grad_out), GRADIENT_SUFFIXES, "grad.npy", named)
        if not grad:
            raise UsageError("--grad-out needs gradients: drop --no-grad")
    labels_file = labels if labels is not None or spec.target_role is None else pred
    if sharded:
        return _compute_sharded(
            spec,
            pred,
            labels,
            extra,
            params,
            chosen_reduction,
            statistics,
            gates,
            row_request,
            grad_path,
            grad_dir,
            dict(
                pred_cols=pred_cols,
                label_cols=label_cols,
                pred_key=pred_key,
                label_key=label_key,
                dtype=dtype,
                header=header,
            ),
            grad=grad,
            dtype=dtype,
            keep_rows=keep_rows,
            engine=engine,
            scheduler=scheduler,
            timeout=scheduler_timeout,
        )
    described = row_request.read(labels_file, header)
    files = dict(
        extra=extra,
        pred_cols=pred_cols,
        label_cols=label_cols,
        pred_key=pred_key,
        label_key=label_key,
        dtype=dtype,
        header=header,
        row_columns=described.in_labels,
    )
    paths = [p for p in (pred, labels, *extra.values()) if not (preloaded and p in preloaded)]
    streamed = spec.decomposition is not None and not preloaded and (chunk_size is not None or _exceeds_budget(paths))
    if streamed:
        import_engine()
        from losscli.engine.chunked import DEFAULT_CHUNK_ROWS

        chunks, notes = stream_inputs(
            spec, pred, labels, chunk_rows=chunk_size or DEFAULT_CHUNK_ROWS, stdin=stdin, **files
        )
        data = None
    else:
        if preloaded or stdin is not None:
            import_engine()
            data, notes = gather_inputs(spec, pred, labels, preloaded=dict(preloaded or {}), stdin=stdin, **files)
        else:
            data, notes = _read_while_importing(
                gather_inputs, spec, pred, labels, paths, statistics=statistics is not None, **files
            )
    target = spec.target_role.name if spec.target_role is not None else None
    options = described.options(
        data[target].array if data is not None and target else None,
        labels_file if described.by_class else None,
        label_cols,
        label_key,
        header,
    )
    collector = None
    if spec.decomposition is not None and (statistics is not None or options.slicing is not None or options.worst):
        collector = row_analysis.RowCollector(statistics, options.slicing, options.worst)
        collector.column(spec.name, [MODEL], chosen_reduction, (spec.pred_role.name, target))
    hear = collector.single(spec.name, MODEL) if collector is not None else None
    if streamed:
        from losscli.engine.chunked import stream

        with (progress or _no_progress)(f"{spec.name}: rows read") as heard:
            result = stream(
                spec,
                chunks,
                params,
                chosen_reduction,
                grad=grad,
                dtype=dtype,
                keep_rows=keep_rows,
                progress=heard,
                rows=hear,
                weights=options.weights,
            )
    else:
        from losscli.engine.chunked import evaluate

        result = evaluate(
            spec,
            data,
            params,
            chosen_reduction,
            grad=grad,
            dtype=dtype,
            chunk_rows=chunk_size,
            keep_rows=keep_rows,
            rows=hear,
            weights=options.weights,
        )
    result.warnings[:0] = notes
    if options.weights is not None:
        row_analysis.check_rows_of_column(described.weight_source, options.weights, result.n_samples, "--sample-weight")
        result.sample_weight = described.weight_source
    return _finish_compute(
        spec, result, collector, options, statistics, gates, grad_path, data, params, chosen_reduction, dtype
    )


def _compute_sharded(
    spec: LossSpec,
    pred: str,
    labels: str | None,
    extra: dict[str, str],
    params: dict[str, Any],
    reduction: str,
    statistics: Any,
    gates: Any,
    row_request: RowRequest,
    grad_path: Any,
    grad_dir: str | None,
    files: dict[str, Any],
    **options: Any,
) -> ComputeResult:
    """``run_compute`` over sharded inputs (``engine.partitions``); ``--grad-out DIR/`` gets a file per partition,
    written into a directory of its own beside DIR and renamed DIR once every partition has written."""
    import shutil
    import tempfile

    import_engine(statistics is not None)
    from losscli.engine import partitions

    staging = None
    if grad_dir is not None:
        target = os.path.abspath(grad_dir.rstrip("/") or "/")
        if os.path.isdir(target) and os.listdir(target):
            raise UsageError(f"--grad-out {grad_dir}: the directory holds files; name an empty or new directory")
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            raise UsageError(f"--grad-out {grad_dir}: the directory {parent} does not exist; create it first")
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", dir=parent)
    try:
        result, collector, row_options, engine = partitions.compute_sharded(
            spec,
            pred,
            labels,
            {**extra},
            {**files, "extra": extra},
            params,
            reduction,
            statistics=statistics,
            request=row_request,
            grad_dir=staging,
            **options,
        )
        if staging is not None:
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(staging, 0o777 & ~mask)  # mkdtemp's directory is its owner's alone
            if os.path.isdir(target):
                os.rmdir(target)
            os.replace(staging, target)
            staging = None
            result.grad_files = [os.path.join(grad_dir, name) for name in result.grad_files]
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    result.engine = engine
    if row_request.sample_weight is not None:
        result.sample_weight = f"{labels if labels is not None else pred}:{row_request.sample_weight}"
    return _finish_compute(
        spec, result, collector, row_options, statistics, gates, grad_path, None, params, reduction, options["dtype"]
    )


def _finish_compute(
    spec: LossSpec,
    result: ComputeResult,
    collector: Any,
    options: Any,
    statistics: Any,
    gates: Any,
    grad_path: Any,
    data: Any,
    params: dict[str, Any],
    chosen_reduction: str,
    dtype: str,
) -> ComputeResult:
    """A computed result's interval, slices, worst rows and gates from its rows' collector, and ``--grad-out``."""
    from losscli.engine import significance

    if collector is not None:
        if not collector.rows:
            raise significance.no_rows(spec.name)
        collector.finish(collector.rows)
    if statistics is not None:
        if collector is not None:
            found = collector.contrast(spec.name, {MODEL: 1.0})
        else:
            replicates = significance.recomputed(spec, data, params, chosen_reduction, dtype, statistics)
            found = significance.recomputed_estimate(result.value, replicates, statistics)
        result.ci, result.statistics = (found.low, found.high), statistics
    if options.slicing is not None:

        def values_of(stratum: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
            found = collector.contrast(spec.name, {MODEL: 1.0}, stratum)
            value = found.value if math.isfinite(found.value) else None
            interval = [found.low, found.high] if math.isfinite(found.low) else None
            return {spec.name: value}, ({spec.name: interval} if statistics is not None else None)

        result.slices, result.slices_left_out = collector.slice_rows(values_of)
        result.slicing = options.slicing
    if options.worst:
        result.worst = collector.worst[spec.name][MODEL].rows()
    if gates:
        result.gates = significance.judge_compute(result, gates)
    if grad_path is not None:
        from losscli.render import write_gradients

        write_gradients(grad_path, result.gradients)
    return result


MODEL = "pred"
"""The one model of ``compute``, as its rows are collected."""


# --- compare ---------------------------------------------------------------------------------------------


def compare(
    preds: Mapping[str, Data] | Sequence[str | os.PathLike],
    labels: Data,
    *,
    losses: Sequence[str] | str | None = None,
    baseline: str | None = None,
    dtype: str = "float32",
    fail_fast: bool = True,
    ci: float | None = None,
    ci_method: str | None = None,
    resamples: int | None = None,
    seed: int | None = None,
    fail_above: Mapping[str, float] | None = None,
    fail_if_worse: Mapping[str, float] | Sequence[str] | None = None,
    gate_on: str | None = None,
    by: str | Sequence[str] | None = None,
    slices: Data | None = None,
    bins: int = 5,
    min_slice_size: int = 1,
    by_class: bool = False,
    worst: int | None = None,
    sample_weight: Data | str | None = None,
    _report: str | None = None,
    **params: Any,
) -> Comparison:
    """Several models' predictions against the same labels, under several losses.

    Args:
      preds: a mapping model name → predictions (any form ``compute`` takes), or a list of paths.
      labels: the labels every model is scored against.
      losses: loss names (``["mse", "l1"]``, or ``"mse,l1"``); ``"LOSS:KEY=VALUE"`` gives a loss its own
        parameters, so ``["huber:delta=1", "huber:delta=5"]`` compares two settings. Default: a fixed
        list for the labels' type (e.g. mse, l1, huber for real values), with a reason for each.
      baseline: a model (name or path) every other one is compared against, in percent.
      dtype: ``"float32"`` or ``"float64"``.
      fail_fast: raise the first model's failure (default); False scores the others and records it in
        ``.errors`` (as the CLI does without ``--fail-fast``).
      ci: a confidence level (``0.95``): ``.ci`` holds every value's interval and ``.differences`` every
        model's paired difference against the baseline (else each loss's best model), with its p-values.
      ci_method, resamples, seed: as ``compute``'s.
      fail_above: loss → bound; fail_if_worse: loss → percent (or a list of losses: 0 %): the gates, judged
        in ``.gates`` and ``.passed`` (``--fail-above``, ``--fail-if-worse``; ``gate_on`` as ``--gate-on``).
      by, slices, bins, min_slice_size, by_class, worst, sample_weight: as ``compute``'s; ``.slices`` holds
        every model's values per slice, ``.worst`` each model's worst rows under each loss.
      **params: parameters for every compared loss that takes them (``delta=2``).

    Returns:
      A ``Comparison``: ``.to_frame()`` (a DataFrame, a row per model, a column per loss), ``.best``
      (loss → model), ``.values``, ``.errors``, ``.reasons``, and ``.to_dict()``, the CLI's JSON.
    """
    from losscli.io.memory import in_memory_source

    preloaded: dict[str, Any] = {}
    if isinstance(preds, Mapping):
        models = [str(name) for name in preds]
        for name, data in preds.items():
            if _is_path(data):
                raise UsageError(f"compare: give {name!r} as data, or give every model as a path in a list")
            preloaded[str(name)] = in_memory_source(str(name), data)
    else:
        models = [os.fspath(p) for p in preds]
    label_name = _memory_name("labels", labels)
    if label_name:
        preloaded[label_name] = in_memory_source(label_name, labels)
    run = run_compare if _report is None else functools.partial(run_report, out=_report)
    return _warned(
        run(
            models,
            label_name or os.fspath(labels),
            losses=[losses] if isinstance(losses, str) else list(losses or []),
            param_items=_param_items(params),
            baseline=baseline,
            dtype=dtype,
            fail_fast=fail_fast,
            preloaded=preloaded,
            ci=ci,
            ci_method=ci_method,
            resamples=resamples,
            seed=seed,
            fail_above=[f"{loss}={bound!r}" for loss, bound in (fail_above or {}).items()],
            fail_if_worse=_worse_items(fail_if_worse),
            gate_on=gate_on,
            row_request=_row_request(labels, by, slices, bins, min_slice_size, by_class, worst, sample_weight),
        )
    )


def report(
    preds: Mapping[str, Data] | Sequence[str | os.PathLike],
    labels: Data,
    out: str | os.PathLike,
    **options: Any,
) -> Comparison:
    """``compare``, and a self-contained HTML report of it written to ``out`` (``losscli report``).

    Args:
      preds, labels: as ``compare``'s.
      out: the ``.html`` file to write (atomically: whole, or not at all).
      **options: every keyword ``compare`` takes (``losses``, ``ci``, ``by``, ``worst``, …).

    Returns:
      The ``Comparison`` the report shows; ``.report`` is the path written.
    """
    return compare(preds, labels, _report=os.fspath(out), **options)


def _worse_items(worse: Mapping[str, float] | Sequence[str] | None) -> list[str]:
    if isinstance(worse, Mapping):
        return [f"{loss}={pct!r}" for loss, pct in worse.items()]
    return [worse] if isinstance(worse, str) else list(worse or [])


def run_compare(
    preds: Sequence[str],
    labels: str | None,
    *,
    losses: Sequence[str] = (),
    param_items: Sequence[str] = (),
    names: Sequence[tuple[str, str]] = (),
    baseline: str | None = None,
    sort: str | None = None,
    dtype: str = "float32",
    fail_fast: bool = False,
    pred_cols: Sequence[str] | None = None,
    label_cols: Sequence[str] | None = None,
    pred_key: str | None = None,
    label_key: str | None = None,
    header: bool | None = None,
    preloaded: Mapping[str, Any] | None = None,
    ci: float | None = None,
    ci_method: str | None = None,
    resamples: int | None = None,
    seed: int | None = None,
    fail_above: Sequence[str] = (),
    fail_if_worse: Sequence[str] = (),
    gate_on: str | None = None,
    chunk_size: int | None = None,
    row_request: RowRequest | None = None,
    engine: str | None = None,
    scheduler: str | None = None,
    scheduler_timeout: float = 10.0,
) -> Comparison:
    """``compare`` with the CLI's options: ``-l`` items, ``-p`` items, ``--name`` pairs, ``--sort``, file
    options, ``--ci`` and its method, the gates, and ``chunk_size`` (read the files ``chunk_size`` rows at a
    time: losses named with ``-l`` only, as the default ones are chosen from all the rows). Without
    ``fail_fast`` a model that fails is recorded in ``.errors`` and the others are scored. ``row_request`` asks
    for slices, the worst rows and sample weights (``RowRequest``)."""
    from losscli.engine import rows as row_analysis
    from losscli.engine import significance
    from losscli.io.inputs import gather_compare_inputs

    row_request = row_request or row_analysis.RowRequest()
    if not preds and not names:
        raise UsageError("name the models' prediction files: PRED... or --name NAME=PATH")
    statistics = significance.statistics_options(ci, ci_method, resamples, seed)
    gates = significance.gate_options(fail_above, fail_if_worse, gate_on, statistics)
    chosen = loss_columns(losses)
    row_request.check()
    from losscli.io.shards import is_sharded

    if engine is not None or any(is_sharded(p) for p in [*preds, *(p for _, p in names), labels] if p):
        return _compare_sharded(
            list(preds),
            labels,
            chosen,
            list(param_items),
            names,
            baseline,
            sort,
            statistics,
            gates,
            row_request,
            dict(label_cols=label_cols, pred_cols=pred_cols, label_key=label_key, pred_key=pred_key, header=header),
            dtype=dtype,
            keep_going=not fail_fast,
            engine=engine,
            scheduler=scheduler,
            timeout=scheduler_timeout,
            refused=preloaded or chunk_size,
        )
    labels_file = labels if labels is not None else (preds[0] if preds else None)
    described = row_request.read(labels_file if not (preloaded and labels_file in preloaded) else None, header)
    files = dict(
        label_cols=label_cols,
        pred_cols=pred_cols,
        label_key=label_key,
        pred_key=pred_key,
        baseline=baseline,
        header=header,
        names=names,
        keep_going=not fail_fast,
        row_columns=described.in_labels,
    )
    chunks = None
    if chunk_size is not None:
        from losscli.io.inputs import stream_compare_inputs

        if not chosen:
            raise UsageError(
                "compare --chunk-size needs the losses named with -l: the default ones (and huber's delta) are "
                "chosen from all the rows at once"
            )
        if preloaded:
            raise UsageError("chunk_size streams files: give the models and labels as paths")
        import_engine(statistics is not None)
        data, chunks = stream_compare_inputs(list(preds), labels, chunk_rows=chunk_size, dtype=dtype, **files)
    else:
        with _in_background(  # read the files while torch imports
            gather_compare_inputs, list(preds), labels, preloaded=preloaded, **files
        ) as pending:
            import_engine(statistics is not None)
            data = pending.result()
    from losscli.engine import comparison

    reasons: dict[str, str] = {}
    if chosen:
        chosen_losses, columns = _named_losses(chosen, param_items)
    else:
        chosen_losses, reasons = comparison.default_losses(data.labels, data.models, list(param_items))
        columns = [spec.name for spec, _ in chosen_losses]
    sort_column = _check_columns(
        chosen_losses, columns, sort, gates, statistics, row_request, described.weights is not None
    )
    options = described.options(
        data.labels.array if chunks is None else None, labels_file, label_cols, label_key, header
    )
    result = comparison.compare(
        data,
        chosen_losses,
        columns=columns,
        dtype=dtype,
        keep_going=not fail_fast,
        reasons=reasons,
        statistics=statistics,
        gates=gates,
        chunks=chunks,
        rows=options,
    )
    result.sample_weight = described.weight_source
    result.warnings[:0] = data.notes
    result.sort = sort_column
    result.unreadable = list(data.failed)
    return result


def _named_losses(
    chosen: list[tuple[str, str, str | None]], param_items: Sequence[str]
) -> tuple[list[tuple[LossSpec, dict[str, Any]]], list[str]]:
    """The losses ``-l`` named, each with its parameters (``-p`` items, then its own ``:KEY=VALUE``), and
    their columns."""
    from losscli.engine import comparison
    from losscli.engine.params import parse_params

    specs = [get_loss(canonical) for _, canonical, _ in chosen]
    per_loss = comparison.split_params(list({s.name: s for s in specs}.values()), list(param_items))
    losses = [
        (spec, {**per_loss.get(spec.name, {}), **parse_params(spec, settings.split(":") if settings else [])})
        for spec, (_, _, settings) in zip(specs, chosen, strict=True)
    ]
    return losses, [column for column, _, _ in chosen]


def _check_columns(
    losses: list[tuple[LossSpec, dict[str, Any]]],
    columns: list[str],
    sort: str | None,
    gates: Any,
    statistics: Any,
    row_request: RowRequest,
    weighted: bool,
) -> str | None:
    """Usage errors of the compared columns (``--sort``, the gates, intervals and row options they cannot
    take); the column ``--sort`` names."""
    from losscli.engine import rows as row_analysis
    from losscli.engine import significance

    loss_names = {column: spec.name for column, (spec, _) in zip(columns, losses, strict=True)}
    sort_column = _sort_column(sort, columns, loss_names) if sort else None
    for items, option in ((gates.above, "--fail-above"), (gates.worse, "--fail-if-worse")):
        for gated, _ in items:
            significance.gate_columns(gated, columns, loss_names, option)
    for column, (spec, _) in zip(columns, losses, strict=True):
        problem = significance.interval_problem(spec, spec.default_reduction, statistics) if statistics else None
        problem = problem or row_analysis.row_analysis_problem(
            spec,
            spec.default_reduction,
            slices=row_request.slicing,
            worst=bool(row_request.worst),
            weights=weighted,
        )
        if problem:
            raise UsageError(f"{column}: {problem}")
    return sort_column


def _compare_sharded(
    preds: list[str],
    labels: str | None,
    chosen: list[tuple[str, str, str | None]],
    param_items: list[str],
    names: Sequence[tuple[str, str]],
    baseline: str | None,
    sort: str | None,
    statistics: Any,
    gates: Any,
    row_request: RowRequest,
    files: dict[str, Any],
    *,
    refused: Any,
    **options: Any,
) -> Comparison:
    """``run_compare`` over sharded inputs (``engine.partitions``): the losses named with ``-l``."""
    if refused:
        raise UsageError("sharded inputs and --engine read files a partition at a time: drop --chunk-size")
    if not chosen:
        raise UsageError(
            "compare on sharded inputs needs the losses named with -l: the default ones (and huber's delta) are "
            "chosen from all the rows at once"
        )
    losses, columns = _named_losses(chosen, param_items)
    sort_column = _check_columns(
        losses, columns, sort, gates, statistics, row_request, row_request.sample_weight is not None
    )
    import_engine(statistics is not None)
    from losscli.engine import partitions

    models = list(dict.fromkeys([*preds, *(path for _, path in names)]))
    named = {path: name for name, path in names}
    by_name = {name: path for name, path in names}
    base = by_name.get(baseline, baseline) if baseline is not None else None
    if base is not None and base not in models:
        models.insert(0, base)
    result = partitions.compare_sharded(
        models,
        labels,
        [(column, spec.name, params) for column, (spec, params) in zip(columns, losses, strict=True)],
        files,
        statistics=statistics,
        gates=gates,
        request=row_request,
        names=named,
        baseline=base,
        **options,
    )
    result.sort = sort_column
    if row_request.sample_weight is not None:  # a column of the label shards, named as a file's column is
        result.sample_weight = f"{labels if labels is not None else preds[0]}:{row_request.sample_weight}"
    result.unreadable = [m for m in result.models if m in result.errors and len(set(result.errors[m].values())) == 1]
    return result


REPORT_ROWS = 20_000
"""A report plots a sample of at most this many rows of each model (every k-th row: ``rows.RowSample``)."""

REPORT_WORST = 10
"""The worst rows a report lists without ``--worst``."""


def run_report(preds: Sequence[str], labels: str | None, *, out: str | os.PathLike, **options: Any) -> Comparison:
    """``run_compare`` with every row's loss sampled, then the HTML report of it written to ``out`` (checked
    before anything is read); ``.report`` is the path written."""
    from losscli.engine.rows import RowRequest
    from losscli.io.outfiles import check_output

    inputs = {**{f"PRED {i + 1}": p for i, p in enumerate(preds)}, "LABELS": labels}
    path = check_output("--out", os.fspath(out), (".html", ".htm"), "report.html", inputs)
    request = options.pop("row_request", None) or RowRequest()
    request.sample = REPORT_ROWS
    request.worst = request.worst or REPORT_WORST
    result = run_compare(preds, labels, row_request=request, **options)
    from losscli.engine import curves
    from losscli.render.report import write_report

    drawn = [
        curves.draw(get_loss(result.loss_names[column]), None, params=result.params.get(column, {}))
        for column in result.losses
    ]
    write_report(path, result, drawn)
    result.report = str(path)
    return result


def loss_columns(items: Sequence[str] | None) -> list[tuple[str, str, str | None]]:
    """``-l`` items as (column, loss name, inline parameters): ``huber:delta=5`` is huber with delta 5.

    Items are comma separated outside brackets (``-l mse,bce:weight=[1,2]``);
    ``LOSS:KEY=VALUE[:KEY=VALUE…]`` gives a loss its own parameters, so one loss
    can be compared at several settings, each its own column named as typed
    (with the loss's canonical name). An item given twice is one column.
    """
    columns: dict[str, tuple[str, str, str | None]] = {}
    for value in items or []:
        for item in _split_outside_brackets(value):
            name, sep, settings = item.partition(":")
            canonical = get_loss(name.strip()).name
            settings = settings.strip() if sep else None
            if sep and not settings:
                raise UsageError(f"--loss {item!r}: give KEY=VALUE after ':', e.g. -l huber:delta=5")
            column = canonical if settings is None else f"{canonical}:{settings}"
            columns.setdefault(column, (column, canonical, settings))
    return list(columns.values())


def _split_outside_brackets(text: str) -> list[str]:
    """``"a,b:w=[1,2]"`` → ``["a", "b:w=[1,2]"]``: commas inside brackets or quotes belong to a value."""
    items, depth, start, quote = [], 0, 0, ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def _sort_column(sort: str, columns: list[str], loss_names: dict[str, str]) -> str:
    """The column ``--sort`` names: a column as shown, or a loss compared under one setting only."""
    if sort in columns:
        return sort
    canonical = get_loss(sort.partition(":")[0]).name
    if ":" not in sort:
        matching = [column for column in columns if loss_names[column] == canonical]
        if len(matching) == 1:
            return matching[0]
    raise UsageError(f"--sort {sort}: name one of the compared columns ({', '.join(columns)})")


# --- recommend ---------------------------------------------------------------------------------------------


def recommend(
    labels: Data | None,
    *,
    pred: Data | None = None,
    loss: str | None = None,
    label_type: str | None = None,
    quantiles: Sequence[float] | None = None,
) -> advisor.Advice:
    """What the labels are, which losses suit them (best first), and the classic mistakes to avoid.

    Args:
      labels: the labels (any form ``compute`` takes); None with ``label_type`` alone.
      pred: predictions, to describe (logits, probabilities, …) and check against the top loss.
      loss: check this loss instead of the top one.
      label_type: skip the inspection: one of ``continuous``, ``bounded``, ``binary``, ``multiclass``,
        ``onehot``, ``multilabel``, ``signed``, ``distribution``, ``count``.
      quantiles: you want these quantiles rather than the mean: pinball loss first.

    Returns:
      An ``Advice``: ``.label_type``, ``.confidence``, ``.evidence``, ``.recommendations`` (each with
      ``.loss``, ``.reason``, ``.params``, ``.command`` or ``.fix``), ``.warnings``, ``.to_dict()``.
    """
    from losscli.io.memory import in_memory_source

    preloaded = {}
    label_name, pred_name = _memory_name("labels", labels), _memory_name("pred", pred)
    for name, data in ((label_name, labels), (pred_name, pred)):
        if name:
            preloaded[name] = in_memory_source(name, data)
    return _warned(
        run_recommend(
            label_name or (os.fspath(labels) if labels is not None else None),
            pred_name or (os.fspath(pred) if pred is not None else None),
            loss=loss,
            label_type=label_type,
            quantiles=quantiles,
            preloaded=preloaded,
        )
    )


def run_recommend(
    labels: str | None,
    pred: str | None = None,
    *,
    loss: str | None = None,
    label_type: str | None = None,
    quantiles: Sequence[float] | None = None,
    pred_cols: Sequence[str] | None = None,
    label_cols: Sequence[str] | None = None,
    pred_key: str | None = None,
    label_key: str | None = None,
    header: bool | None = None,
    preloaded: Mapping[str, Any] | None = None,
    engine: str | None = None,
    scheduler: str | None = None,
    scheduler_timeout: float = 10.0,
) -> advisor.Advice:
    """``recommend`` with the CLI's file options; suggested command lines name the files as given. Sharded
    labels (and predictions) are read as an evenly spread sample of at most a million rows
    (``partitions.sample_sharded``)."""
    from losscli.advice import advisor
    from losscli.io.inputs import gather_advice_inputs

    if labels is None and label_type is None:
        raise UsageError("give LABELS to inspect, or --label-type TYPE")
    if label_type is not None and label_type not in advisor.LABEL_TYPES:
        raise UsageError(f"label type {label_type!r}: choose one of {', '.join(advisor.LABEL_TYPES)}")
    if loss is not None:
        get_loss(loss)
    if quantiles is not None and not all(0 < q < 1 and math.isfinite(q) for q in quantiles):
        raise UsageError(f"quantiles {list(quantiles)}: quantiles lie strictly between 0 and 1, e.g. 0.1,0.5,0.9")
    files = dict(label_cols=label_cols, pred_cols=pred_cols, label_key=label_key, pred_key=pred_key, header=header)
    from losscli.io.shards import is_sharded

    sampled = None
    if labels is not None and (engine is not None or is_sharded(labels) or is_sharded(pred)):
        if preloaded:
            raise UsageError("sharded inputs and --engine read files: give them as paths")
        from losscli.engine import partitions

        label_input, pred_input, notes, total, sampled = partitions.sample_sharded(
            labels, pred, files, engine=engine, scheduler=scheduler, timeout=scheduler_timeout
        )
    else:
        label_input, pred_input, notes = gather_advice_inputs(labels, pred, preloaded=preloaded, **files)
    y = label_input.array if label_input is not None else None
    profile = advisor.profile_for_type(label_type) if label_type else advisor.infer_label_type(y)
    if sampled is not None and not label_type:
        profile.evidence["n_samples"] = total
        if len(y) < total:
            profile.evidence["sampled_rows"] = len(y)
        profile.evidence["engine"] = sampled
    file_names = {name: name.upper().strip("<>") for name in preloaded or {}}  # arrays: PRED/LABELS in commands
    arguments = _compute_arguments(
        file_names.get(labels, labels) if labels is not None else None,
        file_names.get(pred, pred) if pred is not None else None,
        label_input,
        label_cols,
        pred_cols,
        label_key,
        pred_key,
    )
    advice = advisor.advise(
        profile,
        labels=label_input,
        pred=pred_input,
        arguments=arguments,
        check_loss=loss,
        quantiles=list(quantiles) if quantiles else None,
    )
    advice.warnings[:0] = notes
    return advice


def _compute_arguments(
    labels: str | None,
    pred: str | None,
    label_input: Any,
    label_cols: Sequence[str] | None,
    pred_cols: Sequence[str] | None,
    label_key: str | None,
    pred_key: str | None,
) -> list[str]:
    """The files and options a ``compute`` command needs to read what ``recommend`` read."""
    if labels is not None and pred is None and pred_cols:  # one file: labels and predictions side by side
        columns = label_input.columns or label_cols
        return [labels, "--label-col", ",".join(columns), "--pred-col", ",".join(pred_cols)]
    arguments = [pred or "PRED", labels or "LABELS"]
    for option, value in (
        ("--pred-col", pred_cols and ",".join(pred_cols)),
        ("--label-col", label_cols and ",".join(label_cols)),
        ("--pred-key", pred_key),
        ("--label-key", label_key),
    ):
        if value:
            arguments += [option, value]
    return arguments


# --- curve, info, list ------------------------------------------------------------------------------------


def curve(
    losses: str | Sequence[str],
    target: float | Sequence[float] | None = None,
    *,
    range: tuple[float, float] | None = None,  # noqa: A002  (the CLI's --range)
    points: int = 200,
    classes: int = 3,
    **params: Any,
) -> CurveSet:
    """Each loss as a function of one prediction for fixed targets, as the source tutorial draws them.

    Args:
      losses: a loss name, a comma-separated list, or a list of names.
      target: the target value(s); default: a typical one per loss (1 for bce).
      range: the x range (lo, hi); default: per loss (e.g. 0..1 for probabilities).
      points: points per curve (2 to 100 000).
      classes: classes for class losses.
      **params: parameters for the losses that take them.

    Returns:
      A ``CurveSet``: ``.curves`` (each with ``.x``, ``.values``, ``.grads``), ``.to_frame()`` (columns
      loss, target, x, value, dloss_dx), ``.plot(ax=None)`` (a matplotlib Axes), ``.to_dict()``.
    """
    names = [losses] if isinstance(losses, str) else list(losses)
    targets = None if target is None else [target] if isinstance(target, (int, float)) else list(target)
    return run_curve(names, targets, span=range, points=points, classes=classes, param_items=_param_items(params))


def run_curve(
    losses: Sequence[str],
    targets: Sequence[float] | None = None,
    *,
    span: tuple[float, float] | None = None,
    points: int = 200,
    classes: int = 3,
    param_items: Sequence[str] = (),
    out: str | os.PathLike | None = None,
    size: tuple[int, int] = (800, 500),
    grad: bool = False,
) -> CurveSet:
    """``curve`` with ``-p`` items (the CLI's), and ``out``: a ``.png`` or ``.svg`` of ``size`` pixels to draw
    the curves in (and, with ``grad``, their derivatives), checked before anything is computed."""
    from losscli.io.loading import split_column_options

    specs = list({spec.name: spec for spec in map(get_loss, split_column_options(losses) or [])}.values())
    if not specs:
        raise UsageError("name at least one loss, e.g. losscli curve bce --target 1,0")
    from losscli.engine.results import CurveSet
    from losscli.io.outfiles import check_output

    image = None if out is None else check_output("--out", os.fspath(out), (".png", ".svg"), "curve.png", inputs={})
    if not 2 <= points <= 100_000:
        raise UsageError(f"points {points}: give 2 to 100000")
    if classes < 2:
        raise UsageError(f"classes {classes}: give at least 2")
    if targets is not None and not all(math.isfinite(t) for t in targets):
        raise UsageError(f"targets {list(targets)}: expected finite numbers")
    if span is not None and not (all(map(math.isfinite, span)) and span[0] < span[1]):
        raise UsageError(f"range {span}: expected LO < HI, e.g. (-3, 3)")
    import_engine()
    from losscli.engine import comparison, curves

    per_loss = comparison.split_params(specs, list(param_items))
    drawn = [
        curves.draw(spec, y, span=span, points=points, params=per_loss.get(spec.name, {}), n_classes=classes)
        for spec in specs
        for y in (targets or [None])
    ]
    if image is not None:
        from losscli.render import write_curve_image

        write_curve_image(image, drawn, grad=grad, size=size)
    return CurveSet(drawn)


def info(name: str) -> LossSpec:
    """One loss's spec: formula, inputs, parameters, when to use it, its source (``.to_dict()``: the CLI's
    ``info -f json``). Raises ``UnknownLossError`` (a ``UsageError``) for an unknown name."""
    return get_loss(name)


def list_losses(family: str | None = None, pattern: str | None = None) -> list[LossSpec]:
    """Every registered loss (``LossSpec``), optionally of one task family (``"regression"``, …) and with a
    name or alias matching the glob ``pattern`` (``"bce*"``)."""
    if family is not None and family not in FAMILIES:
        raise UsageError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    return _registered(family, pattern)


# --- shared -----------------------------------------------------------------------------------------------


def _warned(result: Any) -> Any:
    """``result``, its warnings issued as ``LossCliWarning`` (a notebook shows them; ``warnings`` filters them)."""
    for message in result.warnings:
        warnings.warn(message, LossCliWarning, stacklevel=3)
    return result


def _memory_name(role: str, data: Data | None) -> str | None:
    """The name an input held in memory has in messages (``"<pred>"``); None for a path or no input."""
    return None if data is None or _is_path(data) else f"<{role}>"


def _is_path(data: Data) -> bool:
    return isinstance(data, (str, os.PathLike))


def _param_items(params: Mapping[str, Any]) -> list[str]:
    """Python keyword parameters as the CLI's ``KEY=VALUE`` items (a string is given as typed)."""
    items = []
    for key, value in params.items():
        if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
            value = value.tolist()
        items.append(f"{key}={value if isinstance(value, str) else json.dumps(value)}")
    return items


def _exceeds_budget(paths: list[str | None]) -> bool:
    sizes = [os.path.getsize(p) for p in paths if p not in (None, "-") and os.path.isfile(p)]
    return sum(sizes) > MEMORY_BUDGET


@contextlib.contextmanager
def _no_progress(description: str) -> Iterator[Callable[[int], None]]:
    yield lambda rows: None


def _read_while_importing(
    gather: Any, spec: Any, pred: str, labels: str | None, paths: list, statistics: bool = False, **files: Any
) -> Any:
    """``gather(...)``'s inputs, read while torch (and with ``statistics`` scipy) imports: large text files in
    a forked parser, else a thread."""
    from losscli.io import forkread

    reader = forkread.start(paths, files["dtype"], files["header"])
    if reader is not None:
        with reader:  # stops the parser if anything (a signal) comes first
            import_engine(statistics)
            preloaded = reader()
        return gather(spec, pred, labels, preloaded=preloaded, **files)
    with _in_background(gather, spec, pred, labels, **files) as pending:
        import_engine(statistics)
        return pending.result()


@contextlib.contextmanager
def _in_background(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[Future]:
    """``function(*args, **kwargs)`` running in a thread while the block runs.

    If the block fails (a signal, a failed import) the thread is not waited
    for: it may be reading a standard input that never ends.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        yield pool.submit(function, *args, **kwargs)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def import_engine(statistics: bool = False) -> None:
    """Import ``losscli.engine.core`` and with it torch, with the garbage collector paused; with
    ``statistics``, scipy's special functions (0.2 s) for the intervals too.

    Importing torch creates hundreds of thousands of objects; collecting them
    while they are made costs about a tenth of a second and frees nothing.
    They are frozen (left out of later collections) once imported.
    """
    wanted = ["losscli.engine.core", *(["scipy.special"] if statistics else [])]
    if all(name in sys.modules for name in wanted):
        return
    gc.disable()
    try:
        for name in wanted:
            importlib.import_module(name)
    finally:
        gc.freeze()
        gc.enable()
