"""Reading the specs without the SDK: binding, optional arguments, order, errors."""

from pathlib import Path

import pytest

from pipelines.paths import COMPONENTS_DIR
from pipelines.specs import (
    OUTCOME_OUTPUT,
    SpecError,
    load_component,
    load_pipeline,
    pipeline_outputs,
    render_command,
    resolve_inputs,
)

TRAIN = COMPONENTS_DIR / "train.yml"


def test_optional_groups_are_dropped_when_unset_and_kept_when_set(tmp_path: Path):
    component = load_component(TRAIN)
    inputs = {"data": "d.csv", "data_check": "chk", "params": "p.yaml"}
    outputs = {"model": tmp_path / "m", "test_data": tmp_path / "t"}
    argv = render_command(component, inputs, outputs)
    assert "--alpha" not in argv and "--seed" not in argv
    assert argv[:3] == ["python", "-m", "model.train"]
    argv = render_command(component, {**inputs, "alpha": 0.5}, outputs)
    assert argv[argv.index("--alpha") + 1] == "0.5"


def test_values_with_spaces_stay_one_argument(tmp_path: Path):
    component = load_component(TRAIN)
    inputs = {"data": "my data.csv", "data_check": "c", "params": "p"}
    argv = render_command(component, inputs, {"model": tmp_path / "m", "test_data": tmp_path / "t"})
    assert argv[argv.index("--data") + 1] == "my data.csv"


def test_required_value_missing_is_an_error(tmp_path: Path):
    component = load_component(TRAIN)
    with pytest.raises(SpecError, match=r"inputs.data has no value"):
        render_command(component, {"params": "p"}, {"model": tmp_path, "test_data": tmp_path})


def test_unknown_extra_input_is_an_error():
    inputs, jobs = load_pipeline()
    train = next(j for j in jobs if j.name == "train")
    outputs = {"validate_data": {"report": Path("r")}}
    with pytest.raises(SpecError, match="has no input 'depth'"):
        resolve_inputs(train, inputs, outputs, {"depth": 3})


def test_pipeline_order_follows_the_bindings_and_a_cycle_is_rejected(tmp_path: Path):
    _, jobs = load_pipeline()
    assert [j.name for j in jobs] == ["validate_data", "train", "evaluate", "register"]
    cyclic = tmp_path / "pipeline.yml"
    cyclic.write_text(
        f"""type: pipeline
jobs:
  a:
    component: {TRAIN}
    inputs: {{data_check: "${{{{parent.jobs.b.outputs.model}}}}"}}
  b:
    component: {TRAIN}
    inputs: {{data_check: "${{{{parent.jobs.a.outputs.model}}}}"}}
"""
    )
    with pytest.raises(SpecError, match="cycle"):
        load_pipeline(cyclic)


def test_the_outcome_is_the_pipeline_output_promoted_from_register():
    assert pipeline_outputs() == {OUTCOME_OUTPUT: ("register", "registered")}


REGISTER = COMPONENTS_DIR / "register.yml"
DECLARED = "outputs: {registered: {type: uri_folder}}"


@pytest.mark.parametrize(
    ("outputs", "binding", "message"),
    [
        ("", "${{parent.outputs.registered}}", r"bind undeclared pipeline outputs \['registered'\]"),
        (DECLARED, None, r"outputs \['registered'\] are bound from no job"),
        (DECLARED, "./somewhere", r"must be bound as \$\{\{parent"),
    ],
    ids=["undeclared", "unbound", "not-a-parent-binding"],
)
def test_pipeline_outputs_must_match_the_job_bindings(tmp_path: Path, outputs, binding, message):
    job_outputs = f'    outputs: {{registered: "{binding}"}}\n' if binding else ""
    spec = tmp_path / "pipeline.yml"
    jobs = f"jobs:\n  register:\n    component: {REGISTER}\n{job_outputs}"
    spec.write_text(f"type: pipeline\n{outputs}\n{jobs}")
    with pytest.raises(SpecError, match=message):
        load_pipeline(spec)


def test_a_promoted_output_must_exist_on_the_component(tmp_path: Path):
    spec = tmp_path / "pipeline.yml"
    spec.write_text(
        "type: pipeline\noutputs: {x: {type: uri_folder}}\njobs:\n  register:\n"
        f'    component: {REGISTER}\n    outputs: {{nope: "${{{{parent.outputs.x}}}}"}}\n'
    )
    with pytest.raises(SpecError, match="has no output 'nope'"):
        load_pipeline(spec)


def test_the_pipeline_leaves_data_and_model_name_to_the_use_case():
    inputs, _ = load_pipeline()
    assert inputs["data"] is None and inputs["model_name"] == ""
    assert inputs["params"].endswith("config/usecase.yaml")
