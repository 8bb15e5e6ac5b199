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

    from model.params import DEFAULT_PARAMS, ParamsError
    from pipelines.local_lifecycle import RunOptions, run_local, validate_options
    from pipelines.local_runner import StepFailed

    if env is not Env.local:
        fail(
            f"`mlops run` runs the local lifecycle only (got --env {env.value}); "
            f"for {env.value} use `mlops train --env {env.value}` and `mlops deploy --env {env.value}`",
            2,
        )
    overrides = {
        "train.alpha": alpha,
        "train.test_size": test_size,
        "train.seed": seed,
        "gate.min_improvement": min_improvement,
        "gate.latency_budget_ms": latency_budget_ms,
    }
    options = RunOptions(
        data=data,
        params_file=params or DEFAULT_PARAMS,
        overrides={k: v for k, v in overrides.items() if v is not None},
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


# --- command groups (each lives in its own module; add one line per group) ---
from pipelines import stacks_cli  # noqa: E402

app.add_typer(stacks_cli.app, name="stacks")
from pipelines import infra_cli  # noqa: E402

app.add_typer(infra_cli.app, name="infra")
