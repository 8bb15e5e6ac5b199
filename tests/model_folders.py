"""Model folders built here, per the artifact contract (no training code, no MLflow).

``build_model_dir`` fits a small scikit-learn Pipeline on the default use case's data and
writes ``estimator.joblib`` + ``metadata.json`` exactly as docs/architecture.md describes,
so the tests need neither the training code nor MLflow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from model.params import DEFAULT_PARAMS, load_params

# The default use case (config/usecase.yaml), whatever MLOPS_USECASE says: its name, features, data.
DEFAULT_USECASE = load_params(DEFAULT_PARAMS)
MODEL_NAME = DEFAULT_USECASE.model_name
FEATURES = list(DEFAULT_USECASE.features)
DATA_FILE = DEFAULT_USECASE.data_path


def bundled() -> tuple[np.ndarray, np.ndarray]:
    """The default use case's data file: its features and its target, as float arrays."""
    frame = pd.read_csv(DEFAULT_USECASE.data_path)
    x = frame[FEATURES].to_numpy(dtype=np.float64)
    return x, frame[DEFAULT_USECASE.target.name].to_numpy(dtype=np.float64)


def build_model_dir(
    path: Path,
    *,
    alpha: float = 1.0,
    name: str = MODEL_NAME,
    sklearn_version: str | None = None,
    n_sample: int = 3,
) -> Path:
    """Fit StandardScaler + Ridge(alpha) and write a model folder at ``path``."""
    x, y = bundled()
    estimator = Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=alpha))]).fit(x, y)
    path.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, path / "estimator.joblib")
    sample = x[:n_sample]
    metadata: dict[str, Any] = {
        "name": name,
        "sklearn_version": sklearn_version or sklearn.__version__,
        "features": FEATURES,
        "target": DEFAULT_USECASE.target.name,
        "lineage": {
            "git_commit": "0" * 40,
            "data_hash": "sha256:test",
            "run_id": f"run-alpha-{alpha}",
            "trained_at": "2025-01-01T00:00:00+00:00",
            "packages": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        },
        "sample": {"data": sample.tolist(), "result": estimator.predict(sample).tolist()},
    }
    (path / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return path


def expected_predictions(model_dir: Path, rows: list[list[float]]) -> list[float]:
    estimator = joblib.load(model_dir / "estimator.joblib")
    return [float(v) for v in estimator.predict(np.asarray(rows, dtype=np.float64))]


def build_classifier_dir(path: Path, *, name: str = "test-classifier") -> Path:
    """Fit StandardScaler + LogisticRegression on two classes and write a model folder at ``path``."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0, random_state=0)
    estimator = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(x, y)
    path.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, path / "estimator.joblib")
    sample = x[:3]
    metadata: dict[str, Any] = {
        "name": name,
        "task": "classification",
        "sklearn_version": sklearn.__version__,
        "features": ["a", "b", "c", "d"],
        "target": "label",
        "classes": [0.0, 1.0],
        "lineage": {"run_id": "run-classifier"},
        "sample": {
            "data": sample.tolist(),
            "result": estimator.predict(sample).tolist(),
            "probabilities": estimator.predict_proba(sample).tolist(),
        },
    }
    (path / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return path
