"""Sharded inputs on Dask (issue 16): the same answers as the in-memory run of the concatenated files, on an
in-process LocalCluster of two worker processes, on a real `dask scheduler` and two `dask worker`s started
here, and in this process (--engine local); faults: a killed worker, an unreachable scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
# under pytest-xdist (make test), every test here runs in one worker, beside the one session LocalCluster
pytestmark = pytest.mark.xdist_group("dask")

ROWS = 6000
SHARDS = 4


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Predictions and labels, whole and as four Parquet and CSV shards of uneven sizes, with a text column."""
    root = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(16)
    frame = pd.DataFrame({"y": rng.normal(size=ROWS)})
    frame["a"] = (frame.y + rng.normal(size=ROWS)).astype(np.float32)
    frame["b"] = (frame.y + rng.normal(size=ROWS) * 0.8).astype(np.float32)
    frame["region"] = rng.choice(["north", "south", "east"], ROWS)
    frame["w"] = rng.random(ROWS)
    cuts = [0, 1000, 1001, 3500, ROWS]
    for kind in ("pred", "label", "b", "table"):
        (root / kind).mkdir()
    for i in range(SHARDS):
        part = frame.iloc[cuts[i] : cuts[i + 1]]
        part[["a"]].to_parquet(root / "pred" / f"part-{i}.parquet", index=False)
        part[["b"]].to_parquet(root / "b" / f"part-{i}.parquet", index=False)
        part[["y", "region", "w"]].to_parquet(root / "label" / f"part-{i}.parquet", index=False)
        part.to_csv(root / "table" / f"part-{i}.csv", index=False)
    frame[["a"]].to_parquet(root / "pred.parquet", index=False)
    frame[["b"]].to_parquet(root / "b.parquet", index=False)
    frame[["y", "region", "w"]].to_parquet(root / "label.parquet", index=False)
    frame.to_csv(root / "table.csv", index=False)
    return root, frame


def without(document, *keys):
    return {k: v for k, v in document.items() if k not in keys}


def assert_close(found, expected, rel=1e-12, path="$"):
    """The same JSON document, numbers to ``rel`` (a sum in another order moves the last digit)."""
    if isinstance(expected, dict):
        assert set(found) == set(expected), path
        for key in expected:
            assert_close(found[key], expected[key], rel, f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(found) == len(expected), path
        for i, (f, e) in enumerate(zip(found, expected, strict=True)):
            assert_close(f, e, rel, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert found == pytest.approx(expected, rel=rel, abs=1e-300), path
    else:
        assert found == expected, path


def inputs_paths(document, paths):
    document = dict(document)
    document["inputs"] = {k: {**v, "path": paths[k]} for k, v in document["inputs"].items()}
    return document


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compute_on_a_local_cluster_is_the_in_memory_run(shards, invoke_json, cluster, dtype):
    root, _ = shards
    base = ["--dtype", dtype]
    whole = invoke_json(["compute", "mse", root / "pred.parquet", root / "label.parquet", "--label-col", "y", *base])
    globs = {"input": str(root / "pred" / "part-*.parquet"), "target": str(root / "label" / "part-*.parquet")}
    found = invoke_json(
        ["compute", "mse", globs["input"], globs["target"], "--label-col", "y", *base, "--scheduler", cluster]
    )
    assert found["engine"] == {"engine": "dask", "where": f"the Dask scheduler at {cluster}", "partitions": 4}
    if dtype == "float32":  # the value is a float32: the same to the last digit
        assert found["value"] == whole["value"]
    assert_close(without(found, "engine"), inputs_paths(whole, globs))


def test_every_reduction_and_the_advisors_warnings_over_all_rows(shards, invoke_json, cluster):
    root, frame = shards
    for reduction in ("sum", "none"):
        args = [
            "compute",
            "l1",
            root / "pred" / "*.parquet",
            root / "label" / "*.parquet",
            "--label-col",
            "y",
            "--reduction",
            reduction,
        ]
        found = invoke_json([*args, "--scheduler", cluster])
        whole = invoke_json(
            [
                "compute",
                "l1",
                root / "pred.parquet",
                root / "label.parquet",
                "--label-col",
                "y",
                "--reduction",
                reduction,
            ]
        )
        assert_close(without(found, "engine", "inputs"), without(whole, "inputs"))


def test_the_advisors_warnings_are_those_of_all_rows(tmp_path, invoke_json):
    """Class imbalance across shards: 2 % positives over all rows, though one shard holds none."""
    rng = np.random.default_rng(3)
    (tmp_path / "p").mkdir()
    (tmp_path / "y").mkdir()
    y = np.zeros(5000)
    y[rng.choice(np.arange(2500, 5000), 100, replace=False)] = 1
    logits = rng.normal(size=5000)
    for i in range(2):
        pd.DataFrame({"p": logits[i * 2500 : (i + 1) * 2500]}).to_parquet(tmp_path / "p" / f"{i}.parquet")
        pd.DataFrame({"y": y[i * 2500 : (i + 1) * 2500]}).to_parquet(tmp_path / "y" / f"{i}.parquet")
    pd.DataFrame({"p": logits}).to_parquet(tmp_path / "p.parquet")
    pd.DataFrame({"y": y}).to_parquet(tmp_path / "y.parquet")
    whole = invoke_json(["compute", "bce_with_logits", tmp_path / "p.parquet", tmp_path / "y.parquet", "--no-grad"])
    found = invoke_json(
        ["compute", "bce_with_logits", tmp_path / "p", tmp_path / "y", "--no-grad", "--engine", "local"]
    )
    assert whole["warnings"] and found["warnings"] == whole["warnings"]


def test_a_sharded_table_with_both_columns_and_memory_urls(shards, invoke_json, tmp_path):
    root, frame = shards
    found = invoke_json(
        [
            "compute",
            "mse",
            str(root / "table"),
            "--label-col",
            "y",
            "--pred-col",
            "a",
            "--engine",
            "local",
            "--dtype",
            "float64",
            "--no-grad",
        ]
    )
    written = pd.read_csv(root / "table.csv")
    assert found["value"] == pytest.approx(float(np.mean((written.a - written.y) ** 2)), rel=1e-12)
    assert found["inputs"]["input"]["shape"] == [ROWS]
    import fsspec

    memory = fsspec.filesystem("memory")
    for path in sorted((root / "pred").iterdir()):
        memory.pipe(f"/losscli-test/pred/{path.name}", path.read_bytes())
    for path in sorted((root / "label").iterdir()):
        memory.pipe(f"/losscli-test/label/{path.name}", path.read_bytes())
    url = invoke_json(
        [
            "compute",
            "mse",
            "memory://losscli-test/pred",
            "memory://losscli-test/label/*.parquet",
            "--label-col",
            "y",
            "--engine",
            "local",
            "--dtype",
            "float64",
            "--no-grad",
        ]
    )
    parquet = float(np.mean((frame.a.astype(np.float64) - frame.y) ** 2))
    assert url["value"] == pytest.approx(parquet, rel=1e-12)
    assert url["inputs"]["input"]["path"] == "memory://losscli-test/pred"
    file_url = invoke_json(
        [
            "compute",
            "mse",
            f"file://{root}/pred",
            f"file://{root}/label",
            "--label-col",
            "y",
            "--engine",
            "local",
            "--dtype",
            "float64",
            "--no-grad",
        ]
    )
    assert file_url["value"] == url["value"]


def test_compare_with_intervals_slices_worst_rows_and_weights(shards, invoke_json, cluster):
    root, _ = shards
    options = ["-l", "mse,l1", "--label-col", "y", "--ci", "--by", "region", "--worst", "3", "--sample-weight", "w"]
    whole = invoke_json(
        ["compare", root / "pred.parquet", root / "b.parquet", "--labels", root / "label.parquet", *options]
    )
    found = invoke_json(
        ["compare", root / "pred", root / "b", "--labels", root / "label", *options, "--scheduler", cluster]
    )
    rename = {str(root / "pred.parquet"): str(root / "pred"), str(root / "b.parquet"): str(root / "b")}
    expected = json.loads(
        json.dumps(whole)
        .replace(str(root / "pred.parquet"), str(root / "pred"))
        .replace(str(root / "b.parquet"), str(root / "b"))
        .replace(str(root / "label.parquet"), str(root / "label"))
    )
    assert rename and found["engine"]["partitions"] == 4
    assert_close(without(found, "engine"), expected, rel=1e-9)


@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_intervals_are_those_of_one_run(shards, invoke_json, method):
    root, _ = shards
    args = ["--label-col", "y", "--ci", "--ci-method", method, "--no-grad", "--dtype", "float64"]
    whole = invoke_json(["compute", "mse", root / "pred.parquet", root / "label.parquet", *args])
    found = invoke_json(["compute", "mse", root / "pred", root / "label", *args, "--engine", "local"])
    assert found["ci"] == pytest.approx(whole["ci"], rel=1e-12)


def test_grad_out_writes_a_file_per_partition(shards, invoke_json, tmp_path, cluster):
    root, _ = shards
    whole = tmp_path / "whole.npy"
    invoke_json(
        ["compute", "mse", root / "pred.parquet", root / "label.parquet", "--label-col", "y", "--grad-out", whole]
    )
    out = tmp_path / "grads"
    found = invoke_json(
        [
            "compute",
            "mse",
            root / "pred",
            root / "label",
            "--label-col",
            "y",
            "--grad-out",
            f"{out}/",
            "--scheduler",
            cluster,
        ]
    )
    assert found["grad_files"] == [f"{out}/part-{i:05d}.npy" for i in range(4)]
    parts = np.concatenate([np.load(path) for path in found["grad_files"]])
    np.testing.assert_array_equal(parts, np.load(whole))
    assert sorted(os.listdir(tmp_path)) == ["grads", "whole.npy"]  # no staging directory left behind


def test_mismatched_shards_are_one_error(shards, tmp_path, expect_error):
    root, _ = shards
    expect_error(
        [
            "compute",
            "mse",
            root / "pred" / "part-[012].parquet",
            root / "label",
            "--label-col",
            "y",
            "--engine",
            "local",
        ],
        3,
        "different numbers of shards",
        "pred 3",
        "labels 4",
    )
    odd = tmp_path / "odd"
    odd.mkdir()
    for i, rows in enumerate([1000, 2, 2499, 2499]):
        pd.DataFrame({"a": np.zeros(rows, np.float32)}).to_parquet(odd / f"part-{i}.parquet")
    message = expect_error(["compute", "mse", odd, root / "label", "--label-col", "y", "--engine", "local"], 3)
    assert "part-1.parquet" in message and "shape (2,)" in message and "shape (1,)" in message


def test_an_unreachable_scheduler_is_one_error_within_the_timeout(shards, expect_error):
    root, _ = shards
    started = time.monotonic()
    expect_error(
        [
            "compute",
            "mse",
            root / "pred",
            root / "label",
            "--label-col",
            "y",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--scheduler-timeout",
            "2",
        ],
        3,
        "cannot reach the Dask scheduler",
        "2 s",
    )
    assert time.monotonic() - started < 15


def test_without_dask_a_sharded_input_says_how_to_install_it(shards, expect_error, monkeypatch):
    root, _ = shards
    monkeypatch.setitem(sys.modules, "distributed", None)
    expect_error(
        ["compute", "mse", root / "pred", root / "label", "--label-col", "y"], 2, "pip install 'losscli[dask]'"
    )


def test_a_real_scheduler_and_two_workers_started_from_the_shell(shards, tmp_path, invoke_json, monkeypatch):
    """`dask scheduler` and two `dask worker`s on 127.0.0.1, and the installed losscli against them."""
    root, _ = shards
    bin_dir = Path(sys.executable).parent
    scheduler_file = tmp_path / "scheduler.json"
    logs = open(tmp_path / "dask.log", "w")  # noqa: SIM115 (closed below, after the processes)
    processes = [
        subprocess.Popen(
            [
                bin_dir / "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                scheduler_file,
            ],
            stdout=logs,
            stderr=logs,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        bin_dir / "dask",
                        "worker",
                        "--scheduler-file",
                        scheduler_file,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--host",
                        "127.0.0.1",
                    ],
                    stdout=logs,
                    stderr=logs,
                )
            )
        with distributed.Client(scheduler_file=str(scheduler_file), timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        args = [
            "compute",
            "mse",
            str(root / "pred" / "part-*.parquet"),
            str(root / "label" / "part-*.parquet"),
            "--label-col",
            "y",
            "-f",
            "json",
        ]
        runs = [  # the installed console script, and DASK_SCHEDULER_ADDRESS in this process
            subprocess.run(
                [bin_dir / "losscli", *args, "--scheduler", str(scheduler_file)],
                capture_output=True,
                text=True,
                timeout=120,
            )
        ]
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
        by_environment = invoke_json(args[:-2])
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(30)
        logs.close()
    expected = invoke_json(["compute", "mse", root / "pred.parquet", root / "label.parquet", "--label-col", "y"])
    found = [json.loads(run.stdout) for run in runs if run.returncode == 0 and run.stderr == ""]
    assert len(found) == len(runs), [(run.returncode, run.stderr) for run in runs]
    for document in [*found, by_environment]:
        assert document["engine"]["where"].startswith("the Dask scheduler")
        assert document["value"] == expected["value"]
        assert_close(without(document, "engine", "inputs"), without(expected, "inputs"))


def test_the_default_is_a_local_cluster_of_threads(shards, invoke_json, monkeypatch):
    root, _ = shards
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    found = invoke_json(["compute", "mse", root / "pred", root / "label", "--label-col", "y", "--no-grad"])
    assert found["engine"]["where"] == f"a local Dask cluster of {os.cpu_count()} worker threads"
    whole = invoke_json(
        ["compute", "mse", root / "pred.parquet", root / "label.parquet", "--label-col", "y", "--no-grad"]
    )
    assert found["value"] == whole["value"]


def test_a_killed_worker_never_gives_a_wrong_value(shards, tmp_path, cluster):
    """Kill one of the two workers while the partitions run: the run completes with the exact value (Dask runs
    the lost tasks again), or ends with one error; never another value. (Last: the cluster restarts the worker.)"""
    from losscli import api
    from losscli.errors import DataError

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(size=1_600_000).astype(np.float32), "y": rng.normal(size=1_600_000)})
    many, labels = tmp_path / "many", tmp_path / "labels"
    many.mkdir()
    labels.mkdir()
    for i in range(80):
        part = frame.iloc[i * 20_000 : (i + 1) * 20_000]
        part[["a"]].to_parquet(many / f"part-{i:02d}.parquet")
        part[["y"]].to_parquet(labels / f"part-{i:02d}.parquet")
    expected = float(np.mean((frame.a.astype(np.float64) - frame.y) ** 2))
    outcome = {}

    def run():
        try:
            found = api.run_compute(
                "mse", str(many), str(labels), label_cols=["y"], dtype="float64", scheduler=cluster, grad=False
            )
            outcome["value"] = found.value
        except DataError as e:  # an allowed end: one error line
            outcome["error"] = e
        outcome["ended"] = time.monotonic()

    def progress(dask_scheduler):
        """(partitions done, partitions in all, the workers running one) on the scheduler."""
        tasks = [t for k, t in dask_scheduler.tasks.items() if str(k).startswith("compute_partition")]
        running = sorted({t.processing_on.address for t in tasks if t.processing_on is not None})
        return sum(t.state == "memory" for t in tasks), len(tasks), running

    killed = None
    with distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        thread = threading.Thread(target=run)
        thread.start()
        while thread.is_alive():  # kill a worker running a partition once the first partitions are done
            done, total, running = client.run_on_scheduler(progress)
            if 0 < done < total and running:
                killed = time.monotonic()
                os.kill(pids[running[0]], signal.SIGKILL)
                print(f"killed {running[0]} after {done} of {total} partitions")
                break
            time.sleep(0.002)
        thread.join(120)
    assert killed is not None, "the run ended before a partition was done: give it more partitions"
    assert not thread.is_alive() and outcome["ended"] > killed
    print(f"after the kill: {outcome.get('value', outcome.get('error'))!r}")
    if "value" in outcome:
        assert outcome["value"] == pytest.approx(expected, rel=1e-12)
