"""ContainerInstanceServing: the qa scoring target, one Azure Container Instance group.

With TLS (always in qa) a second container, Nginx, terminates HTTPS on 443, the group's only
public port, and forwards to the scoring container over localhost; the scoring port is not on the
group's IP address. Learn, container-instances-container-groups ("Networking", ms.date 11/17/2025,
MicrosoftDocs/azure-compute-docs@0f864c9): "To enable external clients to reach a container within
the group, you must expose the port on the IP address and from the container", and "container
instances can reach each other via localhost on any port, even if those ports aren't exposed
externally on the group's IP address". The certificate, key and Nginx configuration reach the
sidecar as a secret volume (Learn, container-instances-volume-secret: backed by tmpfs, "never
written to nonvolatile storage"), its values Pulumi secrets. See infra/tls_sidecar.py.

The group uses pulumi-azure-native's containerinstance module, whose only API version in 3.x is
2024-05-01-preview (its docstring: "Uses Azure REST API version 2024-05-01-preview"); the GA
versions it lists (2023-05-01, 2025-09-01, 2026-07-01) are reachable only through a locally
generated SDK (``pulumi package add azure-native containerinstance <version>``).

The scoring image is pulled from the stack's registry with a dedicated user-assigned identity
that holds only ``AcrPull`` (no registry admin credentials, no password anywhere). Secrets (the
API key, the Application Insights connection string) are passed only as secure environment
values, which ACI never returns in its API responses.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, containerinstance, managedidentity

from infra import tls_sidecar
from infra.components import roles
from infra.components.propagation import wait_for_grants

SCORING_PORT = 5001
LIVENESS_PATH = "/health/live"
READINESS_PATH = "/health/ready"
SCORE_PATH = "/score"
# The sidecar's share of the group (Learn, container-instances-container-groups: "Individual
# container instances within a group can be provisioned with less than one CPU and 1 GB").
PROXY_CPU = 0.5
PROXY_MEMORY_GB = 0.5
PROXY_VOLUME = "tls-proxy"


@dataclass(frozen=True)
class ContainerInstanceTls:
    """HTTPS for the group: the DNS name clients call, its certificate and key, the sidecar image."""

    cname: str
    cert_pem: pulumi.Input[str]
    key_pem: pulumi.Input[str]
    proxy_image: str


@dataclass(frozen=True)
class ContainerInstanceServingArgs:
    """Inputs of :class:`ContainerInstanceServing`."""

    container_group_name: str
    identity_name: str
    dns_label: str
    location: str
    tags: Mapping[str, str]
    subscription_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    registry_login_server: pulumi.Input[str]
    image: str  # repository[:tag|@digest] inside the registry
    model_version: str
    app_insights_connection_string: pulumi.Input[str]
    api_key: pulumi.Input[str] | None
    cpu: float
    memory_gb: float
    tls: ContainerInstanceTls | None = None  # None: plain HTTP on SCORING_PORT (dev only)


def _b64(text: str) -> str:
    """Secret volume values are base64 (Learn, container-instances-volume-secret)."""
    return base64.b64encode(text.encode()).decode()


def _tls_proxy(
    tls: ContainerInstanceTls,
) -> tuple[containerinstance.ContainerArgs, containerinstance.VolumeArgs]:
    """The Nginx sidecar on 443 and its secret volume (configuration, certificate, key)."""
    volume = containerinstance.VolumeArgs(
        name=PROXY_VOLUME,
        secret={
            tls_sidecar.CONF_FILE: _b64(tls_sidecar.nginx_conf(tls.cname, SCORING_PORT)),
            tls_sidecar.CERT_FILE: pulumi.Output.secret(tls.cert_pem).apply(_b64),
            tls_sidecar.KEY_FILE: pulumi.Output.secret(tls.key_pem).apply(_b64),
        },
    )
    container = containerinstance.ContainerArgs(
        name="tls-proxy",
        image=tls.proxy_image,
        ports=[containerinstance.ContainerPortArgs(port=tls_sidecar.HTTPS_PORT, protocol="TCP")],
        resources=containerinstance.ResourceRequirementsArgs(
            requests=containerinstance.ResourceRequestsArgs(cpu=PROXY_CPU, memory_in_gb=PROXY_MEMORY_GB)
        ),
        volume_mounts=[
            containerinstance.VolumeMountArgs(
                name=PROXY_VOLUME, mount_path=tls_sidecar.CONFIG_DIR, read_only=True
            )
        ],
    )
    return container, volume


class ContainerInstanceServing(pulumi.ComponentResource):
    """ACI group running the scoring service, with health probes, a public DNS label and (with
    TLS) an Nginx sidecar that is the only public port."""

    container_group_name: pulumi.Output[str]
    fqdn: pulumi.Output[str]
    group_fqdn: pulumi.Output[str]
    scoring_uri: pulumi.Output[str]
    identity_id: pulumi.Output[str]
    identity_client_id: pulumi.Output[str]
    image: pulumi.Output[str]
    model_version: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ContainerInstanceServingArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("azure-mlops:infra:ContainerInstanceServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        identity = managedidentity.UserAssignedIdentity(
            f"{name}-id",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=child,
        )
        acr_pull = authorization.RoleAssignment(
            f"{name}-id-acr-pull",
            principal_id=identity.principal_id,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=roles.role_definition_id(args.subscription_id, roles.ACR_PULL),
            scope=args.registry_id,
            opts=child,
        )
        # The group pulls the image with this identity at creation: wait for AcrPull to apply.
        settled = wait_for_grants(f"{name}-id-wait", {"acr-pull": acr_pull}, self)

        env: list[containerinstance.EnvironmentVariableArgs] = [
            containerinstance.EnvironmentVariableArgs(name="SCORING_MODEL_VERSION", value=args.model_version),
            containerinstance.EnvironmentVariableArgs(
                name="APPLICATIONINSIGHTS_CONNECTION_STRING",
                secure_value=pulumi.Output.secret(args.app_insights_connection_string),
            ),
        ]
        if args.api_key is not None:
            env.append(
                containerinstance.EnvironmentVariableArgs(
                    name="SCORING_API_KEY", secure_value=pulumi.Output.secret(args.api_key)
                )
            )

        def probe(path: str, initial_delay: int) -> containerinstance.ContainerProbeArgs:
            return containerinstance.ContainerProbeArgs(
                http_get=containerinstance.ContainerHttpGetArgs(
                    path=path, port=SCORING_PORT, scheme=containerinstance.Scheme.HTTP
                ),
                initial_delay_seconds=initial_delay,
                period_seconds=10,
                timeout_seconds=5,
                failure_threshold=3,
            )

        image = pulumi.Output.concat(args.registry_login_server, "/", args.image)
        scoring = containerinstance.ContainerArgs(
            name="scoring",
            image=image,
            # reachable by the sidecar over localhost; public only without TLS (ip_address below)
            ports=[containerinstance.ContainerPortArgs(port=SCORING_PORT, protocol="TCP")],
            environment_variables=env,
            resources=containerinstance.ResourceRequirementsArgs(
                requests=containerinstance.ResourceRequestsArgs(cpu=args.cpu, memory_in_gb=args.memory_gb)
            ),
            liveness_probe=probe(LIVENESS_PATH, initial_delay=30),
            readiness_probe=probe(READINESS_PATH, initial_delay=10),
        )
        containers = [scoring]
        volumes: list[containerinstance.VolumeArgs] = []
        public_port = SCORING_PORT
        if args.tls is not None:
            proxy, volume = _tls_proxy(args.tls)
            containers.append(proxy)
            volumes.append(volume)
            public_port = tls_sidecar.HTTPS_PORT
        group = containerinstance.ContainerGroup(
            f"{name}-aci",
            container_group_name=args.container_group_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            os_type=containerinstance.OperatingSystemTypes.LINUX,
            sku=containerinstance.ContainerGroupSku.STANDARD,
            restart_policy=containerinstance.ContainerGroupRestartPolicy.ALWAYS,
            identity=containerinstance.ContainerGroupIdentityArgs(
                type=containerinstance.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            image_registry_credentials=[
                containerinstance.ImageRegistryCredentialArgs(
                    server=args.registry_login_server, identity=identity.id
                )
            ],
            containers=containers,
            volumes=volumes or None,
            ip_address=containerinstance.IpAddressArgs(
                type=containerinstance.ContainerGroupIpAddressType.PUBLIC,
                dns_name_label=args.dns_label,
                # A hash of tenant, subscription and resource group in the name: after a delete, no
                # one else can take the name the qa CNAME points at (the provider's default,
                # Unsecure, allows it). Learn, how-to-reuse-dns-names ("subdomain takeover").
                auto_generated_domain_name_label_scope=(
                    containerinstance.DnsNameLabelReusePolicy.RESOURCE_GROUP_REUSE
                ),
                ports=[containerinstance.PortArgs(port=public_port, protocol="TCP")],
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[acr_pull, settled]),
        )

        self.container_group_name = group.name
        # Azure's name for the group (<label>.<region>.azurecontainer.io): the CNAME's target.
        self.group_fqdn = group.ip_address.apply(lambda ip: (ip.fqdn or "") if ip else "")
        if args.tls is not None:
            # The certificate's name: clients verify it (no certificate can be had for Azure's name).
            self.fqdn = pulumi.Output.from_input(args.tls.cname)
            self.scoring_uri = self.fqdn.apply(lambda f: f"https://{f}{SCORE_PATH}")
        else:
            self.fqdn = self.group_fqdn
            self.scoring_uri = self.fqdn.apply(lambda f: f"http://{f}:{SCORING_PORT}{SCORE_PATH}")
        self.identity_id = identity.id
        self.identity_client_id = identity.client_id
        # What the group runs, in the form of the stack settings scoringImage / modelVersion.
        # Resolved from the group, so they are recorded only once the group was created or
        # updated with them: `mlops infra carry-serving` sets them back on the next run.
        self.image = group.name.apply(lambda _: args.image)
        self.model_version = group.name.apply(lambda _: args.model_version)
        self.register_outputs(
            {
                "containerGroupName": self.container_group_name,
                "fqdn": self.fqdn,
                "groupFqdn": self.group_fqdn,
                "scoringUri": self.scoring_uri,
                "identityId": self.identity_id,
                "image": self.image,
                "modelVersion": self.model_version,
            }
        )
