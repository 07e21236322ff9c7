"""A loss as a function of one prediction, for a fixed target: the article's figures for any loss.

Each spec's ``curve`` names how one scalar ``x`` becomes the loss's inputs
(``BUILDERS``): the prediction itself, the probability of the true class, a
score difference, a cosine, a distance, a box position. Every point is its
own sample of one batch, so one call of the loss with ``reduction='none'``
gives the whole curve, and autograd through the construction gives its
derivative d loss / d x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from losscli.engine import build_loss
from losscli.errors import UsageError
from losscli.registry import LossSpec
from losscli.results import Curve

DTYPE = torch.float64
EDGE = 1e-3  # keep probabilities and cosines this far inside their open intervals


@dataclass(frozen=True)
class CurveKind:
    """How to draw a family of losses: the x-axis, its default range and target, and the input builder."""

    x_axis: str
    build: Callable[..., dict[str, torch.Tensor]]
    default_target: float | None
    default_range: Callable[[LossSpec, float | None], tuple[float, float]]


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
    pred = probs.log() if spec.pred_role.domain == "log_probs" else probs
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


KINDS: dict[str, CurveKind] = {
    "elementwise": CurveKind("prediction", _elementwise, 0.0, _around(6.0)),
    "class": CurveKind("predicted probability of the true class", _class, 0.0, _fixed(EDGE, 1 - EDGE)),
    "class4d": CurveKind("predicted probability of the true class", _class4d, 0.0, _fixed(EDGE, 1 - EDGE)),
    "multilabel_margin": CurveKind("score of the true class (others 0)", _multilabel_margin, 0.0, _fixed(-3, 3)),
    "distance": CurveKind("distance between the pair", _elementwise, 1.0, _fixed(0, 3)),
    "pair_difference": CurveKind("score difference x1 - x2", _pair_difference, 1.0, _fixed(-6, 6)),
    "cosine": CurveKind("cosine between the two inputs", _cosine, 1.0, _fixed(-1 + EDGE, 1 - EDGE)),
    "triplet": CurveKind("distance to the negative (positive at distance 1)", _triplet, None, _fixed(EDGE, 3)),
    "distribution": CurveKind("predicted probability of class 0 (of 2)", _distribution, 0.5, _fixed(EDGE, 1 - EDGE)),
    "ctc": CurveKind("probability of the target label (one step)", _ctc, 1.0, _fixed(EDGE, 1 - EDGE)),
    "boxes": CurveKind(
        "left edge of the predicted unit box", _boxes, 0.0, lambda spec, y: ((y or 0) - 2, (y or 0) + 2)
    ),
}


def default_target(spec: LossSpec) -> float | None:
    """The target drawn when none is given: 1 for probability targets and ±1 labels, else the kind's."""
    kind = KINDS[spec.curve]
    target = spec.target_role
    if kind.build is _elementwise and target is not None and target.domain in ("prob", "sign"):
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
    y = default_target(spec) if target is None else target
    if kind.build is _elementwise and spec.target_role is not None:
        _check_elementwise_target(spec, y)
    lo, hi = span if span is not None else kind.default_range(spec, y)
    x = torch.linspace(lo, hi, points, dtype=DTYPE, requires_grad=True)
    tensors = kind.build(spec, x, y, n_classes)
    loss = build_loss(spec, params or {}, "none", DTYPE)
    out = loss(*(tensors[r.name] for r in spec.roles if r.name in tensors))
    values = out.reshape(points, -1).sum(dim=1) if out.ndim else out.expand(points)
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
