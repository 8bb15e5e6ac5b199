"""Deterministic Azure resource names.

Names are derived from the name prefix, the environment and the stack: the same stack always
gets the same names (so ``pulumi up`` is repeatable and the pipelines can predict them), two
stacks never share one. Globally unique names (storage account, Key Vault, container registry,
ACI DNS label) carry a 6-character hash of prefix and stack, because the readable stack name
(up to 35 characters for ``dev-<id>``) does not fit their length limits.

Every name is checked against its Azure rule here, before anything reaches Azure; a name that
breaks a rule raises :class:`~infra.config.ConfigError` naming the setting to change.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields

from infra.config import NAMESPACE, ConfigError


@dataclass(frozen=True)
class NameRule:
    """An Azure naming rule: allowed pattern and length bounds."""

    pattern: str
    min_len: int
    max_len: int
    what: str


RULES: dict[str, NameRule] = {
    "resource_group": NameRule(r"^[A-Za-z0-9._()-]*[A-Za-z0-9_()-]$", 1, 90, "resource group"),
    "log_analytics": NameRule(r"^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$", 4, 63, "Log Analytics"),
    "app_insights": NameRule(r"^[A-Za-z0-9._()-]*[A-Za-z0-9_()-]$", 1, 255, "App Insights"),
    "key_vault": NameRule(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$", 3, 24, "Key Vault"),
    "storage_account": NameRule(r"^[a-z0-9]+$", 3, 24, "storage account"),
    "container_registry": NameRule(r"^[a-z0-9]+$", 5, 50, "container registry"),
    "identity": NameRule(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", 3, 128, "managed identity"),
    "scoring_identity": NameRule(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", 3, 128, "managed identity"),
    "workspace": NameRule(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", 3, 33, "Azure ML workspace"),
    "training_cluster": NameRule(r"^[a-z][a-z0-9-]*[a-z0-9]$", 2, 16, "AML compute"),
    "batch_cluster": NameRule(r"^[a-z][a-z0-9-]*[a-z0-9]$", 2, 16, "AML compute"),
    "container_group": NameRule(r"^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$", 1, 63, "container group"),
    "dns_label": NameRule(r"^[a-z][a-z0-9-]*[a-z0-9]$", 3, 63, "DNS label"),
    "aks_cluster": NameRule(r"^[A-Za-z0-9][A-Za-z0-9_-]*[A-Za-z0-9]$", 1, 63, "AKS cluster"),
    "aks_dns_prefix": NameRule(r"^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$", 1, 54, "AKS DNS prefix"),
    "aks_node_resource_group": NameRule(
        r"^[A-Za-z0-9._()-]*[A-Za-z0-9_()-]$", 1, 80, "AKS node resource group"
    ),
    "aks_node_pool": NameRule(r"^[a-z][a-z0-9]*$", 1, 12, "AKS node pool"),
    "kubernetes_compute": NameRule(r"^[a-z][a-z0-9-]*[a-z0-9]$", 2, 16, "AML compute"),
    "ml_extension": NameRule(r"^[a-z][a-z0-9-]*[a-z0-9]$", 1, 253, "cluster extension"),
    # AKS REST API, trustedAccessRoleBindings: "maxLength: 24, pattern: ^([A-Za-z0-9-])+$"
    "trusted_access_binding": NameRule(r"^[A-Za-z0-9-]+$", 1, 24, "Trusted Access role binding"),
}


def stack_hash(prefix: str, stack: str) -> str:
    """Six lowercase hex characters that tell stacks apart inside length-limited names."""
    return hashlib.sha256(f"{prefix}/{stack}".encode()).hexdigest()[:6]


@dataclass(frozen=True)
class ResourceNames:
    """The physical (Azure) name of every resource the program creates."""

    resource_group: str
    log_analytics: str
    app_insights: str
    key_vault: str
    storage_account: str
    container_registry: str
    identity: str
    scoring_identity: str
    workspace: str
    training_cluster: str
    batch_cluster: str
    container_group: str
    dns_label: str
    aks_cluster: str
    aks_dns_prefix: str
    aks_node_resource_group: str
    aks_node_pool: str
    kubernetes_compute: str
    ml_extension: str
    trusted_access_binding: str

    @classmethod
    def for_stack(cls, prefix: str, environment: str, stack: str) -> ResourceNames:
        h = stack_hash(prefix, stack)
        names = cls(
            resource_group=f"rg-{prefix}-{stack}",
            log_analytics=f"log-{prefix}-{stack}",
            app_insights=f"appi-{prefix}-{stack}",
            key_vault=f"kv-{prefix}-{environment}-{h}",
            storage_account=f"st{prefix}{environment}{h}",
            container_registry=f"cr{prefix}{environment}{h}",
            identity=f"id-{prefix}-{stack}",
            scoring_identity=f"id-{prefix}-{stack}-scoring",
            workspace=f"mlw-{prefix}-{environment}-{h}",
            training_cluster="cpu-cluster",
            batch_cluster="batch-cluster",
            container_group=f"aci-{prefix}-{stack}",
            dns_label=f"{prefix}-{stack}-{h}",
            aks_cluster=f"aks-{prefix}-{stack}",
            aks_dns_prefix=f"{prefix}-{stack}",
            aks_node_resource_group=f"rg-{prefix}-{stack}-aks-nodes",
            aks_node_pool="system",
            kubernetes_compute="aks-inference",
            ml_extension="azureml",
            trusted_access_binding=f"aml-{prefix}-{h}",
        )
        names.check()
        return names

    def check(self) -> None:
        """Raise :class:`ConfigError` if a name breaks its Azure rule."""
        for field in fields(self):
            value = getattr(self, field.name)
            rule = RULES[field.name]
            problems = []
            if not rule.min_len <= len(value) <= rule.max_len:
                problems.append(f"length {len(value)} outside {rule.min_len}-{rule.max_len} characters")
            if not re.match(rule.pattern, value):
                problems.append(f"does not match {rule.pattern}")
            if problems:
                raise ConfigError(
                    f"{NAMESPACE}:namePrefix: the derived {rule.what} name {value!r} is "
                    f"invalid ({'; '.join(problems)}); choose a shorter or simpler prefix"
                )
