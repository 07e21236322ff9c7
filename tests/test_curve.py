"""`losscli curve` (SPEC §3, issue 6): a loss against one prediction for a fixed target.

The points are checked against independent numpy formulas of each loss on the
construction ``losscli.engine.curves`` documents (the probability of the true class,
a score difference, a cosine, a distance), their derivatives against those
formulas and against central differences of the returned values. Then the
output forms (JSON, CSV, terminal plot, PNG/SVG images), the errors, and a
sweep over every registered loss. Everything runs in-process (CliRunner).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from losscli.engine.curves import KINDS
from losscli.registry import list_losses

SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ---------------------------------------------------------------- helpers


def points_of(curve: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, loss and d loss / d x of one JSON curve (nulls → NaN)."""
    table = np.array([[np.nan if v is None else v for v in row] for row in curve["points"]], dtype=np.float64)
    assert table.ndim == 2 and table.shape[1] == 3, table.shape
    return table[:, 0], table[:, 1], table[:, 2]


def assert_derivative_matches_differences(x: np.ndarray, values: np.ndarray, grads: np.ndarray) -> None:
    """d loss / d x agrees with central differences of the returned losses, at every interior point.

    The truncation error of a central difference is h²/6·f''' ≈ (g[i+1] − 2 g[i] + g[i−1]) / 6,
    so the tolerance is that second difference of the returned derivative (generously, without
    the 1/6), plus a relative 1e-6. This also covers kinks (|x|, hinges), where the returned
    subgradient jumps and the second difference is as large as the jump.
    """
    central = (values[2:] - values[:-2]) / (x[2:] - x[:-2])
    inner = grads[1:-1]
    tolerance = np.abs(grads[2:] - 2 * inner + grads[:-2]) + 1e-6 * (1 + np.abs(inner))
    bad = np.flatnonzero(~(np.abs(central - inner) <= tolerance))
    assert bad.size == 0, [(x[i + 1], inner[i], central[i]) for i in bad[:5]]


def where_not_finite(x: np.ndarray, y: np.ndarray) -> str:
    bad = ~np.isfinite(y)
    return (
        f"{bad.sum()} of {len(y)} points not finite, x from {x[bad].min():g} to {x[bad].max():g}" if bad.any() else ""
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which must come first)."""
    assert data[:8] == PNG_SIGNATURE, data[:8]
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82", "PNG does not end with IEND"
    return width, height


def svg_root(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg", root.tag
    return root


CSS_PX_PER_UNIT = {"pt": 96 / 72, "px": 1.0, "": 1.0}


def svg_length(text: str) -> tuple[float, str]:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(pt|px|)\s*", text)
    assert match, text
    return float(match.group(1)), match.group(2)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def curve_json(invoke_json):
    """``curve_json(*args)``: run ``losscli curve ARGS -f json`` and return the document."""

    def run(*args: object) -> dict:
        return invoke_json(["curve", *args])

    return run


# ---------------------------------------------------------------- 1. the points match the formulas


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def smooth_l1(d: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    inside = np.abs(d) < beta
    return np.where(inside, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta), np.where(inside, d / beta, np.sign(d))


def huber(d: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    inside = np.abs(d) <= delta
    return np.where(inside, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta)), np.where(inside, d, delta * np.sign(d))


def multi_margin(x: np.ndarray, classes: int, margin: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Scores = log-probabilities: log x on the true class, log((1 − x)/(C − 1)) on each other.

    Loss = (C − 1)/C · max(0, margin − log x + log((1 − x)/(C − 1))) (p = 1).
    """
    hinge = margin - np.log(x) + np.log((1 - x) / (classes - 1))
    active = hinge > 0
    scale = (classes - 1) / classes
    return scale * np.maximum(hinge, 0), np.where(active, scale * (-1 / x - 1 / (1 - x)), 0.0)


def kl_two(x: np.ndarray, y: float) -> tuple[np.ndarray, np.ndarray]:
    """KL([y, 1 − y] ‖ [x, 1 − x]) and its derivative in x."""
    return y * np.log(y / x) + (1 - y) * np.log((1 - y) / (1 - x)), -y / x + (1 - y) / (1 - x)


# (id, curve arguments, loss(x), derivative(x), absolute tolerance)
FORMULAS = [
    ("bce-target-1", ["bce", "--target", "1"], lambda x: -np.log(x), lambda x: -1 / x, 1e-9),
    ("bce-target-0", ["bce", "--target", "0"], lambda x: -np.log(1 - x), lambda x: 1 / (1 - x), 1e-9),
    (
        "bce-target-0.3",
        ["bce", "--target", "0.3"],
        lambda x: -(0.3 * np.log(x) + 0.7 * np.log(1 - x)),
        lambda x: -0.3 / x + 0.7 / (1 - x),
        1e-9,
    ),
    ("mse", ["mse", "--target", "0.5"], lambda x: (x - 0.5) ** 2, lambda x: 2 * (x - 0.5), 1e-9),
    ("l2", ["l2", "--target", "-1"], lambda x: (x + 1) ** 2, lambda x: 2 * (x + 1), 1e-9),
    ("l1", ["l1", "--target", "1"], lambda x: np.abs(x - 1), lambda x: np.sign(x - 1), 1e-12),
    ("smooth_l1", ["smooth_l1", "--target", "0"], lambda x: smooth_l1(x, 1.0)[0], lambda x: smooth_l1(x, 1.0)[1], 1e-9),
    (
        "smooth_l1-beta",
        ["smooth_l1", "--target", "1", "-p", "beta=0.5"],
        lambda x: smooth_l1(x - 1, 0.5)[0],
        lambda x: smooth_l1(x - 1, 0.5)[1],
        1e-9,
    ),
    ("huber", ["huber", "--target", "0"], lambda x: huber(x, 1.0)[0], lambda x: huber(x, 1.0)[1], 1e-9),
    (
        "huber-delta",
        ["huber", "--target", "0", "-p", "delta=2"],
        lambda x: huber(x, 2.0)[0],
        lambda x: huber(x, 2.0)[1],
        1e-9,
    ),
    (
        "bce_with_logits-target-1",
        ["bce_with_logits", "--target", "1"],
        lambda x: softplus(-x),
        lambda x: sigmoid(x) - 1,
        1e-9,
    ),
    (
        "bce_with_logits-target-0.25",
        ["bce_with_logits", "--target", "0.25"],
        lambda x: softplus(x) - 0.25 * x,
        lambda x: sigmoid(x) - 0.25,
        1e-9,
    ),
    (
        "multilabel_soft_margin",
        ["multilabel_soft_margin", "--target", "1"],
        lambda x: softplus(-x),
        lambda x: sigmoid(x) - 1,
        1e-9,
    ),
    ("soft_margin-target-1", ["soft_margin", "--target", "1"], lambda x: softplus(-x), lambda x: -sigmoid(-x), 1e-9),
    ("soft_margin-target--1", ["soft_margin", "--target", "-1"], lambda x: softplus(x), lambda x: sigmoid(x), 1e-9),
    ("poisson_nll", ["poisson_nll", "--target", "2"], lambda x: np.exp(x) - 2 * x, lambda x: np.exp(x) - 2, 1e-9),
    ("gaussian_nll-var-1", ["gaussian_nll", "--target", "1"], lambda x: 0.5 * (x - 1) ** 2, lambda x: x - 1, 1e-9),
    ("cross_entropy", ["cross_entropy", "--target", "0"], lambda x: -np.log(x), lambda x: -1 / x, 1e-9),
    (
        "cross_entropy-5-classes",
        ["ce", "--target", "4", "--classes", "5"],
        lambda x: -np.log(x),
        lambda x: -1 / x,
        1e-9,
    ),
    ("nll", ["nll", "--target", "1"], lambda x: -np.log(x), lambda x: -1 / x, 1e-9),
    ("nll2d", ["nll2d", "--target", "2"], lambda x: -np.log(x), lambda x: -1 / x, 1e-9),
    (
        "multi_margin",
        ["multi_margin", "--target", "1"],
        lambda x: multi_margin(x, 3)[0],
        lambda x: multi_margin(x, 3)[1],
        1e-9,
    ),
    (
        "multi_margin-4-classes-margin-2",
        ["multi_margin", "--target", "0", "--classes", "4", "-p", "margin=2"],
        lambda x: multi_margin(x, 4, 2.0)[0],
        lambda x: multi_margin(x, 4, 2.0)[1],
        1e-9,
    ),
    (
        "multilabel_margin",
        ["multilabel_margin", "--target", "2"],
        lambda x: 2 / 3 * np.maximum(1 - x, 0),
        lambda x: np.where(x < 1, -2 / 3, 0.0),
        1e-9,
    ),
    ("kl_div-default-0.5", ["kl_div"], lambda x: kl_two(x, 0.5)[0], lambda x: kl_two(x, 0.5)[1], 1e-9),
    ("kl_div-0.3", ["kl_div", "--target", "0.3"], lambda x: kl_two(x, 0.3)[0], lambda x: kl_two(x, 0.3)[1], 1e-9),
    (
        "margin_ranking-target-1",
        ["margin_ranking", "--target", "1"],
        lambda x: np.maximum(-x, 0),
        lambda x: np.where(x < 0, -1.0, 0.0),
        1e-12,
    ),
    (
        "margin_ranking-target--1-margin",
        ["margin_ranking", "--target", "-1", "-p", "margin=0.5"],
        lambda x: np.maximum(x + 0.5, 0),
        lambda x: np.where(x > -0.5, 1.0, 0.0),
        1e-12,
    ),
    ("hinge_embedding-target-1", ["hinge_embedding", "--target", "1"], lambda x: x, lambda x: np.ones_like(x), 1e-12),
    (
        "hinge_embedding-target--1",
        ["hinge_embedding", "--target", "-1"],
        lambda x: np.maximum(1 - x, 0),
        lambda x: np.where(x < 1, -1.0, 0.0),
        1e-12,
    ),
    (
        "cosine_embedding-target-1",
        ["cosine_embedding", "--target", "1"],
        lambda x: 1 - x,
        lambda x: -np.ones_like(x),
        1e-9,
    ),
    (
        "cosine_embedding-target--1-margin",
        ["cosine_embedding", "--target", "-1", "-p", "margin=0.2"],
        lambda x: np.maximum(x - 0.2, 0),
        lambda x: np.where(x > 0.2, 1.0, 0.0),
        1e-9,
    ),
    # torch's pairwise distance adds eps = 1e-6 to the difference: distances are off by ~1e-6.
    (
        "triplet_margin",
        ["triplet_margin"],
        lambda x: np.maximum(2 - x, 0),
        lambda x: np.where(x < 2, -1.0, 0.0),
        1e-5,
    ),
    (
        "triplet_margin-margin",
        ["triplet_margin", "-p", "margin=0.5"],
        lambda x: np.maximum(1.5 - x, 0),
        lambda x: np.where(x < 1.5, -1.0, 0.0),
        1e-5,
    ),
    (
        "triplet_margin_with_distance",
        ["triplet_margin_with_distance"],
        lambda x: np.maximum(2 - x, 0),
        lambda x: np.where(x < 2, -1.0, 0.0),
        1e-5,
    ),
    ("ctc", ["ctc", "--target", "1"], lambda x: -np.log(x), lambda x: -1 / x, 1e-9),
    ("ctc-4-classes", ["ctc", "--target", "3", "--classes", "4"], lambda x: -np.log(x), lambda x: -1 / x, 1e-9),
]


def near_kink(x: np.ndarray, args: list[str]) -> np.ndarray:
    """Points within 1e-6 of a hinge, where the returned subgradient may be either side's."""
    kinks = {
        "l1": [1.0],
        "smooth_l1": [-1.0, 1.0, 0.5, 1.5],
        "huber": [-2.0, -1.0, 1.0, 2.0],
        "margin_ranking": [0.0, -0.5],
        "hinge_embedding": [1.0],
        "cosine_embedding": [0.2],
        "triplet_margin": [1.5, 2.0],
        "triplet_margin_with_distance": [2.0],
        "multilabel_margin": [1.0],
    }.get(args[0], [])
    mask = np.zeros_like(x, dtype=bool)
    for k in kinks:
        mask |= np.abs(x - k) < 1e-6
    return mask


@pytest.mark.parametrize(
    ("args", "loss", "derivative", "atol"), [f[1:] for f in FORMULAS], ids=[f[0] for f in FORMULAS]
)
def test_points_match_the_formula_and_its_derivative(curve_json, args, loss, derivative, atol):
    data = curve_json(*args)
    x, values, grads = points_of(data)
    assert len(x) == 200
    assert np.isfinite(values).all() and np.isfinite(grads).all()
    np.testing.assert_allclose(values, loss(x), rtol=1e-7, atol=atol)
    smooth = ~near_kink(x, args)
    np.testing.assert_allclose(grads[smooth], derivative(x)[smooth], rtol=1e-7, atol=atol)
    assert_derivative_matches_differences(x, values, grads)


def test_the_formula_table_covers_every_torch_nn_loss():
    drawn = {f[1][0] for f in FORMULAS} | {"cross_entropy"}
    torch_losses = {spec.name for spec in list_losses() if spec.torch_name}
    assert torch_losses <= drawn, sorted(torch_losses - drawn)


def test_class_curves_are_the_probability_of_the_true_class(curve_json):
    """CE on the log of [x, (1 − x)/2, (1 − x)/2] and NLL on those log-probabilities: both −log x."""
    ce = curve_json("cross_entropy", "--target", "1", "--points", "11")
    nll = curve_json("nll", "--target", "1", "--points", "11")
    assert ce["x_axis"] == nll["x_axis"] == KINDS["class"].x_axis
    assert "probability" in ce["x_axis"]
    np.testing.assert_allclose(points_of(ce)[1], points_of(nll)[1], rtol=1e-12)


def test_more_classes_do_not_change_the_true_class_curve_of_ce_but_do_of_multi_margin(curve_json):
    ce3 = points_of(curve_json("ce", "--target", "0", "--points", "9"))[1]
    ce10 = points_of(curve_json("ce", "--target", "0", "--classes", "10", "--points", "9"))[1]
    np.testing.assert_allclose(ce3, ce10, rtol=1e-12)
    mm3 = points_of(curve_json("multi_margin", "--target", "0", "--points", "9"))[1]
    mm10 = points_of(curve_json("multi_margin", "--target", "0", "--classes", "10", "--points", "9"))[1]
    assert not np.allclose(mm3, mm10)


# ---------------------------------------------------------------- 2. shape of the curves and the output forms


def test_bce_target_1_decreases_and_target_0_increases(curve_json):
    """The article's two figures: −log x falls to 0 at x = 1, −log(1 − x) rises from 0 at x = 0."""
    data = curve_json("bce", "--target", "1,0")
    one, zero = data["curves"]
    assert (one["target"], zero["target"]) == (1, 0)
    x1, v1, g1 = points_of(one)
    x0, v0, g0 = points_of(zero)
    assert (np.diff(v1) < 0).all() and (g1 < 0).all()
    assert (np.diff(v0) > 0).all() and (g0 > 0).all()
    assert v1[-1] < 0.01 and v0[0] < 0.01
    assert v1[0] > 5 and v0[-1] > 5
    np.testing.assert_allclose(v1, v0[::-1], rtol=1e-9)  # mirror images about x = 0.5


def test_json_has_the_spec_keys_and_lists_every_curve(curve_json):
    data = curve_json("bce", "--target", "1,0")
    assert {"loss", "target", "points", "curves"} <= data.keys()
    assert data["loss"] == "bce" and data["target"] == 1
    assert [(c["loss"], c["target"]) for c in data["curves"]] == [("bce", 1), ("bce", 0)]
    assert data["points"] == data["curves"][0]["points"]
    for c in data["curves"]:
        assert {"loss", "target", "points"} <= c.keys()
        assert len(c["points"]) == 200
        assert all(len(row) == 3 for row in c["points"])
        assert c["x_axis"] == "predicted probability"


def test_several_losses_overlay_in_command_line_order(curve_json):
    """The issue's second reproduction: why SmoothL1 is gentler with outliers."""
    data = curve_json("mse,l1,smooth_l1,huber", "--target", "0", "--range", "-3:3")
    assert [c["loss"] for c in data["curves"]] == ["mse", "l1", "smooth_l1", "huber"]
    ends = {c["loss"]: points_of(c)[1][[0, -1]] for c in data["curves"]}
    np.testing.assert_allclose(ends["mse"], [9, 9])
    np.testing.assert_allclose(ends["l1"], [3, 3])
    np.testing.assert_allclose(ends["smooth_l1"], [2.5, 2.5])
    np.testing.assert_allclose(ends["huber"], [2.5, 2.5])
    slopes = {c["loss"]: points_of(c)[2][-1] for c in data["curves"]}
    assert slopes["mse"] == pytest.approx(6) and slopes["smooth_l1"] == pytest.approx(1)


def test_several_losses_times_several_targets(curve_json):
    data = curve_json("mse,l1", "--target", "0,1")
    assert [(c["loss"], c["target"]) for c in data["curves"]] == [("mse", 0), ("mse", 1), ("l1", 0), ("l1", 1)]


def test_aliases_resolve_and_repeat_only_once(curve_json):
    data = curve_json("BCELoss,binary-cross-entropy,bce", "--target", "1")
    assert [c["loss"] for c in data["curves"]] == ["bce"]


def test_param_goes_only_to_the_losses_that_take_it(curve_json):
    data = curve_json("smooth_l1,huber", "--target", "0", "-p", "delta=2", "--range", "-3:3")
    by_loss = {c["loss"]: points_of(c)[1] for c in data["curves"]}
    np.testing.assert_allclose(by_loss["huber"][-1], 2 * (3 - 1))  # delta (|d| − delta/2)
    np.testing.assert_allclose(by_loss["smooth_l1"][-1], 3 - 0.5)  # beta stays 1


def test_csv_has_the_header_and_a_row_per_point(invoke):
    result = invoke(["curve", "bce", "--target", "1,0", "--points", "7", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["loss", "target", "x", "value", "dloss_dx"]
    body = rows[1:]
    assert len(body) == 14
    assert {r[0] for r in body} == {"bce"}
    assert [float(r[1]) for r in body] == [1.0] * 7 + [0.0] * 7
    table = np.array([[float(v) for v in r[2:]] for r in body])
    x = table[:7, 0]
    np.testing.assert_allclose(table[:7, 1], -np.log(x), rtol=1e-9)
    np.testing.assert_allclose(table[7:, 1], -np.log(1 - x), rtol=1e-9)
    np.testing.assert_allclose(table[:7, 2], -1 / x, rtol=1e-9)


def test_csv_leaves_the_target_empty_for_target_free_losses(invoke):
    result = invoke(["curve", "triplet_margin", "--points", "3", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3 and {r["target"] for r in rows} == {""}


def test_target_free_losses_have_null_target_in_json(curve_json):
    data = curve_json("triplet_margin", "--points", "5")
    assert data["target"] is None


@pytest.mark.parametrize("n", [2, 7, 1000])
def test_points_option_gives_that_many_points(curve_json, n):
    data = curve_json("mse", "--points", n)
    x = points_of(data)[0]
    assert len(x) == n
    assert (np.diff(x) > 0).all()
    np.testing.assert_allclose(np.diff(x), (x[-1] - x[0]) / (n - 1))


@pytest.mark.parametrize(
    ("loss", "span", "ends"),
    [("mse", "-3:3", (-3, 3)), ("bce", "0.2:0.8", (0.2, 0.8)), ("huber", "1e-1:2.5", (0.1, 2.5))],
)
def test_range_sets_the_ends(curve_json, loss, span, ends):
    x = points_of(curve_json(loss, "--range", span))[0]
    assert (x[0], x[-1]) == pytest.approx(ends)


def test_range_with_equals_sign(curve_json):
    x = points_of(curve_json("mse", "--range=-2:-1", "--points", "3"))[0]
    assert x.tolist() == [-2, -1.5, -1]


@pytest.mark.parametrize(
    ("args", "lo", "hi"),
    [
        (["bce"], (0, 0.01), (0.99, 1)),  # probabilities: (0, 1), just inside
        (["ce", "--target", "1"], (0, 0.01), (0.99, 1)),
        (["kl_div"], (0, 0.01), (0.99, 1)),
        (["ctc"], (0, 0.01), (0.99, 1)),
        (["bce_with_logits", "--target", "0.3"], (-6, -6), (6, 6)),  # logits: (−6, 6) whatever the target
        (["soft_margin", "--target", "-1"], (-6, -6), (6, 6)),
        (["mse", "--target", "2"], (-4, -4), (8, 8)),  # regression: around the target
        (["l1"], (-6, -6), (6, 6)),
        (["margin_ranking"], (-6, -6), (6, 6)),
        (["cosine_embedding"], (-1, -0.99), (0.99, 1)),
    ],
)
def test_default_ranges(curve_json, args, lo, hi):
    x = points_of(curve_json(*args))[0]
    assert lo[0] <= x[0] <= lo[1] and hi[0] <= x[-1] <= hi[1], (x[0], x[-1])
    if lo[0] == 0:
        assert x[0] > 0 and x[-1] < 1  # open interval: −log stays finite


def test_default_targets(curve_json):
    """A typical target when none is given: 1 for bce, class 0 for ce, 0 for regression, 0.5 for kl_div."""
    assert curve_json("bce", "--points", "3")["target"] == 1
    assert curve_json("bce_with_logits", "--points", "3")["target"] == 1
    assert curve_json("soft_margin", "--points", "3")["target"] == 1
    assert curve_json("ce", "--points", "3")["target"] == 0
    assert curve_json("mse", "--points", "3")["target"] == 0
    assert curve_json("kl_div", "--points", "3")["target"] == 0.5
    assert curve_json("ctc", "--points", "3")["target"] == 1


def test_x_axis_says_which_prediction(curve_json):
    assert curve_json("bce", "--points", "3")["x_axis"] == "predicted probability"
    assert "logit" in curve_json("bce_with_logits", "--points", "3")["x_axis"]
    assert curve_json("mse", "--points", "3")["x_axis"] == "prediction"
    assert "cosine" in curve_json("cosine_embedding", "--points", "3")["x_axis"]
    assert "difference" in curve_json("margin_ranking", "--points", "3")["x_axis"]
    assert "distance" in curve_json("triplet_margin", "--points", "3")["x_axis"]


# ---------------------------------------------------------------- 3. images


def test_png_has_the_default_size(invoke, tmp_path):
    out = tmp_path / "figure.png"
    result = invoke(["curve", "bce", "--target", "1,0", "--out", out])
    assert result.exit_code == 0, result.stderr
    assert png_size(out.read_bytes()) == (800, 500)
    assert leftovers(tmp_path) == ["figure.png"]


@pytest.mark.parametrize("size", ["640x480", "300X120"])
def test_png_has_the_requested_size(invoke, tmp_path, size):
    out = tmp_path / "f.PNG"
    result = invoke(["curve", "mse", "--out", out, "--size", size, "--points", "20"])
    assert result.exit_code == 0, result.stderr
    width, height = (int(v) for v in size.lower().split("x"))
    assert png_size(out.read_bytes()) == (width, height)


def test_grad_draws_a_second_panel_and_the_image_stays_valid(invoke, tmp_path):
    plain, both = tmp_path / "plain.png", tmp_path / "grad.png"
    assert invoke(["curve", "mse,l1", "--out", plain, "--points", "20"]).exit_code == 0
    assert invoke(["curve", "mse,l1", "--out", both, "--grad", "--points", "20"]).exit_code == 0
    assert png_size(both.read_bytes()) == (800, 500)
    assert plain.read_bytes() != both.read_bytes()


def test_grad_panel_in_svg_has_the_derivative_axis_label(invoke, tmp_path):
    out = tmp_path / "g.svg"
    assert invoke(["curve", "huber", "--grad", "--out", out, "--points", "20"]).exit_code == 0
    text = out.read_text()
    svg_root(out)
    # matplotlib writes text as glyph paths, naming each text object in a comment.
    assert "d loss / d x" in text and "huber: loss against the prediction" in text


@pytest.mark.parametrize("size", ["800x500", "400x300"])
def test_svg_is_valid_with_the_requested_aspect_ratio(invoke, tmp_path, size):
    """matplotlib writes width/height in pt with a viewBox in the same units."""
    out = tmp_path / "f.svg"
    result = invoke(["curve", "bce", "--target", "1,0", "--out", out, "--size", size])
    assert result.exit_code == 0, result.stderr
    root = svg_root(out)
    (w, w_unit), (h, h_unit) = svg_length(root.get("width")), svg_length(root.get("height"))
    assert w_unit == h_unit
    box = [float(v) for v in root.get("viewBox").split()]
    assert box == pytest.approx([0, 0, w, h])
    width, height = (int(v) for v in size.split("x"))
    assert w / h == pytest.approx(width / height, rel=1e-3)
    text = out.read_text()  # matplotlib names each text object in a comment: title, labels, legend
    for label in ("bce: loss against the predicted probability", "bce, target 1", "bce, target 0", "loss"):
        assert f"<!-- {label} -->" in text, label
    assert leftovers(tmp_path) == ["f.svg"]


def test_svg_has_the_requested_size_in_css_pixels(invoke, tmp_path):
    out = tmp_path / "f.svg"
    assert invoke(["curve", "bce", "--out", out]).exit_code == 0
    root = svg_root(out)
    (w, unit), (h, _) = svg_length(root.get("width")), svg_length(root.get("height"))
    assert (w * CSS_PX_PER_UNIT[unit], h * CSS_PX_PER_UNIT[unit]) == pytest.approx((800, 500), abs=0.5)


def test_image_gets_the_usual_file_permissions(invoke, tmp_path):
    out = tmp_path / "f.png"
    old = os.umask(0o022)
    try:
        assert invoke(["curve", "mse", "--out", out, "--points", "5"]).exit_code == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_out_with_json_writes_the_image_and_the_document(invoke, tmp_path):
    out = tmp_path / "f.png"
    result = invoke(["curve", "bce", "--out", out, "-f", "json", "--points", "5"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["loss"] == "bce"
    png_size(out.read_bytes())


def test_out_replaces_an_existing_file(invoke, tmp_path):
    out = tmp_path / "f.png"
    out.write_bytes(b"old")
    assert invoke(["curve", "mse", "--out", out, "--points", "5"]).exit_code == 0
    assert png_size(out.read_bytes()) == (800, 500)
    assert leftovers(tmp_path) == ["f.png"]


def test_out_into_a_missing_directory_is_exit_2_and_writes_nothing(expect_error, tmp_path):
    out = tmp_path / "missing" / "f.png"
    expect_error(["curve", "bce", "--out", out], 2, "--out", "missing", "mkdir -p")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["f.jpg", "f", "f.png.txt", "f.pdf"])
def test_out_with_another_suffix_is_a_usage_error(expect_error, tmp_path, name):
    expect_error(["curve", "bce", "--out", tmp_path / name], 2, "--out", ".png", ".svg")
    assert leftovers(tmp_path) == []


def test_a_failing_curve_writes_no_image(expect_error, tmp_path):
    expect_error(["curve", "bce", "--target", "2", "--out", tmp_path / "f.png"], 2)
    assert leftovers(tmp_path) == []


def test_a_full_disk_leaves_no_temporary_file_and_keeps_the_old_image(expect_error, full_disk, tmp_path):
    out = tmp_path / "f.png"
    out.write_bytes(b"previous image")
    full_disk(100)
    expect_error(["curve", "mse", "--out", out, "--points", "5"], 3, f"--out {out}", "needed about", "kB")
    assert leftovers(tmp_path) == ["f.png"]
    assert out.read_bytes() == b"previous image"


# ---------------------------------------------------------------- 4. the terminal plot


def plot_lines(stdout: str) -> list[str]:
    return [line for line in ANSI.sub("", stdout).splitlines() if line.strip()]


@pytest.mark.parametrize("columns", ["40", "200"])
def test_terminal_plot_renders_at_any_width(runner, columns):
    from losscli.cli import app

    result = runner.invoke(app, ["curve", "bce", "--target", "1,0"], env={"COLUMNS": columns})
    assert result.exit_code == 0, (result.stderr, result.exception)
    lines = plot_lines(result.stdout)
    assert len(lines) >= 10
    assert max(len(line) for line in lines) <= int(columns)
    text = "\n".join(lines)
    assert "bce" in text  # the title
    assert "bce, target 1" in text and "bce, target 0" in text  # the legend
    assert "predicted probability" in text  # the x label
    assert "\x1b[" not in result.stdout  # no colour codes when stdout is not a terminal


def test_terminal_plot_of_several_losses_has_a_legend_entry_each(runner):
    from losscli.cli import app

    result = runner.invoke(
        app, ["curve", "mse,l1,smooth_l1,huber", "--target", "0", "--range", "-3:3"], env={"COLUMNS": "100"}
    )
    assert result.exit_code == 0, result.stderr
    for label in ("mse, target 0", "l1, target 0", "smooth_l1, target 0", "huber, target 0"):
        assert label in result.stdout


def test_terminal_grad_prints_two_plots(runner):
    from losscli.cli import app

    plain = runner.invoke(app, ["curve", "mse", "--points", "50"], env={"COLUMNS": "60"})
    both = runner.invoke(app, ["curve", "mse", "--points", "50", "--grad"], env={"COLUMNS": "60"})
    assert plain.exit_code == both.exit_code == 0, both.stderr
    assert plain.stdout.count("┌") == 1
    assert both.stdout.count("┌") == 2
    assert "derivative" in both.stdout and "d loss / d x" in both.stdout
    assert "derivative" not in plain.stdout


def test_terminal_plot_skips_infinite_points(runner):
    """ce at x = 0 is +inf: the rest of the curve is still drawn, and JSON gives null there."""
    from losscli.cli import app

    result = runner.invoke(app, ["curve", "ce", "--range", "0:1", "--points", "11"], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.stderr
    assert "cross_entropy" in result.stdout


def test_infinite_points_are_null_in_json(curve_json):
    x, values, grads = points_of(curve_json("ce", "--range", "0:1", "--points", "11"))
    assert np.isnan(values[0]) and np.isfinite(values[1:]).all()


# ---------------------------------------------------------------- 5. errors


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["bcee"], ("unknown loss", "did you mean", "bce")),
        (["mse,nosuchloss"], ("unknown loss", "nosuchloss")),
        (["ce", "--target", "5"], ("--target 5", "class index", "--classes")),
        (["ce", "--target", "0.5"], ("--target 0.5",)),
        (["nll", "--target", "-1"], ("--target -1",)),
        (["multilabel_margin", "--target", "3"], ("--target 3",)),
        (["ctc", "--target", "0"], ("blank",)),
        (["bce", "--target", "1.5"], ("--target 1.5", "[0, 1]")),
        (["bce", "--target", "-0.1"], ("--target -0.1",)),
        (["bce", "--target", "1,2"], ("--target 2",)),
        (["bce_with_logits", "--target", "2"], ("--target 2",)),
        (["kl_div", "--target", "1.5"], ("--target 1.5",)),
        (["poisson_nll", "--target", "-1"], ("--target -1", ">= 0")),
        (["soft_margin", "--target", "0"], ("--target 0", "1 or -1")),
        (["margin_ranking", "--target", "0"], ("--target 0", "1 or -1")),
        (["hinge_embedding", "--target", "0"], ("--target 0", "1 or -1")),
        (["cosine_embedding", "--target", "0"], ("--target 0", "1 or -1")),
        (["mse", "--target", "abc"], ("--target", "abc")),
        (["mse", "--range", "3:1"], ("--range", "3:1", "LO:HI")),
        (["mse", "--range", "1:1"], ("--range",)),
        (["mse", "--range", "abc"], ("--range", "abc")),
        (["mse", "--range", "1"], ("--range",)),
        (["mse", "--range", "a:b"], ("--range",)),
        (["mse", "--size", "800"], ("--size", "WIDTHxHEIGHT")),
        (["mse", "--size", "axb"], ("--size",)),
        (["mse", "--size", "0x0"], ("--size",)),
        (["mse", "--size", "-800x500"], ("--size",)),
        (["mse", "-p", "delta=2"], ("delta", "mse")),
        (["mse,l1", "-p", "margin=1"], ("margin",)),
        (["huber", "-p", "delta=abc"], ("delta",)),
        (["mse", "--points", "1"], ("--points",)),
        (["mse", "--points", "abc"], ("--points",)),
        (["ce", "--classes", "1"], ("--classes",)),
        ([","], ("at least one loss",)),
    ],
)
def test_usage_errors_exit_2(expect_error, args, fragments):
    expect_error(["curve", *args], 2, *fragments)


def test_no_loss_at_all_is_a_usage_error(invoke):
    result = invoke(["curve"])
    assert result.exit_code == 2
    assert result.stdout == ""


NON_FINITE_OPTIONS = [
    ["mse", "--target", "nan"],
    ["mse", "--target", "inf"],
    ["huber", "--target", "-inf"],
    ["mse", "--range", "-inf:0"],
    ["mse", "--range", "0:1e400"],
]


@pytest.mark.parametrize("args", NON_FINITE_OPTIONS, ids=" ".join)
def test_non_finite_target_or_range_is_a_usage_error(expect_error, args):
    expect_error(["curve", *args], 2)


@pytest.mark.parametrize(
    "args",
    [
        ["bce", "--range", "-1:2"],
        ["cross_entropy", "--range", "-1:2"],
        ["nll", "--range", "0.5:2"],
        ["kl_div", "--range", "0:1.5"],
        ["ctc", "--range", "-0.5:0.5"],
        ["cosine_embedding", "--range", "-2:2"],
    ],
    ids=" ".join,
)
def test_range_outside_the_axis_domain_is_a_usage_error(expect_error, args):
    expect_error(["curve", *args], 2, "--range")


# ---------------------------------------------------------------- 6. every registered loss draws


TORCH_LOSSES = [spec.name for spec in list_losses() if spec.torch_name]
ALL_LOSSES = [spec.name for spec in list_losses()]


@pytest.mark.parametrize("name", TORCH_LOSSES)
def test_every_torch_nn_loss_draws_a_finite_curve(curve_json, name):
    data = curve_json(name)
    assert data["loss"] == name
    assert data["x_axis"]
    x, values, grads = points_of(data)
    assert len(x) == 200 and (np.diff(x) > 0).all()
    assert np.isfinite(values).all(), where_not_finite(x, values)
    assert np.isfinite(grads[1:-1]).all(), where_not_finite(x[1:-1], grads[1:-1])
    assert_derivative_matches_differences(x, values, grads)
    assert np.ptp(values) > 0, "a flat curve shows nothing"


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_every_registered_loss_draws_in_the_terminal_and_to_a_file(runner, tmp_path, name):
    """One run plots in the terminal and writes a PNG; a small image and few points keep the sweep fast."""
    from losscli.cli import app
    from losscli.engine.curves import draw
    from losscli.registry import get_loss

    curve = draw(get_loss(name), None, points=40)
    assert np.isfinite(curve.values).all(), where_not_finite(curve.x, curve.values)
    assert np.isfinite(curve.grads[1:-1]).all(), where_not_finite(curve.x[1:-1], curve.grads[1:-1])

    out = tmp_path / f"{name}.png"
    result = runner.invoke(
        app, ["curve", name, "--points", "40", "--out", str(out), "--size", "240x150"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert name in result.stdout and result.stdout.count("┌") == 1
    assert png_size(out.read_bytes()) == (240, 150)


def test_every_registered_spec_names_a_curve_kind():
    unknown = {spec.name: spec.curve for spec in list_losses() if spec.curve not in KINDS}
    assert not unknown
