"""The scoring service: a Starlette ASGI app.

``create_app()`` builds it; the model is loaded in the lifespan (or handed in already loaded),
so the app answers only once the model is in memory, and ``/health/ready`` says so.

Routes: ``POST /score``, ``GET /metadata``, ``GET /health/live``, ``GET /health/ready``,
``GET /openapi.json``. See docs/scoring.md.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from scoring import __version__, model_loader, telemetry
from scoring.contract import LIVE_PATH, METADATA_PATH, OPENAPI_PATH, READY_PATH, SCORE_PATH
from scoring.model_loader import LoadedModel
from scoring.openapi import build_openapi
from scoring.settings import Settings
from scoring.validation import RequestError, parse_rows

log = logging.getLogger(telemetry.LOGGER_NAME)

_JSON = "application/json"
_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}
_OUT_OF_RANGE = RequestError(
    422,
    "out_of_range",
    "the model cannot score these rows: some values are far outside the range it was trained on",
)
_NOT_READY = RequestError(503, "not_ready", "the model is not loaded yet")


def _json(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status, headers, media_type=_JSON)


def _error(request: Request, exc: RequestError, headers: Mapping[str, str] | None = None) -> Response:
    state = request.scope.setdefault("state", {})
    state["error_code"] = exc.code
    body = telemetry.error_body(exc.code, exc.message, state.get("request_id"))
    return Response(body, exc.status, headers, media_type=_JSON)


class ScoringService:
    """The state (settings, model, cached documents) and the request handlers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model: LoadedModel | None = None
        self.ready = False
        self.openapi_doc = b""
        self.metadata_doc = b""
        self.expected_auth = None if settings.api_key is None else b"Bearer " + settings.api_key.encode()

    def install(self, loaded: LoadedModel) -> None:
        """Serve ``loaded``: keep it and pre-render the documents that describe it."""
        self.model = loaded
        self.openapi_doc = orjson.dumps(build_openapi(loaded, self.settings, service_version=__version__))
        self.metadata_doc = orjson.dumps(
            {
                "name": loaded.name,
                "version": loaded.version,
                "sklearn_version": loaded.sklearn_version,
                "features": list(loaded.features),
                "target": loaded.target,
                "lineage": loaded.lineage,
                "loaded_at": loaded.loaded_at,
                "predict_path": loaded.predict_path,
                "max_rows": self.settings.max_rows,
            }
        )

    @asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        if self.model is None:
            settings = self.settings
            try:
                loaded = model_loader.load_model(
                    settings.model_dir,
                    name=settings.model_name,
                    version=settings.model_version,
                    fast_path=settings.fast_path,
                )
            except model_loader.ModelLoadError as exc:
                log.error("model load failed: %s", exc)
                raise
            self.install(loaded)
        assert self.model is not None
        self.ready = True
        log.info("ready", extra={"model_name": self.model.name, "model_version": self.model.version})
        try:
            yield
        finally:
            self.ready = False
            log.info("shutting down")

    def unauthorized(self, request: Request) -> Response | None:
        """A 401 response when a key is configured and the request lacks it, else ``None``."""
        if self.expected_auth is None:
            return None
        got = request.headers.get("authorization")
        if got is None:
            exc = RequestError(401, "unauthorized", "missing header Authorization: Bearer <key>")
        elif not hmac.compare_digest(got.encode("utf-8", "replace"), self.expected_auth):
            exc = RequestError(401, "unauthorized", "wrong API key in Authorization: Bearer <key>")
        else:
            return None
        return _error(request, exc, {"www-authenticate": "Bearer"})

    async def read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        too_large = RequestError(413, "payload_too_large", f"the request body is larger than {limit} bytes")
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise RequestError(400, "bad_request", "the Content-Length header is not a number")
            if int(declared) > limit:
                raise too_large
        # The ASGI messages directly: cheaper than Request.stream()'s generator, per request.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await request.receive()
            if message["type"] != "http.request":  # http.disconnect: nobody to answer
                raise RequestError(400, "client_disconnected", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def score(self, request: Request) -> Response:
        if (denied := self.unauthorized(request)) is not None:
            return denied
        loaded = self.model
        if loaded is None or not self.ready:
            return _error(request, _NOT_READY)
        try:
            content_type = request.headers.get("content-type", "")
            if content_type.partition(";")[0].strip().lower() != _JSON:
                raise RequestError(
                    415,
                    "unsupported_media_type",
                    "Content-Type must be application/json, got "
                    + (repr(content_type[:100]) if content_type else "none"),
                )
            rows = parse_rows(
                await self.read_body(request),
                n_features=loaded.n_features,
                max_rows=self.settings.max_rows,
            )
            request.scope["state"]["rows"] = len(rows)
            result = self.predict(loaded, rows)
        except RequestError as exc:
            return _error(request, exc)
        return Response(
            orjson.dumps({"result": result}, option=orjson.OPT_SERIALIZE_NUMPY),
            media_type=_JSON,
        )

    @staticmethod
    def predict(loaded: LoadedModel, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Predict, turning values too large for the model's arithmetic into a 422."""
        try:
            result = model_loader.predict(loaded, rows)
        except (ValueError, FloatingPointError, OverflowError) as exc:
            # Finite inputs can still overflow inside the pipeline (scaling 1e308, say):
            # scikit-learn then refuses its own intermediate result.
            log.warning("prediction refused the input: %s", type(exc).__name__)
            raise _OUT_OF_RANGE from None
        if not np.isfinite(result).all():
            raise _OUT_OF_RANGE
        return result

    async def metadata(self, request: Request) -> Response:
        if (denied := self.unauthorized(request)) is not None:
            return denied
        if not self.metadata_doc:
            return _error(request, _NOT_READY)
        return Response(self.metadata_doc, media_type=_JSON)

    async def live(self, _: Request) -> Response:
        return _json({"status": "alive"})

    async def ready_probe(self, _: Request) -> Response:
        if self.ready and self.model is not None:
            return _json({"status": "ready", "model": self.model.name, "version": self.model.version})
        return _json({"status": "not ready"}, 503)

    async def openapi(self, request: Request) -> Response:
        if not self.openapi_doc:
            return _error(request, _NOT_READY)
        return Response(self.openapi_doc, media_type=_JSON)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """404 and 405 (and any other HTTPException) as JSON errors like the others."""
        assert isinstance(exc, HTTPException)
        code = _ERROR_CODES.get(exc.status_code, "http_error")
        message = (
            f"no route {request.method} {request.url.path[:200]}"
            if exc.status_code in (404, 405)
            else str(exc.detail)
        )
        return _error(request, RequestError(exc.status_code, code, message), exc.headers)


def create_app(
    settings: Settings | None = None,
    *,
    model: LoadedModel | None = None,
    setup_logging: bool | None = None,
) -> ASGIApp:
    """Build the scoring app.

    Args:
        settings: the settings; ``None`` reads them from the environment.
        model: an already loaded model; ``None`` loads ``settings.model_dir`` at start-up.
        setup_logging: install the JSON log handler; ``None`` means "when ``settings`` is
            ``None``", i.e. when a server calls the factory (tests keep pytest's handlers).

    Without arguments this is the application factory for uvicorn and gunicorn
    (``scoring.app:create_app()`` / ``--factory``).
    """
    if setup_logging is None:
        setup_logging = settings is None
    settings = settings or Settings.from_env()
    if setup_logging:
        telemetry.configure_logging(settings.log_level_number)
    svc = ScoringService(settings)
    if model is not None:
        svc.install(model)
    app = Starlette(
        routes=[
            Route(SCORE_PATH, svc.score, methods=["POST"]),
            Route(METADATA_PATH, svc.metadata, methods=["GET"]),
            Route(LIVE_PATH, svc.live, methods=["GET"]),
            Route(READY_PATH, svc.ready_probe, methods=["GET"]),
            Route(OPENAPI_PATH, svc.openapi, methods=["GET"]),
        ],
        middleware=[Middleware(telemetry.RequestContextMiddleware)],
        exception_handlers={HTTPException: svc.http_error},
        lifespan=svc.lifespan,
    )
    app.state.service = svc
    if settings.appinsights_connection_string is not None:
        try:
            wrap = telemetry.enable_azure_monitor(
                settings.appinsights_connection_string,
                service_name="scoring",
                service_version=__version__,
            )
        except ImportError as exc:
            # Scoring matters more than its telemetry: serve, and say loudly why nothing exports.
            log.error(
                "APPLICATIONINSIGHTS_CONNECTION_STRING is set but %s: telemetry stays off "
                "(install the telemetry extra, or build the image with WITH_TELEMETRY=true)",
                exc,
            )
        else:
            return wrap(app)
    return app
