"""The Azure path of the ``mlops`` command: stack outputs -> Azure ML (SDK v2), ACR, Pulumi.

Module map (each small, one concern):

* :mod:`outputs_reader`: a stack's outputs (``pulumi stack output`` or a JSON file) -> ``StackOutputs``;
* :mod:`client`: the ``MLClient`` of a stack's workspace or of an Azure ML registry
  (``DefaultAzureCredential``);
* :mod:`ops`: :class:`~pipelines.azure.ops.AzureMLOps`, every Azure ML call of train, promote and
  deploy, and :class:`~pipelines.azure.ops.ModelStore`, where models are read (a workspace or a
  registry; the teardown's adapters in :mod:`pipelines.stacks.adapters` have their own client);
* :mod:`workspaces`: an environment's outputs, workspace and model store, a model's sample rows;
* :mod:`champion`: the model an environment serves now (the champion of a training run);
* :mod:`training`: the AML pipeline job from ``components/pipeline.yml``, its outcome;
* :mod:`promotion`: share a model version into the Azure ML registry, or copy it with lineage tags;
* :mod:`image`: the scoring image with the model baked in (docker / az acr);
* :mod:`qa_deploy`: the ACI container group through the qa stack (Automation API);
* :mod:`prod_deploy`: blue/green on the Kubernetes online endpoint, rollback;
* :mod:`endpoint_smoke`: the smoke test against Azure endpoints;
* :mod:`release`: promote, build, deploy, smoke-test, roll back: each command's work end to end;
* :mod:`carry_serving`: keep qa's deployed image across infrastructure-only ``pulumi up``s.

Nothing here is imported by ``mlops --help``: the commands in :mod:`pipelines.cli` import lazily.
"""
