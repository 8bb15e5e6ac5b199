"""The real effects behind a teardown and a short-lived stack: Pulumi Automation API
and the Azure SDKs. Imported lazily (from the command functions), never at start-up.

Error mapping, the same for every call:

* "not found" (``ResourceNotFoundError``, Pulumi's ``StackNotFoundError``) -> ``Outcome.ALREADY_GONE``;
* throttling, 5xx, connection errors, a held Pulumi lock -> :class:`TransientError`
  (the executor retries those with back-off);
* anything else propagates and fails the step.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pulumi import automation as auto
from pulumi.automation import errors as auto_errors

from pipelines.stacks.selection import StackInfo
from pipelines.stacks.teardown import (
    CloudOps,
    Outcome,
    SetupError,
    StackTargets,
    TransientError,
    targets_from_outputs,
    targets_from_state,
)

T = TypeVar("T")

TRANSIENT_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


@contextmanager
def _azure_errors() -> Iterator[None]:
    """Translate azure-core's transient errors into :class:`TransientError`."""
    from azure.core.exceptions import (
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    try:
        yield
    except ResourceNotFoundError:
        raise
    except (ServiceRequestError, ServiceResponseError) as error:
        raise TransientError(str(error)) from error
    except HttpResponseError as error:
        if error.status_code in TRANSIENT_STATUS:
            raise TransientError(str(error)) from error
        raise


def _not_found(error: BaseException) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(error, ResourceNotFoundError)


def _azure_call(fn: Callable[[], T], *, gone: T) -> T:
    """Run an Azure call: ``gone`` on "not found", TransientError when worth a retry."""
    with _azure_errors():
        try:
            return fn()
        except Exception as error:
            if _not_found(error):
                return gone
            raise


class PulumiStackOps:
    """Stacks of the ``azure-mlops`` project through the Pulumi Automation API (the CLI)."""

    def __init__(self, work_dir: Path, *, secrets_provider: str | None = None) -> None:
        self.work_dir = work_dir
        self.secrets_provider = secrets_provider
        self._workspace: auto.LocalWorkspace | None = None

    @property
    def workspace(self) -> auto.LocalWorkspace:
        if self._workspace is None:
            if shutil.which("pulumi") is None:
                raise SetupError(
                    "the Pulumi CLI is not on PATH (CI installs it with pulumi/actions; "
                    "see https://www.pulumi.com/docs/install/)"
                )
            self._workspace = auto.LocalWorkspace(
                work_dir=str(self.work_dir), secrets_provider=self.secrets_provider
            )
        return self._workspace

    @contextmanager
    def _pulumi_errors(self) -> Iterator[None]:
        try:
            yield
        except auto_errors.ConcurrentUpdateError as error:
            raise TransientError(str(error)) from error

    # -- listing ----------------------------------------------------------------------
    def stack_names(self) -> list[str]:
        with self._pulumi_errors():
            return [summary.name for summary in self.workspace.list_stacks()]

    def stack_exists(self, name: str) -> bool:
        return name in self.stack_names()

    def stack_tags(self, name: str) -> dict[str, str]:
        with self._pulumi_errors():
            return dict(self.workspace.list_tags(name))

    def list_stacks(self) -> list[StackInfo]:
        return [StackInfo(name, self.stack_tags(name)) for name in self.stack_names()]

    # -- targets ----------------------------------------------------------------------
    def read_targets(self, stack: str) -> StackTargets:
        with self._pulumi_errors():
            outputs = {k: v.value for k, v in self.workspace.stack_outputs(stack).items()}
            targets = targets_from_outputs(outputs)
            if not targets.complete:
                deployment = self.workspace.export_stack(stack).deployment or {}
                targets = targets.merged_with(targets_from_state(deployment))
        subscription = os.environ.get("AZURE_SUBSCRIPTION_ID") or os.environ.get("ARM_SUBSCRIPTION_ID")
        return targets.merged_with(StackTargets(subscription_id=subscription or None))

    # -- destroy / remove -------------------------------------------------------------
    def destroy_stack(self, stack: str) -> Outcome:
        with self._pulumi_errors():
            try:
                selected = auto.Stack.select(stack, self.workspace)
                selected.destroy(refresh=True, on_output=print, color="never")
            except auto_errors.StackNotFoundError:
                return Outcome.ALREADY_GONE
        return Outcome.DONE

    def remove_stack(self, stack: str) -> Outcome:
        with self._pulumi_errors():
            try:
                self.workspace.remove_stack(stack)
            except auto_errors.StackNotFoundError:
                return Outcome.ALREADY_GONE
        return Outcome.DONE

    # -- short-lived stacks (pipelines.stacks.create.StackAdmin) -------------------------
    def create_stack(self, name: str) -> None:
        with self._pulumi_errors():
            self.workspace.create_stack(name)

    def get_config_json(self, name: str) -> dict[str, Any]:
        """A stack's config in ``pulumi config --json`` form (secrets decrypted)."""
        config: dict[str, Any] = {}
        with self._pulumi_errors():
            values = self.workspace.get_all_config(name)
        for key, value in values.items():
            entry: dict[str, Any] = {"value": value.value, "secret": value.secret}
            try:
                decoded = json.loads(value.value)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict | list):
                entry["objectValue"] = decoded
            config[key] = entry
        return config

    def set_config_json(self, name: str, config: dict[str, Any]) -> None:
        with self._pulumi_errors():
            self.workspace.set_all_config_json(name, json.dumps(config))

    def set_tag(self, name: str, key: str, value: str) -> None:
        with self._pulumi_errors():
            self.workspace.set_tag(name, key, value)


class AzureCloudOps:
    """Azure ML, Key Vault and Log Analytics calls, plus the Pulumi ones (a CloudOps)."""

    def __init__(self, stacks: PulumiStackOps, credential: Any | None = None) -> None:
        self.stacks = stacks
        self._credential = credential

    @property
    def credential(self) -> Any:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        return self._credential

    @staticmethod
    def _require(targets: StackTargets) -> tuple[str, str]:
        if not targets.subscription_id or not targets.resource_group:
            raise ValueError("subscription and resource group are unknown")
        return targets.subscription_id, targets.resource_group

    def _ml_client(self, targets: StackTargets, *, workspace: bool) -> Any:
        from azure.ai.ml import MLClient

        subscription, group = self._require(targets)
        return MLClient(
            self.credential,
            subscription_id=subscription,
            resource_group_name=group,
            workspace_name=targets.workspace if workspace else None,
        )

    # -- Pulumi side (delegated) ----------------------------------------------------------
    def list_stacks(self) -> list[StackInfo]:
        return self.stacks.list_stacks()

    def read_targets(self, stack: str) -> StackTargets:
        return self.stacks.read_targets(stack)

    def destroy_stack(self, stack: str) -> Outcome:
        return self.stacks.destroy_stack(stack)

    def remove_stack(self, stack: str) -> Outcome:
        return self.stacks.remove_stack(stack)

    # -- Azure side ---------------------------------------------------------------------
    def list_online_endpoints(self, targets: StackTargets) -> list[str]:
        def names() -> list[str]:
            client = self._ml_client(targets, workspace=True)
            return [endpoint.name for endpoint in client.online_endpoints.list()]

        return _azure_call(names, gone=[])

    def delete_online_endpoint(self, targets: StackTargets, endpoint: str) -> Outcome:
        """Deleting an endpoint deletes its deployments (whatever their traffic share)."""

        def delete() -> Outcome:
            client = self._ml_client(targets, workspace=True)
            client.online_endpoints.begin_delete(name=endpoint).result()
            return Outcome.DONE

        return _azure_call(delete, gone=Outcome.ALREADY_GONE)

    def delete_workspace_permanently(self, targets: StackTargets) -> Outcome:
        def delete() -> Outcome:
            if not targets.workspace:
                raise ValueError("the Azure ML workspace name is unknown")
            client = self._ml_client(targets, workspace=False)
            client.workspaces.begin_delete(
                targets.workspace, delete_dependent_resources=False, permanently_delete=True
            ).result()
            return Outcome.DONE

        return _azure_call(delete, gone=Outcome.ALREADY_GONE)

    def force_delete_log_analytics(self, targets: StackTargets) -> Outcome:
        def delete() -> Outcome:
            from azure.mgmt.loganalytics import LogAnalyticsManagementClient

            subscription, group = self._require(targets)
            if not targets.log_analytics:
                raise ValueError("the Log Analytics workspace name is unknown")
            name = targets.log_analytics
            client = LogAnalyticsManagementClient(self.credential, subscription)
            client.workspaces.get(group, name)  # raises ResourceNotFoundError when absent
            # force=True releases the name at once instead of a 14-day soft delete
            client.workspaces.begin_delete(group, name, force=True).result()
            return Outcome.DONE

        return _azure_call(delete, gone=Outcome.ALREADY_GONE)

    def purge_key_vault(self, targets: StackTargets) -> Outcome:
        def purge() -> Outcome:
            from azure.mgmt.keyvault import KeyVaultManagementClient

            if not targets.subscription_id or not targets.key_vault:
                raise ValueError("subscription and vault name are unknown")
            client = KeyVaultManagementClient(self.credential, targets.subscription_id)
            location = targets.location
            if location is None:
                matches = [v for v in client.vaults.list_deleted() if v.name == targets.key_vault]
                if not matches:
                    return Outcome.ALREADY_GONE
                properties = matches[0].properties
                location = properties.location if properties is not None else None
                if location is None:
                    raise ValueError(f"deleted vault {targets.key_vault} has no location")
            client.vaults.get_deleted(targets.key_vault, location)  # raises when not soft-deleted
            client.vaults.begin_purge_deleted(targets.key_vault, location).result()
            return Outcome.DONE

        return _azure_call(purge, gone=Outcome.ALREADY_GONE)


def build_cloud_ops(work_dir: Path, *, secrets_provider: str | None = None) -> CloudOps:
    return AzureCloudOps(PulumiStackOps(work_dir, secrets_provider=secrets_provider))
