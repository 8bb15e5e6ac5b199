"""A stack's declaration (:class:`pipelines.declared.DeclaredStack`) from the program run under mocks.

Like ``mlops infra plan``, this runs the real Pulumi program offline (``infra.offline``) with the
stack's ``Pulumi.<stack>.yaml``, and reads the settings through ``infra.config``. Besides
``cli/infra.py``, this is the one module of ``pipelines`` that imports ``infra`` (lazily).
"""

from __future__ import annotations

from typing import Any

from pipelines.declared import DeclaredResource, DeclaredStack
from pipelines.errors import UsageError

SECRET_TEXT = "[secret]"  # noqa: S105 (a placeholder, not a secret)


def declassified(value: Any, *, inside_secret: bool = False) -> Any:
    """The captured value with Pulumi's secret wrappers removed and every text inside one hidden.

    Numbers and booleans inside a secret stay readable (an ACI group's ``containers`` is secret as a
    whole because of one secure environment variable, yet its CPU count is what a check needs);
    strings, where secrets live, read ``[secret]``.
    """
    from infra.offline import is_secret

    if is_secret(value):
        return declassified(value["value"], inside_secret=True)
    if isinstance(value, dict):
        return {k: declassified(v, inside_secret=inside_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [declassified(v, inside_secret=inside_secret) for v in value]
    if inside_secret and isinstance(value, str):
        return SECRET_TEXT
    return value


def declared_stack(stack: str) -> DeclaredStack:
    """Run the program for ``stack`` under mocks; its settings and custom resources as plain data.

    Prod's TLS settings that the stack file leaves to its operator are stood in, as in ``mlops
    infra plan``, and listed in ``stand_ins``. Raises :class:`UsageError` when the stack name or
    its settings are invalid.
    """
    from infra.config import ConfigError, layered_raw_config, parse_settings
    from infra.offline import NAME_INPUTS, run_program, stack_config

    stand_ins: list[str] = []
    try:
        config, secret_keys = stack_config(stack, stand_ins=stand_ins)
        settings = parse_settings(stack, *layered_raw_config(stack, config, secret_keys))
        run = run_program(stack, config, secret_keys)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    resources = []
    for resource in run.custom_resources:
        inputs = declassified(dict(resource.inputs))
        key = NAME_INPUTS.get(resource.type)
        name = inputs.get(key) if key else None
        resources.append(
            DeclaredResource(
                type=resource.type,
                name=resource.name,
                azure_name=name if isinstance(name, str) else "",
                inputs=inputs,
            )
        )
    return DeclaredStack(
        stack=stack,
        environment=settings.environment,
        location=settings.location,
        resources=tuple(resources),
        subscription_id=config.get("azure-native:subscriptionId", ""),
        stand_ins=tuple(stand_ins),
    )
