"""The figures ``stepwire stats`` gives: counts, tokens, failures and durations of steps.

The definitions (docs/cli.md documents the JSON keys):

* steps per (type, status); tool calls per type (a call's ``type``);
* tokens per tool type: a step's usage counts once for each distinct tool type among
  its calls (two function calls count once for ``function``; a bing_grounding and an
  azure_function call count for both); steps without calls are in no tool type. Per
  group: the steps, the steps with usage, and the sums of prompt, completion, total,
  cached and reasoning tokens (a null counts as 0). Cached tokens are
  ``prompt_token_details.cached_tokens``, else ``prompt_tokens_details.cached_tokens``
  (the first not null: the live API uses both spellings);
* the same token figures per assistant, and over every step;
* failures per ``last_error.code``, over the steps whose ``last_error`` is set;
* step duration, ``completed_at - created_at`` in seconds over the steps with both:
  count, min, max, and the nearest-rank percentiles p50, p95 and p99
  (``sorted(x)[ceil(q * n) - 1]``, DuckDB's ``quantile_disc``).

A value absent from a step (``UNSET``) or null groups under ``null``: nothing is
dropped and nothing is guessed.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import msgspec
from msgspec import UNSET

from ._model import ToolCallsStepDetails
from ._rows import calls_of

__all__ = ["QUANTILES", "TOKEN_KEYS", "Stats"]

#: The duration percentiles, by key.
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
#: A token group's keys, in order.
TOKEN_KEYS = (
    "steps",
    "steps_with_usage",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
)


def _value(value: Any) -> Any:
    return None if value is UNSET else value


def _tag(cls: type) -> Any:
    """A tool call class's tool type (its tag); ``None`` for an unknown one's class."""
    config = getattr(cls, "__struct_config__", None)
    return None if config is None else config.tag


# A group's sums, in TOKEN_KEYS order.
Group = list[int]


def _new_group() -> Group:
    return [0] * len(TOKEN_KEYS)


def _row_type(name: str) -> type[msgspec.Struct]:
    fields = [(name, Any), *((key, int) for key in TOKEN_KEYS)]
    return msgspec.defstruct(f"_{name}_tokens", fields, gc=False)


_ROW = {name: _row_type(name) for name in ("type", "assistant_id")}


class Stats:
    """The figures of run steps, added one step at a time (``add``), read by ``as_json``.

    ``add`` is the command's whole cost beyond the decode: one pass, no object
    built a step but the duration's entry (``benchmarks/cli.py`` measures it).
    """

    __slots__ = (
        "_assistants",
        "_calls",
        "_durations",
        "_failures",
        "_steps",
        "_tags",
        "_tool_types",
    )

    def __init__(self) -> None:
        # Keys as the objects hold them (UNSET included): made JSON in as_json.
        self._steps: dict[Any, dict[Any, int]] = {}  # type, then status
        self._calls: dict[Any, int] = {}
        self._failures: dict[Any, int] = {}
        self._tool_types: dict[Any, Group] = {}
        self._assistants: dict[Any, Group] = {}
        self._durations = array("q")
        self._tags: dict[type, Any] = {}

    @property
    def steps(self) -> int:
        """The steps added so far."""
        return sum(group[0] for group in self._assistants.values())

    def add(self, header: Any, details: Any) -> None:
        """Add one step: its header (a ``RunStep`` or ``RunStepSummary``) and details."""
        # Written out, not looped: this is the command's whole cost past the decode
        # (lists, whose item updates the interpreter specialises; arrays' it does not).
        # Two levels, type then status: no tuple to build and hash a step.
        statuses = self._steps.get(header.type)
        if statuses is None:
            statuses = self._steps[header.type] = {}
        status = header.status
        statuses[status] = statuses.get(status, 0) + 1
        usage = header.usage
        # Every step is in one assistant's group: the total is their sum (as_json).
        assistant = self._assistants.get(header.assistant_id)
        if assistant is None:
            assistant = self._assistants[header.assistant_id] = [0, 0, 0, 0, 0, 0, 0]
        row: tuple[int, int, int, int, int] | None = None
        if usage is None or usage is UNSET:
            assistant[0] += 1
        else:
            # Usage's three counts are required ints; the two details may be null or
            # absent. _rows.tokens' rule, inline (a call a step is a tenth of add's cost).
            cached = None
            details_ = usage.prompt_token_details
            if details_ is not UNSET and details_ is not None:
                cached = details_.cached_tokens
            if type(cached) is not int:
                details_ = usage.prompt_tokens_details
                cached = 0
                if details_ is not UNSET and details_ is not None:
                    cached = details_.cached_tokens
                    if type(cached) is not int:
                        cached = 0
            reasoning = 0
            details_ = usage.completion_tokens_details
            if details_ is not UNSET and details_ is not None:
                reasoning = details_.reasoning_tokens
                if type(reasoning) is not int:
                    reasoning = 0
            prompt, completion, tokens_ = (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens,
            )
            row = (prompt, completion, tokens_, cached, reasoning)
            assistant[0] += 1
            assistant[1] += 1
            assistant[2] += prompt
            assistant[3] += completion
            assistant[4] += tokens_
            assistant[5] += cached
            assistant[6] += reasoning
        calls = details.tool_calls if type(details) is ToolCallsStepDetails else calls_of(details)
        if calls:
            self._add_calls(calls, row)
        error = header.last_error
        if error is not None and error is not UNSET:
            code = getattr(error, "code", None)
            failures = self._failures
            failures[code] = failures.get(code, 0) + 1
        start, end = header.created_at, header.completed_at
        if type(start) is int and type(end) is int:
            self._durations.append(end - start)

    def _add_calls(self, calls: list[Any], row: tuple[int, int, int, int, int] | None) -> None:
        """A step's calls: counted by type, and its usage once for each type."""
        tags = self._tags
        counts = self._calls
        kinds = []
        for call in calls:
            cls = type(call)
            kind = tags.get(cls, tags)
            if kind is tags:
                kind = tags[cls] = _tag(cls)
            if kind is None and isinstance(call, dict):  # an unknown type: its own tag
                kind = call.get("type")
            counts[kind] = counts.get(kind, 0) + 1
            if kind not in kinds:
                kinds.append(kind)
        tool_types = self._tool_types
        for kind in kinds:
            group = tool_types.get(kind)
            if group is None:
                group = tool_types[kind] = [0, 0, 0, 0, 0, 0, 0]
            group[0] += 1
            if row is not None:
                group[1] += 1
                group[2] += row[0]
                group[3] += row[1]
                group[4] += row[2]
                group[5] += row[3]
                group[6] += row[4]

    def as_json(self) -> dict[str, Any]:
        """The figures, for ``msgspec.json.encode`` (the keys docs/cli.md lists);
        ``msgspec.to_builtins`` makes them dicts and lists.

        Groups are lists of objects, largest first, then by key (a key may be null).
        """
        steps = _summed({(t, s): n for t, by in self._steps.items() for s, n in by.items()})
        total = _new_group()
        for group in self._assistants.values():
            for i, value in enumerate(group):
                total[i] += value
        return {
            "steps": total[0],
            "tool_calls": sum(self._calls.values()),
            "steps_by_type_status": [
                {"type": t, "status": s, "steps": n} for (t, s), n in _ranked(steps.items())
            ],
            "tool_calls_by_type": [
                {"type": k, "calls": n} for k, n in _ranked(_summed(self._calls).items())
            ],
            "tokens": _tokens(total),
            "tokens_by_tool_type": _rows("type", self._tool_types),
            "tokens_by_assistant": _rows("assistant_id", self._assistants),
            "failures_by_code": [
                {"code": k, "steps": n} for k, n in _ranked(_summed(self._failures).items())
            ],
            "duration_seconds": durations(self._durations),
        }


def _summed(counts: dict[Any, int]) -> dict[Any, int]:
    """Counts by JSON key: absent (UNSET) and null are one key, null."""
    out: dict[Any, int] = {}
    for key, n in counts.items():
        key = tuple(_value(k) for k in key) if isinstance(key, tuple) else _value(key)
        out[key] = out.get(key, 0) + n
    return out


def _key(value: Any) -> tuple[bool, str]:
    # null sorts last; the rest by their text (a tool type is a string, but a body may
    # put anything in a tag the lenient mode keeps).
    return (value is None, str(value))


def _ranked(items: Any) -> list[tuple[Any, int]]:
    return sorted(items, key=lambda kv: (-kv[1], _keys(kv[0])))


def _keys(key: Any) -> tuple[Any, ...]:
    return tuple(_key(k) for k in key) if isinstance(key, tuple) else (_key(key),)


def _rows(name: str, groups: dict[Any, Group]) -> list[Any]:
    """Token groups as rows, most steps first, then by key; absent (UNSET) and null
    are one group, null. A row is a Struct the collector does not track: a file can
    hold as many groups as steps (an assistant a step)."""
    merged: dict[Any, Group] = {}
    for key, group in groups.items():
        if key is UNSET:
            key = None
        if key in merged:
            merged[key] = [a + b for a, b in zip(merged[key], group, strict=True)]
        else:
            merged[key] = group
    row = _ROW[name]
    # Two passes of a stable sort, by key then by steps: a key function of tuples
    # took 20 times as long on a group a step.
    keys = sorted((k for k in merged if k is not None), key=_text)
    if None in merged:
        keys.append(None)
    keys.sort(key=lambda k: -merged[k][0])
    return [row(key, *merged[key]) for key in keys]


def _text(key: Any) -> str:
    return key if type(key) is str else str(key)


def _tokens(group: Group) -> dict[str, int]:
    return dict(zip(TOKEN_KEYS, group, strict=True))


def durations(values: Any) -> dict[str, Any]:
    """Count, min, max and the nearest-rank percentiles of ``values`` (``None`` if empty)."""
    ordered = sorted(values)
    n = len(ordered)
    out: dict[str, Any] = {"steps": n, "min": None, "max": None}
    out.update(dict.fromkeys(QUANTILES))
    if n:
        out["min"], out["max"] = ordered[0], ordered[-1]
        for key, q in QUANTILES.items():
            out[key] = ordered[max(math.ceil(q * n) - 1, 0)]
    return out
