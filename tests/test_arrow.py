"""stepwire.arrow: the two schemas, tables(), iter_batches() over every input kind, the
on_error policies, write_parquet's all-or-nothing files, and that nothing decoded is lost
on the way into the columns."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

import stepgen
import stepwire
import stepwire.arrow
from helpers import frame, real_params, step_object, tool_calls
from stepgen.azure import AZURE_TOOL_TYPES, azure_pages, azure_streams

iter_batches = stepwire.arrow.iter_batches
tables = stepwire.arrow.tables
write_parquet = stepwire.arrow.write_parquet

STEPS = stepgen.generate_steps(120, seed=21)
LINES = [orjson.dumps(s) for s in STEPS]
NDJSON = b"\n".join(LINES) + b"\n"
UTC = dt.timezone.utc


def _decoded(bodies: Iterable[dict[str, Any]]) -> list[stepwire.RunStep]:
    return [stepwire.decode_step(orjson.dumps(b)) for b in bodies]


# The columns holding JSON text: compared as the JSON they hold (the text's layout, its
# key order and spacing, is the writer's own).
JSON_COLUMNS = frozenset({"step_details", "extra", "payload"})


def _plain_rows(table: pa.Table | pa.RecordBatch) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for row in rows:
        for name in JSON_COLUMNS & row.keys():
            if row[name] is not None:
                row[name] = json.loads(row[name])
    return rows


def _rows(steps: Iterable[stepwire.RunStep]) -> dict[str, list[dict[str, Any]]]:
    """The expected rows: tables() of the decoded steps."""
    return {name: _plain_rows(t) for name, t in tables(steps).items()}


def _batch_rows(batches: Iterable[dict[str, pa.RecordBatch]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"steps": [], "tool_calls": []}
    for batch in batches:
        assert set(batch) == {"steps", "tool_calls"}
        for name, rb in batch.items():
            out[name].extend(_plain_rows(rb))
    return out


EXPECTED = _rows(_decoded(STEPS))


# -- the schemas ---------------------------------------------------------------------

TS = pa.timestamp("s", tz="UTC")
STEP_FIELDS = [
    ("id", pa.string(), False),
    ("object", pa.string(), False),
    ("thread_id", pa.string(), False),
    ("run_id", pa.string(), False),
    ("assistant_id", pa.string(), False),
    ("type", pa.string(), False),
    ("status", pa.string(), False),
    ("created_at", TS, False),
    ("expires_at", TS, True),
    ("cancelled_at", TS, True),
    ("failed_at", TS, True),
    ("completed_at", TS, True),
    ("expired_at", TS, True),
    ("last_error_code", pa.string(), True),
    ("last_error_message", pa.string(), True),
    ("prompt_tokens", pa.int64(), True),
    ("completion_tokens", pa.int64(), True),
    ("total_tokens", pa.int64(), True),
    ("cached_tokens", pa.int64(), True),
    ("reasoning_tokens", pa.int64(), True),
    ("metadata", pa.map_(pa.string(), pa.string()), True),
    ("step_details", pa.string(), False),
    ("extra", pa.string(), True),
]
CALL_FIELDS = [
    ("step_id", pa.string(), False),
    ("run_id", pa.string(), False),
    ("thread_id", pa.string(), False),
    ("created_at", TS, False),
    ("position", pa.int32(), False),
    ("id", pa.string(), True),
    ("type", pa.string(), True),
    ("name", pa.string(), True),
    ("arguments", pa.string(), True),
    ("output", pa.string(), True),
    ("payload", pa.string(), False),
]


def _as_stored(schema: pa.Schema) -> pa.Schema:
    """``schema`` as a Parquet file gives it back: Parquet has no seconds unit, so the
    seconds are stored (and read) as milliseconds, the same instants."""
    fields = [f.with_type(pa.timestamp("ms", tz="UTC")) if f.type == TS else f for f in schema]
    return pa.schema(fields)


def _fields(schema: pa.Schema) -> list[tuple[str, pa.DataType, bool]]:
    return [(f.name, f.type, f.nullable) for f in schema]


def _types_within(tp: pa.DataType) -> Iterator[pa.DataType]:
    yield tp
    if pa.types.is_map(tp):
        yield from _types_within(tp.key_type)
        yield from _types_within(tp.item_type)
    else:
        for i in range(tp.num_fields):
            yield from _types_within(tp.field(i).type)


def test_schemas_are_as_documented() -> None:
    assert _fields(stepwire.arrow.STEPS_SCHEMA) == STEP_FIELDS
    assert _fields(stepwire.arrow.TOOL_CALLS_SCHEMA) == CALL_FIELDS
    for schema in (stepwire.arrow.STEPS_SCHEMA, stepwire.arrow.TOOL_CALLS_SCHEMA):
        assert not schema.metadata
        for field in schema:
            # No struct anywhere (so never an empty one), not even inside the map.
            assert not any(pa.types.is_struct(t) for t in _types_within(field.type)), field
    metadata = stepwire.arrow.STEPS_SCHEMA.field("metadata").type
    assert metadata.key_type == pa.string()
    assert metadata.item_type == pa.string()


def test_tables_have_the_schemas_and_refuse_what_is_not_a_step() -> None:
    result = tables(_decoded(STEPS))
    assert list(result) == ["steps", "tool_calls"]
    assert result["steps"].schema == stepwire.arrow.STEPS_SCHEMA
    assert result["tool_calls"].schema == stepwire.arrow.TOOL_CALLS_SCHEMA
    assert result["steps"].num_rows == len(STEPS)
    empty = tables([])
    assert [t.num_rows for t in empty.values()] == [0, 0]
    assert empty["steps"].schema == stepwire.arrow.STEPS_SCHEMA
    with pytest.raises(TypeError):
        tables([STEPS[0]])  # a dict, not a decoded RunStep
    with pytest.raises(TypeError):
        tables([stepwire.decode_page(orjson.dumps(stepgen.generate_page(2, seed=1)))])


def test_iter_batches_gives_the_rows_of_tables() -> None:
    batches = list(iter_batches(NDJSON))
    assert len(batches) == 1  # 120 steps, under the default batch size
    for batch in batches:
        assert batch["steps"].schema == stepwire.arrow.STEPS_SCHEMA
        assert batch["tool_calls"].schema == stepwire.arrow.TOOL_CALLS_SCHEMA
    assert _batch_rows(batches) == EXPECTED


def _calls_per_step(steps: list[dict[str, Any]]) -> dict[str, int]:
    out = {}
    for s in steps:
        details = s["step_details"]
        out[s["id"]] = len(details["tool_calls"]) if details["type"] == "tool_calls" else 0
    return out


@pytest.mark.parametrize("batch_rows", [1, 7, 60, 119, 120, 121, 10_000])
def test_batch_rows_bounds_every_batch(batch_rows: int) -> None:
    calls = _calls_per_step(STEPS)
    batches = list(iter_batches(NDJSON, batch_rows=batch_rows))
    sizes = [b["steps"].num_rows for b in batches]
    full, rest = divmod(len(STEPS), batch_rows)
    assert sizes == [batch_rows] * full + ([rest] if rest else [])
    start = 0
    for batch in batches:
        ids = [s["id"] for s in STEPS[start : start + batch["steps"].num_rows]]
        start += batch["steps"].num_rows
        assert batch["steps"].column("id").to_pylist() == ids
        # The batch's calls are its own steps' calls, all of them, in order.
        expected_calls = [i for i in ids for _ in range(calls[i])]
        assert batch["tool_calls"].column("step_id").to_pylist() == expected_calls
    assert _batch_rows(batches) == EXPECTED


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_batch_rows_must_be_a_positive_int(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="batch_rows"):
        list(iter_batches(NDJSON, batch_rows=value))


# -- every kind of source gives the same rows -------------------------------------------

PAGE = stepgen.generate_page(0, seed=0) | {"data": STEPS}


def _pages_ndjson() -> bytes:
    pages = []
    for start in range(0, len(STEPS), 25):
        data = STEPS[start : start + 25]
        page = {"object": "list", "data": data, "first_id": data[0]["id"]}
        pages.append(orjson.dumps(page | {"last_id": data[-1]["id"], "has_more": True}))
    return b"\n".join(pages) + b"\n"


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# Each source: a function of (tmp_path, stack) giving what iter_batches is handed.
Source = Callable[[Path, ExitStack], Any]
SOURCES: dict[str, Source] = {
    "ndjson-path": lambda d, s: _file(d, "steps.ndjson", NDJSON),
    "ndjson-str-path": lambda d, s: str(_file(d, "steps.ndjson", NDJSON)),
    "ndjson-binary-file": lambda d, s: s.enter_context(_file(d, "x.ndjson", NDJSON).open("rb")),
    "ndjson-bytesio": lambda d, s: io.BytesIO(NDJSON),
    "ndjson-bytes": lambda d, s: NDJSON,
    "ndjson-bytearray": lambda d, s: bytearray(NDJSON),
    "ndjson-memoryview": lambda d, s: memoryview(NDJSON),
    "ndjson-crlf-blank-lines": lambda d, s: b"\r\n\r\n".join(LINES) + b"\r\n \r\n",
    "gzip-path": lambda d, s: _file(d, "steps.ndjson.gz", gzip.compress(NDJSON)),
    "gzip-misleading-suffix": lambda d, s: _file(d, "steps.ndjson.zst", gzip.compress(NDJSON)),
    "gzip-no-suffix": lambda d, s: _file(d, "steps.log", gzip.compress(NDJSON)),
    "gzip-bytes": lambda d, s: gzip.compress(NDJSON),
    "gzip-binary-file": lambda d, s: s.enter_context(
        _file(d, "steps", gzip.compress(NDJSON)).open("rb")
    ),
    "zstd-path": lambda d, s: _file(d, "steps.ndjson.zst", _zstd(NDJSON)),
    "zstd-misleading-suffix": lambda d, s: _file(d, "steps.ndjson.gz", _zstd(NDJSON)),
    "zstd-bytes": lambda d, s: _zstd(NDJSON),
    "zstd-binary-file": lambda d, s: s.enter_context(_file(d, "steps", _zstd(NDJSON)).open("rb")),
    "page-bytes": lambda d, s: orjson.dumps(PAGE),
    "page-pretty-bytes": lambda d, s: json.dumps(PAGE, indent=2).encode(),
    "page-pretty-path": lambda d, s: _file(d, "page.json", json.dumps(PAGE, indent=4).encode()),
    "page-pretty-gzip": lambda d, s: gzip.compress(json.dumps(PAGE, indent=2).encode()),
    "pages-ndjson": lambda d, s: _pages_ndjson(),
    "pages-ndjson-zstd-path": lambda d, s: _file(d, "pages.zst", _zstd(_pages_ndjson())),
    "array-pretty": lambda d, s: json.dumps(STEPS, indent=2).encode(),
}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_every_source_kind_gives_the_same_rows(kind: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        source = SOURCES[kind](tmp_path, stack)
        batches = list(iter_batches(source, batch_rows=50))
        if hasattr(source, "closed"):
            assert not source.closed  # the caller's file stays the caller's
    assert [b["steps"].num_rows for b in batches] == [50, 50, 20]
    assert _batch_rows(batches) == EXPECTED


@pytest.mark.parametrize("pretty", [False, True], ids=["compact", "pretty"])
def test_a_single_step_body(pretty: bool, tmp_path: Path) -> None:
    step = next(s for s in STEPS if s["type"] == "tool_calls")
    body = json.dumps(step, indent=2 if pretty else None).encode()
    expected = _rows(_decoded([step]))
    assert expected["tool_calls"]  # the step's calls are rows too
    assert _batch_rows(iter_batches(body)) == expected
    assert _batch_rows(iter_batches(_file(tmp_path, "step.json", body))) == expected


def _accumulated(body: bytes) -> list[stepwire.RunStep]:
    acc = stepwire.Accumulator()
    acc.feed(body)
    acc.close()
    return list(acc.steps.values())


@pytest.mark.parametrize("path", real_params(".sse"))
def test_an_sse_capture_gives_its_final_snapshots(path: Path, tmp_path: Path) -> None:
    body = path.read_bytes()
    expected = _rows(_accumulated(body))
    assert expected["steps"]
    assert _batch_rows(iter_batches(path)) == expected
    assert _batch_rows(iter_batches(body, batch_rows=1)) == expected
    assert _batch_rows(iter_batches(_file(tmp_path, "capture.txt.gz", gzip.compress(body)))) == (
        expected
    )


@pytest.mark.parametrize("path", real_params(".json"))
def test_a_real_body_gives_its_steps(path: Path) -> None:
    body = path.read_bytes()
    parsed = json.loads(body)
    if parsed["object"] == "list":
        steps = stepwire.decode_page(body).data
    else:
        steps = [stepwire.decode_step(body)]
    assert _batch_rows(iter_batches(path)) == _rows(steps)


def test_generated_azure_streams_give_their_completed_steps() -> None:
    for stream in azure_streams(seed=4):
        batches = list(iter_batches(stream.sse))
        assert _batch_rows(batches) == _rows(_accumulated(stream.sse)), stream.name
        assert _batch_rows(batches) == _rows(_decoded([stream.completed])), stream.name


@pytest.mark.parametrize(
    "body",
    [b"", b"\n", b"\n \t\r\n\n", gzip.compress(b""), _zstd(b""), gzip.compress(b"\n\n")],
    ids=["empty", "newline", "blank-lines", "gzip-empty", "zstd-empty", "gzip-blank"],
)
def test_empty_input_yields_nothing(body: bytes, tmp_path: Path) -> None:
    assert list(iter_batches(body)) == []
    assert list(iter_batches(io.BufferedReader(io.BytesIO(body)))) == []  # type: ignore[arg-type]
    assert list(iter_batches(_file(tmp_path, "empty", body))) == []
    paths = write_parquet(body, tmp_path / "out")
    assert pq.read_table(paths["steps"]).num_rows == 0
    assert pq.read_table(paths["tool_calls"]).num_rows == 0
    assert pq.read_schema(paths["steps"]).equals(_as_stored(stepwire.arrow.STEPS_SCHEMA))
    assert pq.read_schema(paths["tool_calls"]).equals(_as_stored(stepwire.arrow.TOOL_CALLS_SCHEMA))


def test_a_page_without_steps_yields_nothing() -> None:
    empty = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    assert list(iter_batches(orjson.dumps(empty))) == []
    assert list(iter_batches(json.dumps(empty, indent=2).encode())) == []


# -- on_error ---------------------------------------------------------------------------

GOOD_MAX = max(len(line) for line in LINES)
LIMIT = GOOD_MAX + 16
# A valid step, padded past the limit: too long is an error whatever the content.
TOO_LONG = LINES[0] + b" " * (LIMIT + 100 - len(LINES[0]))
# Line number -> what is planted there; every other line is the next good step.
PLANTED = {
    4: b"{oops",
    9: b'{"id": 5, "object": "thread.run.step"}',
    10: b"   ",  # blank: counted, neither a step nor an error
    15: b"[1, 2]",
    16: b"",
    22: TOO_LONG,
    23: b"\xff\xfe not utf-8",
    40: b'{"id": "step_x", "object": "thread.run.step"',  # cut short
}
BAD_LINES = [n for n, line in PLANTED.items() if line.strip()]


def _planted(lines: list[bytes]) -> tuple[bytes, list[int]]:
    """An NDJSON body of ``lines`` with PLANTED's lines in place; the good lines' indexes."""
    out: list[bytes] = []
    used: list[int] = []
    good = iter(enumerate(lines))
    number = 0
    while True:
        number += 1
        if number in PLANTED:
            out.append(PLANTED[number])
            continue
        item = next(good, None)
        if item is None:
            break
        used.append(item[0])
        out.append(item[1])
    assert max(PLANTED) < number
    return b"\n".join(out) + b"\n", used


BAD_BODY, GOOD_INDEXES = _planted(LINES)
GOOD_EXPECTED = _rows(_decoded(STEPS[i] for i in GOOD_INDEXES))
assert list(range(len(STEPS))) == GOOD_INDEXES


def _containers(tmp_path: Path, body: bytes) -> Iterator[Any]:
    """The same body as bytes, as plain, gzip and zstd files, and as a gzip file object."""
    yield body
    yield _file(tmp_path, "bad.ndjson", body)
    yield _file(tmp_path, "bad.ndjson.gz", gzip.compress(body))
    yield _file(tmp_path, "bad.log", _zstd(body))
    # Buffered: a file object is sniffed for compression when it can be peeked.
    yield io.BufferedReader(io.BytesIO(gzip.compress(body)))  # type: ignore[arg-type]


def test_on_error_raise_names_the_first_bad_line(tmp_path: Path) -> None:
    for source in _containers(tmp_path, BAD_BODY):
        with pytest.raises(stepwire.DecodeError) as info:
            list(iter_batches(source, max_line_bytes=LIMIT))
        assert info.value.line == BAD_LINES[0]
    # The default is to raise.
    with pytest.raises(stepwire.DecodeError):
        list(iter_batches(BAD_BODY, max_line_bytes=LIMIT))


def test_on_error_raise_names_a_too_long_line(tmp_path: Path) -> None:
    body = b"\n".join([*LINES[:5], b"", TOO_LONG, *LINES[5:]])
    for source in _containers(tmp_path, body):
        with pytest.raises(stepwire.DecodeError) as info:
            list(iter_batches(source, max_line_bytes=LIMIT, on_error="raise"))
        assert info.value.line == 7
    # Under the default limit, the same line is a step.
    assert len(_batch_rows(iter_batches(body))["steps"]) == len(LINES) + 1


def test_on_error_skip_drops_only_the_bad_lines(tmp_path: Path) -> None:
    for source in _containers(tmp_path, BAD_BODY):
        rows = _batch_rows(iter_batches(source, on_error="skip", max_line_bytes=LIMIT))
        assert rows == GOOD_EXPECTED


def test_on_error_callable_sees_every_bad_line_with_its_number(tmp_path: Path) -> None:
    for source in _containers(tmp_path, BAD_BODY):
        errors: list[stepwire.DecodeError] = []
        batches = iter_batches(source, on_error=errors.append, max_line_bytes=LIMIT, batch_rows=9)
        assert _batch_rows(batches) == GOOD_EXPECTED
        assert all(type(e) is stepwire.DecodeError for e in errors)
        assert [e.line for e in errors] == BAD_LINES


def test_on_error_callable_over_pages(tmp_path: Path) -> None:
    pages = _pages_ndjson().splitlines()
    body = b"\n".join([pages[0], b"", b"{oops", pages[1], b'{"object": "list"}', *pages[2:]])
    for source in _containers(tmp_path, body):
        errors: list[stepwire.DecodeError] = []
        rows = _batch_rows(iter_batches(source, on_error=errors.append))
        assert [e.line for e in errors] == [3, 5]
        assert rows == EXPECTED
    for source in _containers(tmp_path, body):
        assert _batch_rows(iter_batches(source, on_error="skip")) == EXPECTED


def test_on_error_skip_when_the_first_line_is_bad() -> None:
    """A first line cut short is a bad line like any other: skipped, the rest read."""
    for first in (b"{oops", b'{"id": "step_x", "object": "thread.run.step"', b"[1, 2]"):
        body = b"\n".join([first, *LINES])
        errors: list[stepwire.DecodeError] = []
        assert _batch_rows(iter_batches(body, on_error=errors.append)) == EXPECTED, first
        assert [e.line for e in errors] == [1]
        with pytest.raises(stepwire.DecodeError) as info:
            list(iter_batches(body))
        assert info.value.line == 1


def test_on_error_strict_counts_the_same_lines() -> None:
    bad = orjson.dumps(dict(STEPS[1], surprise=1))
    body = b"\n".join([LINES[0], b"", bad, LINES[2]])
    assert len(_batch_rows(iter_batches(body))["steps"]) == 3
    errors: list[stepwire.DecodeError] = []
    rows = _batch_rows(iter_batches(body, strict=True, on_error=errors.append))
    assert [e.line for e in errors] == [3]
    assert rows == _rows(_decoded([STEPS[0], STEPS[2]]))


def _stream_with_a_bad_event() -> tuple[bytes, list[dict[str, Any]]]:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    first = step_object(tool_calls(call), step_id="step_a", status="completed")
    second = step_object({"type": "message_creation", "message_creation": {"message_id": "m"}})
    second["id"] = "step_b"
    body = b"".join(
        [
            frame("thread.run.step.created", first),
            frame("thread.run.step.delta", b"{not json"),
            frame("thread.run.step.created", second),
            frame("thread.run.step.completed", b'{"id": 5}'),
            frame("done", b"[DONE]"),
        ]
    )
    return body, [first, second]


def test_on_error_over_an_event_stream() -> None:
    body, steps = _stream_with_a_bad_event()
    with pytest.raises(stepwire.StreamError):
        list(iter_batches(body))
    errors: list[stepwire.StepwireError] = []
    rows = _batch_rows(iter_batches(body, on_error=errors.append))
    assert len(errors) == 2
    assert all(isinstance(e, stepwire.StreamError) for e in errors)
    assert rows == _rows(_decoded(steps))
    assert _batch_rows(iter_batches(body, on_error="skip")) == rows


@pytest.mark.parametrize("on_error", ["ignore", "RAISE", None, 3, ["skip"]])
def test_an_invalid_on_error_is_a_value_error(on_error: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="on_error"):
        list(iter_batches(NDJSON, on_error=on_error))
    with pytest.raises(ValueError, match="on_error"):
        write_parquet(NDJSON, tmp_path, on_error=on_error)
    assert list(tmp_path.iterdir()) == []


# -- write_parquet -------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["zstd", "snappy", "none"])
def test_write_parquet_writes_both_tables(compression: str, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"  # created
    paths = write_parquet(NDJSON, out, batch_rows=32, compression=compression)
    assert paths == {"steps": out / "steps.parquet", "tool_calls": out / "tool_calls.parquet"}
    assert all(isinstance(p, Path) for p in paths.values())
    assert sorted(p.name for p in out.iterdir()) == ["steps.parquet", "tool_calls.parquet"]
    for name, schema in (
        ("steps", stepwire.arrow.STEPS_SCHEMA),
        ("tool_calls", stepwire.arrow.TOOL_CALLS_SCHEMA),
    ):
        assert pq.read_schema(paths[name]).equals(_as_stored(schema))
        table = pq.read_table(paths[name])
        assert table.schema.equals(_as_stored(schema))
        assert _plain_rows(table) == EXPECTED[name]
        # The cast back to the documented schema is exact.
        assert _plain_rows(table.cast(schema)) == EXPECTED[name]
    # A batch is a row group.
    assert pq.ParquetFile(paths["steps"]).metadata.num_row_groups == 4
    # The directory may be a str; a second run replaces the pair.
    again = write_parquet(_pages_ndjson(), str(out))
    assert again == paths
    assert _plain_rows(pq.read_table(paths["steps"])) == EXPECTED["steps"]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


class BoomError(Exception):
    pass


def _raise_boom(error: stepwire.DecodeError) -> None:
    raise BoomError(error.line)


class _FailingRaw(io.RawIOBase):
    """Raw bytes whose reading fails past ``fail_at`` bytes (a dropped connection)."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        self.data, self.pos, self.fail_at = data, 0, fail_at

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.fail_at:
            raise OSError("connection reset")
        chunk = self.data[self.pos : self.pos + min(len(buffer), 4096)]
        buffer[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def _failing_file(data: bytes, fail_at: int) -> io.BufferedReader:
    """A buffered file (whatever way it is read: read, read1, readline) that fails midway."""
    return io.BufferedReader(_FailingRaw(data, fail_at), buffer_size=4096)


FAILURES: dict[str, tuple[Callable[[], Any], dict[str, Any], type[BaseException]]] = {
    "raise-mid-file": (lambda: BAD_BODY, {"max_line_bytes": LIMIT}, stepwire.DecodeError),
    "callable-raises": (lambda: BAD_BODY, {"on_error": _raise_boom}, BoomError),
    "reading-fails": (lambda: _failing_file(NDJSON, len(NDJSON) // 2), {}, OSError),
    "too-long-line": (
        lambda: NDJSON + TOO_LONG + b"\n",
        {"max_line_bytes": LIMIT},
        stepwire.DecodeError,
    ),
    "bad-event": (lambda: _stream_with_a_bad_event()[0], {}, stepwire.StreamError),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_an_interrupted_write_leaves_no_file(failure: str, tmp_path: Path) -> None:
    make, kwargs, error = FAILURES[failure]
    out = tmp_path / "fresh"
    with pytest.raises(error):
        # Small batches: row groups were written before the failure.
        write_parquet(make(), out, batch_rows=5, **kwargs)
    assert not out.exists()  # not even the directory it made


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_write_leaves_an_existing_pair_untouched(failure: str, tmp_path: Path) -> None:
    make, kwargs, error = FAILURES[failure]
    paths = write_parquet(_pages_ndjson(), tmp_path)
    before = _snapshot(tmp_path)
    stats = {name: p.stat().st_mtime_ns for name, p in paths.items()}
    with pytest.raises(error):
        write_parquet(make(), tmp_path, batch_rows=5, **kwargs)
    assert _snapshot(tmp_path) == before
    assert {name: p.stat().st_mtime_ns for name, p in paths.items()} == stats
    assert _plain_rows(pq.read_table(paths["steps"])) == EXPECTED["steps"]


def test_write_parquet_leaves_other_files_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    write_parquet(NDJSON, tmp_path)
    with pytest.raises(stepwire.DecodeError):
        write_parquet(BAD_BODY, tmp_path, max_line_bytes=LIMIT)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt", "steps.parquet", "tool_calls.parquet"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


# -- lossless ------------------------------------------------------------------------------


def _plain(obj: Any) -> Any:
    return json.loads(stepwire.encode(obj))


def _decoded_calls(steps: list[stepwire.RunStep]) -> dict[tuple[str, int], Any]:
    """Every tool call as decoded (its JSON), by (step id, position)."""
    out = {}
    for step in steps:
        details = _plain(step.step_details)
        for position, call in enumerate(details.get("tool_calls") or []):
            out[step.id, position] = call
    return out


def _raw_rows(batches: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of tables or record batches, JSON columns left as text."""
    out: dict[str, list[dict[str, Any]]] = {"steps": [], "tool_calls": []}
    for batch in batches:
        for name in out:
            out[name].extend(batch[name].to_pylist())
    return out


def _assert_lossless(steps: list[stepwire.RunStep], source: Any) -> set[str]:
    """Every JSON column against the decoded objects, in tables() of the steps and in the
    batches of ``source`` (their input); the tool types seen."""
    assert len({s.id for s in steps}) == len(steps)
    calls = _decoded_calls(steps)
    types = set()
    for result in (_raw_rows([tables(steps)]), _raw_rows(iter_batches(source))):
        step_rows = result["steps"]
        assert [r["id"] for r in step_rows] == [s.id for s in steps]
        for step, row in zip(steps, step_rows, strict=True):
            assert json.loads(row["step_details"]) == _plain(step.step_details)
        rows = result["tool_calls"]
        assert [(r["step_id"], r["position"]) for r in rows] == list(calls)
        for row in rows:
            call = calls[row["step_id"], row["position"]]
            # docs/analytics.md: the whole call object, id and type included.
            assert json.loads(row["payload"]) == call, row["type"]
            assert (row["id"], row["type"]) == (call.get("id"), call.get("type"))
            types.add(row["type"])
    return types


def _pages_of(bodies: list[bytes]) -> bytes:
    """Pretty-printed pages as an NDJSON of pages (one compact page a line)."""
    return b"\n".join(orjson.dumps(json.loads(b)) for b in bodies)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_azure_pages_lose_nothing(seed: int) -> None:
    bodies = azure_pages(seed)
    steps = [s for body in bodies for s in stepwire.decode_page(body).data]
    assert _assert_lossless(steps, _pages_of(bodies)) == {*AZURE_TOOL_TYPES, "some_future_tool"}
    for body in bodies:  # pretty-printed, as the service sends them
        page = stepwire.decode_page(body).data
        _assert_lossless(page, body)
        assert _batch_rows(iter_batches(body)) == _rows(page)


@pytest.mark.parametrize("seed", [0, 5])
def test_azure_streams_lose_nothing(seed: int) -> None:
    types = set()
    for stream in azure_streams(seed):
        types |= _assert_lossless(_accumulated(stream.sse), stream.sse)
    assert types == {*AZURE_TOOL_TYPES, "some_future_tool"}


@pytest.mark.parametrize(
    "drift",
    [lambda p: p, stepgen.with_unknown_tool_types, stepgen.with_unknown_field],
    ids=["openai", "unknown-tool-types", "unknown-field"],
)
def test_openai_pages_lose_nothing(drift: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    page = drift(stepgen.generate_page(150, seed=8))
    body = orjson.dumps(page)
    steps = stepwire.decode_page(body).data
    types = _assert_lossless(steps, body)
    ndjson = b"\n".join(orjson.dumps(s) for s in page["data"])
    assert _assert_lossless(steps, ndjson) == types
    assert len(types) >= 6
    unknown = {t for t in types if t.startswith("future_")}
    assert bool(unknown) == (drift is stepgen.with_unknown_tool_types)


def test_function_columns_are_the_calls_own() -> None:
    steps = _decoded(STEPS)
    calls = _decoded_calls(steps)
    created = {s.id: _ts(s.created_at) for s in steps}
    seen = 0
    for row in tables(steps)["tool_calls"].to_pylist():
        call = calls[row["step_id"], row["position"]]
        if call["type"] == "function":
            seen += 1
            assert row["name"] == call["function"]["name"]
            assert row["arguments"] == call["function"]["arguments"]
            assert row["output"] == call["function"].get("output")
        assert row["created_at"] == created[row["step_id"]]
    assert seen


def test_extra_carries_unknown_top_level_fields() -> None:
    page = stepgen.with_unknown_field(stepgen.generate_page(40, seed=2))
    steps = stepwire.decode_page(orjson.dumps(page)).data
    for body, row in zip(page["data"], tables(steps)["steps"].to_pylist(), strict=True):
        assert json.loads(row["extra"]) == {"rollout": body["rollout"]}
    # Without one, extra is null.
    assert {r["extra"] for r in EXPECTED["steps"]} == {None}


def test_extra_carries_unknown_fields_of_usage_and_last_error() -> None:
    stream = next(s for s in azure_streams(0) if s.name == "extra_fields")
    (step,) = _accumulated(stream.sse)
    (row,) = tables([step])["steps"].to_pylist()
    extra = json.loads(row["extra"])
    assert extra["extra_flag"] is True
    assert extra["usage"] == stream.completed["usage"]
    assert extra["usage"]["extra_flag"] is True
    body = dict(STEPS[0], last_error={"code": "server_error", "message": "m", "trace": "t1"})
    (row,) = _rows(_decoded([body]))["steps"]
    assert row["extra"] == {"last_error": body["last_error"]}
    assert (row["last_error_code"], row["last_error_message"]) == ("server_error", "m")


def _usage_row(usage: Any) -> dict[str, Any]:
    body = dict(STEPS[0])
    if usage == "absent":
        body.pop("usage", None)
    else:
        body["usage"] = usage
    (row,) = _rows(_decoded([body]))["steps"]
    return row


BASE_USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


@pytest.mark.parametrize(
    ("details", "cached"),
    [
        ({"prompt_token_details": {"cached_tokens": 7}}, 7),
        ({"prompt_tokens_details": {"cached_tokens": 8}}, 8),
        ({"prompt_token_details": None}, None),
        ({"prompt_tokens_details": None}, None),
        ({"prompt_token_details": {}}, None),
        ({"prompt_tokens_details": {"cached_tokens": None}}, None),
        ({}, None),
        ({"prompt_token_details": None, "prompt_tokens_details": {"cached_tokens": 9}}, 9),
        ({"prompt_token_details": {"cached_tokens": 4}, "prompt_tokens_details": None}, 4),
        ({"prompt_token_details": {}, "prompt_tokens_details": {"cached_tokens": 3}}, 3),
        ({"prompt_token_details": {"cached_tokens": 0}, "prompt_tokens_details": {}}, 0),
    ],
)
def test_cached_tokens_coalesce_both_spellings(details: dict[str, Any], cached: Any) -> None:
    row = _usage_row(BASE_USAGE | details)
    assert row["cached_tokens"] == cached
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (10, 5, 15)
    assert row["extra"] is None  # both spellings are modelled, not extra


@pytest.mark.parametrize(
    ("details", "reasoning"),
    [
        ({"completion_tokens_details": {"reasoning_tokens": 64}}, 64),
        ({"completion_tokens_details": {"reasoning_tokens": 0}}, 0),
        ({"completion_tokens_details": {"reasoning_tokens": None}}, None),
        ({"completion_tokens_details": {}}, None),
        ({"completion_tokens_details": None}, None),
        ({}, None),
    ],
)
def test_reasoning_tokens(details: dict[str, Any], reasoning: Any) -> None:
    assert _usage_row(BASE_USAGE | details)["reasoning_tokens"] == reasoning


@pytest.mark.parametrize("usage", [None, "absent"])
def test_no_usage_is_null_tokens(usage: Any) -> None:
    row = _usage_row(usage)
    names = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens")
    assert [row[n] for n in (*names, "reasoning_tokens")] == [None] * 5


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"tenant": "acme", "n": "1", "": "empty key", "ü": "日本"}, None),
        ({}, []),
        (None, None),
        ("absent", None),
    ],
)
def test_metadata_is_a_string_map(metadata: Any, expected: Any) -> None:
    body = dict(STEPS[0])
    body.pop("metadata", None)
    if metadata != "absent":
        body["metadata"] = metadata
    (step,) = _decoded([body])
    column = tables([step])["steps"].column("metadata")
    assert column.type == pa.map_(pa.string(), pa.string())
    (value,) = column.to_pylist()
    if isinstance(metadata, dict) and metadata:
        assert value == list(metadata.items())
    else:
        assert value == expected


def _ts(seconds: int | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, UTC)


def test_timestamps_are_utc_seconds() -> None:
    body = dict(
        STEPS[0],
        created_at=1_700_000_000,
        expires_at=1_700_000_600,
        cancelled_at=None,
        failed_at=1_700_000_007,
        completed_at=None,
        expired_at=1_700_000_601,
    )
    table = tables(_decoded([body]))["steps"]
    (row,) = table.to_pylist()
    assert row["created_at"] == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert row["created_at"].utcoffset() == dt.timedelta(0)
    for name in ("expires_at", "cancelled_at", "failed_at", "completed_at", "expired_at"):
        assert row[name] == _ts(body[name]), name
        assert table.schema.field(name).type == TS
    seconds = table.column("created_at").cast(pa.int64()).to_pylist()
    assert seconds == [1_700_000_000]
    # Every generated step: created_at is the body's number of seconds.
    got = [r["created_at"] for r in EXPECTED["steps"]]
    assert got == [_ts(s["created_at"]) for s in STEPS]
    assert [r["completed_at"] for r in EXPECTED["steps"]] == [_ts(s["completed_at"]) for s in STEPS]
    # A step without expired_at (absent) is null, as one with null.
    assert {r["expired_at"] for r in EXPECTED["steps"]} == {None}


def test_a_key_first_seen_late_is_kept(tmp_path: Path) -> None:
    """3,000 lines of one shape (past the samples Polars and pyarrow infer from; DuckDB's,
    test_analytics_queries.py), then a tool type and step fields never seen before."""
    template = {
        "id": "",
        "object": "thread.run.step",
        "created_at": 1_700_000_000,
        "run_id": "run_1",
        "assistant_id": "asst_1",
        "thread_id": "thread_1",
        "type": "message_creation",
        "status": "completed",
        "step_details": {"type": "message_creation", "message_creation": {"message_id": "m"}},
    }
    late_call = {
        "id": "call_late",
        "type": "holo_search",
        "holo_search": {"query": "late", "hits": [{"score": 0.5, "deep": {"k": None}}]},
        "flag": False,
    }
    late = dict(
        template,
        id="step_late",
        type="tool_calls",
        step_details={"type": "tool_calls", "tool_calls": [late_call]},
        rollout={"cohort": "z"},
    )
    lines = [orjson.dumps(dict(template, id=f"step_{i}")) for i in range(3_000)]
    path = _file(tmp_path, "big.ndjson.gz", gzip.compress(b"\n".join([*lines, orjson.dumps(late)])))
    paths = write_parquet(path, tmp_path / "out", batch_rows=1_000)
    calls = pq.read_table(paths["tool_calls"]).to_pylist()
    assert len(calls) == 1
    (call,) = calls
    assert (call["step_id"], call["id"], call["type"]) == ("step_late", "call_late", "holo_search")
    assert json.loads(call["payload"]) == late_call
    steps = pq.read_table(paths["steps"])
    assert steps.num_rows == 3_001
    last = steps.slice(3_000).to_pylist()[0]
    assert json.loads(last["extra"]) == {"rollout": {"cohort": "z"}}
    assert json.loads(last["step_details"]) == late["step_details"]


class Dribble(io.RawIOBase):
    """A file that gives at most ``size`` bytes a read, as a slow socket does: lines are
    cut anywhere, and one line comes over many reads."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data = io.BytesIO(data)
        self._size = size

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        chunk = self._data.read(min(len(b), self._size))
        b[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("size", [1, 7, 1000, 4096])
def test_lines_cut_anywhere_by_the_reads_give_the_same_rows(size: int) -> None:
    """Block boundaries: a line over many reads, CRLF cut between CR and LF, blank lines,
    a too-long line over many reads; the rows and the errors' line numbers are the same."""
    body = b"\r\n".join([*LINES[:5], b"", b"  ", TOO_LONG, LINES[5], b"{bad", *LINES[6:9]])
    whole_errors: list[stepwire.StepwireError] = []
    whole = _batch_rows(iter_batches(body, max_line_bytes=LIMIT, on_error=whole_errors.append))
    errors: list[stepwire.StepwireError] = []
    dribbled = iter_batches(Dribble(body, size), max_line_bytes=LIMIT, on_error=errors.append)
    assert _batch_rows(dribbled) == whole
    assert len(whole["steps"]) == 9
    assert [e.line for e in errors] == [e.line for e in whole_errors] == [8, 10]  # type: ignore[attr-defined]
