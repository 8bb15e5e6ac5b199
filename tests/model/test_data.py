"""The bundled CSV, its hash and the loader's errors."""

from pathlib import Path

import numpy as np
import pytest

from model.data import BUNDLED_CSV, DataError, bundled_frame, file_sha256, load_csv, write_bundled_csv
from model.schema import COLUMNS


def test_bundled_csv_is_sklearns_diabetes_data_with_its_recorded_hash(diabetes):
    assert list(diabetes.columns) == list(COLUMNS)
    assert diabetes.shape == (442, 11)
    np.testing.assert_allclose(diabetes.to_numpy(), bundled_frame().to_numpy(), rtol=1e-5)
    recorded = BUNDLED_CSV.with_suffix(".csv.sha256").read_text().strip()
    assert file_sha256(BUNDLED_CSV) == recorded


def test_writing_the_bundled_csv_is_deterministic(tmp_path: Path):
    first = write_bundled_csv(tmp_path / "a.csv")
    assert write_bundled_csv(tmp_path / "b.csv") == first == file_sha256(BUNDLED_CSV)


def test_loader_accepts_any_csv_with_the_schema_columns_in_any_order(tmp_path: Path, tiny):
    path = tmp_path / "shuffled.csv"
    tiny[list(reversed(COLUMNS))].to_csv(path, index=False)
    assert list(load_csv(path).columns) == list(COLUMNS)


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
        load_csv(path)


def test_loader_names_missing_and_unexpected_columns(tmp_path: Path, tiny):
    path = tmp_path / "data.csv"
    tiny.rename(columns={"bmi": "BMI"}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"missing columns \['bmi'\]; unexpected columns \['BMI'\]"):
        load_csv(path)
