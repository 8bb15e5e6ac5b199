"""ContainerInstanceServing: the qa scoring target, one Azure Container Instance group.

The scoring image is pulled from the stack's registry with a dedicated user-assigned identity
that holds only ``AcrPull`` (no registry admin credentials, no password anywhere). Secrets (the
API key, the Application Insights connection string) are passed only as secure environment
values, which ACI never returns in its API responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, containerinstance, managedidentity

from infra.components import roles
from infra.components.propagation import wait_for_grants

SCORING_PORT = 5001
LIVENESS_PATH = "/health/live"
READINESS_PATH = "/health/ready"
SCORE_PATH = "/score"


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


class ContainerInstanceServing(pulumi.ComponentResource):
    """ACI group running the scoring service, with health probes and a public DNS label."""

    container_group_name: pulumi.Output[str]
    fqdn: pulumi.Output[str]
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
            containers=[
                containerinstance.ContainerArgs(
                    name="scoring",
                    image=image,
                    ports=[containerinstance.ContainerPortArgs(port=SCORING_PORT, protocol="TCP")],
                    environment_variables=env,
                    resources=containerinstance.ResourceRequirementsArgs(
                        requests=containerinstance.ResourceRequestsArgs(
                            cpu=args.cpu, memory_in_gb=args.memory_gb
                        )
                    ),
                    liveness_probe=probe(LIVENESS_PATH, initial_delay=30),
                    readiness_probe=probe(READINESS_PATH, initial_delay=10),
                )
            ],
            ip_address=containerinstance.IpAddressArgs(
                type=containerinstance.ContainerGroupIpAddressType.PUBLIC,
                dns_name_label=args.dns_label,
                ports=[containerinstance.PortArgs(port=SCORING_PORT, protocol="TCP")],
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[acr_pull, settled]),
        )

        self.container_group_name = group.name
        self.fqdn = group.ip_address.apply(lambda ip: (ip.fqdn or "") if ip else "")
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
                "scoringUri": self.scoring_uri,
                "identityId": self.identity_id,
                "image": self.image,
                "modelVersion": self.model_version,
            }
        )
