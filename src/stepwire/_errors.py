"""stepwire's exceptions."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DecodeError", "StreamError"]

_PATH = re.compile(r"`(\$[^`]*)`$")


class DecodeError(ValueError):
    """A body that is not valid JSON, or not a valid run-step object.

    The message carries the JSON path of the offending value
    (``$.data[3].step_details.tool_calls[0].function.name``), prefixed by
    ``line N:`` for NDJSON input.

    Attributes
    ----------
    path : str or None
        The JSON path of the offending value: for a syntax error (malformed,
        truncated or empty input, invalid UTF-8, a raw control character,
        nesting too deep), the value being read where it went wrong. Very
        deep paths are abbreviated (``$.x[0]{64}``: ``[0]`` 64 times; see
        docs/limits.md). ``None`` only for messages that carry no path.
    line : int or None
        The 1-based line number, for NDJSON input.
    """

    path: str | None
    line: int | None

    def __init__(self, message: str, *, line: int | None = None) -> None:
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message)
        match = _PATH.search(message)
        self.path = match.group(1) if match else None
        self.line = line


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
