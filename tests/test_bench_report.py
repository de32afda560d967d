"""``make bench``'s report (benchmarks/report.py) on a small made-up pytest-benchmark JSON.

Nothing here is timed: these tests say whether the tables, ratios and charts
come out right from given figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib", reason="the benchmark extra (matplotlib) is not installed")

from benchmarks.report import (
    format_bytes,
    format_time,
    load_rows,
    main,
    reference_of,
    render_markdown,
    speed_words,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _bench(
    scenario: str,
    contender: str,
    median: float,
    *,
    gc: str = "on",
    units: int = 1,
    unit: str = "page",
    group: str = "",
    iqr: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One row as pytest-benchmark writes it, with the suite's tags."""
    name = f"test_{scenario.replace('-', '_')}[{contender}-gc-{gc}]"
    return {
        "group": group or f"{scenario} (gc-{gc})",
        "name": name,
        "fullname": f"benchmarks/test_fake.py::{name}",
        "params": {"name": contender},
        "extra_info": {
            "scenario": scenario,
            "contender": contender,
            "gc": gc,
            "units": units,
            "unit": unit,
            **extra,
        },
        "stats": {
            "median": median,
            "iqr": median / 20 if iqr is None else iqr,
            "rounds": 42,
            "mean": median,
        },
    }


def _results() -> dict[str, Any]:
    benches = [
        # Out of order on purpose: the report sorts.
        _bench("page-100", "orjson.loads", 150e-6),
        _bench("page-100", "stepwire", 100e-6, bytes=88_468),
        _bench("page-100", "stepwire summary", 50e-6),
        _bench("page-100", "openai-python", 6.2e-3),
        _bench("page-100", "stepwire", 80e-6, gc="off"),
        _bench("page-100", "orjson.loads", 160e-6, gc="off"),
        _bench("stream-1000", "stepwire cython", 0.4e-3, units=1000, unit="event"),
        _bench("stream-1000", "openai-python", 136e-3, units=1000, unit="event", iqr=80e-3),
        _bench(
            "memory-kept-10000",
            "stepwire",
            20e-3,
            units=10_000,
            unit="step",
            bytes_per_step=1500.0,
            peak_bytes=15_000_000,
            input_kept_bytes=0,
        ),
        _bench(
            "memory-kept-10000",
            "orjson.loads",
            40e-3,
            units=10_000,
            unit="step",
            bytes_per_step=3000.0,
            peak_bytes=120_000_000,
            input_kept_bytes=0,
        ),
        _bench(
            "memory-peak-ndjson-50000",
            "stepwire iter_lines",
            0.1,
            units=50_000,
            unit="step",
            peak_bytes=32_000,
            file_bytes=41_000_000,
        ),
    ]
    return {
        "machine_info": {
            "python_version": "3.11.7",
            "python_implementation": "CPython",
            "system": "Linux",
            "machine": "x86_64",
            "cpu": {"brand_raw": "Test CPU", "count": 2},
            "cpu_count": 2,
            "versions": {"python": "3.11.7", "stepwire": "0.1.0", "orjson": "3.13.0"},
            "stepwire_implementation": "cython",
        },
        "commit_info": {"id": "0123456789abcdef", "dirty": False},
        "benchmarks": benches,
        "datetime": "2026-01-02T03:04:05.678+00:00",
        "version": "5.3.1",
        "command": "python -m pytest benchmarks --benchmark-only --benchmark-json=x.json",
        "not_measured": [
            {
                "test": "benchmarks/test_fake.py::test_page_100[x]",
                "scenario": "page-100",
                "contender": "openai-python model_validate_json",
                "gc": "on",
                "reason": "openai-python model_validate_json cannot decode the page-100 body",
            }
        ],
    }


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, str]:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(_results()), encoding="utf-8")
    docs = tmp_path / "docs"
    out = write_report(results, docs, source="results.json")
    return docs, out.read_text(encoding="utf-8")


def test_markdown_says_ratios_in_words(written: tuple[Path, str]) -> None:
    _docs, text = written
    assert "stepwire 1.50x faster" in text  # orjson 150 us against stepwire's 100 us
    assert "takes 0.50x stepwire's time" in text  # the summary's 50 us
    assert "stepwire 62.0x faster" in text  # openai-python's 6.2 ms
    assert "stepwire 2.00x faster" in text  # GC off: 160 us against 80 us
    assert "stepwire cython 340x faster" in text  # streams: against the Cython build


def test_markdown_has_header_tables_and_notes(written: tuple[Path, str]) -> None:
    _docs, text = written
    assert text.startswith("# Benchmarks\n")
    assert "python -m pytest benchmarks --benchmark-only --benchmark-json=x.json" in text
    assert "python -m benchmarks.report results.json" in text
    assert "2026-01-02 03:04:05 UTC" in text
    assert "Test CPU, 2 CPUs" in text
    assert "orjson 3.13.0" in text
    assert "stepwire 0.1.0" in text
    assert "| contender | median (GC on) | IQR | per page | rounds | vs stepwire |" in text
    assert "median (GC off)" in text
    assert "| **stepwire** | 100 us | 5.00 us | 100 us | 42 | reference |" in text
    assert "400 ns" in text  # stream-1000: 0.4 ms / 1,000 events
    assert "| 80.0 ms † |" in text  # an IQR over half the median is flagged
    assert "† A wide spread" in text
    assert "openai-python model_validate_json: cannot decode the page-100 body" in text
    assert "## How to reproduce" in text
    # Memory tables: bytes per step, and the ratio to stepwire in words.
    assert "| **stepwire** | 1.50 KB |" in text
    assert "2.00x as much as stepwire" in text
    assert "| **stepwire iter_lines** | 32.0 KB |" in text
    # The sections in the report's order, not the JSON's.
    assert text.index("## page-100:") < text.index("## stream-1000:")
    assert text.index("## stream-1000:") < text.index("## memory-kept-10000:")


def test_charts_are_written_and_linked(written: tuple[Path, str]) -> None:
    docs, text = written
    for name in ("page-100", "stream-1000", "memory-kept-10000", "memory-peak-ndjson-50000"):
        png = docs / "img" / f"{name}.png"
        assert png.read_bytes().startswith(PNG_MAGIC), name
        assert f"](img/{name}.png)" in text
    overview = docs / "img" / "overview.png"
    assert overview.read_bytes().startswith(PNG_MAGIC)
    assert overview.stat().st_size < 100_000  # small enough for the README
    assert "](img/overview.png)" in text


def test_same_results_same_markdown(tmp_path: Path) -> None:
    results = _results()
    shuffled = dict(results, benchmarks=list(reversed(results["benchmarks"])))
    first = render_markdown(results, load_rows(results))
    second = render_markdown(shuffled, load_rows(shuffled))
    assert first == second


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps(_results()), encoding="utf-8")
    assert main([str(results), "--docs", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "benchmarks.md").is_file()
    assert (tmp_path / "out" / "img" / "overview.png").is_file()
    assert "wrote" in capsys.readouterr().out


def test_untagged_rows_fall_back_to_names() -> None:
    bench = _bench("x", "y", 1e-3)
    bench["extra_info"] = {}
    (row,) = load_rows({"benchmarks": [bench]})
    assert (row.scenario, row.contender, row.gc) == ("x (gc-on)", bench["name"], "on")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(888e-9, "888 ns"), (131.1e-6, "131 us"), (6.43e-3, "6.43 ms"), (12.0, "12.0 s")],
)
def test_format_time(seconds: float, shown: str) -> None:
    assert format_time(seconds) == shown


def test_words_and_helpers() -> None:
    assert speed_words(1.0, "stepwire") == "same time as stepwire"
    assert speed_words(0.7, "stepwire") == "takes 0.70x stepwire's time"
    assert speed_words(383.2, "stepwire cython") == "stepwire cython 383x faster"
    assert format_bytes(31_956) == "32.0 KB"
    assert reference_of(["orjson.loads", "stepwire cython", "stepwire python"]) == (
        "stepwire cython"
    )
    assert reference_of(["orjson.loads"]) is None
