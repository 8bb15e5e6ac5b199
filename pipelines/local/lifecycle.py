"""`mlops run --env local`: data check -> train -> evaluate -> register -> deploy -> smoke test."""

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from model.lineage import git_commit
from model.outputs import REPORT_FILE, RESULT_FILE
from model.params import Params, default_params_path, load_params, write_params
from pipelines.local import deploy as local_deploy
from pipelines.local import endpoint as local_endpoint
from pipelines.local import processes
from pipelines.local.registry import LocalRegistry
from pipelines.local.runner import run_pipeline, step_env
from pipelines.local.state import StatePaths
from pipelines.smoke import SmokeTestError
from pipelines.specs import OUTCOME_OUTPUT, OVERRIDE_INPUTS, override_inputs, pipeline_outputs


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for."""

    data: Path | None = None
    params_file: Path = field(default_factory=default_params_path)
    overrides: dict[str, Any] = field(default_factory=dict)
    deploy: bool = True
    warm: bool = True


@dataclass
class RunSummary:
    """What happened, for the closing table and for scripts (``--summary-file``)."""

    run_dir: Path
    mlflow_run_id: str
    model_name: str
    registered: bool
    version: str | None
    reason: str
    challenger: dict[str, float]
    champion: dict[str, float] | None
    champion_version: str | None
    seconds: dict[str, float] = field(default_factory=dict)
    endpoint_url: str | None = None
    serving_version: str | None = None
    smoke_test: str | None = None
    problem: str | None = None  # deploy or smoke test failed: the run exits non-zero

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = dict(self.__dict__)
        data["run_dir"] = str(self.run_dir)
        return data


def _new_run_dir(state: StatePaths) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = state.runs_dir / f"{stamp}-{secrets.token_hex(3)}"
    path.mkdir(parents=True)
    return path


def champion_version(registry: LocalRegistry, model_name: str) -> str | None:
    """The champion: the production version, else (nothing served yet, e.g. after runs with
    ``--no-deploy``) the newest registered version, the one the next deploy would serve. Each
    version was registered because it beat the champion of its day, so the newest is the best."""
    if (version := registry.production_version(model_name)) is not None:
        return version
    versions = registry.versions(model_name)
    return versions[-1] if versions else None


def _prepare(state: StatePaths, model_name: str, tags: dict[str, str]) -> dict[str, Any]:
    """In a child process: open the registry, start the MLflow run, fetch the champion."""
    registry = LocalRegistry(state)
    run_id = registry.start_run(tags)
    champion = None
    if (version := champion_version(registry, model_name)) is not None:
        champion = {"version": version, "path": str(registry.get(model_name, version).path)}
    return {"run_id": run_id, "champion": champion}


def validate_options(options: RunOptions) -> Params:
    """Check params and overrides before anything runs (raises ParamsError naming the key)."""
    return load_params(options.params_file, options.overrides)


def run_local(options: RunOptions, console: Console) -> RunSummary:
    """The whole local lifecycle; raises on the first failing step (nothing registered then)."""
    params = validate_options(options)
    state = StatePaths.from_env()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if options.warm:
        with console.status("loading scikit-learn, pandas and MLflow once for all steps"):
            processes.warm_up()
    timings["load libraries"] = time.perf_counter() - started

    run_dir = _new_run_dir(state)
    started = time.perf_counter()
    tags = {"mlops.env": "local", "mlops.run_dir": str(run_dir), "git_commit": git_commit()}
    prepared = processes.call_in_child(
        _prepare, state, params.model_name, tags, log_path=run_dir / "prepare.log"
    )
    timings["resolve champion"] = time.perf_counter() - started
    champion = prepared["champion"]
    console.print(
        f"champion: {params.model_name} v{champion['version']}" if champion else "champion: none yet"
    )

    job_inputs = override_inputs({k: v for k, v in options.overrides.items() if k in OVERRIDE_INPUTS})
    if champion:
        job_inputs.setdefault("evaluate", {})["champion"] = champion["path"]
    # The steps read the use case as resolved here (every override applied, `--set` ones too).
    resolved = run_dir / "usecase.yaml"
    write_params(params, resolved)
    pipeline_inputs = {
        "data": str((options.data or params.data_path).resolve()),
        "params": str(resolved),
        "model_name": params.model_name,
    }
    env = step_env(state.tracking_uri, prepared["run_id"], state.registry_lock)
    env["MLOPS_GIT_COMMIT"] = tags["git_commit"]
    registry = None
    try:
        results = run_pipeline(
            run_dir,
            pipeline_inputs=pipeline_inputs,
            job_inputs=job_inputs,
            env=env,
            console=console,
            warm=options.warm,
        )
    except Exception:
        registry = LocalRegistry(state)  # no more forks from here: the parent may open the store
        registry.end_run(prepared["run_id"], ok=False)
        raise
    registry = LocalRegistry(state)
    registry.end_run(prepared["run_id"], ok=True)
    timings.update({result.name: result.seconds for result in results})
    outputs = {result.name: result.outputs for result in results}
    report = json.loads((outputs["evaluate"]["report"] / REPORT_FILE).read_text())
    outcome_job, outcome_output = pipeline_outputs()[OUTCOME_OUTPUT]
    registered = json.loads((outputs[outcome_job][outcome_output] / RESULT_FILE).read_text())
    summary = RunSummary(
        run_dir=run_dir,
        mlflow_run_id=prepared["run_id"],
        model_name=params.model_name,
        registered=bool(registered["registered"]),
        version=registered["version"],
        reason=str(registered["reason"]),
        challenger=report["challenger"],
        champion=report["champion"],
        champion_version=champion["version"] if champion else None,
        seconds=timings,
    )
    if options.deploy:
        serve(registry, summary, console)
    return summary


def serve(registry: LocalRegistry, summary: RunSummary, console: Console) -> None:
    """Converge the local endpoint on production: deploy a new version, else keep or start the current."""
    name = summary.model_name
    record = local_deploy.running(registry)
    production = registry.production_version(name)
    started = time.perf_counter()
    if summary.registered and summary.version is not None:
        target = summary.version
    elif production is not None and (record is None or record.model_version != production):
        target = production
    else:
        target = None
    if target is not None:
        try:
            with console.status(f"deploying {name} v{target} to a local endpoint") as status:
                record = local_deploy.deploy(registry, name, target, progress=status.update)
        except local_endpoint.DeployError as error:
            console.print(f"[red]✗[/red] deploy v{target} failed after {time.perf_counter() - started:.1f}s")
            summary.problem = f"deploy of v{target} failed: {error}"
            return
        console.print(f"[green]✓[/green] deploy v{target} {time.perf_counter() - started:.1f}s  {record.url}")
        summary.seconds["deploy"] = time.perf_counter() - started
    if record is None:
        console.print("no endpoint: nothing is registered as production yet")
        return
    started = time.perf_counter()
    summary.endpoint_url = record.url
    summary.serving_version = record.model_version
    try:
        result = local_deploy.smoke(record)
    except SmokeTestError as error:
        summary.smoke_test = "failed"
        summary.problem = f"smoke test of v{record.model_version} at {record.score_url} failed: {error}"
        return
    summary.seconds["smoke test"] = time.perf_counter() - started
    summary.smoke_test = (
        f"passed: {result.rows} rows match offline predictions (max error {result.max_abs_error:.2g})"
    )
    console.print(f"[green]✓[/green] smoke test {summary.seconds['smoke test']:.1f}s  {record.score_url}")
