"""pytest-benchmark suite: SSE bytes in 4 KiB chunks to the merged run-step snapshot.

Run with ``make bench`` (not part of ``make test``), or alone::

    PYTHONPATH=src:. .venv/bin/python -m pytest benchmarks/test_stream.py --benchmark-only

Groups are scenarios (``stream-<events>``, ``-parallel3`` for three
interleaved calls, `` (gc-off)`` with the collector off); within a group,
compare the rows. Every row carries ``extra_info``: the tags of every
benchmark row (``scenario``, ``contender``, ``gc``, ``units``, ``unit``; see
``benchmarks/conftest.py``), then ``events``, ``bytes``, ``chunks`` and
``us_per_event`` (median time / events). The scenario and the
contenders are in ``benchmarks/stream.py``; the Cython contender is skipped,
with a note, while ``stepwire._stream_c`` is not built. openai-python is
timed at 1,000 events only: it rebuilds the snapshot per delta, about
120 us an event, so one 100,000-event stream would take 12 s or more.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.stream import (
    arguments_of,
    check_same_result,
    expected_arguments,
    missing_note,
    stream_bytes,
    stream_chunks,
    stream_contenders,
)

NAMES = ["stepwire cython", "stepwire python", "openai-python"]

# (events, parallel calls): which contenders run, and pedantic rounds (None: let
# pytest-benchmark calibrate; for the slow rows, a few rounds of one call).
SCENARIOS: dict[tuple[int, int], dict[str, int | None]] = {
    (1_000, 1): {"stepwire cython": None, "stepwire python": None, "openai-python": 5},
    (1_000, 3): {"stepwire cython": None, "stepwire python": None, "openai-python": 5},
    (100_000, 1): {"stepwire cython": 5, "stepwire python": 3},
}


def _run(benchmark: Any, name: str, events: int, parallel: int, collector: str) -> None:
    # The tags every row carries (benchmarks/conftest.py), set first so that a
    # skipped row is reported under its scenario and contender too.
    benchmark.extra_info["scenario"] = f"stream-{events}" + (
        "" if parallel == 1 else f"-parallel{parallel}"
    )
    benchmark.extra_info["contender"] = name
    benchmark.extra_info["gc"] = collector.removeprefix("gc-")
    benchmark.extra_info["units"] = events
    benchmark.extra_info["unit"] = "event"
    rounds = SCENARIOS[events, parallel]
    if name not in rounds:
        pytest.skip(f"{name} is not timed at {events:,} events (far too slow)")
    contenders = stream_contenders(events, parallel, openai=name == "openai-python")
    if name not in contenders:
        pytest.skip(missing_note() or f"{name} is not available")
    run = contenders[name]
    benchmark.group = (
        f"stream-{events}"
        + ("" if parallel == 1 else f"-parallel{parallel}")
        + ("" if collector == "gc-on" else f" ({collector})")
    )
    benchmark.extra_info["events"] = events
    benchmark.extra_info["parallel"] = parallel
    benchmark.extra_info["bytes"] = len(stream_bytes(events, parallel))
    benchmark.extra_info["chunks"] = len(stream_chunks(events, parallel))
    if rounds[name] is None:
        snapshot = benchmark(run)
    else:
        snapshot = benchmark.pedantic(run, rounds=rounds[name], warmup_rounds=1, iterations=1)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["us_per_event"] = benchmark.stats.stats.median / events * 1e6
    assert arguments_of(snapshot) == expected_arguments(events, parallel)


@pytest.mark.parametrize("name", NAMES)
def test_stream_1000(benchmark: Any, name: str, collector: str) -> None:
    _run(benchmark, name, 1_000, 1, collector)


@pytest.mark.parametrize("name", NAMES)
def test_stream_1000_parallel3(benchmark: Any, name: str, gc_on: str) -> None:
    _run(benchmark, name, 1_000, 3, gc_on)


@pytest.mark.parametrize("name", NAMES)
def test_stream_100000(benchmark: Any, name: str, gc_on: str) -> None:
    _run(benchmark, name, 100_000, 1, gc_on)


@pytest.mark.parametrize(("events", "parallel"), [(200, 1), (1_000, 1), (1_000, 3)])
def test_same_result(events: int, parallel: int) -> None:
    """Not timed: every contender builds the arguments the deltas carry."""
    results = check_same_result(events, parallel)
    assert "stepwire python" in results
    assert "openai-python" in results
