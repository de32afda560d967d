"""The Azure stream generator (stepgen/azure.py) itself: framing, deltas, merge, determinism.

Nothing here uses stepwire: these tests check that the generated bodies are what
they claim to be, so that tests of stepwire may take them as ground truth.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stepgen.azure import AZURE_TOOL_TYPES, AzureStream, azure_pages, azure_streams, merge_payload

SEEDS = range(6)
REQUIRED_TYPES = {
    "bing_grounding",
    "bing_custom_search",
    "azure_ai_search",
    "sharepoint_grounding",
    "fabric_dataagent",
    "openapi",
    "azure_function",
    "connected_agent",
    "deep_research",
    "mcp",
    "computer_use_preview",
    "browser_automation",
    "function",
    "code_interpreter",
    "file_search",
}
STEP_KEYS = {
    "id",
    "object",
    "created_at",
    "run_id",
    "assistant_id",
    "thread_id",
    "type",
    "status",
    "cancelled_at",
    "completed_at",
    "expires_at",
    "failed_at",
    "last_error",
    "step_details",
    "usage",
}


def parse_sse(body: bytes) -> list[tuple[str, str]]:
    """Split a body framed exactly as ``event: <name>\\ndata: <one line>\\n\\n``."""
    text = body.decode("utf-8")
    assert text.endswith("\n\n")
    events = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        assert len(lines) == 2, block
        assert lines[0].startswith("event: ")
        assert lines[1].startswith("data: ")
        events.append((lines[0][len("event: ") :], lines[1][len("data: ") :]))
    return events


def all_streams() -> list[tuple[int, AzureStream]]:
    return [(seed, stream) for seed in SEEDS for stream in azure_streams(seed)]


def stream_id(param: tuple[int, AzureStream]) -> str:
    return f"{param[0]}-{param[1].name}"


STREAMS = all_streams()


@pytest.mark.parametrize("item", STREAMS, ids=[stream_id(p) for p in STREAMS])
def test_framing_and_event_names(item: tuple[int, AzureStream]) -> None:
    _, stream = item
    events = parse_sse(stream.sse)
    names = [name for name, _ in events]
    assert names[:2] == ["thread.run.step.created", "thread.run.step.in_progress"]
    assert events[-1] == ("done", "[DONE]")
    completed_at = names.index("thread.run.step.completed")
    assert names.count("thread.run.step.completed") == 1
    assert set(names[2:completed_at]) <= {"thread.run.step.delta"}
    after = names[completed_at + 1 : -1]
    assert set(after) <= {"thread.run.step.delta"}
    assert bool(after) == (stream.name == "function_approval")
    # Compact JSON, one line per data field.
    for _, data in events[:-1]:
        parsed = json.loads(data)
        assert data == json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("item", STREAMS, ids=[stream_id(p) for p in STREAMS])
def test_deltas_are_the_stream_deltas(item: tuple[int, AzureStream]) -> None:
    _, stream = item
    events = parse_sse(stream.sse)
    step = json.loads(events[0][1])
    deltas = [json.loads(data) for name, data in events if name == "thread.run.step.delta"]
    assert deltas == stream.deltas
    for delta in deltas:
        assert set(delta) == {"id", "object", "delta"}
        assert delta["id"] == step["id"]
        assert delta["object"] == "thread.run.step.delta"
        details = delta["delta"]["step_details"]
        assert details["type"] in ("tool_calls", "mcp", "openapi")
        (call,) = details["tool_calls"]
        assert isinstance(call["index"], int)
        assert isinstance(call["type"], str)


@pytest.mark.parametrize("item", STREAMS, ids=[stream_id(p) for p in STREAMS])
def test_step_objects_look_live(item: tuple[int, AzureStream]) -> None:
    _, stream = item
    events = dict(parse_sse(stream.sse)[:2])
    created = json.loads(events["thread.run.step.created"])
    assert created == json.loads(events["thread.run.step.in_progress"])
    completed = stream.completed
    for step in (created, completed):
        assert set(step) >= STEP_KEYS
        assert step["object"] == "thread.run.step"
        for key, prefix in [
            ("id", "step_"),
            ("run_id", "run_"),
            ("thread_id", "thread_"),
            ("assistant_id", "asst_"),
        ]:
            assert step[key].startswith(prefix)
        assert step["expires_at"] == step["created_at"] + 600
    assert created["status"] == "in_progress"
    assert created["usage"] is None
    assert created["completed_at"] is None
    assert completed["status"] == "completed"
    assert completed["completed_at"] > completed["created_at"]
    usage = completed["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert {k: completed[k] for k in ("id", "run_id", "thread_id", "created_at")} == {
        k: created[k] for k in ("id", "run_id", "thread_id", "created_at")
    }
    if stream.tool_type == "activities":
        assert created["type"] == completed["type"] == "activities"
        assert created["step_details"] == completed["step_details"]
        assert stream.deltas == []
    else:
        assert created["type"] == "tool_calls"
        assert created["step_details"] == {"type": "tool_calls", "tool_calls": []}


@pytest.mark.parametrize("item", STREAMS, ids=[stream_id(p) for p in STREAMS])
def test_merging_the_deltas_gives_the_completed_calls(item: tuple[int, AzureStream]) -> None:
    _, stream = item
    events = parse_sse(stream.sse)
    created = json.loads(events[0][1])
    merged = {"tool_calls": created["step_details"].get("tool_calls", [])}
    for delta in stream.deltas:
        merged = merge_payload(merged, {"tool_calls": delta["delta"]["step_details"]["tool_calls"]})
    expected = stream.completed["step_details"].get("tool_calls", [])
    assert merged["tool_calls"] == expected
    for call in expected:
        assert "index" not in call
        assert call["type"] == stream.tool_type or stream.name.endswith("_parallel")


@pytest.mark.parametrize("item", STREAMS, ids=[stream_id(p) for p in STREAMS])
def test_completed_event_is_the_completed_object(item: tuple[int, AzureStream]) -> None:
    _, stream = item
    events = dict(parse_sse(stream.sse))
    sent = json.loads(events["thread.run.step.completed"])
    if stream.name != "function_approval":
        assert sent == stream.completed
        return
    # The service completes the step with the output still null, then streams it.
    (call,) = sent["step_details"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"]["output"] is None
    names = [name for name, _ in parse_sse(stream.sse)]
    after = len(names) - names.index("thread.run.step.completed") - 2
    tail = stream.deltas[len(stream.deltas) - after :]
    assert after > 0
    calls = {"tool_calls": sent["step_details"]["tool_calls"]}
    for delta in tail:
        (piece,) = delta["delta"]["step_details"]["tool_calls"]
        assert set(piece) == {"index", "type", "function"}
        assert set(piece["function"]) == {"output"}
        calls = merge_payload(calls, {"tool_calls": [piece]})
    expected = copy.deepcopy(sent)
    expected["step_details"]["tool_calls"] = calls["tool_calls"]
    assert expected == stream.completed
    assert isinstance(stream.completed["step_details"]["tool_calls"][0]["function"]["output"], str)


@pytest.mark.parametrize("item", STREAMS, ids=[stream_id(p) for p in STREAMS])
def test_first_delta_of_a_call_opens_it(item: tuple[int, AzureStream]) -> None:
    _, stream = item
    seen: dict[int, dict[str, Any]] = {}
    for delta in stream.deltas:
        (call,) = delta["delta"]["step_details"]["tool_calls"]
        if call["index"] not in seen:
            seen[call["index"]] = call
            assert call["id"].startswith("call_")
        else:
            assert "id" not in call
            assert call["type"] == seen[call["index"]]["type"]
    assert sorted(seen) == list(range(len(seen)))
    completed = stream.completed["step_details"].get("tool_calls", [])
    assert [seen[i]["id"] for i in sorted(seen)] == [c["id"] for c in completed]


def first_call(stream: AzureStream) -> dict[str, Any]:
    call: dict[str, Any] = stream.deltas[0]["delta"]["step_details"]["tool_calls"][0]
    return call


def payloads(stream: AzureStream, key: str) -> list[dict[str, Any]]:
    out = []
    for delta in stream.deltas[1:]:
        (call,) = delta["delta"]["step_details"]["tool_calls"]
        if key in call:
            out.append(call[key])
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_opening_payloads(seed: int) -> None:
    streams = {s.name: s for s in azure_streams(seed)}
    for kind in ("bing_grounding", "bing_custom_search"):
        assert first_call(streams[kind])[kind] == {"requesturl": "", "response_metadata": None}
        completed = streams[kind].completed["step_details"]["tool_calls"][0][kind]
        assert completed["requesturl"].startswith("https://api.bing.microsoft.com/v7.0/")
        assert isinstance(completed["response_metadata"], str)
    for kind in ("azure_ai_search", "sharepoint_grounding", "fabric_dataagent"):
        assert first_call(streams[kind])[kind] == {"input": None, "output": None}
    fabric = payloads(streams["fabric_dataagent"], "fabric_dataagent")
    assert sum("input" in p for p in fabric) == 8
    openapi = first_call(streams["openapi"])
    assert set(openapi) == {"index", "id", "type", "function"}
    assert openapi["function"]["arguments"] == ""
    assert openapi["function"]["output"] is None
    mcp = first_call(streams["mcp"])
    assert set(mcp) == {"index", "id", "type", "arguments", "name", "output", "server_label"}
    computer = first_call(streams["computer_use_preview"])["computer_use_preview"]
    assert computer == {"action": None, "pending_safety_checks": [], "output": None}
    done = streams["computer_use_preview"].completed["step_details"]["tool_calls"][0]
    assert done["computer_use_preview"]["output"]["type"] == "computer_screenshot"


@pytest.mark.parametrize("seed", SEEDS)
def test_fragments_and_nested_merges_occur(seed: int) -> None:
    streams = {s.name: s for s in azure_streams(seed)}
    # String values arrive in several pieces.
    for kind in ("bing_grounding", "deep_research", "connected_agent", "azure_function"):
        pieces = payloads(streams[kind], kind)
        assert len(pieces) > 2
    # The unknown type: nested objects and index-merged lists.
    unknown = streams["unknown_tool"]
    assert unknown.tool_type == "some_future_tool"
    nested = payloads(unknown, "some_future_tool")
    assert any("meta" in p and "stats" in p["meta"] for p in nested)
    assert any("result" in p for p in nested)
    assert any("index" in c for p in nested for c in p.get("chunks", []))
    # Parallel calls: both open first, then their fragments interleave.
    for name in ("function_parallel", "bing_grounding_azure_function_parallel"):
        calls = [d["delta"]["step_details"]["tool_calls"][0] for d in streams[name].deltas]
        assert [c["index"] for c in calls[:2]] == [0, 1]
        assert all("id" in c for c in calls[:2])
        rest = [c["index"] for c in calls[2:]]
        assert set(rest) == {0, 1}
        assert rest != sorted(rest)
    # Fields no model has.
    extra = streams["extra_fields"]
    events = dict(parse_sse(extra.sse))
    assert json.loads(events["thread.run.step.created"])["extra_flag"] is True
    assert extra.completed["extra_flag"] is True
    assert extra.completed["usage"]["extra_flag"] is True
    call = extra.completed["step_details"]["tool_calls"][0]
    assert call["extra_flag"] is True
    assert call["function"]["$schema"].startswith("https://json-schema.org/")
    assert call["function"]["extra_flag"] is True
    # Step details typed after the tool, as the SDK's delta details allow.
    for name, kind in (("mcp_delta_details", "mcp"), ("openapi_delta_details", "openapi")):
        assert {d["delta"]["step_details"]["type"] for d in streams[name].deltas} == {kind}


@pytest.mark.parametrize("seed", SEEDS)
def test_activities_tools_schemas(seed: int) -> None:
    (stream,) = [s for s in azure_streams(seed) if s.tool_type == "activities"]
    (activity,) = stream.completed["step_details"]["activities"]
    assert activity["type"] == "mcp_list_tools"
    assert activity["id"].startswith("mcpl_")
    params = [tool["parameters"] for tool in activity["tools"].values()]
    assert {"type": "object"} in params
    assert any("$schema" in p for p in params)
    assert any("items" in prop for p in params for prop in p.get("properties", {}).values())


def test_every_tool_type_appears() -> None:
    for seed in SEEDS:
        types = {s.tool_type for s in azure_streams(seed)}
        assert types >= REQUIRED_TYPES | {"activities", "some_future_tool"}
        assert set(AZURE_TOOL_TYPES) == REQUIRED_TYPES
        names = [s.name for s in azure_streams(seed)]
        assert len(names) == len(set(names))
        assert set(AZURE_TOOL_TYPES) <= set(names)


def test_deterministic_by_seed() -> None:
    assert azure_streams(3) == azure_streams(3)
    assert azure_pages(3) == azure_pages(3)
    assert azure_streams(3) != azure_streams(4)
    assert azure_pages(3) != azure_pages(4)
    assert azure_streams() == azure_streams(0)


@pytest.mark.parametrize("seed", SEEDS)
def test_pages(seed: int) -> None:
    pages = [json.loads(body) for body in azure_pages(seed)]
    firsts: dict[str, dict[str, Any]] = {}
    for stream in azure_streams(seed):
        firsts.setdefault(stream.tool_type, stream.completed)
    data = [step for page in pages for step in page["data"]]
    assert data == list(firsts.values())
    for i, page in enumerate(pages):
        assert set(page) == {"object", "data", "first_id", "last_id", "has_more"}
        assert page["object"] == "list"
        assert page["first_id"] == page["data"][0]["id"]
        assert page["last_id"] == page["data"][-1]["id"]
        assert page["has_more"] == (i < len(pages) - 1)
    assert [len(p["data"]) for p in pages[:-1]] == [5] * (len(pages) - 1)


# -- merge_payload -------------------------------------------------------------


def test_merge_strings_concatenate_but_id_and_type_replace() -> None:
    got = merge_payload({"id": "a", "type": "t", "s": "ab"}, {"id": "b", "type": "t", "s": "cd"})
    assert got == {"id": "b", "type": "t", "s": "abcd"}
    assert merge_payload({"s": None}, {"s": "x"}) == {"s": "x"}
    assert merge_payload({"s": 3}, {"s": "x"}) == {"s": "x"}
    assert merge_payload({}, {"s": ""}) == {"s": ""}


def test_merge_null_never_erases() -> None:
    assert merge_payload({"a": "x", "b": {"c": 1}}, {"a": None, "b": None}) == {
        "a": "x",
        "b": {"c": 1},
    }
    assert merge_payload({}, {"a": None}) == {"a": None}


def test_merge_objects_lists_and_scalars() -> None:
    target = {"o": {"a": "1", "keep": True}, "l": [1], "n": 1}
    got = merge_payload(target, {"o": {"a": "2", "b": {"c": None}}, "l": [2, 3], "n": 2.5})
    assert got == {"o": {"a": "12", "keep": True, "b": {"c": None}}, "l": [1, 2, 3], "n": 2.5}
    assert merge_payload({"o": None}, {"o": {"x": 1}}) == {"o": {"x": 1}}
    assert merge_payload({"l": None}, {"l": [{"x": 1}]}) == {"l": [{"x": 1}]}


def test_merge_indexed_lists_merge_by_index() -> None:
    target = {"calls": [{"type": "f", "args": "a"}]}
    delta = {
        "calls": [
            {"index": 1, "type": "g", "args": "x"},
            {"index": 0, "type": "f", "args": "b"},
        ]
    }
    got = merge_payload(target, delta)
    assert got == {"calls": [{"type": "f", "args": "ab"}, {"type": "g", "args": "x"}]}
    nested = merge_payload({}, {"c": [{"index": 0, "outputs": [{"index": 0, "logs": "1"}]}]})
    assert nested == {"c": [{"outputs": [{"logs": "1"}]}]}
    with pytest.raises(ValueError, match="past the end"):
        merge_payload({"calls": []}, {"calls": [{"index": 2}]})


def test_merge_is_pure() -> None:
    target = {"o": {"l": [1]}, "s": "a"}
    delta = {"o": {"l": [{"deep": [1]}]}, "s": "b"}
    before = copy.deepcopy((target, delta))
    got = merge_payload(target, delta)
    got["o"]["l"][1]["deep"].append(2)
    assert (target, delta) == before
