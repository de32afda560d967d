"""stepwire's exceptions: one tree, every field set once where the error is made.

::

    ValueError
     └── StepwireError        anything stepwire refuses
          ├── DecodeError     a body that is not a valid run-step object
          ├── StreamError     an event stream stepwire cannot frame or apply
          ├── ResponseError   an HTTP response whose status says it failed
          └── ConversionError an object another library's types cannot hold

The message is built from the fields, never the other way round: read the
fields (``path``, ``offset``, ``line``, ``event``), not the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._accumulate import StreamEvent

__all__ = ["ConversionError", "DecodeError", "ResponseError", "StepwireError", "StreamError"]


class StepwireError(ValueError):
    """The base of every error stepwire raises for input it refuses.

    Attributes
    ----------
    reason : str
        What is wrong, without where: ``Expected `str`, got `int```.
    path : str or None
        The JSON path of the offending value, where there is one
        (``$.data[3].id``).
    offset : int or None
        The byte offset of the offending byte or value in its document.
    """

    reason: str
    path: str | None
    offset: int | None

    def __init__(self, reason: str, *, path: str | None = None, offset: int | None = None) -> None:
        self.reason = reason
        self.path = path
        self.offset = offset
        super().__init__(self._message())

    def _message(self) -> str:
        message = self.reason
        if self.offset is not None:
            message = f"{message} (byte {self.offset})"
        if self.path is not None:
            message = f"{message} - at `{self.path}`"
        return message

    def __reduce__(self) -> Any:
        # Rebuilt from its fields (pickling, multiprocessing), not from the message.
        return _rebuild, (type(self), self.reason, self._fields())

    def _fields(self) -> dict[str, Any]:
        return {"path": self.path, "offset": self.offset}


def _rebuild(cls: type[StepwireError], reason: str, fields: dict[str, Any]) -> StepwireError:
    return cls(reason, **fields)


class DecodeError(StepwireError):
    """A body that is not valid JSON, or not a valid run-step object.

    The message says what is wrong, at which byte and at which JSON path
    (``Expected `str`, got `int` (byte 812) - at `$.data[3].id```), prefixed
    by ``line N:`` for NDJSON input.

    Attributes
    ----------
    reason : str
        What is wrong, without where: ``Expected `str`, got `int```.
    path : str or None
        The JSON path of the offending value: for a value of the wrong type or
        out of bounds, that value; for a missing or unknown field, its object;
        for bytes that are not JSON (malformed, truncated or empty input,
        invalid UTF-8, a raw control character, a broken escape, a number out
        of range, nesting too deep), the value being read where they go
        wrong. Very deep paths are abbreviated (``$.x[0]{64}``: ``[0]`` 64
        times; see docs/limits.md). ``None`` only for errors about no value
        (a line over ``max_line_bytes``).
    offset : int or None
        The byte offset, from the start of the document (of the line, for
        NDJSON), of the offending byte or of the first byte of the offending
        value. For ``str`` input, an offset into its UTF-8 encoding. ``None``
        for empty input and where there is no path.
    line : int or None
        The 1-based line number, for NDJSON input.
    """

    line: int | None

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        offset: int | None = None,
        line: int | None = None,
    ) -> None:
        self.line = line
        super().__init__(reason, path=path, offset=offset)

    def _message(self) -> str:
        message = super()._message()
        return message if self.line is None else f"line {self.line}: {message}"

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "line": self.line}


class StreamError(StepwireError):
    """A malformed event stream, or an event stepwire cannot apply.

    The accumulator stays usable: the offending event is skipped, the bytes
    after it stay buffered, and the next ``feed()`` (``feed(b"")`` will do)
    goes on from there.

    Attributes
    ----------
    reason : str
        What is wrong with the event.
    event : str or None
        The name of the offending event (``thread.run.step.delta``, ...).
    events : list of StreamEvent
        The events the same ``feed()`` call completed before the offending
        one, in order: they are already applied, and would otherwise be lost
        with the call's return value.
    path : str or None
        For an event whose data is not a valid object, the JSON path in it
        of what is wrong (the ``DecodeError``, its ``__cause__``, has the rest).
    offset : int or None
        For the same, the byte offset in the event's data.
    """

    event: str | None
    events: list[StreamEvent]

    def __init__(
        self,
        reason: str,
        *,
        event: str | None = None,
        events: Sequence[StreamEvent] = (),
        path: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.event = event
        self.events = list(events)
        super().__init__(reason, path=path, offset=offset)

    def _message(self) -> str:
        message = super()._message()
        return message if self.event is None else f"event {self.event!r}: {message}"

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "event": self.event, "events": self.events}


class ResponseError(StepwireError):
    """An HTTP response with an error status, in place of the body asked for.

    Raised before any event or page is read from it: the body is the
    server's error (``{"error": {...}}``), decoded into ``error`` where it
    is one.

    Attributes
    ----------
    reason : str
        ``HTTP 429`` and, where the body says one, the server's message.
    status : int
        The response's status code.
    error : ApiError or None
        The body's ``error`` object; ``None`` when the body is not one.
    body : bytes
        The body as sent (at most the first 64 KiB).
    """

    status: int
    error: Any
    body: bytes

    def __init__(self, reason: str, *, status: int, error: Any = None, body: bytes = b"") -> None:
        self.status = status
        self.error = error
        self.body = body
        super().__init__(reason)

    def _fields(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error, "body": self.body}


class ConversionError(StepwireError):
    """An object the other library has no type for (``stepwire.to_openai``).

    Attributes
    ----------
    reason : str
        What has no counterpart: ``openai-python has no type for tool call
        type 'bing_grounding'``.
    path : str or None
        The JSON path of that object (``$.step_details.tool_calls[1]``).
    kind : str or None
        Its ``type`` tag, where it has one.
    """

    kind: str | None

    def __init__(self, reason: str, *, path: str | None = None, kind: str | None = None) -> None:
        self.kind = kind
        super().__init__(reason, path=path)

    def _fields(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind}
