"""Turn a pytest-benchmark JSON file into docs/benchmarks.md and charts in docs/img/.

Usage::

    python -m benchmarks.report RESULTS.json [--docs docs]

``RESULTS.json`` is what ``pytest benchmarks --benchmark-json=RESULTS.json``
wrote. Rows are found by their ``extra_info`` tags (``scenario``,
``contender``, ``gc``, ``units``, ``unit``; see ``benchmarks/conftest.py``),
not by test or group names. Written:

* ``<docs>/benchmarks.md``: how the results were produced (command, date,
  machine, versions), per scenario a table of medians and IQRs per
  contender, the time per step or event, the ratio to stepwire, GC off beside
  GC on where both were measured; the memory tables; how to reproduce.
* ``<docs>/img/<scenario>.png``: one bar chart per scenario, and
  ``<docs>/img/overview.png``: stepwire's speed-up over each other library
  across the main scenarios.

The markdown depends only on the JSON (rows are sorted, the date is the
run's), so the same results always give the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

__all__ = [
    "Row",
    "format_bytes",
    "format_ratio",
    "format_time",
    "load_rows",
    "main",
    "reference_of",
    "render_markdown",
    "speed_words",
    "write_charts",
    "write_report",
]

# What each known scenario is, in the order the report shows them; others
# follow, sorted, under their group name.
SCENARIOS: dict[str, tuple[str, str]] = {
    "step-1": (
        "One step",
        "One run step (a code interpreter call) decoded from its JSON.",
    ),
    "page-100": (
        "Mixed 100-step page",
        "A mixed 100-step page from the seeded generator (`generate_page(100, seed=1)`): "
        "message creation, code interpreter, function and file search steps, and Azure "
        "tool calls, as in the recorded corpus.",
    ),
    "page-100-openai-types": (
        "100-step page of only the types openai-python knows",
        "The first 100 generated steps (seed 1) that openai-python's own models accept "
        "(no Azure tool types, no `default-2024-08-21` ranker), so that "
        "`openai-python model_validate_json` runs on the same bytes as everyone else.",
    ),
    "ndjson-10000": (
        "NDJSON of 10,000 steps",
        "10,000 generated steps, one per line. `stepwire` is `decode_lines` on the whole "
        "body; every other contender splits the lines and decodes each one.",
    ),
    "encode-page-100": (
        "Encoding the mixed page",
        "The mixed 100-step page back to JSON, each contender from the object its own "
        "decoder built; every output is checked to parse back to the page.",
    ),
    "stream-1000": (
        "Stream of 1,000 delta events",
        "One function call streamed as SSE bytes in 4 KiB chunks, to the merged snapshot "
        "(`benchmarks/stream.py`).",
    ),
    "stream-1000-parallel3": (
        "Stream of 1,000 delta events, 3 parallel calls",
        "As `stream-1000`, with three function calls' deltas interleaved.",
    ),
    "stream-100000": (
        "Stream of 100,000 delta events",
        "As `stream-1000`, 100 times longer (openai-python is not run: about 12 s a stream).",
    ),
    "memory-kept-10000": (
        "Memory kept per decoded step",
        "A page of 10,000 generated steps decoded and the result kept: the growth of "
        "`tracemalloc`'s current size, after a full collection, divided by the steps. The "
        "input body is not counted, except where the result keeps it alive "
        "(`stepwire summary`'s `Raw` views point into it).",
    ),
    "memory-peak-ndjson-50000": (
        "Peak memory reading a large NDJSON file",
        "An NDJSON file of 50,000 steps read and every step dropped: `tracemalloc`'s peak "
        "above the start.",
    ),
    "parquet-75017": (
        "NDJSON to Parquet, 75,017 steps",
        "A 99.8 MB NDJSON file of generated steps (seed 1, with one Azure step of each "
        "tool type) to Parquet, one whole file a call (`benchmarks/parquet.py`): "
        "`stepwire.arrow.write_parquet` (both tables) against DuckDB's "
        "`COPY (SELECT * FROM read_json_auto(f)) TO ... (FORMAT parquet)`, default threads "
        "and one thread, polars and pyarrow.",
    ),
    "cli-stats-50017": (
        "`stepwire stats` against iter_lines, 50,017 steps",
        "A 66.5 MB NDJSON file of generated steps spread over 20 assistants "
        "(`benchmarks/cli.py`), one whole file a call: `iter_lines` alone, the command "
        "(`stats --json --quiet`, in the process) and the command with its progress bar "
        "drawn on a terminal-like stderr.",
    ),
    "http-events-1001": (
        "A stream from an HTTP response, 1,000 events, CPU time",
        "A generated stream of 1,000 small delta events from the replay server (another "
        "process) in 256-byte chunks, over a kept-alive `httpx.Client`: the drain alone "
        "(`iter_bytes()`) against `stepwire.iter_events(response)`; this process's CPU "
        "time (`benchmarks/responses.py`).",
    ),
    "openai-stream-50": (
        "Through openai-python's client, a recorded 50-event stream, CPU time",
        "openai-python's real `OpenAI(base_url=...)` against the replay server: its typed "
        "`Stream`, its `runs.stream()` handler, and `with_streaming_response` read by "
        "`stepwire.iter_events`; CPU time a stream (`benchmarks/responses.py`).",
    ),
}
MAIN_SCENARIOS = (
    "step-1",
    "page-100",
    "page-100-openai-types",
    "ndjson-10000",
    "encode-page-100",
    "stream-1000",
)
# Whose time every ratio is against: the first of these a scenario has.
REFERENCES = ("stepwire", "stepwire cython", "stepwire iter_lines", "stepwire iter_events")
# One label per library in the overview, whichever function of it ran.
LIBRARY = {
    "orjson.loads": "orjson",
    "orjson.dumps": "orjson",
    "json.loads": "json (stdlib)",
    "json.dumps": "json (stdlib)",
}
WIDE_SPREAD = 0.5  # an IQR above this share of the median gets a footnote
LOG_SCALE_SPREAD = 20.0  # a linear axis hides the fast bars beyond this
STEPWIRE_COLOR = "#d9480f"
STEPWIRE_VARIANT_COLOR = "#f8a26b"
OTHER_COLOR = "#868e96"
FIGSIZE = (7.0, 3.0)
DPI = 100


@dataclass(frozen=True)
class Row:
    """One benchmark row of the results, by its tags.

    Attributes
    ----------
    scenario, contender, gc : str
        The tags (``gc`` is ``"on"`` or ``"off"``).
    group, name : str
        pytest-benchmark's group and test name.
    median, iqr : float
        Seconds per call.
    rounds : int
        Timed rounds.
    units : int
        Steps, events or pages per call.
    unit : str
        ``"step"``, ``"event"`` or ``"page"``.
    extra : dict
        Every ``extra_info`` entry (memory rows' byte figures among them).
    """

    scenario: str
    contender: str
    gc: str
    group: str
    name: str
    median: float
    iqr: float
    rounds: int
    units: int
    unit: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def per_unit(self) -> float:
        """Median seconds per step, event or page."""
        return self.median / max(self.units, 1)

    @property
    def is_memory(self) -> bool:
        """Whether the row is a memory measurement (its time is not a speed figure)."""
        return "peak_bytes" in self.extra or "bytes_per_step" in self.extra


def load_rows(results: Mapping[str, Any]) -> list[Row]:
    """The rows of a pytest-benchmark JSON document, sorted by scenario, gc and contender.

    Parameters
    ----------
    results : mapping
        The parsed JSON (``--benchmark-json``).

    Returns
    -------
    list of Row
        Untagged rows fall back to their group as the scenario and their test
        name as the contender; a duplicate (scenario, contender, gc) keeps the
        first by test name.
    """
    rows: dict[tuple[str, str, str], Row] = {}
    benches = sorted(results.get("benchmarks", []), key=lambda b: str(b.get("fullname", "")))
    for bench in benches:
        info = bench.get("extra_info") or {}
        stats = bench["stats"]
        group = str(bench.get("group") or "")
        row = Row(
            scenario=str(info.get("scenario") or group or bench["name"]),
            contender=str(info.get("contender") or bench["name"]),
            gc=str(info.get("gc") or "on"),
            group=group,
            name=str(bench["name"]),
            median=float(stats["median"]),
            iqr=float(stats["iqr"]),
            rounds=int(stats["rounds"]),
            units=int(info.get("units") or 1),
            unit=str(info.get("unit") or "call"),
            extra=dict(info),
        )
        rows.setdefault((row.scenario, row.contender, row.gc), row)
    return sorted(rows.values(), key=lambda r: (r.scenario, r.gc, r.contender))


def _scenario_order(rows: Iterable[Row]) -> list[str]:
    present = {row.scenario for row in rows}
    known = [s for s in SCENARIOS if s in present]
    return known + sorted(present - set(known))


def reference_of(contenders: Iterable[str]) -> str | None:
    """The contender every ratio of a scenario is against.

    Parameters
    ----------
    contenders : iterable of str

    Returns
    -------
    str or None
        The first of :data:`REFERENCES` present, else the first (sorted)
        name starting with ``stepwire``, else ``None``.
    """
    names = set(contenders)
    for name in REFERENCES:
        if name in names:
            return name
    ours = sorted(name for name in names if name.startswith("stepwire"))
    return ours[0] if ours else None


# -- formatting -------------------------------------------------------------------


def _sig(value: float) -> str:
    """Three significant digits at most, thousands separated."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_time(seconds: float) -> str:
    """A duration with a unit that keeps its number between 1 and 1,000.

    Parameters
    ----------
    seconds : float

    Returns
    -------
    str
        E.g. ``"888 ns"``, ``"131 us"``, ``"6.43 ms"``, ``"1.20 s"``.
    """
    for scale, unit in ((1e-9, "ns"), (1e-6, "us"), (1e-3, "ms")):
        if seconds < scale * 1000:
            return f"{_sig(seconds / scale)} {unit}"
    return f"{_sig(seconds)} s"


def format_bytes(count: float) -> str:
    """A byte count in B, KB, MB or GB (powers of 1,000).

    Parameters
    ----------
    count : float

    Returns
    -------
    str
        E.g. ``"884 B"``, ``"31.9 KB"``, ``"118 MB"``.
    """
    for scale, unit in ((1.0, "B"), (1e3, "KB"), (1e6, "MB")):
        if abs(count) < scale * 1000:
            return f"{_sig(count / scale)} {unit}"
    return f"{_sig(count / 1e9)} GB"


def format_ratio(ratio: float) -> str:
    """A ratio with ``x``: ``"1.37x"``, ``"52.5x"``, ``"383x"``.

    Parameters
    ----------
    ratio : float

    Returns
    -------
    str
    """
    return f"{_sig(ratio)}x"


def speed_words(ratio: float, reference: str) -> str:
    """Say what a time ratio (contender / reference) means, in words.

    Parameters
    ----------
    ratio : float
        The contender's median divided by the reference's.
    reference : str
        The reference contender's name.

    Returns
    -------
    str
        ``"stepwire 5.26x faster"`` when the contender is slower, ``"takes
        0.73x stepwire's time"`` when it is faster, ``"same time as stepwire"``
        within half a percent.
    """
    if abs(ratio - 1.0) < 0.005:
        return f"same time as {reference}"
    if ratio > 1.0:
        return f"{reference} {format_ratio(ratio)} faster"
    return f"takes {ratio:.2f}x {reference}'s time"


def _number(row: Row, key: str) -> float:
    """A numeric ``extra_info`` figure of a row, 0 when absent."""
    value = row.extra.get(key)
    return float(value) if isinstance(value, (int, float)) else 0.0


def _kept_per_step(row: Row) -> float:
    """Bytes a decoded step keeps, with its share of any input the result keeps alive."""
    return _number(row, "bytes_per_step") + _number(row, "input_kept_bytes") / max(row.units, 1)


def _memory_words(ratio: float, reference: str) -> str:
    if abs(ratio - 1.0) < 0.005:
        return f"same as {reference}"
    shown = format_ratio(ratio) if ratio > 1.0 else f"{ratio:.2f}x"
    return f"{shown} as much as {reference}"


# -- markdown ---------------------------------------------------------------------


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], right: int) -> list[str]:
    """A markdown table whose columns from ``right`` on are right-aligned."""
    align = ["---" if i < right else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines.extend("| " + " | ".join(cells) + " |" for cells in rows)
    return lines


def _by_gc(rows: Iterable[Row]) -> dict[str, dict[str, Row]]:
    out: dict[str, dict[str, Row]] = {}
    for row in rows:
        out.setdefault(row.gc, {})[row.contender] = row
    return out


def _ordered(
    contenders: Iterable[str], key: Mapping[str, float], reference: str | None
) -> list[str]:
    """The reference first, then fastest (or smallest) first, ties by name."""
    return sorted(
        set(contenders),
        key=lambda name: (name != reference, key.get(name, math.inf), name),
    )


def _speed_section(rows: list[Row], reference: str | None) -> list[str]:
    by_gc = _by_gc(rows)
    on, off = by_gc.get("on", {}), by_gc.get("off", {})
    unit = rows[0].unit
    both = bool(on) and bool(off)
    primary = on or off
    medians = {name: row.median for name, row in primary.items()}
    names = _ordered([*on, *off], medians, reference)
    wide: list[Row] = []

    def cells(row: Row | None, base: Row | None, with_unit: bool) -> list[str]:
        if row is None:
            return ["not run"] + [""] * (4 if with_unit else 2)
        ratio = ""
        if base is not None and row.contender != base.contender:
            ratio = speed_words(row.median / base.median, base.contender)
        elif base is not None:
            ratio = "reference"
        spread = format_time(row.iqr)
        if row.iqr > WIDE_SPREAD * row.median:
            spread += " †"
            wide.append(row)
        out = [format_time(row.median), spread]
        if with_unit:
            out += [format_time(row.per_unit), str(row.rounds)]
        return [*out, ratio]

    label = "GC on" if on else "GC off"
    header = [
        "contender",
        f"median ({label})",
        "IQR",
        f"per {unit}",
        "rounds",
        "vs " + (reference or "stepwire"),
    ]
    if both:
        header += ["median (GC off)", "IQR", "vs " + (reference or "stepwire") + " (GC off)"]
    table_rows = []
    for name in names:
        base = primary.get(reference) if reference else None
        line = [f"**{name}**" if name == reference else name]
        line += cells(primary.get(name), base, True)
        if both:
            line += cells(off.get(name), off.get(reference) if reference else None, False)
        table_rows.append(line)
    lines = _table(header, table_rows, 1)
    if wide:
        lines += [
            "",
            f"† A wide spread (IQR over {WIDE_SPREAD:.0%} of the median): the rounds differ a "
            "lot. With the collector on, that is usually whether a full collection of the "
            "objects the call builds fell inside the round or not; the median is then less "
            "certain than the other rows'.",
        ]
    return lines


def _memory_section(rows: list[Row], reference: str | None) -> list[str]:
    by_name = {row.contender: row for row in rows if row.gc == "on"} or {
        row.contender: row for row in rows
    }
    kept = any("bytes_per_step" in row.extra for row in by_name.values())
    if kept:
        sizes = {name: _kept_per_step(row) for name, row in by_name.items()}
        header = [
            "contender",
            "bytes kept per step",
            "+ input kept alive, per step",
            "total per step",
            "peak above start",
            "total vs " + (reference or "stepwire"),
        ]
    else:
        sizes = {name: _number(row, "peak_bytes") for name, row in by_name.items()}
        header = [
            "contender",
            "peak above start",
            "peak / file size",
            "vs " + (reference or "stepwire"),
        ]
    names = _ordered(by_name, sizes, reference)
    base = sizes.get(reference) if reference else None
    table_rows = []
    for name in names:
        row = by_name[name]
        words = ""
        if base and name != reference:
            words = _memory_words(sizes[name] / base, reference or "stepwire")
        elif base:
            words = "reference"
        label = f"**{name}**" if name == reference else name
        if kept:
            per_input = _number(row, "input_kept_bytes") / max(row.units, 1)
            table_rows.append(
                [
                    label,
                    format_bytes(_number(row, "bytes_per_step")),
                    format_bytes(per_input) if per_input else "-",
                    format_bytes(sizes[name]),
                    format_bytes(_number(row, "peak_bytes")),
                    words,
                ]
            )
        else:
            file_bytes = _number(row, "file_bytes")
            share = f"{_sig(100 * sizes[name] / file_bytes)}%" if file_bytes else ""
            table_rows.append([label, format_bytes(sizes[name]), share, words])
    return _table(header, table_rows, 1)


def _header(results: Mapping[str, Any], source: str, docs: str) -> list[str]:
    machine = results.get("machine_info") or {}
    versions = machine.get("versions") or {}
    cpu = machine.get("cpu") or {}
    commit = results.get("commit_info") or {}
    command = results.get("command") or "python -m pytest benchmarks --benchmark-json=RESULTS.json"
    date = str(results.get("datetime") or "unknown date")
    when = date[:19].replace("T", " ") + (" UTC" if date.endswith("+00:00") else "")
    cpus = machine.get("cpu_count") or cpu.get("count") or "?"
    system = " ".join(str(machine.get(k) or "") for k in ("system", "release", "machine")).strip()
    names = ", ".join(f"{name} {value}" for name, value in sorted(versions.items()) if value)
    build = machine.get("stepwire_implementation")
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by benchmarks/report.py; edit that, not this file. -->",
        "",
        f"Produced by `{command}`, then `python -m benchmarks.report {source} --docs {docs}`, "
        f"on {when}.",
        "",
        f"- Machine: {cpu.get('brand_raw') or machine.get('processor') or 'unknown CPU'}, "
        f"{cpus} CPUs, {system or 'unknown system'}.",
        f"- Python {machine.get('python_version', versions.get('python', '?'))} "
        f"({machine.get('python_implementation', 'CPython')})"
        + (f"; stepwire's stream accumulator: the {build} build." if build else "."),
        f"- Versions: {names or 'not recorded'}.",
    ]
    if commit.get("id"):
        dirty = " with uncommitted changes" if commit.get("dirty") else ""
        lines.append(f"- Commit: `{str(commit['id'])[:12]}`{dirty}.")
    lines += [
        "",
        "Each row is a pytest-benchmark measurement: every contender on the same bytes, in the "
        "same process, garbage collector on unless the column says otherwise. Medians and "
        "interquartile ranges (IQR) are per call. A ratio is the contender's median over "
        "stepwire's (the bold row), in words: *stepwire 5x faster* when stepwire takes a fifth "
        "of the time, *takes 0.7x stepwire's time* when the contender is the faster. Absolute "
        "times on a shared 2-core machine drift; ratios within one table drift much less.",
    ]
    return lines


def _not_measured(results: Mapping[str, Any], scenario: str) -> list[str]:
    notes: dict[tuple[str, str], list[str]] = {}
    for note in results.get("not_measured") or []:
        if note.get("scenario", "") == scenario:
            contender, reason = str(note.get("contender", "")), str(note.get("reason", ""))
            # Skip messages name the contender for pytest's summary; the list names it already.
            key = (contender, reason.removeprefix(f"{contender} ") if contender else reason)
            notes.setdefault(key, []).append(str(note.get("gc") or "on"))
    lines = []
    for (contender, reason), gcs in sorted(notes.items()):
        where = "" if gcs == ["on"] else f" (GC {', '.join(sorted(set(gcs), reverse=True))})"
        lines.append(f"- Not measured: {contender or 'a row'}{where}: {reason}")
    return lines


def render_markdown(
    results: Mapping[str, Any],
    rows: list[Row],
    *,
    source: str = "RESULTS.json",
    docs: str = "docs",
    charts: Iterable[str] = (),
) -> str:
    """The text of ``benchmarks.md``.

    Parameters
    ----------
    results : mapping
        The parsed pytest-benchmark JSON (for the header and ``not_measured``).
    rows : list of Row
        :func:`load_rows` of it.
    source : str
        The results file as named on the command line, for the header.
    docs : str
        The docs directory as named on the command line, for the header.
    charts : iterable of str
        Scenario ids that have a chart in ``img/`` (``overview`` included).

    Returns
    -------
    str
    """
    charts = set(charts)
    lines = _header(results, source, docs)
    if "overview" in charts:
        lines += [
            "",
            "![stepwire's speed-up over each other library](img/overview.png)",
            "",
            "The overview: how many times faster stepwire is than each other library in the "
            "main scenarios, GC on (left of the 1x line: that library is the faster).",
        ]
    order = _scenario_order(rows)
    lines += ["", "## Contents", ""]
    for scenario in order:
        title = SCENARIOS.get(scenario, (scenario, ""))[0]
        chart = f" ([chart](img/{scenario}.png))" if scenario in charts else ""
        lines.append(f"- [`{scenario}`](#{_anchor(scenario, title)}): {title}{chart}")
    lines.append("- [How to reproduce](#how-to-reproduce)")

    for scenario in order:
        part = [row for row in rows if row.scenario == scenario]
        title, about = SCENARIOS.get(scenario, (part[0].group.removesuffix(" (gc-on)"), ""))
        reference = reference_of(row.contender for row in part)
        lines += ["", f"## {scenario}: {title}", ""]
        detail = [about] if about else []
        for key, label in (("bytes", "Input"), ("file_bytes", "File")):
            sizes = {_number(row, key) for row in part} - {0.0}
            if len(sizes) == 1:
                detail.append(f"{label}: {format_bytes(sizes.pop())}.")
        groups = sorted({row.group for row in part if row.group})
        if groups:
            detail.append("pytest-benchmark group(s): " + ", ".join(f"`{g}`" for g in groups) + ".")
        if detail:
            lines += [" ".join(detail), ""]
        if scenario in charts:
            lines += [f"![{scenario}](img/{scenario}.png)", ""]
        if all(row.is_memory for row in part):
            lines += _memory_section(part, reference)
        else:
            lines += _speed_section(part, reference)
        notes = _not_measured(results, scenario)
        if notes:
            lines += ["", *notes]

    orphans = _not_measured(results, "")
    lines += [
        "",
        "## How to reproduce",
        "",
        "From the repository root, with the benchmark extras installed (`make bench` installs "
        "them into `.venv`):",
        "",
        "```sh",
        "PYTHONPATH=. .venv/bin/python -m pytest benchmarks -p no:cacheprovider \\",
        "    --benchmark-only --benchmark-json=docs/benchmarks.json",
        "PYTHONPATH=. .venv/bin/python -m benchmarks.report docs/benchmarks.json",
        "```",
        "",
        "The first command runs every scenario (a few minutes on 2 cores) and writes the raw "
        "results, per-round timings left out (`STEPWIRE_BENCH_KEEP_DATA=1` keeps them); the "
        "second writes this file and the charts in `docs/img/`. Add `-k page_100` (or any "
        "test name) to run one scenario, and `--benchmark-min-rounds=3 "
        "--benchmark-max-time=0.2` for a quick look.",
    ]
    if orphans:
        lines += ["", *orphans]
    return "\n".join(lines) + "\n"


def _anchor(scenario: str, title: str) -> str:
    """GitHub's anchor of ``## {scenario}: {title}``."""
    text = f"{scenario}: {title}".lower()
    kept = "".join(c for c in text if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


# -- charts -----------------------------------------------------------------------


def _color(name: str, reference: str | None) -> str:
    if name == reference:
        return STEPWIRE_COLOR
    return STEPWIRE_VARIANT_COLOR if name.startswith("stepwire") else OTHER_COLOR


def _height(bars: int) -> float:
    """Inches: about 3 for the usual 6 to 8 bars, less for two or three."""
    return max(1.8, 0.9 + 0.3 * bars)


def _plain(value: float, _pos: int | None = None) -> str:
    """A tick label without powers of ten: ``0.1``, ``100``, ``10,000``."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _bars(
    ax: Axes,
    names: list[str],
    values: list[float],
    labels: list[str],
    reference: str | None,
    xlabel: str,
) -> None:
    """Horizontal bars, first name on top, a label at the end of each bar."""
    positions = list(range(len(names)))[::-1]
    ax.barh(positions, values, color=[_color(n, reference) for n in names], height=0.7)
    ax.set_yticks(positions, [f"{n}" for n in names], fontsize=8)
    positive = [v for v in values if v > 0]
    log = bool(positive) and max(positive) / min(positive) > LOG_SCALE_SPREAD
    if log:
        ax.set_xscale("log")
        low, high = min(positive) / 1.5, max(positive)
        # Room for the labels right of the longest bar: about a fifth of the axis.
        ax.set_xlim(low, high * max(2.0, (high / low) ** 0.25))
        ax.xaxis.set_major_formatter(FuncFormatter(_plain))
    else:
        ax.set_xlim(0, max(values or [1.0]) * 1.45)
    for y, value, label in zip(positions, values, labels, strict=True):
        ax.text(value, y, "  " + label, va="center", ha="left", fontsize=7.5)
    ax.set_xlabel(xlabel + (" (log scale)" if log else ""), fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _save(fig: Figure, path: Path) -> None:
    # No Software/date metadata: the same figure gives the same bytes.
    fig.savefig(path, dpi=DPI, metadata={"Software": None})


def _speed_chart(scenario: str, rows: list[Row], path: Path) -> None:
    by_gc = _by_gc(rows)
    gc = "on" if "on" in by_gc else "off"
    chosen = by_gc[gc]
    reference = reference_of(chosen)
    names = _ordered(chosen, {n: r.median for n, r in chosen.items()}, None)
    base = chosen[reference].median if reference else None
    scale, unit = _time_scale(min(row.median for row in chosen.values()))
    values = [chosen[n].median / scale for n in names]
    labels = []
    for name in names:
        text = format_time(chosen[name].median)
        if base is not None and name != reference:
            text += f"  ({format_ratio(chosen[name].median / base)})"
        labels.append(text)
    title = SCENARIOS.get(scenario, (scenario, ""))[0]
    fig = Figure(figsize=(FIGSIZE[0], _height(len(names))), layout="constrained")
    ax = fig.add_subplot()
    per = rows[0].units
    what = f"one {rows[0].unit}" if per == 1 else f"{per:,} {rows[0].unit}s"
    _bars(ax, names, values, labels, reference, f"median time for {what} ({unit})")
    ratio_note = f"; (Nx) = time / {reference}'s" if reference else ""
    ax.set_title(f"{scenario}: {title} (GC {gc}{ratio_note})", fontsize=9, loc="left")
    _save(fig, path)


def _time_scale(seconds: float) -> tuple[float, str]:
    for scale, unit in ((1e-9, "ns"), (1e-6, "us"), (1e-3, "ms")):
        if seconds < scale * 1000:
            return scale, unit
    return 1.0, "s"


def _memory_chart(scenario: str, rows: list[Row], path: Path) -> None:
    chosen = {row.contender: row for row in rows if row.gc == "on"} or {
        row.contender: row for row in rows
    }
    reference = reference_of(chosen)
    kept = any("bytes_per_step" in row.extra for row in chosen.values())

    def size(row: Row) -> float:
        return _kept_per_step(row) if kept else _number(row, "peak_bytes")

    names = _ordered(chosen, {n: size(r) for n, r in chosen.items()}, None)
    values = [size(chosen[n]) for n in names]
    base = size(chosen[reference]) if reference else None
    labels = []
    for name, value in zip(names, values, strict=True):
        text = format_bytes(value)
        if base and name != reference:
            text += f"  ({format_ratio(value / base)})"
        labels.append(text)
    title = SCENARIOS.get(scenario, (scenario, ""))[0]
    fig = Figure(figsize=(FIGSIZE[0], _height(len(names))), layout="constrained")
    ax = fig.add_subplot()
    if kept:
        scale, xlabel = 1.0, "bytes kept per step, including any input kept alive"
    else:
        scale, xlabel = 1e6, "peak above the start (MB)"
    _bars(ax, names, [v / scale for v in values], labels, reference, xlabel)
    if kept:
        inputs = [_number(chosen[n], "input_kept_bytes") / max(chosen[n].units, 1) for n in names]
        if any(inputs):
            positions = list(range(len(names)))[::-1]
            lefts = [v - i for v, i in zip(values, inputs, strict=True)]
            ax.barh(
                positions,
                inputs,
                left=lefts,
                height=0.7,
                color="none",
                hatch="///",
                edgecolor="#343a40",
                linewidth=0,
                label="input body kept alive",
            )
            ax.legend(fontsize=7, loc="upper right", frameon=False)
    ax.set_title(f"{scenario}: {title}", fontsize=9, loc="left")
    _save(fig, path)


def _overview_chart(rows: list[Row], path: Path) -> bool:
    """stepwire's speed-up over each other library per main scenario; False if none."""
    points: dict[str, dict[str, float]] = {}
    for scenario in MAIN_SCENARIOS:
        on = _by_gc(r for r in rows if r.scenario == scenario).get("on", {})
        reference = reference_of(on)
        if reference is None:
            continue
        for name, row in on.items():
            if name.startswith("stepwire"):
                continue
            library = LIBRARY.get(name, name)
            points.setdefault(library, {})[scenario] = row.median / on[reference].median
    if not points:
        return False

    def geomean(values: Iterable[float]) -> float:
        values = list(values)
        return math.exp(sum(math.log(v) for v in values) / len(values))

    libraries = sorted(points, key=lambda lib: (-geomean(points[lib].values()), lib))
    scenarios = [s for s in MAIN_SCENARIOS if any(s in p for p in points.values())]
    fig = Figure(figsize=(FIGSIZE[0], 3.4), layout="constrained")
    ax = fig.add_subplot()
    markers = "osD^v<>"
    positions = {lib: len(libraries) - 1 - i for i, lib in enumerate(libraries)}
    for k, scenario in enumerate(scenarios):
        xs = [points[lib][scenario] for lib in libraries if scenario in points[lib]]
        ys = [positions[lib] for lib in libraries if scenario in points[lib]]
        offset = (k - (len(scenarios) - 1) / 2) * 0.12
        ax.scatter(
            xs,
            [y + offset for y in ys],
            marker=markers[k % len(markers)],
            s=22,
            label=scenario,
            zorder=3,
        )
    ax.axvline(1.0, color=STEPWIRE_COLOR, linewidth=1, zorder=2)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _plain(v) + "x"))
    ax.set_yticks([positions[lib] for lib in libraries], libraries, fontsize=8)
    ax.grid(axis="x", which="major", linewidth=0.4, alpha=0.5)
    ax.set_xlabel("stepwire's speed-up (contender's median / stepwire's; log scale)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    ax.set_title("How many times faster stepwire is (GC on)", fontsize=9, loc="left")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _save(fig, path)
    return True


def write_charts(rows: list[Row], img: Path) -> list[str]:
    """Write one PNG per scenario and ``overview.png`` into ``img``.

    Parameters
    ----------
    rows : list of Row
    img : Path
        The directory (created if missing).

    Returns
    -------
    list of str
        The chart names written (scenario ids, and ``overview``).
    """
    img.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario in _scenario_order(rows):
        part = [row for row in rows if row.scenario == scenario]
        path = img / f"{scenario}.png"
        if all(row.is_memory for row in part):
            _memory_chart(scenario, part, path)
        else:
            _speed_chart(scenario, part, path)
        written.append(scenario)
    if _overview_chart(rows, img / "overview.png"):
        written.append("overview")
    return written


def write_report(results_path: Path, docs: Path, source: str | None = None) -> Path:
    """Read a results file and write ``benchmarks.md`` and the charts under ``docs``.

    Parameters
    ----------
    results_path : Path
        The pytest-benchmark JSON.
    docs : Path
        The output directory (``benchmarks.md`` and ``img/``).
    source : str, optional
        How to name the results file in the header (default: ``results_path``).

    Returns
    -------
    Path
        The markdown file written.
    """
    results = json.loads(results_path.read_text(encoding="utf-8"))
    rows = load_rows(results)
    if not rows:
        raise ValueError(f"{results_path}: no benchmark rows")
    charts = write_charts(rows, docs / "img")
    text = render_markdown(
        results, rows, source=source or str(results_path), docs=str(docs), charts=charts
    )
    out = docs / "benchmarks.md"
    out.write_text(text, encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.report RESULTS.json [--docs docs]``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report",
        description="Write docs/benchmarks.md and docs/img/*.png from pytest-benchmark JSON.",
    )
    parser.add_argument("results", type=Path, help="the --benchmark-json file")
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="output directory")
    args = parser.parse_args(argv)
    out = write_report(args.results, args.docs)
    print(f"wrote {out} and {args.docs / 'img'}/*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
