"""`mlops train --env dev`: the pipeline job built with azure-ai-ml and validated; the outcomes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipelines.azure import training
from pipelines.azure.errors import AzurePathError
from pipelines.azure.refs import ModelAsset, ModelRef
from pipelines.paths import REPO_ROOT as ROOT
from pipelines.specs import load_pipeline
from tests.model_folders import DATA_FILE, MODEL_NAME
from tests.pipelines.azure_fakes import calls

DATA = DATA_FILE
PARAMS = ROOT / "config" / "usecase.yaml"


CHAMPION = ModelAsset(ModelRef(MODEL_NAME, "3"), f"azureml:{MODEL_NAME}:3")


def request(champion: ModelAsset | None = CHAMPION, **overrides: Any):
    return training.TrainRequest(
        compute="cpu-cluster",
        data_file=DATA,
        params_file=PARAMS,
        model_name=MODEL_NAME,
        champion=champion,
        overrides=overrides,
        git_commit="0123abc",
    )


@pytest.fixture(scope="module")
def job() -> Any:
    return training.build_pipeline_job(
        request(**{"estimator.alpha": 0.5, "gate.min_improvement": 0.02}),
        environment_id="azureml:mlops-train:0123456789abcdef",
        data_id="azureml:mlops-training-data:feedbeef00000000",
    )


def test_pipeline_job_passes_the_sdk_schema_validation(job):
    result = job._validate()
    assert result.passed, result.error_messages
    rest = job._to_rest_object().as_dict()["properties"]
    assert rest["jobType"] == "Pipeline"
    assert rest["settings"]["default_compute"] == "cpu-cluster"
    assert rest["settings"]["continue_on_step_failure"] is False


def test_the_outcome_is_a_pipeline_output_bound_from_the_register_step(job):
    # What the REST API receives: a pipeline-level output, and the register node's output bound to
    # it (Azure/azureml-examples cli/jobs/pipelines-with-components/basics/1b_e2e_registered_components).
    rest = job._to_rest_object().as_dict()["properties"]
    assert rest["outputs"] == {"registered": {"mode": "Upload", "jobOutputType": "uri_folder"}}
    assert rest["jobs"]["register"]["outputs"] == {
        "registered": {"value": "${{parent.outputs.registered}}", "type": "literal"}
    }


def test_every_child_job_is_named_after_its_step(job):
    rest = job._to_rest_object().as_dict()["properties"]
    assert {name: node["display_name"] for name, node in rest["jobs"].items()} == {
        name: name for name in ("validate_data", "train", "evaluate", "register")
    }


def test_pipeline_job_is_the_local_runners_pipeline(job):
    _, local_jobs = load_pipeline()
    assert list(job.jobs) == [j.name for j in local_jobs] or set(job.jobs) == {j.name for j in local_jobs}
    for name, node in job.jobs.items():
        local = next(j for j in local_jobs if j.name == name)
        assert " ".join(node.component.command.split()) == local.component.command


def test_every_step_uses_the_registered_environment_and_knows_the_commit(job):
    for node in job.jobs.values():
        assert node.environment == "azureml:mlops-train:0123456789abcdef"
        assert node.environment_variables == {"MLOPS_GIT_COMMIT": "0123abc"}


def test_inputs_data_asset_champion_and_overrides(job):
    data = job._to_dict()
    assert data["inputs"]["data"] == {
        "type": "uri_file",
        "path": "azureml:mlops-training-data:feedbeef00000000",
    }
    assert data["inputs"]["model_name"] == MODEL_NAME
    assert data["jobs"]["evaluate"]["inputs"]["champion"] == {
        "type": "mlflow_model",
        "path": f"azureml:{MODEL_NAME}:3",
    }
    assert data["jobs"]["train"]["inputs"]["alpha"] == 0.5
    assert data["jobs"]["evaluate"]["inputs"]["min_improvement"] == 0.02
    assert "seed" not in data["jobs"]["train"]["inputs"]
    assert job.settings.default_compute == "cpu-cluster"
    assert job.tags == {"git_commit": "0123abc", "champion": f"{MODEL_NAME}:3"}


def test_no_champion_leaves_the_optional_input_unset():
    job = training.build_pipeline_job(
        request(champion=None), environment_id="azureml:e:1", data_id="azureml:d:1"
    )
    assert "champion" not in job._to_dict()["jobs"]["evaluate"]["inputs"]
    assert job._validate().passed


def test_unknown_override_is_refused():
    with pytest.raises(AzurePathError, match=r"unknown override 'train\.depth'"):
        training.build_pipeline_job(request(**{"train.depth": 3}), environment_id="e", data_id="d")


def test_environment_is_the_pinned_conda_file_versioned_by_content():
    from azure.ai.ml import load_environment

    environment = training.training_environment()
    assert environment.conda_file["dependencies"][-1]["pip"][0] == "scikit-learn==1.9.1"
    assert environment.image == training.components_image()
    assert environment.version == training.training_environment().version  # deterministic
    reloaded = load_environment(source=None, params_override=[json.loads(json.dumps(environment._to_dict()))])
    assert reloaded.conda_file == environment.conda_file


def test_environment_version_changes_with_the_pins(tmp_path: Path):
    changed = tmp_path / "conda.yaml"
    changed.write_text(training.CONDA_FILE.read_text().replace("scikit-learn==1.9.1", "scikit-learn==1.9.2"))
    assert training.training_environment(changed).version != training.training_environment().version


def test_data_asset_is_versioned_and_tagged_by_its_hash():
    from azure.ai.ml import load_data

    asset = training.data_asset(DATA)
    digest = training.file_sha256(DATA)
    assert digest == DATA.with_name(DATA.name + ".sha256").read_text().strip()
    assert asset.version == digest.removeprefix("sha256:")[:16]
    assert asset.tags["sha256"] == digest
    assert asset.type == "uri_file"
    reloaded = load_data(source=None, params_override=[json.loads(json.dumps(asset._to_dict()))])
    assert reloaded.version == asset.version


# -- the run: call sequences ---------------------------------------------------------------------


def child(step: str, status: str = "Completed") -> SimpleNamespace:
    # A child job as `jobs.list(parent_job_name=...)` returns it: an opaque name, the step's
    # display name (set on every node by build_pipeline_job), no node-id property relied upon.
    return SimpleNamespace(
        name=f"0f3c-{step}-guid",
        display_name=step,
        status=status,
        studio_url=f"https://ml.azure.com/runs/child-{step}",
    )


def prepare(ops: Any, final: str, children: list[SimpleNamespace], registered: dict[str, Any] | None) -> None:
    ops.get_environment.return_value = None
    ops.get_data.return_value = None
    ops.submit_job.return_value = SimpleNamespace(
        name="job-1", status="Queued", studio_url="https://ml/job-1"
    )
    ops.get_job.side_effect = [
        SimpleNamespace(name="job-1", status="Running", studio_url="https://ml/job-1"),
        SimpleNamespace(name="job-1", status=final, studio_url="https://ml/job-1"),
    ]
    ops.child_jobs.return_value = children

    def download(job_name: str, output_name: str, path: Path) -> None:
        # the layout JobOperations.download creates (see test_outcome_download.py)
        folder = Path(path) / "named-outputs" / output_name
        folder.mkdir(parents=True)
        (folder / "registered.json").write_text(json.dumps(registered))

    ops.download_job_output.side_effect = download


def run(ops: Any, **kwargs: Any) -> training.TrainOutcome:
    return training.train(ops, request(), progress=lambda _line: None, sleep=lambda _s: None, **kwargs)


def test_registered_path(ops):
    steps = [child(s) for s in ("validate_data", "train", "evaluate", "register")]
    prepare(ops, "Completed", steps, {"registered": True, "version": "4", "reason": "rmse better by 3%"})
    outcome = run(ops)
    assert calls(ops) == [
        "get_environment",
        "create_environment",
        "get_data",
        "create_data",
        "submit_job",
        "get_job",
        "child_jobs",
        "get_job",
        "child_jobs",
        "download_job_output",
    ]
    submitted_job, experiment = ops.submit_job.call_args.args
    assert experiment == "mlops-training"
    assert submitted_job._validate().passed
    assert ops.create_data.call_args.args[0].tags["sha256"].startswith("sha256:")
    # the pipeline job's own output, not a child job's: promoted in components/pipeline.yml
    ops.download_job_output.assert_called_once_with("job-1", "registered", mocker_any())
    summary = outcome.to_summary()
    assert summary["registered"] is True
    assert (summary["model_name"], summary["model_version"]) == (MODEL_NAME, "4")
    assert summary["champion"] == f"{MODEL_NAME}:3"


def mocker_any() -> Any:
    from unittest.mock import ANY

    return ANY


def test_not_better_is_a_success_that_registers_nothing(ops):
    steps = [child(s) for s in ("validate_data", "train", "evaluate", "register")]
    prepare(ops, "Completed", steps, {"registered": False, "version": None, "reason": "not better"})
    outcome = run(ops)
    assert outcome.status == "not_better"
    assert outcome.to_summary()["registered"] is False
    assert outcome.model_version is None


def test_failed_step_is_named_with_a_link_to_its_logs(ops):
    steps = [child("validate_data"), child("train", "Failed"), child("evaluate", "Canceled")]
    prepare(ops, "Failed", steps, None)
    outcome = run(ops)
    assert outcome.status == "failed"
    assert outcome.failed_step == "train"
    assert outcome.failed_step_url == "https://ml.azure.com/runs/child-train"
    ops.download_job_output.assert_not_called()


def test_a_completed_job_without_the_outcome_file_is_an_error(ops):
    # jobs.download downloads nothing, and raises nothing, for an output it cannot find
    prepare(ops, "Completed", [child("register")], None)
    ops.download_job_output.side_effect = None
    with pytest.raises(
        AzurePathError,
        match=r"job job-1 completed but its output 'registered' holds no "
        r"registered\.json \(nothing at named-outputs/registered/registered\.json",
    ):
        run(ops)


def test_no_wait_submits_and_returns(ops):
    prepare(ops, "Completed", [], None)
    outcome = run(ops, wait=False)
    assert outcome.status == "submitted"
    assert calls(ops)[-1] == "submit_job"
    ops.get_job.assert_not_called()


def test_existing_assets_are_not_uploaded_again(ops):
    steps = [child("register")]
    prepare(ops, "Completed", steps, {"registered": False, "version": None, "reason": "x"})
    ops.get_environment.return_value = SimpleNamespace()
    ops.get_data.return_value = SimpleNamespace(tags={"sha256": training.file_sha256(DATA)})
    run(ops)
    ops.create_environment.assert_not_called()
    ops.create_data.assert_not_called()


def test_a_data_asset_with_another_hash_is_refused(ops):
    prepare(ops, "Completed", [], None)
    ops.get_data.return_value = SimpleNamespace(tags={"sha256": "sha256:other"})
    with pytest.raises(AzurePathError, match="exists with another hash"):
        run(ops)
    ops.submit_job.assert_not_called()


def test_timeout_names_the_job(ops, monkeypatch):
    prepare(ops, "Running", [], None)
    ops.get_job.side_effect = None
    ops.get_job.return_value = SimpleNamespace(name="job-1", status="Running")
    with pytest.raises(AzurePathError, match="job job-1 still Queued after 0 min"):
        run(ops, timeout_s=0.0)


def test_the_terminal_states_are_the_sdks():
    from azure.ai.ml.operations._run_history_constants import RunHistoryConstants

    assert set(RunHistoryConstants.TERMINAL_STATUSES) == training.TERMINAL


def test_a_paused_job_ends_the_wait_as_a_failure(ops):
    prepare(ops, "Paused", [child("validate_data"), child("train")], None)
    outcome = run(ops)
    assert (outcome.status, outcome.reason) == ("failed", "pipeline job paused")
    ops.download_job_output.assert_not_called()
