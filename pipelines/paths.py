"""Where the repository's files are, seen from the ``mlops`` tool: one home for each path it reads.

``model/``, ``infra/`` and ``policy/`` may not import ``pipelines``; their own copies of the
repository root are pinned to :data:`REPO_ROOT` by ``tests/test_shared_facts.py``.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository (and Pulumi project) root: ``Pulumi.yaml``, ``components/``, ``data/``."""

COMPONENTS_DIR = REPO_ROOT / "components"
"""The Azure ML component and pipeline specs, read by the local runner and submitted to Azure ML."""

PIPELINE_SPEC = COMPONENTS_DIR / "pipeline.yml"
"""The training pipeline: validate data -> train -> evaluate -> register."""

SCORING_REQUIREMENTS = REPO_ROOT / "scoring" / "requirements.txt"
"""The scoring image's pinned requirements (compiled from ``scoring/requirements.in``)."""

TRAIN_ENVIRONMENT = REPO_ROOT / "environments" / "train-conda.yaml"
"""The Azure ML training environment's conda file (every pip requirement pinned)."""
