"""The resource names of one short-lived stack, shared by the teardown tests."""

from pipelines.stacks.teardown import StackTargets

FULL = StackTargets(
    subscription_id="sub-1",
    resource_group="rg-dev-pr-1",
    location="westeurope",
    workspace="mlw-dev-pr-1",
    key_vault="kv-dev-pr-1",
    log_analytics="log-dev-pr-1",
)
