"""qa over TLS: the container group's only public port is the Nginx sidecar's 443, fed by secrets."""

from __future__ import annotations

import base64
import json

import pytest

from infra.config import TLS_PROXY_IMAGE, ConfigError, parse_settings, read_stack_file
from infra.offline import (
    ACI_SECRET_STAND_INS,
    OFFLINE_SSL_CNAME,
    OfflineRun,
    is_secret,
    run_stack,
    stack_config,
)

GROUP = "azure-native:containerinstance:ContainerGroup"
CERT_KEY, KEY_KEY = "azure-mlops:aciSslCertPem", "azure-mlops:aciSslKeyPem"


def _group(run: OfflineRun) -> dict:  # type: ignore[type-arg]
    return run.one(GROUP).plain_inputs


def _containers(run: OfflineRun) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["name"]: c for c in _group(run)["containers"]}


def _qa_aci(**extra: object) -> dict[str, object]:
    return {**read_stack_file("qa")["azure-mlops:containerInstance"], **extra}


def test_qa_exposes_only_443_and_the_scoring_port_stays_inside(runs: dict[str, OfflineRun]) -> None:
    run = runs["qa"]
    group = _group(run)
    assert group["ipAddress"]["type"] == "Public"
    assert group["ipAddress"]["ports"] == [{"port": 443, "protocol": "TCP"}]
    containers = _containers(run)
    assert set(containers) == {"scoring", "tls-proxy"}
    # the scoring container listens on 5001 for the sidecar (localhost) and the probes only
    assert containers["scoring"]["ports"] == [{"port": 5001, "protocol": "TCP"}]
    proxy = containers["tls-proxy"]
    assert proxy["image"] == TLS_PROXY_IMAGE and TLS_PROXY_IMAGE.startswith("mcr.microsoft.com/")
    assert proxy["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert proxy["volumeMounts"] == [{"name": "tls-proxy", "mountPath": "/etc/nginx", "readOnly": True}]
    assert run.outputs["scoringUri"].value == f"https://{OFFLINE_SSL_CNAME}/score"
    assert run.outputs["scoringFqdn"].value == OFFLINE_SSL_CNAME
    label = group["ipAddress"]["dnsNameLabel"]
    assert run.outputs["containerGroupFqdn"].value == f"{label}.westeurope.azurecontainer.io"


def test_the_certificate_and_key_reach_azure_only_as_secrets(runs: dict[str, OfflineRun]) -> None:
    group = runs["qa"].one(GROUP)
    assert is_secret(group.inputs["volumes"])  # the engine (and ARM's state) see no plain value
    redacted = json.dumps(group.redacted_inputs)
    for pem in ACI_SECRET_STAND_INS.values():
        assert base64.b64encode(pem.encode()).decode() not in redacted and pem not in redacted
    (volume,) = group.plain_inputs["volumes"]
    files = {name: base64.b64decode(value).decode() for name, value in volume["secret"].items()}
    assert files["tls.crt"] == ACI_SECRET_STAND_INS[CERT_KEY]
    assert files["tls.key"] == ACI_SECRET_STAND_INS[KEY_KEY]
    conf = files["nginx.conf"]
    assert "listen 443 ssl;" in conf and "listen 80" not in conf
    assert f"server_name {OFFLINE_SSL_CNAME};" in conf
    assert "proxy_pass http://127.0.0.1:5001;" in conf
    assert "ssl_protocols       TLSv1.2 TLSv1.3;" in conf
    assert "ssl_certificate     /etc/nginx/tls.crt;" in conf
    assert runs["qa"].outputs["scoringUri"].secret is False


def test_the_offline_run_says_what_it_stood_in_for_qa(runs: dict[str, OfflineRun]) -> None:
    assert runs["qa"].stand_ins == (
        "azure-mlops:containerInstance.sslCname",
        CERT_KEY,
        KEY_KEY,
    )
    run = run_stack(
        "qa",
        overrides={
            "azure-mlops:containerInstance": _qa_aci(sslCname="scoring-qa.ml.example.com"),
            CERT_KEY: {"secure": "v1:cipher"},
            KEY_KEY: {"secure": "v1:cipher"},
        },
    )
    assert run.stand_ins == ()
    assert run.outputs["scoringUri"].value == "https://scoring-qa.ml.example.com/score"


def _qa(**aci: object) -> tuple[dict[str, str], set[str]]:
    return stack_config("qa", overrides={"azure-mlops:containerInstance": _qa_aci(**aci)})


def test_qa_without_tls_fails_naming_the_settings() -> None:
    raw, secure = _qa()
    with pytest.raises(ConfigError, match=r"containerInstance\.sslCname is required: the qa container"):
        parse_settings("qa", raw, secure)
    raw, secure = _qa(sslCname="scoring-qa.ml.example.com")
    with pytest.raises(ConfigError, match="aciSslCertPem and aciSslKeyPem are missing"):
        parse_settings("qa", raw, secure)
    raw.update(ACI_SECRET_STAND_INS)
    with pytest.raises(ConfigError, match="aciSslCertPem is stored in plain text"):
        parse_settings("qa", raw, secure)
    assert parse_settings("qa", raw, secure | set(ACI_SECRET_STAND_INS)).container_instance_tls


def test_a_bad_certificate_is_named_without_echoing_it() -> None:
    raw, secure = _qa(sslCname="scoring-qa.ml.example.com")
    raw.update({CERT_KEY: "/etc/ssl/fullchain.pem", KEY_KEY: ACI_SECRET_STAND_INS[KEY_KEY]})
    with pytest.raises(ConfigError) as err:
        parse_settings("qa", raw, secure | set(ACI_SECRET_STAND_INS))
    assert "aciSslCertPem" in str(err.value) and "not its path" in str(err.value)
    assert "/etc/ssl" not in str(err.value)


@pytest.mark.parametrize(
    "image",
    ["nginx:1.25.3", "mcr.microsoft.com/oss/nginx/nginx", "mcr.microsoft.com/oss/nginx/nginx@sha256:abc"],
)
def test_the_proxy_image_must_name_its_registry_and_a_pin(image: str) -> None:
    raw, secure = _qa(sslCname="scoring-qa.ml.example.com", tlsProxyImage=image)
    raw.update(ACI_SECRET_STAND_INS)
    with pytest.raises(ConfigError, match=r"containerInstance\.tlsProxyImage"):
        parse_settings("qa", raw, secure | set(ACI_SECRET_STAND_INS))


def test_a_digest_pinned_proxy_image_is_used() -> None:
    pinned = "mcr.microsoft.com/oss/nginx/nginx@sha256:" + "a" * 64
    run = run_stack("qa", overrides={"azure-mlops:containerInstance": _qa_aci(tlsProxyImage=pinned)})
    assert _containers(run)["tls-proxy"]["image"] == pinned


def test_dev_may_serve_http_a_stated_relaxation() -> None:
    """dev's optional container group serves plain HTTP on 5001 without TLS settings, HTTPS with."""
    plain = run_stack("dev", overrides={"azure-mlops:containerInstance": {"enabled": True}})
    assert _group(plain)["ipAddress"]["ports"] == [{"port": 5001, "protocol": "TCP"}]
    assert set(_containers(plain)) == {"scoring"}
    assert plain.outputs["scoringUri"].value.startswith("http://") and plain.stand_ins == ()
    tls = run_stack(
        "dev",
        overrides={
            "azure-mlops:containerInstance": {"enabled": True, "sslCname": "scoring-dev.ml.example.com"},
            CERT_KEY: {"secure": "v1:cipher"},
            KEY_KEY: {"secure": "v1:cipher"},
        },
    )
    assert _group(tls)["ipAddress"]["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert tls.outputs["scoringUri"].value == "https://scoring-dev.ml.example.com/score"


def test_certificate_secrets_without_a_name_are_refused() -> None:
    raw, secure = stack_config("dev")
    raw.update(ACI_SECRET_STAND_INS)
    with pytest.raises(ConfigError, match=r"without containerInstance\.sslCname"):
        parse_settings("dev", raw, secure | set(ACI_SECRET_STAND_INS))
