"""uvicorn's httptools protocol with the limits it lacks: header size and read time-outs.

uvicorn (0.54) bounds what it can: idle keep-alive connections (``timeout_keep_alive``) and
concurrent connections (``limit_concurrency``). Its httptools protocol, the fast one, has no
limit on the size of a request's head and no time-out while a head or a body is being sent:
a silent connection, a half-sent head or a declared body that never arrives is held for ever,
and a 64 MiB header is parsed. (The h11 protocol has ``h11_max_incomplete_event_size`` but
no read time-outs either, and it is several times slower.) This subclass adds, per connection:

- a head time-out, from the connection's first byte (or its opening) until the end of the
  head: ``408`` and close, or only close when nothing was sent;
- a head size limit (request line + headers): ``431`` and close, checked while the head
  arrives (so a huge header is never buffered) and once it is complete;
- a body time-out, from the end of the head until the end of the body: the app answers
  ``408`` (``read_body`` sees :data:`TIMED_OUT` in the request state) and the connection closes;
- JSON, not ``text/plain``, for what uvicorn answers itself: a malformed request (``400``)
  and too many connections (``503``).

On the fast path (a request that arrives in one read) it starts no timer: timers are armed
only when a read ends inside a head or a body.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from scoring.settings import Settings
from scoring.telemetry import error_body, log_request

TIMED_OUT = "body_timed_out"
"""Key of the request state set when the body did not arrive within the body time-out."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The connection limits (see :class:`scoring.settings.Settings` for their variables)."""

    max_header_bytes: int
    header_timeout_s: float
    body_timeout_s: float
    keep_alive_s: float
    max_connections: int


def _response(status: int, reason: bytes, code: str, message: str) -> bytes:
    body = error_body(code, message, None)
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


_HEAD_TIMEOUT = _response(408, b"Request Timeout", "request_timeout", "the request head took too long")
_BAD_REQUEST = _response(400, b"Bad Request", "bad_request", "the request is not valid HTTP/1.1")
_BUSY_BODY = error_body("busy", "too many connections: retry later", None)


async def _busy(scope: Any, receive: Any, send: Any) -> None:
    """uvicorn's ``limit_concurrency`` answer, as JSON."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_BUSY_BODY)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": _BUSY_BODY})


class _Refused(Exception):
    """Raised in a parser callback to stop parsing a refused request."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with the limits of :attr:`limits` (see the module doc)."""

    limits: ClassVar[Limits]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = self.limits
        self.timeout_keep_alive = limits.keep_alive_s  # type: ignore[assignment]  # a float works
        self.limit_concurrency = limits.max_connections
        self._in_head = False  # between the first byte of a request and the end of its head
        self._in_body = False  # between the end of a head and the end of its body
        self._head_bytes = 0
        self._measure_head = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    # --- connection -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Until the first head is complete: a connection that sends nothing is closed too.
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            self._measure_head = True
        else:  # a head that starts and ends in this read is at most len(data) bytes
            self._measure_head = len(data) > self.limits.max_header_bytes
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._in_head:
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse_head()
            elif self._head_timer is None:
                self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)
        elif self._in_body and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timed_out)

    # --- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        if self._measure_head and self._head_size() > self.limits.max_header_bytes:
            self._refuse_head()
            raise _Refused  # stops the parser: nothing more of this connection is read
        self._in_body = True
        super().on_headers_complete()

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._cancel_body_timer()
        super().on_message_complete()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        super()._start_asgi_task(cycle, _busy if app is service_unavailable else app)

    def send_400_response(self, msg: str) -> None:
        """A malformed request: JSON like every other error (uvicorn's is text/plain)."""
        self._close_with(_BAD_REQUEST, 400, "bad_request")

    # --- limits ---------------------------------------------------------------------------

    def _refuse_head(self) -> None:
        limit = self.limits.max_header_bytes
        message = f"the request head (request line and headers) is larger than {limit} bytes"
        response = _response(431, b"Request Header Fields Too Large", "headers_too_large", message)
        self._close_with(response, 431, "headers_too_large")

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._in_head:
            self._close_with(_HEAD_TIMEOUT, 408, "request_timeout")
        elif self.cycle is None:  # never sent a byte: nobody to answer
            self.transport.close()

    def _body_timed_out(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or not self._in_body:
            return
        if cycle.response_started:  # answered without reading the body: just hang up
            self.transport.close()
            return
        # Let the app answer (its request id, its request record): read_body sees the flag.
        cycle.scope["state"][TIMED_OUT] = True
        cycle.keep_alive = False
        cycle.message_event.set()

    def _close_with(self, response: bytes, status: int, code: str) -> None:
        if self.transport.is_closing():
            return
        self._in_head = self._in_body = False
        self._cancel_head_timer()
        self._cancel_body_timer()
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(response)
        self.transport.close()
        log_request(logging.INFO, {"status": status, "error_code": code})

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None


def protocol_class(limits: Limits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class to hand uvicorn (``http=``), bound to ``limits``."""
    return type("ScoringHttpProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run``/``uvicorn.Config`` for ``settings`` (no app, host, port)."""
    limits = Limits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout_s=settings.header_timeout_s,
        body_timeout_s=settings.body_timeout_s,
        keep_alive_s=settings.keep_alive_s,
        max_connections=settings.max_connections,
    )
    return {
        "http": protocol_class(limits),
        "loop": "uvloop",
        "lifespan": "on",
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        # uvicorn's own knobs, also set on the protocol (which takes fractions of a second).
        "timeout_keep_alive": max(1, round(settings.keep_alive_s)),
        "limit_concurrency": settings.max_connections,
    }
