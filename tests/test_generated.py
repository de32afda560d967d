"""Generated bodies (seeded) round-trip exactly, in every container."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepwire
from stepwire._generate import generate_delta_events, generate_page


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


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(0, 12))
def test_any_generated_page_round_trips(seed: int, count: int) -> None:
    page = generate_page(count, seed=seed)
    assert json.loads(stepwire.encode(stepwire.decode_page(orjson.dumps(page)))) == page
