"""The tags every taggable resource carries.

``short-lived`` and ``expires-at`` are the contract with the teardown command: only resources of
``dev-<id>`` stacks carry them, and the teardown deletes a stack only when both are present and
the timestamp has passed.
"""

from __future__ import annotations

from infra.config import PROJECT, Settings

MANAGED_BY = "pulumi"

REQUIRED_TAGS = ("environment", "stack", "owner", "cost-center", "managed-by", "project")
SHORT_LIVED_TAG = "short-lived"
EXPIRES_AT_TAG = "expires-at"


def standard_tags(settings: Settings) -> dict[str, str]:
    """Tags for every resource of this stack."""
    tags = {
        "environment": settings.environment,
        "stack": settings.stack,
        "owner": settings.owner,
        "cost-center": settings.cost_center,
        "managed-by": MANAGED_BY,
        "project": PROJECT,
    }
    if settings.short_lived:
        assert settings.expires_at is not None  # guaranteed by parse_settings
        tags[SHORT_LIVED_TAG] = "true"
        tags[EXPIRES_AT_TAG] = settings.expires_at
    return tags
