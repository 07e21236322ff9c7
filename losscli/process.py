"""The process a command runs in: signals that clean up, standard streams that fail clearly, warnings on one line.

Ctrl-C (SIGINT), SIGTERM and SIGHUP all stop a command the same way: the
handler raises ``Interrupted``, which unwinds through every ``finally`` as
``KeyboardInterrupt`` would, so temporary files are removed and a forked
parser is stopped; the command then ends with exit code 128 + the signal's
number. Code that must not be cut in two (a temporary file created but not
yet recorded for removal) runs in ``deferred()``; a cleanup that must run
however the command ends is a ``Cleanup``, run by its owner when done and
otherwise by ``handling_signals`` on the way out.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from losscli import terminal
from losscli.errors import DataError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """A signal asked the command to stop.

    A ``BaseException``, as ``KeyboardInterrupt`` is: every ``finally`` and
    ``except BaseException`` on the way out runs, and no ``except Exception``
    takes it for an error in the data.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum

    def __str__(self) -> str:
        return f"interrupted by {signal.Signals(self.signum).name}"


class OutputClosed(Exception):
    """Standard output's reader went away (``losscli … | head -1``): there is no one left to write for."""


class _State:
    """What the signal handler, ``deferred`` and ``Cleanup`` share."""

    def __init__(self) -> None:
        self.owner: int | None = None
        """The process whose handlers these are (a forked child inherits them but must not use them)."""
        self.received: int | None = None
        """The first stopping signal, once one came."""
        self.raised = False
        """``Interrupted`` was raised for it."""
        self.deferring = 0
        """How many ``deferred()`` blocks are running."""
        self.pending: list[Cleanup] = []
        """Cleanups registered and not run yet."""


_state = _State()


def _on_signal(signum: int, frame: Any) -> None:
    if os.getpid() != _state.owner:  # a forked child, before it set its own handlers
        os._exit(128 + signum)
    if _state.received is not None:  # a second signal: the first one's cleanup is under way
        return
    _state.received = signum
    if not _state.deferring:
        _state.raised = True
        raise Interrupted(signum)


def _exit_at_once(signum: int, frame: Any) -> None:
    os._exit(128 + signum)


def exit_on_signals() -> None:
    """Outside a command (before it starts, while the process exits) a stopping signal ends the process at once.

    There is nothing to clean up there, and no Python traceback for a Ctrl-C
    pressed during the final flush. Signals ignored now (``nohup``, a
    background job of a script) stay ignored.
    """
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _exit_at_once)


@contextlib.contextmanager
def handling_signals() -> Iterator[None]:
    """In the block, SIGINT, SIGTERM and SIGHUP raise ``Interrupted`` (once: a second one is ignored).

    On the way out every pending ``Cleanup`` runs and the previous handlers
    come back. Signals ignored when the block starts stay ignored; outside the
    main thread (where no handler can be set) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.owner, _state.received, _state.raised = os.getpid(), None, False
    previous = {
        signum: signal.signal(signum, _on_signal)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        _state.deferring += 1  # the command is over: a signal now waits for the cleanups, and stops nothing
        try:
            while _state.pending:
                _state.pending[-1].run()
        finally:
            _state.deferring -= 1
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state.owner = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a stopping signal back until the block is done; ``Interrupted`` is raised then, unless the block failed.

    For steps a signal must not cut in two: a temporary file created and its
    removal registered, a file renamed into place, a cleanup.
    """
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
    if not _state.deferring and _state.received is not None and not _state.raised:
        _state.raised = True
        raise Interrupted(_state.received)


def interrupted() -> Interrupted | None:
    """The ``Interrupted`` of a stopping signal that came (even if something swallowed the exception), else None."""
    return None if _state.received is None else Interrupted(_state.received)


class Cleanup:
    """A cleanup that runs once: when its owner calls ``run``, or when ``handling_signals`` ends if it never did.

    Create it (with what it cleans up) in a ``deferred()`` block, so that no
    signal falls between the two.
    """

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        _state.pending.append(self)

    def run(self) -> None:
        with deferred():
            if self in _state.pending:
                _state.pending.remove(self)
                self.action()


class _StandardStream(io.FileIO):
    """Standard output or error as a raw file whose write failures say which stream failed.

    On standard output a reader that went away (EPIPE) raises
    ``OutputClosed`` and any other failure (a full disk, ``> /dev/full``) a
    ``DataError`` naming the stream and where it goes. A failure on standard
    error is not reported (there is nowhere to). Once a write failed, later
    ones (the final flush) drop their bytes quietly.
    """

    def __init__(self, fd: int, label: str) -> None:
        super().__init__(fd, "wb", closefd=False)
        self.label = label
        self.failed = False

    def write(self, data: Any) -> int:
        if self.failed:
            return memoryview(data).nbytes
        try:
            return super().write(data)
        except OSError as e:
            self.failed = True
            if self.label == "standard error":
                return memoryview(data).nbytes
            if isinstance(e, BrokenPipeError):
                raise OutputClosed from None
            raise DataError(
                f"cannot write to {self.label}{self.target()}: {e.strerror}; redirect it to a file on a disk with room"
            ) from None

    def target(self) -> str:
        """`` (PATH)``: where the stream goes, when the system says (Linux's /proc)."""
        with contextlib.suppress(OSError):
            return f" ({os.readlink(f'/proc/self/fd/{self.fileno()}')})"
        return ""


def install_standard_streams() -> None:
    """Give ``sys.stdout`` and ``sys.stderr`` writers that fail clearly; a closed one writes to /dev/null.

    A closed standard output (``1>&-``) discards the output: the command still
    runs, writes its files and exits 0. Without this, Python leaves
    ``sys.stdout`` None, and ``print(file=None)`` to a closed standard error
    would go to standard output.
    """
    for name, fd, label in (("stdout", 1, "standard output"), ("stderr", 2, "standard error")):
        stream = getattr(sys, name)
        if stream is None:
            fd = os.open(os.devnull, os.O_WRONLY)
        replacement = io.TextIOWrapper(
            io.BufferedWriter(_StandardStream(fd, label)),
            encoding=stream.encoding if stream is not None else "utf-8",
            errors=stream.errors if stream is not None else "strict",
            line_buffering=stream.line_buffering if stream is not None else False,
            write_through=stream.write_through if stream is not None else False,  # python -u
        )
        setattr(sys, name, replacement)


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Any Python warning that reaches the user in the block is one ``Warning: …`` line on stderr, once per message.

    The warnings losscli means to give travel with the results; this is the
    net for the ones it did not mean (a RuntimeWarning from numpy, a
    DeprecationWarning), which Python would print over two lines with a
    file name and a line of source.
    """
    shown: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        text = " ".join(str(message).split())
        if text not in shown:
            shown.add(text)
            terminal.warn([f"{text} ({category.__name__})"])  # -q and --strict apply as to any warning

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
