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
from ._limits import MAX_DEPTH

__all__ = [
    "NOT_PARSED",
    "as_bytes",
    "diagnose",
    "parse_despite",
    "patch_despite",
    "refused_at",
]


#: ``diagnose(parsed=...)`` default: the document has not been parsed untyped yet.
NOT_PARSED: Any = object()


def as_bytes(buf: Any) -> bytes:
    """The document as the bytes msgspec read (offsets are UTF-8 byte offsets)."""
    if isinstance(buf, str):
        # surrogatepass: a lone surrogate is exactly what we may be reporting
        return buf.encode("utf-8", "surrogatepass")
    return bytes(buf)


def refused_at(
    reason: str, data: bytes, steps: list[_locate.Step], line: int | None
) -> DecodeError:
    """A DecodeError for the value at path ``steps`` of ``data`` (its offset found there)."""
    return DecodeError(
        reason, path=_locate.format_path(steps), offset=_locate.offset_of(data, steps), line=line
    )


def diagnose(
    exc: BaseException,
    buf: Any,
    tp: Any,
    *,
    line: int | None = None,
    parsed: Any = NOT_PARSED,
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
    steps: list[_locate.Step] | None = None  # where a refused value is, if found
    if _failures.is_refusal(exc) and tp is not None:
        if parsed is NOT_PARSED:
            parsed = parse_despite(data)
        if parsed is not NOT_PARSED:
            steps, reason = _refusal.explain(parsed, tp)
            if reason is not None:
                return refused_at(reason, data, steps, line)
        # No value to blame: the bytes are (a number msgspec cannot hold, say).
    defect = _scan.first_defect(
        data, from_str=isinstance(buf, str), accepts_number=_failures.accepts_number
    )
    if defect is not None:
        reason, offset, where = defect
        return DecodeError(reason, path=_locate.format_path(where), offset=offset, line=line)
    # Refused by msgspec for a reason stepwire does not know: say so, in its words.
    if steps is not None:
        return refused_at(f"Invalid value ({_failures.detail(exc)})", data, steps, line)
    return DecodeError(f"JSON could not be decoded ({_failures.detail(exc)})", path="$", line=line)


#: How many numbers ``parse_despite`` replaces before giving up.
_MAX_PATCHES = 64


def parse_despite(data: bytes) -> Any:
    """Parse ``data`` untyped for explaining a refusal, despite what is not the refusal.

    A typed decode skips ignored fields, so it may refuse a value before,
    or without ever, meeting what an untyped parse cannot take: nesting
    past the stack (those containers become ``null``) and numbers msgspec
    cannot hold (those become ``0``). Neither is where a typed field lies
    deep, so every path to a typed value still holds. Returns
    ``NOT_PARSED`` when the bytes themselves are malformed.
    """
    patched = patch_despite(data)
    return NOT_PARSED if patched is None else patched[1]


def patch_despite(data: bytes) -> tuple[bytes, Any] | None:
    """``data`` patched as ``parse_despite`` says, and its untyped parse; None if malformed."""
    for _ in range(_MAX_PATCHES):
        parsed, failure = _failures.parse(data)
        if failure is None:
            return data, parsed
        if _failures.is_stack_exhausted(failure):
            pruned = _locate.prune(data, MAX_DEPTH)
            if pruned == data:
                break
            data = pruned
            continue
        defect = _scan.first_defect(data, from_str=False, accepts_number=_failures.accepts_number)
        if defect is None or defect[0] != _scan.OUT_OF_RANGE or defect[1] is None:
            break
        data = _scan.replace_number(data, defect[1], b"0")
    return None


def _too_deep(data: bytes, line: int | None) -> DecodeError:
    """Where the nesting crossed MAX_DEPTH, for a decode that ran out of stack."""
    offset, depth = _locate.deepest(data, MAX_DEPTH)
    if depth > MAX_DEPTH:
        reason = f"JSON is nested more than {MAX_DEPTH} levels deep"
    else:
        # Nesting within the limit still ran out of stack: the caller's stack was
        # nearly exhausted already. Not the document's fault, but still no crash.
        reason = f"JSON nested {depth} levels deep exhausted the Python recursion limit"
        offset = max(offset, 0)
    return DecodeError(reason, path=_locate.path_at(data, offset), offset=offset, line=line)
