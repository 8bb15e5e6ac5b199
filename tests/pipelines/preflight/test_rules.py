"""The preflight's pure logic: needs read from the stacks, quota arithmetic, names, soft delete, RBAC."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipelines.declared import DeclaredResource
from pipelines.preflight import needs
from pipelines.preflight.facts import (
    DeletedVault,
    NameStatus,
    Principal,
    ProviderInfo,
    QuotaUsage,
    RoleGrant,
    SubscriptionInfo,
    VmSku,
)
from pipelines.preflight.names import match_deleted_vaults, name_checks, workspace_checks
from pipelines.preflight.providers import feature_checks, provider_checks, region_checks
from pipelines.preflight.quota import (
    Need,
    container_quota_checks,
    headroom_check,
    quota_checks,
    size_checks,
    vcpu_needs,
)
from pipelines.preflight.rbac import (
    action_matches,
    grants_for,
    identity_checks,
    permission_checks,
    principal_from_claims,
    scope_covers,
    token_claims,
)
from pipelines.preflight.report import Status
from tests.pipelines.declared_stacks import declared

SUB = "00000000-0000-0000-0000-0000000000aa"


# --- what the stacks need ------------------------------------------------------------------


def test_providers_come_from_the_type_tokens() -> None:
    assert [n.lower() for n in needs.provider_namespaces(declared("prod"))] == [
        "microsoft.containerregistry",
        "microsoft.containerservice",
        "microsoft.insights",  # applicationinsights:Component
        "microsoft.keyvault",
        "microsoft.kubernetesconfiguration",
        "microsoft.machinelearningservices",
        "microsoft.managedidentity",
        "microsoft.network",  # prod's private network and its private DNS zones (azure-native:privatedns)
        "microsoft.operationalinsights",
        "microsoft.storage",
    ]


def test_a_new_resource_type_needs_its_provider_without_a_code_change() -> None:
    stack = declared("dev")
    extra = DeclaredResource(
        "azure-native:network:PublicIPAddress", "ip", "pip-x", {"location": "westeurope"}
    )
    namespaces = [
        n.lower() for n in needs.provider_namespaces(replace(stack, resources=(*stack.resources, extra)))
    ]
    assert "microsoft.network" in namespaces and "microsoft.network" not in [
        n.lower() for n in needs.provider_namespaces(stack)
    ]


def test_vm_demands_read_cluster_maximums() -> None:
    [aks, batch] = needs.vm_demands(declared("prod"))
    assert (aks.vm_size, aks.nodes, aks.quota, aks.pool) == ("Standard_D4ds_v5", 5, "compute", "system")
    # the batch scoring cluster: dedicated nodes, counted against Azure ML's quota
    assert (batch.resource, batch.vm_size, batch.nodes, batch.quota) == (
        "batch-cluster",
        "Standard_DS3_v2",
        2,
        "aml",
    )
    assert [d.resource for d in needs.vm_demands(declared("qa"))] == ["batch-cluster"]
    [aml] = needs.vm_demands(declared("dev"))
    assert (aml.vm_size, aml.nodes, aml.quota) == ("Standard_DS3_v2", 2, "aml-low-priority")
    assert needs.container_cpus(declared("qa")) == [("scoring-aci", 1.5)]  # scoring 1 + TLS sidecar 0.5


def test_global_names_and_features() -> None:
    kinds = {(n.kind, n.name[:2]) for n in needs.global_names(declared("qa"))}
    assert kinds == {("storage", "st"), ("keyvault", "kv"), ("registry", "cr")}
    stack = declared("prod")
    [cluster] = stack.of_type("azure-native:containerservice:ManagedCluster")
    pools = [{**p, "enableEncryptionAtHost": False} for p in cluster.inputs["agentPoolProfiles"]]
    plain = replace(cluster, inputs={**cluster.inputs, "agentPoolProfiles": pools})
    assert needs.feature_needs(replace(stack, resources=(plain,))) == []
    [(need, resource)] = needs.feature_needs(stack)  # prod encrypts at host
    assert (need.namespace, need.feature, resource) == (
        "Microsoft.Compute",
        "EncryptionAtHost",
        "serving-aks",
    )


# --- quota ------------------------------------------------------------------------------------

SKUS = {"standard_d4ds_v5": VmSku("Standard_D4ds_v5", "standardDDSv5Family", 4)}


def test_quota_counts_family_and_regional_vcpus_at_max_nodes() -> None:
    demands = needs.vm_demands(declared("prod"))
    need_by_key = {n.key: n.vcpus for n in vcpu_needs(demands, SKUS, regional_key="cores")}
    assert need_by_key == {"standardddsv5family": 20, "cores": 20}
    usages = [
        QuotaUsage("standardDDSv5Family", "Standard DDSv5 Family vCPUs", 80, 100),
        QuotaUsage("cores", "Total Regional vCPUs", 90, 100),
    ]
    checks = {
        c.id: c
        for c in quota_checks(
            vcpu_needs(demands, SKUS, regional_key="cores"),
            usages,
            provider="Microsoft.Compute",
            location="westeurope",
        )
    }
    assert checks["quota.Microsoft.Compute.standardddsv5family"].status is Status.PASS  # 80 + 20 <= 100
    regional = checks["quota.Microsoft.Compute.cores"]
    assert (
        regional.status is Status.FAIL and "10 short" in regional.detail and "Usage + quotas" in regional.fix
    )


@pytest.mark.parametrize(
    ("current", "limit", "status"), [(0, 8, Status.PASS), (4, 8, Status.PASS), (5, 8, Status.FAIL)]
)
def test_headroom_is_limit_minus_current(current: int, limit: int, status: Status) -> None:
    check = headroom_check(
        "q", "q", Need("f", 4, ("x",)), QuotaUsage("f", "F", current, limit), provider="P", location="l"
    )
    assert check.status is status


def test_a_family_the_region_does_not_count_has_no_quota() -> None:
    check = headroom_check("q", "q", Need("standardnewfamily", 4, ("x",)), None, provider="P", location="l")
    assert check.status is Status.FAIL and "0 of 4" in check.detail


def test_low_priority_draws_on_the_single_regional_counter() -> None:
    demands = needs.vm_demands(declared("dev"))
    sizes = {"standard_ds3_v2": VmSku("Standard_DS3_v2", "standardDSv2Family", 4)}
    [need] = vcpu_needs(demands, sizes, regional_key=None)
    assert (need.key, need.vcpus) == ("totallowprioritycores", 8)


def test_sizes_not_offered_or_restricted_fail() -> None:
    demands = [d for d in needs.vm_demands(declared("prod")) if d.quota == "compute"]  # AKS's nodes
    assert size_checks(demands, SKUS, service="s", location="l")[0].status is Status.PASS
    restricted = {"standard_d4ds_v5": VmSku("Standard_D4ds_v5", "f", 4, "NotAvailableForSubscription")}
    [check] = size_checks(demands, restricted, service="s", location="l")
    assert check.status is Status.FAIL and "NotAvailableForSubscription" in check.detail
    assert size_checks(demands, {}, service="s", location="l")[0].detail == "not offered in l"


def test_container_cores() -> None:
    [check] = container_quota_checks(
        [("aci", 1.5)], [QuotaUsage("StandardCores", "Standard Cores", 9, 10)], location="l"
    )
    assert check.status is Status.FAIL and "0.5 short" in check.detail


# --- names and soft delete ----------------------------------------------------------------------


def _vault(name: str, protected: bool) -> DeletedVault:
    return DeletedVault(name, "westeurope", datetime(2030, 3, 1, tzinfo=UTC), protected)


def test_soft_deleted_vaults_match_case_insensitively() -> None:
    deleted = [_vault("KV-MLOPS-QA-123456", True), _vault("kv-other", False)]
    assert match_deleted_vaults(["kv-mlops-qa-123456", "kv-new"], deleted) == {
        "kv-mlops-qa-123456": deleted[0]
    }


def test_name_checks_tell_own_free_taken_invalid_and_soft_deleted() -> None:
    names = needs.global_names(declared("qa"))
    storage, vault, registry = (
        next(n for n in names if n.kind == k) for k in ("storage", "keyvault", "registry")
    )
    statuses = {
        storage.name: NameStatus(False, "AlreadyExists", "The storage account named x is already taken."),
        registry.name: NameStatus(True),
    }
    checks = {
        c.id.split(".")[1]: c
        for c in name_checks(names, statuses, None, {vault.name: _vault(vault.name, True)}, "rg-mlops-qa")
    }
    assert checks["storage"].status is Status.FAIL and "namePrefix" in checks["storage"].fix
    assert checks["registry"].status is Status.PASS
    soft = checks["keyvault"]
    assert (
        soft.status is Status.FAIL
        and "cannot be purged before 2030-03-01" in soft.fix
        and "az keyvault recover" in soft.fix
    )
    unprotected = name_checks([vault], {}, None, {vault.name: _vault(vault.name, False)}, "rg")
    assert "az keyvault purge --name" in unprotected[0].fix
    own = {("microsoft.storage/storageaccounts", storage.name.lower())}
    assert name_checks([storage], {}, own, {}, "rg-mlops-qa")[0].detail == "already the stack's (rg-mlops-qa)"
    invalid = name_checks(
        [storage], {storage.name: NameStatus(False, "AccountNameInvalid", "bad")}, None, {}, "rg"
    )
    assert invalid[0].status is Status.FAIL


def test_a_workspace_to_create_warns_to_look_at_recently_deleted() -> None:
    [new] = workspace_checks(["mlw-x"], None, "rg")
    assert new.status is Status.WARN and "Recently deleted" in new.fix
    [own] = workspace_checks(["mlw-x"], {("microsoft.machinelearningservices/workspaces", "mlw-x")}, "rg")
    assert own.status is Status.PASS


# --- providers, features, regions ------------------------------------------------------------------


def test_provider_states() -> None:
    stack = declared("dev")
    providers = {n.lower(): ProviderInfo(n, "Registered") for n in needs.provider_namespaces(stack)}
    providers["microsoft.machinelearningservices"] = ProviderInfo(
        "Microsoft.MachineLearningServices", "NotRegistered"
    )
    checks = {c.id: c for c in provider_checks(stack, providers)}
    failed = checks["provider.Microsoft.machinelearningservices"]
    assert (
        failed.status is Status.FAIL
        and failed.fix == "az provider register --namespace Microsoft.MachineLearningServices --wait"
    )
    assert sum(c.status is Status.PASS for c in checks.values()) == len(checks) - 1


def test_region_not_offered_fails_and_unknown_types_are_skipped() -> None:
    stack = declared("prod")
    providers = {
        "microsoft.containerservice": ProviderInfo(
            "Microsoft.ContainerService", "Registered", {"managedclusters": ("East US", "North Europe")}
        )
    }
    [check] = region_checks(stack, providers)
    assert check.status is Status.FAIL and "westeurope" in check.detail
    providers["microsoft.containerservice"] = ProviderInfo(
        "Microsoft.ContainerService", "Registered", {"managedclusters": ("West Europe",)}
    )
    assert region_checks(stack, providers)[0].status is Status.PASS


def test_feature_not_registered_fails_with_the_commands() -> None:
    need = needs.FEATURE_RULES[0][2]
    [check] = feature_checks(
        [(need, "serving-aks")], {("Microsoft.Compute", "EncryptionAtHost"): "NotRegistered"}
    )
    assert (
        check.status is Status.FAIL
        and "az feature register --namespace Microsoft.Compute --name EncryptionAtHost" in check.fix
    )


# --- identity and RBAC ------------------------------------------------------------------------------


def _jwt(claims: dict[str, str]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


def test_token_claims_name_a_user_or_an_app() -> None:
    user = principal_from_claims(token_claims(_jwt({"oid": "o1", "tid": "t1", "upn": "ada@example.com"})))
    assert user == Principal("o1", "t1", "ada@example.com", "user")
    app = principal_from_claims(token_claims(_jwt({"oid": "o2", "tid": "t1", "appid": "a2", "idtyp": "app"})))
    assert (app.kind, app.name) == ("app", "a2")
    assert token_claims("not-a-jwt") == {}


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("*", "Microsoft.Authorization/roleAssignments/write", True),
        ("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write", True),
        ("Microsoft.Authorization/*", "Microsoft.Authorization/roleAssignments/write", True),
        ("Microsoft.Authorization/*/read", "Microsoft.Authorization/roleAssignments/write", False),
        (
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Resources/subscriptions/resourceGroups/write",
            False,
        ),
    ],
)
def test_action_wildcards(pattern: str, action: str, matches: bool) -> None:
    assert action_matches(pattern, action) is matches


def test_scopes_cover_their_children_only() -> None:
    assert scope_covers(f"/subscriptions/{SUB}", f"/subscriptions/{SUB}/resourceGroups/rg")
    assert scope_covers("/providers/Microsoft.Management/managementGroups/root", f"/subscriptions/{SUB}")
    assert not scope_covers(
        f"/subscriptions/{SUB}/resourceGroups/rg-other", f"/subscriptions/{SUB}/resourceGroups/rg"
    )
    assert not scope_covers(
        f"/subscriptions/{SUB}/resourceGroups/rg", f"/subscriptions/{SUB}/resourceGroups/rg2"
    )


CONTRIBUTOR = RoleGrant(
    f"/subscriptions/{SUB}",
    "Contributor",
    ("*",),
    (
        "Microsoft.Authorization/*/Delete",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action",
    ),
)
UAA = RoleGrant(
    f"/subscriptions/{SUB}",
    "User Access Administrator",
    ("*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"),
    (),
)
PRINCIPAL = Principal("o1", "t1", "ci", "app")


def test_contributor_may_create_the_group_but_not_role_assignments() -> None:
    checks = {
        c.id: c
        for c in permission_checks(
            [CONTRIBUTOR], subscription_id=SUB, resource_group="rg-x", assigns_roles=True, principal=PRINCIPAL
        )
    }
    assert checks["rbac.create"].status is Status.PASS
    assign = checks["rbac.assign-roles"]
    assert (
        assign.status is Status.FAIL
        and "Role Based Access Control Administrator" in assign.fix
        and "--assignee o1" in assign.fix
    )
    both = permission_checks(
        [CONTRIBUTOR, UAA],
        subscription_id=SUB,
        resource_group="rg-x",
        assigns_roles=True,
        principal=PRINCIPAL,
    )
    assert all(c.status is Status.PASS for c in both)


def test_a_conditional_delegation_warns_and_a_group_scoped_grant_does_not_reach_the_subscription() -> None:
    conditional = replace(UAA, condition="@Request[...] ForAnyOfAnyValues:GuidEquals {...}")
    checks = {
        c.id: c
        for c in permission_checks(
            [CONTRIBUTOR, conditional],
            subscription_id=SUB,
            resource_group="rg",
            assigns_roles=True,
            principal=PRINCIPAL,
        )
    }
    assert checks["rbac.assign-roles"].status is Status.WARN
    group_owner = RoleGrant(f"/subscriptions/{SUB}/resourceGroups/rg", "Owner", ("*",), ())
    assert (
        grants_for(
            [group_owner], "Microsoft.Resources/subscriptions/resourceGroups/write", f"/subscriptions/{SUB}"
        )
        == []
    )


def test_identity_subscription_state_and_tenant() -> None:
    ok = identity_checks(PRINCIPAL, SubscriptionInfo(SUB, "dev", "Enabled", "t1"))
    assert [c.status for c in ok] == [Status.PASS, Status.PASS]
    bad = {c.id: c for c in identity_checks(PRINCIPAL, SubscriptionInfo(SUB, "dev", "Disabled", "t2"))}
    assert bad["subscription"].status is Status.FAIL
    assert bad["tenant"].status is Status.FAIL and "az login --tenant t2" in bad["tenant"].fix
