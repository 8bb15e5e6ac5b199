"""Typed params: the file, overrides, and errors that name the key."""

from pathlib import Path

import pytest

from model.params import DEFAULT_PARAMS, ParamsError, load_params


def test_default_params_file_is_valid():
    params = load_params(DEFAULT_PARAMS)
    assert params.model_name == "diabetes-regressor"
    assert params.gate.primary_metric == "rmse"


def test_overrides_apply_and_none_is_ignored():
    params = load_params(
        DEFAULT_PARAMS, {"train.alpha": 0.5, "train.seed": None, "gate.min_improvement": 0.02}
    )
    assert params.train.alpha == 0.5
    assert params.train.seed == load_params().train.seed
    assert params.gate.min_improvement == 0.02


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"train.alpha": -1}, "invalid 'train.alpha': Input should be greater than 0"),
        ({"train.test_size": 0.9}, "invalid 'train.test_size'"),
        (
            {"gate.primary_metric": "accuracy"},
            r"invalid 'gate.primary_metric': Input should be 'rmse', 'mae' or 'r2'",
        ),
        ({"train.depth": 3}, "unknown parameter 'train.depth'"),
    ],
)
def test_invalid_overrides_name_the_key(overrides, message):
    with pytest.raises(ParamsError, match=message):
        load_params(DEFAULT_PARAMS, overrides)


def test_params_file_errors(tmp_path: Path):
    with pytest.raises(ParamsError, match="params file not found"):
        load_params(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  alpha: [1\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)
    bad.write_text("train:\n  alpha: 1\n  n_estimators: 5\n")
    with pytest.raises(ParamsError, match=r"invalid 'train\.n_estimators': Extra inputs are not permitted"):
        load_params(bad)
