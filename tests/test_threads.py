"""Decoders shared by threads, and accumulators of their own per thread.

docs/limits.md: decoders are safe to share; an ``Accumulator`` is one stream's
state, fed from one thread at a time (one accumulator *shared* by threads is
left to the concurrent-use guard's own tests). Here 8 threads start together
on a barrier and each compares every result with the one a single thread got
first: the decoded objects down to each nested object's type, and the errors'
types and messages. A tiny switch interval makes the interpreter hand the GIL
over between threads every few bytecodes, so the Python parts (the fallback
for unknown types, the accumulators' framing and merging) interleave.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import pytest

import stepwire
from helpers import delta_object, frame, scaled, step_object, to_json, tool_calls
from stepgen import generate_delta_events, generate_page, generate_steps

THREADS = 8
# How many times each thread goes over its bodies (at the suite's scale; the cases are all
# there at any scale): every case, the shared fallback's bodies, the whole stream.
ROUNDS = scaled(20)
FALLBACK_DECODES = scaled(400, minimum=30)
STREAM_FEEDS = scaled(12, minimum=2)


@pytest.fixture(autouse=True)
def tiny_switch_interval() -> Iterator[None]:
    """Switch threads every microsecond (the default is 5 ms), for the length of a test."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def shape(obj: Any) -> Any:
    """``obj`` as nested tuples naming every object's type.

    ``==`` alone would not do: an ``UnknownToolCall`` is a dict and equals a
    plain dict of the same items, and a Struct compares its fields with ``==``.
    """
    if isinstance(obj, msgspec.Struct):
        fields = obj.__struct_fields__
        return (type(obj).__name__, tuple((f, shape(getattr(obj, f))) for f in fields))
    if isinstance(obj, dict):
        return (type(obj).__name__, tuple((k, shape(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(shape(v) for v in obj))
    return (type(obj).__name__, obj)


def outcome(decode: Callable[[Any], Any], body: Any) -> tuple[Any, ...]:
    """What decoding ``body`` gave: the result's shape, or the error's type and message."""
    try:
        return ("ok", shape(decode(body)))
    except stepwire.DecodeError as exc:
        return ("error", type(exc).__name__, str(exc), exc.path, exc.line)


def run_together(work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` for i in 0..7, in 8 threads started together; their results in order."""
    barrier = threading.Barrier(THREADS)

    def start(i: int) -> Any:
        # A timeout, so that one thread failing before the barrier fails the test
        # (BrokenBarrierError in the others) instead of hanging it.
        barrier.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(start, range(THREADS)))


# -- the bodies ------------------------------------------------------------------------------

_STEPS = generate_steps(24, seed=11)
_FUNCTION = {
    "id": "call_f",
    "type": "function",
    "function": {"name": "get_weather", "arguments": "{}", "output": None},
}
_BROWSER = {"id": "call_b", "type": "web_browser", "web_browser": {"url": "https://x.test"}}


def _with_details(index: int, details: dict[str, Any]) -> dict[str, Any]:
    return dict(_STEPS[index], type=details["type"], step_details=details)


# Steps that only the fallback decodes (the default mode), and strict mode rejects.
_UNKNOWN_STEPS = [
    _with_details(0, tool_calls(_FUNCTION, _BROWSER, dict(_FUNCTION, id="call_g"))),
    _with_details(1, {"type": "reasoning", "reasoning": {"summary": "think"}}),
    _with_details(2, tool_calls(_BROWSER)),
]
# Bodies every decoder rejects, some of them only after the fallback ran.
_BAD_STEPS = [
    b"",
    b'{"id": "step_1", ',
    b'{"id": 1}',
    b'{"id": "\xff"}',
    to_json(_with_details(3, tool_calls(_BROWSER, dict(_FUNCTION, id=5)))),
    to_json(_with_details(4, tool_calls({"id": "c"}))),
]
_UNKNOWN_DELTA = {
    "id": "step_d",
    "object": "thread.run.step.delta",
    "delta": {
        "step_details": tool_calls(
            {"index": 0, "type": "function", "function": {"arguments": "{"}},
            {"index": 1, "id": "call_x", "type": "web_search", "web_search": {}},
        )
    },
}
_UNKNOWN_DELTA_NO_INDEX = delta_object(tool_calls({"type": "web_search"}))

_PAGES = [to_json(generate_page(8, seed=seed)) for seed in range(3)]
_UNKNOWN_PAGE = to_json(
    {"object": "list", "data": _STEPS[5:9] + _UNKNOWN_STEPS, "first_id": None, "has_more": False}
)
_BAD_PAGE = to_json(
    {
        "object": "list",
        "data": [*_STEPS[9:12], dict(_STEPS[12], created_at="yesterday")],
        "has_more": False,
    }
)
_STEP_BODIES = [to_json(s) for s in _STEPS[12:20] + _UNKNOWN_STEPS] + _BAD_STEPS
_DELTA_BODIES = [
    *(to_json(d) for d in generate_delta_events(12, seed=3, parallel=3)),
    to_json(_UNKNOWN_DELTA),
    to_json(_UNKNOWN_DELTA_NO_INDEX),
    b"[]",
]
_PAGE_BODIES: list[Any] = [
    *_PAGES,
    memoryview(_PAGES[0]),  # read in place by every thread at once
    _PAGES[1].decode(),
    _UNKNOWN_PAGE,
    _BAD_PAGE,
    b"{}",
]
_NDJSON = [
    b"\n".join(to_json(s) for s in _STEPS[:10]) + b"\n",
    b"\n".join([to_json(_STEPS[0]), to_json(_UNKNOWN_STEPS[0]), b"", to_json(_STEPS[1])]),
    b"\n".join([to_json(_STEPS[0]), b'{"id": 2}']),
]

Case = tuple[str, Callable[[Any], Any], Any]


def _cases() -> list[Case]:
    """(label, decode, body): every decoder in both modes, on the bodies of its type."""
    shared = stepwire.Decoder(stepwire.RunStepPage)
    shared_strict = stepwire.Decoder(stepwire.RunStepPage, strict=True)
    decoders: list[tuple[str, Callable[[Any], Any], Sequence[Any]]] = [
        ("Decoder(RunStepPage)", shared.decode, _PAGE_BODIES),
        ("Decoder(RunStepPage, strict=True)", shared_strict.decode, _PAGE_BODIES),
    ]
    for strict in (False, True):

        def bind(fn: Callable[..., Any], strict: bool = strict) -> Callable[[Any], Any]:
            return lambda body: fn(body, strict=strict)

        decoders += [
            (f"decode_page strict={strict}", bind(stepwire.decode_page), _PAGE_BODIES),
            (f"decode_step strict={strict}", bind(stepwire.decode_step), _STEP_BODIES),
            (f"decode_delta strict={strict}", bind(stepwire.decode_delta), _DELTA_BODIES),
            (f"decode_lines strict={strict}", bind(stepwire.decode_lines), _NDJSON),
        ]
    return [(label, fn, body) for label, fn, bodies in decoders for body in bodies]


CASES = _cases()


def test_the_cases_cover_the_fast_path_the_fallback_and_errors() -> None:
    expected = [outcome(fn, body) for _, fn, body in CASES]
    labels = {label for label, _, _ in CASES}
    assert len(labels) == 10
    unknown_types = ("'UnknownToolCall'", "'UnknownStepDetails'", "'UnknownToolCallDelta'")
    unknown = [any(name in repr(o) for name in unknown_types) for o in expected]
    # The default modes' fallback: 2 pages, 3 steps, 1 delta, 1 NDJSON body.
    assert sum(unknown) == 7
    errors = [o for o in expected if o[0] == "error"]
    assert len(errors) >= 30
    assert any(o[2].startswith("line 2: ") for o in errors)
    assert any(o[3] == "$.delta.step_details.tool_calls[0]" and "`index`" in o[2] for o in errors)
    assert any(o[3] == "$.step_details.tool_calls[1].id" for o in errors)


def test_shared_decoders_give_every_thread_the_single_threaded_results() -> None:
    expected = [outcome(fn, body) for _, fn, body in CASES]

    def work(seed: int) -> list[int]:
        # Each thread its own order, so that the threads are in different
        # decoders and on different bodies at the same moment.
        order = list(range(len(CASES))) * ROUNDS
        random.Random(seed).shuffle(order)
        wrong = []
        for i in order:
            _, fn, body = CASES[i]
            if outcome(fn, body) != expected[i]:
                wrong.append(i)
        return wrong

    wrong = run_together(work)
    assert wrong == [[]] * THREADS, [[CASES[i][0] for i in w] for w in wrong]


def test_shared_decoder_with_only_the_fallback() -> None:
    """Every thread in the untyped parse and the walk at once, on the same decoder."""
    shared = stepwire.Decoder(list[stepwire.RunStep])
    bodies = [
        to_json(_UNKNOWN_STEPS + _STEPS[:3]),
        to_json(_UNKNOWN_STEPS[::-1]),
        to_json([*_UNKNOWN_STEPS, {"id": 3}]),
    ]
    expected = [outcome(shared.decode, body) for body in bodies]
    assert [o[0] for o in expected] == ["ok", "ok", "error"]

    def work(seed: int) -> list[tuple[Any, ...]]:
        return [outcome(shared.decode, bodies[(seed + n) % 3]) for n in range(FALLBACK_DECODES)]

    for seed, got in enumerate(run_together(work)):
        assert got == [expected[(seed + n) % 3] for n in range(FALLBACK_DECODES)]


# -- one accumulator per thread ----------------------------------------------------------------

STEP = "step_threads"


def _stream() -> bytes:
    """A run stream through the accumulators' fast path and their slow one.

    Three interleaved function calls (the Cython build's fast path), a
    code_interpreter call and an unknown tool type (the generic merge), a
    message event (kept as bytes), a second step, one step's completed
    object (which replaces its snapshot), and the end of the stream.
    """
    deltas = generate_delta_events(240, seed=9, step_id=STEP, parallel=3)
    code = delta_object(
        tool_calls(
            {"index": 3, "id": "call_c", "type": "code_interpreter", "code_interpreter": {}}
        ),
        step_id=STEP,
    )
    code_input = [
        delta_object(
            tool_calls(
                {"index": 3, "type": "code_interpreter", "code_interpreter": {"input": piece}}
            ),
            step_id=STEP,
        )
        for piece in ("x = 1\r\n", "print(x)", " # caf\u00e9")
    ]
    unknown = delta_object(
        tool_calls({"index": 4, "id": "call_u", "type": "web_search", "web_search": {"q": "a"}}),
        step_id=STEP,
    )
    other = step_object(tool_calls(), step_id="step_other")
    other_done = dict(
        step_object(tool_calls(_FUNCTION), step_id="step_other"),
        status="completed",
        completed_at=1_700_000_030,
    )
    events = [
        frame("thread.run.step.created", step_object(tool_calls(), step_id=STEP)),
        *(frame("thread.run.step.delta", d) for d in deltas[:120]),
        frame("thread.message.delta", {"id": "msg_1", "delta": {"content": []}}),
        frame("thread.run.step.created", other),
        frame("thread.run.step.delta", code),
        *(frame("thread.run.step.delta", d) for d in code_input),
        frame("thread.run.step.delta", unknown),
        *(frame("thread.run.step.delta", d) for d in deltas[120:]),
        frame("thread.run.step.completed", other_done),
    ]
    return b"".join(events) + b"event: done\ndata: [DONE]\n\n"


def _chunks(body: bytes, seed: int) -> list[bytes]:
    """``body`` cut every 1 to 200 bytes: mid-line, mid-character."""
    rng = random.Random(seed)
    out = []
    pos = 0
    while pos < len(body):
        size = rng.randint(1, 200)
        out.append(body[pos : pos + size])
        pos += size
    return out


def _feed_all(acc: Any, chunks: Sequence[bytes]) -> tuple[Any, ...]:
    """Every event (read as it comes) and the accumulator's final state, comparably."""
    events = []
    for chunk in [*chunks, None]:
        for e in acc.close() if chunk is None else acc.feed(chunk):
            data = e.data if isinstance(e.data, bytes) else stepwire.encode(e.data)
            events.append((e.event, e.raw, type(e.data).__name__, data))
    steps = {key: shape(acc.steps[key]) for key in acc.steps}
    pending = {key: [shape(d) for d in acc.pending[key]] for key in acc.pending}
    return events, steps, pending, acc.done, acc.last_event_id, acc.retry


BODY = _stream()


def test_own_accumulators_in_8_threads_give_the_single_threaded_snapshots(impl: Any) -> None:
    chunks = _chunks(BODY, seed=1)
    expected = _feed_all(impl.Accumulator(), chunks)
    events, steps, _, done, _, _ = expected
    assert done
    assert len(events) == 249  # 2 created, 245 deltas, a message, a completed (done is no event)
    assert dict(steps[STEP][1])["id"] == ("str", STEP)
    kinds = [call[0] for call in _tool_calls(steps[STEP])]
    assert kinds == [
        "FunctionToolCall",
        "FunctionToolCall",
        "FunctionToolCall",
        "CodeInterpreterToolCall",
        "UnknownToolCall",
    ]
    assert dict(steps["step_other"][1])["status"] == ("str", "completed")

    def work(_: int) -> list[tuple[Any, ...]]:
        return [_feed_all(impl.Accumulator(), chunks) for _ in range(STREAM_FEEDS)]

    for got in run_together(work):
        for feed in got:
            # The first difference, named: the whole state is too long to read in a diff.
            difference = _first_difference(feed, expected)
            assert difference is None, difference


def _first_difference(got: tuple[Any, ...], expected: tuple[Any, ...]) -> str | None:
    """Where ``_feed_all``'s results differ first (an event, a step, or a field), or None."""
    names = ("events", "steps", "pending", "done", "last_event_id", "retry")
    for name, a, b in zip(names, got, expected, strict=True):
        if a == b:
            continue
        if name == "events":
            if len(a) != len(b):
                return f"{len(a)} events, not {len(b)}"
            i = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            return f"event {i}: {a[i]!r}, not {b[i]!r}"
        if isinstance(a, dict) and a.keys() == b.keys():
            key = next(k for k in a if a[k] != b[k])
            return f"{name}[{key!r}]: {a[key]!r}, not {b[key]!r}"
        return f"{name}: {a!r}, not {b!r}"
    return None


def _tool_calls(step_shape: Any) -> tuple[Any, ...]:
    """The shapes of a step's tool calls, from its shape."""
    details = dict(step_shape[1])["step_details"]
    return dict(details[1])["tool_calls"][1]
