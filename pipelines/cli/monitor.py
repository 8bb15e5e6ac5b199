"""``mlops monitor``: drift between the serving model's training data and what production sent.

Exit codes: 0 no drift; 3 drift (``ExitCode.DRIFT``: a feature, the predictions or, with labels,
the live error crossed its threshold); 1 the check could not run (nothing collected, too few rows,
no reference, a corrupt file); 2 usage. With ``--retrain``, drift runs the local lifecycle and the
exit code is the lifecycle's (its gate decides as always).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from pipelines.cli.common import Env, EnvOption, console, fail, reported
from pipelines.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from pipelines.local.monitor import MonitorOutcome

app = typer.Typer()


def _table(outcome: MonitorOutcome) -> Table:
    summary = outcome.summary
    verdict = f"DRIFT: {', '.join(summary['drifted'])}" if outcome.drift else "no drift"
    table = Table(title=f"v{outcome.version}: {verdict}", title_justify="left")
    for column in ("feature", "kind", summary["statistic"], "threshold", "out of range", "drift"):
        table.add_column(column)
    for f in summary["features"]:
        table.add_row(
            f["name"],
            f["kind"],
            f"{f['value']:.4f}",
            f"{f['threshold']:g}",
            f"{f['out_of_range_rate']:.1%}",
            "yes" if f["drift"] else "",
        )
    p = summary["prediction"]
    table.add_row(
        "prediction", "numeric", f"{p['value']:.4f}", f"{p['threshold']:g}", "", "yes" if p["drift"] else ""
    )
    return table


def _print(outcome: MonitorOutcome) -> None:
    summary = outcome.summary
    window, reference = summary["window"], summary["reference"]
    console.print(_table(outcome))
    console.print(
        f"{window['rows']} production rows ({window['requests']} requests, "
        f"{window['from']} .. {window['to']}) vs {reference['rows']} training rows of {reference['source']}"
    )
    if (perf := summary.get("performance")) is not None:
        console.print(
            f"labelled rows {perf['labelled_rows']}: RMSE {perf['rmse']:.2f} "
            f"(offline {perf['offline_rmse']}), MAE {perf['mae']:.2f} (offline {perf['offline_mae']})"
            f"{'  DEGRADED' if perf['degraded'] else ''}"
        )
    console.print(f"report: {outcome.index}")


@app.command()
def monitor(
    env: EnvOption = Env.local,
    labels: Annotated[
        Path | None, typer.Option(help="CSV of request_id,row,target: also report live RMSE/MAE.")
    ] = None,
    reference_data: Annotated[
        Path | None, typer.Option(help="The serving model's training CSV, if not the bundled data.")
    ] = None,
    window_hours: Annotated[
        float | None, typer.Option(min=0.001, help="Only rows collected in the last N hours.")
    ] = None,
    retrain: Annotated[bool, typer.Option(help="On drift, run the lifecycle (train, gate, deploy).")] = False,
    data: Annotated[Path | None, typer.Option(help="With --retrain: the training CSV.")] = None,
    params: Annotated[
        Path | None, typer.Option(help="With --retrain: the use-case file (default: config/usecase.yaml).")
    ] = None,
    schedule: Annotated[
        bool, typer.Option(help="qa/prod: create or update the Azure ML model monitor (MonitorSchedule).")
    ] = False,
    summary_file: Annotated[Path | None, typer.Option(help="Also write the JSON summary here.")] = None,
    model_name: Annotated[
        str | None, typer.Option(help="The registered model (default: the use case's model_name).")
    ] = None,
) -> None:
    """Compare what production sent with the serving model's training data; exit 3 on drift."""
    if model_name is None:
        from model.params import ParamsError, load_params

        with reported():
            try:
                model_name = load_params(params).model_name
            except ParamsError as error:
                raise UsageError(str(error)) from None
    if env is Env.local:
        if schedule:
            fail(
                "--schedule creates the Azure ML model monitor: use it with --env qa or prod", ExitCode.USAGE
            )
        _local(labels, reference_data, window_hours, retrain, data, params, summary_file, model_name)
        return
    if env is Env.dev:
        fail("dev has no production traffic to monitor: use --env local, qa or prod", ExitCode.USAGE)
    if not schedule:
        fail(
            f"on {env.value} the check runs in Azure ML's model monitor: create or update it with "
            f"`mlops monitor --env {env.value} --schedule` (docs/monitoring.md)",
            ExitCode.USAGE,
        )
    from pipelines.azure import monitoring

    with reported():
        result = monitoring.schedule_monitor(env.value, model_name, reference_data)
    console.print(f"model monitor {result.name} on {result.endpoint}/{result.deployment}: {result.trigger}")


def _local(
    labels: Path | None,
    reference_data: Path | None,
    window_hours: float | None,
    retrain: bool,
    data: Path | None,
    params: Path | None,
    summary_file: Path | None,
    model_name: str,
) -> None:
    from pipelines.local import monitor as local_monitor
    from pipelines.local.registry import LocalRegistry
    from pipelines.local.state import StatePaths

    with reported():
        registry = LocalRegistry(StatePaths.from_env())
        options = local_monitor.MonitorOptions(
            model_name=model_name, reference_data=reference_data, labels=labels, window_hours=window_hours
        )
        outcome = local_monitor.check(registry, options)
    _print(outcome)
    if summary_file is not None:
        summary_file.write_text(json.dumps(outcome.summary, indent=2) + "\n")
    if not outcome.drift:
        return
    if not retrain:
        raise typer.Exit(int(ExitCode.DRIFT))
    from pipelines.cli.run import _local_options, _run_local, _summary_table

    console.print("drift: retraining (the gate decides whether the new model replaces the served one)")
    with reported():
        options_run = _local_options(data, params, {}, deploy=True)
    run_summary = _run_local(options_run)
    console.print(_summary_table(run_summary))
    if run_summary.problem:
        fail(run_summary.problem)
