"""read_steps and read_tool_calls give stepwire.arrow's rows, on the same files."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest
from pyspark.errors import PythonException
from spark_rows import arrow_rows, expected, real_steps, spark_rows, write_lines

import stepgen
import stepgen.azure
import stepwire
import stepwire.arrow
import stepwire.spark

READERS = {"steps": stepwire.spark.read_steps, "tool_calls": stepwire.spark.read_tool_calls}
SCHEMAS = {"steps": stepwire.arrow.STEPS_SCHEMA, "tool_calls": stepwire.arrow.TOOL_CALLS_SCHEMA}


def assert_same(
    spark, path: Path, reference: dict[str, pa.Table], *, large: bool = False, **kwargs
) -> None:
    """Both tables, row for row and in order: through collect() and through toArrow()
    (whose strings are large_string when Spark's useLargeVarTypes is on)."""
    for table, read in READERS.items():
        df = read(spark, path, **kwargs)
        want = reference[table]
        assert spark_rows(df) == arrow_rows(want), table
        got = df.toArrow()
        schema = stepwire.spark.spark_arrow_schema(SCHEMAS[table])
        if large:
            assert got.schema.field("step_details" if table == "steps" else "payload").type == (
                pa.large_string()
            )
        else:
            assert got.schema == schema, table
        assert got.cast(SCHEMAS[table]).equals(want), table


@pytest.mark.parametrize("seed", [0, 7])
def test_generated(spark, tmp_path, seed) -> None:
    path = write_lines(tmp_path / "steps.ndjson", stepgen.generate_steps(600, seed), blank_every=50)
    reference = expected(path)
    assert reference["steps"].num_rows == 600
    assert reference["tool_calls"].num_rows > 0
    assert_same(spark, path, reference)


def test_generated_across_partitions(spark, tmp_path) -> None:
    """A file split into partitions of 256 KiB: every line read once, in order."""
    path = write_lines(tmp_path / "steps.ndjson", stepgen.generate_steps(800, 3))
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(256 << 10))
    try:
        assert spark.read.text(str(path)).rdd.getNumPartitions() > 3
        assert_same(spark, path, expected(path))
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)


def test_azure_pages_as_lines(spark, tmp_path) -> None:
    """NDJSON of pages (one compact page a line) of steps with Azure's tool types."""
    pages = stepgen.azure.azure_pages(5)
    steps = [step for page in pages for step in json.loads(page)["data"]]
    reference = expected(write_lines(tmp_path / "steps.ndjson", steps))
    types = set(reference["tool_calls"].column("type").to_pylist())
    assert {"azure_function", "openapi", "connected_agent", "deep_research"} <= types
    assert_same(spark, tmp_path / "steps.ndjson", reference)
    # The same steps, a page a line: the same rows.
    assert_same(spark, write_lines(tmp_path / "pages.ndjson", pages), reference)
    assert reference == expected(tmp_path / "pages.ndjson")


def test_real_corpus(spark, tmp_path, real_dir) -> None:
    steps = real_steps(real_dir)
    assert len(steps) > 20
    path = write_lines(tmp_path / "real.ndjson", steps)
    reference = expected(path)
    assert reference["steps"].num_rows == len(steps)
    assert_same(spark, path, reference)


def test_real_corpus_pages_and_steps_mixed(spark, tmp_path, real_dir) -> None:
    """Each real body as one line, pages and single steps in one file: told apart per line."""
    bodies = [json.loads(p.read_bytes()) for p in sorted(real_dir.glob("*.json"))]
    assert {b.get("object") for b in bodies} == {"list", "thread.run.step"}
    path = write_lines(tmp_path / "bodies.ndjson", bodies)
    reference = expected(write_lines(tmp_path / "steps.ndjson", real_steps(real_dir)))
    assert_same(spark, path, reference)


def test_gzip(spark, tmp_path) -> None:
    path = write_lines(tmp_path / "steps.ndjson.gz", stepgen.generate_steps(300, 11))
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert_same(spark, path, expected(path))


def test_several_paths_and_a_directory(spark, tmp_path) -> None:
    (tmp_path / "d").mkdir()
    a = write_lines(tmp_path / "d" / "a.ndjson", stepgen.generate_steps(50, 1))
    b = write_lines(tmp_path / "d" / "b.ndjson", stepgen.generate_steps(70, 2))
    ids = sorted(id_ for f in (a, b) for id_ in expected(f)["steps"].column("id").to_pylist())
    for source in ([a, b], [str(a), str(b)], tmp_path / "d", str(tmp_path / "d" / "*.ndjson")):
        got = stepwire.spark.read_steps(spark, source).select("id").collect()
        assert sorted(r.id for r in got) == ids


def _with_bad_lines(tmp_path: Path) -> tuple[Path, Path]:
    """A file with three bad lines among good ones, and the good lines alone."""
    steps = stepgen.generate_steps(120, 5)
    good = [msgspec.json.encode(s) for s in steps]
    lines = [*good[:40], b'{"id": "step_1", "object": "thread.run.step"', *good[40:80]]
    lines += [b"not json", *good[80:], b'{"object": "list", "data": [{"id": 3}]}']
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    return bad, write_lines(tmp_path / "good.ndjson", steps)


def test_on_error_skip(spark, tmp_path) -> None:
    bad, good = _with_bad_lines(tmp_path)
    assert_same(spark, bad, expected(good), on_error="skip")


@pytest.mark.parametrize("table", list(READERS))
def test_on_error_raise(spark, tmp_path, table) -> None:
    bad, _ = _with_bad_lines(tmp_path)
    df = READERS[table](spark, bad)  # lazy: nothing is read yet
    with pytest.raises(PythonException, match=r"stepwire\._errors\.DecodeError|DecodeError"):
        df.collect()


def test_strict(spark, tmp_path) -> None:
    """An unknown field: kept by default (in ``extra``), refused by strict mode."""
    step = stepgen.generate_steps(1, 9)[0] | {"surprise": 1}
    path = write_lines(tmp_path / "extra.ndjson", [step])
    (row,) = stepwire.spark.read_steps(spark, path).collect()
    assert json.loads(row.extra) == {"surprise": 1}
    with pytest.raises(PythonException, match="DecodeError"):
        stepwire.spark.read_steps(spark, path, strict=True).collect()
    assert stepwire.spark.read_steps(spark, path, strict=True, on_error="skip").count() == 0


@pytest.mark.parametrize("read", list(READERS.values()))
def test_on_error_callable_refused(spark, tmp_path, read) -> None:
    with pytest.raises(TypeError, match=r"not a callable.*workers"):
        read(spark, tmp_path, on_error=print)


@pytest.mark.parametrize("value", ["ignore", None, 1])
def test_on_error_other_values_refused(spark, tmp_path, value) -> None:
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip'"):
        stepwire.spark.read_steps(spark, tmp_path, on_error=value)


def test_blank_and_crlf_lines(spark, tmp_path) -> None:
    steps = stepgen.generate_steps(30, 4)
    body = b"\r\n".join(msgspec.json.encode(s) for s in steps)
    path = tmp_path / "crlf.ndjson"
    path.write_bytes(b"\n \t\r\n" + body + b"\r\n\r\n\n")
    reference = expected(path)
    assert reference["steps"].num_rows == 30
    assert_same(spark, path, reference)


def test_large_var_types(spark, tmp_path) -> None:
    """With Spark's large Arrow strings on (64-bit offsets in the batches of lines)."""
    path = write_lines(tmp_path / "steps.ndjson", stepgen.generate_steps(200, 8))
    key = "spark.sql.execution.arrow.useLargeVarTypes"
    previous = spark.conf.get(key)
    spark.conf.set(key, "true")
    try:
        assert_same(spark, path, expected(path), large=True)
    finally:
        spark.conf.set(key, previous)


@pytest.mark.parametrize("large", [False, True])
def test_lines_are_slices_of_the_buffer(large) -> None:
    """The lines of a (sliced, null-holding) string array: in place, blank ones left out."""
    values = ["{}", "", None, "  ", "x", ' {"a": 1}', "\t", "{}"]
    array = pa.array(values, pa.large_string() if large else pa.string())
    for start in range(len(values)):
        for stop in range(start, len(values) + 1):
            part = array.slice(start, stop - start)
            got = list(stepwire.spark._lines(part))
            want = [v for v in values[start:stop] if v is not None and v.strip()]
            assert [bytes(m).decode() for m in got] == want
            assert all(isinstance(m, memoryview) for m in got)
    (first, *_) = stepwire.spark._lines(array.slice(0, 1))
    assert first.obj is not None  # a view of Arrow's buffer, not a bytes copy
