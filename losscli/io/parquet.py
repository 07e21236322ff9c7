"""Parquet files, read with pyarrow and never through pandas: the data columns (pandas' stored index left out),
a damaged column kept as a problem of its own, and whole reads and record batches converted alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from losscli.errors import DataError
from losscli.io.arrow import _first_null, _numeric_kind, _numpy_chunks, _stack_columns, is_text_column
from losscli.io.source import ColumnProblem, Source, _checked_columns, _quoted, rechunk, resolve_columns
from losscli.terminal import counted

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq


def _parquet_errors() -> tuple[type[BaseException], ...]:
    """What pyarrow raises reading a damaged Parquet file: its errors, OSError, and ValueError (a
    UnicodeDecodeError for a column name that is not UTF-8)."""
    import pyarrow as pa

    return (pa.ArrowException, OSError, ValueError)


def _read_parquet(path: str, float_dtype: type = np.float64) -> Source:
    parquet, names, notes = _open_parquet(path)
    damaged: dict[int, str] = {}
    with parquet:
        try:
            # ParquetFile.read rather than pq.read_table: read_table goes through
            # pyarrow.dataset, whose import pulls in pandas.
            table = parquet.read(columns=names, use_threads=True, use_pandas_metadata=False)
        except _parquet_errors():
            table, damaged = _read_parquet_columns(parquet, names)
    source = _parquet_source(path, table, float_dtype)
    for index, reason in damaged.items():  # an error only if chosen, as when streamed (which reads only those)
        source.unreadable[index] = _damaged_column(names[index], reason)
    source.notes.extend(notes)
    return source


def _damaged_column(name: str, reason: str) -> ColumnProblem:
    return ColumnProblem(
        f"column {name!r} is not readable Parquet ({reason})", "write the file again, or choose other columns with"
    )


def _first_damaged_column(parquet: pq.ParquetFile, names: list[str]) -> tuple[str, str] | None:
    """The first of ``names`` whose pages fail to read (read a batch at a time), or read with another number
    of rows than the file's metadata says, and why; None if none does."""
    expected = parquet.metadata.num_rows
    for name in names:
        try:
            rows = 0
            for batch in parquet.iter_batches(batch_size=1 << 16, columns=[name], use_pandas_metadata=False):
                rows += batch.num_rows
        except _parquet_errors() as exc:
            return name, str(exc).strip()
        if rows != expected:
            return name, _wrong_length(rows, expected)
    return None


def _wrong_length(rows: int, expected: int) -> str:
    return f"it holds {counted(rows, 'row')} where the file's metadata says {expected}"


def _read_parquet_columns(parquet: pq.ParquetFile, names: list[str]) -> tuple[pa.Table, dict[int, str]]:
    """A damaged file's columns read one at a time: the table (nulls for a damaged column) and why each failed."""
    import pyarrow as pa

    rows = parquet.metadata.num_rows
    columns, damaged = [], {}
    for index, name in enumerate(names):
        try:
            column = parquet.read(columns=[name], use_pandas_metadata=False).column(0)
            if len(column) != rows:
                raise pa.ArrowInvalid(_wrong_length(len(column), rows))
            columns.append(column)
        except _parquet_errors() as exc:
            columns.append(pa.nulls(rows, pa.float64()))
            damaged[index] = str(exc).strip()
    return pa.Table.from_arrays(columns, names=names), damaged


def _open_parquet(path: str) -> tuple[pq.ParquetFile, list[str], list[str]]:
    """The open file, the names of its data columns, and notes on the columns left out.

    pandas' ``df.to_parquet`` stores an index other than the default range as
    a column (``__index_level_0__``, or the index's name) that its metadata
    lists in ``index_columns``; ``pd.read_parquet`` makes it the index again,
    so it is no data: it is left out, with a note. A file without a row or a
    data column is an error.
    """
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except _parquet_errors() as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    index = _pandas_index_columns(schema)
    names = [name for name in schema.names if name not in index]
    notes = [
        f"{path}: column {name!r} is pandas' index (as df.to_parquet writes it), not data: left out" for name in index
    ]
    rows = parquet.metadata.num_rows
    if not names or not rows:
        parquet.close()
        raise DataError(
            f"{path}: the Parquet file holds no data ({counted(rows, 'row')}, {counted(len(names), 'column')}"
            + (f" besides pandas' index {_quoted(index)}" if index else "")
            + "); give a file with at least one row of numbers"
        )
    return parquet, names, notes


def _pandas_index_columns(schema: pa.Schema) -> list[str]:
    """The columns that pandas' metadata names as the stored index (none for a default range index)."""
    import json

    text = (schema.metadata or {}).get(b"pandas")
    if not text:
        return []
    try:
        index = json.loads(text).get("index_columns", [])
    except (ValueError, AttributeError):  # metadata some other writer filled in: no index to leave out
        return []
    # A range index is a dict of start/stop/step, not a column.
    return [name for name in index if isinstance(name, str) and name in schema.names] if isinstance(index, list) else []


def _parquet_source(path: str, table: pa.Table, float_dtype: type, first_row: int = 0) -> Source:
    """A Parquet table (or a block of its rows starting at ``first_row``) as a ``Source``.

    Whole files and streamed blocks go through here alike, so that both give
    the same arrays and the same problems: a column that is not numbers (text,
    dates, lists, structs, dictionaries, nulls only), an empty cell, an
    unsigned integer beyond int64.
    """
    import pyarrow as pa

    names = list(table.column_names)
    values: list[list[np.ndarray] | None] = []
    unreadable: dict[int, ColumnProblem] = {}
    text: set[int] = set()
    for index, (name, column) in enumerate(zip(names, table.columns, strict=True)):
        kind = _numeric_kind(column.type)
        if kind is None:
            if is_text_column(column):
                text.add(index)
            problem = ColumnProblem(
                f"column {name!r} holds {column.type} values, not numbers",
                "convert it to numbers when writing the file, or choose numeric columns with",
            )
        elif column.null_count:
            row = first_row + _first_null(column)
            problem = ColumnProblem(
                f"row {row + 1}, column {name!r}: empty cell (null)", "fill it in or choose other columns with"
            )
        else:
            try:
                values.append(_numpy_chunks(column, kind))
                continue
            except pa.ArrowInvalid:  # uint64 values beyond int64: the only numbers int64/float64 casts refuse
                row, value = _first_beyond_int64(column)
                problem = ColumnProblem(
                    f"row {first_row + row + 1}, column {name!r}: {value} is beyond int64 (at most {2**63 - 1})",
                    "store the column as int64 or float, or choose other columns with",
                )
        unreadable[index] = problem
        values.append(None)
    array, integer_columns = _stack_columns(values, table.num_rows, float_dtype)
    return Source(path, array, names, integer_columns, unreadable, text_columns=frozenset(text))


def _first_beyond_int64(column: pa.ChunkedArray) -> tuple[int, int]:
    """Row and value of the first value of an unsigned (null-free) column that int64 cannot hold."""
    offset = 0
    for chunk in column.chunks:
        beyond = chunk.to_numpy() > 2**63 - 1
        if beyond.any():
            row = int(np.argmax(beyond))
            return offset + row, chunk[row].as_py()
        offset += len(chunk)
    raise AssertionError("no value beyond int64")


def _parquet_chunks(
    path: str, chunk_rows: int, selectors: Sequence[str] | None, exclude: Sequence[str], option: str, float_dtype: type
) -> tuple[Source, Iterator[np.ndarray]]:
    """The selected columns of a Parquet file, a record batch at a time, converted as a whole read converts them."""
    import pyarrow as pa

    parquet, names, notes = _open_parquet(path)
    header = Source(path, np.empty((0, len(names)), float_dtype), names, notes=notes)
    if selectors is None:  # a default choice leaves text columns out: read those (not numbers) to know them
        schema = parquet.schema_arrow
        header.text_columns = frozenset(
            i
            for i, name in enumerate(names)
            if _numeric_kind(schema.field(name).type) is None
            and is_text_column(parquet.read(columns=[name], use_pandas_metadata=False).column(0))
        )
    try:
        wanted = [names[i] for i in resolve_columns(header, selectors, exclude=exclude, option=option)]
    except DataError:
        parquet.close()
        raise

    distinct = list(dict.fromkeys(wanted))  # a column chosen twice is read once

    def batches() -> Iterator[pa.RecordBatch]:
        """The record batches; a page found damaged on the way is the whole read's error (exit 3)."""
        iterator = parquet.iter_batches(batch_size=chunk_rows, columns=distinct, use_pandas_metadata=False)
        rows = 0
        while True:
            try:
                batch = next(iterator, None)
                if batch is None and rows != parquet.metadata.num_rows:
                    raise pa.ArrowInvalid(_wrong_length(rows, parquet.metadata.num_rows))
            except _parquet_errors() as exc:
                found = _first_damaged_column(parquet, distinct)
                if found is None:
                    raise DataError(f"{path}: not a readable Parquet file ({str(exc).strip()})") from None
                problem, remedy = _damaged_column(*found)
                raise DataError(f"{path}: {problem}; {remedy} {option}") from None
            if batch is None:
                return
            rows += batch.num_rows
            yield batch

    def blocks() -> Iterator[np.ndarray]:
        rows = 0
        with parquet:
            for batch in batches():
                read = pa.Table.from_batches([batch])
                table = pa.Table.from_arrays([read.column(name) for name in wanted], names=wanted)
                block = _parquet_source(path, table, float_dtype, first_row=rows)
                yield _checked_columns(block, list(range(len(wanted))), option)
                rows += batch.num_rows

    return header, rechunk(blocks(), chunk_rows)
