"""`mlops score-batch --env qa|prod`: the parallel job built with azure-ai-ml, validated by its
schemas, submitted through a strict mock of AzureMLOps; the entry script run on this machine."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipelines.azure import batch_job
from pipelines.azure.batch_job import EXPERIMENT, BatchJobRequest, build_batch_job, submit_batch_job
from pipelines.azure.errors import AzurePathError
from pipelines.azure.refs import ModelRef
from pipelines.paths import REPO_ROOT
from tests.model_folders import FEATURES, MODEL_NAME, bundled

MODEL = ModelRef(MODEL_NAME, "4")
REGISTRY_URI = f"azureml://registries/reg/models/{MODEL_NAME}/versions/4"


def request(**changes: Any) -> BatchJobRequest:
    base: dict[str, Any] = {
        "compute": "batch-cluster",
        "model": MODEL,
        "model_uri": REGISTRY_URI,
        "data": "azureml:nightly:3",
        "output": "azureml://datastores/workspaceblobstore/paths/scores/run1/",
        "instance_count": 2,
    }
    return BatchJobRequest(**{**base, **changes})


def rest_of(job: Any) -> dict[str, Any]:
    body: dict[str, Any] = job._to_rest_object().as_dict()["properties"]
    return body


def test_the_job_is_one_parallel_step_the_sdk_validates() -> None:
    job = build_batch_job(request(), environment_id="azureml:mlops-train:abc")
    assert job._validate().passed
    body = rest_of(job)
    assert body["settings"]["default_compute"] == "batch-cluster"
    step = body["jobs"]["score"]
    assert step["type"] == "parallel"
    assert step["input_data"] == "${{inputs.data}}"
    assert step["mini_batch_size"] == 1  # one file per mini-batch
    assert (step["error_threshold"], step["mini_batch_error_threshold"]) == (0, 0)
    assert step["resources"] == {"instance_count": 2}
    assert step["retry_settings"] == {"timeout": 3600, "max_retries": 2}
    assert step["inputs"]["data"] == {
        "uri": "azureml:nightly:3",
        "mode": "ReadOnlyMount",
        "job_input_type": "uri_folder",
    }
    assert step["inputs"]["model"] == {
        "uri": REGISTRY_URI,
        "mode": "Download",
        "job_input_type": "mlflow_model",
    }
    assert step["outputs"]["scores"]["uri"] == "azureml://datastores/workspaceblobstore/paths/scores/run1/"
    assert step["outputs"]["scores"]["mode"] == "ReadWriteMount"
    task = step["task"]
    assert task["type"] == "run_function"
    assert Path(task["code"]) == REPO_ROOT
    assert (REPO_ROOT / task["entry_script"]).is_file()
    assert task["environment"] == "azureml:mlops-train:abc"
    assert task["program_arguments"] == (
        "--model-dir ${{inputs.model}} --output-dir ${{outputs.scores}} "
        f"--model-name {MODEL_NAME} --model-version 4"
    )


def test_without_an_output_uri_the_job_keeps_its_default_folder() -> None:
    job = build_batch_job(request(output=None), environment_id="azureml:e:1")
    assert job._validate().passed
    assert "uri" not in (rest_of(job)["jobs"]["score"]["outputs"].get("scores") or {})


def test_submit_registers_a_new_environment_then_submits(ops: Any) -> None:
    ops.get_model.return_value = object()
    ops.get_environment.return_value = None
    ops.submit_job.return_value.name = "job-1"
    ops.submit_job.return_value.studio_url = "https://ml.azure.com/runs/job-1"
    lines: list[str] = []
    submitted = submit_batch_job(
        ops, ops, "batch-cluster", MODEL, "azureml:nightly:3", None, instance_count=3, progress=lines.append
    )
    assert (submitted.job_name, submitted.compute, submitted.model) == (
        "job-1",
        "batch-cluster",
        f"{MODEL_NAME}:4",
    )
    ops.get_model.assert_called_once_with(MODEL_NAME, "4")
    ops.create_environment.assert_called_once()
    job, experiment = ops.submit_job.call_args.args
    assert experiment == EXPERIMENT
    step = rest_of(job)["jobs"]["score"]
    assert step["inputs"]["model"]["uri"] == f"azureml:{MODEL_NAME}:4"  # ops.model_id
    assert step["resources"] == {"instance_count": 3}
    assert step["task"]["environment"] == f"azureml:{ops.create_environment.call_args.args[0].name}:" + (
        ops.create_environment.call_args.args[0].version
    )


@pytest.mark.parametrize(
    ("compute", "model", "message"),
    [
        (None, object(), "no batch compute cluster"),
        ("batch-cluster", None, f"has no model {MODEL_NAME}:4"),
    ],
)
def test_nothing_is_submitted_without_a_cluster_or_the_model(
    ops: Any, compute: Any, model: Any, message: str
) -> None:
    ops.get_model.return_value = model
    with pytest.raises(AzurePathError, match=message):
        submit_batch_job(ops, ops, compute, MODEL, "azureml:d:1", None, progress=lambda _: None)
    ops.submit_job.assert_not_called()
    ops.create_environment.assert_not_called()


def test_score_batch_uses_the_environments_outputs_ops_and_model_store(
    ops: Any, qa_outputs: dict[str, Any], mocker: Any
) -> None:
    from pipelines.stack_outputs import StackOutputs

    outputs = StackOutputs.model_validate({**qa_outputs, "batchComputeName": "batch-cluster"})
    mocker.patch("pipelines.azure.workspaces.outputs", return_value=outputs)
    mocker.patch("pipelines.azure.workspaces.ops", return_value=ops)
    store = mocker.patch("pipelines.azure.workspaces.model_store", return_value=ops)
    submit = mocker.patch.object(batch_job, "submit_batch_job")
    batch_job.score_batch("qa", MODEL, "azureml:d:1", None, instance_count=1, progress=print)
    store.assert_called_once_with(outputs)
    assert submit.call_args.args == (ops, ops, "batch-cluster", MODEL, "azureml:d:1", None)


def test_the_entry_script_scores_each_file_of_a_mini_batch(model_dir: Path, tmp_path: Path) -> None:
    from scoring.batch.parallel import entry

    x, _ = bundled()
    files = []
    for name, rows in (("a.csv", x[:3]), ("b.csv", x[3:8])):
        with (tmp_path / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(FEATURES)
            writer.writerows(rows.tolist())
        files.append(str(tmp_path / name))
    entry.init(
        [
            "--model-dir",
            str(model_dir),
            "--output-dir",
            str(tmp_path / "scores"),
            "--model-name",
            "m",
            "--model-version",
            "4",
            "--azureml-extra",
            "x",
        ]
    )  # Azure ML's own arguments are ignored
    done = entry.run(files)
    assert done == ["a.csv: 3 scored, 0 rejected of 3 rows", "b.csv: 5 scored, 0 rejected of 5 rows"]
    out = pq.read_table(tmp_path / "scores" / "b.parquet")
    assert out.num_rows == 5
    assert out.schema.metadata[b"mlops.model.version"] == b"4"
    assert (tmp_path / "scores" / "a.rejects.csv").is_file()
