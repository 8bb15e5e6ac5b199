"""Fuzzing: nothing a client sends may produce a 5xx.

Two generators, each run through the app with its lifespan on:
- schemathesis, from the service's own OpenAPI document, in positive and negative modes
  (valid requests and requests that break the schema in every way it knows);
- hypothesis, with arbitrary JSON documents, near-miss score bodies and raw bytes.
Each test counts the cases it sent and asserts its own total, so the suite cannot fuzz less
silently, whichever tests run and in whatever order or worker (pytest -k, pytest-xdist).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from starlette.testclient import TestClient

from scoring.app import create_app
from scoring.settings import Settings

SCHEMATHESIS_CASES = 200  # per mode, on POST /score (the slowest cases to make: 2 x 200 + 3 x 300)
HYPOTHESIS_CASES = 300  # per strategy below


@pytest.fixture(scope="module")
def app_client(model_dir: Path) -> Iterator[TestClient]:
    settings = Settings(model_dir=model_dir, max_rows=20, max_body_bytes=16_384)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def dump(body: Any) -> bytes:
    """JSON for any generated body: the standard library writes integers beyond 64 bits too."""
    return json.dumps(body).encode()


class Cases:
    """The responses one test checked; each test asserts its own count (no state across tests)."""

    def __init__(self) -> None:
        self.count = 0

    def check(self, response: Any) -> None:
        self.count += 1
        assert response.status_code < 500, (response.status_code, response.text)
        if response.status_code >= 400:
            assert "message" in response.json()["error"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_cases_never_get_a_5xx(app_client: TestClient, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_dict(app_client.get("/openapi.json").json())
    strategy = schema["/score"]["POST"].as_strategy(generation_mode=mode)
    cases = Cases()

    @settings(
        max_examples=SCHEMATHESIS_CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        body = kwargs.get("json")
        content = dump(body) if body is not None else kwargs.get("data")
        media_type = case.media_type or "application/json"
        headers = {"content-type": media_type, **(kwargs.get("headers") or {})}
        response = app_client.request(kwargs["method"], kwargs["url"], content=content, headers=headers)
        cases.check(response)
        if mode is GenerationMode.POSITIVE and response.status_code != 200:
            error = response.json()["error"]
            if media_type == "text/csv":  # the schema of CSV is "a string": most strings are not CSV rows
                assert error["code"] in {"invalid_csv", "invalid_input"}, response.text
            elif "lengths differ" not in error["message"]:  # JSON Schema cannot say "equal lengths"
                # Valid by the schema: only a model overflow (huge numbers) may refuse it.
                assert error["code"] == "out_of_range", response.text

    run()
    assert cases.count == SCHEMATHESIS_CASES


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=40,
)
numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(),  # beyond 64 bits too
)
# A near-miss cell is a number or a small JSON value of the wrong type (a few leaves: a cell
# holding a 40-leaf document fuzzes the generator's time, not the service).
wrong_cells = st.recursive(
    st.none() | st.booleans() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=4,
)
near_misses = st.fixed_dictionaries(
    {
        "data": st.lists(
            st.lists(numbers | wrong_cells, min_size=8, max_size=12),
            min_size=0,
            max_size=25,
        )
    }
)


def fuzz_settings() -> Any:
    return settings(
        max_examples=HYPOTHESIS_CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def test_arbitrary_json_never_gets_a_5xx(app_client: TestClient) -> None:
    cases = Cases()

    @fuzz_settings()
    @given(body=json_values)
    def run(body: Any) -> None:
        cases.check(
            app_client.post("/score", content=dump(body), headers={"content-type": "application/json"})
        )

    run()
    assert cases.count == HYPOTHESIS_CASES


def test_near_miss_bodies_never_get_a_5xx(app_client: TestClient) -> None:
    cases = Cases()

    @fuzz_settings()
    @given(body=near_misses)
    def run(body: Any) -> None:
        content = dump(body)
        cases.check(app_client.post("/score", content=content, headers={"content-type": "application/json"}))

    run()
    assert cases.count == HYPOTHESIS_CASES


def test_raw_bytes_and_headers_never_get_a_5xx(app_client: TestClient) -> None:
    cases = Cases()

    @fuzz_settings()
    @given(
        body=st.binary(max_size=300),
        content_type=st.sampled_from(["application/json", "text/plain", "", "application/JSON; x=1"]),
        method=st.sampled_from(["POST", "GET", "PUT"]),
        path=st.sampled_from(["/score", "/metadata", "/health/ready", "/x"]),
    )
    def run(body: bytes, content_type: str, method: str, path: str) -> None:
        cases.check(app_client.request(method, path, content=body, headers={"content-type": content_type}))

    run()
    assert cases.count == HYPOTHESIS_CASES


def test_the_fuzz_budget_is_at_least_1000_cases() -> None:
    # Each test above asserts it sent its share; lowering the shares must not go unnoticed.
    assert 2 * SCHEMATHESIS_CASES + 3 * HYPOTHESIS_CASES >= 1000


NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson parses as integers
)


@settings(max_examples=HYPOTHESIS_CASES, deadline=None)
@given(row=st.lists(NUMBERS, min_size=10, max_size=10))
def test_one_row_converts_to_the_same_floats_as_many_rows(row: list[Any]) -> None:
    import numpy as np
    import orjson

    from scoring.validation import matrix, numbers_rows

    one_body, two_body = (orjson.dumps({"data": [row] * n}) for n in (1, 2))
    one = numbers_rows(one_body, n_features=10, max_rows=10)
    two = numbers_rows(two_body, n_features=10, max_rows=10)
    checked = matrix([row], 10, "data")  # the value-by-value path
    assert one is not None and two is not None
    for other in (two[:1], checked):  # bit for bit: -0.0, subnormals, integers beyond 2**53
        np.testing.assert_array_equal(one.view(np.uint64), other.view(np.uint64))
