"""An estimate as text (the terminal) and as a Markdown block (the pull-request comment)."""

from __future__ import annotations

from pipelines.cost.estimate import Change, Estimate, compare, money

MARKER = "<!-- azure-mlops:cost:{stack} -->"


def _amount(line_monthly: float, status: str, currency: str) -> str:
    if status == "free":
        return "free"
    if status == "unpriced":
        return "not priced"
    if status == "per-use" and not line_monthly:
        return "per use"
    return money(line_monthly, currency)


def _signed(amount: float, currency: str) -> str:
    return ("+" if amount >= 0 else "-") + money(abs(amount), currency)


def text_lines(estimate: Estimate) -> list[str]:
    """One line per resource, then the total and where the prices come from."""
    lines = [f"stack {estimate.stack} ({estimate.location}), monthly estimate:"]
    for line in estimate.lines:
        lines.append(
            f"  {_amount(line.monthly, line.status, estimate.currency):>18}  "
            f"{line.type.split(':')[-1]} {line.resource}"
        )
        lines.extend(f"  {'':>18}    per use: {rate}" for rate in line.per_use)
        if line.note:
            lines.append(f"  {'':>18}    {line.note}")
    lines.append(f"  total: {money(estimate.total, estimate.currency)} a month, plus per-use charges")
    lines.append(f"  prices: Azure Retail Prices API, fetched {estimate.prices_fetched_at or '-'}")
    return lines


def delta_lines(before: Estimate, after: Estimate) -> list[str]:
    """What the monthly estimate gains or loses from ``before`` to ``after``, per resource."""
    lines = [f"cost {before.stack} -> {after.stack}:"]
    for change in compare(before, after):
        sign = "+" if change.before is None else "-" if change.after is None else "~"
        lines.append(f"  {sign} {_signed(change.delta, after.currency):>18}  {change.key}")
    delta = round(after.total - before.total, 2)
    lines.append(
        f"  total: {money(before.total, before.currency)} -> {money(after.total, after.currency)} "
        f"({_signed(delta, after.currency)} a month)"
    )
    return lines


def markdown(estimate: Estimate, baseline: Estimate | None, *, baseline_note: str = "") -> str:
    """The PR comment block: total and delta, then a table per resource (with the changes)."""
    currency = estimate.currency
    head = f"#### Monthly cost: {estimate.stack} ({estimate.location})"
    if baseline is not None:
        delta = round(estimate.total - baseline.total, 2)
        summary = (
            f"**{money(estimate.total, currency)} a month** ({_signed(delta, currency)} against the base "
            f"branch's {money(baseline.total, baseline.currency)}), plus per-use charges."
        )
        changed: dict[str, Change] = {c.key: c for c in compare(baseline, estimate)}
    else:
        summary = (
            f"**{money(estimate.total, currency)} a month**, plus per-use charges. {baseline_note}".rstrip()
        )
        changed = {}
    rows = ["| resource | monthly | change | per use / note |", "| --- | ---: | ---: | --- |"]
    for line in estimate.lines:
        change = changed.get(line.key)
        delta_cell = (
            "new" if change and change.before is None else _signed(change.delta, currency) if change else ""
        )
        notes = "; ".join([*line.per_use, line.note] if line.note else line.per_use).replace("|", "/")
        rows.append(
            f"| {line.type.split(':')[-1]} `{line.resource}` "
            f"| {_amount(line.monthly, line.status, currency)} "
            f"| {delta_cell} | {notes} |"
        )
    for change in changed.values():
        if change.after is None:
            type_, _, name = change.key.partition(" ")
            kind = type_.split(":")[-1]
            rows.append(f"| {kind} `{name}` | removed | {_signed(change.delta, currency)} | |")
    footer = (
        f"Prices: Azure Retail Prices API (retail, pay-as-you-go, {currency}), fetched "
        f"{estimate.prices_fetched_at or '-'}; `mlops infra cost --env {estimate.stack}`."
    )
    return "\n".join([MARKER.format(stack=estimate.stack), head, "", summary, "", *rows, "", footer, ""])
