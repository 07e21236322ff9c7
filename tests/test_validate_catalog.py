"""The validation the catalogue of issue 5 added (``losscli/validate.py``), through the CLI.

One test (or one parametrized group) per shape rule — ``quantiles``, ``tweedie``,
``rows``, ``masks``, ``vectors``, ``embedding_labels``, ``boxes``, ``brier`` — and per
value domain — ``positive``, ``binary_or_sign``, ``binary``, ``boxes``,
``boxes_aspect``, ``direction`` — each with a failing input and a passing edge case. A bad file
exits 3 with one ``Error:`` line naming the file, the row/column (or the shapes)
and the fix; a bad ``-p`` value exits 2 (SPEC §4, ``expect_error``). The
fragments below are taken from the messages in ``losscli/validate.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

# --- helpers -------------------------------------------------------------------------


@pytest.fixture
def compute_json(invoke_json: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``compute_json(loss, pred, labels, *options)``: a successful ``compute`` (no gradient) as JSON."""

    def run(loss: str, pred: str, labels: str, *options: Any) -> dict[str, Any]:
        out = invoke_json(["compute", loss, pred, labels, "--no-grad", *options])
        assert out["loss"] == loss
        return out

    return run


def column(name: str, *values: Any) -> list[Any]:
    """A one-column CSV: a header and one value per row."""
    return [name, *values]


BOX_HEADER = "x1,y1,x2,y2"


def boxes(*rows: tuple[float, float, float, float]) -> list[str]:
    """A box CSV with the x1, y1, x2, y2 header."""
    return [BOX_HEADER, *(",".join(str(v) for v in row) for row in rows)]


def pinball_ref(pred: np.ndarray, y: np.ndarray, q: list[float]) -> float:
    diff = y[:, None] - pred
    return float(np.mean(np.maximum(np.asarray(q) * diff, (np.asarray(q) - 1) * diff)))


# --- shape rule: quantiles (pinball) --------------------------------------------------

Q3 = [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]]


def test_quantiles_rule_refuses_targets_of_another_length(expect_error, write_file):
    pred = write_file("q3.csv", Q3)
    labels = write_file("y3.csv", column("y", 1.0, 2.0, 3.0))
    expect_error(
        ["compute", "pinball", pred, labels, "-p", "quantile=[0.1,0.5,0.9]"],
        3,
        pred,
        "(2, 3)",
        labels,
        "(3,)",
        "targets shaped like the predictions, or one per row against (N, Q) predictions",
    )


def test_quantiles_rule_refuses_a_matrix_of_targets_against_one_column(expect_error, write_file):
    pred = write_file("p.csv", column("p", 1.0, 2.0))
    labels = write_file("y.csv", Q3)
    expect_error(["compute", "pinball", pred, labels], 3, pred, "(2,)", labels, "(2, 3)", "pinball needs")


@pytest.mark.parametrize(
    ("quantile", "fragments"),
    [
        ("[0.1,0.5]", ["gives 2 quantiles", "has 3 prediction columns", "one quantile per column"]),
        ("0.5", ["3 prediction columns against one target per row", "gives one (0.5)", "quantile=[0.1,0.5,0.9]"]),
        (None, ["no -p quantile is given", "give one quantile per column"]),
        ("[0.1,0.5,1.5]", ["holds 1.5, outside [0, 1]", "give levels like 0.9"]),
        ("-0.1", ["holds -0.1, outside [0, 1]"]),
        ("[]", ["expected a JSON list of numbers"]),
        ("[0.1,true,0.9]", ["expected a JSON list of numbers"]),
    ],
    ids=["count", "one-for-three", "missing", "above-1", "below-0", "empty", "bool"],
)
def test_quantile_parameter_problems_exit_2(expect_error, write_file, quantile, fragments):
    pred = write_file("q3.csv", Q3)
    labels = write_file("y.csv", column("y", 2.0, 3.0))
    args = ["compute", "pinball", pred, labels]
    if quantile is not None:
        args += ["-p", f"quantile={quantile}"]
    expect_error(args, 2, "pinball", *fragments)


@pytest.mark.parametrize("target_shape", ["rows", "column", "matrix"])
def test_quantiles_rule_passes_levels_at_the_bounds(compute_json, write_file, target_shape):
    """q = 0 and q = 1 are allowed; targets (N,), (N, 1) or (N, Q) all fit (N, Q) predictions."""
    pred = np.array(Q3)
    y = np.array([2.5, 2.0])
    target = {"rows": y, "column": y[:, None], "matrix": np.repeat(y[:, None], 3, axis=1)}[target_shape]
    out = compute_json(
        "pinball",
        write_file("q.npy", pred),
        write_file("y.npy", target),
        "-p",
        "quantile=[0,0.5,1]",
        "--dtype",
        "float64",
    )
    assert out["params"]["quantile"] == [0.0, 0.5, 1.0]
    assert out["value"] == pytest.approx(pinball_ref(pred, y, [0.0, 0.5, 1.0]), rel=1e-12)


def test_quantiles_rule_single_level_for_matching_shapes(compute_json, write_file):
    """One level for a whole (N, Q) matrix is fine when the targets are shaped like it."""
    pred = write_file("q.npy", np.array(Q3))
    out = compute_json("pinball", pred, pred, "-p", "quantile=0.9")
    assert out["value"] == 0.0


# --- shape rule: tweedie --------------------------------------------------------------


@pytest.fixture
def tweedie_files(write_file):
    return {
        "pred": write_file("mu.csv", column("mu", 1.0, 2.0, 3.0)),
        "pred_zero": write_file("mu0.csv", column("mu", 1.0, 2.0, 0.0)),
        "pred_negative": write_file("mu_neg.csv", column("mu", 1.0, -2.0, 3.0)),
        "y": write_file("y.csv", column("y", 1.0, 0.0, 2.0)),
        "y_negative": write_file("y_neg.csv", column("y", 1.0, -1.0, 2.0)),
        "y_wide": write_file("y_wide.csv", [[1, 2], [3, 4]]),
    }


@pytest.mark.parametrize(
    ("pred", "labels", "power", "bad", "fragments"),
    [
        (
            "pred_zero",
            "y",
            None,
            "pred_zero",
            ["row 3 (line 4), column 'mu'", "input 0 is not > 0", "power 1.5", "log-link"],
        ),
        ("pred_negative", "y_negative", "-1", "pred_negative", ["row 2 (line 3), column 'mu'", "input -2 is not > 0"]),
        (
            "pred",
            "y_negative",
            None,
            "y_negative",
            ["row 2 (line 3), column 'y'", "target -1 is not >= 0", "non-negative"],
        ),
        (
            "pred",
            "y",
            "2",
            "y",
            ["row 2 (line 3), column 'y'", "target 0 is not > 0", "power 2", "use a power in [1, 2)"],
        ),
        ("pred", "y_negative", "3", "y_negative", ["row 2 (line 3), column 'y'", "target -1 is not > 0", "power 3"]),
    ],
    ids=["pred-zero", "pred-negative-power-below-0", "target-negative", "target-zero-gamma", "inverse-gaussian"],
)
def test_tweedie_rule_refuses_values_outside_the_power_domain(
    expect_error, tweedie_files, pred, labels, power, bad, fragments
):
    args = ["compute", "tweedie", tweedie_files[pred], tweedie_files[labels]]
    if power is not None:
        args += ["-p", f"power={power}"]
    expect_error(args, 3, tweedie_files[bad], *fragments)


def test_tweedie_rule_refuses_mismatched_shapes(expect_error, tweedie_files):
    expect_error(
        ["compute", "tweedie", tweedie_files["pred"], tweedie_files["y_wide"]],
        3,
        "(3,)",
        "(2, 2)",
        "tweedie needs the same shape",
    )


@pytest.mark.parametrize("power", ["0.5", "0.001", "0.999"])
def test_tweedie_power_between_0_and_1_exits_2(expect_error, tweedie_files, power):
    expect_error(
        ["compute", "tweedie", tweedie_files["pred"], tweedie_files["y"], "-p", f"power={power}"],
        2,
        f"tweedie: -p power={float(power):g} is in (0, 1)",
        "use power <= 0 or >= 1",
    )


@pytest.mark.parametrize(
    ("pred", "labels", "power"),
    [
        ("pred", "y", "1"),  # Poisson: a zero target is fine
        ("pred", "y", "1.999"),
        ("pred_negative", "y_negative", "0"),  # normal: anything goes
        ("pred", "y_negative", "-1"),  # power < 0: any target, positive means
    ],
    ids=["poisson-zero-target", "just-below-2", "normal-negative", "power-below-0-negative-target"],
)
def test_tweedie_rule_passes_the_edges_of_each_domain(compute_json, tweedie_files, pred, labels, power):
    out = compute_json("tweedie", tweedie_files[pred], tweedie_files[labels], "-p", f"power={power}")
    assert out["params"]["power"] == float(power)
    assert out["value"] is not None and out["value"] >= -1e-6


# --- shape rule: rows (generalized_kl) ------------------------------------------------


def test_rows_rule_refuses_a_single_vector(expect_error, write_file):
    flat = write_file("flat.csv", column("x", 0.1, 0.2))
    expect_error(
        ["compute", "generalized_kl", flat, flat],
        3,
        flat,
        "input of shape (2,)",
        "generalized_kl needs (N, C)",
        "a single distribution is one row of C columns",
    )


def test_rows_rule_refuses_rows_of_another_count(expect_error, write_file):
    pred = write_file("p.npy", np.log(np.full((2, 2), 0.5)))
    labels = write_file("y.npy", np.full((1, 2), 0.5))
    expect_error(["compute", "generalized_kl", pred, labels], 3, pred, "(2, 2)", labels, "(1, 2)", "same shape")


def test_rows_rule_passes_one_row(compute_json, write_file):
    """A single distribution given as one row of C columns; exp(x) = y scores 0."""
    y = np.array([[0.2, 0.3, 0.5]])
    out = compute_json("generalized_kl", write_file("p.npy", np.log(y)), write_file("y.npy", y), "--dtype", "float64")
    assert out["n_samples"] == 1
    assert out["value"] == pytest.approx(0.0, abs=1e-12)


# --- shape rule: masks (dice, tversky) ------------------------------------------------


@pytest.mark.parametrize("loss", ["dice", "tversky"])
def test_masks_rule_refuses_a_flat_vector(expect_error, write_file, loss):
    flat = write_file("flat.csv", column("p", 0.1, 0.9))
    expect_error(
        ["compute", loss, flat, flat],
        3,
        flat,
        "input of shape (2,)",
        "needs (N, d1, ...)",
        "give a single mask as one row",
    )


@pytest.mark.parametrize("loss", ["dice", "tversky"])
def test_masks_rule_per_class_needs_a_class_axis(expect_error, write_file, loss):
    masks = write_file("m.csv", [[0.1, 0.9], [0.3, 0.4]])
    expect_error(
        ["compute", loss, masks, masks, "-p", "per_class=true"],
        3,
        masks,
        "(2, 2)",
        "per_class=true needs (N, C, d1, ...)",
        "or drop -p per_class",
    )


def test_masks_rule_refuses_mismatched_masks(expect_error, write_file):
    pred = write_file("p.npy", np.full((2, 1, 4, 4), 0.5))
    labels = write_file("y.npy", np.ones((2, 4, 4)))
    expect_error(["compute", "dice", pred, labels], 3, pred, "(2, 1, 4, 4)", labels, "(2, 4, 4)")


@pytest.mark.parametrize("loss", ["dice", "tversky"])
def test_masks_rule_passes_one_row_and_per_class_masks(compute_json, write_file, loss):
    one = write_file("one.npy", np.array([[1.0, 0.0, 1.0, 1.0]]))
    assert compute_json(loss, one, one)["value"] == pytest.approx(0.0, abs=1e-6)  # a perfect mask
    per_class = np.eye(3)[np.random.default_rng(0).integers(0, 3, (2, 5, 5))].transpose(0, 3, 1, 2)
    path = write_file("per_class.npy", per_class)
    out = compute_json(loss, path, path, "-p", "per_class=true", "--reduction", "none")
    assert np.asarray(out["values"]).shape == (2, 3)


def test_mask_parameter_problems_exit_2(expect_error, write_file):
    masks = write_file("m.npy", np.full((2, 4), 0.5))
    expect_error(["compute", "dice", masks, masks, "-p", "smooth=-1"], 2, "dice: -p smooth=-1", ">= 0")
    expect_error(["compute", "tversky", masks, masks, "-p", "beta=-0.1"], 2, "tversky: -p beta=-0.1", ">= 0")
    expect_error(["compute", "dice", masks, masks, "-p", "per_class=1"], 2, "per_class", "true or false")


# --- shape rules: seg_classes, class_masks, class_images, binary_masks, jaccard (segmentation) ----


@pytest.fixture
def seg_files(write_file):
    """Logits (2, 3, 4, 4), their class indices and one-hot masks, and malformed targets."""
    rng = np.random.default_rng(0)
    index = rng.integers(0, 3, (2, 4, 4))
    onehot = np.moveaxis(np.eye(3)[index], -1, 1)
    high = index.copy()
    high[1, 2, 3] = 3
    return {
        "logits": write_file("logits.npy", rng.normal(size=(2, 3, 4, 4))),
        "one_channel": write_file("one.npy", rng.normal(size=(2, 1, 4, 4))),
        "flat": write_file("flat.npy", rng.normal(size=5)),
        "index": write_file("index.npy", index),
        "onehot": write_file("onehot.npy", onehot),
        "probs": write_file("probs.npy", np.full((2, 3, 4, 4), 1 / 3)),
        "volume_probs": write_file("volume.npy", np.full((2, 3, 4), 1 / 3)),
        "high": write_file("high.npy", high),
        "wide": write_file("wide.npy", index[:, :, :3]),
        "twos": write_file("twos.npy", 2 * onehot),
        "mask": write_file("mask.npy", (onehot[:, :1] > 0).astype(np.float64)),
    }


SEG_LOGIT_LOSSES = ["dice_ce", "dice_focal", "jaccard", "lovasz_softmax"]


@pytest.mark.parametrize("loss", SEG_LOGIT_LOSSES)
def test_seg_classes_rule_passes_indices_and_one_hot_masks(compute_json, seg_files, loss):
    by_index = compute_json(loss, seg_files["logits"], seg_files["index"])["value"]
    if loss != "lovasz_softmax":  # class indices only
        assert compute_json(loss, seg_files["logits"], seg_files["onehot"])["value"] == pytest.approx(by_index)


@pytest.mark.parametrize("loss", SEG_LOGIT_LOSSES)
@pytest.mark.parametrize(
    ("pred", "target", "fragments"),
    [
        ("logits", "high", ["high.npy: index (1, 2, 3)", "class index 3 is outside [0, 3)", "channels on axis 1"]),
        ("logits", "wide", ["(2, 4, 3)", "class indices of shape (2, 4, 4)"]),
        ("flat", "index", ["flat.npy", "needs (N, C, d1, ...)", "class scores of each pixel on axis 1"]),
    ],
)
def test_seg_classes_rule_refuses(expect_error, seg_files, loss, pred, target, fragments):
    expect_error(["compute", loss, seg_files[pred], seg_files[target]], 3, *fragments)


@pytest.mark.parametrize("loss", ["dice_ce", "dice_focal", "jaccard"])
def test_seg_classes_rule_refuses_masks_outside_0_1_and_indices_for_one_channel(expect_error, seg_files, loss):
    expect_error(
        ["compute", loss, seg_files["logits"], seg_files["twos"]], 3, "twos.npy", "2.0 in target is not in [0, 1]"
    )
    expect_error(
        ["compute", loss, seg_files["one_channel"], seg_files["index"]],
        3,
        "a 0/1 mask shaped like the input, (2, 1, 4, 4), for its single (binary) channel",
    )


@pytest.mark.parametrize("loss", ["dice_ce", "dice_focal"])
def test_a_single_channel_is_binary(compute_json, seg_files, loss):
    assert np.isfinite(compute_json(loss, seg_files["one_channel"], seg_files["mask"])["value"])


def test_lovasz_softmax_needs_indices_and_two_classes(expect_error, seg_files):
    args = ["compute", "lovasz_softmax", seg_files["logits"], seg_files["onehot"]]
    expect_error(args, 3, "holds one-hot masks of shape (2, 3, 4, 4)", "take the argmax over axis 1")
    args = ["compute", "lovasz_softmax", seg_files["one_channel"], seg_files["index"]]
    expect_error(args, 3, "needs C >= 2 class channels on axis 1", "lovasz_hinge")


@pytest.mark.parametrize("loss", ["generalized_dice", "soft_cldice", "hausdorff_dt"])
def test_class_mask_rules(compute_json, expect_error, seg_files, loss):
    out = compute_json(loss, seg_files["probs"], seg_files["onehot"], "--reduction", "none")
    shape = (2, 2) if loss == "hausdorff_dt" else (2,)  # hausdorff_dt: per sample and class, background dropped
    assert np.asarray(out["values"]).shape == shape
    expect_error(["compute", loss, seg_files["probs"], seg_files["index"]], 3, "index.npy", "(2, 4, 4)", "same shape")
    expect_error(["compute", loss, seg_files["logits"], seg_files["onehot"]], 3, "logits.npy", "outside [0, 1]")


@pytest.mark.parametrize("loss", ["soft_cldice", "hausdorff_dt"])
def test_class_images_rule_needs_2d_or_3d_images(expect_error, seg_files, loss):
    volume = seg_files["volume_probs"]
    expect_error(
        ["compute", loss, volume, volume], 3, "volume.npy", "(2, 3, 4)", "(N, C, H, W) or (N, C, H, W, D)", ".npy"
    )


def test_binary_masks_rule(compute_json, expect_error, write_file):
    logits = write_file("x.csv", [[2.0, -1.0, 0.5], [-0.3, 1.2, -2.0]])
    masks = write_file("y.csv", [[1, 0, 1], [0, 1, 0]])
    per_image = compute_json("lovasz_hinge", logits, masks, "--reduction", "none")["values"]
    assert len(per_image) == 2
    assert compute_json("lovasz_hinge", logits, masks)["value"] == pytest.approx(np.mean(per_image))
    soft = write_file("soft.csv", [[1, 0, 0.5], [0, 1, 0]])
    expect_error(
        ["compute", "lovasz_hinge", logits, soft],
        3,
        "soft.csv: row 1 (line 1), column '2'",
        "0.5 in target is not 0 or 1",
    )
    flat = write_file("flat.csv", column("x", 1.0, -1.0))
    expect_error(["compute", "lovasz_hinge", flat, flat], 3, "needs (N, d1, ...)")


def test_jaccard_modes(compute_json, expect_error, write_file, seg_files):
    logits = write_file("x.csv", [[2.0, -1.0, 0.5], [-0.3, 1.2, -2.0]])
    masks = write_file("y.csv", [[1, 0, 1], [0, 1, 0]])
    binary = compute_json("jaccard", logits, masks, "-p", "mode=binary", "--reduction", "none")
    assert len(binary["values"]) == 1  # one class: the foreground
    multilabel = compute_json("jaccard", seg_files["logits"], seg_files["onehot"], "-p", "mode=multilabel")
    assert np.isfinite(multilabel["value"])
    expect_error(["compute", "jaccard", logits, masks, "-p", "mode=soft"], 2, "jaccard: -p mode=soft", "multiclass")
    expect_error(
        ["compute", "jaccard", seg_files["logits"], seg_files["index"], "-p", "mode=multilabel"], 3, "same shape"
    )


def test_segmentation_parameter_problems_exit_2(expect_error, seg_files):
    args = [seg_files["logits"], seg_files["index"]]
    expect_error(["compute", "dice_ce", *args, "-p", "lambda_ce=-1"], 2, "dice_ce: -p lambda_ce=-1", ">= 0")
    expect_error(["compute", "dice_focal", *args, "-p", "gamma=-2"], 2, "dice_focal: -p gamma=-2", ">= 0")
    probs = [seg_files["probs"], seg_files["onehot"]]
    expect_error(["compute", "generalized_dice", *probs, "-p", "w_type=cube"], 2, "w_type=cube", "square")
    expect_error(["compute", "soft_cldice", *probs, "-p", "iter_=-1"], 2, "soft_cldice: -p iter_=-1", ">= 0")
    expect_error(["compute", "hausdorff_dt", *probs, "--reduction", "batchmean"], 2, "batchmean")


# --- shape rule: vectors (cosine_similarity, cosine_distance) -------------------------


@pytest.mark.parametrize("loss", ["cosine_similarity", "cosine_distance"])
def test_vectors_rule_refuses_a_flat_vector(expect_error, write_file, loss):
    flat = write_file("v.csv", column("x", 0.1, 0.2, 0.3))
    expect_error(
        ["compute", loss, flat, flat],
        3,
        flat,
        "input of shape (3,)",
        "needs (N, D)",
        "the D components of each vector in the columns of its row",
    )


def test_vectors_rule_refuses_mismatched_dimensions(expect_error, write_file):
    pred = write_file("p.npy", np.ones((2, 3)))
    labels = write_file("y.npy", np.ones((2, 2)))
    expect_error(["compute", "cosine_similarity", pred, labels], 3, "(2, 3)", "(2, 2)", "same shape")


@pytest.mark.parametrize(("loss", "expected"), [("cosine_similarity", -1.0), ("cosine_distance", 0.0)])
def test_vectors_rule_passes_one_row(compute_json, write_file, loss, expected):
    pred = write_file("p.csv", ["a,b,c", "1,2,2"])
    labels = write_file("y.csv", ["a,b,c", "2,4,4"])  # same direction, twice as long
    out = compute_json(loss, pred, labels)
    assert out["n_samples"] == 1
    assert out["value"] == pytest.approx(expected, abs=1e-6)


# --- shape rule: embedding_labels (ntxent, circle) ------------------------------------

EMBEDDINGS = [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]


@pytest.fixture
def embedding_files(write_file):
    return {
        "emb": write_file("emb.csv", EMBEDDINGS),
        "flat": write_file("flat.csv", column("x", 1, 2, 3, 4)),
        "cube": write_file("cube.npy", np.ones((4, 2, 2))),
        "short": write_file("short.csv", column("label", 0, 0, 1)),
        "same": write_file("same.csv", column("label", 0, 0, 0, 0)),
        "distinct": write_file("distinct.csv", column("label", 0, 1, 2, 3)),
        "fraction": write_file("fraction.csv", column("label", 0, 0, 1.5, 1)),
    }


PAIR_LOSSES = ["ntxent", "circle", "contrastive", "supcon", "multi_similarity"]


@pytest.mark.parametrize("loss", PAIR_LOSSES)
@pytest.mark.parametrize(
    ("emb", "labels", "bad", "fragments"),
    [
        ("flat", "same", "flat", ["embeddings of shape (4,)", "needs (N, D): one embedding per row"]),
        ("cube", "same", "cube", ["embeddings of shape (4, 2, 2)", "needs (N, D)"]),
        ("emb", "short", "short", ["labels of shape (3,)", "one integer label per embedding: labels of shape (4,)"]),
        ("emb", "same", "same", ["every one of the 4 labels is 0", "no pair is negative", "two different labels"]),
        (
            "emb",
            "distinct",
            "distinct",
            ["all 4 labels differ", "no two embeddings form a positive pair", "same label"],
        ),
        (
            "emb",
            "fraction",
            "fraction",
            ["row 3 (line 4), column 'label'", "1.5 is not a whole number", "round or fix"],
        ),
    ],
    ids=["flat", "3d", "length", "one-label", "no-positive-pair", "fraction"],
)
def test_embedding_labels_rule_refuses(expect_error, embedding_files, loss, emb, labels, bad, fragments):
    expect_error(["compute", loss, embedding_files[emb], embedding_files[labels]], 3, embedding_files[bad], *fragments)


@pytest.mark.parametrize("loss", PAIR_LOSSES)
def test_embedding_labels_rule_passes_one_pair_and_a_label_column(compute_json, write_file, loss):
    """The least a batch needs: one positive pair and a second label (given as an (N, 1) column)."""
    emb = write_file("emb.csv", EMBEDDINGS[:3])
    labels = write_file("labels.npy", np.array([[7], [7], [-2]]))
    out = compute_json(loss, emb, labels)
    assert out["value"] is not None and np.isfinite(out["value"])


@pytest.mark.parametrize(
    ("loss", "param", "message"),
    [
        ("ntxent", "temperature=0", "ntxent: -p temperature=0: must be > 0"),
        ("ntxent", "temperature=-0.5", "must be > 0"),
        ("circle", "gamma=0", "circle: -p gamma=0: must be > 0"),
        ("supcon", "temperature=0", "supcon: -p temperature=0: must be > 0"),
        ("multi_similarity", "beta=-1", "multi_similarity: -p beta=-1: must be > 0"),
    ],
)
def test_embedding_parameter_problems_exit_2(expect_error, embedding_files, loss, param, message):
    expect_error(["compute", loss, embedding_files["emb"], embedding_files["distinct"], "-p", param], 2, message)


def test_smallest_positive_temperature_passes(compute_json, write_file):
    emb = write_file("emb.csv", EMBEDDINGS)
    labels = write_file("labels.csv", column("label", 0, 0, 1, 1))
    assert compute_json("ntxent", emb, labels, "-p", "temperature=1e-3")["params"]["temperature"] == 1e-3


# --- shape rules: class_centres (arcface, cosface), proxies (proxy_anchor) -----------

CENTRE_LOSSES = [("arcface", "weight", (2, 3)), ("cosface", "weight", (2, 3)), ("proxy_anchor", "proxies", (3, 2))]


@pytest.fixture
def centre_files(write_file):
    """Four 2-D embeddings of classes 0-2, and centre matrices: W (D, C) = (2, 3) and its transpose."""
    return {
        "emb": write_file("emb.csv", EMBEDDINGS),
        "labels": write_file("labels.csv", column("label", 0, 0, 1, 2)),
        "high": write_file("high.csv", column("label", 0, 3, 1, 2)),
        "d_c": write_file("d_c.npy", np.arange(1.0, 7.0).reshape(2, 3)),
        "c_d": write_file("c_d.npy", np.arange(1.0, 7.0).reshape(3, 2)),
        "wide": write_file("wide.npy", np.ones((5, 4))),
        "flat": write_file("flat.npy", np.ones(6)),
    }


@pytest.mark.parametrize(("loss", "role", "shape"), CENTRE_LOSSES)
def test_centre_rules_pass_and_report_the_centres_gradient(invoke_json, centre_files, loss, role, shape):
    good = centre_files["d_c"] if shape == (2, 3) else centre_files["c_d"]
    out = invoke_json(["compute", loss, centre_files["emb"], centre_files["labels"], "--input", f"{role}={good}"])
    assert np.isfinite(out["value"])
    assert out["gradients"][role]["shape"] == list(shape)
    assert out["gradients"]["embeddings"]["shape"] == [4, 2]


@pytest.mark.parametrize(("loss", "role", "shape"), CENTRE_LOSSES)
def test_centre_rules_refuse(expect_error, centre_files, loss, role, shape):
    files = centre_files
    transposed = files["c_d"] if shape == (2, 3) else files["d_c"]
    layout = "(D, C) = (2, C), one column per class" if shape == (2, 3) else "(C, D) = (C, 2), one row per class"
    args = ["compute", loss, files["emb"], files["labels"]]
    expect_error(args, 2, f"{loss} needs --input {role}=PATH")
    expect_error([*args, "--input", f"{role}={transposed}"], 3, f"shape {shape[::-1]}", layout, "transpose it")
    for bad in ("wide", "flat"):
        expect_error([*args, "--input", f"{role}={files[bad]}"], 3, files[bad], layout, "D = 2, the embeddings'")
    good = files["d_c"] if shape == (2, 3) else files["c_d"]
    what = "columns" if shape == (2, 3) else "rows"
    expect_error(
        ["compute", loss, files["emb"], files["high"], "--input", f"{role}={good}"],
        3,
        "row 2 (line 3), column 'label'",
        f"class index 3 is outside [0, 3) for the 3 classes ({what}) of {good}",
    )


def test_arcface_embedding_on_its_centre_has_a_finite_gradient(invoke_json, write_file):
    """θ_y = 0 exactly (a kink of the angle, where acos' slope is infinite): no NaN, as pml's would be."""
    emb = write_file("emb.csv", [[0.6, 0.8], [0.0, 1.0], [-0.6, -0.8]])  # row 1 on centre 0, row 3 opposite it
    labels = write_file("labels.csv", column("label", 0, 1, 0))
    weight = write_file("w.npy", np.array([[0.6, 0.0], [0.8, 1.0]]))
    out = invoke_json(["compute", "arcface", emb, labels, "--input", f"weight={weight}", "-f", "json"])
    assert np.isfinite(out["value"])
    for grad in out["gradients"].values():
        assert np.isfinite(grad["values"]).all()


def test_arcface_margin_in_degrees_is_refused(expect_error, centre_files):
    weight = f"weight={centre_files['d_c']}"
    args = ["compute", "arcface", centre_files["emb"], centre_files["labels"], "--input", weight]
    expect_error([*args, "-p", "margin=28.6"], 2, "arcface: -p margin=28.6: must be >= 0 and <= 1.5708")


# --- shape rule: views (barlow_twins, vicreg) ------------------------------------------


@pytest.mark.parametrize("loss", ["barlow_twins", "vicreg"])
def test_views_rule(invoke_json, expect_error, write_file, loss):
    a = write_file("a.csv", EMBEDDINGS)
    b = write_file("b.csv", [[0.8, 0.3], [1.0, 0.0], [0.2, 1.1], [0.0, 0.7]])
    out = invoke_json(["compute", loss, a, "--input", f"ref_emb={b}", "--reduction", "none"])
    assert len(out["values"]) == {"barlow_twins": 2, "vicreg": 3}[loss]
    assert set(out["gradients"]) == {"embeddings", "ref_emb"}
    short = write_file("short.csv", EMBEDDINGS[:3])
    expect_error(["compute", loss, a, "--input", f"ref_emb={short}"], 3, "the same shape (N, D), row for row")
    flat = write_file("flat.csv", column("x", 1, 2, 3, 4))
    expect_error(["compute", loss, flat, "--input", f"ref_emb={flat}"], 3, "needs (N, D): one embedding per row")
    one = write_file("one.csv", EMBEDDINGS[:1])
    expect_error(["compute", loss, one, "--input", f"ref_emb={one}"], 3, "a single row", "two samples (rows) at least")
    expect_error(["compute", loss, a, "--input", f"ref_emb={b}", "--reduction", "mean"], 2, "choose one of sum, none")


# --- shape rules: images (ssim, ms_ssim), image (total_variation), psnr ----------------


@pytest.fixture
def image_files(write_file):
    """Two 12×12 one-channel images and their noisy copies, as (N, C, H, W) and (N, H, W) arrays, and misfits."""
    rng = np.random.default_rng(17)
    target = rng.uniform(0.2, 0.8, (2, 1, 12, 12))
    pred = target + rng.normal(0.0, 0.05, target.shape)
    return {
        "pred": write_file("pred.npy", pred),
        "target": write_file("target.npy", target),
        "pred3": write_file("pred3.npy", pred[:, 0]),
        "target3": write_file("target3.npy", target[:, 0]),
        "small": write_file("small.npy", pred[..., :8, :9]),
        "small_target": write_file("small_target.npy", target[..., :8, :9]),
        "rgb": write_file("rgb.npy", np.repeat(target, 3, axis=1)),
        "single": write_file("single.npy", pred[0, 0]),
        "table": write_file("table.csv", column("x", 0.1, 0.2, 0.3)),
    }


@pytest.mark.parametrize("loss", ["ssim", "ms_ssim"])
def test_image_rules_pass_four_and_three_dimensional_images(compute_json, image_files, loss):
    options = ["-p", "window_size=3", "-p", "weights=[0.5,0.5]"] if loss == "ms_ssim" else []
    four = compute_json(loss, image_files["pred"], image_files["target"], *options, "--dtype", "float64")
    three = compute_json(loss, image_files["pred3"], image_files["target3"], *options, "--dtype", "float64")
    assert four["value"] == pytest.approx(three["value"], rel=1e-12)  # (N, H, W) is one channel
    assert 0 < four["value"] < 1


@pytest.mark.parametrize("loss", ["ssim", "ms_ssim", "total_variation"])
def test_image_rules_refuse_what_is_not_a_batch_of_images(expect_error, image_files, loss):
    for name in ("table", "single"):
        args = ["compute", loss, image_files[name]]
        if loss != "total_variation":
            args.append(image_files[name])
        message = expect_error(args, 3, image_files[name], f"{loss} needs images of shape (N, C, H, W) or (N, H, W)")
        assert ("a single image of shape (H, W) is (1, H, W)" in message) == (name == "single")


@pytest.mark.parametrize("loss", ["ssim", "ms_ssim"])
def test_image_rules_refuse_mismatched_images(expect_error, image_files, loss):
    expect_error(
        ["compute", loss, image_files["pred"], image_files["rgb"]],
        3,
        "shape (2, 1, 12, 12)",
        "shape (2, 3, 12, 12)",
        f"{loss} needs one true image per predicted image, of the same shape",
    )


def test_ssim_needs_the_window_to_fit(expect_error, compute_json, image_files):
    small, target = image_files["small"], image_files["small_target"]
    expect_error(
        ["compute", "ssim", small, target],
        3,
        small,
        "images of 8x9 pixels; ssim needs 11 pixels a side at least",
        "-p padding=same",
    )
    assert compute_json("ssim", small, target, "-p", "window_size=7")["value"] > 0
    assert compute_json("ssim", small, target, "-p", "padding=same")["value"] > 0  # reflects 5 pixels: 8 > 5
    expect_error(
        ["compute", "ssim", small, target, "-p", "padding=same", "-p", "window_size=17"],
        3,
        "ssim needs more than 8 pixels a side to reflect-pad by window_size // 2",
    )
    expect_error(["compute", "ssim", small, target, "-p", "window_size=4"], 2, "ssim: -p window_size=4: must be odd")
    expect_error(["compute", "ssim", small, target, "-p", "padding=full"], 2, "expected one of valid, same")


def test_ms_ssim_needs_every_scale_to_fit(expect_error, compute_json, image_files):
    pred, target = image_files["pred"], image_files["target"]
    expect_error(
        ["compute", "ms_ssim", pred, target],
        3,
        "images of 12x12 pixels; ms_ssim needs 176 pixels a side at least: the 11-pixel window at the coarsest of "
        "5 scales",
        "fewer scales (-p weights=[...])",
    )
    expect_error(["compute", "ms_ssim", pred, target, "-p", "window_size=3"], 3, "needs 48 pixels a side at least")
    three = ["-p", "window_size=3", "-p", "weights=[0.2,0.3,0.5]"]
    assert compute_json("ms_ssim", pred, target, *three)["value"] > 0  # 12 = 3 · 2²
    expect_error(
        ["compute", "ms_ssim", pred, target, "-p", "window_size=5", "-p", "weights=[0.2,0.3,0.5]"],
        3,
        "needs 20 pixels a side at least: the 5-pixel window at the coarsest of 3 scales",
    )


def test_total_variation_takes_one_batch_of_images_and_no_labels(invoke_json, expect_error, image_files):
    out = invoke_json(["compute", "total_variation", image_files["pred3"], "--reduction", "none"])
    assert len(out["values"]) == 2 and set(out["gradients"]) == {"input"}
    expect_error(
        ["compute", "total_variation", image_files["pred"], image_files["target"]],
        2,
        "total_variation takes no LABELS: it scores PRED (input) alone",
    )


def test_psnr_refuses_identical_inputs_and_other_reductions(expect_error, compute_json, image_files, write_file):
    pred = image_files["pred"]
    expect_error(
        ["compute", "psnr", pred, pred],
        3,
        f"{pred} equals {pred} everywhere, so the MSE is 0 and the PSNR infinite",
    )
    assert compute_json("psnr", pred, image_files["target"])["value"] < 0
    one_off = write_file("one_off.csv", column("x", 1.0, 2.0, 3.5))  # any shape: one differing value is enough
    assert compute_json("psnr", one_off, write_file("x.csv", column("x", 1.0, 2.0, 3.0)))["value"] == pytest.approx(
        -10 * np.log10(1 / (0.25 / 3)), rel=1e-6
    )
    expect_error(["compute", "psnr", pred, image_files["target"], "--reduction", "sum"], 2, "choose one of mean")
    expect_error(
        ["compute", "psnr", pred, image_files["target"], "-p", "max_val=0"], 2, "psnr: -p max_val=0: must be > 0"
    )


# --- shape rule: boxes (giou, diou, ciou) ---------------------------------------------

BOX_A = (0, 0, 2, 2)
BOX_B = (1, 1, 3, 4)
TRUE_A = (0, 0, 2, 3)
TRUE_B = (1, 1, 3, 3)


@pytest.mark.parametrize("loss", ["giou", "diou", "ciou"])
def test_boxes_rule_refuses_three_columns(expect_error, write_file, loss):
    pred = write_file("b3.csv", ["x1,y1,x2", "0,0,2", "1,1,3"])
    labels = write_file("t.csv", boxes(TRUE_A, TRUE_B))
    expect_error(
        ["compute", loss, pred, labels],
        3,
        pred,
        "input of shape (2, 3)",
        "needs boxes of shape (N, 4): the columns x1, y1, x2, y2",
    )


def test_boxes_rule_refuses_three_dimensions(expect_error, write_file):
    pred = write_file("b.npy", np.zeros((2, 1, 4)))
    labels = write_file("t.csv", boxes(TRUE_A, TRUE_B))
    expect_error(["compute", "giou", pred, labels], 3, pred, "(2, 1, 4)", "(N, 4)")


def test_boxes_rule_refuses_another_box_count(expect_error, write_file):
    pred = write_file("b.csv", boxes(BOX_A, BOX_B))
    labels = write_file("t.csv", boxes(TRUE_A))
    expect_error(
        ["compute", "diou", pred, labels], 3, pred, "(2, 4)", labels, "(1, 4)", "one true box per predicted box"
    )


def test_boxes_rule_passes_a_lone_box_given_as_one_column(compute_json, write_file):
    """Four values in one column are one box (the (4,) shape is read as one row)."""
    pred = write_file("lone.csv", column("v", *BOX_A))
    labels = write_file("t.csv", boxes(TRUE_A))
    out = compute_json("giou", pred, labels)
    assert out["n_samples"] == 1
    assert out["value"] == pytest.approx(1 - 4 / 6, rel=1e-5)  # A inside the true box: 1 - IoU


def test_box_parameter_problems_exit_2(expect_error, write_file):
    pred = write_file("b.csv", boxes(BOX_A, BOX_B))
    expect_error(["compute", "ciou", pred, pred, "-p", "eps=-1e-7"], 2, "ciou: -p eps=-1e-7", ">= 0")  # quoted as typed


# --- value domain: positive (gamma_deviance, poisson_deviance) ------------------------


@pytest.mark.parametrize(
    ("loss", "pred", "labels", "bad", "fragments"),
    [
        ("gamma_deviance", "zero", "ok", "zero", ["row 3 (line 4), column 'mu'", "input 0 is not > 0", "not its log"]),
        (
            "gamma_deviance",
            "ok",
            "y_zero",
            "y_zero",
            ["row 2 (line 3), column 'y'", "target 0 is not > 0", "drop those rows"],
        ),
        (
            "poisson_deviance",
            "negative",
            "ok",
            "negative",
            ["row 2 (line 3), column 'mu'", "input -0.5 is not > 0", "exp of"],
        ),
        ("poisson_deviance", "zero", "ok", "zero", ["row 3 (line 4), column 'mu'", "is not > 0"]),
    ],
    ids=["gamma-pred", "gamma-target", "poisson-negative-pred", "poisson-zero-pred"],
)
def test_positive_domain_refuses(expect_error, write_file, loss, pred, labels, bad, fragments):
    files = {
        "ok": write_file("mu.csv", column("mu", 1.0, 2.0, 3.0)),
        "zero": write_file("mu0.csv", column("mu", 1.0, 2.0, 0.0)),
        "negative": write_file("mu_neg.csv", column("mu", 1.0, -0.5, 3.0)),
        "y_zero": write_file("y0.csv", column("y", 1.0, 0.0, 2.0)),
    }
    expect_error(["compute", loss, files[pred], files[labels]], 3, files[bad], *fragments)


@pytest.mark.parametrize("loss", ["gamma_deviance", "poisson_deviance"])
def test_positive_domain_passes_small_positive_values(compute_json, write_file, loss):
    tiny = write_file("tiny.csv", column("mu", 1e-30, 2.0, 3.0))
    labels = write_file("y.csv", column("y", 1e-30, 2.0, 3.0))
    out = compute_json(loss, tiny, labels, "--dtype", "float64")
    assert out["value"] == pytest.approx(0.0, abs=1e-12)  # x = y: a perfect prediction


def test_poisson_deviance_allows_zero_counts(compute_json, write_file):
    out = compute_json(
        "poisson_deviance", write_file("mu.csv", column("mu", 1.0, 2.0)), write_file("y.csv", column("y", 0, 2))
    )
    assert out["value"] == pytest.approx(1.0, rel=1e-6)  # a zero count contributes 2x: (2·1 + 0) / 2


def assert_refused_or_finite(invoke, args, *fragments):
    """Either the SPEC §4 refusal (exit 3, one ``Error:`` line with the fragments), or a finite value and
    finite gradient statistics in strict JSON: never a silent NaN/inf."""
    result = invoke([*args, "-f", "json"])
    if result.exit_code == 3:
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        return
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    out = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in the JSON output"))
    assert out["value"] is not None and np.isfinite(out["value"]), out
    for grad in out["gradients"].values():
        assert all(grad[k] is not None and np.isfinite(grad[k]) for k in ("norm", "mean", "min", "max")), grad


def test_positive_domain_value_that_float32_rounds_to_zero(invoke, write_file):
    pred = write_file("tiny.csv", column("mu", 1e-50, 2.0, 3.0))
    labels = write_file("y.csv", column("y", 1.0, 0.0, 2.0))
    assert_refused_or_finite(invoke, ["compute", "poisson_deviance", pred, labels], pred, "row 1")


# --- value domain: binary_or_sign (hinge, squared_hinge) ------------------------------

SCORES = [0.5, -1.0, 2.0, 0.1]


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize(
    ("labels", "fragments"),
    [
        ([0, 1, -1, 1], ["row 1 (line 2), column 'y'", "target 0 is mixed with -1 labels"]),
        ([0, -1, 0, -1], ["row 1 (line 2), column 'y'", "0 is mixed with -1 labels"]),
        ([0, 1, 0.5, 1], ["row 3 (line 4), column 'y'", "target 0.5 is not a label"]),
        ([-1, 1, 2, 1], ["row 3 (line 4), column 'y'", "target 2 is not a label"]),
    ],
    ids=["zero-one-minus-one", "zero-minus-one", "half", "two"],
)
def test_binary_or_sign_domain_refuses(expect_error, write_file, loss, labels, fragments):
    pred = write_file("s.csv", column("s", *SCORES))
    path = write_file("y.csv", column("y", *labels))
    expect_error(
        ["compute", loss, pred, path],
        3,
        path,
        *fragments,
        "give labels all in {0, 1} or all in {-1, 1}",
    )


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize(
    ("labels", "signs"),
    [
        ([0, 1, 1, 0], [-1, 1, 1, -1]),
        ([-1, 1, 1, -1], [-1, 1, 1, -1]),
        ([1, 1, 1, 1], [1, 1, 1, 1]),
        ([0] * 4, [-1] * 4),
    ],
    ids=["zero-one", "signs", "all-ones", "all-zeros"],
)
def test_binary_or_sign_domain_passes_and_maps_zero_to_minus_one(compute_json, write_file, loss, labels, signs):
    out = compute_json(loss, write_file("s.csv", column("s", *SCORES)), write_file("y.csv", column("y", *labels)))
    margin = np.maximum(0.0, 1.0 - np.array(signs) * np.array(SCORES))
    expected = np.mean(margin if loss == "hinge" else margin**2)
    assert out["value"] == pytest.approx(expected, rel=1e-6)


# --- value domain: binary (binary_sparsemax) -------------------------------------------


@pytest.mark.parametrize(
    ("labels", "fragments"),
    [
        ([0, 1, -1, 1], ["row 3 (line 4), column 'y'", "target -1 is not 0 or 1", "use 0 and 1 only"]),
        ([-1, 1, -1, 1], ["row 1 (line 2), column 'y'", "target -1 is not 0 or 1", "map -1 to 0"]),
        ([0, 1, 0.5, 1], ["row 3 (line 4), column 'y'", "target 0.5 is not 0 or 1"]),
    ],
    ids=["minus-one-among-0-1", "signs", "half"],
)
def test_binary_domain_refuses(expect_error, write_file, labels, fragments):
    pred = write_file("s.csv", column("s", *SCORES))
    path = write_file("y.csv", column("y", *labels))
    expect_error(["compute", "binary_sparsemax", pred, path], 3, path, *fragments)


def test_binary_domain_passes_all_zeros_and_ones(compute_json, write_file):
    """sparse_plus(x) for label 0 and sparse_plus(-x) for 1: 0 beyond the margin, s inside it squared."""
    pred = write_file("s.csv", column("s", *SCORES))
    out = compute_json("binary_sparsemax", pred, write_file("y.csv", column("y", 0, 0, 1, 1)), "--reduction", "none")
    assert out["values"] == pytest.approx([(0.5 + 1) ** 2 / 4, 0.0, 0.0, (-0.1 + 1) ** 2 / 4], rel=1e-6)


# --- shape rule: brier ------------------------------------------------------------------

PROBS3 = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.25, 0.25, 0.5]]


@pytest.fixture
def brier_files(write_file):
    return {
        "p": write_file("p.csv", column("p", 0.9, 0.2, 0.6, 0.4)),
        "y01": write_file("y01.csv", column("y", 1, 0, 1, 0)),
        "y3": write_file("y3.csv", column("y", 0, 1, 2, 2)),
        "probs": write_file("probs.csv", PROBS3),
        "short": write_file("short.csv", column("y", 0, 1, 2)),
        "onehot": write_file("onehot.csv", [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]]),
        "high": write_file("high.csv", column("y", 0, 3, 1, 2)),
        "signs": write_file("signs.csv", column("y", 1, -1, 1, -1)),
        "logits": write_file("logits.csv", column("p", 2.2, -1.4, 0.3, -0.1)),
        "unnormalised": write_file("un.csv", [[0.7, 0.2, 0.1], [0.5, 0.5, 0.5], [0.3, 0.3, 0.4], [0.2, 0.3, 0.5]]),
        "cube": write_file("cube.npy", np.full((4, 3, 2), 1 / 6)),
    }


@pytest.mark.parametrize(
    ("pred", "labels", "bad", "fragments"),
    [
        ("probs", "short", "short", ["(4, 3)", "(3,)", "one label per row: labels of shape (4,)"]),
        ("probs", "onehot", "onehot", ["class indices rather than one-hot rows (take the argmax of each row)"]),
        ("probs", "high", "high", ["row 2 (line 3), column 'y'", "class index 3 is outside [0, 3)"]),
        ("p", "y3", "y3", ["label 2 is not 0 or 1", "or give (N, C) class probabilities"]),
        ("p", "signs", "signs", ["row 2 (line 3), column 'y'", "label -1 is not 0 or 1", "map -1 to 0"]),
        ("logits", "y01", "logits", ["row 1 (line 2), column 'p'", "2.2 is outside [0, 1]", "apply a sigmoid"]),
        ("unnormalised", "y3", "unnormalised", ["row 2", "sum to 1.5, not 1", "apply a softmax to each row"]),
        ("cube", "y3", "cube", ["shape (4, 3, 2)", "(N,) probabilities of the positive class, or (N, C)"]),
    ],
    ids=["short", "onehot", "class-3-of-3", "class-2-binary", "signs", "logits", "unnormalised", "3-d"],
)
def test_brier_rule_refuses(expect_error, brier_files, pred, labels, bad, fragments):
    args = ["compute", "brier", brier_files[pred], brier_files[labels]]
    expect_error(args, 3, brier_files[bad], *fragments)


def test_brier_rule_passes_binary_and_class_probabilities_as_scikit_learn(compute_json, brier_files):
    from sklearn.metrics import brier_score_loss

    p, probs = np.array([0.9, 0.2, 0.6, 0.4]), np.array(PROBS3)
    y01, y3 = np.array([1, 0, 1, 0]), np.array([0, 1, 2, 2])
    binary = compute_json("brier", brier_files["p"], brier_files["y01"], "--dtype", "float64")
    assert binary["value"] == pytest.approx(brier_score_loss(y01, p), rel=1e-12)
    classes = compute_json("brier", brier_files["probs"], brier_files["y3"], "--dtype", "float64")
    assert classes["value"] == pytest.approx(brier_score_loss(y3, probs, labels=[0, 1, 2]), rel=1e-12)
    halved = compute_json("brier", brier_files["probs"], brier_files["y3"], "-p", "scale_by_half=true")
    assert halved["value"] == pytest.approx(classes["value"] / 2, rel=1e-6)
    assert halved["params"]["scale_by_half"] is True


def test_brier_scale_by_half_must_be_a_bool(expect_error, brier_files):
    args = ["compute", "brier", brier_files["p"], brier_files["y01"], "-p", "scale_by_half=auto"]
    expect_error(args, 2, "brier: -p scale_by_half=auto: expected true or false")


# --- value domains: boxes and boxes_aspect --------------------------------------------


@pytest.mark.parametrize("loss", ["giou", "diou", "ciou"])
@pytest.mark.parametrize(
    ("row", "fragment"),
    [((3, 1, 1, 4), "has x2 1 < x1 3"), ((1, 5, 3, 4), "has y2 4 < y1 5")],
    ids=["x2<x1", "y2<y1"],
)
@pytest.mark.parametrize("side", ["input", "target"])
def test_boxes_domain_refuses_swapped_corners(expect_error, write_file, loss, row, fragment, side):
    good = write_file("good.csv", boxes(TRUE_A, TRUE_B))
    bad = write_file("swapped.csv", boxes(BOX_A, row))
    pred, labels = (bad, good) if side == "input" else (good, bad)
    expect_error(
        ["compute", loss, pred, labels],
        3,
        bad,
        "row 2",
        f"{side} box {row}",
        fragment,
        "swap the corners, or convert from x, y, w, h (x2 = x + w, y2 = y + h)",
    )


@pytest.mark.parametrize("loss", ["giou", "diou"])
def test_boxes_domain_passes_zero_width_and_height(compute_json, write_file, loss):
    """x2 = x1 or y2 = y1 is a degenerate but valid box for giou and diou."""
    pred = write_file("flat.csv", boxes((1, 1, 3, 1), (2, 0, 2, 3)))
    labels = write_file("t.csv", boxes(TRUE_A, TRUE_B))
    out = compute_json(loss, pred, labels)
    assert out["value"] is not None and 0 < out["value"] < 2


@pytest.mark.parametrize("side", ["input", "target"])
def test_boxes_aspect_domain_refuses_zero_height(expect_error, write_file, side):
    good = write_file("good.csv", boxes(TRUE_A, TRUE_B))
    flat = write_file("flat.csv", boxes(BOX_A, (1, 1, 3, 1)))
    pred, labels = (flat, good) if side == "input" else (good, flat)
    expect_error(
        ["compute", "ciou", pred, labels],
        3,
        flat,
        "row 2",
        f"{side} box (1, 1, 3, 1) has zero height",
        "aspect ratio w/h is undefined",
        "give boxes of positive height, or use diou",
    )


def test_boxes_aspect_domain_passes_zero_width(compute_json, write_file):
    """Zero width is fine for ciou: w/h = 0 exists."""
    pred = write_file("thin.csv", boxes(BOX_A, (1, 1, 1, 3)))
    labels = write_file("t.csv", boxes(TRUE_A, TRUE_B))
    out = compute_json("ciou", pred, labels)
    assert out["value"] is not None and np.isfinite(out["value"])


def test_boxes_aspect_domain_height_that_float32_rounds_to_zero(invoke, write_file):
    pred = write_file("almost_flat.csv", boxes(BOX_A, (1, 1, 3, 1.00000000001)))
    labels = write_file("t.csv", boxes(TRUE_A, TRUE_B))
    assert_refused_or_finite(invoke, ["compute", "ciou", pred, labels], pred, "row 2", "height")


# --- value domain: direction (cosine_distance) ----------------------------------------

VECS = [[0.1, 0.2], [0.3, 0.4]]


@pytest.mark.parametrize("side", ["input", "target"])
@pytest.mark.parametrize("epsilon", [None, "0"])
def test_direction_domain_refuses_an_all_zero_row(expect_error, write_file, side, epsilon):
    good = write_file("v.csv", ["a,b", *(f"{a},{b}" for a, b in VECS)])
    zero = write_file("z.csv", ["a,b", "1,2", "0,0"])
    pred, labels = (zero, good) if side == "input" else (good, zero)
    args = ["compute", "cosine_distance", pred, labels]
    if epsilon is not None:
        args += ["-p", f"epsilon={epsilon}"]
    expect_error(
        args,
        3,
        zero,
        "row 2",
        f"{side} is all zeros",
        "its cosine is 0/0",
        "drop the row, or pass -p epsilon=1e-12",
    )


def test_direction_domain_passes_a_zero_row_with_epsilon(compute_json, write_file):
    """With epsilon > 0 the zero row scores 1 (orthogonal); the other row is the same direction (0)."""
    zero = write_file("z.csv", ["a,b", "1,2", "0,0"])
    labels = write_file("v.csv", ["a,b", "2,4", "0.3,0.4"])
    out = compute_json("cosine_distance", zero, labels, "-p", "epsilon=1e-12", "--reduction", "none")
    assert out["values"] == pytest.approx([0.0, 1.0], abs=1e-6)


def test_cosine_similarity_has_no_direction_domain(compute_json, write_file):
    """Keras floors the norm at 1e-7, so cosine_similarity scores a zero row 0 instead of refusing it."""
    zero = write_file("z.csv", ["a,b", "1,2", "0,0"])
    labels = write_file("v.csv", ["a,b", "2,4", "0.3,0.4"])
    out = compute_json("cosine_similarity", zero, labels, "--reduction", "none")
    assert out["values"] == pytest.approx([-1.0, 0.0], abs=1e-6)


def test_direction_epsilon_below_0_exits_2(expect_error, write_file):
    path = write_file("v.npy", np.array(VECS))
    expect_error(["compute", "cosine_distance", path, path, "-p", "epsilon=-1"], 2, "cosine_distance: -p epsilon=-1")


def cosine_distance_ref(x: Any, y: Any, epsilon: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """optax's 1 - x·y / (sqrt(max(|x|², ε)) · sqrt(max(|y|², ε))) per row in float64, and its gradient in x:
    -(ŷ - (x̂·ŷ) x̂) / |x| where |x|² > ε, else -ŷ / sqrt(ε) (x̂ = x / sqrt(max(|x|², ε)))."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    nx = np.sqrt(np.maximum((x * x).sum(axis=-1, keepdims=True), epsilon))
    ny = np.sqrt(np.maximum((y * y).sum(axis=-1, keepdims=True), epsilon))
    ux, uy = x / nx, y / ny
    cos = (ux * uy).sum(axis=-1, keepdims=True)
    above = (x * x).sum(axis=-1, keepdims=True) > epsilon
    return 1 - cos[:, 0], -(uy - np.where(above, cos, 0.0) * ux) / nx


def vector_rows(*rows: str) -> list[str]:
    return ["a,b", *rows]


def test_direction_domain_row_whose_squared_norm_underflows(invoke, invoke_json, write_file):
    """1e-30² is 0 in float32, but the row has a direction: its norm is taken without squaring its components,
    so the value is the float64 formula's and the gradient, about 1/|x| = 1e30, stays finite."""
    tiny = write_file("tiny.csv", vector_rows("1,2", "1e-30,0"))
    labels = write_file("v.csv", vector_rows(*(f"{a},{b}" for a, b in VECS)))
    assert_refused_or_finite(invoke, ["compute", "cosine_distance", tiny, labels], tiny, "row 2")
    out = invoke_json(["compute", "cosine_distance", tiny, labels, "--reduction", "none"])
    values, grad = cosine_distance_ref([[1, 2], [1e-30, 0]], VECS)
    assert out["values"] == pytest.approx(values.tolist(), abs=1e-6)
    assert np.ravel(out["gradients"]["input"]["values"]) == pytest.approx(grad.ravel(), rel=1e-5, abs=1e-6)


def test_direction_epsilon_that_float32_rounds_to_zero(invoke, invoke_json, write_file):
    """-p epsilon=1e-50 is 0 in float32 but its square root 1e-25, the norm floor, is not: the zero row scores 1
    (orthogonal) as documented, with the gradient -ŷ / sqrt(epsilon)."""
    zero = write_file("z.csv", vector_rows("1,2", "0,0"))
    labels = write_file("v.csv", vector_rows(*(f"{a},{b}" for a, b in VECS)))
    args = ["compute", "cosine_distance", zero, labels, "-p", "epsilon=1e-50"]
    assert_refused_or_finite(invoke, args, "epsilon")
    out = invoke_json([*args, "--reduction", "none"])
    values, grad = cosine_distance_ref([[1, 2], [0, 0]], VECS, 1e-50)
    assert out["values"] == pytest.approx([0.0, 1.0], abs=1e-6)
    assert out["values"] == pytest.approx(values.tolist(), abs=1e-6)
    assert np.ravel(out["gradients"]["input"]["values"]) == pytest.approx(grad.ravel(), rel=1e-5, abs=1e-6)


def test_direction_rows_whose_squared_norm_overflows_keep_their_direction(invoke_json, write_file):
    """3e38² is inf in float32: the row is still the direction (3, 1), not a zero vector scoring 1."""
    long = write_file("long.csv", vector_rows("1,2", "3e38,1e38"))
    labels = write_file("v.csv", vector_rows(*(f"{a},{b}" for a, b in VECS)))
    for pred, target, rows in ((long, labels, ([[1, 2], [3, 1]], VECS)), (labels, long, (VECS, [[1, 2], [3, 1]]))):
        out = invoke_json(["compute", "cosine_distance", pred, target, "--reduction", "none"])
        assert out["values"] == pytest.approx(cosine_distance_ref(*rows)[0].tolist(), abs=1e-6)
        grad = out["gradients"]["input"]["values"]
        assert all(np.isfinite(g) for row in grad for g in row), grad


def test_direction_domain_refuses_a_prediction_too_short_for_float32(expect_error, write_file):
    """A norm below float32's smallest normal number has a gradient (about 1/norm) float32 cannot hold."""
    short = write_file("short.csv", vector_rows("1,2", "1e-40,0"))
    labels = write_file("v.csv", vector_rows(*(f"{a},{b}" for a, b in VECS)))
    expect_error(
        ["compute", "cosine_distance", short, labels],
        3,
        short,
        "row 2",
        "input has norm 1e-40, below 1.2e-38",
        "scale the vectors up",
        "or pass -p epsilon=1e-12",
    )


def test_direction_domain_refuses_an_epsilon_too_small_for_a_zero_prediction(expect_error, write_file):
    """epsilon = 1e-100 floors the norm at 1e-50: a zero prediction's gradient -ŷ / 1e-50 overflows float32."""
    zero = write_file("z.csv", vector_rows("1,2", "0,0"))
    labels = write_file("v.csv", vector_rows(*(f"{a},{b}" for a, b in VECS)))
    expect_error(
        ["compute", "cosine_distance", zero, labels, "-p", "epsilon=1e-100"],
        3,
        zero,
        "row 2",
        "input is all zeros, and -p epsilon=1e-100 floors its norm at sqrt(epsilon) = 1e-50",
        "pass -p epsilon=1e-12",
    )


@pytest.mark.parametrize(("dtype", "tiny"), [("float32", 1e-40), ("float64", 1e-200)])
def test_direction_domain_passes_a_target_too_short_for_float32(invoke_json, write_file, dtype, tiny):
    """The target is not differentiated: only its direction counts, whatever its norm (here below the smallest
    normal float32, and in float64 one whose square underflows)."""
    pred = write_file("v.npy", np.array(VECS))
    target = np.array([[1.0, 2.0], [tiny, 0.0]])
    out = invoke_json(
        ["compute", "cosine_distance", pred, write_file("t.npy", target), "--reduction", "none", "--dtype", dtype]
    )
    # The cosine does not change when a row is scaled: the reference takes the target at unit scale.
    values, grad = cosine_distance_ref(VECS, target / np.abs(target).max(axis=1, keepdims=True))
    assert out["values"] == pytest.approx(values.tolist(), abs=1e-6)
    assert np.ravel(out["gradients"]["input"]["values"]) == pytest.approx(grad.ravel(), rel=1e-4, abs=1e-5)


# --- other parameter bounds of the new losses (exit 2) and their passing edges ---------


@pytest.mark.parametrize(
    ("loss", "bad", "ok", "message"),
    [
        ("sigmoid_focal", "alpha=1.5", "alpha=-1", "sigmoid_focal: -p alpha=1.5: must be <= 1"),
        ("sigmoid_focal", "gamma=-1", "gamma=0", "sigmoid_focal: -p gamma=-1: must be >= 0"),
        ("softmax_focal", "label_smoothing=1.1", "label_smoothing=1", "must be >= 0 and <= 1"),
        ("generalized_cross_entropy", "q=0", "q=1", "generalized_cross_entropy: -p q=0: must be > 0 and <= 1"),
        ("poly1_cross_entropy", "epsilon=-1.5", "epsilon=-1", "must be >= -1"),
    ],
)
def test_classification_parameter_bounds(expect_error, compute_json, write_file, loss, bad, ok, message):
    g = np.random.default_rng(0)
    if loss == "sigmoid_focal":
        pred, labels = g.normal(0, 2, 20), (g.random(20) < 0.3).astype(float)
    else:
        pred, labels = g.normal(0, 2, (20, 3)), g.integers(0, 3, 20)
    pred_path, labels_path = write_file("p.npy", pred), write_file("y.npy", labels)
    expect_error(["compute", loss, pred_path, labels_path, "-p", bad], 2, message)
    assert np.isfinite(compute_json(loss, pred_path, labels_path, "-p", ok)["value"])


# --- the error contract holds in every output format ----------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_refusal_prints_nothing_on_stdout_in_any_format(expect_error, write_file, fmt):
    pred = write_file("b.csv", boxes(BOX_A, (3, 1, 1, 4)))
    labels = write_file("t.csv", boxes(TRUE_A, TRUE_B))
    expect_error(["compute", "giou", pred, labels, "-f", fmt], 3, pred, "row 2", "swap the corners")
