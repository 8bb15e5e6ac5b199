"""Where a request's time goes inside the app: the ASGI app driven in-process, no network.

    .venv/bin/python bench/scoring_profile.py                  # µs per request, 1 and 100 rows
    .venv/bin/python bench/scoring_profile.py --profile 1      # plus cProfile's top functions
    PYTHONPATH=bench/.work/baseline-<sha> .venv/bin/python bench/scoring_profile.py   # a baseline

The app runs as in production (API key, INFO request records written to a file, the NumPy
fast path); each request is a real ASGI cycle (``http.request`` in, ``http.response.*`` out).
What it cannot show is uvicorn's and the kernel's share: bench/scoring_load.py measures
that against the HTTP floor.
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
    for rows in (int(r) for r in args.rows.split(",")):
        body = body_of(rows)
        await drive(app, body, 2000)  # warm-up
        runs = [await drive(app, body, args.requests) for _ in range(args.rounds)]
        runs.sort()
        print(
            f"{rows:>4} rows: {runs[len(runs) // 2]:7.1f} µs per request in the app (median of {args.rounds})"
        )
        if rows == args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await drive(app, body, args.requests)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
            print(out.getvalue())
    await queue.put({"type": "lifespan.shutdown"})
    await task


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1,100")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="profile at this row count")
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
