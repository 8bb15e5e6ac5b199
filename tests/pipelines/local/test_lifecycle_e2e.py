"""End to end: `mlops run --env local` registers, gates, deploys and smoke-tests for real.

Each run costs seconds (a fresh `mlops` process loads scikit-learn, pandas and MLflow): the
details of each part have unit tests next to this file (test_processes, test_runner,
test_registry, test_lifecycle); these tests prove that the parts make the lifecycle.
"""

from pathlib import Path

import httpx
import pytest

from model.params import DEFAULT_PARAMS, load_params

DATA = load_params(DEFAULT_PARAMS).data_path

pytestmark = pytest.mark.slow


def test_lifecycle_registers_gates_deploys_and_smoke_tests(mlops, tmp_path: Path):
    # A generous latency budget in every run: these tests are about the metric gate, and a loaded
    # CI machine must not turn "better" into "too slow" (the latency rule has its own unit tests).
    first = mlops("run", "--env", "local", "--latency-budget-ms", "1000")
    assert first.code == 0, first.err
    assert first.summary["registered"] and first.summary["version"] == "1"
    assert first.summary["serving_version"] == "1"
    assert first.summary["smoke_test"].startswith("passed")
    assert set(first.summary["seconds"]) >= {"validate_data", "train", "evaluate", "register", "deploy"}
    url = first.summary["endpoint_url"]
    assert httpx.get(f"{url}/health/ready").status_code == 200

    # "Not better" with a deployed champion: the retrain of test_monitor_e2e (same data, v1 keeps
    # serving) and test_usecases_e2e (without deploys) run it end to end.
    better = mlops("run", "--env", "local", "--alpha", "100", "--latency-budget-ms", "1000")
    assert better.code == 0, better.err
    assert better.summary["registered"] and better.summary["version"] == "2", better.summary["reason"]
    assert better.summary["serving_version"] == "2"
    assert better.summary["challenger"]["rmse"] < better.summary["champion"]["rmse"]
    # v2 is the champion the next run compares with, and what the endpoint serves.
    assert mlops.registry() == (["1", "2"], "2")
    assert httpx.get(f"{better.summary['endpoint_url']}/metadata").json()["version"] == "2"


def test_corrupted_csv_is_rejected_with_its_message_and_registers_nothing(mlops, tmp_path: Path):
    lines = DATA.read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[2], "not-a-number", 1)
    lines[9] = ",".join(["" if i == 3 else v for i, v in enumerate(lines[9].split(","))])
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = mlops("run", "--env", "local", "--data", str(bad), "--no-deploy")
    assert result.code == 1
    assert "step validate_data failed" in result.err
    assert "column 'bmi' breaks rule 'must be numeric'" in result.err
    assert "column 'bp' breaks rule 'no missing values'" in result.err
    assert result.summary is None
    assert mlops.versions() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alpha", "-1"], "invalid 'estimator.params': Ridge: The 'alpha' parameter of Ridge must be"),
        (["--test-size", "2"], "invalid 'train.test_size'"),
        (["--data", "missing.csv"], "data file not found: missing.csv"),
        (["--env", "staging"], "'staging' is not one of"),
    ],
)
def test_bad_options_fail_fast_with_one_clear_line(mlops, args, message):
    result = mlops("run", *args)
    assert result.code == 2
    assert message in " ".join(result.err.split())
    assert not mlops.state.joinpath("mlflow").exists()


def test_two_runs_at_once_keep_every_version(mlops):
    args = ("run", "--env", "local", "--no-deploy", "--latency-budget-ms", "1000")
    runs = [mlops.spawn(*args) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert mlops.versions() == ["1", "2"], outputs
    registered = sorted(line for out, _ in outputs for line in out.splitlines() if "registered v" in line)
    assert len(registered) == 2
