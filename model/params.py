"""Typed hyperparameters and gate settings, from a YAML file plus command-line overrides."""

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model.paths import DEFAULT_PARAMS


class ParamsError(ValueError):
    """The params file or an override is invalid."""


class TrainParams(BaseModel):
    """How the model is trained."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(10.0, gt=0, le=1e6, description="Ridge regularisation strength")
    test_size: float = Field(0.2, ge=0.05, le=0.5, description="held-out fraction")
    seed: int = Field(42, ge=0, description="random seed of the split")


class GateParams(BaseModel):
    """When a challenger replaces the champion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary_metric: Literal["rmse", "mae", "r2"] = "rmse"
    min_improvement: float = Field(0.001, ge=0, lt=1, description="relative margin to beat")
    latency_budget_ms: float = Field(10.0, gt=0, description="p99 single-row predict budget")


class Params(BaseModel):
    """The whole params file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_name: str = Field("diabetes-regressor", pattern=r"^[a-z][a-z0-9-]{2,62}$")
    train: TrainParams = TrainParams()
    gate: GateParams = GateParams()


def _first_error(error: ValidationError, source: str) -> ParamsError:
    details = error.errors()[0]
    where = ".".join(str(part) for part in details["loc"]) or "(root)"
    return ParamsError(f"{source}: invalid '{where}': {details['msg']}")


def load_params(path: Path = DEFAULT_PARAMS, overrides: dict[str, Any] | None = None) -> Params:
    """Read ``path`` and apply ``overrides`` given as dotted keys (``train.alpha``) or section dicts."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ParamsError(f"params file not found: {path}") from None
    except yaml.YAMLError as error:
        raise ParamsError(f"params file is not valid YAML: {path}: {error}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"params file must hold a mapping: {path}")
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
    """The command line's hyperparameter and gate options as dotted-key overrides (unset ones left out)."""
    overrides = {
        "train.alpha": alpha,
        "train.test_size": test_size,
        "train.seed": seed,
        "gate.min_improvement": min_improvement,
        "gate.latency_budget_ms": latency_budget_ms,
    }
    return {key: value for key, value in overrides.items() if value is not None}


def apply_overrides(params: Params, overrides: dict[str, Any]) -> Params:
    """Return ``params`` with dotted-key overrides (``None`` values are ignored), re-validated."""
    data = params.model_dump()
    for key, value in overrides.items():
        if value is None:
            continue
        section, _, name = key.rpartition(".")
        target = data[section] if section else data
        if section not in ("", "train", "gate") or name not in target:
            raise ParamsError(f"unknown parameter '{key}'")
        target[name] = value
    try:
        return Params.model_validate(data)
    except ValidationError as error:
        raise _first_error(error, "override") from None
