"""Every stream event but the fast path's, in one place: decode, merge or replace, refuse.

The stream twins (``_stream_py``, ``_stream_c``) frame the bytes; each
complete event goes to :meth:`Dispatcher.dispatch`, except the one the
compiled fast path merges itself. The contract between them is this module
and :meth:`StepState.fragments <stepwire._state.StepState.fragments>`, no more:

- a twin calls ``Dispatcher(event_type, max_steps, max_event_bytes)`` once,
  and reads ``limit`` (the event size limit), ``steps``, ``pending`` and
  ``done``;
- for each complete event, ``dispatch(name, data, last_event_id, events)``
  with the raw name and data bytes: it returns the event's name and data, for
  the twin to make the ``StreamEvent`` and append it to ``events`` (the list
  its ``feed()`` returns), or None for no event (``done``); or it raises a
  ``StreamError`` that carries ``events``;
- for an event over the limit, ``oversize(name, events)`` is the error;
- the fast path may merge a ``thread.run.step.delta`` (``DELTA_NAME``)
  itself, only by appending its one fragment to a list that
  ``states[step_id].fragments(index, kind, field)`` returned, and only while
  ``done`` is false. Such a list stays the string's until the next
  ``dispatch()``. The event it makes carries ``LAZY`` as data, decoded with
  ``DELTA_DECODER`` when read.
"""

from __future__ import annotations

from typing import Any, Protocol, Union

import msgspec

from ._decode import _DELTA, _STEP, Decoder
from ._errors import DecodeError, StreamError
from ._failures import FAILURES
from ._limits import MAX_RETRY_DIGITS, check_limit
from ._merge import MergeRefusedError, merge_delta, merge_kept
from ._model import ApiError, RunStep, RunStepDeltaEvent
from ._state import StepTable
from ._views import PendingDeltas, StepSnapshots

__all__ = [
    "BOM",
    "DELTA",
    "DELTA_DECODER",
    "DELTA_NAME",
    "FULL",
    "LAZY",
    "MAX_RETRY_DIGITS",
    "OPENING",
    "TERMINAL",
    "Dispatcher",
    "EventData",
    "EventType",
    "concurrent_call",
    "decode_api_error",
]

DELTA = "thread.run.step.delta"
DELTA_NAME = DELTA.encode()
# Step events whose data is the server's full object. The first two open (or
# restate) a step; the others end it.
OPENING = frozenset({"thread.run.step.created", "thread.run.step.in_progress"})
TERMINAL = frozenset(
    {
        "thread.run.step.completed",
        "thread.run.step.failed",
        "thread.run.step.cancelled",
        "thread.run.step.expired",
    }
)
FULL = OPENING | TERMINAL

#: A UTF-8 byte order mark, skipped at the start of a stream.
BOM = b"\xef\xbb\xbf"
#: ``StreamEvent.data`` of a fast-path event, not decoded yet.
LAZY: Any = object()
#: What a fast-path event's data is decoded with.
DELTA_DECODER: Decoder[RunStepDeltaEvent] = _DELTA

#: What ``StreamEvent.data`` holds, by event: a ``RunStep`` for the full step
#: events, a ``RunStepDeltaEvent`` for deltas, an ``ApiError`` for ``error``,
#: the data as sent for any other event.
EventData = Union[RunStep, RunStepDeltaEvent, ApiError, bytes]

# Every event name the Assistants and Agents streams use, decoded once for all
# accumulators; past them, at most _MAX_NAMES others are kept, so that a hostile
# stream cannot grow the cache (nor push these out of it).
_KNOWN = (
    *FULL,
    DELTA,
    "done",
    "error",
    *(
        f"thread.run.{s}"
        for s in (
            "created",
            "queued",
            "in_progress",
            "requires_action",
            "completed",
            "incomplete",
            "failed",
            "cancelling",
            "cancelled",
            "expired",
        )
    ),
    *(
        f"thread.message.{s}"
        for s in ("created", "in_progress", "delta", "completed", "incomplete")
    ),
    "thread.created",
)
_NAMES: dict[bytes, str] = {name.encode(): name for name in _KNOWN}
_MAX_NAMES = len(_NAMES) + 64


class EventType(Protocol):
    """The public ``StreamEvent`` class, as the dispatch builds events."""

    def __call__(self, event: str, data: Any, id: str | None, raw: bytes) -> Any: ...


def concurrent_call(method: str) -> RuntimeError:
    """The error of an accumulator call made while another one is running."""
    return RuntimeError(
        f"Accumulator.{method}() called while another call on the same accumulator is "
        "running: an Accumulator is not thread-safe (use one per stream and thread)"
    )


class Dispatcher:
    """The shared half of one accumulator: its steps, and every event but the fast path's."""

    __slots__ = ("_event", "done", "limit", "pending", "states", "steps", "table")

    def __init__(self, event_type: EventType, max_steps: int, max_event_bytes: int) -> None:
        self.table = StepTable(check_limit("max_steps", max_steps))
        self.limit = check_limit("max_event_bytes", max_event_bytes)
        self.states = self.table.states
        self.steps = StepSnapshots(self.states)
        self.pending = PendingDeltas(self.states)
        self.done = False
        self._event = event_type

    @staticmethod
    def name(raw: bytes) -> str:
        """An event name, decoded (``"message"`` when the stream gave none)."""
        name = _NAMES.get(raw)
        if name is None:
            name = raw.decode("utf-8", "replace") or "message"
            if len(_NAMES) < _MAX_NAMES:
                _NAMES[raw] = name
        return name

    def oversize(self, name: bytes, events: list[Any]) -> StreamError:
        """The error of an event whose data or a line passed the limit."""
        return StreamError(
            f"event larger than max_event_bytes ({self.limit} bytes); discarded up to its end",
            event=self.name(name) if name else None,
            events=events,
        )

    def dispatch(
        self, name: bytes, raw: bytes, id: str | None, events: list[Any]
    ) -> tuple[str, EventData] | None:
        """Apply one complete event; its name and data, or None if it makes no event.

        Raises
        ------
        StreamError
            If the event cannot be decoded or applied, carrying ``events``;
            an event applied despite a refusal (kept deltas refused when
            their step's object arrived) is the last of them.
        """
        # Inlined where a call would cost: a slow-path event pays for this one call.
        text = _NAMES.get(name) or self.name(name)
        if self.done:
            raise StreamError(
                "event after the end of the stream ('done')", event=text, events=events
            )
        if text == "done" or raw == b"[DONE]":
            self.done = True
            return None
        data: Any
        if text == DELTA:
            try:
                data = _DELTA._decode(raw, None)
            except DecodeError as exc:
                raise _bad_body(exc, text, events) from exc
            try:
                merge_delta(self.table.open(data.id), data)
            except MergeRefusedError as exc:
                raise StreamError(exc.reason, event=text, events=events) from None
        elif text in FULL:
            try:
                data = _STEP._decode(raw, None)
            except DecodeError as exc:
                raise _bad_body(exc, text, events) from exc
            # The snapshot is a second decode: deltas change it in place, and
            # the event must go on saying what the server sent.
            refused, kept = self._take_full(text, _STEP._decode(raw, None))
            if refused:
                # The event is applied: it goes out with the error, as completed.
                events.append(self._event(text, data, id, raw))
                raise StreamError(
                    f"{len(refused)} of the {kept} deltas kept for step {data.id!r} refused "
                    f"when its {text!r} object arrived (the event and the rest are applied); "
                    f"the first: {refused[0]}",
                    event=DELTA,
                    events=events,
                )
        elif text == "error":
            data = decode_api_error(raw)
        else:
            data = raw
        return text, data

    def _take_full(self, event: str, step: RunStep) -> tuple[list[str], int]:
        """Make a full step object the step's snapshot; the kept deltas refused, of how many.

        Deltas kept for a step never created are merged into an opening
        object; a terminal object already holds everything they carried, so
        it supersedes them.
        """
        ended = event in TERMINAL
        state = self.table.open(step.id)
        self.table.finish(step.id, ended)
        state.reset(step, event if ended else None)
        pending, state.pending = state.pending, []
        if ended or not pending:
            return [], len(pending)
        return merge_kept(state, pending), len(pending)


def _bad_body(exc: DecodeError, event: str, events: list[Any]) -> StreamError:
    """The error of an event whose data does not decode: the body's reason and path."""
    return StreamError(exc.reason, event=event, events=events, path=exc.path, offset=exc.offset)


class _ErrorBody(msgspec.Struct, gc=False):
    error: Any = msgspec.UNSET


_ERROR_BODY = msgspec.json.Decoder(_ErrorBody)
_API_ERROR = msgspec.json.Decoder(ApiError)


def decode_api_error(buf: bytes) -> ApiError:
    """The data of an ``event: error``: ``{"error": {...}}`` or the bare object.

    Never raises: an error event must reach the caller, so data that is not
    such an object becomes ``ApiError(message=<the data as text>)``.
    """
    try:
        body = _ERROR_BODY.decode(buf)
        if isinstance(body.error, dict):
            return msgspec.convert(body.error, ApiError)
        if body.error is msgspec.UNSET:
            return _API_ERROR.decode(buf)
    # an error object of the wrong shape, a number msgspec cannot hold, bad bytes
    except FAILURES:
        pass
    return ApiError(message=buf.decode("utf-8", "replace"))
