"""The errors every ``mlops`` command reports the same way: one line on stderr and an exit code.

Code below the command layer raises these (or subclasses); :func:`pipelines.cli.common.reported`
turns them into ``error: <message>`` and :class:`ExitCode`. Nothing here imports more than the
standard library, so every layer may raise them.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of every ``mlops`` command."""

    OK = 0
    FAILED = 1  # the command ran and something failed (a step, a deploy, a smoke test, Azure)
    USAGE = 2  # the command was asked for something that cannot work; nothing was changed
    DRIFT = 3  # `mlops monitor`: the production window drifted from the training data (CI acts on it)


class MlopsError(RuntimeError):
    """An expected failure: its message is one line that names what is missing or wrong."""

    exit_code: ExitCode = ExitCode.FAILED


class UsageError(MlopsError):
    """A request that cannot work (bad option, wrong environment, refused target): exit 2."""

    exit_code = ExitCode.USAGE
