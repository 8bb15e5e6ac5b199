"""One error style and one set of exit codes for every command (pipelines/cli/common.py)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from pipelines.azure.errors import AzurePathError
from pipelines.cli.common import reported
from pipelines.cli.main import app
from pipelines.errors import ExitCode, MlopsError, UsageError
from pipelines.smoke import SmokeTestError
from pipelines.stacks.create import ShortLivedError
from pipelines.stacks.teardown import SetupError

runner = CliRunner()


def _app_raising(error: Exception) -> typer.Typer:
    probe = typer.Typer()

    @probe.command()
    def go() -> None:
        with reported():
            raise error

    return probe


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (MlopsError("it broke"), ExitCode.FAILED),
        (AzurePathError("it broke"), ExitCode.FAILED),
        (SmokeTestError("it broke"), ExitCode.FAILED),
        (SetupError("it broke"), ExitCode.FAILED),
        (UsageError("it broke"), ExitCode.USAGE),
        (ShortLivedError("it broke"), ExitCode.USAGE),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_expected_errors_are_one_line_on_stderr_with_their_code(error: Exception, code: int) -> None:
    result = runner.invoke(_app_raising(error), [])
    assert result.exit_code == code
    assert result.stderr == "error: it broke\n"
    assert result.stdout == ""


def test_messages_are_printed_literally_not_as_markup() -> None:
    result = runner.invoke(_app_raising(MlopsError("expected [bold]x[/bold] in [1, 2]")), [])
    assert result.stderr == "error: expected [bold]x[/bold] in [1, 2]\n"


def test_unexpected_errors_are_not_swallowed() -> None:
    result = runner.invoke(_app_raising(KeyError("bug")), [])
    assert isinstance(result.exception, KeyError)


@pytest.mark.parametrize("command", ["status", "stop"])
def test_endpoint_commands_take_no_env(command: str) -> None:
    result = runner.invoke(app, ["endpoint", command, "--env", "qa"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_stacks_errors_use_the_same_style(tmp_path: object) -> None:
    result = runner.invoke(app, ["stacks", "create-short-lived", "--name", "dev-x", "--ttl", "soon"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "--ttl" in result.stderr
