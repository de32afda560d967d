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
from collections import Counter
from typing import Any

from msgspec import UNSET

from ._rows import calls_of, tokens

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


def _call_type(call: Any) -> Any:
    config = getattr(call, "__struct_config__", None)
    if config is not None:
        return config.tag
    return call.get("type") if isinstance(call, dict) else None


def _int(value: Any) -> int:
    return value if type(value) is int else 0


class Stats:
    """The figures of run steps, added one step at a time (``add``), read by ``as_json``."""

    __slots__ = (
        "_assistants",
        "_calls",
        "_durations",
        "_failures",
        "_steps",
        "_tool_types",
        "_total",
    )

    def __init__(self) -> None:
        self._steps: Counter[tuple[Any, Any]] = Counter()
        self._calls: Counter[Any] = Counter()
        self._failures: Counter[Any] = Counter()
        self._tool_types: dict[Any, list[int]] = {}
        self._assistants: dict[Any, list[int]] = {}
        self._total = [0] * len(TOKEN_KEYS)
        self._durations = array("q")

    @property
    def steps(self) -> int:
        """The steps added so far."""
        return self._total[0]

    def add(self, header: Any, details: Any) -> None:
        """Add one step: its header (a ``RunStep`` or ``RunStepSummary``) and details."""
        self._steps[(_value(header.type), _value(header.status))] += 1
        usage = header.usage
        if usage is UNSET or usage is None:
            row = None
        else:
            prompt, completion, total, cached, reasoning = tokens(usage)
            row = (
                1 if type(total) is int else 0,
                _int(prompt),
                _int(completion),
                _int(total),
                _int(cached),
                _int(reasoning),
            )
        _count(self._total, row)
        assistant = _value(header.assistant_id)
        group = self._assistants.get(assistant)
        if group is None:
            group = self._assistants[assistant] = [0] * len(TOKEN_KEYS)
        _count(group, row)
        calls = calls_of(details)
        if calls:
            kinds = set()
            for call in calls:
                kind = _call_type(call)
                self._calls[kind] += 1
                kinds.add(kind)
            for kind in kinds:
                group = self._tool_types.get(kind)
                if group is None:
                    group = self._tool_types[kind] = [0] * len(TOKEN_KEYS)
                _count(group, row)
        error = header.last_error
        if error is not UNSET and error is not None:
            self._failures[_value(getattr(error, "code", UNSET))] += 1
        start, end = header.created_at, header.completed_at
        if type(start) is int and type(end) is int:
            self._durations.append(end - start)

    def as_json(self) -> dict[str, Any]:
        """The figures as JSON-ready builtins (the keys docs/cli.md lists).

        Groups are lists of objects, largest first, then by key (a key may be null).
        """
        return {
            "steps": self.steps,
            "tool_calls": sum(self._calls.values()),
            "steps_by_type_status": [
                {"type": t, "status": s, "steps": n} for (t, s), n in _ranked(self._steps.items())
            ],
            "tool_calls_by_type": [
                {"type": k, "calls": n} for k, n in _ranked(self._calls.items())
            ],
            "tokens": _tokens(self._total),
            "tokens_by_tool_type": [
                {"type": k, **_tokens(v)} for k, v in _ranked_groups(self._tool_types)
            ],
            "tokens_by_assistant": [
                {"assistant_id": k, **_tokens(v)} for k, v in _ranked_groups(self._assistants)
            ],
            "failures_by_code": [
                {"code": k, "steps": n} for k, n in _ranked(self._failures.items())
            ],
            "duration_seconds": durations(self._durations),
        }


def _count(group: list[int], row: tuple[int, ...] | None) -> None:
    group[0] += 1
    if row is not None:
        for i, value in enumerate(row, 1):
            group[i] += value


def _key(value: Any) -> tuple[bool, str]:
    # null sorts last; the rest by their text (a tool type is a string, but a body may
    # put anything in a tag the lenient mode keeps).
    return (value is None, str(value))


def _ranked(items: Any) -> list[tuple[Any, int]]:
    return sorted(items, key=lambda kv: (-kv[1], _keys(kv[0])))


def _keys(key: Any) -> tuple[Any, ...]:
    return tuple(_key(k) for k in key) if isinstance(key, tuple) else (_key(key),)


def _ranked_groups(groups: dict[Any, list[int]]) -> list[tuple[Any, list[int]]]:
    return sorted(groups.items(), key=lambda kv: (-kv[1][0], _key(kv[0])))


def _tokens(group: list[int]) -> dict[str, int]:
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
