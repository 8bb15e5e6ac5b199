"""Run the pipeline spec on this machine: each job a process, in dependency order, with progress."""

import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from pipelines.local import processes
from pipelines.paths import PIPELINE_SPEC, REPO_ROOT
from pipelines.specs import load_pipeline, render_command, resolve_inputs

LOG_TAIL_LINES = 15
CODE_DIR = REPO_ROOT  # the components' `code: ..`


@dataclass(frozen=True)
class StepResult:
    """A finished step."""

    name: str
    seconds: float
    outputs: dict[str, Path]
    log: Path


class StepFailed(RuntimeError):
    """A step exited non-zero; carries the tail of its log."""

    def __init__(self, step: str, exit_code: int, log: Path) -> None:
        self.step, self.exit_code, self.log = step, exit_code, log
        self.tail = tail(log)
        super().__init__(f"step {step} failed (exit {exit_code}); log: {log}")


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last lines of a log file."""
    if not path.is_file():
        return []
    with path.open(errors="replace") as handle:
        return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]


def _last_line(path: Path) -> str:
    lines = [line for line in tail(path, 3) if line.strip()]
    return lines[-1][:80] if lines else ""


def run_pipeline(
    run_dir: Path,
    *,
    pipeline_inputs: dict[str, Any],
    job_inputs: dict[str, dict[str, Any]],
    env: dict[str, str],
    console: Console,
    warm: bool = True,
    spec: Path = PIPELINE_SPEC,
) -> list[StepResult]:
    """Run every job of ``spec``; outputs go to ``run_dir/<job>/<output>``; stop at the first failure."""
    defaults, jobs = load_pipeline(spec)
    inputs = {**defaults, **{k: v for k, v in pipeline_inputs.items() if v is not None}}
    outputs: dict[str, dict[str, Path]] = {}
    results: list[StepResult] = []
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for index, job in enumerate(jobs, start=1):
        job_outputs = {key: run_dir / job.name / key for key in job.component.outputs}
        for folder in job_outputs.values():
            folder.mkdir(parents=True, exist_ok=True)
        values = resolve_inputs(job, inputs, outputs, job_inputs.get(job.name, {}))
        argv = render_command(job.component, values, job_outputs)
        log = logs / f"{job.name}.log"
        label = f"[{index}/{len(jobs)}] {job.name}"
        started = time.perf_counter()
        pid = processes.start(argv, cwd=CODE_DIR, env=env, log_path=log, warm=warm)
        with console.status(label) as status:
            while (code := processes.poll(pid)) is None:
                status.update(f"{label} {time.perf_counter() - started:5.1f}s  {_last_line(log)}")
                time.sleep(0.05)
        seconds = time.perf_counter() - started
        if code != 0:
            console.print(f"[red]✗[/red] {label} failed after {seconds:.1f}s (exit {code})")
            raise StepFailed(job.name, code, log)
        console.print(f"[green]✓[/green] {label} {seconds:.1f}s  [dim]{_last_line(log)}[/dim]")
        outputs[job.name] = job_outputs
        results.append(StepResult(job.name, seconds, job_outputs, log))
    return results


def step_env(tracking_uri: str, run_id: str, lock: Path) -> dict[str, str]:
    """The environment each step runs with: where to log and the registry lock."""
    return {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_RUN_ID": run_id,
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLOPS_REGISTRY_LOCK": str(lock),
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
        "MLOPS_GIT_COMMIT": os.environ.get("MLOPS_GIT_COMMIT", ""),
    }
