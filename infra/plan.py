"""Offline plan and diff: what a stack would contain, from the mock run, secrets redacted.

For a reviewer without cloud credentials: ``mlops infra plan --env prod`` lists every resource
the program declares for a stack (with ``--details``, their inputs); ``mlops infra diff --from qa
--to prod`` shows what differs between two stacks' declarations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infra.offline import NAME_INPUTS, CapturedResource, OfflineRun


def _azure_name(resource: CapturedResource) -> str:
    key = NAME_INPUTS.get(resource.type)
    value = resource.redacted_inputs.get(key) if key else None
    return "" if value is None else str(value)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}`` (for diffs)."""
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):
        if not value and prefix:
            out[prefix] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        if not value and prefix:
            out[prefix] = []
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def _sorted(run: OfflineRun) -> list[CapturedResource]:
    # Components first, then their children, both by logical name: a stable reading order.
    return sorted(run.resources, key=lambda r: (r.custom, r.name))


def plan_lines(run: OfflineRun, *, details: bool = False) -> list[str]:
    """A human-readable listing of the stack's resources and outputs."""
    components = [r for r in run.resources if not r.custom]
    custom = run.custom_resources
    lines = [
        f"stack {run.stack}: {len(custom)} resources in {len(components)} components",
    ]
    if run.stand_ins:
        lines.append(
            "offline stand-ins (not in the stack file; a real run needs them): " + ", ".join(run.stand_ins)
        )
    for resource in _sorted(run):
        indent = "  " if not resource.custom else "    "
        name = _azure_name(resource)
        lines.append(f"{indent}+ {resource.type}  {resource.name}" + (f"  ({name})" if name else ""))
        if details and resource.custom:
            for key, value in flatten(resource.redacted_inputs).items():
                lines.append(f"{indent}      {key} = {json.dumps(value)}")
    lines.append("outputs:")
    for key in sorted(run.outputs):
        output = run.outputs[key]
        shown = "[secret]" if output.secret else json.dumps(output.value)
        lines.append(f"  {key} = {shown}")
    return lines


def diff_lines(before: OfflineRun, after: OfflineRun) -> list[str]:
    """What changes from ``before``'s declarations to ``after``'s (by type and logical name)."""
    old = {(r.type, r.name): r for r in before.resources}
    new = {(r.type, r.name): r for r in after.resources}
    lines = [f"diff {before.stack} -> {after.stack}"]
    counts = {"+": 0, "-": 0, "~": 0}
    for key in sorted(set(old) | set(new), key=lambda k: (k[1], k[0])):
        type_, name = key
        if key not in old:
            counts["+"] += 1
            lines.append(f"  + {type_}  {name}")
        elif key not in new:
            counts["-"] += 1
            lines.append(f"  - {type_}  {name}")
        else:
            a = flatten(old[key].redacted_inputs)
            b = flatten(new[key].redacted_inputs)
            changed = [p for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]
            if changed:
                counts["~"] += 1
                lines.append(f"  ~ {type_}  {name}")
                for path in changed:
                    lines.append(f"      {path}: {json.dumps(a.get(path))} -> {json.dumps(b.get(path))}")
    old_out, new_out = set(before.outputs), set(after.outputs)
    lines.extend(f"  + output {name}" for name in sorted(new_out - old_out))
    lines.extend(f"  - output {name}" for name in sorted(old_out - new_out))
    lines.append(f"{counts['+']} to add, {counts['~']} to change, {counts['-']} to remove")
    return lines
