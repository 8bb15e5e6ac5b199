"""Reading the specs without the SDK: binding, optional arguments, order, errors."""

from pathlib import Path

import pytest

from pipelines.paths import COMPONENTS_DIR
from pipelines.specs import SpecError, load_component, load_pipeline, render_command, resolve_inputs

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
