"""Errors of the Azure path: each carries one line that names what is missing or wrong."""


class AzurePathError(RuntimeError):
    """An expected failure of an Azure command (printed as one line, exit 1)."""


class UsageError(AzurePathError):
    """The command was asked for something that cannot work (exit 2)."""
