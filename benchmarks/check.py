"""``make bench-check``: fail when a speed ratio drops under its floor.

The floors live in ``benchmarks/floors.toml``, one ``[[floor]]`` table each::

    [[floor]]
    # why this floor, and what it was when set
    name = "page decode: stepwire / orjson.loads"
    ratio = ["page-100/stepwire", "page-100/orjson.loads"]
    at_most = 0.85

A ratio is the first contender's median time per unit over the second's. Every
contender a floor names is timed in the same interleaved rounds, in one
process, with the garbage collector on (:func:`benchmarks.timing.interleaved`;
what exists before the rounds is frozen out of its collections, ``gc.freeze``),
on the same bytes as the pytest-benchmark suite (the slow scenarios of
``MAX_ROUNDS``, ``frame-long-line`` and ``parquet``, each in fewer rounds of
its own). A floor that fails is measured again in fresh rounds
(``--retries``) and fails the check only if it fails every time: a burst of
load on the other core must not fail CI, a real regression fails every
attempt.

Exit status: 0 when every floor holds, 1 when one fails, 2 when the floors
file or a contender it names is unusable (e.g. the Cython extension is not
built, so its floors cannot be checked).
"""

from __future__ import annotations

import argparse
import atexit
import functools
import itertools
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "FLOORS",
    "MAX_ROUNDS",
    "Floor",
    "FloorsError",
    "Result",
    "Timed",
    "contenders",
    "judge",
    "load_floors",
    "main",
]

FLOORS = Path(__file__).with_name("floors.toml")
PAGE_STEPS = 100
PAGE_SEED = 1  # the pages of benchmarks/test_decode.py
# frame-long-line, per build: the payload's bytes, the chunks' bytes (None: the whole body
# in one chunk) and how many distinct bodies the calls take in turn, by contender name.
# "1 MiB" repeats one body, which then stays in cache: no floor uses it (docs/performance.md
# says why); "1 MiB from memory" takes 8 in turn, 8 MiB in all, as the 8 MiB line does.
LONG_LINES: dict[str, tuple[int, int | None, int]] = {
    "1 MiB": (1 << 20, 4096, 1),
    "1 MiB from memory": (1 << 20, 4096, 8),
    "8 MiB": (8 << 20, 4096, 1),
    "8 MiB in one chunk": (8 << 20, None, 1),
}

# Seconds per call of each named callable, measured side by side.
Measure = Callable[[Mapping[str, Callable[[], Any]]], Mapping[str, float]]


class FloorsError(ValueError):
    """The floors file is malformed or names a contender that cannot be run."""


@dataclass(frozen=True)
class Floor:
    """One ratio and its bound, from ``floors.toml``."""

    name: str
    numerator: str
    denominator: str
    bound: float
    at_most: bool

    def holds(self, ratio: float) -> bool:
        """Whether ``ratio`` (numerator / denominator) is within the bound."""
        return ratio <= self.bound if self.at_most else ratio >= self.bound

    def describe(self) -> str:
        """The bound as it reads: ``<= 0.85x`` or ``>= 100x``."""
        return f"{'<=' if self.at_most else '>='} {self.bound:g}x"


@dataclass(frozen=True)
class Timed:
    """A zero-argument callable and how many units (steps, events) one call handles."""

    call: Callable[[], Any]
    units: int


@dataclass(frozen=True)
class Result:
    """A floor, the ratio measured in each attempt, and the verdict."""

    floor: Floor
    ratios: tuple[float, ...]

    @property
    def ok(self) -> bool:
        """True when any attempt held: every attempt must fail to fail the check."""
        return any(self.floor.holds(r) for r in self.ratios)


def load_floors(path: Path = FLOORS) -> list[Floor]:
    """Read and validate a floors file.

    Parameters
    ----------
    path : Path
        A TOML file of ``[[floor]]`` tables.

    Returns
    -------
    list of Floor

    Raises
    ------
    FloorsError
        If the file is not TOML or a table lacks ``name``, a two-item ``ratio``
        of ``"scenario/contender"`` strings, or exactly one positive
        ``at_most`` / ``at_least`` bound, or has any other key.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FloorsError(f"{path}: {exc}") from exc
    tables = document.get("floor")
    if set(document) != {"floor"} or not isinstance(tables, list) or not tables:
        raise FloorsError(f"{path}: expected only [[floor]] tables")
    floors = []
    for i, table in enumerate(tables):
        where = f"{path}: floor {i + 1}"
        unknown = set(table) - {"name", "ratio", "at_most", "at_least"}
        if unknown:
            raise FloorsError(f"{where}: unknown keys {sorted(unknown)}")
        name, ratio = table.get("name"), table.get("ratio")
        if not isinstance(name, str) or not name:
            raise FloorsError(f"{where}: 'name' must be a non-empty string")
        if not (
            isinstance(ratio, list)
            and len(ratio) == 2
            and all(isinstance(c, str) and c.count("/") == 1 for c in ratio)
        ):
            raise FloorsError(f"{where} ({name}): 'ratio' must be two 'scenario/contender' strings")
        bounds = [k for k in ("at_most", "at_least") if k in table]
        if len(bounds) != 1:
            raise FloorsError(f"{where} ({name}): give exactly one of at_most, at_least")
        bound = table[bounds[0]]
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not bound > 0:
            raise FloorsError(f"{where} ({name}): the bound must be a positive number")
        floors.append(Floor(name, ratio[0], ratio[1], float(bound), bounds[0] == "at_most"))
    return floors


# -- the scenarios: the same bytes and callables as the pytest-benchmark suite -----


def _page(openai_types: bool = False) -> dict[str, Timed]:
    import orjson

    from benchmarks.contenders import all_page_contenders, openai_types_page, step_ids
    from stepgen import generate_page

    data = (openai_types_page if openai_types else generate_page)(PAGE_STEPS, seed=PAGE_SEED)
    body = orjson.dumps(data)
    expected = step_ids(data)
    decoders = all_page_contenders()
    if not openai_types:  # openai-python's own models refuse some of the mixed page's steps
        decoders.pop("openai-python model_validate_json", None)
    timed = {}
    for name, decode in decoders.items():
        if step_ids(decode(body)) != expected:  # a contender that decoded something else
            raise FloorsError(f"page/{name}: not the {PAGE_STEPS} steps of the page")
        timed[name] = Timed(functools.partial(decode, body), 1)
    return timed


def _drift() -> dict[str, Timed]:
    """The mixed page as it is, and as a service sends it after a rollout.

    ``stepwire`` decodes the page as it is; ``unknown tool types`` is the same
    page with every tool call of a type no release knows, ``unknown field``
    with one new field on every step. Each drifted page has its own
    ``Decoder``, warmed by one decode: a service meets the new shape on every
    body, and the first one teaches the decoder (docs/performance.md).
    """
    import orjson

    from benchmarks.contenders import step_ids
    from stepgen import generate_page, with_unknown_field, with_unknown_tool_types

    data = generate_page(PAGE_STEPS, seed=PAGE_SEED)
    expected = step_ids(data)
    timed = {}
    for name, page in (
        ("stepwire", data),
        ("stepwire unknown tool types", with_unknown_tool_types(data)),
        ("stepwire unknown field", with_unknown_field(data)),
    ):
        import stepwire

        body = orjson.dumps(page)
        decoder: stepwire.Decoder[stepwire.RunStepPage] = stepwire.Decoder(stepwire.RunStepPage)
        decoded = decoder.decode(body)
        if step_ids(decoded) != expected or orjson.loads(stepwire.encode(decoded)) != page:
            raise FloorsError(f"page-100-drift/{name}: the page does not round-trip")
        timed[name] = Timed(functools.partial(decoder.decode, body), 1)
    return timed


def _stream(events: int) -> dict[str, Timed]:
    from benchmarks.stream import check_same_result, stream_contenders

    openai = events <= 1_000
    if openai:
        check_same_result(events)  # every contender builds the same snapshot
    runs = stream_contenders(events, openai=openai)
    return {name: Timed(run, events) for name, run in runs.items()}


def _frame(accumulator: Callable[[], Any], chunks: tuple[bytes, ...]) -> list[Any]:
    """A fresh accumulator fed every chunk, then the blank line: the events it returned."""
    acc = accumulator()
    feed = acc.feed
    events: list[Any] = []
    for chunk in chunks:
        events += feed(chunk)
    events += feed(b"\n\n")
    return events


def _frame_in_turn(accumulator: Callable[[], Any], bodies: tuple[tuple[bytes, ...], ...]) -> Any:
    """A callable framing the next of ``bodies`` at each call (see ``_frame``)."""
    turn = itertools.cycle(bodies)
    return lambda: _frame(accumulator, next(turn))


def _long_line(
    cases: Mapping[str, tuple[int, int | None, int]] = LONG_LINES,
) -> dict[str, Timed]:
    """One event of one long ``data:`` line, fed in chunks, per build and case.

    Contenders are ``"<build> <case>"`` (``stepwire python 8 MiB``, ``stepwire
    cython 1 MiB``; the cases are ``LONG_LINES``): each call builds a fresh
    ``Accumulator`` and feeds it ``event: x``, ``data: `` and a JSON string of
    the payload's size, cut into chunks (once, here), then the blank line.
    Framing that rescans the line from its start at every chunk takes the
    square of the line's length: the floors compare the same 8 MiB line in
    4 KiB chunks and in one, which differ only in the feeds, not 8 MiB with
    1 MiB, a ratio that cache and allocator effects dominate (floors.toml).
    Each contender is run once here, untimed, and must return the one event,
    whose ``raw`` is the payload.
    """
    from benchmarks.stream import stream_modules

    modules = stream_modules()
    timed = {}
    for case, (size, step, copies) in cases.items():
        payloads = [b'"' + bytes([0x61 + i]) * (size - 2) + b'"' for i in range(copies)]
        bodies = []
        for payload in payloads:
            body = b"event: x\ndata: " + payload
            cut = step or len(body)
            bodies.append(tuple(body[i : i + cut] for i in range(0, len(body), cut)))
        for build, module in modules.items():
            name = f"{build} {case}"
            run = _frame_in_turn(module.Accumulator, tuple(bodies))
            for payload in payloads:  # each body once, in the order the calls take them
                events = run()
                if len(events) != 1 or events[0].raw != payload:
                    raise FloorsError(f"frame-long-line/{name}: not the one event of the payload")
            timed[name] = Timed(run, 1)
    return timed


# The parquet scenario's contenders that bench-check times: the floor's two (polars and
# pyarrow cannot write the file, and DuckDB on one thread is no floor's: the
# pytest-benchmark suite times and records them).
PARQUET_CHECKED = ("stepwire", "duckdb")


def _parquet(steps: int | None = None) -> dict[str, Timed]:
    """NDJSON to Parquet, one whole file a call (``benchmarks/parquet.py``).

    The file (75,017 steps, 99.8 MB, by default) is written once per run into
    a temporary directory, removed when the process exits; every contender
    writes its Parquet there too, over its previous output. Each contender
    runs once here, untimed, and must write a row per step (and, for
    stepwire, per tool call). A unit is a step, so the times reported are per
    step; the ratios are those of whole files.
    """
    from benchmarks import parquet

    where = Path(tempfile.mkdtemp(prefix="stepwire-bench-parquet-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    source = where / "steps.ndjson"
    expected = parquet.write_file(source, steps or parquet.PARQUET_STEPS)
    timed = {}
    # polars and pyarrow cannot write this file (benchmarks/parquet.py): not offered here.
    for name, (run, out) in parquet.contenders(source, where, PARQUET_CHECKED).items():
        run()
        try:
            parquet.verify(name, out, expected)
        except AssertionError as exc:
            raise FloorsError(f"parquet/{name}: {exc}") from None
        timed[name] = Timed(run, expected.steps)
    return timed


def _cli_stats(steps: int | None = None) -> dict[str, Timed]:
    """``stepwire stats`` against ``iter_lines`` on one file (``benchmarks/cli.py``).

    The file (``cli.write_file``: 50,017 generated steps, 66.5 MB)
    is written once per run into a temporary directory, removed when the
    process exits. A call reads the whole file; a unit is a step.
    """
    from benchmarks import cli

    where = Path(tempfile.mkdtemp(prefix="stepwire-bench-cli-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    source = where / "steps.ndjson"
    lines = cli.write_file(source, steps or cli.CLI_STEPS)
    return {name: Timed(run, lines) for name, run in cli.contenders(source, lines).items()}


@functools.cache
def _server() -> Any:
    """The replay server of the http scenarios, started once, stopped at exit."""
    from benchmarks import responses

    server = responses.Server()
    atexit.register(server.close)
    return server


def _http_events() -> dict[str, Timed]:
    """A generated stream of 1,000 small events over httpx (``benchmarks/responses.py``).

    A call is one request to the replay server (another process); a unit is an event.
    """
    from benchmarks import responses

    runs, events = responses.http_contenders(_server())
    return {name: Timed(run, events) for name, run in runs.items()}


def _openai_stream() -> dict[str, Timed]:
    """A recorded stream through openai-python's client (``benchmarks/responses.py``).

    A call is one ``runs.create``; a unit is the stream.
    """
    from benchmarks import responses

    runs = responses.openai_contenders(_server())
    return {name: Timed(run, 1) for name, run in runs.items()}


SCENARIOS: dict[str, Callable[[], dict[str, Timed]]] = {
    "page-100": _page,
    "page-100-openai-types": lambda: _page(openai_types=True),
    "page-100-drift": _drift,
    "stream-1000": lambda: _stream(1_000),
    "stream-100000": lambda: _stream(100_000),
    "frame-long-line": _long_line,
    "parquet": _parquet,
    "cli-stats": _cli_stats,
    "http-events": _http_events,
    "openai-stream": _openai_stream,
}

# Scenarios whose calls are slow (a second or more per round when a build regresses):
# timed in at most this many interleaved rounds, on their own, so that they do not
# lengthen the whole check. A floor should not pair one with another scenario.
# parquet: a call is a whole 99.8 MB file (stepwire about 1.5 s, DuckDB 1.3 s): 5 rounds,
# about 15 s when its floor holds at once (and about 15 s to write the file first).
# cli-stats: a call is a whole 66.5 MB file (about 0.6 s to 1 s a contender): 5 rounds.
MAX_ROUNDS: dict[str, int] = {"frame-long-line": 5, "parquet": 5, "cli-stats": 5}

# Scenarios that read from a server in another process (benchmarks/responses.py): timed
# on their own, in this process's CPU time (time.process_time), not wall time, which
# would include the server's work and the wait for it.
CPU_TIMED = frozenset({"http-events", "openai-stream"})


def contenders(names: Iterable[str]) -> dict[str, Timed]:
    """Build the named ``"scenario/contender"`` callables (each scenario once).

    Raises
    ------
    FloorsError
        If a scenario is unknown or does not offer the contender (the message
        says why, e.g. that the Cython extension is not built).
    """
    wanted = sorted(set(names))
    built: dict[str, dict[str, Timed]] = {}
    timed = {}
    for key in wanted:
        scenario, name = key.split("/")
        if scenario not in SCENARIOS:
            raise FloorsError(f"{key}: unknown scenario (known: {', '.join(SCENARIOS)})")
        if scenario not in built:
            built[scenario] = SCENARIOS[scenario]()
        if name not in built[scenario]:
            from benchmarks.stream import missing_note

            note = missing_note() if "cython" in name else None
            raise FloorsError(
                f"{key}: not available"
                + (f" ({note})" if note else f"; offered: {', '.join(built[scenario])}")
            )
        timed[key] = built[scenario][name]
    return timed


# -- measuring and judging -----------------------------------------------------


def per_unit(timed: Mapping[str, Timed], keys: Iterable[str], measure: Measure) -> dict[str, float]:
    """Median seconds per unit of each key, all keys timed in the same rounds."""
    keys = sorted(set(keys))
    seconds = measure({key: timed[key].call for key in keys})
    return {key: seconds[key] / timed[key].units for key in keys}


def judge(
    floors: Sequence[Floor],
    timed: Mapping[str, Timed],
    measure: Measure,
    retries: int = 2,
    report: Callable[[str], object] = print,
) -> list[Result]:
    """Measure every floor's ratio; measure failing floors again, up to ``retries`` times.

    Parameters
    ----------
    floors : sequence of Floor
    timed : mapping of str to Timed
        Every contender the floors name.
    measure : callable
        Takes named zero-argument callables, returns median seconds per call
        of each, measured side by side.
    retries : int
        Fresh measurements of the floors that failed, at most.
    report : callable
        Receives a line per measurement attempt.

    Returns
    -------
    list of Result
        In the order of ``floors``; a result holds every ratio measured for it.
    """
    ratios: dict[Floor, list[float]] = {floor: [] for floor in floors}
    pending = list(floors)
    for attempt in range(retries + 1):
        keys = {k for f in pending for k in (f.numerator, f.denominator)}
        unit = per_unit(timed, keys, measure)
        for key in sorted(keys):
            report(f"  attempt {attempt + 1}: {key:45s} {unit[key] * 1e6:12.3f} us/unit")
        for floor in pending:
            ratios[floor].append(unit[floor.numerator] / unit[floor.denominator])
        pending = [f for f in pending if not any(f.holds(r) for r in ratios[f])]
        if not pending:
            break
    return [Result(floor, tuple(ratios[floor])) for floor in floors]


def _interleaved(rounds: int) -> Measure:
    """Interleaved rounds of ``"scenario/contender"`` calls, fewer for a MAX_ROUNDS scenario.

    The calls of the scenarios that run the full ``rounds`` are measured
    together; each scenario capped under ``rounds`` is measured on its own,
    in its own interleaved rounds (two capped scenarios never share rounds,
    even with the same cap).
    """
    import time

    from benchmarks.timing import interleaved

    def measure(calls: Mapping[str, Callable[[], Any]]) -> Mapping[str, float]:
        groups: dict[tuple[int, str], dict[str, Callable[[], Any]]] = {}
        for key, call in calls.items():
            scenario = key.split("/")[0]
            cap = min(rounds, MAX_ROUNDS.get(scenario, rounds))
            alone = cap < rounds or scenario in CPU_TIMED
            groups.setdefault((cap, scenario if alone else ""), {})[key] = call
        seconds: dict[str, float] = {}
        for (n, scenario), group in groups.items():
            clock = time.process_time if scenario in CPU_TIMED else time.perf_counter
            seconds.update(interleaved(group, rounds=n, target=0.02, gc_enabled=True, clock=clock))
        return seconds

    return measure


def main(argv: Sequence[str] | None = None, measure: Measure | None = None) -> int:
    """Run the check; see the module docstring for the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.check", description=__doc__)
    parser.add_argument("--floors", type=Path, default=FLOORS, help="floors file (TOML)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per attempt")
    parser.add_argument("--retries", type=int, default=2, help="re-measures of a failing floor")
    args = parser.parse_args(argv)
    try:
        floors = load_floors(args.floors)
        timed = contenders(k for f in floors for k in (f.numerator, f.denominator))
    except FloorsError as exc:
        print(f"bench-check: {exc}", file=sys.stderr)
        return 2

    import stepwire

    scenarios = {k.split("/")[0] for k in timed}
    capped = ", ".join(
        f"{s}: {min(n, args.rounds)}" for s, n in MAX_ROUNDS.items() if s in scenarios
    )
    print(
        f"bench-check: {len(floors)} floors from {args.floors}, stepwire {stepwire.__version__} "
        f"({stepwire.IMPLEMENTATION}), {args.rounds} interleaved rounds"
        + (f" ({capped})" if capped else "")
        + ", GC on"
    )
    results = judge(floors, timed, measure or _interleaved(args.rounds), args.retries)
    width = max(len(r.floor.name) for r in results)
    for r in results:
        shown = ", ".join(f"{x:.2f}x" for x in r.ratios)
        verdict = "ok  " if r.ok else "FAIL"
        print(f"{verdict} {r.floor.name:{width}s}  {shown:>22s}  (floor {r.floor.describe()})")
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"bench-check: {len(failed)} of {len(results)} floors failed", file=sys.stderr)
        return 1
    print(f"bench-check: all {len(results)} floors hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
