"""``mlops promote --from A --to B --model NAME:VERSION``: make a model version available downstream.

A model is an MLflow model all the way (``mlflow_model``: its folder holds ``MLmodel``; dev
registers it with ``mlflow.register_model``). It moves one of two ways, chosen by the stacks'
outputs (:func:`shared_registry`):

* **Azure ML registry** (both stacks name the same ``modelRegistryName``): :func:`share` copies
  the version from the source workspace into the registry with ``models.share``, keeping name,
  version, type and the link to the job that trained it (Learn,
  how-to-share-models-pipelines-across-workspaces-with-registries: "Share a model from workspace
  to registry"); qa and prod then read it from the registry. Already there with the same
  lineage: no-op; with another: refused.
* **copy** (no registry): :func:`promote` downloads the folder from the source workspace and
  registers it in the target as an ``mlflow_model`` under the same name and version, with the
  source's tags plus ``promoted_from``, ``source_workspace``, ``source_version``,
  ``promoted_at``. Already there from the same source: no-op; from another origin: refused.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.azure.errors import AzurePathError, UsageError
from pipelines.azure.ops import AzureMLOps, ModelStore
from pipelines.azure.refs import ModelRef, find_model_folder
from pipelines.contracts import TIMESTAMP_FORMAT
from pipelines.stack_outputs import StackOutputs

MLFLOW_MODEL = "mlflow_model"  # azure.ai.ml.constants.AssetTypes.MLFLOW_MODEL
MLMODEL_FILE = "MLmodel"
LINEAGE_TAG = "run_id"
"""The training run, a tag model/register.py puts on every version (``version_tags``)."""


def shared_registry(source: StackOutputs, target: StackOutputs) -> str | None:
    """The Azure ML registry both stacks name, None when neither does; a mismatch is refused."""
    names = (source.model_registry_name or None, target.model_registry_name or None)
    if names[0] == names[1]:
        return names[0]
    output = StackOutputs.export_name("model_registry_name")
    raise UsageError(
        f"stack {source.stack} has output {output}={names[0]!r}, stack {target.stack} {names[1]!r}: "
        "promotion uses an Azure ML registry when both name the same one, and copies when neither does"
    )


def _require_mlflow(model: Any, ref: ModelRef, where: str) -> None:
    kind = str(getattr(model, "type", "") or "")
    if kind != MLFLOW_MODEL:
        raise AzurePathError(
            f"{ref} in {where} is a {kind or 'model of unknown type'}, not an {MLFLOW_MODEL}: models move "
            "between environments as MLflow models (registered by model/register.py)"
        )


def _lineage(model: Any) -> dict[str, str]:
    """What ties a version to its training: the training run (tag) and the job that registered it."""
    found = {}
    if run := (getattr(model, "tags", None) or {}).get(LINEAGE_TAG):
        found[LINEAGE_TAG] = str(run)
    if job := getattr(model, "job_name", None):
        found["job_name"] = str(job)
    return found


def share(
    source: AzureMLOps,
    registry: ModelStore,
    registry_name: str,
    ref: ModelRef,
    *,
    from_env: str,
    progress: Callable[[str], None] = print,
) -> bool:
    """Share ``ref`` from the source workspace into the registry; False when it is there already."""
    in_registry = registry.get_model(ref.name, ref.version)
    in_source = source.get_model(ref.name, ref.version)
    if in_registry is not None:
        if in_source is None:  # qa -> prod: qa holds no copy, it reads the registry
            progress(f"{ref} is already in {registry.where}: nothing to do")
            return False
        ours, theirs = _lineage(in_source), _lineage(in_registry)
        common = ours.keys() & theirs.keys()
        if common and all(ours[k] == theirs[k] for k in common):
            progress(
                f"{ref} is already in {registry.where} (same {', '.join(sorted(common))}): nothing to do"
            )
            return False
        raise AzurePathError(
            f"{registry.where} already has {ref} with another lineage ({theirs or 'none recorded'}) than "
            f"{from_env}'s ({ours or 'none recorded'}); refusing to treat them as one model"
        )
    if in_source is None:
        raise AzurePathError(f"{ref} is neither in {from_env} ({source.where}) nor in {registry.where}")
    _require_mlflow(in_source, ref, source.where)
    progress(f"sharing {ref} from {from_env} ({source.where}) into {registry.where}")
    source.share_model(ref.name, ref.version, registry_name)
    return True


def promoted_model(ref: ModelRef, folder: Path, source: Any, *, from_env: str, source_workspace: str) -> Any:
    """The ``Model`` entity registered in the target workspace: an MLflow model, as in the source."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Model

    if not (folder / MLMODEL_FILE).is_file():
        raise AzurePathError(
            f"{ref} downloaded from {source_workspace} has no {MLMODEL_FILE}: not an MLflow model folder"
        )
    tags = {str(k): str(v) for k, v in (getattr(source, "tags", None) or {}).items()}
    tags.update(
        {
            "promoted_from": from_env,
            "source_workspace": source_workspace,
            "source_version": ref.version,
            "promoted_at": dt.datetime.now(dt.UTC).strftime(TIMESTAMP_FORMAT),
        }
    )
    return Model(
        name=ref.name,
        version=ref.version,
        type=AssetTypes.MLFLOW_MODEL,
        path=str(folder),
        description=getattr(source, "description", None) or f"{ref} promoted from {from_env}",
        tags=tags,
    )


def promote(
    source: AzureMLOps,
    target: AzureMLOps,
    ref: ModelRef,
    *,
    from_env: str,
    to_env: str,
    progress: Callable[[str], None] = print,
) -> bool:
    """Copy ``ref`` from ``source`` to ``target``; False when it was already there (no-op)."""
    existing = target.get_model(ref.name, ref.version)
    if existing is not None:
        tags = existing.tags or {}
        if tags.get("source_workspace") == source.workspace and tags.get("source_version") == ref.version:
            progress(
                f"{ref} is already in {to_env} (promoted from {tags.get('promoted_from')}): nothing to do"
            )
            return False
        raise AzurePathError(
            f"{to_env} already has {ref} from another origin "
            f"(source_workspace={tags.get('source_workspace')!r}); refusing to overwrite it"
        )
    model = source.get_model(ref.name, ref.version)
    if model is None:
        raise AzurePathError(f"{from_env} (workspace {source.workspace}) has no model {ref}")
    with tempfile.TemporaryDirectory(prefix="mlops-promote-") as tmp:
        progress(f"downloading {ref} from {from_env}")
        source.download_model(ref.name, ref.version, Path(tmp))
        folder = find_model_folder(Path(tmp))
        progress(f"registering {ref} in {to_env}")
        target.create_model(
            promoted_model(ref, folder, model, from_env=from_env, source_workspace=source.workspace)
        )
    return True
