"""The scoring service: an ASGI app (``POST /score`` by hand, the other routes with Starlette).

``create_app()`` builds it; the model is loaded in the lifespan (or handed in already loaded),
so the app answers only once the model is in memory, and ``/health/ready`` says so.

Routes: ``POST /score`` (and ``POST /invocations``, MLflow's path), ``GET /metadata``,
``GET /health/live``, ``GET /health/ready``, ``GET /openapi.json``. See docs/scoring.md.
``POST /score`` is served straight from the ASGI messages (no Request or Response objects,
no router): it is the route that carries the load, and the framework's per-request work was
most of its cost (docs/scoring.md, "Where the time goes").
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from scoring import __version__, formats, model_loader, rules, telemetry
from scoring.collector import Collector
from scoring.contract import INVOCATIONS_PATH, LIVE_PATH, METADATA_PATH, OPENAPI_PATH, READY_PATH, SCORE_PATH
from scoring.memory import Trimmer
from scoring.model_loader import LoadedModel
from scoring.openapi import build_openapi
from scoring.protocol import TIMED_OUT
from scoring.settings import Settings
from scoring.validation import RequestError

log = logging.getLogger(telemetry.LOGGER_NAME)

_JSON = b"application/json"
_JSON_HEADER = (b"content-type", _JSON)
_CLOSE = (b"connection", b"close")
_OUT_OF_RANGE = RequestError(422, "out_of_range", rules.OUT_OF_RANGE)
_NOT_READY = RequestError(503, "not_ready", "the model is not loaded yet")
_MISSING_KEY = RequestError(401, "unauthorized", "missing header Authorization: Bearer <key>")
_WRONG_KEY = RequestError(401, "unauthorized", "wrong API key in Authorization: Bearer <key>")
_TWO_KEYS = RequestError(401, "unauthorized", "more than one Authorization header: send one")
_BAD_LENGTH = RequestError(400, "bad_request", "the Content-Length header is not a number")
_COMPRESSED = RequestError(
    415, "unsupported_media_type", "Content-Encoding is not supported: send the body uncompressed"
)
_MEDIA_TYPE = RequestError(415, "unsupported_media_type", "Content-Type must be application/json or text/csv")
_DISCONNECTED = RequestError(400, "client_disconnected", "the client went away")
_BODY_TIMEOUT = RequestError(408, "request_timeout", "the request body took too long")
_WWW_AUTHENTICATE = (b"www-authenticate", b"Bearer")
_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}
_OWS = b" \t"


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status, media_type="application/json")


async def _send(send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    start = [_JSON_HEADER, (b"content-length", b"%d" % len(body)), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def _refusal_headers(exc: RequestError) -> Sequence[tuple[bytes, bytes]]:
    """The headers of an answer given before the body is read: close (and the auth scheme on a 401)."""
    return (_WWW_AUTHENTICATE, _CLOSE) if exc.status == 401 else (_CLOSE,)


def _error_bytes(state: dict[str, Any], exc: RequestError) -> bytes:
    state["error_code"] = exc.code
    return telemetry.error_body(exc.code, exc.message, state.get("request_id"))


class ScoringService:
    """The state (settings, model, cached documents) and the request handlers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model: LoadedModel | None = None
        self.ready = False
        self.openapi_public = b""
        self.openapi_detailed = b""
        self.metadata_doc = b""
        self.token = None if settings.api_key is None else settings.api_key.encode("ascii")
        self.expected_auth = None if self.token is None else b"Bearer " + self.token
        self.max_body = settings.max_body_bytes
        self.trimmer = Trimmer()
        self.collector: Collector | None = None

    def install(self, loaded: LoadedModel) -> None:
        """Serve ``loaded``: keep it and pre-render the documents that describe it."""
        self.model = loaded
        zeros = np.zeros((1, loaded.n_features))
        try:
            example: list[float] | None = [float(v) for v in model_loader.predict(loaded, zeros)]
        except Exception:  # an estimator that cannot score zeros: the document has no example result
            example = None
        public, detailed = (
            build_openapi(
                loaded, self.settings, service_version=__version__, detailed=d, example_result=example
            )
            for d in (False, True)
        )
        self.openapi_public, self.openapi_detailed = orjson.dumps(public), orjson.dumps(detailed)
        self.metadata_doc = orjson.dumps(
            {
                "name": loaded.name,
                "version": loaded.version,
                "sklearn_version": loaded.sklearn_version,
                "features": list(loaded.features),
                "target": loaded.target,
                "task": "regression" if loaded.classes is None else "classification",
                "classes": None if loaded.classes is None else list(loaded.classes),
                "lineage": loaded.lineage,
                "loaded_at": loaded.loaded_at,
                "predict_path": loaded.predict_path,
                "max_rows": self.settings.max_rows,
            }
        )

    @asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        settings = self.settings
        if self.model is None:
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
        if settings.collecting:
            self.collector = _start_collector(settings, self.model)
        self.ready = True
        log.info("ready", extra={"model_name": self.model.name, "model_version": self.model.version})
        try:
            yield
        finally:
            self.ready = False
            log.info("shutting down")
            if self.collector is not None:
                self.collector.close()
                self.collector = None

    # --- auth -------------------------------------------------------------------------------

    def auth_error(self, values: list[bytes]) -> RequestError | None:
        """Why the ``Authorization`` header values do not carry the key, or ``None`` if they do.

        The scheme is case-insensitive and surrounding blanks are not part of the key
        (RFC 9110 §11.1, §5.5); a second header is refused, not ignored.
        """
        if self.expected_auth is None:
            return None
        if not values:
            return _MISSING_KEY
        if len(values) > 1:
            return _TWO_KEYS
        value = values[0]
        if hmac.compare_digest(value, self.expected_auth):  # the usual form, exactly
            return None
        scheme, _, token = value.strip(_OWS).partition(b" ")
        assert self.token is not None
        if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(_OWS), self.token):
            return None
        return _WRONG_KEY

    def authorized(self, scope: Scope) -> bool:
        return self.auth_error([v for k, v in scope["headers"] if k == b"authorization"]) is None

    # --- POST /score ------------------------------------------------------------------------

    async def score(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["state"]
        try:
            loaded, media_type = self.admit(scope["headers"])
        except RequestError as exc:
            # Refused before the body is read: close, so the rest of an upload is not read either.
            await _send(send, exc.status, _error_bytes(state, exc), _refusal_headers(exc))
            return
        try:
            body = await self.read_body(receive, state)
        except RequestError as exc:
            await _send(send, exc.status, _error_bytes(state, exc), (_CLOSE,))
            return
        status, answer = self.answer(loaded, body, media_type, state)
        await _send(send, status, answer)

    def score_now(
        self, headers: Sequence[tuple[bytes, bytes]], body: bytes, state: dict[str, Any]
    ) -> tuple[int, bytes, Sequence[tuple[bytes, bytes]]]:
        """:meth:`score` for a request whose whole body is already here: status, JSON, extra headers."""
        try:
            loaded, media_type = self.admit(headers)
            if len(body) > self.max_body:
                raise self.too_large()
        except RequestError as exc:
            return exc.status, _error_bytes(state, exc), _refusal_headers(exc)
        status, answer = self.answer(loaded, body, media_type, state)
        return status, answer, ()

    def admit(self, headers: Sequence[tuple[bytes, bytes]]) -> tuple[LoadedModel, str]:
        """The model and the media type of a request whose headers pass; else a RequestError."""
        auth: list[bytes] = []
        content_type = length = encoding = None
        for name, value in headers:
            if name == b"authorization":
                auth.append(value)
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
            elif name == b"content-encoding":
                encoding = value
        if (denied := self.auth_error(auth)) is not None:
            raise denied.new()
        loaded = self.model
        if loaded is None or not self.ready:
            raise _NOT_READY.new()
        return loaded, self.check_headers(content_type, length, encoding)

    def answer(
        self, loaded: LoadedModel, body: bytes, media_type: str, state: dict[str, Any]
    ) -> tuple[int, bytes]:
        """The status and JSON answer for the body of an admitted request."""
        try:
            rows, shape = formats.parse_request(
                body, media_type, features=loaded.features, max_rows=self.settings.max_rows
            )
            state["rows"] = len(rows)
            result = self.predict(loaded, rows)
            proba = None if loaded.classes is None else self.predict_proba(loaded, rows)
        except RequestError as exc:
            return exc.status, _error_bytes(state, exc)
        answer = _answer(shape, result) if proba is None else _answer_with_probabilities(shape, result, proba)
        if answer is None:
            return _OUT_OF_RANGE.status, _error_bytes(state, _OUT_OF_RANGE)
        if (collector := self.collector) is not None:
            # At most one random draw and a deque append of references (rows and result are
            # fresh arrays per request, never changed afterwards). Here, not after the send:
            # both ways of answering (the ASGI app, the protocol's direct path) come through.
            collector.offer(rows, result, state.get("request_id", ""))
        return 200, answer

    def check_headers(self, content_type: bytes | None, length: bytes | None, encoding: bytes | None) -> str:
        """The request's media type, once its body headers are acceptable; else a RequestError."""
        if encoding is not None and encoding.strip(_OWS).lower() != b"identity":
            raise _COMPRESSED.new()
        media_type = _media_type(content_type)
        if length is not None:
            length = length.strip(_OWS)  # a legal "60 " is 60
            if not length.isdigit():
                raise _BAD_LENGTH.new()
            if int(length) > self.max_body:
                raise self.too_large()
        return media_type

    def too_large(self) -> RequestError:
        return RequestError(
            413, "payload_too_large", f"the request body is larger than {self.max_body} bytes"
        )

    async def read_body(self, receive: Receive, state: dict[str, Any]) -> bytes:
        message = await receive()
        if message["type"] == "http.request":
            body: bytes = message.get("body", b"")
            if not message.get("more_body", False):  # the whole body in one message: usual
                if len(body) > self.max_body:
                    raise self.too_large()
                return body
            chunks = [body]
            size = len(body)
            try:
                while True:
                    if state.get(TIMED_OUT):
                        raise _BODY_TIMEOUT.new()
                    if size > self.max_body:
                        raise self.too_large()
                    message = await receive()
                    if message["type"] != "http.request":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        if size > self.max_body:
                            raise self.too_large()
                        return b"".join(chunks)
            finally:
                self.trimmer.after(size)  # a large body in pieces: give the pieces back once freed
        # http.disconnect: nobody to answer
        raise (_BODY_TIMEOUT if state.get(TIMED_OUT) else _DISCONNECTED).new()

    @staticmethod
    def predict(loaded: LoadedModel, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Predict, turning values the model's arithmetic refuses into a 422 (non-finite results: score)."""
        try:
            result = model_loader.predict(loaded, rows)
        except (ValueError, FloatingPointError, OverflowError) as exc:
            # Finite inputs can still overflow inside the pipeline (scaling 1e308, say):
            # scikit-learn then refuses its own intermediate result.
            log.warning("prediction refused the input: %s", type(exc).__name__)
            raise _OUT_OF_RANGE.new() from None
        return result  # may hold NaN or ±Infinity: score() answers 422 then

    @staticmethod
    def predict_proba(loaded: LoadedModel, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """A classifier's class probabilities; refused input as in :meth:`predict`."""
        try:
            return model_loader.predict_proba(loaded, rows)
        except (ValueError, FloatingPointError, OverflowError) as exc:
            log.warning("probabilities refused the input: %s", type(exc).__name__)
            raise _OUT_OF_RANGE.new() from None

    # --- the other routes (Starlette) ---------------------------------------------------------

    def _error(
        self, request: Request, exc: RequestError, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = _error_bytes(request.scope.setdefault("state", {}), exc)
        return Response(body, exc.status, headers, media_type="application/json")

    async def metadata(self, request: Request) -> Response:
        auth = [v for k, v in request.scope["headers"] if k == b"authorization"]
        if (denied := self.auth_error(auth)) is not None:
            return self._error(request, denied, {"www-authenticate": "Bearer"})
        if not self.metadata_doc:
            return self._error(request, _NOT_READY)
        return Response(self.metadata_doc, media_type="application/json")

    async def live(self, _: Request) -> Response:
        return _json({"status": "alive"})

    async def ready_probe(self, request: Request) -> Response:
        """Ready or not; the model's name and version only for callers that may see /metadata."""
        if not (self.ready and self.model is not None):
            return _json({"status": "not ready"}, 503)
        if self.authorized(request.scope):
            return _json({"status": "ready", "model": self.model.name, "version": self.model.version})
        return _json({"status": "ready"})

    async def openapi(self, request: Request) -> Response:
        if not self.openapi_public:
            return self._error(request, _NOT_READY)
        detailed = self.authorized(request.scope)
        return Response(
            self.openapi_detailed if detailed else self.openapi_public, media_type="application/json"
        )

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """404 and 405 (and any other HTTPException) as JSON errors; never the client's path."""
        assert isinstance(exc, HTTPException)
        code = _ERROR_CODES.get(exc.status_code, "http_error")
        if exc.status_code == 404:
            message = f"no such route: the routes are {', '.join(_ROUTES)}"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"method not allowed on this route: use {allowed or 'another method'}"
        else:
            message = str(exc.detail)
        return self._error(request, RequestError(exc.status_code, code, message), exc.headers)


_ROUTES = (
    f"POST {SCORE_PATH}",
    f"POST {INVOCATIONS_PATH}",
    f"GET {METADATA_PATH}",
    f"GET {LIVE_PATH}",
    f"GET {READY_PATH}",
    f"GET {OPENAPI_PATH}",
)


def _answer_with_probabilities(
    shape: str, result: npt.NDArray[np.float64], proba: npt.NDArray[np.float64]
) -> bytes | None:
    """A classifier's answer: the classes, and beside them each row's class probabilities
    (the bare list of "input_data" carries the classes only)."""
    key = {formats.RESULT: "result", formats.PREDICTIONS: "predictions"}.get(shape)
    if key is None:
        return _answer(shape, result)
    answer = orjson.dumps({key: result, "probabilities": proba}, option=orjson.OPT_SERIALIZE_NUMPY)
    return None if b"null" in answer else answer


def _start_collector(settings: Settings, loaded: LoadedModel) -> Collector | None:
    """The collector the settings ask for; ``None`` (logged) if its folder cannot be used."""
    assert settings.collect_dir is not None
    try:
        return Collector(
            settings.collect_dir,
            rate=settings.collect_rate,
            features=loaded.features,
            model_version=loaded.version,
            max_queue=settings.collect_queue,
            max_bytes=settings.collect_max_mb * 1024 * 1024,
            flush_s=settings.collect_flush_s,
        )
    except OSError as exc:
        # Scoring matters more than collecting: serve, and say loudly why nothing is collected.
        log.error("SCORING_COLLECT_DIR cannot be used (%s): collection stays off", exc)
        return None


def _answer(shape: str, result: npt.NDArray[np.float64]) -> bytes | None:
    """The JSON answer in the client's ``shape``; ``None`` if a prediction is NaN or infinite."""
    if shape == formats.RESULT:
        answer = orjson.dumps({"result": result}, option=orjson.OPT_SERIALIZE_NUMPY)
    elif shape == formats.PREDICTIONS:
        answer = orjson.dumps({"predictions": result}, option=orjson.OPT_SERIALIZE_NUMPY)
    else:
        answer = orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY)
    # orjson writes NaN and ±Infinity as null, and nothing else in these answers is null:
    # one scan of the answer instead of numpy's isfinite + all on the predictions. (find, not
    # "in": bytes.__contains__ first tries the argument as an int and raises a TypeError.)
    return None if answer.find(b"null") != -1 else answer


def _media_type(content_type: bytes | None) -> str:
    if content_type == _JSON:
        return formats.JSON
    if content_type is not None:
        media_type = content_type.partition(b";")[0].strip(_OWS).lower().decode("latin-1")
        if media_type in formats.MEDIA_TYPES:
            return media_type
    raise _MEDIA_TYPE.new()


_SCORE_PATHS = frozenset({SCORE_PATH, INVOCATIONS_PATH})


class ScoringApp:
    """``POST /score`` to :meth:`ScoringService.score`; everything else (lifespan too) to Starlette."""

    def __init__(self, service: ScoringService, other: ASGIApp) -> None:
        self.service = service
        self.other = other

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in _SCORE_PATHS and scope["method"] == "POST":
            await self.service.score(scope, receive, send)
        else:
            await self.other(scope, receive, send)

    def score_now(self, path: str, headers: Sequence[tuple[bytes, bytes]], body: bytes) -> Answer:
        """``POST path`` (a score path) whose whole body is here, answered at once.

        What ``RequestContextMiddleware(self)`` would send (the ``x-request-id`` header, the
        request record, a JSON 500 if scoring fails), without the ASGI round trip: the server
        protocol calls it for requests that arrive in one read (scoring/protocol.py).
        """
        start = time.perf_counter()
        state: dict[str, Any] = {"request_id": telemetry.request_id_of(headers)}
        request_id = state["request_id"]
        try:
            status, body, extra = self.service.score_now(headers, body, state)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            status, extra = 500, ()
            body = telemetry.error_body("internal_error", "the server failed to score", request_id)
        telemetry.record_request("POST", path, status, start, state)
        return (
            status,
            [
                _JSON_HEADER,
                (b"content-length", b"%d" % len(body)),
                *extra,
                (b"x-request-id", request_id.encode("ascii")),
            ],
            body,
        )


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
"""A whole HTTP answer: status, headers (``connection: close`` among them to close), body."""


def direct_scorer(app: ASGIApp) -> Callable[[str, Sequence[tuple[bytes, bytes]], bytes], Answer] | None:
    """:meth:`ScoringApp.score_now` of an app made by :func:`create_app`; ``None`` for a wrapped
    one (the Azure Monitor tracing wrapper must see every request)."""
    if isinstance(app, telemetry.RequestContextMiddleware) and isinstance(app.app, ScoringApp):
        return app.app.score_now
    return None


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
    others = Starlette(
        routes=[
            # Never reached (ScoringApp serves POST): here for the 405 of other methods.
            Route(SCORE_PATH, svc.score, methods=["POST"]),
            Route(INVOCATIONS_PATH, svc.score, methods=["POST"]),
            Route(METADATA_PATH, svc.metadata, methods=["GET"]),
            Route(LIVE_PATH, svc.live, methods=["GET"]),
            Route(READY_PATH, svc.ready_probe, methods=["GET"]),
            Route(OPENAPI_PATH, svc.openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: svc.http_error},
        lifespan=svc.lifespan,
    )
    # "/score/" is not "/score": a 404 like any unknown path, not a redirect to the client's Host.
    others.router.redirect_slashes = False
    app: ASGIApp = telemetry.RequestContextMiddleware(ScoringApp(svc, others))
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
