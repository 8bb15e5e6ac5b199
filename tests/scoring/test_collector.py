"""Production data collection: sampled, bounded, written off the event loop, dropped with a counter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scoring import collector as collector_module
from scoring.collector import COLLECT_SUFFIX, Collector
from scoring.settings import Settings, SettingsError

FEATURES = ("a", "b")


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """Every collected row as a dict (what a person gets from ``numpy.load``)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob(f"*{COLLECT_SUFFIX}")):
        with np.load(path) as f:
            names = [str(n) for n in f["feature_names"]]
            features, predictions = f["features"].tolist(), f["prediction"].tolist()
            at = 0
            for when, request_id, count in zip(f["time"], f["request_id"], f["rows"], strict=True):
                for i in range(int(count)):
                    row = {"time": when.item(), "request_id": request_id.decode(), "row": i}
                    row |= dict(zip(names, features[at], strict=True)) | {"prediction": predictions[at]}
                    rows.append(row | {"model_version": str(f["model_version"])})
                    at += 1
            assert at == len(predictions)
    return rows


def collector(folder: Path, **options: Any) -> Collector:
    settings = {"rate": 1.0, "features": FEATURES, "model_version": "3", "max_queue": 100}
    settings |= {"max_bytes": 1 << 20, "flush_s": 0.05, **options}
    return Collector(folder, **settings)


def test_every_row_and_prediction_is_written_with_its_request(tmp_path: Path) -> None:
    c = collector(tmp_path)
    c.offer(np.array([[1.5, 2.0], [3.0, 4.25]]), np.array([10.0, 20.5]), "req-1")
    c.offer(np.array([[5.0, 6.0]]), np.array([30.0]), 'odd,"id"')
    stats = c.close()
    rows = read_rows(tmp_path)
    assert [(r["request_id"], r["row"], r["a"], r["b"], r["prediction"]) for r in rows] == [
        ("req-1", 0, 1.5, 2.0, 10.0),
        ("req-1", 1, 3.0, 4.25, 20.5),
        ('odd,"id"', 0, 5.0, 6.0, 30.0),
    ]
    assert {r["model_version"] for r in rows} == {"3"}
    assert all(
        abs(r["time"] - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=1) for r in rows
    )
    assert (stats.requests, stats.rows_written, stats.dropped_queue_full) == (2, 3, 0)
    assert not list(tmp_path.glob("*.partial"))


def test_the_rate_keeps_that_share_of_requests(tmp_path: Path) -> None:
    draws = iter([0.1, 0.9, 0.2, 0.7])  # kept when below the rate
    c = collector(tmp_path, rate=0.5, draw=lambda: next(draws))
    for i in range(4):
        c.offer(np.array([[float(i), 0.0]]), np.array([float(i)]), f"r{i}")
    c.close()
    assert [r["request_id"] for r in read_rows(tmp_path)] == ["r0", "r2"]


def test_a_full_queue_drops_and_counts_instead_of_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector_module, "_TICK_S", 60.0)  # the writer looks only when closed
    c = collector(tmp_path, max_queue=2)
    one = (np.array([[1.0, 2.0]]), np.array([3.0]))
    for request_id in ("first", "second", "dropped"):
        c.offer(*one, request_id)  # never waits: the third is counted and dropped
    stats = c.close()
    assert (stats.requests, stats.dropped_queue_full) == (2, 1)
    assert [r["request_id"] for r in read_rows(tmp_path)] == ["first", "second"]


def test_a_full_folder_keeps_its_files_and_counts_the_rows_dropped(tmp_path: Path) -> None:
    first = collector(tmp_path, flush_rows=1)
    first.offer(np.array([[1.0, 2.0]]), np.array([3.0]), "kept")
    first.close()
    size = sum(p.stat().st_size for p in tmp_path.iterdir())
    second = collector(tmp_path, max_bytes=size + 10, flush_rows=1)  # room for no more batches
    second.offer(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([3.0, 4.0]), "dropped")
    stats = second.close()
    assert stats.rows_dropped_disk_full == 2
    assert [r["request_id"] for r in read_rows(tmp_path)] == ["kept"]


def test_the_service_collects_what_it_answered(
    make_client: Callable[..., Any], tmp_path: Path, rows: list[list[float]]
) -> None:
    folder = tmp_path / "collected"
    with make_client(collect_rate=1.0, collect_dir=folder, collect_flush_s=0.05) as client:
        response = client.post("/score", json={"data": rows[:2]})
        assert response.status_code == 200
        refused = client.post("/score", json={"data": [[1.0]]})
        assert refused.status_code == 422
    collected = read_rows(folder)  # the lifespan's end wrote what was queued
    assert [r["request_id"] for r in collected] == [response.headers["x-request-id"]] * 2
    assert [r["prediction"] for r in collected] == response.json()["result"]
    assert [[r[f] for f in ("age", "sex")] for r in collected] == [row[:2] for row in rows[:2]]


def test_an_unusable_folder_leaves_the_service_scoring(
    make_client: Callable[..., Any], tmp_path: Path, rows: list[list[float]]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with make_client(collect_rate=1.0, collect_dir=blocker / "sub") as client:
        assert client.post("/score", json={"data": rows[:1]}).status_code == 200


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({"SCORING_COLLECT_RATE": "often"}, "SCORING_COLLECT_RATE must be a number from 0 (off) to 1"),
        ({"SCORING_COLLECT_RATE": "1.5", "SCORING_COLLECT_DIR": "/c"}, "SCORING_COLLECT_RATE must be"),
        ({"SCORING_COLLECT_RATE": "nan", "SCORING_COLLECT_DIR": "/c"}, "SCORING_COLLECT_RATE must be"),
        ({"SCORING_COLLECT_RATE": "0.1"}, "SCORING_COLLECT_DIR is not set"),
        ({"SCORING_COLLECT_QUEUE": "0"}, "SCORING_COLLECT_QUEUE must be at least 1"),
        ({"SCORING_COLLECT_MAX_MB": "0"}, "SCORING_COLLECT_MAX_MB must be at least 1"),
        ({"SCORING_COLLECT_FLUSH_S": "0"}, "SCORING_COLLECT_FLUSH_S must be a number of seconds"),
    ],
)
def test_bad_collection_settings_name_the_variable(env: dict[str, str], phrase: str) -> None:
    with pytest.raises(SettingsError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({"AZUREML_MODEL_DIR": "/m", **env})


def test_collection_is_off_by_default_and_read_from_the_environment() -> None:
    assert not Settings.from_env({"AZUREML_MODEL_DIR": "/m"}).collecting
    s = Settings.from_env(
        {"AZUREML_MODEL_DIR": "/m", "SCORING_COLLECT_RATE": "0.25", "SCORING_COLLECT_DIR": "/c"}
    )
    assert (s.collecting, s.collect_rate, s.collect_dir) == (True, 0.25, Path("/c"))
