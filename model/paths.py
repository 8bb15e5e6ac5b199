"""Where ``model/`` finds the repository's files (light: no third-party import).

:data:`REPO_ROOT` is model/'s one copy of the repository root; ``model/`` may not import
``pipelines.paths``, so ``tests/test_shared_facts.py`` pins the two together. On Azure ML the
root is the components' code snapshot (``code: ..``, filtered by ``.amlignore``).
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PARAMS = REPO_ROOT / "config" / "usecase.yaml"
"""The use case: model name, data, schema, estimator and gate (``MLOPS_USECASE`` names another)."""
