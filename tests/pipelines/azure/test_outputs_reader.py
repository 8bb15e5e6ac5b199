"""Stack outputs: from a JSON file or `pulumi stack output`, into StackOutputs; clear errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines.azure import outputs_reader
from pipelines.azure.outputs_reader import StackOutputsError, read_outputs, require


def done(stdout: str = "", stderr: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["pulumi"], code, stdout, stderr)


def test_reads_the_pulumi_cli_json_with_secrets_kept_secret(
    mocker: Any, dev_outputs: dict[str, Any], monkeypatch
):
    monkeypatch.delenv(outputs_reader.OUTPUTS_DIR_ENV, raising=False)
    runner = mocker.Mock(return_value=done(json.dumps(dev_outputs | {"someNewOutput": 1})))
    outputs = read_outputs("dev", runner=runner)
    runner.assert_called_once_with(
        ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev"]
    )
    assert outputs.compute_cluster_name == "cpu-cluster"
    assert outputs.workspace_name == "mlw-mlops-dev-abc123"
    assert "secret-ikey" not in repr(outputs)
    assert outputs.app_insights_connection_string.get_secret_value().startswith("InstrumentationKey=")


def test_stack_name_override_for_short_lived_stacks(mocker: Any, dev_outputs, monkeypatch):
    monkeypatch.delenv(outputs_reader.OUTPUTS_DIR_ENV, raising=False)
    monkeypatch.setenv("MLOPS_STACK_DEV", "dev-pr-42")
    runner = mocker.Mock(return_value=done(json.dumps(dev_outputs)))
    read_outputs("dev", runner=runner)
    assert runner.call_args.args[0][-1] == "dev-pr-42"


def test_missing_stack_is_one_line(mocker: Any, monkeypatch):
    monkeypatch.delenv(outputs_reader.OUTPUTS_DIR_ENV, raising=False)
    runner = mocker.Mock(return_value=done(stderr="error: no stack named 'qa' found\n", code=255))
    with pytest.raises(StackOutputsError, match=r"^stack qa does not exist"):
        read_outputs("qa", runner=runner)


def test_missing_output_is_named_by_its_export_name(mocker: Any, dev_outputs, monkeypatch):
    monkeypatch.delenv(outputs_reader.OUTPUTS_DIR_ENV, raising=False)
    del dev_outputs["workspaceName"]
    runner = mocker.Mock(return_value=done(json.dumps(dev_outputs)))
    with pytest.raises(StackOutputsError, match=r"^stack dev has no output 'workspaceName'$"):
        read_outputs("dev", runner=runner)


def test_empty_outputs_say_run_pulumi_up(mocker: Any, monkeypatch):
    monkeypatch.delenv(outputs_reader.OUTPUTS_DIR_ENV, raising=False)
    with pytest.raises(StackOutputsError, match="has no outputs: run `pulumi up --stack prod`"):
        read_outputs("prod", runner=mocker.Mock(return_value=done("{}")))


def test_json_file_from_a_ci_artifact(tmp_path: Path, qa_outputs, monkeypatch):
    (tmp_path / "qa.json").write_text(json.dumps(qa_outputs))
    monkeypatch.setenv(outputs_reader.OUTPUTS_DIR_ENV, str(tmp_path))
    outputs = read_outputs("qa")
    assert outputs.scoring_uri == qa_outputs["scoringUri"]
    with pytest.raises(StackOutputsError, match=r"stack prod has no outputs file .*prod\.json"):
        read_outputs("prod")


def test_require_names_the_missing_optional_output(dev_outputs):
    outputs = outputs_reader.parse("dev", dev_outputs)
    assert require(outputs, "compute_cluster_name") == "cpu-cluster"
    with pytest.raises(StackOutputsError, match=r"^stack dev has no output 'scoringUri'$"):
        require(outputs, "scoring_uri")


def test_no_pulumi_cli_and_no_file_is_a_clear_error(monkeypatch):
    monkeypatch.delenv(outputs_reader.OUTPUTS_DIR_ENV, raising=False)
    monkeypatch.setattr(outputs_reader.shutil, "which", lambda _name: None)
    with pytest.raises(StackOutputsError, match="Pulumi CLI is not on PATH"):
        read_outputs("dev")


def test_client_uses_default_azure_credential_without_a_browser(mocker: Any, dev_outputs):
    from pipelines.azure import client

    credential = mocker.patch("azure.identity.DefaultAzureCredential")
    ml_client = mocker.patch("azure.ai.ml.MLClient")
    client.ml_client(outputs_reader.parse("dev", dev_outputs))
    credential.assert_called_once_with(exclude_interactive_browser_credential=True)
    ml_client.assert_called_once_with(
        credential.return_value,
        subscription_id=dev_outputs["subscriptionId"],
        resource_group_name="rg-mlops-dev",
        workspace_name="mlw-mlops-dev-abc123",
    )
