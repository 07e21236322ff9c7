"""Exact computation over chunks of rows, for losses whose samples are independent.

A loss that decomposes over the rows of its inputs (``LossSpec.decomposition``)
is the sum of its ``none`` output, divided by a count for ``mean``. Chunk by
chunk, ``compute_chunked`` runs the loss with reduction ``none``, adds the
values and the count up in float64, and differentiates the chunk's sum: that
is the chunk's rows of the gradient of the total sum, which 1 / count turns
into the gradient of the mean at the end. Temporaries live for one chunk; the
gradient is kept whole only when asked, otherwise its first rows and its
statistics (accumulated in float64) are all that is kept.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from losscli.advice.advisor import MistakeStats, judge_mistakes
from losscli.engine import core as engine
from losscli.engine.results import ComputeResult, Gradient
from losscli.engine.rows import RowChunk, RowHook
from losscli.engine.validate import Input, ShapeError, validate
from losscli.errors import DataError, UsageError
from losscli.io.inputs import SharedInput
from losscli.io.spill import Spill
from losscli.registry import LossSpec

DEFAULT_CHUNK_ROWS = 1_000_000


class GradientSum:
    """The gradient of the summed loss with respect to one argument, gathered chunk by chunk.

    Keeps the first ``keep_rows`` rows (all of them for None) and, over every
    row, the sum, the sum of squares, the minimum and the maximum in float64.
    The rows are counted as they come, so a stream of unknown length works too.
    """

    def __init__(
        self,
        keep_rows: int | None,
        shape: tuple[int, ...] | None = None,
        dtype: type = np.float32,
        spill: bool = False,
    ) -> None:
        """``shape``, when known, is the whole gradient's: the kept rows are then filled in place.
        With ``spill``, every row kept goes to a temporary file rather than memory."""
        self.keep_rows = keep_rows
        self.kept: list[np.ndarray] = []
        self.spill = Spill(dtype) if spill and keep_rows is None else None
        if shape:  # one array filled in place, rather than chunks joined at the end
            rows = shape[0] if keep_rows is None else min(keep_rows, shape[0])
            self.kept = [np.empty((rows, *shape[1:]), dtype=dtype)]
        self.filled = bool(shape)
        self.rows = self.size = 0
        self.tail: tuple[int, ...] | None = None
        self.total = self.squares = 0.0
        self.low, self.high = math.inf, -math.inf

    def add(self, grad: torch.Tensor) -> None:
        """Take in the gradient of the next rows (a 0-d gradient is the whole of a scalar argument)."""
        flat = grad.reshape(-1).to(torch.float64)
        if flat.numel():
            self.size += flat.numel()
            self.total += float(flat.sum())
            self.squares += float(flat.dot(flat))
            self.low = float(np.minimum(self.low, float(flat.min())))  # np.minimum keeps a NaN, as torch.min does
            self.high = float(np.maximum(self.high, float(flat.max())))
        values = grad.numpy()
        if grad.ndim == 0:
            self.tail, self.kept = None, [values]
            return
        self.tail = tuple(values.shape[1:])
        room = len(values) if self.keep_rows is None else min(max(self.keep_rows - self.rows, 0), len(values))
        if self.spill is not None:
            self.spill.append(values)
        elif room and self.filled:
            self.kept[0][self.rows : self.rows + room] = values[:room]
        elif room:
            self.kept.append(values[:room].copy())
        self.rows += len(values)

    @classmethod
    def merged(cls, parts: list[GradientSum]) -> GradientSum:
        """The sums of several runs' rows, one after the other (a distributed run's partitions, in order): the
        totals added with ``math.fsum``, the rows kept in order (up to ``keep_rows``)."""
        first = parts[0]
        merged = cls(first.keep_rows, None, first.kept[0].dtype.type if first.kept else np.float32)
        merged.size = sum(p.size for p in parts)
        merged.rows = sum(p.rows for p in parts)
        merged.total = math.fsum(p.total for p in parts)
        merged.squares = math.fsum(p.squares for p in parts)
        merged.low = float(np.min([p.low for p in parts]))  # NaN anywhere stays NaN, as in add
        merged.high = float(np.max([p.high for p in parts]))
        merged.tail = next((p.tail for p in parts if p.tail is not None), None)
        if merged.tail is None:  # a scalar argument: each part holds the whole of it
            merged.kept = first.kept
            return merged
        room = merged.keep_rows
        for part in parts:
            for block in part.kept:
                take = len(block) if room is None else min(room, len(block))
                if take:
                    merged.kept.append(block[:take])
                    room = None if room is None else room - take
        return merged

    def __getstate__(self) -> dict[str, Any]:
        if self.spill is not None:
            raise ValueError("a spilled gradient stays in its process")
        return self.__dict__

    def gradient(self, scale: float) -> Gradient:
        """The gradient of ``scale`` times the sum."""
        if self.tail is None:  # a scalar argument
            kept, shape = self.kept[0] * scale, ()
        elif self.spill is not None:
            kept, shape = self.spill.array(scale), (self.rows, *self.tail)
        else:
            kept = self.kept[0] if len(self.kept) == 1 else np.concatenate(self.kept or [np.empty((0, *self.tail))])
            kept *= scale
            shape = (self.rows, *self.tail)
        if self.size == 0:
            return Gradient(values=kept, shape=shape, norm=0.0, mean=0.0, min=0.0, max=0.0)
        low, high = (self.low * scale, self.high * scale) if scale >= 0 else (self.high * scale, self.low * scale)
        return Gradient(
            values=kept,
            shape=shape,
            norm=math.sqrt(self.squares) * abs(scale),
            mean=self.total * scale / self.size,
            min=low,
            max=high,
        )


class SharedGradient:
    """The gradient with respect to an argument every chunk shares (a ``SharedInput``), gathered chunk by chunk.

    torch broadcasts such an argument over the rows, so its gradient is the sum
    of the chunks' gradients, added up in float64.
    """

    def __init__(self, dtype: type = np.float32) -> None:
        self.dtype = dtype
        self.total: np.ndarray | None = None

    def add(self, grad: torch.Tensor) -> None:
        """Take in the gradient of the next chunk."""
        values = grad.to(torch.float64).numpy()
        self.total = values.copy() if self.total is None else self.total + values

    @classmethod
    def merged(cls, parts: list[SharedGradient]) -> SharedGradient:
        """The gradients of several runs' rows added up (each part's chunks saw the whole argument)."""
        merged = cls(parts[0].dtype)
        totals = [p.total for p in parts if p.total is not None]
        if totals:
            merged.total = np.apply_along_axis(math.fsum, 0, np.stack(totals))  # elementwise, over the parts
        return merged

    def gradient(self, scale: float) -> Gradient:
        """The gradient of ``scale`` times the sum."""
        return engine.summarize_gradient(torch.from_numpy(np.asarray(self.total * scale, dtype=self.dtype)))


def splits(spec: LossSpec, arrays: dict[str, np.ndarray], params: dict[str, Any]) -> bool:
    """Whether the rows of these (validated) inputs are samples the loss treats apart."""
    pred = arrays[spec.pred_role.name]
    if spec.decomposition is None or pred.ndim == 0:
        return False
    if pred.ndim == 1 and spec.decomposition != "elements":
        return False  # a 1-D input of a per-row loss is a single sample
    if any(a.ndim == 0 or len(a) != len(pred) for a in arrays.values()):
        return False  # an argument every row shares, such as gaussian_nll's single variance
    return not _row_params(spec, pred, params)


def _row_params(spec: LossSpec, pred: np.ndarray, params: dict[str, Any]) -> dict[str, int]:
    """The tensor parameters of several values on a 1-D input, with their lengths.

    torch broadcasts tensor parameters along the last axis, which is the rows of a 1-D input.
    """
    if pred.ndim != 1:
        return {}
    lengths = {p.name: len(params.get(p.name) or ()) for p in spec.params if p.kind == "tensor"}
    return {name: length for name, length in lengths.items() if length > 1}


def _chunks(
    arrays: dict[str, np.ndarray], n_rows: int, step: int | None
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(first row, the arrays' rows) per chunk of ``step`` rows; the whole arrays at once for ``step`` None."""
    if step is None:
        yield 0, arrays
        return
    for start in range(0, max(n_rows, 1), step):
        yield start, {name: a[start : start + step] for name, a in arrays.items()}


def _store(values: np.ndarray | None, chunk: np.ndarray, start: int, n_rows: int) -> np.ndarray:
    """Put a chunk's ``none`` values in place; the first chunk allocates every row, unless it is all of them."""
    if values is None:
        if start == 0 and (chunk.ndim == 0 or len(chunk) == n_rows):
            return chunk
        values = np.empty((n_rows, *chunk.shape[1:]), dtype=chunk.dtype)
    values[start : start + len(chunk)] = chunk
    return values


def _divisor(spec: LossSpec, params: dict[str, Any]) -> Callable[[torch.Tensor, dict[str, torch.Tensor]], float]:
    """What a chunk adds to the count ``mean`` divides by: ``f(none output, arguments)``."""
    if spec.decomposition != "target_weight":
        return lambda out, tensors: float(out.numel())
    ignore = spec.param("ignore_index")
    ignore_index = params.get("ignore_index", ignore.default) if ignore is not None else None
    weight = params.get("weight")
    weights = None if weight is None else torch.tensor(weight, dtype=torch.float64)

    def target_weight(out: torch.Tensor, tensors: dict[str, torch.Tensor]) -> float:
        target = tensors[spec.target_role.name]
        if target.is_floating_point():  # class probabilities: torch divides by the samples
            return float(out.numel())
        kept = target if ignore_index is None else target[target != ignore_index]
        return float(kept.numel()) if weights is None else float(weights[kept].sum())

    return target_weight


def row_sums(out: torch.Tensor) -> np.ndarray:
    """Each row's sum of a ``none`` output (its first axis is the rows), in float64 (a 1-D output: itself)."""
    if out.ndim == 1:
        return out.numpy()
    return out.reshape(len(out), -1).sum(dim=1, dtype=torch.float64).numpy()


def row_divisor(
    spec: LossSpec, params: dict[str, Any], reduction: str
) -> Callable[[torch.Tensor, dict[str, torch.Tensor]], np.ndarray | float]:
    """What each row adds to the divisor of ``reduction``: its elements (``mean``), its targets' class
    weights (``mean`` of a ``target_weight`` loss, 0 for an ignored target), or 1 (``sum``, ``batchmean``)."""
    if reduction != "mean":
        return lambda out, tensors: 1.0
    if spec.decomposition != "target_weight":
        return lambda out, tensors: float(out[0].numel()) if len(out) else 1.0
    ignore = spec.param("ignore_index")
    ignore_index = params.get("ignore_index", ignore.default) if ignore is not None else None
    weight = params.get("weight")
    weights = None if weight is None else torch.tensor(weight, dtype=torch.float64)

    def target_weight(out: torch.Tensor, tensors: dict[str, torch.Tensor]) -> np.ndarray | float:
        target = tensors[spec.target_role.name]
        if target.is_floating_point():  # class probabilities: torch divides by the samples
            return float(out[0].numel()) if len(out) else 1.0
        ignored = target == ignore_index if ignore_index is not None else torch.zeros_like(target, dtype=torch.bool)
        if weights is None:
            kept = torch.ones(target.shape, dtype=torch.float64)
        else:
            kept = weights[target.masked_fill(ignored, 0)]
        kept = kept.masked_fill(ignored, 0.0)
        return kept.reshape(len(kept), -1).sum(dim=1).numpy()

    return target_weight


def evaluate(
    spec: LossSpec,
    inputs: dict[str, Input],
    params: dict[str, Any],
    reduction: str,
    *,
    grad: bool = True,
    dtype: str = "float32",
    chunk_rows: int | None = None,
    keep_rows: int | None = None,
    rows: RowHook | None = None,
    weights: np.ndarray | None = None,
) -> ComputeResult:
    """The loss's value and gradients: chunk by chunk when it decomposes over samples, else whole.

    Every output of one loss goes the same way, so the table, JSON, CSV and
    ``compare`` agree to the last digit. ``chunk_rows`` asked of a loss whose
    samples interact is ignored with a warning.
    """
    if spec.decomposition is None:
        result = engine.compute(spec, inputs, params, reduction, grad=grad, dtype=dtype)
        if chunk_rows is not None:
            result.warnings.append(f"{spec.name} does not decompose over samples: --chunk-size is ignored")
        return result
    return compute_chunked(
        spec,
        inputs,
        params,
        reduction,
        grad=grad,
        dtype=dtype,
        chunk_rows=chunk_rows or DEFAULT_CHUNK_ROWS,
        keep_rows=keep_rows,
        rows=rows,
        weights=weights,
    )


def compute_chunked(
    spec: LossSpec,
    inputs: dict[str, Input],
    params: dict[str, Any],
    reduction: str,
    *,
    grad: bool = True,
    dtype: str = "float32",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    keep_rows: int | None = None,
    rows: RowHook | None = None,
    weights: np.ndarray | None = None,
) -> ComputeResult:
    """``engine.compute`` for a loss that decomposes over samples, ``chunk_rows`` rows at a time.

    Sums, counts and gradient statistics accumulate in float64, so the value is
    at least as exact as the whole computation's. ``keep_rows`` keeps only the
    first rows of each gradient (``Gradient.shape`` still gives the whole
    shape); None keeps all of it. Inputs whose rows are not separate samples
    (see ``splits``) are computed in one chunk.
    """
    if spec.decomposition is None:
        raise ValueError(f"{spec.name} does not decompose over samples: compute it with engine.compute")
    mistakes = engine.check_inputs(spec, inputs, params, reduction)
    arrays = {name: inp.array for name, inp in inputs.items()}
    pred = arrays[spec.pred_role.name]
    n_rows = len(pred) if pred.ndim else 1
    step = chunk_rows if splits(spec, arrays, params) else None
    shapes = {name: a.shape for name, a in arrays.items()}
    run = Run(spec, params, reduction, grad, dtype, keep_rows, shapes, n_rows, rows=rows, weights=weights)
    with engine.torch_warnings() as caught:
        for start, chunk in _chunks(arrays, n_rows, step):
            run.add(start, chunk)
    return run.result(inputs, mistakes + engine.warning_texts(caught))


def stream(
    spec: LossSpec,
    chunks: Iterator[dict[str, Input]],
    params: dict[str, Any],
    reduction: str,
    *,
    grad: bool = True,
    dtype: str = "float32",
    keep_rows: int | None = None,
    progress: Callable[[int], None] | None = None,
    rows: RowHook | None = None,
    weights: np.ndarray | None = None,
) -> ComputeResult:
    """``compute_chunked`` over inputs read from files a chunk at a time, their length unknown until the end.

    Each chunk is validated as it comes, its messages naming the file's rows
    (and a shape error the file's shape, see ``_validate``). The advisor's
    statistics (``advisor.MistakeStats``) take in every chunk and are judged
    at the end, so the warnings are those of all the rows at once. Inputs
    that ``splits`` keeps whole in memory are computed as there: an argument
    every row shares (a ``SharedInput``) comes with every chunk (the advisor
    takes it in once) and its gradient is summed over them; a 1-D input with
    a tensor parameter of one value per row, which has only as many rows as
    the parameter has values, is joined into one chunk, and so is a 1-D
    input of a per-row loss, which is a single sample. ``progress`` hears
    the rows done after each chunk. Memory stays that of one chunk, plus the
    gradient rows kept (``keep_rows``; None keeps every row).
    """
    if spec.decomposition is None:
        raise ValueError(f"{spec.name} does not decompose over samples: it cannot be streamed")
    chunks = iter(chunks)
    with engine.torch_warnings() as caught:
        first = next(chunks, None)
        if first is None:
            raise DataError(f"{spec.name}: the inputs hold no rows")
        pred_rows = first[spec.pred_role.name].array
        row_params = _row_params(spec, pred_rows, params)
        if row_params:
            first, chunks = _joined(spec, first, chunks, params, row_params), iter(())
        elif pred_rows.ndim == 1 and spec.decomposition != "elements":  # a single sample
            first, chunks = _join(spec, first, chunks)[0], iter(())
        _validate(spec, first, params, _rows(first), chunks)
        shared = frozenset(name for name, inp in first.items() if isinstance(inp, SharedInput))
        stats = MistakeStats(spec, params)
        pred, target = spec.pred_role.name, spec.target_role.name if spec.target_role is not None else None
        run = Run(
            spec, params, reduction, grad, dtype, keep_rows, None, None, shared, spill=True, rows=rows, weights=weights
        )
        for chunk in itertools.chain([first], chunks):
            if chunk is not first:
                _validate(spec, chunk, params, run.rows + _rows(chunk), chunks)
            fresh = {name: inp.array for name, inp in chunk.items() if chunk is first or name not in shared}
            stats.add(fresh.get(pred), fresh.get(target))
            run.add(run.rows, {name: inp.array for name, inp in chunk.items()})
            if progress is not None:
                progress(run.rows)
    result = run.result(first, judge_mistakes(stats, reduction) + engine.warning_texts(caught))
    result.n_samples = run.rows
    for name, info in result.inputs.items():  # the first chunk's: every chunk's rows together
        if name not in shared and info.shape:
            info.shape = (run.rows, *info.shape[1:])
    return result


def _joined(
    spec: LossSpec,
    first: dict[str, Input],
    chunks: Iterator[dict[str, Input]],
    params: dict[str, Any],
    row_params: dict[str, int],
) -> dict[str, Input]:
    """The chunks' rows in one chunk, for a 1-D input whose tensor parameters hold one value per row.

    Such an input has as many rows as the longest parameter has values (a
    command line's worth), which is all that is read; past that the
    parameter cannot fit the input: the loss's own checks on that many rows
    say why, or else the message gives the file's row count.
    """
    pred = spec.pred_role.name
    limit = max(row_params.values())
    joined, rows = _join(spec, first, chunks, limit)
    if rows <= limit:
        return joined
    _validate(
        spec,
        {
            name: inp if isinstance(inp, SharedInput) else dataclasses.replace(inp, array=inp.array[:limit])
            for name, inp in joined.items()
        },
        params,
        rows,
        chunks,
    )
    rows += sum(len(chunk[pred].array) for chunk in chunks)
    name = max(row_params, key=row_params.__getitem__)
    raise UsageError(
        f"{spec.name}: -p {name} has {limit} values but {first[pred].source} has {rows} rows; "
        "give one value per row of a 1-D input, or a single value for all of them"
    )


def _join(
    spec: LossSpec, first: dict[str, Input], chunks: Iterator[dict[str, Input]], limit: int | None = None
) -> tuple[dict[str, Input], int]:
    """The rows of ``first`` and of the chunks after it in one chunk, and how many: all of them, or those of
    the chunks up to the first that ends past ``limit`` rows."""
    pred = spec.pred_role.name
    parts = [first]
    rows = len(first[pred].array)
    while (limit is None or rows <= limit) and (chunk := next(chunks, None)) is not None:
        parts.append(chunk)
        rows += len(chunk[pred].array)
    joined = {
        name: inp
        if isinstance(inp, SharedInput)
        else dataclasses.replace(inp, array=np.concatenate([part[name].array for part in parts]))
        for name, inp in first.items()
    }
    return joined, rows


def _rows(chunk: dict[str, Input]) -> int:
    """The rows of a chunk: those of its inputs that are not shared (they all have as many)."""
    array = next(inp.array for inp in chunk.values() if not isinstance(inp, SharedInput))
    return len(array) if array.ndim else 1


def _validate(
    spec: LossSpec, chunk: dict[str, Input], params: dict[str, Any], rows: int, rest: Iterator[dict[str, Input]]
) -> None:
    """Validate a chunk of the files whose rows end at ``rows``; a shape error quotes the files' shapes.

    A shape the loss cannot take differs from a good one in its columns, which
    every chunk shares, so it comes with the first chunk, before the files'
    rows are counted. To say what reading them whole says, the chunks still
    to come (``rest``) are then read to count the rows, each once and none
    kept, and the chunk validated again with the count.
    """
    try:
        validate(spec, chunk, params)
    except ShapeError:
        rows += sum(_rows(later) for later in rest)
        for inp in chunk.values():
            if not isinstance(inp, SharedInput):
                inp.file_rows = rows
        validate(spec, chunk, params)
        raise


def _value_parts(values: np.ndarray | list[np.ndarray] | None) -> list[np.ndarray]:
    if values is None:
        return []
    return list(values) if isinstance(values, list) else [values]


class Run:
    """Value sums, divisors, per-element values and gradient sums of one computation, chunk by chunk.

    Runs over consecutive rows merge (``merged``): a distributed run's partitions each make one."""

    def __init__(
        self,
        spec: LossSpec,
        params: dict[str, Any],
        reduction: str,
        grad: bool,
        dtype: str,
        keep_rows: int | None,
        shapes: dict[str, tuple[int, ...]] | None,
        n_rows: int | None,
        shared: frozenset[str] = frozenset(),
        spill: bool = False,
        rows: RowHook | None = None,
        weights: np.ndarray | None = None,
        row_offset: int = 0,
    ) -> None:
        """With ``spill`` (a stream of unknown length), the per-element values and every gradient row
        kept (``keep_rows`` None) go to temporary files, so that memory does not grow with the rows.
        ``row_offset`` is the first row's index among all of a distributed run's (for what ``rows`` hears).
        ``rows`` hears each chunk's rows (``RowChunk``). ``weights`` (a weight per row, all of them) makes
        the loss Σ wᵢuᵢ / Σ wᵢxᵢ, as scikit-learn's ``sample_weight`` does (Σ wᵢuᵢ for ``sum``, Σ wᵢuᵢ / Σ wᵢ
        for ``batchmean``), and its gradient that of this value."""
        torch_dtype, self.np_dtype = engine.DTYPES[dtype]
        self.spec, self.params, self.reduction, self.grad, self.dtype = spec, params, reduction, grad, dtype
        self.loss_fn = engine.build_loss(spec, params, "none", torch_dtype)
        self.divisor = _divisor(spec, params)
        self.on_rows = rows
        self.weights = weights
        self.row_divisor = row_divisor(spec, params, "mean") if rows is not None or weights is not None else None
        self.n_rows = n_rows
        self.shared = shared
        self.row_offset = row_offset
        self.rows = 0
        self.total = self.count = 0.0
        self.values: np.ndarray | list[np.ndarray] | Spill | None = (
            Spill(self.np_dtype) if spill and reduction == "none" else None if n_rows is not None else []
        )
        self.sums: dict[str, GradientSum | SharedGradient] = {
            role.name: SharedGradient(self.np_dtype)
            if role.name in shared
            else GradientSum(keep_rows, shapes[role.name] if shapes else None, self.np_dtype, spill)
            for role in spec.roles
            if grad and role.differentiable
        }

    def add(self, start: int, chunk: dict[str, np.ndarray]) -> None:
        spec = self.spec
        tensors = engine.make_tensors(spec, chunk, self.np_dtype, self.grad)
        out = engine.run_loss(spec, self.loss_fn, tensors)
        detached = out.detach()
        weights = None
        if self.weights is None:
            self.total += float(detached.sum(dtype=torch.float64))
            if self.reduction == "mean":
                self.count += self.divisor(out, tensors)
        else:
            if start + len(out) > len(self.weights):
                raise DataError(
                    f"--sample-weight has {len(self.weights)} weights, but the inputs have more rows; "
                    "give one weight per row"
                )
            weights = self.weights[start : start + len(out)]
            losses = row_sums(detached)
            self.total += float(np.dot(weights, losses))
            if self.reduction == "mean":
                self.count += float(np.sum(weights * self.row_divisor(out, tensors)))
            elif self.reduction == "batchmean":
                self.count += float(np.sum(weights))
        if self.on_rows is not None and out.ndim:
            rows = RowChunk(self.row_offset + start, row_sums(detached), self.row_divisor(out, tensors), weights, chunk)
            self.on_rows(rows)
        if self.reduction == "none":
            values = out.detach().numpy()
            if isinstance(self.values, Spill):
                self.values.append(values)
            elif isinstance(self.values, list):
                self.values.append(values.copy())
            else:
                self.values = _store(self.values, values, start, self.n_rows)
        if self.grad:
            if weights is not None:  # d(Σ wᵢ uᵢ): each row's elements weighed by its weight
                out = out * torch.from_numpy(weights).to(out.dtype).reshape(-1, *[1] * (out.ndim - 1))
            (out.sum() if out.ndim else out).backward()
            for name, gradient_sum in self.sums.items():
                gradient_sum.add(tensors[name].grad)
        pred = chunk[spec.pred_role.name]
        self.rows += len(pred) if pred.ndim else 1

    _UNPICKLED = ("loss_fn", "divisor", "row_divisor", "on_rows")
    """What a run rebuilds rather than carries to another process: torch's module and the functions."""

    def __getstate__(self) -> dict[str, Any]:
        if isinstance(self.values, Spill):
            raise ValueError("a spilled run stays in its process")
        return {k: v for k, v in self.__dict__.items() if k not in self._UNPICKLED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.loss_fn = engine.build_loss(self.spec, self.params, "none", engine.DTYPES[self.dtype][0])
        self.divisor = _divisor(self.spec, self.params)
        self.row_divisor = row_divisor(self.spec, self.params, "mean")
        self.on_rows = None

    @classmethod
    def merged(cls, runs: list[Run]) -> Run:
        """One run of several runs' rows, one after the other (a distributed run's partitions, in order):
        totals and counts added with ``math.fsum``, the per-element values and the gradients' rows in order."""
        merged = runs[0]
        merged.total = math.fsum(run.total for run in runs)
        merged.count = math.fsum(run.count for run in runs)
        merged.rows = sum(run.rows for run in runs)
        merged.n_rows = None
        if merged.reduction == "none":
            merged.values = [part for run in runs for part in _value_parts(run.values)]
        merged.sums = {name: type(s).merged([run.sums[name] for run in runs]) for name, s in merged.sums.items()}
        return merged

    def reduced(self) -> tuple[float, float]:
        """The reduced value, and what the gradient of the summed loss is multiplied by to be its gradient."""
        n_rows = self.n_rows if self.n_rows is not None else self.rows
        if self.reduction == "mean":
            with np.errstate(divide="ignore", invalid="ignore"):
                value = float(np.float64(self.total) / self.count)  # NaN when every target is ignored, as in torch
            return value, 1.0 / self.count if self.count else 0.0  # and torch's gradient is then 0
        if self.reduction == "batchmean":
            count = n_rows if self.weights is None else self.count
            return self.total / count, 1.0 / count
        return self.total, 1.0

    def result(self, inputs: dict[str, Input], messages: list[str]) -> ComputeResult:
        value, scale = self.reduced()
        if isinstance(self.values, Spill):
            values = self.values.array()
        elif isinstance(self.values, list) and self.values:
            values = np.concatenate(self.values)
        else:
            values = self.values
        return engine.make_result(
            self.spec,
            inputs,
            self.params,
            self.reduction,
            self.dtype,
            value=None if self.reduction == "none" else float(str(self.np_dtype(value))),
            values=values if self.reduction == "none" else None,
            gradients={name: gradient_sum.gradient(scale) for name, gradient_sum in self.sums.items()},
            messages=messages,
        )
