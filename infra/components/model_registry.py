"""ModelRegistry: the Azure ML registry the stacks share models through (optional).

Learn's way to move models between workspaces with their lineage is a registry
(how-to-share-models-pipelines-across-workspaces-with-registries). One stack creates it
(``modelRegistry.create: true``); every stack that names it grants its workspace identity
"AzureML Registry User" on it, when it knows the registry's resource group.

The registry's body follows Learn's REST example (how-to-manage-registries, "Create a registry",
api-version 2024-04-01): a system-assigned identity, the primary location, and one region entry
for it with a system-created Standard_LRS storage account and a Premium container registry
("Currently only Premium is a valid option for registries": azure-ai-ml's registry entity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native import machinelearningservices as ml

from infra.components import roles


@dataclass(frozen=True)
class ModelRegistryArgs:
    """Inputs of :class:`ModelRegistry`."""

    registry_name: str
    create: bool
    location: str
    tags: Mapping[str, str]
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str] | None  # where it is; None: unknown (no grant)
    workspace_principal_id: pulumi.Input[str]


class ModelRegistry(pulumi.ComponentResource):
    """An Azure ML registry (created here or referenced by name) and the workspace's access."""

    registry_name: pulumi.Output[str]
    registry_id: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: ModelRegistryArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("azure-mlops:infra:ModelRegistry", name, None, opts)
        if args.create:
            if args.resource_group_name is None:
                raise ValueError("a registry this stack creates needs its resource group")
            registry = self._create_registry(name, args, args.resource_group_name)
            self.registry_name = registry.name
            self.registry_id = registry.id
        else:
            self.registry_name = pulumi.Output.from_input(args.registry_name)
            self.registry_id = (
                None
                if args.resource_group_name is None
                else pulumi.Output.concat(
                    "/subscriptions/",
                    args.subscription_id,
                    "/resourceGroups/",
                    args.resource_group_name,
                    "/providers/Microsoft.MachineLearningServices/registries/",
                    args.registry_name,
                )
            )
        if self.registry_id is not None:
            authorization.RoleAssignment(
                f"{name}-ws-user",
                principal_id=args.workspace_principal_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=roles.role_definition_id(
                    args.subscription_id, roles.AZUREML_REGISTRY_USER
                ),
                scope=self.registry_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"registryName": self.registry_name})

    def _create_registry(
        self, name: str, args: ModelRegistryArgs, resource_group_name: pulumi.Input[str]
    ) -> ml.Registry:
        return ml.Registry(
            f"{name}-mlreg",
            registry_name=args.registry_name,
            resource_group_name=resource_group_name,
            location=args.location,
            identity=ml.ManagedServiceIdentityArgs(type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            region_details=[
                ml.RegistryRegionArmDetailsArgs(
                    location=args.location,
                    storage_account_details=[
                        ml.StorageAccountDetailsArgs(
                            system_created_storage_account=ml.SystemCreatedStorageAccountArgs(
                                storage_account_type="Standard_LRS"
                            )
                        )
                    ],
                    acr_details=[
                        ml.AcrDetailsArgs(
                            system_created_acr_account=ml.SystemCreatedAcrAccountArgs(
                                acr_account_sku="Premium"
                            )
                        )
                    ],
                )
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
