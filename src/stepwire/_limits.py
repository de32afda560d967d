"""Every limit stepwire enforces, in one place (docs/limits.md says why each exists).

The public ones are exported as ``stepwire.MAX_*``; an accumulator's and
``iter_lines``' defaults come from here, and so do the bounds the merge and
the error paths enforce.
"""

from __future__ import annotations

__all__ = [
    "MAX_DEPTH",
    "MAX_EVENT_BYTES",
    "MAX_INDEX",
    "MAX_INDEX_GAP",
    "MAX_LINE_BYTES",
    "MAX_PATH_STEPS",
    "MAX_RETRY_DIGITS",
    "MAX_STEPS",
    "check_limit",
]

#: The deepest nesting, counting every object and array from the document
#: root, of a free-form value stepwire keeps (unknown objects, ``attributes``).
MAX_DEPTH = 64

#: The longest NDJSON line ``iter_lines`` reads, by default.
MAX_LINE_BYTES = 16 * 1024 * 1024

#: The largest event data (and line) an accumulator buffers, by default.
MAX_EVENT_BYTES = 16 * 1024 * 1024

#: The most step snapshots an accumulator keeps, by default.
MAX_STEPS = 10_000

#: Indexes a delta may use in a list merged by index (tool calls, code
#: outputs, indexed lists of open maps) are below ``MAX_INDEX``; for tool
#: calls and outputs, at most ``MAX_INDEX_GAP`` past the list's current
#: length. A stream cannot grow a list past ``MAX_INDEX`` items, nor open
#: calls far ahead of the ones it has.
MAX_INDEX = 65_536
#: How far past a list's current length a tool-call or output index may reach
#: (see ``MAX_INDEX``).
MAX_INDEX_GAP = 1024

#: A longer ``retry:`` (over 31 million years, in milliseconds) is ignored:
#: ``int()`` refuses very long digit strings, and no client could wait it.
MAX_RETRY_DIGITS = 18

#: The most steps an error's JSON path shows; a deeper one keeps its first
#: and last steps around a marker (``$.x[0]{64}``).
MAX_PATH_STEPS = 24


def check_limit(name: str, value: object) -> int:
    """A limit given by a caller: a positive ``int`` (``TypeError`` or ``ValueError`` if not)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value
