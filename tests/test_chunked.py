"""Chunked computation (``losscli.engine.chunked``) against the whole one (``losscli.engine.core``).

Every reference case of ``test_losses`` whose loss decomposes over samples,
under every reduction it allows, is computed in chunks of 1, 2, 3 and more
than N rows: value, per-element values, gradients and their statistics must
equal ``engine.compute``'s in float64. Then the cases chunking must not split,
``keep_rows``, the count torch's weighted mean divides by, and the CLI.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from losscli.engine.chunked import compute_chunked, splits
from losscli.engine.core import compute
from losscli.engine.results import ComputeResult
from losscli.engine.validate import Input
from losscli.registry import DECOMPOSITIONS, LossSpec, get_loss, list_losses
from losscli.render import compute_dict, compute_table

try:
    from tests.lossref import N
    from tests.test_losses import CASES
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    from lossref import N
    from test_losses import CASES

RTOL = 1e-10
CHUNK_SIZES = (1, 2, 3, N + 1)
STATISTICS = ("norm", "mean", "min", "max")

DECOMPOSING = [
    pytest.param(case, reduction, id=f"{case.id}-{reduction}", marks=case.engine_marks)
    for case in CASES
    if case.spec.decomposition is not None
    for reduction in case.spec.reductions
]


def inputs_of(spec: LossSpec, arrays: dict[str, np.ndarray]) -> dict[str, Input]:
    """Fresh inputs: both computations validate and convert theirs in place."""
    return {r.name: Input(r, np.array(arrays[r.name]), "x.csv") for r in spec.roles if r.name in arrays}


def run_both(
    spec: LossSpec, arrays, params, reduction: str, dtype: str = "float64", **chunking
) -> tuple[ComputeResult, ComputeResult]:
    whole = compute(spec, inputs_of(spec, arrays), dict(params), reduction, dtype=dtype)
    chunked = compute_chunked(spec, inputs_of(spec, arrays), dict(params), reduction, dtype=dtype, **chunking)
    return whole, chunked


def assert_same(whole: ComputeResult, chunked: ComputeResult, what: str = "") -> None:
    """Equal results: values to RTOL, the same shapes and warnings, gradient statistics as numpy's."""
    assert (chunked.loss, chunked.reduction, chunked.n_samples) == (whole.loss, whole.reduction, whole.n_samples)
    if whole.values is None:
        assert chunked.values is None
        np.testing.assert_allclose(chunked.value, whole.value, rtol=RTOL, atol=0, err_msg=f"{what}: value")
    else:
        assert chunked.value is None
        assert chunked.values.shape == whole.values.shape, what
        np.testing.assert_allclose(chunked.values, whole.values, rtol=RTOL, atol=1e-300, err_msg=f"{what}: values")
    assert chunked.gradients.keys() == whole.gradients.keys()
    for name, expected in whole.gradients.items():
        got = chunked.gradients[name]
        assert got.shape == expected.shape == got.values.shape, what
        np.testing.assert_allclose(got.values, expected.values, rtol=RTOL, atol=1e-15, err_msg=f"{what}: d/d{name}")
        assert_statistics(got, expected.values, f"{what}: d/d{name}")
    assert chunked.warnings == whole.warnings, what


def assert_statistics(grad, full: np.ndarray, what: str = "") -> None:
    """The statistics of ``grad`` are numpy's on the full gradient."""
    v = np.asarray(full, dtype=np.float64).ravel()
    expected = (np.linalg.norm(v), v.mean(), v.min(), v.max()) if v.size else (0.0, 0.0, 0.0, 0.0)
    for stat, wanted in zip(STATISTICS, expected, strict=True):
        np.testing.assert_allclose(getattr(grad, stat), wanted, rtol=1e-9, atol=1e-15, err_msg=f"{what}: {stat}")


# --- the registry ---------------------------------------------------------------------------


def test_every_spec_says_how_it_decomposes():
    assert {spec.decomposition for spec in list_losses()} <= {None, *DECOMPOSITIONS}
    whole = {spec.name for spec in list_losses() if spec.decomposition is None}
    batch_level = {"contrastive", "supcon", "multi_similarity", "arcface", "cosface", "proxy_anchor"}
    pooled = {"jaccard", "mcc", "psnr"}  # one overlap of the whole batch (smp's dims=(0, 2)); psnr one MSE of it
    assert whole == {"ctc", "ntxent", "circle", *batch_level, "barlow_twins", "vicreg", *pooled}, (
        "samples interact (or axis 0 is time, or an input is not one row per sample, or the batch is pooled) only "
        "in these"
    )
    weighted = {spec.name for spec in list_losses() if spec.decomposition == "target_weight"}
    assert weighted == {"cross_entropy", "nll", "nll2d"}


def test_unknown_decomposition_is_refused():
    from dataclasses import replace

    from losscli.registry import Registry

    with pytest.raises(ValueError, match="unknown decomposition"):
        Registry().register(replace(get_loss("mse"), decomposition="pairs"))


def test_a_loss_that_does_not_decompose_is_refused():
    spec = get_loss("ntxent")
    arrays = {"embeddings": np.eye(4), "labels": np.array([0, 0, 1, 1])}
    with pytest.raises(ValueError, match="does not decompose"):
        compute_chunked(spec, inputs_of(spec, arrays), {}, "mean")


# --- every reference case, chunk by chunk ---------------------------------------------------


@pytest.mark.parametrize(("case", "reduction"), DECOMPOSING)
def test_chunks_equal_the_whole_computation(case, reduction):
    spec, arrays = case.spec, case.inputs()
    whole = compute(spec, inputs_of(spec, arrays), dict(case.params), reduction, dtype="float64")
    for rows in CHUNK_SIZES:
        chunked = compute_chunked(
            spec, inputs_of(spec, arrays), dict(case.params), reduction, dtype="float64", chunk_rows=rows
        )
        assert_same(whole, chunked, f"{case.id} {reduction} in chunks of {rows}")


@pytest.mark.parametrize(("case", "reduction"), DECOMPOSING[::7])
def test_keep_rows_keeps_the_first_rows_and_the_true_shape(case, reduction):
    spec, arrays = case.spec, case.inputs()
    whole, chunked = run_both(spec, arrays, case.params, reduction, chunk_rows=2, keep_rows=3)
    for name, expected in whole.gradients.items():
        got = chunked.gradients[name]
        assert got.shape == expected.values.shape
        np.testing.assert_allclose(got.values, expected.values[:3], rtol=RTOL, atol=1e-15)
        assert_statistics(got, expected.values, name)


def test_keep_rows_zero_keeps_no_rows_but_every_statistic():
    spec = get_loss("mse")
    arrays = {"input": np.arange(6.0), "target": np.zeros(6)}
    whole, chunked = run_both(spec, arrays, {}, "mean", chunk_rows=4, keep_rows=0)
    grad = chunked.gradients["input"]
    assert grad.values.shape == (0,) and grad.shape == (6,)
    assert_statistics(grad, whole.gradients["input"].values)


def test_no_grad_gives_no_gradients():
    spec = get_loss("mse")
    arrays = {"input": np.arange(6.0), "target": np.zeros(6)}
    result = compute_chunked(spec, inputs_of(spec, arrays), {}, "mean", grad=False, chunk_rows=4)
    assert result.gradients == {}
    assert result.value == pytest.approx(np.mean(np.arange(6.0) ** 2))


# --- the count torch's mean divides by ------------------------------------------------------

LOGITS = np.random.default_rng(3).normal(size=(6, 4))


W4 = [0.5, 2.0, 1.0, 3.0]


@pytest.mark.parametrize(
    ("loss", "params"),
    [
        ("cross_entropy", {}),
        ("cross_entropy", {"weight": W4}),
        ("cross_entropy", {"label_smoothing": 0.2, "weight": W4}),
        ("nll", {}),
        ("nll", {"weight": W4}),
    ],
)
def test_a_chunk_whose_targets_are_all_ignored(loss, params):
    """Rows 0-1 form a chunk of ignored targets: it adds nothing to the weighted count."""
    spec = get_loss(loss)
    arrays = {"input": LOGITS, "target": np.array([-100, -100, 1, 3, -100, 2])}
    for rows in (1, 2, 4):
        assert_same(*run_both(spec, arrays, params, "mean", chunk_rows=rows), f"chunks of {rows}")


@pytest.mark.parametrize("loss", ["cross_entropy", "nll", "nll2d"])
def test_every_target_ignored_gives_nan_and_a_zero_gradient_as_torch(loss):
    spec = get_loss(loss)
    shape = (3, 4, 2, 2) if loss == "nll2d" else (3, 4)
    arrays = {"input": np.random.default_rng(0).normal(size=shape), "target": np.full(shape[:1] + shape[2:], 2)}
    whole, chunked = run_both(spec, arrays, {"ignore_index": 2}, "mean", chunk_rows=1)
    assert np.isnan(whole.value) and np.isnan(chunked.value)
    assert not chunked.gradients["input"].values.any()
    assert chunked.warnings == whole.warnings
    assert any("nan" in w for w in chunked.warnings)


def test_probability_targets_divide_by_the_samples():
    spec = get_loss("cross_entropy")
    probs = np.exp(LOGITS[::-1]) / np.exp(LOGITS[::-1]).sum(axis=1, keepdims=True)
    params = {"weight": W4, "label_smoothing": 0.1}
    for rows in (1, 4):
        assert_same(*run_both(spec, {"input": LOGITS, "target": probs}, params, "mean", chunk_rows=rows))


def test_batchmean_divides_by_the_rows():
    spec = get_loss("kl_div")
    rng = np.random.default_rng(1)
    x = np.log(rng.dirichlet(np.ones(3), size=7))
    y = rng.dirichlet(np.ones(3), size=7)
    whole, chunked = run_both(spec, {"input": x, "target": y}, {}, "batchmean", chunk_rows=3)
    assert_same(whole, chunked)
    assert chunked.value == pytest.approx(np.sum(y * (np.log(y) - x)) / 7, rel=1e-12)


# --- inputs whose rows are not separate samples ---------------------------------------------


@pytest.mark.parametrize(
    ("loss", "arrays"),
    [
        ("ranking_softmax", {"input": np.array([0.3, -1.0, 2.0, 0.5]), "target": np.array([0.0, 1.0, 3.0, 0.0])}),
        ("multilabel_soft_margin", {"input": np.array([0.3, -1.0, 2.0]), "target": np.array([0.0, 1.0, 1.0])}),
        ("multilabel_margin", {"input": np.array([0.3, -1.0, 2.0, 0.1]), "target": np.array([2, 0, -1, -1])}),
        ("triplet_margin", {"anchor": np.ones(3), "positive": np.array([1.0, 2, 0]), "negative": np.zeros(3)}),
    ],
)
def test_a_1d_input_of_a_per_row_loss_is_one_sample(loss, arrays):
    spec = get_loss(loss)
    assert spec.decomposition == "rows"
    assert not splits(spec, arrays, {})
    for reduction in spec.reductions:
        whole, chunked = run_both(spec, arrays, {}, reduction, chunk_rows=1)
        assert np.ndim(whole.values if reduction == "none" else whole.value) == 0
        assert_same(whole, chunked, reduction)


def test_per_element_weights_of_a_1d_input_keep_its_rows_together():
    spec = get_loss("bce")
    arrays = {"input": np.array([0.2, 0.9, 0.4]), "target": np.array([0.0, 1.0, 1.0])}
    params = {"weight": [1.0, 2.0, 3.0]}
    assert not splits(spec, arrays, params)
    assert splits(spec, arrays, {"weight": [2.0]})
    assert_same(*run_both(spec, arrays, params, "mean", chunk_rows=1))


@pytest.mark.parametrize("var_shape", [(), (1,)])
def test_a_variance_every_row_shares(var_shape):
    spec = get_loss("gaussian_nll")
    arrays = {"input": np.array([0.2, 0.9, 0.4, 1.5]), "target": np.zeros(4), "var": np.full(var_shape, 0.7)}
    assert not splits(spec, arrays, {})
    for reduction in spec.reductions:
        assert_same(*run_both(spec, arrays, {}, reduction, chunk_rows=1), reduction)


# --- float32 --------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "bce_with_logits", "cross_entropy"])
def test_float32_is_within_rounding_of_float64(loss):
    """Sums accumulate in float64: the float32 value is within one float32 rounding of the float64 one."""
    spec = get_loss(loss)
    rng = np.random.default_rng(5)
    n = 20_000
    if loss == "cross_entropy":
        arrays = {"input": rng.normal(size=(n, 4)), "target": rng.integers(0, 4, n)}
    else:
        arrays = {"input": rng.normal(2.0, 1.0, n), "target": rng.uniform(size=n)}
    exact = compute(spec, inputs_of(spec, arrays), {}, "mean", dtype="float64")
    result = compute_chunked(spec, inputs_of(spec, arrays), {}, "mean", dtype="float32", chunk_rows=3000)
    assert result.value == pytest.approx(exact.value, rel=2**-23)
    grad = result.gradients["input"]
    assert grad.values.dtype == np.float32
    wanted = exact.gradients["input"].values
    np.testing.assert_allclose(grad.values, wanted, rtol=1e-5, atol=1e-6 * np.abs(wanted).max())
    assert grad.norm == pytest.approx(exact.gradients["input"].norm, rel=1e-6)


# --- rendering a gradient kept in part ------------------------------------------------------


def test_renderers_use_the_whole_shape():
    from rich.console import Console

    spec = get_loss("mse")
    arrays = {"input": np.arange(30.0), "target": np.zeros(30)}
    result = compute_chunked(spec, inputs_of(spec, arrays), {}, "mean", chunk_rows=7, keep_rows=4)
    assert compute_dict(result)["gradients"]["input"]["shape"] == [30]
    console = Console(width=120, record=True)
    compute_table(result, 4, console)
    text = console.export_text()
    assert "d input (30,)" in text
    assert "first 4 of 30 rows" in text


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cli_chunk_size_equals_the_whole_computation(invoke_json, write_file, dtype):
    rng = np.random.default_rng(11)
    pred, labels = write_file("a.csv", rng.normal(size=9).tolist()), write_file("b.csv", rng.normal(size=9).tolist())
    whole = invoke_json(["compute", "mse", pred, labels, "--dtype", dtype])
    chunked = invoke_json(["compute", "mse", pred, labels, "--dtype", dtype, "--chunk-size", "2"])
    rtol = RTOL if dtype == "float64" else 2**-23
    assert chunked["value"] == pytest.approx(whole["value"], rel=rtol)
    got, expected = chunked["gradients"]["input"], whole["gradients"]["input"]
    assert got["shape"] == expected["shape"] == [9]
    np.testing.assert_allclose(got["values"], expected["values"], rtol=rtol)
    for stat in STATISTICS:
        assert got[stat] == pytest.approx(expected[stat], rel=rtol)
    assert {k: v for k, v in chunked.items() if k not in ("value", "gradients")} == {
        k: v for k, v in whole.items() if k not in ("value", "gradients")
    }


def test_cli_chunk_size_none_reduction_and_csv(invoke, invoke_json, write_file):
    pred, labels = write_file("a.csv", [1, 2, 3, 4, 5]), write_file("b.csv", [0, 2, 1, 4, 7])
    out = invoke_json(["compute", "l1", pred, labels, "--reduction", "none", "--chunk-size", "2"])
    assert out["values"] == [1, 0, 2, 0, 2]
    assert out["gradients"]["input"]["values"] == [1, 0, 1, 0, -1]
    csv_out = invoke(["compute", "l1", pred, labels, "--chunk-size", "3", "-f", "csv"])
    assert csv_out.exit_code == 0
    assert csv_out.stdout.splitlines()[1:3] == ["value,,1.0", "grad_input,0,0.2"]


def test_cli_table_shows_the_first_rows_of_every_row(invoke, write_file):
    rng = np.random.default_rng(2)
    pred, labels = write_file("a.csv", rng.normal(size=250).tolist()), write_file("b.csv", np.zeros(250).tolist())
    result = invoke(["compute", "mse", pred, labels])
    assert result.exit_code == 0, result.stderr
    assert "first 10 of 250 rows" in result.stdout
    assert "d input (250,)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if re.match(r"│\s+\d+ │", line)]
    assert len(rows) == 10


def test_cli_grad_out_holds_the_whole_gradient(invoke, write_file, tmp_path):
    pred, labels = write_file("a.csv", [1, 2, 3, 4, 5]), write_file("b.csv", [0, 0, 0, 0, 0])
    target = tmp_path / "g.npy"
    result = invoke(["compute", "mse", pred, labels, "--chunk-size", "2", "--grad-out", target])
    assert result.exit_code == 0, result.stderr
    np.testing.assert_allclose(np.load(target), np.array([2, 4, 6, 8, 10]) / 5, rtol=1e-6)


def test_cli_loss_that_does_not_decompose_warns_and_computes(invoke, write_file):
    embeddings = write_file("e.csv", [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    labels = write_file("l.csv", [0, 0, 1, 1])
    chunked = invoke(["compute", "ntxent", embeddings, labels, "--chunk-size", "1", "-f", "json"])
    assert chunked.exit_code == 0, chunked.stderr
    note = "ntxent does not decompose over samples: --chunk-size is ignored"
    chunked_json = json.loads(chunked.stdout)
    assert note in chunked_json.pop("warnings")  # JSON carries its warnings, and stderr says them too (SPEC)
    assert chunked.stderr.splitlines() == [f"Warning: {note}"]
    whole = invoke(["compute", "ntxent", embeddings, labels, "-f", "json"])
    whole_json = json.loads(whole.stdout)
    assert whole_json.pop("warnings") == [] and chunked_json == whole_json
    table = invoke(["compute", "ntxent", embeddings, labels, "--chunk-size", "1"])
    assert note in table.stderr and note not in table.stdout


@pytest.mark.parametrize("loss", ["jaccard", "mcc"])
def test_cli_losses_that_pool_the_batch_ignore_chunks(invoke, write_file, loss):
    """smp's Jaccard and MCC pool every sample into one overlap: computed whole, with the warning."""
    pred = [[0.9, 0.2, 0.7], [0.1, 0.8, 0.4], [0.6, 0.3, 0.2], [0.2, 0.1, 0.9]]
    if loss == "jaccard":  # logits
        pred = [[4 * v - 2 for v in row] for row in pred]
    pred = write_file("p.csv", pred)
    masks = write_file("m.csv", [[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    args = ["compute", loss, pred, masks, "-f", "value"] + (["-p", "mode=binary"] if loss == "jaccard" else [])
    whole = invoke(args)
    chunked = invoke([*args, "--chunk-size", "2"])
    assert whole.exit_code == chunked.exit_code == 0, chunked.stderr
    assert chunked.stdout == whole.stdout
    assert chunked.stderr.splitlines() == [f"Warning: {loss} does not decompose over samples: --chunk-size is ignored"]


@pytest.mark.parametrize(
    ("loss", "extra"),
    [("arcface", "weight"), ("proxy_anchor", "proxies"), ("vicreg", "ref_emb")],
)
def test_cli_batch_level_losses_with_inputs_of_other_rows_ignore_chunks(invoke, write_file, loss, extra):
    """Computed whole, with the warning, though the extra input (class centres, a second view) is not cut in chunks."""
    embeddings = write_file("e.csv", [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.5, 0.5]])
    other = {"weight": [[1, 0, 1], [0, 1, 1]], "proxies": [[1, 0], [0, 1], [1, 1]], "ref_emb": [[1, 0.2]] * 5}[extra]
    args = ["compute", loss, embeddings]
    if extra != "ref_emb":
        args.append(write_file("l.csv", [0, 0, 1, 1, 2]))
    args += ["--input", f"{extra}={write_file('x.csv', other)}", "-f", "value"]
    whole = invoke(args)
    chunked = invoke([*args, "--chunk-size", "2"])
    assert whole.exit_code == chunked.exit_code == 0, chunked.stderr
    assert chunked.stdout == whole.stdout
    assert chunked.stderr.splitlines() == [f"Warning: {loss} does not decompose over samples: --chunk-size is ignored"]


@pytest.mark.parametrize("loss", ["ssim", "ms_ssim", "charbonnier", "total_variation", "psnr"])
def test_cli_images_in_chunks_of_images(invoke, write_file, loss):
    """A .npy batch of images read a chunk of images at a time: the whole run's value and gradient; psnr, one MSE
    of the whole batch, is computed whole with the warning."""
    rng = np.random.default_rng(5)
    target = rng.uniform(0.2, 0.8, (5, 2, 12, 12))
    args = ["compute", loss, write_file("p.npy", target + rng.normal(0.0, 0.1, target.shape))]
    if loss != "total_variation":
        args.append(write_file("t.npy", target))
    if loss == "ms_ssim":
        args += ["-p", "window_size=3", "-p", "weights=[0.5,0.5]"]
    args += ["-f", "json", "--dtype", "float64"]
    whole = invoke(args)
    chunked = invoke([*args, "--chunk-size", "2"])
    assert whole.exit_code == chunked.exit_code == 0, chunked.stderr
    got, expected = json.loads(chunked.stdout), json.loads(whole.stdout)
    np.testing.assert_allclose(got["value"], expected["value"], rtol=1e-12)
    np.testing.assert_allclose(
        got["gradients"]["input"]["values"], expected["gradients"]["input"]["values"], rtol=1e-10, atol=1e-15
    )
    warned = [f"Warning: {loss} does not decompose over samples: --chunk-size is ignored"] if loss == "psnr" else []
    assert chunked.stderr.splitlines() == warned


def test_cli_chunk_size_must_be_positive(expect_error, write_file):
    files = write_file("a.csv", [1, 2]), write_file("b.csv", [1, 2])
    expect_error(["compute", "mse", *files, "--chunk-size", "0"], 2, "--chunk-size")
