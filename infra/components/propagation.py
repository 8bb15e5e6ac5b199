"""Waiting for new role assignments to take effect before the resources that use them.

"When you assign roles or remove role assignments, it can take up to 10 minutes for changes to
take effect" (Learn, role-based-access-control/troubleshooting, "Role assignment changes are not
being detected"), and a new AKS Trusted Access role binding "might take up to five minutes to
take effect" (Learn, aks/trusted-access-feature). Azure answers a create that comes too early
with an authorization error, so a first ``pulumi up`` fails now and then.

The wait is a ``time.Sleep`` (pulumiverse-time, the Pulumi form of Terraform's ``time_sleep``)
that depends on the grants, with the resources that need them depending on it. It runs when it
is created and again only when one of the grants is replaced (its ``triggers``): an unchanged
stack never waits.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumiverse_time as time

GRANT_WAIT = "5m"
"""How long to wait: all of the Trusted Access bound (five minutes) and half of Learn's upper
bound for RBAC, paid once per new stack (or replaced grant). Learn gives only upper bounds; a
grant that still has not propagated fails the create, and re-running ``pulumi up`` retries just
that resource (the wait does not run again)."""


def wait_for_grants(
    name: str,
    grants: Mapping[str, pulumi.CustomResource],
    parent: pulumi.Resource,
    duration: str = GRANT_WAIT,
) -> time.Sleep:
    """A sleep after ``grants`` (short key -> role assignment or binding); depend on it."""
    return time.Sleep(
        name,
        create_duration=duration,
        triggers={key: grant.id for key, grant in grants.items()},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(grants.values())),
    )
