"""``python -m benchmarks.shape``: the benchmark data next to the recorded real bodies.

Computes the same statistics over the recorded corpus (``shared/fixtures/real``)
and over what the seeded generator (``stepgen``) gives the
benchmarks, and prints them side by side as a markdown table::

    python -m benchmarks.shape [--fixtures DIR] [--steps 1000] [--events 1000]

The corpus is found at ``--fixtures``, else ``$STEPWIRE_FIXTURES``, else
``../shared/fixtures/real`` beside the checkout. Without it, only the
generator column is printed (exit status 0).

Real side: every step of the ``.json`` bodies and the final merged snapshot of
every step of the ``.sse`` bodies (``stepwire.Accumulator``), identical bodies
counted once, bodies marked ``EDITED`` left out (not real API values); stream
statistics from every ``.sse`` body. Generated side: ``generate_steps(1000)``
(the steps of the page, NDJSON and memory scenarios) and the SSE bodies of the
stream scenario (``benchmarks.stream.stream_bytes``, one call and three
interleaved calls).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stepwire
from benchmarks.stream import stream_bytes
from stepgen import generate_steps

__all__ = [
    "Event",
    "Sample",
    "corpus_sample",
    "default_fixtures",
    "generated_sample",
    "main",
    "sse_events",
    "statistics_of",
    "table",
]

ROOT = Path(__file__).resolve().parent.parent
DELTA = "thread.run.step.delta"
STEP_EVENTS = frozenset(
    {
        "thread.run.step.created",
        "thread.run.step.in_progress",
        DELTA,
        "thread.run.step.completed",
        "thread.run.step.failed",
        "thread.run.step.cancelled",
        "thread.run.step.expired",
    }
)
MAIN_TOOLS = ("code_interpreter", "function", "file_search")
STATUSES = ("completed", "in_progress", "failed")
JSON_ESCAPED = frozenset('"\\') | frozenset(chr(c) for c in range(0x20))

Step = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """One event of an event-stream body.

    Attributes
    ----------
    name : str
        The ``event:`` field (``message`` when absent).
    data : bytes
        The ``data:`` lines, joined with ``\\n``.
    size : int
        Bytes of the whole block in the body, its terminating blank line included.
    """

    name: str
    data: bytes
    size: int


@dataclass
class Sample:
    """What the statistics are computed over.

    Attributes
    ----------
    label : str
        Column heading.
    steps : list of dict
        Run step bodies.
    streams : list of list of Event
        Event-stream bodies, parsed.
    """

    label: str
    steps: list[Step] = field(default_factory=list)
    streams: list[list[Event]] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------------


def default_fixtures() -> Path:
    """Where the recorded corpus is looked for when ``--fixtures`` is not given.

    Returns
    -------
    Path
        ``$STEPWIRE_FIXTURES`` if set, else ``../shared/fixtures/real`` next to the
        repository root (the layout of the project's checkouts and of CI).
    """
    env = os.environ.get("STEPWIRE_FIXTURES")
    return Path(env) if env else ROOT.parent / "shared" / "fixtures" / "real"


def sse_events(body: bytes) -> list[Event]:
    """Split an event-stream body into its events (a plain splitter, not stepwire's).

    Parameters
    ----------
    body : bytes
        A ``text/event-stream`` body; lines may end in LF or CRLF.

    Returns
    -------
    list of Event
        The blocks that carry data, in order. Comment-only blocks are dropped.
    """
    events = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        name = "message"
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
        if data:
            events.append(Event(name, b"\n".join(data), len(block) + 2))
    return events


def _final_steps(body: bytes) -> list[Step]:
    """The merged snapshot of every step a stream body carries, as JSON objects."""
    acc = stepwire.Accumulator()
    try:
        acc.feed(body)
        acc.close()
    except stepwire.StreamError:  # a stream cut by `event: error`: keep what was merged
        pass
    return [json.loads(stepwire.encode(acc.steps[key])) for key in acc.steps]


def corpus_sample(directory: Path) -> Sample:
    """The recorded corpus as a :class:`Sample`.

    Parameters
    ----------
    directory : Path
        The folder of ``.json`` and ``.sse`` bodies.

    Returns
    -------
    Sample
        Steps of the ``.json`` bodies and final snapshots of the ``.sse`` steps, each
        distinct body once, ``EDITED`` files left out; every ``.sse`` body as a stream.
    """
    seen: set[str] = set()
    sample = Sample("real corpus")

    def add(steps: Iterable[Step]) -> None:
        for step in steps:
            key = json.dumps(step, sort_keys=True)
            if key not in seen:
                seen.add(key)
                sample.steps.append(step)

    for path in sorted(directory.glob("*.json")):
        if "EDITED" in path.name:
            continue
        obj = json.loads(path.read_bytes())
        add(obj["data"] if obj.get("object") == "list" else [obj])
    for path in sorted(directory.glob("*.sse")):
        body = path.read_bytes()
        sample.streams.append(sse_events(body))
        add(_final_steps(body))
    return sample


def generated_sample(steps: int = 1_000, events: int = 1_000, seed: int = 0) -> Sample:
    """What the benchmarks are run on, as a :class:`Sample`.

    Parameters
    ----------
    steps : int
        How many steps to draw with ``generate_steps(steps, seed)``.
    events : int
        Delta events per stream; the streams are those of the stream scenario
        (``benchmarks.stream.stream_bytes``) with one call and with three
        interleaved calls.
    seed : int
        Seed of the steps and of the streams.

    Returns
    -------
    Sample
    """
    return Sample(
        "generator",
        generate_steps(steps, seed=seed),
        [sse_events(stream_bytes(events, parallel, seed)) for parallel in (1, 3)],
    )


# -- statistics ---------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _share(part: int, total: int) -> str:
    return f"{100 * part / total:.0f}% ({part:,}/{total:,})" if total else "-"


def _spread(values: Sequence[float], *, maximum: bool = False) -> str:
    """``median / p90`` (and ``/ max``) with the count; p90 by nearest rank."""
    if not values:
        return "-"
    ordered = sorted(values)
    parts = [statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1]]
    if maximum:
        parts.append(ordered[-1])
    return " / ".join(_number(v) for v in parts) + f" (n={len(ordered):,})"


def _presence(objects: Sequence[dict[str, Any]], key: str) -> str:
    if not objects:
        return "-"
    absent = sum(key not in o for o in objects)
    null = sum(key in o and o[key] is None for o in objects)
    total = len(objects)
    return (
        f"{100 * absent / total:.0f}% / {100 * null / total:.0f}% / "
        f"{100 * (total - absent - null) / total:.0f}% (n={total:,})"
    )


def _strings(obj: Any) -> Iterator[str]:
    """Every string value in a JSON object (keys excluded)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _strings(value)


def _calls(steps: Iterable[Step]) -> list[dict[str, Any]]:
    return [
        call
        for step in steps
        for call in step.get("step_details", {}).get("tool_calls", [])
        if isinstance(call, dict)
    ]


def _free_text(calls: Iterable[dict[str, Any]]) -> list[str]:
    """The fields that carry text rather than ids: arguments, outputs, code, logs, content."""
    texts: list[str] = []
    for call in calls:
        body = call.get(call.get("type", ""), {})
        if not isinstance(body, dict):
            continue
        if call["type"] == "function":
            texts.extend(v for k in ("arguments", "output") if isinstance(v := body.get(k), str))
        elif call["type"] == "code_interpreter":
            texts.append(body.get("input", ""))
            texts.extend(o["logs"] for o in body.get("outputs", []) if o.get("type") == "logs")
        elif call["type"] == "file_search":
            for result in body.get("results", []):
                texts.append(result.get("file_name", ""))
                texts.extend(c.get("text", "") for c in result.get("content", []))
    return texts


def _fragments(streams: Iterable[list[Event]], kind: str, field_name: str) -> list[str]:
    """The non-empty string fragments of ``field_name`` in delta tool calls of ``kind``."""
    found = []
    for stream in streams:
        for event in stream:
            if event.name != DELTA:
                continue
            details = json.loads(event.data)["delta"].get("step_details", {})
            for call in details.get("tool_calls", []):
                value = call.get(kind, {}).get(field_name) if call.get("type") == kind else None
                if isinstance(value, str) and value:
                    found.append(value)
    return found


def _step_rows(steps: list[Step]) -> dict[str, str]:
    rows: dict[str, str] = {}
    n = len(steps)
    tool_steps = [s for s in steps if s.get("step_details", {}).get("type") == "tool_calls"]
    calls = _calls(steps)
    types = Counter(c.get("type") for c in calls)
    functions = [c["function"] for c in calls if c.get("type") == "function"]
    codes = [c["code_interpreter"] for c in calls if c.get("type") == "code_interpreter"]
    searches = [c["file_search"] for c in calls if c.get("type") == "file_search"]
    results = [r for s in searches for r in s.get("results", [])]
    statuses = Counter(s.get("status") for s in steps)
    outputs = Counter(
        next((o.get("type") for o in code.get("outputs", [])), "none") for code in codes
    )
    texts = _free_text(calls)
    all_strings = [text for step in steps for text in _strings(step)]

    rows["steps"] = f"{n:,}"
    rows["step body, bytes of compact JSON (median / p90 / max)"] = _spread(
        [len(json.dumps(s, separators=(",", ":"), ensure_ascii=False).encode()) for s in steps],
        maximum=True,
    )
    rows["step type: message_creation"] = _share(n - len(tool_steps), n)
    rows["step type: tool_calls"] = _share(len(tool_steps), n)
    for status in STATUSES:
        rows[f"status: {status}"] = _share(statuses[status], n)
    others = n - sum(statuses[s] for s in STATUSES)
    rows["status: other"] = _share(others, n)
    rows["tool calls per tool_calls step: 0 / 1 / 2+"] = (
        " / ".join(
            f"{100 * k / len(tool_steps):.0f}%"
            for k in (
                sum(not s["step_details"]["tool_calls"] for s in tool_steps),
                sum(len(s["step_details"]["tool_calls"]) == 1 for s in tool_steps),
                sum(len(s["step_details"]["tool_calls"]) > 1 for s in tool_steps),
            )
        )
        if tool_steps
        else "-"
    )
    for kind in MAIN_TOOLS:
        rows[f"tool call type: {kind}"] = _share(types[kind], len(calls))
    other_types = sorted((k for k in types if k not in MAIN_TOOLS), key=lambda k: -types[k])
    rows["tool call type: other"] = (
        ", ".join(f"{k} {100 * types[k] / len(calls):.0f}%" for k in other_types) or "none"
    )
    rows["function arguments, chars (median / p90)"] = _spread(
        [len(f["arguments"]) for f in functions if isinstance(f.get("arguments"), str)]
    )
    rows["function output: absent / null / set"] = _presence(functions, "output")
    rows["code input, chars (median / p90)"] = _spread([len(c["input"]) for c in codes])
    rows["code inputs with CRLF"] = _share(sum("\r\n" in c["input"] for c in codes), len(codes))
    rows["code outputs: none / logs / image"] = (
        " / ".join(f"{100 * outputs[k] / len(codes):.0f}%" for k in ("none", "logs", "image"))
        if codes
        else "-"
    )
    rows["file_search results per call (median / p90)"] = _spread(
        [len(s.get("results", [])) for s in searches]
    )
    rows["file_search results with content"] = _share(
        sum("content" in r for r in results), len(results)
    )
    rows["file_search content text, chars (median / p90)"] = _spread(
        [len(c["text"]) for r in results for c in r.get("content", [])]
    )
    rows["message id, chars (median / p90)"] = _spread(
        [
            len(s["step_details"]["message_creation"]["message_id"])
            for s in steps
            if s.get("step_details", {}).get("type") == "message_creation"
        ]
    )
    rows["strings with non-ASCII: all string values"] = _share(
        sum(not t.isascii() for t in all_strings), len(all_strings)
    )
    rows["strings with non-ASCII: free text (args, code, logs, content)"] = _share(
        sum(not t.isascii() for t in texts), len(texts)
    )
    chars = sum(map(len, texts))
    rows["non-ASCII characters per 1,000 of free text"] = (
        f"{1000 * sum(not c.isascii() for t in texts for c in t) / chars:.1f}" if chars else "-"
    )
    for key in ("usage", "last_error", "expires_at", "metadata"):
        rows[f"{key}: absent / null / set"] = _presence(steps, key)
    return rows


def _stream_rows(streams: list[list[Event]]) -> dict[str, str]:
    rows: dict[str, str] = {}
    per_step: list[int] = []
    for stream in streams:
        counts = Counter(
            json.loads(e.data).get("id") for e in stream if e.name in STEP_EVENTS and e.data
        )
        per_step.extend(counts.values())
    deltas = [e for stream in streams for e in stream if e.name == DELTA]
    arguments = _fragments(streams, "function", "arguments")
    inputs = _fragments(streams, "code_interpreter", "input")
    fragments = arguments + inputs

    rows["streams / events / step delta events"] = (
        f"{len(streams):,} / {sum(map(len, streams)):,} / {len(deltas):,}"
    )
    rows["step events per step (median / p90 / max)"] = _spread(per_step, maximum=True)
    rows["argument fragment, chars (median / p90 / max)"] = _spread(
        [len(f) for f in arguments], maximum=True
    )
    rows["code-input fragment, chars (median / p90 / max)"] = _spread(
        [len(f) for f in inputs], maximum=True
    )
    rows["fragments with a JSON-escaped char (quote, backslash, control)"] = _share(
        sum(not JSON_ESCAPED.isdisjoint(f) for f in fragments), len(fragments)
    )
    rows["fragments with non-ASCII"] = _share(
        sum(not f.isascii() for f in fragments), len(fragments)
    )
    rows["bytes per step delta event (median / p90 / max)"] = _spread(
        [e.size for e in deltas], maximum=True
    )
    rows["bytes per event, any event (median / p90 / max)"] = _spread(
        [e.size for stream in streams for e in stream], maximum=True
    )
    return rows


def statistics_of(sample: Sample) -> dict[str, str]:
    """The statistics of one sample, formatted, by row label.

    Parameters
    ----------
    sample : Sample

    Returns
    -------
    dict of str to str
        Shares are ``percent (count/total)``; lengths ``median / p90`` (``/ max`` for
        streams) with ``n``, the count they are over; presence is
        ``absent / null / set`` in percent of the objects that may carry the key.
    """
    return {**_step_rows(sample.steps), **_stream_rows(sample.streams)}


def table(samples: Sequence[Sample]) -> str:
    """A markdown table with one column per sample.

    Parameters
    ----------
    samples : sequence of Sample

    Returns
    -------
    str
        The table, rows in the order :func:`statistics_of` gives them.
    """
    columns = [statistics_of(s) for s in samples]
    labels = list(dict.fromkeys(label for column in columns for label in column))
    lines = [
        "| statistic | " + " | ".join(s.label for s in samples) + " |",
        "|---|" + "---|" * len(samples),
    ]
    lines.extend(
        f"| {label} | " + " | ".join(column.get(label, "-") for column in columns) + " |"
        for label in labels
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison table.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (``sys.argv[1:]`` by default).

    Returns
    -------
    int
        The exit status: 0, also when the corpus is absent (then only the generator
        column is printed, after a line saying where the corpus was looked for).
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.shape",
        description="The benchmark data generator next to the recorded real bodies, "
        "as a markdown table.",
    )
    parser.add_argument("--fixtures", type=Path, default=None, help="the recorded corpus")
    parser.add_argument("--steps", type=int, default=1_000, help="generated steps (1000)")
    parser.add_argument("--events", type=int, default=1_000, help="delta events per stream")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    fixtures: Path = args.fixtures or default_fixtures()
    samples = []
    if fixtures.is_dir() and any(fixtures.glob("*.json")):
        samples.append(corpus_sample(fixtures))
    else:
        print(
            f"real corpus not found at {fixtures} (pass --fixtures DIR or set "
            "STEPWIRE_FIXTURES); showing the generator only\n"
        )
    samples.append(generated_sample(args.steps, args.events, args.seed))
    print(table(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
