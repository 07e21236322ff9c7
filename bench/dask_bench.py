"""Sharded inputs on Dask: 100M rows as 20 Parquet shards per role, against one process and against dask.dataframe.

Run ``python bench/dask_bench.py`` (``make bench-dask``). It writes, once, under
``bench/data/shards/`` the predictions and labels (float32) as 20 shards of 5M
rows each, and the same rows as one Parquet file per role, then times
(medians of ``--repeats`` alternating runs; peak memory is the largest
process's max RSS, workers included, from ``os.wait4``):

- ``losscli compute mse`` of the one-file pair, streamed (``--chunk-size``), in one process;
- ``losscli compute mse`` of the shards on the default local Dask cluster (a worker thread per core, in the
  losscli process: its peak is the worker's);
- the same shards with ``--engine local`` (the partitions one after the other in one process);
- the plain ``dask.dataframe`` script a user would write: ``read_parquet`` both, ``((a - b) ** 2).mean()``
  (no gradient), on the same kind of local cluster.

Every run prints the same mse (checked to 1e-6 before timing). ``--rows`` and
``--shards`` make smaller or larger data sets; ``--model`` prints the timing
pieces the scaling model in bench/RESULTS.md uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BIN, DATA, LOSSCLI, measure, run  # noqa: E402  (bench/run.py, beside this file)

SCRIPT = """\
import sys
import dask.dataframe as dd
from distributed import Client, LocalCluster

if __name__ == "__main__":
    with LocalCluster(threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        a = dd.read_parquet(sys.argv[1])["pred"]
        b = dd.read_parquet(sys.argv[2])["y"]
        print(((a - b) ** 2).mean().compute())
"""


def generate(rows: int, shards: int) -> Path:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = DATA / f"shards_{rows}_{shards}"
    if (root / ".complete").exists():
        return root
    for part in ("pred", "label"):
        (root / part).mkdir(parents=True, exist_ok=True)
    print("generating", root, file=sys.stderr)
    rng = np.random.default_rng(16)
    per = rows // shards
    writers = {
        "pred": pq.ParquetWriter(root / "pred.parquet", pa.schema([("pred", pa.float32())])),
        "label": pq.ParquetWriter(root / "label.parquet", pa.schema([("y", pa.float32())])),
    }
    for i in range(shards):
        y = rng.normal(size=per).astype(np.float32)
        pred = (y + rng.normal(scale=0.5, size=per)).astype(np.float32)
        for part, name, values in (("pred", "pred", pred), ("label", "y", y)):
            table = pa.table({name: values})
            pq.write_table(table, root / part / f"part-{i:02d}.parquet", row_group_size=1 << 20)
            writers[part].write_table(table, row_group_size=1 << 20)
    for writer in writers.values():
        writer.close()
    (root / ".complete").touch()
    return root


def model(root: Path) -> None:
    """The pieces of the scaling model: a partition's task alone, the scheduler's cost per task, the size and
    round trip of a partition's result."""
    import pickle
    import statistics
    import time

    import distributed

    from losscli.engine.partitions import ComputeTask, compute_partition

    shard = sorted((root / "pred").glob("*.parquet"))[0]
    label = sorted((root / "label").glob("*.parquet"))[0]
    files = dict(pred_cols=None, label_cols=None, pred_key=None, label_key=None, dtype="float32", header=None)
    task = ComputeTask("mse", {}, "mean", True, "float32", 10, str(shard), str(label), {}, files)
    compute_partition(task)  # torch and the readers imported, the shard in the page cache
    times = []
    for _ in range(5):
        start = time.perf_counter()
        partial = compute_partition(task)
        times.append(time.perf_counter() - start)
    size = len(pickle.dumps(partial))
    print(f"one partition (5M rows, mse with gradient): {statistics.median(times):.3f} s; its result {size} bytes")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.gather(client.map(abs, range(100)))
        start = time.perf_counter()
        client.gather(client.map(abs, range(2000), pure=False))
        per_task = (time.perf_counter() - start) / 2000
        blob = pickle.dumps(partial)
        start = time.perf_counter()
        for _ in range(50):
            client.gather(client.submit(pickle.loads, blob, pure=False))
        round_trip = (time.perf_counter() - start) / 50
    print(f"scheduler: {1000 * per_task:.2f} ms per task (2000 no-op tasks, 2 worker processes)")
    print(f"a result's round trip (submit, run, gather {size} bytes): {1000 * round_trip:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--shards", type=int, default=20)
    parser.add_argument("--model", action="store_true", help="print the scaling model's pieces instead")
    args = parser.parse_args()
    root = generate(args.rows, args.shards)
    if args.model:
        model(root)
        return
    script = DATA / "dask_script.py"
    script.write_text(SCRIPT)
    shards = [str(root / "pred" / "*.parquet"), str(root / "label" / "*.parquet")]
    argvs = {
        "one process, streamed": [
            LOSSCLI,
            "compute",
            "mse",
            str(root / "pred.parquet"),
            str(root / "label.parquet"),
            "--chunk-size",
            "1000000",
        ],
        "shards, local Dask cluster": [LOSSCLI, "compute", "mse", *shards],
        "shards, --engine local": [LOSSCLI, "compute", "mse", *shards, "--engine", "local"],
        "dask.dataframe script": [str(BIN / "python"), str(script), str(root / "pred"), str(root / "label")],
    }
    values = {}
    for key, argv in argvs.items():
        # -f value, not -f json: the JSON of 100M rows holds every gradient value, and a parent swollen by
        # reading it would pass its peak memory on to the timed children (Linux counts it before exec)
        _, _, out = run(argv + (["-f", "value"] if argv[0] == LOSSCLI else []), capture=True)
        values[key] = float(out.strip().splitlines()[-1])
    assert max(values.values()) - min(values.values()) <= 1e-6 * abs(min(values.values())), values
    found = measure(argvs, args.repeats)
    base_wall, base_rss = found["one process, streamed"]
    print(f"mse of {args.rows:,} rows in {args.shards} Parquet shards per role; medians of {args.repeats} runs")
    print(f"{'command':30} {'wall s':>8} {'ratio':>7} {'peak MiB':>9}")
    for key, (wall, rss) in found.items():
        print(f"{key:30} {wall:8.2f} {wall / base_wall:6.2f}x {rss:9.0f}")
    script_wall = found["dask.dataframe script"][0]
    print(f"local Dask cluster / dask.dataframe script: {found['shards, local Dask cluster'][0] / script_wall:.2f}x")


if __name__ == "__main__":
    main()
