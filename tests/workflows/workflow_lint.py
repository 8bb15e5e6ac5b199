"""Helpers for the workflow tests: load the CI files, find the linters."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from pipelines.paths import REPO_ROOT as ROOT

GITHUB_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
AZURE_PIPELINES = sorted((ROOT / ".azure-pipelines").glob("*.yml"))
AZURE_TEMPLATES = sorted((ROOT / ".azure-pipelines" / "templates").glob("*.yml"))


def mlops_contract(prefix: str, teardown_args: str) -> re.Pattern[str]:
    """The `mlops` command lines the workflows may run: the CLI contract, one list for both CI systems."""
    return re.compile(
        rf"^{prefix}mlops ("
        r"train --env dev --champion-from dev --summary-file \S+"
        r"|infra carry-serving --env qa"
        r"|preflight --env (dev|qa|prod|\"\$STACK\")"
        r"|infra cost --env \"\$STACK\" \"\$\{baseline\[@\]\}\" --markdown \S+"
        r"|image build --env qa --model \"\$MODEL\""
        r"|promote --from (dev --to qa|qa --to prod) --model \"\$MODEL\""
        r"|deploy --env (qa|prod) --model \"\$MODEL\""
        r"|smoke-test --env (qa|prod)"
        r"|rollback --env prod"
        r"|monitor --env prod --schedule"
        r"|stacks create-short-lived --name \"\$STACK\" --ttl \"\$TTL\""
        rf"|stacks teardown {teardown_args}"
        r")$"
    )


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) pair in a YAML tree, mappings and lists included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))


def find_tool(name: str) -> str | None:
    """A linter next to this interpreter (the project venv) or on PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    return shutil.which(name)


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
