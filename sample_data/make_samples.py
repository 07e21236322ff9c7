"""Regenerate every file in sample_data/ from one seed: ``python sample_data/make_samples.py``.

Needs numpy and pyarrow only. The output is byte-for-byte the same on every
run (fixed seed, fixed number formats, fixed timestamps inside the .npz), so a
changed file in ``git diff`` means the generator changed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
SEED = 2021


def fmt(value: float | int, decimals: int) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = f"{value:.{decimals}f}"
    return "0." + "0" * decimals if text == "-0." + "0" * decimals else text


def write_table(
    name: str,
    columns: list[str] | None,
    data: np.ndarray,
    *,
    comment: str | None = None,
    decimals: int = 4,
    sep: str = ",",
) -> None:
    """A delimited text table; integer arrays are written without decimals."""
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[:, None]
    lines = [f"# {comment}"] if comment else []
    if columns is not None:
        assert len(columns) == data.shape[1], name
        lines.append(sep.join(columns))
    for row in data:
        cells = [fmt(v.item() if data.dtype.kind in "iu" else float(v), decimals) for v in row]
        lines.append(sep.join(cells))
    (HERE / name).write_text("\n".join(lines) + "\n")


def write_aligned(name: str, columns: list[str], data: np.ndarray, *, decimals: int = 4) -> None:
    """A whitespace-separated .txt table, columns padded with spaces."""
    cells = [columns] + [[fmt(float(v), decimals) for v in row] for row in data]
    width = max(len(c) for row in cells for c in row) + 2
    (HERE / name).write_text("\n".join("".join(c.rjust(width) for c in row).rstrip() for row in cells) + "\n")


def save_npy(name: str, array: np.ndarray) -> None:
    with open(HERE / name, "wb") as handle:
        np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)


def save_npz(name: str, **arrays: np.ndarray) -> None:
    """Like numpy.savez, but with a fixed timestamp on every member so the bytes are reproducible."""
    with zipfile.ZipFile(HERE / name, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, buffer.getvalue())


def write_shards(role: str, column: str, values: np.ndarray) -> None:
    """The 20 regression rows as Parquet shards of 8, 7 and 5 rows, ``shards/{role}-{i}.parquet`` (sharded
    inputs: a glob, a directory, Dask)."""
    (HERE / "shards").mkdir(exist_ok=True)
    for i, (start, stop) in enumerate([(0, 8), (8, 15), (15, len(values))]):
        shard = pa.table({column: pa.array(values[start:stop], pa.float64())})
        pq.write_table(shard, HERE / "shards" / f"{role}-{i}.parquet", compression="snappy")


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def regression(rng: np.random.Generator) -> dict:
    n = 20
    y = np.round(rng.uniform(0.0, 10.0, n), 2)
    pred = np.round(y + rng.normal(0.0, 0.4, n), 3)
    outliers = np.array([4, 11, 17])
    y[outliers] += np.array([9.0, -7.5, 12.0])  # three labels far from their predictions
    var = np.round(rng.uniform(0.1, 0.4, n), 3)
    var[outliers] = np.array([60.0, 40.0, 90.0])  # the model is unsure exactly where it is wrong
    write_table("regression_pred.csv", ["pred"], pred, comment="model predictions, one per sample", decimals=3)
    write_table("regression_labels.csv", ["y"], y, comment="true values; rows 5, 12 and 18 are outliers", decimals=2)
    both = np.column_stack([pred, y])
    write_table("regression.csv", ["pred", "y"], both, decimals=3)
    write_table("regression.tsv", ["pred", "y"], both, decimals=3, sep="\t")
    write_aligned("regression.txt", ["pred", "y"], both, decimals=3)
    table = pa.table({"pred": pa.array(pred, pa.float64()), "y": pa.array(y, pa.float64())})
    pq.write_table(table, HERE / "regression.parquet", compression="snappy")
    write_table("regression_var.csv", ["var"], var, comment="predicted variance per sample", decimals=3)
    write_shards("pred", "pred", pred)
    write_shards("label", "y", y)
    return {"y": y, "pred": pred}


def binary(rng: np.random.Generator) -> dict:
    n = 16
    labels = rng.integers(0, 2, n)
    labels[:2] = (0, 1)
    logits = np.round((2 * labels - 1) * np.abs(rng.normal(1.5, 1.0, n)), 3)
    logits[[5, 12]] *= -1  # two confident mistakes
    probs = np.clip(np.round(sigmoid(logits), 4), 0.0001, 0.9999)
    write_table("binary_logits.csv", ["logit"], logits, decimals=3)
    write_table("binary_probs.csv", ["prob"], probs, comment="sigmoid(binary_logits.csv)")
    write_table("binary_labels.csv", ["label"], labels.astype(np.int64))
    return {"labels": labels, "logits": logits}


def multiclass(rng: np.random.Generator) -> dict:
    n, c = 12, 4
    labels = rng.integers(0, c, n)
    labels[:c] = np.arange(c)
    logits = rng.normal(0.0, 1.0, (n, c))
    logits[np.arange(n), labels] += 2.0
    logits[[3, 8]] = logits[[3, 8]][:, ::-1]  # two rows where another class wins
    logits = np.round(logits, 3)
    cols = [f"c{i}" for i in range(c)]
    write_table("multiclass_logits.csv", cols, logits, comment="unnormalised scores for 4 classes", decimals=3)
    (HERE / "multiclass_labels.txt").write_text("".join(f"{v}\n" for v in labels))
    write_table("multiclass_log_probs.csv", cols, log_softmax(logits, axis=1), decimals=5)
    save_npz("multiclass.npz", logits=logits.astype(np.float32), labels=labels.astype(np.int64))
    return {"labels": labels, "logits": logits}


def multilabel(rng: np.random.Generator) -> dict:
    n, c = 10, 5
    labels = (rng.uniform(size=(n, c)) < 0.4).astype(np.int64)
    empty = labels.sum(axis=1) == 0
    labels[empty, rng.integers(0, c, int(empty.sum()))] = 1  # every sample has a label
    logits = np.round((2 * labels - 1) * np.abs(rng.normal(1.2, 1.0, (n, c))) + rng.normal(0, 0.5, (n, c)), 3)
    index = np.full((n, c), -1, dtype=np.int64)
    for i, row in enumerate(labels):
        hits = np.flatnonzero(row)
        index[i, : len(hits)] = hits
    cols = [f"c{i}" for i in range(c)]
    write_table("multilabel_logits.csv", cols, logits, decimals=3)
    write_table("multilabel_labels.csv", cols, labels)
    write_table(
        "multilabel_index.csv",
        [f"k{i}" for i in range(c)],
        index,
        comment="class indices of each sample, padded with -1 (same labels as multilabel_labels.csv)",
    )
    return {"labels": labels, "logits": logits}


def signed(rng: np.random.Generator) -> None:
    n = 12
    labels = rng.choice(np.array([-1, 1]), n)
    scores = np.round(labels * rng.normal(1.0, 1.0, n), 3)
    write_table("signed_scores.csv", ["score"], scores, decimals=3)
    write_table("signed_labels.csv", ["label"], labels.astype(np.int64))


def ranking(rng: np.random.Generator) -> None:
    n = 10
    relevance1, relevance2 = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    labels = np.where(relevance1 > relevance2, 1, -1)
    s1 = np.round(relevance1 * 3 + rng.normal(0, 0.8, n), 3)
    s2 = np.round(relevance2 * 3 + rng.normal(0, 0.8, n), 3)
    write_table("ranking_scores1.csv", ["s1"], s1, comment="score of the first item of each pair", decimals=3)
    write_table("ranking_scores2.csv", ["s2"], s2, comment="score of the second item of each pair", decimals=3)
    write_table("ranking_labels.csv", ["y"], labels.astype(np.int64), comment="1: first ranks higher, -1: second")


def embeddings(rng: np.random.Generator) -> None:
    n, d = 8, 4
    centres = rng.normal(0, 1.5, (4, d))
    cols = [f"e{i}" for i in range(d)]
    # Pairs: similar pairs share a centre, dissimilar ones do not.
    labels = np.array([1, -1, 1, 1, -1, -1, 1, -1])
    k1 = rng.integers(0, 4, n)
    k2 = np.where(labels == 1, k1, (k1 + rng.integers(1, 4, n)) % 4)
    x1 = np.round(centres[k1] + rng.normal(0, 0.4, (n, d)), 3)
    x2 = np.round(centres[k2] + rng.normal(0, 0.4, (n, d)), 3)
    write_table("pairs_x1.csv", cols, x1, decimals=3)
    write_table("pairs_x2.csv", cols, x2, decimals=3)
    write_table("pairs_labels.csv", ["y"], labels.astype(np.int64), comment="1: similar pair, -1: dissimilar")
    write_table(
        "pairs_l1_distance.csv",
        ["dist"],
        np.abs(x1 - x2).sum(axis=1),
        comment="L1 distance between pairs_x1.csv and pairs_x2.csv, row by row",
        decimals=3,
    )
    # Triplets: the positive shares the anchor's centre, the negative does not.
    ka = rng.integers(0, 4, n)
    kn = (ka + rng.integers(1, 4, n)) % 4
    anchor = np.round(centres[ka] + rng.normal(0, 0.5, (n, d)), 3)
    positive = np.round(centres[ka] + rng.normal(0, 0.5, (n, d)), 3)
    negative = np.round(centres[kn] + rng.normal(0, 0.5, (n, d)), 3)
    negative[[2, 6]] = np.round(anchor[[2, 6]] + rng.normal(0, 0.3, (2, d)), 3)  # two hard negatives
    write_table("triplet_anchor.csv", cols, anchor, decimals=3)
    write_table("triplet_positive.csv", cols, positive, decimals=3)
    write_table("triplet_negative.csv", cols, negative, decimals=3)


def distribution(rng: np.random.Generator) -> None:
    n, c = 8, 4
    target_logits = rng.normal(0, 1.0, (n, c))
    target = np.exp(log_softmax(target_logits, axis=1))
    # Rows of exactly 1.0000: round to 1e-4, then give the rounding remainder to each row's largest entry.
    units = np.round(target * 10_000).astype(np.int64)
    units[np.arange(n), units.argmax(axis=1)] += 10_000 - units.sum(axis=1)
    pred_log = log_softmax(target_logits + rng.normal(0, 0.6, (n, c)), axis=1)
    cols = [f"c{i}" for i in range(c)]
    write_table("kl_log_probs.csv", cols, pred_log, comment="model log-probabilities (log_softmax)", decimals=5)
    write_table("kl_targets.csv", cols, units / 10_000, comment="target probabilities; each row sums to 1")


def counts(rng: np.random.Generator) -> None:
    n = 15
    log_rate = rng.normal(1.5, 0.7, n)
    observed = rng.poisson(np.exp(log_rate)).astype(np.int64)
    write_table(
        "poisson_log_rate.csv",
        ["log_rate"],
        np.round(log_rate + rng.normal(0, 0.2, n), 3),
        comment="predicted log of the expected count",
        decimals=3,
    )
    write_table("poisson_counts.csv", ["count"], observed, comment="observed event counts")


def nll2d(rng: np.random.Generator) -> None:
    n, c, h, w = 2, 3, 4, 4
    labels = rng.integers(0, c, (n, h, w))
    logits = rng.normal(0, 1.0, (n, c, h, w))
    onehot = np.moveaxis(np.eye(c)[labels], -1, 1)  # (N, C, H, W)
    logits += 2.0 * onehot
    save_npy("nll2d_log_probs.npy", log_softmax(logits, axis=1).astype(np.float32))
    save_npy("nll2d_labels.npy", labels.astype(np.int64))


def ctc(rng: np.random.Generator) -> None:
    steps, batch, classes = 12, 3, 5  # class 0 is the blank
    targets = np.array([[1, 2, 2, 3], [3, 1, 4, 0], [2, 4, 0, 0]], dtype=np.int64)  # 0 = padding after the length
    target_lengths = np.array([4, 3, 2], dtype=np.int64)
    input_lengths = np.array([12, 10, 8], dtype=np.int64)
    logits = rng.normal(0, 1.0, (steps, batch, classes))
    for b in range(batch):
        # Favour one valid alignment: each label over a few steps, blanks in between.
        labels = targets[b, : target_lengths[b]]
        span = input_lengths[b] // (2 * len(labels))
        t = 0
        for label in labels:
            logits[t : t + span, b, label] += 3.0
            logits[t + span : t + 2 * span, b, 0] += 3.0
            t += 2 * span
        needed = len(labels) + int(np.count_nonzero(labels[1:] == labels[:-1]))
        assert needed <= input_lengths[b] <= steps
    save_npy("ctc_log_probs.npy", log_softmax(logits, axis=2).astype(np.float32))
    write_table(
        "ctc_targets.csv",
        [f"s{i}" for i in range(targets.shape[1])],
        targets,
        comment="label sequences, one row per sample, padded with 0 after target_length",
    )
    write_table("ctc_input_lengths.csv", ["input_length"], input_lengths)
    write_table("ctc_target_lengths.csv", ["target_length"], target_lengths)


def other_models(rng: np.random.Generator, made: dict) -> None:
    """Second (and third) models' predictions for the same labels: inputs of ``losscli compare``."""
    reg = made["regression"]
    y, pred_a = reg["y"], reg["pred"]
    n = len(y)
    # Model B tracks every label, the outliers included, with more noise: better under every loss.
    pred_b = np.round(y + rng.normal(0.0, 0.9, n), 3)
    # Model C is never far off and never close: errors of 2.0-2.6 everywhere. Against model A
    # (close on 17 rows, 7.5-12 off on the three outliers) mse prefers C, l1 and smooth_l1 prefer A.
    pred_c = np.round(y + rng.choice(np.array([-1.0, 1.0]), n) * rng.uniform(2.0, 2.6, n), 3)
    err_a, err_c = pred_a - y, pred_c - y
    assert np.mean(err_c**2) < 0.5 * np.mean(err_a**2), "mse must prefer model C"
    assert np.mean(np.abs(err_a)) < 0.9 * np.mean(np.abs(err_c)), "l1 must prefer model A"
    write_table(
        "regression_pred_b.csv", ["pred"], pred_b, comment="model B: noisier, but no outlier misses", decimals=3
    )
    write_table("regression_pred_c.csv", ["pred"], pred_c, comment="model C: every prediction 2.0-2.6 off", decimals=3)
    write_shards("pred_b", "pred", pred_b)
    write_table(
        "models.csv",
        ["y", "model_a", "model_b", "model_c"],
        np.column_stack([y, pred_a, pred_b, pred_c]),
        decimals=3,
    )
    with_region(HERE / "models.csv", np.random.default_rng(SEED + 2), n)
    # Binary: model B has smaller logits, right and wrong alike, and is wrong on rows 6 and 10.
    labels, logits = made["binary"]["labels"], made["binary"]["logits"]
    logits_b = np.round((2 * labels - 1) * np.abs(rng.normal(0.8, 0.5, len(labels))), 3)
    logits_b[[5, 9]] *= -1
    write_table("binary_logits_b.csv", ["logit"], logits_b, comment="model B: smaller logits", decimals=3)
    # Multiclass: model B's scores are flatter and noisier; rows 4 and 7 reversed so another class wins.
    labels, logits = made["multiclass"]["labels"], made["multiclass"]["logits"]
    k, c = logits.shape
    logits_b = rng.normal(0.0, 1.0, (k, c))
    logits_b[np.arange(k), labels] += 1.2
    logits_b[[3, 6]] = logits_b[[3, 6]][:, ::-1]
    cols = [f"c{i}" for i in range(c)]
    write_table("multiclass_logits_b.csv", cols, np.round(logits_b, 3), comment="model B: flatter scores", decimals=3)
    # Multilabel: model B is sharper on most labels.
    labels = made["multilabel"]["labels"]
    logits_b = (2 * labels - 1) * np.abs(rng.normal(2.0, 1.0, labels.shape)) + rng.normal(0, 0.5, labels.shape)
    cols = [f"c{i}" for i in range(labels.shape[1])]
    write_table("multilabel_logits_b.csv", cols, np.round(logits_b, 3), comment="model B: sharper logits", decimals=3)


def metric_learning(rng: np.random.Generator) -> None:
    """Labelled embeddings with their class centres and proxies, and two views of a batch (the embedding losses
    of issue 17): contrastive, supcon, multi_similarity, arcface, cosface, proxy_anchor, barlow_twins, vicreg."""
    n_classes, d, per_class = 3, 4, 4
    centres = rng.normal(0.0, 1.0, (n_classes, d))
    labels = np.repeat(np.arange(n_classes), per_class)[rng.permutation(n_classes * per_class)]
    embeddings = centres[labels] + rng.normal(0.0, 0.5, (len(labels), d))
    embeddings[[2, 7]] = -embeddings[[2, 7]]  # two embeddings on the far side of the sphere from their class
    cols = [f"e{i}" for i in range(d)]
    write_table("metric_embeddings.csv", cols, np.round(embeddings, 3), decimals=3)
    write_table("metric_labels.csv", ["label"], labels.astype(np.int64), comment="class of each embedding, 0-2")
    # The class centres as ArcFace/CosFace learn them (pml's W: D x C) and as ProxyAnchor does (C x D).
    save_npy("metric_weight.npy", np.round(centres.T + rng.normal(0.0, 0.2, (d, n_classes)), 3))
    write_table("metric_proxies.csv", cols, np.round(centres + rng.normal(0.0, 0.2, centres.shape), 3), decimals=3)
    # Two augmented views of 16 samples: the second a noisy copy of the first, features of unequal spread.
    first = rng.normal(0.0, 1.0, (16, d)) * np.array([0.5, 1.0, 1.5, 2.0])
    second = first + rng.normal(0.0, 0.4, first.shape)
    write_table("views_a.csv", cols, np.round(first, 3), decimals=3)
    write_table("views_b.csv", cols, np.round(second, 3), decimals=3)


def class_probabilities(made: dict) -> None:
    """softmax of the multiclass logits, for brier on (N, C) probabilities (issue 17); no random draws."""
    logits = made["multiclass"]["logits"]
    cols = [f"c{i}" for i in range(logits.shape[1])]
    write_table(
        "multiclass_probs.csv",
        cols,
        np.exp(log_softmax(logits, axis=1)),
        comment="softmax(multiclass_logits.csv)",
        decimals=5,
    )


def segmentation(rng: np.random.Generator) -> None:
    """Two 6 x 6 images of 3 classes (background, a one-pixel-wide vertical vessel, a blob) with a model's logits,
    probabilities and one-hot masks, and 6 flattened binary masks of 8 pixels (the segmentation losses of issue 17):
    dice_ce, dice_focal, jaccard, lovasz_softmax, generalized_dice, soft_cldice, hausdorff_dt, lovasz_hinge, mcc."""
    n, c, h, w = 2, 3, 6, 6
    labels = np.zeros((n, h, w), dtype=np.int64)
    labels[0, :, 1] = labels[1, 1:, 4] = 1  # the vessels
    labels[0, 3:5, 3:5] = labels[1, 0:2, 0:3] = 2  # the blobs
    onehot = np.moveaxis(np.eye(c)[labels], -1, 1)
    logits = np.round(rng.normal(0.0, 1.0, (n, c, h, w)) + 2.5 * onehot, 3).astype(np.float32)
    save_npy("seg_logits.npy", logits)
    save_npy("seg_labels.npy", labels)
    save_npy("seg_onehot.npy", onehot.astype(np.float32))
    probs = np.exp(log_softmax(logits.astype(np.float64), axis=1))
    save_npy("seg_probs.npy", np.round(probs, 4).astype(np.float32))
    masks = (rng.uniform(size=(6, 8)) < 0.35).astype(np.int64)
    masks[:, 0] = 1  # every mask has foreground
    mask_logits = (2 * masks - 1) * rng.uniform(0.2, 2.5, masks.shape) + rng.normal(0.0, 0.6, masks.shape)
    mask_logits[2, 3] = -mask_logits[2, 3]  # one confidently wrong pixel
    cols = [f"px{i}" for i in range(masks.shape[1])]
    write_table("mask_logits.csv", cols, np.round(mask_logits, 3), comment="foreground logit per pixel", decimals=3)
    write_table("mask_probs.csv", cols, np.round(sigmoid(mask_logits), 4), comment="sigmoid of mask_logits.csv")
    write_table("mask_labels.csv", cols, masks, comment="true mask: 1 foreground, 0 background")


def _scene(rng: np.random.Generator, side: int) -> np.ndarray:
    """A made-up grey-scale picture in [0, 1]: a soft background gradient, three Gaussian blobs and a bright
    disc with a sharp edge."""
    t = np.linspace(0.0, 1.0, side)
    rows, cols = np.meshgrid(t, t, indexing="ij")
    image = 0.2 + 0.3 * cols
    for _ in range(3):
        centre, width, height = rng.uniform(0.15, 0.85, 2), rng.uniform(0.05, 0.2), rng.uniform(-0.3, 0.4)
        image += height * np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * width**2))
    centre = rng.uniform(0.3, 0.7, 2)
    image[(rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < 0.04] += 0.25
    return np.clip(image, 0.0, 1.0)


def _degraded(rng: np.random.Generator, image: np.ndarray, noise: float) -> np.ndarray:
    """The image blurred by a 3×3 box (edges repeated) and with Gaussian noise added, clipped to [0, 1]."""
    padded = np.pad(image, 1, mode="edge")
    side = image.shape[0]
    blurred = sum(padded[i : i + side, j : j + side] for i in range(3) for j in range(3)) / 9
    return np.clip(blurred + rng.normal(0.0, noise, image.shape), 0.0, 1.0)


def images(rng: np.random.Generator) -> None:
    """Images for the image-restoration losses of issue 17: four 16×16 float32 pictures in [0, 1] and their
    blurred, noisy restorations (ssim, psnr, charbonnier, total_variation), and one 176×176 8-bit picture with
    its restoration, the smallest ms_ssim takes with its default window and five scales."""
    target = np.stack([_scene(rng, 16) for _ in range(4)])[:, None]
    pred = np.stack([_degraded(rng, t[0], 0.05) for t in target])[:, None]
    save_npy("image_target.npy", np.round(target, 4).astype(np.float32))
    save_npy("image_pred.npy", np.round(pred, 4).astype(np.float32))
    large = _scene(rng, 176)
    save_npy("image_large_target.npy", np.round(255 * large).astype(np.uint8).reshape(1, 1, 176, 176))
    restored = _degraded(rng, large, 0.03)
    save_npy("image_large_pred.npy", np.round(255 * restored).astype(np.uint8).reshape(1, 1, 176, 176))


REGIONS = ("north", "south", "east", "west")


def with_region(path: Path, rng: np.random.Generator, n: int) -> None:
    """A text column ``region`` (five rows each, in a shuffled order) after the numbers of ``models.csv``, to
    slice by (``--by region``), and a weight per sample in ``regression_weights.csv`` (``--sample-weight``)."""
    regions = rng.permutation(np.repeat(REGIONS, n // len(REGIONS)))
    lines = path.read_text().splitlines()
    rows = [f"{lines[0]},region", *(f"{line},{region}" for line, region in zip(lines[1:], regions, strict=True))]
    path.write_text("\n".join(rows) + "\n")
    write_table("regression_weights.csv", ["weight"], np.round(rng.uniform(0.5, 2.0, n), 2), decimals=2)


def main() -> None:
    rng = np.random.default_rng(SEED)
    makers = (regression, binary, multiclass, multilabel, signed, ranking, embeddings, distribution, counts, nll2d, ctc)
    made = {make.__name__: make(rng) for make in makers}
    # The other models for `losscli compare` come last, from a generator of their own, so adding
    # them left every file above byte-for-byte as it was.
    other_models(np.random.default_rng(SEED + 1), made)
    # The embedding losses' files come from a generator of their own too (issue 17).
    metric_learning(np.random.default_rng(SEED + 17))
    class_probabilities(made)
    # And the segmentation losses' files from another.
    segmentation(np.random.default_rng(SEED + 1717))
    # The image losses' files from another generator, after those (issue 17).
    images(np.random.default_rng(SEED + 18))
    written = sorted(p.name for p in HERE.iterdir() if p.suffix not in (".py", ".md"))
    print(f"wrote {len(written)} files to {HERE}")


if __name__ == "__main__":
    main()
