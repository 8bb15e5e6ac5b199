"""The scoring service (Starlette on uvicorn): ``python -m scoring``.

:data:`__version__` is the project's one version: pyproject.toml reads it from here
(``[tool.setuptools.dynamic]``), and the service reports it in ``/openapi.json`` and telemetry.
It lives in this package because the scoring image copies ``scoring/`` only, without the
project's installed metadata.
"""

__version__ = "0.1.0"
