"""Where a request's time goes inside the app: the ASGI app driven in-process, no network.

    .venv/bin/python bench/scoring_profile.py                  # µs per request, 1 and 100 rows
    .venv/bin/python bench/scoring_profile.py --profile 1      # plus cProfile's top functions
    .venv/bin/python bench/scoring_profile.py --via protocol   # through uvicorn's protocol too
    PYTHONPATH=bench/.work/baseline-<sha> .venv/bin/python bench/scoring_profile.py   # a baseline

The app runs as in production (API key, INFO request records written to a file, the NumPy
fast path); each request is a real ASGI cycle (``http.request`` in, ``http.response.*`` out).
With ``--via protocol``, each request is raw HTTP bytes fed to the server's protocol (the
service's, with its direct path, or uvicorn's for ``--app floor``) on a fake transport: uvicorn's
Python is measured too, the kernel still is not (bench/scoring_load.py measures that against
the HTTP floor). It prints wall and CPU time per request: on a shared machine, CPU time
(``time.process_time``) moves much less with the neighbours' load.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import pstats
import sys
import time
from typing import Any

# bench/ is sys.path[0] when run as a script; scoring is the project's (installed in .venv),
# unless PYTHONPATH=<a baseline tree> puts another scoring/ first.
from scoring_load import API_KEY, ROOT, bench_data, ensure_models

from scoring import telemetry
from scoring.app import create_app
from scoring.settings import Settings


def body_of(rows: int) -> bytes:
    import numpy as np

    x = bench_data()[2]
    return json.dumps({"data": np.resize(x, (rows, x.shape[1])).tolist()}).encode()


class FakeTransport(asyncio.Transport):
    """What uvicorn's protocol writes to, counted and dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.last = b""

    def write(self, data: Any) -> None:
        self.last = bytes(data)

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


def raw_request(body: bytes) -> bytes:
    head = [
        b"POST /score HTTP/1.1",
        b"Host: 127.0.0.1:8000",
        b"Content-Type: application/json",
        b"Authorization: Bearer " + API_KEY.encode(),
        b"Content-Length: %d" % len(body),
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def drive_protocol(protocol_class: Any, config: Any, body: bytes, n: int) -> tuple[float, float]:
    """Feed ``n`` raw requests to one keep-alive connection; return (wall, CPU) µs per request."""
    from uvicorn.server import ServerState

    state = ServerState()
    protocol = protocol_class(config=config, server_state=state, app_state={})
    transport = FakeTransport()
    protocol.connection_made(transport)
    data = raw_request(body)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        protocol.data_received(data)
        while state.tasks:  # the ASGI way: let the request's task run
            await asyncio.sleep(0)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert transport.last.endswith(b"]}"), transport.last[-200:]
    protocol.connection_lost(None)
    return elapsed / n * 1e6, cpu / n * 1e6


async def drive(app: Any, body: bytes, n: int) -> float:
    """Send ``n`` POST /score requests through ``app``; return µs per request."""
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {API_KEY}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    sent: list[Any] = []

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    start = time.perf_counter()
    for _ in range(n):
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/score",
            "raw_path": b"/score",
            "query_string": b"",
            "headers": headers,
            "state": {},
        }
        await app(scope, receive, send)
    elapsed = time.perf_counter() - start
    assert sent[0]["status"] == 200, sent[:2]
    return elapsed / n * 1e6


async def main_async(args: argparse.Namespace) -> None:
    model_dir = ensure_models()
    settings = Settings(model_dir=model_dir, model_version="1", api_key=API_KEY)
    log_file = ROOT / "bench" / "results" / "profile-requests.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # What configure_logging installs, writing to a file instead of stderr (a baseline from
    # before JsonLinesHandler used a plain StreamHandler).
    handler_class = getattr(telemetry, "JsonLinesHandler", logging.StreamHandler)
    handler = handler_class(log_file.open("w"))
    handler.setFormatter(telemetry.JsonFormatter())
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    app = create_app(settings, setup_logging=False)
    # Run the lifespan (loads the model) by hand.
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    started = asyncio.Event()

    async def lifespan_send(msg: dict[str, Any]) -> None:
        if msg["type"] == "lifespan.startup.complete":
            started.set()

    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, queue.get, lifespan_send)
    )
    await started.wait()
    measure = await measurer(args, app, settings)
    for rows in (int(r) for r in args.rows.split(",")):
        body = body_of(rows)
        await measure(body, 2000)  # warm-up
        runs = sorted([await measure(body, args.requests) for _ in range(args.rounds)], key=lambda r: r[1])
        wall, cpu = runs[len(runs) // 2]
        where = "in the app" if args.via == "app" else f"through the protocol ({args.app})"
        print(
            f"{rows:>4} rows: {wall:7.1f} µs per request {where}, {cpu:7.1f} µs of CPU "
            f"(median of {args.rounds}; CPU min {runs[0][1]:.1f})"
        )
        if rows == args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await measure(body, args.requests)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
            print(out.getvalue())
    await queue.put({"type": "lifespan.shutdown"})
    await task


async def measurer(args: argparse.Namespace, app: Any, settings: Settings) -> Any:
    """``measure(body, n) -> (wall µs, CPU µs)`` per request, as ``--via`` and ``--app`` say."""
    if args.via == "app":

        async def measure_app(body: bytes, n: int) -> tuple[float, float]:
            cpu = time.process_time()
            wall = await drive(app, body, n)
            return wall, (time.process_time() - cpu) / n * 1e6

        return measure_app
    import uvicorn

    if args.app == "floor":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        sys.path.insert(0, str(ROOT))
        from bench.floor_app import app as floor

        config = uvicorn.Config(floor, loop="uvloop", http="httptools", access_log=False, server_header=False)
        protocol_class: Any = HttpToolsProtocol
    else:
        import scoring.app as scoring_app
        from scoring.protocol import uvicorn_options

        # A baseline from before the direct path has no direct_scorer.
        direct = getattr(scoring_app, "direct_scorer", None)
        options = uvicorn_options(settings, direct(app)) if direct else uvicorn_options(settings)
        config = uvicorn.Config(app, **options)
        protocol_class = options["http"]
    config.load()

    async def measure_protocol(body: bytes, n: int) -> tuple[float, float]:
        return await drive_protocol(protocol_class, config, body, n)

    return measure_protocol


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1,100")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="profile at this row count")
    parser.add_argument("--via", choices=("app", "protocol"), default="app")
    parser.add_argument("--app", choices=("ours", "floor"), default="ours", help="with --via protocol")
    args = parser.parse_args()
    if args.via == "protocol":
        import uvloop  # the server's event loop

        uvloop.run(main_async(args))
    else:
        asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
