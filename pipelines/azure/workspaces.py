"""An environment's stack outputs, Azure ML workspace and model store, and a model's sample rows.

The orchestration modules (:mod:`~pipelines.azure.champion`, :mod:`~pipelines.azure.release`)
reach Azure only through these functions, so a test replaces them in one place.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import AzureMLOps, ModelStore, ops_for, registry_ops_for
from pipelines.azure.outputs_reader import read_outputs
from pipelines.azure.refs import ModelRef, Sample, find_model_folder, read_sample
from pipelines.stack_outputs import StackOutputs


def outputs(env: str) -> StackOutputs:
    """The outputs of the environment's stack (``MLOPS_STACK_<ENV>`` or its name)."""
    return read_outputs(env)


def ops(stack_outputs: StackOutputs) -> AzureMLOps:
    """The Azure ML calls of the stack's workspace."""
    return ops_for(stack_outputs)


def registry(name: str) -> ModelStore:
    """The models of an Azure ML registry."""
    return registry_ops_for(name)


def model_store(stack_outputs: StackOutputs) -> ModelStore:
    """Where an environment's promoted models are read: the Azure ML registry its stack names
    (``modelRegistryName``), else its own workspace."""
    if stack_outputs.model_registry_name:
        return registry(stack_outputs.model_registry_name)
    return ops(stack_outputs)


def model_sample(store: ModelStore, model: ModelRef) -> Sample:
    """The sample a registered model carries: rows, offline predictions (and probabilities)."""
    if store.get_model(model.name, model.version) is None:
        raise AzurePathError(f"{store.where} has no model {model}")
    with tempfile.TemporaryDirectory(prefix="mlops-sample-") as tmp:
        store.download_model(model.name, model.version, Path(tmp))
        return read_sample(find_model_folder(Path(tmp)))
