"""A seeded generator of run-step bodies shaped like the real ones.

Used by ``make demo``, the tests and the benchmarks, so that all of them run
anywhere on data the project makes itself. The mix follows the recorded
corpus (``shared/fixtures/real``): about half the steps are message_creation,
then code_interpreter (inputs with ``\\r\\n``, empty or logs/image outputs),
function calls (often parallel, output null until submitted), file_search
with scored results and optional content, a few Azure AI Agents tool types,
and the fields the live API adds (``expires_at``, usage token details,
``attributes: {}``, a hyphenated ranker). Bodies are plain ``dict`` objects;
``json.dumps`` or ``orjson.dumps`` them.
"""

from __future__ import annotations

import random
import string
from typing import Any

__all__ = ["generate_delta_events", "generate_page", "generate_step", "generate_steps"]

_ALNUM = string.ascii_letters + string.digits
_WORDS = (  # noqa: SIM905 - a sentence reads better than sixty quoted words
    "the run step file search result tool call output assistant thread message "
    "données résultat código função naïve café 東京 数据 ✓ °C — “quoted” \\ / tab\there"
).split(" ")


def _id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(_ALNUM, k=24))


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=words))


def _code(rng: random.Random) -> str:
    lines = [
        f"x{i} = sum(range({rng.randint(1, 999)}))  # {_text(rng, 3)}"
        for i in range(rng.randint(1, 12))
    ]
    return "\r\n".join(lines) if rng.random() < 0.5 else "\n".join(lines)


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


def _tool_call(rng: random.Random, kind: str, completed: bool) -> dict[str, Any]:
    call_id = _id(rng, "call_")
    if kind == "code_interpreter":
        outputs: list[dict[str, Any]] = []
        roll = rng.random()
        if completed and roll < 0.3:
            outputs.append({"type": "logs", "logs": _text(rng, rng.randint(1, 40))})
        elif completed and roll < 0.4:
            outputs.append({"type": "image", "image": {"file_id": _id(rng, "file-")}})
        return {
            "id": call_id,
            "type": "code_interpreter",
            "code_interpreter": {"input": _code(rng), "outputs": outputs},
        }
    if kind == "function":
        function: dict[str, Any] = {
            "name": rng.choice(["get_weather", "lookup_order", "send_email", "product"]),
            "arguments": f'{{"location": "{_text(rng, 2)}", "unit": "C"}}',
            "output": f'{{"temperature": {rng.randint(-20, 40)}, "sky": "{_text(rng, 2)}"}}'
            if completed
            else None,
        }
        return {"id": call_id, "type": "function", "function": function}
    if kind == "file_search":
        results = []
        for _ in range(rng.randint(0, 6)):
            result: dict[str, Any] = {
                "file_id": _id(rng, "file-"),
                "file_name": rng.choice(["manual.pdf", "notas.txt", "数据.md"]),
                "score": rng.random(),
                "attributes": {},
            }
            if rng.random() < 0.4:
                result["content"] = [{"type": "text", "text": _text(rng, rng.randint(20, 200))}]
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
            "output": _text(rng, 8),
            "server_label": "docs",
        }
    if kind == "connected_agent":
        return {
            "id": call_id,
            "type": "connected_agent",
            "connected_agent": {
                "name": "helper",
                "arguments": f'{{"query": "{_text(rng, 3)}"}}',
                "output": _text(rng, 10),
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
            "tool_calls": [_tool_call(rng, kind, completed) for _ in range(count)],
        }
    if rng.random() < 0.9:  # 2023-11 (v1) bodies have no usage key
        step["usage"] = _usage(rng) if completed else None
    if rng.random() < 0.1:
        step["metadata"] = {"tenant": _text(rng, 1)}
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
    rest carry argument fragments (1 to 12 characters, as the live API sends),
    interleaved across ``parallel`` calls.
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
        fragment = "".join(rng.choices(_ALNUM + ' "{}:,\n', k=rng.randint(1, 12)))
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
