"""Shared fixtures: the program run once per stack under mocks (each run ~0.3 s warm)."""

from __future__ import annotations

import pytest

from infra.offline import OfflineRun, run_stack
from tests.infra.offline_stacks import DATABRICKS_ON, EXPIRES_AT, STACKS


@pytest.fixture(scope="session")
def runs() -> dict[str, OfflineRun]:
    return {stack: run_stack(stack, expires_at=EXPIRES_AT) for stack in STACKS}


@pytest.fixture(scope="session")
def databricks_run() -> OfflineRun:
    """dev with the optional Azure Databricks workspace (off in Pulumi.dev.yaml)."""
    return run_stack("dev", expires_at=EXPIRES_AT, overrides=DATABRICKS_ON)
