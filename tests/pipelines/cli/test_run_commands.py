"""`mlops run` and `mlops train --env local`: the options reach the local lifecycle, or are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.local.lifecycle import RunOptions, RunSummary
from tests.model_folders import MODEL_NAME

runner = CliRunner()


def summary(**changes: Any) -> RunSummary:
    base: dict[str, Any] = {
        "run_dir": Path("/tmp/run"),
        "mlflow_run_id": "r",
        "model_name": MODEL_NAME,
        "registered": True,
        "version": "3",
        "reason": "better: rmse 50 vs 51",
        "challenger": {"rmse": 50.0, "mae": 40.0, "r2": 0.5, "latency_p99_ms": 1.0},
        "champion": None,
        "champion_version": None,
    }
    return RunSummary(**{**base, **changes})


@pytest.fixture
def run_local(mocker: Any) -> Any:
    return mocker.patch("pipelines.local.lifecycle.run_local", return_value=summary())


def test_train_local_honours_data_params_and_overrides(run_local: Any, tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("x\n")
    out = tmp_path / "summary.json"
    result = runner.invoke(
        app,
        ["train", "--env", "local", "--data", str(data), "--alpha", "0.5", "--seed", "7",
         "--summary-file", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    options: RunOptions = run_local.call_args.args[0]
    assert options.data == data
    assert options.overrides == {"estimator.alpha": 0.5, "train.seed": 7}
    assert options.deploy is False
    assert f"registered {MODEL_NAME} version 3" in result.output
    assert json.loads(out.read_text()) == {
        "registered": True,
        "model_name": MODEL_NAME,
        "model_version": "3",
        "reason": "better: rmse 50 vs 51",
    }


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--champion-from", "prod"], "--champion-from"),
        (["--no-wait"], "--no-wait"),
        (["--timeout-minutes", "5"], "--timeout-minutes"),
    ],
)
def test_train_local_refuses_dev_only_options(run_local: Any, extra: list[str], named: str) -> None:
    result = runner.invoke(app, ["train", "--env", "local", *extra])
    assert result.exit_code == 2
    assert named in result.output and "--env dev only" in result.output
    run_local.assert_not_called()


@pytest.mark.parametrize("command", ["run", "train"])
def test_bad_setting_is_a_usage_error_naming_the_key(run_local: Any, command: str) -> None:
    result = runner.invoke(app, [command, "--env", "local", "--test-size", "0.9"])
    assert result.exit_code == 2
    assert result.output.startswith("error:") and "test_size" in result.output
    run_local.assert_not_called()


@pytest.mark.parametrize("command", ["run", "train"])
def test_missing_data_file_is_a_usage_error(run_local: Any, command: str, tmp_path: Path) -> None:
    result = runner.invoke(app, [command, "--env", "local", "--data", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "data file not found" in result.output
    run_local.assert_not_called()


def test_run_passes_deploy_and_prints_the_summary(run_local: Any) -> None:
    result = runner.invoke(app, ["run", "--env", "local", "--no-deploy", "--min-improvement", "0.01"])
    assert result.exit_code == 0, result.output
    options: RunOptions = run_local.call_args.args[0]
    assert options.deploy is False and options.overrides == {"gate.min_improvement": 0.01}
    assert "registered v3: better: rmse 50 vs 51" in " ".join(result.output.split())


def test_set_overrides_reach_the_run_and_a_wrong_one_exits_2(run_local: Any) -> None:
    argv = ["run", "--env", "local", "--no-deploy", "--set", "estimator.solver=svd", "--set", "gate.floor=70"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    options: RunOptions = run_local.call_args.args[0]
    assert options.overrides == {"estimator.solver": "svd", "gate.floor": 70}

    for wrong, message in [
        ("estimator.solver", "--set takes KEY=VALUE"),
        ("estimator.depth=3", "invalid 'estimator.depth': Ridge has no parameter 'depth'"),
        ("gate.primary_metric=accuracy", "accuracy is a classification metric"),
    ]:
        refused = runner.invoke(app, ["run", "--env", "local", "--set", wrong])
        assert refused.exit_code == 2, refused.output
        assert message in " ".join(refused.output.split())
