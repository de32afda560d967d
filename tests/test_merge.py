"""Merging deltas into run-step snapshots, through Accumulator (both implementations) and
apply_delta."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepwire
from helpers import delta_object, examples, frame, load_impl, step_object, to_json, tool_calls

DELTA = "thread.run.step.delta"
CREATED = "thread.run.step.created"
TERMINAL = [
    "thread.run.step.completed",
    "thread.run.step.failed",
    "thread.run.step.cancelled",
    "thread.run.step.expired",
]
FULL = ["thread.run.step.in_progress", *TERMINAL]


# -- drivers -----------------------------------------------------------------------


def feed_deltas(acc, deltas, step_id="step_1"):
    for d in deltas:
        acc.feed(frame(DELTA, d))
    return acc.steps[step_id]


class Via:
    """Merges ``deltas`` into ``created`` one way; returns the merged snapshot."""

    def __init__(self, name):
        self.name = name
        self.module = None if name == "apply_delta" else load_impl(name)

    def __call__(self, created, deltas):
        if self.module is None:
            snapshot = stepwire.decode_step(to_json(created))
            result = stepwire.apply_delta(
                snapshot, [stepwire.decode_delta(to_json(d)) for d in deltas]
            )
            assert result is snapshot
            return snapshot
        acc = self.module.Accumulator()
        acc.feed(frame(CREATED, created))
        return feed_deltas(acc, deltas, created["id"])


@pytest.fixture(params=["python", "cython", "apply_delta"])
def merge(request):
    return Via(request.param)


def encoded(snapshot):
    return json.loads(stepwire.encode(snapshot))


def assert_round_trips(snapshot):
    body = stepwire.encode(snapshot)
    assert stepwire.decode_step(body) == snapshot
    assert not has_key(json.loads(body), "index")


def has_key(obj, key):
    if isinstance(obj, dict):
        return key in obj or any(has_key(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(has_key(v, key) for v in obj)
    return False


def fn_delta(index, step_id="step_1", **function):
    call = {"index": index, "type": "function", "function": function}
    if "id" in function:
        call["id"] = function.pop("id")
    return delta_object(tool_calls(call), step_id)


def first_fn_delta(index, call_id, name, step_id="step_1"):
    """The first delta of a function call, as the live API sends it."""
    call = {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": "", "output": None},
    }
    return delta_object(tool_calls(call), step_id)


def code_delta(index, **code):
    call = {"index": index, "type": "code_interpreter", "code_interpreter": code}
    if "id" in code:
        call["id"] = code.pop("id")
    return delta_object(tool_calls(call))


def calls_of(snapshot):
    return snapshot.step_details.tool_calls


def function_step(name, status="in_progress"):
    """A step with one function call ``call_1`` of ``name``, arguments ``{}``, output null."""
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": name, "arguments": "{}", "output": None},
    }
    return step_object(tool_calls(call), status=status)


EMPTY = step_object(tool_calls())


# -- full objects ---------------------------------------------------------------------


def test_created_stores_the_snapshot(impl):
    acc = impl.Accumulator()
    body = function_step("f")
    acc.feed(frame(CREATED, body))
    assert list(acc.steps) == ["step_1"]
    assert len(acc.steps) == 1
    assert "step_1" in acc.steps
    assert encoded(acc.steps["step_1"]) == body
    assert dict(acc.pending) == {}


@pytest.mark.parametrize("event", FULL)
def test_full_object_replaces_the_snapshot(impl, event):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    feed_deltas(acc, [first_fn_delta(0, "call_1", "f"), fn_delta(0, arguments='{"a": 1}')])
    # The server's object wins even where it disagrees with the merged deltas.
    server = step_object(
        tool_calls(
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "g", "arguments": '{"b": 2}', "output": "done"},
            }
        ),
        status=event.rsplit(".", 1)[1],
    )
    acc.feed(frame(event, server))
    assert encoded(acc.steps["step_1"]) == server
    # Deltas after the object merge into it, the server's object, not the merged deltas.
    # After a terminal event too: the live service sends such deltas (a function's
    # output after a tool approval), where stepwire used to refuse them.
    feed_deltas(acc, [fn_delta(0, arguments="!")])
    assert calls_of(acc.steps["step_1"])[0].function.arguments == '{"b": 2}!'
    assert acc.steps["step_1"].status == server["status"]


def test_terminal_event_for_a_step_never_created(impl):
    acc = impl.Accumulator()
    server = step_object(
        tool_calls(
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "f", "arguments": "{}", "output": "42"},
            }
        ),
        step_id="step_2",
        status="completed",
    )
    events = acc.feed(frame("thread.run.step.completed", server))
    assert [e.event for e in events] == ["thread.run.step.completed"]
    assert list(acc.steps) == ["step_2"]
    assert encoded(acc.steps["step_2"]) == server


def test_step_event_data_is_what_the_server_sent(impl):
    """Merging later deltas must not edit the object an earlier event carried."""
    acc = impl.Accumulator()
    events = acc.feed(frame(CREATED, EMPTY))
    feed_deltas(acc, [first_fn_delta(0, "call_1", "f"), fn_delta(0, arguments="{}")])
    assert encoded(events[0].data) == EMPTY
    assert events[0].data == stepwire.decode_step(events[0].raw)


# -- pending deltas ---------------------------------------------------------------------


@pytest.mark.parametrize("opening", [CREATED, "thread.run.step.in_progress"])
def test_deltas_before_the_step_are_pending_then_merged(impl, opening):
    acc = impl.Accumulator()
    deltas = [
        first_fn_delta(0, "call_1", "f"),
        fn_delta(0, arguments="{"),
        fn_delta(0, arguments="}"),
    ]
    for d in deltas:
        acc.feed(frame(DELTA, d))
    assert "step_1" not in acc.steps
    assert list(acc.steps) == []
    with pytest.raises(KeyError):
        acc.steps["step_1"]
    assert list(acc.pending) == ["step_1"]
    assert acc.pending["step_1"] == [stepwire.decode_delta(to_json(d)) for d in deltas]
    acc.feed(frame(opening, EMPTY))
    assert dict(acc.pending) == {}
    (call,) = calls_of(acc.steps["step_1"])
    assert (call.id, call.function.name, call.function.arguments) == ("call_1", "f", "{}")
    assert call.function.output is None


@pytest.mark.parametrize("terminal", TERMINAL)
def test_terminal_object_supersedes_pending_deltas(impl, terminal):
    acc = impl.Accumulator()
    feed_deltas_pending = [first_fn_delta(0, "call_1", "f"), fn_delta(0, arguments="{}")]
    for d in feed_deltas_pending:
        acc.feed(frame(DELTA, d))
    server = step_object(
        tool_calls(
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "f", "arguments": '{"x": 1}', "output": "ok"},
            }
        ),
        status="completed",
    )
    acc.feed(frame(terminal, server))
    assert dict(acc.pending) == {}
    assert encoded(acc.steps["step_1"]) == server


def test_pending_is_per_step(impl):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    acc.feed(frame(DELTA, first_fn_delta(0, "call_a", "a")))
    acc.feed(frame(DELTA, first_fn_delta(0, "call_b", "b", step_id="step_2")))
    assert list(acc.pending) == ["step_2"]
    assert list(acc.steps) == ["step_1"]
    assert calls_of(acc.steps["step_1"])[0].id == "call_a"


# -- tool calls by index ------------------------------------------------------------------


def test_parallel_calls_interleaved(merge):
    deltas = [
        first_fn_delta(0, "call_a", "alpha"),
        first_fn_delta(1, "call_b", "beta"),
        fn_delta(0, arguments='{"x"'),
        fn_delta(1, arguments='{"y"'),
        fn_delta(1, arguments=": 2}"),
        fn_delta(0, arguments=": 1}"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert [(c.id, c.function.name, c.function.arguments) for c in calls_of(snapshot)] == [
        ("call_a", "alpha", '{"x": 1}'),
        ("call_b", "beta", '{"y": 2}'),
    ]
    assert_round_trips(snapshot)


def test_calls_listed_in_index_order_never_duplicated(merge):
    deltas = [
        first_fn_delta(2, "call_2", "two"),
        first_fn_delta(0, "call_0", "zero"),
        fn_delta(2, arguments="[2"),
        fn_delta(0, arguments="[0"),
        first_fn_delta(1, "call_1", "one"),
        fn_delta(2, arguments="]"),
        fn_delta(1, arguments="[1]"),
        fn_delta(0, arguments="]"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert [(c.id, c.function.name, c.function.arguments) for c in calls_of(snapshot)] == [
        ("call_0", "zero", "[0]"),
        ("call_1", "one", "[1]"),
        ("call_2", "two", "[2]"),
    ]
    assert_round_trips(snapshot)


def test_deltas_merge_into_calls_the_server_listed(merge):
    created = step_object(
        tool_calls(
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "zero", "arguments": "{", "output": None},
            }
        )
    )
    snapshot = merge(created, [fn_delta(0, arguments="}"), first_fn_delta(1, "call_1", "one")])
    assert [(c.id, c.function.arguments) for c in calls_of(snapshot)] == [
        ("call_0", "{}"),
        ("call_1", ""),
    ]


def test_several_calls_in_one_delta(merge):
    both = delta_object(
        tool_calls(
            {"index": 1, "id": "call_1", "type": "function", "function": {"name": "b"}},
            {"index": 0, "id": "call_0", "type": "function", "function": {"name": "a"}},
            {"index": 1, "type": "function", "function": {"arguments": "{}"}},
        )
    )
    snapshot = merge(EMPTY, [both])
    assert [(c.id, c.function.name, c.function.arguments) for c in calls_of(snapshot)] == [
        ("call_0", "a", ""),
        ("call_1", "b", "{}"),
    ]


def test_new_call_has_empty_required_strings_and_no_output(merge):
    snapshot = merge(EMPTY, [fn_delta(0, arguments='{"q"')])
    (call,) = calls_of(snapshot)
    assert isinstance(call, stepwire.FunctionToolCall)
    assert (call.id, call.function.name, call.function.arguments) == ("", "", '{"q"')
    assert call.function.output is stepwire.UNSET
    assert encoded(snapshot)["step_details"]["tool_calls"] == [
        {"type": "function", "id": "", "function": {"name": "", "arguments": '{"q"'}}
    ]
    assert_round_trips(snapshot)


def test_output_null_stays_none_and_never_erases(merge):
    snapshot = merge(EMPTY, [first_fn_delta(0, "call_1", "f")])
    assert calls_of(snapshot)[0].function.output is None
    assert "output" in encoded(snapshot)["step_details"]["tool_calls"][0]["function"]
    snapshot = merge(
        EMPTY,
        [
            first_fn_delta(0, "call_1", "f"),
            fn_delta(0, output="4"),
            fn_delta(0, output=None, arguments=None, name=None),
            fn_delta(0, output="2"),
            fn_delta(0, output=None),
        ],
    )
    function = calls_of(snapshot)[0].function
    assert (function.name, function.arguments, function.output) == ("f", "", "42")
    assert_round_trips(snapshot)


def test_null_never_erases_a_value_the_server_sent(merge):
    created = step_object(
        tool_calls(
            {
                "id": "call_f",
                "type": "function",
                "function": {"name": "f", "arguments": "{}", "output": "out"},
            },
            {
                "id": "call_c",
                "type": "code_interpreter",
                "code_interpreter": {"input": "1", "outputs": []},
            },
            {"id": "call_b", "type": "browser", "browser": {"q": "a"}},
        )
    )
    deltas = [
        fn_delta(0, name=None, arguments=None, output=None),
        code_delta(1, input=None, outputs=None),
        delta_object(tool_calls({"index": 2, "type": "browser", "browser": {"q": None}})),
    ]
    snapshot = merge(created, deltas)
    assert encoded(snapshot) == created


def test_function_strings_concatenate(merge):
    snapshot = merge(
        EMPTY,
        [
            fn_delta(0, id="call_1", name="get_"),
            fn_delta(0, name="weather"),
            fn_delta(0, arguments='{"city": "'),
            fn_delta(0, arguments='M\u00fcnchen\\n"}'),
            fn_delta(0, output="21 "),
            fn_delta(0, output="\u00b0C"),
        ],
    )
    call = calls_of(snapshot)[0]
    assert call.id == "call_1"
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"city": "M\u00fcnchen\\n"}'
    assert call.function.output == "21 \u00b0C"


def test_id_is_replaced_not_concatenated(merge):
    snapshot = merge(EMPTY, [fn_delta(0, id="call_1"), fn_delta(0, id="call_1")])
    assert calls_of(snapshot)[0].id == "call_1"


def test_snapshot_read_between_deltas(impl):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    acc.feed(frame(DELTA, first_fn_delta(0, "call_1", "f")))
    seen = []
    text = ""
    for fragment in ["{", '"a"', ": ", "1", "}"]:
        acc.feed(frame(DELTA, fn_delta(0, arguments=fragment)))
        text += fragment
        first = acc.steps["step_1"]
        again = acc.steps["step_1"]
        assert first == again
        assert stepwire.encode(first) == stepwire.encode(again)
        seen.append(calls_of(first)[0].function.arguments)
        assert seen[-1] == text
    assert seen == ["{", '{"a"', '{"a": ', '{"a": 1', '{"a": 1}']
    assert_round_trips(acc.steps["step_1"])


def test_steps_interleaved(impl):
    ids = ["step_1", "step_12", "step_\u00e9", "step_\u00e8"]
    acc = impl.Accumulator()
    for step_id in ids:
        acc.feed(frame(CREATED, step_object(tool_calls(), step_id=step_id)))
        acc.feed(frame(DELTA, first_fn_delta(0, "call_" + step_id, "f", step_id=step_id)))
    for n in range(3):
        for step_id in ids:
            acc.feed(frame(DELTA, fn_delta(0, step_id, arguments=f"{step_id}:{n};")))
    for step_id in ids:
        (call,) = calls_of(acc.steps[step_id])
        assert call.id == "call_" + step_id
        assert call.function.arguments == "".join(f"{step_id}:{n};" for n in range(3))


# -- code interpreter -----------------------------------------------------------------------


def test_code_interpreter_input_and_outputs(merge):
    created = step_object(tool_calls())
    deltas = [
        code_delta(0, id="call_c", input="", outputs=[]),
        code_delta(0, input="import math\r\n"),
        code_delta(0, input="print(math.pi)"),
        code_delta(0, outputs=[{"index": 0, "type": "logs", "logs": "3.14"}]),
        code_delta(0, outputs=[{"index": 1, "type": "image", "image": {"file_id": "file-1"}}]),
        code_delta(0, outputs=[{"index": 0, "type": "logs", "logs": "159\n"}]),
    ]
    snapshot = merge(created, deltas)
    (call,) = calls_of(snapshot)
    assert isinstance(call, stepwire.CodeInterpreterToolCall)
    assert call.id == "call_c"
    assert call.code_interpreter.input == "import math\r\nprint(math.pi)"
    assert call.code_interpreter.outputs == [
        stepwire.CodeInterpreterLogOutput(logs="3.14159\n"),
        stepwire.CodeInterpreterImageOutput(image=stepwire.ImageFile(file_id="file-1")),
    ]
    assert_round_trips(snapshot)


def test_code_outputs_by_their_own_index(merge):
    deltas = [
        code_delta(0, id="call_c", input="x"),
        code_delta(0, outputs=[{"index": 1, "type": "logs", "logs": "b"}]),
        code_delta(0, outputs=[{"index": 0, "type": "image", "image": {"file_id": "f"}}]),
        code_delta(
            0,
            outputs=[
                {"index": 1, "type": "logs", "logs": "c"},
                {"index": 2, "type": "logs", "logs": "d"},
            ],
        ),
        code_delta(0, outputs=[{"index": 1, "type": "logs", "logs": None}]),
    ]
    snapshot = merge(EMPTY, deltas)
    outputs = encoded(snapshot)["step_details"]["tool_calls"][0]["code_interpreter"]["outputs"]
    assert outputs == [
        {"type": "image", "image": {"file_id": "f"}},
        {"type": "logs", "logs": "bc"},
        {"type": "logs", "logs": "d"},
    ]
    assert_round_trips(snapshot)


def test_code_outputs_merge_into_the_server_list(merge):
    created = step_object(
        tool_calls(
            {
                "id": "call_c",
                "type": "code_interpreter",
                "code_interpreter": {"input": "1+1", "outputs": [{"type": "logs", "logs": "2"}]},
            }
        )
    )
    snapshot = merge(
        created,
        [
            code_delta(0, outputs=[{"index": 0, "type": "logs", "logs": "\n"}]),
            code_delta(0, outputs=[{"index": 1, "type": "logs", "logs": "!"}]),
        ],
    )
    call = calls_of(snapshot)[0]
    assert [o.logs for o in call.code_interpreter.outputs] == ["2\n", "!"]


def test_unknown_output_type_survives(merge):
    deltas = [
        code_delta(0, id="call_c", input=""),
        code_delta(0, outputs=[{"index": 0, "type": "chart", "title": "Sales", "points": [1]}]),
        code_delta(0, outputs=[{"index": 0, "type": "chart", "title": " 2024", "points": [2]}]),
    ]
    snapshot = merge(EMPTY, deltas)
    (output,) = calls_of(snapshot)[0].code_interpreter.outputs
    assert isinstance(output, stepwire.UnknownOutput)
    assert dict(output) == {"type": "chart", "title": "Sales 2024", "points": [1, 2]}
    assert_round_trips(snapshot)


# -- file search ------------------------------------------------------------------------------


def result(n):
    return {"file_id": f"file-{n}", "file_name": f"doc{n}.pdf", "score": n / 10, "attributes": {}}


def test_file_search_merges(merge):
    created = step_object(
        tool_calls(
            {
                "id": "call_fs",
                "type": "file_search",
                "file_search": {
                    "ranking_options": {"ranker": "auto", "score_threshold": 0.0},
                    "results": [result(1)],
                },
            }
        )
    )
    deltas = [
        delta_object(
            tool_calls(
                {
                    "index": 0,
                    "type": "file_search",
                    "file_search": {
                        "ranking_options": {"ranker": "default-2024-08-21", "score_threshold": 0.5},
                        "results": [result(2)],
                    },
                }
            )
        ),
        delta_object(
            tool_calls({"index": 0, "type": "file_search", "file_search": {"results": [result(3)]}})
        ),
        delta_object(
            tool_calls({"index": 0, "type": "file_search", "file_search": {"results": []}})
        ),
    ]
    snapshot = merge(created, deltas)
    file_search = encoded(snapshot)["step_details"]["tool_calls"][0]["file_search"]
    assert file_search == {
        "ranking_options": {"ranker": "default-2024-08-21", "score_threshold": 0.5},
        "results": [result(1), result(2), result(3)],
    }
    assert_round_trips(snapshot)


def test_file_search_call_created_by_a_delta(merge):
    deltas = [
        delta_object(
            tool_calls({"index": 0, "id": "call_fs", "type": "file_search", "file_search": {}})
        ),
        delta_object(
            tool_calls(
                {
                    "index": 0,
                    "type": "file_search",
                    "file_search": {
                        "ranking_options": {"ranker": "auto", "score_threshold": 0.0},
                        "results": [],
                    },
                }
            )
        ),
    ]
    snapshot = merge(EMPTY, deltas)
    assert encoded(snapshot)["step_details"]["tool_calls"] == [
        {
            "type": "file_search",
            "id": "call_fs",
            "file_search": {
                "ranking_options": {"ranker": "auto", "score_threshold": 0.0},
                "results": [],
            },
        }
    ]


def test_merging_does_not_edit_the_delta_events(impl):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    bodies = [
        delta_object(
            tool_calls(
                {"index": 0, "id": "c", "type": "file_search", "file_search": {"results": []}}
            )
        ),
        delta_object(
            tool_calls({"index": 0, "type": "file_search", "file_search": {"results": [result(1)]}})
        ),
        code_delta(1, id="c1", input="a", outputs=[{"index": 0, "type": "logs", "logs": "x"}]),
        code_delta(1, input="b", outputs=[{"index": 0, "type": "logs", "logs": "y"}]),
    ]
    events = [e for body in bodies for e in acc.feed(frame(DELTA, body))]
    acc.steps["step_1"]
    for event, body in zip(events, bodies, strict=True):
        assert event.data == stepwire.decode_delta(to_json(body))


# -- unknown tool types -----------------------------------------------------------------------


def test_unknown_tool_type_created_and_merged(merge):
    deltas = [
        first_fn_delta(0, "call_f", "f"),
        delta_object(
            tool_calls(
                {
                    "index": 1,
                    "id": "call_b",
                    "type": "browser",
                    "browser": {"url": "https://", "actions": [{"kind": "open"}], "status": None},
                }
            )
        ),
        delta_object(
            tool_calls(
                {
                    "index": 1,
                    "type": "browser",
                    "browser": {"url": "example.com/", "actions": [{"kind": "read"}]},
                }
            )
        ),
        delta_object(
            tool_calls(
                {
                    "index": 1,
                    "type": "browser",
                    "browser": {"url": "\u00e9t\u00e9", "status": "done", "pages": 2},
                }
            )
        ),
        delta_object(tool_calls({"index": 1, "type": "browser", "browser": {"status": None}})),
    ]
    snapshot = merge(EMPTY, deltas)
    calls = calls_of(snapshot)
    assert isinstance(calls[0], stepwire.FunctionToolCall)
    browser = calls[1]
    assert isinstance(browser, stepwire.UnknownToolCall)
    assert (browser.type, browser.id) == ("browser", "call_b")
    assert encoded(snapshot)["step_details"]["tool_calls"][1] == {
        "type": "browser",
        "id": "call_b",
        "browser": {
            "url": "https://example.com/\u00e9t\u00e9",
            "actions": [{"kind": "open"}, {"kind": "read"}],
            "status": "done",
            "pages": 2,
        },
    }
    assert_round_trips(snapshot)
    assert isinstance(calls_of(stepwire.decode_step(stepwire.encode(snapshot)))[1], type(browser))


def test_unknown_tool_call_from_the_server_merges(merge):
    created = step_object(tool_calls({"id": "call_b", "type": "browser", "browser": {}}))
    deltas = [
        delta_object(tool_calls({"index": 0, "type": "browser", "browser": {"q": "a"}})),
        delta_object(tool_calls({"index": 0, "type": "browser", "browser": {"q": "b"}})),
    ]
    snapshot = merge(created, deltas)
    assert dict(calls_of(snapshot)[0]) == {
        "id": "call_b",
        "type": "browser",
        "browser": {"q": "ab"},
    }


def test_unknown_step_details_merge(merge):
    created = step_object({"type": "reasoning", "summary": "Think", "parts": []})
    deltas = [
        delta_object({"type": "reasoning", "summary": "ing", "parts": [{"index": 0, "text": "a"}]}),
        delta_object({"type": "reasoning", "parts": [{"index": 0, "text": "b"}]}),
    ]
    snapshot = merge(created, deltas)
    assert isinstance(snapshot.step_details, stepwire.UnknownStepDetails)
    assert dict(snapshot.step_details) == {
        "type": "reasoning",
        "summary": "Thinking",
        "parts": [{"text": "ab"}],
    }
    assert_round_trips(snapshot)


def test_unknown_step_details_merge_built_by_hand():
    # The same merge without decoding the delta (see test_unknown_step_details_merge).
    snapshot = stepwire.decode_step(
        to_json(step_object({"type": "reasoning", "summary": "Think", "parts": []}))
    )
    deltas = [
        stepwire.RunStepDeltaEvent(
            id="step_1",
            object="thread.run.step.delta",
            delta=stepwire.RunStepDelta(step_details=stepwire.UnknownStepDetailsDelta(details)),
        )
        for details in [
            {"type": "reasoning", "summary": "ing", "parts": [{"index": 0, "text": "a"}]},
            {"type": "reasoning", "parts": [{"index": 0, "text": "b"}], "extra": None},
        ]
    ]
    stepwire.apply_delta(snapshot, deltas)
    assert dict(snapshot.step_details) == {
        "type": "reasoning",
        "summary": "Thinking",
        "parts": [{"text": "ab"}],
        "extra": None,
    }
    assert_round_trips(snapshot)


def test_message_creation_delta(merge):
    created = step_object({"type": "message_creation", "message_creation": {"message_id": "m"}})
    snapshot = merge(
        created,
        [delta_object({"type": "message_creation", "message_creation": {"message_id": "msg_2"}})],
    )
    assert snapshot.step_details.message_creation.message_id == "msg_2"


# -- errors -----------------------------------------------------------------------------------


MISMATCHES = {
    "other-tool-type": delta_object(
        tool_calls({"index": 0, "type": "code_interpreter", "code_interpreter": {"input": "x"}})
    ),
    "other-type-in-a-batch": delta_object(
        tool_calls(
            {"index": 1, "id": "call_1", "type": "function", "function": {"name": "new"}},
            {"index": 0, "type": "function", "function": {"arguments": "more"}},
            {"index": 1, "type": "file_search", "file_search": {}},
        )
    ),
    "unknown-type-at-known-index": delta_object(
        tool_calls({"index": 0, "type": "browser", "browser": {}})
    ),
    "other-step-details": delta_object(
        {"type": "message_creation", "message_creation": {"message_id": "m"}}
    ),
    "negative-index": delta_object(
        tool_calls({"index": -1, "type": "function", "function": {"arguments": "x"}})
    ),
    # One call so far: index 1 + 1024 is the farthest a new call may open.
    "index-too-far-past-the-end": delta_object(
        tool_calls({"index": 1026, "type": "function", "function": {"arguments": "x"}})
    ),
    "index-past-the-limit": delta_object(
        tool_calls({"index": 65_536, "type": "function", "function": {"arguments": "x"}})
    ),
    "index-past-the-limit-in-an-unknown-call": delta_object(
        tool_calls(
            {"index": 1, "type": "browser", "browser": {"pages": [{"index": 65_536, "u": "x"}]}}
        )
    ),
}


def _started(acc):
    acc.feed(frame(CREATED, EMPTY))
    acc.feed(frame(DELTA, first_fn_delta(0, "call_0", "f")))
    acc.feed(frame(DELTA, fn_delta(0, arguments="{")))
    return stepwire.encode(acc.steps["step_1"])


@pytest.mark.parametrize("bad", MISMATCHES.values(), ids=MISMATCHES.keys())
def test_mismatched_delta_raises_and_changes_nothing(impl, bad):
    acc = impl.Accumulator()
    before = _started(acc)
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(frame(DELTA, bad))
    assert info.value.event == DELTA
    assert stepwire.encode(acc.steps["step_1"]) == before
    # The accumulator goes on.
    acc.feed(frame(DELTA, fn_delta(0, arguments="}")))
    assert calls_of(acc.steps["step_1"])[0].function.arguments == "{}"


@pytest.mark.parametrize("bad", MISMATCHES.values(), ids=MISMATCHES.keys())
def test_mismatched_delta_raises_in_apply_delta(bad):
    snapshot = stepwire.decode_step(to_json(EMPTY))
    stepwire.apply_delta(
        snapshot,
        [
            stepwire.decode_delta(to_json(first_fn_delta(0, "call_0", "f"))),
            stepwire.decode_delta(to_json(fn_delta(0, arguments="{"))),
        ],
    )
    before = stepwire.encode(snapshot)
    with pytest.raises(stepwire.StreamError):
        stepwire.apply_delta(snapshot, stepwire.decode_delta(to_json(bad)))
    assert stepwire.encode(snapshot) == before


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"function": {"name": "f", "arguments": "a"}}, {"function": {"arguments": "b"}}),
        ({"code_interpreter": {"input": "a"}}, {"code_interpreter": {"input": "b"}}),
    ],
    ids=["function", "code_interpreter"],
)
def test_known_delta_at_an_unknown_call_holding_the_same_field(impl, payload, fragment):
    """An unknown call type that happens to carry a ``function`` (or ``code_interpreter``)
    object: a function delta at its index is still a type change, refused."""
    kind = next(iter(fragment))
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, step_object(tool_calls({"id": "call_p", "type": "plugin", **payload}))))
    feed_deltas(acc, [delta_object(tool_calls({"index": 0, "type": "plugin", **fragment}))])
    before = stepwire.encode(acc.steps["step_1"])
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(frame(DELTA, delta_object(tool_calls({"index": 0, "type": kind, **fragment}))))
    assert info.value.event == DELTA
    assert stepwire.encode(acc.steps["step_1"]) == before


# Errors found only while merging (not by the up-front type check). The same
# promise holds: the error names the event and the snapshot is unchanged.
DEEP = {
    "output-of-another-type": [
        code_delta(0, id="c", input="x", outputs=[{"index": 0, "type": "logs", "logs": "a"}]),
        code_delta(
            0, input="YY", outputs=[{"index": 0, "type": "image", "image": {"file_id": "f"}}]
        ),
    ],
    "negative-output-index": [
        code_delta(0, id="c", input="x"),
        code_delta(0, input="YY", outputs=[{"index": -1, "type": "logs", "logs": "a"}]),
    ],
    "output-index-too-far-past-the-end": [
        code_delta(0, id="c", input="x", outputs=[{"index": 0, "type": "logs", "logs": "a"}]),
        code_delta(0, input="YY", outputs=[{"index": 1026, "type": "logs", "logs": "a"}]),
    ],
    "output-index-past-the-limit": [
        code_delta(0, id="c", input="x"),
        code_delta(0, input="YY", outputs=[{"index": 70_000, "type": "logs", "logs": "a"}]),
    ],
    # (A new call missing a required field of another kind than string, list, map or
    # object was refused here too; it is now created with the field absent: see
    # test_a_new_call_leaves_a_required_field_it_cannot_fill_absent.)
}


@pytest.mark.parametrize("deltas", DEEP.values(), ids=DEEP.keys())
def test_error_while_merging_names_the_event(impl, deltas):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    *good, bad = deltas
    feed_deltas(acc, good)
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(frame(DELTA, bad))
    assert info.value.event == DELTA


@pytest.mark.parametrize("deltas", DEEP.values(), ids=DEEP.keys())
def test_error_while_merging_changes_nothing(impl, deltas):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    *good, bad = deltas
    before = stepwire.encode(feed_deltas(acc, good))
    with pytest.raises(stepwire.StreamError):
        acc.feed(frame(DELTA, bad))
    assert stepwire.encode(acc.steps["step_1"]) == before


def test_index_limits_are_inclusive(impl):
    """The farthest index each limit allows is merged: calls, outputs, unknown lists."""
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    feed_deltas(
        acc,
        [
            first_fn_delta(0, "call_0", "f"),
            # One call: 1 + 1024 is allowed, and each call opened counts for the next.
            delta_object(
                tool_calls(
                    {
                        "index": 1025,
                        "id": "c1",
                        "type": "code_interpreter",
                        "code_interpreter": {"input": "x"},
                    },
                    {
                        "index": 1026,
                        "id": "c2",
                        "type": "code_interpreter",
                        "code_interpreter": {
                            "outputs": [
                                {"index": 1024, "type": "logs", "logs": "a"},
                                {"index": 1025, "type": "logs", "logs": "b"},
                            ]
                        },
                    },
                )
            ),
            delta_object(
                tool_calls(
                    {
                        "index": 1027,
                        "type": "browser",
                        "browser": {"pages": [{"index": 65_535, "u": "x"}]},
                    }
                )
            ),
        ],
    )
    calls = calls_of(acc.steps["step_1"])
    assert [c.type for c in calls] == [
        "function",
        "code_interpreter",
        "code_interpreter",
        "browser",
    ]
    assert [o.logs for o in calls[2].code_interpreter.outputs] == ["a", "b"]
    assert calls[3]["browser"]["pages"] == [{"u": "x"}]


def test_index_limit_errors_say_which_limit(impl):
    acc = impl.Accumulator()
    _started(acc)
    with pytest.raises(stepwire.StreamError, match=r"1026 is more than 1024 past the end"):
        acc.feed(frame(DELTA, MISMATCHES["index-too-far-past-the-end"]))
    with pytest.raises(stepwire.StreamError, match=r"65536 is past the limit \(65535\)"):
        acc.feed(frame(DELTA, MISMATCHES["index-past-the-limit"]))


# -- apply_delta ---------------------------------------------------------------------------


DELTAS = [
    first_fn_delta(0, "call_0", "f"),
    first_fn_delta(1, "call_1", "g"),
    fn_delta(1, arguments="[1"),
    fn_delta(0, arguments="[0]"),
    fn_delta(1, arguments="]"),
]


def decoded_deltas():
    return [stepwire.decode_delta(to_json(d)) for d in DELTAS]


def test_apply_delta_one_at_a_time_equals_all_at_once():
    whole = stepwire.decode_step(to_json(EMPTY))
    assert stepwire.apply_delta(whole, decoded_deltas()) is whole
    single = stepwire.decode_step(to_json(EMPTY))
    for d in decoded_deltas():
        assert stepwire.apply_delta(single, d) is single
    generated = stepwire.decode_step(to_json(EMPTY))
    stepwire.apply_delta(generated, (d for d in decoded_deltas()))
    assert stepwire.encode(whole) == stepwire.encode(single) == stepwire.encode(generated)
    assert [c.function.arguments for c in calls_of(whole)] == ["[0]", "[1]"]


def test_apply_delta_matches_the_accumulator(impl):
    snapshot = stepwire.apply_delta(stepwire.decode_step(to_json(EMPTY)), decoded_deltas())
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    assert stepwire.encode(feed_deltas(acc, DELTAS)) == stepwire.encode(snapshot)


def test_apply_delta_empty_iterable():
    snapshot = stepwire.decode_step(to_json(EMPTY))
    assert stepwire.apply_delta(snapshot, []) is snapshot
    assert encoded(snapshot) == EMPTY


def test_apply_delta_of_another_step():
    snapshot = stepwire.decode_step(to_json(EMPTY))
    other = stepwire.decode_delta(to_json(first_fn_delta(0, "call_0", "f", step_id="step_2")))
    with pytest.raises(stepwire.StreamError):
        stepwire.apply_delta(snapshot, other)
    with pytest.raises(stepwire.StreamError):
        stepwire.apply_delta(snapshot, [decoded_deltas()[0], other])
    assert encoded(snapshot) != EMPTY  # the delta before the bad one was applied
    assert calls_of(snapshot)[0].id == "call_0"


@pytest.mark.parametrize(
    ("snapshot", "delta"),
    [
        (to_json(EMPTY), DELTAS[0]),
        (EMPTY, DELTAS[0]),
        (None, DELTAS[0]),
        ("step", DELTAS[0]),
        (stepwire.decode_step(to_json(EMPTY)), DELTAS[0]),  # a dict, not a delta event
        (stepwire.decode_step(to_json(EMPTY)), to_json(DELTAS[0])),
        (stepwire.decode_step(to_json(EMPTY)), "delta"),
        (stepwire.decode_step(to_json(EMPTY)), 5),
        (stepwire.decode_step(to_json(EMPTY)), None),
        (stepwire.decode_step(to_json(EMPTY)), [DELTAS[0]]),
        (stepwire.decode_step(to_json(EMPTY)), stepwire.decode_step(to_json(EMPTY))),
    ],
    ids=[
        "bytes-snapshot",
        "dict-snapshot",
        "none-snapshot",
        "str-snapshot",
        "dict-delta",
        "bytes-delta",
        "str-delta",
        "int-delta",
        "none-delta",
        "list-of-dicts",
        "step-as-delta",
    ],
)
def test_apply_delta_type_errors(snapshot, delta):
    with pytest.raises(TypeError):
        stepwire.apply_delta(snapshot, delta)


# -- max_steps -----------------------------------------------------------------------------

COMPLETED = "thread.run.step.completed"


def _step(acc, step_id, event=CREATED):
    status = "completed" if event == COMPLETED else "in_progress"
    acc.feed(frame(event, step_object(tool_calls(), step_id=step_id, status=status)))


def test_max_steps_drops_finished_steps_first(impl):
    acc = impl.Accumulator(max_steps=3)
    _step(acc, "a")  # never finishes
    for step_id in ("b", "c"):
        _step(acc, step_id)
        _step(acc, step_id, COMPLETED)
    _step(acc, "d")
    assert list(acc.steps) == ["a", "c", "d"]  # b finished first
    _step(acc, "c", CREATED)  # c is open again: no longer finished
    _step(acc, "e")
    assert list(acc.steps) == ["c", "d", "e"]  # none finished: the oldest (a) goes
    assert acc.steps["e"].id == "e"


def test_max_steps_counts_steps_known_only_by_their_deltas(impl):
    acc = impl.Accumulator(max_steps=2)
    for step_id in ("x", "y", "z"):
        acc.feed(frame(DELTA, first_fn_delta(0, "call_0", "f", step_id=step_id)))
    assert list(acc.pending) == ["y", "z"]
    assert len(acc.steps) == 0


def test_a_dropped_step_is_forgotten_even_mid_stream(impl):
    """The compiled build remembers the step of the last delta; dropping it must not
    leave later fragments going into a state the accumulator no longer has."""
    acc = impl.Accumulator(max_steps=1)
    acc.feed(frame(CREATED, EMPTY))
    feed_deltas(acc, [first_fn_delta(0, "call_0", "f"), fn_delta(0, arguments="{")])
    _step(acc, "other")  # step_1 never finished: it is dropped
    acc.feed(frame(DELTA, fn_delta(0, arguments="}")))
    assert list(acc.steps) == []
    assert [d.id for d in acc.pending["step_1"]] == ["step_1"]
    assert "other" not in acc.steps  # dropped in turn by step_1's delta


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-1, ValueError), ("10", TypeError), (2.0, TypeError), (True, TypeError)],
)
def test_max_steps_must_be_a_positive_int(impl, value, error):
    with pytest.raises(error, match="max_steps"):
        impl.Accumulator(max_steps=value)


def test_max_steps_is_keyword_only(impl):
    with pytest.raises(TypeError):
        impl.Accumulator(10)


# -- after the end of a step ---------------------------------------------------------------


def test_delta_after_terminal_merges_into_the_final_object_on_both_paths(impl):
    """Fragments for a call the step already had are the compiled build's fast path. After
    a terminal event the snapshot is the server's object and has no fragment lists yet:
    the first delta goes through the shared merge, which sets them up, and the next ones
    take the fast path. Both builds merge them all, in order. (They were refused, with
    the snapshot left as the server's final object, before the live service was seen to
    send such deltas.)"""
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    feed_deltas(acc, [first_fn_delta(0, "call_1", "f"), fn_delta(0, arguments="{")])
    final = function_step("f", status="completed")
    acc.feed(frame(COMPLETED, final))
    for fragment in ["x", "y", "z"]:
        (event,) = acc.feed(frame(DELTA, fn_delta(0, arguments=fragment)))
        assert event.event == DELTA
    snapshot = acc.steps["step_1"]
    assert calls_of(snapshot)[0].function.arguments == "{}xyz"
    assert snapshot.status == "completed"
    # A later opening object still replaces the snapshot; deltas merge into it.
    acc.feed(frame(CREATED, final))
    feed_deltas(acc, [fn_delta(0, arguments="x")])
    assert calls_of(acc.steps["step_1"])[0].function.arguments == "{}x"


def test_output_after_the_completed_event_as_in_a_tool_approval(impl):
    """The approval flow: completed with the function's output null, then deltas carrying
    the output. The server's object takes them; nothing else of it changes."""
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    final = function_step("send", status="completed")
    acc.feed(frame(COMPLETED, final))
    for piece in ['{"status": ', '"sent"}']:
        acc.feed(frame(DELTA, fn_delta(0, output=piece)))
    expected = json.loads(json.dumps(final))
    expected["step_details"]["tool_calls"][0]["function"]["output"] = '{"status": "sent"}'
    assert encoded(acc.steps["step_1"]) == expected


def test_a_step_that_ended_stays_finished_for_the_step_table(impl):
    """A delta after the terminal event merges, but the step is still the one that finished
    first when the table must make room."""
    acc = impl.Accumulator(max_steps=2)
    _step(acc, "b")  # the oldest, never finished
    _step(acc, "a")
    _step(acc, "a", COMPLETED)
    acc.feed(frame(DELTA, first_fn_delta(0, "call_0", "f", step_id="a")))
    assert calls_of(acc.steps["a"])[0].function.name == "f"
    _step(acc, "c")  # room for c: a (finished, even with a delta since) goes, not b
    assert list(acc.steps) == ["b", "c"]


def test_terminal_then_delta_in_one_chunk_merges_both(impl):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    done = step_object(tool_calls(), status="cancelled")
    chunk = frame(COMPLETED, done) + frame(DELTA, fn_delta(0, name="f")) + frame("ping", {})
    assert [e.event for e in acc.feed(chunk)] == [COMPLETED, DELTA, "ping"]
    snapshot = acc.steps["step_1"]
    assert snapshot.status == "cancelled"
    assert [c.function.name for c in calls_of(snapshot)] == ["f"]


def test_apply_delta_does_not_look_at_the_status():
    """apply_delta has no events to go by: the caller decides what is final."""
    step = stepwire.decode_step(to_json(step_object(tool_calls(), status="completed")))
    stepwire.apply_delta(step, stepwire.decode_delta(to_json(first_fn_delta(0, "c", "f"))))
    assert calls_of(step)[0].function.name == "f"


def test_apply_delta_one_at_a_time_with_calls_opened_out_of_order():
    """Call 1 opened before call 0: the next call must still find each by its index."""
    from stepwire import _merge

    deltas = [
        fn_delta(2, id="c2", name="c"),
        fn_delta(1, id="c1", name="b"),
        fn_delta(2, arguments="{2}"),
        fn_delta(0, id="c0", name="a"),
        fn_delta(1, arguments="{1}"),
    ]
    at_once = stepwire.decode_step(to_json(EMPTY))
    stepwire.apply_delta(at_once, [stepwire.decode_delta(to_json(d)) for d in deltas])
    one_by_one = stepwire.decode_step(to_json(EMPTY))
    for d in deltas:
        stepwire.apply_delta(one_by_one, stepwire.decode_delta(to_json(d)))
    assert one_by_one == at_once
    assert [(c.id, c.function.arguments) for c in calls_of(one_by_one)] == [
        ("c0", ""),
        ("c1", "{1}"),
        ("c2", "{2}"),
    ]
    # What the next call needs travels with the snapshot, in its list, not in a registry:
    # the list still encodes, compares and pickles as the list it is.
    calls = one_by_one.step_details.tool_calls
    assert type(calls) is _merge.IndexedList
    assert calls.indexes == [0, 1, 2]
    assert calls == list(calls)
    assert pickle.loads(pickle.dumps(calls)).indexes == [0, 1, 2]
    assert stepwire.encode(one_by_one) == stepwire.encode(copy.deepcopy(one_by_one))
    assert not [name for name in vars(_merge) if name.isupper() and name.startswith("_IND")]
    # A list filled in order stays a plain list.
    in_order = stepwire.decode_step(to_json(EMPTY))
    stepwire.apply_delta(in_order, stepwire.decode_delta(to_json(fn_delta(0, name="x"))))
    assert type(in_order.step_details.tool_calls) is list


def test_step_merger_keeps_its_state_between_deltas():
    step = stepwire.decode_step(to_json(EMPTY))
    merger = stepwire.StepMerger(step)
    for d in [fn_delta(1, id="c1", name="b"), fn_delta(0, id="c0", name="a")]:
        merger.apply(stepwire.decode_delta(to_json(d)))
    merger.apply(stepwire.decode_delta(to_json(fn_delta(1, arguments="{1}"))))
    assert merger.snapshot is step
    assert [(c.id, c.function.arguments) for c in calls_of(step)] == [("c0", ""), ("c1", "{1}")]
    with pytest.raises(stepwire.StreamError, match="delta for step 'other'") as info:
        merger.apply(stepwire.decode_delta(to_json(delta_object(tool_calls(), "other"))))
    assert (info.value.event, info.value.events) == (None, [])
    with pytest.raises(TypeError):
        stepwire.StepMerger("not a step")  # type: ignore[arg-type]


def test_apply_delta_code_outputs_opened_out_of_order_one_at_a_time():
    deltas = [
        code_delta(0, id="ci", input="x"),
        code_delta(0, outputs=[{"index": 1, "type": "logs", "logs": "B"}]),
        code_delta(0, outputs=[{"index": 0, "type": "logs", "logs": "A"}]),
        code_delta(0, outputs=[{"index": 1, "type": "logs", "logs": "b"}]),
    ]
    step = stepwire.decode_step(to_json(EMPTY))
    for d in deltas:
        stepwire.apply_delta(step, stepwire.decode_delta(to_json(d)))
    outputs = calls_of(step)[0].code_interpreter.outputs
    assert [o.logs for o in outputs] == ["A", "Bb"]


def test_a_kept_delta_refused_when_its_step_opens(impl):
    """The opening event is delivered (with the error), the other kept deltas merged."""
    acc = impl.Accumulator()
    kept = [
        first_fn_delta(0, "call_0", "f"),
        code_delta(0, input="x"),  # another type at index 0: refused at opening
        fn_delta(0, arguments="{}"),
    ]
    for d in kept:
        acc.feed(frame(DELTA, d))
    with pytest.raises(stepwire.StreamError, match=r"1 of the 3 deltas kept") as info:
        acc.feed(frame(CREATED, EMPTY) + frame("after", {}))
    assert info.value.event == DELTA
    assert [e.event for e in info.value.events] == [CREATED]
    assert info.value.events[0].data == stepwire.decode_step(to_json(EMPTY))
    call = calls_of(acc.steps["step_1"])[0]
    assert (call.type, call.function.name, call.function.arguments) == ("function", "f", "{}")
    assert dict(acc.pending) == {}
    assert [e.event for e in acc.feed(b"")] == ["after"]


# -- open maps: merged the way the server builds them ----------------------------------------
#
# Azure's tool payloads (bing_grounding, fabric_dataagent, ...) are open maps. The service
# streams them like any object: strings in fragments, nulls then values, nested objects key
# by key. They used to take the delta's keys, the last fragment winning.


def map_delta(kind, at=0, call_id=None, **payload):
    call = {"index": at, "type": kind, kind: payload}
    if call_id is not None:
        call["id"] = call_id
    return delta_object(tool_calls(call))


def payload_of(snapshot, index=0):
    return encoded(snapshot)["step_details"]["tool_calls"][index]


def test_map_strings_concatenate(merge):
    question = ["What ", "were ", "sales ", "in ", "Q3 ", "for ", "the ", "north?"]
    deltas = [map_delta("fabric_dataagent", call_id="call_f", input=None, output=None)]
    deltas += [map_delta("fabric_dataagent", input=piece) for piece in question]
    deltas += [
        map_delta("fabric_dataagent", output="1.2M "),
        map_delta("fabric_dataagent", output="EUR"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert payload_of(snapshot) == {
        "type": "fabric_dataagent",
        "id": "call_f",
        "fabric_dataagent": {"input": "".join(question), "output": "1.2M EUR"},
    }
    assert_round_trips(snapshot)


def test_map_strings_are_fragment_lists_until_read():
    """Map strings go through the fragment buffers like typed ones: not joined per delta."""
    from stepwire import _merge

    state = _merge.StepState()
    state.reset(stepwire.decode_step(to_json(EMPTY)))
    deltas = [map_delta("bing_grounding", call_id="c", requesturl="")]
    deltas += [map_delta("bing_grounding", requesturl=c) for c in "https://x"]
    for d in deltas:
        _merge.merge_delta(state, stepwire.decode_delta(to_json(d)))
    # The opening "", then one fragment per delta: nothing joined yet.
    assert state.bufs[(0, "bing_grounding", "requesturl")] == ["", *"https://x"]
    state.flush()
    assert state.snapshot.step_details.tool_calls[0].bing_grounding == {"requesturl": "https://x"}


def test_map_null_then_value_and_value_then_null(merge):
    deltas = [
        map_delta("bing_grounding", call_id="c", requesturl="", response_metadata=None),
        map_delta("bing_grounding", response_metadata="{'market': "),
        map_delta("bing_grounding", response_metadata="'en-US'}"),
        map_delta("bing_grounding", response_metadata=None, requesturl=None, absent=None),
        map_delta("bing_grounding", requesturl="https://api.bing.microsoft.com/"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert payload_of(snapshot)["bing_grounding"] == {
        "requesturl": "https://api.bing.microsoft.com/",
        "response_metadata": "{'market': 'en-US'}",
        "absent": None,
    }


def test_map_nested_objects_lists_and_scalars(merge):
    deltas = [
        map_delta("azure_ai_search", call_id="c", input="q", output=None),
        map_delta("azure_ai_search", meta={"source": "we", "hits": [1], "n": 1}),
        map_delta("azure_ai_search", meta={"source": "b", "hits": [2], "n": 2, "ok": True}),
        map_delta("azure_ai_search", chunks=[{"index": 0, "text": "a"}]),
        map_delta("azure_ai_search", chunks=[{"index": 1, "text": "c"}, {"index": 0, "text": "b"}]),
        map_delta("azure_ai_search", meta={"n": None, "deeper": {"x": "1"}}),
        map_delta("azure_ai_search", meta={"deeper": {"x": "2"}}),
    ]
    snapshot = merge(EMPTY, deltas)
    assert payload_of(snapshot)["azure_ai_search"] == {
        "input": "q",
        "output": None,
        "meta": {"source": "web", "hits": [1, 2], "n": 2, "ok": True, "deeper": {"x": "12"}},
        "chunks": [{"text": "ab"}, {"text": "c"}],
    }


def test_map_from_the_server_merges(merge):
    created = step_object(
        tool_calls(
            {
                "id": "call_s",
                "type": "sharepoint_grounding",
                "sharepoint_grounding": {"input": "hand", "output": None},
            }
        )
    )
    deltas = [
        map_delta("sharepoint_grounding", input="book"),
        map_delta("sharepoint_grounding", output="page 4"),
    ]
    snapshot = merge(created, deltas)
    assert payload_of(snapshot)["sharepoint_grounding"] == {"input": "handbook", "output": "page 4"}


def test_index_is_a_key_like_any_other_in_a_map(merge):
    """Only an indexed list's item (and a tool-call delta itself) has ``index`` as its place;
    inside a map it is data, merged as any key."""
    deltas = [
        map_delta("bing_custom_search", call_id="c", index="a", meta={"index": 1}),
        map_delta("bing_custom_search", index="b", meta={"index": 2}),
        delta_object(
            tool_calls(
                {"index": 1, "id": "u", "type": "browser", "browser": {"index": "x", "p": []}}
            )
        ),
        delta_object(
            tool_calls(
                {
                    "index": 1,
                    "type": "browser",
                    "browser": {"index": "y", "p": [{"index": 0, "v": {"index": 7}}]},
                }
            )
        ),
    ]
    snapshot = merge(EMPTY, deltas)
    assert payload_of(snapshot)["bing_custom_search"] == {"index": "ab", "meta": {"index": 2}}
    assert payload_of(snapshot, 1) == {
        "id": "u",
        "type": "browser",
        "browser": {"index": "xy", "p": [{"v": {"index": 7}}]},
    }


def test_unknown_step_details_keep_their_index_key(merge):
    created = step_object({"type": "reasoning", "index": "a", "parts": []})
    deltas = [delta_object({"type": "reasoning", "index": "b"})]
    snapshot = merge(created, deltas)
    assert dict(snapshot.step_details) == {"type": "reasoning", "index": "ab", "parts": []}


def test_id_and_type_in_a_map_are_replaced(merge):
    deltas = [
        map_delta("bing_grounding", call_id="c", id="doc_1", type="web", note="a"),
        map_delta("bing_grounding", id="doc_2", type="news", note="b"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert payload_of(snapshot)["bing_grounding"] == {"id": "doc_2", "type": "news", "note": "ab"}


def test_openapi_function_and_map_merge(merge):
    deltas = [
        delta_object(
            tool_calls(
                {
                    "index": 0,
                    "id": "call_o",
                    "type": "openapi",
                    "function": {"name": "weather_Get", "arguments": "", "output": None},
                }
            )
        ),
        delta_object(tool_calls({"index": 0, "type": "openapi", "function": {"arguments": "{}"}})),
        delta_object(tool_calls({"index": 0, "type": "openapi", "function": {"output": "sun"}})),
        map_delta("openapi", spec="v"),
        map_delta("openapi", spec="1"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert payload_of(snapshot) == {
        "type": "openapi",
        "id": "call_o",
        "function": {"name": "weather_Get", "arguments": "{}", "output": "sun"},
        "openapi": {"spec": "v1"},
    }


# -- extra fields: merged into the snapshot object's .extra ----------------------------------


def test_extra_fields_merge_at_every_level(merge):
    first = delta_object(
        {
            "type": "tool_calls",
            "trace": "t",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_f",
                    "type": "function",
                    "flag": True,
                    "note": "a",
                    "function": {"name": "f", "arguments": "", "output": None, "$schema": "x"},
                },
                {
                    "index": 1,
                    "id": "call_c",
                    "type": "code_interpreter",
                    "code_interpreter": {
                        "input": "",
                        "outputs": [{"index": 0, "type": "logs", "logs": "1", "lvl": "i"}],
                    },
                },
            ],
        }
    )
    second = delta_object(
        {
            "type": "tool_calls",
            "trace": "u",
            "tool_calls": [
                {
                    "index": 0,
                    "type": "function",
                    "note": "b",
                    "meta": {"k": [1]},
                    "function": {"$schema": "y", "other": None},
                },
                {
                    "index": 1,
                    "type": "code_interpreter",
                    "code_interpreter": {
                        "outputs": [{"index": 0, "type": "logs", "logs": "2", "lvl": "nfo"}],
                        "env": {"py": "3"},
                    },
                },
            ],
        }
    )
    third = fn_delta(0, other="!")  # "other" is an extra field of the payload
    third["delta"]["step_details"]["tool_calls"][0]["meta"] = {"k": [2], "z": None}
    snapshot = merge(EMPTY, [first, second, third])
    details = snapshot.step_details
    assert details.extra == {"trace": "tu"}
    function_call, code_call = details.tool_calls
    assert function_call.extra == {"flag": True, "note": "ab", "meta": {"k": [1, 2], "z": None}}
    assert function_call.function.extra == {"$schema": "xy", "other": "!"}
    assert code_call.code_interpreter.extra == {"env": {"py": "3"}}
    assert code_call.code_interpreter.outputs[0].extra == {"lvl": "info"}
    assert isinstance(function_call.extra, stepwire.ExtraFields)
    body = encoded(snapshot)
    assert body["step_details"]["trace"] == "tu"
    assert body["step_details"]["tool_calls"][0]["function"] == {
        "name": "f",
        "arguments": "",
        "output": None,
        "$schema": "xy",
        "other": "!",
    }
    assert_round_trips(snapshot)


def test_extra_fields_of_message_creation_details(merge):
    created = step_object({"type": "message_creation", "message_creation": {"message_id": "m"}})
    deltas = [
        delta_object(
            {"type": "message_creation", "x": "a", "message_creation": {"message_id": "m2", "y": 1}}
        ),
        delta_object({"type": "message_creation", "x": "b", "message_creation": {"y": 2}}),
    ]
    snapshot = merge(created, deltas)
    assert snapshot.step_details.extra == {"x": "ab"}
    assert snapshot.step_details.message_creation.extra == {"y": 2}
    assert snapshot.step_details.message_creation.message_id == "m2"


def step_delta(details=None, step_id="step_1", event_extra=None, **fields):
    body = {"id": step_id, "object": "thread.run.step.delta", "delta": dict(fields)}
    if details is not None:
        body["delta"]["step_details"] = details
    if event_extra:
        body.update(event_extra)
    return body


USAGE = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}


def test_run_step_delta_fields_of_the_step_replace_the_snapshots(merge):
    """A field of the event's ``delta`` object that RunStep has replaces the snapshot's,
    converted to its type when it converts (else kept as parsed); null never erases."""
    deltas = [
        step_delta(status="completed", usage=USAGE, completed_at=1_700_000_100),
        step_delta(status=None, usage=None, failed_at=None, metadata={"k": "v"}),
        step_delta(last_error={"code": "server_error", "message": "m", "more": 1}),
    ]
    snapshot = merge(EMPTY, deltas)
    assert snapshot.status == "completed"
    assert snapshot.usage == stepwire.Usage(prompt_tokens=10, completion_tokens=2, total_tokens=12)
    assert snapshot.completed_at == 1_700_000_100
    assert snapshot.failed_at is None
    assert snapshot.metadata == {"k": "v"}
    # An object with a field LastError does not have does not convert: kept as parsed.
    assert snapshot.last_error == {"code": "server_error", "message": "m", "more": 1}
    assert snapshot.extra is stepwire.UNSET
    body = encoded(snapshot)
    assert body["usage"] == USAGE
    assert body["last_error"] == {"code": "server_error", "message": "m", "more": 1}


def test_run_step_delta_other_fields_merge_into_the_step_extra(merge):
    deltas = [
        step_delta(note="a", obj={"s": "x", "l": [1]}, event_extra={"event_only": 1}),
        step_delta(note="b", obj={"s": "y", "l": [2]}, event_extra={"event_only": 2}),
        step_delta(note=None, n=3),
    ]
    snapshot = merge(EMPTY, deltas)
    assert snapshot.extra == {"note": "ab", "obj": {"s": "xy", "l": [1, 2]}, "n": 3}
    # The event's own fields (beside id, object and delta) are not the step's.
    assert "event_only" not in encoded(snapshot)


def test_run_step_delta_fields_and_details_in_one_delta(merge):
    delta = step_delta(details=tool_calls({"index": 0, "id": "c", "type": "function"}))
    delta["delta"]["status"] = "completed"
    snapshot = merge(EMPTY, [delta])
    assert snapshot.status == "completed"
    assert calls_of(snapshot)[0].id == "c"


def test_a_refused_delta_leaves_its_step_fields_unmerged(impl):
    acc = impl.Accumulator()
    before = _started(acc)
    bad = step_delta(details=MISMATCHES["other-tool-type"]["delta"]["step_details"], note="x")
    bad["delta"]["status"] = "failed"
    with pytest.raises(stepwire.StreamError):
        acc.feed(frame(DELTA, bad))
    assert stepwire.encode(acc.steps["step_1"]) == before


def test_extra_fields_stay_apart_from_typed_fields_of_the_same_name(impl):
    """An extra field's fragments are keyed under the object's extras: a call-level
    ``arguments`` (a function call has none) and the typed ``function.arguments`` both
    concatenate, each in its own place, the latter on the compiled fast path too."""
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    opening = first_fn_delta(0, "call_1", "f")
    opening["delta"]["step_details"]["tool_calls"][0]["arguments"] = "x"
    opening["delta"]["step_details"]["extra_details"] = "d"
    acc.feed(frame(DELTA, opening))
    for n in range(3):
        acc.feed(frame(DELTA, fn_delta(0, arguments=str(n))))  # the fast path's shape
        extra = delta_object(tool_calls({"index": 0, "type": "function", "arguments": "y"}))
        acc.feed(frame(DELTA, extra))
        acc.steps["step_1"]
    (call,) = calls_of(acc.steps["step_1"])
    assert call.function.arguments == "012"
    assert call.extra == {"arguments": "xyyy"}
    assert acc.steps["step_1"].step_details.extra == {"extra_details": "d"}


def test_copies_take_the_extra_fields_along(impl):
    """An object copied from a delta (file_search ranking options) brings its extra fields
    as a copy: merging more into the snapshot never edits the event's."""
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    ranking = {"ranker": "auto", "score_threshold": 0.5, "tag": "a", "deep": {"l": [1]}}
    events = acc.feed(
        frame(
            DELTA,
            delta_object(
                tool_calls(
                    {
                        "index": 0,
                        "id": "c",
                        "type": "file_search",
                        "file_search": {"ranking_options": ranking},
                    }
                )
            ),
        )
    )
    more = {
        "index": 0,
        "type": "file_search",
        "file_search": {"ranking_options": {"deep": {"l": [2]}}},
    }
    acc.feed(frame(DELTA, delta_object(tool_calls(more))))
    options = calls_of(acc.steps["step_1"])[0].file_search.ranking_options
    assert options.extra == {"tag": "a", "deep": {"l": [1, 2]}}
    sent = events[0].data.delta.step_details.tool_calls[0].file_search.ranking_options
    assert sent.extra == {"tag": "a", "deep": {"l": [1]}}
    assert sent.extra is not options.extra


def test_copy_copies_extra():
    from stepwire import _merge

    value = stepwire.FileSearchRankingOptions(
        ranker="auto", score_threshold=0.0, extra=stepwire.ExtraFields({"d": {"l": [1]}})
    )
    copied = _merge._copy(value)
    assert copied == value
    assert copied.extra is not value.extra
    assert type(copied.extra) is stepwire.ExtraFields
    assert copied.extra["d"] is not value.extra["d"]
    assert copied.extra["d"]["l"] is not value.extra["d"]["l"]


# -- a new object's required fields that its delta cannot fill ------------------------------


def test_a_new_call_leaves_a_required_field_it_cannot_fill_absent(merge):
    """Computer use opens with ``"action": null`` (or without it): the call is created with
    the action absent or null, and a later delta sets it. (Such a delta was refused: "a
    delta creates a ComputerUse object without its required 'action'".)"""
    cu = "computer_use_preview"
    opening_null = {"action": None, "pending_safety_checks": [], "output": None}
    deltas = [
        map_delta(cu, call_id="cu_1", **opening_null),
        delta_object(
            tool_calls(
                {"index": 1, "id": "cu_2", "type": cu, cu: {"pending_safety_checks": []}},
            )
        ),
    ]
    snapshot = merge(EMPTY, deltas)
    first, second = calls_of(snapshot)
    assert first.computer_use_preview.action is None
    assert second.computer_use_preview.action is stepwire.UNSET
    assert payload_of(snapshot, 1)[cu] == {"pending_safety_checks": []}  # absent stays absent
    click = {"type": "click", "x": 1, "y": 2, "button": "left"}
    snapshot = merge(EMPTY, [*deltas, map_delta(cu, action=click), map_delta(cu, 1, action=click)])
    assert [payload_of(snapshot, i)[cu]["action"] for i in (0, 1)] == [click, click]


# -- values kept as parsed where another type was declared -----------------------------------


def test_a_kept_value_where_a_string_was_declared(merge):
    deltas = [
        fn_delta(0, id="c", name="f", arguments="{"),
        fn_delta(0, arguments={"parsed": True}),  # not a string: replaces the text
        fn_delta(0, arguments={"more": 1}),  # two objects merge
        fn_delta(0, arguments="[1"),  # a string replaces anything else
        fn_delta(0, arguments="]"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert calls_of(snapshot)[0].function.arguments == "[1]"
    snapshot = merge(EMPTY, deltas[:3])
    assert calls_of(snapshot)[0].function.arguments == {"parsed": True, "more": 1}
    assert payload_of(snapshot)["function"]["arguments"] == {"parsed": True, "more": 1}


def test_a_kept_value_where_an_object_was_declared(merge):
    deltas = [
        delta_object(tool_calls({"index": 0, "id": "c", "type": "function", "function": "f("})),
        delta_object(tool_calls({"index": 0, "type": "function", "function": "x)"})),
    ]
    snapshot = merge(EMPTY, deltas)
    assert calls_of(snapshot)[0].function == "f(x)"  # a string and a fragment concatenate
    deltas.append(fn_delta(0, name="g", arguments="{}"))
    snapshot = merge(EMPTY, deltas)  # an object replaces the string
    assert calls_of(snapshot)[0].function == stepwire.Function(name="g", arguments="{}")


def test_a_map_in_the_snapshot_where_an_object_was_declared():
    """The target holds a plain map where a Struct is declared: the delta's plain form
    merges into it."""
    snapshot = stepwire.decode_step(to_json(EMPTY))
    stepwire.apply_delta(snapshot, stepwire.decode_delta(to_json(first_fn_delta(0, "c", "f"))))
    calls_of(snapshot)[0].function = {"name": "f", "arguments": "{", "kept": [1]}
    deltas = [fn_delta(0, arguments="}", kept=[2]), fn_delta(0, output="ok")]
    stepwire.apply_delta(snapshot, [stepwire.decode_delta(to_json(d)) for d in deltas])
    assert calls_of(snapshot)[0].function == {
        "name": "f",
        "arguments": "{}",
        "kept": [1, 2],
        "output": "ok",
    }


def test_kept_values_in_code_outputs(merge):
    deltas = [
        code_delta(0, id="c", input="x", outputs=[{"index": 0, "type": "logs", "logs": "a"}]),
        code_delta(0, outputs=[{"index": 0, "type": "logs", "logs": {"k": 1}}]),
        code_delta(0, outputs=[{"index": 1, "logs": "no type"}]),
        code_delta(0, outputs=[{"index": 1, "logs": "!"}]),
        code_delta(0, outputs=[{"type": "logs", "logs": "no index"}]),
        code_delta(0, input={"not": "code"}),
        code_delta(0, input="y"),
    ]
    snapshot = merge(EMPTY, deltas)
    assert payload_of(snapshot)["code_interpreter"] == {
        "input": "y",
        "outputs": [
            {"type": "logs", "logs": {"k": 1}},
            {"logs": "no type!"},
            {"type": "logs", "logs": "no index"},
        ],
    }


# Deltas whose values are anything JSON where the model declares a type: the merge must
# never raise anything but a StreamError, and both builds and apply_delta must agree.
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["index", "type", "id", "a", "logs", "input"]), inner, max_size=3
        ),
        st.lists(
            st.fixed_dictionaries(
                {"index": st.integers(0, 3)},
                optional={"type": st.sampled_from(["logs", "image", "x"]), "logs": inner},
            ),
            min_size=1,
            max_size=2,
        ),
    ),
    max_leaves=8,
)
PAYLOAD_FIELDS = {
    "function": ["name", "arguments", "output"],
    "code_interpreter": ["input", "outputs"],
    "file_search": ["ranking_options", "results"],
    "bing_grounding": None,
    "computer_use_preview": ["action", "pending_safety_checks", "output"],
    "mcp": ["name", "arguments", "output", "server_label"],
}


@st.composite
def kept_call_delta(draw):
    kind = draw(st.sampled_from(sorted(PAYLOAD_FIELDS)))
    fields = PAYLOAD_FIELDS[kind]
    if fields is None:
        body = draw(st.dictionaries(st.sampled_from(["index", "a", "b"]), JSON, max_size=3))
    else:
        body = draw(st.dictionaries(st.sampled_from(fields), JSON, max_size=3))
    value = body if draw(st.integers(0, 4)) else draw(JSON)
    call = {"index": draw(st.integers(0, 1)), "type": kind}
    if kind == "mcp":
        call.update(body)
    else:
        call[kind] = value
    if draw(st.booleans()):
        call["extra_" + draw(st.sampled_from(["a", "b"]))] = draw(JSON)
    return call


def _attempt(merge_one, body):
    """ "ok", or "refused" (a StreamError of the merge); anything else propagates."""
    try:
        merge_one(body)
    except stepwire.StreamError as exc:
        if isinstance(exc.__cause__, stepwire.DecodeError):
            raise  # the decoder refused the body: not what this test is about
        return "refused"
    return "ok"


def _decodes(body):
    try:
        stepwire.decode_delta(body)
    except stepwire.DecodeError:
        return False
    return True


def _merge_all(name, created, bodies):
    if name == "apply_delta":
        snapshot = stepwire.decode_step(to_json(created))
        outcome = [
            _attempt(lambda b: stepwire.apply_delta(snapshot, stepwire.decode_delta(b)), body)
            for body in bodies
        ]
        return [*outcome, stepwire.encode(snapshot)]
    acc = load_impl(name).Accumulator()
    acc.feed(frame(CREATED, created))
    outcome = [_attempt(lambda b: acc.feed(frame(DELTA, b)), body) for body in bodies]
    return [*outcome, stepwire.encode(acc.steps["step_1"])]


@st.composite
def kept_created(draw):
    """A created step whose calls (the server's) hold values of any type too."""
    calls = []
    for n, call in enumerate(draw(st.lists(kept_call_delta(), max_size=2))):
        del call["index"]
        calls.append({"id": f"call_{n}", **call})
    body = step_object(tool_calls(*calls))
    try:
        stepwire.decode_step(to_json(body))
    except stepwire.DecodeError:
        return EMPTY
    return body


@settings(max_examples=examples(150), deadline=None)
@given(
    created=st.one_of(st.just(EMPTY), kept_created()),
    calls=st.lists(st.lists(kept_call_delta(), min_size=1, max_size=2), max_size=6),
)
def test_values_of_any_type_never_break_the_merge(created, calls):
    bodies = [to_json(delta_object(tool_calls(*batch))) for batch in calls]
    bodies = [b for b in bodies if _decodes(b)]  # the decoder's refusals are tested elsewhere
    results = [_merge_all(name, created, bodies) for name in ["python", "cython", "apply_delta"]]
    assert results[0] == results[1] == results[2]
    stepwire.decode_step(results[0][-1])  # what the merge made encodes to a valid step


def test_a_replaced_payload_starts_new_fragments_on_both_paths(impl):
    """Where a kept value replaced an object, its fragment lists are dropped: the compiled
    fast path must not extend the replaced object's, nor the reference the stale ones."""
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    steps = [
        (first_fn_delta(0, "c", "f"), None),
        (fn_delta(0, arguments="a"), None),
        (fn_delta(0, arguments="b"), "ab"),  # the fast path's shape
        (delta_object(tool_calls({"index": 0, "type": "function", "function": "kept"})), None),
        (fn_delta(0, arguments="c"), "c"),  # a new Function replaces the string
        (fn_delta(0, arguments="d"), "cd"),
        (fn_delta(0, arguments={"k": 1}), None),  # a kept map replaces the text
        (fn_delta(0, arguments="e"), "e"),
        (fn_delta(0, arguments="f"), "ef"),
    ]
    for delta, expected in steps:
        acc.feed(frame(DELTA, delta))
        if expected is not None:
            assert calls_of(acc.steps["step_1"])[0].function.arguments == expected
    assert calls_of(acc.steps["step_1"])[0].function == stepwire.Function(name="", arguments="ef")
