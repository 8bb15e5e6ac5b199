"""The local endpoint with real processes: deploy, score, redeploy, failed redeploy, stop."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.local import endpoint as local_endpoint
from pipelines.local.endpoint import DeployError, EndpointRecord
from pipelines.smoke import SmokeTestError, smoke_test


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "state"
    yield folder
    local_endpoint.stop(folder)  # never leave a server behind, whatever failed


def score(record: EndpointRecord, rows: list[list[float]], key: str | None = None) -> Any:
    headers = {} if key is None else {"authorization": f"Bearer {key}"}
    response = httpx.post(record.score_url, json={"data": rows}, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def record_for(pid: int, **overrides: Any) -> EndpointRecord:
    values: dict[str, Any] = {
        "pid": pid,
        "port": 1,
        "url": "http://127.0.0.1:1",
        "model_name": "m",
        "model_version": "1",
        "model_dir": "/nowhere",
        "started_at": "2025-01-01T00:00:00+00:00",
        "log_file": "/nowhere.log",
        "auth": False,
        "process_start": local_endpoint._process_start(pid),
    }
    return EndpointRecord(**{**values, **overrides})


# --- records without servers ------------------------------------------------------------------


def test_no_record_means_no_endpoint(tmp_path: Path) -> None:
    assert local_endpoint.status(tmp_path) is None
    assert local_endpoint.stop(tmp_path) is False


def test_record_of_a_dead_process_is_stale_and_stop_removes_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead = record_for(int(done.stdout))
    (tmp_path / local_endpoint.RECORD_FILE).write_text(dead.to_json())
    assert local_endpoint.status(tmp_path) is None
    assert local_endpoint.stop(tmp_path) is False
    assert not (tmp_path / local_endpoint.RECORD_FILE).exists()


def test_a_reused_pid_is_not_our_process(tmp_path: Path) -> None:
    # Our own pid is alive, but it started at another time than the record says: not ours,
    # and stop() must not signal it (if it did, this test process would die).
    start = local_endpoint._process_start(os.getpid())
    if start is None:
        pytest.skip("needs /proc")
    reused = record_for(os.getpid(), process_start=start + 1)
    (tmp_path / local_endpoint.RECORD_FILE).write_text(reused.to_json())
    assert local_endpoint.status(tmp_path) is None
    assert local_endpoint.stop(tmp_path) is False


def test_a_damaged_record_is_ignored(tmp_path: Path) -> None:
    (tmp_path / local_endpoint.RECORD_FILE).write_text("{not json")
    assert local_endpoint.status(tmp_path) is None


# --- the lifecycle with real processes --------------------------------------------------------


@pytest.mark.slow
def test_deploy_redeploy_failed_redeploy_and_stop(
    state_dir: Path,
    model_dir: Path,
    model_dir_b: Path,
    build_model: Any,
    predictions: Any,
    rows: list[list[float]],
    tmp_path: Path,
) -> None:
    # 1. First deploy: ready, recorded, scoring model A.
    first = local_endpoint.deploy(model_dir, name="my-model", version="1", state_dir=state_dir)
    assert local_endpoint.status(state_dir) == first
    assert first.url.startswith("http://127.0.0.1:")
    on_disk = EndpointRecord.from_json((state_dir / local_endpoint.RECORD_FILE).read_text())
    assert (on_disk.pid, on_disk.port, on_disk.model_version) == (first.pid, first.port, "1")
    assert score(first, rows) == pytest.approx(predictions(model_dir, rows), rel=1e-12)

    # 2. Redeploy model B: the old process serves until the new one is ready.
    checks: list[int] = []

    def old_still_serves(_: str) -> None:
        assert local_endpoint.is_running(first)
        assert httpx.get(f"{first.url}/health/ready", timeout=5).status_code == 200
        checks.append(1)

    second = local_endpoint.deploy(
        model_dir_b,
        name="my-model",
        version="2",
        state_dir=state_dir,
        api_key="local-key",
        progress=old_still_serves,
    )
    assert checks, "the new process was never waited for"
    assert not local_endpoint.is_running(first)
    assert local_endpoint.status(state_dir) == second
    assert second.port != first.port
    assert score(second, rows, key="local-key") == pytest.approx(predictions(model_dir_b, rows), rel=1e-12)
    meta = httpx.get(
        f"{second.url}/metadata", headers={"authorization": "Bearer local-key"}, timeout=5
    ).json()
    assert (meta["version"], meta["name"]) == ("2", "my-model")

    # 3. The smoke test against the live process: passes with B's predictions and the key,
    #    fails at once on a mismatch (A's predictions) and on a missing key (401).
    passed = smoke_test(second.score_url, rows, predictions(model_dir_b, rows), api_key="local-key")
    assert passed.rows == len(rows)
    with pytest.raises(SmokeTestError, match=r"row 0 expected .*, got "):
        smoke_test(second.score_url, rows, predictions(model_dir, rows), api_key="local-key")
    with pytest.raises(SmokeTestError, match="HTTP 401"):
        smoke_test(second.score_url, rows, predictions(model_dir_b, rows))

    # 4. A failed redeploy (model from another scikit-learn) leaves v2 serving, and says why.
    broken = build_model(tmp_path / "broken", sklearn_version="0.0.1")
    with pytest.raises(DeployError) as failure:
        local_endpoint.deploy(broken, name="my-model", version="3", state_dir=state_dir)
    message = str(failure.value)
    assert "exited before it was ready" in message
    assert "trained with scikit-learn 0.0.1" in message  # the tail of the new process's log
    assert "still serves" in message
    assert local_endpoint.status(state_dir) == second
    assert score(second, rows, key="local-key") == pytest.approx(predictions(model_dir_b, rows), rel=1e-12)

    # 5. Stop: the process ends, the record goes; stopping again is a no-op.
    assert local_endpoint.stop(state_dir) is True
    assert not local_endpoint.is_running(second)
    assert local_endpoint.status(state_dir) is None
    assert local_endpoint.stop(state_dir) is False
    assert "ready" in Path(second.log_file).read_text()


@pytest.mark.slow
def test_fixed_port_held_by_the_running_endpoint_is_refused(state_dir: Path, model_dir: Path) -> None:
    first = local_endpoint.deploy(model_dir, name="m", version="1", state_dir=state_dir)
    with pytest.raises(DeployError, match=f"port {first.port} is held"):
        local_endpoint.deploy(model_dir, name="m", version="2", state_dir=state_dir, port=first.port)
    assert local_endpoint.status(state_dir) == first
