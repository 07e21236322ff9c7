"""The reference-test framework shared by every ``test_losses*`` case module.

``make_inputs`` draws valid random inputs for any spec, keyed by
``spec.shape_rule`` (``DRAWERS``) or by the loss name (``NAME_DRAWERS``), and
redraws until the inputs are ``MIN_KINK`` away from the loss's kinks
(``kink_distance``, extended per loss through ``NAME_KINKS``). ``Case`` names a
loss, its parameters, a data variant and the ``Reference`` that backs it.
Modules holding cases for more losses register their drawers and kinks here
and export ``CASES``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from losscli.registry import LossSpec, get_loss

try:
    from tests import references as ref
except ModuleNotFoundError:  # plain `pytest` puts tests/ itself on sys.path while tests/ is not a package
    import references as ref

RTOL = 1e-5  # engine against a reference, value and gradient
FD_RTOL, FD_ATOL = 1e-6, 1e-8  # gradients against central differences of a numpy formula
MIN_KINK = 0.1
N, D, C = 5, 3, 4  # samples, features, classes


# --- the input factory --------------------------------------------------------------


def _by_domain(role, shape, rng) -> np.ndarray:
    if role.domain == "prob":
        return rng.uniform(0.05, 0.95, shape)
    if role.domain == "sign":
        return rng.choice([-1.0, 1.0], shape)
    if role.domain == "nonneg":
        return rng.poisson(2.0, shape).astype(np.float64)
    return rng.normal(0.0, 1.5, shape)


def _draw_same(spec, params, rng, **options):
    shape = (N,) if spec.name == "margin_ranking" else (N, D)
    arrays = {r.name: _by_domain(r, shape, rng) for r in spec.roles}
    if options.get("hard"):
        arrays["target"] = rng.integers(0, 2, shape).astype(np.float64)
    if spec.name == "poisson_nll" and not params.get("log_input", True):
        arrays["input"] = rng.uniform(0.2, 4.0, shape)
    if spec.name == "kl_div":
        arrays["input"] = ref.log_softmax(rng.normal(size=shape))
        target = np.exp(ref.log_softmax(rng.normal(size=shape)))
        if options.get("zero_target"):
            target[0, 1] = target[2, 0] = 0.0
            target /= target.sum(axis=1, keepdims=True)
        arrays["target"] = np.log(target) if params.get("log_target") else target
    if spec.name == "multilabel_margin":
        arrays["target"] = _multilabel_index_rows(rng, N, D + 1)
        arrays["input"] = rng.normal(0.0, 1.5, (N, D + 1))
    return arrays


def _multilabel_index_rows(rng, n, n_classes) -> np.ndarray:
    """Rows of class indices then -1 padding; one row is full, one empty, one has entries after its -1."""
    rows = np.full((n, n_classes), -1, dtype=np.int64)
    for i, k in enumerate([1, n_classes, 0, 2, 1][:n]):
        rows[i, :k] = rng.permutation(n_classes)[:k]
    rows[3, 3] = rows[3, 0]  # read up to the first -1 only: this entry is ignored
    return rows


def _draw_class(spec, params, rng, **options):
    extra = (2,) if options.get("kdim") else ()
    shape = (N, C) + extra
    logits = rng.normal(0.0, 1.5, shape)
    x = logits if spec.name != "nll" else ref.log_softmax(logits)
    if options.get("soft"):
        return {"input": x, "target": np.exp(ref.log_softmax(rng.normal(size=shape)))}
    if options.get("onehot"):  # 0/1 rows as a CSV of integers loads them: int64
        return {"input": x, "target": np.eye(C, dtype=np.int64)[rng.integers(0, C, N)]}
    target = rng.integers(0, C, (N,) + extra)
    if "ignore_index" in options:
        target.flat[[1, 3]] = options["ignore_index"]
    return {"input": x, "target": target}


def _draw_class4d(spec, params, rng, **options):
    x = ref.log_softmax(rng.normal(size=(2, C, 2, 3)))
    target = rng.integers(0, C, (2, 2, 3))
    if "ignore_index" in options:
        target[0, 1, 2] = target[1, 0, 0] = options["ignore_index"]
    return {"input": x, "target": target}


def _draw_pair(spec, params, rng, **options):
    return {
        "input1": rng.normal(size=(N, D)),
        "input2": rng.normal(size=(N, D)),
        "target": rng.choice([-1.0, 1.0], N),
    }


def _draw_gaussian(spec, params, rng, var_shape=(N, D), var_range=(0.2, 2.0), **options):
    return {
        "input": rng.normal(0.0, 1.5, (N, D)),
        "target": rng.normal(0.0, 1.5, (N, D)),
        "var": rng.uniform(*var_range, var_shape),
    }


def _draw_ctc(spec, params, rng, layout="padded", **options):
    steps, batch, n_classes = 6, 3, 4
    blank = params.get("blank", 0)
    labels = [c for c in range(n_classes) if c != blank]
    lengths = np.array([3, 2, 1])
    rows = [rng.choice(labels, size=k) for k in lengths]
    rows[0][1] = rows[0][0]  # a repeated label needs a blank between its copies
    arrays = {"log_probs": ref.log_softmax(rng.normal(size=(steps, batch, n_classes)), axis=2)}
    if layout == "concat":
        arrays["targets"] = np.concatenate(rows)
        arrays["target_lengths"] = lengths
        return arrays
    padded = np.full((batch, lengths.max()), labels[0], dtype=np.int64)
    for i, row in enumerate(rows):
        padded[i, : len(row)] = row
    arrays["targets"] = padded
    if layout == "padded":
        arrays["target_lengths"] = lengths
        arrays["input_lengths"] = np.array([steps, 1 if options.get("infeasible") else 5, 4])
        if options.get("infeasible"):
            arrays["target_lengths"] = np.array([3, 3, 1])  # sample 2: 1 step cannot emit 3 labels
    return arrays


DRAWERS: dict[str, Callable[..., dict[str, np.ndarray]]] = {
    "same": _draw_same,
    "class": _draw_class,
    "class4d": _draw_class4d,
    "pair": _draw_pair,
    "gaussian": _draw_gaussian,
    "ctc": _draw_ctc,
}


NAME_DRAWERS: dict[str, Callable[..., dict[str, np.ndarray]]] = {}
"""Drawers for one loss by name, taking precedence over ``DRAWERS[spec.shape_rule]``."""
NAME_KINKS: dict[str, Callable[[dict[str, np.ndarray], dict[str, Any]], float]] = {}
"""``kink_distance`` for one loss by name: ``fn(arrays, params)``."""


def kink_distance(spec: LossSpec, a: dict[str, np.ndarray], p: dict[str, Any]) -> float:
    """How far the inputs are from the nearest point where the loss is not smooth (inf if nowhere)."""
    name = spec.name
    if name in NAME_KINKS:
        return NAME_KINKS[name](a, p)
    if name == "l1":
        return float(np.abs(a["input"] - a["target"]).min())
    if name in ("smooth_l1", "huber"):
        d = np.abs(a["input"] - a["target"])
        return float(min(d.min(), np.abs(d - p.get("beta", p.get("delta", 1.0))).min()))
    if name == "margin_ranking":
        return float(np.abs(-a["target"] * (a["input1"] - a["input2"]) + p.get("margin", 0.0)).min())
    if name == "hinge_embedding":
        return float(np.abs(p.get("margin", 1.0) - a["input"])[a["target"] == -1].min(initial=np.inf))
    if name == "multilabel_margin":
        gaps = [np.inf]
        for x, t in zip(a["input"], a["target"], strict=True):
            cut = np.argmax(t < 0) if (t < 0).any() else len(t)
            pos = t[:cut]
            neg = np.setdiff1d(np.arange(len(x)), pos)
            gaps += [abs(1 - x[j] + x[i]) for j in pos for i in neg]
        return float(min(gaps))
    if name == "multi_margin":
        x, y = a["input"], a["target"]
        args = p.get("margin", 1.0) - x[np.arange(len(y)), y][:, None] + x
        args[np.arange(len(y)), y] = np.inf
        return float(np.abs(args).min())
    if name == "cosine_embedding":
        cos = 1 - ref.cosine_distance_np(a["input1"], a["input2"])
        return float(np.abs(cos - p.get("margin", 0.0))[a["target"] == -1].min(initial=np.inf))
    if name in ("triplet_margin", "triplet_margin_with_distance"):
        if p.get("distance") == "cosine":
            dist = ref.cosine_distance_np
        else:
            dist = lambda u, v: ref.pairwise_distance_np(u, v, p.get("p", 2.0), p.get("eps", 1e-6))  # noqa: E731
        d_p, d_n = dist(a["anchor"], a["positive"]), dist(a["anchor"], a["negative"])
        gaps = [np.abs(p.get("margin", 1.0) + d_p - d_n).min()]
        if p.get("swap"):
            d_s = dist(a["positive"], a["negative"])
            gaps += [np.abs(d_n - d_s).min(), np.abs(p.get("margin", 1.0) + d_p - np.minimum(d_n, d_s)).min()]
        if p.get("p", 2.0) == 1:
            gaps += [np.abs(a["anchor"] - b + p.get("eps", 1e-6)).min() for b in (a["positive"], a["negative"])]
        return float(min(gaps))
    return np.inf


def make_inputs(spec: LossSpec, params: dict[str, Any], seed: int, **options) -> dict[str, np.ndarray]:
    """Valid random inputs for any spec, redrawn until they are ``MIN_KINK`` away from every kink."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        drawer = NAME_DRAWERS.get(spec.name) or DRAWERS[spec.shape_rule]
        arrays = drawer(spec, params, rng, **options)
        if kink_distance(spec, arrays, params) > MIN_KINK:
            return arrays
    raise AssertionError(f"no inputs for {spec.name} {params} away from its kinks")


# --- references and cases -----------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A reference formula and how its gradient is obtained.

    ``torch_ops``: the formula takes tensors (PyTorch's test references); otherwise
    numpy arrays. ``autograd``: differentiate a torch formula with autograd; otherwise
    take central finite differences of it in float64, unless ``grad_fn`` gives the
    gradients in closed form.
    """

    source: str
    fn: Callable
    torch_ops: bool = False
    autograd: bool = True
    grad_fn: Callable | None = None

    @property
    def exact_gradient(self) -> bool:
        return self.grad_fn is not None or (self.torch_ops and self.autograd)

    def value(self, arrays, params, reduction) -> np.ndarray:
        if self.torch_ops:
            with torch.no_grad():
                return self.fn({k: torch.tensor(v) for k, v in arrays.items()}, params, reduction).numpy()
        return np.asarray(self.fn(arrays, params, reduction))

    def evaluate(self, spec: LossSpec, arrays, params, reduction):
        """The reference's output (value or per-element array) and its gradients by role."""
        roles = [r.name for r in spec.roles if r.differentiable]
        if self.grad_fn is not None:
            return self.value(arrays, params, reduction), self.grad_fn(arrays, params, reduction)
        if self.torch_ops and self.autograd:
            tensors = {k: torch.tensor(v, requires_grad=k in roles) for k, v in arrays.items()}
            out = self.fn(tensors, params, reduction)
            wrt = [tensors[k] for k in roles]
            grads = torch.autograd.grad(out.sum(), wrt, allow_unused=True)
            zero = [torch.zeros_like(t) for t in wrt]
            return out.detach().numpy(), {
                k: (g if g is not None else z).numpy() for k, g, z in zip(roles, grads, zero, strict=True)
            }

        def total(arrs) -> float:
            return float(self.value(arrs, params, reduction).sum())

        grads = {k: ref.finite_difference_gradient(total, arrays, k) for k in roles}
        return self.value(arrays, params, reduction), grads


def torch_ref(key: str, fn: Callable, autograd: bool = True) -> Reference:
    return Reference(f"torch common_nn.loss_reference_fns[{key!r}]", fn, torch_ops=True, autograd=autograd)


def numpy_ref(fn: Callable) -> Reference:
    return Reference(f"numpy {fn.__name__}", fn)


@dataclass(frozen=True)
class Case:
    loss: str
    variant: str
    reference: Reference
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    autograd_differs: str | None = None
    """Why autograd's gradient is not the finite-difference derivative (then gradcheck is skipped)."""
    engine_marks: tuple = ()  # marks for the tests that run the engine on this case (known package bugs)

    @property
    def id(self) -> str:
        return f"{self.loss}-{self.variant}"

    @property
    def spec(self) -> LossSpec:
        return get_loss(self.loss)

    def inputs(self) -> dict[str, np.ndarray]:
        return make_inputs(self.spec, self.params, zlib.crc32(self.id.encode()), **self.data)
