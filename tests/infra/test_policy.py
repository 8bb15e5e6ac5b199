"""The policy pack over the captured resources: prod clean, insecure settings named."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from infra.offline import OfflineRun, run_stack
from pipelines.paths import REPO_ROOT as ROOT
from policy.baseline import POLICIES, POLICY_NAMES
from policy.check import ResourceToCheck, check_resources, load_pack_config
from tests.infra.offline_stacks import DATABRICKS_RUN, to_check


@pytest.fixture
def runs(runs: dict[str, OfflineRun], databricks_run: OfflineRun) -> dict[str, OfflineRun]:
    """The stacks, and dev with the optional Databricks workspace (its policies need a resource)."""
    return {**runs, DATABRICKS_RUN: databricks_run}


@pytest.mark.parametrize(
    ("stack", "environment"),
    [("prod", "prod"), ("qa", "qa"), ("dev", "dev"), ("dev-pr42", "dev"), ("dev+databricks", "dev")],
)
def test_every_stack_passes_its_pack_config(
    runs: dict[str, OfflineRun], stack: str, environment: str
) -> None:
    assert check_resources(to_check(runs[stack]), load_pack_config(environment)) == []


def test_prod_runs_without_relaxations() -> None:
    assert load_pack_config("prod") == {} and load_pack_config("qa") == {}
    assert set(load_pack_config("dev")) == DEV_RELAXED | DEV_RELAXED_WITH_ACI


DEV_RELAXED = {
    "keyvault-purge-protection",
    "keyvault-retention",
    "network-public-access-disabled",
    "network-default-deny",
    "workspace-managed-network",
}
# dev's container group is off by default: its HTTP relaxation applies once it is enabled
DEV_RELAXED_WITH_ACI = {"scoring-https-only"}


def test_dev_relaxations_are_exactly_what_strict_mode_reports(runs: dict[str, OfflineRun]) -> None:
    violations = check_resources(to_check(runs["dev"]))
    assert {v.policy for v in violations} == DEV_RELAXED
    public = {(v.policy, v.resource_name) for v in violations if v.policy.startswith("network-public")}
    assert public == {
        ("network-public-access-disabled", name) for name in ("core-mlw", "core-st", "core-kv", "core-cr")
    }


def test_qa_is_public_by_design_and_prod_would_not_be(runs: dict[str, OfflineRun]) -> None:
    """qa passes strict mode with public access (its ACI is outside any network); the same
    resources tagged prod do not."""
    qa = to_check(runs["qa"])
    assert check_resources(qa) == []
    as_prod = [ResourceToCheck(r.type, r.name, r.urn, _retagged(r.props, "prod"), r.dependencies) for r in qa]
    names = {(v.policy, v.resource_name) for v in check_resources(as_prod)}
    assert ("network-public-access-disabled", "core-cr") in names
    assert ("network-default-deny", "core-st") in names
    assert ("workspace-managed-network", "core-mlw") in names


def _retagged(props: Any, environment: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(props))
    if isinstance(out.get("tags"), dict):
        out["tags"]["environment"] = environment
    return out


def test_relaxations_never_apply_to_prod_resources(runs: dict[str, OfflineRun]) -> None:
    resources = to_check(runs["prod"])
    weakened = []
    for r in resources:
        props: dict[str, Any] = copy.deepcopy(dict(r.props))
        if r.type == "azure-native:keyvault:Vault":
            props["properties"].pop("enablePurgeProtection")
            props["properties"]["softDeleteRetentionInDays"] = 7
        weakened.append(ResourceToCheck(r.type, r.name, r.urn, props, r.dependencies))
        if r.type in ("azure-native:storage:StorageAccount", "azure-native:containerregistry:Registry"):
            props["publicNetworkAccess"] = "Enabled"
        if r.type == "azure-native:machinelearningservices:Workspace":
            props.pop("managedNetwork")
    names = {v.policy for v in check_resources(weakened, load_pack_config("dev"))}
    assert names == {
        "keyvault-purge-protection",
        "keyvault-retention",
        "network-public-access-disabled",
        "workspace-managed-network",
    }


def test_a_deliberately_insecure_configuration_is_named() -> None:
    run = run_stack(
        "dev-insecure",
        overrides={
            "azure-mlops:compute": {"minNodes": 1, "maxNodes": 2, "lowPriority": True},
            "azure-mlops:keyVault": {"purgeProtection": False, "softDeleteRetentionDays": 7},
            # private, as prod, so that only the two weakenings above stand out
            "azure-mlops:network": {"isolation": "managed"},
            "azure-mlops:containerRegistry": {"sku": "Premium"},
        },
    )
    violations = check_resources(to_check(run), load_pack_config("prod"))
    assert sorted(v.policy for v in violations) == [
        "aml-compute-scale-to-zero",
        "keyvault-purge-protection",
        "keyvault-retention",
    ]
    assert any("minNodeCount must be 0 (got 1" in v.message for v in violations)


# One insecure mutation per policy, applied to a resource captured from a real run.
MUTATIONS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("storage-secure-transfer", "prod", "core-st", {"enableHttpsTrafficOnly": False}),
    ("storage-min-tls-1-2", "prod", "core-st", {"minimumTlsVersion": "TLS1_0"}),
    ("storage-no-public-blob", "prod", "core-st", {"allowBlobPublicAccess": True}),
    ("keyvault-soft-delete", "prod", "core-kv", {"properties.enableSoftDelete": False}),
    ("keyvault-purge-protection", "prod", "core-kv", {"properties.enablePurgeProtection": None}),
    ("keyvault-retention", "prod", "core-kv", {"properties.softDeleteRetentionInDays": 30}),
    ("keyvault-rbac", "prod", "core-kv", {"properties.enableRbacAuthorization": False}),
    ("registry-admin-disabled", "prod", "core-cr", {"adminUserEnabled": True}),
    ("registry-anonymous-pull-disabled", "prod", "core-cr", {"anonymousPullEnabled": True}),
    (
        "aml-compute-local-auth-disabled",
        "dev",
        "training-cluster",
        {"properties.disableLocalAuth": False},
    ),
    (
        "aml-compute-scale-to-zero",
        "dev",
        "training-cluster",
        {"properties.properties.scaleSettings.minNodeCount": 2},
    ),
    ("workspace-managed-identity", "prod", "core-mlw", {"identity.type": "None"}),
    ("workspace-v1-legacy-off", "prod", "core-mlw", {"v1LegacyMode": True}),
    ("aks-local-accounts-disabled", "prod", "serving-aks", {"disableLocalAccounts": False}),
    (
        "databricks-no-public-ip",
        "dev+databricks",
        "databricks-dbw",
        {"parameters.enableNoPublicIp.value": False},
    ),
    (
        "databricks-managed-resource-group-named",
        "dev+databricks",
        "databricks-dbw",
        {"managedResourceGroupId": None},
    ),
    ("aks-azure-rbac", "prod", "serving-aks", {"aadProfile.enableAzureRBAC": False}),
    ("aks-network-policy", "prod", "serving-aks", {"networkProfile.networkPolicy": "none"}),
    ("aks-upgrade-channels", "prod", "serving-aks", {"autoUpgradeProfile.upgradeChannel": "none"}),
    ("appinsights-on-log-analytics", "prod", "core-appi", {"workspaceResourceId": None}),
    ("aci-secrets-secure", "qa", "scoring-aci", {"containers.0.environmentVariables.1": None}),
    ("aks-node-hardening", "prod", "serving-aks", {"agentPoolProfiles.0.enableEncryptionAtHost": False}),
    ("aks-node-hardening", "prod", "serving-aks", {"agentPoolProfiles.0.osDiskType": None}),
    ("network-public-access-disabled", "prod", "core-mlw", {"publicNetworkAccess": "Enabled"}),
    ("network-public-access-disabled", "prod", "core-st", {"publicNetworkAccess": None}),
    ("network-public-access-disabled", "prod", "core-kv", {"properties.publicNetworkAccess": "Enabled"}),
    ("network-public-access-disabled", "prod", "core-cr", {"publicNetworkAccess": "Enabled"}),
    ("network-default-deny", "prod", "core-st", {"networkRuleSet.defaultAction": "Allow"}),
    ("network-default-deny", "prod", "core-kv", {"properties.networkAcls.bypass": "None"}),
    (
        "workspace-managed-network",
        "prod",
        "core-mlw",
        {"managedNetwork.isolationMode": "AllowInternetOutbound"},
    ),
    (
        "scoring-https-only",
        "qa",
        "scoring-aci",
        {"ipAddress.ports": [{"port": 443, "protocol": "TCP"}, {"port": 5001, "protocol": "TCP"}]},
    ),
    ("scoring-https-only", "qa", "scoring-aci", {"ipAddress.ports": [{"port": 80, "protocol": "TCP"}]}),
    (
        "scoring-https-only",
        "prod",
        "serving-azureml",
        {"configurationSettings.allowInsecureConnections": "True"},
    ),
    ("required-tags", "prod", "core-st", {"tags.owner": None}),
    ("required-tags", "dev-pr42", "core-rg", {"tags.expires-at": "soon"}),
]


def _mutate(props: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target: Any = props
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    if isinstance(target, list):
        # Turn the secret env var into a plain one.
        variable = target[int(last)]
        variable["value"] = variable.pop("secureValue")
    elif value is None:
        target.pop(last, None)
    else:
        target[last] = value


@pytest.mark.parametrize(("policy", "stack", "resource", "changes"), MUTATIONS)
def test_each_policy_names_its_insecure_setting(
    runs: dict[str, OfflineRun], policy: str, stack: str, resource: str, changes: dict[str, Any]
) -> None:
    (captured,) = [r for r in runs[stack].custom_resources if r.name == resource]
    props = copy.deepcopy(captured.plain_inputs)
    for path, value in changes.items():
        _mutate(props, path, value)
    violations = check_resources([ResourceToCheck(captured.type, resource, captured.urn, props)])
    assert [v.policy for v in violations] == [policy]
    assert (
        check_resources([ResourceToCheck(captured.type, resource, captured.urn, captured.plain_inputs)]) == []
    )


TRUSTED_ACCESS = "azure-native:containerservice:TrustedAccessRoleBinding"


@pytest.mark.parametrize("change", ["no binding", "attach not after it", "other role", "other workspace"])
def test_an_attach_without_local_accounts_needs_the_trusted_access_binding_first(
    runs: dict[str, OfflineRun], change: str
) -> None:
    resources = to_check(runs["prod"])
    (binding,) = [r for r in resources if r.type == TRUSTED_ACCESS]
    props = copy.deepcopy(dict(binding.props))
    if change == "no binding":
        resources.remove(binding)
    elif change == "attach not after it":
        resources = [
            ResourceToCheck(r.type, r.name, r.urn, r.props, ())
            if r.name in ("serving-compute", "serving-attach-wait")
            else r
            for r in resources
        ]
    else:
        if change == "other role":
            props["roles"] = ["Microsoft.MachineLearningServices/workspaces/reader"]
        else:
            props["sourceResourceId"] = props["sourceResourceId"] + "-other"
        resources[resources.index(binding)] = ResourceToCheck(
            binding.type, binding.name, binding.urn, props, binding.dependencies
        )
    violations = check_resources(resources, load_pack_config("prod"))
    assert [(v.policy, v.resource_name) for v in violations] == [
        ("aks-azureml-trusted-access", "serving-compute")
    ]
    assert "mlworkload" in violations[0].message


def test_local_accounts_on_is_refused_and_says_why(runs: dict[str, OfflineRun]) -> None:
    (cluster,) = [r for r in to_check(runs["prod"]) if r.name == "serving-aks"]
    props = {**cluster.props, "disableLocalAccounts": False}
    (violation,) = check_resources([ResourceToCheck(cluster.type, cluster.name, cluster.urn, props)])
    assert violation.policy == "aks-local-accounts-disabled" and "Trusted Access" in violation.message


def test_every_policy_has_an_insecure_example() -> None:
    stack_policies = {"aks-azureml-trusted-access"}  # its own test above
    assert {m[0] for m in MUTATIONS} | stack_policies == POLICY_NAMES
    assert len(POLICIES) == len(POLICY_NAMES)


def test_a_plain_http_container_group_is_relaxed_in_dev_only() -> None:
    """dev's container group without TLS settings: allowed by dev's pack config, refused strictly
    and for any other environment's tag."""
    run = run_stack("dev", overrides={"azure-mlops:containerInstance": {"enabled": True}})
    resources = to_check(run)
    assert check_resources(resources, load_pack_config("dev")) == []
    strict = {(v.policy, v.resource_name) for v in check_resources(resources)}
    assert ("scoring-https-only", "scoring-aci") in strict
    (group,) = [r for r in resources if r.name == "scoring-aci"]
    as_qa = ResourceToCheck(group.type, group.name, group.urn, _retagged(group.props, "qa"))
    (violation,) = check_resources([as_qa], load_pack_config("dev"))
    assert violation.policy == "scoring-https-only" and "[5001]" in violation.message


def test_disabled_policies_are_skipped(runs: dict[str, OfflineRun]) -> None:
    config = dict.fromkeys(DEV_RELAXED, "disabled")
    assert check_resources(to_check(runs["dev"]), config) == []


def test_policy_pack_project_file() -> None:
    project = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert (ROOT / "policy" / "__main__.py").exists()
    main = (ROOT / "policy" / "__main__.py").read_text()
    assert "EnforcementLevel.MANDATORY" in main
