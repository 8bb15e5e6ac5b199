"""The Azure ML training environment for real: ``environments/train-conda.yaml`` installed in a venv.

:func:`ensure_venv` installs the conda file's pip section, with the Python it names, into
``.cache/train-env/<key>/`` (gitignored), where ``<key>`` is a hash of that section: the first
run resolves and downloads (the package index must be reachable), later runs reuse it. The venv
is built in a ``*.partial`` folder and renamed into place only when complete, under a file lock,
so parallel test workers build it once and an interrupted build is never mistaken for a venv.
Building the venv for new pins removes those of older pins (about 1 GB each).

:func:`code_snapshot` copies what Azure ML uploads for the components' ``code: ..``: the files
git sees, filtered by ``.amlignore`` with azure-ai-ml's own ignore-file code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from filelock import FileLock

from pipelines.paths import COMPONENTS_DIR, PIPELINE_SPEC, REPO_ROOT

TRAIN_CONDA = REPO_ROOT / "environments" / "train-conda.yaml"
CACHE_DIR = REPO_ROOT / ".cache" / "train-env"
RECIPE = "uv venv --relocatable + uv pip install --compile-bytecode, v1"
"""Part of the cache key: change it when the way the venv is built changes."""

_PYTHON = re.compile(r"^python\s*=+\s*(\d+\.\d+)")
_STEP_MODULE = re.compile(r"python -m (model\.\w+)")
_KEY = re.compile(r"[0-9a-f]{16}")


class TrainEnvError(RuntimeError):
    """The training environment could not be built (bad spec, no uv, or uv failed)."""


@dataclass(frozen=True)
class TrainEnvSpec:
    """The conda file's Python version and pip requirements."""

    python: str
    requirements: tuple[str, ...]

    @property
    def key(self) -> str:
        """16 hex of the hash of everything the venv is built from."""
        text = json.dumps([RECIPE, self.python, list(self.requirements)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_spec(path: Path = TRAIN_CONDA) -> TrainEnvSpec:
    """The ``python=X.Y`` dependency and the ``pip:`` list of a conda environment file."""
    dependencies = yaml.safe_load(path.read_text())["dependencies"]
    versions = [m.group(1) for d in dependencies if isinstance(d, str) and (m := _PYTHON.match(d))]
    pip = [d["pip"] for d in dependencies if isinstance(d, dict) and "pip" in d]
    if len(versions) != 1 or len(pip) != 1:
        raise TrainEnvError(f"{path}: expected one `python=X.Y` and one `pip:` list in dependencies")
    return TrainEnvSpec(python=versions[0], requirements=tuple(str(r) for r in pip[0]))


def find_uv() -> Path:
    """uv as the Makefile picks it: on PATH, else ``.tools/bin/uv``."""
    found = shutil.which("uv")
    path = Path(found) if found else REPO_ROOT / ".tools" / "bin" / "uv"
    if not path.is_file():
        raise TrainEnvError("uv is neither on PATH nor at .tools/bin/uv: run `make install-dev`")
    return path


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _uv(uv: Path, args: list[str], *, cwd: Path, python: str) -> None:
    # --no-config: not the project's [tool.uv]; no interpreter downloads: only the package index.
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        [str(uv), *args, "--no-config", "--quiet"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        said = "\n".join(result.stderr.strip().splitlines()[-25:])
        raise TrainEnvError(
            f"could not build the training environment ({TRAIN_CONDA.relative_to(REPO_ROOT)}, pip section):"
            f" `uv {' '.join(args[:2])}` exited {result.returncode}: pins that cannot be installed"
            f" together, or no package index (PyPI) or no Python {python} on this machine. uv said:\n{said}"
        )


def _build(spec: TrainEnvSpec, target: Path, uv: Path) -> None:
    partial = Path(tempfile.mkdtemp(prefix=f"{spec.key}.", suffix=".partial", dir=target.parent))
    try:
        venv = partial / "venv"
        requirements = partial / "requirements.txt"
        requirements.write_text("\n".join(spec.requirements) + "\n")
        _uv(
            uv, ["venv", str(venv), "--relocatable", "--python", spec.python], cwd=partial, python=spec.python
        )
        install = [
            "pip",
            "install",
            "--python",
            str(venv_python(venv)),
            "--compile-bytecode",
            "-r",
            str(requirements),
        ]
        _uv(uv, install, cwd=partial, python=spec.python)
        partial.chmod(0o755)
        partial.rename(target)  # complete: only now does the venv exist under its key
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _prune(cache_dir: Path, keep: str) -> None:
    """Remove the venvs (about 1 GB each) of other pins, and builds a killed process left behind."""
    for path in cache_dir.iterdir():
        if (
            path.is_dir()
            and (_KEY.fullmatch(path.name) or path.name.startswith(f"{keep}."))
            and path.name != keep
        ):
            shutil.rmtree(path, ignore_errors=True)


def ensure_venv(spec: TrainEnvSpec, cache_dir: Path = CACHE_DIR, uv: Path | None = None) -> Path:
    """The venv for ``spec``: reused when built before, else built now (once across processes).

    Building one removes the venvs of other pins under ``cache_dir``.
    """
    target = cache_dir / spec.key
    venv = target / "venv"
    if not venv_python(venv).exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(cache_dir / f"{spec.key}.lock"):
            if not venv_python(venv).exists():  # another process may have built it meanwhile
                _prune(cache_dir, keep=spec.key)
                shutil.rmtree(target, ignore_errors=True)  # damaged since it was built
                _build(spec, target, uv or find_uv())
    return venv


def step_modules(components_dir: Path = COMPONENTS_DIR) -> list[str]:
    """The ``python -m model.X`` module of every command component, in file order."""
    modules = []
    for path in sorted(components_dir.glob("*.yml")):
        if path == PIPELINE_SPEC:
            continue
        command = str(yaml.safe_load(path.read_text())["command"])
        modules += _STEP_MODULE.findall(command)
    return modules


def git_files(code_dir: Path = REPO_ROOT) -> list[str]:
    """The files git sees in ``code_dir``: tracked, or untracked and not gitignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=code_dir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (code_dir / name).is_file()]


def uploaded_files(candidates: list[str], code_dir: Path = REPO_ROOT) -> list[str]:
    """Which of ``candidates`` (paths relative to ``code_dir``) Azure ML uploads for ``code: <code_dir>``.

    azure-ai-ml's own rule: ``get_ignore_file`` (``.amlignore``, else ``.gitignore``) and
    ``IgnoreFile.is_file_excluded``, the test ``traverse_directory`` applies to every file of a code
    asset. The SDK walks every file of the folder, gitignored ones (.venv/) too: tens of thousands
    here, so callers pass the files git sees, plus any sample paths they want checked.
    """
    from azure.ai.ml._utils._asset_utils import get_ignore_file

    ignore_file = get_ignore_file(code_dir)
    root = code_dir.resolve()
    return sorted(name for name in candidates if not ignore_file.is_file_excluded((root / name).as_posix()))


def code_snapshot(dest: Path, code_dir: Path = REPO_ROOT) -> list[str]:
    """Copy into ``dest`` the files Azure ML uploads from ``code_dir`` (of those git sees); list them."""
    files = uploaded_files(git_files(code_dir), code_dir)
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(code_dir / name, target)
    return files


def step_env(code_dir: Path, **extra: str) -> dict[str, str]:
    """A step's environment on Azure ML, as far as this machine can give it: the code snapshot on
    ``PYTHONPATH``, no MLflow telemetry, no display; nothing inherited from the test process."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(code_dir)),
        "PYTHONPATH": str(code_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        **extra,
    }
