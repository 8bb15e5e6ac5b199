"""Tiny frames for the model's pure functions (the default use case, config/usecase.yaml)."""

import numpy as np
import pandas as pd
import pytest

from model.data import load_csv
from model.params import DEFAULT_PARAMS, load_params
from model.schema import COLUMNS, Schema, schema_of


@pytest.fixture(scope="session")
def schema() -> Schema:
    """The default use case's schema."""
    return schema_of(load_params(DEFAULT_PARAMS))


@pytest.fixture(scope="session")
def bundled_frame() -> pd.DataFrame:
    """The default use case's data, read through the loader."""
    return load_csv(load_params(DEFAULT_PARAMS).data_path, COLUMNS)


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
