"""pytest-benchmark suite: memory, measured with ``tracemalloc``.

Run with ``make bench`` (not part of ``make test``), or alone::

    PYTHONPATH=. .venv/bin/python -m pytest benchmarks/test_memory.py -p no:cacheprovider \
        --benchmark-only

Two scenarios (``extra_info["scenario"]``):

* ``memory-kept-10000``: decode a page of 10,000 generated steps and keep
  the result; ``bytes_per_step`` is the growth of ``tracemalloc``'s current
  size (after a full collection, with the result still held) divided by the
  steps. The input body was allocated before tracing started and is not
  counted; ``stepwire summary``'s ``Raw`` views point into it and keep all
  of it alive, which ``input_kept_bytes`` says (0 for everyone else).
  ``peak_bytes`` is the high-water mark above the start during the decode.
* ``memory-peak-ndjson-50000``: read an NDJSON file of 50,000 steps (tens of
  MB, written to a temporary directory once) and drop each step:
  ``stepwire.iter_lines(file)``, ``stepwire.decode_lines(file.read())`` and
  a per-line ``orjson.loads`` loop; ``peak_bytes`` is ``tracemalloc``'s peak
  above the start, ``file_bytes`` the file's size.

``tracemalloc`` sees what goes through Python's allocators, which is every
object a decoder returns; a library's private scratch memory outside them
(a C or Rust ``malloc``) is not counted. Tracing slows allocation down, so
the memory is measured in its own run and the row's time comes from one
untraced call through the ``benchmark`` fixture (``rounds=1``): a time for
orientation, not a speed figure (those are in the decode scenarios).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pydantic
import pytest

import stepwire
from benchmarks.contenders import (
    OPENAI_VALIDATE,
    SUMMARY,
    all_page_contenders,
    openai_rejections,
    step_ids,
)
from stepgen import generate_page, generate_steps

KEPT_STEPS = 10_000
PEAK_STEPS = 50_000


def _traced(run: Callable[[], Any]) -> tuple[Any, int, int]:
    """``run()``'s result, the memory it still holds, and its peak, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = run()
        peak = tracemalloc.get_traced_memory()[1]
        # Garbage the decode left in cycles is not memory the result keeps.
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return result, kept - start, peak - start


# -- memory kept per decoded step -----------------------------------------------

KEPT_DATA = generate_page(KEPT_STEPS, seed=1)
KEPT_BODY = orjson.dumps(KEPT_DATA)
KEPT_IDS = step_ids(KEPT_DATA)
KEPT = all_page_contenders()


@pytest.mark.parametrize("name", list(KEPT))
def test_memory_kept_10000(benchmark: Any, tag: Callable[..., None], name: str, gc_on: str) -> None:
    decode = KEPT[name]
    tag(
        scenario="memory-kept-10000",
        contender=name,
        collector=gc_on,
        units=KEPT_STEPS,
        unit="step",
        bytes=len(KEPT_BODY),
    )
    benchmark.group = f"memory: kept after decoding a {KEPT_STEPS:,}-step page (gc-on)"
    try:
        result, kept, peak = _traced(lambda: decode(KEPT_BODY))
    except pydantic.ValidationError:
        if name != OPENAI_VALIDATE:
            raise
        why = openai_rejections(orjson.dumps(step) for step in KEPT_DATA["data"])
        pytest.skip(f"{name} cannot decode the page: {why}")
    assert step_ids(result) == KEPT_IDS, f"{name}: wrong steps"
    del result
    benchmark.extra_info["kept_bytes"] = kept
    benchmark.extra_info["bytes_per_step"] = kept / KEPT_STEPS
    benchmark.extra_info["peak_bytes"] = peak
    # Raw views point into the body, so the summary keeps all of it alive.
    benchmark.extra_info["input_kept_bytes"] = len(KEPT_BODY) if name == SUMMARY else 0
    result = benchmark.pedantic(decode, args=(KEPT_BODY,), rounds=1, iterations=1)
    assert len(step_ids(result)) == KEPT_STEPS


# -- peak memory reading a large NDJSON file --------------------------------------


@pytest.fixture(scope="module")
def ndjson_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """50,000 generated steps, one per line, in a temporary file."""
    path = tmp_path_factory.mktemp("memory") / f"steps-{PEAK_STEPS}.ndjson"
    with path.open("wb") as out:
        for step in generate_steps(PEAK_STEPS, seed=3):
            out.write(orjson.dumps(step) + b"\n")
    yield path
    path.unlink()


def _iter_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as file:
        for _step in stepwire.iter_lines(file):
            count += 1
    return count


def _decode_lines(path: Path) -> int:
    with path.open("rb") as file:
        return len(stepwire.decode_lines(file.read()))


def _orjson_lines(path: Path) -> int:
    count = 0
    loads = orjson.loads
    with path.open("rb") as file:
        for line in file:
            loads(line)
            count += 1
    return count


PEAK: dict[str, Callable[[Path], int]] = {
    "stepwire iter_lines": _iter_lines,
    "stepwire decode_lines": _decode_lines,
    "orjson.loads per line": _orjson_lines,
}


@pytest.mark.parametrize("name", list(PEAK))
def test_memory_peak_ndjson_50000(
    benchmark: Any, tag: Callable[..., None], ndjson_file: Path, name: str, gc_on: str
) -> None:
    run = PEAK[name]
    size = ndjson_file.stat().st_size
    tag(
        scenario="memory-peak-ndjson-50000",
        contender=name,
        collector=gc_on,
        units=PEAK_STEPS,
        unit="step",
        file_bytes=size,
    )
    benchmark.group = f"memory: peak reading an NDJSON file of {PEAK_STEPS:,} steps (gc-on)"
    count, _kept, peak = _traced(lambda: run(ndjson_file))
    assert count == PEAK_STEPS, f"{name}: {count} steps"
    benchmark.extra_info["peak_bytes"] = peak
    benchmark.extra_info["peak_per_file_byte"] = peak / size
    assert benchmark.pedantic(run, args=(ndjson_file,), rounds=1, iterations=1) == PEAK_STEPS
