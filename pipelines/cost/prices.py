"""The Azure Retail Prices API: public, unauthenticated, OData ``$filter``, 100 items a page.

Learn, "Azure Retail Prices REST API overview"
(https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices):
``GET https://prices.azure.com/api/retail/prices?$filter=serviceName eq 'Virtual Machines' and
...``; the body holds ``Items`` (each with ``retailPrice``, ``unitOfMeasure``, ``meterName``,
``productName``, ``skuName``, ``armSkuName``, ``armRegionName``, ``type``, ``currencyCode``, ...)
and ``NextPageLink`` to the next page ("a maximum of 100 records are returned"); a currency other
than USD is asked with ``currencyCode='EUR'``.

Answers are kept in a cache file with the time they were fetched (one entry per filter); a
prices file (``--prices-file``) is the same format, read without the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.errors import MlopsError, UsageError
from pipelines.paths import REPO_ROOT

API_URL = "https://prices.azure.com/api/retail/prices"
DEFAULT_CACHE = REPO_ROOT / ".state" / "retail-prices.json"
CACHE_MAX_AGE = timedelta(days=7)
MAX_PAGES = 20  # a well-filtered query is one page; stop a runaway filter
TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"


class PriceItem(BaseModel):
    """One price of the API (the fields an estimate reads; the API sends more)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    currency_code: str = Field("USD", alias="currencyCode")
    retail_price: float = Field(alias="retailPrice")
    unit_of_measure: str = Field(alias="unitOfMeasure")
    arm_region_name: str = Field("", alias="armRegionName")
    meter_name: str = Field("", alias="meterName")
    product_name: str = Field("", alias="productName")
    sku_name: str = Field("", alias="skuName")
    arm_sku_name: str = Field("", alias="armSkuName")
    service_name: str = Field("", alias="serviceName")
    type: str = "Consumption"
    tier_minimum_units: float = Field(0.0, alias="tierMinimumUnits")
    is_primary_meter_region: bool = Field(True, alias="isPrimaryMeterRegion")


@dataclass(frozen=True)
class PriceQuery:
    """Prices of one service in one region, narrowed by ``eq`` conditions (OData ``$filter``)."""

    service_name: str
    region: str
    conditions: tuple[tuple[str, str], ...] = ()

    def odata(self) -> str:
        def quote(value: str) -> str:
            return "'" + value.replace("'", "''") + "'"

        terms = [("serviceName", self.service_name), ("armRegionName", self.region), *self.conditions]
        return " and ".join(f"{field} eq {quote(value)}" for field, value in terms)


def parse_page(body: Mapping[str, Any]) -> tuple[list[PriceItem], str | None]:
    """The items of one response body and the link to the next page (None on the last)."""
    try:
        items = [PriceItem.model_validate(item) for item in body.get("Items") or []]
    except ValidationError as error:
        raise MlopsError(f"unexpected Retail Prices answer: {error.errors()[0]['msg']}") from None
    link = body.get("NextPageLink")
    return items, link if isinstance(link, str) and link else None


def fetch(query: PriceQuery, client: httpx.Client, currency: str = "USD") -> list[PriceItem]:
    """Every item the API returns for ``query``, following ``NextPageLink``."""
    params: dict[str, str] | None = {"$filter": query.odata(), "currencyCode": currency}
    url = API_URL
    items: list[PriceItem] = []
    for _ in range(MAX_PAGES):
        try:
            response = client.get(url, params=params)
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise MlopsError(
                f"Azure Retail Prices API: {error} (use --prices-file to work offline)"
            ) from None
        page, link = parse_page(response.json())
        items.extend(page)
        if link is None:
            return items
        url, params = link, None  # the link carries the filter and $skip
    raise MlopsError(f"Azure Retail Prices API: more than {MAX_PAGES} pages for {query.odata()}")


@dataclass
class PriceBook:
    """Price items by query filter, with when each answer was fetched."""

    currency: str
    entries: dict[str, tuple[datetime, list[PriceItem]]]

    def prices(self, query: PriceQuery) -> list[PriceItem] | None:
        entry = self.entries.get(query.odata())
        return entry[1] if entry else None

    def fetched_at(self, queries: Iterable[PriceQuery]) -> datetime | None:
        """The oldest fetch time among ``queries`` (the estimate is as old as its oldest price)."""
        times = [self.entries[q.odata()][0] for q in queries if q.odata() in self.entries]
        return min(times) if times else None

    def to_json(self) -> str:
        return json.dumps(
            {
                "currency": self.currency,
                "queries": {
                    key: {
                        "fetched_at": when.strftime(TIMESTAMP),
                        "Items": [item.model_dump(by_alias=True) for item in items],
                    }
                    for key, (when, items) in sorted(self.entries.items())
                },
            },
            indent=1,
        )


def load_book(path: Path) -> PriceBook | None:
    """A cache or prices file; None when there is none. A broken file is a usage error."""
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = {
            key: (
                datetime.strptime(value["fetched_at"], TIMESTAMP).replace(tzinfo=UTC),
                parse_page(value)[0],
            )
            for key, value in document["queries"].items()
        }
        return PriceBook(str(document["currency"]), entries)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{path}: not a prices file written by mlops infra cost ({error})") from None


def resolve(
    queries: Iterable[PriceQuery],
    *,
    currency: str,
    cache: Path,
    offline: bool,
    client: httpx.Client | None,
    now: datetime,
) -> PriceBook:
    """Prices for every query: from the file when there and fresh (always, offline), else the API.

    Online, answers older than :data:`CACHE_MAX_AGE` are fetched again, and the file is
    rewritten. Offline, a query missing from the file is a usage error naming it.
    """
    book = load_book(cache)
    if book is None or book.currency != currency:
        if offline:
            raise UsageError(
                f"{cache}: no prices in {currency}; run mlops infra cost once online to write it"
            )
        book = PriceBook(currency, {})
    changed = False
    for query in queries:
        entry = book.entries.get(query.odata())
        if entry is not None and (offline or now - entry[0] <= CACHE_MAX_AGE):
            continue
        if offline:
            raise UsageError(f"{cache} has no prices for {query.odata()}: run once online to add them")
        assert client is not None
        book.entries[query.odata()] = (now, fetch(query, client, currency))
        changed = True
    if changed:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(book.to_json(), encoding="utf-8")
    return book
