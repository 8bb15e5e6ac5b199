"""Read a stack's outputs into the typed :class:`~pipelines.stack_outputs.StackOutputs`.

Two sources, in this order:

1. a JSON file, when ``MLOPS_STACK_OUTPUTS_DIR`` is set: ``<dir>/<stack>.json`` holding what
   ``pulumi stack output --json --show-secrets`` prints (a CI artifact, or a laptop without the
   Pulumi CLI);
2. the Pulumi CLI: ``pulumi stack output --json --show-secrets --stack <stack>``, run in the
   project folder (where ``Pulumi.yaml`` is).

The stack of an environment is the environment's name, or ``MLOPS_STACK_<ENV>`` (for example
``MLOPS_STACK_DEV=dev-pr-42`` trains on a short-lived stack). Secret outputs stay
``SecretStr``; nothing here prints an output's value.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipelines.azure.errors import AzurePathError
from pipelines.paths import REPO_ROOT
from pipelines.stack_outputs import StackOutputs

PROJECT_DIR = REPO_ROOT
OUTPUTS_DIR_ENV = "MLOPS_STACK_OUTPUTS_DIR"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class StackOutputsError(AzurePathError):
    """The stack, or one of the outputs the command needs, is missing."""


def stack_name(env: str) -> str:
    """The Pulumi stack of an environment: ``MLOPS_STACK_<ENV>`` or the environment's name."""
    return os.environ.get(f"MLOPS_STACK_{env.upper()}", "").strip() or env


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


def read_raw(stack: str, *, runner: Runner | None = None) -> dict[str, Any]:
    """The stack's outputs as a plain mapping (secrets in clear: keep it in memory only)."""
    folder = os.environ.get(OUTPUTS_DIR_ENV, "").strip()
    if folder:
        path = Path(folder) / f"{stack}.json"
        if not path.is_file():
            raise StackOutputsError(f"stack {stack} has no outputs file {path} ({OUTPUTS_DIR_ENV} is set)")
        try:
            data = json.loads(path.read_text())
        except ValueError as error:
            raise StackOutputsError(f"{path} is not JSON: {error}") from None
    else:
        if runner is None:
            if shutil.which("pulumi") is None:
                raise StackOutputsError(
                    f"cannot read stack {stack}: the Pulumi CLI is not on PATH "
                    f"(install it, or set {OUTPUTS_DIR_ENV} to a folder with {stack}.json)"
                )
            runner = _run
        done = runner(["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack])
        if done.returncode != 0:
            detail = (done.stderr or "").strip().splitlines()
            reason = detail[-1] if detail else f"exit {done.returncode}"
            if "no stack named" in (done.stderr or "").lower() or "not found" in reason.lower():
                raise StackOutputsError(f"stack {stack} does not exist ({reason})")
            raise StackOutputsError(f"cannot read the outputs of stack {stack}: {reason}")
        try:
            data = json.loads(done.stdout or "{}")
        except ValueError as error:
            raise StackOutputsError(
                f"`pulumi stack output` for {stack} did not print JSON: {error}"
            ) from None
    if not isinstance(data, dict):
        raise StackOutputsError(f"the outputs of stack {stack} are not a JSON object")
    if not data:
        raise StackOutputsError(f"stack {stack} has no outputs: run `pulumi up --stack {stack}` first")
    return data


def parse(stack: str, data: dict[str, Any]) -> StackOutputs:
    """Validate raw outputs; a missing or malformed output is named with its Pulumi export name."""
    known = StackOutputs.export_names()
    try:
        return StackOutputs.model_validate({k: v for k, v in data.items() if k in known})
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "?"
        if first["type"] == "missing":
            raise StackOutputsError(f"stack {stack} has no output '{name}'") from None
        raise StackOutputsError(f"stack {stack}: output '{name}': {first['msg']}") from None


def read_outputs(env_or_stack: str, *, runner: Runner | None = None) -> StackOutputs:
    """The typed outputs of an environment's stack."""
    stack = stack_name(env_or_stack)
    return parse(stack, read_raw(stack, runner=runner))


def require(outputs: StackOutputs, field: str) -> str:
    """An optional output this command needs, or one line naming it (by its export name)."""
    value = getattr(outputs, field)
    if value is None or value == "":
        raise StackOutputsError(f"stack {outputs.stack} has no output '{StackOutputs.export_name(field)}'")
    return str(value)
