"""``stepwire``, the command: validate, stats, merge and convert run-step data.

Exit status: 0 when the command did what it was asked (for ``validate``: every record
is valid), 1 when an input is bad (a record that does not decode, a file that is not a
format stepwire knows, an input that is not found or not readable), 2 for a usage error
(argparse's), 130 on Ctrl-C, 141 when stdout closes early (``| head``). A failure is
one line on stderr, ``stepwire: FILE: reason``; ``--debug`` adds the traceback.

Only argparse is imported to parse the arguments: ``stepwire --help`` costs the
interpreter's start and stepwire's import. rich (``stepwire[cli]``) is imported by the
commands that draw with it, and pyarrow only by ``convert`` to Parquet.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import msgspec

from ._decode import decode_delta, decode_step
from ._dispatch import DELTA, FULL
from ._encode import encode
from ._errors import DecodeError, StepwireError, StreamError
from ._failures import FAILURES
from ._inputs import STDIN, InputError, Inputs, require_rich
from ._limits import MAX_LINE_BYTES
from ._ndjson import block_lines, too_long
from ._sources import (
    _BOM,
    _SSE_FIELDS,
    DOCUMENT,
    NDJSON,
    PAGES,
    SSE,
    Reader,
    _Chain,
    opened,
    records_in,
)
from ._stats import Stats
from ._written import temporary_beside

__all__ = ["FORMATS", "TARGETS", "main"]

FORMATS = {"auto": None, "ndjson": NDJSON, "json": DOCUMENT, "sse": SSE}
TARGETS = ("ndjson", "json", "parquet")
_SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "json", ".parquet": "parquet"}
_WRITE_BATCH = 1 << 20
_KINDS = {NDJSON: "NDJSON", PAGES: "NDJSON of pages", DOCUMENT: "a JSON document", SSE: "SSE"}


class _FailureError(Exception):
    """A one-line failure of the command, with its exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        self.status = status
        super().__init__(message)


# -- the parser ---------------------------------------------------------------------------

_EXAMPLES = {
    "validate": """examples:
  stepwire validate steps.ndjson.gz
  stepwire validate --strict --max-errors 10 page.json capture.sse""",
    "stats": """examples:
  stepwire stats yesterday.ndjson.zst
  stepwire stats --json logs/*.ndjson | jq '.tokens_by_tool_type'""",
    "merge": """examples:
  stepwire merge capture.sse > steps.ndjson
  stepwire merge --events capture.sse | jq -c '.event'""",
    "convert": """examples:
  stepwire convert day1.ndjson.gz day2.ndjson.gz -o steps/
      (Parquet: steps/steps.parquet and steps/tool_calls.parquet)
  stepwire convert page.json -o steps.ndjson
  stepwire convert capture.sse --to json -o -""",
}


_TOP_EXAMPLES = """examples:
  stepwire validate steps.ndjson.gz          every bad record, as FILE:LINE: reason
  stepwire stats --json logs/*.ndjson.zst    steps, tool calls, tokens, failures, durations
  stepwire merge capture.sse                 the final snapshot of each step, as NDJSON
  stepwire convert steps.ndjson -o out/      steps.parquet and tool_calls.parquet

Run 'stepwire COMMAND --help' for a command's options and examples. Exit status: 0 done
(valid), 1 a bad input, 2 a usage error, 130 interrupted, 141 stdout closed early."""


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    def common(default: Any) -> argparse.ArgumentParser:
        # Before the command or after it: the command's copy must not reset the top's.
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=default,
            help="no progress bar and no summary on stderr",
        )
        options.add_argument(
            "--debug",
            action="store_true",
            default=default,
            help="a traceback with an error, not just its line",
        )
        return options

    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument(
        "--format",
        choices=list(FORMATS),
        default="auto",
        help="the inputs' format (default: told by content: NDJSON of steps or pages, "
        "a JSON page, step or array, or an SSE capture); .gz and .zst are read compressed",
    )
    inputs.add_argument(
        "--strict",
        action="store_true",
        help="enforce the spec (default: keep what the server sent)",
    )

    parser = argparse.ArgumentParser(
        prog="stepwire",
        description="Validate, summarise, merge and convert run steps of OpenAI's Assistants "
        "API and Azure AI Agents: NDJSON logs, JSON pages and SSE captures; - is stdin.",
        epilog=_TOP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common(False)],
    )
    parser.add_argument("--version", action="version", version=f"stepwire {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help,
            description=help,
            epilog=_EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common(argparse.SUPPRESS), inputs]
            if name != "merge"
            else [common(argparse.SUPPRESS)],
        )

    validate = command(
        "validate", "Check every record; print each bad one as FILE:LINE: reason - at `path`."
    )
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument(
        "--max-errors", type=_positive, default=None, metavar="N", help="stop after N bad records"
    )

    stats = command(
        "stats",
        "Steps by type and status, tool calls by type, tokens per tool type and per "
        "assistant, failures per error code, step duration percentiles.",
    )
    stats.add_argument("files", nargs="+", metavar="FILE")
    stats.add_argument("--json", action="store_true", help="the figures as JSON (docs/cli.md)")
    stats.add_argument("--on-error", choices=("raise", "skip"), default="raise")

    merge = command(
        "merge", "The final snapshot of every step of a captured event stream, as NDJSON."
    )
    merge.add_argument("files", nargs=1, metavar="CAPTURE")
    merge.add_argument(
        "--events", action="store_true", help="the typed events instead, one JSON object a line"
    )
    merge.add_argument("--on-error", choices=("raise", "skip"), default="raise")

    convert = command(
        "convert",
        "Write the steps of the inputs as NDJSON, a JSON array, or Parquet (a directory "
        "holding steps.parquet and tool_calls.parquet).",
    )
    convert.add_argument("files", nargs="+", metavar="IN")
    convert.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="a file, a directory, or - for stdout"
    )
    convert.add_argument(
        "--to",
        choices=TARGETS,
        default=None,
        help="the output format (default: by OUT's suffix: .ndjson/.jsonl, .json, "
        "else Parquet; NDJSON for -)",
    )
    convert.add_argument("--on-error", choices=("raise", "skip"), default="raise")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


# -- running a command --------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.files.count(STDIN) > 1:
        parser.error("- (stdin) can be given once")
    run = _COMMANDS[args.command]
    try:
        return run(args)
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        return 130
    except BrokenPipeError:
        # stdout closed early (| head): nothing more to say, and nothing to flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (_FailureError, InputError, StepwireError, ModuleNotFoundError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"stepwire: {_one_line(exc)}", file=sys.stderr)
        return exc.status if isinstance(exc, _FailureError) else 1
    except Exception as exc:  # a bug of stepwire's: said in one line, traced on --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"stepwire: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(--debug shows the traceback; please report it)",
            file=sys.stderr,
        )
        return 1


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc).replace("\n", " ")


def _progress_on(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


@contextmanager
def _inputs(args: argparse.Namespace, records: Callable[[], int]) -> Iterator[Inputs]:
    with Inputs(
        args.files, progress=_progress_on(args), records=records, label=args.command
    ) as inputs:
        yield inputs


@contextmanager
def _opened(
    inputs: Inputs, name: str, args: argparse.Namespace
) -> Iterator[tuple[str, bytes, IO[bytes]]]:
    """An input, its kind, the bytes read to tell it; errors named by the input."""
    kind = FORMATS[getattr(args, "format", "auto")]
    with inputs.open(name) as raw:
        try:
            with opened(raw, MAX_LINE_BYTES, kind) as (found, head, file):
                if kind is None and not _known(head):
                    raise _FailureError(
                        f"{_shown(name)}: not a format stepwire knows (NDJSON, JSON or an "
                        "SSE capture)"
                    )
                yield found, head, file
        except ModuleNotFoundError as exc:  # zstd content without a zstd library
            raise _FailureError(f"{_shown(name)}: {exc}") from None
        except BrokenPipeError:  # stdout's, written in the block: not the input's
            raise
        except (OSError, EOFError) as exc:  # gzip or zstd content that is not
            raise _FailureError(f"{_shown(name)}: not readable ({_one_line(exc)})") from None


def _known(head: bytes) -> bool:
    """Whether the input's first non-blank line starts as a format stepwire reads
    (or there is none: an empty input is a valid one, of no records)."""
    for line in head.splitlines():
        text = line.strip().removeprefix(b"\xef\xbb\xbf").lstrip()
        if text:
            return text.startswith((b"{", b"[", *_SSE_FIELDS))
    return True


def _shown(name: str) -> str:
    return "<stdin>" if name == STDIN else name


def _where(name: str, line: int | None) -> str:
    return f"{_shown(name)}:{line}" if line is not None else _shown(name)


def _described(exc: StepwireError) -> str:
    """An error's reason and path, without the line (said before it)."""
    text = exc.reason
    if isinstance(exc, StreamError) and exc.event:
        text = f"event {exc.event}: {text}"
    if exc.path is not None:
        text = f"{text} - at `{exc.path}`"
    return text


def _bad_record(name: str, exc: StepwireError) -> _FailureError:
    return _FailureError(f"{_where(name, getattr(exc, 'line', None))}: {_described(exc)}")


@contextmanager
def _reading(
    inputs: Inputs,
    name: str,
    args: argparse.Namespace,
    skip: bool,
    kinds: list[str] | None = None,
    whole: bool = False,
) -> Iterator[Iterable[tuple[Any, Any, Any]]]:
    """The records of one input, to iterate inside the block (bad ones skipped, or a
    one-line failure); its kind appended to ``kinds``, if given. ``whole``: as
    ``Reader``'s. A context, not a generator: the records are iterated straight, with
    no generator of ours between them and the loop (stats' speed)."""
    reader = Reader(bool(getattr(args, "strict", False)), whole)
    with _opened(inputs, name, args) as (kind, head, file):
        if kinds is not None:
            kinds.append(kind)
        handler = inputs.skip if skip else None
        if kind == DOCUMENT:  # read whole here, so that an error's line can be said
            body = (head + file.read()).removeprefix(_BOM)
            try:
                records = reader.document(body)
            except DecodeError as exc:
                if not skip:
                    at = None if exc.offset is None else body.count(b"\n", 0, exc.offset) + 1
                    raise _FailureError(f"{_where(name, at)}: {_described(exc)}") from exc
                inputs.skip(exc)
                records = []
            yield records
            return
        try:
            yield records_in(kind, head, file, reader, handler, MAX_LINE_BYTES)
        except StepwireError as exc:
            raise _bad_record(name, exc) from exc


# -- validate -----------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    counted = [0, 0]  # records, bad records
    limit = args.max_errors

    def report(name: str, line: int | None, exc: StepwireError) -> bool:
        """Print one bad record; whether to go on."""
        counted[1] += 1
        # sys.stdout looked up each time: with the bar on the same terminal, rich puts
        # its own stdout in place, which prints above the bar.
        sys.stdout.write(f"{_where(name, line)}: {_described(exc)}\n")
        return limit is None or counted[1] < limit

    with _inputs(args, lambda: counted[0]) as inputs:
        for name in args.files:
            if not _validate_one(inputs, name, args, counted, report):
                break
        inputs.close()
    sys.stdout.flush()
    if not args.quiet:
        files = len(args.files)
        verdict = "valid" if not counted[1] else f"{counted[1]:,} bad"
        stopped = " (stopped at --max-errors)" if limit is not None and counted[1] >= limit else ""
        print(
            f"stepwire validate: {_count(counted[0], 'record')}, {verdict}, in "
            f"{_count(files, 'file')}{stopped}",
            file=sys.stderr,
        )
    return 1 if counted[1] else 0


def _validate_one(
    inputs: Inputs,
    name: str,
    args: argparse.Namespace,
    counted: list[int],
    report: Callable[[str, int | None, StepwireError], bool],
) -> bool:
    """Check one input; whether to go on with the next."""
    reader = Reader(args.strict)
    try:
        with _opened(inputs, name, args) as (kind, head, file):
            if kind == SSE:
                return _validate_sse(name, head, file, args.strict, counted, report)
            if kind == DOCUMENT:
                body = (head + file.read()).removeprefix(_BOM)
                return _validate_document(name, body, reader, counted, report)
            if kind == PAGES:  # a page a line: each page's bad steps, each said
                lines = block_lines(_Chain(head.removeprefix(_BOM), file), MAX_LINE_BYTES)
                for lineno, line in lines:
                    if line is None:
                        counted[0] += 1
                        if not report(name, lineno, too_long(MAX_LINE_BYTES, lineno)):
                            return False
                    elif not _validate_document(name, line, reader, counted, report, lineno):
                        return False
                return True

            def bad(exc: StepwireError) -> None:
                counted[0] += 1
                if not report(name, getattr(exc, "line", None), exc):
                    raise _StopError

            try:
                for _ in records_in(kind, head, file, reader, bad, MAX_LINE_BYTES):
                    counted[0] += 1
            except _StopError:
                return False
            return True
    except (_FailureError, InputError) as exc:  # not found, not readable, not a format known
        counted[1] += 1
        sys.stdout.write(f"{exc}\n")
        return args.max_errors is None or counted[1] < args.max_errors


class _StopError(Exception):
    """--max-errors reached."""


class _Items(msgspec.Struct):
    data: list[msgspec.Raw]


_ITEMS = msgspec.json.Decoder(_Items)
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def _validate_document(
    name: str,
    body: bytes,
    reader: Reader,
    counted: list[int],
    report: Callable[[str, int | None, StepwireError], bool],
    line: int | None = None,
) -> bool:
    """A page, a step or an array of steps: every bad step, by line and path (``line``:
    the document is that one line of the input)."""

    def line_of(offset: int | None) -> int | None:
        if line is not None:
            return line
        return body.count(b"\n", 0, offset) + 1 if offset is not None else None

    try:
        counted[0] += len(reader.document(body))
        return True
    except DecodeError as whole:
        first = whole
    # Bad: each step of a page or array on its own, so that every bad one is said.
    stripped = body.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    try:
        if stripped.startswith(b"["):
            items, prefix = _ARRAY.decode(body), "$"
        else:
            items, prefix = _ITEMS.decode(body).data, "$.data"
    except FAILURES:  # not a page or an array of objects: the whole decode says why
        items = []
    where = 0
    found = False
    for index, item in enumerate(items):
        text = bytes(item)
        start = body.find(text, where)
        where = start + len(text)
        counted[0] += 1
        try:
            reader.step(text, None)
        except DecodeError as exc:
            found = True
            offset = start + (exc.offset or 0)
            path = f"{prefix}[{index}]{(exc.path or '$')[1:]}"
            shown = DecodeError(exc.reason, path=path, offset=offset)
            if not report(name, line_of(offset), shown):
                return False
    if not found:  # the envelope itself, or a single step
        if not items:
            counted[0] += 1
        return report(name, line_of(first.offset), first)
    return True


def _validate_sse(
    name: str,
    head: bytes,
    file: IO[bytes],
    strict: bool,
    counted: list[int],
    report: Callable[[str, int | None, StepwireError], bool],
) -> bool:
    """An event stream, fed a line at a time: each bad event said at its first line."""
    from ._accumulate import Accumulator

    acc = Accumulator()

    def check(events: list[Any], at: int | None) -> bool:
        for event in events:
            counted[0] += 1
            if strict and (event.event in FULL or event.event == DELTA):
                try:
                    if event.event in FULL:
                        decode_step(event.raw, strict=True)
                    else:
                        decode_delta(event.raw, strict=True)
                except DecodeError as exc:
                    error = StreamError(
                        exc.reason, event=event.event, path=exc.path, offset=exc.offset
                    )
                    if not report(name, at, error):
                        return False
        return True

    def feed(chunk: bytes | None, at: int | None) -> bool:
        while True:
            try:
                events = acc.close() if chunk is None else acc.feed(chunk)
            except StreamError as exc:
                counted[0] += 1
                if not check(exc.events, at) or not report(name, at, exc):
                    return False
                if chunk is None:
                    return True
                chunk = b""  # what followed the bad event stays buffered
                continue
            return check(events, at)

    return all(feed(line, at) for line, at in _sse_lines(head, file))


def _sse_lines(head: bytes, file: IO[bytes]) -> Iterator[tuple[bytes | None, int]]:
    """A capture's lines, each with the first line of the event it is part of (the
    number an error in that event is said at); then ``None``: the end."""
    lineno = 0
    start: int | None = None  # the first line of the event being read
    pending = b""
    for block in _blocks(head, file):
        lines = (pending + block).splitlines(keepends=True)
        # A last line without its end waits for the next block (a \r may be half of \r\n).
        pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        for line in lines:
            lineno += 1
            if line.strip(b"\r\n"):
                if start is None:
                    start = lineno
                yield line, start
            else:
                at, start = start, None
                yield line, at if at is not None else lineno
    if pending:
        lineno += 1
        if start is None:
            start = lineno
        yield pending, start
    yield None, start if start is not None else lineno


def _blocks(head: bytes, file: IO[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    while block := file.read(1 << 16):
        yield block


# -- stats --------------------------------------------------------------------------------


def _stats(args: argparse.Namespace) -> int:
    stats = Stats()
    add = stats.add
    skip = args.on_error == "skip"
    if not args.json:
        require_rich()
    with _inputs(args, lambda: stats.steps) as inputs:
        for name in args.files:
            with _reading(inputs, name, args, skip, whole=True) as records:
                for header, details, _ in records:
                    add(header, details)
        inputs.close()
    figures = stats.as_json()
    if inputs.skipped and not args.quiet:
        _said(args, f"{_count(inputs.skipped, 'bad record')} skipped")
    if args.json:
        body = msgspec.json.encode({"files": args.files, **figures})
        _write_all(sys.stdout.buffer, msgspec.json.format(body, indent=2) + b"\n")
        sys.stdout.buffer.flush()
    else:
        from ._tables import print_stats

        print_stats(msgspec.to_builtins(figures), args.files)
    return 0


# -- merge --------------------------------------------------------------------------------


def _merge(args: argparse.Namespace) -> int:
    from ._accumulate import Accumulator

    (name,) = args.files
    acc = Accumulator()
    counted = [0]
    skip = args.on_error == "skip"
    stdout = sys.stdout.buffer
    out: list[bytes] = []
    size = 0

    def feed(chunk: bytes | None, at: int) -> list[Any]:
        """The events ``chunk`` completes (the end at ``None``), bad ones skipped; a bad
        one said at ``at``, its first line."""
        events: list[Any] = []
        while True:
            try:
                events.extend(acc.close() if chunk is None else acc.feed(chunk))
                return events
            except StreamError as exc:  # noqa: PERF203 - a bad event, then on from it
                if not skip:
                    raise _FailureError(f"{_where(name, at)}: {_described(exc)}") from exc
                events.extend(exc.events)  # applied before the bad one
                if chunk is None:
                    return events
                chunk = b""  # what followed the bad event stays buffered

    with _inputs(args, lambda: counted[0]) as inputs:
        with _opened(inputs, name, args) as (kind, head, file):
            if kind != SSE and head.strip():
                raise _FailureError(
                    f"{_shown(name)}: not an SSE capture (it reads as {_KINDS[kind]}): "
                    "merge takes a captured event stream; stats and convert read the rest"
                )
            # A line at a time, so that a bad event is said at its line, as validate does.
            for chunk, at in _sse_lines(head, file):
                events = feed(chunk, at)
                counted[0] += len(events)
                if args.events:
                    for event in events:
                        line = _event_json(event)
                        out.append(line)
                        size += len(line)
                    if size >= _WRITE_BATCH:
                        _write_all(stdout, b"".join(out))
                        out, size = [], 0
        inputs.close()
    if args.events:
        _write_all(stdout, b"".join(out))
    else:
        _write_all(stdout, b"".join(encode(step) + b"\n" for step in acc.steps.values()))
    sys.stdout.buffer.flush()
    return 0


def _event_json(event: Any) -> bytes:
    data = event.data
    body = data if isinstance(data, bytes) else encode(data)
    try:
        msgspec.json.decode(body)
        value = body
    except FAILURES:  # an event whose data is not JSON: said as a string
        value = msgspec.json.encode(body.decode("utf-8", "replace"))
    return b'{"event":%s,"id":%s,"data":%s}\n' % (
        msgspec.json.encode(event.event),
        msgspec.json.encode(event.id),
        value,
    )


# -- convert ------------------------------------------------------------------------------


def _target(args: argparse.Namespace) -> str:
    """The output format: ``--to``, else OUT's suffix, else Parquet for a directory (one
    that exists, a name ending in ``/``, or a name without a suffix)."""
    if args.to is not None:
        return str(args.to)
    if args.output == "-":
        return "ndjson"
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if not suffix or out.is_dir() or args.output.endswith(("/", os.sep)):
        return "parquet"
    raise _FailureError(
        f"{args.output}: cannot tell the format from the name: give --to, a name ending "
        ".ndjson, .jsonl or .json, or a directory for Parquet",
        2,
    )


def _convert(args: argparse.Namespace) -> int:
    target = _target(args)
    skip = args.on_error == "skip"
    counted = [0]
    if target == "parquet":
        if args.output == "-":
            raise _FailureError("Parquet is a directory of two files: give -o a directory", 2)
        return _convert_parquet(args, skip, counted)
    with _inputs(args, lambda: counted[0]) as inputs, _output(args.output) as out:
        first = True
        if target == "json":
            _write_all(out, b"[")
        buffer: list[bytes] = []
        size = 0
        kinds: list[str] = []
        for name in args.files:
            with _reading(inputs, name, args, skip, kinds) as records:
                for header, details, raw in records:
                    counted[0] += 1
                    if raw is not None and target == "ndjson" and kinds[-1] == DOCUMENT:
                        # Details as sent, but over several lines (a pretty-printed
                        # page): written again, losslessly, on one.
                        header = msgspec.structs.replace(
                            header, step_details=msgspec.Raw(encode(details))
                        )
                    body = encode(header)
                    if target == "json":
                        body = body if first else b",\n" + body
                        first = False
                    else:
                        body += b"\n"
                    buffer.append(body)
                    size += len(body)
                    if size >= _WRITE_BATCH:
                        _write_all(out, b"".join(buffer))
                        buffer, size = [], 0
        _write_all(out, b"".join(buffer))
        if target == "json":
            _write_all(out, b"]\n")
        inputs.close()
    _said(args, f"{_count(counted[0], 'step')} to {args.output}{_skipped(inputs)}")
    return 0


def _convert_parquet(args: argparse.Namespace, skip: bool, counted: list[int]) -> int:
    try:
        from . import arrow
    except ModuleNotFoundError as exc:
        raise _FailureError(
            f"Parquet needs pyarrow ({exc.name} is missing): pip install 'stepwire[arrow]'"
        ) from None
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise _FailureError(f"{out}: Parquet is written into a directory, and this is a file", 2)

    def records() -> Iterator[Any]:
        for name in args.files:
            with _reading(inputs, name, args, skip) as records:
                for record in records:
                    counted[0] += 1
                    yield record

    with _inputs(args, lambda: counted[0]) as inputs:
        paths = arrow._write_batches(arrow._record_batches(records(), arrow.BATCH_ROWS), out)
        inputs.close()
    _said(
        args,
        f"{_count(counted[0], 'step')} to {paths['steps']} and {paths['tool_calls']}"
        + _skipped(inputs),
    )
    return 0


@contextmanager
def _output(name: str) -> Iterator[IO[bytes]]:
    """stdout, or a temporary file beside ``name`` renamed to it once complete."""
    if name == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(name)
    if target.is_dir():
        raise _FailureError(f"{name}: is a directory; NDJSON and JSON are written to a file", 2)
    parent = target.parent
    if not parent.is_dir():
        raise _FailureError(f"{name}: its directory {parent} does not exist", 2)
    fd, temporary = temporary_beside(parent, f".{target.name}.", ".partial")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_all(out: IO[bytes], data: bytes) -> None:
    """Write all of ``data``: a pipe closed early can take a first part and return its
    count (not raise); the next write then raises ``BrokenPipeError`` (exit 141)."""
    view = memoryview(data)
    while view:
        n = out.write(view)
        if not n:  # nothing taken, and no error: going round again would spin
            raise BrokenPipeError("the output took no bytes")
        view = view[n:]


def _skipped(inputs: Inputs) -> str:
    return f" ({_count(inputs.skipped, 'bad record')} skipped)" if inputs.skipped else ""


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _said(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(f"stepwire {args.command}: {text}", file=sys.stderr)


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": _validate,
    "stats": _stats,
    "merge": _merge,
    "convert": _convert,
}
