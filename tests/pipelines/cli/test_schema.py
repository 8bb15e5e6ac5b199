"""`mlops schema infer`: a draft use case on stdout, or one line naming the problem."""

from pathlib import Path

import yaml
from typer.testing import CliRunner

from model.params import Params
from pipelines.cli.main import app

runner = CliRunner()


def test_infer_prints_a_valid_draft_use_case(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i * 0.5},{i * 2.5}\n" for i in range(20)))
    result = runner.invoke(app, ["schema", "infer", str(data), "--model-name", "my-regressor"])
    assert result.exit_code == 0, result.output
    draft = yaml.safe_load(result.output)
    assert Params.model_validate(draft).task == "regression"
    assert draft["model_name"] == "my-regressor" and draft["target"]["name"] == "y"


def test_infer_refuses_a_text_column_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,x\n")
    result = runner.invoke(app, ["schema", "infer", str(data)])
    assert result.exit_code == 2
    assert "column 'b' is not numeric" in result.output
