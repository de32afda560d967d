"""Streams end to end: the real recordings, generated streams, iter_events / aiter_events,
and the two implementations agreeing."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import os
import platform
import random
import sys
import threading

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepwire
from helpers import (
    REAL,
    accumulator_state,
    delta_object,
    examples,
    feed_through_errors,
    frame,
    load_impl,
    real_params,
    sse_events,
    step_object,
    to_json,
    tool_calls,
)
from stepgen import generate_delta_events

CREATED = "thread.run.step.created"
DELTA = "thread.run.step.delta"
TERMINAL = {
    "thread.run.step.completed",
    "thread.run.step.failed",
    "thread.run.step.cancelled",
    "thread.run.step.expired",
}
FULL = {CREATED, "thread.run.step.in_progress"} | TERMINAL
ERROR_STREAM = REAL / "sashirestela__simple-openai__stream_error_midrun.sse"


# -- the build --------------------------------------------------------------------------


def test_cython_extension_loaded_when_expected():
    """Fails when a CPython build silently fell back to the pure-Python stream."""
    if os.environ.get("STEPWIRE_NO_EXTENSIONS"):
        assert stepwire.IMPLEMENTATION == "python"
        twin = importlib.import_module("stepwire._stream_py")
        assert issubclass(stepwire.Accumulator, twin.Framer)
        return
    if platform.python_implementation() != "CPython":
        pytest.skip("the Cython extension is built for CPython only")
    try:
        module = importlib.import_module("stepwire._stream_c")
    except ImportError as exc:
        pytest.fail(
            f"stepwire._stream_c does not import ({exc!r}): build the extension, "
            "or set STEPWIRE_NO_EXTENSIONS=1 to test the pure-Python build"
        )
    assert module.IMPLEMENTATION == "cython"
    assert stepwire.IMPLEMENTATION == "cython"
    assert issubclass(stepwire.Accumulator, module.Framer)
    assert issubclass(stepwire.StreamEvent, module.Event)


def test_impl_exports(impl):
    assert impl.IMPLEMENTATION in ("python", "cython")
    acc = impl.Accumulator()
    assert (acc.done, acc.last_event_id, acc.retry) == (False, None, None)
    assert (len(acc.steps), len(acc.pending)) == (0, 0)
    event = acc.feed(b"event: x\nid: 1\ndata: y\n\n")[0]
    assert isinstance(event, impl.StreamEvent)
    assert event == impl.StreamEvent("x", b"y", "1", b"y")
    assert event != impl.StreamEvent("x", b"y", "2", b"y")


# -- helpers ------------------------------------------------------------------------------


def describe(events, full_steps=True):
    """Events as comparable tuples, taken when they are returned.

    ``full_steps=False`` leaves out the decoded data of full step events (their
    raw bytes are still compared): the object a created event carries is the
    snapshot later deltas are merged into (see test_merge's
    test_step_event_data_is_what_the_server_sent), so when it is read depends
    on where the chunks were cut.
    """
    out = []
    for e in events:
        if isinstance(e.data, bytes):
            data = e.data
        elif e.event in FULL and not full_steps:
            data = None
        else:
            data = stepwire.encode(e.data)
        out.append((e.event, e.id, e.raw, type(e.data).__name__, data))
    return out


def replay(acc, chunks, full_steps=True):
    events = []
    for chunk in chunks:
        events.extend(describe(acc.feed(chunk), full_steps))
    events.extend(describe(acc.close(), full_steps))
    return events


state = accumulator_state


def random_chunks(body, seed, low=1, high=300):
    rng = random.Random(seed)
    chunks = []
    pos = 0
    while pos < len(body):
        size = rng.randint(low, high)
        chunks.append(body[pos : pos + size])
        pos += size
    return chunks


def reframed(body):
    """The body's events one block each, as ``event: X\\ndata: Y\\n\\n`` (helpers.sse_events)."""
    return [frame(name, data) for name, data in sse_events(body)]


def real_where(keep):
    """The real .sse files for which ``keep(body)`` holds (or the visible no-corpus skip)."""
    params = []
    for param in real_params(".sse"):
        (path,) = param.values
        if path is None or keep(path.read_bytes()):
            params.append(param)
    return params


def terminal_after_deltas(body):
    """Whether a step of ``body`` gets a terminal event after deltas."""
    had_deltas = set()
    for name, data in sse_events(body):
        if name == DELTA:
            had_deltas.add(json.loads(data)["id"])
        elif name in TERMINAL and json.loads(data)["id"] in had_deltas:
            return True
    return False


def covers(server, snapshot, path="$"):
    """``snapshot`` equals ``server``, except that a file_search ``results`` list may be a
    prefix of the server's.

    Streams never fill those lists: the file_search deltas of the real streams carry the
    ranking options and ``results: []``, and only the completed object lists the results
    (openai-dotnet FileSearchStreamingWorks, simple-openai stream_file_search_delta). A
    merged snapshot can hold only what the deltas sent.
    """
    if isinstance(server, dict) and isinstance(snapshot, dict):
        assert snapshot.keys() == server.keys(), path
        for key in server:
            covers(server[key], snapshot[key], f"{path}.{key}")
    elif isinstance(server, list) and isinstance(snapshot, list):
        if path.endswith(".file_search.results"):
            assert snapshot == server[: len(snapshot)], path
        else:
            assert len(snapshot) == len(server), path
            for i, (a, b) in enumerate(zip(server, snapshot, strict=True)):
                covers(a, b, f"{path}[{i}]")
    else:
        assert snapshot == server, path


# -- the real corpus -------------------------------------------------------------------------


@pytest.mark.parametrize("path", real_params(".sse"))
def test_real_stream_replays(impl, path):
    body = path.read_bytes()
    acc = impl.Accumulator()
    events = acc.feed(body) + acc.close()
    # Framing agrees with the tests' own minimal splitter (the end marker is not an event).
    expected = [(n, d) for n, d in sse_events(body) if n != "done" and d != b"[DONE]"]
    assert [(e.event, e.raw) for e in events] == expected
    assert acc.done == (b"data: [DONE]" in body)
    steps = set()
    for e in events:
        if e.event in FULL:
            assert isinstance(e.data, stepwire.RunStep)
            steps.add(e.data.id)
        elif e.event == DELTA:
            assert isinstance(e.data, stepwire.RunStepDeltaEvent)
            assert e.data == stepwire.decode_delta(e.raw)
        elif e.event == "error":
            assert isinstance(e.data, stepwire.ApiError)
        else:
            assert e.data == e.raw
            assert type(e.data) is bytes
    assert steps
    assert set(acc.steps) == steps
    assert dict(acc.pending) == {}
    for step_id in acc.steps:
        snapshot = acc.steps[step_id]
        assert stepwire.decode_step(stepwire.encode(snapshot)) == snapshot


@pytest.mark.parametrize("path", real_where(terminal_after_deltas))
def test_real_snapshot_before_terminal_event_matches_the_server(impl, path):
    acc = impl.Accumulator()
    had_deltas = set()
    compared = 0
    for name, data in sse_events(path.read_bytes()):
        if name in TERMINAL:
            server = json.loads(data)
            if server["id"] in had_deltas:
                # The snapshot built from created + deltas, before the server's own object.
                snapshot = json.loads(stepwire.encode(acc.steps[server["id"]]))
                covers(server["step_details"], snapshot["step_details"])
                compared += 1
        elif name == DELTA:
            had_deltas.add(json.loads(data)["id"])
        acc.feed(frame(name, data))
    assert compared


@pytest.mark.parametrize("path", real_where(lambda body: b"thread.run.requires_action" in body))
def test_real_requires_action_matches_the_merged_calls(impl, path):
    acc = impl.Accumulator()
    checked = 0
    for chunk in reframed(path.read_bytes()):
        for event in acc.feed(chunk):
            if event.event != "thread.run.requires_action":
                continue
            required = json.loads(event.data)["required_action"]["submit_tool_outputs"]
            merged = {
                call.id: call
                for step_id in acc.steps
                if isinstance(acc.steps[step_id].step_details, stepwire.ToolCallsStepDetails)
                for call in acc.steps[step_id].step_details.tool_calls
            }
            for call in required["tool_calls"]:
                function = merged[call["id"]].function
                assert function.name == call["function"]["name"]
                assert function.arguments == call["function"]["arguments"]
                json.loads(function.arguments)
                checked += 1
    assert checked


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("path", real_params(".sse"))
def test_real_stream_in_random_chunks(impl, path, seed):
    body = path.read_bytes()
    whole_acc = impl.Accumulator()
    whole = replay(whole_acc, [body], full_steps=False)
    acc = impl.Accumulator()
    assert replay(acc, random_chunks(body, seed), full_steps=False) == whole
    assert state(acc) == state(whole_acc)


@pytest.mark.parametrize("path", real_params(".sse"))
def test_real_stream_event_by_event(impl, path):
    body = path.read_bytes()
    whole_acc = impl.Accumulator()
    whole = replay(whole_acc, [body], full_steps=False)
    acc = impl.Accumulator()
    assert replay(acc, reframed(body), full_steps=False) == whole
    assert state(acc) == state(whole_acc)


def test_error_stream_without_final_blank_line(impl):
    if not ERROR_STREAM.is_file():
        pytest.skip(f"real corpus not found at {REAL} (set STEPWIRE_FIXTURES)")
    body = ERROR_STREAM.read_bytes()
    assert not body.endswith(b"\n\n")
    acc = impl.Accumulator()
    events = acc.feed(body)
    assert "error" not in [e.event for e in events]
    (last,) = acc.close()
    assert last.event == "error"
    assert isinstance(last.data, stepwire.ApiError)
    assert last.data.type == "server_error"
    assert last.data.message == json.loads(last.raw)["error"]["message"]
    assert not acc.done
    assert [acc.steps[k].status for k in acc.steps] == ["in_progress"]
    # The same through iter_events, in small chunks.
    names = [
        e.event for e in stepwire.iter_events(random_chunks(body, 1, 1, 40), impl.Accumulator())
    ]
    assert names[-1] == "error"
    assert names == [e.event for e in events] + ["error"]


# -- generated streams --------------------------------------------------------------------------

GEN_STEP = "step_gen"
PREAMBLE = (
    b"\xef\xbb\xbf: generated\r\n"
    + b"event: thread.message.delta\r\n"
    + 'data: {"text": "caf\u00e9 \u6771\u4eac \U0001f600"}\r\n\r\n'.encode()
)


def generated_stream(count, seed, parallel, encode=to_json):
    deltas = generate_delta_events(count, seed=seed, step_id=GEN_STEP, parallel=parallel)
    body = (
        PREAMBLE
        + frame(CREATED, encode(step_object(tool_calls(), step_id=GEN_STEP)))
        + b"".join(frame(DELTA, encode(d)) for d in deltas)
        + b"event: done\ndata: [DONE]\n\n"
    )
    return body, deltas


def merged_by_hand(deltas):
    """The calls the generated deltas describe: per index, id and name, arguments concatenated."""
    calls = {}
    for event in deltas:
        for call in event["delta"]["step_details"]["tool_calls"]:
            entry = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
            entry["id"] = call.get("id", entry["id"])
            entry["name"] += call["function"].get("name") or ""
            entry["arguments"] += call["function"].get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


@pytest.mark.parametrize("parallel", [1, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_generated_stream_merges(impl, parallel, seed):
    body, deltas = generated_stream(300, seed, parallel)
    acc = impl.Accumulator()
    events = acc.feed(body)
    assert acc.done
    assert [e.event for e in events] == ["thread.message.delta", CREATED] + [DELTA] * len(deltas)
    calls = acc.steps[GEN_STEP].step_details.tool_calls
    assert [
        {"id": c.id, "name": c.function.name, "arguments": c.function.arguments} for c in calls
    ] == merged_by_hand(deltas)
    assert all(c.function.output is None for c in calls)
    chunked = impl.Accumulator()
    replay(chunked, random_chunks(body, seed, 1, 64))
    assert state(chunked) == state(acc)


GEN_BODY, _ = generated_stream(60, 7, 3)
_WHOLE = {}


def _whole(impl):
    if impl.IMPLEMENTATION not in _WHOLE:
        acc = impl.Accumulator()
        _WHOLE[impl.IMPLEMENTATION] = (replay(acc, [GEN_BODY], full_steps=False), state(acc))
    return _WHOLE[impl.IMPLEMENTATION]


@settings(max_examples=examples(50), deadline=None)
@given(cuts=st.lists(st.integers(0, len(GEN_BODY)), max_size=40))
def test_any_split_of_a_generated_stream(impl, cuts):
    bounds = [0, *sorted(cuts), len(GEN_BODY)]
    chunks = [GEN_BODY[a:b] for a, b in itertools.pairwise(bounds)]
    acc = impl.Accumulator()
    events = replay(acc, chunks, full_steps=False)
    assert (events, state(acc)) == _whole(impl)


# -- JSON strings in deltas (the Cython fast path scans them by hand) -------------------------

ENCODERS = {
    "msgspec": msgspec.json.encode,
    "orjson": orjson.dumps,
    "json-ascii": lambda obj: to_json(obj, ascii=True),  # \uXXXX, surrogate pairs beyond BMP
    "json-ascii-spaced": lambda obj: json.dumps(obj, ensure_ascii=True).encode(),
}
NASTY = ['"', "\\", "\\u0041", "\\n", "/", "\x00", "\x1f", "\x7f", "\x85", "\u2028", "\U0001f600"]
# Any text (no lone surrogates: UTF-8 cannot carry them), with JSON's special characters and
# text that looks like an escape made likely.
TEXT = st.lists(st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY)), max_size=24).map(
    "".join
)


def string_stream(field, fragments, encode):
    """A step whose call at index 0 gets ``fragments`` one delta each, as the live API sends."""
    if field == "input":
        first = {"index": 0, "id": "call_1", "type": "code_interpreter"}
        first["code_interpreter"] = {"input": "", "outputs": []}
        more = [
            {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": f}}
            for f in fragments
        ]
    else:
        first = {"index": 0, "id": "call_1", "type": "function"}
        first["function"] = {"name": "f", "arguments": "", "output": None}
        more = [{"index": 0, "type": "function", "function": {field: f}} for f in fragments]
    return frame(CREATED, encode(step_object(tool_calls()))) + b"".join(
        frame(DELTA, encode(delta_object(tool_calls(call)))) for call in [first, *more]
    )


def merged_string(acc, field):
    call = acc.steps["step_1"].step_details.tool_calls[0]
    return call.code_interpreter.input if field == "input" else getattr(call.function, field)


@pytest.mark.parametrize("encoder", ENCODERS.values(), ids=ENCODERS.keys())
@settings(max_examples=examples(50), deadline=None)
@given(
    fragments=st.lists(TEXT, min_size=1, max_size=8),
    field=st.sampled_from(["arguments", "output", "input"]),
)
def test_string_fragments_round_trip(impl, encoder, fragments, field):
    acc = impl.Accumulator()
    acc.feed(string_stream(field, fragments, encoder))
    assert merged_string(acc, field) == "".join(fragments)


# JSON string bodies no encoder above writes; the expected text is json.loads'.
LITERALS = [
    rb"\/",
    rb"\b\f\n\r\t",
    rb"\u00E9\u00e9",
    rb"\uD83D\uDE00 \ud83d\ude00",
    rb"\"\\",
    rb"\\u0041",
    rb"\\\"",
    rb"\u0000\u001F",
    rb"\u2028\u2029",
    "caf\u00e9 \U0001f600 \u6771".encode(),
    rb"a\u0022b",
    rb"\\",
    b"",
]
BAD_LITERALS = [
    rb"\x",
    rb"\u12",
    rb"\u12G4",
    rb"\ud800",  # a lone surrogate: msgspec rejects it
    rb"\ud800x",
    b"\x01",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",  # a surrogate in UTF-8
    b"trailing\\",  # escapes the closing quote: the string never ends
]


def literal_delta(literal):
    body = to_json(
        delta_object(tool_calls({"index": 0, "type": "function", "function": {"arguments": "@"}}))
    )
    return body.replace(b'"@"', b'"' + literal + b'"')


def started(impl):
    acc = impl.Accumulator()
    acc.feed(string_stream("arguments", ["<"], to_json))
    return acc


@pytest.mark.parametrize("literal", LITERALS)
def test_json_escapes_in_fragments(impl, literal):
    acc = started(impl)
    acc.feed(frame(DELTA, literal_delta(literal)) + frame(DELTA, literal_delta(literal)))
    expected = json.loads(b'"' + literal + b'"')
    assert merged_string(acc, "arguments") == "<" + expected * 2


def test_fragments_keep_their_order_across_both_paths(impl):
    # The compiled build appends plain fragments as UTF-8 to a bytearray and
    # hands \u escapes to msgspec (a str fragment); reading the snapshot in
    # between joins them. The order must survive all of it.
    acc = started(impl)
    literals = [b"a", rb"\u00e9", "\u00fc\u6771".encode(), rb"\n", b"b", rb"\u0041", b"c"]
    expected = "<"
    for i, literal in enumerate(literals):
        acc.feed(frame(DELTA, literal_delta(literal)))
        expected += json.loads(b'"' + literal + b'"')
        if i % 3 == 2:
            assert merged_string(acc, "arguments") == expected
    assert merged_string(acc, "arguments") == expected
    assert merged_string(acc, "arguments") == expected  # reading twice changes nothing


@pytest.mark.parametrize("literal", BAD_LITERALS)
def test_malformed_fragment_raises(impl, literal):
    acc = started(impl)
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(frame(DELTA, literal_delta(literal)) + frame(DELTA, literal_delta(b">")))
    assert info.value.event == DELTA
    assert merged_string(acc, "arguments") == "<"
    acc.feed(b"")
    assert merged_string(acc, "arguments") == "<>"


# -- iter_events / aiter_events ---------------------------------------------------------------


async def _agen(chunks):
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


async def _acollect(chunks, acc):
    return [describe([e])[0] async for e in stepwire.aiter_events(_agen(chunks), acc)]


@pytest.mark.parametrize("path", real_params(".sse"))
def test_iter_events_equals_feed(impl, path):
    chunks = random_chunks(path.read_bytes(), 5)
    expected_acc = impl.Accumulator()
    expected = replay(expected_acc, chunks)
    acc = impl.Accumulator()
    events = [describe([e])[0] for e in stepwire.iter_events(chunks, accumulator=acc)]
    assert events == expected
    assert state(acc) == state(expected_acc)
    assert len(acc.steps) > 0


@pytest.mark.parametrize("path", real_params(".sse"))
def test_aiter_events_equals_feed(impl, path):
    chunks = random_chunks(path.read_bytes(), 6)
    expected_acc = impl.Accumulator()
    expected = replay(expected_acc, chunks)
    acc = impl.Accumulator()
    assert asyncio.run(_acollect(chunks, acc)) == expected
    assert state(acc) == state(expected_acc)


def test_iter_events_default_accumulator():
    body, _ = generated_stream(40, 3, 2)
    chunks = random_chunks(body, 3, 1, 50)
    expected = replay(stepwire.Accumulator(), chunks)
    assert [describe([e])[0] for e in stepwire.iter_events(iter(chunks))] == expected
    assert asyncio.run(_acollect(chunks, None)) == expected


def test_iter_events_accepts_bytes_like(impl):
    body, _ = generated_stream(20, 4, 1)
    chunks = random_chunks(body, 4, 1, 30)
    kinds = itertools.cycle([bytes, bytearray, memoryview])
    mixed = [kind(chunk) for kind, chunk in zip(kinds, chunks, strict=False)]
    expected = replay(impl.Accumulator(), chunks)
    assert [describe([e])[0] for e in stepwire.iter_events(mixed, impl.Accumulator())] == expected


def test_iter_events_stops_at_done(impl):
    pulled = []

    def source():
        for chunk in [b"data: a\n\n", b"data: [DONE]\n\n", b"data: after\n\n"]:
            pulled.append(chunk)
            yield chunk
        raise AssertionError("read past the end of the stream")

    acc = impl.Accumulator()
    assert [e.raw for e in stepwire.iter_events(source(), acc)] == [b"a"]
    assert acc.done
    assert len(pulled) == 2

    async def asource():
        for chunk in [b"data: a\n\ndata: [DONE]\n\n", b"data: after\n\n"]:
            pulled.append(chunk)
            yield chunk

    async def collect():
        return [e.raw async for e in stepwire.aiter_events(asource(), impl.Accumulator())]

    pulled.clear()
    assert asyncio.run(collect()) == [b"a"]
    assert len(pulled) == 1


def test_iter_events_yields_the_events_before_an_error(impl):
    chunks = [b"data: 1\n\nevent: thread.run.step.delta\ndata: {bad\n\ndata: 2\n\n"]
    seen = []
    with pytest.raises(stepwire.StreamError) as info:
        seen.extend(e.raw for e in stepwire.iter_events(chunks, impl.Accumulator()))
    assert seen == [b"1"]
    assert info.value.event == DELTA

    async def collect(out):
        async for e in stepwire.aiter_events(_agen(chunks), impl.Accumulator()):
            out.append(e.raw)

    aseen = []
    with pytest.raises(stepwire.StreamError):
        asyncio.run(collect(aseen))
    assert aseen == [b"1"]


def test_iter_events_error_at_close(impl):
    chunks = [b"data: 1\n\nevent: thread.run.step.delta\ndata: {"]
    seen = []
    with pytest.raises(stepwire.StreamError):
        seen.extend(e.raw for e in stepwire.iter_events(chunks, impl.Accumulator()))
    assert seen == [b"1"]


# -- the two implementations agree -----------------------------------------------------------


@pytest.fixture(scope="module")
def both():
    return load_impl("python"), load_impl("cython")


def replay_through_errors(acc, chunks):
    """Like replay(), going on after each StreamError (recorded by the event it names)."""
    out = feed_through_errors(acc, chunks)
    return [
        ("StreamError", x.event) if isinstance(x, stepwire.StreamError) else describe([x])[0]
        for x in out
    ]


def _agree(both, chunks):
    python, cython = (
        (replay_through_errors(acc, chunks), state(acc))
        for acc in (module.Accumulator() for module in both)
    )
    assert cython == python
    return python


@pytest.mark.parametrize("path", real_params(".sse"))
def test_cython_matches_python_on_real_stream(both, path):
    body = path.read_bytes()
    events, _ = _agree(both, [body])
    assert events
    assert "StreamError" not in [e[0] for e in events]
    _agree(both, random_chunks(body, 11))
    _agree(both, reframed(body))


@pytest.mark.parametrize("parallel", [1, 3])
@pytest.mark.parametrize("encoder", ENCODERS.values(), ids=ENCODERS.keys())
def test_cython_matches_python_on_generated_stream(both, parallel, encoder):
    body, _ = generated_stream(400, parallel, parallel, encode=encoder)
    _agree(both, [body])
    _agree(both, random_chunks(body, parallel, 1, 300))


@pytest.mark.parametrize("literal", LITERALS + BAD_LITERALS)
def test_cython_matches_python_on_escapes(both, literal):
    body = string_stream("arguments", ["<"], to_json) + frame(DELTA, literal_delta(literal))
    _agree(both, [body + frame(DELTA, literal_delta(b">"))])


# -- one accumulator, several threads ----------------------------------------------


def test_a_call_during_another_call_raises_runtime_error(impl, monkeypatch):
    """What a second thread would see: the merge is Python code, where a thread switch
    can happen mid-call; here the "other thread" is a call made from inside the merge."""
    acc = impl.Accumulator()
    acc.feed(frame("thread.run.step.created", step_object(tool_calls())))
    from stepwire import _dispatch

    real_merge = _dispatch.merge_delta
    seen = []

    def merge_and_interrupt(state, delta):
        for call in (lambda: acc.feed(b"data: x\n\n"), acc.close):
            with pytest.raises(RuntimeError, match="not thread-safe") as info:
                call()
            seen.append(str(info.value).split("(")[0])
        real_merge(state, delta)

    monkeypatch.setattr(_dispatch, "merge_delta", merge_and_interrupt)
    delta = delta_object(tool_calls({"index": 0, "type": "function", "function": {"name": "f"}}))
    events = acc.feed(frame("thread.run.step.delta", delta))
    assert [e.event for e in events] == ["thread.run.step.delta"]
    assert seen == ["Accumulator.feed", "Accumulator.close"]
    # The refused calls changed nothing, and the accumulator is free again afterwards.
    monkeypatch.undo()
    assert acc.steps["step_1"].step_details.tool_calls[0].function.name == "f"
    assert [e.raw for e in acc.feed(b"data: after\n\n")] == [b"after"]


def test_the_guard_is_released_after_an_error(impl):
    acc = impl.Accumulator()
    with pytest.raises(stepwire.StreamError):
        acc.feed(b"event: thread.run.step.delta\ndata: {\n\n")
    with pytest.raises(TypeError):
        acc.feed("text")
    assert [e.raw for e in acc.feed(b"data: ok\n\n")] == [b"ok"]
    assert acc.close() == []


def test_one_accumulator_fed_from_8_threads_fails_cleanly(impl):
    """Not thread-safe, as documented: concurrent calls may be refused with RuntimeError,
    never crash, and every call that was not refused had its chunk framed whole."""
    acc = impl.Accumulator()
    chunk = b"data: x\n\n" * 50
    barrier = threading.Barrier(8)
    outcomes: list[object] = []

    def feed_once():
        try:
            outcomes.append(len(acc.feed(chunk)))
        except RuntimeError as exc:
            outcomes.append(type(exc))

    def worker():
        barrier.wait()
        for _ in range(200):
            feed_once()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(outcomes) == 8 * 200
    assert set(outcomes) <= {50, RuntimeError}
    assert 50 in outcomes


def test_an_absent_compiled_module_selects_the_python_twin():
    """A pure install (no _stream_c at all) imports, with no STEPWIRE_NO_EXTENSIONS set."""
    import subprocess
    import sys

    code = (
        "import importlib.abc, sys\n"
        "class Absent(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'stepwire._stream_c':\n"
        "            raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "import stepwire\n"
        "acc = stepwire.Accumulator()\n"
        "print(stepwire.IMPLEMENTATION, acc.feed(b'data: x\\n\\n')[0].raw)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "STEPWIRE_NO_EXTENSIONS"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["python", "b'x'"]
