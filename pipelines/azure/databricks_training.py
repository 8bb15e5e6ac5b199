"""``mlops train --env dev --compute databricks``: the pipeline as a Databricks job, models in Azure ML.

Per run: the champion (resolved as for Azure ML compute) is downloaded from Azure ML and uploaded
to the run's folder of the volume with the data, the params file and the project wheel; the job
(:mod:`pipelines.azure.databricks_job`) is created and run; its tasks' states are followed; the
outcome is the register step's ``registered.json`` in the volume (the file the Azure ML path
downloads as the pipeline output ``registered``), or the failed task with its run page. The
steps log to, and register in, the Azure ML workspace (MLflow ``azureml://`` tracking URI), so
promotion and deployment work unchanged.

Databricks is reached as an Entra ID identity through azure-identity (no personal access token):
:class:`AzureIdentityCredentials` asks the credential for a token for the Azure Databricks
resource, as databricks-sdk's own ``azure-cli`` auth type does.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pipelines.azure.databricks_job import (
    DatabricksSettings,
    DatabricksSettingsError,
    JobRequest,
    RunPaths,
    build_job,
    load_settings,
    outcome_path,
)
from pipelines.azure.errors import AzurePathError
from pipelines.azure.refs import ModelAsset, find_model_folder
from pipelines.azure.training import EXPERIMENT, TrainOutcome
from pipelines.paths import REPO_ROOT

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config
    from databricks.sdk.credentials_provider import CredentialsProvider
    from databricks.sdk.service.jobs import JobSettings, Run

    from pipelines.azure.ops import ModelStore
    from pipelines.stack_outputs import StackOutputs

# The Azure Databricks resource's application id, the scope an Entra ID token for its REST API is
# asked for: Learn, azure/databricks/dev-tools/auth/user-aad-token ("2ff814a6-3304-4ab8-85cb-cd0e6f879c1d");
# databricks-sdk 0.156.0 environments.py ARM_DATABRICKS_RESOURCE_ID (a test pins the two together).
DATABRICKS_RESOURCE_ID = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
# jobs.RunLifeCycleState values that end a run (databricks-sdk 0.156.0 service/jobs.py: "terminal")
TERMINAL = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
# jobs.RunResultState values of a task that failed itself (not UPSTREAM_FAILED / UPSTREAM_CANCELED)
TASK_FAILED = frozenset({"FAILED", "TIMEDOUT", "CANCELED", "MAXIMUM_CONCURRENT_RUNS_REACHED"})


def _credentials_strategy() -> Any:
    from databricks.sdk.credentials_provider import CredentialsStrategy

    class AzureIdentityCredentials(CredentialsStrategy):
        """Entra ID tokens for Azure Databricks from an azure-identity credential (databricks-sdk's
        custom ``credentials_strategy``: docs.databricks.com/dev-tools/sdk-python#authentication)."""

        def __init__(self, credential: Any) -> None:
            self._credential = credential

        def auth_type(self) -> str:
            return "azure-identity"

        def __call__(self, cfg: Config) -> CredentialsProvider:
            def headers() -> dict[str, str]:
                token = self._credential.get_token(f"{DATABRICKS_RESOURCE_ID}/.default")
                return {"Authorization": f"Bearer {token.token}"}

            return headers

    return AzureIdentityCredentials


def workspace_client(host: str, credential: Any | None = None) -> WorkspaceClient:
    """A WorkspaceClient authenticated as the caller's Entra ID identity (DefaultAzureCredential:
    the CI's workload identity, or `az login` on a laptop)."""
    from azure.identity import DefaultAzureCredential
    from databricks.sdk import WorkspaceClient

    strategy = _credentials_strategy()(credential or DefaultAzureCredential())
    return WorkspaceClient(host=host, credentials_strategy=strategy)


class DatabricksOps(Protocol):
    """The Databricks calls of a training run (:class:`WorkspaceOps`; strict mocks in tests)."""

    def upload(self, path: str, data: bytes) -> None: ...
    def download(self, path: str) -> bytes | None: ...
    def create_job(self, settings: JobSettings) -> int: ...
    def run_now(self, job_id: int, idempotency_token: str) -> int: ...
    def get_run(self, run_id: int) -> Run: ...


class WorkspaceOps:
    """:class:`DatabricksOps` over databricks-sdk's WorkspaceClient (Files API, Jobs API 2.2)."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._client = client

    def upload(self, path: str, data: bytes) -> None:
        import io

        self._client.files.upload(path, io.BytesIO(data), overwrite=True)

    def download(self, path: str) -> bytes | None:
        from databricks.sdk.errors import NotFound

        try:
            contents = self._client.files.download(path).contents
        except NotFound:
            return None
        return contents.read() if contents is not None else b""

    def create_job(self, settings: JobSettings) -> int:
        from dataclasses import fields

        kwargs = {
            f.name: getattr(settings, f.name)
            for f in fields(settings)
            if getattr(settings, f.name) is not None
        }
        job_id = self._client.jobs.create(**kwargs).job_id
        assert job_id is not None
        return job_id

    def run_now(self, job_id: int, idempotency_token: str) -> int:
        # run_now returns a Wait whose `response` is the RunNowResponse (typed `any` by the SDK)
        response: Any = self._client.jobs.run_now(job_id=job_id, idempotency_token=idempotency_token).response
        return int(response.run_id)

    def get_run(self, run_id: int) -> Run:
        return self._client.jobs.get_run(run_id)


def build_wheel(out_dir: Path) -> Path:
    """The project wheel (``uv build --wheel``): the code the tasks run, and its ``mlops-step`` script."""
    uv = shutil.which("uv") or str(REPO_ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists() and shutil.which(uv) is None:
        raise AzurePathError(
            "uv not found (make install-dev puts it in .tools/bin): it builds the project wheel"
        )
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(out_dir), str(REPO_ROOT)], check=True)
    wheels = sorted(out_dir.glob("azure_mlops-*.whl"))
    if len(wheels) != 1:
        raise AzurePathError(f"expected one azure_mlops wheel in {out_dir}, found {[w.name for w in wheels]}")
    return wheels[0]


def new_run_id() -> str:
    """A run id: UTC time and 6 random hex digits (sorts by time, unique across concurrent runs)."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _state(run_or_task: Any) -> tuple[str, str]:
    state = run_or_task.state
    life = state.life_cycle_state.value if state and state.life_cycle_state else "PENDING"
    result = state.result_state.value if state and state.result_state else ""
    return life, result


def _outcome(status: str, run: Run, request: JobRequest, champion: ModelAsset | None) -> TrainOutcome:
    """The outcome of ``run`` so far, named as the Azure ML path names a pipeline job's."""
    return TrainOutcome(
        status=status,
        job_name=f"run {run.run_id}",
        studio_url=run.run_page_url,
        model_name=request.model_name,
        champion=str(champion) if champion else None,
    )


def read_outcome(
    ops: DatabricksOps, run: Run, request: JobRequest, champion: ModelAsset | None
) -> TrainOutcome:
    """The outcome of a finished run: ``registered.json`` from the volume, or the task that failed."""
    base = _outcome("failed", run, request, champion)
    life, result = _state(run)
    if result != "SUCCESS":
        failed = [t for t in run.tasks or [] if _state(t)[1] in TASK_FAILED]
        if failed:
            base.failed_step, base.failed_step_url = failed[0].task_key, failed[0].run_page_url
        base.reason = f"databricks run {(result or life).lower()}"
        return base
    path = outcome_path(request.paths)
    data = ops.download(path)
    if data is None:
        raise AzurePathError(f"run {run.run_id} succeeded but {path} is missing; see {run.run_page_url}")
    outcome = json.loads(data)
    base.reason = str(outcome.get("reason"))
    if outcome.get("registered"):
        base.status, base.model_version = "registered", str(outcome["version"])
    else:
        base.status = "not_better"
    return base


def upload_inputs(
    ops: DatabricksOps,
    paths: RunPaths,
    *,
    data_file: Path,
    params_file: Path,
    wheel: Path,
    champion_dir: Path | None,
) -> str:
    """Upload the run's inputs to its folder of the volume; the wheel's path there."""
    ops.upload(paths.data_file, data_file.read_bytes())
    ops.upload(paths.params_file, params_file.read_bytes())
    if champion_dir is not None:
        for file in sorted(p for p in champion_dir.rglob("*") if p.is_file()):
            ops.upload(f"{paths.champion_dir}/{file.relative_to(champion_dir).as_posix()}", file.read_bytes())
    wheel_path = str(paths.root / "wheel" / wheel.name)
    ops.upload(wheel_path, wheel.read_bytes())
    return wheel_path


def train(
    ops: DatabricksOps,
    settings: DatabricksSettings,
    request: JobRequest,
    *,
    champion: ModelAsset | None,
    wait: bool = True,
    progress: Callable[[str], None] = print,
    timeout_s: float = 3 * 3600,
    poll_s: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
) -> TrainOutcome:
    """Create and run the job (its inputs already uploaded); with ``wait``, follow it and read the outcome."""
    job = build_job(settings, request)
    job_id = ops.create_job(job)
    run_id = ops.run_now(job_id, idempotency_token=request.run_id)
    run = ops.get_run(run_id)
    progress(f"submitted {job.name} (job {job_id}, run {run_id}): {run.run_page_url}")
    if not wait:
        return _outcome("submitted", run, request, champion)
    deadline = time.monotonic() + timeout_s
    seen: dict[str, tuple[str, str]] = {}
    while True:
        for task in run.tasks or []:
            state = _state(task)
            if seen.get(str(task.task_key)) != state:
                seen[str(task.task_key)] = state
                progress(f"  {task.task_key}: {' '.join(s for s in state if s)}")
        if _state(run)[0] in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise AzurePathError(f"run {run_id} still {_state(run)[0]} after {timeout_s / 60:.0f} min")
        sleep(poll_s)
        run = ops.get_run(run_id)
    progress(f"run {run_id}: {' '.join(s for s in _state(run) if s)}")
    return read_outcome(ops, run, request, champion)


def champion_store(champion: ModelAsset, dev_ops: ModelStore) -> ModelStore:
    """Where the champion is read: the Azure ML registry its URI names, else the dev workspace."""
    from pipelines.azure import workspaces

    return workspaces.registry(champion.registry) if champion.registry else dev_ops


def train_on_databricks(
    *,
    champion_from: str,
    model_name: str,
    data_file: Path,
    params_file: Path,
    overrides: dict[str, Any],
    git_commit: str,
    wait: bool,
    timeout_s: float,
    progress: Callable[[str], None],
    settings: DatabricksSettings | None = None,
    dbx_ops: DatabricksOps | None = None,
) -> TrainOutcome:
    """``mlops train --env dev --compute databricks``: champion, uploads, job, outcome."""
    from pipelines.azure import workspaces
    from pipelines.azure.champion import resolve_champion

    try:
        settings = settings or load_settings()
    except DatabricksSettingsError as error:
        raise AzurePathError(str(error)) from None
    outputs: StackOutputs = workspaces.outputs("dev")
    host = settings.workspace_url or outputs.databricks_workspace_url
    if not host:
        raise AzurePathError(
            "no Databricks workspace: set workspace_url in config/databricks.yaml "
            "or enable databricks in the dev stack (output databricksWorkspaceUrl)"
        )
    dev_ops = workspaces.ops(outputs)
    champion = resolve_champion(champion_from, model_name, outputs, dev_ops)
    progress(f"champion ({champion_from}): {f'{champion} ({champion.uri})' if champion else 'none'}")
    ops = dbx_ops or WorkspaceOps(workspace_client(host))
    run_id = new_run_id()
    paths = RunPaths.for_run(settings, run_id, data_file.name, params_file.name)
    with tempfile.TemporaryDirectory(prefix="mlops-dbx-") as tmp:
        champion_dir = None
        if champion is not None:
            champion_store(champion, dev_ops).download_model(
                champion.ref.name, champion.ref.version, Path(tmp, "c")
            )
            champion_dir = find_model_folder(Path(tmp, "c"))
        progress(f"building the project wheel and uploading the inputs to {paths.root}")
        wheel = build_wheel(Path(tmp, "wheel"))
        wheel_path = upload_inputs(
            ops, paths, data_file=data_file, params_file=params_file, wheel=wheel, champion_dir=champion_dir
        )
    request = JobRequest(
        run_id=run_id,
        paths=paths,
        wheel_path=wheel_path,
        model_name=model_name,
        tracking_uri=outputs.mlflow_tracking_uri,
        experiment=EXPERIMENT,
        tenant_id=outputs.tenant_id,
        git_commit=git_commit,
        champion_uploaded=champion_dir is not None,
        overrides=overrides,
        tags={"project": "azure-mlops", "environment": "dev", "git_commit": git_commit[:40]},
    )
    return train(ops, settings, request, champion=champion, wait=wait, progress=progress, timeout_s=timeout_s)
