"""Batch scoring on Spark (pyspark, local[2]): the same predictions as the online service."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from model.batch import predict_frame, score_spark
from model.schema import FEATURES
from scoring.model_loader import load_model, predict
from tests.model_folders import build_model_dir, bundled

pytestmark = [
    pytest.mark.slow,
    # py4j (pyspark's bridge to the JVM) leaves its gateway socket for the garbage collector
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("pyspark needs a Java 17+ runtime (java on PATH or JAVA_HOME): see CONTRIBUTING.md")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers import this venv's scikit-learn
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mlops-batch-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_scores_as_the_online_service_does(spark: Any, tmp_path: Path) -> None:
    model_dir = build_model_dir(tmp_path / "model")
    x, _ = bundled()
    rows = x[:200]
    frame = pd.DataFrame(rows, columns=list(FEATURES)).assign(id=range(len(rows)))
    scored = score_spark(spark.createDataFrame(frame).repartition(2), model_dir).toPandas()
    scored = scored.sort_values("id").reset_index(drop=True)
    online = predict(load_model(model_dir), rows)  # what the scoring service answers
    np.testing.assert_allclose(scored["prediction"].to_numpy(), online, rtol=1e-9, atol=1e-9)
    assert list(scored.columns) == [*FEATURES, "id", "prediction"]


def test_a_missing_feature_column_is_named(tmp_path: Path) -> None:
    model_dir = build_model_dir(tmp_path / "model")
    frame = pd.DataFrame(bundled()[0][:3], columns=list(FEATURES)).drop(columns=["bmi"])
    with pytest.raises(ValueError, match=r"\['bmi'\]"):
        predict_frame(model_dir, frame)
