"""Model references (``NAME:VERSION``), names derived from them, and downloaded model folders."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.outputs import ESTIMATOR_FILE, METADATA_FILE
from pipelines.azure.errors import AzurePathError, UsageError

_REF = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,254}):([0-9A-Za-z._-]{1,64})$")
# One repository for every use case: the tag names the model and version (ModelRef.image_tag), so
# infra's placeholder and qa's settings need no edit when config/usecase.yaml changes model_name.
IMAGE_REPOSITORY = "mlops-scoring"
# Learn, how-to-manage-models "Supported paths": a model asset in an Azure ML registry
_REGISTRY_PREFIX = "azureml://registries/"


def registry_model_uri(registry: str, name: str, version: str) -> str:
    """The URI a job input or deployment names a registry's model version by."""
    return f"{_REGISTRY_PREFIX}{registry}/models/{name}/versions/{version}"


@dataclass(frozen=True, order=True)
class ModelRef:
    """A registered model version."""

    name: str
    version: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        match = _REF.match(text.strip())
        if not match:
            raise UsageError(f"--model must be NAME:VERSION (e.g. my-model:3), got {text!r}")
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def image_tag(self) -> str:
        """The scoring image's tag for this version: ``NAME-vVERSION`` (a valid Docker tag)."""
        tag = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{self.name}-v{self.version}")
        return tag[:128]

    @property
    def deployment_name(self) -> str:
        """An online deployment name for this version (letters, digits, dashes; 3-32 characters)."""
        version = re.sub(r"[^a-z0-9-]", "-", self.version.lower())
        return f"model-v{version}"[:32].rstrip("-")


@dataclass(frozen=True)
class ModelAsset:
    """A registered model version and the URI a job input names it by, where it is read from:
    ``azureml:NAME:VERSION`` (the job's workspace) or ``azureml://registries/...`` (a registry)."""

    ref: ModelRef
    uri: str

    def __str__(self) -> str:
        return str(self.ref)

    @property
    def registry(self) -> str | None:
        """The Azure ML registry the URI names (:func:`registry_model_uri`), None for a workspace."""
        if not self.uri.startswith(_REGISTRY_PREFIX):
            return None
        return self.uri.removeprefix(_REGISTRY_PREFIX).split("/", 1)[0]


def find_model_folder(root: Path) -> Path:
    """The one folder under ``root`` that holds ``metadata.json`` (the model artifact contract)."""
    found = sorted({p.parent for p in root.rglob(METADATA_FILE) if (p.parent / ESTIMATOR_FILE).is_file()})
    if len(found) != 1:
        raise AzurePathError(
            f"expected one model folder ({METADATA_FILE} + {ESTIMATOR_FILE}) under {root}, found {len(found)}"
        )
    return found[0]


@dataclass(frozen=True)
class Sample:
    """A model's sample rows with its offline predictions, and a classifier's class probabilities
    (one row of probabilities per row, in the order of ``metadata.json``'s ``classes``)."""

    rows: list[list[float]]
    expected: list[float]
    probabilities: list[list[float]] | None = None


def read_sample(model_dir: Path) -> Sample:
    """The sample the train step wrote into ``metadata.json``: rows, predictions and, for a
    classifier, probabilities (the smoke test compares all of them, as the local one does)."""
    path = model_dir / METADATA_FILE
    metadata: dict[str, Any] = json.loads(path.read_text())
    sample = metadata.get("sample") or {}
    rows, result = sample.get("data"), sample.get("result")
    if not rows or not result or len(rows) != len(result):
        raise AzurePathError(f"{path} has no usable sample (data + result)")
    probabilities = sample.get("probabilities")
    if metadata.get("task") == "classification" and probabilities is None:
        raise AzurePathError(f"{path}: a classifier's sample has no probabilities to compare")
    if probabilities is not None and (not isinstance(probabilities, list) or len(probabilities) != len(rows)):
        raise AzurePathError(f"{path}: sample.probabilities must have one row per sample row")
    return Sample(rows, result, probabilities)
