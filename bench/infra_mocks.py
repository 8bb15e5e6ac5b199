"""Benchmark: evaluate the Pulumi program under mocks for every environment.

    .venv/bin/python bench/infra_mocks.py [--repeat N]

Prints the one-time import cost (pulumi + the pulumi-azure-native modules the program uses;
large when Python may not write bytecode caches) and, per stack, the evaluation time (best of N)
and resource count. The target is <= 5 s in total for all environments.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STACKS = ("dev", "qa", "prod", "dev-bench")
BUDGET_SECONDS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    from infra.offline import run_stack

    run_stack("prod")  # first run: imports the lazily loaded SDK modules of every component
    run_stack("qa")
    run_stack("dev")
    warmup = time.perf_counter() - start
    print(f"python {sys.version.split()[0]}, bytecode cache writes: {not sys.dont_write_bytecode}")
    print(f"import + first evaluation of each environment: {warmup:6.2f} s")

    total = 0.0
    for stack in STACKS:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            run = run_stack(stack)
            times.append(time.perf_counter() - t)
        best = min(times)
        total += best
        print(
            f"  {stack:10s} {len(run.custom_resources):3d} resources "
            f"{len(run.outputs):3d} outputs  best {best:6.3f} s  (of {args.repeat})"
        )
    verdict = "ok" if total <= BUDGET_SECONDS else "OVER BUDGET"
    print(f"all environments: {total:6.3f} s (budget {BUDGET_SECONDS:.1f} s): {verdict}")
    return 0 if total <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
