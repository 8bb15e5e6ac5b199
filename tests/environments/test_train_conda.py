"""environments/train-conda.yaml and what the components send to Azure ML, read as files (fast, no venv)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

from pipelines.paths import COMPONENTS_DIR, PIPELINE_SPEC, REPO_ROOT
from tests.environments import train_env

# MCR's tag convention for the Azure ML base images: <yyyymmdd>.v<n> (Azure/AzureML-Containers release notes).
DATED_TAG = re.compile(r"^mcr\.microsoft\.com/azureml/[\w.-]+:\d{8}\.v\d+$")


def _pins(lines: tuple[str, ...]) -> dict[str, str]:
    """``name -> version`` of requirements pinned with ``==``; fails naming any other requirement."""
    requirements = [Requirement(line) for line in lines]
    loose = [
        str(r) for r in requirements if len(r.specifier) != 1 or next(iter(r.specifier)).operator != "=="
    ]
    assert not loose, f"train-conda.yaml: not pinned with ==: {loose}"
    return {r.name.lower(): next(iter(r.specifier)).version for r in requirements}


def _lock_versions() -> dict[str, str]:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    return {package["name"]: package["version"] for package in lock["package"] if "version" in package}


def _scoring_pins() -> dict[str, str]:
    text = (REPO_ROOT / "scoring" / "requirements.txt").read_text()
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)}


def test_every_pip_requirement_is_pinned_exactly():
    pins = _pins(train_env.read_spec().requirements)
    # unpinned, pip picks azureml-mlflow 1.60.0 for a new mlflow: TypeError on log_artifact
    assert {"mlflow", "azureml-mlflow", "scikit-learn"} <= set(pins)


def test_pins_are_what_the_tests_run_and_what_the_scoring_image_unpickles_with():
    pins = _pins(train_env.read_spec().requirements)
    lock, scoring = _lock_versions(), _scoring_pins()
    differ = {name: (pin, lock[name]) for name, pin in pins.items() if name in lock and lock[name] != pin}
    assert not differ, f"train-conda.yaml pin != uv.lock version: {differ}"
    for name in ("scikit-learn", "numpy", "scipy", "joblib"):  # what loads estimator.joblib
        assert pins[name] == scoring[name], f"{name}: train-conda {pins[name]}, scoring image {scoring[name]}"
    assert set(pins) - set(lock) == {"azureml-mlflow"}, "only the Azure ML plugin is not in uv.lock"


def test_components_name_one_base_image_by_a_dated_tag():
    images = {
        path.name: yaml.safe_load(path.read_text())["environment"]["image"]
        for path in COMPONENTS_DIR.glob("*.yml")
        if path != PIPELINE_SPEC
    }
    assert len(set(images.values())) == 1, images
    (image,) = set(images.values())
    assert DATED_TAG.match(image), f"{image}: floating: each workspace builds on what it names that day"


def test_azure_ml_uploads_only_the_model_and_scoring_packages_and_the_config(tmp_path: Path):
    uploaded = train_env.code_snapshot(tmp_path)
    model_files = sorted(p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "model").glob("*.py"))
    scoring_files = [f for f in train_env.git_files(REPO_ROOT) if f.startswith("scoring/")]
    assert uploaded == sorted(["config/train.yaml", *model_files, *scoring_files])
    assert "scoring/batch/parallel/entry.py" in uploaded  # the batch scoring job's entry script
    assert (tmp_path / "model" / "train.py").read_bytes() == (REPO_ROOT / "model" / "train.py").read_bytes()


def test_no_model_or_config_folder_below_the_root_is_uploaded():
    """The SDK reads .amlignore only (gitignored .venv/ and .cache/ are walked too), and a pattern
    without a leading "/" matches at any depth: site-packages has many model/ and config/ folders."""
    samples = [
        f"{folder}/lib/python3.11/site-packages/pkg/{name}/{leaf}"
        for folder in (".venv", ".cache", ".tools", ".state", "tests", "policy")
        for name in ("model", "config")
        for leaf in ("__init__.py", "train.yaml")
    ]
    assert train_env.uploaded_files(samples) == []
