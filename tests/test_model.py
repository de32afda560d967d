"""The model's contract: every union member has ``.type``; Structs are gc-free; samples decode."""

from __future__ import annotations

import gc
import json
import typing

import msgspec
import pytest

import stepwire
from helpers import SAMPLES

UNIONS = [
    stepwire.ToolCall,
    stepwire.ToolCallDelta,
    stepwire.StepDetails,
    stepwire.StepDetailsDelta,
    stepwire.CodeInterpreterOutput,
    stepwire.CodeInterpreterOutputDelta,
    stepwire.ComputerAction,
]
MEMBERS = sorted({m for u in UNIONS for m in typing.get_args(u)}, key=lambda m: m.__name__)
STRUCTS = sorted(
    (
        obj
        for obj in vars(stepwire).values()
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct)
    ),
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", MEMBERS, ids=lambda c: c.__name__)
def test_type_reads_the_tag(cls: type[msgspec.Struct]) -> None:
    assert cls.type == cls.__struct_config__.tag  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda c: c.__name__)
def test_structs_stay_out_of_the_cycle_collector(cls: type[msgspec.Struct]) -> None:
    # No exception, RunStep included: nothing keeps state about a snapshot by weak
    # reference (StepMerger holds what a merge needs between deltas).
    assert cls.__struct_config__.gc is False
    assert cls.__struct_config__.weakref is False


def test_every_openai_and_azure_tool_type_is_modeled() -> None:
    tags = {m.__struct_config__.tag for m in typing.get_args(stepwire.ToolCall)}
    assert tags == {
        "code_interpreter",
        "file_search",
        "function",
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
    }
    delta_tags = {m.__struct_config__.tag for m in typing.get_args(stepwire.ToolCallDelta)}
    assert delta_tags == tags


def test_azure_sample_page_decodes_to_the_right_classes() -> None:
    body = (SAMPLES / "azure_agents_steps_page.json").read_bytes()
    page = stepwire.decode_page(body)
    assert json.loads(stepwire.encode(page)) == json.loads(body)
    calls = [
        c
        for s in page.data
        if isinstance(s.step_details, stepwire.ToolCallsStepDetails)
        for c in s.step_details.tool_calls
    ]
    by_type = {c.type: c for c in calls}
    assert set(by_type) == {m.__struct_config__.tag for m in typing.get_args(stepwire.ToolCall)} - {
        "code_interpreter",
        "file_search",
        "function",
    }
    for call in calls:
        assert type(call).type == call.type
    bing = by_type["bing_grounding"]
    assert isinstance(bing, stepwire.BingGroundingToolCall)
    assert bing.bing_grounding["requesturl"].startswith("https://")
    agent = by_type["connected_agent"]
    assert isinstance(agent, stepwire.ConnectedAgentToolCall)
    assert agent.connected_agent.assistant_id == "asst_02"
    mcp = by_type["mcp"]
    assert isinstance(mcp, stepwire.MCPToolCall)
    assert (mcp.name, mcp.server_label) == ("search_docs", "github")
    actions = [
        c.computer_use_preview.action for c in calls if isinstance(c, stepwire.ComputerUseToolCall)
    ]
    assert [a.type for a in actions] == [
        "click",
        "double_click",
        "drag",
        "keypress",
        "move",
        "screenshot",
        "scroll",
        "type",
        "wait",
    ]
    drag = actions[2]
    assert isinstance(drag, stepwire.DragAction)
    assert drag.path[1] == stepwire.CoordinatePoint(x=30, y=40)
    browser = by_type["browser_automation"]
    assert isinstance(browser, stepwire.BrowserAutomationToolCall)
    assert browser.browser_automation.steps[1].next_step == "done"
    activities = page.data[6].step_details
    assert isinstance(activities, stepwire.ActivitiesStepDetails)
    tool = activities.activities[0]
    assert isinstance(tool, stepwire.MCPListToolsActivity)
    params = tool.tools["search_docs"].parameters
    assert isinstance(params, stepwire.ActivityFunctionParameters)
    assert params.additional_properties is False
    assert page.data[7].object == "assistant.run.step"


def test_openai_sample_page_keeps_absent_and_null_apart() -> None:
    body = (SAMPLES / "openai_steps_page.json").read_bytes()
    page = stepwire.decode_page(body)
    assert json.loads(stepwire.encode(page)) == json.loads(body)
    first, _, _, in_progress, failed = page.data
    assert first.metadata == {"tenant": "acme", "request": "r-1"}
    assert first.expired_at is None
    assert first.expires_at is stepwire.UNSET
    assert in_progress.usage is None
    assert isinstance(failed.last_error, stepwire.LastError)
    assert failed.last_error.code == "rate_limit_exceeded"
    assert page.has_more is True


def test_sample_deltas_decode_and_round_trip() -> None:
    lines = (SAMPLES / "step_deltas.ndjson").read_bytes().splitlines()
    kinds = set()
    for line in lines:
        event = stepwire.decode_delta(line)
        assert json.loads(stepwire.encode(event)) == json.loads(line)
        details = event.delta.step_details
        assert details is not None
        assert details is not stepwire.UNSET
        kinds.add(details.type)
        for call in getattr(details, "tool_calls", None) or []:
            assert isinstance(call.index, int)
    assert kinds == {"message_creation", "tool_calls", "mcp", "openapi"}


def test_decoded_objects_are_not_tracked_by_gc() -> None:
    page = stepwire.decode_page((SAMPLES / "openai_steps_page.json").read_bytes())
    assert not gc.is_tracked(page)
    assert not gc.is_tracked(page.data[0])  # the steps too: no object is tracked
    assert not gc.is_tracked(page.data[1].step_details)
    assert not gc.is_tracked(page.data[0].usage)


def test_public_api_is_explicit_and_documented() -> None:
    for name in stepwire.__all__:
        assert hasattr(stepwire, name), name
    for fn in (
        stepwire.decode_step,
        stepwire.decode_page,
        stepwire.decode_delta,
        stepwire.decode_lines,
        stepwire.iter_lines,
        stepwire.encode,
        stepwire.Decoder.decode,
    ):
        assert fn.__doc__, fn
        assert "Parameters" in fn.__doc__, fn
