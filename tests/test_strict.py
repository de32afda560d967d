"""strict=True enforces the spec; the default mode accepts what the live API sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

import stepwire
from helpers import SAMPLES
from test_unknown import BROWSER, _step

FILE_SEARCH = {
    "id": "call_s",
    "type": "file_search",
    "file_search": {
        "ranking_options": {"ranker": "auto", "score_threshold": 0.5},
        "results": [{"file_id": "f", "file_name": "a.txt", "score": 0.5}],
    },
}


def _with(**changes: Any) -> dict[str, Any]:
    return _step({"type": "tool_calls", "tool_calls": [FILE_SEARCH]}, **changes)


def _score(score: float) -> dict[str, Any]:
    call = json.loads(json.dumps(FILE_SEARCH))
    call["file_search"]["results"][0]["score"] = score
    return _step({"type": "tool_calls", "tool_calls": [call]})


VIOLATIONS = [
    pytest.param(_with(metadata={f"k{i}": "v" for i in range(17)}), "$.metadata", id="17-keys"),
    pytest.param(_with(metadata={"k" * 65: "v"}), "$.metadata", id="long-key"),
    pytest.param(_with(metadata={"k": "v" * 513}), "$.metadata.k", id="long-value"),
    pytest.param(
        _score(1.5), "$.step_details.tool_calls[0].file_search.results[0].score", id="score>1"
    ),
    pytest.param(
        _score(-0.1), "$.step_details.tool_calls[0].file_search.results[0].score", id="score<0"
    ),
    pytest.param(_with(status="paused"), "$.status", id="status"),
    pytest.param(_with(type="thinking"), "$.type", id="step-type"),
    pytest.param(
        _with(last_error={"code": "oops", "message": "m"}), "$.last_error.code", id="code"
    ),
    pytest.param(_with(surprise=1), "$.surprise", id="unknown-field"),
    pytest.param(
        _step({"type": "tool_calls", "tool_calls": [BROWSER]}),
        "$.step_details.tool_calls[0].type",
        id="unknown-tool",
    ),
    pytest.param(
        _step({"type": "reasoning"}, type="tool_calls"), "$.step_details.type", id="unknown-details"
    ),
    pytest.param(
        _step({"type": "tool_calls", "tool_calls": [dict(FILE_SEARCH, extra=True)]}),
        "$.step_details.tool_calls[0].extra",
        id="unknown-nested-field",
    ),
]


@pytest.mark.parametrize(("body", "path"), VIOLATIONS)
def test_strict_rejects_and_names_the_field(body: dict[str, Any], path: str) -> None:
    raw = json.dumps(body)
    stepwire.decode_step(raw)  # the default mode accepts it
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_step(raw, strict=True)
    assert info.value.path == path
    assert f"`{path}`" in str(info.value)


def test_strict_accepts_the_limits_themselves() -> None:
    body = _with(metadata={("k" * 63 + str(i % 10)): "v" * 512 for i in range(16)})
    body["metadata"] = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}
    step = stepwire.decode_step(json.dumps(body), strict=True)
    assert isinstance(step, stepwire.RunStep)  # the real type, not a strict twin
    assert step == stepwire.decode_step(json.dumps(body))
    for score in (0, 1, 0.0, 1.0):
        stepwire.decode_step(json.dumps(_score(score)), strict=True)


def test_strict_samples_from_the_seeds() -> None:
    for name in ("openai_steps_page.json", "azure_agents_steps_page.json"):
        page = stepwire.decode_page((SAMPLES / name).read_bytes(), strict=True)
        assert isinstance(page, stepwire.RunStepPage)
    for line in (SAMPLES / "step_deltas.ndjson").read_bytes().splitlines():
        if b"default-2024" not in line:
            stepwire.decode_delta(line, strict=True)


def test_strict_decoder_class() -> None:
    dec = stepwire.Decoder(stepwire.RunStep, strict=True)
    assert dec.strict
    assert "strict=True" in repr(dec)
    with pytest.raises(stepwire.DecodeError, match="unknown field `surprise`"):
        dec.decode(json.dumps(_with(surprise=1)))
