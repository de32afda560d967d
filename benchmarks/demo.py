"""``make demo``: decode the bundled samples and a generated corpus, and say how fast.

Runs on an embedded default (no arguments, no network, no files beyond the
repository): the sample bodies in samples/ and a seeded corpus of mixed
100-step pages, then the same bytes through orjson, pydantic and openai-python
in the same process.
"""

from __future__ import annotations

import functools
import io
import sys
import time
from pathlib import Path

import orjson

import stepwire
from benchmarks.contenders import page_contenders
from benchmarks.stream import (
    check_same_result,
    missing_note,
    stream_bytes,
    stream_chunks,
    stream_contenders,
)
from benchmarks.timing import interleaved
from stepgen import generate_page, generate_steps

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    print(f"stepwire {stepwire.__version__}\n")
    print("Bundled samples (samples/):")
    for path in sorted((ROOT / "samples").glob("*.json")):
        page = stepwire.decode_page(path.read_bytes())
        kinds = sorted(
            {
                getattr(c, "type", "?")
                for s in page.data
                for c in getattr(s.step_details, "tool_calls", [])
            }
        )
        print(f"  {path.name}: {len(page.data)} steps; tool calls: {', '.join(kinds) or '-'}")
    deltas = (ROOT / "samples" / "step_deltas.ndjson").read_bytes().splitlines()
    print(f"  step_deltas.ndjson: {len([stepwire.decode_delta(d) for d in deltas])} delta events")

    pages = [orjson.dumps(generate_page(100, seed=seed)) for seed in range(50)]
    total = sum(map(len, pages))
    start = time.perf_counter()
    decoded = [stepwire.decode_page(body) for body in pages]
    elapsed = time.perf_counter() - start
    steps = sum(len(p.data) for p in decoded)
    calls = sum(len(getattr(s.step_details, "tool_calls", [])) for p in decoded for s in p.data)
    print(
        f"\nGenerated corpus: {len(pages)} pages, {steps} steps, {calls} tool calls, "
        f"{total / 1e6:.1f} MB"
    )
    print(
        f"  decoded once in {elapsed * 1e3:.1f} ms: {total / elapsed / 1e6:.0f} MB/s, "
        f"{steps / elapsed:,.0f} steps/s"
    )

    ndjson = b"\n".join(orjson.dumps(s) for s in generate_steps(10_000, seed=1))
    start = time.perf_counter()
    count = sum(1 for _ in stepwire.iter_lines(io.BytesIO(ndjson)))
    elapsed = time.perf_counter() - start
    print(
        f"  NDJSON via iter_lines: {count:,} steps, {len(ndjson) / elapsed / 1e6:.0f} MB/s, "
        f"{count / elapsed:,.0f} steps/s"
    )

    body = pages[0]
    contenders = page_contenders()
    print("\nOne mixed 100-step page, garbage collector on, median of interleaved rounds:")
    medians = interleaved({n: functools.partial(f, body) for n, f in contenders.items()}, rounds=9)
    base = medians["stepwire"]
    for name, seconds in medians.items():
        ratio = seconds / base
        note = (
            ""
            if name == "stepwire"
            else f"  stepwire is {ratio:.1f}x faster"
            if ratio >= 1
            else f"  stepwire takes {1 / ratio:.2f}x its time"
        )
        print(f"  {name:20s} {seconds * 1e6:9.1f} us  {len(body) / seconds / 1e6:7.0f} MB/s{note}")

    streaming()
    return 0


SMALL, LARGE = 1_000, 100_000  # delta events per stream
STREAM_ROUNDS = 7


def streaming() -> None:
    """Per-event cost of chunks to merged snapshot, and the ratios the project targets."""
    print(
        "\nStreaming: one function call as SSE bytes in 4 KiB chunks to the merged snapshot\n"
        "(step created, then N deltas of 1-12 argument characters; garbage collector on;\n"
        f"median of {STREAM_ROUNDS} interleaved rounds, all contenders and sizes in each round):"
    )
    note = missing_note()
    if note:
        print(
            "  NOTE: the Cython extension stepwire._stream_c is missing (not built in place);\n"
            "  Python-only figures below."
        )
    check_same_result(SMALL)  # every contender builds the same arguments (not timed)

    calls = {}
    for n in (SMALL, LARGE):
        for name, run in stream_contenders(n).items():
            calls[name, n] = run
    medians = interleaved(
        {f"{name} @ {n}": run for (name, n), run in calls.items()},
        rounds=STREAM_ROUNDS,
        target=0.05,
    )
    per_event = {key: medians[f"{key[0]} @ {key[1]}"] / key[1] for key in calls}

    for n in (SMALL, LARGE):
        print(
            f"  N = {n:,} ({len(stream_bytes(n)) / 1e6:.2f} MB, {len(stream_chunks(n)):,} chunks):"
        )
        for (name, size), seconds in per_event.items():
            if size == n:
                print(f"    {name:18s} {seconds * 1e6:8.2f} us/event  {seconds * n * 1e3:9.1f} ms")

    def ratio(a: tuple[str, int], b: tuple[str, int]) -> float | None:
        return per_event[a] / per_event[b] if a in per_event and b in per_event else None

    cy, py, oa = "stepwire cython", "stepwire python", "openai-python"
    rows = [  # label, measured, target, check
        (f"{oa} / {cy} (N=1,000)", ratio((oa, SMALL), (cy, SMALL)), ">= 100x", 100.0),
        (f"{py} / {cy} (N=1,000)", ratio((py, SMALL), (cy, SMALL)), ">= 2x", 2.0),
        (f"{cy}, N=100,000 / N=1,000", ratio((cy, LARGE), (cy, SMALL)), "<= 1.3x", -1.3),
        (f"{py}, N=100,000 / N=1,000", ratio((py, LARGE), (py, SMALL)), "-", None),
        (f"{oa} / {py} (N=1,000)", ratio((oa, SMALL), (py, SMALL)), "-", None),
    ]
    print(f"  {'Ratio of per-event cost':47s} {'measured':>9s}   target")
    for label, value, target, goal in rows:
        shown = "n/a" if value is None else f"{value:.2f}x"
        verdict = ""
        if value is not None and goal is not None:  # a negative goal is an upper bound
            verdict = "met" if (value >= goal if goal > 0 else value <= -goal) else "MISSED"
        print(f"    {label:45s} {shown:>9s}   {target:8s} {verdict}".rstrip())
    if note:
        print("  (n/a: the Cython extension is missing; build it in place to measure its targets)")


if __name__ == "__main__":
    sys.exit(main())
