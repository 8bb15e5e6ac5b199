"""What the drift monitor compares: the collected production window, the training rows, the labels.

Every expected problem (nothing collected yet, a corrupt collection file, a reference that
cannot be found, a labels file of the wrong shape) raises :class:`MonitorError` with one line
naming the file; nothing is moved or deleted.
"""

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.data import DataError, load_csv
from model.hashing import file_sha256
from model.schema import FEATURES

COLLECT_SUFFIX = ".npz"
"""The scoring service's collection files (scoring/collector.py; pinned by tests/test_shared_facts.py)."""
_COLLECTED_KEYS = ("time", "request_id", "rows", "model_version", "features", "feature_names", "prediction")


class MonitorError(ValueError):
    """The monitor cannot compare: the message names the file or setting and what to do."""


def read_collection_file(path: Path) -> pd.DataFrame:
    """One collection file as one row per scored row: time, request_id, row (its index in the
    request), model_version, the features, prediction."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in _COLLECTED_KEYS if k not in archive.files]
            if missing:
                raise MonitorError(
                    f"collection file {path} lacks {', '.join(missing)}: not a collection file"
                )
            columns = {k: archive[k] for k in _COLLECTED_KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, MonitorError):
            raise
        raise MonitorError(
            f"collection file {path} is corrupt ({type(error).__name__}: {error}): move it out of the "
            "folder and run again"
        ) from None
    names = [str(n) for n in columns["feature_names"]]
    features, counts = columns["features"], columns["rows"].astype(np.int64)
    n = int(counts.sum())
    if features.shape != (n, len(names)) or len(columns["prediction"]) != n or (counts < 0).any():
        raise MonitorError(f"collection file {path} is corrupt: its columns have different lengths")
    frame = pd.DataFrame(features, columns=names)
    frame.insert(0, "time", np.repeat(columns["time"], counts))
    frame.insert(1, "request_id", np.repeat(columns["request_id"].astype(str), counts))
    frame.insert(2, "row", np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts))
    frame.insert(3, "model_version", str(columns["model_version"]))
    frame["prediction"] = columns["prediction"]
    return frame


def load_collected(
    folder: Path, *, since: dt.datetime | None = None, model_version: str | None = None
) -> pd.DataFrame:
    """The collected rows in the window (``since`` onwards, of ``model_version`` if given), oldest first."""
    files = sorted(folder.glob(f"*{COLLECT_SUFFIX}")) if folder.is_dir() else []
    if not files:
        raise MonitorError(
            f"no collected data yet in {folder}: send traffic to an endpoint that collects "
            "(mlops traffic --env local) and run again"
        )
    frame = pd.concat([read_collection_file(p) for p in files], ignore_index=True)
    missing = [f for f in FEATURES if f not in frame.columns]
    if missing:
        raise MonitorError(f"the collected rows in {folder} lack the features {missing}")
    if since is not None:
        frame = frame[frame["time"] >= np.datetime64(since.astimezone(dt.UTC).replace(tzinfo=None), "ms")]
    if model_version is not None:
        frame = frame[frame["model_version"] == model_version]
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def find_reference(candidates: list[Path], data_hash: str) -> Path:
    """The first candidate whose content hash is the model's lineage ``data_hash``."""
    looked = []
    for path in candidates:
        if path.is_file() and file_sha256(path) == data_hash:
            return path
        looked.append(str(path))
    raise MonitorError(
        f"the serving model's training data ({data_hash}) was not found (looked at: "
        f"{', '.join(looked) or 'nothing'}): pass the file it was trained on with --reference-data"
    )


def training_rows(path: Path, metadata: dict[str, Any]) -> pd.DataFrame:
    """The rows the model was trained on: its data file split as the train step split it
    (model/train.py: the seed and test size of ``metadata["params"]``, stratified by the target
    for a classifier). The columns are the model's (``features``, ``target``), else the default
    use case's."""
    from model.params import TrainParams
    from model.schema import COLUMNS
    from model.train import split

    params = metadata["params"]
    features, target = metadata.get("features"), metadata.get("target")
    columns = (*features, target) if features and target else COLUMNS
    try:
        frame = load_csv(path, tuple(columns))
    except DataError as error:
        raise MonitorError(str(error)) from None
    train_params = TrainParams(test_size=params["test_size"], seed=params["seed"])
    stratify = frame[columns[-1]] if metadata.get("task") == "classification" else None
    train, _ = split(frame, train_params, stratify)
    return train.reset_index(drop=True)


def load_labels(path: Path) -> pd.DataFrame:
    """A labels CSV: ``request_id``, ``target``, optionally ``row`` (the row in its request; 0 if absent)."""
    try:
        labels = pd.read_csv(path, dtype={"request_id": str})
    except FileNotFoundError:
        raise MonitorError(f"labels file not found: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise MonitorError(f"labels file is not a readable CSV: {path}: {first}") from None
    if not {"request_id", "target"} <= set(labels.columns):
        raise MonitorError(
            f"labels file {path} needs the columns request_id and target (and optionally row), "
            f"got {list(labels.columns)}"
        )
    if "row" not in labels.columns:
        labels["row"] = 0
    return labels[["request_id", "row", "target"]]
