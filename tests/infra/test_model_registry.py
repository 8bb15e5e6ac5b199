"""The optional Azure ML registry: created by one stack, named by the others, off by default."""

from __future__ import annotations

import pytest

from infra.config import ConfigError
from infra.offline import OfflineRun, run_stack

REGISTRY = "azure-native:machinelearningservices:Registry"
REGISTRY_USER = "1823dd4f-9b8c-4ab6-ab4e-7397a3684615"  # AzureML Registry User (Learn built-in roles)


def _registry_user_scopes(run: OfflineRun) -> list[str]:
    return [
        r.plain_inputs["scope"]
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.plain_inputs["roleDefinitionId"].endswith("/" + REGISTRY_USER)
        and r.plain_inputs["principalId"] == run.outputs["identityPrincipalId"].value
    ]


def test_off_by_default(runs: dict[str, OfflineRun]) -> None:
    for run in runs.values():
        assert not run.of_type(REGISTRY) and "modelRegistryName" not in run.outputs
        assert _registry_user_scopes(run) == []


def test_the_creating_stack_declares_it_as_learn_does_and_grants_its_workspace() -> None:
    run = run_stack("dev", overrides={"azure-mlops:modelRegistry": {"name": "contoso-mlops", "create": True}})
    registry = run.one(REGISTRY).plain_inputs
    assert registry["registryName"] == "contoso-mlops"
    assert registry["identity"] == {"type": "SystemAssigned"}
    assert registry["location"] == "westeurope"
    assert registry["regionDetails"] == [
        {
            "location": "westeurope",
            "storageAccountDetails": [
                {"systemCreatedStorageAccount": {"storageAccountType": "Standard_LRS"}}
            ],
            "acrDetails": [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}],
        }
    ]
    assert run.outputs["modelRegistryName"].value == "contoso-mlops"
    (scope,) = _registry_user_scopes(run)
    assert scope.endswith(
        "/resourceGroups/rg-mlops-dev/providers/Microsoft.MachineLearningServices/registries/contoso-mlops"
    )


def test_a_stack_that_names_it_grants_its_workspace_when_it_knows_where_it_is() -> None:
    run = run_stack(
        "prod",
        overrides={
            "azure-mlops:modelRegistry": {"name": "contoso-mlops", "resourceGroupName": "rg-mlops-dev"}
        },
    )
    assert not run.of_type(REGISTRY)
    assert run.outputs["modelRegistryName"].value == "contoso-mlops"
    (scope,) = _registry_user_scopes(run)
    assert scope.endswith(
        "/resourceGroups/rg-mlops-dev/providers/Microsoft.MachineLearningServices/registries/contoso-mlops"
    )
    unknown = run_stack("qa", overrides={"azure-mlops:modelRegistry": {"name": "contoso-mlops"}})
    assert unknown.outputs["modelRegistryName"].value == "contoso-mlops"
    assert _registry_user_scopes(unknown) == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"name": "x"}, "azure-mlops:modelRegistry.name"),
        ({"name": "-starts-with-hyphen"}, "azure-mlops:modelRegistry.name"),
        ({"name": "a" * 33}, "azure-mlops:modelRegistry.name"),
        ({"name": "has space"}, "azure-mlops:modelRegistry.name"),
        ({"create": True}, "modelRegistry.name is required"),
        ({"name": "ok-name", "create": True, "resourceGroupName": "rg"}, "leave it out with create: true"),
        ({"name": "ok-name", "creat": True}, "modelRegistry.creat: unknown setting"),
    ],
)
def test_invalid_registry_settings_are_named(value: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        run_stack("dev", overrides={"azure-mlops:modelRegistry": value})
    assert fragment in str(err.value)
