"""The command layer of ``mlops``: one module per command group, composed by :mod:`pipelines.cli.main`."""
