"""Run steps as columns: the rows of the ``steps`` and ``tool_calls`` tables.

Pure Python, no pyarrow: ``stepwire.arrow`` turns these lists into arrays, and
``stepwire.spark`` runs the same code on Spark's workers. Every value comes
from the decoded ``RunStep`` (the decode's own rules, modes and errors), and
every JSON text column is written by ``encode``, so nothing the model keeps is
lost from the tables: a tool call's whole object (known or unknown type) is in
``payload``, the step's details in ``step_details``, the step's fields stepwire
does not model in ``extra``. docs/analytics.md documents the columns.
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
_NONE3 = (None, None, None)


class _RawStep(msgspec.Struct):
    """A step body's ``step_details``, as the bytes it came in."""

    step_details: msgspec.Raw


class _RawDetails(msgspec.Struct):
    """A step details body's ``tool_calls``, each call as the bytes it came in."""

    tool_calls: list[msgspec.Raw] = []


_RAW_STEP = msgspec.json.Decoder(_RawStep)
_RAW_DETAILS = msgspec.json.Decoder(_RawDetails)


def _text(value: Any) -> Any:
    """A string field as it is; any other JSON value (kept by the default mode) as JSON."""
    if value is UNSET or value is None:
        return None
    if type(value) is str:
        return value
    return _ENCODE(to_builtins(value))


def _nested(inner: Any) -> tuple[Any, Any, Any]:
    if inner is UNSET or inner is None:
        return _NONE3
    return (
        _text(getattr(inner, "name", None)),
        _text(getattr(inner, "arguments", None)),
        _text(getattr(inner, "output", None)),
    )


def _unknown_named(call: dict[str, Any]) -> tuple[Any, Any, Any]:
    """An unknown tool's name, arguments and output: under its type's key, or beside it."""
    kind = call.get("type")
    inner = call.get(kind) if isinstance(kind, str) else None
    source = inner if isinstance(inner, dict) else call
    return _text(source.get("name")), _text(source.get("arguments")), _text(source.get("output"))


# Where each tool type keeps name, arguments and output (what it has of them).
_NAMED: dict[type, Any] = {
    FunctionToolCall: lambda c: _nested(c.function),
    AzureFunctionToolCall: lambda c: _nested(c.azure_function),
    OpenAPIToolCall: lambda c: _nested(c.function),
    ConnectedAgentToolCall: lambda c: _nested(c.connected_agent),
    MCPToolCall: lambda c: (c.name, c.arguments, _text(c.output)),
    DeepResearchToolCall: lambda c: (None, None, _text(c.deep_research.output)),
    BrowserAutomationToolCall: lambda c: (None, None, c.browser_automation.output),
}


_NO_TOKENS = (None, None, None, None, None)
# A timestamp's column value: `_NULL.get(value, value)` is None for UNSET, else value.
_NULL: dict[Any, None] = {UNSET: None}


def _tokens(usage: Any) -> tuple[Any, Any, Any, Any, Any]:
    cached = None
    # Both spellings the live API uses; the first with a value wins.
    for details in (usage.prompt_token_details, usage.prompt_tokens_details):
        if cached is None and details is not UNSET and details is not None:
            cached = details.cached_tokens
            cached = None if cached is UNSET else cached
    reasoning = None
    details = usage.completion_tokens_details
    if details is not UNSET and details is not None:
        reasoning = details.reasoning_tokens
        reasoning = None if reasoning is UNSET else reasoning
    return usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, cached, reasoning


def _usage_has_extra(usage: Any) -> bool:
    if usage.extra is not UNSET:
        return True
    for details in (
        usage.prompt_token_details,
        usage.prompt_tokens_details,
        usage.completion_tokens_details,
    ):
        if details is not UNSET and details is not None and details.extra is not UNSET:
            return True
    return False


def _extra_of(step: RunStep) -> bytes | None:
    """The step's unmodelled fields as a JSON object, with ``usage`` and ``last_error``
    whole when they hold some (their own columns cannot carry them)."""
    extra: dict[str, Any] = dict(step.extra) if step.extra is not UNSET else {}
    usage = step.usage
    if usage is not UNSET and usage is not None and _usage_has_extra(usage):
        extra["usage"] = to_builtins(usage)
    error = step.last_error
    if error is not UNSET and error is not None and error.extra is not UNSET:
        extra["last_error"] = to_builtins(error)
    return _ENCODE(extra) if extra else None


def _metadata(value: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(k, _text(v)) for k, v in value.items()]


class Columns:
    """The two tables' rows, grown one step at a time, handed out as columns.

    Rows are tuples (one per step, one per call), turned into columns by one
    transpose at the end of a batch. JSON text values are UTF-8 ``bytes``,
    as ``encode`` writes them; the other text values are ``str``.
    """

    __slots__ = ("_calls", "_steps", "text_bytes")

    def __init__(self) -> None:
        self._steps: list[tuple[Any, ...]] = []
        self._calls: list[tuple[Any, ...]] = []
        #: The bytes of ``step_details`` text added since the last ``clear``.
        self.text_bytes = 0

    @property
    def rows(self) -> int:
        """The steps added since the last ``clear``."""
        return len(self._steps)

    @property
    def steps(self) -> dict[str, list[Any]]:
        """The ``steps`` table's columns (``STEP_COLUMNS``)."""
        return _transpose(self._steps, STEP_COLUMNS)

    @property
    def calls(self) -> dict[str, list[Any]]:
        """The ``tool_calls`` table's columns (``CALL_COLUMNS``)."""
        return _transpose(self._calls, CALL_COLUMNS)

    def add(self, step: RunStep, body: Any = None) -> None:
        """Append one step's row, and a row for each of its tool calls.

        ``body`` is the JSON the step was decoded from, if there is one: its
        details and calls are then taken as they came (``msgspec.Raw``
        slices of it), not encoded again.
        """
        error = step.last_error
        if error is UNSET or error is None:
            code = message = None
            plain = True
        else:
            code, message = error.code, error.message
            plain = error.extra is UNSET
        usage = step.usage
        if usage is UNSET or usage is None:
            tokens: tuple[Any, ...] = _NO_TOKENS
        else:
            tokens = _tokens(usage)
            plain = plain and not _usage_has_extra(usage)
        metadata = step.metadata
        details = step.step_details
        raw_details = encode(details) if body is None else _RAW_STEP.decode(body).step_details
        self.text_bytes += len(raw_details)
        # UNSET (absent) and None (null) are both a null in a column.
        self._steps.append(
            (
                step.id,
                step.object,
                step.thread_id,
                step.run_id,
                step.assistant_id,
                step.type,
                step.status,
                step.created_at,
                _NULL.get(step.expires_at, step.expires_at),
                _NULL.get(step.cancelled_at, step.cancelled_at),
                _NULL.get(step.failed_at, step.failed_at),
                _NULL.get(step.completed_at, step.completed_at),
                _NULL.get(step.expired_at, step.expired_at),
                code,
                message,
                *tokens,
                None if metadata is UNSET or metadata is None else _metadata(metadata),
                raw_details,
                None if plain and step.extra is UNSET else _extra_of(step),
            )
        )
        if type(details) is ToolCallsStepDetails:
            calls = details.tool_calls
        elif isinstance(details, UnknownObject) and isinstance(details.get("tool_calls"), list):
            # An unknown step type that still lists tool calls: they are calls all the same.
            calls = details["tool_calls"]
        else:
            return
        if calls:
            raws = _RAW_DETAILS.decode(raw_details).tool_calls if body is not None else None
            self._add_calls(step, calls, raws if raws and len(raws) == len(calls) else None)

    def _add_calls(self, step: RunStep, calls: list[Any], raws: list[Any] | None) -> None:
        head = (step.id, step.run_id, step.thread_id, step.created_at)
        append = self._calls.append
        for position, call in enumerate(calls):
            payload = raws[position] if raws is not None else encode(call)
            get = _NAMED.get(type(call))
            if get is not None:
                append((*head, position, call.id, call.type, *get(call), payload))
            elif isinstance(call, dict):  # an unknown type, or not an object of any
                named = _unknown_named(call)
                call_id, call_type = _text(call.get("id")), _text(call.get("type"))
                append((*head, position, call_id, call_type, *named, payload))
            elif isinstance(call, msgspec.Struct):  # a known type without those fields
                append(
                    (*head, position, getattr(call, "id", None), call_kind(call), *_NONE3, payload)
                )
            else:  # a JSON value that is not an object, kept as it came
                append((*head, position, None, None, *_NONE3, payload))

    def clear(self) -> None:
        """Drop every row."""
        self._steps.clear()
        self._calls.clear()
        self.text_bytes = 0


def call_kind(call: msgspec.Struct) -> Any:
    """A tagged Struct's tag: its tool type."""
    return call.__struct_config__.tag


def _transpose(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> dict[str, list[Any]]:
    if not rows:
        return {name: [] for name in names}
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
