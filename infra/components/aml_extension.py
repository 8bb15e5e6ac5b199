"""The Azure ML extension's configuration settings, as Microsoft's installers send them.

Through ARM (``Microsoft.KubernetesConfiguration/extensions``) nothing fills in the settings that
``az k8s-extension create`` adds on the client, so this module sends them itself, for a managed
(AKS) cluster with inference only. Sources:

- Azure/azure-cli-extensions@3f6c0dae43a5d340162d7953f713a08466d1b9e9:
  src/k8s-extension/azext_k8s_extension/partner_extensions/AzureMLKubernetes.py (``Create``:
  cluster_name, domain, location, jobSchedulerLocation, cluster_name_friendly, servicebus.enabled,
  relayserver.enabled, nginxIngress.enabled, clusterId and the Prometheus label; DevTest and no
  router HA below three nodes; TLS files read on the client into ``scoringFe.sslCert``/``sslKey``,
  base64 of the PEM text);
- Azure/AML-Kubernetes@5532b26ce9371db6bae216882ea78267a7930273: files/deployextension.json
  (Microsoft's ARM template for a managed cluster: the same keys, ``scoringFe.*`` for TLS and the
  load balancer);
- Learn, how-to-deploy-kubernetes-extension (the settings table).

tests/infra/test_aml_extension_contract.py holds these settings against a record of that template.
"""

from __future__ import annotations

import base64

import pulumi

RELEASE_NAMESPACE = "azureml"  # forced by the CLI; the template's scope.cluster.releaseNamespace
EXTENSION_TYPE = "Microsoft.AzureML.Kubernetes"
RELEASE_TRAIN = "stable"
ROUTER_SERVICE_TYPE = "LoadBalancer"  # azureml-fe on an Azure public load balancer


def _flag(value: bool) -> str:
    """A boolean as the template's ``boolToString`` writes it."""
    return "True" if value else "False"


def configuration_settings(
    *,
    cluster_id: pulumi.Input[str],
    cluster_name: str,
    location: str,
    router_ha: bool,
    ssl_cname: str,
    ssl_secret: str | None,
) -> dict[str, pulumi.Input[str]]:
    """The extension's (non-secret) settings for an inference-only AKS cluster with HTTPS."""
    settings: dict[str, pulumi.Input[str]] = {
        "enableTraining": _flag(False),
        "enableInference": _flag(True),
        # The CLI's rule for clusters under three nodes: DevTest purpose, one router replica.
        "clusterPurpose": "FastProd" if router_ha else "DevTest",
        "cluster_name": cluster_id,  # the cluster's ARM id, like clusterId
        "clusterId": cluster_id,
        "prometheus.prometheusSpec.externalLabels.cluster_name": cluster_id,
        "cluster_name_friendly": cluster_name,
        # The CLI's value (the ARM template sends the bare location here).
        "domain": f"{location}.cloudapp.azure.com",
        "location": location,
        "jobSchedulerLocation": location,
        "servicebus.enabled": "false",
        "relayserver.enabled": "false",  # no Azure Relay for a managed cluster
        "nginxIngress.enabled": "true",
        "installNvidiaDevicePlugin": _flag(False),
        "installPromOp": _flag(True),
        "installVolcano": _flag(True),
        "installDcgmExporter": _flag(False),
        "allowInsecureConnections": _flag(False),
        "inferenceRouterServiceType": ROUTER_SERVICE_TYPE,
        "inferenceRouterHA": _flag(router_ha),
        "scoringFe.serviceType.internalLoadBalancer": _flag(False),
        "sslCname": ssl_cname,
    }
    if ssl_secret is not None:
        settings["scoringFe.sslSecret"] = ssl_secret
    return settings


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def protected_settings(
    cert_pem: pulumi.Input[str], key_pem: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """The certificate (full chain) and key as the extension reads them: base64 of the PEM text."""
    return {
        "scoringFe.sslCert": pulumi.Output.secret(pulumi.Output.from_input(cert_pem).apply(_b64)),
        "scoringFe.sslKey": pulumi.Output.secret(pulumi.Output.from_input(key_pem).apply(_b64)),
    }
