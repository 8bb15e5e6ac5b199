"""Who is signed in, and may they create what the stack creates (pure).

Azure RBAC: an action is allowed at a scope when a role assigned at that scope or above lists it
in ``actions`` and not in ``notActions``; ``*`` in either is a wildcard (Learn, "Understand Azure
role definitions", https://learn.microsoft.com/azure/role-based-access-control/role-definitions).
Creating role assignments needs ``Microsoft.Authorization/roleAssignments/write``, which Owner,
User Access Administrator and Role Based Access Control Administrator have and Contributor does
not (its notActions hold ``Microsoft.Authorization/*/Write``; Learn, "Azure built-in roles for
Privileged"). Deny assignments are not read: a deny can still refuse what this allows.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pipelines.preflight.facts import Principal, RoleGrant, SubscriptionInfo
from pipelines.preflight.report import Check, failed, passed, warned

CREATE_GROUP = "Microsoft.Resources/subscriptions/resourceGroups/write"
ASSIGN_ROLES = "Microsoft.Authorization/roleAssignments/write"
_MANAGEMENT_GROUPS = "/providers/microsoft.management/managementgroups/"


def token_claims(token: str) -> Mapping[str, Any]:
    """The payload of a JWT, not verified (for display: who is signed in, in which tenant)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The identity in an ARM token: ``oid``, ``tid``, and a user's UPN or an app's id."""
    kind = "app" if claims.get("idtyp") == "app" or ("upn" not in claims and "appid" in claims) else "user"
    name = claims.get("upn") or claims.get("unique_name") or claims.get("appid") or claims.get("azp") or ""
    return Principal(str(claims.get("oid", "")), str(claims.get("tid", "")), str(name), kind)


@cache
def _pattern(action: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(map(re.escape, action.split("*"))) + "$", re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    """Whether a role's action pattern (``Microsoft.Authorization/*/Write``) covers ``action``."""
    return bool(_pattern(pattern).match(action))


def scope_covers(grant_scope: str, scope: str) -> bool:
    """Whether an assignment at ``grant_scope`` applies at ``scope`` (the same or a parent).

    Management-group assignments listed for a subscription apply to it (the subscription is in
    that group); ``/`` is the root.
    """
    grant = grant_scope.rstrip("/").lower()
    target = scope.rstrip("/").lower()
    if grant in {"", "/"} or grant.startswith(_MANAGEMENT_GROUPS):
        return True
    return target == grant or target.startswith(grant + "/")


def grants_for(grants: Iterable[RoleGrant], action: str, scope: str) -> list[RoleGrant]:
    """The assignments that allow ``action`` at ``scope``."""
    return [
        grant
        for grant in grants
        if scope_covers(grant.scope, scope)
        and any(action_matches(a, action) for a in grant.actions)
        and not any(action_matches(n, action) for n in grant.not_actions)
    ]


def identity_checks(principal: Principal, subscription: SubscriptionInfo) -> list[Check]:
    """The signed-in identity, the subscription's state, and that both are in one tenant."""
    who = f"{principal.kind} {principal.name or '?'} (object id {principal.object_id})"
    checks = [passed("identity", "signed-in identity", f"{who} in tenant {principal.tenant_id}")]
    sub = f"{subscription.display_name} ({subscription.subscription_id})"
    if subscription.state.lower() == "enabled":
        checks.append(passed("subscription", "subscription", f"{sub} is Enabled"))
    elif subscription.state.lower() in {"warned", "pastdue"}:
        checks.append(
            warned(
                "subscription",
                "subscription",
                f"{sub} is {subscription.state}",
                "check billing in the portal (Subscriptions > Overview); a Warned subscription is "
                "disabled when it is not resolved",
            )
        )
    else:
        checks.append(
            failed(
                "subscription",
                "subscription",
                f"{sub} is {subscription.state}: nothing can be created",
                "re-enable it (portal: Subscriptions > Overview) or choose another with --subscription",
            )
        )
    if subscription.tenant_id and principal.tenant_id and subscription.tenant_id != principal.tenant_id:
        checks.append(
            failed(
                "tenant",
                "tenant",
                f"the subscription is in tenant {subscription.tenant_id}, the sign-in in "
                f"{principal.tenant_id}",
                f"sign in to the subscription's tenant: az login --tenant {subscription.tenant_id}",
            )
        )
    return checks


def permission_checks(
    grants: Iterable[RoleGrant],
    *,
    subscription_id: str,
    resource_group: str,
    assigns_roles: bool,
    principal: Principal,
) -> list[Check]:
    """May the identity create the stack's resource group and, when it has some, role assignments."""
    grants = list(grants)
    subscription_scope = f"/subscriptions/{subscription_id}"
    group_scope = f"{subscription_scope}/resourceGroups/{resource_group}"
    assignee = principal.object_id or "<object id>"
    wanted = [
        (
            "rbac.create",
            "create resources",
            CREATE_GROUP,
            subscription_scope,
            f"az role assignment create --assignee {assignee} --role Contributor "
            f"--scope {subscription_scope}",
        )
    ]
    if assigns_roles:
        wanted.append(
            (
                "rbac.assign-roles",
                "create role assignments",
                ASSIGN_ROLES,
                group_scope,
                f'az role assignment create --assignee {assignee} --role "Role Based Access Control '
                f'Administrator" --scope {subscription_scope} (or User Access Administrator; '
                "the stack assigns roles inside its resource group)",
            )
        )
    checks = []
    for id_, title, action, scope, fix in wanted:
        allowing = grants_for(grants, action, scope)
        roles = ", ".join(sorted({g.role_name for g in allowing}))
        if not allowing:
            checks.append(failed(id_, title, f"no role allows {action} at {scope}", fix))
        elif all(g.condition for g in allowing):
            checks.append(
                warned(
                    id_,
                    title,
                    f"{action} is allowed by {roles} only under a condition (delegation)",
                    "make sure the condition admits the roles the stack assigns "
                    "(docs/infra.md lists them), or assign an unconditional role",
                )
            )
        else:
            checks.append(passed(id_, title, f"{action} at {scope}: {roles}"))
    return checks
