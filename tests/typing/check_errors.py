"""Errors and limits: the exception tree, its fields, the exported ``MAX_*`` limits.

Checked, not run: tests/test_typing.py runs mypy (the project's strict config) and
basedpyright over this file; an ``assert_type`` that does not hold fails them. That
the limits are ints and not ``Any`` is the negative control's (tests/test_typing.py).
"""
# pyright: strict

from __future__ import annotations

import sys

import stepwire

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


def tree(decode_error: stepwire.DecodeError, stream_error: stepwire.StreamError) -> None:
    # Both are StepwireErrors, which are ValueErrors (that they are not each other, and not
    # Any, is the negative control's).
    errors: list[stepwire.StepwireError] = [decode_error, stream_error]
    value_errors: list[ValueError] = [*errors]
    assert_type(value_errors, list[ValueError])


def decode_error_fields(exc: stepwire.DecodeError) -> None:
    assert_type(exc.reason, str)
    assert_type(exc.path, str | None)
    assert_type(exc.offset, int | None)
    assert_type(exc.line, int | None)


def stream_error_fields(exc: stepwire.StreamError) -> None:
    assert_type(exc.reason, str)
    assert_type(exc.event, str | None)
    assert_type(exc.events, list[stepwire.StreamEvent])
    assert_type(exc.path, str | None)
    assert_type(exc.offset, int | None)


def base_fields(exc: stepwire.StepwireError) -> None:
    assert_type(exc.reason, str)
    assert_type(exc.path, str | None)
    assert_type(exc.offset, int | None)


def catching() -> None:
    try:
        stepwire.decode_lines(b"{}\n[")
    except stepwire.DecodeError as exc:
        assert_type(exc, stepwire.DecodeError)
        assert_type(exc.line, int | None)
    except stepwire.StepwireError as exc:
        assert_type(exc.reason, str)
    try:
        stepwire.Accumulator().feed(b"data: x\n\n")
    except stepwire.StreamError as exc:
        assert_type(exc.events, list[stepwire.StreamEvent])
    except ValueError as exc:
        assert_type(exc, ValueError)


def limits() -> None:
    # Final or not, each is an int: assignable to one (and not Any: the negative control).
    depth: int = stepwire.MAX_DEPTH
    line: int = stepwire.MAX_LINE_BYTES
    event: int = stepwire.MAX_EVENT_BYTES
    steps: int = stepwire.MAX_STEPS
    assert_type(max(depth, line, event, steps), int)
    stepwire.Accumulator(max_steps=stepwire.MAX_STEPS, max_event_bytes=stepwire.MAX_EVENT_BYTES)
