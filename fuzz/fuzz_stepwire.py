"""Coverage-guided fuzz target (atheris) for stepwire's decoders, stream and merge.

One input drives, in order:

1. the decoders on the whole input as a body: ``decode_step``, ``decode_page``,
   ``decode_delta`` and ``decode_lines`` (default or ``strict=True``, chosen by the
   input), ``Decoder(..., strict=True)`` for a few other model types, and the summary
   view's ``details()``. Cross-checks: a bytes input and the same bytes as a
   bytearray / an offset memoryview / a str give the same result (or the same error);
   a decoded object encodes, re-decodes and re-encodes to the same bytes;
   ``decode_lines`` agrees with ``decode_step`` line by line.
2. the two stream builds on the input as an event stream, fed in chunks the fuzzer
   chooses (or byte by byte), then ``close()``: ``Accumulator`` over
   ``stepwire._stream_c`` (the Cython build) and over ``stepwire._stream_py`` (the reference) must
   give the same events, the same errors and the same snapshots (differential).
3. ``apply_delta``: the accepted delta events of each step, applied to a fresh decode of
   the step's last full object, must give the accumulator's snapshot; and merging
   must not change the events' own data.

The only exceptions an input may raise are ``stepwire.DecodeError`` and
``stepwire.StreamError`` (at the calls that document them). Anything else escaping
(``RecursionError``, ``UnicodeError``, ``KeyError``, an ``AssertionError`` from a
cross-check, a crash) is a finding: atheris prints the traceback and writes the input
to ``crash-<sha1>``.

Input layout (atheris.FuzzedDataProvider: integers from the end, bytes from the
front)::

    body ... | cut positions (2 bytes each, last first) | cut count | flags

Usage::

    python fuzz/fuzz_stepwire.py --build-corpus build/fuzz-corpus   # seed corpus
    python fuzz/fuzz_stepwire.py [libFuzzer flags] CORPUS_DIR...     # fuzz (atheris)
    python fuzz/fuzz_stepwire.py --replay FILE_OR_DIR...             # run inputs once,
                                                                      # no atheris needed

``make fuzz`` and ``make asan`` (docs/hardening.md) wrap these.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import itertools
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

try:
    import atheris
except ImportError:  # --replay and the tests run without it
    atheris = None

_FUZZING = (
    __name__ == "__main__"
    and atheris is not None
    and sys.argv[1:2] not in (["--replay"], ["--build-corpus"])
)

# Instrument stepwire's Python modules (the Cython module is native code: see
# docs/hardening.md for its coverage).
with atheris.instrument_imports(include=["stepwire"]) if _FUZZING else contextlib.nullcontext():
    import stepwire

    # The compiled module has no stub: imported by name, so type checkers see Any.
    from stepwire import DecodeError, StreamError, _stream_py
    from stepwire._accumulate import on_twin
    from stepwire._dispatch import DELTA, FULL, TERMINAL

    cython_stream = on_twin(importlib.import_module("stepwire._stream_c"))
    python_stream = on_twin(_stream_py)

ROOT = Path(__file__).resolve().parent.parent
# The seeded generator (stepgen/) is the repository's, not the package's: importable from
# the checkout's root, which a script run as fuzz/fuzz_stepwire.py does not have on sys.path.
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
from stepgen import generate_delta_events, generate_page, generate_steps  # noqa: E402

SAMPLES = ROOT / "samples"
REAL = Path(os.environ.get("STEPWIRE_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))

# -- the input's controls --------------------------------------------------------------------

STRICT = 1 << 0  # body decoders with strict=True
READ = 1 << 1  # read the accumulators' state after every chunk (flushes fragments)
KIND_SHIFT = 2  # bits 2-3: the alternate buffer type (see _as_kind)
BYTEWISE = 1 << 4  # feed one byte at a time (small bodies only)
FEW_STEPS = 1 << 5  # Accumulator(max_steps=2): the step table's eviction
MAX_CUTS = 16
BYTEWISE_LIMIT = 4096
MAX_STEPS_SMALL = 2


ALLOWED = (DecodeError, StreamError)

# Findings already turned into xfail regression tests (tests/test_fuzz_regressions.py)
# are tolerated here, so that a run goes on looking for new ones; each entry names its
# test. Remove the entry with the xfail when the bug is fixed.
# STEPWIRE_FUZZ_KNOWN=report turns them back into findings.
KNOWN: dict[str, Callable[[BaseException], bool]] = {}
SWALLOWED = "a step has a snapshot but none of its full events was returned"
PENDING_REFUSED = "deltas kept for step"
_REPORT_KNOWN = os.environ.get("STEPWIRE_FUZZ_KNOWN") == "report"


def _known(exc: BaseException) -> bool:
    return not _REPORT_KNOWN and any(match(exc) for match in KNOWN.values())


class Provider:
    """The subset of atheris.FuzzedDataProvider this target uses, in pure Python.

    Same bytes in, same values out (tests/test_fuzz.py checks it against atheris), so
    that ``--replay`` and ``make asan`` need no atheris.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self._end = len(data)

    def remaining_bytes(self) -> int:
        return self._end - self._pos

    def ConsumeIntInRange(self, lo: int, hi: int) -> int:  # noqa: N802 - atheris's name
        span = hi - lo
        result = 0
        offset = 0
        while offset < 64 and (span >> offset) > 0 and self._end > self._pos:
            self._end -= 1
            result = (result << 8) | self._data[self._end]
            offset += 8
        if span != (1 << 64) - 1:
            result %= span + 1
        return lo + result

    def ConsumeBytes(self, count: int) -> bytes:  # noqa: N802 - atheris's name
        count = max(0, min(count, self.remaining_bytes()))
        out = self._data[self._pos : self._pos + count]
        self._pos += count
        return out


def parse_input(data: bytes, provider: Any = None) -> tuple[bytes, int, list[int]]:
    """``(body, flags, cuts)`` of one input; ``cuts`` are sorted positions in ``body``."""
    fdp = provider if provider is not None else Provider(data)
    flags = fdp.ConsumeIntInRange(0, 255)
    ncuts = fdp.ConsumeIntInRange(0, MAX_CUTS)
    raw_cuts = [fdp.ConsumeIntInRange(0, 0xFFFF) for _ in range(ncuts)]
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    cuts = sorted({c % (len(body) + 1) for c in raw_cuts})
    return body, flags, cuts


def make_input(body: bytes, flags: int = 0, cuts: Iterable[int] = ()) -> bytes:
    """The input that ``parse_input`` reads as ``(body, flags, cuts)`` (cuts < 65536)."""
    cuts = list(cuts)[:MAX_CUTS]
    trailer = bytearray()
    for cut in reversed(cuts):
        trailer += bytes([cut & 0xFF, (cut >> 8) & 0xFF])
    trailer += bytes([len(cuts), flags & 0xFF])
    return body + bytes(trailer)


# -- helpers -----------------------------------------------------------------------------------


def _attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """``(True, result)`` or ``(False, error message)`` for the documented errors."""
    try:
        return True, fn(*args, **kwargs)
    except ALLOWED as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _outcome(ok: bool, value: Any) -> tuple[bool, Any]:
    """An attempt's result, comparable across calls (objects encoded)."""
    if not ok:
        return ok, value
    if isinstance(value, list):
        return ok, [stepwire.encode(v) for v in value]
    return ok, stepwire.encode(value)


def _as_kind(body: bytes, kind: int) -> tuple[Any, bool]:
    """``body`` as another accepted buffer type, and whether it is the same document."""
    if kind == 0:
        return bytearray(body), True
    if kind == 1:
        return memoryview(b"#" + body)[1:], True  # a view that does not start its buffer
    if kind == 2:
        return memoryview(bytearray(body)), True
    try:
        return body.decode("utf-8"), True
    except UnicodeDecodeError:
        # A str that is no UTF-8 text (lone surrogates): it need only fail cleanly.
        return body.decode("utf-8", "surrogateescape"), False


def _chunks(body: bytes, flags: int, cuts: list[int]) -> list[bytes]:
    if flags & BYTEWISE and len(body) <= BYTEWISE_LIMIT:
        return [body[i : i + 1] for i in range(len(body))]
    bounds = [0, *cuts, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


def _feed_type(chunk: bytes, kind: int) -> Any:
    if kind == 1:
        return bytearray(chunk)
    if kind == 2:
        return memoryview(b"#" + chunk)[1:]
    return chunk


# -- 1. decoders -------------------------------------------------------------------------------

_BLANK = re.compile(rb"[^ \t\r\n]")
_DECODERS: list[tuple[str, Callable[..., Any]]] = [
    ("step", stepwire.decode_step),
    ("page", stepwire.decode_page),
    ("delta", stepwire.decode_delta),
]
_STRICT_TYPES: list[Any] = [
    stepwire.ToolCall,
    stepwire.StepDetails,
    stepwire.ToolCallDelta,
    stepwire.Usage,
]
_STRICT_DECODERS: list[stepwire.Decoder[Any]] = [
    stepwire.Decoder(tp, strict=True) for tp in _STRICT_TYPES
]
_SUMMARY: stepwire.Decoder[Any] = stepwire.Decoder(stepwire.RunStepSummaryPage)
_SUMMARY_STEP: stepwire.Decoder[Any] = stepwire.Decoder(stepwire.RunStepSummary)


def check_decoders(body: bytes, flags: int) -> None:
    strict = bool(flags & STRICT)
    kind = (flags >> KIND_SHIFT) & 3
    other, same = _as_kind(body, kind)
    for name, fn in _DECODERS:
        ok, value = _attempt(fn, body, strict=strict)
        alt = _attempt(fn, other, strict=strict)
        if same:
            first = _outcome(ok, value)
            assert _outcome(*alt) == first, (name, type(other).__name__, first, alt)
        if ok:
            encoded = stepwire.encode(value)
            again = fn(encoded)  # its own output decodes (default mode) to the same object
            assert stepwire.encode(again) == encoded, (name, encoded)
        if ok and name == "page":
            check_summary(body, value)
    check_lines(body, strict, other if kind in (0, 1) else None)
    for decoder in _STRICT_DECODERS:
        ok, value = _attempt(decoder.decode, body)
        if ok:
            encoded = stepwire.encode(value)
            assert stepwire.encode(decoder.decode(encoded)) == encoded, (decoder, encoded)


def check_summary(body: bytes, page: Any) -> None:
    ok, summary = _attempt(_SUMMARY.decode, body)
    assert ok, ("the summary view refuses a page decode_page accepts", summary)
    assert len(summary.data) == len(page.data)
    for head, step in zip(summary.data, page.data, strict=True):
        assert head.id == step.id
        ok, details = _attempt(head.details)
        assert ok, ("details() refuses what decode_page accepted", details)
        assert stepwire.encode(details) == stepwire.encode(step.step_details)


def check_lines(body: bytes, strict: bool, other: Any) -> None:
    first = _outcome(*_attempt(stepwire.decode_lines, body, strict=strict))
    if other is not None:
        alt = _outcome(*_attempt(stepwire.decode_lines, other, strict=strict))
        assert alt == first, ("decode_lines", type(other).__name__, first, alt)
    # Line by line with decode_step: the same steps, or the same first error.
    expected: list[bytes] = []
    lines = body.split(b"\n")
    for lineno, line in enumerate(lines, 1):
        if lineno < len(lines) and line.endswith(b"\r"):
            line = line[:-1]  # a CRLF line end: its CR is not the line's
        if _BLANK.search(line) is None:
            continue
        ok, value = _attempt(stepwire.decode_step, line, strict=strict)
        if not ok:
            assert not first[0], ("decode_lines accepts a bad line", lineno, value)
            assert first[1] == value.replace(": ", f": line {lineno}: ", 1), (first[1], value)
            return
        expected.append(stepwire.encode(value))
    assert first == (True, expected), ("decode_lines", first)


# -- 2. the two stream builds ------------------------------------------------------------------


def _describe(event: Any) -> tuple[Any, ...]:
    data = event.data  # the Cython build decodes a fast-path delta here
    encoded = data if isinstance(data, bytes) else stepwire.encode(data)
    return (event.event, event.id, event.raw, type(data).__name__, encoded)


def _state(acc: Any) -> dict[str, Any]:
    return {
        "steps": {k: stepwire.encode(acc.steps[k]) for k in acc.steps},
        "pending": {k: [stepwire.encode(d) for d in acc.pending[k]] for k in acc.pending},
        "done": acc.done,
        "last_event_id": acc.last_event_id,
        "retry": acc.retry,
    }


class Replay:
    """One accumulator fed the chunks, going on after each StreamError."""

    def __init__(self, module: Any, max_steps: int | None) -> None:
        self.acc = (
            module.Accumulator() if max_steps is None else module.Accumulator(max_steps=max_steps)
        )
        self.log: list[Any] = []  # events (described when returned), errors, states
        self.events: list[Any] = []  # the event objects, in order
        self.errors: list[StreamError] = []

    def _take(self, events: list[Any]) -> None:
        self.events.extend(events)
        self.log.extend(_describe(e) for e in events)

    def run(self, chunks: list[Any], read: bool, budget: int) -> None:
        for chunk in [*chunks, None]:
            while True:
                budget -= 1
                assert budget > 0, "feed()/close() keep raising StreamError"
                try:
                    events = self.acc.close() if chunk is None else self.acc.feed(chunk)
                except StreamError as exc:
                    self._take(exc.events)
                    self.log.append((StreamError, exc.event, str(exc)))
                    self.errors.append(exc)
                    if chunk is not None:
                        chunk = b""
                    continue
                self._take(events)
                break
            if read:
                self.log.append(_state(self.acc))
        self.log.append(_state(self.acc))


def check_streams(body: bytes, flags: int, cuts: list[int]) -> Replay:
    kind = (flags >> KIND_SHIFT) & 3
    chunks = [_feed_type(c, kind) for c in _chunks(body, flags, cuts)]
    max_steps = MAX_STEPS_SMALL if flags & FEW_STEPS else None
    budget = 2 * len(body) + 8 + len(chunks)
    reference = Replay(python_stream, max_steps)
    reference.run(chunks, bool(flags & READ), budget)
    compiled = Replay(cython_stream, max_steps)
    compiled.run(chunks, bool(flags & READ), budget)
    if compiled.log != reference.log:
        for i, (a, b) in enumerate(zip(compiled.log, reference.log, strict=False)):
            assert a == b, f"Cython and Python builds differ at log entry {i}:\n{a!r}\n{b!r}"
        raise AssertionError(
            f"Cython and Python builds differ in length: {len(compiled.log)} vs "
            f"{len(reference.log)}"
        )
    # Event data as decoded when returned: nothing merged later may have changed it.
    assert [_describe(e) for e in compiled.events] == [
        entry for entry in compiled.log if isinstance(entry, tuple) and entry[0] is not StreamError
    ], "an event's data changed after it was returned (Cython build)"
    return reference


# -- 3. apply_delta against the accumulator ----------------------------------------------------


def check_apply_delta(replay: Replay, max_steps: int | None) -> None:
    """apply_delta over each step's accepted deltas gives the accumulator's snapshot."""
    for exc in replay.errors:
        if PENDING_REFUSED in str(exc):
            return  # a kept delta refused when its step opened: not among the events' deltas
    base: dict[str, bytes] = {}
    deltas: dict[str, list[Any]] = {}
    opened_pending: set[str] = set()  # steps whose opening object took pending deltas
    for event in replay.events:
        if event.event == DELTA:
            deltas.setdefault(event.data.id, []).append(event.data)
        elif event.event in FULL:
            sid = event.data.id
            if event.event in TERMINAL or sid in base:
                deltas[sid] = []
            elif deltas.get(sid):
                opened_pending.add(sid)
            base[sid] = event.raw
    refused = any(exc.__cause__ is None for exc in replay.errors)  # a merge refused
    if max_steps is not None and len(base.keys() | deltas.keys()) + len(replay.errors) > max_steps:
        return  # the table may have dropped steps
    state = _state(replay.acc)
    unexplained = sorted(state["steps"].keys() - base.keys())
    assert not unexplained, f"{SWALLOWED}: {unexplained}"
    before = [_describe(e) for e in replay.events]
    expected_steps = {}
    for sid, raw in base.items():
        snapshot = stepwire.decode_step(raw)
        try:
            stepwire.apply_delta(snapshot, deltas.get(sid, []))
        except StreamError as exc:
            # An earlier opening event of this step may have been swallowed (see KNOWN).
            if refused and sid in opened_pending:
                raise AssertionError(f"{SWALLOWED}: {sid!r}, {exc}") from exc
            raise AssertionError(f"apply_delta refuses what the accumulator took: {exc}") from exc
        expected_steps[sid] = stepwire.encode(snapshot)
    expected_pending = {
        sid: [stepwire.encode(d) for d in ds]
        for sid, ds in deltas.items()
        if sid not in base and ds
    }
    assert state["steps"] == expected_steps, ("apply_delta", state["steps"], expected_steps)
    assert state["pending"] == expected_pending, ("pending", state["pending"], expected_pending)
    assert [_describe(e) for e in replay.events] == before, "apply_delta changed a delta event"


# -- the target --------------------------------------------------------------------------------


def check(data: bytes, provider: Any = None) -> None:
    """Run one input through every check; raises on a finding."""
    body, flags, cuts = parse_input(data, provider)
    try:
        check_decoders(body, flags)
        replay = check_streams(body, flags, cuts)
        check_apply_delta(replay, MAX_STEPS_SMALL if flags & FEW_STEPS else None)
    except Exception as exc:
        if not _known(exc):
            raise
        # A known finding ends this input's checks: what follows would build on it.


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris's name
    check(data, atheris.FuzzedDataProvider(data) if atheris is not None else None)


# -- seed corpus --------------------------------------------------------------------------------

# Small hand-written streams for the framing rules (not copies of any recording).
_FRAMING = [
    b"\xef\xbb\xbfdata: a\r\n\r\ndata: b\rid: 7\r\rretry: 1500\n: comment\nevent: x\ndata\n\n",
    b"event: done\ndata: [DONE]\n\n",
    b"data: [DONE]\n\ndata: late\n\n",
    b'event: error\ndata: {"error":{"message":"boom","type":"server_error"}}',
    b'event: thread.run.step.delta\ndata: {"id":"s","object":"thread.run.step.delta"}\n\n',
]


def _sse(events: Iterable[tuple[str, Any]]) -> bytes:
    out = b""
    for name, obj in events:
        out += f"event: {name}\ndata: ".encode() + json.dumps(obj, separators=(",", ":")).encode()
        out += b"\n\n"
    return out


def _generated() -> list[bytes]:
    """Bodies from stepwire's seeded generator (runs anywhere, no corpus needed)."""
    page = generate_page(6, seed=1)
    steps = generate_steps(8, seed=2)
    deltas = generate_delta_events(40, seed=3, step_id="step_gen", parallel=2)
    created = {
        "id": "step_gen",
        "object": "thread.run.step",
        "created_at": 1,
        "run_id": "run_1",
        "assistant_id": "asst_1",
        "thread_id": "thread_1",
        "type": "tool_calls",
        "status": "in_progress",
        "cancelled_at": None,
        "completed_at": None,
        "expires_at": None,
        "failed_at": None,
        "last_error": None,
        "step_details": {"type": "tool_calls", "tool_calls": []},
        "usage": None,
    }
    stream = _sse(
        [
            ("thread.run.step.created", created),
            *((DELTA, d) for d in deltas),
            ("thread.run.step.completed", dict(created, status="completed")),
        ]
    )
    return [
        json.dumps(page).encode(),
        json.dumps(steps[0]).encode(),
        b"\n".join(json.dumps(s).encode() for s in steps) + b"\n",
        json.dumps(deltas[0]).encode(),
        stream,
        stream[: len(stream) // 2],  # cut mid-stream
        _sse([(DELTA, d) for d in deltas[:5]] + [("thread.run.step.created", created)]),
    ]


def seed_bodies() -> tuple[list[tuple[str, bytes]], str]:
    """The seed bodies, by source name, and a line saying where they came from."""
    bodies: list[tuple[str, bytes]] = []
    real = sorted(REAL.glob("*.json")) + sorted(REAL.glob("*.sse")) if REAL.is_dir() else []
    bodies += [(p.name, p.read_bytes()) for p in real]
    bodies += [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*")) if p.is_file()]
    bodies += [(f"generated-{i}", b) for i, b in enumerate(_generated())]
    bodies += [(f"framing-{i}", b) for i, b in enumerate(_FRAMING)]
    where = (
        f"{len(real)} real fixtures from {REAL}"
        if real
        else f"no real fixtures (none at {REAL}; set STEPWIRE_FIXTURES): "
        "samples/ and the seeded generator only"
    )
    return bodies, where


def seed_inputs() -> list[bytes]:
    """Each seed body in a few framings: whole, in random chunks, byte by byte."""
    bodies, _ = seed_bodies()
    rng = random.Random(1)
    inputs = []
    for _, body in bodies:
        inputs.append(make_input(body))
        cuts = sorted(rng.randrange(min(len(body), 0xFFFF) + 1) for _ in range(8))
        inputs.append(make_input(body, READ | (1 << KIND_SHIFT) | STRICT, cuts))
        if len(body) <= BYTEWISE_LIMIT:
            inputs.append(make_input(body, BYTEWISE | FEW_STEPS | (3 << KIND_SHIFT)))
    return inputs


def build_corpus(directory: Path) -> str:
    """Write the seed inputs into ``directory`` (replacing its contents)."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        if old.is_file():
            old.unlink()
    inputs = seed_inputs()
    for data in inputs:
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
    _, where = seed_bodies()
    return f"{len(inputs)} seed inputs in {directory}, from {where}"


def replay_paths(paths: Iterable[str]) -> int:
    """Run every file (directories: every file in them) through the checks once."""
    count = 0
    for name in paths:
        path = Path(name)
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for f in files:
            try:
                data = f.read_bytes()
            except FileNotFoundError:  # a running fuzzer replaced it
                continue
            try:
                check(data)
            except BaseException:
                print(f"finding: {f}", file=sys.stderr)
                raise
            count += 1
    return count


def main(argv: list[str]) -> None:
    if argv[1:2] == ["--build-corpus"]:
        print(build_corpus(Path(argv[2] if len(argv) > 2 else "build/fuzz-corpus")))
        return
    print(
        f"stepwire {stepwire.__version__} from {Path(stepwire.__file__).parent}; "
        f"Cython build {cython_stream.twin.__file__}",
        file=sys.stderr,
    )
    if argv[1:2] == ["--replay"]:
        count = replay_paths(argv[2:])
        print(f"replayed {count} inputs: no finding")
        return
    if atheris is None:
        raise SystemExit("atheris is not installed: pip install '.[fuzz]' (or use --replay)")
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
