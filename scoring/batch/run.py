"""Score files: every input file's rows, in order, into one output file and one rejects file.

The output holds the input's columns and rows (the rows the rules refuse left out) plus the
``prediction`` column and, for a classifier, one ``probability_<class>`` column per class (in
``metadata.json``'s ``classes`` order); a Parquet output names the model in its schema metadata
(``mlops.model.name``, ``mlops.model.version``). Both files are written under temporary names and
renamed at the end: an error or an interruption (Ctrl-C, SIGTERM) leaves neither a half output
nor a half rejects file, and any previous output in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from threadpoolctl import threadpool_limits

from scoring.batch import frame
from scoring.batch.tables import (
    CSV,
    BatchInputError,
    RejectsWriter,
    Source,
    TableWriter,
    check_columns,
    file_format,
)
from scoring.model_loader import LoadedModel

PREDICTION = "prediction"
# Rows per batch: large enough that per-batch costs vanish (~1 % at 10M rows), small enough that
# a batch of ten float64 features plus its copies stays in a few tens of MB.
BATCH_ROWS = 131_072
MODEL_NAME_KEY = "mlops.model.name"
MODEL_VERSION_KEY = "mlops.model.version"

Progress = Callable[[int, int | None], None]  # rows done so far, total rows when known


@dataclass(frozen=True)
class Summary:
    """What a run did: how many rows were read, scored and rejected, and where they went."""

    model_name: str
    model_version: str
    files: int
    rows_read: int
    rows_scored: int
    rows_rejected: int
    output: str
    rejects: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rejects_path(output: Path) -> Path:
    """The default rejects file beside ``output``: ``scores.parquet`` → ``scores.rejects.csv``."""
    return output.with_name(f"{output.stem}.rejects.csv")


def header(path: Path) -> tuple[list[str], int | None]:
    """A file's column names (and row count for Parquet), read cheaply: checked before any scoring."""
    try:
        if file_format(path) == CSV:
            source = Source(path, [], 1)
            return list(source.schema.names), None
        meta = pq.read_metadata(path)
        return list(meta.schema.to_arrow_schema().names), meta.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise BatchInputError(f"cannot read {path} as {file_format(path).upper()}: {exc}") from None


def score_files(
    inputs: Sequence[Path],
    output: Path,
    model: LoadedModel,
    *,
    rejects: Path | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> Summary:
    """Score ``inputs`` (in this order) with ``model`` into ``output``; refused rows to ``rejects``.

    Raises:
        BatchInputError: a file is missing, unreadable, or lacks a feature column; nothing written.
        frame.ColumnTypeError: a feature column holds no numbers; nothing written.
    """
    started = time.perf_counter()
    rejects = rejects or rejects_path(output)
    file_format(output, "output")
    known: list[int | None] = []
    added = [PREDICTION, *frame.probability_columns(model)]
    for path in inputs:  # every file's columns first: a bad file fails in seconds, not hours
        names, rows = header(path)
        check_columns(names, model.features, path, added)
        known.append(rows)
    total = None if None in known else sum(n for n in known if n is not None)
    metadata = {MODEL_NAME_KEY: model.name, MODEL_VERSION_KEY: model.version}
    read = scored = refused = 0
    writer: TableWriter | None = None
    first = pa.schema([])
    rejected = RejectsWriter(rejects)
    # One BLAS thread: a batch's matrix-vector product is microseconds of work, and BLAS threads
    # spinning beside Arrow's reader threads made it 5x slower on 2 busy cores.
    blas = threadpool_limits(limits=1, user_api="blas")
    try:
        for path in inputs:
            source = Source(path, model.features, batch_rows)
            if writer is None:
                first = source.schema
                schema = frame.output_schema(first, model.features, PREDICTION, added[1:])
                writer = TableWriter(output, schema, metadata, added=len(added))
            offset = 0
            for batch in source.batches():
                result = frame.score(_conform(batch, first, model.features, path), model, PREDICTION)
                writer.write(result.batch)
                rejected.write(path.name, [(offset + i + 1, reason) for i, reason in result.rejects])
                offset += batch.num_rows
                read, scored, refused = (
                    read + batch.num_rows,
                    scored + result.batch.num_rows,
                    refused + len(result.rejects),
                )
                if progress is not None:
                    progress(read, total)
        assert writer is not None  # inputs is never empty (input_files)
        writer.commit()
        rejected.commit()
    except BaseException:
        if writer is not None:
            writer.discard()
        rejected.discard()
        raise
    finally:
        blas.restore_original_limits()
    return Summary(
        model_name=model.name,
        model_version=model.version,
        files=len(inputs),
        rows_read=read,
        rows_scored=scored,
        rows_rejected=refused,
        output=str(output),
        rejects=str(rejects),
        seconds=round(time.perf_counter() - started, 3),
    )


def _conform(batch: pa.RecordBatch, first: pa.Schema, features: Sequence[str], path: Path) -> pa.RecordBatch:
    """A batch in the first file's column order, its other columns in the first file's types.

    Feature columns may differ in type between files (integers here, text there): :mod:`.frame`
    turns each into float64.
    """
    if batch.schema.names != first.names:
        if sorted(batch.schema.names) != sorted(first.names):
            raise BatchInputError(
                f"{path}: its columns ({', '.join(batch.schema.names)}) differ from the first file's "
                f"({', '.join(first.names)})"
            )
        batch = batch.select(first.names)
    for index, field in enumerate(first):
        if field.name in features or batch.schema.field(index).type == field.type:
            continue
        try:
            column = batch.column(index).cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise BatchInputError(
                f"{path}: column {field.name} cannot take the first file's type: {exc}"
            ) from None
        batch = batch.set_column(index, field, column)
    return batch


def main(argv: list[str] | None = None) -> int:
    """Score ``--input`` (a file or folder) into ``--output``; exit 2 on a bad input, 1 on a bad model.

    ``--progress`` prints one JSON line per batch on stdout (``{"rows": n, "total": t}``), for
    the ``mlops`` command's progress bar; ``--summary-file`` receives the :class:`Summary` as JSON.
    """
    import argparse
    import json
    import signal
    import sys

    from scoring.batch.tables import input_files
    from scoring.model_loader import ModelLoadError, load_model

    parser = argparse.ArgumentParser(prog="python -m scoring.batch", description=main.__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--rejects", type=Path, default=None)
    parser.add_argument("--model-name", default=None)
    parser.add_argument("--model-version", default="unknown")
    parser.add_argument("--batch-rows", type=int, default=BATCH_ROWS)
    parser.add_argument("--summary-file", type=Path, default=None)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)

    def stop(signum: int, _: Any) -> None:  # SIGTERM unwinds like Ctrl-C: temporary files removed
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)

    def report(rows: int, total: int | None) -> None:
        print(json.dumps({"rows": rows, "total": total}), flush=True)

    try:
        files = input_files(args.input)
        model = load_model(args.model_dir, name=args.model_name, version=args.model_version)
        summary = score_files(
            files,
            args.output,
            model,
            rejects=args.rejects,
            batch_rows=args.batch_rows,
            progress=report if args.progress else None,
        )
    except (BatchInputError, frame.ColumnTypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(summary.to_dict(), indent=2)
    if args.summary_file is not None:
        args.summary_file.write_text(text + "\n", encoding="utf-8")
    if not args.progress:
        print(text)
    return 0
