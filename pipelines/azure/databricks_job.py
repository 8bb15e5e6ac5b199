"""The Databricks job of one training run, built with databricks-sdk's own types (pure: no calls).

The tasks are ``components/pipeline.yml``'s jobs, in the same order, each running the command its
component spec renders (``python -m model.<step> ...``, :mod:`pipelines.specs`) through the
project wheel's ``mlops-step`` entry point (a ``python_wheel_task`` runs an entry point, not
``python -m``). Inputs and outputs are folders of one Unity Catalog volume, per run; the four
tasks share one job cluster; the libraries are the wheel and the exact pip pins of
``environments/train-conda.yaml`` (the scikit-learn that trains is the one that scores). MLflow
on the cluster logs to the Azure ML workspace (its ``azureml://`` tracking URI) as the service
principal whose secret is in a Databricks secret scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from model.outputs import RESULT_FILE
from pipelines.paths import REPO_ROOT
from pipelines.specs import (
    OUTCOME_OUTPUT,
    Job,
    load_pipeline,
    override_inputs,
    pipeline_outputs,
    render_command,
    resolve_inputs,
)

if TYPE_CHECKING:
    from databricks.sdk.service.compute import ClusterSpec, Library
    from databricks.sdk.service.jobs import JobSettings

SETTINGS_FILE = REPO_ROOT / "config" / "databricks.yaml"
CONDA_FILE = REPO_ROOT / "environments" / "train-conda.yaml"
JOB_CLUSTER_KEY = "steps"
WHEEL_PACKAGE = "azure-mlops"  # the wheel's METADATA Name (pyproject's project.name; a test builds it)
ENTRY_POINT = "mlops-step"  # pyproject.toml [project.scripts] -> model.launch:main
# Service principal credentials on the cluster, read by azure-identity's EnvironmentCredential
# (what azureml-mlflow authenticates with outside Azure ML): Learn, how-to-use-mlflow-configure-tracking,
# "Configure authentication" (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET).
SECRET_KEYS = {"AZURE_CLIENT_ID": "client-id", "AZURE_CLIENT_SECRET": "client-secret"}


class DatabricksSettingsError(ValueError):
    """``config/databricks.yaml`` is missing or a setting is invalid (the message names the key)."""


class DatabricksSettings(BaseModel):
    """The job's settings (``config/databricks.yaml``), validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # empty: the dev stack's output databricksWorkspaceUrl
    workspace_url: str = ""
    # A Unity Catalog volume path (Files API: /Volumes/<catalog>/<schema>/<volume>/...)
    volume_path: str
    # Databricks Runtime LTS with Python 3.11 (= environments/train-conda.yaml's python=3.11):
    # Learn, azure/databricks/release-notes/runtime/15.4lts ("Python: 3.11.0").
    spark_version: str = "15.4.x-scala2.12"
    node_type_id: str = "Standard_D4ds_v5"
    num_workers: int = Field(default=0, ge=0, le=64)
    # the Databricks secret scope holding the service principal's client-id and client-secret
    secret_scope: str = Field(min_length=1)
    timeout_minutes: int = Field(default=180, ge=5, le=24 * 60)

    @field_validator("volume_path")
    @classmethod
    def _volume(cls, value: str) -> str:
        parts = PurePosixPath(value).parts
        if len(parts) < 5 or parts[:2] != ("/", "Volumes"):
            raise ValueError("must be a Unity Catalog volume path /Volumes/<catalog>/<schema>/<volume>[/...]")
        return value.rstrip("/")

    @field_validator("workspace_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be the workspace URL, https://adb-<id>.<n>.azuredatabricks.net")
        return value.rstrip("/")


def load_settings(path: Path = SETTINGS_FILE) -> DatabricksSettings:
    """The validated settings; an error names the file and the key."""
    if not path.is_file():
        raise DatabricksSettingsError(f"{path} not found (see docs/databricks.md)")
    data = yaml.safe_load(path.read_text()) or {}
    try:
        return DatabricksSettings.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '-'}: {e['msg']}" for e in error.errors())
        raise DatabricksSettingsError(f"{path}: {problems}") from None


def pinned_requirements(conda_file: Path = CONDA_FILE) -> list[str]:
    """The pip requirements of the Azure ML training environment, each pinned with ``==``."""
    data = yaml.safe_load(conda_file.read_text())
    pip = next(d["pip"] for d in data["dependencies"] if isinstance(d, dict) and "pip" in d)
    unpinned = [str(r) for r in pip if "==" not in str(r)]
    if unpinned:
        raise DatabricksSettingsError(f"{conda_file}: pip requirements not pinned with ==: {unpinned}")
    return [str(r) for r in pip]


@dataclass(frozen=True)
class RunPaths:
    """Where one run's files live in the volume: ``<volume_path>/runs/<run_id>/...``."""

    root: PurePosixPath
    data_file: str
    params_file: str

    @classmethod
    def for_run(cls, settings: DatabricksSettings, run_id: str, data_name: str, params_name: str) -> RunPaths:
        root = PurePosixPath(settings.volume_path) / "runs" / run_id
        return cls(root, str(root / "inputs" / data_name), str(root / "inputs" / params_name))

    @property
    def champion_dir(self) -> str:
        return str(self.root / "inputs" / "champion")

    def output(self, job: str, name: str) -> PurePosixPath:
        return self.root / job / name


@dataclass(frozen=True)
class JobRequest:
    """What the job of one run needs: paths in the volume, tracking, the champion, overrides."""

    run_id: str
    paths: RunPaths
    wheel_path: str
    model_name: str
    tracking_uri: str
    experiment: str
    tenant_id: str
    git_commit: str
    champion_uploaded: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def task_argv(request: JobRequest) -> dict[str, list[str]]:
    """Each pipeline job's argv, rendered from its component spec with this run's paths and inputs."""
    pipeline_inputs, jobs = load_pipeline()
    pipeline_inputs = {
        **pipeline_inputs,
        "data": request.paths.data_file,
        "params": request.paths.params_file,
        "model_name": request.model_name,
    }
    outputs = {
        job.name: {o: Path(request.paths.output(job.name, o)) for o in job.component.outputs} for job in jobs
    }
    extra = override_inputs(request.overrides)
    if request.champion_uploaded:
        extra.setdefault("evaluate", {})["champion"] = request.paths.champion_dir
    argv = {}
    for job in jobs:
        inputs = resolve_inputs(job, pipeline_inputs, outputs, extra.get(job.name, {}))
        argv[job.name] = render_command(job.component, inputs, outputs[job.name])
    return argv


def _wheel_task(job: Job, argv: list[str], libraries: list[Library]) -> Any:
    from databricks.sdk.service.jobs import PythonWheelTask, Task, TaskDependency

    if argv[:2] != ["python", "-m"]:
        raise DatabricksSettingsError(
            f"{job.component.path}: command must start with 'python -m', got {argv[:2]}"
        )
    return Task(
        task_key=job.name,
        description=job.component.name,
        depends_on=[TaskDependency(task_key=up) for up in sorted(job.upstream)] or None,
        job_cluster_key=JOB_CLUSTER_KEY,
        # Databricks passes `parameters` as the entry point's argv (Jobs API 2.2, python_wheel_task)
        python_wheel_task=PythonWheelTask(
            package_name=WHEEL_PACKAGE, entry_point=ENTRY_POINT, parameters=argv[2:]
        ),
        libraries=libraries,
        max_retries=0,
    )


def cluster_spec(settings: DatabricksSettings, request: JobRequest) -> ClusterSpec:
    """The job cluster: sized by the settings, MLflow pointed at the Azure ML workspace."""
    from databricks.sdk.service.compute import (
        AzureAttributes,
        AzureAvailability,
        ClusterSpec,
        DataSecurityMode,
    )

    scope = settings.secret_scope
    env = {
        "MLFLOW_TRACKING_URI": request.tracking_uri,
        "MLFLOW_EXPERIMENT_NAME": request.experiment,
        "MLOPS_GIT_COMMIT": request.git_commit,
        "AZURE_TENANT_ID": request.tenant_id,
        # secret references, resolved on the cluster at start-up (Learn, azure/databricks/security/
        # secrets/secrets-spark-conf-env-var: "{{secrets/<scope-name>/<secret-name>}}")
        **{name: f"{{{{secrets/{scope}/{key}}}}}" for name, key in SECRET_KEYS.items()},
    }
    spark_conf: dict[str, str] | None = None
    custom_tags = dict(request.tags)
    if settings.num_workers == 0:
        # single node (Learn, azure/databricks/compute/configure#single-node, Clusters API):
        # profile singleNode, master local[*], tag ResourceClass=SingleNode
        spark_conf = {"spark.databricks.cluster.profile": "singleNode", "spark.master": "local[*]"}
        custom_tags["ResourceClass"] = "SingleNode"
    return ClusterSpec(
        spark_version=settings.spark_version,
        node_type_id=settings.node_type_id,
        num_workers=settings.num_workers,
        spark_conf=spark_conf,
        custom_tags=custom_tags or None,
        spark_env_vars=env,
        # Standard access mode reads and writes Unity Catalog volumes with no single user to name
        # (Learn, azure/databricks/compute/access-mode-limitations)
        data_security_mode=DataSecurityMode.DATA_SECURITY_MODE_STANDARD,
        azure_attributes=AzureAttributes(availability=AzureAvailability.ON_DEMAND_AZURE),
    )


def build_job(settings: DatabricksSettings, request: JobRequest) -> JobSettings:
    """The job (``jobs/create`` body): one task per pipeline step on one job cluster."""
    from databricks.sdk.service.compute import Library, PythonPyPiLibrary
    from databricks.sdk.service.jobs import JobCluster, JobSettings

    _, jobs = load_pipeline()
    argv = task_argv(request)
    libraries = [Library(whl=request.wheel_path)] + [
        Library(pypi=PythonPyPiLibrary(package=requirement)) for requirement in pinned_requirements()
    ]
    return JobSettings(
        name=f"{request.experiment}-{request.run_id}",
        tags=request.tags or None,
        max_concurrent_runs=1,
        timeout_seconds=settings.timeout_minutes * 60,
        job_clusters=[
            JobCluster(job_cluster_key=JOB_CLUSTER_KEY, new_cluster=cluster_spec(settings, request))
        ],
        tasks=[_wheel_task(job, argv[job.name], libraries) for job in jobs],
    )


def outcome_path(paths: RunPaths) -> str:
    """The register step's ``registered.json`` in the volume (the pipeline output ``registered``)."""
    job, output = pipeline_outputs()[OUTCOME_OUTPUT]
    return str(paths.output(job, output) / RESULT_FILE)
