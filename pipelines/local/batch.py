"""Score a file locally: a registered version's model folder, run through ``python -m scoring.batch``.

The scoring code is the service's (``scoring/``), run as a process like the endpoint: this
module picks the version (the one asked for, else production, else the newest), fetches its
folder from the registry, starts the process, relays its progress (one JSON line per batch on
its stdout) and reads its summary. The process's exit code 2 (a bad input: nothing was written)
is a usage error here, anything else non-zero a failure; its last stderr line is the message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.errors import MlopsError, UsageError
from pipelines.local.deploy import pick_version
from pipelines.local.registry import LocalRegistry
from pipelines.paths import REPO_ROOT

Progress = Callable[[int, int | None], None]  # rows done, total rows when known


class BatchScoringError(MlopsError):
    """The scoring process failed (the model folder, the disk): nothing was written."""


def scoring_command(
    model_dir: Path,
    name: str,
    version: str,
    source: Path,
    output: Path,
    rejects: Path | None,
    summary_file: Path,
) -> list[str]:
    """The ``python -m scoring.batch`` command line for one run."""
    command = [
        sys.executable, "-m", "scoring.batch",
        "--model-dir", str(model_dir),
        "--model-name", name,
        "--model-version", version,
        "--input", str(source),
        "--output", str(output),
        "--summary-file", str(summary_file),
        "--progress",
    ]  # fmt: skip
    if rejects is not None:
        command += ["--rejects", str(rejects)]
    return command


def score_batch(
    registry: LocalRegistry,
    name: str,
    version: str | None,
    source: Path,
    output: Path,
    *,
    rejects: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score ``source`` (a CSV/Parquet file or folder) into ``output`` with a registered version.

    Returns:
        The run's summary: model name and version, files, rows read, scored and rejected,
        output and rejects paths, seconds.

    Raises:
        UsageError: ``source`` does not exist, the version is unknown, or the input cannot be
            scored (its format, its columns); nothing was written.
        BatchScoringError: the scoring process failed otherwise.
    """
    if not source.exists():
        raise UsageError(f"input {source} does not exist")
    chosen = pick_version(registry, name, version)
    try:
        model = registry.get(name, chosen)
    except LookupError as unknown:
        raise UsageError(str(unknown)) from None
    with tempfile.TemporaryDirectory(prefix="mlops-batch-") as work:
        summary_file = Path(work) / "summary.json"
        command = scoring_command(model.path, name, chosen, source, output, rejects, summary_file)
        code, error = _run(command, progress)
        if code == 0:
            summary: dict[str, Any] = json.loads(summary_file.read_text(encoding="utf-8"))
            return summary
    message = error or f"python -m scoring.batch exited with {code}"
    raise (UsageError if code == 2 else BatchScoringError)(message)


def _run(command: list[str], progress: Progress | None) -> tuple[int, str]:
    """Run the scoring process, relaying its progress; its exit code and last stderr line.

    Ctrl-C reaches the process too (same process group): it removes its temporary files and
    exits; this waits for it before letting the interrupt go on.
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
        # Popen's context manager closes the pipe and waits for the process, also on Ctrl-C.
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env) as process:
            assert process.stdout is not None
            for line in process.stdout:
                event = json.loads(line)
                if progress is not None:
                    progress(int(event["rows"]), event["total"])
        code = process.returncode
        stderr.seek(0)
        lines = [line.strip() for line in stderr.read().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return code, last.removeprefix("error: ")
