"""The HTML report of a comparison (``losscli report``): one self-contained page.

Everything the page shows is inside it: the stylesheet, and every plot as SVG
drawn by matplotlib (a dense scatter rasterized into the SVG as a PNG), so the
file opens offline and asks the network for nothing. Its tables are the
terminal's, cell for cell (the same formatting code makes both); its plots
draw the rows ``rows.RowSample`` kept of each model.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.text import Text

from losscli import __version__, render, terminal
from losscli.engine.results import Comparison, Curve
from losscli.io.outfiles import atomic_write

REGRESSION_LIKE = ("continuous", "bounded", "count", "multiclass")
"""Label types whose predictions are plotted against them, when both have one shape (whole-number labels
predicted by one number per row are read as measurements, whatever the labels' reading)."""

CALIBRATION_BINS = 10
"""Equal-width bins of predicted probability in the reliability diagram."""

RASTER_POINTS = 2000
"""A scatter of more points than this is drawn as a PNG inside its SVG (``rasterized``): a small file."""

RASTER_DPI = 144

WIDE_SPREAD = 100.0
"""Per-sample losses whose 99th percentile is this many times their 1st are binned on a log scale."""

ZERO_SHARE = 0.05
"""A log scale leaves out the losses of 0: it is used only when they are at most this share of the rows."""

ANNOTATED_CLASSES = 12
"""A confusion matrix of at most this many classes has its counts written in its cells."""

MATPLOTLIB_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "path",  # glyphs drawn as paths: the page needs no font of the reader's
}

NO_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}
"""Nothing in the SVG but the plot: no creation date (the same inputs give the same page)."""


def write_report(path: Path, result: Comparison, curves: list[Curve]) -> None:
    """The report of ``result`` and of its losses' ``curves``, as one HTML file written atomically."""
    page = report_html(result, curves).encode("utf-8")  # made first, so that a full disk can tell the size needed
    with atomic_write(path, "--out", lambda: len(page)) as f:
        f.write(page)


def report_html(result: Comparison, curves: list[Curve]) -> str:
    """The whole page."""
    import matplotlib

    matplotlib.use("Agg")
    drawing = Drawing()
    with matplotlib.rc_context(MATPLOTLIB_STYLE):
        fits = model_fits(result)
        sections = [
            ("compare", "Comparison", comparison_section(result)),
            ("gates", "Gates", gates_section(result)),
            ("losses", "Per-sample losses", distribution_section(result, drawing)),
            ("fit", "Predictions against the labels", regression_section(result, fits, drawing)),
            ("classes", "Calibration and confusion", classification_section(result, fits, drawing)),
            ("slices", "Slices", slices_section(result)),
            ("worst", "Worst rows", worst_section(result)),
            ("curves", "Loss curves", curves_section(curves, drawing)),
            ("warnings", "Warnings", warnings_section(result)),
        ]
    shown = [(anchor, title, body) for anchor, title, body in sections if body]
    contents = "".join(f'<li><a href="#{anchor}">{escape(title)}</a></li>' for anchor, title, _ in shown)
    body = "".join(f'<section id="{anchor}"><h2>{escape(title)}</h2>{text}</section>' for anchor, title, text in shown)
    title = f"losscli report: {result.labels}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLESHEET}</style></head>"
        f"<body><header>{header(result)}<nav><ul>{contents}</ul></nav></header><main>{body}</main>"
        f"<footer>Written by losscli {escape(__version__)}. This page is self-contained: it loads nothing.</footer>"
        "</body></html>\n"
    )


# --- text -------------------------------------------------------------------------------------------------


_CONSOLE = Console(width=1 << 16, color_system=None, force_terminal=False)
"""The console whose rendering of a Rich ``Text`` gives its segments and styles (nothing is printed)."""


def text_html(text: Text | str) -> str:
    """A cell of the terminal's tables in HTML: escaped, its styles as classes (``best`` for the best value,
    ``significant`` for the † marker, ``dim``, ``error``), its line breaks kept."""
    if isinstance(text, str):
        return escape(text).replace("\n", "<br>")
    parts = []
    for segment in text.render(_CONSOLE, end=""):
        words = escape(segment.text).replace("\n", "<br>")
        style = segment.style
        classes = []
        if style is not None:
            color = style.color.name if style.color is not None else ""
            classes += {"green": ["best"], "yellow": ["significant"], "red": ["error"]}.get(color, [])
            classes += ["dim"] if style.dim else []
        parts.append(f'<span class="{" ".join(classes)}">{words}</span>' if classes else words)
    return "".join(parts)


def table_html(headers: list[str], rows: list[list[str]], *, classes: str = "", attributes: str = "") -> str:
    """A table of cells already in HTML (``<td>`` elements or their contents)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    lines = "".join(
        "<tr>" + "".join(cell if cell.startswith(("<td", "<th")) else f"<td>{cell}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    wanted = f' class="{classes}"' if classes else ""
    table = f"<table{wanted}{attributes}><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def notes_html(notes: list[str]) -> str:
    return "".join(f'<p class="note">{escape(note)}</p>' for note in notes if note)


def _model_name(result: Comparison, model: str) -> str:
    return result.names.get(model, model)


# --- the header -------------------------------------------------------------------------------------------


def header(result: Comparison) -> str:
    """What was compared: the labels, the models and their files, the losses, how intervals were computed, and
    which rows the plots show."""
    models = [
        [
            escape(_model_name(result, model))
            + (' <span class="dim">(baseline)</span>' if model == result.baseline else ""),
            f"<code>{escape(model)}</code>",
        ]
        for model in result.models
    ]
    why = ["why"] if result.reasons else []  # the default losses say why they were chosen; -l's need not
    losses = [
        [text_html(render._column_header(result, column))] + [escape(result.reasons.get(column, ""))] * len(why)
        for column in result.losses
    ]
    facts = [("labels", f"<code>{escape(result.labels)}</code>")]
    if result.statistics is not None:
        facts.append(("intervals", escape(render.interval_text(result.statistics))))
    if result.sample_weight is not None:
        facts.append(("weights", escape(f"{result.sample_weight} (--sample-weight): Σ wᵢℓᵢ / Σ wᵢ")))
    stride, plotted = sample_stride(result)
    if stride > 1:
        facts.append(
            (
                "plots",
                escape(
                    f"a sample of the rows, one in every {stride}: {plotted:,} rows; "
                    "the tables' values are over every row"
                ),
            )
        )
    listed = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return (
        f"<h1>losscli report</h1><dl>{listed}</dl>"
        '<div class="pair">'
        f"{table_html(['model', 'predictions'], models, classes='models')}"
        f"{table_html(['loss', *why], losses, classes='losses')}"
        "</div>"
    )


def sample_stride(result: Comparison) -> tuple[int, int]:
    """Every how many rows the plots' sample took one (``RowSample``'s stride), and how many rows it kept."""
    for per in (result.samples or {}).values():
        for sample in per.values():
            index = sample["index"]
            if index is not None and len(index):
                return (int(index[1] - index[0]) if len(index) > 1 else 1), len(index)
    return 1, 0


# --- the tables -------------------------------------------------------------------------------------------


def comparison_section(result: Comparison) -> str:
    """The models × losses table as the terminal shows it, each value cell holding its JSON value too
    (``data-value``), then the table's notes."""
    rows = []
    for model in result.ordered_models():
        name = escape(_model_name(result, model))
        if model == result.baseline:
            name += ' <span class="dim">(baseline)</span>'
        cells = [f'<th scope="row">{name}</th>']
        for column in result.losses:
            value = None if column in result.errors.get(model, {}) else result.values[model][column]
            best = ' class="best-cell"' if result.best.get(column) == model else ""
            shown = text_html(render._comparison_cell(result, model, column))
            cells.append(
                f'<td{best} data-model="{escape(model)}" data-loss="{escape(column)}" '
                f'data-value="{escape(json.dumps(value))}">{shown}</td>'
            )
        rows.append(cells)
    headers = ["model", *(text_html(render._column_header(result, column)) for column in result.losses)]
    notes = ["* best in its column (lower is better)"]
    if result.statistics is not None:
        notes.append(render.significance_note(result))
    if result.errors:
        notes.append("error: no value; the reasons are listed below")
    notes.append(render.describe_disagreement(result) or "")
    errors = [
        f"{_model_name(result, model)} under {column}: {message}"
        for model, per in result.errors.items()
        for column, message in per.items()
    ]
    return (
        table_html(headers, rows, classes="compare", attributes=' id="compare-table"')
        + notes_html(notes)
        + "".join(f'<p class="error">{escape(line)}</p>' for line in errors)
    )


def gates_section(result: Comparison) -> str | None:
    """Every check of ``--fail-above`` and ``--fail-if-worse``, passed or failed."""
    if not result.gates:
        return None
    from losscli.engine.significance import gate_line

    rows = []
    for gate in result.gates:
        value = "—" if gate.value is None else f"{gate.value:.6g}"
        if gate.interval is not None:
            value += f" [{gate.interval[0]:.6g}, {gate.interval[1]:.6g}]"
        bound = f"{gate.bound:.6g}"
        if gate.baseline is not None and gate.baseline_value is not None:
            margin = f" + {gate.pct:g} %" if gate.pct else ""
            bound += f" (the baseline {_model_name(result, gate.baseline)}'s {gate.baseline_value:.6g}{margin})"
        outcome = '<span class="passed">passed</span>' if gate.passed else '<span class="failed">failed</span>'
        rows.append(
            [
                outcome,
                escape(_model_name(result, gate.model)),
                escape(gate.loss),
                escape(gate.rule),
                escape(value),
                escape(bound),
                escape("" if gate.passed else gate_line(gate)),
            ]
        )
    failed = sum(not gate.passed for gate in result.gates)
    verdict = (
        '<p class="verdict passed">Every gate passed.</p>'
        if not failed
        else f'<p class="verdict failed">{failed} of {len(result.gates)} checks failed (exit code 4).</p>'
    )
    return verdict + table_html(["outcome", "model", "loss", "gate", "value", "at most", "why it failed"], rows)


def slices_section(result: Comparison) -> str | None:
    """The loss per slice of ``--by`` (or ``--by-class``): a table per loss, a row per slice."""
    if result.slices is None:
        return None
    keys = result.slicing.columns
    models = result.ordered_models()
    parts = []
    for column in result.losses:
        rows = [
            [escape(render.slice_text(row.key[k])) for k in keys]
            + [str(row.n)]
            + [text_html(cell) for cell in render.slice_cells(row, column, models)]
            for row in result.slices
        ]
        headers = [escape(k) for k in keys] + ["n"] + [escape(_model_name(result, m)) for m in models]
        parts.append(
            f"<div><h3>{escape(column)} by {escape(' × '.join(keys))}</h3>"
            + table_html(headers, rows, classes="slices", attributes=f' data-loss="{escape(column)}"')
            + "</div>"
        )
    notes = []
    if len(models) > 1:
        notes.append("* lowest in its row")
    if result.statistics is not None:
        notes.append(f"[lo, hi]: {render.interval_text(result.statistics)} (none for a slice of one row)")
    if result.slicing.bins:
        notes.append(f"{', '.join(result.slicing.bins)}: quantile bins (--bins)")
    if result.slices_left_out:
        left_out = "1 slice" if result.slices_left_out == 1 else f"{result.slices_left_out} slices"
        notes.append(f"{left_out} of fewer than {result.slicing.min_size} rows left out (--min-slice-size)")
    return f'<div class="tables">{"".join(parts)}</div>' + notes_html(notes)


def worst_section(result: Comparison) -> str | None:
    """Each model's rows of largest loss, a table per loss."""
    if not result.worst:
        return None
    parts = []
    for column in result.losses:
        per_model = [(model, result.worst.get(model, {}).get(column, [])) for model in result.models]
        if not any(rows for _, rows in per_model):
            continue
        weighted = any(row.weight is not None for _, rows in per_model for row in rows)
        lines = []
        for model, rows in per_model:
            for i, row in enumerate(rows):
                cells = [
                    escape(_model_name(result, model)) if i == 0 else "",
                    str(row.index + 1),
                    f"{row.loss:.6g}",
                    escape(render._row_values_text(row.pred)),
                    escape(render._row_values_text(row.label)),
                ]
                lines.append(cells + ([f"{row.weight:.4g}"] if weighted else []))
        headers = ["model", escape(render.ROW_HEADER), escape(column), "prediction", "label"]
        headers += ["weight"] if weighted else []
        parts.append(
            f"<div><h3>Under {escape(column)}</h3>"
            + table_html(headers, lines, classes="worst", attributes=f' data-loss="{escape(column)}"')
            + "</div>"
        )
    note = notes_html(["The loss of each row alone; rows counted from 1, as in every message."])
    return note + f'<div class="tables">{"".join(parts)}</div>'


def warnings_section(result: Comparison) -> str | None:
    if not result.warnings:
        return None
    return "<ul>" + "".join(f"<li>{escape(w)}</li>" for w in result.warnings) + "</ul>"


# --- the rows the plots draw ------------------------------------------------------------------------------


@dataclass
class ModelFit:
    """A model's sampled predictions and labels, and what can be drawn of them."""

    pred: np.ndarray
    label: np.ndarray
    kind: str | None
    """``regression`` (a prediction per label), ``binary`` (a score per 0/1 label), ``classes`` (a score per
    class), or None (nothing to draw)."""


def model_fits(result: Comparison) -> dict[str, ModelFit]:
    """Each model's sampled rows, from the first loss that scored it, with the kind of plot they call for."""
    fits: dict[str, ModelFit] = {}
    for per in (result.samples or {}).values():
        for model, sample in per.items():
            if model in fits or sample["pred"] is None or sample["label"] is None or not len(sample["pred"]):
                continue
            pred, label = _squeeze(sample["pred"]), _squeeze(sample["label"])
            fits[model] = ModelFit(pred, label, fit_kind(pred, label))
    return fits


def _squeeze(array: np.ndarray) -> np.ndarray:
    """A column of one (N, 1) as the 1-D array it is."""
    array = np.asarray(array)
    return array[:, 0] if array.ndim == 2 and array.shape[1] == 1 else array


def fit_kind(pred: np.ndarray, label: np.ndarray) -> str | None:
    """What to draw of predictions against labels (see ``ModelFit.kind``), from the labels' type and the shapes."""
    from losscli.advice.advisor import infer_label_type

    if not np.isfinite(label).all() or not np.isfinite(pred).all():
        return None
    label_type = infer_label_type(label).label_type
    if pred.ndim == 2 and pred.shape[1] >= 2:
        if label.ndim == 1 and label_type in ("binary", "multiclass", "count"):
            return "classes" if np.all(np.mod(label, 1) == 0) else None
        if label.shape == pred.shape and label_type == "onehot":
            return "classes"
    if pred.shape == label.shape:
        if label_type == "binary" and pred.ndim == 1:
            return "binary"
        if label_type in REGRESSION_LIKE:
            return "regression"
    return None


def class_probabilities(pred: np.ndarray) -> np.ndarray:
    """Probabilities from predictions of the kind they are (``advisor.describe_predictions``): the positive
    class's (1-D: the sigmoid of logits) or each class's (2-D: the softmax of logits), log-probabilities
    exponentiated, probabilities as they are (a row of scores in [0, 1] divided by its sum)."""
    from scipy.special import expit, softmax

    from losscli.advice.advisor import describe_predictions

    x = np.asarray(pred, dtype=np.float64)
    kind = describe_predictions(x).kind
    if kind == "log_probs":
        return np.exp(x)
    if x.ndim == 1:
        return expit(x) if kind == "real" else x
    if kind == "real":
        return softmax(x, axis=1)
    if kind == "probs":
        sums = x.sum(axis=1, keepdims=True)
        return x / np.where(sums > 0, sums, 1.0)
    return x


@dataclass
class Calibration:
    """A reliability diagram's bins: how many rows, their mean predicted probability, the observed frequency."""

    edges: np.ndarray
    counts: np.ndarray
    predicted: np.ndarray
    """Mean predicted probability of each bin's rows (NaN: an empty bin)."""
    observed: np.ndarray
    """Fraction of each bin's rows whose outcome is 1: the positives (binary), the rows classed right (classes)."""

    @property
    def ece(self) -> float:
        """The expected calibration error: Σ |observed − predicted| over the bins, weighted by their rows."""
        full = self.counts > 0
        return float(np.sum(self.counts[full] * np.abs(self.observed[full] - self.predicted[full])) / self.counts.sum())


def calibration(probability: np.ndarray, outcome: np.ndarray, bins: int = CALIBRATION_BINS) -> Calibration:
    """``probability`` binned in ``bins`` equal bins of [0, 1] (each closed on the left, the last on both
    sides), with the mean of ``probability`` and of ``outcome`` (0 or 1) in each."""
    from scipy.stats import binned_statistic

    edges = np.linspace(0.0, 1.0, bins + 1)
    x = np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(outcome, dtype=np.float64)
    sums = binned_statistic(x, [x, y], statistic="sum", bins=edges).statistic
    counts = binned_statistic(x, x, statistic="count", bins=edges).statistic.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted, observed = sums / np.where(counts > 0, counts, np.nan)
    return Calibration(edges, counts, predicted, observed)


def confusion(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Rows: the true class; columns: the predicted class; cells: how many rows."""
    cells = np.asarray(true, dtype=np.int64) * classes + np.asarray(predicted, dtype=np.int64)
    return np.bincount(cells, minlength=classes * classes).reshape(classes, classes)


@dataclass
class Classified:
    """A classifier's sampled rows, read for its plots."""

    probability: np.ndarray
    """The reliability diagram's x: the positive class's probability (binary, or two classes), else the
    top-label confidence."""
    outcome: np.ndarray
    """Its y: the label (binary), or whether the top class is the true one."""
    true: np.ndarray
    predicted: np.ndarray
    classes: int
    top_label: bool


def classified(fit: ModelFit) -> Classified:
    """A classifier's rows as its calibration and confusion see them; rows whose label is no class of the
    predictions (an ``ignore_index``, such as -100) are left out."""
    probability = class_probabilities(fit.pred)
    if fit.kind == "binary":
        true = fit.label.astype(np.int64)
        return Classified(probability, true, true, (probability >= 0.5).astype(np.int64), 2, False)
    classes = probability.shape[1]
    true = fit.label.argmax(axis=1) if fit.label.ndim == 2 else fit.label.astype(np.int64)
    keep = (true >= 0) & (true < classes)
    probability, true = probability[keep], true[keep]
    predicted = probability.argmax(axis=1)
    if classes == 2:  # two classes: the positive one's probability, as for one column of logits
        return Classified(probability[:, 1], true, true, predicted, 2, False)
    return Classified(probability.max(axis=1), (predicted == true).astype(np.int64), true, predicted, classes, True)


# --- the plots --------------------------------------------------------------------------------------------


class Drawing:
    """matplotlib figures, each turned into inline SVG."""

    def __init__(self) -> None:
        self.count = 0

    def figure(self, width: float, height: float, **subplots: Any) -> tuple[Any, Any]:
        """A figure ``width`` × ``height`` CSS pixels (SVG counts 72 points per inch; a browser draws a point as
        4/3 pixel) and its axes."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(width / 96, height / 96), layout="constrained")
        return figure, figure.subplots(**subplots)

    def svg(self, figure: Any, label: str) -> str:
        """The figure as an ``<svg>`` element to put in the page, described by ``label``."""
        import matplotlib

        self.count += 1
        out = io.StringIO()
        # a salt per figure keeps the ids of clip paths apart when several SVGs share one page
        with matplotlib.rc_context({"svg.hashsalt": f"losscli-report-{self.count}"}):
            figure.savefig(out, format="svg", dpi=RASTER_DPI, metadata=NO_METADATA)
        text = out.getvalue()
        element = text[text.index("<svg") :]
        described = f'<svg role="img" aria-label="{escape(label)}" class="plot"'
        return described + element[len("<svg") :]


def figure_html(svg: str, caption: str, extra: str = "") -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption>{extra}</figure>"


def _robust_limits(series: list[np.ndarray]) -> tuple[float, float] | None:
    """Axis limits that leave out the far tails of a derivative that runs off to infinity at an edge (the
    log loss near probability 0), or None (matplotlib's own) when nothing runs off."""
    values = _finite(np.concatenate([np.asarray(s).reshape(-1) for s in series]))
    if not len(values):
        return None
    low, high = np.quantile(values, [0.02, 0.98])
    whole = values.max() - values.min()
    if whole <= 10 * (high - low):
        return None
    pad = 0.1 * (high - low or 1.0)
    return float(low - pad), float(high + pad)


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    return values[np.isfinite(values)]


def distribution_section(result: Comparison, drawing: Drawing) -> str | None:
    """A histogram of each model's per-sample losses, a plot per loss (log-spaced bins when they spread wide)."""
    from matplotlib.ticker import MaxNLocator

    if not result.samples:
        return None
    figures = []
    for column in result.losses:
        per = result.samples.get(column) or {}
        losses = {model: _finite(sample["loss"]) for model, sample in per.items() if sample["loss"] is not None}
        losses = {model: values for model, values in losses.items() if len(values)}
        if not losses:
            continue
        edges, logarithmic = loss_bins(np.concatenate(list(losses.values())), max(len(v) for v in losses.values()))
        figure, axes = drawing.figure(400, 300)
        for model, values in losses.items():
            label = f"{_model_name(result, model)} (median {np.median(values):.3g})"
            zeros = int(np.count_nonzero(values == 0)) if logarithmic else 0
            label += f"; {terminal.counted(zeros, 'row')} of 0 not drawn" if zeros else ""
            axes.hist(
                values[values > 0] if logarithmic else values, bins=edges, histtype="step", linewidth=1.6, label=label
            )
        if logarithmic:
            axes.set_xscale("log")
        axes.set_xlabel(f"{column}: the loss of each row alone" + (" (log scale)" if logarithmic else ""))
        axes.set_ylabel("rows")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(f"Per-sample {column}")
        axes.legend()
        caption = f"How {column} spreads over the rows, per model."
        figures.append(figure_html(drawing.svg(figure, f"Histogram of per-sample {column} per model"), caption))
    return f'<div class="plots narrow">{"".join(figures)}</div>' if figures else None


def loss_bins(losses: np.ndarray, rows: int) -> tuple[np.ndarray, bool]:
    """The histogram's bin edges for per-sample losses, about √rows of them, and whether they are log-spaced:
    when no loss is negative, few are 0 (at most ``ZERO_SHARE``) and the positive ones spread wide (their 99th
    percentile over ``WIDE_SPREAD`` times their 1st), as squared errors and log losses do."""
    count = int(np.clip(np.sqrt(rows), 10, 60))
    positive = losses[losses > 0]
    if len(positive) > 1 and losses.min() >= 0 and len(positive) >= (1 - ZERO_SHARE) * len(losses):
        low, high = np.quantile(positive, [0.01, 0.99])
        if high > WIDE_SPREAD * low:
            return np.geomspace(positive.min(), positive.max(), count + 1), True
    lo, hi = float(losses.min()), float(losses.max())
    return np.linspace(lo, hi if hi > lo else lo + 1, count + 1), False


def regression_section(result: Comparison, fits: dict[str, ModelFit], drawing: Drawing) -> str | None:
    """Predicted against true values and the residuals against the true values, a figure per model, on the same
    scales for every model."""
    models = [model for model in result.models if model in fits and fits[model].kind == "regression"]
    if not models:
        return None
    pairs = {model: (_finite_pairs(fits[model])) for model in models}
    values = np.concatenate([np.concatenate(pair) for pair in pairs.values()])
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad
    spread = max(float(np.abs(p - t).max()) if len(t) else 0.0 for t, p in pairs.values()) * 1.08 or 1.0
    figures = []
    for model in models:
        true, pred = pairs[model]
        name = _model_name(result, model)
        figure, (left, right) = drawing.figure(560, 290, ncols=2)
        dense = len(true) > RASTER_POINTS
        style = dict(s=4 if dense else 14, alpha=0.35 if dense else 0.75, linewidths=0, rasterized=dense)
        left.plot([lo, hi], [lo, hi], color="0.5", linestyle="--", linewidth=1, label="prediction = label")
        left.scatter(true, pred, **style)
        left.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="label (true value)", ylabel="prediction", title=name)
        left.set_aspect("equal", adjustable="box")
        left.legend(loc="upper left")
        right.axhline(0, color="0.5", linestyle="--", linewidth=1)
        right.scatter(true, pred - true, color="C1", **style)
        right.set(
            xlim=(lo, hi), ylim=(-spread, spread), xlabel="label (true value)", ylabel="residual (prediction − label)"
        )
        right.set_title("residuals")
        caption = f"{name}: {len(true):,} rows; a point per value."
        figures.append(
            figure_html(drawing.svg(figure, f"{name}: predictions and residuals against the labels"), caption)
        )
    return f'<div class="plots">{"".join(figures)}</div>'


def _finite_pairs(fit: ModelFit) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(fit.label, dtype=np.float64).reshape(-1)
    pred = np.asarray(fit.pred, dtype=np.float64).reshape(-1)
    keep = np.isfinite(true) & np.isfinite(pred)
    return true[keep], pred[keep]


def classification_section(result: Comparison, fits: dict[str, ModelFit], drawing: Drawing) -> str | None:
    """A reliability diagram of every classifier, then a confusion matrix per model; each with its numbers in a
    table under it."""
    models = [model for model in result.models if model in fits and fits[model].kind in ("binary", "classes")]
    if not models:
        return None
    read = {model: classified(fits[model]) for model in models}
    read = {model: c for model, c in read.items() if len(c.true)}
    if not read:
        return None
    figures = [calibration_figure(result, read, drawing)]
    figures += [confusion_figure(result, model, c, drawing) for model, c in read.items()]
    return f'<div class="plots">{"".join(figures)}</div>'


def calibration_figure(result: Comparison, read: dict[str, Classified], drawing: Drawing) -> str:
    """The reliability diagram of every classifier, the spread of its probabilities below it."""
    from matplotlib.ticker import MaxNLocator

    top_label = any(c.top_label for c in read.values())
    figure, (diagram, spread) = drawing.figure(560, 420, nrows=2, sharex=True, height_ratios=[3, 1])
    diagram.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="perfectly calibrated")
    rows = []
    for model, c in read.items():
        found = calibration(c.probability, c.outcome)
        full = found.counts > 0
        name = _model_name(result, model)
        diagram.plot(found.predicted[full], found.observed[full], marker="o", label=f"{name} (ECE {found.ece:.3f})")
        spread.hist(c.probability, bins=found.edges, histtype="step", linewidth=1.4)
        spread.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
        for i in np.flatnonzero(full):
            bin_text = f"[{found.edges[i]:.1f}, {found.edges[i + 1]:.1f}{']' if i == len(full) - 1 else ')'}"
            rows.append(
                [
                    f'<td data-model="{escape(model)}">{escape(name)}</td>',
                    bin_text,
                    f'<td data-rows="{found.counts[i]}">{found.counts[i]}</td>',
                    f'<td data-predicted="{float(found.predicted[i])!r}">{found.predicted[i]:.4g}</td>',
                    f'<td data-observed="{float(found.observed[i])!r}">{found.observed[i]:.4g}</td>',
                ]
            )
    what = "top-label confidence (the largest class probability)" if top_label else "predicted probability of class 1"
    observed = "accuracy (top class = label)" if top_label else "fraction of positives"
    diagram.set(xlim=(0, 1), ylim=(0, 1), ylabel=observed, title="Reliability diagram")
    diagram.legend(loc="best")
    spread.set(xlabel=what, ylabel="rows")
    table = table_html(
        ["model", "bin", "rows", "mean predicted", observed],
        rows,
        classes="numbers",
        attributes=' data-plot="calibration"',
    )
    caption = f"Calibration in {CALIBRATION_BINS} equal bins; ECE: expected calibration error (lower is better)."
    svg = drawing.svg(figure, "Reliability diagram of every model")
    return figure_html(svg, caption, f"<details><summary>The bins</summary>{table}</details>")


def confusion_figure(result: Comparison, model: str, c: Classified, drawing: Drawing) -> str:
    """A model's confusion matrix: counts in the cells, coloured by their share of the true class's rows."""
    counts = confusion(c.true, c.predicted, c.classes)
    name = _model_name(result, model)
    sums = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(sums > 0, counts / np.where(sums > 0, sums, 1), 0.0)
    figure, axes = drawing.figure(560, 420)
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    axes.grid(False)
    if c.classes <= ANNOTATED_CLASSES:
        for (i, j), n in np.ndenumerate(counts):
            axes.text(j, i, str(n), ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
    ticks = np.arange(c.classes) if c.classes <= 2 * ANNOTATED_CLASSES else None
    if ticks is not None:
        axes.set_xticks(ticks)
        axes.set_yticks(ticks)
    accuracy = float(np.trace(counts) / counts.sum())
    axes.set(xlabel="predicted class", ylabel="true class", title=f"{name}: accuracy {100 * accuracy:.1f} %")
    figure.colorbar(image, ax=axes, label="share of the true class's rows", shrink=0.8)
    rows = [
        [f'<th scope="row">{i}</th>']
        + [f'<td data-true="{i}" data-predicted="{j}">{counts[i, j]}</td>' for j in range(c.classes)]
        for i in range(c.classes)
    ]
    table = table_html(
        ["true \\ predicted", *(str(j) for j in range(c.classes))],
        rows,
        classes="numbers",
        attributes=f' data-plot="confusion" data-model="{escape(model)}"',
    )
    threshold = "" if c.classes > 2 or c.top_label else " (class 1 when its probability is at least 0.5)"
    caption = f"{name}: confusion matrix of {counts.sum():,} rows{threshold}; colour: the share of each true class."
    svg = drawing.svg(figure, f"Confusion matrix of {name}")
    return figure_html(svg, caption, f"<details><summary>The counts</summary>{table}</details>")


def curves_section(curves: list[Curve], drawing: Drawing) -> str | None:
    """Each compared loss and its derivative against the prediction, a plot per kind of x axis."""
    if not curves:
        return None
    groups: dict[str, list[Curve]] = {}
    for curve in curves:
        groups.setdefault(curve.x_axis, []).append(curve)
    figures = []
    for x_axis, drawn in groups.items():
        figure, (values, slopes) = drawing.figure(560, 420, nrows=2, sharex=True)
        for curve in drawn:
            line = values.plot(curve.x, curve.values, label=render.curve_label(curve))[0]
            slopes.plot(curve.x, curve.grads, color=line.get_color(), linestyle="--")
        names = ", ".join(dict.fromkeys(c.loss for c in drawn))
        values.set(ylabel="loss", title=names)
        values.legend()
        slopes.set(xlabel=x_axis, ylabel="d loss / d x", ylim=_robust_limits([c.grads for c in drawn]))
        caption = (
            f"{names} as a function of the {x_axis} (above) and its derivative (below), as losscli curve draws them."
        )
        figures.append(figure_html(drawing.svg(figure, f"Loss curves of {names}"), caption))
    return f'<div class="plots">{"".join(figures)}</div>'


STYLESHEET = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --good: #1a7f37; --bad: #cf222e;
  --mark: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 10px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 12px; }
dt { color: var(--muted); }
dd { margin: 0; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 12px 0; }
nav a { color: #0969da; text-decoration: none; }
.pair { display: flex; flex-wrap: wrap; gap: 8px 32px; align-items: flex-start; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 4px 10px; vertical-align: top; }
thead th { background: var(--soft); text-align: center; font-weight: 600; }
tbody th { text-align: left; font-weight: 600; }
td { text-align: right; white-space: nowrap; }
table.models td, table.losses td { text-align: left; white-space: normal; }
table.losses td:first-child { white-space: nowrap; }
table.losses td:last-child { color: var(--muted); max-width: 520px; }
td.best-cell { background: #dafbe1; }
.best { color: var(--good); font-weight: 700; }
.significant { color: var(--mark); font-weight: 700; }
.error, .failed { color: var(--bad); font-weight: 700; }
.passed { color: var(--good); font-weight: 700; }
.dim, .note { color: var(--muted); }
.note { margin: 4px 0; font-size: 13px; }
p.error { font-weight: 400; margin: 4px 0; }
.verdict { font-size: 15px; }
.tables { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
table.worst td:nth-child(4), table.worst td:nth-child(5) { white-space: normal; min-width: 90px; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 16px 24px; }
.plots.narrow { grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); }
figure { margin: 0; }
figure svg.plot { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
details { margin-top: 4px; font-size: 13px; }
summary { cursor: pointer; color: var(--muted); }
footer { color: var(--muted); font-size: 12px; padding: 24px; }
"""
