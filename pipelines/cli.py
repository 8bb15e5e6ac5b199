"""The `mlops` command: one entry point for every environment."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="MLOps lifecycle for the diabetes model: train, gate, register, deploy, smoke-test.",
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


class Env(StrEnum):
    """The environments: `local` runs on this machine; the others are Pulumi stacks on Azure."""

    local = "local"
    dev = "dev"
    qa = "qa"
    prod = "prod"


EnvOption = Annotated[Env, typer.Option("--env", "-e", help="Target environment.", case_sensitive=False)]


@app.callback()
def main() -> None:
    """Train, gate, register, deploy and smoke-test the diabetes model, locally or on Azure."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit non-zero."""
    errors.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(code)


def _summary_table(summary: Any) -> Table:
    table = Table(title="mlops run --env local", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    decision = f"registered v{summary.version}" if summary.registered else "not registered"
    table.add_row("model", summary.model_name)
    table.add_row("decision", f"{decision}: {summary.reason}")
    champion = summary.champion or {}
    for metric in ("rmse", "mae", "r2", "latency_p99_ms"):
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
    data: Annotated[
        Path | None, typer.Option(help="Training CSV (default: the bundled diabetes data).")
    ] = None,
    params: Annotated[Path | None, typer.Option(help="Params file (default: config/train.yaml).")] = None,
    alpha: Annotated[float | None, typer.Option(help="Ridge regularisation strength (> 0).")] = None,
    test_size: Annotated[float | None, typer.Option(help="Held-out fraction (0.05 .. 0.5).")] = None,
    seed: Annotated[int | None, typer.Option(help="Split seed.")] = None,
    min_improvement: Annotated[
        float | None, typer.Option(help="Relative margin the challenger must beat the champion by.")
    ] = None,
    latency_budget_ms: Annotated[float | None, typer.Option(help="p99 single-row latency budget.")] = None,
    deploy: Annotated[bool, typer.Option(help="Deploy and smoke-test after training.")] = True,
    summary_file: Annotated[Path | None, typer.Option(help="Also write the summary as JSON here.")] = None,
) -> None:
    """Run the whole lifecycle on this machine: data check, train, evaluate, register, deploy, smoke test."""
    import os

    from model.params import DEFAULT_PARAMS, ParamsError, option_overrides
    from pipelines.local_lifecycle import RunOptions, run_local, validate_options
    from pipelines.local_runner import StepFailed

    if env is not Env.local:
        fail(
            f"`mlops run` runs the local lifecycle only (got --env {env.value}); "
            f"for {env.value} use `mlops train --env {env.value}` and `mlops deploy --env {env.value}`",
            2,
        )
    overrides = option_overrides(
        alpha=alpha,
        test_size=test_size,
        seed=seed,
        min_improvement=min_improvement,
        latency_budget_ms=latency_budget_ms,
    )
    options = RunOptions(
        data=data,
        params_file=params or DEFAULT_PARAMS,
        overrides=overrides,
        deploy=deploy,
        warm=os.environ.get("MLOPS_COLD_STEPS", "") not in ("1", "true"),
    )
    if data is not None and not data.is_file():
        fail(f"data file not found: {data}", 2)
    try:
        validate_options(options)
    except ParamsError as error:
        fail(str(error), 2)
    try:
        summary = run_local(options, console)
    except StepFailed as error:
        errors.print(
            f"[red]step {error.step} failed[/red] (exit {error.exit_code}); last lines of {error.log}:"
        )
        for line in error.tail:
            errors.print(f"  {line}", markup=False, highlight=False)
        problem = next(
            (line for line in reversed(error.tail) if line.startswith(("error:", "data check"))), None
        )
        fail(problem or f"step {error.step} failed; nothing was registered", 1)
    console.print(_summary_table(summary))
    if summary_file:
        summary_file.write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    if summary.problem:
        fail(summary.problem)


def _local_registry() -> Any:
    from pipelines.registry import LocalRegistry
    from pipelines.state import StatePaths

    return LocalRegistry(StatePaths.from_env())


def _model_name() -> str:
    from model.params import load_params

    return load_params().model_name


@app.command()
def deploy(
    env: EnvOption = Env.local,
    model_version: Annotated[
        str | None, typer.Option(help="Registered version (default: production, else the newest).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="qa/prod: the model to serve, NAME:VERSION.")
    ] = None,
) -> None:
    """Serve a registered model version; locally: a background process on 127.0.0.1."""
    if env is not Env.local:
        from pipelines import azure_cli

        azure_cli.deploy_azure(env.value, model)
        return
    from pipelines.local_deploy import NothingToServe
    from pipelines.local_endpoint import DeployError

    registry = _local_registry()
    try:
        with console.status("deploying") as status:
            from pipelines import local_deploy

            record = local_deploy.deploy(registry, _model_name(), model_version, progress=status.update)
    except (NothingToServe, LookupError, DeployError) as error:
        fail(str(error))
    console.print(f"serving {record.model_name} v{record.model_version} at {record.url} (pid {record.pid})")


@app.command("smoke-test")
def smoke_test(env: EnvOption = Env.local) -> None:
    """POST sample rows to the endpoint and compare with the model's offline predictions."""
    if env is not Env.local:
        from pipelines import azure_cli

        azure_cli.smoke_azure(env.value)
        return
    from pipelines import local_deploy
    from pipelines.smoke import SmokeTestError

    record = local_deploy.running(_local_registry())
    if record is None:
        fail("no local endpoint is running: start one with `mlops deploy --env local`")
    try:
        result = local_deploy.smoke(record)
    except SmokeTestError as error:
        fail(f"smoke test failed: {error}")
    console.print(
        f"smoke test passed: {result.rows} rows from {record.score_url} match v{record.model_version}'s "
        f"offline predictions (max error {result.max_abs_error:.2g}, {result.attempts} attempt(s))"
    )


endpoint_app = typer.Typer(no_args_is_help=True, help="The local scoring endpoint.")
app.add_typer(endpoint_app, name="endpoint")


@endpoint_app.command("status")
def endpoint_status(env: EnvOption = Env.local) -> None:
    """Show the local endpoint (exit 1 when none is running)."""
    from pipelines import local_deploy

    record = local_deploy.running(_local_registry())
    if record is None:
        fail("no local endpoint is running")
    console.print(f"{record.url}  {record.model_name} v{record.model_version}  pid {record.pid}")


@endpoint_app.command("stop")
def endpoint_stop(env: EnvOption = Env.local) -> None:
    """Stop the local endpoint."""
    from pipelines import local_endpoint
    from pipelines.state import StatePaths

    stopped = local_endpoint.stop(StatePaths.from_env().endpoint_dir)
    console.print("stopped the local endpoint" if stopped else "no local endpoint was running")


# --- command groups (each lives in its own module; add one line per group) ---
from pipelines import stacks_cli  # noqa: E402

app.add_typer(stacks_cli.app, name="stacks")
from pipelines import infra_cli  # noqa: E402

app.add_typer(infra_cli.app, name="infra")
from pipelines import azure_cli  # noqa: E402

azure_cli.register(app)
