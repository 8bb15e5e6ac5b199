"""Typed params: the file, overrides, and errors that name the key."""

from pathlib import Path

import pytest
import yaml

from model.params import (
    DEFAULT_PARAMS,
    USECASE_ENV,
    ParamsError,
    load_params,
    parse_assignments,
    write_params,
)

# The default use case's model name as the file spells it (read raw, not through the loader).
DEFAULT_NAME = yaml.safe_load(DEFAULT_PARAMS.read_text())["model_name"]


def test_default_params_file_is_valid():
    params = load_params(DEFAULT_PARAMS)
    assert params.model_name == DEFAULT_NAME
    assert params.gate.primary_metric == "rmse"


def test_overrides_apply_and_none_is_ignored():
    params = load_params(
        DEFAULT_PARAMS, {"estimator.alpha": 0.5, "train.seed": None, "gate.min_improvement": 0.02}
    )
    assert params.estimator.params["alpha"] == 0.5
    assert params.train.seed == load_params().train.seed
    assert params.gate.min_improvement == 0.02


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train.test_size": 0.9}, "invalid 'train.test_size'"),
        (
            {"gate.primary_metric": "auc"},
            r"invalid 'gate.primary_metric': Input should be 'rmse', 'mae', 'r2', 'accuracy', 'f1', "
            "'roc_auc' or 'log_loss'",
        ),
        (
            {"gate.primary_metric": "accuracy"},
            r"'gate.primary_metric' accuracy is a classification metric; for task regression use one of: "
            "rmse, mae, r2",
        ),
        ({"gate.direction": "higher"}, "'direction' of rmse is 'lower' \\(is better\\), not 'higher'"),
        ({"train.depth": 3}, "unknown parameter 'train.depth'"),
    ],
)
def test_invalid_overrides_name_the_key(overrides, message):
    with pytest.raises(ParamsError, match=message):
        load_params(DEFAULT_PARAMS, overrides)


def test_params_file_errors(tmp_path: Path):
    with pytest.raises(ParamsError, match="use-case file not found"):
        load_params(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  alpha: [1\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)
    bad.write_text(DEFAULT_PARAMS.read_text() + "\n")
    bad.write_text(bad.read_text().replace("  seed: 42", "  seed: 42\n  n_estimators: 5"))
    with pytest.raises(ParamsError, match=r"invalid 'train\.n_estimators': Extra inputs are not permitted"):
        load_params(bad)


def _usecase(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "usecase.yaml"
    text = DEFAULT_PARAMS.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "task: regression",
            "task: ranking",
            r"invalid 'task': Input should be 'regression' or 'classification'",
        ),
        (
            "task: regression",
            "task: classification",
            "'gate.primary_metric' rmse is a regression metric; for task classification use one of: "
            "accuracy, f1, roc_auc, log_loss",
        ),
        ("  min: 0\n  max: 500", "  min: 500\n  max: 0", r"invalid 'target': 'min' \(500.0\) is above 'max'"),
        (
            "bmi: {type: number, min: 10, max: 80",
            "bmi: {type: text, min: 10, max: 80",
            "invalid 'features.bmi.type'",
        ),
        (
            "bp: {type: number, min: 40, max: 250,",
            "bp: {type: number,",
            "invalid 'features.bp': give 'min' and 'max'",
        ),
        (f"model_name: {DEFAULT_NAME}", "model_name: Bad_Name", "invalid 'model_name'"),
    ],
)
def test_use_case_errors_name_the_key_and_the_allowed_values(tmp_path: Path, old, new, message):
    with pytest.raises(ParamsError, match=message):
        load_params(_usecase(tmp_path, old, new))


def test_mlops_usecase_names_another_file(tmp_path: Path, monkeypatch):
    path = _usecase(tmp_path, f"model_name: {DEFAULT_NAME}", "model_name: other-model")
    monkeypatch.setenv(USECASE_ENV, str(path))
    assert load_params().model_name == "other-model"


def test_set_assignments_read_yaml_scalars():
    assert parse_assignments(["estimator.max_depth=3", "gate.floor=0.5", "estimator.loss=huber"]) == {
        "estimator.max_depth": 3,
        "gate.floor": 0.5,
        "estimator.loss": "huber",
    }
    with pytest.raises(ParamsError, match="--set takes KEY=VALUE"):
        parse_assignments(["estimator.max_depth"])


def test_written_params_read_back_the_same(tmp_path: Path):
    params = load_params(DEFAULT_PARAMS, {"estimator.alpha": 3.0, "gate.floor": 70})
    write_params(params, tmp_path / "resolved.yaml")
    assert load_params(tmp_path / "resolved.yaml") == params
