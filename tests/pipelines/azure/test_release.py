"""`mlops deploy --env prod` end to end over mocks: which registry and digest the import uses."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace
from typing import Any

import pytest

from pipelines.azure import image, prod_deploy, qa_deploy, release, workspaces
from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import ModelStore
from pipelines.azure.outputs_reader import StackOutputsError, parse
from pipelines.azure.refs import ModelRef, Sample
from tests.model_folders import MODEL_NAME
from tests.pipelines.azure_fakes import SAMPLE_RESULT, SAMPLE_ROWS

V4 = ModelRef(MODEL_NAME, "4")
TESTED = "sha256:" + "e" * 64
QA_REGISTRY_ID = (
    "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-mlops-qa"
    "/providers/Microsoft.ContainerRegistry/registries/crmlopsqa"
)


def done(stdout: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, stdout, "")


@pytest.fixture
def stacks(mocker: Any, qa_outputs: dict[str, Any], prod_outputs: dict[str, Any], ops: Any) -> dict[str, Any]:
    qa_outputs.update(
        registryId=QA_REGISTRY_ID, scoringImage=f"mlops-scoring@{TESTED}", scoringModelVersion="4"
    )
    raw = {"qa": qa_outputs, "prod": prod_outputs}
    mocker.patch.object(workspaces, "outputs", side_effect=lambda env: parse(env, raw[env]))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    mocker.patch.object(workspaces, "model_sample", return_value=Sample(SAMPLE_ROWS, SAMPLE_RESULT))
    return raw


def test_prod_imports_what_qa_tested_from_qas_registry_by_id(mocker, stacks):
    runner = mocker.patch.object(image, "run", side_effect=[done(code=1), done(), done(TESTED)])
    deploy = mocker.patch.object(
        prod_deploy,
        "execute_deploy",
        return_value=prod_deploy.DeployResult("ep", "model-v4", None, "https://x/score", changed=True),
    )
    release.deploy("prod", V4, progress=lambda _line: None)
    imported = runner.call_args_list[1].args[0]
    assert imported == [
        "az", "acr", "import", "--name", "crmlopsprod", "--registry", QA_REGISTRY_ID,
        "--source", f"mlops-scoring@{TESTED}", "--image", f"mlops-scoring:{MODEL_NAME}-v4",
    ]  # fmt: skip
    assert deploy.call_args.kwargs["image"] == f"crmlopsprod.azurecr.io/mlops-scoring@{TESTED}"
    assert deploy.call_args.kwargs["host"] is None  # no TLS name: the endpoint's own URI
    # config/monitor.yaml azure.collection_rate: the service's and the data collector's sampling rate
    assert deploy.call_args.kwargs["collect_rate"] == 0.1


def test_prod_with_tls_smoke_tests_its_https_name(mocker, stacks, ops):
    stacks["prod"]["scoringFqdn"] = "score.contoso.com"
    mocker.patch.object(image, "run", side_effect=[done(TESTED)])
    deploy = mocker.patch.object(
        prod_deploy,
        "execute_deploy",
        return_value=prod_deploy.DeployResult("ep", "model-v4", None, "https://x/score", changed=True),
    )
    release.deploy("prod", V4, progress=lambda _line: None)
    assert deploy.call_args.kwargs["host"] == "score.contoso.com"
    ops.get_endpoint.return_value = SimpleNamespace(scoring_uri="http://10.0.0.4/api/v1/endpoint/ep/score")
    mocker.patch.object(prod_deploy, "live_model", return_value=("model-v4", V4))
    ops.endpoint_key.return_value = "k"
    smoke = mocker.patch.object(release, "smoke_endpoint", return_value=SimpleNamespace(rows=1))
    release.smoke("prod")
    assert smoke.call_args.args[0] == "https://score.contoso.com/api/v1/endpoint/ep/score"


def test_the_qa_smoke_test_calls_the_https_name_with_verification(mocker, stacks):
    mocker.patch.object(qa_deploy, "scoring_key", return_value="a-key-of-16-chars-or-more")
    ready = mocker.patch.object(qa_deploy, "serving_version", return_value=V4)
    smoke = mocker.patch.object(release, "smoke_endpoint", return_value=SimpleNamespace(rows=1, attempts=1))
    release.smoke("qa")
    assert ready.call_args.args[0] == "https://scoring-qa.ml.example.com/score"
    assert smoke.call_args.args[0] == "https://scoring-qa.ml.example.com/score"
    assert "verify" not in smoke.call_args.kwargs  # smoke_endpoint's default: verify=True


def test_a_qa_stack_still_on_http_is_refused_before_the_key_is_sent(mocker, stacks):
    stacks["qa"]["scoringUri"] = "http://mlops-qa.westeurope.azurecontainer.io:5001/score"
    key = mocker.patch.object(qa_deploy, "scoring_key")
    ready = mocker.patch.object(qa_deploy, "serving_version")
    with pytest.raises(AzurePathError, match=r"stack qa serves http://.*, not HTTPS: .*TLS for qa scoring"):
        release.smoke("qa")
    key.assert_not_called()
    ready.assert_not_called()


def test_qa_without_a_registry_id_is_one_clear_line(mocker, stacks):
    del stacks["qa"]["registryId"]
    runner = mocker.patch.object(image, "run")
    with pytest.raises(StackOutputsError, match=r"stack qa has no output 'registryId' \(the ARM id of qa's"):
        release.deploy("prod", V4, progress=lambda _line: None)
    runner.assert_not_called()


@pytest.fixture
def registry_stacks(mocker: Any, dev_outputs: dict[str, Any], qa_outputs: dict[str, Any], ops: Any) -> Any:
    raw = {
        "dev": {**dev_outputs, "modelRegistryName": "mlops-reg"},
        "qa": {**qa_outputs, "modelRegistryName": "mlops-reg"},
    }
    mocker.patch.object(workspaces, "outputs", side_effect=lambda env: parse(env, raw[env]))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    store = mocker.create_autospec(ModelStore, instance=True)
    store.where = "registry mlops-reg"
    store.get_model.return_value = None
    mocker.patch.object(workspaces, "registry", return_value=store)
    return store


def test_promote_shares_into_the_registry_both_stacks_name(registry_stacks, ops):
    ops.get_model.return_value = SimpleNamespace(type="mlflow_model", tags={"run_id": "r"}, job_name="j")
    line = release.promote("dev", "qa", V4, progress=lambda _line: None)
    assert line == f"shared {MODEL_NAME}:4 from dev into registry mlops-reg; qa reads it there"
    ops.share_model.assert_called_once_with(MODEL_NAME, "4", "mlops-reg")
    ops.create_model.assert_not_called()
    ops.download_model.assert_not_called()


def test_the_image_is_built_from_the_registry_or_else_from_dev(mocker, registry_stacks, ops):
    build = mocker.patch.object(image, "build_and_push")
    release.build_image("qa", V4, progress=lambda _line: None)
    stores = build.call_args.kwargs["stores"]
    assert [(env, store.where) for env, store in stores] == [
        ("qa", "registry mlops-reg"),
        ("dev", "workspace mlw-test"),
    ]
