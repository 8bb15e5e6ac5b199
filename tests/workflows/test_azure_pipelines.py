"""The Azure Pipelines equivalents: schema-valid, and the same guarantees as the workflows."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.workflow_lint import (
    AZURE_PIPELINES,
    AZURE_TEMPLATES,
    GITHUB_WORKFLOWS,
    ROOT,
    load,
    mlops_contract,
    run,
    walk,
)

PIPELINES = {path.stem: load(path) for path in AZURE_PIPELINES}
TEMPLATES = {path.stem: load(path) for path in AZURE_TEMPLATES}
MLOPS_LINE = mlops_contract(r"", r"\"\$\{args\[@\]\}\"")


def stage(pipeline: str, name: str) -> dict[str, Any]:
    [found] = [s for s in PIPELINES[pipeline]["stages"] if s["stage"] == name]
    return found


def deploy_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    if "strategy" in job and "runOnce" in job["strategy"]:
        return job["strategy"]["runOnce"]["deploy"]["steps"]  # type: ignore[no-any-return]
    return job["steps"]  # type: ignore[no-any-return]


def azure_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["parameters"] for s in deploy_steps(job) if s.get("template") == "templates/azure.yml"]


def scripts(pipeline: str) -> list[str]:
    return [
        str(value)
        for path, value in walk(PIPELINES[pipeline])
        if path and path[-1] in {"script", "inlineScript"}
    ]


def test_the_three_flows_exist() -> None:
    assert set(PIPELINES) == {"pr", "main", "teardown"}
    assert set(TEMPLATES) == {"setup", "azure"}


def test_pipelines_and_templates_match_the_azure_pipelines_schema() -> None:
    files = [*map(str, AZURE_PIPELINES), *map(str, AZURE_TEMPLATES)]
    result = run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            # the vendored schema has ECMA regexes the default engine rejects
            "--regex-variant",
            "python",
            "--builtin-schema",
            "vendor.azure-pipelines",
            *files,
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_template_reference_resolves() -> None:
    for name, pipeline in {**PIPELINES, **TEMPLATES}.items():
        for path, value in walk(pipeline):
            if path and path[-1] == "template":
                assert (ROOT / ".azure-pipelines" / value).is_file(), (name, value)


@pytest.mark.parametrize("name", sorted({*PIPELINES, *TEMPLATES}))
def test_nothing_continues_on_error(name: str) -> None:
    tree = PIPELINES.get(name) or TEMPLATES[name]
    assert [p for p, _ in walk(tree) if p and p[-1] in {"continueOnError", "continue-on-error"}] == []


def test_azure_sign_in_is_workload_identity_only() -> None:
    [task] = TEMPLATES["azure"]["steps"]
    assert task["task"] == "AzureCLI@2"
    assert task["inputs"]["addSpnToEnvironment"] is True
    assert 'ARM_OIDC_TOKEN="$idToken"' in task["inputs"]["inlineScript"]
    everything = "".join(path.read_text() for path in [*AZURE_PIPELINES, *AZURE_TEMPLATES])
    assert "servicePrincipalKey" not in everything and "ARM_CLIENT_SECRET" not in everything
    # secrets are mapped explicitly (Azure Pipelines never exports them on its own)
    assert task["env"]["PULUMI_ACCESS_TOKEN"] == "$(PULUMI_ACCESS_TOKEN)"


def test_the_deploy_chain_runs_in_order_with_one_lock_per_stack() -> None:
    assert stage("main", "dev")["dependsOn"] == "checks"
    assert stage("main", "qa")["dependsOn"] == "dev"
    assert stage("main", "prod")["dependsOn"] == ["dev", "qa"]
    for env in ("dev", "qa", "prod"):
        current = stage("main", env)
        [job] = current["jobs"]
        scripts_ = [s["script"] for s in azure_steps(job)]
        up = next(i for i, script in enumerate(scripts_) if script.startswith("pulumi up"))
        assert scripts_[up - 1] == f"mlops preflight --env {env}"
        assert current["lockBehavior"] == "sequential"
        [job] = current["jobs"]
        assert job["environment"] == f"azure-mlops-{env}"
        connections = {step["serviceConnection"] for step in azure_steps(job)}
        assert connections == {f"azure-mlops-{env}"}
        ups = [s["script"] for s in azure_steps(job) if s["script"].startswith("pulumi up")]
        policy = "--policy-pack policy" + (
            " --policy-pack-config policy/config/dev.json" if env == "dev" else ""
        )
        assert ups == [f"pulumi up --stack {env} {policy} --yes --diff --non-interactive --color never"]


def test_qa_is_updated_only_after_carrying_the_image_it_serves() -> None:
    [job] = stage("main", "qa")["jobs"]
    scripts_ = [step["script"] for step in azure_steps(job)]
    carry = scripts_.index("mlops infra carry-serving --env qa")
    up = next(i for i, script in enumerate(scripts_) if script.startswith("pulumi up --stack qa"))
    assert carry < up
    assert "condition" not in azure_steps(job)[carry]  # every run, model or not


def test_prod_is_only_touched_under_the_prod_environment() -> None:
    for name, pipeline in PIPELINES.items():
        for current in pipeline["stages"]:
            for job in current["jobs"]:
                text = str(job)
                if "azure-mlops-prod" in text or "--env prod" in text or "--stack prod" in text:
                    assert (name, current["stage"]) == ("main", "prod"), (name, current["stage"])
                    assert job["environment"] == "azure-mlops-prod"


def test_model_steps_are_conditional_on_registration_and_prod_rolls_back() -> None:
    for env in ("qa", "prod"):
        [job] = stage("main", env)["jobs"]
        for step in azure_steps(job):
            if (
                "mlops" in step["script"]
                and "rollback" not in step["script"]
                and "carry-serving" not in step["script"]
                and "preflight" not in step["script"]
            ):
                assert step["condition"] == "and(succeeded(), eq(variables.REGISTERED, 'true'))"
        variables = stage("main", env)["variables"]
        assert variables["REGISTERED"] == "$[ stageDependencies.dev.dev.outputs['dev.summary.registered'] ]"
    [prod] = stage("main", "prod")["jobs"]
    rollback = azure_steps(prod)[-1]
    assert rollback["script"] == "mlops rollback --env prod"
    assert rollback["condition"] == "and(failed(), eq(variables.deployed, 'true'))"


def test_pull_requests_preview_every_stack_with_the_policy_pack_and_comment() -> None:
    [job] = stage("pr", "preview")["jobs"]
    assert {v["STACK"] for v in job["strategy"]["matrix"].values()} == {"dev", "qa", "prod"}
    carry, preview = azure_steps(job)
    assert carry["script"] == "mlops infra carry-serving --env qa"
    assert carry["condition"] == "and(succeeded(), eq(variables['STACK'], 'qa'))"
    assert carry["serviceConnection"] == preview["serviceConnection"] == "azure-mlops-preview"
    assert preview["script"].startswith(
        'pulumi preview --stack "$STACK" --policy-pack policy $POLICY_CONFIG --diff'
    )
    configs = {v["STACK"]: v["POLICY_CONFIG"] for v in job["strategy"]["matrix"].values()}
    assert configs == {"dev": "--policy-pack-config policy/config/dev.json", "qa": "", "prod": ""}
    comment = job["steps"][-1]
    assert (
        "post_pr_comment.py" in comment["script"]
        and '--extra "$(Agent.TempDirectory)/cost.md"' in comment["script"]
    )
    cost = job["steps"][-2]
    assert "HEAD^1" in cost["script"] and cost["condition"] == "succeededOrFailed()"
    assert job["steps"][0]["parameters"]["fetchDepth"] == "2"
    assert comment["condition"] == "succeededOrFailed()"
    assert stage("pr", "checks")["jobs"][0]["steps"][-1]["script"] == "make test"


def test_the_short_lived_stack_needs_the_tag_and_is_created_before_up() -> None:
    current = stage("pr", "short_lived")
    assert current["lockBehavior"] == "sequential"
    label, up = current["jobs"]
    assert "short-lived-stack" in label["steps"][-1]["script"]
    assert up["condition"] == "and(succeeded(), eq(dependencies.label.outputs['tag.wanted'], 'true'))"
    [step] = azure_steps(up)
    lines = step["script"].strip().splitlines()
    assert lines[0].startswith("mlops stacks create-short-lived")
    dev_policy = "--policy-pack policy --policy-pack-config policy/config/dev.json"
    assert lines[1].startswith(f'pulumi up --stack "$STACK" {dev_policy}')


def test_teardown_runs_on_a_schedule_and_on_pr_completion() -> None:
    pipeline = PIPELINES["teardown"]
    assert pipeline["schedules"][0]["always"] == "true"
    assert pipeline["resources"]["webhooks"][0]["webhook"] == "prClosed"
    [job] = stage("teardown", "teardown")["jobs"]
    [step] = azure_steps(job)
    assert 'args=(--stack "dev-pr-$PR_ID" --yes)' in step["script"]
    assert "args=(--expired --yes)" in step["script"]
    assert stage("teardown", "teardown")["lockBehavior"] == "sequential"


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_scripts_call_only_contract_commands(name: str) -> None:
    for script in scripts(name):
        for line in script.splitlines():
            stripped = line.strip()
            if stripped.startswith("mlops "):
                assert MLOPS_LINE.match(stripped), stripped


def test_the_pulumi_cli_matches_the_sdk_in_uv_lock() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    [sdk] = [p["version"] for p in lock["package"] if p["name"] == "pulumi"]
    for pipeline in PIPELINES.values():
        versions = [v["value"] for v in pipeline["variables"] if v.get("name") == "PULUMI_VERSION"]
        assert versions == [sdk]
    for path in GITHUB_WORKFLOWS:
        for version in re.findall(r"pulumi-version: (\S+)", path.read_text()):
            assert version == sdk, path.name


# --- the PR comment script -------------------------------------------------------------------


def comment_module() -> Any:
    path = ROOT / ".azure-pipelines" / "scripts" / "post_pr_comment.py"
    spec = importlib.util.spec_from_file_location("post_pr_comment", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeRepos:
    def __init__(self, threads: list[dict[str, Any]]) -> None:
        self.threads = threads
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, method: str, url: str, body: Any) -> Any:
        self.calls.append((method, url, body))
        return {"value": self.threads} if method == "GET" else {}


def test_a_new_preview_starts_a_thread_and_a_rerun_edits_it() -> None:
    module = comment_module()
    content = module.render("pulumi preview: dev", "+ 3 to create", "Succeeded")
    assert content.startswith("<!-- azure-mlops:pulumi preview: dev -->")
    with_cost = module.render("pulumi preview: dev", "+ 3 to create", "Succeeded", "#### Monthly cost: dev\n")
    assert with_cost.endswith("```\n\n#### Monthly cost: dev\n")
    first = FakeRepos([])
    assert module.post(first, "https://x/threads", "pulumi preview: dev", content) == "created"
    assert first.calls[-1][0] == "POST"
    second = FakeRepos([{"id": 7, "comments": [{"id": 1, "content": content}]}])
    assert module.post(second, "https://x/threads", "pulumi preview: dev", content) == "updated"
    assert second.calls[-1][:2] == ("PATCH", "https://x/threads/7/comments/1?api-version=7.1")
    other = FakeRepos([{"id": 7, "comments": [{"id": 1, "content": content}]}])
    assert module.post(other, "https://x/threads", "pulumi preview: qa", content) == "created"


def test_long_output_keeps_its_tail_and_non_pr_builds_do_nothing(tmp_path: Path) -> None:
    module = comment_module()
    content = module.render("t", "x" * 100_000 + "SUMMARY", "Failed")
    assert "(truncated)" in content and "SUMMARY" in content and len(content) < 61_000
    out = tmp_path / "preview.txt"
    out.write_text("ok")
    assert module.main(["--title", "t", "--file", str(out)], env={}) == 0
    with pytest.raises(ValueError, match="non-https"):
        module._request("token")("GET", "http://insecure", None)


def test_the_prod_stage_runs_on_the_prod_pool_parameter_hosted_by_default() -> None:
    """With managed isolation, prod's workspace answers only inside its network (docs/ci.md)."""
    [parameter] = [p for p in PIPELINES["main"]["parameters"] if p["name"] == "prodPool"]
    assert parameter["default"] == "Azure Pipelines"  # the Microsoft-hosted pool's name
    [job] = stage("main", "prod")["jobs"]
    assert job["pool"]["name"] == "${{ parameters.prodPool }}"
    assert job["pool"]["${{ if eq(parameters.prodPool, 'Azure Pipelines') }}"] == {"vmImage": "ubuntu-24.04"}
    others = [j for s in PIPELINES["main"]["stages"] if s["stage"] != "prod" for j in s["jobs"]]
    assert all("prodPool" not in str(j.get("pool", "")) for j in others)


def test_the_chain_retrains_weekly_and_on_drift_and_follows_prod_with_the_monitor() -> None:
    main = PIPELINES["main"]
    assert main["schedules"][0]["always"] == "true"
    assert main["resources"]["webhooks"] == [
        {"webhook": "modelDrift", "connection": "azure-mlops-model-drift"}
    ]
    [job] = stage("main", "prod")["jobs"]
    commands = [p["script"] for p in azure_steps(job)]
    smoke = commands.index("mlops smoke-test --env prod")
    assert commands[smoke + 1] == "mlops monitor --env prod --schedule"
