"""Decoding, as a user writes it: what each decoder returns (``assert_type``).

Checked, not run: tests/test_typing.py runs mypy (the project's strict config) and
basedpyright over this file; an ``assert_type`` that does not hold fails them.
"""
# pyright: strict

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import stepwire

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type

BODY = b"{}"


def decoder_of_each_type() -> None:
    page_dec = stepwire.Decoder(stepwire.RunStepPage)
    assert_type(page_dec, stepwire.Decoder[stepwire.RunStepPage])
    assert_type(page_dec.decode(BODY), stepwire.RunStepPage)

    step_dec = stepwire.Decoder(stepwire.RunStep)
    assert_type(step_dec, stepwire.Decoder[stepwire.RunStep])
    assert_type(step_dec.decode(BODY), stepwire.RunStep)

    delta_dec = stepwire.Decoder(stepwire.RunStepDeltaEvent)
    assert_type(delta_dec, stepwire.Decoder[stepwire.RunStepDeltaEvent])
    assert_type(delta_dec.decode(BODY), stepwire.RunStepDeltaEvent)

    summary_dec = stepwire.Decoder(stepwire.RunStepSummaryPage)
    assert_type(summary_dec, stepwire.Decoder[stepwire.RunStepSummaryPage])
    summaries = summary_dec.decode(BODY)
    assert_type(summaries, stepwire.RunStepSummaryPage)
    assert_type(summaries.data, list[stepwire.RunStepSummary])
    assert_type(summaries.data[0].details(), stepwire.StepDetails)


def strict_decoder() -> None:
    dec = stepwire.Decoder(stepwire.RunStep, strict=True)
    assert_type(dec, stepwire.Decoder[stepwire.RunStep])
    assert_type(dec.decode(BODY), stepwire.RunStep)
    assert_type(dec.strict, bool)
    assert_type(dec.type, type[stepwire.RunStep])
    assert_type(stepwire.Decoder(stepwire.RunStep, strict=False).strict, bool)


def every_buffer_type() -> None:
    dec = stepwire.Decoder(stepwire.RunStep)
    assert_type(dec.decode(bytearray(BODY)), stepwire.RunStep)
    assert_type(dec.decode(memoryview(BODY)), stepwire.RunStep)
    assert_type(dec.decode("{}"), stepwire.RunStep)
    assert_type(stepwire.decode_page(bytearray(BODY)), stepwire.RunStepPage)
    assert_type(stepwire.decode_step(memoryview(BODY)), stepwire.RunStep)
    assert_type(stepwire.decode_delta("{}"), stepwire.RunStepDeltaEvent)
    assert_type(stepwire.decode_lines("{}\n{}"), list[stepwire.RunStep])


def module_functions() -> None:
    assert_type(stepwire.decode_page(BODY), stepwire.RunStepPage)
    assert_type(stepwire.decode_page(BODY, strict=True), stepwire.RunStepPage)
    assert_type(stepwire.decode_step(BODY), stepwire.RunStep)
    assert_type(stepwire.decode_step(BODY, strict=True), stepwire.RunStep)
    assert_type(stepwire.decode_delta(BODY), stepwire.RunStepDeltaEvent)
    assert_type(stepwire.decode_delta(BODY, strict=True), stepwire.RunStepDeltaEvent)
    assert_type(stepwire.decode_lines(BODY), list[stepwire.RunStep])
    assert_type(stepwire.decode_lines(BODY, strict=True), list[stepwire.RunStep])


def lines_from_files() -> None:
    assert_type(stepwire.iter_lines(io.BytesIO(BODY)), Iterator[stepwire.RunStep])
    with open("steps.ndjson", "rb") as f:
        for step in stepwire.iter_lines(f):
            assert_type(step, stepwire.RunStep)
    limited = stepwire.iter_lines(
        io.BytesIO(BODY), strict=True, max_line_bytes=stepwire.MAX_LINE_BYTES
    )
    assert_type(limited, Iterator[stepwire.RunStep])


def typed_lines() -> None:
    # type= gives the element type; on_error takes a callable of DecodeError.
    deltas = stepwire.decode_lines(BODY, type=stepwire.RunStepDeltaEvent)
    assert_type(deltas, list[stepwire.RunStepDeltaEvent])
    summaries = stepwire.iter_lines("steps.ndjson.zst", type=stepwire.RunStepSummary)
    assert_type(summaries, Iterator[stepwire.RunStepSummary])
    errors: list[stepwire.DecodeError] = []
    kept = stepwire.iter_lines(Path("steps.ndjson.gz"), on_error=errors.append)
    assert_type(kept, Iterator[stepwire.RunStep])
    assert_type(stepwire.decode_lines(BODY, on_error="skip"), list[stepwire.RunStep])


def encode_back() -> None:
    page = stepwire.decode_page(BODY)
    assert_type(stepwire.encode(page), bytes)
    assert_type(stepwire.encode(page.data[0]), bytes)
    assert_type(stepwire.encode(stepwire.decode_delta(BODY)), bytes)
    assert_type(stepwire.encode(stepwire.decode_lines(BODY)), bytes)


def reading_a_page() -> None:
    # The README's quick start, with the types a user sees along the way.
    page = stepwire.decode_page(BODY)
    assert_type(page.data, list[stepwire.RunStep])
    for step in page.data:
        assert_type(step.id, str)
        assert_type(step.step_details, stepwire.StepDetails)
        if isinstance(step.step_details, stepwire.ToolCallsStepDetails):
            assert_type(step.step_details.tool_calls, list[stepwire.ToolCall])
            for call in step.step_details.tool_calls:
                assert_type(call.id, str | stepwire.UnsetType)  # UnknownToolCall: maybe none
                assert_type(call.type, str)
                if isinstance(call, stepwire.FunctionToolCall):
                    assert_type(call.id, str)
                    assert_type(call.function.name, str)
                    assert_type(call.function.arguments, str)
                    assert_type(call.function.output, str | stepwire.UnsetType | None)
