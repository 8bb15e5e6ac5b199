"""`mlops schema infer`'s draft: types, widened ranges, allowed values, nullable, the task."""

from pathlib import Path

import pytest

from model.infer import infer_usecase
from model.params import Params, ParamsError


def test_a_draft_widens_ranges_lists_few_values_and_guesses_the_task(tmp_path: Path):
    data = tmp_path / "d.csv"
    rows = [f"{10 + i},{i % 3},{0.5 + i / 100},{'' if i == 4 else i},{i % 2}" for i in range(40)]
    data.write_text("size,grade,ratio,count,label\n" + "\n".join(rows) + "\n")
    draft = infer_usecase(data)
    assert draft["task"] == "classification"
    assert draft["target"] == {"name": "label", "type": "integer", "allowed": [0, 1]}
    assert draft["features"]["grade"] == {"type": "integer", "allowed": [0, 1, 2]}
    assert draft["features"]["size"] == {"type": "integer", "min": 6, "max": 53}  # 10..49 +/- 10 % of 39
    assert draft["features"]["ratio"] == {"type": "number", "min": 0.46, "max": 0.93}
    assert draft["features"]["count"]["nullable"] is True
    assert draft["gate"]["primary_metric"] == "roc_auc"
    Params.model_validate(draft)  # a valid use case as drafted
    assert infer_usecase(data, target="ratio")["task"] == "regression"


def test_a_text_column_is_refused_naming_it(tmp_path: Path):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,x\n2,y\n")
    with pytest.raises(ParamsError, match=r"column 'b' is not numeric \(line 2: 'x'\)"):
        infer_usecase(data)
