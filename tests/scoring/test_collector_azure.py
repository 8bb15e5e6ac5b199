"""The image's Azure ML data collector sender against Microsoft's own client, azureml-ai-monitoring 1.0.0.

The same requests go through azureml-ai-monitoring's ``Collector`` (in a subprocess: the package keeps
global state and configures logging) and through the service's collector; a real HTTP server on
127.0.0.1 stands in for the data collector agent and records both. Their requests must match: method,
path, every header but the transport's and the random ``trace-id``, and the body byte for byte.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scoring import collector_azure
from scoring.collector import COLLECT_SUFFIX, Collector, folder_bytes

FEATURES = ("age", "sex", "bmi", "s/1")
# Headers of the HTTP client, not of the protocol (requests adds User-Agent, Accept-Encoding,
# Connection; http.client adds Host, Accept-Encoding; both Content-Length, implied by the body).
TRANSPORT = {"host", "user-agent", "accept-encoding", "connection", "content-length"}

REFERENCE_SCRIPT = """
import json, sys
import pandas as pd
from azureml.ai.monitoring import Collector
from azureml.ai.monitoring.context import BasicCorrelationContext
from azureml.ai.monitoring.init import teardown

spec = json.load(sys.stdin)
inputs = Collector(name="model_inputs")
outputs = Collector(name="model_outputs")
for request in spec["requests"]:
    context = BasicCorrelationContext(id=request["id"], timestamp=request["time"])
    context = inputs.collect(pd.DataFrame(request["rows"], columns=spec["features"]), context)
    outputs.collect(pd.DataFrame({"prediction": request["predictions"]}), context)
teardown(wait_for_flush=True)
"""


@dataclass
class Agent:
    """A stand-in for the data collector agent: records every request, answers ``status``."""

    server: ThreadingHTTPServer
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


@pytest.fixture
def agent() -> Iterator[Agent]:
    holder: list[Agent] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            record = holder[0]
            record.seen.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            reply = b"ok"
            self.send_response(record.status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(Agent(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder[0]
    server.shutdown()
    server.server_close()


def mdc_environment(tmp_path: Path, port: int, collections: dict[str, Any] | None = None) -> dict[str, str]:
    config = tmp_path / "mdc-config.json"
    wanted = collections or {"model_inputs": {"enabled": True}, "model_outputs": {"enabled": True}}
    config.write_text(json.dumps({"collections": wanted, "runMode": "cloud"}))
    return {
        "AZUREML_MDC_CONFIG_PATH": str(config),
        "AZUREML_MDC_HOST": "127.0.0.1",
        "AZUREML_MDC_PORT": str(port),
    }


def sample_requests() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Values that exercise pandas' number formatting: feature-like, rounding, large, tiny, signed."""
    rng = np.random.default_rng(7)
    edge = np.array(
        [
            [0.0380759064334241, -0.00188201652779104, 0.5, 2.0],
            [123456789.123456789, 1e17, 1e-16, -0.0],
            [0.99999999999, 0.00000000005, 0.00000000015, 1.23456789015e-5],
            [-3.25, 1e16 - 2, 7.0000000000499, 0.12345678905],
        ]
    )
    return [
        ("req-1", edge[:2], np.array([152.1234567891234, 25.0])),
        ("", edge[2:], np.array([-1.5, 1e-20])),  # no request id: the SDK makes one up
        ("req-3", rng.normal(0, 0.05, size=(5, 4)), rng.normal(150, 70, size=5)),
        ("req-4", rng.uniform(-1e6, 1e6, size=(3, 4)), rng.uniform(0, 400, size=3)),
    ]


def protocol(seen: tuple[str, str, dict[str, str], bytes]) -> tuple[str, str, dict[str, str], bytes]:
    method, path, headers, body = seen
    kept = {k: v for k, v in headers.items() if k not in TRANSPORT and k != "trace-id"}
    return method, path, kept, body


def test_the_service_sends_what_azureml_ai_monitoring_sends(
    tmp_path: Path, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = mdc_environment(tmp_path, agent.port)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    ours = Collector(
        tmp_path / "files",
        rate=1.0,
        features=FEATURES,
        model_version="7",
        max_queue=100,
        max_bytes=1 << 20,
        flush_s=0.05,
    )
    assert ours.sender is not None
    requests = sample_requests()
    for request_id, rows, predictions in requests:
        ours.offer(rows, predictions, request_id)
    stats = ours.close()
    assert (stats.requests_sent, stats.requests_dropped_send_failed) == (4, 0)
    assert not list((tmp_path / "files").glob(f"*{COLLECT_SUFFIX}"))  # sent, not written
    mine = list(agent.seen)
    agent.seen.clear()
    assert len(mine) == 8

    # The reference: the same requests, ids and seconds through azureml-ai-monitoring's Collector.
    made_up = mine[2][2]["ce-x-request-id"]  # our id for the request without one (a UUID)
    uuid.UUID(made_up)
    spec = {
        "features": list(FEATURES),
        "requests": [
            {
                "id": request_id or made_up,
                "time": int(mine[2 * i][2]["ce-time"]),
                "rows": rows.tolist(),
                "predictions": predictions.tolist(),
            }
            for i, (request_id, rows, predictions) in enumerate(requests)
        ],
    }
    subprocess.run(
        [sys.executable, "-c", REFERENCE_SCRIPT],
        input=json.dumps(spec),
        text=True,
        env={**environment, "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        timeout=120,
    )
    theirs = list(agent.seen)

    assert [protocol(s) for s in mine] == [protocol(s) for s in theirs]
    for seen in mine + theirs:
        uuid.UUID(seen[2]["trace-id"])
    assert len({s[2]["trace-id"] for s in mine}) == 8
    # What the protocol carries, spelled out (a change in both would still be seen here)
    _, path, headers, body = mine[0]
    assert path == "/modeldata/log"
    assert headers["ce-type"] == "azureml.inference.model_inputs"
    assert headers["ce-x-request-id"] == "req-1" == mine[1][2]["ce-x-request-id"]
    assert mine[1][2]["ce-type"] == "azureml.inference.model_outputs"
    assert headers["ce-agent"] == "azureml-ai-monitoring/1.0.0"
    assert json.loads(body)[0]["s/1"] == 2.0
    assert json.loads(mine[1][3]) == [{"prediction": 152.1234567891}, {"prediction": 25.0}]


def test_the_agent_failing_drops_the_batch_counted_and_scoring_goes_on(tmp_path: Path, agent: Agent) -> None:
    agent.status = 503
    config = collector_azure.MdcConfig("127.0.0.1", agent.port, frozenset({"model_inputs", "model_outputs"}))
    sender = collector_azure.MdcSender(config, FEATURES)
    c = Collector(
        tmp_path,
        rate=1.0,
        features=FEATURES,
        model_version="7",
        max_queue=100,
        max_bytes=1 << 20,
        flush_s=10.0,
        sender=sender,
    )
    for i in range(3):
        c.offer(np.ones((1, 4)), np.ones(1), f"r{i}")
    stats = c.close()
    # the first request failed: it and the two after it are dropped, one POST only
    assert (stats.requests_sent, stats.requests_dropped_send_failed) == (0, 3)
    assert len(agent.seen) == 1
    agent.status = 200
    again = Collector(
        tmp_path,
        rate=1.0,
        features=FEATURES,
        model_version="7",
        max_queue=100,
        max_bytes=1 << 20,
        flush_s=0.05,
        sender=collector_azure.MdcSender(config, FEATURES),
    )
    again.offer(np.ones((2, 4)), np.ones(2), "r9")
    assert again.close().requests_sent == 1


def test_an_agent_that_is_not_there_costs_one_timeout_per_batch(tmp_path: Path) -> None:
    with ClosedPort() as port:
        config = collector_azure.MdcConfig("127.0.0.1", port, frozenset({"model_inputs"}))
        c = Collector(
            tmp_path,
            rate=1.0,
            features=FEATURES,
            model_version="7",
            max_queue=100,
            max_bytes=1 << 20,
            flush_s=10.0,
            sender=collector_azure.MdcSender(config, FEATURES, timeout_s=0.5),
        )
        started = time.monotonic()
        for i in range(50):
            c.offer(np.ones((1, 4)), np.ones(1), f"r{i}")
        stats = c.close()
    assert time.monotonic() - started < 5
    assert (stats.requests_sent, stats.requests_dropped_send_failed) == (0, 50)


class ClosedPort:
    """A local port nothing listens on (bound, then closed)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def __exit__(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("collections", "run_mode", "expected"),
    [
        (
            {"model_inputs": {"enabled": True}, "model_outputs": {"enabled": "True"}},
            "cloud",
            {"model_inputs", "model_outputs"},
        ),
        ({"Model_Inputs": {"enabled": True}, "model_outputs": {"enabled": False}}, "cloud", {"model_inputs"}),
        (
            {"request": {"enabled": True}, "response": {"enabled": True}},
            "cloud",
            None,
        ),  # payload logging only
        ({"model_inputs": {"enabled": True}}, "local", None),  # the SDK logs locally: files here
    ],
)
def test_the_configuration_is_read_as_the_package_reads_it(
    tmp_path: Path, collections: dict[str, Any], run_mode: str, expected: set[str] | None
) -> None:
    path = tmp_path / "mdc.json"
    path.write_text(json.dumps({"collections": collections, "runMode": run_mode}))
    config = collector_azure.config_from_environment({"AZUREML_MDC_CONFIG_PATH": str(path)})
    if expected is None:
        assert config is None
    else:
        assert config == collector_azure.MdcConfig("127.0.0.1", 50011, frozenset(expected))
    assert collector_azure.config_from_environment({}) is None


def test_an_unreadable_configuration_is_named_and_the_service_collects_to_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "mdc.json"
    bad.write_text("{not json")
    with pytest.raises(collector_azure.MdcConfigError, match="AZUREML_MDC_CONFIG_PATH"):
        collector_azure.config_from_environment({"AZUREML_MDC_CONFIG_PATH": str(bad)})
    monkeypatch.setenv("AZUREML_MDC_CONFIG_PATH", str(bad))
    c = Collector(
        tmp_path / "files",
        rate=1.0,
        features=FEATURES,
        model_version="7",
        max_queue=10,
        max_bytes=1 << 20,
        flush_s=0.05,
    )
    assert c.sender is None
    c.offer(np.ones((1, 4)), np.ones(1), "r")
    assert c.close().rows_written == 1
    assert list((tmp_path / "files").glob(f"*{COLLECT_SUFFIX}"))


@pytest.mark.parametrize(
    "value",
    [
        0.0,
        -0.0,
        0.5,
        2.5,
        1.05,
        0.00000000005,
        0.00000000015,
        0.99999999996,
        1e16 - 1,
        1e16,
        1e-15,
        9e-16,
        -123.456,
        3.14159265358979,
        1e300,
        -1e-300,
        7.0000000000499,
        float("nan"),
        float("inf"),
    ],
)
def test_numbers_are_written_as_pandas_writes_them(value: float) -> None:
    pandas = pytest.importorskip("pandas")
    expected = pandas.DataFrame({"x": [value]}).to_json(orient="records")
    assert collector_azure.records_json(["x"], np.array([[value]])).decode() == expected
    assert (
        math.isnan(value)
        or math.isinf(value)
        or json.loads(expected)[0]["x"] == pytest.approx(value, abs=1e-10)
    )


def test_unfinished_partial_files_are_cleaned_at_start_and_counted(tmp_path: Path) -> None:
    stale = tmp_path / "20260101T000000-1-aaaaaa-000001.partial"
    stale.write_bytes(b"x" * 1000)
    old = time.time() - 3600
    import os

    os.utime(stale, (old, old))
    live = tmp_path / "20260101T000000-2-bbbbbb-000001.partial"
    live.write_bytes(b"y" * 700)  # another process writing right now: kept, counted
    complete = tmp_path / f"20260101T000000-2-bbbbbb-000000{COLLECT_SUFFIX}"
    complete.write_bytes(b"z" * 300)
    c = Collector(
        tmp_path,
        rate=1.0,
        features=FEATURES,
        model_version="7",
        max_queue=10,
        max_bytes=1500,
        flush_s=0.05,
        sender=None,
    )
    assert not stale.exists() and live.exists() and complete.exists()
    assert folder_bytes(tmp_path) == 1000
    c.offer(np.ones((50, 4)), np.ones(50), "r")  # a file over the 500 bytes left: dropped, counted
    stats = c.close()
    assert (stats.rows_written, stats.rows_dropped_disk_full) == (0, 50)


def test_many_numbers_of_every_magnitude_are_written_as_pandas_writes_them() -> None:
    pandas = pytest.importorskip("pandas")
    rng = np.random.default_rng(11)
    values = rng.normal(size=(400, 5)) * 10.0 ** rng.integers(-17, 18, size=(400, 5))
    values[::7, 1] = np.round(values[::7, 1], 3)  # short decimals and exact halves
    values[::11, 2] = rng.integers(-5, 5, size=values[::11, 2].shape) + 0.5
    columns = ["a", "b", "c", "d", "e"]
    expected = pandas.DataFrame(values, columns=columns).to_json(orient="records")
    assert collector_azure.records_json(columns, values).decode() == expected
