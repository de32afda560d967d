"""The Spark schemas are derived from the Arrow ones, and are what Spark reports."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest
from pyspark.sql.types import StructType

import stepwire.arrow
import stepwire.spark
from stepwire.spark import STEPS_DDL, TOOL_CALLS_DDL, ddl, spark_arrow_schema

SCHEMAS = {
    "steps": (stepwire.arrow.STEPS_SCHEMA, STEPS_DDL, stepwire.spark.read_steps),
    "tool_calls": (
        stepwire.arrow.TOOL_CALLS_SCHEMA,
        TOOL_CALLS_DDL,
        stepwire.spark.read_tool_calls,
    ),
}


@pytest.mark.parametrize(
    ("arrow_type", "spark_type"),
    [
        (pa.string(), "STRING"),
        (pa.large_string(), "STRING"),
        (pa.int32(), "INT"),
        (pa.int64(), "BIGINT"),
        (pa.timestamp("s", tz="UTC"), "TIMESTAMP"),
        (pa.timestamp("us", tz="UTC"), "TIMESTAMP"),
        (pa.timestamp("us"), "TIMESTAMP_NTZ"),
        (pa.map_(pa.string(), pa.string()), "MAP<STRING, STRING>"),
        (pa.map_(pa.string(), pa.int64()), "MAP<STRING, BIGINT>"),
    ],
)
def test_type_mapping(arrow_type: pa.DataType, spark_type: str) -> None:
    schema = pa.schema([pa.field("a", arrow_type), pa.field("b", arrow_type, nullable=False)])
    assert ddl(schema) == f"`a` {spark_type}, `b` {spark_type} NOT NULL"


@pytest.mark.parametrize("arrow_type", [pa.float64(), pa.bool_(), pa.list_(pa.string())])
def test_unmapped_type_raises(arrow_type: pa.DataType) -> None:
    with pytest.raises(TypeError, match="no Spark type"):
        ddl(pa.schema([pa.field("a", arrow_type)]))


def test_names_are_quoted() -> None:
    assert ddl(pa.schema([pa.field("a`b", pa.string())])) == "`a``b` STRING"
    assert StructType.fromDDL(ddl(pa.schema([pa.field("a`b", pa.string())]))).names == ["a`b"]


def test_ddl_is_the_arrow_schema() -> None:
    """Every column, in order, with its nullability: the DDL cannot drift from the schema."""
    for schema, text, _ in SCHEMAS.values():
        assert ddl(schema) == text
        struct = StructType.fromDDL(text)
        assert struct.names == schema.names
        assert [f.nullable for f in struct.fields] == [f.nullable for f in schema]


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_read_schema_is_the_ddl(spark, tmp_path, table) -> None:
    schema, text, read = SCHEMAS[table]
    path = tmp_path / "empty.ndjson"
    path.write_bytes(b"")
    df = read(spark, path)
    assert df.schema == StructType.fromDDL(text)
    # As Spark types an Arrow table of that schema itself.
    assert df.schema == spark.createDataFrame(schema.empty_table()).schema
    assert df.collect() == []


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_spark_arrow_schema(table) -> None:
    schema = SCHEMAS[table][0]
    target = spark_arrow_schema(schema)
    assert target.names == schema.names
    for before, after in zip(schema, target, strict=True):
        assert after.nullable == before.nullable
        if pa.types.is_timestamp(before.type):
            assert after.type == pa.timestamp("us", tz="UTC")
        else:
            assert after.type == before.type


def test_worker_function_carries_no_decoder() -> None:
    """What mapInArrow ships pickles with plain pickle: the function by name and three
    plain values, no decoder (msgspec decoders do not pickle): the workers build theirs."""
    mapper = stepwire.spark._mapper("tool_calls", True, "skip")
    restored = pickle.loads(pickle.dumps(mapper))
    assert restored.func is stepwire.spark._map_lines
    assert restored.args == ("tool_calls", True, True)
    assert not restored.keywords
