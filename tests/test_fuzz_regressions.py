"""Minimal reproducers of what the fuzz target (fuzz/fuzz_stepwire.py) found.

An open finding is ``xfail(strict=True)``, with a matching entry in ``KNOWN`` in
fuzz/fuzz_stepwire.py (the fuzzer tolerates a known finding so that a run goes on looking
for new ones). When it is fixed, remove both. Fixed findings stay as regression tests.
"""

from __future__ import annotations

import pytest

import stepwire

DECODERS = [stepwire.decode_step, stepwire.decode_page, stepwire.decode_delta]
CREATED = b"event: thread.run.step.created\ndata: "


# -- invalid UTF-8 in a body that fails typed validation -----------------------------------
# The typed msgspec decode fails validation first (here: required fields missing), so
# _decode._slow_decode re-parses the body untyped; that parse decodes every key and string,
# and its UnicodeDecodeError is not caught (only msgspec.DecodeError, ValidationError and
# RecursionError were). Found from a generated stream with one byte of a key changed;
# fixed by the decode hardening that landed while the fuzzer was written.


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("body", [b'{"\xce":1}', b'{"a":"\xce"}'], ids=["key", "value"])
def test_invalid_utf8_in_a_body_that_fails_validation(decode, body):
    with pytest.raises(stepwire.DecodeError):
        decode(body)


def test_invalid_utf8_in_a_body_that_fails_validation_ndjson():
    with pytest.raises(stepwire.DecodeError, match=r"^line 2: "):
        stepwire.decode_lines(b"\n" + b'{"\xce":1}\n')


def test_invalid_utf8_in_a_step_event_that_fails_validation(impl):
    acc = impl.Accumulator()
    with pytest.raises(stepwire.StreamError) as info:
        acc.feed(b"data: 1\n\n" + CREATED + b'{"\xce":1}\n\ndata: 2\n\n')
    assert [e.raw for e in info.value.events] == [b"1"]
    assert [e.raw for e in acc.feed(b"")] == [b"2"]  # the accumulator goes on


# -- a str that is not Unicode text ---------------------------------------------------------
# Every decoder accepts str; msgspec encodes it to UTF-8 first, and a lone surrogate (what
# bytes.decode("utf-8", "surrogateescape") makes of invalid UTF-8) raises
# UnicodeEncodeError, which Decoder._decode and decode_lines (str.encode) let through.
# Fixed likewise.


@pytest.mark.parametrize("decode", [*DECODERS, stepwire.decode_lines], ids=lambda f: f.__name__)
def test_str_with_lone_surrogates_is_a_decode_error(decode):
    with pytest.raises(stepwire.DecodeError):
        decode('"\ud800"')


def test_str_with_lone_surrogates_strict_decoder():
    with pytest.raises(stepwire.DecodeError):
        stepwire.Decoder(stepwire.RunStep, strict=True).decode('{"id":"\udcce"}')


# -- a pending delta refused when its step opens ----------------------------------------------
# Deltas that arrive before a step's full object are kept without any check. When
# `created` arrives, set_step merges them; one that conflicts with an earlier one (another
# tool type at the same index) raises a StreamError named 'thread.run.step.delta'. The
# `created` event is then never returned (not in the error's .events, not later), yet its
# object has become the snapshot, with the pending deltas before the refused one merged and
# those after it dropped. Both builds agree. docs/merge.md's anomaly table does not list
# the case; the expectation below is the least any fix gives: the caller sees the event
# whose object it finds in acc.steps.


def test_refused_pending_delta_swallows_the_opening_event(impl):
    from helpers import delta_object, frame, step_object, tool_calls

    function = {"index": 0, "type": "function", "function": {"name": "f"}}
    code = {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": "x"}}
    body = (
        frame("thread.run.step.delta", delta_object(tool_calls(function)))
        + frame("thread.run.step.delta", delta_object(tool_calls(code)))
        + frame("thread.run.step.created", step_object(tool_calls()))
    )
    acc = impl.Accumulator()
    seen = []
    try:
        seen += acc.feed(body)
    except stepwire.StreamError as exc:
        seen += exc.events
    seen += acc.feed(b"") + acc.close()
    assert "step_1" in acc.steps
    assert "thread.run.step.created" in [e.event for e in seen]
