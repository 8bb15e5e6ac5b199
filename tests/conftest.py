"""Fixtures shared by every test folder: model folders per the artifact contract (``tests.model_folders``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.model_folders import FEATURES, build_model_dir, bundled, expected_predictions


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model-a") / "model", alpha=1.0)


@pytest.fixture(scope="session")
def model_dir_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model whose predictions differ from ``model_dir``'s."""
    return build_model_dir(tmp_path_factory.mktemp("model-b") / "model", alpha=50.0)


@pytest.fixture(scope="session")
def rows() -> list[list[float]]:
    x, _ = bundled()
    return x[10:15].tolist()


@pytest.fixture(scope="session")
def build_model() -> Callable[..., Path]:
    """``build_model(path, **options)``: write a model folder (see :func:`build_model_dir`)."""
    return build_model_dir


@pytest.fixture(scope="session")
def predictions() -> Callable[[Path, list[list[float]]], list[float]]:
    """``predictions(model_dir, rows)``: what the folder's estimator predicts offline."""
    return expected_predictions


@pytest.fixture(scope="session")
def features() -> list[str]:
    return list(FEATURES)
