"""Merging deltas into run-step snapshots, through Accumulator (both implementations) and
apply_delta."""

from __future__ import annotations

import json

import pytest

import stepwire
from helpers import delta_object, frame, load_impl, step_object, to_json, tool_calls

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


EMPTY = step_object(tool_calls())


# -- full objects ---------------------------------------------------------------------


def test_created_stores_the_snapshot(impl):
    acc = impl.Accumulator()
    body = step_object(
        tool_calls(
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "f", "arguments": "{}", "output": None},
            }
        )
    )
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
    if event in TERMINAL:
        # The server's final object is final: a later delta is refused.
        with pytest.raises(stepwire.StreamError, match="after its terminal event") as info:
            acc.feed(frame(DELTA, fn_delta(0, arguments="!")))
        assert info.value.event == DELTA
        assert encoded(acc.steps["step_1"]) == server
    else:
        # Deltas after an opening object merge into it.
        feed_deltas(acc, [fn_delta(0, arguments="!")])
        assert calls_of(acc.steps["step_1"])[0].function.arguments == '{"b": 2}!'


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
    "new-call-missing-a-required-field": [
        code_delta(0, id="c", input="x"),
        delta_object(
            tool_calls(
                {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": "YY"}},
                {
                    "index": 1,
                    "id": "cu",
                    "type": "computer_use_preview",
                    "computer_use_preview": {"pending_safety_checks": []},
                },
            )
        ),
    ],
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


def test_delta_after_terminal_changes_nothing_even_on_the_fast_path(impl):
    """Fragments for a call the step already had are the compiled build's fast path:
    it must refuse them after the terminal event as the reference does."""
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    feed_deltas(acc, [first_fn_delta(0, "call_1", "f"), fn_delta(0, arguments="{")])
    final = step_object(
        tool_calls(
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "f", "arguments": "{}", "output": None},
            }
        ),
        status="completed",
    )
    acc.feed(frame(COMPLETED, final))
    for _ in range(3):  # the first refusal must not open a path for the next
        with pytest.raises(stepwire.StreamError, match=r"'thread\.run\.step\.completed'"):
            acc.feed(frame(DELTA, fn_delta(0, arguments="x")))
    assert encoded(acc.steps["step_1"]) == final
    # The step may be opened again by the server; then deltas merge once more.
    acc.feed(frame(CREATED, final))
    feed_deltas(acc, [fn_delta(0, arguments="x")])
    assert calls_of(acc.steps["step_1"])[0].function.arguments == "{}x"


def test_terminal_then_delta_in_one_chunk_keeps_what_came_before(impl):
    acc = impl.Accumulator()
    acc.feed(frame(CREATED, EMPTY))
    done = step_object(tool_calls(), status="cancelled")
    chunk = frame(COMPLETED, done) + frame(DELTA, fn_delta(0, name="f")) + frame("ping", {})
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(chunk)
    assert [e.event for e in info.value.events] == [COMPLETED]
    assert [e.event for e in acc.feed(b"")] == ["ping"]  # the stream goes on after it


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
    # Contiguous again: nothing left to remember; and nothing outlives its snapshot.
    assert id(one_by_one) not in _merge._INDEXES
    gap = stepwire.decode_step(to_json(EMPTY))
    stepwire.apply_delta(gap, stepwire.decode_delta(to_json(fn_delta(1, name="x"))))
    key = id(gap)
    assert key in _merge._INDEXES
    del gap
    assert key not in _merge._INDEXES


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
