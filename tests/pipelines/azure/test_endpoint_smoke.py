"""The Azure smoke test: the registered model's sample (rows, predictions, a classifier's
probabilities) against an endpoint's answer, through an httpx mock transport."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pipelines.azure.endpoint_smoke import DEPLOYMENT_HEADER, smoke_endpoint
from pipelines.azure.errors import AzurePathError
from pipelines.azure.refs import Sample, read_sample
from pipelines.smoke import SmokeTestError
from tests.model_folders import build_classifier_dir

URL = "https://score.example.com/score"


@pytest.fixture(scope="module")
def classifier_sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return read_sample(build_classifier_dir(tmp_path_factory.mktemp("clf") / "model"))


def answering(body: dict[str, object], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def test_a_classifiers_sample_carries_its_probabilities(classifier_sample: Sample) -> None:
    assert classifier_sample.probabilities is not None
    assert len(classifier_sample.probabilities) == len(classifier_sample.rows) == 3
    assert all(abs(sum(row) - 1) < 1e-9 for row in classifier_sample.probabilities)


def test_the_endpoint_passes_with_the_offline_classes_and_probabilities(classifier_sample: Sample) -> None:
    seen: list[httpx.Request] = []
    body = {"result": classifier_sample.expected, "probabilities": classifier_sample.probabilities}
    passed = smoke_endpoint(
        URL, classifier_sample, api_key="k", deployment="model-v4", transport=answering(body, seen)
    )
    assert passed.rows == 3
    assert seen[0].headers[DEPLOYMENT_HEADER] == "model-v4"


def test_right_classes_with_wrong_probabilities_fail(classifier_sample: Sample) -> None:
    assert classifier_sample.probabilities is not None
    shifted = [
        [p + 0.01 if i == 0 else p - 0.01 for i, p in enumerate(row)]
        for row in classifier_sample.probabilities
    ]
    body = {"result": classifier_sample.expected, "probabilities": shifted}
    with pytest.raises(SmokeTestError, match="probability mismatch"):
        smoke_endpoint(URL, classifier_sample, api_key="k", transport=answering(body, []))


def test_an_answer_without_probabilities_fails_for_a_classifier(classifier_sample: Sample) -> None:
    body = {"result": classifier_sample.expected}
    with pytest.raises(SmokeTestError, match='without one "probabilities" row per row'):
        smoke_endpoint(URL, classifier_sample, api_key="k", transport=answering(body, []))


def test_a_classifier_sample_without_probabilities_is_refused(tmp_path: Path) -> None:
    folder = build_classifier_dir(tmp_path / "model")
    metadata = json.loads((folder / "metadata.json").read_text())
    del metadata["sample"]["probabilities"]
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(AzurePathError, match="no probabilities to compare"):
        read_sample(folder)


def test_a_regressor_sample_has_no_probabilities(model_dir: Path) -> None:
    sample = read_sample(model_dir)
    assert sample.probabilities is None and len(sample.rows) == len(sample.expected) == 3
