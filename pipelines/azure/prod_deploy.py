"""``mlops deploy --env prod`` / ``mlops rollback --env prod``: blue/green on a Kubernetes online endpoint.

Pure part (no SDK, no I/O): :func:`plan_deploy` and :func:`plan_rollback` decide, from the
endpoint's deployments and traffic, what to create, how to shift traffic and what to remove.

Effects: :func:`execute_deploy` drives an :class:`~pipelines.azure.ops.AzureMLOps`:

1. create the endpoint if it does not exist (key auth, on the stack's Kubernetes compute, no
   traffic yet);
2. create the new deployment ("green", named after the model version) beside the live one
   ("blue"), with the scoring image (model baked in) and 0 % traffic;
3. smoke-test green directly (header ``azureml-model-deployment``);
4. shift traffic in steps (10 % -> 50 % -> 100 % by default); after each: wait, then health
   checks (the endpoint as clients see it, and green directly);
5. remove deployments older than blue: blue stays (0 %) for ``mlops rollback``.

A failure in 2-4 rolls back: traffic back to blue (100 %), green's log tail printed, green
deleted, :class:`DeployFailed` raised. Nothing here prints the endpoint key.

With TLS (the extension's ``sslCname``, the prod stack's ``scoringFqdn`` output) every smoke
test calls ``https://<scoringFqdn>/<the endpoint's scoring path>``: the name the certificate is
issued for, whatever host the endpoint reports (:func:`scoring_url`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import AzureMLOps
from pipelines.azure.refs import IMAGE_REPOSITORY, ModelRef
from pipelines.contracts import (
    LIVE_PATH,
    MODEL_DIR_IN_IMAGE,
    READY_PATH,
    SCORE_PATH,
    SCORING_PORT,
    TIMESTAMP_FORMAT,
)

DEFAULT_STEPS: tuple[int, ...] = (10, 50, 100)

# The instance type a deployment names: the one Azure ML creates when a cluster is attached
# (Learn, how-to-manage-kubernetes-instance-types: "an instance type called `defaultinstancetype`
# is created when you attach a Kubernetes cluster"; requests 100m CPU / 2Gi, limits 2 CPU / 2Gi;
# a custom instance type with that name overrides it). Named here so the choice is visible.
INSTANCE_TYPE = "defaultinstancetype"
# The container's own requests and limits, the qa container group's size (1 CPU, 1.5 GB). Learn,
# same page: "the resource limits must be less than the instance type limits".
RESOURCE_REQUESTS = {"cpu": "500m", "memory": "1Gi"}
RESOURCE_LIMITS = {"cpu": "1", "memory": "1536Mi"}

# Production data collection (docs/monitoring.md, "Collection on Azure"). Learn,
# how-to-collect-production-data: "If you use the names model_inputs and model_outputs for your
# Collector objects, the model monitoring system automatically recognizes the automatically
# registered data assets"; the scoring image sends them (scoring/collector_azure.py).
INPUTS_COLLECTION = "model_inputs"
OUTPUTS_COLLECTION = "model_outputs"
# Where the service writes files if Azure ML gives it no data collector configuration (it then
# collects as locally, bounded): the container's /tmp, not kept.
COLLECT_DIR_IN_CONTAINER = "/tmp/scoring-collected"  # noqa: S108 - a fallback inside the container
COLLECT_MAX_MB_IN_CONTAINER = 64

# (scoring URL, key, deployment or None) -> None; raises SmokeTestError
SmokeFn = Callable[[str, str, str | None], object]


class DeployFailed(AzurePathError):
    """The new deployment failed; traffic is back on the previous one."""


@dataclass(frozen=True)
class DeploymentInfo:
    """A deployment as the plan sees it."""

    name: str
    model_version: str | None
    deployed_at: str = ""
    model_name: str | None = None

    @property
    def model(self) -> ModelRef | None:
        if self.model_name and self.model_version:
            return ModelRef(self.model_name, self.model_version)
        return None


@dataclass(frozen=True)
class DeployPlan:
    """What a deploy will do."""

    endpoint: str
    create_endpoint: bool
    green: str
    blue: str | None
    already_live: bool
    steps: tuple[int, ...]
    remove: tuple[str, ...] = field(default_factory=tuple)

    def traffic(self, percent: int) -> dict[str, int]:
        """The endpoint's traffic with ``percent`` on green and the rest on blue."""
        if self.blue is None:
            return {self.green: percent}
        return {self.green: percent, self.blue: 100 - percent}

    def rollback_traffic(self) -> dict[str, int]:
        return {self.blue: 100, self.green: 0} if self.blue else {self.green: 0}


def _check_steps(steps: Sequence[int]) -> tuple[int, ...]:
    values = tuple(int(s) for s in steps)
    if not values or values[-1] != 100 or any(not 0 < s <= 100 for s in values):
        raise AzurePathError(
            f"traffic steps must be increasing percentages ending at 100, got {list(values)}"
        )
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise AzurePathError(f"traffic steps must increase, got {list(values)}")
    return values


def plan_deploy(
    *,
    endpoint: str,
    endpoint_exists: bool,
    deployments: Sequence[DeploymentInfo],
    traffic: Mapping[str, int],
    target: ModelRef,
    steps: Sequence[int] = DEFAULT_STEPS,
) -> DeployPlan:
    """Decide the deploy: green (the target's deployment), blue (the live one), steps, clean-up."""
    green = target.deployment_name
    checked = _check_steps(steps)
    live = [d for d in deployments if traffic.get(d.name, 0) > 0 and d.name != green]
    blue = max(live, key=lambda d: (traffic.get(d.name, 0), d.deployed_at)).name if live else None
    already_live = traffic.get(green, 0) == 100
    keep = {green} | ({blue} if blue else set())
    return DeployPlan(
        endpoint=endpoint,
        create_endpoint=not endpoint_exists,
        green=green,
        blue=blue,
        already_live=already_live,
        steps=checked if blue else (100,),
        remove=tuple(sorted(d.name for d in deployments if d.name not in keep)),
    )


@dataclass(frozen=True)
class RollbackPlan:
    endpoint: str
    live: str
    previous: str

    def traffic(self) -> dict[str, int]:
        return {self.previous: 100, self.live: 0}


def plan_rollback(
    endpoint: str, deployments: Sequence[DeploymentInfo], traffic: Mapping[str, int]
) -> RollbackPlan:
    """Back to the newest deployment other than the one taking most traffic."""
    if not deployments:
        raise AzurePathError(f"endpoint {endpoint} has no deployments: nothing to roll back")
    live = max(deployments, key=lambda d: (traffic.get(d.name, 0), d.deployed_at))
    others = [d for d in deployments if d.name != live.name]
    if traffic.get(live.name, 0) == 0 or not others:
        raise AzurePathError(
            f"endpoint {endpoint} has no previous deployment to roll back to (live: {live.name})"
        )
    previous = max(others, key=lambda d: (d.deployed_at, d.name))
    return RollbackPlan(endpoint=endpoint, live=live.name, previous=previous.name)


# -- SDK entities ------------------------------------------------------------------------------


def endpoint_name(outputs: Any) -> str:
    """The stack's endpoint: ``scoring-<env>-<6 hex of the workspace id>`` (unique per region).

    One endpoint per stack whatever the use case: its deployments and tags name the model, so its
    URL survives a change of ``model_name``. Rules (azure-ai-ml
    entities/_endpoint/_endpoint_helpers.py validate_endpoint_or_deployment_name): 3-32 characters,
    a letter first, then letters, digits or hyphens, a letter or digit last; Learn
    how-to-deploy-online-endpoints: "Endpoint names must be unique within an Azure region".
    """
    import hashlib
    import os

    if override := os.environ.get("MLOPS_ENDPOINT_NAME", "").strip():
        return override
    digest = hashlib.sha256(str(outputs.workspace_id).lower().encode()).hexdigest()[:6]
    return f"scoring-{outputs.environment}-{digest}"


def scoring_url(endpoint_uri: str, host: str | None) -> str:
    """The URL clients score at: the endpoint's, or ``https://<host>`` with its path when TLS names a host.

    Learn, how-to-secure-kubernetes-online-endpoint: the certificate is issued for the FQDN and
    "the address that's stamped into the certificate and the address that the clients use are
    compared"; the endpoint's URI may carry the router's IP address instead.
    """
    if not host:
        return endpoint_uri
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(endpoint_uri)
    return urlunsplit(("https", host, parts.path, parts.query, ""))


def build_endpoint(name: str, compute: str, traffic: Mapping[str, int] | None = None) -> Any:
    """The Kubernetes online endpoint; no traffic on creation (Learn, reference-yaml-endpoint-online:
    "you can't set this field during online endpoint creation"; the SDK sends ``{}``)."""
    from azure.ai.ml.entities import KubernetesOnlineEndpoint

    return KubernetesOnlineEndpoint(
        name=name,
        compute=compute,
        auth_mode="key",  # Learn reference-yaml-endpoint-online: key | aml_token | aad_token, default key
        traffic=dict(traffic or {}),
        description="model scoring (blue/green by `mlops deploy --env prod`)",
        tags={"managed-by": "mlops"},
    )


def build_data_collector(rate: float) -> Any:
    """The deployment's data collector: ``model_inputs`` and ``model_outputs`` at ``rate``.

    Learn, how-to-collect-production-data ("Update your deployment YAML"): ``data_collector.collections``
    with ``model_inputs`` and ``model_outputs`` enabled, and ``sampling_rate`` ("a value of 1.0 represents
    collecting 100% of the data"); reference-yaml-deployment-kubernetes-online lists ``data_collector``
    for Kubernetes online deployments.
    """
    from azure.ai.ml.entities import DataCollector, DeploymentCollection

    if not 0 < rate <= 1:
        raise AzurePathError(f"azure.collection_rate must be in (0, 1] to collect, got {rate}")
    return DataCollector(
        collections={
            INPUTS_COLLECTION: DeploymentCollection(enabled="true"),
            OUTPUTS_COLLECTION: DeploymentCollection(enabled="true"),
        },
        sampling_rate=rate,
    )


def collection_variables(rate: float) -> dict[str, str]:
    """The scoring service's settings for collecting at ``rate`` (the deployment's sampling rate too).

    The service samples (``SCORING_COLLECT_RATE``) and sends to Azure ML's data collector when the
    deployment's ``data_collector`` configures it; without that configuration it writes files to
    ``COLLECT_DIR_IN_CONTAINER``, bounded by ``SCORING_COLLECT_MAX_MB``.
    """
    if rate == 0:
        return {}
    return {
        "SCORING_COLLECT_RATE": repr(float(rate)),
        "SCORING_COLLECT_DIR": COLLECT_DIR_IN_CONTAINER,
        "SCORING_COLLECT_MAX_MB": str(COLLECT_MAX_MB_IN_CONTAINER),
    }


def build_deployment(
    *,
    endpoint: str,
    name: str,
    model: ModelRef,
    image: str,
    app_insights_connection_string: str | None = None,
    collect_rate: float = 0.0,
    instance_count: int = 1,
    now: dt.datetime | None = None,
) -> Any:
    """The Kubernetes deployment of the scoring image (model baked in: no model mount).

    With ``collect_rate`` above 0 the deployment has a ``data_collector`` (:func:`build_data_collector`)
    and the service samples at the same rate (:func:`collection_variables`).
    """
    from azure.ai.ml.entities import (
        DefaultScaleSettings,
        Environment,
        KubernetesOnlineDeployment,
        OnlineRequestSettings,
        ProbeSettings,
        ResourceRequirementsSettings,
        ResourceSettings,
    )

    environment = Environment(
        name=IMAGE_REPOSITORY,
        image=image,
        inference_config={
            "liveness_route": {"port": SCORING_PORT, "path": LIVE_PATH},
            "readiness_route": {"port": SCORING_PORT, "path": READY_PATH},
            "scoring_route": {"port": SCORING_PORT, "path": SCORE_PATH},
        },
    )
    variables = {
        "SCORING_MODEL_NAME": model.name,
        "SCORING_MODEL_VERSION": model.version,
        "AZUREML_MODEL_DIR": MODEL_DIR_IN_IMAGE,
    }
    if app_insights_connection_string:
        variables["APPLICATIONINSIGHTS_CONNECTION_STRING"] = app_insights_connection_string
    variables |= collection_variables(collect_rate)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(TIMESTAMP_FORMAT)
    return KubernetesOnlineDeployment(
        name=name,
        endpoint_name=endpoint,
        environment=environment,
        # Learn, reference-yaml-deployment-kubernetes-online: instance_count applies to the `default`
        # scale type; a Kubernetes deployment otherwise defaults to `target_utilization`
        scale_settings=DefaultScaleSettings(),
        instance_count=instance_count,
        instance_type=INSTANCE_TYPE,
        resources=ResourceRequirementsSettings(
            requests=ResourceSettings(**RESOURCE_REQUESTS), limits=ResourceSettings(**RESOURCE_LIMITS)
        ),
        environment_variables=variables,
        # ProbeSettings (same page): period 10 s, timeout 2 s, failure_threshold 30 by default
        readiness_probe=ProbeSettings(initial_delay=10, period=10, timeout=5, failure_threshold=30),
        liveness_probe=ProbeSettings(initial_delay=30, period=10, timeout=5, failure_threshold=3),
        request_settings=OnlineRequestSettings(request_timeout_ms=5000),  # the default, 5000
        data_collector=build_data_collector(collect_rate) if collect_rate > 0 else None,
        tags={"model_name": model.name, "model_version": model.version, "image": image, "deployed_at": stamp},
    )


def read_state(ops: AzureMLOps, endpoint: str) -> tuple[Any | None, list[DeploymentInfo], dict[str, int]]:
    """The endpoint (or None), its deployments and its traffic."""
    found = ops.get_endpoint(endpoint)
    if found is None:
        return None, [], {}
    deployments = [
        DeploymentInfo(
            name=str(d.name),
            model_version=(d.tags or {}).get("model_version"),
            deployed_at=(d.tags or {}).get("deployed_at", ""),
            model_name=(d.tags or {}).get("model_name"),
        )
        for d in ops.list_deployments(endpoint)
    ]
    traffic = {str(k): int(v) for k, v in (getattr(found, "traffic", None) or {}).items()}
    return found, deployments, traffic


def live_model(ops: AzureMLOps, endpoint: str) -> tuple[str, ModelRef | None] | None:
    """The deployment taking most traffic and the model it serves; None without live traffic."""
    found = ops.get_endpoint(endpoint)
    traffic = {str(k): int(v) for k, v in (getattr(found, "traffic", None) or {}).items()} if found else {}
    if not traffic or max(traffic.values()) == 0:
        return None
    live = max(traffic, key=lambda k: traffic[k])
    for deployment in ops.list_deployments(endpoint):
        if deployment.name == live:
            tags = deployment.tags or {}
            if tags.get("model_name") and tags.get("model_version"):
                return live, ModelRef(tags["model_name"], tags["model_version"])
            return live, None
    return live, None


# -- executor ----------------------------------------------------------------------------------


@dataclass
class DeployResult:
    endpoint: str
    green: str
    blue: str | None
    scoring_uri: str
    changed: bool
    removed: list[str] = field(default_factory=list)


def execute_deploy(
    ops: AzureMLOps,
    *,
    endpoint: str,
    compute: str,
    model: ModelRef,
    image: str,
    smoke: SmokeFn,
    app_insights_connection_string: str | None = None,
    collect_rate: float = 0.0,
    host: str | None = None,
    steps: Sequence[int] = DEFAULT_STEPS,
    step_wait_s: float = 60.0,
    health_checks: int = 3,
    progress: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> DeployResult:
    """Blue/green deploy of ``model`` (image ``image``) to ``endpoint``; rolls back on failure."""
    found, deployments, traffic = read_state(ops, endpoint)
    plan = plan_deploy(
        endpoint=endpoint,
        endpoint_exists=found is not None,
        deployments=deployments,
        traffic=traffic,
        target=model,
        steps=steps,
    )
    if plan.already_live and found is not None:
        progress(f"{model} is already live on {endpoint} ({plan.green}, 100 %): nothing to do")
        uri = scoring_url(str(found.scoring_uri), host)
        return DeployResult(endpoint, plan.green, plan.blue, uri, changed=False)
    if plan.create_endpoint:
        progress(f"creating endpoint {endpoint} on compute {compute}")
        ops.create_or_update_endpoint(build_endpoint(endpoint, compute))
    progress(f"creating deployment {plan.green} (green) for {model} beside {plan.blue or 'nothing'} (blue)")
    moved = False
    try:
        ops.create_or_update_deployment(
            build_deployment(
                endpoint=endpoint,
                name=plan.green,
                model=model,
                image=image,
                app_insights_connection_string=app_insights_connection_string,
                collect_rate=collect_rate,
            )
        )
        current = ops.get_endpoint(endpoint)
        if current is None or not getattr(current, "scoring_uri", None):
            raise AzurePathError(f"endpoint {endpoint} has no scoring URI")
        uri = scoring_url(str(current.scoring_uri), host)
        key = ops.endpoint_key(endpoint)
        progress(f"smoke test of {plan.green} directly")
        smoke(uri, key, plan.green)
        for percent in plan.steps:
            progress(f"traffic: {plan.traffic(percent)}")
            ops.create_or_update_endpoint(build_endpoint(endpoint, compute, plan.traffic(percent)))
            moved = True
            sleep(step_wait_s)
            for _ in range(health_checks):
                smoke(uri, key, None)
            smoke(uri, key, plan.green)
    except Exception as error:
        _roll_back_failed(ops, plan, compute, moved=moved, progress=progress)
        raise DeployFailed(
            f"deploy of {model} to {endpoint} failed and was rolled back "
            f"({'traffic on ' + plan.blue if plan.blue else 'no traffic'}): {type(error).__name__}: {error}"
        ) from error
    removed = []
    for name in plan.remove:
        progress(f"removing old deployment {name}")
        ops.delete_deployment(endpoint, name)
        removed.append(name)
    return DeployResult(endpoint, plan.green, plan.blue, uri, changed=True, removed=removed)


def _roll_back_failed(
    ops: AzureMLOps, plan: DeployPlan, compute: str, *, moved: bool, progress: Callable[[str], None]
) -> None:
    if moved:
        progress(f"rolling back: traffic {plan.rollback_traffic()}")
        ops.create_or_update_endpoint(build_endpoint(plan.endpoint, compute, plan.rollback_traffic()))
    try:
        logs = ops.deployment_logs(plan.endpoint, plan.green, 50)
    except Exception as error:
        logs = f"(no logs: {type(error).__name__})"
    progress(f"last log lines of {plan.green}:\n{logs}")
    progress(f"deleting failed deployment {plan.green}")
    ops.delete_deployment(plan.endpoint, plan.green)


def execute_rollback(
    ops: AzureMLOps,
    *,
    endpoint: str,
    compute: str,
    smoke: SmokeFn,
    host: str | None = None,
    progress: Callable[[str], None] = print,
) -> RollbackPlan:
    """Put all traffic back on the previous deployment (smoke-tested first); keep the current one."""
    found, deployments, traffic = read_state(ops, endpoint)
    if found is None:
        raise AzurePathError(f"endpoint {endpoint} does not exist: nothing to roll back")
    plan = plan_rollback(endpoint, deployments, traffic)
    key = ops.endpoint_key(endpoint)
    progress(f"smoke test of {plan.previous} directly")
    smoke(scoring_url(str(found.scoring_uri), host), key, plan.previous)
    progress(f"traffic: {plan.traffic()}")
    ops.create_or_update_endpoint(build_endpoint(endpoint, compute, plan.traffic()))
    return plan
