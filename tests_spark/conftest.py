"""A local SparkSession for stepwire.spark's tests (``make test-spark``; not ``make test``).

One session for the whole run: ``local[2]`` (the machine's two cores), two shuffle
partitions, no UI, the session time zone UTC (DuckDB's queries are in UTC too), the JVM's
first JIT tier only. The workers run this interpreter (``PYSPARK_PYTHON``), so they import
the stepwire under test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The real corpus (as tests/helpers.py finds it): ../shared/fixtures/real, or $STEPWIRE_FIXTURES.
REAL = Path(os.environ.get("STEPWIRE_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))

# pyspark warns, at import of its pandas path (mapInArrow, toArrow, createDataFrame), that it
# does not yet support pandas 3: pandas is not used here (the batches are Arrow's). This one
# warning, from pyspark, is ignored in these tests and nowhere else; any other is an error.
PANDAS_3 = "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
# pyspark 4.0.0's DataFrame.toArrow leaves its socket to the garbage collector
# (pyspark/sql/pandas/conversion.py, _collect_as_arrow: `_load_from_socket(...)` without the
# `with` that 4.3.0 has): a ResourceWarning, raised as pytest's unraisable-exception warning.
# Ignored for pyspark before 4.3 only (4.0.0 measured to leak, 4.3.0 not; none between tried).
LEAKED_SOCKET = [
    "ignore:unclosed <socket.socket:ResourceWarning",
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning",
]


def _filters() -> list[str]:
    import pyspark

    major, minor = (int(part) for part in pyspark.__version__.split(".")[:2])
    return [PANDAS_3, *(LEAKED_SOCKET if (major, minor) < (4, 3) else [])]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    filters = _filters()
    for item in items:
        if here in Path(item.path).parents:
            for spec in filters:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("stepwire-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # The JVM's first JIT tier only: these jobs are small and many, and C2's compiling
        # costs more CPU than it gives back (a quarter of the run's CPU time, for the same
        # wall time alone; less wall time beside other CI legs). Timings are not tested here
        # (benchmarks/spark_bench.py keeps the JVM's defaults).
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def real_dir() -> Path:
    if not any(REAL.glob("*.json")):
        raise FileNotFoundError(f"no real fixtures in {REAL} (set STEPWIRE_FIXTURES)")
    return REAL
