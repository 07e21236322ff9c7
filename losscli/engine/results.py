"""Plain result records the engine returns and any renderer can print (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Gradient:
    """d(value)/d(argument) with its summary statistics.

    ``values`` holds the whole gradient, or only its first rows when a chunked
    computation kept no more than a table shows; ``shape`` is always the whole
    gradient's, and the statistics are always over all of it.
    """

    values: np.ndarray
    shape: tuple[int, ...]
    norm: float
    mean: float
    min: float
    max: float


@dataclass
class InputInfo:
    """Where one argument of the loss was read: the file as given, its columns (None: no names) and shape."""

    path: str
    columns: list[str] | None
    shape: tuple[int, ...]


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
    inputs: dict[str, InputInfo] = field(default_factory=dict)
    """Each argument of the loss read from a file, by its torch name."""


@dataclass
class Comparison:
    """The value of every loss for every model, and what follows from them."""

    labels: str
    losses: list[str]
    models: list[str]
    values: dict[str, dict[str, float | None]]
    """model → loss → value (None when not finite)."""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    best: dict[str, str | None] = field(default_factory=dict)
    baseline: str | None = None
    change: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """model → loss → percent change against the baseline."""
    disagreements: dict[str, list[str]] = field(default_factory=dict)
    """model → the losses under which it is best, when the losses do not agree."""
    warnings: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    """model → the name a table shows: ``--name``'s, or the part of its path that tells it from the others."""
    loss_names: dict[str, str] = field(default_factory=dict)
    """column → the loss's canonical name (a column is ``LOSS``, or ``LOSS:KEY=VALUE`` for one of its settings)."""
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    """model → column → why there is no value (its file, or its loss failed)."""
    reasons: dict[str, str] = field(default_factory=dict)
    """loss → why it is compared, in a sentence (the default losses; empty for losses named with -l)."""


@dataclass
class Curve:
    """One loss for one target: x, the loss and its derivative at each point."""

    loss: str
    target: float
    x_axis: str
    x: np.ndarray
    values: np.ndarray
    grads: np.ndarray
