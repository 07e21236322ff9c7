"""The command line (SPEC §2–§4): `losscli compute` end to end, its input forms, and its errors.

Nearly everything runs in-process through ``typer.testing.CliRunner`` (torch
loads once per test session); a few tests run the installed console script in
a subprocess, as users and shell pipelines do.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The SPEC §3 example: mse of these predictions against these labels.
PRED = [1, 2, 3, 4]
LABELS = [0.5, 3, 2, 4.5]
SPEC_GRADIENT = [0.25, -0.5, 0.5, -0.25]

LOGITS = [[0.1, 0.2, 0.3], [1, 2, 3], [-1, 0, 1], [0.5, -0.5, 2]]
CLASSES = [0, 2, 1, 2]

REQUIRED_KEYS = {
    "loss",
    "torch_name",
    "reduction",
    "params",
    "n_samples",
    "value",
    "values",
    "gradients",
    "warnings",
}


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


@pytest.fixture
def spec_files(write_file):
    """PRED and LABELS of the SPEC example as header-less CSV files."""
    return write_file("pred.csv", PRED), write_file("labels.csv", LABELS)


@pytest.fixture
def class_files(write_file):
    """Logits (N, 3) and class indices (N,) as CSV files."""
    return write_file("logits.csv", LOGITS), write_file("classes.csv", CLASSES)


@pytest.fixture
def ranking_files(write_file):
    """margin_ranking inputs: input1, input2 and ±1 targets."""
    return (
        write_file("s1.csv", [1, 2, 3, 4]),
        write_file("s2.csv", [2, 2, 2, 2]),
        write_file("y.csv", [1, -1, 1, -1]),
    )


def table_rows(stdout: str) -> list[str]:
    """The body rows of the Rich tables in ``stdout`` (lines that start with a vertical bar)."""
    return [line for line in stdout.splitlines() if line.startswith("│")]


# --- compute: happy paths -------------------------------------------------------------------


def test_spec_example_json(invoke_json, spec_files):
    out = invoke_json(["compute", "mse", *spec_files])
    assert set(out) >= REQUIRED_KEYS
    assert out["loss"] == "mse"
    assert out["torch_name"] == "MSELoss"
    assert out["reduction"] == "mean"
    assert out["params"] == {}
    assert out["n_samples"] == 4
    assert out["value"] == pytest.approx(0.625)
    assert out["values"] is None
    assert out["warnings"] == []
    assert set(out["gradients"]) == {"input"}
    grad = out["gradients"]["input"]
    assert grad["shape"] == [4]
    assert grad["values"] == pytest.approx(SPEC_GRADIENT)
    assert grad["norm"] == pytest.approx(0.7906, abs=1e-4)
    assert grad["mean"] == pytest.approx(0.0)
    assert grad["min"] == pytest.approx(-0.5)
    assert grad["max"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("typed", "canonical", "torch_name"),
    [
        ("MSELoss", "mse", "MSELoss"),
        ("mse", "mse", "MSELoss"),
        ("Mean-Squared-Error", "mse", "MSELoss"),
        ("Cross-Entropy", "cross_entropy", "CrossEntropyLoss"),
        ("ce", "cross_entropy", "CrossEntropyLoss"),
        ("CrossEntropyLoss", "cross_entropy", "CrossEntropyLoss"),
        ("CROSS_ENTROPY", "cross_entropy", "CrossEntropyLoss"),
    ],
)
def test_alias_reports_the_canonical_name(invoke_json, spec_files, class_files, typed, canonical, torch_name):
    files = class_files if canonical == "cross_entropy" else spec_files
    out = invoke_json(["compute", typed, *files])
    assert out["loss"] == canonical
    assert out["torch_name"] == torch_name


def test_reduction_none_nests_values_like_torch(invoke_json, write_file):
    pred = [[1, 2], [3, 4], [5, 6]]
    labels = [[1, 1], [3, 3], [5, 5]]
    out = invoke_json(["compute", "mse", write_file("p.csv", pred), write_file("y.csv", labels), "--reduction", "none"])
    assert out["reduction"] == "none"
    assert out["value"] is None
    assert out["values"] == [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    # for none, the gradient is that of the sum of the values: 2 (x - y)
    grad = out["gradients"]["input"]
    assert grad["shape"] == [3, 2]
    assert grad["values"] == [[0.0, 2.0], [0.0, 2.0], [0.0, 2.0]]


def test_reduction_none_cross_entropy_gives_one_value_per_sample(invoke_json, class_files):
    out = invoke_json(["compute", "cross_entropy", *class_files, "--reduction", "none", "--no-grad"])
    expected = -log_softmax(LOGITS)[np.arange(len(CLASSES)), CLASSES]
    assert out["values"] == pytest.approx(expected.tolist(), rel=1e-6)
    assert out["n_samples"] == len(CLASSES)


def test_no_grad_gives_empty_gradients(invoke_json, spec_files):
    out = invoke_json(["compute", "mse", *spec_files, "--no-grad"])
    assert out["gradients"] == {}
    assert out["value"] == pytest.approx(0.625)


def test_csv_format(invoke, spec_files):
    result = invoke(["compute", "mse", *spec_files, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["quantity", "index", "value"]
    by_quantity: dict[str, list[tuple[str, float]]] = {}
    for quantity, index, value in rows[1:]:
        by_quantity.setdefault(quantity, []).append((index, float(value)))
    assert by_quantity["value"] == [("", pytest.approx(0.625))]
    grads = by_quantity["grad_input"]
    assert [i for i, _ in grads] == ["0", "1", "2", "3"]
    assert [v for _, v in grads] == pytest.approx(SPEC_GRADIENT)


def test_csv_format_reduction_none(invoke, spec_files):
    result = invoke(["compute", "mse", *spec_files, "-f", "csv", "--reduction", "none", "--no-grad"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["quantity"] for r in rows] == ["values"] * 4
    assert [float(r["value"]) for r in rows] == pytest.approx([0.25, 1.0, 1.0, 0.25])


def test_table_output_shows_the_value(invoke, spec_files):
    result = invoke(["compute", "mse", *spec_files])
    assert result.exit_code == 0, result.stderr
    assert "0.625" in result.stdout
    assert "mse" in result.stdout
    assert "MSELoss" in result.stdout
    assert result.stderr == ""


def test_rows_limits_the_table_but_not_json(invoke, invoke_json, spec_files):
    full = invoke(["compute", "mse", *spec_files])
    assert len(table_rows(full.stdout)) == 4
    limited = invoke(["compute", "mse", *spec_files, "--rows", "2"])
    assert limited.exit_code == 0, limited.stderr
    assert len(table_rows(limited.stdout)) == 2
    out = invoke_json(["compute", "mse", *spec_files, "--rows", "2"])
    assert out["gradients"]["input"]["values"] == pytest.approx(SPEC_GRADIENT)


def _read_gradient_file(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".npy":
        return {"input": np.load(path)}
    if path.suffix == ".npz":
        with np.load(path) as archive:
            return {k: archive[k] for k in archive.files}
    with path.open() as f:
        header = next(csv.reader(f))
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name.removeprefix("grad_"): table[:, j] for j, name in enumerate(header)}


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".npz"])
def test_grad_out_holds_the_json_gradient(invoke_json, spec_files, tmp_path, suffix):
    target = tmp_path / f"g{suffix}"
    out = invoke_json(["compute", "mse", *spec_files, "--grad-out", target])
    written = _read_gradient_file(target)
    assert set(written) == {"input"}
    np.testing.assert_allclose(written["input"], out["gradients"]["input"]["values"], rtol=1e-6)


def test_grad_out_npz_and_csv_hold_every_gradient(invoke_json, ranking_files, tmp_path):
    s1, s2, y = ranking_files
    for suffix in (".npz", ".csv"):
        target = tmp_path / f"g{suffix}"
        out = invoke_json(["compute", "margin_ranking", s1, y, "--input", f"input2={s2}", "--grad-out", target])
        written = _read_gradient_file(target)
        assert set(written) == {"input1", "input2"}
        for name in ("input1", "input2"):
            np.testing.assert_allclose(written[name], out["gradients"][name]["values"])


def test_grad_out_npy_refused_for_two_gradients(expect_error, ranking_files, tmp_path):
    s1, s2, y = ranking_files
    before = set(os.listdir(tmp_path))
    target = tmp_path / "g.npy"
    expect_error(
        ["compute", "margin_ranking", s1, y, "--input", f"input2={s2}", "--grad-out", target],
        2,
        "g.npy",
        ".npz",
    )
    assert set(os.listdir(tmp_path)) == before


def test_grad_out_not_written_when_the_data_is_bad(expect_error, write_file, tmp_path):
    target = tmp_path / "g.npy"
    bad = write_file("bad.csv", "pred\n1\nnan\n3\n4\n")
    expect_error(["compute", "mse", bad, write_file("y.csv", LABELS), "--grad-out", target], 3, "bad.csv")
    assert not target.exists()
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".g.npy")]


def test_dtype_float64_is_exact(invoke_json, write_file):
    x = np.array([0.1, 0.2, 0.3, 0.7])
    y = np.array([0.7, 0.5, 0.11, 0.123456789])
    files = [write_file("p.csv", x.tolist()), write_file("y.csv", y.tolist())]
    expected = float(np.mean((x - y) ** 2))
    out64 = invoke_json(["compute", "mse", *files, "--dtype", "float64"])
    assert out64["value"] == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(out64["gradients"]["input"]["values"], 2 * (x - y) / 4, rtol=1e-14)
    out32 = invoke_json(["compute", "mse", *files])
    assert out32["value"] == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_class_weights(invoke_json, class_files):
    out = invoke_json(["compute", "cross_entropy", *class_files, "-p", "weight=[1,2,0.5]", "--dtype", "float64"])
    assert out["params"] == {"weight": [1.0, 2.0, 0.5]}
    w = np.array([1, 2, 0.5])[CLASSES]
    nll = -log_softmax(LOGITS)[np.arange(len(CLASSES)), CLASSES]
    assert out["value"] == pytest.approx(float((w * nll).sum() / w.sum()), rel=1e-12)


def test_cross_entropy_label_smoothing(invoke_json, class_files):
    eps = 0.1
    out = invoke_json(["compute", "cross_entropy", *class_files, "-p", f"label_smoothing={eps}", "--dtype", "float64"])
    logp = log_softmax(LOGITS)
    n_classes = logp.shape[1]
    per_sample = (1 - eps) * -logp[np.arange(len(CLASSES)), CLASSES] + eps * -logp.sum(axis=1) / n_classes
    assert out["params"] == {"label_smoothing": eps}
    assert out["value"] == pytest.approx(float(per_sample.mean()), rel=1e-12)


def test_cross_entropy_soft_targets(invoke_json, write_file):
    probs = [[0.2, 0.3, 0.5], [1, 0, 0], [0, 0.5, 0.5], [0.1, 0.1, 0.8]]
    out = invoke_json(
        ["compute", "ce", write_file("l.csv", LOGITS), write_file("p.csv", probs), "--dtype", "float64", "--no-grad"]
    )
    expected = -(np.array(probs) * log_softmax(LOGITS)).sum(axis=1).mean()
    assert out["value"] == pytest.approx(float(expected), rel=1e-12)


def test_bce_with_logits_pos_weight(invoke_json, write_file):
    x = np.array([1.0, -2.0, 3.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    files = [write_file("x.csv", x.tolist()), write_file("y.csv", y.tolist())]
    out = invoke_json(["compute", "bce_with_logits", *files, "-p", "pos_weight=[3]", "--dtype", "float64"])
    expected = -(3 * y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x)).mean()
    assert out["params"] == {"pos_weight": [3.0]}
    assert out["value"] == pytest.approx(float(expected), rel=1e-12)


def test_triplet_margin_with_cosine_distance(invoke_json, write_file):
    rng = np.random.default_rng(0)
    a, p, n = (rng.normal(size=(5, 3)) for _ in range(3))
    files = [write_file(f"{k}.csv", v.tolist()) for k, v in (("a", a), ("p", p), ("n", n))]
    out = invoke_json(
        [
            "compute",
            "triplet_margin_with_distance",
            files[0],
            "--input",
            f"positive={files[1]}",
            "--input",
            f"negative={files[2]}",
            "-p",
            "distance=cosine",
            "--dtype",
            "float64",
        ]
    )

    def cosine_distance(u, v):
        return 1 - (u * v).sum(axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))

    expected = np.maximum(0, cosine_distance(a, p) - cosine_distance(a, n) + 1.0).mean()
    assert out["params"] == {"distance": "cosine"}
    assert out["value"] == pytest.approx(float(expected), rel=1e-9)
    assert set(out["gradients"]) == {"anchor", "positive", "negative"}


def test_l2_defaults_to_the_sum(invoke_json, spec_files):
    out = invoke_json(["compute", "l2", *spec_files])
    assert out["loss"] == "l2"
    assert out["reduction"] == "sum"
    assert out["value"] == pytest.approx(2.5)
    assert out["gradients"]["input"]["values"] == pytest.approx([1.0, -2.0, 2.0, -1.0])
    assert invoke_json(["compute", "l2", *spec_files, "--reduction", "mean"])["value"] == pytest.approx(0.625)


def test_kl_div_batchmean(invoke_json, write_file):
    q = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    p = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    files = [write_file("logq.csv", np.log(q).tolist()), write_file("p.csv", p.tolist())]
    out = invoke_json(["compute", "kl_div", *files, "--reduction", "batchmean", "--dtype", "float64"])
    assert out["reduction"] == "batchmean"
    assert out["value"] == pytest.approx(float((p * np.log(p / q)).sum() / 2), rel=1e-9)


def test_batchmean_refused_for_mse(expect_error, spec_files):
    expect_error(["compute", "mse", *spec_files, "--reduction", "batchmean"], 2, "batchmean", "mean, sum, none")


# --- compute: every input form --------------------------------------------------------------


def test_csv_with_header_and_comments(invoke_json, write_file):
    data = write_file("d.csv", "# made by hand\npred,label\n1,0.5\n# between rows\n2,3\n3,2\n4,4.5\n")
    out = invoke_json(["compute", "mse", data, "--label-col", "label"])
    assert out["value"] == pytest.approx(0.625)
    assert out["n_samples"] == 4


def test_csv_without_header(invoke_json, write_file):
    out = invoke_json(["compute", "mse", write_file("d.csv", list(zip(PRED, LABELS, strict=True))), "--label-col", "1"])
    assert out["value"] == pytest.approx(0.625)


def test_tsv(invoke_json, write_file):
    pred = write_file("p.tsv", "x\n" + "\n".join(map(str, PRED)) + "\n")
    labels = write_file("y.tsv", [(a, b) for a, b in zip(LABELS, [9] * 4, strict=True)])
    out = invoke_json(["compute", "mse", pred, labels, "--label-col", "0"])
    assert out["value"] == pytest.approx(0.625)


def test_txt_whitespace_separated(invoke_json, write_file):
    data = write_file("d.txt", "1   0.5\n2\t3\n 3 2\n4 4.5\n")
    out = invoke_json(["compute", "mse", data, "--label-col", "1"])
    assert out["value"] == pytest.approx(0.625)


def test_npy(invoke_json, write_file):
    out = invoke_json(["compute", "mse", write_file("p.npy", np.array(PRED, float)), write_file("y.npy", LABELS)])
    assert out["value"] == pytest.approx(0.625)


def test_npz_with_keys(invoke_json, write_file):
    archive = write_file("d.npz", {"scores": np.array(PRED, float), "truth": np.array(LABELS)})
    out = invoke_json(["compute", "mse", archive, archive, "--pred-key", "scores", "--label-key", "truth"])
    assert out["value"] == pytest.approx(0.625)


def test_npz_with_one_array_needs_no_key(invoke_json, write_file):
    out = invoke_json(
        ["compute", "mse", write_file("p.npz", {"a": np.array(PRED, float)}), write_file("y.csv", LABELS)]
    )
    assert out["value"] == pytest.approx(0.625)


def test_npz_with_several_arrays_needs_a_key(expect_error, write_file):
    archive = write_file("d.npz", {"scores": np.array(PRED, float), "truth": np.array(LABELS)})
    expect_error(["compute", "mse", archive, write_file("y.csv", LABELS)], 3, "d.npz", "--pred-key")


def test_parquet(invoke_json, write_file):
    data = write_file("d.parquet", {"pred": np.array(PRED, float), "label": np.array(LABELS)})
    out = invoke_json(["compute", "mse", data, "--label-col", "label"])
    assert out["value"] == pytest.approx(0.625)


def test_stdin_predictions(invoke_json, write_file):
    out = invoke_json(["compute", "mse", "-", write_file("y.csv", LABELS)], input="1\n2\n3\n4\n")
    assert out["value"] == pytest.approx(0.625)


def test_stdin_labels(invoke_json, write_file):
    out = invoke_json(["compute", "mse", write_file("p.csv", PRED), "-"], input="label\n0.5\n3\n2\n4.5\n")
    assert out["value"] == pytest.approx(0.625)


def test_two_stdin_inputs_refused(expect_error):
    expect_error(["compute", "mse", "-", "-"], 2, "standard input", input="1\n2\n")


@pytest.mark.parametrize(
    "selection",
    [
        ["--pred-col", "a", "--label-col", "y"],
        ["--pred-col", "0", "--label-col", "2"],
        ["--pred-col", "-3", "--label-col", "-1"],
    ],
    ids=["names", "indices", "negative-indices"],
)
def test_single_column_selection(invoke_json, write_file, selection):
    data = write_file("d.csv", "a,b,y\n" + "\n".join(f"{p},9,{t}" for p, t in zip(PRED, LABELS, strict=True)) + "\n")
    assert invoke_json(["compute", "mse", data, *selection])["value"] == pytest.approx(0.625)


@pytest.mark.parametrize(
    "selection",
    [
        ["--pred-col", "a,b", "--label-col", "y1,y2"],
        ["--pred-col", "a", "--pred-col", "b", "--label-col", "y1", "--label-col", "y2"],
        ["--pred-col", "0, 1", "--label-col", "3", "--label-col", "4"],
    ],
    ids=["comma-lists", "repeated", "indices-mixed"],
)
def test_several_column_selection(invoke_json, write_file, selection):
    data = write_file("d.csv", "a,b,c,y1,y2\n1,2,9,1,2\n3,4,9,3,5\n")
    out = invoke_json(["compute", "mse", data, *selection, "--reduction", "none", "--no-grad"])
    assert out["values"] == [[0.0, 0.0], [0.0, 1.0]]


def test_single_file_mode_uses_every_other_column(invoke_json, expect_error, write_file):
    two = write_file("two.csv", "a,y\n" + "\n".join(f"{p},{t}" for p, t in zip(PRED, LABELS, strict=True)) + "\n")
    assert invoke_json(["compute", "mse", two, "--label-col", "y"])["value"] == pytest.approx(0.625)
    three = write_file(
        "three.csv", "a,b,y\n" + "\n".join(f"{p},9,{t}" for p, t in zip(PRED, LABELS, strict=True)) + "\n"
    )
    expect_error(["compute", "mse", three, "--label-col", "y"], 3, "three.csv", "(4, 2)", "(4,)", "--pred-col")
    assert invoke_json(["compute", "mse", three, "--label-col", "y", "--pred-col", "a"])["value"] == pytest.approx(
        0.625
    )


def test_labels_needed_without_label_col(expect_error, write_file):
    expect_error(["compute", "mse", write_file("p.csv", PRED)], 2, "LABELS", "--label-col")


def test_integral_float_labels_are_class_indices(invoke_json, write_file, class_files):
    logits, classes = class_files
    as_floats = write_file("classes_f.csv", [f"{c}.0" for c in CLASSES])
    out = invoke_json(["compute", "cross_entropy", logits, as_floats])
    assert out["value"] == pytest.approx(invoke_json(["compute", "cross_entropy", logits, classes])["value"])


# Not "0" first: above "1.5", a first line "0" numbers the columns, pandas' header of an unnamed column (README).
HALF_LABELS = ["1", "1.5", "0", "2"]


def test_fractional_class_label_refused(expect_error, write_file, class_files):
    logits, _ = class_files
    labels = write_file("half.csv", HALF_LABELS)
    expect_error(["compute", "cross_entropy", logits, labels], 3, "half.csv", "row 2", "column", "whole number")


def test_fractional_class_label_message_shows_the_plain_number(expect_error, write_file, class_files):
    logits, _ = class_files
    line = expect_error(["compute", "cross_entropy", logits, write_file("half.csv", HALF_LABELS)], 3)
    assert "np.float64" not in line
    assert "1.5 is not a whole number" in line


def test_margin_ranking_second_input(invoke_json, ranking_files):
    s1, s2, y = ranking_files
    out = invoke_json(["compute", "margin_ranking", s1, y, "--input", f"input2={s2}"])
    # max(0, -y (x1 - x2)): 1, 0, 0, 2
    assert out["value"] == pytest.approx(0.75)
    assert set(out["gradients"]) == {"input1", "input2"}
    np.testing.assert_allclose(
        out["gradients"]["input1"]["values"], -np.array(out["gradients"]["input2"]["values"]), atol=0
    )


def test_gaussian_nll_var_input(invoke_json, write_file, spec_files):
    var = np.array([1, 0.5, 2, 1])
    out = invoke_json(
        [
            "compute",
            "gaussian_nll",
            *spec_files,
            "--input",
            f"var={write_file('v.csv', var.tolist())}",
            "--dtype",
            "float64",
        ]
    )
    x, y = np.array(PRED, float), np.array(LABELS)
    expected = (0.5 * (np.log(var) + (x - y) ** 2 / var)).mean()
    assert out["value"] == pytest.approx(float(expected), rel=1e-12)
    assert set(out["gradients"]) == {"input", "var"}


def test_unknown_input_name_lists_the_valid_ones(expect_error, ranking_files):
    s1, s2, y = ranking_files
    expect_error(["compute", "margin_ranking", s1, y, "--input", f"other={s2}"], 2, "'other'", "input2")


def test_input_given_to_a_loss_without_extra_inputs(expect_error, spec_files):
    expect_error(["compute", "mse", *spec_files, "--input", "var=v.csv"], 2, "'var'")


@pytest.mark.parametrize(
    ("loss", "missing"),
    [("margin_ranking", "input2"), ("gaussian_nll", "var"), ("cosine_embedding", "input2")],
)
def test_missing_required_input(expect_error, write_file, loss, missing):
    pred = write_file("p.csv", [[1, 2], [3, 4]] if loss == "cosine_embedding" else [1, 2])
    expect_error(["compute", loss, pred, write_file("y.csv", [1, -1])], 2, f"--input {missing}=")


def test_triplet_missing_negative(expect_error, write_file):
    a = write_file("a.csv", [[1, 2], [3, 4]])
    expect_error(["compute", "triplet_margin", a, "--input", f"positive={a}"], 2, "--input negative=")


def test_triplet_takes_no_labels(expect_error, write_file):
    a = write_file("a.csv", [[1, 2], [3, 4]])
    expect_error(
        ["compute", "triplet_margin", a, a, "--input", f"positive={a}", "--input", f"negative={a}"],
        2,
        "no LABELS",
        "--input positive=PATH",
    )


# --- compute: validation errors (exit 3) ----------------------------------------------------

# name -> (files {file name: content}, args after "compute" with {file name} placeholders, fragments)
VALIDATION_CASES = {
    "mse-shape": (
        {"p3.csv": [[1, 2, 3]] * 4, "y.csv": LABELS},
        "mse {p3.csv} {y.csv}",
        ["p3.csv", "(4, 3)", "y.csv", "(4,)"],
    ),
    "ce-class-too-large": (
        {"l.csv": LOGITS, "c.csv": [0, 3, 1, 2]},
        "cross_entropy {l.csv} {c.csv}",
        ["c.csv", "row 2", "class index 3", "[0, 3)"],
    ),
    "ce-class-negative": (
        {"l.csv": LOGITS, "c.csv": [0, 1, -1, 2]},
        "cross_entropy {l.csv} {c.csv}",
        ["c.csv", "row 3", "class index -1"],
    ),
    "ce-custom-ignore-index-rejects-minus-100": (
        {"l.csv": LOGITS, "c.csv": [0, -100, 1, 2]},
        "cross_entropy {l.csv} {c.csv} -p ignore_index=9",
        ["c.csv", "row 2", "-100"],
    ),
    "multi-margin-has-no-ignore-index": (
        {"l.csv": LOGITS, "c.csv": [0, -100, 1, 2]},
        "multi_margin {l.csv} {c.csv}",
        ["c.csv", "row 2", "-100"],
    ),
    "ce-labels-numbered-from-1": (
        {"l.csv": LOGITS, "c.csv": [1, 3, 2, 3]},
        "cross_entropy {l.csv} {c.csv}",
        ["c.csv", "row 2", "subtract 1"],
    ),
    "nll-one-hot": (
        {"l.csv": LOGITS, "h.csv": [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]},
        "nll {l.csv} {h.csv}",
        ["h.csv", "one-hot", "argmax"],
    ),
    "bce-input-outside-0-1": (
        {"p.csv": [0.2, 0.9, 1.5, 0.1], "y.csv": [0, 1, 1, 0]},
        "bce {p.csv} {y.csv}",
        ["p.csv", "row 3", "1.5", "[0, 1]", "bce_with_logits"],
    ),
    "bce-target-outside-0-1": (
        {"p.csv": [0.2, 0.9, 0.5, 0.1], "y.csv": [0, 1, 2, 0]},
        "bce {p.csv} {y.csv}",
        ["y.csv", "row 3", "[0, 1]"],
    ),
    "bce-with-logits-target-outside-0-1": (
        {"p.csv": PRED, "y.csv": [0, 1, 0, -1]},
        "bce_with_logits {p.csv} {y.csv}",
        ["y.csv", "row 4", "[0, 1]"],
    ),
    "margin-ranking-0-1-labels": (
        {"a.csv": PRED, "b.csv": [2, 2, 2, 2], "y.csv": [1, 0, 1, 0]},
        "margin_ranking {a.csv} {y.csv} --input input2={b.csv}",
        ["y.csv", "row 2", "map 0 to -1"],
    ),
    "hinge-embedding-0-1-labels": (
        {"d.csv": PRED, "y.csv": [1, 0, 1, 0]},
        "hinge_embedding {d.csv} {y.csv}",
        ["y.csv", "row 2", "map 0 to -1"],
    ),
    "soft-margin-0-1-labels": (
        {"d.csv": PRED, "y.csv": [0, 1, 1, 1]},
        "soft_margin {d.csv} {y.csv}",
        ["y.csv", "row 1", "map 0 to -1"],
    ),
    "cosine-embedding-0-1-labels": (
        {"a.csv": [[1, 2], [3, 4]], "b.csv": [[1, 1], [2, 0]], "y.csv": [1, 0]},
        "cosine_embedding {a.csv} {y.csv} --input input2={b.csv}",
        ["y.csv", "row 2", "map 0 to -1"],
    ),
    "nan-in-predictions": (
        {"p.csv": "pred\n1\nnan\n3\n4\n", "y.csv": LABELS},
        "mse {p.csv} {y.csv}",
        ["p.csv", "row 2", "column 'pred'", "NaN"],
    ),
    "inf-in-predictions": (
        {"p.csv": "pred\n1\n2\ninf\n4\n", "y.csv": LABELS},
        "mse {p.csv} {y.csv}",
        ["p.csv", "row 3", "column 'pred'", "inf"],
    ),
    "nan-in-labels": (
        {"p.csv": PRED, "y.csv": "truth\n0.5\n3\n2\nNaN\n"},
        "mse {p.csv} {y.csv}",
        ["y.csv", "row 4", "column 'truth'", "NaN"],
    ),
    "inf-in-labels": (
        {"p.csv": PRED, "y.csv": "truth\n0.5\n-inf\n2\n4.5\n"},
        "mse {p.csv} {y.csv}",
        ["y.csv", "row 2", "column 'truth'", "-inf"],
    ),
    "nan-in-header-less-csv": (
        {"p.csv": PRED, "y.csv": [0.5, 3, "nan", 4.5]},
        "mse {p.csv} {y.csv}",
        ["y.csv", "row 3", "column '0'"],
    ),
    "empty-cell": (
        {"d.csv": "a,b\n1,0.5\n,3\n3,2\n4,4.5\n"},
        "mse {d.csv} --label-col b",
        ["d.csv", "row 2", "column 'a'", "empty"],
    ),
    "gaussian-negative-var": (
        {"p.csv": PRED, "y.csv": LABELS, "v.csv": [1, -0.5, 2, 1]},
        "gaussian_nll {p.csv} {y.csv} --input var={v.csv}",
        ["v.csv", "row 2", "var", "negative"],
    ),
    "ctc-input-length-beyond-T": (
        {"lp.npy": np.log(np.full((5, 2, 4), 0.25)), "t.csv": [[1, 2], [3, 3]], "il.csv": [5, 6]},
        "ctc {lp.npy} {t.csv} --input input_lengths={il.csv}",
        ["il.csv", "row 2", "6", "5 time steps"],
    ),
    "ctc-target-length-beyond-S": (
        {"lp.npy": np.log(np.full((5, 2, 4), 0.25)), "t.csv": [[1, 2], [3, 3]], "tl.csv": [2, 3]},
        "ctc {lp.npy} {t.csv} --input target_lengths={tl.csv}",
        ["tl.csv", "row 2", "target length 3"],
    ),
    "ctc-label-is-blank": (
        {"lp.npy": np.log(np.full((5, 2, 4), 0.25)), "t.csv": [[1, 0], [3, 3]]},
        "ctc {lp.npy} {t.csv}",
        ["t.csv", "row 1", "column '1'", "blank"],
    ),
    "ctc-custom-blank": (
        {"lp.npy": np.log(np.full((5, 2, 4), 0.25)), "t.csv": [[1, 2], [3, 3]]},
        "ctc {lp.npy} {t.csv} -p blank=3",
        ["t.csv", "row 2", "blank (3)"],
    ),
    "ctc-input-too-short": (
        {"lp.npy": np.log(np.full((5, 2, 4), 0.25)), "t.csv": [[1, 2], [3, 3]], "il.csv": [5, 2]},
        "ctc {lp.npy} {t.csv} --input input_lengths={il.csv}",
        ["il.csv", "row 2 (line 2)", "zero_infinity"],
    ),
    "multilabel-margin-target-out-of-range": (
        {"l.csv": LOGITS, "t.csv": [[0, 2, -1], [1, -1, -1], [3, 0, -1], [2, -1, -1]]},
        "multilabel_margin {l.csv} {t.csv}",
        ["t.csv", "row 3", "column '0'", "3"],
    ),
    "nll2d-with-2d-input": (
        {"l.csv": LOGITS, "c.csv": CLASSES},
        "nll2d {l.csv} {c.csv}",
        ["l.csv", "4-D"],
    ),
    "fractional-class-label": (
        {"l.csv": LOGITS, "c.csv": [0, 1, 2.5, 1]},
        "nll {l.csv} {c.csv}",
        ["c.csv", "row 3", "whole number"],
    ),
    "missing-file": (
        {"p.csv": PRED},
        "mse {p.csv} nowhere.csv",
        ["nowhere.csv", "no such file"],
    ),
    "pickled-npy": (
        {"y.csv": LABELS},
        "mse {obj.npy} {y.csv}",
        ["obj.npy", "pickle"],
    ),
}


@pytest.mark.parametrize("case", list(VALIDATION_CASES), ids=list(VALIDATION_CASES))
def test_validation_error(expect_error, write_file, tmp_path, case):
    files, template, fragments = VALIDATION_CASES[case]
    paths = {name: write_file(name, content) for name, content in files.items()}
    if "{obj.npy}" in template:
        obj = tmp_path / "obj.npy"
        np.save(obj, np.array([1, "a", None], dtype=object), allow_pickle=True)
        paths["obj.npy"] = str(obj)
    args = ["compute", *(re.sub(r"\{([^}]+)\}", lambda m: paths[m[1]], part) for part in template.split())]
    line = expect_error(args, 3, *fragments)
    assert "Traceback" not in line


@pytest.mark.parametrize("ignore", [None, 9])
def test_ignore_index_value_is_allowed(invoke_json, write_file, ignore):
    marker = -100 if ignore is None else ignore
    labels = write_file("c.csv", [0, marker, 1, 2])
    args = ["compute", "cross_entropy", write_file("l.csv", LOGITS), labels, "--dtype", "float64"]
    if ignore is not None:
        args += ["-p", f"ignore_index={ignore}"]
    out = invoke_json(args)
    kept = [0, 2, 3]
    expected = -log_softmax(LOGITS)[kept, [0, 1, 2]].mean()
    assert out["value"] == pytest.approx(float(expected), rel=1e-12)
    assert out["gradients"]["input"]["values"][1] == [0.0, 0.0, 0.0]


def test_ctc_zero_infinity_accepts_an_input_too_short(invoke_json, write_file):
    lp = write_file("lp.npy", np.log(np.full((5, 2, 4), 0.25)))
    targets = write_file("t.csv", [[1, 2], [3, 3]])
    lengths = write_file("il.csv", [5, 2])
    out = invoke_json(
        ["compute", "ctc", lp, targets, "--input", f"input_lengths={lengths}", "-p", "zero_infinity=true"]
    )
    assert out["params"] == {"zero_infinity": True}
    assert out["value"] is not None and np.isfinite(out["value"])
    assert out["n_samples"] == 2
    # the infinite sample contributes nothing, not even to the gradient
    assert np.array(out["gradients"]["log_probs"]["values"])[:, 1, :].tolist() == [[0.0] * 4] * 5


@pytest.mark.parametrize(
    ("loss", "param"),
    [("cross_entropy", "weight=[1,2]"), ("nll", "weight=[1,2,3,4]"), ("multi_margin", "weight=[1,2]")],
)
def test_class_weight_of_the_wrong_length(expect_error, class_files, loss, param):
    expect_error(["compute", loss, *class_files, "-p", param], 2, "weight", "3 classes")


def test_cross_entropy_one_hot_integer_rows_are_probabilities(invoke_json, write_file, class_files):
    logits, classes = class_files
    one_hot = np.eye(3, dtype=int)[CLASSES].tolist()
    out = invoke_json(["compute", "cross_entropy", logits, write_file("onehot.csv", one_hot)])
    assert out["value"] == pytest.approx(invoke_json(["compute", "cross_entropy", logits, classes])["value"])


# --- usage errors (exit 2) ------------------------------------------------------------------


def test_unknown_loss_suggests_a_name(expect_error, spec_files):
    expect_error(["compute", "msee", *spec_files], 2, "msee", "mse")


def test_unknown_parameter_lists_the_valid_ones(expect_error, ranking_files):
    s1, s2, y = ranking_files
    expect_error(["compute", "margin_ranking", s1, y, "--input", f"input2={s2}", "-p", "beta=1"], 2, "'beta'", "margin")


def test_unknown_parameter_of_a_loss_without_parameters(expect_error, spec_files):
    expect_error(["compute", "mse", *spec_files, "-p", "margin=1"], 2, "'margin'")


@pytest.mark.parametrize(
    ("loss", "param", "fragment"),
    [
        ("margin_ranking", "margin=abc", "expected a number"),
        ("cross_entropy", 'weight=[1,"a"]', "list of numbers"),
        ("cross_entropy", "ignore_index=1.5", "integer"),
        ("poisson_nll", "log_input=1", "true or false"),
        ("multi_margin", "p=3", "1, 2"),
        ("triplet_margin_with_distance", "distance=manhattan", "pairwise, cosine"),
    ],
)
def test_bad_parameter_value(expect_error, write_file, loss, param, fragment):
    files = [write_file("a.csv", [[1, 2], [3, 4]]), write_file("b.csv", [1, -1])]
    expect_error(["compute", loss, *files, "-p", param], 2, param.split("=")[0], fragment)


def test_reduction_as_a_parameter_points_to_the_option(expect_error, spec_files):
    expect_error(["compute", "mse", *spec_files, "-p", "reduction=sum"], 2, "--reduction")


def test_parameter_without_equals(expect_error, spec_files):
    expect_error(["compute", "mse", *spec_files, "-p", "margin"], 2, "'margin'", "NAME=VALUE")


def test_unknown_option(expect_error, spec_files):
    expect_error(["compute", "mse", *spec_files, "--bogus"], 2, "--bogus")


def test_unknown_command(expect_error):
    expect_error(["bogus"], 2, "bogus")


@pytest.mark.parametrize(
    ("option", "value"), [("--reduction", "median"), ("--dtype", "float16"), ("-f", "xml"), ("--rows", "-1")]
)
def test_bad_option_value(expect_error, spec_files, option, value):
    expect_error(["compute", "mse", *spec_files, option, value], 2, option)


def test_out_of_range_parameter_is_a_usage_error(expect_error, class_files):
    expect_error(["compute", "cross_entropy", *class_files, "-p", "label_smoothing=2"], 2, "label_smoothing")


def test_non_finite_parameter_refused(expect_error, ranking_files):
    s1, s2, y = ranking_files
    expect_error(["compute", "margin_ranking", s1, y, "--input", f"input2={s2}", "-p", "margin=NaN"], 2, "margin")


# --- --debug ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def debug_run(tmp_path_factory, losscli_exe):
    """One subprocess: a data error (NaN in PRED) under --debug."""
    folder = tmp_path_factory.mktemp("debug")
    (folder / "p.csv").write_text("pred\n1\nnan\n3\n4\n")
    (folder / "y.csv").write_text("0.5\n3\n2\n4.5\n")
    return subprocess.run(
        [losscli_exe, "--debug", "compute", "mse", "p.csv", "y.csv"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_shows_a_traceback(debug_run):
    assert "Traceback" in debug_run.stderr
    assert "DataError" in debug_run.stderr
    assert "row 2" in debug_run.stderr
    assert debug_run.stdout == ""


def test_debug_keeps_the_exit_code(debug_run):
    assert debug_run.returncode == 3


def test_no_traceback_without_debug(invoke, write_file):
    result = invoke(["compute", "mse", write_file("p.csv", "pred\n1\nnan\n"), write_file("y.csv", [1, 2])])
    assert result.exit_code == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")


# --- the installed console script ------------------------------------------------------------


def test_console_script_json(losscli_exe, tmp_path):
    (tmp_path / "p.csv").write_text("1\n2\n3\n4\n")
    (tmp_path / "y.csv").write_text("0.5\n3\n2\n4.5\n")
    done = subprocess.run(
        [losscli_exe, "compute", "mse", "p.csv", "y.csv", "-f", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["value"] == pytest.approx(0.625)
    assert out["gradients"]["input"]["values"] == pytest.approx(SPEC_GRADIENT)


def test_console_script_bad_input(losscli_exe, tmp_path):
    (tmp_path / "l.csv").write_text("0.1,0.2,0.3\n1,2,3\n")
    (tmp_path / "c.csv").write_text("0\n7\n")
    done = subprocess.run(
        [losscli_exe, "compute", "cross_entropy", "l.csv", "c.csv", "-f", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error:")
    assert "c.csv" in lines[0] and "row 2" in lines[0]


def test_python_dash_m_help():
    done = subprocess.run([sys.executable, "-m", "losscli", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    assert "compute" in done.stdout
    assert done.stderr == ""


def test_import_cli_loads_no_torch_pandas_or_scipy():
    code = (
        "import sys, losscli.cli\n"
        "heavy = sorted(m for m in ('torch', 'pandas', 'scipy') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("chunk", [[], ["--chunk-size", "1"]])
def test_float64_npy_is_validated_as_torch_gets_it(expect_error, invoke_json, write_file, chunk):
    """1e-50 is > 0 in a float64 file but 0 in float32, where tweedie's log-mean would be -inf."""
    pred, labels = write_file("p.npy", np.array([1e-50, 1.0])), write_file("y.npy", np.array([1.0, 2.0]))
    expect_error(["compute", "tweedie", pred, labels, "--no-grad", *chunk], 3, "p.npy", "row 1", "> 0")
    got = invoke_json(["compute", "tweedie", pred, labels, "--no-grad", "--dtype", "float64", *chunk])
    y, mu, p = np.array([1.0, 2.0]), np.array([1e-50, 1.0]), 1.5  # sklearn's mean_tweedie_deviance, by hand
    dev = 2 * (y ** (2 - p) / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))
    assert got["value"] == pytest.approx(dev.mean(), rel=1e-12)


# --- strict JSON in every command ---------------------------------------------------------------


def _strict_json(text: str) -> object:
    """``text`` parsed as strict JSON: NaN, Infinity and -Infinity are refused, as jq refuses them."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _nulls(document: object) -> int:
    if isinstance(document, dict):
        return sum(_nulls(value) for value in document.values())
    if isinstance(document, list):
        return sum(_nulls(value) for value in document)
    return document is None


def test_json_is_strict_in_every_command(invoke, write_file):
    """Each command, given inputs whose numbers overflow (a float32 loss of 6e38, float64 row sums past
    1.8e308, a change against a baseline of 2.5e-321, log(0) on a curve), prints strict JSON: null where
    a number is not finite, as compute's value already is."""
    huge_pred = write_file("hp.npy", np.array([3e38, -3e38, 1.0], dtype=np.float32))
    huge_labels = write_file("hy.npy", np.array([-3e38, 3e38, 1.0], dtype=np.float32))
    zeros = write_file("z.npy", np.zeros(4))
    tiny = write_file("tiny.npy", np.array([0.0, 0.0, 0.0, 1e-160]))  # mse 2.5e-321, a subnormal
    large = write_file("large.npy", np.array([0.0, 0.0, 0.0, 1e10]))
    wide = write_file("wide.npy", np.array([[1e308, 1e308], [1.0, 2.0], [1.5e308, 1e308]]))
    runs = {
        "list": ["list"],
        "info": ["info", "ce"],
        "compute": ["compute", "mse", huge_pred, huge_labels],
        "compute streamed": ["compute", "mse", huge_pred, huge_labels, "--chunk-size", "2"],
        "compute none": ["compute", "mse", huge_pred, huge_labels, "--reduction", "none"],
        "compare": ["compare", large, tiny, "--labels", zeros, "-l", "mse", "--baseline", tiny, "--dtype", "float64"],
        "compare float32": ["compare", huge_pred, "--labels", huge_labels, "-l", "mse,l1"],
        "recommend": ["recommend", wide, "--pred", wide],
        "curve": ["curve", "mse", "--target", "0", "--range=-1e200:1e200", "--points", "3"],
    }
    for name, args in runs.items():
        result = invoke([*args, "-f", "json"])
        # compare's model whose loss is not finite is an error cell: the others are still printed, then exit 3
        assert result.exit_code == (3 if name == "compare float32" else 0), (name, result.stderr, result.exception)
        document = _strict_json(result.stdout)
        if name not in ("list", "info"):  # each of the others held a number that is not finite
            assert _nulls(document), name


# --- empty inputs, in every form and command ----------------------------------------------------------


def _empty_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """Files holding no values, each with a fragment of the error it gets."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    files: dict[str, tuple[str, str]] = {}
    for shape in [(0,), (0, 3), (5, 0), (2, 0, 3)]:
        path = tmp_path / f"e{len(files)}.npy"
        np.save(path, np.zeros(shape))
        files[f"npy {shape}"] = (str(path), f"an empty array of shape {shape}")
        path = tmp_path / f"e{len(files)}.npz"
        np.savez_compressed(path, y=np.zeros(shape))
        files[f"npz {shape}"] = (str(path), f"array 'y': an empty array of shape {shape}")
    for name, table in {"rows": pa.table({"y": pa.array([], pa.float64())}), "columns": pa.table({})}.items():
        path = tmp_path / f"no-{name}.parquet"
        pq.write_table(table, path)
        files[f"parquet without {name}"] = (str(path), "the Parquet file holds no data")
    path = tmp_path / "index-only.parquet"
    pd.DataFrame({"id": [4, 1, 2]}).set_index("id").to_parquet(path)  # not a range: stored as a column
    files["parquet of a pandas index"] = (str(path), "0 columns besides pandas' index 'id'")
    for name, text, fragment in [
        ("header.csv", "y\n", "no data rows"),
        ("blank.csv", "\n\n", "the file is empty"),
        ("comments.tsv", "# only\n", "no data rows"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        files[name] = (str(path), fragment)
    return files


def test_empty_inputs_are_one_error_line_with_exit_3(expect_error, write_file, tmp_path):
    """Zero rows or zero columns, in any form, as labels or predictions of any command: exit 3, never a
    value of null with exit 0, never an unexpected error (exit 1)."""
    good = write_file("good.npy", np.array([0.0, 1.0, 1.0]))
    for empty, fragment in _empty_files(tmp_path).values():
        for args in (
            ["compute", "mse", good, empty],
            ["compute", "mse", empty, good, "--chunk-size", "2"],
            ["compute", "mse", good, empty, "--chunk-size", "2"],
            ["compare", good, "--labels", empty],
            ["compare", good, "--labels", empty, "-l", "mse"],
            ["compare", empty, "--labels", good, "-l", "mse", "--fail-fast"],
            ["recommend", empty],
            ["recommend", good, "--pred", empty],
        ):
            expect_error(args, 3, empty, fragment)


@pytest.mark.parametrize("where", ["pred", "labels"])
def test_compare_names_a_value_past_float32(expect_error, invoke_json, write_file, where):
    """As compute does: the row and value, and --dtype float64, rather than a RuntimeWarning and 'inf'."""
    big, small = np.array([1.0, 3.5e38, 2.0]), np.array([1.0, 2.0, 2.0])
    pred = write_file("p.npy", big if where == "pred" else small)
    labels = write_file("y.npy", big if where == "labels" else small)
    bad = pred if where == "pred" else labels
    args = ["compare", pred, "--labels", labels, "-l", "mse", "--fail-fast"]
    expect_error(args, 3, f"{bad}: row 2: 3.5e+38", "--dtype float64")
    got = invoke_json(["compare", pred, "--labels", labels, "-l", "mse", "--dtype", "float64"])
    assert got["rows"][0]["values"]["mse"] == pytest.approx(np.mean((big - small) ** 2), rel=1e-12)
