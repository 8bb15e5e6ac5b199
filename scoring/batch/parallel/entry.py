"""The entry script of the Azure ML parallel job that ``mlops score-batch --env qa|prod`` submits.

Azure ML calls ``init()`` once per worker process, then ``run(mini_batch)`` with a list of input
file paths (``uri_folder`` input, ``mini_batch_size: "1"``: one file per call). Each file is
scored by :func:`scoring.batch.run.score_files`, the code ``mlops score-batch --env local`` runs,
into ``<output>/<file stem>.parquet`` and ``<output>/<file stem>.rejects.csv``. ``run`` returns one
line per file scored: Azure ML counts the items returned as the successful ones (Learn,
how-to-use-parallel-job-in-pipeline: "The parallel job uses the count of that return to measure
the success items under that mini-batch"). A file that cannot be scored (its columns, its format)
raises: its mini-batch fails and, with ``mini_batch_error_threshold: 0``, so does the job.
Arguments are read with ``parse_known_args``, as that page asks (Azure ML adds its own).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# The code snapshot's root (the repository root): `scoring` is imported from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from scoring.batch.run import score_files
from scoring.model_loader import LoadedModel, load_model

_state: dict[str, Any] = {}


def init(argv: list[str] | None = None) -> None:
    """Load the model folder once per worker process (its checks included) and note the output folder."""
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--model-version", required=True)
    args, _ = parser.parse_known_args(argv)
    _state["model"] = load_model(args.model_dir, name=args.model_name, version=args.model_version)
    _state["output"] = args.output_dir
    args.output_dir.mkdir(parents=True, exist_ok=True)


def run(mini_batch: list[str]) -> list[str]:
    """Score each file of the mini-batch; one summary line per file."""
    model: LoadedModel = _state["model"]
    output: Path = _state["output"]
    done = []
    for name in mini_batch:
        source = Path(name)
        summary = score_files(
            [source],
            output / f"{source.stem}.parquet",
            model,
            rejects=output / f"{source.stem}.rejects.csv",
        )
        done.append(
            f"{source.name}: {summary.rows_scored} scored, {summary.rows_rejected} rejected "
            f"of {summary.rows_read} rows"
        )
    return done
