"""What ``--ci`` costs: ``losscli compare`` of 5 models × 3 losses on 1M rows, with and without intervals.

Run ``python bench/ci.py`` (``make bench-ci``). It uses ``bench/run.py``'s
inputs (generated on first use), runs the same compare without ``--ci``, with
``--ci`` (the t method), and with ``--ci --ci-method bootstrap --resamples
1000``, alternating, and prints each one's median wall time, peak memory and
ratio against the compare without intervals. The targets (issue 14): the t
method within 1.1×, the bootstrap within 3×, the memory bounded (the weights
are drawn a block of rows at a time, never an N × B matrix).

``--coverage N`` instead simulates N data sets and counts how often the 95 %
intervals of both methods cover the true mean loss (in process, through the
Python API; tests/test_significance.py runs a 400-set version).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DATA, LOSSCLI, generate, measure  # noqa: E402  (bench/run.py, beside this file)

TARGETS = {"--ci (t)": 1.1, "--ci --ci-method bootstrap": 3.0}


def compare_argv(*extra: str) -> list[str]:
    models = [str(DATA / f"model_{k}_1m.csv") for k in range(5)]
    return [LOSSCLI, "compare", *models, "--labels", str(DATA / "cmp_y_1m.csv"), "-l", "mse,l1,huber", *extra]


def timing(repeats: int) -> None:
    generate()
    argvs = {
        "no --ci": compare_argv("-f", "json"),
        "--ci (t)": compare_argv("-f", "json", "--ci"),
        "--ci --ci-method bootstrap": compare_argv("-f", "json", "--ci", "--ci-method", "bootstrap"),
    }
    found = measure(argvs, repeats)
    base_wall, base_rss = found["no --ci"]
    print(f"compare, 5 models x 3 losses (mse, l1, huber), 1M rows; median of {repeats} runs")
    print(f"{'command':30} {'wall s':>8} {'ratio':>7} {'target':>7} {'peak MiB':>9} {'ratio':>7}")
    for key, (wall, rss) in found.items():
        target = f"{TARGETS[key]:.1f}x" if key in TARGETS else ""
        print(f"{key:30} {wall:8.2f} {wall / base_wall:6.2f}x {target:>7} {rss:9.0f} {rss / base_rss:6.2f}x")


def coverage(sets: int, rows: int) -> None:
    """How often the 95 % intervals of both methods cover the true mean squared error, for Gaussian errors
    (the squared errors are chi-square: skewed) and for Student t errors with 5 degrees of freedom (heavy tails:
    the squared errors have a kurtosis of about 60)."""
    import numpy as np

    import losscli

    scenarios = {
        "normal errors": (lambda rng, n: rng.normal(size=n), 1.0),
        "t(5) errors": (lambda rng, n: rng.standard_t(5, size=n), 5 / 3),
    }
    print(f"{sets} data sets of {rows} rows; mse of pred = y + error; 95 % intervals")
    for scenario, (draw, truth) in scenarios.items():
        rng = np.random.default_rng(14)
        hits = {"t": 0, "bootstrap": 0}
        for _ in range(sets):
            y = rng.normal(size=rows)
            pred = y + draw(rng, rows)
            for method in hits:
                found = losscli.compute("mse", pred, y, dtype="float64", grad=False, ci=0.95, ci_method=method)
                hits[method] += found.ci[0] <= truth <= found.ci[1]
        for method, hit in hits.items():
            print(f"{scenario:14} {method:10} {hit}/{sets} = {100 * hit / sets:.1f} % cover the true mean {truth:.4g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--coverage", type=int, metavar="N", help="simulate N data sets instead")
    parser.add_argument("--rows", type=int, default=500, help="rows per simulated data set (default 500)")
    args = parser.parse_args()
    if args.coverage:
        coverage(args.coverage, args.rows)
    else:
        timing(args.repeats)


if __name__ == "__main__":
    main()
