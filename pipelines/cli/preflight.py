"""``mlops preflight``: read-only checks of the subscription before a stack's ``pulumi up``.

Quota, global names, soft-deleted Key Vaults and workspaces, providers and preview features,
regions, and the identity's right to create the stack's resources and role assignments; a table
(or ``--json``) with the fix of each failure; exit 1 when a check fails (``pipelines.preflight``).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipelines.cli.common import console, errors, fail, reported
from pipelines.errors import ExitCode

app = typer.Typer()

SUBSCRIPTION_ENV = ("ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID")
STYLE = {"pass": "green", "warn": "yellow", "fail": "red"}


def subscription_of(option: str | None, pinned: str) -> str:
    """--subscription, else ARM_SUBSCRIPTION_ID / AZURE_SUBSCRIPTION_ID, else the stack's setting."""
    for value in (option, *(os.environ.get(name) for name in SUBSCRIPTION_ENV), pinned):
        if value:
            return value
    fail(
        "no subscription: pass --subscription, set ARM_SUBSCRIPTION_ID (what the azure-native "
        "provider reads), or azure-native:subscriptionId in Pulumi.<stack>.yaml",
        ExitCode.USAGE,
    )


@app.command("preflight")
def preflight(
    stack: Annotated[
        str,
        typer.Option("--env", "--stack", help="Stack: dev, qa, prod or a short-lived dev-<id>."),
    ] = "dev",
    subscription: Annotated[
        str | None,
        typer.Option("--subscription", help="Subscription id (default: ARM_SUBSCRIPTION_ID)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (for CI).")] = False,
) -> None:
    """Check the subscription before `pulumi up`: quota, names, soft delete, providers, roles.

    Reads the stack's settings and the resources its program declares (a mock run, like `mlops
    infra plan`), then the subscription, read-only, with the signed-in Azure identity. Exit 1 when
    a check fails; each failure names its fix.
    """
    from pipelines.azure.client import default_credential
    from pipelines.cli.stack_declaration import declared_stack
    from pipelines.preflight.azure import AzureReader
    from pipelines.preflight.run import preflight as run_preflight

    with reported():
        declared = declared_stack(stack)
        subscription_id = subscription_of(subscription, declared.subscription_id)
        errors.print(f"preflight {stack}: subscription {subscription_id}, {declared.location}")
        result = run_preflight(declared, AzureReader(default_credential(), subscription_id), subscription_id)
    if as_json:
        typer.echo(result.to_json())
    else:
        table = Table("status", "check", "detail", "fix", show_lines=False)
        for check in result.checks:
            status = str(check.status)
            table.add_row(
                f"[{STYLE[status]}]{status}[/]", escape(check.title), escape(check.detail), escape(check.fix)
            )
        console.print(table)
        console.print(f"preflight {stack}: {result.summary()}")
    raise typer.Exit(int(result.exit_code))
