"""Structured logs, request ids, and the optional OpenTelemetry export to Azure Monitor.

- One JSON line per log record on stderr (what ACI, AKS and Azure ML collect).
- One ``request`` record per HTTP request: method, path (the service's own paths; any other
  is ``(other)``), status, duration, row count, error code, request id. Never the body, never
  headers (they carry the API key).
- Request ids: the caller's ``x-request-id`` (or Azure's ``x-ms-client-request-id``) when it is
  a plausible id, a fresh one otherwise; echoed in the ``x-request-id`` response header and in
  error bodies.
- With ``APPLICATIONINSIGHTS_CONNECTION_STRING`` set, ``configure_azure_monitor`` exports
  traces, metrics and the ``scoring`` logger's records; without it nothing is imported.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scoring.contract import INVOCATIONS_PATH, LIVE_PATH, METADATA_PATH, OPENAPI_PATH, READY_PATH, SCORE_PATH

LOGGER_NAME = "scoring"
_INCOMING_ID_HEADERS = (b"x-request-id", b"x-ms-client-request-id")
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
# Probes hit these every few seconds: their request records are logged at DEBUG.
PROBE_PATHS = frozenset({LIVE_PATH, READY_PATH})
KNOWN_PATHS = frozenset({SCORE_PATH, INVOCATIONS_PATH, METADATA_PATH, LIVE_PATH, READY_PATH, OPENAPI_PATH})
OTHER_PATH = "(other)"  # what the request records show for any other path
# LogRecord attributes that the JSON formatter copies when present.
_EXTRA_FIELDS = (
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "rows",
    "error_code",
    "model_name",
    "model_version",
)

log = logging.getLogger(LOGGER_NAME)
_ROOT = logging.getLogger()


# ".000Z" to ".999Z" (a table: formatting the number each record cost more than the rest of
# the time stamp); the last entry catches a fraction that rounds up to 1000.
_MILLISECONDS = (*(f".{ms:03d}Z" for ms in range(1000)), ".999Z")


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    _second = -1
    _prefix = ""

    def _timestamp(self, created: float) -> str:
        # strftime once per second, not once per record (a request record each request).
        second = int(created)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return self._prefix + _MILLISECONDS[int((created - second) * 1000)]

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler of JSON lines that writes request records in batches.

    One ``write`` per request record was the largest single cost of a small request on the
    wire (a system call each); :meth:`add` queues a formatted line and writes the queue at
    most :data:`BATCH_S` later (or at :data:`BATCH_LINES` lines). Any other record, a
    ``flush()`` and logging's own shutdown write the queue first, so lines keep their order
    and none is lost at exit.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, line: str) -> None:
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self._pending.append(line)
            full = len(self._pending) >= BATCH_LINES
        if full or self._timer is not None:
            if full:
                self.flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop to flush later: now
            self.flush()
            return
        self._timer = loop.call_later(BATCH_S, self.flush)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._pending:
                text = "".join(self._pending)
                self._pending.clear()
                self.stream.write(text)
        super().flush()

    def emit(self, record: logging.LogRecord) -> None:
        if self._pending:
            self.flush()
        super().emit(record)


BATCH_S = 0.05
BATCH_LINES = 256


def configure_logging(level: int) -> None:
    """Send every logger's records to stderr as JSON lines (uvicorn's included)."""
    handler = JsonLinesHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing.formatter, JsonFormatter):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Fields the JSON lines never show: not computing them makes each record cheaper.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "gunicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # uvicorn's access log would duplicate the request records below (and costs time).
    logging.getLogger("uvicorn.access").disabled = True


# Fresh ids: 64 random bits per process, then a counter (32 hex digits, like uuid4().hex,
# and unique across processes and replicas alike; no system call per request).
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)


def _request_id(scope: Scope) -> str:
    return request_id_of(scope["headers"])


def request_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The caller's request id when it is a plausible one, else a fresh one."""
    for name, value in headers:
        if name in _INCOMING_ID_HEADERS and _VALID_REQUEST_ID.fullmatch(value):
            return str(value, "ascii")
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


class RequestContextMiddleware:
    """Request ids, request records, and a JSON 500 (never a stack trace) if the app fails."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("ascii"))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if status == 0:
                status = 500
                await send_with_id(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                body = error_body("internal_error", "the server failed to score", request_id)
                await send({"type": "http.response.body", "body": body})
            return
        finally:
            record_request(scope["method"], scope["path"], status, start, state)


def record_request(method: str, path: str, status: int, start: float, state: dict[str, Any]) -> None:
    """The ``request`` record of a request that began at ``start`` (``time.perf_counter()``)."""
    level = logging.DEBUG if path in PROBE_PATHS and status < 400 else logging.INFO
    if not log.isEnabledFor(level):
        return
    # To the microsecond (round(x, 3) on a float goes through decimal strings: slower).
    duration_ms = round((time.perf_counter() - start) * 1e6) / 1e3
    rows, error_code = state.get("rows"), state.get("error_code")
    # Only the service's own paths: never a client's (a path may be 10 kB).
    path = path if path in KNOWN_PATHS else OTHER_PATH
    destination = _json_lines_handler(level)
    if destination is None:
        fields = {"request_id": state["request_id"], "method": method, "path": path, "status": status}
        log_request(level, {**fields, "duration_ms": duration_ms, "rows": rows, "error_code": error_code})
        return
    # log_request's line, built in one go (it is written for every request).
    handler, formatter = destination
    line = {
        "ts": formatter._timestamp(time.time()),
        "level": logging.getLevelName(level),
        "logger": LOGGER_NAME,
        "message": "request",
        "request_id": state["request_id"],
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
    }
    if rows is not None:
        line["rows"] = rows
    if error_code is not None:
        line["error_code"] = error_code
    handler.add(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode())


def log_request(level: int, fields: dict[str, Any]) -> None:
    """Log a ``request`` record with ``fields``, cheaply (one per request: it shows in a profile).

    When the only destination is the JSON handler of :func:`configure_logging` (the
    production set-up), the line it would write is queued on it directly (written within
    50 ms): the same JSON, without building a ``LogRecord``. Any other set-up
    (a handler on the ``scoring`` logger such as Azure Monitor's, filters, pytest's capture)
    gets a record, still without ``Logger.log``'s walk up the stack to find the caller.
    """
    if not log.isEnabledFor(level):
        return
    destination = _json_lines_handler(level)
    if destination is not None:
        handler, formatter = destination
        now = time.time()
        line = {
            "ts": formatter._timestamp(now),
            "level": logging.getLevelName(level),
            "logger": LOGGER_NAME,
            "message": "request",
        }
        for key, value in fields.items():
            if value is not None:
                line[key] = value
        handler.add(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode())
        return
    record = log.makeRecord(log.name, level, "", 0, "request", (), None, extra=fields)
    log.handle(record)


def _json_lines_handler(level: int) -> tuple[JsonLinesHandler, JsonFormatter] | None:
    """The handler of :func:`configure_logging` (and its formatter) when it is the only
    destination of ``level`` records."""
    handlers = _ROOT.handlers
    if (
        len(handlers) == 1
        and not log.handlers
        and not log.filters
        and not _ROOT.filters
        and type(handler := handlers[0]) is JsonLinesHandler
        and type(formatter := handler.formatter) is JsonFormatter
        and not handler.filters
        and level >= handler.level
    ):
        return handler, formatter
    return None


def error_body(code: str, message: str, request_id: str | None) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message, "request_id": request_id}})


def enable_azure_monitor(
    connection_string: str, *, service_name: str, service_version: str
) -> Callable[[ASGIApp], ASGIApp]:
    """Configure the Azure Monitor OpenTelemetry distro; return the ASGI tracing wrapper.

    Needs the ``telemetry`` extra (``azure-monitor-opentelemetry``). Probes are not traced.
    """
    # Imported here: the distro takes ~1 s to import and is not needed when telemetry is off.
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.sdk.resources import Resource

    configure_azure_monitor(
        connection_string=connection_string,
        logger_name=LOGGER_NAME,
        resource=Resource.create({"service.name": service_name, "service.version": service_version}),
        # The tracing wrapper below covers the service; the other distro instrumentations
        # (Django, Flask, psycopg2, ...) have nothing to trace here.
        instrumentation_options={
            name: {"enabled": False}
            for name in (
                "azure_sdk",
                "django",
                "fastapi",
                "flask",
                "psycopg2",
                "requests",
                "urllib",
                "urllib3",
            )
        },
    )
    log.info("telemetry: exporting to Azure Monitor")

    def wrap(app: ASGIApp) -> ASGIApp:
        return OpenTelemetryMiddleware(app, excluded_urls=",".join(p[1:] for p in PROBE_PATHS))

    return wrap
