"""The training data: scikit-learn's bundled diabetes set as a CSV with a content hash, and a loader."""

import argparse
from pathlib import Path

import pandas as pd

from model.hashing import file_sha256
from model.paths import BUNDLED_CSV
from model.schema import COLUMNS

__all__ = ["BUNDLED_CSV", "DataError", "file_sha256", "load_csv", "write_bundled_csv"]


class DataError(ValueError):
    """The data file cannot be read as training data."""


def bundled_frame() -> pd.DataFrame:
    """scikit-learn's diabetes data in raw units, with our column names."""
    from sklearn.datasets import load_diabetes

    frame: pd.DataFrame = load_diabetes(scaled=False, as_frame=True).frame
    return frame[list(COLUMNS)]


def write_bundled_csv(path: Path = BUNDLED_CSV) -> str:
    """Write the bundled data set to ``path`` and its hash beside it; return the hash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bundled_frame().to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    digest = file_sha256(path)
    path.with_suffix(path.suffix + ".sha256").write_text(digest + "\n")
    return digest


def load_csv(path: Path) -> pd.DataFrame:
    """Read a training CSV; any file with the schema's columns will do.

    Raises DataError with one line naming the problem (missing, empty, unparsable, columns).
    """
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file is empty: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise DataError(f"data file is not a readable CSV: {path}: {first_line}") from None
    missing = [name for name in COLUMNS if name not in frame.columns]
    extra = [str(name) for name in frame.columns if name not in COLUMNS]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected columns {extra}")
        raise DataError(
            f"data file {path} has the wrong columns: {'; '.join(parts)} (expected exactly {list(COLUMNS)})"
        )
    return frame[list(COLUMNS)]


def main(argv: list[str] | None = None) -> int:
    """Write the bundled CSV (the file in the repository is made by this command)."""
    parser = argparse.ArgumentParser(prog="python -m model.data", description=main.__doc__)
    parser.add_argument("--output", type=Path, default=BUNDLED_CSV)
    args = parser.parse_args(argv)
    print(f"wrote {args.output} ({write_bundled_csv(args.output)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
