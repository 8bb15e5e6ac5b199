"""Run inside the training venv: what a step on Azure ML needs from its environment, without network.

``python probe.py MODULE...`` prints one JSON object:

- ``modules``: each step module imported (``"ok"`` or the error),
- ``entry_points``: azureml-mlflow's MLflow plugins, each loaded (``"ok"`` or the error),
- ``artifact_repository``: the class mlflow's own registry builds for an ``azureml://`` run
  artifact URI with the azureml tracking and registry URIs set, or the error it raised.

Sockets are refused to anything but loopback: the plugin's constructor looks up Azure cloud
metadata, fails, and falls back to the public cloud's defaults.
Only the standard library and the venv's packages: this file runs with the venv's Python.
"""

import importlib
import json
import socket
import sys
from importlib import metadata

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
WORKSPACE = (
    f"subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
    "/providers/Microsoft.MachineLearningServices/workspaces/ws"
)
# The URI forms Azure ML gives a job (MLFLOW_TRACKING_URI) and its runs (artifact_uri).
TRACKING_URI = f"azureml://eastus.api.azureml.ms/mlflow/v1.0/{WORKSPACE}"
ARTIFACT_URI = f"azureml://eastus.api.azureml.ms/mlflow/v2.0/{WORKSPACE}/experiments/exp/runs/run1/artifacts"


def _no_network() -> None:
    """Refuse name lookups and connections except to loopback."""
    local = {"127.0.0.1", "::1", "localhost", None}
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host not in local:
            raise OSError(f"probe: no network (lookup of {host!r})")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    def connect(self: socket.socket, address: object) -> None:
        if self.family != socket.AF_UNIX and isinstance(address, tuple) and address[0] not in local:
            raise OSError(f"probe: no network (connect to {address!r})")
        real_connect(self, address)  # type: ignore[arg-type]

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _try(action: object) -> str:
    try:
        action()  # type: ignore[operator]
    except Exception as error:
        return _error(error)
    return "ok"


def artifact_repository() -> dict[str, str]:
    import mlflow
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    mlflow.set_tracking_uri(TRACKING_URI)
    mlflow.set_registry_uri(TRACKING_URI)
    try:
        repo = get_artifact_repository(ARTIFACT_URI, tracking_uri=TRACKING_URI, registry_uri=TRACKING_URI)
    except Exception as error:
        return {"error": _error(error)}
    cls = type(repo)
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "client": type(repo.artifacts).__name__}


def main(modules: list[str]) -> dict[str, object]:
    _no_network()
    plugin = metadata.distribution("azureml-mlflow")
    return {
        "modules": {name: _try(lambda name=name: importlib.import_module(name)) for name in modules},
        "entry_points": {
            f"{ep.group}:{ep.name}": _try(ep.load)
            for ep in plugin.entry_points
            if ep.group.startswith("mlflow.")
        },
        "artifact_repository": artifact_repository(),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
