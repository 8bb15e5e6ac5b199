"""The Azure commands of ``mlops``: train, promote, image build, rollback, and the Azure branches
of ``deploy`` and ``smoke-test``. Registered on the main app with :func:`register`.

Every heavy import (azure.*, pulumi.automation, the SDK entities) happens inside a command, so
``mlops --help`` stays fast. Expected failures print one line and exit 1 (2 for usage errors).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from pipelines.azure.ops import AzureMLOps
    from pipelines.azure.refs import ModelRef
    from pipelines.stack_outputs import StackOutputs

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

AZURE_ENVS = ("dev", "qa", "prod")
UPSTREAM = {"qa": "dev", "prod": "qa"}
ModelOption = Annotated[str, typer.Option("--model", help="The registered model, NAME:VERSION.")]


def _fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}", soft_wrap=True, markup=True, highlight=False)
    raise typer.Exit(code)


def _guard(fn: Any) -> Any:
    """Run ``fn()``; the Azure path's expected errors become one line."""
    from pipelines.azure.errors import AzurePathError, UsageError
    from pipelines.smoke import SmokeTestError

    try:
        return fn()
    except UsageError as error:
        _fail(str(error), 2)
    except (AzurePathError, SmokeTestError) as error:
        _fail(str(error))


def _outputs(env: str) -> StackOutputs:
    from pipelines.azure.outputs_reader import read_outputs

    return read_outputs(env)


def _ops(outputs: StackOutputs) -> AzureMLOps:
    from pipelines.azure.ops import ops_for

    return ops_for(outputs)


def _model_sample(ops: AzureMLOps, model: ModelRef) -> tuple[list[list[float]], list[float]]:
    import tempfile

    from pipelines.azure.errors import AzurePathError
    from pipelines.azure.refs import find_model_folder, read_sample

    if ops.get_model(model.name, model.version) is None:
        raise AzurePathError(f"workspace {ops.workspace} has no model {model}")
    with tempfile.TemporaryDirectory(prefix="mlops-sample-") as tmp:
        ops.download_model(model.name, model.version, Path(tmp))
        return read_sample(find_model_folder(Path(tmp)))


# -- train --------------------------------------------------------------------------------------


def resolve_champion(source: str, model_name: str, dev_ops: AzureMLOps) -> ModelRef | None:
    """The model the ``source`` environment serves now, checked to exist in dev; None before the first."""
    from pipelines.azure.errors import AzurePathError
    from pipelines.azure.refs import ModelRef

    if source == "none":
        return None
    champion: ModelRef | None
    if source == "dev":
        version = dev_ops.latest_model_version(model_name)
        champion = ModelRef(model_name, version) if version else None
    elif source == "qa":
        from pipelines.azure import qa_deploy

        outputs = _outputs("qa")
        champion = qa_deploy.serving_version(outputs.scoring_uri) if outputs.scoring_uri else None
    elif source == "prod":
        from pipelines.azure import prod_deploy

        outputs = _outputs("prod")
        live = prod_deploy.live_model(_ops(outputs), prod_deploy.endpoint_name(outputs))
        champion = live[1] if live else None
    else:
        raise AzurePathError(f"--champion-from must be dev, qa, prod or none, got {source!r}")
    if champion is None:
        return None
    if dev_ops.get_model(champion.name, champion.version) is None:
        raise AzurePathError(
            f"champion {champion} (served by {source}) is not in the dev workspace {dev_ops.workspace}; "
            "use --champion-from none to train without one"
        )
    return champion


def train(
    env: Annotated[
        str, typer.Option("--env", "-e", help="dev (or local: runs the local lifecycle).")
    ] = "dev",
    champion_from: Annotated[
        str, typer.Option(help="Where the champion is served: prod, qa, dev (newest registered) or none.")
    ] = "prod",
    data: Annotated[Path | None, typer.Option(help="Training CSV (default: data/diabetes.csv).")] = None,
    params: Annotated[Path | None, typer.Option(help="Params file (default: config/train.yaml).")] = None,
    alpha: Annotated[float | None, typer.Option(help="Ridge regularisation strength (> 0).")] = None,
    test_size: Annotated[float | None, typer.Option(help="Held-out fraction (0.05 .. 0.5).")] = None,
    seed: Annotated[int | None, typer.Option(help="Split seed.")] = None,
    min_improvement: Annotated[float | None, typer.Option(help="Relative margin over the champion.")] = None,
    latency_budget_ms: Annotated[float | None, typer.Option(help="p99 single-row latency budget.")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the job to the end (--no-wait: submit only).")] = True,
    timeout_minutes: Annotated[float, typer.Option(help="Give up waiting after this long.")] = 180,
    summary_file: Annotated[Path | None, typer.Option(help="Write the outcome as JSON here.")] = None,
) -> None:
    """Train on Azure ML: the pipeline job of components/pipeline.yml on the stack's compute cluster.

    Exit 0 when a version was registered and when the challenger was not better; 1 when a step failed.
    """
    from model.lineage import git_commit
    from model.params import DEFAULT_PARAMS, ParamsError, load_params, option_overrides

    if env == "local":
        from pipelines.cli import console as cli_console
        from pipelines.local_lifecycle import RunOptions, run_local

        summary = run_local(RunOptions(deploy=False), cli_console)
        if summary_file:
            summary_file.write_text(
                json.dumps({"registered": summary.registered, "model_name": summary.model_name,
                            "model_version": summary.version, "reason": summary.reason}, indent=2) + "\n"
            )  # fmt: skip
        return
    if env != "dev":
        _fail(f"training runs in dev (or local), not {env}: models reach qa and prod by promotion", 2)
    overrides = option_overrides(
        alpha=alpha,
        test_size=test_size,
        seed=seed,
        min_improvement=min_improvement,
        latency_budget_ms=latency_budget_ms,
    )
    params_file = params or DEFAULT_PARAMS
    try:
        settings = load_params(params_file, overrides)
    except ParamsError as error:
        _fail(str(error), 2)
    data_file = data or Path(__file__).resolve().parent.parent / "data" / "diabetes.csv"
    if not data_file.is_file():
        _fail(f"data file not found: {data_file}", 2)

    def go() -> Any:
        from pipelines.azure import training
        from pipelines.azure.outputs_reader import require

        outputs = _outputs("dev")
        compute = require(outputs, "compute_cluster_name")
        ops = _ops(outputs)
        champion = resolve_champion(champion_from, settings.model_name, ops)
        console.print(f"champion ({champion_from}): {champion or 'none'}")
        request = training.TrainRequest(
            compute=compute,
            data_file=data_file.resolve(),
            params_file=params_file.resolve(),
            model_name=settings.model_name,
            champion=champion,
            overrides=overrides,
            git_commit=git_commit(),
        )
        with console.status("Azure ML pipeline job") as status:

            def progress(line: str) -> None:
                status.update(line.strip())
                console.print(line, markup=False)

            return training.train(ops, request, wait=wait, progress=progress, timeout_s=timeout_minutes * 60)

    outcome = _guard(go)
    if summary_file:
        summary_file.write_text(json.dumps(outcome.to_summary(), indent=2) + "\n")
    if outcome.status == "registered":
        console.print(f"registered {outcome.model_name} version {outcome.model_version}: {outcome.reason}")
    elif outcome.status == "not_better":
        console.print(f"not better, registered nothing: {outcome.reason}")
    elif outcome.status == "submitted":
        console.print(f"submitted {outcome.job_name} (not waiting): {outcome.studio_url}")
    else:
        _fail(
            f"job {outcome.job_name} failed at step {outcome.failed_step or '?'}; logs: "
            f"{outcome.failed_step_url or outcome.studio_url}"
        )


# -- promote ------------------------------------------------------------------------------------


def promote(
    from_env: Annotated[str, typer.Option("--from", help="Source environment (dev or qa).")],
    to_env: Annotated[str, typer.Option("--to", help="Target environment (qa or prod).")],
    model: ModelOption,
) -> None:
    """Copy a model version into the next environment's workspace, with lineage tags (idempotent)."""
    from pipelines.azure import promotion
    from pipelines.azure.refs import ModelRef

    if (from_env, to_env) not in (("dev", "qa"), ("qa", "prod"), ("dev", "prod")):
        _fail(f"promotion goes dev -> qa -> prod, not {from_env} -> {to_env}", 2)
    ref = _guard(lambda: ModelRef.parse(model))
    copied = _guard(
        lambda: promotion.promote(
            _ops(_outputs(from_env)), _ops(_outputs(to_env)), ref, from_env=from_env, to_env=to_env,
            progress=console.print,
        )
    )  # fmt: skip
    console.print(f"promoted {ref} {from_env} -> {to_env}" if copied else f"{ref} was already in {to_env}")


# -- image --------------------------------------------------------------------------------------

image_app = typer.Typer(no_args_is_help=True, help="The scoring image (the model baked in).")


@image_app.command("build")
def image_build(
    env: Annotated[str, typer.Option("--env", "-e", help="Whose registry: qa (or prod).")],
    model: ModelOption,
) -> None:
    """Build and push the scoring image of NAME:VERSION to the environment's registry; print its reference."""
    from pipelines.azure import image
    from pipelines.azure.outputs_reader import require
    from pipelines.azure.refs import ModelRef

    if env not in ("qa", "prod"):
        _fail(f"images are built for qa (prod imports qa's), not {env}", 2)
    ref = _guard(lambda: ModelRef.parse(model))

    def go() -> Any:
        outputs = _outputs(env)
        workspaces = [(env, _ops(outputs))]
        if env in UPSTREAM:
            workspaces.append((UPSTREAM[env], _ops(_outputs(UPSTREAM[env]))))
        return image.build_and_push(
            image.run,
            registry=require(outputs, "registry_name"),
            login_server=require(outputs, "registry_login_server"),
            model=ref,
            workspaces=workspaces,
            progress=lambda line: errors.print(line, markup=False),
        )

    built = _guard(go)
    console.print(str(built), markup=False)  # stdout: the reference only, for scripts


# -- deploy / smoke-test / rollback -------------------------------------------------------------


def _smoke_fn(rows: list[list[float]], expected: list[float]) -> Any:
    from pipelines.azure.endpoint_smoke import smoke_endpoint

    def smoke(url: str, key: str, deployment: str | None) -> object:
        return smoke_endpoint(url, rows, expected, api_key=key, deployment=deployment)

    return smoke


def deploy_azure(env: str, model: str | None) -> None:
    """``mlops deploy --env qa|prod --model NAME:VERSION``."""
    from pipelines.azure.refs import ModelRef

    if env == "dev":
        _fail("dev has no scoring target: deploy to qa or prod", 2)
    if not model:
        _fail(f"deploy --env {env} needs --model NAME:VERSION", 2)
    ref = _guard(lambda: ModelRef.parse(model))
    _guard(lambda: _deploy_qa(ref) if env == "qa" else _deploy_prod(ref))


def _deploy_qa(ref: ModelRef) -> None:
    from pipelines.azure import image, qa_deploy
    from pipelines.azure.endpoint_smoke import smoke_endpoint
    from pipelines.azure.outputs_reader import require, stack_name

    outputs = _outputs("qa")
    built = image.resolve(
        image.run,
        registry=require(outputs, "registry_name"),
        login_server=require(outputs, "registry_login_server"),
        model=ref,
    )
    rows, expected = _model_sample(_ops(outputs), ref)
    stack = qa_deploy.select_stack(stack_name("qa"))
    console.print(f"pulumi up --stack {stack_name('qa')}: {qa_deploy.IMAGE_KEY}={built.in_registry}")
    result = qa_deploy.deploy(
        stack,
        image_setting=built.in_registry,
        model=ref,
        on_output=lambda s: console.print(s, end="", markup=False),
    )
    with console.status(f"waiting for {ref} at {result.scoring_uri}"):
        qa_deploy.wait_ready(result.scoring_uri, ref.version, progress=lambda _s: None)
    passed = smoke_endpoint(result.scoring_uri, rows, expected, api_key=result.api_key)
    console.print(f"qa serves {ref} at {result.scoring_uri}; smoke test passed ({passed.rows} rows)")


def _prod_context() -> tuple[StackOutputs, AzureMLOps, str, str]:
    from pipelines.azure import prod_deploy
    from pipelines.azure.outputs_reader import require

    outputs = _outputs("prod")
    compute = require(outputs, "kubernetes_compute_name")
    return outputs, _ops(outputs), prod_deploy.endpoint_name(outputs), compute


def _deploy_prod(ref: ModelRef) -> None:
    from pipelines.azure import image, prod_deploy
    from pipelines.azure.outputs_reader import require

    outputs, ops, endpoint, compute = _prod_context()
    qa = _outputs("qa")
    pulled = image.import_image(
        image.run,
        registry=require(outputs, "registry_name"),
        login_server=require(outputs, "registry_login_server"),
        source_login_server=require(qa, "registry_login_server"),
        model=ref,
        progress=console.print,
    )
    rows, expected = _model_sample(ops, ref)
    result = prod_deploy.execute_deploy(
        ops,
        endpoint=endpoint,
        compute=compute,
        model=ref,
        image=pulled.by_digest,
        smoke=_smoke_fn(rows, expected),
        app_insights_connection_string=outputs.app_insights_connection_string.get_secret_value() or None,
        progress=lambda line: console.print(line, markup=False),
    )
    removed = f"; removed {', '.join(result.removed)}" if result.removed else ""
    console.print(
        f"prod serves {ref} from {result.green} on {endpoint} (previous: {result.blue or 'none'}{removed})"
    )


def smoke_azure(env: str) -> None:
    """``mlops smoke-test --env qa|prod``: the model's sample rows against the live endpoint."""
    if env == "dev":
        _fail("dev has no scoring target: smoke-test qa or prod", 2)
    _guard(lambda: _smoke_qa() if env == "qa" else _smoke_prod())


def _smoke_qa() -> None:
    import os

    from pipelines.azure import qa_deploy
    from pipelines.azure.endpoint_smoke import smoke_endpoint
    from pipelines.azure.errors import AzurePathError
    from pipelines.azure.outputs_reader import require, stack_name

    outputs = _outputs("qa")
    uri = require(outputs, "scoring_uri")
    serving = qa_deploy.serving_version(uri)
    if serving is None:
        raise AzurePathError(f"{uri} serves no registered model (not ready, or the placeholder image)")
    rows, expected = _model_sample(_ops(outputs), serving)
    key = os.environ.get("MLOPS_SCORING_API_KEY") or qa_deploy.api_key(
        qa_deploy.select_stack(stack_name("qa"))
    )
    passed = smoke_endpoint(uri, rows, expected, api_key=key)
    console.print(
        f"smoke test passed: {passed.rows} rows from {uri} match {serving} ({passed.attempts} attempt(s))"
    )


def _smoke_prod() -> None:
    from pipelines.azure import prod_deploy
    from pipelines.azure.endpoint_smoke import smoke_endpoint
    from pipelines.azure.errors import AzurePathError

    _, ops, endpoint, _ = _prod_context()
    live = prod_deploy.live_model(ops, endpoint)
    if live is None or live[1] is None:
        raise AzurePathError(f"endpoint {endpoint} has no live deployment with a model tag")
    found = ops.get_endpoint(endpoint)
    uri = str(found.scoring_uri) if found is not None else ""
    rows, expected = _model_sample(ops, live[1])
    passed = smoke_endpoint(uri, rows, expected, api_key=ops.endpoint_key(endpoint))
    console.print(f"smoke test passed: {passed.rows} rows from {uri} match {live[1]} ({live[0]})")


def rollback(
    env: Annotated[str, typer.Option("--env", "-e", help="prod (blue/green endpoints only).")] = "prod",
) -> None:
    """Put all traffic back on the previous deployment (smoke-tested first)."""
    from pipelines.azure import prod_deploy
    from pipelines.azure.errors import AzurePathError

    if env != "prod":
        _fail(f"rollback works on prod's blue/green endpoint; for {env} deploy the previous --model", 2)

    def go() -> Any:
        _, ops, endpoint, compute = _prod_context()
        _, deployments, traffic = prod_deploy.read_state(ops, endpoint)
        plan = prod_deploy.plan_rollback(endpoint, deployments, traffic)
        ref = next(d.model for d in deployments if d.name == plan.previous)
        if ref is None:
            raise AzurePathError(f"deployment {plan.previous} has no model_name/model_version tags")
        rows, expected = _model_sample(ops, ref)
        return prod_deploy.execute_rollback(
            ops, endpoint=endpoint, compute=compute, smoke=_smoke_fn(rows, expected), progress=console.print
        )

    plan = _guard(go)
    console.print(f"rolled back {plan.endpoint}: {plan.previous} 100 %, {plan.live} 0 % (kept)")


def register(app: typer.Typer) -> None:
    """Add the Azure commands to the ``mlops`` app."""
    app.command("train")(train)
    app.command("promote")(promote)
    app.command("rollback")(rollback)
    app.add_typer(image_app, name="image")
