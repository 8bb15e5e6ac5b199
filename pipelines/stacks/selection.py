"""Which Pulumi stacks a teardown may destroy: pure selection, no I/O.

A stack is a teardown candidate only when *all* of these hold:

1. its name is not one of the long-lived environments (``dev``, ``qa``, ``prod``);
2. it has no stack tag ``mlops:protected`` (any value other than ``false`` protects);
3. its name matches the short-lived pattern ``^dev-[a-z0-9][a-z0-9-]{0,30}$``;
4. it carries the stack tag ``mlops:short-lived=true``;
5. it carries the stack tag ``mlops:expires-at`` with an ISO 8601 UTC timestamp;
6. with ``--expired``: that timestamp is strictly before *now*;
   with ``--stack NAME``: its name is NAME.

Every stack that is looked at and not selected gets a reason, so the plan can say
why a stack was left alone. The rules are checked in the order above: a protected
stack is always reported as protected, whatever its tags say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from pipelines.contracts import TIMESTAMP_FORMAT, setting_key

PROTECTED_STACKS = frozenset({"dev", "qa", "prod"})
SHORT_LIVED_PATTERN = re.compile(r"dev-[a-z0-9][a-z0-9-]{0,30}")
TAG_SHORT_LIVED = "mlops:short-lived"
TAG_EXPIRES_AT = "mlops:expires-at"
TAG_PROTECTED = "mlops:protected"
CONFIG_EXPIRES_AT = setting_key("expiresAt")


class Mode(Enum):
    """How candidates are chosen among the short-lived stacks."""

    EXPIRED = "expired"
    NAMED = "named"


@dataclass(frozen=True)
class StackInfo:
    """A stack as the backend lists it: its name and its stack tags."""

    name: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        """The stack name without an ``org/`` or ``org/project/`` qualifier."""
        return self.name.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Candidate:
    """A stack selected for teardown."""

    name: str
    expires_at: datetime
    expired: bool


@dataclass(frozen=True)
class Rejection:
    """A stack left alone, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Selection:
    candidates: list[Candidate]
    rejected: list[Rejection]


def is_short_lived_name(name: str) -> bool:
    """True for names like ``dev-pr-42`` (the whole name must match, no newline)."""
    return name not in PROTECTED_STACKS and SHORT_LIVED_PATTERN.fullmatch(name) is not None


def parse_expiry(value: str | None) -> datetime | None:
    """Parse an ISO 8601 UTC timestamp (``Z`` or ``+00:00``); ``None`` if absent or not UTC."""
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() != UTC.utcoffset(None):
        return None
    return parsed.astimezone(UTC)


def format_expiry(moment: datetime) -> str:
    """The canonical form written to tags and config: ``2026-11-25T08:00:00Z``."""
    if moment.tzinfo is None:
        raise ValueError("expiry must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).strftime(TIMESTAMP_FORMAT)


def protection_reason(stack: StackInfo) -> str | None:
    """Why a stack is protected, or ``None`` when it is not."""
    if stack.short_name in PROTECTED_STACKS:
        return f"protected: '{stack.short_name}' is a long-lived environment"
    if TAG_PROTECTED in stack.tags and stack.tags[TAG_PROTECTED].strip().lower() != "false":
        return f"protected: tagged {TAG_PROTECTED}={stack.tags[TAG_PROTECTED]}"
    return None


def _judge(stack: StackInfo, *, now: datetime, mode: Mode) -> Candidate | Rejection:
    reason = protection_reason(stack)
    if reason is not None:
        return Rejection(stack.name, reason)
    if not is_short_lived_name(stack.short_name):
        return Rejection(stack.name, "name does not match the short-lived pattern dev-<id>")
    if stack.tags.get(TAG_SHORT_LIVED, "").strip().lower() != "true":
        return Rejection(stack.name, f"not tagged {TAG_SHORT_LIVED}=true")
    expires_at = parse_expiry(stack.tags.get(TAG_EXPIRES_AT))
    if expires_at is None:
        return Rejection(stack.name, f"no valid {TAG_EXPIRES_AT} tag (ISO 8601 UTC expected)")
    expired = expires_at < now
    if mode is Mode.EXPIRED and not expired:
        return Rejection(stack.name, f"not expired: expires at {format_expiry(expires_at)}")
    return Candidate(stack.name, expires_at, expired)


def plan_teardown(
    stacks: Iterable[StackInfo], *, now: datetime, mode: Mode, stack_name: str | None = None
) -> Selection:
    """Split ``stacks`` into candidates and rejections (with reasons).

    ``mode=Mode.NAMED`` looks only at the stack called ``stack_name`` (qualified or
    short name); when no such stack exists, the selection says so and is empty.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if mode is Mode.NAMED and not stack_name:
        raise ValueError("mode NAMED needs a stack_name")
    candidates: list[Candidate] = []
    rejected: list[Rejection] = []
    considered = list(stacks)
    if mode is Mode.NAMED:
        considered = [s for s in considered if stack_name in (s.name, s.short_name)]
        if not considered:
            assert stack_name is not None
            return Selection([], [Rejection(stack_name, "no such stack")])
    for stack in considered:
        verdict = _judge(stack, now=now, mode=mode)
        if isinstance(verdict, Candidate):
            candidates.append(verdict)
        else:
            rejected.append(verdict)
    return Selection(candidates, rejected)


def select_candidates(
    stacks: Iterable[StackInfo], *, now: datetime, mode: Mode, stack_name: str | None = None
) -> list[Candidate]:
    """The stacks a teardown may destroy (see :func:`plan_teardown` for the reasons)."""
    return plan_teardown(stacks, now=now, mode=mode, stack_name=stack_name).candidates
