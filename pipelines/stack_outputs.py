"""The stack outputs the pipelines read: the contract with the Pulumi program in ``infra/``.

Field names are snake_case; each one's alias is the exact Pulumi export name (camelCase), so
``StackOutputs.model_validate(outputs)`` accepts ``pulumi stack output --json --show-secrets``
as it is. A test runs the program under mocks for every environment and asserts that its exports
and this model's aliases match exactly, and which optional outputs each environment sets.

The reader that fills it from a real stack (Automation API) comes later; it must keep secret
outputs secret (``SecretStr``) and never log them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr
from pydantic.alias_generators import to_camel

Environment = Literal["dev", "qa", "prod"]


class StackOutputs(BaseModel):
    """Everything the pipelines need to know about one stack."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    # Where
    subscription_id: str
    tenant_id: str
    location: str
    environment: Environment
    stack: str
    resource_group_name: str
    # Short-lived dev-<id> stacks (the teardown contract)
    short_lived: bool
    expires_at: str  # ISO 8601 UTC (YYYY-MM-DDTHH:MM:SSZ), "" unless short-lived

    # Azure ML workspace and its dependencies
    workspace_name: str
    workspace_id: str
    mlflow_tracking_uri: str
    key_vault_name: str
    key_vault_uri: str
    storage_account_name: str
    log_analytics_workspace_id: str
    app_insights_connection_string: SecretStr
    identity_id: str
    identity_client_id: str
    identity_principal_id: str

    # Container registry (every environment by default; dev can switch it off)
    registry_name: str | None = None
    registry_login_server: str | None = None
    # its ARM id: `az acr import --registry <qa's registryId>` names the source registry by it
    registry_id: str | None = None

    # Azure ML registry shared by the stacks (optional): when dev's and the target's outputs name
    # the same one, `mlops promote` shares models into it and later steps read them from it
    model_registry_name: str | None = None

    # Training (dev; optional in qa)
    compute_cluster_name: str | None = None
    # Batch scoring (qa and prod by default): the parallel job's cluster, `mlops score-batch`
    batch_compute_name: str | None = None
    # Azure Databricks (dev, azure-mlops:databricks enabled): `mlops train --compute databricks`
    databricks_workspace_url: str | None = None
    databricks_workspace_id: str | None = None

    # qa scoring target (Azure Container Instance)
    container_group_name: str | None = None
    # Azure's name for the group (<label>.<region>.azurecontainer.io): with TLS, the target of the
    # CNAME record for scoring_fqdn (the certificate's name)
    container_group_fqdn: str | None = None
    # the host name clients call: qa's container group; prod's TLS name (the extension's sslCname)
    scoring_fqdn: str | None = None
    scoring_uri: str | None = None
    scoring_identity_id: str | None = None
    scoring_identity_client_id: str | None = None
    # what the container group runs, in the form of the settings azure-mlops:scoringImage
    # (repository@sha256:... or repository:tag, inside the stack's registry) and
    # azure-mlops:modelVersion; read by `mlops infra carry-serving` before every `pulumi up`
    scoring_image: str | None = None
    scoring_model_version: str | None = None

    # prod scoring target (AKS attached as Kubernetes compute)
    aks_cluster_name: str | None = None
    kubernetes_compute_name: str | None = None

    @classmethod
    def export_name(cls, field: str) -> str:
        """The Pulumi export name of one field (``scoring_image`` -> ``scoringImage``)."""
        return cls.model_fields[field].alias or field

    @classmethod
    def export_names(cls) -> frozenset[str]:
        """Every Pulumi export name this model reads."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items())

    @classmethod
    def required_export_names(cls) -> frozenset[str]:
        """The export names every stack must have."""
        return frozenset(
            field.alias or name for name, field in cls.model_fields.items() if field.is_required()
        )
