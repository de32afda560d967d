"""Every class of bad input: what, the JSON path and the byte offset, whatever msgspec says.

This file runs on every msgspec release the declared range admits
(``make ci LEGS=msgspec-releases``, docs/ci.md): what stepwire reports must not change with
the release, because it comes from stepwire's own reading of the input.
"""

from __future__ import annotations

import ast
import io
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepwire
from helpers import examples
from stepwire import _diagnose, _failures, _locate, _scan, _strict
from test_unknown import FUNCTION, _step

SRC = Path(__file__).resolve().parents[1] / "src" / "stepwire"


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


STEP = _step(
    {"type": "tool_calls", "tool_calls": [FUNCTION]},
    usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
)
GOOD = _compact(STEP)
NAME = "$.step_details.tool_calls[0].function.name"
AT_NAME = GOOD.index(b'"f"')  # the name's opening quote
USAGE = "$.usage"


def _swap(old: bytes, new: bytes) -> bytes:
    assert GOOD.count(old) == 1, old
    return GOOD.replace(old, new)


def _with_unknown(value: bytes) -> bytes:
    """A step whose second tool call is of an unknown type, holding ``value`` raw."""
    return _swap(b"}}]", b'}},{"id":"c2","type":"browser","browser":{"x":' + value + b"}}]")


UNKNOWN_X = "$.step_details.tool_calls[1].browser.x"


class Case:
    """One bad body: what stepwire must say of it, in both modes unless ``strict_only``."""

    def __init__(
        self,
        name: str,
        body: bytes,
        reason: str,
        path: str,
        offset: int | None,
        *,
        strict_only: bool = False,
        default_only: bool = False,
    ) -> None:
        self.name = name
        self.body = body
        self.reason = reason
        self.path = path
        self.offset = offset
        self.strict_only = strict_only
        # In an unknown tool call, which strict mode refuses before reading further.
        self.default_only = default_only

    def __repr__(self) -> str:
        return self.name


def _at(body: bytes, marker: bytes, plus: int = 0) -> int:
    return body.index(marker) + plus


_BAD_UTF8 = _swap(b'"name":"f"', b'"name":"f\xff"')
_BAD_UTF8_KEY = _swap(b'"name"', b'"na\xc3me"')
_CONTROL = _swap(b'"name":"f"', b'"name":"f\x01"')
_TRUNCATED = GOOD[: GOOD.index(b'"arguments"') + 5]
_TRAILING = GOOD + b" x"
_TRAILING_COMMA = _swap(b'"arguments":"{}"}', b'"arguments":"{}",}')
_TRAILING_COMMA_ARRAY = _swap(b"}}]", b"}},]")
_MISSING_COLON = _swap(b'"name":"f"', b'"name" "f"')
_MISSING_COMMA = _swap(b'"name":"f",', b'"name":"f" ')
_KEY_NOT_STRING = _swap(b'{"name"', b'{1:"x","name"')
_BAD_ESCAPE = _swap(b'"name":"f"', b'"name":"f\\q"')
_LONE_HIGH = _swap(b'"name":"f"', b'"name":"\\ud800"')
_LONE_HIGH_THEN_X = _swap(b'"name":"f"', b'"name":"\\ud800x"')
_HIGH_THEN_NOT_LOW = _swap(b'"name":"f"', b'"name":"\\ud800\\u0041"')
_LONE_LOW = _swap(b'"name":"f"', b'"name":"\\udc00"')
_BAD_LITERAL = _swap(b'"created_at":1', b'"created_at":nul!')
_BAD_NUMBER = _swap(b'"created_at":1', b'"created_at":01')
_FLOAT_RANGE = _with_unknown(b"[0,-1e400]")
_LONG_INT = _with_unknown(b"[" + b"9" * 5000 + b"]")
_INT64 = _swap(b'"created_at":1', b'"created_at":9223372036854775808')
_INT64_UNKNOWN = _with_unknown(b'{"n":[18446744073709551616]}')
_DEEP = _with_unknown(b"[" * 50_000 + b"]" * 50_000)  # past any C recursion limit too
_DEEP_KEPT = _with_unknown(b"[" * 100 + b"]" * 100)
_WRONG_TYPE = _swap(b'"name":"f"', b'"name":5')
_NULL = _swap(b'"name":"f"', b'"name":null')
_WRONG_TYPE_ENVELOPE = _swap(b'"run_id":"run_1"', b'"run_id":5')
_NULL_ENVELOPE = _swap(b'"id":"call_f"', b'"id":null')
_MISSING = _swap(b'"id":"step_1",', b"")
_USAGE_INT = _swap(
    b'"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}', b'"usage":7'
)
_UNKNOWN_FIELD = _swap(b'"status"', b'"surprise":1,"status"')
_ENUM = _swap(b'"status":"completed"', b'"status":"done"')
_TAG = _swap(b'"type":"function"', b'"type":"browser"')
_SCORE = _swap(
    b'"tool_calls":[{"id":"call_f","type":"function","function":{"name":"f","arguments":"{}"}}]',
    b'"tool_calls":[{"id":"c","type":"file_search","file_search":{"results":'
    b'[{"file_id":"f","file_name":"n","score":1.5}]}}]',
)
_LONG_METADATA = _swap(b'"status"', b'"metadata":{"k":"' + b"v" * 513 + b'"},"status"')

CASES = [
    Case("empty", b"", "JSON input is empty", "$", None),
    Case("blank", b" \r\n\t ", "JSON input is empty", "$", None),
    Case(
        "invalid-utf8", _BAD_UTF8, "JSON is malformed: invalid UTF-8", NAME, _at(_BAD_UTF8, b"\xff")
    ),
    Case(
        "invalid-utf8-in-key",
        _BAD_UTF8_KEY,
        "JSON is malformed: invalid UTF-8",
        "$.step_details.tool_calls[0].function",
        _at(_BAD_UTF8_KEY, b"\xc3"),
    ),
    Case(
        "control-character",
        _CONTROL,
        "JSON is malformed: raw control character 0x01 in a string",
        NAME,
        _at(_CONTROL, b"\x01"),
    ),
    Case(
        "truncated",
        _TRUNCATED,
        "JSON is truncated",
        "$.step_details.tool_calls[0].function",
        len(_TRUNCATED),
    ),
    Case("truncated-literal", b'{"id":tru', "JSON is truncated", "$.id", 9),
    Case("truncated-escape", b'{"id":"\\u00', "JSON is truncated", "$.id", 11),
    Case("trailing", _TRAILING, "JSON is malformed: trailing characters", "$", len(GOOD) + 1),
    Case(
        "trailing-comma",
        _TRAILING_COMMA,
        "JSON is malformed: trailing comma in object",
        "$.step_details.tool_calls[0].function",
        _at(_TRAILING_COMMA, b",}", 1),
    ),
    Case(
        "trailing-comma-array",
        _TRAILING_COMMA_ARRAY,
        "JSON is malformed: trailing comma in array",
        "$.step_details.tool_calls[1]",
        _at(_TRAILING_COMMA_ARRAY, b",]", 1),
    ),
    Case(
        "missing-colon",
        _MISSING_COLON,
        "JSON is malformed: expected ':'",
        "$.step_details.tool_calls[0].function",
        _at(_MISSING_COLON, b' "f"', 1),
    ),
    Case(
        "missing-comma",
        _MISSING_COMMA,
        "JSON is malformed: expected ',' or '}'",
        NAME,  # the value just read
        _at(_MISSING_COMMA, b' "arguments"', 1),
    ),
    Case(
        "key-not-a-string",
        _KEY_NOT_STRING,
        "JSON is malformed: object keys must be strings",
        "$.step_details.tool_calls[0].function",
        _at(_KEY_NOT_STRING, b"{1:", 1),
    ),
    Case(
        "bad-escape",
        _BAD_ESCAPE,
        "JSON is malformed: invalid escape character in string",
        NAME,
        _at(_BAD_ESCAPE, b"\\q"),
    ),
    Case(
        "lone-high-surrogate",
        _LONE_HIGH,
        "JSON is malformed: invalid utf-16 surrogate pair (a lone high surrogate)",
        NAME,
        _at(_LONE_HIGH, b"\\ud800"),
    ),
    Case(
        "lone-high-surrogate-then-x",
        _LONE_HIGH_THEN_X,
        "JSON is malformed: invalid utf-16 surrogate pair (a lone high surrogate)",
        NAME,
        _at(_LONE_HIGH_THEN_X, b"\\ud800"),
    ),
    Case(
        "high-surrogate-then-not-low",
        _HIGH_THEN_NOT_LOW,
        "JSON is malformed: invalid utf-16 surrogate pair (a lone high surrogate)",
        NAME,
        _at(_HIGH_THEN_NOT_LOW, b"\\ud800"),
    ),
    Case(
        "lone-low-surrogate",
        _LONE_LOW,
        "JSON is malformed: invalid utf-16 surrogate pair (a lone low surrogate)",
        NAME,
        _at(_LONE_LOW, b"\\udc00"),
    ),
    Case(
        "bad-literal",
        _BAD_LITERAL,
        "JSON is malformed: invalid character",
        "$.created_at",
        _at(_BAD_LITERAL, b"!"),
    ),
    Case(
        "bad-number",
        _BAD_NUMBER,
        "JSON is malformed: invalid number",
        "$.created_at",
        _at(_BAD_NUMBER, b"01"),
    ),
    Case(
        "float-out-of-range",
        _FLOAT_RANGE,
        "Number out of range",
        f"{UNKNOWN_X}[1]",
        _at(_FLOAT_RANGE, b"-1e400"),
        default_only=True,
    ),
    Case(
        "integer-too-long",
        _LONG_INT,
        "Number out of range",
        f"{UNKNOWN_X}[0]",
        _at(_LONG_INT, b"9999"),
        default_only=True,
    ),
    Case(
        "int64-field",
        _INT64,
        "Expected `int` <= 9223372036854775807",
        "$.created_at",
        _at(_INT64, b"9223372036854775808"),
    ),
    Case(
        "int64-kept",
        _INT64_UNKNOWN,
        "Integer out of range (signed 64 bits)",
        f"{UNKNOWN_X}.n[0]",
        _at(_INT64_UNKNOWN, b"18446744073709551616"),
        default_only=True,
    ),
    Case(
        "too-deep",
        _DEEP,
        "JSON is nested more than 64 levels deep",
        f"{UNKNOWN_X}[0]{{59}}",
        _at(_DEEP, b"[[[", 59),
        default_only=True,
    ),
    Case(
        "too-deep-kept",
        _DEEP_KEPT,
        "JSON is nested more than 64 levels deep",
        f"{UNKNOWN_X}[0]{{59}}",
        _at(_DEEP_KEPT, b"[[[", 59),
        default_only=True,
    ),
    # In a payload the default mode keeps a value off its type (tests/test_fidelity.py).
    Case(
        "wrong-type",
        _WRONG_TYPE,
        "Expected `str`, got `int`",
        NAME,
        _at(_WRONG_TYPE, b"5"),
        strict_only=True,
    ),
    Case(
        "null-for-str",
        _NULL,
        "Expected `str`, got `null`",
        NAME,
        _at(_NULL, b"null"),
        strict_only=True,
    ),
    Case(
        "wrong-type-envelope",
        _WRONG_TYPE_ENVELOPE,
        "Expected `str`, got `int`",
        "$.run_id",
        _at(_WRONG_TYPE_ENVELOPE, b"5"),
    ),
    Case(
        "null-for-str-envelope",
        _NULL_ENVELOPE,
        "Expected `str`, got `null`",
        "$.step_details.tool_calls[0].id",
        _at(_NULL_ENVELOPE, b"null"),
    ),
    Case("not-an-object", b"[1]", "Expected `object`, got `array`", "$", 0),
    Case("missing-field", _MISSING, "Object missing required field `id`", "$", 0),
    Case(
        "wrong-union",
        _USAGE_INT,
        "Expected `object | null`, got `int`",
        USAGE,
        _at(_USAGE_INT, b"7"),
    ),
    Case(
        "unknown-field",
        _UNKNOWN_FIELD,
        "Object contains unknown field `surprise`",
        "$.surprise",
        _at(_UNKNOWN_FIELD, b'"surprise":1', len(b'"surprise":')),
        strict_only=True,
    ),
    Case(
        "enum",
        _ENUM,
        "Invalid enum value 'done'",
        "$.status",
        _at(_ENUM, b'"done"'),
        strict_only=True,
    ),
    Case(
        "unknown-tag",
        _TAG,
        "Invalid value 'browser'",
        "$.step_details.tool_calls[0].type",
        _at(_TAG, b'"browser"'),
        strict_only=True,
    ),
    Case(
        "score-bound",
        _SCORE,
        "Expected `float` <= 1.0",
        "$.step_details.tool_calls[0].file_search.results[0].score",
        _at(_SCORE, b"1.5"),
        strict_only=True,
    ),
    Case(
        "length-bound",
        _LONG_METADATA,
        "Expected `str` of length <= 512",
        "$.metadata.k",
        _at(_LONG_METADATA, b'"vvv'),
        strict_only=True,
    ),
]

MODES = [pytest.param(False, id="default"), pytest.param(True, id="strict")]


def _by_mode(keep: Callable[[Case, bool], bool] = lambda case, strict: True) -> list[Any]:
    """``(case, strict)`` for every case in each mode it applies to, and ``keep`` agrees."""
    return [
        pytest.param(case, strict, id=f"{case.name}-{'strict' if strict else 'default'}")
        for case in CASES
        for strict in (False, True)
        if not (strict and case.default_only) and keep(case, strict)
    ]


def _refused(case: Case, strict: bool) -> bool:
    return strict or not case.strict_only


def _check(err: stepwire.DecodeError, case: Case, line: int | None) -> None:
    assert type(err) is stepwire.DecodeError
    assert err.reason == case.reason, str(err)
    assert err.path == case.path, str(err)
    assert err.offset == case.offset, str(err)
    assert err.line == line
    where = f" (byte {case.offset})" if case.offset is not None else ""
    prefix = f"line {line}: " if line is not None else ""
    assert str(err) == f"{prefix}{case.reason}{where} - at `{case.path}`"


@pytest.mark.parametrize(("case", "strict"), _by_mode())
def test_decode_step(case: Case, strict: bool) -> None:
    if not _refused(case, strict):
        # The default mode keeps what strict mode refuses.
        stepwire.decode_step(case.body)
        return
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_step(case.body, strict=strict)
    _check(info.value, case, None)


@pytest.mark.parametrize("strict", MODES)
def test_the_issue_example(strict: bool) -> None:
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_step(b'{"id":"\xff"}', strict=strict)
    assert (info.value.path, info.value.offset) == ("$.id", 7)
    assert str(info.value) == "JSON is malformed: invalid UTF-8 (byte 7) - at `$.id`"


def _ndjson(body: bytes) -> bytes:
    return GOOD + b"\n\n" + body + b"\n" + GOOD + b"\n"


@pytest.mark.parametrize(("case", "strict"), _by_mode())
@pytest.mark.parametrize(
    "read",
    [
        pytest.param(stepwire.decode_lines, id="decode_lines"),
        pytest.param(
            lambda b, strict: list(stepwire.iter_lines(io.BytesIO(b), strict=strict)),
            id="iter_lines",
        ),
    ],
)
def test_ndjson_line(read: Callable[..., Any], case: Case, strict: bool) -> None:
    if not case.body.strip():
        assert len(read(_ndjson(case.body), strict=strict)) == 2  # blank lines are no steps
        return
    if not _refused(case, strict):
        assert len(read(_ndjson(case.body), strict=strict)) == 3
        return
    with pytest.raises(stepwire.DecodeError) as info:
        read(_ndjson(case.body), strict=strict)
    _check(info.value, case, 3)  # offsets count from the line's start


def _is_text(case: Case, strict: bool) -> bool:
    try:
        case.body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _refused(case, strict)


@pytest.mark.parametrize(("case", "strict"), _by_mode(_is_text))
def test_str_input_gives_utf8_offsets(case: Case, strict: bool) -> None:
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_step(case.body.decode("utf-8"), strict=strict)
    _check(info.value, case, None)


def test_str_input_with_a_lone_surrogate() -> None:
    text = GOOD.decode().replace('"name":"f"', '"name":"f\udcff"')
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_step(text)
    err = info.value
    assert err.reason == "JSON is malformed: a lone surrogate in str input"
    assert (err.path, err.offset) == (NAME, AT_NAME + 2)


def _inside_a_page(case: Case, strict: bool) -> bool:
    """Cases that mean the same inside a page: not about the whole document or its depth."""
    whole = case.path == "$" or case.reason in ("JSON is truncated", "JSON input is empty")
    return _refused(case, strict) and not whole and "nested" not in case.reason


@pytest.mark.parametrize(("case", "strict"), _by_mode(_inside_a_page))
def test_page_paths_are_those_of_the_step_inside(case: Case, strict: bool) -> None:
    page = b'{"object":"list","data":[' + GOOD + b"," + case.body + b'],"has_more":false}'
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_page(page, strict=strict)
    assert info.value.path == "$.data[1]" + case.path[1:]
    assert info.value.offset == len(page.split(case.body)[0]) + (case.offset or 0)


# -- independence from msgspec's words ------------------------------------------------------


def _raised(body: bytes, tp: Any) -> BaseException:
    try:
        msgspec.json.decode(body, type=tp)
    except _failures.FAILURES as exc:
        return exc
    raise AssertionError("msgspec accepted it")


def _reworded(exc: BaseException) -> BaseException:
    """An exception of the same class as ``exc`` with words msgspec never used."""
    if isinstance(exc, UnicodeDecodeError):
        return UnicodeDecodeError("utf-8", b"?", 0, 1, "zzz")
    if isinstance(exc, UnicodeEncodeError):
        return UnicodeEncodeError("utf-8", "?", 0, 1, "zzz")
    return type(exc)("Something else entirely (byte 999) - at `$.nowhere`")


@pytest.mark.parametrize(("case", "strict"), _by_mode(_refused))
def test_the_diagnosis_ignores_msgspec_text(case: Case, strict: bool) -> None:
    tp = _strict.strict_type(stepwire.RunStep) if strict else stepwire.RunStep
    real = _raised(case.body, tp)
    expected = _diagnose.diagnose(real, case.body, tp)
    got = _diagnose.diagnose(_reworded(real), case.body, tp)
    assert (got.reason, got.path, got.offset) == (expected.reason, expected.path, expected.offset)
    assert "zzz" not in str(got)
    assert "nowhere" not in str(got)


def test_a_refusal_stepwire_cannot_explain_keeps_msgspec_words() -> None:
    # Valid JSON that a future msgspec might refuse for reasons of its own.
    err = _diagnose.diagnose(msgspec.DecodeError("a new rule"), GOOD, stepwire.RunStep)
    assert (err.path, err.offset) == ("$", None)
    assert err.reason == "JSON could not be decoded (a new rule)"


def test_only_one_module_names_msgspec_exceptions() -> None:
    offenders = [
        f"{path.name}:{node.lineno} msgspec.{node.attr}"
        for path in sorted(SRC.glob("*.py"))
        if path.name != "_failures.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "msgspec"
        and node.attr.endswith("Error")
    ]
    offenders += [
        f"{path.name}:{lineno}"
        for path in sorted(SRC.glob("*.pyx"))
        for lineno, text in enumerate(path.read_text().splitlines(), 1)
        if "msgspec.ValidationError" in text or "msgspec.DecodeError" in text
    ]
    assert offenders == []


# -- the error object itself -----------------------------------------------------------------


def test_decode_error_pickles_with_its_fields() -> None:
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_lines(_ndjson(_BAD_UTF8))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is stepwire.DecodeError
    assert (copy.reason, copy.path, copy.offset, copy.line) == (
        info.value.reason,
        info.value.path,
        info.value.offset,
        3,
    )
    assert str(copy) == str(info.value)


def test_a_line_too_long_has_no_path() -> None:
    with pytest.raises(stepwire.DecodeError) as info:
        list(stepwire.iter_lines(io.BytesIO(GOOD + b"\n"), max_line_bytes=10))
    err = info.value
    assert (err.path, err.offset, err.line) == (None, None, 1)
    assert err.reason == "line longer than max_line_bytes (10 bytes)"


def test_stream_errors_carry_the_decode_error() -> None:
    acc = stepwire.Accumulator()
    event = b"event: thread.run.step.created\ndata: " + _BAD_UTF8 + b"\n\n"
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(event)
    cause = info.value.__cause__
    assert isinstance(cause, stepwire.DecodeError)
    assert (cause.path, cause.offset) == (NAME, _at(_BAD_UTF8, b"\xff"))
    assert f"invalid UTF-8 (byte {cause.offset}) - at `{NAME}`" in str(info.value)


def test_summary_page_errors_look_past_raw_fields() -> None:
    page = b'{"object":"list","data":[' + _swap(b'"created_at":1', b'"created_at":"x"') + b"]}"
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.Decoder(stepwire.RunStepSummaryPage).decode(page)
    assert info.value.path == "$.data[0].created_at"
    assert info.value.offset == page.index(b'"x"')


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(stepwire.decode_lines, id="decode_lines"),
        pytest.param(lambda b: list(stepwire.iter_lines(io.BytesIO(b))), id="iter_lines"),
    ],
)
def test_a_crlf_line_end_is_not_part_of_the_line(read: Callable[[bytes], Any]) -> None:
    cut = GOOD[:20]  # inside the value of "id": truncated, whatever ends the line
    for end in (b"\n", b"\r\n"):
        with pytest.raises(stepwire.DecodeError) as info:
            read(GOOD + end + cut + end)
        assert (info.value.reason, info.value.offset, info.value.line) == (
            "JSON is truncated",
            20,
            2,
        )
    # A CR without an LF is the line's own: here, inside a string.
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_lines(GOOD + b"\n" + cut + b"\r")
    assert info.value.reason == "JSON is malformed: raw control character 0x0d in a string"


@pytest.mark.parametrize("strict", [False, True])
def test_a_refusal_is_found_past_what_an_untyped_parse_cannot_take(strict: bool) -> None:
    # The typed decode skips the ignored field, and refuses $.created_at first;
    # the untyped parse needed to explain it chokes on the ignored field.
    for ignored in (b"[1e400]", b"[" + b"9" * 5000 + b"]", b"[" * 50_000 + b"]" * 50_000):
        body = _swap(b'"created_at":1,', b'"created_at":"x","zz":' + ignored + b",")
        if strict:  # strict mode refuses the unknown field, at its object, before its value
            body = body.replace(b'"zz"', b'"metadata"')
        with pytest.raises(stepwire.DecodeError) as info:
            stepwire.decode_step(body, strict=strict)
        assert info.value.reason == "Expected `int`, got `str`", ignored[:8]
        assert (info.value.path, info.value.offset) == ("$.created_at", body.index(b'"x"'))


# -- stepwire's reading agrees with msgspec's parser ---------------------------------------

_SEED_DOCS = [
    GOOD,
    _compact({"a": ["é", 1.5, -0.0, 1e300, None, True, {"b": "\\u00e9\U0001f600"}], "c": {}}),
    b'{"k": "\\ud83d\\ude00 \\n\\t\\"", "n": [0, -1, 2.5e-3, 123456789012345678901234]}',
]
_BYTES = [0x00, 0x01, 0x1F, 0x20, 0x22, 0x2C, 0x2D, 0x30, 0x3A, 0x5B, 0x5C, 0x5D, 0x65]
_BYTES += [0x75, 0x7B, 0x7D, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]


@settings(max_examples=examples(1000), deadline=None)
@given(
    doc=st.sampled_from(_SEED_DOCS),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(_BYTES), st.integers(0, 2)),
        min_size=1,
        max_size=3,
    ),
)
def test_the_scanner_finds_a_defect_exactly_when_msgspec_cannot_parse(
    doc: bytes, edits: list[tuple[int, int, int]]
) -> None:
    data = bytearray(doc)
    for at, byte, how in edits:
        at %= len(data) + 1
        if how == 0:
            data[at:at] = bytes([byte])  # insert
        elif how == 1:
            data[at : at + 1] = bytes([byte])  # replace
        else:
            del data[at : at + 1]  # delete
    body = bytes(data)
    _, failure = _failures.parse(body)
    defect = _scan.first_defect(body, from_str=False, accepts_number=_failures.accepts_number)
    assert (defect is None) == (failure is None), (body, defect, failure)
    if defect is not None and defect[1] is not None:
        assert 0 <= defect[1] <= len(body)
        # The path the scanner keeps is the one the locator finds again from the offset.
        assert _locate.format_path(defect[2]) == _locate.path_at(body, defect[1]), body


def test_a_refusal_stepwire_cannot_explain_still_names_the_value() -> None:
    # A fixed-length array: a bound stepwire does not spell out; msgspec's words are kept.
    class Pair(msgspec.Struct):
        xy: tuple[int, int]

    body = b'{"xy": [1, 2, 3]}'
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.Decoder(Pair).decode(body)
    assert (info.value.path, info.value.offset) == ("$.xy", 7)
    assert info.value.reason.startswith("Invalid value (")


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(
    ("tp", "body", "reason", "path", "offset"),
    [
        (stepwire.ToolCall, b'{"id":"x"}', "Object missing required field `type`", "$", 0),
        (stepwire.ToolCall, b'{"type":7,"id":"x"}', "Expected `str`, got `int`", "$.type", 8),
        (stepwire.ToolCall, b'{"type":"function","id":1}', "Expected `str`, got `int`", "$.id", 24),
        (list[stepwire.RunStep], b"[{}]", "Object missing required field `id`", "$[0]", 1),
        (stepwire.RunStepPage, b'{"data":{}}', "Expected `array`, got `object`", "$.data", 8),
    ],
)
def test_other_decoder_types(
    tp: Any, body: bytes, reason: str, path: str, offset: int, strict: bool
) -> None:
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.Decoder(tp, strict=strict).decode(body)
    assert (info.value.reason, info.value.path, info.value.offset) == (reason, path, offset)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet='ab"\\\n é', max_size=3), inner, max_size=4)
    ),
    max_leaves=30,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        out += _paths(item, (*prefix, key))
    return out


@settings(max_examples=examples(300), deadline=None)
@given(value=_JSON, indent=st.sampled_from([None, 1]), ascii_only=st.booleans())
def test_offset_of_is_the_inverse_of_path_at(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    data = json.dumps(value, indent=indent, ensure_ascii=ascii_only).encode()
    for path in _paths(value):
        fast = _locate.offset_of(data, path)
        assert fast is not None
        # The token scan that names a defect's place names this one the same way.
        assert _locate.path_at(data, fast) == _locate.format_path(path), (data, path)
        sub = value
        for step in path:
            sub = sub[step]
        found, _ = json.JSONDecoder().raw_decode(data[fast:].decode())
        assert found == sub
