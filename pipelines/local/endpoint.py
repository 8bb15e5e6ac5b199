"""The local environment's endpoint: the scoring service as a background process on 127.0.0.1.

``deploy`` starts ``python -m scoring`` detached (its own session, log file under the state
folder), waits until ``/health/ready`` reports the requested model version, writes the endpoint
record atomically, and only then stops the process it replaces: a redeploy never leaves the
endpoint without a ready server, and a new server that fails to start is killed while the old
one keeps serving. ``status`` trusts a record only if its pid is alive *and* is the process
that was started (same start time in ``/proc``), so a reused pid is never mistaken for the
endpoint, let alone killed by ``stop``.

State folder layout::

    <state_dir>/endpoint.json       the record of the running endpoint (EndpointRecord)
    <state_dir>/endpoint.lock       serialises deploy/stop
    <state_dir>/logs/scoring-<port>-<UTC time>.log
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from filelock import FileLock

from pipelines.contracts import READY_PATH, SCORE_PATH
from pipelines.errors import MlopsError
from pipelines.paths import REPO_ROOT

RECORD_FILE = "endpoint.json"
LOCK_FILE = "endpoint.lock"
LOG_DIR = "logs"
HOST = "127.0.0.1"
_LOG_TAIL_LINES = 40


class DeployError(MlopsError):
    """The new scoring process did not become ready; the message ends with its log's tail."""


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    """What ``endpoint.json`` holds about the running local endpoint."""

    pid: int
    port: int
    url: str
    model_name: str
    model_version: str
    model_dir: str
    started_at: str
    log_file: str
    auth: bool
    # The process start time (clock ticks since boot, /proc/<pid>/stat field 22): tells the
    # process we started from a later one that was given the same pid. None off Linux.
    process_start: int | None = None

    @property
    def score_url(self) -> str:
        return f"{self.url}{SCORE_PATH}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EndpointRecord:
        raw = json.loads(text)
        fields = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in raw.items() if k in fields})


# --- processes --------------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in ticks) from /proc, or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    rest = stat[stat.rindex(")") + 2 :].split()
    return rest[0], int(rest[19])


def _process_start(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _alive(pid: int) -> bool:
    _reap(pid)
    if Path("/proc").is_dir():
        stat = _proc_stat(pid)
        return stat is not None and stat[0] not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_running(record: EndpointRecord) -> bool:
    """Whether the record's process is alive and is the one that was started for it."""
    if not _alive(record.pid):
        return False
    if record.process_start is not None and Path("/proc").is_dir():
        return _process_start(record.pid) == record.process_start
    return True


def _terminate(pid: int, *, grace_s: float = 10.0) -> None:
    """SIGTERM the process group (uvicorn drains in-flight requests), SIGKILL after the grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- records ----------------------------------------------------------------------------------


def _read_record(state_dir: Path) -> EndpointRecord | None:
    path = state_dir / RECORD_FILE
    try:
        return EndpointRecord.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return None  # a damaged record describes nothing we can trust


def _write_record(state_dir: Path, record: EndpointRecord) -> None:
    path = state_dir / RECORD_FILE
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(record.to_json(), encoding="utf-8")
    tmp.replace(path)


def status(state_dir: Path) -> EndpointRecord | None:
    """The running endpoint's record, or ``None`` if none runs (no record, or a stale one)."""
    record = _read_record(state_dir)
    if record is None or not is_running(record):
        return None
    return record


def stop(state_dir: Path) -> bool:
    """Stop the local endpoint; ``True`` if a process was stopped. Stale records are removed."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(state_dir / LOCK_FILE):
        record = _read_record(state_dir)
        if record is None:
            return False
        running = is_running(record)
        if running:
            _terminate(record.pid)
        (state_dir / RECORD_FILE).unlink(missing_ok=True)
        return running


# --- deploy -----------------------------------------------------------------------------------


def _log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _child_env(
    model_dir: Path, name: str, version: str, api_key: str | None, extra: dict[str, str] | None
) -> dict[str, str]:
    env = dict(os.environ)
    # Local endpoints never export telemetry, and take their key from the caller only.
    for var in ("APPLICATIONINSIGHTS_CONNECTION_STRING", "SCORING_API_KEY", "SCORING_PORT"):
        env.pop(var, None)
    env.update(
        {
            "AZUREML_MODEL_DIR": str(model_dir.resolve()),
            "SCORING_MODEL_NAME": name,
            "SCORING_MODEL_VERSION": version,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        }
    )
    if api_key is not None:
        env["SCORING_API_KEY"] = api_key
    env.update(extra or {})
    return env


def _spawn(argv: list[str], *, env: dict[str, str], log_file: Path) -> int:
    """Start ``argv`` in a new session (detached: outlives the CLI, not hit by its Ctrl-C).

    ``posix_spawn`` rather than ``subprocess.Popen``: the service is meant to outlive this
    process, and a Popen object would warn about a child still running when collected.
    """
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return os.posix_spawn(
            argv[0],
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, fd, 1),
                (os.POSIX_SPAWN_DUP2, fd, 2),
            ],
            setsid=True,
        )
    finally:
        os.close(fd)


def _wait_ready(
    pid: int,
    url: str,
    version: str,
    *,
    api_key: str | None,
    timeout_s: float,
    progress: Callable[[str], None] | None,
) -> str | None:
    """Poll ``/health/ready`` until it reports ``version``; return why not, or None when ready.

    The service names its model only to callers with the key, so the poll sends it.
    """
    start = time.monotonic()
    last_report = -1.0  # the first poll that finds it not ready says so, then once a second
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(timeout=2.0, trust_env=False, headers=headers) as client:
        while True:
            elapsed = time.monotonic() - start
            if not _alive(pid):
                return "the scoring process exited before it was ready"
            try:
                response = client.get(f"{url}{READY_PATH}")
                if response.status_code == 200 and response.json().get("version") == version:
                    return None
            except (httpx.TransportError, ValueError):
                pass
            if elapsed > timeout_s:
                return f"the scoring process was not ready after {timeout_s:.0f} s"
            if progress is not None and elapsed - last_report >= 1.0:
                last_report = elapsed
                progress(f"waiting for {url}{READY_PATH} ({elapsed:.0f} s)")
            time.sleep(0.1)


def deploy(
    model_dir: Path,
    *,
    name: str,
    version: str,
    state_dir: Path,
    port: int | None = None,
    api_key: str | None = None,
    ready_timeout_s: float = 90.0,
    progress: Callable[[str], None] | None = None,
    extra_env: dict[str, str] | None = None,
) -> EndpointRecord:
    """Start the scoring service for ``model_dir`` on 127.0.0.1 and make it the local endpoint.

    Args:
        model_dir: the model folder (artifact contract) to serve.
        name, version: the registered model name and version the service reports.
        state_dir: where the record, lock and logs live.
        port: a fixed port; ``None`` picks a free one (a redeploy then never collides with
            the process it replaces).
        api_key: require ``Authorization: Bearer <api_key>`` on ``/score`` and ``/metadata``.
        ready_timeout_s: how long to wait for readiness (scikit-learn's import alone takes
            seconds on a small machine).
        progress: called with a status line when the first poll finds the new process not
            ready, then about once a second while waiting.
        extra_env: more environment variables for the service (``SCORING_MAX_ROWS``, ...).

    Returns:
        The record of the new endpoint, already written to ``state_dir``.

    Raises:
        DeployError: the new process did not become ready; it has been stopped, the previous
            endpoint (if any) still serves, and the message ends with the new process's log.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / LOG_DIR).mkdir(exist_ok=True)
    with FileLock(state_dir / LOCK_FILE):
        previous = _read_record(state_dir)
        previous_running = previous is not None and is_running(previous)
        if port is not None and previous_running and previous is not None and previous.port == port:
            raise DeployError(
                f"port {port} is held by the running endpoint (pid {previous.pid}); deploy without "
                "a fixed port to replace it without downtime, or stop it first"
            )
        port = port or free_port()
        url = f"http://{HOST}:{port}"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        log_file = state_dir / LOG_DIR / f"scoring-{port}-{stamp}.log"
        pid = _spawn(
            [sys.executable, "-m", "scoring", "--host", HOST, "--port", str(port)],
            env=_child_env(model_dir, name, version, api_key, extra_env),
            log_file=log_file,
        )
        problem = _wait_ready(
            pid, url, version, api_key=api_key, timeout_s=ready_timeout_s, progress=progress
        )
        if problem is not None:
            _terminate(pid, grace_s=5.0)
            kept = (
                f"; the previous endpoint (model {previous.model_name} v{previous.model_version}, "
                f"{previous.url}) still serves"
                if previous_running and previous is not None
                else ""
            )
            raise DeployError(f"{problem}{kept}.\n--- last lines of {log_file} ---\n{_log_tail(log_file)}")
        record = EndpointRecord(
            pid=pid,
            port=port,
            url=url,
            model_name=name,
            model_version=version,
            model_dir=str(model_dir.resolve()),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            log_file=str(log_file),
            auth=api_key is not None,
            process_start=_process_start(pid),
        )
        _write_record(state_dir, record)
        if previous_running and previous is not None:
            _terminate(previous.pid)
        return record
