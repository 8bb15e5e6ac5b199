"""Hostile HTTP against a real server on 127.0.0.1: slow, partial, oversized and odd clients.

The server runs with short time-outs and small limits (the settings, not code paths of their
own), so each case takes well under a second.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from scoring.settings import Settings
from tests.scoring.live_server import closed_by_server, connect, read_answer, request, serving

KEY = "test-key-42"
AUTH = ("Authorization", f"Bearer {KEY}")
JSON = ("Content-Type", "application/json")
ROW = [0.01] * 10
BODY = orjson.dumps({"data": [ROW]})
TIMEOUT_S = 0.4
SLACK_S = 2.0  # a shared, loaded machine: the server closes after TIMEOUT_S, we wait longer
MAX_HEADER = 4096
MAX_BODY = 8192


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[tuple[str, int]]:
    settings = Settings(
        model_dir=model_dir,
        api_key=KEY,
        max_body_bytes=MAX_BODY,
        max_header_bytes=MAX_HEADER,
        header_timeout_s=TIMEOUT_S,
        body_timeout_s=TIMEOUT_S,
        keep_alive_s=TIMEOUT_S,
        max_connections=200,
    )
    with serving(settings) as address:
        yield address


def score_request(*headers: tuple[str, str], body: bytes = BODY) -> bytes:
    return request("POST", "/score", [AUTH, JSON, ("Content-Length", str(len(body))), *headers], body)


def test_a_good_request_is_served_and_kept_alive(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        for _ in range(2):
            sock.sendall(score_request())
            answer = read_answer(sock)
            assert answer.status == 200, answer
            assert len(answer.json()["result"]) == 1  # type: ignore[arg-type]


# --- 2. slow clients ------------------------------------------------------------------------


def test_a_silent_connection_is_closed(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        assert closed_by_server(sock, TIMEOUT_S + SLACK_S)


def test_a_half_sent_head_gets_408_and_is_closed(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /score HTTP/1.1\r\nHost: test\r\nContent-Type: app")
        started = time.monotonic()
        answer = read_answer(sock)
        assert answer.status == 408
        assert answer.json()["error"]["code"] == "request_timeout"  # type: ignore[index]
        assert time.monotonic() - started < TIMEOUT_S + SLACK_S
        assert closed_by_server(sock, SLACK_S)


def test_a_slow_head_after_a_first_request_gets_408(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(score_request())
        assert read_answer(sock).status == 200
        sock.sendall(b"POST /score HTTP/1.1\r\n")  # then nothing: the keep-alive timer is gone
        assert read_answer(sock).status == 408
        assert closed_by_server(sock, SLACK_S)


@pytest.mark.parametrize("then", [b"", b"\r\n"], ids=["silence", "a stray line break"])
def test_an_idle_connection_after_responses_is_closed_after_the_keep_alive(
    server: tuple[str, int], then: bytes
) -> None:
    with connect(server) as sock:
        for _ in range(3):  # the keep-alive timer is armed once and checked when it fires
            sock.sendall(score_request())
            assert read_answer(sock).status == 200
            time.sleep(TIMEOUT_S / 2)
        sock.sendall(then)
        started = time.monotonic()
        assert closed_by_server(sock, SLACK_S)
        assert time.monotonic() - started > TIMEOUT_S / 4  # not at once: after the time-out


def test_a_declared_body_that_never_arrives_gets_408(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(score_request(body=BODY)[: -len(BODY) + 10])  # the head and 10 bytes
        answer = read_answer(sock)
        assert answer.status == 408
        error = answer.json()["error"]
        assert error["code"] == "request_timeout"  # type: ignore[index]
        assert error["request_id"] == answer.headers["x-request-id"]  # type: ignore[index]
        assert closed_by_server(sock, SLACK_S)


def test_a_trickled_body_after_a_401_is_not_read_for_ever(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        head = request("POST", "/score", [JSON, ("Content-Length", "5000")])
        sock.sendall(head + b"{")
        assert read_answer(sock).status == 401
        # The server closes (it refused before reading the body), whatever still trickles in.
        for _ in range(3):
            try:
                sock.sendall(b" ")
            except OSError:
                break
            time.sleep(0.05)
        assert closed_by_server(sock, TIMEOUT_S + SLACK_S)


def test_many_idle_connections_are_all_closed(server: tuple[str, int]) -> None:
    socks = [connect(server) for _ in range(60)]
    try:
        for i, sock in enumerate(socks):
            if i % 2:
                sock.sendall(b"GET /health/live HTTP/1.1\r\n")  # half of them a partial head
        time.sleep(TIMEOUT_S)
        assert all(closed_by_server(sock, SLACK_S) for sock in socks)
    finally:
        for sock in socks:
            sock.close()


# --- 3. header size --------------------------------------------------------------------------


def test_a_header_just_under_the_limit_is_served(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(score_request(("X-Pad", "a" * (MAX_HEADER - 300))))
        assert read_answer(sock).status == 200


def test_an_oversized_header_gets_431_before_authentication(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(request("POST", "/score", [JSON, ("X-Pad", "a" * 64 * 1024)], BODY))
        answer = read_answer(sock)
        assert answer.status == 431
        assert answer.json()["error"]["code"] == "headers_too_large"  # type: ignore[index]
        assert closed_by_server(sock, SLACK_S)


def test_an_endless_header_is_cut_off_early(server: tuple[str, int]) -> None:
    sent = 0
    with connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nX-Pad: ")
        try:
            while sent < 8 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except OSError:  # the server answered 431 and closed: the rest is refused
            pass
        assert sent < 8 * 1024 * 1024, "the server read 8 MiB of one header"
        assert closed_by_server(sock, SLACK_S)


# --- 6, 7, 9: odd but legal requests, and what uvicorn answers itself ------------------------


def test_score_with_a_trailing_slash_is_a_json_404_not_a_redirect(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(request("POST", "/score/", [AUTH, JSON, ("Content-Length", str(len(BODY)))], BODY))
        answer = read_answer(sock)
    assert answer.status == 404
    assert "location" not in answer.headers
    assert answer.json()["error"]["code"] == "not_found"  # type: ignore[index]


@pytest.mark.parametrize(
    "authorization",
    [f"bearer {KEY}", f"BEARER {KEY}", f"Bearer {KEY} ", f"Bearer  {KEY}", f"Bearer {KEY}\t"],
    ids=["lower-case scheme", "upper-case scheme", "trailing space", "two spaces", "trailing tab"],
)
def test_legal_authorization_spellings_are_accepted(server: tuple[str, int], authorization: str) -> None:
    with connect(server) as sock:
        sock.sendall(
            request(
                "POST",
                "/score",
                [("Authorization", authorization), JSON, ("Content-Length", str(len(BODY)))],
                BODY,
            )
        )
        assert read_answer(sock).status == 200


@pytest.mark.parametrize("order", ["good first", "bad first"])
def test_two_authorization_headers_are_refused(server: tuple[str, int], order: str) -> None:
    pair = [AUTH, ("Authorization", "Bearer wrong")]
    headers = pair if order == "good first" else pair[::-1]
    with connect(server) as sock:
        sock.sendall(request("POST", "/score", [*headers, JSON, ("Content-Length", str(len(BODY)))], BODY))
        answer = read_answer(sock)
    assert answer.status == 401
    assert "more than one Authorization" in answer.json()["error"]["message"]  # type: ignore[index]


def test_content_length_with_a_trailing_space_is_a_number(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(request("POST", "/score", [AUTH, JSON, ("Content-Length", f"{len(BODY)} ")], BODY))
        assert read_answer(sock).status == 200


def test_a_malformed_request_gets_a_json_400(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = read_answer(sock)
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] == "bad_request"  # type: ignore[index]


def test_a_413_closes_the_connection_instead_of_reading_the_upload(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(request("POST", "/score", [AUTH, JSON, ("Content-Length", str(10 * MAX_BODY))]))
        answer = read_answer(sock)
        assert answer.status == 413
        assert answer.headers["connection"] == "close"
        assert closed_by_server(sock, SLACK_S)


def test_a_gzip_body_gets_415(server: tuple[str, int]) -> None:
    import gzip

    body = gzip.compress(BODY)
    with connect(server) as sock:
        sock.sendall(score_request(("Content-Encoding", "gzip"), body=body))
        answer = read_answer(sock)
    assert answer.status == 415
    assert "uncompressed" in answer.json()["error"]["message"]  # type: ignore[index]


def test_too_many_connections_get_a_json_503(model_dir: Path) -> None:
    settings = Settings(model_dir=model_dir, max_connections=2, header_timeout_s=5)
    with serving(settings) as address:
        idle = [connect(address), connect(address)]
        try:
            with connect(address) as sock:
                sock.sendall(request("GET", "/health/live", []))
                answer = read_answer(sock)
        finally:
            for s in idle:
                s.close()
    assert answer.status == 503
    assert answer.json()["error"]["code"] == "busy"  # type: ignore[index]


def test_the_server_still_serves_after_the_hostile_clients(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(score_request())
        assert read_answer(sock).status == 200
    with socket.create_connection(server, timeout=5) as sock:
        sock.sendall(request("GET", "/health/live", []))
        assert read_answer(sock).status == 200


# --- 4. parked uploads ----------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    with Path(f"/proc/{pid}/status").open() as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@contextlib.contextmanager
def serving_process(
    model_dir: Path, env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], tuple[str, int]]]:
    """`python -m scoring` in its own process: its memory is the service's alone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SCORING_", "AZUREML_"))}
    command = [sys.executable, "-m", "scoring", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command,
        env={**base, "AZUREML_MODEL_DIR": str(model_dir), "SCORING_LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(request("GET", "/health/live", []))
                    if read_answer(sock).status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the scoring process did not start") from None
                time.sleep(0.1)
        yield server, ("127.0.0.1", port)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_parked_uploads_are_dropped_and_their_memory_released(model_dir: Path) -> None:
    size, parked = 1024 * 1024, 40
    env = {
        "SCORING_MAX_BODY_BYTES": str(size),
        "SCORING_BODY_TIMEOUT_S": str(TIMEOUT_S),
        "SCORING_MAX_CONNECTIONS": str(parked + 10),
    }
    head = request("POST", "/score", [JSON, ("Content-Length", str(size))])
    body = b" " * (size - 1)
    with serving_process(model_dir, env) as (server, address):
        before = rss_mib(server.pid)
        socks = [connect(address) for _ in range(parked)]
        try:
            for sock in socks:  # all but the last byte of a 1 MiB body, then nothing
                sock.sendall(head + body)
            assert all(read_answer(sock).status == 408 for sock in socks)
            deadline = time.monotonic() + 3 + SLACK_S  # the service trims freed memory within 1 s
            while (grown := rss_mib(server.pid) - before) >= parked / 4 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            for sock in socks:
                sock.close()
    assert grown < parked / 4, f"{grown:.0f} MiB still held after {parked} parked 1 MiB uploads were dropped"
