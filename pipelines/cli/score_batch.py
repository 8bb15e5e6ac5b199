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
    source: Annotated[
        str,
        typer.Option(
            "--input",
            help="A CSV or Parquet file, or a folder of them; qa/prod: a folder, as a data asset "
            "(azureml:NAME:VERSION), an azureml:// or https:// URI, or a local folder to upload.",
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            help="local: the scored rows, a .parquet or .csv file (required); qa/prod: the output "
            "folder URI (azureml://datastores/<store>/paths/<path>/; default: the job's own folder)."
        ),
    ] = None,
    env: EnvOption = Env.local,
    model_version: Annotated[
        str | None,
        typer.Option(
            help="The registered version (local default: production, else the newest; qa/prod: required)."
        ),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="local: the rejected rows, CSV (default: <output>.rejects.csv).")
    ] = None,
    instances: Annotated[
        int, typer.Option(min=1, max=100, help="qa/prod: nodes of the batch cluster to use.")
    ] = 1,
) -> None:
    """Score every row of a table: the input's columns plus `prediction`; rows the service would
    refuse go to the rejects file with their row number and reason."""
    if env is Env.dev:
        fail("score-batch runs with --env local, qa or prod (dev has no batch cluster)", ExitCode.USAGE)
    if env is not Env.local:
        _score_on_azure(env, source, output, model_version, instances)
        return
    if output is None:
        fail("score-batch --env local needs --output PATH (.parquet or .csv)", ExitCode.USAGE)
    _score_locally(Path(source), Path(output), model_version, rejects)


def _score_on_azure(
    env: Env, source: str, output: str | None, model_version: str | None, instances: int
) -> None:
    if model_version is None:
        fail(f"score-batch --env {env.value} needs --model-version N", ExitCode.USAGE)
    from pipelines.azure import batch_job
    from pipelines.azure.refs import ModelRef
    from pipelines.cli.deploy import _model_name

    with reported():
        model = ModelRef(_model_name(), model_version)
        submitted = batch_job.score_batch(
            env.value, model, source, output, instance_count=instances, progress=_progress
        )
    console.print(
        f"submitted {submitted.job_name}: {submitted.model} on {submitted.compute}"
        + (f"\n{submitted.studio_url}" if submitted.studio_url else ""),
        markup=False,
    )


def _progress(line: str) -> None:
    console.print(line, markup=False)


def _score_locally(source: Path, output: Path, model_version: str | None, rejects: Path | None) -> None:
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
