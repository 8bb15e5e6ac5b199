"""Loading model folders: the contract, the fail-fast checks and the NumPy fast path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from scoring import fastpath
from scoring.model_loader import ModelLoadError, load_model, predict, resolve_model_dir
from tests.model_folders import MODEL_NAME


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_metadata(folder: Path, **changes: Any) -> None:
    path = folder / "metadata.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


def test_loads_the_folder_and_reports_its_facts(model_dir: Path, features: list[str]) -> None:
    model = load_model(model_dir, version="3")
    assert (model.name, model.version, model.features) == (MODEL_NAME, "3", tuple(features))
    assert model.lineage["run_id"] == "run-alpha-1.0"
    assert model.predict_path == "numpy"


def test_name_override(model_dir: Path) -> None:
    assert load_model(model_dir, name="other").name == "other"


def test_azureml_layout_with_one_model_folder_inside(model_dir: Path, tmp_path: Path) -> None:
    copy_model(model_dir, tmp_path / "mount" / MODEL_NAME)
    assert resolve_model_dir(tmp_path / "mount") == tmp_path / "mount" / MODEL_NAME
    assert load_model(tmp_path / "mount").path == tmp_path / "mount" / MODEL_NAME


@pytest.mark.parametrize(
    ("setup", "phrase"),
    [
        ("missing", "does not exist"),
        ("empty", "found nothing"),
        ("two", "found a, b"),
        ("no-metadata", "metadata.json is missing"),
        ("bad-json", "not valid JSON"),
        ("no-features", "'features' must be"),
        ("no-estimator", "estimator.joblib is missing"),
        ("not-a-model", "not a model"),
        ("corrupt", "cannot load"),
        ("too-few-features", "expects 10 features but metadata.json lists 9"),
        ("wrong-sample", "does not reproduce the sample"),
    ],
)
def test_a_folder_that_cannot_be_served_fails_with_a_reason(
    model_dir: Path, tmp_path: Path, setup: str, phrase: str, features: list[str]
) -> None:
    folder = tmp_path / "m"
    if setup == "missing":
        folder = tmp_path / "nowhere"
    elif setup == "empty":
        folder.mkdir()
    elif setup == "two":
        copy_model(model_dir, folder / "a")
        copy_model(model_dir, folder / "b")
    else:
        copy_model(model_dir, folder)
        if setup == "no-metadata":
            (folder / "metadata.json").unlink()
        elif setup == "bad-json":
            (folder / "metadata.json").write_text("{")
        elif setup == "no-features":
            edit_metadata(folder, features=[])
        elif setup == "no-estimator":
            (folder / "estimator.joblib").unlink()
        elif setup == "not-a-model":
            joblib.dump({"not": "a model"}, folder / "estimator.joblib")
        elif setup == "corrupt":
            (folder / "estimator.joblib").write_bytes(b"garbage")
        elif setup == "too-few-features":
            edit_metadata(folder, features=features[:9])
        elif setup == "wrong-sample":
            meta = json.loads((folder / "metadata.json").read_text())
            meta["sample"]["result"][1] += 1.0
            (folder / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match=phrase):
        load_model(folder)


def test_other_sklearn_version_fails_before_unpickling(model_dir: Path, tmp_path: Path) -> None:
    folder = copy_model(model_dir, tmp_path / "m")
    edit_metadata(folder, sklearn_version="1.0.2")
    (folder / "estimator.joblib").write_bytes(b"never read")  # would fail differently if read
    with pytest.raises(ModelLoadError) as error:
        load_model(folder)
    message = str(error.value)
    assert "trained with scikit-learn 1.0.2" in message
    assert "Retrain" in message


def test_fast_path_matches_estimator_predict_exactly(model_dir: Path) -> None:
    fast = load_model(model_dir)
    slow = load_model(model_dir, fast_path=False)
    assert (fast.predict_path, slow.predict_path) == ("numpy", "estimator")
    rows = np.random.default_rng(0).normal(0, 0.1, size=(257, 10))
    np.testing.assert_array_equal(predict(fast, rows), predict(slow, rows))
    np.testing.assert_array_equal(predict(fast, rows[:1]), predict(slow, rows[:1]))


def test_unsupported_pipelines_use_estimator_predict(tmp_path: Path, build_model: Any) -> None:
    folder = build_model(tmp_path / "m")
    x = np.random.default_rng(1).normal(size=(50, 10))
    other = Pipeline([("scale", MinMaxScaler()), ("ridge", Ridge())]).fit(x, x[:, 0])
    assert fastpath.compile_predictor(other) is None
    joblib.dump(other, folder / "estimator.joblib")
    edit_metadata(folder, sample=None)
    model = load_model(folder)
    assert model.predict_path == "estimator"
    np.testing.assert_allclose(predict(model, x[:5]), other.predict(x[:5]))


def test_a_fast_path_that_disagrees_is_not_used(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def off_by_a_little(estimator: Any) -> Any:
        return lambda rows: np.asarray(estimator.predict(rows)) * (1 + 1e-9)

    monkeypatch.setattr(fastpath, "compile_predictor", off_by_a_little)
    assert load_model(model_dir).predict_path == "estimator"


def test_fast_path_compiles_supported_shapes() -> None:
    x = np.random.default_rng(2).normal(size=(40, 10))
    y = x @ np.arange(10.0)
    for estimator in (
        Ridge().fit(x, y),
        Pipeline([("s", StandardScaler(with_mean=False)), ("r", Ridge())]).fit(x, y),
        Pipeline([("s", StandardScaler()), ("skip", "passthrough"), ("r", Ridge())]).fit(x, y),
    ):
        fast = fastpath.compile_predictor(estimator)
        assert fast is not None
        assert fastpath.agrees(fast, estimator, fastpath.probe_rows(10))
    multi = Ridge().fit(x, np.c_[y, y])
    assert fastpath.compile_predictor(multi) is None


def test_fast_path_gives_scikit_learns_floats_and_leaves_the_rows_alone() -> None:
    x = np.random.default_rng(3).normal(5.0, 3.0, size=(50, 10))
    y = x @ np.arange(10.0) + 1.5
    for estimator in (
        Pipeline([("s", StandardScaler()), ("r", Ridge())]).fit(x, y),  # the one-call form
        Pipeline([("a", StandardScaler()), ("b", StandardScaler(with_std=False)), ("r", Ridge())]).fit(x, y),
    ):
        fast = fastpath.compile_predictor(estimator)
        assert fast is not None
        rows = x.copy()
        np.testing.assert_array_equal(fast(rows), estimator.predict(x))  # the same floats, bit for bit
        np.testing.assert_array_equal(rows, x)  # the request's rows are not modified
