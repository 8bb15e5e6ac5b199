"""AzureReader: each read goes through the SDK's own client with the expected request, and the
SDK's models (as the clients return them) become facts. The clients are replaced by mocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.mgmt.compute import models as compute
from azure.mgmt.containerregistry import models as registry
from azure.mgmt.keyvault import models as keyvault
from azure.mgmt.machinelearningservices import models as ml
from azure.mgmt.resource.resources import models as resources
from azure.mgmt.storage import models as storage
from pytest_mock import MockerFixture

from pipelines.errors import MlopsError
from pipelines.preflight.azure import AzureReader
from pipelines.preflight.facts import (
    DeletedVault,
    FactsUnavailable,
    NameStatus,
    ProviderInfo,
    QuotaUsage,
    VmSku,
)
from pipelines.preflight.needs import GlobalName

SUB = "00000000-0000-0000-0000-0000000000aa"


def reader_with(mocker: MockerFixture, client_path: str) -> tuple[AzureReader, Any]:
    """An AzureReader whose SDK client class at ``client_path`` is a mock; returns the client."""
    cls = mocker.patch(client_path)
    return AzureReader(mocker.sentinel.credential, SUB), cls


def test_compute_skus_and_usage(mocker: MockerFixture) -> None:
    reader, cls = reader_with(mocker, "azure.mgmt.compute.ComputeManagementClient")
    client = cls.return_value
    client.resource_skus.list.return_value = [
        compute.ResourceSku(
            {
                "resourceType": "virtualMachines",
                "name": "Standard_D4s_v5",
                "family": "standardDSv5Family",
                "capabilities": [{"name": "vCPUs", "value": "4"}],
                "restrictions": [],
            }
        ),
        compute.ResourceSku(
            {
                "resourceType": "virtualMachines",
                "name": "Standard_M416ms_v2",
                "family": "standardMSv2Family",
                "capabilities": [{"name": "vCPUs", "value": "416"}],
                "restrictions": [
                    {
                        "type": "Location",
                        "values": ["westeurope"],
                        "reasonCode": "NotAvailableForSubscription",
                    }
                ],
            }
        ),
        compute.ResourceSku({"resourceType": "disks", "name": "Premium_LRS"}),
    ]
    client.usage.list.return_value = [
        compute.Usage(
            {
                "currentValue": 8,
                "limit": 100,
                "unit": "Count",
                "name": {"value": "cores", "localizedValue": "Total Regional vCPUs"},
            }
        )
    ]
    skus = reader.compute_skus("westeurope")
    assert skus == {
        "standard_d4s_v5": VmSku("Standard_D4s_v5", "standardDSv5Family", 4),
        "standard_m416ms_v2": VmSku(
            "Standard_M416ms_v2", "standardMSv2Family", 416, "NotAvailableForSubscription"
        ),
    }
    assert reader.compute_usages("westeurope") == [QuotaUsage("cores", "Total Regional vCPUs", 8, 100)]
    cls.assert_called_once_with(mocker.sentinel.credential, SUB)
    client.resource_skus.list.assert_called_once_with(filter="location eq 'westeurope'")
    client.usage.list.assert_called_once_with("westeurope")


def test_azure_ml_sizes_and_usage(mocker: MockerFixture) -> None:
    reader, cls = reader_with(mocker, "azure.mgmt.machinelearningservices.MachineLearningServicesMgmtClient")
    client = cls.return_value
    client.virtual_machine_sizes.list.return_value = ml.VirtualMachineSizeListResult.from_dict(
        {"amlCompute": [{"name": "Standard_DS3_v2", "family": "standardDSv2Family", "vCPUs": 4}]}
    )
    client.usages.list.return_value = [
        ml.Usage.from_dict(
            {
                "currentValue": 2,
                "limit": 100,
                "name": {"value": "TotalLowPriorityCores", "localizedValue": "Total low priority cores"},
            }
        )
    ]
    assert reader.ml_vm_sizes("westeurope") == {
        "standard_ds3_v2": VmSku("Standard_DS3_v2", "standardDSv2Family", 4)
    }
    assert reader.ml_usages("westeurope") == [
        QuotaUsage("TotalLowPriorityCores", "Total low priority cores", 2, 100)
    ]
    client.virtual_machine_sizes.list.assert_called_once_with("westeurope")


def test_name_checks_use_each_providers_request_model(mocker: MockerFixture) -> None:
    storage_cls = mocker.patch("azure.mgmt.storage.StorageManagementClient")
    storage_cls.return_value.storage_accounts.check_name_availability.return_value = (
        storage.CheckNameAvailabilityResult(
            {"nameAvailable": False, "reason": "AlreadyExists", "message": "taken"}
        )
    )
    registry_cls = mocker.patch("azure.mgmt.containerregistry.ContainerRegistryManagementClient")
    registry_cls.return_value.registries.check_name_availability.return_value = registry.RegistryNameStatus(
        {"nameAvailable": True}
    )
    kv_cls = mocker.patch("azure.mgmt.keyvault.KeyVaultManagementClient")
    kv_cls.return_value.vaults.check_name_availability.return_value = keyvault.CheckNameAvailabilityResult(
        {"nameAvailable": True}
    )
    reader = AzureReader(mocker.sentinel.credential, SUB)

    assert reader.name_status(
        GlobalName("storage", "Microsoft.Storage/storageAccounts", "stx", "st")
    ) == NameStatus(False, "AlreadyExists", "taken")
    [request] = storage_cls.return_value.storage_accounts.check_name_availability.call_args.args
    assert isinstance(request, storage.StorageAccountCheckNameAvailabilityParameters)
    assert request.name == "stx" and request.type == "Microsoft.Storage/storageAccounts"

    assert reader.name_status(
        GlobalName("registry", "Microsoft.ContainerRegistry/registries", "crx", "cr")
    ).available
    [request] = registry_cls.return_value.registries.check_name_availability.call_args.args
    assert isinstance(request, registry.RegistryNameCheckRequest) and request.name == "crx"
    assert request.type == "Microsoft.ContainerRegistry/registries"

    assert reader.name_status(GlobalName("keyvault", "Microsoft.KeyVault/vaults", "kv-x", "kv")).available
    [request] = kv_cls.return_value.vaults.check_name_availability.call_args.args
    assert isinstance(request, keyvault.VaultCheckNameAvailabilityParameters) and request.name == "kv-x"


def test_deleted_vaults(mocker: MockerFixture) -> None:
    reader, cls = reader_with(mocker, "azure.mgmt.keyvault.KeyVaultManagementClient")
    cls.return_value.vaults.list_deleted.return_value = [
        keyvault.DeletedVault(
            {
                "name": "kv-mlops-qa-1",
                "properties": {
                    "location": "westeurope",
                    "scheduledPurgeDate": "2030-03-01T00:00:00Z",
                    "purgeProtectionEnabled": True,
                },
            }
        )
    ]
    assert reader.deleted_vaults() == [
        DeletedVault("kv-mlops-qa-1", "westeurope", datetime(2030, 3, 1, tzinfo=UTC), True)
    ]


def test_providers_existing_resources_and_refusals(mocker: MockerFixture) -> None:
    reader, cls = reader_with(mocker, "azure.mgmt.resource.resources.ResourceManagementClient")
    client = cls.return_value
    client.providers.list.return_value = [
        resources.Provider(
            {
                "namespace": "Microsoft.ContainerService",
                "registrationState": "Registered",
                "resourceTypes": [{"resourceType": "managedClusters", "locations": ["West Europe"]}],
            }
        )
    ]
    assert reader.providers() == {
        "microsoft.containerservice": ProviderInfo(
            "Microsoft.ContainerService", "Registered", {"managedclusters": ("West Europe",)}
        )
    }
    client.resource_groups.check_existence.return_value = False
    assert reader.existing_resources("rg-x") is None
    client.resource_groups.check_existence.return_value = True
    client.resources.list_by_resource_group.return_value = [
        resources.GenericResourceExpanded({"name": "stX", "type": "Microsoft.Storage/storageAccounts"})
    ]
    assert reader.existing_resources("rg-x") == {("microsoft.storage/storageaccounts", "stx")}
    client.resources.list_by_resource_group.assert_called_with("rg-x")
    client.providers.list.side_effect = HttpResponseError(message="(AuthorizationFailed) no read\nmore")
    with pytest.raises(FactsUnavailable, match="AuthorizationFailed"):
        reader.providers()


def test_role_grants_list_the_principals_assignments_with_their_roles(mocker: MockerFixture) -> None:
    from azure.mgmt.authorization.v2022_04_01 import models as auth

    reader, cls = reader_with(mocker, "azure.mgmt.authorization.AuthorizationManagementClient")
    client = cls.return_value
    role_id = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac"
    # as the service answers: scope is read-only, set when the REST body is deserialised
    client.role_assignments.list_for_subscription.return_value = [
        auth.RoleAssignment.deserialize(
            {"properties": {"scope": scope, "roleDefinitionId": role_id, "principalId": "o1"}}
        )
        for scope in (f"/subscriptions/{SUB}", f"/subscriptions/{SUB}/resourceGroups/rg")
    ]
    client.role_definitions.get_by_id.return_value = auth.RoleDefinition(
        role_name="Contributor",
        permissions=[auth.Permission(actions=["*"], not_actions=["Microsoft.Authorization/*/Write"])],
    )
    grants = reader.role_grants("o1")
    assert [(g.scope.endswith("/rg"), g.role_name, g.actions, g.not_actions) for g in grants] == [
        (False, "Contributor", ("*",), ("Microsoft.Authorization/*/Write",)),
        (True, "Contributor", ("*",), ("Microsoft.Authorization/*/Write",)),
    ]
    client.role_assignments.list_for_subscription.assert_called_once_with(filter="assignedTo('o1')")
    client.role_definitions.get_by_id.assert_called_once_with(role_id)  # one read per role


def test_principal_from_the_token_and_no_sign_in(mocker: MockerFixture) -> None:
    from azure.core.credentials import AccessToken

    from tests.pipelines.preflight.test_rules import _jwt

    credential = mocker.Mock()
    credential.get_token.return_value = AccessToken(
        _jwt({"oid": "o1", "tid": "t1", "upn": "ada@example.com"}), 0
    )
    assert AzureReader(credential, SUB).principal().object_id == "o1"
    credential.get_token.assert_called_once_with("https://management.azure.com/.default")
    credential.get_token.side_effect = ClientAuthenticationError("DefaultAzureCredential failed")
    with pytest.raises(MlopsError, match="run az login"):
        AzureReader(credential, SUB).principal()
