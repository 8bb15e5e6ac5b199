"""End to end: traffic → monitor (no drift) → shifted traffic → monitor (drift, plots) → retrain.

The loop a person runs from the README, with real processes: the lifecycle serves v1 (whose
endpoint collects every request), `mlops traffic` sends the held-out rows, `mlops monitor` finds
no drift and reports the live error from the labels; shifted rows then drift, and `--retrain`
runs the lifecycle, whose gate decides (the same data: "not better", v1 keeps serving).
"""

import json
from pathlib import Path

import httpx
import pytest

from model.params import DEFAULT_PARAMS

pytestmark = pytest.mark.slow


def test_traffic_monitor_drift_retrain(mlops, tmp_path: Path):
    served = mlops("run", "--env", "local", "--latency-budget-ms", "1000")
    assert served.code == 0, served.err
    labels = tmp_path / "labels.csv"

    sent = mlops("traffic", "--env", "local", "--labels-out", str(labels))
    assert sent.code == 0, sent.err
    assert "sent 89 rows in 9 requests" in sent.out  # the 20 % held out of 442 rows, 10 per request
    calm_file = tmp_path / "calm.json"
    calm = mlops("monitor", "--env", "local", "--labels", str(labels), "--summary-file", str(calm_file))
    assert calm.code == 0, calm.err + calm.out
    summary = json.loads(calm_file.read_text())
    # The deploy's smoke test (5 sample rows) is traffic the endpoint collected too.
    assert not summary["drift"] and summary["window"]["rows"] == 5 + 89
    performance = summary["performance"]
    assert performance["labelled_rows"] == 89
    assert performance["rmse"] == pytest.approx(served.summary["challenger"]["rmse"], rel=1e-6)

    shifted = mlops("traffic", "--env", "local", "--shift", "bmi=+8")
    assert shifted.code == 0, shifted.err
    drift_file = tmp_path / "drift.json"
    # A generous latency budget, as in test_lifecycle_e2e: a loaded machine must not turn the
    # gate's "not better" into "too slow".
    params = tmp_path / "usecase.yaml"
    params.write_text(
        DEFAULT_PARAMS.read_text().replace("latency_budget_ms: 10.0", "latency_budget_ms: 1000")
    )
    retrain = ("--retrain", "--params", str(params), "--summary-file", str(drift_file))
    retrained = mlops("monitor", "--env", "local", *retrain)
    assert retrained.code == 0, retrained.err + retrained.out
    drifted = json.loads(drift_file.read_text())
    assert drifted["drift"] and drifted["drifted"] == ["bmi"] and drifted["window"]["rows"] == 5 + 2 * 89
    reports = sorted((mlops.state / "monitor").iterdir())
    assert len(reports) == 2
    assert (reports[-1] / "plots" / "bmi.png").read_bytes().startswith(b"\x89PNG")
    assert "DRIFT: bmi" in (reports[-1] / "index.html").read_text()
    assert "retraining" in retrained.out
    assert "not better" in retrained.out, retrained.out
    assert mlops.registry() == (["1"], "1")
    assert httpx.get(f"{served.summary['endpoint_url']}/metadata").json()["version"] == "1"  # still serving
