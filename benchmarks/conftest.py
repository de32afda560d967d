"""Fixtures shared by the benchmark suites: the garbage collector's state per row."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


def _collector(on: bool) -> Iterator[str]:
    enabled = gc.isenabled()
    if on:
        gc.enable()
    else:
        gc.disable()
    yield "gc-on" if on else "gc-off"
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.fixture(params=["gc-on", "gc-off"])
def collector(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each benchmark twice: collector on (the headline, as services run) and off."""
    yield from _collector(request.param == "gc-on")


@pytest.fixture
def gc_on() -> Iterator[str]:
    """The collector on, for rows measured only that way."""
    yield from _collector(True)
