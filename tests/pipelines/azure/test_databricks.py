"""``mlops train --env dev --compute databricks``: the job built with databricks-sdk's types and
serialised as the Jobs API receives it, every Databricks call asserted through strict mocks."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from databricks.sdk.service.jobs import JobSettings, Run

from pipelines.azure import databricks_training as dbx
from pipelines.azure import workspaces
from pipelines.azure.databricks_job import (
    DatabricksSettings,
    DatabricksSettingsError,
    JobRequest,
    RunPaths,
    build_job,
    load_settings,
    outcome_path,
    pinned_requirements,
)
from pipelines.azure.errors import AzurePathError
from pipelines.azure.outputs_reader import parse
from pipelines.azure.refs import ModelAsset, ModelRef
from pipelines.paths import REPO_ROOT
from tests.model_folders import DATA_FILE, MODEL_NAME

VOLUME = "/Volumes/main/mlops/training"
TRACKING = "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"
SETTINGS = DatabricksSettings(
    workspace_url="https://adb-1.2.azuredatabricks.net", volume_path=VOLUME, secret_scope="mlops"
)


def request(*, champion: bool = False, overrides: dict[str, Any] | None = None) -> JobRequest:
    return JobRequest(
        run_id="20261130-060000-abcdef",
        paths=RunPaths.for_run(SETTINGS, "20261130-060000-abcdef", "train.csv", "usecase.yaml"),
        wheel_path=f"{VOLUME}/runs/20261130-060000-abcdef/wheel/azure_mlops-1-py3-none-any.whl",
        model_name=MODEL_NAME,
        tracking_uri=TRACKING,
        experiment="mlops-training",
        tenant_id="tenant",
        git_commit="abc123",
        champion_uploaded=champion,
        overrides=overrides or {},
        tags={"project": "azure-mlops"},
    )


def test_the_job_is_the_pipeline_spec_as_the_jobs_api_receives_it() -> None:
    body = build_job(SETTINGS, request(champion=True, overrides={"estimator.alpha": 0.5})).as_dict()
    assert JobSettings.from_dict(body).as_dict() == body  # the REST shape round-trips through the SDK
    tasks = {t["task_key"]: t for t in body["tasks"]}
    assert list(tasks) == ["validate_data", "train", "evaluate", "register"]
    assert "depends_on" not in tasks["validate_data"]
    assert [d["task_key"] for d in tasks["register"]["depends_on"]] == ["evaluate", "train"]
    root = f"{VOLUME}/runs/20261130-060000-abcdef"
    train = tasks["train"]["python_wheel_task"]
    assert (train["package_name"], train["entry_point"]) == ("azure-mlops", "mlops-step")
    assert train["parameters"] == [
        "model.train",
        "--data",
        f"{root}/inputs/train.csv",
        "--params",
        f"{root}/inputs/usecase.yaml",
        "--alpha",
        "0.5",
        "--model-output",
        f"{root}/train/model",
        "--test-output",
        f"{root}/train/test_data",
    ]
    evaluate = tasks["evaluate"]["python_wheel_task"]["parameters"]
    assert evaluate[evaluate.index("--champion") + 1] == f"{root}/inputs/champion"
    assert evaluate[evaluate.index("--model") + 1] == f"{root}/train/model"
    assert {t["job_cluster_key"] for t in tasks.values()} == {"steps"}
    assert outcome_path(request().paths) == f"{root}/register/registered/registered.json"
    assert body["max_concurrent_runs"] == 1 and body["timeout_seconds"] == 180 * 60


def test_no_champion_and_no_overrides_drop_the_optional_arguments() -> None:
    tasks = {t.task_key: t for t in build_job(SETTINGS, request()).tasks or []}
    evaluate = tasks["evaluate"].python_wheel_task
    train = tasks["train"].python_wheel_task
    assert evaluate is not None and train is not None
    assert "--champion" not in (evaluate.parameters or []) and "--alpha" not in (train.parameters or [])


def test_libraries_are_the_wheel_and_the_training_pins_the_scikit_learn_that_scores() -> None:
    body = build_job(SETTINGS, request()).as_dict()
    libraries = body["tasks"][0]["libraries"]
    assert libraries[0] == {"whl": request().wheel_path}
    pypi = [lib["pypi"]["package"] for lib in libraries[1:]]
    assert pypi == pinned_requirements()
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    sklearn = next(r for r in extras["scoring"] if r.startswith("scikit-learn"))
    assert sklearn in pypi and "azureml-mlflow==1.62.0.post6" in pypi and "mlflow==3.15.0" in pypi


def test_unpinned_training_requirement_is_refused(tmp_path: Path) -> None:
    conda = tmp_path / "conda.yaml"
    conda.write_text("dependencies:\n  - pip\n  - pip: [scikit-learn==1.9.1, mlflow>=3]\n")
    with pytest.raises(DatabricksSettingsError, match=r"not pinned with ==: \['mlflow>=3'\]"):
        pinned_requirements(conda)


def test_job_cluster_sized_by_settings_and_mlflow_pointed_at_azure_ml() -> None:
    sized = SETTINGS.model_copy(update={"num_workers": 2, "node_type_id": "Standard_D8ds_v5"})
    cluster = build_job(sized, request()).as_dict()["job_clusters"][0]["new_cluster"]
    assert (cluster["num_workers"], cluster["node_type_id"]) == (2, "Standard_D8ds_v5")
    assert "spark_conf" not in cluster and cluster["spark_version"] == "15.4.x-scala2.12"
    env = cluster["spark_env_vars"]
    assert env["MLFLOW_TRACKING_URI"] == TRACKING and env["MLFLOW_EXPERIMENT_NAME"] == "mlops-training"
    assert env["AZURE_CLIENT_SECRET"] == "{{secrets/mlops/client-secret}}"
    assert env["AZURE_CLIENT_ID"] == "{{secrets/mlops/client-id}}" and env["AZURE_TENANT_ID"] == "tenant"
    assert cluster["data_security_mode"] == "DATA_SECURITY_MODE_STANDARD"
    single = build_job(SETTINGS, request()).as_dict()["job_clusters"][0]["new_cluster"]
    assert (
        single["num_workers"] == 0
        and single["spark_conf"]["spark.databricks.cluster.profile"] == "singleNode"
    )
    assert single["custom_tags"] == {"project": "azure-mlops", "ResourceClass": "SingleNode"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            "volume_path: /mnt/x\nsecret_scope: s\n",
            "volume_path: Value error, must be a Unity Catalog volume",
        ),
        ("volume_path: /Volumes/a/b/c\n", "secret_scope: Field required"),
        ("volume_path: /Volumes/a/b/c\nsecret_scope: s\nworkers: 2\n", "workers: Extra inputs"),
        (
            "volume_path: /Volumes/a/b/c\nsecret_scope: s\nworkspace_url: adb.net\n",
            "workspace_url: Value error",
        ),
        ("volume_path: /Volumes/a/b/c\nsecret_scope: s\nnum_workers: -1\n", "num_workers: Input should be"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "databricks.yaml"
    path.write_text(text)
    with pytest.raises(DatabricksSettingsError, match=named):
        load_settings(path)


def test_the_shipped_settings_file_is_valid() -> None:
    settings = load_settings()
    assert settings.volume_path.startswith("/Volumes/") and settings.num_workers == 0


def test_entra_id_auth_through_azure_identity_no_pat(mocker: Any) -> None:
    from databricks.sdk.environments import ARM_DATABRICKS_RESOURCE_ID

    assert dbx.DATABRICKS_RESOURCE_ID == ARM_DATABRICKS_RESOURCE_ID
    # Config() probes the host's metadata endpoint (network, retried for minutes offline)
    probe = mocker.patch("databricks.sdk.config.Config._resolve_host_metadata")
    credential = mocker.Mock()
    credential.get_token.return_value.token = "entra-token"
    client = dbx.workspace_client("https://adb-1.2.azuredatabricks.net", credential)
    assert client.config.auth_type == "azure-identity" and client.config.token is None
    assert client.config.authenticate() == {"Authorization": "Bearer entra-token"}
    credential.get_token.assert_called_once_with(f"{ARM_DATABRICKS_RESOURCE_ID}/.default")
    probe.assert_called_once()


def test_workspace_ops_call_the_jobs_and_files_apis(mocker: Any) -> None:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotFound

    client = mocker.create_autospec(WorkspaceClient, instance=True)
    ops = dbx.WorkspaceOps(client)
    job = build_job(SETTINGS, request())
    client.jobs.create.return_value.job_id = 7
    client.jobs.run_now.return_value.response.run_id = 11
    assert ops.create_job(job) == 7
    kwargs = client.jobs.create.call_args.kwargs
    assert kwargs["tasks"] == job.tasks and kwargs["job_clusters"] == job.job_clusters
    assert kwargs["name"] == "mlops-training-20261130-060000-abcdef"
    assert ops.run_now(7, "token") == 11
    client.jobs.run_now.assert_called_once_with(job_id=7, idempotency_token="token")
    ops.upload("/Volumes/a/b/c/f", b"x")
    assert client.files.upload.call_args.args[0] == "/Volumes/a/b/c/f"
    assert client.files.upload.call_args.kwargs == {"overwrite": True}
    client.files.download.side_effect = NotFound("no such file")
    assert ops.download("/Volumes/a/b/c/missing") is None


def run(life: str, result: str | None = None, tasks: dict[str, tuple[str, str | None]] | None = None) -> Run:
    def state(life: str, result: str | None) -> dict[str, str]:
        return {"life_cycle_state": life} | ({"result_state": result} if result else {})

    return Run.from_dict(
        {
            "run_id": 11,
            "run_page_url": "https://adb/run/11",
            "state": state(life, result),
            "tasks": [
                {"task_key": key, "run_page_url": f"https://adb/task/{key}", "state": state(*value)}
                for key, value in (tasks or {}).items()
            ],
        }
    )


@pytest.fixture
def dbx_ops(mocker: Any) -> Any:
    """A strict mock of the Databricks calls: only WorkspaceOps' methods, with their signatures."""
    mock = mocker.create_autospec(dbx.WorkspaceOps, instance=True)
    mock.create_job.return_value = 7
    mock.run_now.return_value = 11
    return mock


STEPS = ("validate_data", "train", "evaluate", "register")


@pytest.mark.parametrize(
    ("outcome", "status", "version"),
    [
        ({"registered": True, "version": 5, "reason": "better"}, "registered", "5"),
        ({"registered": False, "version": None, "reason": "not better"}, "not_better", None),
    ],
)
def test_train_submits_follows_and_reads_the_outcome(dbx_ops: Any, outcome, status, version) -> None:
    done = dict.fromkeys(STEPS, ("TERMINATED", "SUCCESS"))
    dbx_ops.get_run.side_effect = [run("PENDING"), run("RUNNING", tasks={"validate_data": ("RUNNING", None)}),
                                   run("TERMINATED", "SUCCESS", done)]  # fmt: skip
    dbx_ops.download.return_value = json.dumps(outcome).encode()
    lines: list[str] = []
    result = dbx.train(
        dbx_ops, SETTINGS, request(), champion=None, progress=lines.append, sleep=lambda _: None
    )
    assert (result.status, result.model_version, result.reason) == (status, version, outcome["reason"])
    assert result.studio_url == "https://adb/run/11"
    dbx_ops.create_job.assert_called_once()
    assert dbx_ops.create_job.call_args.args[0].as_dict() == build_job(SETTINGS, request()).as_dict()
    dbx_ops.run_now.assert_called_once_with(7, idempotency_token="20261130-060000-abcdef")
    assert dbx_ops.get_run.call_count == 3
    dbx_ops.download.assert_called_once_with(outcome_path(request().paths))
    assert "  validate_data: RUNNING" in lines and "run 11: TERMINATED SUCCESS" in lines


def test_a_failed_task_is_named_with_its_run_page(dbx_ops: Any) -> None:
    upstream = ("TERMINATED", "UPSTREAM_FAILED")
    tasks = {"validate_data": ("TERMINATED", "SUCCESS"), "train": ("TERMINATED", "FAILED"),
             "evaluate": upstream, "register": upstream}  # fmt: skip
    dbx_ops.get_run.side_effect = [run("RUNNING"), run("TERMINATED", "FAILED", tasks)]
    result = dbx.train(
        dbx_ops, SETTINGS, request(), champion=None, progress=lambda _: None, sleep=lambda _: None
    )
    assert (result.status, result.failed_step, result.failed_step_url) == (
        "failed",
        "train",
        "https://adb/task/train",
    )
    assert result.reason == "databricks run failed"
    dbx_ops.download.assert_not_called()


def test_success_without_the_outcome_file_is_an_error(dbx_ops: Any) -> None:
    dbx_ops.get_run.side_effect = [run("TERMINATED", "SUCCESS")]
    dbx_ops.download.return_value = None
    with pytest.raises(AzurePathError, match=r"registered\.json is missing; see https://adb/run/11"):
        dbx.train(dbx_ops, SETTINGS, request(), champion=None, progress=lambda _: None, sleep=lambda _: None)


def test_no_wait_submits_only(dbx_ops: Any) -> None:
    dbx_ops.get_run.return_value = run("PENDING")
    result = dbx.train(dbx_ops, SETTINGS, request(), champion=None, wait=False, progress=lambda _: None)
    assert (result.status, result.job_name) == ("submitted", "run 11")
    dbx_ops.get_run.assert_called_once_with(11)


def test_timeout_gives_up_waiting(dbx_ops: Any) -> None:
    dbx_ops.get_run.return_value = run("RUNNING")
    with pytest.raises(AzurePathError, match="run 11 still RUNNING"):
        dbx.train(dbx_ops, SETTINGS, request(), champion=None, progress=lambda _: None, timeout_s=-1)


def test_train_on_databricks_uploads_the_champion_from_azure_ml(
    mocker: Any, tmp_path: Path, dev_outputs: dict[str, Any], ops: Any, dbx_ops: Any
) -> None:
    dev_outputs["databricksWorkspaceUrl"] = "https://adb-1.2.azuredatabricks.net"
    mocker.patch.object(workspaces, "outputs", return_value=parse("dev", dev_outputs))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    ops.latest_model_version.return_value = "3"
    ops.get_model.return_value = object()
    wheel = tmp_path / "azure_mlops-1-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    mocker.patch.object(dbx, "build_wheel", return_value=wheel)
    dbx_ops.get_run.return_value = run("PENDING")
    settings = SETTINGS.model_copy(update={"workspace_url": ""})
    result = dbx.train_on_databricks(
        champion_from="dev", model_name=MODEL_NAME, data_file=DATA_FILE,
        params_file=REPO_ROOT / "config" / "usecase.yaml", overrides={}, git_commit="abc", wait=False,
        timeout_s=60, progress=lambda _: None, settings=settings, dbx_ops=dbx_ops,
    )  # fmt: skip
    assert result.status == "submitted" and result.champion == f"{MODEL_NAME}:3"
    ops.download_model.assert_called_once()
    uploaded = [PurePosixPath(c.args[0]) for c in dbx_ops.upload.call_args_list]
    run_root = uploaded[0].parents[1]
    assert run_root.parent == PurePosixPath(VOLUME, "runs")
    assert {p.relative_to(run_root).as_posix() for p in uploaded} >= {
        f"inputs/{DATA_FILE.name}", "inputs/usecase.yaml", "inputs/champion/metadata.json",
        "inputs/champion/estimator.joblib", "wheel/azure_mlops-1-py3-none-any.whl",
    }  # fmt: skip
    job = dbx_ops.create_job.call_args.args[0]
    evaluate = next(t for t in job.tasks if t.task_key == "evaluate").python_wheel_task.parameters
    assert evaluate[evaluate.index("--champion") + 1] == str(run_root / "inputs" / "champion")


def test_no_workspace_url_anywhere_is_one_clear_error(
    mocker: Any, dev_outputs: dict[str, Any], ops: Any
) -> None:
    mocker.patch.object(workspaces, "outputs", return_value=parse("dev", dev_outputs))
    settings = SETTINGS.model_copy(update={"workspace_url": ""})
    with pytest.raises(AzurePathError, match="no Databricks workspace: set workspace_url"):
        dbx.train_on_databricks(
            champion_from="none", model_name="m", data_file=Path("d"), params_file=Path("p"), overrides={},
            git_commit="abc", wait=False, timeout_s=60, progress=lambda _: None, settings=settings,
        )  # fmt: skip


def test_champion_store_follows_the_registry_uri(mocker: Any, ops: Any) -> None:
    registry = mocker.patch.object(workspaces, "registry")
    ref = ModelRef("m", "2")
    assert dbx.champion_store(ModelAsset(ref, "azureml:m:2"), ops) is ops
    dbx.champion_store(ModelAsset(ref, "azureml://registries/reg-mlops/models/m/versions/2"), ops)
    registry.assert_called_once_with("reg-mlops")


def test_the_wheel_entry_point_runs_a_step_as_python_dash_m(tmp_path: Path) -> None:
    report = tmp_path / "report"
    data = DATA_FILE
    argv = ["model.validate_data", "--data", str(data), "--min-rows", "100", "--report-output", str(report)]
    code = "import sys; from model.launch import main; main(sys.argv[1:])"
    subprocess.run([sys.executable, "-c", code, *argv], check=True, cwd=tmp_path, capture_output=True)
    assert any(report.iterdir())
    bad = [sys.executable, "-c", code, "os", "x"]
    refused = subprocess.run(bad, check=False, capture_output=True, text=True)
    assert refused.returncode == 1 and "usage: mlops-step model.<step>" in refused.stderr


@pytest.mark.slow
def test_the_wheel_has_the_package_name_and_entry_point_the_tasks_call(tmp_path: Path) -> None:
    import zipfile

    from pipelines.azure.databricks_job import ENTRY_POINT, WHEEL_PACKAGE

    wheel = dbx.build_wheel(tmp_path)  # uv build --wheel (the package index must be reachable)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert f"Name: {WHEEL_PACKAGE}\n" in metadata
    assert f"{ENTRY_POINT} = model.launch:main" in entry_points
    assert {"model/launch.py", "model/train.py", "model/register.py"} <= set(names)
