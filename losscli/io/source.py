"""What every reader gives (``Source``), and the rules all forms share for picking its columns.

A column that cannot be read as numbers does not fail the whole file: real
tables carry id or name columns next to the numbers. Its problem is kept in
``Source.unreadable`` and raised by :func:`select_columns` when the column is
selected, with the option that selected it, so "choose numeric columns with
--pred-col" is a fix that works. Rows with the wrong number of fields, empty
files and unreadable files fail at once.

Streamed reads hand their rows on in blocks of any size, which :func:`rechunk`
cuts to the chunk size (:func:`row_slices` for an array held whole).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from losscli.errors import DataError

_MAX_LISTED_COLUMNS = 20
_MAX_CELL_CHARS = 40


class ColumnProblem(NamedTuple):
    """Why a table column cannot be used; ``select_columns`` raises it with its option."""

    problem: str  # e.g. "row 3 (line 5), column 'score': cannot read 'abc' as a number"
    remedy: str  # completed with the option name, e.g. "fix the cell or choose numeric columns with"


@dataclass
class Source:
    """One loaded input file."""

    name: str
    """The path as the user typed it, or ``"<stdin>"`` for ``-``."""
    array: np.ndarray
    """.npy/.npz: the array as stored (any shape, memory-mapped for .npy);
    tables: 2-D (rows, columns), possibly read-only. An unreadable column
    holds NaN here: select through :func:`select_columns`, which raises its
    problem."""
    columns: list[str] | None
    """Tables: header names, or "0", "1", ... without a header; arrays: None."""
    integer_columns: frozenset[int] = frozenset()
    """Table columns whose every value is an integer. ``array`` is float64 when
    such columns sit next to float ones; ``select_columns`` gives them back as
    int64."""
    unreadable: dict[int, ColumnProblem] = field(default_factory=dict)
    """Table columns that are not numbers (a text cell, an empty cell)."""
    notes: list[str] = field(default_factory=list)
    """Things the reader did that the user should hear of once (e.g. a pandas index column left out)."""
    text_columns: frozenset[int] = frozenset()
    """Unreadable columns that hold text and no number at all (``arrow.is_text_column``): ids, names,
    categories. A default choice of columns (no ``--pred-col``/``--label-col``) leaves them out."""


def split_column_options(values: Sequence[str] | None) -> list[str] | None:
    """Flatten repeated and comma-separated column options: ``["a,b", "c"]`` -> ``["a", "b", "c"]``.

    ``None`` or ``[]`` (option not given) gives ``None``, meaning "all columns".
    Items are stripped and empty items dropped, so ``"a, b,"`` is ``a`` and ``b``.
    """
    if not values:
        return None
    return [item.strip() for value in values for item in str(value).split(",") if item.strip()]


def select_columns(
    source: Source,
    selectors: Sequence[str] | None,
    *,
    exclude: Sequence[str] = (),
    option: str = "--pred-col",
) -> np.ndarray:
    """Pick columns of a loaded file by name or 0-based index (negative counts from the end).

    ``selectors=None`` takes every column except ``exclude`` and the text
    columns (explicit selectors are taken as given, ``exclude`` is ignored); an array with
    neither is returned unchanged, whatever its shape. One selected column
    gives shape ``(N,)``, several ``(N, C)`` in the order given. ``option``
    is the command-line option named in error messages.
    """
    if selectors is None and not exclude and source.columns is None:
        return source.array
    return _checked_columns(source, resolve_columns(source, selectors, exclude=exclude, option=option), option)


def resolve_columns(
    source: Source,
    selectors: Sequence[str] | None,
    *,
    exclude: Sequence[str] = (),
    option: str = "--pred-col",
) -> list[int]:
    """The column indices :func:`select_columns` takes, in its order (same arguments, same errors).

    An array taken whole (no selectors, no exclude) gives the indices of its
    columns when it is 2-D and ``[]`` otherwise. Unreadable columns are not
    checked here.
    """
    if selectors is None and not exclude and source.columns is None:
        return list(range(source.array.shape[1])) if source.array.ndim == 2 else []
    _check_selectable(source, option)
    if selectors is None:
        excluded = {_resolve_column(source, selector, option) for selector in exclude}
        every = range(source.array.shape[1])  # millions, for one long line: loop in Python only to exclude
        indices = [index for index in every if index not in excluded] if excluded else list(every)
        if source.text_columns:  # an id or category column is no prediction; only text left: its error says why
            indices = [index for index in indices if index not in source.text_columns] or indices
        if not indices:
            raise DataError(
                f"{source.name}: no column is left for {option} once {_quoted(exclude)} "
                f"{'is' if len(exclude) == 1 else 'are'} excluded; give the file more columns"
            )
        return indices
    if not selectors:
        raise DataError(f"{source.name}: {option} names no column; give a column name or a 0-based index")
    return [_resolve_column(source, selector, option) for selector in selectors]


def _check_selectable(source: Source, option: str) -> None:
    shape = source.array.shape
    if len(shape) == 2:
        return
    if len(shape) < 2:
        raise DataError(
            f"{source.name}: a {len(shape)}-D array of shape {shape} has no columns to pick with {option}; "
            f"drop {option}"
        )
    raise DataError(
        f"{source.name}: {option} picks columns of 2-D data, but the array has shape {shape}; drop {option}"
    )


def _resolve_column(source: Source, selector: str, option: str) -> int:
    """Column index of a name (exact match first) or of a 0-based, possibly negative, index."""
    columns = source.columns
    n_columns = source.array.shape[1]
    text = str(selector).strip()
    if columns is not None and text in columns:
        return columns.index(text)
    try:
        index = int(text)
    except ValueError:
        if columns is None:
            raise DataError(
                f"{source.name}: {text!r} is not a column index, and an array has no column names; "
                f"give {option} an index from {-n_columns} to {n_columns - 1}"
            ) from None
        raise DataError(
            f"{source.name}: no column {text!r}; the columns are {_listed(columns)}; "
            f"give {option} one of these names or a 0-based index"
        ) from None
    if not -n_columns <= index < n_columns:
        what = (
            f"the columns are {_listed(columns)}"
            if columns is not None
            else f"the array has shape {source.array.shape}"
        )
        raise DataError(
            f"{source.name}: column index {index} is out of range "
            f"({n_columns} column{'s' * (n_columns != 1)}; {what}); "
            f"give {option} an index from {-n_columns} to {n_columns - 1}"
        )
    return index % n_columns


def _checked_columns(source: Source, indices: list[int], option: str) -> np.ndarray:
    """The columns ``indices`` of a table, once none of them is unreadable (its problem is raised with ``option``)."""
    for index in indices if source.unreadable else ():  # millions of columns, for one long line
        if index in source.unreadable:
            problem, remedy = source.unreadable[index]
            raise DataError(f"{source.name}: {problem}; {remedy} {option}")
    return _take_columns(source, indices)


def _take_columns(source: Source, indices: list[int]) -> np.ndarray:
    array = source.array
    to_int = array.dtype != np.int64 and source.integer_columns.issuperset(indices)
    if len(indices) == 1:
        picked = array[:, indices[0]]
    elif indices == list(range(indices[0], indices[-1] + 1)):
        picked = array[:, indices[0] : indices[-1] + 1]  # a run of columns: a view, no copy
    else:
        picked = array[:, indices]
    return picked.astype(np.int64) if to_int else picked


def _listed(columns: list[str]) -> str:
    shown = ", ".join(repr(column) for column in columns[:_MAX_LISTED_COLUMNS])
    extra = len(columns) - _MAX_LISTED_COLUMNS
    return f"{shown}, ... ({extra} more)" if extra > 0 else shown


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(repr(item) for item in items)


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_CELL_CHARS else text[: _MAX_CELL_CHARS - 3] + "..."


def row_slices(array: np.ndarray, chunk_rows: int) -> Iterator[np.ndarray]:
    """An array held whole, ``chunk_rows`` rows at a time (a 0-d array at once), as ``iter_row_chunks`` gives them."""
    if array.ndim == 0:
        return iter([array])
    return (array[start : start + chunk_rows] for start in range(0, max(len(array), 1), chunk_rows))


def rechunk(blocks: Iterator[np.ndarray], chunk_rows: int) -> Iterator[np.ndarray]:
    """Blocks of any size as chunks of exactly ``chunk_rows`` rows (the last one shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        while held >= chunk_rows:
            joined = pending[0] if len(pending) == 1 else np.concatenate(pending)
            yield joined[:chunk_rows]
            rest = joined[chunk_rows:]
            pending, held = ([rest] if len(rest) else []), len(rest)
    if held:
        yield pending[0] if len(pending) == 1 else np.concatenate(pending)
