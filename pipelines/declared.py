"""What a stack declares, as plain data: the resources the Pulumi program registers for it.

``mlops preflight`` and ``mlops infra cost`` read a stack through this model, filled from the
program run under mocks (``pipelines/cli/stack_declaration.py``, the one place that imports
``infra`` for them). A resource type the program starts to declare flows in without a change here:
the checks and the estimate read the type token and the inputs generically.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

RESOURCE_GROUP_TYPE = "azure-native:resources:ResourceGroup"


@dataclass(frozen=True)
class DeclaredResource:
    """One Azure resource the program declares."""

    type: str
    """The Pulumi type token, ``azure-native:<module>:<Type>``."""
    name: str
    """The logical (Pulumi) name."""
    azure_name: str
    """The resource's name in Azure ("" when the program leaves it to Azure)."""
    inputs: Mapping[str, Any]
    """The inputs as the engine receives them; text inside a secret reads ``[secret]``."""

    @property
    def module(self) -> str:
        """The azure-native module (``containerservice``), "" for another provider's type."""
        parts = self.type.split(":")
        return parts[1] if len(parts) == 3 and parts[0] == "azure-native" else ""

    @property
    def kind(self) -> str:
        """The type's last segment (``ManagedCluster``)."""
        return self.type.rsplit(":", maxsplit=1)[-1]


@dataclass(frozen=True)
class DeclaredStack:
    """A stack's settings that locate it, and its declared resources."""

    stack: str
    environment: str
    location: str
    resources: tuple[DeclaredResource, ...]
    subscription_id: str = ""
    """``azure-native:subscriptionId`` when the stack's settings pin one."""
    stand_ins: tuple[str, ...] = ()
    """Settings the stack file lacks that the offline run supplied (prod's TLS; ``infra.offline``)."""

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_]

    @property
    def resource_group(self) -> str:
        """The Azure name of the stack's resource group ("" when it declares none)."""
        groups = self.of_type(RESOURCE_GROUP_TYPE)
        return groups[0].azure_name if groups else ""

    @property
    def azure_resources(self) -> list[DeclaredResource]:
        """The azure-native resources (not the components, not other providers' resources)."""
        return [r for r in self.resources if r.module]


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``(path, value)`` pair of a nested input, maps and lists included (``a.b[0].c``)."""
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def lookup(inputs: Mapping[str, Any], dotted: str) -> Any:
    """``inputs["a"]["b"]`` for ``"a.b"``; None when a step is missing."""
    value: Any = inputs
    for key in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
