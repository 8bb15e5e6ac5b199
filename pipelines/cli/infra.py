"""``mlops infra``: the offline plan of the Pulumi stacks (no cloud credentials needed), and
``carry-serving``, the step CI runs before ``pulumi up``/``preview`` of qa
(``pipelines.azure.carry_serving``).

This is the one place ``pipelines`` imports ``infra``: the plan runs the program itself under
mocks. The imports are lazy so ``mlops --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pipelines.cli.common import fail
from pipelines.errors import ExitCode

app = typer.Typer(
    no_args_is_help=True,
    help="Offline view of the Pulumi stacks (a mock run); carry-serving before a real `pulumi up`.",
)

StackOption = Annotated[
    str,
    typer.Option(
        "--env",
        "--stack",
        help="Stack: dev, qa, prod or a short-lived dev-<id> (reads Pulumi.<stack>.yaml).",
    ),
]


def _run(stack: str, expires_at: str | None) -> object:
    from infra.config import ConfigError
    from infra.offline import DEFAULT_EXPIRES_AT, run_stack

    try:
        return run_stack(stack, expires_at=expires_at or DEFAULT_EXPIRES_AT)
    except ConfigError as err:
        fail(str(err), ExitCode.USAGE)


def _violations(run: object, stack: str) -> list[str]:
    from infra.config import environment_of
    from infra.offline import OfflineRun
    from policy.check import ResourceToCheck, check_resources, load_pack_config

    assert isinstance(run, OfflineRun)
    environment, _ = environment_of(stack)
    resources = [
        ResourceToCheck(r.type, r.name, r.urn, r.plain_inputs, r.dependencies) for r in run.custom_resources
    ]
    return [str(v) for v in check_resources(resources, load_pack_config(environment))]


@app.command("plan")
def plan(
    stack: StackOption = "dev",
    details: Annotated[
        bool, typer.Option("--details", help="Show every resource's inputs (secrets redacted).")
    ] = False,
    expires_at: Annotated[
        str | None,
        typer.Option("--expires-at", help="Expiry for a dev-<id> stack (default: far future)."),
    ] = None,
) -> None:
    """Print the resources and outputs a stack would have, and its policy violations."""
    from infra.offline import OfflineRun
    from infra.plan import plan_lines

    run = _run(stack, expires_at)
    assert isinstance(run, OfflineRun)
    for line in plan_lines(run, details=details):
        typer.echo(line)
    violations = _violations(run, stack)
    typer.echo(f"policy pack: {len(violations)} violations")
    for violation in violations:
        typer.echo(f"  {violation}")
    if violations:
        raise typer.Exit(1)


@app.command("diff")
def diff(
    source: Annotated[str, typer.Option("--from", help="The stack to compare from.")],
    target: Annotated[str, typer.Option("--to", help="The stack to compare to.")],
) -> None:
    """Print what differs between two stacks' declared resources (secrets redacted)."""
    from infra.offline import OfflineRun
    from infra.plan import diff_lines

    before = _run(source, None)
    after = _run(target, None)
    assert isinstance(before, OfflineRun) and isinstance(after, OfflineRun)
    for line in diff_lines(before, after):
        typer.echo(line)


@app.command("carry-serving")
def carry_serving(
    env: Annotated[
        str,
        typer.Option("--env", help="The environment whose stack to update (MLOPS_STACK_<ENV> or its name)."),
    ] = "qa",
) -> None:
    """Set scoringImage/modelVersion in the stack's settings to what the stack runs now.

    Run before `pulumi up`/`preview`, so an infrastructure change keeps the deployed image.
    Does nothing (and says so) when the stack has no such outputs yet or the settings are given
    explicitly (not the placeholder). Exit 1 when the outputs or the settings cannot be read.
    """
    from pulumi.automation import errors as auto_errors

    from pipelines.azure.carry_serving import carry_env
    from pipelines.azure.errors import AzurePathError

    try:
        result = carry_env(env)
    except (AzurePathError, auto_errors.CommandError) as error:
        detail = str(error).strip().splitlines()
        fail(detail[-1] if detail else type(error).__name__)
    typer.echo(result.message)
