"""What the two tables hold: their columns, and the values a step gives them.

Pure Python, no pyarrow: ``stepwire.arrow`` turns the columns into arrays, and
``stepwire.spark`` runs the same code on Spark's workers. Every value comes
from the decoded step (the decode's own rules, modes and errors). The JSON
text columns are the input's own bytes where there is a body, else what
``encode`` writes, so nothing the model keeps is lost from the tables: a tool
call's whole object (known or unknown type) is in ``payload``, the step's
details in ``step_details``, the step's fields stepwire does not model in
``extra``. ``ColumnsBase`` is what the two ``Columns`` twins share
(``_columns``). docs/analytics.md documents the columns.
"""

from __future__ import annotations

import array
from typing import Any

import msgspec
from msgspec import UNSET

from ._encode import to_builtins
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

__all__ = [
    "CALL_COLUMNS",
    "CALL_LISTS",
    "NAMED",
    "RAW_DETAILS",
    "RAW_STEP",
    "STEP_COLUMNS",
    "STEP_LISTS",
    "TEXT_COLUMNS",
    "TIMESTAMPS",
    "ColumnsBase",
    "Pairs",
    "Text",
    "add_metadata",
    "call_kind",
    "calls_of",
    "extra_of",
    "text_of",
    "tokens",
    "unknown_named",
    "usage_has_extra",
]

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


class _RawStep(msgspec.Struct, gc=False):
    """A step body's ``step_details``, as the bytes it came in."""

    step_details: msgspec.Raw


class _RawDetails(msgspec.Struct, gc=False):
    """A step details body's ``tool_calls``, each call as the bytes it came in."""

    tool_calls: list[msgspec.Raw] = []


RAW_STEP = msgspec.json.Decoder(_RawStep)
RAW_DETAILS = msgspec.json.Decoder(_RawDetails)


def text_of(value: Any) -> Any:
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
        text_of(getattr(inner, "name", None)),
        text_of(getattr(inner, "arguments", None)),
        text_of(getattr(inner, "output", None)),
    )


def unknown_named(call: dict[str, Any]) -> tuple[Any, Any, Any]:
    """An unknown tool's name, arguments and output: under its type's key, or beside it."""
    kind = call.get("type")
    inner = call.get(kind) if isinstance(kind, str) else None
    source = inner if isinstance(inner, dict) else call
    return (
        text_of(source.get("name")),
        text_of(source.get("arguments")),
        text_of(source.get("output")),
    )


# Where each tool type keeps name, arguments and output (what it has of them).
NAMED: dict[type, Any] = {
    FunctionToolCall: lambda c: _nested(c.function),
    AzureFunctionToolCall: lambda c: _nested(c.azure_function),
    OpenAPIToolCall: lambda c: _nested(c.function),
    ConnectedAgentToolCall: lambda c: _nested(c.connected_agent),
    MCPToolCall: lambda c: (c.name, c.arguments, text_of(c.output)),
    DeepResearchToolCall: lambda c: (None, None, text_of(c.deep_research.output)),
    BrowserAutomationToolCall: lambda c: (None, None, c.browser_automation.output),
}


def tokens(usage: Any) -> tuple[Any, Any, Any, Any, Any]:
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


def usage_has_extra(usage: Any) -> bool:
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


def extra_of(step: RunStep) -> bytes | None:
    """The step's unmodelled fields as a JSON object, with ``usage`` and ``last_error``
    whole when they hold some (their own columns cannot carry them)."""
    extra: dict[str, Any] = dict(step.extra) if step.extra is not UNSET else {}
    usage = step.usage
    if usage is not UNSET and usage is not None and usage_has_extra(usage):
        extra["usage"] = to_builtins(usage)
    error = step.last_error
    if error is not UNSET and error is not None and error.extra is not UNSET:
        extra["last_error"] = to_builtins(error)
    return _ENCODE(extra) if extra else None


def add_metadata(pairs: Pairs, value: Any) -> None:
    """Append ``metadata`` (absent or null: a null map) to ``pairs``."""
    if value is UNSET or value is None:
        pairs.nulls.append(True)
    else:
        # Even the default mode decodes metadata as strings only: a map<string, string>.
        pairs.keys.extend(value)
        pairs.values.extend(value.values())
        pairs.nulls.append(False)
    pairs.ends.append(len(pairs.keys))


# The JSON text columns that are never null: their values are kept end to end in one
# buffer, with 32-bit offsets, as Arrow lays out a string column (`Text`).
TEXT_COLUMNS = ("step_details", "payload")
STEP_LISTS = tuple(name for name in STEP_COLUMNS if name not in (*TEXT_COLUMNS, "metadata"))
CALL_LISTS = tuple(name for name in CALL_COLUMNS if name not in TEXT_COLUMNS)


class Text:
    """A string column being built: each value's UTF-8 (bytes, or a ``msgspec.Raw``
    slice of the input), and where each ends once they are put end to end."""

    __slots__ = ("ends", "parts")

    def __init__(self) -> None:
        self.parts: list[Any] = []
        self.ends = array.array("i", [0])

    def __len__(self) -> int:
        return len(self.ends) - 1

    @property
    def size(self) -> int:
        """The values' bytes, end to end (the compiled twin appends to ``parts`` and
        ``ends`` itself: the size is where the last value ends)."""
        return self.ends[-1]

    def append(self, value: Any) -> None:
        self.parts.append(value)
        self.ends.append(self.ends[-1] + len(value))

    def joined(self) -> bytes:
        """The values end to end: one copy, when the column is done (appending to one
        buffer as they come copies it again at every growth)."""
        return b"".join(self.parts)

    def values(self) -> list[bytes]:
        """Each value, as bytes."""
        return [bytes(part) for part in self.parts]


def calls_of(details: Any) -> list[Any] | None:
    """The tool calls a step's details list, if they list any."""
    if type(details) is ToolCallsStepDetails:
        calls: list[Any] = details.tool_calls
        return calls
    if isinstance(details, UnknownObject) and isinstance(details.get("tool_calls"), list):
        # An unknown step type that still lists tool calls: they are calls all the same.
        listed: list[Any] = details["tool_calls"]
        return listed
    return None


def call_kind(call: msgspec.Struct) -> Any:
    """A tagged Struct's tag: its tool type."""
    return call.__struct_config__.tag


class Pairs:
    """A map column being built: every key and value end to end, where each map ends,
    and which are null (as Arrow lays out a map). Only strings: nothing here is a
    container the garbage collector would have to walk, batch after batch."""

    __slots__ = ("ends", "keys", "nulls", "values")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.values: list[str] = []
        self.ends: list[int] = [0]
        self.nulls: list[bool] = []

    def __len__(self) -> int:
        return len(self.nulls)

    def maps(self) -> list[list[tuple[str, str]] | None]:
        """Each map as its (key, value) pairs; ``None`` for a null."""
        ends, pairs = self.ends, list(zip(self.keys, self.values, strict=True))
        return [None if null else pairs[ends[i] : ends[i + 1]] for i, null in enumerate(self.nulls)]


class ColumnsBase:
    """The two tables' columns, grown one step at a time: what both twins share.

    A twin's ``Columns`` adds the loop: ``add_parts``.

    Every column is a Python list, but ``step_details`` and ``payload``, which
    are ``Text``: the JSON of each value appended to one buffer, the bytes of
    the input itself where there is one (``msgspec.Raw`` slices), so that the
    Arrow array is made from the buffer without a copy per value. Other JSON
    values (``extra``, a non-string name, argument or output) are
    UTF-8 ``bytes``; the other text values are ``str``.
    """

    __slots__ = ("_call_lists", "_lists", "_metadata", "_step_lists", "_texts", "with_calls")

    def __init__(self, *, calls: bool = True) -> None:
        #: Whether tool calls get rows (``False``: the ``steps`` table alone is wanted).
        self.with_calls = calls
        self._lists: dict[str, list[Any]] = {}
        self._texts: dict[str, Text] = {}
        self._metadata = Pairs()
        self._step_lists: tuple[list[Any], ...] = ()
        self._call_lists: tuple[list[Any], ...] = ()
        self.clear()

    @property
    def rows(self) -> int:
        """The steps added since the last ``clear``."""
        return len(self._lists["id"])

    @property
    def text_bytes(self) -> int:
        """The most bytes of either JSON text column: each must stay under 2 GiB."""
        texts = self._texts
        return max(texts["step_details"].size, texts["payload"].size)

    def text(self, name: str) -> Text:
        """The ``Text`` of ``step_details`` or ``payload``."""
        return self._texts[name]

    @property
    def metadata(self) -> Pairs:
        """The ``metadata`` column."""
        return self._metadata

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
        if name == "metadata":
            return self._metadata.maps()
        text = self._texts.get(name)
        return text.values() if text is not None else list(self._lists[name])

    def clear(self) -> None:
        """Start again from empty columns (a batch handed out keeps the old ones)."""
        self._lists = {name: [] for name in STEP_LISTS}
        self._lists.update({f"call.{name}": [] for name in CALL_LISTS})
        self._texts = {name: Text() for name in TEXT_COLUMNS}
        self._metadata = Pairs()
        # In STEP_LISTS and CALL_LISTS order: the order the twins fill them in.
        self._step_lists = tuple(self._lists[name] for name in STEP_LISTS)
        self._call_lists = tuple(self._lists[f"call.{name}"] for name in CALL_LISTS)

    def add(self, step: RunStep, body: Any = None) -> None:
        """Append one step's row, and a row for each of its tool calls.

        ``body`` is the JSON the step was decoded from, if there is one: its
        details and calls are then taken as they came (``msgspec.Raw``
        slices of it), not encoded again.
        """
        raw = None if body is None else RAW_STEP.decode(body).step_details
        self.add_parts(step, step.step_details, raw)

    def add_parts(self, step: Any, details: Any, raw_details: Any) -> int:
        """``add``, from a step's header (a ``RunStep`` or ``RunStepSummary``), its
        decoded details and the JSON they came in (``None`` if none: encoded here).

        Returns ``text_bytes`` after the step (what a caller cutting batches checks
        once a step, without a property lookup)."""
        raise NotImplementedError
