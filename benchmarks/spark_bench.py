"""``make bench-spark``: stepwire.spark against ``spark.read.json``, NDJSON to Parquet.

One generated NDJSON file (``--steps`` steps of ``stepgen``, written once under
``build/spark-bench/`` and kept), one local SparkSession (``local[2]``), and
these jobs, each writing Parquet (``mode("overwrite")``) to ``build/spark-bench/out/``:

* ``stepwire.spark.read_steps(spark, path)``: the ``steps`` table;
* ``spark.read.json(path)``: Spark's own reader, which infers the schema (a
  first pass over the file) and then parses it (the floor's denominator);
* ``stepwire.spark.read_tool_calls(spark, path)``: the ``tool_calls`` table,
  reported, not judged;
* ``spark.read.schema(...).json(path)``: Spark's reader given the schema it
  inferred (no inference pass), reported, not judged.

After one untimed warm-up of each on the file's first tenth (the JVM's JIT, the
Python workers), the jobs run in ``--rounds`` interleaved rounds, the order
turned each round; a job's figure is its median. Rows per second are the
file's steps over that time, for all four. The floor: stepwire's
``read_steps`` at least ``--floor`` times ``spark.read.json``'s rows per
second (1.0, the issue's), and every job wrote the file's rows. A failing
attempt is measured again in fresh rounds (``--retries``) and fails only if
every attempt fails, as in ``benchmarks/check.py``.

Exit status 0 when the floor holds, 1 when it does not. ``--judged-only`` runs the floor's
two jobs alone (warm-up and rounds), not the two it only reports: what CI runs. And
``--write-only`` writes the two files (the file and its first tenth) and exits: CI's spark
leg writes them while other legs run, so that the bench-spark leg, alone, spends its time
on Spark.

    python -m benchmarks.spark_bench [--steps 100000] [--rounds 3] [--retries 2] [--judged-only]
    python -m benchmarks.spark_bench --write-only [--steps 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "spark-bench"
SEED = 1
CHUNK = 5000  # steps generated at a time (seeds SEED * 1000 + i): bounded memory
STEPWIRE, JSON = "stepwire read_steps", "spark.read.json"
CALLS, JSON_SCHEMA = "stepwire read_tool_calls", "spark.read.json, schema given"

__all__ = ["main", "ndjson", "session"]


def ndjson(steps: int) -> Path:
    """The benchmark file of ``steps`` generated steps (written once, then reused)."""
    import stepgen

    path = WORK / f"steps-{steps}-seed{SEED}.ndjson"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    encode = msgspec.json.Encoder().encode
    with partial.open("wb") as out:
        for i, start in enumerate(range(0, steps, CHUNK)):
            for step in stepgen.generate_steps(min(CHUNK, steps - start), SEED * 1000 + i):
                out.write(encode(step) + b"\n")
    partial.replace(path)
    return path


def tenth(steps: int) -> int:
    """The warm-up file's steps: the first tenth of the benchmark's file."""
    return max(1, steps // 10)


def session() -> tuple[Any, float]:
    """A local[2] SparkSession, and the seconds it took to start (the JVM included)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    start = time.perf_counter()
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("stepwire-spark-bench")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    seconds = time.perf_counter() - start
    spark.sparkContext.setLogLevel("ERROR")
    return spark, seconds


def jobs(spark: Any, path: Path, inferred: Any) -> dict[str, Callable[[], None]]:
    """The four jobs over ``path``; ``inferred`` is the schema spark.read.json gave it, or
    None: the floor's two jobs only (``--judged-only``)."""
    import stepwire.spark

    out = WORK / "out"
    src = str(path)

    def write(df: Any, name: str) -> None:
        df.write.mode("overwrite").parquet(str(out / name))

    judged: dict[str, Callable[[], None]] = {
        STEPWIRE: lambda: write(stepwire.spark.read_steps(spark, src), "stepwire-steps"),
        JSON: lambda: write(spark.read.json(src), "json"),
    }
    if inferred is None:
        return judged
    return judged | {
        CALLS: lambda: write(stepwire.spark.read_tool_calls(spark, src), "stepwire-tool-calls"),
        JSON_SCHEMA: lambda: write(spark.read.schema(inferred).json(src), "json-schema"),
    }


def timed(calls: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Each call's median seconds over ``rounds`` interleaved rounds (order turned each)."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            start = time.perf_counter()
            calls[name]()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in seconds.items()}


def table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=100_000, help="steps in the file")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per attempt")
    parser.add_argument("--retries", type=int, default=2, help="fresh attempts after a failure")
    parser.add_argument("--floor", type=float, default=1.0, help="least stepwire/json ratio")
    parser.add_argument(
        "--judged-only", action="store_true", help="time only the two jobs the floor compares"
    )
    parser.add_argument(
        "--write-only", action="store_true", help="write the NDJSON files (kept), then exit"
    )
    args = parser.parse_args(argv)
    if args.write_only:
        start = time.perf_counter()
        written = [ndjson(args.steps), ndjson(tenth(args.steps))]
        shown = ", ".join(
            f"{p.relative_to(ROOT)} ({p.stat().st_size / 1e6:.0f} MB)" for p in written
        )
        print(f"{shown}: {time.perf_counter() - start:.1f} s")
        return 0
    # pyspark's warning that it does not yet support pandas 3 (mapInArrow imports its pandas
    # path; the batches here are Arrow's): that one, nowhere else.
    warnings.filterwarnings(
        "ignore", "PySpark does not yet fully support pandas", FutureWarning, "pyspark"
    )
    begin = time.perf_counter()
    start = time.perf_counter()
    path = ndjson(args.steps)
    made = time.perf_counter() - start
    spark, startup = session()

    def schema_of(path: Path) -> Any:
        """The schema spark.read.json infers (a pass over the file): for the job given it,
        which ``--judged-only`` does not run."""
        return None if args.judged_only else spark.read.json(str(path)).schema

    try:
        import pyspark

        import stepwire

        # The warm-up, on the file's first tenth: the JIT, the Python workers, the decoders.
        small = ndjson(tenth(args.steps))
        start = time.perf_counter()
        warmups: dict[str, float] = {}
        for name, call in jobs(spark, small, schema_of(small)).items():
            t = time.perf_counter()
            call()
            warmups[name] = time.perf_counter() - t
        warm = time.perf_counter() - start
        calls = jobs(spark, path, schema_of(path))
        size = path.stat().st_size
        print(
            f"{path.relative_to(ROOT)}: {args.steps:,} steps, {size / 1e6:.0f} MB"
            f" ({'written' if made > 1 else 'cached'}, {made:.1f} s); Spark {pyspark.__version__},"
            f" stepwire {stepwire.__version__}, local[2]; session start {startup:.1f} s,"
            f" warm-up {warm:.1f} s ({', '.join(f'{v:.1f}' for v in warmups.values())})"
        )
        attempts: list[float] = []
        for attempt in range(1 + args.retries):
            median = timed(calls, args.rounds)
            rates = {name: args.steps / seconds for name, seconds in median.items()}
            ratio = rates[STEPWIRE] / rates[JSON]
            attempts.append(ratio)
            rows = [["job", "median s", "steps/s", "MB/s", "vs spark.read.json"]]
            for name, seconds in median.items():
                rows.append(
                    [
                        name,
                        f"{seconds:.2f}",
                        f"{rates[name]:,.0f}",
                        f"{size / seconds / 1e6:.1f}",
                        f"{rates[name] / rates[JSON]:.2f}x",
                    ]
                )
            print(f"\nattempt {attempt + 1}: {args.rounds} interleaved rounds")
            print(table(rows))
            if ratio >= args.floor:
                break
        # What the jobs wrote: every step (and stepwire's tool calls, for the record).
        outputs = ["stepwire-steps", "json"] + ([] if args.judged_only else ["stepwire-tool-calls"])
        counts = {name: spark.read.parquet(str(WORK / "out" / name)).count() for name in outputs}
        tool_calls = (
            "" if args.judged_only else f", {counts['stepwire-tool-calls']:,} tool calls (stepwire)"
        )
        print(
            f"rows written: {counts['stepwire-steps']:,} steps (stepwire), {counts['json']:,}"
            f" (spark.read.json){tool_calls}"
        )
        if counts["stepwire-steps"] != args.steps or counts["json"] != args.steps:
            print(f"FAILED: the row counts differ from the file's {args.steps:,} steps")
            return 1
        verdict = "holds" if attempts[-1] >= args.floor else "FAILS"
        shown = ", ".join(f"{r:.2f}x" for r in attempts)
        print(
            f"\nfloor: {STEPWIRE} / {JSON} >= {args.floor:g}x: {verdict} ({shown});"
            f" total {time.perf_counter() - begin:.0f} s"
        )
        return 0 if attempts[-1] >= args.floor else 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
