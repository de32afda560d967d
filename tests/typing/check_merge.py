"""Merging deltas outside an accumulator: ``apply_delta`` and ``StepMerger``.

Checked, not run: tests/test_typing.py runs mypy (the project's strict config) and
basedpyright over this file; an ``assert_type`` that does not hold fails them.
"""
# pyright: strict

from __future__ import annotations

import sys

import stepwire

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


def apply_one(step: stepwire.RunStep, delta: stepwire.RunStepDeltaEvent) -> None:
    assert_type(stepwire.apply_delta(step, delta), stepwire.RunStep)
    assert_type(stepwire.apply_delta(step, [delta, delta]), stepwire.RunStep)


def apply_decoded() -> None:
    step = stepwire.decode_step(b"{}")
    delta = stepwire.decode_delta(b"{}")
    merged = stepwire.apply_delta(step, delta)
    assert_type(merged, stepwire.RunStep)


def merger(step: stepwire.RunStep, deltas: list[stepwire.RunStepDeltaEvent]) -> None:
    m = stepwire.StepMerger(step)
    assert_type(m, stepwire.StepMerger)
    assert_type(m.snapshot, stepwire.RunStep)
    for delta in deltas:
        m.apply(delta)  # merges; the joined snapshot is read from .snapshot
    m.apply(deltas)
    assert_type(m.snapshot.step_details, stepwire.StepDetails)


def merge_pending(acc: stepwire.Accumulator, step: stepwire.RunStep) -> None:
    # Deltas that arrived before their step's full object, merged by hand.
    m = stepwire.StepMerger(step)
    m.apply(acc.pending[step.id])
    assert_type(m.snapshot, stepwire.RunStep)
