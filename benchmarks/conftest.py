"""Fixtures and hooks shared by the benchmark suites.

* ``collector`` / ``gc_on``: the garbage collector's state per row.
* ``tag``: sets the ``extra_info`` every row carries (``scenario``, ``contender``,
  ``gc``, ``units``, ``unit``), which ``benchmarks/report.py`` and any
  checker read instead of parsing group or test names.
* ``pytest_benchmark_update_machine_info``: the versions of everything
  measured, so a results file says what produced it.
* ``pytest_benchmark_update_json``: the command line, and the contenders that
  were skipped with the reason (a skipped row is otherwise absent from the
  JSON, and a missing row reads as an oversight); per-round timings are left
  out unless ``STEPWIRE_BENCH_KEEP_DATA=1``.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
from collections.abc import Callable, Generator, Iterator
from importlib import metadata
from typing import Any

import pytest

Tag = Callable[..., None]

# Skipped benchmark rows, filled by pytest_runtest_makereport during the run.
_NOT_MEASURED: list[dict[str, str]] = []
_ONLY_NOTE = "--benchmark-only"  # pytest-benchmark's own skip of untimed tests


def _collector(on: bool) -> Iterator[str]:
    enabled = gc.isenabled()
    if on:
        gc.enable()
    else:
        gc.disable()
    yield "gc-on" if on else "gc-off"
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.fixture(params=["gc-on", "gc-off"])
def collector(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each benchmark twice: collector on (the headline, as services run) and off."""
    yield from _collector(request.param == "gc-on")


@pytest.fixture
def gc_on() -> Iterator[str]:
    """The collector on, for rows measured only that way."""
    yield from _collector(True)


def _set_tags(
    benchmark: Any,
    *,
    scenario: str,
    contender: str,
    collector: str,
    units: int,
    unit: str,
    **extra: Any,
) -> None:
    """Set the ``extra_info`` every benchmark row carries.

    Parameters
    ----------
    benchmark : pytest_benchmark.fixture.BenchmarkFixture
        The row's fixture.
    scenario : str
        The scenario id (``page-100``, ``stream-1000``, ...).
    contender : str
        The contender's name, as in ``benchmarks/contenders.py``.
    collector : str
        ``"gc-on"`` or ``"gc-off"`` (the fixture's value); stored as ``"on"`` / ``"off"``.
    units : int
        How many steps, events or pages one timed call handles.
    unit : str
        ``"step"``, ``"event"`` or ``"page"``.
    **extra
        Further figures (``bytes``, ``bytes_per_step``, ``peak_bytes``, ...).
    """
    if collector not in ("gc-on", "gc-off"):
        raise ValueError(f"collector must be 'gc-on' or 'gc-off', not {collector!r}")
    if unit not in ("step", "event", "page"):
        raise ValueError(f"unit must be 'step', 'event' or 'page', not {unit!r}")
    info = benchmark.extra_info
    info["scenario"] = scenario
    info["contender"] = contender
    info["gc"] = collector.removeprefix("gc-")
    info["units"] = units
    info["unit"] = unit
    info.update(extra)


@pytest.fixture
def tag(benchmark: Any) -> Tag:
    """:func:`_set_tags` bound to this test's ``benchmark`` fixture."""

    def apply(**tags: Any) -> None:
        _set_tags(benchmark, **tags)

    return apply


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember benchmark rows that were skipped, with their tags and the reason."""
    report = yield
    if (
        report.skipped
        and call.when in ("setup", "call")
        and "benchmark" in getattr(item, "fixturenames", ())
    ):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        fixture = getattr(item, "funcargs", {}).get("benchmark")
        info = getattr(fixture, "extra_info", {}) or {}
        if _ONLY_NOTE not in reason:
            _NOT_MEASURED.append(
                {
                    "test": item.nodeid,
                    "scenario": str(info.get("scenario", "")),
                    "contender": str(info.get("contender", "")),
                    "gc": str(info.get("gc", "")),
                    "reason": reason,
                }
            )
    return report


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def pytest_benchmark_update_machine_info(
    config: pytest.Config, machine_info: dict[str, Any]
) -> None:
    """Record the versions of everything measured, and the CPU count."""
    import stepwire

    versions: dict[str, str | None] = {
        "python": platform.python_version(),
        "stepwire": getattr(stepwire, "__version__", None) or _version("stepwire"),
    }
    for dist in ("msgspec", "orjson", "pydantic", "pydantic-core", "openai", "pytest-benchmark"):
        versions[dist] = _version(dist)
    # The Parquet scenario's engines (benchmarks/test_parquet.py); absent is fine.
    for dist in ("pyarrow", "duckdb", "polars"):
        versions[dist] = _version(dist)
    # Cython matters only for the build of stepwire._stream_c; absent is fine.
    versions["cython"] = _version("Cython")
    machine_info["versions"] = versions
    machine_info["stepwire_implementation"] = stepwire.IMPLEMENTATION
    machine_info["cpu_count"] = os.cpu_count()
    machine_info["python_executable"] = sys.executable


def pytest_benchmark_update_json(
    config: pytest.Config, benchmarks: list[Any], output_json: dict[str, Any]
) -> None:
    """Add the command line and the skipped rows (``not_measured``) to the JSON.

    Also drops each row's per-round timings (``stats["data"]``; every summary
    statistic stays) unless ``STEPWIRE_BENCH_KEEP_DATA=1``: tens of thousands
    of rounds for the fast rows make a results file of megabytes that the
    docs would carry in every commit of it.
    """
    if os.environ.get("STEPWIRE_BENCH_KEEP_DATA") != "1":
        for bench in output_json.get("benchmarks", []):
            bench.get("stats", {}).pop("data", None)
    args = " ".join(config.invocation_params.args)
    output_json["command"] = f"python -m pytest {args}".rstrip()
    output_json["not_measured"] = sorted(
        _NOT_MEASURED, key=lambda row: (row["scenario"], row["contender"], row["gc"], row["test"])
    )
