"""Property-based tests (Hypothesis) of the loaders and the CLI: issue 11, point 7.

Every example writes random input files the way real tools write them
(``tests/strategies.py``), runs a command in-process and checks:

* the contract (SPEC §4, issue 11): exit 0, or exit 2/3 with exactly one
  ``Error:`` line, nothing on stdout, no traceback and no "Error: unexpected";
  never exit 1. On success every stderr line is a ``Warning:``, ``-f json``
  is strict JSON (no NaN/Infinity) and ``-f csv`` parses;
* the value: when the generator knows what the files hold, exit 0 with the
  value (and per-element values and gradient) of a numpy reference on the
  intended arrays, in the computation's dtype; or the failure the rules
  name (exit 3 for bad data, 2 for bad options);
* streaming: ``--chunk-size`` gives what the whole read gives, or fails as it does;
* files: nothing is left in the working directory or in ``$TMPDIR`` beyond
  the inputs (and ``--grad-out`` after a success); a pickle in an input is
  never loaded.

Profiles (registered in ``conftest.py``): ``fast`` by default (a few dozen
examples per test, derandomized, for ``make test``); ``slow`` with
``LOSSCLI_SLOW=1`` or ``HYPOTHESIS_PROFILE=slow`` (10 000 examples per
test, ``make test-slow``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from losscli.cli import app

try:
    from tests import references as ref
    from tests import strategies as gen
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references as ref
    import strategies as gen

from losscli.registry import get_loss

RUNNER = CliRunner()
PROFILE = settings(settings.get_profile("losscli"))
"""The profile conftest.py chose (fast, or slow with LOSSCLI_SLOW=1 / HYPOTHESIS_PROFILE=slow)."""


# --- the sandbox: a fresh working directory and $TMPDIR per example ---------------------------------------


@pytest.fixture(scope="session")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each example's working directory is made (a session fixture: Hypothesis reuses it across examples)."""
    return tmp_path_factory.mktemp("properties")


@dataclass
class Sandbox:
    work: Path
    tmp: Path

    def write(self, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def contents(self) -> tuple[dict[str, bytes], list[str]]:
        """The working directory's files (relative path -> bytes) and what is left in $TMPDIR."""
        files = {
            str(p.relative_to(self.work)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(self.work.rglob("*"))
        }
        return files, sorted(str(p.relative_to(self.tmp)) for p in self.tmp.rglob("*"))


@contextlib.contextmanager
def sandbox(base: Path) -> Iterator[Sandbox]:
    """Run in a new directory with TMPDIR (and ``tempfile.tempdir``) pointing at an empty one of its own."""
    root = Path(tempfile.mkdtemp(dir=base))
    box = Sandbox(root / "work", root / "tmp")
    box.work.mkdir()
    box.tmp.mkdir()
    cwd, tmpdir, saved_tempdir = os.getcwd(), os.environ.get("TMPDIR"), tempfile.tempdir
    os.chdir(box.work)
    os.environ["TMPDIR"] = str(box.tmp)
    tempfile.tempdir = str(box.tmp)
    try:
        yield box
    finally:
        os.chdir(cwd)
        tempfile.tempdir = saved_tempdir
        if tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = tmpdir
        shutil.rmtree(root, ignore_errors=True)


# --- running the CLI and its contract -----------------------------------------------------------------------


@dataclass
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    def __str__(self) -> str:
        command = " ".join(self.args)
        return f"losscli {command} -> exit {self.code}\nstdout: {self.stdout[:1500]}\nstderr: {self.stderr[:1500]}"


def run_cli(args: list[str], stdin: bytes | None = None) -> Run:
    """``losscli ARGS`` in-process; Python warnings count as stderr lines, as a fresh process would print them.

    In-process, a warning is shown once per place for the whole session (and
    pytest records it rather than printing): here every run sees Python's
    default filters afresh, and what they would print is added to stderr.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.filterwarnings("ignore", category=category)
        result = RUNNER.invoke(app, args, input=stdin)
    shown = "".join(f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n" for w in caught)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    run = Run(args, result.exit_code, result.stdout, shown + result.stderr, exception)
    note(str(run))
    return run


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (jq and other strict parsers refuse it)")


def check_contract(run: Run, fmt: str) -> Any:
    """SPEC §4 and issue 11 for any outcome; returns the parsed output of a success (JSON document or CSV rows)."""
    assert run.exception is None, f"an exception escaped: {run.exception!r}\n{run}"
    assert run.code in (0, 2, 3), f"exit {run.code} (1 is a bug)\n{run}"
    assert "Traceback" not in run.stderr, str(run)
    assert not run.stderr.startswith("Error: unexpected "), str(run)  # how cli.py reports a bug
    if run.code != 0:
        assert run.stdout == "", f"output on failure\n{run}"
        lines = run.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), f"not exactly one Error: line\n{run}"
        return None
    for line in run.stderr.splitlines():
        assert line.startswith("Warning: "), f"stderr line that is not a warning: {line!r}\n{run}"
    if fmt == "json":
        try:
            return json.loads(run.stdout, parse_constant=_refuse_constant)
        except ValueError as e:
            raise AssertionError(f"-f json output is not strict JSON ({e})\n{run}") from None
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(run.stdout)))
        assert rows and rows[0], f"-f csv printed no header\n{run}"
        return rows
    return None


@contextlib.contextmanager
def only_matching_failures(case: Any) -> Iterator[None]:
    """With ``LOSSCLI_PROPERTY_MATCH=REGEX``, failures whose message and example do not match pass.

    Several open bugs make a property fail on different examples; this lets
    Hypothesis find (and shrink) the examples of one of them, or check that a
    fix made its failures go, while the others remain. The regex sees the
    failure message after the example's repr and, for generated inputs, the
    rules they touch (``rules: pandas index, numeric header``).
    """
    pattern = os.environ.get("LOSSCLI_PROPERTY_MATCH")
    try:
        yield
    except AssertionError as e:
        inputs = getattr(case, "inputs", None)
        rules = ", ".join(sorted(inputs.rules)) if inputs is not None else ""
        if pattern and not re.search(pattern, f"{case!r}\nrules: {rules}\n{e}"):
            return
        raise


# --- numpy references ----------------------------------------------------------------------------------------


@dataclass
class Expected:
    """A success: the reference value (or per-element values) and gradient, with their tolerances."""

    value: float | None
    values: np.ndarray | None
    grad: np.ndarray
    tol: float  # absolute tolerance of the value / of each per-element value
    grad_tol: np.ndarray  # absolute tolerance of each gradient element
    notes: tuple[str, ...] = ()


def _check_index(loss: str, x: np.ndarray, y: np.ndarray, ignore_index: int) -> gen.Fails | gen.Unknown | None:
    if x.ndim < 2:
        return gen.Unknown("cross entropy of an unbatched input")
    if y.shape == x.shape:  # class probabilities, or one-hot rows: not checked against a reference here
        return gen.Unknown("soft targets")
    if y.shape != (x.shape[0], *x.shape[2:]):
        return gen.unusable("labels do not fit the logits' shape")
    as_float = y.astype(np.float64)
    if y.dtype.kind == "f" and not np.all(np.floor(as_float) == as_float):
        return gen.unusable("a class index that is not whole")
    bad = ((as_float < 0) | (as_float >= x.shape[1])) & (as_float != ignore_index)
    if bad.any():
        return gen.unusable("a class index out of range")
    return None


def expect_compute(
    loss: str, x: Any, y: Any, reduction: str, params: dict[str, Any], dtype: str, notes: tuple[str, ...] = ()
) -> Expected | gen.Fails | gen.Unknown:
    """What ``compute`` must give for the intended arrays: the numpy reference, or the failure the rules name."""
    problems = [a for a in (x, y) if isinstance(a, (gen.Fails, gen.Unknown))]
    if problems:
        fails = [p for p in problems if isinstance(p, gen.Fails)]
        if not fails:
            return problems[0]
        codes = frozenset().union(*(f.codes for f in fails)) | (
            {3} if len(fails) < len(problems) else frozenset()
        )
        return gen.Fails(frozenset(codes), "; ".join(f.why for f in fails))
    x, y = np.asarray(x), np.asarray(y)
    if x.size == 0 or y.size == 0:
        return gen.unusable("empty input")
    for a in (x, y):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            return gen.unusable("NaN or inf")
    float_type = np.float32 if dtype == "float32" else np.float64
    classes = loss == "cross_entropy"
    float_roles = [x] if classes else [x, y]
    too_large = [a for a in float_roles if a.dtype.kind == "f" and float(np.abs(a).max()) > gen.F32_MAX]
    if float_type is np.float32 and too_large:
        return gen.unusable("a value past float32's range in a float32 run")
    ignore_index = params.get("ignore_index", -100)
    if classes:
        problem = _check_index(loss, x, y, ignore_index)
        if problem is not None:
            return problem
    elif x.shape != y.shape:
        return gen.unusable("shapes differ")
    if loss == "bce" and ((x < 0) | (x > 1)).any():
        return gen.unusable("bce input outside [0, 1]")
    if loss in ("bce", "bce_with_logits") and ((y < 0) | (y > 1)).any():
        return gen.unusable("target outside [0, 1]")

    def computed(a: np.ndarray) -> np.ndarray:  # the values torch gets, in float64 for the reference
        with np.errstate(over="ignore"):
            return a.astype(np.float64).astype(float_type).astype(np.float64)

    xc = computed(x)
    yc = y.astype(np.int64) if classes else computed(y)
    # torch gets the weights as tensors of the computation's dtype (a float32 weight of 1e-43 is subnormal)
    params = {k: computed(np.asarray(v, np.float64)) if k in ("weight", "pos_weight") else v for k, v in params.items()}
    eps = float(np.finfo(float_type).eps)
    tiny = float(np.finfo(float_type).smallest_subnormal) * 64
    with np.errstate(all="ignore"):  # log(0) and overflow are the reference's to report, not numpy's
        expected = _reference(loss, xc, yc, reduction, params)
    if expected is None:
        return gen.Unknown("outside the reference's reach")
    value, values, grad, magnitude, grad_scale, term_max = expected
    limit = gen.F32_MAX / 16 if float_type is np.float32 else 1e300
    grad_max = np.abs(grad).max(initial=0)
    if not (math.isfinite(magnitude) and term_max < limit and np.all(np.isfinite(grad)) and grad_max < limit):
        return gen.Unknown("the loss or its gradient overflows the dtype")
    grad_tol = 1e-4 * np.abs(grad) + 32 * eps * grad_scale + tiny if float_type is np.float32 else (
        1e-9 * np.abs(grad) + 32 * eps * grad_scale + tiny
    )
    tol = 8 * eps * abs(value if value is not None else 0.0) + 64 * eps * magnitude + tiny
    return Expected(value, values, grad, tol, grad_tol, notes)


BCE_EPSILON = float(np.float32(1e-12))
"""torch's BCELoss backward divides by max(x·(1 - x), EPSILON), EPSILON the float 1e-12 (ATen's Loss.cpp)."""


def _reduce_scale(reduction: str, count: float) -> float:
    return 1.0 / count if reduction == "mean" else 1.0


def _reference(loss: str, x: np.ndarray, y: np.ndarray, reduction: str, params: dict[str, Any]) -> Any:
    """(value, values, gradient, magnitude, gradient scale, largest term) of the loss, in float64.

    ``magnitude`` is the reduction of the terms' absolute sizes: rounding in
    the computation's dtype stays within a few epsilons of it, whatever cancels.
    """
    arrays = {"input": x, "target": y}
    if loss in ("mse", "l1"):
        diff = x - y
        terms = diff**2 if loss == "mse" else np.abs(diff)
        scale = _reduce_scale(reduction, x.size)
        grad = (2 * diff if loss == "mse" else np.sign(diff)) * scale
        grad_scale = (2 * (np.abs(x) + np.abs(y)) if loss == "mse" else np.zeros_like(x)) * scale
        magnitude_terms = terms
    elif loss == "bce":
        weight = np.asarray(params.get("weight", 1.0), dtype=np.float64)
        terms = ref.bce_np(arrays, params, "none")
        scale = _reduce_scale(reduction, x.size)
        denominator = np.maximum(x * (1 - x), BCE_EPSILON)
        grad = np.broadcast_to(weight * (x - y) / denominator * scale, x.shape)
        grad_scale = np.broadcast_to(np.abs(weight) * (np.abs(x) + np.abs(y) + 1) / denominator * scale, x.shape)
        magnitude_terms = np.abs(terms)
    elif loss == "bce_with_logits":
        weight = np.asarray(params.get("weight", 1.0), dtype=np.float64)
        pos_weight = np.asarray(params.get("pos_weight", 1.0), dtype=np.float64)
        terms = ref.bce_with_logits_np(arrays, params, "none")
        scale = _reduce_scale(reduction, x.size)
        sigmoid = np.exp(ref.log_sigmoid(x))
        grad = np.broadcast_to(weight * ((pos_weight * y + 1 - y) * sigmoid - pos_weight * y) * scale, x.shape)
        grad_scale = np.broadcast_to(np.abs(weight) * (np.abs(pos_weight) + 1) * 2 * scale, x.shape)
        magnitude_terms = np.abs(weight) * (np.abs(x) + 1) * (np.abs(pos_weight) * np.abs(y) + np.abs(1 - y) + 1)
        magnitude_terms = np.broadcast_to(magnitude_terms, x.shape)
    elif loss == "cross_entropy":
        if x.ndim != 2:
            return None
        n_classes = x.shape[1]
        weight = np.ones(n_classes) if params.get("weight") is None else np.asarray(params["weight"], np.float64)
        smoothing = float(params.get("label_smoothing", 0.0))
        keep = y != params.get("ignore_index", -100)
        safe = np.where(keep, y, 0)
        w_y = weight[safe] * keep
        if reduction == "mean" and not w_y.sum() > 0:
            return None  # every target ignored (or weights summing to 0): NaN, as torch gives
        log_p = ref.log_softmax(x, axis=1)
        terms = (1 - smoothing) * w_y * -log_p[np.arange(len(y)), safe] + smoothing / n_classes * -(
            weight * log_p
        ).sum(axis=1) * keep
        scale = 1.0 / w_y.sum() if reduction == "mean" else 1.0
        p = np.exp(log_p)
        onehot = np.eye(n_classes)[safe]
        grad = ((1 - smoothing) * w_y[:, None] * (p - onehot) + smoothing / n_classes * keep[:, None] * (
            weight.sum() * p - weight
        )) * scale
        row_size = np.abs(x).max(axis=1) + math.log(n_classes) + 1
        magnitude_terms = row_size * (np.abs(w_y) + smoothing * np.abs(weight).sum()) * keep
        grad_scale = np.broadcast_to(((np.abs(w_y) + np.abs(weight).sum())[:, None] * 2) * scale, x.shape)
        if reduction == "mean":
            value = float(terms.sum() * scale)
            return value, None, grad, float(magnitude_terms.sum() * scale), grad_scale, float(np.abs(terms).max())
    else:
        raise ValueError(loss)
    magnitude_terms = np.broadcast_to(magnitude_terms, terms.shape)
    term_max = float(np.abs(terms).max(initial=0))
    if reduction == "none":
        return None, np.asarray(terms), grad, float(magnitude_terms.max(initial=0)), grad_scale, term_max
    value = float(ref.reduce(terms, reduction))
    return value, None, grad, float(ref.reduce(magnitude_terms, reduction)), grad_scale, term_max


# --- matching a run against the acceptable outcomes --------------------------------------------------------


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def mismatch(run: Run, parsed: Any, fmt: str, outcome: Any, grad: bool) -> str | None:
    """Why the run does not match ``outcome``, or None when it does (the contract is checked apart)."""
    if isinstance(outcome, gen.Unknown):
        return None
    if isinstance(outcome, gen.Fails):
        if run.code not in outcome.codes:
            return f"expected exit {sorted(outcome.codes)} ({outcome.why}), got {run.code}"
        return None
    if run.code != 0:
        return f"expected exit 0 with the reference value {outcome.value!r}, got exit {run.code}"
    for fragment in outcome.notes:
        lines = [line for line in run.stderr.splitlines() if fragment.lower() in line.lower()]
        if not lines:
            return f"no Warning: line on stderr mentioning {fragment!r}"
        if fmt == "json" and not any(fragment.lower() in w.lower() for w in parsed.get("warnings", [])):
            return f"no JSON warning mentioning {fragment!r}"
    if fmt == "json":
        return _json_mismatch(parsed, outcome, grad)
    if fmt == "csv":
        return _csv_mismatch(parsed, outcome, grad)
    return None


def _close(actual: np.ndarray, expected: np.ndarray, tol: Any) -> bool:
    return actual.shape == expected.shape and bool(np.all(np.abs(actual - expected) <= tol))


def _json_mismatch(doc: dict[str, Any], outcome: Expected, grad: bool) -> str | None:
    if outcome.values is None:
        value = _number(doc.get("value"))
        if not abs(value - outcome.value) <= outcome.tol:
            return f"value {doc.get('value')!r}, reference {outcome.value!r} (tolerance {outcome.tol:.3g})"
    else:
        values = np.array(doc.get("values"), dtype=np.float64)
        if not _close(values, outcome.values, outcome.tol):
            return f"values {doc.get('values')!r}, reference {outcome.values.tolist()!r}"
    gradients = doc.get("gradients")
    if not grad:
        return None if gradients == {} else f"--no-grad but gradients {gradients!r}"
    gradient = (gradients or {}).get("input")
    if gradient is None:
        return f"no gradient of input: {gradients!r}"
    if list(gradient["shape"]) != list(outcome.grad.shape):
        return f"gradient shape {gradient['shape']}, input shape {list(outcome.grad.shape)}"
    actual = np.array(gradient["values"], dtype=np.float64)
    if not _close(actual, outcome.grad, outcome.grad_tol):
        return f"gradient {gradient['values']!r}, reference {outcome.grad.tolist()!r}"
    return None


def _csv_mismatch(rows: list[list[str]], outcome: Expected, grad: bool) -> str | None:
    body = rows[1:]
    if outcome.values is None:
        found = [r for r in body if r and r[0] == "value"]
        if len(found) != 1 or not abs(float(found[0][-1]) - outcome.value) <= outcome.tol:
            return f"csv value rows {found!r}, reference {outcome.value!r}"
    else:
        found = np.array([float(r[-1]) for r in body if r and r[0] == "values"])
        if not _close(found, outcome.values.reshape(-1), outcome.tol):
            return f"csv values {found.tolist()!r}, reference {outcome.values.reshape(-1).tolist()!r}"
    if grad:
        found = np.array([float(r[-1]) for r in body if r and r[0] == "grad_input"])
        if not _close(found, outcome.grad.reshape(-1), outcome.grad_tol.reshape(-1)):
            return f"csv gradient {found.tolist()!r}, reference {outcome.grad.reshape(-1).tolist()!r}"
    return None


def assert_matches(run: Run, parsed: Any, fmt: str, outcomes: list[Any], grad: bool) -> None:
    reasons = [mismatch(run, parsed, fmt, outcome, grad) for outcome in outcomes]
    if any(reason is None for reason in reasons):
        return
    raise AssertionError("no acceptable outcome matches:\n  " + "\n  ".join(reasons) + f"\n{run}")


# --- compute --------------------------------------------------------------------------------------------------


@dataclass
class ComputeCase:
    """One ``compute`` command on generated inputs, with what it must give."""

    loss: str
    alias: str
    inputs: gen.Inputs
    reduction: str | None
    dtype: str | None
    fmt: str
    grad: bool
    chunk: int | None
    grad_out: str | None
    params: dict[str, Any] = field(default_factory=dict)
    param_args: list[str] = field(default_factory=list)
    param_problem: Any = None

    def args(self, chunk: int | None = None) -> list[str]:
        inputs = self.inputs
        args = ["compute", self.alias, inputs.pred, *([inputs.labels] if inputs.labels else []), *inputs.options]
        args += self.param_args
        if self.reduction:
            args += ["--reduction", self.reduction]
        if self.dtype:
            args += ["--dtype", self.dtype]
        if not self.grad:
            args.append("--no-grad")
        if self.grad_out:
            args += ["--grad-out", self.grad_out]
        if chunk:
            args += ["--chunk-size", str(chunk)]
        return [*args, "-f", self.fmt]

    def outcomes(self) -> list[Any]:
        reduction = self.reduction or get_loss(self.loss).default_reduction
        if reduction not in ("mean", "sum", "none"):
            return [gen.Fails(frozenset({2}), f"--reduction {reduction}")]
        if self.param_problem is not None:
            return [self.param_problem]
        return [
            expect_compute(self.loss, x, y, reduction, self.params, self.dtype or "float32", notes)
            for x, y, notes in self.inputs.readings
        ]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis prints failing examples with this
        printer.text(repr(self))

    def __repr__(self) -> str:
        return f"ComputeCase({self.inputs!r}, command={' '.join(self.args(self.chunk))!r})"


LOADERS = {
    "csv": lambda p: gen.text_inputs(p, "csv"),
    "tsv": lambda p: gen.text_inputs(p, "tsv"),
    "txt": lambda p: gen.text_inputs(p, "txt"),
    "stdin": lambda p: gen.text_inputs(p, "csv", stdin=True),
    "npy": gen.npy_inputs,
    "npz": gen.npz_inputs,
    "parquet": gen.parquet_inputs,
}


REDUCTIONS = [None, "mean", "sum", "none", "mean", "sum"]
"""--reduction values (None: the loss's default); batchmean, refused by these losses, is drawn at times for CSV."""


@st.composite
def compute_cases(draw: Any, loader: str) -> ComputeCase:
    loss = draw(st.sampled_from(gen.LOSSES))
    problem = draw(gen.problems(loss))
    inputs = draw(LOADERS[loader](problem))
    grad = draw(st.sampled_from([True, True, False]))
    chunk = draw(st.one_of(st.none(), st.integers(1, problem.n_rows + 2)))
    grad_out = draw(st.sampled_from([None] * 6 + ["g.npy", "out/g.npy", "g.csv"])) if grad else None
    return ComputeCase(
        loss=loss,
        alias=draw(st.sampled_from(gen.ALIASES[loss])),
        inputs=inputs,
        reduction=draw(st.sampled_from(REDUCTIONS)) if loader != "csv" or draw(st.integers(0, 19)) else "batchmean",
        dtype=draw(st.sampled_from([None, "float32", "float64"])),
        fmt=draw(st.sampled_from(["json", "json", "csv", "table"])),
        grad=grad,
        chunk=chunk,
        grad_out=grad_out,
    )


def run_compute(case: ComputeCase, base: Path, chunk: int | None) -> tuple[Run, Any]:
    """Run the case in a fresh sandbox, check the contract and the files left; the run and its parsed output."""
    with sandbox(base) as box:
        if case.grad_out and "/" in case.grad_out:
            (box.work / case.grad_out).parent.mkdir()
        box.write(case.inputs.files)
        before, _ = box.contents()
        run = run_cli(case.args(chunk), case.inputs.stdin)
        parsed = check_contract(run, case.fmt)
        after, left = box.contents()
        assert gen.MARKER not in after, f"a pickle in an input was loaded\n{run}"
        assert left == [], f"left in $TMPDIR: {left}\n{run}"
        expected_files = dict(before)
        if case.grad_out and run.code == 0:
            assert case.grad_out in after, f"--grad-out {case.grad_out} not written\n{run}"
            grad_file = after.pop(case.grad_out)
            if case.grad_out.endswith(".npy"):
                parsed = (parsed, np.load(io.BytesIO(grad_file), allow_pickle=False))
        assert after == expected_files, (
            f"files changed: left {sorted(set(after) - set(expected_files))}, "
            f"changed {[n for n in expected_files if after.get(n) != expected_files[n]]}\n{run}"
        )
    return run, parsed


def check_compute(case: ComputeCase, base: Path) -> None:
    """The compute case's contract, value, files left, and agreement of --chunk-size with the whole read."""
    with only_matching_failures(case):
        _check_compute(case, base)


def _check_compute(case: ComputeCase, base: Path) -> None:
    note(f"how the files were written: {case.inputs.how}")
    run, parsed = run_compute(case, base, None)
    grad_array = None
    if isinstance(parsed, tuple):
        parsed, grad_array = parsed
    outcomes = case.outcomes()
    assert_matches(run, parsed, case.fmt, outcomes, case.grad)
    if grad_array is not None:
        successes = [o for o in outcomes if isinstance(o, Expected)]
        if successes and not any(_close(grad_array.astype(np.float64), o.grad, o.grad_tol) for o in successes):
            raise AssertionError(f"--grad-out holds {grad_array.tolist()!r}, reference {successes[0].grad.tolist()!r}")
    if case.chunk is None:
        return
    streamed, streamed_parsed = run_compute(case, base, case.chunk)
    if isinstance(streamed_parsed, tuple):
        streamed_parsed = streamed_parsed[0]
    assert_matches(streamed, streamed_parsed, case.fmt, case.outcomes(), case.grad)
    if "-" in (case.inputs.pred, case.inputs.labels):
        return
    assert streamed.code == run.code, f"streamed exit {streamed.code}, whole exit {run.code}\n{run}\n{streamed}"
    if run.code == 0 and case.fmt == "json":
        for key in ("value",):
            a, b = _number(parsed.get(key)), _number(streamed_parsed.get(key))
            ulp = float(np.finfo(np.float32 if (case.dtype or "float32") == "float32" else np.float64).eps)
            assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 4 * ulp * max(abs(a), abs(b)), (
                f"streamed value {b!r}, whole value {a!r}\n{run}\n{streamed}"
            )


@PROFILE
@given(case=compute_cases("csv"))
def test_csv_compute(case: ComputeCase, sandboxes: Path) -> None:
    """CSV written byte by byte, by the csv module, pandas and numpy.savetxt."""
    check_compute(case, sandboxes)


@PROFILE
@given(case=compute_cases("tsv"))
def test_tsv_compute(case: ComputeCase, sandboxes: Path) -> None:
    """TSV: tab-separated, quoted or not, by the same writers."""
    check_compute(case, sandboxes)


@PROFILE
@given(case=compute_cases("txt"))
def test_txt_compute(case: ComputeCase, sandboxes: Path) -> None:
    """TXT: runs of spaces and tabs (mixed), no quoting."""
    check_compute(case, sandboxes)


@PROFILE
@given(case=compute_cases("stdin"))
def test_stdin_compute(case: ComputeCase, sandboxes: Path) -> None:
    """CSV on standard input (``-``) for PRED or LABELS; ``--chunk-size`` then is a usage error."""
    check_compute(case, sandboxes)


@PROFILE
@given(case=compute_cases("npy"))
def test_npy_compute(case: ComputeCase, sandboxes: Path) -> None:
    """numpy.save: any dtype numpy can hold the values in, C or Fortran order, big-endian, 0-d to 3-d; pickles."""
    check_compute(case, sandboxes)


@PROFILE
@given(case=compute_cases("npz"))
def test_npz_compute(case: ComputeCase, sandboxes: Path) -> None:
    """numpy.savez(_compressed): one archive holding both (keys) or one each, extra members, wrong keys."""
    check_compute(case, sandboxes)


@PROFILE
@given(case=compute_cases("parquet"))
def test_parquet_compute(case: ComputeCase, sandboxes: Path) -> None:
    """Parquet by pyarrow (row groups, column types, nulls, strings, lists) and by pandas (its index)."""
    check_compute(case, sandboxes)


# --- parameters (-p) ---------------------------------------------------------------------------------------

PARAMS = {
    "cross_entropy": ("weight", "ignore_index", "label_smoothing"),
    "bce": ("weight",),
    "bce_with_logits": ("weight", "pos_weight"),
}
ODD_NUMBERS = st.one_of(
    st.integers(-3, 5).map(str),
    st.floats(-2, 3, allow_nan=False).map(repr),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "nan", "1e20", "1e300", "-0.0", "true", "x"]),
)
"""Parameter values, many of them wrong: non-finite, not numbers, out of range."""


def _mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    return gen._weighted((4, valid), (1, ODD_NUMBERS))


@st.composite
def param_texts(draw: Any, name: str, width: int) -> str:
    if name in ("weight", "pos_weight"):
        length = draw(st.sampled_from([width] * 6 + [1, width + 1]))
        item = _mostly(st.one_of(st.integers(0, 5).map(str), st.floats(0.01, 5).map(repr)))
        items = draw(st.lists(item, min_size=length, max_size=length))
        return draw(st.sampled_from(["[" + ",".join(items) + "]", items[0]]))
    if name == "ignore_index":
        return draw(_mostly(st.integers(-100, width + 1).map(str)))
    return draw(_mostly(st.floats(0, 1).map(repr)))


def _json_value(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return text  # kept as a string, as the CLI does


def expect_param(name: str, text: str) -> tuple[Any, gen.Fails | gen.Unknown | None]:
    """The value a ``-p NAME=TEXT`` gives, or the failure it must be (exit 2), or Unknown."""
    value = _json_value(text)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    bad = gen.Fails(frozenset({2}), f"-p {name}={text}")
    if name in ("weight", "pos_weight"):
        items = [value] if is_number else value
        if not isinstance(items, list) or not items or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in items
        ):
            return None, bad
        items = [float(v) for v in items]
        if not all(math.isfinite(v) for v in items):
            return None, bad
        if any(abs(v) > 1e30 for v in items):
            return items, gen.Unknown("a weight float32 cannot hold")
        return items, None  # its length is checked against the data (param_outcome)
    if not is_number:
        return None, bad
    if not math.isfinite(float(value)):
        return None, bad
    if name == "ignore_index":
        if float(value) != int(value):
            return None, bad
        if not gen.INT64[0] <= int(value) <= gen.INT64[1]:
            return int(value), gen.Unknown("an ignore_index past int64")
        return int(value), None
    if not 0 <= float(value) <= 1:
        return None, bad
    return float(value), None


@dataclass
class ParamCase:
    loss: str
    problem: gen.Problem
    params: list[tuple[str, str]]
    dtype: str
    command: str  # compute | compare

    def files(self) -> dict[str, bytes]:
        def table(columns: list[list[Any]]) -> bytes:
            rows = zip(*[[repr(v) if isinstance(v, float) else str(v) for v in col] for col in columns], strict=True)
            return "".join(",".join(row) + "\n" for row in rows).encode()

        return {"pred.csv": table(self.problem.pred), "labels.csv": table(self.problem.labels)}

    def args(self) -> list[str]:
        options = [part for name, text in self.params for part in ("-p", f"{name}={text}")]
        # no header: a first line "0" above "0.0" lines would be one by the header rule
        common = [*options, "--no-header", "--dtype", self.dtype, "-f", "json"]
        if self.command == "compute":
            return ["compute", self.loss, "pred.csv", "labels.csv", *common]
        return ["compare", "pred.csv", "--labels", "labels.csv", "-l", self.loss, *common]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        return f"ParamCase(files={self.files()!r}, command={' '.join(self.args())!r})"


@st.composite
def param_cases(draw: Any) -> ParamCase:
    loss = draw(st.sampled_from(sorted(PARAMS)))
    problem = draw(gen.problems(loss, rows=st.integers(1, 6)))
    # weights broadcast over the classes, or the columns: the rows of a 1-D input
    width = len(problem.pred) if loss == "cross_entropy" or len(problem.pred) > 1 else problem.n_rows
    names = draw(st.lists(st.sampled_from(PARAMS[loss]), min_size=1, max_size=3, unique=True))
    if draw(st.integers(0, 9)) == 0:
        names.append("foo")  # no such parameter
    params = [(name, draw(param_texts(name, width)) if name != "foo" else "1") for name in names]
    dtype, command = draw(st.sampled_from(["float32", "float64"])), draw(st.sampled_from(["compute", "compare"]))
    return ParamCase(loss, problem, params, dtype, command)


def param_outcome(case: ParamCase) -> Any:
    pred = gen.exact_array([v for col in case.problem.pred for v in col]).reshape(len(case.problem.pred), -1).T
    labels = gen.exact_array([v for col in case.problem.labels for v in col]).reshape(len(case.problem.labels), -1).T
    pred = pred[:, 0] if pred.shape[1] == 1 else pred
    labels = labels[:, 0] if labels.shape[1] == 1 else labels
    classes = case.loss == "cross_entropy"
    width = pred.shape[1] if classes else pred.shape[-1]
    params, unknown = {}, None
    for name, text in case.params:
        if name == "foo":
            return gen.Fails(frozenset({2}), "an unknown parameter")
        value, problem = expect_param(name, text)
        if isinstance(problem, gen.Fails):
            return problem
        unknown = unknown or problem
        params[name] = value
    for name in ("weight", "pos_weight"):
        if name in params and (len(params[name]) != width if classes else len(params[name]) not in (1, width)):
            return gen.Fails(frozenset({2}), f"-p {name} does not fit the data")
    if unknown is not None:
        return unknown
    return expect_compute(case.loss, pred, labels, "mean", params, case.dtype)


@PROFILE
@given(case=param_cases())
def test_parameters(case: ParamCase, sandboxes: Path) -> None:
    """Random -p values: the reference with those parameters, or exit 2 naming the parameter; strict JSON."""
    with only_matching_failures(case):
        _check_parameters(case, sandboxes)


def _check_parameters(case: ParamCase, sandboxes: Path) -> None:
    with sandbox(sandboxes) as box:
        box.write(case.files())
        run = run_cli(case.args())
        parsed = check_contract(run, "json")
        _, left = box.contents()
        assert left == [], f"left in $TMPDIR: {left}\n{run}"
    outcome = param_outcome(case)
    if case.command == "compare" and isinstance(outcome, Expected) and run.code == 0:
        value = _number(parsed["rows"][0]["values"].get(case.loss))
        assert abs(value - outcome.value) <= outcome.tol, f"compare value {value!r}, reference {outcome.value!r}\n{run}"
        return
    if case.command == "compare" and isinstance(outcome, Expected):
        raise AssertionError(f"expected exit 0 with {outcome.value!r}\n{run}")
    assert_matches(run, parsed, "json", [outcome], grad=True)


# --- recommend and compare on the same files ---------------------------------------------------------

COMPARED = {"regression": "mse,l1", "classes": "cross_entropy", "probabilities": "bce_with_logits"}


@dataclass
class AdviceCase:
    """``recommend`` and ``compare`` on files of one loader, against the same arrays saved as .npy."""

    loss: str
    kind: str
    inputs: gen.Inputs
    dtype: str | None

    def recommend_args(self) -> list[str]:
        inputs = self.inputs
        if inputs.labels is None:  # one file: the labels' columns and the predictions' columns side by side
            return ["recommend", inputs.pred, *inputs.options, "-f", "json"]
        return ["recommend", inputs.labels, "--pred", inputs.pred, *inputs.options, "-f", "json"]

    def compare_args(self) -> list[str] | None:
        inputs = self.inputs
        if inputs.labels is None:
            return None  # one file means one model per column: another command
        losses = COMPARED[self.kind] + (",bce" if self.loss == "bce" else "")
        dtype = ["--dtype", self.dtype] if self.dtype else []
        # --fail-fast: a failure is then one Error: line and no output, the contract checked here (compare's
        # default, scoring the other models past a failed one, is tests/test_conventions.py's)
        args = ["compare", inputs.pred, "--labels", inputs.labels, "-l", losses, *inputs.options, *dtype]
        return [*args, "--fail-fast", "-f", "json"]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __repr__(self) -> str:
        compare = self.compare_args()
        return (
            f"AdviceCase({self.inputs!r}, recommend={' '.join(self.recommend_args())!r}, "
            f"compare={' '.join(compare) if compare else None!r})"
        )


ADVICE_LOADERS = ("csv", "tsv", "txt", "stdin", "npy", "parquet")


@st.composite
def advice_cases(draw: Any) -> AdviceCase:
    loader = draw(st.sampled_from(ADVICE_LOADERS))
    loss = draw(st.sampled_from(gen.LOSSES))
    problem = draw(gen.problems(loss))
    inputs = draw(LOADERS[loader](problem))
    return AdviceCase(loss, problem.kind, inputs, draw(st.sampled_from([None, "float32", "float64"])))


def _usable(array: Any, empty_fails: bool = True) -> Any:
    """An input as recommend must take it: the array, or the failure (unreadable, empty, NaN/inf)."""
    if not isinstance(array, np.ndarray):
        return array
    if array.size == 0:
        return gen.unusable("empty")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return gen.unusable("NaN or inf")
    return array


def _combined(*parts: Any) -> Any:
    """The outcome of a command reading several inputs: the first failure wins, Unknown otherwise."""
    fails = [p for p in parts if isinstance(p, gen.Fails)]
    if fails:
        unknown = any(isinstance(p, gen.Unknown) for p in parts)
        return gen.Fails(frozenset().union(*(f.codes for f in fails)) | ({3} if unknown else set()), fails[0].why)
    return next((p for p in parts if isinstance(p, gen.Unknown)), None)


def _advice_summary(doc: dict[str, Any]) -> tuple[Any, ...]:
    predictions = doc.get("predictions") or {}
    return doc.get("label_type"), [r["loss"] for r in doc.get("recommendations", [])], predictions.get("kind")


@PROFILE
@given(case=advice_cases())
def test_recommend_and_compare(case: AdviceCase, sandboxes: Path) -> None:
    """recommend reads every file form as the same arrays in .npy would be read; compare gives compute's values."""
    with only_matching_failures(case):
        _check_advice(case, sandboxes)


def _check_advice(case: AdviceCase, sandboxes: Path) -> None:
    note(f"how the files were written: {case.inputs.how}")
    inputs = case.inputs
    with sandbox(sandboxes) as box:
        box.write(inputs.files)
        recommended = run_cli(case.recommend_args(), inputs.stdin)
        doc = check_contract(recommended, "json")
        compare_args = case.compare_args()
        compared = run_cli(compare_args, inputs.stdin) if compare_args else None
        compared_doc = check_contract(compared, "json") if compared else None
        # the same arrays as .npy: what recommend must say of them
        expected_advice, expected_values = [], []
        # with one file and no --pred-col, recommend inspects the labels alone
        reads_pred = inputs.labels is not None or "--pred-col" in inputs.options
        for index, (pred, labels, notes) in enumerate(inputs.readings):
            x, y = _usable(pred) if reads_pred else None, _usable(labels)
            problem = _combined(y, x)
            if problem is None:
                os.mkdir(f"ref{index}")
                np.save(f"ref{index}/labels.npy", y)
                reference_args = ["recommend", f"ref{index}/labels.npy", "-f", "json"]
                if reads_pred:
                    np.save(f"ref{index}/pred.npy", x)
                    reference_args += ["--pred", f"ref{index}/pred.npy"]
                reference = run_cli(reference_args)
                expected_advice.append((_advice_summary(check_contract(reference, "json")), notes))
            else:
                expected_advice.append((problem, notes))
            losses = compare_args[compare_args.index("-l") + 1].split(",") if compare_args else []
            dtype = case.dtype or "float32"
            per_loss = {loss: expect_compute(loss, pred, labels, "mean", {}, dtype, notes) for loss in losses}
            expected_values.append(per_loss)
        _, left = box.contents()
        assert left == [], f"left in $TMPDIR: {left}"
    reasons = []
    for expected, notes in expected_advice:
        if isinstance(expected, (gen.Fails, gen.Unknown)):
            reason = mismatch(recommended, doc, "json", expected, grad=False)
        elif recommended.code != 0:
            reason = f"recommend failed where the same arrays in .npy give {expected}"
        elif _advice_summary(doc) != expected:
            reason = f"recommend says {_advice_summary(doc)}, on the same arrays in .npy {expected}"
        else:
            missing = [n for n in notes if not any(n in w for w in doc["warnings"])]
            reason = f"no warning mentioning {missing[0]!r}" if missing else None
        if reason is None:
            break
        reasons.append(reason)
    else:
        raise AssertionError("recommend: " + "; ".join(reasons) + f"\n{recommended}")
    if compared is None:
        return
    reasons = []
    for per_loss in expected_values:
        problem = _combined(*[o for o in per_loss.values() if not isinstance(o, Expected)])
        if problem is not None:
            reason = mismatch(compared, compared_doc, "json", problem, grad=False)
        elif compared.code != 0:
            reason = "compare failed where every loss has a reference value"
        else:
            values = compared_doc["rows"][0]["values"]
            reason = next(
                (
                    f"{loss}: {values.get(loss)!r}, reference {o.value!r}"
                    for loss, o in per_loss.items()
                    if not abs(_number(values.get(loss)) - o.value) <= o.tol
                ),
                None,
            )
        if reason is None:
            return
        reasons.append(reason)
    raise AssertionError("compare: " + "; ".join(reasons) + f"\n{compared}")


# --- output paths ---------------------------------------------------------------------------------------------

GRAD_TARGETS = {
    "new file": ("g.npy", None),
    "new file in a directory": ("sub/g.npy", None),
    "over an old file": ("old.npy", None),
    "csv": ("g.csv", None),
    "npz": ("g.npz", None),
    "a missing directory": ("missing/g.npy", gen.Fails(frozenset({2}), "a missing directory")),
    "a directory": ("sub", gen.Fails(frozenset({2}), "a directory")),
    "an input": ("pred.csv", gen.Fails(frozenset({2}), "one of the inputs")),
    "an input, spelled otherwise": ("./sub/../labels.csv", gen.Fails(frozenset({2}), "one of the inputs")),
    "a link to an input": ("link.csv", gen.Unknown("refused, or the link replaced: the input must survive")),
}


@st.composite
def grad_out_cases(draw: Any) -> tuple[str, list[str], str]:
    target = draw(st.sampled_from(sorted(GRAD_TARGETS)))
    extra = draw(st.sampled_from([[], ["--chunk-size", "2"], ["--reduction", "none"], ["--dtype", "float64"]]))
    return target, extra, draw(st.sampled_from(["json", "csv", "table"]))


@PROFILE
@given(case=grad_out_cases())
def test_grad_out_paths(case: tuple[str, list[str], str], sandboxes: Path) -> None:
    """--grad-out: written whole on success; refused (exit 2) when it names an input, a directory or a missing one."""
    with only_matching_failures(case):
        _check_grad_out(case, sandboxes)


def _check_grad_out(case: tuple[str, list[str], str], sandboxes: Path) -> None:
    target, extra, fmt = case
    path, failure = GRAD_TARGETS[target]
    pred, labels = b"p\n1.5\n-2\n0.25\n", b"y\n1\n0\n3\n"
    with sandbox(sandboxes) as box:
        box.write({"pred.csv": pred, "labels.csv": labels, "old.npy": b"old"})
        (box.work / "sub").mkdir()
        os.symlink("pred.csv", box.work / "link.csv")
        before, _ = box.contents()
        run = run_cli(["compute", "mse", "pred.csv", "labels.csv", "--grad-out", path, *extra, "-f", fmt])
        check_contract(run, fmt)
        after, left = box.contents()
        assert left == [], f"left in $TMPDIR: {left}\n{run}"
        assert (box.work / "pred.csv").read_bytes() == pred and (box.work / "labels.csv").read_bytes() == labels, (
            f"an input was overwritten\n{run}"
        )
        if failure is None:
            assert run.code == 0, f"expected success\n{run}"
            written = after.pop(os.path.normpath(path))
            before.pop(os.path.normpath(path), None)
            if path.endswith(".npy"):
                reduction = "none" if "none" in extra else "mean"
                grad = 2 * (np.array([1.5, -2, 0.25]) - np.array([1, 0, 3])) / (1 if reduction == "none" else 3)
                np.testing.assert_allclose(np.load(io.BytesIO(written)), grad, rtol=1e-6)
        elif run.code == 0:
            assert isinstance(failure, gen.Unknown), f"expected exit 2 ({failure.why})\n{run}"
            after.pop("link.csv", None), before.pop("link.csv", None)
        else:
            assert isinstance(failure, gen.Unknown) or run.code in failure.codes, f"expected {failure}\n{run}"
        assert after == before, f"files changed: {sorted(set(after) ^ set(before))}\n{run}"
