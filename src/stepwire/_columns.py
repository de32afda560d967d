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

import array
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

__all__ = ["CALL_COLUMNS", "STEP_COLUMNS", "TEXT_COLUMNS", "TIMESTAMPS", "Columns", "Text"]

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


def _metadata(value: dict[str, str]) -> list[tuple[str, str]]:
    # Even the default mode decodes metadata as strings only: a map<string, string>.
    return list(value.items())


# The JSON text columns that are never null: their values are kept end to end in one
# buffer, with 32-bit offsets, as Arrow lays out a string column (`Text`).
TEXT_COLUMNS = ("step_details", "payload")
_STEP_LISTS = tuple(name for name in STEP_COLUMNS if name not in TEXT_COLUMNS)
_CALL_LISTS = tuple(name for name in CALL_COLUMNS if name not in TEXT_COLUMNS)


class Text:
    """A string column being built: the values' UTF-8 end to end, and where each ends."""

    __slots__ = ("data", "ends")

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array.array("i", [0])

    def __len__(self) -> int:
        return len(self.ends) - 1

    def values(self) -> list[bytes]:
        """Each value, as bytes."""
        data, ends = self.data, self.ends
        return [bytes(data[ends[i] : ends[i + 1]]) for i in range(len(ends) - 1)]


class Columns:
    """The two tables' columns, grown one step at a time.

    Every column is a Python list, but ``step_details`` and ``payload``, which
    are ``Text``: the JSON of each value appended to one buffer, the bytes of
    the input itself where there is one (``msgspec.Raw`` slices), so that the
    Arrow array is made from the buffer without a copy per value. Other JSON
    values (``extra``, a non-string name, argument or output, metadata) are
    UTF-8 ``bytes``; the other text values are ``str``.
    """

    __slots__ = ("_call_appends", "_lists", "_step_appends", "_texts")

    def __init__(self) -> None:
        self._lists: dict[str, list[Any]] = {}
        self._texts: dict[str, Text] = {}
        self._step_appends: tuple[Any, ...] = ()
        self._call_appends: tuple[Any, ...] = ()
        self.clear()

    @property
    def rows(self) -> int:
        """The steps added since the last ``clear``."""
        return len(self._lists["id"])

    @property
    def text_bytes(self) -> int:
        """The most bytes of either JSON text column: each must stay under 2 GiB."""
        return max(len(text.data) for text in self._texts.values())

    def text(self, name: str) -> Text:
        """The ``Text`` of ``step_details`` or ``payload``."""
        return self._texts[name]

    def column(self, name: str) -> list[Any]:
        """Any other column, as the list it is being built in."""
        return self._lists[name]

    @property
    def steps(self) -> dict[str, list[Any]]:
        """The ``steps`` table's columns (``STEP_COLUMNS``), JSON text as bytes."""
        return {name: self._values(name) for name in STEP_COLUMNS}

    @property
    def calls(self) -> dict[str, list[Any]]:
        """The ``tool_calls`` table's columns (``CALL_COLUMNS``), JSON text as bytes."""
        return {
            name: self._values(name if name in TEXT_COLUMNS else f"call.{name}")
            for name in CALL_COLUMNS
        }

    def _values(self, name: str) -> list[Any]:
        text = self._texts.get(name)
        return text.values() if text is not None else list(self._lists[name])

    def clear(self) -> None:
        """Start again from empty columns (a batch handed out keeps the old ones)."""
        self._lists = {name: [] for name in _STEP_LISTS}
        self._lists.update({f"call.{name}": [] for name in _CALL_LISTS})
        self._texts = {name: Text() for name in TEXT_COLUMNS}
        self._step_appends = tuple(self._lists[name].append for name in _STEP_LISTS)
        self._call_appends = tuple(self._lists[f"call.{name}"].append for name in _CALL_LISTS)

    def add(self, step: RunStep, body: Any = None) -> None:
        """Append one step's row, and a row for each of its tool calls.

        ``body`` is the JSON the step was decoded from, if there is one: its
        details and calls are then taken as they came (``msgspec.Raw``
        slices of it), not encoded again.
        """
        raw = None if body is None else _RAW_STEP.decode(body).step_details
        self.add_parts(step, step.step_details, raw)

    def add_parts(self, step: Any, details: Any, raw_details: Any) -> None:
        """``add``, from a step's header (a ``RunStep`` or ``RunStepSummary``), its
        decoded details and the JSON they came in (``None`` if none: encoded here)."""
        (
            a_id,
            a_object,
            a_thread,
            a_run,
            a_assistant,
            a_type,
            a_status,
            a_created,
            a_expires,
            a_cancelled,
            a_failed,
            a_completed,
            a_expired,
            a_code,
            a_message,
            a_prompt,
            a_completion,
            a_total,
            a_cached,
            a_reasoning,
            a_metadata,
            a_extra,
        ) = self._step_appends
        a_id(step.id)
        a_object(step.object)
        a_thread(step.thread_id)
        a_run(step.run_id)
        a_assistant(step.assistant_id)
        a_type(step.type)
        a_status(step.status)
        a_created(step.created_at)
        # UNSET (absent) and None (null) are both a null in a column.
        value = step.expires_at
        a_expires(None if value is UNSET else value)
        value = step.cancelled_at
        a_cancelled(None if value is UNSET else value)
        value = step.failed_at
        a_failed(None if value is UNSET else value)
        value = step.completed_at
        a_completed(None if value is UNSET else value)
        value = step.expired_at
        a_expired(None if value is UNSET else value)
        error = step.last_error
        if error is UNSET or error is None:
            a_code(None)
            a_message(None)
            plain = True
        else:
            a_code(error.code)
            a_message(error.message)
            plain = error.extra is UNSET
        usage = step.usage
        if usage is UNSET or usage is None:
            prompt = completion = total = cached = reasoning = None
        else:
            prompt, completion, total, cached, reasoning = _tokens(usage)
            plain = plain and not _usage_has_extra(usage)
        a_prompt(prompt)
        a_completion(completion)
        a_total(total)
        a_cached(cached)
        a_reasoning(reasoning)
        metadata = step.metadata
        a_metadata(None if metadata is UNSET or metadata is None else _metadata(metadata))
        a_extra(None if plain and step.extra is UNSET else _extra_of(step))
        from_body = raw_details is not None
        if not from_body:
            raw_details = encode(details)
        text = self._texts["step_details"]
        text.data += raw_details
        text.ends.append(len(text.data))
        if type(details) is ToolCallsStepDetails:
            calls = details.tool_calls
        elif isinstance(details, UnknownObject) and isinstance(details.get("tool_calls"), list):
            # An unknown step type that still lists tool calls: they are calls all the same.
            calls = details["tool_calls"]
        else:
            return
        if calls:
            raws = _RAW_DETAILS.decode(raw_details).tool_calls if from_body else None
            self._add_calls(step, calls, raws if raws and len(raws) == len(calls) else None)

    def _add_calls(self, step: RunStep, calls: list[Any], raws: list[Any] | None) -> None:
        (
            a_step,
            a_run,
            a_thread,
            a_created,
            a_position,
            a_id,
            a_type,
            a_name,
            a_arguments,
            a_output,
        ) = self._call_appends
        text = self._texts["payload"]
        data, ends = text.data, text.ends
        step_id, run_id, thread_id, created = step.id, step.run_id, step.thread_id, step.created_at
        for position, call in enumerate(calls):
            get = _NAMED.get(type(call))
            if get is not None:
                call_id, call_type = call.id, call.type
                name, arguments, output = get(call)
            elif isinstance(call, dict):  # an unknown type, or not an object of any
                call_id, call_type = _text(call.get("id")), _text(call.get("type"))
                name, arguments, output = _unknown_named(call)
            elif isinstance(call, msgspec.Struct):  # a known type without those fields
                call_id, call_type = getattr(call, "id", None), call_kind(call)
                name = arguments = output = None
            else:  # a JSON value that is not an object, kept as it came
                call_id = call_type = name = arguments = output = None
            a_step(step_id)
            a_run(run_id)
            a_thread(thread_id)
            a_created(created)
            a_position(position)
            a_id(call_id)
            a_type(call_type)
            a_name(name)
            a_arguments(arguments)
            a_output(output)
            data += raws[position] if raws is not None else encode(call)
            ends.append(len(data))


def call_kind(call: msgspec.Struct) -> Any:
    """A tagged Struct's tag: its tool type."""
    return call.__struct_config__.tag
