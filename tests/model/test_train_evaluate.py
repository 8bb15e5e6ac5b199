"""Training and evaluation on the bundled data: seeded, reproducible, the model folder contract."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import artifact
from model.evaluate import check_compatible, evaluate, quality
from model.params import DEFAULT_PARAMS, Params, TrainParams, load_params
from model.schema import FEATURES, TARGET
from model.train import fit, model_metadata, split
from tests.model_folders import MODEL_NAME


def test_split_is_seeded(bundled_frame):
    _, a_test = split(bundled_frame, TrainParams(seed=7))
    _, b_test = split(bundled_frame, TrainParams(seed=7))
    _, c_test = split(bundled_frame, TrainParams(seed=8))
    pd.testing.assert_frame_equal(a_test, b_test)
    assert not a_test.index.equals(c_test.index)
    assert len(a_test) == math.ceil(len(bundled_frame) * 0.2)


def test_quality_metrics_on_known_values():
    y = np.array([1.0, 2.0, 3.0])
    assert quality(y, y) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0}
    metrics = quality(y, np.array([2.0, 2.0, 2.0]))
    assert metrics["mae"] == pytest.approx(2 / 3)
    assert metrics["rmse"] == pytest.approx(np.sqrt(2 / 3))
    assert metrics["r2"] == pytest.approx(0.0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, bundled_frame):
    from model.params import load_params

    params = load_params(DEFAULT_PARAMS)
    train, test = split(bundled_frame, params.train)
    pipeline = fit(train, params)
    folder = tmp_path_factory.mktemp("model")
    artifact.save_model_folder(pipeline, folder, model_metadata(pipeline, params, test, "sha256:x", "run-1"))
    return folder, test, pipeline


def test_model_folder_holds_mlflow_model_plain_estimator_and_metadata(trained):
    folder, _, pipeline = trained
    assert (folder / "MLmodel").is_file()
    requirements = (folder / "requirements.txt").read_text()
    assert requirements.count("scikit-learn==") == 1
    assert requirements.count("skops==") == 1  # MLflow's sklearn flavour reads its file with skops
    metadata = artifact.read_metadata(folder)
    assert metadata["features"] == list(FEATURES)
    assert metadata["lineage"]["data_hash"] == "sha256:x"
    loaded = artifact.load_estimator(folder)
    sample = np.array(metadata["sample"]["data"])
    np.testing.assert_allclose(loaded.predict(sample), metadata["sample"]["result"])
    np.testing.assert_allclose(loaded.predict(sample), pipeline.predict(sample))


def test_mlflow_can_load_the_same_model(trained):
    import mlflow.pyfunc

    folder, test, pipeline = trained
    rows = test[list(FEATURES)].head(3).to_numpy()
    np.testing.assert_allclose(mlflow.pyfunc.load_model(str(folder)).predict(rows), pipeline.predict(rows))


def test_evaluate_against_itself_is_not_better_and_without_champion_registers(trained):
    folder, test, _ = trained
    # A generous latency budget: this test is about the metric gate, and a loaded machine must not
    # turn "first model" into "too slow" (test_gate.py covers the latency rule).
    generous = {"gate.latency_budget_ms": 1000.0}
    first = evaluate(folder, test, None, DEFAULT_PARAMS, generous)
    assert first["decision"]["register"] and first["champion"] is None
    assert first["challenger"]["r2"] > 0.3
    again = evaluate(folder, test, folder, DEFAULT_PARAMS, generous)
    assert not again["decision"]["register"]
    assert again["champion"]["rmse"] == pytest.approx(again["challenger"]["rmse"])
    assert again["decision"]["reason"].startswith("not better")
    json.dumps(again)  # the report is JSON-ready


def test_evaluate_rejects_a_folder_without_estimator(tmp_path: Path, trained):
    _, test, _ = trained
    with pytest.raises(FileNotFoundError, match=r"no estimator\.joblib"):
        evaluate(tmp_path, test, None, DEFAULT_PARAMS, {})
    assert TARGET in test.columns


def test_a_tree_model_saves_without_trusting_its_types_by_hand(tmp_path: Path, bundled_frame):
    data = load_params(DEFAULT_PARAMS).model_dump()
    data["estimator"] = {
        "import_path": "sklearn.tree.DecisionTreeRegressor",
        "params": {"max_depth": 3},
        "scale": False,
    }
    params = Params.model_validate(data)
    train, test = split(bundled_frame, params.train)
    model = fit(train, params)
    artifact.save_model_folder(model, tmp_path, model_metadata(model, params, test, "sha256:x", "run-1"))
    assert "sklearn.tree._tree.Tree" in (tmp_path / "MLmodel").read_text()  # trusted, in the MLmodel file
    import mlflow.pyfunc

    rows = test[list(FEATURES)].head(3).to_numpy()
    np.testing.assert_allclose(mlflow.pyfunc.load_model(str(tmp_path)).predict(rows), model.predict(rows))


def test_a_champion_of_another_use_case_is_refused_in_one_line(trained):
    from model.evaluate import ChampionMismatch

    folder, _, _ = trained
    metadata = artifact.read_metadata(folder)
    with pytest.raises(ChampionMismatch, match=rf"^the champion of model_name '{MODEL_NAME}' was trained"):
        check_compatible({**metadata, "features": metadata["features"][:8]}, load_params(DEFAULT_PARAMS))
    with pytest.raises(ChampionMismatch, match=r"task: classification vs regression.*make clean"):
        check_compatible({**metadata, "task": "classification"}, load_params(DEFAULT_PARAMS))
    check_compatible(metadata, load_params(DEFAULT_PARAMS))
