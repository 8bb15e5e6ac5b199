"""The Azure path of the ``mlops`` command: stack outputs -> Azure ML (SDK v2), ACR, Pulumi.

Module map (each small, one concern):

* :mod:`outputs_reader`: a stack's outputs (``pulumi stack output`` or a JSON file) -> ``StackOutputs``;
* :mod:`client`: the ``MLClient`` of a stack's workspace (``DefaultAzureCredential``);
* :mod:`ops`: :class:`~pipelines.azure.ops.AzureMLOps`, the only place that calls Azure ML;
* :mod:`training`: the AML pipeline job from ``components/pipeline.yml``, its outcome;
* :mod:`promotion`: copy a model version between workspaces with lineage tags;
* :mod:`image`: the scoring image with the model baked in (docker / az acr);
* :mod:`qa_deploy`: the ACI container group through the qa stack (Automation API);
* :mod:`prod_deploy`: blue/green on the Kubernetes online endpoint, rollback;
* :mod:`endpoint_smoke`: the smoke test against Azure endpoints.

Nothing here is imported by ``mlops --help``: :mod:`pipelines.cli.azure` imports lazily.
"""
