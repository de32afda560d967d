"""pytest-benchmark suite: decoding, each contender on the same bytes.

Run with ``make bench`` (not part of ``make test``). Groups are scenarios;
within a group, compare the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

import stepwire
from benchmarks.contenders import page_contenders
from stepwire._generate import generate_page

PAGE = orjson.dumps(generate_page(100, seed=1))
STEP = orjson.dumps(generate_page(1, seed=2)["data"][0])
CONTENDERS = page_contenders()


@pytest.mark.parametrize("name", list(CONTENDERS))
def test_page_100(benchmark: Any, name: str, collector: str) -> None:
    benchmark.group = f"decode: mixed 100-step page ({collector})"
    decode: Callable[[bytes], Any] = CONTENDERS[name]
    result = benchmark(decode, PAGE)
    assert result


@pytest.mark.parametrize("name", ["stepwire", "orjson.loads", "pydantic v2 strict"])
def test_one_step(benchmark: Any, name: str) -> None:
    from benchmarks.baselines.pydantic_models import PydRunStep

    decode = {
        "stepwire": stepwire.decode_step,
        "orjson.loads": orjson.loads,
        "pydantic v2 strict": PydRunStep.model_validate_json,
    }[name]
    benchmark.group = "decode: one step"
    assert benchmark(decode, STEP)


def test_summary_vs_full(benchmark: Any) -> None:
    dec = stepwire.Decoder(stepwire.RunStepSummaryPage)
    benchmark.group = "decode: mixed 100-step page (gc-on)"
    benchmark.name = "stepwire summary (step_details as Raw)"
    assert benchmark(dec.decode, PAGE)
