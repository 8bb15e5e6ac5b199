"""One home per shared fact; where the import rules forbid sharing, the copies are pinned here.

Inside a package each fact has one home that its modules import (``pipelines/paths.py``,
``pipelines/contracts.py``, ``model/paths.py``, ``model/outputs.py``, ``scoring/contract.py``,
``infra/config.py``). The packages may not import each other's homes (``pyproject.toml``,
``[tool.importlinter]``), so each test below imports every copy of one fact and fails with a
message that names all of them when one drifts. The stack outputs have their own contract tests:
``tests/infra/test_program.py`` (the program's exports = ``pipelines.stack_outputs.StackOutputs``)
and ``tests/pipelines/stacks/test_teardown.py`` (the outputs the teardown reads).
"""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.paths import REPO_ROOT


def assert_same(fact: str, copies: dict[str, Any]) -> None:
    """All copies of ``fact`` are equal; otherwise fail naming every place and its value."""
    values = list(copies.values())
    if any(value != values[0] for value in values[1:]):
        places = "\n".join(f"  {place}: {value!r}" for place, value in copies.items())
        pytest.fail(f"{fact} differs between its copies; change them together:\n{places}", pytrace=False)


# --- the project name -------------------------------------------------------------------------


def test_the_pulumi_project_name() -> None:
    from infra.config import NAMESPACE, PROJECT
    from pipelines.contracts import PULUMI_PROJECT

    assert_same(
        "the Pulumi project name (and settings namespace)",
        {
            "Pulumi.yaml name": yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["name"],
            "infra/config.py PROJECT": PROJECT,
            "infra/config.py NAMESPACE": NAMESPACE,
            "pipelines/contracts.py PULUMI_PROJECT": PULUMI_PROJECT,
        },
    )


def test_the_stack_settings_the_pipelines_set_are_settings_of_the_program() -> None:
    from infra.config import NAMESPACE, Settings
    from pipelines.azure.qa_deploy import API_KEY, IMAGE_KEY, VERSION_KEY
    from pipelines.stacks.selection import CONFIG_EXPIRES_AT

    known = {field.alias or name for name, field in Settings.model_fields.items()}
    for place, key in {
        "pipelines/azure/qa_deploy.py IMAGE_KEY": IMAGE_KEY,
        "pipelines/azure/qa_deploy.py VERSION_KEY": VERSION_KEY,
        "pipelines/azure/qa_deploy.py API_KEY": API_KEY,
        "pipelines/stacks/selection.py CONFIG_EXPIRES_AT": CONFIG_EXPIRES_AT,
    }.items():
        namespace, _, name = key.partition(":")
        assert namespace == NAMESPACE and name in known, (
            f"{place} = {key!r} is not a setting of infra/config.py Settings "
            f"({NAMESPACE}:<one of {sorted(known)}>)"
        )


# --- the expiry (UTC timestamp) format --------------------------------------------------------


def test_the_expiry_timestamp_format() -> None:
    from infra.config import EXPIRES_AT_FORMAT as INFRA_FORMAT
    from infra.config import EXPIRES_AT_RE as INFRA_RE
    from pipelines.contracts import TIMESTAMP_FORMAT
    from policy.baseline import EXPIRES_AT_FORMAT as POLICY_FORMAT
    from policy.baseline import EXPIRES_AT_RE as POLICY_RE

    assert_same(
        "the expiry timestamp format",
        {
            "infra/config.py EXPIRES_AT_FORMAT": INFRA_FORMAT,
            "policy/baseline.py EXPIRES_AT_FORMAT": POLICY_FORMAT,
            "pipelines/contracts.py TIMESTAMP_FORMAT": TIMESTAMP_FORMAT,
        },
    )
    assert_same(
        "the expiry timestamp pattern",
        {
            "infra/config.py EXPIRES_AT_RE": INFRA_RE.pattern,
            "policy/baseline.py EXPIRES_AT_RE": POLICY_RE.pattern,
        },
    )
    stamp = datetime(2031, 5, 17, 8, 0, 9, tzinfo=UTC).strftime(TIMESTAMP_FORMAT)
    assert INFRA_RE.match(stamp), f"{stamp!r} (the format) does not match {INFRA_RE.pattern} (the pattern)"


# --- the short-lived stack names --------------------------------------------------------------


def test_the_short_lived_stack_name_pattern_and_the_long_lived_stacks() -> None:
    from infra.config import LONG_LIVED_STACKS, SHORT_LIVED_STACK_RE
    from pipelines.stacks.selection import PROTECTED_STACKS, SHORT_LIVED_PATTERN

    # infra matches with ^...$, the selection with fullmatch: the same names (no newline in a name).
    assert_same(
        "the dev-<id> stack name pattern",
        {
            "infra/config.py SHORT_LIVED_STACK_RE": SHORT_LIVED_STACK_RE.pattern,
            "pipelines/stacks/selection.py SHORT_LIVED_PATTERN": f"^{SHORT_LIVED_PATTERN.pattern}$",
        },
    )
    assert_same(
        "the long-lived stacks",
        {
            "infra/config.py LONG_LIVED_STACKS": set(LONG_LIVED_STACKS),
            "pipelines/stacks/selection.py PROTECTED_STACKS": set(PROTECTED_STACKS),
        },
    )


# --- the repository root ----------------------------------------------------------------------

# Where the repository root may be computed from a file's own path: each package's one home, and
# the entry points that must make the root importable before they can import anything of ours.
ROOT_HOMES = {
    "pipelines/paths.py",
    "model/paths.py",
    "infra/config.py",
    "infra/__main__.py",  # run by Pulumi with infra/ on sys.path
    "policy/__main__.py",  # run by the Pulumi CLI as the policy pack
    "scoring/batch/parallel/entry.py",  # run by Azure ML's parallel job as a script
    "bench/infra_mocks.py",
    "bench/scoring_load.py",
}


def _paths_from_file(path: Path) -> list[tuple[int, Path]]:
    """Every ``Path(__file__)...`` expression in ``path`` (with its line), evaluated for that file."""
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Path"
            and [ast.unparse(a) for a in node.args] == ["__file__"]
        ):
            continue
        top: ast.AST = node
        while True:  # climb .attribute, (call), [index] and / "part" as far as they go
            parent = parents.get(top)
            if (
                (isinstance(parent, ast.Attribute | ast.Subscript) and parent.value is top)
                or (isinstance(parent, ast.Call) and parent.func is top)
                or (isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Div) and parent.left is top)
            ):
                top = parent
            else:
                break
        expression = ast.Expression(top)
        value = eval(compile(expression, str(path), "eval"), {"Path": Path, "__file__": str(path)})
        if isinstance(value, Path):
            found.append((node.lineno, value.resolve()))
    return found


def test_the_repository_root() -> None:
    from infra.config import PROJECT_ROOT
    from model.paths import REPO_ROOT as MODEL_ROOT

    assert (REPO_ROOT / "Pulumi.yaml").is_file() and (REPO_ROOT / "pyproject.toml").is_file()
    copies: dict[str, Any] = {
        "pipelines/paths.py REPO_ROOT": REPO_ROOT,
        "model/paths.py REPO_ROOT": MODEL_ROOT,
        "infra/config.py PROJECT_ROOT": PROJECT_ROOT,
    }
    for home in sorted(ROOT_HOMES - {"pipelines/paths.py", "model/paths.py", "infra/config.py"}):
        computed = _paths_from_file(REPO_ROOT / home)
        assert computed, f"{home} no longer computes the repository root: update ROOT_HOMES here"
        for line, value in computed:
            copies[f"{home}:{line}"] = value
    assert_same("the repository root", copies)


def test_the_repository_root_is_computed_only_in_its_homes() -> None:
    files = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    strays = [
        f"{name}:{line}"
        for name in files
        if name not in ROOT_HOMES and "Path(__file__)" in (REPO_ROOT / name).read_text()
        for line, value in _paths_from_file(REPO_ROOT / name)
        if value == REPO_ROOT
    ]
    assert not strays, (
        f"the repository root is computed again in {', '.join(strays)}: import it "
        "(pipelines.paths.REPO_ROOT; inside model/: model.paths.REPO_ROOT; "
        "inside infra/: infra.config.PROJECT_ROOT)"
    )


# --- the scoring service: port, paths, model folder -------------------------------------------


def _dockerfile() -> dict[str, Any]:
    """The facts of scoring/Dockerfile the other copies must agree with."""
    text = re.sub(r"\\\n", " ", (REPO_ROOT / "scoring" / "Dockerfile").read_text())
    final = text.split("\nFROM ")[-1]  # the runtime stage
    env: dict[str, str] = {}
    copies: list[list[str]] = []
    exposed: list[str] = []
    for line in final.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
        elif instruction == "COPY":
            copies.append(shlex.split(rest))
        elif instruction == "EXPOSE":
            exposed += rest.split()
    model_copy = next(c for c in copies if any("MODEL_DIR" in part for part in c))
    health = re.search(r"http://127\.0\.0\.1:%s(/\S*?)' % os\.environ\.get\('SCORING_PORT', '(\d+)'\)", final)
    assert health, "scoring/Dockerfile: the HEALTHCHECK URL is not in the expected form"
    return {
        "env": env,
        "exposed": exposed,
        "model_files": sorted(Path(part).name for part in model_copy[:-1]),
        "model_dir": model_copy[-1].rstrip("/"),
        "health_path": health.group(1),
        "health_port": int(health.group(2)),
    }


def test_the_scoring_port() -> None:
    from infra.components.aci import SCORING_PORT as ACI_PORT
    from pipelines.contracts import SCORING_PORT
    from scoring.contract import DEFAULT_PORT

    docker = _dockerfile()
    assert len(docker["exposed"]) == 1, f"scoring/Dockerfile EXPOSEs {docker['exposed']}: one port expected"
    assert_same(
        "the scoring port",
        {
            "scoring/contract.py DEFAULT_PORT": DEFAULT_PORT,
            "infra/components/aci.py SCORING_PORT (container port, probes, scoringUri)": ACI_PORT,
            "pipelines/contracts.py SCORING_PORT (prod inference_config)": SCORING_PORT,
            "scoring/Dockerfile ENV SCORING_PORT": int(docker["env"]["SCORING_PORT"]),
            "scoring/Dockerfile EXPOSE": int(docker["exposed"][0]),
            "scoring/Dockerfile HEALTHCHECK default": docker["health_port"],
        },
    )


@pytest.mark.parametrize(
    ("fact", "scoring_name", "infra_name", "pipelines_name"),
    [
        ("the scoring path", "SCORE_PATH", "SCORE_PATH", "SCORE_PATH"),
        ("the liveness path", "LIVE_PATH", "LIVENESS_PATH", "LIVE_PATH"),
        ("the readiness path", "READY_PATH", "READINESS_PATH", "READY_PATH"),
    ],
)
def test_the_scoring_paths(fact: str, scoring_name: str, infra_name: str, pipelines_name: str) -> None:
    import infra.components.aci
    import pipelines.contracts
    import scoring.contract

    copies = {
        f"scoring/contract.py {scoring_name}": getattr(scoring.contract, scoring_name),
        f"infra/components/aci.py {infra_name}": getattr(infra.components.aci, infra_name),
        f"pipelines/contracts.py {pipelines_name}": getattr(pipelines.contracts, pipelines_name),
    }
    if scoring_name == "READY_PATH":
        copies["scoring/Dockerfile HEALTHCHECK"] = _dockerfile()["health_path"]
    assert_same(fact, copies)


def test_the_model_folder_file_names() -> None:
    from model.outputs import ESTIMATOR_FILE, METADATA_FILE
    from scoring import contract

    docker = _dockerfile()
    ignored = (REPO_ROOT / "scoring" / "Dockerfile.dockerignore").read_text().splitlines()
    assert_same(
        "the model folder's file names",
        {
            "model/outputs.py ESTIMATOR_FILE, METADATA_FILE": sorted([ESTIMATOR_FILE, METADATA_FILE]),
            "scoring/contract.py ESTIMATOR_FILE, METADATA_FILE": sorted(
                [contract.ESTIMATOR_FILE, contract.METADATA_FILE]
            ),
            "scoring/Dockerfile COPY ${MODEL_DIR}/...": docker["model_files"],
            "scoring/Dockerfile.dockerignore !**/...": sorted(
                line.removeprefix("!**/") for line in ignored if line.startswith("!**/")
            ),
        },
    )


def test_the_model_folder_in_the_image() -> None:
    from pipelines.contracts import MODEL_DIR_IN_IMAGE

    docker = _dockerfile()
    assert_same(
        "the model folder in the scoring image",
        {
            "scoring/Dockerfile COPY destination": docker["model_dir"],
            "scoring/Dockerfile ENV AZUREML_MODEL_DIR": docker["env"]["AZUREML_MODEL_DIR"],
            "pipelines/contracts.py MODEL_DIR_IN_IMAGE (prod deployment)": MODEL_DIR_IN_IMAGE,
        },
    )


def test_the_resource_tags() -> None:
    """The policy pack checks the tags the program writes: its required tags are among infra's, and
    the short-lived tags have the same names."""
    from infra import tags as infra_tags
    from policy import baseline

    missing = set(baseline.REQUIRED_TAGS) - set(infra_tags.REQUIRED_TAGS)
    assert not missing, f"policy/baseline.py requires tags infra/tags.py never writes: {sorted(missing)}"
    pairs = {
        "short-lived": (infra_tags.SHORT_LIVED_TAG, baseline.SHORT_LIVED_TAG),
        "expires-at": (infra_tags.EXPIRES_AT_TAG, baseline.EXPIRES_AT_TAG),
    }
    for fact, (infra_name, policy_name) in pairs.items():
        assert infra_name == policy_name, (
            f"the {fact} tag: infra/tags.py writes {infra_name!r}, policy/baseline.py reads {policy_name!r}"
        )


# --- the production data collection files ------------------------------------------------------


def test_the_collection_file_format() -> None:
    from model.monitor import SUMMARY_FILE as MODEL_SUMMARY
    from model.monitor_data import _COLLECTED_KEYS
    from model.monitor_data import COLLECT_SUFFIX as MODEL_SUFFIX
    from pipelines.local.monitor import SUMMARY_FILE as PIPELINES_SUMMARY
    from scoring.collector import COLLECT_SUFFIX as SCORING_SUFFIX
    from scoring.collector import COLUMNS

    assert_same(
        "the collection files' suffix",
        {
            "scoring/collector.py COLLECT_SUFFIX": SCORING_SUFFIX,
            "model/monitor_data.py COLLECT_SUFFIX": MODEL_SUFFIX,
        },
    )
    assert_same(
        "the collection files' columns",
        {
            "scoring/collector.py COLUMNS": set(COLUMNS),
            "model/monitor_data.py _COLLECTED_KEYS": set(_COLLECTED_KEYS),
        },
    )
    assert_same(
        "the monitor's summary file",
        {
            "model/monitor.py SUMMARY_FILE": MODEL_SUMMARY,
            "pipelines/local/monitor.py SUMMARY_FILE": PIPELINES_SUMMARY,
        },
    )
