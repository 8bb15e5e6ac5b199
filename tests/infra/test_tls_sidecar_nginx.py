"""The qa TLS sidecar's nginx.conf run by a real Nginx in front of the real scoring service.

Skipped where no ``nginx`` binary is installed (``apt-get install nginx-light``). Only the
locations a test machine cannot use are rewritten (``/etc/nginx``, port 443, the ``user`` and pid
file); the TLS, proxy and header settings are the generated file's.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from infra import tls_sidecar
from pipelines.local.endpoint import free_port
from pipelines.smoke import SmokeTestError, smoke_test
from tests.pipelines.test_smoke import self_signed_cert

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(NGINX is None, reason="nginx is not installed")]


def _wait_for_port(port: int, timeout_s: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture
def scoring_port(model_dir: Path) -> Iterator[int]:
    """The scoring service on plain HTTP (127.0.0.1), as the scoring container in the group."""
    import uvicorn

    from scoring.app import create_app
    from scoring.settings import Settings

    port = free_port()
    config = uvicorn.Config(
        create_app(Settings(model_dir=model_dir, api_key="sidecar-key")),
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_for_port(port)
    yield port
    server.should_exit = True
    thread.join(30)


def test_https_through_the_sidecar_and_nothing_else(
    scoring_port: int,
    tmp_path: Path,
    model_dir: Path,
    rows: list[list[float]],
    predictions: Callable[[Path, list[list[float]]], list[float]],
) -> None:
    cert_file, key_file = self_signed_cert(tmp_path)  # for 127.0.0.1, its own CA
    shutil.copy(cert_file, tmp_path / tls_sidecar.CERT_FILE)
    shutil.copy(key_file, tmp_path / tls_sidecar.KEY_FILE)
    port = free_port()
    conf = (
        tls_sidecar.nginx_conf("127.0.0.1", scoring_port)
        .replace(f"{tls_sidecar.CONFIG_DIR}/", f"{tmp_path}/")
        .replace(f"listen {tls_sidecar.HTTPS_PORT} ssl;", f"listen 127.0.0.1:{port} ssl;")
        .replace("user nginx;\n", "")
        .replace("/var/run/nginx.pid", str(tmp_path / "nginx.pid"))
    )
    (tmp_path / tls_sidecar.CONF_FILE).write_text(conf)
    assert NGINX is not None
    command = [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / tls_sidecar.CONF_FILE)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    log = (tmp_path / "nginx.log").open("wb")
    nginx = subprocess.Popen([*command, "-g", "daemon off;"], stdout=log, stderr=log)
    try:
        _wait_for_port(port)
        url = f"https://127.0.0.1:{port}/score"
        expected = predictions(model_dir, rows)
        result = smoke_test(url, rows, expected, api_key="sidecar-key", verify=str(cert_file), timeout_s=30)
        assert result.rows == len(rows)
        with pytest.raises(SmokeTestError, match="HTTP 401"):  # the service's own answer, proxied
            smoke_test(url, rows, expected, api_key="wrong-key", verify=str(cert_file))
        with pytest.raises(SmokeTestError, match="CERTIFICATE_VERIFY_FAILED"):  # verified by default
            smoke_test(url, rows, expected, api_key="sidecar-key", timeout_s=5)
        trusted = ssl.create_default_context(cafile=str(cert_file))
        with httpx.Client(verify=trusted, trust_env=False) as client:
            answer = client.get(f"https://127.0.0.1:{port}/health/live")
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        assert answer.headers["server"] == "nginx"  # no version (server_tokens off)
        with httpx.Client(trust_env=False) as client:  # plain HTTP on the TLS port is refused
            plain = client.get(f"http://127.0.0.1:{port}/health/live")
        assert plain.status_code == 400 and "plain HTTP request was sent to HTTPS port" in plain.text
    finally:
        nginx.terminate()
        nginx.wait(30)
        log.close()
