"""What a run's rows say beyond its value: intervals, slices (``--by``) and the worst rows (``--worst``).

A loss whose samples are independent tells, chunk by chunk, each row's summed
loss u and what ``mean`` divides it by, x (``chunked.RowChunk``). Everything
here is a sum over rows that merges, so a run a chunk at a time gives what a
run on the whole gives:

- the value's interval and the models' paired differences: the co-moments and
  bootstrap sums of every row (``stats.Tally``);
- the slices: the same sums kept per slice (a ``Tally`` with a stratum per
  row, from ``Slicing``);
- the worst rows: the K largest losses of a row alone (u / x), kept as the
  chunks go (``Worst``).

With ``--sample-weight``, row i weighs wᵢ: its u and x become wᵢuᵢ and wᵢxᵢ,
so every value is Σ wᵢuᵢ / Σ wᵢxᵢ (scikit-learn's ``sample_weight``), and so
is every interval's estimate.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from losscli.engine import stats
from losscli.errors import DataError, UsageError


@dataclasses.dataclass
class RowChunk:
    """What a run tells of a chunk of rows (``chunked.Run``'s ``rows`` hook): each row's loss and inputs."""

    start: int
    """The chunk's first row, counted over all of them (from 0)."""
    losses: np.ndarray
    """u: each row's summed ``none`` output, in float64."""
    divisors: np.ndarray | float
    """x: what ``mean`` divides each row's loss by (its elements, or its target's class weight; 0 when the
    target is ignored): u / x is the loss of the row alone."""
    weights: np.ndarray | None
    """Each row's ``--sample-weight`` (None: every row weighs 1)."""
    arrays: dict[str, np.ndarray]
    """The chunk's inputs by role, as the loss got them."""


RowHook = Callable[[RowChunk], None]
"""Hears each chunk's ``RowChunk``."""


MISSING = None
"""The key of the rows whose slice column is empty."""


@dataclasses.dataclass
class Slicing:
    """The slices of the rows: a code per row (0…len(keys) − 1) and each slice's key, in order."""

    columns: list[str]
    """The columns sliced by (``--by``, crossed), or ``class`` for ``--by-class``."""
    codes: np.ndarray
    """Each row's slice (int64)."""
    keys: list[dict[str, Any]]
    """Each slice's value of every column: a text or number, a quantile bin as ``"(lo, hi]"``, None when empty."""
    bins: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    """The edges of the columns sliced into quantile bins."""
    min_size: int = 1

    @property
    def rows(self) -> int:
        return len(self.codes)


MAX_VALUES = 100
"""An integer column of more distinct values than this (an id, a count) is sliced into quantile bins."""


def make_slicing(columns: dict[str, Any], bins: int = 5, min_size: int = 1) -> Slicing:
    """Slices from key columns (name → a pandas Series, one value per row), crossed.

    Text, boolean and integer columns (of at most ``MAX_VALUES`` values) slice by value; a float column by
    value when it holds at most ``bins`` distinct values, and otherwise, like an integer column of more
    values, into ``bins`` quantile bins (``pandas.qcut``: edges at the quantiles, right-closed, the lowest
    included; bins that tie collapse). Empty cells are a slice of their own (key None).
    """
    import pandas as pd

    frame = pd.DataFrame({name: column.reset_index(drop=True) for name, column in columns.items()})
    edges: dict[str, list[float]] = {}
    for name in frame.columns:
        column = frame[name]
        values = column.dropna()
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        whole = numeric and bool(np.all(np.mod(values, 1) == 0))
        many = values.nunique() > (MAX_VALUES if whole else bins)
        if numeric and many:
            binned, found = pd.qcut(column, bins, retbins=True, duplicates="drop")
            edges[name] = [float(e) for e in found]
            frame[name] = binned
        elif whole:
            frame[name] = column.astype("Int64")
    grouped = frame.groupby(list(frame.columns), sort=True, dropna=False, observed=True)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    keys = [
        {name: _key_value(value, name in edges) for name, value in zip(frame.columns, key, strict=True)}
        for key in (k if isinstance(k, tuple) else (k,) for k in grouped.size().index)  # in ngroup()'s order
    ]
    return Slicing(list(frame.columns), codes, keys, edges, min_size)


def _key_value(value: Any, binned: bool) -> Any:
    """A slice's value as JSON holds it: a bin as its interval ``(lo, hi]``, a number, a text, or None."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if binned:
        low = f"{value.left:.4g}"
        return f"{'[' if value.closed_left else '('}{low}, {value.right:.4g}{']' if value.closed_right else ')'}"
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return str(value)


def class_codes(labels: np.ndarray, source: str) -> Any:
    """The class of each row (``--by-class``), as a pandas Series: a class index, or the 1 of a one-hot row."""
    import pandas as pd

    if labels.ndim == 1 and (labels.dtype.kind in "iub" or np.all(np.mod(labels, 1) == 0)):
        classes = labels.astype(np.int64)
    elif labels.ndim == 2 and np.isin(labels, (0, 1)).all() and np.all(labels.sum(axis=1) == 1):
        classes = labels.argmax(axis=1)
    else:
        raise DataError(
            f"{source}: --by-class slices by class labels (a class index per row, or one-hot rows), but these labels "
            f"are {'real values' if labels.ndim == 1 else f'rows of shape {labels.shape[1:]}'}: slice with --by COL"
        )
    return pd.Series(classes)


@dataclasses.dataclass(frozen=True)
class RowOptions:
    """What a run does with its rows besides its value: slice them, keep the worst, weigh them."""

    slicing: Slicing | None = None
    worst: int | None = None
    weights: np.ndarray | None = None
    """A weight per row (``--sample-weight``), all of them."""
    sample: int | None = None
    """Keep a sample of this many rows at most, with their losses and inputs (``RowSample``: a report)."""

    def __bool__(self) -> bool:
        return self.slicing is not None or bool(self.worst) or self.weights is not None or bool(self.sample)


@dataclasses.dataclass
class RowRequest:
    """What is asked of the rows: ``--by`` (columns of the labels' file, or of ``--slices FILE``), ``--bins``,
    ``--min-slice-size``, ``--by-class``, ``--worst`` and ``--sample-weight`` (a column of the labels' file, or a
    file). The Python API may give the slice columns and the weights themselves (``columns``, ``weights``)."""

    by: tuple[str, ...] = ()
    slices: str | None = None
    bins: int = 5
    min_slice_size: int = 1
    by_class: bool = False
    worst: int | None = None
    sample_weight: str | None = None
    columns: dict[str, Any] | None = None
    """The slice columns, already read (name → a pandas Series)."""
    weights: Any = None
    """The weights, already read (array-like), named ``sample_weight``."""
    in_labels: tuple[str, ...] = ()
    """Of ``columns`` and ``sample_weight``, those that are columns of the labels (held in memory)."""
    sample: int | None = None
    """Keep a sample of the rows for a report (``RowSample``)."""

    @property
    def slicing(self) -> bool:
        return bool(self.by) or self.by_class

    def check(self) -> None:
        """Usage errors, before anything is read."""
        if self.bins < 2:
            raise UsageError(f"--bins {self.bins}: give 2 bins at least")
        if self.min_slice_size < 1:
            raise UsageError(f"--min-slice-size {self.min_slice_size}: give 1 row at least")
        if self.worst is not None and self.worst < 1:
            raise UsageError(f"--worst {self.worst}: give 1 row at least")
        if self.slices is not None and not self.by:
            raise UsageError("--slices FILE holds the columns to slice by: name them with --by COL")
        repeated = [name for name in dict.fromkeys(self.by) if self.by.count(name) > 1]
        if repeated:
            raise UsageError(f"--by {repeated[0]} is given twice: name each column once")

    def read(self, labels_file: str | None, header: bool | None) -> RowColumns:
        """The slice columns and the weights, read; which of them are columns of the labels' file (a default
        choice of label or prediction columns leaves them out)."""
        from losscli.io import rowcolumns

        found = RowColumns(self, in_labels=list(self.in_labels))
        if self.columns is not None:
            found.columns = dict(self.columns)
        elif self.by:
            source = self.slices or labels_file
            if source is None:
                raise UsageError("--by COL slices by a column of the labels' file: give LABELS, or --slices FILE")
            found.columns = rowcolumns.read_row_columns(source, self.by, header=header)
            if self.slices is None:
                found.in_labels += list(self.by)
        if self.weights is not None:
            import pandas as pd

            values, found.weight_source = pd.Series(np.asarray(self.weights).reshape(-1)), self.sample_weight
        elif self.sample_weight is not None:
            values, found.weight_source = rowcolumns.weight_values(self.sample_weight, labels_file, header)
            if found.weight_source != self.sample_weight:  # a column of the labels' file
                found.in_labels.append(self.sample_weight)
        if self.weights is not None or self.sample_weight is not None:
            found.weights = rowcolumns.sample_weights(values, found.weight_source)
        return found


@dataclasses.dataclass
class RowColumns:
    """A ``RowRequest``'s columns, read."""

    request: RowRequest
    columns: dict[str, Any] = dataclasses.field(default_factory=dict)
    weights: np.ndarray | None = None
    weight_source: str | None = None
    in_labels: list[str] = dataclasses.field(default_factory=list)
    """The columns of the labels' file read here, not labels."""

    @property
    def by_class(self) -> bool:
        return self.request.by_class

    def options(
        self,
        labels: np.ndarray | None,
        labels_file: str | None = None,
        label_cols: Sequence[str] | None = None,
        label_key: str | None = None,
        header: bool | None = None,
    ) -> RowOptions:
        """The ``RowOptions`` of a run: its slices (``--by-class``'s from ``labels``, or, when the run streams
        them, from ``labels_file`` read whole), its worst rows and its weights."""
        request = self.request
        columns = dict(self.columns)
        if request.by_class:
            if labels is None:
                from losscli.io.loading import read_source, select_columns

                source = read_source(labels_file, key=label_key, key_option="--label-key", header=header)
                labels = np.asarray(select_columns(source, label_cols, exclude=self.in_labels, option="--label-col"))
            columns["class"] = class_codes(labels, labels_file or "the labels")
        slicing = make_slicing(columns, request.bins, request.min_slice_size) if columns else None
        return RowOptions(slicing, request.worst, self.weights, request.sample)


@dataclasses.dataclass
class SliceRow:
    """One slice of a result: its key, rows, and every value (compute: loss → value; compare: model → loss
    → value) with its interval under ``--ci``."""

    key: dict[str, Any]
    n: int
    values: dict[str, Any]
    ci: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        record = {"slice": self.key, "n": self.n, "values": self.values}
        if self.ci is not None:
            record["ci"] = self.ci
        return record


@dataclasses.dataclass
class WorstRow:
    """A row among the largest losses (``--worst``): where it is, its loss alone, what was predicted and the label."""

    index: int
    """The row, from 0."""
    loss: float
    pred: Any
    label: Any
    weight: float | None = None

    def to_dict(self) -> dict[str, Any]:
        record = {"row": self.index + 1, "index": self.index, "loss": self.loss, "pred": self.pred, "label": self.label}
        if self.weight is not None:
            record["weight"] = self.weight
        return record


class Worst:
    """The ``k`` rows of largest loss alone (u / x) seen so far, with their inputs; ties go to the earlier row.

    Rows that count for nothing (an ignored target, a weight of 0) are never among them.
    """

    def __init__(self, k: int, pred_role: str, target_role: str | None) -> None:
        self.k, self.pred_role, self.target_role = k, pred_role, target_role
        self.losses = np.empty(0)
        self.index = np.empty(0, dtype=np.int64)
        self.kept: list[tuple[Any, Any, float | None]] = []

    def add(self, chunk: RowChunk) -> None:
        with np.errstate(divide="ignore", invalid="ignore"):
            losses = chunk.losses / chunk.divisors
        counts = np.asarray(chunk.divisors) > 0
        if chunk.weights is not None:
            counts = counts & (chunk.weights > 0)
        losses = np.where(counts, losses, -np.inf)
        take = min(self.k, len(losses))
        if take == 0:
            return
        candidates = np.argpartition(-losses, take - 1)[:take] if take < len(losses) else np.arange(len(losses))
        candidates = candidates[np.isfinite(losses[candidates])]
        pred = chunk.arrays[self.pred_role]
        label = chunk.arrays.get(self.target_role) if self.target_role else None
        fresh = [
            (
                _row_value(pred[i]),
                None if label is None else _row_value(label[i]),
                None if chunk.weights is None else float(chunk.weights[i]),
            )
            for i in candidates
        ]
        losses = np.concatenate([self.losses, losses[candidates]])
        index = np.concatenate([self.index, chunk.start + candidates])
        kept = self.kept + fresh
        order = np.lexsort((index, -losses))[: self.k]
        self.losses, self.index, self.kept = losses[order], index[order], [kept[i] for i in order]

    @classmethod
    def merged(cls, parts: list[Worst]) -> Worst:
        """The ``k`` largest of several parts' rows (any order: ties still go to the earlier row)."""
        merged = cls(parts[0].k, parts[0].pred_role, parts[0].target_role)
        losses = np.concatenate([p.losses for p in parts])
        index = np.concatenate([p.index for p in parts])
        kept = [row for p in parts for row in p.kept]
        order = np.lexsort((index, -losses))[: merged.k]
        merged.losses, merged.index, merged.kept = losses[order], index[order], [kept[i] for i in order]
        return merged

    def rows(self) -> list[WorstRow]:
        return [
            WorstRow(int(i), float(loss), pred, label, weight)
            for i, loss, (pred, label, weight) in zip(self.index, self.losses, self.kept, strict=True)
        ]


class RowSample:
    """Every k-th row of a run, at most ``cap`` of them, with its loss alone and its inputs: what a report
    plots (distributions, predicted against true, calibration, confusion).

    k starts at 1 and doubles whenever more than ``cap`` rows are kept (those not on the new stride are let
    go), so a stream of any length keeps an evenly spread sample of between cap / 2 and cap rows, the same
    whatever the chunks: a row is kept by its index alone.
    """

    def __init__(self, cap: int, pred_role: str, target_role: str | None) -> None:
        self.cap, self.pred_role, self.target_role = cap, pred_role, target_role
        self.stride = 1
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []
        self.kept = 0
        self.rows = 0

    def add(self, chunk: RowChunk) -> None:
        n = len(chunk.losses)
        self.rows = max(self.rows, chunk.start + n)
        take = np.arange(-chunk.start % self.stride, n, self.stride)
        if take.size:
            divisors = chunk.divisors[take] if np.ndim(chunk.divisors) else chunk.divisors
            with np.errstate(divide="ignore", invalid="ignore"):
                losses = chunk.losses[take] / divisors
            label = chunk.arrays.get(self.target_role) if self.target_role else None
            pred = chunk.arrays[self.pred_role]
            self.parts.append(
                (chunk.start + take, losses, np.array(pred[take]), None if label is None else np.array(label[take]))
            )
            self.kept += take.size
        self._thin()

    @classmethod
    def merged(cls, parts: list[RowSample]) -> RowSample:
        """The sample of several parts' consecutive rows: that of one run over all of them (a row is kept by its
        index alone, on the largest of the parts' strides, doubled while more than ``cap`` are kept)."""
        merged = cls(parts[0].cap, parts[0].pred_role, parts[0].target_role)
        merged.stride = max(p.stride for p in parts)
        merged.parts = [piece for p in parts for piece in p.parts]
        merged.rows = max(p.rows for p in parts)
        merged.kept = sum(len(piece[0]) for piece in merged.parts)
        merged._thin(force=True)
        return merged

    def _thin(self, force: bool = False) -> None:
        """Keep the rows on the stride, doubling it while more than ``cap`` are kept."""
        while force or self.kept > self.cap:
            if not force:
                self.stride *= 2
            force = False
            self.parts = [tuple(a if a is None else a[part[0] % self.stride == 0] for a in part) for part in self.parts]
            self.kept = sum(len(part[0]) for part in self.parts)

    def arrays(self) -> dict[str, np.ndarray | None]:
        """The sampled rows: ``index`` (from 0), ``loss`` (each row's alone), ``pred`` and ``label``."""
        names = ("index", "loss", "pred", "label")
        if not self.parts:
            return dict.fromkeys(names)
        return {
            name: None if self.parts[0][i] is None else np.concatenate([part[i] for part in self.parts])
            for i, name in enumerate(names)
        }


def _row_value(row: np.ndarray) -> Any:
    """A row of an input as JSON holds it: a number, or nested lists of numbers."""
    value = np.asarray(row)
    return value.item() if value.ndim == 0 else value.tolist()


class RowCollector:
    """The per-row losses of several columns × models, as runs hear them, into the sums of the intervals, the
    slices and the worst rows.

    A run calls ``hook(column, model)`` with each chunk's rows; once every model of a column has given a
    chunk, ``flush`` passes the column's rows on together. The tallies are made when the first chunk shows
    which columns have rows (``start``), so that a column of one sample does not hold the others back.
    """

    def __init__(
        self,
        statistics: Any = None,
        slicing: Slicing | None = None,
        worst: int | None = None,
        sample: int | None = None,
        offset: int = 0,
    ) -> None:
        """``offset``: the index of the first row among all of a distributed run's (its partition's rows are
        ``offset…``, the slicing's codes theirs alone)."""
        self.statistics, self.slicing, self.worst_k, self.sample_cap = statistics, slicing, worst, sample
        self.offset = offset
        self.samples: dict[str, dict[str, RowSample]] = {}
        """column → model → a sample of its rows (``RowSample``), when a report is made."""
        self.models: dict[str, list[str]] = {}
        self.reductions: dict[str, str] = {}
        self.heard: dict[str, dict[str, RowChunk]] = {}
        self.groups: dict[str, int] = {}
        self.tally: stats.Tally | None = None
        """Every row's sums, for the intervals (``--ci``)."""
        self.slices: stats.Tally | None = None
        """The same sums per slice (``--by``)."""
        self.worst: dict[str, dict[str, Worst]] = {}
        self.roles: dict[str, tuple[str, str | None]] = {}
        self.seen: set[str] = set()
        self.waiting: list[tuple[str, int, list[np.ndarray], np.ndarray | float]] = []
        self.started = False
        self.rows = 0

    def column(self, column: str, models: list[str], reduction: str, roles: tuple[str, str | None]) -> None:
        """A loss column, its models, its reduction and (pred, target) roles."""
        self.models[column] = list(models)
        self.reductions[column] = reduction
        self.roles[column] = roles
        self.heard[column] = {}
        if self.worst_k:
            self.worst[column] = {model: Worst(self.worst_k, *roles) for model in models}
        if self.sample_cap:
            self.samples[column] = {model: RowSample(self.sample_cap, *roles) for model in models}

    def hook(self, column: str, model: str) -> RowHook:
        def hear(chunk: RowChunk) -> None:
            self.heard[column][model] = chunk

        return hear

    def single(self, column: str, model: str) -> RowHook:
        """The hook of a column of one model (``compute``): each chunk passed on as it is heard."""
        hear = self.hook(column, model)

        def hear_and_flush(chunk: RowChunk) -> None:
            hear(chunk)
            self.flush(column, chunk.start, len(chunk.losses))
            if not self.started:
                self.start()

        return hear_and_flush

    def flush(self, column: str, start: int, rows: int, failed: set[str] = frozenset()) -> None:
        """Pass on rows ``start…start + rows`` of the column: every model's, NaN for a model that failed.

        A column none of whose models gave a chunk is left out if it never gave one (its inputs are one
        sample, or every model failed at once); later, its rows are NaN, so that the others' blocks fill.
        """
        heard = self.heard[column]
        self.heard[column] = {}
        start -= self.offset
        if self.slicing is not None and start + rows > self.slicing.rows:
            raise _slice_rows_error(self.slicing.rows, start + rows, more=True)
        for model, chunk in heard.items():
            if model not in failed:
                for kept in (self.worst, self.samples):
                    if column in kept:
                        kept[column][model].add(chunk)
        if not heard and column not in self.seen:
            return
        self.seen.add(column)
        self.rows = max(self.rows, start + rows)
        if self.statistics is None and self.slicing is None:
            return
        reduction = self.reductions[column]
        any_chunk = next(iter(heard.values()), None)
        x = np.nan if any_chunk is None else (any_chunk.divisors if reduction == "mean" else 1.0)
        weights = None if any_chunk is None else any_chunk.weights
        columns = []
        for model in self.models[column]:
            got = heard.get(model)
            if got is None or model in failed:
                columns.append(np.full(rows, np.nan))
            else:
                columns.append(got.losses if weights is None else got.losses * weights)
        if weights is not None:
            x = weights * x
        if self.started:
            self._add(column, start, columns, x)
        else:
            self.waiting.append((column, start, columns, x))

    def start(self) -> None:
        """Make the tallies, of the columns that gave rows so far (call after the first chunk)."""
        self.started = True
        columns = list(dict.fromkeys(column for column, *_ in self.waiting))
        self.groups = {column: i for i, column in enumerate(columns)}
        widths = [len(self.models[c]) for c in columns]
        statistics = self.statistics
        bootstrap = (
            dict(resamples=statistics.resamples, seed=statistics.seed) if statistics and statistics.bootstrap else {}
        )
        if statistics is not None:
            self.tally = stats.Tally(widths, **bootstrap, offset=self.offset)
        if self.slicing is not None:
            slicing = self.slicing
            self.slices = stats.Tally(
                widths, **bootstrap, codes=slicing.codes, strata=len(slicing.keys), offset=self.offset
            )
        for column, start, u, x in self.waiting:
            self._add(column, start, u, x)
        self.waiting = []

    def _add(self, column: str, start: int, u: list[np.ndarray], x: np.ndarray | float) -> None:
        if column in self.groups:
            for tally in (self.tally, self.slices):
                if tally is not None:
                    tally.add(self.groups[column], start, u, x)

    def finish(self, rows: int) -> None:
        if not self.started:
            self.start()
        if self.slicing is not None and rows != self.slicing.rows:
            raise _slice_rows_error(self.slicing.rows, rows, more=rows > self.slicing.rows)
        for tally in (self.tally, self.slices):
            if tally is not None:
                tally.finish(rows)
        self.rows = rows

    @classmethod
    def merged(cls, parts: list[RowCollector], slicing: Slicing | None = None) -> RowCollector:
        """The sums of several finished collectors of consecutive rows (a distributed run's partitions, in
        order), under the whole run's ``slicing``."""
        merged = parts[0]
        for part in parts[1:]:
            if part.groups != merged.groups:
                raise DataError("the partitions disagree on which losses have rows; give every shard rows")
        for name in ("tally", "slices"):
            tallies = [getattr(part, name) for part in parts]
            if tallies[0] is not None:
                setattr(merged, name, stats.Tally.merged(tallies))
        for kept, kind in ((merged.worst, Worst), (merged.samples, RowSample)):
            for column, per in kept.items():
                for model in per:
                    per[model] = kind.merged(
                        [getattr(part, "worst" if kind is Worst else "samples")[column][model] for part in parts]
                    )
        merged.rows = sum(part.rows for part in parts)
        merged.slicing, merged.offset = slicing if slicing is not None else merged.slicing, 0
        return merged

    # --- what the sums give --------------------------------------------------------------------------

    def contrast(self, column: str, weights: dict[str, float], stratum: int | None = None) -> stats.Estimate | None:
        """The estimate of Σ weight · value over some models of a column (one model: its value), over every row
        or a slice's; None for a slice of fewer than two rows."""
        from losscli.engine.significance import estimate, no_rows, value_scale

        group = self.groups.get(column)
        if group is None:
            raise no_rows(column)
        models = self.models[column]
        coefficients = np.zeros(len(models))
        for model, w in weights.items():
            coefficients[models.index(model)] = w
        if stratum is None:
            scale = value_scale(self.reductions[column], self.rows)
            return estimate(self.tally, group, coefficients, self.statistics, scale)
        moments = self.slices.group_moments(group, stratum)
        scale = value_scale(self.reductions[column], moments.n)
        if moments.n < 2 or self.statistics is None:
            value = float(coefficients @ moments.mean[:-1] / moments.mean[-1]) * scale
            return stats.Estimate(value, math.nan, math.nan, math.nan, math.nan)
        return estimate(self.slices, group, coefficients, self.statistics, scale, stratum)

    def slice_rows(self, values_of: Any) -> tuple[list[SliceRow], int]:
        """The slices of at least ``min_size`` rows in order, each with ``values_of(stratum)`` → (values, ci),
        and how many smaller slices were left out."""
        kept, left_out = [], 0
        sizes = np.bincount(self.slicing.codes, minlength=len(self.slicing.keys))
        for stratum, key in enumerate(self.slicing.keys):
            n = int(sizes[stratum])
            if n < self.slicing.min_size:
                left_out += 1
                continue
            values, ci = values_of(stratum)
            kept.append(SliceRow(key, n, values, ci))
        return kept, left_out


def _slice_rows_error(slice_rows: int, rows: int, *, more: bool) -> DataError:
    return DataError(
        f"the slice columns (--by) have {slice_rows} rows but the inputs have "
        f"{'more' if more else rows}; give one row per sample"
    )


def check_rows_of_column(name: str, values: Sequence[Any], rows: int, option: str) -> None:
    """A column of one value per row (``--by``, ``--sample-weight``) must have the inputs' rows."""
    if len(values) != rows:
        raise DataError(f"{option} {name}: {len(values)} rows, but the inputs have {rows}; give one row per sample")


def row_analysis_problem(spec: Any, reduction: str, *, slices: bool, worst: bool, weights: bool) -> str | None:
    """Why ``--by``, ``--worst`` or ``--sample-weight`` cannot apply to this loss (a usage error), before anything
    is read: they need a loss per row."""
    asked = [option for option, on in (("--by", slices), ("--worst", worst), ("--sample-weight", weights)) if on]
    if not asked:
        return None
    if spec.decomposition is None:
        return (
            f"{spec.name} does not decompose over samples (a row's loss depends on the others), so it has no "
            f"per-row losses for {' and '.join(asked)}"
        )
    if reduction == "none" and (slices or weights):
        return (
            f"{' and '.join(o for o in asked if o != '--worst')} weigh the reduced value: use --reduction mean or sum"
        )
    return None
