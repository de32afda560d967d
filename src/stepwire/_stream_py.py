"""Server-sent events to merged run-step snapshots: the pure-Python reference.

``_stream_c.pyx`` is the same logic compiled, with a fast path for the
dominant delta; ``_stream.py`` picks one at import. Framing follows the
event-stream rules of the HTML standard ("Parsing an event stream") with one
deliberate difference, at the end of input (see :meth:`Accumulator.close`).
"""

from __future__ import annotations

import threading
from typing import Any

from ._decode import _DELTA, _STEP, decode_api_error, decode_event
from ._errors import StreamError
from ._merge import (
    DELTA,
    FULL,
    MAX_EVENT_BYTES,
    MAX_RETRY_DIGITS,
    MAX_STEPS,
    PendingDeltas,
    StepSnapshots,
    StepTable,
    check_limit,
    concurrent_call,
    merge_delta,
    set_step,
)

__all__ = ["IMPLEMENTATION", "Accumulator", "StreamEvent"]

IMPLEMENTATION = "python"

_BOM = b"\xef\xbb\xbf"
_MAX_NAMES = 64  # event names kept decoded; a hostile stream cannot grow the cache


class StreamEvent:
    """One event of the stream.

    Attributes
    ----------
    event : str
        The event name (``"message"`` when the stream gave none).
    data : RunStep, RunStepDeltaEvent, ApiError or bytes
        A ``RunStep`` for the full step events (``thread.run.step.created``,
        ``in_progress``, ``completed``, ``failed``, ``cancelled``,
        ``expired``), a ``RunStepDeltaEvent`` for ``thread.run.step.delta``,
        an ``ApiError`` for ``error``; for every other event, the data as sent
        (bytes, lines joined with ``b"\\n"``).
    id : str or None
        The stream's last event id when the event was dispatched.
    raw : bytes
        The data as sent, for every event.
    """

    __slots__ = ("data", "event", "id", "raw")

    def __init__(self, event: str, data: Any, id: str | None, raw: bytes) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.raw = raw

    def __repr__(self) -> str:
        return f"StreamEvent(event={self.event!r}, data={self.data!r})"

    def __eq__(self, other: object) -> bool:
        try:
            return (self.event, self.id, self.raw, self.data) == (
                other.event,  # type: ignore[attr-defined]
                other.id,  # type: ignore[attr-defined]
                other.raw,  # type: ignore[attr-defined]
                other.data,  # type: ignore[attr-defined]
            )
        except AttributeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class Accumulator:
    """Frames an event stream and keeps the merged snapshot of every run step.

    Feed it the bytes of a ``text/event-stream`` body in chunks split
    anywhere; each call returns the events the chunk completed. Step events
    update ``steps`` (see docs/merge.md for the merge rules).

    Parameters
    ----------
    max_steps : int, default 10_000
        The most step snapshots kept. A new step past it drops the step
        that finished first (or the oldest, if none has), so a long-lived
        stream does not grow without bound.
    max_event_bytes : int, default 16 MiB
        The largest event data accepted (its ``data`` lines joined), and the
        longest line. Past it, the event is a ``StreamError`` and the rest of
        it is discarded unbuffered, up to the blank line that ends it.

    Notes
    -----
    An accumulator is not thread-safe: a call made while another call on the
    same accumulator is running (from another thread) raises ``RuntimeError``
    and changes nothing. Use one accumulator per stream and per thread.

    Attributes
    ----------
    steps : Mapping[str, RunStep]
        The merged snapshot of each step, by step id.
    pending : Mapping[str, list[RunStepDeltaEvent]]
        Deltas of steps no full object has arrived for yet, by step id.
    done : bool
        Whether the stream ended (``event: done`` or ``data: [DONE]``).
    last_event_id : str or None
        The last ``id:`` the stream set.
    retry : int or None
        The last ``retry:`` (reconnection time, milliseconds) the stream set.

    Examples
    --------
    >>> acc = stepwire.Accumulator()
    >>> for chunk in response.iter_bytes():
    ...     for event in acc.feed(chunk):
    ...         print(event.event)
    >>> acc.steps["step_abc"].step_details.tool_calls[0].function.arguments
    """

    __slots__ = (
        "__weakref__",
        "_bom",
        "_busy",
        "_data",
        "_event",
        "_limit",
        "_names",
        "_size",
        "_skip_lf",
        "_skipping",
        "_table",
        "_tail",
        "done",
        "last_event_id",
        "pending",
        "retry",
        "steps",
    )

    def __init__(
        self, *, max_steps: int = MAX_STEPS, max_event_bytes: int = MAX_EVENT_BYTES
    ) -> None:
        self._tail = b""
        self._skip_lf = False
        self._bom = True
        self._event = b""
        self._data: list[bytes] = []
        self._size = -1  # len(b"\n".join(self._data)) is self._size
        self._skipping = False  # discarding an oversized event, up to its blank line
        self._limit = check_limit("max_event_bytes", max_event_bytes)
        self._busy = threading.Lock()
        self._names: dict[bytes, str] = {}
        self._table = StepTable(check_limit("max_steps", max_steps))
        self.steps = StepSnapshots(self._table.states)
        self.pending = PendingDeltas(self._table.states)
        self.done = False
        self.last_event_id: str | None = None
        self.retry: int | None = None

    def __repr__(self) -> str:
        return f"<Accumulator ({IMPLEMENTATION}) steps={len(self.steps)} done={self.done}>"

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[StreamEvent]:
        """Take the next bytes of the stream.

        Parameters
        ----------
        chunk : bytes, bytearray or memoryview
            Any part of the body: it may end mid-line, mid-character, or
            between the CR and LF of a line end.

        Returns
        -------
        list of StreamEvent
            The events this chunk completed, in stream order.

        Raises
        ------
        StreamError
            If an event cannot be decoded or applied. The error names the
            event, carries the events completed before it (``.events``), and
            leaves the accumulator ready for the next ``feed()``.
        TypeError
            If ``chunk`` is not bytes-like.
        RuntimeError
            If another call on this accumulator is running (another thread).
        """
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"feed() takes a bytes-like object, not {type(chunk).__name__}")
        if not self._busy.acquire(blocking=False):
            raise concurrent_call("feed")
        try:
            return self._feed(bytes(chunk))
        finally:
            self._busy.release()

    def _feed(self, chunk: bytes) -> list[StreamEvent]:
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:  # the LF of a CRLF split across chunks
                chunk = chunk[1:]
        data = self._tail + chunk if self._tail else chunk
        if self._bom:
            if len(data) < 3 and _BOM.startswith(data):
                self._tail = data
                return []
            self._bom = False
            if data.startswith(_BOM):
                data = data[3:]
        lines = data.splitlines(keepends=True)  # bytes split on LF, CRLF and CR only
        tail = b""
        if lines and lines[-1][-1] not in (0x0A, 0x0D):
            tail = lines.pop()
        elif data:  # an empty chunk between the CR and the LF changes nothing
            self._skip_lf = data.endswith(b"\r")
        self._tail = tail
        events = self._lines(lines)
        if (self._skipping and tail) or self._too_long(tail):
            # Only one byte of a line being discarded is kept: enough to
            # know that the bytes that end it end a line, not the event.
            self._tail = tail[:1]
            if not self._skipping:
                exc = self._oversize()
                exc.events = events
                raise exc
        return events

    def close(self) -> list[StreamEvent]:
        """Mark the end of the input, and return what it completes.

        The HTML standard drops an event the stream did not end with a blank
        line. Recorded API streams do end that way (``data: [DONE]`` or
        an ``event: error`` without the blank line), so stepwire dispatches
        the last event, its unterminated last line included; a body cut
        inside JSON then fails to decode with a ``StreamError``.

        Returns
        -------
        list of StreamEvent

        Raises
        ------
        StreamError
            If the last event cannot be decoded or applied.
        RuntimeError
            If another call on this accumulator is running (another thread).
        """
        if not self._busy.acquire(blocking=False):
            raise concurrent_call("close")
        try:
            lines = (self._tail + b"\n").splitlines(keepends=True) if self._tail else []
            self._tail = b""
            self._bom = False
            self._skip_lf = False
            return self._lines([*lines, b"\n"])
        finally:
            self._busy.release()

    def _lines(self, lines: list[bytes]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for n, line in enumerate(lines):
            end = 2 if line.endswith(b"\r\n") else 1
            try:
                if len(line) == end:
                    if self._skipping:
                        self._skipping = False
                        continue
                    event = self._dispatch()
                    if event is not None:
                        events.append(event)
                elif self._skipping:
                    continue
                elif len(line) - end > self._limit and not line.startswith(b"data:"):
                    raise self._oversize()  # data lines are measured by _field
                elif line[0] != 0x3A:  # ":" starts a comment
                    self._field(line[:-end])
            except StreamError as exc:
                self._tail = b"".join(lines[n + 1 :]) + self._tail
                exc.events = events + exc.events  # with an event delivered alongside the error
                raise
        return events

    def _too_long(self, tail: bytes) -> bool:
        """Whether a line not ended yet already passes the limit, as it will when ended."""
        if tail.startswith(b"data:"):
            return self._size + len(tail) - (5 if tail[5:6] != b" " else 6) >= self._limit
        return len(tail) > self._limit and not b"data:".startswith(tail)

    def _oversize(self) -> StreamError:
        """Refuse the current event (its data or a line passed ``max_event_bytes``): the error."""
        name = self._name(self._event) if self._event else None
        self._data = []
        self._size = -1
        self._event = b""
        self._skipping = True
        return StreamError(
            f"event larger than max_event_bytes ({self._limit} bytes); discarded up to its end",
            event=name,
        )

    def _field(self, line: bytes) -> None:
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._size += len(value) + 1
            if self._size > self._limit:
                raise self._oversize()
            self._data.append(value)
        elif name == b"event":
            self._event = value
        elif name == b"id":
            if b"\0" not in value:
                self.last_event_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():  # ASCII digits only, for bytes
            digits = value.lstrip(b"0") or b"0"
            if len(digits) <= MAX_RETRY_DIGITS:
                self.retry = int(digits)

    def _name(self, raw: bytes) -> str:
        name = self._names.get(raw)
        if name is None:
            name = raw.decode("utf-8", "replace") or "message"
            if len(self._names) < _MAX_NAMES:
                self._names[raw] = name
        return name

    def _dispatch(self) -> StreamEvent | None:
        parts, event = self._data, self._event
        self._data = []
        self._size = -1
        self._event = b""
        if not parts:
            return None
        raw = parts[0] if len(parts) == 1 else b"\n".join(parts)
        name = self._name(event)
        if self.done:
            raise StreamError("event after the end of the stream ('done')", event=name)
        data: Any
        if name == "done" or raw == b"[DONE]":
            self.done = True
            return None
        if name == DELTA:
            delta = decode_event(_DELTA, raw, name)
            merge_delta(self._table.open(delta.id), delta, event=name)
            data = delta
        elif name in FULL:
            data = decode_event(_STEP, raw, name)
            # The snapshot is a second decode: deltas change it in place, and
            # the event must go on saying what the server sent.
            refused = set_step(self._table, name, _STEP.decode(raw))
            if refused is not None:
                # The event is applied: it goes out with the error, as completed.
                refused.events = [StreamEvent(name, data, self.last_event_id, raw)]
                raise refused
        elif name == "error":
            data = decode_api_error(raw)
        else:
            data = raw
        return StreamEvent(name, data, self.last_event_id, raw)
