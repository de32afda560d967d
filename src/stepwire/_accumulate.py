"""Event iterators over byte sources: ``httpx``'s ``iter_bytes()`` / ``aiter_bytes()`` plug in."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator

from ._errors import StreamError
from ._stream import Accumulator, StreamEvent

__all__ = ["aiter_events", "iter_events"]

Chunk = bytes | bytearray | memoryview


def iter_events(
    chunks: Iterable[Chunk], accumulator: Accumulator | None = None
) -> Iterator[StreamEvent]:
    """Yield the events of an event stream given as byte chunks.

    Parameters
    ----------
    chunks : iterable of bytes-like
        The body, in chunks split anywhere (``response.iter_bytes()``).
    accumulator : Accumulator, optional
        The accumulator to feed, to read its ``steps`` while or after
        iterating; a new one by default.

    Yields
    ------
    StreamEvent
        Every event, in order; iteration stops at ``done`` without reading
        the source further.

    Raises
    ------
    StreamError
        If an event cannot be decoded or applied; the events before it are
        yielded first.

    Examples
    --------
    >>> acc = stepwire.Accumulator()
    >>> for event in stepwire.iter_events(response.iter_bytes(), acc):
    ...     if event.event == "thread.run.step.completed":
    ...         print(acc.steps[event.data.id].usage)
    """
    acc = Accumulator() if accumulator is None else accumulator
    for chunk in chunks:
        yield from _events(acc.feed, chunk)
        if acc.done:
            return
    yield from _events(acc.close)


async def aiter_events(
    chunks: AsyncIterable[Chunk], accumulator: Accumulator | None = None
) -> AsyncIterator[StreamEvent]:
    """Yield the events of an event stream given as async byte chunks.

    The ``async`` twin of :func:`iter_events` (``response.aiter_bytes()``).

    Parameters
    ----------
    chunks : async iterable of bytes-like
        The body, in chunks split anywhere.
    accumulator : Accumulator, optional
        The accumulator to feed; a new one by default.

    Yields
    ------
    StreamEvent
        Every event, in order, up to ``done``.

    Raises
    ------
    StreamError
        If an event cannot be decoded or applied; the events before it are
        yielded first.
    """
    acc = Accumulator() if accumulator is None else accumulator
    async for chunk in chunks:
        for event in _events(acc.feed, chunk):
            yield event
        if acc.done:
            return
    for event in _events(acc.close):
        yield event


def _events(step: Callable[..., list[StreamEvent]], *args: Chunk) -> Iterator[StreamEvent]:
    """The events of one ``feed()`` or ``close()``; on an error, those before it first."""
    try:
        events = step(*args)
    except StreamError as exc:
        yield from exc.events
        raise
    yield from events
