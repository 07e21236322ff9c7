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
import signal
from typing import Any

import numpy as np

from losscli import process
from losscli.errors import DataError
from losscli.io.loading import ColumnProblem, Source, read_source

FORK_MIN_BYTES = 32 << 20
"""Text inputs smaller than this together are read in a thread: forking would not pay."""


def _eligible(path: str | None) -> bool:
    return (
        path is not None
        and path != "-"
        and os.path.splitext(path)[1].lower() in (".csv", ".tsv", ".txt")
        and os.path.isfile(path)
    )


def start(paths: list[str | None], dtype: str, header: bool | None = None) -> ForkedReader | None:
    """Fork a child that reads the large text files among ``paths``; None when it would not pay.

    Call the returned reader (after importing torch) for ``{path: Source}``;
    it raises the child's ``DataError`` if a file was bad. Use it as a context
    manager: if the block fails before the tables are collected (a signal, a
    failed import), the child is stopped at once rather than left parsing.
    ``header`` is ``read_source``'s.
    """
    files = list(dict.fromkeys(p for p in paths if _eligible(p)))
    if not hasattr(os, "memfd_create") or sum(os.path.getsize(p) for p in files) < FORK_MIN_BYTES:
        return None
    return ForkedReader(files, np.dtype(dtype).type, header)


class ForkedReader:
    """A child process parsing text files into memory files, and what the parent needs to collect or stop it."""

    def __init__(self, files: list[str], float_dtype: type, header: bool | None = None) -> None:
        self.files = files
        parent = os.getpid()
        with process.deferred():  # no signal between forking and recording how to stop the child
            self.memfds = [os.memfd_create(f"losscli-{i}") for i in range(len(files))]
            self.read_end, write_end = os.pipe()
            imported_read, self.imported_write = os.pipe()
            self.pid = os.fork()
            if self.pid == 0:
                try:  # never return into the parent's frames, whatever happens
                    _child_process(
                        parent, files, self.memfds, float_dtype, header, self.read_end, write_end, imported_read
                    )
                finally:
                    os._exit(0)
            self.stopped = process.Cleanup(self._stop)
        os.close(write_end)
        os.close(imported_read)

    def __call__(self) -> dict[str, Source]:
        """The tables the child read, by path (call once torch is imported)."""
        with process.deferred():  # each descriptor closed or handed on is forgotten at once
            os.close(self.imported_write)  # torch is imported: the child may use every core
            self.imported_write = -1
            pipe = os.fdopen(self.read_end)
            self.read_end = -1
        with pipe:
            text = pipe.read()
        with process.deferred():  # the child closed its end: it is ending
            os.waitpid(self.pid, 0)
            self.pid = 0
        try:
            return _sources(self.files, self.memfds, json.loads(text))
        finally:
            self.stopped.run()

    def __enter__(self) -> ForkedReader:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stopped.run()

    def _stop(self) -> None:
        """Kill the child if it still runs, and close this side's pipes and memory files."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        for fd in (self.read_end, self.imported_write, *self.memfds):
            if fd >= 0:
                os.close(fd)
        self.read_end = self.imported_write = -1
        self.memfds = []


def _child_process(
    parent: int,
    files: list[str],
    memfds: list[int],
    float_dtype: type,
    header: bool | None,
    read_end: int,
    write_end: int,
    imported_read: int,
) -> None:
    """The child: parse, write, report, and leave (``os._exit``) without cleanup."""
    for signum in process.STOP_SIGNALS:  # the parent's handlers would unwind the parent's frames here
        signal.signal(signum, signal.SIG_DFL)
    _die_with(parent)
    os.close(read_end)
    _one_thread_until_closed(imported_read)
    report = _child(files, memfds, float_dtype, header)
    with os.fdopen(write_end, "w") as pipe:
        pipe.write(json.dumps(report))


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` ends, even by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


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
                    "text_columns": sorted(source.text_columns),
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
        text = frozenset(table["text_columns"])
        sources[path] = Source(path, array, table["columns"], integer_columns, unreadable, table["notes"], text)
    return sources
