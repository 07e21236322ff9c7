""".npz archives: the chosen array, its header checked before anything is inflated, read whole (up to
``NPZ_INFLATE_LIMIT``) or a chunk of rows at a time as it inflates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import lzma
import math
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import numpy as np

from losscli.errors import DataError
from losscli.io.npy import _check_array_dtype, _check_not_empty, _npy_header, _NpyHeader
from losscli.io.source import Source, select_columns
from losscli.terminal import counted

NPZ_INFLATE_LIMIT = 1 << 30
"""Bytes a compressed .npz array may inflate to when it is read whole.

A few megabytes of zeros deflate from gigabytes: past this, the array is
refused rather than inflated blindly (``--chunk-size`` streams it, an .npy is
memory-mapped). The same size past which ``compute`` streams large files."""


_ZIP_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError)
"""What reading a damaged archive member raises (zlib.error, LZMAError: a compressed stream that is corrupt)."""


def _read_npz(path: str, key: str | None, key_option: str) -> Source:
    with _npz_member(path, key, key_option) as (described, handle, header, info):
        if info.compress_type != zipfile.ZIP_STORED and header.data_bytes > NPZ_INFLATE_LIMIT:
            raise DataError(
                f"{described} inflates to {_size_text(header.data_bytes)} (shape {header.shape}, {header.dtype}) "
                f"from {_size_text(info.compress_size)} compressed, more than the {_size_text(NPZ_INFLATE_LIMIT)} "
                "losscli inflates in memory; stream it with --chunk-size (losses that decompose over samples), "
                "or save it with numpy.save as an .npy file, which is read through a memory map"
            )
        try:
            handle.seek(0)  # read_array reads the header again: rewinding inflates it again, a few bytes
            array = np.lib.format.read_array(handle, allow_pickle=False)
        except (ValueError, *_ZIP_READ_ERRORS) as exc:
            raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
    return Source(path, array, None)


@contextlib.contextmanager
def _npz_member(
    path: str, key: str | None, key_option: str
) -> Iterator[tuple[str, BinaryIO, _NpyHeader, zipfile.ZipInfo]]:
    """The chosen array of an .npz archive, open just past its header, once the header is checked.

    Gives the array's description for messages (``"PATH: array 'x'"``), the
    open member, its header and its zip entry. Nothing but the header is
    inflated: the entry's declared size must be the header's plus
    shape x itemsize, or the archive is corrupt (a member that claims a small
    array can then not inflate to a large one).
    """
    with open(path, "rb") as handle:
        if handle.read(6) == b"\x93NUMPY":
            raise DataError(f"{path}: holds a single .npy array, not an .npz archive; rename it to .npy")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc}); save it again with numpy.savez") from None
    with archive:
        members = {name.removesuffix(".npy"): name for name in archive.namelist()}  # as numpy.load names them
        if not members:
            raise DataError(f"{path}: the archive holds no arrays")
        listed = ", ".join(members)
        if key is None:
            if len(members) > 1:
                raise DataError(f"{path}: holds {len(members)} arrays ({listed}); pass {key_option} NAME to choose one")
            key = next(iter(members))
        elif key not in members:
            raise DataError(f"{path}: no array {key!r} in the archive (arrays: {listed}); fix {key_option}")
        described = f"{path}: array {key!r}"
        info = archive.getinfo(members[key])
        try:
            member = archive.open(info)
        except (NotImplementedError, RuntimeError, *_ZIP_READ_ERRORS) as exc:
            raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
        with member:
            try:
                header = _npy_header(described, member)
            except _ZIP_READ_ERRORS as exc:
                raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
            _check_array_dtype(described, header.dtype)
            _check_not_empty(described, header.shape)
            if info.file_size != header.data_start + header.data_bytes:
                raise DataError(
                    f"{described} is corrupt: its header declares shape {header.shape} of {header.dtype} "
                    f"({header.data_start + header.data_bytes} bytes with the header), but the archive's entry "
                    f"holds {info.file_size} bytes; save the archive again"
                )
            yield described, member, header, info


def _size_text(n_bytes: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes} bytes"


def _npz_chunks(
    path: str,
    chunk_rows: int,
    key: str | None,
    key_option: str,
    selectors: Sequence[str] | None,
    exclude: Sequence[str],
    option: str,
) -> tuple[Source, Iterator[np.ndarray]] | None:
    """The rows of an .npz array as they inflate, a chunk at a time; None for one read whole (0-d, Fortran order).

    Memory stays a chunk's however far the array inflates (``NPZ_INFLATE_LIMIT``
    applies to whole reads only); the header is checked as a whole read
    checks it, and the selection before any row is read.
    """
    with _npz_member(path, key, key_option) as (_, _, header, _):
        if header.fortran_order or not header.shape:
            return None
    source = Source(path, np.empty((0, *header.shape[1:]), header.dtype), None)
    select_columns(source, selectors, exclude=exclude, option=option)

    def rows() -> Iterator[np.ndarray]:
        with _npz_member(path, key, key_option) as (described, handle, header, _):
            row_bytes = math.prod(header.shape[1:]) * header.dtype.itemsize
            for start in range(0, header.shape[0], chunk_rows):
                count = min(chunk_rows, header.shape[0] - start)
                try:
                    data = handle.read(count * row_bytes)
                except _ZIP_READ_ERRORS as exc:
                    raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
                if len(data) < count * row_bytes:
                    raise DataError(
                        f"{described} ends before its {counted(header.shape[0], 'row')}; save the archive again"
                    )
                part = np.frombuffer(data, header.dtype).reshape(count, *header.shape[1:])
                yield select_columns(dataclasses.replace(source, array=part), selectors, exclude=exclude, option=option)

    return source, rows()
