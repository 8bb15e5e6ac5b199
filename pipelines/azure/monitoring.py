"""The Azure ML model monitor of qa or prod: a ``MonitorSchedule`` with data and prediction drift.

``mlops monitor --env prod --schedule`` builds it with azure-ai-ml (validated by the SDK's schemas,
tests/pipelines/azure/test_monitoring.py) and creates or updates it in the environment's workspace:

- target: the live deployment of the environment's Kubernetes endpoint (the one taking most traffic);
- production data: the data assets Azure ML's data collector registers for that deployment,
  ``<endpoint>-<deployment>-model_inputs`` and ``-model_outputs`` (Learn, how-to-collect-production-data:
  "two data assets are created with names `<endpoint_name>-<deployment_name>-model_inputs` and
  `<endpoint_name>-<deployment_name>-model_outputs`");
- reference: the serving model's training data, found by its lineage ``data_hash`` and registered as
  an MLTable asset ``mlops-reference`` versioned by that hash (Learn, how-to-monitor-model-performance,
  "Set up advanced model monitoring": the training data as ``Input(type="mltable", ...)`` with
  ``data_context=MonitorDatasetContext.TRAINING``);
- thresholds, schedule, Spark compute and e-mails: ``config/monitor.yaml`` (``drift`` and ``azure``).

Its alert reaches the retraining workflow through Azure Event Grid (docs/monitoring.md).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from model.hashing import file_sha256
from model.params import load_params
from model.schema import TARGET
from pipelines.azure import prod_deploy, workspaces
from pipelines.azure.errors import AzurePathError

if TYPE_CHECKING:
    from azure.ai.ml.entities import Data, MonitorSchedule

    from model.monitor_config import AzureMonitorSettings, DriftSettings
    from pipelines.azure.ops import AzureMLOps

REFERENCE_ASSET = "mlops-reference"
MONITOR_PREFIX = "mlops-monitor"
# The collections the prod deployment's data collector registers (prod_deploy.build_data_collector).
INPUTS_COLLECTION = prod_deploy.INPUTS_COLLECTION
OUTPUTS_COLLECTION = prod_deploy.OUTPUTS_COLLECTION
# Learn, how-to-mltable ("the MLTable file"): a delimited file read with its header.
MLTABLE = """\
paths:
  - file: ./{file}
transformations:
  - read_delimited:
      delimiter: ','
      encoding: utf8
      header: all_files_same_headers
"""


@dataclass(frozen=True)
class ScheduleResult:
    """What ``schedule_monitor`` created or updated."""

    name: str
    endpoint: str
    deployment: str
    reference: str
    trigger: str


def monitor_name(env: str) -> str:
    """The schedule's name: one monitor per environment, updated in place."""
    return f"{MONITOR_PREFIX}-{env}"


def production_asset(endpoint: str, deployment: str, collection: str) -> str:
    """The data asset the data collector registers for one collection of a deployment (version 1)."""
    return f"azureml:{endpoint}-{deployment}-{collection}:1"


def reference_version(data_hash: str) -> str:
    """The reference version: 16 hex digits of the data's SHA-256 (as the training asset's)."""
    return data_hash.removeprefix("sha256:")[:16]


def reference_asset(csv: Path, folder: Path) -> Data:
    """An MLTable data asset of ``csv`` (copied with its MLTable file into ``folder``)."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(csv, folder / csv.name)
    (folder / "MLTable").write_text(MLTABLE.format(file=csv.name))
    digest = file_sha256(csv)
    return Data(
        name=REFERENCE_ASSET,
        version=reference_version(digest),
        type=AssetTypes.MLTABLE,
        path=str(folder),
        description="the serving model's training data (drift reference of the model monitor)",
        tags={"sha256": digest, "source_file": csv.name},
    )


def build_monitor_schedule(
    *,
    name: str,
    endpoint: str,
    deployment: str,
    reference: str,
    drift: DriftSettings,
    azure: AzureMonitorSettings,
) -> MonitorSchedule:
    """The model monitor: data drift (every feature) and prediction drift, on a recurrence."""
    from azure.ai.ml import Input
    from azure.ai.ml.constants import MonitorDatasetContext
    from azure.ai.ml.entities import (
        AlertNotification,
        BaselineDataRange,
        CategoricalDriftMetrics,
        DataDriftMetricThreshold,
        DataDriftSignal,
        MonitorDefinition,
        MonitoringTarget,
        MonitorSchedule,
        NumericalDriftMetrics,
        PredictionDriftMetricThreshold,
        PredictionDriftSignal,
        ProductionData,
        RecurrencePattern,
        RecurrenceTrigger,
        ReferenceData,
        ServerlessSparkCompute,
    )

    # The same statistic and threshold as the local check: azure-ai-ml's metric keywords carry
    # config/monitor.yaml's names (NumericalDriftMetrics, CategoricalDriftMetrics).
    def numerical(value: float) -> NumericalDriftMetrics:
        if drift.statistic == "population_stability_index":
            return NumericalDriftMetrics(population_stability_index=value)
        return NumericalDriftMetrics(jensen_shannon_distance=value)

    def categorical(value: float) -> CategoricalDriftMetrics:
        if drift.statistic == "population_stability_index":
            return CategoricalDriftMetrics(population_stability_index=value)
        return CategoricalDriftMetrics(jensen_shannon_distance=value)

    window = BaselineDataRange(lookback_window_size=f"P{azure.lookback_days}D", lookback_window_offset="P0D")

    def production(collection: str, context: MonitorDatasetContext) -> ProductionData:
        path = production_asset(endpoint, deployment, collection)
        return ProductionData(
            input_data=Input(type="uri_folder", path=path), data_context=context, data_window=window
        )

    reference_data = ReferenceData(
        input_data=Input(type="mltable", path=reference),
        data_context=MonitorDatasetContext.TRAINING,
        data_column_names={"target_column": TARGET},
    )
    data_drift = DataDriftSignal(
        production_data=production(INPUTS_COLLECTION, MonitorDatasetContext.MODEL_INPUTS),
        reference_data=reference_data,
        metric_thresholds=DataDriftMetricThreshold(
            numerical=numerical(drift.threshold), categorical=categorical(drift.threshold)
        ),
        alert_enabled=True,
    )
    prediction_drift = PredictionDriftSignal(
        production_data=production(OUTPUTS_COLLECTION, MonitorDatasetContext.MODEL_OUTPUTS),
        reference_data=reference_data,
        metric_thresholds=PredictionDriftMetricThreshold(numerical=numerical(drift.prediction_threshold)),
        alert_enabled=True,
    )
    definition = MonitorDefinition(
        compute=ServerlessSparkCompute(
            instance_type=azure.instance_type, runtime_version=azure.runtime_version
        ),
        monitoring_target=MonitoringTarget(
            ml_task="regression", endpoint_deployment_id=f"azureml:{endpoint}:{deployment}"
        ),
        monitoring_signals={"data_drift": data_drift, "prediction_drift": prediction_drift},
        alert_notification=AlertNotification(emails=list(azure.emails)) if azure.emails else None,
    )
    trigger = RecurrenceTrigger(
        frequency=azure.frequency,
        interval=azure.interval,
        schedule=RecurrencePattern(hours=azure.hour, minutes=0),
    )
    return MonitorSchedule(name=name, trigger=trigger, create_monitor=definition)


def ensure_reference(ops: AzureMLOps, data_hash: str, candidates: list[Path]) -> str:
    """The reference asset's id (``azureml:mlops-reference:<version>``), registered if missing."""
    version = reference_version(data_hash)
    asset_id = f"azureml:{REFERENCE_ASSET}:{version}"
    existing = ops.get_data(REFERENCE_ASSET, version)
    if existing is not None:
        if (existing.tags or {}).get("sha256") != data_hash:
            raise AzurePathError(
                f"{ops.workspace} has {REFERENCE_ASSET}:{version} with another sha256 "
                f"({(existing.tags or {}).get('sha256')}); refusing to reuse it"
            )
        return asset_id
    source = next((p for p in candidates if p.is_file() and file_sha256(p) == data_hash), None)
    if source is None:
        looked = ", ".join(str(p) for p in candidates)
        raise AzurePathError(
            f"the serving model's training data ({data_hash}) is neither registered as {REFERENCE_ASSET}:"
            f"{version} in {ops.workspace} nor here (looked at: {looked}): pass it with --reference-data"
        )
    with tempfile.TemporaryDirectory(prefix="mlops-reference-") as tmp:
        ops.create_data(reference_asset(source, Path(tmp) / REFERENCE_ASSET))
    return asset_id


def schedule_monitor(env: str, model_name: str, reference_data: Path | None = None) -> ScheduleResult:
    """Create or update ``env``'s model monitor on its live deployment (``mlops monitor --schedule``)."""
    from model.monitor_config import load_monitor_config

    config = load_monitor_config()
    outputs = workspaces.outputs(env)
    ops = workspaces.ops(outputs)
    endpoint = prod_deploy.endpoint_name(outputs)
    live = prod_deploy.live_model(ops, endpoint)
    deployment, model = live if live is not None else ("", None)
    if model is None:
        raise AzurePathError(
            f"endpoint {endpoint} serves no model yet: deploy first (mlops deploy --env {env})"
        )
    if model.name != model_name:
        raise AzurePathError(f"endpoint {endpoint} serves {model}, not a version of {model_name}")
    found = workspaces.model_store(outputs).get_model(model.name, model.version)
    data_hash = (getattr(found, "tags", None) or {}).get("data_hash") if found is not None else None
    if not data_hash:
        raise AzurePathError(f"{model} has no data_hash tag: its training data cannot be found")
    candidates = [p for p in (reference_data, load_params().data_path) if p is not None]
    reference = ensure_reference(ops, data_hash, candidates)
    name = monitor_name(env)
    schedule = build_monitor_schedule(
        name=name,
        endpoint=endpoint,
        deployment=deployment,
        reference=reference,
        drift=config.drift,
        azure=config.azure,
    )
    ops.create_or_update_schedule(schedule)
    trigger = f"every {config.azure.interval} {config.azure.frequency} at {config.azure.hour:02d}:00 UTC"
    return ScheduleResult(name, endpoint, deployment, reference, trigger)
