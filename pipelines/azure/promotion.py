"""``mlops promote --from dev --to qa --model NAME:VERSION``: copy a model version between workspaces.

The copy keeps name and version (so ``NAME:VERSION`` means the same model everywhere), is a
``custom_model`` holding the same model folder, and carries the source's tags plus lineage:
``promoted_from`` (environment), ``source_workspace``, ``source_version``, ``promoted_at``.
Promoting a version that the target already has from the same source is a no-op; a target
version with another origin is refused (never overwritten).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import AzureMLOps
from pipelines.azure.refs import ModelRef, find_model_folder
from pipelines.contracts import TIMESTAMP_FORMAT


def promoted_model(ref: ModelRef, folder: Path, source: Any, *, from_env: str, source_workspace: str) -> Any:
    """The ``Model`` entity registered in the target workspace."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Model

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
        type=AssetTypes.CUSTOM_MODEL,
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
