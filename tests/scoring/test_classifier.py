"""A classifier is served with its class probabilities beside each class."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest
from starlette.testclient import TestClient

from scoring.app import create_app
from scoring.model_loader import ModelLoadError, load_model
from scoring.settings import Settings
from tests.model_folders import build_classifier_dir


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_classifier_dir(tmp_path_factory.mktemp("classifier"))


def test_the_answer_carries_probabilities_beside_the_class(classifier_dir: Path) -> None:
    estimator = joblib.load(classifier_dir / "estimator.joblib")
    rows = [[0.1, -0.2, 0.3, 1.0], [2.0, 1.0, -1.0, 0.0]]
    settings = Settings(model_dir=classifier_dir, model_version="1")
    with TestClient(create_app(settings)) as client:
        answer = client.post("/score", json={"data": rows}).json()
        mlflow_shape = client.post("/score", json={"dataframe_split": {"data": rows}}).json()
        metadata = client.get("/metadata").json()
        openapi = client.get("/openapi.json").json()
    assert answer["result"] == estimator.predict(np.array(rows)).tolist()
    np.testing.assert_allclose(answer["probabilities"], estimator.predict_proba(np.array(rows)), rtol=1e-12)
    assert mlflow_shape["predictions"] == answer["result"]
    assert mlflow_shape["probabilities"] == answer["probabilities"]
    assert metadata["task"] == "classification" and metadata["classes"] == [0.0, 1.0]
    assert "class (and its probabilities)" in openapi["info"]["description"]


def test_a_regressor_answer_has_no_probabilities(client: TestClient, rows: list[list[float]]) -> None:
    assert set(client.post("/score", json={"data": rows}).json()) == {"result"}
    assert client.get("/metadata").json()["classes"] is None


def test_sample_probabilities_that_do_not_match_refuse_the_model(tmp_path: Path) -> None:
    folder = build_classifier_dir(tmp_path / "m")
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["sample"]["probabilities"][0] = [0.5, 0.5]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelLoadError, match="does not reproduce the sample probabilities"):
        load_model(folder)
