"""The public stream API: ``Accumulator``, ``StreamEvent``, ``iter_events``, ``aiter_events``.

``Accumulator`` and ``StreamEvent`` are thin subclasses of the selected twin's
``Framer`` and ``Event`` (``_stream``): the twins frame, the shared dispatch
applies (``_dispatch``), and what users read is documented here, once.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any

from . import _stream_py
from ._errors import StreamError
from ._limits import MAX_EVENT_BYTES, MAX_STEPS
from ._responses import (
    AsyncSource,
    Chunk,
    Source,
    abody_of,
    achunks_of,
    aclose,
    askip_rest,
    body_of,
    ended_early,
    reraise,
    skip_rest,
)
from ._stream import IMPLEMENTATION, TWIN, Event, Framer

__all__ = ["Accumulator", "StreamEvent", "aiter_events", "iter_events", "on_twin"]

_LINE_ENDS = (b"\n", b"\r")


class StreamEvent(Event):
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

    Every attribute is read-only.
    """

    __slots__ = ()
    # The compiled Event's __init__ is a C slot, which inspect cannot read: both
    # builds state the reference twin's.
    __signature__ = inspect.signature(_stream_py.Event)

    def __repr__(self) -> str:
        return f"StreamEvent(event={self.event!r}, data={self.data!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return (self.event, self.id, self.raw, self.data) == (
            other.event,
            other.id,
            other.raw,
            other.data,
        )

    __hash__ = None  # type: ignore[assignment]


class Accumulator(Framer):
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

    Every attribute is read-only.

    Examples
    --------
    >>> acc = stepwire.Accumulator()
    >>> for chunk in response.iter_bytes():
    ...     for event in acc.feed(chunk):
    ...         print(event.event)
    >>> acc.steps["step_abc"].step_details.tool_calls[0].function.arguments
    """

    __slots__ = ()
    _event_type: type[StreamEvent] = StreamEvent
    _implementation: str = IMPLEMENTATION

    def __init__(
        self, *, max_steps: int = MAX_STEPS, max_event_bytes: int = MAX_EVENT_BYTES
    ) -> None:
        self._start(self._event_type, max_steps, max_event_bytes)

    def __repr__(self) -> str:
        return f"<Accumulator ({self._implementation}) steps={len(self.steps)} done={self.done}>"

    if TYPE_CHECKING:  # the twins' methods, as the public class returns them

        def feed(self, chunk: Chunk) -> list[StreamEvent]: ...
        def close(self) -> list[StreamEvent]: ...


_FEED = """Take the next bytes of the stream.

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

_CLOSE = """Mark the end of the input, and return what it completes.

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


def _document(framer: type[Any]) -> None:
    # The twins' methods carry no docstrings of their own: these are written once.
    framer.feed.__doc__ = _FEED
    framer.close.__doc__ = _CLOSE


_document(Framer)


@cache
def on_twin(twin: ModuleType) -> SimpleNamespace:
    """``Accumulator`` and ``StreamEvent`` over a given twin (tests run both builds).

    The selected twin's are the public classes themselves; another twin's are
    the same classes (the same ``__init__``, methods and docstrings) over it.
    """
    if twin is TWIN:
        return SimpleNamespace(
            IMPLEMENTATION=IMPLEMENTATION,
            Accumulator=Accumulator,
            StreamEvent=StreamEvent,
            twin=twin,
        )
    _document(twin.Framer)
    shared = {"__slots__": (), "__module__": __package__}
    event = type(
        "StreamEvent",
        (twin.Event,),
        {**shared, **_own(StreamEvent), "__doc__": StreamEvent.__doc__},
    )
    accumulator = type(
        "Accumulator",
        (twin.Framer,),
        {
            **shared,
            **_own(Accumulator),
            "_event_type": event,
            "_implementation": twin.IMPLEMENTATION,
        },
    )
    return SimpleNamespace(
        IMPLEMENTATION=twin.IMPLEMENTATION, Accumulator=accumulator, StreamEvent=event, twin=twin
    )


def _own(cls: type[Any]) -> dict[str, Any]:
    """What ``cls`` itself defines, but what ``type()`` makes anew."""
    skip = {"__dict__", "__weakref__", "__slots__", "__module__", "__qualname__"}
    return {k: v for k, v in vars(cls).items() if k not in skip}


def iter_events(source: Source, accumulator: Accumulator | None = None) -> Iterator[StreamEvent]:
    """Yield the events of an event stream, from its bytes or its HTTP response.

    Parameters
    ----------
    source : response, iterable of bytes-like, or bytes
        The body: an HTTP response (httpx's or httpx2's ``Response``,
        azure-core's ``HttpResponse``), an openai-python object holding one
        (``Stream`` from ``stream=True``, the ``APIResponse`` of
        ``with_streaming_response``, the ``LegacyAPIResponse`` of
        ``with_raw_response``), chunks split anywhere
        (``response.iter_bytes()``), or the whole body. A response is
        recognised by its shape, not its class, and closed when iteration
        ends: at ``done``, at the end of the body, on an exception, or when
        the loop stops early (the generator is closed).
    accumulator : Accumulator, optional
        The accumulator to feed, to read its ``steps`` while or after
        iterating; a new one by default.

    Yields
    ------
    StreamEvent
        Every event, in order; iteration stops at ``done``. A chunk
        iterable is not read further; a response's last bytes (servers end
        the body right after ``done``) are read and dropped, up to 64 KiB,
        so that its connection can go back to the client's pool.

    Raises
    ------
    ResponseError
        If the response's status is 400 or more, before any event: its
        ``status``, and the server's error body as an ``ApiError``.
    StreamError
        If an event cannot be decoded or applied; the events before it are
        yielded first.
    TypeError
        If ``source`` is none of the above.

    Notes
    -----
    An exception from the source itself (a read timeout, a connection the
    server dropped inside a chunked body) propagates as the client library
    raised it; through an openai-python object, as openai-python's own
    iteration raises it (``openai.APITimeoutError``,
    ``openai.APIConnectionError``), the transport's error as its cause.
    A response body that stops inside a line, without ``done``
    (a connection closed early where no length or chunking tells), raises
    ``StreamError`` ("the stream ended early"). Either way the events
    completed before have been yielded and applied, the accumulator keeps
    the partial snapshots, and the bytes of the unfinished event stay
    buffered, undispatched (``accumulator.close()`` would dispatch them).

    Examples
    --------
    >>> with httpx.stream("POST", url, json=body) as response:
    ...     for event in stepwire.iter_events(response, acc):
    ...         if event.event == "thread.run.step.completed":
    ...             print(acc.steps[event.data.id].usage)
    """
    acc = Accumulator() if accumulator is None else accumulator
    body = body_of(source)
    last, received = b"\n", 0
    chunks = iter(body.chunks)
    try:
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except Exception as exc:  # the transport's: raised as the source's own
                reraise(body, exc)
            yield from _events(acc.feed, chunk)
            if acc.done:
                if body.response:
                    skip_rest(chunks)
                return
            if chunk:
                last, received = chunk, received + len(chunk)
        if body.response and last[-1:] not in _LINE_ENDS:
            raise ended_early(received)
        yield from _events(acc.close)
    finally:
        if body.close is not None:
            body.close()


async def aiter_events(
    source: AsyncSource, accumulator: Accumulator | None = None
) -> AsyncIterator[StreamEvent]:
    """Yield the events of an event stream, from async (or sync) bytes or a response.

    The ``async`` twin of ``iter_events``: an async response
    (``httpx.AsyncClient``'s, openai-python's ``AsyncStream`` and async
    ``APIResponse``, azure-core's ``AsyncHttpResponse``), an async iterable
    of chunks (``response.aiter_bytes()``), or anything ``iter_events``
    takes.

    Parameters
    ----------
    source : async response, async iterable of bytes-like, or as iter_events
        The body.
    accumulator : Accumulator, optional
        The accumulator to feed; a new one by default.

    Yields
    ------
    StreamEvent
        Every event, in order, up to ``done``.

    Raises
    ------
    ResponseError
        If the response's status is 400 or more, before any event.
    StreamError
        If an event cannot be decoded or applied; the events before it are
        yielded first.
    TypeError
        If ``source`` is none of the above.

    Notes
    -----
    The response is closed when iteration ends. An async generator left
    early is closed only when the event loop finalizes it; to close the
    response at once, wrap the call in ``contextlib.aclosing``.
    """
    acc = Accumulator() if accumulator is None else accumulator
    body = await abody_of(source)
    last, received = b"\n", 0
    chunks = achunks_of(body)
    try:
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except Exception as exc:  # the transport's: raised as the source's own
                reraise(body, exc)
            for event in _events(acc.feed, chunk):
                yield event
            if acc.done:
                if body.response:
                    await askip_rest(chunks)
                return
            if chunk:
                last, received = chunk, received + len(chunk)
        if body.response and last[-1:] not in _LINE_ENDS:
            raise ended_early(received)
        for event in _events(acc.close):
            yield event
    finally:
        await aclose(body)


def _events(step: Callable[..., list[StreamEvent]], *args: Chunk) -> Iterator[StreamEvent]:
    """The events of one ``feed()`` or ``close()``; on an error, those before it first."""
    try:
        events = step(*args)
    except StreamError as exc:
        yield from exc.events
        raise
    yield from events
