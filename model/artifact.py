"""The model folder: MLflow model + plain estimator file + metadata (docs/architecture.md)."""

import json
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from model.outputs import ESTIMATOR_FILE, METADATA_FILE


def save_model_folder(pipeline: Pipeline, folder: Path, metadata: dict[str, Any]) -> None:
    """Write the MLflow model, the plain estimator and its metadata into ``folder``."""
    import mlflow.sklearn

    folder.mkdir(parents=True, exist_ok=True)
    packages = metadata["lineage"]["packages"]
    mlflow.sklearn.save_model(
        pipeline,
        str(folder / "mlflow"),
        # Explicit requirements: skips MLflow's slow inference, and pins what scores to what trained.
        pip_requirements=[f"{name}=={version}" for name, version in packages.items()],
    )
    for item in (folder / "mlflow").iterdir():
        item.rename(folder / item.name)
    (folder / "mlflow").rmdir()
    joblib.dump(pipeline, folder / ESTIMATOR_FILE)
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")


def load_estimator(folder: Path) -> Pipeline:
    """Load the fitted pipeline from a model folder (no MLflow needed)."""
    path = folder / ESTIMATOR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {ESTIMATOR_FILE} in model folder {folder}")
    estimator: Pipeline = joblib.load(path)
    return estimator


def read_metadata(folder: Path) -> dict[str, Any]:
    """The metadata.json of a model folder."""
    data: dict[str, Any] = json.loads((folder / METADATA_FILE).read_text())
    return data
