"""The repository's stacks as :class:`DeclaredStack`, from the program run under mocks (cached)."""

from __future__ import annotations

from functools import cache

from pipelines.cli.stack_declaration import declared_stack
from pipelines.declared import DeclaredStack


@cache
def declared(stack: str) -> DeclaredStack:
    return declared_stack(stack)
