"""``mlops stacks``: short-lived Pulumi stacks (create one, tear them down).

Heavy imports (pulumi.automation, azure.*) happen inside the commands, so that
``mlops --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli.common import fail, reported
from pipelines.errors import ExitCode, UsageError
from pipelines.stacks.selection import Mode, Selection, format_expiry, plan_teardown

if TYPE_CHECKING:
    from pipelines.stacks.create import StackAdmin
    from pipelines.stacks.teardown import CloudOps, StackResult, StepResult

app = typer.Typer(
    no_args_is_help=True,
    help="Short-lived Pulumi stacks (dev-<id>): create one from dev's settings, tear them down.",
)

console = Console(highlight=False, soft_wrap=True)


def now() -> datetime:
    """The clock (tests replace it)."""
    return datetime.now(UTC)


def find_project_dir(start: Path | None = None) -> Path:
    """The folder holding ``Pulumi.yaml``: ``start`` (default: cwd) or one of its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise UsageError(f"no Pulumi.yaml in {here} or its parents: run from the project or pass --work-dir")


def make_cloud_ops(work_dir: Path) -> CloudOps:
    """The real CloudOps (tests replace this factory)."""
    from pipelines.stacks.adapters import build_cloud_ops

    return build_cloud_ops(work_dir, secrets_provider=os.environ.get("PULUMI_SECRETS_PROVIDER"))


def make_stack_admin(work_dir: Path, secrets_provider: str | None) -> StackAdmin:
    """The real StackAdmin (tests replace this factory)."""
    from pipelines.stacks.adapters import PulumiStackOps

    return PulumiStackOps(work_dir, secrets_provider=secrets_provider)


def stdin_is_interactive() -> bool:
    return sys.stdin.isatty()


WorkDir = Annotated[
    Path | None,
    typer.Option("--work-dir", help="Folder with Pulumi.yaml (default: found from the cwd)."),
]


# --- teardown -----------------------------------------------------------------------------


def _print_plan(selection: Selection, *, mode: Mode) -> None:
    table = Table(title=f"Teardown plan ({mode.value})", show_lines=False)
    table.add_column("stack")
    table.add_column("expires at")
    table.add_column("decision")
    for candidate in selection.candidates:
        state = "expired" if candidate.expired else "not yet expired"
        table.add_row(
            candidate.name,
            format_expiry(candidate.expires_at),
            f"[bold red]TEAR DOWN[/] ({state})",
        )
    for rejection in selection.rejected:
        table.add_row(rejection.name, "", f"keep: {rejection.reason}")
    console.print(table)
    if selection.candidates:
        from pipelines.stacks.teardown import STEP_DESCRIPTIONS

        console.print("Steps for each stack, in order:")
        for index, description in enumerate(STEP_DESCRIPTIONS.values(), start=1):
            console.print(f"  {index}. {description}")


class RichReporter:
    """Progress per stack and step."""

    def stack_started(self, stack: str) -> None:
        console.rule(f"[bold]{stack}")

    def step_finished(self, stack: str, result: StepResult) -> None:
        from pipelines.stacks.teardown import Status

        style = {
            Status.DONE: "green",
            Status.ALREADY_GONE: "green",
            Status.NOT_APPLICABLE: "dim",
            Status.FAILED: "bold red",
            Status.SKIPPED: "yellow",
        }[result.status]
        detail = f" - {result.detail}" if result.detail else ""
        console.print(f"  [{style}]{result.status.value:>14}[/] {result.step.value}{detail}")

    def stack_finished(self, result: StackResult) -> None:
        failed = result.failed_step
        if failed is None:
            console.print(f"  [green]{result.stack}: torn down[/]")
        else:
            console.print(f"  [bold red]{result.stack}: FAILED at {failed.step.value}[/]")


def _print_summary(results: list[StackResult]) -> None:
    table = Table(title="Teardown results")
    table.add_column("stack")
    table.add_column("result")
    table.add_column("detail")
    for result in results:
        failed = result.failed_step
        if failed is None:
            table.add_row(result.stack, "[green]ok[/]", "")
        else:
            skipped = [s.step.value for s in result.steps if s.status.value == "skipped"]
            detail = f"{failed.step.value}: {failed.detail}"
            if skipped:
                detail += f"; skipped: {', '.join(skipped)}"
            table.add_row(result.stack, "[bold red]failed[/]", detail)
    console.print(table)


@app.command()
def teardown(
    expired: Annotated[
        bool, typer.Option("--expired", help="Every short-lived stack whose expiry has passed.")
    ] = False,
    stack: Annotated[
        str | None, typer.Option("--stack", help="One short-lived stack, expired or not.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Tear down without asking.")] = False,
    work_dir: WorkDir = None,
) -> None:
    """Tear down short-lived stacks (never dev, qa, prod or a protected stack).

    For each stack: online endpoints, the Azure ML workspace (permanently), the Log
    Analytics workspace (force), pulumi destroy, the Key Vault purge, the stack itself.
    Without --yes it only shows the plan (or asks, when a terminal is attached).
    """
    if expired == (stack is not None):
        fail("give exactly one of --expired or --stack NAME", ExitCode.USAGE)
    mode = Mode.EXPIRED if expired else Mode.NAMED
    with reported():
        ops = make_cloud_ops(work_dir or find_project_dir())
        stacks = ops.list_stacks()

    selection = plan_teardown(stacks, now=now(), mode=mode, stack_name=stack)
    _print_plan(selection, mode=mode)

    if mode is Mode.NAMED and not selection.candidates:
        reason = selection.rejected[0].reason if selection.rejected else "not selected"
        if reason == "no such stack":
            console.print(f"Stack {stack} does not exist: nothing to do.")
            return
        fail(f"Refusing to tear down {stack}: {reason}", ExitCode.USAGE)
    if not selection.candidates:
        console.print("No stack to tear down.")
        return
    if dry_run:
        console.print("Dry run: nothing was changed.")
        return
    if not yes:
        if not stdin_is_interactive():
            console.print("Nothing was changed: pass --yes to tear these stacks down.")
            return
        if not typer.confirm(f"Tear down {len(selection.candidates)} stack(s)?", default=False):
            console.print("Nothing was changed.")
            return

    from pipelines.stacks.teardown import TeardownExecutor, summarize

    results = TeardownExecutor(ops, reporter=RichReporter()).run(selection.candidates)
    _print_summary(results)
    done, failed = summarize(results)
    console.print(f"{done} stack(s) torn down, {failed} failed.")
    if failed:
        fail(f"{failed} stack(s) failed to tear down: see the results above")


# --- create-short-lived ---------------------------------------------------------------------


@app.command("create-short-lived")
def create_short_lived_command(
    name: Annotated[str, typer.Option("--name", help="Stack name, dev-<id> (e.g. dev-pr-42).")],
    ttl: Annotated[str, typer.Option("--ttl", help="Time to live from now: 90m, 48h, 7d, 2w.")] = "48h",
    base: Annotated[str, typer.Option("--from", help="Stack whose settings are copied.")] = "dev",
    secrets_provider: Annotated[
        str | None,
        typer.Option(
            "--secrets-provider",
            envvar="PULUMI_SECRETS_PROVIDER",
            help="Secrets provider for a new stack (e.g. azurekeyvault://...).",
        ),
    ] = None,
    work_dir: WorkDir = None,
) -> None:
    """Create (or renew) a short-lived stack from dev's settings, tagged with its expiry."""
    from pipelines.stacks.create import create_short_lived, parse_ttl

    with reported():
        lifetime = parse_ttl(ttl)
        admin = make_stack_admin(work_dir or find_project_dir(), secrets_provider)
        result = create_short_lived(admin, name=name, ttl=lifetime, now=now(), base=base)
    verb = "Created" if result.created else "Renewed"
    console.print(
        f"{verb} {result.name} from {base} ({result.copied_keys} setting(s) copied); "
        f"expires at {result.expires_at}."
    )
