"""Promotion (model copy with lineage), the image runner's commands, the qa deploy through Pulumi."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yaml

from pipelines.azure import image, promotion, qa_deploy
from pipelines.azure.errors import AzurePathError
from pipelines.azure.refs import ModelRef
from tests.model_folders import MODEL_NAME
from tests.pipelines.azure_fakes import calls, write_model_folder

V4 = ModelRef(MODEL_NAME, "4")
DIGEST = "sha256:" + "b" * 64


# -- promotion ------------------------------------------------------------------------------------


DEV_MODEL = SimpleNamespace(
    type="mlflow_model",
    tags={"git_commit": "abc", "data_hash": "sha256:1", "run_id": "run-7"},
    job_name="job-7",
)


@pytest.fixture
def pair(mocker: Any, ops: Any) -> tuple[Any, Any]:
    target = ops
    source = mocker.create_autospec(promotion.AzureMLOps, instance=True)
    source.workspace = "mlw-dev"
    source.where = "workspace mlw-dev"
    source.get_model.return_value = DEV_MODEL
    source.download_model.side_effect = ops.download_model.side_effect
    target.workspace = "mlw-qa"
    return source, target


def test_promote_copies_the_model_folder_as_an_mlflow_model_with_lineage_tags(pair):
    from azure.ai.ml import load_model
    from azure.ai.ml._utils.utils import validate_ml_flow_folder

    source, target = pair
    target.get_model.return_value = None
    folder_had: list[str] = []

    def create(model: Any) -> Any:  # while the downloaded folder exists
        folder_had.extend(sorted(p.name for p in Path(model.path).iterdir()))
        validate_ml_flow_folder(model.path, model.type)  # what ModelOperations.create_or_update checks
        return model

    target.create_model.side_effect = create
    assert promotion.promote(source, target, V4, from_env="dev", to_env="qa", progress=lambda _l: None)
    assert calls(target) == ["get_model", "create_model"]
    assert calls(source) == ["get_model", "download_model"]
    model = target.create_model.call_args.args[0]
    assert (model.name, model.version, model.type) == (MODEL_NAME, "4", "mlflow_model")
    assert folder_had == ["MLmodel", "estimator.joblib", "metadata.json"]
    assert model._to_rest_object().as_dict()["properties"]["modelType"] == "mlflow_model"
    assert model.tags["git_commit"] == "abc" and model.tags["data_hash"] == "sha256:1"
    assert model.tags["promoted_from"] == "dev"
    assert model.tags["source_workspace"] == "mlw-dev"
    assert model.tags["source_version"] == "4"
    assert model.path.endswith(f"{MODEL_NAME}/model")
    plain = json.loads(json.dumps(model._to_dict()))
    plain["path"] = str(model.path)
    reloaded = load_model(source=io.StringIO(yaml.safe_dump(plain)))
    assert (reloaded.type, reloaded.tags) == ("mlflow_model", model.tags)


def test_a_folder_without_mlmodel_is_not_registered_as_an_mlflow_model(pair):
    source, target = pair
    target.get_model.return_value = None

    def without_mlmodel(name: str, version: str, path: Path) -> None:
        (write_model_folder(Path(path), name) / "MLmodel").unlink()

    source.download_model.side_effect = without_mlmodel
    with pytest.raises(AzurePathError, match="has no MLmodel: not an MLflow model folder"):
        promotion.promote(source, target, V4, from_env="dev", to_env="qa", progress=lambda _l: None)
    target.create_model.assert_not_called()


def test_promoting_the_same_version_again_is_a_no_op(pair):
    source, target = pair
    target.get_model.return_value = SimpleNamespace(
        tags={"source_workspace": "mlw-dev", "source_version": "4", "promoted_from": "dev"}
    )
    assert (
        promotion.promote(source, target, V4, from_env="dev", to_env="qa", progress=lambda _l: None) is False
    )
    target.create_model.assert_not_called()
    source.download_model.assert_not_called()


def test_a_target_version_of_another_origin_is_never_overwritten(pair):
    source, target = pair
    target.get_model.return_value = SimpleNamespace(tags={"source_workspace": "elsewhere"})
    with pytest.raises(AzurePathError, match="refusing to overwrite"):
        promotion.promote(source, target, V4, from_env="dev", to_env="qa")
    target.create_model.assert_not_called()


def test_missing_source_model_is_named(pair):
    source, target = pair
    target.get_model.return_value = None
    source.get_model.return_value = None
    with pytest.raises(AzurePathError, match=rf"dev \(workspace mlw-dev\) has no model {MODEL_NAME}:4"):
        promotion.promote(source, target, V4, from_env="dev", to_env="qa")


# -- promotion through an Azure ML registry ---------------------------------------------------------


@pytest.fixture
def registry(mocker: Any) -> Any:
    store = mocker.create_autospec(promotion.ModelStore, instance=True)
    store.where = "registry mlops-reg"
    store.get_model.return_value = None
    return store


def test_share_puts_the_dev_version_into_the_registry(pair, registry):
    source, _ = pair
    assert promotion.share(source, registry, "mlops-reg", V4, from_env="dev", progress=lambda _l: None)
    source.share_model.assert_called_once_with(MODEL_NAME, "4", "mlops-reg")
    source.download_model.assert_not_called()


@pytest.mark.parametrize(
    "in_registry",
    [
        SimpleNamespace(type="mlflow_model", tags={"run_id": "run-7"}, job_name=None),
        SimpleNamespace(type="mlflow_model", tags={}, job_name="job-7"),
    ],
    ids=["same-run-tag", "same-job"],
)
def test_sharing_the_same_lineage_again_is_a_no_op(pair, registry, in_registry):
    source, _ = pair
    registry.get_model.return_value = in_registry
    assert (
        promotion.share(source, registry, "mlops-reg", V4, from_env="dev", progress=lambda _l: None) is False
    )
    source.share_model.assert_not_called()


def test_a_registry_version_of_another_lineage_is_refused(pair, registry):
    source, _ = pair
    registry.get_model.return_value = SimpleNamespace(tags={"run_id": "run-1"}, job_name="job-1")
    with pytest.raises(AzurePathError, match=rf"registry mlops-reg already has {MODEL_NAME}:4 with another"):
        promotion.share(source, registry, "mlops-reg", V4, from_env="dev")
    source.share_model.assert_not_called()


def test_qa_to_prod_finds_the_version_in_the_registry(pair, registry):
    source, _ = pair
    source.get_model.return_value = None  # qa reads its models from the registry: no copy in qa
    registry.get_model.return_value = DEV_MODEL
    assert (
        promotion.share(source, registry, "mlops-reg", V4, from_env="qa", progress=lambda _l: None) is False
    )
    source.get_model.return_value = None
    registry.get_model.return_value = None
    with pytest.raises(
        AzurePathError, match=r"neither in qa \(workspace mlw-dev\) nor in registry mlops-reg"
    ):
        promotion.share(source, registry, "mlops-reg", V4, from_env="qa")


def test_only_mlflow_models_are_shared(pair, registry):
    source, _ = pair
    source.get_model.return_value = SimpleNamespace(type="custom_model", tags={}, job_name=None)
    with pytest.raises(AzurePathError, match=r"is a custom_model, not an mlflow_model"):
        promotion.share(source, registry, "mlops-reg", V4, from_env="dev")
    source.share_model.assert_not_called()


@pytest.mark.parametrize(
    ("dev", "qa", "expected"),
    [
        (None, None, None),
        ("mlops-reg", "mlops-reg", "mlops-reg"),
        ("mlops-reg", None, "error"),
        ("a", "b", "error"),
    ],
)
def test_a_registry_is_used_only_when_both_stacks_name_the_same_one(
    dev_outputs, qa_outputs, dev, qa, expected
):
    from pipelines.azure.errors import UsageError
    from pipelines.azure.outputs_reader import parse

    source = parse("dev", {**dev_outputs, **({"modelRegistryName": dev} if dev else {})})
    target = parse("qa", {**qa_outputs, **({"modelRegistryName": qa} if qa else {})})
    if expected == "error":
        with pytest.raises(UsageError, match="stack dev has output modelRegistryName="):
            promotion.shared_registry(source, target)
    else:
        assert promotion.shared_registry(source, target) == expected


def test_share_model_sends_what_learn_documents(mocker):
    """MLClientOps.share_model through the real ModelOperations.share: the import request it builds."""
    from azure.ai.ml import MLClient
    from azure.core.exceptions import ResourceNotFoundError

    from pipelines.azure.ops import MLClientOps

    client = MLClient(
        mocker.MagicMock(), subscription_id="00000000-0000-0000-0000-000000000001",
        resource_group_name="rg-mlops-dev", workspace_name="mlw-mlops-dev",
    )  # fmt: skip
    operations = "azure.ai.ml.operations._model_operations"
    mocker.patch.object(client.models, "_get_model_properties", return_value=None)  # evaluator check
    workspaces_api = mocker.patch.object(client.models._service_client, "workspaces")
    workspaces_api.get.return_value = SimpleNamespace(workspace_id="0000-guid", location="westeurope")
    registry_client = mocker.MagicMock()
    mocker.patch(
        f"{operations}.get_registry_client", return_value=(registry_client, "rg-reg", "sub", None, None)
    )
    mocker.patch(f"{operations}.get_registry_versioned_asset", side_effect=ResourceNotFoundError("none"))

    class Sent(Exception):
        pass

    imported = mocker.patch(f"{operations}.begin_import_registry_asset", side_effect=Sent)
    with pytest.raises(Sent):
        MLClientOps(client).share_model(MODEL_NAME, "4", "mlops-reg")
    _, group, registry_name, body = imported.call_args.args
    assert (group, registry_name) == ("rg-reg", "mlops-reg")
    assert body == {
        "properties": {
            "referenceType": "Id",
            "destinationName": MODEL_NAME,
            "destinationVersion": "4",
            "sourceAssetId": f"azureml://locations/westeurope/workspaces/0000-guid/models/{MODEL_NAME}/versions/4",
        }
    }


def test_registry_ops_name_models_by_their_registry_uri(mocker):
    from pipelines.azure.ops import RegistryOps

    client = mocker.Mock()
    store = RegistryOps(client, "mlops-reg")
    assert store.model_id(MODEL_NAME, "4") == (
        f"azureml://registries/mlops-reg/models/{MODEL_NAME}/versions/4"
    )
    store.download_model(MODEL_NAME, "4", Path("/tmp/x"))
    client.models.download.assert_called_once_with(name=MODEL_NAME, version="4", download_path="/tmp/x")


# -- image ----------------------------------------------------------------------------------------


def completed(stdout: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, stdout, "boom" if code else "")


def test_image_build_push_and_digest_in_order(mocker, ops):
    runner = mocker.Mock(
        side_effect=[completed(code=3), completed(), completed(), completed(), completed(DIGEST)]
    )
    ops.get_model.return_value = SimpleNamespace()
    ref = image.build_and_push(
        runner,
        registry="crmlopsqa",
        login_server="crmlopsqa.azurecr.io",
        model=V4,
        stores=[("qa", ops)],
        progress=lambda _l: None,
    )
    argv = [c.args[0] for c in runner.call_args_list]
    assert argv[0][:4] == ["az", "acr", "repository", "show"]
    assert argv[1] == ["az", "acr", "login", "--name", "crmlopsqa"]
    assert argv[2][:3] == ["docker", "build", "--file"] and argv[2][-1] == "."
    assert f"crmlopsqa.azurecr.io/mlops-scoring:{MODEL_NAME}-v4" in argv[2]
    (model_dir,) = (a.removeprefix("MODEL_DIR=") for a in argv[2] if a.startswith("MODEL_DIR="))
    assert model_dir.startswith(".state/image-build/") and model_dir.endswith("/model")
    assert argv[3] == ["docker", "push", f"crmlopsqa.azurecr.io/mlops-scoring:{MODEL_NAME}-v4"]
    assert str(ref) == f"crmlopsqa.azurecr.io/mlops-scoring:{MODEL_NAME}-v4@{DIGEST}"
    assert ref.in_registry == f"mlops-scoring@{DIGEST}"
    # This build's folder is cleaned up (only this one's: other builds may run in parallel).
    work = image.BUILD_DIR / (image.PROJECT_DIR / model_dir).relative_to(image.BUILD_DIR).parts[0]
    assert not work.exists()


def test_an_existing_image_tag_is_never_rebuilt(mocker, ops):
    runner = mocker.Mock(return_value=completed(DIGEST))
    ref = image.build_and_push(
        runner, registry="r", login_server="r.azurecr.io", model=V4, stores=[("qa", ops)], progress=print
    )
    assert runner.call_count == 1 and ref.digest == DIGEST
    ops.download_model.assert_not_called()


def test_image_source_falls_back_to_the_upstream_workspace(mocker, ops):
    qa = mocker.create_autospec(promotion.AzureMLOps, instance=True)
    qa.get_model.return_value = None
    ops.get_model.return_value = SimpleNamespace()
    runner = mocker.Mock(
        side_effect=[completed(code=1), completed(), completed(), completed(), completed(DIGEST)]
    )
    image.build_and_push(
        runner,
        registry="r",
        login_server="r.io",
        model=V4,
        stores=[("qa", qa), ("dev", ops)],
        progress=print,
    )
    qa.download_model.assert_not_called()
    ops.download_model.assert_called_once()


def test_failed_docker_build_is_one_line(mocker, ops):
    runner = mocker.Mock(side_effect=[completed(code=1), completed(), completed(code=1)])
    ops.get_model.return_value = SimpleNamespace()
    with pytest.raises(AzurePathError, match=r"^docker build failed \(exit 1\): boom$"):
        image.build_and_push(
            runner, registry="r", login_server="r.io", model=V4, stores=[("qa", ops)], progress=print
        )


QA_REGISTRY_ID = (
    "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-mlops-qa"
    "/providers/Microsoft.ContainerRegistry/registries/crmlopsqa"
)


def test_prod_imports_the_tested_digest_from_qa_by_registry_resource_id(mocker):
    runner = mocker.Mock(side_effect=[completed(code=1), completed(), completed(DIGEST)])
    ref = image.import_image(
        runner, registry="crprod", login_server="crprod.azurecr.io", source_registry_id=QA_REGISTRY_ID,
        source_digest=DIGEST, model=V4, progress=print,
    )  # fmt: skip
    # Learn container-registry-import-images: the source registry by resource id (--registry),
    # --source without a login server; by digest, the exact image qa tested
    assert runner.call_args_list[1].args[0] == [
        "az", "acr", "import", "--name", "crprod",
        "--registry", QA_REGISTRY_ID,
        "--source", f"mlops-scoring@{DIGEST}",
        "--image", f"mlops-scoring:{MODEL_NAME}-v4",
    ]  # fmt: skip
    assert runner.call_args_list[2].args[0][:4] == ["az", "acr", "repository", "show"]
    assert ref.by_digest == f"crprod.azurecr.io/mlops-scoring@{DIGEST}"


@pytest.mark.parametrize("already_there", [False, True], ids=["imported-now", "imported-before"])
def test_a_digest_in_prod_other_than_the_tested_one_is_refused(mocker, already_there):
    other = "sha256:" + "c" * 64
    answers = [completed(other)] if already_there else [completed(code=1), completed(), completed(other)]
    runner = mocker.Mock(side_effect=answers)
    message = rf"crprod has mlops-scoring:{MODEL_NAME}-v4 at {other}, but qa tested {DIGEST}: refusing"
    with pytest.raises(AzurePathError, match=message):
        image.import_image(
            runner, registry="crprod", login_server="crprod.azurecr.io", source_registry_id=QA_REGISTRY_ID,
            source_digest=DIGEST, model=V4, progress=print,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("registry_id", "digest", "message"),
    [
        ("crmlopsqa.azurecr.io", DIGEST, "must be an ARM resource id"),
        (QA_REGISTRY_ID, "latest", "must be sha256:<64 hex>"),
    ],
    ids=["login-server", "tag"],
)
def test_import_needs_a_resource_id_and_a_digest(mocker, registry_id, digest, message):
    runner = mocker.Mock()
    with pytest.raises(AzurePathError, match=message):
        image.import_image(
            runner, registry="crprod", login_server="p.io", source_registry_id=registry_id,
            source_digest=digest, model=V4, progress=print,
        )  # fmt: skip
    runner.assert_not_called()


def test_the_tested_digest_is_what_qa_serves_for_this_version(mocker):
    runner = mocker.Mock()
    digest, source = image.tested_digest(
        runner, registry="crmlopsqa", model=V4, served_image=f"mlops-scoring@{DIGEST}", served_version="4"
    )
    assert (digest, source) == (DIGEST, f"qa's scoringImage (mlops-scoring@{DIGEST})")
    runner.assert_not_called()


def test_otherwise_the_tested_digest_is_qas_tag(mocker):
    runner = mocker.Mock(return_value=completed(DIGEST))
    digest, _ = image.tested_digest(
        runner, registry="crmlopsqa", model=V4, served_image="mlops-scoring@sha256:" + "d" * 64,
        served_version="5",
    )  # fmt: skip
    assert digest == DIGEST
    assert runner.call_args.args[0] == [
        "az", "acr", "repository", "show", "--name", "crmlopsqa",
        "--image", f"mlops-scoring:{MODEL_NAME}-v4", "--query", "digest", "--output", "tsv",
    ]  # fmt: skip
    runner.return_value = completed(code=1)
    with pytest.raises(AzurePathError, match=f"qa's registry crmlopsqa has no mlops-scoring:{MODEL_NAME}-v4"):
        image.tested_digest(runner, registry="crmlopsqa", model=V4, served_image=None, served_version=None)


# -- qa deploy (Automation API) -------------------------------------------------------------------


def test_qa_deploy_sets_the_stack_settings_runs_up_and_reads_the_uri(mocker, qa_outputs):
    from pulumi.automation import ConfigValue

    stack = mocker.Mock()
    stack.name = "qa"
    deployed = {**qa_outputs, "scoringImage": f"mlops-scoring@{DIGEST}", "scoringModelVersion": "4"}
    stack.up.return_value = SimpleNamespace(
        outputs={k: SimpleNamespace(value=v, secret=False) for k, v in deployed.items()}
    )
    stack.get_config.return_value = ConfigValue(value="a-key-of-16-chars-or-more", secret=True)
    on_output = mocker.Mock()
    result = qa_deploy.deploy(stack, image_setting=f"mlops-scoring@{DIGEST}", model=V4, on_output=on_output)
    assert [c[0] for c in stack.method_calls] == ["set_config", "set_config", "up", "get_config"]
    settings = [(c.args[0], c.args[1].value, c.args[1].secret) for c in stack.set_config.call_args_list]
    assert settings == [
        ("azure-mlops:scoringImage", f"mlops-scoring@{DIGEST}", False),
        ("azure-mlops:modelVersion", "4", False),
    ]
    assert stack.up.call_args.kwargs["on_output"] is on_output
    assert stack.up.call_args.kwargs["policy_packs"] == [str(qa_deploy.POLICY_PACK)]
    stack.get_config.assert_called_once_with("azure-mlops:scoringApiKey")
    assert result.scoring_uri == qa_outputs["scoringUri"]
    assert "a-key-of-16" not in repr(result)


def test_qa_deploy_refuses_a_plain_http_scoring_uri(mocker, qa_outputs):
    stack = mocker.Mock()
    stack.name = "qa"
    deployed = {
        **qa_outputs,
        "scoringUri": "http://mlops-qa.westeurope.azurecontainer.io:5001/score",
        "scoringImage": f"mlops-scoring@{DIGEST}",
        "scoringModelVersion": "4",
    }
    stack.up.return_value = SimpleNamespace(
        outputs={k: SimpleNamespace(value=v) for k, v in deployed.items()}
    )
    with pytest.raises(AzurePathError, match="not HTTPS: qa serves HTTPS only"):
        qa_deploy.deploy(stack, image_setting=f"mlops-scoring@{DIGEST}", model=V4)
    stack.get_config.assert_not_called()  # the API key is not even read


def test_qa_stack_without_a_scoring_uri_is_one_line(mocker, dev_outputs):
    stack = mocker.Mock()
    stack.name = "qa"
    stack.up.return_value = SimpleNamespace(
        outputs={k: SimpleNamespace(value=v) for k, v in dev_outputs.items()}
    )
    with pytest.raises(AzurePathError, match=r"stack qa has no output 'scoringUri'"):
        qa_deploy.deploy(stack, image_setting="x@sha256:1", model=V4)


@pytest.mark.parametrize(
    "recorded",
    [{}, {"scoringImage": "mlops-scoring:placeholder", "scoringModelVersion": "placeholder"}],
    ids=["no-outputs", "placeholder"],
)
def test_qa_deploy_fails_when_the_stack_does_not_record_the_new_image(mocker, qa_outputs, recorded):
    # carry-serving keeps what these outputs name: a deploy they do not record would not survive
    stack = mocker.Mock()
    stack.name = "qa"
    stack.up.return_value = SimpleNamespace(
        outputs={k: SimpleNamespace(value=v) for k, v in {**qa_outputs, **recorded}.items()}
    )
    with pytest.raises(AzurePathError, match=r"stack qa records scoringImage/scoringModelVersion"):
        qa_deploy.deploy(stack, image_setting=f"mlops-scoring@{DIGEST}", model=V4)


def test_select_stack_uses_the_project_folder(mocker):
    select = mocker.patch("pulumi.automation.select_stack")
    qa_deploy.select_stack("qa")
    select.assert_called_once_with(stack_name="qa", work_dir=str(qa_deploy.PROJECT_DIR))


def test_wait_ready_polls_until_the_new_version_answers():
    answers = iter([(503, {}), (200, {"status": "ready", "version": "3"}), (200, {"version": "4"})])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/health/ready"
        status, body = next(answers)
        return httpx.Response(status, json=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    seen: list[str] = []
    qa_deploy.wait_ready(
        "http://h:5001/score", "4", client=client, sleep=lambda _s: None, progress=seen.append
    )
    assert len(seen) == 2


def test_wait_ready_gives_up_with_the_last_answer():
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"version": "3"})))
    with pytest.raises(AzurePathError, match=r"did not report version 4 .*version '3'"):
        qa_deploy.wait_ready("http://h:5001/score", "4", client=client, timeout_s=0, sleep=lambda _s: None)


def test_serving_version_ignores_the_placeholder():
    def client(body: dict[str, Any]) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=body)))

    uri = "http://h:5001/score"
    assert qa_deploy.serving_version(uri, client({"model": "m", "version": "3"})) == ModelRef("m", "3")
    assert qa_deploy.serving_version(uri, client({"model": "m", "version": "placeholder"})) is None


def _keyed_ready(key: str) -> httpx.Client:
    """A /health/ready that, like the scoring service, names the model only to callers with the key."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") == f"Bearer {key}":
            return httpx.Response(200, json={"status": "ready", "model": "m", "version": "4"})
        return httpx.Response(200, json={"status": "ready"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_readiness_polls_send_the_key_the_service_asks_for():
    uri = "http://h:5001/score"
    qa_deploy.wait_ready(uri, "4", api_key="k" * 32, client=_keyed_ready("k" * 32), sleep=lambda _s: None)
    assert qa_deploy.serving_version(uri, _keyed_ready("k" * 32), api_key="k" * 32) == ModelRef("m", "4")
    assert qa_deploy.serving_version(uri, _keyed_ready("k" * 32)) is None  # without it: nothing named
    with pytest.raises(AzurePathError, match="did not report version 4"):
        qa_deploy.wait_ready(uri, "4", client=_keyed_ready("k" * 32), timeout_s=0, sleep=lambda _s: None)


def test_the_qa_key_comes_from_the_environment_before_the_stack(mocker, monkeypatch):
    select = mocker.patch.object(qa_deploy, "select_stack")
    monkeypatch.setenv("MLOPS_SCORING_API_KEY", "from-env")
    assert qa_deploy.scoring_key("qa") == "from-env"
    select.assert_not_called()
    monkeypatch.delenv("MLOPS_SCORING_API_KEY")
    mocker.patch.object(qa_deploy, "api_key", return_value="from-stack")
    assert qa_deploy.scoring_key("qa") == "from-stack"
    select.assert_called_once_with("qa")
