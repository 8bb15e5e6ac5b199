"""Fixtures of the local environment's tests: the real `mlops` command in a temporary state folder."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipelines.local.mlops_runner import Mlops


@pytest.fixture
def mlops(tmp_path: Path) -> Iterator[Mlops]:
    runner = Mlops(tmp_path / "state", tmp_path)
    yield runner
    runner.stop_endpoint()
