"""Create (or renew) a short-lived stack: dev's settings plus an expiry, and the tags
that make it a teardown candidate once it has expired.

The order matters for clean-up: the stack is created, then *tagged*, then configured.
A failure after the tags still leaves a stack that the scheduled teardown removes.
Running the command again on an existing short-lived stack renews its expiry and
re-copies dev's settings (CI runs it on every push to a labelled pull request); an
existing stack of that name that is *not* tagged short-lived is refused, never adopted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pipelines.errors import UsageError
from pipelines.stacks.selection import (
    CONFIG_EXPIRES_AT,
    PROTECTED_STACKS,
    TAG_EXPIRES_AT,
    TAG_PROTECTED,
    TAG_SHORT_LIVED,
    format_expiry,
    is_short_lived_name,
)

TTL_PATTERN = re.compile(r"(?P<count>[1-9][0-9]{0,4})(?P<unit>[mhdw])")
TTL_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_TTL = timedelta(days=30)
MIN_TTL = timedelta(minutes=10)


class ShortLivedError(UsageError):
    """A request that would not yield a well-formed short-lived stack."""


class StackAdmin(Protocol):
    """The Pulumi calls this module needs (``PulumiStackOps`` in production)."""

    def stack_exists(self, name: str) -> bool: ...

    def stack_tags(self, name: str) -> dict[str, str]: ...

    def create_stack(self, name: str) -> None: ...

    def get_config_json(self, name: str) -> dict[str, Any]: ...

    def set_config_json(self, name: str, config: dict[str, Any]) -> None: ...

    def set_tag(self, name: str, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class ShortLivedStack:
    name: str
    expires_at: str
    created: bool
    copied_keys: int


def parse_ttl(text: str) -> timedelta:
    """``90m``, ``48h``, ``7d``, ``2w`` -> timedelta (between 10 minutes and 30 days)."""
    match = TTL_PATTERN.fullmatch(text.strip().lower())
    if match is None:
        raise ShortLivedError(f"--ttl {text!r}: expected a number and a unit m/h/d/w, like 48h")
    ttl = timedelta(**{TTL_UNITS[match["unit"]]: int(match["count"])})
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ShortLivedError(f"--ttl {text!r}: must be between 10m and 30d")
    return ttl


def validate_name(name: str) -> None:
    if name in PROTECTED_STACKS or not is_short_lived_name(name):
        raise ShortLivedError(
            f"stack name {name!r}: a short-lived stack is named dev-<id> "
            "(lower-case letters, digits and dashes, at most 35 characters), never dev, qa or prod"
        )


def create_short_lived(
    admin: StackAdmin, *, name: str, ttl: timedelta, now: datetime, base: str = "dev"
) -> ShortLivedStack:
    """Create or renew ``name`` from ``base``'s settings, expiring ``ttl`` after ``now``."""
    validate_name(name)
    if base == name:
        raise ShortLivedError("a stack cannot be created from itself")
    expires_at = format_expiry(now + ttl)

    created = not admin.stack_exists(name)
    if created:
        admin.create_stack(name)
    else:
        tags = admin.stack_tags(name)
        if tags.get(TAG_SHORT_LIVED, "").lower() != "true":
            raise ShortLivedError(
                f"stack {name!r} exists and is not tagged {TAG_SHORT_LIVED}=true; "
                "refusing to turn it into a teardown candidate"
            )
        if TAG_PROTECTED in tags and tags[TAG_PROTECTED].strip().lower() != "false":
            raise ShortLivedError(f"stack {name!r} is tagged {TAG_PROTECTED}; leaving it alone")

    admin.set_tag(name, TAG_SHORT_LIVED, "true")
    admin.set_tag(name, TAG_EXPIRES_AT, expires_at)

    config = {k: v for k, v in admin.get_config_json(base).items() if k != CONFIG_EXPIRES_AT}
    config[CONFIG_EXPIRES_AT] = {"value": expires_at, "secret": False}
    admin.set_config_json(name, config)
    return ShortLivedStack(name, expires_at, created, len(config) - 1)
