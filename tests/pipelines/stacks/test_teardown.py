"""The teardown executor: exact call order, partial failure, idempotent re-run, retries."""

from __future__ import annotations

from typing import Any
from unittest.mock import call

import pytest
from pytest_mock import MockerFixture

from pipelines.stacks.selection import Candidate
from pipelines.stacks.teardown import (
    STEPS,
    CloudOps,
    Outcome,
    StackTargets,
    Status,
    Step,
    TeardownExecutor,
    TransientError,
    summarize,
    targets_from_outputs,
    targets_from_state,
)
from tests.pipelines.stacks.targets import FULL


def candidate(name: str) -> Candidate:
    from datetime import UTC, datetime

    return Candidate(name, datetime(2026, 1, 1, tzinfo=UTC), expired=True)


@pytest.fixture
def ops(mocker: MockerFixture) -> Any:
    mock = mocker.create_autospec(CloudOps, instance=True)
    mock.read_targets.return_value = FULL
    mock.list_online_endpoints.return_value = ["ep-a", "ep-b"]
    for name in (
        "delete_online_endpoint",
        "delete_workspace_permanently",
        "force_delete_log_analytics",
        "destroy_stack",
        "purge_key_vault",
        "remove_stack",
    ):
        getattr(mock, name).return_value = Outcome.DONE
    return mock


def executor(ops: Any, **kwargs: Any) -> TeardownExecutor:
    return TeardownExecutor(ops, sleep=lambda _s: None, **kwargs)


def test_steps_run_in_the_documented_order(ops: Any) -> None:
    [result] = executor(ops).run([candidate("dev-pr-1")])

    assert ops.mock_calls == [
        call.read_targets("dev-pr-1"),
        call.list_online_endpoints(FULL),
        call.delete_online_endpoint(FULL, "ep-a"),
        call.delete_online_endpoint(FULL, "ep-b"),
        call.delete_workspace_permanently(FULL),
        call.force_delete_log_analytics(FULL),
        call.destroy_stack("dev-pr-1"),
        call.purge_key_vault(FULL),
        call.remove_stack("dev-pr-1"),
    ]
    assert result.ok
    assert [s.step for s in result.steps] == list(STEPS)
    assert all(s.status is Status.DONE for s in result.steps)


def test_a_failure_skips_that_stacks_later_steps_and_the_next_stack_still_runs(ops: Any) -> None:
    def destroy(stack: str) -> Outcome:
        if stack == "dev-pr-1":
            raise RuntimeError("error: update failed\nmore detail")
        return Outcome.DONE

    ops.destroy_stack.side_effect = destroy
    first, second = executor(ops).run([candidate("dev-pr-1"), candidate("dev-pr-2")])

    assert not first.ok and second.ok
    statuses = {s.step: s.status for s in first.steps}
    assert statuses[Step.PULUMI_DESTROY] is Status.FAILED
    assert statuses[Step.PURGE_KEY_VAULT] is Status.SKIPPED
    assert statuses[Step.REMOVE_STACK] is Status.SKIPPED
    assert first.failed_step is not None
    assert first.failed_step.detail == "RuntimeError: error: update failed"
    assert call.remove_stack("dev-pr-1") not in ops.mock_calls
    assert call.purge_key_vault(FULL) in ops.mock_calls  # for dev-pr-2
    assert ops.mock_calls[-1] == call.remove_stack("dev-pr-2")
    assert summarize([first, second]) == (1, 1)


def test_a_failure_while_reading_targets_skips_everything_else(ops: Any) -> None:
    ops.read_targets.side_effect = RuntimeError("no backend")
    [result] = executor(ops).run([candidate("dev-pr-1")])
    assert ops.mock_calls == [call.read_targets("dev-pr-1")]
    assert [s.status for s in result.steps] == [Status.FAILED] + [Status.SKIPPED] * (len(STEPS) - 1)


def test_a_failed_endpoint_deletion_stops_before_the_workspace(ops: Any) -> None:
    ops.delete_online_endpoint.side_effect = [Outcome.DONE, ValueError("conflict")]
    [result] = executor(ops).run([candidate("dev-pr-1")])
    assert call.delete_workspace_permanently(FULL) not in ops.mock_calls
    assert call.destroy_stack("dev-pr-1") not in ops.mock_calls
    assert result.failed_step is not None and result.failed_step.step is Step.DELETE_ENDPOINTS


def test_a_rerun_after_everything_is_gone_succeeds(ops: Any) -> None:
    ops.list_online_endpoints.return_value = []
    for method in (
        ops.delete_workspace_permanently,
        ops.force_delete_log_analytics,
        ops.destroy_stack,
        ops.purge_key_vault,
        ops.remove_stack,
    ):
        method.return_value = Outcome.ALREADY_GONE
    [result] = executor(ops).run([candidate("dev-pr-1")])
    assert result.ok
    assert {s.status for s in result.steps} <= {Status.DONE, Status.ALREADY_GONE}
    ops.delete_online_endpoint.assert_not_called()


def test_transient_errors_are_retried_then_succeed(ops: Any) -> None:
    sleeps: list[float] = []
    ops.destroy_stack.side_effect = [TransientError("429"), TransientError("503"), Outcome.DONE]
    [result] = TeardownExecutor(ops, sleep=sleeps.append).run([candidate("dev-pr-1")])
    assert result.ok
    assert ops.destroy_stack.call_count == 3
    assert len(sleeps) == 2 and sleeps[0] > 0


def test_transient_errors_give_up_after_the_attempts(ops: Any) -> None:
    ops.purge_key_vault.side_effect = TransientError("still throttled")
    [result] = executor(ops, attempts=3).run([candidate("dev-pr-1")])
    assert ops.purge_key_vault.call_count == 3
    assert result.failed_step is not None and result.failed_step.step is Step.PURGE_KEY_VAULT
    assert "TransientError" in result.failed_step.detail


def test_non_transient_errors_are_not_retried(ops: Any) -> None:
    ops.delete_workspace_permanently.side_effect = PermissionError("403")
    executor(ops).run([candidate("dev-pr-1")])
    assert ops.delete_workspace_permanently.call_count == 1


def test_a_half_created_stack_still_gets_destroyed_and_removed(ops: Any) -> None:
    partial = StackTargets(subscription_id="sub-1", resource_group="rg-dev-pr-1")
    ops.read_targets.return_value = partial
    [result] = executor(ops).run([candidate("dev-pr-1")])
    assert ops.mock_calls == [
        call.read_targets("dev-pr-1"),
        call.destroy_stack("dev-pr-1"),
        call.remove_stack("dev-pr-1"),
    ]
    statuses = {s.step: s.status for s in result.steps}
    assert statuses[Step.DELETE_ENDPOINTS] is Status.NOT_APPLICABLE
    assert statuses[Step.DELETE_WORKSPACE] is Status.NOT_APPLICABLE
    assert statuses[Step.PURGE_KEY_VAULT] is Status.NOT_APPLICABLE
    assert result.ok


def test_the_reporter_sees_every_step(ops: Any, mocker: MockerFixture) -> None:
    reporter = mocker.Mock()
    executor(ops, reporter=reporter).run([candidate("dev-pr-1")])
    assert reporter.stack_started.call_args_list == [call("dev-pr-1")]
    assert reporter.step_finished.call_count == len(STEPS)
    assert reporter.stack_finished.call_count == 1


# --- targets from outputs and state -------------------------------------------------------


def test_targets_from_outputs_treats_missing_and_empty_as_unknown() -> None:
    targets = targets_from_outputs(
        {
            "subscriptionId": "sub-1",
            "resourceGroupName": "rg",
            "workspaceName": "",
            "keyVaultName": None,
            "location": "westeurope",
            "shortLived": True,
        }
    )
    assert targets == StackTargets(subscription_id="sub-1", resource_group="rg", location="westeurope")
    assert not targets.complete


def test_targets_from_state_reads_resource_ids_and_names() -> None:
    rg_id = "/subscriptions/sub-9/resourceGroups/rg-dev-pr-3"
    deployment = {
        "resources": [
            {"type": "pulumi:pulumi:Stack", "urn": "x"},
            {
                "type": "azure-native:resources:ResourceGroup",
                "id": rg_id,
                "outputs": {"name": "rg-dev-pr-3", "location": "westeurope"},
            },
            {
                "type": "azure-native:keyvault:Vault",
                "id": rg_id + "/providers/Microsoft.KeyVault/vaults/kv-3",
                "outputs": {"name": "kv-3"},
            },
            {
                "type": "azure-native:operationalinsights:Workspace",
                "id": rg_id + "/providers/Microsoft.OperationalInsights/workspaces/log-3",
                "outputs": {"name": "log-3"},
            },
        ]
    }
    targets = targets_from_state(deployment)
    assert targets == StackTargets(
        subscription_id="sub-9",
        resource_group="rg-dev-pr-3",
        location="westeurope",
        key_vault="kv-3",
        log_analytics="log-3",
    )
    merged = targets_from_outputs({"workspaceName": "mlw-3"}).merged_with(targets)
    assert merged.workspace == "mlw-3" and merged.key_vault == "kv-3"


def test_log_analytics_comes_from_the_exported_resource_id() -> None:
    law_id = (
        "/subscriptions/sub-7/resourceGroups/rg-dev-pr-7"
        "/providers/Microsoft.OperationalInsights/workspaces/log-mlops-dev-pr-7"
    )
    targets = targets_from_outputs({"logAnalyticsWorkspaceId": law_id})
    assert targets == StackTargets(
        subscription_id="sub-7", resource_group="rg-dev-pr-7", log_analytics="log-mlops-dev-pr-7"
    )


def test_the_outputs_read_are_exports_of_the_infra_program() -> None:
    """A contract check with pipelines/stack_outputs.py: a renamed export fails here."""
    from pipelines.stack_outputs import StackOutputs
    from pipelines.stacks.teardown import LOG_ANALYTICS_ID_OUTPUT, OUTPUT_FIELDS

    exported = StackOutputs.export_names()
    read = set(OUTPUT_FIELDS) | {LOG_ANALYTICS_ID_OUTPUT}
    assert read <= exported, f"teardown reads outputs the program never exports: {read - exported}"
    assert {"shortLived", "expiresAt"} <= exported


def test_a_pulumi_cli_failure_is_reported_by_its_error_line(ops: Any) -> None:
    from pulumi.automation._cmd import CommandResult
    from pulumi.automation.errors import CommandError

    stderr = "warning: something\nerror: update failed: resource group is locked\n"
    ops.destroy_stack.side_effect = CommandError(CommandResult("progress...", stderr, 255))
    [result] = executor(ops).run([candidate("dev-pr-1")])
    assert result.failed_step is not None
    assert result.failed_step.detail == "CommandError: error: update failed: resource group is locked"
