"""Every input kind decodes the same; buffers are read in place."""

from __future__ import annotations

import io
import json

import msgspec
import pytest

import stepwire
from helpers import SAMPLES

PAGE = (SAMPLES / "openai_steps_page.json").read_bytes()
EXPECTED = stepwire.decode_page(PAGE)


@pytest.mark.parametrize(
    "buf",
    [PAGE, bytearray(PAGE), memoryview(PAGE), PAGE.decode(), memoryview(b"xx" + PAGE)[2:]],
    ids=["bytes", "bytearray", "memoryview", "str", "memoryview-slice"],
)
def test_every_input_kind(buf: stepwire.Buffer) -> None:
    assert stepwire.decode_page(buf) == EXPECTED
    assert stepwire.Decoder(stepwire.RunStepPage).decode(buf) == EXPECTED


@pytest.mark.parametrize("buf", [None, 3, ["{}"], io.BytesIO(b"{}")], ids=repr)
def test_wrong_argument_type_is_a_type_error(buf: object) -> None:
    with pytest.raises(TypeError):
        stepwire.decode_page(buf)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        stepwire.decode_lines(buf)  # type: ignore[arg-type]


def test_deferred_details_are_views_into_the_input_buffer() -> None:
    buf = bytearray(PAGE)
    page = stepwire.Decoder(stepwire.RunStepSummaryPage).decode(buf)
    raw = page.data[0].step_details
    assert isinstance(raw, msgspec.Raw)
    before = bytes(raw)
    assert json.loads(before) == json.loads(PAGE)["data"][0]["step_details"]
    # A view, not a copy: writing to the caller's buffer shows through.
    position = bytes(buf).index(before)
    buf[position + 1 : position + 2] = b" "
    assert bytes(raw) != before
    assert bytes(raw)[1:2] == b" "


def test_summary_details_decode_on_demand() -> None:
    page = stepwire.Decoder(stepwire.RunStepSummaryPage).decode(PAGE)
    for summary, full in zip(page.data, EXPECTED.data, strict=False):
        assert summary.id == full.id
        assert summary.usage == full.usage
        assert summary.details() == full.step_details
    assert json.loads(stepwire.encode(page)) == json.loads(PAGE)


def test_decoders_are_reused() -> None:
    from stepwire import _decode

    assert _decode._decoder(stepwire.RunStep, False) is _decode._STEP
    assert _decode._decoder(stepwire.RunStep, True) is _decode._decoder(stepwire.RunStep, True)
