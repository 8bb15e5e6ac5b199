"""The subscription read through the Azure SDKs' own clients and models, into plain facts.

Read-only: every call is a GET, a list or a checkNameAvailability. One :class:`AzureReader` per
preflight; the clients share the credential (``DefaultAzureCredential``: the az CLI login of CI
and laptops). The SDKs are imported inside the methods, so ``mlops --help`` loads none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pipelines.errors import MlopsError
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
from pipelines.preflight.needs import GlobalName
from pipelines.preflight.rbac import principal_from_claims, token_claims

if TYPE_CHECKING:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
    from azure.mgmt.resource.resources import ResourceManagementClient

ARM_SCOPE = "https://management.azure.com/.default"
P = ParamSpec("P")
R = TypeVar("R")


def reading(method: Callable[P, R]) -> Callable[P, R]:
    """A read Azure refuses or fails (HTTP error, no connection) raises :class:`FactsUnavailable`."""

    @wraps(method)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

        try:
            return method(*args, **kwargs)
        except ClientAuthenticationError as error:
            raise MlopsError(f"Azure sign-in failed: {_first_line(error)} (run az login)") from None
        except (HttpResponseError, ServiceRequestError) as error:
            raise FactsUnavailable(_first_line(error)) from None

    return read


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _text(value: Any) -> str:
    """An SDK enum or string as plain text (``Reason.ALREADY_EXISTS`` -> ``AlreadyExists``)."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _usages(items: Iterable[Any]) -> list[QuotaUsage]:
    """Usage models of Microsoft.Compute, Azure ML or Container Instances, as counters."""
    out = []
    for usage in items:
        name = usage.name
        key = _text(getattr(name, "value", "")) if name is not None else ""
        label = _text(getattr(name, "localized_value", "")) if name is not None else ""
        out.append(QuotaUsage(key, label or key, int(usage.current_value or 0), int(usage.limit or 0)))
    return out


class AzureReader:
    """The facts a preflight needs, read from one subscription."""

    def __init__(self, credential: Any, subscription_id: str) -> None:
        self.credential = credential
        self.subscription_id = subscription_id

    # --- clients (built once, on first use) -----------------------------------------------

    @cached_property
    def _resources(self) -> ResourceManagementClient:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(self.credential, self.subscription_id)

    @cached_property
    def _compute(self) -> ComputeManagementClient:
        from azure.mgmt.compute import ComputeManagementClient

        return ComputeManagementClient(self.credential, self.subscription_id)

    @cached_property
    def _ml(self) -> MachineLearningServicesMgmtClient:
        from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient

        return MachineLearningServicesMgmtClient(self.credential, self.subscription_id)

    @cached_property
    def _keyvault(self) -> KeyVaultManagementClient:
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return KeyVaultManagementClient(self.credential, self.subscription_id)

    # --- identity and subscription -----------------------------------------------------------

    def principal(self) -> Principal:
        """Who is signed in: the claims of an Azure Resource Manager token."""
        from azure.core.exceptions import ClientAuthenticationError

        try:
            token = self.credential.get_token(ARM_SCOPE).token
        except ClientAuthenticationError as error:
            raise MlopsError(
                f"no Azure sign-in: {_first_line(error)} (run az login; in CI, azure/login)"
            ) from None
        return principal_from_claims(token_claims(token))

    @reading
    def subscription(self) -> SubscriptionInfo:
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        sub = SubscriptionClient(self.credential).subscriptions.get(self.subscription_id)
        return SubscriptionInfo(
            subscription_id=sub.subscription_id or self.subscription_id,
            display_name=sub.display_name or "",
            state=_text(sub.state),
            tenant_id=sub.tenant_id or "",
        )

    @reading
    def role_grants(self, object_id: str) -> list[RoleGrant]:
        """The principal's role assignments in the subscription (groups included), with permissions.

        ``assignedTo('{objectId}')`` lists a principal's assignments including those through its
        groups (Learn, "List Azure role assignments using the REST API",
        https://learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest).
        """
        from azure.mgmt.authorization import AuthorizationManagementClient

        client = AuthorizationManagementClient(self.credential, self.subscription_id)
        definitions: dict[str, Any] = {}
        grants = []
        for assignment in client.role_assignments.list_for_subscription(filter=f"assignedTo('{object_id}')"):
            role_id = assignment.role_definition_id or ""
            if role_id not in definitions:
                definitions[role_id] = client.role_definitions.get_by_id(role_id)
            definition = definitions[role_id]
            for permission in definition.permissions or []:
                grants.append(
                    RoleGrant(
                        scope=assignment.scope or "",
                        role_name=definition.role_name or role_id,
                        actions=tuple(permission.actions or ()),
                        not_actions=tuple(permission.not_actions or ()),
                        condition=assignment.condition or "",
                    )
                )
        return grants

    # --- providers, features, regions --------------------------------------------------------

    @reading
    def providers(self) -> dict[str, ProviderInfo]:
        """Every provider of the subscription by lower-case namespace, with its types' regions."""
        out = {}
        for provider in self._resources.providers.list():
            namespace = provider.namespace or ""
            locations = {
                (rt.resource_type or "").lower(): tuple(rt.locations or ())
                for rt in provider.resource_types or []
            }
            out[namespace.lower()] = ProviderInfo(namespace, _text(provider.registration_state), locations)
        return out

    @reading
    def feature_state(self, namespace: str, feature: str) -> str:
        from azure.core.exceptions import ResourceNotFoundError
        from azure.mgmt.resource.features import FeatureClient

        try:
            result = FeatureClient(self.credential, self.subscription_id).features.get(namespace, feature)
        except ResourceNotFoundError:
            return "NotRegistered"
        return _text(result.properties.state) if result.properties else "NotRegistered"

    # --- VM sizes and quota ---------------------------------------------------------------

    @reading
    def compute_skus(self, location: str) -> dict[str, VmSku]:
        """The region's VM sizes (Microsoft.Compute resource SKUs) by lower-case name."""
        out = {}
        for sku in self._compute.resource_skus.list(filter=f"location eq '{location}'"):
            if sku.resource_type != "virtualMachines" or not sku.name:
                continue
            vcpus = next((c.value for c in sku.capabilities or [] if c.name == "vCPUs"), "0")
            restriction = next(
                (
                    _text(r.reason_code) or "restricted"
                    for r in sku.restrictions or []
                    if _text(r.type) == "Location"
                ),
                "",
            )
            out[sku.name.lower()] = VmSku(sku.name, sku.family or "", int(vcpus or 0), restriction)
        return out

    @reading
    def compute_usages(self, location: str) -> list[QuotaUsage]:
        return _usages(self._compute.usage.list(location))

    @reading
    def ml_vm_sizes(self, location: str) -> dict[str, VmSku]:
        """The VM sizes Azure ML offers for compute clusters in the region (``amlCompute``)."""
        result = self._ml.virtual_machine_sizes.list(location)
        return {
            size.name.lower(): VmSku(size.name, size.family or "", int(size.v_cp_us or 0))
            for size in result.aml_compute or []
            if size.name
        }

    @reading
    def ml_usages(self, location: str) -> list[QuotaUsage]:
        return _usages(self._ml.usages.list(location))

    @reading
    def aci_usages(self, location: str) -> list[QuotaUsage]:
        from azure.mgmt.containerinstance import ContainerInstanceManagementClient

        client = ContainerInstanceManagementClient(self.credential, self.subscription_id)
        return _usages(client.location.list_usage(location))

    # --- names, soft delete, what exists -----------------------------------------------------

    @reading
    def name_status(self, name: GlobalName) -> NameStatus:
        """checkNameAvailability of the name's own provider."""
        if name.kind == "storage":
            from azure.mgmt.storage import StorageManagementClient
            from azure.mgmt.storage.models import StorageAccountCheckNameAvailabilityParameters

            result: Any = StorageManagementClient(
                self.credential, self.subscription_id
            ).storage_accounts.check_name_availability(
                StorageAccountCheckNameAvailabilityParameters(name=name.name)
            )
        elif name.kind == "keyvault":
            from azure.mgmt.keyvault.models import VaultCheckNameAvailabilityParameters

            result = self._keyvault.vaults.check_name_availability(
                VaultCheckNameAvailabilityParameters(name=name.name)
            )
        elif name.kind == "registry":
            from azure.mgmt.containerregistry import ContainerRegistryManagementClient
            from azure.mgmt.containerregistry.models import RegistryNameCheckRequest

            result = ContainerRegistryManagementClient(
                self.credential, self.subscription_id
            ).registries.check_name_availability(RegistryNameCheckRequest(name=name.name, type=name.arm_type))
        else:
            raise ValueError(f"no name check for {name.kind!r}")
        return NameStatus(bool(result.name_available), _text(result.reason), result.message or "")

    @reading
    def deleted_vaults(self) -> list[DeletedVault]:
        out = []
        for vault in self._keyvault.vaults.list_deleted():
            properties = vault.properties
            out.append(
                DeletedVault(
                    name=vault.name or "",
                    location=(properties.location if properties else None) or "",
                    scheduled_purge=properties.scheduled_purge_date if properties else None,
                    purge_protection=bool(properties.purge_protection_enabled) if properties else False,
                )
            )
        return out

    @reading
    def existing_resources(self, resource_group: str) -> set[tuple[str, str]] | None:
        """(lower-case ARM type, lower-case name) of what the group holds; None without the group."""
        if not self._resources.resource_groups.check_existence(resource_group):
            return None
        return {
            ((r.type or "").lower(), (r.name or "").lower())
            for r in self._resources.resources.list_by_resource_group(resource_group)
        }
