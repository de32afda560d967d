"""pytest-benchmark suite: streams from the replay server, in this process's CPU time.

Run with ``make bench`` (not part of ``make test``), or alone::

    PYTHONPATH=src:. .venv/bin/python -m pytest benchmarks/test_responses.py \\
        -p no:cacheprovider --benchmark-only

The same server, streams and callables as bench-check's ``http-events`` and
``openai-stream`` scenarios (``benchmarks/responses.py``): the server runs in a process
of its own, and each row is timed with ``time.process_time`` (the client's CPU, not the
wait for the server), GC on.

* ``http-events-1001``: a generated stream of 1,000 small delta events over a kept-alive
  ``httpx.Client``: ``httpx drain`` against ``stepwire iter_events``; a unit is an event.
* ``openai-stream-50``: the recorded 50-event run stream through openai-python's real
  client: its typed ``Stream``, its ``runs.stream()`` handler, and
  ``with_streaming_response`` read by ``stepwire.iter_events``; a unit is an event (the
  ratios are those of whole streams).

``python -m benchmarks.responses`` prints the same figures for every recorded stream
(docs/responses.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from benchmarks.responses import (
    HTTP_CONTENDERS,
    OPENAI_CONTENDERS,
    OPENAI_FIXTURE,
    REAL,
    Server,
    http_contenders,
    openai_contenders,
)

ROUNDS = 30


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    made = Server()
    yield made
    made.close()


@pytest.fixture(scope="module")
def http_runs(server: Server) -> tuple[dict[str, Callable[[], Any]], int]:
    return http_contenders(server)


@pytest.fixture(scope="module")
def openai_runs(server: Server) -> tuple[dict[str, Callable[[], Any]], int]:
    import stepwire

    acc = stepwire.Accumulator()
    events = acc.feed((REAL / f"{OPENAI_FIXTURE}.sse").read_bytes()) + acc.close()
    return openai_contenders(server), len(events)


@pytest.mark.benchmark(timer=time.process_time)
@pytest.mark.parametrize("name", HTTP_CONTENDERS)
def test_http_events(
    benchmark: Any,
    tag: Callable[..., None],
    name: str,
    gc_on: str,
    http_runs: tuple[dict[str, Callable[[], Any]], int],
) -> None:
    runs, events = http_runs
    tag(
        scenario=f"http-events-{events}",
        contender=name,
        collector=gc_on,
        units=events,
        unit="event",
        clock="process_time",
    )
    benchmark.group = f"http stream, {events:,} events, CPU time ({gc_on})"
    benchmark.pedantic(runs[name], rounds=ROUNDS, warmup_rounds=2, iterations=1)


@pytest.mark.benchmark(timer=time.process_time)
@pytest.mark.parametrize("name", OPENAI_CONTENDERS)
def test_openai_stream(
    benchmark: Any,
    tag: Callable[..., None],
    name: str,
    gc_on: str,
    openai_runs: tuple[dict[str, Callable[[], Any]], int],
) -> None:
    runs, events = openai_runs
    tag(
        scenario=f"openai-stream-{events}",
        contender=name,
        collector=gc_on,
        units=events,
        unit="event",
        clock="process_time",
    )
    benchmark.group = f"openai-python client, a recorded {events}-event stream, CPU ({gc_on})"
    benchmark.pedantic(runs[name], rounds=ROUNDS, warmup_rounds=2, iterations=1)
