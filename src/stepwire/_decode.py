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
from collections.abc import Iterator
from functools import cache
from typing import IO, Any, Generic, TypeVar, Union, get_args, get_origin

import msgspec

from ._errors import DecodeError, StreamError
from ._model import FALLBACKS, ApiError, RunStep, RunStepDeltaEvent, RunStepPage
from ._strict import UNION_TYPES, strict_type
from ._unknown import UnknownObject, UnknownOutputDelta, UnknownToolCallDelta

__all__ = [
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


def _error(exc: Exception, *, line: int | None = None) -> DecodeError:
    """Turn a msgspec (or recursion) error into a DecodeError naming the path."""
    if isinstance(exc, RecursionError):
        message = "JSON is nested too deeply"
    elif isinstance(exc, UnicodeDecodeError):
        message = f"invalid UTF-8 in a string (byte {exc.start} of the string)"
    else:
        message = str(exc)
        if message == "Input data was truncated":
            message = "JSON is truncated (or the input is empty)"
        elif isinstance(exc, msgspec.ValidationError) and "`$" not in message:
            message = f"{message} - at `$`"
    return DecodeError(message, line=line)


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

    __slots__ = ("_decoder", "_strict_decoder", "strict", "type")

    def __init__(self, type: Any, strict: bool = False) -> None:
        self.type = type
        self.strict = strict
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type)
        self._strict_decoder: msgspec.json.Decoder[Any] | None = (
            msgspec.json.Decoder(strict_type(type)) if strict else None
        )

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
        try:
            if self._strict_decoder is not None:
                self._strict_decoder.decode(buf)
            return self._decoder.decode(buf)
        except msgspec.ValidationError as exc:
            if self._strict_decoder is not None:
                raise _error(exc, line=line) from None
            result: T = _slow_decode(buf, self.type, exc, line)
            return result
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
            raise _error(exc, line=line) from None


def _slow_decode(buf: Buffer, tp: Any, first_error: Exception, line: int | None) -> Any:
    """Decode a body holding union members of unknown types (default mode only)."""
    try:
        obj = msgspec.json.decode(buf)
        fixups: list[tuple[tuple[Any, ...], UnknownObject]] = []
        replacement = _walk(obj, tp, (), fixups)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        # ValidationError: _walk's check of an unknown delta's index
        raise _error(exc, line=line) from None
    if not fixups:
        raise _error(first_error, line=line) from None
    if replacement is not None:  # the whole document is one unknown member
        return fixups[0][1]
    try:
        result = msgspec.convert(obj, tp)
    except (msgspec.ValidationError, RecursionError) as exc:
        raise _error(exc, line=line) from None
    for path, unknown in fixups:
        parent = result
        for key in path[:-1]:
            parent = getattr(parent, key) if isinstance(parent, msgspec.Struct) else parent[key]
        last = path[-1]
        if isinstance(parent, msgspec.Struct):
            setattr(parent, last, unknown)
        else:
            parent[last] = unknown
    return result


@cache
def _struct_fields(cls: type[msgspec.Struct]) -> tuple[tuple[str, str, Any], ...]:
    return tuple((f.name, f.encode_name, f.type) for f in msgspec.structs.fields(cls))


@cache
def _members(tp: Any) -> tuple[Any, ...]:
    """The non-null members of a union (or the type itself)."""
    if get_origin(tp) in UNION_TYPES:
        return tuple(a for a in get_args(tp) if a not in (type(None), msgspec.UnsetType))
    return (tp,)


def _tag_of(cls: Any) -> str | None:
    config = getattr(cls, "__struct_config__", None)
    tag = getattr(config, "tag", None)
    return tag if isinstance(tag, str) else None


def _strip(tp: Any) -> Any:
    while hasattr(tp, "__metadata__"):  # Annotated[...]
        tp = tp.__origin__
    return tp


def _check_index(obj: dict[str, Any], path: tuple[Any, ...]) -> None:
    """An unknown delta still needs the integer ``index`` every merge relies on."""
    index = obj.get("index")
    if type(index) is not int:
        where = "$" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)
        raise msgspec.ValidationError(
            f"Expected `int`, got `{type(index).__name__}` - at `{where}.index`"
        )


# By member set: ``Nullable[StepDetailsDelta]`` is a flat union of the same
# members plus None and UnsetType, no longer the ``StepDetailsDelta`` object.
_FALLBACKS = {frozenset(_members(union)): fallback for union, fallback in FALLBACKS.items()}


def _walk(obj: Any, tp: Any, path: tuple[Any, ...], fixups: list[Any]) -> Any:
    """Find unknown union members in ``obj`` (parsed untyped) by following ``tp``.

    Each is recorded in ``fixups`` with its path and replaced in ``obj`` by a
    placeholder; returns the placeholder if ``obj`` itself is one.
    """
    tp = _strip(tp)
    members = _members(tp)
    if isinstance(obj, dict):
        structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
        fallback = _FALLBACKS.get(frozenset(members))
        tag = obj.get("type")
        if (
            fallback is not None
            and isinstance(tag, str)
            and tag not in {_tag_of(m) for m in structs}
        ):
            unknown_cls, placeholder = fallback
            if issubclass(unknown_cls, (UnknownToolCallDelta, UnknownOutputDelta)):
                _check_index(obj, path)
            fixups.append((path, unknown_cls(obj)))
            return dict(placeholder)
        if len(structs) > 1:
            structs = [m for m in structs if _tag_of(m) == tag]
        if structs:
            cls = structs[0]
            for name, encode_name, ftype in _struct_fields(cls):
                if encode_name in obj:
                    new = _walk(obj[encode_name], ftype, (*path, name), fixups)
                    if new is not None:
                        obj[encode_name] = new
            return None
        for m in members:
            if get_origin(m) is dict:
                value_type = get_args(m)[1]
                for key, value in obj.items():
                    new = _walk(value, value_type, (*path, key), fixups)
                    if new is not None:
                        obj[key] = new
                return None
    elif isinstance(obj, list):
        for m in members:
            if get_origin(m) is list:
                item_type = get_args(m)[0]
                for i, item in enumerate(obj):
                    new = _walk(item, item_type, (*path, i), fixups)
                    if new is not None:
                        obj[i] = new
                return None
    return None


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
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
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
        buf = buf.encode()
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
            append(decode(view[start:end], lineno))
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


def iter_lines(file: IO[bytes], *, strict: bool = False) -> Iterator[RunStep]:
    """Decode an NDJSON file lazily, one run step per line.

    Memory stays bounded by the longest line, whatever the file's size.

    Parameters
    ----------
    file : binary file object
        Anything with ``readline`` (an ``open(path, "rb")`` file, ``io.BytesIO``,
        a socket file).
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Yields
    ------
    RunStep

    Raises
    ------
    DecodeError
        For a bad line; the message starts with ``line N:`` (1-based).
    """
    decode = _select(_STEP, strict)._decode
    blank = _BLANK_LINE.search
    for lineno, line in enumerate(iter(file.readline, b""), 1):
        if not isinstance(line, (bytes, bytearray)):
            raise TypeError(
                f"iter_lines needs a binary file; readline() gave {type(line).__name__}"
            )
        if blank(line) is not None:
            yield decode(line, lineno)


_ENCODER = msgspec.json.Encoder()


def encode(obj: Any) -> bytes:
    """Encode a stepwire object (or a list of them) back to JSON.

    Absent fields stay absent, nulls stay null, and unknown union members are
    written back exactly as they were parsed.

    Parameters
    ----------
    obj : RunStep, RunStepPage, RunStepDeltaEvent, or any model object

    Returns
    -------
    bytes
    """
    return _ENCODER.encode(obj)
