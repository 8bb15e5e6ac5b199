"""The result of a preflight: checks with a status, a detail and, for each failure, its fix."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

from pipelines.errors import ExitCode


class Status(StrEnum):
    """A check's outcome: ``fail`` stops the deployment, ``warn`` may."""

    PASS = "pass"  # noqa: S105 (not a password)
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One check: what was checked, what was found, and what to do when it is not a pass."""

    id: str
    title: str
    status: Status
    detail: str
    fix: str = ""


def passed(id_: str, title: str, detail: str) -> Check:
    return Check(id_, title, Status.PASS, detail)


def warned(id_: str, title: str, detail: str, fix: str) -> Check:
    return Check(id_, title, Status.WARN, detail, fix)


def failed(id_: str, title: str, detail: str, fix: str) -> Check:
    return Check(id_, title, Status.FAIL, detail, fix)


@dataclass(frozen=True)
class Report:
    """Every check of one stack, in the order they ran."""

    stack: str
    subscription_id: str
    location: str
    checks: tuple[Check, ...]

    def count(self, status: Status) -> int:
        return sum(1 for check in self.checks if check.status is status)

    @property
    def exit_code(self) -> ExitCode:
        """1 when any check failed, 0 otherwise (warnings included)."""
        return ExitCode.FAILED if self.count(Status.FAIL) else ExitCode.OK

    def summary(self) -> str:
        return (
            f"{self.count(Status.PASS)} passed, {self.count(Status.WARN)} warnings, "
            f"{self.count(Status.FAIL)} failed"
        )

    def to_json(self) -> str:
        """The report for CI: stack, subscription, location, counts and every check."""
        document = {
            "stack": self.stack,
            "subscription_id": self.subscription_id,
            "location": self.location,
            "passed": self.count(Status.PASS),
            "warnings": self.count(Status.WARN),
            "failed": self.count(Status.FAIL),
            "checks": [asdict(check) for check in self.checks],
        }
        return json.dumps(document, indent=2)


def report(stack: str, subscription_id: str, location: str, checks: Iterable[Check]) -> Report:
    return Report(stack, subscription_id, location, tuple(checks))
