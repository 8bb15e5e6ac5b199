"""The training data: a CSV with the use case's columns, and its content hash."""

from pathlib import Path

import pandas as pd

from model.hashing import file_sha256

__all__ = ["DataError", "file_sha256", "load_csv"]


class DataError(ValueError):
    """The data file cannot be read as training data."""


def load_csv(path: Path, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Read a training CSV holding exactly ``columns`` (the use case's features and target;
    default: the default use case's, ``model.schema.COLUMNS``).

    Raises DataError with one line naming the problem (missing, empty, unparsable, columns).
    """
    if columns is None:
        from model.schema import COLUMNS

        columns = COLUMNS
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file is empty: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise DataError(f"data file is not a readable CSV: {path}: {first_line}") from None
    missing = [name for name in columns if name not in frame.columns]
    extra = [str(name) for name in frame.columns if name not in columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected columns {extra}")
        raise DataError(
            f"data file {path} has the wrong columns: {'; '.join(parts)} (expected exactly {list(columns)}; "
            "the use case's 'features' and 'target' name them)"
        )
    return frame[list(columns)]
