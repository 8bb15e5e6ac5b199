"""The real CloudOps against mocks of the Automation API and the Azure SDKs: the exact calls."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any
from unittest.mock import call

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError
from pulumi import automation as auto
from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult
from pytest_mock import MockerFixture

from pipelines.stacks.adapters import AzureCloudOps, PulumiStackOps
from pipelines.stacks.selection import StackInfo
from pipelines.stacks.teardown import Outcome, SetupError, StackTargets, TransientError
from tests.pipelines.stacks.targets import FULL

TARGETS = FULL


def http_error(status: int) -> HttpResponseError:
    error = HttpResponseError(message=f"status {status}")
    error.status_code = status
    return error


def command_result(stderr: str) -> CommandResult:
    return CommandResult(stdout="", stderr=stderr, code=255)


# --- PulumiStackOps -----------------------------------------------------------------------


@pytest.fixture
def workspace(mocker: MockerFixture) -> Any:
    ws = mocker.Mock(spec=auto.LocalWorkspace)
    ws.list_stacks.return_value = [
        auto.StackSummary("dev", current=True),
        auto.StackSummary("dev-pr-1", current=False),
    ]
    ws.list_tags.side_effect = lambda name: {"dev": {}, "dev-pr-1": {"mlops:short-lived": "true"}}[name]
    return ws


@pytest.fixture
def stacks(workspace: Any, tmp_path: Path) -> PulumiStackOps:
    ops = PulumiStackOps(tmp_path)
    ops._workspace = workspace
    return ops


def test_list_stacks_reads_each_stacks_tags(stacks: PulumiStackOps) -> None:
    assert stacks.list_stacks() == [
        StackInfo("dev", {}),
        StackInfo("dev-pr-1", {"mlops:short-lived": "true"}),
    ]


def test_read_targets_prefers_outputs_and_falls_back_to_state(
    stacks: PulumiStackOps, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    monkeypatch.setenv("ARM_SUBSCRIPTION_ID", "sub-env")
    workspace.stack_outputs.return_value = {
        "resourceGroupName": auto.OutputValue("rg-out", secret=False),
        "workspaceName": auto.OutputValue("mlw-out", secret=False),
    }
    workspace.export_stack.return_value = auto.Deployment(
        version=3,
        deployment={
            "resources": [
                {
                    "type": "azure-native:keyvault:Vault",
                    "id": "/subscriptions/sub-state/resourceGroups/rg-state/providers/x/vaults/kv-state",
                    "outputs": {"name": "kv-state", "location": "northeurope"},
                }
            ]
        },
    )
    targets = stacks.read_targets("dev-pr-1")
    assert targets == StackTargets(
        subscription_id="sub-state",
        resource_group="rg-out",
        location="northeurope",
        workspace="mlw-out",
        key_vault="kv-state",
    )


def test_read_targets_skips_the_state_when_outputs_are_complete(
    stacks: PulumiStackOps, workspace: Any
) -> None:
    workspace.stack_outputs.return_value = {
        "subscriptionId": auto.OutputValue("sub-1", secret=False),
        "resourceGroupName": auto.OutputValue("rg-dev-pr-1", secret=False),
        "location": auto.OutputValue("westeurope", secret=False),
        "workspaceName": auto.OutputValue("mlw-dev-pr-1", secret=False),
        "keyVaultName": auto.OutputValue("kv-dev-pr-1", secret=False),
        "logAnalyticsWorkspaceId": auto.OutputValue(
            "/subscriptions/sub-1/resourceGroups/rg-dev-pr-1"
            "/providers/Microsoft.OperationalInsights/workspaces/log-dev-pr-1",
            secret=False,
        ),
    }
    assert stacks.read_targets("dev-pr-1") == TARGETS
    workspace.export_stack.assert_not_called()


def test_destroy_refreshes_and_a_missing_stack_is_already_gone(
    stacks: PulumiStackOps, mocker: MockerFixture
) -> None:
    select = mocker.patch.object(auto.Stack, "select")
    assert stacks.destroy_stack("dev-pr-1") is Outcome.DONE
    select.return_value.destroy.assert_called_once()
    assert select.return_value.destroy.call_args.kwargs["refresh"] is True

    select.side_effect = auto_errors.StackNotFoundError(command_result("no stack named 'dev-pr-1'"))
    assert stacks.destroy_stack("dev-pr-1") is Outcome.ALREADY_GONE


def test_a_held_lock_is_transient(stacks: PulumiStackOps, mocker: MockerFixture) -> None:
    mocker.patch.object(
        auto.Stack,
        "select",
        side_effect=auto_errors.ConcurrentUpdateError(command_result("[409] Conflict")),
    )
    with pytest.raises(TransientError):
        stacks.destroy_stack("dev-pr-1")


def test_remove_stack_is_idempotent(stacks: PulumiStackOps, workspace: Any) -> None:
    assert stacks.remove_stack("dev-pr-1") is Outcome.DONE
    workspace.remove_stack.side_effect = auto_errors.StackNotFoundError(command_result("no stack"))
    assert stacks.remove_stack("dev-pr-1") is Outcome.ALREADY_GONE


def test_config_round_trips_in_pulumi_config_json_form(stacks: PulumiStackOps, workspace: Any) -> None:
    workspace.get_all_config.return_value = {
        "azure-native:location": auto.ConfigValue("westeurope"),
        "azure-mlops:tags": auto.ConfigValue('{"team": "ml"}'),
        "azure-mlops:apiKey": auto.ConfigValue("s3cret", secret=True),
    }
    config = stacks.get_config_json("dev")
    assert config == {
        "azure-native:location": {"value": "westeurope", "secret": False},
        "azure-mlops:tags": {"value": '{"team": "ml"}', "secret": False, "objectValue": {"team": "ml"}},
        "azure-mlops:apiKey": {"value": "s3cret", "secret": True},
    }
    stacks.set_config_json("dev-pr-1", config)
    [(name, payload)] = [c.args for c in workspace.set_all_config_json.call_args_list]
    assert name == "dev-pr-1" and '"secret": true' in payload


def test_no_pulumi_cli_is_a_setup_error(tmp_path: Path, mocker: MockerFixture) -> None:
    mocker.patch("shutil.which", return_value=None)
    with pytest.raises(SetupError, match="Pulumi CLI"):
        PulumiStackOps(tmp_path).stack_names()


# --- AzureCloudOps ------------------------------------------------------------------------


@pytest.fixture
def ml_client(mocker: MockerFixture) -> Any:
    return mocker.patch("azure.ai.ml.MLClient")


@pytest.fixture
def azure(mocker: MockerFixture, tmp_path: Path) -> AzureCloudOps:
    return AzureCloudOps(PulumiStackOps(tmp_path), credential=mocker.sentinel.credential)


def test_endpoints_are_listed_and_deleted_in_the_workspace(
    azure: AzureCloudOps, ml_client: Any, mocker: MockerFixture
) -> None:
    endpoint = mocker.Mock()
    endpoint.name = "scoring-dev"
    ml_client.return_value.online_endpoints.list.return_value = [endpoint]
    assert azure.list_online_endpoints(TARGETS) == ["scoring-dev"]
    ml_client.assert_called_with(
        mocker.sentinel.credential,
        subscription_id="sub-1",
        resource_group_name="rg-dev-pr-1",
        workspace_name="mlw-dev-pr-1",
    )
    assert azure.delete_online_endpoint(TARGETS, "scoring-dev") is Outcome.DONE
    ml_client.return_value.online_endpoints.begin_delete.assert_called_once_with(name="scoring-dev")
    ml_client.return_value.online_endpoints.begin_delete.return_value.result.assert_called_once()


def test_a_gone_workspace_has_no_endpoints(azure: AzureCloudOps, ml_client: Any) -> None:
    ml_client.return_value.online_endpoints.list.side_effect = ResourceNotFoundError("gone")
    assert azure.list_online_endpoints(TARGETS) == []
    ml_client.return_value.online_endpoints.begin_delete.side_effect = ResourceNotFoundError("gone")
    assert azure.delete_online_endpoint(TARGETS, "x") is Outcome.ALREADY_GONE


def test_the_workspace_is_deleted_permanently(azure: AzureCloudOps, ml_client: Any) -> None:
    assert azure.delete_workspace_permanently(TARGETS) is Outcome.DONE
    assert ml_client.call_args.kwargs["workspace_name"] is None
    ml_client.return_value.workspaces.begin_delete.assert_called_once_with(
        "mlw-dev-pr-1", delete_dependent_resources=False, permanently_delete=True
    )
    ml_client.return_value.workspaces.begin_delete.side_effect = ResourceNotFoundError("gone")
    assert azure.delete_workspace_permanently(TARGETS) is Outcome.ALREADY_GONE


@pytest.mark.parametrize("error", [http_error(429), http_error(503), ServiceRequestError("reset")])
def test_throttling_and_outages_are_transient(azure: AzureCloudOps, ml_client: Any, error: Exception) -> None:
    ml_client.return_value.workspaces.begin_delete.side_effect = error
    with pytest.raises(TransientError):
        azure.delete_workspace_permanently(TARGETS)


def test_a_forbidden_call_is_not_transient(azure: AzureCloudOps, ml_client: Any) -> None:
    ml_client.return_value.workspaces.begin_delete.side_effect = http_error(403)
    with pytest.raises(HttpResponseError):
        azure.delete_workspace_permanently(TARGETS)


@pytest.fixture
def log_analytics(mocker: MockerFixture) -> Any:
    module = types.ModuleType("azure.mgmt.loganalytics")
    client = mocker.Mock()
    module.LogAnalyticsManagementClient = client  # type: ignore[attr-defined]
    mocker.patch.dict(sys.modules, {"azure.mgmt.loganalytics": module})
    return client


def test_log_analytics_is_force_deleted(
    azure: AzureCloudOps, log_analytics: Any, mocker: MockerFixture
) -> None:
    assert azure.force_delete_log_analytics(TARGETS) is Outcome.DONE
    log_analytics.assert_called_once_with(mocker.sentinel.credential, "sub-1")
    workspaces = log_analytics.return_value.workspaces
    assert workspaces.mock_calls[:2] == [
        call.get("rg-dev-pr-1", "log-dev-pr-1"),
        call.begin_delete("rg-dev-pr-1", "log-dev-pr-1", force=True),
    ]
    workspaces.get.side_effect = ResourceNotFoundError("gone")
    assert azure.force_delete_log_analytics(TARGETS) is Outcome.ALREADY_GONE


def test_the_soft_deleted_key_vault_is_purged(azure: AzureCloudOps, mocker: MockerFixture) -> None:
    client = mocker.patch("azure.mgmt.keyvault.KeyVaultManagementClient")
    assert azure.purge_key_vault(TARGETS) is Outcome.DONE
    vaults = client.return_value.vaults
    assert vaults.mock_calls[:2] == [
        call.get_deleted("kv-dev-pr-1", "westeurope"),
        call.begin_purge_deleted("kv-dev-pr-1", "westeurope"),
    ]
    vaults.get_deleted.side_effect = ResourceNotFoundError("not soft-deleted")
    vaults.begin_purge_deleted.reset_mock()
    assert azure.purge_key_vault(TARGETS) is Outcome.ALREADY_GONE
    vaults.begin_purge_deleted.assert_not_called()


def test_an_unknown_vault_location_is_found_among_deleted_vaults(
    azure: AzureCloudOps, mocker: MockerFixture
) -> None:
    client = mocker.patch("azure.mgmt.keyvault.KeyVaultManagementClient")
    deleted = mocker.Mock()
    deleted.name = "kv-dev-pr-1"
    deleted.properties.location = "swedencentral"
    client.return_value.vaults.list_deleted.return_value = [deleted]
    no_location = StackTargets(subscription_id="sub-1", key_vault="kv-dev-pr-1")
    assert azure.purge_key_vault(no_location) is Outcome.DONE
    client.return_value.vaults.begin_purge_deleted.assert_called_once_with("kv-dev-pr-1", "swedencentral")

    client.return_value.vaults.list_deleted.return_value = []
    assert azure.purge_key_vault(no_location) is Outcome.ALREADY_GONE


def test_purge_protection_fails_the_step(azure: AzureCloudOps, mocker: MockerFixture) -> None:
    client = mocker.patch("azure.mgmt.keyvault.KeyVaultManagementClient")
    client.return_value.vaults.begin_purge_deleted.side_effect = http_error(
        400
    )  # purge protection: a bad request, not retried
    with pytest.raises(HttpResponseError):
        azure.purge_key_vault(TARGETS)
