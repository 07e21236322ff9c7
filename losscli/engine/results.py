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
    pred_role: str | None = None
    """The torch name of the argument the predictions fill (``input``, ``log_probs``, …)."""
    ci: tuple[float, float] | None = None
    """The value's confidence interval (``--ci``), at ``statistics.level``."""
    statistics: Any = None
    """How ``ci`` was computed (``significance.Statistics``); None without ``--ci``."""
    gates: list[Any] = field(default_factory=list)
    """Every check of ``--fail-above`` (``significance.Gate``)."""
    slices: list[Any] | None = None
    """The value per slice of ``--by`` (``rows.SliceRow``: ``values`` loss → value), in order."""
    slices_left_out: int = 0
    """Slices smaller than ``--min-slice-size``, not in ``slices``."""
    slicing: Any = None
    """How the rows were sliced (``rows.Slicing``)."""
    worst: list[Any] | None = None
    """The rows of largest loss (``--worst``, ``rows.WorstRow``), largest first."""
    sample_weight: str | None = None
    """Where the rows' weights came from (``--sample-weight``): a column or a file."""
    engine: dict[str, Any] | None = None
    """A sharded run's engine: ``{"engine", "where", "partitions"}``."""
    grad_files: list[str] | None = None
    """``--grad-out DIR/``: the gradient's files, a partition each, in order."""

    @property
    def passed(self) -> bool | None:
        """Whether every gate passed (None without gates)."""
        return all(g.passed for g in self.gates) if self.gates else None

    @property
    def grad(self) -> np.ndarray | None:
        """d value / d predictions, shaped like them (None with ``grad=False``)."""
        gradient = self.gradients.get(self.pred_role or "")
        return None if gradient is None else gradient.values

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``compute -f json`` document (NaN and infinities as None)."""
        from losscli.render import compute_dict

        return compute_dict(self)

    def __repr__(self) -> str:
        shown = f"value={self.value!r}" if self.value is not None else f"values shape {self.values.shape}"
        return f"<ComputeResult {self.loss} ({self.reduction}, {self.dtype}, {self.n_samples} samples): {shown}>"

    def _repr_html_(self) -> str:
        from losscli.render import html_table

        rows = [("loss", self.loss), ("torch class", self.torch_name or "—"), ("reduction", self.reduction)]
        rows += [("parameters", ", ".join(f"{k}={v}" for k, v in self.params.items()) or "(defaults)")]
        rows += [(name, f"{info.path}, shape {info.shape}") for name, info in self.inputs.items()]
        rows += [("samples", self.n_samples), ("dtype", self.dtype)]
        rows += [("value", self.value)] if self.value is not None else []
        rows += [
            (f"d loss / d {name}", f"norm {g.norm:.6g}, mean {g.mean:.6g}, min {g.min:.6g}, max {g.max:.6g}")
            for name, g in self.gradients.items()
        ]
        rows += [("warning", w) for w in self.warnings]
        return html_table(rows)


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
    unreadable: list[str] = field(default_factory=list)
    """The models whose files could not be used (their every column has the file's error)."""
    sort: str | None = None
    """The column the rows are ordered by, best first (None: as given)."""
    ci: dict[str, dict[str, tuple[float, float] | None]] = field(default_factory=dict)
    """model → loss → the value's confidence interval (``--ci``)."""
    differences: dict[str, dict[str, Any]] = field(default_factory=dict)
    """model → loss → its paired difference against the loss's baseline (``Difference``; None for the baseline)."""
    statistics: Any = None
    """How ``ci`` and ``differences`` were computed (``significance.Statistics``); None without ``--ci``."""
    alternative: str | None = None
    """The differences' p-values: ``less`` (the model below a given ``--baseline``) or ``two-sided`` (against
    the best model, picked from the data)."""
    gates: list[Any] = field(default_factory=list)
    """Every check of ``--fail-above`` and ``--fail-if-worse`` (``significance.Gate``)."""
    slices: list[Any] | None = None
    """The values per slice of ``--by`` (``rows.SliceRow``: ``values`` model → loss → value), in order."""
    slices_left_out: int = 0
    slicing: Any = None
    worst: dict[str, dict[str, list[Any]]] | None = None
    """model → loss → its rows of largest loss (``--worst``, ``rows.WorstRow``), largest first."""
    sample_weight: str | None = None
    samples: dict[str, dict[str, dict[str, Any]]] | None = None
    """loss → model → a sample of its rows (``index``, ``loss``, ``pred``, ``label`` arrays), for a report."""
    report: str | None = None
    """The HTML report written (``losscli report``)."""
    engine: dict[str, Any] | None = None
    """A sharded run's engine: ``{"engine", "where", "partitions"}``."""

    @property
    def passed(self) -> bool | None:
        """Whether every gate passed (None without gates)."""
        return all(g.passed for g in self.gates) if self.gates else None

    def reference(self, loss: str) -> str | None:
        """The model a loss's differences are taken against: ``baseline``, else the loss's best."""
        return self.baseline if self.baseline is not None else self.best.get(loss)

    def ordered_models(self) -> list[str]:
        """The models in the order the outputs list them: by ``sort``'s column (failures last), else as given."""
        if self.sort is None:
            return list(self.models)
        return sorted(self.models, key=lambda m: (self.values[m][self.sort] is None, self.values[m][self.sort] or 0))

    def to_frame(self) -> Any:
        """A pandas DataFrame: a row per model (indexed by its name), a column per loss; NaN where it failed."""
        import pandas as pd

        models = self.ordered_models()
        frame = pd.DataFrame(
            [[self.values[m][loss] for loss in self.losses] for m in models],
            index=pd.Index([self.names.get(m, m) for m in models], name="model"),
            columns=list(self.losses),
            dtype=float,
        )
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``compare -f json`` document."""
        from losscli.render import comparison_dict

        return comparison_dict(self)

    def __repr__(self) -> str:
        return f"<Comparison of {len(self.models)} models under {', '.join(self.losses)}: best {self.best}>"

    def _repr_html_(self) -> str:
        return self.to_frame().to_html()

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


@dataclass
class CurveSet:
    """The curves ``curve`` drew: one per loss and target."""

    curves: list[Curve]

    def to_frame(self) -> Any:
        """A long pandas DataFrame: columns loss, target, x, value, dloss_dx (the CLI's CSV)."""
        import pandas as pd

        return pd.concat(
            [
                pd.DataFrame({"loss": c.loss, "target": c.target, "x": c.x, "value": c.values, "dloss_dx": c.grads})
                for c in self.curves
            ],
            ignore_index=True,
        )

    def plot(self, ax: Any = None, *, grad: bool = False) -> Any:
        """Draw the curves (or, with ``grad``, their derivatives) on ``ax`` (default: a new figure's); returns
        the matplotlib Axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.figure().add_subplot()
        for c in self.curves:
            label = c.loss if c.target is None else f"{c.loss}, target {c.target:g}"
            ax.plot(c.x, c.grads if grad else c.values, label=label)
        ax.set_xlabel(self.curves[0].x_axis)
        ax.set_ylabel("d loss / d x" if grad else "loss")
        ax.legend()
        return ax

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``curve -f json`` document."""
        from losscli.render import curves_dict

        return curves_dict(self.curves)

    def __repr__(self) -> str:
        return f"<CurveSet of {len(self.curves)} curves: {', '.join(c.loss for c in self.curves)}>"


@dataclass
class Difference:
    """A model's paired difference against a baseline under one loss: model − baseline, mean of the rows."""

    delta: float
    ci: tuple[float, float]
    p_value: float
    """One-sided ("the model is lower": ``Comparison.alternative`` less) or two-sided."""
    p_adjusted: float
    """Holm-adjusted across the models of the loss."""
    significant: bool
    """``p_adjusted`` below 1 − the level."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "ci": list(self.ci),
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "significant": self.significant,
        }
