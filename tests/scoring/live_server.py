"""A real scoring server on 127.0.0.1 (uvicorn with the service's options, in a thread), and raw sockets.

The hostile-HTTP tests talk to it byte by byte: what a slow, partial or oversized client does
cannot be sent through an HTTP client library, which would fix it first.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import uvicorn

from scoring.app import create_app, direct_scorer
from scoring.protocol import uvicorn_options
from scoring.settings import Settings

HOST = "127.0.0.1"


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[tuple[str, int]]:
    """Run the app for ``settings`` on a free port of 127.0.0.1; yield ``(host, port)``."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings, direct_scorer(app))))
    sock = socket.socket()
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield HOST, port
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        value = orjson.loads(self.body)
        assert isinstance(value, dict), value
        return value


def connect(address: tuple[str, int], timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def read_answer(sock: socket.socket) -> Answer:
    """Read one response (with a Content-Length, as the service always sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full response head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return Answer(int(status_line.split()[1]), headers, body)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` within ``within`` seconds (reading and dropping data)."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def request(method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: test", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
