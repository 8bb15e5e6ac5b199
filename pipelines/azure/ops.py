"""``AzureMLOps``: every Azure ML call of the Azure path, behind one thin protocol.

The rest of ``pipelines.azure`` builds SDK entities (validated by azure-ai-ml's schemas) and
hands them to these methods; tests replace the protocol with ``create_autospec`` and assert the
exact calls and their order. :class:`MLClientOps` is the real implementation: each method is
one or two SDK calls, long-running operations waited for (``.result()``), "not found" mapped
to ``None`` where the caller asks "is it there?".

Models are read through the narrower :class:`ModelStore`: a workspace (:class:`MLClientOps`) or
an Azure ML registry (:class:`RegistryOps`, an ``MLClient`` bound to ``registry_name``: the SDK
refuses a client with both a workspace and a registry).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pipelines.azure.refs import registry_model_uri

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import Model


class ModelStore(Protocol):
    """Registered model versions in one place: a workspace or an Azure ML registry."""

    where: str
    """``workspace <name>`` or ``registry <name>``, for messages."""

    def get_model(self, name: str, version: str) -> Model | None: ...
    def download_model(self, name: str, version: str, path: Path) -> None: ...
    def model_id(self, name: str, version: str) -> str:
        """How a job input or a deployment names the version here."""
        ...


class AzureMLOps(ModelStore, Protocol):
    """The Azure ML calls of one workspace."""

    workspace: str

    # data and environments
    def get_data(self, name: str, version: str) -> Any | None: ...
    def create_data(self, data: Any) -> Any: ...
    def get_environment(self, name: str, version: str) -> Any | None: ...
    def create_environment(self, environment: Any) -> Any: ...

    # jobs
    def submit_job(self, job: Any, experiment_name: str) -> Any: ...
    def get_job(self, name: str) -> Any: ...
    def child_jobs(self, parent_name: str) -> list[Any]: ...
    def download_job_output(self, job_name: str, output_name: str, path: Path) -> None: ...

    # models
    def latest_model_version(self, name: str) -> str | None: ...
    def create_model(self, model: Model) -> Model: ...
    def share_model(self, name: str, version: str, registry: str) -> Model:
        """Copy a workspace model version into an Azure ML registry, same name and version."""
        ...

    # online endpoints
    def get_endpoint(self, name: str) -> Any | None: ...
    def create_or_update_endpoint(self, endpoint: Any) -> Any: ...
    def list_deployments(self, endpoint_name: str) -> list[Any]: ...
    def create_or_update_deployment(self, deployment: Any) -> Any: ...
    def delete_deployment(self, endpoint_name: str, name: str) -> None: ...
    def endpoint_key(self, endpoint_name: str) -> str: ...
    def deployment_logs(self, endpoint_name: str, name: str, lines: int) -> str: ...

    # model monitoring
    def create_or_update_schedule(self, schedule: Any) -> Any:
        """Create or update a schedule (the model monitor), waited for."""
        ...


def _not_found(call: Any) -> Any | None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return call()
    except ResourceNotFoundError:
        return None


class MLClientOps:
    """:class:`AzureMLOps` over an ``azure.ai.ml.MLClient``."""

    def __init__(self, client: MLClient) -> None:
        self.client = client
        self.workspace = str(client.workspace_name)
        self.where = f"workspace {self.workspace}"

    def get_data(self, name: str, version: str) -> Any | None:
        return _not_found(lambda: self.client.data.get(name=name, version=version))

    def create_data(self, data: Any) -> Any:
        return self.client.data.create_or_update(data)

    def get_environment(self, name: str, version: str) -> Any | None:
        return _not_found(lambda: self.client.environments.get(name=name, version=version))

    def create_environment(self, environment: Any) -> Any:
        return self.client.environments.create_or_update(environment)

    def submit_job(self, job: Any, experiment_name: str) -> Any:
        return self.client.jobs.create_or_update(job, experiment_name=experiment_name)

    def get_job(self, name: str) -> Any:
        return self.client.jobs.get(name)

    def child_jobs(self, parent_name: str) -> list[Any]:
        return list(self.client.jobs.list(parent_job_name=parent_name))

    def download_job_output(self, job_name: str, output_name: str, path: Path) -> None:
        self.client.jobs.download(name=job_name, output_name=output_name, download_path=str(path))

    def get_model(self, name: str, version: str) -> Model | None:
        found: Model | None = _not_found(lambda: self.client.models.get(name=name, version=version))
        return found

    def model_id(self, name: str, version: str) -> str:
        return f"azureml:{name}:{version}"

    def latest_model_version(self, name: str) -> str | None:
        versions: list[str] | None = _not_found(
            lambda: [str(m.version) for m in self.client.models.list(name=name)]
        )
        if not versions:
            return None
        return max(versions, key=lambda v: (v.isdigit(), int(v) if v.isdigit() else 0, v))

    def create_model(self, model: Model) -> Model:
        created: Model = self.client.models.create_or_update(model)
        return created

    def share_model(self, name: str, version: str, registry: str) -> Model:
        # Learn, how-to-share-models-pipelines-across-workspaces-with-registries ("Share a model from
        # workspace to registry"). ModelOperations.share is @experimental in azure-ai-ml 1.35.2
        # (operations/_model_operations.py:670-715) and takes share_with_name/share_with_version as
        # required keywords; it imports the workspace asset by id into the registry.
        shared: Model = self.client.models.share(
            name=name,
            version=version,
            registry_name=registry,
            share_with_name=name,
            share_with_version=version,
        )
        return shared

    def download_model(self, name: str, version: str, path: Path) -> None:
        self.client.models.download(name=name, version=version, download_path=str(path))

    def get_endpoint(self, name: str) -> Any | None:
        return _not_found(lambda: self.client.online_endpoints.get(name=name))

    def create_or_update_endpoint(self, endpoint: Any) -> Any:
        return self.client.online_endpoints.begin_create_or_update(endpoint).result()

    def list_deployments(self, endpoint_name: str) -> list[Any]:
        return list(self.client.online_deployments.list(endpoint_name=endpoint_name))

    def create_or_update_deployment(self, deployment: Any) -> Any:
        return self.client.online_deployments.begin_create_or_update(deployment).result()

    def delete_deployment(self, endpoint_name: str, name: str) -> None:
        _not_found(
            lambda: self.client.online_deployments.begin_delete(
                name=name, endpoint_name=endpoint_name
            ).result()
        )

    def endpoint_key(self, endpoint_name: str) -> str:
        keys = self.client.online_endpoints.get_keys(name=endpoint_name)
        key = getattr(keys, "primary_key", None) or getattr(keys, "access_token", None)
        if not key:
            raise RuntimeError(f"endpoint {endpoint_name} returned no key or token")
        return str(key)

    def deployment_logs(self, endpoint_name: str, name: str, lines: int) -> str:
        return str(
            self.client.online_deployments.get_logs(name=name, endpoint_name=endpoint_name, lines=lines)
        )

    def create_or_update_schedule(self, schedule: Any) -> Any:
        # Learn, how-to-monitor-model-performance: ml_client.schedules.begin_create_or_update(model_monitor)
        return self.client.schedules.begin_create_or_update(schedule).result()


class RegistryOps:
    """:class:`ModelStore` over an ``MLClient`` bound to an Azure ML registry."""

    def __init__(self, client: MLClient, registry: str) -> None:
        self.client = client
        self.registry = registry
        self.where = f"registry {registry}"

    def get_model(self, name: str, version: str) -> Model | None:
        found: Model | None = _not_found(lambda: self.client.models.get(name=name, version=version))
        return found

    def download_model(self, name: str, version: str, path: Path) -> None:
        self.client.models.download(name=name, version=version, download_path=str(path))

    def model_id(self, name: str, version: str) -> str:
        return registry_model_uri(self.registry, name, version)


def ops_for(outputs: Any, credential: Any | None = None) -> AzureMLOps:
    """The real ops of a stack's workspace."""
    from pipelines.azure.client import ml_client

    return MLClientOps(ml_client(outputs, credential))


def registry_ops_for(registry: str, credential: Any | None = None) -> ModelStore:
    """The real model store of an Azure ML registry."""
    from pipelines.azure.client import registry_client

    return RegistryOps(registry_client(registry, credential), registry)
