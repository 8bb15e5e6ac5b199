"""``mlops-step MODULE ARGS...``: run a pipeline step's module as ``python -m MODULE ARGS...`` would.

The console script a Databricks ``python_wheel_task`` calls (it runs a wheel's entry point, not
``python -m``), so the step runs with the argv its component spec renders. Only ``model.*``
modules are run.
"""

import runpy
import sys


def main(argv: list[str] | None = None) -> None:
    """Run ``argv[0]`` (a ``model.<step>`` module) as ``__main__`` with ``argv[1:]`` as its arguments."""
    args = sys.argv[1:] if argv is None else argv
    if not args or not args[0].startswith("model."):
        raise SystemExit(f"usage: mlops-step model.<step> [args...] (got {' '.join(args) or 'nothing'})")
    module, *rest = args
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
