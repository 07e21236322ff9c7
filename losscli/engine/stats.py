"""Confidence intervals and paired tests of loss values, from sums over rows that merge.

A loss whose samples are independent is a ratio of sums over its rows,
R = Σu / Σx: u is a row's summed ``none`` output and x what ``mean`` divides
by for that row (its element count, its targets' class weights, or 1). Its
interval is the ratio estimator's (the delta method: a plain mean's t interval
when x is the same for every row), and the paired difference of two models is
the ratio Σ(u_a − u_b) / Σx of the same rows (the labels, and so x, are
shared). Everything comes from the rows' co-moments, so a run a chunk at a
time gives what a run on the whole gives.

``Tally`` takes the per-row values in any chunks and processes them in blocks
of ``BLOCK_ROWS`` rows aligned on the global row index, always in block order:
each block's sums are the same however its rows arrived, and the blocks are
added up in the same order, so streamed and in-memory runs agree to the last
digit. The Poisson bootstrap's weights are drawn per block from the seed and
the block's index, a block of rows at a time: a row's weights depend on the
seed and its index only, and no N × B matrix is ever held.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

BLOCK_ROWS = 8192
"""Rows per block of the sums."""

WEIGHT_ROWS = 256
"""Rows per draw of bootstrap weights: a (resamples × WEIGHT_ROWS) float64 matrix stays in the CPU's cache."""

METHODS = ("t", "bootstrap")


@functools.cache
def poisson_table() -> np.ndarray:
    """Poisson(1) by its quantile function on 16-bit uniforms: entry r is the weight of (r + ½) / 2¹⁶.

    Each weight's probability is Poisson(1)'s to within 2⁻¹⁶ (weights above 8 have less than that).
    """
    from scipy.special import pdtr  # scipy.special, not scipy.stats: the latter takes 0.5 s to import

    cdf = pdtr(np.arange(32), 1.0)
    return np.searchsorted(cdf, (np.arange(1 << 16) + 0.5) / (1 << 16)).astype(np.uint8)


def _draw(seed: int, piece: int, resamples: int) -> np.ndarray:
    """The (resamples × WEIGHT_ROWS) uint8 weights of rows ``piece · WEIGHT_ROWS…``: a generator of its own,
    seeded with (seed, piece), so a row's weights depend on the seed and the row's index alone."""
    generator = np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(piece,)))
    bits = generator.random_raw(resamples * WEIGHT_ROWS // 4).view(np.uint16).reshape(resamples, WEIGHT_ROWS)
    return np.take(poisson_table(), bits)


def poisson_weights(seed: int, start: int, rows: int, resamples: int) -> np.ndarray:
    """The bootstrap weights of rows ``start…start + rows``: a (resamples × rows) uint8 array."""
    first, last = start // WEIGHT_ROWS, -(-(start + rows) // WEIGHT_ROWS)
    if rows <= 0:
        return np.empty((resamples, 0), dtype=np.uint8)
    weights = np.concatenate([_draw(seed, piece, resamples) for piece in range(first, last)], axis=1)
    offset = start - first * WEIGHT_ROWS
    return weights[:, offset : offset + rows]


@dataclasses.dataclass
class Moments:
    """Count, means and co-moment matrix Σ (a − ā)(a − ā)ᵀ of some columns over some rows."""

    n: int
    mean: np.ndarray
    comoment: np.ndarray

    @classmethod
    def of(cls, a: np.ndarray) -> Moments:
        mean = np.ones(len(a)) @ a / len(a)  # a BLAS product: faster than a.mean(axis=0) on rows
        centred = a - mean
        return cls(len(a), mean, centred.T @ centred)

    def merge(self, other: Moments) -> Moments:
        """The moments of both sets of rows (Chan, Golub and LeVeque's update)."""
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        comoment = self.comoment + other.comoment + np.outer(delta, delta) * (self.n * other.n / n)
        return Moments(n, mean, comoment)


class Tally:
    """The per-row values of one or more losses (groups), each for one or more models on the same rows.

    ``add(group, start, u, x)`` takes rows ``start…`` of a group: u (rows × models) and x (rows). Every
    block adds its co-moments of the columns [u₁…u_M, x] of every group (for the t method) and, with
    ``resamples``, Wᵀ[…] of the same columns, W its Poisson weights (for the bootstrap).

    With ``codes`` (a stratum per row, 0…``strata`` − 1: the slices of ``--by``), the sums are kept per
    stratum: each block's rows of a stratum add to that stratum's co-moments and, with the weights the same
    rows draw in any stratum or none, to its bootstrap sums. A row's stratum, like its weights, depends on
    its index alone, so chunked and whole runs still agree to the last digit.
    """

    def __init__(
        self,
        widths: Sequence[int],
        *,
        resamples: int | None = None,
        seed: int = 0,
        threads: bool = True,
        codes: np.ndarray | None = None,
        strata: int = 1,
        offset: int = 0,
    ):
        """``offset``: the index of the first row among all of a distributed run's, which the bootstrap weights
        are drawn for (a partition's rows then draw what they draw in one run)."""
        self.widths = list(widths)
        self.offsets = [sum(w + 1 for w in self.widths[:g]) for g in range(len(self.widths))]
        self.width = sum(w + 1 for w in self.widths)
        self.codes, self.strata = codes, strata if codes is not None else 1
        self.offset = offset
        self.stratum_moments: list[Moments | None] = [None] * self.strata
        self.resamples, self.seed = resamples, seed
        self.pool = ThreadPoolExecutor(2) if threads and resamples else None
        self.sums = None if resamples is None else np.zeros((self.strata, resamples, self.width))
        self.pending: dict[int, tuple[np.ndarray, list[int]]] = {}
        """block → (its rows' columns, filled in place; the rows each group has filled)."""
        self.next_block = 0
        self.rows = 0

    @property
    def moments(self) -> Moments | None:
        """The co-moments of every row (one stratum)."""
        return self.stratum_moments[0]

    @property
    def boot(self) -> np.ndarray | None:
        """The bootstrap sums of every row (one stratum): resamples × columns."""
        return None if self.sums is None else self.sums[0]

    def add(self, group: int, start: int, u: np.ndarray | Sequence[np.ndarray], x: np.ndarray | float) -> None:
        """Take rows ``start…`` of a group: u as a (rows × models) array or a column per model, x per row (or
        one for all). Blocks every group has whole are added up."""
        columns = list(u.T) if isinstance(u, np.ndarray) and u.ndim == 2 else list(u)
        if len(columns) != self.widths[group]:
            raise ValueError(f"group {group} has {self.widths[group]} models, not {len(columns)}")
        n = len(columns[0])
        first = self.offsets[group]
        done = 0
        while done < n:  # cut where the global blocks end
            block, at = divmod(start + done, BLOCK_ROWS)
            take = min(BLOCK_ROWS - at, n - done)
            if block not in self.pending:
                self.pending[block] = (np.empty((BLOCK_ROWS, self.width), order="F"), [0] * len(self.widths))
            a, filled = self.pending[block]
            for j, column in enumerate(columns):
                a[at : at + take, first + j] = column[done : done + take]
            a[at : at + take, first + len(columns)] = x if np.ndim(x) == 0 else x[done : done + take]
            filled[group] += take
            done += take
        self._advance(None)

    def finish(self, rows: int) -> None:
        """Add up the blocks left, the last one short, once every group has all ``rows`` rows."""
        self._advance(rows)
        if self.pending:
            raise ValueError(f"rows missing from blocks {sorted(self.pending)} of {rows} rows")
        self.rows = rows
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def _advance(self, rows: int | None) -> None:
        while (pending := self.pending.get(self.next_block)) is not None:
            size = BLOCK_ROWS if rows is None else min(BLOCK_ROWS, rows - self.next_block * BLOCK_ROWS)
            a, filled = pending
            if any(f != size for f in filled):
                return
            del self.pending[self.next_block]
            self._add_block(self.next_block, a[:size])
            self.next_block += 1

    def _add_block(self, block: int, a: np.ndarray) -> None:
        if self.codes is None:
            self._merge(0, Moments.of(a))
            if self.sums is not None:
                self.sums[0] += self._resampled(block, a)
            return
        start = block * BLOCK_ROWS
        codes = self.codes[start : start + len(a)]
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(self.strata + 1))
        present = [s for s in range(self.strata) if bounds[s + 1] > bounds[s]]
        for s in present:
            self._merge(s, Moments.of(a[order[bounds[s] : bounds[s + 1]]]))
        if self.sums is not None:
            weights = poisson_weights(self.seed, self.offset + start, len(a), self.resamples)[:, order]
            rows = a[order]
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1, user_api="blas"):
                for s in present:
                    for lo in range(bounds[s], bounds[s + 1], WEIGHT_ROWS):  # pieces that stay in the cache
                        hi = min(lo + WEIGHT_ROWS, bounds[s + 1])
                        self.sums[s] += weights[:, lo:hi].astype(np.float64) @ rows[lo:hi]

    def _merge(self, stratum: int, moments: Moments) -> None:
        held = self.stratum_moments[stratum]
        self.stratum_moments[stratum] = moments if held is None else held.merge(moments)

    def _resampled(self, block: int, a: np.ndarray) -> np.ndarray:
        """Σ w·a over the block's rows for every resample: two threads each take half of the block's draws,
        with BLAS in one thread (its threads only slow products this small down)."""
        from threadpoolctl import threadpool_limits

        start = self.offset + block * BLOCK_ROWS
        first = start // WEIGHT_ROWS
        pieces = range(-(-len(a) // WEIGHT_ROWS))
        aligned = start % WEIGHT_ROWS == 0  # else (a partition's rows): the weights of its own rows, drawn apart

        def product(part: range) -> np.ndarray:
            total = np.zeros((self.resamples, a.shape[1]))
            for k in part:
                rows = a[k * WEIGHT_ROWS : (k + 1) * WEIGHT_ROWS]
                if aligned:
                    weights = _draw(self.seed, first + k, self.resamples)[:, : len(rows)]
                else:
                    weights = poisson_weights(self.seed, start + k * WEIGHT_ROWS, len(rows), self.resamples)
                total += weights.astype(np.float64) @ rows
            return total

        halves = [pieces[: len(pieces) // 2], pieces[len(pieces) // 2 :]]
        with threadpool_limits(1, user_api="blas"):
            if self.pool is None:
                return product(halves[0]) + product(halves[1])
            return sum(self.pool.map(product, halves), np.zeros((self.resamples, a.shape[1])))

    @classmethod
    def merged(cls, parts: list[Tally]) -> Tally:
        """The sums of several tallies of consecutive rows (a distributed run's partitions, in order)."""
        merged = parts[0]
        for part in parts[1:]:
            for stratum, moments in enumerate(part.stratum_moments):
                if moments is not None:
                    merged._merge(stratum, moments)
            if merged.sums is not None:
                merged.sums = merged.sums + part.sums
        merged.rows = sum(part.rows for part in parts)
        return merged

    def __getstate__(self) -> dict[str, Any]:
        if self.pending:
            raise ValueError("a tally with blocks not yet added stays in its process: finish it first")
        return {k: v for k, v in self.__dict__.items() if k != "pool"} | {"pool": None}

    # --- what the sums give --------------------------------------------------------------------------

    def columns(self, group: int) -> tuple[int, int]:
        """The columns of a group's models, and that of its x (which follows them)."""
        return self.offsets[group], self.offsets[group] + self.widths[group]

    def group_moments(self, group: int, stratum: int = 0) -> Moments | None:
        """The moments of a group's columns [u₁…u_M, x] over a stratum's rows (None: it has none)."""
        moments = self.stratum_moments[stratum]
        if moments is None:
            return None
        first, x = self.columns(group)
        keep = np.r_[first : x + 1]
        return Moments(moments.n, moments.mean[keep], moments.comoment[np.ix_(keep, keep)])

    def replicates(self, group: int, coefficients: np.ndarray, stratum: int = 0) -> np.ndarray:
        """Σ w·(c·u) / Σ w·x of every resample, for coefficients c over the group's models."""
        first, x = self.columns(group)
        sums = self.sums[stratum]
        with np.errstate(divide="ignore", invalid="ignore"):
            return (sums[:, first:x] @ coefficients) / sums[:, x]


@dataclasses.dataclass
class Estimate:
    """A ratio (a value, or a difference of values), its interval and the tests of its sign."""

    value: float
    low: float
    high: float
    p_less: float
    """p-value of "below ``null``": small when the estimate is significantly lower."""
    p_greater: float

    @property
    def p_two_sided(self) -> float:
        return min(1.0, 2.0 * min(self.p_less, self.p_greater))

    def p_value(self, alternative: str) -> float:
        return {"less": self.p_less, "greater": self.p_greater, "two-sided": self.p_two_sided}[alternative]


def t_estimate(moments: Moments, coefficients: np.ndarray, level: float, scale: float = 1.0) -> Estimate:
    """The ratio estimator of (c · Σ columns) / Σx, its t interval and one-sided p-values against 0.

    ``coefficients`` weigh the group's columns except x (its last one). With z = c·a − R·x per row, the
    standard error is √(Σz² / (n (n − 1))) / x̄, with n − 1 degrees of freedom: the paired t test of the
    per-row values when x is constant. ``scale`` multiplies the value and interval (``sum``: n).
    """
    from scipy.special import stdtr, stdtrit  # Student's t: cdf and quantile

    n = moments.n
    x = len(moments.mean) - 1
    mean_x = moments.mean[x]
    value = float(coefficients @ moments.mean[:x] / mean_x)
    cc = moments.comoment[:x, :x]
    spread = float(coefficients @ cc @ coefficients - 2 * value * (coefficients @ moments.comoment[:x, x]))
    spread += value * value * float(moments.comoment[x, x])
    if n < 2:
        return Estimate(value * scale, math.nan, math.nan, math.nan, math.nan)
    error = math.sqrt(max(spread, 0.0) / (n * (n - 1))) / abs(mean_x)
    if error == 0 or not math.isfinite(error):
        low = high = value
        p_less = 0.0 if value < 0 else 1.0
        p_greater = 0.0 if value > 0 else 1.0
    else:
        half = float(stdtrit(n - 1, 0.5 + level / 2)) * error
        low, high = value - half, value + half
        statistic = value / error
        p_less = float(stdtr(n - 1, statistic))
        p_greater = float(stdtr(n - 1, -statistic))
    return Estimate(value * scale, float(low) * scale, float(high) * scale, p_less, p_greater)


def bootstrap_estimate(value: float, replicates: np.ndarray, level: float, scale: float = 1.0) -> Estimate:
    """The percentile interval of the replicates, and p-values of the sign: (1 + #{r* ≥ 0}) / (B + 1) for
    "below 0", and likewise above."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return Estimate(value * scale, math.nan, math.nan, math.nan, math.nan)
    low, high = np.quantile(finite, [0.5 - level / 2, 0.5 + level / 2])
    b = finite.size
    p_less = (1 + int(np.count_nonzero(finite >= 0))) / (b + 1)
    p_greater = (1 + int(np.count_nonzero(finite <= 0))) / (b + 1)
    return Estimate(value * scale, float(low) * scale, float(high) * scale, min(p_less, 1.0), min(p_greater, 1.0))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values for testing them all at once (NaN stays NaN)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    m = len(indexed)
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
