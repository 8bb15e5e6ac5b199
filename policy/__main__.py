"""Policy pack entry point, run by the Pulumi CLI (``--policy-pack policy``).

Constructing ``PolicyPack`` starts the analyzer's gRPC server and blocks, so nothing else
imports this module; the policies themselves live in ``policy.baseline``.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pulumi_policy import EnforcementLevel, Policy, PolicyPack  # noqa: E402

from policy.baseline import POLICIES  # noqa: E402

PolicyPack(
    name="azure-mlops-baseline",
    policies=list[Policy](POLICIES),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Security baseline for the azure-mlops stacks.",
)
