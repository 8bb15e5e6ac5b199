"""The scoring app through Starlette's test client, lifespan on."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from scoring.app import create_app
from scoring.model_loader import ModelLoadError
from scoring.settings import Settings
from tests.model_folders import MODEL_NAME

JSON = {"content-type": "application/json"}
ROW = [0.01] * 10


def post(client: TestClient, body: Any, headers: dict[str, str] | None = None) -> Any:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post("/score", content=content, headers={**JSON, **(headers or {})})


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert err["request_id"] == response.headers["x-request-id"]
    return err


# --- happy path -------------------------------------------------------------------------------


def test_score_returns_the_estimators_predictions(
    client: TestClient, model_dir: Path, rows: list[list[float]], predictions: Any
) -> None:
    response = post(client, {"data": rows})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    result = response.json()["result"]
    assert result == pytest.approx(predictions(model_dir, rows), rel=1e-12)


def test_integers_are_numbers(client: TestClient, model_dir: Path, predictions: Any) -> None:
    response = post(client, {"data": [[0, 1, 0, 0, 0, 0, 0, 0, 0, -1]]})
    assert response.status_code == 200
    want = predictions(model_dir, [[0, 1, 0, 0, 0, 0, 0, 0, 0, -1]])
    assert response.json()["result"] == pytest.approx(want, rel=1e-12)


def test_the_numpy_path_equals_the_estimator_path(make_client: Any, rows: list[list[float]]) -> None:
    with make_client(fast_path=True) as fast, make_client(fast_path=False) as slow:
        assert fast.get("/metadata").json()["predict_path"] == "numpy"
        assert slow.get("/metadata").json()["predict_path"] == "estimator"
        assert post(fast, {"data": rows}).json() == post(slow, {"data": rows}).json()


def test_content_type_with_charset_is_accepted(client: TestClient) -> None:
    response = post(client, {"data": [ROW]}, {"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_max_rows_rows_are_accepted(make_client: Any) -> None:
    with make_client(max_rows=3) as client:
        assert post(client, {"data": [ROW] * 3}).status_code == 200


# --- probes, metadata, OpenAPI ---------------------------------------------------------------


def test_probes_when_running(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "alive"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "model": MODEL_NAME, "version": "7"}


def test_not_ready_and_no_scoring_before_the_model_is_loaded(model_dir: Path) -> None:
    # Without `with`, the test client does not run the lifespan: the model is not loaded.
    client = TestClient(create_app(Settings(model_dir=model_dir)), raise_server_exceptions=False)
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 503
    response = post(client, {"data": [ROW]})
    assert response.status_code == 503
    assert error_of(response)["code"] == "not_ready"


def test_metadata_names_model_version_and_lineage(client: TestClient, features: list[str]) -> None:
    meta = client.get("/metadata").json()
    assert meta["name"] == MODEL_NAME
    assert meta["version"] == "7"
    assert meta["features"] == features
    assert meta["lineage"]["run_id"] == "run-alpha-1.0"
    assert meta["sklearn_version"]
    assert meta["max_rows"] == 1000


def test_model_name_setting_overrides_metadata(make_client: Any) -> None:
    with make_client(model_name="my-model-prod") as client:
        assert client.get("/metadata").json()["name"] == "my-model-prod"


def test_openapi_documents_the_request_schema_with_an_example(make_client: Any) -> None:
    with make_client(max_rows=50) as client:
        doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/score", "/metadata", "/health/live", "/health/ready"}
    schemas = doc["components"]["schemas"]
    request = schemas["ScoreRequest"]
    rows, records = schemas["DataRequest"]["properties"]["data"]["anyOf"]
    assert rows["maxItems"] == records["maxItems"] == 50
    assert schemas["Row"]["minItems"] == schemas["Row"]["maxItems"] == 10
    example = request["example"]["data"]
    assert len(example) >= 1
    assert all(len(row) == 10 for row in example)


def test_openapi_example_scores_to_the_documented_result(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    response = post(client, schemas["ScoreRequest"]["example"])
    assert response.json()["result"] == pytest.approx(schemas["ScoreResponse"]["example"]["result"])


# --- bad input: 4xx with a message naming the problem -----------------------------------------

BAD_BODIES: list[tuple[str, bytes, int, str, str]] = [
    ("invalid JSON", b'{"data": [[1, 2', 400, "invalid_json", "not valid JSON"),
    ("empty body", b"", 400, "invalid_json", "empty"),
    ("NaN", b'{"data": [[NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0]]}', 400, "invalid_json", "NaN"),
    ("infinity", b'{"data": [[1e999, 0, 0, 0, 0, 0, 0, 0, 0, 0]]}', 400, "invalid_json", "infinity"),
    ("not an object", b"[[1, 2, 3]]", 422, "invalid_input", "JSON object"),
    ("no data field", b'{"rows": [[1]]}', 422, "invalid_input", 'no "data"'),
    ("extra field", b'{"data": [[0,0,0,0,0,0,0,0,0,0]], "x": 1}', 422, "invalid_input", "unknown"),
    ("data not a list", b'{"data": {"a": 1}}', 422, "invalid_input", "list of rows"),
    ("empty list", b'{"data": []}', 422, "invalid_input", "empty"),
    ("flat row", b'{"data": [0,0,0,0,0,0,0,0,0,0]}', 422, "invalid_input", "data[0] must be a list"),
    ("too few features", b'{"data": [[0,0,0]]}', 422, "invalid_input", "data[0] has 3 values"),
    (
        "too many features",
        b'{"data": [[0,0,0,0,0,0,0,0,0,0],[0,0,0,0,0,0,0,0,0,0,0]]}',
        422,
        "invalid_input",
        "data[1] has 11 values, expected 10",
    ),
    ("nested row", b'{"data": [[0,0,0,0,0,0,0,0,0,[0]]]}', 422, "invalid_input", "data[0][9]"),
    ("string", b'{"data": [[0,0,"1",0,0,0,0,0,0,0]]}', 422, "invalid_input", "data[0][2] must be"),
    ("null", b'{"data": [[0,0,0,0,0,0,0,0,0,null]]}', 422, "invalid_input", "got null"),
    ("boolean", b'{"data": [[0,0,0,0,true,0,0,0,0,0]]}', 422, "invalid_input", "a boolean"),
    (
        "overflow inside the model",
        b'{"data": [[1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308,1e308]]}',
        422,
        "out_of_range",
        "far outside",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "code", "phrase"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_bad_bodies_get_a_4xx_naming_the_problem(
    client: TestClient, body: bytes, status: int, code: str, phrase: str
) -> None:
    response = post(client, body)
    assert response.status_code == status
    err = error_of(response)
    assert err["code"] == code
    assert phrase in err["message"]


def test_too_many_rows(make_client: Any) -> None:
    with make_client(max_rows=3) as client:
        response = post(client, {"data": [ROW] * 4})
    assert response.status_code == 422
    assert "4 rows, more than the maximum of 3" in error_of(response)["message"]


def test_body_too_large_by_content_length(make_client: Any) -> None:
    with make_client(max_body_bytes=1000) as client:
        response = post(client, {"data": [ROW] * 30})
    assert response.status_code == 413
    assert "larger than 1000 bytes" in error_of(response)["message"]


def test_body_too_large_when_streamed_without_length(make_client: Any) -> None:
    def chunks() -> Any:
        yield b'{"data": ['
        for _ in range(40):
            yield orjson.dumps(ROW) + b","
        yield orjson.dumps(ROW) + b"]}"

    with make_client(max_body_bytes=1000) as client:
        response = client.post("/score", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type(client: TestClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post("/score", content=orjson.dumps({"data": [ROW]}), headers=headers)
    assert response.status_code == 415
    assert "Content-Type must be application/json" in error_of(response)["message"]


def test_unknown_route_and_wrong_method_are_json_errors(client: TestClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong = client.get("/score")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"


# --- API key ----------------------------------------------------------------------------------


def test_no_key_configured_means_no_auth(client: TestClient) -> None:
    assert post(client, {"data": [ROW]}).status_code == 200


def test_key_is_enforced_when_configured(make_client: Any) -> None:
    with make_client(api_key="s3cret-key") as client:
        missing = post(client, {"data": [ROW]})
        wrong = post(client, {"data": [ROW]}, {"authorization": "Bearer nope"})
        raw_key = post(client, {"data": [ROW]}, {"authorization": "s3cret-key"})
        good = post(client, {"data": [ROW]}, {"authorization": "Bearer s3cret-key"})
        meta_denied = client.get("/metadata")
        probes = [client.get("/health/live"), client.get("/health/ready")]
    for denied in (missing, wrong, raw_key, meta_denied):
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in error_of(denied)["message"]
    assert "missing" in error_of(missing)["message"]
    assert good.status_code == 200
    assert [p.status_code for p in probes] == [200, 200]


def test_auth_is_checked_before_the_body(make_client: Any) -> None:
    with make_client(api_key="k") as client:
        response = client.post("/score", content=b"not json", headers={"content-type": "x/y"})
    assert response.status_code == 401


# --- request ids and logs ---------------------------------------------------------------------


def test_request_id_is_echoed(client: TestClient) -> None:
    response = post(client, {"data": [ROW]}, {"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_azure_client_request_id_is_used(client: TestClient) -> None:
    response = client.get("/health/live", headers={"x-ms-client-request-id": "az-1"})
    assert response.headers["x-request-id"] == "az-1"


@pytest.mark.parametrize("incoming", [None, "x" * 200, "bad id\twith tab"])
def test_request_id_is_generated_when_absent_or_implausible(client: TestClient, incoming: str | None) -> None:
    headers = {} if incoming is None else {"x-request-id": incoming}
    response = client.get("/health/live", headers=headers)
    rid = response.headers["x-request-id"]
    assert rid != incoming
    assert len(rid) == 32


def test_request_log_has_fields_but_no_payload_or_key(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret_value = 0.123456789
    caplog.set_level(logging.DEBUG, logger="scoring")
    with make_client(api_key="topsecret") as client:
        post(
            client,
            {"data": [[secret_value] * 10]},
            {"authorization": "Bearer topsecret", "x-request-id": "rid-1"},
        )
        post(client, b'{"data": [[0,0,"leaky",0,0,0,0,0,0,0]]}', {"authorization": "Bearer topsecret"})
    records = [r for r in caplog.records if r.getMessage() == "request"]
    ok = next(r for r in records if r.__dict__.get("request_id") == "rid-1")
    assert (ok.method, ok.path, ok.status, ok.rows) == ("POST", "/score", 200, 1)
    assert isinstance(ok.duration_ms, float)
    bad = next(r for r in records if r.status == 422)
    assert bad.error_code == "invalid_input"
    everything = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert str(secret_value) not in everything
    assert "leaky" not in everything
    assert "topsecret" not in everything


# --- start-up failures ------------------------------------------------------------------------


def test_missing_model_fails_at_startup(tmp_path: Path) -> None:
    app = create_app(Settings(model_dir=tmp_path / "nowhere"))
    with pytest.raises(ModelLoadError, match="does not exist"), TestClient(app):
        pass


def test_other_sklearn_version_fails_at_startup(tmp_path: Path, build_model: Any) -> None:
    folder = build_model(tmp_path / "m", sklearn_version="0.24.2")
    app = create_app(Settings(model_dir=folder))
    with pytest.raises(ModelLoadError, match=r"trained with scikit-learn 0\.24\.2"), TestClient(app):
        pass


def test_nothing_in_the_app_logs_the_settings_secrets(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(model_dir=model_dir, api_key="k-123-secret")
    with TestClient(create_app(settings)) as client:
        client.get("/health/ready")
    assert "k-123-secret" not in caplog.text
    assert "k-123-secret" not in repr(settings)


def test_the_real_scoring_package_is_under_test() -> None:
    import scoring.app

    assert Path(scoring.app.__file__).parent.name == "scoring"
    assert (Path(scoring.app.__file__).parent / "__main__.py").is_file()


# --- issue 11: defects found by hostile clients ------------------------------------------------

ROW_TEXT = b"[0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01]"


@pytest.mark.parametrize(
    "body",
    [
        b'{"\\u0064ata": [' + ROW_TEXT + b"]}",
        b'{"data": null, "data": [' + ROW_TEXT + b"]}",
        b'{"data": false, "data": [' + ROW_TEXT + b"]}",
        b'{"data": "fu", "data": [' + ROW_TEXT + b"]}",
    ],
    ids=[
        "escaped key",
        "duplicate key after null",
        "duplicate key after false",
        "duplicate key after a string",
    ],
)
def test_valid_rows_score_whatever_letters_the_body_holds(
    client: TestClient, model_dir: Path, predictions: Any, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    response = post(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == pytest.approx(predictions(model_dir, [ROW]), rel=1e-12)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_openapi_document_does_not_show_what_the_key_protects(make_client: Any, model_dir: Path) -> None:
    sample = orjson.loads((model_dir / "metadata.json").read_bytes())["sample"]
    secrets = [
        "secret-model",
        "v-secret-9",
        *(repr(v) for v in sample["data"][0][:3]),
        *(repr(v) for v in sample["result"]),
    ]
    auth = {"authorization": "Bearer k"}
    with make_client(api_key="k", model_name="secret-model", model_version="v-secret-9") as client:
        public_doc = client.get("/openapi.json").text
        detailed_doc = client.get("/openapi.json", headers=auth).text
    for text in (public_doc, detailed_doc):
        for secret in secrets:
            assert secret not in text
    assert "bmi" not in public_doc  # the features too, without the key
    assert "bmi" in detailed_doc


def test_errors_and_request_records_never_echo_the_path_or_content_type(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scoring")
    marker = "zz-marker"
    answers = [
        client.get(f"/{marker}/" + "p" * 3000),
        client.post(f"/score/{marker}", content=b"{}"),
        client.put("/score", content=b"{}", headers={"x": marker}),
        client.post("/score", content=b"{}", headers={"content-type": f"text/{marker}"}),
    ]
    assert [a.status_code for a in answers] == [404, 404, 405, 415]
    for answer in answers:
        assert marker not in answer.text
    records = [r for r in caplog.records if r.getMessage() == "request"]
    assert [r.path for r in records] == ["(other)", "(other)", "/score", "/score"]
    assert marker not in caplog.text + "".join(str(r.__dict__) for r in caplog.records)


def test_the_schema_says_which_numbers_are_refused(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "out_of_range" in doc["paths"]["/score"]["post"]["responses"]["422"]["description"]
    assert "1e308" in doc["components"]["schemas"]["Row"]["items"]["description"]


def test_a_gzip_body_without_its_header_gets_415(client: TestClient) -> None:
    import gzip

    response = post(client, gzip.compress(orjson.dumps({"data": [ROW]})))
    assert response.status_code == 415
    assert "gzip" in error_of(response)["message"]


def test_repeated_refusals_do_not_keep_their_requests_in_memory(client: TestClient) -> None:
    import tracemalloc

    huge = orjson.dumps({"data": [[1e308] * 10] * 100})  # refused: 422 out_of_range
    post(client, huge)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            assert post(client, huge).status_code == 422
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1_000_000, f"{grown} bytes kept after 200 refused requests"


def test_readiness_names_the_model_only_to_callers_with_the_key(make_client: Any) -> None:
    with make_client(api_key="k", model_name="secret-model", model_version="v-secret-9") as client:
        public = client.get("/health/ready")
        wrong = client.get("/health/ready", headers={"authorization": "Bearer nope"})
        with_key = client.get("/health/ready", headers={"authorization": "Bearer k"})
    assert [public.status_code, wrong.status_code, with_key.status_code] == [200, 200, 200]
    assert public.json() == wrong.json() == {"status": "ready"}
    assert with_key.json() == {"status": "ready", "model": "secret-model", "version": "v-secret-9"}
