"""Run steps as Spark DataFrames (``pip install 'stepwire[spark]'``).

The same two tables as ``stepwire.arrow``, with the same columns and types
(docs/analytics.md), read from NDJSON on any path Spark reads:

* ``read_steps``: one row per run step;
* ``read_tool_calls``: one row per tool call, of every type, known or not.

Each is ``spark.read.text(path).mapInArrow(...)``: Spark splits the files
into lines (``.gz`` and the other codecs Hadoop knows are read by
extension), and on the workers each Arrow batch of lines is decoded by
stepwire in place (every line a slice of the batch's data buffer, no copy)
into the rows ``stepwire.arrow`` makes. The workers need stepwire installed:
the function Spark ships names ``stepwire.spark``, which the worker imports,
and builds its decoders there (they cannot be pickled).

Each line is a run step or a page of them (``"object": "list"``, whose
``data`` are taken in order), told apart line by line; blank lines are
skipped. A pretty-printed JSON body or an event-stream capture is not NDJSON:
read those with ``stepwire.arrow``.

The Spark schemas are derived from the Arrow ones (``ddl``): strings are
``STRING``, ``int32`` is ``INT``, ``int64`` is ``BIGINT``, the
``timestamp[s, UTC]`` columns are ``TIMESTAMP`` (microseconds, cast on the
workers), ``metadata`` is ``MAP<STRING, STRING>``, and a column that is never
null is ``NOT NULL``.

Examples
--------
>>> import stepwire.spark
>>> steps = stepwire.spark.read_steps(spark, "s3a://bucket/steps/*.ndjson.gz")
>>> steps.groupBy("status").count().show()
>>> calls = stepwire.spark.read_tool_calls(spark, "s3a://bucket/steps/*.ndjson.gz")
>>> calls.createOrReplaceTempView("tool_calls")
>>> spark.sql("SELECT type, count(*) FROM tool_calls GROUP BY type").show()
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union

try:
    import pyspark  # noqa: F401  (the extra's check; the session comes from the caller)
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ModuleNotFoundError(
        "stepwire.spark needs pyspark: pip install 'stepwire[spark]'", name="pyspark"
    ) from exc

import pyarrow as pa

from .arrow import STEPS_SCHEMA, TOOL_CALLS_SCHEMA

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "STEPS_DDL",
    "TOOL_CALLS_DDL",
    "ddl",
    "read_steps",
    "read_tool_calls",
    "spark_arrow_schema",
]

#: A path Spark reads, or several.
Paths = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]


def _spark_type(tp: pa.DataType) -> str:
    if pa.types.is_string(tp) or pa.types.is_large_string(tp):
        return "STRING"
    if pa.types.is_int32(tp):
        return "INT"
    if pa.types.is_int64(tp):
        return "BIGINT"
    if pa.types.is_timestamp(tp):
        # Spark's TIMESTAMP is an instant (microseconds, shown in the session's time zone);
        # a timestamp without a zone is TIMESTAMP_NTZ.
        return "TIMESTAMP" if tp.tz is not None else "TIMESTAMP_NTZ"
    if pa.types.is_map(tp):
        # Spark's map keys are never null, its values always may be: DDL says no more.
        return f"MAP<{_spark_type(tp.key_type)}, {_spark_type(tp.item_type)}>"
    raise TypeError(f"no Spark type for the Arrow type {tp}")


def ddl(schema: pa.Schema) -> str:
    """The Spark DDL of an Arrow schema of stepwire's tables.

    Parameters
    ----------
    schema : pyarrow.Schema
        ``stepwire.arrow.STEPS_SCHEMA``, ``TOOL_CALLS_SCHEMA``, or another
        schema of the same types.

    Returns
    -------
    str
        Comma-separated column definitions, such as
        ``"`id` STRING NOT NULL, `created_at` TIMESTAMP NOT NULL, ..."``:
        ``string`` is ``STRING``, ``int32`` ``INT``, ``int64`` ``BIGINT``, a
        timestamp with a time zone ``TIMESTAMP`` (without one,
        ``TIMESTAMP_NTZ``), ``map<k, v>`` ``MAP<K, V>``; a field that is not
        nullable is ``NOT NULL``.

    Raises
    ------
    TypeError
        For an Arrow type outside these.
    """
    columns = []
    for field in schema:
        name = field.name.replace("`", "``")
        null = "" if field.nullable else " NOT NULL"
        columns.append(f"`{name}` {_spark_type(field.type)}{null}")
    return ", ".join(columns)


def _spark_arrow_type(tp: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(tp):
        return pa.timestamp("us", tz=tp.tz)
    return tp


def spark_arrow_schema(schema: pa.Schema) -> pa.Schema:
    """The Arrow schema of the batches handed to Spark: timestamps in microseconds.

    Parameters
    ----------
    schema : pyarrow.Schema
        ``STEPS_SCHEMA`` or ``TOOL_CALLS_SCHEMA``.

    Returns
    -------
    pyarrow.Schema
        The same fields, but every timestamp in microseconds (Spark's unit).
    """
    return pa.schema(
        [pa.field(f.name, _spark_arrow_type(f.type), nullable=f.nullable) for f in schema]
    )


#: The ``steps`` table's Spark schema.
STEPS_DDL = ddl(STEPS_SCHEMA)
#: The ``tool_calls`` table's Spark schema.
TOOL_CALLS_DDL = ddl(TOOL_CALLS_SCHEMA)

_DDL = {"steps": STEPS_DDL, "tool_calls": TOOL_CALLS_DDL}
_NON_BLANK = re.compile(rb"[^ \t\r\n]")
# A batch is handed to Spark before its JSON text reaches this (Arrow's strings have
# 32-bit offsets; Spark's batches of lines are 10,000 lines, of any length).
_FLUSH_BYTES = 256 << 20
_OPEN_BRACE = 0x7B


def _skip_errors(on_error: object) -> bool:
    """Whether bad lines are skipped (``"skip"``) or raised (``"raise"``)."""
    if isinstance(on_error, str) and on_error in ("raise", "skip"):
        return on_error == "skip"
    if callable(on_error):
        raise TypeError(
            "stepwire.spark takes on_error='raise' or 'skip', not a callable: the lines are "
            "decoded on Spark's workers, where a function of the driver's would run in "
            "another process and its effects (a list it appends to, a counter) would be lost. "
            "To keep the bad lines, read them with spark.read.text and stepwire.decode_step."
        )
    raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")


def _lines(column: pa.Array) -> Iterator[memoryview]:
    """Every non-blank value of a string column: slices of its data buffer, not copies."""
    if len(column) == 0:
        return
    if column.null_count:
        column = column.fill_null("")
    _, offsets_buffer, data_buffer = column.buffers()
    if data_buffer is None:  # every value empty
        return
    raw = memoryview(offsets_buffer)
    wide = raw.cast("q") if pa.types.is_large_string(column.type) else raw.cast("i")
    offsets = wide[column.offset : column.offset + len(column) + 1]
    data = memoryview(data_buffer)
    search = _NON_BLANK.search
    start = offsets[0]
    for end in offsets[1:]:
        if end > start:
            line = data[start:end]
            if line[0] == _OPEN_BRACE or search(line) is not None:
                yield line
        start = end


def _map_lines(table: str, strict: bool, skip: bool, batches: Iterator[Any]) -> Iterator[Any]:
    """On a worker: batches of lines (``spark.read.text``'s) to batches of ``table``.

    Everything is looked up here, on the worker, none of it carried from the
    driver: Spark pickles this function by name (``functools.partial`` of it),
    with only the three plain arguments.
    """
    from stepwire import DecodeError
    from stepwire._columns import Columns
    from stepwire._sources import PAGES, Reader, detect
    from stepwire.arrow import _table_batch

    reader = Reader(strict)
    summary_of, details_of = reader.parts
    target = spark_arrow_schema(STEPS_SCHEMA if table == "steps" else TOOL_CALLS_SCHEMA)
    columns = Columns(calls=table != "steps")
    for batch in batches:
        for line in _lines(batch.column(0)):
            try:
                try:
                    # The common line: a step, decoded in two parts (_sources.Reader); its
                    # details and calls go into the table as the bytes they came in.
                    summary = summary_of(line, None)
                    details = details_of(summary.step_details, None)
                except DecodeError:
                    # A page's steps, or the step's own error (or the step, decoded whole).
                    read = reader.page if detect(line) == PAGES else reader.step
                    for header, parts, raw in read(line, None):
                        columns.add_parts(header, parts, raw)
                else:
                    columns.add_parts(summary, details, summary.step_details)
            except DecodeError:
                if not skip:
                    raise
            if columns.text_bytes >= _FLUSH_BYTES:
                yield from _flush(columns, _table_batch, table, target)
        yield from _flush(columns, _table_batch, table, target)


def _flush(columns: Any, batches: Any, table: str, target: pa.Schema) -> Iterator[Any]:
    """The table's batch of the steps in ``columns`` (if any), which start again empty."""
    if columns.rows:
        out = batches(columns, table)
        columns.clear()
        if out.num_rows:
            yield out.cast(target)


def _mapper(table: str, strict: bool, on_error: object) -> functools.partial[Iterator[Any]]:
    """The function ``mapInArrow`` ships: ``_map_lines`` by name, and three plain values."""
    return functools.partial(_map_lines, table, bool(strict), _skip_errors(on_error))


def _read(spark: SparkSession, path: Paths, table: str, strict: bool, on_error: object) -> Any:
    mapper = _mapper(table, strict, on_error)
    if isinstance(path, (str, os.PathLike)):
        paths: str | list[str] = os.fspath(path)
    else:
        paths = [os.fspath(p) for p in path]
    return spark.read.text(paths).mapInArrow(mapper, _DDL[table])


def read_steps(
    spark: SparkSession, path: Paths, *, strict: bool = False, on_error: str = "raise"
) -> DataFrame:
    """The ``steps`` table of NDJSON run steps, as a DataFrame.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    path : str, path-like, or a sequence of them
        Files, directories or globs Spark's text reader takes (``s3a://``,
        ``hdfs://``, local paths); compressed files by their extension
        (``.gz``, ``.bz2``...). Each line a run step or a page of run steps;
        blank lines are skipped.
    strict : bool, default False
        Enforce the spec's constraints (see ``stepwire.Decoder``).
    on_error : "raise" or "skip", default "raise"
        What a bad line does: fail the job (the task's error is a
        ``stepwire.DecodeError``) or be left out. A callable is refused: it
        would run on the workers, not where it was defined.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazily read, with the columns of ``stepwire.arrow.STEPS_SCHEMA`` and
        the Spark schema ``STEPS_DDL``. Rows come in input order within a file.

    Raises
    ------
    TypeError
        If ``on_error`` is a callable.
    ValueError
        If ``on_error`` is another value.
    """
    df: DataFrame = _read(spark, path, "steps", strict, on_error)
    return df


def read_tool_calls(
    spark: SparkSession, path: Paths, *, strict: bool = False, on_error: str = "raise"
) -> DataFrame:
    """The ``tool_calls`` table of NDJSON run steps, as a DataFrame.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    path : str, path-like, or a sequence of them
        As for ``read_steps``.
    strict : bool, default False
        As for ``read_steps``.
    on_error : "raise" or "skip", default "raise"
        As for ``read_steps``: a bad line's calls are left out with it.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazily read, with the columns of ``stepwire.arrow.TOOL_CALLS_SCHEMA``
        and the Spark schema ``TOOL_CALLS_DDL``: one row per tool call.

    Raises
    ------
    TypeError
        If ``on_error`` is a callable.
    ValueError
        If ``on_error`` is another value.
    """
    df: DataFrame = _read(spark, path, "tool_calls", strict, on_error)
    return df
