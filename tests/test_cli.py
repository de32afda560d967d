"""The ``stepwire`` command, run as its users run it: a subprocess of this interpreter
(``python -m stepwire``) and the installed console script, on generated data whose every
figure is known and on the real recorded corpus.

What the command promises (``src/stepwire/_cli.py``'s docstring): exit 0 when it did what
it was asked, 1 for a bad input, 2 for a usage error, 130 on Ctrl-C, 141 when stdout
closes early; a failure is one line on stderr, the traceback only with ``--debug``. Each
test checks one of these against output computed here, independently of the code that
produced it: the ``stats`` figures from the JSON of the steps (never ``stepwire._stats``),
the ``validate`` lines from where the bad values were planted, the ``merge`` and
``convert`` outputs from the objects decoded in this process.

Every subprocess is bounded by a timeout; no assertion is on time. Generated files are made
once per module; the commands that only read them run concurrently, two or more at a
time, since each costs an interpreter's start.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import zstandard

import stepgen
import stepwire
from helpers import REAL, real_files, real_params, sse_events
from stepgen.azure import azure_pages, azure_streams

#: Every subprocess's bound, in seconds: far above what any takes, so that a hang fails.
TIMEOUT = 120
#: The umask every command runs under, so that the modes of its outputs are known.
UMASK = 0o022
#: The keys of a token group in ``stats --json`` (documented in ``stepwire._stats``).
TOKEN_KEYS = (
    "steps",
    "steps_with_usage",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
)
#: The top-level keys of ``stats --json``.
STATS_KEYS = {
    "files",
    "steps",
    "tool_calls",
    "steps_by_type_status",
    "tool_calls_by_type",
    "tokens",
    "tokens_by_tool_type",
    "tokens_by_assistant",
    "failures_by_code",
    "duration_seconds",
}
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
STEP_EVENTS = {
    f"thread.run.step.{s}"
    for s in ("created", "in_progress", "completed", "failed", "cancelled", "expired")
}
#: ``FILE:LINE: reason - at `path```, validate's line for a bad record.
BAD_RECORD = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<reason>.+) - at `(?P<path>[^`]+)`$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# -- running the command ------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A finished command: its exit status, stdout (bytes) and stderr (text)."""

    status: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode()

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def stepwire_cmd(*args: str | Path, stdin: bytes | None = None) -> Run:
    """``python -m stepwire ARGS`` in a subprocess, the environment inherited."""
    return run_argv([sys.executable, "-m", "stepwire", *map(str, args)], stdin=stdin)


def run_argv(argv: Sequence[str], stdin: bytes | None = None) -> Run:
    done = subprocess.run(
        list(argv),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        umask=UMASK,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))


@dataclass(frozen=True)
class Cmd:
    """A command to run: stepwire's arguments, and stdin's bytes if any."""

    args: tuple[str, ...]
    stdin: bytes | None = None


def cmd(*args: str | Path, stdin: bytes | None = None) -> Cmd:
    return Cmd(tuple(map(str, args)), stdin)


def run_batch(commands: dict[str, Cmd]) -> dict[str, Run]:
    """Several commands at once, by name: each costs an interpreter's start, which the
    cores share (the results do not depend on the order they run in)."""
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        futures = {
            name: pool.submit(stepwire_cmd, *c.args, stdin=c.stdin) for name, c in commands.items()
        }
        return {name: future.result() for name, future in futures.items()}


def bad_records(run: Run) -> list[tuple[str, int, str]]:
    """validate's lines as (file, line, path); each must have the documented form and a
    reason."""
    out = []
    for text in run.lines:
        match = BAD_RECORD.match(text)
        assert match is not None, f"not FILE:LINE: reason - at `path`: {text!r}"
        assert match["reason"].strip()
        out.append((match["file"], int(match["line"]), match["path"]))
    return out


def assert_one_line_failure(run: Run) -> str:
    """A failure as documented: exit 1, one line on stderr, no traceback; the line."""
    assert run.status == 1, run.err
    assert "Traceback" not in run.err
    (line,) = run.err.splitlines()
    assert line.startswith("stepwire: ")
    return line


def jsonl(bodies: Sequence[Any]) -> bytes:
    return b"".join(json.dumps(b).encode() + b"\n" for b in bodies)


def line_of(text: bytes, needle: bytes, start: int = 0) -> int:
    """The 1-based line on which ``needle`` first occurs in ``text`` (at or after start)."""
    at = text.index(needle, start)
    return text.count(b"\n", 0, at) + 1


# -- the figures of ``stats``, computed here from the steps' JSON -------------------------


def plain(step: Any) -> dict[str, Any]:
    """A decoded object as the JSON it stands for."""
    value: dict[str, Any] = json.loads(stepwire.encode(step))
    return value


def calls_of(step: dict[str, Any]) -> list[Any]:
    details = step.get("step_details")
    calls = details.get("tool_calls") if isinstance(details, dict) else None
    return calls if isinstance(calls, list) else []


def call_type(call: Any) -> Any:
    return call.get("type") if isinstance(call, dict) else None


def as_int(value: Any) -> int:
    return value if type(value) is int else 0


def token_group(steps: list[dict[str, Any]]) -> dict[str, int]:
    """Steps, steps with usage and the token sums (a null counts as 0); cached tokens
    from either spelling of the prompt details, the first not null."""
    group = dict.fromkeys(TOKEN_KEYS, 0)
    group["steps"] = len(steps)
    for step in steps:
        usage = step.get("usage")
        if not isinstance(usage, dict):
            continue
        group["steps_with_usage"] += type(usage.get("total_tokens")) is int
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            group[key] += as_int(usage.get(key))
        cached = None
        for spelling in ("prompt_token_details", "prompt_tokens_details"):
            details = usage.get(spelling)
            if cached is None and isinstance(details, dict):
                cached = details.get("cached_tokens")
        group["cached_tokens"] += as_int(cached)
        details = usage.get("completion_tokens_details")
        if isinstance(details, dict):
            group["reasoning_tokens"] += as_int(details.get("reasoning_tokens"))
    return group


def nearest_rank(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1]


def expected_figures(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of ``stats --json``, keyed (not ranked), from the steps' JSON."""
    by_tool: dict[Any, list[dict[str, Any]]] = {}
    by_assistant: dict[Any, list[dict[str, Any]]] = {}
    durations: list[int] = []
    for step in steps:
        for kind in {call_type(c) for c in calls_of(step)}:
            by_tool.setdefault(kind, []).append(step)
        by_assistant.setdefault(step.get("assistant_id"), []).append(step)
        start, end = step.get("created_at"), step.get("completed_at")
        if type(start) is int and type(end) is int:
            durations.append(end - start)
    duration: dict[str, Any] = {"steps": len(durations), "min": None, "max": None}
    duration.update(dict.fromkeys(QUANTILES))
    if durations:
        duration.update(min=min(durations), max=max(durations))
        duration.update({k: nearest_rank(durations, q) for k, q in QUANTILES.items()})
    calls = Counter(call_type(c) for s in steps for c in calls_of(s))
    return {
        "steps": len(steps),
        "tool_calls": sum(calls.values()),
        "steps_by_type_status": dict(Counter((s.get("type"), s.get("status")) for s in steps)),
        "tool_calls_by_type": dict(calls),
        "tokens": token_group(steps),
        "tokens_by_tool_type": {k: token_group(v) for k, v in by_tool.items()},
        "tokens_by_assistant": {k: token_group(v) for k, v in by_assistant.items()},
        "failures_by_code": dict(
            Counter(
                s["last_error"].get("code") for s in steps if isinstance(s.get("last_error"), dict)
            )
        ),
        "duration_seconds": duration,
    }


def _ranked(rows: list[dict[str, Any]], key: Any, count: str) -> list[Any]:
    """The rows' keys, after checking that they are unique and ranked as documented:
    largest first, then by key (null last)."""
    keys = [key(r) for r in rows]
    assert len(set(keys)) == len(keys), f"a group listed twice: {keys}"

    def rank(row: dict[str, Any]) -> tuple[Any, ...]:
        k = key(row)
        parts = k if isinstance(k, tuple) else (k,)
        return (-row[count], *((p is None, str(p)) for p in parts))

    assert rows == sorted(rows, key=rank), "groups not ranked largest first, then by key"
    return keys


def keyed_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """``stats --json`` figures in ``expected_figures``' shape, every row's keys checked."""
    for row in figures["steps_by_type_status"]:
        assert set(row) == {"type", "status", "steps"}
    for row in figures["tool_calls_by_type"]:
        assert set(row) == {"type", "calls"}
    for row in figures["tokens_by_tool_type"]:
        assert set(row) == {"type", *TOKEN_KEYS}
    for row in figures["tokens_by_assistant"]:
        assert set(row) == {"assistant_id", *TOKEN_KEYS}
    for row in figures["failures_by_code"]:
        assert set(row) == {"code", "steps"}
    assert set(figures["tokens"]) == set(TOKEN_KEYS)
    assert set(figures["duration_seconds"]) == {"steps", "min", "max", *QUANTILES}

    def tokens(row: dict[str, Any]) -> dict[str, int]:
        return {k: row[k] for k in TOKEN_KEYS}

    by_status = figures["steps_by_type_status"]
    _ranked(by_status, lambda r: (r["type"], r["status"]), "steps")
    _ranked(figures["tool_calls_by_type"], lambda r: r["type"], "calls")
    _ranked(figures["tokens_by_tool_type"], lambda r: r["type"], "steps")
    _ranked(figures["tokens_by_assistant"], lambda r: r["assistant_id"], "steps")
    _ranked(figures["failures_by_code"], lambda r: r["code"], "steps")
    return {
        "steps": figures["steps"],
        "tool_calls": figures["tool_calls"],
        "steps_by_type_status": {(r["type"], r["status"]): r["steps"] for r in by_status},
        "tool_calls_by_type": {r["type"]: r["calls"] for r in figures["tool_calls_by_type"]},
        "tokens": tokens(figures["tokens"]),
        "tokens_by_tool_type": {r["type"]: tokens(r) for r in figures["tokens_by_tool_type"]},
        "tokens_by_assistant": {
            r["assistant_id"]: tokens(r) for r in figures["tokens_by_assistant"]
        },
        "failures_by_code": {r["code"]: r["steps"] for r in figures["failures_by_code"]},
        "duration_seconds": figures["duration_seconds"],
    }


# -- the data -----------------------------------------------------------------------------

FAILURE_CODES = ("server_error", "rate_limit_exceeded", "invalid_prompt", "tool_timeout")


def varied_steps(seed: int, count: int) -> list[dict[str, Any]]:
    """Generated steps, varied where the figures have cases the generator rarely makes:
    failures with several error codes, cancelled and expired steps, both spellings of the
    prompt token details (the first null, empty or set; the other set), reasoning tokens,
    no usage key, null
    usage, a step calling two tool types (and one twice), a tool_calls step without
    calls, and six assistants."""
    bodies = stepgen.generate_steps(count, seed=seed)
    for i, body in enumerate(bodies):
        body["assistant_id"] = f"asst_{i % 6}"
        created = body["created_at"]
        if i % 9 == 0:
            body.update(status="failed", completed_at=None, failed_at=created + 3)
            body["last_error"] = {"code": FAILURE_CODES[i % 4], "message": "went wrong"}
        elif i % 9 == 1:
            body.update(status="cancelled", completed_at=None, cancelled_at=created + 5)
        elif i % 9 == 2:
            body.update(status="expired", completed_at=None, last_error=None)
        elif i % 9 == 3:
            body.update(status="completed", completed_at=created + (i * 37) % 3_600)
        if i % 5 == 0:
            prompt, completion = 100 + i, i % 70
            body["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": [None, 0, 64, 512][i % 4]},
                "completion_tokens_details": {"reasoning_tokens": i % 300},
            }
        elif i % 5 == 1:  # both spellings: the first with a value counts
            first = [{"cached_tokens": None}, {"cached_tokens": 5}, {}][i % 3]
            body["usage"] = {
                "prompt_tokens": 10,
                "completion_tokens": 1,
                "total_tokens": 11,
                "prompt_token_details": first,
                "prompt_tokens_details": {"cached_tokens": 7},
            }
        elif i % 5 == 2:
            body.pop("usage", None)
        elif i % 5 == 3:
            body["usage"] = None
        if i % 61 == 7:
            body["type"] = "tool_calls"
            body["step_details"] = {
                "type": "tool_calls",
                "tool_calls": [
                    {
                        "id": f"call_{i}_{n}",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}", "output": None},
                    }
                    for n in range(2)
                ]
                + [
                    {
                        "id": f"call_{i}_ci",
                        "type": "code_interpreter",
                        "code_interpreter": {"input": "1 + 1", "outputs": []},
                    }
                ],
            }
        elif i % 61 == 8:
            body["type"] = "tool_calls"
            body["step_details"] = {"type": "tool_calls", "tool_calls": []}
    return bodies


@dataclass
class Generated:
    """Generated inputs of every kind, and the step JSON each holds, in order."""

    steps_file: Path  # NDJSON of steps, zstd
    pages_file: Path  # NDJSON of pages, gzip
    page_file: Path  # one pretty-printed page
    sse_file: Path  # an Azure AI Agents stream
    bodies: list[dict[str, Any]]  # the steps of all four, in that order

    @property
    def files(self) -> list[Path]:
        return [self.steps_file, self.pages_file, self.page_file, self.sse_file]


def _page(data: list[dict[str, Any]], has_more: bool = True) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"],
        "last_id": data[-1]["id"],
        "has_more": has_more,
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("generated")
    steps = varied_steps(11, 2_400)
    steps += stepgen.with_unknown_tool_types(stepgen.generate_page(120, seed=12))["data"]
    steps += stepgen.with_unknown_field(stepgen.generate_page(80, seed=13))["data"]
    steps += [s for body in azure_pages(14) for s in json.loads(body)["data"]]
    pages_part, page_part = steps[-400:-60], steps[-60:]
    lines_part = steps[:-400]

    steps_file = root / "steps.ndjson.zst"
    text = jsonl(lines_part[:500]) + b"\n" + jsonl(lines_part[500:])  # a blank line is fine
    steps_file.write_bytes(zstandard.ZstdCompressor().compress(text))
    pages_file = root / "pages.ndjson.gz"
    pages = [_page(pages_part[i : i + 25]) for i in range(0, len(pages_part), 25)]
    pages_file.write_bytes(gzip.compress(jsonl(pages)))
    page_file = root / "page.json"
    page_file.write_text(json.dumps(_page(page_part, has_more=False), indent=2))
    (stream,) = [s for s in azure_streams(15) if s.name == "bing_grounding_azure_function_parallel"]
    sse_file = root / "azure.sse"
    sse_file.write_bytes(stream.sse)
    return Generated(steps_file, pages_file, page_file, sse_file, [*steps, stream.completed])


@dataclass
class Real:
    """The real corpus: its .json and .sse files, and the step JSON they hold, in order."""

    files: list[Path]
    bodies: list[dict[str, Any]]


def accumulated(body: bytes) -> list[dict[str, Any]]:
    """The final snapshots of a capture, fed whole to an Accumulator, as JSON."""
    acc = stepwire.Accumulator()
    acc.feed(body)
    acc.close()
    return [plain(step) for step in acc.steps.values()]


@pytest.fixture(scope="module")
def real() -> Real:
    files = real_files(".json") + real_files(".sse")
    if not files:
        # The corpus lives beside the checkout, not in it (CI always has it): the same
        # visible skip as helpers.real_params gives where it is absent.
        pytest.skip(f"real corpus not found at {REAL} (set STEPWIRE_FIXTURES)")
    bodies: list[dict[str, Any]] = []
    for path in files:
        body = path.read_bytes()
        if path.suffix == ".sse":
            bodies += accumulated(body)
            continue
        parsed = json.loads(body)
        bodies += parsed["data"] if parsed["object"] == "list" else [parsed]
    return Real(files, bodies)


@dataclass
class Planted:
    """An NDJSON file with bad lines at known places, its compressed copies, and its
    clean twin."""

    bad: Path
    gz: Path
    zst: Path
    clean: Path
    #: (line, path, strict only) of each bad line, in order.
    expected: list[tuple[int, str, bool]]
    #: The steps of the lines the default mode accepts.
    good: list[dict[str, Any]]

    def default(self, name: str | Path) -> list[tuple[str, int, str]]:
        """What validate (default mode) must print for the file, as ``bad_records``."""
        return [(str(name), n, path) for n, path, strict in self.expected if not strict]


def strict_clean(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bodies strict mode accepts (the generator draws the live API's deviations)."""
    out = []
    for body in bodies:
        try:
            stepwire.decode_step(json.dumps(body), strict=True)
        except stepwire.DecodeError:
            continue
        out.append(body)
    return out


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    root = tmp_path_factory.mktemp("planted")
    steps = strict_clean(stepgen.generate_steps(120, seed=21))[:30]
    assert len(steps) == 30
    lines: list[bytes] = [json.dumps(s).encode() for s in steps]
    expected: list[tuple[int, str, bool]] = []
    good: list[dict[str, Any] | None] = list(steps)

    def plant(line: int, text: bytes, path: str, strict_only: bool = False) -> None:
        lines[line - 1] = text
        expected.append((line, path, strict_only))
        if not strict_only:
            good[line - 1] = None

    plant(3, b'{"id": "step_bad", "object": "thread.run.step", oops}', "$")
    plant(6, json.dumps({**steps[5], "created_at": "x"}).encode(), "$.created_at")
    # A payload field missing: kept (UNSET) by default, refused by --strict.
    unnamed = {
        **steps[7],
        "type": "tool_calls",
        "step_details": {
            "type": "tool_calls",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"arguments": "{}"}}],
        },
    }
    plant(8, json.dumps(unnamed).encode(), "$.step_details.tool_calls[0].function", True)
    good[7] = unnamed
    lines[9] = b""  # line 10: empty, which is fine
    good[9] = None
    paused = {**steps[10], "status": "paused"}  # not one of the spec's statuses
    plant(11, json.dumps(paused).encode(), "$.status", True)
    good[10] = paused
    plant(13, json.dumps({k: v for k, v in steps[12].items() if k != "run_id"}).encode(), "$")
    last = json.dumps(steps[-1]).encode()
    cut = last.index(b'"thread_id": "') + len(b'"thread_id": "thr')
    plant(len(lines), last[:cut], "$.thread_id")  # truncated, without its line end
    bad = root / "planted.ndjson"
    bad.write_bytes(b"\n".join(lines))
    gz = root / "planted.ndjson.gz"
    gz.write_bytes(gzip.compress(bad.read_bytes()))
    zst = root / "planted.ndjson.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(bad.read_bytes()))
    clean = root / "clean.ndjson"
    planted_at = {e[0] for e in expected}
    kept = [text for n, text in enumerate(lines, 1) if n not in planted_at]
    clean.write_bytes(b"\n".join(kept) + b"\n")
    return Planted(bad, gz, zst, clean, expected, [s for s in good if s is not None])


@pytest.fixture(scope="module")
def planted_runs(planted: Planted) -> dict[str, Run]:
    """Every command on the planted file, run once for the tests that read them."""
    return run_batch(
        {
            "validate": cmd("validate", planted.bad),
            "strict": cmd("validate", "--strict", planted.bad),
            "max-errors": cmd("validate", "--max-errors", "2", planted.bad),
            "clean": cmd("validate", planted.clean),
            "compressed": cmd("validate", planted.gz, planted.zst),
            "stdin": cmd("validate", "-", stdin=planted.bad.read_bytes()),
            "stats": cmd("stats", "--json", planted.bad),
            "stats-skip": cmd("stats", "--json", "--on-error", "skip", planted.bad),
            "stats-debug": cmd("stats", "--debug", planted.bad),
            "debug-first": cmd("--debug", "stats", planted.bad),
            "quiet-first": cmd("-q", "validate", planted.clean),
            "quiet-after": cmd("validate", "-q", planted.clean),
            "merge": cmd("merge", planted.clean),
        }
    )


# -- the command line: version, help, usage errors ----------------------------------------

HELPS = ["", "validate", "stats", "merge", "convert"]
USAGE_ERRORS = {
    "no-command": (),
    "unknown-option": ("validate", "--bogus", "x.ndjson"),
    "max-errors-0": ("validate", "--max-errors", "0", "x.ndjson"),
    "stdin-twice": ("stats", "-", "-"),
}


@pytest.fixture(scope="module")
def cli_runs() -> dict[str, Run]:
    commands = {"version": cmd("--version")}
    commands.update({f"help {c}": cmd(*([c] if c else []), "--help") for c in HELPS})
    commands.update({name: cmd(*args) for name, args in USAGE_ERRORS.items()})
    return run_batch(commands)


def test_version(cli_runs: dict[str, Run]) -> None:
    run = cli_runs["version"]
    assert run.status == 0
    assert run.text == f"stepwire {stepwire.__version__}\n"


@pytest.mark.parametrize("command", HELPS, ids=[c or "top" for c in HELPS])
def test_help_shows_examples(cli_runs: dict[str, Run], command: str) -> None:
    """Every help, the top one too, shows how the command is used, not only its options."""
    run = cli_runs[f"help {command}"]
    assert run.status == 0
    assert run.text.startswith("usage: stepwire")
    assert "examples:" in run.text
    assert f"stepwire {command}".strip() in run.text.split("examples:", 1)[-1]


@pytest.mark.parametrize("name", list(USAGE_ERRORS))
def test_usage_errors_exit_2(cli_runs: dict[str, Run], name: str) -> None:
    run = cli_runs[name]
    assert run.status == 2
    assert run.out == b""
    assert "usage: stepwire" in run.err
    assert "Traceback" not in run.err


@pytest.mark.parametrize("name", ["debug-first", "quiet-first"])
def test_global_options_before_the_command(planted_runs: dict[str, Run], name: str) -> None:
    """``stepwire [-q] [--debug] COMMAND``: the top help lists them as the program's
    options; given before the command they must work as after it (``--debug``: the
    traceback; ``-q``: no summary on stderr)."""
    if name == "debug-first":
        run = planted_runs[name]
        assert run.status == 1
        assert "Traceback (most recent call last)" in run.err
    else:
        assert planted_runs["quiet-after"].err == ""  # the same option after: quiet
        run = planted_runs[name]
        assert run.status == 0
        assert run.err == ""


# -- imports --------------------------------------------------------------------------------


def test_import_stepwire_imports_no_heavy_module() -> None:
    code = (
        "import stepwire, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'rich', 'pyarrow', 'duckdb', 'polars', 'pandas', 'argparse'}))"
    )
    run = run_argv([sys.executable, "-c", code])
    assert run.status == 0, run.err
    assert run.text == "[]\n"


_WATCHED = ("rich", "pyarrow", "duckdb", "polars", "pandas")
_DRIVER = """
import json, runpy, sys
report, commands = sys.argv[1], json.loads(sys.argv[2])
seen = []
for argv in commands:
    sys.argv = ["stepwire", *argv]
    try:
        runpy.run_module("stepwire", run_name="__main__")
    except SystemExit as exc:
        status = exc.code
    sys.stdout.flush()
    seen.append([status, sorted({m.split(".")[0] for m in sys.modules} & set(WATCHED))])
with open(report, "w") as f:
    json.dump(seen, f)
""".replace("WATCHED", repr(_WATCHED))


def test_commands_import_rich_and_pyarrow_only_when_needed(tmp_path: Path, real: Real) -> None:
    """In one interpreter, ``python -m stepwire`` run for each command in turn; after each,
    the heavy modules loaded so far. --help, validate, stats --json, merge and convert to
    NDJSON load none (stderr is not a terminal: no progress bar); the stats tables then
    load rich, which shows that the check sees an import when there is one."""
    sse = next(f for f in real.files if f.suffix == ".sse")
    page = next(f for f in real.files if f.suffix == ".json")
    commands = [
        ["--help"],
        ["validate", str(page), str(sse)],
        ["stats", "--json", str(page), str(sse)],
        ["merge", str(sse)],
        ["convert", str(page), str(sse), "-o", str(tmp_path / "x.ndjson")],
        ["stats", str(page)],
    ]
    report = tmp_path / "report.json"
    run = run_argv([sys.executable, "-c", _DRIVER, str(report), json.dumps(commands)])
    assert run.status == 0, run.err
    seen = json.loads(report.read_text())
    assert seen == [[0, []], [0, []], [0, []], [0, []], [0, []], [0, ["rich"]]]


# -- validate -------------------------------------------------------------------------------


def test_validate_names_each_bad_line(planted: Planted, planted_runs: dict[str, Run]) -> None:
    run = planted_runs["validate"]
    assert run.status == 1
    assert bad_records(run) == planted.default(planted.bad)


def test_validate_strict_names_the_spec_violations_too(
    planted: Planted, planted_runs: dict[str, Run]
) -> None:
    run = planted_runs["strict"]
    assert run.status == 1
    assert bad_records(run) == [(str(planted.bad), n, p) for n, p, _ in planted.expected]


def test_validate_max_errors_stops(planted: Planted, planted_runs: dict[str, Run]) -> None:
    run = planted_runs["max-errors"]
    assert run.status == 1
    assert bad_records(run) == planted.default(planted.bad)[:2]


def test_validate_clean_file_passes_silently(planted_runs: dict[str, Run]) -> None:
    run = planted_runs["clean"]
    assert run.status == 0, run.text
    assert run.out == b""


def test_validate_compressed_copies_say_the_same(
    planted: Planted, planted_runs: dict[str, Run]
) -> None:
    run = planted_runs["compressed"]
    assert run.status == 1
    plain_lines = planted_runs["validate"].lines
    assert run.lines == [
        line.replace(str(planted.bad), str(copy), 1)
        for copy in (planted.gz, planted.zst)
        for line in plain_lines
    ]
    assert bad_records(run) == planted.default(planted.gz) + planted.default(planted.zst)


def test_validate_stdin(planted: Planted, planted_runs: dict[str, Run]) -> None:
    run = planted_runs["stdin"]
    assert run.status == 1
    assert bad_records(run) == planted.default("<stdin>")


def test_validate_real_corpus_default_passes(real_runs: dict[str, Run]) -> None:
    run = real_runs["validate"]
    assert run.status == 0, run.text
    assert run.out == b""


def _strict_deviations(real: Real) -> list[tuple[str, int, str]]:
    """Where the corpus breaks the spec that strict mode enforces, found here from the
    README's list: the EDITED fixture's unknown ``browser`` tool type, and the hyphenated
    ranker ``default-2024-08-21`` (not a spec enum value) of step events in the captures
    (a capture's bad event is named at its first line). The ranker's full path is long:
    ``"ranker"`` stands for any path ending ``.ranking_options.ranker``."""
    out: list[tuple[str, int, str]] = []
    for path in real.files:
        body = path.read_bytes()
        if path.suffix == ".json":
            parsed = json.loads(body)
            listed = parsed["object"] == "list"
            for i, step in enumerate(parsed["data"] if listed else [parsed]):
                for j, call in enumerate(calls_of(step)):
                    if call.get("type") == "browser":
                        where = f"$.data[{i}]" if listed else "$"
                        line = line_of(body, b'"type":"browser"')
                        out.append((str(path), line, f"{where}.step_details.tool_calls[{j}].type"))
            continue
        lines = body.split(b"\n")
        for i in range(1, len(lines)):  # lines[i - 1] is the event line, at line i
            event = lines[i - 1].removeprefix(b"event: ").decode()
            is_step = event in STEP_EVENTS or event == "thread.run.step.delta"
            if is_step and lines[i].startswith(b"data:") and b'"default-2024-08-21"' in lines[i]:
                out.append((str(path), i, "ranker"))
    return out


def test_validate_strict_on_the_real_corpus(real: Real, real_runs: dict[str, Run]) -> None:
    """Strict reports exactly the deviations the README describes, each at its line and
    path; its exit status is 1 because it printed them."""
    run = real_runs["strict"]
    found = bad_records(run)
    assert run.status == (1 if found else 0)
    expected = _strict_deviations(real)
    edited = {str(p) for p in real.files if "EDITED_unknown_browser_tool" in p.name}
    assert edited <= {e[0] for e in expected}
    assert len(expected) >= 3
    shown = [(f, n, "ranker" if p.endswith(".ranking_options.ranker") else p) for f, n, p in found]
    assert shown == expected


# -- stats ----------------------------------------------------------------------------------


def stats_json(run: Run) -> dict[str, Any]:
    assert run.status == 0, run.err
    figures: dict[str, Any] = json.loads(run.out)
    assert set(figures) == STATS_KEYS
    return figures


def test_stats_json_generated(generated: Generated, generated_runs: dict[str, Run]) -> None:
    figures = stats_json(generated_runs["stats"])
    assert figures["files"] == [str(f) for f in generated.files]
    expected = expected_figures(generated.bodies)
    assert keyed_figures(figures) == expected
    # The data has the cases the figures tell apart.
    assert len(expected["failures_by_code"]) >= 4
    assert 0 < expected["tokens"]["steps_with_usage"] < expected["steps"]
    assert expected["tokens"]["cached_tokens"] > 0
    assert expected["tokens"]["reasoning_tokens"] > 0
    assert {"bing_grounding", "azure_function", "future_function"} <= set(
        expected["tokens_by_tool_type"]
    )


def test_stats_json_real_corpus(real: Real, real_runs: dict[str, Run]) -> None:
    figures = stats_json(real_runs["stats"])
    assert figures["files"] == [str(f) for f in real.files]
    assert keyed_figures(figures) == expected_figures(real.bodies)
    assert figures["failures_by_code"] == [{"code": "server_error", "steps": 1}]


def test_stats_tables(generated: Generated, generated_runs: dict[str, Run]) -> None:
    run = generated_runs["tables"]
    assert run.status == 0, run.err
    text = " ".join(ANSI.sub("", run.text).split())  # titles may wrap to a table's width
    expected = expected_figures(generated.bodies)
    assert f"{expected['steps']:,} steps, {expected['tool_calls']:,} tool calls in 4 files" in text
    for title in (
        "Steps by type and status",
        "Tool calls by type",
        "Tokens per tool type",
        "Tokens per assistant",
        "Failures by last_error.code",
        "Step duration, seconds (completed_at - created_at)",
    ):
        assert title in text


def test_stats_bad_line_is_one_line_on_stderr(
    planted: Planted, planted_runs: dict[str, Run]
) -> None:
    run = planted_runs["stats"]
    line = assert_one_line_failure(run)
    first, path, _ = planted.expected[0]
    assert line.startswith(f"stepwire: {planted.bad}:{first}: ")
    assert line.endswith(f" - at `{path}`")
    assert run.out == b""


def test_stats_skip_leaves_the_bad_lines_out(
    planted: Planted, planted_runs: dict[str, Run]
) -> None:
    figures = stats_json(planted_runs["stats-skip"])
    assert keyed_figures(figures) == expected_figures(planted.good)
    assert figures["steps"] == len(planted.good)


def test_stats_debug_prints_the_traceback(planted: Planted, planted_runs: dict[str, Run]) -> None:
    run = planted_runs["stats-debug"]
    assert run.status == 1
    assert "Traceback (most recent call last)" in run.err
    assert run.err.splitlines()[-1].startswith(f"stepwire: {planted.bad}:3: ")


# -- crafted inputs: each built beside its test, all run in one batch ---------------------

#: What each test below runs: built into a directory of its own, the command and what
#: the test needs to know of its input.
Built = tuple[Cmd, dict[str, Any]]
CRAFTED: dict[str, Callable[[Path], Built]] = {}


def crafted_input(build: Callable[[Path], Built]) -> Callable[[Path], Built]:
    """Register ``build`` (named after its test, less ``build_``) for ``crafted``."""
    CRAFTED[build.__name__.removeprefix("build_")] = build
    return build


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, dict[str, Any]]]:
    """Every crafted input built, and its command run (all at once)."""
    root = tmp_path_factory.mktemp("crafted")
    built: dict[str, Built] = {}
    for name, build in CRAFTED.items():
        (root / name).mkdir()
        built[name] = build(root / name)
    runs = run_batch({name: command for name, (command, _) in built.items()})
    return {name: (runs[name], facts) for name, (_, facts) in built.items()}


@crafted_input
def build_pretty_documents(root: Path) -> Built:
    page = stepgen.generate_page(6, seed=31)
    page["data"][2]["created_at"] = "x"
    page["data"][4]["thread_id"] = 5
    page_file = root / "page.json"
    page_file.write_text(json.dumps(page, indent=2))
    array = stepgen.generate_steps(3, seed=32)
    array[1]["failed_at"] = "y"
    array_file = root / "array.json"
    array_file.write_text(json.dumps(array, indent=2))
    step = stepgen.generate_steps(1, seed=33)[0]
    step["run_id"] = 6
    step_file = root / "step.json"
    step_file.write_text(json.dumps(step, indent=2))
    text = page_file.read_bytes()
    fifth = text.index(b'"id": "' + page["data"][4]["id"].encode())
    expected = [
        (str(page_file), line_of(text, b'"created_at": "x"'), "$.data[2].created_at"),
        (str(page_file), line_of(text, b'"thread_id": 5', fifth), "$.data[4].thread_id"),
        (str(array_file), line_of(array_file.read_bytes(), b'"failed_at": "y"'), "$[1].failed_at"),
        (str(step_file), line_of(step_file.read_bytes(), b'"run_id": 6'), "$.run_id"),
    ]
    return cmd("validate", page_file, array_file, step_file), {"expected": expected}


def test_validate_pretty_documents(crafted: dict[str, tuple[Run, dict[str, Any]]]) -> None:
    """A page, an array and a single step, pretty-printed: each bad value named at its
    own line, its path from the document's root."""
    run, facts = crafted["pretty_documents"]
    assert run.status == 1
    assert bad_records(run) == facts["expected"]


@crafted_input
def build_compact_page(root: Path) -> Built:
    page = stepgen.generate_page(6, seed=34)
    page["data"][1]["created_at"] = "x"
    page["data"][3]["thread_id"] = 5
    pretty = root / "pretty.json"
    pretty.write_text(json.dumps(page, indent=2))
    compact = root / "compact.json"
    compact.write_text(json.dumps(page))
    return cmd("validate", pretty, compact), {"pretty": str(pretty), "compact": str(compact)}


def test_validate_compact_page_names_every_bad_step(
    crafted: dict[str, tuple[Run, dict[str, Any]]],
) -> None:
    """ "print each bad one": a page on one line (read as NDJSON of pages) holding two bad
    steps names both, as the same page pretty-printed does."""
    run, facts = crafted["compact_page"]
    assert run.status == 1
    found = bad_records(run)
    paths = {kind: [p for f, _, p in found if f == facts[kind]] for kind in ("pretty", "compact")}
    assert paths["pretty"] == ["$.data[1].created_at", "$.data[3].thread_id"]
    assert paths["compact"] == paths["pretty"]


@crafted_input
def build_sse_event(root: Path) -> Built:
    (stream,) = [s for s in azure_streams(16) if s.name == "function"]
    lines = stream.sse.split(b"\n")
    n = next(i for i, text in enumerate(lines) if text.startswith(b"data: {") and i > 3)
    assert lines[n - 1].startswith(b"event: thread.run.step")  # at line n
    lines[n] = lines[n].replace(b'"created_at":', b'"created_at":"x","was":', 1)
    capture = root / "capture.sse"
    capture.write_bytes(b"\n".join(lines))
    return cmd("validate", capture), {"expected": [(str(capture), n, "$.created_at")]}


def test_validate_sse_names_the_first_line_of_a_bad_event(
    crafted: dict[str, tuple[Run, dict[str, Any]]],
) -> None:
    run, facts = crafted["sse_event"]
    assert run.status == 1
    assert bad_records(run) == facts["expected"]


@crafted_input
def build_unreadable(root: Path) -> Built:
    missing = root / "missing.ndjson"
    directory = root / "adir"
    directory.mkdir()
    garbage = root / "garbage.txt"
    garbage.write_text("hello, this is\nnot a run step\n")
    clean = root / "clean.ndjson"
    clean.write_bytes(jsonl(stepgen.generate_steps(3, seed=37)))
    cases = [(missing, "not found"), (directory, "directory"), (garbage, "not a format")]
    if os.geteuid() != 0:
        unreadable = root / "unreadable.ndjson"
        unreadable.write_bytes(clean.read_bytes())
        unreadable.chmod(0)
        cases.append((unreadable, "permission denied"))
    return cmd("validate", *(p for p, _ in cases), clean), {"cases": cases}


def test_validate_unreadable_inputs_one_line_each(
    crafted: dict[str, tuple[Run, dict[str, Any]]],
) -> None:
    """Missing, a directory, unreadable (where permissions bind: not as root, who reads a
    chmod 000 file), garbage: one line each naming the input and why, exit 1, validate
    going on to the next input (a good one, last, says nothing)."""
    run, facts = crafted["unreadable"]
    assert run.status == 1
    assert len(run.lines) == len(facts["cases"])
    for line, (path, reason) in zip(run.lines, facts["cases"], strict=True):
        assert line.startswith(f"{path}: ")
        assert reason in line


@crafted_input
def build_bom(root: Path) -> Built:
    bom = b"\xef\xbb\xbf"
    pretty = root / "bom-page.json"
    pretty.write_bytes(bom + json.dumps(stepgen.generate_page(3, seed=38), indent=2).encode())
    lines = root / "bom-steps.ndjson"
    lines.write_bytes(bom + jsonl(stepgen.generate_steps(3, seed=35)))
    return cmd("validate", pretty, lines), {}


def test_validate_with_a_bom(crafted: dict[str, tuple[Run, dict[str, Any]]]) -> None:
    """A leading UTF-8 BOM (what Windows editors write) is skipped when the kind of an
    input is told (``_sources.detect``, ``_cli._known``) and in an event stream; a JSON
    page or NDJSON of steps starting with one must then read as without it."""
    run, _ = crafted["bom"]
    assert run.lines == []
    assert run.status == 0


@crafted_input
def build_stats_document(root: Path) -> Built:
    page = stepgen.generate_page(4, seed=36)
    page["data"][2]["created_at"] = "x"
    path = root / "page.json"
    path.write_text(json.dumps(page, indent=2))
    line = line_of(path.read_bytes(), b'"created_at": "x"')
    return cmd("stats", path), {"where": f"{path}:{line}", "path": "$.data[2].created_at"}


@crafted_input
def build_merge_event(root: Path) -> Built:
    (stream,) = [s for s in azure_streams(17) if s.name == "mcp"]
    path = root / "capture.sse"
    path.write_bytes(stream.sse.replace(b'"created_at":', b'"created_at":"x","was":', 1))
    line = line_of(path.read_bytes(), b"event: thread.run.step.created")
    return cmd("merge", path), {"where": f"{path}:{line}", "path": "$.created_at"}


@pytest.mark.parametrize("name", ["stats_document", "merge_event"])
def test_failure_names_the_line_as_validate_does(
    crafted: dict[str, tuple[Run, dict[str, Any]]], name: str
) -> None:
    """A bad value in a pretty-printed page (stats) or in a capture's event (merge): the
    one-line failure names the line, as it does for NDJSON, and as validate does for the
    same input (the value's line; the event's first line)."""
    run, facts = crafted[name]
    message = assert_one_line_failure(run)
    assert message.endswith(f" - at `{facts['path']}`")
    assert message.startswith(f"stepwire: {facts['where']}: ")


@crafted_input
def build_azure_streams(root: Path) -> Built:
    streams = azure_streams(0)
    done = b"event: done\ndata: [DONE]\n\n"
    assert all(s.sse.endswith(done) for s in streams)
    assert "function_approval" in {s.name for s in streams}
    capture = root / "all.sse"
    capture.write_bytes(b"".join(s.sse.removesuffix(done) for s in streams) + done)
    return cmd("merge", capture), {"expected": [s.completed for s in streams]}


def test_merge_azure_streams_end_as_the_servers_objects(
    crafted: dict[str, tuple[Run, dict[str, Any]]],
) -> None:
    """Every generated Azure stream of one seed end to end in one capture (each stream's
    ``done`` but the last left out): the snapshots are the server's final objects, as
    tests/test_azure_streams.py has them (for ``function_approval``, with the output that
    arrives after ``thread.run.step.completed``)."""
    run, facts = crafted["azure_streams"]
    assert run.status == 0, run.err
    assert [json.loads(line) for line in run.out.splitlines()] == facts["expected"]


@crafted_input
def build_empty_capture(root: Path) -> Built:
    capture = root / "empty.sse"
    capture.write_bytes(b"")
    return cmd("merge", capture), {}


def test_merge_empty_capture(crafted: dict[str, tuple[Run, dict[str, Any]]]) -> None:
    """An empty input is a valid one, of no records (``_cli._known``), as validate, stats
    and convert have it: a capture of a stream that sent nothing merges to no steps."""
    run, _ = crafted["empty_capture"]
    assert run.err == ""
    assert (run.status, run.out) == (0, b"")


# -- the real corpus and the generated data, every command run once ----------------------

#: Captures whose ``merge --events`` is checked: an error event, a stream ending in
#: ``done``, parallel Azure calls, and the largest, with logs and image deltas.
EVENT_CAPTURES = (
    "stream_error_midrun",
    "StreamingToolCall_create_thread_and_run",
    "main_stream_response_STEP_EVENTS_ONLY",
    "stream_code_interpreter_logs_image",
)


def convert_commands(inputs: list[Path], root: Path) -> dict[str, Cmd]:
    """convert to every target; ``Converted`` reads the results."""
    return {
        "convert ndjson": cmd("convert", *inputs, "-o", root / "out.ndjson"),
        "convert json": cmd("convert", *inputs, "-o", root / "out.json"),
        "convert parquet": cmd("convert", *inputs, "-o", root / "parquet"),
        "convert stdout": cmd("convert", *inputs, "-o", "-"),
    }


@pytest.fixture(scope="module")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real-out")


@pytest.fixture(scope="module")
def real_runs(real: Real, real_root: Path) -> dict[str, Run]:
    captures = [f for f in real.files if f.suffix == ".sse"]
    commands = {
        "validate": cmd("validate", *real.files),
        "strict": cmd("validate", "--strict", *real.files),
        "stats": cmd("stats", "--json", *real.files),
        **{f"merge {f.name}": cmd("merge", f) for f in captures},
        **{
            f"events {f.name}": cmd("merge", "--events", f)
            for f in captures
            if any(name in f.name for name in EVENT_CAPTURES)
        },
        **convert_commands(real.files, real_root),
    }
    return run_batch(commands)


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated-out")


@pytest.fixture(scope="module")
def generated_runs(generated: Generated, generated_root: Path) -> dict[str, Run]:
    return run_batch(
        {
            "stats": cmd("stats", "--json", *generated.files),
            "tables": cmd("stats", *generated.files),
            **convert_commands(generated.files, generated_root),
        }
    )


# -- merge ----------------------------------------------------------------------------------


def capture_params(names: Sequence[str] = ()) -> list[Any]:
    """The real captures (those whose name holds one of ``names``, if given), by
    ``helpers.real_params``: its one visible skip where the corpus is absent. A name
    that matches no capture of a corpus that is there is an error, not fewer cases."""
    files = real_files(".sse")
    if not names or not files:
        return real_params(".sse")
    missing = [n for n in names if not any(n in f.name for f in files)]
    if missing:
        raise LookupError(f"no real capture is named like {missing} in {REAL}")
    return [pytest.param(f, id=f.name) for f in files if any(n in f.name for n in names)]


@pytest.mark.parametrize("capture", capture_params())
def test_merge_real_capture(real_runs: dict[str, Run], capture: Path) -> None:
    run = real_runs[f"merge {capture.name}"]
    assert run.status == 0, run.err
    acc = stepwire.Accumulator()
    acc.feed(capture.read_bytes())
    acc.close()
    assert acc.steps
    assert run.out.endswith(b"\n")
    merged = [stepwire.decode_step(line) for line in run.out.splitlines()]
    assert merged == list(acc.steps.values())


@pytest.mark.parametrize("capture", capture_params(EVENT_CAPTURES))
def test_merge_events_real_capture(real_runs: dict[str, Run], capture: Path) -> None:
    """One JSON object a line, as many as the Accumulator's events, in order; each one's
    data is its typed data's JSON, which for a step event or delta is the data as sent."""
    run = real_runs[f"events {capture.name}"]
    assert run.status == 0, run.err
    acc = stepwire.Accumulator()
    events = acc.feed(capture.read_bytes()) + acc.close()
    lines = [json.loads(line) for line in run.out.splitlines()]
    assert all(set(line) == {"event", "id", "data"} for line in lines)
    assert [line["event"] for line in lines] == [e.event for e in events]
    assert [line["id"] for line in lines] == [e.id for e in events]
    for line, event in zip(lines, events, strict=True):
        data = event.data
        assert line["data"] == (json.loads(data) if isinstance(data, bytes) else plain(data))
    sent = [
        (name, json.loads(data))
        for name, data in sse_events(capture.read_bytes())
        if name.startswith("thread.run.step")
    ]
    assert sent
    assert [
        (e["event"], e["data"]) for e in lines if e["event"].startswith("thread.run.step")
    ] == sent


def test_merge_refuses_ndjson(planted: Planted, planted_runs: dict[str, Run]) -> None:
    run = planted_runs["merge"]
    line = assert_one_line_failure(run)
    assert line.startswith(f"stepwire: {planted.clean}: not an SSE capture")
    assert run.out == b""


# -- convert --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Converted:
    """One set of inputs converted to every target (``convert_commands``)."""

    runs: dict[str, Run]
    bodies: list[dict[str, Any]]
    root: Path

    @property
    def ndjson(self) -> Path:
        return self.root / "out.ndjson"

    @property
    def json(self) -> Path:
        return self.root / "out.json"

    @property
    def parquet(self) -> Path:
        return self.root / "parquet"


@pytest.fixture(params=["real", "generated"])
def converted(request: pytest.FixtureRequest) -> Converted:
    if request.param == "real":
        real: Real = request.getfixturevalue("real")
        runs: dict[str, Run] = request.getfixturevalue("real_runs")
        return Converted(runs, real.bodies, request.getfixturevalue("real_root"))
    generated: Generated = request.getfixturevalue("generated")
    runs = request.getfixturevalue("generated_runs")
    return Converted(runs, generated.bodies, request.getfixturevalue("generated_root"))


def as_steps(bodies: Sequence[Any]) -> list[stepwire.RunStep]:
    return [stepwire.decode_step(json.dumps(b)) for b in bodies]


def test_convert_to_ndjson(converted: Converted) -> None:
    run = converted.runs["convert ndjson"]
    assert run.status == 0, run.err
    lines = converted.ndjson.read_bytes().splitlines()
    assert [stepwire.decode_step(line) for line in lines] == as_steps(converted.bodies)
    assert [json.loads(line) for line in lines] == converted.bodies  # lossless


def test_convert_to_json(converted: Converted) -> None:
    run = converted.runs["convert json"]
    assert run.status == 0, run.err
    array = json.loads(converted.json.read_bytes())
    assert isinstance(array, list)
    assert array == converted.bodies
    assert as_steps(array) == as_steps(converted.bodies)


def test_convert_to_stdout(converted: Converted) -> None:
    run = converted.runs["convert stdout"]
    assert run.status == 0, run.err
    assert [stepwire.decode_step(line) for line in run.lines] == as_steps(converted.bodies)
    assert run.out == converted.ndjson.read_bytes()


def test_convert_to_parquet(converted: Converted) -> None:
    run = converted.runs["convert parquet"]
    assert run.status == 0, run.err
    names = sorted(p.name for p in converted.parquet.iterdir())
    assert names == ["steps.parquet", "tool_calls.parquet"]
    steps = pq.read_table(converted.parquet / "steps.parquet")
    calls = pq.read_table(converted.parquet / "tool_calls.parquet")
    assert steps.column("id").to_pylist() == [b["id"] for b in converted.bodies]
    assert calls.num_rows == sum(len(calls_of(b)) for b in converted.bodies)
    assert calls.num_rows > 0


def test_convert_leaves_no_temporary_file(converted: Converted) -> None:
    for name in ("ndjson", "json", "parquet"):
        assert converted.runs[f"convert {name}"].status == 0
    names = sorted(p.name for p in converted.root.iterdir())
    assert names == ["out.json", "out.ndjson", "parquet"]


def test_convert_output_files_have_the_usual_permissions(converted: Converted) -> None:
    """An output is a new file like any other: its mode is 0o666 less the umask (0o644
    under 0o022), not the 0o600 of the temporary file it was written as."""
    for path in (
        converted.ndjson,
        converted.json,
        converted.parquet / "steps.parquet",
        converted.parquet / "tool_calls.parquet",
    ):
        assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~UMASK), path.name


@dataclass(frozen=True)
class Failing:
    """convert on an input whose third line is bad, each case in a directory of its own."""

    source: Path
    good: list[dict[str, Any]]
    root: Path
    runs: dict[str, Run]


FAILING_TARGETS = ("out.ndjson", "out.json", "parquet")


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory, planted: Planted) -> Failing:
    root = tmp_path_factory.mktemp("failing")
    steps = stepgen.generate_steps(8, seed=41)
    source = root / "bad.ndjson"
    lines = [json.dumps(s).encode() for s in steps]
    lines[2] = json.dumps({**steps[2], "created_at": "x"}).encode()
    source.write_bytes(b"\n".join(lines) + b"\n")
    commands: dict[str, Cmd] = {}
    for target in FAILING_TARGETS:
        (root / f"fails-{target}").mkdir()
        commands[f"fails {target}"] = cmd(
            "convert", source, "-o", root / f"fails-{target}" / target
        )
    (root / "previous").mkdir()
    (root / "previous" / "out.ndjson").write_bytes(b"previous\n")
    commands["previous"] = cmd("convert", source, "-o", root / "previous" / "out.ndjson")
    (root / "skip").mkdir()
    commands["skip"] = cmd(
        "convert", "--on-error", "skip", source, "-o", root / "skip" / "out.ndjson"
    )
    commands["parquet-to-stdout"] = cmd("convert", planted.clean, "--to", "parquet", "-o", "-")
    return Failing(source, steps[:2] + steps[3:], root, run_batch(commands))


@pytest.mark.parametrize("target", FAILING_TARGETS)
def test_convert_failure_leaves_nothing(failing: Failing, target: str) -> None:
    """A bad line (--on-error raise): exit 1, and nothing written: neither OUT nor a
    temporary file (a Parquet OUT is a directory: not left behind either)."""
    line = assert_one_line_failure(failing.runs[f"fails {target}"])
    assert line.startswith(f"stepwire: {failing.source}:3: ")
    out = failing.root / f"fails-{target}" / target
    assert [p.name for p in out.parent.iterdir() if p != out] == []  # no temporary file
    if out.is_dir():
        assert list(out.iterdir()) == []
    assert not out.exists(), f"{out.name} was left behind"


def test_convert_failure_keeps_a_previous_output(failing: Failing) -> None:
    assert_one_line_failure(failing.runs["previous"])
    assert [p.name for p in (failing.root / "previous").iterdir()] == ["out.ndjson"]
    assert (failing.root / "previous" / "out.ndjson").read_bytes() == b"previous\n"


def test_convert_skip(failing: Failing) -> None:
    run = failing.runs["skip"]
    assert run.status == 0, run.err
    out = failing.root / "skip" / "out.ndjson"
    assert [json.loads(line) for line in out.read_bytes().splitlines()] == failing.good
    assert [p.name for p in out.parent.iterdir()] == ["out.ndjson"]


def test_convert_parquet_to_stdout_is_refused(failing: Failing) -> None:
    """Parquet is two files, not a stream: a usage error, said in one line, before
    anything is written."""
    run = failing.runs["parquet-to-stdout"]
    assert run.status == 2
    assert "Traceback" not in run.err
    assert len(run.err.splitlines()) == 1
    assert run.err.startswith("stepwire: ")
    assert run.out == b""


def test_convert_to_a_closed_stdout_exits_141(generated: Generated) -> None:
    """``stepwire convert ... -o - | head -1``: 141, quietly, once the reader is gone."""
    with subprocess.Popen(
        [sys.executable, "-m", "stepwire", "convert", str(generated.steps_file), "-o", "-"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        status = proc.wait(timeout=TIMEOUT)
        err = proc.stderr.read().decode()
    assert json.loads(first) == generated.bodies[0]
    assert status == 141, err
    assert "Traceback" not in err


@contextmanager
def sigint_delivered() -> Iterator[None]:
    """A child started here gets Python's KeyboardInterrupt on SIGINT: if this process
    ignores SIGINT (a CI runner's background job may), children would inherit the ignore;
    a handler, unlike an ignore, is reset to the default across exec."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous is signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


def begun(directory: Path, pattern: str) -> bool:
    """Whether a non-empty file matching ``pattern`` is in ``directory`` (one may go
    between being listed and being looked at)."""
    for path in directory.glob(pattern):
        try:
            size = path.stat().st_size
        except FileNotFoundError:  # gone since it was listed
            size = 0
        if size:
            return True
    return False


def test_convert_ctrl_c(tmp_path_factory: pytest.TempPathFactory) -> None:
    """SIGINT while converting about 60 MB (100,000 small steps, a few dozen repeated:
    seconds of work, written in a fraction of one), once its temporary output holds the
    first lines: exit 130, no traceback, no output and no temporary file left."""
    steps = [s for s in stepgen.generate_steps(300, seed=51) if len(json.dumps(s)) < 900]
    source = tmp_path_factory.mktemp("large") / "large.ndjson"
    with source.open("wb") as f:
        block = jsonl(steps[:40])
        for _ in range(100_000 // 40):
            f.write(block)
    where = tmp_path_factory.mktemp("interrupted")
    out = where / "out.ndjson"
    argv = [sys.executable, "-m", "stepwire", "convert", str(source), "-o", str(out)]
    with (
        sigint_delivered(),
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as proc,
    ):
        deadline = time.monotonic() + TIMEOUT
        while not begun(where, "*.partial"):
            assert proc.poll() is None, "convert ended before it was interrupted"
            assert time.monotonic() < deadline, "no temporary output appeared"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=TIMEOUT)
    source.unlink()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert list(where.iterdir()) == []


# -- the console script ---------------------------------------------------------------------


def console_script() -> str:
    places = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    found = shutil.which("stepwire", path=os.pathsep.join(places))
    assert found is not None, f"the stepwire console script is not installed in {places}"
    return found


def test_console_script_runs() -> None:
    run = run_argv([console_script(), "--version"])
    assert run.status == 0, run.err
    assert run.text == f"stepwire {stepwire.__version__}\n"


def test_console_script_and_module_agree(real: Real, real_runs: dict[str, Run]) -> None:
    module_run = real_runs["strict"]
    script_run = run_argv([console_script(), "validate", "--strict", *map(str, real.files)])
    assert module_run.out
    assert (script_run.status, script_run.out, script_run.err) == (
        module_run.status,
        module_run.out,
        module_run.err,
    )


def test_stats_tables_to_a_closed_stdout_exit_141(generated: Generated) -> None:
    """``stepwire stats FILE | head -1``: the tables (drawn by rich) end in 141 too, as
    convert's NDJSON does, not in rich's own exit 1."""
    with subprocess.Popen(
        [sys.executable, "-m", "stepwire", "stats", str(generated.steps_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Every table at once in a pipe's buffer would leave nothing to write late:
        # the reader closes before the first byte, so that a write must fail.
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        status = proc.wait(timeout=TIMEOUT)
        err = proc.stderr.read().decode()
    assert status == 141, err
    assert "Traceback" not in err


def test_convert_refuses_a_name_that_says_no_format(tmp_path: Path, generated: Generated) -> None:
    """``-o steps.ndjson.gz``: no format by that suffix (there is no compressed output),
    so exit 2 and nothing made, rather than a Parquet directory of that name."""
    out = tmp_path / "steps.ndjson.gz"
    run = stepwire_cmd("convert", generated.steps_file, "-o", out)
    assert run.status == 2, run.err
    assert run.err.startswith(f"stepwire: {out}: cannot tell the format"), run.err
    assert list(tmp_path.iterdir()) == []
    # Named, it is what it says: a suffix-less name is a Parquet directory.
    run = stepwire_cmd("convert", generated.steps_file, "-o", tmp_path / "tables", "-q")
    assert run.status == 0, run.err
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "steps.parquet",
        "tool_calls.parquet",
    ]
