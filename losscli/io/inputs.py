"""Map the command line's files and columns onto a loss's roles."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from losscli.engine.validate import Input, check_finite, overflow_error
from losscli.errors import DataError, UsageError
from losscli.io.loading import (
    Source,
    is_stream,
    iter_row_chunks,
    read_source,
    rechunk,
    remember_header,
    resolve_columns,
    row_slices,
    select_columns,
)
from losscli.registry import LossSpec, Role


class SharedInput(Input):
    """An argument every row shares, given whole with each chunk of the others (see ``stream_inputs``).

    Its gradient is the sum of the chunks' gradients with respect to it.
    """


def _input(role: Role, source: Source, selectors: Sequence[str] | None, exclude: Sequence[str], option: str) -> Input:
    array = select_columns(source, selectors, exclude=exclude, option=option)
    columns = None
    if source.columns is not None:
        columns = [source.columns[i] for i in resolve_columns(source, selectors, exclude=exclude, option=option)]
    return Input(role, array, source.name, columns)


def _notes(sources: Iterable[Source]) -> list[str]:
    """The sources' notes (``Source.notes``), each once: a file read for two roles says them once."""
    return list(dict.fromkeys(note for source in sources for note in source.notes))


def as_computed(inp: Input, float_dtype: type) -> Input:
    """``inp`` with its array in the dtype torch will get it in, for a role torch gets as floats (``engine.to_tensor``).

    Validation then judges the values the loss sees: 1e-50 in a float64 .npy
    passes a "> 0" check but is 0 in float32. A finite value past the
    largest float32 (3.4e38) would become infinite: an error names it.
    """
    a = inp.array
    if a.dtype.kind == "f" and a.dtype != float_dtype and inp.role.dtype not in ("index", "length"):
        try:
            with np.errstate(over="raise"):
                inp.array = a.astype(float_dtype)
        except FloatingPointError:
            limit = np.finfo(float_dtype).max
            at = tuple(int(i) for i in np.argwhere(np.isfinite(a) & (np.abs(a) > limit))[0])
            raise overflow_error(inp, at, np.dtype(float_dtype)) from None
    return inp


def gather_inputs(
    spec: LossSpec,
    pred: str,
    labels: str | None,
    *,
    extra: dict[str, str],
    pred_cols: Sequence[str] | None = None,
    label_cols: Sequence[str] | None = None,
    pred_key: str | None = None,
    label_key: str | None = None,
    stdin: BinaryIO | None = None,
    dtype: str = "float64",
    header: bool | None = None,
    preloaded: dict[str, Source] | None = None,
    row_columns: Sequence[str] = (),
) -> tuple[dict[str, Input], list[str]]:
    """Read PRED, LABELS and every ``--input`` file once and pick the columns of each role.

    With no LABELS for a loss that has a target, both come from PRED's file:
    ``--label-col`` names the label columns and the predictions default to
    every other column. ``row_columns`` (``--by``, ``--sample-weight``) are
    columns of the labels' file that a default choice leaves out. Tables' float columns are read as ``dtype``, the
    precision the loss will run in; ``header`` is ``read_source``'s.
    ``preloaded`` holds files already read (by a forked parser), by path.
    Returns the inputs by role and the files' notes, for the warnings.
    """
    remember_header(header, [pred, labels, *extra.values()])
    float_dtype = np.dtype(dtype).type
    loaded: dict[tuple[str, str | None], Source] = {}

    def load(path: str, key: str | None = None, key_option: str = "--pred-key") -> Source:
        """Each file once: a pipe can be read once only (and a file named twice need not be parsed twice)."""
        if (path, key) not in loaded:
            if preloaded and path in preloaded:
                loaded[path, key] = preloaded[path]
            else:
                options = dict(key=key, key_option=key_option, stdin=stdin, float_dtype=float_dtype, header=header)
                loaded[path, key] = read_source(path, **options)
        return loaded[path, key]

    paths = [pred, labels, *extra.values()]
    if paths.count("-") > 1:
        raise UsageError("only one input can be read from standard input ('-')")
    target = spec.target_role
    if target is None and labels is not None:
        if not spec.input_roles:  # PRED is its only input (total_variation)
            raise UsageError(
                f"{spec.name} takes no LABELS: it scores PRED ({spec.pred_role.name}) alone; drop {labels}"
            )
        raise UsageError(
            f"{spec.name} takes no LABELS; give its inputs with "
            + " ".join(f"--input {r.name}=PATH" for r in spec.input_roles)
        )
    pred_source = load(pred, pred_key, "--pred-key")
    inputs: dict[str, Input] = {}
    if target is not None:
        if labels is None:
            if not label_cols:
                raise UsageError(
                    f"{spec.name} needs LABELS: give a second file, or --label-col NAME to take the labels from {pred}"
                )
            inputs[target.name] = _input(target, pred_source, label_cols, (), "--label-col")
            exclude = () if pred_cols else [*label_cols, *row_columns]
        else:
            label_source = load(labels, label_key, "--label-key")
            inputs[target.name] = _input(target, label_source, label_cols, row_columns, "--label-col")
            exclude = ()
    else:
        exclude = ()
    inputs[spec.pred_role.name] = _input(spec.pred_role, pred_source, pred_cols, exclude, "--pred-col")
    for role in spec.input_roles:
        path = extra.get(role.name)
        if path is None:
            if role.default is None:
                raise UsageError(f"{spec.name} needs --input {role.name}=PATH ({role.doc})")
            continue
        inputs[role.name] = _input(role, load(path), None, (), f"--input {role.name}")
    for inp in inputs.values():
        as_computed(inp, float_dtype)
    return inputs, _notes(loaded.values())


LABELS_ROLE = Role("labels", "target", "(N,) or (N, C)", doc="labels")
PRED_ROLE = Role("pred", "pred", "(N,) or (N, C)", doc="predictions")


def gather_advice_inputs(
    labels: str | None,
    pred: str | None,
    *,
    label_cols: Sequence[str] | None = None,
    pred_cols: Sequence[str] | None = None,
    label_key: str | None = None,
    pred_key: str | None = None,
    stdin: BinaryIO | None = None,
    header: bool | None = None,
    preloaded: Mapping[str, Source] | None = None,
) -> tuple[Input | None, Input | None, list[str]]:
    """Labels and predictions for ``recommend``: two files, or ``--pred-col`` columns of the labels' file.

    The files' notes come third, for the warnings. ``preloaded`` holds inputs
    already loaded (held in memory, see ``memory``), by name.
    """
    if labels == "-" and pred == "-":
        raise UsageError("only one input can be read from standard input ('-')")
    if labels is None:
        if pred is not None or pred_cols:
            raise UsageError("--pred needs LABELS too (or drop it and give --label-type alone)")
        return None, None, []

    def load(path: str, key: str | None, key_option: str) -> Source:
        if preloaded and path in preloaded:
            return preloaded[path]
        return read_source(path, key=key, key_option=key_option, stdin=stdin, header=header)

    label_source = load(labels, label_key, "--label-key")
    sources = [label_source]
    same_file = pred is None and bool(pred_cols)
    exclude = pred_cols if same_file and not label_cols else ()
    label_input = _input(LABELS_ROLE, label_source, label_cols, exclude or (), "--label-col")
    pred_input = None
    if same_file:
        pred_input = _input(PRED_ROLE, label_source, pred_cols, (), "--pred-col")
    elif pred is not None:
        if (pred, pred_key) == (labels, label_key):  # read once: a pipe can be read once only
            pred_source = label_source
        else:
            pred_source = load(pred, pred_key, "--pred-key")
            sources.append(pred_source)
        pred_input = _input(PRED_ROLE, pred_source, pred_cols, (), "--pred-col")
    for inp in (label_input, pred_input):
        if inp is not None:
            check_finite(inp)
    return label_input, pred_input, _notes(sources)


@dataclass
class CompareInputs:
    """What ``compare`` reads: the labels, and every model in order, read or failed."""

    labels: Input
    models: list[tuple[str, Input]]
    """The models that were read: (identity, predictions)."""
    order: list[str] = field(default_factory=list)
    """Every model's identity (its path as first given, or ``FILE:COLUMN``), in the order given."""
    failed: dict[str, str] = field(default_factory=dict)
    """Model → why its file could not be used (only when compare keeps going)."""
    names: dict[str, str] = field(default_factory=dict)
    """Model → the label ``--name NAME=PATH`` gave it."""
    baseline: str | None = None
    """The baseline model's identity (``--baseline`` PATH, under any spelling, or NAME)."""
    notes: list[str] = field(default_factory=list)


def file_identity(path: str) -> str:
    """One key per file, however it is spelled: ``./x.csv``, ``x.csv`` and a link to it are one file."""
    if path == "-" or not os.path.exists(path):
        return path if path == "-" else os.path.normpath(path)
    return os.path.realpath(path)


def parse_names(items: Sequence[str]) -> list[tuple[str, str]]:
    """``--name NAME=PATH`` items as (NAME, PATH); a name given twice is a usage error."""
    pairs = []
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path:
            raise UsageError(f"--name {item!r}: expected NAME=PATH, e.g. --name baseline=runs/a/preds.csv")
        pairs.append((name.strip(), path))
    repeated = [name for name, count in Counter(name for name, _ in pairs).items() if count > 1]
    if repeated:
        raise UsageError(f"--name {repeated[0]!r} is given to two models: give each model its own name")
    return pairs


def gather_compare_inputs(
    preds: Sequence[str],
    labels: str | None,
    *,
    label_cols: Sequence[str] | None = None,
    pred_cols: Sequence[str] | None = None,
    label_key: str | None = None,
    pred_key: str | None = None,
    baseline: str | None = None,
    stdin: BinaryIO | None = None,
    header: bool | None = None,
    names: Sequence[tuple[str, str]] = (),
    keep_going: bool = False,
    preloaded: Mapping[str, Source] | None = None,
    row_columns: Sequence[str] = (),
) -> CompareInputs:
    """The labels once, and each model's predictions once: one file per model, or one column per model.

    With ``--labels``, every PRED file is a model (``--pred-col`` picks the same
    columns in each), and so is every ``--name NAME=PATH`` not among them; a
    file named twice, under any spelling, is one model. Without ``--labels``,
    the single PRED file holds the labels (``--label-col``) and every
    ``--pred-col`` (default: every other column) is a model of its own, named
    ``FILE:COLUMN``. With ``keep_going``, a model whose file cannot be used is
    recorded in ``failed`` and the others are still read; the labels must be read.
    """
    remember_header(header, [labels, *preds, *(path for _, path in names), baseline])
    if [labels, *preds, *(path for _, path in names), baseline].count("-") > 1:
        raise UsageError("only one input can be read from standard input ('-')")
    loaded: dict[tuple[str, str | None], Source] = {}

    def load(path: str, key: str | None, key_option: str) -> Source:
        """Each file once: a pipe can be read once only (and a file named twice need not be parsed twice)."""
        if preloaded and path in preloaded:
            return preloaded[path]
        if (path, key) not in loaded:
            loaded[path, key] = read_source(path, key=key, key_option=key_option, stdin=stdin, header=header)
        return loaded[path, key]

    def identity(path: str) -> str:
        return path if preloaded and path in preloaded else file_identity(path)

    result: CompareInputs
    if labels is None:
        if len(preds) != 1 or not label_cols:
            raise UsageError("give the labels with --labels PATH, or one PRED file with --label-col NAME")
        source = load(preds[0], pred_key, "--pred-key")
        result = CompareInputs(_input(LABELS_ROLE, source, label_cols, (), "--label-col"), [])
        indices = resolve_columns(source, pred_cols, exclude=[*label_cols, *row_columns], option="--pred-col")
        for column in [source.columns[i] if source.columns else str(i) for i in indices]:
            model = f"{preds[0]}:{column}"
            result.models.append((model, _input(PRED_ROLE, source, [column], (), "--pred-col")))
            result.order.append(model)
        _name_columns(result, preds[0], names, baseline)
        result.notes = _notes(loaded.values())
        return result

    label_source = load(labels, label_key, "--label-key")
    result = CompareInputs(_input(LABELS_ROLE, label_source, label_cols, row_columns, "--label-col"), [])
    given = _models_given(result, preds, names, baseline, identity)
    for path in given.values():
        result.order.append(path)
        try:
            source = load(path, pred_key, "--pred-key")
            result.models.append((path, _input(PRED_ROLE, source, pred_cols, (), "--pred-col")))
        except DataError as e:
            if not keep_going:
                raise
            result.failed[path] = str(e)
    result.notes = _notes(loaded.values())
    return result


def _name_columns(result: CompareInputs, path: str, names: Sequence[tuple[str, str]], baseline: str | None) -> None:
    """Single-file mode: ``--name NAME=COLUMN`` (``FILE:COLUMN``, or the COLUMN alone) and ``--baseline``
    (a model or its NAME) among the models of ``result.order``."""
    for name, model in names:
        key = model if model in result.order else f"{path}:{model}"
        if key not in result.order:
            raise UsageError(f"--name {name}={model}: name one of the compared models: {', '.join(result.order)}")
        result.names[key] = name
    by_name = {name: model for model, name in result.names.items()}
    baseline = by_name.get(baseline, baseline) if baseline is not None else None
    if baseline is not None and baseline not in result.order:
        raise UsageError(f"--baseline {baseline}: name one of the compared models: {', '.join(result.order)}")
    result.baseline = baseline


def _models_given(
    result: CompareInputs,
    preds: Sequence[str],
    names: Sequence[tuple[str, str]],
    baseline: str | None,
    identity: Callable[[str], str],
) -> dict[str, str]:
    """file identity → each model's path as first given (a ``--baseline`` not among them first); sets
    ``result.names`` and ``result.baseline``."""
    given: dict[str, str] = {}
    for path in [*preds, *(path for _, path in names)]:
        given.setdefault(identity(path), path)
    for name, path in names:
        result.names[given[identity(path)]] = name
    if baseline is not None:
        by_name = {name: model for model, name in result.names.items()}
        baseline_path = by_name.get(baseline, baseline)
        if identity(baseline_path) not in given:  # a model of its own, compared first
            given = {identity(baseline_path): baseline_path, **given}
        result.baseline = given[identity(baseline_path)]
    return given


CompareChunk = tuple[int, np.ndarray, dict[str, "np.ndarray | DataError"]]
"""(first row, the labels' rows, model → its rows, or the error that ended its file)."""


def stream_compare_inputs(
    preds: Sequence[str],
    labels: str | None,
    *,
    chunk_rows: int,
    dtype: str = "float32",
    label_cols: Sequence[str] | None = None,
    pred_cols: Sequence[str] | None = None,
    label_key: str | None = None,
    pred_key: str | None = None,
    baseline: str | None = None,
    stdin: BinaryIO | None = None,
    header: bool | None = None,
    names: Sequence[tuple[str, str]] = (),
    keep_going: bool = False,
    row_columns: Sequence[str] = (),
) -> tuple[CompareInputs, Iterator[CompareChunk]]:
    """``gather_compare_inputs``, a chunk of rows at a time: the models and their names as it gives them (each
    ``Input`` holding no rows), and the chunks of the labels and of every model side by side.

    A model whose file cannot be opened, or that fails or runs out of rows before the labels (or has more),
    fails: with ``keep_going`` it is recorded (in ``failed``, or as the error in its chunks from then on) and
    the others go on; without, the error is raised.
    """
    remember_header(header, [labels, *preds, *(path for _, path in names), baseline])
    if [labels, *preds, *(path for _, path in names), baseline].count("-") > 1:
        raise UsageError("only one input can be read from standard input ('-')")
    float_dtype = np.dtype(dtype).type
    options = dict(float_dtype=float_dtype, header=header, stdin=stdin)
    if labels is None:
        if len(preds) != 1 or not label_cols:
            raise UsageError("give the labels with --labels PATH, or one PRED file with --label-col NAME")
        source, chunks = iter_row_chunks(preds[0], chunk_rows, key=pred_key, **options)
        read = resolve_columns(source, None)  # the columns the chunks hold: text columns are left out
        label_at = _read_position(
            source, read, resolve_columns(source, label_cols, option="--label-col"), "--label-col"
        )
        model_at = resolve_columns(source, pred_cols, exclude=[*label_cols, *row_columns], option="--pred-col")
        model_at = _read_position(source, read, model_at, "--pred-col")
        columns = source.columns or [str(i) for i in range(source.array.shape[-1] if source.array.ndim > 1 else 1)]
        columns = [columns[i] for i in read] if read else columns
        label_columns = [columns[i] for i in label_at]
        result = CompareInputs(Input(LABELS_ROLE, np.empty(0), source.name, label_columns), [])
        for i in model_at:
            model = f"{preds[0]}:{columns[i]}"
            result.models.append((model, Input(PRED_ROLE, np.empty(0), source.name, [columns[i]])))
            result.order.append(model)
        _name_columns(result, preds[0], names, baseline)
        result.notes = list(source.notes)
        pick = dict(zip(result.order, model_at, strict=True))
        shown = dict(result.models)

        def split() -> Iterator[CompareChunk]:
            first = 0
            for array in chunks:
                table = array.reshape(len(array), -1)
                models = {
                    model: _computed(PRED_ROLE, table[:, i], shown[model], first, float_dtype)
                    for model, i in pick.items()
                }
                label_rows = table[:, label_at[0]] if len(label_at) == 1 else table[:, label_at]
                yield first, _computed(LABELS_ROLE, label_rows, result.labels, first, float_dtype), models
                first += len(array)

        return result, split()
    label_source, label_chunks = iter_row_chunks(
        labels,
        chunk_rows,
        selectors=label_cols,
        exclude=row_columns,
        option="--label-col",
        key=label_key,
        key_option="--label-key",
        **options,
    )
    label_columns = _columns(label_source, label_cols, row_columns)
    result = CompareInputs(Input(LABELS_ROLE, np.empty(0), label_source.name, label_columns), [])
    given = _models_given(result, preds, names, baseline, file_identity)
    readers: dict[str, tuple[Source, Iterator[np.ndarray]]] = {}
    for path in given.values():
        result.order.append(path)
        try:
            readers[path] = iter_row_chunks(path, chunk_rows, selectors=pred_cols, key=pred_key, **options)
        except DataError as e:
            if not keep_going:
                raise
            result.failed[path] = str(e)
            continue
        result.models.append(
            (path, Input(PRED_ROLE, np.empty(0), readers[path][0].name, _columns(readers[path][0], pred_cols)))
        )
    result.notes = _notes([label_source, *(source for source, _ in readers.values())])
    return result, _side_by_side(result, label_chunks, readers, float_dtype, keep_going)


def _read_position(source: Source, read: list[int], indices: list[int], option: str) -> list[int]:
    """Where the columns ``indices`` of a file are in chunks that hold its columns ``read`` (a text column, left out
    of them, is an error: it holds no numbers)."""
    if not read:
        return indices
    at = {index: position for position, index in enumerate(read)}
    for index in indices:
        if index not in at:
            raise DataError(
                f"{source.name}: column {source.columns[index]!r} holds text, not numbers; "
                f"choose numeric columns with {option}"
            )
    return [at[index] for index in indices]


def _columns(source: Source, selectors: Sequence[str] | None, exclude: Sequence[str] = ()) -> list[str] | None:
    if source.columns is None:
        return None
    return [source.columns[i] for i in resolve_columns(source, selectors, exclude=exclude)]


def _computed(role: Role, array: np.ndarray, like: Input, first: int, float_dtype: type) -> np.ndarray:
    """A chunk of ``like``'s rows as compare computes it (``as_computed``: a value past the dtype's range is an
    error naming its row)."""
    return as_computed(Input(role, array, like.source, like.columns, first), float_dtype).array


def _side_by_side(
    result: CompareInputs,
    label_chunks: Iterator[np.ndarray],
    readers: dict[str, tuple[Source, Iterator[np.ndarray]]],
    float_dtype: type,
    keep_going: bool,
) -> Iterator[CompareChunk]:
    """Each labels chunk with the same rows of every model; a model whose file fails or whose rows do not
    match the labels' is an error from there on."""
    failed: dict[str, DataError] = {}
    buffers: dict[str, list[np.ndarray]] = {path: [] for path in readers}
    first = 0
    shown = dict(result.models)

    def fail(path: str, error: DataError) -> None:
        if not keep_going:
            raise error
        failed[path] = error

    for label_chunk in label_chunks:
        rows = len(label_chunk) if label_chunk.ndim else 1
        models: dict[str, np.ndarray | DataError] = {}
        for path, (source, chunks) in readers.items():
            if path not in failed:
                try:
                    rows_of_model = _take_rows(buffers[path], chunks, rows)
                    models[path] = _computed(PRED_ROLE, rows_of_model, shown[path], first, float_dtype)
                except DataError as e:
                    fail(path, e)
                except _RowsEnded as e:
                    fail(path, _mismatch(source.name, result.labels.source, first + e.rows, longer=False))
            if path in failed:
                models[path] = failed[path]
        yield first, _computed(LABELS_ROLE, label_chunk, result.labels, first, float_dtype), models
        first += rows
    for path, (source, chunks) in readers.items():
        if path not in failed and (buffers[path] or next(chunks, None) is not None):
            fail(path, _mismatch(source.name, result.labels.source, first, longer=True))


class _RowsEnded(Exception):
    def __init__(self, rows: int) -> None:
        self.rows = rows


def _take_rows(buffer: list[np.ndarray], chunks: Iterator[np.ndarray], rows: int) -> np.ndarray:
    """The next ``rows`` rows of a reader whose chunks need not match the labels' (``buffer`` keeps the rest)."""
    have = sum(len(a) for a in buffer)
    while have < rows:
        chunk = next(chunks, None)
        if chunk is None:
            raise _RowsEnded(have)
        buffer.append(chunk)
        have += len(chunk)
    joined = buffer[0] if len(buffer) == 1 else np.concatenate(buffer)
    buffer[:] = [joined[rows:]] if len(joined) > rows else []
    return joined[:rows]


def _mismatch(model: str, labels: str, rows: int, *, longer: bool) -> DataError:
    if longer:
        return DataError(f"{model} has more rows than {labels} ({rows}): give every model the labels' rows")
    return DataError(f"{model} ends after row {rows}, before {labels} does: give every model the labels' rows")


def stream_inputs(
    spec: LossSpec,
    pred: str,
    labels: str | None,
    *,
    extra: dict[str, str],
    chunk_rows: int,
    pred_cols: Sequence[str] | None = None,
    label_cols: Sequence[str] | None = None,
    pred_key: str | None = None,
    label_key: str | None = None,
    dtype: str = "float64",
    header: bool | None = None,
    stdin: BinaryIO | None = None,
    row_columns: Sequence[str] = (),
) -> tuple[Iterator[dict[str, Input]], list[str]]:
    """The loss's arguments ``chunk_rows`` rows at a time, read from the files as they are consumed.

    The same files, columns and single-file mode as ``gather_inputs``; every
    role's file is read alongside the others, and files whose row counts differ
    are an error at the row where one runs out. Returns the chunks and the
    files' notes, for the warnings.
    """
    remember_header(header, [pred, labels, *extra.values()])
    if [pred, labels, *extra.values()].count("-") > 1:
        raise UsageError("only one input can be read from standard input ('-')")
    float_dtype = np.dtype(dtype).type
    target = spec.target_role
    if target is None and labels is not None:
        raise UsageError(f"{spec.name} takes no LABELS")
    plan: list[tuple[Role, str, Sequence[str] | None, Sequence[str], str, str | None]] = []
    if target is not None:
        if labels is None and not label_cols:
            raise UsageError(f"{spec.name} needs LABELS, or --label-col NAME to take them from {pred}")
        label_exclude = tuple(row_columns) if labels is not None else ()
        plan.append(
            (target, labels or pred, label_cols, label_exclude, "--label-col", label_key if labels else pred_key)
        )
    exclude = [*label_cols, *row_columns] if target is not None and labels is None and not pred_cols else ()
    plan.append((spec.pred_role, pred, pred_cols, exclude or (), "--pred-col", pred_key))
    for role in spec.input_roles:
        if role.name in extra:
            plan.append((role, extra[role.name], None, (), f"--input {role.name}", None))
        elif role.default is None:
            raise UsageError(f"{spec.name} needs --input {role.name}=PATH ({role.doc})")
    # A pipe (or standard input) that two roles read, e.g. labels and predictions side by side,
    # can be read once only: it is read whole, and each role gets slices of its columns.
    uses = Counter(path for _, path, *_ in plan)
    whole: dict[str, Source] = {}
    for _, path, _, _, _, key in plan:
        if uses[path] > 1 and path not in whole and is_stream(path):
            whole[path] = read_source(path, key=key, stdin=stdin, float_dtype=float_dtype, header=header)
    readers = []
    sources: dict[str, Source] = {}
    for role, path, selectors, excluded, option, key in plan:
        if path in whole:
            source = whole[path]
            chunks = row_slices(select_columns(source, selectors, exclude=excluded, option=option), chunk_rows)
        else:
            source, chunks = iter_row_chunks(
                path,
                chunk_rows,
                selectors=selectors,
                exclude=excluded,
                option=option,
                key=key,
                float_dtype=float_dtype,
                header=header,
                stdin=stdin,
            )
        columns = None
        if source.columns is not None:
            indices = resolve_columns(source, selectors, exclude=excluded, option=option)
            columns = [source.columns[i] for i in indices]
        readers.append((role, source.name, columns, chunks))
        sources[path] = source
    in_order = [sources[path] for path in dict.fromkeys([pred, labels, *extra.values()]) if path in sources]
    return _zip_chunks(readers, chunk_rows, float_dtype), _notes(in_order)


def _zip_chunks(
    readers: list[tuple[Role, str, list[str] | None, Iterator[np.ndarray]]], chunk_rows: int, float_dtype: type
) -> Iterator[dict[str, Input]]:
    """The readers' chunks side by side; a reader of a single row beside readers of more is shared.

    A shared input (a file of one row, or a 0-d array) comes whole with every
    chunk, as a ``SharedInput``: torch broadcasts it over each chunk's rows as it
    does over all of them in memory, and validation judges it against them.
    Chunks then hold two rows at least, so that they never look like one row
    beside another. The other readers must run out together.
    """
    peeked = [_peek(chunks) for *_, chunks in readers]
    many = any(rows > 1 for rows, _ in peeked)
    shared = {index: next(chunks) for index, (rows, chunks) in enumerate(peeked) if many and rows == 1}
    apart = {
        index: rechunk(chunks, 2) if shared and chunk_rows == 1 else chunks
        for index, (_, chunks) in enumerate(peeked)
        if index not in shared
    }
    first_row = 0
    while True:
        arrays = {index: next(chunks, None) for index, chunks in apart.items()}
        if all(a is None for a in arrays.values()):
            return
        lengths = {_rows(a) if a is not None else 0 for a in arrays.values()}
        if any(a is None for a in arrays.values()) or len(lengths) > 1:
            ends = first_row + min(lengths)  # the last row of the shortest, counted from 1
            short = [readers[i][1] for i, a in arrays.items() if a is None or _rows(a) == min(lengths)]
            longer = [readers[i][1] for i, a in arrays.items() if a is not None and _rows(a) > min(lengths)]
            raise DataError(
                f"the inputs have different numbers of rows: {', '.join(short)} "
                f"{'end' if len(short) > 1 else 'ends'} after row {ends}, {', '.join(longer)} "
                f"{'go' if len(longer) > 1 else 'goes'} on; give every input the same rows"
            )
        chunk: dict[str, Input] = {}
        for index, (role, name, columns, _) in enumerate(readers):
            if index in shared:
                chunk[role.name] = as_computed(SharedInput(role, shared[index], name, columns), float_dtype)
            else:
                chunk[role.name] = as_computed(Input(role, arrays[index], name, columns, first_row), float_dtype)
        yield chunk
        first_row += lengths.pop()


def _peek(chunks: Iterator[np.ndarray]) -> tuple[int, Iterator[np.ndarray]]:
    """Whether a reader holds 0, 1 or more (2) rows, reading one chunk, or two of one row; and the reader, whole."""
    head = list(itertools.islice(chunks, 1))
    if head and _rows(head[0]) == 1:
        head += itertools.islice(chunks, 1)
    return min(sum(_rows(array) for array in head), 2), itertools.chain(head, chunks)


def _rows(array: np.ndarray) -> int:
    return len(array) if array.ndim else 1
