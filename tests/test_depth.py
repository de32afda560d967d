"""The suite's depth knob (``STEPWIRE_TEST_SCALE``, tests/helpers.py): what it scales, its
bounds, and that every hypothesis test goes through it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import settings

import helpers
from helpers import MIN_EXAMPLES, _read_scale, examples, scaled

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 1.0), ("", 1.0), ("1", 1.0), ("0.2", 0.2), (" 2.5 ", 2.5)]
)
def test_the_scale_is_read_from_the_variable(raw: str | None, expected: float) -> None:
    assert _read_scale(raw) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "inf", "fast"])
def test_a_scale_that_is_not_a_positive_number_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="STEPWIRE_TEST_SCALE"):
        _read_scale(raw)


def test_counts_follow_the_scale_within_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helpers, "SCALE", 1.0)
    assert (examples(300), scaled(20), scaled(3000, minimum=300)) == (300, 20, 3000)
    monkeypatch.setattr(helpers, "SCALE", 0.2)
    assert (examples(300), examples(40), examples(5)) == (60, MIN_EXAMPLES, 5)
    assert (scaled(20), scaled(3000, minimum=300), scaled(1)) == (4, 600, 1)
    monkeypatch.setattr(helpers, "SCALE", 0.001)
    assert (examples(1000), scaled(400, minimum=30), scaled(20)) == (MIN_EXAMPLES, 30, 1)


def test_the_default_profile_runs_at_the_scale() -> None:
    assert settings.default.max_examples == examples(100)


def test_no_hypothesis_test_sets_its_examples_past_the_knob() -> None:
    """A literal ``max_examples=N`` would run N examples at every scale."""
    literal = re.compile(r"max_examples\s*=\s*\d")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(TESTS.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []
