"""One Arrow batch scored: its feature matrix, the rows the rules refuse, the predictions and, for
a classifier, the class probabilities (pure).

The common case costs a few vectorised passes: each feature column to float64 (zero-copy for
float64 Parquet columns), one finiteness check (:func:`scoring.rules.finite_rows`), one call
to :func:`scoring.model_loader.predict`, one check of the predictions. Reasons are worked out
only for the rows that fail, with the online service's messages (:mod:`scoring.rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from scoring import model_loader, rules
from scoring.model_loader import LoadedModel

FloatArray = npt.NDArray[np.float64]
# Rows per predict call: the pipeline's temporaries (rows × features float64) stay in the CPU
# cache; a whole batch at once spends its time on memory traffic (2-3x slower, measured).
PREDICT_ROWS = 8192
Rejects = list[tuple[int, str]]  # (row within the batch, 0-based; reason)
PROBABILITY_PREFIX = "probability_"


class ColumnTypeError(TypeError):
    """A feature column of a type that holds no numbers (booleans, dates, ...)."""


@dataclass(frozen=True, slots=True)
class Scored:
    """The batch's scored rows (with the prediction column) and its rejected rows."""

    batch: pa.RecordBatch
    rejects: Rejects


def _numbers(column: pa.Array, name: str) -> tuple[FloatArray, dict[int, str]]:
    """A column as float64 (NaN where a value is missing or bad) and the reasons of its bad cells."""
    kind = column.type
    if _is_number(kind):
        values = pc.cast(column, pa.float64()) if kind != pa.float64() else column
        return values.to_numpy(zero_copy_only=False), _nulls(values)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            values = pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _text_numbers(column.to_pylist())
        return values.to_numpy(zero_copy_only=False), _nulls(values)
    raise ColumnTypeError(f"column {name} holds {kind} values: the model takes numbers")


def _nulls(values: pa.Array) -> dict[int, str]:
    """The missing cells of a column: JSON's null, refused online as "must be a number"."""
    if not values.null_count:
        return {}
    missing = np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))
    return dict.fromkeys(missing.tolist(), rules.NOT_A_NUMBER)


def _text_numbers(texts: list[str | None]) -> tuple[FloatArray, dict[int, str]]:
    """Text cells one by one with the online CSV rule (:func:`scoring.rules.text_value`)."""
    out = np.empty(len(texts), dtype=np.float64)
    bad: dict[int, str] = {}
    for i, text in enumerate(texts):
        try:
            out[i] = rules.text_value(text) if text is not None else np.nan
        except ValueError as reason:
            out[i] = np.nan
            bad[i] = str(reason)
        if text is None:
            bad[i] = rules.NOT_A_NUMBER
    return out, bad


def features_of(batch: pa.RecordBatch, features: Sequence[str]) -> tuple[FloatArray, Rejects]:
    """The batch's feature matrix (rows × features, float64) and its rejected rows with reasons.

    Raises:
        ColumnTypeError: a feature column holds no numbers at all (booleans, dates...).
    """
    x = np.empty((batch.num_rows, len(features)), dtype=np.float64, order="F")
    reasons: dict[int, str] = {}
    for j, name in enumerate(features):
        values, bad = _numbers(batch.column(name), name)
        x[:, j] = values
        for i, reason in bad.items():
            reasons.setdefault(i, f"column {name} {reason}")
    ok = rules.finite_rows(x)
    if not ok.all():
        for i in np.flatnonzero(~ok).tolist():
            if i not in reasons:
                j = int(np.flatnonzero(~np.isfinite(x[i]))[0])
                reasons[i] = f"column {features[j]} {rules.NOT_FINITE}"
    return x, sorted(reasons.items())


def probability_columns(model: LoadedModel) -> list[str]:
    """A classifier's probability columns, one per class in ``metadata.json``'s ``classes`` order
    (the online service's ``probabilities`` order): ``probability_<class>``, ``probability_1`` for
    the class 1.0. None for a regressor."""
    if model.classes is None:
        return []
    return [f"{PROBABILITY_PREFIX}{int(c) if float(c).is_integer() else c!r}" for c in model.classes]


def _probabilities(model: LoadedModel, x: FloatArray) -> FloatArray:
    """Per row, each class's probability (rows × classes), a cache-sized slice at a time."""
    out = np.empty((len(x), len(model.classes or ())), dtype=np.float64)
    for start in range(0, len(x), PREDICT_ROWS):
        rows = np.ascontiguousarray(x[start : start + PREDICT_ROWS])
        out[start : start + PREDICT_ROWS] = model_loader.predict_proba(model, rows)
    return out


def _predict(model: LoadedModel, x: FloatArray) -> FloatArray:
    """Predictions, a cache-sized slice at a time; NaN for a row the model refuses (the service's 422)."""
    out = np.empty(len(x), dtype=np.float64)
    for start in range(0, len(x), PREDICT_ROWS):
        out[start : start + PREDICT_ROWS] = _predict_slice(model, x[start : start + PREDICT_ROWS])
    return out


def _predict_slice(model: LoadedModel, x: FloatArray) -> FloatArray:
    try:
        # Row-major, as the service's rows are: the same summation order, the same floats.
        return model_loader.predict(model, np.ascontiguousarray(x))
    except (ValueError, FloatingPointError, OverflowError):
        if len(x) == 1:
            return np.array([np.nan])
        return np.concatenate([_predict_slice(model, x[i : i + 1]) for i in range(len(x))])


def score(batch: pa.RecordBatch, model: LoadedModel, prediction: str) -> Scored:
    """The batch's valid rows with a ``prediction`` column (and a classifier's
    :func:`probability_columns`), and the rows refused with why."""
    x, rejects = features_of(batch, model.features)
    if rejects:
        keep = np.ones(batch.num_rows, dtype=bool)
        keep[[i for i, _ in rejects]] = False
        batch, x = batch.filter(pa.array(keep)), x[keep]
        rows = np.flatnonzero(keep)
    result = _predict(model, x) if len(x) else np.empty(0)
    finite = np.isfinite(result)
    if not finite.all():
        refused = np.flatnonzero(~finite)
        original = rows[refused] if rejects else refused
        rejects = sorted([*rejects, *((int(i), rules.OUT_OF_RANGE) for i in original)])
        batch, x, result = batch.filter(pa.array(finite)), x[finite], result[finite]
    for j, name in enumerate(model.features):  # the features as the model took them: float64
        index = batch.schema.get_field_index(name)
        if batch.schema.field(index).type != pa.float64():
            batch = batch.set_column(index, pa.field(name, pa.float64()), pa.array(x[:, j]))
    batch = batch.append_column(prediction, pa.array(result, type=pa.float64()))
    columns = probability_columns(model)
    if columns:
        probabilities = _probabilities(model, x) if len(x) else np.empty((0, len(columns)))
        for j, name in enumerate(columns):
            batch = batch.append_column(name, pa.array(probabilities[:, j], type=pa.float64()))
    return Scored(batch, rejects)


def output_schema(
    schema: pa.Schema, features: Sequence[str], prediction: str, probabilities: Sequence[str] = ()
) -> pa.Schema:
    """The schema :func:`score` gives a batch of ``schema``: the features as float64, the prediction
    added, then the ``probabilities`` columns (:func:`probability_columns`)."""
    for name in features:
        index = schema.get_field_index(name)
        schema = schema.set(index, pa.field(name, pa.float64()))
    for name in (prediction, *probabilities):
        schema = schema.append(pa.field(name, pa.float64()))
    return schema


def _is_number(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
    )
