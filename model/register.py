"""Pipeline step `register`: register the challenger in the MLflow registry if the gate said so."""

import argparse
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from model import artifact, tracking
from model.outputs import REPORT_FILE, RESULT_FILE
from model.step import run_step

LOCK_ENV = "MLOPS_REGISTRY_LOCK"


def registry_lock() -> contextlib.AbstractContextManager[object]:
    """A cross-process lock around registry writes where the runner provides one (local)."""
    path = os.environ.get(LOCK_ENV)
    if not path:
        return contextlib.nullcontext()
    from filelock import FileLock

    return FileLock(path, timeout=120)


def version_tags(metadata: dict[str, Any], report: dict[str, Any]) -> dict[str, str]:
    """Lineage and metrics as registry tags, so a version explains itself."""
    lineage = metadata["lineage"]
    tags = {
        "git_commit": str(lineage["git_commit"]),
        "data_hash": str(lineage["data_hash"]),
        "run_id": str(lineage["run_id"]),
        "sklearn_version": str(metadata["sklearn_version"]),
        "gate_reason": str(report["decision"]["reason"]),
    }
    tags.update({k: f"{v:.6g}" for k, v in report["challenger"].items()})
    return tags


def register(model_dir: Path, report: dict[str, Any], name: str) -> dict[str, Any]:
    """Log the model folder to the current run and register it; return the result record."""
    decision = report["decision"]
    if not decision["register"]:
        return {"registered": False, "name": name, "version": None, "reason": decision["reason"]}
    import mlflow

    metadata = artifact.read_metadata(model_dir)
    with tracking.step_run() as run:
        if run is None:
            raise RuntimeError("register needs an MLflow tracking URI (MLFLOW_TRACKING_URI)")
        mlflow.log_artifacts(str(model_dir), "model")
        with registry_lock():
            version = mlflow.register_model(
                f"runs:/{run.info.run_id}/model", name, tags=version_tags(metadata, report)
            )
    return {
        "registered": True,
        "name": name,
        "version": str(version.version),
        "reason": decision["reason"],
    }


def main(argv: list[str] | None = None) -> int:
    """Register ``--model`` if ``--report`` says so; write the outcome to ``--registered-output``."""
    parser = argparse.ArgumentParser(prog="python -m model.register", description=main.__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--registered-output", type=Path, required=True)
    args = parser.parse_args(argv)

    report = json.loads((args.report / REPORT_FILE).read_text())
    result = register(args.model, report, args.model_name)
    args.registered_output.mkdir(parents=True, exist_ok=True)
    (args.registered_output / RESULT_FILE).write_text(json.dumps(result, indent=2) + "\n")
    if result["registered"]:
        print(f"registered {result['name']} version {result['version']}")
    else:
        print(f"registered nothing: {result['reason']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_step(main))
