"""Hostile input: every body ends in a decoded object or a DecodeError naming the path.

Never a RecursionError, UnicodeError or OverflowError, whatever the nesting, the integers,
the bytes or the stack left to the caller (docs/limits.md, "Hostile input").
"""

from __future__ import annotations

import inspect
import io
import json
import sys
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stepwire
from helpers import examples
from stepwire import _locate
from stepwire._dispatch import decode_api_error
from test_unknown import FUNCTION, _step

MAX = stepwire.MAX_DEPTH
HOLE = '"__HOLE__"'
BROWSER = {"id": "call_b", "type": "browser", "browser": {"x": "__HOLE__"}}
# Where the hole sits in each body, and how many steps that path has.
STEP_HOLE = "$.step_details.tool_calls[1].browser.x"
PAGE_HOLE = "$.data[1].step_details.tool_calls[1].browser.x"
DELTA_HOLE = "$.delta.step_details.tool_calls[1].browser.x"
ATTR_HOLE = "$.step_details.tool_calls[0].file_search.results[0].attributes.k"


def _depth(path: str) -> int:
    """The steps of a (non-abbreviated) path: the level of the value it names."""
    return path.count(".") + path.count("[")


def step_body(hole: str, *, at: str = "unknown") -> bytes:
    """A run step with ``hole`` as raw JSON inside an unknown tool call or an ignored field."""
    if at == "unknown":
        obj = _step({"type": "tool_calls", "tool_calls": [FUNCTION, BROWSER]})
    elif at == "ignored":
        obj = _step({"type": "tool_calls", "tool_calls": [FUNCTION]}, zz="__HOLE__")
    else:  # attributes
        result = {"file_id": "f", "file_name": "n", "score": 0.5, "attributes": {"k": "__HOLE__"}}
        call = {"id": "c", "type": "file_search", "file_search": {"results": [result]}}
        obj = _step({"type": "tool_calls", "tool_calls": [call]})
    return json.dumps(obj).replace(HOLE, hole).encode()


def page_body(hole: str) -> bytes:
    good = json.loads(step_body("1"))
    page = {"object": "list", "data": [good, "__STEP__"], "has_more": False}
    return json.dumps(page).encode().replace(b'"__STEP__"', step_body(hole))


def delta_body(hole: str) -> bytes:
    calls = [
        {"index": 0, "type": "function", "function": {"arguments": "{"}},
        {"index": 1, "type": "browser", "browser": {"x": "__HOLE__"}},
    ]
    delta = {
        "id": "step_1",
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": calls}},
    }
    return json.dumps(delta).replace(HOLE, hole).encode()


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def expect_error(decode: Callable[[Any], Any], body: Any, path: str) -> stepwire.DecodeError:
    """Decode, expecting a DecodeError (nothing else) at exactly ``path``."""
    with pytest.raises(stepwire.DecodeError) as info:
        decode(body)
    err = info.value
    assert type(err) is stepwire.DecodeError
    assert err.__cause__ is None
    assert err.__suppress_context__
    assert err.path == path, str(err)
    assert str(err).endswith(f"`{path}`")
    return err


# Every way in: (name, decode one body, the hole's path in that body, make that body).
def _lines(body: bytes) -> Any:
    return stepwire.decode_lines(step_body("1") + b"\n\n" + body + b"\n")


def _iter_lines(body: bytes) -> Any:
    return list(stepwire.iter_lines(io.BytesIO(step_body("1") + b"\n\n" + body + b"\n")))


ENTRIES = [
    pytest.param(stepwire.decode_step, STEP_HOLE, step_body, None, id="decode_step"),
    pytest.param(stepwire.decode_page, PAGE_HOLE, page_body, None, id="decode_page"),
    pytest.param(stepwire.decode_delta, DELTA_HOLE, delta_body, None, id="decode_delta"),
    pytest.param(
        stepwire.Decoder(stepwire.RunStepPage).decode, PAGE_HOLE, page_body, None, id="Decoder"
    ),
    pytest.param(_lines, STEP_HOLE, step_body, 3, id="decode_lines"),
    pytest.param(_iter_lines, STEP_HOLE, step_body, 3, id="iter_lines"),
]


# -- empty input, and values that are not objects -------------------------------------------


ALL_DECODERS = [
    pytest.param(stepwire.decode_step, id="decode_step"),
    pytest.param(stepwire.decode_page, id="decode_page"),
    pytest.param(stepwire.decode_delta, id="decode_delta"),
    pytest.param(stepwire.Decoder(stepwire.RunStep).decode, id="Decoder"),
    pytest.param(stepwire.Decoder(stepwire.RunStep, strict=True).decode, id="Decoder-strict"),
    pytest.param(lambda b: stepwire.decode_step(b, strict=True), id="decode_step-strict"),
    pytest.param(lambda b: stepwire.decode_page(b, strict=True), id="decode_page-strict"),
    pytest.param(lambda b: stepwire.decode_delta(b, strict=True), id="decode_delta-strict"),
]


@pytest.mark.parametrize("decode", ALL_DECODERS)
@pytest.mark.parametrize("body", [b"", b" ", b" \t\r\n ", "", "\n"])
def test_empty_input_says_so(decode: Callable[[Any], Any], body: Any) -> None:
    err = expect_error(decode, body, "$")
    assert str(err) == "JSON input is empty - at `$`"


@pytest.mark.parametrize("decode", ALL_DECODERS)
@pytest.mark.parametrize(
    ("body", "got"), [(b"[]", "array"), (b"1", "int"), (b'"x"', "str"), (b"null", "null")]
)
def test_a_top_level_value_that_is_not_an_object(
    decode: Callable[[Any], Any], body: bytes, got: str
) -> None:
    err = expect_error(decode, body, "$")
    assert f"Expected `object`, got `{got}`" in str(err)


@pytest.mark.parametrize(
    "lines", [stepwire.decode_lines, lambda b: list(stepwire.iter_lines(io.BytesIO(b)))]
)
@pytest.mark.parametrize(("body", "got"), [(b"[]", "array"), (b"1", "int")])
def test_ndjson_line_that_is_not_an_object(
    lines: Callable[[bytes], Any], body: bytes, got: str
) -> None:
    err = expect_error(lines, step_body("1") + b"\n" + body + b"\n", "$")
    assert err.line == 2
    assert str(err).startswith(f"line 2: Expected `object`, got `{got}`")


def test_empty_ndjson_is_no_steps_and_a_truncated_line_is_an_error() -> None:
    assert stepwire.decode_lines(b"\n \n\r\n") == []
    err = expect_error(stepwire.decode_lines, b'\n{"id": "s', "$.id")
    assert err.line == 2
    assert "JSON is truncated (byte 9)" in str(err)


def test_truncated_json_names_the_value_left_open() -> None:
    body = step_body("1")
    cut = body.index(b'"arguments"') + 3
    err = expect_error(stepwire.decode_step, body[:cut], "$.step_details.tool_calls[0].function")
    assert f"JSON is truncated (byte {cut})" in str(err)


# -- nesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("decode", "hole_path", "make", "line"), ENTRIES)
def test_unknown_object_exactly_max_depth_deep_decodes_whole(
    decode: Callable[[Any], Any], hole_path: str, make: Callable[[str], bytes], line: int | None
) -> None:
    # The hole's value is at level _depth(hole_path); its innermost array at MAX_DEPTH.
    levels = MAX - _depth(hole_path)
    body = make(nested(levels))
    result = decode(body)
    last = result[-1] if isinstance(result, list) else result
    assert json.loads(stepwire.encode(last)) == json.loads(body)


@pytest.mark.parametrize("levels_past", [1, 2, 900, 100_000])
@pytest.mark.parametrize(("decode", "hole_path", "make", "line"), ENTRIES)
def test_unknown_object_nested_past_max_depth(
    decode: Callable[[Any], Any],
    hole_path: str,
    make: Callable[[str], bytes],
    line: int | None,
    levels_past: int,
) -> None:
    # Whether msgspec gets through (and stepwire's check refuses) or raises
    # RecursionError (and the scanner locates it), the path is the same: the
    # first array past MAX_DEPTH, MAX_DEPTH steps from the root.
    levels = MAX - _depth(hole_path) + levels_past
    err = expect_error(decode, make(nested(levels)), f"{hole_path}[0]{{{MAX - _depth(hole_path)}}}")
    assert f"JSON is nested more than {MAX} levels deep" in str(err)
    assert err.line == line


@pytest.mark.parametrize("strict", [False, True])
def test_unknown_field_nested_past_the_recursion_limit(strict: bool) -> None:
    body = step_body(nested(100_000), at="ignored")
    if strict:  # strict mode refuses the unknown field before reading its value
        err = expect_error(lambda b: stepwire.decode_step(b, strict=True), body, "$.zz")
        assert "unknown field `zz`" in str(err)
    else:
        err = expect_error(stepwire.decode_step, body, "$.zz[0]{63}")
        crossing = body.index(b"[[") + MAX - 1  # the root is level 1, zz level 2
        assert f"nested more than {MAX} levels deep (byte {crossing})" in str(err)


def test_unknown_field_is_kept_so_it_obeys_the_free_form_depth_limit() -> None:
    # An unknown field is kept (in .extra), so it is read, and held to MAX_DEPTH.
    err = expect_error(stepwire.decode_step, step_body(nested(200), at="ignored"), "$.zz[0]{63}")
    assert err.reason == f"JSON is nested more than {MAX} levels deep"
    within = step_body(nested(MAX - 1), at="ignored")
    step = stepwire.decode_step(within)
    assert step.extra
    assert "zz" in step.extra
    assert json.loads(stepwire.encode(step)) == json.loads(within)


def test_deep_ignored_field_in_a_page_and_in_ndjson() -> None:
    body = json.dumps({"object": "list", "data": [], "has_more": False, "zz": "__HOLE__"}).replace(
        HOLE, nested(100_000)
    )
    expect_error(stepwire.decode_page, body, "$.zz[0]{63}")
    err = expect_error(
        stepwire.decode_lines, b"\n" + step_body(nested(100_000), at="ignored"), "$.zz[0]{63}"
    )
    assert err.line == 2


def test_deep_top_level_array() -> None:
    # A closed array is refused for its type first; an unterminated one for its depth.
    err = expect_error(stepwire.decode_step, nested(100_000), "$")
    assert err.reason == "Expected `object`, got `array`"
    err = expect_error(stepwire.decode_step, "[" * 100_000, "$[0]{64}")
    assert err.reason == f"JSON is nested more than {MAX} levels deep"


def test_deep_attributes_value() -> None:
    levels = MAX - _depth(ATTR_HOLE)
    step = stepwire.decode_step(step_body(nested(levels), at="attributes"))
    results = step.step_details.tool_calls[0].file_search.results  # type: ignore[union-attr]
    assert results[0].attributes == {"k": json.loads(nested(levels))}
    for extra in (1, 5_000):
        expect_error(
            stepwire.decode_step,
            step_body(nested(levels + extra), at="attributes"),
            f"{ATTR_HOLE}[0]{{{levels}}}",
        )


def test_mixed_nesting_path_is_abbreviated() -> None:
    hole = '{"a-b": ' * 70 + "1" + "}" * 70
    err = expect_error(stepwire.decode_step, step_body(hole), f'{STEP_HOLE}["a-b"]{{{MAX - 5}}}')
    assert len(str(err)) < 200
    # no run to collapse: the middle of the path gives way
    hole = '[{"k": ' * 40 + "1" + "}]" * 40
    steps: list[int | str] = ["step_details", "tool_calls", 1, "browser", "x"]
    steps += [0, "k"] * 30
    path = _locate.format_path(steps[:MAX])
    assert path.startswith(STEP_HOLE + "[0].k[0].k")
    assert "<...40 levels...>" in path
    err = expect_error(stepwire.decode_step, step_body(hole), path)
    assert len(str(err)) < 200


def _stack_depth() -> int:
    frame = inspect.currentframe()
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _with_headroom(headroom: int, call: Callable[[], Any]) -> Any:
    """Run ``call`` with only about ``headroom`` frames left before the recursion limit."""

    def recurse() -> Any:
        if sys.getrecursionlimit() - _stack_depth() > headroom:
            return recurse()
        try:
            return call()
        except stepwire.DecodeError as exc:
            return exc

    return recurse()


@pytest.mark.parametrize("headroom", [30, 60, 150])
@pytest.mark.parametrize("at", ["unknown", "ignored"])
def test_deep_nesting_with_little_stack_left(headroom: int, at: str) -> None:
    # Past any limit msgspec's C code meets: Python 3.13 bounds it by the C stack
    # (about 10,000 levels), not by sys.getrecursionlimit().
    body = step_body(nested(50_000), at=at)
    err = _with_headroom(headroom, lambda: stepwire.decode_step(body))
    assert type(err) is stepwire.DecodeError
    assert err.path == (f"{STEP_HOLE}[0]{{59}}" if at == "unknown" else "$.zz[0]{63}")


@pytest.mark.parametrize("headroom", [15, 30, 150])
def test_valid_body_with_little_stack_left_never_leaks_recursion_error(headroom: int) -> None:
    body = step_body(nested(MAX - _depth(STEP_HOLE)))
    result = _with_headroom(headroom, lambda: stepwire.decode_step(body))
    if isinstance(result, stepwire.DecodeError):
        # Only when the stack itself ran out; the message says so, not "too deep".
        assert "nested more than" not in str(result)
        assert result.path is not None
    else:
        assert json.loads(stepwire.encode(result)) == json.loads(body)


# -- integers and floats ----------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(
    ("value", "bound"),
    [(2**63, "<= 9223372036854775807"), (-(2**63) - 1, ">= -9223372036854775808")],
)
def test_integer_field_outside_64_bits(strict: bool, value: int, bound: str) -> None:
    body = json.dumps(_step({"type": "tool_calls", "tool_calls": [FUNCTION]}, created_at=value))
    err = expect_error(lambda b: stepwire.decode_step(b, strict=strict), body, "$.created_at")
    assert f"Expected `int` {bound}" in str(err)


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0])
def test_integer_bounds_are_inclusive_and_round_trip(value: int) -> None:
    usage = {"prompt_tokens": value, "completion_tokens": 1, "total_tokens": value}
    body = json.dumps(_step({"type": "tool_calls", "tool_calls": [FUNCTION]}, usage=usage))
    for strict in (False, True):
        step = stepwire.decode_step(body, strict=strict)
        assert step.usage.prompt_tokens == value  # type: ignore[union-attr]
        assert json.loads(stepwire.encode(step)) == json.loads(body)


def test_integer_in_a_delta_and_a_page_outside_64_bits() -> None:
    body = delta_body("1").replace(b'"index": 0', b'"index": 99999999999999999999')
    expect_error(stepwire.decode_delta, body, "$.delta.step_details.tool_calls[0].index")
    big = json.loads(step_body("1"))
    big["usage"] = {"prompt_tokens": 1, "completion_tokens": 10**30, "total_tokens": 1}
    page = {"object": "list", "data": [json.loads(step_body("1")), big], "has_more": False}
    expect_error(stepwire.decode_page, json.dumps(page), "$.data[1].usage.completion_tokens")


@pytest.mark.parametrize(("decode", "hole_path", "make", "line"), ENTRIES)
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**4000])
def test_integer_in_an_unknown_object_outside_64_bits(
    decode: Callable[[Any], Any],
    hole_path: str,
    make: Callable[[str], bytes],
    line: int | None,
    value: int,
) -> None:
    err = expect_error(
        decode, make(f'{{"ok": [1, 2], "n-1": [{value}]}}'), f'{hole_path}["n-1"][0]'
    )
    assert err.line == line
    fine = make(f'{{"n": [{2**63 - 1}, {-(2**63)}]}}')
    last = decode(fine)
    last = last[-1] if isinstance(last, list) else last
    assert json.loads(stepwire.encode(last)) == json.loads(fine)


def test_integer_in_attributes_outside_64_bits() -> None:
    expect_error(stepwire.decode_step, step_body(str(2**64), at="attributes"), ATTR_HOLE)
    expect_error(stepwire.decode_step, step_body(f"[{2**64}]", at="attributes"), ATTR_HOLE + "[0]")


@pytest.mark.parametrize(("decode", "hole_path", "make", "line"), ENTRIES)
def test_float_out_of_range_in_an_unknown_object(
    decode: Callable[[Any], Any], hole_path: str, make: Callable[[str], bytes], line: int | None
) -> None:
    err = expect_error(decode, make('{"a": {"b c": [0, -1e400]}}'), f'{hole_path}.a["b c"][1]')
    assert "Number out of range (byte" in str(err)


def test_float_out_of_range_in_typed_and_free_form_fields() -> None:
    body = step_body("1", at="attributes").replace(b'"score": 0.5', b'"score": 1e999')
    expect_error(
        stepwire.decode_step, body, "$.step_details.tool_calls[0].file_search.results[0].score"
    )
    expect_error(stepwire.decode_step, step_body("1e400", at="attributes"), ATTR_HOLE)
    # an unknown field is kept, so it is read: with its path
    expect_error(stepwire.decode_step, step_body("1e400", at="ignored"), "$.zz")
    body = step_body("1").replace(b'"status"', b'"zz": {"x": [1e400]}, "status"')
    expect_error(stepwire.decode_step, body, "$.zz.x[0]")


def test_attributes_arrays_and_objects_are_kept_in_the_default_mode_only() -> None:
    body = step_body('[1, {"a": [null, 2.5, "s", true]}]', at="attributes")
    step = stepwire.decode_step(body)
    assert json.loads(stepwire.encode(step)) == json.loads(body)
    err = expect_error(lambda b: stepwire.decode_step(b, strict=True), body, ATTR_HOLE)
    assert "got `array`" in str(err)
    scalars = step_body('"v"', at="attributes")
    assert json.loads(stepwire.encode(stepwire.decode_step(scalars, strict=True))) == json.loads(
        scalars
    )


# -- bytes: control characters, UTF-8, escapes --------------------------------------------------

NAME = "$.step_details.tool_calls[0].function.name"


@pytest.mark.parametrize("strict", [False, True])
def test_raw_control_character(strict: bool) -> None:
    body = step_body("1", at="ignored").replace(b'"f"', b'"f\x1fg"')
    err = expect_error(lambda b: stepwire.decode_step(b, strict=strict), body, NAME)
    offset = body.index(b"\x1f")
    assert f"raw control character 0x1f in a string (byte {offset})" in str(err)


def test_raw_control_character_in_an_ignored_field_and_in_a_key() -> None:
    body = step_body('"a\nb"', at="ignored")
    expect_error(stepwire.decode_step, body, "$.zz")
    body = step_body("1", at="ignored").replace(b'"zz"', b'"z\tz"')
    expect_error(stepwire.decode_step, body, "$")  # in a key: the object


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])
def test_invalid_utf8_in_a_kept_string(strict: bool, bad: bytes) -> None:
    body = step_body("1").replace(b'"f"', b'"f' + bad + b'"')
    err = expect_error(lambda b: stepwire.decode_step(b, strict=strict), body, NAME)
    assert f"invalid UTF-8 (byte {body.index(bad)})" in str(err)


def test_invalid_utf8_in_ndjson_names_line_and_path() -> None:
    line = step_body("1").replace(b'"f"', b'"\xfe"')
    err = expect_error(stepwire.decode_lines, step_body("1") + b"\n" + line, NAME)
    assert err.line == 2
    offset = line.index(b"\xfe")
    assert f"(byte {offset})" in str(err)  # counted from the line's start
    err = expect_error(lambda b: list(stepwire.iter_lines(io.BytesIO(b))), b"\n\n" + line, NAME)
    assert err.line == 3


def test_invalid_utf8_in_an_unknown_field() -> None:
    # Kept, so read: refused with its path, alone or beside an unknown type.
    expect_error(
        stepwire.decode_step, step_body('"__X__"', at="ignored").replace(b"__X__", b"\xff"), "$.zz"
    )
    body = step_body("1").replace(b'"status"', b'"zz": ["\xff"], "status"')
    expect_error(stepwire.decode_step, body, "$.zz[0]")
    expect_error(stepwire.decode_step, step_body('"__X__"').replace(b"__X__", b"\xff"), STEP_HOLE)


@pytest.mark.parametrize(
    "decode",
    [stepwire.decode_step, stepwire.decode_lines, lambda s: stepwire.decode_step(s, strict=True)],
)
def test_str_input_with_a_lone_surrogate(decode: Callable[[Any], Any]) -> None:
    text = step_body("1").decode().replace('"f"', '"f\udcff"')
    err = expect_error(decode, text, NAME)
    assert "malformed" in str(err)


@pytest.mark.parametrize("escape", ["\\ud800", "\\ud800x", "\\udc00", "\\ud800\\u0041"])
def test_broken_surrogate_escape(escape: str) -> None:
    body = step_body("1").replace(b'"f"', b'"' + escape.encode() + b'"')
    err = expect_error(stepwire.decode_step, body, NAME)
    assert "surrogate" in str(err)
    # msgspec reads a high surrogate at the very end as truncated input; it is not
    short = b'{"id": "' + escape.encode() + b'"}'
    err = expect_error(stepwire.decode_step, short, "$.id")
    assert "surrogate" in str(err)


def test_malformed_json_keeps_the_byte_offset_and_gains_a_path() -> None:
    body = step_body("[1, }")
    err = expect_error(stepwire.decode_step, body, f"{STEP_HOLE}[1]")
    offset = body.index(b"[1, }") + 4
    assert f"JSON is malformed: invalid character (byte {offset})" in str(err)
    err = expect_error(stepwire.decode_step, step_body("1") + b" x", "$")
    assert "trailing characters" in str(err)


# -- fuzz: whatever the bytes, a result or a DecodeError with a path ---------------------------

SEED = step_body('{"a": [1, 2.5, "x", null, {"b": [true]}]}')


def _decode_or_error(body: bytes, strict: bool) -> None:
    for decode in (stepwire.decode_step, stepwire.decode_delta, stepwire.decode_page):
        error: stepwire.DecodeError | None = None
        try:
            decode(body, strict=strict)
        except stepwire.DecodeError as exc:
            error = exc
        if error is not None:
            assert error.path is not None
            assert error.path.startswith("$")


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, len(SEED)),
    at=st.integers(0, len(SEED) - 1),
    byte=st.sampled_from([0, 1, 0x1F, 0x22, 0x5B, 0x5C, 0x7B, 0x7D, 0x80, 0xC3, 0xFF]),
    strict=st.booleans(),
)
def test_mutated_bodies(cut: int, at: int, byte: int, strict: bool) -> None:
    _decode_or_error(SEED[:cut], strict)
    _decode_or_error(SEED[:at] + bytes([byte]) + SEED[at + 1 :], strict)
    _decode_or_error(SEED[:at] + b"[" * 2000 + SEED[at:], strict)


# -- the locator and the error-event decoder ---------------------------------------------------


def test_format_path_abbreviations() -> None:
    assert _locate.format_path([]) == "$"
    assert _locate.format_path(["data", 3, "id"]) == "$.data[3].id"
    assert _locate.format_path(["x", 0, 0, 0]) == "$.x[0][0][0]"
    assert _locate.format_path(["x", 0, 0, 0, 0]) == "$.x[0]{4}"
    assert (
        _locate.format_path(["content-type", "a`b", "_ok1"])
        == '$["content-type"]["a\\u0060b"]._ok1'
    )
    assert _locate.format_path(["k" * 50]) == '$["' + "k" * 37 + '..."]'
    long = _locate.format_path([f"k{i}" for i in range(40)])
    assert long == "$" + "".join(f".k{i}" for i in range(12)) + "<...16 levels...>" + "".join(
        f".k{i}" for i in range(28, 40)
    )


def test_path_at() -> None:
    data = b'{"a": {"b-c": [1, {"d": "x\x01"}]}, "e": 1}'
    assert _locate.path_at(data, data.index(b"\x01")) == '$.a["b-c"][1].d'
    assert _locate.path_at(data, data.index(b'"d"') + 1) == '$.a["b-c"][1]'  # a key: its object
    assert _locate.path_at(data, data.index(b'"e"') + 1) == "$"
    assert _locate.path_at(data, len(data)) == "$"
    assert _locate.path_at(data[:-6], len(data) - 6) == "$"
    assert _locate.path_at(b'{"a": [1, ', 10) == "$.a[1]"
    assert _locate.path_at(b'"unterminated \\"', 16) == "$"


def test_deepest() -> None:
    assert _locate.deepest(b"1", 3) == (-1, 0)
    assert _locate.deepest(b"[[], [[[]]]]", 64) == (7, 4)
    # the crossing on the way to the deepest point, not the first crossing
    data = b"[[[]], [[[[]]]]]"
    assert _locate.deepest(data, 2) == (data.index(b"[[[]]]]"), 5)


@pytest.mark.parametrize(
    "body",
    [b'{"error": {"code": 5}}', b'{"code": [1]}', b'{"error": {"message": 1e400}}', b"\xff"],
)
def test_api_error_events_never_raise(body: bytes) -> None:
    error = decode_api_error(body)
    assert isinstance(error, stepwire.ApiError)
    assert error.message == body.decode("utf-8", "replace")


def test_no_bare_msgspec_errors_escape() -> None:
    bodies = [b"", b"[", b"\xff", "\ud800", step_body(nested(10_000), at="ignored"), b"1e400"]
    for body in bodies:
        with pytest.raises(stepwire.DecodeError) as info:
            stepwire.decode_step(body)
        assert not isinstance(info.value, (msgspec.DecodeError, msgspec.ValidationError))
