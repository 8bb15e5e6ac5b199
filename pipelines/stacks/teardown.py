"""Tear down short-lived stacks: the ordered steps, their results, no SDK in sight.

The executor drives a :class:`CloudOps` (the real one is
``pipelines.stacks.adapters.AzureCloudOps``; tests pass a mock) through these steps
for each selected stack, in this order:

1. ``read-targets``: the Azure names the stack owns, from its outputs (falling back
   to its state for a half-created stack whose outputs were never written);
2. ``delete-endpoints``: every online endpoint of the workspace, deployments first;
3. ``delete-workspace``: the Azure ML workspace with ``permanently_delete=True``
   while its resource group still exists, so that no soft-deleted workspace blocks
   the name;
4. ``delete-log-analytics``: the Log Analytics workspace with ``force=True``: Azure
   only releases the name of a *live* workspace deleted with force (a soft-deleted
   one must first be recovered), so this goes before the resource group;
5. ``pulumi-destroy``: ``pulumi destroy`` (with a refresh, so the resources deleted
   above drop out of the state);
6. ``purge-key-vault``: purge the vault that the destroy left soft-deleted (a purge
   needs the soft-deleted vault, so it can only come after);
7. ``remove-stack``: ``pulumi stack rm``.

Every step is idempotent: a resource that is already gone counts as done, so a
re-run after a partial failure picks up where it stopped. A failed step stops that
stack's later steps (reported as skipped) and the executor goes on with the next
stack. Transient errors (:class:`TransientError`) are retried with back-off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any, Protocol, TypeVar

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from pipelines.errors import MlopsError
from pipelines.stacks.selection import Candidate, StackInfo

T = TypeVar("T")


class Step(Enum):
    READ_TARGETS = "read-targets"
    DELETE_ENDPOINTS = "delete-endpoints"
    DELETE_WORKSPACE = "delete-workspace"
    DELETE_LOG_ANALYTICS = "delete-log-analytics"
    PULUMI_DESTROY = "pulumi-destroy"
    PURGE_KEY_VAULT = "purge-key-vault"
    REMOVE_STACK = "remove-stack"


STEPS: tuple[Step, ...] = tuple(Step)

STEP_DESCRIPTIONS: Mapping[Step, str] = {
    Step.READ_TARGETS: "read the stack's outputs (or its state) for the Azure names",
    Step.DELETE_ENDPOINTS: "delete online endpoints and their deployments",
    Step.DELETE_WORKSPACE: "permanently delete the Azure ML workspace",
    Step.DELETE_LOG_ANALYTICS: "force-delete the Log Analytics workspace",
    Step.PULUMI_DESTROY: "pulumi destroy",
    Step.PURGE_KEY_VAULT: "purge the soft-deleted Key Vault",
    Step.REMOVE_STACK: "pulumi stack rm",
}


class Outcome(Enum):
    """What a CloudOps call did."""

    DONE = "done"
    ALREADY_GONE = "already gone"


class Status(Enum):
    DONE = "done"
    ALREADY_GONE = "already gone"
    NOT_APPLICABLE = "not applicable"
    FAILED = "failed"
    SKIPPED = "skipped"


class SetupError(MlopsError):
    """The tools or credentials a teardown needs are missing (e.g. no Pulumi CLI)."""


class TransientError(Exception):
    """A failure worth retrying (throttling, a 5xx, a lost connection, a held lock)."""


@dataclass(frozen=True)
class StackTargets:
    """The Azure resources a stack owns, as far as they are known.

    Each field may be ``None`` on a half-created stack; a step whose names are
    missing is reported as *not applicable* and ``pulumi destroy`` (which works from
    the state) still removes whatever was created.
    """

    subscription_id: str | None = None
    resource_group: str | None = None
    location: str | None = None
    workspace: str | None = None
    key_vault: str | None = None
    log_analytics: str | None = None

    def merged_with(self, fallback: StackTargets) -> StackTargets:
        """Fill this object's missing fields from ``fallback``."""
        return StackTargets(
            subscription_id=self.subscription_id or fallback.subscription_id,
            resource_group=self.resource_group or fallback.resource_group,
            location=self.location or fallback.location,
            workspace=self.workspace or fallback.workspace,
            key_vault=self.key_vault or fallback.key_vault,
            log_analytics=self.log_analytics or fallback.log_analytics,
        )

    @property
    def complete(self) -> bool:
        return all(
            (
                self.subscription_id,
                self.resource_group,
                self.location,
                self.workspace,
                self.key_vault,
                self.log_analytics,
            )
        )


# Stack output names (the infra program's exports) -> StackTargets fields.
OUTPUT_FIELDS: Mapping[str, str] = {
    "subscriptionId": "subscription_id",
    "resourceGroupName": "resource_group",
    "location": "location",
    "workspaceName": "workspace",
    "keyVaultName": "key_vault",
}

LOG_ANALYTICS_ID_OUTPUT = "logAnalyticsWorkspaceId"

# Resource types in a stack's state -> StackTargets fields (for half-created stacks).
STATE_TYPES: Mapping[str, str] = {
    "azure-native:machinelearningservices:Workspace": "workspace",
    "azure-native:keyvault:Vault": "key_vault",
    "azure-native:operationalinsights:Workspace": "log_analytics",
    "azure-native:resources:ResourceGroup": "resource_group",
}


def targets_from_outputs(outputs: Mapping[str, Any]) -> StackTargets:
    """Read the targets from stack outputs (plain values; missing or empty -> ``None``).

    The Log Analytics workspace name comes from the resource id the infra program exports,
    ``logAnalyticsWorkspaceId``.
    """
    values: dict[str, str | None] = {}
    for output, attr in OUTPUT_FIELDS.items():
        value = outputs.get(output)
        values[attr] = value if isinstance(value, str) and value else None
    law_id = outputs.get(LOG_ANALYTICS_ID_OUTPUT)
    if isinstance(law_id, str) and "/workspaces/" in law_id.lower():
        subscription, group = _parse_resource_id(law_id)
        values["log_analytics"] = law_id.rstrip("/").rsplit("/", 1)[-1]
        values["subscription_id"] = values["subscription_id"] or subscription
        values["resource_group"] = values["resource_group"] or group
    return StackTargets(**values)


def _parse_resource_id(resource_id: str) -> tuple[str | None, str | None]:
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    subscription = resource_group = None
    if "subscriptions" in lowered:
        index = lowered.index("subscriptions") + 1
        subscription = parts[index] if index < len(parts) else None
    if "resourcegroups" in lowered:
        index = lowered.index("resourcegroups") + 1
        resource_group = parts[index] if index < len(parts) else None
    return subscription, resource_group


def targets_from_state(deployment: Mapping[str, Any]) -> StackTargets:
    """Read the targets from an exported stack state (``pulumi stack export``).

    A stack whose ``pulumi up`` failed half-way has no outputs yet, but its state
    lists what was created: the resource ids give the subscription and group.
    """
    values: dict[str, str | None] = {}
    resources = deployment.get("resources") or []
    for resource in resources:
        if not isinstance(resource, Mapping):
            continue
        attr = STATE_TYPES.get(str(resource.get("type", "")))
        if attr is None:
            continue
        outputs = resource.get("outputs") or {}
        name = outputs.get("name")
        if isinstance(name, str) and name:
            values.setdefault(attr, name)
        location = outputs.get("location")
        if isinstance(location, str) and location:
            values.setdefault("location", location)
        resource_id = resource.get("id") or outputs.get("id")
        if isinstance(resource_id, str):
            subscription, group = _parse_resource_id(resource_id)
            if subscription:
                values.setdefault("subscription_id", subscription)
            if group and attr != "resource_group":
                values.setdefault("resource_group", group)
    return StackTargets(**values)


class CloudOps(Protocol):
    """The effects a teardown needs. Each call is idempotent; "not found" -> ALREADY_GONE."""

    def list_stacks(self) -> list[StackInfo]:
        """Every stack of the project, with its stack tags."""

    def read_targets(self, stack: str) -> StackTargets:
        """The Azure names a stack owns (outputs first, its state as the fallback)."""

    def list_online_endpoints(self, targets: StackTargets) -> list[str]:
        """The online endpoints of the stack's workspace ([] when the workspace is gone)."""

    def delete_online_endpoint(self, targets: StackTargets, endpoint: str) -> Outcome:
        """Delete an endpoint's deployments, then the endpoint."""

    def delete_workspace_permanently(self, targets: StackTargets) -> Outcome:
        """``workspaces.begin_delete(permanently_delete=True)``."""

    def force_delete_log_analytics(self, targets: StackTargets) -> Outcome:
        """Delete the Log Analytics workspace with ``force=True``."""

    def destroy_stack(self, stack: str) -> Outcome:
        """``pulumi destroy --refresh --yes``."""

    def purge_key_vault(self, targets: StackTargets) -> Outcome:
        """Purge the soft-deleted Key Vault (ALREADY_GONE when there is none)."""

    def remove_stack(self, stack: str) -> Outcome:
        """``pulumi stack rm --yes``."""


@dataclass
class StepResult:
    step: Step
    status: Status
    detail: str = ""


@dataclass
class StackResult:
    stack: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status is not Status.FAILED for s in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status is Status.FAILED), None)


class Reporter(Protocol):
    """Progress sink (the CLI shows it with rich; tests collect it)."""

    def stack_started(self, stack: str) -> None: ...

    def step_finished(self, stack: str, result: StepResult) -> None: ...

    def stack_finished(self, result: StackResult) -> None: ...


class NullReporter:
    def stack_started(self, stack: str) -> None:
        pass

    def step_finished(self, stack: str, result: StepResult) -> None:
        pass

    def stack_finished(self, result: StackResult) -> None:
        pass


def _describe(error: BaseException) -> str:
    """One line for the report: the first ``error:`` line (Pulumi CLI), else the first line."""
    # A Pulumi CommandError's text is the repr of its CommandResult: newlines come escaped.
    text = str(error).replace("\\n", "\n")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[line.index("error:") :] for line in lines if "error:" in line]
    first = (errors or lines or [""])[0].split("', code=")[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


@dataclass
class _StepFailed(Exception):
    step: Step
    error: BaseException


class TeardownExecutor:
    """Runs the teardown steps for each candidate, in order, and reports every result."""

    def __init__(
        self,
        ops: CloudOps,
        *,
        reporter: Reporter | None = None,
        attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        max_wait_seconds: float = 60.0,
    ) -> None:
        self._ops = ops
        self._reporter = reporter or NullReporter()
        self._attempts = attempts
        self._sleep = sleep
        self._max_wait = max_wait_seconds

    def _call(self, fn: Callable[[], T]) -> T:
        kwargs: dict[str, Any] = {}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=2, max=self._max_wait),
            reraise=True,
            **kwargs,
        )
        return retrying(fn)

    def run(self, candidates: Sequence[Candidate]) -> list[StackResult]:
        return [self.teardown(candidate.name) for candidate in candidates]

    def teardown(self, stack: str) -> StackResult:
        result = StackResult(stack)
        self._reporter.stack_started(stack)
        try:
            self._steps(stack, result)
        except _StepFailed as failure:
            self._record(result, failure.step, Status.FAILED, _describe(failure.error))
            done = {s.step for s in result.steps}
            for step in STEPS:
                if step not in done:
                    self._record(result, step, Status.SKIPPED, f"skipped after {failure.step.value} failed")
        self._reporter.stack_finished(result)
        return result

    def _record(self, result: StackResult, step: Step, status: Status, detail: str = "") -> None:
        step_result = StepResult(step, status, detail)
        result.steps.append(step_result)
        self._reporter.step_finished(result.stack, step_result)

    def _outcome(self, result: StackResult, step: Step, outcome: Outcome, detail: str) -> None:
        status = Status.DONE if outcome is Outcome.DONE else Status.ALREADY_GONE
        self._record(result, step, status, detail)

    def _guard(self, step: Step, fn: Callable[[], T]) -> T:
        try:
            return self._call(fn)
        except Exception as error:
            raise _StepFailed(step, error) from error

    def _steps(self, stack: str, result: StackResult) -> None:
        ops = self._ops
        targets = self._guard(Step.READ_TARGETS, lambda: ops.read_targets(stack))
        missing = [
            attr
            for attr in ("subscription_id", "resource_group", "workspace", "key_vault")
            if getattr(targets, attr) is None
        ]
        self._record(
            result,
            Step.READ_TARGETS,
            Status.DONE,
            "all names known" if not missing else f"unknown: {', '.join(missing)}",
        )
        has_group = targets.subscription_id is not None and targets.resource_group is not None

        # 2. endpoints and their deployments
        if has_group and targets.workspace:
            endpoints = self._guard(Step.DELETE_ENDPOINTS, lambda: ops.list_online_endpoints(targets))
            for endpoint in endpoints:
                self._guard(Step.DELETE_ENDPOINTS, partial(ops.delete_online_endpoint, targets, endpoint))
            detail = f"deleted {', '.join(endpoints)}" if endpoints else "no online endpoints"
            self._record(result, Step.DELETE_ENDPOINTS, Status.DONE, detail)
        else:
            self._record(result, Step.DELETE_ENDPOINTS, Status.NOT_APPLICABLE, "no workspace")

        # 3. the Azure ML workspace, permanently
        self._optional(
            result,
            Step.DELETE_WORKSPACE,
            has_group and targets.workspace is not None,
            lambda: ops.delete_workspace_permanently(targets),
            targets.workspace,
        )
        # 4. the Log Analytics workspace, with force
        self._optional(
            result,
            Step.DELETE_LOG_ANALYTICS,
            has_group and targets.log_analytics is not None,
            lambda: ops.force_delete_log_analytics(targets),
            targets.log_analytics,
        )
        # 5. pulumi destroy
        outcome = self._guard(Step.PULUMI_DESTROY, lambda: ops.destroy_stack(stack))
        self._outcome(result, Step.PULUMI_DESTROY, outcome, stack)
        # 6. purge the soft-deleted Key Vault
        self._optional(
            result,
            Step.PURGE_KEY_VAULT,
            targets.subscription_id is not None and targets.key_vault is not None,
            lambda: ops.purge_key_vault(targets),
            targets.key_vault,
        )
        # 7. remove the stack
        outcome = self._guard(Step.REMOVE_STACK, lambda: ops.remove_stack(stack))
        self._outcome(result, Step.REMOVE_STACK, outcome, stack)

    def _optional(
        self,
        result: StackResult,
        step: Step,
        applicable: bool,
        fn: Callable[[], Outcome],
        name: str | None,
    ) -> None:
        if not applicable:
            self._record(result, step, Status.NOT_APPLICABLE, "name unknown (never created?)")
            return
        self._outcome(result, step, self._guard(step, fn), name or "")


def summarize(results: Iterable[StackResult]) -> tuple[int, int]:
    """(succeeded, failed) stack counts."""
    done = failed = 0
    for result in results:
        if result.ok:
            done += 1
        else:
            failed += 1
    return done, failed
