"""Settings from environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_ROWS, Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({"AZUREML_MODEL_DIR": "/models/m"})
    assert s.model_dir == Path("/models/m")
    assert (s.model_name, s.model_version, s.api_key) == (None, "unknown", None)
    assert (s.max_rows, s.max_body_bytes) == (DEFAULT_MAX_ROWS, DEFAULT_MAX_BODY_BYTES)
    assert (s.log_level, s.fast_path, s.telemetry_enabled, s.auth_enabled) == (
        "INFO",
        True,
        False,
        False,
    )


def test_every_variable() -> None:
    s = Settings.from_env(
        {
            "AZUREML_MODEL_DIR": "/m",
            "SCORING_MODEL_NAME": "my-model",
            "SCORING_MODEL_VERSION": "12",
            "SCORING_API_KEY": "key",
            "SCORING_MAX_ROWS": "50",
            "SCORING_MAX_BODY_BYTES": "4096",
            "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=abc",
            "SCORING_LOG_LEVEL": "debug",
            "SCORING_FAST_PATH": "off",
        }
    )
    assert (s.model_name, s.model_version, s.max_rows, s.max_body_bytes) == ("my-model", "12", 50, 4096)
    assert (s.auth_enabled, s.telemetry_enabled, s.log_level, s.fast_path) == (True, True, "DEBUG", False)


def test_blank_means_unset() -> None:
    s = Settings.from_env({"AZUREML_MODEL_DIR": "/m", "SCORING_API_KEY": "  "})
    assert s.api_key is None


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({}, "AZUREML_MODEL_DIR is not set"),
        ({"SCORING_MAX_ROWS": "many"}, "SCORING_MAX_ROWS must be a whole number"),
        ({"SCORING_MAX_ROWS": "0"}, "SCORING_MAX_ROWS must be at least 1"),
        ({"SCORING_MAX_BODY_BYTES": "10"}, "SCORING_MAX_BODY_BYTES must be at least"),
        ({"SCORING_LOG_LEVEL": "loud"}, "SCORING_LOG_LEVEL must be one of"),
        ({"SCORING_FAST_PATH": "maybe"}, "SCORING_FAST_PATH must be true or false"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], phrase: str) -> None:
    base = {} if not env else {"AZUREML_MODEL_DIR": "/m"}
    with pytest.raises(SettingsError, match=phrase):
        Settings.from_env({**base, **env})


def test_secrets_are_not_in_repr() -> None:
    s = Settings.from_env(
        {
            "AZUREML_MODEL_DIR": "/m",
            "SCORING_API_KEY": "hunter2",
            "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=secret-ikey",
        }
    )
    assert "hunter2" not in repr(s)
    assert "secret-ikey" not in repr(s)


@pytest.mark.parametrize("key", ["clé-secrète", "with space", "tab\there"])
def test_an_api_key_no_client_can_send_is_refused(key: str) -> None:
    with pytest.raises(SettingsError, match="SCORING_API_KEY must hold visible ASCII"):
        Settings(model_dir=Path("/m"), api_key=key)


def test_the_http_limits_have_variables_and_defaults() -> None:
    s = Settings.from_env(
        {
            "AZUREML_MODEL_DIR": "/m",
            "SCORING_MAX_HEADER_BYTES": "8192",
            "SCORING_HEADER_TIMEOUT_S": "2.5",
            "SCORING_BODY_TIMEOUT_S": "7",
            "SCORING_KEEP_ALIVE_S": "0.5",
            "SCORING_MAX_CONNECTIONS": "64",
        }
    )
    assert (s.max_header_bytes, s.header_timeout_s, s.body_timeout_s, s.keep_alive_s, s.max_connections) == (
        8192,
        2.5,
        7.0,
        0.5,
        64,
    )
    d = Settings(model_dir=Path("/m"))
    assert (d.max_header_bytes, d.header_timeout_s, d.body_timeout_s, d.keep_alive_s, d.max_connections) == (
        16384,
        10.0,
        30.0,
        5.0,
        256,
    )


@pytest.mark.parametrize(
    ("name", "raw", "phrase"),
    [
        ("SCORING_HEADER_TIMEOUT_S", "soon", "must be a number of seconds"),
        ("SCORING_BODY_TIMEOUT_S", "0", r"in \(0, 3600\]"),
        ("SCORING_KEEP_ALIVE_S", "nan", r"in \(0, 3600\]"),
        ("SCORING_MAX_HEADER_BYTES", "100", "at least 1024"),
        ("SCORING_MAX_CONNECTIONS", "0", "at least 1"),
    ],
)
def test_bad_http_limits_name_the_variable(name: str, raw: str, phrase: str) -> None:
    with pytest.raises(SettingsError, match=phrase) as error:
        Settings.from_env({"AZUREML_MODEL_DIR": "/m", name: raw})
    assert str(error.value).startswith(name)
