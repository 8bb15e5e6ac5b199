"""Network isolation under mocks: prod has no public path; dev and qa stay public; the settings."""

from __future__ import annotations

import pytest

from infra.components.core import PACKAGE_HOSTS
from infra.components.network import DNS_ZONES, subnet_prefixes
from infra.config import ConfigError
from infra.offline import MOCK_SUBSCRIPTION_ID, OfflineRun, run_stack

WORKSPACE = "azure-native:machinelearningservices:Workspace"
STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"


def _endpoints_to(run: OfflineRun, resource_id: str) -> set[str]:
    """The sub-resources (group ids) this run's private endpoints connect to ``resource_id``."""
    groups: set[str] = set()
    for endpoint in run.of_type(ENDPOINT):
        for connection in endpoint.plain_inputs["privateLinkServiceConnections"]:
            if connection["privateLinkServiceId"] == resource_id:
                groups.update(connection["groupIds"])
    return groups


ARM = {
    WORKSPACE: ("Microsoft.MachineLearningServices/workspaces", "workspaceName"),
    STORAGE: ("Microsoft.Storage/storageAccounts", "accountName"),
    VAULT: ("Microsoft.KeyVault/vaults", "vaultName"),
    REGISTRY: ("Microsoft.ContainerRegistry/registries", "registryName"),
    "azure-native:network:VirtualNetwork": ("Microsoft.Network/virtualNetworks", "virtualNetworkName"),
    ZONE: ("Microsoft.Network/privateDnsZones", "privateZoneName"),
}


def _id(run: OfflineRun, type_: str, name: str | None = None) -> str:
    """The ARM id a resource of the run has (the mocks' ids follow ARM's form)."""
    arm_type, name_key = ARM[type_]
    if name is None:
        name = run.one(type_).plain_inputs[name_key]
    rg = run.one("azure-native:resources:ResourceGroup").plain_inputs["resourceGroupName"]
    return f"/subscriptions/{MOCK_SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/{arm_type}/{name}"


def test_prod_workspace_has_no_public_path(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    ws = run.one(WORKSPACE).plain_inputs
    assert ws["publicNetworkAccess"] == "Disabled"
    assert ws["managedNetwork"]["isolationMode"] == "AllowOnlyApprovedOutbound"
    assert "outboundRules" not in ws["managedNetwork"]  # prod builds no image: required rules only
    assert _endpoints_to(run, _id(run, WORKSPACE)) == {"amlworkspace"}


def test_prod_storage_has_no_public_path(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    st = run.one(STORAGE).plain_inputs
    assert st["publicNetworkAccess"] == "Disabled"
    assert st["networkRuleSet"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    assert st["allowBlobPublicAccess"] is False
    assert _endpoints_to(run, _id(run, STORAGE)) == {"blob", "file"}


def test_prod_key_vault_has_no_public_path(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    kv = run.one(VAULT).plain_inputs["properties"]
    assert kv["publicNetworkAccess"] == "Disabled"
    assert kv["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    assert _endpoints_to(run, _id(run, VAULT)) == {"vault"}


def test_prod_registry_has_no_public_path(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    cr = run.one(REGISTRY).plain_inputs
    assert cr["publicNetworkAccess"] == "Disabled"
    assert cr["sku"]["name"] == "Premium"  # private endpoints need Premium
    assert cr["networkRuleBypassOptions"] == "AzureServices"
    assert cr["adminUserEnabled"] is False and cr["anonymousPullEnabled"] is False
    assert _endpoints_to(run, _id(run, REGISTRY)) == {"registry"}


def test_prod_endpoints_resolve_through_linked_private_zones(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    vnet_id = _id(run, "azure-native:network:VirtualNetwork")
    zones = {
        _id(run, ZONE, z.plain_inputs["privateZoneName"]): z.plain_inputs["privateZoneName"]
        for z in run.of_type(ZONE)
    }
    assert set(zones.values()) == {z for group in DNS_ZONES.values() for z in group}
    linked = {
        link.plain_inputs["privateZoneName"]
        for link in run.of_type(LINK)
        if link.plain_inputs["virtualNetwork"]["id"] == vnet_id
        and link.plain_inputs["registrationEnabled"] is False
    }
    assert linked == set(zones.values())
    endpoint_names = {e.plain_inputs["privateEndpointName"]: e for e in run.of_type(ENDPOINT)}
    for group in run.of_type(ZONE_GROUP):
        endpoint = endpoint_names[group.plain_inputs["privateEndpointName"]]
        (connection,) = endpoint.plain_inputs["privateLinkServiceConnections"]
        (sub_resource,) = connection["groupIds"]
        used = {zones[c["privateDnsZoneId"]] for c in group.plain_inputs["privateDnsZoneConfigs"]}
        assert used == set(DNS_ZONES[sub_resource])
        assert endpoint.plain_inputs["subnet"]["id"] == vnet_id + "/subnets/endpoints"
    assert len(run.of_type(ZONE_GROUP)) == len(run.of_type(ENDPOINT)) == 5


def test_prod_aks_nodes_join_the_private_network(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    cluster = run.one("azure-native:containerservice:ManagedCluster").plain_inputs
    (pool,) = cluster["agentPoolProfiles"]
    assert pool["vnetSubnetID"] == _id(run, "azure-native:network:VirtualNetwork") + "/subnets/aks"
    (grant,) = [
        r for r in run.of_type("azure-native:authorization:RoleAssignment") if r.name.endswith("subnet")
    ]
    assert grant.plain_inputs["scope"] == pool["vnetSubnetID"]
    assert grant.plain_inputs["roleDefinitionId"].endswith("/4d97b98b-1d4f-4787-a291-c67834d212e7")


@pytest.mark.parametrize("stack", ["dev", "qa", "dev-pr42"])
def test_dev_and_qa_stay_public_and_cheap(runs: dict[str, OfflineRun], stack: str) -> None:
    run = runs[stack]
    assert not [r for r in run.custom_resources if r.type.split(":")[1] in ("network", "privatedns")]
    ws = run.one(WORKSPACE).plain_inputs
    assert ws["publicNetworkAccess"] == "Enabled" and "managedNetwork" not in ws
    assert "networkRuleSet" not in run.one(STORAGE).plain_inputs
    assert "networkAcls" not in run.one(VAULT).plain_inputs["properties"]
    for compute in run.of_type("azure-native:machinelearningservices:Compute"):
        # the SDK's default, sent as such: a public workspace's nodes keep their public IPs
        assert compute.plain_inputs["properties"]["properties"]["enableNodePublicIp"] is True


def test_a_managed_dev_stack_builds_images_on_its_cluster_through_package_rules() -> None:
    run = run_stack(
        "dev-private",
        overrides={
            "azure-mlops:network": {"isolation": "managed"},
            "azure-mlops:containerRegistry": {"sku": "Premium"},
        },
    )
    ws = run.one(WORKSPACE).plain_inputs
    rules = ws["managedNetwork"]["outboundRules"]
    assert {r["destination"] for r in rules.values()} == set(PACKAGE_HOSTS)
    assert {(r["type"], r["category"]) for r in rules.values()} == {("FQDN", "UserDefined")}
    assert (
        ws["imageBuildCompute"]
        == run.one("azure-native:machinelearningservices:Compute").plain_inputs["computeName"]
    )
    assert len(run.of_type(ENDPOINT)) == 5


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"azure-mlops:network": {"isolation": "private"}},
            ["azure-mlops:network.isolation", "'public' or 'managed'", "'private'"],
        ),
        (
            {"azure-mlops:network": {"isolation": "managed", "addressSpace": "8.8.0.0/16"}},
            ["azure-mlops:network.addressSpace", "'8.8.0.0/16'"],
        ),
        (
            {"azure-mlops:network": {"isolation": "managed"}},
            ["containerRegistry.sku: Basic", "(allowed: Premium)"],
        ),
        (
            {
                "azure-mlops:network": {"isolation": "managed"},
                "azure-mlops:containerRegistry": {"sku": "Premium"},
                "azure-mlops:publicNetworkAccess": "Enabled",
            },
            ["publicNetworkAccess: Enabled contradicts network.isolation: managed"],
        ),
    ],
)
def test_bad_network_settings_name_the_key_and_the_allowed_values(
    overrides: dict[str, object], expected: list[str]
) -> None:
    with pytest.raises(ConfigError) as err:
        run_stack("dev-bad", overrides=overrides)
    for fragment in expected:
        assert fragment in str(err.value)


def test_qa_cannot_be_managed_while_it_serves_from_a_container_instance() -> None:
    with pytest.raises(ConfigError, match=r"containerInstance.enabled: true is not allowed with network"):
        run_stack(
            "qa",
            overrides={
                "azure-mlops:network": {"isolation": "managed"},
                "azure-mlops:containerRegistry": {"sku": "Premium"},
            },
        )


def test_prod_can_opt_out_explicitly_and_the_policy_pack_then_refuses_it() -> None:
    from policy.check import check_resources, load_pack_config
    from tests.infra.offline_stacks import to_check

    run = run_stack("prod", overrides={"azure-mlops:network": {"isolation": "public"}})
    assert not run.of_type(ENDPOINT)
    policies = {v.policy for v in check_resources(to_check(run), load_pack_config("prod"))}
    assert policies == {"network-public-access-disabled", "network-default-deny", "workspace-managed-network"}


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ("10.42.0.0/16", ("10.42.0.0/24", "10.42.1.0/24")),
        ("192.168.8.0/23", ("192.168.8.0/24", "192.168.9.0/24")),
        ("172.16.0.0/24", ("172.16.0.0/25", "172.16.0.128/25")),
    ],
)
def test_subnets_are_carved_from_the_address_space(space: str, expected: tuple[str, str]) -> None:
    assert subnet_prefixes(space) == expected


def test_storage_redundancy_is_geo_in_prod_and_local_elsewhere(runs: dict[str, OfflineRun]) -> None:
    skus = {stack: run.one(STORAGE).plain_inputs["sku"]["name"] for stack, run in runs.items()}
    assert skus == {
        "dev": "Standard_LRS",
        "qa": "Standard_LRS",
        "prod": "Standard_GRS",
        "dev-pr42": "Standard_LRS",
    }
    run = run_stack("qa", overrides={"azure-mlops:storageRedundancy": "ZRS"})
    assert run.one(STORAGE).plain_inputs["sku"]["name"] == "Standard_ZRS"
    with pytest.raises(
        ConfigError, match=r"azure-mlops:storageRedundancy: Input should be 'LRS', 'ZRS', 'GRS' or 'GZRS'"
    ):
        run_stack("qa", overrides={"azure-mlops:storageRedundancy": "RAGRS"})
