"""What the service promises and expects: its default port, its URL paths, the model folder's files.

The one home of these inside ``scoring/`` (no imports: the settings, the app and the telemetry
read it). The parts that run or deploy the service may not import ``scoring``; their copies
(``infra/components/aci.py``, ``pipelines/contracts.py``, ``model/outputs.py``,
``scoring/Dockerfile``) are pinned to these by ``tests/test_shared_facts.py``.
"""

DEFAULT_PORT = 5001
"""The port the service listens on unless ``SCORING_PORT`` or ``--port`` says otherwise."""

SCORE_PATH = "/score"
INVOCATIONS_PATH = "/invocations"
"""MLflow's scoring path (``mlflow models serve``, MLflow's clients): the same handler as ``/score``."""
METADATA_PATH = "/metadata"
LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
OPENAPI_PATH = "/openapi.json"

ESTIMATOR_FILE = "estimator.joblib"
"""The fitted scikit-learn pipeline (a pickle: only from our own registry)."""
METADATA_FILE = "metadata.json"
"""Name, features, scikit-learn version, lineage and the sample the smoke test posts."""
