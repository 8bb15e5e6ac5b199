"""`mlops stacks teardown` and `create-short-lived` through the real typer app."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import call

import pytest
from pytest_mock import MockerFixture
from typer.testing import CliRunner

from pipelines.cli import stacks as stacks_cli
from pipelines.cli.main import app
from pipelines.stacks.selection import TAG_EXPIRES_AT, TAG_PROTECTED, TAG_SHORT_LIVED, StackInfo
from pipelines.stacks.teardown import CloudOps, Outcome, StackTargets

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
MUTATING = (
    "read_targets",
    "list_online_endpoints",
    "delete_online_endpoint",
    "delete_workspace_permanently",
    "force_delete_log_analytics",
    "destroy_stack",
    "purge_key_vault",
    "remove_stack",
)


def short_lived(name: str, expires: str = "2026-11-24T08:00:00Z", **extra: str) -> StackInfo:
    return StackInfo(name, {TAG_SHORT_LIVED: "true", TAG_EXPIRES_AT: expires, **extra})


STACKS = [
    StackInfo("dev"),
    StackInfo("qa", {TAG_SHORT_LIVED: "true", TAG_EXPIRES_AT: "2020-01-01T00:00:00Z"}),
    StackInfo("prod"),
    short_lived("dev-pr-1"),
    short_lived("dev-pr-2", expires="2026-11-26T08:00:00Z"),
    short_lived("dev-pr-3", **{TAG_PROTECTED: "true"}),
    short_lived("dev-pr-4"),
]


@pytest.fixture
def ops(mocker: MockerFixture, tmp_path: Path) -> Any:
    mock = mocker.create_autospec(CloudOps, instance=True)
    mock.list_stacks.return_value = STACKS
    mock.read_targets.return_value = StackTargets(subscription_id="s", resource_group="rg")
    mock.destroy_stack.return_value = Outcome.DONE
    mock.remove_stack.return_value = Outcome.DONE
    mocker.patch.object(stacks_cli, "make_cloud_ops", return_value=mock)
    mocker.patch.object(stacks_cli, "now", return_value=NOW)
    mocker.patch.object(stacks_cli, "stdin_is_interactive", return_value=False)
    (tmp_path / "Pulumi.yaml").write_text("name: azure-mlops\n")
    mocker.patch.object(stacks_cli, "find_project_dir", return_value=tmp_path)
    return mock


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, ["stacks", *args], input=input)


def destructive_calls(ops: Any) -> list[Any]:
    return [c for c in ops.mock_calls if c[0] in MUTATING]


def test_dry_run_shows_the_plan_and_makes_no_calls(ops: Any) -> None:
    result = invoke("teardown", "--expired", "--dry-run", "--yes")
    assert result.exit_code == 0, result.output
    assert ops.mock_calls == [call.list_stacks()]
    assert "dev-pr-1" in result.output and "dev-pr-4" in result.output
    assert "protected" in result.output and "not expired" in result.output
    assert "Dry run" in result.output


def test_without_yes_and_without_a_terminal_nothing_happens(ops: Any) -> None:
    result = invoke("teardown", "--expired")
    assert result.exit_code == 0
    assert destructive_calls(ops) == []
    assert "--yes" in result.output


def test_with_a_terminal_it_asks_and_a_no_changes_nothing(ops: Any, mocker: MockerFixture) -> None:
    mocker.patch.object(stacks_cli, "stdin_is_interactive", return_value=True)
    result = invoke("teardown", "--expired", input="n\n")
    assert result.exit_code == 0
    assert destructive_calls(ops) == []


def test_with_a_terminal_a_yes_tears_down(ops: Any, mocker: MockerFixture) -> None:
    mocker.patch.object(stacks_cli, "stdin_is_interactive", return_value=True)
    result = invoke("teardown", "--expired", input="y\n")
    assert result.exit_code == 0, result.output
    assert call.remove_stack("dev-pr-1") in ops.mock_calls


def test_expired_with_yes_tears_down_only_expired_unprotected_short_lived_stacks(ops: Any) -> None:
    result = invoke("teardown", "--expired", "--yes")
    assert result.exit_code == 0, result.output
    touched = {c.args[0] for c in ops.mock_calls if c[0] in ("destroy_stack", "remove_stack")}
    assert touched == {"dev-pr-1", "dev-pr-4"}
    assert "2 stack(s) torn down, 0 failed" in result.output


def test_one_failed_stack_does_not_stop_the_others_and_the_exit_code_says_so(ops: Any) -> None:
    def destroy(stack: str) -> Outcome:
        if stack == "dev-pr-1":
            raise RuntimeError("boom")
        return Outcome.DONE

    ops.destroy_stack.side_effect = destroy
    result = invoke("teardown", "--expired", "--yes")
    assert result.exit_code == 1
    assert call.remove_stack("dev-pr-4") in ops.mock_calls
    assert call.remove_stack("dev-pr-1") not in ops.mock_calls
    assert "1 stack(s) torn down, 1 failed" in result.output
    assert "FAILED at pulumi-destroy" in result.output
    assert "skipped after pulumi-destroy failed" in result.output


def test_named_stack_is_torn_down_even_before_its_expiry(ops: Any) -> None:
    result = invoke("teardown", "--stack", "dev-pr-2", "--yes")
    assert result.exit_code == 0, result.output
    assert call.destroy_stack("dev-pr-2") in ops.mock_calls


def test_a_missing_named_stack_is_nothing_to_do(ops: Any) -> None:
    result = invoke("teardown", "--stack", "dev-pr-99", "--yes")
    assert result.exit_code == 0
    assert "nothing to do" in result.output
    assert destructive_calls(ops) == []


@pytest.mark.parametrize("name", ["dev", "qa", "prod", "dev-pr-3"])
def test_a_protected_named_stack_is_refused(ops: Any, name: str) -> None:
    result = invoke("teardown", "--stack", name, "--yes")
    assert result.exit_code == 2
    assert "Refusing" in result.output
    assert destructive_calls(ops) == []


@pytest.mark.parametrize("args", [[], ["--expired", "--stack", "dev-pr-1"]])
def test_exactly_one_selector_is_required(ops: Any, args: list[str]) -> None:
    result = invoke("teardown", *args, "--yes")
    assert result.exit_code == 2
    assert ops.mock_calls == []


# --- create-short-lived -------------------------------------------------------------------


@pytest.fixture
def admin(mocker: MockerFixture, tmp_path: Path) -> Any:
    mock = mocker.Mock()
    mock.stack_exists.return_value = False
    mock.get_config_json.return_value = {"azure-native:location": {"value": "westeurope", "secret": False}}
    factory = mocker.patch.object(stacks_cli, "make_stack_admin", return_value=mock)
    mocker.patch.object(stacks_cli, "now", return_value=NOW)
    mocker.patch.object(stacks_cli, "find_project_dir", return_value=tmp_path)
    mock.factory = factory
    return mock


def test_create_short_lived_tags_and_configures_the_new_stack(admin: Any) -> None:
    result = invoke("create-short-lived", "--name", "dev-pr-42", "--ttl", "48h")
    assert result.exit_code == 0, result.output
    assert "expires at 2026-11-27T08:00:00Z" in result.output
    assert admin.mock_calls[1:] == [
        call.create_stack("dev-pr-42"),
        call.set_tag("dev-pr-42", TAG_SHORT_LIVED, "true"),
        call.set_tag("dev-pr-42", TAG_EXPIRES_AT, "2026-11-27T08:00:00Z"),
        call.get_config_json("dev"),
        call.set_config_json(
            "dev-pr-42",
            {
                "azure-native:location": {"value": "westeurope", "secret": False},
                "azure-mlops:expiresAt": {"value": "2026-11-27T08:00:00Z", "secret": False},
            },
        ),
    ]


@pytest.mark.parametrize(
    ("name", "ttl"),
    [("dev", "48h"), ("prod", "1d"), ("feature-x", "1d"), ("dev-pr-1", "48"), ("dev-pr-1", "90d")],
)
def test_create_short_lived_refuses_bad_requests(admin: Any, name: str, ttl: str) -> None:
    result = invoke("create-short-lived", "--name", name, "--ttl", ttl)
    assert result.exit_code == 2
    admin.create_stack.assert_not_called()
    admin.set_tag.assert_not_called()
