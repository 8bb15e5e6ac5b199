"""Errors of the Azure path: each carries one line that names what is missing or wrong."""

from pipelines.errors import MlopsError, UsageError

__all__ = ["AzurePathError", "UsageError"]


class AzurePathError(MlopsError):
    """An expected failure of an Azure command (printed as one line, exit 1)."""
