"""Pipeline step `train`: fit the use case's estimator on a seeded split, write the model folder and
the held-out rows."""

import argparse
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from model import artifact, estimator, lineage, tracking
from model.data import file_sha256, load_csv
from model.outputs import TEST_FILE
from model.params import Params, TrainParams, load_params
from model.schema import Schema, schema_of
from model.step import run_step

SAMPLE_ROWS = 5


def split(
    frame: pd.DataFrame, params: TrainParams, stratify: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split: the same data and seed always give the same rows.

    Classification splits stratified by class, so the held-out rows hold every class.
    """
    train, test = train_test_split(
        frame, test_size=params.test_size, random_state=params.seed, stratify=stratify
    )
    return train, test


def build(params: Params) -> Pipeline:
    """The unfitted model: the use case's estimator, after a StandardScaler when configured."""
    model = estimator.estimator_class(params.estimator)(**params.estimator.params)
    steps: list[tuple[str, Any]] = [("scale", StandardScaler())] if params.estimator.scale else []
    return Pipeline([*steps, ("model", model)])


def fit(train: pd.DataFrame, params: Params) -> Pipeline:
    """Fit the use case's estimator (after a scaler when configured) on the training rows."""
    estimator.check_params(params)
    schema = schema_of(params)
    model = build(params)
    model.fit(train[list(schema.features)].to_numpy(), train[schema.target].to_numpy())
    return model


def model_metadata(
    model: Any, params: Params, test: pd.DataFrame, data_hash: str, run_id: str
) -> dict[str, object]:
    """The metadata.json of a freshly trained model (its registered version comes later)."""
    schema: Schema = schema_of(params)
    packages = {**lineage.package_versions(), **estimator.distributions(params.estimator)}
    rows = test[list(schema.features)].head(SAMPLE_ROWS).to_numpy()
    sample: dict[str, Any] = {"data": rows.tolist(), "result": model.predict(rows).tolist()}
    metadata: dict[str, object] = {
        "name": params.model_name,
        "task": params.task,
        "sklearn_version": packages["scikit-learn"],
        "features": list(schema.features),
        "target": schema.target,
        "estimator": params.estimator.import_path,
        "params": {**params.train.model_dump(), **params.estimator.params},
    }
    if params.task == "classification":
        metadata["classes"] = [float(c) for c in model.classes_]
        sample["probabilities"] = model.predict_proba(rows).tolist()
    metadata["lineage"] = {
        "git_commit": lineage.git_commit(),
        "data_hash": data_hash,
        "run_id": run_id,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "packages": packages,
    }
    metadata["sample"] = sample
    return metadata


def main(argv: list[str] | None = None) -> int:
    """Train and write ``--model-output`` (model folder) and ``--test-output`` (held-out rows)."""
    parser = argparse.ArgumentParser(prog="python -m model.train", description=main.__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--params", type=Path, help="the use-case file (default: config/usecase.yaml)")
    parser.add_argument("--alpha", type=float, help="shortcut for estimator.alpha")
    parser.add_argument("--test-size", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--model-output", type=Path, required=True)
    parser.add_argument("--test-output", type=Path, required=True)
    args = parser.parse_args(argv)

    overrides = {
        "estimator.alpha": args.alpha,
        "train.test_size": args.test_size,
        "train.seed": args.seed,
    }
    params = load_params(args.params, overrides)
    schema = schema_of(params)
    frame = load_csv(args.data, schema.columns)
    data_hash = file_sha256(args.data)
    stratify = frame[schema.target] if params.task == "classification" else None
    train, test = split(frame, params.train, stratify)
    model = fit(train, params)
    hyper = ", ".join(f"{k}={v}" for k, v in params.estimator.params.items())
    print(f"trained {params.estimator.import_path}({hyper}) on {len(train)} rows, held out {len(test)}")

    with tracking.step_run() as run:
        run_id = run.info.run_id if run else os.environ.get("MLFLOW_RUN_ID", "untracked")
        metadata = model_metadata(model, params, test, data_hash, run_id)
        artifact.save_model_folder(model, args.model_output, metadata)
        args.test_output.mkdir(parents=True, exist_ok=True)
        test.to_csv(args.test_output / TEST_FILE, index=False)
        if run:
            import mlflow

            mlflow.log_params({f"train.{k}": v for k, v in params.train.model_dump().items()})
            mlflow.log_params({f"estimator.{k}": v for k, v in params.estimator.params.items()})
            mlflow.set_tags(
                {
                    "estimator": params.estimator.import_path,
                    "git_commit": metadata["lineage"]["git_commit"],  # type: ignore[index]
                    "data_hash": data_hash,
                    "packages": json.dumps(metadata["lineage"]["packages"]),  # type: ignore[index]
                }
            )
    print(f"model folder: {args.model_output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_step(main))
