"""``mlops score-batch --env qa|prod``: the batch scoring code as an Azure ML parallel job.

A pipeline job with one parallel step (Azure ML runs a parallel job only as a pipeline step:
Learn, how-to-use-parallel-job-in-pipeline, "An Azure Machine Learning parallel job can be used
only as a step in a pipeline job"), built with ``azure.ai.ml.parallel.parallel_run_function``
after Azure/azureml-examples@2917764e:sdk/python/jobs/parallel/3a_mnist_batch_identification
(a ``uri_folder`` of files, ``ro_mount``, split by ``mini_batch_size``):

* ``data``: the input folder (a data asset ``azureml:NAME:VERSION``, an ``azureml://`` or
  ``https://`` URI, or a local folder the SDK uploads), ``ro_mount``, split one file per
  mini-batch (``mini_batch_size: "1"``: "For files input data, this number define the file count
  for each mini-batch"), spread over ``instance_count`` nodes of the stack's batch cluster;
* ``model``: the registered MLflow model by name and version from the environment's model
  store (its Azure ML registry, else its workspace), ``download``;
* ``scores``: a ``uri_folder`` output, ``rw_mount``: ``<stem>.parquet`` and
  ``<stem>.rejects.csv`` per input file (``scoring/batch/parallel/entry.py``);
* the task: ``scoring/batch/parallel/entry.py`` from the repository root as code (``.amlignore``
  uploads ``model/``, ``config/`` and ``scoring/``), in the training environment
  (``environments/train-conda.yaml``: the same scikit-learn, numpy, pyarrow pins).

Why a parallel job and not a batch endpoint: the model is fixed per run (NAME:VERSION, from the
same registry the online deploys use), the job needs no long-lived endpoint resource or
deployment to keep in step with prod, and a user's nightly run is one command or one
``az ml job create``; a batch endpoint adds an invocation URL and default-deployment routing that
nothing here needs yet (docs/batch.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import AzureMLOps, ModelStore
from pipelines.azure.refs import ModelRef
from pipelines.azure.training import training_environment
from pipelines.paths import REPO_ROOT

EXPERIMENT = "mlops-batch-scoring"
ENTRY_SCRIPT = "scoring/batch/parallel/entry.py"
STEP = "score"
# Azure ML's defaults are 60 s per mini-batch and 2 retries (Learn, how-to-use-parallel-job-in-
# pipeline, "Consider automation settings"): one file of millions of rows takes longer.
MINI_BATCH_TIMEOUT_S = 3600
MAX_RETRIES = 2


@dataclass(frozen=True)
class BatchJobRequest:
    """One batch scoring run: where the rows are, which model, where the scores go, how wide."""

    compute: str
    model: ModelRef
    model_uri: str
    data: str
    output: str | None = None
    instance_count: int = 1
    max_concurrency_per_instance: int = 1


def build_batch_job(request: BatchJobRequest, *, environment_id: str) -> Any:
    """The pipeline job with its one parallel step, as azure-ai-ml entities (nothing submitted)."""
    from azure.ai.ml import Input, Output
    from azure.ai.ml.constants import AssetTypes, InputOutputModes
    from azure.ai.ml.entities import PipelineJob, RetrySettings
    from azure.ai.ml.parallel import RunFunction, parallel_run_function

    score = parallel_run_function(
        name="mlops_score_batch",
        display_name=STEP,
        description="Score every row of every input file with the registered model (scoring/batch/).",
        inputs={
            "data": Input(type=AssetTypes.URI_FOLDER, mode=InputOutputModes.RO_MOUNT),
            "model": Input(type=AssetTypes.MLFLOW_MODEL, mode=InputOutputModes.DOWNLOAD),
        },
        outputs={"scores": Output(type=AssetTypes.URI_FOLDER, mode=InputOutputModes.RW_MOUNT)},
        input_data="${{inputs.data}}",
        mini_batch_size="1",
        instance_count=request.instance_count,
        max_concurrency_per_instance=request.max_concurrency_per_instance,
        # Any file that cannot be scored fails the job (-1, the default, would ignore it).
        mini_batch_error_threshold=0,
        error_threshold=0,
        # The Parallel node takes RetrySettings or a dict (azure-ai-ml 1.35.2,
        # entities/_builders/parallel.py:116); parallel_run_function's hint says BatchRetrySettings,
        # which the node refuses at run time.
        retry_settings=RetrySettings(max_retries=MAX_RETRIES, timeout=MINI_BATCH_TIMEOUT_S),  # type: ignore[arg-type]
        logging_level="INFO",
        task=RunFunction(
            code=str(REPO_ROOT),
            entry_script=ENTRY_SCRIPT,
            environment=environment_id,
            program_arguments=(
                "--model-dir ${{inputs.model}} --output-dir ${{outputs.scores}} "
                f"--model-name {request.model.name} --model-version {request.model.version}"
            ),
        ),
    )
    node = score(
        data=Input(type=AssetTypes.URI_FOLDER, path=request.data, mode=InputOutputModes.RO_MOUNT),
        model=Input(type=AssetTypes.MLFLOW_MODEL, path=request.model_uri, mode=InputOutputModes.DOWNLOAD),
    )
    if request.output is not None:
        # attribute assignment (not item assignment) makes the SDK bind the path to the output
        outputs: Any = node.outputs
        outputs.scores = Output(
            type=AssetTypes.URI_FOLDER, path=request.output, mode=InputOutputModes.RW_MOUNT
        )
    job = PipelineJob(
        display_name=f"score-batch {request.model}",
        experiment_name=EXPERIMENT,
        jobs={STEP: node},
        tags={"model": str(request.model), "data": request.data},
    )
    settings = job.settings
    assert settings is not None
    settings.default_compute = request.compute
    return job


@dataclass(frozen=True)
class BatchSubmission:
    """A submitted batch scoring job."""

    job_name: str
    studio_url: str | None
    model: str
    compute: str


Progress = Callable[[str], None]


def submit_batch_job(
    ops: AzureMLOps,
    store: ModelStore,
    compute: str | None,
    model: ModelRef,
    data: str,
    output: str | None,
    *,
    instance_count: int = 1,
    progress: Progress,
) -> BatchSubmission:
    """Check the model and compute, register the environment if new, submit the job.

    Raises:
        AzurePathError: the stack has no batch cluster, or the model store has no such model.
    """
    if compute is None:
        raise AzurePathError(
            "the stack has no batch compute cluster (output batchComputeName): set "
            "azure-mlops:batchCompute.enabled: true and run `pulumi up`"
        )
    if store.get_model(model.name, model.version) is None:
        raise AzurePathError(f"{store.where} has no model {model}")
    environment = training_environment()
    if ops.get_environment(environment.name, environment.version) is None:
        progress(f"registering environment {environment.name}:{environment.version} (first use builds it)")
        ops.create_environment(environment)
    request = BatchJobRequest(
        compute=compute,
        model=model,
        model_uri=store.model_id(model.name, model.version),
        data=data,
        output=output,
        instance_count=instance_count,
    )
    job = build_batch_job(request, environment_id=f"azureml:{environment.name}:{environment.version}")
    progress(f"submitting the batch scoring job on {compute} ({instance_count} node(s))")
    submitted = ops.submit_job(job, EXPERIMENT)
    return BatchSubmission(
        job_name=str(submitted.name),
        studio_url=getattr(submitted, "studio_url", None),
        model=str(model),
        compute=compute,
    )


def score_batch(
    env: str, model: ModelRef, data: str, output: str | None, *, instance_count: int, progress: Progress
) -> BatchSubmission:
    """Submit the batch scoring job in ``env``'s workspace, on its batch cluster, with its store's model."""
    from pipelines.azure import workspaces

    outputs = workspaces.outputs(env)
    return submit_batch_job(
        workspaces.ops(outputs),
        workspaces.model_store(outputs),
        outputs.batch_compute_name,
        model,
        data,
        output,
        instance_count=instance_count,
        progress=progress,
    )
