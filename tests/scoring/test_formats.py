"""The request formats clients already send, each with the exact body a real client sends.

- Azure ML: the body of Azure/azureml-examples' sample request for its scikit-learn regression MLflow model.
- MLflow: MLflow's own client (``ScoringServerClient``, what ``mlflow models predict`` and
  the deployments client use) against a live server, and MLflow's own scoring function
  (``mlflow.pyfunc.scoring_server.invocations``) as the reference answer for every format,
  CSV included, on the same model saved as an MLflow model.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import orjson
import pytest
from starlette.testclient import TestClient

from scoring.settings import Settings
from tests.model_folders import FEATURES, bundled
from tests.scoring.live_server import serving

# Azure/azureml-examples@218cc4c83d708f17504845e0ebffe8b84ebef431:
# cli/endpoints/online/mlflow/sample-request-sklearn.json, byte for byte.
AZUREML_SAMPLE = b"""{"input_data": {
    "columns": [
      "age",
      "sex",
      "bmi",
      "bp",
      "s1",
      "s2",
      "s3",
      "s4",
      "s5",
      "s6"
    ],
    "data": [
      [ 1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0,9.0,10.0 ],
      [ 10.0,2.0,9.0,8.0,7.0,6.0,5.0,4.0,3.0,2.0]
    ],
    "index": [0,1]
  }}"""
AZUREML_ROWS = [
    [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
    [10.0, 2.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0],
]


def post(
    client: TestClient, body: bytes, content_type: str = "application/json", path: str = "/score"
) -> Any:
    return client.post(path, content=body, headers={"content-type": content_type})


def frame(rows: list[list[float]], columns: list[str] | None = None) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns or FEATURES)


@pytest.fixture(scope="module")
def sample() -> list[list[float]]:
    x, _ = bundled()
    return x[20:24].tolist()


@pytest.fixture(scope="module")
def mlflow_models(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Any]:
    """The test model's estimator as MLflow pyfunc models: ``True``, with a signature; ``False``, without.

    With a signature MLflow maps named columns by name (and refuses positional rows); without
    one it passes positional rows through.
    """
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature

    x, y = bundled()
    estimator = joblib.load(model_dir / "estimator.joblib")
    models = {}
    for named in (True, False):
        path = tmp_path_factory.mktemp("mlflow") / "model"
        signature = infer_signature(frame(x[:5].tolist()), y[:5]) if named else None
        # Explicit requirements: inferring them takes MLflow ~15 s.
        mlflow.sklearn.save_model(
            estimator, str(path), signature=signature, pip_requirements=["scikit-learn"]
        )
        models[named] = mlflow.pyfunc.load_model(str(path))
    return models


def mlflow_answer(model: Any, body: bytes, content_type: str = "application/json") -> Any:
    """What ``mlflow models serve`` answers to ``body``: its own scoring function."""
    from mlflow.pyfunc import scoring_server

    with warnings.catch_warnings():
        # The estimator was fitted on an array: scikit-learn warns when MLflow hands it a frame.
        warnings.simplefilter("ignore", UserWarning)
        response = scoring_server.invocations(body, content_type, model, model.metadata.get_input_schema())
    assert response.status == 200, response.response
    return json.loads(response.response)


def mlflow_bodies(rows: list[list[float]]) -> dict[str, tuple[bytes, str, bool]]:
    """Each MLflow request format, written by MLflow's own serialiser where it has one."""
    from mlflow.utils.proto_json_utils import dump_input_data

    shuffled = [*FEATURES[5:], *FEATURES[:5]]
    df = frame(rows)
    return {
        "dataframe_split": (dump_input_data(df).encode(), "application/json", True),
        "dataframe_split, columns in another order": (
            dump_input_data(df[shuffled]).encode(),
            "application/json",
            True,
        ),
        "dataframe_records": (
            json.dumps({"dataframe_records": df.to_dict(orient="records")}).encode(),
            "application/json",
            True,
        ),
        "inputs": (dump_input_data(np.asarray(rows)).encode(), "application/json", False),
        # the SageMaker deployment client's body
        "instances": (
            dump_input_data(np.asarray(rows), inputs_key="instances").encode(),
            "application/json",
            False,
        ),
        "inputs with params": (
            dump_input_data(np.asarray(rows), params={}).encode(),
            "application/json",
            False,
        ),
        "csv": (df[shuffled].to_csv(index=False).encode(), "text/csv", True),
    }


_FORMATS = list(mlflow_bodies([[0.0] * 10]))


@pytest.mark.parametrize("name", _FORMATS)
def test_mlflow_formats_answer_what_mlflow_answers(
    client: TestClient, mlflow_models: dict[bool, Any], sample: list[list[float]], name: str
) -> None:
    body, content_type, named = mlflow_bodies(sample)[name]
    want = mlflow_answer(mlflow_models[named], body, content_type)
    response = post(client, body, content_type)
    assert response.status_code == 200, response.text
    got = response.json()
    assert set(got) == set(want) == {"predictions"}
    assert got["predictions"] == pytest.approx(want["predictions"], rel=1e-12)


def test_the_azureml_sample_request_answers_a_list(
    client: TestClient, model_dir: Path, predictions: Any
) -> None:
    response = post(client, AZUREML_SAMPLE)
    assert response.status_code == 200, response.text
    got = response.json()
    assert isinstance(got, list)  # Azure ML's MLflow scoring script answers the bare list
    assert got == pytest.approx(predictions(model_dir, AZUREML_ROWS), rel=1e-12)


def test_input_data_as_rows_and_as_named_columns(
    client: TestClient, model_dir: Path, predictions: Any
) -> None:
    want = predictions(model_dir, AZUREML_ROWS)
    as_rows = post(client, orjson.dumps({"input_data": AZUREML_ROWS}))
    columns = {f: [row[j] for row in AZUREML_ROWS] for j, f in enumerate(FEATURES)}
    as_columns = post(client, orjson.dumps({"input_data": columns}))
    assert as_rows.json() == pytest.approx(want, rel=1e-12)
    assert as_columns.json() == pytest.approx(want, rel=1e-12)


def test_named_records_in_data_answer_result(
    client: TestClient, model_dir: Path, sample: list[list[float]], predictions: Any
) -> None:
    records = [dict(zip(reversed(FEATURES), reversed(row), strict=True)) for row in sample]
    response = post(client, orjson.dumps({"data": records}))
    assert response.status_code == 200, response.text
    assert response.json()["result"] == pytest.approx(predictions(model_dir, sample), rel=1e-12)


def test_the_default_format_still_answers_result(
    client: TestClient, model_dir: Path, sample: list[list[float]], predictions: Any
) -> None:
    response = post(client, orjson.dumps({"data": sample}))
    assert response.json() == {"result": pytest.approx(predictions(model_dir, sample), rel=1e-12)}


@pytest.mark.parametrize(
    ("body", "content_type", "phrases"),
    [
        (
            {"data": [{f: 0 for f in FEATURES if f != "bmi"}]},
            "application/json",
            ["data[0]: missing column(s) bmi", "the model takes age, sex"],
        ),
        (
            {"data": [{**dict.fromkeys(FEATURES, 0), "weight": 1}]},
            "application/json",
            ["unknown column(s) 'weight'"],
        ),
        (
            {"dataframe_split": {"columns": [*FEATURES[:9], "s7"], "data": [[0] * 10]}},
            "application/json",
            ["missing column(s) s6", "unknown column(s) 's7'"],
        ),
        (
            {"inputs": {f: [0] for f in FEATURES[1:]}},
            "application/json",
            ["missing column(s) age"],
        ),
        ("sex,age\n1,2\n", "text/csv", ["missing column(s) bmi, bp, s1"]),
        (
            {"dataframe_records": [{**dict.fromkeys(FEATURES, 0), "bmi": "fat"}]},
            "application/json",
            ['dataframe_records[0]["bmi"] must be a number, got a string'],
        ),
        (
            ",".join(FEATURES) + "\n" + ",".join(["1"] * 9 + ["x"]) + "\n",
            "text/csv",
            ["CSV row 1, column s6 is not a number"],
        ),
        ({"inputs": [[0] * 10], "instances": [[0] * 10]}, "application/json", ["send one"]),
        ({"input_data": [[0] * 10], "extra": 1}, "application/json", ["unknown field(s)"]),
    ],
    ids=[
        "record missing a column",
        "record with an unknown column",
        "split columns",
        "named columns",
        "csv header",
        "record value",
        "csv value",
        "two formats",
        "unknown field",
    ],
)
def test_named_formats_name_the_wrong_columns(
    client: TestClient, body: Any, content_type: str, phrases: list[str]
) -> None:
    content = body.encode() if isinstance(body, str) else orjson.dumps(body)
    response = post(client, content, content_type)
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    for phrase in phrases:
        assert phrase in message


def test_invocations_is_an_alias_of_score(client: TestClient) -> None:
    response = post(client, orjson.dumps({"inputs": [[0.0] * 10]}), path="/invocations")
    assert response.status_code == 200
    assert set(response.json()) == {"predictions"}


@pytest.fixture(scope="module")
def live(model_dir: Path) -> Iterator[tuple[str, int]]:
    with serving(Settings(model_dir=model_dir)) as address:
        yield address


def test_mlflows_own_client_scores_against_the_service(
    live: tuple[str, int], model_dir: Path, sample: list[list[float]], predictions: Any
) -> None:
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    client = ScoringServerClient(*live)
    want = predictions(model_dir, sample)
    for data in (frame(sample), np.asarray(sample)):
        got = client.invoke(data).get_predictions(predictions_format="ndarray")
        assert np.asarray(got).reshape(-1).tolist() == pytest.approx(want, rel=1e-12)


def test_fast_path_reads_numbers_as_the_checked_path_does() -> None:
    from scoring.validation import matrix, numbers_rows

    data = [[1, 2.5, -3, 9007199254740993, 1e-300, 0, -0.0, 7, 8, 9], [0.1] * 10]
    body = orjson.dumps({"data": data})
    rows = numbers_rows(body, n_features=10, max_rows=10)
    assert rows is not None
    assert rows.dtype == np.float64
    assert rows.shape == (2, 10)
    np.testing.assert_array_equal(rows, matrix(data, 10, "data"))
