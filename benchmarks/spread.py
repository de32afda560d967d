"""``python -m benchmarks.spread``: the page-decode ratios over many generated pages.

The suite and ``make bench-check`` time one page (``generate_page(100, seed=1)``,
about 90 KB). Pages differ: those with long file_search contents put more of
their bytes into long strings, which every parser scans alike, so stepwire's
lead (which is in building objects) shrinks there. This prints, for pages of
seeds ``0 .. N-1``, the size and the ratios the floors check, then their
minimum, median and maximum, measured side by side in interleaved rounds with
the collector on.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from collections.abc import Sequence

import orjson

from benchmarks.contenders import all_page_contenders
from benchmarks.timing import interleaved
from stepgen import generate_page

RATIOS = {  # label: (numerator, denominator)
    "stepwire / orjson": ("stepwire", "orjson.loads"),
    "pydantic / stepwire": ("pydantic v2 strict", "stepwire"),
    "summary / stepwire": ("stepwire summary", "stepwire"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the per-page ratios and their spread."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spread", description=__doc__)
    parser.add_argument("--pages", type=int, default=20, help="seeds 0 .. N-1")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per page")
    args = parser.parse_args(argv)
    contenders = all_page_contenders()
    names = sorted({name for pair in RATIOS.values() for name in pair})
    print(f"| seed | KB | {' | '.join(RATIOS)} |")
    print(f"|---:|---:|{'---:|' * len(RATIOS)}")
    columns: dict[str, list[float]] = {label: [] for label in RATIOS}
    for seed in range(args.pages):
        body = orjson.dumps(generate_page(100, seed=seed))
        calls = {name: functools.partial(contenders[name], body) for name in names}
        medians = interleaved(calls, rounds=args.rounds, target=0.01)
        cells = []
        for label, (a, b) in RATIOS.items():
            columns[label].append(medians[a] / medians[b])
            cells.append(f"{columns[label][-1]:.2f}x")
        print(f"| {seed} | {len(body) / 1e3:.0f} | {' | '.join(cells)} |")
    for name, pick in (("min", min), ("median", statistics.median), ("max", max)):
        cells = [f"{pick(values):.2f}x" for values in columns.values()]
        print(f"| {name} | | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
