"""End to end with other use cases: a regression and a classification on generated data, each
run through the local lifecycle by changing the use-case file alone (MLOPS_USECASE)."""

from pathlib import Path

import httpx
import pytest

from tests import usecases
from tests.pipelines.local.mlops_runner import Mlops

pytestmark = pytest.mark.slow


def test_a_classification_trains_gates_deploys_and_serves_probabilities(mlops: Mlops, tmp_path: Path):
    mlops.env["MLOPS_USECASE"] = str(usecases.classification(tmp_path / "usecase"))
    first = mlops("run", "--env", "local")
    assert first.code == 0, first.err
    summary = first.summary
    assert summary["registered"] and summary["model_name"] == "churn-classifier"
    assert set(summary["challenger"]) == {"accuracy", "f1", "roc_auc", "log_loss", "latency_p99_ms"}
    assert summary["challenger"]["accuracy"] > 0.7
    assert "roc_auc" in first.out and "rmse" not in first.out
    assert summary["smoke_test"].startswith("passed")
    plots = {p.name for p in Path(summary["run_dir"]).glob("evaluate/report/*.png")}
    assert plots == {"confusion_matrix.png", "roc_curve.png"}
    url = summary["endpoint_url"]
    answer = httpx.post(f"{url}/score", json={"data": [[0.1, -0.2, 0.3, 1.0]]}).json()
    assert answer["result"][0] in (0.0, 1.0)
    assert len(answer["probabilities"][0]) == 2 and sum(answer["probabilities"][0]) == pytest.approx(1)
    assert httpx.get(f"{url}/metadata").json()["classes"] == [0.0, 1.0]

    refused = mlops("run", "--env", "local", "--set", "estimator.alpha=1")
    assert refused.code == 2
    assert "invalid 'estimator.alpha': DecisionTreeClassifier has no parameter 'alpha'" in refused.err


def test_a_regression_without_deploys_keeps_its_champion_and_refuses_a_foreign_one(
    mlops: Mlops, tmp_path: Path
):
    mlops.env["MLOPS_USECASE"] = str(usecases.regression(tmp_path / "usecase"))
    first = mlops("run", "--env", "local", "--no-deploy")
    assert first.code == 0, first.err
    assert first.summary["registered"] and first.summary["challenger"]["r2"] > 0.9

    # Nothing is served, and the registered version is still the champion: the same model is not better.
    again = mlops("run", "--env", "local", "--no-deploy")
    assert again.code == 0, again.err
    assert again.summary["champion_version"] == "1"
    assert again.summary["reason"].startswith("not better")

    # Another use case under the same model_name: one line naming it and the way out.
    mlops.env["MLOPS_USECASE"] = str(usecases.classification(tmp_path / "other", name="demand-regressor"))
    foreign = mlops("run", "--env", "local", "--no-deploy")
    assert foreign.code == 1
    assert "the champion of model_name 'demand-regressor' was trained for another use case" in foreign.err
    assert "make clean" in foreign.err and "Traceback" not in foreign.err
