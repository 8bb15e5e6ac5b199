"""Telemetry: JSON log lines, and the Azure Monitor switch (on only with a connection string)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from scoring import telemetry
from scoring.app import create_app
from scoring.settings import Settings


def test_json_formatter_writes_one_object_with_the_request_fields() -> None:
    record = logging.LogRecord("scoring", logging.INFO, __file__, 1, "request", None, None)
    record.request_id, record.status, record.rows = "r1", 200, 3
    line = telemetry.JsonFormatter().format(record)
    out = json.loads(line)
    assert out["message"] == "request"
    assert (out["request_id"], out["status"], out["rows"], out["level"]) == ("r1", 200, 3, "INFO")
    assert out["ts"].endswith("Z")
    assert "\n" not in line


def test_telemetry_is_off_without_a_connection_string(model_dir: Path, mocker: Any) -> None:
    enable = mocker.patch.object(telemetry, "enable_azure_monitor")
    create_app(Settings(model_dir=model_dir))
    enable.assert_not_called()


def test_telemetry_switches_on_with_a_connection_string(model_dir: Path, mocker: Any) -> None:
    configure = mocker.patch("azure.monitor.opentelemetry.configure_azure_monitor")
    conn = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
    app = create_app(Settings(model_dir=model_dir, appinsights_connection_string=conn))
    configure.assert_called_once()
    kwargs = configure.call_args.kwargs
    assert kwargs["connection_string"] == conn
    assert kwargs["logger_name"] == "scoring"
    # The app is wrapped in OpenTelemetry's ASGI middleware and still serves.
    assert type(app).__name__ == "OpenTelemetryMiddleware"
    with TestClient(app) as client:
        response = client.post("/score", json={"data": [[0.0] * 10]})
        assert response.status_code == 200
        assert "x-request-id" in response.headers


def test_a_connection_string_without_the_telemetry_extra_still_serves(
    model_dir: Path, mocker: Any, caplog: Any
) -> None:
    mocker.patch.object(
        telemetry, "enable_azure_monitor", side_effect=ImportError("No module named 'azure.monitor'")
    )
    conn = "InstrumentationKey=secret-ikey"
    app = create_app(Settings(model_dir=model_dir, appinsights_connection_string=conn))
    with TestClient(app) as client:
        assert client.post("/score", json={"data": [[0.0] * 10]}).status_code == 200
    assert "telemetry stays off" in caplog.text
    assert "secret-ikey" not in caplog.text


def test_a_request_record_is_the_same_line_with_and_without_the_direct_path(monkeypatch: Any) -> None:
    import io
    import sys

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    fields = {
        "request_id": "r9",
        "method": "POST",
        "path": "/score",
        "status": 200,
        "rows": 2,
        "error_code": None,
    }
    try:
        stream = io.StringIO()
        monkeypatch.setattr(sys, "stderr", stream)
        root.handlers.clear()
        telemetry.configure_logging(logging.INFO)
        telemetry.log_request(logging.INFO, fields)  # the only handler is ours: the direct path
        root.addHandler(logging.NullHandler())  # another handler: the LogRecord path
        telemetry.log_request(logging.INFO, fields)
        telemetry.log_request(logging.DEBUG, fields)  # below the level: nothing
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    direct, via_record = (json.loads(line) for line in stream.getvalue().splitlines())
    assert direct.pop("ts").endswith("Z") and via_record.pop("ts").endswith("Z")
    assert direct == via_record
    assert direct == {
        "level": "INFO",
        "logger": "scoring",
        "message": "request",
        "request_id": "r9",
        "method": "POST",
        "path": "/score",
        "status": 200,
        "rows": 2,
    }


def test_record_request_writes_the_same_line_as_a_log_record(monkeypatch: Any) -> None:
    import io
    import sys
    import time

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    states = [
        {"request_id": "r1", "rows": 3},
        {"request_id": "r2", "error_code": "invalid_input"},
        {"request_id": "r3"},
    ]
    try:
        stream = io.StringIO()
        monkeypatch.setattr(sys, "stderr", stream)
        root.handlers.clear()
        telemetry.configure_logging(logging.INFO)
        for state in states:  # the only handler is ours: the line is built directly
            telemetry.record_request("POST", "/score", 200, time.perf_counter(), state)
        root.addHandler(logging.NullHandler())  # another handler: a LogRecord, formatted
        for state in states:
            telemetry.record_request("POST", "/score", 200, time.perf_counter(), state)
        telemetry.record_request("GET", "/health/live", 200, time.perf_counter(), {"request_id": "r4"})
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 6  # probes are logged at DEBUG: not at INFO
    for line in lines:
        assert isinstance(line.pop("duration_ms"), float)
        assert line.pop("ts").endswith("Z")
    assert lines[:3] == lines[3:]
    assert lines[0] == {
        "level": "INFO",
        "logger": "scoring",
        "message": "request",
        "request_id": "r1",
        "method": "POST",
        "path": "/score",
        "status": 200,
        "rows": 3,
    }
    assert lines[1]["error_code"] == "invalid_input" and "rows" not in lines[1]


def test_time_stamps_have_three_digits_of_milliseconds() -> None:
    formatter = telemetry.JsonFormatter()
    second = 1_800_000_000
    assert formatter._timestamp(second) == "2027-01-15T08:00:00.000Z"
    assert formatter._timestamp(second + 0.0424) == "2027-01-15T08:00:00.042Z"
    assert formatter._timestamp(second + 0.9996) == "2027-01-15T08:00:00.999Z"  # truncated, as before
