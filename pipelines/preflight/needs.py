"""What a stack needs from its subscription, read generically from its declared resources (pure).

Resource providers come from the type tokens (``azure-native:containerservice:...`` needs
``Microsoft.ContainerService``), VM demand from the inputs that size compute (``vmSize`` with a
node count), global names from the types whose names are global. A resource type the program
starts to declare is covered by these rules without a change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.declared import DeclaredResource, DeclaredStack, lookup, walk

# Pulumi azure-native modules whose provider namespace is not Microsoft.<Module>.
_NAMESPACE_OF_MODULE = {
    "applicationinsights": "Microsoft.Insights",
    # Private DNS zones are Microsoft.Network/privateDnsZones (Learn, azure-services-resource-providers:
    # "Azure DNS | Microsoft.Network"); there is no Microsoft.PrivateDns provider to register.
    "privatedns": "Microsoft.Network",
}
# Providers every subscription has registered (Learn, "Azure resource providers and types":
# "resource providers ... registered by default"; the program's resource group and role
# assignments need no registration).
ALWAYS_REGISTERED = frozenset({"microsoft.resources", "microsoft.authorization"})


def namespace_of(resource: DeclaredResource) -> str:
    """``Microsoft.ContainerService`` for ``azure-native:containerservice:ManagedCluster``.

    Namespaces are case-insensitive; the module name gives the namespace in lower case after
    ``Microsoft.``, which is how the checks compare it.
    """
    module = resource.module
    return _NAMESPACE_OF_MODULE.get(module, f"Microsoft.{module}")


def provider_namespaces(stack: DeclaredStack) -> list[str]:
    """The resource provider namespaces the stack's resources need registered (lower-case unique)."""
    seen: dict[str, str] = {}
    for resource in stack.azure_resources:
        namespace = namespace_of(resource)
        if namespace.lower() not in ALWAYS_REGISTERED:
            seen.setdefault(namespace.lower(), namespace)
    return sorted(seen.values(), key=str.lower)


def arm_resource_type(resource: DeclaredResource) -> str:
    """The top-level ARM resource type a Pulumi type most likely stands for, lower case.

    ``ManagedCluster`` -> ``managedclusters``, ``Registry`` -> ``registries``. A nested type
    (``Compute`` is ``workspaces/computes``) gives a name the provider does not list, and the
    region check then skips it rather than guess.
    """
    kind = resource.kind
    plural = kind[:-1] + "ies" if kind.endswith("y") and kind[-2:-1] not in "aeiou" else kind + "s"
    return plural.lower()


@dataclass(frozen=True)
class FeatureNeed:
    namespace: str
    feature: str
    why: str
    source: str


# (input key anywhere in a resource's inputs, value that needs it) -> feature registration.
FEATURE_RULES: tuple[tuple[str, Any, FeatureNeed], ...] = (
    (
        "enableEncryptionAtHost",
        True,
        FeatureNeed(
            "Microsoft.Compute",
            "EncryptionAtHost",
            "host-based encryption on a node pool or VM",
            # Learn, "Host-based encryption on AKS": "make sure the EncryptionAtHost feature is
            # enabled on your subscription: az feature register --namespace Microsoft.Compute
            # --name EncryptionAtHost" (learn.microsoft.com/azure/aks/enable-host-encryption)
            "https://learn.microsoft.com/azure/aks/enable-host-encryption",
        ),
    ),
)


def feature_needs(stack: DeclaredStack) -> list[tuple[FeatureNeed, str]]:
    """Each preview feature the stack's inputs need, with the resource that needs it."""
    found: dict[tuple[str, str], tuple[FeatureNeed, str]] = {}
    for resource in stack.azure_resources:
        for path, value in walk(dict(resource.inputs)):
            key = path.rsplit(".", maxsplit=1)[-1]
            for rule_key, rule_value, need in FEATURE_RULES:
                if key == rule_key and value == rule_value:
                    found.setdefault((need.namespace, need.feature), (need, resource.name))
    return list(found.values())


@dataclass(frozen=True)
class VmDemand:
    """VMs a resource may run at most: ``nodes`` of ``vm_size`` on one quota."""

    resource: str
    azure_type: str
    pool: str
    vm_size: str
    nodes: int
    quota: str  # "compute" (Microsoft.Compute), "aml" (Azure ML dedicated), "aml-low-priority"


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _pools(inputs: Mapping[str, Any], kind: str) -> list[tuple[str, str, int]]:
    """(pool name, VM size, maximum nodes) of an AKS cluster or agent pool."""
    if kind == "AgentPool":
        profiles = [inputs]
    else:
        profiles = [p for p in inputs.get("agentPoolProfiles") or [] if isinstance(p, Mapping)]
    out = []
    for profile in profiles:
        size = profile.get("vmSize")
        if not isinstance(size, str):
            continue
        nodes = _count(profile.get("maxCount")) if profile.get("enableAutoScaling") else 0
        nodes = nodes or _count(profile.get("count"))
        name = profile.get("name") or profile.get("agentPoolName") or ""
        out.append((str(name), size, nodes))
    return out


def vm_demands(stack: DeclaredStack) -> list[VmDemand]:
    """The VMs each resource may run at its maximum scale, and whose quota they draw on.

    AKS pools (``agentPoolProfiles`` or separate agent pools) draw on the Microsoft.Compute
    quota at ``maxCount`` when autoscaling, else ``count``. An Azure ML compute cluster draws on
    Azure ML's own quota at ``maxNodeCount`` (Learn, "Manage and increase quotas ... Azure Machine
    Learning": "Azure Machine Learning compute ... has a separate quota from the core compute
    quota"; low-priority cores are "a single value across VM families").
    """
    demands = []
    for resource in stack.azure_resources:
        inputs = resource.inputs
        if resource.type in {
            "azure-native:containerservice:ManagedCluster",
            "azure-native:containerservice:AgentPool",
        }:
            for pool, size, nodes in _pools(inputs, resource.kind):
                demands.append(VmDemand(resource.name, resource.type, pool, size, nodes, "compute"))
        elif resource.type == "azure-native:machinelearningservices:Compute":
            if lookup(inputs, "properties.computeType") != "AmlCompute":
                continue
            size = lookup(inputs, "properties.properties.vmSize")
            nodes = _count(lookup(inputs, "properties.properties.scaleSettings.maxNodeCount"))
            low = lookup(inputs, "properties.properties.vmPriority") == "LowPriority"
            if isinstance(size, str):
                quota = "aml-low-priority" if low else "aml"
                demands.append(
                    VmDemand(resource.name, resource.type, resource.azure_name, size, nodes, quota)
                )
    return demands


def container_cpus(stack: DeclaredStack) -> list[tuple[str, float]]:
    """(container group, total CPU requested) of every Azure Container Instances group."""
    out = []
    for resource in stack.of_type("azure-native:containerinstance:ContainerGroup"):
        total = 0.0
        for container in resource.inputs.get("containers") or []:
            cpu = lookup(container, "resources.requests.cpu") if isinstance(container, Mapping) else None
            total += float(cpu) if isinstance(cpu, int | float) else 0.0
        out.append((resource.name, total))
    return out


# Types whose name is unique across Azure, checked with the provider's checkNameAvailability.
GLOBAL_NAME_TYPES = {
    "azure-native:storage:StorageAccount": ("storage", "Microsoft.Storage/storageAccounts"),
    "azure-native:keyvault:Vault": ("keyvault", "Microsoft.KeyVault/vaults"),
    "azure-native:containerregistry:Registry": ("registry", "Microsoft.ContainerRegistry/registries"),
}


@dataclass(frozen=True)
class GlobalName:
    kind: str  # storage, keyvault, registry
    arm_type: str
    name: str
    resource: str


def global_names(stack: DeclaredStack) -> list[GlobalName]:
    out = []
    for resource in stack.azure_resources:
        entry = GLOBAL_NAME_TYPES.get(resource.type)
        if entry and resource.azure_name:
            out.append(GlobalName(entry[0], entry[1], resource.azure_name, resource.name))
    return out


def declares_role_assignments(stack: DeclaredStack) -> bool:
    return bool(stack.of_type("azure-native:authorization:RoleAssignment"))
