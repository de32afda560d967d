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
from functools import cache, partial
from typing import IO, Any, Generic, TypeVar, Union, get_args, get_origin

import msgspec

from . import _refusal
from ._diagnose import MAX_DEPTH, NOT_PARSED, as_bytes, diagnose, parse_despite, refused_at
from ._errors import DecodeError, StreamError
from ._failures import FAILURES
from ._model import FALLBACKS, FREE_FORM, ApiError, RunStep, RunStepDeltaEvent, RunStepPage
from ._strict import UNION_TYPES, strict_type
from ._unknown import UnknownOutputDelta, UnknownToolCallDelta

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


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


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
        strict = self._strict_decoder
        try:
            if strict is not None:
                strict.decode(buf)
            return self._decoder.decode(buf)
        except FAILURES as exc:
            failure = exc
        if strict is not None:
            raise diagnose(failure, buf, strict_type(self.type), line=line) from None
        # Perhaps a union member of a type this release does not know, or a
        # free-form value that is not a scalar: the slow path keeps those.
        result: T = _slow_decode(buf, self.type, failure, line)
        return result


_Fixups = list[tuple[tuple[Any, ...], Any]]


def _slow_decode(buf: Buffer, tp: Any, first_error: BaseException, line: int | None) -> Any:
    """Decode a body holding values the fast decoder refuses but stepwire keeps.

    Those are union members of unknown types and free-form values (default
    mode only). Parsing untyped reads every byte, ignored fields included, so
    this path is also where a free-form value's depth and integers are checked.
    """
    try:
        obj = msgspec.json.decode(buf)
    except FAILURES as exc:
        raise _unparsable(exc, buf, tp, first_error, line) from None
    return _keep(obj, buf, tp, first_error, line)


def _unparsable(
    exc: BaseException, buf: Buffer, tp: Any, first_error: BaseException, line: int | None
) -> DecodeError:
    """The error for a body the untyped parse refuses (a number, nesting, bad bytes).

    Numbers msgspec cannot hold and nesting past the stack are errors only
    if nothing else is: a body that would be refused anyway, without them,
    reports that refusal (the one a typed decode meets first).
    """
    patched = parse_despite(as_bytes(buf))
    if patched is not NOT_PARSED:
        try:
            _keep(patched, buf, tp, first_error, line)
        except DecodeError as err:
            return err
    return diagnose(exc, buf, None, line=line)


def _keep(obj: Any, buf: Buffer, tp: Any, first_error: BaseException, line: int | None) -> Any:
    """Decode ``obj`` (``buf`` parsed untyped) as ``tp``, keeping what the fast path refused."""
    fixups: _Fixups = []
    try:
        replacement = _walk(obj, tp, (), fixups)
    except _FreeFormError as exc:
        raise refused_at(exc.reason, as_bytes(buf), exc.steps, line) from None
    except RecursionError as exc:
        raise diagnose(exc, buf, None, line=line) from None
    if not fixups:  # nothing to keep: the fast decoder's failure stands
        raise diagnose(first_error, buf, tp, line=line, parsed=obj) from None
    if replacement is not None:  # the whole document is one unknown member
        return fixups[0][1]
    try:
        result = msgspec.convert(obj, tp)
    except FAILURES as exc:
        raise diagnose(exc, buf, tp, line=line, parsed=obj) from None
    for path, kept in fixups:
        parent = result
        for key in path[:-1]:
            parent = _child(parent, key)
        last = path[-1]
        if isinstance(parent, msgspec.Struct):
            setattr(parent, _attribute(type(parent), last), kept)
        else:
            parent[last] = kept
    return result


def _child(parent: Any, key: Any) -> Any:
    if isinstance(parent, msgspec.Struct):
        return getattr(parent, _attribute(type(parent), key))
    return parent[key]


@cache
def _attribute(cls: type[msgspec.Struct], encode_name: str) -> str:
    """The attribute holding a field, by the name it has in JSON."""
    return next(name for name, json_name, _ in _struct_fields(cls) if json_name == encode_name)


class _FreeFormError(Exception):
    """A kept free-form value breaks a limit: why, and the path of the value."""

    def __init__(self, reason: str, steps: list[Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.steps = list(steps)


def _check_free_form(value: Any, path: tuple[Any, ...]) -> None:
    """Check a value kept as parsed against MAX_DEPTH and the signed 64-bit range.

    Iterative, so that the check itself cannot run out of stack: what it walks
    came from msgspec, which may have nested it as deep as the recursion limit.
    """
    steps: list[Any] = list(path)
    if type(value) is int:
        _check_int(value, steps)
        return
    if not isinstance(value, (dict, list)):
        return
    if len(steps) >= MAX_DEPTH:
        _too_deep_at(steps)
    iterators: list[Iterator[tuple[Any, Any]]] = [_items(value)]
    steps.append(None)
    while iterators:
        for key, item in iterators[-1]:
            steps[-1] = key
            if type(item) is int:
                _check_int(item, steps)
            elif isinstance(item, (dict, list)):
                if len(steps) >= MAX_DEPTH:
                    _too_deep_at(steps)
                iterators.append(_items(item))
                steps.append(None)
                break
        else:
            iterators.pop()
            steps.pop()


def _items(container: dict[str, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(container.items()) if isinstance(container, dict) else enumerate(container)


def _check_int(value: int, steps: list[Any]) -> None:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _FreeFormError("Integer out of range (signed 64 bits)", steps)


def _too_deep_at(steps: list[Any]) -> None:
    raise _FreeFormError(f"JSON is nested more than {MAX_DEPTH} levels deep", steps)


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
    if "index" not in obj:
        raise _FreeFormError("Object missing required field `index`", list(path))
    index = obj["index"]
    if type(index) is not int:
        raise _FreeFormError(f"Expected `int`, got `{_refusal.json_kind(index)}`", [*path, "index"])


# By member set: ``Nullable[StepDetailsDelta]`` is a flat union of the same
# members plus None and UnsetType, no longer the ``StepDetailsDelta`` object.
_FALLBACKS = {frozenset(_members(union)): fallback for union, fallback in FALLBACKS.items()}


def _walk(obj: Any, tp: Any, path: tuple[Any, ...], fixups: _Fixups) -> Any:
    """Find the values to keep as parsed in ``obj`` (parsed untyped) by following ``tp``.

    Those are unknown union members and free-form values that are not scalars.
    Each is checked (``_check_free_form``), recorded in ``fixups`` with its
    JSON path and replaced in ``obj`` by a placeholder the typed conversion
    accepts; returns the placeholder if ``obj`` itself is one.
    """
    if _is_free_form(tp):
        _check_free_form(obj, path)
        if isinstance(obj, (dict, list)):
            fixups.append((path, obj))
            return _FREE_FORM_PLACEHOLDER
        return None
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
            _check_free_form(obj, path)
            fixups.append((path, unknown_cls(obj)))
            return dict(placeholder)
        if len(structs) > 1:
            structs = [m for m in structs if _tag_of(m) == tag]
        if structs:
            cls = structs[0]
            for _name, encode_name, ftype in _struct_fields(cls):
                if encode_name in obj:
                    new = _walk(obj[encode_name], ftype, (*path, encode_name), fixups)
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


# Any scalar the fast decoder accepts for a free-form value would do.
_FREE_FORM_PLACEHOLDER = ""


@cache
def _is_free_form(tp: Any) -> bool:
    return any(meta is FREE_FORM for meta in getattr(tp, "__metadata__", ()))


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
