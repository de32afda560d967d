"""Find where in a JSON document an error happened: used on error paths only.

Once stepwire knows where in the bytes a decode went wrong (``_scan`` finds
the first defect, ``deepest`` the nesting), this module names the place as a
JSON path (``$.data[3].step_details.tool_calls[0].function.name``), and, for
a refused value found in the parsed document (``_refusal``), finds its byte
offset (``offset_of``). It scans the raw bytes again, in pure Python and
without recursion, so that it works on input nested too deeply for msgspec
and with little stack left. A decode that succeeds never runs it, so its
speed only matters for hostile input: it is linear in the bytes scanned.

The scanner tolerates malformed input (it never raises, and every step moves
forward); it tracks only what a path needs: containers, keys and indexes.

Paths are written as msgspec writes them, ``.name`` for keys and ``[i]`` for
indexes, except that a key that is not an identifier is quoted
(``["content-type"]``) where msgspec writes ``[...]``. To keep messages short,
a run of at least four identical steps is written once with a count
(``$.x[0]{64}`` is ``$.x`` then ``[0]`` 64 times), long keys are cut, and what
is still longer than ``MAX_PATH_STEPS`` steps keeps its first and last steps around
``<...N levels...>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Union

from ._limits import MAX_PATH_STEPS

__all__ = ["deepest", "end_of", "format_path", "key_at", "offset_of", "path_at", "prune"]

#: One step of a path: an array index, or an object key.
Step = Union[int, str]

_MAX_KEY = 40
_MIN_RUN = 4

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# One token after optional whitespace: an opening bracket, a closing one, a
# comma, a colon, a quote (the string is matched separately), or a run of
# anything else (numbers, literals and garbage alike).
_TOKEN = re.compile(rb'[ \t\r\n]*(?:([\[{])|([\]}])|(,)|(:)|(")|([^ \t\r\n\[\]{},:"]+))')
# The rest of a string after its opening quote ("unrolled" so it cannot backtrack).
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)

_OPEN, _CLOSE, _COMMA, _COLON, _STRING, _SCALAR = range(1, 7)


def _tokens(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(kind, start, end)`` of each token; an unterminated string runs to the end."""
    pos = 0
    size = len(data)
    match = _TOKEN.match
    string_rest = _STRING_REST.match
    while pos < size:
        m = match(data, pos)
        kind = m.lastindex if m is not None else None
        if m is None or kind is None:  # only whitespace is left
            return
        start = m.start(kind)
        end = m.end()
        if kind == _STRING:
            rest = string_rest(data, end)
            end = rest.end() if rest is not None else size
        yield kind, start, end
        pos = end


class _Frames:
    """The open containers at one point of the scan, and how to name the spot."""

    __slots__ = ("_pending", "data", "key_next", "steps")

    def __init__(self, data: bytes) -> None:
        self.data = data
        # Per open container: its current index (array), or the span of the
        # current key (object; None before the first colon and after a comma).
        self.steps: list[int | tuple[int, int] | None] = []
        self.key_next: list[bool] = []  # per container: is a key expected next?
        self._pending: tuple[int, int] | None = None

    def feed(self, kind: int, start: int, end: int) -> None:
        steps = self.steps
        if kind == _OPEN:
            is_object = self.data[start] == 0x7B  # "{"
            steps.append(None if is_object else 0)
            self.key_next.append(is_object)
        elif kind == _CLOSE:
            if steps:
                steps.pop()
                self.key_next.pop()
        elif kind == _COMMA:
            if steps:
                top = steps[-1]
                if isinstance(top, int):
                    steps[-1] = top + 1
                else:
                    steps[-1] = None
                    self.key_next[-1] = True
        elif kind == _COLON:
            if steps and self.key_next[-1]:
                steps[-1] = self._pending
                self.key_next[-1] = False
        elif kind == _STRING and self.key_next and self.key_next[-1]:
            self._pending = (start + 1, end - 1)

    def steps_now(self) -> list[Step]:
        """The steps of the value at this point of the scan."""
        steps: list[Step] = []
        data = self.data
        for step in self.steps:
            if isinstance(step, int):
                steps.append(step)
            elif step is not None:
                steps.append(_key(data[step[0] : step[1]]))
        return steps

    def path(self) -> str:
        """The path of the value at this point of the scan."""
        return format_path(self.steps_now())


def _key(raw: bytes) -> str:
    try:
        key = json.loads(b'"' + raw + b'"')
    except ValueError:  # bad escape, bad UTF-8, control character: show what is there
        return raw.decode("utf-8", "replace")
    return key if isinstance(key, str) else raw.decode("utf-8", "replace")


def key_at(data: bytes, span: tuple[int, int]) -> str:
    """The object key whose text (between its quotes) is ``data[span[0]:span[1]]``."""
    return _key(data[span[0] : span[1]])


def path_at(data: bytes, offset: int) -> str:
    """Return the path of the value at byte ``offset`` of ``data``.

    The value at an offset is the innermost one whose bytes hold it, or, between
    values, the one the parser expects there (``[1,}`` at the ``}``: ``$[1]``).
    Within an object's key (where no member has started yet), it is the object.

    Parameters
    ----------
    data : bytes
        The document, possibly malformed or truncated.
    offset : int
        A byte offset; ``len(data)`` names the value left open at the end.

    Returns
    -------
    str
        A formatted path (see the module docstring).
    """
    frames = _Frames(data)
    for kind, start, end in _tokens(data):
        if end > offset:
            break
        frames.feed(kind, start, end)
    return frames.path()


def offset_of(data: bytes, steps: Sequence[Step]) -> int | None:
    """Return the byte offset where the value at path ``steps`` starts in ``data``.

    The inverse of ``path_at`` for values that are there: used to give a
    refusal found in the parsed value (``_refusal``) its place in the bytes.
    An object key that occurs twice names its last occurrence, the one a
    parser keeps.

    Parameters
    ----------
    data : bytes
        The document (well-formed: it was parsed).
    steps : sequence of int or str
        Indexes and keys from the root.

    Returns
    -------
    int or None
        The offset of the value's first byte; None if there is no such value.
    """
    try:
        return _descend(data, steps)
    except (IndexError, ValueError, AttributeError):  # not well-formed: no place to name
        return None


_WS = re.compile(rb"[ \t\r\n]*")
# Up to the next byte that matters for skipping a container: a quote or a bracket.
_TO_BRACKET_OR_QUOTE = re.compile(rb'[^"\[\]{}]*')
_SCALAR_REST = re.compile(rb"[^ \t\r\n,\]}]*")


def _descend(data: bytes, steps: Sequence[Step]) -> int | None:
    """``offset_of`` for a well-formed document: skips whole values at C speed.

    Only brackets cost a step of Python each; strings and scalars are skipped
    by regular expressions. Raises IndexError, ValueError or AttributeError (a
    string left open) on malformed input.
    """
    pos = _WS.match(data, 0).end()  # type: ignore[union-attr]
    for step in steps:
        if isinstance(step, int):
            if data[pos] != 0x5B:  # "["
                return None
            pos = _WS.match(data, pos + 1).end()  # type: ignore[union-attr]
            for _ in range(step):
                if data[pos] == 0x5D:
                    return None
                pos = _WS.match(data, _skip_value(data, pos)).end()  # type: ignore[union-attr]
                if data[pos] != 0x2C:  # ","
                    return None
                pos = _WS.match(data, pos + 1).end()  # type: ignore[union-attr]
            if data[pos] == 0x5D:
                return None
            continue
        if data[pos] != 0x7B:  # "{"
            return None
        pos = _WS.match(data, pos + 1).end()  # type: ignore[union-attr]
        found = -1
        while data[pos] != 0x7D:
            key_end = _STRING_REST.match(data, pos + 1).end()  # type: ignore[union-attr]
            raw = data[pos + 1 : key_end - 1]
            pos = _WS.match(data, key_end).end()  # type: ignore[union-attr]
            if data[pos] != 0x3A:  # ":"
                raise ValueError("expected ':'")
            pos = _WS.match(data, pos + 1).end()  # type: ignore[union-attr]
            if (raw.decode("utf-8", "replace") if b"\\" not in raw else _key(raw)) == step:
                found = pos  # the last occurrence wins, as a parser's does
            pos = _WS.match(data, _skip_value(data, pos)).end()  # type: ignore[union-attr]
            if data[pos] == 0x2C:
                pos = _WS.match(data, pos + 1).end()  # type: ignore[union-attr]
        if found < 0:
            return None
        pos = found
    return pos


def end_of(data: bytes, offset: int) -> int:
    """The offset just past the value that starts at ``offset`` (as ``offset_of`` gives)."""
    return _skip_value(data, offset)


def _skip_value(data: bytes, pos: int) -> int:
    """The offset just past the value starting at ``pos``."""
    c = data[pos]
    if c == 0x22:
        return _STRING_REST.match(data, pos + 1).end()  # type: ignore[union-attr]
    if c not in (0x5B, 0x7B):
        return _SCALAR_REST.match(data, pos).end()  # type: ignore[union-attr]
    depth = 0
    while True:
        c = data[pos]
        if c == 0x22:
            pos = _STRING_REST.match(data, pos + 1).end()  # type: ignore[union-attr]
        else:
            depth += 1 if c in (0x5B, 0x7B) else -1
            pos += 1
            if depth == 0:
                return pos
        pos = _TO_BRACKET_OR_QUOTE.match(data, pos).end()  # type: ignore[union-attr]


def prune(data: bytes, limit: int) -> bytes:
    """Return ``data`` with every object or array nested past ``limit`` replaced by ``null``.

    For explaining a refusal in a document too deep to parse untyped: the
    typed parts of a run step lie far above ``limit`` (``MAX_DEPTH``), so
    what goes is only ever free-form or ignored, and every path above it, and
    every byte offset of the original, still holds.
    """
    out: list[bytes] = []
    depth = 0
    copied = 0  # data[:copied] is accounted for in out
    skip_from = -1  # the opening byte of the container being dropped
    for kind, start, end in _tokens(data):
        if kind == _OPEN:
            depth += 1
            if depth == limit + 1:
                skip_from = start
        elif kind == _CLOSE and depth:
            depth -= 1
            if depth == limit and skip_from >= 0:
                out.append(data[copied:skip_from])
                out.append(b"null")
                copied = end
                skip_from = -1
    out.append(data[copied:])
    return b"".join(out)


def deepest(data: bytes, limit: int) -> tuple[int, int]:
    """Find the deepest nesting of ``data``, counting open objects and arrays.

    Parameters
    ----------
    data : bytes
        The document.
    limit : int
        The nesting allowed. Where the document goes deeper, the answer is the
        container that first crosses ``limit`` on the way to the deepest point:
        the crossing is what the caller reports, the depth says how far it went.

    Returns
    -------
    offset : int
        The byte offset of the crossing container's opening bracket; if
        nothing crosses ``limit``, of the first container at the greatest depth
        (-1 when there is no container at all).
    depth : int
        The greatest depth reached (1 for ``[]``).
    """
    depth = 0
    best_depth = 0
    best_offset = -1
    crossing = -1
    for kind, start, _end in _tokens(data):
        if kind == _OPEN:
            depth += 1
            if depth == limit + 1:
                crossing = start
            if depth > best_depth:
                best_depth = depth
                best_offset = crossing if depth > limit else start
        elif kind == _CLOSE and depth:
            depth -= 1
    return best_offset, best_depth


def format_path(steps: Sequence[Step]) -> str:
    """Write a path from its steps (see the module docstring for the abbreviations).

    Parameters
    ----------
    steps : sequence of int or str
        Indexes and keys from the document root.

    Returns
    -------
    str
        ``$`` followed by the steps, such as ``$.data[3].id``.
    """
    parts: list[str] = []
    counts: list[int] = []
    for step in steps:
        part = _format_step(step)
        if parts and parts[-1] == part:
            counts[-1] += 1
        else:
            parts.append(part)
            counts.append(1)
    pieces: list[tuple[str, int]] = []  # (text, the levels it stands for)
    for part, count in zip(parts, counts, strict=True):
        if count >= _MIN_RUN:
            pieces.append((f"{part}{{{count}}}", count))
        else:
            pieces.extend([(part, 1)] * count)
    if len(pieces) > MAX_PATH_STEPS + 2:  # hide at least three: the marker is no shorter
        half = MAX_PATH_STEPS // 2
        hidden = sum(levels for _, levels in pieces[half:-half])
        pieces[half:-half] = [(f"<...{hidden} levels...>", hidden)]
    return "$" + "".join(text for text, _ in pieces)


def _format_step(step: Step) -> str:
    if isinstance(step, int):
        return f"[{step}]"
    if _IDENTIFIER.match(step) and len(step) <= _MAX_KEY:
        return f".{step}"
    if len(step) > _MAX_KEY:
        step = step[: _MAX_KEY - 3] + "..."
    # A backtick would end the path early for a reader of the message.
    return "[" + json.dumps(step).replace("`", "\\u0060") + "]"
