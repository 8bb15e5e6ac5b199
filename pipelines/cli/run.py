"""``mlops run`` (the local lifecycle) and ``mlops train`` (training only: local, or dev on Azure ML)."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from pipelines.cli.common import Env, EnvOption, console, errors, fail, reported
from pipelines.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from model.params import Params
    from pipelines.local.lifecycle import RunOptions, RunSummary

app = typer.Typer()


class Compute(StrEnum):
    """Where `mlops train --env dev` runs the pipeline steps."""

    azureml = "azureml"
    databricks = "databricks"


DataOption = Annotated[Path | None, typer.Option(help="Training CSV (default: the use case's data).")]
ParamsOption = Annotated[
    Path | None, typer.Option(help="Use-case file (default: $MLOPS_USECASE, else config/usecase.yaml).")
]
AlphaOption = Annotated[float | None, typer.Option(help="Shortcut for --set estimator.alpha=VALUE.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a use-case setting: estimator.<hyperparameter>=VALUE, train.<key>=VALUE or "
        "gate.<key>=VALUE (repeatable).",
    ),
]
TestSizeOption = Annotated[float | None, typer.Option(help="Held-out fraction (0.05 .. 0.5).")]
SeedOption = Annotated[int | None, typer.Option(help="Split seed.")]
MarginOption = Annotated[
    float | None, typer.Option(help="Relative margin the challenger must beat the champion by.")
]
LatencyOption = Annotated[float | None, typer.Option(help="p99 single-row latency budget.")]


def _overrides(settings: list[str] | None, **options: Any) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs, then the shortcut options; a malformed pair exits 2."""
    from model.params import ParamsError, option_overrides, parse_assignments

    try:
        assigned = parse_assignments(settings or [])
    except ParamsError as error:
        fail(str(error), ExitCode.USAGE)
    return {**assigned, **option_overrides(**options)}


def _checked_params(data: Path | None, params_file: Path | None, overrides: dict[str, Any]) -> Params:
    """The settings a run will use: the use case with its overrides, its estimator's
    hyperparameters, task and pins checked; a missing data file or a bad setting is a usage error."""
    from model.estimator import check_params, distributions
    from model.params import ParamsError, load_params
    from pipelines.pins import check_pins

    if data is not None and not data.is_file():
        raise UsageError(f"data file not found: {data}")
    try:
        params = load_params(params_file, overrides)
        check_params(params)
    except ParamsError as error:
        raise UsageError(str(error)) from None
    if data is None and not params.data_path.is_file():
        raise UsageError(f"data file not found: {params.data_path} (the use case's 'data')")
    check_pins(distributions(params.estimator))
    return params


def _local_options(
    data: Path | None, params: Path | None, overrides: dict[str, Any], *, deploy: bool
) -> RunOptions:
    """The local run's options, checked (:func:`_checked_params`)."""
    from model.params import default_params_path
    from pipelines.local.lifecycle import RunOptions

    options = RunOptions(
        data=data,
        params_file=params or default_params_path(),
        overrides=overrides,
        deploy=deploy,
        warm=os.environ.get("MLOPS_COLD_STEPS", "") not in ("1", "true"),
    )
    _checked_params(options.data, options.params_file, overrides)
    return options


def _run_local(options: RunOptions) -> RunSummary:
    """Run the local lifecycle; a failed step prints its log's last lines and exits 1."""
    from pipelines.local.lifecycle import run_local
    from pipelines.local.runner import StepFailed

    try:
        return run_local(options, console)
    except StepFailed as error:
        errors.print(
            f"[red]step {error.step} failed[/red] (exit {error.exit_code}); last lines of {error.log}:"
        )
        for line in error.tail:
            errors.print(f"  {line}", markup=False, highlight=False)
        problem = next(
            (line for line in reversed(error.tail) if line.startswith(("error:", "data check"))), None
        )
        fail(problem or f"step {error.step} failed; nothing was registered")


def _summary_table(summary: RunSummary) -> Table:
    table = Table(title="mlops run --env local", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    decision = f"registered v{summary.version}" if summary.registered else "not registered"
    table.add_row("model", summary.model_name)
    table.add_row("decision", f"{decision}: {summary.reason}")
    champion = summary.champion or {}
    for metric in summary.challenger:
        theirs = f"{champion[metric]:.4f}" if metric in champion else "-"
        table.add_row(
            metric,
            f"{summary.challenger[metric]:.4f}  (champion v{summary.champion_version}: {theirs})"
            if summary.champion_version
            else f"{summary.challenger[metric]:.4f}",
        )
    if summary.endpoint_url:
        table.add_row("endpoint", f"{summary.endpoint_url} (serving v{summary.serving_version})")
    if summary.smoke_test:
        table.add_row("smoke test", summary.smoke_test)
    table.add_row("seconds", "  ".join(f"{k} {v:.1f}" for k, v in summary.seconds.items()))
    table.add_row("total", f"{sum(summary.seconds.values()):.1f}s")
    table.add_row("run folder", str(summary.run_dir))
    return table


@app.command()
def run(
    env: EnvOption = Env.local,
    data: DataOption = None,
    params: ParamsOption = None,
    alpha: AlphaOption = None,
    test_size: TestSizeOption = None,
    seed: SeedOption = None,
    min_improvement: MarginOption = None,
    latency_budget_ms: LatencyOption = None,
    settings: SetOption = None,
    deploy: Annotated[bool, typer.Option(help="Deploy and smoke-test after training.")] = True,
    summary_file: Annotated[Path | None, typer.Option(help="Also write the summary as JSON here.")] = None,
) -> None:
    """Run the whole lifecycle on this machine: data check, train, evaluate, register, deploy, smoke test."""
    if env is not Env.local:
        fail(
            f"`mlops run` runs the local lifecycle only (got --env {env.value}); "
            f"for {env.value} use `mlops train --env {env.value}` and `mlops deploy --env {env.value}`",
            ExitCode.USAGE,
        )
    overrides = _overrides(
        settings,
        alpha=alpha,
        test_size=test_size,
        seed=seed,
        min_improvement=min_improvement,
        latency_budget_ms=latency_budget_ms,
    )
    with reported():
        options = _local_options(data, params, overrides, deploy=deploy)
    summary = _run_local(options)
    console.print(_summary_table(summary))
    if summary_file:
        summary_file.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    if summary.problem:
        fail(summary.problem)


@app.command()
def train(
    env: Annotated[
        Env, typer.Option("--env", "-e", help="dev (Azure ML) or local (this machine).", case_sensitive=False)
    ] = Env.dev,
    champion_from: Annotated[
        str | None,
        typer.Option(help="dev only: where the champion is served: prod (default), qa, dev or none."),
    ] = None,
    data: DataOption = None,
    params: ParamsOption = None,
    alpha: AlphaOption = None,
    test_size: TestSizeOption = None,
    seed: SeedOption = None,
    min_improvement: MarginOption = None,
    latency_budget_ms: LatencyOption = None,
    settings: SetOption = None,
    wait: Annotated[
        bool, typer.Option(help="dev only: follow the job to the end (--no-wait: submit only).")
    ] = True,
    timeout_minutes: Annotated[
        float | None, typer.Option(help="dev only: give up waiting after this long (default 180).")
    ] = None,
    summary_file: Annotated[Path | None, typer.Option(help="Write the outcome as JSON here.")] = None,
    compute: Annotated[
        Compute,
        typer.Option(help="dev only: run the steps on Azure ML compute or as an Azure Databricks job."),
    ] = Compute.azureml,
) -> None:
    """Train, gate and register (no deploy): on Azure ML (or Azure Databricks) for dev, locally for local.

    Exit 0 when a version was registered and when the challenger was not better; 1 when a step failed.
    """
    overrides = _overrides(
        settings,
        alpha=alpha,
        test_size=test_size,
        seed=seed,
        min_improvement=min_improvement,
        latency_budget_ms=latency_budget_ms,
    )
    if env is Env.local:
        dev_only = {
            "--champion-from": champion_from is not None,
            "--no-wait": not wait,
            "--timeout-minutes": timeout_minutes is not None,
            "--compute": compute is not Compute.azureml,
        }
        given = [name for name, is_given in dev_only.items() if is_given]
        if given:
            fail(
                f"{', '.join(given)}: for --env dev only (local's champion is its registry's production, "
                "its compute this machine)",
                ExitCode.USAGE,
            )
        _train_local(data, params, overrides, summary_file)
    elif env is Env.dev:
        minutes = 180.0 if timeout_minutes is None else timeout_minutes
        _train_dev(champion_from or "prod", data, params, overrides, wait, minutes, summary_file, compute)
    else:
        fail(
            f"training runs in dev (or local), not {env.value}: models reach qa and prod by promotion",
            ExitCode.USAGE,
        )


def _print_outcome(registered: bool, name: str, version: str | None, reason: str) -> None:
    if registered:
        console.print(f"registered {name} version {version}: {reason}")
    else:
        console.print(f"not better, registered nothing: {reason}")


def _train_local(
    data: Path | None, params: Path | None, overrides: dict[str, Any], summary_file: Path | None
) -> None:
    with reported():
        options = _local_options(data, params, overrides, deploy=False)
    summary = _run_local(options)
    if summary_file:
        outcome = {
            "registered": summary.registered,
            "model_name": summary.model_name,
            "model_version": summary.version,
            "reason": summary.reason,
        }
        summary_file.write_text(json.dumps(outcome, indent=2) + "\n")
    _print_outcome(summary.registered, summary.model_name, summary.version, summary.reason)


def _train_dev(
    champion_from: str,
    data: Path | None,
    params: Path | None,
    overrides: dict[str, Any],
    wait: bool,
    timeout_minutes: float,
    summary_file: Path | None,
    compute: Compute = Compute.azureml,
) -> None:
    import tempfile

    from model.lineage import git_commit
    from model.params import default_params_path, write_params
    from pipelines.specs import OVERRIDE_INPUTS

    with reported():
        settings = _checked_params(data, params, overrides)
    data_file = data or settings.data_path
    params_file = params or default_params_path()
    scratch = tempfile.TemporaryDirectory(prefix="mlops-usecase-")  # removed once submitted
    if any(key not in OVERRIDE_INPUTS for key in overrides):
        # `--set` overrides with no component input: the job reads the use case as resolved here.
        params_file = Path(scratch.name) / "usecase.yaml"
        write_params(settings, params_file)

    title = "Azure Databricks job" if compute is Compute.databricks else "Azure ML pipeline job"
    with scratch, reported(), console.status(title) as status:
        from pipelines.azure.training import train_in_dev

        def progress(line: str) -> None:
            status.update(line.strip())
            console.print(line, markup=False)

        train = train_in_dev
        if compute is Compute.databricks:
            from pipelines.azure.databricks_training import train_on_databricks

            train = train_on_databricks
        outcome = train(
            champion_from=champion_from,
            model_name=settings.model_name,
            data_file=data_file,
            params_file=params_file,
            overrides={key: value for key, value in overrides.items() if key in OVERRIDE_INPUTS},
            git_commit=git_commit(),
            wait=wait,
            timeout_s=timeout_minutes * 60,
            progress=progress,
        )
    if summary_file:
        summary_file.write_text(json.dumps(outcome.to_summary(), indent=2) + "\n")
    if outcome.status in ("registered", "not_better"):
        registered = outcome.status == "registered"
        _print_outcome(registered, outcome.model_name, outcome.model_version, outcome.reason or "")
    elif outcome.status == "submitted":
        console.print(f"submitted {outcome.job_name} (not waiting): {outcome.studio_url}")
    else:
        fail(
            f"job {outcome.job_name} failed at step {outcome.failed_step or '?'}; logs: "
            f"{outcome.failed_step_url or outcome.studio_url}"
        )
