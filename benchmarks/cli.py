"""``stepwire stats`` against ``iter_lines`` alone: what the command adds to a decode.

The scenario ``cli-stats`` of ``make bench-check`` (``benchmarks/check.py``)
and of ``benchmarks/test_cli.py``. One timed call reads a whole NDJSON file
(``write_file``): ``parquet.write_file``'s steps (generated, the Azure tool
types spread through), 50,017 of them (66.5 MB), spread over ``ASSISTANTS``
assistants as a service's log is (the generator gives each step its own, and
the table of tokens per assistant would be as long as the file). Large enough
that the command's fixed costs (its parser, the bar's start and last redraw:
about 6 and 8 ms) are about 1% of a call: the floors are about throughput.

Contenders:

* ``iter_lines``: ``for step in stepwire.iter_lines(path): pass``, the decode
  alone, the figure the command is measured against;
* ``stepwire stats``: the command, in this process: ``stepwire._cli.main(
  ["stats", "--json", "--quiet", path])``, stdout into a buffer: its inputs,
  decode, figures and JSON, without starting an interpreter;
* ``stepwire stats, progress``: the same with the progress bar drawn, as on a
  terminal: stderr is a terminal-like buffer (``isatty()`` true), so rich's
  bar and its refresh thread run as they would for a user.

Each contender runs once before it is timed, and its figures are checked:
the command's step count must be the file's.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path

__all__ = ["ASSISTANTS", "CLI_STEPS", "CONTENDERS", "contenders", "write_file"]

CLI_STEPS = 50_000
#: Assistants the file's steps are spread over: a service's log holds a few, where the
#: generator gives each step its own (a per-assistant table as long as the file).
ASSISTANTS = 20
CONTENDERS = ("iter_lines", "stepwire stats", "stepwire stats, progress")

Run = Callable[[], None]


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, and keeps nothing it is sent."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def write_file(path: Path, steps: int = CLI_STEPS, seed: int = 1) -> int:
    """Write the scenario's file: ``parquet.write_file``'s steps, each step's
    ``assistant_id`` one of ``ASSISTANTS`` in turn. Returns its lines."""
    import itertools
    import re

    from benchmarks import parquet

    expected = parquet.write_file(path, steps, seed)
    names = [f'"assistant_id":"asst_bench{i:02d}"'.encode() for i in range(ASSISTANTS)]
    ids = itertools.cycle(names)
    # Compact JSON, a step a line: the field is found as written, and each line has one.
    body = re.sub(rb'"assistant_id":"[^"]*"', lambda _: next(ids), path.read_bytes())
    path.write_bytes(body)
    return expected.steps


def _iter_lines(path: Path) -> Run:
    import stepwire

    def run() -> None:
        for _ in stepwire.iter_lines(path):
            pass

    return run


def _stats(path: Path, steps: int, progress: bool) -> Run:
    from stepwire._cli import main

    argv = ["stats", "--json", str(path)] + ([] if progress else ["--quiet"])

    def run() -> None:
        out = io.TextIOWrapper(io.BytesIO())  # the command writes bytes to stdout.buffer
        err = _Terminal() if progress else io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
        if status != 0:
            raise RuntimeError(f"stepwire stats exited {status}")
        figures = json.loads(out.buffer.getvalue())
        if figures["steps"] != steps:
            raise RuntimeError(f"stepwire stats counted {figures['steps']} steps, not {steps}")

    return run


def contenders(path: Path, steps: int) -> dict[str, Run]:
    """The scenario's callables on ``path`` (``steps`` lines), each run once, checked."""
    runs = {
        "iter_lines": _iter_lines(path),
        "stepwire stats": _stats(path, steps, progress=False),
        "stepwire stats, progress": _stats(path, steps, progress=True),
    }
    for run in runs.values():
        run()
    return runs
