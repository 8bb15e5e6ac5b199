"""`mlops monitor --env local`: the serving version's training data vs what the local endpoint collected.

The comparison is ``python -m model.monitor`` (pandas, SciPy, matplotlib) in a process of its own,
on the version the endpoint serves (the registry's production alias); this module finds its
model folder, offline metrics and data, reads the step's ``summary.json`` and says whether it drifted.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.paths import REPO_ROOT
from pipelines.errors import MlopsError, UsageError
from pipelines.local.registry import LocalRegistry

SUMMARY_FILE = "summary.json"  # model/monitor.py writes it (pinned by tests/pipelines/local/test_monitor.py)
INDEX_FILE = "index.html"


@dataclass(frozen=True)
class MonitorOptions:
    """What ``mlops monitor --env local`` was asked for."""

    model_name: str
    reference_data: Path | None = None
    labels: Path | None = None
    window_hours: float | None = None
    config: Path | None = None


@dataclass(frozen=True)
class MonitorOutcome:
    """The check's verdict and where its report is."""

    version: str
    drift: bool
    summary: dict[str, Any]
    report_dir: Path

    @property
    def index(self) -> Path:
        return self.report_dir / INDEX_FILE


def serving_version(registry: LocalRegistry, name: str) -> str:
    """The version the local endpoint serves (production alias); a UsageError when there is none."""
    version = registry.production_version(name)
    if version is None:
        raise UsageError(f"no version of {name} is in production yet: run `mlops run --env local` first")
    return version


def _new_report_dir(root: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = root / f"{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True)
    return path


def _offline(tags: dict[str, str], key: str) -> list[str]:
    value = tags.get(key)
    return [f"--offline-{key}", value] if value else []


def check(registry: LocalRegistry, options: MonitorOptions) -> MonitorOutcome:
    """Run the comparison for the serving version; raise MlopsError with the step's one-line reason."""
    version = serving_version(registry, options.model_name)
    model = registry.get(options.model_name, version)
    out = _new_report_dir(registry.state.monitor_dir)
    argv = [
        sys.executable, "-m", "model.monitor",
        "--model", str(model.path),
        "--collected", str(registry.state.collected_dir),
        "--output", str(out),
        "--model-version", version,
        *_offline(model.tags, "rmse"),
        *_offline(model.tags, "mae"),
    ]  # fmt: skip
    if options.reference_data is not None:
        argv += ["--reference-data", str(options.reference_data.resolve())]
    if options.labels is not None:
        argv += ["--labels", str(options.labels.resolve())]
    if options.window_hours is not None:
        argv += ["--window-hours", str(options.window_hours)]
    if options.config is not None:
        argv += ["--config", str(options.config.resolve())]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    (out / "monitor.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = next((line for line in reversed(lines) if line.startswith("error: ")), None)
        raise MlopsError(
            reason.removeprefix("error: ")
            if reason
            else f"the monitor step failed; see {out / 'monitor.log'}"
        )
    summary = json.loads((out / SUMMARY_FILE).read_text())
    return MonitorOutcome(version, bool(summary["drift"]), summary, out)
