"""The process a command runs in (losscli.process): signals, standard streams, stray warnings.

SIGINT, SIGTERM and SIGHUP end a command with exit 128 + the signal's number,
at most one ``Error: interrupted …`` line, and nothing left behind: no
temporary or partial output file, no spill file in $TMPDIR, no forked parser.
A closed standard output ends quietly with exit 0, a full one is one
``Error:`` line; a stray Python warning is one ``Warning:`` line.

The real-process tests share files generated once per session; the ones
marked ``slow`` (every signal at every point) run only with LOSSCLI_SLOW=1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from losscli import api, process, render
from losscli.errors import DataError
from losscli.io import forkread, inputs, textout

SLOW = pytest.mark.skipif(os.environ.get("LOSSCLI_SLOW") != "1", reason="set LOSSCLI_SLOW=1 to run it")
STOP = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP}


def entries(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


@pytest.fixture
def small_files(write_file):
    rng = np.random.default_rng(0)
    return write_file("p.npy", rng.normal(size=(50, 2))), write_file("y.npy", rng.normal(size=(50, 2)))


# ---------------------------------------------------------------- signals, in this process


@pytest.mark.parametrize("name", STOP)
@pytest.mark.parametrize("suffix", [".npy", ".csv"])
@pytest.mark.parametrize("chunked", [False, True])
def test_a_signal_while_writing_removes_the_temporary_file(
    invoke, monkeypatch, small_files, tmp_path, name, suffix, chunked
):
    target = tmp_path / "out" / f"g{suffix}"
    target.parent.mkdir()
    target.write_bytes(b"the previous gradient")
    writer = "write_npy" if suffix == ".npy" else "write_columns_csv"
    write = getattr(textout, writer)

    def write_then_stop(out, *args):
        write(out, *args)
        os.kill(os.getpid(), STOP[name])

    monkeypatch.setattr(textout, writer, write_then_stop)
    stream = ["--chunk-size", "7"] if chunked else []
    result = invoke(["compute", "mse", *small_files, *stream, "--grad-out", target, "-f", "json"])
    assert result.exit_code == 128 + STOP[name]
    assert result.stdout == ""
    assert result.stderr == f"Error: interrupted by {name}\n"
    assert entries(target.parent) == ["g" + suffix]
    assert target.read_bytes() == b"the previous gradient"


def test_a_swallowed_interruption_still_writes_nothing(invoke, monkeypatch, small_files, tmp_path):
    write = textout.write_npy

    def write_and_swallow(out, array):
        write(out, array)
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs here
        except process.Interrupted:
            pass  # as a careless library might

    monkeypatch.setattr(textout, "write_npy", write_and_swallow)
    result = invoke(["compute", "mse", *small_files, "--grad-out", tmp_path / "g.npy"])
    assert result.exit_code == 143
    assert result.stderr == "Error: interrupted by SIGTERM\n"
    assert not (tmp_path / "g.npy").exists()
    assert not [n for n in entries(tmp_path) if n.startswith(".g.npy")]


def test_a_signal_wins_over_an_error_on_its_way(invoke, monkeypatch, small_files):
    def fail_while_deferring(*args):
        with process.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
            raise DataError("a failure the signal came during")

    monkeypatch.setattr(render, "print_compute", fail_while_deferring)
    result = invoke(["compute", "mse", *small_files])
    assert result.exit_code == 143 and result.stderr == "Error: interrupted by SIGTERM\n"


def test_a_signal_while_reading_does_not_wait_for_the_reader(invoke, monkeypatch, small_files):
    """The reading thread may be blocked on a standard input that never ends: the command ends without it."""
    release = threading.Event()

    def stuck_reader(*args, **kwargs):
        time.sleep(0.3)  # the command waits for it by now
        os.kill(os.getpid(), signal.SIGTERM)
        release.wait(30)
        raise AssertionError("the command waited for the reader")

    monkeypatch.setattr(inputs, "gather_inputs", stuck_reader)
    started = time.monotonic()
    result = invoke(["compute", "mse", *small_files])
    elapsed = time.monotonic() - started
    release.set()
    assert result.exit_code == 143 and result.stderr == "Error: interrupted by SIGTERM\n"
    assert elapsed < 10


def test_a_signal_while_torch_imports_stops_the_forked_parser(invoke, monkeypatch, write_file):
    monkeypatch.setattr(forkread, "FORK_MIN_BYTES", 0)
    started: list[forkread.ForkedReader] = []
    start = forkread.start

    def recorded_start(*args):
        reader = start(*args)
        started.append(reader)
        return reader

    monkeypatch.setattr(forkread, "start", recorded_start)
    monkeypatch.setattr(api, "import_engine", lambda *_: os.kill(os.getpid(), signal.SIGHUP) or time.sleep(1))
    pred, labels = write_file("p.csv", ["p", 1, 2, 3]), write_file("y.csv", ["y", 1, 2, 2])
    result = invoke(["compute", "mse", pred, labels])
    assert result.exit_code == 129 and result.stderr == "Error: interrupted by SIGHUP\n"
    (reader,) = started
    assert reader.pid == 0 and reader.memfds == []
    assert not [target for target in _fd_targets("self") if "memfd:losscli-" in target]


def test_deferred_holds_a_signal_until_the_block_ends():
    steps = []
    with pytest.raises(process.Interrupted) as stopped, process.handling_signals():
        with process.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
            steps.append("the block went on")
        steps.append("not reached")
    assert steps == ["the block went on"]
    assert stopped.value.exit_code == 143 and str(stopped.value) == "interrupted by SIGTERM"


def test_a_second_signal_does_not_cut_the_cleanup_short():
    steps = []
    with pytest.raises(process.Interrupted), process.handling_signals():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # a second one while cleaning up
            time.sleep(0.2)
            steps.append("cleaned up")
    assert steps == ["cleaned up"]
    assert process.interrupted().signum == signal.SIGINT  # the first one decides the exit code


def test_pending_cleanups_run_on_the_way_out():
    ran = []
    with pytest.raises(process.Interrupted), process.handling_signals():
        with process.deferred():
            process.Cleanup(lambda: ran.append("removed"))
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
    assert ran == ["removed"]


def test_handlers_come_back_and_ignored_signals_stay_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        before = {s: signal.getsignal(s) for s in STOP.values()}
        with process.handling_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
        assert {s: signal.getsignal(s) for s in STOP.values()} == before
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_forked_child_does_not_use_the_parents_handler():
    """It would unwind the parent's frames and report the parent's interruption: it just ends."""
    with process.handling_signals():
        pid = os.fork()
        if pid == 0:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            finally:
                os._exit(99)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 143


# ---------------------------------------------------------------- standard streams, in this process


def test_a_reader_gone_is_output_closed_then_quiet():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        stream = process._StandardStream(write_end, "standard output")
        with pytest.raises(process.OutputClosed):
            stream.write(b"x")
        assert stream.write(b"later") == 5  # the final flush: dropped
    finally:
        os.close(write_end)


def test_a_full_standard_output_names_it():
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        stream = process._StandardStream(fd, "standard output")
        with pytest.raises(DataError, match=r"cannot write to standard output \(/dev/full\): No space left"):
            stream.write(b"x")
        assert process._StandardStream(fd, "standard error").write(b"x") == 1  # no one to tell
    finally:
        os.close(fd)


# ---------------------------------------------------------------- stray warnings


@pytest.mark.filterwarnings("default")  # shown once per place, as outside the test suite
def test_a_stray_warning_is_one_line_once(invoke, monkeypatch, small_files):
    print_compute = render.print_compute

    def warn_then_print(*args):
        for place in range(3):
            warnings.warn("overflow encountered\n  in cast", RuntimeWarning, stacklevel=1 + place % 2)
        warnings.warn("something deprecated", DeprecationWarning, stacklevel=1)
        print_compute(*args)

    monkeypatch.setattr(render, "print_compute", warn_then_print)
    result = invoke(["compute", "mse", *small_files, "-f", "json"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "Warning: overflow encountered in cast (RuntimeWarning)",
        "Warning: something deprecated (DeprecationWarning)",
    ]
    assert result.stdout.startswith("{")


def test_the_suite_fails_on_stray_runtime_warnings():
    with pytest.raises(RuntimeWarning):
        np.float32(np.float64(1e300))


# ---------------------------------------------------------------- signals, real processes

ROWS = 1_000_000


@pytest.fixture(scope="session")
def stream_files(tmp_path_factory) -> tuple[str, str]:
    """Two .npy files of a million float32 rows (4 MB each), made once: a streamed run with a CSV
    --grad-out reads them in a few tenths of a second and writes the gradient in about half a second."""
    folder = tmp_path_factory.mktemp("signals")
    rng = np.random.default_rng(5)
    paths = []
    for name in ("p.npy", "y.npy"):
        np.save(folder / name, rng.normal(size=ROWS).astype(np.float32))
        paths.append(str(folder / name))
    return paths[0], paths[1]


@pytest.fixture(scope="session")
def forked_files(tmp_path_factory) -> tuple[str, str]:
    """Two 18 MB CSV files: read whole, they go to the forked parser (over FORK_MIN_BYTES together)."""
    folder = tmp_path_factory.mktemp("forked")
    paths = []
    for name, line in (("p.csv", b"0.25\n"), ("y.csv", b"0.5\n")):
        (folder / name).write_bytes(name[:1].encode() + b"\n" + line * (18_000_000 // len(line)))
        paths.append(str(folder / name))
    return paths[0], paths[1]


def _caught_signals(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1], 16) for line in status if line.startswith("SigCgt:"))


def _fd_targets(pid: int | str) -> list[str]:
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):  # closed since
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return targets


def _running_in_group(group: int) -> list[int]:
    """The processes of a process group that still run (a zombie has ended: init reaps it when it gets to it)."""
    running = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                running.append(int(pid))
    return running


def _children(pid: int) -> list[str]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return children.read().split()


POINTS: dict[str, Callable[[int, Path, Path], bool]] = {
    # losscli set its handlers (it may not have started the command yet)
    "started": lambda pid, out, tmp: bool(_caught_signals(pid) & (1 << (signal.SIGTERM - 1))),
    # torch's shared library is being loaded
    "importing torch": lambda pid, out, tmp: "libtorch" in Path(f"/proc/{pid}/maps").read_text(),
    # the streamed gradient rows go to the spill file in $TMPDIR: rows are being read and computed
    "streaming": lambda pid, out, tmp: any(t.startswith(str(tmp)) for t in _fd_targets(pid)),
    # the temporary file of --grad-out is there
    "writing": lambda pid, out, tmp: any(n.startswith(".g.csv.") for n in os.listdir(out)),
    # the forked parser runs
    "forked": lambda pid, out, tmp: bool(_children(pid)),
}


def interrupt(
    exe: str, args: list[str], tmp_path: Path, point: str, signals: list[str], *, group: bool = False
) -> subprocess.CompletedProcess:
    """Run ``losscli ARGS --grad-out OUT/g.csv`` with TMPDIR set, wait for ``point``, send ``signals``
    (to the process group with ``group``, as Ctrl-C in a terminal does), and check that nothing is left:
    no file in OUT or TMPDIR, no process in the group. Returns the finished run."""
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    tmp.mkdir()
    proc = subprocess.Popen(
        [exe, *args, "--grad-out", str(out / "g.csv")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(tmp)},
        start_new_session=True,  # its own process group: the forked parser would be in it
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if POINTS[point](proc.pid, out, tmp):
                    break
            except (FileNotFoundError, ProcessLookupError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the run ended or took too long before {point}: {proc.stderr.read().decode()}")
            time.sleep(0.002)
        for name in signals:
            (os.killpg if group else os.kill)(proc.pid, STOP[name])
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _running_in_group(proc.pid) == []
    assert entries(out) == [] and entries(tmp) == []
    return subprocess.CompletedProcess(proc.args, proc.returncode, None, stderr.decode())


def assert_interrupted(run: subprocess.CompletedProcess, name: str, *, line: bool = True) -> None:
    assert run.returncode == 128 + STOP[name], run.stderr
    expected = [f"Error: interrupted by {name}"]
    if line:
        assert run.stderr.splitlines() == expected
    else:  # before the command starts there is nothing to clean up: it ends at once, silently
        assert run.stderr.splitlines() in ([], expected)


@pytest.mark.parametrize(
    "point, signals, group",
    [
        ("started", ["SIGTERM"], False),
        ("importing torch", ["SIGTERM"], False),
        ("streaming", ["SIGHUP"], False),
        ("writing", ["SIGINT"], True),
        ("writing", ["SIGTERM", "SIGTERM"], False),
    ],
)
def test_a_signal_in_a_streamed_run_leaves_nothing(losscli_exe, stream_files, tmp_path, point, signals, group):
    run = interrupt(
        losscli_exe, ["compute", "mse", *stream_files, "--chunk-size", "100000"], tmp_path, point, signals, group=group
    )
    assert_interrupted(run, signals[0], line=point != "started")


def test_a_signal_while_standard_input_never_ends(losscli_exe, tmp_path):
    """The reading thread waits on a pipe no one closes: the command must not wait for it."""
    labels = tmp_path / "y.csv"
    labels.write_text("y\n1\n")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [losscli_exe, "compute", "mse", "-", str(labels)],
        stdin=read_end,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(read_end)
    try:
        os.write(write_end, b"p\n1\n")  # and no end
        deadline = time.monotonic() + 120
        while not POINTS["importing torch"](proc.pid, tmp_path, tmp_path):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.002)
        time.sleep(1)  # the import is done or nearly: the command waits for the reader
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(write_end)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, out, err) == (130, b"", b"Error: interrupted by SIGINT\n")


@SLOW
@pytest.mark.slow
@pytest.mark.parametrize("name", STOP)
@pytest.mark.parametrize("point", ["started", "importing torch", "streaming", "writing"])
def test_every_signal_at_every_point_leaves_nothing(losscli_exe, stream_files, tmp_path, point, name):
    run = interrupt(losscli_exe, ["compute", "mse", *stream_files, "--chunk-size", "100000"], tmp_path, point, [name])
    assert_interrupted(run, name, line=point != "started")


def test_a_signal_while_the_forked_parser_reads_stops_it(losscli_exe, forked_files, tmp_path):
    run = interrupt(losscli_exe, ["compute", "mse", *forked_files], tmp_path, "forked", ["SIGTERM"])
    assert_interrupted(run, "SIGTERM")


@SLOW
@pytest.mark.slow
@pytest.mark.parametrize("name", STOP)
def test_ctrl_c_while_the_forked_parser_reads(losscli_exe, forked_files, tmp_path, name):
    run = interrupt(losscli_exe, ["compute", "mse", *forked_files], tmp_path, "forked", [name], group=True)
    assert_interrupted(run, name)


def test_the_forked_parser_dies_with_a_killed_parent(losscli_exe, forked_files, tmp_path):
    proc = subprocess.Popen(
        [losscli_exe, "compute", "mse", *forked_files],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not _children(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.002)
    proc.kill()  # SIGKILL: no cleanup runs in the parent
    proc.wait()
    deadline = time.monotonic() + 0.5  # the parse it was starting takes seconds
    while _running_in_group(proc.pid):
        assert time.monotonic() < deadline, "the forked parser outlived its parent"
        time.sleep(0.01)


@pytest.mark.parametrize("name", STOP)
def test_a_signal_while_the_command_line_imports_is_one_line(name):
    """Before losscli.process sets its handlers (Typer and Rich still importing), a signal ends the run
    with 128 + its number and one line, not Python's KeyboardInterrupt traceback."""
    stand_in = (  # a losscli.cli whose import is still under way when the signal comes
        "import os, signal, sys, time, types\n"
        "cli = types.ModuleType('losscli.cli')\n"
        f"cli.main = lambda: (os.kill(os.getpid(), signal.{name}), time.sleep(30))\n"
        "sys.modules['losscli.cli'] = cli\n"
        "from losscli._console import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", stand_in], capture_output=True, text=True, timeout=20)
    assert done.returncode == 128 + STOP[name]
    assert done.stderr == f"Error: interrupted by {name}\n" and done.stdout == ""


# ---------------------------------------------------------------- standard output, real processes


@pytest.fixture(scope="session")
def output_files(tmp_path_factory) -> tuple[str, str]:
    """Inputs whose JSON, CSV and table outputs exceed a pipe's buffer several times."""
    folder = tmp_path_factory.mktemp("stdout")
    rng = np.random.default_rng(6)
    for name in ("p.npy", "y.npy"):
        np.save(folder / name, rng.normal(size=40_000).astype(np.float32))
    return str(folder / "p.npy"), str(folder / "y.npy")


CLOSED_PIPES = {  # the whole JSON goes through the same writer as the streamed one
    "streamed json | head -c 10": (["-f", "json", "--chunk-size", "5000"], 10),  # textout from the spill file
    "csv | head -1": (["-f", "csv"], 20),
    "table | head -1": (["--rows", "3000"], 20),
}


def test_a_closed_standard_output_ends_quietly(losscli_exe, output_files, tmp_path):
    """Each pipe's reader stops after a few bytes (as ``head`` does); and ``1>&-`` leaves no standard output at
    all, while --grad-out is still written. The runs go side by side: each is mostly importing torch."""
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    target = tmp_path / "g.npy"
    runs = {
        name: subprocess.Popen(
            [losscli_exe, "compute", "mse", *output_files, *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for name, (options, _) in CLOSED_PIPES.items()
    }
    closed = subprocess.Popen(
        f"exec '{losscli_exe}' compute mse {' '.join(output_files)} -f json --grad-out '{target}' 1>&-",
        shell=True,
        stderr=subprocess.PIPE,
        env=env,
    )
    for name, proc in runs.items():
        head = proc.stdout.read(CLOSED_PIPES[name][1])
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        assert (proc.wait(timeout=120), stderr) == (0, ""), name
        assert len(head) == CLOSED_PIPES[name][1]
    assert (closed.wait(timeout=120), closed.stderr.read()) == (0, b"")
    assert np.load(target).shape == (40_000,)
    assert entries(tmp_path / "tmp") == []


def test_a_full_standard_output_is_one_error_line(losscli_exe):
    with open("/dev/full", "w") as full:
        run = subprocess.run([losscli_exe, "list", "-f", "json"], stdout=full, stderr=subprocess.PIPE, text=True)
    assert run.returncode == 3
    assert run.stderr.splitlines() == [
        "Error: cannot write to standard output (/dev/full): No space left on device; "
        "redirect it to a file on a disk with room"
    ]


def test_a_closed_standard_error_keeps_standard_output_clean(losscli_exe, tmp_path):
    run = subprocess.run(
        f"'{losscli_exe}' compute mse a.csv b.csv --grad-out '{tmp_path}/missing/g.npy' 2>&-",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stdout == ""  # print(file=None) would have put the error there


def test_module_is_importable_without_torch():
    code = "import sys, losscli.process; sys.exit('torch' in sys.modules or 'numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
