"""pytest-benchmark suite: ``stepwire stats`` against ``iter_lines`` alone.

Run with ``make bench`` (not part of ``make test``), or alone::

    PYTHONPATH=src:. .venv/bin/python -m pytest benchmarks/test_cli.py \
        -p no:cacheprovider --benchmark-only

Scenario ``cli-stats-15017`` (the same file and callables as bench-check's
``cli-stats`` scenario, ``benchmarks/cli.py``): one timed call reads the whole
66.5 MB NDJSON file of 50,017 steps. The contenders are ``iter_lines`` (the decode
alone), ``stepwire stats`` (the command in this process, ``--json --quiet``)
and ``stepwire stats, progress`` (the same with the progress bar drawn on a
terminal-like stderr). Times are per step, GC on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.cli import CLI_STEPS, CONTENDERS, contenders, write_file

SCENARIO = f"cli-stats-{CLI_STEPS + 17}"
ROUNDS = 5


@pytest.fixture(scope="module")
def ndjson(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The scenario's file, written once for the module: its path and lines."""
    path = tmp_path_factory.mktemp("cli") / "steps.ndjson"
    return path, write_file(path, CLI_STEPS)


@pytest.mark.parametrize("name", CONTENDERS)
def test_cli_stats(
    benchmark: Any,
    tag: Callable[..., None],
    name: str,
    gc_on: str,
    ndjson: tuple[Path, int],
) -> None:
    source, steps = ndjson
    tag(
        scenario=SCENARIO,
        contender=name,
        collector=gc_on,
        units=steps,
        unit="step",
        bytes=source.stat().st_size,
        steps=steps,
    )
    benchmark.group = f"stepwire stats: {steps:,} steps ({gc_on})"
    run = contenders(source, steps)[name]
    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
