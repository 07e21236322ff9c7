"""Rows that must all be output but need not all be held: kept in a temporary file, read back a block at a time.

A streamed ``compute -f json`` (or ``csv``, or ``--grad-out``) prints every
gradient row; holding them would make its memory grow with the file. They
are appended to an unnamed temporary file instead (in ``$TMPDIR``, gone when
the process ends) and read back a block at a time while the output is written.
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

import numpy as np

from losscli import process
from losscli.errors import DataError


def _no_room(error: OSError) -> DataError:
    where = tempfile.gettempdir()
    return DataError(
        f"cannot keep the streamed rows in a temporary file in {where}: {error.strerror}; "
        "set TMPDIR to a disk with room, or use the table output (it keeps only --rows rows)"
    )


class Spill:
    """Rows of one dtype and row shape appended to a temporary file."""

    def __init__(self, dtype: np.dtype | type) -> None:
        self.dtype = np.dtype(dtype)
        self.tail: tuple[int, ...] | None = None
        self.rows = 0
        try:
            with process.deferred():  # where O_TMPFILE is missing, the file has a name until it is unlinked
                self.file = tempfile.TemporaryFile(prefix="losscli-rows-")  # noqa: SIM115 (lives as long as its rows)
        except OSError as e:
            raise _no_room(e) from None

    def append(self, block: np.ndarray) -> None:
        """Add rows (their shape after the first axis must stay the same)."""
        if self.tail is None:
            self.tail = tuple(block.shape[1:])
        elif tuple(block.shape[1:]) != self.tail:
            raise ValueError(f"rows of shape {block.shape[1:]} after rows of shape {self.tail}")
        try:
            self.file.write(np.ascontiguousarray(block, dtype=self.dtype).data)
        except OSError as e:
            raise _no_room(e) from None
        self.rows += len(block)

    def array(self, scale: float | None = None) -> SpilledArray:
        """The rows as an array-like read back from the file, each block multiplied by ``scale`` if given."""
        self.file.flush()
        return SpilledArray(self.file, self.dtype, (self.rows, *(self.tail or ())), scale)


class SpilledArray:
    """A read-only array on a file: slices along the first axis are read as numpy arrays.

    It has what the writers of large output use: ``shape``, ``ndim``,
    ``dtype``, ``len()``, ``[start:stop]`` along the first axis (and an
    integer index); ``np.asarray`` reads it whole.
    """

    def __init__(self, file: Any, dtype: np.dtype, shape: tuple[int, ...], scale: float | None = None) -> None:
        self.file, self.dtype, self.shape, self.scale = file, dtype, shape, scale
        self.ndim = len(shape)
        self.row_items = math.prod(shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice | int) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            index = range(self.shape[0])[key]
            return self[index : index + 1][0]
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a spilled array reads only runs of rows")
        start, stop, _ = key.indices(self.shape[0])
        rows = max(stop - start, 0)
        block = np.empty((rows, *self.shape[1:]), dtype=self.dtype)
        view = memoryview(block.reshape(-1).view(np.uint8))
        offset, done = start * self.row_items * self.dtype.itemsize, 0
        while done < len(view):  # a read returns at most about 2 GiB
            try:
                got = os.preadv(self.file.fileno(), [view[done:]], offset + done)
            except OSError as e:
                raise DataError(
                    f"cannot read back the streamed rows from their temporary file in {tempfile.gettempdir()}: "
                    f"{e.strerror}; set TMPDIR to another disk"
                ) from None
            if not got:
                raise DataError("the temporary file of streamed rows ended early (was it removed?)")
            done += got
        if self.scale is not None:
            block *= self.scale  # as ``kept *= scale`` does in memory: the same rounding
        return block

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)

    def reshape(self, *shape: Any) -> np.ndarray:
        return np.asarray(self).reshape(*shape)
