"""Azure ML's data collector for a custom container: what ``azureml-ai-monitoring`` sends, without pandas.

Azure ML's custom logging (Learn, how-to-collect-production-data, "Perform custom logging for model
monitoring") is the ``azureml-ai-monitoring`` package calling ``Collector(name=...).collect(df)`` in the
scoring code; that package needs pandas (kept out of the image: tests/scoring/test_requirements.py).
This module speaks the same protocol, read in its 1.0.0 wheel (azureml_ai_monitoring-1.0.0-py3-none-any.whl,
PyPI; files named below), and is checked against the package itself by tests/scoring/test_collector_azure.py:

- configuration (``config/config.py`` ``loadConfig``): the JSON file named by ``AZUREML_MDC_CONFIG_PATH``;
  its ``collections`` whose ``enabled`` is truthy are on (names lower-cased); custom logging is on when one
  of them is neither ``request`` nor ``response``; ``runMode: local`` captures to the log instead of
  sending (here: not sent, the files are written as locally); the agent is
  ``AZUREML_MDC_HOST``:``AZUREML_MDC_PORT`` (default ``127.0.0.1:50011``);
- transport (``worker/sender.py`` ``MdcSender``): ``POST http://<host>:<port>/modeldata/log``, one per
  collected DataFrame, 2xx is success, with the headers ``Accept: */*``, ``Content-Type:
  application/json``, ``trace-id`` (a new UUID per payload), ``ce-time`` (Unix seconds),
  ``ce-type: azureml.inference.<collection>``, ``ce-collect-data-type: pandas.core.frame.DataFrame``,
  ``ce-agent: azureml-ai-monitoring/1.0.0``, ``ce-x-request-id`` (the correlation id) and
  ``ce-model-version`` (``default``: ``collector_base.py`` initialises the SDK with ``"default"``);
- payload (``payload/logdata.py``): ``DataFrame.to_json(orient="records")``, pandas' JSON with its
  default 10 decimals (:func:`pandas_double`, after pandas' vendored ultrajson
  ``Buffer_AppendDoubleUnchecked``);
- correlation (``context/context.py``; Learn, "log custom unique IDs"): one id and one timestamp for a
  request's ``model_inputs`` and ``model_outputs``; here the request's ``x-request-id``.

One difference on purpose: the SDK draws its sampling per collection (``collector_json.py``), so a
request's inputs may be kept and its outputs not. Here the service samples once per request
(``SCORING_COLLECT_RATE``) and sends both collections or neither; the deployment's
``data_collector.sampling_rate`` is set to the same rate by ``mlops deploy --env prod``.
"""

from __future__ import annotations

import http.client
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

INPUTS = "model_inputs"
OUTPUTS = "model_outputs"
PREDICTION_COLUMN = "prediction"
MDC_PATH = "/modeldata/log"  # worker/sender.py: self.path
AGENT = "azureml-ai-monitoring/1.0.0"  # payload/payload.py: "azureml-ai-monitoring/" + __version__
DATA_TYPE = "pandas.core.frame.DataFrame"  # payload/logdata.py get_type_fullname of a DataFrame
MODEL_VERSION = "default"  # collector_base.py / collector_json.py: super().__init__("default")
DEFAULT_HOST = "127.0.0.1"  # config/config.py
DEFAULT_PORT = 50011
PAYLOAD_COLLECTIONS = frozenset({"request", "response"})  # payload logging, done by Azure ML itself


class MdcConfigError(ValueError):
    """The data collector's configuration file cannot be read."""


@dataclass(frozen=True, slots=True)
class MdcConfig:
    """Where the agent listens and which collections the deployment enabled."""

    host: str
    port: int
    collections: frozenset[str]

    def enabled(self, collection: str) -> bool:
        return collection in self.collections


def config_from_environment(env: Mapping[str, str]) -> MdcConfig | None:
    """The agent's configuration when Azure ML enabled custom logging for this deployment, else ``None``.

    Raises:
        MdcConfigError: ``AZUREML_MDC_CONFIG_PATH`` names a file that is not a JSON object, or the port
            is not a number.
    """
    path = env.get("AZUREML_MDC_CONFIG_PATH")
    if not path:
        return None
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        port = int(env.get("AZUREML_MDC_PORT", str(DEFAULT_PORT)))
    except (OSError, ValueError) as exc:
        raise MdcConfigError(f"AZUREML_MDC_CONFIG_PATH={path}: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("collections", {}), dict):
        raise MdcConfigError(f"AZUREML_MDC_CONFIG_PATH={path}: not a JSON object with 'collections'")
    if document.get("runMode", "cloud") == "local":
        return None
    collections = frozenset(
        str(name).lower()
        for name, settings in document.get("collections", {}).items()
        if isinstance(settings, dict) and settings.get("enabled", False)
    )
    if not collections - PAYLOAD_COLLECTIONS:
        return None
    return MdcConfig(env.get("AZUREML_MDC_HOST", DEFAULT_HOST), port, collections)


def pandas_double(value: float) -> str:
    """``value`` as pandas' ``to_json`` writes it (``double_precision=10``).

    pandas' vendored ultrajson, ``Buffer_AppendDoubleUnchecked``: ``%.10g`` beyond 1e16 - 1 or under 1e-15;
    otherwise the whole part, and the fraction rounded to 10 digits (half to odd, as written there)
    without trailing zeros, at least ``.0``. NaN and infinities are written ``null`` (pandas' ``to_json``).
    """
    if not math.isfinite(value):
        return "null"
    negative = value < 0
    if negative:
        value = -value
    if value > 1e16 - 1 or (value != 0.0 and value < 1e-15):
        return "%.10g" % (-value if negative else value)
    whole = int(value)
    scaled = (value - whole) * 1e10
    frac = int(scaled)
    diff = scaled - frac
    if diff > 0.5 or (diff == 0.5 and (frac == 0 or frac & 1)):
        frac += 1
    if frac >= 10_000_000_000:
        frac, whole = 0, whole + 1
    digits = f"{frac:010d}".rstrip("0") if frac else "0"
    return f"{'-' if negative else ''}{whole}.{digits}"


def pandas_doubles(values: npt.NDArray[np.float64]) -> list[str]:
    """:func:`pandas_double` of every value, the arithmetic done by NumPy (the same IEEE operations)."""
    flat = np.ravel(values).astype(np.float64)
    magnitude = np.abs(flat)
    fixed = np.isfinite(flat) & (magnitude <= 1e16 - 1) & ((magnitude >= 1e-15) | (magnitude == 0))
    safe = np.where(fixed, magnitude, 0.0)
    whole = np.trunc(safe)
    scaled = (safe - whole) * 1e10
    frac = np.trunc(scaled)
    diff = scaled - frac
    frac_int = frac.astype(np.int64)
    up = (diff > 0.5) | ((diff == 0.5) & ((frac_int == 0) | (frac_int & 1 == 1)))
    frac_int += up
    rollover = frac_int >= 10_000_000_000
    frac_int[rollover] = 0
    whole_int = whole.astype(np.int64) + rollover
    sign = np.where(flat < 0, "-", "")
    out = [
        f"{s}{w}.{str(f + 10_000_000_000)[1:].rstrip('0') or '0'}"
        for s, w, f in zip(sign.tolist(), whole_int.tolist(), frac_int.tolist(), strict=True)
    ]
    if not fixed.all():
        for i in np.flatnonzero(~fixed).tolist():
            out[i] = pandas_double(float(flat[i]))
    return out


def _key(name: str) -> str:
    # pandas writes names ASCII-escaped (force_ascii) and escapes "/" (ultrajson's default)
    return json.dumps(name, ensure_ascii=True).replace("/", "\\/")


def records_json(columns: Sequence[str], values: npt.NDArray[np.float64]) -> bytes:
    """A DataFrame of ``values`` (rows × columns) as ``to_json(orient="records")`` writes it."""
    width = len(columns)
    template = "{" + ",".join(_key(c).replace("%", "%%") + ":%s" for c in columns) + "}"
    numbers = pandas_doubles(values)
    rows = [template % tuple(numbers[i : i + width]) for i in range(0, len(numbers), width)]
    return ("[" + ",".join(rows) + "]").encode("ascii")


def headers(collection: str, *, trace_id: str, timestamp: int, correlation_id: str) -> dict[str, str]:
    """The headers ``MdcSender.send`` sends for one payload (worker/sender.py)."""
    return {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "trace-id": trace_id,
        "ce-time": str(timestamp),
        "ce-type": f"azureml.inference.{collection}",
        "ce-collect-data-type": DATA_TYPE,
        "ce-agent": AGENT,
        "ce-x-request-id": correlation_id,
        "ce-model-version": MODEL_VERSION,
    }


class MdcSender:
    """Posts payloads to the agent over one kept-alive connection; called from the writer thread only.

    Args:
        config: the agent's address and the enabled collections.
        features: the model's feature names (the ``model_inputs`` columns).
        timeout_s: the longest one connect or answer may take.
        new_id: makes each payload's ``trace-id`` (a UUID, as the SDK's ``Payload`` does).
    """

    def __init__(
        self,
        config: MdcConfig,
        features: Sequence[str],
        *,
        timeout_s: float = 2.0,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self._features = list(features)
        self._timeout_s = timeout_s
        self._new_id = new_id
        self._connection: http.client.HTTPConnection | None = None
        self.collections = [c for c in (INPUTS, OUTPUTS) if config.enabled(c)]

    def send_request(
        self,
        *,
        timestamp: float,
        request_id: str,
        rows: npt.NDArray[np.float64],
        predictions: npt.NDArray[np.float64],
    ) -> None:
        """Send one request's inputs and outputs with one correlation id; raises ``OSError`` on failure."""
        correlation_id = request_id or self._new_id()  # the SDK's BasicCorrelationContext default
        seconds = int(timestamp)
        for collection in self.collections:
            if collection == INPUTS:
                body = records_json(self._features, rows)
            else:
                body = records_json([PREDICTION_COLUMN], np.reshape(predictions, (-1, 1)))
            self._post(
                body,
                headers(
                    collection,
                    trace_id=self._new_id(),
                    timestamp=seconds,
                    correlation_id=correlation_id,
                ),
            )

    def _post(self, body: bytes, sent_headers: dict[str, str]) -> None:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.config.host, self.config.port, timeout=self._timeout_s
            )
        try:
            self._connection.request("POST", MDC_PATH, body=body, headers=sent_headers)
            answer = self._connection.getresponse()
            text = answer.read()  # all of it: the connection is reused
            if answer.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise OSError(f"data collector agent {self.config.host}:{self.config.port}: {exc}") from exc
        if not 200 <= answer.status < 300:
            raise OSError(f"data collector agent answered {answer.status}: {text[:200]!r}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
