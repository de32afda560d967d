"""Run steps as Spark DataFrames, on a local Spark (Java 17 or newer).

    python examples/spark_local.py STEPS.ndjson[.gz] [...]

Needs ``pip install 'stepwire[spark]'``. The files are read by Spark and decoded by
stepwire in the executors (mapInArrow), with the same schema as stepwire.arrow.
"""

from __future__ import annotations

import sys

from pyspark.sql import SparkSession

import stepwire.spark


def main(paths: list[str]) -> int:
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("stepwire-example")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        steps = stepwire.spark.read_steps(spark, paths)
        calls = stepwire.spark.read_tool_calls(spark, paths)
        print(f"steps: {steps.count()}")
        for row in calls.groupBy("type").count().orderBy("type").collect():
            print(f"  {row['type']}: {row['count']}")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
