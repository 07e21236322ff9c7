"""Read prediction and label files into numpy arrays (SPEC §2): the front door of the readers.

:func:`read_source` loads a file whole, :func:`iter_row_chunks` a block of
rows at a time; both choose the reader by the path's form. Every problem with
an input is a ``DataError``. The readers, a module each:

- ``files``: which form a path names; regular files and streams (pipes, ``-``), opened and read;
- ``text``: text tables, their layout and whole reads; ``textchunks``: text tables streamed;
- ``npy``, ``npz``, ``parquet``: the other forms, whole and streamed;
- ``arrow``: Arrow columns as numpy arrays, for text and Parquet;
- ``source``: the ``Source`` every reader gives, and the column rules all forms share (``select_columns``).

``import losscli.io.loading`` imports neither pandas nor pyarrow; pyarrow is
imported inside the functions that need it.
"""

from __future__ import annotations

import dataclasses
import mmap
import os
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import numpy as np

from losscli.io.files import (
    _PARQUET_EXTENSIONS,
    _TEXT_DELIMITERS,
    STDIN,
    STDIN_NAME,
    _check_file,
    _is_regular_file,
    _map_file,
    _open_stream,
    _read_stream,
    _refuse_key,
    _stdin,
    _unsupported,
    is_stream,
)
from losscli.io.npy import _mapped_chunks, _read_npy, check_array
from losscli.io.npz import _npz_chunks, _read_npz
from losscli.io.parquet import _parquet_chunks, _read_parquet
from losscli.io.source import (
    ColumnProblem,
    Source,
    rechunk,
    resolve_columns,
    row_slices,
    select_columns,
    split_column_options,
)
from losscli.io.text import _read_text, cell_as_written, line_of_row, remember_header
from losscli.io.textchunks import _text_chunks

__all__ = [
    "ColumnProblem",
    "Source",
    "cell_as_written",
    "check_array",
    "is_stream",
    "iter_row_chunks",
    "line_of_row",
    "read_as_text",
    "read_source",
    "rechunk",
    "remember_header",
    "resolve_columns",
    "row_slices",
    "select_columns",
    "split_column_options",
]


def read_source(
    path: str,
    *,
    key: str | None = None,
    key_option: str = "--pred-key",
    stdin: BinaryIO | None = None,
    float_dtype: type = np.float64,
    header: bool | None = None,
) -> Source:
    """Load one input file (SPEC §2); every problem with it is a ``DataError``.

    ``key`` picks an array of an ``.npz`` archive; ``key_option`` is the option
    that sets it, named in error messages. ``stdin`` replaces
    ``sys.stdin.buffer`` when ``path`` is ``"-"``. Tables with non-integer
    columns come back as ``float_dtype`` (float32 saves a copy when the
    computation runs in float32); integer columns stay exact either way.
    ``header`` says whether a text table's first line is its header (None:
    decide by its content, see ``_is_header``). A pipe or other file that is
    not a regular one (``/dev/stdin``, ``<(...)``) is read once, as a stream.
    """
    if path == STDIN:
        _refuse_key(STDIN_NAME, key, key_option)
        data = _read_stream(STDIN_NAME, stdin if stdin is not None else _stdin())
        return _read_text(STDIN_NAME, data, None, header=header, float_dtype=float_dtype)

    extension = os.path.splitext(path)[1].lower()
    if not _is_regular_file(path, extension):
        _refuse_key(path, key, key_option)
        with _open_stream(path) as handle:
            data = _read_stream(path, handle)
        return _read_text(path, data, _TEXT_DELIMITERS.get(extension), header=header, float_dtype=float_dtype)
    _check_file(path)
    if extension == ".npz":
        return _read_npz(path, key, key_option)
    _refuse_key(path, key, key_option)
    if extension in _TEXT_DELIMITERS:
        return _read_text(
            path, _map_file(path), _TEXT_DELIMITERS[extension], path=path, header=header, float_dtype=float_dtype
        )
    if extension == ".npy":
        return _read_npy(path)
    if extension in _PARQUET_EXTENSIONS:
        return _read_parquet(path, float_dtype)
    raise _unsupported(path, extension)


def read_as_text(name: str) -> bool:
    """Whether the input named ``name`` is a text table, whose numbers are parsed in the run's precision."""
    return name == STDIN_NAME or os.path.splitext(name)[1].lower() in _TEXT_DELIMITERS or is_stream(name)


def iter_row_chunks(
    path: str,
    chunk_rows: int,
    *,
    selectors: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    option: str = "--pred-col",
    key: str | None = None,
    key_option: str = "--pred-key",
    float_dtype: type = np.float64,
    header: bool | None = None,
    stdin: BinaryIO | None = None,
) -> tuple[Source, Iterator[np.ndarray]]:
    """A file's selected columns ``chunk_rows`` rows at a time, without holding the whole file.

    Returns the source's header (name, columns and notes, with an empty array
    of the right width, for messages and column checks) and an iterator of
    arrays shaped as ``select_columns`` shapes them: the values, integer
    columns and errors a whole read gives. Text tables (files, pipes, ``-``)
    are read once from start to end, in pieces of whole lines that pyarrow
    parses; ``.npy`` streams through its memory map, ``.npz`` arrays as they
    inflate and Parquet by row groups; other forms (Fortran-order or 0-d
    ``.npz`` arrays, text tables of very long lines) are read whole and then
    sliced. ``header`` and ``stdin`` are as for ``read_source``.
    """
    extension = os.path.splitext(path)[1].lower()
    regular = path != STDIN and _is_regular_file(path, extension)
    if not regular or extension in _TEXT_DELIMITERS:
        _refuse_key(STDIN_NAME if path == STDIN else path, key, key_option)
        delimiter = None if path == STDIN else _TEXT_DELIMITERS.get(extension)
        options = (selectors, exclude, option, float_dtype, header, stdin)
        return _text_chunks(path, delimiter, chunk_rows, *options, regular)
    if extension in _PARQUET_EXTENSIONS:
        _check_file(path)
        return _parquet_chunks(path, chunk_rows, selectors, exclude, option, float_dtype)
    if extension == ".npz":
        _check_file(path)
        streamed = _npz_chunks(path, chunk_rows, key, key_option, selectors, exclude, option)
        if streamed is not None:
            return streamed
    source = read_source(path, key=key, key_option=key_option, float_dtype=float_dtype)
    if isinstance(source.array.base, mmap.mmap) and source.array.ndim > 0:  # a memory-mapped .npy
        select_columns(dataclasses.replace(source, array=source.array[:0]), selectors, exclude=exclude, option=option)
        return source, _mapped_chunks(source, chunk_rows, selectors, exclude, option)
    return source, row_slices(select_columns(source, selectors, exclude=exclude, option=option), chunk_rows)
