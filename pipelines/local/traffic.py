"""`mlops traffic --env local`: held-out rows, optionally shifted, sent to the local endpoint.

The rows are the serving model's held-out rows (its run folder's ``train/test_data/test.csv``,
found through the version's lineage ``run_id``) or any CSV with the model's features. Each
response's ``x-request-id`` is the id the endpoint collected the rows under; with a labels file,
the rows' true targets are written beside those ids, for ``mlops monitor --labels``.
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from model.outputs import TEST_FILE
from model.schema import FEATURES, TARGET
from pipelines.errors import MlopsError, UsageError
from pipelines.local.endpoint import EndpointRecord
from pipelines.local.registry import LocalRegistry

RUN_DIR_TAG = "mlops.run_dir"  # set by pipelines/local/lifecycle.py on every pipeline run
HELD_OUT = Path("train") / "test_data" / TEST_FILE
_SHIFT = re.compile(r"^(?P<name>[a-z0-9_]+)=(?P<amount>[+-]\d+(\.\d+)?)$")


@dataclass(frozen=True)
class TrafficResult:
    """What was sent."""

    requests: int
    rows: int
    source: Path
    shifts: dict[str, float]
    labels_file: Path | None


def parse_shifts(specs: list[str]) -> dict[str, float]:
    """``["bmi=+8", "age=-5"]`` → ``{"bmi": 8.0, "age": -5.0}``; a bad spec is a UsageError."""
    shifts: dict[str, float] = {}
    for spec in specs:
        match = _SHIFT.match(spec.strip())
        if match is None:
            raise UsageError(f"--shift {spec!r}: write FEATURE=+N or FEATURE=-N, for example bmi=+8")
        name = match["name"]
        if name not in FEATURES:
            raise UsageError(f"--shift {spec!r}: {name} is not a feature (features: {', '.join(FEATURES)})")
        shifts[name] = shifts.get(name, 0.0) + float(match["amount"])
    return shifts


def held_out_rows(registry: LocalRegistry, name: str, version: str) -> Path:
    """The held-out rows of ``name`` v``version``: its training run's ``test.csv``."""
    model = registry.get(name, version)
    run_id = model.tags.get("run_id")
    run_dir = None
    if run_id:
        from mlflow.exceptions import MlflowException

        try:
            run_dir = registry.client.get_run(run_id).data.tags.get(RUN_DIR_TAG)
        except MlflowException:
            run_dir = None
    path = Path(run_dir) / HELD_OUT if run_dir else None
    if path is None or not path.is_file():
        raise UsageError(
            f"the held-out rows of {name} v{version} were not found (run folder: {run_dir or 'unknown'}): "
            "pass a CSV with --data"
        )
    return path


def read_rows(path: Path) -> tuple[list[list[float]], list[float | None]]:
    """The feature rows of a CSV (columns named as the model's features) and its targets, if any."""
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [f for f in FEATURES if f not in (reader.fieldnames or [])]
            if missing:
                raise UsageError(f"{path} lacks the feature columns {missing}")
            rows, targets = [], []
            for line in reader:
                rows.append([float(line[f]) for f in FEATURES])
                targets.append(float(line[TARGET]) if line.get(TARGET) not in (None, "") else None)
    except FileNotFoundError:
        raise UsageError(f"data file not found: {path}") from None
    except ValueError as error:
        raise UsageError(f"{path} holds a value that is not a number: {error}") from None
    if not rows:
        raise UsageError(f"{path} has no rows")
    return rows, targets


def send(
    record: EndpointRecord,
    source: Path,
    *,
    rows: int | None,
    shifts: dict[str, float],
    batch: int,
    labels_file: Path | None,
    settle_s: float,
    api_key: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrafficResult:
    """POST ``rows`` rows of ``source`` (cycled; all once by default), shifted, ``batch`` per request.

    Waits ``settle_s`` at the end, so what the endpoint collected is on disk when this returns.
    """
    features, targets = read_rows(source)
    total = len(features) if rows is None else rows
    index = [i % len(features) for i in range(total)]
    columns = {name: FEATURES.index(name) for name in shifts}
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    labels: list[tuple[str, int, float]] = []
    requests = 0
    with httpx.Client(timeout=30.0, trust_env=False, headers=headers) as client:
        for start in range(0, total, batch):
            chunk = index[start : start + batch]
            body = []
            for i in chunk:
                row = list(features[i])
                for name, amount in shifts.items():
                    row[columns[name]] += amount
                body.append(row)
            try:
                response = client.post(record.score_url, json={"data": body})
            except httpx.TransportError as error:
                raise MlopsError(f"the local endpoint {record.url} did not answer: {error}") from None
            if response.status_code != 200:
                raise MlopsError(f"the local endpoint answered {response.status_code}: {response.text[:200]}")
            requests += 1
            request_id = response.headers.get("x-request-id", "")
            labels.extend((request_id, j, t) for j, i in enumerate(chunk) if (t := targets[i]) is not None)
            if progress is not None and requests % 20 == 0:
                progress(f"sent {start + len(chunk)} of {total} rows")
    if labels_file is not None:
        labels_file.parent.mkdir(parents=True, exist_ok=True)
        with labels_file.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["request_id", "row", "target"])
            writer.writerows(labels)
    time.sleep(settle_s)
    return TrafficResult(requests, total, source, shifts, labels_file)


def settle_seconds(flush_s: float) -> float:
    """How long the collector may hold rows before they are on disk (flush interval + two ticks)."""
    return math.ceil((flush_s + 0.75) * 10) / 10
