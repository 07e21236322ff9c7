"""losscli: compute, compare and recommend loss functions for predictions and labels.

The Python API (the command line is a shell over it)::

    import losscli

    result = losscli.compute("mse", [1, 2, 3, 4], [0.5, 3, 2, 4.5])
    result.value  # 0.625
    result.grad  # array([ 0.25, -0.5 ,  0.5 , -0.25], dtype=float32)

``compute``, ``compare``, ``report``, ``recommend``, ``curve``, ``info`` and ``list_losses``
are documented in ``losscli.api``; errors are ``LossCliError`` subclasses.
Importing this package is cheap: the API (and torch, when a loss is
computed) loads on first use.
"""

from __future__ import annotations

from typing import Any

from losscli.errors import DataError, LossCliError, LossCliWarning, UnknownLossError, UnknownParamError, UsageError

__version__ = "0.1.0"

_API = ("compute", "compare", "report", "recommend", "curve", "info", "list_losses")

__all__ = [
    *_API,
    "DataError",
    "LossCliError",
    "LossCliWarning",
    "UnknownLossError",
    "UnknownParamError",
    "UsageError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """The API's functions, imported on first use (PEP 562), so that ``import losscli`` stays cheap."""
    if name in _API:
        from losscli import api

        return getattr(api, name)
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
