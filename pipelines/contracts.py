"""Facts the pipelines share with the parts they deploy or run but may not import.

``infra/`` (the Pulumi program, imported only by ``mlops infra``) and ``scoring/`` (run as a
process or an image) own these; the pipelines keep one copy of each here, and
``tests/test_shared_facts.py`` pins it to the owner's. The stack outputs have their own module
(:mod:`pipelines.stack_outputs`, pinned by ``tests/infra/test_program.py``); the model folder's
file names come from ``model/outputs.py`` (a light module the pipelines may import).
"""

PULUMI_PROJECT = "azure-mlops"
"""The Pulumi project (``Pulumi.yaml``'s ``name``), also the namespace of its stack settings."""


def setting_key(name: str) -> str:
    """The full key of one of the program's stack settings: ``azure-mlops:<name>``."""
    return f"{PULUMI_PROJECT}:{name}"


TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""UTC timestamps written to stacks and tags: ``expiresAt`` of ``dev-<id>`` stacks and their
``mlops:expires-at`` tag, the prod deployment's and a promoted model's timestamp tags."""

# The scoring service as the pipelines deploy and call it (owner: scoring/contract.py; the image's
# model folder: scoring/Dockerfile).
SCORING_PORT = 5001
SCORE_PATH = "/score"
LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
MODEL_DIR_IN_IMAGE = "/opt/model"
