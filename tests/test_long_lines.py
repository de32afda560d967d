"""Lines longer than the chunks that carry them: framed the same on both builds, whatever
the chunking (the compiled twin keeps such a line's chunks as fed and joins them once)."""

from __future__ import annotations

import pytest

import stepwire
from helpers import delta_object, feed_through_errors, frame, load_impl, step_object, tool_calls

LONG = b"x" * 50_000


def _chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def _outcome(impl, chunks, **limits):
    out = feed_through_errors(impl.Accumulator(**limits), chunks)
    return [
        (type(x).__name__, str(x)) if isinstance(x, Exception) else (x.event, x.id, x.raw)
        for x in out
    ]


BODIES = {
    "one data line": b"event: x\ndata: " + LONG + b"\n\n",
    "no space after the colon": b"event: x\ndata:" + LONG + b"\n\n",
    "crlf": b"event: x\r\ndata: " + LONG + b"\r\n\r\n",
    "cr": b"event: x\rdata: " + LONG + b"\r\r",
    "two data lines, the second long": b"data: a\ndata: " + LONG + b"\n\n",
    "two long data lines": b"data: " + LONG + b"\ndata: " + LONG + b"\n\n",
    "a long comment": b": " + LONG + b"\ndata: y\n\n",
    "a long event name": b"event: " + LONG + b"\ndata: y\n\n",
    "a long id": b"id: " + LONG + b"\ndata: y\n\n",
    "a long unknown field": b"surprise: " + LONG + b"\ndata: y\n\n",
    "unterminated at the end": b"data: " + LONG,
    "then more events": b"data: " + LONG + b"\n\nevent: e\ndata: z\n\n" * 3,
}


@pytest.mark.parametrize("size", [1000, 4096, 7, 49_999])
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_both_builds_frame_long_lines_alike(body, size):
    python, cython = load_impl("python"), load_impl("cython")
    expected = _outcome(python, [body])
    assert _outcome(python, _chunked(body, size)) == expected
    assert _outcome(cython, _chunked(body, size)) == expected
    assert _outcome(cython, [body]) == expected


@pytest.mark.parametrize("name", ["python", "cython"])
def test_a_long_data_line_is_the_event_data(name):
    acc = load_impl(name).Accumulator()
    events = []
    for chunk in _chunked(b"event: x\ndata: " + LONG + b"\n", 4096):
        events += acc.feed(chunk)
    assert events == []
    (event,) = acc.feed(b"\n")
    assert (event.event, event.raw) == ("x", LONG)


@pytest.mark.parametrize("limit", [40_000, 50_000, 50_001, 100_006])
@pytest.mark.parametrize("size", [1000, 4096])
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_limits_hold_for_lines_longer_than_a_chunk(body, size, limit):
    python, cython = load_impl("python"), load_impl("cython")
    expected = _outcome(python, [body], max_event_bytes=limit)
    assert _outcome(python, _chunked(body, size), max_event_bytes=limit) == expected
    assert _outcome(cython, _chunked(body, size), max_event_bytes=limit) == expected
    if limit < len(LONG):
        assert any(kind == "StreamError" for kind, *_ in expected)


@pytest.mark.parametrize("name", ["python", "cython"])
def test_a_long_delta_takes_the_fast_path_or_the_merge_alike(name):
    """A delta longer than a chunk merges into the snapshot as one fed whole would."""
    acc = load_impl(name).Accumulator()
    created = frame("thread.run.step.created", step_object(tool_calls(), step_id="s"))

    def delta(**function):
        call = {"index": 0, "type": "function", "function": function}
        return frame("thread.run.step.delta", delta_object(tool_calls(call), step_id="s"))

    first = delta(name="f", arguments="a" * 10_000)
    more = delta(arguments="b" * 10_000)
    for chunk in _chunked(created + first + more, 4096):
        acc.feed(chunk)
    args = acc.steps["s"].step_details.tool_calls[0].function.arguments
    assert args == "a" * 10_000 + "b" * 10_000
    assert isinstance(acc.steps["s"], stepwire.RunStep)
