"""The ``MLClient`` of a stack's workspace.

``DefaultAzureCredential`` finds the sign-in that exists: the az CLI session that
``azure/login`` (OIDC) leaves in CI, ``az login`` on a laptop, a managed identity on Azure.
The interactive browser is excluded: a command never waits for a human in CI.
"""

from __future__ import annotations

from typing import Any

from pipelines.stack_outputs import StackOutputs


def default_credential() -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def ml_client(outputs: StackOutputs, credential: Any | None = None) -> Any:
    """An ``azure.ai.ml.MLClient`` bound to the stack's subscription, group and workspace."""
    from azure.ai.ml import MLClient

    return MLClient(
        credential if credential is not None else default_credential(),
        subscription_id=outputs.subscription_id,
        resource_group_name=outputs.resource_group_name,
        workspace_name=outputs.workspace_name,
    )


def registry_client(registry: str, credential: Any | None = None) -> Any:
    """An ``azure.ai.ml.MLClient`` bound to an Azure ML registry (no workspace: the SDK refuses both).

    Learn, how-to-share-models-pipelines-across-workspaces-with-registries, "Create SDK connection".
    The SDK finds the registry's subscription, group and region itself (a call to the registry
    discovery service, made here).
    """
    from azure.ai.ml import MLClient

    return MLClient(credential if credential is not None else default_credential(), registry_name=registry)
