"""The OpenAPI 3.1 document, written out by hand from the loaded model's width and features.

Two variants, both without the model's name, version or any real row (the example row is
zeros, its prediction computed at start-up):

- ``detailed``: the feature names in every schema (named records and columns exactly
  described); served when no key is configured, or to callers that send it;
- public: the same shapes with "N numbers" instead of names; served without the key.
"""

from __future__ import annotations

from typing import Any

from scoring.contract import LIVE_PATH, METADATA_PATH, READY_PATH, SCORE_PATH
from scoring.model_loader import LoadedModel
from scoring.settings import Settings

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_NUMBER = {
    "type": "number",
    "description": "A finite number. Values so large that the model's arithmetic overflows "
    "(say 1e308 in every column) are refused with 422 out_of_range.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _schemas(features: list[str] | None, n: int, max_rows: int) -> dict[str, Any]:
    """The request schemas; ``features`` None: the public variant, without names."""
    order = (
        f"in this order: {', '.join(features)}"
        if features
        else "in the model's feature order (GET /metadata)"
    )
    row = {
        "type": "array",
        "description": f"One row: the {n} features {order}.",
        "minItems": n,
        "maxItems": n,
        "items": _NUMBER,
    }
    rows = {"type": "array", "minItems": 1, "maxItems": max_rows, "items": _ref("Row")}
    if features:
        record: dict[str, Any] = {
            "type": "object",
            "description": "One row as named features, in any order.",
            "required": features,
            "additionalProperties": False,
            "properties": dict.fromkeys(features, _NUMBER),
        }
        columns: dict[str, Any] = {
            "type": "object",
            "description": "Named columns, one number per row each (all of the same length).",
            "required": features,
            "additionalProperties": False,
            "properties": {
                f: {"type": "array", "minItems": 1, "maxItems": max_rows, "items": _NUMBER} for f in features
            },
        }
        names: dict[str, Any] = {
            "type": "array",
            "description": "The column names of the rows: the features, in any order.",
            "items": {"enum": features},
            "uniqueItems": True,
            "minItems": n,
            "maxItems": n,
        }
    else:
        record = {
            "type": "object",
            "description": f"One row as named features (the {n} names of GET /metadata), in any order.",
            "minProperties": n,
            "maxProperties": n,
            "additionalProperties": _NUMBER,
        }
        columns = {
            "type": "object",
            "description": f"Named columns (the {n} names of GET /metadata), one number per row each.",
            "minProperties": n,
            "maxProperties": n,
            "additionalProperties": {"type": "array", "minItems": 1, "maxItems": max_rows, "items": _NUMBER},
        }
        names = {"type": "array", "items": {"type": "string"}, "minItems": n, "maxItems": n}
    records = {"type": "array", "minItems": 1, "maxItems": max_rows, "items": _ref("Record")}
    split = {
        "type": "object",
        "description": "pandas' split orientation; without columns, the rows are in feature order.",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {
            "columns": _ref("Columns"),
            "index": {"type": "array", "description": "Row labels: accepted, not used."},
            "data": rows,
        },
    }
    params = {"type": ["object", "null"], "description": "MLflow parameters: accepted and ignored."}

    def body(key: str, value: Any, description: str, *, with_params: bool = True) -> dict[str, Any]:
        props = {key: value, **({"params": params} if with_params else {})}
        return {
            "type": "object",
            "description": description,
            "required": [key],
            "additionalProperties": False,
            "properties": props,
        }

    return {
        "Row": row,
        "Record": record,
        "Columns": names,
        "NamedColumns": columns,
        "DataRequest": body(
            "data",
            {"anyOf": [rows, records]},
            'The default: rows (or named records) → {"result": [...]}.',
            with_params=False,
        ),
        "AzureMLRequest": body(
            "input_data",
            {"anyOf": [split, rows, columns]},
            "Azure ML's body for MLflow models → a JSON list of predictions.",
        ),
        "DataframeSplitRequest": body("dataframe_split", split, 'MLflow → {"predictions": [...]}.'),
        "DataframeRecordsRequest": body("dataframe_records", records, 'MLflow → {"predictions": [...]}.'),
        "InstancesRequest": body("instances", {"anyOf": [rows, records]}, 'MLflow → {"predictions": [...]}.'),
        "InputsRequest": body("inputs", {"anyOf": [rows, columns]}, 'MLflow → {"predictions": [...]}.'),
    }


_REQUESTS = (
    "DataRequest",
    "AzureMLRequest",
    "DataframeSplitRequest",
    "DataframeRecordsRequest",
    "InstancesRequest",
    "InputsRequest",
)


def build_openapi(
    model: LoadedModel,
    settings: Settings,
    *,
    service_version: str,
    detailed: bool,
    example_result: list[float] | None = None,
) -> dict[str, Any]:
    """The document; ``example_result`` is the prediction for the example row of zeros."""
    n = model.n_features
    features = list(model.features) if detailed else None
    secured: list[dict[str, list[str]]] = [{"bearer": []}] if settings.auth_enabled else []
    auth_errors = {"401": _error("Missing or wrong API key")} if settings.auth_enabled else {}
    example_rows = [[0.0] * n]
    score_request: dict[str, Any] = {
        "anyOf": [_ref(name) for name in _REQUESTS],
        "example": {"data": example_rows},
    }
    result = {
        "type": "array",
        "description": "One prediction per row, in the order of the rows.",
        "items": {"type": "number"},
    }
    extra: dict[str, Any] = {}
    described = ""
    if model.classes is not None:
        result["description"] = "One class per row, in the order of the rows."
        extra["probabilities"] = {
            "type": "array",
            "description": "Per row, the probability of each class, in the order of GET /metadata's classes.",
            "items": {"type": "array", "items": {"type": "number"}},
        }
        described = ' Beside "result" and "predictions": "probabilities".'
    score_response: dict[str, Any] = {
        "anyOf": [
            {"type": "object", "required": ["result"], "properties": {"result": result, **extra}},
            {"type": "object", "required": ["predictions"], "properties": {"predictions": result, **extra}},
            result,
        ],
        "description": '{"result"} for "data", {"predictions"} for the MLflow formats and CSV, '
        'a bare list for "input_data".' + described,
    }
    if detailed and example_result is not None:
        score_response["example"] = {"result": example_result}
    csv_header = ",".join(features) if features else ",".join(f"<feature {i + 1}>" for i in range(n))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Scoring service",
            "version": service_version,
            "description": (
                f"Predicts one {'class (and its probabilities)' if model.classes is not None else 'number'} "
                f"per row of {n} features. Errors are JSON: "
                '{"error": {"code", "message", "request_id"}}. GET /metadata describes the model.'
            ),
        },
        "paths": {
            SCORE_PATH: {
                "post": {
                    "operationId": "score",
                    "summary": "Predict one value per row",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _ref("ScoreRequest")},
                            "text/csv": {
                                "schema": {
                                    "type": "string",
                                    "description": "A header row naming the features (any order), "
                                    f'then 1 to {settings.max_rows} rows → {{"predictions": [...]}}.',
                                },
                                "example": csv_header + "\n" + ",".join(["0"] * n) + "\n",
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Predictions, in the order of the rows",
                            "content": {"application/json": {"schema": _ref("ScoreResponse")}},
                        },
                        "400": _error("The body does not parse (JSON or CSV)"),
                        **auth_errors,
                        "408": _error("The body took longer than the body time-out"),
                        "413": _error("The body is larger than the configured maximum"),
                        "415": _error(
                            "The content type is not application/json or text/csv, or the body is compressed"
                        ),
                        "422": _error(
                            "invalid_input: not one of the request formats (the message says where); "
                            "out_of_range: values so large that the model's arithmetic overflows"
                        ),
                    },
                }
            },
            METADATA_PATH: {
                "get": {
                    "operationId": "metadata",
                    "summary": "The served model: name, version, features, lineage",
                    "security": secured,
                    "responses": {
                        "200": {
                            "description": "Model metadata",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **auth_errors,
                    },
                }
            },
            LIVE_PATH: {
                "get": {
                    "operationId": "live",
                    "summary": "Liveness: the process answers",
                    "responses": {"200": {"description": "Alive"}},
                }
            },
            READY_PATH: {
                "get": {
                    "operationId": "ready",
                    "summary": "Readiness: the model is loaded (its name and version with the key)",
                    "responses": {
                        "200": {"description": "Ready"},
                        "503": {"description": "Not ready (starting or shutting down)"},
                    },
                }
            },
        },
        "components": {
            "schemas": {
                **_schemas(features, n, settings.max_rows),
                "ScoreRequest": score_request,
                "ScoreResponse": score_response,
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "request_id": {"type": ["string", "null"]},
                            },
                        }
                    },
                },
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer <SCORING_API_KEY>",
                }
            },
        },
    }
