"""Find the first byte where a document stops being JSON: used on error paths only.

When msgspec fails to parse a body, stepwire reads the bytes itself to say
what is wrong and where, so that its errors do not depend on how a given
msgspec release words (or classifies) the failure. The reading follows
RFC 8259 (UTF-8 text included) plus the two limits msgspec adds to it: no
lone UTF-16 surrogate escapes, and no number it cannot hold (asked of msgspec
number by number, so that the limit is always the installed release's).

The scanner is iterative (nesting costs no stack), linear in the bytes it
reads, never raises, and stops at the first defect. Nesting depth is not a
defect here: ``_locate.deepest`` measures it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Union

from . import _locate
from ._locate import Step

__all__ = ["Defect", "first_defect", "replace_number"]

#: What is wrong, the byte offset where it is (None for empty input), and the
#: path of the value being read there.
Defect = tuple[str, Union[int, None], list[Step]]

# A defect's reason and offset, before its path is known.
_Found = tuple[str, Union[int, None]]

MALFORMED = "JSON is malformed"
TRUNCATED = "JSON is truncated"
EMPTY = "JSON input is empty"
OUT_OF_RANGE = "Number out of range"

_WS = re.compile(rb"[ \t\r\n]*")
# A run of string content that needs no further look: printable ASCII but the
# quote and the backslash, and well-formed UTF-8 sequences (no surrogates, no
# overlong forms, nothing past U+10FFFF).
_STRING_RUN = re.compile(
    rb"(?:[\x20\x21\x23-\x5b\x5d-\x7f]+"
    rb"|[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]"
    rb"|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}"
    rb"|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2})*"
)
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NUMBER_CHARS = frozenset(b"+-.0123456789eE")
_HEX = re.compile(rb"[0-9a-fA-F]{4}")
_SIMPLE_ESCAPES = frozenset(b'"\\/bfnrt')
_LITERALS = {0x74: b"true", 0x66: b"false", 0x6E: b"null"}
_CLOSER = {0x7B: 0x7D, 0x5B: 0x5D}  # "{" -> "}", "[" -> "]"
# Numbers msgspec surely holds: no exponent, and short enough for 64 bits.
_PLAIN_NUMBER = re.compile(rb"-?[0-9]{1,18}(?:\.[0-9]{1,300})?")

# What the parser expects next.
_VALUE, _FIRST_VALUE, _KEY, _FIRST_KEY, _COLON, _NEXT, _END = range(7)


def first_defect(
    data: bytes, *, from_str: bool, accepts_number: Callable[[bytes], bool]
) -> Defect | None:
    """Return the first defect of ``data`` in document order, or None if it is JSON.

    Parameters
    ----------
    data : bytes
        The document (a ``str`` argument encoded with ``surrogatepass``).
    from_str : bool
        Whether the caller passed a ``str``: encoded surrogates are then
        reported as the lone surrogates they were, not as bad UTF-8.
    accepts_number : callable
        Whether the decoder can hold a number token (``_failures.accepts_number``).

    Returns
    -------
    (reason, offset, steps) or None
        ``steps`` is the path of the value being read at the defect, as
        ``_locate.path_at`` names it: within a key, or between a comma and
        the next key, its object.
    """
    frames: list[int | tuple[int, int] | None] = []
    found = _first(data, from_str, accepts_number, frames)
    if found is None:
        return None
    steps: list[Step] = []
    for frame in frames:
        if isinstance(frame, int):
            steps.append(frame)
        elif frame is not None:
            steps.append(_locate.key_at(data, frame))
    return found[0], found[1], steps


def _first(
    data: bytes,
    from_str: bool,
    accepts_number: Callable[[bytes], bool],
    frames: list[int | tuple[int, int] | None],
) -> tuple[str, int | None] | None:
    """The first defect's reason and offset, leaving ``frames`` as they are there.

    ``frames`` holds, per open container, the index of the current item
    (array) or the span of the current key (object; None before its colon).
    """
    size = len(data)
    pos = _WS.match(data, 0).end()  # type: ignore[union-attr]
    if pos == size:
        return EMPTY, None
    stack: list[int] = []  # the open containers' opening bytes
    state = _VALUE
    key = (0, 0)
    while True:
        pos = _WS.match(data, pos).end()  # type: ignore[union-attr]
        if pos == size:
            if state == _END:
                return None
            return TRUNCATED, size
        c = data[pos]
        if state == _END:
            return f"{MALFORMED}: trailing characters", pos
        if state == _COLON:
            if c != 0x3A:  # ":"
                return f"{MALFORMED}: expected ':'", pos
            frames[-1] = key
            pos += 1
            state = _VALUE
            continue
        # The container closes: after an item, or at once (an empty one).
        if state in (_NEXT, _FIRST_KEY, _FIRST_VALUE) and c == _CLOSER[stack[-1]]:
            stack.pop()
            frames.pop()
            pos += 1
            state = _NEXT if stack else _END
            continue
        if state == _NEXT:
            if c != 0x2C:  # ","
                return f"{MALFORMED}: expected ',' or '{chr(_CLOSER[stack[-1]])}'", pos
            pos += 1
            if stack[-1] == 0x7B:
                frames[-1] = None
                state = _KEY
            else:
                frames[-1] += 1  # type: ignore[operator]
                state = _VALUE
            continue
        if state in (_KEY, _FIRST_KEY):
            if c == 0x7D:
                return f"{MALFORMED}: trailing comma in object", pos
            if c != 0x22:
                return f"{MALFORMED}: object keys must be strings", pos
            end, defect = _string(data, pos, from_str)
            if defect is not None:
                return defect
            key = (pos + 1, end - 1)
            pos = end
            state = _COLON
            continue
        # a value is expected (state _VALUE or _FIRST_VALUE)
        if c == 0x7B or c == 0x5B:  # "{" or "["
            stack.append(c)
            frames.append(None if c == 0x7B else 0)
            pos += 1
            state = _FIRST_KEY if c == 0x7B else _FIRST_VALUE
            continue
        if c == 0x22:
            end, defect = _string(data, pos, from_str)
        elif c == 0x2D or 0x30 <= c <= 0x39:
            end, defect = _number(data, pos, accepts_number)
        elif c in _LITERALS:
            end, defect = _literal(data, pos, _LITERALS[c])
        elif c == 0x5D and stack and stack[-1] == 0x5B:
            return f"{MALFORMED}: trailing comma in array", pos
        else:
            return f"{MALFORMED}: invalid character", pos
        if defect is not None:
            return defect
        pos = end
        state = _NEXT if stack else _END


def _string(data: bytes, pos: int, from_str: bool) -> tuple[int, _Found | None]:
    """Read the string whose opening quote is at ``pos``: its end, or its first defect."""
    size = len(data)
    run = _STRING_RUN.match
    i = pos + 1
    while True:
        i = run(data, i).end()  # type: ignore[union-attr]
        if i >= size:
            return i, (TRUNCATED, size)
        c = data[i]
        if c == 0x22:
            return i + 1, None
        if c == 0x5C:  # a backslash
            end, defect = _escape(data, i)
            if defect is not None:
                return end, defect
            i = end
        elif c < 0x20:
            return i, (f"{MALFORMED}: raw control character 0x{c:02x} in a string", i)
        elif from_str and c == 0xED and i + 1 < size and 0xA0 <= data[i + 1] <= 0xBF:
            return i, (f"{MALFORMED}: a lone surrogate in str input", i)
        else:
            return i, (f"{MALFORMED}: invalid UTF-8", i)


def _escape(data: bytes, i: int) -> tuple[int, _Found | None]:
    """Read the escape whose backslash is at ``i``: its end, or its defect."""
    size = len(data)
    if i + 1 >= size:
        return size, (TRUNCATED, size)
    kind = data[i + 1]
    if kind in _SIMPLE_ESCAPES:
        return i + 2, None
    if kind != 0x75:  # "u"
        return i, (f"{MALFORMED}: invalid escape character in string", i)
    code, defect = _hex4(data, i)
    if defect is not None:
        return i, defect
    if 0xDC00 <= code <= 0xDFFF:
        return i, (f"{MALFORMED}: invalid utf-16 surrogate pair (a lone low surrogate)", i)
    if not 0xD800 <= code <= 0xDBFF:
        return i + 6, None
    # A high surrogate: only a low one may follow.
    if i + 6 >= size or (data[i + 6] == 0x5C and i + 7 >= size):
        return size, (TRUNCATED, size)
    if data[i + 6 : i + 8] != b"\\u":
        return i, (f"{MALFORMED}: invalid utf-16 surrogate pair (a lone high surrogate)", i)
    low, defect = _hex4(data, i + 6)
    if defect is not None:
        return i, defect
    if not 0xDC00 <= low <= 0xDFFF:
        return i, (f"{MALFORMED}: invalid utf-16 surrogate pair (a lone high surrogate)", i)
    return i + 12, None


def _hex4(data: bytes, i: int) -> tuple[int, _Found | None]:
    """The code of the ``\\uXXXX`` escape at ``i``, or its defect."""
    digits = data[i + 2 : i + 6]
    if _HEX.fullmatch(digits):
        return int(digits, 16), None
    if len(digits) < 4 and re.fullmatch(rb"[0-9a-fA-F]*", digits):
        return 0, (TRUNCATED, len(data))
    return 0, (f"{MALFORMED}: invalid escape character in string", i)


def _number(
    data: bytes, pos: int, accepts_number: Callable[[bytes], bool]
) -> tuple[int, _Found | None]:
    match = _NUMBER.match(data, pos)
    end = match.end() if match is not None else pos
    if match is None or (end < len(data) and data[end] in _NUMBER_CHARS):
        # "-", "01", "1.", "1e", "1.5.": a number that goes wrong part way
        stop = end
        while stop < len(data) and data[stop] in _NUMBER_CHARS:
            stop += 1
        if stop == len(data):
            return stop, (TRUNCATED, len(data))
        return pos, (f"{MALFORMED}: invalid number", pos)
    token = data[pos:end]
    if _PLAIN_NUMBER.fullmatch(token) is None and not accepts_number(token):
        return pos, (OUT_OF_RANGE, pos)
    return end, None


def _literal(data: bytes, pos: int, word: bytes) -> tuple[int, _Found | None]:
    end = pos + len(word)
    got = data[pos:end]
    if got == word:
        return end, None
    if word.startswith(got):  # cut short by the end of the input
        return len(data), (TRUNCATED, len(data))
    bad = next(i for i, (a, b) in enumerate(zip(got, word, strict=False)) if a != b)
    return pos + bad, (f"{MALFORMED}: invalid character", pos + bad)


def replace_number(data: bytes, pos: int, new: bytes) -> bytes:
    """``data`` with the number token starting at ``pos`` replaced by ``new``."""
    match = _NUMBER.match(data, pos)
    end = match.end() if match is not None else pos
    return data[:pos] + new + data[end:]
