"""Batch scoring against its I/O floor, in one run: 1M and 10M rows of Parquet.

    .venv/bin/python bench/batch_scoring.py                  # 1M and 10M rows
    .venv/bin/python bench/batch_scoring.py --rows 1000000   # one size

For each size it writes a Parquet file of the default use case's ten features (plausible raw values, one
row group per million rows; under ``.cache/batch-bench/``, git-ignored, reused on the next run),
then runs, each in a fresh interpreter, alternately ``--repeat`` times:

- **floor**: the same file read (``ParquetFile.iter_batches``, the same batch size) and written
  (``ParquetWriter``), no validation, no prediction: what the library costs for the I/O alone;
- **ours**: :func:`scoring.batch.run.score_files` on it (the rules, the model's predictions,
  the rejects file, the temporary name and the rename): what ``mlops score-batch`` runs.

It prints the median seconds, rows/s, the ratio floor/ours (1.0 = at the floor) and each
process's peak RSS (``ru_maxrss``, imports included). The model is StandardScaler + Ridge fitted
on the default use case's data, written per the model artifact contract (tests/model_folders.py).
Results also go to ``bench/results/batch_scoring.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from pipelines.paths import REPO_ROOT as ROOT

WORK = ROOT / ".cache" / "batch-bench"
RESULTS = ROOT / "bench" / "results" / "batch_scoring.json"
CHUNK = 1_000_000

# Runs in a fresh interpreter: prints {"seconds", "rss_mb"} as JSON.
FLOOR = """
import json, resource, sys, time
import pyarrow.parquet as pq
src, dst, batch_rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = time.perf_counter()
reader = pq.ParquetFile(src)
with pq.ParquetWriter(dst, reader.schema_arrow) as writer:
    for batch in reader.iter_batches(batch_size=batch_rows):
        writer.write_batch(batch)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
OURS = """
import json, resource, sys, time
from pathlib import Path
from scoring.batch.run import score_files
from scoring.model_loader import load_model
src, dst, batch_rows, model_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
model = load_model(Path(model_dir), version="1")
start = time.perf_counter()
summary = score_files([Path(src)], Path(dst), model, batch_rows=batch_rows)
seconds = time.perf_counter() - start
assert summary.rows_scored == summary.rows_read, summary
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_input(rows: int) -> Path:
    """A Parquet file of ``rows`` rows of the ten features (written once, in 1M-row chunks)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = WORK / f"features-{rows}.parquet"
    if path.is_file():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    ranges = {
        "age": (19, 79),
        "sex": (1, 2),
        "bmi": (18, 42),
        "bp": (62, 133),
        "s1": (97, 301),
        "s2": (41, 242),
        "s3": (22, 99),
        "s4": (2, 9),
        "s5": (3.2, 6.1),
        "s6": (58, 124),
    }
    rng = np.random.default_rng(15)
    partial = path.with_suffix(".partial")
    writer = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        columns = {name: rng.uniform(low, high, n).round(2) for name, (low, high) in ranges.items()}
        table = pa.table(columns)
        writer = writer or pq.ParquetWriter(partial, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    partial.replace(path)
    return path


def make_model() -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.model_folders import build_model_dir

    folder = WORK / "model"
    if not (folder / "metadata.json").is_file():
        build_model_dir(folder)
    return folder


def run(code: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", code, *args]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-rows", type=int, default=None, help="default: scoring.batch.run.BATCH_ROWS")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from scoring.batch.run import BATCH_ROWS

    batch_rows = str(args.batch_rows or BATCH_ROWS)
    model = make_model()
    report = []
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; batch {batch_rows} rows")
    heads = ("rows", "floor s", "ours s", "ratio", "ours rows/s", "floor MB", "ours MB")
    print(" ".join(f"{h:>{w}}" for h, w in zip(heads, (11, 8, 8, 6, 12, 9, 8), strict=True)))
    for rows in args.rows:
        source = make_input(rows)
        out = WORK / "out.parquet"
        floors, ours = [], []
        for _ in range(args.repeat):  # alternate, so a busy neighbour hits both alike
            floors.append(run(FLOOR, str(source), str(out), batch_rows))
            ours.append(run(OURS, str(source), str(out), batch_rows, str(model)))
        out.unlink(missing_ok=True)
        WORK.joinpath("out.rejects.csv").unlink(missing_ok=True)
        floor_s = statistics.median(r["seconds"] for r in floors)
        ours_s = statistics.median(r["seconds"] for r in ours)
        row = {
            "rows": rows,
            "floor_s": round(floor_s, 3),
            "ours_s": round(ours_s, 3),
            "ratio": round(floor_s / ours_s, 3),
            "ours_rows_per_s": round(rows / ours_s),
            "floor_rss_mb": round(max(r["rss_mb"] for r in floors), 1),
            "ours_rss_mb": round(max(r["rss_mb"] for r in ours), 1),
        }
        report.append(row)
        print(
            f"{rows:>11,} {floor_s:>8.2f} {ours_s:>8.2f} {row['ratio']:>6.2f} {row['ours_rows_per_s']:>12,}"
            f" {row['floor_rss_mb']:>9.0f} {row['ours_rss_mb']:>8.0f}"
        )
    if len(report) > 1:
        a, b = report[0], report[-1]
        scale = (b["ours_s"] / a["ours_s"]) / (b["rows"] / a["rows"])
        print(f"cost per row at {b['rows']:,} vs {a['rows']:,}: x{scale:.2f} (1.00 = linear)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"load_average": os.getloadavg()[0], "results": report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
