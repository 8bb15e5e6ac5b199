"""Settings are validated at start-up; an invalid value names the key and the allowed values."""

from __future__ import annotations

import json

import pytest

from infra.config import ConfigError, Settings, parse_settings, read_stack_file, yaml_config_to_raw
from infra.offline import ACI_SECRET_STAND_INS, SECRET_STAND_INS, run_stack

CERT = SECRET_STAND_INS["azure-mlops:aksSslCertPem"]
KEY = SECRET_STAND_INS["azure-mlops:aksSslKeyPem"]
TLS_SECRETS = frozenset({*SECRET_STAND_INS, *ACI_SECRET_STAND_INS})


def raw(stack: str = "dev", **overrides: object) -> dict[str, str]:
    document = read_stack_file("dev" if stack.startswith("dev") else stack)
    document.update({f"azure-mlops:{k}": v for k, v in overrides.items()})
    values, _ = yaml_config_to_raw({k: v for k, v in document.items() if v is not None})
    return values


def with_tls(values: dict[str, str], cname: str = "scoring.ml.example.com") -> dict[str, str]:
    """qa or prod values with the TLS settings an operator adds (the committed files leave them out)."""
    if "azure-mlops:aks" in values:
        key, secrets = "azure-mlops:aks", SECRET_STAND_INS
    else:
        key, secrets = "azure-mlops:containerInstance", ACI_SECRET_STAND_INS
    return {**values, key: json.dumps({**json.loads(values[key]), "sslCname": cname}), **secrets}


def parse(stack: str, values: dict[str, str]) -> Settings:
    return parse_settings(stack, values, TLS_SECRETS if stack in ("qa", "prod") else frozenset())


@pytest.mark.parametrize("stack", ["dev", "qa", "prod"])
def test_committed_stack_files_are_valid(stack: str) -> None:
    values = raw(stack)
    settings = parse(stack, values if stack == "dev" else with_tls(values))
    assert settings.environment == stack
    assert not settings.short_lived and settings.expires_at is None


def test_per_environment_topology_defaults() -> None:
    dev, qa, prod = (parse(s, raw(s) if s == "dev" else with_tls(raw(s))) for s in ("dev", "qa", "prod"))
    assert (dev.compute_enabled, dev.container_instance_enabled, dev.aks_enabled) == (
        True,
        False,
        False,
    )
    assert (qa.compute_enabled, qa.container_instance_enabled, qa.aks_enabled) == (
        False,
        True,
        False,
    )
    assert (prod.compute_enabled, prod.container_instance_enabled, prod.aks_enabled) == (
        False,
        False,
        True,
    )
    # the batch scoring cluster: qa and prod, scaling to zero
    assert (dev.batch_compute_enabled, qa.batch_compute_enabled, prod.batch_compute_enabled) == (
        False,
        True,
        True,
    )
    assert (qa.batch_compute.min_nodes, prod.batch_compute.max_nodes) == (0, 2)


@pytest.mark.parametrize(
    ("stack", "override", "expected"),
    [
        (
            "prod",
            {"publicNetworkAccess": "Sometimes"},
            ["azure-mlops:publicNetworkAccess", "'Enabled' or 'Disabled'", "'Sometimes'"],
        ),
        ("dev", {"compute": {"vmSize": "huge"}}, ["azure-mlops:compute.vmSize", "'huge'"]),
        ("dev", {"compute": {"minNodes": 3, "maxNodes": 2}}, ["minNodes (3) must not exceed"]),
        ("dev", {"compute": {"lowPriorty": True}}, ["azure-mlops:compute.lowPriorty: unknown"]),
        ("dev", {"computee": {}}, ["azure-mlops:computee: unknown setting"]),
        ("qa", {"batchCompute": {"minNodes": 1}}, ["azure-mlops:batchCompute.minNodes", "0"]),
        ("prod", {"batchCompute": {"maxNodes": 0}}, ["azure-mlops:batchCompute.maxNodes"]),
        ("qa", {"batchCompute": {"vmSize": "big"}}, ["azure-mlops:batchCompute.vmSize", "'big'"]),
        ("dev", {"aks": {"enabled": True}}, ["aks.enabled: true is not allowed", "allowed: false"]),
        ("prod", {"aks": {"enabled": False}}, ["aks.enabled", "allowed: true"]),
        ("qa", {"containerInstance": {"enabled": False}}, ["containerInstance.enabled"]),
        ("prod", {"compute": {"enabled": True}}, ["compute.enabled", "allowed: false"]),
        ("qa", {"containerRegistry": {"enabled": False}}, ["containerRegistry.enabled"]),
        ("prod", {"aks": {"upgradeChannel": "none"}}, ["aks.upgradeChannel", "'stable'"]),
        ("prod", {"aks": {"nodeCount": 9, "maxNodes": 5}}, ["nodeCount (9) must lie between"]),
        ("dev", {"namePrefix": "Mlops"}, ["azure-mlops:namePrefix"]),
        ("dev", {"namePrefix": "waytoolongprefix"}, ["azure-mlops:namePrefix"]),
        ("dev", {"keyVault": {"softDeleteRetentionDays": 3}}, ["softDeleteRetentionDays"]),
        ("qa", {"scoringImage": "https://evil/x"}, ["azure-mlops:scoringImage"]),
        ("dev", {"owner": None}, ["azure-mlops:owner is required"]),
    ],
)
def test_invalid_settings_name_the_key(stack: str, override: dict[str, object], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(stack, raw(stack, **override))
    for fragment in expected:
        assert fragment in str(err.value)


def test_unknown_stack_name_is_rejected() -> None:
    with pytest.raises(ConfigError, match="dev, qa, prod or a short-lived dev-<id>"):
        parse_settings("staging", raw())
    with pytest.raises(ConfigError):
        parse_settings("dev-Upper", raw())


def test_missing_location_is_named() -> None:
    values = raw()
    del values["azure-native:location"]
    with pytest.raises(ConfigError, match="azure-native:location is required"):
        parse_settings("dev", values)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "is required for the short-lived stack"),
        ("", "is required"),
        ("2031-05-17", "YYYY-MM-DDTHH:MM:SSZ"),
        ("2031-05-17T12:00:00+02:00", "YYYY-MM-DDTHH:MM:SSZ"),
        ("2031-05-17 12:00:00Z", "YYYY-MM-DDTHH:MM:SSZ"),
        ("2031-02-30T12:00:00Z", "not a valid date"),
        ("tomorrow", "YYYY-MM-DDTHH:MM:SSZ"),
    ],
)
def test_short_lived_stacks_need_a_valid_expiry(value: str | None, fragment: str) -> None:
    values = raw("dev-pr1")
    if value is not None:
        values["azure-mlops:expiresAt"] = value
    with pytest.raises(ConfigError, match="azure-mlops:expiresAt") as err:
        parse_settings("dev-pr1", values)
    assert fragment in str(err.value)


def test_short_lived_stack_with_expiry() -> None:
    values = raw("dev-pr1")
    values["azure-mlops:expiresAt"] = "2031-05-17T12:00:00Z"
    settings = parse_settings("dev-pr1", values)
    assert settings.short_lived and settings.environment == "dev"
    assert settings.expires_at == "2031-05-17T12:00:00Z"


@pytest.mark.parametrize("stack", ["dev", "qa", "prod"])
def test_long_lived_stacks_refuse_an_expiry(stack: str) -> None:
    values = raw(stack)
    values["azure-mlops:expiresAt"] = "2031-05-17T12:00:00Z"
    with pytest.raises(ConfigError, match="never short-lived"):
        parse_settings(stack, values)


def test_api_key_must_be_a_secret_and_is_never_echoed() -> None:
    values = with_tls(raw("qa"))
    values["azure-mlops:scoringApiKey"] = "plain-text-key-1234567890"
    with pytest.raises(ConfigError, match="scoringApiKey is stored in plain text") as err:
        parse_settings("qa", values, TLS_SECRETS)
    assert "plain-text-key" not in str(err.value)
    values["azure-mlops:scoringApiKey"] = "short"
    with pytest.raises(ConfigError, match="scoringApiKey") as err:
        parse_settings("qa", values, {"azure-mlops:scoringApiKey", *TLS_SECRETS})
    assert "short" not in str(err.value).replace("scoringApiKey", "")
    values["azure-mlops:scoringApiKey"] = "a-long-enough-secret-key"
    settings = parse_settings("qa", values, {"azure-mlops:scoringApiKey", *TLS_SECRETS})
    assert settings.scoring_api_key is not None
    assert "a-long-enough" not in repr(settings)


def test_aks_tls_needs_its_certificate() -> None:
    values = raw("prod", aks={"sslCname": "score.example.com"})
    with pytest.raises(ConfigError, match="aksSslCertPem"):
        parse_settings("prod", values)


def test_the_program_stops_on_invalid_settings() -> None:
    with pytest.raises(ConfigError, match="azure-mlops:publicNetworkAccess"):
        run_stack("prod", overrides={"azure-mlops:publicNetworkAccess": "Sometimes"})
    with pytest.raises(ConfigError, match="azure-mlops:expiresAt"):
        run_stack("dev-pr9", expires_at=None)
