"""A preflight end to end: what the stack needs, read from the subscription, checked (pure order).

:func:`preflight` takes the facts source as a protocol, so the tests give it a fake and the
command gives it :class:`pipelines.preflight.azure.AzureReader`. A read Azure refuses turns into
a warning naming the read, and the other checks still run.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol, TypeVar

from pipelines.declared import DeclaredStack
from pipelines.preflight import names as name_rules
from pipelines.preflight import needs as stack_needs
from pipelines.preflight.facts import (
    DeletedVault,
    FactsUnavailable,
    NameStatus,
    Principal,
    ProviderInfo,
    QuotaUsage,
    RoleGrant,
    SubscriptionInfo,
    VmSku,
)
from pipelines.preflight.providers import feature_checks, provider_checks, region_checks
from pipelines.preflight.quota import (
    COMPUTE_REGIONAL,
    container_quota_checks,
    quota_checks,
    size_checks,
    vcpu_needs,
)
from pipelines.preflight.rbac import identity_checks, permission_checks
from pipelines.preflight.report import Check, Report, failed, passed, report, warned

T = TypeVar("T")
WORKSPACE_TYPE = "azure-native:machinelearningservices:Workspace"


class SubscriptionFacts(Protocol):
    """What a preflight reads from Azure (implemented by ``AzureReader``)."""

    def principal(self) -> Principal: ...
    def subscription(self) -> SubscriptionInfo: ...
    def role_grants(self, object_id: str) -> list[RoleGrant]: ...
    def providers(self) -> dict[str, ProviderInfo]: ...
    def feature_state(self, namespace: str, feature: str) -> str: ...
    def compute_skus(self, location: str) -> dict[str, VmSku]: ...
    def compute_usages(self, location: str) -> list[QuotaUsage]: ...
    def ml_vm_sizes(self, location: str) -> dict[str, VmSku]: ...
    def ml_usages(self, location: str) -> list[QuotaUsage]: ...
    def aci_usages(self, location: str) -> list[QuotaUsage]: ...
    def name_status(self, name: stack_needs.GlobalName) -> NameStatus: ...
    def deleted_vaults(self) -> list[DeletedVault]: ...
    def existing_resources(self, resource_group: str) -> set[tuple[str, str]] | None: ...


def _read(checks: list[Check], what: str, read: Callable[[], T], fix: str) -> T | None:
    """Run one read; when Azure refuses it, record a warning and carry on."""
    try:
        return read()
    except FactsUnavailable as error:
        checks.append(warned(f"read.{what}", f"read {what}", f"could not read: {error}", fix))
        return None


READER_FIX = "give the identity Reader on the subscription (az role assignment create --role Reader ...)"


def preflight(stack: DeclaredStack, facts: SubscriptionFacts, subscription_id: str) -> Report:  # noqa: PLR0912, PLR0915
    """Every check for ``stack`` against the subscription ``facts`` reads."""
    checks: list[Check] = []
    location = stack.location
    group = stack.resource_group

    if stack.stand_ins:
        checks.append(
            failed(
                "settings",
                "stack settings",
                "the stack file lacks " + ", ".join(stack.stand_ins) + " (stood in for this check)",
                "set them as docs/infra.md 'TLS for qa scoring' and 'TLS for prod scoring' say "
                "(`pulumi up` refuses qa and prod without)",
            )
        )
    principal = facts.principal()
    subscription = _read(checks, "subscription", facts.subscription, READER_FIX)
    if subscription is not None:
        checks.extend(identity_checks(principal, subscription))
    grants = _read(checks, "role assignments", lambda: facts.role_grants(principal.object_id), READER_FIX)
    if grants is not None:
        checks.extend(
            permission_checks(
                grants,
                subscription_id=subscription_id,
                resource_group=group,
                assigns_roles=stack_needs.declares_role_assignments(stack),
                principal=principal,
            )
        )

    existing = _read(checks, "resource group", lambda: facts.existing_resources(group), READER_FIX)

    providers = _read(checks, "providers", facts.providers, READER_FIX)
    if providers is not None:
        checks.extend(provider_checks(stack, providers))
        checks.extend(region_checks(stack, providers))
    feature_needs = stack_needs.feature_needs(stack)
    states = {}
    for need, _ in feature_needs:
        read_state = partial(facts.feature_state, need.namespace, need.feature)
        state = _read(checks, f"feature {need.feature}", read_state, READER_FIX)
        states[(need.namespace, need.feature)] = state or "unknown"
    checks.extend(feature_checks(feature_needs, states))

    demands = stack_needs.vm_demands(stack)
    deployed = {d.resource for d in demands if _exists(stack, d.resource, existing)}
    for resource in sorted(deployed):
        checks.append(
            passed(
                f"quota.deployed.{resource}",
                f"quota for {resource}",
                "already deployed: its nodes count in the usage",
            )
        )
    new = [d for d in demands if d.resource not in deployed]
    compute = [d for d in new if d.quota == "compute"]
    aml = [d for d in new if d.quota != "compute"]
    if compute:
        skus = _read(checks, "VM sizes", lambda: facts.compute_skus(location), READER_FIX)
        usages = _read(checks, "compute usage", lambda: facts.compute_usages(location), READER_FIX)
        if skus is not None:
            checks.extend(size_checks(compute, skus, service="Microsoft.Compute", location=location))
            if usages is not None:
                needs = vcpu_needs(compute, skus, regional_key=COMPUTE_REGIONAL)
                checks.extend(quota_checks(needs, usages, provider="Microsoft.Compute", location=location))
    if aml:
        sizes = _read(checks, "Azure ML VM sizes", lambda: facts.ml_vm_sizes(location), READER_FIX)
        usages = _read(checks, "Azure ML usage", lambda: facts.ml_usages(location), READER_FIX)
        if sizes is not None:
            checks.extend(size_checks(aml, sizes, service="Azure ML", location=location))
            if usages is not None:
                needs = vcpu_needs(aml, sizes, regional_key=None)
                checks.extend(
                    quota_checks(
                        needs, usages, provider="Microsoft.MachineLearningServices", location=location
                    )
                )
    groups = [
        (name, cpu) for name, cpu in stack_needs.container_cpus(stack) if not _exists(stack, name, existing)
    ]
    if groups:
        usages = _read(checks, "Container Instances usage", lambda: facts.aci_usages(location), READER_FIX)
        if usages is not None:
            checks.extend(container_quota_checks(groups, usages, location=location))

    names = stack_needs.global_names(stack)
    vault_names = [n.name for n in names if n.kind == "keyvault"]
    deleted = _read(checks, "deleted Key Vaults", facts.deleted_vaults, READER_FIX) if vault_names else []
    matched = name_rules.match_deleted_vaults(vault_names, deleted or [])
    statuses = {}
    for name in names:
        if name_rules.owned(name, existing) or name.name in matched:
            continue
        status = _read(checks, f"name {name.name}", partial(facts.name_status, name), READER_FIX)
        if status is not None:
            statuses[name.name] = status
    checks.extend(name_rules.name_checks(names, statuses, existing, matched, group))
    workspaces = [r.azure_name for r in stack.of_type(WORKSPACE_TYPE) if r.azure_name]
    checks.extend(name_rules.workspace_checks(workspaces, existing, group))
    return report(stack.stack, subscription_id, location, checks)


def _exists(stack: DeclaredStack, logical_name: str, existing: set[tuple[str, str]] | None) -> bool:
    """Whether the declared resource ``logical_name`` exists in the stack's group already.

    Matched by Azure name and kind (the group listing names top-level resources only, which is
    what holds VMs: clusters and container groups; an Azure ML compute is inside its workspace,
    so a deployed workspace stands for its compute).
    """
    if not existing:
        return False
    [resource] = [r for r in stack.resources if r.name == logical_name]
    names = {name for _, name in existing}
    if resource.type == "azure-native:machinelearningservices:Compute":
        workspace = resource.inputs.get("workspaceName")
        return isinstance(workspace, str) and workspace.lower() in names
    return resource.azure_name.lower() in names
