"""Plain result records the engine returns and any renderer can print (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Gradient:
    """d(value)/d(argument) with its summary statistics."""

    values: np.ndarray
    norm: float
    mean: float
    min: float
    max: float


@dataclass
class ComputeResult:
    """What ``compute`` found."""

    loss: str
    torch_name: str | None
    reduction: str
    params: dict[str, Any]
    n_samples: int
    dtype: str
    value: float | None
    values: np.ndarray | None
    gradients: dict[str, Gradient] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
