"""`pipelines/local/batch.py`: a registered version's folder scored by `python -m scoring.batch`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from pipelines.errors import UsageError
from pipelines.local import batch
from pipelines.local.registry import ModelVersion
from tests.model_folders import FEATURES, MODEL_NAME, bundled


class Registry:
    """The three calls score_batch makes of LocalRegistry: versions, production, get."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir

    def versions(self, name: str) -> list[str]:
        return ["1", "2"]

    def production_version(self, name: str) -> str | None:
        return "2"

    def get(self, name: str, version: str) -> ModelVersion:
        if version not in self.versions(name):
            raise LookupError(f"model {name} has no version {version} (registered: 1, 2)")
        return ModelVersion(name, version, self.model_dir, {})


def write_rows(path: Path, n: int) -> Path:
    x, _ = bundled()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FEATURES)
        writer.writerows(x[:n].tolist())
    return path


@pytest.mark.slow
def test_scores_with_the_production_version_and_relays_progress(model_dir: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    summary = batch.score_batch(
        Registry(model_dir),  # type: ignore[arg-type]
        MODEL_NAME,
        None,
        write_rows(tmp_path / "in.csv", 20),
        tmp_path / "out.parquet",
        progress=lambda rows, total: seen.append((rows, total)),
    )
    assert summary["model_version"] == "2"
    assert summary["rows_scored"] == 20
    assert seen == [(20, None)]
    assert (tmp_path / "out.parquet").is_file()


@pytest.mark.slow
def test_a_bad_input_is_a_usage_error_with_the_processs_message(model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("age,sex\n1,2\n")
    with pytest.raises(UsageError, match=r"in.csv: missing column\(s\) bmi, bp"):
        batch.score_batch(Registry(model_dir), "m", "1", tmp_path / "in.csv", tmp_path / "out.csv")  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize(
    ("version", "make_input", "message"),
    [
        ("1", False, "does not exist"),
        ("7", True, "has no version 7"),
    ],
)
def test_refused_before_the_process_starts(
    model_dir: Path, tmp_path: Path, version: str, make_input: bool, message: str, mocker: Any
) -> None:
    popen = mocker.patch("subprocess.Popen")
    source = write_rows(tmp_path / "in.csv", 1) if make_input else tmp_path / "missing.csv"
    with pytest.raises(UsageError, match=message):
        batch.score_batch(Registry(model_dir), "m", version, source, tmp_path / "out.csv")  # type: ignore[arg-type]
    popen.assert_not_called()
