"""Exceptions raised by the core; only ``losscli.cli`` turns them into exit codes."""


class LossCliError(Exception):
    """Base class of every error losscli reports to the user."""

    exit_code = 1


class UsageError(LossCliError, ValueError):
    """The command line (or a call) asks for something that does not exist (exit 2)."""

    exit_code = 2


class UnknownLossError(UsageError):
    """No registered loss has this name or alias."""


class UnknownParamError(UsageError):
    """A ``-p KEY=VALUE`` names a parameter the loss does not take, or a bad value."""


class DataError(LossCliError, ValueError):
    """The input data cannot be used: unreadable file, bad cell, wrong shape (exit 3)."""

    exit_code = 3


class LossCliWarning(UserWarning):
    """What the CLI prints as a ``Warning:`` line, issued by the Python API through ``warnings.warn``."""
