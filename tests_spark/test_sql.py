"""Spark SQL over read_steps / read_tool_calls gives DuckDB's answers over stepwire's Parquet."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from spark_rows import write_lines

import stepgen
import stepwire.arrow
import stepwire.spark

# name: (Spark SQL, DuckDB SQL); both over views named steps and tool_calls.
QUERIES = {
    "tokens per tool type": (
        """SELECT c.type, count(*), sum(s.total_tokens), sum(s.prompt_tokens)
           FROM tool_calls c JOIN steps s ON s.id = c.step_id GROUP BY c.type""",
        None,
    ),
    "failures per last_error_code": (
        """SELECT last_error_code, count(*), count(DISTINCT run_id),
                  sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END)
           FROM steps GROUP BY last_error_code""",
        None,
    ),
    "tool calls per type": (
        "SELECT type, count(*), count(name), count(output) FROM tool_calls GROUP BY type",
        None,
    ),
    "steps per status and type": (
        "SELECT status, type, count(*), sum(completion_tokens) FROM steps GROUP BY status, type",
        None,
    ),
    "steps per UTC hour": (
        "SELECT hour(created_at), count(*), max(unix_timestamp(created_at)) FROM steps GROUP BY 1",
        "SELECT hour(created_at), count(*), max(epoch(created_at))::BIGINT FROM steps GROUP BY 1",
    ),
    "metadata entries": (
        "SELECT k, v, count(*) FROM (SELECT explode(metadata) AS (k, v) FROM steps) GROUP BY k, v",
        """SELECT e.key, e.value, count(*) FROM (SELECT unnest(map_entries(metadata)) AS e
           FROM steps) GROUP BY e.key, e.value""",
    ),
}


def _plain(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Sorted, sums as ints (DuckDB's sum of BIGINT is HUGEINT, a Decimal or an int)."""
    out = [tuple(int(v) if isinstance(v, Decimal) else v for v in row) for row in rows]
    return sorted(out, key=repr)


@pytest.fixture(scope="module")
def engines(spark, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sql")
    path = write_lines(directory / "steps.ndjson", stepgen.generate_steps(3000, 21))
    parquet = stepwire.arrow.write_parquet(path, directory / "parquet")
    stepwire.spark.read_steps(spark, path).createOrReplaceTempView("steps")
    stepwire.spark.read_tool_calls(spark, path).createOrReplaceTempView("tool_calls")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, file in parquet.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{file}')")
    yield spark, con
    con.close()
    spark.catalog.dropTempView("steps")
    spark.catalog.dropTempView("tool_calls")


@pytest.mark.parametrize("name", list(QUERIES))
def test_spark_sql_equals_duckdb(engines, name) -> None:
    spark, con = engines
    spark_sql, duck_sql = QUERIES[name]
    got = _plain([tuple(row) for row in spark.sql(spark_sql).collect()])
    want = _plain(con.execute(duck_sql or spark_sql).fetchall())
    assert got == want
    assert len(got) > 1  # the data has more than one group of each
