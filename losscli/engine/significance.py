"""Is the difference real? Intervals of loss values, paired differences between models, and gates.

``engine.stats`` holds the arithmetic (sums over rows, t and bootstrap
estimates, Holm) and ``engine.rows`` collects every row's loss as the runs go
(``RowCollector``); this module applies them to the runs of ``compute`` and
``compare``: it recomputes a loss that does not decompose on resampled rows
(``recomputed``), turns the sums into the results' ``ci`` and
``differences``, and judges the gates (``--fail-above``, ``--fail-if-worse``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from losscli.engine import stats
from losscli.errors import DataError, UsageError
from losscli.registry import LossSpec

DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 1000


@dataclasses.dataclass(frozen=True)
class Statistics:
    """How intervals are computed: ``--ci LEVEL``, ``--ci-method``, ``--resamples``, ``--seed``."""

    level: float = DEFAULT_LEVEL
    method: str = "t"
    resamples: int = DEFAULT_RESAMPLES
    seed: int = 0

    @property
    def bootstrap(self) -> bool:
        return self.method == "bootstrap"

    def tally(self, widths: Sequence[int]) -> stats.Tally:
        return stats.Tally(widths, resamples=self.resamples if self.bootstrap else None, seed=self.seed)

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys: ``ci_level``, ``ci_method``, and ``resamples`` and ``seed`` (None for t)."""
        return {
            "ci_level": self.level,
            "ci_method": self.method,
            "resamples": self.resamples if self.bootstrap else None,
            "seed": self.seed if self.bootstrap else None,
        }


def statistics_options(
    level: float | None, method: str | None = None, resamples: int | None = None, seed: int | None = None
) -> Statistics | None:
    """The ``Statistics`` of the options (None without ``--ci``); a bad or idle option is a usage error."""
    if level is None:
        given = [name for name, v in (("--ci-method", method), ("--resamples", resamples), ("--seed", seed)) if v]
        if given:
            raise UsageError(f"{given[0]} sets how --ci computes intervals: add --ci (or --ci LEVEL)")
        return None
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise UsageError(f"--ci {level!r}: the level is a fraction between 0 and 1, e.g. --ci 0.95")
    method = method or "t"
    if method not in stats.METHODS:
        raise UsageError(f"--ci-method {method!r}: choose {' or '.join(stats.METHODS)}")
    if method != "bootstrap" and (resamples is not None or seed is not None):
        raise UsageError("--resamples and --seed are the bootstrap's: add --ci-method bootstrap")
    resamples = DEFAULT_RESAMPLES if resamples is None else resamples
    if not 10 <= resamples <= 1_000_000:
        raise UsageError(f"--resamples {resamples}: give 10 to 1000000 (1000 is the default)")
    seed = 0 if seed is None else seed
    if seed < 0:
        raise UsageError(f"--seed {seed}: give a whole number >= 0")
    return Statistics(float(level), method, resamples, seed)


def interval_problem(spec: LossSpec, reduction: str, statistics: Statistics) -> str | None:
    """Why this loss can have no interval under these settings (a usage error), before anything is read."""
    if reduction == "none":
        return "--ci gives an interval of the reduced value: use --reduction mean or sum (not none)"
    if spec.decomposition is not None:
        return None
    if spec.resampling:
        return f"{spec.name} has no interval: {spec.resampling}"
    if not statistics.bootstrap:
        return (
            f"{spec.name} does not decompose over samples (no per-sample values to average), so it has no t "
            "interval: use --ci-method bootstrap, which recomputes it on resampled rows"
        )
    return None


def no_rows(column: str) -> DataError:
    return DataError(
        f"{column}: the predictions are a single sample (a 1-D input of a loss per row), so they have no "
        "interval: give a sample per row"
    )


def estimate(
    tally: stats.Tally,
    group: int,
    coefficients: Sequence[float],
    statistics: Statistics,
    scale: float,
    stratum: int = 0,
) -> stats.Estimate:
    """The estimate of coefficients · (the group's models' ratios) over a stratum's rows, by the chosen method."""
    coefficients = np.asarray(coefficients, dtype=np.float64)
    moments = tally.group_moments(group, stratum)
    if moments is None or moments.n < 2:
        raise DataError("an interval needs two samples (rows) at least")
    point = stats.t_estimate(moments, coefficients, statistics.level, scale)
    if not statistics.bootstrap:
        return point
    replicates = tally.replicates(group, coefficients, stratum) * scale
    return stats.bootstrap_estimate(point.value, replicates, statistics.level)


def value_scale(reduction: str, rows: int) -> float:
    """``sum`` is the rows times their mean; the other reductions are ratios as they stand."""
    return float(rows) if reduction == "sum" else 1.0


# --- a loss that does not decompose: recomputed on resampled rows --------------------------------------------

MAX_RESAMPLED_WEIGHTS = 1 << 28


def recomputed(
    spec: LossSpec,
    inputs: dict[str, Any],
    params: dict[str, Any],
    reduction: str,
    dtype: str,
    statistics: Statistics,
) -> np.ndarray:
    """The loss on each bootstrap resample of the rows (validated ``inputs``), recomputed whole.

    Row i appears w times in resample b, w its Poisson weight (``stats.poisson_weights``): the same
    weights a loss that decomposes gets, so the two ways agree. Every input with a row per sample is
    resampled along its sample axis (the predictions': the loss's batch axis); a value every row shares
    is kept whole.
    """
    import torch

    from losscli.engine import core

    pred = inputs[spec.pred_role.name].array
    axis = spec.batch_dim
    n = pred.shape[axis] if pred.ndim > axis else 1
    if n < 2:
        raise DataError(f"{spec.name}: an interval needs two samples at least; the predictions hold {n}")
    if n * statistics.resamples > MAX_RESAMPLED_WEIGHTS:
        raise DataError(
            f"{spec.name}: {n} samples × {statistics.resamples} resamples are too many to recompute the loss on; "
            "give fewer --resamples or rows"
        )
    axes = {}
    for name, inp in inputs.items():
        role_axis = axis if name == spec.pred_role.name else 0
        if inp.array.ndim > role_axis and inp.array.shape[role_axis] == n:
            axes[name] = role_axis
        elif inp.array.ndim > 0 and inp.array.size > 1:
            raise DataError(
                f"{spec.name}: {inp.source} has {inp.array.shape[role_axis] if inp.array.ndim > role_axis else 1} "
                f"rows, not one per sample ({n}), so its rows cannot be resampled with the predictions' "
                "for an interval"
            )
    torch_dtype, np_dtype = core.DTYPES[dtype]
    loss_fn = core.build_loss(spec, params, reduction, torch_dtype)
    weights = stats.poisson_weights(statistics.seed, 0, n, statistics.resamples)
    values = np.empty(statistics.resamples)
    arrays = {name: inp.array for name, inp in inputs.items()}
    with core.torch_warnings(), torch.no_grad():
        for b in range(statistics.resamples):
            rows = np.repeat(np.arange(n), weights[b])
            taken = {name: np.take(a, rows, axis=axes[name]) if name in axes else a for name, a in arrays.items()}
            tensors = core.make_tensors(spec, taken, np_dtype, grad=False)
            try:
                values[b] = float(core.run_loss(spec, loss_fn, tensors))
            except DataError:
                values[b] = math.nan
    return values


def recomputed_estimate(value: float, replicates: np.ndarray, statistics: Statistics) -> stats.Estimate:
    return stats.bootstrap_estimate(value, replicates, statistics.level)


# --- gates ------------------------------------------------------------------------------------------------

GATE_ON = ("point", "ci")


@dataclasses.dataclass
class Gate:
    """One check of a gate on one model and loss."""

    model: str
    loss: str
    rule: str
    value: float | None
    bound: float
    passed: bool
    interval: tuple[float, float] | None = None
    p_value: float | None = None
    baseline: str | None = None
    """``fail-if-worse``: the model compared with, its value, and the margin in percent."""
    baseline_value: float | None = None
    pct: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        record = {
            "model": self.model,
            "loss": self.loss,
            "rule": self.rule,
            "value": self.value,
            "bound": self.bound,
            "passed": self.passed,
        }
        if self.interval is not None:
            record["ci"] = list(self.interval)
        if self.p_value is not None:
            record["p_adjusted"] = self.p_value
        if self.baseline is not None:
            record["baseline"] = self.baseline
        return record


@dataclasses.dataclass(frozen=True)
class Gates:
    """The gates asked for: ``--fail-above LOSS=VALUE``, ``--fail-if-worse LOSS[=PCT]``, ``--gate-on``."""

    above: tuple[tuple[str, float], ...] = ()
    worse: tuple[tuple[str, float], ...] = ()
    on: str = "point"

    def __bool__(self) -> bool:
        return bool(self.above or self.worse)


def gate_options(
    above: Sequence[str] = (), worse: Sequence[str] = (), on: str | None = None, statistics: Statistics | None = None
) -> Gates:
    """Parse the gate options; ``--gate-on`` defaults to ``ci`` when ``--ci`` is given, else ``point``."""
    parsed_above = []
    for item in above:
        loss, sep, text = item.rpartition("=")
        value = _number(text) if sep and loss.strip() else None
        if value is None:
            raise UsageError(f"--fail-above {item!r}: expected LOSS=VALUE, e.g. --fail-above mse=0.5")
        parsed_above.append((loss.strip(), value))
    parsed_worse = []
    for item in worse:
        loss, sep, text = item.rpartition("=") if "=" in item else (item, "", "")
        pct = _number(text) if sep else 0.0
        if not loss.strip() or pct is None or pct < 0:
            raise UsageError(f"--fail-if-worse {item!r}: expected LOSS or LOSS=PCT (PCT >= 0), e.g. mse=5")
        parsed_worse.append((loss.strip(), pct))
    if on is not None and on not in GATE_ON:
        raise UsageError(f"--gate-on {on!r}: choose point or ci")
    if on == "ci" and statistics is None:
        raise UsageError("--gate-on ci gates on the intervals: add --ci")
    if on is not None and not (parsed_above or parsed_worse):
        raise UsageError("--gate-on says how the gates judge: add --fail-above or --fail-if-worse")
    return Gates(tuple(parsed_above), tuple(parsed_worse), on or ("ci" if statistics is not None else "point"))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def gate_columns(loss: str, columns: Sequence[str], loss_names: dict[str, str], option: str) -> list[str]:
    """The columns a gate's LOSS names: the column itself (``huber:delta=5``), or every column of a loss (by
    name or alias)."""
    if loss in columns:
        return [loss]
    from losscli.registry import get_loss

    try:
        name = get_loss(loss).name
    except Exception:  # an unknown loss name: said below, with the columns to choose from
        name = None
    chosen = [c for c in columns if name is not None and loss_names.get(c, c) == name]
    if not chosen:
        raise UsageError(f"{option} {loss}: name a computed loss: {', '.join(columns)}")
    return chosen


def gate_line(gate: Gate) -> str:
    """The ``Gate failed:`` line of a check that failed (without the prefix)."""
    value = "nan" if gate.value is None else f"{gate.value:.6g}"
    interval = f" (interval [{gate.interval[0]:.6g}, {gate.interval[1]:.6g}])" if gate.interval else ""
    if gate.rule == "fail-above":
        return f"{gate.model}: {gate.loss} = {value}{interval} is above {gate.bound:.6g}"
    if gate.value is None:
        return f"{gate.model}: {gate.loss} has no value to compare with the baseline {gate.baseline}'s"
    margin = f" + {gate.pct:g} %" if gate.pct else ""
    significantly = f", significantly (Holm-adjusted p = {gate.p_value:.3g})" if gate.p_value is not None else ""
    return (
        f"{gate.model}: {gate.loss} = {value} is above {gate.bound:.6g}, the baseline {gate.baseline}'s "
        f"{gate.baseline_value:.6g}{margin}{significantly}"
    )


def judge_compute(result: Any, gates: Gates) -> list[Gate]:
    """``--fail-above`` on a computed value: above the bound (``point``), or its whole interval above it."""
    checks = []
    model = result.inputs[result.pred_role].path if result.pred_role in result.inputs else "predictions"
    for _, bound in gates.above:
        checks.append(above_gate(model, result.loss, result.value, result.ci, bound, gates.on))
    return checks


def above_gate(model: str, loss: str, value: float | None, interval: Any, bound: float, on: str) -> Gate:
    if value is None or not math.isfinite(value):
        return Gate(model, loss, "fail-above", None, bound, False, interval)
    judged = interval[0] if on == "ci" and interval is not None else value
    return Gate(model, loss, "fail-above", value, bound, not judged > bound, interval if on == "ci" else None)
