"""What every command module shares: the consoles, the environments, common options, one error style.

Errors: code below the command layer raises :class:`~pipelines.errors.MlopsError` (or a subclass);
a command wraps its work in ``with reported():`` and every such error becomes one line,
``error: <message>`` on stderr, and the error's :class:`~pipelines.errors.ExitCode`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pipelines.errors import ExitCode, MlopsError

console = Console(highlight=False)
"""stdout: results and progress."""
errors = Console(stderr=True, highlight=False)
"""stderr: errors, and progress of commands whose stdout is for scripts."""


class Env(StrEnum):
    """The environments: `local` runs on this machine; the others are Pulumi stacks on Azure."""

    local = "local"
    dev = "dev"
    qa = "qa"
    prod = "prod"


EnvOption = Annotated[Env, typer.Option("--env", "-e", help="Target environment.", case_sensitive=False)]
ModelOption = Annotated[str, typer.Option("--model", help="The registered model, NAME:VERSION.")]


def fail(message: str, code: ExitCode = ExitCode.FAILED) -> NoReturn:
    """Print ``error: <message>`` to stderr and exit with ``code``."""
    errors.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(int(code))


@contextmanager
def reported() -> Iterator[None]:
    """Turn an expected failure (:class:`MlopsError`) into one line and its exit code."""
    try:
        yield
    except MlopsError as error:
        fail(str(error), error.exit_code)
