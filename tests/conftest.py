"""Shared fixtures: the two stream implementations behind one parameter; the suite's depth
in the report header."""

from __future__ import annotations

import pytest
from hypothesis import settings

from helpers import (
    MIN_EXAMPLES,
    SCALE,
    SCALE_VARIABLE,
    STREAM_MODULES,
    examples,
    forget_learned_shapes,
    load_impl,
)

# Every hypothesis test sets its own max_examples through helpers.examples(); a test that
# does not still runs at the suite's scale (hypothesis's default is 100 examples).
settings.register_profile("stepwire", max_examples=examples(100))
settings.load_profile("stepwire")


def pytest_report_header() -> str:
    return (
        f"stepwire test scale: {SCALE:g} ({SCALE_VARIABLE}; hypothesis examples and repetition "
        f"counts x{SCALE:g}, at least {MIN_EXAMPLES} examples a test; 1 is the full depth)"
    )


@pytest.fixture(autouse=True)
def _fresh_shared_decoders() -> None:
    """Every test starts with shared decoders that learned nothing (helpers.py says why):
    a test's outcome never depends on the tests that ran before it."""
    forget_learned_shapes()


@pytest.fixture(scope="session", params=list(STREAM_MODULES))
def impl(request):
    """The stream module under test (``stepwire._stream_py`` or ``stepwire._stream_c``).

    Session-scoped so that hypothesis tests may use it. The Cython parameter
    skips where the extension was not built (test_stream.py has the guard that
    fails when it should have been).
    """
    module = load_impl(request.param)
    assert request.param == module.IMPLEMENTATION
    return module
