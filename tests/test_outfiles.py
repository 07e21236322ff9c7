"""Output files (losscli.io.outfiles): refused before anything is read when they cannot be written or would
overwrite an input, written whole or not at all, and a full disk said in one line with the room needed."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from losscli.io import inputs as inputs_module
from losscli.io.outfiles import size_text

PRED, LABELS = "p\n1\n2\n3\n", "y\n1.5\n2\n2\n"


@pytest.fixture
def never_read(monkeypatch):
    """Fail the test if a command reads its inputs (the refusal must come before)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the inputs were read")

    for name in ("gather_inputs", "stream_inputs"):
        monkeypatch.setattr(inputs_module, name, refuse)


@pytest.fixture
def two_files(tmp_path, monkeypatch):
    """``one.csv`` (predictions) and ``two.csv`` (labels) in the current directory (``tmp_path``)."""
    monkeypatch.chdir(tmp_path)
    Path("one.csv").write_text(PRED)
    Path("two.csv").write_text(LABELS)
    return tmp_path


def entries(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


# ---------------------------------------------------------------- an output that is one of the inputs


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize(
    "args, role",
    [
        (["one.csv", "two.csv", "--grad-out", "one.csv"], "PRED"),
        (["one.csv", "two.csv", "--grad-out", "two.csv"], "LABELS"),
        (["one.csv", "two.csv", "--grad-out", "./one.csv"], "PRED"),
        (["one.csv", "two.csv", "--grad-out", "sub/../one.csv"], "PRED"),
        (["one.csv", "two.csv", "--grad-out", "ONE_ABSOLUTE"], "PRED"),
        (["one.csv", "two.csv", "--grad-out", "link.csv"], "PRED"),
        (["one.csv", "two.csv", "--grad-out", "hard.csv"], "PRED"),
        (["link.csv", "two.csv", "--grad-out", "one.csv"], "PRED"),
    ],
)
def test_grad_out_naming_an_input_is_refused_before_reading(expect_error, two_files, never_read, args, role, chunked):
    Path("sub").mkdir()
    Path("link.csv").symlink_to("one.csv")
    os.link("one.csv", "hard.csv")
    args = [str(two_files / "one.csv") if a == "ONE_ABSOLUTE" else a for a in args]
    before = entries(two_files)
    line = expect_error(["compute", "mse", *args, *(["--chunk-size", "2"] if chunked else [])], 2, "--grad-out", role)
    assert args[-1] in line
    assert Path("one.csv").read_text() == PRED and Path("two.csv").read_text() == LABELS
    assert entries(two_files) == before


def test_grad_out_naming_an_input_file_is_refused(expect_error, write_file, tmp_path, never_read):
    s1, s2, y = (write_file(name, ["v", 0.1, 0.2]) for name in ("s1.csv", "s2.csv", "y.csv"))
    args = ["compute", "margin_ranking", s1, y, "--input", f"input2={s2}", "--grad-out", s2]
    expect_error(args, 2, "--grad-out", "--input input2", "s2.csv")
    assert Path(s2).read_text() == "v\n0.1\n0.2\n"


def test_grad_out_naming_the_file_standard_input_reads_is_refused(losscli_exe, two_files):
    with open("one.csv", "rb") as stdin:
        run = subprocess.run(
            [losscli_exe, "compute", "mse", "-", "two.csv", "--grad-out", "one.csv"],
            stdin=stdin,
            capture_output=True,
            text=True,
        )
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith("Error: --grad-out one.csv: that is PRED (the file standard input reads)")
    assert len(run.stderr.splitlines()) == 1
    assert Path("one.csv").read_text() == PRED


def test_grad_out_without_gradients_is_refused_before_reading(expect_error, two_files, never_read):
    expect_error(["compute", "mse", "one.csv", "two.csv", "--no-grad", "--grad-out", "g.npy"], 2, "--no-grad")
    assert not Path("g.npy").exists()


def test_grad_out_beside_the_inputs_is_written(invoke_json, two_files):
    out = invoke_json(["compute", "mse", "one.csv", "two.csv", "--grad-out", "g.csv"])
    assert Path("g.csv").read_text().splitlines()[0] == "grad_input"
    assert out["gradients"]["input"]["shape"] == [3]


# ---------------------------------------------------------------- paths that cannot be a file


@pytest.mark.parametrize(
    "given, code, fragments",
    [
        ("somedir.npy/", 2, ["that is a directory", "somedir.npy/grad.npy"]),
        ("somedir.npy", 2, ["that is a directory"]),
        (".", 2, ["that is a directory", "./grad.npy"]),
        ("dirlink", 2, ["that is a directory"]),
        ("newdir/", 2, ["cannot end in /"]),
        ("missing/g.npy", 2, ["missing does not exist", "mkdir -p missing"]),
        ("missing/deeper/g.npy", 2, ["missing/deeper does not exist", "mkdir -p missing/deeper"]),
        ("one.csv/g.npy", 2, ["one.csv is a file, not a directory"]),
        ("g.txt", 2, ["use a .npy, .npz or .csv file name"]),
    ],
)
def test_grad_out_that_cannot_be_a_file_is_refused_before_reading(
    expect_error, two_files, never_read, given, code, fragments
):
    Path("somedir.npy").mkdir()
    Path("dirlink").symlink_to("somedir.npy")
    before = entries(two_files)
    expect_error(["compute", "mse", "one.csv", "two.csv", "--grad-out", given], code, f"--grad-out {given}", *fragments)
    assert entries(two_files) == before
    assert entries(two_files / "somedir.npy") == []


@pytest.mark.parametrize(
    "given, fragments",
    [(".", ["that is a directory", "./curve.png"]), ("missing/c.png", ["mkdir -p missing"]), ("c.jpg", [".png"])],
)
def test_curve_out_that_cannot_be_a_file_is_refused(expect_error, tmp_path, monkeypatch, given, fragments):
    monkeypatch.chdir(tmp_path)
    expect_error(["curve", "bce", "--out", given], 2, f"--out {given}", *fragments)
    assert entries(tmp_path) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MB tmpfs mounted for the test; skipped where mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def test_a_directory_that_cannot_be_written_is_exit_3_before_reading(expect_error, two_files, never_read, request):
    if os.geteuid() != 0:
        locked = two_files / "locked"
        locked.mkdir(mode=0o500)
        expect_error(["compute", "mse", "one.csv", "two.csv", "--grad-out", "locked/g.npy"], 3, "no permission")
        return
    mount_point = request.getfixturevalue("small_tmpfs")  # root may write anywhere: a read-only file system
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
    target = str(mount_point / "g.npy")
    expect_error(["compute", "mse", "one.csv", "two.csv", "--grad-out", target], 3, target, "read-only")


def test_a_file_that_cannot_be_created_after_the_check_is_exit_3(expect_error, monkeypatch, two_files):
    from losscli.io import outfiles

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outfiles.tempfile, "mkstemp", refused)
    expect_error(
        ["compute", "mse", "one.csv", "two.csv", "--grad-out", "g.npy"], 3, "--grad-out g.npy", "permission denied"
    )
    assert entries(two_files) == ["one.csv", "two.csv"]


# ---------------------------------------------------------------- a full disk


def needed_bytes(line: str) -> float:
    """The ``needed about 12.3 MB`` of an error line, in bytes."""
    number, unit = re.search(r"needed about ([0-9.]+) (bytes|kB|MB|GB)", line).groups()
    return float(number) * {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]


@pytest.fixture
def long_inputs(write_file):
    rng = np.random.default_rng(3)
    return write_file("p.npy", rng.normal(size=(30_000, 3)).astype(np.float32)), write_file(
        "y.npy", rng.normal(size=(30_000, 3)).astype(np.float32)
    )


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv"])
@pytest.mark.parametrize("chunked", [False, True])
def test_a_full_disk_names_the_file_and_the_room_needed(
    invoke, expect_error, full_disk, long_inputs, tmp_path, suffix, chunked
):
    stream = ["--chunk-size", "7000"] if chunked else []
    reference = tmp_path / f"whole{suffix}"
    assert invoke(["compute", "mse", *long_inputs, *stream, "--grad-out", reference]).exit_code == 0
    target = tmp_path / f"g{suffix}"
    target.write_bytes(b"the previous gradient")
    before = entries(tmp_path)
    full_disk(5000)
    line = expect_error(
        ["compute", "mse", *long_inputs, *stream, "--grad-out", target], 3, f"--grad-out {target}", "free"
    )
    assert "no space left on device" in line and str(tmp_path) in line
    assert needed_bytes(line) == pytest.approx(reference.stat().st_size, rel=0.05)
    assert entries(tmp_path) == before
    assert target.read_bytes() == b"the previous gradient"


def test_a_full_disk_needs_what_numpy_writes(expect_error, full_disk, long_inputs, tmp_path):
    full_disk(0)
    line = expect_error(["compute", "mse", *long_inputs, "--grad-out", tmp_path / "g.npy"], 3)
    saved = io.BytesIO()
    np.save(saved, np.zeros((30_000, 3), dtype=np.float32))
    assert f"needed about {size_text(len(saved.getvalue()))}" in line


def test_a_real_full_file_system(expect_error, small_tmpfs, write_file):
    rng = np.random.default_rng(4)
    gradient = rng.normal(size=300_000).astype(np.float32)  # 1.2 MB as .npy, on a 1 MB file system
    pred, labels = write_file("p.npy", gradient), write_file("y.npy", np.zeros_like(gradient))
    saved = io.BytesIO()
    np.save(saved, gradient)
    for stream in ([], ["--chunk-size", "100000"]):
        target = str(small_tmpfs / "g.npy")
        line = expect_error(["compute", "mse", pred, labels, *stream, "--grad-out", target], 3, target)
        assert f"no space left on device in {small_tmpfs}" in line
        assert f"needed about {size_text(len(saved.getvalue()))}" in line
        assert "1.0 MB free" in line  # measured once the temporary file is gone
        assert entries(small_tmpfs) == []


# ---------------------------------------------------------------- links, FIFOs


def test_a_symbolic_link_keeps_pointing_at_the_new_gradient(invoke, two_files):
    Path("real").mkdir()
    Path("real/g.csv").write_text("old")
    Path("g.csv").symlink_to("real/g.csv")
    assert invoke(["compute", "mse", "one.csv", "two.csv", "--grad-out", "g.csv"]).exit_code == 0
    assert Path("g.csv").is_symlink()
    assert Path("real/g.csv").read_text().splitlines()[0] == "grad_input"
    assert entries(two_files / "real") == ["g.csv"]


def test_a_fifo_is_written_into_not_replaced(invoke, two_files):
    os.mkfifo("g.csv")
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(Path("g.csv").read_bytes()), daemon=True)
    reader.start()
    result = invoke(["compute", "mse", "one.csv", "two.csv", "--grad-out", "g.csv"])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert received and received[0].decode().splitlines()[0] == "grad_input"
    assert Path("g.csv").is_fifo()


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (12_345_678, "12.3 MB"),
        (2.5e9, "2.5 GB"),
        (7e15, "7000.0 TB"),
    ],
)
def test_size_text(n, text):
    assert size_text(n) == text


def test_check_output_is_importable_without_torch():
    code = "import sys, losscli.io.outfiles; sys.exit('torch' in sys.modules or 'numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
