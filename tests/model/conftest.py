"""Tiny frames for the model's pure functions."""

import numpy as np
import pandas as pd
import pytest

from model.data import BUNDLED_CSV, load_csv
from model.schema import COLUMNS


@pytest.fixture(scope="session")
def diabetes() -> pd.DataFrame:
    """The bundled data set, read through the loader."""
    return load_csv(BUNDLED_CSV)


@pytest.fixture
def tiny() -> pd.DataFrame:
    """Twelve valid rows in the middle of every range."""
    rng = np.random.default_rng(0)
    mid = {
        "age": 50,
        "sex": 1,
        "bmi": 25,
        "bp": 90,
        "s1": 180,
        "s2": 110,
        "s3": 50,
        "s4": 4,
        "s5": 4.5,
        "s6": 90,
        "target": 150,
    }
    rows = {
        name: np.full(12, float(mid[name])) + rng.uniform(0, 0.5, 12) * (name != "sex") for name in COLUMNS
    }
    return pd.DataFrame(rows)
