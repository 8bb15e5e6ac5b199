"""``mlops train --env dev``: the Azure ML pipeline job, submitted, followed and read back.

The job is ``components/pipeline.yml`` loaded with ``azure.ai.ml.load_job``: the same component
specs the local runner executes. On top of the spec, per run:

* ``settings.default_compute``: the stack's compute cluster;
* every step's ``environment``: one registered AML environment built from
  ``environments/train-conda.yaml`` and the components' base image, versioned by the hash of
  both (same pins -> same version -> no rebuild; a test checks the pins match the scoring ones);
* ``inputs.data``: a data asset whose version is derived from the file's SHA-256 and tagged
  with it (uploaded once; the same bytes are never uploaded twice);
* the evaluate step's ``champion``: ``Input(type="mlflow_model", path=...)`` of the model the
  serving environment runs now (``azureml:NAME:VERSION`` in dev, or
  ``azureml://registries/<registry>/models/NAME/versions/VERSION``), or nothing before the first;
* hyperparameter and gate overrides as the steps' optional inputs;
* ``MLOPS_GIT_COMMIT`` for the lineage (the code snapshot has no ``.git``).

The outcome is the pipeline-level output ``registered`` (promoted from the register step's output
of that name in ``components/pipeline.yml``), downloaded with ``jobs.download(name=<pipeline job>,
output_name="registered")``: ``registered.json``, the same file the local runner reads. A failed
job is explained from its child jobs (the failed step, by the display name each node is given).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from model.hashing import file_sha256
from model.outputs import RESULT_FILE
from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import AzureMLOps
from pipelines.azure.refs import ModelAsset
from pipelines.paths import COMPONENTS_DIR, PIPELINE_SPEC, REPO_ROOT
from pipelines.specs import OUTCOME_OUTPUT, SpecError, override_inputs

PROJECT_DIR = REPO_ROOT
CONDA_FILE = PROJECT_DIR / "environments" / "train-conda.yaml"
DATA_ASSET = "mlops-training-data"
ENVIRONMENT = "mlops-train"
EXPERIMENT = "mlops-training"
# RunHistoryConstants.TERMINAL_STATUSES, azure-ai-ml 1.35.2 operations/_run_history_constants.py:76-82
# (what JobOperations.download and stream accept as finished): "Paused" ends a job too.
TERMINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding", "Paused"})


def data_asset(path: Path, name: str = DATA_ASSET) -> Any:
    """The training CSV as a ``uri_file`` data asset, versioned and tagged by its content hash."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data

    digest = file_sha256(path)
    return Data(
        name=name,
        version=digest.removeprefix("sha256:")[:16],
        type=AssetTypes.URI_FILE,
        path=str(path),
        description=f"training data {path.name}",
        tags={"sha256": digest, "source_file": path.name},
    )


def components_image(spec: Path = COMPONENTS_DIR / "train.yml") -> str:
    """The base image the component specs name (the environment adds the pinned conda file)."""
    data = yaml.safe_load(spec.read_text())
    return str(data["environment"]["image"])


def training_environment(conda_file: Path = CONDA_FILE, image: str | None = None) -> Any:
    """The registered AML environment: base image + the pinned conda file, versioned by their hash."""
    from azure.ai.ml.entities import Environment

    image = image or components_image()
    version = hashlib.sha256(image.encode() + b"\n" + conda_file.read_bytes()).hexdigest()[:16]
    return Environment(
        name=ENVIRONMENT,
        version=version,
        image=image,
        conda_file=str(conda_file),
        description="validate/train/evaluate/register steps; pins = pyproject's model extra",
    )


@dataclass(frozen=True)
class TrainRequest:
    """What one training run needs, besides the workspace."""

    compute: str
    data_file: Path
    params_file: Path
    model_name: str
    champion: ModelAsset | None
    overrides: Mapping[str, Any]
    git_commit: str


def build_pipeline_job(request: TrainRequest, *, environment_id: str, data_id: str) -> Any:
    """The pipeline job of ``components/pipeline.yml`` with this run's compute, inputs and settings."""
    from azure.ai.ml import Input, load_job
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import PipelineJob

    job = load_job(source=PIPELINE_SPEC)
    assert isinstance(job, PipelineJob), type(job)
    settings = job.settings
    assert settings is not None
    settings.default_compute = request.compute
    settings.continue_on_step_failure = False
    # attribute assignment (not item assignment) makes the SDK wrap the values as job inputs
    inputs: Any = job.inputs
    inputs.data = Input(type="uri_file", path=data_id)
    inputs.params = Input(type="uri_file", path=str(request.params_file))
    inputs.model_name = request.model_name
    for name, node in job.jobs.items():
        # The child job's display name is the step's name: what the progress lines and a failed
        # step's report show (Learn, how-to-share-models-pipelines-across-workspaces-with-registries:
        # child jobs are found by `job.display_name == "<node name>"`).
        node.display_name = name
        node.environment = environment_id
        node.environment_variables = {"MLOPS_GIT_COMMIT": request.git_commit}
    if request.champion is not None:
        # the type components/evaluate.yml declares: models are MLflow models end to end
        job.jobs["evaluate"].inputs.champion = Input(type=AssetTypes.MLFLOW_MODEL, path=request.champion.uri)
    try:
        per_job = override_inputs(dict(request.overrides))
    except SpecError as error:
        raise AzurePathError(str(error)) from None
    for step, values in per_job.items():
        for name, value in values.items():
            setattr(job.jobs[step].inputs, name, value)
    job.tags = {
        "git_commit": request.git_commit,
        "champion": str(request.champion) if request.champion else "none",
    }
    return job


@dataclass
class TrainOutcome:
    """What a training run ended with (also the ``--summary-file`` JSON)."""

    status: str  # registered | not_better | failed | submitted
    job_name: str
    studio_url: str | None
    model_name: str
    model_version: str | None = None
    reason: str | None = None
    champion: str | None = None
    failed_step: str | None = None
    failed_step_url: str | None = None

    @property
    def registered(self) -> bool:
        return self.status == "registered"

    def to_summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["registered"] = self.registered
        return data


def ensure_assets(ops: AzureMLOps, data_file: Path, progress: Callable[[str], None]) -> tuple[str, str]:
    """Register the environment and the data asset unless these exact versions exist; their ids."""
    environment = training_environment()
    if ops.get_environment(environment.name, environment.version) is None:
        progress(f"registering environment {environment.name}:{environment.version} (first use builds it)")
        ops.create_environment(environment)
    data = data_asset(data_file)
    existing = ops.get_data(data.name, data.version)
    if existing is None:
        progress(f"uploading {data_file.name} as data asset {data.name}:{data.version}")
        ops.create_data(data)
    elif (existing.tags or {}).get("sha256") != data.tags["sha256"]:
        raise AzurePathError(
            f"data asset {data.name}:{data.version} exists with another hash "
            f"({(existing.tags or {}).get('sha256')}); refusing to reuse it"
        )
    return f"azureml:{environment.name}:{environment.version}", f"azureml:{data.name}:{data.version}"


def _step_name(child: Any) -> str:
    return str(getattr(child, "display_name", None) or child.name)


def outcome_file(download_dir: Path) -> Path:
    """Where ``jobs.download(output_name=OUTCOME_OUTPUT, download_path=download_dir)`` puts the outcome.

    azure-ai-ml 1.35.2, ``azure/ai/ml/operations/_job_operations.py``: a named output goes to
    ``download_path / "named-outputs" / <output name>`` (lines 1157 and 1216), and
    ``_artifacts/_blob_storage_helper.py`` line 251 writes each blob under the output's URI
    prefix directly into that folder.
    """
    return download_dir / "named-outputs" / OUTCOME_OUTPUT / RESULT_FILE


def read_outcome(
    ops: AzureMLOps, job: Any, model_name: str, champion: ModelAsset | None, work_dir: Path
) -> TrainOutcome:
    """The outcome of a finished pipeline job: its ``registered`` output, or the step that failed."""
    base = TrainOutcome(
        status="failed",
        job_name=str(job.name),
        studio_url=getattr(job, "studio_url", None),
        model_name=model_name,
        champion=str(champion) if champion else None,
    )
    if job.status != "Completed":
        failed = [c for c in ops.child_jobs(job.name) if c.status in ("Failed", "Canceled", "NotResponding")]
        if failed:
            base.failed_step = _step_name(failed[0])
            base.failed_step_url = getattr(failed[0], "studio_url", None)
        base.reason = f"pipeline job {job.status.lower()}"
        return base
    ops.download_job_output(job.name, OUTCOME_OUTPUT, work_dir)
    path = outcome_file(work_dir)
    if not path.is_file():
        # JobOperations.download only logs (at debug level) when the output is missing: no error.
        raise AzurePathError(
            f"job {job.name} completed but its output '{OUTCOME_OUTPUT}' holds no {RESULT_FILE} "
            f"(nothing at {path.relative_to(work_dir)} after jobs.download); "
            f"see {base.studio_url or 'the job in Azure ML studio'}"
        )
    result = json.loads(path.read_text())
    base.reason = str(result.get("reason"))
    if result.get("registered"):
        base.status = "registered"
        base.model_version = str(result["version"])
    else:
        base.status = "not_better"
    return base


def train(
    ops: AzureMLOps,
    request: TrainRequest,
    *,
    wait: bool = True,
    progress: Callable[[str], None] = print,
    poll_s: float = 20.0,
    timeout_s: float = 3 * 3600,
    sleep: Callable[[float], None] = time.sleep,
) -> TrainOutcome:
    """Submit the pipeline job; with ``wait``, follow it to the end and read the outcome."""
    environment_id, data_id = ensure_assets(ops, request.data_file, progress)
    job = build_pipeline_job(request, environment_id=environment_id, data_id=data_id)
    submitted = ops.submit_job(job, EXPERIMENT)
    progress(f"submitted {submitted.name}: {getattr(submitted, 'studio_url', '')}")
    outcome = TrainOutcome(
        status="submitted",
        job_name=str(submitted.name),
        studio_url=getattr(submitted, "studio_url", None),
        model_name=request.model_name,
        champion=str(request.champion) if request.champion else None,
    )
    if not wait:
        return outcome
    deadline = time.monotonic() + timeout_s
    status = str(submitted.status)
    seen: dict[str, str] = {}
    current = submitted
    while status not in TERMINAL:
        if time.monotonic() > deadline:
            raise AzurePathError(f"job {submitted.name} still {status} after {timeout_s / 60:.0f} min")
        sleep(poll_s)
        current = ops.get_job(submitted.name)
        status = str(current.status)
        for child in ops.child_jobs(submitted.name):
            step, state = _step_name(child), str(child.status)
            if seen.get(step) != state:
                seen[step] = state
                progress(f"  {step}: {state}")
    progress(f"job {submitted.name}: {status}")
    with tempfile.TemporaryDirectory(prefix="mlops-train-") as tmp:
        return read_outcome(ops, current, request.model_name, request.champion, Path(tmp))


def train_in_dev(
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
) -> TrainOutcome:
    """``mlops train --env dev``: resolve the champion, then submit (and follow) the pipeline job."""
    from pipelines.azure import workspaces
    from pipelines.azure.champion import resolve_champion
    from pipelines.azure.outputs_reader import require

    outputs = workspaces.outputs("dev")
    compute = require(outputs, "compute_cluster_name")
    ops = workspaces.ops(outputs)
    champion = resolve_champion(champion_from, model_name, outputs, ops)
    progress(f"champion ({champion_from}): {f'{champion} ({champion.uri})' if champion else 'none'}")
    request = TrainRequest(
        compute=compute,
        data_file=data_file.resolve(),
        params_file=params_file.resolve(),
        model_name=model_name,
        champion=champion,
        overrides=overrides,
        git_commit=git_commit,
    )
    return train(ops, request, wait=wait, progress=progress, timeout_s=timeout_s)
