"""After the pipeline: converge the local endpoint on production, smoke-test it, report problems.

The registry and the endpoint are stand-ins here; tests/pipelines/local/test_lifecycle_e2e.py runs
the whole lifecycle for real.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from rich.console import Console
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.local import deploy as local_deploy
from pipelines.local import lifecycle
from pipelines.local.endpoint import DeployError, EndpointRecord
from pipelines.local.lifecycle import RunSummary, serve
from pipelines.local.registry import LocalRegistry, ModelVersion
from pipelines.local.state import StatePaths
from pipelines.smoke import SmokeResult, SmokeTestError
from tests.model_folders import MODEL_NAME

NAME = MODEL_NAME


def summary(**changes: Any) -> RunSummary:
    values: dict[str, Any] = {
        "run_dir": Path("/runs/1"),
        "mlflow_run_id": "run-1",
        "model_name": NAME,
        "registered": True,
        "version": "3",
        "reason": "better: rmse 50 vs 51",
        "challenger": {"rmse": 50.0, "mae": 40.0, "r2": 0.5, "latency_p99_ms": 0.4},
        "champion": {"rmse": 51.0, "mae": 41.0, "r2": 0.49, "latency_p99_ms": 0.4},
        "champion_version": "2",
    }
    return RunSummary(**{**values, **changes})


def record(version: str, port: int = 5001) -> EndpointRecord:
    return EndpointRecord(
        pid=1,
        port=port,
        url=f"http://127.0.0.1:{port}",
        model_name=NAME,
        model_version=version,
        model_dir=f"/state/models/{NAME}/{version}",
        started_at="2025-01-01T00:00:00+00:00",
        log_file="/state/endpoint/logs/scoring.log",
        auth=False,
    )


class Endpoint:
    """Stand-ins for pipelines.local.deploy: what runs, what deploy and smoke were asked."""

    def __init__(self, mocker: Any, running: EndpointRecord | None, production: str | None) -> None:
        self.registry = mocker.create_autospec(LocalRegistry, instance=True)
        self.registry.production_version.return_value = production
        self.running = mocker.patch.object(local_deploy, "running", return_value=running)
        self.deploy = mocker.patch.object(
            local_deploy,
            "deploy",
            side_effect=lambda registry, name, version, progress: record(version, 6000),
        )
        self.smoke = mocker.patch.object(
            local_deploy,
            "smoke",
            return_value=SmokeResult(
                "http://x/score", rows=5, attempts=1, max_abs_error=1e-12, elapsed_s=0.1
            ),
        )
        self.screen = io.StringIO()

    def serve(self, run: RunSummary) -> RunSummary:
        serve(self.registry, run, Console(file=self.screen, width=200))
        return run

    def deployed(self) -> list[str]:
        return [call.args[2] for call in self.deploy.call_args_list]


def test_a_new_registration_is_deployed_and_smoke_tested(mocker: Any) -> None:
    endpoint = Endpoint(mocker, running=record("2"), production="2")
    run = endpoint.serve(summary())
    assert endpoint.deployed() == ["3"]
    endpoint.smoke.assert_called_once_with(record("3", 6000))
    assert (run.endpoint_url, run.serving_version) == ("http://127.0.0.1:6000", "3")
    assert run.smoke_test is not None and run.smoke_test.startswith("passed: 5 rows")
    assert run.problem is None and {"deploy", "smoke test"} <= set(run.seconds)


@pytest.mark.parametrize("running", [None, record("2")], ids=["first-deploy", "redeploy"])
def test_a_failed_deploy_keeps_the_registration_says_why_and_skips_the_smoke_test(
    mocker: Any, running: EndpointRecord | None
) -> None:
    endpoint = Endpoint(mocker, running=running, production=None if running is None else "2")
    endpoint.deploy.side_effect = DeployError(
        "the scoring process exited before it was ready: SCORING_MAX_ROWS must be at least 1"
    )
    run = endpoint.serve(summary())
    assert run.problem == (
        "deploy of v3 failed: the scoring process exited before it was ready: "
        "SCORING_MAX_ROWS must be at least 1"
    )
    assert (run.registered, run.version) == (True, "3")
    assert run.endpoint_url is None and run.serving_version is None and run.smoke_test is None
    endpoint.smoke.assert_not_called()
    assert "deploy v3 failed" in endpoint.screen.getvalue()


def test_not_better_keeps_the_endpoint_that_serves_production(mocker: Any) -> None:
    endpoint = Endpoint(mocker, running=record("2"), production="2")
    run = endpoint.serve(summary(registered=False, version=None, reason="not better"))
    assert endpoint.deployed() == []
    endpoint.smoke.assert_called_once_with(record("2"))
    assert (run.endpoint_url, run.serving_version) == ("http://127.0.0.1:5001", "2")


@pytest.mark.parametrize("running", [None, record("1")], ids=["stopped", "serving-an-older-version"])
def test_production_is_served_again_when_the_endpoint_does_not_serve_it(
    mocker: Any, running: EndpointRecord | None
) -> None:
    endpoint = Endpoint(mocker, running=running, production="2")
    run = endpoint.serve(summary(registered=False, version=None))
    assert endpoint.deployed() == ["2"]
    assert run.serving_version == "2"


def test_nothing_in_production_means_no_endpoint(mocker: Any) -> None:
    endpoint = Endpoint(mocker, running=None, production=None)
    run = endpoint.serve(summary(registered=False, version=None))
    assert endpoint.deployed() == []
    endpoint.smoke.assert_not_called()
    assert run.endpoint_url is None and run.problem is None
    assert "no endpoint" in endpoint.screen.getvalue()


def test_a_failed_smoke_test_is_the_runs_problem(mocker: Any) -> None:
    endpoint = Endpoint(mocker, running=None, production=None)
    endpoint.smoke.side_effect = SmokeTestError("row 0 expected 151.0, got 3.0")
    run = endpoint.serve(summary())
    assert run.smoke_test == "failed"
    assert run.problem == (
        "smoke test of v3 at http://127.0.0.1:6000/score failed: row 0 expected 151.0, got 3.0"
    )
    assert run.endpoint_url == "http://127.0.0.1:6000"


# --- deploy: production moves only once the new version serves -------------------------------


def test_deploy_marks_production_only_after_the_endpoint_is_ready(mocker: Any, tmp_path: Path) -> None:
    registry = mocker.create_autospec(LocalRegistry, instance=True)
    registry.state = StatePaths(tmp_path)
    registry.get.return_value = ModelVersion(NAME, "3", tmp_path / "3", {})
    start = mocker.patch.object(local_deploy.local_endpoint, "deploy", side_effect=DeployError("not ready"))
    with pytest.raises(DeployError):
        local_deploy.deploy(registry, NAME, "3")
    registry.set_production.assert_not_called()
    start.side_effect, start.return_value = None, record("3")
    assert local_deploy.deploy(registry, NAME, "3") == record("3")
    registry.set_production.assert_called_once_with(NAME, "3")
    assert start.call_args.args[0] == tmp_path / "3"
    assert start.call_args.kwargs["state_dir"] == tmp_path / "endpoint"


# --- the command: a problem after the run is exit 1, after the summary --------------------------


def test_mlops_run_with_a_problem_prints_the_summary_writes_it_and_exits_1(tmp_path: Path) -> None:
    problem = "deploy of v3 failed: SCORING_MAX_ROWS must be at least 1"
    out = tmp_path / "summary.json"
    with mock.patch.object(lifecycle, "run_local", return_value=summary(problem=problem)):
        result = CliRunner().invoke(app, ["run", "--env", "local", "--summary-file", str(out)])
    assert result.exit_code == 1
    assert result.output.index("decision") < result.output.index(f"error: {problem}")
    written = json.loads(out.read_text())
    assert (written["registered"], written["version"], written["problem"]) == (True, "3", problem)


class _Registry:
    def __init__(self, production: str | None, versions: list[str]) -> None:
        self.production, self.registered = production, versions

    def production_version(self, name: str) -> str | None:
        return self.production

    def versions(self, name: str) -> list[str]:
        return self.registered


@pytest.mark.parametrize(
    ("production", "versions", "champion"),
    [("1", ["1", "2"], "1"), (None, ["1", "2"], "2"), (None, [], None)],
)
def test_the_champion_is_production_else_the_newest_registered_version(production, versions, champion):
    from pipelines.local.lifecycle import champion_version

    assert champion_version(_Registry(production, versions), "m") == champion  # type: ignore[arg-type]
