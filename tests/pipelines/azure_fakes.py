"""Fakes of the Azure path's offline tests: stack outputs as Pulumi prints them, downloaded model
folders, and what a mock was called with. Their fixtures live in ``tests/pipelines/conftest.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.model_folders import MODEL_NAME

SAMPLE_ROWS = [[0.038, 0.051, 0.062, 0.022, -0.044, -0.035, -0.043, -0.003, 0.020, -0.018]]
SAMPLE_RESULT = [206.1]


def outputs_dict(env: str, **extra: Any) -> dict[str, Any]:
    """What `pulumi stack output --json --show-secrets` prints for a stack (camelCase)."""
    base = {
        "subscriptionId": "00000000-0000-0000-0000-000000000001",
        "tenantId": "00000000-0000-0000-0000-000000000002",
        "location": "westeurope",
        "environment": env,
        "stack": env,
        "resourceGroupName": f"rg-mlops-{env}",
        "shortLived": False,
        "expiresAt": "",
        "workspaceName": f"mlw-mlops-{env}-abc123",
        "workspaceId": f"/subscriptions/x/resourceGroups/rg-mlops-{env}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/mlw-mlops-{env}-abc123",
        "mlflowTrackingUri": "azureml://westeurope.api.azureml.ms/mlflow/v1.0/x",
        "keyVaultName": f"kv-mlops-{env}",
        "keyVaultUri": f"https://kv-mlops-{env}.vault.azure.net/",
        "storageAccountName": f"stmlops{env}",
        "logAnalyticsWorkspaceId": "/subscriptions/x/law",
        "appInsightsConnectionString": "InstrumentationKey=secret-ikey;IngestionEndpoint=https://x/",
        "identityId": "/subscriptions/x/identity",
        "identityClientId": "client",
        "identityPrincipalId": "principal",
        "registryName": f"crmlops{env}",
        "registryLoginServer": f"crmlops{env}.azurecr.io",
    }
    base.update(extra)
    return base


def write_model_folder(root: Path, name: str = MODEL_NAME) -> Path:
    """A model folder as Azure ML downloads it: <root>/<name>/model/{metadata.json, estimator.joblib}."""
    folder = root / name / "model"
    folder.mkdir(parents=True)
    metadata = {"name": name, "sample": {"data": SAMPLE_ROWS, "result": SAMPLE_RESULT}}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    (folder / "estimator.joblib").write_bytes(b"not a real pickle")
    (folder / "MLmodel").write_text("flavors: {}\n")
    return folder


def calls(mock: Any) -> list[str]:
    """The names of the methods called on a mock, in order."""
    return [c[0] for c in mock.method_calls]
