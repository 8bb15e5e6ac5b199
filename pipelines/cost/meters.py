"""Which retail price each declared resource pays, and how much of it a month (pure).

A rule reads a resource's type and inputs (node counts and VM sizes, SKUs, CPU and memory) and
returns its charges: a price query, which item of the answer applies, and the monthly quantity;
``None`` as quantity means the resource costs per use (a cluster at 0 nodes, GBs stored, vault
operations). Types with no charge of their own are listed as free; a type no rule knows is
reported as not priced, never as free.

Month: 730 hours, the Azure pricing calculator's month.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipelines.cost.prices import PriceItem, PriceQuery
from pipelines.declared import DeclaredResource, lookup

HOURS_PER_MONTH = 730.0
_UNIT_HOURS = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1.0, "day": 24.0, "month": HOURS_PER_MONTH}


def hours_per_unit(unit: str) -> float | None:
    """Hours one unit of a time-based price covers.

    ``1 Hour`` -> 1, ``100 Seconds`` -> 1/36, ``1/Day`` -> 24; None when the unit is not time.
    """
    match = re.search(
        r"(\d+(?:\.\d+)?)?\s*/?\s*(?:[A-Za-z]+\s+)*?(second|minute|hour|day|month)s?\b", unit.lower()
    )
    if not match:
        return None
    count = float(match.group(1) or 1)
    return count * _UNIT_HOURS[match.group(2)]


Pick = Callable[[PriceItem], bool]


@dataclass(frozen=True)
class Charge:
    """One priced part of a resource."""

    what: str
    query: PriceQuery
    pick: Pick
    monthly_units: float | None
    """Units of the price a month; None: charged per use (the rate is shown, not added)."""
    per_use_unit: str = ""
    """For a per-use charge, what the rate is per (``node-hour``, ``GB``)."""
    hourly: bool = False
    """``monthly_units`` counts hours; the price's unit converts them (``1 Hour``, ``1 Second``)."""


@dataclass(frozen=True)
class Pricing:
    """A resource's charges (empty when free) and a note (scale, what is not priced)."""

    charges: tuple[Charge, ...] = ()
    note: str = ""
    free: bool = False
    known: bool = True


def _has(text: str, *words: str) -> bool:
    lower = text.lower()
    return any(word.lower() in lower for word in words)


def linux_vm(size: str, *, low_priority: bool = False) -> Pick:
    """The Linux pay-as-you-go meter of a VM size (not Windows, Spot, or, unless asked, Low Priority)."""

    def pick(item: PriceItem) -> bool:
        if item.arm_sku_name.lower() != size.lower() or _has(item.product_name, "Windows"):
            return False
        if _has(item.meter_name, "Spot") or _has(item.sku_name, "Spot"):
            return False
        return _has(item.sku_name, "Low Priority") == low_priority

    return pick


def vm_query(size: str, region: str) -> PriceQuery:
    return PriceQuery("Virtual Machines", region, (("armSkuName", size), ("priceType", "Consumption")))


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _aks(resource: DeclaredResource, region: str) -> Pricing:
    charges = []
    notes = []
    for profile in resource.inputs.get("agentPoolProfiles") or []:
        if not isinstance(profile, Mapping) or not isinstance(profile.get("vmSize"), str):
            continue
        size = profile["vmSize"]
        autoscale = bool(profile.get("enableAutoScaling"))
        low = int(_num(profile.get("minCount") if autoscale else profile.get("count")))
        high = int(_num(profile.get("maxCount") if autoscale else profile.get("count")))
        charges.append(
            Charge(
                f"pool {profile.get('name', '')}: {low}x {size}",
                vm_query(size, region),
                linux_vm(size),
                low * HOURS_PER_MONTH,
                hourly=True,
            )
        )
        if high > low:
            notes.append(f"pool {profile.get('name', '')} scales to {high} nodes")
    tier = str(lookup(resource.inputs, "sku.tier") or "Free")

    def tier_hour(item: PriceItem) -> bool:
        return item.sku_name.lower() == tier.lower() and _has(item.unit_of_measure, "hour")

    if tier != "Free":
        # AKS pricing: the Standard and Premium tiers bill per cluster-hour; Free has no charge.
        charges.append(
            Charge(
                f"{tier} tier",
                PriceQuery("Azure Kubernetes Service", region, (("priceType", "Consumption"),)),
                tier_hour,
                HOURS_PER_MONTH,
                hourly=True,
            )
        )
    notes.append("load balancer, public IP and OS disks in the node resource group not priced")
    return Pricing(tuple(charges), "; ".join(notes))


def _aml_compute(resource: DeclaredResource, region: str) -> Pricing:
    if lookup(resource.inputs, "properties.computeType") != "AmlCompute":
        return Pricing(free=True, note="attached compute: billed through what it attaches")
    props = lookup(resource.inputs, "properties.properties") or {}
    size = str(props.get("vmSize", ""))
    low = props.get("vmPriority") == "LowPriority"
    minimum = int(_num(lookup(props, "scaleSettings.minNodeCount")))
    maximum = int(_num(lookup(props, "scaleSettings.maxNodeCount")))
    query, pick = vm_query(size, region), linux_vm(size, low_priority=low)
    priority = "low-priority " if low else ""
    if minimum == 0:
        charge = Charge(f"0-{maximum}x {priority}{size}", query, pick, None, per_use_unit="node-hour")
        return Pricing((charge,), f"min 0 nodes: costs per use, up to {maximum} nodes while jobs run")
    charge = Charge(
        f"{minimum}x {priority}{size} always on", query, pick, minimum * HOURS_PER_MONTH, hourly=True
    )
    return Pricing((charge,), f"scales to {maximum} nodes while jobs run")


def _container_group(resource: DeclaredResource, region: str) -> Pricing:
    cpu = memory = 0.0
    for container in resource.inputs.get("containers") or []:
        if isinstance(container, Mapping):
            cpu += _num(lookup(container, "resources.requests.cpu"))
            memory += _num(lookup(container, "resources.requests.memoryInGB"))
    query = PriceQuery("Container Instances", region, (("priceType", "Consumption"),))

    def meter(word: str) -> Pick:
        return lambda item: (
            _has(item.meter_name, word)
            and _has(item.meter_name, "Duration")
            and not _has(item.meter_name, "Spot", "Confidential", "Windows", "GPU")
            and not _has(item.sku_name, "Spot", "Confidential", "Windows", "GPU")
        )

    # A Linux container group bills vCPU and memory for the time it runs (here: always).
    return Pricing(
        (
            Charge(f"{cpu:g} vCPU", query, meter("vCPU"), cpu * HOURS_PER_MONTH, hourly=True),
            Charge(f"{memory:g} GB memory", query, meter("Memory"), memory * HOURS_PER_MONTH, hourly=True),
        ),
        "runs all month",
    )


def _registry(resource: DeclaredResource, region: str) -> Pricing:
    sku = str(lookup(resource.inputs, "sku.name") or "Basic")
    query = PriceQuery("Container Registry", region, (("skuName", sku), ("priceType", "Consumption")))
    return Pricing(
        (
            Charge(
                f"{sku} registry",
                query,
                lambda item: _has(item.meter_name, "Registry Unit"),
                HOURS_PER_MONTH,
                hourly=True,
            ),
        ),
        "storage above the SKU's included GBs not priced",
    )


def _storage(resource: DeclaredResource, region: str) -> Pricing:
    redundancy = str(lookup(resource.inputs, "sku.name") or "Standard_LRS").split("_")[-1]
    query = PriceQuery("Storage", region, (("skuName", f"Hot {redundancy}"), ("priceType", "Consumption")))
    pick: Pick = lambda item: _has(item.meter_name, "Data Stored") and _has(item.product_name, "Blob")  # noqa: E731
    return Pricing(
        (Charge(f"hot {redundancy} blob data", query, pick, None, per_use_unit="GB-month"),),
        "per GB stored and per operation",
    )


def _vault(resource: DeclaredResource, region: str) -> Pricing:
    sku = str(lookup(resource.inputs, "properties.sku.name") or "standard").capitalize()
    query = PriceQuery("Key Vault", region, (("skuName", sku), ("priceType", "Consumption")))
    pick: Pick = lambda item: item.meter_name.lower() == "operations"  # noqa: E731
    return Pricing(
        (Charge("secret operations", query, pick, None, per_use_unit="10K operations"),), "per operation"
    )


def _log_analytics(resource: DeclaredResource, region: str) -> Pricing:
    query = PriceQuery("Log Analytics", region, (("priceType", "Consumption"),))

    def pick(item: PriceItem) -> bool:
        return _has(item.meter_name, "Data Ingestion") and _has(
            item.meter_name, "Analytics Logs", "Pay-as-you-go"
        )

    return Pricing(
        (Charge("data ingested", query, pick, None, per_use_unit="GB"),),
        "per GB ingested (App Insights included); first 5 GB a month free",
    )


def _private_endpoint(resource: DeclaredResource, region: str) -> Pricing:
    # Private Link bills each endpoint by the hour and the data it processes per GB; its meters
    # are global (Retail Prices: serviceName 'Virtual Network', productName 'Virtual Network
    # Private Link', armRegionName 'Global'; Learn, "Azure Private Link pricing").
    query = PriceQuery("Virtual Network", "Global", (("priceType", "Consumption"),))

    def meter(name: str) -> Pick:
        return lambda item: _has(item.product_name, "Private Link") and item.meter_name.lower() == name

    return Pricing(
        (
            Charge("endpoint", query, meter("standard private endpoint"), HOURS_PER_MONTH, hourly=True),
            Charge(
                "data processed",
                query,
                meter("standard data processed - ingress"),
                None,
                per_use_unit="GB",
            ),
        ),
        "plus data processed, in and out, per GB",
    )


def _private_zone(resource: DeclaredResource, region: str) -> Pricing:
    # Azure DNS bills a hosted private zone by the month (the first 25 zones at one rate) and
    # its queries per million; its meters are priced per zone of the DNS service, 'Zone 1'
    # for the public regions outside government and China clouds.
    query = PriceQuery("Azure DNS", "Zone 1", (("priceType", "Consumption"),))

    def zone(item: PriceItem) -> bool:
        return _has(item.meter_name, "Private Zone") and item.tier_minimum_units == 0

    return Pricing(
        (Charge("hosted private zone", query, zone, 1.0),),
        "plus DNS queries per million",
    )


RULES: dict[str, Callable[[DeclaredResource, str], Pricing]] = {
    "azure-native:containerservice:ManagedCluster": _aks,
    "azure-native:machinelearningservices:Compute": _aml_compute,
    "azure-native:containerinstance:ContainerGroup": _container_group,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:storage:StorageAccount": _storage,
    "azure-native:keyvault:Vault": _vault,
    "azure-native:operationalinsights:Workspace": _log_analytics,
    "azure-native:network:PrivateEndpoint": _private_endpoint,
    "azure-native:privatedns:PrivateZone": _private_zone,
}
# No charge of their own (an Azure ML workspace is free, its dependencies bill; workspace-based
# Application Insights bills through its Log Analytics workspace; a virtual network, a private
# endpoint's DNS zone group and a private zone's network link are configuration: the endpoint
# and the zone bill).
FREE_TYPES = frozenset(
    {
        "azure-native:resources:ResourceGroup",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:authorization:RoleAssignment",
        "azure-native:machinelearningservices:Workspace",
        "azure-native:applicationinsights:Component",
        "azure-native:kubernetesconfiguration:Extension",
        "azure-native:containerservice:TrustedAccessRoleBinding",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:PrivateDnsZoneGroup",
        "azure-native:privatedns:VirtualNetworkLink",
    }
)


def pricing(resource: DeclaredResource, region: str) -> Pricing:
    """The charges of one declared resource."""
    rule = RULES.get(resource.type)
    if rule is not None:
        return rule(resource, region)
    if resource.type in FREE_TYPES:
        return Pricing(free=True)
    return Pricing(known=False, note=f"no price rule for {resource.type}")
