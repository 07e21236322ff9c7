"""Output files (``--grad-out``, ``--out``): checked before anything is read, then written whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from losscli import process
from losscli.errors import DataError, UsageError


def check_output(
    option: str, path: str, suffixes: tuple[str, ...], example: str, inputs: dict[str, str | None]
) -> Path:
    """Refuse, before anything is read, an output path that cannot be written or would overwrite an input.

    ``path`` must name a file (not a directory, ``example`` is the file name
    suggested inside one) ending in one of ``suffixes``, in a directory that
    exists and can be written. ``inputs`` maps what each input is to the path
    it was given as (``{"PRED": "p.csv", "--input input2": "b.csv"}``, None
    for an input not given, ``-`` for standard input): an output that is one
    of them, by any name (another spelling, a symbolic or hard link, or the
    file standard input was redirected from), is refused, since writing it
    would destroy the input.
    """
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: that is a directory; name a file in it, e.g. {os.path.join(path, example)}")
    if path.endswith(os.sep):
        raise UsageError(f"{option} {path}: a file name cannot end in {os.sep}; name a file, e.g. {path}{example}")
    if Path(path).suffix.lower() not in suffixes:
        raise UsageError(f"{option} {path}: use a {', '.join(suffixes[:-1])} or {suffixes[-1]} file name")
    directory = os.path.dirname(path) or "."
    try:
        is_directory = stat.S_ISDIR(os.stat(directory).st_mode)
    except FileNotFoundError:
        raise UsageError(
            f"{option} {path}: the directory {directory} does not exist; create it first (mkdir -p {directory})"
        ) from None
    except NotADirectoryError:
        is_directory = False
    except PermissionError:
        raise DataError(f"{option} {path}: no permission to look into {directory}; choose another directory") from None
    if not is_directory:
        raise UsageError(f"{option} {path}: {directory} is a file, not a directory; choose another path")
    _refuse_inputs(option, path, inputs)
    if not os.access(directory, os.W_OK | os.X_OK):
        reason = "the file system is read-only" if os.statvfs(directory).f_flag & os.ST_RDONLY else "no permission"
        raise DataError(f"{option} {path}: cannot create a file in {directory}: {reason}; choose another directory")
    return Path(path)


def _refuse_inputs(option: str, path: str, inputs: dict[str, str | None]) -> None:
    try:
        output = os.stat(path)
    except OSError:  # not there yet (or a dangling link): it is no input
        return
    for role, name in inputs.items():
        if name is None:
            continue
        try:
            given = os.fstat(0) if name == "-" else os.stat(name)
        except OSError:  # a missing input is for its reader to report
            continue
        if (given.st_dev, given.st_ino) == (output.st_dev, output.st_ino):
            what = "the file standard input reads" if name == "-" else name
            raise UsageError(
                f"{option} {path}: that is {role} ({what}); writing there would destroy it; choose another file name"
            )


@contextlib.contextmanager
def atomic_write(path: Path, option: str, size: Callable[[], int] | None = None) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` whole, or not at all.

    It is written to a temporary file beside ``path`` and renamed into place
    once the block succeeds; on any failure or stopping signal the temporary
    file is removed. A symbolic link at ``path`` keeps pointing where it did
    (its target is replaced). A FIFO or a device there is written into, as a
    shell redirection would, rather than replaced. A failed write (a full
    disk) is a ``DataError`` naming ``option`` and the path; ``size()``, asked
    only then, is about how many bytes the file needed.
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        try:
            with open(target, "wb") as f:
                yield f
        except OSError as e:
            raise DataError(_write_failure(option, path, target.parent, e, size)) from e
        return
    removal = None
    try:
        with process.deferred():  # no signal between creating the file and recording its removal
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
            removal = process.Cleanup(lambda: Path(tmp).unlink(missing_ok=True))
        with os.fdopen(fd, "wb") as f:
            yield f
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the result private
        with process.deferred():
            stopped = process.interrupted()  # a signal whose exception something swallowed: still no output
            if stopped is not None:
                raise stopped
            os.replace(tmp, target)
    except OSError as e:
        if removal is not None:
            removal.run()  # before measuring the room left
        raise DataError(_write_failure(option, path, target.parent, e, size)) from e
    finally:
        if removal is not None:
            removal.run()


SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT)


def _write_failure(option: str, path: Path, directory: Path, error: OSError, size: Callable[[], int] | None) -> str:
    text = error.strerror or str(error)
    reason = text[:1].lower() + text[1:]
    needed = [f"needed about {size_text(size())}"] if size is not None else []
    if error.errno in SPACE_ERRORS:
        room = os.statvfs(directory)
        amounts = ", ".join([*needed, f"{size_text(room.f_bavail * room.f_frsize)} free"])
        return f"{option} {path}: {reason} in {directory} ({amounts}); free some space or write it to another disk"
    if error.errno == errno.EFBIG:
        amounts = f" ({needed[0]})" if needed else ""
        return f"{option} {path}: too large for the file system of {directory}{amounts}; write it to another disk"
    return f"{option} {path}: cannot write it: {reason}; choose another path"


def size_text(n: float) -> str:
    """A number of bytes for people: ``512 bytes``, ``12.3 MB`` (powers of 1000, as ``df -H`` shows them)."""
    units = ["bytes", "kB", "MB", "GB", "TB"]
    while n >= 1000 and len(units) > 1:
        n /= 1000
        units.pop(0)
    return f"{int(n)} bytes" if units[0] == "bytes" else f"{n:.1f} {units[0]}"
