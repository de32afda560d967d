"""NDJSON to Parquet: one file of generated run steps, each engine writing Parquet from it.

The scenario ``parquet`` of ``make bench-check`` (``benchmarks/check.py``) and
of ``benchmarks/test_parquet.py``. One timed call is a whole file: the engine
opens the NDJSON file, reads every line and writes its Parquet, from a fresh
start (a fresh DuckDB connection, nothing kept from the previous call).

The file: ``generate_steps(PARQUET_STEPS, PARQUET_SEED)``, one compact JSON
step per line, with the 17 completed Azure AI Agents steps of
``stepgen.azure.azure_pages(PARQUET_SEED)`` (one per Azure tool type) spread
through it at even intervals: 75,017 lines, 99.8 MB.

The ratio depends on the file's size: DuckDB's start and schema inference are
a larger share of a small file. The file was 26.6 MB until the floor was found
to hold there (1.31x) but not at 100 MB (0.52x); docs/analytics.md has the
figures from 26.6 MB to 1 GB.

Contenders, each with its own defaults (what a user gets without tuning):

* ``stepwire``: ``stepwire.arrow.write_parquet(file, out)``: both tables,
  ``steps.parquet`` and ``tool_calls.parquet`` (snappy, 8,192 steps a row group).
* ``duckdb``: ``COPY (SELECT * FROM read_json_auto(file)) TO 'steps.parquet'
  (FORMAT parquet)`` on a fresh in-memory connection, with DuckDB's default
  ``threads`` (the machine's cores: 2 here). One table, its columns inferred
  from the data; snappy, DuckDB's default codec.
* ``duckdb 1 thread``: the same with ``SET threads = 1``.
* ``polars``: ``pl.read_ndjson(file).write_parquet(...)``.
* ``pyarrow``: ``pyarrow.parquet.write_table(pyarrow.json.read_json(file), ...)``.

Polars and pyarrow read the file but cannot write it: every generated step
carries ``attributes: {}`` (as the live API sends), which both infer as a
struct with no fields, and Parquet has no such type ("Cannot write struct type
'attributes' with no child field to Parquet"). Their rows are skipped with
that reason (``benchmarks/test_parquet.py``); they are not in the check.

Every contender's output is checked (:func:`verify`: the row counts in the
Parquet footers) before it is timed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CONTENDERS",
    "PARQUET_SEED",
    "PARQUET_STEPS",
    "Expected",
    "contenders",
    "parquet_rows",
    "verify",
    "write_file",
]

PARQUET_STEPS = 75_000
PARQUET_SEED = 1
CONTENDERS = ("stepwire", "duckdb", "duckdb 1 thread", "polars", "pyarrow")

Run = Callable[[], None]


@dataclass(frozen=True)
class Expected:
    """What the file holds: its lines (one step each), tool calls and bytes."""

    steps: int
    tool_calls: int
    size: int


def _lines(steps: int, seed: int) -> list[bytes]:
    import msgspec

    from stepgen import generate_steps
    from stepgen.azure import azure_pages

    encode = msgspec.json.Encoder().encode
    lines = [encode(step) for step in generate_steps(steps, seed=seed)]
    azure = [
        encode(step) for page in azure_pages(seed) for step in msgspec.json.decode(page)["data"]
    ]
    every = max(1, len(lines) // (len(azure) + 1))
    places = [(i + 1) * every for i in range(len(azure))]
    for place, line in reversed(list(zip(places, azure, strict=True))):  # earlier ones hold
        lines.insert(place, line)
    return lines


def write_file(path: Path, steps: int = PARQUET_STEPS, seed: int = PARQUET_SEED) -> Expected:
    """Write the scenario's NDJSON file (see the module docstring).

    Returns
    -------
    Expected
        Its lines, tool calls and bytes.
    """
    import msgspec

    lines = _lines(steps, seed)
    calls = 0
    for line in lines:
        details = msgspec.json.decode(line)["step_details"]
        if details["type"] == "tool_calls":
            calls += len(details["tool_calls"])
    body = b"".join(line + b"\n" for line in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return Expected(len(lines), calls, len(body))


def _stepwire(source: Path, out: Path) -> None:
    import stepwire.arrow

    stepwire.arrow.write_parquet(source, out)


def _duckdb(source: Path, out: Path, threads: int | None) -> None:
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        if threads is not None:
            connection.execute(f"SET threads = {threads}")
        # DuckDB's default threads otherwise: the machine's cores, what users get.
        out.mkdir(parents=True, exist_ok=True)
        target = str(out / "steps.parquet").replace("'", "''")
        connection.execute(
            "COPY (SELECT * FROM read_json_auto(?)) TO '" + target + "' (FORMAT parquet)",
            [str(source)],
        )
    finally:
        connection.close()


def _polars(source: Path, out: Path) -> None:
    import polars as pl

    out.mkdir(parents=True, exist_ok=True)
    pl.read_ndjson(source).write_parquet(out / "steps.parquet")


def _pyarrow(source: Path, out: Path) -> None:
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pj.read_json(source), out / "steps.parquet")


def contenders(
    source: Path, out: Path, names: tuple[str, ...] = CONTENDERS
) -> dict[str, tuple[Run, Path]]:
    """The named contenders, each writing into its own directory under ``out``.

    Returns
    -------
    dict
        Name to (the zero-argument call, the directory it writes into).
    """
    make: dict[str, Callable[[Path, Path], None]] = {
        "stepwire": _stepwire,
        "duckdb": functools.partial(_duckdb, threads=None),
        "duckdb 1 thread": functools.partial(_duckdb, threads=1),
        "polars": _polars,
        "pyarrow": _pyarrow,
    }
    runs: dict[str, tuple[Run, Path]] = {}
    for name in names:
        where = out / name.replace(" ", "-")
        runs[name] = (functools.partial(make[name], source, where), where)
    return runs


def parquet_rows(path: Path) -> int:
    """The rows a Parquet file holds, from its footer."""
    import pyarrow.parquet as pq

    rows: int = pq.ParquetFile(path).metadata.num_rows
    return rows


def verify(name: str, out: Path, expected: Expected) -> dict[str, int]:
    """Check what a contender wrote into ``out``: a row per step (and per tool call).

    Returns
    -------
    dict
        The rows of each file written, by table name.

    Raises
    ------
    AssertionError
        If a table is missing or holds another number of rows.
    """
    rows: dict[str, Any] = {"steps": parquet_rows(out / "steps.parquet")}
    want = {"steps": expected.steps}
    if name == "stepwire":
        rows["tool_calls"] = parquet_rows(out / "tool_calls.parquet")
        want["tool_calls"] = expected.tool_calls
    if rows != want:
        raise AssertionError(f"{name}: wrote {rows} rows, expected {want}")
    return rows
