"""One version: the project's (pyproject reads scoring.__version__) is what the service reports."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

import scoring
from scoring import telemetry
from scoring.app import create_app
from scoring.settings import Settings

PROJECT_VERSION = version("azure-mlops")


def test_the_project_version_is_a_real_one() -> None:
    assert scoring.__version__ == PROJECT_VERSION
    assert PROJECT_VERSION != "0.0.0"


def test_openapi_reports_the_project_version(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["version"] == PROJECT_VERSION


def test_telemetry_reports_the_project_version(model_dir: Path, mocker: Any) -> None:
    enable = mocker.patch.object(telemetry, "enable_azure_monitor")
    create_app(Settings(model_dir=model_dir, appinsights_connection_string="InstrumentationKey=k"))
    assert enable.call_args.kwargs["service_version"] == PROJECT_VERSION


def test_the_app_reports_it_without_the_project_installed(make_client: Any, mocker: Any) -> None:
    # As in the image: no installed metadata for the project (scikit-learn's is still there).
    from_name = importlib.metadata.Distribution.from_name

    def without_the_project(name: str) -> Any:
        if name == "azure-mlops":
            raise PackageNotFoundError(name)
        return from_name(name)

    mocker.patch.object(importlib.metadata.Distribution, "from_name", side_effect=without_the_project)
    with make_client() as client:
        assert client.get("/openapi.json").json()["info"]["version"] == PROJECT_VERSION


def test_the_image_has_the_version_without_the_project_installed(tmp_path: Path) -> None:
    # The image copies scoring/*.py and nothing else of the project (scoring/Dockerfile): no
    # installed metadata. Import a copy like it, without site-packages (-S).
    package = tmp_path / "scoring"
    package.mkdir()
    for source in Path(scoring.__file__).parent.glob("*.py"):
        shutil.copy2(source, package)
    code = "import sys; sys.path.insert(0, sys.argv[1]); import scoring; print(scoring.__version__)"
    result = subprocess.run(
        [sys.executable, "-S", "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == PROJECT_VERSION
