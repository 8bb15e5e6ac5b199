"""WorkspaceCore: the resources every environment has.

Resource group, Log Analytics, Application Insights on it, Key Vault (RBAC, soft delete, purge
protection per environment), storage account, optional container registry, a user-assigned
managed identity with the roles the workspace needs, and the Azure ML workspace linked to them.

With ``isolation="managed"`` the workspace gets its managed virtual network (allow only approved
outbound) and none of the four (workspace, storage, Key Vault, registry) takes public traffic;
the private endpoints that replace it are PrivateNetwork's (``infra/components/network.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import (
    applicationinsights,
    authorization,
    containerregistry,
    keyvault,
    machinelearningservices,
    managedidentity,
    operationalinsights,
    resources,
    storage,
)

from infra.components import roles
from infra.components.propagation import wait_for_grants
from infra.naming import ResourceNames


@dataclass(frozen=True)
class WorkspaceCoreArgs:
    """Inputs of :class:`WorkspaceCore`."""

    names: ResourceNames
    location: str
    tags: Mapping[str, str]
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    public_network_access: str
    log_retention_days: int
    key_vault_purge_protection: bool
    key_vault_retention_days: int
    container_registry: bool
    container_registry_sku: str
    friendly_name: str
    # "managed": the workspace's managed virtual network (allow only approved outbound) and no
    # public network path to the workspace, storage, Key Vault or registry (PrivateNetwork adds
    # the private endpoints); "public": reachable from the internet (dev, qa).
    isolation: str = "public"
    # Managed isolation with training: the cluster that builds environment images (the
    # registry, being private, cannot build them) and so needs the package hosts below.
    image_build_compute: str | None = None
    storage_sku: str = "Standard_LRS"


# Learn, how-to-managed-network, "Scenario: Access public machine learning packages" (the
# recommended-network-outbound table): conda (the training environment's conda-forge channel is
# served from conda.anaconda.org) and PyPI (pip's downloads come from files.pythonhosted.org).
PACKAGE_HOSTS = ("anaconda.com", "*.anaconda.com", "*.anaconda.org", "pypi.org", "*.pythonhosted.org")


def managed_network(training: bool) -> machinelearningservices.ManagedNetworkSettingsArgs:
    """The workspace's managed virtual network: only approved outbound.

    Azure ML adds the required rules itself (the service tags it needs and private endpoints to
    the workspace, storage, Key Vault and registry "regardless of public network access mode",
    Learn, how-to-managed-network, "List of required rules"), so the prod stack, which serves from
    AKS and builds no environment, declares none. With training, the image build needs the
    package hosts: FQDN rules, which Azure ML implements with an Azure Firewall (billed; same page,
    "Pricing").
    """
    rules: dict[str, machinelearningservices.FqdnOutboundRuleArgs] = {}
    if training:
        for host in PACKAGE_HOSTS:
            key = "pkg-" + host.replace("*.", "any-").replace(".", "-")
            rules[key] = machinelearningservices.FqdnOutboundRuleArgs(
                type="FQDN", category="UserDefined", destination=host
            )
    return machinelearningservices.ManagedNetworkSettingsArgs(
        isolation_mode=machinelearningservices.IsolationMode.ALLOW_ONLY_APPROVED_OUTBOUND,
        outbound_rules=dict(rules) or None,
    )


def _storage_rules(private: bool) -> storage.NetworkRuleSetArgs | None:
    """Deny by default; trusted Azure services (Azure ML) pass (Learn, storage-network-security)."""
    if not private:
        return None
    return storage.NetworkRuleSetArgs(default_action=storage.DefaultAction.DENY, bypass="AzureServices")


def _vault_rules(private: bool) -> keyvault.NetworkRuleSetArgs | None:
    """Deny by default; trusted services pass (Learn, key-vault/general/overview-vnet-service-endpoints)."""
    if not private:
        return None
    return keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices")


class WorkspaceCore(pulumi.ComponentResource):
    """Azure ML workspace with its dependent resources and identity."""

    resource_group_name: pulumi.Output[str]
    workspace_name: pulumi.Output[str]
    workspace_id: pulumi.Output[str]
    mlflow_tracking_uri: pulumi.Output[str]
    log_analytics_workspace_id: pulumi.Output[str]
    app_insights_connection_string: pulumi.Output[str]
    key_vault_name: pulumi.Output[str]
    key_vault_uri: pulumi.Output[str]
    storage_account_name: pulumi.Output[str]
    storage_account_id: pulumi.Output[str]
    key_vault_id: pulumi.Output[str]
    registry_id: pulumi.Output[str] | None
    registry_name: pulumi.Output[str] | None
    registry_login_server: pulumi.Output[str] | None
    identity_id: pulumi.Output[str]
    identity_client_id: pulumi.Output[str]
    identity_principal_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: WorkspaceCoreArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("azure-mlops:infra:WorkspaceCore", name, None, opts)
        names = args.names
        child = pulumi.ResourceOptions(parent=self)
        managed = args.isolation == "managed"
        private = managed or args.public_network_access == "Disabled"
        tags = dict(args.tags)
        location = args.location

        rg = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=names.resource_group,
            location=location,
            tags=tags,
            opts=child,
        )

        law = operationalinsights.Workspace(
            f"{name}-log",
            workspace_name=names.log_analytics,
            resource_group_name=rg.name,
            location=location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )

        appi = applicationinsights.Component(
            f"{name}-appi",
            resource_name_=names.app_insights,
            resource_group_name=rg.name,
            location=location,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=law.id,
            tags=tags,
            opts=child,
        )

        vault = keyvault.Vault(
            f"{name}-kv",
            vault_name=names.key_vault,
            resource_group_name=rg.name,
            location=location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.key_vault_retention_days,
                # Azure accepts only true or "not set": purge protection cannot be switched off.
                enable_purge_protection=True if args.key_vault_purge_protection else None,
                public_network_access=args.public_network_access,
                network_acls=_vault_rules(private),
            ),
            tags=tags,
            opts=child,
        )

        account = storage.StorageAccount(
            f"{name}-st",
            account_name=names.storage_account,
            resource_group_name=rg.name,
            location=location,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=args.storage_sku),
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            public_network_access=args.public_network_access,
            network_rule_set=_storage_rules(private),
            tags=tags,
            opts=child,
        )

        registry: containerregistry.Registry | None = None
        if args.container_registry:
            registry = containerregistry.Registry(
                f"{name}-cr",
                registry_name=names.container_registry,
                resource_group_name=rg.name,
                location=location,
                sku=containerregistry.SkuArgs(name=args.container_registry_sku),
                admin_user_enabled=False,
                anonymous_pull_enabled=False,
                public_network_access=args.public_network_access,
                # trusted Azure services (Azure ML among them) still reach a private registry
                # (Learn, container-registry/allow-access-trusted-services)
                network_rule_bypass_options="AzureServices" if private else None,
                tags=tags,
                opts=child,
            )

        identity = managedidentity.UserAssignedIdentity(
            f"{name}-id",
            resource_name_=names.identity,
            resource_group_name=rg.name,
            location=location,
            tags=tags,
            opts=child,
        )

        # What the workspace identity needs (Azure ML "user-assigned identity" requirements):
        # control plane on the resource group, data plane on storage and Key Vault, push to ACR.
        grants: list[tuple[str, str, pulumi.Input[str]]] = [
            ("rg-contributor", roles.CONTRIBUTOR, rg.id),
            ("st-blob-contributor", roles.STORAGE_BLOB_DATA_CONTRIBUTOR, account.id),
            ("kv-administrator", roles.KEY_VAULT_ADMINISTRATOR, vault.id),
        ]
        if registry is not None:
            grants.append(("cr-push", roles.ACR_PUSH, registry.id))
        if managed:
            # "If you are using UAI workspace please make sure to add the Azure AI Enterprise
            # Network Connection Approver role to your identity" (Learn, how-to-managed-network):
            # it approves the managed network's private endpoints to storage, vault, registry.
            grants.append(("rg-network-approver", roles.AI_NETWORK_CONNECTION_APPROVER, rg.id))
        assignments = {
            suffix: authorization.RoleAssignment(
                f"{name}-id-{suffix}",
                principal_id=identity.principal_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=roles.role_definition_id(args.subscription_id, role),
                scope=scope,
                opts=child,
            )
            for suffix, role, scope in grants
        }
        # Azure ML checks the identity's access to storage, Key Vault and the registry when it
        # creates the workspace: wait until the new assignments take effect.
        settled = wait_for_grants(f"{name}-id-wait", assignments, self)

        workspace = machinelearningservices.Workspace(
            f"{name}-mlw",
            workspace_name=names.workspace,
            resource_group_name=rg.name,
            location=location,
            friendly_name=args.friendly_name,
            kind="Default",
            sku=machinelearningservices.SkuArgs(name="Basic", tier=machinelearningservices.SkuTier.BASIC),
            identity=machinelearningservices.ManagedServiceIdentityArgs(
                type=machinelearningservices.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            primary_user_assigned_identity=identity.id,
            v1_legacy_mode=False,
            hbi_workspace=False,
            storage_account=account.id,
            key_vault=vault.id,
            application_insights=appi.id,
            container_registry=registry.id if registry is not None else None,
            public_network_access=args.public_network_access,
            managed_network=managed_network(args.image_build_compute is not None) if managed else None,
            image_build_compute=args.image_build_compute if managed else None,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*assignments.values(), settled]),
        )

        self.resource_group_name = rg.name
        self.workspace_name = workspace.name
        self.workspace_id = workspace.id
        self.mlflow_tracking_uri = workspace.ml_flow_tracking_uri
        self.log_analytics_workspace_id = law.id
        self.app_insights_connection_string = pulumi.Output.secret(appi.connection_string)
        self.key_vault_name = vault.name
        self.key_vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.storage_account_name = account.name
        self.storage_account_id = account.id
        self.key_vault_id = vault.id
        self.registry_id = registry.id if registry is not None else None
        self.registry_name = registry.name if registry is not None else None
        self.registry_login_server = registry.login_server if registry is not None else None
        self.identity_id = identity.id
        self.identity_client_id = identity.client_id
        self.identity_principal_id = identity.principal_id

        self.register_outputs(
            {
                "resourceGroupName": self.resource_group_name,
                "workspaceName": self.workspace_name,
                "workspaceId": self.workspace_id,
                "appInsightsConnectionString": self.app_insights_connection_string,
                "keyVaultUri": self.key_vault_uri,
                "registryId": self.registry_id,
                "registryLoginServer": self.registry_login_server,
                "identityId": self.identity_id,
                "identityClientId": self.identity_client_id,
                "identityPrincipalId": self.identity_principal_id,
            }
        )
