"""``mlops deploy``, ``smoke-test``, ``promote`` and ``rollback``: a registered model into service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.common import Env, EnvOption, ModelOption, console, fail, reported
from pipelines.errors import ExitCode

if TYPE_CHECKING:
    from pipelines.local.registry import LocalRegistry

app = typer.Typer()


def _model_name() -> str:
    from model.params import load_params

    return load_params().model_name


def _registry() -> LocalRegistry:
    from pipelines.local.registry import LocalRegistry
    from pipelines.local.state import StatePaths

    return LocalRegistry(StatePaths.from_env())


def _progress(line: str) -> None:
    console.print(line, markup=False)


@app.command()
def deploy(
    env: EnvOption = Env.local,
    model_version: Annotated[
        str | None, typer.Option(help="local: the registered version (default: production, else the newest).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="qa/prod: the model to serve, NAME:VERSION.")
    ] = None,
) -> None:
    """Serve a registered model version; locally: a background process on 127.0.0.1."""
    if env is Env.local:
        from pipelines.local import deploy as local_deploy

        with reported(), console.status("deploying") as status:
            record = local_deploy.deploy(_registry(), _model_name(), model_version, progress=status.update)
        console.print(
            f"serving {record.model_name} v{record.model_version} at {record.url} (pid {record.pid})"
        )
        return
    from pipelines.azure import release
    from pipelines.azure.refs import ModelRef

    with reported():
        release.require_serving(env.value, "deploy to")
        if not model:
            fail(f"deploy --env {env.value} needs --model NAME:VERSION", ExitCode.USAGE)
        console.print(release.deploy(env.value, ModelRef.parse(model), _progress), markup=False)


@app.command("smoke-test")
def smoke_test(env: EnvOption = Env.local) -> None:
    """POST the model's sample rows to the endpoint and compare with its offline predictions."""
    if env is Env.local:
        from pipelines.local import deploy as local_deploy

        with reported():
            record = local_deploy.running(_registry())
            if record is None:
                fail("no local endpoint is running: start one with `mlops deploy --env local`")
            result = local_deploy.smoke(record)
        console.print(
            f"smoke test passed: {result.rows} rows from {record.score_url} match v{record.model_version}'s "
            f"offline predictions (max error {result.max_abs_error:.2g}, {result.attempts} attempt(s))"
        )
        return
    from pipelines.azure import release

    with reported():
        console.print(release.smoke(env.value), markup=False)


@app.command()
def promote(
    from_env: Annotated[str, typer.Option("--from", help="Source environment (dev or qa).")],
    to_env: Annotated[str, typer.Option("--to", help="Target environment (qa or prod).")],
    model: ModelOption,
) -> None:
    """Copy a model version into the next environment's workspace, with lineage tags (idempotent)."""
    from pipelines.azure import release
    from pipelines.azure.refs import ModelRef

    with reported():
        ref = ModelRef.parse(model)
        console.print(release.promote(from_env, to_env, ref, _progress), markup=False)


@app.command()
def rollback(
    env: Annotated[str, typer.Option("--env", "-e", help="prod (blue/green endpoints only).")] = "prod",
) -> None:
    """Put all traffic back on the previous deployment (smoke-tested first)."""
    from pipelines.azure import release

    with reported():
        console.print(release.rollback(env, _progress), markup=False)
