"""Forward compatibility: types stepwire does not know decode, survive and encode back."""

from __future__ import annotations

import json
import typing
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepwire
from helpers import examples
from stepgen import generate_step


def _step(details: dict[str, Any], **extra: Any) -> dict[str, Any]:
    step = {
        "id": "step_1",
        "object": "thread.run.step",
        "created_at": 1,
        "run_id": "run_1",
        "assistant_id": "asst_1",
        "thread_id": "thread_1",
        "type": details.get("type", "tool_calls"),
        "status": "completed",
        "step_details": details,
    }
    step.update(extra)
    return step


KNOWN_TOOL_TYPES = {m.__struct_config__.tag for m in typing.get_args(stepwire.ToolCall)}
BROWSER = {"id": "call_b", "type": "browser", "browser": {"url": "https://x", "n": [1, None]}}
FUNCTION = {"id": "call_f", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def test_unknown_tool_call_survives_beside_known_ones() -> None:
    body = json.dumps(_step({"type": "tool_calls", "tool_calls": [FUNCTION, BROWSER, FUNCTION]}))
    step = stepwire.decode_step(body)
    assert isinstance(step.step_details, stepwire.ToolCallsStepDetails)
    first, unknown, third = step.step_details.tool_calls
    assert isinstance(first, stepwire.FunctionToolCall)
    assert isinstance(third, stepwire.FunctionToolCall)
    assert isinstance(unknown, stepwire.UnknownToolCall)
    assert (unknown.type, unknown.id) == ("browser", "call_b")
    assert unknown.data == BROWSER
    assert json.loads(stepwire.encode(step)) == json.loads(body)
    # plain msgspec encoders need no hook for it either
    assert json.loads(msgspec.json.encode(step)) == json.loads(body)
    assert "browser" in repr(unknown)


def test_one_unknown_call_never_makes_a_page_undecodable() -> None:
    import random

    rng = random.Random(7)
    steps = [generate_step(rng) for _ in range(20)]
    steps[13] = _step({"type": "tool_calls", "tool_calls": [BROWSER]})
    page = {"object": "list", "data": steps, "first_id": None, "last_id": None, "has_more": False}
    body = json.dumps(page).encode()
    decoded = stepwire.decode_page(body)
    assert len(decoded.data) == 20
    details = decoded.data[13].step_details
    assert isinstance(details, stepwire.ToolCallsStepDetails)
    assert isinstance(details.tool_calls[0], stepwire.UnknownToolCall)
    assert json.loads(stepwire.encode(decoded)) == page


def test_unknown_step_type_and_details() -> None:
    details = {"type": "reasoning", "reasoning": {"summary": "…"}}
    body = json.dumps(_step(details, type="reasoning"))
    step = stepwire.decode_step(body)
    assert step.type == "reasoning"
    assert isinstance(step.step_details, stepwire.UnknownStepDetails)
    assert step.step_details.type == "reasoning"
    assert step.step_details.data == details
    assert json.loads(stepwire.encode(step)) == json.loads(body)


def test_unknown_code_output_computer_action_and_activity() -> None:
    code = {
        "id": "call_c",
        "type": "code_interpreter",
        "code_interpreter": {
            "input": "x",
            "outputs": [{"type": "logs", "logs": "1"}, {"type": "file", "file": {"id": "f"}}],
        },
    }
    computer = {
        "id": "call_u",
        "type": "computer_use_preview",
        "computer_use_preview": {
            "action": {"type": "zoom", "level": 2},
            "pending_safety_checks": [],
        },
    }
    body = json.dumps(_step({"type": "tool_calls", "tool_calls": [code, computer]}))
    step = stepwire.decode_step(body)
    assert isinstance(step.step_details, stepwire.ToolCallsStepDetails)
    c, u = step.step_details.tool_calls
    assert isinstance(c, stepwire.CodeInterpreterToolCall)
    assert isinstance(c.code_interpreter.outputs[1], stepwire.UnknownOutput)
    assert isinstance(u, stepwire.ComputerUseToolCall)
    assert isinstance(u.computer_use_preview.action, stepwire.UnknownAction)
    assert json.loads(stepwire.encode(step)) == json.loads(body)

    activities = {"type": "activities", "activities": [{"type": "mcp_call_tool", "id": "a"}]}
    step = stepwire.decode_step(json.dumps(_step(activities)))
    assert isinstance(step.step_details, stepwire.ActivitiesStepDetails)
    assert isinstance(step.step_details.activities[0], stepwire.UnknownActivity)


def test_unknown_tool_call_delta_keeps_its_index() -> None:
    body = json.dumps(
        {
            "id": "step_1",
            "object": "thread.run.step.delta",
            "delta": {
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {"index": 0, "type": "function", "function": {"arguments": "{"}},
                        {"index": 1, "id": "call_x", "type": "web_search", "web_search": {}},
                    ],
                }
            },
        }
    )
    event = stepwire.decode_delta(body)
    details = event.delta.step_details
    assert isinstance(details, stepwire.ToolCallsStepDetailsDelta)
    assert isinstance(details.tool_calls, list)
    unknown = details.tool_calls[1]
    assert isinstance(unknown, stepwire.UnknownToolCallDelta)
    assert (unknown.index, unknown.id, unknown.type) == (1, "call_x", "web_search")
    assert json.loads(stepwire.encode(event)) == json.loads(body)


@pytest.mark.parametrize("index", ['"1"', "null", "1.5", "true"])
def test_unknown_tool_call_delta_needs_an_integer_index(index: str) -> None:
    body = (
        '{"id":"s","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls",'
        '"tool_calls":[{"type":"web_search"%s}]}}}'
        % ("" if index == "null" else f',"index":{index}')
    )
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_delta(body)
    if index == "null":  # absent: its object is to blame, as for any missing field
        assert info.value.path == "$.delta.step_details.tool_calls[0]"
        assert "missing required field `index`" in str(info.value)
    else:
        assert info.value.path == "$.delta.step_details.tool_calls[0].index"
        assert info.value.offset == body.index(index, body.index('"index"'))


def test_unknown_with_a_real_error_elsewhere_reports_the_real_error() -> None:
    bad = dict(FUNCTION, id=5)
    body = json.dumps(_step({"type": "tool_calls", "tool_calls": [BROWSER, bad]}))
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_step(body)
    assert info.value.path == "$.step_details.tool_calls[1].id"
    assert "Expected `str`, got `int`" in str(info.value)


def test_missing_or_non_string_tag_is_an_error_not_an_unknown() -> None:
    for call in ({"id": "c"}, {"id": "c", "type": 3}):
        body = json.dumps(_step({"type": "tool_calls", "tool_calls": [call]}))
        with pytest.raises(stepwire.DecodeError, match=r"tool_calls\[0\]"):
            stepwire.decode_step(body)


def test_unknown_objects_are_the_parsed_object() -> None:
    unknown = stepwire.UnknownToolCall({"type": "x"})
    assert unknown.id is stepwire.UNSET
    assert unknown == {"type": "x"}
    assert stepwire.UnknownObject({"type": 1}).type == ""


def test_decoder_of_a_union_alone() -> None:
    dec = stepwire.Decoder(stepwire.ToolCall)
    assert isinstance(dec.decode(json.dumps(FUNCTION)), stepwire.FunctionToolCall)
    assert isinstance(dec.decode(json.dumps(BROWSER)), stepwire.UnknownToolCall)
    with pytest.raises(stepwire.DecodeError, match="browser"):
        stepwire.Decoder(stepwire.ToolCall, strict=True).decode(json.dumps(BROWSER))


def test_summary_details_of_an_unknown_type() -> None:
    details = {"type": "reasoning", "reasoning": {"summary": "…"}}
    summary = stepwire.Decoder(stepwire.RunStepSummary).decode(json.dumps(_step(details)))
    unknown = summary.details()
    assert isinstance(unknown, stepwire.UnknownStepDetails)
    assert unknown.data == details


def test_list_of_steps_with_unknowns() -> None:
    body = json.dumps([_step({"type": "tool_calls", "tool_calls": [FUNCTION, BROWSER]})] * 2)
    steps = stepwire.Decoder(list[stepwire.RunStep]).decode(body)
    for step in steps:
        assert isinstance(step.step_details, stepwire.ToolCallsStepDetails)
        assert isinstance(step.step_details.tool_calls[1], stepwire.UnknownToolCall)
    assert json.loads(stepwire.encode(steps)) == json.loads(body)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=examples(150), deadline=None)
@given(
    tag=st.text(min_size=1).filter(lambda t: t not in KNOWN_TOOL_TYPES),
    payload=st.dictionaries(st.text(), JSON, max_size=5),
)
def test_any_unknown_tool_call_survives_a_round_trip(tag: str, payload: dict[str, Any]) -> None:
    call = {**payload, "type": tag, "id": "call_u"}
    body = msgspec.json.encode(_step({"type": "tool_calls", "tool_calls": [FUNCTION, call]}))
    step = stepwire.decode_step(body)
    assert isinstance(step.step_details, stepwire.ToolCallsStepDetails)
    unknown = step.step_details.tool_calls[1]
    assert isinstance(unknown, stepwire.UnknownToolCall)
    assert unknown.data == call
    assert msgspec.json.decode(stepwire.encode(step)) == msgspec.json.decode(body)
