"""`mlops ...` run as a user runs it: a real subprocess with its own state folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.local.endpoint import RECORD_FILE
from pipelines.local.registry import LocalRegistry
from pipelines.local.state import StatePaths
from tests.model_folders import MODEL_NAME

MLOPS = str(Path(sys.executable).with_name("mlops"))
MODEL = MODEL_NAME


@dataclass
class Result:
    """One finished `mlops` command: exit code, output and (for `run`) the summary file."""

    code: int
    out: str
    err: str
    summary: dict[str, Any] | None


class Mlops:
    """`mlops ...` as a user runs it, with its own state folder."""

    def __init__(self, state: Path, tmp: Path) -> None:
        self.state, self.tmp, self.count = state, tmp, 0
        self.env = {**os.environ, "MLOPS_STATE_DIR": str(state), "COLUMNS": "200", "NO_COLOR": "1"}

    def __call__(self, *args: str, timeout: float = 300) -> Result:
        self.count += 1
        summary_path = self.tmp / f"summary-{self.count}.json"
        argv = [MLOPS, *args]
        if args and args[0] == "run":
            argv += ["--summary-file", str(summary_path)]
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
        return Result(done.returncode, done.stdout, done.stderr, summary)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [MLOPS, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def registry(self) -> tuple[list[str], str | None]:
        """Registered versions and the production one, as another process reads them (this one)."""
        registry = LocalRegistry(StatePaths(self.state))
        return registry.versions(MODEL), registry.production_version(MODEL)

    def versions(self) -> list[str]:
        """Registered versions, oldest first."""
        return self.registry()[0]

    def stop_endpoint(self) -> None:
        """`mlops endpoint stop`, when an endpoint was started: never leave a server behind."""
        if not (StatePaths(self.state).endpoint_dir / RECORD_FILE).exists():
            return  # no record: `mlops endpoint stop` would find nothing to stop either
        stop = [MLOPS, "endpoint", "stop"]
        subprocess.run(stop, env=self.env, capture_output=True, timeout=60, check=False)
