"""`mlops score-batch`: the options reach the local batch scoring, the summary is printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.errors import UsageError
from tests.model_folders import MODEL_NAME

runner = CliRunner()

SUMMARY = {
    "model_name": MODEL_NAME,
    "model_version": "4",
    "files": 2,
    "rows_read": 1000,
    "rows_scored": 998,
    "rows_rejected": 2,
    "output": "out.parquet",
    "rejects": "out.rejects.csv",
    "seconds": 1.5,
}


def test_local_passes_the_options_and_prints_the_summary(mocker: Any, tmp_path: Path) -> None:
    registry = mocker.patch("pipelines.cli.deploy._registry")
    mocker.patch("pipelines.cli.deploy._model_name", return_value=MODEL_NAME)
    score = mocker.patch("pipelines.local.batch.score_batch", return_value=SUMMARY)
    result = runner.invoke(
        app,
        [
            "score-batch",
            "--input",
            "in",
            "--output",
            "out.parquet",
            "--model-version",
            "4",
            "--rejects",
            "r.csv",
        ],
    )
    assert result.exit_code == 0, result.output
    args, kwargs = score.call_args
    assert args == (registry.return_value, MODEL_NAME, "4", Path("in"), Path("out.parquet"))
    assert kwargs["rejects"] == Path("r.csv")
    assert f"scored 998 of 1,000 rows (2 file(s)) with {MODEL_NAME} v4" in result.output
    assert "rejected: 2 rows, in out.rejects.csv" in result.output


def test_a_usage_error_is_one_line_and_exit_2(mocker: Any) -> None:
    mocker.patch("pipelines.cli.deploy._registry")
    mocker.patch("pipelines.cli.deploy._model_name", return_value="m")
    mocker.patch("pipelines.local.batch.score_batch", side_effect=UsageError("in.csv: missing column(s) bmi"))
    result = runner.invoke(app, ["score-batch", "--input", "in.csv", "--output", "o.csv"])
    assert result.exit_code == 2
    assert "error: in.csv: missing column(s) bmi" in result.output


def test_qa_submits_the_job_with_the_model_and_input(mocker: Any) -> None:
    from pipelines.azure.batch_job import BatchSubmission
    from pipelines.azure.refs import ModelRef

    mocker.patch("pipelines.cli.deploy._model_name", return_value=MODEL_NAME)
    submit = mocker.patch(
        "pipelines.azure.batch_job.score_batch",
        return_value=BatchSubmission(
            "job-7", "https://ml.azure.com/runs/job-7", f"{MODEL_NAME}:4", "batch-cluster"
        ),
    )
    result = runner.invoke(
        app,
        [
            "score-batch",
            "--env",
            "qa",
            "--input",
            "azureml:nightly:3",
            "--model-version",
            "4",
            "--instances",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    args, kwargs = submit.call_args
    assert args == ("qa", ModelRef(MODEL_NAME, "4"), "azureml:nightly:3", None)
    assert kwargs["instance_count"] == 2
    assert f"submitted job-7: {MODEL_NAME}:4 on batch-cluster" in result.output


def test_azure_needs_a_version_and_dev_is_refused(mocker: Any) -> None:
    submit = mocker.patch("pipelines.azure.batch_job.score_batch")
    missing = runner.invoke(app, ["score-batch", "--env", "prod", "--input", "azureml:d:1"])
    dev = runner.invoke(app, ["score-batch", "--env", "dev", "--input", "x", "--model-version", "1"])
    local = runner.invoke(app, ["score-batch", "--input", "x"])
    assert (missing.exit_code, dev.exit_code, local.exit_code) == (2, 2, 2)
    assert "needs --model-version N" in missing.output
    assert "needs --output PATH" in local.output
    submit.assert_not_called()
