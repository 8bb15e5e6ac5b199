"""KubernetesServing: the prod scoring target.

An AKS cluster (local accounts off, Entra ID with Azure RBAC, network policy, automatic upgrade
channels, managed identity, an autoscaling system pool), the Azure ML Kubernetes extension with
inference enabled and HTTPS only, and the cluster attached to the workspace as Kubernetes compute,
where the pipelines create Kubernetes online endpoints with blue/green deployments.

Local accounts stay off. Azure ML reaches such a cluster through AKS Trusted Access: a role binding
``Microsoft.MachineLearningServices/workspaces/mlworkload`` for the workspace, which must exist
before the compute is attached ("compute targets created before AzureML role binding was created
... will not work", Azure/AML-Kubernetes@b533ee43ba7c8641c61c8b03ae4c674b0f711451:
docs/azureml-aks-ta-support.md; AzureCloud only). The workspace's user-assigned identity gets the
roles Learn lists for attaching with such an identity (how-to-attach-kubernetes-to-workspace:
Reader, Kubernetes Extension Contributor, Azure Kubernetes Service Cluster Admin Role, and
Contributor for a cluster that uses Trusted Access), and the attach waits for all of it to take
effect (``propagation``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import (
    authorization,
    containerservice,
    kubernetesconfiguration,
)
from pulumi_azure_native import machinelearningservices as ml

from infra.components import aml_extension, roles
from infra.components.propagation import wait_for_grants

# What the workspace identity needs on the cluster to attach it (Learn,
# how-to-attach-kubernetes-to-workspace, "Attach to workspace with user-assigned managed identity").
ATTACH_ROLES = {
    "reader": roles.READER,
    "extension-contributor": roles.KUBERNETES_EXTENSION_CONTRIBUTOR,
    "cluster-admin": roles.AKS_CLUSTER_ADMIN,
    "contributor": roles.CONTRIBUTOR,  # "Required only for AKS clusters that use Trusted Access"
}


@dataclass(frozen=True)
class KubernetesServingArgs:
    """Inputs of :class:`KubernetesServing`."""

    cluster_name: str
    dns_prefix: str
    node_resource_group: str
    node_pool_name: str
    kubernetes_compute_name: str
    extension_name: str
    location: str
    tags: Mapping[str, str]
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    workspace_name: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    workspace_identity_id: pulumi.Input[str]
    workspace_identity_principal_id: pulumi.Input[str]
    trusted_access_binding_name: str
    registry_id: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]
    kubernetes_version: str | None
    tier: str
    node_count: int
    min_nodes: int
    max_nodes: int
    vm_size: str
    upgrade_channel: str
    node_os_upgrade_channel: str
    admin_group_object_ids: Sequence[str]
    router_ha: bool
    ssl_cname: str
    ssl_secret: str | None = None  # a Kubernetes secret in azureml, or the two PEM secrets below
    ssl_cert_pem: pulumi.Input[str] | None = None
    ssl_key_pem: pulumi.Input[str] | None = None
    # managed isolation: the nodes join this subnet of the private network, where the
    # workspace's, storage's and registry's private endpoints are
    vnet_subnet_id: pulumi.Input[str] | None = None
    os_disk_type: str = "Ephemeral"
    os_disk_size_gb: int = 128
    encryption_at_host: bool = True
    api_server_authorized_ip_ranges: Sequence[str] = ()


class KubernetesServing(pulumi.ComponentResource):
    """AKS + Azure ML extension + Kubernetes compute in the workspace."""

    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    kubernetes_compute_name: pulumi.Output[str]
    kubelet_object_id: pulumi.Output[str]
    scoring_fqdn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: KubernetesServingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("azure-mlops:infra:KubernetesServing", name, None, opts)
        tags = dict(args.tags)

        cluster = containerservice.ManagedCluster(
            f"{name}-aks",
            resource_name_=args.cluster_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dns_prefix=args.dns_prefix,
            node_resource_group=args.node_resource_group,
            kubernetes_version=args.kubernetes_version,
            sku=containerservice.ManagedClusterSKUArgs(name="Base", tier=args.tier),
            identity=containerservice.ManagedClusterIdentityArgs(
                type=containerservice.ResourceIdentityType.SYSTEM_ASSIGNED
            ),
            disable_local_accounts=True,
            enable_rbac=True,
            aad_profile=containerservice.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                tenant_id=args.tenant_id,
                admin_group_object_ids=list(args.admin_group_object_ids) or None,
            ),
            network_profile=containerservice.ContainerServiceNetworkProfileArgs(
                network_plugin=containerservice.NetworkPlugin.AZURE,
                network_plugin_mode=containerservice.NetworkPluginMode.OVERLAY,
                network_dataplane=containerservice.NetworkDataplane.CILIUM,
                network_policy=containerservice.NetworkPolicy.CILIUM,
                load_balancer_sku=containerservice.LoadBalancerSku.STANDARD,
            ),
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=args.upgrade_channel,
                node_os_upgrade_channel=args.node_os_upgrade_channel,
            ),
            # Learn, aks/api-server-authorized-ip-ranges; Azure ML comes in through Trusted Access,
            # which "supports ... AKS cluster with authorized IP range" (TA doc), so its control
            # plane ranges need not be listed (Learn ext Limitations asks for them without TA)
            api_server_access_profile=(
                containerservice.ManagedClusterAPIServerAccessProfileArgs(
                    authorized_ip_ranges=list(args.api_server_authorized_ip_ranges)
                )
                if args.api_server_authorized_ip_ranges
                else None
            ),
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                    enabled=True
                )
            ),
            addon_profiles={
                "omsagent": containerservice.ManagedClusterAddonProfileArgs(
                    enabled=True,
                    config={
                        "logAnalyticsWorkspaceResourceID": args.log_analytics_workspace_id,
                        "useAADAuth": "true",
                    },
                )
            },
            agent_pool_profiles=[
                containerservice.ManagedClusterAgentPoolProfileArgs(
                    name=args.node_pool_name,
                    mode=containerservice.AgentPoolMode.SYSTEM,
                    type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
                    os_type=containerservice.OSType.LINUX,
                    os_sku=containerservice.OSSKU.AZURE_LINUX,
                    vm_size=args.vm_size,
                    count=args.node_count,
                    enable_auto_scaling=True,
                    min_count=args.min_nodes,
                    max_count=args.max_nodes,
                    vnet_subnet_id=args.vnet_subnet_id,
                    # Learn, aks/concepts-storage "Ephemeral OS disk": on the VM's cache or temp
                    # disk, which must hold osDiskSizeGB (config.LOCAL_DISK_GIB checks it)
                    os_disk_type=args.os_disk_type,
                    os_disk_size_gb=args.os_disk_size_gb,
                    # Learn, aks/enable-host-encryption: temp disks, OS/data disk caches encrypted
                    # at rest on the host (needs the Microsoft.Compute/EncryptionAtHost feature;
                    # `mlops preflight` checks it)
                    enable_encryption_at_host=args.encryption_at_host,
                    tags=tags,
                )
            ],
            tags=tags,
            # The autoscaler owns the node count after creation.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["agentPoolProfiles[0].count"]),
        )

        kubelet_object_id = cluster.identity_profile.apply(
            lambda profile: (profile or {})["kubeletidentity"].object_id or ""
        )
        grants = self._create_grants(name, args, cluster, kubelet_object_id)
        binding = containerservice.TrustedAccessRoleBinding(
            f"{name}-aml-trusted-access",
            trusted_access_role_binding_name=args.trusted_access_binding_name,
            resource_group_name=args.resource_group_name,
            resource_name_=args.cluster_name,
            roles=[roles.MLWORKLOAD_TRUSTED_ACCESS_ROLE],
            source_resource_id=args.workspace_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]),
        )
        extension = self._create_extension(name, args, cluster)
        settled = wait_for_grants(f"{name}-attach-wait", {**grants, "trusted-access": binding}, self)

        compute = ml.Compute(
            f"{name}-compute",
            compute_name=args.kubernetes_compute_name,
            resource_group_name=args.resource_group_name,
            workspace_name=args.workspace_name,
            location=args.location,
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[args.workspace_identity_id],
            ),
            properties=ml.KubernetesArgs(
                compute_type="Kubernetes",
                resource_id=cluster.id,
                description="AKS inference cluster (Kubernetes online endpoints).",
                properties=ml.KubernetesPropertiesArgs(namespace="default"),
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[extension, binding, settled]),
        )

        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.kubernetes_compute_name = compute.name
        self.kubelet_object_id = kubelet_object_id
        self.scoring_fqdn = pulumi.Output.from_input(args.ssl_cname)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterId": self.cluster_id,
                "kubernetesComputeName": self.kubernetes_compute_name,
                "scoringFqdn": self.scoring_fqdn,
            }
        )

    def _create_grants(
        self,
        name: str,
        args: KubernetesServingArgs,
        cluster: containerservice.ManagedCluster,
        kubelet_object_id: pulumi.Output[str],
    ) -> dict[str, authorization.RoleAssignment]:
        """AcrPull for the kubelet; the attach roles for the workspace identity on the cluster."""
        child = pulumi.ResourceOptions(parent=self)
        grants = {
            "kubelet-acr-pull": authorization.RoleAssignment(
                f"{name}-kubelet-acr-pull",
                principal_id=kubelet_object_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=roles.role_definition_id(args.subscription_id, roles.ACR_PULL),
                scope=args.registry_id,
                opts=child,
            )
        }
        if args.vnet_subnet_id is not None:
            # The cluster identity joins load balancers and NICs to a subnet of your own network:
            # Network Contributor on it, as `az aks create --vnet-subnet-id` grants (Learn,
            # aks/aks-service-permissions, "AKS cluster identity permissions", custom VNet)
            grants["cluster-subnet"] = authorization.RoleAssignment(
                f"{name}-cluster-subnet",
                principal_id=cluster.identity.apply(lambda i: (i.principal_id if i else None) or ""),
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=roles.role_definition_id(args.subscription_id, roles.NETWORK_CONTRIBUTOR),
                scope=args.vnet_subnet_id,
                opts=child,
            )
        for suffix, role in ATTACH_ROLES.items():
            grants[f"ws-{suffix}"] = authorization.RoleAssignment(
                f"{name}-ws-{suffix}",
                principal_id=args.workspace_identity_principal_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=roles.role_definition_id(args.subscription_id, role),
                scope=cluster.id,
                opts=child,
            )
        return grants

    def _create_extension(
        self, name: str, args: KubernetesServingArgs, cluster: containerservice.ManagedCluster
    ) -> kubernetesconfiguration.Extension:
        """The Azure ML extension, with the settings Microsoft's installers send, HTTPS only."""
        settings = aml_extension.configuration_settings(
            cluster_id=cluster.id,
            cluster_name=args.cluster_name,
            location=args.location,
            router_ha=args.router_ha,
            ssl_cname=args.ssl_cname,
            ssl_secret=args.ssl_secret,
        )
        protected: dict[str, pulumi.Input[str]] | None = None
        if args.ssl_secret is None:
            if args.ssl_cert_pem is None or args.ssl_key_pem is None:
                raise ValueError("TLS needs ssl_secret or both ssl_cert_pem and ssl_key_pem")
            protected = aml_extension.protected_settings(args.ssl_cert_pem, args.ssl_key_pem)
        return kubernetesconfiguration.Extension(
            f"{name}-azureml",
            extension_name=args.extension_name,
            extension_type=aml_extension.EXTENSION_TYPE,
            cluster_name=cluster.name,
            cluster_resource_name="managedClusters",
            cluster_rp="Microsoft.ContainerService",
            resource_group_name=args.resource_group_name,
            auto_upgrade_minor_version=True,
            release_train=aml_extension.RELEASE_TRAIN,
            identity=kubernetesconfiguration.IdentityArgs(
                type=kubernetesconfiguration.ResourceIdentityType.SYSTEM_ASSIGNED
            ),
            scope=kubernetesconfiguration.ScopeArgs(
                cluster=kubernetesconfiguration.ScopeClusterArgs(
                    release_namespace=aml_extension.RELEASE_NAMESPACE
                )
            ),
            configuration_settings=settings,
            configuration_protected_settings=protected,
            opts=pulumi.ResourceOptions(parent=self),
        )
