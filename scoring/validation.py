"""Turn a ``POST /score`` body into a float matrix, or say precisely what is wrong with it.

The default format of numbers only, ``{"data": [[...], ...]}``, has a fast path
(:func:`numbers_rows`): simdjson parses the body and copies the numbers into one float64
buffer, after a check that the rows are lists of the model's width. Every other body, and every
body that path declines, goes to ``orjson.loads`` (which refuses NaN and Infinity) and
:func:`matrix`, which walks the rows to name the first bad value (row, column) and then
converts the rows it has checked. Error messages name positions, types and this model's
feature names, never the values sent. The other formats (:mod:`scoring.formats`) end here too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import simdjson

from scoring.rules import NOT_FINITE, column_problem

FloatArray = npt.NDArray[np.float64]
_ARRAY, _OBJECT = simdjson.Array, simdjson.Object
_BOM = b"\xef\xbb\xbf"
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b"[],")


@functools.lru_cache(maxsize=64)
def _structure(n_rows: int, n_features: int) -> bytes:
    """The brackets and commas of ``[[v, ..., v], ...]``: ``[[,,],[,,]]`` for 2 rows of 3."""
    row = b"[" + b"," * (n_features - 1) + b"]"
    return b"".join((b"[", (row + b",") * (n_rows - 1), row, b"]"))


@dataclass(frozen=True, slots=True)
class RequestError(Exception):
    """A client error: HTTP status, a stable machine-readable code and a human message."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def new(self) -> RequestError:
        """A copy to raise. Raising one shared instance again and again would chain each
        raise's traceback onto it, keeping every failed request's frames (and bodies) alive."""
        return RequestError(self.status, self.code, self.message)


def invalid(message: str) -> RequestError:
    return RequestError(422, "invalid_input", message)


def parse_json(body: bytes) -> Any:
    if not body:
        raise RequestError(400, "invalid_json", 'the request body is empty: send {"data": [[...]]}')
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if b"NaN" in body or b"Infinity" in body:
            raise RequestError(
                400,
                "invalid_json",
                "NaN and Infinity are not JSON numbers: every value must be a finite number",
            ) from None
        if body[:2] == b"\x1f\x8b":
            raise RequestError(
                415,
                "unsupported_media_type",
                "the body is gzip-compressed: send it uncompressed (no Content-Encoding)",
            ) from None
        message = f"the request body is not valid JSON: {exc}"
        raise RequestError(400, "invalid_json", message) from None


def numbers_rows(body: bytes, *, n_features: int, max_rows: int) -> FloatArray | None:
    """The rows of a default body of numbers only, ``{"data": [[...], ...]}``; else ``None``.

    simdjson parses the body and ``Array.as_buffer`` copies the numbers straight into one
    float64 buffer: no Python object per value. ``None`` for anything else (another format, a
    value that is not a number, ragged or nested rows, no rows or too many, a body simdjson
    refuses): :func:`parse_json` and :func:`matrix` then judge it as they judge every body, so
    this path only ever answers what they would (tests/scoring/test_numbers_rows.py holds the
    two equal, bit for bit).
    """
    if body.startswith(_BOM):  # simdjson skips a byte order mark, orjson refuses it
        return None
    try:
        doc = simdjson.Parser().parse(body)  # a parser per call: ~0.3 us, never shared
        # One key: no duplicate "data" either.
        data = doc.get("data") if type(doc) is _OBJECT and len(doc) == 1 else None
        if type(data) is not _ARRAY or not 0 < (n := len(data)) <= max_rows:
            return None
        # The body's brackets and commas (everything else deleted) are those of n rows of
        # n_features values: no row is ragged, no value is a list. Only strings could hide
        # brackets or commas, and a string value fails below (the key is "data").
        if body.translate(None, _NOT_STRUCTURE) != _structure(n, n_features):
            return None
        # Each int64, uint64 or double as a double (the rounding of numpy's float64(int));
        # true, false, null, a string or an object raises.
        buffer = data.as_buffer(of_type="d")
    except Exception:  # whatever simdjson refuses, parse_json judges
        return None
    flat = np.frombuffer(buffer, dtype=np.float64)
    if flat.size != n * n_features:  # one feature: "[[]]" has the structure of "[[1]]"
        return None
    return flat.reshape(n, n_features)


def check_count(n: int, max_rows: int, where: str) -> None:
    if n == 0:
        raise invalid(f"{where} is empty: send at least one row")
    if n > max_rows:
        raise invalid(f"{where} has {n} rows, more than the maximum of {max_rows} per request")


def matrix(
    data: list[Any],
    n_features: int,
    where: str,
    *,
    cell: Callable[[int, int], str] | None = None,
) -> FloatArray:
    """Check ``data`` (rows of ``n_features`` numbers) value by value and convert it.

    ``cell(i, j)`` names a value in messages (``where[i][j]`` by default). Raises a 422
    :class:`RequestError` for the first row or value that is not a finite number.
    """
    name = cell or (lambda i, j: f"{where}[{i}][{j}]")
    for i, row in enumerate(data):
        if not isinstance(row, list):
            raise invalid(f"{where}[{i}] must be a list of {n_features} numbers, got {kind(row)}")
        if len(row) != n_features:
            raise invalid(f"{where}[{i}] has {len(row)} values, expected {n_features} (one per feature)")
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise invalid(f"{name(i, j)} must be a number, got {kind(value)}")
            if isinstance(value, float) and not np.isfinite(value):
                raise invalid(f"{name(i, j)} {NOT_FINITE}")
    # Every value is an int or a finite float: float64(int) rounds as as_buffer's does.
    return np.array(data, dtype=np.float64).reshape(len(data), n_features)


def reorder(columns: Any, features: Sequence[str], where: str) -> list[int]:
    """The position in ``columns`` of each feature, or a 422 naming missing and unknown columns."""
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise invalid(f"{where} must be a list of column names (strings)")
    positions = {c: j for j, c in enumerate(columns)}
    if len(positions) != len(columns):
        raise invalid(f"{where} names a column more than once")
    missing = [f for f in features if f not in positions]
    unknown = [c for c in columns if c not in set(features)]
    if missing or unknown:
        raise invalid(column_problem(missing, unknown, features))
    return [positions[f] for f in features]


_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),  # before int: bool is an int subclass
    ((int, float), "a number"),
    (str, "a string"),
    (list, "a list"),
    (dict, "an object"),
)


def kind(value: Any) -> str:
    """The JSON type name of a parsed value, for messages (never the value itself)."""
    if value is None:
        return "null"
    for types, name in _KINDS:
        if isinstance(value, types):
            return name
    return type(value).__name__  # pragma: no cover - orjson yields JSON types only
