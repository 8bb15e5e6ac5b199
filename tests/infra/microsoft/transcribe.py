"""Derive the record in ``aml_extension_template.json`` from Microsoft's ARM template.

Microsoft's template for the Azure ML extension on a managed cluster is
Azure/AML-Kubernetes:files/deployextension.json (MIT). The record keeps what the contract test
needs from it, as data: each configuration setting and where its value comes from (a parameter,
a parameter as "True"/"False", the last segment of the cluster id, a literal, or a comparison),
grouped the way the template unions them, with the parameter defaults and the resource's fixed
properties. Re-derive it from a checkout to confirm the record (no network needed here):

    git -C AML-Kubernetes show 5532b26ce9371db6bae216882ea78267a7930273:files/deployextension.json \\
        > /tmp/deployextension.json
    python -m tests.infra.microsoft.transcribe /tmp/deployextension.json --check

It understands exactly the expression forms that template uses and fails on any other, so a
changed template cannot be read wrongly.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

RECORD = Path(__file__).with_name("aml_extension_template.json")

_PARAMETER = re.compile(r"^\[parameters\('([^']+)'\)\]$")
_BOOL = re.compile(r"^\[default\.boolToString\(parameters\('([^']+)'\)\)\]$")
_LAST_SEGMENT = re.compile(r"^\[default\.getAksName\(parameters\('([^']+)'\)\)\]$")
_EQUALS = re.compile(r"^\[equals\(parameters\('([^']+)'\), '([^']*)'\)\]$")
_PAIR = re.compile(r"'([^']+)', (parameters|variables)\('([^']+)'\)")
_BRANCH = re.compile(r"if\(variables\('([^']+)'\), createObject\('([^']+)'.*, createObject\('([^']+)'")


def _rule(value: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Where one setting's value comes from."""
    for pattern, kind in (
        (_PARAMETER, "parameter"),
        (_BOOL, "boolParameter"),
        (_LAST_SEGMENT, "lastSegmentOf"),
    ):
        match = pattern.match(value)
        if match:
            return {kind: match.group(1)}
    if value.startswith("["):
        raise ValueError(f"unknown template expression {value!r}")
    return {"literal": value}


def _pairs(expression: str, variables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``createObject('key', parameters|variables('x'), ...)`` pairs of an expression."""
    out: dict[str, dict[str, Any]] = {}
    for key, source, name in _PAIR.findall(expression):
        if source == "parameters":
            out[key] = {"parameter": name}
            continue
        match = _EQUALS.match(str(variables[name]))
        if not match:
            raise ValueError(f"unknown variable {name!r}: {variables[name]!r}")
        out[key] = {"equals": [match.group(1), match.group(2)]}
    return out


def transcribe(template: dict[str, Any]) -> dict[str, Any]:
    """The record of ``template`` (the keys the contract test reads)."""
    variables = template["variables"]
    resource = template["resources"][0]
    service_type = _pairs(variables["internalLoadBalancerSettings"], variables)
    branch = _BRANCH.search(variables["internalLoadBalancerSettings"])
    if branch is None:
        raise ValueError("unknown internalLoadBalancerSettings expression")
    condition = _EQUALS.match(str(variables[branch.group(1)]))
    if condition is None:
        raise ValueError(f"unknown variable {branch.group(1)!r}")
    tls_secret = _pairs(variables["sslSetting"], variables)
    tls_secret.pop("sslCname", None)  # the same as sslSettingBase's
    return {
        "parameterDefaults": {
            name: spec["defaultValue"]
            for name, spec in template["parameters"].items()
            if "defaultValue" in spec and not isinstance(spec["defaultValue"], dict)
        },
        "baseSettings": {k: _rule(v, variables) for k, v in variables["baseSettings"].items()},
        "inferenceSettings": {
            **{k: _rule(v, variables) for k, v in variables["inferenceBase"].items()},
            **service_type,
        },
        # the template sends one of the two service-type keys, by this condition
        "serviceTypeChoice": {
            "if": [condition.group(1), condition.group(2)],
            "then": branch.group(2),
            "else": branch.group(3),
        },
        "tlsSettings": {
            **{k: _rule(v, variables) for k, v in variables["sslSettingBase"].items()},
            **tls_secret,
        },
        "protectedSettings": _pairs(variables["configProtectedSettings"], variables),
        "resource": {
            "type": resource["type"],
            "apiVersion": resource["apiVersion"],
            "identity": resource["identity"]["type"],
            "extensionType": resource["properties"]["extensionType"],
            "releaseTrain": resource["properties"]["releaseTrain"],
            "releaseNamespace": resource["properties"]["scope"]["cluster"]["releaseNamespace"],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.infra.microsoft.transcribe")
    parser.add_argument("template", type=Path, help="deployextension.json from Azure/AML-Kubernetes")
    parser.add_argument("--check", action="store_true", help="compare with the committed record")
    args = parser.parse_args(argv)
    derived = transcribe(json.loads(args.template.read_text(encoding="utf-8")))
    if not args.check:
        print(json.dumps(derived, indent=2))
        return 0
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))["template"]
    if recorded != derived:
        print("the record differs from the template", file=sys.stderr)
        return 1
    print("the record matches the template")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
