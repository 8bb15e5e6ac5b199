"""The `mlops` Azure commands: the contracts CI relies on (summary file, exit codes, one-line errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipelines.azure import workspaces
from pipelines.azure.champion import resolve_champion
from pipelines.azure.outputs_reader import parse
from pipelines.azure.training import TrainOutcome
from pipelines.cli.main import app
from tests.model_folders import MODEL_NAME

runner = CliRunner()


def test_help_stays_light():
    code = (
        "import sys, pipelines.cli.main; print(any(m.startswith(('azure', 'pulumi')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("status", "version", "code"),
    [("registered", "4", 0), ("not_better", None, 0), ("failed", None, 1)],
)
def test_train_summary_file_contract(mocker: Any, tmp_path: Path, dev_outputs, ops, status, version, code):
    mocker.patch.object(workspaces, "outputs", return_value=parse("dev", dev_outputs))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    ops.latest_model_version.return_value = None
    outcome = TrainOutcome(status, "job-1", "https://ml/job-1", MODEL_NAME, version, "r")
    if status == "failed":
        outcome.failed_step, outcome.failed_step_url = "train", "https://ml/child-train"
    train = mocker.patch("pipelines.azure.training.train", return_value=outcome)
    summary = tmp_path / "summary.json"
    result = runner.invoke(
        app,
        ["train", "--env", "dev", "--champion-from", "dev", "--alpha", "0.5", "--summary-file", str(summary)],
    )
    assert result.exit_code == code, result.output
    data = json.loads(summary.read_text())
    assert data["registered"] is (status == "registered")
    assert (data["model_name"], data["model_version"]) == (MODEL_NAME, version)
    request = train.call_args.args[1]
    assert request.compute == "cpu-cluster" and request.overrides == {"estimator.alpha": 0.5}
    assert request.champion is None
    if status == "failed":
        assert "failed at step train; logs: https://ml/child-train" in result.output


def test_missing_output_is_one_line_exit_1(mocker: Any, dev_outputs):
    del dev_outputs["computeClusterName"]
    mocker.patch.object(workspaces, "outputs", return_value=parse("dev", dev_outputs))
    result = runner.invoke(app, ["train", "--env", "dev", "--champion-from", "none"])
    assert result.exit_code == 1
    assert "stack dev has no output 'computeClusterName'" in result.output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deploy", "--env", "prod"], "needs --model NAME:VERSION"),
        (["deploy", "--env", "qa", "--model", "nope"], "--model must be NAME:VERSION"),
        (["deploy", "--env", "dev", "--model", "m:1"], "dev has no scoring target"),
        (["train", "--env", "qa"], "training runs in dev"),
        (["promote", "--from", "prod", "--to", "qa", "--model", "m:1"], "promotion goes dev -> qa -> prod"),
        (["rollback", "--env", "qa"], "rollback works on prod"),
        (["image", "build", "--env", "dev", "--model", "m:1"], "images are built for qa"),
    ],
)
def test_usage_errors_exit_2(argv, message):
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_champion_served_by_prod_must_exist_in_dev(mocker: Any, dev_outputs, prod_outputs, ops):
    from pipelines.azure import prod_deploy
    from pipelines.azure.errors import AzurePathError
    from pipelines.azure.refs import ModelAsset, ModelRef

    mocker.patch.object(workspaces, "outputs", return_value=parse("prod", prod_outputs))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    mocker.patch.object(prod_deploy, "live_model", return_value=("model-v3", ModelRef(MODEL_NAME, "3")))
    dev = parse("dev", dev_outputs)
    ops.get_model.return_value = object()
    assert resolve_champion("prod", MODEL_NAME, dev, ops) == ModelAsset(
        ModelRef(MODEL_NAME, "3"), f"azureml:{MODEL_NAME}:3"
    )
    ops.get_model.return_value = None
    with pytest.raises(AzurePathError, match="not in workspace mlw-test"):
        resolve_champion("prod", MODEL_NAME, dev, ops)


@pytest.mark.parametrize(
    ("status", "code"), [("registered", 0), ("not_better", 0), ("failed", 1), ("submitted", 0)]
)
def test_train_on_databricks_same_outcome_report_and_exit_codes(mocker: Any, tmp_path: Path, status, code):
    outcome = TrainOutcome(status, "run 11", "https://adb/run/11", MODEL_NAME, None, "r")
    if status == "registered":
        outcome.model_version = "4"
    if status == "failed":
        outcome.failed_step, outcome.failed_step_url = "train", "https://adb/task/train"
    on_dbx = mocker.patch("pipelines.azure.databricks_training.train_on_databricks", return_value=outcome)
    on_aml = mocker.patch("pipelines.azure.training.train_in_dev")
    summary = tmp_path / "summary.json"
    argv = ["train", "--env", "dev", "--compute", "databricks", "--champion-from", "none", "--alpha", "0.5"]
    result = runner.invoke(app, [*argv, "--summary-file", str(summary)])
    assert result.exit_code == code, result.output
    on_aml.assert_not_called()
    kwargs = on_dbx.call_args.kwargs
    assert kwargs["champion_from"] == "none" and kwargs["overrides"] == {"estimator.alpha": 0.5}
    assert json.loads(summary.read_text())["status"] == status
    if status == "failed":
        assert "failed at step train; logs: https://adb/task/train" in result.output
    if status == "registered":
        assert f"registered {MODEL_NAME} version 4" in result.output


def test_compute_is_for_dev_only():
    result = runner.invoke(app, ["train", "--env", "local", "--compute", "databricks"])
    assert result.exit_code == 2 and "--compute: for --env dev only" in result.output


def test_train_dev_sends_set_overrides_in_the_resolved_use_case(mocker: Any, dev_outputs, ops):
    from model.params import load_params

    mocker.patch.object(workspaces, "outputs", return_value=parse("dev", dev_outputs))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    ops.latest_model_version.return_value = None
    outcome = TrainOutcome("registered", "job-1", "https://ml/job-1", MODEL_NAME, "1", "r")
    submitted: dict[str, Any] = {}

    def submit(_ops: Any, request: Any, *args: Any, **kwargs: Any) -> TrainOutcome:
        submitted["request"], submitted["params"] = request, load_params(request.params_file)
        return outcome

    mocker.patch("pipelines.azure.training.train", side_effect=submit)
    argv = ["train", "--env", "dev", "--champion-from", "none", "--alpha", "0.5"]
    result = runner.invoke(app, [*argv, "--set", "estimator.solver=svd"])
    assert result.exit_code == 0, result.output
    request, sent = submitted["request"], submitted["params"]
    # --alpha has a component input; --set estimator.solver has none: it travels in the params file
    assert request.overrides == {"estimator.alpha": 0.5}
    assert sent.estimator.params == {"alpha": 0.5, "solver": "svd"}
    assert request.data_file == sent.data_path
    assert not request.params_file.exists()  # the resolved file is removed once submitted
