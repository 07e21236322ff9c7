"""Shared fixtures: a CliRunner against ``losscli.cli.app`` and a writer of input files in ``tmp_path``."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from typer.testing import CliRunner, Result

from losscli.cli import app

REPO = Path(__file__).resolve().parents[1]

# Hypothesis profiles for the property-based tests (tests/test_properties.py).
# fast: the default, part of `make test`: 40 examples per test, the same ones every run (derandomized), reported
# as found (shrinking a failure can take minutes: the slow profile does it).
# slow: `make test-slow` (LOSSCLI_SLOW=1 or HYPOTHESIS_PROFILE=slow): 10 000 examples per test, random,
# failing examples kept in .hypothesis/ and replayed first on the next run.
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "fast",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "slow",
    max_examples=10_000,
    deadline=None,
    database=DirectoryBasedExampleDatabase(str(REPO / ".hypothesis" / "examples")),
    suppress_health_check=_QUIET,
    print_blob=True,
)
# torch.testing (imported by tests/references.py) loads a profile of its own when imported, so the
# property tests take theirs explicitly: @settings(settings.get_profile("losscli")).
# LOSSCLI_EXAMPLES=N sets the number of examples per test in either profile.
_examples = os.environ.get("LOSSCLI_EXAMPLES")
settings.register_profile(
    "losscli",
    parent=settings.get_profile(
        os.environ.get("HYPOTHESIS_PROFILE") or ("slow" if os.environ.get("LOSSCLI_SLOW") == "1" else "fast")
    ),
    **({"max_examples": int(_examples)} if _examples else {}),
)


@pytest.fixture
def runner() -> CliRunner:
    """A CliRunner; this Typer keeps stdout and stderr apart (``result.stdout``, ``result.stderr``)."""
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner) -> Callable[..., Result]:
    """``invoke(args, input=None)``: run ``losscli ARGS`` in-process; ``input`` feeds standard input."""

    def run(args: Sequence[Any], input: str | bytes | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], input=input)

    return run


@pytest.fixture
def invoke_json(invoke: Callable[..., Result]) -> Callable[..., dict[str, Any]]:
    """``invoke_json(args)``: run ``losscli ARGS -f json``; assert success and one strict-JSON document on stdout."""

    def run(args: Sequence[Any], input: str | bytes | None = None) -> dict[str, Any]:
        result = invoke([*args, "-f", "json"], input=input)
        assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
        assert "Traceback" not in result.stderr
        return json.loads(result.stdout, parse_constant=_refuse_constant)

    return run


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (jq and other strict parsers refuse it)")


@pytest.fixture
def expect_error(invoke: Callable[..., Result]) -> Callable[..., str]:
    """``expect_error(args, code, *fragments, input=None)``: the SPEC §4 error contract.

    Asserts the exit code, an empty stdout, exactly one stderr line starting
    ``Error:``, no traceback, and that each fragment occurs in that line; returns it.
    """

    def run(args: Sequence[Any], code: int, *fragments: str, input: str | bytes | None = None) -> str:
        result = invoke(args, input=input)
        assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        line = lines[0]
        assert line.startswith("Error: ")
        for fragment in fragments:
            assert fragment in line, (fragment, line)
        return line

    return run


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., str]:
    """``write_file(name, content)`` → the absolute path of a new file in ``tmp_path``.

    ``content`` is text or bytes (written as is), a numpy array (``.npy``), a
    dict of arrays (``.npz``, or ``.parquet`` columns), or a list of rows
    (written as CSV/TSV lines by the name's extension).
    """

    def write(name: str, content: Any) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        elif suffix == ".npy":
            np.save(path, np.asarray(content))
        elif suffix == ".npz":
            np.savez(path, **content)
        elif suffix in (".parquet", ".pq"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({k: np.asarray(v) for k, v in content.items()}), path)
        else:
            delimiter = "\t" if suffix == ".tsv" else " " if suffix == ".txt" else ","
            lines = [
                delimiter.join(str(v) for v in row) if isinstance(row, (list, tuple)) else str(row) for row in content
            ]
            path.write_text("\n".join(lines) + "\n")
        return str(path)

    return write


@pytest.fixture(scope="session")
def cluster() -> Any:
    """One Dask LocalCluster of two worker processes for the session (each imports torch once): its address."""
    import logging

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
    ) as local:
        yield local.scheduler_address


@pytest.fixture(scope="session")
def losscli_exe() -> str:
    """The installed console script of this environment."""
    found = Path(sys.executable).parent / "losscli"
    if found.exists():
        return str(found)
    which = shutil.which("losscli")
    if which is None:
        pytest.skip("the losscli console script is not installed")
    return which


class _FullDisk(io.RawIOBase):
    """A file on a disk with ``room`` bytes left: writes past that fail with ENOSPC."""

    def __init__(self, fd: int, room: int) -> None:
        self.fd, self.room = fd, room

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return os.lseek(self.fd, offset, whence)

    def write(self, data: Any) -> int:
        data = memoryview(data).cast("B")
        if data.nbytes and not self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        written = os.write(self.fd, data[: self.room])
        self.room -= written
        return written

    def close(self) -> None:
        if not self.closed:
            os.close(self.fd)
        super().close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``full_disk(room)``: output files (``losscli.io.outfiles``) hold ``room`` bytes, then fail as on a full disk."""
    from losscli.io import outfiles

    real_fdopen = os.fdopen

    def fill(room: int) -> None:
        def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if mode != "wb":  # not an output file
                return real_fdopen(fd, mode, *args, **kwargs)
            return io.BufferedWriter(_FullDisk(fd, room))

        monkeypatch.setattr(outfiles.os, "fdopen", fdopen)

    return fill
