"""Prod AKS as Azure ML supports it: Trusted Access, the attach roles, waits for RBAC, HTTPS only."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, parse_settings, read_stack_file
from infra.offline import SECRET_STAND_INS, OfflineRun, run_stack, stack_config

COMPUTE = "azure-native:machinelearningservices:Compute"
SLEEP = "time:index/sleep:Sleep"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def _by_name(run: OfflineRun, name: str):  # type: ignore[no-untyped-def]
    (found,) = [r for r in run.resources if r.name == name]
    return found


def _depends_on(run: OfflineRun, name: str) -> set[str]:
    """The logical names ``name`` depends on, directly or through other resources."""
    urns = {r.urn: r for r in run.resources}
    seen: set[str] = set()
    todo = list(_by_name(run, name).dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in urns:
            continue
        seen.add(urn)
        todo.extend(urns[urn].dependencies)
    return {urns[u].name for u in seen}


def test_local_accounts_stay_off_with_a_trusted_access_binding_before_the_attach(
    runs: dict[str, OfflineRun],
) -> None:
    run = runs["prod"]
    assert (
        run.one("azure-native:containerservice:ManagedCluster").plain_inputs["disableLocalAccounts"] is True
    )
    binding = run.one("azure-native:containerservice:TrustedAccessRoleBinding").plain_inputs
    assert binding["roles"] == ["Microsoft.MachineLearningServices/workspaces/mlworkload"]
    workspace = run.one("azure-native:machinelearningservices:Workspace").plain_inputs["workspaceName"]
    assert binding["sourceResourceId"].endswith(f"/Microsoft.MachineLearningServices/workspaces/{workspace}")
    assert binding["resourceName"] == "aks-mlops-prod"
    assert len(binding["trustedAccessRoleBindingName"]) <= 24
    assert {"serving-aml-trusted-access", "serving-attach-wait", "serving-azureml"} <= _depends_on(
        run, "serving-compute"
    )


def test_the_workspace_identity_gets_the_attach_roles_on_the_cluster(runs: dict[str, OfflineRun]) -> None:
    run = runs["prod"]
    principal = run.outputs["identityPrincipalId"].value
    on_cluster = {
        r.plain_inputs["roleDefinitionId"].rsplit("/", 1)[1]
        for r in run.of_type(ROLE_ASSIGNMENT)
        if r.plain_inputs["scope"].endswith("/managedClusters/aks-mlops-prod")
        and r.plain_inputs["principalId"] == principal
    }
    # Learn, how-to-attach-kubernetes-to-workspace (user-assigned identity, Trusted Access)
    assert on_cluster == {
        "acdd72a7-3385-48ef-bd42-f606fba81ae7",  # Reader
        "85cb6faf-e071-4c9b-8136-154b5a04f717",  # Kubernetes Extension Contributor
        "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8",  # Azure Kubernetes Service Cluster Admin Role
        "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
    }


@pytest.mark.parametrize(
    ("stack", "waiter", "needs", "grants"),
    [
        ("dev", "core-id-wait", "core-mlw", {"core-id-rg-contributor", "core-id-st-blob-contributor"}),
        ("qa", "scoring-id-wait", "scoring-aci", {"scoring-id-acr-pull"}),
        (
            "prod",
            "serving-attach-wait",
            "serving-compute",
            {"serving-kubelet-acr-pull", "serving-ws-contributor", "serving-aml-trusted-access"},
        ),
    ],
)
def test_resources_that_need_new_roles_wait_for_them(
    runs: dict[str, OfflineRun], stack: str, waiter: str, needs: str, grants: set[str]
) -> None:
    run = runs[stack]
    sleep = _by_name(run, waiter)
    assert sleep.type == SLEEP and sleep.plain_inputs["createDuration"] == "5m"
    assert grants <= _depends_on(run, waiter)
    assert len(sleep.plain_inputs["triggers"]) >= len(grants)  # a replaced grant waits again
    assert waiter in _depends_on(run, needs)


def test_the_scoring_fqdn_is_exported(runs: dict[str, OfflineRun]) -> None:
    sent = runs["prod"].one("azure-native:kubernetesconfiguration:Extension").plain_inputs
    assert runs["prod"].outputs["scoringFqdn"].value == sent["configurationSettings"]["sslCname"]
    assert sent["configurationSettings"]["allowInsecureConnections"] == "False"


def test_the_offline_run_says_what_it_stood_in(runs: dict[str, OfflineRun]) -> None:
    assert runs["prod"].stand_ins == (
        "azure-mlops:aks.sslCname",
        "azure-mlops:aksSslCertPem",
        "azure-mlops:aksSslKeyPem",
    )
    assert runs["dev"].stand_ins == ()  # qa's: tests/infra/test_aci_tls.py


def _prod_aks(**extra: object) -> dict[str, object]:
    return {**read_stack_file("prod")["azure-mlops:aks"], **extra}


def _prod(**aks: object) -> tuple[dict[str, str], set[str]]:
    return stack_config("prod", overrides={"azure-mlops:aks": _prod_aks(**aks)})


def _prod_with_pem() -> tuple[dict[str, str], set[str]]:
    raw, secure = _prod(sslCname="scoring.ml.example.com")
    raw.update(SECRET_STAND_INS)
    return raw, secure | set(SECRET_STAND_INS)


def test_prod_without_tls_fails_naming_the_setting() -> None:
    raw, secure = _prod()
    with pytest.raises(
        ConfigError, match=r"aks\.sslCname is required: the prod inference router serves HTTPS"
    ):
        parse_settings("prod", raw, secure)
    raw, secure = _prod(sslCname="scoring.ml.example.com")
    with pytest.raises(ConfigError, match="aksSslCertPem and aksSslKeyPem are missing"):
        parse_settings("prod", raw, secure)


def test_prod_needs_three_nodes_for_the_routers_high_availability() -> None:
    raw, secure = _prod(sslCname="s.example.com", sslSecret="fe-tls", nodeCount=2, minNodes=2)
    with pytest.raises(ConfigError, match=r"aks\.minNodes: 2 is not allowed in the prod environment"):
        parse_settings("prod", raw, secure)


PEM_CASES = [
    ("azure-mlops:aksSslCertPem", "/etc/ssl/fullchain.pem", "not its path"),
    (
        "azure-mlops:aksSslCertPem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "found: PRIVATE KEY",
    ),
    (
        "azure-mlops:aksSslKeyPem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        "passphrase",
    ),
    (
        "azure-mlops:aksSslKeyPem",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"
        "AAAA\n-----END RSA PRIVATE KEY-----\n",
        "passphrase",
    ),
    (
        "azure-mlops:aksSslKeyPem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "found: CERTIFICATE",
    ),
    ("azure-mlops:aksSslCertPem", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "base64"),
]


@pytest.mark.parametrize(("key", "value", "message"), PEM_CASES)
def test_certificate_and_key_are_checked_without_echoing_them(key: str, value: str, message: str) -> None:
    raw, secure = _prod_with_pem()
    assert parse_settings("prod", raw, secure).aks.ssl_cname == "scoring.ml.example.com"
    raw[key] = value
    with pytest.raises(ConfigError) as err:
        parse_settings("prod", raw, secure)
    assert key.split(":")[1] in str(err.value) and message in str(err.value)
    assert "AAAA" not in str(err.value) and "/etc/ssl" not in str(err.value)


def test_tls_secrets_must_be_secret() -> None:
    raw, _ = _prod_with_pem()
    with pytest.raises(ConfigError, match="aksSslCertPem is stored in plain text"):
        parse_settings("prod", raw, set())


def test_a_kubernetes_secret_instead_of_the_pem_secrets() -> None:
    run = run_stack(
        "prod", overrides={"azure-mlops:aks": _prod_aks(sslCname="s.example.com", sslSecret="fe-tls")}
    )
    ext = run.one("azure-native:kubernetesconfiguration:Extension").plain_inputs
    assert ext["configurationSettings"]["scoringFe.sslSecret"] == "fe-tls"
    assert "configurationProtectedSettings" not in ext
    assert run.stand_ins == ()
