"""Sharded inputs: a role's rows in several files, local or at any fsspec URL (``s3://``, ``memory://``, ``file://``).

A sharded input is a glob (``'preds/*.parquet'``), a directory, a URL, or a
comma-separated list of them; its shards are the files they name, in sorted
order, so that the shards of two roles pair up one to one (the first
prediction shard with the first label shard, and so on). fsspec (which torch
itself requires) expands and opens them; a shard that is not on the local
file system is copied to a local temporary file to be read, so that every
reader, check and message works on it as on a local file, with the shard's
URL in the messages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from losscli.errors import DataError
from losscli.io.files import _PARQUET_EXTENSIONS, _TEXT_DELIMITERS

GLOB_CHARACTERS = frozenset("*?[")
SHARD_EXTENSIONS = (*_TEXT_DELIMITERS, ".npy", ".npz", *_PARQUET_EXTENSIONS)
"""The files of a directory that are shards: those a reader reads (others, such as ``_SUCCESS``, are not)."""


def has_protocol(path: str) -> bool:
    return "://" in path.partition(",")[0]


def is_sharded(path: str | None) -> bool:
    """Whether an input names shards rather than one file: a glob, a directory, a URL, or a list."""
    if path is None or path == "-":
        return False
    if has_protocol(path) or os.path.isdir(path):
        return True
    if os.path.exists(path):
        return False
    return "," in path or bool(GLOB_CHARACTERS & set(path))


def expand(path: str) -> list[str]:
    """The shards an input names, sorted (a list's parts each expanded, in the order given)."""
    import fsspec

    shards: list[str] = []
    for part in (p.strip() for p in path.split(",")):
        if not part:
            continue
        try:
            fs, root = fsspec.core.url_to_fs(part)
        except (ImportError, ValueError) as e:  # an unknown protocol, or one whose package is missing
            raise DataError(f"{part}: cannot open that URL ({e}); install the package its protocol needs") from None
        protocol = _protocol(fs, part)
        if GLOB_CHARACTERS & set(root):
            found = sorted(fs.glob(root))
        elif fs.isdir(root):
            found = sorted(p for p in fs.ls(root, detail=False) if os.path.splitext(p)[1].lower() in SHARD_EXTENSIONS)
        elif fs.exists(root):
            found = [root]
        else:
            raise DataError(f"{part}: no such file or directory")
        found = [p for p in found if not fs.isdir(p)]
        if not found:
            raise DataError(f"{part}: no shard found (no file matches); give a glob, a directory or files")
        shards += [protocol + p if protocol else p for p in found]
    if not shards:
        raise DataError(f"{path!r}: names no shard; give a glob, a directory or files")
    return shards


def _protocol(fs: object, part: str) -> str:
    """The prefix that makes a path of ``fs`` a URL again (none for the local file system)."""
    if "://" not in part:
        return ""
    protocol = part.split("://", 1)[0]
    return "" if protocol == "file" else f"{protocol}://"


@contextlib.contextmanager
def local_file(shard: str) -> Iterator[str]:
    """A path on the local file system holding ``shard``: the path itself, or a temporary copy of a URL (its
    extension kept, so that it is read by its form). A ``DataError`` raised inside names the URL, not the copy."""
    if not has_protocol(shard):
        yield shard
        return
    import fsspec

    directory = tempfile.mkdtemp(prefix="losscli-shard-")
    copy = os.path.join(directory, os.path.basename(shard.rstrip("/")) or "shard")
    try:
        try:
            with fsspec.open(shard, "rb") as source, open(copy, "wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
        except (OSError, ValueError) as e:
            raise DataError(f"{shard}: cannot read it ({e})") from None
        try:
            yield copy
        except DataError as e:
            raise DataError(str(e).replace(copy, shard)) from None
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def pair_shards(roles: dict[str, list[str]]) -> int:
    """The number of partitions of several roles' shards, which must be as many for each role."""
    counts = {role: len(shards) for role, shards in roles.items()}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{role} {count}" for role, count in counts.items())
        raise DataError(
            f"the sharded inputs have different numbers of shards ({listed}); shards pair up in sorted order: "
            "give every role as many"
        )
    return next(iter(counts.values()))
