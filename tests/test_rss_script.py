"""``python -m benchmarks.rss`` itself: the file it writes, its readers, its exit status.

On files of a few MB, so that nothing here is a memory figure: these tests say
whether the script's plumbing works and whether its limit fails when it should.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from benchmarks import rss

import stepwire

SMALL = 2 * rss.MB


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """A generated file of about 2 MB: its path, bytes and lines."""
    path = tmp_path_factory.mktemp("rss") / "steps.ndjson"
    written, lines = rss.write_ndjson(path, SMALL, batch=200)
    return path, written, lines


def test_write_ndjson_writes_distinct_steps_one_per_line(small: tuple[Path, int, int]) -> None:
    path, written, lines = small
    data = path.read_bytes()
    assert len(data) == written >= SMALL
    assert data.endswith(b"\n")
    assert data.count(b"\n") == lines
    assert len(set(data.splitlines())) == lines  # a seed per batch: no line is a repeat
    assert len(stepwire.decode_lines(data)) == lines
    assert list(path.parent.iterdir()) == [path]  # the .partial file was renamed


def test_readers_agree_on_what_they_read(small: tuple[Path, int, int]) -> None:
    path, _, lines = small
    ours = rss.measure("stepwire", path)
    theirs = rss.measure("orjson", path)
    assert (ours.lines, ours.tool_calls, ours.total_tokens) == (
        theirs.lines,
        theirs.tool_calls,
        theirs.total_tokens,
    )
    assert ours.lines == lines
    assert ours.tool_calls > 0
    assert ours.total_tokens > 0
    assert ours.seconds > 0
    assert ours.peak_rss > 0
    assert rss.peak_of(ours) >= ours.start_rss > 0


def test_under_a_generous_limit_the_exit_status_is_0(
    small: tuple[Path, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, lines = small
    assert rss.main(["--path", str(path), "--limit-mb", "10000"]) == 0
    out = capsys.readouterr().out
    assert f"reusing {path}" in out
    assert f"{lines:,} lines" in out
    for reader in rss.READERS:
        assert f"| {reader} | " in out
    assert ": under the limit of 10000 MB" in out
    assert path.exists()


def test_over_the_limit_the_exit_status_is_1(
    small: tuple[Path, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, _ = small
    assert rss.main(["--path", str(path), "--limit-mb", "1", "--no-orjson"]) == 1
    out = capsys.readouterr().out
    assert ": NOT under the limit of 1 MB" in out
    assert "| orjson |" not in out


def test_a_missing_file_is_written_and_deleted_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative path, from here: the children run elsewhere (in the repository).
    monkeypatch.chdir(tmp_path)
    argv = ["--path", "new/steps.ndjson", "--size-mb", "1", "--no-orjson", "--delete"]
    assert rss.main([*argv, "--limit-mb", "10000"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'new' / 'steps.ndjson'}" in out
    assert "| stepwire | 1,000 | " in out  # one batch of 1,000 steps passes 1 MB
    assert list(tmp_path.iterdir()) == [tmp_path / "new"]
    assert list((tmp_path / "new").iterdir()) == []


def test_an_existing_file_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "mine.ndjson"
    path.write_bytes(b"not generated\n")
    assert rss.ensure_file(path, SMALL) == (path, False)
    assert path.read_bytes() == b"not generated\n"
    with pytest.raises(subprocess.CalledProcessError) as info:
        rss.run_reader("stepwire", path)
    assert "DecodeError: line 1: JSON is malformed" in info.value.stderr


def test_the_cache_is_reused_and_rewritten_when_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rss, "CACHE", tmp_path)
    path, written = rss.ensure_file(None, rss.MB)
    assert (path, written) == (tmp_path / "steps-1MB.ndjson", True)
    assert rss.ensure_file(None, rss.MB) == (path, False)
    path.write_bytes(path.read_bytes()[: rss.MB // 2])
    assert rss.ensure_file(None, rss.MB) == (path, True)
    assert path.stat().st_size >= rss.MB


# -- python -m benchmarks.rss_parquet: the same plumbing for NDJSON to Parquet ---------


def test_the_parquet_readers_write_a_row_per_step(small: tuple[Path, int, int]) -> None:
    from benchmarks import rss_parquet

    path, _, lines = small
    ours = rss_parquet.run_reader("parquet-stepwire", path)
    theirs = rss_parquet.run_reader("parquet-duckdb", path)
    assert (ours.reader, theirs.reader) == rss_parquet.READERS
    assert ours.steps == theirs.steps == lines
    assert ours.tool_calls is not None
    assert ours.tool_calls > 0
    assert theirs.tool_calls is None  # DuckDB writes one table
    for reading in (ours, theirs):
        assert reading.seconds > 0
        assert reading.output_bytes > 0
        assert reading.peak_rss > 0
        assert rss_parquet.peak_of(reading) >= reading.start_rss > 0
    assert not list(path.parent.glob("*.parquet"))  # written elsewhere, and removed


def _two_files(small: tuple[Path, int, int], tmp_path: Path) -> tuple[Path, Path]:
    path, _, _ = small
    half = tmp_path / "half.ndjson"
    lines = path.read_bytes().splitlines(keepends=True)
    half.write_bytes(b"".join(lines[: len(lines) // 2]))
    return half, path


def test_parquet_main_under_generous_bounds_exits_0(
    small: tuple[Path, int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import rss_parquet

    half, full = _two_files(small, tmp_path)
    argv = ["--path", str(half), "--path", str(full), "--max-ratio", "100", "--flat", "100"]
    assert rss_parquet.main(argv) == 0
    out = capsys.readouterr().out
    assert "| file MB | steps | stepwire peak RSS | duckdb peak RSS |" in out
    assert out.count("ok   ") == 4  # rows on each file, the ratio on the larger, flatness
    assert out.count("info ") == 1  # the ratio on the smaller file is reported, not judged
    assert "(judged on the largest file)" in out
    assert "FAIL" not in out
    assert "(at most 100x)" in out


def test_parquet_main_past_a_bound_exits_1(
    small: tuple[Path, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import rss_parquet

    path, _, _ = small
    assert rss_parquet.main(["--path", str(path), "--max-ratio", "0.001"]) == 1
    out = capsys.readouterr().out
    assert out.count("FAIL ") == 1  # the ratio; one file has no flatness to check
    assert "x DuckDB's" in out
    assert "flat:" not in out


def test_parquet_verdicts_compare_the_largest_file_with_the_smallest() -> None:
    from benchmarks import rss_parquet

    def reading(reader: str, peak: int, steps: int = 10) -> rss_parquet.ParquetReading:
        return rss_parquet.ParquetReading(reader, steps, None, 1.0, 1, 1, peak, peak)

    rows = [
        (1000 * rss.MB, reading("parquet-stepwire", 130), reading("parquet-duckdb", 400)),
        (100 * rss.MB, reading("parquet-stepwire", 100), reading("parquet-duckdb", 300)),
    ]
    results = rss_parquet.verdicts(rows, max_ratio=0.5, flat=1.25)
    assert [ok for ok, _ in results] == [True, True, True, None, False]
    assert "1.30x its peak at 100.0 MB" in results[-1][1]
    assert rss_parquet.verdicts(rows, max_ratio=0.5, flat=1.3)[-1][0]
    # The ratio is judged on the largest file only.
    assert [ok for ok, _ in rss_parquet.verdicts(rows, max_ratio=0.3)][:4] == [
        True,
        False,
        True,
        None,
    ]
    disagree = [(rss.MB, reading("parquet-stepwire", 1, 9), reading("parquet-duckdb", 4))]
    assert [ok for ok, _ in rss_parquet.verdicts(disagree)] == [False, True]
