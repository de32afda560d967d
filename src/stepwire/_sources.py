"""Run steps out of any input: NDJSON, a JSON body, or a captured event stream.

The kind is told by content, from the first non-blank line:

* a line that is a whole JSON object: NDJSON, of steps, or of pages when that
  object is a page (``"object": "list"``), whose steps are taken in order;
* a ``{`` or ``[`` that does not close on its line: one JSON document (a
  pretty-printed page, step, or array of steps), read whole;
* an SSE field (``event:``, ``data:``, ``id:``, ``retry:``, or a ``:``
  comment): a ``text/event-stream`` capture, merged by an ``Accumulator``,
  whose final snapshots are the steps;
* anything else: NDJSON, whose lines then fail one by one.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from typing import IO, Any

import msgspec

from ._accumulate import Accumulator
from ._decode import Buffer, _decoder
from ._errors import DecodeError, StepwireError, StreamError
from ._limits import check_limit
from ._model import RunStep, RunStepPage
from ._ndjson import OnError, _numbered_lines, resolve_on_error
from ._open import open_binary

__all__ = ["DOCUMENT", "NDJSON", "PAGES", "SSE", "detect", "steps_of"]

NDJSON, PAGES, DOCUMENT, SSE = "ndjson", "pages", "json", "sse"
_BOM = b"\xef\xbb\xbf"
_SSE_FIELDS = (b"event:", b"data:", b"id:", b"retry:", b":")
_SSE_CHUNK = 1 << 16


class _Probe(msgspec.Struct):
    """Enough of a first line to tell a page from a step."""

    object: Any = None


_PROBE = msgspec.json.Decoder(_Probe)


def detect(first_line: Buffer) -> str:
    """The kind of input whose first non-blank line (without its line end) this is."""
    head = bytes(first_line).lstrip(b" \t").removeprefix(_BOM)
    if head.startswith((b"{", b"[")):
        try:
            probe = _PROBE.decode(first_line)
        except msgspec.ValidationError:  # an array, or an object of another shape
            return NDJSON
        except msgspec.DecodeError:
            return DOCUMENT
        return PAGES if probe.object == "list" else NDJSON
    if head.startswith(_SSE_FIELDS):
        return SSE
    return NDJSON


def steps_of(
    source: Any, *, strict: bool, on_error: OnError, max_line_bytes: int
) -> Iterator[RunStep]:
    """Every run step of ``source``, in input order (see the module's docstring)."""
    limit = check_limit("max_line_bytes", max_line_bytes)
    handler = resolve_on_error(on_error)
    if isinstance(source, (bytes, bytearray, memoryview)):
        # Buffered: open_binary peeks at the first bytes for compression.
        source = io.BufferedReader(io.BytesIO(bytes(source)))  # type: ignore[arg-type]
    with open_binary(source) as file:
        lines = _numbered_lines(file, limit)
        first = next(lines, None)
        if first is None:
            return
        lineno, line = first
        kind = NDJSON if line is None else detect(line)
        if kind == SSE:
            assert line is not None
            yield from _snapshots(bytes(line) + b"\n", file, handler)
        elif kind == DOCUMENT:
            assert line is not None
            yield from _document(bytes(line) + b"\n" + file.read(), lineno, strict)
        else:
            tp = RunStepPage if kind == PAGES else RunStep
            decode = _decoder(tp, bool(strict))._decode
            for numbered in itertools.chain([first], lines):
                yield from _record(kind, decode, numbered, handler, limit)


def _record(
    kind: str,
    decode: Callable[[Buffer, int | None], Any],
    numbered: tuple[int, Buffer | None],
    handler: Callable[[DecodeError], object] | None,
    limit: int,
) -> Iterator[RunStep]:
    lineno, line = numbered
    try:
        if line is None:
            raise DecodeError(f"line longer than max_line_bytes ({limit} bytes)", line=lineno)
        value = decode(line, lineno)
    except DecodeError as exc:
        if handler is None:
            raise
        handler(exc)
        return
    if kind == PAGES:
        yield from value.data
    else:
        yield value


def _document(body: bytes, lineno: int, strict: bool) -> Iterator[RunStep]:
    """One JSON document: a page, a step, or an array of steps."""
    head = body.lstrip().removeprefix(_BOM).lstrip()
    if head.startswith(b"["):
        yield from _decoder(list[RunStep], bool(strict)).decode(body)
        return
    try:
        probe = _PROBE.decode(body)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"not a JSON document: {exc}", line=lineno) from None
    if probe.object == "list":
        yield from _decoder(RunStepPage, bool(strict)).decode(body).data
    else:
        yield _decoder(RunStep, bool(strict)).decode(body)


def _snapshots(
    head: bytes, file: IO[bytes], handler: Callable[[StepwireError], object] | None
) -> Iterator[RunStep]:
    """The final snapshot of every step of an event stream, in the order they began."""
    acc = Accumulator()
    _feed(acc, head, handler)
    while chunk := file.read(_SSE_CHUNK):
        _feed(acc, chunk, handler)
    _feed(acc, None, handler)
    yield from acc.steps.values()


def _feed(
    acc: Accumulator, chunk: bytes | None, handler: Callable[[StepwireError], object] | None
) -> None:
    """Feed ``chunk`` (close at ``None``), each bad event to ``handler``."""
    while True:
        try:
            if chunk is None:
                acc.close()
            else:
                acc.feed(chunk)
            return
        except StreamError as exc:
            if handler is None:
                raise
            handler(exc)
            if chunk is None:
                return
            # The accumulator kept what follows the bad event: an empty feed goes on.
            chunk = b""
