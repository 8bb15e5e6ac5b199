"""The optional Azure Databricks workspace: dev only, secure cluster connectivity, named managed group."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError
from infra.offline import OfflineRun, run_stack
from pipelines.stack_outputs import StackOutputs
from policy.check import check_resources, load_pack_config
from tests.infra.offline_stacks import to_check

WORKSPACE = "azure-native:databricks:Workspace"


def test_off_by_default(runs: dict[str, OfflineRun]) -> None:
    for run in runs.values():
        assert not run.of_type(WORKSPACE)
        assert "databricksWorkspaceUrl" not in run.outputs and "databricksWorkspaceId" not in run.outputs


def test_dev_declares_it_with_no_public_ip_a_named_managed_group_and_the_tags(
    databricks_run: OfflineRun,
) -> None:
    workspace = databricks_run.one(WORKSPACE).plain_inputs
    assert workspace["workspaceName"] == "dbw-mlops-dev"
    assert workspace["parameters"] == {"enableNoPublicIp": {"value": True}}
    assert workspace["managedResourceGroupId"].endswith("/resourceGroups/rg-mlops-dev-dbw-managed")
    assert (workspace["computeMode"], workspace["sku"]) == ("Hybrid", {"name": "premium"})
    assert workspace["tags"]["environment"] == "dev" and workspace["tags"]["managed-by"] == "pulumi"
    assert check_resources(to_check(databricks_run), load_pack_config("dev")) == []


def test_its_outputs_are_in_the_stack_outputs_contract(databricks_run: OfflineRun) -> None:
    outputs = StackOutputs.model_validate({k: v.value for k, v in databricks_run.outputs.items()})
    assert outputs.databricks_workspace_url == "https://adb-1234567890123456.7.azuredatabricks.net"
    assert outputs.databricks_workspace_id is not None
    assert outputs.databricks_workspace_id.endswith(
        "/providers/Microsoft.Databricks/workspaces/dbw-mlops-dev"
    )


def test_the_managed_group_name_can_be_set() -> None:
    run = run_stack(
        "dev", overrides={"azure-mlops:databricks": {"enabled": True, "managedResourceGroupName": "rg-x"}}
    )
    assert run.one(WORKSPACE).plain_inputs["managedResourceGroupId"].endswith("/resourceGroups/rg-x")


@pytest.mark.parametrize(
    ("stack", "value", "fragment"),
    [
        (
            "qa",
            {"enabled": True},
            "databricks.enabled: true is not allowed in the qa environment (allowed: false)",
        ),
        ("prod", {"enabled": True}, "databricks.enabled: true is not allowed in the prod environment"),
        ("dev", {"enabled": True, "sku": "trial"}, "databricks.sku"),
        (
            "dev",
            {"enabled": True, "managedResourceGroupName": "bad name!"},
            "databricks.managedResourceGroupName",
        ),
        ("dev", {"enabled": True, "noPublicIp": False}, "databricks.noPublicIp"),
    ],
)
def test_bad_settings_name_the_key(stack: str, value: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        run_stack(stack, overrides={"azure-mlops:databricks": value})
    assert fragment in str(err.value)
