"""Everything stepwire knows about how msgspec fails, and nothing else does.

stepwire decides what went wrong, and where, from its own reading of the
input (``_scan`` for the bytes, ``_refusal`` for the values). Of msgspec it
only needs to know *that* something failed, and of which broad kind: a value
refused by its type (``ValidationError``), or bytes that did not parse
(anything else). Which exception classes stand for which kind has changed
between releases (invalid UTF-8 was a ``UnicodeDecodeError`` up to 0.22 and is
a ``msgspec.DecodeError`` since 0.23), and so has their text; keeping that
knowledge here keeps one module to check against each release, and
``tests/test_decode_errors.py`` runs on every release the declared range
admits (``make ci LEGS=msgspec-releases``, docs/ci.md).

msgspec's own message is kept only as a detail (``detail``), where stepwire
has nothing better to say; it is never parsed.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "FAILURES",
    "accepts_number",
    "converts",
    "detail",
    "is_refusal",
    "is_stack_exhausted",
    "parse",
]

#: Everything decoding JSON with msgspec may raise for bad input: its own two
#: errors; ``UnicodeError`` for invalid UTF-8 in a string it builds (before
#: 0.23) or for a ``str`` argument holding a lone surrogate, which it cannot
#: encode; ``RecursionError`` for nesting deeper than the stack allows.
FAILURES: tuple[type[BaseException], ...] = (
    msgspec.DecodeError,
    msgspec.ValidationError,
    UnicodeError,
    RecursionError,
)


def is_refusal(exc: BaseException) -> bool:
    """Whether msgspec refused a value for its type (rather than failing to parse).

    A refusal while parsing untyped (a number it cannot hold) is one too: the
    caller tells the two apart by parsing untyped itself (``parse``).
    """
    return isinstance(exc, msgspec.ValidationError)


def is_stack_exhausted(exc: BaseException) -> bool:
    """Whether the failure was the Python stack running out (nesting, or a deep caller)."""
    return isinstance(exc, RecursionError)


def parse(data: bytes) -> tuple[Any, BaseException | None]:
    """Parse ``data`` untyped: ``(value, None)``, or ``(None, the failure)``."""
    try:
        return msgspec.json.decode(data), None
    except FAILURES as exc:
        return None, exc


def converts(value: Any, tp: Any) -> bool:
    """Whether msgspec accepts ``value`` (parsed untyped) as ``tp``: yes or no, nothing more."""
    try:
        msgspec.convert(value, tp)
    except (msgspec.ValidationError, RecursionError):
        return False
    return True


def accepts_number(token: bytes) -> bool:
    """Whether msgspec can hold the number ``token`` (a float that overflows, an int too long)."""
    try:
        msgspec.json.decode(token)
    except FAILURES:
        return False
    return True


def detail(exc: BaseException) -> str:
    """msgspec's own words for a failure, to show beside stepwire's (never to parse)."""
    return str(exc) or type(exc).__name__
