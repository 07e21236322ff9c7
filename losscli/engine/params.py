"""Parsing ``-p KEY=VALUE`` and ``--input NAME=PATH`` against a loss spec (torch-free)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from losscli.errors import UnknownParamError, UsageError
from losscli.registry import LossSpec, Param


def split_assignment(item: str, option: str) -> tuple[str, str]:
    """``"key=value"`` → ``("key", "value")``; anything else is a usage error."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{option} {item!r}: expected NAME=VALUE, e.g. {option} margin=0.5")
    return key.strip(), value.strip()


def parse_value(text: str) -> Any:
    """A ``-p`` value: JSON (numbers, true/false, lists) when it parses, else the string."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError):
        return text


def _refuse_constant(name: str) -> Any:
    """``NaN``/``Infinity`` are not JSON (``json.loads`` accepts them): keep them as strings."""
    raise ValueError(name)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _coerce(spec: LossSpec, param: Param, value: Any, text: str) -> Any:
    """``value`` (parsed from ``text``) as ``param`` takes it; a value it cannot take is a usage error."""
    where = f"{spec.name}: -p {param.name}={text}"
    if value is None:
        return None
    _check_finite(param, value, where)
    if param.kind == "bool":
        if isinstance(value, bool):
            return value
        raise UnknownParamError(f"{where}: expected true or false")
    if param.kind == "int":
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise UnknownParamError(f"{where}: expected an integer")
        value = int(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise UnknownParamError(f"{where}: expected an integer from {INT64_MIN} to {INT64_MAX} (int64)")
    elif param.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UnknownParamError(f"{where}: expected a number")
        value = float(value)
    elif param.kind == "tensor":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [float(value)]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ):
            raise UnknownParamError(f"{where}: expected a JSON list of numbers, e.g. {param.name}=[1,2,0.5]")
        return [float(v) for v in value]
    elif param.kind == "str" and not isinstance(value, str):
        raise UnknownParamError(f"{where}: expected a string")
    if param.choices and str(value) not in param.choices:
        raise UnknownParamError(f"{where}: expected one of {', '.join(param.choices)}")
    _check_bounds(param, value, where)
    return value


def _check_finite(param: Param, value: Any, where: str) -> None:
    """A number beyond float64 (``1e400``) parses as infinite: refuse it, as ``NaN`` and ``Infinity`` are.

    Integers are exact in JSON, so only floats (alone or in a list) can be infinite.
    """
    items = value if isinstance(value, list) else [value]
    bad = next((v for v in items if isinstance(v, float) and not math.isfinite(v)), None)
    if bad is not None:
        raise UnknownParamError(
            f"{where}: a number beyond float64's range (about ±1.8e308) reads as {bad}; give finite numbers"
        )


def _check_bounds(param: Param, value: float, where: str) -> None:
    low, high = param.minimum, param.maximum
    too_low = low is not None and (value <= low if param.strict_minimum else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        below = "" if low is None else f"{'>' if param.strict_minimum else '>='} {low:g}"
        above = "" if high is None else f"<= {high:g}"
        raise UnknownParamError(f"{where}: must be {' and '.join(b for b in (below, above) if b)}")


def parse_params(spec: LossSpec, items: Sequence[str]) -> dict[str, Any]:
    """Turn ``-p`` items into ``{param name: value}``, checked against the spec."""
    params: dict[str, Any] = {}
    for item in items:
        key, text = split_assignment(item, "-p")
        param = spec.param(key)
        if param is None:
            if key == "reduction":
                raise UnknownParamError(f"{spec.name}: set the reduction with --reduction, not -p")
            valid = ", ".join(p.name for p in spec.params) or "none"
            raise UnknownParamError(f"{spec.name} has no parameter {key!r}; valid parameters: {valid}")
        params[param.name] = _coerce(spec, param, parse_value(text), text)
    return params


def parse_inputs(spec: LossSpec, items: Sequence[str]) -> dict[str, str]:
    """Turn ``--input NAME=PATH`` items into ``{role name: path}``."""
    extra_names = [r.name for r in spec.input_roles]
    paths: dict[str, str] = {}
    for item in items:
        name, path = split_assignment(item, "--input")
        if name not in extra_names:
            valid = ", ".join(extra_names) if extra_names else "none (PRED and LABELS are positional)"
            raise UsageError(f"{spec.name} takes no input {name!r}; --input names: {valid}")
        if name in paths:
            raise UsageError(f"--input {name} given twice")
        paths[name] = path
    return paths


def check_reduction(spec: LossSpec, reduction: str | None) -> str:
    """The reduction to use: the given one if the loss allows it, else its default."""
    if reduction is None:
        return spec.default_reduction
    if reduction not in spec.reductions:
        raise UsageError(
            f"{spec.name} does not support --reduction {reduction}; choose one of {', '.join(spec.reductions)}"
        )
    return reduction
