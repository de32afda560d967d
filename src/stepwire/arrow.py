"""Run steps as Arrow tables and Parquet files (``pip install 'stepwire[arrow]'``).

Two tables, with one documented schema whatever the input (docs/analytics.md):

* ``steps``: one row per run step;
* ``tool_calls``: one row per tool call, of every type, known or not.

Nothing is inferred: the columns are fixed, JSON-valued parts are JSON text,
and a key first seen late is kept (it is in the text).

Examples
--------
>>> import stepwire.arrow
>>> paths = stepwire.arrow.write_parquet("steps.ndjson.zst", "out/")
>>> import duckdb
>>> duckdb.sql("SELECT type, count(*) FROM 'out/tool_calls.parquet' GROUP BY type")
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ModuleNotFoundError(
        "stepwire.arrow needs pyarrow: pip install 'stepwire[arrow]'", name="pyarrow"
    ) from exc

from ._columns import CALL_COLUMNS, STEP_COLUMNS, TEXT_COLUMNS, Columns, Text
from ._limits import MAX_LINE_BYTES, check_limit
from ._model import RunStep
from ._rows import Pairs
from ._sources import OnAnyError, Record, records_of
from ._written import temporary_beside

__all__ = [
    "BATCH_ROWS",
    "STEPS_SCHEMA",
    "TOOL_CALLS_SCHEMA",
    "iter_batches",
    "tables",
    "write_parquet",
]

#: Steps per record batch (and Parquet row group), by default.
BATCH_ROWS = 8192
# A batch is cut early past this much step_details text: a string column's offsets are
# 32-bit, and the calls' payloads are slices of the same text.
_MAX_TEXT_BYTES = 1 << 30

_TS = pa.timestamp("s", tz="UTC")
_MAP = pa.map_(pa.string(), pa.string())

#: The ``steps`` table.
STEPS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("object", pa.string(), nullable=False),
        pa.field("thread_id", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("assistant_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("created_at", _TS, nullable=False),
        pa.field("expires_at", _TS),
        pa.field("cancelled_at", _TS),
        pa.field("failed_at", _TS),
        pa.field("completed_at", _TS),
        pa.field("expired_at", _TS),
        pa.field("last_error_code", pa.string()),
        pa.field("last_error_message", pa.string()),
        pa.field("prompt_tokens", pa.int64()),
        pa.field("completion_tokens", pa.int64()),
        pa.field("total_tokens", pa.int64()),
        pa.field("cached_tokens", pa.int64()),
        pa.field("reasoning_tokens", pa.int64()),
        pa.field("metadata", _MAP),
        pa.field("step_details", pa.string(), nullable=False),
        pa.field("extra", pa.string()),
    ]
)

#: The ``tool_calls`` table.
TOOL_CALLS_SCHEMA = pa.schema(
    [
        pa.field("step_id", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("thread_id", pa.string(), nullable=False),
        pa.field("created_at", _TS, nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("id", pa.string()),
        pa.field("type", pa.string()),
        pa.field("name", pa.string()),
        pa.field("arguments", pa.string()),
        pa.field("output", pa.string()),
        pa.field("payload", pa.string(), nullable=False),
    ]
)

assert tuple(STEPS_SCHEMA.names) == STEP_COLUMNS
assert tuple(TOOL_CALLS_SCHEMA.names) == CALL_COLUMNS

#: The two tables' names, in the order they are returned.
TABLES = ("steps", "tool_calls")

# The columns written with a dictionary and min/max statistics: all but the JSON text.
# Those values are long and nearly all distinct, so a dictionary is built only to be
# dropped, and their statistics say nothing a query could prune by (a fifth of the
# writer's time on the generated 100 MB file).
_JSON_TEXT = ("step_details", "extra", "arguments", "output", "payload")
_KEYED = {
    name: [f.name for f in schema if f.name not in _JSON_TEXT]
    for name, schema in (("steps", STEPS_SCHEMA), ("tool_calls", TOOL_CALLS_SCHEMA))
}


def _text(text: Text) -> pa.Array:
    # The joined bytes and the offsets become the array's own buffers (no copy).
    data = pa.py_buffer(text.joined())
    return pa.StringArray.from_buffers(len(text), pa.py_buffer(text.ends), data)


def _map(pairs: Pairs) -> pa.Array:
    return pa.MapArray.from_arrays(
        pa.array(pairs.ends, pa.int32()),
        pa.array(pairs.keys, pa.string()),
        pa.array(pairs.values, pa.string()),
        type=_MAP,
        mask=pa.array(pairs.nulls, pa.bool_()),
    )


def _array(columns: Columns, field: pa.Field, prefix: str) -> pa.Array:
    if field.name in TEXT_COLUMNS:
        return _text(columns.text(field.name))
    if field.name == "metadata":
        return _map(columns.metadata)
    values = columns.column(prefix + field.name)
    if field.type == _TS:
        # From Python ints, int64 is the fast conversion; a timestamp[s] is the same
        # 64 bits (a view, no copy).
        return pa.array(values, type=pa.int64()).view(_TS)
    return pa.array(values, type=field.type)


def _batch(columns: Columns, schema: pa.Schema, prefix: str) -> pa.RecordBatch:
    arrays = [_array(columns, f, prefix) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _table_batch(columns: Columns, table: str) -> pa.RecordBatch:
    """One table's batch (``stepwire.spark`` wants one table at a time)."""
    if table == "steps":
        return _batch(columns, STEPS_SCHEMA, "")
    return _batch(columns, TOOL_CALLS_SCHEMA, "call.")


def _batches(columns: Columns) -> dict[str, pa.RecordBatch]:
    return {
        "steps": _batch(columns, STEPS_SCHEMA, ""),
        "tool_calls": _batch(columns, TOOL_CALLS_SCHEMA, "call."),
    }


def tables(steps: Iterable[RunStep]) -> dict[str, pa.Table]:
    """The ``steps`` and ``tool_calls`` tables of decoded run steps.

    Parameters
    ----------
    steps : iterable of RunStep

    Returns
    -------
    dict
        ``{"steps": pyarrow.Table, "tool_calls": pyarrow.Table}``, with
        ``STEPS_SCHEMA`` and ``TOOL_CALLS_SCHEMA``.

    Raises
    ------
    TypeError
        If an item is not a ``RunStep``.
    """
    columns = Columns()
    for step in steps:
        if not isinstance(step, RunStep):
            raise TypeError(f"tables() takes RunStep objects, got {type(step).__name__}")
        columns.add(step)
    batches = _batches(columns)
    return {name: pa.Table.from_batches([batches[name]]) for name in TABLES}


def iter_batches(
    source: Any,
    *,
    batch_rows: int = BATCH_ROWS,
    strict: bool = False,
    on_error: OnAnyError = "raise",
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[dict[str, pa.RecordBatch]]:
    """Record batches of both tables, ``batch_rows`` steps at a time, in bounded memory.

    Parameters
    ----------
    source : path, binary file, or bytes
        NDJSON of steps (or of pages), a page or step body, or a captured
        ``text/event-stream`` (whose final snapshots are used); told apart by
        content. gzip and zstd are read compressed (see ``iter_lines``).
    batch_rows : int, default 8192
        Steps per batch; the ``tool_calls`` batch holds those steps' calls.
    strict : bool, default False
        Enforce the spec's constraints (see ``stepwire.Decoder``).
    on_error : "raise", "skip" or callable, default "raise"
        What a bad record does (see ``stepwire.decode_lines``): a callable
        receives each ``DecodeError`` (``StreamError`` for an event stream).
    max_line_bytes : int, default 16 MiB
        The longest NDJSON line read.

    Yields
    ------
    dict
        ``{"steps": pyarrow.RecordBatch, "tool_calls": pyarrow.RecordBatch}``.
        No batch is empty of steps; an input without steps yields nothing.
    """
    rows = check_limit("batch_rows", batch_rows)
    records = records_of(source, strict=strict, on_error=on_error, max_line_bytes=max_line_bytes)
    return _record_batches(records, rows)


def _record_batches(records: Iterable[Record], rows: int) -> Iterator[dict[str, pa.RecordBatch]]:
    """``iter_batches``' batches, of records (``records_of``'s) from any number of inputs."""
    columns = Columns()
    add = columns.add_parts
    count = 0
    for header, details, raw in records:
        count += 1
        if add(header, details, raw) >= _MAX_TEXT_BYTES or count >= rows:
            yield _batches(columns)
            columns.clear()
            count = 0
    if count:
        yield _batches(columns)


def write_parquet(
    source: Any,
    directory: str | os.PathLike[str],
    *,
    batch_rows: int = BATCH_ROWS,
    strict: bool = False,
    on_error: OnAnyError = "raise",
    max_line_bytes: int = MAX_LINE_BYTES,
    compression: str = "snappy",
) -> dict[str, Path]:
    """Write ``steps.parquet`` and ``tool_calls.parquet`` into ``directory``.

    Both are written under temporary names in ``directory`` and renamed at
    the end, so an interrupted run leaves no half file under a final name
    (and an existing pair is replaced only by a complete one).

    Parameters
    ----------
    source
        As for ``iter_batches``.
    directory : path
        Created if missing (and removed again if the write fails).
    batch_rows, strict, on_error, max_line_bytes
        As for ``iter_batches``; a batch is one Parquet row group.
    compression : str, default "snappy"
        The Parquet codec, as DuckDB's and pyarrow's default (any pyarrow
        takes: ``"zstd"`` writes smaller files, more slowly; ``"none"``...).

    Returns
    -------
    dict
        ``{"steps": Path, "tool_calls": Path}``.
    """
    batches = iter_batches(
        source,
        batch_rows=batch_rows,
        strict=strict,
        on_error=on_error,
        max_line_bytes=max_line_bytes,
    )
    return _write_batches(batches, directory, compression=compression)


def _write_batches(
    batches: Iterable[dict[str, pa.RecordBatch]],
    directory: str | os.PathLike[str],
    *,
    compression: str = "snappy",
) -> dict[str, Path]:
    """``write_parquet``'s two files, of batches (``_record_batches``')."""
    out = Path(directory)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    final = {name: out / f"{name}.parquet" for name in TABLES}
    temporary = {name: _temporary(out, name) for name in TABLES}
    schemas = {"steps": STEPS_SCHEMA, "tool_calls": TOOL_CALLS_SCHEMA}
    writers: dict[str, pq.ParquetWriter] = {}
    # Parquet encoding and compression release the GIL: one thread writes a batch
    # while the next is decoded. At most one write is pending, so two batches at a
    # time are all that is held.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stepwire-parquet")
    pending: Future[None] | None = None
    try:
        for name in TABLES:
            writers[name] = pq.ParquetWriter(
                temporary[name],
                schemas[name],
                compression=compression,
                use_dictionary=_KEYED[name],
                write_statistics=_KEYED[name],
            )
        for batch in batches:
            if pending is not None:
                pending.result()
            pending = pool.submit(_write, writers, batch)
        if pending is not None:
            pending.result()
            pending = None
        for name in TABLES:
            writers.pop(name).close()
        for name in TABLES:
            os.replace(temporary[name], final[name])
    except BaseException:
        if pending is not None:
            futures.wait([pending])
        for writer in writers.values():
            writer.close()
        for path in temporary.values():
            path.unlink(missing_ok=True)
        if created:  # a failed run leaves no trace: not even the directory it made
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    finally:
        pool.shutdown()
    return final


def _temporary(directory: Path, name: str) -> Path:
    """A new, unique file in ``directory`` for ``name``'s table while it is written."""
    fd, path = temporary_beside(directory, f".{name}.", ".parquet.tmp")
    os.close(fd)  # pyarrow's writer opens it by name
    return path


def _write(writers: dict[str, pq.ParquetWriter], batches: dict[str, pa.RecordBatch]) -> None:
    for name in TABLES:
        writers[name].write_batch(batches[name])
