"""A stack's monthly estimate, per resource and in total, and the difference between two (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pipelines.cost.meters import Charge, hours_per_unit, pricing
from pipelines.cost.prices import PriceBook, PriceItem, PriceQuery
from pipelines.declared import DeclaredStack


@dataclass(frozen=True)
class Line:
    """One resource's estimate: a monthly amount, per-use rates, or why it is not priced."""

    resource: str
    type: str
    monthly: float
    per_use: tuple[str, ...] = ()
    note: str = ""
    status: str = "priced"  # priced, per-use, free, unpriced

    @property
    def key(self) -> str:
        return f"{self.type} {self.resource}"


@dataclass(frozen=True)
class Estimate:
    stack: str
    location: str
    currency: str
    prices_fetched_at: str
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def to_json(self) -> str:
        document = asdict(self) | {"total": self.total}
        return json.dumps(document, indent=2)


def estimate_from_json(text: str) -> Estimate:
    """An estimate written by :meth:`Estimate.to_json` (the baseline of a comparison)."""
    document: Mapping[str, Any] = json.loads(text)
    lines = tuple(Line(**{**line, "per_use": tuple(line.get("per_use", ()))}) for line in document["lines"])
    return Estimate(
        stack=document["stack"],
        location=document["location"],
        currency=document["currency"],
        prices_fetched_at=document["prices_fetched_at"],
        lines=lines,
    )


def queries(stack: DeclaredStack) -> list[PriceQuery]:
    """Every price query the stack's resources need (unique, in a stable order)."""
    seen: dict[str, PriceQuery] = {}
    for resource in stack.azure_resources:
        for charge in pricing(resource, stack.location).charges:
            seen.setdefault(charge.query.odata(), charge.query)
    return list(seen.values())


def choose(items: Iterable[PriceItem], charge: Charge) -> PriceItem | None:
    """The price that applies: the charge's meter, a primary-region one first, the lowest tier.

    For a per-use rate a free first tier is skipped (Log Analytics: the first 5 GB are free, the
    rate is the next tier's).
    """
    matching = [item for item in items if charge.pick(item) and item.type.lower() == "consumption"]
    if not matching:
        return None
    per_use = charge.monthly_units is None

    def rank(item: PriceItem) -> tuple[bool, bool, float, float]:
        free_tier = per_use and item.retail_price == 0
        return (not item.is_primary_meter_region, free_tier, item.tier_minimum_units, item.retail_price)

    return min(matching, key=rank)


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _charge_cost(charge: Charge, item: PriceItem) -> float | None:
    """The monthly cost of a charge at ``item``'s price; None when its unit is not time-based."""
    assert charge.monthly_units is not None
    if not charge.hourly:
        return charge.monthly_units * item.retail_price
    hours = hours_per_unit(item.unit_of_measure)
    if hours is None:
        return None
    return charge.monthly_units / hours * item.retail_price


def estimate(stack: DeclaredStack, book: PriceBook) -> Estimate:
    """Each declared resource's monthly cost at the book's prices."""
    lines = []
    for resource in stack.azure_resources:
        rule = pricing(resource, stack.location)
        if not rule.known:
            lines.append(Line(resource.name, resource.type, 0.0, note=rule.note, status="unpriced"))
            continue
        if rule.free:
            lines.append(
                Line(resource.name, resource.type, 0.0, note=rule.note or "no charge", status="free")
            )
            continue
        monthly = 0.0
        per_use: list[str] = []
        missing: list[str] = []
        for charge in rule.charges:
            item = choose(book.prices(charge.query) or [], charge)
            if item is None:
                missing.append(charge.what)
                continue
            if charge.monthly_units is None:
                per_use.append(
                    f"{charge.what}: {item.retail_price:g} {book.currency} per {charge.per_use_unit}"
                )
                continue
            cost = _charge_cost(charge, item)
            if cost is None:
                missing.append(f"{charge.what} (unit {item.unit_of_measure})")
            else:
                monthly += cost
        note = "; ".join(filter(None, [rule.note, *(f"no price found for {m}" for m in missing)]))
        if missing and not (monthly or per_use):
            status = "unpriced"
        else:
            status = "per-use" if per_use and monthly == 0 else "priced"
        lines.append(Line(resource.name, resource.type, round(monthly, 2), tuple(per_use), note, status))
    fetched = book.fetched_at(queries(stack))
    return Estimate(
        stack=stack.stack,
        location=stack.location,
        currency=book.currency,
        prices_fetched_at=fetched.strftime("%Y-%m-%dT%H:%M:%SZ") if fetched else "",
        lines=tuple(sorted(lines, key=lambda line: (-line.monthly, line.key))),
    )


@dataclass(frozen=True)
class Change:
    key: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float:
        return round((self.after or 0.0) - (self.before or 0.0), 2)


def compare(before: Estimate, after: Estimate) -> list[Change]:
    """Per resource (type and logical name): what changes in the monthly amount, added or removed."""
    old = {line.key: line.monthly for line in before.lines}
    new = {line.key: line.monthly for line in after.lines}
    changes = [Change(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new))]
    return [c for c in changes if c.before is None or c.after is None or c.delta != 0]
