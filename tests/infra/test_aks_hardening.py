"""AKS node and API server hardening: what prod declares, and the settings' checks."""

from __future__ import annotations

import pytest

from infra.config import LOCAL_DISK_GIB, ConfigError
from infra.offline import OfflineRun, run_stack

CLUSTER = "azure-native:containerservice:ManagedCluster"


def test_prod_nodes_encrypt_at_host_on_an_ephemeral_os_disk_that_fits(runs: dict[str, OfflineRun]) -> None:
    cluster = runs["prod"].one(CLUSTER).plain_inputs
    (pool,) = cluster["agentPoolProfiles"]
    assert pool["enableEncryptionAtHost"] is True
    assert (pool["osDiskType"], pool["osDiskSizeGB"], pool["vmSize"]) == (
        "Ephemeral",
        128,
        "Standard_D4ds_v5",
    )
    assert LOCAL_DISK_GIB[pool["vmSize"]] >= pool["osDiskSizeGB"]  # 150 GiB temp disk


def test_the_committed_prod_file_leaves_the_api_server_allow_list_to_the_operator(
    runs: dict[str, OfflineRun],
) -> None:
    assert "apiServerAccessProfile" not in runs["prod"].one(CLUSTER).plain_inputs


def test_authorized_ip_ranges_reach_the_cluster() -> None:
    run = run_stack(
        "prod",
        overrides={
            "azure-mlops:aks": _prod_aks(apiServerAuthorizedIpRanges=["203.0.113.0/24", "198.51.100.7"])
        },
    )
    profile = run.one(CLUSTER).plain_inputs["apiServerAccessProfile"]
    assert profile == {"authorizedIPRanges": ["203.0.113.0/24", "198.51.100.7"]}


def _prod_aks(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {"enabled": True, "sslCname": "scoring.example.com"}
    return {**base, **extra}


@pytest.mark.parametrize(
    ("aks", "expected"),
    [
        (
            {"vmSize": "Standard_D4s_v5"},
            ["osDiskType: Ephemeral needs a local disk", "Standard_D4s_v5 has no GiB", "Standard_D4ds_v5"],
        ),
        ({"vmSize": "Standard_D2ds_v5"}, ["Standard_D2ds_v5 has 75 GiB"]),
        ({"osDiskType": "Temporary"}, ["azure-mlops:aks.osDiskType", "'Ephemeral' or 'Managed'"]),
        (
            {"apiServerAuthorizedIpRanges": ["everyone"]},
            ["azure-mlops:aks.apiServerAuthorizedIpRanges", "(got 'everyone')"],
        ),
    ],
)
def test_bad_node_settings_name_the_key_and_the_allowed_values(
    aks: dict[str, object], expected: list[str]
) -> None:
    with pytest.raises(ConfigError) as err:
        run_stack("prod", overrides={"azure-mlops:aks": _prod_aks(**aks)})
    for fragment in expected:
        assert fragment in str(err.value)


def test_a_smaller_os_disk_or_a_managed_one_makes_a_small_size_work() -> None:
    for aks in (
        {"vmSize": "Standard_D2ds_v5", "osDiskSizeGb": 64},
        {"vmSize": "Standard_D4s_v5", "osDiskType": "Managed"},
    ):
        run = run_stack("prod", overrides={"azure-mlops:aks": _prod_aks(**aks)})
        (pool,) = run.one(CLUSTER).plain_inputs["agentPoolProfiles"]
        assert pool["vmSize"] == aks["vmSize"]
