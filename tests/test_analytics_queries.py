"""stepwire's Parquet queried with real DuckDB and Polars: each figure equals the same
figure computed in Python from the decoded objects, on generated data and on the real
corpus.

The figures, as the Python side defines them (``Figures``; it reads the decoded
``RunStep`` objects and their JSON, never stepwire's column code):

* steps per (type, status); tool calls per type (a call's ``type``, null where it has
  none);
* tokens per tool type: a step's usage is attributed once to each distinct tool type
  among its calls (a step with two function calls counts once for ``function``; a step
  with a bing_grounding and an azure_function call counts for both); steps without calls
  are in no tool type. Per group: the steps, the steps with usage, and the sums of
  total, prompt, completion, cached and reasoning tokens, a null counted as 0. Cached
  tokens are ``prompt_token_details.cached_tokens``, else
  ``prompt_tokens_details.cached_tokens`` (the first not null); reasoning tokens are
  ``completion_tokens_details.reasoning_tokens``;
* the same token figures per assistant (every step);
* failures per ``last_error.code`` (the steps whose ``last_error`` is not null), and per
  (status, code);
* step duration, ``completed_at - created_at`` in seconds over the steps with both:
  count, min, max, and the percentiles p50, p95 and p99 by two exact methods, the one
  each engine has at both ends of the supported ranges:
  DuckDB's ``quantile_disc(x, q)`` is the inverted CDF, ``sorted(x)[ceil(q * n) - 1]``
  (the smallest value with at least q of the values at or below it); Polars'
  ``quantile(q, interpolation="lower")`` is ``sorted(x)[floor(q * (n - 1))]``; overall
  and per step type;
* function calls (``type == "function"``) with a ``function.name``, and the names ranked
  by count (most first, then by name).

A corpus is a list of sources, each written by ``write_parquet`` into its own
directory; the engines read them all, with the source's index as a column, so that a
step recorded in two files (a list and a retrieve of it) is two steps, as in Python, and
(source, step id) is a key.
"""

from __future__ import annotations

import copy
import gzip
import json
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import polars as pl
import pytest
import zstandard

import stepgen
import stepwire
import stepwire.arrow
from helpers import real_files
from stepgen.azure import azure_pages, azure_streams

QUANTILES = (0.5, 0.95, 0.99)
TOKENS = ("total_tokens", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens")


# -- the corpora ----------------------------------------------------------------------


@dataclass
class Corpus:
    """Decoded steps, one list per source, and each source's Parquet pair."""

    steps: list[list[stepwire.RunStep]] = field(default_factory=list)
    paths: list[dict[str, Path]] = field(default_factory=list)


_FAILURES = [
    ("failed", "server_error", "Sorry, something went wrong."),
    ("failed", "rate_limit_exceeded", "Rate limit reached."),
    ("failed", "invalid_prompt", "The prompt was refused."),
    ("failed", "tool_timeout", "A code the spec does not list (kept by the default mode)."),
    ("cancelled", None, None),
    ("expired", None, None),
    ("completed", None, None),
]


def _hand_built(seed: int, count: int) -> list[dict[str, Any]]:
    """Steps the generators do not make: every failure status, several error codes, both
    usage spellings, reasoning tokens, long durations, a tool_calls step without calls."""
    rng = random.Random(seed)
    out = []
    for i, body in enumerate(stepgen.generate_steps(count, seed=seed)):
        status, code, message = _FAILURES[i % len(_FAILURES)]
        body["status"] = status
        created = body["created_at"]
        for name in ("cancelled_at", "failed_at", "completed_at", "expires_at"):
            body[name] = None
        body["last_error"] = None if code is None else {"code": code, "message": message}
        if status == "failed":
            body["failed_at"] = created + rng.randint(1, 50)
        elif status == "cancelled":
            body["cancelled_at"] = created + 3
        elif status == "expired":
            body["expired_at"] = created + 600
        else:
            body["completed_at"] = created + rng.choice([1, 2, 60, 600, 3_600, rng.randint(0, 90)])
        if i % 3 == 0:
            prompt, completion = rng.randint(0, 5_000), rng.randint(0, 500)
            body["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                # The other spelling, with or without a value.
                "prompt_tokens_details": {"cached_tokens": rng.choice([None, 0, 64, 512])},
                "completion_tokens_details": {"reasoning_tokens": rng.randint(0, 300)},
            }
        elif i % 3 == 1:
            body["usage"] = None
        if i % 50 == 0:
            body["type"] = "tool_calls"
            body["step_details"] = {"type": "tool_calls", "tool_calls": []}
        out.append(body)
    return out


def _generated_bodies() -> list[dict[str, Any]]:
    bodies = stepgen.generate_steps(1_500, seed=101)
    bodies += stepgen.with_unknown_tool_types(stepgen.generate_page(200, seed=102))["data"]
    bodies += stepgen.with_unknown_field(stepgen.generate_page(100, seed=103))["data"]
    bodies += _hand_built(104, 420)
    for seed in range(4):
        bodies += [s for body in azure_pages(seed) for s in json.loads(body)["data"]]
    rng = random.Random(105)
    rng.shuffle(bodies)
    for body in bodies:  # a few assistants, so that the per-assistant figures have groups
        body["assistant_id"] = f"asst_{rng.randrange(6)}"
    return bodies


STREAMS = {"bing_grounding_azure_function_parallel", "function_parallel", "extra_fields"}


def _accumulate(body: bytes) -> list[stepwire.RunStep]:
    acc = stepwire.Accumulator()
    acc.feed(body)
    acc.close()
    return list(acc.steps.values())


def _page(data: list[dict[str, Any]]) -> dict[str, Any]:
    last = {"last_id": data[-1]["id"], "has_more": True}
    return {"object": "list", "data": data, "first_id": data[0]["id"], **last}


def _decode_real(path: Path) -> list[stepwire.RunStep]:
    body = path.read_bytes()
    if path.suffix == ".sse":
        return _accumulate(body)
    if json.loads(body)["object"] == "list":
        return list(stepwire.decode_page(body).data)
    return [stepwire.decode_step(body)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("generated")
    bodies = _generated_bodies()
    corpus = Corpus()
    # Two sources: most of it as zstd NDJSON of steps, the rest as gzip NDJSON of pages.
    cut = len(bodies) - 300
    steps_file = root / "steps.ndjson.zst"
    steps_file.write_bytes(
        zstandard.ZstdCompressor().compress(b"\n".join(orjson.dumps(b) for b in bodies[:cut]))
    )
    pages = [bodies[i : i + 40] for i in range(cut, len(bodies), 40)]
    pages_file = root / "pages.ndjson.gz"
    pages_file.write_bytes(gzip.compress(b"\n".join(orjson.dumps(_page(p)) for p in pages)))
    for i, (source, part) in enumerate(((steps_file, bodies[:cut]), (pages_file, bodies[cut:]))):
        corpus.steps.append([stepwire.decode_step(orjson.dumps(b)) for b in part])
        corpus.paths.append(stepwire.arrow.write_parquet(source, root / str(i), batch_rows=500))
    # And event streams, each its own source: a step with calls of two types among them.
    for stream in azure_streams(seed=9):
        if stream.name in STREAMS:
            corpus.steps.append(_accumulate(stream.sse))
            out = root / str(len(corpus.paths))
            corpus.paths.append(stepwire.arrow.write_parquet(stream.sse, out))
    assert len(corpus.paths) == 2 + len(STREAMS)
    return corpus


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    files = real_files(".json") + real_files(".sse")
    if not files:
        pytest.skip("real corpus not found (set STEPWIRE_FIXTURES)")
    root = tmp_path_factory.mktemp("real")
    corpus = Corpus()
    for i, path in enumerate(files):
        corpus.steps.append(_decode_real(path))
        corpus.paths.append(stepwire.arrow.write_parquet(path, root / str(i)))
    return corpus


# -- the figures in Python, from the decoded objects --------------------------------


_PLAIN: dict[int, tuple[Any, Any]] = {}


def _plain(obj: Any) -> Any:
    """The step as JSON (decoded objects, encoded by stepwire), computed once a step."""
    hit = _PLAIN.get(id(obj))
    if hit is None or hit[0] is not obj:
        hit = _PLAIN[id(obj)] = (obj, json.loads(stepwire.encode(obj)))
    return hit[1]


def _calls(step: stepwire.RunStep) -> list[dict[str, Any]]:
    calls = _plain(step).get("step_details", {}).get("tool_calls")
    return calls if isinstance(calls, list) else []


def _tokens(step: stepwire.RunStep) -> tuple[int | None, ...]:
    usage = _plain(step).get("usage")
    if not usage:
        return (None,) * 5
    cached = None
    for spelling in ("prompt_token_details", "prompt_tokens_details"):
        details = usage.get(spelling) or {}
        if cached is None:
            cached = details.get("cached_tokens")
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    return (
        usage.get("total_tokens"),
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        cached,
        reasoning,
    )


def _token_row(steps: list[stepwire.RunStep]) -> tuple[int, ...]:
    tokens = [_tokens(s) for s in steps]
    sums = tuple(sum(t[i] or 0 for t in tokens) for i in range(5))
    return (len(steps), sum(t[0] is not None for t in tokens), *sums)


def _disc(values: list[int], q: float) -> int:
    s = sorted(values)
    return s[max(math.ceil(q * len(s)) - 1, 0)]


def _lower(values: list[int], q: float) -> int:
    s = sorted(values)
    return s[math.floor(q * (len(s) - 1))]


def _durations(steps: list[stepwire.RunStep]) -> list[int]:
    return [
        s.completed_at - s.created_at
        for s in steps
        if isinstance(s.completed_at, int) and isinstance(s.created_at, int)
    ]


def _percentiles(durations: list[int], method: Callable[[list[int], float], int]) -> tuple:
    if not durations:
        return (0, None, None, None, None, None)
    qs = tuple(method(durations, q) for q in QUANTILES)
    return (len(durations), min(durations), max(durations), *qs)


class Figures:
    """Every figure of the module docstring, from decoded steps."""

    def __init__(self, corpus: Corpus) -> None:
        self.steps = [s for part in corpus.steps for s in part]
        keys = [(i, s.id) for i, part in enumerate(corpus.steps) for s in part]
        assert len(set(keys)) == len(keys), "(source, step id) must be a key"
        self.by_tool_type: dict[Any, list[stepwire.RunStep]] = {}
        for step in self.steps:
            for kind in {c.get("type") for c in _calls(step)} - {None}:
                self.by_tool_type.setdefault(kind, []).append(step)

    def steps_by_type_status(self) -> dict[tuple[str, str], int]:
        return dict(Counter((s.type, s.status) for s in self.steps))

    def calls_by_type(self) -> dict[Any, int]:
        return dict(Counter(c.get("type") for s in self.steps for c in _calls(s)))

    def tokens_by_tool_type(self) -> dict[Any, tuple[int, ...]]:
        return {kind: _token_row(steps) for kind, steps in self.by_tool_type.items()}

    def tokens_by_assistant(self) -> dict[str, tuple[int, ...]]:
        groups: dict[str, list[stepwire.RunStep]] = {}
        for s in self.steps:
            groups.setdefault(s.assistant_id, []).append(s)
        return {k: _token_row(v) for k, v in groups.items()}

    def _errors(self) -> list[tuple[str, str]]:
        return [(s.status, s.last_error.code) for s in self.steps if s.last_error]

    def failures_by_code(self) -> dict[str, int]:
        return dict(Counter(code for _, code in self._errors()))

    def failures_by_status_code(self) -> dict[tuple[str, str], int]:
        return dict(Counter(self._errors()))

    def durations(self, method: Callable[[list[int], float], int]) -> tuple:
        return _percentiles(_durations(self.steps), method)

    def durations_by_type(self, method: Callable[[list[int], float], int]) -> dict[str, tuple]:
        types = {s.type for s in self.steps}
        out = {
            t: _percentiles(_durations([s for s in self.steps if s.type == t]), method)
            for t in types
        }
        return {t: v for t, v in out.items() if v[0]}

    def function_names(self) -> tuple[int, list[tuple[str, int]]]:
        names = Counter(
            c["function"]["name"]
            for s in self.steps
            for c in _calls(s)
            if c.get("type") == "function"
            and isinstance(c.get("function"), dict)
            and c["function"].get("name") is not None
        )
        ranked = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))
        return sum(names.values()), ranked


# -- the same figures in DuckDB -------------------------------------------------------------


def _duck(corpus: Corpus) -> duckdb.DuckDBPyConnection:
    """A connection whose tables ``steps`` and ``tool_calls`` are read from every source's
    Parquet (once: the figures are then queried from them)."""
    con = duckdb.connect()
    for table in ("steps", "tool_calls"):
        parts = [
            f"SELECT {i} AS source, * FROM read_parquet('{paths[table]}')"
            for i, paths in enumerate(corpus.paths)
        ]
        con.execute(f"CREATE TABLE {table} AS " + " UNION ALL ".join(parts))
    return con


_DUCK_TOKENS = ", ".join(
    ["count(*)", "count(s.total_tokens)"] + [f"sum(coalesce(s.{t}, 0))" for t in TOKENS]
)
_DUCK_QUANTILES = ", ".join(f"quantile_disc(d, {q})" for q in QUANTILES)
_DUCK_DURATIONS = """
    SELECT type, date_diff('second', created_at, completed_at) AS d FROM steps
    WHERE completed_at IS NOT NULL
"""


def _as_ints(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(None if v is None else int(v) for v in row)


class DuckFigures:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def steps_by_type_status(self) -> dict[tuple[str, str], int]:
        rows = self._rows("SELECT type, status, count(*) FROM steps GROUP BY type, status")
        return {(t, s): n for t, s, n in rows}

    def calls_by_type(self) -> dict[Any, int]:
        return dict(self._rows("SELECT type, count(*) FROM tool_calls GROUP BY type"))

    def tokens_by_tool_type(self) -> dict[Any, tuple[int, ...]]:
        rows = self._rows(f"""
            WITH t AS (
                SELECT DISTINCT source, step_id, type FROM tool_calls WHERE type IS NOT NULL
            )
            SELECT t.type, {_DUCK_TOKENS}
            FROM t JOIN steps s ON s.source = t.source AND s.id = t.step_id
            GROUP BY t.type
        """)
        return {r[0]: _as_ints(r[1:]) for r in rows}

    def tokens_by_assistant(self) -> dict[str, tuple[int, ...]]:
        rows = self._rows(f"SELECT s.assistant_id, {_DUCK_TOKENS} FROM steps s GROUP BY 1")
        return {r[0]: _as_ints(r[1:]) for r in rows}

    def failures_by_code(self) -> dict[str, int]:
        return dict(
            self._rows(
                "SELECT last_error_code, count(*) FROM steps"
                " WHERE last_error_code IS NOT NULL GROUP BY 1"
            )
        )

    def failures_by_status_code(self) -> dict[tuple[str, str], int]:
        rows = self._rows(
            "SELECT status, last_error_code, count(*) FROM steps"
            " WHERE last_error_code IS NOT NULL GROUP BY 1, 2"
        )
        return {(s, c): n for s, c, n in rows}

    def durations(self) -> tuple:
        (row,) = self._rows(
            f"SELECT count(d), min(d), max(d), {_DUCK_QUANTILES} FROM ({_DUCK_DURATIONS})"
        )
        return _as_ints(row)

    def durations_by_type(self) -> dict[str, tuple]:
        rows = self._rows(
            f"SELECT type, count(d), min(d), max(d), {_DUCK_QUANTILES}"
            f" FROM ({_DUCK_DURATIONS}) GROUP BY type"
        )
        return {r[0]: _as_ints(r[1:]) for r in rows}

    def function_names(self) -> tuple[int, list[tuple[str, int]]]:
        where = "WHERE type = 'function' AND name IS NOT NULL"
        ((count,),) = self._rows(f"SELECT count(*) FROM tool_calls {where}")
        ranked = self._rows(
            f"SELECT name, count(*) AS n FROM tool_calls {where} GROUP BY name"
            " ORDER BY n DESC, name"
        )
        return count, [(name, n) for name, n in ranked]


# -- the same figures in Polars ----------------------------------------------------------------


# The columns the figures read (the metadata map is read by its own test: Polars 1.0
# cannot read a Parquet map, test_polars_reads_the_whole_steps_table).
_PL_COLUMNS = {
    "steps": [
        "id",
        "assistant_id",
        "type",
        "status",
        "created_at",
        "completed_at",
        "last_error_code",
        *TOKENS,
    ],
    "tool_calls": ["step_id", "type", "name"],
}


def _polars(corpus: Corpus) -> dict[str, pl.LazyFrame]:
    """Every source's Parquet, scanned and read once; the figures are lazy queries of it."""
    return {
        table: pl.concat(
            [
                pl.scan_parquet(paths[table])
                .select(columns)
                .with_columns(pl.lit(i).alias("source"))
                for i, paths in enumerate(corpus.paths)
            ]
        )
        .collect()
        .lazy()
        for table, columns in _PL_COLUMNS.items()
    }


_PL_TOKENS = [
    pl.len().alias("steps"),
    pl.col("total_tokens").count().alias("with_usage"),
    *(pl.col(t).fill_null(0).sum().alias(t) for t in TOKENS),
]


def _pl_dict(frame: pl.DataFrame, keys: list[str]) -> dict[Any, Any]:
    out = {}
    for row in frame.iter_rows():
        key = row[0] if len(keys) == 1 else tuple(row[: len(keys)])
        value = row[len(keys) :]
        out[key] = value[0] if len(value) == 1 else _as_ints(value)
    return out


def _pl_durations(steps: pl.LazyFrame) -> pl.LazyFrame:
    return steps.filter(pl.col("completed_at").is_not_null()).select(
        "type", (pl.col("completed_at") - pl.col("created_at")).dt.total_seconds().alias("d")
    )


_PL_QUANTILES = [
    pl.col("d").count().alias("n"),
    pl.col("d").min().alias("min"),
    pl.col("d").max().alias("max"),
    *(pl.col("d").quantile(q, interpolation="lower").alias(f"q{q}") for q in QUANTILES),
]


class PolarsFigures:
    def __init__(self, frames: dict[str, pl.LazyFrame]) -> None:
        self.steps = frames["steps"]
        self.calls = frames["tool_calls"]

    def steps_by_type_status(self) -> dict[tuple[str, str], int]:
        frame = self.steps.group_by("type", "status").agg(pl.len()).collect()
        return _pl_dict(frame, ["type", "status"])

    def calls_by_type(self) -> dict[Any, int]:
        return _pl_dict(self.calls.group_by("type").agg(pl.len()).collect(), ["type"])

    def tokens_by_tool_type(self) -> dict[Any, tuple[int, ...]]:
        types = (
            self.calls.filter(pl.col("type").is_not_null())
            .select("source", "step_id", "type")
            .unique()
        )
        steps = self.steps.drop("type")
        joined = types.join(steps, left_on=["source", "step_id"], right_on=["source", "id"])
        return _pl_dict(joined.group_by("type").agg(_PL_TOKENS).collect(), ["type"])

    def tokens_by_assistant(self) -> dict[str, tuple[int, ...]]:
        frame = self.steps.group_by("assistant_id").agg(_PL_TOKENS).collect()
        return _pl_dict(frame, ["assistant_id"])

    def _failed(self) -> pl.LazyFrame:
        return self.steps.filter(pl.col("last_error_code").is_not_null())

    def failures_by_code(self) -> dict[str, int]:
        frame = self._failed().group_by("last_error_code").agg(pl.len()).collect()
        return _pl_dict(frame, ["last_error_code"])

    def failures_by_status_code(self) -> dict[tuple[str, str], int]:
        frame = self._failed().group_by("status", "last_error_code").agg(pl.len()).collect()
        return _pl_dict(frame, ["status", "last_error_code"])

    def durations(self) -> tuple:
        frame = _pl_durations(self.steps).select(_PL_QUANTILES).collect()
        (row,) = frame.iter_rows()
        return _as_ints(row)

    def durations_by_type(self) -> dict[str, tuple]:
        frame = _pl_durations(self.steps).group_by("type").agg(_PL_QUANTILES).collect()
        return _pl_dict(frame, ["type"])

    def function_names(self) -> tuple[int, list[tuple[str, int]]]:
        named = self.calls.filter((pl.col("type") == "function") & pl.col("name").is_not_null())
        counts = named.group_by("name").agg(pl.len().alias("n")).collect()
        ranked = sorted(counts.iter_rows(), key=lambda r: (-r[1], r[0]))
        return len(named.collect()), [(name, n) for name, n in ranked]


@dataclass
class Engines:
    """One corpus's figures three ways."""

    python: Figures
    duck: DuckFigures
    polars: PolarsFigures


def _engines(corpus: Corpus) -> Engines:
    return Engines(Figures(corpus), DuckFigures(_duck(corpus)), PolarsFigures(_polars(corpus)))


@pytest.fixture(scope="module")
def generated_engines(generated: Corpus) -> Engines:
    return _engines(generated)


@pytest.fixture(scope="module")
def real_engines(real: Corpus) -> Engines:
    return _engines(real)


@pytest.fixture(scope="module", params=["generated", "real"])
def engines(request: pytest.FixtureRequest) -> Engines:
    return request.getfixturevalue(f"{request.param}_engines")


# -- the tests ----------------------------------------------------------------------------------

FIGURES = [
    "steps_by_type_status",
    "calls_by_type",
    "tokens_by_tool_type",
    "tokens_by_assistant",
    "failures_by_code",
    "failures_by_status_code",
    "function_names",
]


@pytest.mark.parametrize("figure", FIGURES)
def test_duckdb_and_polars_figures_equal_python(engines: Engines, figure: str) -> None:
    expected = getattr(engines.python, figure)()
    assert expected  # every figure has something to compare on both corpora
    assert getattr(engines.duck, figure)() == expected
    assert getattr(engines.polars, figure)() == expected


def test_duration_percentiles(engines: Engines) -> None:
    python, duck, polars = engines.python, engines.duck, engines.polars
    assert python.durations(_disc)[0] > 0
    assert duck.durations() == python.durations(_disc)
    assert polars.durations() == python.durations(_lower)
    assert duck.durations_by_type() == python.durations_by_type(_disc)
    assert polars.durations_by_type() == python.durations_by_type(_lower)


def test_the_generated_corpus_has_what_the_figures_need(generated_engines: Engines) -> None:
    figures = generated_engines.python
    codes = figures.failures_by_code()
    assert {"server_error", "rate_limit_exceeded", "invalid_prompt", "tool_timeout"} <= set(codes)
    statuses = {status for _, status in figures.steps_by_type_status()}
    assert {"completed", "failed", "cancelled", "expired", "in_progress"} <= statuses
    calls = figures.calls_by_type()
    assert {"bing_grounding", "openapi", "some_future_tool", "future_function"} <= set(calls)
    tokens = figures.tokens_by_tool_type()
    assert all(row[0] > 0 for row in tokens.values())
    assert sum(row[5] for row in tokens.values()) > 0  # cached tokens, both spellings
    assert sum(row[6] for row in tokens.values()) > 0  # reasoning tokens
    assert len(figures.tokens_by_assistant()) >= 6
    count, ranked = figures.function_names()
    assert count > 100
    assert len(ranked) >= 4
    durations = _durations(figures.steps)
    assert len(set(durations)) > 20
    for q in QUANTILES:  # the two methods differ on this data: each engine is held to its own
        assert _disc(durations, q) >= _lower(durations, q)


def test_the_real_corpus_has_what_the_figures_need(real_engines: Engines) -> None:
    figures = real_engines.python
    assert figures.failures_by_code() == {"server_error": 1}
    assert {"code_interpreter", "function", "file_search"} <= set(figures.calls_by_type())
    assert len(_durations(figures.steps)) > 10


_TIMESTAMPS = (
    "created_at",
    "expires_at",
    "cancelled_at",
    "failed_at",
    "completed_at",
    "expired_at",
)


def _metadata(steps: list[stepwire.RunStep]) -> list[Any]:
    return [_plain(s).get("metadata") for s in steps]


def test_duckdb_reads_the_whole_steps_table(generated: Corpus) -> None:
    con = _duck(generated)
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE steps)").fetchall())
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["total_tokens"] == "BIGINT"
    assert types["metadata"] == "MAP(VARCHAR, VARCHAR)"
    assert types["step_details"] == "VARCHAR"
    # Every column of every row, the metadata map as its keys and values. Timestamps as
    # epoch seconds: DuckDB 1.1 needs pytz to hand out a TIMESTAMP WITH TIME ZONE.
    stamps = ", ".join(f"epoch({t})::BIGINT AS {t}" for t in _TIMESTAMPS)
    rows = con.execute(
        f"SELECT * REPLACE ({stamps}), map_keys(metadata), map_values(metadata)"
        " FROM steps ORDER BY source"
    ).fetchall()
    steps = [s for part in generated.steps for s in part]
    names = ["source", *stepwire.arrow.STEPS_SCHEMA.names]
    assert [dict(zip(names, r, strict=False))["id"] for r in rows] == [s.id for s in steps]
    for name in _TIMESTAMPS:
        index = names.index(name)
        expected = [getattr(s, name) for s in steps]
        assert [r[index] for r in rows] == [v if isinstance(v, int) else None for v in expected]
    got = [None if k is None else dict(zip(k, v, strict=True)) for *_, k, v in rows]
    assert got == _metadata(steps)
    assert any(got)


def test_polars_reads_the_whole_steps_table(generated: Corpus) -> None:
    """Every column, the metadata map included: Polars 1.x reads a map as a list of
    key-value structs, 2.x as its Map type (dicts). Polars 1.0 to 1.2, at the declared
    floor, cannot read a Parquet map at all (a ComputeError); 1.6 can."""
    steps = [s for part in generated.steps for s in part]
    frame = pl.concat([pl.read_parquet(paths["steps"]) for paths in generated.paths])
    assert frame.columns == stepwire.arrow.STEPS_SCHEMA.names
    schema = frame.schema
    assert schema["created_at"] == pl.Datetime(schema["created_at"].time_unit, "UTC")
    assert schema["total_tokens"] == pl.Int64
    assert schema["step_details"] == pl.String
    assert frame["id"].to_list() == [s.id for s in steps]
    got = [
        m if m is None or isinstance(m, dict) else {kv["key"]: kv["value"] for kv in m}
        for m in frame["metadata"].to_list()
    ]
    assert got == _metadata(steps)


# -- what an inferring reader loses, and stepwire's Parquet keeps ------------------------


def test_read_json_auto_loses_a_tool_type_first_seen_after_its_sample(tmp_path: Path) -> None:
    """The motivation: DuckDB's ``read_json_auto`` infers one schema from a sample of the
    file (``sample_size`` rows: 20,480 by default, 100 here to keep the file small), and a
    key first seen later has no column to go to: a new tool type's payload and a new top
    level field are dropped (DuckDB 2.0 reads on without them; 1.1 refuses the file with
    an error). stepwire's Parquet holds each call whole, as JSON text. Only what DuckDB
    does the same way from 1.1 to 2.0 is asserted: the late keys are not in what it
    gives, whether it gives the row without them or refuses to read."""
    early = [s for s in stepgen.generate_steps(400, seed=7) if _kinds(s) <= {"function"}]
    assert len(early) > 150
    late = copy.deepcopy(early[0])
    late["id"] = "step_late"
    late["type"] = "tool_calls"
    late["rollout"] = {"cohort": "marker_rollout"}
    late["step_details"] = {
        "type": "tool_calls",
        "tool_calls": [
            {
                "id": "call_late",
                "type": "holo_search",
                "holo_search": {"query": "marker_query", "hits": [{"rank": 1}]},
            }
        ],
    }
    path = tmp_path / "steps.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(s) for s in [*early, late]) + b"\n")

    con = duckdb.connect()
    sql = f"SELECT * FROM read_json_auto('{path}', sample_size=100) WHERE id = 'step_late'"
    try:
        inferred = con.execute(sql)
        columns = [d[0] for d in inferred.description]
        rows = inferred.fetchall()
    except duckdb.Error:
        pass  # refused: the late keys are not read either
    else:
        assert len(rows) == 1
        assert "rollout" not in columns
        assert "marker_query" not in repr(rows)
        assert "marker_rollout" not in repr(rows)
        assert "holo_search" in repr(rows)  # the type tag, a string it has a column for

    paths = stepwire.arrow.write_parquet(path, tmp_path / "out")
    ((query, hits, extra),) = con.execute(f"""
        SELECT json_extract_string(c.payload, '$.holo_search.query'),
               json_extract(c.payload, '$.holo_search.hits'),
               json_extract_string(s.extra, '$.rollout.cohort')
        FROM read_parquet('{paths["tool_calls"]}') c
        JOIN read_parquet('{paths["steps"]}') s ON s.id = c.step_id
        WHERE c.type = 'holo_search'
    """).fetchall()
    assert (query, json.loads(hits), extra) == ("marker_query", [{"rank": 1}], "marker_rollout")
    found = (
        pl.scan_parquet(paths["tool_calls"])
        .filter(pl.col("type") == "holo_search")
        .select(pl.col("payload").str.json_path_match("$.holo_search.query"))
        .collect()
    )
    assert found.to_series().to_list() == ["marker_query"]


def _kinds(step: dict[str, Any]) -> set[str]:
    details = step["step_details"]
    return {c["type"] for c in details.get("tool_calls", [])}
