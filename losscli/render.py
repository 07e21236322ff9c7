"""Rendering results as Rich tables, JSON or CSV, and writing gradient files."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import math
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from losscli import terminal, textout
from losscli.advisor import Advice, Recommendation
from losscli.errors import UsageError
from losscli.outfiles import atomic_write
from losscli.registry import LossSpec
from losscli.results import Comparison, ComputeResult, Curve, Gradient
from losscli.validate import shape_text

MAX_TABLE_COLUMNS = 8


def stdout() -> Console:
    return terminal.console()


def stderr() -> Console:
    return terminal.console(stderr=True)


def jsonable(array: np.ndarray) -> Any:
    """Nested lists with the shortest decimals that round-trip in the array's dtype; NaN/inf → None."""
    if array.dtype.kind == "f":
        decimals = array.astype(str).astype(np.float64)
        if not np.isfinite(decimals).all():
            return np.where(np.isfinite(decimals), decimals, None).tolist()
        return decimals.tolist()
    return array.tolist()


def finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def gradient_dict(grad: Gradient, array_value: Callable[[np.ndarray], Any] = jsonable) -> dict[str, Any]:
    return {
        "shape": list(grad.shape),
        "norm": finite_or_none(grad.norm),
        "mean": finite_or_none(grad.mean),
        "min": finite_or_none(grad.min),
        "max": finite_or_none(grad.max),
        "values": array_value(grad.values),
    }


def compute_dict(result: ComputeResult, arrays: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The SPEC's compute JSON as a dict; with ``arrays``, each array is left there under a placeholder
    (for ``textout.write_json``) instead of being turned into lists."""

    def array_value(array: np.ndarray) -> Any:
        if arrays is None:
            return jsonable(array)
        key = textout.placeholder(len(arrays))
        arrays[key] = array
        return key

    return {
        "loss": result.loss,
        "torch_name": result.torch_name,
        "reduction": result.reduction,
        "params": result.params,
        "n_samples": result.n_samples,
        "dtype": result.dtype,
        "value": finite_or_none(result.value),
        "values": None if result.values is None else array_value(result.values),
        "gradients": {name: gradient_dict(g, array_value) for name, g in result.gradients.items()},
        "warnings": result.warnings,
    }


def _rows(array: np.ndarray) -> np.ndarray:
    """View any array as rows along its first axis (a 0-d or 1-d array as one column)."""
    if array.ndim == 0:
        return array.reshape(1, 1)
    return array.reshape(array.shape[0], -1)


def _number(x: float) -> str:
    return f"{x:.6g}"


def _array_table(array: np.ndarray, limit: int) -> Table:
    rows = _rows(array if array.ndim == 0 else array[:limit])  # a spilled array reads only these rows
    n_cols = rows.shape[1]
    shown = min(n_cols, MAX_TABLE_COLUMNS)
    table = Table()
    table.add_column("row", justify="right", style="dim")
    for j in range(shown):
        table.add_column(str(j) if n_cols > 1 else "value", justify="right")
    if shown < n_cols:
        table.add_column("…")
    for i in range(min(limit, rows.shape[0])):
        cells = [_number(float(v)) for v in rows[i, :shown].astype(str)]  # shortest decimals of the dtype
        table.add_row(str(i), *cells, *(["…"] if shown < n_cols else []))
    return table


def _print_rows(console: Console, array: np.ndarray, limit: int, shape: tuple[int, ...]) -> None:
    """The first ``limit`` rows of ``array``, which may itself be the first rows of an array of ``shape``."""
    console.print(_array_table(array, limit))
    n_rows = shape[0] if shape else 1  # as _rows counts them
    if n_rows > limit:
        console.print(f"[dim]first {limit} of {n_rows} rows; --rows N shows more, JSON and CSV hold all[/]")


def compute_table(result: ComputeResult, rows: int, console: Console) -> None:
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold cyan")
    summary.add_column()
    params = ", ".join(f"{k}={json.dumps(v)}" for k, v in result.params.items()) or "(defaults)"
    summary.add_row("loss", result.loss)
    summary.add_row("torch class", result.torch_name or "—")
    summary.add_row("reduction", result.reduction)
    summary.add_row("parameters", params)
    summary.add_row("samples", str(result.n_samples))
    summary.add_row("dtype", result.dtype)
    if result.value is not None:
        summary.add_row("value", f"[bold green]{result.value:.8g}[/]")
    console.print(summary)
    if result.values is not None:
        console.print(f"\n[bold]Per-element losses[/] {shape_text(result.values.shape)}", highlight=False)
        _print_rows(console, result.values, rows, result.values.shape)
    for name, grad in result.gradients.items():
        console.print(
            f"\n[bold]Gradient d loss / d {name}[/] {shape_text(grad.shape)}  "
            f"norm {_number(grad.norm)}  mean {_number(grad.mean)}  "
            f"min {_number(grad.min)}  max {_number(grad.max)}",
            highlight=False,
            soft_wrap=True,
        )
        _print_rows(console, grad.values, rows, grad.shape)


def write_compute_csv(out: TextIO, result: ComputeResult) -> None:
    """Tidy CSV: ``quantity,index,value`` rows for the value(s) and every gradient element."""
    out.write("quantity,index,value\n")
    if result.values is not None:
        textout.write_long_csv(out, "values", result.values)
    else:
        out.write(f"value,,{result.value}\n")
    for name, grad in result.gradients.items():
        textout.write_long_csv(out, f"grad_{name}", grad.values)


def print_compute(result: ComputeResult, format_: str, rows: int) -> None:
    if format_ == "json":
        arrays: dict[str, np.ndarray] = {}
        textout.write_json(sys.stdout, compute_dict(result, arrays), arrays)
    elif format_ == "csv":
        write_compute_csv(sys.stdout, result)
    else:
        compute_table(result, rows, stdout())
    print_warnings(result.warnings)


def print_warnings(messages: list[str]) -> None:
    """Every warning as a ``Warning: …`` line on stderr, in every output format (SPEC: JSON keeps them too)."""
    terminal.warn(messages)


def _gradient_columns(gradients: dict[str, Gradient]) -> tuple[list[str], list[Any]]:
    """The CSV header and the gradients as arrays of rows (a scalar as one row)."""
    arrays = [g.values.reshape(1) if g.values.ndim == 0 else g.values for g in gradients.values()]
    if len({len(a) for a in arrays}) > 1:
        raise UsageError("the gradients have different numbers of rows; write them to a .npz file instead")
    names = []
    for name, array in zip(gradients, arrays, strict=True):
        width = math.prod(array.shape[1:])
        names.extend([f"grad_{name}"] if width == 1 else [f"grad_{name}[{j}]" for j in range(width)])
    return names, arrays


def write_gradients(path: Path, gradients: dict[str, Gradient]) -> None:
    """Write every gradient to ``.npy`` (one argument), ``.npz`` or ``.csv``, atomically."""
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz", ".csv"):
        raise UsageError(f"--grad-out {path}: use a .npy, .npz or .csv file name")
    if not gradients:
        raise UsageError("--grad-out needs gradients: drop --no-grad")
    if suffix == ".npy" and len(gradients) > 1:
        names = ", ".join(gradients)
        raise UsageError(f"--grad-out {path}: this loss has several gradients ({names}); use a .npz or .csv file")
    if suffix == ".csv":
        header, arrays = _gradient_columns(gradients)
        size = functools.partial(_csv_size, header, arrays)
    else:
        size = functools.partial(_binary_size, gradients)
    with atomic_write(path, "--grad-out", size) as f:
        if suffix == ".npy":
            textout.write_npy(f, next(iter(gradients.values())).values)
        elif suffix == ".npz":
            with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, grad in gradients.items():  # as numpy.savez lays them out
                    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                        textout.write_npy(member, grad.values)
        else:
            text = io.TextIOWrapper(f, encoding="utf-8", newline="")
            textout.write_columns_csv(text, header, arrays)
            text.flush()
            text.detach()  # ``atomic_write`` closes the file


def _binary_size(gradients: dict[str, Gradient]) -> int:
    """About the bytes of the gradients as ``.npy`` (or ``.npz`` members): a header and the values of each."""
    return sum(128 + math.prod(g.shape) * g.values.dtype.itemsize for g in gradients.values())


def _csv_size(header: list[str], arrays: list[Any], sample_rows: int = 1000) -> int:
    """About the bytes of the gradient CSV, from its first ``sample_rows`` rows written out."""
    rows = len(arrays[0]) if arrays else 0
    sample = io.StringIO()
    textout.write_columns_csv(sample, header, [a[:sample_rows] for a in arrays])
    head = len(",".join(header)) + 1
    return head + (len(sample.getvalue()) - head) * rows // max(min(rows, sample_rows), 1)


def spec_row(spec: LossSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "aliases": list(spec.aliases),
        "torch_name": spec.torch_name,
        "source": spec.origin,
        "family": spec.family,
        "inputs": [role.name for role in spec.roles],
    }


def print_list(specs: list[LossSpec], format_: str) -> None:
    rows = [spec_row(spec) for spec in specs]
    if format_ == "json":
        print(textout.dumps({"losses": rows}))
        return
    if format_ == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "aliases", "torch_name", "family", "inputs"])
        for row in rows:
            writer.writerow(
                [row["name"], " ".join(row["aliases"]), row["torch_name"] or "", row["family"], " ".join(row["inputs"])]
            )
        print(out.getvalue(), end="")
        return
    table = Table(title=f"{len(rows)} losses", title_justify="left")
    table.add_column("name (aliases)", ratio=2, overflow="fold")
    table.add_column("torch class", ratio=1, overflow="fold")
    table.add_column("family", ratio=1, overflow="fold")
    table.add_column("inputs", ratio=1, overflow="fold")
    for row in rows:
        name = Text(row["name"], style="bold cyan")
        aliases = [a for a in row["aliases"] if a != row["torch_name"]]
        if aliases:
            name.append("\n" + ", ".join(aliases), style="dim")
        table.add_row(name, row["torch_name"] or "—", row["family"], ", ".join(row["inputs"]))
    stdout().print(table)


def _recommendation_dict(r: Recommendation) -> dict[str, Any]:
    return {
        "loss": r.loss,
        "torch_name": r.torch_name,
        "reason": r.reason,
        "rule": r.rule,
        "params": r.params,
        "reduction": r.reduction,
        "command": r.command,
        "fix": r.fix,
    }


def advice_dict(advice: Advice) -> dict[str, Any]:
    return {
        "label_type": advice.label_type,
        "confidence": advice.confidence,
        "reading": advice.reading,
        "evidence": advice.evidence,
        "predictions": advice.predictions,
        "recommendations": [_recommendation_dict(r) for r in advice.recommendations],
        "alternatives": [
            {
                "label_type": alt.label_type,
                "reason": alt.reason,
                "recommendations": [_recommendation_dict(alt.recommendation)],
            }
            for alt in advice.alternatives
        ],
        "warnings": advice.warnings,
    }


def _evidence_text(key: str, value: Any) -> str:
    if key == "shape":
        return shape_text(tuple(value))
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _evidence_rows(evidence: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(name, text) per piece of evidence; a matrix's columns one row each."""
    for key, value in evidence.items():
        if value is None:
            continue
        if key == "columns":
            for column in value:
                rest = {k: v for k, v in column.items() if k not in ("column", "count_fit")}
                fit = column.get("count_fit") or {}
                text = _evidence_text(key, rest) + (f"; count fit: {_evidence_text(key, fit)}" if fit else "")
                yield f"column {column['column']}", text
        else:
            yield key.replace("_", " "), _evidence_text(key, value)


def print_advice(advice: Advice, format_: str) -> None:
    if format_ == "json":
        print(textout.dumps(advice_dict(advice)))
        print_warnings(advice.warnings)
        return
    if format_ == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        header = ["rank", "loss", "torch_name", "label_type", "reason", "rule", "command", "confidence", "reading"]
        writer.writerow([*header, "fix"])
        for rank, r in enumerate(advice.recommendations, 1):
            writer.writerow(
                [rank, r.loss, r.torch_name or "", advice.label_type, r.reason, r.rule or "", r.command or ""]
                + [advice.confidence, advice.reading, r.fix or ""]
            )
        for alt in advice.alternatives:  # the first recommendation of each other reading
            r = alt.recommendation
            writer.writerow(
                ["alternative", r.loss, r.torch_name or "", alt.label_type, r.reason, r.rule or "", r.command or ""]
                + [advice.confidence, alt.reason, r.fix or ""]
            )
        print(out.getvalue(), end="")
        print_warnings(advice.warnings)
        return
    console = stdout()
    weak = " (weak evidence)" if advice.confidence == "weak" else ""
    console.print(f"[bold]Label type:[/] [cyan]{advice.label_type}[/]{weak}", highlight=False)
    console.print(Padding(Text(advice.reading), (0, 0, 0, 2)))
    evidence = Table(show_header=False, box=None, pad_edge=False)
    evidence.add_column(style="dim")
    evidence.add_column()
    for name, text in _evidence_rows(advice.evidence):
        evidence.add_row(name, text)
    console.print(evidence)
    for alt in advice.alternatives:
        r = alt.recommendation
        console.print(f"[bold]Could also be read as {alt.label_type}:[/]", Text(alt.reason), highlight=False)
        console.print(f"   first suggestion: [cyan]{r.loss}[/] ({r.torch_name or '—'})", highlight=False)
        _print_command(console, r)
    if advice.predictions is not None:
        console.print(f"[bold]Predictions:[/] {advice.predictions['description']}", highlight=False)
    console.print("\n[bold]Recommended losses, best first[/]")
    for rank, r in enumerate(advice.recommendations, 1):
        console.print(f"\n[bold]{rank}. [cyan]{r.loss}[/][/] ({r.torch_name or '—'})", highlight=False)
        console.print(Padding(Text(r.reason), (0, 0, 0, 3)))
        if r.rule:
            console.print(Padding(Text(r.rule, style="dim"), (0, 0, 0, 3)))
        _print_command(console, r)
    print_warnings(advice.warnings)


def _print_command(console: Console, r: Recommendation) -> None:
    """The line to run, or, when it would not run on these files, what to change first."""
    if r.command is not None:
        console.print(f"   [green]$ {r.command}[/]", highlight=False, soft_wrap=True, markup=True)
    else:
        console.print(Padding(Text.assemble(("fix: ", "bold yellow"), r.fix or ""), (0, 0, 0, 3)))


def comparison_dict(result: Comparison) -> dict[str, Any]:
    rows = []
    for model in result.models:
        row: dict[str, Any] = {"pred": model, "values": result.values[model]}
        if result.baseline is not None:
            row["change_pct"] = result.change[model]
        rows.append(row)
    return {
        "labels": result.labels,
        "losses": result.losses,
        "params": result.params,
        "rows": rows,
        "best": result.best,
        "baseline": result.baseline,
        "disagreements": result.disagreements,
        "reasons": result.reasons,
        "warnings": result.warnings,
    }


def _ordered(result: Comparison, sort: str | None) -> list[str]:
    if sort is None:
        return result.models
    return sorted(result.models, key=lambda m: (result.values[m][sort] is None, result.values[m][sort] or 0.0))


def print_comparison(result: Comparison, format_: str, sort: str | None = None) -> None:
    models = _ordered(result, sort)
    if format_ == "json":
        data = comparison_dict(result)
        data["rows"] = sorted(data["rows"], key=lambda row: models.index(row["pred"]))
        print(textout.dumps(data))
        print_warnings(result.warnings)
        return
    if format_ == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        changes = [f"{loss}_change_pct" for loss in result.losses] if result.baseline is not None else []
        writer.writerow(["pred", *result.losses, *changes])
        for model in models:
            values = [result.values[model][loss] for loss in result.losses]
            extra = [result.change[model][loss] for loss in result.losses] if changes else []
            writer.writerow(
                [
                    model,
                    *("" if v is None else repr(v) for v in values),
                    *("" if v is None else f"{v:.4g}" for v in extra),
                ]
            )
        print(out.getvalue(), end="")
        print_warnings(result.warnings)
        return
    table = Table(title=f"Losses against {result.labels} (lower is better)", title_justify="left")
    table.add_column("predictions", style="bold")
    for loss in result.losses:
        params = result.params.get(loss)
        header = loss + ("\n" + ", ".join(f"{k}={json.dumps(v)}" for k, v in params.items()) if params else "")
        table.add_column(header, justify="right")
    for model in models:
        cells = []
        for loss in result.losses:
            value = result.values[model][loss]
            text = "nan" if value is None else f"{value:.6g}"
            if result.baseline is not None and model != result.baseline:
                change = result.change[model][loss]
                text += "" if change is None else f" [dim]({change:+.1f}%)[/]"
            if result.best[loss] == model:
                text = f"[bold green]{text} *[/]"
            cells.append(text)
        name = model + (" [dim](baseline)[/]" if model == result.baseline else "")
        table.add_row(name, *cells)
    table.caption = "* best in its column"
    console = stdout()
    console.print(table)
    for loss, reason in result.reasons.items():  # why each default loss is a column
        console.print(Text.assemble(f"{loss}: ", reason, style="dim"))
    note = describe_disagreement(result)
    if note:
        console.print(note, highlight=False)
    print_warnings(result.warnings)


def describe_disagreement(result: Comparison) -> str | None:
    """One sentence on why the losses prefer different models."""
    if not result.disagreements:
        return None
    parts = [
        f"{', '.join(losses)} {'prefers' if len(losses) == 1 else 'prefer'} {model}"
        for model, losses in result.disagreements.items()
    ]
    squared = {"mse", "l2"} & set(result.losses)
    robust = {"l1", "smooth_l1", "huber"} & set(result.losses)
    why = ""
    if squared and robust:
        why = (
            " — squared error punishes a few large errors (outliers) that absolute and smooth errors forgive "
            "(article 2.6.1)"
        )
    return "The losses disagree: " + "; ".join(parts) + why + "."


DTYPE_TEXT = {
    "float": "float (float32 by default, --dtype float64)",
    "index": "int64 class indices (integral floats accepted)",
    "index_or_prob": "int64 class indices, or float class probabilities shaped like the input",
    "length": "int64 lengths",
}


def info_dict(spec: LossSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "aliases": list(spec.aliases),
        "torch_name": spec.torch_name,
        "source": spec.origin,
        "family": spec.family,
        "formula": spec.formula,
        "inputs": [
            {
                "name": role.name,
                "given_as": _given_as(spec, role),
                "shape": role.shape,
                "dtype": DTYPE_TEXT[role.dtype],
                "values": role.domain,
                "description": role.doc,
                "default": role.default,
            }
            for role in spec.roles
        ],
        "params": [
            {
                "name": p.name,
                "default": p.default,
                "type": p.kind,
                "choices": list(p.choices) or None,
                "description": p.doc,
            }
            for p in spec.params
        ],
        "reductions": list(spec.reductions),
        "default_reduction": spec.default_reduction,
        "use_when": spec.use_when,
        "avoid_when": spec.avoid_when,
        "notes": spec.notes,
        "article_section": spec.article_section,
    }


def _given_as(spec: LossSpec, role: Any) -> str:
    if role is spec.pred_role:
        return "PRED"
    if role is spec.target_role:
        return "LABELS"
    return f"--input {role.name}=PATH"


def print_info(spec: LossSpec, format_: str) -> None:
    data = info_dict(spec)
    if format_ == "json":
        print(textout.dumps(data))
        return
    if format_ == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["field", "value"])
        for key, value in data.items():
            writer.writerow([key, value if isinstance(value, str) else json.dumps(value)])
        print(out.getvalue(), end="")
        return
    console = stdout()
    title = f"[bold cyan]{spec.name}[/]  {spec.origin}  [dim]({spec.family}; article {spec.article_section})[/]"
    if spec.article_section.startswith("not"):
        title = f"[bold cyan]{spec.name}[/]  {spec.origin}  [dim]({spec.family}; {spec.article_section})[/]"
    console.print(title, highlight=False)
    if spec.aliases:
        console.print(Text("aliases: " + ", ".join(spec.aliases), style="dim"))
    console.print("\n[bold]Formula[/]")
    console.print(Padding(Text(spec.formula), (0, 0, 0, 2)))
    inputs = Table(title="Inputs", title_justify="left", title_style="bold")
    for column in ("argument", "given as", "shape", "dtype", "meaning"):
        inputs.add_column(column)
    for row in data["inputs"]:
        meaning = row["description"] + (f" (default: {row['default']})" if row["default"] else "")
        inputs.add_row(row["name"], row["given_as"], row["shape"], row["dtype"], meaning)
    console.print(inputs)
    params = Table(title="Parameters (-p NAME=VALUE)", title_justify="left", title_style="bold")
    for column in ("name", "default", "meaning"):
        params.add_column(column)
    for p in spec.params:
        params.add_row(p.name, json.dumps(p.default), p.doc + (f" ({' | '.join(p.choices)})" if p.choices else ""))
    params.add_row("--reduction", spec.default_reduction, " | ".join(spec.reductions))
    console.print(params)
    for heading, text in (("Use it when", spec.use_when), ("Avoid it when", spec.avoid_when), ("Notes", spec.notes)):
        if text:
            console.print(f"\n[bold]{heading}[/]", highlight=False)
            console.print(Padding(Text(text), (0, 0, 0, 2)))


def curve_label(curve: Curve) -> str:
    return curve.loss if curve.target is None else f"{curve.loss}, target {curve.target:g}"


def curve_dict(curve: Curve) -> dict[str, Any]:
    points = np.column_stack([curve.x, curve.values, curve.grads])
    return {
        "loss": curve.loss,
        "target": curve.target,
        "x_axis": curve.x_axis,
        "points": jsonable(np.where(np.isfinite(points), points, np.nan)),
    }


def print_curves(drawn: list[Curve], format_: str, *, grad: bool = False) -> None:
    if format_ == "json":
        data = curve_dict(drawn[0])
        data["curves"] = [curve_dict(c) for c in drawn]
        print(textout.dumps(data))
        return
    if format_ == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["loss", "target", "x", "value", "dloss_dx"])
        for c in drawn:
            target = "" if c.target is None else c.target
            for row in zip(c.x.astype(str), c.values.astype(str), c.grads.astype(str), strict=True):
                writer.writerow([c.loss, target, *row])
        print(out.getvalue(), end="")
        return
    console = stdout()
    width = max(min(console.width, 100), 30)
    console.print(Text.from_ansi(_terminal_plot(drawn, "values", "loss", width, colors=console.is_terminal)))
    if grad:
        console.print(Text.from_ansi(_terminal_plot(drawn, "grads", "d loss / d x", width, colors=console.is_terminal)))


def _terminal_plot(drawn: list[Curve], field: str, ylabel: str, width: int, *, colors: bool) -> str:
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, 20)
    if not colors:
        plt.theme("clear")
    for c in drawn:
        y = getattr(c, field)
        keep = np.isfinite(y)
        plt.plot(c.x[keep].tolist(), y[keep].tolist(), label=curve_label(c), marker="braille")
    plt.title(" vs ".join(dict.fromkeys(c.loss for c in drawn)) + ("" if field == "values" else ": derivative"))
    plt.xlabel(drawn[0].x_axis)
    plt.ylabel(ylabel)
    return plt.build()


def write_curve_image(path: Path, drawn: list[Curve], *, grad: bool, size: tuple[int, int]) -> None:
    """The curves (and their derivatives) as a PNG or SVG of ``size`` pixels, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # PNG: size[0] x size[1] pixels at 100 dpi; SVG: the same size in CSS pixels (96 per inch).
    dpi = 100 if path.suffix.lower() == ".png" else 96
    figure = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
    axes = figure.subplots(2 if grad else 1, 1, sharex=True, squeeze=False)[:, 0]
    for c in drawn:
        line = axes[0].plot(c.x, c.values, label=curve_label(c))[0]
        if grad:
            axes[1].plot(c.x, c.grads, color=line.get_color(), linestyle="--", label=curve_label(c))
    axes[0].set_ylabel("loss")
    names = ", ".join(dict.fromkeys(c.loss for c in drawn))
    axes[0].set_title(f"{names}: loss against the {drawn[0].x_axis}")
    axes[0].legend()
    axes[0].grid(alpha=0.3)
    if grad:
        axes[1].set_ylabel("d loss / d x")
        axes[1].grid(alpha=0.3)
    axes[-1].set_xlabel(drawn[0].x_axis)
    image = io.BytesIO()  # drawn first, so that a full disk can be told how much room it needed
    figure.savefig(image, format=path.suffix.lower()[1:], dpi=dpi)
    data = image.getvalue()
    with atomic_write(path, "--out", lambda: len(data)) as f:
        f.write(data)


@contextlib.contextmanager
def row_progress(description: str, delay: float = 2.0) -> Iterator[Callable[[int], None]]:
    """A progress display on stderr for long runs: rows done so far; nothing when stderr is no terminal.

    It appears only once the run has taken ``delay`` seconds, and clears itself at the end.
    """
    console = stderr()
    if not console.is_terminal:
        yield lambda rows: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    display = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    started = time.monotonic()
    task: list[Any] = []

    def update(rows: int) -> None:
        if not task:
            if time.monotonic() - started < delay:
                return
            display.start()
            task.append(display.add_task(description, total=None))
        display.update(task[0], completed=rows)

    try:
        yield update
    finally:
        if task:
            display.stop()
