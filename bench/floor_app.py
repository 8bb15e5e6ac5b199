"""The HTTP floor of bench/scoring_load.py: a bare ASGI app that reads the body and answers a constant.

Served by uvicorn with the service's server settings (uvloop, httptools, no access log), it is
what any scoring service on this stack costs before it does anything: the benchmark reports the
service's throughput as a share of this one's, measured in the same run.
"""

from __future__ import annotations

from typing import Any

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"14")],
}
_BODY = {"type": "http.response.body", "body": b'{"result":[0]}'}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":  # lifespan: nothing to set up
        message = await receive()
        while message["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(_START)
    await send(_BODY)
