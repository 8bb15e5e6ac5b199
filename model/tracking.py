"""MLflow logging: on where a tracking URI is configured (local runner, Azure ML), off elsewhere."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def tracking_enabled() -> bool:
    """True when a tracking URI was given to this process (Azure ML and the local runner set it)."""
    return bool(os.environ.get("MLFLOW_TRACKING_URI"))


@contextmanager
def step_run() -> Iterator[Any]:
    """The MLflow run this step logs to (resumed from ``MLFLOW_RUN_ID`` when set), or None."""
    if not tracking_enabled():
        yield None
        return
    import mlflow

    active = mlflow.active_run()
    if active is not None:
        yield active
        return
    with mlflow.start_run() as run:
        yield run
