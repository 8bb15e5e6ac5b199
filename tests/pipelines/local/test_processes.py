"""Running a step as a process: forked from the warm runner, or a fresh interpreter."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.local import processes
from tests.pipelines.local.step_processes import (
    STEP_MODULE,
    WARM_MARKER,
    wait,
    write_step_module,
)

BOTH = pytest.mark.parametrize("warm", [True, False], ids=["warm", "fresh"])


@pytest.fixture
def step_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "code"
    folder.mkdir()
    write_step_module(folder)
    forget = (STEP_MODULE, WARM_MARKER)
    for name in forget:  # runpy would find a module this process imported, wherever it came from
        sys.modules.pop(name, None)
    yield folder
    for name in forget:
        sys.modules.pop(name, None)


def run_step(step_dir: Path, *args: str, warm: bool, python: str = "python") -> tuple[int, str]:
    """Start ``python -m <step> ARGS`` in ``step_dir`` like the runner does; exit code and log."""
    log = step_dir.parent / "step.log"
    pid = processes.start(
        [python, "-m", STEP_MODULE, *args],
        cwd=step_dir,
        env={"STEP_VALUE": "from the runner"},
        log_path=log,
        warm=warm,
    )
    code = wait(pid)
    return code, log.read_text()


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["python", "-m", "model.train", "--data", "x"], "model.train"),
        (["/usr/bin/python3.11", "-m", "model.evaluate"], "model.evaluate"),
        (["python", "model/train.py"], None),
        (["python", "-m"], None),
        (["bash", "-m", "model.train"], None),
    ],
)
def test_only_python_dash_m_commands_can_be_forked(argv: list[str], module: str | None) -> None:
    assert processes._python_module(argv) == module


@BOTH
def test_a_step_gets_its_argv_cwd_environment_and_log(step_dir: Path, warm: bool) -> None:
    code, log = run_step(step_dir, "ok", "--flag", "two words", warm=warm)
    assert code == 0
    # as `python -m` sets it in a fresh interpreter: the module's file, then the arguments
    assert f"argv {[str(step_dir / f'{STEP_MODULE}.py'), 'ok', '--flag', 'two words']!r}\n" in log
    assert f"cwd {step_dir}\n" in log
    assert "env from the runner\n" in log
    assert "to stderr\n" in log  # stdout and stderr both go to the log
    assert f"parent {os.getpid()}\n" in log  # a child of this process, not of a shell
    assert f"pid {os.getpid()} " not in log


def test_warm_steps_inherit_the_parents_imports_fresh_ones_do_not(
    step_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / f"{WARM_MARKER}.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module(WARM_MARKER)  # the runner's warm_up(), for this test
    _, warm_log = run_step(step_dir, warm=True)
    _, fresh_log = run_step(step_dir, warm=False)
    assert "warm marker imported True" in warm_log
    assert "warm marker imported False" in fresh_log


def test_a_fresh_step_runs_this_interpreter_not_the_python_on_path(step_dir: Path) -> None:
    code, log = run_step(step_dir, warm=False, python="python-not-on-any-path")
    assert code == 0
    assert f"executable {sys.executable}\n" in log


def test_the_step_module_runs_as_main_even_when_the_parent_imported_it(
    step_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(step_dir))
    importlib.import_module(STEP_MODULE)  # imported, not run: `if __name__ == "__main__"` did nothing
    code, log = run_step(step_dir, "exit", "7", warm=True)
    assert code == 7 and "env from the runner" in log


@BOTH
@pytest.mark.parametrize(
    ("args", "code", "in_log"),
    [
        (("exit", "0"), 0, "to stderr"),
        (("exit", "3"), 3, "to stderr"),
        (("message",), 1, "the data breaks a rule"),  # SystemExit("...") prints its message
        (("raise",), 1, "ValueError: a bug in the step"),  # the traceback goes to the log
    ],
    ids=["exit-0", "exit-3", "exit-message", "exception"],
)
def test_exit_codes_and_failures(
    step_dir: Path, warm: bool, args: tuple[str, ...], code: int, in_log: str
) -> None:
    got, log = run_step(step_dir, *args, warm=warm)
    assert got == code, log
    assert in_log in log


@BOTH
def test_poll_says_none_while_the_step_runs(step_dir: Path, tmp_path: Path, warm: bool) -> None:
    go = tmp_path / "go"
    pid = processes.start(
        ["python", "-m", STEP_MODULE, "wait", str(go)],
        cwd=step_dir,
        env={},
        log_path=tmp_path / "wait.log",
        warm=warm,
    )
    try:
        assert processes.poll(pid) is None
    finally:
        go.touch()
    assert wait(pid) == 0


@BOTH
def test_the_log_is_truncated_not_appended(step_dir: Path, warm: bool) -> None:
    (step_dir.parent / "step.log").write_text("from an earlier run\n" * 100)
    _, log = run_step(step_dir, warm=warm)
    assert "earlier run" not in log


def test_a_forked_step_cannot_change_the_runner(step_dir: Path) -> None:
    environ, cwd, path, argv = dict(os.environ), Path.cwd(), list(sys.path), list(sys.argv)
    code, _ = run_step(step_dir, "meddle", warm=True)
    assert code == 0
    assert (dict(os.environ), Path.cwd(), sys.path, sys.argv) == (environ, cwd, path, argv)


def test_a_command_that_is_not_python_runs_as_is_even_when_warm(tmp_path: Path) -> None:
    log = tmp_path / "shell.log"
    # Waits for `go`: a step that ends before start() returns loses its exit status (the defect below).
    pid = processes.start(
        [
            "/bin/sh",
            "-c",
            'while [ ! -e go ]; do sleep 0.01; done; echo "value=$STEP_VALUE in $(pwd)"; exit 4',
        ],
        cwd=tmp_path,
        env={"STEP_VALUE": "v"},
        log_path=log,
        warm=True,
    )
    (tmp_path / "go").touch()
    assert wait(pid) == 4
    assert log.read_text() == f"value=v in {tmp_path}\n"


# --- call_in_child: a function in a forked child, its result pickled back -------------------


def _pid_and_environment() -> tuple[int, str | None]:
    os.environ["MLOPS_TEST_CHILD"] = "set in the child"
    return os.getpid(), os.environ.get("MLOPS_TEST_CHILD")


def _fails(message: str) -> None:
    print("before the failure")
    raise LookupError(message)


def _dies() -> None:
    os._exit(0)


def test_call_in_child_returns_the_result_and_leaves_the_parent_alone(tmp_path: Path) -> None:
    pid, seen = processes.call_in_child(_pid_and_environment, log_path=tmp_path / "child.log")
    assert pid != os.getpid() and seen == "set in the child"
    assert "MLOPS_TEST_CHILD" not in os.environ


def test_call_in_child_reraises_a_failure_with_the_log(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    with pytest.raises(RuntimeError) as error:
        processes.call_in_child(_fails, "no champion", log_path=log)
    assert str(error.value) == f"_fails failed: LookupError: no champion (log: {log})"
    text = log.read_text()
    assert "before the failure" in text and "Traceback" in text


def test_call_in_child_says_when_the_child_died_without_a_result(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="_dies died without a result"):
        processes.call_in_child(_dies, log_path=tmp_path / "child.log")


def _exited(pid: int) -> bool:
    """The process has ended (a zombie waiting for its parent, or already reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_a_fresh_steps_exit_code_survives_another_subprocess_in_the_runner(tmp_path: Path) -> None:
    # A dropped Popen would be reaped by subprocess itself (Popen.__del__ once the step has
    # exited, or its clean-up when the runner next starts any process): poll() would then fail.
    pid = processes.start(
        ["/bin/sh", "-c", "exit 3"], cwd=tmp_path, env={}, log_path=tmp_path / "log", warm=False
    )
    deadline = time.monotonic() + 30
    while not _exited(pid):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    subprocess.run(["true"], check=True)  # anything else the runner might start meanwhile
    assert wait(pid) == 3
