"""Newline-delimited JSON: ``decode_lines`` over a buffer, ``iter_lines`` over a file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, Any

from ._decode import _STEP, Buffer, _select
from ._errors import DecodeError
from ._limits import MAX_LINE_BYTES, check_limit
from ._model import RunStep

__all__ = ["decode_lines", "iter_lines"]

_BLANK_LINE = re.compile(rb"[^ \t\r\n]")


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
    limit = check_limit("max_line_bytes", max_line_bytes)
    return _iter_lines(file, _select(_STEP, strict)._decode, limit)


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
