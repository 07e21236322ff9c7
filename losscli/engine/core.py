"""Run a registered loss on validated inputs with torch: value, per-element values, gradients."""

from __future__ import annotations

import contextlib
import functools
import importlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from losscli.advice.advisor import find_mistakes
from losscli.engine.results import ComputeResult, Gradient, InputInfo
from losscli.engine.validate import Input, validate
from losscli.errors import DataError, UnknownParamError
from losscli.registry import LossSpec, Param, Role

DTYPES = {"float32": (torch.float32, np.float32), "float64": (torch.float64, np.float64)}


def summarize_gradient(grad: torch.Tensor) -> Gradient:
    """A gradient and its statistics, accumulated in float64."""
    flat = grad.reshape(-1)
    empty = flat.numel() == 0
    return Gradient(
        values=grad.numpy(),
        shape=tuple(grad.shape),
        norm=float(torch.linalg.vector_norm(flat, dtype=torch.float64)),
        mean=0.0 if empty else float(flat.sum(dtype=torch.float64) / flat.numel()),
        min=0.0 if empty else float(flat.min()),
        max=0.0 if empty else float(flat.max()),
    )


def _distance_function(name: str) -> Any:
    if name == "cosine":
        return lambda a, b: 1.0 - torch.nn.functional.cosine_similarity(a, b)
    return torch.nn.PairwiseDistance()


PARAM_CONVERTERS = {
    "tensor": lambda value, dtype: torch.tensor(value, dtype=dtype),
    "distance": lambda value, dtype: _distance_function(value),
}


def _torch_param(param: Param, value: Any, dtype: torch.dtype) -> Any:
    convert = PARAM_CONVERTERS.get(param.kind)
    return convert(value, dtype) if convert and value is not None else value


def build_loss(spec: LossSpec, params: dict[str, Any], reduction: str, dtype: torch.dtype = torch.float32) -> Any:
    """The callable for a spec: a ``torch.nn`` module instance, or a loss function with its options bound."""
    module_name, _, attr = spec.impl.partition(":")
    impl = getattr(importlib.import_module(module_name), attr)
    kwargs = {p.keyword: _torch_param(p, params[p.name], dtype) for p in spec.params if p.name in params}
    if not isinstance(impl, type):
        return functools.partial(impl, reduction=reduction, **kwargs)
    try:
        return impl(reduction=reduction, **kwargs)
    except (ValueError, RuntimeError) as e:
        raise UnknownParamError(f"{spec.name}: {str(e).splitlines()[0]}") from e


def to_tensor(role: Role, array: np.ndarray, np_dtype: type) -> torch.Tensor:
    """A tensor sharing memory with the array when it already has the right dtype."""
    if role.dtype in ("index", "length") or (role.dtype == "index_or_prob" and array.dtype.kind in "iub"):
        a = array.astype(np.int64, copy=False)
    else:
        a = array.astype(np_dtype, copy=False)
    if not a.flags.writeable or not a.flags.c_contiguous:
        a = np.array(a, order="C")
    return torch.from_numpy(a)


def make_tensors(spec: LossSpec, arrays: dict[str, np.ndarray], np_dtype: type, grad: bool) -> dict[str, torch.Tensor]:
    """The loss's arguments in role order; the differentiable ones require grad when ``grad`` is set."""
    tensors = {}
    for role in spec.roles:
        tensor = to_tensor(role, arrays[role.name], np_dtype)
        if grad and role.differentiable:
            tensor.requires_grad_(True)
        tensors[role.name] = tensor
    return tensors


def check_inputs(spec: LossSpec, inputs: dict[str, Input], params: dict[str, Any], reduction: str) -> list[str]:
    """Validate the inputs (converting them in place) and return the advisor's warnings about them.

    A streamed run checks its chunks itself (``chunked.stream``), gathering the
    advisor's statistics over all of them.
    """
    validate(spec, inputs, params)
    target = spec.target_role
    labels = inputs[target.name].array if target is not None else None
    return find_mistakes(spec, inputs[spec.pred_role.name].array, labels, params, reduction)


@contextlib.contextmanager
def torch_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record the warnings torch emits inside the block (read them with ``warning_texts``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=".*batchmean.*")  # find_mistakes says it, with the fix
        yield caught


def warning_texts(caught: list[warnings.WarningMessage]) -> list[str]:
    """Each recorded warning once, on one line."""
    return list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))


def run_loss(spec: LossSpec, loss_fn: Any, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
    """Call the loss on its arguments; torch's refusals become a ``DataError``."""
    try:
        return loss_fn(*tensors.values())
    except (RuntimeError, ValueError, IndexError) as e:
        raise DataError(f"torch rejected the inputs of {spec.name}: {str(e).splitlines()[0]}") from e


def make_result(
    spec: LossSpec,
    inputs: dict[str, Input],
    params: dict[str, Any],
    reduction: str,
    dtype: str,
    *,
    value: float | None,
    values: np.ndarray | None,
    gradients: dict[str, Gradient],
    messages: list[str],
) -> ComputeResult:
    """The ``ComputeResult`` of a computation, with a warning when the value is not finite."""
    pred = inputs[spec.pred_role.name].array
    result = ComputeResult(
        loss=spec.name,
        torch_name=spec.torch_name,
        reduction=reduction,
        params=params,
        n_samples=int(pred.shape[spec.batch_dim]) if pred.ndim > spec.batch_dim else 1,
        dtype=dtype,
        value=value,
        values=values,
        gradients=gradients,
        warnings=messages,
        pred_role=spec.pred_role.name,
        inputs={
            role.name: InputInfo(inp.source, inp.columns, tuple(inp.shape))
            for role in spec.roles
            if (inp := inputs.get(role.name)) is not None
        },
    )
    if value is not None and not np.isfinite(value):
        result.warnings.append(f"the loss is {value}: check the inputs (every target ignored? zero variance?)")
    return result


def compute(
    spec: LossSpec,
    inputs: dict[str, Input],
    params: dict[str, Any],
    reduction: str,
    *,
    grad: bool = True,
    dtype: str = "float32",
) -> ComputeResult:
    """Validate the inputs, run the loss, and differentiate it with autograd."""
    mistakes = check_inputs(spec, inputs, params, reduction)
    torch_dtype, np_dtype = DTYPES[dtype]
    loss_fn = build_loss(spec, params, reduction, torch_dtype)
    tensors = make_tensors(spec, {name: inp.array for name, inp in inputs.items()}, np_dtype, grad)
    with torch_warnings() as caught:
        out = run_loss(spec, loss_fn, tensors)
        if grad:
            (out.sum() if out.ndim else out).backward()
    gradients = {name: summarize_gradient(t.grad) for name, t in tensors.items() if t.requires_grad}
    return make_result(
        spec,
        inputs,
        params,
        reduction,
        dtype,
        value=None if reduction == "none" else float(str(out.detach().numpy())),
        values=out.detach().numpy() if reduction == "none" else None,
        gradients=gradients,
        messages=mistakes + warning_texts(caught),
    )
