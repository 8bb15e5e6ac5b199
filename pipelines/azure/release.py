"""How a model moves to qa and prod: promote, build the image, deploy, smoke-test, roll back.

Each function is one ``mlops`` command's work on Azure, end to end, with progress through
``progress`` and a one-line result for the command to print. The stacks and workspaces come from
:mod:`~pipelines.azure.workspaces`; every Azure ML call goes through :class:`~pipelines.azure.ops.AzureMLOps`.
"""

from __future__ import annotations

from collections.abc import Callable

from pipelines.azure import image, prod_deploy, promotion, qa_deploy, workspaces
from pipelines.azure.endpoint_smoke import smoke_endpoint
from pipelines.azure.errors import AzurePathError, UsageError
from pipelines.azure.ops import AzureMLOps, ModelStore
from pipelines.azure.outputs_reader import StackOutputsError, require, stack_name
from pipelines.azure.refs import IMAGE_REPOSITORY, ModelRef, Sample
from pipelines.stack_outputs import StackOutputs

Progress = Callable[[str], None]

PROMOTIONS = (("dev", "qa"), ("qa", "prod"), ("dev", "prod"))
"""The allowed promotions: a model moves dev -> qa -> prod (or dev -> prod), never back."""
UPSTREAM = {"qa": "dev", "prod": "qa"}
"""Where an environment's models come from (the image build looks for the model there too)."""
SERVING_ENVS = ("qa", "prod")


def require_serving(env: str, verb: str) -> None:
    """Refuse an environment without a scoring target (dev), naming the ones that have one."""
    if env not in SERVING_ENVS:
        raise UsageError(f"{env} has no scoring target: {verb} qa or prod")


def promote(from_env: str, to_env: str, model: ModelRef, progress: Progress) -> str:
    """Make ``model`` available to the next environment (idempotent): shared into the Azure ML
    registry both stacks name, else copied into the target workspace with lineage tags."""
    if (from_env, to_env) not in PROMOTIONS:
        raise UsageError(f"promotion goes dev -> qa -> prod, not {from_env} -> {to_env}")
    source_outputs, target_outputs = workspaces.outputs(from_env), workspaces.outputs(to_env)
    source = workspaces.ops(source_outputs)
    registry = promotion.shared_registry(source_outputs, target_outputs)
    if registry is not None:
        shared = promotion.share(
            source, workspaces.registry(registry), registry, model, from_env=from_env, progress=progress
        )
        done = f"shared {model} from {from_env} into" if shared else f"{model} was already in"
        return f"{done} registry {registry}; {to_env} reads it there"
    target = workspaces.ops(target_outputs)
    copied = promotion.promote(source, target, model, from_env=from_env, to_env=to_env, progress=progress)
    return f"promoted {model} {from_env} -> {to_env}" if copied else f"{model} was already in {to_env}"


def build_image(env: str, model: ModelRef, progress: Progress) -> image.ImageRef:
    """Build and push the scoring image of ``model`` to the environment's registry."""
    if env not in SERVING_ENVS:
        raise UsageError(f"images are built for qa (prod imports qa's), not {env}")
    outputs = workspaces.outputs(env)
    found_in: list[tuple[str, ModelStore]] = [(env, workspaces.model_store(outputs))]
    if env in UPSTREAM:  # not promoted yet: the model is still only in the upstream workspace
        found_in.append((UPSTREAM[env], workspaces.ops(workspaces.outputs(UPSTREAM[env]))))
    return image.build_and_push(
        image.run,
        registry=require(outputs, "registry_name"),
        login_server=require(outputs, "registry_login_server"),
        model=model,
        stores=found_in,
        progress=progress,
    )


def _smoke_fn(sample: Sample) -> Callable[[str, str, str | None], object]:
    def smoke(url: str, key: str, deployment: str | None) -> object:
        return smoke_endpoint(url, sample, api_key=key, deployment=deployment)

    return smoke


def deploy(env: str, model: ModelRef, progress: Progress) -> str:
    """``mlops deploy --env qa|prod``: serve ``model`` and smoke-test it; returns the result line."""
    require_serving(env, "deploy to")
    return _deploy_qa(model, progress) if env == "qa" else _deploy_prod(model, progress)


def _deploy_qa(ref: ModelRef, progress: Progress) -> str:
    outputs = workspaces.outputs("qa")
    built = image.resolve(
        image.run,
        registry=require(outputs, "registry_name"),
        login_server=require(outputs, "registry_login_server"),
        model=ref,
    )
    sample = workspaces.model_sample(workspaces.model_store(outputs), ref)
    stack = qa_deploy.select_stack(stack_name("qa"))
    progress(f"pulumi up --stack {stack_name('qa')}: {qa_deploy.IMAGE_KEY}={built.in_registry}")
    result = qa_deploy.deploy(
        stack, image_setting=built.in_registry, model=ref, on_output=lambda s: progress(s.rstrip("\n"))
    )
    progress(f"waiting for {ref} at {result.scoring_uri}")
    qa_deploy.wait_ready(result.scoring_uri, ref.version, api_key=result.api_key, progress=lambda _s: None)
    passed = smoke_endpoint(result.scoring_uri, sample, api_key=result.api_key)
    return f"qa serves {ref} at {result.scoring_uri}; smoke test passed ({passed.rows} rows)"


def _prod_context() -> tuple[StackOutputs, AzureMLOps, str, str]:
    outputs = workspaces.outputs("prod")
    compute = require(outputs, "kubernetes_compute_name")
    return outputs, workspaces.ops(outputs), prod_deploy.endpoint_name(outputs), compute


def _qa_image_source(qa: StackOutputs, ref: ModelRef, progress: Progress) -> tuple[str, str]:
    """qa's registry (ARM id) and the digest qa tested for ``ref``: what prod imports."""
    if not qa.registry_id:
        name = StackOutputs.export_name("registry_id")
        raise StackOutputsError(
            f"stack {qa.stack} has no output '{name}' (the ARM id of qa's container registry, which "
            f"`az acr import` needs to name its source): run `pulumi up --stack {qa.stack}` first"
        )
    digest, source = image.tested_digest(
        image.run,
        registry=require(qa, "registry_name"),
        model=ref,
        served_image=qa.scoring_image,
        served_version=qa.scoring_model_version,
    )
    progress(f"qa tested {IMAGE_REPOSITORY}@{digest} (from {source})")
    return qa.registry_id, digest


def _deploy_prod(ref: ModelRef, progress: Progress) -> str:
    from model.monitor_config import load_monitor_config

    outputs, ops, endpoint, compute = _prod_context()
    source_registry_id, tested = _qa_image_source(workspaces.outputs("qa"), ref, progress)
    pulled = image.import_image(
        image.run,
        registry=require(outputs, "registry_name"),
        login_server=require(outputs, "registry_login_server"),
        source_registry_id=source_registry_id,
        source_digest=tested,
        model=ref,
        progress=progress,
    )
    sample = workspaces.model_sample(workspaces.model_store(outputs), ref)
    result = prod_deploy.execute_deploy(
        ops,
        endpoint=endpoint,
        compute=compute,
        model=ref,
        image=pulled.by_digest,
        smoke=_smoke_fn(sample),
        app_insights_connection_string=outputs.app_insights_connection_string.get_secret_value() or None,
        collect_rate=load_monitor_config().azure.collection_rate,
        host=outputs.scoring_fqdn,
        progress=progress,
    )
    removed = f"; removed {', '.join(result.removed)}" if result.removed else ""
    return f"prod serves {ref} from {result.green} on {endpoint} (previous: {result.blue or 'none'}{removed})"


def smoke(env: str) -> str:
    """``mlops smoke-test --env qa|prod``: the served model's sample rows against the live endpoint."""
    require_serving(env, "smoke-test")
    return _smoke_qa() if env == "qa" else _smoke_prod()


def _smoke_qa() -> str:
    outputs = workspaces.outputs("qa")
    uri = qa_deploy.require_https(require(outputs, "scoring_uri"), stack_name("qa"))
    key = qa_deploy.scoring_key(stack_name("qa"))
    serving = qa_deploy.serving_version(uri, api_key=key)
    if serving is None:
        raise AzurePathError(f"{uri} serves no registered model (not ready, or the placeholder image)")
    sample = workspaces.model_sample(workspaces.model_store(outputs), serving)
    passed = smoke_endpoint(uri, sample, api_key=key)
    return f"smoke test passed: {passed.rows} rows from {uri} match {serving} ({passed.attempts} attempt(s))"


def _smoke_prod() -> str:
    outputs, ops, endpoint, _ = _prod_context()
    live = prod_deploy.live_model(ops, endpoint)
    if live is None or live[1] is None:
        raise AzurePathError(f"endpoint {endpoint} has no live deployment with a model tag")
    found = ops.get_endpoint(endpoint)
    uri = prod_deploy.scoring_url(str(found.scoring_uri), outputs.scoring_fqdn) if found is not None else ""
    sample = workspaces.model_sample(workspaces.model_store(outputs), live[1])
    passed = smoke_endpoint(uri, sample, api_key=ops.endpoint_key(endpoint))
    return f"smoke test passed: {passed.rows} rows from {uri} match {live[1]} ({live[0]})"


def rollback(env: str, progress: Progress) -> str:
    """Put all of prod's traffic back on the previous deployment (smoke-tested first)."""
    if env != "prod":
        raise UsageError(
            f"rollback works on prod's blue/green endpoint; for {env} deploy the previous --model"
        )
    outputs, ops, endpoint, compute = _prod_context()
    _, deployments, traffic = prod_deploy.read_state(ops, endpoint)
    plan = prod_deploy.plan_rollback(endpoint, deployments, traffic)
    ref = next(d.model for d in deployments if d.name == plan.previous)
    if ref is None:
        raise AzurePathError(f"deployment {plan.previous} has no model_name/model_version tags")
    sample = workspaces.model_sample(workspaces.model_store(outputs), ref)
    done = prod_deploy.execute_rollback(
        ops,
        endpoint=endpoint,
        compute=compute,
        smoke=_smoke_fn(sample),
        host=outputs.scoring_fqdn,
        progress=progress,
    )
    return f"rolled back {done.endpoint}: {done.previous} 100 %, {done.live} 0 % (kept)"
