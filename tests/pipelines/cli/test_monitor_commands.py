"""`mlops monitor` and `mlops traffic`: exit codes CI acts on, and one clear line for bad requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.errors import ExitCode
from pipelines.local.monitor import MonitorOutcome
from tests.model_folders import MODEL_NAME
from tests.pipelines.cli.test_run_commands import summary as run_summary

runner = CliRunner()


def outcome(tmp_path: Path, *, drift: bool) -> MonitorOutcome:
    feature = {"name": "bmi", "kind": "numeric", "value": 4.4 if drift else 0.1, "threshold": 0.25}
    feature |= {"out_of_range_rate": 0.0, "missing_rate": 0.0, "drift": drift}
    report = {
        "statistic": "population_stability_index",
        "features": [feature],
        "prediction": {"value": 0.1, "threshold": 0.25, "drift": False},
        "drifted": ["bmi"] if drift else [],
        "drift": drift,
        "performance": None,
        "window": {"rows": 89, "requests": 9, "from": "a", "to": "b"},
        "reference": {"rows": 353, "source": "data/train.csv"},
    }
    return MonitorOutcome("1", drift, report, tmp_path)


@pytest.fixture
def check(mocker: Any, tmp_path: Path) -> Any:
    mocker.patch("pipelines.local.registry.LocalRegistry")
    return mocker.patch("pipelines.local.monitor.check", return_value=outcome(tmp_path, drift=False))


def test_no_drift_exits_0_and_drift_exits_3(check: Any, tmp_path: Path) -> None:
    calm = runner.invoke(app, ["monitor", "--env", "local", "--summary-file", str(tmp_path / "s.json")])
    assert calm.exit_code == 0, calm.output
    assert "no drift" in calm.output and (tmp_path / "s.json").exists()
    check.return_value = outcome(tmp_path, drift=True)
    drifted = runner.invoke(app, ["monitor", "--env", "local"])
    assert drifted.exit_code == ExitCode.DRIFT == 3
    assert "DRIFT: bmi" in drifted.output


def test_retrain_runs_the_lifecycle_only_on_drift(check: Any, mocker: Any, tmp_path: Path) -> None:
    run_local = mocker.patch("pipelines.local.lifecycle.run_local", return_value=run_summary())
    assert runner.invoke(app, ["monitor", "--env", "local", "--retrain"]).exit_code == 0
    run_local.assert_not_called()
    check.return_value = outcome(tmp_path, drift=True)
    result = runner.invoke(app, ["monitor", "--env", "local", "--retrain"])
    assert result.exit_code == 0, result.output
    (options, _), _ = run_local.call_args
    assert options.deploy and options.data is None
    assert "registered v3" in result.output
    run_local.return_value = run_summary(problem="deploy failed: port taken")
    assert runner.invoke(app, ["monitor", "--env", "local", "--retrain"]).exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["monitor", "--env", "dev"], "dev has no production traffic"),
        (["monitor", "--env", "prod"], "create or update it with `mlops monitor --env prod --schedule`"),
        (["monitor", "--env", "local", "--schedule"], "--schedule creates the Azure ML model monitor"),
        (["traffic", "--env", "qa"], "`mlops traffic` sends to the local endpoint only"),
        (["traffic", "--shift", "bmi=8"], "--shift 'bmi=8': write FEATURE=+N or FEATURE=-N"),
        (["traffic", "--shift", "weight=+8"], "weight is not a feature (features: age, sex, bmi"),
    ],
)
def test_requests_that_cannot_work_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_a_check_that_cannot_run_exits_1_with_its_reason(mocker: Any) -> None:
    from pipelines.errors import MlopsError

    mocker.patch("pipelines.local.registry.LocalRegistry")
    mocker.patch("pipelines.local.monitor.check", side_effect=MlopsError("no collected data yet in /x"))
    result = runner.invoke(app, ["monitor", "--env", "local"])
    assert result.exit_code == 1
    assert "error: no collected data yet in /x" in result.output


def test_schedule_creates_the_azure_monitor(mocker: Any) -> None:
    from pipelines.azure.monitoring import ScheduleResult

    schedule = mocker.patch(
        "pipelines.azure.monitoring.schedule_monitor",
        return_value=ScheduleResult("mlops-monitor-prod", "ep", "model-v3", "azureml:r:1", "every 1 day"),
    )
    result = runner.invoke(app, ["monitor", "--env", "prod", "--schedule"])
    assert result.exit_code == 0, result.output
    schedule.assert_called_once_with("prod", MODEL_NAME, None)
    assert "model monitor mlops-monitor-prod on ep/model-v3" in result.output
