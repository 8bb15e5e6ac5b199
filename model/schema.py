"""The data schema, read from the use case (config/usecase.yaml): feature names, target, rules.

:func:`schema_of` gives one use case's schema. The module-level names (``FEATURES``,
``FEATURE_RULES``, ``TARGET``, ``TARGET_RULE``, ``COLUMNS``, ``MIN_ROWS``) are the default use
case's (``$MLOPS_USECASE``, else config/usecase.yaml), read on first use: code that is handed no
use case (a model folder's consumer, batch scoring, monitoring) reads them. A pipeline step is
given its use case (``--params``) and uses :func:`schema_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.params import ColumnSpec, Params, default_params_path, load_params


@dataclass(frozen=True)
class ColumnRule:
    """One column of the training data: the closed range its values lie in, and its other rules."""

    name: str
    low: float
    high: float
    description: str
    integer: bool = False
    allowed: tuple[float, ...] | None = None
    nullable: bool = False


@dataclass(frozen=True)
class Schema:
    """A use case's columns and rules."""

    feature_rules: tuple[ColumnRule, ...]
    target_rule: ColumnRule
    min_rows: int

    @property
    def features(self) -> tuple[str, ...]:
        """The feature names, in the model's input order."""
        return tuple(rule.name for rule in self.feature_rules)

    @property
    def target(self) -> str:
        """The target column."""
        return self.target_rule.name

    @property
    def columns(self) -> tuple[str, ...]:
        """Features, then the target: the columns of a training CSV."""
        return (*self.features, self.target)


def _rule(name: str, spec: ColumnSpec) -> ColumnRule:
    return ColumnRule(
        name=name,
        low=spec.low,
        high=spec.high,
        description=spec.description,
        integer=spec.type == "integer",
        allowed=spec.allowed,
        nullable=spec.nullable,
    )


def schema_of(params: Params) -> Schema:
    """The schema a use case declares."""
    return Schema(
        feature_rules=tuple(_rule(name, spec) for name, spec in params.features.items()),
        target_rule=_rule(params.target.name, params.target),
        min_rows=params.min_rows,
    )


@cache
def _default(path: Path) -> Schema:
    return schema_of(load_params(path))


def default_schema() -> Schema:
    """The default use case's schema (``$MLOPS_USECASE``, else config/usecase.yaml)."""
    return _default(default_params_path())


if TYPE_CHECKING:
    FEATURE_RULES: tuple[ColumnRule, ...]
    TARGET_RULE: ColumnRule
    FEATURES: tuple[str, ...]
    TARGET: str
    COLUMNS: tuple[str, ...]
    MIN_ROWS: int

_DEFAULTS = {
    "FEATURE_RULES": lambda s: s.feature_rules,
    "TARGET_RULE": lambda s: s.target_rule,
    "FEATURES": lambda s: s.features,
    "TARGET": lambda s: s.target,
    "COLUMNS": lambda s: s.columns,
    "MIN_ROWS": lambda s: s.min_rows,
}


def __getattr__(name: str) -> Any:
    """The default use case's names, read on first use (PEP 562)."""
    if name in _DEFAULTS:
        return _DEFAULTS[name](default_schema())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
