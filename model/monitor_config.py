"""The drift monitor's settings (``config/monitor.yaml``), typed and validated (light: pydantic + YAML).

``mlops monitor`` reads them for the local check, the local endpoint's collection and the Azure ML
model monitor alike; an error names the key and what it accepts.
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.params import read_mapping
from model.paths import REPO_ROOT

DEFAULT_MONITOR_CONFIG = REPO_ROOT / "config" / "monitor.yaml"


class MonitorConfigError(ValueError):
    """The monitor's config file is missing or invalid; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftSettings(_Strict):
    """When a feature, or the predictions, count as drifted."""

    statistic: Literal["population_stability_index", "jensen_shannon_distance"] = "population_stability_index"
    threshold: float = Field(0.25, gt=0, le=10, description="a feature drifts above this")
    prediction_threshold: float = Field(0.25, gt=0, le=10, description="the predictions drift above this")
    bins: int = Field(10, ge=2, le=100, description="numeric features: bins at the reference's quantiles")
    categorical_max_values: int = Field(
        10,
        ge=1,
        le=100,
        description="a feature with this many distinct reference values or fewer is categorical",
    )
    max_out_of_range_rate: float = Field(0.05, ge=0, le=1, description="share of values outside the schema")
    min_rows: int = Field(50, ge=10, description="a production window with fewer rows is refused")
    window_hours: float | None = Field(None, gt=0, description="the production window; null: all collected")
    max_metric_increase: float = Field(
        0.25, ge=0, description="with labels: live RMSE/MAE above offline × (1 + this) is an alert"
    )


class CollectionSettings(_Strict):
    """What the local endpoint collects (the scoring service's SCORING_COLLECT_* settings)."""

    rate: float = Field(1.0, ge=0, le=1, description="share of requests collected: 0 off, 1 all")
    flush_seconds: float = Field(1.0, gt=0, le=3600, description="longest wait before rows are on disk")
    max_mb: int = Field(512, ge=1, description="most megabytes of collection files")


class AzureMonitorSettings(_Strict):
    """The Azure ML model monitor (azure-ai-ml MonitorSchedule) that `mlops monitor --schedule` creates."""

    frequency: Literal["day", "week"] = "day"
    interval: int = Field(1, ge=1, le=30)
    hour: int = Field(3, ge=0, le=23, description="UTC hour the monitor runs at")
    instance_type: str = Field("standard_e4s_v3", min_length=1, description="serverless Spark instance type")
    runtime_version: str = Field("3.4", pattern=r"^\d+\.\d+$", description="serverless Spark runtime")
    lookback_days: int = Field(7, ge=1, le=365, description="production window of each run")
    emails: tuple[str, ...] = Field((), description="who the alert mails")
    collection_rate: float = Field(
        0.1,
        ge=0,
        le=1,
        description="share of prod requests collected (SCORING_COLLECT_RATE and the deployment's "
        "data_collector.sampling_rate): 0 off",
    )


class MonitorConfig(_Strict):
    """The whole ``config/monitor.yaml``."""

    drift: DriftSettings = DriftSettings()
    collection: CollectionSettings = CollectionSettings()
    azure: AzureMonitorSettings = AzureMonitorSettings()


def load_monitor_config(path: Path = DEFAULT_MONITOR_CONFIG) -> MonitorConfig:
    """Read and validate ``path``; raise MonitorConfigError with one line naming the key."""
    raw = read_mapping(path, "monitor config", MonitorConfigError)
    try:
        return MonitorConfig.model_validate(raw)
    except ValidationError as error:
        details = error.errors()[0]
        where = ".".join(str(part) for part in details["loc"]) or "(root)"
        raise MonitorConfigError(f"{path}: invalid '{where}': {details['msg']}") from None
