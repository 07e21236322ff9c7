"""What a command prints to people: consoles that honour ``--color``/``NO_COLOR``, and the warnings policy.

One place decides how output looks and where warnings go, for every command
and format: the command line sets ``color``, ``quiet`` and ``strict`` once
(``configure``); renderers ask ``console()`` for a Rich console and hand every
warning to ``warn``. Cheap to import (Rich only, no numpy, pandas or torch).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

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


class TrimmedLines:
    """A text stream that writes each line to ``stream`` without the spaces and tabs at its end.

    Rich pads a table's last column, its title and its caption out to the
    table's width, and a line of text out to the console's: spaces that a
    terminal shows as nothing, but that a copy, a diff or ``grep ' $'`` sees.
    Escape codes at the end of a line (a colour's reset) are kept. A line not
    yet ended is written on ``flush`` up to its trailing spaces, which are
    held back until something other than a line end follows them.
    """

    _TAIL = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+\Z")
    _ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending = ""

    def _trimmed(self, line: str) -> str:
        tail = self._TAIL.search(line)
        return line if tail is None else line[: tail.start()] + "".join(self._ESCAPE.findall(tail.group()))

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        if lines:
            self.stream.write("\n".join(self._trimmed(line) for line in lines) + "\n")
        return len(text)

    def flush(self) -> None:
        tail = self._TAIL.search(self.pending)
        if tail is None:
            head, self.pending = self.pending, ""
        else:  # the escape codes go out now, the spaces only if more of the line follows
            head = self.pending[: tail.start()] + "".join(self._ESCAPE.findall(tail.group()))
            self.pending = self._ESCAPE.sub("", tail.group())
        if head:
            self.stream.write(head)
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, ...: as the stream has them
        return getattr(self.stream, name)


@contextlib.contextmanager
def trimmed_stdout() -> Iterator[None]:
    """Standard output without spaces at the ends of lines while the block runs (for text Rich prints
    through consoles of its own, such as Typer's help)."""
    original = sys.stdout
    sys.stdout = TrimmedLines(original)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stdout = original


def console(*, stderr: bool = False) -> Console:
    """A Rich console on standard output (or error) as ``--color`` and ``NO_COLOR`` ask; no line it prints
    ends in spaces (``TrimmedLines``)."""
    stream = TrimmedLines(sys.stderr if stderr else sys.stdout)
    if settings.color == "never" or settings.color == "auto" and os.environ.get("NO_COLOR"):  # no-color.org
        return Console(file=stream, color_system=None, highlight=False)
    if settings.color == "always":
        return Console(file=stream, force_terminal=True, no_color=False)  # the option outranks NO_COLOR
    return Console(file=stream)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 loss``, ``2 losses``: a number and its noun, singular for one."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def warn(messages: list[str]) -> None:
    """Every warning as a ``Warning: …`` line on stderr (unless ``-q``), in every output format."""
    settings.warned.extend(messages)
    if settings.quiet or not messages:
        return
    err = console(stderr=True)
    for message in messages:  # a Text: brackets in a file name are not markup
        err.print(Text.assemble(("Warning:", "yellow"), " ", message), highlight=False, soft_wrap=True)
