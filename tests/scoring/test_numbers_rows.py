"""The simdjson fast path answers exactly what orjson and the checked path answer, or declines.

``numbers_rows`` takes the usual body (``{"data": [[numbers]]}``) straight from simdjson into
a float64 buffer; every body it declines goes to ``orjson.loads`` and ``matrix``. These tests
hold the two equal: bit for bit when the fast path answers, and the fast path declines whatever
the checked path refuses or reads differently (a byte order mark, a duplicate key, nested or
ragged rows, non-numbers, numbers beyond float range or beyond 64-bit integers).
"""

from __future__ import annotations

from typing import Any, TypeVar
from unittest import mock

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import formats
from scoring.validation import FloatArray, RequestError, numbers_rows

T = TypeVar("T")
F = 3  # features of these tests' model
FEATURES = ["a", "b", "c"]
MAX_ROWS = 5


def checked(body: bytes) -> FloatArray | RequestError:
    """What the service answers with the fast path switched off: the rows, or the refusal."""
    with mock.patch.object(formats, "numbers_rows", return_value=None):
        try:
            rows, _ = formats.parse_request(body, formats.JSON, features=FEATURES, max_rows=MAX_ROWS)
        except RequestError as exc:
            return exc
    return rows


def assert_agrees(body: bytes) -> FloatArray | None:
    fast = numbers_rows(body, n_features=F, max_rows=MAX_ROWS)
    if fast is not None:
        slow = checked(body)
        assert not isinstance(slow, RequestError), (body, slow)
        assert fast.dtype == np.float64 and fast.shape == slow.shape, body
        np.testing.assert_array_equal(fast.view(np.uint64), slow.view(np.uint64), err_msg=repr(body))
        assert fast.flags.writeable  # like every other path's rows
    return fast


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": [[1, 2, 3]]}',
        b'{"data":[[1,2,3],[4,5,6]]}',
        b' \n{ "data" :\t[ [ -0.0 , 1E+2 , 2.5e-3 ] ]\r\n} \n',
        b'{"data": [[9007199254740993, -9223372036854775808, 18446744073709551615]]}',
        b'{"data": [[1e-400, 2.2250738585072011e-308, 1.7976931348623157e308]]}',
        b'{"\\u0064ata": [[1, 2, 3]]}',  # an escaped key is still "data"
        b'{"data": [[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]}',  # MAX_ROWS rows
    ],
)
def test_the_usual_bodies_take_the_fast_path_and_read_the_same_floats(body: bytes) -> None:
    assert assert_agrees(body) is not None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'\xef\xbb\xbf{"data": [[1, 2, 3]]}', "a byte order mark: orjson refuses it, simdjson skips it"),
        (b'{"data": [[9, 9, 9]], "data": [[1, 2, 3]]}', "a duplicate key: the last one counts"),
        (b'{"data": [[1, 2, 3]], "params": {}}', "another field"),
        (b'{"data": [[1, 2, 3], [4, 5]]}', "ragged"),
        (b'{"data": [[1, 2, 3, 4], [5, 6]]}', "ragged with the right number of values"),
        (b'{"data": [[1, [2], 3]]}', "a one-value list among the values"),
        (b'{"data": [[1, [], 3], [4, [5, 6], 7]]}', "nested lists with the right total"),
        (b'{"data": [[1, true, 3]]}', "a boolean"),
        (b'{"data": [[1, null, 3]]}', "null"),
        (b'{"data": [[1, "2", 3]]}', "a string"),
        (b'{"data": ["abc"]}', "a string as wide as a row"),
        (b'{"data": [{"a": 1, "b": 2, "c": 3}]}', "a named record: the checked path reads it"),
        (b'{"data": [[1e400, 2, 3]]}', "beyond float range"),
        (b'{"data": [[18446744073709551616, 2, 3]]}', "beyond 64 bits: orjson reads a float"),
        (b'{"data": [[-9223372036854775809, 2, 3]]}', "below int64: orjson reads a float"),
        (b'{"data": [[NaN, 2, 3]]}', "NaN"),
        (b'{"data": []}', "no rows"),
        (b'{"data": [[1, 2, 3]]] }', "a stray bracket"),
        (b'{"data": [[1, 2, 3]]}\x00', "trailing bytes"),
        (b'{"data": [[1, 2, 3]' + b", [1, 2, 3]" * MAX_ROWS + b"]}", "too many rows"),
        (b'{"input_data": [[1, 2, 3]]}', "another format"),
        (b"[[1, 2, 3]]", "not an object"),
        (b"", "empty"),
    ],
)
def test_bodies_the_fast_path_declines(body: bytes, why: str) -> None:
    assert numbers_rows(body, n_features=F, max_rows=MAX_ROWS) is None, why


# --- bodies around the usual one, generated ---------------------------------------------------

SPACE = st.sampled_from(["", "", " ", "\n", "\t ", "\r\n"])
JSON_NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: orjson.dumps(x).decode()),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),  # "1e+16", "-0.0", "5e-324"
    st.integers(min_value=-(2**63), max_value=2**64 - 1).map(str),
    st.sampled_from(["-0", "0e0", "1E+2", "1e-400", "4.9e-324", "2.5E-3", "1.7976931348623157e308"]),
)
# Texts the checked path refuses or reads differently: not JSON, beyond float range, or
# beyond 64-bit integers (orjson reads those as floats, simdjson refuses them).
ODD_NUMBER = st.one_of(
    st.sampled_from(["1e400", "-1e309", "1.", ".5", "01", "+1", "-", "NaN", "Infinity"]),
    st.integers(min_value=2**64, max_value=2**70).map(str),
    st.integers(min_value=-(2**70), max_value=-(2**63) - 1).map(str),
)
NUMBER_TEXT = st.one_of(JSON_NUMBER, ODD_NUMBER)
OTHER_VALUE = st.sampled_from(["true", "false", "null", '"1"', "[]", "[1]", "[1, 2]", "{}", '{"a": 1}'])


def mostly(usual: st.SearchStrategy[T], unusual: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``usual`` nineteen times in twenty: most generated bodies are near-misses of a good one."""
    return st.integers(min_value=0, max_value=19).flatmap(lambda k: unusual if k == 0 else usual)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    def joined(items: list[str], open_: str, close: str) -> str:
        sep = draw(SPACE) + "," + draw(SPACE)
        return open_ + draw(SPACE) + sep.join(items) + draw(SPACE) + close

    n_rows = draw(mostly(st.integers(min_value=1, max_value=MAX_ROWS), st.sampled_from([0, MAX_ROWS + 1])))
    rows = []
    for _ in range(n_rows):
        width = draw(mostly(st.just(F), st.sampled_from([F - 1, F + 1])))
        value = mostly(JSON_NUMBER, st.one_of(ODD_NUMBER, OTHER_VALUE))
        rows.append(joined([draw(value) for _ in range(width)], "[", "]"))
    key = draw(mostly(st.just('"data"'), st.sampled_from(['"\\u0064ata"', '"dat"', '"input_data"'])))
    fields = [f"{key}{draw(SPACE)}:{draw(SPACE)}{joined(rows, '[', ']')}"]
    fields += draw(mostly(st.just([]), st.sampled_from([['"data": [[1, 2, 3]]'], ['"params": {}']])))
    text = draw(SPACE) + joined(fields, "{", "}") + draw(SPACE)
    prefix = draw(mostly(st.just(b""), st.just(b"\xef\xbb\xbf")))
    suffix = draw(mostly(st.just(b""), st.sampled_from([b"]", b"\x00", b" x"])))
    return prefix + text.encode() + suffix


@settings(max_examples=400, deadline=None)
@given(body=bodies())
def test_generated_bodies_fast_path_and_checked_path_agree(body: bytes) -> None:
    assert_agrees(body)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.lists(mostly(JSON_NUMBER, ODD_NUMBER), min_size=F, max_size=F), min_size=1, max_size=MAX_ROWS
    )
)
def test_rows_of_json_numbers_take_the_fast_path(rows: list[list[str]]) -> None:
    body = ('{"data": [' + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]}").encode()
    slow = checked(body)
    fast = assert_agrees(body)
    # Whatever the checked path reads, the fast path reads too, but for the numbers beyond
    # 64-bit integers (orjson reads them as floats; simdjson refuses: the checked path answers).
    beyond_64_bits = any(t.lstrip("-").isdigit() and not -(2**63) <= int(t) < 2**64 for r in rows for t in r)
    assert (fast is not None) == (not isinstance(slow, RequestError) and not beyond_64_bits), body


@pytest.mark.parametrize("body", [b'{"data": [[]]}', b'{"data": [[1], []]}', b'{"data": [[1], [[]]]}'])
def test_one_feature_empty_rows_are_declined(body: bytes) -> None:
    assert numbers_rows(body, n_features=1, max_rows=MAX_ROWS) is None
    assert numbers_rows(b'{"data": [[1], [2]]}', n_features=1, max_rows=MAX_ROWS) is not None


def test_a_parse_does_not_keep_the_parser_busy() -> None:
    # simdjson refuses to reuse a parser while its proxies live; each call has its own.
    body = b'{"data": [[1, 2, 3]]}'
    first = numbers_rows(body, n_features=F, max_rows=MAX_ROWS)
    second = numbers_rows(body, n_features=F, max_rows=MAX_ROWS)
    assert first is not None and second is not None
    assert first.base is not second.base


def test_a_csv_body_never_reaches_simdjson(monkeypatch: Any) -> None:
    called = mock.Mock(return_value=None)
    monkeypatch.setattr(formats, "numbers_rows", called)
    with pytest.raises(RequestError):
        formats.parse_request(b"a,b,c\n1,2", formats.CSV, features=FEATURES, max_rows=MAX_ROWS)
    called.assert_not_called()
