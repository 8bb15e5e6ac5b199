"""The training environment for real: environments/train-conda.yaml installed, the steps run in it.

The first run installs the pip section into ``.cache/train-env/`` (about a minute, needs the
package index), later runs reuse it. Run these alone with ``make test-train-env``.
"""

from __future__ import annotations

import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from model.outputs import REPORT_FILE, RESULT_FILE
from model.params import load_params
from pipelines.specs import load_pipeline, render_command, resolve_inputs
from tests.environments import train_env

pytestmark = pytest.mark.train_env

AZUREML_REPOSITORY = "azureml.mlflow._store.artifact.artifact_repo.AzureMLflowArtifactRepository"


def _installed(venv: Path) -> dict[str, metadata.Distribution]:
    (site,) = venv.glob("lib/python3.*/site-packages")
    return {d.metadata["Name"].lower(): d for d in metadata.distributions(path=[str(site)])}


def test_the_azureml_plugin_installed_is_the_pinned_one_and_admits_the_pinned_mlflow(train_venv: Path):
    pins = {r.name.lower(): str(r.specifier) for r in map(Requirement, train_env.read_spec().requirements)}
    installed = _installed(train_venv)
    plugin, mlflow = installed["azureml-mlflow"], installed["mlflow"]
    # Unpinned, the resolver quietly backtracks to the newest plugin that admits the mlflow pin.
    pin = pins.get("azureml-mlflow")
    assert pin == f"=={plugin.version}", (
        f"train-conda.yaml: azureml-mlflow {pin!r} resolved to {plugin.version}"
    )
    assert pins["mlflow"] == f"=={mlflow.version}"
    skinny = next(r for r in map(Requirement, plugin.requires or []) if r.name == "mlflow-skinny")
    assert skinny.specifier.contains(mlflow.version), (
        f"azureml-mlflow {plugin.version} requires {skinny}, not mlflow {mlflow.version}"
    )
    assert installed["mlflow-skinny"].version == mlflow.version


def test_every_step_module_imports_from_what_azure_ml_uploads(probe: dict[str, Any]):
    assert sorted(probe["modules"]) == [
        "model.evaluate",
        "model.register",
        "model.train",
        "model.validate_data",
    ]
    assert all(result == "ok" for result in probe["modules"].values()), probe["modules"]


def test_the_azureml_mlflow_plugins_load(probe: dict[str, Any]):
    assert "mlflow.artifact_repository:azureml" in probe["entry_points"]
    assert all(result == "ok" for result in probe["entry_points"].values()), probe["entry_points"]


def test_mlflow_builds_the_azureml_artifact_repository_for_a_run(probe: dict[str, Any]):
    # mlflow >= 3.1.2 passes tracking_uri; azureml-mlflow <= 1.60.0.post1 raised TypeError here
    assert probe["artifact_repository"] == {"class": AZUREML_REPOSITORY, "client": "RunArtifactsClient"}


@pytest.mark.slow
def test_the_pipeline_runs_in_the_training_environment(train_venv: Path, tmp_path: Path):
    """Each step as its component's command, with the venv's Python, logging to a local MLflow store.

    As on Azure ML, a step runs in the code snapshot (where MLflow puts a local store's artifacts).
    """
    code_dir = tmp_path / "code"
    train_env.code_snapshot(code_dir)
    # A file store: no database to create (seconds per run); MLflow 3 asks for the opt-in.
    mlruns = tmp_path / "mlruns"
    env = train_env.step_env(
        code_dir, MLFLOW_TRACKING_URI=mlruns.as_uri(), MLFLOW_ALLOW_FILE_STORE="true", MLOPS_GIT_COMMIT="test"
    )
    inputs, jobs = load_pipeline()
    usecase = load_params()
    inputs.update(data=str(usecase.data_path), model_name=usecase.model_name)  # as both runners do
    outputs: dict[str, dict[str, Path]] = {}
    for job in jobs:
        outputs[job.name] = {key: tmp_path / job.name / key for key in job.component.outputs}
        for folder in outputs[job.name].values():
            folder.mkdir(parents=True)  # Azure ML creates the output folders too
        # A generous latency budget: a loaded machine must not turn "first model" into "too slow".
        extra = {"latency_budget_ms": 1000.0} if job.name == "evaluate" else {}
        argv = render_command(job.component, resolve_inputs(job, inputs, outputs, extra), outputs[job.name])
        assert argv[0] == "python", argv
        argv[0] = str(train_env.venv_python(train_venv))
        result = subprocess.run(
            argv, cwd=code_dir, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert result.returncode == 0, f"{job.name}: {result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    report = json.loads((outputs["evaluate"]["report"] / REPORT_FILE).read_text())
    registered = json.loads((outputs["register"]["registered"] / RESULT_FILE).read_text())
    assert report["decision"]["register"] and registered["registered"], registered
    assert registered["version"] == "1"
    logged = {p.parts[-2:] for p in mlruns.rglob("*") if p.is_file()}
    assert ("model", "estimator.joblib") in logged and any(d == "plots" for d, _ in logged)
