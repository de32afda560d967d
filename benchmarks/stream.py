"""Streaming scenario: SSE bytes in 4 KiB chunks to the merged run-step snapshot.

One run step streamed the way the Assistants API streams a function call:
``thread.run.step.created`` with the full step (``tool_calls: []``,
``in_progress``, fields as in the recorded ``shared/fixtures/real/*.sse``),
then ``n`` ``thread.run.step.delta`` events (``generate_delta_events``: the
first delta of each call opens it, the rest append 1 to 12 characters of
arguments), and no completed event, so the final snapshot is what the deltas
built. The body is split into 4096-byte chunks once, outside any timed region.

Each contender goes from those chunks to the final merged snapshot, reading
it at the end:

* ``stepwire cython`` / ``stepwire python``: ``Accumulator().feed()`` every
  chunk, ``close()``, then ``acc.steps[step_id]`` (which joins the argument
  fragments). The Cython module ``stepwire._stream_c`` is optional: when it
  is not built, its contender is absent (see :func:`missing_note`).
* ``openai-python``: what its ``AssistantEventHandler`` does per event:
  ``SSEDecoder().iter_bytes``, ``sse.json()``,
  ``construct_type(AssistantStreamEvent)``, ``accumulate_run_step``.
  It re-dumps and rebuilds the whole snapshot per delta (``model_dump`` of
  the snapshot and the delta, ``accumulate_delta`` on dicts, ``construct_type``
  of a new ``RunStep``) and re-copies the arguments string each time: about
  120 us an event, flat from 200 to 4,000 events here, with a copy that grows
  with the arguments. Run it at n <= a few thousand only.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from functools import cache
from typing import Any

import orjson

from stepgen import generate_delta_events

__all__ = [
    "CHUNK_SIZE",
    "STEP_ID",
    "arguments_of",
    "check_same_result",
    "expected_arguments",
    "missing_note",
    "stream_bytes",
    "stream_chunks",
    "stream_contenders",
    "stream_modules",
]

CHUNK_SIZE = 4096
STEP_ID = "step_9c9pSsTIsCYc1KeHEI6Ba34s"
OPENAI_MAX_EVENTS = 5_000  # beyond this openai-python takes seconds per stream

Snapshot = Any
Contender = Callable[[], Snapshot]


# -- the scenario ----------------------------------------------------------------


def _created_step(seed: int) -> dict[str, Any]:
    """The ``thread.run.step.created`` data, shaped like the recorded ones."""
    rng = random.Random(seed)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    def ident(prefix: str) -> str:
        return prefix + "".join(rng.choices(alnum, k=24))

    created = 1_761_861_533
    return {
        "id": STEP_ID,
        "object": "thread.run.step",
        "created_at": created,
        "run_id": ident("run_"),
        "assistant_id": ident("asst_"),
        "thread_id": ident("thread_"),
        "type": "tool_calls",
        "status": "in_progress",
        "cancelled_at": None,
        "completed_at": None,
        "expires_at": created + 598,
        "failed_at": None,
        "last_error": None,
        "step_details": {"type": "tool_calls", "tool_calls": []},
        "usage": None,
    }


@cache
def _deltas(n: int, parallel: int, seed: int) -> tuple[dict[str, Any], ...]:
    return tuple(generate_delta_events(n, seed=seed, step_id=STEP_ID, parallel=parallel))


@cache
def stream_bytes(n: int, parallel: int = 1, seed: int = 0) -> bytes:
    """The SSE body: one ``created`` event, then ``n`` delta events."""
    parts = [
        b"event: thread.run.step.created\ndata: " + orjson.dumps(_created_step(seed)) + b"\n\n"
    ]
    parts.extend(
        b"event: thread.run.step.delta\ndata: " + orjson.dumps(delta) + b"\n\n"
        for delta in _deltas(n, parallel, seed)
    )
    return b"".join(parts)


@cache
def stream_chunks(
    n: int, parallel: int = 1, seed: int = 0, size: int = CHUNK_SIZE
) -> tuple[bytes, ...]:
    """:func:`stream_bytes` cut every ``size`` bytes (mid-line, mid-character)."""
    body = stream_bytes(n, parallel, seed)
    return tuple(body[i : i + size] for i in range(0, len(body), size))


def expected_arguments(n: int, parallel: int = 1, seed: int = 0) -> list[str]:
    """Each call's arguments, joined straight from the generated deltas."""
    joined: dict[int, list[str]] = {}
    for delta in _deltas(n, parallel, seed):
        for call in delta["delta"]["step_details"]["tool_calls"]:
            joined.setdefault(call["index"], []).append(call["function"]["arguments"])
    return ["".join(joined[i]) for i in sorted(joined)]


def arguments_of(snapshot: Snapshot) -> list[str]:
    """The arguments of each tool call of a snapshot (stepwire's or openai-python's)."""
    return [call.function.arguments for call in snapshot.step_details.tool_calls]


# -- the contenders --------------------------------------------------------------


def _import_optional(module: str) -> Any:
    """The public stream classes over the twin ``module`` (``on_twin``), or None if absent."""
    from stepwire._accumulate import on_twin

    try:
        return on_twin(importlib.import_module(module))
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


def stream_modules() -> dict[str, Any]:
    """The stepwire stream builds importable here, by contender name: each has
    ``.Accumulator`` and ``.StreamEvent`` over its twin.

    ``stepwire._stream_c`` is absent until the extension is built in place;
    a compiled module that fails to import for another reason is an error.
    """
    found: dict[str, Any] = {
        "stepwire cython": _import_optional("stepwire._stream_c"),
        "stepwire python": _import_optional("stepwire._stream_py"),
    }
    return {name: module for name, module in found.items() if module is not None}


def missing_note() -> str | None:
    """A line saying the Cython extension is not built, or ``None`` if it is."""
    if "stepwire cython" in stream_modules():
        return None
    return (
        "stepwire._stream_c (the Cython extension) is not built here: "
        "the 'stepwire cython' contender is omitted"
    )


def _stepwire(module: Any, chunks: tuple[bytes, ...]) -> Contender:
    accumulator = module.Accumulator

    def run() -> Snapshot:
        acc = accumulator()
        feed = acc.feed
        for chunk in chunks:
            feed(chunk)
        acc.close()
        return acc.steps[STEP_ID]

    return run


def _openai(chunks: tuple[bytes, ...]) -> Contender:
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai.lib.streaming._assistants import accumulate_run_step
    from openai.types.beta import AssistantStreamEvent

    def run() -> Snapshot:
        snapshots: dict[str, Any] = {}
        for sse in SSEDecoder().iter_bytes(iter(chunks)):
            data = sse.json()
            event: Any = construct_type(
                type_=AssistantStreamEvent, value={"event": sse.event, "data": data}
            )
            accumulate_run_step(event=event, run_step_snapshots=snapshots)
        return snapshots[STEP_ID]

    return run


def stream_contenders(
    n: int, parallel: int = 1, *, openai: bool | None = None
) -> dict[str, Contender]:
    """Zero-argument callables, chunks to final snapshot, by name.

    ``openai`` includes openai-python; by default only when
    ``n <= OPENAI_MAX_EVENTS`` (at ~120 us an event, one 100,000-event
    stream takes 12 s or more).
    """
    chunks = stream_chunks(n, parallel)
    contenders = {name: _stepwire(module, chunks) for name, module in stream_modules().items()}
    if openai if openai is not None else n <= OPENAI_MAX_EVENTS:
        contenders["openai-python"] = _openai(chunks)
    return contenders


def check_same_result(n: int = 1_000, parallel: int = 1) -> dict[str, list[str]]:
    """Run every contender once and check they built the same arguments.

    Returns the arguments per contender; raises ``AssertionError`` naming the
    first contender whose snapshot differs from the generated deltas.
    """
    expected = expected_arguments(n, parallel)
    results = {}
    for name, run in stream_contenders(n, parallel, openai=True).items():
        snapshot = run()
        got = arguments_of(snapshot)
        assert got == expected, f"{name}: arguments differ from the generated deltas"
        assert snapshot.id == STEP_ID, f"{name}: snapshot of {snapshot.id!r}"
        assert snapshot.status == "in_progress", f"{name}: status {snapshot.status!r}"
        results[name] = got
    return results
