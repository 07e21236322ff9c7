"""The advisor's recommendations of the catalogue losses (issue 5, ``losscli/advisor.py``), and
``losscli info`` for every registered loss.

``sigmoid_focal``/``softmax_focal`` under severe imbalance only; ``dice`` and ``tversky`` for
segmentation masks; ``pinball`` first for ``--quantiles``; hinge losses for ±1 labels; deviances
for counts; ``generalized_kl`` for distributions; the warnings ``recommend`` and ``compute`` give
for them. Every recommended command is run through the CliRunner on predictions of the kind the
loss wants.
"""

from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pytest

from losscli.registry import list_losses

N = 1000


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def binary(share: float) -> np.ndarray:
    y = np.zeros(N)
    y[rng(1).choice(N, int(share * N), replace=False)] = 1
    return y


def multilabel(shares: list[float]) -> np.ndarray:
    return (rng(2).random((N, len(shares))) < shares).astype(float)


def multiclass(rare: bool) -> np.ndarray:
    y = rng(3).integers(0, 9, N)
    if rare:
        y[rng(4).choice(N, N // 100, replace=False)] = 9  # 10 samples of class 9 against ~110 of the others
    else:
        y[rng(4).choice(N, N // 10, replace=False)] = 9
    return y


def onehot(rare: bool) -> np.ndarray:
    first = 10 if rare else 200
    return np.eye(5)[np.r_[np.zeros(first, int), rng(5).integers(1, 5, N - first)]]


def mask(shape: tuple[int, ...] = (8, 1, 16, 16), half: bool = False) -> np.ndarray:
    """0/1 masks with a 3×3 square per image (3.5 % foreground), or the left half (50 %)."""
    m = np.zeros(shape)
    if half:
        m[..., :, : shape[-1] // 2] = 1
    else:
        m[..., 4:7, 4:7] = 1
    return m


LABELS = {
    "binary_severe": lambda: binary(0.05),
    "binary_balanced": lambda: binary(0.4),
    "multilabel_severe": lambda: multilabel([0.5, 0.3, 0.2, 0.02]),
    "multilabel_balanced": lambda: multilabel([0.5, 0.3, 0.4, 0.35]),
    "multiclass_severe": lambda: multiclass(True),
    "multiclass_balanced": lambda: multiclass(False),
    "onehot_severe": lambda: onehot(True),
    "onehot_balanced": lambda: onehot(False),
}


def logits_for(y: np.ndarray) -> np.ndarray:
    """Logits a model would output for these labels: one per label, or one row of scores per sample."""
    if y.ndim == 1 and y.dtype.kind in "iu":
        return rng(10).normal(0, 2, (len(y), int(y.max()) + 1))
    return rng(10).normal(0, 2, y.shape)


def recommend(invoke_json, *args) -> dict:
    return invoke_json(["recommend", *args])


def losses_of(out: dict) -> list[str]:
    return [rec["loss"] for rec in out["recommendations"]]


def rec_of(out: dict, loss: str) -> dict:
    return next(rec for rec in out["recommendations"] if rec["loss"] == loss)


def run_command(invoke, command: str) -> dict:
    """Run a recommended ``losscli compute ...`` line in-process; assert success; its JSON."""
    words = shlex.split(command)
    assert words[:2] == ["losscli", "compute"], command
    result = invoke([*words[1:], "--no-grad", "-f", "json"])
    assert result.exit_code == 0, (command, result.stderr)
    out = json.loads(result.stdout)
    assert out["value"] is not None and np.isfinite(out["value"]), out
    return out


def warnings_of(invoke, args: list) -> list[str]:
    result = invoke([*args, "-f", "json"])
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    return json.loads(result.stdout)["warnings"]


# --- focal losses under severe imbalance ---------------------------------------------


@pytest.mark.parametrize(
    ("labels", "focal"),
    [
        ("binary_severe", "sigmoid_focal"),
        ("multilabel_severe", "sigmoid_focal"),
        ("multiclass_severe", "softmax_focal"),
        ("onehot_severe", "softmax_focal"),
    ],
)
def test_focal_loss_recommended_under_severe_imbalance_and_its_command_runs(
    invoke, invoke_json, write_file, labels, focal
):
    y = LABELS[labels]()
    labels_path = write_file(f"{labels}.npy", y)
    pred_path = write_file("logits.npy", logits_for(y))
    out = recommend(invoke_json, labels_path, "--pred", pred_path)
    assert out["evidence"]["severe_imbalance"] is True
    assert focal in losses_of(out)
    rec = rec_of(out, focal)
    assert f"Severe imbalance ({out['evidence']['imbalance_ratio']}:1)" in rec["reason"]
    assert rec["params"] == {}
    computed = run_command(invoke, rec["command"])
    assert computed["loss"] == focal
    assert computed["warnings"] == []


@pytest.mark.parametrize("labels", ["binary_balanced", "multilabel_balanced", "multiclass_balanced", "onehot_balanced"])
def test_no_focal_loss_without_severe_imbalance(invoke_json, write_file, labels):
    out = recommend(invoke_json, write_file(f"{labels}.npy", LABELS[labels]()))
    assert out["evidence"]["severe_imbalance"] is False
    assert not {"sigmoid_focal", "softmax_focal"} & set(losses_of(out))


def test_focal_flavour_follows_the_label_type(invoke_json, write_file):
    """sigmoid for independent 0/1 labels, softmax for one class per sample — never the other one."""
    for labels, wrong in (("binary_severe", "softmax_focal"), ("multiclass_severe", "sigmoid_focal")):
        assert wrong not in losses_of(recommend(invoke_json, write_file(f"{labels}.npy", LABELS[labels]())))


# --- segmentation masks: dice and tversky --------------------------------------------


@pytest.mark.parametrize("shape", [(8, 1, 16, 16), (8, 16, 16)], ids=["N1HW", "NHW"])
def test_segmentation_masks_flagged_and_overlap_losses_run_on_probabilities(invoke, invoke_json, write_file, shape):
    m = mask(shape)
    labels = write_file("mask.npy", m)
    probs = write_file("probs.npy", np.clip(0.8 * m + 0.15 * rng(11).random(shape), 0, 1))
    out = recommend(invoke_json, labels, "--pred", probs)
    assert out["label_type"] == "binary"
    assert out["evidence"]["segmentation_mask"] is True
    assert out["evidence"]["shape"] == list(shape)
    losses = losses_of(out)
    assert {"dice", "tversky"} <= set(losses)
    assert losses.index("dice") < losses.index("tversky")
    assert "masks" in rec_of(out, "dice")["reason"]
    for loss in ("dice", "tversky"):
        rec = rec_of(out, loss)
        computed = run_command(invoke, rec["command"])
        assert computed["loss"] == loss
        assert 0 < computed["value"] < 1
        assert computed["warnings"] == []


def test_balanced_masks_get_dice_but_no_focal_loss(invoke_json, write_file):
    out = recommend(invoke_json, write_file("half.npy", mask(half=True)))
    assert out["evidence"]["segmentation_mask"] is True
    assert out["evidence"]["severe_imbalance"] is False
    losses = losses_of(out)
    assert {"dice", "tversky"} <= set(losses)
    assert "sigmoid_focal" not in losses
    assert out["recommendations"][0]["params"] == {}  # no pos_weight when balanced


# --- images: ssim, ms_ssim, charbonnier ------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "scale", "expected"),
    [
        ((4, 1, 16, 16), 1.0, ["ssim", "charbonnier"]),
        ((4, 16, 16), 4.0, ["ssim", "charbonnier"]),
        ((1, 1, 176, 180), 1.0, ["ssim", "ms_ssim", "charbonnier"]),
        ((4, 1, 8, 8), 1.0, ["charbonnier"]),
    ],
    ids=["N1HW", "NHW-beyond-0-1", "large", "smaller-than-the-window"],
)
def test_real_valued_images_get_the_image_losses_and_they_run(invoke, invoke_json, write_file, shape, scale, expected):
    """Real-valued labels of shape (N, C, H, W) or (N, H, W) are images: ssim (when its window fits), ms_ssim (when
    its five scales do) and charbonnier, after the range's losses; data_range is the labels' span beyond [0, 1]."""
    y = scale * rng(12).uniform(0.05, 0.95, shape)
    labels = write_file("images.npy", y)
    pred = write_file("pred.npy", y + scale * rng(13).normal(0.0, 0.05, shape))
    out = recommend(invoke_json, labels, "--pred", pred)
    assert out["label_type"] == ("bounded" if scale == 1 else "continuous")
    assert out["evidence"]["images"] is True
    losses = losses_of(out)
    assert [loss for loss in losses if get_family(loss) == "image"] == expected
    assert losses.index(expected[0]) > 0  # after the range's own losses (bce, mse)
    for loss in expected:
        rec = rec_of(out, loss)
        if loss in ("ssim", "ms_ssim"):
            assert rec["params"] == ({} if scale == 1 else {"data_range": pytest.approx(y.max() - y.min(), rel=1e-3)})
        computed = run_command(invoke, rec["command"])
        assert computed["loss"] == loss and computed["value"] > 0


def test_labels_of_two_dimensions_are_not_images(invoke_json, write_file):
    out = recommend(invoke_json, write_file("y.npy", rng(14).uniform(0, 1, (20, 16))))
    assert "images" not in out["evidence"]
    assert not {"ssim", "ms_ssim", "charbonnier"} & set(losses_of(out))


def get_family(loss: str) -> str:
    from losscli.registry import get_loss

    return get_loss(loss).family


@pytest.mark.parametrize("labels", ["binary_severe", "multilabel_severe"], ids=["vector", "matrix"])
def test_labels_of_two_dimensions_or_fewer_are_not_masks(invoke_json, write_file, labels):
    out = recommend(invoke_json, write_file("y.npy", LABELS[labels]()))
    assert "segmentation_mask" not in out["evidence"]
    assert not {"dice", "tversky"} & set(losses_of(out))


def test_mask_recommendation_gives_one_pos_weight(invoke_json, write_file):
    m = mask()
    out = recommend(invoke_json, write_file("mask.npy", m))
    top = out["recommendations"][0]
    assert top["loss"] == "bce_with_logits"
    negatives, positives = np.count_nonzero(m == 0), np.count_nonzero(m)
    assert top["params"]["pos_weight"] == [pytest.approx(negatives / positives, rel=1e-3)]


def test_masks_also_get_the_lovasz_hinge_on_logits(invoke, invoke_json, write_file):
    m = mask((8, 16, 16))
    labels = write_file("mask.npy", m)
    logits = write_file("logits.npy", 4 * m - 2 + rng(12).normal(0, 1, m.shape))
    out = recommend(invoke_json, labels, "--pred", logits)
    losses = losses_of(out)
    assert losses.index("tversky") < losses.index("lovasz_hinge")
    assert "IoU" in rec_of(out, "lovasz_hinge")["reason"]
    computed = run_command(invoke, rec_of(out, "lovasz_hinge")["command"])
    assert computed["loss"] == "lovasz_hinge" and computed["warnings"] == []


def test_class_maps_get_dice_ce_and_lovasz_softmax_after_cross_entropy(invoke, invoke_json, write_file):
    """Per-pixel class indices (N, H, W): the segmentation losses on (N, C, H, W) logits, whose lines run."""
    index = rng(13).integers(0, 3, (6, 8, 8))
    labels = write_file("classes.npy", index)
    logits = write_file("logits.npy", 3 * np.moveaxis(np.eye(3)[index], -1, 1) + rng(14).normal(0, 1, (6, 3, 8, 8)))
    out = recommend(invoke_json, labels, "--pred", logits)
    assert out["label_type"] == "multiclass"
    losses = losses_of(out)
    assert losses.index("cross_entropy") < losses.index("dice_ce") < losses.index("lovasz_softmax")
    for loss in ("dice_ce", "lovasz_softmax"):
        computed = run_command(invoke, rec_of(out, loss)["command"])
        assert computed["loss"] == loss and computed["warnings"] == []
    flat = recommend(invoke_json, write_file("flat.npy", index.reshape(-1)))
    assert not {"dice_ce", "lovasz_softmax"} & set(losses_of(flat))


@pytest.mark.parametrize("loss", ["dice", "tversky"])
def test_overlap_losses_get_no_imbalance_warning_from_recommend(invoke, write_file, loss):
    m = mask()
    labels = write_file("mask.npy", m)
    probs = write_file("probs.npy", np.clip(0.8 * m + 0.15 * rng(11).random(m.shape), 0, 1))
    assert warnings_of(invoke, ["compute", loss, probs, labels, "--no-grad"]) == []
    assert warnings_of(invoke, ["recommend", labels, "--pred", probs, "--loss", loss]) == []


# --- quantiles: pinball first ---------------------------------------------------------


def pinball_ref(pred: np.ndarray, y: np.ndarray, q: list[float]) -> float:
    diff = y[:, None] - pred
    qs = np.asarray(q)
    return float(np.mean(np.maximum(qs * diff, (qs - 1) * diff)))


def test_quantiles_put_pinball_first_and_its_command_runs_on_n_by_3(invoke, invoke_json, write_file):
    y = rng(12).normal(10, 2, 500)
    pred = y[:, None] + np.array([-2.5, 0.0, 2.5]) + rng(13).normal(0, 0.5, (500, 3))
    labels_path, pred_path = write_file("y.npy", y), write_file("q.npy", pred)
    out = recommend(invoke_json, labels_path, "--pred", pred_path, "--quantiles", "0.1,0.5,0.9")
    assert out["label_type"] == "continuous"
    first = out["recommendations"][0]
    assert first["loss"] == "pinball"
    assert first["params"] == {"quantile": [0.1, 0.5, 0.9]}
    assert "0.1, 0.5, 0.9" in first["reason"] and "N×Q" in first["reason"]
    words = shlex.split(first["command"])
    assert words[:5] == ["losscli", "compute", "pinball", pred_path, labels_path]
    assert words[words.index("-p") + 1] == "quantile=[0.1,0.5,0.9]"
    assert out["warnings"] == []
    assert losses_of(out)[1] == "mse"  # the label type's own list follows
    computed = run_command(invoke, first["command"])
    assert computed["params"]["quantile"] == [0.1, 0.5, 0.9]
    assert computed["value"] == pytest.approx(pinball_ref(pred, y, [0.1, 0.5, 0.9]), rel=1e-5)


def test_one_quantile_is_a_scalar_parameter(invoke, invoke_json, write_file):
    y = rng(14).normal(0, 1, 200)
    labels, pred = write_file("y.npy", y), write_file("p.npy", y + 0.3)
    first = recommend(invoke_json, labels, "--pred", pred, "--quantiles", "0.9")["recommendations"][0]
    assert first["loss"] == "pinball" and first["params"] == {"quantile": 0.9}
    assert "quantile=0.9" in shlex.split(first["command"])
    assert run_command(invoke, first["command"])["value"] == pytest.approx(0.1 * 0.3, rel=1e-4)


def test_quantiles_without_a_labels_file(invoke_json):
    out = recommend(invoke_json, "--label-type", "continuous", "--quantiles", "0.05,0.95")
    first = out["recommendations"][0]
    assert first["loss"] == "pinball" and first["params"] == {"quantile": [0.05, 0.95]}
    assert shlex.split(first["command"])[3:5] == ["PRED", "LABELS"]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1.5", "quantiles lie strictly between 0 and 1"),
        ("0", "strictly between 0 and 1"),
        ("0.1,1", "strictly between 0 and 1"),
        ("0.1,abc", "expected finite numbers separated by commas"),
        ("nan", "expected finite numbers"),
    ],
)
def test_bad_quantiles_exit_2(expect_error, write_file, value, fragment):
    labels = write_file("y.npy", rng(15).normal(0, 1, 50))
    expect_error(["recommend", labels, "--quantiles", value], 2, f"--quantiles {value!r}", fragment)


# --- brier: the calibration check for probabilities -------------------------------------


def test_brier_is_listed_for_probabilities_and_its_line_gives_scikit_learns_value(invoke, invoke_json, write_file):
    from sklearn.metrics import brier_score_loss

    y = rng(30).integers(0, 2, 200)
    p = np.clip(0.2 + 0.6 * y + rng(31).normal(0, 0.15, 200), 0.01, 0.99)
    labels, probs = write_file("y.npy", y), write_file("p.npy", p)
    out = recommend(invoke_json, labels, "--pred", probs)
    assert out["label_type"] == "binary"
    assert losses_of(out).index("brier") == losses_of(out).index("bce") + 1
    assert "calibration" in rec_of(out, "brier")["reason"]
    value = run_command(invoke, rec_of(out, "brier")["command"])["value"]
    assert value == pytest.approx(brier_score_loss(y, p), rel=1e-5)


def test_brier_is_listed_for_softmax_rows_of_class_labels(invoke, invoke_json, write_file):
    from sklearn.metrics import brier_score_loss

    y = rng(32).integers(0, 4, 120)
    probs = softmax(rng(33).normal(0, 1, (120, 4)) + 2.0 * np.eye(4)[y])
    out = recommend(invoke_json, write_file("y.npy", y), "--pred", write_file("p.npy", probs))
    assert out["label_type"] == "multiclass"
    assert losses_of(out)[-1] == "brier"
    value = run_command(invoke, rec_of(out, "brier")["command"])["value"]
    assert value == pytest.approx(brier_score_loss(y, probs, labels=range(4)), rel=1e-5)


@pytest.mark.parametrize("pred", [None, "logits"])
def test_brier_is_not_listed_without_probabilities(invoke_json, write_file, pred):
    y = rng(34).integers(0, 4, 120)
    args = [write_file("y.npy", y)]
    if pred:
        args += ["--pred", write_file("z.npy", rng(35).normal(0, 2, (120, 4)))]
    assert "brier" not in losses_of(recommend(invoke_json, *args))


# --- signed labels, counts, distributions ---------------------------------------------


def test_signed_labels_list_the_hinge_losses_and_they_run(invoke, invoke_json, write_file):
    y = rng(16).choice([-1.0, 1.0], 400)
    labels, scores = write_file("signs.npy", y), write_file("scores.npy", rng(17).normal(0, 2, 400))
    out = recommend(invoke_json, labels, "--pred", scores)
    assert out["label_type"] == "signed"
    losses = losses_of(out)
    assert losses[0] == "soft_margin"
    assert {"hinge", "squared_hinge"} <= set(losses)
    for loss in ("hinge", "squared_hinge"):
        assert run_command(invoke, rec_of(out, loss)["command"])["warnings"] == []


def test_counts_list_the_deviances_and_they_run_on_rates(invoke, invoke_json, write_file):
    y = rng(18).poisson(50, 400) * (rng(19).random(400) > 0.3)  # many zeros: tweedie's power 1.5 allows them
    labels, rates = write_file("counts.npy", y), write_file("rates.npy", rng(20).uniform(20, 60, 400))
    out = recommend(invoke_json, labels)
    assert out["label_type"] == "count"
    losses = losses_of(out)
    assert {"poisson_deviance", "tweedie"} <= set(losses)
    assert losses.index("poisson_nll") < losses.index("poisson_deviance") < losses.index("tweedie")
    for loss in ("poisson_deviance", "tweedie"):
        command = rec_of(out, loss)["command"].replace("PRED", rates)
        computed = run_command(invoke, command)
        assert computed["loss"] == loss and computed["value"] > 0


def test_distributions_list_generalized_kl_and_it_runs_on_log_predictions(invoke, invoke_json, write_file):
    y = rng(20).dirichlet(np.ones(4), 300)
    labels = write_file("dist.npy", y)
    log_pred = write_file("log_pred.npy", np.log(softmax(rng(21).normal(0, 1, (300, 4)))))
    out = recommend(invoke_json, labels, "--pred", log_pred)
    assert out["label_type"] == "distribution"
    assert "generalized_kl" in losses_of(out)
    computed = run_command(invoke, rec_of(out, "generalized_kl")["command"])
    assert computed["value"] > 0
    assert computed["warnings"] == []


# --- deviances against non-positive predictions ---------------------------------------


@pytest.fixture
def log_rates(write_file):
    """Count labels and log-rate predictions (some negative): the classic deviance mistake."""
    y = rng(22).poisson(50, 300)
    pred = np.log(rng(23).uniform(30, 70, 300)) - 5.0
    first_bad = int(np.argmax(pred <= 0))
    return write_file("counts.npy", y), write_file("log_rates.npy", pred), first_bad


@pytest.mark.parametrize("loss", ["poisson_deviance", "gamma_deviance", "tweedie"])
def test_deviance_on_non_positive_predictions_warned_by_recommend(invoke, log_rates, loss):
    labels, pred, _ = log_rates
    found = warnings_of(invoke, ["recommend", labels, "--pred", pred, "--loss", loss])
    assert any(loss in w and "positive means" in w and "exponentiate" in w for w in found), found


@pytest.mark.parametrize("loss", ["poisson_deviance", "gamma_deviance", "tweedie"])
def test_deviance_on_non_positive_predictions_refused_by_compute(expect_error, log_rates, loss):
    labels, pred, first_bad = log_rates
    expect_error(["compute", loss, pred, labels], 3, pred, f"row {first_bad + 1}", "is not > 0", "exp of")


def test_deviance_on_positive_rates_is_quiet(invoke, write_file):
    labels = write_file("counts.npy", rng(22).poisson(50, 300))
    rates = write_file("rates.npy", rng(23).uniform(30, 70, 300))
    assert warnings_of(invoke, ["recommend", labels, "--pred", rates, "--loss", "poisson_deviance"]) == []


# --- imbalance warnings of compute ----------------------------------------------------


def test_bce_with_logits_on_an_imbalanced_mask_warns_with_one_pos_weight(invoke, write_file):
    m = mask()
    labels = write_file("mask.npy", m)
    logits = write_file("logits.npy", rng(24).normal(0, 2, m.shape))
    found = warnings_of(invoke, ["compute", "bce_with_logits", logits, labels, "--no-grad"])
    assert len(found) == 1, found
    assert "severe class imbalance" in found[0]
    weights = re.search(r"-p pos_weight=\[([^\]]*)\]", found[0])
    assert weights is not None, found[0]
    values = [float(v) for v in weights.group(1).split(",")]
    assert values == [pytest.approx(np.count_nonzero(m == 0) / np.count_nonzero(m), rel=1e-3)]
    # the suggested setting runs and silences the warning
    assert warnings_of(invoke, ["compute", "bce_with_logits", logits, labels, "-p", f"pos_weight=[{values[0]}]"]) == []


@pytest.mark.parametrize("labels", ["binary_severe", "multilabel_severe", "mask"])
def test_sigmoid_focal_gets_no_imbalance_warning(invoke, write_file, labels):
    y = mask() if labels == "mask" else LABELS[labels]()
    labels_path, logits = write_file("y.npy", y), write_file("logits.npy", rng(25).normal(0, 2, y.shape))
    assert any("imbalance" in w for w in warnings_of(invoke, ["compute", "bce_with_logits", logits, labels_path]))
    assert warnings_of(invoke, ["compute", "sigmoid_focal", logits, labels_path]) == []


def test_softmax_focal_gets_no_imbalance_warning(invoke, write_file):
    y = LABELS["multiclass_severe"]()
    labels, logits = write_file("y.npy", y), write_file("logits.npy", logits_for(y))
    assert any("imbalance" in w for w in warnings_of(invoke, ["compute", "cross_entropy", logits, labels]))
    assert warnings_of(invoke, ["compute", "softmax_focal", logits, labels]) == []


# --- compare: default losses ----------------------------------------------------------


def test_compare_defaults_on_binary_logits_are_the_same_balanced_or_not(invoke_json, write_file):
    """The default columns depend on the label type only (issue 12): no focal loss, no pos_weight from the counts."""
    for name in ("binary_severe", "binary_balanced"):
        labels = write_file(f"{name}.npy", LABELS[name]())
        models = [write_file(f"{name}_model_{i}.npy", rng(30 + i).normal(0, 2, N)) for i in range(2)]
        out = invoke_json(["compare", *models, "--labels", labels])
        assert out["losses"] == ["bce_with_logits"] and out["params"] == {}, name


# --- info: every registered loss ------------------------------------------------------

SPECS = list_losses()


def squeeze(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_info_table_shows_the_loss_and_its_source(invoke, spec):
    result = invoke(["info", spec.name])
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert result.stderr == ""
    text = squeeze(result.stdout)
    assert text.startswith(f"{spec.name} {squeeze(spec.origin)}"), text[:200]
    for heading in ("Formula", "Inputs", "Parameters (-p NAME=VALUE)", "Use it when"):
        assert heading in text


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_info_json_has_the_source(invoke_json, spec):
    out = invoke_json(["info", spec.name])
    assert out["name"] == spec.name
    assert out["source"] == spec.origin
    assert out["source"]
    if spec.torch_name:
        assert out["source"] == f"torch.nn.{spec.torch_name}" or spec.torch_name in out["source"]
    else:
        libraries = ("Keras", "optax", "torchvision", "pytorch-metric-learning", "MONAI", "segmentation_models_pytorch")
        libraries += ("kornia", "scikit-learn", "losscli")
        assert out["source"].split()[0] in libraries, out["source"]
    assert out["family"] == spec.family
    assert out["formula"] and out["use_when"]
    assert [i["name"] for i in out["inputs"]] == [r.name for r in spec.roles]


def test_info_by_alias_is_the_same_page(invoke_json):
    assert invoke_json(["info", "focal"]) == invoke_json(["info", "sigmoid_focal"])


def test_info_of_an_unknown_loss_exits_2(expect_error):
    expect_error(["info", "sigmoid_focall"], 2, "sigmoid_focal")
