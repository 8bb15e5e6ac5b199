"""The Pulumi program: typed settings -> components -> stack outputs.

Which components a stack gets depends on its environment:

- ``dev`` and ``dev-<id>``: WorkspaceCore + TrainingCompute (+ optional ACI);
- ``qa``: WorkspaceCore + ContainerInstanceServing (+ optional TrainingCompute);
- ``prod``: WorkspaceCore + KubernetesServing (AKS, Azure ML extension, Kubernetes compute);
- ``qa`` and ``prod`` also get a batch scoring cluster (a second TrainingCompute, ``batchCompute``).

The stack outputs are the contract with ``pipelines/`` (``pipelines.stack_outputs.StackOutputs``).
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

from infra.components.aci import ContainerInstanceServing, ContainerInstanceServingArgs, ContainerInstanceTls
from infra.components.aks import KubernetesServing, KubernetesServingArgs
from infra.components.compute import TrainingCompute, TrainingComputeArgs
from infra.components.core import WorkspaceCore, WorkspaceCoreArgs
from infra.components.databricks import DatabricksWorkspace, DatabricksWorkspaceArgs
from infra.components.model_registry import ModelRegistry, ModelRegistryArgs
from infra.components.network import PrivateNetwork, PrivateNetworkArgs
from infra.config import PROJECT, BatchComputeSettings, ComputeSettings, Settings, load_settings
from infra.naming import ResourceNames
from infra.tags import standard_tags


def _secret_or_none(value: object) -> pulumi.Output[str] | None:
    from pydantic import SecretStr

    if isinstance(value, SecretStr):
        return pulumi.Output.secret(value.get_secret_value())
    return None


def _private_network(
    settings: Settings, names: ResourceNames, tags: dict[str, str], core: WorkspaceCore
) -> PrivateNetwork | None:
    """With managed isolation: the virtual network, private endpoints and DNS (else None)."""
    if settings.isolation != "managed":
        return None
    return PrivateNetwork(
        "network",
        PrivateNetworkArgs(
            network_name=f"vnet-{settings.name_prefix}-{settings.stack}",
            location=settings.location,
            tags=tags,
            resource_group_name=core.resource_group_name,
            address_space=settings.network.address_space,
            workspace_id=core.workspace_id,
            storage_account_id=core.storage_account_id,
            key_vault_id=core.key_vault_id,
            registry_id=core.registry_id,
        ),
    )


def _aci_tls(settings: Settings) -> ContainerInstanceTls | None:
    """The container group's HTTPS settings (required in qa, by Settings), or None (dev: HTTP)."""
    cname = settings.container_instance.ssl_cname
    cert, key = _secret_or_none(settings.aci_ssl_cert_pem), _secret_or_none(settings.aci_ssl_key_pem)
    if cname is None or cert is None or key is None:
        return None
    return ContainerInstanceTls(
        cname=cname, cert_pem=cert, key_pem=key, proxy_image=settings.container_instance.tls_proxy_image
    )


def build(settings: Settings) -> dict[str, pulumi.Input[object]]:
    """Declare the stack's resources; return its outputs (name -> value)."""
    names = ResourceNames.for_stack(settings.name_prefix, settings.environment, settings.stack)
    tags = standard_tags(settings)
    client = authorization.get_client_config_output()
    subscription_id = client.subscription_id
    tenant_id = client.tenant_id

    core = WorkspaceCore(
        "core",
        WorkspaceCoreArgs(
            names=names,
            location=settings.location,
            tags=tags,
            tenant_id=tenant_id,
            subscription_id=subscription_id,
            public_network_access=settings.effective_public_network_access,
            log_retention_days=settings.log_retention_days,
            key_vault_purge_protection=settings.key_vault.purge_protection,
            key_vault_retention_days=settings.key_vault.soft_delete_retention_days,
            container_registry=settings.container_registry.enabled,
            container_registry_sku=settings.container_registry.sku,
            friendly_name=f"{PROJECT} {settings.stack}",
            isolation=settings.isolation,
            storage_sku=settings.storage_sku,
            image_build_compute=names.training_cluster if settings.compute_enabled else None,
        ),
    )
    private = _private_network(settings, names, tags, core)

    outputs: dict[str, pulumi.Input[object]] = {
        "subscriptionId": subscription_id,
        "tenantId": tenant_id,
        "location": settings.location,
        "environment": settings.environment,
        "stack": settings.stack,
        "shortLived": settings.short_lived,
        "expiresAt": settings.expires_at or "",
        "resourceGroupName": core.resource_group_name,
        "workspaceName": core.workspace_name,
        "workspaceId": core.workspace_id,
        "mlflowTrackingUri": core.mlflow_tracking_uri,
        "keyVaultName": core.key_vault_name,
        "keyVaultUri": core.key_vault_uri,
        "storageAccountName": core.storage_account_name,
        "logAnalyticsWorkspaceId": core.log_analytics_workspace_id,
        "appInsightsConnectionString": core.app_insights_connection_string,
        "identityId": core.identity_id,
        "identityClientId": core.identity_client_id,
        "identityPrincipalId": core.identity_principal_id,
    }
    if core.registry_login_server is not None and core.registry_name is not None:
        assert core.registry_id is not None
        outputs["registryName"] = core.registry_name
        outputs["registryLoginServer"] = core.registry_login_server
        # `az acr import --registry <id>` names the source registry by resource id (docs/infra.md)
        outputs["registryId"] = core.registry_id

    model_registry = settings.model_registry
    if model_registry.name is not None:
        shared = ModelRegistry(
            "models",
            ModelRegistryArgs(
                registry_name=model_registry.name,
                create=model_registry.create,
                location=settings.location,
                tags=tags,
                subscription_id=subscription_id,
                resource_group_name=(
                    core.resource_group_name if model_registry.create else model_registry.resource_group_name
                ),
                workspace_principal_id=core.identity_principal_id,
            ),
        )
        outputs["modelRegistryName"] = shared.registry_name

    def cluster(
        name: str, cluster_name: str, compute: ComputeSettings | BatchComputeSettings, **more: str
    ) -> TrainingCompute:
        return TrainingCompute(
            name,
            TrainingComputeArgs(
                cluster_name=cluster_name,
                location=settings.location,
                tags=tags,
                resource_group_name=core.resource_group_name,
                workspace_name=core.workspace_name,
                identity_id=core.identity_id,
                vm_size=compute.vm_size,
                min_nodes=compute.min_nodes,
                max_nodes=compute.max_nodes,
                low_priority=compute.low_priority,
                idle_seconds_before_scale_down=compute.idle_seconds_before_scale_down,
                node_public_ip=settings.isolation != "managed",
                **more,
            ),
        )

    if settings.compute_enabled:
        outputs["computeClusterName"] = cluster(
            "training", names.training_cluster, settings.compute
        ).cluster_name

    if settings.batch_compute_enabled:
        batch = cluster(
            "batch",
            names.batch_cluster,
            settings.batch_compute,
            description="Batch scoring cluster: `mlops score-batch` parallel jobs (scales to zero).",
        )
        outputs["batchComputeName"] = batch.cluster_name

    if settings.databricks.enabled:
        prefix, stack = settings.name_prefix, settings.stack
        dbw = DatabricksWorkspace(
            "databricks",
            DatabricksWorkspaceArgs(
                workspace_name=f"dbw-{prefix}-{stack}",
                managed_resource_group_name=settings.databricks.managed_resource_group_name
                or f"rg-{prefix}-{stack}-dbw-managed",
                sku=settings.databricks.sku,
                location=settings.location,
                tags=tags,
                subscription_id=subscription_id,
                resource_group_name=core.resource_group_name,
            ),
        )
        outputs["databricksWorkspaceUrl"] = dbw.workspace_url
        outputs["databricksWorkspaceId"] = dbw.workspace_resource_id

    if settings.container_instance_enabled:
        assert core.registry_id is not None and core.registry_login_server is not None
        aci = ContainerInstanceServing(
            "scoring",
            ContainerInstanceServingArgs(
                container_group_name=names.container_group,
                identity_name=names.scoring_identity,
                dns_label=names.dns_label,
                location=settings.location,
                tags=tags,
                subscription_id=subscription_id,
                resource_group_name=core.resource_group_name,
                registry_id=core.registry_id,
                registry_login_server=core.registry_login_server,
                image=settings.scoring_image,
                model_version=settings.model_version,
                app_insights_connection_string=core.app_insights_connection_string,
                api_key=_secret_or_none(settings.scoring_api_key),
                cpu=settings.container_instance.cpu,
                memory_gb=settings.container_instance.memory_gb,
                tls=_aci_tls(settings),
            ),
        )
        outputs["containerGroupName"] = aci.container_group_name
        # With TLS: the certificate's name (https://<scoringFqdn>/score), and the group's own
        # azurecontainer.io name, which that name's CNAME record points at.
        outputs["scoringFqdn"] = aci.fqdn
        outputs["scoringUri"] = aci.scoring_uri
        outputs["containerGroupFqdn"] = aci.group_fqdn
        outputs["scoringIdentityId"] = aci.identity_id
        outputs["scoringIdentityClientId"] = aci.identity_client_id
        # What the container serves: carried into the settings before the next `pulumi up`
        # (`mlops infra carry-serving`), so an infrastructure change keeps the deployed image.
        outputs["scoringImage"] = aci.image
        outputs["scoringModelVersion"] = aci.model_version

    if settings.aks_enabled:
        assert core.registry_id is not None
        assert settings.aks.ssl_cname is not None  # required by Settings when AKS is on
        aks = KubernetesServing(
            "serving",
            KubernetesServingArgs(
                cluster_name=names.aks_cluster,
                dns_prefix=names.aks_dns_prefix,
                node_resource_group=names.aks_node_resource_group,
                node_pool_name=names.aks_node_pool,
                kubernetes_compute_name=names.kubernetes_compute,
                extension_name=names.ml_extension,
                location=settings.location,
                tags=tags,
                tenant_id=tenant_id,
                subscription_id=subscription_id,
                resource_group_name=core.resource_group_name,
                workspace_name=core.workspace_name,
                workspace_id=core.workspace_id,
                workspace_identity_id=core.identity_id,
                workspace_identity_principal_id=core.identity_principal_id,
                trusted_access_binding_name=names.trusted_access_binding,
                registry_id=core.registry_id,
                log_analytics_workspace_id=core.log_analytics_workspace_id,
                kubernetes_version=settings.aks.kubernetes_version,
                tier=settings.aks.tier,
                node_count=settings.aks.node_count,
                min_nodes=settings.aks.min_nodes,
                max_nodes=settings.aks.max_nodes,
                vm_size=settings.aks.vm_size,
                upgrade_channel=settings.aks.upgrade_channel,
                node_os_upgrade_channel=settings.aks.node_os_upgrade_channel,
                admin_group_object_ids=settings.aks.admin_group_object_ids,
                vnet_subnet_id=private.aks_subnet_id if private is not None else None,
                os_disk_type=settings.aks.os_disk_type,
                os_disk_size_gb=settings.aks.os_disk_size_gb,
                encryption_at_host=settings.aks.encryption_at_host,
                api_server_authorized_ip_ranges=settings.aks.api_server_authorized_ip_ranges,
                router_ha=settings.aks.router_ha,
                ssl_cname=settings.aks.ssl_cname,
                ssl_secret=settings.aks.ssl_secret,
                ssl_cert_pem=_secret_or_none(settings.aks_ssl_cert_pem),
                ssl_key_pem=_secret_or_none(settings.aks_ssl_key_pem),
            ),
        )
        outputs["aksClusterName"] = aks.cluster_name
        outputs["kubernetesComputeName"] = aks.kubernetes_compute_name
        # The host clients call: https://<scoringFqdn>/api/v1/endpoint/<endpoint>/score (the TLS
        # certificate's name; its DNS record points at the azureml-fe load balancer).
        outputs["scoringFqdn"] = aks.scoring_fqdn
    return outputs


def main() -> None:
    """Program entry point: validate settings, declare resources, export outputs."""
    settings = load_settings()
    for name, value in build(settings).items():
        pulumi.export(name, value)
