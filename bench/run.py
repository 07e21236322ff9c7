"""Benchmark ``losscli compute`` against the plain pandas + torch script a user would write.

Run ``python bench/run.py`` (or ``make bench``). It generates the inputs once,
deterministically, under ``bench/data/`` (about 450 MB), then for each case
runs losscli and the plain script alternately, several times, and prints the
median wall time and peak memory (max RSS) of each and their ratio
losscli / script. Before timing, it checks that both print the same loss value.

Only public tools: ``time.perf_counter`` for wall time and ``os.wait4``'s
resource usage for each child's peak memory. The agreement checks run in a
process of their own: Linux counts the memory a child had before ``exec``
(a copy of this process) in its peak, so this process stays small.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
BIN = Path(sys.executable).parent
LOSSCLI = str(BIN / "losscli")

SCRIPT = """\
import sys
import pandas as pd
import torch

loss_name, pred_path, label_path = sys.argv[1:4]
pred = torch.tensor(pd.read_csv(pred_path).values, dtype=torch.float32, requires_grad=True)
labels = pd.read_csv(label_path).values
if loss_name == "cross_entropy":
    target = torch.tensor(labels[:, 0], dtype=torch.long)
    loss = torch.nn.CrossEntropyLoss()(pred, target)
else:
    target = torch.tensor(labels, dtype=torch.float32)
    loss = torch.nn.MSELoss()(pred, target)
loss.backward()
print(loss.item(), pred.grad.norm().item())
"""


@dataclass
class Case:
    name: str
    loss: str
    pred: str
    labels: str
    extra: tuple[str, ...] = ()
    script: bool = True


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    pacsv.write_csv(pa.table(columns), path)


def generate() -> None:
    """The inputs, made once with a fixed seed; skipped when they already exist."""
    DATA.mkdir(exist_ok=True)
    marker = DATA / ".complete"
    if marker.exists():
        return
    print("generating inputs in", DATA, file=sys.stderr)
    rng = np.random.default_rng(2021)
    n = 10_000_000
    y = rng.normal(size=n).astype(np.float32)
    pred = (y + rng.normal(scale=0.5, size=n)).astype(np.float32)
    write_csv(DATA / "reg_pred_10m.csv", {"pred": pred})
    write_csv(DATA / "reg_y_10m.csv", {"y": y})
    np.save(DATA / "reg_pred_10m.npy", pred)
    np.save(DATA / "reg_y_10m.npy", y)
    write_csv(DATA / "reg_pred_100.csv", {"pred": pred[:100]})
    write_csv(DATA / "reg_y_100.csv", {"y": y[:100]})
    m, c = 1_000_000, 10
    labels = rng.integers(0, c, m)
    logits = rng.normal(size=(m, c)).astype(np.float32)
    logits[np.arange(m), labels] += 1.5
    write_csv(DATA / "cls_logits_1m.csv", {f"c{j}": logits[:, j] for j in range(c)})
    write_csv(DATA / "cls_y_1m.csv", {"y": labels})
    write_csv(DATA / "cls_logits_100.csv", {f"c{j}": logits[:100, j] for j in range(c)})
    write_csv(DATA / "cls_y_100.csv", {"y": labels[:100]})
    for k in range(5):
        noisy = (y[:1_000_000] + rng.normal(scale=0.3 + 0.1 * k, size=1_000_000)).astype(np.float32)
        write_csv(DATA / f"model_{k}_1m.csv", {"pred": noisy})
    write_csv(DATA / "cmp_y_1m.csv", {"y": y[:1_000_000]})
    marker.touch()


def run(argv: list[str], capture: bool = False) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and (with ``capture``) stdout of one child process.

    Timed runs write to /dev/null: read into this process, a large output (the
    JSON case's 140 MB) would swell it, and Linux counts the memory a child
    had before ``exec`` in the child's peak.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    out = proc.stdout.read() if capture else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, out


def losscli_argv(case: Case, *extra: str) -> list[str]:
    return [LOSSCLI, "compute", case.loss, str(DATA / case.pred), str(DATA / case.labels), *case.extra, *extra]


def script_argv(case: Case) -> list[str]:
    return [sys.executable, "-c", SCRIPT, case.loss, str(DATA / case.pred), str(DATA / case.labels)]


def check_in_child(case: Case) -> None:
    """``check_agreement`` in a fresh process, so that its JSON never swells this one."""
    subprocess.run([sys.executable, __file__, "--check", case.name], check=True)


def check_agreement(case: Case) -> None:
    """losscli's JSON value equals the script's (1e-5 relative) and so does the gradient norm (1e-2: the
    script sums 10M squares in float32, losscli in float64)."""
    _, _, out = run(losscli_argv(case, "-f", "json"), capture=True)
    result = json.loads(out)
    value, norm = result["value"], result["gradients"][next(iter(result["gradients"]))]["norm"]
    _, _, printed = run(script_argv(case), capture=True)
    ref_value, ref_norm = map(float, printed.split())
    if not (np.isclose(value, ref_value, rtol=1e-5) and np.isclose(norm, ref_norm, rtol=1e-2)):
        raise SystemExit(f"{case.name}: losscli {value} / {norm} != script {ref_value} / {ref_norm}")


def measure(argvs: dict[str, list[str]], repeats: int) -> dict[str, tuple[float, float]]:
    """Median wall time and median peak memory per command, the commands alternating."""
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in argvs}
    for _ in range(repeats):
        for key, argv in argvs.items():
            wall, rss, _ = run(argv)
            samples[key].append((wall, rss))
    return {k: (statistics.median(w for w, _ in v), statistics.median(m for _, m in v)) for k, v in samples.items()}


CASES = [
    Case("mse, 100-row CSV pair", "mse", "reg_pred_100.csv", "reg_y_100.csv"),
    Case("mse, 10M-row CSV pair", "mse", "reg_pred_10m.csv", "reg_y_10m.csv"),
    Case("mse, 10M-row NPY pair", "mse", "reg_pred_10m.npy", "reg_y_10m.npy", script=False),
    Case(
        "mse, 10M-row CSV pair streamed (--chunk-size 1000000)",
        "mse",
        "reg_pred_10m.csv",
        "reg_y_10m.csv",
        extra=("--chunk-size", "1000000"),
    ),
    Case(
        "mse, 10M-row CSV pair, -f json (every gradient value)",
        "mse",
        "reg_pred_10m.csv",
        "reg_y_10m.csv",
        extra=("-f", "json"),
        script=False,
    ),
    Case("cross_entropy, 100 x 10 logits CSV", "cross_entropy", "cls_logits_100.csv", "cls_y_100.csv"),
    Case("cross_entropy, 1M x 10 logits CSV", "cross_entropy", "cls_logits_1m.csv", "cls_y_1m.csv"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    parser.add_argument("--check", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check:
        check_agreement(next(case for case in CASES if case.name == args.check))
        return
    generate()
    rows = []
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        argvs = {"losscli": losscli_argv(case)}
        if case.script:
            check_in_child(case)
            argvs["script"] = script_argv(case)
        rows.append((case.name, measure(argvs, args.repeats)))
    compare_argv = [LOSSCLI, "compare", *(str(DATA / f"model_{k}_1m.csv") for k in range(5))]
    compare_argv += ["--labels", str(DATA / "cmp_y_1m.csv"), "-l", "mse,l1,smooth_l1,huber"]
    one_argv = [LOSSCLI, "compute", "mse", str(DATA / "model_0_1m.csv"), str(DATA / "cmp_y_1m.csv"), "--no-grad"]
    if not args.only or args.only in "compare":
        rows.append(
            (
                "compare 5 models x 4 losses, 1M rows (vs one compute)",
                measure({"losscli": compare_argv, "script": one_argv}, args.repeats),
            )
        )
    print(
        f"{'case':58} {'losscli s':>9} {'script s':>9} {'ratio':>6} {'losscli MiB':>11} {'script MiB':>10} {'ratio':>6}"
    )
    for name, result in rows:
        wall, rss = result["losscli"]
        if "script" in result:
            s_wall, s_rss = result["script"]
            print(
                f"{name:58} {wall:9.2f} {s_wall:9.2f} {wall / s_wall:6.2f} {rss:11.0f} {s_rss:10.0f} {rss / s_rss:6.2f}"
            )
        else:
            print(f"{name:58} {wall:9.2f} {'':>9} {'':>6} {rss:11.0f}")


if __name__ == "__main__":
    main()
