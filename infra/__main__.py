"""Pulumi entry point (``main: infra/`` in Pulumi.yaml)."""

import sys
from pathlib import Path

# Pulumi runs this file with infra/ on sys.path; the program imports itself as the `infra`
# package, so make the repository root importable even when the project is not installed.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from infra.program import main  # noqa: E402

main()
