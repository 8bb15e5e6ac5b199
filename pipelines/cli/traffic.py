"""``mlops traffic --env local``: send held-out rows, optionally shifted, to the local endpoint."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import Env, EnvOption, console, errors, fail, reported
from pipelines.errors import ExitCode

app = typer.Typer()


@app.command()
def traffic(
    env: EnvOption = Env.local,
    rows: Annotated[
        int | None, typer.Option(min=1, help="Rows to send (cycling through the data); default: each once.")
    ] = None,
    shift: Annotated[
        list[str] | None,
        typer.Option(help="Shift a feature: FEATURE=+N or FEATURE=-N (repeatable), e.g. bmi=+8."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="CSV of rows to send (default: the serving version's held-out rows).")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Rows per request.")] = 10,
    labels_out: Annotated[
        Path | None, typer.Option(help="Write request_id,row,target of the rows sent here (for --labels).")
    ] = None,
) -> None:
    """Send rows to the local endpoint, so that it collects them for `mlops monitor --env local`."""
    if env is not Env.local:
        fail(
            f"`mlops traffic` sends to the local endpoint only (got --env {env.value}): "
            "on Azure, production traffic is what the endpoint collects",
            ExitCode.USAGE,
        )
    from model.monitor_config import MonitorConfigError, load_monitor_config
    from pipelines.errors import UsageError
    from pipelines.local import deploy as local_deploy
    from pipelines.local import traffic as local_traffic
    from pipelines.local.registry import LocalRegistry
    from pipelines.local.state import StatePaths

    with reported():
        shifts = local_traffic.parse_shifts(shift or [])
        try:
            collection = load_monitor_config().collection
        except MonitorConfigError as error:
            raise UsageError(str(error)) from None
        registry = LocalRegistry(StatePaths.from_env())
        record = local_deploy.running(registry)
        if record is None:
            raise UsageError(
                "no local endpoint is running: `mlops run --env local` or `mlops deploy --env local`"
            )
        source = data or local_traffic.held_out_rows(registry, record.model_name, record.model_version)
        result = local_traffic.send(
            record,
            source,
            rows=rows,
            shifts=shifts,
            batch=batch,
            labels_file=labels_out,
            settle_s=local_traffic.settle_seconds(collection.flush_seconds),
            api_key=os.environ.get("SCORING_API_KEY") if record.auth else None,
            progress=errors.print,
        )
    shifted = ", ".join(f"{k} {v:+g}" for k, v in result.shifts.items()) or "none"
    console.print(
        f"sent {result.rows} rows in {result.requests} requests to {record.url} "
        f"({record.model_name} v{record.model_version}); shift: {shifted}; rows from {result.source}"
    )
    if result.labels_file is not None:
        console.print(f"labels: {result.labels_file}")
