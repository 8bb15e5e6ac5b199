"""The local registry on a temporary state folder: register, versions, production, get, the lock.

One MLflow database for the module (creating one takes about a second); each test uses its own
model name, so the tests do not depend on each other's registrations.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from filelock import FileLock, Timeout

from model import artifact
from model import register as register_step
from pipelines.local import registry as registry_module
from pipelines.local.registry import EXPERIMENT, LocalRegistry
from pipelines.local.runner import step_env
from pipelines.local.state import StatePaths

REPORT = {
    "decision": {"register": True, "reason": "better: rmse 50 vs 51", "improvement": 0.02},
    "challenger": {"rmse": 50.0, "mae": 40.0, "r2": 0.5, "latency_p99_ms": 0.4},
    "champion": None,
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", register_step.LOCK_ENV):
            patch.delenv(name, raising=False)
        patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # restored after the module
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        yield LocalRegistry(StatePaths(tmp_path_factory.mktemp("registry") / "state"))


@pytest.fixture(scope="module")
def mlflow_model_dir(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model_dir`` as the train step writes it: with the MLflow model (MLmodel) the registry needs."""
    folder = tmp_path_factory.mktemp("mlflow-model") / "model"
    artifact.save_model_folder(artifact.load_estimator(model_dir), folder, artifact.read_metadata(model_dir))
    return folder


def register(registry: LocalRegistry, model_dir: Path, name: str) -> str:
    """Register ``model_dir`` as the pipeline does: a run, then the register step inside it."""
    run_id = registry.start_run({"mlops.env": "test"})
    env = step_env(registry.state.tracking_uri, run_id, registry.state.registry_lock)
    with mock.patch.dict(os.environ, env):
        result = register_step.register(model_dir, REPORT, name)
    registry.end_run(run_id, ok=True)
    assert result["registered"], result
    return str(result["version"])


def test_a_new_state_folder_gets_the_database_and_the_experiment(registry: LocalRegistry) -> None:
    state = registry.state
    assert registry.versions("never-registered") == []
    assert registry.production_version("never-registered") is None
    assert (state.mlflow_dir / "mlflow.db").is_file()
    experiment = registry.client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None and experiment.artifact_location == state.artifact_uri


def test_runs_are_tagged_and_end_finished_or_failed(registry: LocalRegistry) -> None:
    ok, failed = registry.start_run({"mlops.env": "local"}), registry.start_run({"mlops.env": "local"})
    registry.end_run(ok, ok=True)
    registry.end_run(failed, ok=False)
    assert registry.client.get_run(ok).data.tags["mlops.env"] == "local"
    assert registry.client.get_run(ok).info.status == "FINISHED"
    assert registry.client.get_run(failed).info.status == "FAILED"


def test_a_registered_version_is_fetched_into_the_state_folder_with_its_tags(
    registry: LocalRegistry, mlflow_model_dir: Path
) -> None:
    model_dir = mlflow_model_dir
    assert register(registry, model_dir, "fetched") == "1"
    assert registry.versions("fetched") == ["1"]
    got = registry.get("fetched", "1")
    assert (got.name, got.version) == ("fetched", "1")
    assert got.path == registry.state.models_dir / "fetched" / "1"
    assert json.loads((got.path / "metadata.json").read_text()) == json.loads(
        (model_dir / "metadata.json").read_text()
    )
    assert (got.path / "estimator.joblib").read_bytes() == (model_dir / "estimator.joblib").read_bytes()
    assert got.tags["gate_reason"] == "better: rmse 50 vs 51" and got.tags["rmse"] == "50"
    assert got.tags["data_hash"] == "sha256:test"
    assert [p.name for p in got.path.parent.iterdir()] == ["1"]  # no partial download left behind


def test_get_fetches_once_then_reads_the_local_copy(registry: LocalRegistry, mlflow_model_dir: Path) -> None:
    register(registry, mlflow_model_dir, "cached")
    first = registry.get("cached", "1")
    with mock.patch("mlflow.artifacts.download_artifacts", side_effect=AssertionError("fetched again")):
        again = registry.get("cached", "1")
    assert again.path == first.path


def test_versions_are_numbered_oldest_first(registry: LocalRegistry, tmp_path: Path) -> None:
    client = registry.client
    client.create_registered_model("many")
    for _ in range(11):
        client.create_model_version("many", source=str(tmp_path))
    assert registry.versions("many") == [str(n) for n in range(1, 12)]  # 10 after 9, not after 1


def test_production_marks_one_version_and_moves(registry: LocalRegistry, tmp_path: Path) -> None:
    registry.client.create_registered_model("promoted")
    for _ in range(2):
        registry.client.create_model_version("promoted", source=str(tmp_path))
    assert registry.production_version("promoted") is None
    registry.set_production("promoted", "1")
    assert registry.production_version("promoted") == "1"
    registry.set_production("promoted", "2")
    assert registry.production_version("promoted") == "2"
    # Another process (a new client on the same folder) sees the same marker.
    assert LocalRegistry(registry.state).production_version("promoted") == "2"


@pytest.mark.parametrize(
    ("name", "registered"), [("known", "registered: 1, 2"), ("unknown", "registered: none")]
)
def test_get_of_a_missing_version_names_the_registered_ones(
    registry: LocalRegistry, tmp_path: Path, name: str, registered: str
) -> None:
    if name == "known":
        registry.client.create_registered_model("known")
        for _ in range(2):
            registry.client.create_model_version("known", source=str(tmp_path))
    with pytest.raises(LookupError, match=rf"^model {name} has no version 7 \({registered}\)$"):
        registry.get(name, "7")


def test_registry_writes_wait_for_the_lock_the_steps_share(
    registry: LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.client.create_registered_model("locked")
    registry.client.create_model_version("locked", source=str(tmp_path))
    monkeypatch.setattr(registry_module, "LOCK_TIMEOUT_S", 0.2)
    held = FileLock(registry.state.registry_lock)  # another process writing to the registry
    with held:
        with pytest.raises(Timeout):
            registry.set_production("locked", "1")
        # The register step of a pipeline run takes the same lock (its path comes in step_env).
        env: dict[str, Any] = step_env(registry.state.tracking_uri, "run", registry.state.registry_lock)
        with mock.patch.dict(os.environ, env):
            step_lock = register_step.registry_lock()
        assert isinstance(step_lock, FileLock) and step_lock.lock_file == str(registry.state.registry_lock)
    assert registry.production_version("locked") is None
    registry.set_production("locked", "1")
    assert registry.production_version("locked") == "1"
