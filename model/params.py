"""The use case, typed: model name, data, task, schema, estimator, split and gate (config/usecase.yaml).

One file says what the template trains: :func:`load_params` reads it (``MLOPS_USECASE`` names
another one), applies command-line overrides given as dotted keys, and raises
:class:`ParamsError` with one line naming the key and what it accepts.
"""

import os
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model.paths import DEFAULT_PARAMS, REPO_ROOT

USECASE_ENV = "MLOPS_USECASE"

Task = Literal["regression", "classification"]
Metric = Literal["rmse", "mae", "r2", "accuracy", "f1", "roc_auc", "log_loss"]

# Each metric: its task and whether higher is better (the gate's direction).
METRICS: dict[str, tuple[Task, bool]] = {
    "rmse": ("regression", False),
    "mae": ("regression", False),
    "r2": ("regression", True),
    "accuracy": ("classification", True),
    "f1": ("classification", True),
    "roc_auc": ("classification", True),
    "log_loss": ("classification", False),
}


class ParamsError(ValueError):
    """The use-case file or an override is invalid."""


def default_params_path() -> Path:
    """The use-case file: ``$MLOPS_USECASE`` if set, else config/usecase.yaml."""
    return Path(os.environ[USECASE_ENV]) if os.environ.get(USECASE_ENV) else DEFAULT_PARAMS


class ColumnSpec(BaseModel):
    """One column: its type, its closed range or its allowed values, and whether it may be empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["number", "integer"] = "number"
    min: float | None = None
    max: float | None = None
    allowed: tuple[float, ...] | None = Field(None, min_length=1)
    nullable: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.allowed is None and (self.min is None or self.max is None):
            raise ValueError("give 'min' and 'max', or 'allowed' (the list of values)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is above 'max' ({self.max})")
        return self

    @property
    def low(self) -> float:
        """The lowest value allowed."""
        return self.min if self.min is not None else min(self.allowed or (0.0,))

    @property
    def high(self) -> float:
        """The highest value allowed."""
        return self.max if self.max is not None else max(self.allowed or (0.0,))


class TargetSpec(ColumnSpec):
    """The column the model predicts."""

    name: str = Field(min_length=1)


class EstimatorSpec(BaseModel):
    """The estimator: any scikit-learn-compatible class by import path, and its hyperparameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    import_path: str = Field(
        "sklearn.linear_model.Ridge", pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$", description="module.Class"
    )
    params: dict[str, Any] = Field(default_factory=dict)
    scale: bool = Field(True, description="standardise the features before the estimator")


class TrainParams(BaseModel):
    """How the rows are split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    test_size: float = Field(0.2, ge=0.05, le=0.5, description="held-out fraction")
    seed: int = Field(42, ge=0, description="random seed of the split")


class GateParams(BaseModel):
    """When a challenger replaces the champion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary_metric: Metric = "rmse"
    direction: Literal["lower", "higher"] | None = None
    min_improvement: float = Field(0.001, ge=0, lt=1, description="relative margin to beat")
    floor: float | None = Field(None, description="the primary metric's worst acceptable value")
    latency_budget_ms: float = Field(10.0, gt=0, description="p99 single-row predict budget")

    @model_validator(mode="after")
    def _direction(self) -> Self:
        known = "higher" if METRICS[self.primary_metric][1] else "lower"
        if self.direction is not None and self.direction != known:
            raise ValueError(
                f"'direction' of {self.primary_metric} is '{known}' (is better), not '{self.direction}'"
            )
        return self

    @property
    def higher_is_better(self) -> bool:
        """The primary metric's direction."""
        return METRICS[self.primary_metric][1]


class Params(BaseModel):
    """The whole use-case file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_name: str = Field(pattern=r"^[a-z][a-z0-9-]{2,62}$")
    task: Task
    data: str = Field(min_length=1, description="training CSV, relative to the repository root")
    min_rows: int = Field(100, ge=1)
    target: TargetSpec
    features: dict[str, ColumnSpec] = Field(min_length=1)
    estimator: EstimatorSpec = EstimatorSpec()
    train: TrainParams = TrainParams()
    gate: GateParams = GateParams()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        metric_task = METRICS[self.gate.primary_metric][0]
        if metric_task != self.task:
            allowed = ", ".join(name for name, (task, _) in METRICS.items() if task == self.task)
            raise ValueError(
                f"'gate.primary_metric' {self.gate.primary_metric} is a {metric_task} metric; "
                f"for task {self.task} use one of: {allowed}"
            )
        if self.task == "classification" and (self.target.allowed is None or len(self.target.allowed) < 2):
            raise ValueError("'target.allowed' must list the classes (two or more) for task classification")
        if self.target.name in self.features:
            raise ValueError(f"'target.name' {self.target.name} is also listed in 'features'")
        return self

    @property
    def data_path(self) -> Path:
        """The training CSV (a relative path is relative to the repository root)."""
        path = Path(self.data)
        return path if path.is_absolute() else REPO_ROOT / path


def _first_error(error: ValidationError, source: str) -> ParamsError:
    details = error.errors()[0]
    where = ".".join(str(part) for part in details["loc"]) or "(root)"
    message = details["msg"].removeprefix("Value error, ")
    return ParamsError(f"{source}: invalid '{where}': {message}")


def read_mapping(path: Path, what: str, error: type[Exception]) -> dict[str, Any]:
    """The YAML mapping in ``path``; ``error`` with one line naming ``what`` if it is missing,
    not YAML or not a mapping."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except yaml.YAMLError as problem:
        raise error(f"{what} is not valid YAML: {path}: {problem}") from None
    if not isinstance(raw, dict):
        raise error(f"{what} must hold a mapping: {path}")
    return raw


def load_params(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Params:
    """Read ``path`` (default: :func:`default_params_path`) and apply dotted-key ``overrides``."""
    path = path or default_params_path()
    raw = read_mapping(path, "use-case file", ParamsError)
    try:
        params = Params.model_validate(raw)
    except ValidationError as error:
        raise _first_error(error, str(path)) from None
    return apply_overrides(params, overrides or {})


def option_overrides(
    *,
    alpha: float | None = None,
    test_size: float | None = None,
    seed: int | None = None,
    min_improvement: float | None = None,
    latency_budget_ms: float | None = None,
) -> dict[str, Any]:
    """The command line's shortcut options as dotted-key overrides (unset ones left out)."""
    overrides = {
        "estimator.alpha": alpha,
        "train.test_size": test_size,
        "train.seed": seed,
        "gate.min_improvement": min_improvement,
        "gate.latency_budget_ms": latency_budget_ms,
    }
    return {key: value for key, value in overrides.items() if value is not None}


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (``--set estimator.max_depth=3``) as overrides; values read as YAML scalars."""
    overrides: dict[str, Any] = {}
    for text in assignments:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ParamsError(f"--set takes KEY=VALUE (e.g. estimator.max_depth=3), got {text!r}")
        try:
            overrides[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            overrides[key.strip()] = value
    return overrides


OVERRIDABLE = ("train", "gate")


def apply_overrides(params: Params, overrides: dict[str, Any]) -> Params:
    """Return ``params`` with dotted-key overrides (``None`` values are ignored), re-validated.

    ``estimator.<name>`` sets a hyperparameter (checked against the estimator's own parameters
    by :func:`model.estimator.check_params`); ``train.<key>`` and ``gate.<key>`` set a setting.
    """
    data = params.model_dump()
    for key, value in overrides.items():
        if value is None:
            continue
        section, _, name = key.partition(".")
        if section == "estimator" and name and "." not in name:
            data["estimator"]["params"][name] = value
            continue
        if section not in OVERRIDABLE or name not in data[section]:
            known = ", ".join(f"{s}.{k}" for s in OVERRIDABLE for k in data[s])
            raise ParamsError(f"unknown parameter '{key}' (known: estimator.<hyperparameter>, {known})")
        data[section][name] = value
    try:
        return Params.model_validate(data)
    except ValidationError as error:
        raise _first_error(error, "override") from None


def write_params(params: Params, path: Path) -> None:
    """Write ``params`` (overrides applied) as a use-case file that :func:`load_params` reads back."""
    path.write_text(yaml.safe_dump(params.model_dump(mode="json"), sort_keys=False))
