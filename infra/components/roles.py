"""Built-in Azure role definitions the program assigns (ids are the same in every tenant).

Every id is checked against Learn's "Azure built-in roles" table
(https://learn.microsoft.com/azure/role-based-access-control/built-in-roles, ms.date 2026-09-10).
"""

from __future__ import annotations

import pulumi

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
KUBERNETES_EXTENSION_CONTRIBUTOR = "85cb6faf-e071-4c9b-8136-154b5a04f717"
AKS_CLUSTER_ADMIN = "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8"  # "Azure Kubernetes Service Cluster Admin Role"
AZUREML_REGISTRY_USER = "1823dd4f-9b8c-4ab6-ab4e-7397a3684615"
AI_NETWORK_CONNECTION_APPROVER = (
    "b556d68e-0be0-4f35-a333-ad7ee1ce17ea"  # "Azure AI Enterprise Network Connection Approver"
)
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"

MLWORKLOAD_TRUSTED_ACCESS_ROLE = "Microsoft.MachineLearningServices/workspaces/mlworkload"
"""The AKS Trusted Access role Azure ML uses on clusters with local accounts disabled
(Azure/AML-Kubernetes docs/azureml-aks-ta-support.md)."""


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    """The ARM id of a built-in role definition in the given subscription."""
    return pulumi.Output.concat(
        "/subscriptions/",
        subscription_id,
        "/providers/Microsoft.Authorization/roleDefinitions/",
        role,
    )
