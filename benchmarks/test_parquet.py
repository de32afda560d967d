"""pytest-benchmark suite: NDJSON to Parquet, each engine on the same file.

Run with ``make bench`` (not part of ``make test``), or alone::

    PYTHONPATH=src:. .venv/bin/python -m pytest benchmarks/test_parquet.py \
        -p no:cacheprovider --benchmark-only

Scenario ``parquet-75017`` (the same file and callables as bench-check's
``parquet`` scenario, ``benchmarks/parquet.py``): one timed call reads the
whole 99.8 MB NDJSON file of 75,017 steps and writes its Parquet. The
contenders are ``stepwire`` (``stepwire.arrow.write_parquet``, both tables),
``duckdb`` (``COPY (SELECT * FROM read_json_auto(f)) TO ... (FORMAT
parquet)``, a fresh connection, default threads), ``duckdb 1 thread``,
``polars`` and ``pyarrow``. Times are per step (``units`` is the file's
steps), GC on.

A contender that cannot write the file (polars and pyarrow: the steps'
``attributes: {}`` is a struct without fields, which Parquet cannot hold) is
skipped with its own error as the reason, which ``benchmarks/conftest.py``
carries into the JSON (``not_measured``). So is one whose library is not
installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.parquet import CONTENDERS, Expected, contenders, verify, write_file

SCENARIO = "parquet-75017"
# One call is a whole file (1.3 s to 6 s): fixed rounds of one call, after one warm-up.
ROUNDS = 5
LIBRARY = {
    "stepwire": "pyarrow",
    "duckdb": "duckdb",
    "duckdb 1 thread": "duckdb",
    "polars": "polars",
    "pyarrow": "pyarrow",
}


@pytest.fixture(scope="module")
def ndjson(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    """The scenario's file, written once for the module: its path and contents."""
    path = tmp_path_factory.mktemp("parquet") / "steps.ndjson"
    return path, write_file(path)


@pytest.mark.parametrize("name", CONTENDERS)
def test_parquet(
    benchmark: Any,
    tag: Callable[..., None],
    name: str,
    gc_on: str,
    ndjson: tuple[Path, Expected],
    tmp_path: Path,
) -> None:
    source, expected = ndjson
    tag(
        scenario=SCENARIO,
        contender=name,
        collector=gc_on,
        units=expected.steps,
        unit="step",
        bytes=expected.size,
        steps=expected.steps,
        tool_calls=expected.tool_calls,
    )
    benchmark.group = f"NDJSON to Parquet: {expected.steps:,} steps ({gc_on})"
    if importlib.util.find_spec(LIBRARY[name]) is None:
        pytest.skip(f"{name}: {LIBRARY[name]} is not installed")
    run, out = contenders(source, tmp_path, (name,))[name]
    try:
        run()
    except Exception as exc:  # an engine that cannot write this data is a result
        pytest.skip(f"{name} cannot write this file: {type(exc).__name__}: {exc}")
    verify(name, out, expected)
    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    verify(name, out, expected)
