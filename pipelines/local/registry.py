"""The local environment's model registry: MLflow on SQLite under the state folder."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from model.outputs import METADATA_FILE
from pipelines.local.state import StatePaths

if TYPE_CHECKING:
    from mlflow import MlflowClient

EXPERIMENT = "mlops-training"
PRODUCTION_ALIAS = "production"
LOCK_TIMEOUT_S = 120


@dataclass(frozen=True)
class ModelVersion:
    """One registered version and where its model folder is on this machine."""

    name: str
    version: str
    path: Path
    tags: dict[str, str]


class LocalRegistry:
    """Registry reads and writes; writes hold the state folder's registry lock."""

    def __init__(self, state: StatePaths) -> None:
        self.state = state
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage data leaves the machine
        state.root.mkdir(parents=True, exist_ok=True)
        self._client: MlflowClient | None = None

    def lock(self) -> FileLock:
        """The cross-process registry lock."""
        return FileLock(self.state.registry_lock, timeout=LOCK_TIMEOUT_S)

    @property
    def client(self) -> "MlflowClient":
        """An MLflow client on the SQLite store (created on first use)."""
        if self._client is None:
            from mlflow import MlflowClient

            self.state.mlflow_dir.mkdir(parents=True, exist_ok=True)
            with self.lock():  # the first use creates the database: one process at a time
                self._client = MlflowClient(self.state.tracking_uri, self.state.tracking_uri)
                self._experiment_id()
        return self._client

    def _experiment_id(self) -> str:
        assert self._client is not None
        found = self._client.get_experiment_by_name(EXPERIMENT)
        if found is not None:
            return str(found.experiment_id)
        return str(self._client.create_experiment(EXPERIMENT, artifact_location=self.state.artifact_uri))

    def start_run(self, tags: dict[str, str]) -> str:
        """Create the MLflow run that a pipeline run's steps log into; return its id."""
        client = self.client
        with self.lock():
            experiment_id = self._experiment_id()
        run = client.create_run(experiment_id, tags=tags)
        return str(run.info.run_id)

    def end_run(self, run_id: str, *, ok: bool) -> None:
        """Mark the pipeline run finished or failed."""
        self.client.set_terminated(run_id, "FINISHED" if ok else "FAILED")

    def versions(self, name: str) -> list[str]:
        """All registered versions of ``name``, oldest first."""
        found = self.client.search_model_versions(f"name = '{name}'")
        return sorted((str(v.version) for v in found), key=int)

    def production_version(self, name: str) -> str | None:
        """The version marked production (what the local endpoint should serve), if any."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(name, PRODUCTION_ALIAS).version)
        except MlflowException:
            return None

    def set_production(self, name: str, version: str) -> None:
        """Mark ``version`` as production."""
        with self.lock():
            self.client.set_registered_model_alias(name, PRODUCTION_ALIAS, version)

    def get(self, name: str, version: str) -> ModelVersion:
        """A registered version with its model folder fetched into the state folder (cached)."""
        from mlflow.exceptions import MlflowException

        try:
            details = self.client.get_model_version(name, version)
        except MlflowException:
            known = self.versions(name)
            raise LookupError(
                f"model {name} has no version {version} (registered: {', '.join(known) or 'none'})"
            ) from None
        target = self.state.models_dir / name / str(version)
        if not (target / METADATA_FILE).is_file():
            import mlflow.artifacts

            partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            mlflow.artifacts.download_artifacts(
                artifact_uri=str(details.source),
                dst_path=str(partial),
                tracking_uri=self.state.tracking_uri,
            )
            inner = partial / Path(str(details.source)).name
            source = inner if inner.is_dir() else partial
            try:
                source.rename(target)
            except OSError:  # another process fetched it first
                if not (target / METADATA_FILE).is_file():
                    raise
            shutil.rmtree(partial, ignore_errors=True)
        return ModelVersion(name, str(version), target, dict(details.tags))
