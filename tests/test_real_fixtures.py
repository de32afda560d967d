"""The conformance corpus: every real body decodes and round-trips exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import stepwire
from helpers import real_files, real_params, sse_events

STEP_EVENTS = {
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.run.step.completed",
    "thread.run.step.failed",
    "thread.run.step.cancelled",
    "thread.run.step.expired",
}


@pytest.mark.parametrize("path", real_params(".json"))
def test_json_body_round_trips(path: Path) -> None:
    body = path.read_bytes()
    parsed = json.loads(body)
    if parsed["object"] == "list":
        obj: object = stepwire.decode_page(body)
        assert isinstance(obj, stepwire.RunStepPage)
        assert len(obj.data) == len(parsed["data"])
    else:
        obj = stepwire.decode_step(body)
        assert isinstance(obj, stepwire.RunStep)
    assert json.loads(stepwire.encode(obj)) == parsed


@pytest.mark.parametrize("path", real_params(".sse"))
def test_sse_step_objects_round_trip(path: Path) -> None:
    seen = 0
    for name, data in sse_events(path.read_bytes()):
        if name in STEP_EVENTS:
            obj: object = stepwire.decode_step(data)
        elif name == "thread.run.step.delta":
            obj = stepwire.decode_delta(data)
        else:
            continue
        seen += 1
        assert json.loads(stepwire.encode(obj)) == json.loads(data)
    assert seen > 0


def test_corpus_covers_what_the_readme_promises() -> None:
    """Guards the assumptions the model is built on, where the corpus is present."""
    files = real_files(".json")
    if not files:
        pytest.skip("real corpus absent")
    steps = []
    for f in files:
        obj = json.loads(f.read_bytes())
        steps.extend(obj["data"] if obj["object"] == "list" else [obj])
    assert any("usage" not in s for s in steps)  # v1 bodies
    assert any(s.get("expires_at") is not None for s in steps)
    assert not any("expired_at" in s for s in steps)
    decoded = [stepwire.decode_step(json.dumps(s)) for s in steps]
    details = [
        u.prompt_token_details
        for u in (d.usage for d in decoded)
        if isinstance(u, stepwire.Usage) and u.prompt_token_details
    ]
    assert details
    assert all(d.cached_tokens == 0 for d in details)
    functions = [
        c.function
        for d in decoded
        if isinstance(d.step_details, stepwire.ToolCallsStepDetails)
        for c in d.step_details.tool_calls
        if isinstance(c, stepwire.FunctionToolCall)
    ]
    assert any(f.output is stepwire.UNSET for f in functions)  # no output key (v1)
    assert any(f.output is None for f in functions)  # output: null


def test_hyphenated_ranker_accepted_by_default_rejected_strict() -> None:
    files = [f for f in real_files(".sse") if "file_search_delta" in f.name]
    if not files:
        pytest.skip("real corpus absent")
    completed = [
        data
        for name, data in sse_events(files[0].read_bytes())
        if name == "thread.run.step.completed" and b'"file_search"' in data
    ]
    step = stepwire.decode_step(completed[-1])
    assert isinstance(step.step_details, stepwire.ToolCallsStepDetails)
    call = step.step_details.tool_calls[0]
    assert isinstance(call, stepwire.FileSearchToolCall)
    assert isinstance(call.file_search.ranking_options, stepwire.FileSearchRankingOptions)
    assert call.file_search.ranking_options.ranker == "default-2024-08-21"
    with pytest.raises(stepwire.DecodeError, match=r"ranking_options\.ranker"):
        stepwire.decode_step(completed[-1], strict=True)


def _step_bodies() -> list[tuple[str, bytes, object]]:
    bodies: list[tuple[str, bytes, object]] = []
    for f in real_files(".json"):
        body = f.read_bytes()
        kind = (
            stepwire.decode_page if json.loads(body)["object"] == "list" else stepwire.decode_step
        )
        bodies.append((f.name, body, kind))
    for f in real_files(".sse"):
        for i, (name, data) in enumerate(sse_events(f.read_bytes())):
            if name == "thread.run.step.delta":
                bodies.append((f"{f.name}#{i}", data, stepwire.decode_delta))
            elif name in STEP_EVENTS:
                bodies.append((f"{f.name}#{i}", data, stepwire.decode_step))
    return bodies


def _strict_objection(decode: Any, body: bytes) -> str:
    try:
        decode(body, strict=True)
    except stepwire.DecodeError as exc:
        return exc.reason
    return ""


def test_every_real_field_is_modeled() -> None:
    """Strict mode forbids unknown fields: on the real corpus it may only object to values
    the live API sends outside the spec (the hyphenated ranker, the EDITED unknown tool)."""
    bodies = _step_bodies()
    if not bodies:
        pytest.skip("real corpus absent")
    objections = {
        (name.split("#")[0], objection)
        for name, body, decode in bodies
        if (objection := _strict_objection(decode, body))
    }
    assert objections <= {
        (
            "sashirestela__simple-openai__stream_file_search_delta.sse",
            "Invalid enum value 'default-2024-08-21'",
        ),
        (
            "sashirestela__simple-openai__runsteps_list_EDITED_unknown_browser_tool.json",
            "Invalid value 'browser'",
        ),
    }
    assert len(bodies) > 400
