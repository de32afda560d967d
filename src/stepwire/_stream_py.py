"""Framing an event stream: the pure-Python twin of ``_stream_c``.

Framing follows the event-stream rules of the HTML standard ("Parsing an
event stream") with one deliberate difference, at the end of input (see
``Accumulator.close``). Every complete event goes to the shared dispatch
(``_dispatch``, whose docstring is the contract between the twins); this twin
has no fast path. The public classes, with their docstrings, are
``_accumulate``'s subclasses of these.

Framing is linear in the bytes fed, however they are chunked: a chunk is
searched for line ends once, and the pieces of a line that is not finished
yet are joined once, when it is.
"""

from __future__ import annotations

import threading
from typing import Any, Union

from ._dispatch import (
    BOM,
    MAX_RETRY_DIGITS,
    Dispatcher,
    EventData,
    EventType,
    concurrent_call,
)
from ._errors import StreamError
from ._views import PendingDeltas, StepSnapshots

__all__ = ["IMPLEMENTATION", "Event", "Framer"]

IMPLEMENTATION = "python"

#: A line to frame: its bytes, or, for a long data line, its value already joined.
Line = Union[bytes, tuple[bytes]]


class Event:
    """Storage of ``StreamEvent``: read-only fields."""

    __slots__ = ("_data", "_event", "_id", "_raw")

    def __init__(self, event: str, data: EventData, id: str | None, raw: bytes) -> None:
        self._event = event
        self._data = data
        self._id = id
        self._raw = raw

    @property
    def event(self) -> str:
        return self._event

    @property
    def data(self) -> EventData:
        return self._data

    @property
    def id(self) -> str | None:
        return self._id

    @property
    def raw(self) -> bytes:
        return self._raw


class Framer:
    """Framing state of ``Accumulator``; every complete event goes to the dispatch."""

    __slots__ = (
        "__weakref__",
        "_backlog",
        "_bom",
        "_busy",
        "_data",
        "_dispatch",
        "_event",
        "_head",
        "_last_event_id",
        "_limit",
        "_make_event",
        "_pieces",
        "_plen",
        "_retry",
        "_size",
        "_skip_lf",
        "_skipping",
    )

    def _start(self, event_type: EventType, max_steps: int, max_event_bytes: int) -> None:
        self._dispatch = Dispatcher(event_type, max_steps, max_event_bytes)
        self._make_event = event_type
        self._limit = self._dispatch.limit
        self._pieces: list[bytes] = []  # the line not ended yet, as fed
        self._plen = 0  # its length
        self._head = b""  # its first 6 bytes: enough to know a "data:" line
        # Whole lines left by an error, framed next (a tuple: a data line's value).
        self._backlog: list[Line] = []
        self._skip_lf = False
        self._bom = True
        self._event = b""
        self._data: list[bytes] = []
        self._size = -1  # len(b"\n".join(self._data)) is self._size
        self._skipping = False  # discarding an oversized event, up to its blank line
        self._busy = threading.Lock()
        self._last_event_id: str | None = None
        self._retry: int | None = None

    @property
    def steps(self) -> StepSnapshots:
        return self._dispatch.steps

    @property
    def pending(self) -> PendingDeltas:
        return self._dispatch.pending

    @property
    def done(self) -> bool:
        return self._dispatch.done

    @property
    def last_event_id(self) -> str | None:
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        return self._retry

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Any]:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"feed() takes a bytes-like object, not {type(chunk).__name__}")
        if not self._busy.acquire(blocking=False):
            raise concurrent_call("feed")
        try:
            return self._feed(bytes(chunk))
        finally:
            self._busy.release()

    def close(self) -> list[Any]:
        if not self._busy.acquire(blocking=False):
            raise concurrent_call("close")
        try:
            rest = b"".join(self._pieces)
            self._pieces = []
            self._plen = 0
            self._head = b""
            self._bom = False
            self._skip_lf = False
            lines = (rest + b"\n").splitlines(keepends=True) if rest else []
            return self._lines([*lines, b"\n"])
        finally:
            self._busy.release()

    def _feed(self, chunk: bytes) -> list[Any]:
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:  # the LF of a CRLF split across chunks
                chunk = chunk[1:]
        if self._bom:
            chunk = b"".join(self._pieces) + chunk  # at most two bytes were kept
            self._pieces = []
            self._plen = 0
            if len(chunk) < 3 and BOM.startswith(chunk):
                self._pieces = [chunk]
                self._plen = len(chunk)
                return []
            self._bom = False
            if chunk.startswith(BOM):
                chunk = chunk[3:]
        first: list[Line] = []
        if self._pieces and self._head.startswith(b"data:") and not self._backlog:
            end = _line_end(chunk)
            if end >= 0 and len(self._pieces[0]) >= 6:
                # A long data line ends here: its value is joined once, straight
                # from the pieces, as the event's data (no copy of the line).
                off = 6 if self._head[5] == 0x20 else 5
                head, *more = self._pieces
                first = [(b"".join([head[off:], *more, chunk[:end]]),)]
                step = 2 if chunk[end : end + 2] == b"\r\n" else 1
                if chunk[end] == 0x0D and end + 1 == len(chunk):
                    self._skip_lf = True  # a CRLF may be split across chunks
                chunk = chunk[end + step :]
                self._pieces = []
                self._plen = 0
                self._head = b""
        cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if cut:
            # The line pieces are joined once, now that the line has ended.
            whole = b"".join([*self._pieces, chunk[:cut]]) if self._pieces else chunk[:cut]
            lines: list[Line] = [*first, *whole.splitlines(keepends=True)]  # LF, CRLF, CR
            tail = chunk[cut:]
            self._pieces = [tail] if tail else []
            self._plen = len(tail)
            self._head = tail[:6]
            self._skip_lf = not tail and whole.endswith(b"\r")
        else:
            lines = first
            if chunk:
                self._pieces.append(chunk)
                self._plen += len(chunk)
                if len(self._head) < 6:
                    self._head = (self._head + chunk)[:6]
        if self._backlog:
            lines = [*self._backlog, *lines]
            self._backlog = []
        events = self._lines(lines)
        if self._pieces and (self._skipping or self._too_long()):
            # Only one byte of a line being discarded is kept: enough to
            # know that the bytes that end it end a line, not the event.
            self._head = self._head[:1]
            self._pieces = [self._head]
            self._plen = 1
            if not self._skipping:
                raise self._oversize(events)
        return events

    def _lines(self, lines: list[Line]) -> list[Any]:
        events: list[Any] = []
        for n, line in enumerate(lines):
            try:
                if type(line) is tuple:  # the value of a data line, joined by _feed
                    if not self._skipping:
                        self._data_value(line[0], events)
                    continue
                assert isinstance(line, bytes)
                end = 2 if line.endswith(b"\r\n") else 1
                if len(line) == end:
                    if self._skipping:
                        self._skipping = False
                    else:
                        self._dispatch_event(events)
                elif self._skipping:
                    continue
                elif len(line) - end > self._limit and not line.startswith(b"data:"):
                    raise self._oversize(events)  # data lines are measured by _field
                elif line[0] != 0x3A:  # ":" starts a comment
                    self._field(line[:-end], events)
            except StreamError:
                self._backlog = lines[n + 1 :]
                raise
        return events

    def _too_long(self) -> bool:
        """Whether the line not ended yet already passes the limit, as it will when ended."""
        head = self._head
        size = self._plen
        if head.startswith(b"data:"):
            return self._size + size - (5 if head[5:6] != b" " else 6) >= self._limit
        return size > self._limit and not b"data:".startswith(head)

    def _oversize(self, events: list[Any]) -> StreamError:
        """Refuse the current event (its data or a line passed the limit): the error."""
        exc = self._dispatch.oversize(self._event, events)
        self._data = []
        self._size = -1
        self._event = b""
        self._skipping = True
        return exc

    def _field(self, line: bytes, events: list[Any]) -> None:
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data_value(value, events)
        elif name == b"event":
            self._event = value
        elif name == b"id":
            if b"\0" not in value:
                self._last_event_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():  # ASCII digits only, for bytes
            digits = value.lstrip(b"0") or b"0"
            if len(digits) <= MAX_RETRY_DIGITS:
                self._retry = int(digits)

    def _data_value(self, value: bytes, events: list[Any]) -> None:
        self._size += len(value) + 1
        if self._size > self._limit:
            raise self._oversize(events)
        self._data.append(value)

    def _dispatch_event(self, events: list[Any]) -> None:
        parts, name = self._data, self._event
        self._data = []
        self._size = -1
        self._event = b""
        if parts:
            raw = parts[0] if len(parts) == 1 else b"\n".join(parts)
            made = self._dispatch.dispatch(name, raw, self._last_event_id, events)
            if made is not None:
                events.append(self._make_event(made[0], made[1], self._last_event_id, raw))


def _line_end(chunk: bytes) -> int:
    """The position of the first CR or LF of ``chunk``, or -1."""
    lf = chunk.find(b"\n")
    cr = chunk.find(b"\r", 0, lf if lf >= 0 else len(chunk))
    return cr if cr >= 0 else lf
