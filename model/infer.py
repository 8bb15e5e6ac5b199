"""Draft a use case's schema from a data file (``mlops schema infer DATA.csv``), for a person to review.

Light (standard library only): the ``mlops`` tool runs it without pandas. Every column must be
numeric (the scoring service takes numbers); each gets its type, its observed range widened by a
margin and rounded outwards, the allowed values of a low-cardinality whole-number column, and
``nullable`` when a value is missing.
"""

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.params import ParamsError

MAX_CATEGORIES = 10
"""A whole-number column with at most this many distinct values lists them as ``allowed``."""

MARGIN = 0.1
"""The observed range is widened by this fraction of its span on each side."""


@dataclass(frozen=True)
class Column:
    """What a data file shows about one column."""

    name: str
    values: tuple[float, ...]
    missing: int

    @property
    def integer(self) -> bool:
        """Every value is a whole number."""
        return all(v.is_integer() for v in self.values)

    @property
    def distinct(self) -> tuple[float, ...]:
        """The distinct values, sorted."""
        return tuple(sorted(set(self.values)))


def read_columns(path: Path) -> list[Column]:
    """The columns of a CSV with a header row; ParamsError naming a non-numeric column."""
    if not path.is_file():
        raise ParamsError(f"data file not found: {path}")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise ParamsError(f"{path}: needs a header row and at least one data row")
    header, body = rows[0], rows[1:]
    columns = []
    for index, name in enumerate(header):
        cells = [row[index].strip() if index < len(row) else "" for row in body]
        values = []
        for line, cell in enumerate(cells, start=2):
            if not cell:
                continue
            try:
                value = float(cell)
            except ValueError:
                raise ParamsError(
                    f"{path}: column '{name}' is not numeric (line {line}: {cell!r}): the template "
                    "scores numbers; encode it as numbers first"
                ) from None
            if not math.isfinite(value):
                raise ParamsError(f"{path}: column '{name}' holds {cell!r} (line {line})")
            values.append(value)
        if not values:
            raise ParamsError(f"{path}: column '{name}' has no values")
        columns.append(Column(name, tuple(values), len(cells) - len(values)))
    return columns


def _outwards(value: float, step: float, down: bool) -> float:
    rounded = (math.floor if down else math.ceil)(value / step) * step
    return float(f"{rounded:.12g}")


def widened(column: Column, margin: float = MARGIN) -> tuple[float, float]:
    """The observed range widened by ``margin`` of its span, rounded outwards to two significant
    digits of the span; a column never negative stays non-negative."""
    low, high = min(column.values), max(column.values)
    span = high - low or abs(high) or 1.0
    step = 10.0 ** (math.floor(math.log10(span)) - 1)
    wide_low = _outwards(low - margin * span, step, down=True)
    wide_high = _outwards(high + margin * span, step, down=False)
    if low >= 0 > wide_low:
        wide_low = 0.0
    if column.integer:
        wide_low, wide_high = float(math.floor(wide_low)), float(math.ceil(wide_high))
    return wide_low, wide_high


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def column_spec(column: Column, *, categories: bool = True) -> dict[str, Any]:
    """One column's draft: type, range (or allowed values), nullable."""
    spec: dict[str, Any] = {"type": "integer" if column.integer else "number"}
    if categories and column.integer and len(column.distinct) <= MAX_CATEGORIES:
        spec["allowed"] = [_number(v) for v in column.distinct]
    else:
        low, high = widened(column)
        spec["min"], spec["max"] = _number(low), _number(high)
    if column.missing:
        spec["nullable"] = True
    return spec


def infer_usecase(path: Path, target: str | None = None, model_name: str = "my-model") -> dict[str, Any]:
    """A draft use case for the data file: the target (default: the last column), the task
    (classification when the target is whole numbers of few values), the features, and the gate's
    metric for the task."""
    columns = read_columns(path)
    names = [c.name for c in columns]
    target = target or names[-1]
    if target not in names:
        raise ParamsError(f"{path}: no column '{target}' (columns: {', '.join(names)})")
    target_column = next(c for c in columns if c.name == target)
    classification = target_column.integer and len(target_column.distinct) <= MAX_CATEGORIES
    task = "classification" if classification else "regression"
    target_spec = {"name": target, **column_spec(target_column, categories=classification)}
    target_spec.pop("nullable", None)
    return {
        "model_name": model_name,
        "task": task,
        "data": str(path),
        "target": target_spec,
        "features": {c.name: column_spec(c) for c in columns if c.name != target},
        "estimator": {
            "import_path": "sklearn.linear_model.LogisticRegression"
            if classification
            else "sklearn.linear_model.Ridge",
            "params": {},
            "scale": True,
        },
        "gate": {"primary_metric": "roc_auc" if classification else "rmse"},
    }
