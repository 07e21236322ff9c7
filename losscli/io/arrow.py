"""Arrow columns as numpy arrays, as the text and Parquet readers share them: which Arrow types are numbers,
zero-copy views of their buffers, the first empty cell, and the (rows, columns) array a table becomes.

pyarrow is imported inside the functions that need it. Importing this module
sets the allocator setting pyarrow reads when it loads.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

# pyarrow's allocator (mimalloc) keeps freed memory for a while before giving it
# back; a parse of a large file frees most of what it allocated, so purging at
# once keeps the peak resident memory down (about 55 MB on a 10M-row pair).
# Read when pyarrow loads, hence set before any import of it.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")

if TYPE_CHECKING:
    import pyarrow as pa


def _numeric_kind(arrow_type: pa.DataType) -> str | None:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    return None


def _numpy_chunks(column: pa.ChunkedArray, kind: str) -> list[np.ndarray]:
    """Zero-copy numpy views of a null-free numeric column's chunks (cast to int64/float64 first if needed)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "int":
        target, dtype = pa.int64(), np.dtype(np.int64)
    elif pa.types.is_float32(column.type):  # parsed as float32 on request: keep it
        target, dtype = pa.float32(), np.dtype(np.float32)
    else:
        target, dtype = pa.float64(), np.dtype(np.float64)
    views = []
    for chunk in column.chunks:
        if len(chunk) == 0:
            continue
        if chunk.type != target:
            chunk = pc.cast(chunk, target)
        views.append(
            np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)
        )
    return views


NUMBER_PATTERN = r"^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|nan|inf|infinity)\s*$"
"""A cell that reads as a number (the forms Python's ``float`` and pyarrow share), case aside."""


def is_text_column(column: pa.ChunkedArray) -> bool:
    """Whether a column holds text and no number: every cell that is not empty fails to read as a number (an id,
    a name, a category, a date). Such a column is never a default column of predictions or labels
    (``Source.text_columns``), though ``--by`` can slice by it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if _numeric_kind(column.type) is not None or pa.types.is_null(column.type):
        return False
    try:
        cells = pc.utf8_trim_whitespace(column if pa.types.is_string(column.type) else pc.cast(column, pa.string()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # bytes that are not UTF-8, lists, structs: no numbers
        return True
    filled = bool(pc.any(pc.cast(pc.utf8_length(cells), pa.bool_())).as_py())  # (a Python 0 here imports pandas)
    return filled and first_number(cells) is None


def first_number(cells: pa.ChunkedArray | pa.Array) -> int | None:
    """The index of the first cell of a text column that reads as a number (``NUMBER_PATTERN``), or None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    offset = 0
    for chunk in chunks:
        if not pa.types.is_string(chunk.type):
            chunk = pc.cast(chunk, pa.string())
        found = pc.match_substring_regex(chunk, NUMBER_PATTERN, ignore_case=True)
        # Through int8 buffers, nulls as 0: pyarrow's index(), to_numpy() and a Python scalar import pandas.
        if pc.any(found).as_py():
            flags = pc.cast(found, pa.int8())
            at = np.frombuffer(flags.buffers()[1], dtype=np.int8, count=len(flags), offset=flags.offset)
            if flags.null_count:
                valid = np.unpackbits(np.frombuffer(flags.buffers()[0], np.uint8), bitorder="little")
                at = at * valid[flags.offset : flags.offset + len(flags)]
            return offset + int(np.argmax(at))
        offset += len(chunk)
    return None


def _first_null(column: pa.ChunkedArray) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    offset = 0
    for chunk in column.chunks:
        if chunk.null_count:
            if pa.types.is_null(chunk.type):
                return offset
            flags = pc.cast(pc.is_null(chunk), pa.int8())
            return offset + int(
                np.argmax(np.frombuffer(flags.buffers()[1], dtype=np.int8, count=len(flags), offset=flags.offset))
            )
        offset += len(chunk)
    raise AssertionError("column without nulls")


def _stack_columns(
    values: list[list[np.ndarray] | None], n_rows: int, float_dtype: type = np.float64
) -> tuple[np.ndarray, frozenset[int]]:
    """One C-contiguous (rows, columns) array; ``None`` columns (unreadable) become NaN.

    int64 when every column holds integers; otherwise ``float_dtype`` (each
    chunk converted as it is copied), or float64 when ``float_dtype`` cannot
    hold a column as read: integers past 2**24, or floats past float32's
    largest (3.4e38). The returned set names the integer columns, which
    ``select_columns`` restores exactly; a float too large for the run is
    then refused with its row by the run's own check (``inputs.as_computed``).
    A single single-chunk column of the right type is a view on the Arrow
    buffer, not a copy.
    """
    integer = frozenset(
        index for index, chunks in enumerate(values) if chunks is not None and all(c.dtype == np.int64 for c in chunks)
    )
    if len(integer) == len(values):
        return _filled(values, n_rows, np.dtype(np.int64)), integer
    dtype = np.dtype(float_dtype)
    exact = _exact_integers(values, integer, dtype)
    if exact != integer:
        dtype = np.dtype(np.float64)
        exact = _exact_integers(values, integer, dtype)
    try:
        with np.errstate(over="raise"):
            return _filled(values, n_rows, dtype), exact
    except FloatingPointError:
        return _filled(values, n_rows, np.dtype(np.float64)), _exact_integers(values, integer, np.dtype(np.float64))


def _exact_integers(values: list[list[np.ndarray] | None], integer: frozenset[int], dtype: np.dtype) -> frozenset[int]:
    """The integer columns whose every value the float ``dtype`` holds exactly (up to 2**24 in float32, 2**53)."""
    limit = 2 ** (np.finfo(dtype).nmant + 1)
    return frozenset(
        index for index in integer if all(-limit <= int(c.min()) and int(c.max()) <= limit for c in values[index])
    )


def _filled(values: list[list[np.ndarray] | None], n_rows: int, dtype: np.dtype) -> np.ndarray:
    if len(values) == 1 and values[0] is not None and len(values[0]) == 1 and values[0][0].dtype == dtype:
        return values[0][0].reshape(n_rows, 1)
    out = np.empty((n_rows, len(values)), dtype=dtype)
    for index, chunks in enumerate(values):
        if chunks is None:
            out[:, index] = np.nan
            continue
        row = 0
        for chunk in chunks:
            out[row : row + len(chunk), index] = chunk
            row += len(chunk)
    return out
