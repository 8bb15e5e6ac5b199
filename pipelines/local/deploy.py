"""Deploy a registered version to the local endpoint and smoke-test it (registry + endpoint glue)."""

import json
from collections.abc import Callable
from pathlib import Path

from model.outputs import METADATA_FILE
from pipelines.errors import MlopsError
from pipelines.local import endpoint as local_endpoint
from pipelines.local.endpoint import EndpointRecord
from pipelines.local.registry import LocalRegistry
from pipelines.local.state import StatePaths
from pipelines.smoke import SmokeResult, smoke_test


class NothingToServe(MlopsError, LookupError):
    """No version given and none registered."""


def pick_version(registry: LocalRegistry, name: str, version: str | None) -> str:
    """The version to deploy: the one asked for, else production, else the newest registered."""
    if version is not None:
        return version
    if (production := registry.production_version(name)) is not None:
        return production
    versions = registry.versions(name)
    if not versions:
        raise NothingToServe(f"model {name} has no registered version yet: run `mlops run --env local` first")
    return versions[-1]


def deploy(
    registry: LocalRegistry,
    name: str,
    version: str | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> EndpointRecord:
    """Serve ``version`` locally (replacing the old process once the new one is ready); mark it production."""
    chosen = pick_version(registry, name, version)
    model = registry.get(name, chosen)
    record = local_endpoint.deploy(
        model.path,
        name=name,
        version=chosen,
        state_dir=registry.state.endpoint_dir,
        progress=progress,
        extra_env=collection_env(registry.state),
    )
    registry.set_production(name, chosen)
    return record


def collection_env(state: StatePaths) -> dict[str, str]:
    """The scoring service's collection settings for the local endpoint (config/monitor.yaml)."""
    from model.monitor_config import MonitorConfigError, load_monitor_config

    try:
        collection = load_monitor_config().collection
    except MonitorConfigError as error:
        raise MlopsError(str(error)) from None
    return {
        "SCORING_COLLECT_RATE": str(collection.rate),
        "SCORING_COLLECT_DIR": str(state.collected_dir),
        "SCORING_COLLECT_FLUSH_S": str(collection.flush_seconds),
        "SCORING_COLLECT_MAX_MB": str(collection.max_mb),
    }


def running(registry: LocalRegistry) -> EndpointRecord | None:
    """The local endpoint, if its process is alive."""
    return local_endpoint.status(registry.state.endpoint_dir)


def smoke(record: EndpointRecord, timeout_s: float = 30) -> SmokeResult:
    """POST the model's sample rows and compare with its offline predictions (from training)."""
    metadata = json.loads((Path(record.model_dir) / METADATA_FILE).read_text())
    sample = metadata["sample"]
    return smoke_test(record.score_url, sample["data"], sample["result"], timeout_s=timeout_s)
