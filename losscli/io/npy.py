""".npy files: the header read without loading (or unpickling) anything, the checks every array passes
(``check_array``), the array memory-mapped, and its rows streamed through the map.
"""

from __future__ import annotations

import dataclasses
import math
import mmap
import tokenize
from collections.abc import Iterator, Sequence
from typing import BinaryIO, NamedTuple

import numpy as np

from losscli.errors import DataError
from losscli.io.source import Source, select_columns


def _read_npy(path: str) -> Source:
    with open(path, "rb") as handle:
        if handle.read(4) == b"PK\x03\x04":
            raise DataError(f"{path}: holds an .npz archive, not a .npy array; rename it to .npz")
        handle.seek(0)
        header = _npy_header(path, handle)
    _check_array_dtype(path, header.dtype)
    _check_not_empty(path, header.shape)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc}); save it again with numpy.save") from None
    return Source(path, array, None)


class _NpyHeader(NamedTuple):
    """What an .npy stream's header declares."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    data_start: int  # bytes before the array's data

    @property
    def data_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _npy_header(name: str, handle: BinaryIO) -> _NpyHeader:
    """The header of an .npy stream, read without loading (or unpickling) anything."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            # Version 3 differs from 2 only in encoding field names as UTF-8 rather
            # than Latin-1; read as Latin-1 the header still gives the dtype's kind.
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
    except (ValueError, EOFError, SyntaxError, TypeError, tokenize.TokenError) as exc:  # a damaged header dict
        raise DataError(f"{name}: not a valid .npy file ({exc}); save it again with numpy.save") from None
    return _NpyHeader(tuple(shape), fortran_order, dtype, handle.tell())


def _check_array_dtype(name: str, dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise DataError(
            f"{name}: holds pickled Python objects (dtype object), and losscli never unpickles files; "
            "save a numeric array instead (e.g. numpy.save(path, array.astype(float)))"
        )
    if dtype.kind == "c":
        raise DataError(f"{name}: holds complex numbers ({dtype}); losses take real numbers, save the real part")
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        if dtype.fields is not None:
            what = "a structured array"
        else:
            what = {"U": "text", "S": "bytes", "M": "dates", "m": "time spans"}.get(dtype.kind, "values")
            what = f"{what} (dtype {dtype})"
        raise DataError(f"{name}: holds {what}, not numbers; save a numeric (int, float or bool) array")


def check_array(name: str, dtype: np.dtype, shape: tuple[int, ...]) -> None:
    """An array losscli can compute with: real numbers (no objects, text or dates), at least one value."""
    _check_array_dtype(name, dtype)
    _check_not_empty(name, shape)


def _check_not_empty(name: str, shape: tuple[int, ...]) -> None:
    """An array with no values (a zero anywhere in its shape) is an error, whatever the command."""
    if 0 in shape:
        what = "rows" if shape[0] == 0 else "columns" if len(shape) == 2 else "values"
        raise DataError(f"{name}: an empty array of shape {shape} (no {what}); give at least one value")


def _mapped_chunks(
    source: Source, chunk_rows: int, selectors: Sequence[str] | None, exclude: Sequence[str], option: str
) -> Iterator[np.ndarray]:
    """Rows of a memory-mapped array, copied a chunk at a time, its pages let go after each.

    Pages of a mapped file that were read count in the process's resident
    memory until it lets them go; without this, streaming an .npy grows to the
    file's size. The pages stay in the page cache.
    """
    array, mapping = source.array, source.array.base
    for start in range(0, max(len(array), 1), chunk_rows):
        part = dataclasses.replace(source, array=array[start : start + chunk_rows])
        chunk = np.array(select_columns(part, selectors, exclude=exclude, option=option))
        mapping.madvise(mmap.MADV_DONTNEED)
        yield chunk
