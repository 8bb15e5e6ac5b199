"""``POST /score`` answered in the server protocol (scoring.app.direct_scorer): the ASGI app's answers.

Requests whose head and body arrive in one read skip uvicorn's ASGI cycle; these tests hold
that path to the app's own answers (status, headers, body, request record) and check, with
uvicorn's protocol on a fake transport, when it is taken and what happens around it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from uvicorn.server import ServerState

from scoring import telemetry
from scoring.app import ScoringService, create_app, direct_scorer
from scoring.model_loader import load_model
from scoring.protocol import GuardedHttpToolsProtocol, uvicorn_options
from scoring.settings import Settings

KEY = "test-key-42"
AUTH = (b"authorization", b"Bearer " + KEY.encode())
JSON = (b"content-type", b"application/json")
RID = (b"x-request-id", b"req-1")
ROW = [0.01] * 10
Headers = list[tuple[bytes, bytes]]


def headers(body: bytes, *more: tuple[bytes, bytes], auth: bool = True) -> Headers:
    return [JSON, (b"content-length", b"%d" % len(body)), *([AUTH] if auth else []), RID, *more]


def case(body: Any, *more: tuple[bytes, bytes], auth: bool = True, path: str = "/score") -> Any:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return pytest.param(path, headers(raw, *more, auth=auth), raw)


CSV = b"age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n" + b",".join([b"0.01"] * 10) + b"\n"
CASES = [
    case({"data": [ROW]}),
    case({"data": [ROW] * 100}),
    case({"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}),
    case({"dataframe_split": {"columns": list("abcdefghij"), "data": [ROW]}}, path="/invocations"),
    case({"inputs": [ROW, ROW]}, path="/invocations"),
    case(CSV, (b"content-type", b"text/csv")),
    case({"data": [ROW]}, auth=False),  # 401, missing
    case({"data": [ROW]}, (b"authorization", b"Bearer nope"), auth=False),  # 401, wrong
    case({"data": [ROW]}, AUTH),  # 401, two headers
    case({"data": [ROW]}, (b"authorization", b"bearer " + KEY.encode() + b" "), auth=False),
    case(b"\x1f\x8b\x08", (b"content-encoding", b"gzip")),  # 415
    case({"data": [ROW]}, (b"content-type", b"text/plain")),  # 415 (the last content-type wins)
    case(b"x" * 9000),  # 413: larger than the body limit
    case(b""),  # 400 empty
    case(b'{"data": [[1, 2'),  # 400 not JSON
    case(b'{"data": [[NaN, 1, 1, 1, 1, 1, 1, 1, 1, 1]]}'),  # 400
    case({"data": [[1.0] * 9]}),  # 422 width
    case({"data": [[True] * 10]}),  # 422 booleans
    case({"\u0064ata": [ROW]}),  # escaped key
    case({"data": [[1e308] * 10]}),  # 422 out of range
    case({"rows": [ROW]}),  # 422 no data
]


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """The app's lifespan (the model is ready inside)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    await queue.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, queue.get, send)
    )
    await started.wait()
    try:
        yield
    finally:
        await queue.put({"type": "lifespan.shutdown"})
        await task


async def asgi_answer(app: Any, path: str, head: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    """What the ASGI app sends for ``POST path``."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b""}
    await app({**scope, "headers": head, "state": {}}, receive, send)
    start, *rest = sent
    return start["status"], list(start["headers"]), b"".join(m.get("body", b"") for m in rest)


@pytest.fixture(scope="module")
def settings(model_dir: Path) -> Settings:
    return Settings(model_dir=model_dir, model_version="3", api_key=KEY, max_body_bytes=8192)


@pytest.mark.parametrize(("path", "head", "body"), CASES)
def test_the_direct_answer_is_the_apps(
    settings: Settings, path: str, head: Headers, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, model=load_model(settings.model_dir, version="3"))
    direct = direct_scorer(app)
    assert direct is not None

    async def both() -> tuple[Any, Any]:
        async with running(app):
            return await asgi_answer(app, path, head, body), direct(path, head, body)

    with caplog.at_level(logging.INFO, logger=telemetry.LOGGER_NAME):
        via_asgi, now = asyncio.run(both())
    assert now == via_asgi
    asgi_record, direct_record = (
        {
            k: v
            for k, v in r.__dict__.items()
            if k in {"request_id", "method", "path", "status", "rows", "error_code"}
        }
        for r in caplog.records
        if r.getMessage() == "request"
    )
    assert direct_record == asgi_record
    assert direct_record["status"] == now[0]


def test_a_fresh_request_id_is_in_the_header_and_the_error(settings: Settings) -> None:
    app = create_app(settings, model=load_model(settings.model_dir))
    direct = direct_scorer(app)
    assert direct is not None
    status, head, body = direct("/score", [JSON], b"{}")
    assert status == 401
    request_id = dict(head)[b"x-request-id"].decode()
    assert len(request_id) == 32
    assert orjson.loads(body)["error"]["request_id"] == request_id


def test_a_failure_is_a_json_500_with_the_request_id(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, model=load_model(settings.model_dir))
    direct = direct_scorer(app)
    assert direct is not None

    def broken(*_: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(ScoringService, "answer", broken)
    body = orjson.dumps({"data": [ROW]})

    async def run() -> Any:
        async with running(app):
            return direct("/score", headers(body), body)

    with caplog.at_level(logging.INFO, logger=telemetry.LOGGER_NAME):
        status, head, answer = asyncio.run(run())
    assert status == 500
    assert (b"x-request-id", b"req-1") in head
    assert orjson.loads(answer)["error"] == {
        "code": "internal_error",
        "message": "the server failed to score",
        "request_id": "req-1",
    }
    assert b"secret" not in answer
    messages = [r.getMessage() for r in caplog.records]
    assert messages[messages.index("unhandled error") + 1] == "request"
    assert next(r for r in caplog.records if r.getMessage() == "request").__dict__["status"] == 500


def test_a_traced_app_has_no_direct_path(settings: Settings) -> None:
    app = create_app(settings, model=load_model(settings.model_dir))

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)

    assert direct_scorer(wrapper) is None


# --- in uvicorn's protocol (a fake transport) ---------------------------------------------------


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def raw(body: bytes, *more: bytes, path: bytes = b"/score", version: bytes = b"1.1") -> bytes:
    lines = [
        b"POST " + path + b" HTTP/" + version,
        b"Host: x",
        b"Content-Type: application/json",
        b"Content-Length: %d" % len(body),
        b"Authorization: Bearer " + KEY.encode(),
        b"X-Request-Id: req-1",
        *more,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


BODY = orjson.dumps({"data": [ROW]})


@pytest.fixture
def connection(settings: Settings) -> Iterator[Callable[..., Any]]:
    """``connection(coro_fn)``: run ``coro_fn(protocol, transport, state)`` on a served connection."""
    app = create_app(settings, model=load_model(settings.model_dir))

    def run(body: Callable[..., Any]) -> Any:
        async def go() -> Any:
            async with running(app):
                config = uvicorn.Config(app, **uvicorn_options(settings, direct_scorer(app)))
                config.load()
                state = ServerState()
                state.default_headers = [(b"date", b"Mon, 30 Nov 2026 07:00:00 GMT")]  # uvicorn's
                protocol: GuardedHttpToolsProtocol = config.http_protocol_class(  # type: ignore[call-arg]
                    config=config, server_state=state, app_state={}
                )
                transport = Transport()
                protocol.connection_made(transport)
                try:
                    return await body(protocol, transport, state)
                finally:
                    protocol.connection_lost(None)

        return asyncio.run(go())

    yield run


async def settle(protocol: Any, state: ServerState) -> None:
    """Let the ASGI tasks of the connection finish."""
    for _ in range(1000):
        if not state.tasks:
            return
        await asyncio.sleep(0)
    raise AssertionError("the request task did not finish")


def parse(response: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    response = response.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    fields = dict(line.split(b": ", 1) for line in lines)
    assert int(fields[b"content-length"]) == len(body)
    return int(status_line.split()[1]), fields, body


def test_a_request_in_one_read_is_answered_in_one_write_without_a_task(connection: Any) -> None:
    async def body(protocol: Any, transport: Transport, state: ServerState) -> Any:
        protocol.data_received(raw(BODY))
        assert not state.tasks  # answered inside data_received
        assert protocol.timeout_keep_alive_task is not None  # waiting for the next request
        assert not transport.closed
        return transport

    transport = connection(body)
    (response,) = transport.writes
    status, fields, answer = parse(response)
    assert status == 200
    assert set(fields) == {b"date", b"content-type", b"content-length", b"x-request-id"}
    assert fields[b"x-request-id"] == b"req-1"
    assert len(orjson.loads(answer)["result"]) == 1


@pytest.mark.parametrize(
    "split",
    [
        pytest.param(lambda r: (r[:-3], r[-3:]), id="body-in-two-reads"),
        pytest.param(
            lambda r: (r[: r.index(b"\r\n\r\n") + 4], r[r.index(b"\r\n\r\n") + 4 :]), id="head-then-body"
        ),
    ],
)
def test_a_body_in_a_later_read_goes_through_the_app_with_the_same_answer(
    connection: Any, split: Any
) -> None:
    async def body(protocol: Any, transport: Transport, state: ServerState) -> Any:
        protocol.data_received(raw(BODY))  # the direct path
        first, second = split(raw(BODY))
        protocol.data_received(first)
        await asyncio.sleep(0)
        assert len(transport.writes) == 1  # waiting for the rest of the body
        protocol.data_received(second)
        await settle(protocol, state)
        return transport.writes

    direct, *via_app = connection(body)
    assert parse(b"".join(via_app))[::2] == parse(direct)[::2]
    assert len(via_app) == 2  # uvicorn's two writes: the ASGI path


def test_pipelined_requests_are_answered_in_order(connection: Any) -> None:
    second = orjson.dumps({"data": [ROW, ROW]})

    async def body(protocol: Any, transport: Transport, state: ServerState) -> Any:
        protocol.data_received(raw(BODY) + raw(second) + raw(BODY, b"Expect: 100-continue"))
        await settle(protocol, state)
        return transport.writes

    writes = connection(body)
    answers = [parse(w)[2] for w in writes[:2]] + [parse(b"".join(writes[2:]))[2]]
    assert [len(orjson.loads(a)["result"]) for a in answers] == [1, 2, 1]


def test_a_refusal_closes_the_connection(connection: Any) -> None:
    async def body(protocol: Any, transport: Transport, state: ServerState) -> Any:
        protocol.data_received(raw(BODY).replace(KEY.encode(), b"wrong"))
        assert transport.closed
        return transport

    transport = connection(body)
    status, fields, _ = parse(transport.writes[0])
    assert (status, fields[b"connection"], fields[b"www-authenticate"]) == (401, b"close", b"Bearer")


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        (raw(BODY, version=b"1.0"), "HTTP/1.0"),
        (raw(BODY, b"Expect: 100-continue"), "expects 100-continue"),
        (raw(BODY, b"Connection: close"), "asks to close"),
        (raw(BODY, path=b"/score?x=1"), "a query string"),
    ],
)
def test_other_requests_go_through_the_app(connection: Any, request_bytes: bytes, reason: str) -> None:
    async def body(protocol: Any, transport: Transport, state: ServerState) -> Any:
        protocol.data_received(request_bytes)
        assert state.tasks, reason
        await settle(protocol, state)
        return transport.writes

    writes = connection(body)
    status, _, answer = parse(b"".join(writes))
    assert status == 200, answer


def test_the_direct_path_collects_what_it_answered(settings: Settings, tmp_path: Path) -> None:
    from tests.scoring.test_collector import read_rows

    folder = tmp_path / "collected"
    collecting = Settings(
        model_dir=settings.model_dir,
        api_key=KEY,
        collect_rate=1.0,
        collect_dir=folder,
        collect_flush_s=0.05,
    )
    app = create_app(collecting, model=load_model(settings.model_dir))
    direct = direct_scorer(app)
    assert direct is not None
    good, wrong_width = orjson.dumps({"data": [ROW, ROW]}), orjson.dumps({"data": [[1.0]]})

    async def run() -> list[Any]:
        async with running(app):  # the lifespan starts the collector and writes what it queued
            return [direct("/score", headers(body), body) for body in (good, wrong_width)]

    (status, _, answer), (refused, _, _) = asyncio.run(run())
    assert (status, refused) == (200, 422)
    collected = read_rows(folder)
    assert [r["request_id"] for r in collected] == ["req-1"] * 2
    assert [r["prediction"] for r in collected] == orjson.loads(answer)["result"]


def test_a_classifier_answers_its_probabilities_on_the_direct_path(tmp_path: Path) -> None:
    from tests.model_folders import build_classifier_dir

    folder = build_classifier_dir(tmp_path)
    app = create_app(Settings(model_dir=folder, model_version="1", api_key=KEY))
    direct = direct_scorer(app)
    assert direct is not None
    body = orjson.dumps({"data": [[0.1, -0.2, 0.3, 1.0], [2.0, 1.0, -1.0, 0.0]]})

    async def both() -> tuple[Any, Any]:
        async with running(app):
            return await asgi_answer(app, "/score", headers(body), body), direct(
                "/score", headers(body), body
            )

    via_asgi, now = asyncio.run(both())
    assert now[0] == via_asgi[0] == 200
    assert orjson.loads(now[2]) == orjson.loads(via_asgi[2])
    assert len(orjson.loads(now[2])["probabilities"]) == 2
