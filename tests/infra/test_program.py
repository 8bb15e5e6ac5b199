"""The program under mocks: resources per environment, key properties, names, tags, outputs."""

from __future__ import annotations

import importlib
import inspect
import re
from collections import Counter

import pytest

from infra.naming import RULES, ResourceNames
from infra.offline import OfflineRun, is_secret, run_stack
from infra.tags import REQUIRED_TAGS
from pipelines.stack_outputs import StackOutputs
from tests.infra.offline_stacks import EXPIRES_AT

CORE = {
    ("azure-mlops:infra:WorkspaceCore", "core"),
    ("azure-native:resources:ResourceGroup", "core-rg"),
    ("azure-native:operationalinsights:Workspace", "core-log"),
    ("azure-native:applicationinsights:Component", "core-appi"),
    ("azure-native:keyvault:Vault", "core-kv"),
    ("azure-native:storage:StorageAccount", "core-st"),
    ("azure-native:containerregistry:Registry", "core-cr"),
    ("azure-native:managedidentity:UserAssignedIdentity", "core-id"),
    ("azure-native:authorization:RoleAssignment", "core-id-rg-contributor"),
    ("azure-native:authorization:RoleAssignment", "core-id-st-blob-contributor"),
    ("azure-native:authorization:RoleAssignment", "core-id-kv-administrator"),
    ("azure-native:authorization:RoleAssignment", "core-id-cr-push"),
    ("time:index/sleep:Sleep", "core-id-wait"),
    ("azure-native:machinelearningservices:Workspace", "core-mlw"),
}
COMPUTE = {
    ("azure-mlops:infra:TrainingCompute", "training"),
    ("azure-native:machinelearningservices:Compute", "training-cluster"),
}
BATCH = {
    ("azure-mlops:infra:TrainingCompute", "batch"),
    ("azure-native:machinelearningservices:Compute", "batch-cluster"),
}
ACI = {
    ("azure-mlops:infra:ContainerInstanceServing", "scoring"),
    ("azure-native:managedidentity:UserAssignedIdentity", "scoring-id"),
    ("azure-native:authorization:RoleAssignment", "scoring-id-acr-pull"),
    ("time:index/sleep:Sleep", "scoring-id-wait"),
    ("azure-native:containerinstance:ContainerGroup", "scoring-aci"),
}
AKS = {
    ("azure-mlops:infra:KubernetesServing", "serving"),
    ("azure-native:containerservice:ManagedCluster", "serving-aks"),
    ("azure-native:authorization:RoleAssignment", "serving-kubelet-acr-pull"),
    ("azure-native:authorization:RoleAssignment", "serving-ws-reader"),
    ("azure-native:authorization:RoleAssignment", "serving-ws-extension-contributor"),
    ("azure-native:authorization:RoleAssignment", "serving-ws-cluster-admin"),
    ("azure-native:authorization:RoleAssignment", "serving-ws-contributor"),
    ("azure-native:containerservice:TrustedAccessRoleBinding", "serving-aml-trusted-access"),
    ("time:index/sleep:Sleep", "serving-attach-wait"),
    ("azure-native:kubernetesconfiguration:Extension", "serving-azureml"),
    ("azure-native:machinelearningservices:Compute", "serving-compute"),
}
_ZONES = ("api", "notebooks", "blob", "file", "vaultcore", "azurecr")
_ENDPOINTS = ("amlworkspace", "blob", "file", "vault", "registry")
NETWORK = {
    ("azure-mlops:infra:PrivateNetwork", "network"),
    ("azure-native:network:VirtualNetwork", "network-vnet"),
    *(("azure-native:privatedns:PrivateZone", f"network-dns-{z}") for z in _ZONES),
    *(("azure-native:privatedns:VirtualNetworkLink", f"network-dns-{z}-link") for z in _ZONES),
    *(("azure-native:network:PrivateEndpoint", f"network-pe-{e}") for e in _ENDPOINTS),
    *(("azure-native:network:PrivateDnsZoneGroup", f"network-pe-{e}-dns") for e in _ENDPOINTS),
    # managed isolation's grants: approving the managed network's endpoints; AKS on its subnet
    ("azure-native:authorization:RoleAssignment", "core-id-rg-network-approver"),
    ("azure-native:authorization:RoleAssignment", "serving-cluster-subnet"),
}
EXPECTED = {
    "dev": CORE | COMPUTE,
    "qa": CORE | ACI | BATCH,
    "prod": CORE | AKS | NETWORK | BATCH,
    "dev-pr42": CORE | COMPUTE,
}

COMMON_OUTPUTS = StackOutputs.required_export_names()
REGISTRY_OUTPUTS = {"registryName", "registryLoginServer", "registryId"}
OPTIONAL_OUTPUTS = {
    "dev": {*REGISTRY_OUTPUTS, "computeClusterName"},
    "dev-pr42": {*REGISTRY_OUTPUTS, "computeClusterName"},
    "qa": {
        *REGISTRY_OUTPUTS,
        "containerGroupName",
        "containerGroupFqdn",
        "scoringFqdn",
        "scoringUri",
        "scoringIdentityId",
        "scoringIdentityClientId",
        "scoringImage",
        "scoringModelVersion",
        "batchComputeName",
    },
    "prod": {*REGISTRY_OUTPUTS, "aksClusterName", "kubernetesComputeName", "scoringFqdn", "batchComputeName"},
}


@pytest.mark.parametrize("stack", list(EXPECTED))
def test_resource_set_per_environment(runs: dict[str, OfflineRun], stack: str) -> None:
    got = Counter((r.type, r.name) for r in runs[stack].resources)
    assert got == Counter(EXPECTED[stack])


@pytest.mark.parametrize("stack", list(EXPECTED))
def test_children_are_parented_and_named_from_their_component(
    runs: dict[str, OfflineRun], stack: str
) -> None:
    run = runs[stack]
    components = {r.urn: r.name for r in run.resources if not r.custom}
    for resource in run.custom_resources:
        assert resource.parent_urn in components, f"{resource.name} has no component parent"
        assert resource.name.startswith(components[resource.parent_urn] + "-")


@pytest.mark.parametrize("stack", list(EXPECTED))
def test_physical_names_follow_azure_rules(runs: dict[str, OfflineRun], stack: str) -> None:
    run = runs[stack]
    st = run.one("azure-native:storage:StorageAccount").plain_inputs["accountName"]
    kv = run.one("azure-native:keyvault:Vault").plain_inputs["vaultName"]
    cr = run.one("azure-native:containerregistry:Registry").plain_inputs["registryName"]
    assert re.fullmatch(r"[a-z0-9]{3,24}", st)
    assert re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", kv) and "--" not in kv
    assert re.fullmatch(r"[a-z0-9]{5,50}", cr)


def test_globally_unique_names_differ_between_stacks(runs: dict[str, OfflineRun]) -> None:
    for type_, key in [
        ("azure-native:storage:StorageAccount", "accountName"),
        ("azure-native:keyvault:Vault", "vaultName"),
        ("azure-native:containerregistry:Registry", "registryName"),
        ("azure-native:machinelearningservices:Workspace", "workspaceName"),
    ]:
        names = [run.one(type_).plain_inputs[key] for run in runs.values()]
        assert len(set(names)) == len(names), names


def test_longest_short_lived_stack_name_fits_every_rule() -> None:
    stack = "dev-" + "a" * 31
    names = ResourceNames.for_stack("abcdefgh", "prod", stack)  # the longest prefix and env
    for field, rule in RULES.items():
        value = getattr(names, field)
        assert rule.min_len <= len(value) <= rule.max_len, (field, value)
    assert names == ResourceNames.for_stack("abcdefgh", "prod", stack)  # deterministic


def _taggable(type_: str) -> bool:
    package, module, name = type_.split(":")
    if package != "azure-native":
        return False  # time:index/sleep:Sleep is no Azure resource
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    return "tags" in inspect.signature(cls._internal_init).parameters


@pytest.mark.parametrize("stack", list(EXPECTED))
def test_every_taggable_resource_is_tagged(runs: dict[str, OfflineRun], stack: str) -> None:
    run = runs[stack]
    taggable = [r for r in run.custom_resources if _taggable(r.type)]
    assert len(taggable) >= 8
    short_lived = stack.startswith("dev-")
    for resource in taggable:
        tags = resource.plain_inputs.get("tags")
        assert tags is not None, f"{resource.type} {resource.name} has no tags"
        assert set(REQUIRED_TAGS) <= set(tags)
        assert tags["stack"] == stack and tags["managed-by"] == "pulumi"
        assert tags["environment"] == ("dev" if short_lived else stack)
        if short_lived:
            assert tags["short-lived"] == "true" and tags["expires-at"] == EXPIRES_AT
        else:
            assert "short-lived" not in tags and "expires-at" not in tags


@pytest.mark.parametrize("stack", list(EXPECTED))
def test_outputs_match_the_pipelines_contract(runs: dict[str, OfflineRun], stack: str) -> None:
    outputs = runs[stack].outputs
    assert set(outputs) <= StackOutputs.export_names()
    assert set(outputs) == COMMON_OUTPUTS | OPTIONAL_OUTPUTS[stack]
    model = StackOutputs.model_validate({k: v.value for k, v in outputs.items()})
    assert model.stack == stack
    assert model.short_lived is stack.startswith("dev-")
    assert model.expires_at == (EXPIRES_AT if stack.startswith("dev-") else "")
    assert outputs["appInsightsConnectionString"].secret
    assert "InstrumentationKey=" not in repr(model)
    assert [k for k, v in outputs.items() if v.secret] == ["appInsightsConnectionString"]
    if stack == "qa":  # what the container serves, in the form of the settings that set it
        assert (model.scoring_image, model.scoring_model_version) == (
            "mlops-scoring:placeholder",
            "placeholder",
        )
    else:
        assert model.scoring_image is None and model.scoring_model_version is None


def test_every_contract_field_is_exported_somewhere(
    runs: dict[str, OfflineRun], databricks_run: OfflineRun
) -> None:
    exported = set().union(*(run.outputs for run in [*runs.values(), databricks_run]))
    # modelRegistryName: only with azure-mlops:modelRegistry (tests/infra/test_model_registry.py)
    assert exported | {"modelRegistryName"} == StackOutputs.export_names()


def test_storage_key_vault_registry_properties(runs: dict[str, OfflineRun]) -> None:
    for stack, run in runs.items():
        st = run.one("azure-native:storage:StorageAccount").plain_inputs
        assert st["kind"] == "StorageV2" and st["enableHttpsTrafficOnly"] is True
        assert st["minimumTlsVersion"] == "TLS1_2" and st["allowBlobPublicAccess"] is False
        kv = run.one("azure-native:keyvault:Vault").plain_inputs["properties"]
        assert kv["enableRbacAuthorization"] is True and kv["enableSoftDelete"] is True
        if stack in ("qa", "prod"):
            assert kv["enablePurgeProtection"] is True and kv["softDeleteRetentionInDays"] == 90
        else:  # Azure rejects `false`: the property is left out
            assert "enablePurgeProtection" not in kv and kv["softDeleteRetentionInDays"] == 7
        cr = run.one("azure-native:containerregistry:Registry").plain_inputs
        assert cr["adminUserEnabled"] is False and cr["anonymousPullEnabled"] is False


def test_workspace_is_linked_and_uses_the_managed_identity(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    ws = run.one("azure-native:machinelearningservices:Workspace").plain_inputs
    identity = run.one("azure-native:managedidentity:UserAssignedIdentity").plain_inputs
    assert ws["v1LegacyMode"] is False
    assert ws["identity"]["type"] == "UserAssigned"
    assert ws["primaryUserAssignedIdentity"].endswith("/" + identity["resourceName"])
    # Linked to this stack's own resources, by their ids (type and name).
    linked = {
        "storageAccount": "/Microsoft.Storage/storageAccounts/"
        + run.one("azure-native:storage:StorageAccount").plain_inputs["accountName"],
        "keyVault": "/Microsoft.KeyVault/vaults/"
        + run.one("azure-native:keyvault:Vault").plain_inputs["vaultName"],
        "applicationInsights": "/Microsoft.Insights/components/"
        + run.one("azure-native:applicationinsights:Component").plain_inputs["resourceName"],
        "containerRegistry": "/Microsoft.ContainerRegistry/registries/"
        + run.one("azure-native:containerregistry:Registry").plain_inputs["registryName"],
    }
    for key, suffix in linked.items():
        assert ws[key].endswith(suffix), (key, ws[key], suffix)
    appi = run.one("azure-native:applicationinsights:Component").plain_inputs
    log = run.one("azure-native:operationalinsights:Workspace").plain_inputs["workspaceName"]
    assert appi["workspaceResourceId"].endswith("/Microsoft.OperationalInsights/workspaces/" + log)
    roles = {
        r.name: r.plain_inputs["roleDefinitionId"].rsplit("/", 1)[1]
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.name.startswith("core-")
    }
    assert roles == {
        "core-id-rg-contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "core-id-st-blob-contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "core-id-kv-administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "core-id-cr-push": "8311e382-0749-4cb8-b61a-304f252e45ec",
        # prod is managed: Azure AI Enterprise Network Connection Approver
        "core-id-rg-network-approver": "b556d68e-0be0-4f35-a333-ad7ee1ce17ea",
    }


def test_training_cluster(runs: dict[str, OfflineRun]) -> None:
    compute = runs["dev"].one("azure-native:machinelearningservices:Compute").plain_inputs
    props = compute["properties"]
    assert props["computeType"] == "AmlCompute" and props["disableLocalAuth"] is True
    inner = props["properties"]
    assert inner["vmPriority"] == "LowPriority" and inner["vmSize"] == "Standard_DS3_v2"
    assert inner["scaleSettings"] == {
        "minNodeCount": 0,
        "maxNodeCount": 2,
        "nodeIdleTimeBeforeScaleDown": "PT15M",
    }


@pytest.mark.parametrize(("stack", "public_ip"), [("qa", True), ("prod", False)])
def test_batch_cluster_scales_to_zero(runs: dict[str, OfflineRun], stack: str, public_ip: bool) -> None:
    (compute,) = [
        r
        for r in runs[stack].of_type("azure-native:machinelearningservices:Compute")
        if r.name == "batch-cluster"
    ]
    props = compute.plain_inputs["properties"]
    assert compute.plain_inputs["computeName"] == "batch-cluster"
    assert props["computeType"] == "AmlCompute" and props["disableLocalAuth"] is True
    assert props["description"].startswith("Batch scoring cluster")
    inner = props["properties"]
    assert inner["scaleSettings"] == {
        "minNodeCount": 0,
        "maxNodeCount": 2,
        "nodeIdleTimeBeforeScaleDown": "PT5M",
    }
    assert inner["enableNodePublicIp"] is public_ip  # prod: the managed network's nodes have none


def test_container_instance(runs: dict[str, OfflineRun]) -> None:
    run = runs["qa"]
    group = run.one("azure-native:containerinstance:ContainerGroup").plain_inputs
    registry = run.one("azure-native:containerregistry:Registry").plain_inputs["registryName"]
    container, proxy = group["containers"]  # the TLS sidecar: tests/infra/test_aci_tls.py
    assert (container["name"], proxy["name"]) == ("scoring", "tls-proxy")
    assert container["image"] == f"{registry}.azurecr.io/mlops-scoring:placeholder"
    (credential,) = group["imageRegistryCredentials"]
    assert credential["server"] == f"{registry}.azurecr.io"
    assert credential["identity"].endswith("/id-mlops-qa-scoring")
    assert "password" not in credential and "username" not in credential
    env = {v["name"]: v for v in container["environmentVariables"]}
    assert env["SCORING_MODEL_VERSION"] == {"name": "SCORING_MODEL_VERSION", "value": "placeholder"}
    assert set(env["APPLICATIONINSIGHTS_CONNECTION_STRING"]) == {"name", "secureValue"}
    assert "SCORING_API_KEY" not in env  # none configured: the service is open (documented)
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/health/live",
        "port": 5001,
        "scheme": "http",
    }
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert group["ipAddress"]["dnsNameLabel"].startswith("mlops-qa-")
    assert group["ipAddress"]["ports"] == [{"port": 443, "protocol": "TCP"}]
    raw_env = run.one("azure-native:containerinstance:ContainerGroup").inputs["containers"]
    assert is_secret(raw_env)  # the secure values make the whole list secret in the engine


def test_container_instance_with_api_key_and_image() -> None:
    run = run_stack(
        "qa",
        overrides={
            "azure-mlops:scoringApiKey": {"secure": "v1:ciphertext"},
            "azure-mlops:scoringImage": "mlops-scoring:1.4.0",
            "azure-mlops:modelVersion": "7",
        },
    )
    group = run.one("azure-native:containerinstance:ContainerGroup")
    env = {v["name"]: v for v in group.plain_inputs["containers"][0]["environmentVariables"]}
    assert set(env["SCORING_API_KEY"]) == {"name", "secureValue"}
    assert env["SCORING_MODEL_VERSION"]["value"] == "7"
    assert group.plain_inputs["containers"][0]["image"].endswith("/mlops-scoring:1.4.0")
    assert run.outputs["scoringImage"].value == "mlops-scoring:1.4.0"
    assert run.outputs["scoringModelVersion"].value == "7"
    assert not run.outputs["scoringImage"].secret and not run.outputs["scoringModelVersion"].secret
    assert "offline-placeholder-secret-value" not in repr(group.redacted_inputs)


def test_aks_cluster_extension_and_attach(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    aks = run.one("azure-native:containerservice:ManagedCluster").plain_inputs
    assert aks["disableLocalAccounts"] is True and aks["enableRBAC"] is True
    assert aks["aadProfile"]["managed"] is True and aks["aadProfile"]["enableAzureRBAC"] is True
    assert aks["networkProfile"]["networkPolicy"] == "cilium"
    assert aks["autoUpgradeProfile"] == {
        "upgradeChannel": "stable",
        "nodeOSUpgradeChannel": "NodeImage",
    }
    assert aks["identity"]["type"] == "SystemAssigned"
    (pool,) = aks["agentPoolProfiles"]
    assert pool["enableAutoScaling"] is True
    assert (pool["minCount"], pool["count"], pool["maxCount"]) == (3, 3, 5)
    ext = run.one("azure-native:kubernetesconfiguration:Extension").plain_inputs
    assert ext["extensionType"] == "Microsoft.AzureML.Kubernetes"
    assert ext["configurationSettings"]["enableInference"] == "True"
    assert ext["clusterName"] == "aks-mlops-prod"
    (compute,) = [  # beside the batch scoring cluster (AmlCompute)
        r.plain_inputs
        for r in run.of_type("azure-native:machinelearningservices:Compute")
        if r.plain_inputs["properties"]["computeType"] == "Kubernetes"
    ]
    assert compute["properties"]["resourceId"].endswith("/managedClusters/aks-mlops-prod")


def test_short_lived_stack_reuses_dev_settings(runs: dict[str, OfflineRun]) -> None:
    dev, short = runs["dev"], runs["dev-pr42"]
    assert short.config == {"azure-mlops:expiresAt": EXPIRES_AT}  # nothing but the expiry
    for type_ in ("azure-native:machinelearningservices:Compute", "azure-native:keyvault:Vault"):
        a, b = dev.one(type_).plain_inputs, short.one(type_).plain_inputs
        assert a["properties"] == b["properties"]
