"""vCPU quota arithmetic and VM sizes offered in the region (pure).

Microsoft.Compute counts vCPUs in two tiers per region, "Total Regional vCPUs" and each VM size
family; a deployment that exceeds either is refused (Learn, "Check vCPU quotas",
MicrosoftDocs/azure-compute-docs@02773904:articles/virtual-machines/quotas.md). Azure ML compute
has its own quota: dedicated vCPUs per VM family, low-priority vCPUs as one regional value,
``TotalLowPriorityCores`` (Learn, "Manage and increase quotas ... Azure Machine Learning",
MicrosoftDocs/azure-ai-docs:articles/machine-learning/how-to-manage-quotas.md). Container
Instances count standard cores per region (``StandardCores``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipelines.preflight.facts import QuotaUsage, VmSku
from pipelines.preflight.needs import VmDemand
from pipelines.preflight.report import Check, failed, passed

COMPUTE_REGIONAL = "cores"  # the "Total Regional vCPUs" counter of Microsoft.Compute usages
AML_LOW_PRIORITY = "totallowprioritycores"
ACI_CORES = "standardcores"
QUOTA_FIX = (
    "request more quota: portal > Subscriptions > Usage + quotas ({provider}, {location}, {label}), "
    "or lower the maximum node count in Pulumi.<stack>.yaml"
)


@dataclass(frozen=True)
class Need:
    """vCPUs a quota counter must still have room for, and who needs them."""

    key: str
    vcpus: float
    who: tuple[str, ...]


def headroom_check(
    id_: str, title: str, need: Need, usage: QuotaUsage | None, *, provider: str, location: str
) -> Check:
    """Pass when ``current + needed <= limit``; a counter the region does not report means 0."""
    label = usage.label if usage else need.key
    fix = QUOTA_FIX.format(provider=provider, location=location, label=label)
    who = ", ".join(need.who)
    if usage is None:
        return failed(
            id_, title, f"no quota '{need.key}' in {location}: 0 of {need.vcpus:g} vCPUs ({who})", fix
        )
    free = usage.limit - usage.current
    detail = f"{label}: {usage.current} of {usage.limit} used, {need.vcpus:g} needed ({who})"
    if need.vcpus <= free:
        return passed(id_, title, detail)
    return failed(id_, title, f"{detail}: {need.vcpus - free:g} short", fix)


def size_checks(
    demands: Iterable[VmDemand], skus: Mapping[str, VmSku], *, service: str, location: str
) -> list[Check]:
    """Each VM size the stack asks for: offered in the region for the subscription?"""
    checks = []
    for size in sorted({d.vm_size for d in demands}):
        sku = skus.get(size.lower())
        id_ = f"vm-size.{service}.{size}"
        title = f"{size} ({service}) in {location}"
        fix = (
            f"choose a size offered in {location} (az vm list-skus --location {location} --size "
            f"{size.split('_')[1] if '_' in size else size} --all -o table), or ask support to enable it"
        )
        if sku is None:
            checks.append(failed(id_, title, f"not offered in {location}", fix))
        elif sku.restriction:
            checks.append(failed(id_, title, f"restricted: {sku.restriction}", fix))
        else:
            checks.append(passed(id_, title, f"offered, {sku.vcpus} vCPUs, family {sku.family}"))
    return checks


def vcpu_needs(
    demands: Iterable[VmDemand], skus: Mapping[str, VmSku], *, regional_key: str | None
) -> list[Need]:
    """vCPUs per quota counter: each demand on its family's counter, and all on the regional one."""
    totals: dict[str, float] = defaultdict(float)
    who: dict[str, list[str]] = defaultdict(list)
    for demand in demands:
        sku = skus.get(demand.vm_size.lower())
        if sku is None:
            continue  # reported by size_checks
        vcpus = sku.vcpus * demand.nodes
        label = f"{demand.resource} {demand.nodes}x {demand.vm_size}"
        keys = [AML_LOW_PRIORITY] if demand.quota == "aml-low-priority" else [sku.family.lower()]
        if regional_key and demand.quota == "compute":
            keys.append(regional_key)
        for key in keys:
            totals[key] += vcpus
            who[key].append(label)
    return [Need(key, totals[key], tuple(who[key])) for key in totals]


def quota_checks(
    needs: Iterable[Need], usages: Iterable[QuotaUsage], *, provider: str, location: str
) -> list[Check]:
    by_key = {usage.key.lower(): usage for usage in usages}
    return [
        headroom_check(
            f"quota.{provider}.{need.key}",
            f"{provider} quota {by_key[need.key].label if need.key in by_key else need.key}",
            need,
            by_key.get(need.key),
            provider=provider,
            location=location,
        )
        for need in needs
    ]


def container_quota_checks(
    groups: Iterable[tuple[str, float]], usages: Iterable[QuotaUsage], *, location: str
) -> list[Check]:
    """Standard cores for the container groups (Microsoft.ContainerInstance usages)."""
    groups = list(groups)
    if not groups:
        return []
    need = Need(
        ACI_CORES, sum(cpu for _, cpu in groups), tuple(f"{name} {cpu:g} CPU" for name, cpu in groups)
    )
    return quota_checks([need], usages, provider="Microsoft.ContainerInstance", location=location)
