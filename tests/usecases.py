"""Second use cases for the tests: a regression and a classification on data generated here.

Each writes its CSV and its use-case file (drafted by ``model.infer``, as ``mlops schema infer``
does) into a folder; a test points ``MLOPS_USECASE`` (or ``--params``) at the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.datasets import make_classification, make_regression

from model.infer import infer_usecase

ROWS = 300


def _write(folder: Path, frame: pd.DataFrame, name: str, **changes: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.csv"
    frame.to_csv(data, index=False, float_format="%.6g")
    usecase = infer_usecase(data.resolve(), model_name=name)
    for key, value in changes.items():
        usecase[key] = {**usecase.get(key, {}), **value} if isinstance(value, dict) else value
    usecase.setdefault("gate", {})["latency_budget_ms"] = 1000  # about the metric gate, not the machine
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(usecase, sort_keys=False))
    return path


def regression(folder: Path, name: str = "demand-regressor", **changes: Any) -> Path:
    """Five features, a noisy linear target: Ridge fits it well."""
    x, y = make_regression(n_samples=ROWS, n_features=5, noise=10.0, random_state=0)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 6)]).assign(demand=np.round(y, 3))
    return _write(folder, frame, name, **changes)


def classification(folder: Path, name: str = "churn-classifier", **changes: Any) -> Path:
    """Four features, two classes (0 and 1), a tree classifier (its types need skops's trust)."""
    x, y = make_classification(n_samples=ROWS, n_features=4, n_informative=3, n_redundant=0, random_state=0)
    frame = pd.DataFrame(x, columns=["tenure", "spend", "calls", "usage"]).assign(churned=y)
    estimator = {
        "import_path": "sklearn.tree.DecisionTreeClassifier",
        "params": {"max_depth": 3, "random_state": 0},
        "scale": False,
    }
    return _write(folder, frame, name, **{"estimator": estimator, **changes})
