"""``make bench-check`` itself: the floors file, the judging, the exit status.

Nothing here is timed: the measurement is replaced by fixed figures, so these
tests say whether the checker fails when it should, not how fast anything is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from benchmarks import check
from benchmarks.check import Floor, FloorsError, Timed, judge, load_floors
from benchmarks.cli import CONTENDERS as CLI_CONTENDERS
from benchmarks.responses import HTTP_CONTENDERS, OPENAI_CONTENDERS

STREAM_NAMES = {"stepwire cython", "stepwire python", "openai-python"}


def fixed(seconds: Mapping[str, float], asked: list[set[str]] | None = None) -> check.Measure:
    """A measure returning the given seconds per call, recording what it was asked for."""

    def measure(calls: Mapping[str, Callable[[], Any]]) -> Mapping[str, float]:
        if asked is not None:
            asked.append(set(calls))
        return {name: seconds[name] for name in calls}

    return measure


def sequence(*rounds: Mapping[str, float]) -> check.Measure:
    """A measure returning the next set of figures on each call."""
    figures = iter(rounds)

    def measure(calls: Mapping[str, Callable[[], Any]]) -> Mapping[str, float]:
        current = next(figures)
        return {name: current[name] for name in calls}

    return measure


def timed(*keys: str, units: int = 1) -> dict[str, Timed]:
    return {key: Timed(lambda: None, units) for key in keys}


def test_the_project_floors_are_those_the_issue_set() -> None:
    floors = {(f.numerator, f.denominator): (f.bound, f.at_most) for f in load_floors()}
    assert floors == {
        ("page-100/stepwire", "page-100/orjson.loads"): (0.85, True),
        ("page-100/pydantic v2 strict", "page-100/stepwire"): (3.5, False),
        ("page-100/openai-python", "page-100/stepwire"): (12.0, False),
        (
            "page-100-openai-types/openai-python model_validate_json",
            "page-100-openai-types/stepwire",
        ): (7.0, False),
        ("page-100/stepwire summary", "page-100/stepwire"): (0.8, True),
        # The fidelity issue: no cliff when a service rolls out a tool type or a field.
        ("page-100-drift/stepwire unknown tool types", "page-100-drift/stepwire"): (3.0, True),
        ("page-100-drift/stepwire unknown field", "page-100-drift/stepwire"): (3.0, True),
        ("stream-1000/openai-python", "stream-1000/stepwire cython"): (100.0, False),
        ("stream-1000/stepwire python", "stream-1000/stepwire cython"): (2.0, False),
        ("stream-100000/stepwire cython", "stream-1000/stepwire cython"): (1.3, True),
        # Linear framing: one long line costs the same in small chunks as in large ones.
        (
            "frame-long-line/stepwire python 8 MiB",
            "frame-long-line/stepwire python 8 MiB in one chunk",
        ): (5.0, True),
        (
            "frame-long-line/stepwire cython 8 MiB",
            "frame-long-line/stepwire cython 8 MiB in one chunk",
        ): (5.0, True),
        # NDJSON to Parquet: at least 0.6x DuckDB's speed (DuckDB's time / stepwire's).
        ("parquet/duckdb", "parquet/stepwire"): (0.6, False),
        # The command: stats at least 0.8x iter_lines' throughput; a guard on the bar.
        ("cli-stats/stepwire stats", "cli-stats/iter_lines"): (1.25, True),
        ("cli-stats/stepwire stats, progress", "cli-stats/stepwire stats"): (1.2, True),
        # Streams from a real server (issue 16): about 5 us an event over an httpx drain at
        # most, and at least 3x less CPU a stream than openai-python's two paths.
        ("http-events/stepwire iter_events", "http-events/httpx drain"): (1.4, True),
        ("openai-stream/openai typed events", "openai-stream/stepwire"): (3.0, False),
        ("openai-stream/openai runs.stream()", "openai-stream/stepwire"): (3.0, False),
    }


def test_every_floor_names_a_contender_the_scenarios_offer() -> None:
    pytest.importorskip("openai", reason="the benchmark extra (openai) is not installed")
    pytest.importorskip("pydantic", reason="the benchmark extra (pydantic) is not installed")
    from benchmarks.contenders import all_page_contenders

    pages = ("page-100", "page-100-openai-types")
    offered = {f"{page}/{name}" for page in pages for name in all_page_contenders()}
    offered |= {f"{s}/{name}" for s in ("stream-1000", "stream-100000") for name in STREAM_NAMES}
    builds = [name for name in STREAM_NAMES if name.startswith("stepwire")]
    offered |= {f"frame-long-line/{b} {case}" for b in builds for case in check.LONG_LINES}
    offered |= {f"parquet/{name}" for name in check.PARQUET_CHECKED}
    offered |= {f"cli-stats/{name}" for name in CLI_CONTENDERS}
    offered |= {f"http-events/{name}" for name in HTTP_CONTENDERS}
    offered |= {f"openai-stream/{name}" for name in OPENAI_CONTENDERS}
    # Built for real: the scenario checks that each drifted page round-trips.
    offered |= {f"page-100-drift/{name}" for name in check.SCENARIOS["page-100-drift"]()}
    for floor in load_floors():
        assert {floor.numerator, floor.denominator} <= offered, floor.name
        # A floor compares two different things, one of them stepwire.
        assert floor.numerator != floor.denominator
        assert "stepwire" in floor.numerator + floor.denominator


def test_the_long_line_scenario_frames_one_event_per_build_and_case() -> None:
    from benchmarks.stream import stream_modules

    cases: dict[str, tuple[int, int | None, int]] = {
        "1 KiB": (1024, 100, 1),
        "8 KiB": (8192, None, 1),
        "1 KiB in turn": (1024, 100, 3),
    }
    built = check._long_line(cases)  # raises unless each returned the one event of its payload
    builds = list(stream_modules())
    assert "stepwire python" in builds
    assert set(built) == {f"{b} {case}" for b in builds for case in cases}
    assert {t.units for t in built.values()} == {1}
    (event,) = built["stepwire python 8 KiB"].call()
    assert event.raw == b'"' + b"a" * 8190 + b'"'
    # In turn: each call frames the next of the distinct bodies (a, b, c, then a again).
    raws = [built["stepwire python 1 KiB in turn"].call()[0].raw[1:2] for _ in range(4)]
    assert raws == [b"a", b"b", b"c", b"a"]
    assert set(check.MAX_ROUNDS) <= set(check.SCENARIOS)


def test_the_parquet_scenario_writes_a_row_per_step_per_contender() -> None:
    from benchmarks.parquet import CONTENDERS

    built = check._parquet(steps=300)  # raises unless each wrote a row per step (and call)
    assert set(built) == set(check.PARQUET_CHECKED) <= set(CONTENDERS)
    assert {t.units for t in built.values()} == {300 + 17}  # with the 17 Azure steps
    built["stepwire"].call()  # each call writes the whole file again, over the last one
    assert check.MAX_ROUNDS["parquet"] < 15


def test_the_cli_stats_scenario_runs_the_command_and_the_decode() -> None:
    built = check._cli_stats(steps=200)  # raises unless the command counted every step
    assert set(built) == set(CLI_CONTENDERS)
    assert {t.units for t in built.values()} == {200 + 17}
    built["stepwire stats, progress"].call()
    assert check.MAX_ROUNDS["cli-stats"] < 15


def test_a_max_rounds_scenario_is_timed_in_fewer_rounds_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import timing

    asked: list[tuple[set[str], int]] = []

    def interleaved(
        calls: Mapping[str, Callable[[], Any]], rounds: int, **_: Any
    ) -> dict[str, float]:
        asked.append((set(calls), rounds))
        return dict.fromkeys(calls, 1.0)

    monkeypatch.setattr(timing, "interleaved", interleaved)
    monkeypatch.setattr(check, "MAX_ROUNDS", {"slow": 5, "slower": 20, "file": 5})
    keys = ["fast/a", "fast/b", "slow/a", "slow/b", "slower/a", "file/a", "file/b"]
    seconds = check._interleaved(15)({key: lambda: None for key in keys})
    assert seconds == dict.fromkeys(keys, 1.0)
    assert sorted(asked, key=lambda a: (a[1], sorted(a[0]))) == [
        ({"file/a", "file/b"}, 5),  # the same cap as slow, but rounds of its own
        ({"slow/a", "slow/b"}, 5),
        ({"fast/a", "fast/b", "slower/a"}, 15),  # a cap over --rounds changes nothing
    ]


def test_every_floor_has_a_comment_saying_why() -> None:
    text = check.FLOORS.read_text(encoding="utf-8")
    tables = text.split("[[floor]]")[1:]
    assert len(tables) == len(load_floors())
    for table in tables:
        assert table.lstrip("\n").startswith("#"), table


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not toml [", "floors.toml"),
        ("title = 1", r"only \[\[floor\]\] tables"),
        ('[[floor]]\nname = "x"\nratio = ["a/b", "c/d"]\nat_most = 1\nextra = 2', "unknown keys"),
        ('[[floor]]\nratio = ["a/b", "c/d"]\nat_most = 1', "'name'"),
        ('[[floor]]\nname = "x"\nratio = ["a/b"]\nat_most = 1', "'ratio'"),
        ('[[floor]]\nname = "x"\nratio = ["ab", "c/d"]\nat_most = 1', "'ratio'"),
        ('[[floor]]\nname = "x"\nratio = ["a/b", "c/d"]', "exactly one"),
        ('[[floor]]\nname = "x"\nratio = ["a/b", "c/d"]\nat_most = 1\nat_least = 2', "exactly one"),
        ('[[floor]]\nname = "x"\nratio = ["a/b", "c/d"]\nat_most = -1', "positive"),
        ('[[floor]]\nname = "x"\nratio = ["a/b", "c/d"]\nat_most = "1"', "positive"),
        ('[[floor]]\nname = "x"\nratio = ["a/b", "c/d"]\nat_most = true', "positive"),
    ],
)
def test_malformed_floors_are_refused(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "floors.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(FloorsError, match=message):
        load_floors(path)


def test_bounds_read_both_ways() -> None:
    at_most = Floor("a", "s/x", "s/y", 0.85, at_most=True)
    at_least = Floor("b", "s/x", "s/y", 100.0, at_most=False)
    assert at_most.holds(0.85)
    assert not at_most.holds(0.86)
    assert at_least.holds(100.0)
    assert not at_least.holds(99.9)
    assert (at_most.describe(), at_least.describe()) == ("<= 0.85x", ">= 100x")


def test_ratios_are_per_unit() -> None:
    floor = Floor("per event", "s/big", "s/small", 1.3, at_most=True)
    units = {"s/big": Timed(lambda: None, 100_000), "s/small": Timed(lambda: None, 1_000)}
    # 100x the events in 120x the time: 1.2x per event.
    (result,) = judge([floor], units, fixed({"s/big": 1.2, "s/small": 0.01}), report=str)
    assert result.ratios == pytest.approx((1.2,))
    assert result.ok


def test_a_floor_failing_every_attempt_fails() -> None:
    floor = Floor("slow", "s/stepwire", "s/orjson", 0.85, at_most=True)
    asked: list[set[str]] = []
    measure = fixed({"s/stepwire": 0.9, "s/orjson": 1.0}, asked)
    (result,) = judge([floor], timed("s/stepwire", "s/orjson"), measure, retries=2, report=str)
    assert not result.ok
    assert result.ratios == pytest.approx((0.9, 0.9, 0.9))
    assert len(asked) == 3


def test_a_floor_failing_once_is_measured_again_and_holds() -> None:
    floor = Floor("noisy", "s/openai", "s/stepwire", 100.0, at_most=False)
    measure = sequence(
        {"s/openai": 90.0, "s/stepwire": 1.0}, {"s/openai": 300.0, "s/stepwire": 1.0}
    )
    (result,) = judge([floor], timed("s/openai", "s/stepwire"), measure, retries=2, report=str)
    assert result.ok
    assert result.ratios == pytest.approx((90.0, 300.0))


def test_only_failing_floors_are_measured_again() -> None:
    good = Floor("good", "s/a", "s/b", 2.0, at_most=False)
    bad = Floor("bad", "s/c", "s/d", 2.0, at_most=False)
    asked: list[set[str]] = []
    seconds = {"s/a": 4.0, "s/b": 1.0, "s/c": 1.0, "s/d": 1.0}
    results = judge([good, bad], timed(*seconds), fixed(seconds, asked), retries=1, report=str)
    assert [r.ok for r in results] == [True, False]
    assert asked == [set(seconds), {"s/c", "s/d"}]
    assert [len(r.ratios) for r in results] == [1, 2]


def write_floor(tmp_path: Path, bound: str) -> Path:
    path = tmp_path / "floors.toml"
    path.write_text(
        "[[floor]]\n# why\n"
        'name = "page"\nratio = ["page-100/stepwire", "page-100/orjson.loads"]\n' + bound,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(("bound", "status"), [("at_most = 0.85", 0), ("at_most = 0.5", 1)])
def test_main_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bound: str, status: int
) -> None:
    pytest.importorskip("openai", reason="the benchmark extra (openai) is not installed")
    pytest.importorskip("pydantic", reason="the benchmark extra (pydantic) is not installed")
    measure = fixed({"page-100/stepwire": 0.7, "page-100/orjson.loads": 1.0})
    argv = ["--floors", str(write_floor(tmp_path, bound)), "--retries", "1"]
    assert check.main(argv, measure=measure) == status
    out, err = capsys.readouterr()
    assert ("FAIL" in out) == bool(status)
    assert "0.70x, 0.70x" in out if status else "0.70x" in out
    assert ("1 of 1 floors failed" in err) == bool(status)


def test_main_refuses_an_unknown_contender(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "floors.toml"
    path.write_text(
        '[[floor]]\nname = "x"\nratio = ["nowhere/a", "nowhere/b"]\nat_least = 1\n',
        encoding="utf-8",
    )
    assert check.main(["--floors", str(path)], measure=fixed({})) == 2
    assert "nowhere/a: unknown scenario" in capsys.readouterr().err


def test_interleaved_sets_what_exists_aside_and_gives_it_back() -> None:
    """The objects alive before the rounds are frozen during them (the collect before
    each timed loop skips them) and unfrozen after, also when a contender raises; what
    was frozen before (Python 3.12 freezes some objects at start) stays frozen."""
    import gc
    import time

    from benchmarks import timing

    # Each call sleeps 1 ms, so that calibrate settles on one call a loop:
    # get_freeze_count walks the frozen objects, and is called once a loop.
    frozen_during: list[int] = []

    def counts() -> None:
        time.sleep(1e-3)
        frozen_during.append(gc.get_freeze_count())

    before = gc.get_freeze_count()
    seconds = timing.interleaved({"a": counts}, rounds=3, target=1e-4)
    assert set(seconds) == {"a"}
    assert seconds["a"] > 0
    # calibrate's call comes before the freeze; every timed call sees it.
    assert frozen_during[0] == before
    assert min(frozen_during[-3:]) > before
    after = gc.get_freeze_count()
    assert after == before if before == 0 else after >= before

    def fails() -> None:
        time.sleep(1e-3)
        if gc.get_freeze_count() > after:
            raise RuntimeError("in the rounds")

    with pytest.raises(RuntimeError, match="in the rounds"):
        timing.interleaved({"b": fails}, rounds=1, target=1e-4)
    assert gc.get_freeze_count() == after if before == 0 else gc.get_freeze_count() >= after


def test_the_server_scenarios_are_timed_in_cpu_time_on_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What waits on the replay server (another process) is timed in this process's CPU
    time, each such scenario in rounds of its own; the rest in wall time, together."""
    import time

    from benchmarks import timing

    seen: list[tuple[frozenset[str], Any]] = []

    def interleaved(calls: Mapping[str, Any], **options: Any) -> dict[str, float]:
        seen.append((frozenset(calls), options["clock"]))
        return dict.fromkeys(calls, 1.0)

    monkeypatch.setattr(timing, "interleaved", interleaved)
    keys = [
        "http-events/httpx drain",
        "http-events/stepwire iter_events",
        "openai-stream/stepwire",
        "page-100/stepwire",
        "page-100/orjson.loads",
    ]
    check._interleaved(15)(dict.fromkeys(keys, lambda: None))
    assert sorted(seen, key=lambda s: sorted(s[0])) == [
        (frozenset(keys[:2]), time.process_time),
        (frozenset(keys[2:3]), time.process_time),
        (frozenset(keys[3:]), time.perf_counter),
    ]
