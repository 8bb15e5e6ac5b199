"""The model folder: MLflow model + plain estimator file + metadata (docs/architecture.md)."""

import json
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from model.outputs import ESTIMATOR_FILE, METADATA_FILE


def trusted_types(pipeline: Pipeline) -> list[str]:
    """The types skops does not trust by default in ``pipeline`` (a tree's ``Tree``, a library's class).

    The model was built and fitted by this step from the use case's estimator: its own types are
    trusted for the MLflow save (skops reloads the file it wrote to check it), and no other.
    """
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)))


def pip_requirements(packages: dict[str, str]) -> list[str]:
    """The MLflow model's requirements: what trained it (lineage packages, the estimator's own
    distributions) plus skops, which reads the MLflow model's file."""
    from importlib.metadata import version

    pinned = {**packages, "skops": version("skops")}
    return [f"{name}=={release}" for name, release in pinned.items() if release != "absent"]


def save_model_folder(pipeline: Pipeline, folder: Path, metadata: dict[str, Any]) -> None:
    """Write the MLflow model, the plain estimator and its metadata into ``folder``."""
    import mlflow.sklearn

    folder.mkdir(parents=True, exist_ok=True)
    # MLflow's sklearn flavour saves with skops by default (`serialization_format=
    # SERIALIZATION_FORMAT_SKOPS`) and reloads the file with `skops_trusted_types`, which it also
    # writes into the MLmodel file; with explicit `pip_requirements` it adds no skops pin of its
    # own (mlflow 3.15.0: mlflow/sklearn/__init__.py, save_model and _save_model).
    mlflow.sklearn.save_model(
        pipeline,
        str(folder / "mlflow"),
        # Explicit requirements: skips MLflow's slow inference, and pins what scores to what trained.
        pip_requirements=pip_requirements(metadata["lineage"]["packages"]),
        skops_trusted_types=trusted_types(pipeline) or None,
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
