"""Hand the memory of large request bodies back to the OS once they are freed.

A body arrives in pieces (uvicorn's buffer, the chunks read); when many large bodies are held
at once (parked uploads) and then freed, glibc's allocator keeps most of the freed pages in
the process (they sit between live objects), so the service's RSS stays at its peak. After a
request that read at least :data:`MIN_BYTES`, :class:`Trimmer` schedules one ``malloc_trim(0)``
(at most one per :data:`DELAY_S`; a few milliseconds when there is something to give back,
microseconds otherwise). Without glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import sys
from collections.abc import Callable

MIN_BYTES = 256 * 1024
DELAY_S = 1.0


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


class Trimmer:
    """Debounced ``malloc_trim(0)`` on the running event loop."""

    def __init__(self, delay_s: float = DELAY_S, min_bytes: int = MIN_BYTES) -> None:
        self.delay_s = delay_s
        self.min_bytes = min_bytes
        self._trim = _malloc_trim()
        self._pending = False

    def after(self, nbytes: int) -> None:
        """A request that held ``nbytes`` of body is done (or about to be): trim soon if it was large."""
        if nbytes < self.min_bytes or self._pending or self._trim is None:
            return
        self._pending = True
        asyncio.get_running_loop().call_later(self.delay_s, self._run)

    def _run(self) -> None:
        self._pending = False
        if self._trim is not None:
            self._trim(0)
