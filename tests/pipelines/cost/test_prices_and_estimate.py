"""Retail prices (documented response shape, paging, cache) and the estimate built on them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pipelines.cost.estimate import Estimate, compare, estimate, estimate_from_json, queries
from pipelines.cost.meters import HOURS_PER_MONTH, hours_per_unit
from pipelines.cost.prices import API_URL, PriceQuery, fetch, load_book, parse_page, resolve
from pipelines.cost.render import delta_lines, markdown, text_lines
from pipelines.cost.run import estimate_stacks
from pipelines.errors import MlopsError, UsageError
from tests.pipelines.cost.retail_prices import ITEMS, answer, page, write_prices_file
from tests.pipelines.declared_stacks import declared

NOW = datetime(2030, 1, 2, tzinfo=UTC)


def test_a_query_is_an_odata_eq_filter_with_quotes_escaped() -> None:
    query = PriceQuery(
        "Virtual Machines", "westeurope", (("armSkuName", "Standard_D4s_v5"), ("skuName", "it's"))
    )
    assert query.odata() == (
        "serviceName eq 'Virtual Machines' and armRegionName eq 'westeurope' and "
        "armSkuName eq 'Standard_D4s_v5' and skuName eq 'it''s'"
    )


def test_a_page_in_the_documented_shape_parses_and_names_the_next_page() -> None:
    items, link = parse_page(page(ITEMS[:2], next_link=f"{API_URL}?$skip=100"))
    assert [i.retail_price for i in items] == [0.20, 0.40]
    assert items[1].product_name == "Virtual Machines Ddsv5 Series Windows"
    assert link == f"{API_URL}?$skip=100"
    assert parse_page(page([]))[1] is None
    with pytest.raises(MlopsError, match="unexpected Retail Prices answer"):
        parse_page({"Items": [{"meterName": "no price"}]})


def test_fetch_sends_the_filter_and_follows_next_page_link() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if "$skip" in str(request.url):
            return httpx.Response(200, json=page(ITEMS[1:2]))
        return httpx.Response(200, json=page(ITEMS[:1], next_link=f"{API_URL}?$filter=x&$skip=100"))

    query = PriceQuery("Virtual Machines", "westeurope", (("armSkuName", "Standard_D4s_v5"),))
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        items = fetch(query, client, currency="EUR")
    assert len(items) == 2
    assert seen[0].params["$filter"] == query.odata()
    assert seen[0].params["currencyCode"] == "EUR"
    assert seen[1].params["$skip"] == "100"


def test_an_api_error_names_the_offline_way_out() -> None:
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503))) as client:
        with pytest.raises(MlopsError, match="--prices-file"):
            fetch(PriceQuery("Storage", "westeurope"), client)


def test_the_cache_is_reused_while_fresh_and_refetched_when_stale(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params["$filter"])
        return httpx.Response(200, json=page(answer(query)))

    query = PriceQuery("Key Vault", "westeurope", (("skuName", "Standard"), ("priceType", "Consumption")))
    cache = tmp_path / "prices.json"
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        book = resolve([query], currency="USD", cache=cache, offline=False, client=client, now=NOW)
        assert book.fetched_at([query]) == NOW and len(calls) == 1
        resolve(
            [query], currency="USD", cache=cache, offline=False, client=client, now=NOW + timedelta(days=6)
        )
        assert len(calls) == 1  # fresh: from the file
        resolve(
            [query], currency="USD", cache=cache, offline=False, client=client, now=NOW + timedelta(days=8)
        )
        assert len(calls) == 2  # stale: fetched again
    saved = json.loads(cache.read_text())
    assert saved["queries"][query.odata()]["fetched_at"] == "2030-01-10T00:00:00Z"
    reloaded = load_book(cache)
    assert reloaded is not None and reloaded.prices(query)[0].meter_name == "Operations"  # type: ignore[index]


def test_offline_a_missing_query_or_file_is_a_usage_error(tmp_path: Path) -> None:
    query = PriceQuery("Storage", "westeurope")
    with pytest.raises(UsageError, match="run mlops infra cost once online"):
        resolve([query], currency="USD", cache=tmp_path / "none.json", offline=True, client=None, now=NOW)
    path = write_prices_file(tmp_path / "p.json", declared("dev"))
    with pytest.raises(UsageError, match="has no prices for serviceName eq 'Storage'"):
        resolve([query], currency="USD", cache=path, offline=True, client=None, now=NOW)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UsageError, match="not a prices file"):
        load_book(tmp_path / "bad.json")


@pytest.mark.parametrize(
    ("unit", "hours"),
    [
        ("1 Hour", 1.0),
        ("100 Hours", 100.0),
        ("1 Second", 1 / 3600),
        ("1/Day", 24.0),
        ("1 GB/Month", 730.0),
        ("10K", None),
    ],
)
def test_hours_per_unit(unit: str, hours: float | None) -> None:
    assert hours_per_unit(unit) == hours


def _estimate(stack: str, tmp_path: Path) -> Estimate:
    prices = write_prices_file(tmp_path / f"{stack}.json", declared(stack))
    [result] = estimate_stacks([declared(stack)], prices_file=prices)
    return result


def _line(result: Estimate, resource: str) -> object:
    [line] = [line for line in result.lines if line.resource == resource]
    return line


def test_prod_prices_the_aks_nodes_at_their_minimum_and_the_tier(tmp_path: Path) -> None:
    result = _estimate("prod", tmp_path)
    aks = _line(result, "serving-aks")
    # 3 Linux D4ds v5 nodes (not the Windows or Spot meter) + Standard tier, 730 h
    assert aks.monthly == pytest.approx(round(3 * 0.20 * HOURS_PER_MONTH + 0.10 * HOURS_PER_MONTH, 2))  # type: ignore[attr-defined]
    assert "scales to 5 nodes" in aks.note  # type: ignore[attr-defined]
    registry = _line(result, "core-cr")
    # Premium: prod's registry takes a private endpoint (network.isolation: managed)
    assert registry.monthly == pytest.approx(round(1.70 * HOURS_PER_MONTH / 24, 2))  # type: ignore[attr-defined]
    assert result.total == pytest.approx(round(sum(line.monthly for line in result.lines), 2))


def test_prod_private_network_prices_endpoints_and_zones_and_the_rest_is_free(tmp_path: Path) -> None:
    result = _estimate("prod", tmp_path)
    endpoint = _line(result, "network-pe-blob")
    # the hourly Private Link meter (not the public IP meter of the same service), 730 h
    assert endpoint.monthly == pytest.approx(round(0.01 * HOURS_PER_MONTH, 2))  # type: ignore[attr-defined]
    assert endpoint.per_use == ("data processed: 0.01 USD per GB",)  # type: ignore[attr-defined]
    zone = _line(result, "network-dns-blob")
    assert zone.monthly == pytest.approx(0.50)  # type: ignore[attr-defined] (the first tier, not the Public Zone)
    assert _line(result, "network-vnet").status == "free"  # type: ignore[attr-defined]
    assert _line(result, "network-pe-blob-dns").status == "free"  # type: ignore[attr-defined]
    assert _line(result, "core-st").per_use == ("hot GRS blob data: 0.04 USD per GB-month",)  # type: ignore[attr-defined]
    assert not [line.resource for line in result.lines if line.status == "unpriced"]


def test_dev_cluster_at_min_zero_nodes_costs_per_use(tmp_path: Path) -> None:
    result = _estimate("dev", tmp_path)
    cluster = _line(result, "training-cluster")
    assert cluster.monthly == 0 and cluster.status == "per-use"  # type: ignore[attr-defined]
    # low priority in Pulumi.dev.yaml: the Low Priority meter's rate, per node-hour
    assert cluster.per_use == ("0-2x low-priority Standard_DS3_v2: 0.06 USD per node-hour",)  # type: ignore[attr-defined]
    assert "min 0 nodes: costs per use" in cluster.note  # type: ignore[attr-defined]
    logs = _line(result, "core-log")
    assert logs.per_use == ("data ingested: 2.5 USD per GB",)  # type: ignore[attr-defined] (the free tier skipped)
    assert _line(result, "core-mlw").status == "free"  # type: ignore[attr-defined]


def test_qa_container_group_bills_cpu_and_memory_all_month(tmp_path: Path) -> None:
    result = _estimate("qa", tmp_path)
    aci = _line(result, "scoring-aci")
    # the scoring container (1 CPU, 1.5 GB) and the TLS sidecar (0.5 CPU, 0.5 GB)
    cpu, memory_gb = 1 + 0.5, 1.5 + 0.5
    assert aci.monthly == pytest.approx(round((cpu * 0.04 + memory_gb * 0.004) * HOURS_PER_MONTH, 2))  # type: ignore[attr-defined]


def test_a_type_without_a_rule_is_not_priced_never_free(tmp_path: Path) -> None:
    from dataclasses import replace

    from pipelines.declared import DeclaredResource

    stack = declared("dev")
    odd = DeclaredResource("azure-native:network:PublicIPAddress", "ip", "pip", {})
    result = estimate(
        replace(stack, resources=(*stack.resources, odd)),
        load_book(write_prices_file(tmp_path / "p.json", stack)),
    )  # type: ignore[arg-type]
    line = _line(result, "ip")
    assert line.status == "unpriced" and "no price rule" in line.note  # type: ignore[attr-defined]
    assert "not priced" in "\n".join(text_lines(result))


def test_qa_to_prod_delta_and_the_pr_comment_block(tmp_path: Path) -> None:
    prices = write_prices_file(tmp_path / "p.json", declared("qa"), declared("prod"))
    qa, prod = estimate_stacks([declared("qa"), declared("prod")], prices_file=prices)
    changes = {c.key: c for c in compare(qa, prod)}
    assert changes["azure-native:containerservice:ManagedCluster serving-aks"].before is None
    assert changes["azure-native:containerinstance:ContainerGroup scoring-aci"].after is None
    text = "\n".join(delta_lines(qa, prod))
    assert f"({'+' if prod.total >= qa.total else '-'}" in text
    block = markdown(prod, qa)
    assert block.startswith("<!-- azure-mlops:cost:prod -->")
    assert "against the base branch" in block and "| new |" in block and "| removed |" in block
    assert estimate_from_json(prod.to_json()) == prod
    assert queries(declared("prod"))  # the stack needs prices at all
