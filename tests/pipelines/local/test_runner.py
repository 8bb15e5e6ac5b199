"""The local pipeline runner on a tiny spec: order, bindings, logs, and the first failure stops it."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from pipelines.local import runner
from pipelines.local.runner import StepFailed, run_pipeline, tail
from tests.pipelines.local.step_processes import STEP_MODULE, write_step_module

BOTH = pytest.mark.parametrize("warm", [True, False], ids=["warm", "fresh"])

COMPONENTS = {
    "make.yml": f"""
        type: command
        name: make
        inputs:
          text: {{type: string, default: from the component}}
        outputs:
          result: {{type: uri_folder}}
        command: python -m {STEP_MODULE} make ${{{{inputs.text}}}} --out ${{{{outputs.result}}}}
    """,
    "copy.yml": f"""
        type: command
        name: copy
        inputs:
          source: {{type: uri_folder}}
          suffix: {{type: string, optional: true}}
        outputs:
          result: {{type: uri_folder}}
        command: >-
          python -m {STEP_MODULE} copy --source ${{{{inputs.source}}}} --out ${{{{outputs.result}}}}
          $[[${{{{inputs.suffix}}}}]]
    """,
    "lines.yml": f"""
        type: command
        name: lines
        inputs:
          after: {{type: uri_folder}}
          count: {{type: integer, default: 40}}
          code: {{type: integer, default: 3}}
        outputs:
          result: {{type: uri_folder}}
        command: python -m {STEP_MODULE} lines ${{{{inputs.count}}}} ${{{{inputs.code}}}}
    """,
}

# Listed out of order on purpose: the bindings, not the listing, decide the order.
TWO_STEPS = """
    type: pipeline
    inputs:
      greeting: hello
    jobs:
      shout:
        component: ./copy.yml
        inputs:
          source: ${{parent.jobs.make.outputs.result}}
      make:
        component: ./make.yml
        inputs:
          text: ${{parent.inputs.greeting}}
"""

FAILS_IN_THE_MIDDLE = """
    type: pipeline
    jobs:
      make:
        component: ./make.yml
      fail:
        component: ./lines.yml
        inputs:
          after: ${{parent.jobs.make.outputs.result}}
      never:
        component: ./copy.yml
        inputs:
          source: ${{parent.jobs.fail.outputs.result}}
"""


@pytest.fixture
def code_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The steps' working directory (the components' `code:`), holding the step module."""
    folder = tmp_path / "code"
    folder.mkdir()
    write_step_module(folder)
    monkeypatch.setattr(runner, "CODE_DIR", folder)
    return folder


def write_spec(folder: Path, pipeline: str) -> Path:
    specs = folder / "specs"
    specs.mkdir()
    for name, text in COMPONENTS.items():
        (specs / name).write_text(textwrap.dedent(text))
    spec = specs / "pipeline.yml"
    spec.write_text(textwrap.dedent(pipeline))
    return spec


def run(
    spec: Path,
    run_dir: Path,
    screen: io.StringIO,
    *,
    warm: bool,
    pipeline_inputs: dict[str, Any] | None = None,
    job_inputs: dict[str, dict[str, Any]] | None = None,
) -> list[runner.StepResult]:
    """``run_pipeline`` as the lifecycle calls it; its progress lines go to ``screen``."""
    return run_pipeline(
        run_dir,
        pipeline_inputs=pipeline_inputs or {},
        job_inputs=job_inputs or {},
        env={"STEP_VALUE": "from the runner"},
        console=Console(file=screen, width=200),
        warm=warm,
        spec=spec,
    )


@BOTH
def test_jobs_run_in_dependency_order_with_outputs_bound_to_inputs(
    code_dir: Path, tmp_path: Path, warm: bool
) -> None:
    run_dir, screen = tmp_path / "run", io.StringIO()
    results = run(write_spec(tmp_path, TWO_STEPS), run_dir, screen, warm=warm)
    assert [r.name for r in results] == ["make", "shout"]
    for result in results:
        assert result.outputs == {"result": run_dir / result.name / "result"}
        assert result.log == run_dir / "logs" / f"{result.name}.log"
        assert "env from the runner" in result.log.read_text()
        assert f"cwd {code_dir}\n" in result.log.read_text()
    assert (run_dir / "make" / "result" / "value.txt").read_text() == "hello"
    assert (run_dir / "shout" / "result" / "value.txt").read_text() == "HELLO"  # make's output, read
    printed = screen.getvalue()
    assert "✓ [1/2] make" in printed and "✓ [2/2] shout" in printed
    assert "copied 'hello'" in printed  # each line ends with the step's last log line


def test_pipeline_inputs_override_the_defaults_and_job_inputs_reach_the_command(
    code_dir: Path, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, TWO_STEPS)
    run(spec, tmp_path / "unset", io.StringIO(), warm=True, pipeline_inputs={"greeting": None})
    assert (tmp_path / "unset" / "shout" / "result" / "value.txt").read_text() == "HELLO"
    run(
        spec,
        tmp_path / "set",
        io.StringIO(),
        warm=True,
        pipeline_inputs={"greeting": "hi there"},
        job_inputs={"shout": {"suffix": "!"}},
    )
    assert (tmp_path / "set" / "shout" / "result" / "value.txt").read_text() == "HI THERE!"


@BOTH
def test_the_first_failing_step_stops_the_run_with_the_tail_of_its_log(
    code_dir: Path, tmp_path: Path, warm: bool
) -> None:
    run_dir, screen = tmp_path / "run", io.StringIO()
    with pytest.raises(StepFailed) as failure:
        run(write_spec(tmp_path, FAILS_IN_THE_MIDDLE), run_dir, screen, warm=warm)
    error = failure.value
    assert (error.step, error.exit_code, error.log) == ("fail", 3, run_dir / "logs" / "fail.log")
    assert error.tail == [f"line {n}" for n in range(26, 41)]  # the last 15 lines, in order
    assert str(error) == f"step fail failed (exit 3); log: {run_dir / 'logs' / 'fail.log'}"
    assert (run_dir / "make" / "result" / "value.txt").is_file()
    assert not (run_dir / "logs" / "never.log").exists()  # never started
    printed = screen.getvalue()
    assert "✓ [1/3] make" in printed and "✗ [2/3] fail failed after" in printed
    assert "(exit 3)" in printed and "[3/3]" not in printed


def test_tail_of_a_missing_short_and_undecodable_log(tmp_path: Path) -> None:
    assert tail(tmp_path / "missing.log") == []
    short = tmp_path / "short.log"
    short.write_text("one\ntwo\n")
    assert tail(short) == ["one", "two"]
    binary = tmp_path / "binary.log"
    binary.write_bytes(b"ok\n\xff\xfe broken\n")
    assert tail(binary, 1) == ["\ufffd\ufffd broken"]
