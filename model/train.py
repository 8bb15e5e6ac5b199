"""Pipeline step `train`: fit the model on a seeded split, write the model folder and the held-out rows."""

import argparse
import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from model import artifact, lineage, tracking
from model.data import file_sha256, load_csv
from model.outputs import TEST_FILE
from model.params import Params, TrainParams, load_params
from model.paths import DEFAULT_PARAMS
from model.schema import FEATURES, TARGET
from model.step import run_step

SAMPLE_ROWS = 5


def split(frame: pd.DataFrame, params: TrainParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split: the same data and seed always give the same rows."""
    train, test = train_test_split(frame, test_size=params.test_size, random_state=params.seed)
    return train, test


def build_pipeline(params: TrainParams) -> Pipeline:
    """The estimator: standardised features into a ridge regression."""
    return Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=params.alpha))])


def fit(train: pd.DataFrame, params: TrainParams) -> Pipeline:
    """Fit the pipeline on the training rows."""
    pipeline = build_pipeline(params)
    pipeline.fit(train[list(FEATURES)].to_numpy(), train[TARGET].to_numpy())
    return pipeline


def model_metadata(
    pipeline: Pipeline, params: Params, test: pd.DataFrame, data_hash: str, run_id: str
) -> dict[str, object]:
    """The metadata.json of a freshly trained model (its registered version comes later)."""
    packages = lineage.package_versions()
    sample = test[list(FEATURES)].head(SAMPLE_ROWS).to_numpy()
    return {
        "name": params.model_name,
        "sklearn_version": packages["scikit-learn"],
        "features": list(FEATURES),
        "target": TARGET,
        "params": params.train.model_dump(),
        "lineage": {
            "git_commit": lineage.git_commit(),
            "data_hash": data_hash,
            "run_id": run_id,
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "packages": packages,
        },
        "sample": {"data": sample.tolist(), "result": pipeline.predict(sample).tolist()},
    }


def main(argv: list[str] | None = None) -> int:
    """Train and write ``--model-output`` (model folder) and ``--test-output`` (held-out rows)."""
    parser = argparse.ArgumentParser(prog="python -m model.train", description=main.__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS)
    parser.add_argument("--alpha", type=float)
    parser.add_argument("--test-size", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--model-output", type=Path, required=True)
    parser.add_argument("--test-output", type=Path, required=True)
    args = parser.parse_args(argv)

    overrides = {
        "train.alpha": args.alpha,
        "train.test_size": args.test_size,
        "train.seed": args.seed,
    }
    params = load_params(args.params, overrides)
    frame = load_csv(args.data)
    data_hash = file_sha256(args.data)
    train, test = split(frame, params.train)
    pipeline = fit(train, params.train)
    print(f"trained ridge(alpha={params.train.alpha}) on {len(train)} rows, held out {len(test)}")

    with tracking.step_run() as run:
        run_id = run.info.run_id if run else os.environ.get("MLFLOW_RUN_ID", "untracked")
        metadata = model_metadata(pipeline, params, test, data_hash, run_id)
        artifact.save_model_folder(pipeline, args.model_output, metadata)
        args.test_output.mkdir(parents=True, exist_ok=True)
        test.to_csv(args.test_output / TEST_FILE, index=False)
        if run:
            import mlflow

            mlflow.log_params({f"train.{k}": v for k, v in params.train.model_dump().items()})
            mlflow.set_tags(
                {
                    "git_commit": metadata["lineage"]["git_commit"],  # type: ignore[index]
                    "data_hash": data_hash,
                    "packages": json.dumps(metadata["lineage"]["packages"]),  # type: ignore[index]
                }
            )
    print(f"model folder: {args.model_output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_step(main))
