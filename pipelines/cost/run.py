"""Estimates of declared stacks at current retail prices (the network only when the cache is stale)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from pipelines.cost.estimate import Estimate, estimate, queries
from pipelines.cost.prices import DEFAULT_CACHE, resolve
from pipelines.declared import DeclaredStack


def estimate_stacks(
    stacks: Sequence[DeclaredStack],
    *,
    currency: str = "USD",
    prices_file: Path | None = None,
    cache: Path = DEFAULT_CACHE,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> list[Estimate]:
    """One estimate per stack. With ``prices_file``, prices come from it alone (offline)."""
    needed = [query for stack in stacks for query in queries(stack)]
    offline = prices_file is not None
    own_client = client is None and not offline
    http = httpx.Client(timeout=30, follow_redirects=False) if own_client else client
    try:
        book = resolve(
            needed,
            currency=currency,
            cache=prices_file or cache,
            offline=offline,
            client=http,
            now=now or datetime.now(tz=UTC),
        )
    finally:
        if own_client and http is not None:
            http.close()
    return [estimate(stack, book) for stack in stacks]
