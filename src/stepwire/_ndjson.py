"""Newline-delimited JSON: ``decode_lines`` over a buffer, ``iter_lines`` over a file.

Both take the model type of their lines (``type=``) and a policy for bad lines
(``on_error=``): raise the first, skip them, or hand each ``DecodeError`` to a
callable and go on with the next line. Line numbers count every line of the
input, blank ones included, whatever was skipped before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from typing import IO, Any, Literal, TypeVar, Union, overload

from ._decode import Buffer, Decoder, _decoder
from ._errors import DecodeError
from ._limits import MAX_LINE_BYTES, check_limit
from ._model import RunStep
from ._open import open_binary

__all__ = [
    "OnError",
    "Source",
    "block_lines",
    "decode_lines",
    "iter_lines",
    "resolve_on_error",
    "too_long",
]

T = TypeVar("T")

#: What to do with a bad line: ``"raise"`` it, ``"skip"`` it, or call a function with
#: its ``DecodeError`` (and go on with the next line).
OnError = Union[Literal["raise", "skip"], Callable[[DecodeError], object]]
#: An NDJSON input: a path (``.gz`` and ``.zst`` read compressed) or a binary file.
Source = Union[str, "os.PathLike[str]", IO[bytes]]

_BLANK_LINE = re.compile(rb"[^ \t\r\n]")
_BLANK_BYTES = frozenset(b" \t\r\n")


def resolve_on_error(on_error: Any) -> Callable[[Any], object] | None:
    """``None`` for ``"raise"``, else the function each bad record's error goes to."""
    if isinstance(on_error, str):
        if on_error == "raise":
            return None
        if on_error == "skip":
            return _ignore
    elif callable(on_error):
        return on_error  # type: ignore[no-any-return]
    raise ValueError(f"on_error must be 'raise', 'skip' or a callable, not {on_error!r}")


def _ignore(error: object) -> None:
    return None


def too_long(limit: int, lineno: int) -> DecodeError:
    """The error of line ``lineno``, longer than ``max_line_bytes``."""
    return DecodeError(f"line longer than max_line_bytes ({limit} bytes)", line=lineno)


def _line_decoder(tp: Any, strict: bool) -> Callable[[Buffer, int | None], Any]:
    dec: Decoder[Any] = _decoder(tp, bool(strict))
    return dec._decode


@overload
def decode_lines(buf: Buffer, *, strict: bool = ..., on_error: OnError = ...) -> list[RunStep]: ...
@overload
def decode_lines(
    buf: Buffer, *, type: type[T], strict: bool = ..., on_error: OnError = ...
) -> list[T]: ...
@overload
def decode_lines(
    buf: Buffer, *, type: Any, strict: bool = ..., on_error: OnError = ...
) -> list[Any]: ...


def decode_lines(
    buf: Buffer, *, type: Any = RunStep, strict: bool = False, on_error: OnError = "raise"
) -> list[Any]:
    """Decode newline-delimited JSON, one object per line.

    Blank lines are skipped; LF and CRLF line ends are both accepted. Lines are
    decoded in place from ``buf``, without copying them out.

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The NDJSON body.
    type : type, default RunStep
        The model type of every line: ``RunStep``, ``RunStepDeltaEvent``,
        ``RunStepSummary``, or any other type ``Decoder`` takes.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).
    on_error : "raise", "skip" or callable, default "raise"
        A bad line raises its ``DecodeError`` (``"raise"``), is left out
        (``"skip"``), or is handed to ``on_error(error)``, after which the next
        line is decoded; an exception ``on_error`` raises propagates.

    Returns
    -------
    list
        One object per non-blank line (bad lines left out unless raised).

    Raises
    ------
    DecodeError
        For the first bad line, with ``on_error="raise"``; the message starts
        with ``line N:`` (1-based, counting blank lines too).
    TypeError
        If ``buf`` is not one of the accepted types.
    """
    decode = _line_decoder(type, strict)
    handler = resolve_on_error(on_error)
    if isinstance(buf, str):
        # surrogatepass: a lone surrogate becomes bytes that are not UTF-8, so
        # its line fails like any other invalid UTF-8 (with its line number).
        buf = buf.encode("utf-8", "surrogatepass")
    elif not isinstance(buf, (bytes, bytearray, memoryview)):
        raise TypeError(f"Expected bytes, bytearray, memoryview or str, got {_name(buf)}")
    out: list[Any] = []
    _decode_block(memoryview(buf).cast("B"), decode, handler, out.append)
    return out


def _name(obj: object) -> str:
    return type(obj).__name__


def _decode_block(
    view: memoryview,
    decode: Callable[[Buffer, int | None], Any],
    handler: Callable[[DecodeError], object] | None,
    emit: Callable[[Any], object],
) -> None:
    """Decode every line of ``view`` (a last one without its ``\\n`` too), numbered from 1."""
    blank = _BLANK_LINE.search
    lineno = 1
    start = 0
    size = len(view)
    # bytes.find on a memoryview is not available; the regex engine and
    # msgspec both read the view in place.
    find = _newline_finder(view)
    while start < size:
        end = find(start)
        if end < 0:
            end = size
        if blank(view, start, end) is not None:
            # A CRLF's CR is the line end's, not the line's (a line cut inside a
            # string is truncated, not a string with a control character).
            stop = end - 1 if end < size and view[end - 1] == 0x0D else end
            if handler is None:
                emit(decode(view[start:stop], lineno))
            else:
                try:
                    emit(decode(view[start:stop], lineno))
                except DecodeError as exc:
                    handler(exc)
        lineno += 1
        start = end + 1


def _newline_finder(view: memoryview) -> Any:
    obj = view.obj
    if isinstance(obj, (bytes, bytearray)) and len(obj) == len(view):
        return lambda start: obj.find(b"\n", start)
    pattern = re.compile(rb"\n")

    def find(start: int) -> int:
        match = pattern.search(view, start)
        return match.start() if match else -1

    return find


@overload
def iter_lines(
    file: Source,
    *,
    strict: bool = ...,
    on_error: OnError = ...,
    max_line_bytes: int = ...,
) -> Iterator[RunStep]: ...
@overload
def iter_lines(
    file: Source,
    *,
    type: type[T],
    strict: bool = ...,
    on_error: OnError = ...,
    max_line_bytes: int = ...,
) -> Iterator[T]: ...
@overload
def iter_lines(
    file: Source,
    *,
    type: Any,
    strict: bool = ...,
    on_error: OnError = ...,
    max_line_bytes: int = ...,
) -> Iterator[Any]: ...


def iter_lines(
    file: Source,
    *,
    type: Any = RunStep,
    strict: bool = False,
    on_error: OnError = "raise",
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[Any]:
    """Decode an NDJSON file lazily, one object per line.

    Memory stays bounded by ``max_line_bytes``, whatever the file's size.

    Parameters
    ----------
    file : path or binary file object
        A path (``str`` or ``os.PathLike``), opened and closed here; or
        anything with ``readline`` (an ``open(path, "rb")`` file,
        ``io.BytesIO``, a socket file), left open. gzip and zstd content
        (told by its first bytes, whatever the name) is read compressed, as
        a stream; zstd needs the ``zstandard`` package (``stepwire[zstd]``)
        before Python 3.14.
    type : type, default RunStep
        The model type of every line (see ``decode_lines``).
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).
    on_error : "raise", "skip" or callable, default "raise"
        What a bad line does (see ``decode_lines``); with ``"skip"`` or a
        callable, reading goes on with the next line.
    max_line_bytes : int, default 16 MiB
        The longest line read, its ``\\n`` not counted. A longer line is a
        ``DecodeError``; it is read no further than the limit, and reading
        goes on at the start of the next line.

    Yields
    ------
    object
        One per non-blank line, of ``type``.

    Raises
    ------
    DecodeError
        For a bad or too long line, with ``on_error="raise"``; the message
        starts with ``line N:`` (1-based, counting every line of the file).
    TypeError
        If ``file`` is not a path or a binary file, or ``max_line_bytes`` not
        an int.
    ValueError
        If ``max_line_bytes`` is less than 1, or ``on_error`` is not one of
        the above.
    OSError
        If the path cannot be opened or read.
    """
    limit = check_limit("max_line_bytes", max_line_bytes)
    decode = _line_decoder(type, strict)
    handler = resolve_on_error(on_error)
    return _iter_lines(file, decode, handler, limit)


def _iter_lines(
    source: Source,
    decode: Callable[[Buffer, int | None], Any],
    handler: Callable[[DecodeError], object] | None,
    limit: int,
) -> Iterator[Any]:
    with ExitStack() as stack:
        file = stack.enter_context(open_binary(source))
        for lineno, line in _numbered_lines(file, limit):
            if line is None:
                error = too_long(limit, lineno)
                if handler is None:
                    raise error
                handler(error)
            elif handler is None:
                yield decode(line, lineno)
            else:
                try:
                    value = decode(line, lineno)
                except DecodeError as exc:
                    handler(exc)
                else:
                    yield value


# Bytes asked of the file at a time: large enough that the per-read cost vanishes,
# small enough to stay in cache. read1 returns what is there, so a live socket's lines
# come as they arrive.
_BLOCK = 1 << 18


def _numbered_lines(file: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | memoryview | None]]:
    """Each non-blank line with its number, without its line end; ``None`` if too long.

    Read with ``readline``: after each line the file is at the start of the next
    one, also after a line over the limit (which is read no further than it).
    """
    blank = _BLANK_LINE.search
    # One byte over the limit: a line of exactly `limit` bytes comes with its "\n".
    for lineno, line in enumerate(iter(partial(file.readline, limit + 1), b""), 1):
        if not isinstance(line, (bytes, bytearray)):
            raise TypeError(f"iter_lines needs a binary file; readline() gave {_name(line)}")
        if len(line) > limit and line[-1] != 0x0A:
            _skip_line(file, limit)
            yield lineno, None
        elif blank(line) is not None:
            yield lineno, _without_line_end(line)


def _without_line_end(line: bytes) -> bytes | memoryview:
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


def block_lines(file: Any, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``_numbered_lines`` read in blocks: faster, for a reader that owns the file.

    The file is read ahead of the lines handed out; memory stays bounded by
    ``limit`` and the block size.
    """
    read = getattr(file, "read1", None) or file.read
    blank = _BLANK_LINE.search
    lineno = 1
    # The start of a line the blocks so far cut into: its pieces, joined once its end
    # comes (a line over many blocks is copied once, not once a block).
    pieces: list[bytes] = []
    size = 0
    skipping = False  # inside a line over the limit, until its newline
    while True:
        block = read(_BLOCK)
        if not isinstance(block, (bytes, bytearray)):
            raise TypeError(f"Expected a binary file; read() gave {_name(block)}")
        if not block:
            break
        if skipping:
            cut = block.find(b"\n")
            if cut < 0:
                continue
            block = block[cut + 1 :]
            skipping = False
            lineno += 1
        data = bytes(block)
        # Each line found by find (memchr), not bytes.split, which looks at every byte
        # in a loop of its own: a tenth of the whole conversion's instructions.
        find = data.find
        start = 0
        end = find(b"\n")
        while end >= 0:
            if pieces:  # the block's first line, begun in the blocks before
                pieces.append(data[:end])
                line = b"".join(pieces)
                pieces.clear()
                size = 0
            else:
                line = data[start:end]
            if len(line) > limit:
                yield lineno, None
            # A record's line starts with what is not blank: the search, a call costing
            # more than the rest of the loop, is for the other lines.
            elif (line and line[0] not in _BLANK_BYTES) or blank(line) is not None:
                yield lineno, line[:-1] if line.endswith(b"\r") else line
            lineno += 1
            start = end + 1
            end = find(b"\n", start)
        last = data[start:]
        if last:
            pieces.append(last)
            size += len(last)
            if size > limit:
                yield lineno, None
                skipping = True
                pieces.clear()
                size = 0
    tail = b"".join(pieces)
    if blank(tail) is not None and not skipping:
        yield lineno, tail[:-1] if tail.endswith(b"\r") else tail
