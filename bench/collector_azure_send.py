"""What sending to Azure ML's data collector costs the collector's writer thread, per request.

    .venv/bin/python bench/collector_azure_send.py [--requests 300]

A stand-in agent (an HTTP server on 127.0.0.1 that reads each body and answers 200) receives what
:class:`scoring.collector_azure.MdcSender` sends for requests of 1 and 100 rows of ten features:
one ``model_inputs`` and one ``model_outputs`` POST each. It prints the sending thread's CPU time
per request (``time.thread_time``: what it takes from the event loop's share of the GIL), its wall
time, and how much of the CPU formats the inputs' numbers. The stand-in's own work runs in other
threads of the same process, so on a loaded machine the wall time includes it.
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from scoring import collector_azure

FEATURES = [f"f{i}" for i in range(10)]


class _Agent(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    count = parser.parse_args().requests
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Agent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = collector_azure.MdcConfig(
        "127.0.0.1", int(server.server_address[1]), frozenset({"model_inputs", "model_outputs"})
    )
    sender = collector_azure.MdcSender(config, FEATURES)
    rng = np.random.default_rng(0)
    for rows in (1, 100):
        values, predictions = rng.normal(size=(rows, len(FEATURES))), rng.normal(150, 70, size=rows)
        cpu, wall = time.thread_time(), time.perf_counter()
        for i in range(count):
            sender.send_request(
                timestamp=time.time(), request_id=f"r{i}", rows=values, predictions=predictions
            )
        cpu_us = (time.thread_time() - cpu) / count * 1e6
        wall_us = (time.perf_counter() - wall) / count * 1e6
        start = time.thread_time()
        for _ in range(count):
            collector_azure.records_json(FEATURES, values)
        format_us = (time.thread_time() - start) / count * 1e6
        print(
            f"{rows:>3} rows: {cpu_us:6.0f} µs CPU per request (wall {wall_us:6.0f} µs), "
            f"of which {format_us:5.0f} µs format the inputs"
        )
    sender.close()
    server.shutdown()


if __name__ == "__main__":
    main()
