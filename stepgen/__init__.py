"""A seeded generator of run-step bodies shaped like the real ones.

Used by ``make demo``, the tests and the benchmarks, so that all of them run
anywhere on data the project makes itself. The mix follows the recorded
corpus (``shared/fixtures/real``): about half the steps are message_creation,
then code_interpreter (inputs of a few hundred characters, about a third with
``\\r\\n``, empty or logs/image outputs), function calls (some parallel,
output null until submitted), file_search (up to 20 scored results; in some
calls every result carries content, a retrieval chunk of about 3,000
characters), a few Azure AI Agents tool types, and the fields the live API
adds (``expires_at``, usage token details, ``attributes: {}``, a hyphenated
ranker). Text is ASCII except in about one step in ten, and half of the
file_search documents have a few curly quotes, as in the corpus. Stream deltas carry argument
fragments with the lengths seen in the recorded streams.
``python -m benchmarks.shape`` prints these statistics next to the corpus's.
Bodies are plain ``dict`` objects; ``json.dumps`` or ``orjson.dumps`` them.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

__all__ = [
    "generate_delta_events",
    "generate_page",
    "generate_step",
    "generate_steps",
    "with_unknown_field",
    "with_unknown_tool_types",
]

_ALNUM = string.ascii_letters + string.digits
_WORDS = (  # noqa: SIM905 - a sentence reads better than sixty quoted words
    "the run step file search result tool call output assistant thread message "
    "données résultat código função naïve café 東京 数据 ✓ °C — “quoted” \\ / tab\there"
).split(" ")
_ASCII_WORDS = [word for word in _WORDS if word.isascii()]
_TYPOGRAPHIC = "\u2019\u201c\u201d\u2013\u00b0\u00b2"  # curly quotes, en dash, degree, squared
# The steps whose text is not all ASCII (a user's language, typographic quotes).
_NON_ASCII_STEPS = 0.1
# Lengths (1 to 12 characters) of the argument and code-input fragments of the
# recorded streams' deltas: 322 fragments, median 3, p90 7 (two longer ones
# counted as 12).
_FRAGMENT_WEIGHTS = (77, 79, 53, 25, 29, 18, 20, 9, 9, 1, 1, 1)
_FRAGMENT_LENGTHS = range(1, len(_FRAGMENT_WEIGHTS) + 1)


def _fragment_length(rng: random.Random) -> int:
    """The length of one streamed fragment, as the recorded streams' are spread."""
    return rng.choices(_FRAGMENT_LENGTHS, _FRAGMENT_WEIGHTS)[0]


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(_ALNUM, k=24))


def _text(rng: random.Random, words: int, vocabulary: list[str] = _ASCII_WORDS) -> str:
    return " ".join(rng.choices(vocabulary, k=words))


def _document(rng: random.Random, vocabulary: list[str], typographic: bool) -> str:
    """File-search content: mostly a full retrieval chunk, sometimes a whole small file.

    Short lines, as text extracted from a PDF; ``typographic`` scatters a few
    curly quotes, dashes and degree signs through otherwise ASCII text (5 to 20
    in a chunk, as in the recorded ones).
    """
    size = rng.randint(2_800, 3_400) if rng.random() < 0.8 else rng.randint(80, 600)
    lines: list[str] = []
    length = 0
    while length < size:
        lines.append(_text(rng, rng.randint(1, 8), vocabulary))
        length += len(lines[-1]) + 1
    text = "\n".join(lines)[:size]
    if not typographic:
        return text
    cuts = sorted(rng.randrange(size) for _ in range(rng.randint(5, 20)))
    parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    marks = rng.choices(_TYPOGRAPHIC, k=len(cuts))
    return "".join(part + mark for part, mark in zip(parts, [*marks, ""], strict=True))


def _code(rng: random.Random, vocabulary: list[str]) -> str:
    lines = [
        f"x{i} = sum(range({rng.randint(1, 999)}))  # {_text(rng, 3, vocabulary)}"
        for i in range(rng.randint(1, 12))
    ]
    return "\r\n".join(lines) if rng.random() < 0.3 else "\n".join(lines)


def _usage(rng: random.Random) -> dict[str, Any]:
    prompt = rng.randint(0, 9000)
    completion = rng.randint(1, 900)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if rng.random() < 0.6:
        usage["prompt_token_details"] = {"cached_tokens": rng.choice([0, 0, 128, 1024])}
        usage["completion_tokens_details"] = {"reasoning_tokens": 0}
    return usage


def _tool_call(
    rng: random.Random, kind: str, completed: bool, vocabulary: list[str]
) -> dict[str, Any]:
    call_id = _id(rng, "call_")
    if kind == "code_interpreter":
        outputs: list[dict[str, Any]] = []
        roll = rng.random()
        if completed and roll < 0.3:
            outputs.append({"type": "logs", "logs": _text(rng, rng.randint(1, 40), vocabulary)})
        elif completed and roll < 0.4:
            outputs.append({"type": "image", "image": {"file_id": _id(rng, "file-")}})
        return {
            "id": call_id,
            "type": "code_interpreter",
            "code_interpreter": {"input": _code(rng, vocabulary), "outputs": outputs},
        }
    if kind == "function":
        name = rng.choice(["get_weather", "lookup_order", "send_email", "product"])
        arguments = f'{{"location": "{_text(rng, 2, vocabulary)}", "unit": "C"}}'
        output = None
        if completed:
            sky = _text(rng, 2, vocabulary)
            output = f'{{"temperature": {rng.randint(-20, 40)}, "sky": "{sky}"}}'
        function: dict[str, Any] = {"name": name, "arguments": arguments, "output": output}
        return {"id": call_id, "type": "function", "function": function}
    if kind == "file_search":
        # Content is asked for per request (include[]): all results carry it, or none.
        with_content = rng.random() < 0.4
        # PDF text often has typographic quotes even where the rest is ASCII.
        typographic = rng.random() < 0.5
        results = []
        for _ in range(rng.choice([0, 1, 2, 3, 4, 4, 5, 5, 10, 20])):
            result: dict[str, Any] = {
                "file_id": _id(rng, "file-"),
                "file_name": rng.choice(["manual.pdf", "notes.txt", "somatosensory.pdf"])
                if vocabulary is _ASCII_WORDS
                else rng.choice(["notas.txt", "数据.md"]),
                "score": rng.random(),
                "attributes": {},
            }
            if with_content:
                result["content"] = [
                    {"type": "text", "text": _document(rng, vocabulary, typographic)}
                ]
            results.append(result)
        ranker = rng.choice(["default_2024_08_21", "default-2024-08-21", "auto"])
        return {
            "id": call_id,
            "type": "file_search",
            "file_search": {
                "ranking_options": {"ranker": ranker, "score_threshold": rng.choice([0.0, 0.5])},
                "results": results,
            },
        }
    if kind == "mcp":
        return {
            "id": call_id,
            "type": "mcp",
            "arguments": "{}",
            "name": "search_docs",
            "output": _text(rng, 8, vocabulary),
            "server_label": "docs",
        }
    if kind == "connected_agent":
        return {
            "id": call_id,
            "type": "connected_agent",
            "connected_agent": {
                "name": "helper",
                "arguments": f'{{"query": "{_text(rng, 3, vocabulary)}"}}',
                "output": _text(rng, 10, vocabulary),
                "run_id": _id(rng, "run_"),
                "thread_id": _id(rng, "thread_"),
                "assistant_id": _id(rng, "asst_"),
            },
        }
    # bing_grounding and the other open-string-map Azure tools
    return {
        "id": call_id,
        "type": kind,
        kind: {
            "requesturl": f"https://api.bing.microsoft.com/v7.0/search?q={rng.randint(1, 9999)}"
        },
    }


_KINDS = (
    ["code_interpreter"] * 8
    + ["function"] * 6
    + ["file_search"] * 4
    + [
        "bing_grounding",
        "mcp",
        "connected_agent",
    ]
)


def generate_step(rng: random.Random) -> dict[str, Any]:
    """One run step (a dict), drawn from ``rng``."""
    created = rng.randint(1_700_000_000, 1_770_000_000)
    status = rng.choice(["completed"] * 8 + ["in_progress", "failed"])
    completed = status == "completed"
    vocabulary = _WORDS if rng.random() < _NON_ASCII_STEPS else _ASCII_WORDS
    step: dict[str, Any] = {
        "id": _id(rng, "step_"),
        "object": "thread.run.step",
        "created_at": created,
        "run_id": _id(rng, "run_"),
        "assistant_id": _id(rng, "asst_"),
        "thread_id": _id(rng, "thread_"),
        "type": "message_creation",
        "status": status,
        "cancelled_at": None,
        "completed_at": created + rng.randint(1, 30) if completed else None,
        "expires_at": None if completed else created + 600,
        "failed_at": created + 2 if status == "failed" else None,
        "last_error": {"code": "server_error", "message": "Sorry, something went wrong."}
        if status == "failed"
        else None,
    }
    if rng.random() < 0.5:
        step["step_details"] = {
            "type": "message_creation",
            "message_creation": {"message_id": _id(rng, "msg_")},
        }
    else:
        step["type"] = "tool_calls"
        kind = rng.choice(_KINDS)
        count = rng.choice([1, 1, 1, 2, 3]) if kind == "function" else 1
        step["step_details"] = {
            "type": "tool_calls",
            "tool_calls": [_tool_call(rng, kind, completed, vocabulary) for _ in range(count)],
        }
    if rng.random() < 0.9:  # 2023-11 (v1) bodies have no usage key
        step["usage"] = _usage(rng) if completed else None
    if rng.random() < 0.1:
        step["metadata"] = {"tenant": _text(rng, 1, vocabulary)}
    return step


def generate_steps(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` run steps from a fixed seed."""
    rng = random.Random(seed)
    return [generate_step(rng) for _ in range(count)]


def generate_page(count: int = 100, seed: int = 0, has_more: bool = False) -> dict[str, Any]:
    """A ``list`` page of ``count`` mixed run steps."""
    data = generate_steps(count, seed)
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def generate_delta_events(
    count: int, seed: int = 0, step_id: str = "step_gen", parallel: int = 1
) -> list[dict[str, Any]]:
    """``count`` ``thread.run.step.delta`` data objects for function calls.

    The first delta of each call carries its id, name and ``output: null``; the
    rest carry argument fragments, interleaved across ``parallel`` calls. The
    fragments are 1 to 12 characters long, drawn with the frequencies of the
    fragment lengths in the recorded streams (median 3, p90 7): the live API
    sends about one token per delta.
    """
    rng = random.Random(seed)
    calls: list[dict[str, Any]] = [
        {
            "index": index,
            "id": _id(rng, "call_"),
            "type": "function",
            "function": {"name": "send_email", "arguments": "", "output": None},
        }
        for index in range(min(parallel, count))
    ]
    while len(calls) < count:
        size = _fragment_length(rng)
        fragment = "".join(rng.choices(_ALNUM + ' "{}:,\n', k=size))
        calls.append(
            {
                "index": rng.randrange(parallel),
                "type": "function",
                "function": {"arguments": fragment},
            }
        )
    return [
        {
            "id": step_id,
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
        }
        for call in calls
    ]


# -- drift: what a service sends the day it rolls out something new ------------------


def with_unknown_tool_types(page: dict[str, Any]) -> dict[str, Any]:
    """``page`` with every tool call of a type no release knows (``future_<type>``).

    The call keeps its id and payload; only its ``type`` tag is new.
    """
    out = copy.deepcopy(page)
    for step in out["data"]:
        details = step["step_details"]
        if details.get("type") == "tool_calls":
            for call in details["tool_calls"]:
                call["type"] = f"future_{call['type']}"
    return out


def with_unknown_field(page: dict[str, Any]) -> dict[str, Any]:
    """``page`` with one field no release models on every step (``rollout``)."""
    out = copy.deepcopy(page)
    for i, step in enumerate(out["data"]):
        step["rollout"] = {"cohort": f"c{i % 4}", "enabled": True}
    return out
