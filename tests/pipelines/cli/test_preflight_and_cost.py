"""`mlops preflight` (the subscription replaced by a fake facts source) and `mlops infra cost`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.cli.stack_declaration import declared_stack
from pipelines.preflight.facts import (
    DeletedVault,
    FactsUnavailable,
    NameStatus,
    Principal,
    ProviderInfo,
    QuotaUsage,
    RoleGrant,
    SubscriptionInfo,
    VmSku,
)
from pipelines.preflight.needs import GlobalName, global_names, provider_namespaces
from tests.pipelines.cost.retail_prices import write_prices_file
from tests.pipelines.declared_stacks import declared

runner = CliRunner()
SUB = "00000000-0000-0000-0000-0000000000aa"


class FakeSubscription:
    """A subscription where everything the stacks need is in place (tests break one thing)."""

    def __init__(self, stack: str) -> None:
        self.namespaces = {
            n.lower(): ProviderInfo(n, "Registered") for n in provider_namespaces(declared(stack))
        }
        self.cores = QuotaUsage("cores", "Total Regional vCPUs", 0, 100)
        self.deleted: list[DeletedVault] = []
        self.refuse_providers = False

    def principal(self) -> Principal:
        return Principal("o1", "t1", "ci-app", "app")

    def subscription(self) -> SubscriptionInfo:
        return SubscriptionInfo(SUB, "mlops", "Enabled", "t1")

    def role_grants(self, object_id: str) -> list[RoleGrant]:
        return [RoleGrant(f"/subscriptions/{SUB}", "Owner", ("*",), ())]

    def providers(self) -> dict[str, ProviderInfo]:
        if self.refuse_providers:
            raise FactsUnavailable("(AuthorizationFailed) no read")
        return self.namespaces

    def feature_state(self, namespace: str, feature: str) -> str:
        return "Registered"

    def compute_skus(self, location: str) -> dict[str, VmSku]:
        return {"standard_d4ds_v5": VmSku("Standard_D4ds_v5", "standardDDSv5Family", 4)}

    def compute_usages(self, location: str) -> list[QuotaUsage]:
        return [QuotaUsage("standardDDSv5Family", "Standard DDSv5 Family vCPUs", 0, 100), self.cores]

    def ml_vm_sizes(self, location: str) -> dict[str, VmSku]:
        return {"standard_ds3_v2": VmSku("Standard_DS3_v2", "standardDSv2Family", 4)}

    def ml_usages(self, location: str) -> list[QuotaUsage]:
        return [
            QuotaUsage("TotalLowPriorityCores", "Total low priority cores", 0, 100),
            # qa's and prod's batch scoring cluster: dedicated nodes
            QuotaUsage("standardDSv2Family", "Standard DSv2 Family Cluster Dedicated vCPUs", 0, 100),
        ]

    def aci_usages(self, location: str) -> list[QuotaUsage]:
        return [QuotaUsage("StandardCores", "Standard cores", 0, 10)]

    def name_status(self, name: GlobalName) -> NameStatus:
        return NameStatus(True)

    def deleted_vaults(self) -> list[DeletedVault]:
        return self.deleted

    def existing_resources(self, resource_group: str) -> set[tuple[str, str]] | None:
        return None


def run_preflight(mocker: MockerFixture, fake: FakeSubscription, *args: str, tls_set: bool = True) -> Any:
    """``mlops preflight`` against ``fake``; with ``tls_set``, as if the operator had set prod's TLS
    settings (the committed ``Pulumi.prod.yaml`` cannot hold the certificate)."""
    if tls_set:
        real = declared_stack
        mocker.patch(
            "pipelines.cli.stack_declaration.declared_stack",
            side_effect=lambda name: dataclasses.replace(real(name), stand_ins=()),
        )
    mocker.patch("pipelines.azure.client.default_credential", return_value=mocker.sentinel.credential)
    reader = mocker.patch("pipelines.preflight.azure.AzureReader", return_value=fake)
    result = runner.invoke(app, ["preflight", *args, "--subscription", SUB])
    reader.assert_called_once_with(mocker.sentinel.credential, SUB)
    return result


@pytest.mark.parametrize("stack", ["dev", "qa", "prod"])
def test_a_ready_subscription_passes_with_only_the_workspace_warning(
    mocker: MockerFixture, stack: str
) -> None:
    result = run_preflight(mocker, FakeSubscription(stack), "--env", stack, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["failed"] == 0 and report["warnings"] == 1
    assert {c["status"] for c in report["checks"] if c["id"].startswith("soft-delete.workspace")} == {"warn"}


@pytest.mark.parametrize(
    ("stack", "stood_in", "section"),
    [
        ("prod", ("azure-mlops:aks.sslCname", "azure-mlops:aksSslCertPem"), "TLS for prod scoring"),
        ("qa", ("azure-mlops:containerInstance.sslCname", "azure-mlops:aciSslKeyPem"), "TLS for qa scoring"),
    ],
)
def test_a_stack_without_its_tls_settings_fails_naming_them(
    mocker: MockerFixture, stack: str, stood_in: tuple[str, str], section: str
) -> None:
    result = run_preflight(mocker, FakeSubscription(stack), "--env", stack, "--json", tls_set=False)
    assert result.exit_code == 1
    [check] = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "fail"]
    assert check["id"] == "settings"
    assert all(key in check["detail"] for key in stood_in)
    assert section in check["fix"]


def test_a_quota_shortfall_fails_with_its_fix_and_exit_1(mocker: MockerFixture) -> None:
    fake = FakeSubscription("prod")
    fake.cores = QuotaUsage("cores", "Total Regional vCPUs", 90, 100)
    table = run_preflight(mocker, fake, "--env", "prod")
    assert table.exit_code == 1 and "preflight prod:" in table.stdout and "1 failed" in table.stdout
    result = run_preflight(mocker, fake, "--env", "prod", "--json")
    [check] = [c for c in json.loads(result.stdout)["checks"] if c["status"] == "fail"]
    assert check["id"] == "quota.Microsoft.Compute.cores"
    assert check["detail"].endswith("90 of 100 used, 20 needed (serving-aks 5x Standard_D4ds_v5): 10 short")
    assert "Usage + quotas" in check["fix"]


def test_a_soft_deleted_vault_and_a_refused_read(mocker: MockerFixture) -> None:
    fake = FakeSubscription("qa")
    [vault] = [n.name for n in global_names(declared("qa")) if n.kind == "keyvault"]
    fake.deleted = [DeletedVault(vault, "westeurope", None, True)]
    fake.refuse_providers = True
    result = run_preflight(mocker, fake, "--env", "qa", "--json")
    assert result.exit_code == 1
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks[f"soft-delete.keyvault.{vault}"]["status"] == "fail"
    assert "az keyvault recover" in checks[f"soft-delete.keyvault.{vault}"]["fix"]
    assert (
        checks["read.providers"]["status"] == "warn"
        and "AuthorizationFailed" in checks["read.providers"]["detail"]
    )


def test_preflight_needs_a_subscription(mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(app, ["preflight", "--env", "dev"])
    assert result.exit_code == 2 and "ARM_SUBSCRIPTION_ID" in result.output


def test_cost_of_a_stack_offline(tmp_path: Path) -> None:
    prices = write_prices_file(tmp_path / "prices.json", declared("dev"))
    result = runner.invoke(app, ["infra", "cost", "--env", "dev", "--prices-file", str(prices)])
    assert result.exit_code == 0, result.output
    assert "per use: 0-2x low-priority Standard_DS3_v2: 0.06 USD per node-hour" in result.stdout
    assert "total: 3.04 USD a month, plus per-use charges" in result.stdout


def test_cost_from_qa_to_prod_and_the_baseline_comment(tmp_path: Path) -> None:
    prices = write_prices_file(tmp_path / "prices.json", declared("qa"), declared("prod"))
    result = runner.invoke(
        app, ["infra", "cost", "--from", "qa", "--to", "prod", "--prices-file", str(prices)]
    )
    assert result.exit_code == 0, result.output
    assert "cost qa -> prod:" in result.stdout and "+ " in result.stdout
    base = tmp_path / "base.json"
    first = runner.invoke(app, ["infra", "cost", "--env", "qa", "--prices-file", str(prices), "--json"])
    base.write_text(first.stdout)
    block = tmp_path / "cost.md"
    result = runner.invoke(
        app,
        [
            "infra",
            "cost",
            "--env",
            "qa",
            "--prices-file",
            str(prices),
            "--baseline",
            str(base),
            "--markdown",
            str(block),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "(+0.00 USD a month)" in result.stdout
    assert block.read_text().startswith("<!-- azure-mlops:cost:qa -->")


def test_cost_usage_errors(tmp_path: Path) -> None:
    assert runner.invoke(app, ["infra", "cost"]).exit_code == 2
    assert runner.invoke(app, ["infra", "cost", "--from", "qa"]).exit_code == 2
    missing = runner.invoke(
        app, ["infra", "cost", "--env", "dev", "--prices-file", str(tmp_path / "none.json")]
    )
    assert missing.exit_code == 2 and "run mlops infra cost once online" in missing.output
