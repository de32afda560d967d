"""Decoders: a fast typed path, a fallback for unknown union members, strict mode.

The fast path is one ``msgspec.json.Decoder`` per type, built once. Unknown
tagged-union members (a tool call type that did not exist when this version
was released) make msgspec raise; only then does ``_slow_decode`` parse the
body untyped, swap every unknown member for a placeholder, validate the rest
with ``msgspec.convert`` and put ``UnknownObject`` stand-ins back. Well-formed
known bodies never pay for the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, Any, Generic, TypeVar, Union

import msgspec

from ._diagnose import MAX_DEPTH, diagnose
from ._encode import encode
from ._errors import DecodeError, StreamError
from ._failures import FAILURES, is_refusal
from ._fallback import rescue, unparsable
from ._model import ApiError, RunStep, RunStepDeltaEvent, RunStepPage
from ._strict import strict_type
from ._twins import MISS, Twins

__all__ = [
    "MAX_DEPTH",
    "Buffer",
    "Decoder",
    "decode_delta",
    "decode_lines",
    "decode_page",
    "decode_step",
    "encode",
    "iter_lines",
]

T = TypeVar("T")

#: What every decode function accepts.
Buffer = Union[bytes, bytearray, memoryview, str]

_BLANK_LINE = re.compile(rb"[^ \t\r\n]")
#: The longest NDJSON line ``iter_lines`` reads, by default.
MAX_LINE_BYTES = 16 * 1024 * 1024


class Decoder(Generic[T]):
    """A reusable decoder of one stepwire type.

    Parameters
    ----------
    type : type
        The type to decode into: ``RunStep``, ``RunStepPage``,
        ``RunStepDeltaEvent``, or any other stepwire model type (a Struct, or
        a union such as ``ToolCall``), or a ``list`` of one.
    strict : bool, default False
        Enforce the spec: its enumerations, metadata limits (16 keys, keys of
        at most 64 characters, values of at most 512), scores in [0, 1], and
        reject unknown fields and unknown tool-call and step-details types.
        The default mode accepts all of these (unknown fields are ignored,
        unknown union members decode as ``UnknownObject`` stand-ins).

    Examples
    --------
    >>> dec = stepwire.Decoder(stepwire.RunStepPage)
    >>> page = dec.decode(body)
    """

    __slots__ = ("_decoder", "_strict_decoder", "_twins", "strict", "type")

    def __init__(self, type: Any, strict: bool = False) -> None:
        self.type = type
        self.strict = strict
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type)
        self._strict_decoder: msgspec.json.Decoder[Any] | None = (
            msgspec.json.Decoder(strict_type(type)) if strict else None
        )
        # What the fallback found in earlier bodies, decoded in one pass (_twins).
        self._twins = Twins(type)

    def __repr__(self) -> str:
        name = getattr(self.type, "__name__", repr(self.type))
        return f"Decoder({name}, strict={self.strict})"

    def decode(self, buf: Buffer) -> T:
        """Decode one JSON document.

        Parameters
        ----------
        buf : bytes, bytearray, memoryview or str
            The document. Buffers are read in place, without a copy.

        Returns
        -------
        The decoded object.

        Raises
        ------
        DecodeError
            If ``buf`` is not valid JSON or not a valid object of this type.
        TypeError
            If ``buf`` is not one of the accepted types.
        """
        return self._decode(buf, None)

    def _decode(self, buf: Buffer, line: int | None) -> T:
        strict = self._strict_decoder
        try:
            if strict is not None:
                strict.decode(buf)
            return self._decoder.decode(buf)
        except FAILURES as exc:
            failure = exc
        if strict is not None:
            raise diagnose(failure, buf, strict_type(self.type), line=line) from None
        try:
            return self._keep(failure, buf, line)
        except RecursionError as exc:
            # The caller left too little stack for the fallback's own calls.
            raise diagnose(exc, buf, None, line=line) from None

    def _keep(self, failure: BaseException, buf: Buffer, line: int | None) -> T:
        """Decode what the fast decoder refused, keeping what the model does not hold."""
        if not is_refusal(failure):
            raise unparsable(failure, buf, self.type, line) from None
        # Something the model does not hold (an unknown field or tool type, a
        # payload value off its type): the twins or the fallback keep it.
        result: T = self._twins.decode(buf)
        if result is MISS:
            result, seen = rescue(buf, self.type, line)
            self._twins.learn(seen)
        return result


# --------------------------------------------------------------------------
# Module-level API, on prebuilt decoders
# --------------------------------------------------------------------------

_DECODERS: dict[tuple[Any, bool], Decoder[Any]] = {}


def _decoder(tp: type[T], strict: bool) -> Decoder[T]:
    dec: Decoder[T] | None = _DECODERS.get((tp, strict))
    if dec is None:  # strict decoders are built on first use: most callers never ask
        dec = _DECODERS[tp, strict] = Decoder(tp, strict=strict)
    return dec


_STEP: Decoder[RunStep] = _decoder(RunStep, False)
_PAGE: Decoder[RunStepPage] = _decoder(RunStepPage, False)
_DELTA: Decoder[RunStepDeltaEvent] = _decoder(RunStepDeltaEvent, False)


def _select(default: Decoder[T], strict: bool) -> Decoder[T]:
    """``default`` itself, or its strict twin (built on first use)."""
    return _decoder(default.type, True) if strict else default


def decode_step(buf: Buffer, *, strict: bool = False) -> RunStep:
    """Decode one run step (``GET .../steps/{step}``, or a step event's data).

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The JSON body.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Returns
    -------
    RunStep

    Raises
    ------
    DecodeError
        If the body is not a valid run step; the message names the JSON path.
    """
    return _select(_STEP, strict)._decode(buf, None)


def decode_page(buf: Buffer, *, strict: bool = False) -> RunStepPage:
    """Decode one page of run steps (``GET .../runs/{run}/steps``).

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The JSON body.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Returns
    -------
    RunStepPage

    Raises
    ------
    DecodeError
        If the body is not a valid page; the message names the JSON path.
    """
    return _select(_PAGE, strict)._decode(buf, None)


def decode_delta(buf: Buffer, *, strict: bool = False) -> RunStepDeltaEvent:
    """Decode the data of a ``thread.run.step.delta`` event.

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The JSON body.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Returns
    -------
    RunStepDeltaEvent

    Raises
    ------
    DecodeError
        If the body is not a valid delta event; the message names the JSON path.
    """
    return _select(_DELTA, strict)._decode(buf, None)


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


def decode_event(decoder: Decoder[T], raw: bytes, event: str) -> T:
    """Decode a stream event's data; a bad one is a StreamError naming the event."""
    try:
        return decoder.decode(raw)
    except DecodeError as exc:
        raise StreamError(str(exc), event=event) from exc


def decode_lines(buf: Buffer, *, strict: bool = False) -> list[RunStep]:
    """Decode newline-delimited JSON, one run step per line.

    Blank lines are skipped; LF and CRLF line ends are both accepted. Lines are
    decoded in place from ``buf``, without copying them out.

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The NDJSON body.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Returns
    -------
    list of RunStep

    Raises
    ------
    DecodeError
        For the first bad line; the message starts with ``line N:`` (1-based).
    """
    dec = _select(_STEP, strict)
    if isinstance(buf, str):
        # surrogatepass: a lone surrogate becomes bytes that are not UTF-8, so
        # its line fails like any other invalid UTF-8 (with its line number).
        buf = buf.encode("utf-8", "surrogatepass")
    elif not isinstance(buf, (bytes, bytearray, memoryview)):
        raise TypeError(f"Expected bytes, bytearray, memoryview or str, got {type(buf).__name__}")
    view = memoryview(buf).cast("B")
    blank = _BLANK_LINE.search
    out: list[RunStep] = []
    append = out.append
    decode = dec._decode
    start = 0
    lineno = 0
    size = len(view)
    # bytes.find on a memoryview is not available; the regex engine and
    # msgspec both read the view in place.
    find = _newline_finder(view)
    while start < size:
        end = find(start)
        if end < 0:
            end = size
        lineno += 1
        if blank(view, start, end) is not None:
            # A CRLF's CR is the line end's, not the line's (a line cut inside a
            # string is truncated, not a string with a control character).
            stop = end - 1 if end < size and view[end - 1] == 0x0D else end
            append(decode(view[start:stop], lineno))
        start = end + 1
    return out


def _newline_finder(view: memoryview) -> Any:
    obj = view.obj
    if isinstance(obj, (bytes, bytearray)) and len(obj) == len(view):
        return lambda start: obj.find(b"\n", start)
    pattern = re.compile(rb"\n")

    def find(start: int) -> int:
        match = pattern.search(view, start)
        return match.start() if match else -1

    return find


def iter_lines(
    file: IO[bytes], *, strict: bool = False, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[RunStep]:
    """Decode an NDJSON file lazily, one run step per line.

    Memory stays bounded by ``max_line_bytes``, whatever the file's size.

    Parameters
    ----------
    file : binary file object
        Anything with ``readline`` (an ``open(path, "rb")`` file, ``io.BytesIO``,
        a socket file).
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).
    max_line_bytes : int, default 16 MiB
        The longest line read, its ``\n`` not counted. A longer line is a
        ``DecodeError``; it is read no further than the limit, and the file
        is left at the start of the next line.

    Yields
    ------
    RunStep

    Raises
    ------
    DecodeError
        For a bad or too long line; the message starts with ``line N:`` (1-based).
    TypeError
        If ``file`` is not a binary file, or ``max_line_bytes`` not an int.
    ValueError
        If ``max_line_bytes`` is less than 1.
    """
    if not isinstance(max_line_bytes, int) or isinstance(max_line_bytes, bool):
        raise TypeError(f"max_line_bytes must be an int, not {type(max_line_bytes).__name__}")
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be at least 1, not {max_line_bytes}")
    return _iter_lines(file, _select(_STEP, strict)._decode, max_line_bytes)


def _iter_lines(
    file: IO[bytes], decode: Callable[[Buffer, int | None], RunStep], limit: int
) -> Iterator[RunStep]:
    blank = _BLANK_LINE.search
    # One byte over the limit: a line of exactly `limit` bytes comes with its "\n".
    for lineno, line in enumerate(iter(partial(file.readline, limit + 1), b""), 1):
        if not isinstance(line, (bytes, bytearray)):
            raise TypeError(
                f"iter_lines needs a binary file; readline() gave {type(line).__name__}"
            )
        if len(line) > limit and line[-1] != 0x0A:
            _skip_line(file, limit)
            raise DecodeError(f"line longer than max_line_bytes ({limit} bytes)", line=lineno)
        if blank(line) is not None:
            yield decode(_without_line_end(line), lineno)


def _without_line_end(line: bytes) -> Buffer:
    """The line without its LF or CRLF (a view: no copy), as ``decode_lines`` reads it."""
    size = len(line)
    if line.endswith(b"\n"):
        size -= 2 if line.endswith(b"\r\n") else 1
        return memoryview(line)[:size]
    return line


def _skip_line(file: IO[bytes], size: int) -> None:
    """Read past the end of the current line, ``size`` bytes at a time at most."""
    while True:
        rest = file.readline(size)
        if not rest or rest[-1] == 0x0A:
            return
