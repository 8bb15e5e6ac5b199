"""``mlops infra carry-serving``: keep the image a stack serves across infrastructure-only ``up``s.

The qa container group runs the image and model version of two stack settings,
``azure-mlops:scoringImage`` and ``azure-mlops:modelVersion``. ``mlops deploy --env qa`` sets them
in the checkout's ``Pulumi.qa.yaml`` (Automation API) and runs ``up``; a CI checkout is thrown
away afterwards, and the committed file holds placeholders. So before any ``pulumi up`` or
``preview`` of qa, this command carries what the stack runs now into the checkout's settings:

1. read the stack outputs ``scoringImage`` and ``scoringModelVersion`` (the program exports the
   two settings once the container group was created or updated with them;
   :mod:`pipelines.azure.outputs_reader`: the Pulumi CLI or ``MLOPS_STACK_OUTPUTS_DIR``);
2. no such outputs (a new stack, a first ``up`` that stopped before the container group, a
   stack without a container group): say so, change nothing, exit 0;
3. settings explicitly given (either key holds a value other than the placeholder): leave both
   untouched (they are a pair) and say whether they differ from what runs;
4. otherwise set both (plain, not secret) through the Automation API.

Any other failure (the outputs cannot be read, the config cannot be written) exits 1: carrying
nothing when something is deployed would put qa back on the placeholder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pipelines.azure.outputs_reader import StackOutputsError
from pipelines.azure.qa_deploy import IMAGE_KEY, VERSION_KEY
from pipelines.stack_outputs import StackOutputs

IMAGE_OUTPUT = StackOutputs.export_name("scoring_image")
VERSION_OUTPUT = StackOutputs.export_name("scoring_model_version")
GROUP_OUTPUT = StackOutputs.export_name("container_group_name")
# The program's defaults (infra/config.py; a test keeps them equal): "nothing deployed yet".
PLACEHOLDER_IMAGE = "mlops-scoring:placeholder"
PLACEHOLDER_VERSION = "placeholder"
PLACEHOLDERS = {IMAGE_KEY: PLACEHOLDER_IMAGE, VERSION_KEY: PLACEHOLDER_VERSION}

Action = Literal["set", "unchanged", "kept", "nothing"]


class ConfigStack(Protocol):
    """The part of ``pulumi.automation.Stack`` this module uses."""

    def get_config(self, key: str) -> Any: ...

    def set_config(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class CarryResult:
    action: Action
    message: str
    image: str | None = None
    version: str | None = None


def _no_outputs_yet(stack: str, error: StackOutputsError) -> bool:
    """The reader's two answers that mean "nothing was deployed": no stack, or no outputs."""
    text = str(error)
    return text.startswith((f"stack {stack} has no outputs:", f"stack {stack} does not exist"))


def _current(stack: ConfigStack, key: str) -> str | None:
    from pulumi.automation import errors

    try:
        value = stack.get_config(key)
    except errors.CommandError:  # `pulumi config get` of a key that is not set
        return None
    return str(value.value) if value is not None and value.value not in (None, "") else None


def carry(
    stack_name: str,
    *,
    read_outputs: Callable[[str], dict[str, Any]],
    open_stack: Callable[[str], ConfigStack],
) -> CarryResult:
    """Carry the stack's deployed ``scoringImage``/``scoringModelVersion`` into its settings."""
    try:
        raw = read_outputs(stack_name)
    except StackOutputsError as error:
        if _no_outputs_yet(stack_name, error):
            return CarryResult("nothing", f"{error}; nothing to carry (first deploy)")
        raise
    image, version = raw.get(IMAGE_OUTPUT), raw.get(VERSION_OUTPUT)
    if not image or not version:
        hint = ""
        if raw.get(GROUP_OUTPUT):
            hint = (
                " (a container group deployed before these outputs existed: run "
                "`mlops deploy --env qa --model NAME:VERSION` once to record what it serves)"
            )
        return CarryResult(
            "nothing",
            f"stack {stack_name} has no outputs '{IMAGE_OUTPUT}'/'{VERSION_OUTPUT}' yet; "
            f"nothing to carry{hint}",
        )
    if not isinstance(image, str) or not isinstance(version, str):
        raise StackOutputsError(
            f"stack {stack_name}: outputs '{IMAGE_OUTPUT}'/'{VERSION_OUTPUT}' are not strings"
        )
    deployed = {IMAGE_KEY: image, VERSION_KEY: version}
    if deployed == PLACEHOLDERS:
        return CarryResult("nothing", f"stack {stack_name} runs the placeholder; nothing to carry")

    from pulumi.automation import ConfigValue

    stack = open_stack(stack_name)
    current = {key: _current(stack, key) for key in (IMAGE_KEY, VERSION_KEY)}
    explicit = any(value is not None and value != PLACEHOLDERS[key] for key, value in current.items())
    if explicit:
        if current == deployed:
            return CarryResult(
                "unchanged", f"stack {stack_name} settings already name {image} ({version})", image, version
            )
        given = f"{current[IMAGE_KEY] or PLACEHOLDER_IMAGE} ({current[VERSION_KEY] or PLACEHOLDER_VERSION})"
        return CarryResult(
            "kept",
            f"stack {stack_name}: {IMAGE_KEY}/{VERSION_KEY} are given explicitly ({given}), kept; "
            f"the stack runs {image} ({version}), so `pulumi up` switches it to the given values",
            current[IMAGE_KEY],
            current[VERSION_KEY],
        )
    stack.set_config(IMAGE_KEY, ConfigValue(value=image, secret=False))
    stack.set_config(VERSION_KEY, ConfigValue(value=version, secret=False))
    return CarryResult(
        "set", f"stack {stack_name}: carried {IMAGE_KEY}={image}, {VERSION_KEY}={version}", image, version
    )


def carry_env(env: str) -> CarryResult:
    """:func:`carry` for an environment's stack (``MLOPS_STACK_<ENV>`` or its name), for real."""
    from pipelines.azure import qa_deploy
    from pipelines.azure.outputs_reader import read_raw, stack_name

    return carry(stack_name(env), read_outputs=read_raw, open_stack=qa_deploy.select_stack)
