"""Fixtures of the scoring service's tests: the app with its lifespan running."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette >= 1.x prefers the httpx2 package for its test client; httpx still works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from scoring.app import create_app
from scoring.settings import Settings


@pytest.fixture
def make_client(model_dir: Path) -> Iterator[Callable[..., Any]]:
    """``with make_client(**settings) as client``: the app with its lifespan running."""

    @contextmanager
    def factory(**overrides: Any) -> Iterator[TestClient]:
        settings = Settings(**{"model_dir": model_dir, "model_version": "7", **overrides})
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            yield client

    yield factory


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Iterator[TestClient]:
    with make_client() as c:
        yield c
