"""Run steps as columns: the rows of the ``steps`` and ``tool_calls`` tables.

Pure Python, no pyarrow: ``stepwire.arrow`` turns these lists into arrays, and
``stepwire.spark`` runs the same code on Spark's workers. Every value comes
from the decoded ``RunStep`` (the decode's own rules, modes and errors), and
every JSON text column is written by ``encode``, so nothing the model keeps is
lost from the tables: a tool call's whole object (known or unknown type) is in
``payload``, the step's in ``step_details``, the fields stepwire does not model
in ``extra``. docs/analytics.md documents the columns.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from ._encode import encode, to_builtins
from ._model import (
    AzureFunctionToolCall,
    BrowserAutomationToolCall,
    ConnectedAgentToolCall,
    DeepResearchToolCall,
    FunctionToolCall,
    MCPToolCall,
    OpenAPIToolCall,
    RunStep,
    ToolCallsStepDetails,
)
from ._unknown import UnknownObject

__all__ = ["CALL_COLUMNS", "STEP_COLUMNS", "TIMESTAMPS", "Columns"]

#: The columns of the ``steps`` table, in order.
STEP_COLUMNS = (
    "id",
    "object",
    "thread_id",
    "run_id",
    "assistant_id",
    "type",
    "status",
    "created_at",
    "expires_at",
    "cancelled_at",
    "failed_at",
    "completed_at",
    "expired_at",
    "last_error_code",
    "last_error_message",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "metadata",
    "step_details",
    "extra",
)
#: The columns of the ``tool_calls`` table, in order.
CALL_COLUMNS = (
    "step_id",
    "run_id",
    "thread_id",
    "created_at",
    "position",
    "id",
    "type",
    "name",
    "arguments",
    "output",
    "payload",
)
#: The step's six timestamps (seconds since the epoch, UTC).
TIMESTAMPS = ("created_at", "expires_at", "cancelled_at", "failed_at", "completed_at", "expired_at")

_ENCODE = msgspec.json.Encoder().encode
# The call's own fields, written in neither `id` nor `type`: the rest is its payload.
_CALL_KEYS = frozenset({"id", "type"})


def _present(value: Any) -> Any:
    return None if value is UNSET else value


def _text(value: Any) -> str | None:
    """A string field as it is; any other JSON value (kept by the default mode) as JSON."""
    if value is UNSET or value is None or type(value) is str:
        return None if value is UNSET else value
    return _ENCODE(to_builtins(value)).decode()


def _payload_of(call: Any) -> str:
    """The call as JSON without its ``id`` and ``type``: its own payload, all of it."""
    plain = to_builtins(call)
    return _ENCODE({k: v for k, v in plain.items() if k not in _CALL_KEYS}).decode()


def _nested(call: Any, attr: str) -> tuple[Any, Any, Any]:
    inner = getattr(call, attr)
    if inner is UNSET or inner is None:
        return None, None, None
    return (
        getattr(inner, "name", UNSET),
        getattr(inner, "arguments", UNSET),
        getattr(inner, "output", UNSET),
    )


def _unknown_named(call: UnknownObject) -> tuple[Any, Any, Any]:
    """An unknown tool's name, arguments and output: under its type's key, or beside it."""
    inner = call.get(call.get("type"))  # type: ignore[arg-type]
    source = inner if isinstance(inner, dict) else call
    return source.get("name", UNSET), source.get("arguments", UNSET), source.get("output", UNSET)


# Where each tool type keeps name, arguments and output (what it has of them).
_NAMED: dict[type, Any] = {
    FunctionToolCall: lambda c: _nested(c, "function"),
    AzureFunctionToolCall: lambda c: _nested(c, "azure_function"),
    OpenAPIToolCall: lambda c: _nested(c, "function"),
    ConnectedAgentToolCall: lambda c: _nested(c, "connected_agent"),
    MCPToolCall: lambda c: (c.name, c.arguments, c.output),
    DeepResearchToolCall: lambda c: (UNSET, UNSET, c.deep_research.output),
    BrowserAutomationToolCall: lambda c: (UNSET, UNSET, c.browser_automation.output),
}


def _usage_columns(usage: Any) -> tuple[Any, Any, Any, Any, Any]:
    if usage is UNSET or usage is None:
        return None, None, None, None, None
    cached = None
    # Both spellings the live API uses; the one with a value wins.
    for details in (usage.prompt_token_details, usage.prompt_tokens_details):
        if details is not UNSET and details is not None and cached is None:
            cached = _present(details.cached_tokens)
    reasoning = None
    details = usage.completion_tokens_details
    if details is not UNSET and details is not None:
        reasoning = _present(details.reasoning_tokens)
    return usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, cached, reasoning


def _has_extra(obj: Any) -> bool:
    """Whether ``obj`` or an object inside it holds fields stepwire does not model."""
    if isinstance(obj, msgspec.Struct):
        if getattr(obj, "extra", UNSET) is not UNSET:
            return True
        return any(_has_extra(getattr(obj, f)) for f in obj.__struct_fields__)
    return False


def _extra_of(step: RunStep) -> str | None:
    """The step's unmodelled fields as a JSON object; ``usage`` and ``last_error`` whole
    when they hold some (their own columns cannot carry them)."""
    extra: dict[str, Any] = dict(step.extra) if step.extra is not UNSET else {}
    for name in ("usage", "last_error"):
        value = getattr(step, name)
        if _has_extra(value):
            extra[name] = to_builtins(value)
    return _ENCODE(extra).decode() if extra else None


def _metadata(value: Any) -> list[tuple[str, str | None]] | None:
    if value is UNSET or value is None:
        return None
    return [(k, _text(v)) for k, v in value.items()]


class Columns:
    """The two tables' columns, as Python lists, grown one step at a time."""

    __slots__ = ("calls", "rows", "steps")

    def __init__(self) -> None:
        self.steps: dict[str, list[Any]] = {name: [] for name in STEP_COLUMNS}
        self.calls: dict[str, list[Any]] = {name: [] for name in CALL_COLUMNS}
        self.rows = 0

    def add(self, step: RunStep) -> None:
        """Append one step's row, and a row for each of its tool calls."""
        s = self.steps
        s["id"].append(step.id)
        s["object"].append(step.object)
        s["thread_id"].append(step.thread_id)
        s["run_id"].append(step.run_id)
        s["assistant_id"].append(step.assistant_id)
        s["type"].append(step.type)
        s["status"].append(step.status)
        for name in TIMESTAMPS:
            s[name].append(_present(getattr(step, name)))
        error = step.last_error
        if error is UNSET or error is None:
            s["last_error_code"].append(None)
            s["last_error_message"].append(None)
        else:
            s["last_error_code"].append(error.code)
            s["last_error_message"].append(error.message)
        prompt, completion, total, cached, reasoning = _usage_columns(step.usage)
        s["prompt_tokens"].append(prompt)
        s["completion_tokens"].append(completion)
        s["total_tokens"].append(total)
        s["cached_tokens"].append(cached)
        s["reasoning_tokens"].append(reasoning)
        s["metadata"].append(_metadata(step.metadata))
        details = step.step_details
        s["step_details"].append(encode(details).decode())
        s["extra"].append(_extra_of(step))
        self.rows += 1
        if type(details) is ToolCallsStepDetails:
            self._add_calls(step, details.tool_calls)
        elif isinstance(details, UnknownObject) and isinstance(details.get("tool_calls"), list):
            # An unknown step type that still lists tool calls: they are calls all the same.
            self._add_calls(step, details["tool_calls"])

    def _add_calls(self, step: RunStep, calls: list[Any]) -> None:
        c = self.calls
        for position, call in enumerate(calls):
            if isinstance(call, UnknownObject):
                named = _unknown_named(call)
                call_id, call_type = call.get("id"), call.get("type")
            elif isinstance(call, dict):  # not an object the decode typed
                named = (UNSET, UNSET, UNSET)
                call_id, call_type = call.get("id"), call.get("type")
            else:
                get = _NAMED.get(type(call))
                named = get(call) if get is not None else (UNSET, UNSET, UNSET)
                call_id, call_type = call.id, call.type
            c["step_id"].append(step.id)
            c["run_id"].append(step.run_id)
            c["thread_id"].append(step.thread_id)
            c["created_at"].append(step.created_at)
            c["position"].append(position)
            c["id"].append(_text(call_id))
            c["type"].append(_text(call_type))
            c["name"].append(_text(named[0]))
            c["arguments"].append(_text(named[1]))
            c["output"].append(_text(named[2]))
            c["payload"].append(
                _payload_of(call)
                if isinstance(call, (dict, msgspec.Struct))
                else _ENCODE(call).decode()
            )

    def clear(self) -> None:
        """Empty every column (the lists are reused)."""
        for column in (*self.steps.values(), *self.calls.values()):
            column.clear()
        self.rows = 0
