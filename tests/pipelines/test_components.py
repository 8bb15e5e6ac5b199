"""The component specs: valid for Azure ML's SDK, the same steps the local runner reads, pins that match."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from pipelines.paths import COMPONENTS_DIR, PIPELINE_SPEC
from pipelines.specs import load_pipeline

ROOT = COMPONENTS_DIR.parent
COMPONENT_FILES = sorted(p for p in COMPONENTS_DIR.glob("*.yml") if p != PIPELINE_SPEC)


@pytest.fixture(scope="module")
def aml():
    return pytest.importorskip("azure.ai.ml")


@pytest.mark.parametrize("path", COMPONENT_FILES, ids=lambda p: p.stem)
def test_component_loads_and_validates_with_azure_ml_sdk(aml, path: Path):
    from azure.ai.ml.entities import CommandComponent

    component = aml.load_component(source=path)
    assert isinstance(component, CommandComponent)
    result = component._validate()  # the SDK's own schema and semantic validation
    assert result.passed, result.error_messages
    module = re.search(r"python -m (model\.\w+)", component.command)
    assert module, component.command
    assert (ROOT / (module.group(1).replace(".", "/") + ".py")).is_file()
    assert component.environment.conda_file, "components reference the pinned training environment"


def test_pipeline_job_loads_with_the_sdk_and_has_the_same_steps_as_the_local_runner(aml):
    job = aml.load_job(source=PIPELINE_SPEC)
    assert job.type == "pipeline"
    _, local_jobs = load_pipeline()
    assert [j.name for j in local_jobs] == ["validate_data", "train", "evaluate", "register"]
    assert set(job.jobs) == {j.name for j in local_jobs}
    for name, step in job.jobs.items():
        local = next(j for j in local_jobs if j.name == name)
        assert " ".join(step.component.command.split()) == local.component.command


def _pins(requirements: list[str]) -> dict[str, str]:
    found = {}
    for line in requirements:
        if match := re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line):
            found[match.group(1).lower()] = match.group(2)
    return found


def test_training_environment_pins_the_same_scikit_learn_and_mlflow_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    model_pins = _pins(project["model"])
    conda = yaml.safe_load((ROOT / "environments" / "train-conda.yaml").read_text())
    pip_section = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    env_pins = _pins(pip_section)
    assert env_pins["scikit-learn"] == model_pins["scikit-learn"]
    assert env_pins["mlflow"] == model_pins["mlflow"]
    assert _pins(project["scoring"])["scikit-learn"] == model_pins["scikit-learn"]


def test_the_champion_input_is_an_mlflow_model_like_every_registered_version(aml):
    # model/register.py registers the model folder (MLmodel inside) through MLflow; the evaluate step
    # takes the champion as the same type, which mlops train passes (pipelines/azure/training.py)
    component = aml.load_component(source=COMPONENTS_DIR / "evaluate.yml")
    spec = component._to_rest_object().as_dict()["properties"]["componentSpec"]
    assert spec["inputs"]["champion"]["type"] == "mlflow_model"
    assert spec["inputs"]["champion"]["optional"] is True
