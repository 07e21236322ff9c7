"""The command line: parse options, call the core, render, and map errors to exit codes.

Importing this module must stay cheap: torch and pandas load only inside the
commands that need them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import os
import sys
import traceback
import typing
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup, TyperOption

from losscli import __version__, process, terminal
from losscli.completion import (
    complete_color,
    complete_family,
    complete_loss,
    complete_loss_list,
    complete_sort,
    install_completion,
    show_completion,
)
from losscli.errors import LossCliError, UsageError


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
            autocompletion=complete_color,
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
            help='No Warning: lines on stderr (JSON still lists them under "warnings").',
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
            command.params.sort(key=_panel_rank)  # stable: arguments keep their order

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        """Answer a shell's completion request (``_LOSSCLI_COMPLETE`` set by the script) and exit."""
        if os.environ.get(complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()):
            from typer.completion import completion_init

            completion_init()  # Typer's formats for bash, zsh and fish, as its --show-completion scripts expect
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        args = optional_levels(list(sys.argv[1:] if args is None else args))
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
            helping = not args or {"-h", "--help"} & set(args)  # Typer's help pads every line: printed trimmed
            with terminal.trimmed_stdout() if helping else contextlib.nullcontext():
                code = super().main(args, prog_name=prog_name, standalone_mode=False, **extra)
            stopped = process.interrupted()
            if stopped is not None:  # a signal whose exception something on the way swallowed
                raise stopped
            sys.stdout.flush()  # a full disk under a redirection fails this command, not the exit
            warned = terminal.settings.warned
            if terminal.settings.strict and warned and not code:
                fail(f"--strict: the command gave {terminal.counted(len(warned), 'warning')}; exit 3", 3)
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
        print_errors([str(stopped)], flush=False)
        sys.exit(stopped.exit_code)
    print_errors([message])
    sys.exit(code)


def print_errors(messages: list[str], *, flush: bool = True) -> None:
    """``Error:`` lines on stderr, each on one line and once, after what stdout holds (``flush``)."""
    if flush:
        with contextlib.suppress(OSError, LossCliError, process.OutputClosed):  # the error to report is this one
            sys.stdout.flush()
    for message in dict.fromkeys(messages):
        with contextlib.suppress(OSError):  # a terminal that hung up: the exit code still tells
            print(f"Error: {' '.join(str(message).split())}", file=sys.stderr)


INPUTS_PANEL = "Inputs"
LOSS_PANEL = "Loss options"
STATS_PANEL = "Intervals and gates"
ROWS_PANEL = "Slices, worst rows and weights"
ENGINE_PANEL = "Sharded inputs"
OUTPUT_PANEL = "Output"
PANELS = (INPUTS_PANEL, LOSS_PANEL, STATS_PANEL, ROWS_PANEL, ENGINE_PANEL, OUTPUT_PANEL)
"""A command's help lists its options in these panels, in this order (after --help, in "Options")."""


def _panel_rank(param: Any) -> int:
    if not isinstance(param, TyperOption):
        return -1
    panel = getattr(param, "rich_help_panel", None)
    return PANELS.index(panel) if panel in PANELS else len(PANELS)


def examples(*pairs: tuple[str, str | tuple[str, ...]]) -> str:
    """A help epilog: each example's purpose as a comment, then its command on a line of its own.

    A command given in several parts goes on over lines ending in ``\\``, as in a shell, so that every line fits
    in 80 columns.
    """
    from rich.markup import escape

    lines = ["[bold]Examples[/bold] (run from the repository root)"]
    for purpose, command in pairs:
        parts = [command] if isinstance(command, str) else list(command)
        lines += ["", f"[dim]# {escape(purpose)}[/dim]"]
        lines += [
            ("$ " if i == 0 else "    ") + escape(part) + (" \\" if i < len(parts) - 1 else "")
            for i, part in enumerate(parts)
        ]
    return "\n".join(lines)


app = typer.Typer(
    cls=LossCliGroup,
    name="losscli",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Compute, compare and recommend loss functions for predictions and labels in files.",
    no_args_is_help=True,
    add_completion=False,  # main_options declares --install-completion and --show-completion: errors as ours
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


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output: a Rich table, JSON or CSV.", rich_help_panel=OUTPUT_PANEL)
]


NO_SINGLE_VALUE = "-f value prints the reduced value: use --reduction mean or sum, or -f json for all"


class ComputeFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    value = "value"


DTypeOption = Annotated[
    DType, typer.Option(help="Floating-point precision of the computation.", rich_help_panel=LOSS_PANEL)
]
LabelColOption = Annotated[
    list[str] | None,
    typer.Option(metavar="COL", help="Label column(s) by name or 0-based index.", rich_help_panel=INPUTS_PANEL),
]
LabelKeyOption = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Array name inside a labels .npz file.", rich_help_panel=INPUTS_PANEL),
]
HeaderOption = Annotated[
    bool | None,
    typer.Option(
        "--header/--no-header",
        help="Text inputs: the first line is a header / is data (default: decided by what it holds).",
        show_default=False,
        rich_help_panel=INPUTS_PANEL,
    ),
]
ParamsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        metavar="KEY=VALUE",
        help="Parameter for the losses that take it (JSON value).",
        rich_help_panel=LOSS_PANEL,
    ),
]


CiOption = Annotated[
    float | None,
    typer.Option(
        "--ci",
        metavar="[LEVEL]",
        help="Confidence interval of every value at LEVEL (--ci alone: 0.95).",
        rich_help_panel=STATS_PANEL,
    ),
]
CiMethodOption = Annotated[
    str | None,
    typer.Option(
        "--ci-method",
        metavar="t|bootstrap",
        help="t: the (paired) t interval, from sums over the rows (default); bootstrap: a Poisson bootstrap.",
        rich_help_panel=STATS_PANEL,
    ),
]
ResamplesOption = Annotated[
    int | None,
    typer.Option(metavar="B", help="Bootstrap resamples (default 1000).", rich_help_panel=STATS_PANEL),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        metavar="S", help="The bootstrap's seed (default 0: the same intervals every run).", rich_help_panel=STATS_PANEL
    ),
]
FailAboveOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-above",
        metavar="LOSS=VALUE",
        help="Exit 4 if the loss is above VALUE (with --ci: its whole interval); repeatable.",
        rich_help_panel=STATS_PANEL,
    ),
]
FailIfWorseOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-if-worse",
        metavar="LOSS[=PCT]",
        help="Exit 4 if a model's loss is above the baseline's by more than PCT % (default 0; with --ci: "
        "significantly); repeatable.",
        rich_help_panel=STATS_PANEL,
    ),
]
GateOnOption = Annotated[
    str | None,
    typer.Option(
        "--gate-on",
        metavar="point|ci",
        help="Gate on the value itself, or on its interval (default: ci with --ci, else point).",
        rich_help_panel=STATS_PANEL,
    ),
]

ByOption = Annotated[
    list[str] | None,
    typer.Option(
        "--by",
        metavar="COL",
        help="The loss per slice of this column of the labels' file (or of --slices); repeatable: crossed.",
        rich_help_panel=ROWS_PANEL,
    ),
]
SlicesOption = Annotated[
    str | None,
    typer.Option(
        "--slices", metavar="FILE", help="A table of --by columns, one row per sample.", rich_help_panel=ROWS_PANEL
    ),
]
BinsOption = Annotated[
    int,
    typer.Option(
        metavar="K", help="Quantile bins of a numeric --by column of many values.", rich_help_panel=ROWS_PANEL
    ),
]
MinSliceOption = Annotated[
    int,
    typer.Option(
        "--min-slice-size",
        metavar="N",
        help="Leave out slices of fewer rows (and say how many).",
        rich_help_panel=ROWS_PANEL,
    ),
]
ByClassOption = Annotated[
    bool,
    typer.Option("--by-class", help="The loss per class: slice by the class label itself.", rich_help_panel=ROWS_PANEL),
]
WorstOption = Annotated[
    int | None,
    typer.Option(
        "--worst",
        metavar="K",
        help="The K rows of largest loss, with their predictions and labels.",
        rich_help_panel=ROWS_PANEL,
    ),
]
SampleWeightOption = Annotated[
    str | None,
    typer.Option(
        "--sample-weight",
        metavar="COL|PATH",
        help="A weight per row: a column of the labels' file, or a file; the loss is Σ wℓ / Σ w.",
        rich_help_panel=ROWS_PANEL,
    ),
]


def row_request(
    by: list[str] | None,
    slices: str | None,
    bins: int,
    min_slice_size: int,
    by_class: bool,
    worst: int | None,
    sample_weight: str | None,
    format_: str,
) -> Any:
    """The ``RowRequest`` of the row options; ``--worst`` goes to the table and JSON (CSV lines are the
    values, or with ``--by`` the slices)."""
    from losscli.engine.rows import RowRequest
    from losscli.io.loading import split_column_options

    if worst is not None and format_ in ("csv", "value"):
        raise UsageError(f"--worst rows are shown in the table and in -f json, not in -f {format_}")
    if (by or by_class) and format_ == "value":
        raise UsageError("--by gives a value per slice: use the table, -f json or -f csv, not -f value")
    columns = tuple(split_column_options(by) or ())
    return RowRequest(columns, slices, bins, min_slice_size, by_class, worst, sample_weight)


EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        metavar="local|dask",
        help="Run a task per partition of the shards here (local) or on Dask (the default for sharded inputs).",
        rich_help_panel=ENGINE_PANEL,
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="The Dask scheduler (tcp://host:8786, or a scheduler file; else DASK_SCHEDULER_ADDRESS, else a local "
        "cluster).",
        rich_help_panel=ENGINE_PANEL,
    ),
]
SchedulerTimeoutOption = Annotated[
    float,
    typer.Option(
        "--scheduler-timeout",
        metavar="S",
        help="Seconds to reach the scheduler before giving up.",
        rich_help_panel=ENGINE_PANEL,
    ),
]


DEFAULT_CI_LEVEL = "0.95"


def optional_levels(args: list[str]) -> list[str]:
    """``--ci`` without a LEVEL after it becomes ``--ci=0.95``, so that ``--ci PRED…`` reads PRED as a file."""
    out = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        if arg == "--ci" and (i + 1 == len(args) or not _is_number(args[i + 1])):
            arg = f"--ci={DEFAULT_CI_LEVEL}"
        out.append(arg)
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def report_gates(result: Any) -> int:
    """``Gate failed:`` lines on stderr for the checks that failed; the exit code they call for (4, or 0)."""
    from losscli.engine.significance import gate_line

    failed = [gate for gate in result.gates if not gate.passed]
    if failed:
        with contextlib.suppress(OSError, LossCliError, process.OutputClosed):
            sys.stdout.flush()
        for gate in failed:
            with contextlib.suppress(OSError):
                print(f"Gate failed: {gate_line(gate)}", file=sys.stderr)
    return 4 if failed else 0


def _print_version(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        print(f"losscli {__version__}")
        raise typer.Exit()


@app.callback(
    epilog=examples(
        (
            "Which losses suit these labels, and the command to compute each",
            "losscli recommend sample_data/binary_labels.csv",
        ),
        (
            "Mean squared error; predictions and labels are columns of one file",
            "losscli compute mse sample_data/regression.csv --label-col y",
        ),
        (
            "Three models side by side under the recommended losses",
            "losscli compare sample_data/models.csv --label-col y",
        ),
    )
)
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show a Python traceback when a command fails.")] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    install_completion: Annotated[
        bool | None,
        typer.Option(
            "--install-completion",
            callback=install_completion,
            is_eager=True,
            help="Install tab completion for your shell (bash, zsh or fish).",
        ),
    ] = None,
    show_completion: Annotated[
        bool | None,
        typer.Option(
            "--show-completion",
            callback=show_completion,
            is_eager=True,
            help="Print the completion script for your shell, to install it by hand.",
        ),
    ] = None,
) -> None:
    """Compute, compare and recommend loss functions for predictions and labels in files."""


@app.command(
    "list",
    epilog=examples(
        ("Every loss, with its aliases, torch class, family and inputs", "losscli list"),
        ("The segmentation losses", "losscli list --family segmentation"),
        ("Losses whose name or alias matches a glob, as JSON", "losscli list 'bce*' -f json"),
    ),
)
def list_command(
    pattern: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATTERN]", help="Glob on names and aliases, e.g. 'bce*'.", autocompletion=complete_loss
        ),
    ] = None,
    family: Annotated[
        str | None,
        typer.Option(
            metavar="FAMILY",
            help="Only this task family, e.g. regression.",
            autocompletion=complete_family,
            rich_help_panel=LOSS_PANEL,
        ),
    ] = None,
    format_: FormatOption = Format.table,
) -> None:
    """List every registered loss with its aliases, torch class, family and inputs."""
    from losscli import api, render

    render.print_list(api.list_losses(family, pattern), format_.value)


@app.command(
    epilog=examples(
        ("Huber loss: formula, inputs, parameters, when to use it", "losscli info huber"),
        ("The same for a torch class name, as JSON", "losscli info BCEWithLogitsLoss -f json"),
    )
)
def info(
    loss: Annotated[str, typer.Argument(metavar="LOSS", help="Loss name or alias.", autocompletion=complete_loss)],
    format_: FormatOption = Format.table,
) -> None:
    """Explain one loss: formula, inputs, parameters, when to use it, its source."""
    from losscli import api, render

    render.print_info(api.info(loss), format_.value)


@app.command(
    epilog=examples(
        (
            "Mean squared error, and the 3 rows most of it comes from",
            "losscli compute mse sample_data/regression.csv --label-col y --worst 3",
        ),
        (
            "Huber loss with delta 2: the value alone, for x=$(…) in a script",
            ("losscli compute huber sample_data/regression.csv --label-col y", "-p delta=2 -f value"),
        ),
        (
            "Cross entropy of class logits against class indices in a file of their own",
            ("losscli compute ce sample_data/multiclass_logits.csv", "sample_data/multiclass_labels.txt"),
        ),
    )
)
def compute(
    loss: Annotated[
        str,
        typer.Argument(
            metavar="LOSS", help="Loss name or alias, e.g. mse, ce, BCEWithLogitsLoss.", autocompletion=complete_loss
        ),
    ],
    pred: Annotated[
        str,
        typer.Argument(metavar="PRED", help="Predictions file (.csv .tsv .txt .npy .npz .parquet, or - for stdin)."),
    ],
    labels: Annotated[
        str | None,
        typer.Argument(metavar="LABELS", help="Labels file; omit it to take labels from PRED with --label-col."),
    ] = None,
    param: ParamsOption = None,
    reduction: Annotated[
        Reduction | None,
        typer.Option(
            metavar="MODE",
            help="mean, sum, none or batchmean (kl_div); default: the loss's torch default.",
            rich_help_panel=LOSS_PANEL,
        ),
    ] = None,
    grad: Annotated[
        bool, typer.Option("--grad/--no-grad", help="Compute gradients with autograd.", rich_help_panel=LOSS_PANEL)
    ] = True,
    rows: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="N",
            help="Rows of per-sample values and gradients shown in the table.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = 10,
    grad_out: Annotated[
        str | None,
        typer.Option(
            metavar="PATH", help="Write the full gradient to a .npy, .npz or .csv file.", rich_help_panel=OUTPUT_PANEL
        ),
    ] = None,
    input_: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            metavar="NAME=PATH",
            help="Further loss input NAME=PATH, e.g. input2=b.csv.",
            rich_help_panel=INPUTS_PANEL,
        ),
    ] = None,
    dtype: DTypeOption = DType.float32,
    pred_col: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COL", help="Prediction column(s) by name or 0-based index.", rich_help_panel=INPUTS_PANEL
        ),
    ] = None,
    label_col: LabelColOption = None,
    pred_key: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Array name inside a PRED .npz file.", rich_help_panel=INPUTS_PANEL),
    ] = None,
    label_key: LabelKeyOption = None,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Compute N rows at a time (losses that decompose over samples; the table does 1000000 anyway).",
            rich_help_panel=INPUTS_PANEL,
        ),
    ] = None,
    header: HeaderOption = None,
    format_: Annotated[
        ComputeFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output: a Rich table, JSON, CSV, or the reduced value alone (for $(…) in scripts).",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = ComputeFormat.table,
    value_only: Annotated[
        bool, typer.Option("--value-only", help="The same as -f value.", rich_help_panel=OUTPUT_PANEL)
    ] = False,
    ci: CiOption = None,
    ci_method: CiMethodOption = None,
    resamples: ResamplesOption = None,
    seed: SeedOption = None,
    fail_above: FailAboveOption = None,
    fail_if_worse: FailIfWorseOption = None,
    gate_on: GateOnOption = None,
    by: ByOption = None,
    slices: SlicesOption = None,
    bins: BinsOption = 5,
    min_slice_size: MinSliceOption = 1,
    by_class: ByClassOption = False,
    worst: WorstOption = None,
    sample_weight: SampleWeightOption = None,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    scheduler_timeout: SchedulerTimeoutOption = 10.0,
) -> None:
    """Compute a loss's value and its gradient for predictions and labels in files."""
    if fail_if_worse:
        raise UsageError("--fail-if-worse compares models with a baseline: use losscli compare")
    if value_only:
        if format_ not in (ComputeFormat.table, ComputeFormat.value):
            raise UsageError(f"--value-only and -f {format_.value} ask for two outputs: give one")
        format_ = ComputeFormat.value
    if format_ is ComputeFormat.value:
        if reduction is Reduction.none:
            raise UsageError(NO_SINGLE_VALUE)
        grad = grad and grad_out is not None  # no gradient is printed: computed only for --grad-out
    requested = row_request(by, slices, bins, min_slice_size, by_class, worst, sample_weight, format_.value)
    from losscli import api, render
    from losscli.io.loading import split_column_options

    result = api.run_compute(
        loss,
        pred,
        labels,
        param_items=param or [],
        input_items=input_ or [],
        reduction=reduction.value if reduction else None,
        grad=grad,
        dtype=dtype.value,
        grad_out=grad_out,
        pred_cols=split_column_options(pred_col),
        label_cols=split_column_options(label_col),
        pred_key=pred_key,
        label_key=label_key,
        header=header,
        chunk_size=chunk_size,
        keep_rows=rows if format_ in (ComputeFormat.table, ComputeFormat.value) and grad_out is None else None,
        progress=render.row_progress,
        ci=ci,
        ci_method=ci_method,
        resamples=resamples,
        seed=seed,
        fail_above=fail_above or (),
        gate_on=gate_on,
        row_request=requested,
        engine=engine,
        scheduler=scheduler,
        scheduler_timeout=scheduler_timeout,
    )
    if format_ is ComputeFormat.value and result.value is None:  # a loss whose default reduction is none
        raise UsageError(NO_SINGLE_VALUE)
    render.print_compute(result, format_.value, rows)
    code = report_gates(result)
    if code:
        raise typer.Exit(code)


@app.command(
    epilog=examples(
        (
            "Three models, columns of one file, under the recommended losses",
            "losscli compare sample_data/models.csv --label-col y",
        ),
        (
            "Chosen losses with 95 % intervals and paired tests, overall and per region",
            ("losscli compare sample_data/models.csv --label-col y", "-l mse,l1 --sort l1 --ci --by region"),
        ),
        (
            "Models in files of their own, huber at two deltas, as CSV",
            (
                "losscli compare sample_data/regression_pred*.csv",
                "--labels sample_data/regression_labels.csv",
                "-l huber:delta=1,huber:delta=5 -f csv",
            ),
        ),
    )
)
def compare(
    preds: Annotated[
        list[str] | None, typer.Argument(metavar="PRED...", help="Prediction files, one per model.")
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(metavar="PATH", help="Labels file shared by every model.", rich_help_panel=INPUTS_PANEL),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name",
            metavar="NAME=PATH",
            help="Call the model in PATH NAME in the output (it is compared too).",
            rich_help_panel=INPUTS_PANEL,
        ),
    ] = None,
    loss: Annotated[
        list[str] | None,
        typer.Option(
            "--loss",
            "-l",
            metavar="LOSS[:KEY=VALUE…]",
            help="Loss(es), repeatable or comma-separated; LOSS:KEY=VALUE sets its parameters for that column "
            "(-l huber:delta=1 -l huber:delta=5); default: recommended.",
            autocompletion=complete_loss_list,
            rich_help_panel=LOSS_PANEL,
        ),
    ] = None,
    param: ParamsOption = None,
    sort: Annotated[
        str | None,
        typer.Option(
            metavar="LOSS",
            help="Order the rows by this loss, best first.",
            autocompletion=complete_sort,
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            metavar="PATH|NAME",
            help="Show each model's change against this one, in percent.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    fail_fast: Annotated[
        bool,
        typer.Option(
            "--fail-fast",
            help="Stop at the first model that fails (default: show the others, then exit 3).",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = False,
    dtype: DTypeOption = DType.float32,
    pred_col: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COL", help="Prediction column(s); without --labels, one model each.", rich_help_panel=INPUTS_PANEL
        ),
    ] = None,
    label_col: LabelColOption = None,
    pred_key: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Array name inside PRED .npz files.", rich_help_panel=INPUTS_PANEL),
    ] = None,
    label_key: LabelKeyOption = None,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Read the files N rows at a time (losses named with -l; memory: a chunk of every model).",
            rich_help_panel=INPUTS_PANEL,
        ),
    ] = None,
    header: HeaderOption = None,
    format_: FormatOption = Format.table,
    ci: CiOption = None,
    ci_method: CiMethodOption = None,
    resamples: ResamplesOption = None,
    seed: SeedOption = None,
    fail_above: FailAboveOption = None,
    fail_if_worse: FailIfWorseOption = None,
    gate_on: GateOnOption = None,
    by: ByOption = None,
    slices: SlicesOption = None,
    bins: BinsOption = 5,
    min_slice_size: MinSliceOption = 1,
    by_class: ByClassOption = False,
    worst: WorstOption = None,
    sample_weight: SampleWeightOption = None,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    scheduler_timeout: SchedulerTimeoutOption = 10.0,
) -> None:
    """Compare models' predictions against one label file under several losses."""
    options = dict(locals())
    from losscli import render

    result = _comparison(options)
    render.print_comparison(result, format_.value)
    _compare_exit(result)


def _comparison(options: dict[str, Any], report: Any = None) -> Any:
    """``compare``'s (and ``report``'s) options, run: the ``Comparison``; with ``report`` (an output path), a
    report of it written there too (``api.run_report``)."""
    from losscli import api
    from losscli.io.inputs import parse_names
    from losscli.io.loading import split_column_options

    o = options
    requested = row_request(
        o["by"],
        o["slices"],
        o["bins"],
        o["min_slice_size"],
        o["by_class"],
        o["worst"],
        o["sample_weight"],
        o["format_"].value,
    )
    run = api.run_compare if report is None else functools.partial(api.run_report, out=report)
    return run(
        o["preds"] or [],
        o["labels"],
        losses=o["loss"] or [],
        param_items=o["param"] or [],
        names=parse_names(o["name"] or []),
        baseline=o["baseline"],
        sort=o["sort"],
        dtype=o["dtype"].value,
        fail_fast=o["fail_fast"],
        pred_cols=split_column_options(o["pred_col"]),
        label_cols=split_column_options(o["label_col"]),
        pred_key=o["pred_key"],
        label_key=o["label_key"],
        header=o["header"],
        ci=o["ci"],
        ci_method=o["ci_method"],
        resamples=o["resamples"],
        seed=o["seed"],
        fail_above=o["fail_above"] or (),
        fail_if_worse=o["fail_if_worse"] or (),
        gate_on=o["gate_on"],
        chunk_size=o["chunk_size"],
        row_request=requested,
        engine=o["engine"],
        scheduler=o["scheduler"],
        scheduler_timeout=o["scheduler_timeout"],
    )


def _compare_exit(result: Any) -> None:
    """After the comparison is printed: a line per model that failed (exit 3), else the gates' code (4)."""
    code = report_gates(result)
    failures = []
    for model in result.models:  # a line per model that failed: its first failure
        errors = result.errors.get(model)
        if not errors:
            continue
        column, message = next(iter(errors.items()))
        others = terminal.counted(len(errors) - 1, "more loss", "more losses")
        more = f" (and under {others})" if len(errors) > 1 else ""
        failures.append(message if model in result.unreadable else f"{model} under {column}: {message}{more}")
    if failures:
        print_errors(failures)  # after the table: the models that failed
        raise typer.Exit(3)
    if code:
        raise typer.Exit(code)


OutOption = Annotated[
    str,
    typer.Option(
        "--out",
        metavar="FILE.html",
        help="Write the report here (one self-contained HTML file; written whole or not at all).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]


def report(out: OutOption, **options: Any) -> None:
    """Write a self-contained HTML report of a comparison: tables, intervals, slices, worst rows, plots."""
    from losscli import render

    result = _comparison(options, report=out)
    render.print_comparison(result, options["format_"].value)
    render.print_report_written(result)
    _compare_exit(result)


def _report_signature() -> inspect.Signature:
    """``report``'s options: ``--out`` and every option of ``compare``, declared once (there)."""
    hints = typing.get_type_hints(compare, include_extras=True)
    parameters = [
        inspect.Parameter("out", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=OutOption),
        *(
            parameter.replace(annotation=hints[name])
            for name, parameter in inspect.signature(compare).parameters.items()
        ),
    ]
    return inspect.Signature(parameters)


report.__signature__ = _report_signature()
report.__annotations__ = {
    parameter.name: parameter.annotation for parameter in report.__signature__.parameters.values()
}
app.command(
    epilog=examples(
        (
            "Three models against their labels, with 95 % intervals, as one HTML page",
            (
                "losscli report sample_data/regression_pred*.csv",
                "--labels sample_data/regression_labels.csv --ci --out report.html",
            ),
        ),
        (
            "Two classifiers, sliced by class, the 5 worst rows of each",
            (
                "losscli report sample_data/binary_logits*.csv",
                "--labels sample_data/binary_labels.csv --by-class --worst 5",
                "--out binary.html",
            ),
        ),
    )
)(report)


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


@app.command(
    epilog=examples(
        ("Binary cross entropy against the prediction, for targets 1 and 0", "losscli curve bce --target 1,0"),
        (
            "Four regression losses and their derivatives around 0",
            "losscli curve mse,l1,smooth_l1,huber --target 0 --range -3:3 --grad",
        ),
        ("The points themselves, as CSV", "losscli curve bce --target 1 --points 5 -f csv"),
    )
)
def curve(
    losses: Annotated[
        str,
        typer.Argument(
            metavar="LOSS[,LOSS...]", help="Loss name(s) to draw, comma-separated.", autocompletion=complete_loss_list
        ),
    ],
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            "-t",
            metavar="Y[,Y...]",
            help="Target value(s); default: a typical one per loss.",
            rich_help_panel=LOSS_PANEL,
        ),
    ] = None,
    range_: Annotated[
        str | None,
        typer.Option(
            "--range",
            metavar="LO:HI",
            help="x range; default: per loss (e.g. 0:1 for probabilities).",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    points: Annotated[
        int, typer.Option(min=2, max=100_000, metavar="N", help="Points per curve.", rich_help_panel=OUTPUT_PANEL)
    ] = 200,
    grad: Annotated[
        bool,
        typer.Option("--grad/--no-grad", help="Also draw the derivative d loss / d x.", rich_help_panel=OUTPUT_PANEL),
    ] = False,
    param: ParamsOption = None,
    classes: Annotated[
        int, typer.Option(min=2, metavar="C", help="Classes for class losses.", rich_help_panel=LOSS_PANEL)
    ] = 3,
    out: Annotated[
        str | None,
        typer.Option(
            metavar="FILE", help="Also write the plot as an image: .png or .svg.", rich_help_panel=OUTPUT_PANEL
        ),
    ] = None,
    size: Annotated[
        str, typer.Option(metavar="WxH", help="Image size in pixels for --out.", rich_help_panel=OUTPUT_PANEL)
    ] = "800x500",
    format_: FormatOption = Format.table,
) -> None:
    """Draw losses against one prediction for fixed targets, as the article's figures do."""
    from losscli import api, render

    drawn = api.run_curve(
        [losses],
        _floats(target, "--target") if target else None,
        span=_span(range_) if range_ else None,
        points=points,
        classes=classes,
        param_items=param or [],
        out=out,
        size=_size(size),
        grad=grad,
    )
    render.print_curves(drawn.curves, format_.value, grad=grad)


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


@app.command(
    epilog=examples(
        (
            "Inspect class labels: which losses suit them, and the command for each",
            "losscli recommend sample_data/multiclass_labels.txt",
        ),
        (
            "Check predictions too: labels and predictions are columns of one file",
            "losscli recommend sample_data/regression.csv --label-col y --pred-col pred",
        ),
        ("No file: the losses for a type of labels", "losscli recommend --label-type multilabel"),
    )
)
def recommend(
    labels: Annotated[
        str | None,
        typer.Argument(metavar="LABELS", help="Labels file (.csv .tsv .txt .npy .npz .parquet, or - for stdin)."),
    ] = None,
    label_type: Annotated[
        LabelType | None,
        typer.Option(help="Skip the inspection: the labels are of this type.", rich_help_panel=LOSS_PANEL),
    ] = None,
    pred: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="Predictions file: say what they look like and check them.",
            rich_help_panel=INPUTS_PANEL,
        ),
    ] = None,
    loss: Annotated[
        str | None,
        typer.Option(
            "--loss",
            "-l",
            metavar="LOSS",
            help="Check this loss instead of the top one.",
            autocompletion=complete_loss,
            rich_help_panel=LOSS_PANEL,
        ),
    ] = None,
    quantiles: Annotated[
        str | None,
        typer.Option(
            metavar="Q[,Q...]",
            help="You want these quantiles, not the mean: recommend pinball first.",
            rich_help_panel=LOSS_PANEL,
        ),
    ] = None,
    pred_col: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COL", help="Prediction column(s); without --pred, of LABELS' file.", rich_help_panel=INPUTS_PANEL
        ),
    ] = None,
    label_col: LabelColOption = None,
    pred_key: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Array name inside a --pred .npz file.", rich_help_panel=INPUTS_PANEL),
    ] = None,
    label_key: LabelKeyOption = None,
    header: HeaderOption = None,
    format_: FormatOption = Format.table,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    scheduler_timeout: SchedulerTimeoutOption = 10.0,
) -> None:
    """Infer the label type and recommend losses, warning about classic mistakes."""
    from losscli import api, render
    from losscli.io.loading import split_column_options

    advice = api.run_recommend(
        labels,
        pred,
        loss=loss,
        label_type=label_type.value if label_type else None,
        quantiles=_quantiles(quantiles) if quantiles else None,
        pred_cols=split_column_options(pred_col),
        label_cols=split_column_options(label_col),
        pred_key=pred_key,
        label_key=label_key,
        header=header,
        engine=engine,
        scheduler=scheduler,
        scheduler_timeout=scheduler_timeout,
    )
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
