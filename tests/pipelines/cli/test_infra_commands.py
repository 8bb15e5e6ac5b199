"""`mlops infra plan` / `diff`: what a stack would contain, offline, secrets redacted."""

from __future__ import annotations

from typer.testing import CliRunner

from pipelines.cli.infra import app

runner = CliRunner()


def test_plan_prints_each_environments_resources() -> None:
    for stack, marker in [
        ("dev", "azure-native:machinelearningservices:Compute  training-cluster  (cpu-cluster)"),
        ("qa", "azure-native:containerinstance:ContainerGroup  scoring-aci  (aci-mlops-qa)"),
        ("prod", "azure-native:containerservice:ManagedCluster  serving-aks  (aks-mlops-prod)"),
    ]:
        result = runner.invoke(app, ["plan", "--env", stack])
        assert result.exit_code == 0, result.output
        assert marker in result.output
        assert "appInsightsConnectionString = [secret]" in result.output
        assert "InstrumentationKey" not in result.output
        assert "policy pack: 0 violations" in result.output
        private = "azure-native:network:PrivateEndpoint  network-pe-amlworkspace  (pe-mlops-prod-amlw"
        assert (private in result.output) is (stack == "prod")  # prod is network.isolation: managed


def test_plan_details_redact_secrets() -> None:
    result = runner.invoke(app, ["plan", "--env", "qa", "--details"])
    assert result.exit_code == 0, result.output
    assert 'containers = "[secret]"' in result.output
    assert 'minimumTlsVersion = "TLS1_2"' in result.output


def test_plan_rejects_invalid_settings() -> None:
    result = runner.invoke(app, ["plan", "--env", "staging"])
    assert result.exit_code == 2
    assert "dev, qa, prod or a short-lived" in result.output


def test_diff_qa_to_prod() -> None:
    result = runner.invoke(app, ["diff", "--from", "qa", "--to", "prod"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  + azure-native:containerservice:ManagedCluster  serving-aks" in out
    assert "  - azure-native:containerinstance:ContainerGroup  scoring-aci" in out
    assert "  ~ azure-native:storage:StorageAccount  core-st" in out
    assert 'tags.environment: "qa" -> "prod"' in out
    # AKS (11) and the private network (26: network, 6 zones and links, 5 endpoints and DNS groups,
    # the two grants managed isolation needs)
    assert "37 to add" in out and "5 to remove" in out
    assert "  + azure-native:privatedns:PrivateZone  network-dns-api\n" in out
