"""The two stream twins behind one public surface, and the contract between them."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import stepwire
from helpers import STREAM_MODULES, delta_object, frame, load_impl, step_object, tool_calls
from stepwire import _state, _stream_py

SRC = Path(_stream_py.__file__).parent
ACCUMULATOR_ATTRS = ("steps", "pending", "done", "last_event_id", "retry")
EVENT_ATTRS = ("event", "data", "id", "raw")


@pytest.fixture(scope="module")
def builds():
    return [load_impl(name) for name in STREAM_MODULES]


def _public(obj):
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def test_both_builds_offer_the_same_public_surface(builds):
    python, cython = builds
    assert _public(python.Accumulator()) == _public(cython.Accumulator())
    assert _public(python.Accumulator()) == sorted([*ACCUMULATOR_ATTRS, "close", "feed"])
    made = [b.StreamEvent("x", b"y", "1", b"y") for b in builds]
    assert _public(made[0]) == _public(made[1]) == sorted(EVENT_ATTRS)


@pytest.mark.parametrize("name", list(STREAM_MODULES))
def test_every_public_attribute_is_read_only(name):
    build = load_impl(name)
    acc = build.Accumulator()
    event = acc.feed(b"data: y\n\n")[0]
    for obj, attrs in ((acc, ACCUMULATOR_ATTRS), (event, EVENT_ATTRS)):
        for attr in attrs:
            before = getattr(obj, attr)
            with pytest.raises(AttributeError):
                setattr(obj, attr, before)
            with pytest.raises(AttributeError):
                delattr(obj, attr)
    with pytest.raises(AttributeError):
        acc.surprise = 1  # no __dict__: a typo is an error, not a new attribute


def test_both_builds_have_the_same_signatures_and_docstrings(builds):
    python, cython = builds
    assert inspect.signature(python.Accumulator) == inspect.signature(cython.Accumulator)
    assert str(inspect.signature(python.Accumulator)) == (
        "(*, max_steps: 'int' = 10000, max_event_bytes: 'int' = 16777216) -> 'None'"
    )
    assert inspect.signature(python.StreamEvent) == inspect.signature(cython.StreamEvent)
    for method in ("feed", "close"):
        mine = getattr(python.Accumulator, method)
        theirs = getattr(cython.Accumulator, method)
        assert list(inspect.signature(mine).parameters) == list(
            inspect.signature(theirs).parameters
        )
        assert mine.__doc__ == theirs.__doc__
        assert "Raises" in mine.__doc__
    for cls in ("Accumulator", "StreamEvent"):
        assert getattr(python, cls).__doc__ == getattr(cython, cls).__doc__
        assert getattr(python, cls).__module__ == "stepwire"
        assert getattr(python, cls).__doc__ == getattr(stepwire, cls).__doc__


def _declared(tree: ast.Module) -> dict[str, set[str]]:
    """Top-level names, and each class's members, declared in a module or a stub."""
    out: dict[str, set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[""].add(node.name)
            out[node.name] = {
                n.name
                for n in node.body
                if isinstance(n, ast.FunctionDef) and not n.name.startswith("__")
            }
        elif isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            out[""].update(t.id for t in targets if isinstance(t, ast.Name))
    return out


def test_the_stub_declares_what_the_compiled_twin_defines():
    stub = _declared(ast.parse((SRC / "_stream_c.pyi").read_text()))
    assert stub[""] == {"IMPLEMENTATION", "Event", "Framer"}
    for cls in ("Event", "Framer"):
        expected = {n for n, v in vars(getattr(_stream_py, cls)).items() if not n.startswith("__")}
        expected -= {n for n in expected if n.startswith("_") and n != "_start"}
        assert stub[cls] == expected, cls


def test_the_compiled_twin_has_what_the_stub_declares():
    stub = _declared(ast.parse((SRC / "_stream_c.pyi").read_text()))
    build = load_impl("cython")
    for cls in ("Event", "Framer"):
        for member in stub[cls]:
            assert hasattr(getattr(build.twin, cls), member), (cls, member)


# -- the fast path's contract: StepState.fragments --------------------------------------


def _state_after(events: bytes) -> _state.StepState:
    acc = load_impl("python").Accumulator()
    acc.feed(events)
    return acc._dispatch.states["step_1"]


CREATED = frame("thread.run.step.created", step_object(tool_calls()))
OPEN_CALL = frame(
    "thread.run.step.delta",
    delta_object(
        tool_calls({"index": 0, "id": "c", "type": "function", "function": {"arguments": "{"}})
    ),
)


def test_fragments_is_the_list_the_merge_extends():
    state = _state_after(CREATED + OPEN_CALL)
    parts = state.fragments(0, "function", "arguments")
    assert parts == ["{"]
    parts.append('"a"')
    parts.append(bytearray(b":1}"))  # UTF-8 runs, as the compiled twin appends them
    state.flush()
    assert state.snapshot.step_details.tool_calls[0].function.arguments == '{"a":1}'


def test_fragments_is_none_where_the_shared_merge_must_decide():
    state = _state_after(CREATED + OPEN_CALL)
    assert state.fragments(1, "function", "arguments") is None  # no such call
    assert state.fragments(0, "function", "name") is None  # a field not seen yet
    assert state.fragments(0, "code_interpreter", "input") is None  # another type
    done = step_object(tool_calls(), status="completed")
    ended = _state_after(CREATED + OPEN_CALL + frame("thread.run.step.completed", done))
    assert ended.ended == "thread.run.step.completed"
    assert ended.fragments(0, "function", "arguments") is None


@pytest.mark.parametrize("name", list(STREAM_MODULES))
def test_a_delta_after_the_terminal_event_takes_the_shared_merge(name):
    """Both builds: the fast path refuses by the state's word, and the merge applies it."""
    acc = load_impl(name).Accumulator()
    more = frame(
        "thread.run.step.delta",
        delta_object(tool_calls({"index": 0, "type": "function", "function": {"arguments": "}"}})),
    )
    completed = step_object(
        tool_calls({"id": "c", "type": "function", "function": {"name": "f", "arguments": "{"}}),
        status="completed",
    )
    acc.feed(CREATED + OPEN_CALL + frame("thread.run.step.completed", completed) + more)
    assert acc.steps["step_1"].step_details.tool_calls[0].function.arguments == "{}"
