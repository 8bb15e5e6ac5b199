"""Files in and out: the input files, streaming Arrow readers, and writers that never leave half a file.

Readers yield :class:`pyarrow.RecordBatch` of at most ``batch_rows`` rows (Parquet:
``ParquetFile.iter_batches``; CSV: ``pyarrow.csv.open_csv``, the model's feature columns read as
text so that a bad value rejects its row instead of stopping the stream). Writers write to a
hidden temporary file beside the target and rename it over the target only when complete
(``os.replace``, atomic on one file system); :meth:`AtomicFile.discard` removes the temporary
file, so an interrupted or failed run leaves no half output.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from scoring.rules import column_problem

PARQUET = "parquet"
CSV = "csv"
SUFFIXES = {".csv": CSV, ".parquet": PARQUET, ".pq": PARQUET}
# Bytes per CSV block: each block becomes one batch (about 100,000 rows of ten numbers per 8 MiB).
CSV_BLOCK_BYTES = 8 << 20


class BatchInputError(Exception):
    """An input or output that cannot be scored: the message names the file and what is wrong."""


def file_format(path: Path, role: str = "input") -> str:
    """``"csv"`` or ``"parquet"`` from the file's suffix."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        allowed = ", ".join(SUFFIXES)
        raise BatchInputError(
            f"{role} {path}: unknown format {path.suffix or '(no suffix)'}, expected {allowed}"
        )
    return found


def input_files(path: Path) -> list[Path]:
    """The files to score: ``path`` itself, or a folder's CSV and Parquet files in name order.

    Hidden files and names starting with ``_`` (``_SUCCESS``, Spark's markers) are skipped.
    """
    if path.is_file():
        file_format(path)
        return [path]
    if not path.exists():
        raise BatchInputError(f"input {path} does not exist")
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "_"))
    )
    if not files:
        raise BatchInputError(f"input folder {path} holds no {', '.join(SUFFIXES)} file")
    return files


def check_columns(names: Sequence[str], features: Sequence[str], path: Path, added: Sequence[str]) -> None:
    """The file has every feature column, names each column once, and none of the ``added`` columns
    (the prediction, a classifier's probabilities)."""
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise BatchInputError(f"{path}: column(s) {', '.join(repeated)} appear more than once")
    missing = [f for f in features if f not in names]
    if missing:
        raise BatchInputError(f"{path}: " + column_problem(missing, [], features))
    for name in added:
        if name in names:
            raise BatchInputError(f"{path}: already has a column {name!r}, a column batch scoring adds")


class Source:
    """One input file: its column names, its row count when known, and its batches."""

    def __init__(self, path: Path, features: Sequence[str], batch_rows: int) -> None:
        self.path = path
        self.format = file_format(path)
        self._batch_rows = batch_rows
        self._features = list(features)
        self._parquet: pq.ParquetFile | None = None
        self._csv: Any = None
        try:
            if self.format == PARQUET:
                self._parquet = pq.ParquetFile(path)
                self.schema: pa.Schema = self._parquet.schema_arrow
                self.rows: int | None = self._parquet.metadata.num_rows
            else:
                self._csv = self._open_csv()
                self.schema = self._csv.schema
                self.rows = None
        except (pa.ArrowInvalid, OSError) as exc:
            raise BatchInputError(
                f"cannot read {path} as {self.format.upper()}: {_first_line(exc)}"
            ) from None

    def _open_csv(self) -> Any:
        if self.path.stat().st_size == 0:
            raise BatchInputError(f"{self.path} is empty: a CSV file needs a header row")
        return pa_csv.open_csv(
            self.path,
            read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            # A feature read as text: a bad value rejects its row, where a float column would
            # stop the stream. The text is converted in frame.py (one vectorised cast).
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(self._features, pa.string()), strings_can_be_null=False
            ),
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The file's rows in order, in batches."""
        try:
            if self._parquet is not None:
                yield from self._parquet.iter_batches(batch_size=self._batch_rows)
            else:
                yield from self._csv
        except pa.ArrowInvalid as exc:
            raise BatchInputError(f"cannot read {self.path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


class AtomicFile:
    """A file written under a temporary name beside ``path`` and renamed to ``path`` by :meth:`commit`."""

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            raise BatchInputError(f"output {path} is a folder: name a file")
        if not path.parent.is_dir():
            raise BatchInputError(f"output folder {path.parent} does not exist")
        self.path = path
        self.temporary = _temporary(path)

    def commit(self) -> None:
        self.temporary.replace(self.path)

    def discard(self) -> None:
        self.temporary.unlink(missing_ok=True)


class TableWriter(AtomicFile):
    """Arrow batches to Parquet (``ParquetWriter``) or CSV (``pyarrow.csv.CSVWriter``)."""

    def __init__(self, path: Path, schema: pa.Schema, metadata: Mapping[str, str], added: int = 1) -> None:
        super().__init__(path)
        self.format = file_format(path, "output")
        self.schema = schema.with_metadata(dict(metadata)) if self.format == PARQUET else schema
        self._writer: Any
        if self.format == PARQUET:
            # Dictionary encoding for the input's columns only: the ``added`` last columns (the
            # prediction, probabilities) hold distinct floats, where trying a dictionary costs as
            # much as writing it.
            dictionary = [field.name for field in self.schema][:-added]
            self._writer = pq.ParquetWriter(self.temporary, self.schema, use_dictionary=dictionary)
        else:
            self._writer = pa_csv.CSVWriter(self.temporary, self.schema)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._writer.write_batch(batch)

    def commit(self) -> None:
        self._writer.close()
        super().commit()

    def discard(self) -> None:
        self._writer.close()
        super().discard()


class RejectsWriter(AtomicFile):
    """The rejected rows as CSV: ``file``, ``row`` (1 = the file's first data row) and ``reason``."""

    HEADER = ("file", "row", "reason")

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._handle = self.temporary.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._handle)
        self._csv.writerow(self.HEADER)

    def write(self, file: str, rejects: Sequence[tuple[int, str]]) -> None:
        self._csv.writerows((file, row, reason) for row, reason in rejects)

    def commit(self) -> None:
        self._handle.close()
        super().commit()

    def discard(self) -> None:
        self._handle.close()
        super().discard()
