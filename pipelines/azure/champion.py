"""The champion of a training run: the model an environment serves now (else, where it serves
nothing yet, the newest registered version), where the dev job can read it."""

from __future__ import annotations

from pipelines.azure import prod_deploy, qa_deploy, workspaces
from pipelines.azure.errors import AzurePathError, UsageError
from pipelines.azure.ops import AzureMLOps, ModelStore
from pipelines.azure.outputs_reader import stack_name
from pipelines.azure.refs import ModelAsset, ModelRef
from pipelines.stack_outputs import StackOutputs

SOURCES = ("prod", "qa", "dev", "none")
"""Where the champion may come from: what prod or qa serves, dev's newest version, or none."""


def _newest(model_name: str, dev_ops: AzureMLOps) -> ModelRef | None:
    """The newest version registered in dev (where the training job registers), if any."""
    version = dev_ops.latest_model_version(model_name)
    return ModelRef(model_name, version) if version else None


def _store(dev: StackOutputs, serving: StackOutputs, dev_ops: AzureMLOps) -> ModelStore:
    """Where the dev job reads what ``serving`` serves: the registry both stacks name, else dev."""
    if dev.model_registry_name and dev.model_registry_name == serving.model_registry_name:
        return workspaces.registry(dev.model_registry_name)
    return dev_ops


def resolve_champion(
    source: str, model_name: str, dev: StackOutputs, dev_ops: AzureMLOps
) -> ModelAsset | None:
    """The model the ``source`` environment serves now, as the dev job's input; None before the first.

    A served model is read from the Azure ML registry dev and the serving stack share (what
    promotion put there), else it must be in the dev workspace under the same name and version.
    Where ``source`` serves nothing yet (before its first deploy, or after runs with
    ``--no-deploy``), the champion is the newest version registered in dev, as the local lifecycle
    does (pipelines/local/lifecycle.py ``champion_version``): every version was registered because
    it beat the champion of its day, so a later run must beat it too, never pass as a first model.
    """
    if source not in SOURCES:
        raise UsageError(f"--champion-from must be one of {', '.join(SOURCES)}, got {source!r}")
    champion: ModelRef | None = None
    store: ModelStore = dev_ops
    if source == "dev":
        champion = _newest(model_name, dev_ops)
    elif source == "qa":
        qa = workspaces.outputs("qa")
        champion = (
            qa_deploy.serving_version(
                qa_deploy.require_https(qa.scoring_uri, stack_name("qa")),
                api_key=qa_deploy.scoring_key(stack_name("qa")),
            )
            if qa.scoring_uri
            else None
        )
        store = _store(dev, qa, dev_ops)
    elif source == "prod":
        prod = workspaces.outputs("prod")
        live = prod_deploy.live_model(workspaces.ops(prod), prod_deploy.endpoint_name(prod))
        champion = live[1] if live else None
        store = _store(dev, prod, dev_ops)
    origin = f"served by {source}"
    if champion is None and source != "none":
        champion, store, origin = _newest(model_name, dev_ops), dev_ops, f"{source} serves nothing yet"
    if champion is None:
        return None
    if store.get_model(champion.name, champion.version) is None:
        raise AzurePathError(
            f"champion {champion} ({origin}) is not in {store.where}; "
            "use --champion-from none to train without one"
        )
    return ModelAsset(champion, store.model_id(champion.name, champion.version))
