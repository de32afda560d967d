"""Generated bodies (seeded) round-trip exactly, in every container, and look like the real ones."""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepwire
from helpers import REAL, examples, frame, real_files, sse_events
from stepgen import generate_delta_events, generate_page, generate_step, generate_steps


@pytest.mark.parametrize("seed", range(10))
def test_generated_pages_round_trip(seed: int) -> None:
    page = generate_page(100, seed=seed)
    body = orjson.dumps(page)
    decoded = stepwire.decode_page(body)
    assert json.loads(stepwire.encode(decoded)) == page
    assert [s.id for s in decoded.data] == [s["id"] for s in page["data"]]


def test_generated_deltas_round_trip() -> None:
    for event in generate_delta_events(300, seed=1, parallel=3):
        body = orjson.dumps(event)
        assert json.loads(stepwire.encode(stepwire.decode_delta(body))) == event


@settings(max_examples=examples(60), deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(0, 12))
def test_any_generated_page_round_trips(seed: int, count: int) -> None:
    page = generate_page(count, seed=seed)
    assert json.loads(stepwire.encode(stepwire.decode_page(orjson.dumps(page)))) == page


# -- the generator against the recorded corpus -------------------------------------------------
# `python -m benchmarks.shape` prints these statistics side by side; the tests below fail when
# the generator drifts away from what the recorded bodies look like.

STEPS = generate_steps(1_000, seed=0)
DELTAS = generate_delta_events(2_000, seed=0, parallel=3)
DELTA = "thread.run.step.delta"


@dataclass
class Corpus:
    steps: list[dict[str, Any]] = field(default_factory=list)  # full step objects
    call_types: set[str] = field(default_factory=set)  # tool-call types, deltas included
    output_types: set[str] = field(default_factory=set)  # code_interpreter output types
    fragments: list[int] = field(default_factory=list)  # argument / code-input fragment lengths
    delta_sizes: list[int] = field(default_factory=list)  # bytes of each step delta SSE block


def _calls(details: dict[str, Any]) -> list[dict[str, Any]]:
    return list(details.get("tool_calls", []))


@cache
def _corpus() -> Corpus | None:
    if not real_files(".json"):
        return None
    corpus = Corpus()
    steps: dict[str, dict[str, Any]] = {}  # each distinct body once, by its canonical JSON

    def add(*found: dict[str, Any]) -> None:
        steps.update((json.dumps(step, sort_keys=True), step) for step in found)

    for path in real_files(".json"):
        if "EDITED" in path.name:  # not real API values
            continue
        obj = json.loads(path.read_bytes())
        add(*(obj["data"] if obj["object"] == "list" else [obj]))
    for path in real_files(".sse"):
        last: dict[str, dict[str, Any]] = {}  # the last full object of each step
        body = path.read_bytes()
        corpus.delta_sizes.extend(
            len(block) + 2
            for block in body.split(b"\n\n")
            if block.startswith(b"event: " + DELTA.encode())
        )
        for name, data in sse_events(body):
            if name == DELTA:
                for call in _calls(json.loads(data)["delta"].get("step_details", {})):
                    corpus.call_types.add(call["type"])
                    inner = call.get(call["type"], {})
                    chunk = inner.get("arguments", inner.get("input"))
                    if isinstance(chunk, str) and chunk:
                        corpus.fragments.append(len(chunk))
                    corpus.output_types.update(o["type"] for o in inner.get("outputs") or [])
            elif name.startswith("thread.run.step."):
                step = json.loads(data)
                last[step["id"]] = step
        add(*last.values())
    corpus.steps = list(steps.values())
    for step in corpus.steps:
        for call in _calls(step["step_details"]):
            corpus.call_types.add(call["type"])
            if call["type"] == "code_interpreter":
                corpus.output_types.update(o["type"] for o in call["code_interpreter"]["outputs"])
    return corpus


@pytest.fixture
def corpus() -> Corpus:
    found = _corpus()
    if found is None:
        pytest.skip(f"real corpus not found at {REAL} (set STEPWIRE_FIXTURES)")
    return found


def _median(values: list[int]) -> float:
    return statistics.median(values)


def _p90(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def _strings(obj: Any) -> list[str]:
    """Every string value in a JSON object (keys excluded)."""
    if isinstance(obj, str):
        return [obj]
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else []
    return [s for value in values for s in _strings(value)]


def _generated_calls() -> list[dict[str, Any]]:
    return [call for step in STEPS for call in _calls(step["step_details"])]


def _fragment_lengths() -> list[int]:
    return [
        len(call["function"]["arguments"])
        for event in DELTAS
        for call in event["delta"]["step_details"]["tool_calls"]
        if "id" not in call  # the first delta of a call opens it with arguments ""
    ]


def test_generator_produces_every_type_seen_in_the_corpus(corpus: Corpus) -> None:
    details = {s["step_details"]["type"] for s in corpus.steps}
    generated_calls = _generated_calls()
    assert details <= {s["step_details"]["type"] for s in STEPS}
    assert corpus.call_types <= {c["type"] for c in generated_calls}
    assert corpus.output_types <= {
        o["type"]
        for c in generated_calls
        if c["type"] == "code_interpreter"
        for o in c["code_interpreter"]["outputs"]
    }
    statuses = {s["status"] for s in corpus.steps}
    assert statuses <= {s["status"] for s in STEPS}


def test_generated_step_type_mix_is_near_the_corpus(corpus: Corpus) -> None:
    real = _share([s["type"] == "message_creation" for s in corpus.steps])
    generated = _share([s["type"] == "message_creation" for s in STEPS])
    assert abs(real - generated) < 0.15, (real, generated)


def test_generated_fragment_lengths_are_those_of_real_streams(corpus: Corpus) -> None:
    lengths = _fragment_lengths()
    real = corpus.fragments
    assert min(real) <= min(lengths)
    assert max(lengths) <= max(real)
    assert abs(_median(lengths) - _median(real)) <= 1, (_median(lengths), _median(real))
    assert abs(_p90(lengths) - _p90(real)) <= 2, (_p90(lengths), _p90(real))


def test_generated_text_is_mostly_ascii_like_the_corpus(corpus: Corpus) -> None:
    """Non-ASCII text is decoded on a slower path by every parser: keep it as rare as real."""

    def density(steps: list[dict[str, Any]]) -> float:
        text = "".join(s for step in steps for s in _strings(step))
        return sum(not c.isascii() for c in text) / len(text)

    real, generated = density(corpus.steps), density(STEPS)
    assert 0 < generated <= 10 * real, (generated, real)


def test_generated_delta_events_are_the_size_of_real_ones(corpus: Corpus) -> None:
    step_id = "step_9c9pSsTIsCYc1KeHEI6Ba34s"  # 28 characters, as the live API's (and the bench's)
    sizes = [len(frame(DELTA, event)) for event in generate_delta_events(500, step_id=step_id)]
    real = _median(corpus.delta_sizes)
    assert 0.8 * real <= _median(sizes) <= 1.2 * real, (_median(sizes), real)


def test_generated_string_lengths_are_near_the_corpus(corpus: Corpus) -> None:
    def lengths(
        steps: list[dict[str, Any]], kind: str, pick: Callable[[dict[str, Any]], list[str]]
    ) -> list[int]:
        return [
            len(text)
            for step in steps
            for call in _calls(step["step_details"])
            if call["type"] == kind
            for text in pick(call[kind])
        ]

    def code(body: dict[str, Any]) -> list[str]:
        return [body["input"]] if body["input"] else []

    def content(body: dict[str, Any]) -> list[str]:
        return [c["text"] for r in body.get("results", []) for c in r.get("content", [])]

    for kind, pick in [("code_interpreter", code), ("file_search", content)]:
        real = _median(lengths(corpus.steps, kind, pick))
        generated = _median(lengths(STEPS, kind, pick))
        assert real / 2 <= generated <= real * 2, (kind, generated, real)
    message_ids = {
        len(s["step_details"]["message_creation"]["message_id"])
        for s in corpus.steps
        if s["type"] == "message_creation"
    }
    assert message_ids == {
        len(s["step_details"]["message_creation"]["message_id"])
        for s in STEPS
        if s["type"] == "message_creation"
    }


# -- the generator on its own ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_generation_is_deterministic_by_seed(seed: int) -> None:
    state = random.getstate()
    steps = generate_steps(50, seed=seed)
    assert random.getstate() == state  # the global generator is left alone
    assert orjson.dumps(generate_steps(50, seed=seed)) == orjson.dumps(steps)
    assert orjson.dumps(generate_steps(50, seed=seed + 1)) != orjson.dumps(steps)
    assert generate_page(50, seed=seed)["data"] == steps
    rng = random.Random(seed)
    assert [generate_step(rng) for _ in range(50)] == steps
    deltas = generate_delta_events(200, seed=seed, parallel=2)
    assert generate_delta_events(200, seed=seed, parallel=2) == deltas
    assert generate_delta_events(200, seed=seed + 1, parallel=2) != deltas


def test_generator_covers_what_the_real_bodies_carry() -> None:
    """CRLF and LF code, unicode and plain ASCII text, content all-or-none per call."""
    codes = [
        c["code_interpreter"]["input"]
        for c in _generated_calls()
        if c["type"] == "code_interpreter"
    ]
    assert any("\r\n" in code for code in codes)
    assert any("\n" in code and "\r" not in code for code in codes)
    texts = [json.dumps(step, ensure_ascii=False) for step in STEPS]
    assert any(not text.isascii() for text in texts)
    assert _share([text.isascii() for text in texts]) > 0.5  # most real steps are ASCII
    searches = [c["file_search"] for c in _generated_calls() if c["type"] == "file_search"]
    with_content = [{"content" in r for r in s["results"]} for s in searches if s["results"]]
    assert {True} in with_content
    assert {False} in with_content
    assert all(len(flags) == 1 for flags in with_content)  # include[] is per request


def test_generated_fragments_are_1_to_12_characters() -> None:
    """The range benchmarks/stream.py and docs/performance.md describe."""
    assert set(_fragment_lengths()) == set(range(1, 13))
