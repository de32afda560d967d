"""pytest-benchmark suite: decoding and encoding, each contender on the same bytes.

Run with ``make bench`` (not part of ``make test``), or alone::

    PYTHONPATH=. .venv/bin/python -m pytest benchmarks/test_decode.py -p no:cacheprovider \
        --benchmark-only

Scenarios (``extra_info["scenario"]``; groups are the same, in words):

* ``step-1``: one step.
* ``page-100``: a mixed 100-step page (GC on and off).
* ``page-100-openai-types``: a 100-step page of only what openai-python's
  own models accept, so ``openai-python model_validate_json`` can run too.
* ``ndjson-10000``: 10,000 steps, one per line (GC on and off).
* ``encode-page-100``: the mixed page back to JSON.

Contenders are in ``benchmarks/contenders.py``. Each result is checked
(the step ids, in order) before timing and again on what the timed call
returned. A contender that cannot decode a body is skipped with the reason,
which ``benchmarks/conftest.py`` carries into the JSON (``not_measured``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
import pydantic
import pytest

from benchmarks.contenders import (
    OPENAI,
    OPENAI_VALIDATE,
    all_page_contenders,
    encode_contenders,
    lines_contenders,
    openai_rejections,
    openai_types_page,
    step_contenders,
    step_ids,
)
from stepgen import generate_page, generate_steps

PAGE_DATA = generate_page(100, seed=1)
PAGE = orjson.dumps(PAGE_DATA)
STEP = orjson.dumps(generate_page(1, seed=2)["data"][0])
OPENAI_PAGE_DATA = openai_types_page(100, seed=1)
OPENAI_PAGE = orjson.dumps(OPENAI_PAGE_DATA)
LINE_COUNT = 10_000
LINES_DATA = generate_steps(LINE_COUNT, seed=1)
LINES = b"".join(orjson.dumps(step) + b"\n" for step in LINES_DATA)

PAGES = all_page_contenders()
STEPS = step_contenders()
NDJSON = lines_contenders()
ENCODERS = [*encode_contenders(PAGE), OPENAI_VALIDATE]

# Fixed rounds of one call for the NDJSON rows (tens of ms to a second a call):
# calibrated, they got 3 to 8 rounds, too few for a median when, with the
# collector on, some rounds pay for a full collection of everything the
# previous rounds built and others do not. The other scenarios calibrate.
PEDANTIC_ROUNDS: dict[str, dict[str, int]] = {
    "ndjson-10000": {"*": 15, "pydantic v2 strict": 9, OPENAI: 5},
}


@cache
def _why_rejected(scenario: str) -> str:
    steps = {"page-100": PAGE_DATA["data"], "ndjson-10000": LINES_DATA}[scenario]
    return openai_rejections(orjson.dumps(step) for step in steps) or "rejects the body"


def _decode_row(
    benchmark: Any,
    tag: Callable[..., None],
    *,
    scenario: str,
    group: str,
    name: str,
    decode: Callable[[bytes], Any],
    body: bytes,
    expected: list[str],
    collector: str,
    unit: str = "page",
) -> None:
    tag(
        scenario=scenario,
        contender=name,
        collector=collector,
        units=1 if unit == "page" else len(expected),
        unit=unit,
        bytes=len(body),
        steps=len(expected),
    )
    benchmark.group = f"{group} ({collector})"
    try:
        before = decode(body)
    except pydantic.ValidationError:
        if not name.startswith("openai-python"):
            raise
        pytest.skip(f"{name} cannot decode the {scenario} body: {_why_rejected(scenario)}")
    assert step_ids(before) == expected, f"{name}: wrong steps before timing"
    fixed = PEDANTIC_ROUNDS.get(scenario, {})
    rounds = fixed.get(name, fixed.get("*"))
    if rounds is None:
        result = benchmark(decode, body)
    else:
        result = benchmark.pedantic(
            decode, args=(body,), rounds=rounds, warmup_rounds=1, iterations=1
        )
    assert step_ids(result) == expected, f"{name}: wrong steps from the timed call"


@pytest.mark.parametrize("name", list(STEPS))
def test_step_1(benchmark: Any, tag: Callable[..., None], name: str, gc_on: str) -> None:
    _decode_row(
        benchmark,
        tag,
        scenario="step-1",
        group="decode: one step",
        name=name,
        decode=STEPS[name],
        body=STEP,
        expected=step_ids(orjson.loads(STEP)),
        collector=gc_on,
        unit="step",
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_100(benchmark: Any, tag: Callable[..., None], name: str, collector: str) -> None:
    _decode_row(
        benchmark,
        tag,
        scenario="page-100",
        group="decode: mixed 100-step page",
        name=name,
        decode=PAGES[name],
        body=PAGE,
        expected=step_ids(PAGE_DATA),
        collector=collector,
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_100_openai_types(
    benchmark: Any, tag: Callable[..., None], name: str, gc_on: str
) -> None:
    _decode_row(
        benchmark,
        tag,
        scenario="page-100-openai-types",
        group="decode: 100-step page, only types openai-python knows",
        name=name,
        decode=PAGES[name],
        body=OPENAI_PAGE,
        expected=step_ids(OPENAI_PAGE_DATA),
        collector=gc_on,
    )


@pytest.mark.parametrize("name", list(NDJSON))
def test_ndjson_10000(benchmark: Any, tag: Callable[..., None], name: str, collector: str) -> None:
    _decode_row(
        benchmark,
        tag,
        scenario="ndjson-10000",
        group="decode: NDJSON of 10,000 steps",
        name=name,
        decode=NDJSON[name],
        body=LINES,
        expected=step_ids(LINES_DATA),
        collector=collector,
        unit="step",
    )


@pytest.mark.parametrize("name", ENCODERS)
def test_encode_page_100(benchmark: Any, tag: Callable[..., None], name: str, gc_on: str) -> None:
    tag(
        scenario="encode-page-100",
        contender=name,
        collector=gc_on,
        units=1,
        unit="page",
        bytes=len(PAGE),
        steps=len(PAGE_DATA["data"]),
    )
    benchmark.group = "encode: mixed 100-step page (gc-on)"
    if name == OPENAI_VALIDATE:
        pytest.skip(f"{name} cannot build the page to encode: {_why_rejected('page-100')}")
    encode = encode_contenders(PAGE)[name]
    # Every encoder must give back the body it was built from, not merely some JSON.
    assert orjson.loads(encode()) == PAGE_DATA, f"{name}: output differs from the page"
    out = benchmark(encode)
    assert orjson.loads(out) == PAGE_DATA, f"{name}: output differs from the page"
