"""The OpenAPI 3.1 document, written out by hand from the loaded model (its width and sample)."""

from __future__ import annotations

from typing import Any

from scoring.contract import LIVE_PATH, METADATA_PATH, READY_PATH, SCORE_PATH
from scoring.model_loader import LoadedModel
from scoring.settings import Settings

_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def build_openapi(model: LoadedModel, settings: Settings, *, service_version: str) -> dict[str, Any]:
    n = model.n_features
    example_rows = (model.sample or {}).get("data") or [[0.0] * n]
    example_result = (model.sample or {}).get("result")
    secured: list[dict[str, list[str]]] = [{"bearer": []}] if settings.auth_enabled else []
    auth_errors = {"401": _error("Missing or wrong API key")} if settings.auth_enabled else {}
    score_request: dict[str, Any] = {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {
            "data": {
                "type": "array",
                "description": f"Rows to score: 1 to {settings.max_rows}, each holding the "
                f"{n} features in this order: {', '.join(model.features)}.",
                "minItems": 1,
                "maxItems": settings.max_rows,
                "items": {
                    "type": "array",
                    "minItems": n,
                    "maxItems": n,
                    "items": {"type": "number"},
                },
            }
        },
        "example": {"data": example_rows},
    }
    score_response: dict[str, Any] = {
        "type": "object",
        "required": ["result"],
        "properties": {
            "result": {
                "type": "array",
                "description": f"One prediction of {model.target or 'the target'} per row.",
                "items": {"type": "number"},
            }
        },
    }
    if example_result is not None:
        score_response["example"] = {"result": example_result}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Diabetes progression scoring service",
            "version": service_version,
            "description": (
                f"Serves model {model.name} version {model.version}. "
                'Errors are JSON: {"error": {"code", "message", "request_id"}}.'
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
                            "application/json": {"schema": {"$ref": "#/components/schemas/ScoreRequest"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Predictions, in the order of the rows",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/ScoreResponse"}}
                            },
                        },
                        "400": _error("The body is not valid JSON"),
                        **auth_errors,
                        "413": _error("The body is larger than the configured maximum"),
                        "415": _error("The content type is not application/json"),
                        "422": _error("Not a valid ScoreRequest: the message says where"),
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
                    "summary": "Readiness: the model is loaded and the service takes requests",
                    "responses": {
                        "200": {"description": "Ready"},
                        "503": {"description": "Not ready (starting or shutting down)"},
                    },
                }
            },
        },
        "components": {
            "schemas": {
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
