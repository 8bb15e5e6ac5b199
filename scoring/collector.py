"""Production data collection: a sample of the rows scored and their predictions, kept off the hot path.

``POST /score`` calls :meth:`Collector.offer` once per answered request: a sampling draw and a
``put_nowait`` of references to the rows already parsed and the predictions already computed
(no copy, no formatting, no I/O). A writer thread formats them and writes them to the
collection folder. The queue is bounded (``SCORING_COLLECT_QUEUE`` requests): when it is full
the request is dropped and counted, never waited for; the folder is bounded too
(``SCORING_COLLECT_MAX_MB``): once it holds that much, batches are dropped and counted and the
files already there are kept (the monitor's window is what is there; nothing is overwritten).

Each flush writes one complete file atomically (a temporary name, then a rename), so a reader
never sees half a file: a NumPy ``.npz`` archive (uncompressed) with one array per column. Per
request: ``time`` (UTC ``datetime64[ms]``, when it was answered), ``request_id`` (the
``x-request-id`` the client got, ASCII) and ``rows`` (how many rows it held); per row:
``features`` (rows × features, named by ``feature_names``) and ``prediction``; and the
``model_version``. A request's rows are consecutive, in its order. Columnar and binary
because writing it is a copy: formatting the same rows as CSV text measured ~10 times the CPU
per row (docs/monitoring.md), and the writer shares the process with the event loop. Parquet
would need pyarrow (156 MB installed, in an image held under 250 MB). ``numpy.load`` opens a file;
``mlops monitor`` reads them and writes the window it analysed as Parquet beside its report.

On Azure ML, when the deployment's ``data_collector`` enables custom logging (Azure ML names its
configuration in ``AZUREML_MDC_CONFIG_PATH``), the writer thread sends each collected request to the
data collector's local agent instead of writing files: ``model_inputs`` and ``model_outputs`` as
``azureml-ai-monitoring`` would (scoring/collector_azure.py), one correlation id per request. A failed
send drops the rest of that batch, counted; the next batch tries again.

A ``.partial`` file is a write that never finished (the process died between write and rename):
those older than a minute are deleted at start; the others count against the disk bound.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from scoring import collector_azure

log = logging.getLogger("scoring")

COLLECT_SUFFIX = ".npz"
"""Complete collection files end with this; the file being written has another name."""
PARTIAL_SUFFIX = ".partial"
"""A file being written, renamed to ``COLLECT_SUFFIX`` once complete."""
STALE_PARTIAL_S = 60.0
"""A ``.partial`` file this old is a crashed write (a live one exists for milliseconds): deleted at start."""
COLUMNS = ("time", "request_id", "rows", "model_version", "features", "feature_names", "prediction")


@dataclass(frozen=True, slots=True)
class CollectorStats:
    """What the collector did: requests taken and dropped, rows written (or sent) and dropped.

    With Azure ML's data collector, ``rows_written`` counts the rows sent to its agent,
    ``requests_sent`` the requests it accepted and ``requests_dropped_send_failed`` those lost
    to a failed send.
    """

    requests: int
    dropped_queue_full: int
    rows_written: int
    rows_dropped_disk_full: int
    write_errors: int
    files: int
    requests_sent: int = 0
    requests_dropped_send_failed: int = 0


def folder_bytes(folder: Path) -> int:
    """The bytes of the collection files in ``folder``, complete or not (counted against the disk bound)."""
    total = 0
    for suffix in (COLLECT_SUFFIX, PARTIAL_SUFFIX):
        for path in folder.glob(f"*{suffix}"):
            with contextlib.suppress(FileNotFoundError):  # renamed or removed meanwhile by another writer
                total += path.stat().st_size if path.is_file() else 0
    return total


def remove_stale_partials(folder: Path, *, older_than_s: float = STALE_PARTIAL_S) -> int:
    """Delete the ``.partial`` files of writes that never finished; returns how many were deleted.

    Only files older than ``older_than_s``: another process collecting into the same folder may be
    writing one right now.
    """
    removed = 0
    now = time.time()
    for path in folder.glob(f"*{PARTIAL_SUFFIX}"):
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than_s:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


class _FromEnvironment:
    """The default sink: Azure ML's data collector when its configuration is there, else files."""


FROM_ENVIRONMENT = _FromEnvironment()


def _sender_from_environment(features: Sequence[str]) -> collector_azure.MdcSender | None:
    """The sender Azure ML's configuration asks for; ``None`` (logged if unusable): files."""
    try:
        config = collector_azure.config_from_environment(os.environ)
    except collector_azure.MdcConfigError as exc:
        log.error("Azure ML data collector configuration unusable (%s): collecting to files", exc)
        return None
    if config is None:
        return None
    sender = collector_azure.MdcSender(config, features)
    if not sender.collections:
        log.warning(
            "Azure ML data collector enables %s, not %s/%s: collecting to files",
            sorted(config.collections),
            collector_azure.INPUTS,
            collector_azure.OUTPUTS,
        )
        return None
    return sender


_Item = tuple[float, str, npt.NDArray[np.float64], npt.NDArray[np.float64]]
_TICK_S = 0.25  # how often the writer thread looks at the queue (it is never woken per request)


class Collector:
    """Samples requests on the event loop; a daemon thread writes them in batches as ``.npz`` files.

    The queue is a ``deque``: appending takes no lock and wakes no thread (a ``queue.Queue``
    wakes the writer, and so hands it the GIL, for every request); the writer thread drains it
    every quarter of a second.

    Args:
        folder: where the files go (created if missing).
        rate: the share of requests kept, in (0, 1]; 1 keeps all (no random draw).
        features: the model's feature names, in the order of the rows' columns.
        model_version: written on every row, so a window spanning a redeploy can be split.
        max_queue: requests waiting for the writer; one more is dropped and counted.
        max_bytes: the most bytes of collection files in ``folder``.
        flush_s: the longest a collected request waits before it is on disk (plus a tick).
        flush_rows: a batch this large is written at the next tick.
        sender: where batches go instead of files: Azure ML's data collector agent; by default
            the one ``AZUREML_MDC_CONFIG_PATH`` configures, if any; ``None``: files.
    """

    def __init__(
        self,
        folder: Path,
        *,
        rate: float,
        features: Sequence[str],
        model_version: str,
        max_queue: int,
        max_bytes: int,
        flush_s: float,
        flush_rows: int = 10_000,
        draw: Callable[[], float] = random.random,
        sender: collector_azure.MdcSender | _FromEnvironment | None = FROM_ENVIRONMENT,
    ) -> None:
        self.folder = folder
        self.rate = rate
        self._draw = draw
        self._queue: deque[_Item] = deque()
        self._max_queue = max_queue
        self._feature_names = np.array(features, dtype=str)
        self._version = model_version
        self._max_bytes = max_bytes
        self._flush_s = flush_s
        self._flush_rows = flush_rows
        self._prefix = f"{os.getpid()}-{os.urandom(3).hex()}"
        self._sequence = 0
        self.requests = 0
        self.dropped_queue_full = 0
        self.rows_written = 0
        self.rows_dropped_disk_full = 0
        self.write_errors = 0
        self.requests_sent = 0
        self.requests_dropped_send_failed = 0
        self._disk_full_logged = False
        self._send_failing = False
        self.sender = _sender_from_environment(features) if isinstance(sender, _FromEnvironment) else sender
        folder.mkdir(parents=True, exist_ok=True)
        if self.sender is not None:
            log.info(
                "collection: to Azure ML's data collector at %s:%d (%s)",
                self.sender.config.host,
                self.sender.config.port,
                ", ".join(self.sender.collections),
            )
        if removed := remove_stale_partials(folder):
            log.warning("collection: deleted %d unfinished .partial file(s) in %s", removed, folder)
        self._bytes = folder_bytes(folder)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scoring-collector", daemon=True)
        self._thread.start()

    # --- the event loop's side: cheap, never blocks ---------------------------------------

    def offer(
        self, rows: npt.NDArray[np.float64], predictions: npt.NDArray[np.float64], request_id: str
    ) -> None:
        """Keep this request with probability ``rate``; drop and count it if the queue is full.

        ``rows`` and ``predictions`` are kept by reference: the caller must not change them after.
        Called from the event loop only (the counters have one writer).
        """
        if self.rate < 1.0 and self._draw() >= self.rate:
            return
        if len(self._queue) >= self._max_queue:
            self.dropped_queue_full += 1
            return
        self._queue.append((time.time(), request_id, rows, predictions))
        self.requests += 1

    def stats(self) -> CollectorStats:
        return CollectorStats(
            self.requests,
            self.dropped_queue_full,
            self.rows_written,
            self.rows_dropped_disk_full,
            self.write_errors,
            self._sequence,
            self.requests_sent,
            self.requests_dropped_send_failed,
        )

    def close(self, timeout_s: float = 10.0) -> CollectorStats:
        """Write what is queued, stop the thread, and log what was collected and dropped."""
        self._stop.set()
        self._thread.join(timeout_s)
        if self.sender is not None:
            self.sender.close()
        stats = self.stats()
        log.info("collection stopped: %s", stats)
        return stats

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        pending: list[_Item] = []
        rows = 0
        deadline = 0.0
        while True:
            stopping = self._stop.wait(_TICK_S)
            while self._queue:  # popleft is atomic: the event loop may append meanwhile
                item = self._queue.popleft()
                if not pending:
                    deadline = time.monotonic() + self._flush_s
                pending.append(item)
                rows += len(item[2])
            if pending and (stopping or rows >= self._flush_rows or time.monotonic() >= deadline):
                self._flush(pending)
                pending, rows = [], 0
            if stopping:
                return

    def _flush(
        self, batch: list[tuple[float, str, npt.NDArray[np.float64], npt.NDArray[np.float64]]]
    ) -> None:
        if not batch:
            return
        if self.sender is not None:
            self._send(self.sender, batch)
            return
        try:
            data = self._encode(batch)
            n_rows = sum(len(item[2]) for item in batch)
            if self._bytes + len(data) > self._max_bytes:
                self.rows_dropped_disk_full += n_rows
                if not self._disk_full_logged:
                    self._disk_full_logged = True
                    log.warning(
                        "collection folder %s holds its limit of %d bytes: new rows are dropped "
                        "(counted) until files are moved away",
                        self.folder,
                        self._max_bytes,
                    )
                return
            self._sequence += 1
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            final = self.folder / f"{stamp}-{self._prefix}-{self._sequence:06d}{COLLECT_SUFFIX}"
            partial = final.with_suffix(PARTIAL_SUFFIX)
            partial.write_bytes(data)
            partial.replace(final)
            self._bytes += len(data)
            self.rows_written += n_rows
        except Exception:  # the service must go on scoring whatever the disk does
            self.write_errors += 1
            log.exception("collection: could not write a batch of %d requests", len(batch))

    def _send(self, sender: collector_azure.MdcSender, batch: list[_Item]) -> None:
        """Each request to the agent; on the first failure the rest of the batch is dropped, counted."""
        for index, (when, request_id, rows, predictions) in enumerate(batch):
            try:
                sender.send_request(timestamp=when, request_id=request_id, rows=rows, predictions=predictions)
            except Exception as exc:  # the service must go on scoring whatever the agent does
                self.requests_dropped_send_failed += len(batch) - index
                if not self._send_failing:
                    self._send_failing = True
                    log.warning("collection: the data collector agent failed (%s): dropping, counted", exc)
                return
            self.requests_sent += 1
            self.rows_written += len(rows)
            if self._send_failing:
                self._send_failing = False
                log.info("collection: the data collector agent answers again")

    def _encode(self, batch: list[_Item]) -> bytes:
        """The batch as an uncompressed ``.npz``: request columns once per request, row columns in C."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            time=(np.fromiter((item[0] for item in batch), np.float64, len(batch)) * 1000).astype(
                "datetime64[ms]"
            ),
            request_id=np.array([item[1] for item in batch], dtype=np.bytes_),
            rows=np.fromiter((len(item[2]) for item in batch), np.int32, len(batch)),
            model_version=np.array(self._version, dtype=str),
            features=np.concatenate([item[2] for item in batch]),
            feature_names=self._feature_names,
            prediction=np.concatenate([item[3] for item in batch], axis=None),
        )
        return buffer.getvalue()
