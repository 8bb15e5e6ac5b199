"""The stacks the infra tests run offline, and their resources in the policy pack's form."""

from __future__ import annotations

from infra.offline import OfflineRun
from policy.check import ResourceToCheck

STACKS = ("dev", "qa", "prod", "dev-pr42")
DATABRICKS_RUN = "dev+databricks"  # the `runs` fixture's key for dev with databricks.enabled
DATABRICKS_ON = {"azure-mlops:databricks": {"enabled": True}}
EXPIRES_AT = "2031-05-17T12:00:00Z"
"""The expiry the short-lived stack ``dev-pr42`` is run with."""


def to_check(run: OfflineRun) -> list[ResourceToCheck]:
    """A run's custom resources as the policy pack receives them."""
    return [
        ResourceToCheck(r.type, r.name, r.urn, r.plain_inputs, r.dependencies) for r in run.custom_resources
    ]
