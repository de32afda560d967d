"""Turn a failed decode into a DecodeError that says what, where, and at which byte.

Runs only once msgspec has failed, and decides from stepwire's own reading
of the input, never from msgspec's message:

- a value refused for its type: the document is parsed untyped and walked
  against the type (``_refusal``); the refused value's offset is found in the
  bytes (``_locate.offset_of``);
- bytes that are not JSON, or that parse untyped but hold a number msgspec
  cannot: the first defect in document order (``_scan``);
- the stack running out: where the nesting crosses ``MAX_DEPTH``
  (``_locate.deepest``).

Only ``_failures`` knows msgspec's exception classes.
"""

from __future__ import annotations

from typing import Any

from . import _failures, _locate, _refusal, _scan
from ._errors import DecodeError

__all__ = ["MAX_DEPTH", "as_bytes", "diagnose", "error_at"]

#: The deepest nesting, counting every object and array from the document
#: root, of a free-form value stepwire keeps (unknown objects, ``attributes``).
MAX_DEPTH = 64

#: ``diagnose(parsed=...)`` default: the document has not been parsed untyped yet.
_NOT_PARSED: Any = object()


def as_bytes(buf: Any) -> bytes:
    """The document as the bytes msgspec read (offsets are UTF-8 byte offsets)."""
    if isinstance(buf, str):
        # surrogatepass: a lone surrogate is exactly what we may be reporting
        return buf.encode("utf-8", "surrogatepass")
    return bytes(buf)


def error_at(reason: str, data: bytes, offset: int | None, line: int | None) -> DecodeError:
    """A DecodeError for a defect at byte ``offset`` of ``data`` (its path found there)."""
    path = _locate.path_at(data, offset if offset is not None else 0)
    return DecodeError(reason, path=path, offset=offset, line=line)


def diagnose(
    exc: BaseException,
    buf: Any,
    tp: Any,
    *,
    line: int | None = None,
    parsed: Any = _NOT_PARSED,
) -> DecodeError:
    """Say what went wrong when decoding ``buf`` as ``tp`` raised ``exc``.

    Parameters
    ----------
    exc : BaseException
        What msgspec raised (one of ``_failures.FAILURES``).
    buf : bytes, bytearray, memoryview or str
        The document.
    tp : type or None
        The type it was decoded as; None for an untyped parse.
    line : int, optional
        The NDJSON line number.
    parsed : object, optional
        The document already parsed untyped, if the caller has it.
    """
    data = as_bytes(buf)
    try:
        return _diagnose(exc, buf, data, tp, line, parsed)
    except RecursionError:
        # The caller left too little stack even for the (iterative) scans.
        return DecodeError(
            "JSON could not be decoded: the Python stack is exhausted", path="$", line=line
        )


def _diagnose(
    exc: BaseException, buf: Any, data: bytes, tp: Any, line: int | None, parsed: Any
) -> DecodeError:
    if _failures.is_stack_exhausted(exc):
        return _too_deep(data, line)
    if _failures.is_refusal(exc) and tp is not None:
        if parsed is _NOT_PARSED:
            parsed, failure = _failures.parse(data)
            if failure is not None and _failures.is_stack_exhausted(failure):
                # Too deep to parse untyped, yet refused for its type before
                # the nesting: explain it on the document with the depths cut.
                parsed, _ = _failures.parse(_locate.prune(data, MAX_DEPTH))
                if parsed is not None:
                    failure = None
            if failure is not None:  # it did not parse after all: the bytes are to blame
                return _diagnose(failure, buf, data, None, line, _NOT_PARSED)
        steps, reason = _refusal.explain(parsed, tp)
        if reason is None:
            reason = f"Invalid value ({_failures.detail(exc)})"
        return DecodeError(
            reason,
            path=_locate.format_path(steps),
            offset=_locate.offset_of(data, steps),
            line=line,
        )
    defect = _scan.first_defect(
        data, from_str=isinstance(buf, str), accepts_number=_failures.accepts_number
    )
    if defect is not None:
        reason, offset = defect
        return error_at(reason, data, offset, line)
    # Valid JSON by stepwire's reading, refused by msgspec's parser: say so, in its words.
    return DecodeError(f"JSON could not be decoded ({_failures.detail(exc)})", path="$", line=line)


def _too_deep(data: bytes, line: int | None) -> DecodeError:
    """Where the nesting crossed MAX_DEPTH, for a decode that ran out of stack."""
    offset, depth = _locate.deepest(data, MAX_DEPTH)
    if depth > MAX_DEPTH:
        return error_at(f"JSON is nested more than {MAX_DEPTH} levels deep", data, offset, line)
    # Nesting within the limit still ran out of stack: the caller's stack was
    # nearly exhausted already. Not the document's fault, but still no crash.
    return error_at(
        f"JSON nested {depth} levels deep exhausted the Python recursion limit",
        data,
        max(offset, 0),
        line,
    )
