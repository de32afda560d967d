"""examples/: each script run as a user runs it, against the replay server or bundled data.

A script is run with this interpreter, warnings as errors (``-W error``), in a process
of its own; its output must say what the same work done here says. The Spark example
runs in tests_spark/ (a JVM).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import stepwire
from helpers import ROOT, SAMPLES, real_file
from stepgen import generate_steps
from stepgen.server import ReplayServer

EXAMPLES = ROOT / "examples"
STREAM = "openai__openai-dotnet__StreamingToolCall_submit_tool_outputs"
PAGE = "openai__openai-dotnet__BasicRunStepFunctionalityWorks_steps_list"


def run(script: str, *args: object) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[stepwire.RunStep]]:
    """A generated NDJSON log of 300 steps, and one bad line in it."""
    path = tmp_path_factory.mktemp("examples") / "steps.ndjson"
    lines = [json.dumps(step) for step in generate_steps(300, seed=16)]
    lines.insert(100, '{"id": 5}')
    path.write_text("\n".join(lines) + "\n")
    steps = list(stepwire.iter_lines(path, on_error="skip"))
    return path, steps


def final_lines(steps: dict[str, stepwire.RunStep]) -> list[str]:
    return [f"final  {s.id}  {s.status}  usage={s.usage}" for s in steps.values()]


def offline_steps(name: str) -> dict[str, stepwire.RunStep]:
    acc = stepwire.Accumulator()
    acc.feed(real_file(f"{name}.sse").read_bytes())
    acc.close()
    return dict(acc.steps)


def test_every_example_is_tested() -> None:
    tested = {"page_decode.py", "ndjson_stats.py", "stream_httpx.py", "stream_openai.py"}
    tested |= {"parquet.py", "spark_local.py"}  # spark_local: tests_spark/test_examples.py
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_page_decode_on_the_bundled_samples() -> None:
    out = run("page_decode.py")
    for path in sorted(SAMPLES.glob("*_page.json")):
        assert f"# {path.name}" in out
        for step in stepwire.decode_page(path.read_bytes()).data:
            assert f"{step.id}  {step.status}" in out


def test_page_decode_on_a_recorded_page() -> None:
    path = real_file(f"{PAGE}.json")
    page = stepwire.decode_page(path.read_bytes())
    out = run("page_decode.py", path)
    assert out.count("code_interpreter ") == sum(
        len(s.step_details.tool_calls)
        for s in page.data
        if isinstance(s.step_details, stepwire.ToolCallsStepDetails)
    )


def test_ndjson_stats(log: tuple[Path, list[stepwire.RunStep]]) -> None:
    path, steps = log
    out = run("ndjson_stats.py", path)
    assert f"steps: {len(steps)}\n" in out
    assert "bad lines: 1\n" in out
    kinds = Counter(
        call.type
        for step in steps
        if isinstance(step.step_details, stepwire.ToolCallsStepDetails)
        for call in step.step_details.tool_calls
    )
    for kind, count in kinds.items():
        assert f"tool calls, {kind}: {count}\n" in out


def test_stream_httpx(server: ReplayServer) -> None:
    real_file(f"{STREAM}.sse")  # the server replays it by name
    out = run("stream_httpx.py", server.base_url(), STREAM, "asst_example")
    for line in final_lines(offline_steps(STREAM)):
        assert line in out.splitlines()
    assert server.requests[-1].json()["stream"] is True


def test_stream_httpx_says_what_an_error_status_is(server: ReplayServer) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "stream_httpx.py"), server.base_url("error-429"), "t", "a"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("HTTP 429: ")


def test_stream_openai_and_its_steps(server: ReplayServer) -> None:
    real_file(f"{STREAM}.sse")  # the server replays it by name
    out = run("stream_openai.py", server.base_url(), STREAM, "asst_example", PAGE)
    for line in final_lines(offline_steps(STREAM)):
        assert line in out.splitlines()
    page = stepwire.decode_page(real_file(f"{PAGE}.json").read_bytes())
    listed = ", ".join(step.id for step in page.data)
    assert f"listed {len(page.data)} steps: {listed}\n" in out


def test_parquet(log: tuple[Path, list[stepwire.RunStep]], tmp_path: Path) -> None:
    path, steps = log
    # the bad line: write_parquet's default is to raise; the example's log is clean
    clean = tmp_path / "clean.ndjson"
    lines = path.read_text().splitlines(keepends=True)
    clean.write_text("".join(line for line in lines if line != '{"id": 5}\n'))
    out = run("parquet.py", clean, tmp_path / "out")
    assert f"steps: {len(steps)} rows" in out
    assert (tmp_path / "out" / "tool_calls.parquet").exists()
