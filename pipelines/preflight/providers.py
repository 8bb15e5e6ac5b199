"""Resource providers and preview features registered, services offered in the region (pure).

A subscription must be registered for a provider's namespace before it can create its types
(Learn, "Resolve errors for resource provider registration": "MissingSubscriptionRegistration:
The subscription is not registered to use namespace ..."; fix ``az provider register
--namespace``, https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-register-resource-provider).
"""

from __future__ import annotations

from collections.abc import Mapping

from pipelines.declared import DeclaredStack
from pipelines.preflight.facts import ProviderInfo
from pipelines.preflight.needs import FeatureNeed, arm_resource_type, namespace_of, provider_namespaces
from pipelines.preflight.report import Check, failed, passed, warned


def region_key(name: str) -> str:
    """``West Europe`` and ``westeurope`` alike: lower case without spaces."""
    return name.replace(" ", "").lower()


def provider_checks(stack: DeclaredStack, providers: Mapping[str, ProviderInfo]) -> list[Check]:
    """One check per namespace the stack needs: Registered passes, Registering warns, else fails."""
    checks = []
    for namespace in provider_namespaces(stack):
        id_ = f"provider.{namespace}"
        info = providers.get(namespace.lower())
        if info is None:
            checks.append(
                warned(
                    id_,
                    f"provider {namespace}",
                    "the subscription lists no such provider (a type the check cannot map)",
                    "check the namespace the resource type belongs to: az provider list -o table",
                )
            )
            continue
        fix = f"az provider register --namespace {info.namespace} --wait"
        state = info.registration_state
        if state.lower() == "registered":
            checks.append(passed(id_, f"provider {info.namespace}", "Registered"))
        elif state.lower() == "registering":
            checks.append(warned(id_, f"provider {info.namespace}", "Registering (not done yet)", fix))
        else:
            checks.append(
                failed(id_, f"provider {info.namespace}", f"{state}: the stack's resources need it", fix)
            )
    return checks


def feature_checks(
    needs: list[tuple[FeatureNeed, str]], states: Mapping[tuple[str, str], str]
) -> list[Check]:
    """One check per preview feature the settings need (state from the Features API)."""
    checks = []
    for need, resource in needs:
        id_ = f"feature.{need.namespace}/{need.feature}"
        state = states.get((need.namespace, need.feature), "NotRegistered")
        title = f"feature {need.namespace}/{need.feature}"
        fix = (
            f"az feature register --namespace {need.namespace} --name {need.feature}, wait for "
            f"Registered (az feature show ...), then az provider register --namespace {need.namespace} "
            f"({need.source})"
        )
        detail = f"{state}; needed for {need.why} ({resource})"
        if state.lower() == "registered":
            checks.append(passed(id_, title, detail))
        elif state.lower() in {"registering", "pending"}:
            checks.append(warned(id_, title, detail, fix))
        else:
            checks.append(failed(id_, title, detail, fix))
    return checks


def region_checks(stack: DeclaredStack, providers: Mapping[str, ProviderInfo]) -> list[Check]:
    """Each declared resource type whose provider lists regions: is the stack's region among them?"""
    checks = []
    seen: set[str] = set()
    for resource in stack.azure_resources:
        namespace = namespace_of(resource)
        info = providers.get(namespace.lower())
        type_ = arm_resource_type(resource)
        locations = info.locations.get(type_) if info else None
        key = f"{namespace.lower()}/{type_}"
        if not locations or key in seen:
            continue  # not a top-level type the provider lists, or a global one
        seen.add(key)
        arm_type = f"{info.namespace if info else namespace}/{type_}"
        offered = {region_key(location) for location in locations}
        if region_key(stack.location) in offered or "global" in offered:
            checks.append(passed(f"region.{key}", f"{arm_type} in {stack.location}", "offered"))
        else:
            checks.append(
                failed(
                    f"region.{key}",
                    f"{arm_type} in {stack.location}",
                    f"not offered in {stack.location} (offered in {len(offered)} other regions)",
                    "choose a region that offers it (azure-native:location in Pulumi.<stack>.yaml); "
                    f"az provider show --namespace {namespace} "
                    f"--query \"resourceTypes[?resourceType=='{type_}'].locations\"",
                )
            )
    return checks
