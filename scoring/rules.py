"""The rules a row must pass to be scored, shared by the online service and batch scoring.

A row is scored when the model's feature columns are all there (by name) and each of its values
is a finite number; a prediction that comes out NaN or infinite is refused (the inputs were far
outside what the model was trained on). :mod:`scoring.validation` and :mod:`scoring.formats`
apply these rules to request bodies, :mod:`scoring.batch` to files: the messages are the same.
Pure functions over NumPy arrays and strings; no I/O, no orjson.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

NOT_A_NUMBER = "is not a number"
NOT_FINITE = "is not a finite number"
OUT_OF_RANGE = "the model cannot score these rows: some values are far outside the range it was trained on"


def column_problem(missing: Sequence[str], unknown: Sequence[str], features: Sequence[str]) -> str:
    """A message naming the missing and unknown columns, and the columns the model takes."""
    parts = []
    if missing:
        parts.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown column(s) {', '.join(_short(c) for c in unknown[:5])}")
        if len(unknown) > 5:
            parts[-1] += f" and {len(unknown) - 5} more"
    return "; ".join(parts) + f": the model takes {', '.join(features)}"


def _short(name: str) -> str:
    """A client's column name, quoted and cut short (named so the client can find it)."""
    return repr(name[:40] + ("..." if len(name) > 40 else ""))


def text_value(text: str) -> float:
    """A text cell (CSV) as a number: Python's ``float`` syntax, and finite.

    Raises:
        ValueError: its message is :data:`NOT_A_NUMBER` or :data:`NOT_FINITE`.
    """
    try:
        value = float(text)
    except ValueError:
        raise ValueError(NOT_A_NUMBER) from None
    if not math.isfinite(value):
        raise ValueError(NOT_FINITE)
    return value


def finite_rows(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """For each row of a float matrix, whether every value in it is finite (NaN stands for a gap)."""
    return np.asarray(np.isfinite(rows).all(axis=1), dtype=np.bool_)
