"""Streams, as a user writes them: the accumulator, its events and their data.

Checked, not run: tests/test_typing.py runs mypy (the project's strict config) and
basedpyright over this file; an ``assert_type`` that does not hold fails them.
"""
# pyright: strict

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from typing import TypeAlias

import stepwire

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type

#: What ``StreamEvent.data`` holds: one of these, per the event's name (docs/merge.md).
EventData: TypeAlias = stepwire.RunStep | stepwire.RunStepDeltaEvent | stepwire.ApiError | bytes


def accumulator() -> None:
    acc = stepwire.Accumulator()
    assert_type(acc, stepwire.Accumulator)
    events = acc.feed(b"")
    assert_type(events, list[stepwire.StreamEvent])
    assert_type(acc.feed(bytearray(b"")), list[stepwire.StreamEvent])
    assert_type(acc.feed(memoryview(b"")), list[stepwire.StreamEvent])
    assert_type(acc.close(), list[stepwire.StreamEvent])
    assert_type(acc.steps["step_abc"], stepwire.RunStep)
    assert_type(acc.pending["step_abc"], list[stepwire.RunStepDeltaEvent])
    assert_type(acc.done, bool)
    assert_type(acc.last_event_id, str | None)
    assert_type(acc.retry, int | None)
    for step_id, step in acc.steps.items():
        assert_type(step_id, str)
        assert_type(step, stepwire.RunStep)
    assert_type(len(acc.steps), int)
    assert_type("step_abc" in acc.pending, bool)


def accumulator_limits() -> None:
    acc = stepwire.Accumulator(
        max_steps=stepwire.MAX_STEPS, max_event_bytes=stepwire.MAX_EVENT_BYTES
    )
    assert_type(acc, stepwire.Accumulator)
    assert_type(stepwire.Accumulator(max_steps=10), stepwire.Accumulator)
    assert_type(stepwire.Accumulator(max_event_bytes=1 << 20), stepwire.Accumulator)


def events(event: stepwire.StreamEvent) -> None:
    assert_type(event.event, str)
    assert_type(event.id, str | None)
    assert_type(event.raw, bytes)
    assert_type(event.data, EventData)
    data = event.data
    if isinstance(data, stepwire.RunStepDeltaEvent):
        assert_type(data.delta, stepwire.RunStepDelta)
        assert_type(data.id, str)
    elif isinstance(data, stepwire.RunStep):
        assert_type(data.step_details, stepwire.StepDetails)
    elif isinstance(data, stepwire.ApiError):
        assert_type(data.message, str | stepwire.UnsetType | None)
    else:
        assert_type(data, bytes)


def iterate(chunks: Iterator[bytes]) -> None:
    assert_type(stepwire.iter_events([b""]), Iterator[stepwire.StreamEvent])
    for e in stepwire.iter_events([b""]):
        assert_type(e, stepwire.StreamEvent)
    acc = stepwire.Accumulator()
    for e in stepwire.iter_events(chunks, acc):
        assert_type(e, stepwire.StreamEvent)
    for e in stepwire.iter_events([bytearray(b""), memoryview(b"")], accumulator=acc):
        assert_type(e, stepwire.StreamEvent)


async def body() -> AsyncIterator[bytes]:
    yield b"event: done\ndata: [DONE]\n\n"


async def iterate_async() -> None:
    assert_type(stepwire.aiter_events(body()), AsyncIterator[stepwire.StreamEvent])
    async for e in stepwire.aiter_events(body()):
        assert_type(e, stepwire.StreamEvent)
    acc = stepwire.Accumulator()
    async for e in stepwire.aiter_events(body(), acc):
        assert_type(e, stepwire.StreamEvent)
        assert_type(e.data, EventData)


def stream_errors(acc: stepwire.Accumulator) -> None:
    try:
        acc.feed(b"event: thread.run.step.delta\ndata: {\n\n")
    except stepwire.StreamError as exc:
        assert_type(exc.event, str | None)
        assert_type(exc.events, list[stepwire.StreamEvent])
        assert_type(exc.path, str | None)
        for e in exc.events:
            assert_type(e, stepwire.StreamEvent)
