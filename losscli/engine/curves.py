"""A loss as a function of one prediction, for a fixed target: the article's figures for any loss.

Each spec's ``curve`` names how one scalar ``x`` becomes the loss's inputs
(``BUILDERS``): the prediction itself, the probability of the true class, a
score difference, a cosine, a distance, a box position. Every point is its
own sample of one batch, so one call of the loss with ``reduction='none'``
gives the whole curve, and autograd through the construction gives its
derivative d loss / d x.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from losscli.catalog.image import ms_ssim_smallest_side
from losscli.engine.core import build_loss
from losscli.engine.results import Curve
from losscli.errors import UsageError
from losscli.registry import LossSpec

DTYPE = torch.float64
EDGE = 1e-3  # keep probabilities and cosines this far inside their open intervals


@dataclass(frozen=True)
class CurveKind:
    """How to draw a family of losses: the x-axis, its default range and target, and the input builder."""

    x_axis: str
    build: Callable[..., dict[str, torch.Tensor]]
    default_target: float | None
    default_range: Callable[[LossSpec, float | None], tuple[float, float]]
    domain: tuple[float, float] = (-math.inf, math.inf)
    """The open interval x may take (a probability, a cosine, a distance)."""
    batched: bool = True
    """False when the samples of a batch interact (contrastive losses): each point is then its own batch."""


def _class_probs(x: torch.Tensor, y: int, n_classes: int) -> torch.Tensor:
    """Rows with probability x on class y and (1 - x) shared equally by the other classes."""
    rest = ((1 - x) / (n_classes - 1)).unsqueeze(1).expand(len(x), n_classes)
    mask = torch.zeros(n_classes, dtype=torch.bool)
    mask[y] = True
    return torch.where(mask, x.unsqueeze(1), rest)


def _fill(spec: LossSpec, tensors: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
    """Other inputs at neutral values: variances 1."""
    for role in spec.roles:
        if role.name not in tensors and role.default is None:
            tensors[role.name] = torch.ones(n, 1, dtype=DTYPE)
    return tensors


def _ranking(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    """A list of two items scored (x, 0), the first with relevance y and the second 1 - y."""
    if not 0 <= y <= 1:
        raise UsageError(f"--target {y:g}: give the relevance of the first item, in [0, 1]")
    scores = torch.stack([x, torch.zeros_like(x)], dim=1)
    relevance = torch.tensor([[y, 1 - y]], dtype=DTYPE).expand(len(x), 2)
    return {spec.pred_role.name: scores, spec.target_role.name: relevance}


def _contrastive(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """One batch of four unit embeddings, labels (0, 0, 1, 1): the two of class 0 at cosine x."""
    embeddings = torch.stack(
        [
            torch.tensor([1.0, 0.0], dtype=DTYPE),
            torch.stack([x, torch.sqrt(1 - x**2)]),
            torch.tensor([-1.0, 0.0], dtype=DTYPE),
            torch.tensor([-0.8, -0.6], dtype=DTYPE),
        ]
    )
    labels = torch.tensor([0, 0, 1, 1])
    return {spec.pred_role.name: embeddings, spec.target_role.name: labels}


CENTRES = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=DTYPE)
"""Two class centres (or proxies), one per row: the axes e0 and e1 of 3-D space."""


def _on_centre(spec: LossSpec, x: torch.Tensor, centres: torch.Tensor) -> dict[str, torch.Tensor]:
    """Embeddings of class 0 at cosine x to its centre e0 and orthogonal to e1 (one per point of x)."""
    x = x.reshape(-1)
    embeddings = torch.stack([x, torch.zeros_like(x), torch.sqrt(1 - x**2)], dim=1)
    (centres_role,) = spec.input_roles
    return {
        spec.pred_role.name: embeddings,
        spec.target_role.name: torch.zeros(len(x), dtype=torch.int64),
        centres_role.name: centres,
    }


def _class_centres(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """Each point a sample of class 0 at cosine x to its centre; the centres as the columns of W (D, C)."""
    return _on_centre(spec, x, CENTRES.T)


def _proxies(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """A batch of one sample of class 0 at cosine x to its proxy; the proxies as rows (C, D)."""
    return _on_centre(spec, x, CENTRES)


def _views(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """Four samples of one standardised feature in each view, the second view at correlation x with the first."""
    first = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=DTYPE)
    orthogonal = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=DTYPE)
    second = x * first + torch.sqrt(1 - x**2) * orthogonal
    names = [r.name for r in spec.roles]
    return {names[0]: first.unsqueeze(1), names[1]: second.unsqueeze(1)}


def _mask_pair(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """A mask of two pixels, foreground then background, each predicted right with probability x."""
    x = x.reshape(-1)
    pred = torch.stack([x, 1 - x], dim=1)
    target = torch.tensor([[1.0, 0.0]], dtype=DTYPE).expand(len(x), 2)
    return {spec.pred_role.name: pred, spec.target_role.name: target}


def _class_batch(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    """One pixel of one image: the probability x on the true class (a loss that pools its batch)."""
    return _class(spec, x.reshape(-1), y, n_classes)


BAR = torch.zeros(5, 5, dtype=DTYPE)
BAR[:, 2] = 1.0
"""A 5 × 5 image whose foreground is its middle column: a one-pixel-wide vessel."""


def _image(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """Background and foreground channels of BAR, every pixel predicted right with probability x."""
    x = x.reshape(-1, 1, 1)
    foreground = torch.where(BAR.bool(), x, 1 - x)
    pred = torch.stack([1 - foreground, foreground], dim=1)
    target = torch.stack([1 - BAR, BAR]).expand(len(x), 2, 5, 5)
    return {spec.pred_role.name: pred, spec.target_role.name: target}


def _image_side(spec: LossSpec) -> int:
    """Pixels a side of the curves' images: enough for the default window at every default scale."""
    if spec.name == "ms_ssim":
        return ms_ssim_smallest_side(spec.param("window_size").default, spec.param("weights").default)
    return 32


def _ramp(side: int) -> torch.Tensor:
    """A (1, 1, side, side) image rising from 0.4 (top left) to 0.6 (bottom right): mean 0.5, gentle contrast."""
    t = torch.linspace(0.0, 1.0, side, dtype=DTYPE)
    return (0.4 + 0.1 * (t.view(-1, 1) + t.view(1, -1))).view(1, 1, side, side)


def _image_brightness(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """A uniform image of value x against the ramp from 0.4 to 0.6: a brightness mismatch, never a perfect fit."""
    target = _ramp(_image_side(spec))
    return {spec.pred_role.name: x.reshape(1, 1, 1, 1).expand_as(target), spec.target_role.name: target}


def _image_step(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """16×16 images, one per point, 0 on the left half and x on the right: a vertical edge of height x."""
    right = torch.cat([torch.zeros(8, dtype=DTYPE), torch.ones(8, dtype=DTYPE)])
    return {spec.pred_role.name: (x.reshape(-1, 1, 1, 1) * right).expand(-1, 1, 16, 16)}


def _elementwise(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    tensors = {spec.pred_role.name: x.unsqueeze(1)}
    if spec.target_role is not None:
        tensors[spec.target_role.name] = torch.full((len(x), 1), y, dtype=DTYPE)
    return _fill(spec, tensors, len(x))


def _class_index(y: float, n_classes: int) -> int:
    if not float(y).is_integer() or not 0 <= y < n_classes:
        raise UsageError(f"--target {y:g} is not a class index in [0, {n_classes}); give --classes C or another target")
    return int(y)


def _class(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    k = _class_index(y, n_classes)
    probs = _class_probs(x, k, n_classes)
    pred = probs if spec.pred_role.domain == "prob" else probs.log()
    target_role = spec.target_role
    if target_role.dtype in ("index", "index_or_prob"):
        target = torch.full((len(x),), k, dtype=torch.int64)
    else:
        target = torch.nn.functional.one_hot(torch.full((len(x),), k), n_classes).to(DTYPE)
    return {spec.pred_role.name: pred, target_role.name: target}


def _class4d(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    tensors = _class(spec, x, y, n_classes)
    return {
        spec.pred_role.name: tensors[spec.pred_role.name][:, :, None, None],
        spec.target_role.name: tensors[spec.target_role.name][:, None, None],
    }


def _multilabel_margin(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    k = _class_index(y, n_classes)
    scores = torch.zeros(len(x), n_classes, dtype=DTYPE)
    mask = torch.zeros(n_classes, dtype=torch.bool)
    mask[k] = True
    target = torch.full((len(x), n_classes), -1, dtype=torch.int64)
    target[:, 0] = k
    return {"input": torch.where(mask, x.unsqueeze(1), scores), "target": target}


def _sign(y: float) -> float:
    if y not in (1, -1):
        raise UsageError(f"--target {y:g}: this loss's labels are 1 or -1")
    return y


def _pair_difference(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    first, second = (r.name for r in spec.roles if r.differentiable)
    tensors = {first: x, second: torch.zeros_like(x)}
    tensors[spec.target_role.name] = torch.full_like(x, _sign(y))
    return tensors


def _cosine(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    """Two unit vectors at cosine x: (x, sqrt(1 - x^2)) against (1, 0)."""
    moving = torch.stack([x, torch.sqrt(1 - x**2)], dim=1)
    fixed = torch.tensor([[1.0, 0.0]], dtype=DTYPE).expand(len(x), 2)
    names = [r.name for r in spec.roles]
    tensors = {names[0]: moving, names[1]: fixed}
    if len(names) > 2:
        tensors[names[2]] = torch.full_like(x, _sign(y))
    return tensors


def _triplet(spec: LossSpec, x: torch.Tensor, y: float | None, n_classes: int) -> dict[str, torch.Tensor]:
    """Anchor (1, 0), positive (1, 1) at distance 1, negative (1 + x, 0) at distance x."""
    n = len(x)
    anchor = torch.tensor([[1.0, 0.0]], dtype=DTYPE).expand(n, 2)
    positive = torch.tensor([[1.0, 1.0]], dtype=DTYPE).expand(n, 2)
    negative = torch.stack([1 + x, torch.zeros_like(x)], dim=1)
    return {"anchor": anchor, "positive": positive, "negative": negative}


def _distribution(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    if not 0 <= y <= 1:
        raise UsageError(f"--target {y:g}: give the target probability of class 0, in [0, 1]")
    probs = torch.stack([x, 1 - x], dim=1)
    target = torch.tensor([[y, 1 - y]], dtype=DTYPE).expand(len(x), 2)
    pred = probs if spec.pred_role.domain == "prob" else probs.log()  # log-probabilities or log-predictions
    return {spec.pred_role.name: pred, spec.target_role.name: target}


def _ctc(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    k = _class_index(y, n_classes)
    if k == 0:
        raise UsageError("--target 0 is ctc's blank; give a label from 1")
    n = len(x)
    return {
        "log_probs": _class_probs(x, k, n_classes).log().unsqueeze(0),
        "targets": torch.full((n, 1), k, dtype=torch.int64),
        "input_lengths": torch.ones(n, dtype=torch.int64),
        "target_lengths": torch.ones(n, dtype=torch.int64),
    }


def _boxes(spec: LossSpec, x: torch.Tensor, y: float, n_classes: int) -> dict[str, torch.Tensor]:
    """A unit box with its left edge at x against the unit box with its left edge at y."""
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    pred = torch.stack([x, zeros, x + 1, ones], dim=1)
    target = torch.tensor([[y, 0.0, y + 1, 1.0]], dtype=DTYPE).expand(len(x), 4)
    return {spec.pred_role.name: pred, spec.target_role.name: target}


def _around(width: float) -> Callable[[LossSpec, float | None], tuple[float, float]]:
    def default(spec: LossSpec, y: float | None) -> tuple[float, float]:
        if spec.pred_role.domain == "prob":
            return EDGE, 1 - EDGE
        center = 0.0 if y is None or spec.pred_role.domain == "logits" else y
        return center - width, center + width

    return default


def _fixed(lo: float, hi: float) -> Callable[[LossSpec, float | None], tuple[float, float]]:
    return lambda spec, y: (lo, hi)


PROBABILITY = (0.0, 1.0)
COSINE = (-1.0, 1.0)
NON_NEGATIVE = (0.0, math.inf)

KINDS: dict[str, CurveKind] = {
    "elementwise": CurveKind("prediction", _elementwise, 0.0, _around(6.0)),
    "relative": CurveKind("prediction", _elementwise, 1.0, _around(6.0)),
    "positive": CurveKind(
        "prediction (> 0)", _elementwise, 1.0, lambda spec, y: (0.05, (y or 1) + 4), domain=NON_NEGATIVE
    ),
    "class": CurveKind(
        "predicted probability of the true class", _class, 0.0, _fixed(EDGE, 1 - EDGE), domain=PROBABILITY
    ),
    "class4d": CurveKind(
        "predicted probability of the true class", _class4d, 0.0, _fixed(EDGE, 1 - EDGE), domain=PROBABILITY
    ),
    "multilabel_margin": CurveKind("score of the true class (others 0)", _multilabel_margin, 0.0, _fixed(-3, 3)),
    "distance": CurveKind("distance between the pair", _elementwise, 1.0, _fixed(0, 3), domain=NON_NEGATIVE),
    "pair_difference": CurveKind("score difference x1 - x2", _pair_difference, 1.0, _fixed(-6, 6)),
    "cosine": CurveKind("cosine between the two inputs", _cosine, 1.0, _fixed(-1 + EDGE, 1 - EDGE), domain=COSINE),
    "triplet": CurveKind(
        "distance to the negative (positive at distance 1)", _triplet, None, _fixed(EDGE, 3), domain=NON_NEGATIVE
    ),
    "distribution": CurveKind(
        "predicted probability of class 0 (of 2)", _distribution, 0.5, _fixed(EDGE, 1 - EDGE), domain=PROBABILITY
    ),
    "ranking": CurveKind("score of the first item minus the second's", _ranking, 1.0, _fixed(-6, 6)),
    "ctc": CurveKind(
        "probability of the target label (one step)", _ctc, 1.0, _fixed(EDGE, 1 - EDGE), domain=PROBABILITY
    ),
    "boxes": CurveKind(
        "left edge of the predicted unit box", _boxes, 0.0, lambda spec, y: ((y or 0) - 2, (y or 0) + 2)
    ),
    "contrastive": CurveKind(
        "cosine between two embeddings of one class (labels 0, 0, 1, 1)",
        _contrastive,
        None,
        _fixed(-1 + EDGE, 1 - EDGE),
        domain=COSINE,
        batched=False,
    ),
    "class_centres": CurveKind(
        "cosine between an embedding and its class centre (the other centre orthogonal to both)",
        _class_centres,
        None,
        _fixed(-1 + EDGE, 1 - EDGE),
        domain=COSINE,
    ),
    "proxies": CurveKind(
        "cosine between the batch's embedding and its class's proxy (the other proxy orthogonal to both)",
        _proxies,
        None,
        _fixed(-1 + EDGE, 1 - EDGE),
        domain=COSINE,
        batched=False,
    ),
    "image_brightness": CurveKind(
        "value of a uniform predicted image (target: a ramp from 0.4 to 0.6)",
        _image_brightness,
        None,
        _fixed(0.0, 1.0),
        batched=False,
    ),
    "image_step": CurveKind(
        "height of a vertical edge across a 16×16 image (0 left, x right)", _image_step, None, _fixed(-1.0, 1.0)
    ),
    "views": CurveKind(
        "correlation of the two views' feature (one feature, four samples)",
        _views,
        None,
        _fixed(-1 + EDGE, 1 - EDGE),
        domain=COSINE,
        batched=False,
    ),
    "class_batch": CurveKind(
        "predicted probability of the true class (a batch of one pixel)",
        _class_batch,
        0.0,
        _fixed(EDGE, 1 - EDGE),
        domain=PROBABILITY,
        batched=False,
    ),
    "mask_pair": CurveKind(
        "predicted probability of both pixels' true labels (mask 1, 0)",
        _mask_pair,
        None,
        _fixed(EDGE, 1 - EDGE),
        domain=PROBABILITY,
        batched=False,
    ),
    "image": CurveKind(
        "probability of each pixel's true class (a 5 × 5 bar)",
        _image,
        None,
        _fixed(EDGE, 1 - EDGE),
        domain=PROBABILITY,
        batched=False,
    ),
}


def default_target(spec: LossSpec) -> float | None:
    """The target drawn when none is given: 1 for probability targets and ±1 labels, else the kind's."""
    kind = KINDS[spec.curve]
    target = spec.target_role
    if kind.build is _elementwise and target is not None and target.domain in ("prob", "sign", "binary_or_sign"):
        return 1.0
    return kind.default_target


def draw(
    spec: LossSpec,
    target: float | None,
    *,
    span: tuple[float, float] | None = None,
    points: int = 200,
    params: dict[str, Any] | None = None,
    n_classes: int = 3,
) -> Curve:
    """The loss and d loss / d x at ``points`` evenly spaced x, for one target."""
    kind = KINDS[spec.curve]
    if target is not None and kind.default_target is None:
        raise UsageError(f"{spec.name}'s curve has no target ({kind.x_axis}); drop --target")
    y = default_target(spec) if target is None else target
    if kind.build is _elementwise and spec.target_role is not None:
        _check_elementwise_target(spec, y)
    lo, hi = span if span is not None else kind.default_range(spec, y)
    _check_span(spec, kind, lo, hi, span is not None)
    x = torch.linspace(lo, hi, points, dtype=DTYPE, requires_grad=True)
    loss = build_loss(spec, params or {}, spec.default_reduction if not kind.batched else "none", DTYPE)

    def evaluate(xs: torch.Tensor) -> torch.Tensor:
        tensors = kind.build(spec, xs, y, n_classes)
        try:
            out = loss(*(tensors[r.name] for r in spec.roles if r.name in tensors))
        except (ValueError, RuntimeError) as e:
            raise UsageError(f"{spec.name} cannot be drawn with these parameters: {str(e).splitlines()[0]}") from e
        return out.reshape(len(xs), -1).sum(dim=1) if kind.batched else out.reshape(1)

    values = evaluate(x) if kind.batched else torch.cat([evaluate(xi) for xi in x])
    (grads,) = torch.autograd.grad(values.sum(), x, allow_unused=True)
    if grads is None:
        grads = torch.zeros_like(x)
    return Curve(
        loss=spec.name,
        target=y,
        x_axis=_x_axis(spec, kind),
        x=x.detach().numpy(),
        values=values.detach().numpy(),
        grads=grads.numpy(),
    )


def _axis_domain(spec: LossSpec, kind: CurveKind) -> tuple[float, float]:
    if kind.build is _elementwise and spec.pred_role.domain == "prob":
        return PROBABILITY
    return kind.domain


def _check_span(spec: LossSpec, kind: CurveKind, lo: float, hi: float, given: bool) -> None:
    low, high = _axis_domain(spec, kind)
    if given and not (low <= lo and hi <= high):
        raise UsageError(
            f"--range {lo:g}:{hi:g} leaves the {_x_axis(spec, kind)} axis of {spec.name}, which lies in "
            f"({low:g}, {high:g})"
        )


def _x_axis(spec: LossSpec, kind: CurveKind) -> str:
    """Say which prediction the x-axis is: a probability, a logit, or the value itself."""
    if kind.build is _elementwise:
        return {"prob": "predicted probability", "logits": "predicted logit (before the sigmoid)"}.get(
            spec.pred_role.domain, kind.x_axis
        )
    return kind.x_axis


def _check_elementwise_target(spec: LossSpec, y: float) -> None:
    domain = spec.target_role.domain
    if domain == "prob" and not 0 <= y <= 1:
        raise UsageError(f"--target {y:g}: {spec.name}'s targets lie in [0, 1]")
    if domain == "sign":
        _sign(y)
    if domain == "nonneg" and y < 0:
        raise UsageError(f"--target {y:g}: {spec.name}'s targets are >= 0")
