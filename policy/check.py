"""Run the baseline over resources without the Pulumi engine (tests, ``mlops infra plan``).

It applies the pack config the way the analyzer does: a policy whose ``enforcementLevel`` is
``disabled`` is skipped, the other keys are passed to the policy as its config.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.baseline import POLICIES, POLICY_NAMES

CONFIG_DIR = Path(__file__).resolve().parent / "config"


@dataclass(frozen=True)
class ResourceToCheck:
    """A resource as the analyzer sees it: type, name, URN, plain (unwrapped) inputs and the
    URNs it depends on."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    """One reported violation."""

    policy: str
    resource_type: str
    resource_name: str
    urn: str
    message: str

    def __str__(self) -> str:
        return f"[{self.policy}] {self.resource_type} {self.resource_name}: {self.message}"


def load_pack_config(environment: str) -> dict[str, Any]:
    """The pack config for an environment (``policy/config/<env>.json``; none means strict)."""
    path = CONFIG_DIR / f"{environment}.json"
    if not path.exists():
        return {}
    config = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        raise ValueError(f"{path}: the pack config must be a JSON object")
    unknown = set(config) - POLICY_NAMES - {"all"}
    if unknown:
        raise ValueError(f"{path}: unknown policies {sorted(unknown)}")
    return config


def _policy_resources(items: list[ResourceToCheck], options: PolicyResourceOptions) -> list[PolicyResource]:
    """The resources as a stack policy sees them, dependencies linked."""
    by_urn = {
        item.urn: PolicyResource(item.type, item.props, item.urn, item.name, options, None, None, [], {})
        for item in items
    }
    for item in items:
        by_urn[item.urn].dependencies.extend(by_urn[u] for u in item.dependencies if u in by_urn)
    return list(by_urn.values())


def check_resources(
    resources: Iterable[ResourceToCheck],
    pack_config: Mapping[str, Any] | None = None,
    policies: Iterable[Policy] = POLICIES,
) -> list[Violation]:
    """Every violation of ``policies`` by ``resources`` (resource and stack policies)."""
    pack_config = pack_config or {}
    items = list(resources)
    by_urn = {item.urn: item for item in items}
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    violations: list[Violation] = []
    for policy in policies:
        entry = pack_config.get(policy.name, {})
        if isinstance(entry, str):  # "policy-name": "disabled"
            entry = {"enforcementLevel": entry}
        if entry.get("enforcementLevel") == "disabled":
            continue
        config = {k: v for k, v in entry.items() if k != "enforcementLevel"}
        if isinstance(policy, StackValidationPolicy):

            def report_stack(message: str, urn: str | None = None, *, _policy: str = policy.name) -> None:
                found = by_urn.get(urn or "")
                violations.append(
                    Violation(
                        _policy,
                        found.type if found else "stack",
                        found.name if found else "",
                        urn or "",
                        message,
                    )
                )

            stack_args = StackValidationArgs(_policy_resources(items, options), config)
            if policy.validate(stack_args, report_stack) is not None:
                raise TypeError(f"policy {policy.name} returned an awaitable")
            continue
        if not isinstance(policy, ResourceValidationPolicy):
            raise TypeError(f"policy {policy.name}: unsupported kind {type(policy).__name__}")
        for resource in items:
            args = ResourceValidationArgs(
                resource.type,
                resource.props,
                resource.urn,
                resource.name,
                options,
                None,
                config,
            )

            def report(
                message: str,
                urn: str | None = None,
                *,
                _policy: str = policy.name,
                _resource: ResourceToCheck = resource,
            ) -> None:
                violations.append(
                    Violation(_policy, _resource.type, _resource.name, urn or _resource.urn, message)
                )

            result = policy.validate(args, report)
            if result is not None:  # the baseline's validations are synchronous
                raise TypeError(f"policy {policy.name} returned an awaitable")
    return violations
