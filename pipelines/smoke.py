"""Smoke test: post sample rows to a scoring endpoint and compare with offline predictions.

The same function checks the local process (HTTP) and the Azure endpoints (HTTPS with a
``Bearer`` key). It retries, with exponential backoff, only what a starting or restarting
service does: connection errors, time-outs and 5xx answers (503 while not ready). A 4xx is
the request's fault, a wrong prediction the model's and a refused TLS certificate the
set-up's: those fail at once.
"""

from __future__ import annotations

import math
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from pipelines.errors import MlopsError


class SmokeTestError(MlopsError):
    """The endpoint answered wrongly (4xx, malformed answer or a prediction mismatch)."""


class SmokeTestUnavailable(SmokeTestError):
    """The endpoint did not answer successfully before the deadline (connection errors, 5xx)."""


def _transient(error: BaseException) -> bool:
    """Worth another attempt: a 5xx, or a transport error other than a refused certificate."""
    if isinstance(error, _Retryable):
        return True
    return isinstance(error, httpx.TransportError) and "CERTIFICATE_VERIFY_FAILED" not in str(error)


class _Retryable(Exception):
    """A 5xx answer: the service may be starting or restarting."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}: {response.text[:300]}")
        self.status_code = response.status_code


@dataclass(frozen=True, slots=True)
class SmokeResult:
    """A passed smoke test."""

    url: str
    rows: int
    attempts: int
    max_abs_error: float
    elapsed_s: float


def _mismatches(expected: list[float], got: list[Any], tolerance: float) -> list[tuple[int, float, Any]]:
    bad = []
    for i, (want, value) in enumerate(zip(expected, got, strict=True)):
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and abs(value - want) <= tolerance * max(1.0, abs(want))
        )
        if not ok:
            bad.append((i, want, value))
    return bad


def _check_probabilities(
    url: str, response: httpx.Response, expected: list[list[float]], tolerance: float
) -> float:
    """The largest difference between the answer's probabilities and ``expected``; SmokeTestError if
    they are missing, shaped otherwise or outside the tolerance."""
    got = response.json().get("probabilities")
    if not isinstance(got, list) or len(got) != len(expected):
        raise SmokeTestError(f'{url} answered without one "probabilities" row per row: {response.text[:300]}')
    worst = 0.0
    for i, (want_row, got_row) in enumerate(zip(expected, got, strict=True)):
        if not isinstance(got_row, list) or len(got_row) != len(want_row):
            raise SmokeTestError(f"{url}: probabilities of row {i} are {got_row!r}, expected {want_row!r}")
        bad = _mismatches(want_row, got_row, tolerance)
        if bad:
            raise SmokeTestError(
                f"probability mismatch at {url}: row {i} expected {want_row!r}, got {got_row!r} "
                f"(tolerance {tolerance:g})"
            )
        worst = max(worst, *(abs(float(g) - w) for g, w in zip(got_row, want_row, strict=True)))
    return worst


def smoke_test(
    url: str,
    rows: list[list[float]],
    expected: list[float],
    *,
    api_key: str | None = None,
    tolerance: float = 1e-6,
    timeout_s: float = 30,
    verify: bool | str | ssl.SSLContext = True,
    transport: httpx.BaseTransport | None = None,
    probabilities: list[list[float]] | None = None,
) -> SmokeResult:
    """POST ``{"data": rows}`` to ``url`` and check ``result`` against ``expected`` (and, for a
    classifier, ``probabilities`` against the answer's).

    Args:
        url: the full scoring URL (``.../score``), ``http://`` or ``https://``.
        rows, expected: sample rows and the registered model's offline predictions for them.
        api_key: sent as ``Authorization: Bearer <api_key>`` (the scoring service's and
            Azure ML online endpoints' scheme).
        tolerance: allowed difference, relative to ``max(1, |expected|)``.
        timeout_s: total time for retries while the service starts.
        verify: TLS verification (``True``, a CA bundle path, or an ``ssl.SSLContext``).
        transport: an httpx transport to use instead of the network (tests).
        probabilities: a classifier's offline class probabilities per row (metadata.json's
            ``sample.probabilities``); ``None`` checks the classes only.

    Raises:
        SmokeTestError: a 4xx, a malformed answer, or a prediction outside the tolerance
            (the message names the row, the expected and the received value).
        SmokeTestUnavailable: no successful answer within ``timeout_s``.
    """
    if len(rows) != len(expected) or not rows:
        raise ValueError("smoke_test needs one expected value per row, and at least one row")
    headers = {"content-type": "application/json", "x-request-id": f"smoke-{int(time.time())}"}
    if api_key is not None:
        headers["authorization"] = f"Bearer {api_key}"
    start = time.monotonic()
    attempts = 0

    def attempt(client: httpx.Client) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        remaining = max(1.0, timeout_s - (time.monotonic() - start))
        response = client.post(url, json={"data": rows}, headers=headers, timeout=min(10.0, remaining))
        if response.status_code >= 500:
            raise _Retryable(response)
        return response

    def give_up(state: RetryCallState) -> httpx.Response:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        raise SmokeTestUnavailable(
            f"{url} did not answer successfully within {timeout_s:.0f} s "
            f"({attempts} attempts); last error: {type(error).__name__}: {error}"
        )

    retrying = Retrying(
        retry=retry_if_exception(_transient),
        wait=wait_exponential(multiplier=0.2, min=0.2, max=3.0),
        stop=stop_after_delay(timeout_s),
        retry_error_callback=give_up,
        reraise=False,
    )
    tls: bool | ssl.SSLContext = (
        ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
    )
    with httpx.Client(verify=tls, trust_env=False, transport=transport) as client:
        try:
            response: httpx.Response = retrying(attempt, client)
        except httpx.TransportError as exc:  # not transient: a certificate the client refuses
            raise SmokeTestError(f"{url}: {exc}") from None

    if response.status_code != 200:
        raise SmokeTestError(f"{url} answered HTTP {response.status_code}: {response.text[:500]}")
    try:
        got = response.json()["result"]
    except (ValueError, KeyError, TypeError):
        raise SmokeTestError(f'{url} answered 200 without a JSON "result": {response.text[:300]}') from None
    if not isinstance(got, list) or len(got) != len(expected):
        count = len(got) if isinstance(got, list) else type(got).__name__
        raise SmokeTestError(f"{url} returned {count} results for {len(expected)} rows")
    bad = _mismatches(expected, got, tolerance)
    if bad:
        i, want, value = bad[0]
        raise SmokeTestError(
            f"prediction mismatch at {url}: row {i} expected {want!r}, got {value!r} "
            f"(tolerance {tolerance:g}; {len(bad)} of {len(expected)} rows differ)"
        )
    max_err = max(abs(float(g) - w) for g, w in zip(got, expected, strict=True))
    if probabilities is not None:
        max_err = max(max_err, _check_probabilities(url, response, probabilities, tolerance))
    return SmokeResult(
        url=url,
        rows=len(rows),
        attempts=attempts,
        max_abs_error=max_err,
        elapsed_s=round(time.monotonic() - start, 3),
    )
