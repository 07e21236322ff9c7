"""The Python API (issue 13): `import losscli` is cheap; every input form gives the same numbers as numpy
formulas and as the CLI; `to_dict()` is the CLI's JSON for every command; errors are the CLI's."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO

import losscli

SAMPLES = REPO / "sample_data"
PRED, LABELS = str(SAMPLES / "regression_pred.csv"), str(SAMPLES / "regression_labels.csv")
P, Y = [1.0, 2.0, 3.0, 4.0], [0.5, 3.0, 2.0, 4.5]


def test_import_is_cheap_and_loads_neither_torch_nor_pandas():
    code = (
        "import sys, time; t = time.perf_counter(); import losscli; t = time.perf_counter() - t; "
        "print(t, [m for m in ('torch', 'pandas', 'numpy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    assert float(out[0]) < 0.3
    assert out[1].strip() == "[]"
    code = "import sys, losscli; losscli.info('mse'); losscli.list_losses(); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_the_readme_call():
    result = losscli.compute("mse", P, Y)
    assert result.value == 0.625
    np.testing.assert_array_equal(result.grad, np.array([0.25, -0.5, 0.5, -0.25], dtype=np.float32))


@pytest.mark.parametrize(
    "form",
    ["list", "numpy", "torch", "torch requiring grad", "pandas", "dataframe", "csv path", "pathlib"],
)
def test_every_input_form_gives_the_same_value_and_gradient(form, tmp_path):
    p, y = np.array(P), np.array(Y)
    if form in ("csv path", "pathlib"):
        pd.DataFrame({"pred": p}).to_csv(tmp_path / "p.csv", index=False)
        pd.DataFrame({"y": y}).to_csv(tmp_path / "y.csv", index=False)
        pred, labels = tmp_path / "p.csv", tmp_path / "y.csv"
        if form == "csv path":
            pred, labels = str(pred), str(labels)
    else:
        pred, labels = {
            "list": (P, Y),
            "numpy": (p, y),
            "torch": (torch.tensor(p), torch.tensor(y)),
            "torch requiring grad": (torch.tensor(p, requires_grad=True), torch.tensor(y)),
            "pandas": (pd.Series(p, name="pred"), pd.Series(y)),
            "dataframe": (pd.DataFrame({"pred": p}), pd.DataFrame({"y": y})),
        }[form]
    result = losscli.compute("mse", pred, labels, dtype="float64")
    assert result.value == pytest.approx(np.mean((p - y) ** 2), rel=1e-15)
    np.testing.assert_allclose(result.grad, 2 * (p - y) / len(p), rtol=1e-15)
    assert result.gradients["input"].norm == pytest.approx(np.linalg.norm(2 * (p - y) / len(p)))


def test_params_inputs_and_reduction(write_file):
    p, y, var = np.array(P), np.array(Y), np.array([0.5, 1.0, 2.0, 1.5])
    huber = losscli.compute("huber", p, y, delta=0.75, dtype="float64")
    r = np.abs(p - y)
    assert huber.value == pytest.approx(np.mean(np.where(r < 0.75, 0.5 * r**2, 0.75 * (r - 0.375))), rel=1e-15)
    assert huber.params == {"delta": 0.75}
    nll = losscli.compute("gaussian_nll", p, y, inputs={"var": var}, dtype="float64")
    expected = torch.nn.functional.gaussian_nll_loss(torch.tensor(p), torch.tensor(y), torch.tensor(var))
    assert nll.value == pytest.approx(expected.item(), rel=1e-12)
    assert set(nll.gradients) == {"input", "var"}
    none = losscli.compute("l1", p, y, reduction="none")
    assert none.value is None
    np.testing.assert_allclose(none.values, np.abs(p - y))
    weighted = losscli.compute("ce", np.eye(3) * 2.0, [0, 1, 2], weight=np.array([1.0, 2.0, 3.0]), dtype="float64")
    reference = torch.nn.functional.cross_entropy(
        torch.eye(3, dtype=torch.float64) * 2, torch.tensor([0, 1, 2]), weight=torch.tensor([1.0, 2.0, 3.0]).double()
    )
    assert weighted.value == pytest.approx(reference.item(), rel=1e-12)


def test_a_dataframe_is_a_table_with_named_columns():
    logits = pd.DataFrame({"a": [2.0, 0.1, 0.3], "b": [0.5, 1.5, 0.2], "c": [0.1, 0.2, 3.0]})
    result = losscli.compute("cross_entropy", logits, pd.Series([0, 1, 2], name="y"), dtype="float64")
    reference = torch.nn.functional.cross_entropy(torch.tensor(logits.to_numpy()), torch.tensor([0, 1, 2]))
    assert result.value == pytest.approx(reference.item(), rel=1e-12)
    assert result.inputs["input"].columns == ["a", "b", "c"]
    assert result.inputs["target"].columns == ["y"]
    with pytest.raises(losscli.DataError, match="column 'name'.*not numbers"):
        losscli.compute("mse", pd.DataFrame({"name": ["x", "y"]}), [1.0, 2.0])


# --- to_dict() is the CLI's JSON, for every command ------------------------------------------------------


def test_compute_to_dict_is_the_cli_json(invoke_json):
    for args, kwargs in [
        (["mse", PRED, LABELS], {}),
        (["huber", PRED, LABELS, "-p", "delta=2", "--dtype", "float64"], {"delta": 2, "dtype": "float64"}),
        (["l1", PRED, LABELS, "--reduction", "none"], {"reduction": "none"}),
    ]:
        cli = invoke_json(["compute", *args])
        assert losscli.compute(args[0], args[1], args[2], **kwargs).to_dict() == cli


def test_compare_to_dict_is_the_cli_json(invoke_json):
    models = [PRED, str(SAMPLES / "regression_pred_b.csv")]
    assert losscli.compare(models, LABELS).to_dict() == invoke_json(["compare", *models, "--labels", LABELS])
    cli = invoke_json(["compare", *models, "--labels", LABELS, "-l", "mse,huber:delta=5", "--baseline", models[1]])
    assert losscli.compare(models, LABELS, losses=["mse", "huber:delta=5"], baseline=models[1]).to_dict() == cli


def test_recommend_curve_info_and_list_are_the_cli_json(invoke_json):
    labels, logits = SAMPLES / "multiclass_labels.txt", SAMPLES / "multiclass_logits.csv"
    cli = invoke_json(["recommend", labels, "--pred", logits])
    assert losscli.recommend(str(labels), pred=str(logits)).to_dict() == cli
    cli = invoke_json(["recommend", "--label-type", "binary"])
    assert losscli.recommend(None, label_type="binary").to_dict() == cli
    cli = invoke_json(["curve", "bce,mse", "--target", "1,0", "--points", "7"])
    assert losscli.curve("bce,mse", target=[1, 0], points=7).to_dict() == cli
    assert losscli.info("CrossEntropyLoss").to_dict() == invoke_json(["info", "ce"])
    rows = invoke_json(["list", "--family", "regression"])["losses"]
    from losscli.render import spec_row

    assert [spec_row(s) for s in losscli.list_losses(family="regression")] == rows


# --- compare from Python ----------------------------------------------------------------------------------


def test_compare_a_mapping_of_models():
    y = np.array(Y)
    a, b = np.array(P), np.array([0.5, 3.0, 2.0, 4.0])
    result = losscli.compare({"A": a, "B": torch.tensor(b)}, pd.Series(y), losses="mse,l1", dtype="float64")
    frame = result.to_frame()
    assert list(frame.index) == ["A", "B"] and list(frame.columns) == ["mse", "l1"]
    assert frame.loc["A", "mse"] == pytest.approx(np.mean((a - y) ** 2))
    assert frame.loc["B", "l1"] == pytest.approx(np.mean(np.abs(b - y)))
    assert result.best == {"mse": "B", "l1": "B"}
    assert "<table" in result._repr_html_()


def test_compare_keeps_going_when_asked():
    models = {"good": P, "short": [1.0, 2.0]}
    with pytest.raises(losscli.DataError, match="short"):
        losscli.compare(models, Y, losses=["mse"])
    result = losscli.compare(models, Y, losses=["mse"], fail_fast=False)
    assert result.values["good"]["mse"] == pytest.approx(0.625)
    assert "(2,)" in result.errors["short"]["mse"]
    assert np.isnan(result.to_frame().loc["short", "mse"])


# --- errors, display, curves -----------------------------------------------------------------------------


def test_errors_are_the_cli_messages_as_exceptions(invoke, write_file):
    bad = write_file("bad.csv", ["p", 0.5, "x"])
    labels = write_file("y.csv", ["y", 1.0, 2.0])
    with pytest.raises(losscli.DataError) as caught:
        losscli.compute("mse", bad, labels)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, losscli.LossCliError)
    assert invoke(["compute", "mse", bad, labels]).stderr == f"Error: {caught.value}\n"
    with pytest.raises(losscli.UnknownLossError, match="nosuch"):
        losscli.compute("nosuch", P, Y)
    with pytest.raises(losscli.UsageError, match="delta"):
        losscli.compute("mse", P, Y, delta=2)
    with pytest.raises(losscli.DataError, match="equal length"):
        losscli.compute("mse", [[1.0, 2.0], [3.0]], Y)
    with pytest.raises(losscli.DataError, match="<labels>"):
        losscli.compute("mse", P, [1.0, float("nan"), 2.0, 3.0])


def test_results_show_as_text_and_html():
    result = losscli.compute("mse", P, Y)
    assert repr(result) == "<ComputeResult mse (mean, float32, 4 samples): value=0.625>"
    html = result._repr_html_()
    assert html.startswith("<table>") and "0.625" in html and "MSELoss" in html
    advice = losscli.recommend([0, 1, 1, 0, 1, 0, 0, 1])
    assert advice.label_type == "binary" and "binary" in repr(advice) and "<table>" in advice._repr_html_()


def test_curve_frame_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    drawn = losscli.curve("bce", target=[1, 0], points=5, range=(0.1, 0.9))
    frame = drawn.to_frame()
    assert list(frame.columns) == ["loss", "target", "x", "value", "dloss_dx"]
    ones = frame[frame.target == 1]
    np.testing.assert_allclose(ones.value, -np.log(ones.x), rtol=1e-12)
    ax = drawn.plot()
    assert len(ax.get_lines()) == 2 and ax.get_ylabel() == "loss"
    assert json.loads(json.dumps(drawn.to_dict()))["loss"] == "bce"


def test_the_readme_python_example_runs(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    text = (REPO / "README.md").read_text()
    block = text.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["result"].value == 0.625
    y, a = namespace["y"].to_numpy(np.float64), namespace["a"].to_numpy(np.float64)
    r = np.abs(a - y)
    expected = np.mean(np.where(r < 2.0, 0.5 * r**2, 2.0 * (r - 1.0)))
    assert "2.7357516" in block and float("2.7357516") == pytest.approx(expected, rel=1e-6)


def test_warnings_are_python_warnings_too():
    with pytest.warns(losscli.LossCliWarning, match="sigmoid outputs"):
        result = losscli.compute("bce_with_logits", [0.1, 0.9, 0.8], [0, 1, 1])
    assert any("sigmoid outputs" in w for w in result.warnings)


def test_a_spec_shows_its_formula():
    spec = losscli.info("mse")
    assert repr(spec).startswith("<LossSpec mse (MSELoss; regression): ")
    assert "<table>" in spec._repr_html_() and "formula" in spec._repr_html_()
