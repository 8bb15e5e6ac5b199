"""Shared fixtures: the program run once per stack under mocks (each run ~0.3 s warm)."""

from __future__ import annotations

import pytest

from infra.offline import OfflineRun, run_stack
from policy.check import ResourceToCheck

STACKS = ("dev", "qa", "prod", "dev-pr42")
EXPIRES_AT = "2031-05-17T12:00:00Z"


@pytest.fixture(scope="session")
def runs() -> dict[str, OfflineRun]:
    return {stack: run_stack(stack, expires_at=EXPIRES_AT) for stack in STACKS}


def to_check(run: OfflineRun) -> list[ResourceToCheck]:
    return [ResourceToCheck(r.type, r.name, r.urn, r.plain_inputs) for r in run.custom_resources]
