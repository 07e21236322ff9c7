"""What a command prints to people: consoles that honour ``--color``/``NO_COLOR``, and the warnings policy.

One place decides how output looks and where warnings go, for every command
and format: the command line sets ``color``, ``quiet`` and ``strict`` once
(``configure``); renderers ask ``console()`` for a Rich console and hand every
warning to ``warn``. Cheap to import (Rich only, no numpy, pandas or torch).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

COLOR_MODES = ("auto", "always", "never")


@dataclass
class Settings:
    color: str = "auto"
    """``auto``: colour on a terminal unless ``NO_COLOR`` is set; ``always``; ``never`` (no escape codes at all)."""
    quiet: bool = False
    """``-q``: no ``Warning:`` lines (JSON still lists the warnings)."""
    strict: bool = False
    """``--strict``: a command that warned ends with exit 3."""
    warned: list[str] = field(default_factory=list)
    """Every warning the command gave, printed or not."""


settings = Settings()


def configure(*, color: str = "auto", quiet: bool = False, strict: bool = False) -> None:
    """Set the run's output settings (the command line does, once per command)."""
    global settings
    settings = Settings(color=color, quiet=quiet, strict=strict)


def console(*, stderr: bool = False) -> Console:
    """A Rich console on standard output (or error) as ``--color`` and ``NO_COLOR`` ask."""
    stream = sys.stderr if stderr else sys.stdout
    if settings.color == "never" or settings.color == "auto" and os.environ.get("NO_COLOR"):  # no-color.org
        return Console(file=stream, color_system=None, highlight=False)
    if settings.color == "always":
        return Console(file=stream, force_terminal=True, no_color=False)  # the option outranks NO_COLOR
    return Console(file=stream)


def warn(messages: list[str]) -> None:
    """Every warning as a ``Warning: …`` line on stderr (unless ``-q``), in every output format."""
    settings.warned.extend(messages)
    if settings.quiet or not messages:
        return
    err = console(stderr=True)
    for message in messages:  # a Text: brackets in a file name are not markup
        err.print(Text.assemble(("Warning:", "yellow"), " ", message), highlight=False, soft_wrap=True)
