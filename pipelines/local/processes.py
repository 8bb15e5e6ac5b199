"""Running a step's command as a process: fork from a warm parent, or a fresh interpreter.

Importing scikit-learn, pandas and MLflow costs several seconds per interpreter on a small
machine. With ``warm=True`` the runner imports them once and forks a child per step; the
child runs ``python -m <module>`` exactly as a fresh interpreter would (``runpy``, its own
argv, environment, working directory and log file), so one failing step cannot harm the
runner. ``warm=False`` runs the literal command in a new interpreter (``MLOPS_COLD_STEPS=1``).
"""

import importlib
import io
import os
import pickle
import runpy
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Third-party modules the steps import; never our own step modules (runpy must run those fresh).
WARM_MODULES = (
    "numpy",
    "pandas",
    "pandera.pandas",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "sklearn.metrics",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "joblib",
    "matplotlib.pyplot",
    "mlflow",
    "mlflow.sklearn",
    "mlflow.artifacts",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "skops.io",
    "matplotlib.backends.backend_agg",
)


def warm_up(modules: tuple[str, ...] = WARM_MODULES) -> None:
    """Import the steps' heavy dependencies once, before any fork."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in modules:
        importlib.import_module(name)


def _python_module(argv: list[str]) -> str | None:
    if len(argv) >= 3 and Path(argv[0]).name.startswith("python") and argv[1] == "-m":
        return argv[2]
    return None


def _child_exit_code(error: SystemExit) -> int:
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def _redirect_output(log_path: Path) -> None:
    """Send the child's fds 1 and 2 to its log, and ``sys.stdout``/``sys.stderr`` to those fds
    (the parent's may write elsewhere, e.g. an embedding program's capture)."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)


_FRESH: dict[int, subprocess.Popen[bytes]] = {}
"""Fresh-interpreter steps still running, by pid: a dropped ``Popen`` would be reaped by
``subprocess`` itself (its ``__del__``, or its clean-up when any other process starts), and
:func:`poll` would lose the exit code."""


def start(argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, warm: bool) -> int:
    """Start a step; return the child's pid (follow it with :func:`poll`)."""
    module = _python_module(argv)
    if not warm or module is None:
        command = [sys.executable, *argv[1:]] if module else argv
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
            )
        _FRESH[process.pid] = process
        return process.pid
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:  # the child: never returns
        _redirect_output(log_path)
        os.chdir(cwd)
        os.environ.update(env)
        sys.path.insert(0, str(cwd))
        sys.argv = [module, *argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as error:
        code = _child_exit_code(error)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def poll(pid: int) -> int | None:
    """The exit code of a finished child, or None while it runs."""
    if (fresh := _FRESH.get(pid)) is not None:
        code = fresh.poll()
        if code is not None:
            del _FRESH[pid]
        return code
    done, status = os.waitpid(pid, os.WNOHANG)
    if not done:
        return None
    return os.waitstatus_to_exitcode(status)


def call_in_child(function: Callable[..., T], *args: Any, log_path: Path) -> T:
    """Run ``function(*args)`` in a forked child and return its (pickled) result.

    For work that opens the MLflow database: a connection must not be shared across a fork,
    so the parent keeps none while it still forks steps.
    """
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        code = 0
        try:
            _redirect_output(log_path)
            payload = pickle.dumps(("ok", function(*args)))
        except BaseException as error:
            traceback.print_exc()
            payload = pickle.dumps(("error", f"{type(error).__name__}: {error}"))
            code = 1
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(f"{function.__name__} died without a result; see {log_path}")
    kind, value = pickle.loads(data)  # noqa: S301 - our own child's pickle
    if kind == "error":
        raise RuntimeError(f"{function.__name__} failed: {value} (log: {log_path})")
    result: T = value
    return result
