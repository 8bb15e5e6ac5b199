"""Where a model came from: git commit, data hash, package versions."""

import os
import subprocess
from importlib import metadata
from pathlib import Path

from model.paths import REPO_ROOT

PACKAGES = ("scikit-learn", "numpy", "scipy", "joblib", "pandas")


def git_commit(cwd: Path = REPO_ROOT) -> str:
    """The commit the code came from: ``MLOPS_GIT_COMMIT`` if set (remote jobs), else git.

    A working tree with uncommitted changes gives ``<sha>-dirty``; no git at all gives "unknown".
    """
    if commit := os.environ.get("MLOPS_GIT_COMMIT"):
        return commit
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if status else sha


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages a model depends on."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions
