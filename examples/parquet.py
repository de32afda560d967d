"""NDJSON log to Parquet: two tables, steps and tool calls, for DuckDB, Polars or Spark.

    python examples/parquet.py STEPS.ndjson[.gz|.zst] OUT_DIR

Needs ``pip install 'stepwire[arrow]'``.
"""

from __future__ import annotations

import sys

import pyarrow.parquet as pq

import stepwire.arrow


def main(source: str, out: str) -> int:
    paths = stepwire.arrow.write_parquet(source, out)
    for name, path in sorted(paths.items()):
        table = pq.read_table(path)
        print(f"{name}: {table.num_rows} rows, {path}")
    calls = pq.read_table(paths["tool_calls"], columns=["type"]).column("type").to_pylist()
    for kind in sorted(set(calls)):
        print(f"  {kind}: {calls.count(kind)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
