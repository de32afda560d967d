"""``from_openai`` / ``to_openai``: stepwire's objects and openai-python's, both ways, losslessly.

openai-python's objects are made as its client makes them: the real client against the
replay server on 127.0.0.1 (``stepgen.server``) serving the recorded bodies
(``steps.retrieve()``, ``steps.list()``, a streamed ``runs.create()``), or, for what the
client never yields (an ``error`` event, a step of the generated Azure streams),
``construct_type`` on the parsed JSON, the call its
``_process_response_data`` makes for every body and stream event. Both directions must keep
every field: absent stays absent, null stays null, unknown fields and unknown tool types
survive, and what openai-python has no type for is refused with a path, never built as
something it is not.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import msgspec
import openai
import pydantic
import pytest
from openai._models import construct_type
from openai._utils import PropertyInfo
from openai.pagination import AsyncCursorPage, SyncCursorPage
from openai.types.beta import AssistantStreamEvent
from openai.types.beta.threads import Message
from openai.types.beta.threads.runs import (
    CodeInterpreterToolCall,
    FileSearchToolCall,
    FunctionToolCall,
    MessageCreationStepDetails,
    ToolCall,
    ToolCallsStepDetails,
)
from openai.types.beta.threads.runs import RunStep as OpenAIRunStep
from openai.types.beta.threads.runs import RunStepDeltaEvent as OpenAIRunStepDeltaEvent
from openai.types.shared import ErrorObject

import stepwire
import stepwire._openai as convert
from helpers import (
    assistants_deprecated,
    delta_object,
    frame,
    real_params,
    sse_events,
    step_object,
    tool_calls,
)
from stepgen.azure import AZURE_TOOL_TYPES, AzureStream, azure_pages, azure_streams
from stepgen.server import ReplayServer
from stepwire._openai import from_openai, to_openai

# -- openai-python's objects, as its client makes them -------------------------------------

OpenAIPage = SyncCursorPage[OpenAIRunStep]
#: The one body the corpus holds that openai-python has no type for, and where.
REFUSED = {
    "sashirestela__simple-openai__runsteps_list_EDITED_unknown_browser_tool.json": (
        "$.data[0].step_details.tool_calls[1]",
        "browser",
    ),
}
#: The tool-call types openai-python has a class for, read from its union directly.
OPENAI_TOOL_TYPES = {
    tag
    for member in typing.get_args(typing.get_args(ToolCall)[0])
    for tag in typing.get_args(member.model_fields["type"].annotation)
}


_SERVER: list[ReplayServer] = []


@pytest.fixture(scope="module", autouse=True)
def _replay() -> Iterator[None]:
    """One replay server for the module: the bodies each test serves are added to it."""
    with ReplayServer(fixtures=None) as server:
        _SERVER.append(server)
        yield
        _SERVER.clear()


def served(body: bytes, kind: Literal["json", "sse"]) -> str:
    """Serve ``body``; the name (a thread id) the client asks for it by."""
    name = f"body-{hashlib.sha256(body).hexdigest()[:16]}"
    _SERVER[0].add(name, body, kind)
    return name


@contextmanager
def client() -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key="sk-test", base_url=_SERVER[0].base_url(), max_retries=0, timeout=10
    ) as made:
        yield made


@contextmanager
def assistants_api() -> Iterator[None]:
    """openai-python's Assistants API methods are deprecated: each call warns, once here."""
    with assistants_deprecated():
        yield


def client_step(body: bytes) -> OpenAIRunStep:
    name = served(body, "json")
    with client() as made, assistants_api():
        return made.beta.threads.runs.steps.retrieve("step_1", thread_id=name, run_id="run_1")


def client_page(body: bytes) -> OpenAIPage:
    name = served(body, "json")
    with client() as made, assistants_api():
        return made.beta.threads.runs.steps.list("run_1", thread_id=name, limit=100)


def client_events(body: bytes) -> list[Any]:
    name = served(body, "sse")
    with client() as made:
        with assistants_api():
            stream = made.beta.threads.runs.create(name, assistant_id="asst_1", stream=True)
        return list(stream)


def constructed_event(name: str, data: bytes) -> Any:
    """An event as the client's stream builds it from one event's name and data."""
    return construct_type(
        type_=AssistantStreamEvent, value={"data": json.loads(data), "event": name}
    )


def events_of(body: bytes) -> list[stepwire.StreamEvent]:
    """The events stepwire's own Accumulator makes of a whole stream body."""
    acc = stepwire.Accumulator()
    return [*acc.feed(body), *acc.close()]


def dump(obj: Any) -> Any:
    """An openai-python object as the JSON it holds (openai-python's public ``to_dict``)."""
    return obj.to_dict(mode="json", warnings=False)


def canonical(value: Any) -> str:
    """JSON compared exactly: keys in any order, ``1``, ``1.0`` and ``true`` told apart."""
    if isinstance(value, bytes):
        value = json.loads(value)
    return json.dumps(value, sort_keys=True)


def ours(body: bytes) -> stepwire.RunStep | stepwire.RunStepPage:
    """stepwire's own decode of a recorded JSON body."""
    if json.loads(body)["object"] == "list":
        return stepwire.decode_page(body)
    return stepwire.decode_step(body)


def their(body: bytes) -> OpenAIRunStep | OpenAIPage:
    """openai-python's client's object for a recorded JSON body."""
    return client_page(body) if json.loads(body)["object"] == "list" else client_step(body)


# -- the recorded corpus: JSON bodies -------------------------------------------------------


@pytest.mark.parametrize("path", real_params(".json"))
def test_from_openai_is_stepwires_own_decode(path: Path) -> None:
    body = path.read_bytes()
    obj = their(body)
    assert canonical(dump(obj)) == canonical(body)  # openai-python holds the body whole
    got = from_openai(obj)
    assert type(got) is type(ours(body))
    assert got == ours(body)
    assert canonical(stepwire.encode(got)) == canonical(body)


@pytest.mark.parametrize("path", real_params(".json"))
def test_to_openai_is_what_the_client_builds(path: Path) -> None:
    body = path.read_bytes()
    obj = ours(body)
    if path.name in REFUSED:
        where, kind = REFUSED[path.name]
        with pytest.raises(stepwire.ConversionError) as info:
            to_openai(obj)
        assert (info.value.path, info.value.kind) == (where, kind)
        return
    built = to_openai(obj)
    client = their(body)
    assert type(built) is type(client)
    assert canonical(dump(built)) == canonical(dump(client)) == canonical(stepwire.encode(obj))
    assert from_openai(built) == obj


@pytest.mark.parametrize("path", real_params("_has_more.json"))
def test_pages_keep_their_cursor_fields_both_ways(path: Path) -> None:
    body = path.read_bytes()
    parsed = json.loads(body)
    client = client_page(body)
    assert client.has_more is True
    page = from_openai(client)
    assert (page.object, page.first_id, page.last_id) == (
        parsed["object"],
        parsed["first_id"],
        parsed["last_id"],
    )
    built = to_openai(page)
    assert built.has_more is True
    assert built.model_extra == client.model_extra
    assert built.model_extra == {k: parsed[k] for k in ("object", "first_id", "last_id")}
    assert built.has_next_page()
    assert built.next_page_info().params == client.next_page_info().params
    # No client: the page has its steps, but fetching the next one needs the client's call.
    with pytest.raises(TypeError):
        built.get_next_page()


def test_a_last_page_without_a_client_iterates_its_steps() -> None:
    page = stepwire.decode_page(
        json.dumps({"object": "list", "data": [step_object(MESSAGE)], "has_more": False})
    )
    built = to_openai(page)
    assert isinstance(built, OpenAIPage)
    assert [step.id for step in built] == ["step_1"]


def test_async_pages_convert_too() -> None:
    page = {"object": "list", "data": [step_object(MESSAGE)], "first_id": "step_1"}
    body = json.dumps(page | {"last_id": "step_1", "has_more": False})
    name = served(body.encode(), "json")

    async def fetch() -> Any:
        async with openai.AsyncOpenAI(
            api_key="sk-test", base_url=_SERVER[0].base_url(), max_retries=0
        ) as made:
            with assistants_api():
                return await made.beta.threads.runs.steps.list("run_1", thread_id=name)

    page = asyncio.run(fetch())
    assert isinstance(page, AsyncCursorPage)
    assert from_openai(page) == stepwire.decode_page(body)


# -- the recorded corpus: streams -----------------------------------------------------------


def _same_event(got: stepwire.StreamEvent, want: stepwire.StreamEvent) -> None:
    """``got`` (made from openai-python's event) is ``want`` (stepwire's, from the stream's
    bytes) but for ``raw``: the same JSON, re-encoded (openai-python keeps no bytes)."""
    assert (got.event, got.id) == (want.event, None)
    assert canonical(got.raw) == canonical(want.raw)
    if isinstance(want.data, bytes):
        assert isinstance(got.data, bytes)
        assert got.data == got.raw
    else:
        assert type(got.data) is type(want.data)
        assert got.data == want.data
    # stepwire itself makes the same event of the bytes it was given.
    assert events_of(frame(got.event, got.raw)) == [got]


@pytest.mark.parametrize("path", real_params(".sse"))
def test_from_openai_stream_events_are_stepwires_own(path: Path) -> None:
    body = path.read_bytes()
    mine = events_of(body)
    theirs = client_events(body)
    assert len(theirs) > 0
    # openai-python's client drops an event the body does not end with a blank line (as the
    # HTML standard says); stepwire dispatches it. One recorded stream ends that way.
    dropped = mine[len(theirs) :]
    if path.name == "sashirestela__simple-openai__stream_error_midrun.sse":
        assert [e.event for e in dropped] == ["error"]
    else:
        assert dropped == []
    for event, want in zip(theirs, mine[: len(theirs)], strict=True):
        assert event.event == want.event
        assert canonical(dump(event)["data"]) == canonical(want.raw)  # held whole
        _same_event(from_openai(event), want)


@pytest.mark.parametrize("path", real_params(".sse"))
def test_to_openai_stream_events_are_what_the_client_builds(path: Path) -> None:
    body = path.read_bytes()
    theirs = client_events(body)
    mine = events_of(body)[: len(theirs)]
    for event, want in zip(theirs, mine, strict=True):
        built = to_openai(want)  # no recorded stream holds a type openai-python lacks
        assert type(built) is type(event)
        assert canonical(dump(built)) == canonical(dump(event))
        back = from_openai(built)
        _same_event(back, want)
        assert from_openai(to_openai(back)) == back  # exactly, raw included


@pytest.mark.parametrize("path", real_params(".sse"))
def test_stream_step_objects_both_ways(path: Path) -> None:
    seen = 0
    for name, data in sse_events(path.read_bytes()):
        if name == "thread.run.step.delta":
            obj: Any = stepwire.decode_delta(data)
        elif name.startswith("thread.run.step."):
            obj = stepwire.decode_step(data)
        else:
            continue
        seen += 1
        event = constructed_event(name, data)
        assert from_openai(event.data) == obj
        built = to_openai(obj)
        assert type(built) is type(event.data)
        assert canonical(dump(built)) == canonical(data) == canonical(stepwire.encode(obj))
        assert from_openai(built) == obj
    assert seen > 0


@pytest.mark.parametrize("path", real_params("_error_midrun.sse"))
def test_error_events(path: Path) -> None:
    body = path.read_bytes()
    (want,) = [e for e in events_of(body) if e.event == "error"]
    assert isinstance(want.data, stepwire.ApiError)
    assert want.raw.startswith(b'{"error":')
    # Ended by a blank line, the event is not dropped: openai-python's client raises it.
    with pytest.raises(openai.APIError, match="The server had an error"):
        client_events(body + b"\n\n")
    # Built as its stream builds other events, it is an ErrorEvent holding the wrapper.
    (error,) = [constructed_event(n, d) for n, d in sse_events(body) if n == "error"]
    got = from_openai(error)
    assert got.event == "error"
    assert got.data == want.data
    assert canonical(got.raw) == canonical(want.raw)
    # to_openai makes openai-python's ErrorEvent: its data the error object itself.
    built = to_openai(want)
    assert type(built).__name__ == "ErrorEvent"
    assert isinstance(built.data, ErrorObject)
    assert built.data.message.startswith("The server had an error")
    assert dump(built.data) == json.loads(stepwire.encode(want.data))
    back = from_openai(built)
    assert (back.event, back.data) == ("error", want.data)
    assert canonical(back.raw) == canonical(json.loads(want.raw)["error"])
    assert from_openai(to_openai(back)) == back


# -- openai-python and the types it does not know -------------------------------------------


@pytest.mark.parametrize("path", real_params("_EDITED_unknown_browser_tool.json"))
def test_openai_builds_an_unknown_tool_call_as_another_type(path: Path) -> None:
    """What openai-python itself does with a tool call type it has no class for: builds the
    union's first member, keeps the JSON whole; from_openai reads it right all the same."""
    body = path.read_bytes()
    client = client_page(body)
    details = client.data[0].step_details
    assert isinstance(details, ToolCallsStepDetails)
    call = details.tool_calls[1]
    assert isinstance(call, CodeInterpreterToolCall)  # misclassified, silently
    assert call.type == "browser"
    assert call.code_interpreter is None
    assert call.model_extra is not None
    assert "browser" in call.model_extra
    with pytest.raises(pydantic.ValidationError, match="browser"):  # validation refuses it
        OpenAIPage.model_validate_json(body)
    got = from_openai(client)
    assert got == stepwire.decode_page(body)
    step = got.data[0]
    assert isinstance(step.step_details, stepwire.ToolCallsStepDetails)
    unknown = step.step_details.tool_calls[1]
    assert isinstance(unknown, stepwire.UnknownToolCall)
    assert unknown.data == json.loads(body)["data"][0]["step_details"]["tool_calls"][1]
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai(got)
    assert info.value.reason == "openai-python has no type for tool call type 'browser'"
    assert str(info.value) == (
        "openai-python has no type for tool call type 'browser' - at "
        "`$.data[0].step_details.tool_calls[1]`"
    )


def test_openai_knows_only_openais_tool_types() -> None:
    assert {"function", "code_interpreter", "file_search"} <= OPENAI_TOOL_TYPES
    assert "bing_grounding" not in OPENAI_TOOL_TYPES  # else the Azure tests test nothing


@cache
def _streams() -> dict[str, AzureStream]:
    return {s.name: s for s in azure_streams()}


def _stream(name: str) -> AzureStream:
    return _streams()[name]


AZURE_STREAMS = list(_streams())


@pytest.mark.parametrize("name", AZURE_STREAMS)
def test_azure_streams_from_openai(name: str) -> None:
    """openai-python holds every generated Azure event whole, whatever class it picks."""
    stream = _stream(name)
    mine = events_of(stream.sse)
    pairs = [(n, d) for n, d in sse_events(stream.sse) if d != b"[DONE]"]
    assert len(mine) == len(pairs) > 0
    for want, (event_name, data) in zip(mine, pairs, strict=True):
        event = constructed_event(event_name, data)
        assert canonical(dump(event)["data"]) == canonical(data)
        got = from_openai(event)
        _same_event(got, want)
        assert canonical(stepwire.encode(got.data)) == canonical(data)


@pytest.mark.parametrize("tool_type", AZURE_TOOL_TYPES)
def test_azure_tool_types_to_openai(tool_type: str) -> None:
    """Each generated Azure tool type: refused where openai-python has no class for it (its
    completed step and every delta, at the call's path, named), converted where it has."""
    stream = _stream(tool_type)
    step = stepwire.decode_step(json.dumps(stream.completed))
    openai_class = type(construct_type(type_=OpenAIRunStep, value=stream.completed))
    if tool_type in OPENAI_TOOL_TYPES:
        built = to_openai(step)
        assert type(built) is openai_class
        call = built.step_details.tool_calls[0]
        assert tool_type in typing.get_args(type(call).model_fields["type"].annotation)
        assert canonical(dump(built)) == canonical(stream.completed)
        assert from_openai(built) == step
        for data in stream.deltas:
            delta = stepwire.decode_delta(json.dumps(data))
            assert canonical(dump(to_openai(delta))) == canonical(data)
            assert from_openai(to_openai(delta)) == delta
        return
    # openai-python itself builds the call as a class of another type.
    openai_call = construct_type(type_=OpenAIRunStep, value=stream.completed)
    call = openai_call.step_details.tool_calls[0]
    assert tool_type not in typing.get_args(type(call).model_fields["type"].annotation)
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai(step)
    error = info.value
    assert (error.path, error.kind) == ("$.step_details.tool_calls[0]", tool_type)
    assert error.reason == f"openai-python has no type for tool call type {tool_type!r}"
    assert stream.deltas
    for data in stream.deltas:
        with pytest.raises(stepwire.ConversionError) as info:
            to_openai(stepwire.decode_delta(json.dumps(data)))
        assert (info.value.path, info.value.kind) == (
            "$.delta.step_details.tool_calls[0]",
            tool_type,
        )
        assert info.value.reason == (
            f"openai-python has no type for tool call delta type {tool_type!r}"
        )


@pytest.mark.parametrize(
    ("name", "path", "kind", "noun"),
    [
        ("mcp_delta_details", "$.delta.step_details", "mcp", "step details delta"),
        ("openapi_delta_details", "$.delta.step_details", "openapi", "step details delta"),
        (
            "unknown_tool",
            "$.delta.step_details.tool_calls[0]",
            "some_future_tool",
            "tool call delta",
        ),
    ],
)
def test_azure_delta_details_to_openai(name: str, path: str, kind: str, noun: str) -> None:
    stream = _stream(name)
    events = [e for e in events_of(stream.sse) if e.event == "thread.run.step.delta"]
    assert events
    for event in events:
        with pytest.raises(stepwire.ConversionError) as info:
            to_openai(event)
        assert (info.value.path, info.value.kind) == (path, kind)
        assert info.value.reason == f"openai-python has no type for {noun} type {kind!r}"


def test_activities_step_to_openai() -> None:
    stream = _stream("activities")
    step = stepwire.decode_step(json.dumps(stream.completed))
    assert isinstance(step.step_details, stepwire.ActivitiesStepDetails)
    # openai-python builds it as message_creation details.
    openai_step = construct_type(type_=OpenAIRunStep, value=stream.completed)
    assert isinstance(openai_step.step_details, MessageCreationStepDetails)
    assert from_openai(openai_step) == step
    for obj in (step, *events_of(stream.sse)):
        with pytest.raises(stepwire.ConversionError) as info:
            to_openai(obj)
        assert (info.value.path, info.value.kind) == ("$.step_details", "activities")
        assert info.value.reason == "openai-python has no type for step details type 'activities'"


def test_azure_pages_refused_at_the_first_step_openai_lacks() -> None:
    refused = 0
    for body in azure_pages():
        page = stepwire.decode_page(body)
        parsed = json.loads(body)
        lacking = [
            (i, step["step_details"])
            for i, step in enumerate(parsed["data"])
            if step["step_details"]["type"] != "tool_calls"
            or step["step_details"]["tool_calls"][0]["type"] not in OPENAI_TOOL_TYPES
        ]
        assert from_openai(construct_type(type_=OpenAIPage, value=parsed)) == page
        if not lacking:
            assert dump(to_openai(page)) == parsed
            continue
        refused += 1
        i, details = lacking[0]
        with pytest.raises(stepwire.ConversionError) as info:
            to_openai(page)
        if details["type"] == "tool_calls":
            assert info.value.path == f"$.data[{i}].step_details.tool_calls[0]"
            assert info.value.kind == details["tool_calls"][0]["type"]
        else:
            assert (info.value.path, info.value.kind) == (f"$.data[{i}].step_details", "activities")
    assert refused > 0


BROWSER = {"id": "call_b", "type": "browser", "browser": {"url": "https://x"}}
FUNCTION = {"id": "call_f", "type": "function", "function": {"name": "f", "arguments": "{}"}}
MESSAGE = {"type": "message_creation", "message_creation": {"message_id": "msg_1"}}


def _code(*outputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "call_c",
        "type": "code_interpreter",
        "code_interpreter": {"input": "1", "outputs": list(outputs)},
    }


@pytest.mark.parametrize(
    ("body", "path", "kind", "reason"),
    [
        pytest.param(
            step_object(tool_calls(FUNCTION, BROWSER)),
            "$.step_details.tool_calls[1]",
            "browser",
            "openai-python has no type for tool call type 'browser'",
            id="unknown-tool-call",
        ),
        pytest.param(
            step_object(
                tool_calls(_code({"type": "logs", "logs": "1"}, {"type": "video", "video": {}}))
            ),
            "$.step_details.tool_calls[0].code_interpreter.outputs[1]",
            "video",
            "openai-python has no type for code interpreter output type 'video'",
            id="unknown-output",
        ),
        pytest.param(
            step_object({"type": "future_details", "future_details": {}}),
            "$.step_details",
            "future_details",
            "openai-python has no type for step details type 'future_details'",
            id="unknown-step-details",
        ),
        pytest.param(
            delta_object(tool_calls({"index": 0, "type": "browser", "browser": {}})),
            "$.delta.step_details.tool_calls[0]",
            "browser",
            "openai-python has no type for tool call delta type 'browser'",
            id="unknown-tool-call-delta",
        ),
        pytest.param(
            delta_object(
                tool_calls(
                    {
                        "index": 0,
                        "type": "code_interpreter",
                        "code_interpreter": {"outputs": [{"index": 0, "type": "video"}]},
                    }
                )
            ),
            "$.delta.step_details.tool_calls[0].code_interpreter.outputs[0]",
            "video",
            "openai-python has no type for code interpreter output delta type 'video'",
            id="unknown-output-delta",
        ),
    ],
)
def test_unknown_types_refused_with_their_path(
    body: dict[str, Any], path: str, kind: str, reason: str
) -> None:
    data = json.dumps(body)
    obj: Any = stepwire.decode_delta(data) if "delta" in body else stepwire.decode_step(data)
    # openai-python builds and holds it; stepwire reads it from there as from the bytes.
    openai_type = OpenAIRunStepDeltaEvent if "delta" in body else OpenAIRunStep
    assert from_openai(construct_type(type_=openai_type, value=body)) == obj
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai(obj)
    assert (info.value.path, info.value.kind, info.value.reason) == (path, kind, reason)
    # In a list, in a page and in a stream event: the path from each one's root.
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai([obj, obj])
    assert info.value.path == "$[0]" + path[1:]
    if isinstance(obj, stepwire.RunStep):
        page = stepwire.decode_page(
            json.dumps({"object": "list", "data": [body], "has_more": False})
        )
        with pytest.raises(stepwire.ConversionError) as info:
            to_openai(page)
        assert info.value.path == "$.data[0]" + path[1:]
    name = "thread.run.step.delta" if "delta" in body else "thread.run.step.completed"
    (event,) = events_of(frame(name, body))
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai(event)
    assert (info.value.path, info.value.kind) == (path, kind)


def test_stream_events_openai_has_no_type_for() -> None:
    (ping,) = events_of(b"event: ping\ndata: {}\n\n")
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai(ping)
    assert (info.value.path, info.value.kind) == (None, "ping")
    assert info.value.reason == "openai-python has no type for stream event 'ping'"
    (text,) = events_of(b"event: thread.message.delta\ndata: not json\n\n")
    with pytest.raises(stepwire.ConversionError, match="not JSON") as info:
        to_openai(text)
    assert info.value.kind == "thread.message.delta"
    # Objects in other events' data are checked the same way (a run's tools).
    run = {
        "id": "run_1",
        "object": "thread.run",
        "tools": [{"type": "function"}, {"type": "bing_grounding"}],
    }
    (created,) = events_of(frame("thread.run.created", run))
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai(created)
    assert (info.value.path, info.value.kind) == ("$.tools[1]", "bing_grounding")
    assert info.value.reason == "openai-python has no type for tool type 'bing_grounding'"
    run["tools"] = [{"type": "function", "function": {"name": "f"}}]
    (created,) = events_of(frame("thread.run.created", run))
    built = to_openai(created)
    assert type(built).__name__ == "ThreadRunCreated"
    assert dump(built.data) == run


def test_a_newer_openai_type_just_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """The types openai-python knows are read from its unions: a release that adds one (made
    here by extending its unions) converts it, and builds it as its own class."""

    class BingGroundingToolCall(openai.BaseModel):
        id: str
        bing_grounding: dict[str, str]
        type: Literal["bing_grounding"]

    newer_tool_call = Annotated[
        Union[CodeInterpreterToolCall, FileSearchToolCall, FunctionToolCall, BingGroundingToolCall],
        PropertyInfo(discriminator="type"),
    ]

    class NewerToolCallsStepDetails(openai.BaseModel):
        tool_calls: list[newer_tool_call]
        type: Literal["tool_calls"]

    class NewerRunStep(OpenAIRunStep):
        step_details: Annotated[
            Union[MessageCreationStepDetails, NewerToolCallsStepDetails],
            PropertyInfo(discriminator="type"),
        ]

    call = {"id": "call_1", "type": "bing_grounding", "bing_grounding": {"requesturl": "u"}}
    step = stepwire.decode_step(json.dumps(step_object(tool_calls(FUNCTION, call))))
    with pytest.raises(stepwire.ConversionError):
        to_openai(step)
    newer = convert._openai()._replace(RunStep=NewerRunStep)
    monkeypatch.setattr(convert, "_openai", lambda: newer)
    built = to_openai(step)
    assert isinstance(built, NewerRunStep)
    assert isinstance(built.step_details.tool_calls[1], BingGroundingToolCall)
    assert dump(built) == json.loads(stepwire.encode(step))
    assert from_openai(built) == step


def test_a_null_openai_would_replace_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """openai-python's construct puts a field's default in place of a null: where the default
    is not None, that would lose the null, and to_openai refuses."""

    class DefaultedRunStep(OpenAIRunStep):
        expired_at: Optional[int] = 0

    body = {**step_object(MESSAGE), "expired_at": None}
    # What openai-python itself does with it: the null is gone.
    assert DefaultedRunStep.construct(**body).expired_at == 0
    newer = convert._openai()._replace(RunStep=DefaultedRunStep)
    monkeypatch.setattr(convert, "_openai", lambda: newer)
    with pytest.raises(stepwire.ConversionError) as info:
        to_openai(stepwire.decode_step(json.dumps(body)))
    assert info.value.path == "$.expired_at"
    assert info.value.reason == "openai-python would replace this null with 0"
    del body["expired_at"]  # absent: openai-python leaves it unset
    assert "expired_at" not in dump(to_openai(stepwire.decode_step(json.dumps(body))))


# -- absent, null and unknown fields --------------------------------------------------------


def _without(body: dict[str, Any], *path: str | int) -> dict[str, Any]:
    out = json.loads(json.dumps(body))
    *parents, last = path
    target = out
    for step in parents:
        target = target[step]
    del target[last]
    return out


ABSENT_OR_NULL = [
    pytest.param(step_object(MESSAGE), ("usage",), id="usage"),
    pytest.param(step_object(MESSAGE), ("completed_at",), id="completed_at"),
    pytest.param(step_object(MESSAGE), ("last_error",), id="last_error"),
    pytest.param(
        step_object(tool_calls({**FUNCTION, "function": {**FUNCTION["function"], "output": None}})),
        ("step_details", "tool_calls", 0, "function", "output"),
        id="function.output",
    ),
    pytest.param(
        delta_object(
            tool_calls(
                {"index": 0, "type": "function", "function": {"arguments": "", "output": None}}
            )
        ),
        ("delta", "step_details", "tool_calls", 0, "function", "output"),
        id="delta.function.output",
    ),
]


@pytest.mark.parametrize(("null_body", "path"), ABSENT_OR_NULL)
def test_absent_and_null_survive_both_ways(
    null_body: dict[str, Any], path: tuple[Any, ...]
) -> None:
    absent_body = _without(null_body, *path)
    delta = "delta" in null_body
    decode = stepwire.decode_delta if delta else stepwire.decode_step
    openai_type = OpenAIRunStepDeltaEvent if delta else OpenAIRunStep

    def read(obj: Any) -> Any:
        for step in path[:-1]:
            obj = obj[step] if isinstance(step, int) else getattr(obj, step)
        return obj, path[-1]

    for body, expected in ((null_body, None), (absent_body, msgspec.UNSET)):
        data = json.dumps(body)
        client = construct_type(type_=openai_type, value=body)
        parent, key = read(client)
        assert (key in parent.model_fields_set) is (expected is None)
        got = from_openai(client)
        assert got == decode(data)
        parent, key = read(got)
        assert getattr(parent, key) is expected
        built = to_openai(decode(data))
        parent, key = read(built)
        assert (key in parent.model_fields_set) is (expected is None)
        assert getattr(parent, key) is None
        assert canonical(dump(built)) == canonical(body)
        assert from_openai(built) == got


def test_unknown_fields_survive_both_ways() -> None:
    call = {
        **FUNCTION,
        "trace": [1, 2.5, None],
        "function": {**FUNCTION["function"], "output": "x", "ms": 3},
    }
    body = {
        **step_object(tool_calls(call)),
        "rollout": {"cohort": "c1", "enabled": True},
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "total_tokens": 3,
            "prompt_token_details": {"cached_tokens": 0},
            "audio_tokens": 0,
        },
    }
    client = construct_type(type_=OpenAIRunStep, value=body)
    assert client.model_extra == {"expires_at": body["expires_at"], "rollout": body["rollout"]}
    assert client.usage is not None
    assert client.usage.model_extra is not None
    assert set(client.usage.model_extra) == {"prompt_token_details", "audio_tokens"}
    step = from_openai(client)
    assert step == stepwire.decode_step(json.dumps(body))
    assert step.extra == {"rollout": body["rollout"]}
    assert isinstance(step.usage, stepwire.Usage)
    assert step.usage.extra == {"audio_tokens": 0}
    built = to_openai(step)
    assert built.model_extra == client.model_extra
    assert canonical(dump(built)) == canonical(body)
    assert from_openai(built) == step


# -- lists, refusals, laziness --------------------------------------------------------------


def test_lists_and_tuples_convert_item_by_item() -> None:
    bodies = [step_object(MESSAGE, step_id=f"step_{i}") for i in range(3)]
    openai_steps = [construct_type(type_=OpenAIRunStep, value=b) for b in bodies]
    steps = [stepwire.decode_step(json.dumps(b)) for b in bodies]
    assert from_openai(openai_steps) == steps
    assert from_openai(tuple(openai_steps)) == steps
    assert from_openai([]) == []
    built = to_openai(tuple(steps))
    assert isinstance(built, list)
    assert [dump(b) for b in built] == bodies
    (delta_event,) = events_of(frame("thread.run.step.delta", delta_object(MESSAGE)))
    mixed = to_openai([steps[0], delta_event])
    assert [type(m).__name__ for m in mixed] == ["RunStep", "ThreadRunStepDelta"]
    step, event = from_openai(mixed)
    assert step == steps[0]
    assert (event.event, event.data) == (delta_event.event, delta_event.data)


@pytest.mark.parametrize(
    ("obj", "named"),
    [
        pytest.param({"object": "thread.run.step"}, "not dict", id="dict"),
        pytest.param(
            OpenAIRunStep, "not openai.types.beta.threads.runs.run_step.RunStep", id="class"
        ),
        pytest.param(
            Message.construct(id="msg_1", object="thread.message"),
            "not openai.types.beta.threads.message.Message",
            id="message",
        ),
        pytest.param(
            SyncCursorPage[Message].construct(
                data=[Message.construct(object="thread.message")], has_more=False
            ),
            "not a page of openai.types.beta.threads.message.Message",
            id="page-of-messages",
        ),
        pytest.param(42, "not int", id="int"),
    ],
)
def test_from_openai_refuses_what_is_not_a_run_step_object(obj: Any, named: str) -> None:
    with pytest.raises(TypeError, match=r"^from_openai\(\) takes an openai-python RunStep") as info:
        from_openai(obj)
    assert str(info.value).endswith(named)


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(json.loads(json.dumps(step_object(MESSAGE))), id="dict"),
        pytest.param(stepwire.ApiError(message="x"), id="api-error"),
        pytest.param(construct_type(type_=OpenAIRunStep, value=step_object(MESSAGE)), id="openai"),
    ],
)
def test_to_openai_refuses_what_is_not_stepwires(obj: Any) -> None:
    with pytest.raises(TypeError, match=f"not .*{type(obj).__name__}"):
        to_openai(obj)


def test_openai_is_imported_by_to_openai_only(monkeypatch: pytest.MonkeyPatch) -> None:
    code = (
        "import sys, stepwire, stepwire._openai\n"
        "assert 'openai' not in sys.modules, 'imported openai'\n"
        "stepwire._openai.from_openai([])\n"
        "assert 'openai' not in sys.modules, 'imported openai'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    # openai-python absent: from_openai reads the objects it is given; to_openai says what to do.
    step = stepwire.decode_step(json.dumps(step_object(MESSAGE)))
    built = to_openai(step)
    monkeypatch.setitem(sys.modules, "openai", None)
    assert from_openai(built) == step
    with pytest.raises(ImportError, match=r"pip install 'stepwire\[openai\]'") as info:
        to_openai(step)
    assert info.value.name == "openai"
