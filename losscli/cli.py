"""The command line: parse options, call the core, render, and map errors to exit codes.

Importing this module must stay cheap: torch and pandas load only inside the
commands that need them.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup, TyperOption

from losscli import __version__, process, terminal
from losscli.errors import LossCliError, UsageError
from losscli.outfiles import check_output
from losscli.params import check_reduction, parse_inputs, parse_params
from losscli.registry import get_loss, list_losses


def _setting(name: str) -> Callable[[Any, Any, Any], None]:
    def store(ctx: Any, param: Any, value: Any) -> None:
        if value is None:
            return
        if name == "color" and value not in terminal.COLOR_MODES:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(terminal.COLOR_MODES)}.")
        setattr(terminal.settings, name, value)

    return store


def output_options() -> list[TyperOption]:
    """The options every command takes for how it talks to people: colour, warnings."""
    return [
        TyperOption(
            param_decls=["--color", "--colour"],
            default=None,
            metavar="auto|always|never",
            callback=_setting("color"),
            expose_value=False,
            help="Colour: on a terminal unless NO_COLOR is set (auto), always, or never.",
            rich_help_panel=OUTPUT_PANEL,
        ),
        TyperOption(
            param_decls=["-q", "--quiet"],
            is_flag=True,
            default=None,
            callback=_setting("quiet"),
            expose_value=False,
            help="No Warning: lines on stderr (JSON still lists them under \"warnings\").",
            rich_help_panel=OUTPUT_PANEL,
        ),
        TyperOption(
            param_decls=["--strict"],
            is_flag=True,
            default=None,
            callback=_setting("strict"),
            expose_value=False,
            help="Any warning makes the command exit 3 (for CI), after printing its result.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ]


class LossCliGroup(TyperGroup):
    """Turns every failure into one ``Error:`` line on stderr and the SPEC's exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            command.params.extend(output_options())

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args
        args = [a for a in args if a != "--debug"]
        standalone = extra.pop("standalone_mode", True)
        with process.handling_signals(), process.one_line_warnings():
            code = self.run(args, prog_name or "losscli", debug, **extra)
        if standalone:
            sys.exit(code or 0)
        return code

    def run(self, args: list[str], prog_name: str, debug: bool, **extra: Any) -> Any:
        """The command's exit code, or its failure reported by ``fail``."""
        terminal.configure()
        try:
            code = super().main(args, prog_name=prog_name, standalone_mode=False, **extra)
            stopped = process.interrupted()
            if stopped is not None:  # a signal whose exception something on the way swallowed
                raise stopped
            sys.stdout.flush()  # a full disk under a redirection fails this command, not the exit
            warned = terminal.settings.warned
            if terminal.settings.strict and warned and not code:
                s = "" if len(warned) == 1 else "s"
                fail(f"--strict: the command gave {len(warned)} warning{s}; exit 3", 3)
            return code
        except process.Interrupted as e:
            fail(str(e), e.exit_code)
        except process.OutputClosed:  # `| head -1`: the reader has all it wanted
            return 0
        except typer.TyperException as e:  # Click's usage errors: unknown command, option, value
            ctx = getattr(e, "ctx", None)
            command = ctx.command_path if ctx is not None else "losscli"
            message = e.format_message()
            if not message:  # no arguments: the help was shown
                sys.exit(getattr(e, "exit_code", 2))
            fail(f"{message} (see '{command} --help')", getattr(e, "exit_code", 2))
        except typer.Abort:
            fail("aborted", 1)
        except LossCliError as e:
            if debug:
                traceback.print_exc()
            fail(str(e), e.exit_code)
        except Exception as e:
            if debug:
                traceback.print_exc()
            fail(f"unexpected {type(e).__name__}: {e}; rerun with --debug for a traceback and report it", 1)


def fail(message: str, code: int) -> NoReturn:
    """Print one ``Error:`` line on stderr (after what stdout holds) and exit with ``code``.

    If a stopping signal came, that is what ended the command, whatever else
    failed on the way: it is reported instead.
    """
    stopped = process.interrupted()
    if stopped is not None:  # no flush: stdout may be a pipe that no one reads any more
        message, code = str(stopped), stopped.exit_code
    else:
        with contextlib.suppress(OSError, LossCliError, process.OutputClosed):  # the error to report is this one
            sys.stdout.flush()
    with contextlib.suppress(OSError):  # a terminal that hung up: the exit code still tells
        print(f"Error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(code)


OUTPUT_PANEL = "Output"

app = typer.Typer(
    cls=LossCliGroup,
    name="losscli",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Compute, compare and recommend loss functions for predictions and labels in files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Reduction(StrEnum):
    mean = "mean"
    sum = "sum"
    none = "none"
    batchmean = "batchmean"


class DType(StrEnum):
    float32 = "float32"
    float64 = "float64"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output: a Rich table, JSON or CSV.")]
DTypeOption = Annotated[DType, typer.Option(help="Floating-point precision of the computation.")]
LabelColOption = Annotated[
    list[str] | None, typer.Option(metavar="COL", help="Label column(s) by name or 0-based index.")
]
LabelKeyOption = Annotated[str | None, typer.Option(metavar="NAME", help="Array name inside a labels .npz file.")]
HeaderOption = Annotated[
    bool | None,
    typer.Option(
        "--header/--no-header",
        help="Text inputs: the first line is a header / is data (default: decided by what it holds).",
        show_default=False,
    ),
]
ParamsOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", metavar="KEY=VALUE", help="Parameter for the losses that take it (JSON value)."),
]


def _print_version(value: bool) -> None:
    if value:
        print(f"losscli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show a Python traceback when a command fails.")] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Compute, compare and recommend loss functions for predictions and labels in files."""


@app.command("list")
def list_command(
    pattern: Annotated[
        str | None, typer.Argument(metavar="[PATTERN]", help="Glob on names and aliases, e.g. 'bce*'.")
    ] = None,
    family: Annotated[
        str | None, typer.Option(metavar="FAMILY", help="Only this task family, e.g. regression.")
    ] = None,
    format_: FormatOption = Format.table,
) -> None:
    """List every registered loss with its aliases, torch class, family and inputs."""
    from losscli import render
    from losscli.registry import FAMILIES

    if family is not None and family not in FAMILIES:
        raise UsageError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    render.print_list(list_losses(family, pattern), format_.value)


@app.command()
def info(
    loss: Annotated[str, typer.Argument(metavar="LOSS", help="Loss name or alias.")],
    format_: FormatOption = Format.table,
) -> None:
    """Explain one loss: formula, inputs, parameters, when to use it, its source."""
    from losscli import render

    render.print_info(get_loss(loss), format_.value)


GRADIENT_SUFFIXES = (".npy", ".npz", ".csv")
"""The files ``--grad-out`` writes."""

MEMORY_BUDGET = 1 << 30
"""Input files larger than this together are read a chunk at a time, for losses that allow it."""


def exceeds_memory_budget(paths: list[str | None]) -> bool:
    sizes = [os.path.getsize(p) for p in paths if p not in (None, "-") and os.path.isfile(p)]
    return sum(sizes) > MEMORY_BUDGET


def read_while_importing(gather: Any, spec: Any, pred: str, labels: str | None, paths: list, **files: Any) -> Any:
    """``gather(...)``'s inputs, read while torch imports: large text files in a forked parser, else a thread."""
    from losscli import forkread

    reader = forkread.start(paths, files["dtype"], files["header"])
    if reader is not None:
        with reader:  # stops the parser if anything (a signal) comes first
            import_engine()
            preloaded = reader()
        return gather(spec, pred, labels, preloaded=preloaded, **files)
    with in_background(gather, spec, pred, labels, **files) as pending:
        import_engine()
        return pending.result()


@contextlib.contextmanager
def in_background(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[Future]:
    """``function(*args, **kwargs)`` running in a thread while the block runs.

    If the block fails (a signal, a failed import) the thread is not waited
    for: it may be reading a standard input that never ends.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        yield pool.submit(function, *args, **kwargs)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def import_engine() -> None:
    """Import ``losscli.engine`` and with it torch, with the garbage collector paused.

    Importing torch creates hundreds of thousands of objects; collecting them
    while they are made costs about a tenth of a second and frees nothing.
    They are frozen (left out of later collections) once imported.
    """
    gc.disable()
    try:
        import losscli.engine  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()


@app.command()
def compute(
    loss: Annotated[str, typer.Argument(metavar="LOSS", help="Loss name or alias, e.g. mse, ce, BCEWithLogitsLoss.")],
    pred: Annotated[
        str,
        typer.Argument(metavar="PRED", help="Predictions file (.csv .tsv .txt .npy .npz .parquet, or - for stdin)."),
    ],
    labels: Annotated[
        str | None,
        typer.Argument(metavar="LABELS", help="Labels file; omit it to take labels from PRED with --label-col."),
    ] = None,
    param: ParamsOption = None,
    reduction: Annotated[Reduction | None, typer.Option(help="Reduction; default: the loss's torch default.")] = None,
    grad: Annotated[bool, typer.Option("--grad/--no-grad", help="Compute gradients with autograd.")] = True,
    rows: Annotated[
        int, typer.Option(min=0, metavar="N", help="Rows of per-sample values and gradients shown in the table.")
    ] = 10,
    grad_out: Annotated[
        str | None, typer.Option(metavar="PATH", help="Write the full gradient to a .npy, .npz or .csv file.")
    ] = None,
    input_: Annotated[
        list[str] | None,
        typer.Option("--input", metavar="NAME=PATH", help="Further loss input NAME=PATH, e.g. input2=b.csv."),
    ] = None,
    dtype: DTypeOption = DType.float32,
    pred_col: Annotated[
        list[str] | None, typer.Option(metavar="COL", help="Prediction column(s) by name or 0-based index.")
    ] = None,
    label_col: LabelColOption = None,
    pred_key: Annotated[str | None, typer.Option(metavar="NAME", help="Array name inside a PRED .npz file.")] = None,
    label_key: LabelKeyOption = None,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Compute N rows at a time (losses that decompose over samples; the table does 1000000 anyway).",
        ),
    ] = None,
    header: HeaderOption = None,
    format_: FormatOption = Format.table,
) -> None:
    """Compute a loss's value and its gradient for predictions and labels in files."""
    spec = get_loss(loss)
    params = parse_params(spec, param or [])
    chosen_reduction = check_reduction(spec, reduction.value if reduction else None)
    extra = parse_inputs(spec, input_ or [])
    inputs = {"PRED": pred, "LABELS": labels, **{f"--input {name}": path for name, path in extra.items()}}
    grad_path = None
    if grad_out is not None:  # refused now rather than after the whole computation
        grad_path = check_output("--grad-out", grad_out, GRADIENT_SUFFIXES, "grad.npy", inputs)
        if not grad:
            raise UsageError("--grad-out needs gradients: drop --no-grad")
    from losscli.inputs import gather_inputs, stream_inputs
    from losscli.loading import split_column_options

    files = dict(
        extra=extra,
        pred_cols=split_column_options(pred_col),
        label_cols=split_column_options(label_col),
        pred_key=pred_key,
        label_key=label_key,
        dtype=dtype.value,
        header=header,
    )
    keep_rows = rows if format_ is Format.table and grad_out is None else None
    paths = [pred, labels, *extra.values()]
    if spec.decomposition is not None and (chunk_size is not None or exceeds_memory_budget(paths)):
        import_engine()
        from losscli import render
        from losscli.chunked import DEFAULT_CHUNK_ROWS, stream

        chunks, notes = stream_inputs(spec, pred, labels, chunk_rows=chunk_size or DEFAULT_CHUNK_ROWS, **files)
        with render.row_progress(f"{spec.name}: rows read") as progress:
            result = stream(
                spec,
                chunks,
                params,
                chosen_reduction,
                grad=grad,
                dtype=dtype.value,
                keep_rows=keep_rows,
                progress=progress,
            )
    else:
        data, notes = read_while_importing(gather_inputs, spec, pred, labels, paths, **files)
        from losscli import render
        from losscli.chunked import evaluate

        result = evaluate(
            spec,
            data,
            params,
            chosen_reduction,
            grad=grad,
            dtype=dtype.value,
            chunk_rows=chunk_size,
            keep_rows=keep_rows,
        )
    result.warnings[:0] = notes
    if grad_path is not None:
        render.write_gradients(grad_path, result.gradients)
    render.print_compute(result, format_.value, rows)


@app.command()
def compare(
    preds: Annotated[list[str], typer.Argument(metavar="PRED...", help="Prediction files, one per model.")],
    labels: Annotated[str | None, typer.Option(metavar="PATH", help="Labels file shared by every model.")] = None,
    loss: Annotated[
        list[str] | None,
        typer.Option(
            "--loss", "-l", metavar="LOSS", help="Loss(es), repeatable or comma-separated; default: recommended."
        ),
    ] = None,
    param: ParamsOption = None,
    sort: Annotated[str | None, typer.Option(metavar="LOSS", help="Order the rows by this loss, best first.")] = None,
    baseline: Annotated[
        str | None, typer.Option(metavar="PATH", help="Show each model's change against this one, in percent.")
    ] = None,
    dtype: DTypeOption = DType.float32,
    pred_col: Annotated[
        list[str] | None, typer.Option(metavar="COL", help="Prediction column(s); without --labels, one model each.")
    ] = None,
    label_col: LabelColOption = None,
    pred_key: Annotated[str | None, typer.Option(metavar="NAME", help="Array name inside PRED .npz files.")] = None,
    label_key: LabelKeyOption = None,
    header: HeaderOption = None,
    format_: FormatOption = Format.table,
) -> None:
    """Compare models' predictions against one label file under several losses."""
    from losscli.loading import split_column_options

    names = split_column_options(loss)
    specs = list({spec.name: spec for spec in map(get_loss, names or [])}.values())
    sort_loss = get_loss(sort).name if sort else None
    from losscli.inputs import gather_compare_inputs

    with in_background(  # read the files while torch imports
        gather_compare_inputs,
        preds,
        labels,
        label_cols=split_column_options(label_col),
        pred_cols=split_column_options(pred_col),
        label_key=label_key,
        pred_key=pred_key,
        baseline=baseline,
        header=header,
    ) as pending:
        import_engine()
        label_input, models, notes = pending.result()
    from losscli import comparison, render

    reasons: dict[str, str] = {}
    if specs:
        per_loss = comparison.split_params(specs, param or [])
        losses = [(spec, per_loss.get(spec.name, {})) for spec in specs]
    else:
        losses, reasons = comparison.default_losses(label_input, models, param or [])
    if sort_loss is not None and sort_loss not in [spec.name for spec, _ in losses]:
        raise UsageError(f"--sort {sort}: not among the compared losses ({', '.join(s.name for s, _ in losses)})")
    result = comparison.compare(label_input, models, losses, baseline=baseline, dtype=dtype.value, reasons=reasons)
    result.warnings[:0] = notes
    render.print_comparison(result, format_.value, sort_loss)


def compute_arguments(
    labels: str | None,
    pred: str | None,
    label_input: Any,
    label_cols: list[str] | None,
    pred_cols: list[str] | None,
    label_key: str | None,
    pred_key: str | None,
) -> list[str]:
    """The files and options a ``compute`` command needs to read what ``recommend`` read."""
    if labels is not None and pred is None and pred_cols:  # one file: labels and predictions side by side
        columns = label_input.columns or label_cols
        return [labels, "--label-col", ",".join(columns), "--pred-col", ",".join(pred_cols)]
    arguments = [pred or "PRED", labels or "LABELS"]
    for option, value in (
        ("--pred-col", pred_cols and ",".join(pred_cols)),
        ("--label-col", label_cols and ",".join(label_cols)),
        ("--pred-key", pred_key),
        ("--label-key", label_key),
    ):
        if value:
            arguments += [option, value]
    return arguments


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or not all(math.isfinite(v) for v in values):
        raise UsageError(f"{option} {text!r}: expected finite numbers separated by commas")
    return values


def _quantiles(text: str) -> list[float]:
    values = _floats(text, "--quantiles")
    if not all(0 < q < 1 for q in values):
        raise UsageError(f"--quantiles {text!r}: quantiles lie strictly between 0 and 1, e.g. 0.1,0.5,0.9")
    return values


def _span(text: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(":")
    try:
        span = float(lo), float(hi)
    except ValueError:
        span = None
    if not sep or span is None or not all(map(math.isfinite, span)) or not span[0] < span[1]:
        raise UsageError(f"--range {text!r}: expected LO:HI with LO < HI, e.g. --range -3:3")
    return span


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 50 or int(height) < 50:
        raise UsageError(f"--size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. --size 800x500")
    return int(width), int(height)


@app.command()
def curve(
    losses: Annotated[str, typer.Argument(metavar="LOSS[,LOSS...]", help="Loss name(s) to draw, comma-separated.")],
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", metavar="Y[,Y...]", help="Target value(s); default: a typical one per loss."),
    ] = None,
    range_: Annotated[
        str | None,
        typer.Option("--range", metavar="LO:HI", help="x range; default: per loss (e.g. 0:1 for probabilities)."),
    ] = None,
    points: Annotated[int, typer.Option(min=2, max=100_000, metavar="N", help="Points per curve.")] = 200,
    grad: Annotated[bool, typer.Option("--grad/--no-grad", help="Also draw the derivative d loss / d x.")] = False,
    param: ParamsOption = None,
    classes: Annotated[int, typer.Option(min=2, metavar="C", help="Classes for class losses.")] = 3,
    out: Annotated[
        str | None, typer.Option(metavar="FILE", help="Also write the plot as an image: .png or .svg.")
    ] = None,
    size: Annotated[str, typer.Option(metavar="WxH", help="Image size in pixels for --out.")] = "800x500",
    format_: FormatOption = Format.table,
) -> None:
    """Draw losses against one prediction for fixed targets, as the article's figures do."""
    from losscli.loading import split_column_options

    specs = list({spec.name: spec for spec in map(get_loss, split_column_options([losses]) or [])}.values())
    if not specs:
        raise UsageError("name at least one loss, e.g. losscli curve bce --target 1,0")
    targets: list[float | None] = list(_floats(target, "--target")) if target else [None]
    span = _span(range_) if range_ else None
    pixels = _size(size)
    image = None if out is None else check_output("--out", out, (".png", ".svg"), "curve.png", inputs={})
    import_engine()
    from losscli import comparison, curves, render

    per_loss = comparison.split_params(specs, param or [])
    drawn = [
        curves.draw(spec, y, span=span, points=points, params=per_loss.get(spec.name, {}), n_classes=classes)
        for spec in specs
        for y in targets
    ]
    if image is not None:
        render.write_curve_image(image, drawn, grad=grad, size=pixels)
    render.print_curves(drawn, format_.value, grad=grad)


class LabelType(StrEnum):
    continuous = "continuous"
    bounded = "bounded"
    binary = "binary"
    multiclass = "multiclass"
    onehot = "onehot"
    multilabel = "multilabel"
    signed = "signed"
    distribution = "distribution"
    count = "count"


@app.command()
def recommend(
    labels: Annotated[
        str | None,
        typer.Argument(metavar="LABELS", help="Labels file (.csv .tsv .txt .npy .npz .parquet, or - for stdin)."),
    ] = None,
    label_type: Annotated[
        LabelType | None, typer.Option(help="Skip the inspection: the labels are of this type.")
    ] = None,
    pred: Annotated[
        str | None, typer.Option(metavar="PATH", help="Predictions file: say what they look like and check them.")
    ] = None,
    loss: Annotated[
        str | None, typer.Option("--loss", "-l", metavar="LOSS", help="Check this loss instead of the top one.")
    ] = None,
    quantiles: Annotated[
        str | None,
        typer.Option(metavar="Q[,Q...]", help="You want these quantiles, not the mean: recommend pinball first."),
    ] = None,
    pred_col: Annotated[
        list[str] | None, typer.Option(metavar="COL", help="Prediction column(s); without --pred, of LABELS' file.")
    ] = None,
    label_col: LabelColOption = None,
    pred_key: Annotated[str | None, typer.Option(metavar="NAME", help="Array name inside a --pred .npz file.")] = None,
    label_key: LabelKeyOption = None,
    header: HeaderOption = None,
    format_: FormatOption = Format.table,
) -> None:
    """Infer the label type and recommend losses, warning about classic mistakes."""
    if labels is None and label_type is None:
        raise UsageError("give LABELS to inspect, or --label-type TYPE")
    if loss is not None:
        get_loss(loss)
    from losscli import advisor, render
    from losscli.inputs import gather_advice_inputs
    from losscli.loading import split_column_options

    label_cols, pred_cols = split_column_options(label_col), split_column_options(pred_col)
    label_input, pred_input, notes = gather_advice_inputs(
        labels,
        pred,
        label_cols=label_cols,
        pred_cols=pred_cols,
        label_key=label_key,
        pred_key=pred_key,
        header=header,
    )
    y = label_input.array if label_input is not None else None
    profile = advisor.profile_for_type(label_type.value) if label_type else advisor.infer_label_type(y)
    advice = advisor.advise(
        profile,
        labels=label_input,
        pred=pred_input,
        arguments=compute_arguments(labels, pred, label_input, label_cols, pred_cols, label_key, pred_key),
        check_loss=loss,
        quantiles=_quantiles(quantiles) if quantiles else None,
    )
    advice.warnings[:0] = notes
    render.print_advice(advice, format_.value)


def main() -> None:
    """Console-script entry point: run, flush every byte, and leave without interpreter teardown.

    Tearing down after torch (and pyarrow's thread pool) costs about a second
    and can abort in a C++ destructor; once the output is flushed and files
    are closed there is nothing left to do, so ``os._exit`` skips it. Nothing
    that matters is left for the teardown: a command removes its temporary
    files and stops its forked parser on its way out (``finally`` blocks and
    ``process.Cleanup``), spill files have no name to remove, and losscli
    registers no ``atexit`` function.
    """
    process.install_standard_streams()
    process.exit_on_signals()
    try:
        app()
        code: Any = 0
    except SystemExit as e:
        code = e.code
    except process.Interrupted as e:  # one that came while an error was being reported
        code = e.exit_code
    # After a signal, standard output may be a pipe nobody reads any more: what it holds is dropped.
    streams = (sys.stdout, sys.stderr) if process.interrupted() is None else (sys.stderr,)
    for stream in streams:
        with contextlib.suppress(OSError, LossCliError, process.OutputClosed):  # reported already, or no one to tell
            stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


if __name__ == "__main__":
    main()
