"""The training venv and the code snapshot Azure ML would upload (``tests/environments/train_env.py``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.environments import train_env

PROBE = Path(__file__).with_name("probe.py")


@pytest.fixture(scope="session")
def train_venv() -> Path:
    """environments/train-conda.yaml's pip section, installed (cached under .cache/train-env/)."""
    try:
        return train_env.ensure_venv(train_env.read_spec())
    except train_env.TrainEnvError as error:
        message = str(error)
    pytest.fail(message, pytrace=False)  # not a skip: CI has the package index


@pytest.fixture(scope="session")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what Azure ML uploads for the components' ``code: ..`` (outside the repository)."""
    dest = tmp_path_factory.mktemp("code")
    train_env.code_snapshot(dest)
    return dest


@pytest.fixture(scope="session")
def probe(train_venv: Path, code_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``probe.py`` run by the venv's Python on the step modules, from a folder outside the repository."""
    result = subprocess.run(
        [str(train_env.venv_python(train_venv)), str(PROBE), *train_env.step_modules()],
        cwd=tmp_path_factory.mktemp("probe-cwd"),  # MLflow 3 creates mlflow.db in the working directory
        env=train_env.step_env(code_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout)
    return report
