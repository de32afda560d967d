"""``make demo``: decode the bundled samples and a generated corpus, and say how fast.

Runs on an embedded default (no arguments, no network, no files beyond the
repository): the sample bodies in samples/ and a seeded corpus of mixed
100-step pages, then the same bytes through orjson, pydantic and openai-python
in the same process.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import orjson

import stepwire
from benchmarks.contenders import page_contenders
from benchmarks.timing import interleaved
from stepwire._generate import generate_page, generate_steps

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
    medians = interleaved({n: (lambda f=f: f(body)) for n, f in contenders.items()}, rounds=9)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
