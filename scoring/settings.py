"""The scoring service's settings: one typed, immutable object read from environment variables.

Every setting has an environment variable; nothing else configures the service, so the same
image runs locally, in an ACI container group and in an Azure ML online deployment.
Secrets (the API key, the Application Insights connection string) never appear in ``repr``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scoring.contract import ESTIMATOR_FILE, METADATA_FILE

DEFAULT_MAX_ROWS = 1000
# 1,000 rows of 10 features written out at full float precision take ~250 kB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Request line + headers: an Azure ML token (~2-4 kB) fits; h11's and Node's default limit too.
DEFAULT_MAX_HEADER_BYTES = 16 * 1024
DEFAULT_HEADER_TIMEOUT_S = 10.0
# A 1 MiB body within 30 s is 35 kB/s: slower clients are not clients of a scoring API.
DEFAULT_BODY_TIMEOUT_S = 30.0
DEFAULT_KEEP_ALIVE_S = 5.0  # uvicorn's default
# Each connection may hold up to SCORING_MAX_BODY_BYTES while its body arrives.
DEFAULT_MAX_CONNECTIONS = 256
# Production data collection (scoring/collector.py; docs/monitoring.md): off unless asked for.
DEFAULT_COLLECT_RATE = 0.0
DEFAULT_COLLECT_QUEUE = 1000  # requests waiting for the writer thread (each holds its rows)
DEFAULT_COLLECT_MAX_MB = 512
DEFAULT_COLLECT_FLUSH_S = 10.0
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class SettingsError(ValueError):
    """An environment variable has a value the service cannot use; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the scoring service needs to start.

    Attributes:
        model_dir: ``AZUREML_MODEL_DIR``: the model folder, or a folder holding exactly one.
        model_name: ``SCORING_MODEL_NAME``; ``None`` means the name in ``metadata.json``.
        model_version: ``SCORING_MODEL_VERSION``: the registry version (unknown at training).
        api_key: ``SCORING_API_KEY``; when set, ``/score`` and ``/metadata`` need
            ``Authorization: Bearer <key>``.
        max_rows: ``SCORING_MAX_ROWS``: the most rows one request may hold.
        max_body_bytes: ``SCORING_MAX_BODY_BYTES``: the largest request body accepted.
        appinsights_connection_string: ``APPLICATIONINSIGHTS_CONNECTION_STRING``; when set,
            traces, logs and metrics go to Application Insights through OpenTelemetry.
        log_level: ``SCORING_LOG_LEVEL`` (``INFO`` by default).
        fast_path: ``SCORING_FAST_PATH`` (``true`` by default): evaluate supported pipelines
            with NumPy once verified against ``estimator.predict`` (see fastpath.py).
        max_header_bytes: ``SCORING_MAX_HEADER_BYTES``: the largest request head (request
            line and headers); larger gets ``431`` and the connection is closed.
        header_timeout_s: ``SCORING_HEADER_TIMEOUT_S``: the most seconds from a connection's
            opening (or a request's first byte) to the end of the request's head.
        body_timeout_s: ``SCORING_BODY_TIMEOUT_S``: the most seconds from the end of a head
            to the end of its body.
        keep_alive_s: ``SCORING_KEEP_ALIVE_S``: how long an idle connection stays open
            between requests (uvicorn's ``timeout_keep_alive``).
        max_connections: ``SCORING_MAX_CONNECTIONS``: open connections (and requests in
            progress) above which requests get ``503`` (uvicorn's ``limit_concurrency``).
        collect_rate: ``SCORING_COLLECT_RATE``: the share of answered requests whose rows and
            predictions are collected: ``0`` off (the default), ``1`` all, between: sampled.
        collect_dir: ``SCORING_COLLECT_DIR``: where collected rows are written (needed when
            ``collect_rate`` is above 0).
        collect_queue: ``SCORING_COLLECT_QUEUE``: requests waiting to be written; more are
            dropped and counted.
        collect_max_mb: ``SCORING_COLLECT_MAX_MB``: the most megabytes of collection files in
            ``collect_dir``; past it new rows are dropped and counted.
        collect_flush_s: ``SCORING_COLLECT_FLUSH_S``: the longest a collected request waits
            before it is written.
    """

    model_dir: Path
    model_name: str | None = None
    model_version: str = "unknown"
    api_key: str | None = field(default=None, repr=False)
    max_rows: int = DEFAULT_MAX_ROWS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    appinsights_connection_string: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    fast_path: bool = True
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    keep_alive_s: float = DEFAULT_KEEP_ALIVE_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    collect_rate: float = DEFAULT_COLLECT_RATE
    collect_dir: Path | None = None
    collect_queue: int = DEFAULT_COLLECT_QUEUE
    collect_max_mb: int = DEFAULT_COLLECT_MAX_MB
    collect_flush_s: float = DEFAULT_COLLECT_FLUSH_S

    def __post_init__(self) -> None:
        if self.max_rows < 1:
            raise SettingsError(f"SCORING_MAX_ROWS must be at least 1, got {self.max_rows}")
        if self.max_body_bytes < 64:
            raise SettingsError(f"SCORING_MAX_BODY_BYTES must be at least 64, got {self.max_body_bytes}")
        if self.log_level not in _LOG_LEVELS:
            raise SettingsError(
                f"SCORING_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}"
            )
        if self.api_key is not None and not all("!" <= c <= "~" for c in self.api_key):
            # A header value is bytes; clients send the key as ASCII (Azure ML keys are base64).
            raise SettingsError("SCORING_API_KEY must hold visible ASCII characters only (no spaces)")
        if self.max_header_bytes < 1024:
            raise SettingsError(
                f"SCORING_MAX_HEADER_BYTES must be at least 1024, got {self.max_header_bytes}"
            )
        for name, seconds in (
            ("SCORING_HEADER_TIMEOUT_S", self.header_timeout_s),
            ("SCORING_BODY_TIMEOUT_S", self.body_timeout_s),
            ("SCORING_KEEP_ALIVE_S", self.keep_alive_s),
        ):
            if not 0 < seconds <= 3600:
                raise SettingsError(f"{name} must be a number of seconds in (0, 3600], got {seconds}")
        if self.max_connections < 1:
            raise SettingsError(f"SCORING_MAX_CONNECTIONS must be at least 1, got {self.max_connections}")
        self._check_collection()

    def _check_collection(self) -> None:
        if not 0 <= self.collect_rate <= 1:  # NaN fails too
            raise SettingsError(
                "SCORING_COLLECT_RATE must be a number from 0 (off) to 1 (every request), "
                f"got {self.collect_rate}"
            )
        if self.collect_rate > 0 and self.collect_dir is None:
            raise SettingsError(
                f"SCORING_COLLECT_RATE is {self.collect_rate} but SCORING_COLLECT_DIR is not set: "
                "name the folder the collected rows go to, or set the rate to 0"
            )
        if self.collect_queue < 1:
            raise SettingsError(f"SCORING_COLLECT_QUEUE must be at least 1, got {self.collect_queue}")
        if self.collect_max_mb < 1:
            raise SettingsError(f"SCORING_COLLECT_MAX_MB must be at least 1, got {self.collect_max_mb}")
        if not 0 < self.collect_flush_s <= 3600:
            raise SettingsError(
                "SCORING_COLLECT_FLUSH_S must be a number of seconds in (0, 3600], "
                f"got {self.collect_flush_s}"
            )

    @property
    def collecting(self) -> bool:
        return self.collect_rate > 0

    @property
    def auth_enabled(self) -> bool:
        return self.api_key is not None

    @property
    def telemetry_enabled(self) -> bool:
        return self.appinsights_connection_string is not None

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (the process environment by default).

        Raises:
            SettingsError: a variable is missing or malformed; the message names it.
        """
        env = os.environ if environ is None else environ
        model_dir = _optional(env, "AZUREML_MODEL_DIR")
        if model_dir is None:
            raise SettingsError(
                "AZUREML_MODEL_DIR is not set: point it at the model folder "
                f"(the one holding {ESTIMATOR_FILE} and {METADATA_FILE})"
            )
        return cls(
            model_dir=Path(model_dir),
            model_name=_optional(env, "SCORING_MODEL_NAME"),
            model_version=_optional(env, "SCORING_MODEL_VERSION") or "unknown",
            api_key=_optional(env, "SCORING_API_KEY"),
            max_rows=_int(env, "SCORING_MAX_ROWS", DEFAULT_MAX_ROWS),
            max_body_bytes=_int(env, "SCORING_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            appinsights_connection_string=_optional(env, "APPLICATIONINSIGHTS_CONNECTION_STRING"),
            log_level=(_optional(env, "SCORING_LOG_LEVEL") or "INFO").upper(),
            fast_path=_bool(env, "SCORING_FAST_PATH", default=True),
            max_header_bytes=_int(env, "SCORING_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES),
            header_timeout_s=_float(env, "SCORING_HEADER_TIMEOUT_S", DEFAULT_HEADER_TIMEOUT_S),
            body_timeout_s=_float(env, "SCORING_BODY_TIMEOUT_S", DEFAULT_BODY_TIMEOUT_S),
            keep_alive_s=_float(env, "SCORING_KEEP_ALIVE_S", DEFAULT_KEEP_ALIVE_S),
            max_connections=_int(env, "SCORING_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
            collect_rate=_float(
                env,
                "SCORING_COLLECT_RATE",
                DEFAULT_COLLECT_RATE,
                "a number from 0 (off) to 1 (every request)",
            ),
            collect_dir=Path(d) if (d := _optional(env, "SCORING_COLLECT_DIR")) else None,
            collect_queue=_int(env, "SCORING_COLLECT_QUEUE", DEFAULT_COLLECT_QUEUE),
            collect_max_mb=_int(env, "SCORING_COLLECT_MAX_MB", DEFAULT_COLLECT_MAX_MB),
            collect_flush_s=_float(env, "SCORING_COLLECT_FLUSH_S", DEFAULT_COLLECT_FLUSH_S),
        )


def _optional(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value with surrounding blanks removed; unset and blank are both ``None``."""
    value = env.get(name, "").strip()
    return value or None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float, what: str = "a number of seconds") -> float:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        return float(raw)  # NaN, infinities and values out of range fail the checks of __post_init__
    except ValueError:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from None


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = _optional(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")
