"""Run the Pulumi program offline, under ``pulumi.runtime.set_mocks``.

The tests, the ``mlops infra plan/diff`` commands and the benchmark share this harness: it runs
the real program for a stack name and its config (read from ``Pulumi.<stack>.yaml`` like the
Pulumi CLI would pass it) against mocked Azure, and returns every registered resource (type,
logical name, inputs as the engine receives them) and the stack outputs.

Each run happens in a fresh :class:`contextvars.Context` with its own event loop, so the Pulumi
SDK's process-global state (settings, root stack, config) never leaks between runs and several
environments can be evaluated in one process.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import dataclasses
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config import (
    EXPIRES_AT_FORMAT,
    NAMESPACE,
    PROJECT,
    PROJECT_ROOT,
    environment_of,
    read_stack_file,
    yaml_config_to_raw,
)

MOCK_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
MOCK_TENANT_ID = "11111111-1111-1111-1111-111111111111"
# stands in for `secure:` config values, which cannot be decrypted offline
MOCK_SECRET_VALUE = "offline-placeholder-secret-value"  # noqa: S105
DEFAULT_EXPIRES_AT = "2099-12-31T23:59:59Z"


def _pem(label: str, text: str) -> str:
    body = base64.b64encode(text.encode()).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


# Secret settings whose value has a shape the program checks: their stand-ins have that shape.
SECRET_STAND_INS = {
    f"{NAMESPACE}:aksSslCertPem": _pem("CERTIFICATE", "offline stand-in certificate"),
    f"{NAMESPACE}:aksSslKeyPem": _pem("PRIVATE KEY", "offline stand-in key"),
}
ACI_SECRET_STAND_INS = {
    f"{NAMESPACE}:aciSslCertPem": _pem("CERTIFICATE", "offline stand-in certificate"),
    f"{NAMESPACE}:aciSslKeyPem": _pem("PRIVATE KEY", "offline stand-in key"),
}
OFFLINE_SSL_CNAME = "scoring.offline.invalid"  # RFC 2606: never resolves

# The engine protocol's marker for secret values (pulumi.runtime.rpc).
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105


def is_secret(value: Any) -> bool:
    """Whether a captured property value is a Pulumi secret (wrapped by the engine protocol)."""
    return isinstance(value, dict) and value.get(_SECRET_SIG_KEY) == _SECRET_SIG


def unwrap_secrets(value: Any) -> Any:
    """The plain value, secrets unwrapped (what a policy pack sees)."""
    if is_secret(value):
        return unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def redact_secrets(value: Any, placeholder: str = "[secret]") -> Any:
    """The value with every secret replaced by a placeholder (what a reviewer may see)."""
    if is_secret(value):
        return placeholder
    if isinstance(value, dict):
        return {k: redact_secrets(v, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_secrets(v, placeholder) for v in value]
    return value


@dataclass(frozen=True)
class CapturedResource:
    """One resource the program registered."""

    type: str
    name: str
    urn: str
    parent_urn: str
    custom: bool
    inputs: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()  # URNs (explicit depends_on and the inputs' resources)

    @property
    def plain_inputs(self) -> dict[str, Any]:
        return dict(unwrap_secrets(dict(self.inputs)))

    @property
    def redacted_inputs(self) -> dict[str, Any]:
        return dict(redact_secrets(dict(self.inputs)))


@dataclass(frozen=True)
class StackOutput:
    """One stack output, resolved."""

    value: Any
    secret: bool
    known: bool


@dataclass(frozen=True)
class OfflineRun:
    """The result of running the program for one stack."""

    stack: str
    config: Mapping[str, str]
    resources: tuple[CapturedResource, ...]
    outputs: Mapping[str, StackOutput] = field(default_factory=dict)
    stand_ins: tuple[str, ...] = ()  # settings the offline run supplied (see :func:`stack_config`)

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> CapturedResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise LookupError(f"expected exactly one {type_}, found {len(found)}")
        return found[0]

    @property
    def custom_resources(self) -> list[CapturedResource]:
        return [r for r in self.resources if r.custom]


# ----------------------------------------------------------------------------------------------
# Stack config as the Pulumi CLI would pass it


def _secret_placeholder(key: str) -> str:
    return {**SECRET_STAND_INS, **ACI_SECRET_STAND_INS}.get(key, MOCK_SECRET_VALUE)


def _stand_in_tls(
    raw: dict[str, str], secure: set[str], key: str, secrets: Mapping[str, str], skip: str | None = None
) -> list[str]:
    """Stand in ``<key>.sslCname`` and the PEM ``secrets`` where missing (unless ``skip`` is set)."""
    added: list[str] = []
    value = json.loads(raw.get(key, "{}"))
    if not isinstance(value, dict) or (skip is not None and skip in value):
        return added
    if "sslCname" not in value:
        value["sslCname"] = OFFLINE_SSL_CNAME
        raw[key] = json.dumps(value)
        added.append(f"{key}.sslCname")
    for secret_key, stand_in in secrets.items():
        if secret_key not in raw:
            raw[secret_key] = stand_in
            secure.add(secret_key)
            added.append(secret_key)
    return added


def tls_stand_ins(stack: str, raw: dict[str, str], secure: set[str]) -> list[str]:
    """Supply the qa and prod TLS settings a stack file leaves to its operator (in place).

    Prod refuses to start without TLS for the inference router, qa without TLS for its container
    group, and the certificates are the operator's (``pulumi config set --secret``): the committed
    ``Pulumi.qa.yaml`` and ``Pulumi.prod.yaml`` have none. The offline run stands in a
    never-resolving name and PEM-shaped placeholders for what is missing, and says so
    (:attr:`OfflineRun.stand_ins`); a real run has no such fallback.
    """
    environment, _ = environment_of(stack)
    if environment == "prod":
        return _stand_in_tls(raw, secure, f"{NAMESPACE}:aks", SECRET_STAND_INS, skip="sslSecret")
    if environment == "qa":
        return _stand_in_tls(raw, secure, f"{NAMESPACE}:containerInstance", ACI_SECRET_STAND_INS)
    return []


def stack_config(
    stack: str,
    *,
    root: Path = PROJECT_ROOT,
    overrides: Mapping[str, Any] | None = None,
    expires_at: str | None = DEFAULT_EXPIRES_AT,
    stand_ins: list[str] | None = None,
) -> tuple[dict[str, str], set[str]]:
    """The raw config and secret keys of ``stack``, from ``Pulumi.<stack>.yaml``.

    ``dev-<id>`` stacks usually have no file of their own: they get only ``expiresAt`` (and the
    program itself lays dev's settings underneath, as it does for real). ``secure:`` values are
    replaced by a placeholder, as they cannot be decrypted offline. ``overrides`` are YAML-typed
    values laid on top (``None`` removes a key). Pass a list as ``stand_ins`` to have the qa and prod
    TLS settings the file leaves out supplied (:func:`tls_stand_ins`); their keys are appended to it.
    """
    _, short_lived = environment_of(stack)
    document = read_stack_file(stack, root)
    if short_lived and expires_at is not None:
        document.setdefault(f"{NAMESPACE}:expiresAt", expires_at)
    raw, secure = yaml_config_to_raw(document)
    for key in secure:
        raw[key] = _secret_placeholder(key)
    if overrides:
        extra, extra_secure = yaml_config_to_raw({k: v for k, v in overrides.items() if v is not None})
        for key in extra_secure:
            extra[key] = _secret_placeholder(key)
        raw.update(extra)
        secure |= extra_secure
        for key, value in overrides.items():
            if value is None:
                raw.pop(key, None)
                secure.discard(key)
    if stand_ins is not None:
        stand_ins.extend(tls_stand_ins(stack, raw, secure))
    return raw, secure


# ----------------------------------------------------------------------------------------------
# Mocks


def _guid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))


_ARM_TYPES = {
    "azure-native:resources:ResourceGroup": "",
    "azure-native:operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "azure-native:applicationinsights:Component": "Microsoft.Insights/components",
    "azure-native:keyvault:Vault": "Microsoft.KeyVault/vaults",
    "azure-native:storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "azure-native:containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "azure-native:managedidentity:UserAssignedIdentity": ("Microsoft.ManagedIdentity/userAssignedIdentities"),
    "azure-native:machinelearningservices:Workspace": ("Microsoft.MachineLearningServices/workspaces"),
    "azure-native:containerinstance:ContainerGroup": "Microsoft.ContainerInstance/containerGroups",
    "azure-native:containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "azure-native:machinelearningservices:Registry": "Microsoft.MachineLearningServices/registries",
    "azure-native:network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "azure-native:network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "azure-native:privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "azure-native:databricks:Workspace": "Microsoft.Databricks/workspaces",
}

# The input that carries each resource type's Azure name.
NAME_INPUTS = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:applicationinsights:Component": "resourceName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:machinelearningservices:Workspace": "workspaceName",
    "azure-native:machinelearningservices:Compute": "computeName",
    "azure-native:containerinstance:ContainerGroup": "containerGroupName",
    "azure-native:containerservice:ManagedCluster": "resourceName",
    "azure-native:kubernetesconfiguration:Extension": "extensionName",
    "azure-native:containerservice:TrustedAccessRoleBinding": "trustedAccessRoleBindingName",
    "azure-native:machinelearningservices:Registry": "registryName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:databricks:Workspace": "workspaceName",
}


def _computed_state(type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:  # noqa: PLR0912, PLR0915
    """A plausible id and output state for a mocked Azure resource."""
    plain = unwrap_secrets(inputs)
    azure_name = str(plain.get(NAME_INPUTS.get(type_, ""), name))
    rg = str(plain.get("resourceGroupName", azure_name))
    location = str(plain.get("location", "westeurope"))
    sub = f"/subscriptions/{MOCK_SUBSCRIPTION_ID}"
    arm = _ARM_TYPES.get(type_)
    if type_ == "azure-native:resources:ResourceGroup":
        id_ = f"{sub}/resourceGroups/{azure_name}"
    elif arm:
        id_ = f"{sub}/resourceGroups/{rg}/providers/{arm}/{azure_name}"
    elif type_ == "azure-native:machinelearningservices:Compute":
        ws = plain.get("workspaceName", "workspace")
        id_ = (
            f"{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/"
            f"workspaces/{ws}/computes/{azure_name}"
        )
    elif type_ == "azure-native:containerservice:TrustedAccessRoleBinding":
        id_ = (
            f"{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/"
            f"{plain.get('resourceName', 'cluster')}/trustedAccessRoleBindings/{azure_name}"
        )
    elif type_ == "azure-native:authorization:RoleAssignment":
        id_ = f"{plain.get('scope', sub)}/providers/Microsoft.Authorization/roleAssignments/" + _guid(
            name, str(plain.get("roleDefinitionId", ""))
        )
    else:
        id_ = f"{sub}/resourceGroups/{rg}/providers/mock/{type_.rsplit(':', maxsplit=1)[-1]}/{azure_name}"

    state: dict[str, Any] = {**inputs, "name": azure_name}
    identity = plain.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # Inputs list the identity ids; Azure returns a map id -> {principalId, clientId}.
        state["identity"] = {
            **identity,
            "userAssignedIdentities": {
                uid: {"principalId": _guid("principal", uid), "clientId": _guid("client", uid)}
                for uid in identity["userAssignedIdentities"]
            },
        }
    if type_ == "azure-native:containerregistry:Registry":
        state["loginServer"] = f"{azure_name}.azurecr.io"
    elif type_ == "azure-native:applicationinsights:Component":
        key = _guid("ikey", azure_name)
        state["instrumentationKey"] = key
        state["connectionString"] = (
            f"InstrumentationKey={key};IngestionEndpoint=https://{location}-0.in."
            "applicationinsights.azure.com/;ApplicationId=" + _guid("app", azure_name)
        )
    elif type_ == "azure-native:managedidentity:UserAssignedIdentity":
        state["principalId"] = _guid("principal", azure_name)
        state["clientId"] = _guid("client", azure_name)
        state["tenantId"] = MOCK_TENANT_ID
    elif type_ == "azure-native:keyvault:Vault":
        properties = dict(state.get("properties", {}))
        properties["vaultUri"] = f"https://{azure_name}.vault.azure.net/"
        state["properties"] = properties
    elif type_ == "azure-native:machinelearningservices:Workspace":
        state["mlFlowTrackingUri"] = (
            f"azureml://{location}.api.azureml.ms/mlflow/v1.0{sub}/resourceGroups/{rg}/"
            f"providers/Microsoft.MachineLearningServices/workspaces/{azure_name}"
        )
        state["workspaceId"] = _guid("workspace", azure_name)
    elif type_ == "azure-native:databricks:Workspace":
        # Azure returns the host name without a scheme: adb-<workspaceId>.<n>.azuredatabricks.net
        state["workspaceId"] = "1234567890123456"
        state["workspaceUrl"] = "adb-1234567890123456.7.azuredatabricks.net"
    elif type_ == "azure-native:containerinstance:ContainerGroup":
        ip = dict(state.get("ipAddress", {}))
        label = ip.get("dnsNameLabel", azure_name)
        ip["fqdn"] = f"{label}.{location}.azurecontainer.io"
        ip["ip"] = "203.0.113.10"
        state["ipAddress"] = ip
    elif type_ == "azure-native:containerservice:ManagedCluster":
        state["fqdn"] = f"{plain.get('dnsPrefix', azure_name)}.hcp.{location}.azmk8s.io"
        state["identityProfile"] = {
            "kubeletidentity": {
                "objectId": _guid("kubelet", azure_name),
                "clientId": _guid("kubelet-client", azure_name),
                "resourceId": f"{sub}/resourceGroups/{plain.get('nodeResourceGroup', rg)}/"
                f"providers/Microsoft.ManagedIdentity/userAssignedIdentities/{azure_name}-agentpool",
            }
        }
    return id_, state


def _make_mocks() -> Any:
    from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

    class AzureMocks(Mocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
            return _computed_state(args.typ, args.name, dict(args.inputs))

        def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
            if args.token == "azure-native:authorization:getClientConfig":  # noqa: S105
                return (
                    {
                        "clientId": _guid("deployer-client"),
                        "objectId": _guid("deployer-object"),
                        "subscriptionId": MOCK_SUBSCRIPTION_ID,
                        "tenantId": MOCK_TENANT_ID,
                    },
                    [],
                )
            raise NotImplementedError(f"no offline mock for the function {args.token}")

    return AzureMocks()


def _make_monitor(mocks: Any, captured: list[CapturedResource]) -> Any:
    from pulumi.runtime import rpc
    from pulumi.runtime.mocks import MockMonitor

    class CapturingMonitor(MockMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            if request.type != "pulumi:pulumi:Stack":
                captured.append(
                    CapturedResource(
                        type=request.type,
                        name=request.name,
                        urn=response.urn,
                        parent_urn=request.parent,
                        custom=bool(request.custom),
                        inputs=rpc.deserialize_properties(request.object),
                        dependencies=tuple(request.dependencies),
                    )
                )
            return response

    return CapturingMonitor(mocks)


# ----------------------------------------------------------------------------------------------
# Running


def _run_in_fresh_context(
    stack: str, config: Mapping[str, str], secret_keys: Iterable[str], preview: bool
) -> OfflineRun:
    import pulumi
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func

    from infra.program import main

    captured: list[CapturedResource] = []
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The mock monitor runs in executor threads, and each of them creates an event loop of its
    # own; keep track of them so they are closed with this run (no leaked loops, no warnings).
    worker_loops: list[asyncio.AbstractEventLoop] = []
    lock = threading.Lock()

    def init_worker() -> None:
        worker_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(worker_loop)
        with lock:
            worker_loops.append(worker_loop)

    loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="mock", initializer=init_worker))
    try:
        runtime_settings.reset_options(project=PROJECT, stack=stack, preview=preview)
        mocks = _make_mocks()
        pulumi.runtime.set_mocks(
            mocks,
            project=PROJECT,
            stack=stack,
            preview=preview,
            monitor=_make_monitor(mocks, captured),
        )
        set_all_config(dict(config), list(secret_keys))
        loop.run_until_complete(run_pulumi_func(main))

        root = runtime_settings.get_root_resource()
        exported: dict[str, Any] = dict(getattr(root, "outputs", {}))

        async def resolve() -> dict[str, StackOutput]:
            resolved: dict[str, StackOutput] = {}
            for key, value in exported.items():
                out = pulumi.Output.from_input(value)
                resolved[key] = StackOutput(
                    value=await out.future(with_unknowns=False),
                    secret=await out.is_secret(),
                    known=await out.is_known(),
                )
            return resolved

        outputs = loop.run_until_complete(resolve())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
        for worker_loop in worker_loops:
            worker_loop.close()
    return OfflineRun(stack=stack, config=dict(config), resources=tuple(captured), outputs=outputs)


def run_program(
    stack: str,
    config: Mapping[str, str],
    secret_keys: Iterable[str] = (),
    *,
    preview: bool = False,
) -> OfflineRun:
    """Run the program for ``stack`` with raw ``config`` against mocked Azure."""
    return contextvars.Context().run(_run_in_fresh_context, stack, config, tuple(secret_keys), preview)


def run_stack(
    stack: str,
    *,
    root: Path = PROJECT_ROOT,
    overrides: Mapping[str, Any] | None = None,
    expires_at: str | None = DEFAULT_EXPIRES_AT,
) -> OfflineRun:
    """Run the program for ``stack`` with its ``Pulumi.<stack>.yaml`` config (plus overrides).

    qa and prod TLS settings the file leaves out are stood in (:func:`tls_stand_ins`) and listed in
    the result's ``stand_ins``.
    """
    stand_ins: list[str] = []
    config, secrets = stack_config(
        stack, root=root, overrides=overrides, expires_at=expires_at, stand_ins=stand_ins
    )
    run = run_program(stack, config, secrets)
    return dataclasses.replace(run, stand_ins=tuple(stand_ins))


__all__ = [
    "EXPIRES_AT_FORMAT",
    "CapturedResource",
    "OfflineRun",
    "StackOutput",
    "redact_secrets",
    "run_program",
    "run_stack",
    "stack_config",
    "unwrap_secrets",
]
