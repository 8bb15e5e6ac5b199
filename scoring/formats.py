"""The request formats ``POST /score`` accepts, and the answer shape each client expects.

| body | answer |
| --- | --- |
| ``{"data": [[...], ...]}`` (the default, positional rows) | ``{"result": [...]}`` |
| ``{"data": [{"age": ..., ...}, ...]}`` (named records) | ``{"result": [...]}`` |
| ``{"input_data": {"columns", "index", "data"}}`` (Azure ML's MLflow body) | ``[...]`` |
| ``{"input_data": [[...], ...]}`` or ``{"input_data": {name: [...]}}`` (also Azure ML's) | ``[...]`` |
| ``{"dataframe_split": {"columns", "data", "index"}}`` (MLflow) | ``{"predictions": [...]}`` |
| ``{"dataframe_records": [{...}, ...]}`` (MLflow) | ``{"predictions": [...]}`` |
| ``{"instances": [[...]] or [{...}]}`` (MLflow, TF serving) | ``{"predictions": [...]}`` |
| ``{"inputs": [[...]] or {name: [...]}}`` (MLflow, TF serving) | ``{"predictions": [...]}`` |
| ``text/csv`` with a header row (MLflow) | ``{"predictions": [...]}`` |

Named columns are mapped to the model's features by name, in any order; a missing or unknown
column is a 422 that names it. MLflow's bodies may carry ``"params"`` (an object, ignored: the
model takes none). Sources: MLflow 3.17 ``mlflow/pyfunc/scoring_server/__init__.py``
(``invocations``, ``infer_and_parse_data``, ``predictions_to_json``); Azure ML's MLflow
scoring script (``run`` answers ``_get_jsonable_obj(result, pandas_orient="records")``: a
list) and its sample body, Azure/azureml-examples@218cc4c8:
cli/endpoints/online/mlflow/sample-request-sklearn.json.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from scoring.rules import column_problem, text_value
from scoring.validation import (
    FloatArray,
    RequestError,
    check_count,
    invalid,
    kind,
    matrix,
    numbers_rows,
    parse_json,
    reorder,
)

JSON = "application/json"
CSV = "text/csv"
MEDIA_TYPES = (JSON, CSV)

RESULT = "result"  # {"result": [...]}
PREDICTIONS = "predictions"  # {"predictions": [...]}: MLflow's scoring server
BARE = "list"  # [...]: Azure ML's MLflow scoring script

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_FIELDS = '"data", "input_data", ' + ", ".join(f'"{k}"' for k in MLFLOW_KEYS)


def parse_request(
    body: bytes, media_type: str, *, features: Sequence[str], max_rows: int
) -> tuple[FloatArray, str]:
    """The rows of a request body, in feature order, and the shape of its answer.

    Raises:
        RequestError: 400 for a body that does not parse, 415 for a compressed body, 422 for
            one that is not one of the formats above with 1 to ``max_rows`` rows of finite numbers.
    """
    if media_type == CSV:
        return csv_rows(body, features, max_rows), PREDICTIONS
    rows = numbers_rows(body, n_features=len(features), max_rows=max_rows)
    if rows is not None:  # the default body of numbers only: the usual request
        return rows, RESULT
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise invalid(f'the body must be a JSON object such as {{"data": [[...], ...]}}, got {kind(payload)}')
    keys = set(payload)
    if "data" in keys:
        if len(keys) > 1:
            more = len(keys) - 1
            raise invalid(
                f'unknown field(s) in the body: with "data", no other field is accepted ({more} more)'
            )
        return rows_or_records(payload["data"], "data", features, max_rows), RESULT
    if "input_data" in keys:
        _params_only(keys - {"input_data"}, payload, "input_data")
        return input_data_rows(payload["input_data"], features, max_rows), BARE
    found = [k for k in MLFLOW_KEYS if k in keys]
    if len(found) > 1:
        raise invalid(f"the body has {len(found)} input fields ({', '.join(found)}): send one")
    if not found:
        raise invalid(f'the body has no "data" field (nor any of {_FIELDS}): send {{"data": [[...], ...]}}')
    (key,) = found
    _params_only(keys - {key}, payload, key)
    return _MLFLOW[key](payload[key], features, max_rows), PREDICTIONS


def _params_only(others: set[str], payload: dict[str, Any], key: str) -> None:
    if unknown := len(others - {"params"}):
        raise invalid(
            f'unknown field(s) in the body: with "{key}", only "params" is accepted ({unknown} more)'
        )
    if "params" in others and not isinstance(payload["params"], dict | None):
        raise invalid(f'"params" must be an object, got {kind(payload["params"])}')


def rows_or_records(value: Any, where: str, features: Sequence[str], max_rows: int) -> FloatArray:
    """A list of positional rows (``[[...]]``) or of named records (``[{...}]``)."""
    if not isinstance(value, list):
        raise invalid(f'"{where}" must be a list of rows, got {kind(value)}')
    check_count(len(value), max_rows, f'"{where}"')
    if isinstance(value[0], dict):
        return records(value, where, features)
    return matrix(value, len(features), where)


def records(value: list[Any], where: str, features: Sequence[str]) -> FloatArray:
    """Rows given as objects ``{feature: number}``; every record names every feature once."""
    names = set(features)
    rows = []
    for i, record in enumerate(value):
        if not isinstance(record, dict):
            raise invalid(
                f"{where}[{i}] must be an object of {len(features)} named numbers, got {kind(record)}"
            )
        if record.keys() != names:
            missing = [f for f in features if f not in record]
            unknown = [c for c in record if c not in names]
            raise invalid(f"{where}[{i}]: " + column_problem(missing, unknown, features))
        rows.append([record[f] for f in features])
    return matrix(rows, len(features), where, cell=lambda i, j: f'{where}[{i}]["{features[j]}"]')


def split_rows(value: Any, where: str, features: Sequence[str], max_rows: int) -> FloatArray:
    """pandas' ``split`` orientation: ``{"columns": [...], "data": [[...]], "index": [...]}``."""
    if not isinstance(value, dict):
        raise invalid(f'"{where}" must be an object {{"columns", "data", "index"}}, got {kind(value)}')
    if "data" not in value or set(value) - {"columns", "data", "index"}:
        raise invalid(f'"{where}" must have "data" and may have "columns" and "index", nothing else')
    data = value["data"]
    if not isinstance(data, list):
        raise invalid(f'"{where}.data" must be a list of rows, got {kind(data)}')
    check_count(len(data), max_rows, f'"{where}.data"')
    if not isinstance(value.get("index", []), list):  # row labels: the answer is a list, they are not used
        raise invalid(f'"{where}.index" must be a list')
    if value.get("columns") is None:
        return matrix(data, len(features), f"{where}.data")
    order = reorder(value["columns"], features, f'"{where}.columns"')
    rows = matrix(data, len(features), f"{where}.data")
    return rows[:, order]


def columns_rows(value: dict[str, Any], where: str, features: Sequence[str], max_rows: int) -> FloatArray:
    """Named columns ``{feature: [one number per row]}`` (MLflow's and Azure ML's named tensors)."""
    if value.keys() != set(features):
        missing = [f for f in features if f not in value]
        unknown = [c for c in value if c not in set(features)]
        raise invalid(f'"{where}": ' + column_problem(missing, unknown, features))
    columns = [value[f] for f in features]
    for name, column in zip(features, columns, strict=True):
        if not isinstance(column, list):
            raise invalid(f'"{where}.{name}" must be a list of numbers, got {kind(column)}')
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise invalid(f'"{where}": every column must hold one number per row (lengths differ)')
    check_count(lengths.pop(), max_rows, f'"{where}"')
    rows = [list(row) for row in zip(*columns, strict=True)]
    return matrix(rows, len(features), where, cell=lambda i, j: f"{where}.{features[j]}[{i}]")


def input_data_rows(value: Any, features: Sequence[str], max_rows: int) -> FloatArray:
    """Azure ML's ``input_data``: the split orientation, a list of rows, or named columns."""
    if isinstance(value, list):
        return rows_or_records(value, "input_data", features, max_rows)
    if isinstance(value, dict) and "data" in value:
        return split_rows(value, "input_data", features, max_rows)
    if isinstance(value, dict):
        return columns_rows(value, "input_data", features, max_rows)
    raise invalid(
        f'"input_data" must be an object {{"columns", "index", "data"}} or a list of rows, got {kind(value)}'
    )


def _split(value: Any, features: Sequence[str], max_rows: int) -> FloatArray:
    return split_rows(value, "dataframe_split", features, max_rows)


def _records(value: Any, features: Sequence[str], max_rows: int) -> FloatArray:
    return rows_or_records(value, "dataframe_records", features, max_rows)


def _instances(value: Any, features: Sequence[str], max_rows: int) -> FloatArray:
    return rows_or_records(value, "instances", features, max_rows)


def _inputs(value: Any, features: Sequence[str], max_rows: int) -> FloatArray:
    if isinstance(value, dict):
        return columns_rows(value, "inputs", features, max_rows)
    return rows_or_records(value, "inputs", features, max_rows)


_MLFLOW = {
    "dataframe_split": _split,
    "dataframe_records": _records,
    "instances": _instances,
    "inputs": _inputs,
}


def csv_rows(body: bytes, features: Sequence[str], max_rows: int) -> FloatArray:
    """CSV with a header row naming the columns (what ``pandas.DataFrame.to_csv(index=False)`` writes)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RequestError(400, "invalid_csv", "the CSV body is not UTF-8 text") from None
    try:
        lines = [line for line in csv.reader(io.StringIO(text)) if line]
    except csv.Error as exc:
        raise RequestError(400, "invalid_csv", f"the CSV body does not parse: {exc}") from None
    if not lines:
        raise RequestError(
            400, "invalid_csv", "the CSV body is empty: send a header row and one row per sample"
        )
    header, *data = lines
    order = reorder([c.strip() for c in header], features, "the CSV header")
    check_count(len(data), max_rows, "the CSV body")
    rows = np.empty((len(data), len(features)), dtype=np.float64)
    for i, line in enumerate(data):
        if len(line) != len(header):
            raise invalid(f"CSV row {i + 1} has {len(line)} values, expected {len(header)}")
        for j, position in enumerate(order):
            try:
                rows[i, j] = text_value(line[position])
            except ValueError as reason:
                raise invalid(f"CSV row {i + 1}, column {features[j]} {reason}") from None
    return rows
