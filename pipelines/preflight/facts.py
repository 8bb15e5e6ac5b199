"""What the subscription says, as plain data (read by :mod:`pipelines.preflight.azure`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Principal:
    """The signed-in identity, from the claims of its Azure Resource Manager token."""

    object_id: str
    tenant_id: str
    name: str
    kind: str  # "user" or "app"


@dataclass(frozen=True)
class SubscriptionInfo:
    subscription_id: str
    display_name: str
    state: str
    tenant_id: str


@dataclass(frozen=True)
class RoleGrant:
    """A role assignment of the principal (or one of its groups) with its role's permissions."""

    scope: str
    role_name: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    condition: str = ""


@dataclass(frozen=True)
class ProviderInfo:
    """A resource provider: its registration state, and the regions of each resource type."""

    namespace: str
    registration_state: str
    locations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """resource type (lower case, ``managedclusters``) -> its regions as Azure names them."""


@dataclass(frozen=True)
class VmSku:
    """A VM size in a region: its quota family, vCPUs and any restriction for the subscription."""

    name: str
    family: str
    vcpus: int
    restriction: str = ""


@dataclass(frozen=True)
class QuotaUsage:
    """One quota counter of a region: ``current`` of ``limit`` used."""

    key: str
    label: str
    current: int
    limit: int


@dataclass(frozen=True)
class NameStatus:
    """The answer of a resource provider's checkNameAvailability."""

    available: bool
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class DeletedVault:
    """A soft-deleted Key Vault of the subscription."""

    name: str
    location: str
    scheduled_purge: datetime | None
    purge_protection: bool


class FactsUnavailable(Exception):
    """Azure refused or failed a read (no permission to list, throttled): the check is unknown."""
