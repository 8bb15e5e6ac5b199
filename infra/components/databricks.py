"""DatabricksWorkspace: an Azure Databricks workspace for training jobs (dev, optional).

`mlops train --env dev --compute databricks` runs the pipeline steps as a job there; runs and
models land in the Azure ML workspace (docs/databricks.md). The workspace:

* classic compute (``computeMode: Hybrid``, required on create by the 2026-01-01 API that
  pulumi-azure-native 3.x uses: its ``ComputeMode`` enum, "Required on create, cannot be
  changed"), so the job's clusters run in a managed resource group this stack names;
* secure cluster connectivity: no public IP on cluster nodes (``parameters.enableNoPublicIp``;
  Learn, azure/databricks/security/network/classic/secure-cluster-connectivity: "set
  enableNoPublicIp to true");
* the premium SKU by default (Unity Catalog, whose volume the job reads and writes, needs it);
* the stack's tags (Azure Databricks copies them to the managed resource group's resources).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import databricks


@dataclass(frozen=True)
class DatabricksWorkspaceArgs:
    """Inputs of :class:`DatabricksWorkspace`."""

    workspace_name: str
    managed_resource_group_name: str
    sku: str
    location: str
    tags: Mapping[str, str]
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]


class DatabricksWorkspace(pulumi.ComponentResource):
    """The workspace; its URL (``https://adb-...azuredatabricks.net``) and ARM id."""

    workspace_url: pulumi.Output[str]
    workspace_resource_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: DatabricksWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("azure-mlops:infra:DatabricksWorkspace", name, None, opts)
        workspace = self._create_workspace(name, args)
        self.workspace_url = pulumi.Output.concat("https://", workspace.workspace_url)
        self.workspace_resource_id = workspace.id
        self.register_outputs({"workspaceUrl": self.workspace_url, "workspaceResourceId": workspace.id})

    def _create_workspace(self, name: str, args: DatabricksWorkspaceArgs) -> databricks.Workspace:
        managed_rg = pulumi.Output.concat(
            "/subscriptions/", args.subscription_id, "/resourceGroups/", args.managed_resource_group_name
        )
        return databricks.Workspace(
            f"{name}-dbw",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=databricks.SkuArgs(name=args.sku),
            compute_mode=databricks.ComputeMode.HYBRID,
            managed_resource_group_id=managed_rg,
            parameters=databricks.WorkspaceCustomParametersArgs(
                enable_no_public_ip=databricks.WorkspaceNoPublicIPBooleanParameterArgs(value=True),
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
