"""Global names free, soft-deleted Key Vaults and Azure ML workspaces in the way (pure).

- Storage account, Key Vault and container registry names are unique across Azure; each provider
  answers checkNameAvailability (``AlreadyExists`` / ``Invalid`` with a message).
- A soft-deleted Key Vault keeps its name until it is purged or its retention ends; with purge
  protection it cannot be purged before (Learn, "Azure Key Vault soft-delete overview",
  https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview).
- A soft-deleted Azure ML workspace's name "can't be reused until the retention period has passed
  or the workspace is permanently deleted"; soft-deleted workspaces are listed in the portal only
  ("Recently deleted"; Learn, "Workspace soft deletion",
  MicrosoftDocs/azure-ai-docs@19fa85dd:articles/machine-learning/concept-soft-delete.md). No SDK
  lists them, so the check warns before the workspace exists instead of asking Azure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipelines.preflight.facts import DeletedVault, NameStatus
from pipelines.preflight.needs import GlobalName
from pipelines.preflight.report import Check, failed, passed, warned

NAME_FIX = (
    "choose another azure-mlops:namePrefix in Pulumi.<stack>.yaml (the global names carry a hash of "
    "prefix and stack), or free the name"
)


def owned(name: GlobalName | tuple[str, str], existing: set[tuple[str, str]] | None) -> bool:
    """Whether the stack's resource group already holds a resource of this type and name."""
    arm_type, value = (name.arm_type, name.name) if isinstance(name, GlobalName) else name
    return existing is not None and (arm_type.lower(), value.lower()) in existing


def match_deleted_vaults(names: Iterable[str], deleted: Iterable[DeletedVault]) -> dict[str, DeletedVault]:
    """The soft-deleted vaults that hold one of ``names`` (vault names are case-insensitive)."""
    by_name = {vault.name.lower(): vault for vault in deleted}
    return {name: by_name[name.lower()] for name in names if name.lower() in by_name}


def deleted_vault_check(name: str, vault: DeletedVault, resource_group: str) -> Check:
    """A soft-deleted vault with the stack's name: recover it, or purge it when that is allowed."""
    purge_date = vault.scheduled_purge.date().isoformat() if vault.scheduled_purge else "?"
    recover = f"az keyvault recover --name {name} --resource-group {resource_group}"
    if vault.purge_protection:
        fix = (
            f"recover it ({recover}); purge protection is on, so it cannot be purged before "
            f"{purge_date}; or choose another azure-mlops:namePrefix"
        )
    else:
        purge = f"az keyvault purge --name {name} --location {vault.location}"
        fix = f"purge it ({purge}) or recover it ({recover})"
    return failed(
        f"soft-delete.keyvault.{name}",
        f"Key Vault {name} not soft-deleted",
        f"soft-deleted in {vault.location}, scheduled purge {purge_date}: creating it again fails",
        fix,
    )


def name_checks(
    names: Iterable[GlobalName],
    statuses: Mapping[str, NameStatus],
    existing: set[tuple[str, str]] | None,
    deleted_vaults: Mapping[str, DeletedVault],
    resource_group: str,
) -> list[Check]:
    """One check per global name: the stack's own, free, soft-deleted (vaults) or taken."""
    checks = []
    for name in names:
        id_ = f"name.{name.kind}.{name.name}"
        title = f"{name.kind} name {name.name}"
        if owned(name, existing):
            checks.append(passed(id_, title, f"already the stack's ({resource_group})"))
            continue
        if name.name in deleted_vaults:
            checks.append(deleted_vault_check(name.name, deleted_vaults[name.name], resource_group))
            continue
        status = statuses.get(name.name)
        if status is None:
            continue
        if status.available:
            checks.append(passed(id_, title, "available"))
        elif status.reason.lower() == "invalid":
            checks.append(failed(id_, title, f"invalid: {status.message}", NAME_FIX))
        else:
            detail = f"taken ({status.reason or 'not available'}): {status.message}".rstrip(": ")
            checks.append(failed(id_, title, detail, NAME_FIX))
    return checks


def workspace_checks(
    workspaces: Iterable[str], existing: set[tuple[str, str]] | None, resource_group: str
) -> list[Check]:
    """Azure ML workspaces: the stack's own pass; one still to be created warns to look at the portal."""
    checks = []
    for name in workspaces:
        id_ = f"soft-delete.workspace.{name}"
        title = f"Azure ML workspace {name} not soft-deleted"
        if owned(("Microsoft.MachineLearningServices/workspaces", name), existing):
            checks.append(passed(id_, title, f"exists in {resource_group}"))
        else:
            checks.append(
                warned(
                    id_,
                    title,
                    "not created yet, and Azure lists soft-deleted workspaces only in the portal",
                    "portal: Azure Machine Learning > Recently deleted; if it lists this name, "
                    "permanently delete it there (mlops stacks teardown deletes permanently)",
                )
            )
    return checks
