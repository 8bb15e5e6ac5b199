"""The default use case's CSV, its hash and the loader's errors."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from model.data import DataError, file_sha256, load_csv
from model.params import DEFAULT_PARAMS, load_params
from model.schema import COLUMNS

DATA = load_params(DEFAULT_PARAMS).data_path


def _writer():
    """The default data set's writer script, beside its CSV (data/<name>.py)."""
    spec = importlib.util.spec_from_file_location("writer", DATA.with_suffix(".py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_csv_is_what_its_script_writes_with_its_recorded_hash(bundled_frame, tmp_path: Path):
    assert list(bundled_frame.columns) == list(COLUMNS)
    recorded = DATA.with_suffix(".csv.sha256").read_text().strip()
    assert file_sha256(DATA) == recorded
    assert _writer().write(tmp_path / "a.csv") == recorded  # deterministic


def test_loader_accepts_any_csv_with_the_schema_columns_in_any_order(tmp_path: Path, tiny):
    path = tmp_path / "shuffled.csv"
    tiny[list(reversed(COLUMNS))].to_csv(path, index=False)
    assert list(load_csv(path, COLUMNS).columns) == list(COLUMNS)
    np.testing.assert_allclose(load_csv(path, COLUMNS).to_numpy(), tiny.to_numpy())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data file not found"),
        ("", "data file is empty"),
        ('age,sex\n1,"unterminated\n', "not a readable CSV"),
        (b"\xff\xfe\x00garbage\x00\xff", "not a readable CSV"),
    ],
)
def test_loader_rejects_missing_empty_and_corrupt_files(tmp_path: Path, content, message):
    path = tmp_path / "data.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_csv(path, COLUMNS)


def test_loader_names_missing_and_unexpected_columns(tmp_path: Path, tiny):
    path = tmp_path / "data.csv"
    tiny.rename(columns={"bmi": "BMI"}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"missing columns \['bmi'\]; unexpected columns \['BMI'\]"):
        load_csv(path, COLUMNS)
