"""Where a sharded run's partition tasks run: in this process one after the other (``--engine local``), or on
Dask (``--engine dask``): a scheduler given by ``--scheduler`` (an address or a scheduler file) or
``DASK_SCHEDULER_ADDRESS``, else a ``LocalCluster`` in this process with a worker thread per core.

Whatever runs them, the results come back in partition order, so the merge (and the answer) is the same.
Dask retries a task whose worker died (``distributed.scheduler.allowed-failures``); a task that fails for
good, or a scheduler that cannot be reached within ``--scheduler-timeout``, is a ``DataError``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from losscli.errors import DataError, UsageError

ENGINES = ("local", "dask")
DEFAULT_TIMEOUT = 10.0
INSTALL_DASK = "pip install 'losscli[dask]'"


class InProcess:
    """The partitions one after the other in this process."""

    name = "local"

    def map(self, function: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        return [function(task) for task in tasks]

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return "in this process"


class OnDask:
    """The partitions as tasks on a Dask cluster: one reached at ``address``, or a ``LocalCluster`` of threads."""

    name = "dask"

    def __init__(self, address: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            import distributed
        except ImportError:
            raise UsageError(
                f"--engine dask needs Dask: {INSTALL_DASK} (or run in this process: --engine local)"
            ) from None
        import logging

        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # a task's error is ours to say, once
        self.cluster = None
        address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        try:
            if address is None:
                # Threads, not worker processes: torch and pyarrow let go of the GIL while they work, and a worker
                # process takes seconds to start and import torch (4M rows in 4 shards: 4.0-4.5 s against
                # 17.4-17.7 s with two worker processes; bench/RESULTS.md).
                cores = os.cpu_count() or 1
                self.cluster = distributed.LocalCluster(
                    n_workers=1,
                    threads_per_worker=cores,
                    processes=False,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
                self.client = distributed.Client(self.cluster, timeout=timeout)
                self.where = f"a local Dask cluster of {cores} worker threads"
            elif os.path.isfile(address):
                self.client = distributed.Client(scheduler_file=address, timeout=timeout)
                self.where = f"the Dask scheduler of {address}"
            else:
                self.client = distributed.Client(address, timeout=timeout)
                self.where = f"the Dask scheduler at {address}"
        except (OSError, TimeoutError) as e:
            self.close()
            raise DataError(
                f"--scheduler {address}: cannot reach the Dask scheduler within {timeout:g} s ({e}); start it "
                "(dask scheduler) or check the address"
            ) from None

    def map(self, function: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        from distributed import KilledWorker

        futures = self.client.map(function, list(tasks), pure=False)
        try:
            return self.client.gather(futures)
        except KilledWorker as e:
            raise DataError(
                f"a Dask worker died each time it ran a partition ({e}); the run stops with no result: check the "
                "workers' memory and logs, then run it again"
            ) from None
        finally:
            self.client.cancel(futures)

    def describe(self) -> str:
        return self.where

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self.cluster is not None:
            self.cluster.close()


def executor(engine: str, scheduler: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> InProcess | OnDask:
    """The executor ``--engine`` (with ``--scheduler`` and ``--scheduler-timeout``) asks for."""
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine!r}: choose local or dask")
    if engine == "local":
        if scheduler is not None:
            raise UsageError("--scheduler is Dask's: add --engine dask (or drop --scheduler)")
        return InProcess()
    if not timeout > 0:
        raise UsageError(f"--scheduler-timeout {timeout}: give a number of seconds above 0")
    return OnDask(scheduler, timeout)
