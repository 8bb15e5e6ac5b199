"""Write data/diabetes.csv (+ .sha256): scikit-learn's bundled diabetes data in raw units.

The diabetes use case's data file is made by this script: ``python data/diabetes.py``.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from model.hashing import file_sha256  # noqa: E402

CSV = HERE / "diabetes.csv"
COLUMNS = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target")


def write(path: Path = CSV) -> str:
    """Write the data set to ``path`` and its hash beside it; return the hash."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(scaled=False, as_frame=True).frame[list(COLUMNS)]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    digest = file_sha256(path)
    path.with_suffix(path.suffix + ".sha256").write_text(digest + "\n")
    return digest


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CSV
    print(f"wrote {target} ({write(target)})")
