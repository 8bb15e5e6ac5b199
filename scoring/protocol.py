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

Given the app's direct scorer (:func:`scoring.app.direct_scorer`), it also answers a
``POST /score`` (or ``/invocations``) whose head and body arrive in one read at once: one
synchronous call, one write, no ASGI task, scope cycle or messages (uvicorn's per-request
work cost more than the whole floor app; docs/scoring.md, "Where the time goes"). The answer
is the app's own. Anything else (the body in a later read, HTTP/1.0, ``Expect``, a query
string, pipelining behind an unfinished request, a client not reading) goes the ASGI way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from scoring.settings import Settings
from scoring.telemetry import error_body, log_request

TIMED_OUT = "body_timed_out"
"""Key of the request state set when the body did not arrive within the body time-out."""

DirectScore = Callable[
    [str, Sequence[tuple[bytes, bytes]], bytes], tuple[int, list[tuple[bytes, bytes]], bytes]
]
"""``(path, headers, body) -> (status, headers, body)``: ``POST /score`` answered at once
(:func:`scoring.app.direct_scorer`)."""
_DIRECT_PATHS = {b"/score": "/score", b"/invocations": "/invocations"}


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
    direct: ClassVar[tuple[DirectScore, ...]] = ()  # (the app's direct scorer,) or nothing

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
        self._direct = self.direct[0] if self.direct and not self.root_path else None
        self._pending: list[bytes] | None = None  # the body so far of a request to answer at once
        self._answered_at = 0.0  # loop time of the last response (for the keep-alive time-out)

    # --- connection -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Until the first head is complete: a connection that sends nothing is closed too.
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        super().connection_lost(exc)

    # --- keep-alive: one timer per idle period, not one per response --------------------------

    def _unset_keepalive_if_required(self) -> None:
        """Leave the keep-alive timer armed (uvicorn cancels it on every read and arms a new one
        after every response: a timer per request); :meth:`_keep_alive_due` checks when it fires."""

    def on_response_complete(self) -> None:
        """uvicorn's, but the keep-alive timer is armed only when none is."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._answered_at = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self._keep_alive_due)

    def _keep_alive_due(self) -> None:
        """Close a connection idle for ``keep_alive_s`` since its last response; else look again later."""
        self.timeout_keep_alive_task = None
        if self.transport.is_closing():
            return
        if self._in_head or self._in_body or (self.cycle is not None and not self.cycle.response_complete):
            return  # a request is on its way: its own time-outs apply, and its response arms this again
        left = self._answered_at + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
        else:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            self._measure_head = True
        else:  # a head that starts and ends in this read is at most len(data) bytes
            self._measure_head = len(data) > self.limits.max_header_bytes
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._pending is not None:  # the body did not arrive with its head: the ASGI way
            self._hand_over()
        if self._in_head:
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse_head()
            elif self._head_timer is None:
                self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)
        elif self._in_body and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timed_out)

    # --- parser callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        # uvicorn's, but the ASGI scope is built only for a request that goes the ASGI way
        # (_begin_scope): a request answered at once needs none.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        self._in_head = True
        self._head_bytes = 0

    def _begin_scope(self) -> None:
        """uvicorn's scope of this request (its ``on_message_begin``), keeping what was parsed."""
        url, headers, expect_100_continue = self.url, self.headers, self.expect_100_continue
        HttpToolsProtocol.on_message_begin(self)
        self.url, self.headers, self.expect_100_continue = url, headers, expect_100_continue
        self.scope["headers"] = headers

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        if self._measure_head and self._head_size() > self.limits.max_header_bytes:
            self._refuse_head()
            raise _Refused  # stops the parser: nothing more of this connection is read
        self._in_body = True
        if self._direct is not None and self._answers_at_once():
            self._pending = []
            return
        self._begin_scope()
        super().on_headers_complete()

    def _answers_at_once(self) -> bool:
        """Whether this request goes to :attr:`direct` once its body is here (see :meth:`_answer_now`)."""
        parser = self.parser
        return (
            self.url in _DIRECT_PATHS
            and parser.get_method() == b"POST"
            and parser.get_http_version() == "1.1"
            and parser.should_keep_alive()
            and not parser.should_upgrade()
            and not self.expect_100_continue
            and (self.cycle is None or self.cycle.response_complete)
            and not self.pipeline
            and not self.flow.write_paused  # a client that does not read: let uvicorn wait for it
            and len(self.connections) < self.limits.max_connections
            and len(self.tasks) < self.limits.max_connections
        )

    def _hand_over(self) -> None:
        """Start the ASGI cycle of a request kept for :meth:`_answer_now`, with the body so far."""
        chunks, self._pending = self._pending or [], None
        self._begin_scope()
        HttpToolsProtocol.on_headers_complete(self)
        for chunk in chunks:
            HttpToolsProtocol.on_body(self, chunk)

    def on_body(self, body: bytes) -> None:
        if self._pending is not None:
            self._pending.append(body)
        else:
            super().on_body(body)

    def _head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._cancel_body_timer()
        if self._pending is not None:
            chunks, self._pending = self._pending, None
            self._answer_now(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        else:
            super().on_message_complete()

    def _answer_now(self, body: bytes) -> None:
        """Answer a ``POST /score`` whose head and body came in one read: one call, one write.

        The same answer as the app's (:func:`scoring.app.direct_scorer`), without uvicorn's
        per-request ASGI work (a task, the scope's cycle, the messages, two writes); then
        what uvicorn does after a response (close, or wait for the next request).
        """
        assert self._direct is not None
        status, headers, body = self._direct(_DIRECT_PATHS[self.url], self.headers, body)
        close = (b"connection", b"close") in headers
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += (name, b": ", value, b"\r\n")
        for name, value in headers:
            head += (name, b": ", value, b"\r\n")
        head += (b"\r\n", body)
        self.transport.write(b"".join(head))
        if close:
            self.transport.close()
        self.on_response_complete()

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


def protocol_class(limits: Limits, direct: DirectScore | None = None) -> type[GuardedHttpToolsProtocol]:
    """The protocol class to hand uvicorn (``http=``), bound to ``limits`` (and ``direct``)."""
    return type(
        "ScoringHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {"limits": limits, "direct": (direct,) if direct else ()},
    )


def uvicorn_options(settings: Settings, direct: DirectScore | None = None) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run``/``uvicorn.Config`` for ``settings`` (no app, host, port).

    ``direct``: :func:`scoring.app.direct_scorer` of the app served, to answer ``POST /score``
    requests that arrive in one read without the ASGI round trip.
    """
    limits = Limits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout_s=settings.header_timeout_s,
        body_timeout_s=settings.body_timeout_s,
        keep_alive_s=settings.keep_alive_s,
        max_connections=settings.max_connections,
    )
    return {
        "http": protocol_class(limits, direct),
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
