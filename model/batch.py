"""Batch scoring: a model folder's estimator over rows, on pandas or as a Spark pandas UDF.

``predict_frame`` is the scoring function; ``score_spark`` applies it to a Spark DataFrame (where a
user's data lives in Databricks) partition by partition (``mapInPandas``), so Spark
scores with the same function, the same ``estimator.joblib`` and the same scikit-learn that the
online service loads. Each Python worker loads the estimator once.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model import artifact
from model.schema import FEATURES

if TYPE_CHECKING:
    import pandas as pd

PREDICTION = "prediction"


@cache
def _estimator(model_dir: str) -> Any:
    return artifact.load_estimator(Path(model_dir))


def predict_frame(model_dir: Path, frame: pd.DataFrame) -> pd.Series:
    """One prediction per row of ``frame`` (its ten feature columns, in the schema's order)."""
    import numpy as np
    import pandas as pd

    missing = [name for name in FEATURES if name not in frame.columns]
    if missing:
        raise ValueError(f"batch scoring needs the feature columns {missing}")
    rows = frame[list(FEATURES)].to_numpy(dtype=np.float64)
    return pd.Series(_estimator(str(model_dir)).predict(rows), index=frame.index, dtype="float64")


def score_spark(frame: Any, model_dir: Path, output: str = PREDICTION) -> Any:
    """``frame`` (a pyspark DataFrame with the feature columns) with a ``prediction`` column added.

    Spark's ``mapInPandas`` hands each partition to :func:`predict_frame` in Arrow batches.
    ``model_dir`` must be readable by every executor (a Unity Catalog volume path on Databricks).
    """
    from pyspark.sql.types import DoubleType, StructField, StructType

    folder = Path(model_dir)
    schema = StructType([*frame.schema.fields, StructField(output, DoubleType(), nullable=False)])

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            yield batch.assign(**{output: predict_frame(folder, batch)})

    return frame.mapInPandas(predict, schema)
