"""The decoders the benchmarks compare, each a ``bytes -> object`` function on the same body.

stepwire is measured against what users have today (openai-python's own
path: ``json.loads`` then ``construct_type`` per step, as its pagination does),
against a strict pydantic v2 model of the same schema (baselines/), and
against untyped parsers that build dicts without any validation (orjson,
json, msgspec) as the floor of what parsing alone costs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec
import orjson

import stepwire

Decode = Callable[[bytes], Any]


def page_contenders() -> dict[str, Decode]:
    """Decoders of a run-step page, by name."""
    from openai._models import construct_type
    from openai.types.beta.threads.runs import RunStep as OpenAIRunStep

    from benchmarks.baselines.pydantic_models import PydRunStepPage

    untyped = msgspec.json.Decoder()

    def openai_python(body: bytes) -> Any:
        page = json.loads(body)
        return [construct_type(type_=OpenAIRunStep, value=step) for step in page["data"]]

    return {
        "stepwire": stepwire.decode_page,
        "orjson.loads": orjson.loads,
        "json.loads": json.loads,
        "msgspec untyped": untyped.decode,
        "pydantic v2 strict": PydRunStepPage.model_validate_json,
        "openai-python": openai_python,
    }
