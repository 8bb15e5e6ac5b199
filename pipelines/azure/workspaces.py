"""An environment's stack outputs and Azure ML workspace, and a registered model's sample rows.

The orchestration modules (:mod:`~pipelines.azure.champion`, :mod:`~pipelines.azure.release`)
reach Azure only through these three functions, so a test replaces them in one place.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import AzureMLOps, ops_for
from pipelines.azure.outputs_reader import read_outputs
from pipelines.azure.refs import ModelRef, find_model_folder, read_sample
from pipelines.stack_outputs import StackOutputs


def outputs(env: str) -> StackOutputs:
    """The outputs of the environment's stack (``MLOPS_STACK_<ENV>`` or its name)."""
    return read_outputs(env)


def ops(stack_outputs: StackOutputs) -> AzureMLOps:
    """The Azure ML calls of the stack's workspace."""
    return ops_for(stack_outputs)


def model_sample(workspace: AzureMLOps, model: ModelRef) -> tuple[list[list[float]], list[float]]:
    """The sample rows a registered model carries and its offline predictions for them."""
    if workspace.get_model(model.name, model.version) is None:
        raise AzurePathError(f"workspace {workspace.workspace} has no model {model}")
    with tempfile.TemporaryDirectory(prefix="mlops-sample-") as tmp:
        workspace.download_model(model.name, model.version, Path(tmp))
        return read_sample(find_model_folder(Path(tmp)))
