"""Typed stack settings, validated when the program starts.

Every setting lives in the ``azure-mlops:`` config namespace (the location is the provider's
``azure-native:location``). :func:`parse_settings` is a pure function of the stack name and the
raw config strings, so it is tested without the Pulumi engine; :func:`load_settings` feeds it
from the running program's configuration.

An invalid value stops the program with a :class:`ConfigError` whose message names the key, the
allowed values and (for non-secret keys) the rejected value.

Short-lived stacks ``dev-<id>`` reuse ``Pulumi.dev.yaml``'s plain (non-secret) values as their
base layer; their own config (at least ``azure-mlops:expiresAt``) is laid on top.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra import pem

PROJECT = "azure-mlops"
"""The Pulumi project (``Pulumi.yaml``'s ``name``; the copies outside infra/ are pinned to it by
``tests/test_shared_facts.py``)."""
NAMESPACE = PROJECT  # the project's settings namespace: azure-mlops:<key>
LOCATION_KEY = "azure-native:location"
PROJECT_ROOT = Path(__file__).resolve().parents[1]  # = pipelines.paths.REPO_ROOT (pinned by a test)

LONG_LIVED_STACKS = ("dev", "qa", "prod")
SHORT_LIVED_STACK_RE = re.compile(r"^dev-[a-z0-9][a-z0-9-]{0,30}$")
EXPIRES_AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EXPIRES_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# Keys whose values are YAML maps in Pulumi.<stack>.yaml (JSON strings in the engine's config).
OBJECT_KEYS = frozenset(
    {"compute", "containerRegistry", "containerInstance", "aks", "keyVault", "modelRegistry", "databricks"}
) | {"network", "batchCompute"}
SECRET_SETTING_KEYS = frozenset(
    {"scoringApiKey", "aksSslCertPem", "aksSslKeyPem", "aciSslCertPem", "aciSslKeyPem"}
)

Environment = Literal["dev", "qa", "prod"]


class ConfigError(pulumi.RunError):
    """A stack setting is missing or invalid (stops the program without a traceback)."""


def _model_config() -> ConfigDict:
    return ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


VmSize = Annotated[str, StringConstraints(pattern=r"^Standard_[A-Za-z0-9_]{2,40}$")]
Guid = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ),
]


class ComputeSettings(BaseModel):
    """The AML training cluster (dev; optional in qa; never in prod)."""

    model_config = _model_config()

    enabled: bool | None = None  # None: the environment's default (dev on, qa/prod off)
    vm_size: VmSize = "Standard_DS3_v2"
    min_nodes: int = Field(0, ge=0, le=100)
    max_nodes: int = Field(2, ge=1, le=100)
    low_priority: bool = False
    idle_seconds_before_scale_down: int = Field(900, ge=120, le=86_400)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> ComputeSettings:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"minNodes ({self.min_nodes}) must not exceed maxNodes ({self.max_nodes})")
        return self


class BatchComputeSettings(BaseModel):
    """The AML cluster the batch scoring job runs on (qa and prod; `mlops score-batch`).

    It scales to zero between runs: ``minNodes`` is 0 and only 0 (the policy pack requires it
    of every AmlCompute, and a batch cluster has no reason to keep a node).
    """

    model_config = _model_config()

    enabled: bool | None = None  # None: the environment's default (qa and prod on, dev off)
    vm_size: VmSize = "Standard_DS3_v2"
    min_nodes: Literal[0] = 0
    max_nodes: int = Field(2, ge=1, le=100)
    low_priority: bool = False
    idle_seconds_before_scale_down: int = Field(300, ge=120, le=86_400)


class RegistrySettings(BaseModel):
    """The container registry holding the scoring image."""

    model_config = _model_config()

    enabled: bool = True
    sku: Literal["Basic", "Standard", "Premium"] = "Basic"


# A DNS name (the TLS certificate's subject), as the inference router's sslCname.
DnsName = Annotated[str, StringConstraints(max_length=253, pattern=r"^([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")]
# An image outside the stack's registry, pinned: registry host, repository, and a tag or a digest.
PinnedImage = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z0-9.-]+\.[a-z]{2,}(:\d+)?/[a-z0-9]+(?:[._/-][a-z0-9]+)*"
        r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"
    ),
]
TLS_PROXY_IMAGE = "mcr.microsoft.com/oss/nginx/nginx:1.25.3"
"""The TLS sidecar of the qa container group: Nginx from Microsoft's registry, as Learn's
"Enable a TLS endpoint in a sidecar container" (container-instances-container-group-ssl) runs it
(``mcr.microsoft.com/oss/nginx/nginx``; a newer tag than the tutorial's 1.15.5-alpine). Pin a
digest in the stack settings (``containerInstance.tlsProxyImage``) for a reproducible group."""


class ContainerInstanceSettings(BaseModel):
    """The qa scoring target: one Azure Container Instance group."""

    model_config = _model_config()

    enabled: bool | None = None  # None: on in qa, off elsewhere
    cpu: float = Field(1.0, ge=0.5, le=4.0)
    memory_gb: float = Field(1.5, ge=0.5, le=16.0)
    # HTTPS (required in qa): the DNS name clients call, a CNAME to the group's
    # <label>.<region>.azurecontainer.io name, with the certificate and key in the secret settings
    # aciSslCertPem / aciSslKeyPem; a TLS sidecar (tlsProxyImage) is then the only public port, 443.
    ssl_cname: DnsName | None = None
    tls_proxy_image: PinnedImage = TLS_PROXY_IMAGE


# A Kubernetes secret name (RFC 1123 subdomain).
KubernetesName = Annotated[
    str, StringConstraints(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
]
# A public IPv4 range in CIDR form (an address is a /32), for the AKS API server's allow-list.
IpRange = Annotated[
    str, StringConstraints(pattern=r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(/([0-9]|[12][0-9]|3[0-2]))?$")
]
# The local (cache or temp) disk an ephemeral OS disk lives on, GiB, per VM size. Learn, sizes:
# Ddsv5-series ("Temp storage (SSD) GiB": D2ds 75, D4ds 150, D8ds 300, D16ds 600); Dsv5-series
# ("Local Storage: Not Supported", so no ephemeral OS disk).
LOCAL_DISK_GIB = {
    "Standard_D2ds_v5": 75,
    "Standard_D4ds_v5": 150,
    "Standard_D8ds_v5": 300,
    "Standard_D16ds_v5": 600,
    "Standard_D2s_v5": 0,
    "Standard_D4s_v5": 0,
    "Standard_D8s_v5": 0,
    "Standard_D16s_v5": 0,
}
HA_MIN_NODES = 3
"""``inferenceRouterHA`` runs three router replicas and "requires at least three worker nodes"
(Learn, how-to-deploy-kubernetes-extension, configuration settings)."""


class AksSettings(BaseModel):
    """The prod scoring target: AKS, attached to the workspace as Kubernetes compute."""

    model_config = _model_config()

    enabled: bool | None = None  # None: on in prod, off elsewhere
    # Three nodes at least, always: the inference router runs highly available (three replicas)
    # only on three or more worker nodes, and the autoscaler never goes below minNodes.
    node_count: int = Field(HA_MIN_NODES, ge=1, le=100)
    min_nodes: int = Field(HA_MIN_NODES, ge=1, le=100)
    max_nodes: int = Field(5, ge=1, le=100)
    # 4 vCPU, 16 GiB (the extension asks for 4 vCPU and 14 GB) with a 150 GiB temp disk, which
    # holds the ephemeral OS disk (D4s_v5 has none).
    vm_size: VmSize = "Standard_D4ds_v5"
    # Node hardening (Learn, AKS security baseline / enable-host-encryption / concepts-storage):
    os_disk_type: Literal["Ephemeral", "Managed"] = "Ephemeral"
    os_disk_size_gb: int = Field(128, ge=30, le=2048)
    encryption_at_host: bool = True
    # Who may call the API server (CIDR ranges; empty: anyone, with a warning in prod). Azure ML
    # reaches the cluster through Trusted Access, which works with authorized IP ranges.
    api_server_authorized_ip_ranges: tuple[IpRange, ...] = ()
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+(\.\d+)?$")] | None = None
    tier: Literal["Free", "Standard", "Premium"] = "Standard"
    upgrade_channel: Literal["patch", "stable", "rapid", "node-image"] = "stable"
    node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch", "Unmanaged"] = "NodeImage"
    admin_group_object_ids: tuple[Guid, ...] = ()
    # TLS for the inference router (required): the DNS name clients call, with the certificate
    # and key either in the secret settings aksSslCertPem / aksSslKeyPem or in a Kubernetes
    # secret (cert.pem, key.pem) in the azureml namespace named by sslSecret.
    ssl_cname: DnsName | None = None
    ssl_secret: KubernetesName | None = None

    @model_validator(mode="after")
    def _counts_consistent(self) -> AksSettings:
        if not self.min_nodes <= self.node_count <= self.max_nodes:
            raise ValueError(
                f"nodeCount ({self.node_count}) must lie between minNodes ({self.min_nodes}) "
                f"and maxNodes ({self.max_nodes})"
            )
        return self

    @model_validator(mode="after")
    def _ephemeral_disk_fits(self) -> AksSettings:
        local = LOCAL_DISK_GIB.get(self.vm_size)
        if self.os_disk_type == "Ephemeral" and local is not None and local < self.os_disk_size_gb:
            raise ValueError(
                f"osDiskType: Ephemeral needs a local disk of at least osDiskSizeGb "
                f"({self.os_disk_size_gb} GiB), and {self.vm_size} has "
                f"{local or 'no'} GiB (allowed: a size with a large enough cache or temp disk, such "
                "as Standard_D4ds_v5, a smaller osDiskSizeGb, or osDiskType: Managed)"
            )
        return self

    @property
    def router_ha(self) -> bool:
        """Whether the inference router can run its three replicas on separate nodes."""
        return self.min_nodes >= HA_MIN_NODES


class KeyVaultSettings(BaseModel):
    """Key Vault recovery settings (soft delete is always on)."""

    model_config = _model_config()

    purge_protection: bool = True
    soft_delete_retention_days: int = Field(90, ge=7, le=90)


class ModelRegistrySettings(BaseModel):
    """An Azure ML registry the stacks share models through (off unless ``name`` is set)."""

    model_config = _model_config()

    # Learn, how-to-manage-registries: 2-32 characters, alphanumerics, underscore and hyphen,
    # starting with an alphanumeric; unique in the Entra tenant; cannot be renamed.
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")] | None = None
    create: bool = False  # exactly one stack creates it; the others reference it by name
    # Where the registry lives when another stack created it (this subscription): lets this
    # stack grant its workspace identity "AzureML Registry User" on it.
    resource_group_name: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._()-]{0,89}[A-Za-z0-9_()-]$")] | None
    ) = None

    @model_validator(mode="after")
    def _name_when_used(self) -> ModelRegistrySettings:
        if self.name is None and (self.create or self.resource_group_name is not None):
            raise ValueError(
                "modelRegistry.name is required with create or resourceGroupName "
                "(2-32 characters: letters, digits, '_' and '-', starting with a letter or digit)"
            )
        if self.create and self.resource_group_name is not None:
            raise ValueError(
                "modelRegistry.resourceGroupName names another stack's registry: leave it out "
                "with create: true (the registry goes in this stack's resource group)"
            )
        return self


Isolation = Literal["public", "managed"]
ISOLATION_DEFAULTS: dict[Environment, Isolation] = {"dev": "public", "qa": "public", "prod": "managed"}
"""``network.isolation`` per environment when unset. qa stays public: its scoring target is an
Azure Container Instance on a public IP outside any virtual network, which pulls its image from the
registry's public endpoint (docs/infra.md, "Network isolation")."""
# A private IPv4 range in CIDR form, /16 to /24 (room for the two /26 subnets the program carves).
Cidr = Annotated[str, StringConstraints(pattern=r"^(10|172|192)\.\d{1,3}\.\d{1,3}\.\d{1,3}/(1[6-9]|2[0-4])$")]


class NetworkSettings(BaseModel):
    """How the workspace and its resources are reached: publicly, or only through private endpoints."""

    model_config = _model_config()

    # None: the environment's default (ISOLATION_DEFAULTS)
    isolation: Isolation | None = None
    # The virtual network of the private endpoints (and of the AKS nodes), managed isolation only.
    address_space: Cidr = "10.42.0.0/16"


StorageRedundancy = Literal["LRS", "ZRS", "GRS", "GZRS"]
REDUNDANCY_DEFAULTS: dict[Environment, StorageRedundancy] = {"dev": "LRS", "qa": "LRS", "prod": "GRS"}
"""``storageRedundancy`` per environment when unset: prod's artifacts, models and run history
survive the loss of its region (Learn, storage/common/storage-redundancy: GRS keeps three copies in
the primary region and three in the paired secondary region); dev and qa can be rebuilt."""


class DatabricksSettings(BaseModel):
    """An Azure Databricks workspace for training jobs (dev only; off unless ``enabled``)."""

    model_config = _model_config()

    enabled: bool = False
    # premium: Unity Catalog (the volume the training job uses) needs it (Learn,
    # azure/databricks/data-governance/unity-catalog/get-started: "premium plan")
    sku: Literal["premium", "standard"] = "premium"
    # the resource group Azure Databricks creates for the clusters' VMs, disks and network;
    # None: rg-<prefix>-<stack>-dbw-managed (it must not exist yet: Learn, "managed resource group")
    managed_resource_group_name: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._()-]{0,89}[A-Za-z0-9_()-]$")] | None
    ) = None


class Settings(BaseModel):
    """Everything the program needs, typed; one instance per stack run."""

    model_config = _model_config()

    stack: str
    environment: Environment
    short_lived: bool
    expires_at: str | None = None
    location: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{2,30}$")]
    name_prefix: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{1,7}$")]
    owner: Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
    cost_center: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,63}$")]
    public_network_access: Literal["Enabled", "Disabled"] = "Enabled"
    log_retention_days: int = Field(30, ge=30, le=730)
    compute: ComputeSettings = ComputeSettings()
    batch_compute: BatchComputeSettings = BatchComputeSettings()
    container_registry: RegistrySettings = RegistrySettings()
    container_instance: ContainerInstanceSettings = ContainerInstanceSettings()
    aks: AksSettings = AksSettings()
    key_vault: KeyVaultSettings = KeyVaultSettings()
    model_registry: ModelRegistrySettings = ModelRegistrySettings()
    network: NetworkSettings = NetworkSettings()
    storage_redundancy: StorageRedundancy | None = None  # None: REDUNDANCY_DEFAULTS

    databricks: DatabricksSettings = DatabricksSettings()
    # repository[:tag|@digest] inside the stack's own registry (pulled with the managed identity)
    scoring_image: Annotated[
        str,
        StringConstraints(
            pattern=r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"
        ),
    ] = "mlops-scoring:placeholder"
    model_version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] = (
        "placeholder"
    )
    scoring_api_key: SecretStr | None = None
    aks_ssl_cert_pem: SecretStr | None = None
    aks_ssl_key_pem: SecretStr | None = None
    aci_ssl_cert_pem: SecretStr | None = None
    aci_ssl_key_pem: SecretStr | None = None

    @field_validator("scoring_api_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters long")
        return value

    @field_validator("aks_ssl_cert_pem", "aci_ssl_cert_pem")
    @classmethod
    def _certificate_pem(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            pem.check_certificate_chain(value.get_secret_value())
        return value

    @field_validator("aks_ssl_key_pem", "aci_ssl_key_pem")
    @classmethod
    def _key_pem(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            pem.check_private_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _topology(self) -> Settings:
        """Fill per-environment defaults and reject combinations the environment does not have."""
        env = self.environment
        compute_on = self.compute_enabled
        aci_on = self.container_instance_enabled
        aks_on = self.aks_enabled
        allowed = {
            # key: (value, allowed values in this environment)
            "compute.enabled": (compute_on, {"dev": {True}, "qa": {True, False}, "prod": {False}}),
            "containerInstance.enabled": (
                aci_on,
                {"dev": {True, False}, "qa": {True}, "prod": {False}},
            ),
            "aks.enabled": (aks_on, {"dev": {False}, "qa": {False}, "prod": {True}}),
            "databricks.enabled": (
                self.databricks.enabled,
                {"dev": {True, False}, "qa": {False}, "prod": {False}},
            ),
        }
        for key, (value, per_env) in allowed.items():
            if value not in per_env[env]:
                shown = " or ".join(str(v).lower() for v in sorted(per_env[env]))
                raise ValueError(
                    f"{key}: {str(value).lower()} is not allowed in the {env} environment (allowed: {shown})"
                )
        if aks_on:
            self._check_aks_serving()
        if self.isolation == "managed":
            self._check_managed_network()
        if (aci_on or aks_on) and not self.container_registry.enabled:
            raise ValueError(
                "containerRegistry.enabled: false is not allowed when a scoring target "
                "(containerInstance or aks) is enabled (allowed: true)"
            )
        self._check_aci_tls()
        return self

    def _check_aks_serving(self) -> None:
        """TLS is required (no HTTP), and the router's HA needs three nodes."""
        aks = self.aks
        has_pem = self.aks_ssl_cert_pem is not None or self.aks_ssl_key_pem is not None
        if aks.ssl_cname is None:
            raise ValueError(
                "aks.sslCname is required: the prod inference router serves HTTPS only (Azure ML "
                "documents HTTP, allowInsecureConnections=True, for development or testing). Set "
                "aks.sslCname to the DNS name on the certificate, and the certificate either as "
                "the secret settings aksSslCertPem and aksSslKeyPem "
                '(pulumi config set --secret azure-mlops:aksSslCertPem -- "$(cat fullchain.pem)") '
                "or as aks.sslSecret (a Kubernetes secret with cert.pem and key.pem in the azureml "
                "namespace); see docs/infra.md, 'TLS for prod scoring'"
            )
        if aks.ssl_secret is not None and has_pem:
            raise ValueError(
                "aks.sslSecret and the secret settings aksSslCertPem/aksSslKeyPem are both set: "
                "give the certificate one way only"
            )
        if aks.ssl_secret is None and (self.aks_ssl_cert_pem is None or self.aks_ssl_key_pem is None):
            missing = [
                key
                for key, value in (
                    ("aksSslCertPem", self.aks_ssl_cert_pem),
                    ("aksSslKeyPem", self.aks_ssl_key_pem),
                )
                if value is None
            ]
            raise ValueError(
                f"aks.sslCname is set but the secret settings {' and '.join(missing)} are missing: "
                "set the certificate (full chain, PEM) and its key (PEM, no passphrase) with "
                '`pulumi config set --secret azure-mlops:aksSslCertPem -- "$(cat fullchain.pem)"` '
                'and `pulumi config set --secret azure-mlops:aksSslKeyPem -- "$(cat privkey.pem)"`, '
                "or name a Kubernetes secret with aks.sslSecret"
            )
        if self.environment == "prod" and not aks.router_ha:
            raise ValueError(
                f"aks.minNodes: {aks.min_nodes} is not allowed in the prod environment (allowed: "
                f"{HA_MIN_NODES} or more): the inference router runs three replicas for high "
                "availability, which needs at least three worker nodes"
            )

    def _check_aci_tls(self) -> None:
        """qa's container group serves HTTPS only; dev's may serve HTTP (a stated relaxation)."""
        cname = self.container_instance.ssl_cname
        pems = {"aciSslCertPem": self.aci_ssl_cert_pem, "aciSslKeyPem": self.aci_ssl_key_pem}
        missing = [key for key, value in pems.items() if value is None]
        if cname is None and len(missing) < len(pems):
            raise ValueError(
                "the secret settings aciSslCertPem/aciSslKeyPem are set without "
                "containerInstance.sslCname: set the DNS name on the certificate too"
            )
        if not self.container_instance_enabled:
            return
        if cname is None and self.environment != "dev":
            raise ValueError(
                f"containerInstance.sslCname is required: the {self.environment} container group "
                "serves HTTPS only (a TLS sidecar on port 443). Set containerInstance.sslCname to "
                "the DNS name on the certificate (a CNAME to the group's azurecontainer.io name), "
                "and the certificate and key as the secret settings aciSslCertPem and aciSslKeyPem "
                '(pulumi config set --secret azure-mlops:aciSslCertPem -- "$(cat fullchain.pem)"); '
                "see docs/infra.md, 'TLS for qa scoring'"
            )
        if cname is not None and missing:
            raise ValueError(
                f"containerInstance.sslCname is set but the secret settings {' and '.join(missing)} "
                "are missing: set the certificate (full chain, PEM) and its key (PEM, no passphrase) "
                'with `pulumi config set --secret azure-mlops:aciSslCertPem -- "$(cat fullchain.pem)"` '
                'and `pulumi config set --secret azure-mlops:aciSslKeyPem -- "$(cat privkey.pem)"`'
            )

    @property
    def container_instance_tls(self) -> bool:
        """Whether the container group serves HTTPS through its TLS sidecar (always in qa)."""
        return self.container_instance_enabled and self.container_instance.ssl_cname is not None

    def _check_managed_network(self) -> None:
        """Managed isolation closes every public path: the settings must not reopen one."""
        if self.public_network_access == "Enabled" and "public_network_access" in self.model_fields_set:
            raise ValueError(
                "publicNetworkAccess: Enabled contradicts network.isolation: managed (allowed with "
                "managed: Disabled, or leave the key out)"
            )
        if self.container_registry.enabled and self.container_registry.sku != "Premium":
            raise ValueError(
                f"containerRegistry.sku: {self.container_registry.sku} is not allowed with "
                "network.isolation: managed (allowed: Premium): a registry takes a private endpoint "
                "only in the Premium tier (Learn, container-registry-private-link)"
            )
        if self.container_instance_enabled:
            raise ValueError(
                "containerInstance.enabled: true is not allowed with network.isolation: managed "
                "(allowed: false): the container group runs on a public IP outside the virtual "
                "network and could not pull from a registry without public access"
            )

    @property
    def storage_sku(self) -> str:
        """The storage account's SKU name (always Standard: Azure ML needs a general-purpose v2 account)."""
        return f"Standard_{self.storage_redundancy or REDUNDANCY_DEFAULTS[self.environment]}"

    @property
    def isolation(self) -> Isolation:
        """``network.isolation``, or the environment's default."""
        return self.network.isolation or ISOLATION_DEFAULTS[self.environment]

    @property
    def effective_public_network_access(self) -> Literal["Enabled", "Disabled"]:
        """What the workspace, storage, Key Vault and registry get: always Disabled when managed."""
        return "Disabled" if self.isolation == "managed" else self.public_network_access

    @property
    def compute_enabled(self) -> bool:
        """Whether the AML training cluster is part of this stack (default: dev only)."""
        enabled = self.compute.enabled
        return enabled if enabled is not None else self.environment == "dev"

    @property
    def batch_compute_enabled(self) -> bool:
        """Whether the batch scoring cluster is part of this stack (default: qa and prod)."""
        enabled = self.batch_compute.enabled
        return enabled if enabled is not None else self.environment in ("qa", "prod")

    @property
    def container_instance_enabled(self) -> bool:
        """Whether the ACI scoring target is part of this stack (default: qa only)."""
        enabled = self.container_instance.enabled
        return enabled if enabled is not None else self.environment == "qa"

    @property
    def aks_enabled(self) -> bool:
        """Whether the AKS scoring target is part of this stack (default: prod only)."""
        enabled = self.aks.enabled
        return enabled if enabled is not None else self.environment == "prod"


# ----------------------------------------------------------------------------------------------
# Stack names and expiry


def environment_of(stack: str) -> tuple[Environment, bool]:
    """The environment a stack belongs to and whether it is short-lived."""
    if stack == "dev":
        return "dev", False
    if stack == "qa":
        return "qa", False
    if stack == "prod":
        return "prod", False
    if SHORT_LIVED_STACK_RE.match(stack):
        return "dev", True
    raise ConfigError(
        f"stack name {stack!r} is not allowed: use dev, qa, prod or a short-lived "
        f"dev-<id> matching {SHORT_LIVED_STACK_RE.pattern}"
    )


def parse_expires_at(value: str | None, *, stack: str, short_lived: bool) -> str | None:
    """Validate ``azure-mlops:expiresAt`` (an ISO 8601 UTC timestamp ``YYYY-MM-DDTHH:MM:SSZ``)."""
    key = f"{NAMESPACE}:expiresAt"
    if not short_lived:
        if value is not None:
            raise ConfigError(
                f"{key} is set on stack {stack!r}, but only short-lived dev-<id> stacks expire "
                "(dev, qa and prod are never short-lived): remove the key"
            )
        return None
    if value is None or not value.strip():
        raise ConfigError(
            f"{key} is required for the short-lived stack {stack!r}: set an ISO 8601 UTC "
            "timestamp such as 2030-01-31T18:00:00Z "
            f"(pulumi config set {key} 2030-01-31T18:00:00Z)"
        )
    if not EXPIRES_AT_RE.match(value):
        raise ConfigError(
            f"{key}: {value!r} is not in the required format YYYY-MM-DDTHH:MM:SSZ "
            "(ISO 8601, UTC, seconds precision, e.g. 2030-01-31T18:00:00Z)"
        )
    try:
        datetime.strptime(value, EXPIRES_AT_FORMAT).replace(tzinfo=UTC)
    except ValueError as err:
        raise ConfigError(f"{key}: {value!r} is not a valid date and time ({err})") from None
    return value


# ----------------------------------------------------------------------------------------------
# Raw config -> Settings


def yaml_config_to_raw(config: Mapping[str, Any]) -> tuple[dict[str, str], set[str]]:
    """Turn a ``Pulumi.<stack>.yaml`` ``config:`` map into the engine's form.

    Values become strings the way the Pulumi CLI passes them (maps and lists as JSON, booleans
    as ``true``/``false``); ``{secure: ...}`` values are returned as secret keys with the
    ciphertext left out (it can only be decrypted by the stack's secrets provider).
    """
    raw: dict[str, str] = {}
    secure: set[str] = set()
    for key, value in config.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secure.add(key)
            continue
        if isinstance(value, bool):
            raw[key] = "true" if value else "false"
        elif isinstance(value, Mapping | list):
            raw[key] = json.dumps(value)
        else:
            raw[key] = str(value)
    return raw, secure


def read_stack_file(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml`` (empty if the file does not exist)."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(f"{path.name}: 'config' must be a map")
    return config


def _camel_to_key(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return NAMESPACE
    head = parts[0]
    if head == "location":
        return LOCATION_KEY
    return f"{NAMESPACE}:" + ".".join(parts)


def _format_errors(err: ValidationError) -> str:
    lines = []
    for item in err.errors():
        loc = tuple(item["loc"])
        key = _camel_to_key(loc)
        message = item["msg"].removeprefix("Value error, ")
        if (loc and loc[0] == "__root__") or not loc:
            lines.append(f"{NAMESPACE}: {message}")
            continue
        secret = any(str(p) in SECRET_SETTING_KEYS for p in loc)
        shown = "" if secret or "input" not in item else f" (got {item['input']!r})"
        if item["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"{key}: {message}{shown}")
    return "invalid stack settings:\n  " + "\n  ".join(lines)


def parse_settings(
    stack: str,
    raw: Mapping[str, str],
    secret_keys: frozenset[str] | set[str] = frozenset(),
) -> Settings:
    """Validate a stack's raw config (``{"azure-mlops:key": "value"}``) into :class:`Settings`."""
    environment, short_lived = environment_of(stack)
    prefix = f"{NAMESPACE}:"
    values: dict[str, Any] = {}
    for full_key, value in raw.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key.removeprefix(prefix)
        if key == "expiresAt":
            continue
        if key in OBJECT_KEYS:
            try:
                values[key] = json.loads(value)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{full_key}: not a valid map ({err.msg})") from None
        elif key in SECRET_SETTING_KEYS:
            if full_key not in secret_keys:
                raise ConfigError(
                    f"{full_key} is stored in plain text: set it with "
                    f"`pulumi config set --secret {full_key} <value>`"
                )
            values[key] = value
        else:
            values[key] = value
    expires_at = parse_expires_at(raw.get(f"{prefix}expiresAt"), stack=stack, short_lived=short_lived)
    location = raw.get(LOCATION_KEY)
    if location is None:
        raise ConfigError(f"{LOCATION_KEY} is required (an Azure region such as westeurope)")
    for required in ("namePrefix", "owner", "costCenter"):
        if required not in values:
            raise ConfigError(f"{prefix}{required} is required")
    try:
        return Settings.model_validate(
            {
                **values,
                "stack": stack,
                "environment": environment,
                "shortLived": short_lived,
                "expiresAt": expires_at,
                "location": location,
            }
        )
    except ValidationError as err:
        raise ConfigError(_format_errors(err)) from None


def layered_raw_config(
    stack: str,
    raw: Mapping[str, str],
    secret_keys: set[str] | frozenset[str],
    root: Path = PROJECT_ROOT,
) -> tuple[dict[str, str], set[str]]:
    """For ``dev-<id>`` stacks, lay the stack's own config over dev's plain values."""
    _, short_lived = environment_of(stack)
    merged: dict[str, str] = {}
    if short_lived:
        base, _ = yaml_config_to_raw(read_stack_file("dev", root))
        merged.update(base)
    merged.update(raw)
    return merged, set(secret_keys)


def load_settings() -> Settings:
    """Read and validate the running program's settings (raises :class:`ConfigError`)."""
    from pulumi.runtime import config as runtime_config

    raw: dict[str, str] = {}
    raw.update({k: str(v) for k, v in runtime_config.get_config_env().items()})
    raw.update({k: str(v) for k, v in runtime_config.CONFIG.get().items()})
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    stack = pulumi.get_stack()
    merged, secrets = layered_raw_config(stack, raw, secret_keys)
    settings = parse_settings(stack, merged, secrets)
    if settings.aks_enabled and not settings.aks.api_server_authorized_ip_ranges:
        pulumi.log.warn(
            f"{NAMESPACE}:aks.apiServerAuthorizedIpRanges is empty: the Kubernetes API server "
            "accepts connections from any address (with Entra ID sign-in). Set your admins' and "
            "CI's ranges (docs/infra.md, 'AKS hardening')"
        )
    if settings.expires_at is not None:
        expiry = datetime.strptime(settings.expires_at, EXPIRES_AT_FORMAT).replace(tzinfo=UTC)
        if expiry < datetime.now(tz=UTC):
            pulumi.log.warn(
                f"{NAMESPACE}:expiresAt {settings.expires_at} is in the past: the teardown job "
                "will delete this stack at its next run"
            )
    return settings
