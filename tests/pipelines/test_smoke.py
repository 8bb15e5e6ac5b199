"""The smoke test's retry policy and comparisons (transport-level), and a real starting process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.local.endpoint import free_port
from pipelines.smoke import SmokeTestError, SmokeTestUnavailable, smoke_test

URL = "http://scoring.test/score"
ROWS = [[0.0] * 10, [1.0] * 10]


def scripted(*answers: tuple[int, Any]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport that gives the answers in order (the last one repeats) and records requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = answers[min(len(seen), len(answers) - 1)]
        seen.append(request)
        if isinstance(body, Exception):
            raise body
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handler), seen


def test_passes_and_sends_rows_and_bearer_key() -> None:
    transport, seen = scripted((200, {"result": [1.0, 2.0000000001]}))
    result = smoke_test(URL, ROWS, [1.0, 2.0], api_key="k", transport=transport)
    assert (result.rows, result.attempts) == (2, 1)
    assert seen[0].headers["authorization"] == "Bearer k"
    assert httpx.Response(200, content=seen[0].content).json() == {"data": ROWS}


def test_retries_connection_errors_and_503_then_passes() -> None:
    transport, seen = scripted(
        (0, httpx.ConnectError("refused")),
        (503, {"error": {"code": "not_ready"}}),
        (502, {}),
        (200, {"result": [1.0, 2.0]}),
    )
    assert smoke_test(URL, ROWS, [1.0, 2.0], transport=transport).attempts == 4
    assert len(seen) == 4


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_4xx_fails_at_once(status: int) -> None:
    transport, seen = scripted((status, {"error": {"message": "nope"}}))
    with pytest.raises(SmokeTestError, match=f"HTTP {status}") as error:
        smoke_test(URL, ROWS, [1.0, 2.0], transport=transport)
    assert not isinstance(error.value, SmokeTestUnavailable)
    assert len(seen) == 1


def test_a_mismatch_fails_at_once_naming_row_expected_and_got() -> None:
    transport, seen = scripted((200, {"result": [1.0, 2.5]}))
    with pytest.raises(SmokeTestError, match=r"row 1 expected 2.0, got 2.5 .*1 of 2 rows differ"):
        smoke_test(URL, ROWS, [1.0, 2.0], transport=transport)
    assert len(seen) == 1


@pytest.mark.parametrize(
    "body", [{"result": [1.0]}, {"predictions": [1.0, 2.0]}, {"result": [1.0, None]}, [1, 2]]
)
def test_malformed_answers_fail(body: Any) -> None:
    transport, _ = scripted((200, body))
    with pytest.raises(SmokeTestError):
        smoke_test(URL, ROWS, [1.0, 2.0], transport=transport)


def test_gives_up_after_the_deadline() -> None:
    transport, seen = scripted((503, {}))
    with pytest.raises(SmokeTestUnavailable, match="did not answer successfully"):
        smoke_test(URL, ROWS, [1.0, 2.0], timeout_s=0.5, transport=transport)
    assert len(seen) >= 2


def test_rows_and_expected_must_match() -> None:
    with pytest.raises(ValueError, match="one expected value per row"):
        smoke_test(URL, ROWS, [1.0])


@pytest.mark.slow
def test_retries_while_a_real_service_starts(
    model_dir: Path, rows: list[list[float]], predictions: Any, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "AZUREML_MODEL_DIR": str(model_dir), "SCORING_MODEL_VERSION": "1"}
    env.pop("SCORING_API_KEY", None)
    with (tmp_path / "scoring.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scoring", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Called at once: the first attempts meet a closed port (scikit-learn is still importing).
        result = smoke_test(
            f"http://127.0.0.1:{port}/score", rows, predictions(model_dir, rows), timeout_s=90
        )
        assert result.attempts > 1
        assert result.max_abs_error < 1e-9
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself (it is its own CA bundle)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.mark.slow
def test_https_with_a_bearer_key(
    model_dir: Path, rows: list[list[float]], predictions: Any, tmp_path: Path
) -> None:
    import threading

    import uvicorn

    from scoring.app import create_app
    from scoring.settings import Settings

    cert_file, key_file = self_signed_cert(tmp_path)
    port = free_port()
    app = create_app(Settings(model_dir=model_dir, api_key="tls-key"))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
        log_config=None,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{port}/score"
    try:
        result = smoke_test(
            url, rows, predictions(model_dir, rows), api_key="tls-key", verify=str(cert_file), timeout_s=60
        )
        assert result.rows == len(rows)
        with pytest.raises(SmokeTestError, match="HTTP 401"):
            smoke_test(url, rows, predictions(model_dir, rows), api_key="wrong", verify=str(cert_file))
        # A certificate the client does not trust fails at once, without retrying for 30 s.
        with pytest.raises(SmokeTestError, match="CERTIFICATE_VERIFY_FAILED") as error:
            smoke_test(url, rows, predictions(model_dir, rows), api_key="tls-key", timeout_s=600)
        assert not isinstance(error.value, SmokeTestUnavailable)
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_classifiers_probabilities_are_compared_too() -> None:
    expected = [[0.2, 0.8], [0.9, 0.1]]
    transport, _ = scripted((200, {"result": [1.0, 0.0], "probabilities": expected}))
    assert smoke_test(URL, ROWS, [1.0, 0.0], probabilities=expected, transport=transport).max_abs_error == 0
    transport, _ = scripted((200, {"result": [1.0, 0.0], "probabilities": [[0.2, 0.8], [0.5, 0.5]]}))
    with pytest.raises(SmokeTestError, match=r"probability mismatch at .*: row 1 expected \[0.9, 0.1\]"):
        smoke_test(URL, ROWS, [1.0, 0.0], probabilities=expected, transport=transport)
    transport, _ = scripted((200, {"result": [1.0, 0.0]}))
    with pytest.raises(SmokeTestError, match='without one "probabilities" row per row'):
        smoke_test(URL, ROWS, [1.0, 0.0], probabilities=expected, transport=transport)
