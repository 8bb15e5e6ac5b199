"""The ``mlops`` tool: the orchestrator that drives the lifecycle (train, gate, register, promote,
deploy, smoke-test, tear down), locally and on Azure. Not the ML pipeline itself: that is
``components/pipeline.yml``, whose steps run ``python -m model.<step>``.

Packages: :mod:`pipelines.cli` (the commands: parse, call, print), :mod:`pipelines.local` (this
machine), :mod:`pipelines.azure` (Azure ML, the registries, the qa and prod stacks),
:mod:`pipelines.stacks` (short-lived stacks); shared modules: :mod:`~pipelines.contracts`,
:mod:`~pipelines.errors`, :mod:`~pipelines.paths`, :mod:`~pipelines.specs`,
:mod:`~pipelines.smoke`, :mod:`~pipelines.stack_outputs`.

Import rule (docs/architecture.md; checked by ``lint-imports``): ``cli`` -> ``local`` | ``azure`` |
``stacks`` -> the shared modules -> ``model``'s light modules; the three middle packages do not
import each other; nothing here imports ``infra`` except ``cli/infra.py``; heavy libraries are
imported inside functions, so ``mlops --help`` stays light.
"""
