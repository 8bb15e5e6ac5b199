"""The Azure ML model monitor: built with azure-ai-ml, checked by its schemas, the calls asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.ai.ml.entities import Data, MonitorSchedule

from model.hashing import file_sha256
from model.monitor_config import AzureMonitorSettings, DriftSettings, MonitorConfig
from model.params import load_params
from pipelines.azure import monitoring, prod_deploy, workspaces
from pipelines.azure.errors import AzurePathError
from pipelines.azure.outputs_reader import parse
from pipelines.azure.refs import ModelRef
from tests.model_folders import MODEL_NAME

BUNDLED_CSV = load_params().data_path  # the default use case's data

V3 = ModelRef(MODEL_NAME, "3")
HASH = file_sha256(BUNDLED_CSV)


def schedule(
    drift: DriftSettings | None = None, azure: AzureMonitorSettings | None = None
) -> MonitorSchedule:
    return monitoring.build_monitor_schedule(
        name="mlops-monitor-prod",
        endpoint="scoring-prod-abc123",
        deployment="model-v3",
        reference="azureml:mlops-reference:0123456789abcdef",
        drift=drift or DriftSettings(),
        azure=azure or AzureMonitorSettings(emails=("ml@example.com",)),
    )


def test_the_schedule_serialises_to_the_rest_shape_azure_ml_expects() -> None:
    rest = schedule()._to_rest_object().as_dict()
    action = rest["properties"]["action"]
    assert action["actionType"] == "CreateMonitor"
    definition = action["monitorDefinition"]
    assert definition["monitoringTarget"] == {
        "taskType": "regression",
        "deploymentId": "azureml:scoring-prod-abc123:model-v3",
    }
    assert definition["computeConfiguration"]["instanceType"] == "standard_e4s_v3"
    assert definition["alertNotificationSetting"]["emailNotificationSetting"]["emails"] == ["ml@example.com"]
    signals = definition["signals"]
    data, prediction = signals["data_drift"], signals["prediction_drift"]
    assert data["productionData"]["uri"] == "azureml:scoring-prod-abc123-model-v3-model_inputs:1"
    assert data["productionData"]["windowSize"] == "P7D"
    assert prediction["productionData"]["uri"] == "azureml:scoring-prod-abc123-model-v3-model_outputs:1"
    for signal in (data, prediction):
        assert signal["referenceData"]["uri"] == "azureml:mlops-reference:0123456789abcdef"
        assert signal["referenceData"]["jobInputType"] == "mltable"
        assert signal["referenceData"]["dataContext"] == "training"
        assert signal["mode"] == "Enabled"
    thresholds = {(t["dataType"], t["metric"], t["threshold"]["value"]) for t in data["metricThresholds"]}
    assert thresholds == {
        ("Numerical", "populationStabilityIndex", 0.25),
        ("Categorical", "populationStabilityIndex", 0.25),
    }
    assert rest["properties"]["trigger"]["schedule"] == {"hours": [3], "minutes": [0]}


def test_the_statistic_and_thresholds_follow_config_monitor_yaml() -> None:
    drift = DriftSettings(statistic="jensen_shannon_distance", threshold=0.1, prediction_threshold=0.2)
    signals = (
        schedule(drift)._to_rest_object().as_dict()["properties"]["action"]["monitorDefinition"]["signals"]
    )
    assert {(t["metric"], t["threshold"]["value"]) for t in signals["data_drift"]["metricThresholds"]} == {
        ("jensenShannonDistance", 0.1)
    }
    assert [
        (t["metric"], t["threshold"]["value"]) for t in signals["prediction_drift"]["metricThresholds"]
    ] == [("jensenShannonDistance", 0.2)]


def test_the_schedule_passes_the_sdk_schema_of_a_schedule_yaml(tmp_path: Path) -> None:
    # The same entity written as `az ml schedule create -f` YAML and loaded back through
    # azure-ai-ml's marshmallow schema (MonitorScheduleSchema): a wrong field fails here.
    path = tmp_path / "monitor.yml"
    path.write_text(yaml.safe_dump(json.loads(json.dumps(schedule()._to_dict()))))
    loaded = MonitorSchedule._load(yaml.safe_load(path.read_text()), yaml_path=path)
    assert isinstance(loaded, MonitorSchedule)
    assert (
        loaded.create_monitor.monitoring_target.endpoint_deployment_id
        == "azureml:scoring-prod-abc123:model-v3"
    )
    assert set(loaded.create_monitor.monitoring_signals) == {"data_drift", "prediction_drift"}


def test_the_reference_is_an_mltable_asset_versioned_by_the_data_hash(tmp_path: Path) -> None:
    data = monitoring.reference_asset(BUNDLED_CSV, tmp_path / "ref")
    assert isinstance(data, Data)
    assert (data.name, data.version, data.type) == ("mlops-reference", HASH[7:23], "mltable")
    assert data.tags["sha256"] == HASH
    mltable = yaml.safe_load((tmp_path / "ref" / "MLTable").read_text())
    assert mltable["paths"] == [{"file": f"./{BUNDLED_CSV.name}"}]
    assert (tmp_path / "ref" / BUNDLED_CSV.name).read_bytes() == BUNDLED_CSV.read_bytes()


def serve(mocker: Any, prod: dict[str, Any], ops: Any, tags: dict[str, str]) -> Any:
    mocker.patch.object(workspaces, "outputs", return_value=parse("prod", prod))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    mocker.patch.object(workspaces, "model_store", return_value=ops)
    mocker.patch.object(prod_deploy, "live_model", return_value=("model-v3", V3))
    ops.get_model.return_value = mocker.Mock(tags=tags)
    return mocker.patch.object(prod_deploy, "endpoint_name", return_value="scoring-prod-abc123")


def test_schedule_monitor_registers_the_reference_then_creates_the_schedule(
    mocker: Any, prod_outputs: dict[str, Any], ops: Any
) -> None:
    serve(mocker, prod_outputs, ops, {"data_hash": HASH})
    ops.get_data.return_value = None
    result = monitoring.schedule_monitor("prod", MODEL_NAME)
    assert [c[0] for c in ops.method_calls] == [
        "get_model",
        "get_data",
        "create_data",
        "create_or_update_schedule",
    ]
    ops.get_model.assert_called_once_with(MODEL_NAME, "3")
    ops.get_data.assert_called_once_with("mlops-reference", HASH[7:23])
    (created,) = ops.create_data.call_args.args
    assert created.tags["sha256"] == HASH
    (sent,) = ops.create_or_update_schedule.call_args.args
    assert sent.name == "mlops-monitor-prod"
    assert (
        sent.create_monitor.monitoring_target.endpoint_deployment_id == "azureml:scoring-prod-abc123:model-v3"
    )
    assert result.reference == f"azureml:mlops-reference:{HASH[7:23]}"
    assert (result.endpoint, result.deployment) == ("scoring-prod-abc123", "model-v3")


def test_an_existing_reference_is_reused_and_one_with_another_hash_refused(
    mocker: Any, prod_outputs: dict[str, Any], ops: Any
) -> None:
    serve(mocker, prod_outputs, ops, {"data_hash": HASH})
    ops.get_data.return_value = mocker.Mock(tags={"sha256": HASH})
    monitoring.schedule_monitor("prod", MODEL_NAME)
    ops.create_data.assert_not_called()
    ops.create_or_update_schedule.assert_called_once()

    ops.reset_mock()
    ops.get_data.return_value = mocker.Mock(tags={"sha256": "sha256:other"})
    with pytest.raises(AzurePathError, match="with another sha256"):
        monitoring.schedule_monitor("prod", MODEL_NAME)
    ops.create_or_update_schedule.assert_not_called()


def test_no_schedule_without_a_served_model_or_its_training_data(
    mocker: Any, prod_outputs: dict[str, Any], ops: Any
) -> None:
    serve(mocker, prod_outputs, ops, {"data_hash": "sha256:" + "0" * 64})
    ops.get_data.return_value = None
    with pytest.raises(AzurePathError, match=r"training data .* is neither registered"):
        monitoring.schedule_monitor("prod", MODEL_NAME)
    mocker.patch.object(prod_deploy, "live_model", return_value=None)
    with pytest.raises(AzurePathError, match="serves no model yet"):
        monitoring.schedule_monitor("prod", MODEL_NAME)
    ops.create_or_update_schedule.assert_not_called()


def test_the_shipped_config_is_valid() -> None:
    from model.monitor_config import load_monitor_config

    assert isinstance(load_monitor_config(), MonitorConfig)
