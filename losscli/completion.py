"""Shell completion for bash, zsh and fish: the scripts (Typer's), and what a Tab completes.

Names come from the registry's specs, plain data: completing imports no torch, pandas or numpy.
"""

from __future__ import annotations

import os

import typer

from losscli import terminal
from losscli.errors import DataError, UsageError
from losscli.registry import list_losses


def _loss_names() -> list[tuple[str, str, str]]:
    """Every loss name and alias: (name, its loss's canonical name, what it is, as zsh and fish show it)."""
    names = []
    for spec in list_losses():
        names.append((spec.name, spec.name, f"{spec.family} loss"))
        names += [(alias, spec.name, f"alias of {spec.name}") for alias in spec.aliases]
    return names


def complete_loss(incomplete: str) -> list[tuple[str, str]]:
    """Loss names and aliases starting with what is typed."""
    return [(name, about) for name, _, about in _loss_names() if name.startswith(incomplete)]


def complete_loss_list(incomplete: str) -> list[tuple[str, str]]:
    """``LOSS[,LOSS...]``: the name after the last comma, leaving out the losses listed before it."""
    head, comma, last = incomplete.rpartition(",")
    names = _loss_names()
    listed = {canonical for name, canonical, _ in names if name in head.split(",")} if comma else set()
    return [
        (head + comma + name, about)
        for name, canonical, about in names
        if name.startswith(last) and canonical not in listed
    ]


def complete_sort(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """``compare --sort``: one of the ``--loss`` losses given before it, else any loss."""
    given = [name.strip() for value in ctx.params.get("loss") or () for name in value.split(",") if name.strip()]
    if not given:
        return complete_loss(incomplete)
    return [(name, "compared") for name in dict.fromkeys(given) if name.startswith(incomplete)]


def complete_family(incomplete: str) -> list[str]:
    from losscli.registry import FAMILIES

    return [family for family in FAMILIES if family.startswith(incomplete)]


def complete_color(ctx: typer.Context, args: list[str], incomplete: str) -> list[str]:
    return [mode for mode in terminal.COLOR_MODES if mode.startswith(incomplete)]


COMPLETION_SHELLS = ("bash", "zsh", "fish")


def _shell(option: str) -> str:
    """The shell this runs in (shellingham reads the parent processes), else the login shell, ``$SHELL``."""
    import shellingham

    try:
        name = shellingham.detect_shell()[0]
    except shellingham.ShellDetectionFailure:
        name = ""
    if name not in COMPLETION_SHELLS:  # none found, or sh (run from a Makefile or a script): the login shell's
        name = os.path.basename(os.environ.get("SHELL", "")) or name
    if name not in COMPLETION_SHELLS:
        raise UsageError(
            f"{option}: cannot tell which shell to complete for ({name or 'none found'}); for a given shell run "
            "_LOSSCLI_COMPLETE=source_bash losscli (or source_zsh, source_fish) and save what it prints"
        )
    return name


def _completion_names(ctx: typer.Context) -> dict[str, str]:
    """The command's name and the variable its completion scripts set, ``_LOSSCLI_COMPLETE``."""
    prog_name = ctx.find_root().info_name or "losscli"
    return {"prog_name": prog_name, "complete_var": f"_{prog_name}_COMPLETE".replace("-", "_").upper()}


def show_completion(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer.completion import get_completion_script

    print(get_completion_script(shell=_shell("--show-completion"), **_completion_names(ctx)))
    raise typer.Exit()


def install_completion(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer.completion import install

    try:
        shell, path = install(shell=_shell("--install-completion"), **_completion_names(ctx))
    except OSError as e:
        raise DataError(f"--install-completion: cannot write {e.filename or 'its files'}: {e.strerror}") from e
    print(f"{shell} completion installed in {path}; it takes effect in a new shell")
    raise typer.Exit()
