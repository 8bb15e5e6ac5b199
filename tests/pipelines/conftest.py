"""Fixtures of the ``mlops`` tool's tests: stack outputs and a strict mock of AzureMLOps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.azure.ops import AzureMLOps
from tests.pipelines.azure_fakes import outputs_dict, write_model_folder


@pytest.fixture
def dev_outputs() -> dict[str, Any]:
    return outputs_dict("dev", computeClusterName="cpu-cluster")


@pytest.fixture
def qa_outputs() -> dict[str, Any]:
    return outputs_dict(
        "qa",
        containerGroupName="aci-mlops-qa",
        containerGroupFqdn="mlops-qa.westeurope.azurecontainer.io",
        scoringFqdn="scoring-qa.ml.example.com",
        scoringUri="https://scoring-qa.ml.example.com/score",
        scoringIdentityId="/subscriptions/x/aci-identity",
        scoringIdentityClientId="aci-client",
    )


@pytest.fixture
def prod_outputs() -> dict[str, Any]:
    return outputs_dict("prod", aksClusterName="aks-mlops-prod", kubernetesComputeName="k8s-prod")


@pytest.fixture
def ops(mocker: Any) -> Any:
    """A strict mock of AzureMLOps: only the protocol's methods, with their signatures."""
    mock = mocker.create_autospec(AzureMLOps, instance=True)
    mock.workspace = "mlw-test"
    mock.where = "workspace mlw-test"
    mock.model_id.side_effect = lambda name, version: f"azureml:{name}:{version}"
    mock.download_model.side_effect = lambda name, version, path: write_model_folder(Path(path), name)
    return mock
