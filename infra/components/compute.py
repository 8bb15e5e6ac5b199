"""TrainingCompute: an AML compute cluster: the training pipeline's, and the batch scoring job's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import machinelearningservices as ml


@dataclass(frozen=True)
class TrainingComputeArgs:
    """Inputs of :class:`TrainingCompute`."""

    cluster_name: str
    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    workspace_name: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    vm_size: str
    min_nodes: int
    max_nodes: int
    low_priority: bool
    idle_seconds_before_scale_down: int
    # With the workspace's managed network the nodes live in it and need no public IP
    # (docs/infra.md, "Network isolation"); a public workspace keeps Azure's default.
    node_public_ip: bool = True
    description: str = "Training cluster for the diabetes pipeline (scales to zero)."


def iso_duration(seconds: int) -> str:
    """Seconds as an ISO 8601 duration (``PT15M``, ``PT1H30M``, ``PT90S``)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs or out == "PT":
        out += f"{secs}S"
    return out


class TrainingCompute(pulumi.ComponentResource):
    """An AML compute cluster: scales to zero, local auth off, runs as the workspace identity."""

    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: TrainingComputeArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("azure-mlops:infra:TrainingCompute", name, None, opts)

        cluster = ml.Compute(
            f"{name}-cluster",
            compute_name=args.cluster_name,
            resource_group_name=args.resource_group_name,
            workspace_name=args.workspace_name,
            location=args.location,
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[args.identity_id],
            ),
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute",
                disable_local_auth=True,
                description=args.description,
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=args.vm_size,
                    vm_priority=(
                        ml.VmPriority.LOW_PRIORITY if args.low_priority else ml.VmPriority.DEDICATED
                    ),
                    os_type=ml.OsType.LINUX,
                    remote_login_port_public_access=ml.RemoteLoginPortPublicAccess.DISABLED,
                    # REST (Microsoft.MachineLearningServices AmlComputeProperties):
                    # "false - Indicates that the compute nodes will have a private endpoint and
                    # no public IPs"
                    enable_node_public_ip=args.node_public_ip,
                    scale_settings=ml.ScaleSettingsArgs(
                        min_node_count=args.min_nodes,
                        max_node_count=args.max_nodes,
                        node_idle_time_before_scale_down=iso_duration(args.idle_seconds_before_scale_down),
                    ),
                ),
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.register_outputs({"clusterName": self.cluster_name, "clusterId": self.cluster_id})
