"""Run steps out of any input: NDJSON, a JSON body, or a captured event stream.

The kind is told by content, from the first non-blank line:

* a line that is ``{`` alone, or starts with ``[``: one JSON document (a
  pretty-printed page or step, or an array of steps), read whole; an array
  whole on its line is the document only if no line follows it;
* a line that starts with ``{``: NDJSON, of steps, or of pages when that line
  is a page (``"object": "list"``), whose steps are taken in order; a bad
  first line is the first bad record of the NDJSON;
* an SSE field (``event:``, ``data:``, ``id:``, ``retry:``, or a ``:``
  comment): a ``text/event-stream`` capture, merged by an ``Accumulator``,
  whose final snapshots are the steps;
* anything else: NDJSON, whose lines then fail one by one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Literal, Union, cast

import msgspec

from ._accumulate import Accumulator
from ._decode import Buffer, _decoder
from ._errors import DecodeError, StepwireError, StreamError
from ._failures import FAILURES
from ._limits import check_limit
from ._model import RunStep, RunStepPage, StepDetails
from ._ndjson import block_lines, resolve_on_error, too_long
from ._open import open_binary
from ._summary import RunStepSummary, RunStepSummaryPage

__all__ = [
    "DOCUMENT",
    "NDJSON",
    "PAGES",
    "SSE",
    "OnAnyError",
    "Reader",
    "Record",
    "detect",
    "opened",
    "records_in",
    "records_of",
]

NDJSON, PAGES, DOCUMENT, SSE = "ndjson", "pages", "json", "sse"
_BOM = b"\xef\xbb\xbf"

#: What to do with a bad record of any input: as ``OnError``, the callable receiving
#: each ``DecodeError``, or ``StreamError`` for an event stream.
OnAnyError = Union[Literal["raise", "skip"], Callable[[StepwireError], object]]
_SSE_FIELDS = (b"event:", b"data:", b"id:", b"retry:", b":")
_SSE_CHUNK = 1 << 16
_FIRST_READ = 1 << 16


class _Probe(msgspec.Struct, gc=False):
    """Enough of a first line to tell a page from a step."""

    object: Any = None


_PROBE = msgspec.json.Decoder(_Probe)
_WHOLE = msgspec.json.Decoder(msgspec.Raw)


def detect(first_line: bytes | memoryview) -> str:
    """The kind of input whose first non-blank line (without its line end) this is."""
    head = bytes(first_line).strip(b" \t\r").removeprefix(_BOM)
    if head.startswith(b"[") or head == b"{":
        return DOCUMENT
    if head.startswith(b"{"):
        try:
            probe = _PROBE.decode(first_line)
        except FAILURES:  # a bad line (or an object of another shape)
            return NDJSON
        return PAGES if probe.object == "list" else NDJSON
    if head.startswith(_SSE_FIELDS):
        return SSE
    return NDJSON


#: A step as ``records_of`` gives it: its header (a ``RunStep`` or a ``RunStepSummary``:
#: the same fields but ``step_details``), its details decoded, and the JSON they came in
#: (``None`` where there is none: a stream's merged snapshots).
Record = tuple[Union[RunStep, RunStepSummary], Any, Union[msgspec.Raw, None]]


def records_of(
    source: Any, *, strict: bool, on_error: OnAnyError, max_line_bytes: int
) -> Iterator[Record]:
    """Every run step of ``source``, as a ``Record``, in input order.

    A body is decoded as a ``RunStepSummary`` (its ``step_details`` a ``Raw``
    slice of the body), then its details: one pass over the header, and the
    details' own bytes at hand. A body either fails is decoded again whole,
    for the error the whole step gives (with its path from the step's root).
    """
    limit = check_limit("max_line_bytes", max_line_bytes)
    handler = resolve_on_error(on_error)
    with opened(source, limit) as (kind, head, file):
        yield from records_in(kind, head, file, Reader(bool(strict)), handler, limit)


def records_in(
    kind: str,
    head: bytes,
    file: IO[bytes],
    reader: Reader,
    handler: Callable[[StepwireError], object] | None,
    limit: int,
) -> Iterator[Record]:
    """The records of an input ``opened`` told the kind of (or one named ``kind``)."""
    # A byte order mark is no part of the first record (editors on Windows write one).
    head = head.removeprefix(_BOM)
    if kind == SSE:
        for step in _snapshots(head, file, handler):
            yield step, step.step_details, None
    elif kind == DOCUMENT:
        yield from reader.document(head + file.read())
    else:
        lines = block_lines(_Chain(head, file), limit)
        yield from _line_records(kind, lines, reader, handler, limit)


@contextmanager
def opened(
    source: Any, limit: int, kind: str | None = None
) -> Iterator[tuple[str, bytes, IO[bytes]]]:
    """The input's kind (``kind`` if given, else told by content), the bytes read
    to tell it, and the file to read on from."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        # Buffered: open_binary peeks at the first bytes for compression.
        source = io.BufferedReader(io.BytesIO(bytes(source)))
    with open_binary(source) as file:
        head, line = _first_line(file, limit)
        if line is None:  # nothing but blank lines, or a first line over the limit
            detected = NDJSON
        else:
            detected = detect(line)
            if detected == DOCUMENT and _whole(line) and head.strip() != line.strip():
                # An array whole on its first line, with more after it: NDJSON,
                # whose first record is a bad one (a step is an object).
                detected = NDJSON
        if kind is None or (kind == NDJSON and detected == PAGES):  # NDJSON of pages
            kind = detected
        yield kind, head, file


def _line_records(
    kind: str,
    lines: Iterable[tuple[int, bytes | None]],
    reader: Reader,
    handler: Callable[[StepwireError], object] | None,
    limit: int,
) -> Iterator[Record]:
    """The records of numbered NDJSON lines of steps, or of pages."""
    if kind == PAGES:
        for lineno, body in lines:
            yield from _records(reader.page, body, lineno, limit, handler)
        return
    if reader.whole:  # a step a decode: its details are not wanted as JSON
        step_of = reader.whole_step
        for lineno, body in lines:
            if body is not None:
                try:
                    step = step_of(body, lineno)
                except DecodeError:
                    pass
                else:
                    yield step, step.step_details, None
                    continue
            yield from _records(reader.step, body, lineno, limit, handler)
        return
    # The common case inlined (it is most of the time spent outside the decoders): a
    # line that decodes in two parts; any other goes the way of _records.
    summary_of, details_of = reader.parts
    for lineno, body in lines:
        if body is not None:
            try:
                summary = summary_of(body, lineno)
                details = details_of(summary.step_details, lineno)
            except DecodeError:
                pass
            else:
                yield summary, details, summary.step_details
                continue
        yield from _records(reader.step, body, lineno, limit, handler)


def _records(
    read: Callable[[Buffer, int | None], list[Record]],
    body: bytes | None,
    lineno: int,
    limit: int,
    handler: Callable[[StepwireError], object] | None,
) -> list[Record]:
    """The line's records; none if it is bad and ``handler`` took its error."""
    try:
        if body is None:
            raise too_long(limit, lineno)
        return read(body, lineno)
    except DecodeError as exc:
        if handler is None:
            raise
        handler(exc)
        return []


class Reader:
    """The decoders of one mode, and how a body becomes records.

    ``whole``: each step decoded in one pass as a ``RunStep``, its records' JSON
    ``None``, for readers of the objects alone (``stepwire stats``): one decode
    instead of a header's and the details'.
    """

    __slots__ = ("_details", "_page", "_step", "_strict", "_summary", "_summary_page", "whole")

    def __init__(self, strict: bool, whole: bool = False) -> None:
        self._strict = strict
        self.whole = whole
        self._summary = _decoder(RunStepSummary, strict)._decode
        self._summary_page = _decoder(RunStepSummaryPage, strict)._decode
        self._details: Callable[[Buffer, int | None], Any] = _decoder(
            cast(Any, StepDetails), strict
        )._decode
        self._step = _decoder(RunStep, strict)._decode
        self._page = _decoder(RunStepPage, strict)._decode

    @property
    def parts(self) -> tuple[Callable[[Buffer, int | None], Any], ...]:
        """The two decodes of a step body: its summary, then its details."""
        return self._summary, self._details

    @property
    def whole_step(self) -> Callable[[Buffer, int | None], RunStep]:
        """A step body's decode in one pass."""
        return self._step

    def step(self, body: Buffer, lineno: int | None) -> list[Record]:
        if self.whole:
            step = self._step(body, lineno)
            return [(step, step.step_details, None)]
        try:
            summary = self._summary(body, lineno)
            return [(summary, self._details(summary.step_details, lineno), summary.step_details)]
        except DecodeError:
            step = self._step(body, lineno)  # the step's own error; or, if it decodes, it
            return [(step, step.step_details, None)]

    def page(self, body: Buffer, lineno: int | None) -> list[Record]:
        if self.whole:
            return [(step, step.step_details, None) for step in self._page(body, lineno).data]
        try:
            details = self._details
            return [
                (summary, details(summary.step_details, lineno), summary.step_details)
                for summary in self._summary_page(body, lineno).data
            ]
        except DecodeError:
            page = self._page(body, lineno)
            return [(step, step.step_details, None) for step in page.data]

    def document(self, body: bytes) -> list[Record]:
        """One JSON document: a page, a step, or an array of steps."""
        head = body.lstrip().removeprefix(_BOM).lstrip()
        if head.startswith(b"["):
            steps = _decoder(list[RunStep], self._strict).decode(body)
            return [(step, step.step_details, None) for step in steps]
        try:
            probe = _PROBE.decode(body)
        except FAILURES:  # not JSON, or not an object: the step decode says what and where
            return self.step(body, None)
        return self.page(body, None) if probe.object == "list" else self.step(body, None)


class _Chain:
    """``head``, then the rest of ``file``: what ``block_lines`` reads."""

    __slots__ = ("_head", "_read")

    def __init__(self, head: bytes, file: IO[bytes]) -> None:
        self._head = head
        self._read = getattr(file, "read1", None) or file.read

    def read1(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        data: bytes = self._read(size)
        return data


def _first_line(file: IO[bytes], limit: int) -> tuple[bytes, bytes | None]:
    """What was read to find the first non-blank line, and that line (without its
    line end); ``None`` if the input has none within ``limit`` bytes a line."""
    read = getattr(file, "read1", None) or file.read
    head = b""
    start = 0  # where the line being looked at starts
    while True:
        end = head.find(b"\n", start)
        if end < 0:
            if len(head) - start > limit:
                return head, None
            block = read(_FIRST_READ)
            if not isinstance(block, (bytes, bytearray)):
                raise TypeError(f"Expected a binary file; read() gave {type(block).__name__}")
            if not block:
                line = head[start:]
                return head, (line.rstrip(b"\r") if line.strip() else None)
            head += block
            continue
        line = head[start:end]
        if line.strip():
            return head, line.rstrip(b"\r")
        start = end + 1


def _whole(line: bytes | memoryview | None) -> bool:
    """Whether ``line`` is one whole JSON value."""
    try:
        _WHOLE.decode(line)  # type: ignore[arg-type]
    except FAILURES:
        return False
    return True


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
    while not _fed(acc, chunk, handler):
        # The accumulator kept what follows the bad event: an empty feed goes on.
        chunk = b""


def _fed(
    acc: Accumulator, chunk: bytes | None, handler: Callable[[StepwireError], object] | None
) -> bool:
    """Whether ``chunk`` went in whole; ``False`` after a bad event went to ``handler``."""
    try:
        if chunk is None:
            acc.close()
        else:
            acc.feed(chunk)
    except StreamError as exc:
        if handler is None:
            raise
        handler(exc)
        return chunk is None
    return True
