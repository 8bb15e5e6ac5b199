"""The Azure ML extension's settings against Microsoft's installers, not against our belief.

The expected settings are computed from the record of Microsoft's ARM template
(tests/infra/microsoft/), evaluated with the parameters this project chooses; every key sent must
be one Microsoft's template or CLI sends, and none may be a key the CLI only acts on client-side.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from infra.offline import SECRET_STAND_INS, OfflineRun, run_stack

RECORD = json.loads((Path(__file__).parent / "microsoft" / "aml_extension_template.json").read_text())
TEMPLATE: dict[str, Any] = RECORD["template"]
CLI: dict[str, Any] = RECORD["cli"]
EXTENSION = "azure-native:kubernetesconfiguration:Extension"
CLUSTER = "azure-native:containerservice:ManagedCluster"

# Where this project departs from the template, and whose behaviour it follows instead.
DEVIATIONS = {
    # The template sends the bare location; the CLI (what Learn drives) sends this.
    "domain": lambda params: CLI["domain"].format(location=params["aksLocation"]),
}


def _evaluate(rule: dict[str, Any], params: dict[str, Any]) -> str:
    """A recorded rule's value for the given template parameters, as a settings string."""
    if "literal" in rule:
        return str(rule["literal"])
    if "parameter" in rule:
        return str(params[rule["parameter"]])
    if "boolParameter" in rule:
        return "True" if params[rule["boolParameter"]] else "False"  # the template's boolToString
    if "lastSegmentOf" in rule:
        return str(params[rule["lastSegmentOf"]]).rsplit("/", 1)[-1]
    name, value = rule["equals"]
    return str(params[name] == value)


def expected_settings(params: dict[str, Any]) -> tuple[dict[str, str], set[str]]:
    """What the template sends for ``params``: the settings and the protected keys."""
    values = {**TEMPLATE["parameterDefaults"], **params}
    settings = {k: _evaluate(r, values) for k, r in TEMPLATE["baseSettings"].items()}
    protected: set[str] = set()
    if values["enableInference"]:
        choice = TEMPLATE["serviceTypeChoice"]
        chosen = choice["then"] if values[choice["if"][0]] == choice["if"][1] else choice["else"]
        skipped = choice["else"] if chosen == choice["then"] else choice["then"]
        settings |= {
            k: _evaluate(r, values) for k, r in TEMPLATE["inferenceSettings"].items() if k != skipped
        }
        if not values["allowInsecureConnections"]:
            settings |= {k: _evaluate(r, values) for k, r in TEMPLATE["tlsSettings"].items()}
            if not values["sslSecret"]:
                protected = set(TEMPLATE["protectedSettings"])
    for key, rule in DEVIATIONS.items():
        settings[key] = rule(values)
    # An empty value is the template's way of not setting a key: absent is the same.
    return {k: v for k, v in settings.items() if v != ""}, protected


def _same(expected: str, sent: str) -> bool:
    if expected.lower() in ("true", "false"):
        return expected.lower() == sent.lower()  # booleans reach the chart case-insensitively
    return expected == sent


def our_parameters(run: OfflineRun) -> dict[str, Any]:
    """The template parameters that describe what this project deploys."""
    cluster = run.one(CLUSTER).plain_inputs
    aks_id = run.outputs["registryId"].value.split("/providers/")[0] + (
        f"/providers/Microsoft.ContainerService/managedClusters/{cluster['resourceName']}"
    )
    settings = run.one(EXTENSION).plain_inputs["configurationSettings"]
    pool = cluster["agentPoolProfiles"][0]
    return {
        "aksResourceId": aks_id,
        "aksLocation": cluster["location"],
        "enableTraining": False,
        "enableInference": True,
        "allowInsecureConnections": False,
        "inferenceRouterServiceType": "LoadBalancer",
        "internalLoadBalancerProvider": "",  # a public load balancer
        "inferenceRouterHA": pool["minCount"] >= 3,
        "sslCname": settings.get("sslCname", ""),
        "sslSecret": settings.get("scoringFe.sslSecret", ""),
    }


@pytest.fixture(scope="module")
def secret_run() -> OfflineRun:
    return run_stack(
        "prod", overrides={"azure-mlops:aks": _prod_aks(sslCname="s.example.com", sslSecret="fe-tls")}
    )


def _prod_aks(**extra: object) -> dict[str, object]:
    from infra.config import read_stack_file

    return {**read_stack_file("prod")["azure-mlops:aks"], **extra}


@pytest.mark.parametrize("variant", ["pem", "sslSecret"])
def test_settings_are_a_superset_of_microsofts_template(
    runs: dict[str, OfflineRun], secret_run: OfflineRun, variant: str
) -> None:
    run = runs["prod"] if variant == "pem" else secret_run
    ext = run.one(EXTENSION).plain_inputs
    sent: dict[str, str] = ext["configurationSettings"]
    expected, protected = expected_settings(our_parameters(run))
    missing = sorted(set(expected) - set(sent))
    assert not missing, f"the template sends these and infra/ does not: {missing}"
    different = {k: (expected[k], sent[k]) for k in expected if not _same(expected[k], sent[k])}
    assert not different, f"(template, infra/): {different}"
    assert set(ext.get("configurationProtectedSettings") or {}) == protected


def test_cluster_ids_are_the_clusters_arm_id(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    sent = run.one(EXTENSION).plain_inputs["configurationSettings"]
    aks_id = our_parameters(run)["aksResourceId"]
    assert aks_id.endswith("/providers/Microsoft.ContainerService/managedClusters/aks-mlops-prod")
    for key in ("cluster_name", "clusterId", "prometheus.prometheusSpec.externalLabels.cluster_name"):
        assert sent[key] == aks_id
    assert sent["cluster_name_friendly"] == "aks-mlops-prod"
    assert sent["domain"] == "westeurope.cloudapp.azure.com"


def test_every_key_sent_is_one_microsofts_installers_send(
    runs: dict[str, OfflineRun], secret_run: OfflineRun
) -> None:
    known = (
        set(TEMPLATE["baseSettings"])
        | set(TEMPLATE["inferenceSettings"])
        | set(TEMPLATE["tlsSettings"])
        | set(CLI["sentForManagedClusters"])
        | set(CLI["userSettingsPassedThrough"])
    )
    known_protected = set(TEMPLATE["protectedSettings"]) | set(CLI["protectedSentForManagedClusters"])
    for run in (runs["prod"], secret_run):
        ext = run.one(EXTENSION).plain_inputs
        settings = set(ext["configurationSettings"])
        protected = set(ext.get("configurationProtectedSettings") or {})
        assert settings <= known, sorted(settings - known)
        assert protected <= known_protected, sorted(protected - known_protected)
        assert not (settings | protected) & set(CLI["clientSideOnly"])


def test_extension_resource_matches_the_template(runs: dict[str, OfflineRun]) -> None:
    ext = runs["prod"].one(EXTENSION).plain_inputs
    resource = TEMPLATE["resource"]
    assert ext["extensionType"].lower() == resource["extensionType"]
    assert ext["releaseTrain"] == resource["releaseTrain"]
    assert ext["scope"] == {"cluster": {"releaseNamespace": resource["releaseNamespace"]}}
    assert ext["identity"] == {"type": resource["identity"]}
    assert ext["clusterResourceName"] == "managedClusters"


def test_tls_key_and_certificate_go_base64_and_secret(runs: dict[str, OfflineRun]) -> None:
    ext = runs["prod"].one(EXTENSION)
    protected = ext.plain_inputs["configurationProtectedSettings"]
    cert = SECRET_STAND_INS["azure-mlops:aksSslCertPem"]
    key = SECRET_STAND_INS["azure-mlops:aksSslKeyPem"]
    assert base64.b64decode(protected["scoringFe.sslCert"]).decode() == cert
    assert base64.b64decode(protected["scoringFe.sslKey"]).decode() == key
    assert "[secret]" in json.dumps(ext.redacted_inputs["configurationProtectedSettings"])
    assert "BEGIN" not in json.dumps(ext.redacted_inputs)
