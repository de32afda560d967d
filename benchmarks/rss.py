"""``python -m benchmarks.rss``: resident memory while ``iter_lines`` reads a 1 GB NDJSON file.

Writes (once; cached under ``build/rss/``) an NDJSON file of generated run
steps, one per line, then reads it in fresh interpreters, so that neither the
writer nor an earlier reader leaves memory behind in the process measured:

* ``baseline``: the interpreter after ``import stepwire``, reading nothing;
* ``stepwire``: ``stepwire.iter_lines(file)`` over every line;
* ``orjson``: ``orjson.loads`` line by line, for comparison.

Each reader touches every step it decodes (tool calls counted, usage tokens
summed; the readers' totals must agree) and reports its peak resident memory
(``VmHWM`` from ``/proc/self/status``, and ``ru_maxrss``), its resident memory
once the imports are done, and the most ``VmRSS`` sampled while reading. The
exit status is 1 when the stepwire reader's peak reaches ``--limit-mb``.
MB are 10**6 bytes throughout.

The peak that is checked is ``VmHWM`` where there is a ``/proc``: Linux
carries the high-water mark of the process that started a child into the
child's ``ru_maxrss`` (``execve`` records the old address space's peak), so a
child started from a large process (a test runner, say) reports at least that
process's size there. The file is written in a child of its own so that this
script's process stays small and ``ru_maxrss`` stays close to ``VmHWM``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MB = 1_000_000
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "rss"  # build/ is gitignored and removed by `make clean`
READERS = ("baseline", "stepwire", "orjson")
# One read of /proc/self/status costs about 12 us: every 4,096 lines is well
# under 1% of the reading time and still catches a rise within a few MB.
SAMPLE_EVERY = 4096
# Steps per seed when writing: each seed gives different steps, and one
# batch of dicts (a few MB) is all the writer holds at a time.
BATCH = 1000


@dataclass
class Reading:
    """What one reader measured in its own process (sizes in bytes)."""

    reader: str
    lines: int
    tool_calls: int
    total_tokens: int
    seconds: float
    start_rss: int  # after the imports, before opening the file
    sampled_rss: int  # the most VmRSS seen while reading (start_rss without /proc)
    peak_rss: int  # ru_maxrss: the process's high-water mark, startup included
    hwm: int | None  # VmHWM, None without /proc


def write_ndjson(path: Path, size: int, *, batch: int = BATCH) -> tuple[int, int]:
    """Write generated run steps, one per line, until the file holds ``size`` bytes.

    Steps come from ``generate_steps(batch, seed)`` for seeds 0, 1, 2, ...,
    so lines are not repeats of one another. The file is written under a
    temporary name and renamed at the end, so an interrupted run never leaves
    a short file that a later run would take for a finished one.

    Parameters
    ----------
    path : Path
        Where to write.
    size : int
        The least number of bytes to write; the last batch may go past it.
    batch : int, default 1000
        Steps generated per seed (and held in memory at a time).

    Returns
    -------
    tuple of int
        The bytes and the lines written.
    """
    import msgspec

    from stepgen import generate_steps

    encode = msgspec.json.Encoder().encode
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = lines = 0
    seed = 0
    with partial.open("wb") as out:
        while written < size:
            chunk = b"".join(encode(step) + b"\n" for step in generate_steps(batch, seed=seed))
            out.write(chunk)
            written += len(chunk)
            lines += batch
            seed += 1
    os.replace(partial, path)
    return written, lines


def ensure_file(path: Path | None, size: int, *, fresh: bool = False) -> tuple[Path, bool]:
    """The file to read: a given one as it is, or the cached generated one.

    Parameters
    ----------
    path : Path or None
        A file to read. An existing one is never overwritten unless ``fresh``
        (it may be the caller's own data); a missing one is written.
        ``None`` means ``build/rss/steps-<size>MB.ndjson``, rewritten if it is
        shorter than ``size``.
    size : int
        Bytes to generate when the file is written.
    fresh : bool, default False
        Write the file even if it exists.

    Returns
    -------
    tuple of (Path, bool)
        The path, and whether it was written now.
    """
    if path is None:
        path = CACHE / f"steps-{size // MB}MB.ndjson"
        stale = path.exists() and path.stat().st_size < size
    else:
        stale = False
    if fresh or stale or not path.exists():
        write_ndjson(path, size)
        return path, True
    return path, False


def peak_of(reading: Reading) -> int:
    """The peak resident memory to judge: VmHWM, or ru_maxrss without /proc."""
    return reading.peak_rss if reading.hwm is None else reading.hwm


def _status() -> dict[str, int]:
    """VmRSS and VmHWM from /proc/self/status, in bytes; empty without /proc."""
    try:
        with open("/proc/self/status", "rb") as status:
            text = status.read()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith((b"VmRSS:", b"VmHWM:")):
            key, value = line.split(b":", 1)
            out[key.decode()] = int(value.split()[0]) * 1024  # reported in kB (KiB)
    return out


def _maxrss() -> int:
    """ru_maxrss of this process in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _rss() -> int:
    return _status().get("VmRSS", 0)


def _stepwire_counts(path: Path) -> Iterator[tuple[int, int]]:
    """Per line: the step's tool calls and total tokens, through iter_lines."""
    import stepwire

    tool_calls_type = stepwire.ToolCallsStepDetails
    usage_type = stepwire.Usage
    with path.open("rb") as file:
        for step in stepwire.iter_lines(file):
            details = step.step_details
            calls = len(details.tool_calls) if isinstance(details, tool_calls_type) else 0
            usage = step.usage
            yield calls, usage.total_tokens if isinstance(usage, usage_type) else 0


def _orjson_counts(path: Path) -> Iterator[tuple[int, int]]:
    """Per line: the step's tool calls and total tokens, through orjson.loads."""
    import orjson

    loads = orjson.loads
    with path.open("rb") as file:
        for line in file:
            step = loads(line)
            details = step.get("step_details") or {}
            calls = len(details["tool_calls"]) if details.get("type") == "tool_calls" else 0
            usage = step.get("usage")
            yield calls, usage["total_tokens"] if usage else 0


def measure(reader: str, path: Path) -> Reading:
    """Read ``path`` with one reader in this process and measure its memory.

    Meant to run in a fresh interpreter (``run_reader`` starts one): the peak
    figures are the whole process's.

    Parameters
    ----------
    reader : {"baseline", "stepwire", "orjson"}
        ``baseline`` imports stepwire and reads nothing.
    path : Path
        The NDJSON file.

    Returns
    -------
    Reading
    """
    # Imported before start_rss, so that the figure is what reading adds.
    importlib.import_module("orjson" if reader == "orjson" else "stepwire")
    if reader == "baseline":
        rss = _rss()
        return Reading(reader, 0, 0, 0, 0.0, rss, rss, _maxrss(), _status().get("VmHWM"))
    counts = {"stepwire": _stepwire_counts, "orjson": _orjson_counts}[reader](path)
    start_rss = sampled = _rss()
    lines = tool_calls = tokens = 0
    started = time.perf_counter()
    for calls, used in counts:
        lines += 1
        tool_calls += calls
        tokens += used
        if not lines % SAMPLE_EVERY:
            sampled = max(sampled, _rss())
    seconds = time.perf_counter() - started
    sampled = max(sampled, _rss())
    return Reading(
        reader,
        lines,
        tool_calls,
        tokens,
        seconds,
        start_rss,
        sampled,
        _maxrss(),
        _status().get("VmHWM"),
    )


def _child_env() -> dict[str, str]:
    """The environment for a reader: the same stepwire and benchmarks as this process."""
    spec = importlib.util.find_spec("stepwire")
    paths = [str(ROOT)]
    if spec is not None and spec.origin is not None:
        paths.insert(0, str(Path(spec.origin).resolve().parent.parent))
    old = os.environ.get("PYTHONPATH")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*paths, *([old] if old else [])])
    return env


def _run_child(*args: str) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh interpreter; its last line of output, parsed."""
    command = [sys.executable, "-m", "benchmarks.rss", *args]
    done = subprocess.run(
        command, env=_child_env(), capture_output=True, text=True, check=True, cwd=ROOT
    )
    out: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return out


def run_reader(reader: str, path: Path) -> Reading:
    """``measure(reader, path)`` in a fresh interpreter.

    Parameters
    ----------
    reader : {"baseline", "stepwire", "orjson"}
    path : Path

    Returns
    -------
    Reading

    Raises
    ------
    subprocess.CalledProcessError
        If the reader failed (a decode error, say); its stderr is in the error.
    """
    return Reading(**_run_child("--child", reader, "--path", str(path)))


def _mb(size: int | None) -> str:
    return "-" if size is None else f"{size / MB:.1f}"


def table(readings: Sequence[Reading], file_size: int) -> str:
    """The readings as a Markdown table (sizes in MB).

    Parameters
    ----------
    readings : sequence of Reading
    file_size : int
        The file's size in bytes, for MB/s.

    Returns
    -------
    str
    """
    rows = [
        "| reader | lines | seconds | lines/s | MB/s | RSS after imports | "
        "most VmRSS sampled | peak RSS (VmHWM) | ru_maxrss | peak - after imports |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in readings:
        if r.reader == "baseline":
            speed = ["-", "-", "-", "-"]
        else:
            speed = [
                f"{r.lines:,}",
                f"{r.seconds:.1f}",
                f"{r.lines / r.seconds:,.0f}",
                f"{file_size / MB / r.seconds:.0f}",
            ]
        sizes = [_mb(r.start_rss), _mb(r.sampled_rss), _mb(r.hwm), _mb(r.peak_rss)]
        cells = [r.reader, *speed, *sizes, _mb(peak_of(r) - r.start_rss)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Write or reuse the file, measure each reader, print the table, check the limit."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.rss",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--size-mb", type=int, default=1024, help="bytes to generate, in MB (default 1024)"
    )
    parser.add_argument(
        "--path",
        type=Path,
        help="the NDJSON file; an existing one is read as it is "
        "(default: build/rss/steps-<size>MB.ndjson, generated and cached)",
    )
    parser.add_argument(
        "--limit-mb", type=float, default=100.0, help="fail if stepwire's peak RSS reaches this"
    )
    parser.add_argument("--fresh", action="store_true", help="write the file even if it exists")
    parser.add_argument("--delete", action="store_true", help="delete the file afterwards")
    parser.add_argument("--no-orjson", action="store_true", help="skip the orjson reader")
    parser.add_argument("--child", choices=[*READERS, "write"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    size = args.size_mb * MB

    if args.child == "write":
        path, written = ensure_file(args.path, size, fresh=args.fresh)
        print(json.dumps({"path": str(path), "written": written, "peak": _status().get("VmHWM")}))
        return 0
    if args.child:
        print(json.dumps(asdict(measure(args.child, args.path))))
        return 0

    started = time.perf_counter()
    write = ["--child", "write", "--size-mb", str(args.size_mb)]
    if args.path:  # the children run in the repository's root, not in this directory
        write += ["--path", str(args.path.resolve())]
    if args.fresh:
        write.append("--fresh")
    wrote = _run_child(*write)
    path = Path(wrote["path"])
    file_size = path.stat().st_size
    if wrote["written"]:
        print(
            f"wrote {path} in {time.perf_counter() - started:.0f} s "
            f"(the writer's peak RSS: {_mb(wrote['peak'])} MB)"
        )
    else:
        print(f"reusing {path}")
    try:
        readers = [r for r in READERS if not (r == "orjson" and args.no_orjson)]
        if "orjson" in readers and importlib.util.find_spec("orjson") is None:
            print("orjson is not installed: its row is skipped")
            readers.remove("orjson")
        readings = [run_reader(reader, path) for reader in readers]
    finally:
        if args.delete:
            path.unlink()
    print(f"\nfile: {file_size / MB:,.1f} MB, {readings[1].lines:,} lines\n")
    print(table(readings, file_size))

    # Every reader read the same steps: equal totals show each one decoded them all.
    totals = {(r.lines, r.tool_calls, r.total_tokens) for r in readings[1:]}
    if len(totals) != 1:
        print(f"\nFAIL: the readers disagree on the file's contents: {sorted(totals)}")
        return 1
    peak = peak_of(readings[1])
    verdict = "under" if peak < args.limit_mb * MB else "NOT under"
    print(f"\nstepwire's peak RSS {_mb(peak)} MB: {verdict} the limit of {args.limit_mb:g} MB")
    return 0 if peak < args.limit_mb * MB else 1


if __name__ == "__main__":
    sys.exit(main())
