"""PrivateNetwork: the inbound side of managed network isolation.

With ``network.isolation: managed`` the workspace, its storage (blob and file), Key Vault and
container registry take no traffic from the internet (``publicNetworkAccess: Disabled``, set in
WorkspaceCore). This component gives them the one way in: a virtual network with

- a subnet of private endpoints, one per resource and sub-resource (Learn,
  how-to-configure-private-link; private-link/private-endpoint-overview),
- the private DNS zones those endpoints register in, linked to the network, so that the public
  names resolve to the private addresses inside it (Learn, private-link/private-endpoint-dns:
  ``amlworkspace`` -> ``privatelink.api.azureml.ms`` and ``privatelink.notebooks.azure.net``;
  ``blob`` -> ``privatelink.blob.core.windows.net``; ``file`` ->
  ``privatelink.file.core.windows.net``; ``vault`` -> ``privatelink.vaultcore.azure.net``;
  ``registry`` -> ``privatelink.azurecr.io``),
- a subnet for the AKS nodes (prod), so the Azure ML extension reaches the workspace, storage and
  registry through these endpoints (Learn, how-to-secure-kubernetes-inferencing-environment).

The outbound side, for Azure ML's own managed compute, is the workspace's managed virtual network
(``managed_network`` on the workspace, WorkspaceCore).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network, privatedns

# sub-resource (group id) -> the private DNS zones its records go in (Learn, private-endpoint-dns,
# "Azure services DNS zone configuration": AI + Machine Learning, Storage, Security, Containers).
DNS_ZONES: dict[str, tuple[str, ...]] = {
    "amlworkspace": ("privatelink.api.azureml.ms", "privatelink.notebooks.azure.net"),
    "blob": ("privatelink.blob.core.windows.net",),
    "file": ("privatelink.file.core.windows.net",),
    "vault": ("privatelink.vaultcore.azure.net",),
    "registry": ("privatelink.azurecr.io",),
}


def subnet_prefixes(address_space: str) -> tuple[str, str]:
    """The two subnets carved from the network's range: private endpoints, then AKS nodes.

    Both are the first two /24 blocks (or halves of a smaller range): a /24 holds 251 usable
    addresses (Azure keeps five per subnet), room for the endpoints and for AKS nodes, whose pods
    take their addresses from the overlay, not from the subnet (Azure CNI Overlay).
    """
    net = ipaddress.ip_network(address_space, strict=False)
    size = max(net.prefixlen + 1, 24)
    endpoints, aks = list(net.subnets(new_prefix=size))[:2]
    return str(endpoints), str(aks)


@dataclass(frozen=True)
class PrivateNetworkArgs:
    """Inputs of :class:`PrivateNetwork`."""

    network_name: str
    location: str
    tags: Mapping[str, str]
    resource_group_name: pulumi.Input[str]
    address_space: str
    # sub-resource -> the ARM id of the resource it belongs to
    workspace_id: pulumi.Input[str]
    storage_account_id: pulumi.Input[str]
    key_vault_id: pulumi.Input[str]
    registry_id: pulumi.Input[str] | None


class PrivateNetwork(pulumi.ComponentResource):
    """A virtual network with private endpoints (and their DNS) for the workspace's resources."""

    network_id: pulumi.Output[str]
    endpoints_subnet_id: pulumi.Output[str]
    aks_subnet_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: PrivateNetworkArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("azure-mlops:infra:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        endpoints_prefix, aks_prefix = subnet_prefixes(args.address_space)

        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=args.network_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            subnets=[
                network.SubnetArgs(name="endpoints", address_prefix=endpoints_prefix),
                network.SubnetArgs(name="aks", address_prefix=aks_prefix),
            ],
            tags=tags,
            # subnets inline: one resource owns them, so an update of the network keeps them
            opts=child,
        )
        self.network_id = vnet.id
        self.endpoints_subnet_id = pulumi.Output.concat(vnet.id, "/subnets/endpoints")
        self.aks_subnet_id = pulumi.Output.concat(vnet.id, "/subnets/aks")

        zones = self._create_zones(name, args, vnet)
        targets: dict[str, pulumi.Input[str]] = {
            "amlworkspace": args.workspace_id,
            "blob": args.storage_account_id,
            "file": args.storage_account_id,
            "vault": args.key_vault_id,
        }
        if args.registry_id is not None:
            targets["registry"] = args.registry_id
        for group, resource_id in targets.items():
            self._create_endpoint(name, args, group, resource_id, zones)

        self.register_outputs(
            {
                "networkId": self.network_id,
                "endpointsSubnetId": self.endpoints_subnet_id,
                "aksSubnetId": self.aks_subnet_id,
            }
        )

    def _create_zones(
        self, name: str, args: PrivateNetworkArgs, vnet: network.VirtualNetwork
    ) -> dict[str, privatedns.PrivateZone]:
        """Each private DNS zone once (location ``global``), linked to the network."""
        child = pulumi.ResourceOptions(parent=self)
        zones: dict[str, privatedns.PrivateZone] = {}
        for zone_name in sorted({z for group in DNS_ZONES.values() for z in group}):
            short = zone_name.removeprefix("privatelink.").split(".")[0]
            zone = privatedns.PrivateZone(
                f"{name}-dns-{short}",
                private_zone_name=zone_name,
                resource_group_name=args.resource_group_name,
                location="global",
                tags=dict(args.tags),
                opts=child,
            )
            privatedns.VirtualNetworkLink(
                f"{name}-dns-{short}-link",
                virtual_network_link_name=args.network_name,
                private_zone_name=zone.name,
                resource_group_name=args.resource_group_name,
                location="global",
                registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=vnet.id),
                tags=dict(args.tags),
                opts=child,
            )
            zones[zone_name] = zone
        return zones

    def _create_endpoint(
        self,
        name: str,
        args: PrivateNetworkArgs,
        group: str,
        resource_id: pulumi.Input[str],
        zones: Mapping[str, privatedns.PrivateZone],
    ) -> None:
        """A private endpoint for one sub-resource, its records in the zones Learn names."""
        child = pulumi.ResourceOptions(parent=self)
        endpoint_name = f"pe-{args.network_name.removeprefix('vnet-')}-{group}"
        endpoint = network.PrivateEndpoint(
            f"{name}-pe-{group}",
            private_endpoint_name=endpoint_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            subnet=network.SubnetArgs(id=self.endpoints_subnet_id),
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=endpoint_name,
                    private_link_service_id=resource_id,
                    group_ids=[group],
                )
            ],
            tags=dict(args.tags),
            opts=child,
        )
        network.PrivateDnsZoneGroup(
            f"{name}-pe-{group}-dns",
            private_dns_zone_group_name="default",
            private_endpoint_name=endpoint.name,
            resource_group_name=args.resource_group_name,
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(
                    name=zone_name.replace(".", "-"), private_dns_zone_id=zones[zone_name].id
                )
                for zone_name in DNS_ZONES[group]
            ],
            opts=child,
        )
