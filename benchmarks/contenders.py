"""The decoders (and encoders) the benchmarks compare, each on the same body.

stepwire is measured against what users have today (openai-python's own
path: ``json.loads`` then ``construct_type`` per step, as its pagination does,
and openai-python's types validated with pydantic, ``model_validate_json``),
against a strict pydantic v2 model of the same schema (baselines/), and
against untyped parsers that build dicts without any validation (orjson,
json, msgspec) as the floor of what parsing alone costs.

One set of contenders per kind of body:

* :func:`page_contenders`: a page (``{"object": "list", "data": [...]}``);
  the six long-standing names, which ``benchmarks/demo.py`` prints.
* :func:`all_page_contenders`: those plus ``stepwire summary`` and
  ``openai-python model_validate_json``.
* :func:`step_contenders`: one step.
* :func:`lines_contenders`: NDJSON, one step per line.
* :func:`encode_contenders`: a decoded page back to JSON.

openai-python's models know only OpenAI's own tool-call types and reject
what the live API and Azure AI Agents also send (Azure tool types, the
``"default-2024-08-21"`` ranker): :func:`openai_rejections` says how many
steps of a body they reject and why, and :func:`openai_types_page` builds a
page they accept, for a scenario where every contender can run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import orjson

import stepwire
from stepgen import generate_steps

Decode = Callable[[bytes], Any]
Encode = Callable[[], Any]

# openai-python, json.loads + construct_type: the two contenders below are
# told apart by how the models are built, not by the library.
OPENAI = "openai-python"
OPENAI_VALIDATE = "openai-python model_validate_json"
SUMMARY = "stepwire summary"


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


def all_page_contenders() -> dict[str, Decode]:
    """:func:`page_contenders` plus the summary decode and openai's validated page.

    ``stepwire summary`` decodes into ``RunStepSummaryPage`` (``step_details``
    left as ``msgspec.Raw``). ``openai-python model_validate_json`` is
    ``openai.pagination.SyncCursorPage[RunStep].model_validate_json``: the
    page class openai-python's ``steps.list()`` returns, with its own
    ``RunStep``, validated by pydantic in one call (what openai-python does
    with ``_strict_response_validation=True``, where the default path is
    ``construct_type`` without validation).

    Returns
    -------
    dict of str to callable
        Decoders by name; every key of :func:`page_contenders` comes first.
    """
    from openai.pagination import SyncCursorPage
    from openai.types.beta.threads.runs import RunStep as OpenAIRunStep

    summary: stepwire.Decoder[stepwire.RunStepSummaryPage]
    summary = stepwire.Decoder(stepwire.RunStepSummaryPage)
    return {
        **page_contenders(),
        SUMMARY: summary.decode,
        OPENAI_VALIDATE: SyncCursorPage[OpenAIRunStep].model_validate_json,
    }


def step_contenders() -> dict[str, Decode]:
    """Decoders of one run step, by name (the names of :func:`all_page_contenders`).

    Returns
    -------
    dict of str to callable
        ``openai-python`` is ``construct_type(type_=RunStep, value=json.loads(body))``;
        ``openai-python model_validate_json`` is ``RunStep.model_validate_json``.
    """
    from openai._models import construct_type
    from openai.types.beta.threads.runs import RunStep as OpenAIRunStep

    from benchmarks.baselines.pydantic_models import PydRunStep

    untyped = msgspec.json.Decoder()
    summary: stepwire.Decoder[stepwire.RunStepSummary]
    summary = stepwire.Decoder(stepwire.RunStepSummary)

    def openai_python(body: bytes) -> Any:
        return construct_type(type_=OpenAIRunStep, value=json.loads(body))

    return {
        "stepwire": stepwire.decode_step,
        "orjson.loads": orjson.loads,
        "json.loads": json.loads,
        "msgspec untyped": untyped.decode,
        "pydantic v2 strict": PydRunStep.model_validate_json,
        OPENAI: openai_python,
        SUMMARY: summary.decode,
        OPENAI_VALIDATE: OpenAIRunStep.model_validate_json,
    }


def lines_contenders() -> dict[str, Decode]:
    """Decoders of NDJSON (one step per line) into a list of steps, by name.

    ``stepwire`` is ``stepwire.decode_lines`` on the whole body; every other
    contender splits the body with ``bytes.splitlines`` (inside the timed
    call: finding the lines is part of the work) and decodes line by line
    with its one-step decoder of :func:`step_contenders`.

    Returns
    -------
    dict of str to callable
    """
    per_step = step_contenders()

    def per_line(decode: Decode) -> Decode:
        def run(body: bytes) -> list[Any]:
            return [decode(line) for line in body.splitlines() if line]

        return run

    contenders: dict[str, Decode] = {"stepwire": stepwire.decode_lines}
    for name, decode in per_step.items():
        if name not in contenders and name != SUMMARY:  # no NDJSON API for summaries
            contenders[name] = per_line(decode)
    return contenders


def encode_contenders(page: bytes) -> dict[str, Encode]:
    """Encoders of one decoded page back to JSON, by name; each a zero-argument callable.

    Each contender encodes what its own decoder built from ``page`` (built
    here, outside any timed region): stepwire's ``RunStepPage`` with
    ``stepwire.encode``; the dict from ``orjson.loads`` with ``orjson.dumps``,
    ``json.dumps`` and ``msgspec.json.encode``; the strict pydantic page with
    ``model_dump_json(exclude_unset=True, by_alias=True)`` (without
    ``exclude_unset`` it writes every absent field with its default, which is
    not the body it read); openai-python's page as its ``steps.list()`` builds
    it (``construct_type(type_=SyncCursorPage[RunStep], ...)``) with its own
    ``to_json(indent=None, warnings=False)`` (compact; without
    ``warnings=False`` pydantic warns on every tool call of a type openai's
    models do not know, and writes it all the same).

    Parameters
    ----------
    page : bytes
        The page's JSON.

    Returns
    -------
    dict of str to callable
        Each returns ``bytes`` or ``str`` JSON.
    """
    from openai._models import construct_type
    from openai.pagination import SyncCursorPage
    from openai.types.beta.threads.runs import RunStep as OpenAIRunStep

    from benchmarks.baselines.pydantic_models import PydRunStepPage

    ours = stepwire.decode_page(page)
    plain = orjson.loads(page)
    pydantic_page = PydRunStepPage.model_validate_json(page)
    openai_page: Any = construct_type(type_=SyncCursorPage[OpenAIRunStep], value=json.loads(page))
    encoder = msgspec.json.Encoder()

    return {
        "stepwire": lambda: stepwire.encode(ours),
        "orjson.dumps": lambda: orjson.dumps(plain),
        "json.dumps": lambda: json.dumps(plain),
        "msgspec untyped": lambda: encoder.encode(plain),
        "pydantic v2 strict": lambda: pydantic_page.model_dump_json(
            exclude_unset=True, by_alias=True
        ),
        OPENAI: lambda: openai_page.to_json(indent=None, warnings=False),
    }


def step_ids(result: Any) -> list[str]:
    """The step ids in a contender's result, for a check before and after timing.

    Parameters
    ----------
    result : object
        A page (stepwire, pydantic, openai-python or a dict), a list of steps,
        or one step.

    Returns
    -------
    list of str
    """
    if isinstance(result, dict):
        steps = result.get("data", [result])
    elif isinstance(result, list):
        steps = result
    elif hasattr(result, "data"):
        steps = result.data
    else:
        steps = [result]
    return [step["id"] if isinstance(step, dict) else step.id for step in steps]


def openai_rejections(bodies: Iterable[bytes]) -> str | None:
    """Why openai-python's ``RunStep`` rejects some of these step bodies, or ``None``.

    Parameters
    ----------
    bodies : iterable of bytes
        One run step's JSON each.

    Returns
    -------
    str or None
        E.g. ``"rejects 11 of 100 steps: tool-call types it does not know
        (bing_grounding, mcp); ranker values it does not know
        (default-2024-08-21)"``, or ``None`` when it accepts every body.
    """
    import pydantic
    from openai.types.beta.threads.runs import RunStep as OpenAIRunStep

    total = rejected = 0
    kinds: dict[str, set[str]] = {}
    for body in bodies:
        total += 1
        try:
            OpenAIRunStep.model_validate_json(body)
        except pydantic.ValidationError as exc:
            rejected += 1
            for error in exc.errors():
                loc, value = error["loc"], error.get("input")
                if (
                    loc
                    and loc[-1] == "type"
                    and "tool_calls" in loc
                    and error["type"] == "literal_error"
                ):
                    kinds.setdefault("tool-call types", set()).add(str(value))
                elif loc and loc[-1] == "ranker":
                    kinds.setdefault("ranker values", set()).add(str(value))
    if not rejected:
        return None
    # A union tries every member, so the known tags show up as literal
    # mismatches too; only the tags no member accepts are the unknown ones.
    known = {"code_interpreter", "file_search", "function"}
    kinds["tool-call types"] = kinds.get("tool-call types", set()) - known
    reasons = [
        f"{what} it does not know ({', '.join(sorted(values))})"
        for what, values in sorted(kinds.items())
        if values
    ]
    return f"rejects {rejected:,} of {total:,} steps: " + "; ".join(reasons or ["see pydantic"])


def openai_types_page(count: int = 100, seed: int = 1) -> dict[str, Any]:
    """A page of the first ``count`` generated steps openai-python's own models accept.

    The same generator and seed as the mixed pages, less the steps
    :func:`openai_rejections` would report (Azure tool types, the
    ``"default-2024-08-21"`` ranker), so ``openai-python model_validate_json``
    can run on the same bytes as everyone else.

    Parameters
    ----------
    count : int
        Steps in the page.
    seed : int
        The generator's seed.

    Returns
    -------
    dict
        The page, ready for ``orjson.dumps``.
    """
    data: list[dict[str, Any]] = []
    drawn = count
    while len(data) < count:
        drawn *= 2
        data = [step for step in generate_steps(drawn, seed) if _openai_accepts(step)][:count]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"],
        "last_id": data[-1]["id"],
        "has_more": False,
    }


def _openai_accepts(step: dict[str, Any]) -> bool:
    return openai_rejections([orjson.dumps(step)]) is None
