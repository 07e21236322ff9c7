"""Rendering results as Rich tables, JSON or CSV, and writing gradient files."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import math
import re
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from losscli import terminal
from losscli.advice.advisor import Advice, Recommendation
from losscli.engine.results import Comparison, ComputeResult, Curve, Gradient, InputInfo
from losscli.engine.validate import shape_text
from losscli.errors import UsageError
from losscli.io import textout
from losscli.io.outfiles import atomic_write
from losscli.registry import LossSpec


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
        "inputs": {
            name: {"path": info.path, "columns": info.columns, "shape": list(info.shape)}
            for name, info in result.inputs.items()
        },
        **statistics_dict(result.statistics, {"ci": None if result.ci is None else list(result.ci)}),
        **gates_dict(result),
        **rows_dict(result),
    }


def print_report_written(result: Comparison) -> None:
    """The line saying where the report is, on stderr (stdout holds the comparison, as ``compare`` prints it)."""
    import os

    size = os.path.getsize(result.report)
    if not terminal.settings.quiet:
        # one line however long the path: it is there to be copied
        stderr().print(Text(f"Report: {result.report} ({size / 1024:,.0f} KiB)"), highlight=False, soft_wrap=True)


def rows_dict(result: ComputeResult | Comparison) -> dict[str, Any]:
    """``slices`` (with ``slices_left_out`` and the ``bins`` of binned columns), ``worst`` and
    ``sample_weight``, when asked for."""
    found: dict[str, Any] = {}
    if result.slices is not None:
        found["slices"] = [row.to_dict() for row in result.slices]
        found["slices_left_out"] = result.slices_left_out
        found["slice_columns"] = result.slicing.columns
        found["bins"] = result.slicing.bins
    if result.worst is not None:
        if isinstance(result.worst, dict):
            found["worst"] = {
                model: {loss: [row.to_dict() for row in rows] for loss, rows in per.items()}
                for model, per in result.worst.items()
            }
        else:
            found["worst"] = [row.to_dict() for row in result.worst]
    if result.sample_weight is not None:
        found["sample_weight"] = result.sample_weight
    if getattr(result, "report", None) is not None:
        found["report"] = result.report
    if getattr(result, "engine", None) is not None:
        found["engine"] = result.engine
    if getattr(result, "grad_files", None):
        found["grad_files"] = result.grad_files
    return found


def statistics_dict(statistics: Any, keys: dict[str, Any]) -> dict[str, Any]:
    """``ci`` and the keys saying how it was computed, when ``--ci`` was given."""
    return {} if statistics is None else {**keys, **statistics.to_dict()}


def gates_dict(result: Any) -> dict[str, Any]:
    """``gates`` (every check) and ``passed``, when gates were given."""
    if not result.gates:
        return {}
    return {"gates": [gate.to_dict() for gate in result.gates], "passed": result.passed}


def interval_text(statistics: Any) -> str:
    """How the intervals were computed, in words: "95 % t interval", "95 % bootstrap interval (1000 …)"."""
    level = f"{100 * statistics.level:g} %"
    if statistics.bootstrap:
        bootstrap = f"Poisson bootstrap of {statistics.resamples} resamples, seed {statistics.seed}"
        return f"{level} percentile interval, {bootstrap}"
    return f"{level} t interval"


def columns_text(columns: list[str] | None) -> str:
    """The columns read, for people: a few names, or the first and last of many."""
    if not columns:
        return ""
    if len(columns) == 1:
        return f"column {columns[0]}"
    if len(columns) <= 4:
        return "columns " + ", ".join(columns)
    return f"columns {columns[0]}, {columns[1]}, …, {columns[-1]} ({len(columns)})"


def input_text(info: InputInfo) -> str:
    """One input as the table shows it: ``path, column(s) …, shape (N, C)``."""
    shape = "shape " + shape_text(info.shape).replace(" ", "")  # a line may end before a shape, not inside it
    return ", ".join(part for part in (info.path, columns_text(info.columns), shape) if part)


def _rows(array: np.ndarray) -> np.ndarray:
    """View any array as rows along its first axis (a 0-d or 1-d array as one column)."""
    if array.ndim == 0:
        return array.reshape(1, 1)
    return array.reshape(array.shape[0], -1)


def _number(x: float) -> str:
    return f"{x:.6g}"


def _frame_width(table: Table, n_columns: int) -> int:
    """The cells a table takes besides its columns' contents: edges, separators and padding."""
    left, right = table.padding[3], table.padding[1]  # Rich's order: top, right, bottom, left
    width = (2 if table.box and table.show_edge else 0) + (n_columns - 1 if table.box else 0)
    return width + n_columns * (left + right) - (0 if table.pad_edge or not n_columns else left + right)


def fit_widths(console: Console, table: Table) -> bool:
    """Fix each column's width so that no word is cut, and say whether the table fits the console.

    Rich shrinks the widest columns until a table fits, down to cutting a word
    (``mean_squared_e…``) or a number where another share of the width would
    have cut none. Here each column gets at least its longest word and at
    most its longest line; what is left is shared out by lowering the widest
    columns to one level. False when even the longest words do not fit: the
    caller lays the rows out another way (the table is left as it was).
    """
    unbounded = console.options.update_width(1 << 20)  # measure words longer than the console too
    spans = []
    for column in table.columns:
        cells = ([column.header] if table.show_header else []) + list(column.cells)
        measured = [Measurement.get(console, unbounded, cell) for cell in cells] or [Measurement(1, 1)]
        spans.append((max(m.minimum for m in measured), max(m.maximum for m in measured)))
    room = console.width - _frame_width(table, len(spans))
    if sum(low for low, _ in spans) > room:
        return False

    def total(level: int) -> int:
        return sum(min(high, max(low, level)) for low, high in spans)

    level = max((high for _, high in spans), default=0)
    while total(level) > room:
        level -= 1
    widths = [min(high, max(low, level)) for low, high in spans]
    spare = room - total(level)
    for index, (_, high) in enumerate(spans):  # less than one more cell for each column at the level
        if spare and widths[index] < high:
            widths[index] += 1
            spare -= 1
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    return True


def print_records(console: Console, headers: list[str], rows: list[list[str | Text]], indent: int = 2) -> None:
    """Rows as blocks, for a table too wide for the console: the first cell, then a line per other
    cell, named by its header and wrapped at spaces."""
    for first, *rest in rows:
        console.print(Padding(Text(first, style="bold") if isinstance(first, str) else first, (0, 0, 0, indent)))
        block = Table.grid(padding=(0, 2))
        block.add_column(style="dim", no_wrap=True)
        block.add_column()
        for header, cell in zip(headers[1:], rest, strict=True):
            block.add_row(header, Text(cell) if isinstance(cell, str) else cell)
        console.print(Padding(block, (0, 0, 0, indent + 2)))


def print_table(console: Console, table: Table, headers: list[str], rows: list[list[str | Text]]) -> None:
    """``table`` when its columns fit the console without cutting a word, else its rows as records."""
    if fit_widths(console, table):
        console.print(table)
    else:
        print_records(console, headers, rows)


ROW_HEADER = "row (1-based)"
"""The row column of the per-sample and gradient tables: rows are counted from 1, as in every message."""


def _print_rows(console: Console, array: np.ndarray, limit: int, shape: tuple[int, ...], *, kept_by: str) -> None:
    """The first ``limit`` rows of ``array``, which may itself be the first rows of an array of ``shape``,
    and as many of its columns as fit the console whole; a line below says what was left out and
    ``kept_by`` what holds it all."""
    rows = _rows(array if array.ndim == 0 else array[:limit])  # a spilled array reads only these rows
    shown_rows = min(limit, rows.shape[0])
    n_cols = rows.shape[1]
    table = Table()
    numbering = [str(i + 1) for i in range(shown_rows)]
    row_width = max([len(word) for word in ROW_HEADER.split()] + [len(n) for n in numbering])
    step = _frame_width(table, 2) - _frame_width(table, 1)  # what each column adds besides its cells
    room = console.width - _frame_width(table, 1) - row_width
    columns: list[tuple[str, list[str]]] = []
    for j in range(n_cols):  # as many columns as fit, with room for a last one saying "…" if any are left
        header = str(j) if n_cols > 1 else "value"
        cells = [_number(float(v)) for v in rows[:shown_rows, j].astype(str)]  # shortest decimals of the dtype
        width = max(len(text) for text in [header, *cells])
        if columns and width + step + (0 if j == n_cols - 1 else 1 + step) > room:
            break
        room -= width + step
        columns.append((header, cells))
    table.add_column(ROW_HEADER, justify="right", style="dim")
    for header, _ in columns:
        table.add_column(header, justify="right", no_wrap=True)
    left_out = n_cols - len(columns)
    if left_out:
        table.add_column("…", no_wrap=True)
    for i in range(shown_rows):
        table.add_row(numbering[i], *(cells[i] for _, cells in columns), *(["…"] if left_out else []))
    fit_widths(console, table)
    console.print(table)
    n_rows = shape[0] if shape else 1  # as _rows counts them
    notes = []
    if n_rows > limit:
        notes.append(f"first {limit} of {n_rows} rows (--rows N shows more)")
    if left_out == 1:
        notes.append(f"column {n_cols - 1} of {n_cols} not shown")
    elif left_out:
        notes.append(f"columns {len(columns)}–{n_cols - 1} of {n_cols} not shown")
    if notes:
        console.print(Text("; ".join(notes) + f"; {kept_by} hold all", style="dim"))


def _print_heading(console: Console, heading: Text, items: list[str]) -> None:
    """A heading and ``name value`` items after it, on as many lines as the console needs, never
    breaking an item; lines after the first indented by two."""
    line = heading.copy()
    for item in items:
        if line.plain.strip() and cell_len(line.plain) + 2 + cell_len(item) > console.width:
            console.print(line)
            line = Text("  ")
        line.append(("  " if line.plain.strip() else "") + item)
    console.print(line)


def engine_text(engine: dict[str, Any]) -> str:
    """Where a sharded run ran: ``a local Dask cluster of 2 worker threads, 3 partitions``."""
    count = engine["partitions"]
    return f"{engine['where']}, {count} partition{'' if count == 1 else 's'}"


def compute_table(result: ComputeResult, rows: int, console: Console) -> None:
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold cyan")
    summary.add_column()
    params = ", ".join(f"{k}={json.dumps(v)}" for k, v in result.params.items()) or "(defaults)"
    summary.add_row("loss", result.loss)
    summary.add_row("torch class", result.torch_name or "—")
    summary.add_row("reduction", result.reduction)
    summary.add_row("parameters", params)
    for name, info in result.inputs.items():
        summary.add_row(name, input_text(info))
    summary.add_row("samples", str(result.n_samples))
    summary.add_row("dtype", result.dtype)
    if result.engine is not None:
        summary.add_row("engine", engine_text(result.engine))
    if result.value is not None:
        summary.add_row("value", f"[bold green]{result.value:.8g}[/]")
    if result.ci is not None:
        summary.add_row("interval", f"[{result.ci[0]:.6g}, {result.ci[1]:.6g}]  {interval_text(result.statistics)}")
    if result.sample_weight is not None:
        summary.add_row("weights", f"{result.sample_weight} (--sample-weight): Σ wᵢℓᵢ / Σ wᵢ")
    console.print(summary)
    if result.slices is not None:
        console.print()
        print_slices(console, result, result.loss)
    if result.worst is not None:
        console.print()
        print_worst(console, {None: {result.loss: result.worst}}, result.loss)
    if result.values is not None:
        console.print()
        console.print(Text.assemble(("Per-element losses", "bold"), " ", shape_text(result.values.shape)))
        _print_rows(console, result.values, rows, result.values.shape, kept_by="-f json and -f csv")
    for name, grad in result.gradients.items():
        console.print()
        heading = Text.assemble((f"Gradient d loss / d {name}", "bold"), " ", shape_text(grad.shape))
        stats = [f"{stat} {_number(getattr(grad, stat))}" for stat in ("norm", "mean", "min", "max")]
        _print_heading(console, heading, stats)
        _print_rows(console, grad.values, rows, grad.shape, kept_by="-f json, -f csv and --grad-out")


def slice_text(value: Any) -> str:
    """A slice's value of a column, for people: ``(missing)`` for an empty cell."""
    return "(missing)" if value is None else str(value)


def slice_cells(row: Any, column: str, models: list[str | None]) -> list[Text]:
    """A slice's value under ``column`` for each model (compute: one, None), the lowest marked ``*`` when there
    are several, its interval on a line below."""
    values = {m: (row.values[column] if m is None else row.values[m][column]) for m in models}
    scored = [v for v in values.values() if v is not None]
    best = min(scored) if len(scored) > 1 else None
    cells = []
    for model in models:
        value = values[model]
        interval = None
        if row.ci is not None:
            interval = row.ci[column] if model is None else row.ci[model][column]
        text = Text("—" if value is None else f"{value:.6g}" if interval is None else f"{value:.4g}")
        if best is not None and value == best:
            text.stylize("bold green")
            text.append(" *", style="bold green")
        if interval is not None:
            text.append(f"\n[{interval[0]:.3g}, {interval[1]:.3g}]")
        cells.append(text)
    return cells


def print_slices(console: Console, result: ComputeResult | Comparison, column: str) -> None:
    """The slice table(s) of ``--by``: a row per slice, a column per value (compute: the loss; compare: a
    table per loss, a column per model), the best of each row marked."""
    slicing, statistics = result.slicing, result.statistics
    keys = slicing.columns
    table = Table()
    for key in keys:
        table.add_column(key, overflow="fold")
    table.add_column("n", justify="right")
    models = result.ordered_models() if isinstance(result, Comparison) else [None]
    headers = [*keys, "n", *[column if m is None else result.names.get(m, m) for m in models]]
    for header in headers[len(keys) + 1 :]:
        table.add_column(header, justify="right", no_wrap=True)  # an interval goes on a line of its own
    lines = []
    for row in result.slices:
        cells: list[str | Text] = [slice_text(row.key[k]) for k in keys] + [str(row.n)]
        cells += slice_cells(row, column, models)
        table.add_row(*cells)
        lines.append(cells)
    console.print(Text(f"{column} by {' × '.join(keys)}", style="italic"))
    print_table(console, table, headers, lines)
    notes = []
    if isinstance(result, Comparison) and len(models) > 1:
        notes.append("* lowest in its row")
    if statistics is not None:
        notes.append(f"[lo, hi]: {interval_text(statistics)} (none for a slice of one row)")
    if slicing.bins:
        notes.append(f"{', '.join(slicing.bins)}: quantile bins (--bins)")
    if result.slices_left_out:
        left_out = terminal.counted(result.slices_left_out, "slice")
        notes.append(f"{left_out} of fewer than {slicing.min_size} rows left out (--min-slice-size)")
    if notes:
        console.print(Text("; ".join(notes), style="dim"))


def _row_values_text(value: Any) -> str:
    """A row of predictions or labels in a cell: a number, or a few of its numbers."""
    if value is None:
        return "—"
    if isinstance(value, list):
        flat = np.asarray(value, dtype=float).reshape(-1)
        shown = ", ".join(f"{v:.4g}" for v in flat[:4])
        return f"[{shown}{', …' if flat.size > 4 else ''}]" + (f" ({flat.size})" if flat.size > 4 else "")
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def print_worst(console: Console, worst: dict[str | None, dict[str, list[Any]]], loss: str, names: Any = None) -> None:
    """The rows of largest loss (``--worst``): compute's, or a table per loss with each model's rows."""
    losses = list(dict.fromkeys(column for per in worst.values() for column in per))
    for column in losses:
        table = Table()
        with_models = list(worst) != [None]
        if with_models:
            table.add_column("model", style="bold", overflow="fold")
        table.add_column(ROW_HEADER, justify="right", style="dim")
        table.add_column(f"{column}", justify="right")
        table.add_column("prediction", justify="right", overflow="fold")
        table.add_column("label", justify="right", overflow="fold")
        weighted = any(r.weight is not None for per in worst.values() for r in per.get(column, []))
        if weighted:
            table.add_column("weight", justify="right")
        for model, per in worst.items():
            for i, row in enumerate(per.get(column, [])):
                cells = [names(model) if i == 0 else ""] if with_models else []
                cells += [
                    str(row.index + 1),
                    f"{row.loss:.6g}",
                    _row_values_text(row.pred),
                    _row_values_text(row.label),
                ]
                cells += [f"{row.weight:.4g}"] if weighted else []
                table.add_row(*cells)
        console.print(Text(f"Worst rows under {column} (the loss of each row alone)", style="italic"))
        fit_widths(console, table)
        console.print(table)


def write_slices_csv(out: TextIO, result: ComputeResult | Comparison) -> None:
    """``--by`` as CSV: a line per slice (compute) or per slice and model (compare), the slice columns first."""
    writer = csv.writer(out, lineterminator="\n")
    keys = result.slicing.columns
    compared = isinstance(result, Comparison)
    losses = result.losses if compared else [result.loss]
    intervals = [f"{loss}_ci_{end}" for loss in losses for end in ("low", "high")] if result.statistics else []
    writer.writerow([*keys, "n", *(["pred", "name"] if compared else []), *losses, *intervals])
    for row in result.slices:
        for model in result.ordered_models() if compared else [None]:
            values = row.values[model] if compared else row.values
            cis = (row.ci[model] if compared else row.ci) if row.ci is not None else {}
            found = []
            for loss in losses if intervals else []:
                found += list(cis.get(loss) or (None, None))
            writer.writerow(
                [
                    *("" if row.key[k] is None else row.key[k] for k in keys),
                    row.n,
                    *([model, result.names.get(model, model)] if compared else []),
                    *("" if values[loss] is None else repr(values[loss]) for loss in losses),
                    *("" if v is None else repr(v) for v in found),
                ]
            )


def write_compute_csv(out: TextIO, result: ComputeResult) -> None:
    """Tidy CSV: ``quantity,index,value`` rows for the value(s) and every gradient element."""
    if result.slices is not None:
        write_slices_csv(out, result)
        return
    out.write("quantity,index,value\n")
    if result.values is not None:
        textout.write_long_csv(out, "values", result.values)
    else:
        out.write(f"value,,{result.value}\n")
    if result.ci is not None:
        out.write(f"ci,0,{result.ci[0]!r}\nci,1,{result.ci[1]!r}\n")
    for name, grad in result.gradients.items():
        textout.write_long_csv(out, f"grad_{name}", grad.values)


def print_compute(result: ComputeResult, format_: str, rows: int) -> None:
    if format_ == "json":
        arrays: dict[str, np.ndarray] = {}
        textout.write_json(sys.stdout, compute_dict(result, arrays), arrays)
    elif format_ == "csv":
        write_compute_csv(sys.stdout, result)
    elif format_ == "value":  # `x=$(losscli compute … -f value)`: the reduced value and nothing else
        print(result.value)
    else:
        compute_table(result, rows, stdout())
    print_warnings(result.warnings)


def html_table(rows: list[tuple[str, Any]]) -> str:
    """Name/value rows as a small HTML table, for results shown in Jupyter."""
    from html import escape

    left = "style='text-align:left'"
    cells = "".join(
        f"<tr><th {left}>{escape(str(name))}</th><td {left}>{escape(str(value))}</td></tr>" for name, value in rows
    )
    return f"<table>{cells}</table>"


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
    console = stdout()
    console.print(terminal.counted(len(rows), "loss", "losses"))
    table = Table()
    for header in ("name (aliases)", "torch class", "family", "inputs"):
        table.add_column(header)
    for row in rows:
        name = Text(row["name"], style="bold cyan")
        aliases = _aliases(row)
        if aliases:
            name.append("\n" + ", ".join(aliases), style="dim")
        table.add_row(name, row["torch_name"] or "—", row["family"], ", ".join(row["inputs"]))
    if fit_widths(console, table):
        console.print(table)
        return
    for row in rows:  # too narrow for the table: a block per loss
        head = Text.assemble((row["name"], "bold cyan"), "  ", row["torch_name"] or "—")
        console.print(head)
        console.print(Padding(Text(f"{row['family']}; inputs: {', '.join(row['inputs'])}"), (0, 0, 0, 2)))
        aliases = _aliases(row)
        if aliases:
            console.print(Padding(Text("aliases: " + ", ".join(aliases), style="dim"), (0, 0, 0, 2)))


def _aliases(row: dict[str, Any]) -> list[str]:
    """A loss's aliases but its torch class, which has a column of its own."""
    return [a for a in row["aliases"] if a != row["torch_name"]]


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


_SHELL_WORD = re.compile(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""")
"""A word of a shell command line: quoted parts and escaped characters stay in it."""


def command_lines(command: str, width: int) -> list[str]:
    """A shell command cut at spaces into lines of at most ``width`` cells, each but the last ending in
    `` \\`` (the shell's line continuation), so that the lines still paste as one command. An option and
    its value stay on one line; a word longer than a line has a line of its own."""
    groups: list[str] = []
    for word in _SHELL_WORD.findall(command):
        if groups and groups[-1].startswith("-") and " " not in groups[-1] and not word.startswith("-"):
            groups[-1] += " " + word
        else:
            groups.append(word)
    lines = groups[:1] or [""]
    for group in groups[1:]:
        if cell_len(f"{lines[-1]} {group} \\") > width:
            lines[-1] += " \\"
            lines.append("    " + group)
        else:
            lines[-1] += " " + group
    return lines


def print_command(console: Console, command: str, indent: int) -> None:
    """``$ command``, indented, cut into lines that fit the console (``command_lines``)."""
    for line in command_lines("$ " + command, console.width - indent):
        console.print(Text(" " * indent + line, style="green"), soft_wrap=True)


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
        evidence.add_row(name, Text(text))
    fit_widths(console, evidence)
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
        print_command(console, r.command, indent=3)
    else:
        console.print(Padding(Text.assemble(("fix: ", "bold yellow"), r.fix or ""), (0, 0, 0, 3)))


def comparison_dict(result: Comparison) -> dict[str, Any]:
    rows = []
    for model in result.ordered_models():
        row: dict[str, Any] = {"pred": model, "name": result.names.get(model, model), "values": result.values[model]}
        if result.baseline is not None:
            row["change_pct"] = result.change[model]
        if model in result.errors:
            row["errors"] = result.errors[model]
        rows.append(row)
    return {
        "labels": result.labels,
        "losses": result.losses,
        "loss_names": result.loss_names,
        "params": result.params,
        "rows": rows,
        "best": result.best,
        "baseline": result.baseline,
        "disagreements": result.disagreements,
        "failed": [model for model in result.models if model in result.errors],
        "reasons": result.reasons,
        "warnings": result.warnings,
        **statistics_dict(
            result.statistics,
            {
                "ci": {m: {k: None if v is None else list(v) for k, v in c.items()} for m, c in result.ci.items()},
                "differences": {
                    m: {k: None if d is None else d.to_dict() for k, d in per.items()}
                    for m, per in result.differences.items()
                },
                "alternative": result.alternative,
            },
        ),
        **gates_dict(result),
        **rows_dict(result),
    }


def print_comparison(result: Comparison, format_: str) -> None:
    models = result.ordered_models()
    if format_ == "json":
        print(textout.dumps(comparison_dict(result)))
    elif format_ == "csv" and result.slices is not None:
        write_slices_csv(sys.stdout, result)
    elif format_ == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        changes = [f"{loss}_change_pct" for loss in result.losses] if result.baseline is not None else []
        intervals = []
        if result.statistics is not None:
            for loss in result.losses:
                intervals += [f"{loss}_ci_low", f"{loss}_ci_high", f"{loss}_delta", f"{loss}_p_adjusted"]
        writer.writerow(["pred", "name", *result.losses, *changes, *intervals])
        for model in models:
            values = [result.values[model][loss] for loss in result.losses]
            extra = [result.change[model][loss] for loss in result.losses] if changes else []
            found: list[float | None] = []
            if intervals:
                for loss in result.losses:
                    ci, difference = result.ci[model][loss], result.differences[model][loss]
                    found += list(ci) if ci is not None else [None, None]
                    found += [difference.delta, difference.p_adjusted] if difference is not None else [None, None]
            writer.writerow(
                [
                    model,
                    result.names.get(model, model),
                    *("" if v is None else repr(v) for v in values),
                    *("" if v is None else f"{v:.4g}" for v in extra),
                    *("" if v is None else repr(v) for v in found),
                ]
            )
        print(out.getvalue(), end="")
    else:
        comparison_table(result, models, stdout())
    print_warnings(result.warnings)


def _column_header(result: Comparison, column: str) -> str:
    """A loss column's header: the loss, and under it the parameters of that column."""
    loss, _, settings = column.partition(":")
    params = result.params.get(column) or {}
    lines = [loss, *(settings.split(":") if settings else [])]
    given = {line.partition("=")[0] for line in lines[1:]}
    lines += [f"{k}={_param_text(v)}" for k, v in params.items() if k not in given]
    return "\n".join(lines)


def _param_text(value: Any) -> str:
    """A parameter as a header shows it: a float to 4 significant digits (JSON's params hold it exactly)."""
    return f"{value:.4g}" if isinstance(value, float) else json.dumps(value)


def _comparison_cell(result: Comparison, model: str, column: str) -> Text:
    if column in result.errors.get(model, {}):
        return Text("error", style="bold red")
    value = result.values[model][column]
    best = result.best[column] == model
    interval = result.ci.get(model, {}).get(column) if result.statistics is not None else None
    text = Text(f"{value:.4g}" if interval else f"{value:.6g}", style="bold green" if best else "")
    if interval is not None:
        text.append(f" [{interval[0]:.3g}, {interval[1]:.3g}]")
    if result.baseline is not None and model != result.baseline:
        change = result.change[model][column]
        if change is not None:
            text.append(f" ({change:+.1f}%)", style="dim")
    difference = result.differences.get(model, {}).get(column) if result.statistics is not None else None
    if difference is not None and difference.significant:
        text.append(f" {SIGNIFICANT}", style="bold yellow")
    if best:
        text.append(" *", style="bold green")
    return text


SIGNIFICANT = "†"
"""The marker of a difference significant at the level of ``--ci``."""


def significance_note(result: Comparison) -> str:
    """What the intervals and the marker of significant differences mean."""
    statistics = result.statistics
    test = "Poisson bootstrap" if statistics.bootstrap else "paired t test"
    alpha = f"{1 - statistics.level:.3g}"
    if result.alternative == "less":
        claim = f"lower than the baseline ({test}, one-sided, Holm-adjusted p < {alpha})"
    else:
        claim = f"differs from its column's best model ({test}, two-sided, Holm-adjusted p < {alpha})"
    return f"[lo, hi]: {interval_text(statistics)}; {SIGNIFICANT} {claim}"


def _build_comparison(result: Comparison, models: list[str], columns: list[str]) -> Table:
    table = Table()
    table.add_column("model", style="bold", overflow="fold")  # a name longer than the column goes on below
    for column in columns:
        table.add_column(_column_header(result, column), justify="right")
    for model in models:
        name = Text(result.names.get(model, model))
        if model == result.baseline:
            name.append(" (baseline)", style="dim")
        table.add_row(name, *(_comparison_cell(result, model, column) for column in columns))
    return table


def comparison_table(result: Comparison, models: list[str], console: Console) -> None:
    """The models × losses table, as many loss columns as fit whole (numbers are never cut), then its notes."""
    shown = list(result.losses)
    table = _build_comparison(result, models, shown)
    while not fit_widths(console, table) and len(shown) > 1:
        shown.pop()
        table = _build_comparison(result, models, shown)
    notes = ["* best in its column"]
    if result.statistics is not None:
        notes.append(significance_note(result))
    hidden = result.losses[len(shown) :]
    if hidden:
        columns = terminal.counted(len(hidden), "loss column")
        notes.append(f"{columns} not shown for want of width ({', '.join(hidden)}); -f json has all")
    if result.errors:
        notes.append("error: no value, the reason is on stderr")
    console.print(Text(f"Losses against {result.labels} (lower is better)", style="italic"))
    console.print(table)
    console.print(Text("; ".join(notes), style="dim"))
    renamed = [model for model in models if result.names.get(model, model) != model]
    if renamed:
        files = Table(show_header=False, box=None, pad_edge=False)
        files.add_column(style="bold", no_wrap=True)
        files.add_column(overflow="fold")  # a path too long for the line goes on over the next, whole
        for model in renamed:
            files.add_row(result.names[model], model)
        console.print(files)
    for loss, reason in result.reasons.items():  # why each default loss is a column
        console.print(Text.assemble(f"{loss}: ", reason, style="dim"))
    note = describe_disagreement(result)
    if note:
        console.print(note, highlight=False)
    if result.sample_weight is not None:
        console.print(Text(f"weights: {result.sample_weight} (--sample-weight): Σ wᵢℓᵢ / Σ wᵢ", style="dim"))
    if result.engine is not None:
        console.print(Text(f"engine: {engine_text(result.engine)}", style="dim"))
    if result.slices is not None:
        for column in result.losses:
            console.print()
            print_slices(console, result, column)
    if result.worst is not None:
        console.print()
        print_worst(console, result.worst, "", lambda m: result.names.get(m, m))


def describe_disagreement(result: Comparison) -> str | None:
    """One sentence on why the losses prefer different models."""
    if not result.disagreements:
        return None
    parts = [
        f"{', '.join(losses)} {'prefers' if len(losses) == 1 else 'prefer'} {result.names.get(model, model)}"
        for model, losses in result.disagreements.items()
    ]

    def preferred(losses: set[str]) -> set[str | None]:
        return {result.best[c] for c in result.losses if result.loss_names.get(c, c) in losses}

    squared, robust = preferred({"mse", "l2"}), preferred({"l1", "smooth_l1", "huber"})
    why = ""
    if squared and robust and squared != robust:  # squared and robust errors prefer different models
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


def _plain_table(headers: list[str], rows: list[list[str | Text]]) -> Table:
    """A table of text cells, no markup read in them (a ``[0, 1]`` is a range, not a style)."""
    table = Table()
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
    return table


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
    console.print("\n[bold]Inputs[/]")
    headers = ["argument", "given as", "shape", "dtype", "meaning"]
    rows: list[list[str | Text]] = [
        [
            r["name"],
            r["given_as"],
            r["shape"],
            r["dtype"],
            r["description"] + (f" (default: {r['default']})" * bool(r["default"])),
        ]
        for r in data["inputs"]
    ]
    print_table(console, _plain_table(headers, rows), headers, rows)
    console.print("\n[bold]Parameters[/] (-p NAME=VALUE)")
    headers = ["name", "default", "meaning"]
    rows = [
        [p.name, json.dumps(p.default), p.doc + (f" ({' | '.join(p.choices)})" * bool(p.choices))] for p in spec.params
    ]
    rows.append(["--reduction", spec.default_reduction, " | ".join(spec.reductions)])
    print_table(console, _plain_table(headers, rows), headers, rows)
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


def curves_dict(drawn: list[Curve]) -> dict[str, Any]:
    """The SPEC's curve JSON: the first curve's keys, and every curve under ``curves``."""
    data = curve_dict(drawn[0])
    data["curves"] = [curve_dict(c) for c in drawn]
    return data


def print_curves(drawn: list[Curve], format_: str, *, grad: bool = False) -> None:
    if format_ == "json":
        print(textout.dumps(curves_dict(drawn)))
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
