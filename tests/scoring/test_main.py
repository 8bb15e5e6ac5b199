"""`python -m scoring` fails fast, with one clear line and exit code 2, when it cannot serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def run_main(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SCORING_", "AZUREML_"))}
    return subprocess.run(
        [sys.executable, "-m", "scoring", "--port", "1"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def last_log(stderr: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(stderr.strip().splitlines()[-1])
    return record


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({}, "AZUREML_MODEL_DIR is not set"),
        ({"AZUREML_MODEL_DIR": "/nonexistent/model"}, "does not exist"),
        ({"AZUREML_MODEL_DIR": "/tmp", "SCORING_MAX_ROWS": "-1"}, "SCORING_MAX_ROWS must be at least 1"),
    ],
)
def test_bad_configuration_exits_2_with_the_reason(env: dict[str, str], phrase: str) -> None:
    done = run_main(env)
    assert done.returncode == 2
    record = last_log(done.stderr)
    assert record["level"] == "CRITICAL"
    assert phrase in record["message"]


def test_other_sklearn_version_exits_2_before_binding(tmp_path: Path, build_model: Any) -> None:
    folder = build_model(tmp_path / "m", sklearn_version="1.2.3")
    done = run_main({"AZUREML_MODEL_DIR": str(folder)})
    assert done.returncode == 2
    assert "trained with scikit-learn 1.2.3" in last_log(done.stderr)["message"]
