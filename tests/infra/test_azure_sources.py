"""Every Azure-facing setting the code sends has a row, with its Microsoft source, in docs/azure.md.

The section "Sources: every Azure-facing setting and where it comes from" is the record of why
each value is what it is. These tests hold the code to it: a new extension key, role, pin or base
image without a source fails here, and so does a row whose value no longer matches the code.
"""

from __future__ import annotations

import re

import pytest
import yaml

from infra.components import roles
from infra.config import PROJECT_ROOT
from infra.offline import OfflineRun, run_stack

ROOT = PROJECT_ROOT
EXTENSION = "azure-native:kubernetesconfiguration:Extension"


def _sources_section() -> str:
    text = (ROOT / "docs" / "azure.md").read_text()
    start = text.index("## Sources: every Azure-facing setting")
    end = text.index("\n## ", start + 1)
    return text[start:end]


SOURCES = _sources_section()
CODE_SPANS = set(re.findall(r"`([^`]+)`", SOURCES))


def _rows() -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in SOURCES.splitlines()
        if line.startswith("| ") and not line.startswith("| ---")
    ]


def test_every_row_names_a_source() -> None:
    rows = [row for row in _rows() if row[0] not in ("setting", "role")]
    assert len(rows) > 40
    empty = [row[0] for row in rows if len(row) < 3 or not row[-1]]
    assert not empty, f"rows without a source: {empty}"


@pytest.fixture(scope="module")
def prod() -> OfflineRun:
    return run_stack("prod")


def test_every_extension_key_prod_sends_has_a_source(prod: OfflineRun) -> None:
    inputs = prod.one(EXTENSION).plain_inputs
    keys = set(inputs["configurationSettings"]) | set(inputs.get("configurationProtectedSettings") or {})
    assert {"clusterId", "scoringFe.sslCert"} <= keys  # the table is checked against what is sent
    assert not keys - CODE_SPANS, f"extension settings without a row: {sorted(keys - CODE_SPANS)}"


def test_every_role_the_program_assigns_has_its_row_and_id() -> None:
    ids = {v for k, v in vars(roles).items() if k.isupper() and re.fullmatch(r"[0-9a-f-]{36}", str(v))}
    assert len(ids) >= 9
    assert not ids - CODE_SPANS, f"role ids without a row: {sorted(ids - CODE_SPANS)}"


def _pins() -> dict[str, str]:
    conda = yaml.safe_load((ROOT / "environments" / "train-conda.yaml").read_text())
    [pip] = [d["pip"] for d in conda["dependencies"] if isinstance(d, dict)]
    return dict(line.split("==", 1) for line in pip)


def test_every_training_pin_has_a_row_with_its_version() -> None:
    pins = _pins()
    assert "azureml-mlflow" in pins
    rows = {row[0]: row[1] for row in _rows()}
    missing = []
    for name, version in pins.items():
        row = next((v for k, v in rows.items() if f"`{name}`" in k), None)
        if row is None or f"`{version}`" not in row:
            missing.append(f"{name}=={version}")
    assert not missing, f"pins without a row naming their version: {missing}"


def test_the_base_image_has_its_row() -> None:
    specs = [yaml.safe_load(path.read_text()) for path in (ROOT / "components").glob("*.yml")]
    images = {spec["environment"]["image"] for spec in specs if "environment" in spec}
    assert len(images) == 1
    assert images <= CODE_SPANS


def test_the_qa_tls_sidecar_image_has_its_row() -> None:
    from infra.config import TLS_PROXY_IMAGE

    assert TLS_PROXY_IMAGE in CODE_SPANS
