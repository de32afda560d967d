"""Seeded Azure AI Agents run-step streams, one (at least) per tool-call type.

Each :class:`AzureStream` is a ``text/event-stream`` body shaped like the live
Azure AI Agents service's: ``thread.run.step.created`` and
``thread.run.step.in_progress`` with an in-progress step whose
``tool_calls`` is ``[]``, then ``thread.run.step.delta`` events, then
``thread.run.step.completed``, then ``event: done`` / ``data: [DONE]``.

The first delta of a call carries ``index``, ``id``, ``type`` and the call's
payload with its keys set to empty or null values (``{"requesturl": "",
"response_metadata": null}`` for bing_grounding, ``{"input": null, "output":
null}`` for the string-map tools). Later deltas carry ``index``, ``type`` and
the payload with fragments of string values, a value replacing a null,
nested objects to merge key by key, and items to append to lists (or, for
lists whose items carry ``index``, to merge by it).

The completed step holds what :func:`merge_payload` makes of the deltas. The
completed values are drawn first; the deltas are cut from them, so merging the
deltas back checks the cutting (``tests/test_stepgen_azure.py``). The shapes
follow the Azure SDK models (``azure-ai-agents`` ``models/_models.py``) except
where the service is known to differ: an ``openapi`` call carries
``function: {name, arguments, output}``, not the SDK's ``openapi`` string map
(Azure/azure-sdk-for-python#42645), and a function call carries ``output``.

Like the rest of ``stepgen``: a seeded :class:`random.Random`, plain ``dict``
bodies, nothing from stepwire (:func:`merge_payload` is written here, apart
from stepwire's merge, so that the two can be checked against each other).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# What the OpenAI-shaped generator draws: ids, usage, fragment lengths (the same spread).
from stepgen import _ALNUM, _fragment_length, _id, _usage

__all__ = [
    "AZURE_TOOL_TYPES",
    "AzureStream",
    "azure_pages",
    "azure_streams",
    "merge_payload",
]

#: Every tool-call type the generator streams (``AzureStream.tool_type``), in stream order.
AZURE_TOOL_TYPES = (
    "bing_grounding",
    "bing_custom_search",
    "azure_ai_search",
    "sharepoint_grounding",
    "fabric_dataagent",
    "openapi",
    "azure_function",
    "connected_agent",
    "deep_research",
    "mcp",
    "computer_use_preview",
    "browser_automation",
    "function",
    "code_interpreter",
    "file_search",
)

# Keys that are replaced, never concatenated: they are repeated verbatim in
# every delta that names its object (a tool call's, or an output's, ``type``).
_REPLACED = frozenset({"id", "type"})
# Objects sent whole, in one delta: tagged objects (a computer-use action, its
# screenshot ``output``) and a code interpreter's image, which a client cannot
# hold half-built.
_WHOLE = frozenset({"action", "output", "image"})
# Lists whose items carry ``index`` in deltas and are merged by it.
_INDEXED = frozenset({"outputs", "chunks"})
# Strings the service streams about a token at a time, strings it sends in one
# to four pieces, and (any other key) strings it sends whole: ids, names, labels.
_TOKENIZED = frozenset({"arguments", "input", "requesturl", "query"})
_PIECES = frozenset({"output", "logs", "response_metadata", "summary", "source", "text"})
_WORDS = (  # noqa: SIM905 - a sentence reads better than forty quoted words
    "the weather in seattle today report market price agent search result "
    "document table revenue quarter sales region contoso fabrikam north europe "
    "policy employee handbook travel expense limit café naïve données 東京 ✓"
).split(" ")
_ASCII_WORDS = [w for w in _WORDS if w.isascii()]
_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class AzureStream:
    """One generated run-step stream.

    Attributes
    ----------
    tool_type : str
        The type of the stream's tool calls (``"activities"`` for the
        activities step, ``"some_future_tool"`` for the unknown type).
    sse : bytes
        The ``text/event-stream`` body, UTF-8.
    completed : dict
        The server's completed step, JSON-ready. For the tool-approval stream
        (whose function output arrives in a delta after
        ``thread.run.step.completed``) it is that completed step with the
        output merged in.
    deltas : list of dict
        The data of every ``thread.run.step.delta`` event, in stream order.
    name : str
        What the stream shows, unique among the streams (``"bing_grounding"``,
        ``"function_parallel"``, ``"function_approval"``...).
    """

    tool_type: str
    sse: bytes
    completed: dict[str, Any]
    deltas: list[dict[str, Any]]
    name: str


# -- the merge ---------------------------------------------------------------


def merge_payload(target: Mapping[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` with ``delta`` merged into it, as a new dict (neither argument changes).

    The rules, applied key by key (``index`` itself is never copied):

    * a string is appended to the string already there; ``id`` and ``type``
      are replaced instead, and a string replaces anything that is not a
      string (absent, null, another type);
    * a null records the key as null when it is absent, and never erases a
      value;
    * an object is merged key by key into the object already there (or into
      a new one);
    * a list of objects that all carry an integer ``index`` is merged by it:
      item *i* of the list already there is index *i*, an index one past its
      end appends, a larger one is refused (:class:`ValueError`);
    * any other list extends the list already there (or replaces a non-list);
    * anything else (numbers, booleans) replaces.
    """
    merged = copy.deepcopy(dict(target))
    _merge_into(merged, delta)
    return merged


def _merge_into(target: dict[str, Any], delta: Mapping[str, Any]) -> None:
    for key, value in delta.items():
        if key == "index":
            continue
        current = target.get(key)
        if value is None:
            target.setdefault(key, None)
        elif isinstance(value, str):
            if isinstance(current, str) and key not in _REPLACED:
                target[key] = current + value
            else:
                target[key] = value
        elif isinstance(value, dict):
            if not isinstance(current, dict):
                current = target[key] = {}
            _merge_into(current, value)
        elif isinstance(value, list) and _is_indexed(value):
            if not isinstance(current, list):
                current = target[key] = []
            for item in value:
                i = item["index"]
                if i < len(current):
                    if not isinstance(current[i], dict):
                        current[i] = {}
                    _merge_into(current[i], item)
                elif i == len(current):
                    current.append({})
                    _merge_into(current[i], item)
                else:
                    raise ValueError(f"{key}: index {i} is past the end ({len(current)} items)")
        elif isinstance(value, list):
            if isinstance(current, list):
                current.extend(copy.deepcopy(value))
            else:
                target[key] = copy.deepcopy(value)
        else:
            target[key] = copy.deepcopy(value)


def _is_indexed(items: list[Any]) -> bool:
    return bool(items) and all(
        isinstance(item, dict) and type(item.get("index")) is int for item in items
    )


# -- cutting completed values into deltas --------------------------------------


def _fragments(rng: random.Random, text: str, key: str, count: int | None = None) -> list[str]:
    """``text`` cut into non-empty pieces: ``count`` of them, or as the key streams."""
    if not text:
        return []
    if count is None:
        if key in _TOKENIZED:
            sizes: list[int] = []
            while sum(sizes) < len(text):
                sizes.append(_fragment_length(rng))
            count = len(sizes)
        elif key in _PIECES:
            count = rng.randint(1, 4)
        else:
            count = 1
    count = max(1, min(count, len(text)))
    cuts = sorted(rng.sample(range(1, len(text)), count - 1)) if count > 1 else []
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def _ops(
    rng: random.Random,
    final: Mapping[str, Any],
    first: Mapping[str, Any],
    counts: Mapping[str, int],
) -> list[dict[str, Any]]:
    """Partial objects that, merged in order into ``first``, give ``final``.

    ``first`` is what the opening delta sent; every string in it must be a
    prefix of the final one, every list a prefix of the final list. ``counts``
    fixes how many fragments a string key is cut into.
    """
    out: list[dict[str, Any]] = []
    for key, value in final.items():
        sent = first.get(key)
        if key in first and sent == value:
            continue
        if isinstance(value, str) and key not in _REPLACED:
            start = sent if isinstance(sent, str) else ""
            if not value.startswith(start):
                raise ValueError(f"{key}: the opening value is not a prefix of the final one")
            if not value and not isinstance(sent, str):
                out.append({key: ""})  # an empty string replacing a null
            out.extend(
                {key: piece} for piece in _fragments(rng, value[len(start) :], key, counts.get(key))
            )
        elif isinstance(value, dict) and key not in _WHOLE:
            sub = _ops(rng, value, sent if isinstance(sent, dict) else {}, counts)
            if sub:
                out.extend({key: part} for part in sub)
            else:  # an empty object replacing a null
                out.append({key: {}})
        elif isinstance(value, list) and key in _INDEXED:
            done = len(sent) if isinstance(sent, list) else 0
            for i, item in enumerate(value[done:], start=done):
                head = {"index": i, **({"type": item["type"]} if "type" in item else {})}
                sub = _ops(rng, item, head, counts)
                out.extend({key: [{**head, **part}]} for part in sub or [{}])
        elif isinstance(value, list):
            done = len(sent) if isinstance(sent, list) else 0
            rest = value[done:]
            if not rest and not isinstance(sent, list):
                out.append({key: []})
            while rest:
                size = rng.randint(1, max(1, len(rest)))
                out.append({key: rest[:size]})
                rest = rest[size:]
        else:
            out.append({key: value})
    return out


@dataclass
class _Call:
    """A tool call to stream: its completed form and its opening payload."""

    type: str
    id: str
    # The key of the payload object (``None`` for MCP, whose fields are flat).
    key: str | None
    final: dict[str, Any]
    first: dict[str, Any]
    # Fields of the call itself beside id, type and the payload (sent in the opening delta).
    extra: dict[str, Any]
    counts: dict[str, int]

    def completed(self) -> dict[str, Any]:
        body = {self.key: self.final} if self.key else self.final
        return {"id": self.id, "type": self.type, **self.extra, **copy.deepcopy(body)}

    def opening(self, index: int) -> dict[str, Any]:
        body = {self.key: self.first} if self.key else self.first
        return {"index": index, "id": self.id, "type": self.type, **self.extra, **body}

    def later(self, rng: random.Random, index: int) -> list[dict[str, Any]]:
        parts = _ops(rng, self.final, self.first, self.counts)
        return [
            {"index": index, "type": self.type, **({self.key: part} if self.key else part)}
            for part in parts
        ]


# -- values --------------------------------------------------------------------


def _text(rng: random.Random, words: int, vocabulary: list[str] = _ASCII_WORDS) -> str:
    return " ".join(rng.choices(vocabulary, k=words))


def _json(value: Any) -> str:
    """A JSON document as a tool's arguments or output carry it (spaced, like Python's)."""
    return json.dumps(value, ensure_ascii=False)


def _function(rng: random.Random, name: str | None = None, output: bool = True) -> _Call:
    name = name or rng.choice(["get_weather", "lookup_order", "send_email", "fetch_datetime"])
    final = {
        "name": name,
        "arguments": _json({"location": _text(rng, 2), "unit": rng.choice(["C", "F"])}),
        "output": _json({"temperature": rng.randint(-20, 40), "sky": _text(rng, 2)})
        if output
        else None,
    }
    first = {"name": name, "arguments": "", "output": None}
    return _Call("function", _id(rng, "call_"), "function", final, first, {}, {})


def _string_map(rng: random.Random, kind: str) -> _Call:
    counts: dict[str, int] = {}
    if kind in ("bing_grounding", "bing_custom_search"):
        query = "+".join(rng.choices(_ASCII_WORDS, k=rng.randint(2, 5)))
        path = "custom/search" if kind == "bing_custom_search" else "search"
        url = f"https://api.bing.microsoft.com/v7.0/{path}?q={query}"
        if kind == "bing_custom_search":
            url += f"&customconfig={_id(rng, '')[:12]}"
        docs = rng.randint(1, 10)
        final = {
            "requesturl": url,
            "response_metadata": str(
                {"market": "en-US", "num_docs_retrieved": docs, "num_docs_actually_used": docs}
            ),
        }
        first = {"requesturl": "", "response_metadata": None}
    else:
        question = _text(rng, rng.randint(6, 14), _WORDS if rng.random() < 0.2 else _ASCII_WORDS)
        if kind == "azure_ai_search":
            chunks = [
                {"id": _id(rng, "doc_")[:16], "title": _text(rng, 3), "content": _text(rng, 20)}
                for _ in range(rng.randint(1, 3))
            ]
            answer = str({"chunks": chunks})
        else:
            answer = _text(rng, rng.randint(20, 60))
        final = {"input": question, "output": answer}
        first = {"input": None, "output": None}
        if kind == "fabric_dataagent":
            counts["input"] = 8
    return _Call(kind, _id(rng, "call_"), kind, final, first, {}, counts)


def _openapi(rng: random.Random) -> _Call:
    name = rng.choice(["weather_GetCurrentWeather", "countries_GetCountryByCurrency"])
    final = {
        "name": name,
        "arguments": _json({"location": _text(rng, 1), "format": "json"}),
        "output": _json({"current_condition": [{"temp_C": str(rng.randint(-5, 35))}]}),
    }
    first = {"name": name, "arguments": "", "output": None}
    return _Call("openapi", _id(rng, "call_"), "function", final, first, {}, {})


def _azure_function(rng: random.Random) -> _Call:
    final = {
        "name": "foo",
        "arguments": _json(
            {"query": _text(rng, 3), "outputqueueuri": "https://x.queue.core.windows.net/out"}
        ),
        "output": _json({"Value": _text(rng, 4), "CorrelationId": _id(rng, "")}),
    }
    first = {"name": "", "arguments": "", "output": None}
    return _Call("azure_function", _id(rng, "call_"), "azure_function", final, first, {}, {})


def _connected_agent(rng: random.Random) -> _Call:
    final = {
        "name": rng.choice(["stock_price_bot", "weather_agent"]),
        "arguments": _json({"query": _text(rng, 4)}),
        "output": _text(rng, rng.randint(10, 40)),
        "run_id": _id(rng, "run_"),
        "thread_id": _id(rng, "thread_"),
        "assistant_id": _id(rng, "asst_"),
    }
    first = {
        "name": "",
        "arguments": "",
        "output": None,
        "run_id": None,
        "thread_id": None,
        "assistant_id": None,
    }
    return _Call("connected_agent", _id(rng, "call_"), "connected_agent", final, first, {}, {})


def _deep_research(rng: random.Random) -> _Call:
    sources = "\n".join(
        f"[{i}] https://www.example.org/{_text(rng, 1)}/{rng.randint(1, 9999)}"
        for i in range(1, rng.randint(2, 4))
    )
    final = {
        "input": _json({"prompt": _text(rng, 12)}),
        "output": f"{_text(rng, rng.randint(30, 80))}\n\nSources:\n{sources}",
    }
    first = {"input": "", "output": None}
    return _Call("deep_research", _id(rng, "call_"), "deep_research", final, first, {}, {})


def _mcp(rng: random.Random) -> _Call:
    name = rng.choice(["search_azure_rest_api_code", "fetch_generic_documentation"])
    label = rng.choice(["github", "microsoft_docs"])
    final = {
        "arguments": _json({"query": _text(rng, 3)}),
        "name": name,
        "output": _text(rng, rng.randint(10, 40)),
        "server_label": label,
    }
    first = {"arguments": "", "name": name, "output": None, "server_label": label}
    return _Call("mcp", _id(rng, "call_"), None, final, first, {}, {})


def _action(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(
        [
            "click",
            "double_click",
            "drag",
            "keypress",
            "move",
            "screenshot",
            "scroll",
            "type",
            "wait",
        ]
    )
    x, y = rng.randint(0, 1919), rng.randint(0, 1079)
    if kind == "click":
        return {"type": kind, "x": x, "y": y, "button": rng.choice(["left", "right", "wheel"])}
    if kind in ("double_click", "move"):
        return {"type": kind, "x": x, "y": y}
    if kind == "drag":
        return {"type": kind, "path": [{"x": x, "y": y}, {"x": x // 2, "y": y // 2}]}
    if kind == "keypress":
        return {"type": kind, "keys": rng.choice([["CTRL", "L"], ["ENTER"]])}
    if kind == "scroll":
        return {"type": kind, "x": x, "y": y, "scroll_x": 0, "scroll_y": rng.choice([-300, 300])}
    if kind == "type":
        return {"type": kind, "text": _text(rng, 3)}
    return {"type": kind}


def _computer_use(rng: random.Random) -> _Call:
    checks = [
        {
            "id": _id(rng, "cu_sc_"),
            "code": "malicious_instructions",
            "message": "We've detected instructions that may cause your application to perform"
            " malicious or unauthorized actions.",
        }
        for _ in range(rng.choice([0, 0, 1]))
    ]
    screenshot: dict[str, Any] = {"type": "computer_screenshot"}
    if rng.random() < 0.5:
        screenshot["file_id"] = _id(rng, "assistant-")
    else:
        screenshot["image_url"] = "data:image/png;base64," + "".join(rng.choices(_ALNUM, k=40))
    final = {
        "action": _action(rng),
        "pending_safety_checks": checks,
        "output": screenshot,
        "acknowledged_safety_checks": copy.deepcopy(checks),
    }
    first: dict[str, Any] = {"action": None, "pending_safety_checks": [], "output": None}
    return _Call(
        "computer_use_preview", _id(rng, "call_"), "computer_use_preview", final, first, {}, {}
    )


def _browser_automation(rng: random.Random) -> _Call:
    steps = [
        {
            "last_step_result": _text(rng, 6),
            "current_state": _text(rng, 8),
            "next_step": _text(rng, 6),
        }
        for _ in range(rng.randint(1, 4))
    ]
    final = {
        "input": _text(rng, 10),
        "output": _text(rng, rng.randint(10, 30)),
        "steps": steps,
    }
    first: dict[str, Any] = {"input": "", "output": None, "steps": []}
    return _Call(
        "browser_automation", _id(rng, "call_"), "browser_automation", final, first, {}, {}
    )


def _code_interpreter(rng: random.Random) -> _Call:
    lines = [f"x{i} = sum(range({rng.randint(1, 999)}))" for i in range(rng.randint(1, 6))]
    outputs: list[dict[str, Any]] = []
    if rng.random() < 0.6:
        outputs.append(
            {"type": "logs", "logs": "\n".join(str(rng.randint(0, 10**6)) for _ in lines)}
        )
    else:
        outputs.append({"type": "image", "image": {"file_id": _id(rng, "assistant-")}})
    final = {"input": "\n".join(lines), "outputs": outputs}
    first = {"input": "", "outputs": []}
    return _Call("code_interpreter", _id(rng, "call_"), "code_interpreter", final, first, {}, {})


def _file_search(rng: random.Random) -> _Call:
    ranking = {"ranker": "default_2024_08_21", "score_threshold": 0.0}
    results: list[dict[str, Any]] = []
    with_content = rng.random() < 0.5
    for _ in range(rng.randint(1, 5)):
        result: dict[str, Any] = {
            "file_id": _id(rng, "assistant-"),
            "file_name": rng.choice(["handbook.pdf", "expenses.md", "product_info_1.md"]),
            "score": round(rng.random(), 6),
        }
        if with_content:
            result["content"] = [{"type": "text", "text": _text(rng, 40)}]
        results.append(result)
    final = {"ranking_options": ranking, "results": results}
    first = {"ranking_options": dict(ranking), "results": []}
    return _Call("file_search", _id(rng, "call_"), "file_search", final, first, {}, {})


def _unknown(rng: random.Random) -> _Call:
    final = {
        "query": _text(rng, 6),
        "result": {"summary": _text(rng, 12), "score": round(rng.random(), 4)},
        "meta": {
            "source": rng.choice(["web", "graph"]),
            "hits": [{"url": f"https://example.com/{rng.randint(1, 999)}"} for _ in range(2)],
            "stats": {"ms": rng.randint(1, 900), "cached": rng.random() < 0.5},
        },
        "chunks": [{"text": _text(rng, 5)} for _ in range(rng.randint(1, 3))],
    }
    first: dict[str, Any] = {
        "query": "",
        "result": None,
        "meta": {"source": "", "hits": []},
        "chunks": [],
    }
    return _Call("some_future_tool", _id(rng, "call_"), "some_future_tool", final, first, {}, {})


def _with_extras(rng: random.Random) -> _Call:
    """A function call carrying fields no model has, at call level and in its payload."""
    call = _function(rng)
    call.final = {"$schema": _SCHEMA, **call.final, "extra_flag": True}
    call.first = {"$schema": _SCHEMA, **call.first}
    call.extra = {"extra_flag": True}
    return call


# -- steps and streams -----------------------------------------------------------


def _step(rng: random.Random, step_type: str, details: dict[str, Any]) -> dict[str, Any]:
    created = rng.randint(1_740_000_000, 1_770_000_000)
    step: dict[str, Any] = {
        "id": _id(rng, "step_"),
        "object": "thread.run.step",
        "created_at": created,
        "run_id": _id(rng, "run_"),
        "assistant_id": _id(rng, "asst_"),
        "thread_id": _id(rng, "thread_"),
        "type": step_type,
        "status": "in_progress",
        "cancelled_at": None,
        "completed_at": None,
        "expires_at": created + 600,
        "failed_at": None,
        "last_error": None,
        "step_details": details,
        "usage": None,
    }
    if rng.random() < 0.5:
        step["metadata"] = {}
    return step


def _complete(rng: random.Random, step: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    done = copy.deepcopy(step)
    done["status"] = "completed"
    done["completed_at"] = step["created_at"] + rng.randint(1, 40)
    done["step_details"] = details
    done["usage"] = _usage(rng)
    return done


def _event(name: str, data: Any) -> bytes:
    body = (
        data
        if isinstance(data, str)
        else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    return f"event: {name}\ndata: {body}\n\n".encode()


def _delta(step_id: str, call: dict[str, Any], details_type: str) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": details_type, "tool_calls": [call]}},
    }


def _interleave(rng: random.Random, runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The calls' deltas merged into one sequence, each call's in its own order."""
    out: list[dict[str, Any]] = []
    queues = [list(run) for run in runs if run]
    while queues:
        queue = rng.choice(queues)
        out.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return out


def _tool_stream(
    rng: random.Random,
    name: str,
    calls: list[_Call],
    *,
    parallel: bool = False,
    details_type: str = "tool_calls",
    step_extra: Mapping[str, Any] | None = None,
    usage_extra: Mapping[str, Any] | None = None,
    approval_output: str | None = None,
) -> AzureStream:
    step = _step(rng, "tool_calls", {"type": "tool_calls", "tool_calls": []})
    if step_extra:
        step.update(step_extra)
    runs = [[c.opening(i), *c.later(rng, i)] for i, c in enumerate(calls)]
    if parallel:
        # Each call opens before its fragments; the fragments interleave.
        ordered = [run[0] for run in runs] + _interleave(rng, [run[1:] for run in runs])
    else:
        ordered = [d for run in runs for d in run]
    deltas = [_delta(step["id"], d, details_type) for d in ordered]
    completed_calls = [c.completed() for c in calls]
    tail = [  # after thread.run.step.completed, whose function output is still null
        _delta(
            step["id"],
            {"index": 0, "type": "function", "function": {"output": piece}},
            details_type,
        )
        for piece in _fragments(rng, approval_output or "", "output")
    ]
    done = _complete(rng, step, {"type": "tool_calls", "tool_calls": completed_calls})
    if usage_extra:
        done["usage"].update(usage_extra)
    body = [
        _event("thread.run.step.created", step),
        _event("thread.run.step.in_progress", step),
        *(_event("thread.run.step.delta", d) for d in deltas),
        _event("thread.run.step.completed", done),
        *(_event("thread.run.step.delta", d) for d in tail),
        _event("done", "[DONE]"),
    ]
    final = done
    if approval_output is not None:
        final = copy.deepcopy(done)
        final["step_details"]["tool_calls"][0]["function"]["output"] = approval_output
    return AzureStream(
        tool_type=calls[0].type,
        sse=b"".join(body),
        completed=final,
        deltas=deltas + tail,
        name=name,
    )


def _tools_listed(rng: random.Random) -> dict[str, Any]:
    """MCP tool definitions as servers send them: any JSON Schema as parameters."""
    return {
        "search_docs": {
            "description": "Search the documentation.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to look for."},
                    "limit": {"type": "integer", "default": 5, "minimum": 1},
                },
                "required": ["query"],
                "additionalProperties": False,
            },
        },
        "ping": {"description": None, "parameters": {"type": "object"}},
        "fetch_many": {
            "description": "Fetch several pages at once.",
            "parameters": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "title": "fetch_manyArguments",
                "properties": {
                    "urls": {"type": "array", "items": {"type": "string", "format": "uri"}},
                    "filters": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string"},
                                "op": {"enum": ["eq", "ne"]},
                            },
                        },
                    },
                    "lang": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                    "depth": {"type": ["integer", "null"]},
                },
                "required": ["urls"],
            },
        },
        f"tool_{rng.randint(1, 99)}": {"parameters": {"type": "object", "properties": {}}},
    }


def _activities_stream(rng: random.Random) -> AzureStream:
    activity = {
        "type": "mcp_list_tools",
        "id": _id(rng, "mcpl_"),
        "server_label": rng.choice(["github", "microsoft_docs"]),
        "tools": _tools_listed(rng),
    }
    details = {"type": "activities", "activities": [activity]}
    step = _step(rng, "activities", details)
    done = _complete(rng, step, copy.deepcopy(details))
    body = [
        _event("thread.run.step.created", step),
        _event("thread.run.step.in_progress", step),
        _event("thread.run.step.completed", done),
        _event("done", "[DONE]"),
    ]
    return AzureStream("activities", b"".join(body), done, [], "activities")


def azure_streams(seed: int = 0) -> list[AzureStream]:
    """The generated streams, the same for the same seed.

    One per type of :data:`AZURE_TOOL_TYPES` (named after it), then:
    ``function_parallel`` (two function calls, their deltas interleaved),
    ``bing_grounding_azure_function_parallel`` (two calls of two types),
    ``mcp_delta_details`` and ``openapi_delta_details`` (the deltas' step
    details typed ``"mcp"`` / ``"openapi"``, as the SDK's
    ``RunStepDeltaMCPObject`` / ``RunStepDeltaOpenAPIObject`` allow),
    ``unknown_tool`` (type ``some_future_tool``, a nested payload),
    ``extra_fields`` (``$schema`` and ``extra_flag`` keys at step level, at
    call level, in the payload and in usage), ``function_approval`` (the
    output arrives after ``thread.run.step.completed``) and ``activities``
    (an activities step: created and completed, no deltas).
    """
    rng = random.Random(seed)
    makers: dict[str, Callable[[random.Random], _Call]] = {
        "bing_grounding": lambda r: _string_map(r, "bing_grounding"),
        "bing_custom_search": lambda r: _string_map(r, "bing_custom_search"),
        "azure_ai_search": lambda r: _string_map(r, "azure_ai_search"),
        "sharepoint_grounding": lambda r: _string_map(r, "sharepoint_grounding"),
        "fabric_dataagent": lambda r: _string_map(r, "fabric_dataagent"),
        "openapi": _openapi,
        "azure_function": _azure_function,
        "connected_agent": _connected_agent,
        "deep_research": _deep_research,
        "mcp": _mcp,
        "computer_use_preview": _computer_use,
        "browser_automation": _browser_automation,
        "function": _function,
        "code_interpreter": _code_interpreter,
        "file_search": _file_search,
    }
    streams = [_tool_stream(rng, kind, [makers[kind](rng)]) for kind in AZURE_TOOL_TYPES]
    streams.append(
        _tool_stream(rng, "function_parallel", [_function(rng), _function(rng)], parallel=True)
    )
    streams.append(
        _tool_stream(
            rng,
            "bing_grounding_azure_function_parallel",
            [_string_map(rng, "bing_grounding"), _azure_function(rng)],
            parallel=True,
        )
    )
    streams.append(_tool_stream(rng, "mcp_delta_details", [_mcp(rng)], details_type="mcp"))
    streams.append(
        _tool_stream(rng, "openapi_delta_details", [_openapi(rng)], details_type="openapi")
    )
    streams.append(_tool_stream(rng, "unknown_tool", [_unknown(rng)]))
    streams.append(
        _tool_stream(
            rng,
            "extra_fields",
            [_with_extras(rng)],
            step_extra={"extra_flag": True},
            usage_extra={"extra_flag": True},
        )
    )
    approved = _function(rng, output=False)
    output = _json({"status": "sent", "id": _id(rng, "msg_")})
    streams.append(_tool_stream(rng, "function_approval", [approved], approval_output=output))
    streams.append(_activities_stream(rng))
    return streams


def azure_pages(seed: int = 0, per_page: int = 5) -> list[bytes]:
    """``GET .../runs/{run}/steps`` bodies holding one completed step per tool type.

    The steps are the ``completed`` objects of the first stream of each
    ``tool_type`` of :func:`azure_streams` (same seed), in stream order,
    ``per_page`` to a page; every page but the last says ``has_more``. The
    bodies are pretty-printed JSON, as the service sends them.
    """
    seen: dict[str, dict[str, Any]] = {}
    for stream in azure_streams(seed):
        seen.setdefault(stream.tool_type, stream.completed)
    steps = list(seen.values())
    pages: list[bytes] = []
    for start in range(0, len(steps), per_page):
        data = steps[start : start + per_page]
        page = {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"],
            "last_id": data[-1]["id"],
            "has_more": start + per_page < len(steps),
        }
        pages.append(json.dumps(page, ensure_ascii=False, indent=2).encode())
    return pages
