"""Azure AI Agents streams (stepgen/azure.py) merged by stepwire: the snapshot is what the
service built.

Each generated stream is cut from the service's own completed object, and its deltas carry
every field of it (tests/test_stepgen_azure.py checks the generator against its own
independent merge). So the snapshot merged from ``created`` and the deltas must equal the
calls of ``thread.run.step.completed``, whole; and after the whole stream the snapshot must
be ``AzureStream.completed`` (for ``function_approval``, whose output arrives in deltas
after the completed event, with that output merged in). Both builds, in chunks split
anywhere, through ``Accumulator``, ``iter_events`` and ``apply_delta``.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

import stepwire
from helpers import accumulator_state, load_impl, sse_events
from stepgen.azure import AzureStream, azure_pages, azure_streams

CREATED = "thread.run.step.created"
COMPLETED = "thread.run.step.completed"
DELTA = "thread.run.step.delta"
CUT = b"event: " + COMPLETED.encode()
SEEDS = range(4)
SPLITS = range(3)

STREAMS = [(seed, stream) for seed in SEEDS for stream in azure_streams(seed)]
IDS = [f"{seed}-{stream.name}" for seed, stream in STREAMS]


def chunks(body: bytes, seed: int) -> list[bytes]:
    """``body`` cut at random places: mostly small pieces, some of one byte."""
    rng = random.Random(seed)
    high = rng.choice([3, 40, 300])
    out, pos = [], 0
    while pos < len(body):
        size = rng.randint(1, high)
        out.append(body[pos : pos + size])
        pos += size
    return out


def completed_event(stream: AzureStream) -> dict[str, Any]:
    """The data of the stream's ``thread.run.step.completed`` event (the server's object)."""
    (data,) = [json.loads(d) for name, d in sse_events(stream.sse) if name == COMPLETED]
    return data


def before_completed(stream: AzureStream) -> bytes:
    return stream.sse[: stream.sse.index(CUT)]


def snapshot_json(acc: Any, step_id: str) -> dict[str, Any]:
    return json.loads(stepwire.encode(acc.steps[step_id]))


def feed(acc: Any, pieces: list[bytes], *, read_each: bool = False) -> None:
    for piece in pieces:
        acc.feed(piece)
        if read_each:  # reading joins the fragments so far; later ones go on from there
            for step_id in acc.steps:
                acc.steps[step_id]


# -- (a) the snapshot before the completed event -------------------------------------------


def assert_calls_match(snapshot: dict[str, Any], server: dict[str, Any]) -> None:
    details, expected = snapshot["step_details"], server["step_details"]
    if "tool_calls" in expected:
        assert snapshot["step_details"]["tool_calls"] == expected["tool_calls"]
    assert details == expected


@pytest.mark.parametrize(("seed", "stream"), STREAMS, ids=IDS)
def test_snapshot_before_completed_is_the_servers_calls(impl, seed, stream):
    server = completed_event(stream)
    acc = impl.Accumulator()
    feed(acc, [before_completed(stream)])
    assert dict(acc.pending) == {}
    assert_calls_match(snapshot_json(acc, server["id"]), server)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize(("seed", "stream"), STREAMS, ids=IDS)
def test_snapshot_before_completed_in_random_chunks(impl, seed, stream, split):
    server = completed_event(stream)
    whole = impl.Accumulator()
    feed(whole, [before_completed(stream)])
    acc = impl.Accumulator()
    feed(acc, chunks(before_completed(stream), seed * 100 + split), read_each=split == 1)
    assert_calls_match(snapshot_json(acc, server["id"]), server)
    assert accumulator_state(acc) == accumulator_state(whole)


@pytest.mark.parametrize(("seed", "stream"), STREAMS, ids=IDS)
def test_apply_delta_before_completed_is_the_servers_calls(seed, stream):
    events = list(sse_events(stream.sse))
    cut = next(n for n, (name, _) in enumerate(events) if name == COMPLETED)
    (created,) = [data for name, data in events[:cut] if name == CREATED]
    deltas = [stepwire.decode_delta(data) for name, data in events[:cut] if name == DELTA]
    at_once = stepwire.apply_delta(stepwire.decode_step(created), deltas)
    one_by_one = stepwire.decode_step(created)
    for delta in deltas:
        stepwire.apply_delta(one_by_one, delta)
    server = completed_event(stream)
    assert_calls_match(json.loads(stepwire.encode(at_once)), server)
    assert stepwire.encode(one_by_one) == stepwire.encode(at_once)


# -- (b) the whole stream -------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "stream"), STREAMS, ids=IDS)
def test_whole_stream_ends_as_the_completed_object(impl, seed, stream):
    acc = impl.Accumulator()
    events = acc.feed(stream.sse) + acc.close()
    assert acc.done
    assert [e.event for e in events].count(COMPLETED) == 1
    assert list(acc.steps) == [stream.completed["id"]]
    assert snapshot_json(acc, stream.completed["id"]) == stream.completed


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize(("seed", "stream"), STREAMS, ids=IDS)
def test_whole_stream_in_random_chunks(impl, seed, stream, split):
    whole = impl.Accumulator()
    whole.feed(stream.sse)
    whole.close()
    acc = impl.Accumulator()
    feed(acc, chunks(stream.sse, seed * 100 + split), read_each=split == 1)
    acc.close()
    assert snapshot_json(acc, stream.completed["id"]) == stream.completed
    assert accumulator_state(acc) == accumulator_state(whole)


@pytest.mark.parametrize(("seed", "stream"), STREAMS, ids=IDS)
def test_iter_events_over_the_stream(impl, seed, stream):
    acc = impl.Accumulator()
    names = [e.event for e in stepwire.iter_events(chunks(stream.sse, seed), acc)]
    assert names == [name for name, data in sse_events(stream.sse) if data != b"[DONE]"]
    assert snapshot_json(acc, stream.completed["id"]) == stream.completed


@pytest.mark.parametrize(("seed", "stream"), STREAMS, ids=IDS)
def test_apply_delta_after_the_completed_object(seed, stream):
    """The server's completed object and the deltas after it (the approval's output)."""
    events = list(sse_events(stream.sse))
    cut = next(n for n, (name, _) in enumerate(events) if name == COMPLETED)
    snapshot = stepwire.decode_step(events[cut][1])
    tail = [stepwire.decode_delta(data) for name, data in events[cut:] if name == DELTA]
    assert bool(tail) == (stream.name == "function_approval")
    stepwire.apply_delta(snapshot, tail)
    assert json.loads(stepwire.encode(snapshot)) == stream.completed


def test_both_builds_give_the_same_snapshots():
    python, cython = load_impl("python"), load_impl("cython")
    for seed, stream in STREAMS:
        states = []
        for module in (python, cython):
            acc = module.Accumulator()
            feed(acc, chunks(stream.sse, seed))
            acc.close()
            states.append(accumulator_state(acc))
        assert states[0] == states[1], stream.name


def test_every_stream_kind_is_covered():
    names = {stream.name for _, stream in STREAMS}
    assert {"function_approval", "extra_fields", "unknown_tool", "activities"} <= names
    assert {"fabric_dataagent", "computer_use_preview", "bing_grounding"} <= names


# -- what the streams show, one by one ------------------------------------------------------


def stream_named(name: str, seed: int = 0) -> AzureStream:
    return next(s for s in azure_streams(seed) if s.name == name)


def test_fabric_input_streamed_in_eight_fragments_is_joined(impl):
    """The map's ``input`` comes in 8 fragments: all of them, not the last one."""
    stream = stream_named("fabric_dataagent")
    acc = impl.Accumulator()
    feed(acc, [before_completed(stream)])
    (call,) = acc.steps[stream.completed["id"]].step_details.tool_calls
    final = stream.completed["step_details"]["tool_calls"][0]["fabric_dataagent"]
    assert call.fabric_dataagent == final
    fragments = [
        d["delta"]["step_details"]["tool_calls"][0]["fabric_dataagent"]["input"]
        for d in stream.deltas
        if "input" in d["delta"]["step_details"]["tool_calls"][0].get("fabric_dataagent", {})
    ]
    assert len([f for f in fragments if f]) == 8
    assert "".join(f for f in fragments if f) == final["input"]


def test_extra_fields_at_every_level_survive(impl):
    stream = stream_named("extra_fields")
    acc = impl.Accumulator()
    feed(acc, [before_completed(stream)])
    snapshot = acc.steps[stream.completed["id"]]
    (call,) = snapshot.step_details.tool_calls
    assert call.extra == {"extra_flag": True}
    assert call.function.extra == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "extra_flag": True,
    }
    assert snapshot.extra == {"extra_flag": True}  # from the created object


def test_computer_use_opens_without_its_action(impl):
    stream = stream_named("computer_use_preview")
    acc = impl.Accumulator()
    events = list(sse_events(stream.sse))
    first = next(n for n, (name, _) in enumerate(events) if name == DELTA)
    for name, data in events[: first + 1]:
        acc.feed(b"event: " + name.encode() + b"\ndata: " + data + b"\n\n")
    (call,) = acc.steps[stream.completed["id"]].step_details.tool_calls
    assert call.computer_use_preview.action is None  # the opening delta's null


def test_function_approval_output_merges_after_completed(impl):
    stream = stream_named("function_approval")
    server = completed_event(stream)
    assert server["step_details"]["tool_calls"][0]["function"]["output"] is None
    acc = impl.Accumulator()
    acc.feed(stream.sse)
    snapshot = acc.steps[server["id"]]
    assert snapshot.status == "completed"
    output = stream.completed["step_details"]["tool_calls"][0]["function"]["output"]
    assert snapshot.step_details.tool_calls[0].function.output == output


# -- list pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_pages_round_trip(seed):
    pages = azure_pages(seed)
    assert pages
    for body in pages:
        page = stepwire.decode_page(body)
        encoded = stepwire.encode(page)
        assert json.loads(encoded) == json.loads(body)
        assert stepwire.decode_page(encoded) == page
        assert stepwire.encode(stepwire.decode_page(encoded)) == encoded


@pytest.mark.parametrize("name", ["function_approval", "bing_grounding_azure_function_parallel"])
def test_aiter_events_over_the_stream(impl, name):
    stream = stream_named(name, 1)

    async def source():
        for piece in chunks(stream.sse, 1):
            yield piece

    async def run():
        acc = impl.Accumulator()
        names = [e.event async for e in stepwire.aiter_events(source(), acc)]
        return acc, names

    acc, names = asyncio.run(run())
    assert names[-1] != "done"
    assert snapshot_json(acc, stream.completed["id"]) == stream.completed
