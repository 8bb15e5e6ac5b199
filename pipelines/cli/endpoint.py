"""``mlops endpoint status|stop``: the local scoring endpoint (qa and prod: ``mlops smoke-test``)."""

from __future__ import annotations

import typer

from pipelines.cli.common import console, fail

app = typer.Typer(no_args_is_help=True, help="The local scoring endpoint.")


@app.command("status")
def status() -> None:
    """Show the local endpoint (exit 1 when none is running)."""
    from pipelines.local import endpoint
    from pipelines.local.state import StatePaths

    record = endpoint.status(StatePaths.from_env().endpoint_dir)
    if record is None:
        fail("no local endpoint is running")
    console.print(f"{record.url}  {record.model_name} v{record.model_version}  pid {record.pid}")


@app.command("stop")
def stop() -> None:
    """Stop the local endpoint."""
    from pipelines.local import endpoint
    from pipelines.local.state import StatePaths

    stopped = endpoint.stop(StatePaths.from_env().endpoint_dir)
    console.print("stopped the local endpoint" if stopped else "no local endpoint was running")
