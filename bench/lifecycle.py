"""Benchmark `mlops run --env local`: seconds per step, median of N warm runs.

Two scenarios, each run N times after one untimed warm-up run (disk caches, bytecode):
  first-model  a fresh state folder every time: registers v1, deploys, smoke-tests
  not-better   the same state folder again: evaluates against the champion, registers nothing

Usage: python bench/lifecycle.py [--runs 5]     (target: <= 15 s end to end on 2 cores)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MLOPS = str(Path(sys.executable).with_name("mlops"))


def one_run(state: Path, summary: Path) -> tuple[float, dict[str, float]]:
    env = {**os.environ, "MLOPS_STATE_DIR": str(state)}
    started = time.perf_counter()
    subprocess.run(
        [MLOPS, "run", "--env", "local", "--summary-file", str(summary)],
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    return wall, json.loads(summary.read_text())["seconds"]


def stop(state: Path) -> None:
    env = {**os.environ, "MLOPS_STATE_DIR": str(state)}
    subprocess.run([MLOPS, "endpoint", "stop"], env=env, check=False, capture_output=True)


def report(name: str, samples: list[tuple[float, dict[str, float]]]) -> None:
    steps = list(samples[0][1])
    print(f"\n{name}: median of {len(samples)} runs")
    for step in steps:
        values = [s[1].get(step, 0.0) for s in samples]
        print(f"  {step:<18} {statistics.median(values):6.2f} s")
    walls = [s[0] for s in samples]
    spread = f"(min {min(walls):.2f}, max {max(walls):.2f})"
    print(f"  {'end to end (wall)':<18} {statistics.median(walls):6.2f} s   {spread}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        first: list[tuple[float, dict[str, float]]] = []
        for index in range(args.runs + 1):
            state = root / f"fresh-{index}"
            sample = one_run(state, root / f"fresh-{index}.json")
            stop(state)
            if index:  # the first is the warm-up
                first.append(sample)
        report("first-model (register + deploy + smoke test)", first)

        state = root / "repeat"
        one_run(state, root / "warm.json")
        again = [one_run(state, root / f"repeat-{i}.json") for i in range(args.runs)]
        stop(state)
        report("not-better (gate keeps the champion, endpoint kept)", again)


if __name__ == "__main__":
    main()
