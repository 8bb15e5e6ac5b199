"""Where the local environment keeps its state (git-ignored): MLflow store, runs, models, endpoint."""

import os
from dataclasses import dataclass
from pathlib import Path

STATE_ENV = "MLOPS_STATE_DIR"
DEFAULT_STATE = Path(".state")


@dataclass(frozen=True)
class StatePaths:
    """The folders and files under the state root."""

    root: Path

    @classmethod
    def from_env(cls) -> "StatePaths":
        """``$MLOPS_STATE_DIR`` or ``./.state``, made absolute."""
        return cls(Path(os.environ.get(STATE_ENV) or DEFAULT_STATE).resolve())

    @property
    def mlflow_dir(self) -> Path:
        """MLflow's SQLite database and artifact store."""
        return self.root / "mlflow"

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking and registry URI."""
        return f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"

    @property
    def artifact_uri(self) -> str:
        """Where MLflow stores run artifacts."""
        return (self.mlflow_dir / "artifacts").as_uri()

    @property
    def registry_lock(self) -> Path:
        """The lock around registry writes (two runs at once must not lose a version)."""
        return self.root / "registry.lock"

    @property
    def runs_dir(self) -> Path:
        """One folder per pipeline run: step outputs and logs."""
        return self.root / "runs"

    @property
    def models_dir(self) -> Path:
        """Registered model versions fetched from the registry, one folder per version."""
        return self.root / "models"

    @property
    def endpoint_dir(self) -> Path:
        """The local scoring endpoint's record and logs."""
        return self.root / "endpoint"

    @property
    def collected_dir(self) -> Path:
        """What the local endpoint collects: its requests' rows and predictions (docs/monitoring.md)."""
        return self.root / "collected"

    @property
    def monitor_dir(self) -> Path:
        """The drift reports of ``mlops monitor --env local``, one folder per check."""
        return self.root / "monitor"
