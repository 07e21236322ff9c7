"""Checks that run on the numpy inputs before torch sees them.

torch broadcasts mismatched shapes silently, reads out-of-range class indices
as a crash or garbage, and turns NaN into NaN: each check here turns such a
case into a ``DataError`` that names the file, the row and column, and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.catalog.image import MS_SSIM_WEIGHTS, ms_ssim_smallest_side
from losscli.errors import DataError, UsageError
from losscli.io.loading import cell_as_written, line_of_row, read_as_text
from losscli.registry import LossSpec, Role
from losscli.terminal import counted


@dataclass
class Input:
    """One loaded argument of a loss: its role, the data and where it came from."""

    role: Role
    array: np.ndarray
    source: str
    columns: list[str] | None = None
    first_row: int = 0
    """The file row of ``array[0]`` (0-based): a chunk of a file read in chunks starts later."""
    file_rows: int | None = None
    """The file's rows, once counted, when ``array`` is a chunk of them: shape errors then quote the file's shape."""

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape messages quote: the array's, with the file's rows when ``file_rows`` is known."""
        shape = self.array.shape
        return (self.file_rows, *shape[1:]) if self.file_rows is not None and shape else shape

    def where(self, index: tuple[int, ...]) -> str:
        """Name an element for a message: its row (counted from 1, with its line in a text file) and column
        (name, or 0-based index, as ``--pred-col`` takes it), or the index of an array of more dimensions."""
        if len(index) > 2:
            return f"index {tuple(int(i) for i in index)}"
        row = f"row {self.first_row + index[0] + 1}"
        line = line_of_row(self.source, self.first_row + int(index[0]))
        if line is not None:
            row += f" (line {line})"
        if self.columns is None:
            return f"{row}, column {index[1]}" if len(index) == 2 else row
        if len(index) == 2:
            return f"{row}, column {self.columns[index[1]]!r}"
        return f"{row}, column {self.columns[0]!r}" if len(self.columns) == 1 else row

    def label(self) -> str:
        return f"{self.source} ({self.role.name})"


class ShapeError(DataError):
    """An input whose shape the loss cannot take; the message quotes ``Input.shape``."""


def shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def check_finite(inp: Input) -> None:
    a = inp.array
    if a.dtype.kind != "f":
        return
    finite = np.isfinite(a)
    if finite.all():
        return
    at = _first(~finite)
    bad = a[at]
    if not np.isnan(bad):
        _check_overflow(inp, at)
    what = "NaN (an empty or missing value)" if np.isnan(bad) else f"{bad!s}"
    raise DataError(f"{inp.source}: {inp.where(at)}: {what} in {inp.role.name}; remove or fill that row")


def _check_overflow(inp: Input, at: tuple[int, ...]) -> None:
    """An infinity that a text cell did not write as one overflowed in parsing: say so, not "inf in the input"."""
    written = _cell(inp, at)
    if written is None:
        return
    try:
        number = float(written)
    except ValueError:
        return
    if math.isfinite(number):
        raise overflow_error(inp, at, inp.array.dtype, written)
    if written.lstrip("+-").lower() not in ("inf", "infinity"):
        raise DataError(
            f"{inp.source}: {inp.where(at)}: {written} in {inp.role.name} is beyond float64's range (its largest is "
            f"{np.finfo(np.float64).max:.2g}), so it reads as infinite; rescale the values"
        )


def overflow_error(inp: Input, at: tuple[int, ...], dtype: np.dtype, written: str | None = None) -> DataError:
    """The error for a finite value of ``inp`` (at ``at``) that ``dtype`` cannot hold: it would be infinite."""
    written = written or _cell(inp, at) or f"{inp.array[at]!s}"
    return DataError(
        f"{inp.source}: {inp.where(at)}: {written} in {inp.role.name} overflows {np.dtype(dtype).name} (its largest "
        f"is {np.finfo(dtype).max:.2g}) and would be infinite; compute in float64 with --dtype float64"
    )


def _cell(inp: Input, at: tuple[int, ...]) -> str | None:
    """The cell of ``inp`` at ``at`` as its text file writes it; None when it comes from no text file."""
    if inp.columns is None or len(at) > 2 or (len(at) == 1 and len(inp.columns) != 1):
        return None
    column = inp.columns[at[1]] if len(at) == 2 else inp.columns[0]
    return cell_as_written(inp.source, inp.first_row + int(at[0]), column)


INT64_MAX = np.iinfo(np.int64).max


def to_index(inp: Input) -> np.ndarray:
    """Class indices as int64; floats must be integral (``2.0`` is 2, ``1.5`` is an error).

    A value int64 cannot hold is an error that quotes it as the file writes
    it, never wrapped round; so is a whole number read from text past the
    integers the run's float type holds exactly (2**24 in float32), which may
    have been rounded.
    """
    a = inp.array
    if a.dtype.kind in "iub":
        if a.dtype.kind == "u" and a.dtype.itemsize == 8 and (a > INT64_MAX).any():
            at = _first(a > INT64_MAX)
            raise _beyond_int64(inp, at, f"{a[at]!s}")
        return a.astype(np.int64, copy=False)
    whole = np.equal(np.floor(a), a)
    if not whole.all():
        at = _first(~whole)
        raise DataError(
            f"{inp.source}: {inp.where(at)}: {a[at]!s} is not a whole number, but {inp.role.name} "
            f"holds {inp.role.doc or 'integers'}; round or fix the labels"
        )
    limit = 2 ** (np.finfo(a.dtype).nmant + 1)  # text 2**24 + 1 parses as 2**24; every value past int64 is past it
    large = np.abs(a) >= limit
    if large.any() and read_as_text(inp.source):
        at = _first(large)
        written = _cell(inp, at) or f"{a[at]!s}"
        if _beyond_int64_text(written):
            raise _beyond_int64(inp, at, written)
        fix = (
            "compute in float64 with --dtype float64"
            if a.dtype == np.float32
            else "save such labels as int64 (.npy or Parquet), which are read exactly"
        )
        raise DataError(
            f"{inp.source}: {inp.where(at)}: {written} in {inp.role.name} is 2**{np.finfo(a.dtype).nmant + 1} or "
            f"more, where {a.dtype.name} does not hold every whole number, so the index read from text may be "
            f"rounded; {fix}"
        )
    beyond = large & ((a >= 2.0**63) | (a < -(2.0**63)))
    if beyond.any():
        at = _first(beyond)
        raise _beyond_int64(inp, at, f"{a[at]!s}")
    return a.astype(np.int64)


def _beyond_int64_text(written: str) -> bool:
    """Whether a number, as written, is an integer int64 cannot hold."""
    try:
        return abs(int(written)) > INT64_MAX
    except ValueError:
        try:
            return abs(float(written)) >= 2.0**63
        except ValueError:
            return False


def _beyond_int64(inp: Input, at: tuple[int, ...], written: str) -> DataError:
    return DataError(
        f"{inp.source}: {inp.where(at)}: {written} in {inp.role.name} is too large for an integer index "
        f"(int64 holds at most {INT64_MAX}); fix the labels"
    )


def _mismatch(spec: LossSpec, a: Input, b: Input, fix: str) -> ShapeError:
    return ShapeError(
        f"{a.source} has {a.role.name} of shape {shape_text(a.shape)} but {b.source} has "
        f"{b.role.name} of shape {shape_text(b.shape)}; {spec.name} needs {fix}"
    )


def _shape_same(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    first, *rest = [inputs[r.name] for r in spec.roles if r.name in inputs]
    for other in rest:
        if other.array.shape != first.array.shape:
            fix = "the same shape (torch would broadcast them silently)"
            if first.array.ndim == 2 and other.array.ndim == 1 and len(other.array) == len(first.array):
                fix += "; pick one column with --pred-col, or give one label column per prediction column"
            raise _mismatch(spec, first, other, fix)


def _class_count_check(
    spec: LossSpec, pred: Input, target: Input, params: dict[str, Any], axis: int = 1, what: str = "columns"
) -> None:
    """Class indices in [0, C), C the length of ``pred``'s ``axis`` (its ``what``), but for ignore_index."""
    n_classes = pred.array.shape[axis]
    t = target.array
    ignore = params.get("ignore_index", -100) if spec.param("ignore_index") else None
    bad = (t < 0) | (t >= n_classes)
    if ignore is not None:
        bad &= t != ignore
    if bad.any():
        at = _first(bad)
        hint = f"use labels 0..{n_classes - 1}"
        if t.min() >= 1 and t.max() == n_classes:
            hint = f"the labels look numbered 1..{n_classes}: subtract 1"
        raise DataError(
            f"{target.source}: {target.where(at)}: class index {t[at]!s} is outside [0, {n_classes}) "
            f"for the {counted(n_classes, 'class', 'classes')} ({what}) of {pred.source}; {hint}"
        )


def _shape_class(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any], ndim: int | None = None) -> None:
    pred, target = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    p = pred.array
    if p.ndim < 2 or (ndim is not None and p.ndim != ndim):
        want = (
            f"{ndim}-D scores {spec.pred_role.shape}" if ndim else "class scores of shape (N, C), one column per class"
        )
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {shape_text(pred.shape)}; {spec.name} needs {want}"
        )
    index_shape = p.shape[:1] + p.shape[2:]
    if target.role.dtype == "index_or_prob" and target.array.shape == p.shape:
        target.array = target.array.astype(np.float64, copy=False)  # class probabilities, one-hot rows included
        return
    if target.array.shape != index_shape:
        whole, whole_index = shape_text(pred.shape), shape_text(pred.shape[:1] + pred.shape[2:])
        if target.array.shape == p.shape:
            raise ShapeError(
                f"{target.source} holds one-hot rows of shape {whole}; {spec.name} needs "
                f"class indices of shape {whole_index}: take the argmax of each row"
            )
        fix = f"class indices of shape {whole_index}"
        if target.role.dtype == "index_or_prob":
            fix += f" or class probabilities of shape {whole}"
        raise _mismatch(spec, pred, target, fix)
    target.array = to_index(target)
    _class_count_check(spec, pred, target, params)


def _shape_class4d(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    _shape_class(spec, inputs, params, ndim=4)


def _shape_pair(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    x1, x2, y = (inputs[r.name] for r in spec.roles)
    if x1.array.shape != x2.array.shape:
        raise _mismatch(spec, x1, x2, "two inputs of the same shape (N, D)")
    if x1.array.ndim != 2 or y.array.shape != x1.array.shape[:1]:
        raise _mismatch(spec, x1, y, "inputs of shape (N, D) and a target of shape (N,)")


def _shape_gaussian(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    _shape_same(spec, {k: v for k, v in inputs.items() if k != "var"}, params)
    x, var = inputs["input"], inputs["var"]
    shape = x.array.shape
    if var.array.shape not in (shape, shape[:-1], shape[:-1] + (1,)):
        whole = x.shape
        raise _mismatch(
            spec,
            x,
            var,
            f"var of shape {shape_text(whole)} (one variance per output) or "
            f"{shape_text(whole[:-1] + (1,))} (one per sample)",
        )


def _shape_ctc(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    lp, targets = inputs["log_probs"], inputs["targets"]
    if lp.array.ndim != 3:
        raise ShapeError(
            f"{lp.source} has log_probs of shape {shape_text(lp.shape)}; ctc needs (T, N, C) "
            "log-probabilities (save them as .npy)"
        )
    steps, batch, n_classes = lp.array.shape
    targets.array = to_index(targets)
    t = targets.array
    if t.ndim == 1 and batch == 1 and "target_lengths" not in inputs:
        t = targets.array = t.reshape(1, -1)
    if t.ndim == 2 and t.shape[0] != batch:
        raise _mismatch(spec, lp, targets, f"targets of shape ({batch}, S), one row per sample")
    if t.ndim not in (1, 2):
        raise _mismatch(spec, lp, targets, "targets of shape (N, S) or (sum of target_lengths,)")
    for name, default in (("input_lengths", steps), ("target_lengths", t.shape[-1] if t.ndim == 2 else None)):
        if name not in inputs:
            if default is None:
                raise UsageError(f"ctc with concatenated 1-D targets needs --input {name}=PATH")
            inputs[name] = Input(spec_role(spec, name), np.full(batch, default, dtype=np.int64), "(default)")
        inp = inputs[name]
        inp.array = to_index(inp).reshape(-1)
        if inp.array.shape != (batch,):
            raise _mismatch(spec, lp, inp, f"{name} of shape ({batch},), one per sample")
        if (inp.array < 0).any():
            at = _first(inp.array < 0)
            raise DataError(f"{inp.source}: {inp.where(at)}: {name} must not be negative")
    in_len, tg_len = inputs["input_lengths"], inputs["target_lengths"]
    if (in_len.array > steps).any():
        at = _first(in_len.array > steps)
        raise DataError(
            f"{in_len.source}: {in_len.where(at)}: input length {in_len.array[at]!s} exceeds the {steps} "
            f"time steps of {lp.source}"
        )
    limit = t.shape[1] if t.ndim == 2 else None
    if limit is not None and (tg_len.array > limit).any():
        at = _first(tg_len.array > limit)
        raise DataError(
            f"{tg_len.source}: {tg_len.where(at)}: target length {tg_len.array[at]!s} exceeds the "
            f"{counted(limit, 'column')} of {targets.source}"
        )
    if t.ndim == 1 and int(tg_len.array.sum()) != t.shape[0]:
        raise DataError(
            f"{tg_len.source}: target lengths sum to {int(tg_len.array.sum())} but {targets.source} "
            f"holds {counted(t.shape[0], 'label')}; they must match for concatenated targets"
        )
    blank = params.get("blank", 0)
    if not 0 <= blank < n_classes:
        raise UsageError(
            f"ctc: -p blank={blank} is outside [0, {n_classes}) for {counted(n_classes, 'class', 'classes')}"
        )
    rows = [t[i, : tg_len.array[i]] for i in range(batch)] if t.ndim == 2 else np.split(t, np.cumsum(tg_len.array)[:-1])
    for i, row in enumerate(rows):
        bad = (row < 0) | (row >= n_classes) | (row == blank)
        if bad.any():
            j = int(np.argmax(bad))
            at = (i, j) if t.ndim == 2 else (int(tg_len.array[:i].sum()) + j,)
            raise DataError(
                f"{targets.source}: {targets.where(at)}: label {row[j]} must be in [0, {n_classes}) "
                f"and not the blank ({blank})"
            )
        needed = len(row) + int(np.count_nonzero(row[1:] == row[:-1]))
        if needed > in_len.array[i] and not params.get("zero_infinity", False):
            raise DataError(
                f"{in_len.source}: {f'sample {i + 1}' if in_len.source == '(default)' else in_len.where((i,))}: "
                f"{counted(int(in_len.array[i]), 'time step')} cannot emit its "
                f"{counted(len(row), 'label')} (needs {needed}, counting a blank between repeats), so the loss is "
                "infinite; give more time steps or pass -p zero_infinity=true"
            )


def spec_role(spec: LossSpec, name: str) -> Role:
    return next(r for r in spec.roles if r.name == name)


def _shape_quantiles(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Quantile predictions: one column per quantile, against targets shaped like them or one per row."""
    pred, target = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    quantiles = params.get("quantile") or [0.5]
    outside = [q for q in quantiles if not 0 <= q <= 1]
    if outside:
        raise UsageError(f"{spec.name}: -p quantile holds {outside[0]:g}, outside [0, 1]; give levels like 0.9")
    p, t = pred.array.shape, target.array.shape
    per_row = len(p) >= 2 and t in (p[:-1], p[:-1] + (1,))
    if t != p and not per_row:
        raise _mismatch(
            spec, pred, target, "targets shaped like the predictions, or one per row against (N, Q) predictions"
        )
    columns = p[-1] if len(p) >= 2 else 1
    if len(quantiles) > 1 and len(quantiles) != columns:
        raise UsageError(
            f"{spec.name}: -p quantile gives {len(quantiles)} quantiles but {pred.source} has {columns} prediction "
            f"column{'s' if columns > 1 else ''}; give one quantile per column of predictions"
        )
    if per_row and len(quantiles) == 1 and columns > 1:
        given = f"-p quantile gives one ({quantiles[0]:g})" if params.get("quantile") else "no -p quantile is given"
        raise UsageError(
            f"{spec.name}: {pred.source} has {columns} prediction columns against one target per row, but {given}; "
            "give one quantile per column, e.g. -p quantile=[0.1,0.5,0.9]"
        )


def _tweedie_domains(spec: LossSpec, params: dict[str, Any]) -> dict[str, str]:
    """The values the deviance of this power allows, as scikit-learn's mean_tweedie_deviance checks them:
    x > 0 unless p = 0; y >= 0 for 1 <= p < 2 and y > 0 for p >= 2 (any y for p <= 0)."""
    power = params.get("power", spec.param("power").default)
    target = "positive" if power >= 2 else "nonneg" if power >= 1 else "real"
    return {spec.pred_role.name: "real" if power == 0 else "positive", spec.target_role.name: target}


PARAM_DOMAINS = {"tweedie": _tweedie_domains}
"""Shape rules whose parameters set the domains of the roles (role name → domain), instead of the roles."""


def role_domain(spec: LossSpec, role: Role, params: dict[str, Any]) -> str:
    """The values ``role`` takes for ``spec`` under ``params``: the role's domain, unless a parameter sets it."""
    rule = PARAM_DOMAINS.get(spec.shape_rule)
    return rule(spec, params).get(role.name, role.domain) if rule else role.domain


TWEEDIE_FIXES = {
    ("pred", "positive"): "predict the mean itself (e.g. exp of a log-link output)",
    ("target", "nonneg"): "the target must be a non-negative amount",
    ("target", "positive"): "for targets that can be 0 use a power in [1, 2)",
}


def _shape_tweedie(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Same shapes, a power with a Tweedie distribution, and the values the deviance of that power allows."""
    _shape_same(spec, inputs, params)
    power = params.get("power", spec.param("power").default)
    if 0 < power < 1:
        raise UsageError(
            f"{spec.name}: -p power={power:g} is in (0, 1), where no Tweedie distribution exists; use power <= 0 "
            "or >= 1 (0 normal, 1 Poisson, 1.5 compound Poisson, 2 gamma, 3 inverse Gaussian)"
        )
    domains = _tweedie_domains(spec, params)
    for inp in (inputs[spec.pred_role.name], inputs[spec.target_role.name]):
        domain = domains[inp.role.name]
        if domain == "real":
            continue
        bad, need = (inp.array <= 0, "> 0") if domain == "positive" else (inp.array < 0, ">= 0")
        if bad.any():
            at = _first(bad)
            raise DataError(
                f"{inp.source}: {inp.where(at)}: {inp.role.name} {inp.array[at]!s} is not {need}, as {spec.name} "
                f"with power {power:g} needs; {TWEEDIE_FIXES[inp.role.kind, domain]}"
            )


def _same_rows(spec: LossSpec, inputs: dict[str, Input], need: str) -> None:
    """Same shapes and at least 2-D, one sample per row; ``need`` says what the loss reads in a row."""
    _shape_same(spec, inputs, {})
    pred = inputs[spec.pred_role.name]
    if pred.array.ndim < 2:
        raise ShapeError(f"{pred.source} has {pred.role.name} of shape {shape_text(pred.shape)}; {spec.name} {need}")


def _shape_rows(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Same shapes, at least 2-D: the loss sums each row over its last axis."""
    _same_rows(
        spec,
        inputs,
        "needs (N, C): one row per sample, its C columns summed (a single distribution is one row of C columns)",
    )


def _shape_masks(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Same shapes, one mask per sample: at least (N, d1), and (N, C, d1, ...) with per_class."""
    _shape_same(spec, inputs, params)
    pred = inputs[spec.pred_role.name]
    shape = shape_text(pred.shape)
    if pred.array.ndim < 2:
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {shape}; {spec.name} scores the overlap of each "
            "sample's mask, so it needs (N, d1, ...): one flattened mask per row (give a single mask as one row)"
        )
    if params.get("per_class") and pred.array.ndim < 3:
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {shape}; {spec.name} with per_class=true needs "
            "(N, C, d1, ...) masks with one channel per class (save them as .npy), or drop -p per_class"
        )


def _check_mask_values(inp: Input, what: str) -> None:
    """Masks in [0, 1] (``what``: "soft"), or exactly 0 or 1 (``what``: "binary")."""
    a = inp.array
    bad = (a != 0) & (a != 1) if what == "binary" else (a < 0) | (a > 1)
    if bad.any():
        at = _first(bad)
        want = "0 or 1" if what == "binary" else "in [0, 1]"
        raise DataError(
            f"{inp.source}: {inp.where(at)}: {a[at]!s} in {inp.role.name} is not {want}; give masks of 0s and 1s "
            "(one-hot for several classes)"
        )


def _shape_seg_classes(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Logits (N, C, d1, ...) and class indices (N, d1, ...) or one-hot masks shaped like them (C = 1: masks)."""
    pred, target = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    p, t = pred.array, target.array
    if p.ndim < 2:
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {shape_text(pred.shape)}; {spec.name} needs (N, C, d1, ...): "
            "the C class scores of each pixel on axis 1 (save images as .npy)"
        )
    whole, index = shape_text(p.shape), shape_text(p.shape[:1] + p.shape[2:])
    masks = target.role.dtype == "index_or_prob"
    if p.shape[1] < 2 and not masks:
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {whole}; {spec.name} needs C >= 2 class channels on axis 1 "
            "(for one binary mask use lovasz_hinge)"
        )
    if masks and t.shape == p.shape:
        target.array = t.astype(np.float64, copy=False)
        _check_mask_values(target, "soft")
        return
    if p.shape[1] == 1:
        raise _mismatch(
            spec, pred, target, f"a 0/1 mask shaped like the input, {whole}, for its single (binary) channel"
        )
    if t.shape != p.shape[:1] + p.shape[2:]:
        if t.shape == p.shape:
            raise ShapeError(
                f"{target.source} holds one-hot masks of shape {whole}; {spec.name} needs class indices of shape "
                f"{index}: take the argmax over axis 1"
            )
        fix = f"class indices of shape {index}" + (f" or one-hot masks of shape {whole}" if masks else "")
        raise _mismatch(spec, pred, target, fix)
    target.array = to_index(target)
    _class_count_check(spec, pred, target, params, what="channels on axis 1")


def _shape_class_masks(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any], images: bool = False) -> None:
    """Probabilities and masks of the same shape (N, C, d1, ...), the classes on axis 1; 2-D or 3-D with ``images``."""
    _shape_same(spec, inputs, params)
    pred = inputs[spec.pred_role.name]
    ndim = pred.array.ndim
    if (images and ndim not in (4, 5)) or ndim < 2:
        want = (
            "(N, C, H, W) or (N, C, H, W, D): 2-D or 3-D images with the class channels on axis 1 (save them as .npy)"
            if images
            else "(N, C, d1, ...): one channel per class on axis 1"
        )
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {shape_text(pred.shape)}; {spec.name} needs {want}"
        )


def _shape_class_images(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    _shape_class_masks(spec, inputs, params, images=True)


def _shape_binary_masks(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Logits and 0/1 masks of the same shape (N, d1, ...), one mask per sample."""
    _shape_masks(spec, inputs, params)
    _check_mask_values(inputs[spec.target_role.name], "binary")


def _shape_jaccard(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """multiclass: as seg_classes; multilabel: masks (N, C, d1, ...) like the logits; binary: masks (N, d1, ...)."""
    mode = params.get("mode", "multiclass")
    if mode == "multiclass":
        _shape_seg_classes(spec, inputs, params)
        return
    _shape_masks(spec, inputs, {})
    target = inputs[spec.target_role.name]
    target.array = target.array.astype(np.float64, copy=False)
    _check_mask_values(target, "soft")


def _shape_vectors(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Same shapes, one vector per row along the last axis."""
    _same_rows(
        spec,
        inputs,
        "compares one vector per row, so it needs (N, D): the D components of each vector in the columns of its row",
    )


def _check_embeddings(spec: LossSpec, emb: Input) -> None:
    if emb.array.ndim != 2:
        raise ShapeError(
            f"{emb.source} has {emb.role.name} of shape {shape_text(emb.shape)}; {spec.name} needs (N, D): "
            "one embedding per row"
        )


def _embeddings_and_labels(spec: LossSpec, inputs: dict[str, Input]) -> tuple[Input, Input]:
    """Embeddings (N, D) and one integer label per row (an (N, 1) column is read as (N,))."""
    emb, labels = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    _check_embeddings(spec, emb)
    y = to_index(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.shape != emb.array.shape[:1]:
        raise _mismatch(spec, emb, labels, f"one integer label per embedding: labels of shape ({emb.shape[0]},)")
    labels.array = y
    return emb, labels


def _shape_embedding_labels(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Embeddings (N, D) and one integer label per row, with a positive pair and two labels at least."""
    _, labels = _embeddings_and_labels(spec, inputs)
    y = labels.array
    values, counts = np.unique(y, return_counts=True)
    if len(values) < 2:
        what = f"every one of the {len(y)} {labels.role.name} is {values[0]}" if len(values) else "it holds no labels"
        raise DataError(
            f"{labels.source}: {what}, so no pair is negative and {spec.name} has nothing to push apart; the batch "
            "needs two different labels at least"
        )
    if counts.max() < 2:
        raise DataError(
            f"{labels.source}: all {len(y)} {labels.role.name} differ, so no two embeddings form a positive pair and "
            f"{spec.name} has nothing to pull together; give the rows of each positive pair (e.g. two views of one "
            "item) the same label"
        )


def _check_centres(spec: LossSpec, inputs: dict[str, Input], class_axis: int) -> None:
    """Embeddings (N, D), class indices (N,) and the centres of the C classes: D × C (``class_axis`` 1, pml's
    ArcFace ``W``) or C × D (``class_axis`` 0, pml's proxies); each label one of the C classes."""
    emb, labels = _embeddings_and_labels(spec, inputs)
    (role,) = spec.input_roles
    centres, dim = inputs[role.name], emb.array.shape[1]
    shape = centres.array.shape
    if len(shape) != 2 or shape[1 - class_axis] != dim:
        if class_axis == 1:
            layout = f"(D, C) = ({dim}, C), one column per class"
        else:
            layout = f"(C, D) = (C, {dim}), one row per class"
        fix = "transpose it" if len(shape) == 2 and shape[class_axis] == dim else f"D = {dim}, the embeddings' columns"
        raise ShapeError(
            f"{centres.source} has {role.name} of shape {shape_text(centres.shape)} against embeddings of shape "
            f"{shape_text(emb.shape)}; {spec.name} needs the class centres as {layout}: {fix}"
        )
    _class_count_check(spec, centres, labels, {}, axis=class_axis, what="columns" if class_axis == 1 else "rows")


def _shape_class_centres(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Embeddings (N, D), class indices (N,) and the class centres W of shape (D, C), as pml's ArcFace keeps them."""
    _check_centres(spec, inputs, class_axis=1)


def _shape_proxies(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Embeddings (N, D), class indices (N,) and one proxy per class, (C, D), as pml's ProxyAnchor keeps them."""
    _check_centres(spec, inputs, class_axis=0)


def _shape_views(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Two views (N, D) of the same samples, row for row, with two rows at least for the batch statistics."""
    first, second = (inputs[r.name] for r in spec.roles)
    for view in (first, second):
        _check_embeddings(spec, view)
    if first.array.shape != second.array.shape:
        raise _mismatch(spec, first, second, "two views of the same samples: the same shape (N, D), row for row")
    if len(first.array) < 2:
        raise DataError(
            f"{first.source}: a single row; {spec.name} standardises each feature over the batch (its variance), "
            "so it needs two samples (rows) at least"
        )


def _param(spec: LossSpec, params: dict[str, Any], name: str) -> Any:
    """A parameter's value: as given, else the spec's default."""
    return params.get(name, spec.param(name).default)


def _check_image_batch(spec: LossSpec, inp: Input) -> None:
    """Images (N, C, H, W) or (N, H, W), one per index of axis 0."""
    if inp.array.ndim not in (3, 4):
        single = " (a single image of shape (H, W) is (1, H, W))" if inp.array.ndim == 2 else ""
        raise ShapeError(
            f"{inp.source} has {inp.role.name} of shape {shape_text(inp.shape)}; {spec.name} needs images of shape "
            f"(N, C, H, W) or (N, H, W), one per index of the first axis{single}: save them as .npy"
        )


def _shape_images(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Two batches of images of one shape, (N, C, H, W) or (N, H, W), each side large enough for the window
    (ssim: window_size, or more than window_size // 2 with reflect padding; ms_ssim: window_size · 2^(S - 1))."""
    pred, target = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    _check_image_batch(spec, pred)
    if target.array.shape != pred.array.shape:
        raise _mismatch(spec, pred, target, "one true image per predicted image, of the same shape")
    window = _param(spec, params, "window_size")
    if window % 2 == 0:
        raise UsageError(f"{spec.name}: -p window_size={window}: must be odd, so that the window has a centre pixel")
    height, width = pred.array.shape[-2:]
    if spec.param("weights") is not None:
        weights = _param(spec, params, "weights")
        scales = len(MS_SSIM_WEIGHTS if weights is None else weights)
        smallest = ms_ssim_smallest_side(window, weights)
        need = f"{smallest} pixels a side at least: the {window}-pixel window at the coarsest of {scales} scales"
        fix = "give larger images, fewer scales (-p weights=[...]) or a smaller -p window_size"
        small = min(height, width) < smallest
    elif _param(spec, params, "padding") == "same":
        smallest = window // 2 + 1
        need = f"more than {window // 2} pixels a side to reflect-pad by window_size // 2"
        fix = "give larger images or a smaller -p window_size"
        small = min(height, width) < smallest
    else:
        need = f"{window} pixels a side at least, the {window}-pixel window"
        fix = "give larger images, a smaller -p window_size, or -p padding=same"
        small = min(height, width) < window
    if small:
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {shape_text(pred.shape)}: images of {height}x{width} "
            f"pixels; {spec.name} needs {need}; {fix}"
        )


def _shape_image(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """One batch of images, (N, C, H, W) or (N, H, W), and no target."""
    _check_image_batch(spec, inputs[spec.pred_role.name])


def _shape_psnr(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Same shapes, and not equal everywhere: the MSE must be above 0 for the PSNR to be finite."""
    _shape_same(spec, inputs, params)
    pred, target = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    if pred.array.size and np.array_equal(pred.array, target.array):
        raise DataError(
            f"{pred.source} equals {target.source} everywhere, so the MSE is 0 and the PSNR infinite (-inf for "
            f"{spec.name}, with no gradient); compare predictions that differ from the target somewhere"
        )


def _shape_boxes(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Boxes as the 4 columns x1, y1, x2, y2, as many in each input; a lone box of shape (4,) is one row."""
    pred, target = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    for inp in (pred, target):
        if inp.array.shape == (4,):
            inp.array, inp.columns = inp.array.reshape(1, 4), None
        if inp.array.ndim != 2 or inp.array.shape[1] != 4:
            raise ShapeError(
                f"{inp.source} has {inp.role.name} of shape {shape_text(inp.shape)}; {spec.name} needs boxes "
                "of shape (N, 4): the columns x1, y1, x2, y2, one box per row"
            )
    if pred.array.shape != target.array.shape:
        raise _mismatch(spec, pred, target, "one true box per predicted box, both of shape (N, 4)")


BRIER_ROW_SUM_TOLERANCE = 0.01
"""How far a row of (N, C) probabilities may sum from 1 for brier (rounded CSV values; scikit-learn only warns)."""


def _shape_brier(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Probabilities of the positive class (N,) / (N, 1) with 0/1 labels, or (N, C) class probabilities whose
    rows sum to 1 with class indices; one label per row either way."""
    pred, target = inputs[spec.pred_role.name], inputs[spec.target_role.name]
    p = pred.array
    if p.ndim not in (1, 2) or (p.ndim == 2 and p.shape[1] == 0):
        raise ShapeError(
            f"{pred.source} has {pred.role.name} of shape {shape_text(pred.shape)}; {spec.name} needs (N,) "
            "probabilities of the positive class, or (N, C) class probabilities, one row per sample"
        )
    binary = p.ndim == 1 or p.shape[1] == 1
    y = target.array
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.shape != p.shape[:1]:
        fix = f"one label per row: labels of shape ({p.shape[0]},)"
        if y.shape == p.shape:
            fix += ", class indices rather than one-hot rows (take the argmax of each row)"
        raise _mismatch(spec, pred, target, fix)
    target.array = y
    bad = (p < 0) | (p > 1)
    if bad.any():
        at = _first(bad)
        fix = "apply a sigmoid to logits first" if binary else "apply a softmax to each row of logits first"
        raise DataError(
            f"{pred.source}: {pred.where(at)}: {p[at]!s} is outside [0, 1] for {pred.role.name}; {spec.name} "
            f"takes probabilities: {fix}"
        )
    target.array = to_index(target)
    if binary:
        t = target.array
        wrong = (t != 0) & (t != 1)
        if wrong.any():
            at = _first(wrong)
            hint = "map -1 to 0" if set(np.unique(t).tolist()) <= {-1, 1} else "or give (N, C) class probabilities"
            raise DataError(
                f"{target.source}: {target.where(at)}: label {t[at]!s} is not 0 or 1, but {pred.source} holds one "
                f"probability per row (of class 1); give 0/1 labels ({hint})"
            )
        return
    _class_count_check(spec, pred, target, params)
    sums = p.sum(axis=1, dtype=np.float64)
    off = np.abs(sums - 1.0) > BRIER_ROW_SUM_TOLERANCE
    if off.any():
        row = int(np.argmax(off))
        raise DataError(
            f"{pred.source}: {pred.where((row,))}: the row's probabilities sum to {sums[row]:.6g}, not 1; "
            f"{spec.name} takes one probability per class: apply a softmax to each row of logits first, or "
            "give the positive class's probability alone for a binary task"
        )


SHAPE_RULES = {
    "masks": _shape_masks,
    "seg_classes": _shape_seg_classes,
    "class_masks": _shape_class_masks,
    "class_images": _shape_class_images,
    "binary_masks": _shape_binary_masks,
    "jaccard": _shape_jaccard,
    "vectors": _shape_vectors,
    "embedding_labels": _shape_embedding_labels,
    "class_centres": _shape_class_centres,
    "proxies": _shape_proxies,
    "views": _shape_views,
    "boxes": _shape_boxes,
    "images": _shape_images,
    "image": _shape_image,
    "psnr": _shape_psnr,
    "same": _shape_same,
    "class": _shape_class,
    "class4d": _shape_class4d,
    "pair": _shape_pair,
    "gaussian": _shape_gaussian,
    "ctc": _shape_ctc,
    "quantiles": _shape_quantiles,
    "tweedie": _shape_tweedie,
    "rows": _shape_rows,
    "brier": _shape_brier,
}


FLOAT32_TINY = float(np.finfo(np.float32).tiny)
"""The smallest normal float32 (1.2e-38): a norm below it has a reciprocal, the size of the cosine's gradient,
that float32 cannot hold."""


def _row_norms(a: np.ndarray) -> np.ndarray:
    """|row| along the last axis, exactly enough to tell a zero or short row.

    The plain norm (no temporary copy of ``a``) can only lose the squares that underflow, so a row whose
    plain norm is 1e-18 or more is neither; the rest are taken again in float64 as m · |row / m|, m the row's
    largest magnitude, where no square underflows (1e-30² in float32, 1e-200² in float64).
    """
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    norms = np.sqrt(np.einsum("...i,...i->...", a, a)).astype(np.float64)
    small = ~(norms >= 1e-18)
    if small.any():
        rows = a[small].astype(np.float64)
        scale = np.abs(rows).max(axis=-1, keepdims=True, initial=0.0)
        norms[small] = np.linalg.norm(rows / np.where(scale > 0, scale, 1.0), axis=-1) * scale[:, 0]
    return norms


def _check_direction(inp: Input, epsilon: float) -> None:
    """Every row a direction: not all zeros unless epsilon floors it, and a prediction's norm (or the floor
    sqrt(epsilon)) not so small that its gradient, about 1/norm, overflows float32 (losscli's default dtype)."""
    norms = _row_norms(inp.array)
    floor = math.sqrt(epsilon)
    zero = norms == 0
    if zero.any() and not epsilon:
        at = _first(zero)
        raise DataError(
            f"{inp.source}: {inp.where(at)}: {inp.role.name} is all zeros, a vector without a direction, so "
            "its cosine is 0/0; drop the row, or pass -p epsilon=1e-12 to score it as orthogonal"
        )
    short = np.maximum(norms, floor) < FLOAT32_TINY
    if inp.role.kind != "pred" or not short.any():
        return
    at = _first(short)
    what = f"below {FLOAT32_TINY:.2g} (the smallest normal float32), so its gradient, about 1/norm, overflows"
    if norms[at] == 0:
        raise DataError(
            f"{inp.source}: {inp.where(at)}: {inp.role.name} is all zeros, and -p epsilon={epsilon:g} floors its "
            f"norm at sqrt(epsilon) = {floor:.2g}, {what}; pass -p epsilon=1e-12 to score it as orthogonal"
        )
    raise DataError(
        f"{inp.source}: {inp.where(at)}: {inp.role.name} has norm {norms[at]:.2g}, {what}; scale the vectors up "
        "(the cosine ignores their length), drop the row, or pass -p epsilon=1e-12 to floor the norm"
    )


def _check_domain(inp: Input, params: dict[str, Any]) -> None:
    a, domain = inp.array, inp.role.domain
    if domain == "prob":
        bad = (a < 0) | (a > 1)
        if bad.any():
            at = _first(bad)
            fix = (
                "apply a sigmoid first, or use bce_with_logits"
                if inp.role.kind == "pred"
                else "scale the labels into [0, 1]"
            )
            raise DataError(f"{inp.source}: {inp.where(at)}: {a[at]!s} is outside [0, 1] for {inp.role.name}; {fix}")
    elif domain == "sign":
        bad = (a != 1) & (a != -1)
        if bad.any():
            at = _first(bad)
            fix = "map 0 to -1" if set(np.unique(a).tolist()) <= {0, 1} else "use 1 and -1 only"
            raise DataError(f"{inp.source}: {inp.where(at)}: {inp.role.name} {a[at]!s} is not 1 or -1; {fix}")
    elif domain == "nonneg":
        bad = a < 0
        if bad.any():
            at = _first(bad)
            raise DataError(f"{inp.source}: {inp.where(at)}: {inp.role.name} {a[at]!s} is negative; it must be >= 0")
    elif domain == "positive":
        bad = a <= 0
        if bad.any():
            at = _first(bad)
            fix = (
                "predict the mean itself (e.g. exp of a log-link output), not its log"
                if inp.role.kind == "pred"
                else "drop those rows, or use a loss that allows zeros"
            )
            raise DataError(f"{inp.source}: {inp.where(at)}: {inp.role.name} {a[at]!s} is not > 0; {fix}")
    elif domain == "binary":
        bad = (a != 0) & (a != 1)
        if bad.any():
            at = _first(bad)
            fix = "map -1 to 0" if set(np.unique(a).tolist()) <= {-1, 1} else "use 0 and 1 only"
            raise DataError(f"{inp.source}: {inp.where(at)}: {inp.role.name} {a[at]!s} is not 0 or 1; {fix}")
    elif domain == "binary_or_sign":
        binary, signs = (a == 0) | (a == 1), (a == -1) | (a == 1)
        if not (binary.all() or signs.all()):
            bad = ~(binary | signs)
            if bad.any():
                at = _first(bad)
                what = f"{a[at]!s} is not a label"
            else:  # 0 and -1 both occur
                at = _first(a == 0)
                what = "0 is mixed with -1 labels"
            raise DataError(
                f"{inp.source}: {inp.where(at)}: {inp.role.name} {what}; give labels all in {{0, 1}} "
                "or all in {-1, 1} (0/1 labels are mapped to -1/1)"
            )
    elif domain in ("boxes", "boxes_aspect"):
        for low, high in ((0, 2), (1, 3)):
            bad = a[:, high] < a[:, low]
            if bad.any():
                row = int(np.argmax(bad))
                names = ("x1", "y1", "x2", "y2")
                raise DataError(
                    f"{inp.source}: {inp.where((row,))}: {inp.role.name} box {tuple(a[row].tolist())} has "
                    f"{names[high]} {a[row, high]} < {names[low]} {a[row, low]}; boxes are x1, y1, x2, y2 with "
                    "x2 >= x1 and y2 >= y1: swap the corners, or convert from x, y, w, h (x2 = x + w, y2 = y + h)"
                )
        flat = a[:, 3] == a[:, 1]
        if domain == "boxes_aspect" and flat.any():
            row = int(np.argmax(flat))
            raise DataError(
                f"{inp.source}: {inp.where((row,))}: {inp.role.name} box {tuple(a[row].tolist())} has zero height, "
                "so its aspect ratio w/h is undefined; give boxes of positive height, or use diou"
            )
    elif domain == "direction":
        _check_direction(inp, params.get("epsilon") or 0.0)
    elif domain == "multilabel_index":
        inp.array = a = to_index(inp)
        n_classes = a.shape[-1]
        bad = (a < -1) | (a >= n_classes)
        if bad.any():
            at = _first(bad)
            raise DataError(
                f"{inp.source}: {inp.where(at)}: {a[at]!s} is not a class index in [0, {n_classes}) or the "
                "padding -1; each row lists the sample's classes, then -1s"
            )


def validate(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any]) -> None:
    """Check every input for the loss; convert index roles to int64 in place."""
    for inp in inputs.values():
        check_finite(inp)
    SHAPE_RULES[spec.shape_rule](spec, inputs, params)
    for inp in inputs.values():
        if inp.role.dtype in ("index", "length") and inp.array.dtype != np.int64:
            inp.array = to_index(inp)
        _check_domain(inp, params)
    for name in ("weight", "pos_weight"):
        _check_class_vector(spec, inputs, params, name)


def _check_class_vector(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any], name: str) -> None:
    """``weight``/``pos_weight`` lists must fit the class dimension torch broadcasts them over."""
    values = params.get(name)
    if values is None:
        return
    pred = inputs[spec.pred_role.name].array
    if spec.shape_rule in ("class", "class4d"):
        size, axis = pred.shape[1], "classes (columns)"
    else:
        size, axis = (pred.shape[-1] if pred.ndim else 1), "columns"
    if len(values) not in (size, 1) or (spec.shape_rule in ("class", "class4d") and len(values) != size):
        raise UsageError(f"{spec.name}: -p {name} has {counted(len(values), 'value')} but the input has {size} {axis}")
