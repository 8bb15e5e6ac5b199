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

    def __post_init__(self) -> None:
        if self.max_rows < 1:
            raise SettingsError(f"SCORING_MAX_ROWS must be at least 1, got {self.max_rows}")
        if self.max_body_bytes < 64:
            raise SettingsError(f"SCORING_MAX_BODY_BYTES must be at least 64, got {self.max_body_bytes}")
        if self.log_level not in _LOG_LEVELS:
            raise SettingsError(
                f"SCORING_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}"
            )
        if self.api_key is not None and not self.api_key.isprintable():
            raise SettingsError("SCORING_API_KEY must hold printable characters only")

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
