"""Retail Prices API answers in the documented shape, and a prices file built from them.

Item fields as in Learn's "Azure Retail Prices REST API overview" sample responses
(currencyCode, tierMinimumUnits, retailPrice, unitPrice, armRegionName, location,
effectiveStartDate, meterId, meterName, productId, skuId, productName, skuName, serviceName,
serviceId, serviceFamily, unitOfMeasure, type, isPrimaryMeterRegion, armSkuName); the page
carries ``Items`` and ``NextPageLink``. The prices are made up, round numbers for the arithmetic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.cost.estimate import queries
from pipelines.cost.prices import PriceQuery
from pipelines.declared import DeclaredStack


def item(
    service: str,
    meter: str,
    price: float,
    unit: str,
    *,
    sku: str = "",
    arm_sku: str = "",
    product: str = "",
    tier: float = 0.0,
    type_: str = "Consumption",
    region: str = "westeurope",
) -> dict[str, Any]:
    return {
        "currencyCode": "USD",
        "tierMinimumUnits": tier,
        "retailPrice": price,
        "unitPrice": price,
        "armRegionName": region,
        "location": "EU West",
        "effectiveStartDate": "2024-01-01T00:00:00Z",
        "meterId": f"meter-{meter}-{sku}".replace(" ", "-").lower(),
        "meterName": meter,
        "productId": "DZH318Z0BQPS",
        "skuId": "DZH318Z0BQPS/00TG",
        "productName": product or service,
        "skuName": sku,
        "serviceName": service,
        "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute",
        "unitOfMeasure": unit,
        "type": type_,
        "isPrimaryMeterRegion": True,
        "armSkuName": arm_sku,
    }


ITEMS = [
    # Virtual machines: Linux, Windows, Spot and Low Priority meters of the same size
    item(
        "Virtual Machines",
        "D4ds v5",
        0.20,
        "1 Hour",
        sku="D4ds v5",
        arm_sku="Standard_D4ds_v5",
        product="Virtual Machines Ddsv5 Series",
    ),
    item(
        "Virtual Machines",
        "D4ds v5",
        0.40,
        "1 Hour",
        sku="D4ds v5",
        arm_sku="Standard_D4ds_v5",
        product="Virtual Machines Ddsv5 Series Windows",
    ),
    item(
        "Virtual Machines",
        "D4ds v5 Spot",
        0.02,
        "1 Hour",
        sku="D4ds v5 Spot",
        arm_sku="Standard_D4ds_v5",
        product="Virtual Machines Ddsv5 Series",
    ),
    item(
        "Virtual Machines",
        "DS3 v2",
        0.30,
        "1 Hour",
        sku="DS3 v2",
        arm_sku="Standard_DS3_v2",
        product="Virtual Machines DSv2 Series",
    ),
    item(
        "Virtual Machines",
        "DS3 v2 Low Priority",
        0.06,
        "1 Hour",
        sku="DS3 v2 Low Priority",
        arm_sku="Standard_DS3_v2",
        product="Virtual Machines DSv2 Series",
    ),
    item(
        "Virtual Machines",
        "DS3 v2",
        2000.0,
        "1 Hour",
        sku="DS3 v2",
        arm_sku="Standard_DS3_v2",
        product="Virtual Machines DSv2 Series",
        type_="Reservation",
    ),
    item("Azure Kubernetes Service", "Standard Uptime SLA", 0.10, "1 Hour", sku="Standard"),
    item("Container Registry", "Basic Registry Unit", 0.10, "1/Day", sku="Basic"),
    item("Container Registry", "Standard Registry Unit", 0.50, "1/Day", sku="Standard"),
    item("Container Registry", "Premium Registry Unit", 1.70, "1/Day", sku="Premium"),
    item("Container Instances", "Standard vCPU Duration", 0.04, "1 Hour", sku="Standard"),
    item("Container Instances", "Standard Memory Duration", 0.004, "1 Hour", sku="Standard"),
    item(
        "Storage", "Hot LRS Data Stored", 0.02, "1 GB/Month", sku="Hot LRS", product="General Block Blob v2"
    ),
    item(
        "Storage", "Hot GRS Data Stored", 0.04, "1 GB/Month", sku="Hot GRS", product="General Block Blob v2"
    ),
    item("Key Vault", "Operations", 0.03, "10K", sku="Standard"),
    # Private Link: global meters of the Virtual Network service
    item(
        "Virtual Network",
        "Standard Private Endpoint",
        0.01,
        "1 Hour",
        sku="Standard",
        product="Virtual Network Private Link",
        region="Global",
    ),
    item(
        "Virtual Network",
        "Standard Data Processed - Ingress",
        0.01,
        "1 GB",
        sku="Standard",
        product="Virtual Network Private Link",
        region="Global",
    ),
    item("Virtual Network", "Standard IPv4 Static Public IP", 0.005, "1 Hour", product="IP Addresses"),
    # Azure DNS: zones priced per DNS zone ("Zone 1"), two tiers of zones
    item("Azure DNS", "Private Zone", 0.50, "1/Month", sku="Private", region="Zone 1"),
    item("Azure DNS", "Private Zone", 0.10, "1/Month", sku="Private", region="Zone 1", tier=25.0),
    item("Azure DNS", "Public Zone", 0.50, "1/Month", sku="Public", region="Zone 1"),
    item("Log Analytics", "Analytics Logs Data Ingestion", 0.0, "1 GB", sku="Analytics Logs"),
    item("Log Analytics", "Analytics Logs Data Ingestion", 2.50, "1 GB", sku="Analytics Logs", tier=5.0),
]

_FIELDS = {"priceType": "type"}


def answer(query: PriceQuery, items: list[dict[str, Any]] = ITEMS) -> list[dict[str, Any]]:
    """What the API's ``eq`` filter keeps of ``items`` for ``query``."""
    wanted = [("serviceName", query.service_name), ("armRegionName", query.region), *query.conditions]
    return [i for i in items if all(i.get(_FIELDS.get(f, f)) == v for f, v in wanted)]


def page(items: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    return {
        "BillingCurrency": "USD",
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": items,
        "NextPageLink": next_link,
        "Count": len(items),
    }


def write_prices_file(path: Path, *stacks: DeclaredStack, fetched_at: str = "2030-01-01T00:00:00Z") -> Path:
    """A prices file (the cache's format) answering every query the stacks need."""
    entries = {}
    for stack in stacks:
        for query in queries(stack):
            entries[query.odata()] = {"fetched_at": fetched_at, **page(answer(query))}
    path.write_text(json.dumps({"currency": "USD", "queries": entries}), encoding="utf-8")
    return path
