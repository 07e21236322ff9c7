"""Issue 12: the conventions of a polished CLI — scripting outputs, the warnings policy, standard options,
and a `compare` that names its models, keeps going past a bad one and compares one loss at several settings.

Values are checked against numpy formulas and torch.nn.functional, never against losscli's own output.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import os

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO

SAMPLES = REPO / "sample_data"
PRED, LABELS = str(SAMPLES / "regression_pred.csv"), str(SAMPLES / "regression_labels.csv")


def _column(path: str) -> np.ndarray:
    return pd.read_csv(path, comment="#").iloc[:, 0].to_numpy(np.float64)


def _huber(pred: np.ndarray, y: np.ndarray, delta: float) -> float:
    """Huber's loss (torch's HuberLoss, mean reduction) written out in numpy."""
    r = np.abs(pred - y)
    return float(np.mean(np.where(r < delta, 0.5 * r**2, delta * (r - 0.5 * delta))))


# --- -f value / --value-only -----------------------------------------------------------------------


@pytest.mark.parametrize("option", [["-f", "value"], ["--format", "value"], ["--value-only"]])
def test_value_alone_is_the_reduced_loss(invoke, option):
    p, y = _column(PRED), _column(LABELS)
    result = invoke(["compute", "mse", PRED, LABELS, *option, "--dtype", "float64"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 1  # `x=$(losscli compute … -f value)` gets one number
    assert float(result.stdout) == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    result = invoke(["compute", "l2", PRED, LABELS, *option])  # float32, reduction sum by default
    assert float(result.stdout) == pytest.approx(np.sum((p - y) ** 2), rel=1e-6)


def test_value_alone_refuses_what_has_no_single_value(expect_error):
    expect_error(["compute", "mse", PRED, LABELS, "-f", "value", "--reduction", "none"], 2, "--reduction")
    expect_error(["compute", "mse", PRED, LABELS, "--value-only", "-f", "json"], 2, "--value-only")


def test_value_alone_still_writes_grad_out(invoke, tmp_path):
    out = tmp_path / "g.npy"
    result = invoke(["compute", "mse", PRED, LABELS, "-f", "value", "--grad-out", out, "--dtype", "float64"])
    assert result.exit_code == 0, result.stderr
    p, y = _column(PRED), _column(LABELS)
    np.testing.assert_allclose(np.load(out), 2 * (p - y) / len(p), rtol=1e-12)


# --- compute names its inputs -------------------------------------------------------------------------


def test_compute_json_names_files_columns_and_shapes(invoke_json, write_file):
    data = invoke_json(["compute", "mse", PRED, LABELS])
    assert data["inputs"] == {
        "input": {"path": PRED, "columns": ["pred"], "shape": [20]},
        "target": {"path": LABELS, "columns": ["y"], "shape": [20]},
    }
    logits = np.arange(12.0).reshape(4, 3)
    npy = write_file("logits.npy", logits)
    both = write_file("both.csv", ["a,b,c,y", *(f"{r[0]},{r[1]},{r[2]},{i % 3}" for i, r in enumerate(logits))])
    data = invoke_json(["compute", "ce", npy, write_file("y.csv", ["y", 0, 1, 2, 0])])
    assert data["inputs"]["input"] == {"path": npy, "columns": None, "shape": [4, 3]}
    data = invoke_json(["compute", "ce", both, "--label-col", "y"])
    assert data["inputs"] == {
        "input": {"path": both, "columns": ["a", "b", "c"], "shape": [4, 3]},
        "target": {"path": both, "columns": ["y"], "shape": [4]},
    }


def test_streamed_compute_names_the_whole_inputs(invoke_json):
    whole = invoke_json(["compute", "mse", PRED, LABELS])
    streamed = invoke_json(["compute", "mse", PRED, LABELS, "--chunk-size", "3"])
    assert streamed["inputs"] == whole["inputs"]


def test_compute_table_shows_columns_and_shapes(invoke):
    out = invoke(["compute", "cross_entropy", SAMPLES / "multiclass_logits.csv", SAMPLES / "multiclass_labels.txt"])
    flat = " ".join(out.stdout.split())
    logits = pd.read_csv(SAMPLES / "multiclass_logits.csv", comment="#")
    assert f"shape ({len(logits)},{logits.shape[1]})" in flat
    assert f"columns {', '.join(logits.columns)}" in flat


# --- one warnings policy ----------------------------------------------------------------------------


@pytest.fixture
def indexed(tmp_path):
    """Predictions and labels written by pandas with its index: every command warns that it is left out."""
    pred, labels = tmp_path / "p.csv", tmp_path / "y.csv"
    pd.DataFrame({"prediction": [0.5, 1.5, 2.0]}).to_csv(pred)
    pd.DataFrame({"y": [1.0, 1.0, 2.5]}).to_csv(labels)
    return str(pred), str(labels)


def _runs(pred: str, labels: str) -> dict[str, list[str]]:
    return {
        "compute": ["compute", "mse", pred, labels],
        "compare": ["compare", pred, "--labels", labels, "-l", "mse"],
        "recommend": ["recommend", labels, "--pred", pred],
    }


@pytest.mark.parametrize("command", ["compute", "compare", "recommend"])
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_warnings_go_to_stderr_in_every_format_and_quiet_silences_them(invoke, indexed, command, fmt):
    args = [*_runs(*indexed)[command], "-f", fmt]
    loud = invoke(args)
    assert loud.exit_code == 0, loud.stderr
    warnings = [line for line in loud.stderr.splitlines() if line.startswith("Warning: ")]
    assert any("index" in line for line in warnings), loud.stderr
    assert "Warning" not in loud.stdout or fmt == "json"
    quiet = invoke([*args, "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout == loud.stdout  # JSON keeps its "warnings" key
    if fmt == "json":
        import json

        assert any("index" in w for w in json.loads(quiet.stdout)["warnings"])


@pytest.mark.parametrize("command", ["compute", "compare", "recommend"])
def test_strict_turns_a_warning_into_exit_3_after_the_result(invoke, indexed, command):
    args = _runs(*indexed)[command]
    result = invoke([*args, "--strict", "-f", "json"])
    assert result.exit_code == 3
    assert result.stdout.startswith("{")  # the result is still printed
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("Error: --strict") and any(line.startswith("Warning: ") for line in lines)
    quiet = invoke([*args, "--strict", "-q"])  # quiet hides the lines, strict still fails
    assert quiet.exit_code == 3 and quiet.stderr.startswith("Error: --strict")


def test_strict_passes_without_warnings(invoke):
    result = invoke(["compute", "mse", PRED, LABELS, "--strict"])
    assert result.exit_code == 0 and result.stderr == ""


# --- standard options -----------------------------------------------------------------------------


def test_version(invoke):
    for option in ("--version", "-V"):
        result = invoke([option])
        assert result.exit_code == 0
        assert result.stdout == f"losscli {importlib.metadata.version('losscli')}\n"


@pytest.mark.parametrize("command", [[], ["list"], ["info"], ["compute"], ["compare"], ["recommend"], ["curve"]])
def test_h_is_help(invoke, command):
    short, long = invoke([*command, "-h"]), invoke([*command, "--help"])
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout and "Usage" in short.stdout
    assert not [line for line in short.stdout.splitlines() if line != line.rstrip()]  # no padding to the width


def test_color_option_and_no_color(invoke, monkeypatch):
    args = ["compute", "mse", PRED, LABELS, "--rows", "2"]
    assert "\x1b[" not in invoke(args).stdout  # auto: no terminal, no colour
    assert "\x1b[" in invoke([*args, "--color", "always"]).stdout
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" not in invoke([*args, "--color", "never"]).stdout
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" in invoke([*args, "--color", "always"]).stdout  # the option outranks the variable
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich: treat the output as a terminal
    assert "\x1b[" not in invoke(args).stdout
    result = invoke([*args, "--color", "blue"])
    assert result.exit_code == 2 and "--color" in result.stderr


# --- compare: which model is which --------------------------------------------------------------------


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """Four training runs whose prediction files differ only in the learning rate inside a long path."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(12)
    y = rng.normal(size=50)
    pd.DataFrame({"y": y}).to_csv("labels.csv", index=False)
    paths = {}
    for lr, noise in (("0.1", 1.0), ("0.01", 0.5), ("0.001", 0.25), ("0.0001", 2.0)):
        path = tmp_path / "runs" / f"exp_2026_11_lr{lr}_batch256_seed7" / "preds.csv"
        path.parent.mkdir(parents=True)
        pd.DataFrame({"pred": y + noise * rng.normal(size=50)}).to_csv(path, index=False)
        paths[lr] = os.path.relpath(path, tmp_path)
    return y, paths


@pytest.mark.parametrize("width", [60, 80, 200])
def test_compare_rows_say_which_model_is_which(runner, runs, width):
    from losscli.cli import app

    y, paths = runs
    result = runner.invoke(app, ["compare", *paths.values(), "--labels", "labels.csv", "-l", "mse,l1"],
                           env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    rows = [line.split("│")[1].strip() for line in lines if line.startswith("│")]
    assert rows == [f"lr{lr}" for lr in paths]  # what differs between the paths, whole
    for lr, path in paths.items():  # and the full names once, under the table
        assert any(line.split() == [f"lr{lr}", path] for line in lines)
    for line, lr in zip([line for line in lines if line.startswith("│")], paths, strict=True):
        pred = pd.read_csv(paths[lr])["pred"].to_numpy()
        shown = float(line.split("│")[2].replace("*", ""))
        assert shown == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)


def test_name_labels_a_model_and_may_add_it(invoke_json, expect_error, runs):
    y, paths = runs
    data = invoke_json(["compare", paths["0.1"], "--name", f"fast={paths['0.1']}", "--name", f"slow={paths['0.001']}",
                        "--labels", "labels.csv", "-l", "mse", "--baseline", "slow"])
    assert [(row["pred"], row["name"]) for row in data["rows"]] == [(paths["0.1"], "fast"), (paths["0.001"], "slow")]
    assert data["baseline"] == paths["0.001"]
    expect_error(["compare", "--name", f"a={paths['0.1']}", "--name", f"a={paths['0.01']}", "--labels", "labels.csv"],
                 2, "'a'")
    expect_error(["compare", "--name", "nopath", "--labels", "labels.csv"], 2, "NAME=PATH")
    expect_error(["compare", "--labels", "labels.csv"], 2, "PRED")


def test_a_model_named_twice_is_one_model(invoke_json, runs, tmp_path):
    y, paths = runs
    path = paths["0.1"]
    os.symlink(os.path.abspath(path), "link.csv")
    data = invoke_json(["compare", path, f"./{path}", os.path.abspath(path), "link.csv", "--labels", "labels.csv",
                        "-l", "mse"])
    assert [row["pred"] for row in data["rows"]] == [path]


def test_single_file_models_are_named_by_column(invoke, in_samples_dir):
    result = invoke(["compare", "models.csv", "--label-col", "y", "-l", "mse", "--name", "A=model_a"])
    assert result.exit_code == 0, result.stderr
    rows = [line.split("│")[1].strip() for line in result.stdout.splitlines() if line.startswith("│")]
    frame = pd.read_csv("models.csv")
    columns = [c for c in frame.select_dtypes("number").columns if c != "y"]  # region holds text: no model
    assert rows == ["A", *columns[1:]]


@pytest.fixture
def in_samples_dir(monkeypatch):
    monkeypatch.chdir(SAMPLES)


# --- compare keeps going --------------------------------------------------------------------------------


def test_compare_keeps_going_past_bad_models(invoke, write_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    y = np.array([0.0, 1.0, 2.0, 3.0])
    good = write_file("good.csv", ["p", 0.5, 1.0, 2.5, 3.0])
    bad = write_file("bad.csv", ["p", 0.5, "oops", 2.5, 3.0])
    short = write_file("short.csv", ["p", 0.5, 1.0])
    labels = write_file("y.csv", ["y", *y])
    args = ["compare", good, bad, short, "missing.csv", "--labels", labels, "-l", "mse,l1"]
    result = invoke(args)
    assert result.exit_code == 3
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("│")}
    assert set(rows) == {"good", "bad", "short", "missing"}
    expected = np.mean((np.array([0.5, 1, 2.5, 3]) - y) ** 2)
    assert float(rows["good"].split("│")[2].replace("*", "")) == pytest.approx(expected)
    for name in ("bad", "short", "missing"):
        assert rows[name].split("│")[2].strip() == "error"
    errors = result.stderr.splitlines()
    assert len(errors) == 3 and all(line.startswith("Error: ") for line in errors)
    assert "bad.csv" in errors[0] and "row 2" in errors[0]
    assert "short.csv" in errors[1] and "(2,)" in errors[1] and "more loss" in errors[1]
    assert "missing.csv" in errors[2]
    data = invoke([*args, "-f", "json"])
    assert data.exit_code == 3
    import json

    document = json.loads(data.stdout)
    assert document["failed"] == [bad, short, "missing.csv"]
    assert document["best"] == {"mse": good, "l1": good}
    by_pred = {row["pred"]: row for row in document["rows"]}
    assert by_pred[bad]["values"] == {"mse": None, "l1": None} and "row 2" in by_pred[bad]["errors"]["mse"]
    assert "errors" not in by_pred[good]
    rows = list(csv.reader(io.StringIO(invoke([*args, "-f", "csv"]).stdout)))
    assert [r[2] for r in rows[1:]] == [repr(document["rows"][0]["values"]["mse"]), "", "", ""]


def test_a_loss_that_is_not_finite_is_an_error_cell(invoke_json, invoke, write_file):
    labels = write_file("y.npy", np.array([0.0, 1.0], dtype=np.float32))
    fine = write_file("fine.npy", np.array([0.0, 2.0], dtype=np.float32))
    huge = write_file("huge.npy", np.array([3e38, 1.0], dtype=np.float32))  # squared: past float32
    result = invoke(["compare", fine, huge, "--labels", labels, "-l", "mse,l1", "-f", "json"])
    assert result.exit_code == 3
    assert "huge.npy under mse: the loss is inf" in result.stderr
    import json

    rows = {row["name"]: row for row in json.loads(result.stdout)["rows"]}
    assert rows["huge"]["values"]["mse"] is None
    assert rows["huge"]["values"]["l1"] == pytest.approx(np.float32(3e38) / 2, rel=1e-6)
    assert rows["fine"]["values"]["mse"] == pytest.approx(0.5)


# --- one loss at several settings -------------------------------------------------------------------------


def test_one_loss_at_several_settings_is_several_columns(invoke_json, invoke):
    p, y = _column(PRED), _column(LABELS)
    args = ["compare", PRED, "--labels", LABELS, "--dtype", "float64"]
    data = invoke_json([*args, "-l", "huber:delta=1", "-l", "huber:delta=5,mse", "-l", "huber", "-p", "delta=2"])
    assert data["losses"] == ["huber:delta=1", "huber:delta=5", "mse", "huber"]
    values = data["rows"][0]["values"]
    assert values["huber:delta=1"] == pytest.approx(_huber(p, y, 1.0), rel=1e-12)
    assert values["huber:delta=5"] == pytest.approx(_huber(p, y, 5.0), rel=1e-12)
    assert values["huber"] == pytest.approx(_huber(p, y, 2.0), rel=1e-12)  # -p where the column sets nothing
    assert values["mse"] == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    tp, ty = torch.tensor(p), torch.tensor(y)
    assert values["huber:delta=5"] == pytest.approx(torch.nn.functional.huber_loss(tp, ty, delta=5.0).item())
    assert data["params"]["huber:delta=5"] == {"delta": 5.0}
    table = invoke([*args, "-l", "huber:delta=1,huber:delta=5"]).stdout
    assert "delta=1" in table and "delta=5" in table
    sorted_ = invoke_json([*args, "-l", "huber:delta=1,huber:delta=5", "--sort", "huber:delta=5"])
    assert sorted_["rows"][0]["pred"] == PRED
    result = invoke([*args, "-l", "huber:delta=1,huber:delta=5", "--sort", "huber"])
    assert result.exit_code == 2 and "huber:delta=1" in result.stderr


def test_list_values_in_a_column_setting(invoke_json, write_file):
    logits = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.5], [0.2, 0.1, 0.0]])
    y = np.array([0, 1, 2])
    pred = write_file("logits.npy", logits)
    labels = write_file("y.npy", y)
    data = invoke_json(["compare", pred, "--labels", labels, "-l", "ce,ce:weight=[1,2,3]", "--dtype", "float64"])
    values = data["rows"][0]["values"]
    weighted = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y),
                                                 weight=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert values["cross_entropy:weight=[1,2,3]"] == pytest.approx(weighted.item(), rel=1e-12)
    assert values["cross_entropy"] == pytest.approx(
        torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(y)).item(), rel=1e-12
    )


def test_compare_table_drops_loss_columns_rather_than_cut_numbers(runner):
    from losscli.cli import app

    losses = "mse,l1,smooth_l1,huber:delta=0.25,huber:delta=4,log_cosh,poisson_nll:log_input=true"
    result = runner.invoke(app, ["compare", PRED, str(SAMPLES / "regression_pred_b.csv"), "--labels", LABELS,
                                 "-l", losses], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "…" not in "".join(line for line in lines if line.startswith("│"))
    flat = " ".join(result.stdout.split())
    assert "not shown for want of width" in flat and "-f json" in flat
