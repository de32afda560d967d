"""Where the bytes come from, as a user writes it: responses, pages, openai's types.

Checked, not run: tests/test_typing.py runs mypy (the project's strict config) and
basedpyright over this file; an ``assert_type`` that does not hold fails them.
"""
# pyright: strict

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator

import httpx
import openai
from openai.pagination import SyncCursorPage
from openai.types.beta import AssistantStreamEvent
from openai.types.beta.threads.runs import RunStep as OpenAIRunStep
from openai.types.beta.threads.runs import RunStepDeltaEvent as OpenAIRunStepDeltaEvent

import stepwire

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


def from_httpx(client: httpx.Client, acc: stepwire.Accumulator) -> None:
    with client.stream("POST", "/threads/t/runs", json={"stream": True}) as response:
        assert_type(stepwire.iter_events(response), Iterator[stepwire.StreamEvent])
        for event in stepwire.iter_events(response, acc):
            if isinstance(event.data, stepwire.RunStepDeltaEvent):
                assert_type(event.data.delta, stepwire.RunStepDelta)


async def from_async_httpx(client: httpx.AsyncClient) -> None:
    async with client.stream("POST", "/threads/t/runs") as response:
        events = stepwire.aiter_events(response)
        assert_type(events, AsyncIterator[stepwire.StreamEvent])
        async for event in events:
            assert_type(event, stepwire.StreamEvent)


def from_openai_client(client: openai.OpenAI) -> None:
    steps = stepwire.iter_steps(client, thread_id="thread_abc", run_id="run_abc", limit=100)
    assert_type(steps, Iterator[stepwire.RunStep])
    assert_type(stepwire.iter_steps(lambda after: b"{}"), Iterator[stepwire.RunStep])


def errors() -> None:
    try:
        pass
    except stepwire.ResponseError as exc:
        assert_type(exc.status, int)
        assert_type(exc.body, bytes)
    except stepwire.ConversionError as exc:
        assert_type(exc.kind, str | None)
        assert_type(exc.path, str | None)


def conversions(
    step: OpenAIRunStep,
    delta: OpenAIRunStepDeltaEvent,
    page: SyncCursorPage[OpenAIRunStep],
    event: AssistantStreamEvent,
    ours: stepwire.RunStep,
    our_page: stepwire.RunStepPage,
    our_event: stepwire.StreamEvent,
) -> None:
    assert_type(stepwire.from_openai(step), stepwire.RunStep)
    assert_type(stepwire.from_openai(delta), stepwire.RunStepDeltaEvent)
    assert_type(stepwire.from_openai(page), stepwire.RunStepPage)
    assert_type(stepwire.from_openai(event), stepwire.StreamEvent)
    assert_type(stepwire.to_openai(ours), OpenAIRunStep)
    assert_type(stepwire.to_openai(our_page), SyncCursorPage[OpenAIRunStep])
    assert_type(stepwire.to_openai(our_event), AssistantStreamEvent)
