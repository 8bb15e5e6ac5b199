"""Fixtures of the Azure path's offline tests: stack outputs, model folders, a mocked AzureMLOps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.azure.ops import AzureMLOps

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


@pytest.fixture
def dev_outputs() -> dict[str, Any]:
    return outputs_dict("dev", computeClusterName="cpu-cluster")


@pytest.fixture
def qa_outputs() -> dict[str, Any]:
    return outputs_dict(
        "qa",
        containerGroupName="aci-mlops-qa",
        scoringFqdn="mlops-qa.westeurope.azurecontainer.io",
        scoringUri="http://mlops-qa.westeurope.azurecontainer.io:5001/score",
        scoringIdentityId="/subscriptions/x/aci-identity",
        scoringIdentityClientId="aci-client",
    )


@pytest.fixture
def prod_outputs() -> dict[str, Any]:
    return outputs_dict("prod", aksClusterName="aks-mlops-prod", kubernetesComputeName="k8s-prod")


def write_model_folder(root: Path, name: str = "diabetes-regressor") -> Path:
    """A model folder as Azure ML downloads it: <root>/<name>/model/{metadata.json, estimator.joblib}."""
    folder = root / name / "model"
    folder.mkdir(parents=True)
    metadata = {"name": name, "sample": {"data": SAMPLE_ROWS, "result": SAMPLE_RESULT}}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    (folder / "estimator.joblib").write_bytes(b"not a real pickle")
    (folder / "MLmodel").write_text("flavors: {}\n")
    return folder


@pytest.fixture
def ops(mocker: Any) -> Any:
    """A strict mock of AzureMLOps: only the protocol's methods, with their signatures."""
    mock = mocker.create_autospec(AzureMLOps, instance=True)
    mock.workspace = "mlw-test"
    mock.download_model.side_effect = lambda name, version, path: write_model_folder(Path(path), name)
    return mock


def calls(mock: Any) -> list[str]:
    """The names of the methods called on a mock, in order."""
    return [c[0] for c in mock.method_calls]
