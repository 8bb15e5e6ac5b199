"""Prod blue/green: the pure plan, the SDK entities (schema-validated), the executor's exact calls."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any
from unittest.mock import call

import pytest
import yaml

from pipelines.azure import prod_deploy
from pipelines.azure.errors import AzurePathError
from pipelines.azure.prod_deploy import DeployFailed, DeploymentInfo, plan_deploy, plan_rollback
from pipelines.azure.refs import ModelRef
from pipelines.smoke import SmokeTestError
from tests.model_folders import MODEL_NAME

V4 = ModelRef(MODEL_NAME, "4")
IMAGE = "crmlopsprod.azurecr.io/mlops-scoring@sha256:" + "a" * 64
URI = "http://10.0.0.4/api/v1/endpoint/scoring-prod-abc/score"


# -- plan (pure) ---------------------------------------------------------------------------------


def test_first_deploy_creates_the_endpoint_and_goes_straight_to_100():
    plan = plan_deploy(endpoint="ep", endpoint_exists=False, deployments=[], traffic={}, target=V4)
    assert (plan.create_endpoint, plan.green, plan.blue, plan.steps) == (True, "model-v4", None, (100,))
    assert plan.traffic(100) == {"model-v4": 100}


def test_green_beside_blue_in_steps_and_older_ones_removed():
    deployments = [
        DeploymentInfo("model-v2", "2", "2024-01-01T00:00:00Z"),
        DeploymentInfo("model-v3", "3", "2024-02-01T00:00:00Z"),
        DeploymentInfo("model-v1", "1", "2023-12-01T00:00:00Z"),
    ]
    plan = plan_deploy(
        endpoint="ep", endpoint_exists=True, deployments=deployments, traffic={"model-v3": 100}, target=V4
    )
    assert (plan.green, plan.blue, plan.steps) == ("model-v4", "model-v3", (10, 50, 100))
    assert [plan.traffic(p) for p in plan.steps] == [
        {"model-v4": 10, "model-v3": 90},
        {"model-v4": 50, "model-v3": 50},
        {"model-v4": 100, "model-v3": 0},
    ]
    assert plan.remove == ("model-v1", "model-v2")
    assert plan.rollback_traffic() == {"model-v3": 100, "model-v4": 0}


def test_redeploying_the_live_version_is_a_no_op():
    plan = plan_deploy(
        endpoint="ep",
        endpoint_exists=True,
        deployments=[DeploymentInfo("model-v4", "4")],
        traffic={"model-v4": 100},
        target=V4,
    )
    assert plan.already_live


@pytest.mark.parametrize("steps", [(), (10, 50), (50, 10, 100), (0, 100), (10, 150)])
def test_bad_traffic_steps_are_refused(steps):
    with pytest.raises(AzurePathError, match="traffic steps"):
        plan_deploy(endpoint="ep", endpoint_exists=True, deployments=[], traffic={}, target=V4, steps=steps)


def test_rollback_goes_to_the_newest_other_deployment():
    deployments = [
        DeploymentInfo("model-v2", "2", "2024-01-01T00:00:00Z"),
        DeploymentInfo("model-v3", "3", "2024-02-01T00:00:00Z"),
        DeploymentInfo("model-v4", "4", "2024-03-01T00:00:00Z"),
    ]
    plan = plan_rollback("ep", deployments, {"model-v4": 100, "model-v3": 0})
    assert (plan.live, plan.previous) == ("model-v4", "model-v3")
    assert plan.traffic() == {"model-v3": 100, "model-v4": 0}


def test_rollback_without_a_previous_deployment_is_refused():
    with pytest.raises(AzurePathError, match="no previous deployment"):
        plan_rollback("ep", [DeploymentInfo("model-v4", "4")], {"model-v4": 100})
    with pytest.raises(AzurePathError, match="no deployments"):
        plan_rollback("ep", [], {})


# -- entities (azure-ai-ml schemas) --------------------------------------------------------------


def _yaml(entity: Any) -> io.StringIO:
    """The entity as the YAML file `az ml` would read: the SDK's loaders validate it with its schema."""
    return io.StringIO(yaml.safe_dump(json.loads(json.dumps(entity._to_dict()))))


def test_endpoint_entity_validates_with_the_sdk_schema():
    from azure.ai.ml import load_online_endpoint
    from azure.ai.ml.entities import KubernetesOnlineEndpoint

    endpoint = prod_deploy.build_endpoint("scoring-prod-abc123", "k8s-prod", {"model-v4": 10, "model-v3": 90})
    reloaded = load_online_endpoint(source=_yaml(endpoint))
    assert isinstance(reloaded, KubernetesOnlineEndpoint)
    assert reloaded.compute == "k8s-prod"
    assert reloaded.auth_mode == "key"
    assert reloaded.traffic == {"model-v4": 10, "model-v3": 90}
    rest = endpoint._to_rest_online_endpoint(location="westeurope").as_dict()
    assert rest["properties"]["compute"].endswith("k8s-prod")


def test_deployment_entity_validates_with_the_sdk_schema():
    from azure.ai.ml import load_online_deployment
    from azure.ai.ml.entities import KubernetesOnlineDeployment

    deployment = prod_deploy.build_deployment(
        endpoint="scoring-prod-abc123",
        name="model-v4",
        model=V4,
        image=IMAGE,
        app_insights_connection_string="InstrumentationKey=k",
    )
    reloaded = load_online_deployment(source=_yaml(deployment))
    assert isinstance(reloaded, KubernetesOnlineDeployment)
    assert reloaded.environment.image == IMAGE
    assert reloaded.environment.inference_config["scoringRoute"] == {"port": 5001, "path": "/score"}
    assert reloaded.environment.inference_config["readinessRoute"]["path"] == "/health/ready"
    assert reloaded.environment_variables["SCORING_MODEL_VERSION"] == "4"
    assert reloaded.environment_variables["AZUREML_MODEL_DIR"] == "/opt/model"
    assert reloaded.model is None  # the model is baked into the image
    assert reloaded.tags["model_name"] == MODEL_NAME
    rest = deployment._to_rest_object(location="westeurope").as_dict()["properties"]
    assert rest["endpointComputeType"] == "Kubernetes"
    assert rest["readinessProbe"]["failureThreshold"] == 30


def test_deployment_collects_for_the_monitor_at_one_rate_in_the_service_and_the_data_collector():
    from azure.ai.ml import load_online_deployment

    deployment = prod_deploy.build_deployment(
        endpoint="scoring-prod-abc123", name="model-v4", model=V4, image=IMAGE, collect_rate=0.25
    )
    reloaded = load_online_deployment(source=_yaml(deployment))  # the SDK's schema accepts it
    assert reloaded.data_collector is not None
    assert set(reloaded.data_collector.collections) == {"model_inputs", "model_outputs"}
    rest = deployment._to_rest_object(location="westeurope").as_dict()["properties"]
    assert rest["dataCollector"] == {
        "collections": {
            "model_inputs": {"dataCollectionMode": "enabled", "samplingRate": 0.25},
            "model_outputs": {"dataCollectionMode": "enabled", "samplingRate": 0.25},
        }
    }
    variables = rest["environmentVariables"]
    assert variables["SCORING_COLLECT_RATE"] == "0.25"  # the service samples at the same rate
    assert variables["SCORING_COLLECT_DIR"] == "/tmp/scoring-collected"
    assert variables["SCORING_COLLECT_MAX_MB"] == "64"
    # the service's own settings accept them
    from scoring.settings import Settings

    settings = Settings.from_env(variables)
    assert (settings.collect_rate, settings.collecting) == (0.25, True)


def test_deployment_without_a_rate_collects_nothing():
    deployment = prod_deploy.build_deployment(endpoint="ep", name="model-v4", model=V4, image=IMAGE)
    rest = deployment._to_rest_object(location="westeurope").as_dict()["properties"]
    assert "dataCollector" not in rest
    assert not [k for k in rest["environmentVariables"] if k.startswith("SCORING_COLLECT")]
    with pytest.raises(AzurePathError, match="collection_rate"):
        prod_deploy.build_data_collector(1.5)


def test_deployment_names_its_instance_type_resources_and_scale_type():
    # Learn how-to-manage-kubernetes-instance-types: without instance_type the cluster's deliberately
    # minimal `defaultinstancetype` is used silently; resource limits must be below the instance
    # type's (2 CPU, 2Gi). reference-yaml-deployment-kubernetes-online: instance_count applies to
    # the `default` scale type, and Kubernetes deployments default to `target_utilization`.
    deployment = prod_deploy.build_deployment(
        endpoint="scoring-prod-abc123", name="model-v4", model=V4, image=IMAGE
    )
    rest = deployment._to_rest_object(location="westeurope").as_dict()
    assert rest["properties"]["instanceType"] == "defaultinstancetype"
    assert rest["properties"]["containerResourceRequirements"] == {
        "containerResourceRequests": {"cpu": "500m", "memory": "1Gi"},
        "containerResourceLimits": {"cpu": "1", "memory": "1536Mi"},
    }
    assert rest["properties"]["scaleSettings"] == {"scaleType": "Default"}
    assert rest["sku"] == {"name": "Default", "capacity": 1}


@pytest.mark.parametrize(
    ("uri", "host", "expected"),
    [
        (URI, None, URI),
        (URI, "score.contoso.com", "https://score.contoso.com/api/v1/endpoint/scoring-prod-abc/score"),
        (
            "https://score.contoso.com/api/v1/endpoint/ep/score",
            "score.contoso.com",
            "https://score.contoso.com/api/v1/endpoint/ep/score",
        ),
    ],
    ids=["plain", "ip-to-tls-name", "already-tls"],
)
def test_with_tls_clients_score_at_the_certificates_name(uri, host, expected):
    assert prod_deploy.scoring_url(uri, host) == expected


def test_endpoint_name_is_stable_and_short(prod_outputs):
    from pipelines.azure.outputs_reader import parse

    outputs = parse("prod", prod_outputs)
    name = prod_deploy.endpoint_name(outputs)
    assert name == prod_deploy.endpoint_name(outputs)
    assert name.startswith("scoring-prod-")
    from azure.ai.ml.entities._endpoint._endpoint_helpers import validate_endpoint_or_deployment_name

    validate_endpoint_or_deployment_name(name)  # the SDK's rules: 3-32 characters, a letter first


# -- executor: exact calls and their order --------------------------------------------------------


def deployment(name: str, version: str, at: str) -> SimpleNamespace:
    return SimpleNamespace(
        name=name, tags={"model_name": MODEL_NAME, "model_version": version, "deployed_at": at}
    )


@pytest.fixture
def live_v3(ops: Any) -> Any:
    """An endpoint serving v3 (100 %) with v2 (0 %) kept from the previous deploy, and v1 left over."""
    ops.get_endpoint.return_value = SimpleNamespace(
        name="ep", scoring_uri=URI, traffic={"model-v3": 100, "model-v2": 0, "model-v1": 0}
    )
    ops.list_deployments.return_value = [
        deployment("model-v1", "1", "2023-12-01T00:00:00Z"),
        deployment("model-v2", "2", "2024-01-01T00:00:00Z"),
        deployment("model-v3", "3", "2024-02-01T00:00:00Z"),
    ]
    ops.endpoint_key.return_value = "endpoint-key-secret"
    return ops


def deploy(ops: Any, smoke: Any, **kwargs: Any) -> prod_deploy.DeployResult:
    return prod_deploy.execute_deploy(
        ops,
        endpoint="ep",
        compute="k8s-prod",
        model=V4,
        image=IMAGE,
        smoke=smoke,
        step_wait_s=0,
        health_checks=2,
        progress=lambda _line: None,
        sleep=lambda _s: None,
        **kwargs,
    )


def timeline(ops: Any, smoke: Any) -> list[Any]:
    """Azure calls and smoke tests interleaved, in order (both mocks attached to one parent)."""
    events = []
    for name, args, _kwargs in ops.mock_calls:
        if name == "create_or_update_endpoint":
            events.append(("traffic", args[0].traffic))
        elif name == "create_or_update_deployment":
            events.append(("create", args[0].name))
        elif name == "delete_deployment":
            events.append(("delete", args[1]))
        elif name == "smoke":
            events.append(("smoke", args[2]))
    return events


def test_the_deploy_creates_green_with_the_data_collector_at_the_rate(live_v3, mocker):
    deploy(live_v3, mocker.Mock(), collect_rate=0.1)
    (created,) = [c.args[0] for c in live_v3.create_or_update_deployment.call_args_list]
    assert created.data_collector.sampling_rate == 0.1
    assert created.environment_variables["SCORING_COLLECT_RATE"] == "0.1"


def test_green_created_smoked_then_traffic_steps_with_health_checks_then_cleanup(live_v3, mocker):
    smoke = mocker.Mock()
    live_v3.attach_mock(smoke, "smoke")
    result = deploy(live_v3, smoke)
    assert timeline(live_v3, smoke) == [
        ("create", "model-v4"),
        ("smoke", "model-v4"),
        ("traffic", {"model-v4": 10, "model-v3": 90}),
        ("smoke", None),
        ("smoke", None),
        ("smoke", "model-v4"),
        ("traffic", {"model-v4": 50, "model-v3": 50}),
        ("smoke", None),
        ("smoke", None),
        ("smoke", "model-v4"),
        ("traffic", {"model-v4": 100, "model-v3": 0}),
        ("smoke", None),
        ("smoke", None),
        ("smoke", "model-v4"),
        ("delete", "model-v1"),
        ("delete", "model-v2"),
    ]
    assert all(c.args[:2] == (URI, "endpoint-key-secret") for c in smoke.call_args_list)
    created = live_v3.create_or_update_deployment.call_args.args[0]
    assert created.environment.image == IMAGE
    assert created.endpoint_name == "ep"
    assert result.removed == ["model-v1", "model-v2"]
    assert (result.green, result.blue, result.changed) == ("model-v4", "model-v3", True)


def test_with_tls_every_smoke_test_calls_the_https_name(live_v3, mocker):
    smoke = mocker.Mock()
    result = deploy(live_v3, smoke, host="score.contoso.com")
    tls = "https://score.contoso.com/api/v1/endpoint/scoring-prod-abc/score"
    assert {c.args[0] for c in smoke.call_args_list} == {tls}
    assert result.scoring_uri == tls


def test_failed_green_smoke_test_rolls_back_before_any_traffic(live_v3, mocker):
    smoke = mocker.Mock(side_effect=SmokeTestError("prediction mismatch"))
    live_v3.attach_mock(smoke, "smoke")
    live_v3.deployment_logs.return_value = "model load failed"
    with pytest.raises(DeployFailed, match=r"rolled back .*traffic on model-v3.*prediction mismatch"):
        deploy(live_v3, smoke)
    assert timeline(live_v3, smoke) == [("create", "model-v4"), ("smoke", "model-v4"), ("delete", "model-v4")]
    live_v3.deployment_logs.assert_called_once_with("ep", "model-v4", 50)


def test_failed_health_check_after_a_traffic_step_puts_traffic_back_on_blue(live_v3, mocker):
    smoke = mocker.Mock(side_effect=[None, None, SmokeTestError("HTTP 500")])
    live_v3.attach_mock(smoke, "smoke")
    with pytest.raises(DeployFailed):
        deploy(live_v3, smoke)
    assert timeline(live_v3, smoke) == [
        ("create", "model-v4"),
        ("smoke", "model-v4"),
        ("traffic", {"model-v4": 10, "model-v3": 90}),
        ("smoke", None),
        ("smoke", None),
        ("traffic", {"model-v3": 100, "model-v4": 0}),
        ("delete", "model-v4"),
    ]


def test_failed_deployment_creation_touches_no_traffic(live_v3, mocker):
    from azure.core.exceptions import HttpResponseError

    smoke = mocker.Mock()
    live_v3.create_or_update_deployment.side_effect = HttpResponseError("ImagePullBackOff")
    with pytest.raises(DeployFailed, match="ImagePullBackOff"):
        deploy(live_v3, smoke)
    live_v3.create_or_update_endpoint.assert_not_called()
    smoke.assert_not_called()
    live_v3.delete_deployment.assert_called_once_with("ep", "model-v4")


def test_first_deploy_creates_the_endpoint_first(ops, mocker):
    smoke = mocker.Mock()
    endpoint = SimpleNamespace(name="ep", scoring_uri=URI, traffic={})
    ops.get_endpoint.side_effect = [None, endpoint]
    ops.endpoint_key.return_value = "k"
    deploy(ops, smoke)
    first = ops.mock_calls[1]
    assert first[0] == "create_or_update_endpoint"
    assert first.args[0].traffic == {} and first.args[0].compute == "k8s-prod"
    assert [c.args[0].traffic for c in ops.create_or_update_endpoint.call_args_list] == [
        {},
        {"model-v4": 100},
    ]
    ops.list_deployments.assert_not_called()
    ops.delete_deployment.assert_not_called()


def test_deploying_the_live_version_again_changes_nothing(live_v3, mocker):
    live_v3.get_endpoint.return_value.traffic = {"model-v4": 100, "model-v3": 0}
    result = deploy(live_v3, mocker.Mock())
    assert result.changed is False
    live_v3.create_or_update_deployment.assert_not_called()
    live_v3.create_or_update_endpoint.assert_not_called()


def test_rollback_smoke_tests_the_previous_then_moves_all_traffic(ops, mocker):
    ops.get_endpoint.return_value = SimpleNamespace(name="ep", scoring_uri=URI, traffic={"model-v4": 100})
    ops.list_deployments.return_value = [
        deployment("model-v3", "3", "2024-02-01T00:00:00Z"),
        deployment("model-v4", "4", "2024-03-01T00:00:00Z"),
    ]
    ops.endpoint_key.return_value = "k"
    smoke = mocker.Mock()
    ops.attach_mock(smoke, "smoke")
    plan = prod_deploy.execute_rollback(ops, endpoint="ep", compute="k8s-prod", smoke=smoke, progress=print)
    assert (plan.live, plan.previous) == ("model-v4", "model-v3")
    assert timeline(ops, smoke) == [("smoke", "model-v3"), ("traffic", {"model-v3": 100, "model-v4": 0})]
    ops.delete_deployment.assert_not_called()  # the rolled-back deployment stays for investigation
    assert smoke.call_args == call(URI, "k", "model-v3")
    prod_deploy.execute_rollback(
        ops, endpoint="ep", compute="k8s-prod", smoke=smoke, host="score.contoso.com", progress=print
    )
    assert smoke.call_args.args[0] == "https://score.contoso.com/api/v1/endpoint/scoring-prod-abc/score"


def test_rollback_does_not_move_traffic_when_the_previous_fails_its_smoke_test(ops, mocker):
    ops.get_endpoint.return_value = SimpleNamespace(name="ep", scoring_uri=URI, traffic={"model-v4": 100})
    ops.list_deployments.return_value = [deployment("model-v3", "3", "a"), deployment("model-v4", "4", "b")]
    ops.endpoint_key.return_value = "k"
    with pytest.raises(SmokeTestError):
        prod_deploy.execute_rollback(
            ops, endpoint="ep", compute="k8s-prod", smoke=mocker.Mock(side_effect=SmokeTestError("x"))
        )
    ops.create_or_update_endpoint.assert_not_called()


def test_live_model_reads_the_deployment_tags(live_v3):
    assert prod_deploy.live_model(live_v3, "ep") == ("model-v3", ModelRef(MODEL_NAME, "3"))
    live_v3.get_endpoint.return_value = None
    assert prod_deploy.live_model(live_v3, "ep") is None
