"""Issue 17's losses on the sample files: each computes a finite value and a gradient for every input it
differentiates, from the files sample_data/README.md names for it (the commands a user would copy)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from losscli.registry import get_loss

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"

REGRESSION = ["regression_pred.csv", "regression_labels.csv"]
METRIC = ["metric_embeddings.csv", "metric_labels.csv"]
SEG = ["seg_logits.npy", "seg_labels.npy"]
SEG_PROBS = ["seg_probs.npy", "seg_onehot.npy"]
IMAGES = ["image_pred.npy", "image_target.npy"]

COMMANDS = {
    "dice_ce": SEG,
    "dice_focal": SEG,
    "jaccard": SEG,
    "lovasz_softmax": SEG,
    "generalized_dice": SEG_PROBS,
    "soft_cldice": SEG_PROBS,
    "hausdorff_dt": SEG_PROBS,
    "lovasz_hinge": ["mask_logits.csv", "mask_labels.csv"],
    "mcc": ["mask_probs.csv", "mask_labels.csv"],
    "contrastive": METRIC,
    "supcon": METRIC,
    "multi_similarity": METRIC,
    "arcface": [*METRIC, "--input", "weight=metric_weight.npy"],
    "cosface": [*METRIC, "--input", "weight=metric_weight.npy"],
    "proxy_anchor": [*METRIC, "--input", "proxies=metric_proxies.csv"],
    "barlow_twins": ["views_a.csv", "--input", "ref_emb=views_b.csv"],
    "vicreg": ["views_a.csv", "--input", "ref_emb=views_b.csv"],
    "ssim": IMAGES,
    "ms_ssim": ["image_large_pred.npy", "image_large_target.npy", "-p", "data_range=255"],
    "psnr": IMAGES,
    "charbonnier": IMAGES,
    "total_variation": ["image_pred.npy"],
    "cauchy": REGRESSION,
    "welsch": REGRESSION,
    "geman_mcclure": REGRESSION,
    "l2_loss": REGRESSION,
    "multiclass_perceptron": ["multiclass_logits.csv", "multiclass_labels.txt"],
    "binary_sparsemax": ["binary_logits.csv", "binary_labels.csv"],
    "brier": ["binary_probs.csv", "binary_labels.csv"],
}


def test_every_command_is_documented_beside_its_files():
    """sample_data/README.md names each of these losses among the users of its files."""
    readme = (SAMPLES / "README.md").read_text()
    assert [name for name in COMMANDS if name not in readme] == []


@pytest.mark.parametrize("loss", COMMANDS)
def test_each_computes_value_and_gradient_on_a_sample_file(invoke_json, monkeypatch, loss):
    monkeypatch.chdir(SAMPLES)
    out = invoke_json(["compute", loss, *COMMANDS[loss]])
    assert math.isfinite(out["value"])
    differentiated = {r.name for r in get_loss(loss).roles if r.differentiable}
    assert set(out["gradients"]) == differentiated
    for stats in out["gradients"].values():
        assert np.isfinite(stats["norm"]) and stats["norm"] > 0
