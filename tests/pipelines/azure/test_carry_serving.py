"""`mlops infra carry-serving`: the deployed image survives an infrastructure-only `pulumi up`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pulumi.automation import ConfigValue
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import CommandError
from typer.testing import CliRunner

from infra.config import Settings
from pipelines.azure import carry_serving as infra_serving
from pipelines.azure import qa_deploy
from pipelines.azure.carry_serving import carry
from pipelines.azure.outputs_reader import StackOutputsError, read_raw
from pipelines.azure.qa_deploy import IMAGE_KEY, VERSION_KEY
from pipelines.cli.main import app
from tests.pipelines.azure_fakes import outputs_dict

IMAGE = "mlops-scoring@sha256:" + "c" * 64
DEPLOYED = {"scoringImage": IMAGE, "scoringModelVersion": "4"}

runner = CliRunner()


def qa_raw(**extra: Any) -> dict[str, Any]:
    return outputs_dict("qa", containerGroupName="aci-mlops-qa", scoringUri="http://h:5001/score", **extra)


def config_stack(mocker: Any, **config: str) -> Any:
    """A Stack double whose `get_config` answers like the Automation API (CommandError when unset)."""
    stack = mocker.Mock(spec=["get_config", "set_config"])

    def get_config(key: str) -> ConfigValue:
        if key not in config:
            raise CommandError(
                CommandResult(stdout="", stderr=f"error: configuration key '{key}' not found", code=255)
            )
        return ConfigValue(value=config[key], secret=False)

    stack.get_config.side_effect = get_config
    return stack


def cli_runner(stdout: str = "", stderr: str = "", code: int = 0) -> Any:
    def run(argv: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(argv), code, stdout, stderr)

    return run


def test_the_placeholders_are_the_programs_defaults() -> None:
    fields = Settings.model_fields
    assert fields["scoring_image"].default == infra_serving.PLACEHOLDER_IMAGE
    assert fields["model_version"].default == infra_serving.PLACEHOLDER_VERSION
    assert (IMAGE_KEY, VERSION_KEY) == ("azure-mlops:scoringImage", "azure-mlops:modelVersion")


@pytest.mark.parametrize(
    "config",
    [
        {},  # keys absent
        {IMAGE_KEY: "mlops-scoring:placeholder", VERSION_KEY: "placeholder"},  # the committed file
    ],
    ids=["unset", "placeholder"],
)
def test_deployed_values_are_set_on_the_stack(mocker: Any, config: dict[str, str]) -> None:
    stack = config_stack(mocker, **config)
    open_stack = mocker.Mock(return_value=stack)
    read = mocker.Mock(return_value=qa_raw(**DEPLOYED))
    result = carry("qa", read_outputs=read, open_stack=open_stack)
    read.assert_called_once_with("qa")
    open_stack.assert_called_once_with("qa")
    assert [c[0] for c in stack.method_calls] == ["get_config", "get_config", "set_config", "set_config"]
    assert [c.args for c in stack.get_config.call_args_list] == [(IMAGE_KEY,), (VERSION_KEY,)]
    assert [(c.args[0], c.args[1].value, c.args[1].secret) for c in stack.set_config.call_args_list] == [
        (IMAGE_KEY, IMAGE, False),
        (VERSION_KEY, "4", False),
    ]
    assert (result.action, result.image, result.version) == ("set", IMAGE, "4")
    assert f"{IMAGE_KEY}={IMAGE}" in result.message


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (cli_runner(stdout="{}"), "has no outputs"),
        (cli_runner(stderr="error: no stack named 'qa' found", code=255), "does not exist"),
    ],
    ids=["stack-without-outputs", "no-stack"],
)
def test_first_deploy_makes_no_calls(mocker: Any, answer: Any, expected: str) -> None:
    # through the real reader, so its wording for "nothing deployed" stays what carry expects
    open_stack = mocker.Mock()
    result = carry("qa", read_outputs=lambda s: read_raw(s, runner=answer), open_stack=open_stack)
    assert result.action == "nothing"
    assert expected in result.message and "nothing to carry" in result.message
    open_stack.assert_not_called()


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        (outputs_dict("qa"), False),  # a stack whose first up stopped before the container group
        (qa_raw(), True),  # a container group deployed before the outputs existed
        (qa_raw(scoringImage=IMAGE), True),  # half of the pair is no pair
    ],
    ids=["no-group", "older-stack", "image-only"],
)
def test_no_serving_outputs_make_no_calls(mocker: Any, raw: dict[str, Any], hint: bool) -> None:
    open_stack = mocker.Mock()
    result = carry("qa", read_outputs=lambda _s: raw, open_stack=open_stack)
    assert result.action == "nothing"
    assert "has no outputs 'scoringImage'/'scoringModelVersion' yet; nothing to carry" in result.message
    assert ("mlops deploy --env qa" in result.message) is hint
    open_stack.assert_not_called()


def test_a_placeholder_deployment_is_not_carried(mocker: Any) -> None:
    open_stack = mocker.Mock()
    raw = qa_raw(scoringImage="mlops-scoring:placeholder", scoringModelVersion="placeholder")
    result = carry("qa", read_outputs=lambda _s: raw, open_stack=open_stack)
    assert result.action == "nothing" and "placeholder" in result.message
    open_stack.assert_not_called()


@pytest.mark.parametrize(
    "config",
    [
        {IMAGE_KEY: "mlops-scoring:pinned", VERSION_KEY: "3"},
        {IMAGE_KEY: "mlops-scoring:pinned"},  # a pair: one given key keeps both
        {IMAGE_KEY: "mlops-scoring:placeholder", VERSION_KEY: "3"},
    ],
    ids=["both", "image-only", "version-only"],
)
def test_explicit_values_are_never_overridden(mocker: Any, config: dict[str, str]) -> None:
    stack = config_stack(mocker, **config)
    result = carry("qa", read_outputs=lambda _s: qa_raw(**DEPLOYED), open_stack=lambda _s: stack)
    assert stack.mock_calls == [mocker.call.get_config(IMAGE_KEY), mocker.call.get_config(VERSION_KEY)]
    stack.set_config.assert_not_called()
    assert result.action == "kept"
    assert "given explicitly" in result.message and f"runs {IMAGE} (4)" in result.message


def test_explicit_values_equal_to_the_deployed_ones_are_left_alone(mocker: Any) -> None:
    stack = config_stack(mocker, **{IMAGE_KEY: IMAGE, VERSION_KEY: "4"})
    result = carry("qa", read_outputs=lambda _s: qa_raw(**DEPLOYED), open_stack=lambda _s: stack)
    stack.set_config.assert_not_called()
    assert result.action == "unchanged"


def test_unreadable_outputs_fail_instead_of_carrying_nothing(mocker: Any) -> None:
    # carrying nothing while something is deployed would put qa back on the placeholder
    open_stack = mocker.Mock()
    answer = cli_runner(
        stderr="error: failed to load checkpoint: 403 AuthorizationPermissionMismatch", code=255
    )
    with pytest.raises(StackOutputsError, match="cannot read the outputs of stack qa"):
        carry("qa", read_outputs=lambda s: read_raw(s, runner=answer), open_stack=open_stack)
    open_stack.assert_not_called()


# -- the command ---------------------------------------------------------------------------------


def outputs_dir(tmp_path: Path, stack: str, raw: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / f"{stack}.json").write_text(json.dumps(raw))
    monkeypatch.setenv("MLOPS_STACK_OUTPUTS_DIR", str(tmp_path))


def test_command_carries_into_the_environments_stack(
    mocker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_STACK_QA", "qa-blue")
    outputs_dir(tmp_path, "qa-blue", qa_raw(**DEPLOYED), monkeypatch)
    stack = config_stack(mocker)
    select = mocker.patch.object(qa_deploy, "select_stack", return_value=stack)
    result = runner.invoke(app, ["infra", "carry-serving", "--env", "qa"])
    assert result.exit_code == 0, result.output
    select.assert_called_once_with("qa-blue")
    assert [c.args[0] for c in stack.set_config.call_args_list] == [IMAGE_KEY, VERSION_KEY]
    assert f"carried {IMAGE_KEY}={IMAGE}, {VERSION_KEY}=4" in result.output
    assert "secret-ikey" not in result.output  # the other outputs are never printed


def test_command_says_so_on_a_first_deploy(
    mocker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs_dir(tmp_path, "qa", {}, monkeypatch)
    select = mocker.patch.object(qa_deploy, "select_stack")
    result = runner.invoke(app, ["infra", "carry-serving", "--env", "qa"])
    assert result.exit_code == 0, result.output
    assert "nothing to carry" in result.output
    select.assert_not_called()


def test_command_failures_are_one_line_and_exit_1(
    mocker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs_dir(tmp_path, "qa", qa_raw(**DEPLOYED), monkeypatch)
    stack = config_stack(mocker)
    stack.set_config.side_effect = CommandError(
        CommandResult(stdout="", stderr="warning: x\nerror: the stack is locked", code=255)
    )
    mocker.patch.object(qa_deploy, "select_stack", return_value=stack)
    result = runner.invoke(app, ["infra", "carry-serving"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("error: ")

    monkeypatch.setenv("MLOPS_STACK_OUTPUTS_DIR", str(tmp_path / "missing"))
    result = runner.invoke(app, ["infra", "carry-serving"])
    assert result.exit_code == 1
    assert "has no outputs file" in result.output
