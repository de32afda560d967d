"""stepwire's exceptions."""

from __future__ import annotations

from typing import Any

__all__ = ["DecodeError", "StreamError"]


class DecodeError(ValueError):
    """A body that is not valid JSON, or not a valid run-step object.

    The message says what is wrong, at which byte and at which JSON path
    (``Expected `str`, got `int` (byte 812) - at `$.data[3].id```), prefixed
    by ``line N:`` for NDJSON input. The same facts are attributes, set where
    the error is made: read them rather than the message.

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

    reason: str
    path: str | None
    offset: int | None
    line: int | None

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        offset: int | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = message
        if offset is not None:
            message = f"{message} (byte {offset})"
        if path is not None:
            message = f"{message} - at `{path}`"
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message)
        self.path = path
        self.offset = offset
        self.line = line

    def __reduce__(self) -> Any:
        # Rebuilt from its parts (pickling, multiprocessing), not from the message.
        return _rebuild_decode_error, (self.reason, self.path, self.offset, self.line)


def _rebuild_decode_error(
    reason: str, path: str | None, offset: int | None, line: int | None
) -> DecodeError:
    return DecodeError(reason, path=path, offset=offset, line=line)


class StreamError(ValueError):
    """A malformed event stream, or an event stepwire cannot apply.

    The accumulator stays usable: the offending event is skipped, the bytes
    after it stay buffered, and the next ``feed()`` (``feed(b"")`` will do)
    goes on from there.

    Attributes
    ----------
    event : str or None
        The name of the offending event (``thread.run.step.delta``, ...).
    events : list
        The events the same ``feed()`` call completed before the offending
        one, in order: they are already applied, and would otherwise be lost
        with the call's return value.
    """

    event: str | None
    events: list[Any]

    def __init__(self, message: str, *, event: str | None = None) -> None:
        if event is not None:
            message = f"event {event!r}: {message}"
        super().__init__(message)
        self.event = event
        self.events = []
