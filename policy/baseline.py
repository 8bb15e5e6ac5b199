"""The security baseline, as Pulumi CrossGuard resource policies.

The policy objects are importable on their own (constructing a ``PolicyPack`` starts a gRPC
server and blocks; ``policy/__main__.py`` does that only when the Pulumi CLI runs the pack).
Properties are checked by their engine (camelCase) names, as the analyzer receives them.

Relaxations are explicit, per policy, through the pack config (``policy/config/dev.json``), and
only ever apply to resources tagged ``environment: dev``; prod and qa run with no config, i.e.
the strict defaults below. One exception is written into the policies themselves: qa's public
network access (``PUBLIC_BY_DESIGN``, with the reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

STORAGE = "azure-native:storage:StorageAccount"
KEY_VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
ML_COMPUTE = "azure-native:machinelearningservices:Compute"
ML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
AKS = "azure-native:containerservice:ManagedCluster"
TRUSTED_ACCESS_BINDING = "azure-native:containerservice:TrustedAccessRoleBinding"
MLWORKLOAD_ROLE = "Microsoft.MachineLearningServices/workspaces/mlworkload"
APP_INSIGHTS = "azure-native:applicationinsights:Component"
CONTAINER_GROUP = "azure-native:containerinstance:ContainerGroup"
DATABRICKS = "azure-native:databricks:Workspace"
CLUSTER_EXTENSION = "azure-native:kubernetesconfiguration:Extension"
AZUREML_EXTENSION_TYPE = "Microsoft.AzureML.Kubernetes"
HTTPS_PORT = 443

# Resource types of this project that carry Azure tags (role assignments and cluster extensions
# have none).
TAGGABLE_TYPES = frozenset(
    {
        "azure-native:resources:ResourceGroup",
        "azure-native:operationalinsights:Workspace",
        APP_INSIGHTS,
        KEY_VAULT,
        STORAGE,
        REGISTRY,
        "azure-native:managedidentity:UserAssignedIdentity",
        ML_WORKSPACE,
        ML_COMPUTE,
        CONTAINER_GROUP,
        AKS,
        DATABRICKS,
    }
)
REQUIRED_TAGS = ("environment", "stack", "owner", "cost-center", "managed-by")
# The tags of short-lived resources, as infra/tags.py writes them (pinned by tests/test_shared_facts.py).
SHORT_LIVED_TAG = "short-lived"
EXPIRES_AT_TAG = "expires-at"
# The expiry timestamp of short-lived resources, as infra/config.py writes it (the pack may not import
# infra/: tests/test_shared_facts.py pins the two).
EXPIRES_AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EXPIRES_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SECRET_NAME_RE = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|CONNECTION_STRING|CREDENTIAL)", re.I)

Validation = Callable[[ResourceValidationArgs, ReportViolation], None]


def _get(props: Mapping[str, Any], *path: str) -> Any:
    """A nested property, or None if any step is missing."""
    value: Any = props
    for step in path:
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def _is_dev(args: ResourceValidationArgs) -> bool:
    tags = args.props.get("tags")
    return isinstance(tags, Mapping) and tags.get("environment") == "dev"


def _for_types(types: str | frozenset[str], check: Validation) -> Validation:
    wanted = frozenset({types}) if isinstance(types, str) else types

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in wanted:
            check(args, report)

    return validate


def _policy(
    name: str,
    description: str,
    types: str | frozenset[str],
    check: Validation,
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=_for_types(types, check),
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=config_schema,
    )


# ----------------------------------------------------------------------------------------------
# Storage


def _storage_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("enableHttpsTrafficOnly") is not True:
        report("enableHttpsTrafficOnly must be true (secure transfer required).", None)


def _storage_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    version = args.props.get("minimumTlsVersion")
    if version not in ("TLS1_2", "TLS1_3"):
        report(f"minimumTlsVersion must be TLS1_2 or later (got {version!r}).", None)


def _storage_public_blob(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("allowBlobPublicAccess") is not False:
        report("allowBlobPublicAccess must be false.", None)


# ----------------------------------------------------------------------------------------------
# Key Vault


def _kv_soft_delete(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _get(args.props, "properties", "enableSoftDelete") is not True:
        report("properties.enableSoftDelete must be true.", None)


def _kv_purge_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _get(args.props, "properties", "enablePurgeProtection") is True:
        return
    if args.get_config().get("allowDisabled") is True and _is_dev(args):
        return  # stated relaxation: dev vaults are purged by the teardown of short-lived stacks
    report("properties.enablePurgeProtection must be true.", None)


def _kv_rbac(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _get(args.props, "properties", "enableRbacAuthorization") is not True:
        report("properties.enableRbacAuthorization must be true (no access policies).", None)
    if _get(args.props, "properties", "accessPolicies"):
        report("properties.accessPolicies must be empty when RBAC authorization is used.", None)


def _kv_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # Numbers reach the analyzer as protobuf doubles (7.0), config numbers too.
    minimum = 90
    relaxed = args.get_config().get("minRetentionDays")
    if isinstance(relaxed, int | float) and _is_dev(args):
        minimum = int(relaxed)
    days = _get(args.props, "properties", "softDeleteRetentionInDays")
    if days is None:
        days = 90  # the Azure default
    if not isinstance(days, int | float) or days < minimum:
        report(f"properties.softDeleteRetentionInDays must be at least {minimum} (got {days}).", None)


# ----------------------------------------------------------------------------------------------
# Container registry


def _acr_admin(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("adminUserEnabled") is not False:
        report("adminUserEnabled must be false (pull and push with Entra ID identities).", None)


def _acr_anonymous(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("anonymousPullEnabled") is True:
        report("anonymousPullEnabled must be false.", None)


# ----------------------------------------------------------------------------------------------
# Azure ML


def _aml_compute(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    properties = args.props.get("properties")
    if isinstance(properties, Mapping) and properties.get("computeType") == "AmlCompute":
        return properties
    return None


def _aml_local_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    compute = _aml_compute(args)
    if compute is not None and compute.get("disableLocalAuth") is not True:
        report("AmlCompute properties.disableLocalAuth must be true.", None)


def _aml_scale_to_zero(args: ResourceValidationArgs, report: ReportViolation) -> None:
    compute = _aml_compute(args)
    if compute is None:
        return
    minimum = _get(compute, "properties", "scaleSettings", "minNodeCount")
    if minimum not in (0, None):
        report(f"AmlCompute scaleSettings.minNodeCount must be 0 (got {minimum}).", None)


def _workspace_identity(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = _get(args.props, "identity", "type")
    if kind not in ("SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"):
        report(f"identity.type must be a managed identity (got {kind!r}).", None)
    if isinstance(kind, str) and "UserAssigned" in kind and not args.props.get("primaryUserAssignedIdentity"):
        report("primaryUserAssignedIdentity must be set with a user-assigned identity.", None)


def _workspace_v1_legacy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("v1LegacyMode") is not False:
        report("v1LegacyMode must be false.", None)


# ----------------------------------------------------------------------------------------------
# Azure Databricks


def _databricks_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # secure cluster connectivity (Learn, azure/databricks/security/network/classic/
    # secure-cluster-connectivity): cluster nodes get no public IP
    if _get(args.props, "parameters", "enableNoPublicIp", "value") is not True:
        report("parameters.enableNoPublicIp.value must be true (secure cluster connectivity).", None)


def _databricks_managed_rg(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.props.get("managedResourceGroupId"):
        report("managedResourceGroupId must name the managed resource group (not left to Azure).", None)


# ----------------------------------------------------------------------------------------------
# AKS


def _aks_local_accounts(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("disableLocalAccounts") is not True:
        report(
            "disableLocalAccounts must be true (Entra ID only). Azure ML still reaches the cluster "
            "through an AKS Trusted Access binding (policy aks-azureml-trusted-access).",
            None,
        )


def _closure(resource: PolicyResource) -> list[PolicyResource]:
    """Everything ``resource`` depends on, directly or through other resources."""
    seen: dict[str, PolicyResource] = {}
    todo = list(resource.dependencies)
    while todo:
        item = todo.pop()
        if item.urn not in seen:
            seen[item.urn] = item
            todo.extend(item.dependencies)
    return list(seen.values())


def _aks_azureml_trusted_access(args: StackValidationArgs, report: ReportViolation) -> None:
    """An Azure ML attach of a cluster without local accounts goes through Trusted Access.

    "Disabling local accounts for AKS is not supported by Azure Machine Learning" (Learn,
    how-to-deploy-kubernetes-extension, Limitations) unless AKS Trusted Access gives the workspace
    the role mlworkload on the cluster, and "compute targets created before AzureML role binding
    was created ... will not work" (Azure/AML-Kubernetes, docs/azureml-aks-ta-support.md).
    """
    clusters = {
        str(r.props.get("resourceName")): r
        for r in args.resources
        if r.resource_type == AKS and r.props.get("disableLocalAccounts") is True
    }
    for compute in args.resources:
        properties = compute.props.get("properties") if compute.resource_type == ML_COMPUTE else None
        if not isinstance(properties, Mapping) or properties.get("computeType") != "Kubernetes":
            continue
        cluster_name = str(properties.get("resourceId", "")).rsplit("/", 1)[-1]
        if cluster_name not in clusters:
            continue
        workspace = str(compute.props.get("workspaceName", "")).lower()
        bindings = [
            r
            for r in _closure(compute)
            if r.resource_type == TRUSTED_ACCESS_BINDING
            and r.props.get("resourceName") == cluster_name
            and MLWORKLOAD_ROLE in (r.props.get("roles") or [])
            and str(r.props.get("sourceResourceId", "")).lower().endswith(f"/workspaces/{workspace}")
        ]
        if not bindings:
            report(
                f"the Kubernetes compute {compute.name!r} attaches the cluster {cluster_name!r}, which "
                "has local accounts disabled: Azure ML reaches it only through AKS Trusted Access. "
                "Declare containerservice.TrustedAccessRoleBinding(roles=['"
                f"{MLWORKLOAD_ROLE}'], source_resource_id=<the workspace's ARM id>) on the cluster "
                "and make the compute depend on it (docs/infra.md, 'AKS local accounts').",
                compute.urn,
            )


def _aks_azure_rbac(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.props.get("enableRBAC") is not True:
        report("enableRBAC must be true.", None)
    if _get(args.props, "aadProfile", "managed") is not True:
        report("aadProfile.managed must be true (Entra ID integration).", None)
    if _get(args.props, "aadProfile", "enableAzureRBAC") is not True:
        report("aadProfile.enableAzureRBAC must be true.", None)


def _aks_network_policy(args: ResourceValidationArgs, report: ReportViolation) -> None:
    policy = _get(args.props, "networkProfile", "networkPolicy")
    if policy not in ("azure", "calico", "cilium"):
        report(f"networkProfile.networkPolicy must be azure, calico or cilium (got {policy!r}).", None)


def _aks_upgrade_channels(args: ResourceValidationArgs, report: ReportViolation) -> None:
    channel = _get(args.props, "autoUpgradeProfile", "upgradeChannel")
    if channel not in ("patch", "stable", "rapid", "node-image"):
        report(f"autoUpgradeProfile.upgradeChannel must be set (got {channel!r}).", None)
    os_channel = _get(args.props, "autoUpgradeProfile", "nodeOSUpgradeChannel")
    if os_channel not in ("NodeImage", "SecurityPatch"):
        report(
            "autoUpgradeProfile.nodeOSUpgradeChannel must be NodeImage or SecurityPatch "
            f"(got {os_channel!r}).",
            None,
        )


def _aks_node_hardening(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Learn, AKS security baseline: host encryption; the OS disk type chosen, not defaulted."""
    for pool in args.props.get("agentPoolProfiles") or []:
        name = pool.get("name")
        if pool.get("enableEncryptionAtHost") is not True:
            report(f"agent pool {name!r}: enableEncryptionAtHost must be true.", None)
        if pool.get("osDiskType") not in ("Ephemeral", "Managed"):
            report(
                f"agent pool {name!r}: osDiskType must be set to Ephemeral or Managed "
                f"(got {pool.get('osDiskType')!r}).",
                None,
            )


# ----------------------------------------------------------------------------------------------
# Network isolation (docs/infra.md, "Network isolation")

# qa is public by design: its scoring target is a container group on a public IP, outside any
# virtual network, pulling from the registry's public endpoint (infra/config.py refuses
# network.isolation: managed with it).
PUBLIC_BY_DESIGN = frozenset({"qa"})
_ALLOW_PUBLIC_SCHEMA = PolicyConfigSchema(
    properties={
        "allowPublic": {
            "type": "boolean",
            "default": False,
            "description": "Relaxation for environment=dev resources only (network.isolation: public).",
        }
    }
)


def _public_allowed(args: ResourceValidationArgs) -> bool:
    tags = args.props.get("tags")
    environment = tags.get("environment") if isinstance(tags, Mapping) else None
    if environment in PUBLIC_BY_DESIGN:
        return True
    return args.get_config().get("allowPublic") is True and environment == "dev"


def _public_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _public_allowed(args):
        return
    path = (
        ("properties", "publicNetworkAccess") if args.resource_type == KEY_VAULT else ("publicNetworkAccess",)
    )
    value = _get(args.props, *path)
    if value != "Disabled":
        report(
            f"{'.'.join(path)} must be Disabled (got {value!r}): reach it through its private "
            "endpoint (network.isolation: managed).",
            None,
        )


def _default_deny(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _public_allowed(args):
        return
    path = ("properties", "networkAcls") if args.resource_type == KEY_VAULT else ("networkRuleSet",)
    rules = _get(args.props, *path)
    rules = rules if isinstance(rules, Mapping) else {}
    where = ".".join(path)
    if rules.get("defaultAction") != "Deny":
        report(f"{where}.defaultAction must be Deny (got {rules.get('defaultAction')!r}).", None)
    if "AzureServices" not in str(rules.get("bypass") or ""):
        report(
            f"{where}.bypass must include AzureServices (Azure ML reaches the resource as a trusted "
            f"service; got {rules.get('bypass')!r}).",
            None,
        )


def _workspace_managed_network(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if _public_allowed(args):
        return
    mode = _get(args.props, "managedNetwork", "isolationMode")
    if mode != "AllowOnlyApprovedOutbound":
        report(f"managedNetwork.isolationMode must be AllowOnlyApprovedOutbound (got {mode!r}).", None)


# ----------------------------------------------------------------------------------------------
# Monitoring, containers, tags


def _appi_workspace(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.props.get("workspaceResourceId"):
        report("workspaceResourceId must reference a Log Analytics workspace.", None)
    if args.props.get("ingestionMode") != "LogAnalytics":
        report("ingestionMode must be LogAnalytics.", None)


def _aci_secure_values(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for container in args.props.get("containers") or []:
        for variable in container.get("environmentVariables") or []:
            name = str(variable.get("name", ""))
            if SECRET_NAME_RE.search(name) and variable.get("value") is not None:
                report(
                    f"container {container.get('name')!r}: environment variable {name!r} looks "
                    "secret and must be passed as secureValue, not value.",
                    None,
                )
    for credential in args.props.get("imageRegistryCredentials") or []:
        if credential.get("password") is not None or credential.get("username") is not None:
            report(
                f"imageRegistryCredentials for {credential.get('server')!r} must use a managed "
                "identity, not a username and password.",
                None,
            )


def _scoring_https_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A scoring endpoint opens no plain-HTTP port: a public container group exposes 443 alone
    (its TLS sidecar; docs/infra.md, "TLS for qa scoring"), and the Azure ML extension's inference
    router keeps allowInsecureConnections off (Learn, how-to-deploy-kubernetes-extension: HTTP is
    "for development or testing")."""
    if args.resource_type == CONTAINER_GROUP:
        if args.get_config().get("allowHttp") is True and _is_dev(args):
            return  # stated relaxation: dev's optional container group may serve HTTP
        ip = args.props.get("ipAddress")
        ip = ip if isinstance(ip, Mapping) else {}
        if str(ip.get("type", "")).lower() != "public":
            return
        ports = sorted({int(p.get("port", 0)) for p in ip.get("ports") or [] if isinstance(p, Mapping)})
        if ports != [HTTPS_PORT]:
            report(
                f"ipAddress.ports must be [{HTTPS_PORT}] alone (got {ports}): the public port is the "
                "TLS sidecar's; the scoring container stays reachable over localhost only "
                "(containerInstance.sslCname).",
                None,
            )
    elif args.props.get("extensionType") == AZUREML_EXTENSION_TYPE:
        insecure = _get(args.props, "configurationSettings", "allowInsecureConnections")
        if str(insecure).lower() != "false":
            report(
                f"configurationSettings.allowInsecureConnections must be False (got {insecure!r}): "
                "the inference router serves HTTPS only (aks.sslCname).",
                None,
            )


def _required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    tags = args.props.get("tags")
    tags = tags if isinstance(tags, Mapping) else {}
    required = args.get_config().get("requiredTags") or REQUIRED_TAGS
    missing = [t for t in required if not tags.get(t)]
    if missing:
        report(f"missing required tags: {', '.join(missing)}.", None)
    if tags.get(SHORT_LIVED_TAG) == "true":
        expires = tags.get(EXPIRES_AT_TAG)
        valid = isinstance(expires, str) and bool(EXPIRES_AT_RE.match(expires))
        if valid:
            try:
                datetime.strptime(str(expires), EXPIRES_AT_FORMAT)
            except ValueError:
                valid = False
        if not valid:
            report(
                "short-lived resources need an expires-at tag (YYYY-MM-DDTHH:MM:SSZ, UTC) "
                f"(got {expires!r}).",
                None,
            )


POLICIES: list[Policy] = [
    _policy(
        "storage-secure-transfer",
        "Storage accounts accept HTTPS only.",
        STORAGE,
        _storage_https,
    ),
    _policy("storage-min-tls-1-2", "Storage accounts require TLS 1.2 or later.", STORAGE, _storage_tls),
    _policy(
        "storage-no-public-blob",
        "Storage accounts do not allow public blob access.",
        STORAGE,
        _storage_public_blob,
    ),
    _policy("keyvault-soft-delete", "Key Vaults have soft delete on.", KEY_VAULT, _kv_soft_delete),
    _policy(
        "keyvault-purge-protection",
        "Key Vaults have purge protection on.",
        KEY_VAULT,
        _kv_purge_protection,
        PolicyConfigSchema(
            properties={
                "allowDisabled": {
                    "type": "boolean",
                    "default": False,
                    "description": "Relaxation for environment=dev resources only.",
                }
            }
        ),
    ),
    _policy(
        "keyvault-retention",
        "Key Vaults keep soft-deleted objects long enough to recover them.",
        KEY_VAULT,
        _kv_retention,
        PolicyConfigSchema(
            properties={
                "minRetentionDays": {
                    "type": "integer",
                    "minimum": 7,
                    "maximum": 90,
                    "description": "Relaxation for environment=dev resources only (default 90).",
                }
            }
        ),
    ),
    _policy("keyvault-rbac", "Key Vaults use Azure RBAC authorization.", KEY_VAULT, _kv_rbac),
    _policy(
        "registry-admin-disabled",
        "Container registries have the admin user off.",
        REGISTRY,
        _acr_admin,
    ),
    _policy(
        "registry-anonymous-pull-disabled",
        "Container registries do not allow anonymous pull.",
        REGISTRY,
        _acr_anonymous,
    ),
    _policy(
        "aml-compute-local-auth-disabled",
        "AML compute clusters have local authentication off.",
        ML_COMPUTE,
        _aml_local_auth,
    ),
    _policy(
        "aml-compute-scale-to-zero",
        "AML compute clusters scale down to zero nodes.",
        ML_COMPUTE,
        _aml_scale_to_zero,
    ),
    _policy(
        "workspace-managed-identity",
        "Azure ML workspaces use a managed identity.",
        ML_WORKSPACE,
        _workspace_identity,
    ),
    _policy(
        "workspace-v1-legacy-off",
        "Azure ML workspaces have v1 legacy mode off.",
        ML_WORKSPACE,
        _workspace_v1_legacy,
    ),
    _policy(
        "databricks-no-public-ip",
        "Azure Databricks cluster nodes have no public IP (secure cluster connectivity).",
        DATABRICKS,
        _databricks_no_public_ip,
    ),
    _policy(
        "databricks-managed-resource-group-named",
        "Azure Databricks workspaces name their managed resource group.",
        DATABRICKS,
        _databricks_managed_rg,
    ),
    _policy(
        "aks-local-accounts-disabled",
        "AKS clusters have local accounts off.",
        AKS,
        _aks_local_accounts,
    ),
    StackValidationPolicy(
        name="aks-azureml-trusted-access",
        description=(
            "An Azure ML Kubernetes compute attaches a cluster without local accounts only after an "
            "AKS Trusted Access binding (mlworkload) for its workspace."
        ),
        validate=_aks_azureml_trusted_access,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    _policy(
        "aks-azure-rbac",
        "AKS clusters use Entra ID with Azure RBAC for Kubernetes authorization.",
        AKS,
        _aks_azure_rbac,
    ),
    _policy("aks-network-policy", "AKS clusters enforce a network policy.", AKS, _aks_network_policy),
    _policy(
        "aks-upgrade-channels",
        "AKS clusters have automatic cluster and node OS upgrade channels.",
        AKS,
        _aks_upgrade_channels,
    ),
    _policy(
        "network-public-access-disabled",
        "The workspace, storage, Key Vault and container registry have public network access off "
        "(qa is public by design; dev may relax it).",
        frozenset({ML_WORKSPACE, STORAGE, KEY_VAULT, REGISTRY}),
        _public_access,
        _ALLOW_PUBLIC_SCHEMA,
    ),
    _policy(
        "network-default-deny",
        "Storage and Key Vault deny network access by default, trusted Azure services excepted.",
        frozenset({STORAGE, KEY_VAULT}),
        _default_deny,
        _ALLOW_PUBLIC_SCHEMA,
    ),
    _policy(
        "workspace-managed-network",
        "Azure ML workspaces use a managed virtual network that allows only approved outbound.",
        ML_WORKSPACE,
        _workspace_managed_network,
        _ALLOW_PUBLIC_SCHEMA,
    ),
    _policy(
        "aks-node-hardening",
        "AKS node pools encrypt at host and set their OS disk type explicitly.",
        AKS,
        _aks_node_hardening,
    ),
    _policy(
        "appinsights-on-log-analytics",
        "Application Insights stores its data in a Log Analytics workspace.",
        APP_INSIGHTS,
        _appi_workspace,
    ),
    _policy(
        "aci-secrets-secure",
        "Container instances receive secrets only as secure values.",
        CONTAINER_GROUP,
        _aci_secure_values,
    ),
    _policy(
        "scoring-https-only",
        "Scoring endpoints expose no plain-HTTP port: a public container group only 443 (its TLS "
        "sidecar), the Azure ML inference router no insecure connections (dev may relax the former).",
        frozenset({CONTAINER_GROUP, CLUSTER_EXTENSION}),
        _scoring_https_only,
        PolicyConfigSchema(
            properties={
                "allowHttp": {
                    "type": "boolean",
                    "default": False,
                    "description": "Relaxation for environment=dev container groups only (no TLS settings).",
                }
            }
        ),
    ),
    _policy(
        "required-tags",
        "Resources carry the required tags (and short-lived ones a valid expiry).",
        TAGGABLE_TYPES,
        _required_tags,
        PolicyConfigSchema(properties={"requiredTags": {"type": "array", "items": {"type": "string"}}}),
    ),
]

POLICY_NAMES = frozenset(p.name for p in POLICIES)
