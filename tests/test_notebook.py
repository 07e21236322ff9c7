"""examples/quickstart.ipynb, run on a real Jupyter kernel: the values it shows are the formulas' and the CLI's.

The notebook runs once per session (a kernel, pandas and torch take ~4 s), in the repository root, on a
kernel of this interpreter: the test writes its own ``python3`` kernel spec for ``sys.executable`` and puts it
first on JUPYTER_PATH, so no spec installed in ~/.local (another Python, another venv) can stand in.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "examples" / "quickstart.ipynb"
S = REPO / "sample_data"

_MISSING = [name for name in ("nbclient", "nbformat", "ipykernel") if importlib.util.find_spec(name) is None]
needs_kernel = pytest.mark.skipif(
    bool(_MISSING), reason=f"{', '.join(_MISSING)} not installed: pip install -e '.[test]' to run the notebook"
)


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The quickstart notebook after a run of all its cells (nbclient raises on a cell's error)."""
    import nbformat
    from nbclient import NotebookClient

    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"}))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(home))
        env.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))
        env.setenv("IPYTHONDIR", str(home / "ipython"))
        env.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, which shows figures as PNG
        client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(REPO)}})
        client.execute()
    return nb


def shown(nb: Any, last_line: str) -> str:
    """What the code cell whose last line is ``last_line`` shows: its result's text, else what it printed."""
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.splitlines()[-1:] == [last_line]]
    assert len(cells) == 1, f"examples/quickstart.ipynb: expected one code cell ending with {last_line!r}"
    outputs = cells[0].outputs
    results = [o.data["text/plain"] for o in outputs if o.output_type == "execute_result"]
    printed = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    return results[0] if results else printed


def regression() -> tuple[np.ndarray, np.ndarray]:
    pred = pd.read_csv(S / "regression_pred.csv", comment="#")["pred"].to_numpy()
    y = pd.read_csv(S / "regression_labels.csv", comment="#")["y"].to_numpy()
    return pred, y


def test_notebook_is_committed_without_outputs() -> None:
    """Outputs belong to a run, not to the repository: every code cell is stored empty."""
    document = json.loads(NOTEBOOK.read_text())
    code = [c for c in document["cells"] if c["cell_type"] == "code"]
    assert code
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, "".join(cell["source"])


@needs_kernel
def test_mse_and_gradient(notebook: Any, invoke_json: Callable[..., dict[str, Any]]) -> None:
    pred, y = regression()
    value = float(shown(notebook, "mse.value"))
    assert value == pytest.approx(np.mean((pred - y) ** 2), rel=1e-6)
    cli = invoke_json(["compute", "mse", S / "regression_pred.csv", S / "regression_labels.csv"])
    assert np.float32(value) == np.float32(cli["value"])

    grad = eval(shown(notebook, "mse.grad[:5]"), {"__builtins__": {}, "array": np.array, "float32": np.float32})
    p32, y32 = pred.astype(np.float32), y.astype(np.float32)
    assert grad == pytest.approx((2 * (p32 - y32) / np.float32(len(y)))[:5], rel=1e-5, abs=1e-8)
    assert grad == pytest.approx(cli["gradients"]["input"]["values"][:5], rel=1e-6, abs=1e-8)


@needs_kernel
def test_cross_entropy(notebook: Any, invoke_json: Callable[..., dict[str, Any]]) -> None:
    logits = pd.read_csv(S / "multiclass_logits.csv", comment="#").to_numpy()
    classes = np.loadtxt(S / "multiclass_labels.txt", dtype=np.int64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_probs[np.arange(len(classes)), classes].mean()

    value = float(shown(notebook, "ce.value"))
    assert value == pytest.approx(expected, rel=1e-6)
    cli = invoke_json(["compute", "cross_entropy", S / "multiclass_logits.csv", S / "multiclass_labels.txt"])
    assert np.float32(value) == np.float32(cli["value"])
    assert np.float32(float(shown(notebook, "ce_torch.value"))) == np.float32(value)


@needs_kernel
def test_compare_frame(notebook: Any, invoke_json: Callable[..., dict[str, Any]]) -> None:
    text = shown(notebook, "models.to_frame()")
    lines = text.splitlines()
    columns = lines[0].split()
    frame = {parts[0]: [float(v) for v in parts[1:]] for parts in map(str.split, lines[1:]) if len(parts) > 1}
    assert columns == ["mse", "l1"] and list(frame) == ["A", "B"], text

    paths = {"A": S / "regression_pred.csv", "B": S / "regression_pred_b.csv"}
    losses = ["--loss", "mse", "--loss", "l1"]
    cli = invoke_json(["compare", *paths.values(), "--labels", S / "regression_labels.csv", *losses])
    by_path = {row["pred"]: row["values"] for row in cli["rows"]}
    for name, path in paths.items():
        # pandas shows 6 decimals
        assert frame[name] == pytest.approx([by_path[str(path)][c] for c in columns], rel=1e-6, abs=1e-6), name
    pred, y = regression()
    assert frame["A"] == pytest.approx([np.mean((pred - y) ** 2), np.mean(np.abs(pred - y))], rel=1e-6, abs=1e-6)

    name_of = {str(path): name for name, path in paths.items()}
    assert ast.literal_eval(shown(notebook, "models.best")) == {c: name_of[p] for c, p in cli["best"].items()}


@needs_kernel
def test_recommend(notebook: Any, invoke_json: Callable[..., dict[str, Any]]) -> None:
    label_type, losses = ast.literal_eval(
        shown(notebook, "advice.label_type, [r.loss for r in advice.recommendations]")
    )
    cli = invoke_json(["recommend", S / "multiclass_labels.txt", "--pred", S / "multiclass_logits.csv"])
    assert label_type == cli["label_type"] == "multiclass"
    assert losses == [r["loss"] for r in cli["recommendations"]]
    assert losses[0] == "cross_entropy"
    assert shown(notebook, "print(advice.recommendations[0].reason)") == cli["recommendations"][0]["reason"] + "\n"


@needs_kernel
def test_curve_is_drawn(notebook: Any) -> None:
    cells = [c for c in notebook.cells if c.cell_type == "code" and "bce.plot()" in c.source]
    assert len(cells) == 1
    assert [o.output_type for o in cells[0].outputs] == ["display_data"], cells[0].outputs
    assert "image/png" in cells[0].outputs[0].data
