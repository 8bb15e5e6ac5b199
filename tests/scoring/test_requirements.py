"""The image's pins agree with pyproject.toml: one scikit-learn for training and scoring."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from pipelines.paths import REPO_ROOT as ROOT


def extra(name: str) -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["optional-dependencies"][name]]
    return {r.name.lower(): r for r in reqs}


def requirements(path: Path) -> dict[str, Requirement]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    # A compiled file continues lines with "\" and adds "--hash" options: keep the requirement.
    reqs = [line.rstrip("\\").strip() for line in lines if line and not line.startswith(("-", "--"))]
    parsed = [Requirement(r) for r in reqs]
    return {r.name.lower(): r for r in parsed}


def pinned(req: Requirement) -> str:
    (spec,) = req.specifier
    assert spec.operator == "==", f"{req} is not pinned exactly"
    return spec.version


def test_direct_requirements_are_the_scoring_extra_pinned_exactly() -> None:
    direct = requirements(ROOT / "scoring" / "requirements.in")
    wanted = extra("scoring")
    assert set(direct) == set(wanted)
    for name, req in direct.items():
        version = pinned(req)
        assert wanted[name].specifier.contains(version), f"{req} is outside the extra's {wanted[name]}"
        assert req.extras == wanted[name].extras, name


def test_scikit_learn_is_pinned_once_for_training_and_scoring() -> None:
    lock = requirements(ROOT / "scoring" / "requirements.txt")
    versions = {pinned(lock["scikit-learn"]), pinned(extra("scoring")["scikit-learn"])}
    assert len(versions) == 1, versions
    model = extra("model").get("scikit-learn")
    if model is not None:
        assert pinned(model) in versions


def test_lock_files_pin_everything_with_hashes_and_agree() -> None:
    text = {f: (ROOT / "scoring" / f).read_text() for f in ("requirements.txt", "requirements-telemetry.txt")}
    locks = {f: requirements(ROOT / "scoring" / f) for f in text}
    for f, lock in locks.items():
        for req in lock.values():
            pinned(req)
        assert text[f].count("--hash=sha256:") >= len(lock), f
    scoring, telemetry = locks["requirements.txt"], locks["requirements-telemetry.txt"]
    for name in set(scoring) & set(telemetry):
        assert pinned(scoring[name]) == pinned(telemetry[name]), name
    for name, req in requirements(ROOT / "scoring" / "requirements.in").items():
        assert pinned(scoring[name]) == pinned(req), name
    assert set(extra("telemetry")) <= set(telemetry)


def test_no_training_or_azure_sdk_packages_in_the_image() -> None:
    names = set(requirements(ROOT / "scoring" / "requirements.txt"))
    names |= set(requirements(ROOT / "scoring" / "requirements-telemetry.txt"))
    assert not {n for n in names if re.match(r"(mlflow|azure-ai-ml|pulumi|pandas)", n)}


def test_dockerfile_runs_as_non_root_with_a_health_check_and_the_model() -> None:
    dockerfile = (ROOT / "scoring" / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root|0\b)", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/health/ready" in dockerfile
    assert "--require-hashes" in dockerfile
    assert "estimator.joblib" in dockerfile and "metadata.json" in dockerfile
    assert "EXPOSE 5001" in dockerfile
