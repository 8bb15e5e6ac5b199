"""The training outcome through the real ``MLClient.jobs.download`` (azure-ai-ml 1.35.2).

Only the network edges are replaced: the job's metadata (``jobs.get``), the output's URI
(``_get_named_output_uri``: the run-history lookup) and the storage account (a real
``BlobStorageClient`` whose container lists one blob). Everything between them is the SDK's
own code: where ``download`` puts a named output (``_job_operations.py`` lines 1157 and 1216),
and how the blob helper maps blob names into that folder (``_blob_storage_helper.py`` line 251).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import MLClientOps
from pipelines.azure.training import outcome_file, read_outcome
from tests.model_folders import MODEL_NAME

OUTPUT_URI = "azureml://datastores/workspaceblobstore/paths/azureml/job-1/registered/"
PREFIX = "azureml/job-1/registered/"


@pytest.fixture
def client(mocker: Any) -> Any:
    from azure.ai.ml import MLClient

    client = MLClient(
        mocker.MagicMock(name="credential"),
        subscription_id="00000000-0000-0000-0000-000000000001",
        resource_group_name="rg-mlops-dev",
        workspace_name="mlw-mlops-dev",
    )
    job = SimpleNamespace(name="job-1", status="Completed", properties={}, tags={})
    mocker.patch.object(client.jobs, "get", return_value=job)
    return client


def storage_with(mocker: Any, blobs: dict[str, bytes]) -> Any:
    """A real BlobStorageClient whose container holds ``blobs`` (name -> content)."""
    from azure.ai.ml._artifacts._blob_storage_helper import BlobStorageClient

    storage = BlobStorageClient("key", "https://stmlopsdev.blob.core.windows.net", "azureml-blobstore")
    items = [SimpleNamespace(name=name, metadata={}) for name in blobs]
    storage.container_client = mocker.Mock()
    storage.container_client.list_blobs.side_effect = lambda name_starts_with, include: [
        item for item in items if item.name.startswith(name_starts_with)
    ]
    storage.container_client.download_blob.side_effect = lambda item: SimpleNamespace(
        size=len(blobs[item.name]), content_as_bytes=lambda _concurrency: blobs[item.name]
    )
    utilities = "azure.ai.ml._artifacts._artifact_utilities"
    mocker.patch(f"{utilities}.get_datastore_info", return_value={})
    mocker.patch(f"{utilities}.get_storage_client", return_value=storage)
    return storage


def test_the_registered_output_lands_where_read_outcome_looks(mocker, client, tmp_path: Path):
    result = {"registered": True, "name": MODEL_NAME, "version": "7", "reason": "better"}
    storage_with(mocker, {PREFIX + "registered.json": json.dumps(result).encode()})
    named = mocker.patch.object(client.jobs, "_get_named_output_uri", return_value={"registered": OUTPUT_URI})

    MLClientOps(client).download_job_output("job-1", "registered", tmp_path)

    named.assert_called_once_with("job-1", "registered")
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")] == [
        "named-outputs/registered/registered.json"
    ]
    assert outcome_file(tmp_path).is_file()


def test_read_outcome_over_the_sdk_download(mocker, client, tmp_path: Path):
    result = {"registered": True, "name": MODEL_NAME, "version": "7", "reason": "better"}
    storage_with(mocker, {PREFIX + "registered.json": json.dumps(result).encode()})
    mocker.patch.object(client.jobs, "_get_named_output_uri", return_value={"registered": OUTPUT_URI})
    job = SimpleNamespace(name="job-1", status="Completed", studio_url="https://ml/job-1")

    outcome = read_outcome(MLClientOps(client), job, MODEL_NAME, None, tmp_path)

    assert (outcome.status, outcome.model_version) == ("registered", "7")


def test_an_output_the_sdk_cannot_find_is_a_clear_error(mocker, client, tmp_path: Path):
    # `download` only logs at debug level when the output is unknown (_job_operations.py 1196-1197)
    storage = storage_with(mocker, {})
    mocker.patch.object(client.jobs, "_get_named_output_uri", return_value={})
    job = SimpleNamespace(name="job-1", status="Completed", studio_url="https://ml/job-1")

    with pytest.raises(
        AzurePathError, match=r"output 'registered' holds no registered\.json.*https://ml/job-1"
    ):
        read_outcome(MLClientOps(client), job, MODEL_NAME, None, tmp_path)
    storage.container_client.list_blobs.assert_not_called()
