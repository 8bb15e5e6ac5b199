"""``mlops infra``: the offline plan of the Pulumi stacks (no cloud credentials needed), their
monthly cost (``cost``: the declared resources at Azure retail prices, ``pipelines.cost``), and
``carry-serving``, the step CI runs before ``pulumi up``/``preview`` of qa
(``pipelines.azure.carry_serving``).

This is the one place ``pipelines`` imports ``infra``: the plan runs the program itself under
mocks. The imports are lazy so ``mlops --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import errors, fail, reported
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


@app.command("cost")
def cost(
    stack: Annotated[
        str | None, typer.Option("--env", "--stack", help="The stack to estimate (dev, qa, prod, dev-<id>).")
    ] = None,
    source: Annotated[str | None, typer.Option("--from", help="Compare: the stack to compare from.")] = None,
    target: Annotated[str | None, typer.Option("--to", help="Compare: the stack to compare to.")] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="An estimate (--json output) to compare --env with, e.g. the base branch's."
        ),
    ] = None,
    prices_file: Annotated[
        Path | None,
        typer.Option("--prices-file", help="Read prices from this file only (offline; the cache's format)."),
    ] = None,
    currency: Annotated[
        str, typer.Option("--currency", help="Currency of the prices (USD, EUR, ...).")
    ] = "USD",
    markdown_file: Annotated[
        Path | None,
        typer.Option("--markdown", help="Also write the pull-request comment block to this file."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
) -> None:
    """Estimate a stack's monthly cost from its declared resources at Azure retail prices.

    Per resource and in total; a cluster at 0 nodes, storage and vault operations cost per use and
    are shown as rates. Prices are cached (.state/retail-prices.json, refreshed after 7 days).
    `--from qa --to prod` shows the monthly difference between two stacks.
    """
    from pipelines.cli.stack_declaration import declared_stack
    from pipelines.cost.estimate import Estimate, estimate_from_json
    from pipelines.cost.render import delta_lines, markdown, text_lines
    from pipelines.cost.run import estimate_stacks

    comparing = source is not None or target is not None
    if comparing and (source is None or target is None or stack is not None or baseline is not None):
        fail("compare with both --from and --to (and neither --env nor --baseline)", ExitCode.USAGE)
    if not comparing and stack is None:
        fail("name a stack: --env dev|qa|prod|dev-<id> (or --from A --to B)", ExitCode.USAGE)
    names = [source, target] if comparing else [stack]
    with reported():
        declared = [declared_stack(name) for name in names if name is not None]
        estimates = estimate_stacks(declared, currency=currency.upper(), prices_file=prices_file)
        base = None
        if baseline is not None:
            if not baseline.is_file():
                fail(f"--baseline {baseline}: no such file", ExitCode.USAGE)
            try:
                base = estimate_from_json(baseline.read_text(encoding="utf-8"))
            except (ValueError, KeyError, TypeError) as error:
                fail(f"--baseline {baseline}: not an estimate written by --json ({error})", ExitCode.USAGE)
    before: Estimate | None
    if comparing:
        before, after = estimates
        output = [*text_lines(before), *text_lines(after), *delta_lines(before, after)]
    else:
        [after] = estimates
        before = base
        output = text_lines(after) + (delta_lines(base, after) if base is not None else [])
    if markdown_file is not None:
        markdown_file.write_text(markdown(after, before), encoding="utf-8")
        errors.print(f"wrote {markdown_file}")
    if as_json:
        typer.echo(after.to_json() if not comparing else "[" + ",".join(e.to_json() for e in estimates) + "]")
    else:
        for line in output:
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
