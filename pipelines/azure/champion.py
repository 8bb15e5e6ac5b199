"""The champion of a training run: the model an environment serves now, checked to exist in dev."""

from __future__ import annotations

from pipelines.azure import prod_deploy, qa_deploy, workspaces
from pipelines.azure.errors import AzurePathError, UsageError
from pipelines.azure.ops import AzureMLOps
from pipelines.azure.refs import ModelRef

SOURCES = ("prod", "qa", "dev", "none")
"""Where the champion may come from: what prod or qa serves, dev's newest version, or none."""


def resolve_champion(source: str, model_name: str, dev_ops: AzureMLOps) -> ModelRef | None:
    """The model the ``source`` environment serves now, checked to exist in dev; None before the first."""
    if source not in SOURCES:
        raise UsageError(f"--champion-from must be one of {', '.join(SOURCES)}, got {source!r}")
    champion: ModelRef | None = None
    if source == "dev":
        version = dev_ops.latest_model_version(model_name)
        champion = ModelRef(model_name, version) if version else None
    elif source == "qa":
        qa = workspaces.outputs("qa")
        champion = qa_deploy.serving_version(qa.scoring_uri) if qa.scoring_uri else None
    elif source == "prod":
        prod = workspaces.outputs("prod")
        live = prod_deploy.live_model(workspaces.ops(prod), prod_deploy.endpoint_name(prod))
        champion = live[1] if live else None
    if champion is None:
        return None
    if dev_ops.get_model(champion.name, champion.version) is None:
        raise AzurePathError(
            f"champion {champion} (served by {source}) is not in the dev workspace {dev_ops.workspace}; "
            "use --champion-from none to train without one"
        )
    return champion
