"""The scoring image with the model baked in: ``<registry>/mlops-scoring:NAME-vVERSION``.

``mlops image build --env qa --model NAME:VERSION``:

1. if the tag is already in the environment's registry, print it with its digest (an image
   version is immutable: never rebuilt, never overwritten);
2. download the model folder from where the environment reads its models (its Azure ML registry
   or its workspace), or from the upstream workspace (qa <- dev) when it was not promoted yet;
3. ``az acr login``, ``docker build -f scoring/Dockerfile`` (context: the repository, the model
   copied under ``.state/image-build/``), ``docker push``;
4. resolve the pushed digest (``az acr repository show``) and print
   ``<login server>/mlops-scoring:TAG@sha256:...``.

``az acr build`` is the alternative without a local Docker engine (docs/azure.md).
Prod reuses qa's image: :func:`import_image` copies it registry-to-registry by the digest qa
tested (:func:`tested_digest`), naming qa's registry by its ARM resource id (``az acr import
--registry <id> --source mlops-scoring@sha256:...``), then reads back the digest that landed
and refuses anything else.

Every external program runs through a :data:`Runner` (tests pass a mock and assert argv).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipelines.azure.errors import AzurePathError
from pipelines.azure.ops import ModelStore
from pipelines.azure.refs import IMAGE_REPOSITORY, ModelRef, find_model_folder
from pipelines.paths import REPO_ROOT

PROJECT_DIR = REPO_ROOT
BUILD_DIR = PROJECT_DIR / ".state" / "image-build"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]

# What `az acr import` takes as a resource id (azure-cli acr/import.py: `is_valid_resource_id`);
# anything else it looks up by name in the current subscription only.
_REGISTRY_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerRegistry/registries/[^/]+$",
    re.IGNORECASE,
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """The real runner: in the project folder, output captured."""
    return subprocess.run(list(argv), cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


@dataclass(frozen=True)
class ImageRef:
    login_server: str
    repository: str
    tag: str
    digest: str

    @property
    def by_digest(self) -> str:
        """``<login server>/<repository>@sha256:...``: what a deployment pulls."""
        return f"{self.login_server}/{self.repository}@{self.digest}"

    @property
    def in_registry(self) -> str:
        """``<repository>@sha256:...``: the qa stack's ``scoringImage`` setting (registry implied)."""
        return f"{self.repository}@{self.digest}"

    def __str__(self) -> str:
        return f"{self.login_server}/{self.repository}:{self.tag}@{self.digest}"


def _checked(runner: Runner, argv: Sequence[str], what: str) -> str:
    done = runner(argv)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout or "").strip().splitlines()
        raise AzurePathError(f"{what} failed (exit {done.returncode}): {lines[-1] if lines else argv[0]}")
    return (done.stdout or "").strip()


def registry_digest(runner: Runner, registry: str, repository: str, tag: str) -> str | None:
    """The digest of ``repository:tag`` in the registry, or None when the tag does not exist."""
    done = runner(
        ["az", "acr", "repository", "show", "--name", registry, "--image", f"{repository}:{tag}",
         "--query", "digest", "--output", "tsv"]
    )  # fmt: skip
    digest = (done.stdout or "").strip()
    if done.returncode != 0 or not digest.startswith("sha256:"):
        return None
    return digest


def build_and_push(
    runner: Runner,
    *,
    registry: str,
    login_server: str,
    model: ModelRef,
    stores: Sequence[tuple[str, ModelStore]],
    progress: Callable[[str], None] = print,
) -> ImageRef:
    """Build and push the image of ``model`` unless its tag exists; its reference with digest."""
    tag = model.image_tag
    if existing := registry_digest(runner, registry, IMAGE_REPOSITORY, tag):
        progress(f"{IMAGE_REPOSITORY}:{tag} is already in {registry}")
        return ImageRef(login_server, IMAGE_REPOSITORY, tag, existing)
    source = next(((env, store) for env, store in stores if store.get_model(model.name, model.version)), None)
    if source is None:
        names = ", ".join(f"{env} ({store.where})" for env, store in stores)
        raise AzurePathError(f"model {model} is in none of these: {names}")
    for tool in ("docker", "az"):
        if shutil.which(tool) is None and runner is run:
            raise AzurePathError(f"`{tool}` is not on PATH (see docs/azure.md for `az acr build`)")
    work = BUILD_DIR / uuid.uuid4().hex[:8]
    try:
        progress(f"downloading {model} from {source[0]} ({source[1].where})")
        source[1].download_model(model.name, model.version, work)
        folder = find_model_folder(work)
        target = f"{login_server}/{IMAGE_REPOSITORY}:{tag}"
        _checked(runner, ["az", "acr", "login", "--name", registry], "az acr login")
        progress(f"docker build {target}")
        _checked(
            runner,
            ["docker", "build", "--file", "scoring/Dockerfile", "--build-arg",
             f"MODEL_DIR={folder.relative_to(PROJECT_DIR)}", "--label",
             f"org.opencontainers.image.version={model}", "--tag", target, "."],
            "docker build",
        )  # fmt: skip
        progress(f"docker push {target}")
        _checked(runner, ["docker", "push", target], "docker push")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    digest = registry_digest(runner, registry, IMAGE_REPOSITORY, tag)
    if digest is None:
        raise AzurePathError(f"pushed {target} but the registry reports no digest for it")
    return ImageRef(login_server, IMAGE_REPOSITORY, tag, digest)


def resolve(runner: Runner, *, registry: str, login_server: str, model: ModelRef) -> ImageRef:
    """The image of ``model`` in the registry, or one line saying how to build it."""
    digest = registry_digest(runner, registry, IMAGE_REPOSITORY, model.image_tag)
    if digest is None:
        raise AzurePathError(
            f"image {IMAGE_REPOSITORY}:{model.image_tag} is not in registry {registry}: "
            f"run `mlops image build --env qa --model {model}` first"
        )
    return ImageRef(login_server, IMAGE_REPOSITORY, model.image_tag, digest)


def tested_digest(
    runner: Runner,
    *,
    registry: str,
    model: ModelRef,
    served_image: str | None,
    served_version: str | None,
) -> tuple[str, str]:
    """The digest qa tested for ``model`` and where it was read: qa's ``scoringImage`` output when
    qa serves this version (``mlops deploy --env qa`` smoke-tested it), else the digest of the
    version's tag in qa's registry (the one ``mlops deploy --env qa`` deploys; a tag is never rebuilt).
    """
    if served_version == model.version and served_image and "@" in served_image:
        repository, served_digest = served_image.split("@", 1)
        if repository == IMAGE_REPOSITORY and _DIGEST.match(served_digest):
            return served_digest, f"qa's scoringImage ({served_image})"
    digest = registry_digest(runner, registry, IMAGE_REPOSITORY, model.image_tag)
    if digest is None:
        raise AzurePathError(
            f"qa's registry {registry} has no {IMAGE_REPOSITORY}:{model.image_tag}: "
            f"build and test it in qa first (`mlops image build --env qa --model {model}`, "
            f"`mlops deploy --env qa --model {model}`)"
        )
    return digest, f"qa's registry {registry} ({IMAGE_REPOSITORY}:{model.image_tag})"


def import_image(
    runner: Runner,
    *,
    registry: str,
    login_server: str,
    source_registry_id: str,
    source_digest: str,
    model: ModelRef,
    progress: Callable[[str], None] = print,
) -> ImageRef:
    """Copy the image qa tested (``source_digest``) into ``registry`` as ``mlops-scoring:TAG``.

    The source registry is named by its resource id, the image by its digest (Learn,
    container-registry-import-images: "Supply the resource ID of the source registry with the
    `--registry` parameter", "the `--source` parameter specifies only the source repository and
    tag, not the registry login server name"; "identify an image by its manifest digest ...
    which guarantees a particular version"). The tag is imported once; the digest it points to
    in ``registry`` must be ``source_digest``, whether imported now or before.
    """
    if not _REGISTRY_ID.match(source_registry_id):
        raise AzurePathError(
            f"the source registry must be an ARM resource id (/subscriptions/…/providers/"
            f"Microsoft.ContainerRegistry/registries/<name>), got {source_registry_id!r}"
        )
    if not _DIGEST.match(source_digest):
        raise AzurePathError(f"the tested digest must be sha256:<64 hex>, got {source_digest!r}")
    tag = model.image_tag
    landed: str | None = registry_digest(runner, registry, IMAGE_REPOSITORY, tag)
    if landed is None:
        source_name = source_registry_id.rsplit("/", 1)[-1]
        progress(f"importing {IMAGE_REPOSITORY}@{source_digest} from {source_name} into {registry} as :{tag}")
        _checked(
            runner,
            ["az", "acr", "import", "--name", registry, "--registry", source_registry_id,
             "--source", f"{IMAGE_REPOSITORY}@{source_digest}", "--image", f"{IMAGE_REPOSITORY}:{tag}"],
            "az acr import",
        )  # fmt: skip
        landed = registry_digest(runner, registry, IMAGE_REPOSITORY, tag)
        if landed is None:
            raise AzurePathError(f"imported {IMAGE_REPOSITORY}:{tag} but {registry} reports no digest")
    if landed != source_digest:
        raise AzurePathError(
            f"{registry} has {IMAGE_REPOSITORY}:{tag} at {landed}, but qa tested {source_digest}: "
            "refusing to deploy an image qa did not test"
        )
    return ImageRef(login_server, IMAGE_REPOSITORY, tag, landed)
