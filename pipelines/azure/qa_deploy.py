"""``mlops deploy --env qa``: point the qa container group at a new image through the qa stack.

Why through Pulumi and not an ACI update call: the stack owns the container group; a change
made beside it would be drift that the next ``pulumi up`` reverts. So the deploy sets the two
stack settings the program reads and runs ``up`` with the policy pack (Automation API):

1. ``azure-mlops:scoringImage`` = ``mlops-scoring@sha256:...`` (the digest: what was tested
   is what runs) and ``azure-mlops:modelVersion`` = the version;
2. ``up`` (output streamed), then the stack's ``scoringUri`` output, and its ``scoringImage`` and
   ``scoringModelVersion`` outputs checked to name the new image and version: they are what
   ``mlops infra carry-serving`` carries into the settings before the next ``pulumi up`` of qa
   (CI checkouts are thrown away, so the settings set here do not outlive the job);
3. wait until ``/health/ready`` reports the new version, then the smoke test.

qa serves HTTPS only (a TLS sidecar; docs/infra.md, "TLS for qa scoring"): every call here goes to
``https://<the certificate's name>/...`` and verifies the certificate (httpx's default), and a
``scoringUri`` that is not HTTPS is refused before the API key is sent anywhere
(:func:`require_https`).

The API key (stack secret ``azure-mlops:scoringApiKey``) is read for the smoke test, never printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from pipelines.azure.errors import AzurePathError
from pipelines.azure.outputs_reader import StackOutputsError, parse
from pipelines.azure.refs import ModelRef
from pipelines.contracts import READY_PATH, SCORE_PATH, setting_key
from pipelines.paths import REPO_ROOT
from pipelines.stack_outputs import StackOutputs

PROJECT_DIR = REPO_ROOT
POLICY_PACK = PROJECT_DIR / "policy"
IMAGE_KEY = setting_key("scoringImage")
VERSION_KEY = setting_key("modelVersion")
API_KEY = setting_key("scoringApiKey")


def select_stack(stack: str) -> Any:
    """The qa stack of this project (Automation API, local program in the project folder)."""
    from pulumi import automation as auto

    return auto.select_stack(stack_name=stack, work_dir=str(PROJECT_DIR))


def api_key(stack: Any) -> str | None:
    """The scoring API key from the stack's secret config, or None when the endpoint is open."""
    from pulumi.automation import errors

    try:
        value = stack.get_config(API_KEY)
    except errors.CommandError:
        return None
    return str(value.value) if value is not None and value.value else None


def scoring_key(stack_name: str) -> str | None:
    """The qa API key: ``MLOPS_SCORING_API_KEY``, else the stack's secret setting (Automation API)."""
    return os.environ.get("MLOPS_SCORING_API_KEY") or api_key(select_stack(stack_name))


def _key_headers(key: str | None) -> dict[str, str]:
    """``/health/ready`` names the model only to callers with the key (docs/scoring.md)."""
    return {"Authorization": f"Bearer {key}"} if key else {}


def require_https(scoring_uri: str, stack: str) -> str:
    """``scoring_uri``, unless it is not HTTPS: the API key and the rows never travel in plain text."""
    if not scoring_uri.startswith("https://"):
        raise AzurePathError(
            f"stack {stack} serves {scoring_uri}, not HTTPS: qa serves HTTPS only. Set "
            "containerInstance.sslCname and the secret settings aciSslCertPem/aciSslKeyPem and run "
            f"`pulumi up --stack {stack}` (docs/infra.md, 'TLS for qa scoring')"
        )
    return scoring_uri


def base_url(scoring_uri: str) -> str:
    return scoring_uri.removesuffix(SCORE_PATH)


def wait_ready(
    scoring_uri: str,
    version: str,
    *,
    api_key: str | None = None,
    timeout_s: float = 600,
    poll_s: float = 5,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] = print,
) -> None:
    """Poll ``/health/ready`` until it reports ``version`` (the container was replaced and loaded)."""
    url = base_url(scoring_uri) + READY_PATH
    owned = client is None
    http = client or httpx.Client(timeout=5, trust_env=False)
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    try:
        while True:
            try:
                response = http.get(url, headers=_key_headers(api_key))
                body = response.json() if response.status_code == 200 else {}
                if body.get("version") == version:
                    return
                last = f"HTTP {response.status_code}, version {body.get('version')!r}"
            except (httpx.HTTPError, ValueError) as error:
                last = f"{type(error).__name__}"
            if time.monotonic() > deadline:
                raise AzurePathError(
                    f"{url} did not report version {version} within {timeout_s:.0f} s ({last})"
                )
            progress(f"waiting for {url}: {last}")
            sleep(poll_s)
    finally:
        if owned:
            http.close()


@dataclass(frozen=True)
class QaDeployResult:
    scoring_uri: str
    image: str
    api_key: str | None

    def __repr__(self) -> str:  # the key never reaches a log
        return f"QaDeployResult(scoring_uri={self.scoring_uri!r}, image={self.image!r}, api_key=***)"


def deploy(
    stack: Any,
    *,
    image_setting: str,
    model: ModelRef,
    on_output: Callable[[str], None] = print,
) -> QaDeployResult:
    """Set the image and version on the stack, ``up`` it, and return the scoring URI."""
    from pulumi.automation import ConfigValue

    stack.set_config(IMAGE_KEY, ConfigValue(value=image_setting, secret=False))
    stack.set_config(VERSION_KEY, ConfigValue(value=model.version, secret=False))
    result = stack.up(on_output=on_output, color="never", policy_packs=[str(POLICY_PACK)])
    raw = {key: output.value for key, output in result.outputs.items()}
    outputs: StackOutputs = parse(str(stack.name), raw)
    if not outputs.scoring_uri:
        missing = StackOutputs.export_name("scoring_uri")
        raise StackOutputsError(f"stack {stack.name} has no output '{missing}'")
    recorded = (outputs.scoring_image, outputs.scoring_model_version)
    if recorded != (image_setting, model.version):
        raise StackOutputsError(
            f"stack {stack.name} records {StackOutputs.export_name('scoring_image')}/"
            f"{StackOutputs.export_name('scoring_model_version')} "
            f"{recorded[0]!r}/{recorded[1]!r} after the deploy, not {image_setting!r}/{model.version!r} "
            "(the next `pulumi up` would not keep it)"
        )
    uri = require_https(outputs.scoring_uri, str(stack.name))
    return QaDeployResult(scoring_uri=uri, image=image_setting, api_key=api_key(stack))


def serving_version(
    scoring_uri: str, client: httpx.Client | None = None, *, api_key: str | None = None
) -> ModelRef | None:
    """What the qa container serves now (``/health/ready``), or None when it serves nothing."""
    http = client or httpx.Client(timeout=10, trust_env=False)
    try:
        response = http.get(base_url(scoring_uri) + READY_PATH, headers=_key_headers(api_key))
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return None
    finally:
        if client is None:
            http.close()
    model, version = body.get("model"), body.get("version")
    if not model or not version or version in ("placeholder", "unknown"):
        return None
    return ModelRef(str(model), str(version))
