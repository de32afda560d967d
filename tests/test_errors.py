"""Every bad input is a DecodeError naming where it went wrong; never a bare msgspec error."""

from __future__ import annotations

import json

import msgspec
import pytest

import stepwire
from test_unknown import FUNCTION, _step

GOOD = json.dumps(_step({"type": "tool_calls", "tool_calls": [FUNCTION]}))
PAGE = json.dumps(
    {
        "object": "list",
        "data": [json.loads(GOOD)] * 3
        + [_step({"type": "tool_calls", "tool_calls": [dict(FUNCTION, id=1)]})],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
)

BAD = [
    pytest.param(b"", "$", "JSON input is empty", id="empty"),
    pytest.param(b"   \n", "$", "JSON input is empty", id="blank"),
    pytest.param(
        GOOD[:-5], "$.step_details.tool_calls[0].function.arguments", "truncated", id="truncated"
    ),
    pytest.param(GOOD + "x", "$", "trailing characters", id="trailing"),
    pytest.param(b"\xff\xfe", "$", "malformed", id="not-utf8-start"),
    pytest.param(
        GOOD.replace("step_1", "step_\x01"), "$.id", "raw control character", id="raw-control-char"
    ),
    pytest.param(GOOD.replace('"step_1"', '"st\\x"'), "$.id", "malformed", id="bad-escape"),
    pytest.param(b"[]", "$", "Expected `object`, got `array`", id="array-top-level"),
    pytest.param(b"null", "$", "got `null`", id="null-top-level"),
    pytest.param(b"{}", "$", "missing required field `id`", id="empty-object"),
    pytest.param(
        GOOD.replace('"created_at": 1', '"created_at": "1"'),
        "$.created_at",
        "`int`",
        id="int-as-str",
    ),
    pytest.param(
        GOOD.replace('"created_at": 1', '"created_at": 1.5'),
        "$.created_at",
        "`int`",
        id="float-int",
    ),
    pytest.param(
        GOOD.replace('"thread.run.step"', '"thread.run"'),
        "$.object",
        "Invalid enum value",
        id="object",
    ),
    pytest.param(
        GOOD.replace('"run_id": "run_1"', '"run_id": null'),
        "$.run_id",
        "`null`",
        id="null-required",
    ),
    pytest.param(
        GOOD.replace('"tool_calls": [', '"tool_calls": {"a": ').replace("}]}", "}}}"),
        "$.step_details.tool_calls",
        "Expected `array`",
        id="object-for-list",
    ),
    pytest.param(
        GOOD.replace('"usage"', '"x"').replace('"status"', '"usage": 5, "status"'),
        "$.usage",
        "Expected `object | null`",
        id="usage-int",
    ),
    # refused for its type at the root before the depth matters, as msgspec's typed decode does
    pytest.param(
        b"[" * 10000 + b"]" * 10000, "$", "Expected `object`, got `array`", id="deep-array"
    ),
    pytest.param(
        b'{"a": ' + b"[" * 10000 + b"]" * 10000 + b"}",
        "$.a[0]{63}",
        "nested more than 64",
        id="deep-field",
    ),
    pytest.param(
        GOOD.replace('"arguments": "{}"', '"arguments": "{}", "x": ' + "[" * 10000 + "]" * 10000),
        "$.step_details.tool_calls[0].function.x[0]{59}",
        "nested more than 64",
        id="deep-ignored-field",
    ),
]


@pytest.mark.parametrize(("body", "path", "message"), BAD)
def test_bad_step_gives_decode_error(body: str | bytes, path: str | None, message: str) -> None:
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_step(body)
    err = info.value
    assert isinstance(err, ValueError)
    assert not isinstance(err, (msgspec.DecodeError, msgspec.ValidationError))
    assert err.__cause__ is None
    assert err.__suppress_context__
    assert message in str(err)
    assert err.path == path
    if path is not None:
        assert str(err).endswith(f"`{path}`")


def test_error_path_inside_a_page() -> None:
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_page(PAGE)
    assert info.value.path == "$.data[3].step_details.tool_calls[0].id"
    assert "$.data[3].step_details.tool_calls[0].id" in str(info.value)


def test_ndjson_errors_name_the_line() -> None:
    body = "\n".join([GOOD, "", GOOD, GOOD.replace('"created_at": 1', '"created_at": "x"'), GOOD])
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_lines(body)
    assert info.value.line == 4
    assert str(info.value).startswith("line 4: ")
    assert info.value.path == "$.created_at"


@pytest.mark.parametrize("strict", [False, True])
def test_errors_in_both_modes_are_decode_errors(strict: bool) -> None:
    for body, *_ in (p.values for p in BAD):
        with pytest.raises(stepwire.DecodeError):
            stepwire.decode_step(body, strict=strict)  # type: ignore[arg-type]
        with pytest.raises(stepwire.DecodeError):
            stepwire.decode_delta(body, strict=strict)  # type: ignore[arg-type]


# -- one error tree ----------------------------------------------------------------------


def test_decode_and_stream_errors_share_one_base() -> None:
    assert issubclass(stepwire.StepwireError, ValueError)
    assert issubclass(stepwire.DecodeError, stepwire.StepwireError)
    assert issubclass(stepwire.StreamError, stepwire.StepwireError)
    assert not issubclass(stepwire.StreamError, stepwire.DecodeError)
    for cls in (stepwire.StepwireError, stepwire.DecodeError, stepwire.StreamError):
        assert cls.__module__ == "stepwire"


def test_a_stream_error_from_a_bad_body_carries_its_path_and_the_events_before_it() -> None:
    import pickle

    acc = stepwire.Accumulator()
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(b'data: a\n\nevent: thread.run.step.delta\ndata: {"id": 1}\n\n')
    exc = info.value
    cause = exc.__cause__
    assert isinstance(cause, stepwire.DecodeError)
    assert (exc.event, exc.path, exc.offset, exc.reason) == (
        "thread.run.step.delta",
        cause.path,
        cause.offset,
        cause.reason,
    )
    assert exc.path == "$.id"
    assert [e.raw for e in exc.events] == [b"a"]
    # The message is built from the fields, in one order for every error.
    assert (
        str(exc) == f"event 'thread.run.step.delta': {exc.reason} (byte {exc.offset}) - at `$.id`"
    )
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.event, copy.path, copy.offset, copy.events, str(copy)) == (
        exc.event,
        exc.path,
        exc.offset,
        exc.events,
        str(exc),
    )


def test_a_stream_error_without_an_event_or_a_path_says_only_why() -> None:
    exc = stepwire.StreamError("delta for step 'a' applied to step 'b'")
    assert (exc.event, exc.path, exc.offset, exc.events) == (None, None, None, [])
    assert str(exc) == exc.reason
