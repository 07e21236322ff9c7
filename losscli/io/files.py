"""Paths and streams: which form a path names (by its extension), whether it is a regular file or a stream read
once (``-``, a pipe, a device), and opening, mapping and reading them, every failure a ``DataError``.
"""

from __future__ import annotations

import errno
import mmap
import os
import stat
import sys
from typing import BinaryIO

from losscli.errors import DataError

STDIN = "-"
STDIN_NAME = "<stdin>"
SUPPORTED_FORMS = ".csv, .tsv, .txt, .npy, .npz, .parquet (or .pq), or - for CSV on standard input"

_WHITESPACE = " "  # delimiter meaning "runs of spaces and tabs"
_TEXT_DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": _WHITESPACE}
_PARQUET_EXTENSIONS = (".parquet", ".pq")


def is_stream(path: str) -> bool:
    """Whether ``path`` is ``-``, a pipe or a device (neither a regular file nor a directory): read once only."""
    if path == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _is_regular_file(path: str, extension: str) -> bool:
    """Whether ``path`` is a regular file; False for a pipe or device that can be read as a text stream.

    Only looks (``stat``), never opens: opening a pipe takes its data's place,
    and opening it twice waits for a writer that is gone. A missing path, a
    directory, or a stream in a form that needs a regular file is a DataError.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{path}: is a directory, not a file; give the path of a file inside it")
    if stat.S_ISREG(mode):
        return True
    if extension in (".npy", ".npz", *_PARQUET_EXTENSIONS):
        raise DataError(
            f"{path}: is a pipe or a device, not a regular file, and {extension} files are read from regular "
            "files only; save it to a file first, or send CSV through the pipe"
        )
    if extension and extension not in _TEXT_DELIMITERS:
        raise _unsupported(path, extension)
    return False


def _unsupported(path: str, extension: str) -> DataError:
    kind = f"file type {extension!r}" if extension else "file without an extension"
    return DataError(f"{path}: unsupported {kind}; use {SUPPORTED_FORMS}")


def _check_file(path: str) -> None:
    """Fail early, with the reason, when the regular file ``path`` cannot be opened for reading."""
    try:
        with open(path, "rb"):
            pass
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a file; give the path of a file inside it") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _map_file(path: str) -> bytes | mmap.mmap:
    """The file's bytes, memory-mapped when possible so a large file costs page cache only."""
    try:
        with open(path, "rb") as handle:
            try:
                return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # an empty file, or a file system without mmap
                return handle.read()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _open_stream(path: str) -> BinaryIO:
    """``path`` opened once for reading as a stream (a pipe's writer may be waiting for it)."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


_STDIN_CLOSED = (
    "standard input is closed; send the data through it (e.g. cat p.csv | losscli ... -) or give a file path "
    "instead of -"
)


def _stdin() -> BinaryIO:
    """Standard input as bytes; a DataError when the process was started with it closed (``<&-``)."""
    if sys.stdin is None:
        raise DataError(f"{STDIN_NAME}: {_STDIN_CLOSED}")
    return getattr(sys.stdin, "buffer", sys.stdin)


def _read_stream(name: str, handle: BinaryIO, size: int = -1) -> bytes:
    """Up to ``size`` bytes of ``handle`` (all of them for -1), as bytes; read errors are DataErrors."""
    try:
        data = handle.read(size)
    except OSError as exc:
        if exc.errno == errno.EBADF and name == STDIN_NAME:  # file descriptor 0 closed, or open for writing only
            raise DataError(f"{name}: {_STDIN_CLOSED}") from None
        raise DataError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return data.encode() if isinstance(data, str) else data


def _refuse_key(name: str, key: str | None, key_option: str) -> None:
    if key is not None:
        raise DataError(f"{name}: {key_option} {key} applies to .npz archives only; drop it or give an .npz file")
