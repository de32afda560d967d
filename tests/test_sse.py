"""Event-stream framing ("Parsing an event stream", HTML standard), in both implementations."""

from __future__ import annotations

import pytest

import stepwire
from helpers import delta_object, feed_through_errors, frame, step_object, to_json, tool_calls

BOM = b"\xef\xbb\xbf"


def run(impl, *chunks, close=True):
    """Feed ``chunks`` to a new accumulator; return it and every event (close() included)."""
    acc = impl.Accumulator()
    events = []
    for chunk in chunks:
        events.extend(acc.feed(chunk))
    if close:
        events.extend(acc.close())
    return acc, events


def view(events):
    """Events as comparable tuples, decoded data as its JSON."""
    return [
        (e.event, e.id, e.raw, e.data if isinstance(e.data, bytes) else stepwire.encode(e.data))
        for e in events
    ]


def names_and_data(events):
    return [(e.event, e.raw) for e in events]


# -- line ends -------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_ends(impl, eol):
    body = eol.join([b"event: first", b"data: 1", b"data: 2", b"", b"data: x", b"", b""])
    _, events = run(impl, body, close=False)
    assert names_and_data(events) == [("first", b"1\n2"), ("message", b"x")]


def test_mixed_line_ends_in_one_stream(impl):
    body = b"data: a\rdata: b\r\ndata: c\n\r\ndata: d\n\r"
    _, events = run(impl, body, close=False)
    assert names_and_data(events) == [("message", b"a\nb\nc"), ("message", b"d")]


def test_crlf_split_across_chunks_is_one_line_end(impl):
    # Were the CR and the LF two line ends, "data: a" would be dispatched alone.
    _, events = run(impl, b"data: a\r", b"\ndata: b\r\n\r\n", close=False)
    assert names_and_data(events) == [("message", b"a\nb")]


def test_crlf_split_across_chunks_with_empty_chunks_between(impl):
    _, events = run(impl, b"data: a\r", b"", b"", b"\ndata: b\r", b"\n", b"\r", b"\n", close=False)
    assert names_and_data(events) == [("message", b"a\nb")]


def test_cr_at_chunk_end_then_no_lf(impl):
    # A lone CR ends the line; the next chunk starts a new one.
    _, events = run(impl, b"data: a\r", b"data: b\r", b"\r", close=False)
    assert names_and_data(events) == [("message", b"a\nb")]


def test_other_separators_are_not_line_ends(impl):
    # Only CR, LF and CRLF end lines: not VT, FF, FS/GS/RS, NEL, LS or PS
    # (str.splitlines would split on all of these).
    text = "a\x0bb\x0cc\x1cd\x1de\x1ef\x85g\u2028h\u2029i\x00j"
    _, events = run(impl, b"data: " + text.encode() + b"\n\n")
    assert names_and_data(events) == [("message", text.encode())]


# -- chunking ---------------------------------------------------------------------

CHUNKY = (
    BOM
    + b": a comment\r\n"
    + b"id: 1\r\n"
    + b"event: thread.message.delta\r\n"
    + 'data: {"text": "caf\u00e9 \u6771\u4eac \u2713 \U0001f600"}\r\n\r\n'.encode()
    + frame("thread.run.step.created", step_object(tool_calls()))
    + b"event: thread.run.step.delta\rdata: "
    + to_json(
        delta_object(
            tool_calls(
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f\u00fc", "arguments": '{"\u00b0C"', "output": None},
                }
            )
        )
    )
    + b"\r\r"
    + b"retry: 250\n"
    + b"event: \xe6\x95\xb0\xe6\x8d\xae\ndata\ndata:  two\n\n"
    + b'event: error\ndata: {"error": {"message": "\xc3\xa9", "type": "server_error"}}\n\n'
    + b"data: tail without blank line"
)


def test_every_byte_separately_gives_the_same_events(impl):
    acc_whole, whole = run(impl, CHUNKY)
    acc_bytes, pieces = run(impl, *(CHUNKY[i : i + 1] for i in range(len(CHUNKY))))
    assert len(whole) == 6
    assert view(pieces) == view(whole)
    assert stepwire.encode(acc_bytes.steps["step_1"]) == stepwire.encode(acc_whole.steps["step_1"])
    assert (acc_bytes.last_event_id, acc_bytes.retry) == (acc_whole.last_event_id, acc_whole.retry)


def test_any_two_way_split_gives_the_same_events(impl):
    _, whole = run(impl, CHUNKY)
    expected = view(whole)
    for cut in range(len(CHUNKY) + 1):
        _, events = run(impl, CHUNKY[:cut], CHUNKY[cut:])
        assert view(events) == expected, cut


def test_chunky_body_events(impl):
    acc, events = run(impl, CHUNKY)
    assert [e.event for e in events] == [
        "thread.message.delta",
        "thread.run.step.created",
        "thread.run.step.delta",
        "\u6570\u636e",
        "error",
        "message",
    ]
    assert events[0].data == '{"text": "caf\u00e9 \u6771\u4eac \u2713 \U0001f600"}'.encode()
    assert events[3].raw == b"\n two"
    assert events[4].data == stepwire.ApiError(message="\u00e9", type="server_error")
    assert events[5].raw == b"tail without blank line"
    assert all(e.id == "1" for e in events)
    assert acc.retry == 250
    call = acc.steps["step_1"].step_details.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("f\u00fc", '{"\u00b0C"')


# -- fields -----------------------------------------------------------------------


def test_event_name_and_default_name(impl):
    _, events = run(impl, b"event: thread.run.created\ndata: {}\n\ndata: {}\n\n")
    assert [e.event for e in events] == ["thread.run.created", "message"]


def test_event_name_does_not_leak_into_the_next_event(impl):
    _, events = run(impl, b"event: ignored\n\ndata: a\n\nevent: x\ndata: b\n\ndata: c\n\n")
    assert names_and_data(events) == [("message", b"a"), ("x", b"b"), ("message", b"c")]


def test_event_name_that_is_not_utf8_does_not_raise(impl):
    name = b"thread.\xff\xfe"
    _, events = run(impl, b"event: " + name + b"\ndata: a\n\n")
    assert [e.event for e in events] == [name.decode("utf-8", "replace")]


def test_many_distinct_event_names(impl):
    # More names than any cache of decoded names may hold.
    body = b"".join(b"event: name.%d\ndata: %d\n\n" % (i, i) for i in range(200))
    _, events = run(impl, body + body)
    assert [e.event for e in events] == [f"name.{i}" for i in range(200)] * 2
    assert [e.raw for e in events] == [str(i).encode() for i in range(200)] * 2


def test_multi_line_data_joined_with_lf(impl):
    _, events = run(impl, b'data: {\ndata: "a": 1\ndata: }\n\n')
    assert events[0].raw == b'{\n"a": 1\n}'


@pytest.mark.parametrize(
    ("block", "raw"),
    [
        (b"data\n\n", b""),
        (b"data\ndata\n\n", b"\n"),
        (b"data:\n\n", b""),
        (b"data: \n\n", b""),
        (b"data\ndata: x\n\n", b"\nx"),
    ],
)
def test_data_without_value_is_an_empty_line(impl, block, raw):
    _, events = run(impl, block)
    assert names_and_data(events) == [("message", raw)]


@pytest.mark.parametrize(
    ("line", "raw"),
    [
        (b"data: x", b"x"),
        (b"data:x", b"x"),
        (b"data:  x", b" x"),
        (b"data:\tx", b"\tx"),
        (b"data: x ", b"x "),
        (b"data::x", b":x"),
    ],
)
def test_one_leading_space_stripped(impl, line, raw):
    _, events = run(impl, line + b"\n\n")
    assert events[0].raw == raw


def test_one_leading_space_stripped_from_event_name(impl):
    _, events = run(impl, b"event:  spaced\ndata: a\n\nevent:tight\ndata: b\n\n")
    assert [e.event for e in events] == [" spaced", "tight"]


def test_comments_ignored(impl):
    body = b": comment\ndata: a\n:\n: another: with colon\ndata: b\n\n:only a comment\n\n"
    _, events = run(impl, body)
    assert names_and_data(events) == [("message", b"a\nb")]


def test_unknown_fields_ignored(impl):
    body = b"foo: bar\nData: x\nDATA: y\nevents: z\ndata: a\nretr: 1\nid : 5\n\n"
    acc, events = run(impl, body)
    assert names_and_data(events) == [("message", b"a")]
    assert (acc.last_event_id, acc.retry) == (None, None)


def test_blank_lines_without_data_dispatch_nothing(impl):
    acc, events = run(impl, b"\n\n\r\n\revent: x\n\n\n")
    assert events == []
    assert not acc.done


def test_id_sets_event_id_and_persists(impl):
    body = (
        b"data: before\n\n"
        b"id: 7\ndata: a\n\n"
        b"data: b\n\n"
        b"id: 8\n\n"  # set without dispatching
        b"data: c\n\n"
        b"id: x\x00y\ndata: d\n\n"  # NUL: ignored
        b"id\ndata: e\n\n"  # empty id: the last event id is now empty
    )
    acc, events = run(impl, body)
    assert [(e.raw, e.id) for e in events] == [
        (b"before", None),
        (b"a", "7"),
        (b"b", "7"),
        (b"c", "8"),
        (b"d", "8"),
        (b"e", ""),
    ]
    assert acc.last_event_id == ""


def test_last_event_id(impl):
    acc, _ = run(impl, b"id: evt-\xc3\xa9\ndata: a\n\n")
    assert acc.last_event_id == "evt-\u00e9"
    acc, _ = run(impl, b"data: a\n\n")
    assert acc.last_event_id is None


@pytest.mark.parametrize(
    ("lines", "retry"),
    [
        (b"retry: 1500\n", 1500),
        (b"retry:0\n", 0),
        (b"retry: 3000\nretry: 10\n", 10),
        (b"retry: 1500\nretry: 15a\n", 1500),
        (b"retry: 15a\n", None),
        (b"retry: -1\n", None),
        (b"retry: 1.5\n", None),
        (b"retry:  15\n", None),
        (b"retry:\n", None),
        ("retry: \u0661\u0662\n".encode(), None),  # non-ASCII digits
        (b"retry: 999999999999999999\n", 999_999_999_999_999_999),  # 18 digits
        (b"retry: 1000000000000000000\n", None),  # 19: ignored
        (b"retry: " + b"0" * 5000 + b"1500\n", 1500),  # leading zeros do not count
        (b"retry: 1500\nretry: " + b"9" * 5000 + b"\n", 1500),  # past int()'s digit limit
    ],
)
def test_retry(impl, lines, retry):
    acc, events = run(impl, lines + b"data: a\n\n")
    assert acc.retry == retry
    assert names_and_data(events) == [("message", b"a")]


# -- byte order mark -------------------------------------------------------------


def test_bom_stripped(impl):
    _, events = run(impl, BOM + b"data: a\n\n")
    assert names_and_data(events) == [("message", b"a")]


@pytest.mark.parametrize(
    "chunks",
    [
        [b"\xef", b"\xbb", b"\xbf", b"data: a\n\n"],
        [b"\xef\xbb", b"\xbfdata: a\n\n"],
        [b"", b"\xef", b"", b"\xbb\xbfdata: a\n\n"],
        [b"\xef\xbb\xbfd", b"ata: a\n\n"],
    ],
)
def test_bom_split_across_chunks(impl, chunks):
    _, events = run(impl, *chunks)
    assert names_and_data(events) == [("message", b"a")]


def test_only_the_first_bom_is_stripped(impl):
    # A second BOM makes the first line's field name "\ufeffdata": unknown.
    _, events = run(impl, BOM + BOM + b"data: a\n\ndata: b\n\n")
    assert names_and_data(events) == [("message", b"b")]
    _, events = run(impl, b"data: a\n\n" + BOM + b"data: b\n\ndata: c\n\n")
    assert names_and_data(events) == [("message", b"a"), ("message", b"c")]


def test_bom_alone_then_close(impl):
    _, events = run(impl, b"\xef\xbb")
    assert events == []
    _, events = run(impl, BOM)
    assert events == []


# -- end of stream ----------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [b"event: done\ndata: [DONE]\n\n", b"data: [DONE]\n\n", b"event: done\ndata: bye\n\n"],
)
def test_done_sets_done_and_is_not_yielded(impl, block):
    acc = impl.Accumulator()
    assert acc.done is False
    events = acc.feed(b"data: a\n\n" + block)
    assert names_and_data(events) == [("message", b"a")]
    assert acc.done is True
    assert acc.close() == []
    # Comments and blank lines after the end are harmless.
    assert acc.feed(b": keep-alive\n\n\n") == []


def test_event_after_done_raises(impl):
    acc = impl.Accumulator()
    acc.feed(b"event: done\ndata: [DONE]\n\n")
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(b"event: thread.run.created\ndata: {}\n\n")
    assert info.value.event == "thread.run.created"
    assert isinstance(info.value, ValueError)


def test_event_after_done_in_the_same_chunk(impl):
    acc = impl.Accumulator()
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(b"data: a\n\ndata: [DONE]\n\ndata: late\n\n")
    assert info.value.event == "message"
    assert names_and_data(info.value.events) == [("message", b"a")]
    assert acc.done


def test_close_dispatches_an_event_without_blank_line(impl):
    acc = impl.Accumulator()
    events = acc.feed(b"data: a\n\nevent: last\ndata: b\n")
    assert names_and_data(events) == [("message", b"a")]
    events = acc.close()
    assert names_and_data(events) == [("last", b"b")]


@pytest.mark.parametrize("ending", [b"", b"\r", b"\n", b"\r\n"])
def test_close_dispatches_an_unterminated_last_line(impl, ending):
    acc = impl.Accumulator()
    events = acc.feed(b"data: a\n\nevent: last\ndata: b" + ending)
    assert names_and_data(events) == [("message", b"a")]
    assert names_and_data(acc.close()) == [("last", b"b")]
    assert acc.close() == []


def test_close_of_an_empty_stream(impl):
    acc = impl.Accumulator()
    assert acc.close() == []
    assert not acc.done


# -- input types -------------------------------------------------------------------


@pytest.mark.parametrize("chunk", ["data: a\n\n", 123, None, ["data"], 1.5])
def test_feed_rejects_non_bytes(impl, chunk):
    acc = impl.Accumulator()
    with pytest.raises(TypeError):
        acc.feed(chunk)
    # Still usable.
    assert names_and_data(acc.feed(b"data: a\n\n")) == [("message", b"a")]


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_feed_accepts_bytes_like(impl, kind):
    body = b"data: a\r\n\r\nevent: x\ndata: \xc3\xa9\n"
    acc = impl.Accumulator()
    events = acc.feed(kind(body[:9])) + acc.feed(kind(body[9:])) + acc.close()
    assert names_and_data(events) == [("message", b"a"), ("x", "\u00e9".encode())]
    assert all(type(e.raw) is bytes and type(e.data) is bytes for e in events)


def test_feed_does_not_keep_a_view_of_a_mutable_chunk(impl):
    buf = bytearray(b"data: ab")
    acc = impl.Accumulator()
    assert acc.feed(buf) == []
    buf[:] = b"XXXXXXXX"
    assert names_and_data(acc.feed(b"c\n\n")) == [("message", b"abc")]


# -- event data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "thread.run.created",
        "thread.message.delta",
        "thread.run.requires_action",
        "some.future.event",
        "message",
    ],
)
def test_other_events_pass_through_as_bytes(impl, name):
    raw = b'{"id": "x", "delta": {"content": [{"index": 0}]}}'
    _, events = run(impl, frame(name, raw))
    assert len(events) == 1
    event = events[0]
    assert (event.event, event.raw, event.data, event.id) == (name, raw, raw, None)
    assert type(event.data) is bytes


def test_step_events_are_decoded(impl):
    created = step_object(tool_calls())
    delta = delta_object(tool_calls({"index": 0, "type": "function", "function": {}}))
    _, events = run(
        impl, frame("thread.run.step.created", created), frame("thread.run.step.delta", delta)
    )
    assert isinstance(events[0].data, stepwire.RunStep)
    assert isinstance(events[1].data, stepwire.RunStepDeltaEvent)
    assert events[1].data == stepwire.decode_delta(to_json(delta))
    assert events[0].raw == to_json(created)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b'{"error": {"code": "rate_limit_exceeded", "message": "Slow down", '
            b'"param": "model", "type": "requests"}}',
            stepwire.ApiError(
                code="rate_limit_exceeded", message="Slow down", param="model", type="requests"
            ),
        ),
        (
            b'{"error": {"message": "Sorry", "type": "server_error", "param": null, "code": null}}',
            stepwire.ApiError(message="Sorry", type="server_error", param=None, code=None),
        ),
        (
            b'{"code": "c", "message": "bare", "param": null, "type": "server_error"}',
            stepwire.ApiError(code="c", message="bare", param=None, type="server_error"),
        ),
        (b'{"message": "only a message"}', stepwire.ApiError(message="only a message")),
        (b"upstream connect error", stepwire.ApiError(message="upstream connect error")),
        (b'{"error": {"code": 500}}', stepwire.ApiError(message='{"error": {"code": 500}}')),
        (b'{"error": "text"}', stepwire.ApiError(message='{"error": "text"}')),
        (b"[1, 2]", stepwire.ApiError(message="[1, 2]")),
        (b"null", stepwire.ApiError(message="null")),
        (b'{"error": {"message": "x"', stepwire.ApiError(message='{"error": {"message": "x"')),
        (b"\xff\xfe bad", stepwire.ApiError(message="\ufffd\ufffd bad")),
        (b"[" * 10_000, stepwire.ApiError(message="[" * 10_000)),
        (b"", stepwire.ApiError(message="")),
    ],
)
def test_error_event_gives_an_api_error(impl, raw, expected):
    acc = impl.Accumulator()
    events = acc.feed(b"event: error\ndata: " + raw + b"\n\ndata: after\n\n")
    assert [e.event for e in events] == ["error", "message"]
    assert events[0].data == expected
    assert isinstance(events[0].data, stepwire.ApiError)
    assert events[0].raw == raw
    assert not acc.done


# -- errors ----------------------------------------------------------------------------


def test_malformed_delta_raises_and_the_rest_of_the_chunk_follows(impl):
    created = frame("thread.run.step.created", step_object(tool_calls()))
    first = delta_object(
        tool_calls(
            {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "f", "arguments": "", "output": None},
            }
        )
    )
    later = delta_object(
        tool_calls({"index": 0, "type": "function", "function": {"arguments": "{}"}})
    )
    chunk = (
        created
        + frame("thread.run.step.delta", first)
        + frame("thread.message.delta", b"{}")
        + b'event: thread.run.step.delta\ndata: {"id": "step_1", "object\n\n'
        + frame("thread.run.step.delta", later)
        + frame("thread.run.completed", b"{}")
        + b'event: thread.run.step.delta\ndata: {"id":'  # incomplete
    )
    acc = impl.Accumulator()
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(chunk)
    exc = info.value
    assert exc.event == "thread.run.step.delta"
    assert [e.event for e in exc.events] == [
        "thread.run.step.created",
        "thread.run.step.delta",
        "thread.message.delta",
    ]
    assert exc.events[1].data == stepwire.decode_delta(to_json(first))
    assert acc.steps["step_1"].step_details.tool_calls[0].function.arguments == ""
    # The events after the bad one, from the same chunk.
    rest = acc.feed(b"")
    assert names_and_data(rest) == [
        ("thread.run.step.delta", to_json(later)),
        ("thread.run.completed", b"{}"),
    ]
    assert acc.steps["step_1"].step_details.tool_calls[0].function.arguments == "{}"
    # The incomplete last event is still buffered.
    tail = acc.feed(b'"step_1","object":"thread.run.step.delta","delta":{}}\n\n')
    assert [e.event for e in tail] == ["thread.run.step.delta"]


def test_two_malformed_events_in_one_chunk(impl):
    acc = impl.Accumulator()
    bad = b"event: thread.run.step.delta\ndata: nope\n\n"
    chunk = b"data: 1\n\n" + bad + b"data: 2\n\n" + bad + b"data: 3\r"
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(chunk)
    assert names_and_data(info.value.events) == [("message", b"1")]
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(b"")
    assert names_and_data(info.value.events) == [("message", b"2")]
    assert acc.feed(b"") == []
    # The CR that ended the chunk and the LF that follows are one line end.
    assert acc.feed(b"\n") == []
    assert names_and_data(acc.feed(b"\n")) == [("message", b"3")]


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("thread.run.step.delta", b"{not json"),
        ("thread.run.step.delta", b'{"id": "step_1"}'),
        ("thread.run.step.delta", b'{"id": "step_1", "object": "thread.run.step.delta"}'),
        ("thread.run.step.delta", b'{"id":"s","object":"thread.run.step.delta","delta":{"step_'),
        ("thread.run.step.created", b'{"id": "step_1"}'),
        ("thread.run.step.completed", b"[]"),
        ("thread.run.step.in_progress", b""),
        ("thread.run.step.failed", b"\xff"),
    ],
)
def test_undecodable_step_event_raises_stream_error(impl, name, raw):
    acc = impl.Accumulator()
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(frame(name, raw) + b"data: next\n\n")
    assert info.value.event == name
    assert info.value.events == []
    assert names_and_data(acc.feed(b"")) == [("message", b"next")]


def test_invalid_utf8_inside_a_delta_string_raises(impl):
    created = frame("thread.run.step.created", step_object(tool_calls()))
    first = to_json(
        delta_object(tool_calls({"index": 0, "id": "c", "type": "function", "function": {}}))
    )
    bad = to_json(
        delta_object(tool_calls({"index": 0, "type": "function", "function": {"arguments": "X"}}))
    ).replace(b'"X"', b'"a\xff\xfeb"')
    acc = impl.Accumulator()
    acc.feed(created + frame("thread.run.step.delta", first))
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(frame("thread.run.step.delta", bad))
    assert info.value.event == "thread.run.step.delta"
    assert acc.steps["step_1"].step_details.tool_calls[0].function.arguments == ""


def test_close_raises_for_a_truncated_last_event(impl):
    acc = impl.Accumulator()
    assert acc.feed(b'data: a\n\nevent: thread.run.step.delta\ndata: {"id":') != []
    with pytest.raises(stepwire.StreamError) as info:
        acc.close()
    assert info.value.event == "thread.run.step.delta"


def test_delta_json_spread_over_data_lines(impl):
    created = frame("thread.run.step.created", step_object(tool_calls()))
    first = to_json(
        delta_object(
            tool_calls({"index": 0, "id": "c", "type": "function", "function": {"arguments": "a"}})
        )
    )
    more = to_json(
        delta_object(tool_calls({"index": 0, "type": "function", "function": {"arguments": "b"}}))
    )
    # Split after every comma: LF is JSON whitespace once the lines are joined.
    spread = b"data: " + more.replace(b",", b",\ndata: ") + b"\n\n"
    acc = impl.Accumulator()
    events = acc.feed(
        created + frame("thread.run.step.delta", first) + b"event: thread.run.step.delta\n" + spread
    )
    assert events[-1].raw == more.replace(b",", b",\n")
    assert events[-1].data == stepwire.decode_delta(more)
    assert acc.steps["step_1"].step_details.tool_calls[0].function.arguments == "ab"


# -- max_event_bytes -----------------------------------------------------------------


def limited(impl, limit=16):
    return impl.Accumulator(max_event_bytes=limit)


def feed_all(acc, *chunks):
    """Feed ``chunks`` and close; return (events, errors), going on after each error."""
    out = feed_through_errors(acc, chunks)
    errors = [item for item in out if isinstance(item, stepwire.StreamError)]
    return [item for item in out if not isinstance(item, stepwire.StreamError)], errors


def test_event_data_at_the_limit_passes_one_byte_more_fails(impl):
    ok = b"data: " + b"x" * 8 + b"\ndata: " + b"y" * 7 + b"\n\n"  # 8 + 1 + 7 = 16 bytes
    events, errors = feed_all(limited(impl), ok)
    assert (names_and_data(events), errors) == ([("message", b"x" * 8 + b"\n" + b"y" * 7)], [])
    events, errors = feed_all(limited(impl), ok.replace(b"y" * 7, b"y" * 8) + b"data: z\n\n")
    assert names_and_data(events) == [("message", b"z")]
    assert len(errors) == 1
    assert "max_event_bytes (16 bytes)" in str(errors[0])
    assert errors[0].event is None  # no event: line before the data


def test_an_oversized_event_is_skipped_to_its_blank_line(impl):
    body = (
        b"event: a\ndata: 1\n\n"
        b"event: big\ndata: " + b"x" * 40 + b"\ndata: more\nevent: other\nid: 7\n\n"
        b"event: c\ndata: 3\n\n"
    )
    events, errors = feed_all(limited(impl), body)
    assert names_and_data(events) == [("a", b"1"), ("c", b"3")]
    assert [e.event for e in errors] == ["big"]
    assert names_and_data(errors[0].events) == [("a", b"1")]  # completed before the error
    assert all(e.id is None for e in events)  # fields of the skipped event are skipped too


def test_an_unterminated_line_past_the_limit_fails_without_waiting_for_its_end(impl):
    acc = limited(impl)
    assert names_and_data(acc.feed(b"data: ok\n\n")) == [("message", b"ok")]
    with pytest.raises(stepwire.StreamError, match="max_event_bytes") as info:
        acc.feed(b"data: ok2\n\nevent: big\ndata: " + b"x" * 20)
    assert names_and_data(info.value.events) == [("message", b"ok2")]
    # The rest of the line and of the event is discarded as it arrives, not buffered.
    for _ in range(100):
        assert acc.feed(b"x" * 1000) == []
    assert acc.feed(b"\ndata: still the big event\n") == []
    assert names_and_data(acc.feed(b"\ndata: next\n\n")) == [("message", b"next")]


def test_oversized_line_is_refused_however_it_is_split(impl):
    body = b"data: " + b"x" * 30 + b"\r\n\r\ndata: after\r\n\r\n"
    expected = None
    for cut in range(len(body) + 1):
        events, errors = feed_all(limited(impl), body[:cut], body[cut:])
        outcome = (names_and_data(events), [str(e) for e in errors])
        expected = expected or outcome
        assert outcome == expected, cut
    assert expected == ([("message", b"after")], [str(errors[0])])
    assert len(errors) == 1


def test_a_data_line_is_measured_by_its_value(impl):
    """The field name does not count: 16 bytes of data pass in one line, split anywhere."""
    body = b"data: " + b"x" * 16 + b"\n\n"
    for cut in range(len(body) + 1):
        events, errors = feed_all(limited(impl), body[:cut], body[cut:])
        assert (names_and_data(events), errors) == ([("message", b"x" * 16)], []), cut


def test_a_long_comment_line_is_a_long_line(impl):
    events, errors = feed_all(limited(impl), b": " + b"c" * 20 + b"\ndata: x\n\ndata: y\n\n")
    assert names_and_data(events) == [("message", b"y")]  # the comment's event went with it
    assert len(errors) == 1


def test_oversized_event_and_close(impl):
    acc = limited(impl)
    acc.feed(b"data: " + b"x" * 16)  # at the limit, not ended: close() dispatches it
    assert names_and_data(acc.close()) == [("message", b"x" * 16)]
    acc = limited(impl)
    acc.feed(b"data: " + b"x" * 16)
    with pytest.raises(stepwire.StreamError, match="max_event_bytes"):
        acc.feed(b"\ndata: y")  # the unended line already passes the limit
    assert acc.close() == []  # close() ends the discarded event: nothing to dispatch


def test_oversized_event_never_reaches_the_steps(impl):
    step = to_json(step_object(tool_calls()))
    acc = impl.Accumulator(max_event_bytes=len(step) - 1)
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(frame("thread.run.step.created", step_object(tool_calls())))
    assert info.value.event == "thread.run.step.created"
    assert dict(acc.steps) == {}


def test_default_max_event_bytes_is_16_mib(impl):
    acc = impl.Accumulator()
    data = b"x" * (16 * 1024 * 1024)
    events = acc.feed(b"data: " + data + b"\n\n")
    assert len(events[0].raw) == len(data)
    with pytest.raises(stepwire.StreamError, match="16777216 bytes"):
        acc.feed(b"data: " + data + b"x\n\n")


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-5, ValueError), (1.5, TypeError), ("1", TypeError), (None, TypeError)],
)
def test_max_event_bytes_must_be_a_positive_int(impl, value, error):
    with pytest.raises(error, match="max_event_bytes"):
        impl.Accumulator(max_event_bytes=value)
