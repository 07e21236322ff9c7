"""Time losscli's start-up: ``losscli --help`` and ``losscli compute --help`` (the help must stay under 0.3 s).

Run ``python bench/startup.py [--runs N]``. Each command runs N times (20 by default) as the console script
of this environment, output to /dev/null, after one untimed run (to warm the file cache); it prints the mean,
median and spread of the wall times in milliseconds. ``python -X importtime -m losscli --help`` says where the
time goes when it grows.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

LOSSCLI = str(Path(sys.executable).parent / "losscli")
COMMANDS = (["--help"], ["compute", "--help"], ["list"])


def wall_times(args: list[str], runs: int) -> list[float]:
    subprocess.run([LOSSCLI, *args], stdout=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([LOSSCLI, *args], stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command (default 20)")
    runs = parser.parse_args().runs
    print(f"{'command':<24} {'mean ms':>8} {'median':>8} {'min':>8} {'max':>8}  ({runs} runs)")
    for args in COMMANDS:
        ms = [t * 1000 for t in wall_times(args, runs)]
        name = " ".join(["losscli", *args])
        print(f"{name:<24} {statistics.mean(ms):8.0f} {statistics.median(ms):8.0f} {min(ms):8.0f} {max(ms):8.0f}")


if __name__ == "__main__":
    main()
