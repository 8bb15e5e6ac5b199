"""``mlops score-batch``: score a table (CSV or Parquet, a file or a folder) with a registered model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipelines.cli.common import Env, EnvOption, console, fail, reported
from pipelines.errors import ExitCode

if TYPE_CHECKING:
    from rich.progress import Task

app = typer.Typer()


def _rows_per_second(task: Task) -> str:
    return f"{task.speed:,.0f} rows/s" if task.speed else ""


def _print_summary(summary: dict[str, Any]) -> None:
    console.print(
        f"scored {summary['rows_scored']:,} of {summary['rows_read']:,} rows "
        f"({summary['files']} file(s)) with {summary['model_name']} v{summary['model_version']} "
        f"in {summary['seconds']:.1f} s",
        markup=False,
    )
    console.print(f"output: {summary['output']}", markup=False)
    console.print(f"rejected: {summary['rows_rejected']:,} rows, in {summary['rejects']}", markup=False)


@app.command("score-batch")
def score_batch(
    source: Annotated[Path, typer.Option("--input", help="A CSV or Parquet file, or a folder of them.")],
    output: Annotated[Path, typer.Option(help="The scored rows: a .parquet or .csv file (local).")],
    env: EnvOption = Env.local,
    model_version: Annotated[
        str | None, typer.Option(help="local: the registered version (default: production, else the newest).")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="local: the rejected rows, CSV (default: <output>.rejects.csv).")
    ] = None,
) -> None:
    """Score every row of a table: the input's columns plus `prediction`; rows the service would
    refuse go to the rejects file with their row number and reason."""
    if env is not Env.local:
        fail(f"score-batch runs with --env local here (got {env.value})", ExitCode.USAGE)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines.cli.deploy import _model_name, _registry
    from pipelines.local import batch

    columns = (
        TextColumn("scoring"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[speed]}"),
        TimeElapsedColumn(),
    )
    with reported(), Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("scoring", total=None, speed="")

        def progress(rows: int, total: int | None) -> None:
            bar.update(task, completed=rows, total=total)
            bar.update(task, speed=_rows_per_second(bar.tasks[task]))

        summary = batch.score_batch(
            _registry(), _model_name(), model_version, source, output, rejects=rejects, progress=progress
        )
    _print_summary(summary)
