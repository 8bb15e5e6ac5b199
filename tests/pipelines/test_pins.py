"""An estimator's packages must be pinned in the scoring image and the training environment."""

from pathlib import Path

import pytest

from pipelines.errors import UsageError
from pipelines.pins import check_pins, missing_pins, pins


def test_pins_read_requirements_and_conda_pip_sections():
    text = (
        "lightgbm==4.6.0 \\\n    --hash=sha256:x\n"
        "      - scikit-learn==1.9.1\nuvicorn[standard]==0.54.0\n# x==1\n"
    )
    assert pins(text) == {"lightgbm": "4.6.0", "scikit-learn": "1.9.1", "uvicorn": "0.54.0"}


def test_scikit_learn_is_pinned_where_the_model_trains_and_scores():
    from importlib.metadata import version

    assert missing_pins({"scikit-learn": version("scikit-learn")}) == []


def test_a_missing_pin_is_refused_naming_the_package_and_the_files(tmp_path: Path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("scikit-learn==1.9.1\n")
    assert missing_pins({"LightGBM": "4.6.0"}, (requirements,)) == [
        "requirements.txt does not pin LightGBM, the estimator needs LightGBM==4.6.0"
    ]
    with pytest.raises(
        UsageError, match=r"does not pin lightgbm, the estimator needs lightgbm==4\.6\.0: add"
    ):
        check_pins({"lightgbm": "4.6.0"})
