"""Where a stream's bytes come from: chunks, or the response objects users hold.

``iter_events`` and ``aiter_events`` take, besides an iterable of chunks, an
HTTP response of any of the clients in the field, recognised by shape, not by
class (openai-python 3.54 carries ``httpx2``, a fork: an ``isinstance`` check
against ``httpx.Response`` would fail on it):

* a response: ``status_code`` and ``iter_bytes()`` (httpx, httpx2, azure-core's
  ``HttpResponse``) or ``aiter_bytes()`` (their async responses);
* a wrapper holding one as ``http_response`` (openai-python's ``APIResponse``
  from ``with_streaming_response``, ``LegacyAPIResponse`` from
  ``with_raw_response``) or as ``response`` (openai-python's ``Stream`` and
  ``AsyncStream``).

The wrapper is what gets closed, when iteration ends for any reason: closing
an openai ``Stream`` closes its response, and the connection goes back to the
pool or is dropped, as that client decides.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any, NamedTuple, Protocol, Union

from ._dispatch import decode_api_error
from ._errors import ResponseError, StreamError

__all__ = [
    "BYTES",
    "AsyncResponse",
    "AsyncSource",
    "Body",
    "Chunk",
    "HoldsHTTPResponse",
    "HoldsResponse",
    "Response",
    "Source",
    "abody_of",
    "achunks_of",
    "aclose",
    "as_bytes",
    "askip_rest",
    "body_of",
    "ended_early",
    "error_for",
    "raise_for_status",
    "reraise",
    "response_of",
    "skip_rest",
]

# An error body is kept for the exception, not the whole of a misdirected download.
_MAX_ERROR_BODY = 1 << 16
# What is read of a response after `done`: what a server sends there is the end of its
# body (a chunked body's last chunk), whose reading lets the client reuse the connection
# (closing a response before its end drops it: a new connection, about 0.3 ms of CPU,
# per stream). More than this and the response is closed as it is.
_MAX_AFTER_DONE = 1 << 16
BYTES = (bytes, bytearray, memoryview)


Chunk = Union[bytes, bytearray, memoryview]


class Response(Protocol):
    """An HTTP response stepwire reads: httpx's, httpx2's, azure-core's."""

    @property
    def status_code(self) -> int: ...
    def iter_bytes(self) -> Iterator[bytes]: ...


class AsyncResponse(Protocol):
    """An async HTTP response: httpx's and httpx2's ``AsyncClient``."""

    @property
    def status_code(self) -> int: ...
    def aiter_bytes(self) -> AsyncIterator[bytes]: ...


class HoldsResponse(Protocol):
    """openai-python's ``Stream`` and ``AsyncStream``: the response as ``.response``."""

    @property
    def response(self) -> Response | AsyncResponse: ...


class HoldsHTTPResponse(Protocol):
    """openai-python's ``APIResponse`` and ``LegacyAPIResponse``: ``.http_response``."""

    @property
    def http_response(self) -> Response | AsyncResponse: ...


#: What ``iter_events`` reads (docs/responses.md has the table).
Source = Union[Response, HoldsResponse, HoldsHTTPResponse, Iterable[Chunk], Chunk, str]
#: What ``aiter_events`` reads: the same, async responses and async chunks too.
AsyncSource = Union[Source, AsyncResponse, AsyncIterable[Chunk]]


class Body(NamedTuple):
    """The chunks of a source, and what to call once they are read (or abandoned)."""

    chunks: Any  # Iterable or AsyncIterable of bytes-like
    close: Callable[[], object] | None
    # An HTTP response's body: one that ends mid-line was cut (see ended_early).
    response: bool = False
    # The exception a read error is raised as, where the source wants its own (openai's).
    translate: Callable[[Exception], Exception | None] | None = None


def _openai_errors(source: object, response: Any) -> Callable[[Exception], Exception | None] | None:
    """For an openai-python object: its client's errors for its transport's, as its own
    iteration raises them (a timeout as ``openai.APITimeoutError``, any other failed read
    as ``openai.APIConnectionError``, the transport's error as the cause).

    Only public names are used: openai's two exceptions, and the ``TimeoutException`` and
    ``RequestError`` that httpx and httpx2 both define, from the response's own package.
    """
    if type(source).__module__.partition(".")[0] != "openai":
        return None
    openai = sys.modules.get("openai")
    http = sys.modules.get(type(response).__module__.partition(".")[0])
    timeout = getattr(http, "TimeoutException", None)
    failed = getattr(http, "RequestError", None)
    if openai is None or not isinstance(timeout, type) or not isinstance(failed, type):
        return None

    def translate(exc: Exception) -> Exception | None:
        request = getattr(response, "request", None)
        if isinstance(exc, timeout):
            return openai.APITimeoutError(request=request)  # type: ignore[no-any-return]
        if isinstance(exc, failed):
            return openai.APIConnectionError(request=request)  # type: ignore[no-any-return]
        return None

    return translate


def reraise(body: Body, exc: Exception) -> None:
    """Raise what ``exc``, raised while reading ``body``, is raised as (itself, or the
    source's own error for it, with ``exc`` as its cause)."""
    translated = body.translate(exc) if body.translate is not None else None
    if translated is None:
        raise exc
    raise translated from exc


def ended_early(received: int) -> StreamError:
    """The error of a response body that ended inside a line, without ``done``.

    Every stream a server finishes ends with a line end (``data: [DONE]``, the
    blank line after an event, or the line of an ``event: error`` it stopped
    on); a body that stops inside a line was cut, by a connection closed early
    where the framing (no length, no chunks) cannot tell. The cut event is
    not dispatched: its bytes stay in the accumulator.
    """
    return StreamError(
        f"the stream ended early: the body stopped inside a line, after {received} bytes, "
        "without the stream's end (`done`); the events before the cut were delivered"
    )


def response_of(source: object) -> Any | None:
    """The HTTP response ``source`` is or holds, or ``None``."""
    if _is_response(source):
        return source
    for attribute in ("http_response", "response"):
        inner = getattr(source, attribute, None)
        if inner is not None and _is_response(inner):
            return inner
    return None


def _is_response(obj: object) -> bool:
    return isinstance(getattr(obj, "status_code", None), int) and (
        callable(getattr(obj, "iter_bytes", None)) or callable(getattr(obj, "aiter_bytes", None))
    )


def _closer(source: object, response: object, *names: str) -> Callable[[], object] | None:
    for owner in (source, response):
        for name in names:
            method = getattr(owner, name, None)
            if callable(method):
                return method  # type: ignore[no-any-return]
    return None


def raise_for_status(response: Any) -> None:
    """Raise ``ResponseError`` if ``response``'s status is 400 or more (its body read)."""
    if response.status_code >= 400:
        raise error_for(response.status_code, as_bytes(response.read()))


def error_for(status: int, body: bytes) -> ResponseError:
    """The ``ResponseError`` of an error status and its body."""
    kept = bytes(body[:_MAX_ERROR_BODY])
    error = decode_api_error(kept)
    reason = f"HTTP {status}"
    if isinstance(error.message, str) and error.message:
        reason = f"{reason}: {error.message}"
    return ResponseError(reason, status=status, error=error, body=kept)


def as_bytes(data: object) -> bytes:
    """What a response's ``read()`` gave, as bytes (``b""`` for anything else)."""
    return bytes(data) if isinstance(data, BYTES) else b""


def _not_a_source(function: str, source: object) -> TypeError:
    return TypeError(
        f"{function}() takes bytes, an iterable of byte chunks, or an HTTP response "
        "(httpx, openai-python, azure-core), not "
        f"{type(source).__module__}.{type(source).__qualname__}"
    )


def _not_a_response(
    function: str, source: object, iterables: tuple[type[Any], ...]
) -> tuple[Body | None, Any]:
    """A body of ``source`` that is no response (or raise), else ``None`` and the response."""
    if isinstance(source, BYTES):
        return Body((source,), None), None
    if isinstance(source, str):
        return Body((source.encode(),), None), None
    response = response_of(source)
    if response is not None:
        return None, response
    if isinstance(source, iterables):
        return Body(source, None), None
    raise _not_a_source(function, source)


def body_of(source: object) -> Body:
    """The chunks of ``source`` for ``iter_events``; raises ``ResponseError`` on an error status."""
    plain, response = _not_a_response("iter_events", source, (Iterable,))
    if plain is not None:
        return plain
    close = _closer(source, response, "close")
    try:
        raise_for_status(response)
        chunks = response.iter_bytes()
    except BaseException:
        if close is not None:
            close()
        raise
    return Body(chunks, close, True, _openai_errors(source, response))


async def abody_of(source: object) -> Body:
    """The chunks of ``source`` for ``aiter_events``, sync or async."""
    plain, response = _not_a_response("aiter_events", source, (AsyncIterable, Iterable))
    if plain is not None:
        return plain
    close = _closer(source, response, "aclose", "close")
    try:
        if response.status_code >= 400:
            read = getattr(response, "aread", None) or response.read
            data = await _maybe(read())
            raise error_for(response.status_code, as_bytes(data))
        stream = getattr(response, "aiter_bytes", None)
        # azure-core's AsyncHttpResponse: iter_bytes() is the async one
        chunks = stream() if callable(stream) else response.iter_bytes()
    except BaseException:
        if close is not None:
            await _maybe(close())
        raise
    return Body(chunks, close, True, _openai_errors(source, response))


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def achunks_of(body: Body) -> AsyncIterator[Any]:
    """The chunks of ``body``, whether it iterates sync or async."""
    if isinstance(body.chunks, AsyncIterable):
        async for chunk in body.chunks:
            yield chunk
    else:
        for chunk in body.chunks:
            yield chunk


def skip_rest(chunks: Iterator[Any]) -> None:
    """Read what a response sends after ``done``, up to ``_MAX_AFTER_DONE`` bytes."""
    budget = _MAX_AFTER_DONE
    # The stream is complete: a failure to read its tail is no error of the stream's (the
    # response is closed, its connection dropped).
    with contextlib.suppress(Exception):
        for chunk in chunks:
            budget -= len(chunk)
            if budget < 0:
                return


async def askip_rest(chunks: AsyncIterator[Any]) -> None:
    """``skip_rest`` for an async response."""
    budget = _MAX_AFTER_DONE
    with contextlib.suppress(Exception):
        async for chunk in chunks:
            budget -= len(chunk)
            if budget < 0:
                return


async def aclose(body: Body) -> None:
    """Close ``body``'s source, awaiting the close where it is a coroutine."""
    if body.close is not None:
        await _maybe(body.close())
