"""Parse large text tables in a forked process while this one imports torch.

On two cores a worker thread gains little: parsing and importing fight over
the GIL. A forked child parses on the other core with a GIL of its own and
hands each table back through a memory file (``memfd``) that the parent maps,
plus one line of JSON for the column names and any problem. The child never
sends Python objects: nothing is unpickled.

While the parent imports, the child parses on one thread: a second parsing
thread would only take the core the import runs on. Once the parent is done
importing it says so (it closes a pipe) and the child widens pyarrow's pool to
every core for whatever is left.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from losscli.errors import DataError
from losscli.loading import ColumnProblem, Source, read_source

FORK_MIN_BYTES = 32 << 20
"""Text inputs smaller than this together are read in a thread: forking would not pay."""


def _eligible(path: str | None) -> bool:
    return (
        path is not None
        and path != "-"
        and os.path.splitext(path)[1].lower() in (".csv", ".tsv", ".txt")
        and os.path.isfile(path)
    )


def start(paths: list[str | None], dtype: str, header: bool | None = None) -> Callable[[], dict[str, Source]] | None:
    """Fork a child that reads the large text files among ``paths``; None when it would not pay.

    Call the returned function (after importing torch) for ``{path: Source}``;
    it raises the child's ``DataError`` if a file was bad. ``header`` is
    ``read_source``'s.
    """
    files = list(dict.fromkeys(p for p in paths if _eligible(p)))
    if not hasattr(os, "memfd_create") or sum(os.path.getsize(p) for p in files) < FORK_MIN_BYTES:
        return None
    memfds = [os.memfd_create(f"losscli-{i}") for i in range(len(files))]
    read_end, write_end = os.pipe()
    imported_read, imported_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, write, report, leave without cleanup
        os.close(read_end)
        os.close(imported_write)
        _one_thread_until_closed(imported_read)
        report = _child(files, memfds, np.dtype(dtype).type, header)
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(json.dumps(report))
        os._exit(0)
    os.close(write_end)
    os.close(imported_read)

    def collect() -> dict[str, Source]:
        os.close(imported_write)  # torch is imported: the child may use every core
        with os.fdopen(read_end) as pipe:
            text = pipe.read()
        os.waitpid(pid, 0)
        try:
            return _sources(files, memfds, json.loads(text))
        finally:
            for fd in memfds:
                os.close(fd)

    return collect


def _one_thread_until_closed(fd: int) -> None:
    """Limit pyarrow's pool to one thread until ``fd`` reads end of file, then restore it."""
    import threading

    import pyarrow as pa

    cores = pa.cpu_count()
    pa.set_cpu_count(1)

    def widen() -> None:
        os.read(fd, 1)  # end of file once the parent closes its end (or exits)
        pa.set_cpu_count(cores)

    threading.Thread(target=widen, daemon=True).start()


def _child(files: list[str], memfds: list[int], float_dtype: type, header: bool | None) -> dict[str, Any]:
    tables = []
    try:
        for path, fd in zip(files, memfds, strict=True):
            source = read_source(path, float_dtype=float_dtype, header=header)
            array = np.ascontiguousarray(source.array)
            with os.fdopen(os.dup(fd), "wb") as memfile:
                array.tofile(memfile)
            tables.append(
                {
                    "dtype": array.dtype.str,
                    "shape": list(array.shape),
                    "columns": source.columns,
                    "integer_columns": sorted(source.integer_columns),
                    "unreadable": {str(k): list(v) for k, v in source.unreadable.items()},
                    "notes": source.notes,
                }
            )
    except DataError as e:
        return {"error": str(e)}
    except Exception as e:  # reported by the parent as a bug, with its type
        return {"bug": f"{type(e).__name__}: {e}"}
    return {"tables": tables}


def _sources(files: list[str], memfds: list[int], report: dict[str, Any]) -> dict[str, Source]:
    if "error" in report:
        raise DataError(report["error"])
    if "bug" in report:
        raise RuntimeError(f"the parsing process failed: {report['bug']}")
    sources = {}
    for path, fd, table in zip(files, memfds, report["tables"], strict=True):
        dtype = np.dtype(table["dtype"])
        size = int(np.prod(table["shape"])) * dtype.itemsize
        buffer = mmap.mmap(fd, size, access=mmap.ACCESS_COPY) if size else b""
        array = np.frombuffer(buffer, dtype=dtype).reshape(table["shape"])
        unreadable = {int(k): ColumnProblem(*v) for k, v in table["unreadable"].items()}
        integer_columns = frozenset(table["integer_columns"])
        sources[path] = Source(path, array, table["columns"], integer_columns, unreadable, table["notes"])
    return sources
