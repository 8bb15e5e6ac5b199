"""The champion input: read from the Azure ML registry dev shares with the serving stack, else dev."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.azure import prod_deploy, training, workspaces
from pipelines.azure.champion import resolve_champion
from pipelines.azure.ops import ModelStore
from pipelines.azure.outputs_reader import parse
from pipelines.azure.refs import ModelAsset, ModelRef
from pipelines.paths import REPO_ROOT
from tests.model_folders import DATA_FILE, MODEL_NAME

V3 = ModelRef(MODEL_NAME, "3")
REGISTRY_URI = f"azureml://registries/mlops-reg/models/{MODEL_NAME}/versions/3"


@pytest.fixture
def registry(mocker: Any) -> Any:
    store = mocker.create_autospec(ModelStore, instance=True)
    store.where = "registry mlops-reg"
    store.model_id.side_effect = lambda name, version: (
        f"azureml://registries/mlops-reg/models/{name}/versions/{version}"
    )
    mocker.patch.object(workspaces, "registry", return_value=store)
    return store


def serve(mocker: Any, prod: dict[str, Any], ops: Any) -> None:
    mocker.patch.object(workspaces, "outputs", return_value=parse("prod", prod))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    mocker.patch.object(prod_deploy, "live_model", return_value=("model-v3", V3))


def test_a_champion_served_through_the_registry_is_read_from_it(
    mocker, dev_outputs, prod_outputs, ops, registry
):
    serve(mocker, {**prod_outputs, "modelRegistryName": "mlops-reg"}, ops)
    dev = parse("dev", {**dev_outputs, "modelRegistryName": "mlops-reg"})
    champion = resolve_champion("prod", MODEL_NAME, dev, ops)
    assert champion == ModelAsset(V3, REGISTRY_URI)
    registry.get_model.assert_called_once_with(MODEL_NAME, "3")
    ops.get_model.assert_not_called()


def test_without_a_shared_registry_the_champion_must_be_in_dev(
    mocker, dev_outputs, prod_outputs, ops, registry
):
    serve(mocker, {**prod_outputs, "modelRegistryName": "mlops-reg"}, ops)
    champion = resolve_champion("prod", MODEL_NAME, parse("dev", dev_outputs), ops)
    assert champion == ModelAsset(V3, f"azureml:{MODEL_NAME}:3")
    registry.get_model.assert_not_called()


def test_a_champion_missing_from_the_registry_is_named(mocker, dev_outputs, prod_outputs, ops, registry):
    from pipelines.azure.errors import AzurePathError

    serve(mocker, {**prod_outputs, "modelRegistryName": "mlops-reg"}, ops)
    registry.get_model.return_value = None
    dev = parse("dev", {**dev_outputs, "modelRegistryName": "mlops-reg"})
    with pytest.raises(
        AzurePathError, match=rf"champion {MODEL_NAME}:3 \(served by prod\) is not in registry"
    ):
        resolve_champion("prod", MODEL_NAME, dev, ops)


def test_the_registry_champion_reaches_the_rest_api_as_an_mlflow_model_input():
    request = training.TrainRequest(
        compute="cpu-cluster",
        data_file=DATA_FILE,
        params_file=REPO_ROOT / "config" / "usecase.yaml",
        model_name=MODEL_NAME,
        champion=ModelAsset(V3, REGISTRY_URI),
        overrides={},
        git_commit="0123abc",
    )
    job = training.build_pipeline_job(request, environment_id="azureml:e:1", data_id="azureml:d:1")
    assert job._validate().passed
    rest = job._to_rest_object().as_dict()["properties"]["jobs"]["evaluate"]["inputs"]["champion"]
    # the type components/evaluate.yml declares for the input (a mismatch is what Azure ML refuses)
    assert rest == {"job_input_type": "mlflow_model", "uri": REGISTRY_URI}


def _serving_nothing(mocker: Any, source: str, raw: dict[str, Any], ops: Any) -> None:
    from pipelines.azure import qa_deploy

    mocker.patch.object(workspaces, "outputs", return_value=parse(source, raw))
    mocker.patch.object(workspaces, "ops", return_value=ops)
    mocker.patch.object(prod_deploy, "live_model", return_value=None)  # no deployment yet
    mocker.patch.object(qa_deploy, "scoring_key", return_value="a-key-of-16-chars-or-more")
    mocker.patch.object(qa_deploy, "serving_version", return_value=None)  # the placeholder image


@pytest.mark.parametrize("source", ["prod", "qa"])
def test_where_nothing_is_served_yet_the_newest_version_registered_in_dev_is_the_champion(
    mocker, source, dev_outputs, prod_outputs, qa_outputs, ops, registry
):
    raw = {"prod": prod_outputs, "qa": qa_outputs}[source]
    _serving_nothing(mocker, source, {**raw, "modelRegistryName": "mlops-reg"}, ops)
    ops.latest_model_version.return_value = "5"
    dev = parse("dev", {**dev_outputs, "modelRegistryName": "mlops-reg"})
    champion = resolve_champion(source, MODEL_NAME, dev, ops)
    assert champion == ModelAsset(ModelRef(MODEL_NAME, "5"), f"azureml:{MODEL_NAME}:5")  # read in dev
    ops.latest_model_version.assert_called_once_with(MODEL_NAME)
    registry.get_model.assert_not_called()


def test_with_nothing_served_and_nothing_registered_there_is_no_champion(
    mocker, dev_outputs, prod_outputs, ops, registry
):
    _serving_nothing(mocker, "prod", prod_outputs, ops)
    ops.latest_model_version.return_value = None
    assert resolve_champion("prod", MODEL_NAME, parse("dev", dev_outputs), ops) is None


def test_champion_from_none_never_looks(mocker, dev_outputs, ops, registry):
    assert resolve_champion("none", MODEL_NAME, parse("dev", dev_outputs), ops) is None
    ops.latest_model_version.assert_not_called()
