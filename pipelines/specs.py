"""The pipeline and component specs (Azure ML YAML) read as plain data, and their commands rendered.

The same files are submitted to Azure ML; here they are read without the SDK so the local
runner stays light. tests/pipelines/test_components.py validates them with azure-ai-ml.
"""

import re
import shlex
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import yaml

from pipelines.paths import PIPELINE_SPEC

_PARENT_INPUT = re.compile(r"^\$\{\{parent\.inputs\.(\w+)\}\}$")
_PARENT_JOB_OUTPUT = re.compile(r"^\$\{\{parent\.jobs\.(\w+)\.outputs\.(\w+)\}\}$")
_PARENT_OUTPUT = re.compile(r"^\$\{\{parent\.outputs\.(\w+)\}\}$")
_OPTIONAL_GROUP = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)
_PLACEHOLDER = re.compile(r"\$\{\{(inputs|outputs)\.(\w+)\}\}")


# The pipeline-level output that carries the training outcome (``registered.json``): Azure ML
# downloads it with ``jobs.download(output_name=...)``, the local runner reads the job output it
# is promoted from. components/pipeline.yml declares it.
OUTCOME_OUTPUT = "registered"

# Command-line override (model.params dotted key) -> (pipeline job, component input): one map
# for the local runner and the Azure ML pipeline job.
OVERRIDE_INPUTS: dict[str, tuple[str, str]] = {
    "estimator.alpha": ("train", "alpha"),
    "train.test_size": ("train", "test_size"),
    "train.seed": ("train", "seed"),
    "gate.min_improvement": ("evaluate", "min_improvement"),
    "gate.latency_budget_ms": ("evaluate", "latency_budget_ms"),
}


class SpecError(ValueError):
    """A spec is malformed or a binding is missing."""


@dataclass(frozen=True)
class Component:
    """A command component: its inputs (with defaults), outputs and command template."""

    name: str
    path: Path
    command: str
    inputs: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Job:
    """One step of the pipeline: a component, its input bindings and its promoted outputs."""

    name: str
    component: Component
    bindings: dict[str, str]
    upstream: frozenset[str] = field(default_factory=frozenset)
    # component output -> the pipeline-level output it is promoted to (``${{parent.outputs.x}}``)
    promoted: dict[str, str] = field(default_factory=dict)


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise SpecError(f"{path}: not a YAML mapping")
    return data


def load_component(path: Path) -> Component:
    """Read a command component spec."""
    data = _read_yaml(path)
    if data.get("type") != "command":
        raise SpecError(f"{path}: only command components run locally (type: {data.get('type')})")
    return Component(
        name=str(data["name"]),
        path=path,
        command=" ".join(str(data["command"]).split()),
        inputs=dict(data.get("inputs") or {}),
        outputs=dict(data.get("outputs") or {}),
    )


def _promoted_outputs(path: Path, name: str, spec: dict[str, Any], component: Component) -> dict[str, str]:
    """A job's ``outputs:`` bindings: each a component output promoted to a pipeline-level output."""
    promoted = {}
    for key, value in (spec.get("outputs") or {}).items():
        match = _PARENT_OUTPUT.match(str(value))
        if match is None:
            expected = "${{parent.outputs.<name>}}"
            raise SpecError(f"{path}: job {name}: output '{key}' must be bound as {expected}, got {value!r}")
        if key not in component.outputs:
            raise SpecError(f"{path}: job {name}: component {component.name} has no output '{key}'")
        promoted[key] = match.group(1)
    return promoted


def load_pipeline(path: Path = PIPELINE_SPEC) -> tuple[dict[str, Any], list[Job]]:
    """The pipeline's own inputs and its jobs in dependency order."""
    data = _read_yaml(path)
    jobs: dict[str, Job] = {}
    for name, spec in (data.get("jobs") or {}).items():
        component = load_component((path.parent / spec["component"]).resolve())
        bindings = {key: str(value) for key, value in (spec.get("inputs") or {}).items()}
        upstream = frozenset(
            match.group(1) for value in bindings.values() if (match := _PARENT_JOB_OUTPUT.match(value))
        )
        promoted = _promoted_outputs(path, name, spec, component)
        jobs[name] = Job(name, component, bindings, upstream, promoted)
    try:
        order = list(TopologicalSorter({n: j.upstream for n, j in jobs.items()}).static_order())
    except CycleError as error:
        raise SpecError(f"{path}: the jobs depend on each other in a cycle: {error.args[1]}") from None
    missing = {up for job in jobs.values() for up in job.upstream} - jobs.keys()
    if missing:
        raise SpecError(f"{path}: bindings name unknown jobs {sorted(missing)}")
    _check_pipeline_outputs(path, data, jobs.values())
    inputs = {}
    for key, value in (data.get("inputs") or {}).items():
        if isinstance(value, dict):  # a data input: its path, or unset (the runner sets it)
            inputs[key] = str((path.parent / value["path"]).resolve()) if "path" in value else None
        else:
            inputs[key] = value
    return inputs, [jobs[name] for name in order]


def _check_pipeline_outputs(path: Path, data: dict[str, Any], jobs: Any) -> None:
    """Every pipeline-level output is bound from exactly one job output, and every binding names one."""
    declared = set((data.get("outputs") or {}).keys())
    bound: dict[str, list[str]] = {}
    for job in jobs:
        for key, target in job.promoted.items():
            bound.setdefault(target, []).append(f"{job.name}.{key}")
    if unknown := sorted(set(bound) - declared):
        raise SpecError(f"{path}: jobs bind undeclared pipeline outputs {unknown} (declare them in outputs:)")
    if unbound := sorted(declared - set(bound)):
        raise SpecError(f"{path}: pipeline outputs {unbound} are bound from no job output")
    if twice := sorted(name for name, sources in bound.items() if len(sources) > 1):
        raise SpecError(f"{path}: pipeline outputs {twice} are bound from more than one job output")


def pipeline_outputs(path: Path = PIPELINE_SPEC) -> dict[str, tuple[str, str]]:
    """The pipeline-level outputs: name -> (job, component output) it is promoted from."""
    _, jobs = load_pipeline(path)
    return {target: (job.name, key) for job in jobs for key, target in job.promoted.items()}


def override_inputs(overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-job input values for the overrides that are set (``{"train": {"alpha": 0.5}}``)."""
    jobs: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in OVERRIDE_INPUTS:
            raise SpecError(f"unknown override {key!r} (known: {', '.join(sorted(OVERRIDE_INPUTS))})")
        job, name = OVERRIDE_INPUTS[key]
        jobs.setdefault(job, {})[name] = value
    return jobs


def resolve_inputs(
    job: Job,
    pipeline_inputs: dict[str, Any],
    outputs: dict[str, dict[str, Path]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """A job's input values: its bindings, then ``extra`` (per-run values), then component defaults."""
    values: dict[str, Any] = {}
    for key, binding in job.bindings.items():
        if match := _PARENT_INPUT.match(binding):
            if match.group(1) not in pipeline_inputs:
                raise SpecError(f"job {job.name}: pipeline input '{match.group(1)}' is not set")
            values[key] = pipeline_inputs[match.group(1)]
        elif match := _PARENT_JOB_OUTPUT.match(binding):
            values[key] = outputs[match.group(1)][match.group(2)]
        else:
            values[key] = binding
    for key, value in extra.items():
        if key not in job.component.inputs:
            raise SpecError(f"job {job.name}: component {job.component.name} has no input '{key}'")
        if value is not None:
            values[key] = value
    for key, spec in job.component.inputs.items():
        if key not in values and "default" in spec:
            values[key] = spec["default"]
        if key not in values and not spec.get("optional", False):
            raise SpecError(f"job {job.name}: required input '{key}' has no value")
    return values


def render_command(component: Component, inputs: dict[str, Any], outputs: dict[str, Path]) -> list[str]:
    """The command's argv: placeholders filled, optional ``$[[...]]`` groups dropped when unset."""

    def fill(text: str, *, strict: bool) -> str | None:
        missing = False

        def value(match: re.Match[str]) -> str:
            nonlocal missing
            kind, key = match.groups()
            source: dict[str, Any] = inputs if kind == "inputs" else outputs
            if key not in source or source[key] is None:
                if strict:
                    raise SpecError(f"{component.name}: {kind}.{key} has no value")
                missing = True
                return ""
            return shlex.quote(str(source[key]))

        filled = _PLACEHOLDER.sub(value, text)
        return None if missing else filled

    def optional(match: re.Match[str]) -> str:
        return fill(match.group(1), strict=False) or ""

    command = fill(_OPTIONAL_GROUP.sub(optional, component.command), strict=True)
    assert command is not None
    return shlex.split(command)
