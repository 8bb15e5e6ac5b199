"""The estimator's packages are pinned where the model trains and scores, or the run is refused.

A model loads only where the packages that built it are installed: the scoring image
(``scoring/requirements.txt``) and the Azure ML training environment
(``environments/train-conda.yaml``) must pin each distribution the use case's estimator comes
from (``model.estimator.distributions``), at the version installed here. The MLflow model's own
requirements are written from the same versions by the train step (``model/artifact.py``).
"""

import re
from pathlib import Path

from pipelines.errors import UsageError
from pipelines.paths import SCORING_REQUIREMENTS, TRAIN_ENVIRONMENT

_PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#\\]+)")


def normalise(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a requirements file or a conda file's pip section."""
    return {normalise(m.group(1)): m.group(2) for line in text.splitlines() if (m := _PIN.match(line))}


def missing_pins(
    distributions: dict[str, str],
    files: tuple[Path, ...] = (SCORING_REQUIREMENTS, TRAIN_ENVIRONMENT),
) -> list[str]:
    """One line per (file, distribution) that is not pinned at the installed version."""
    problems = []
    for path in files:
        pinned = pins(path.read_text())
        for name, version in distributions.items():
            found = pinned.get(normalise(name))
            if found != version:
                where = f"pins {name}=={found}" if found else f"does not pin {name}"
                problems.append(f"{path.name} {where}, the estimator needs {name}=={version}")
    return problems


def check_pins(distributions: dict[str, str]) -> None:
    """Raise UsageError naming the first missing pin and where to add it."""
    if problems := missing_pins(distributions):
        raise UsageError(
            f"{problems[0]}: add the pin to scoring/requirements.in (then recompile "
            "scoring/requirements.txt) and to environments/train-conda.yaml, and the package to "
            "pyproject.toml's model extra (docs/bring-your-own.md, 'Another estimator')"
        )
