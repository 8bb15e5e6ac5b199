"""Helpers for the tests of the local step runner: a tiny step module, real stdio, waiting for a pid."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from pipelines.local import processes

STEP_MODULE = "mlops_test_step"
WARM_MARKER = "mlops_test_warm_marker"

STEP_SOURCE = textwrap.dedent(
    '''
    """A step for the runner's tests: `python -m mlops_test_step ACTION [ARGS...]`."""
    import os
    import sys
    import time
    from pathlib import Path

    def main(action: str, args: list[str]) -> int:
        print(f"pid {os.getpid()} parent {os.getppid()}")
        print(f"argv {sys.argv!r}")
        print(f"cwd {os.getcwd()}")
        print(f"env {os.environ.get('STEP_VALUE')}")
        print(f"executable {sys.executable}")
        print(f"warm marker imported {'mlops_test_warm_marker' in sys.modules}")  # WARM_MARKER
        print("to stderr", file=sys.stderr)
        if action == "exit":
            raise SystemExit(int(args[0]))
        if action == "message":
            raise SystemExit("the data breaks a rule")
        if action == "raise":
            raise ValueError("a bug in the step")
        if action == "meddle":  # what a careless step may do to its interpreter
            os.environ["STEP_VALUE"] = "changed by the step"
            os.chdir("/")
            sys.path.insert(0, "/meddled")
        if action == "wait":
            while not Path(args[0]).exists():
                time.sleep(0.01)
        if action == "lines":
            for number in range(1, int(args[0]) + 1):
                print(f"line {number}")
            return int(args[1])
        if action == "copy":  # copy --source FOLDER --out FOLDER: outputs bound to inputs
            source, out = Path(args[1]), Path(args[3])
            text = (source / "value.txt").read_text()
            (out / "value.txt").write_text(text.upper() + "".join(args[4:]))
            print(f"copied {text!r}")
        if action == "make":  # make TEXT --out FOLDER
            Path(args[2], "value.txt").write_text(args[0])
            print(f"made {args[0]!r}")
        return 0

    if __name__ == "__main__":
        raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "ok", sys.argv[2:]))
    '''
)


def write_step_module(folder: Path) -> Path:
    """Write the step module into ``folder`` (the step's working directory) and return its path."""
    path = folder / f"{STEP_MODULE}.py"
    path.write_text(STEP_SOURCE)
    return path


def wait(pid: int, timeout_s: float = 60) -> int:
    """Poll a started step until it exits; its exit code."""
    deadline = time.monotonic() + timeout_s
    while (code := processes.poll(pid)) is None:
        assert time.monotonic() < deadline, f"step {pid} still running after {timeout_s}s"
        time.sleep(0.01)
    return code
