"""The command line in a real terminal: the progress bar, drawn in a tmux pane.

The bar (``_inputs.Inputs``) is drawn only when stderr is a terminal: each run here is a
``stepwire`` process in a detached tmux pane of its own server (``tmux -L NAME``), its
screen captured every 50 ms while it runs, its exit status written by the pane's shell to
a file once it ends. A plain subprocess, stderr to a file, gets the summary line alone.
tmux is required: CI has it, and a missing one fails these tests rather than skipping.
Every wait is bounded (a safety bound, never a timing assertion), and every tmux server
is killed at teardown.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.filesize import decimal

import stepgen

ROOT = Path(__file__).resolve().parent.parent
PYTHONPATH = f"{ROOT / 'src'}:{ROOT}"
TMUX = shutil.which("tmux")

#: Steps in the repeated block, and the least size of the big input: about 80 MB makes
#: ``convert`` to Parquet draw its bar for 2 s or more on a 2-core machine, and cost a few
#: tenths of a second to write (one block of distinct steps, repeated: duplicate ids are
#: fine for convert).
BLOCK_STEPS = 300
BIG_BYTES = 80_000_000
#: The small input: a few blocks, for the runs that need the bar's final screen only.
SMALL_BLOCKS = 2
#: Safety bounds, not timings: a run that takes longer is a hung one.
RUN_TIMEOUT = 120.0
TMUX_TIMEOUT = 10.0
POLL = 0.05
WIDTH, HEIGHT = 120, 30
#: Environment that would change how rich draws (width, colour, whether it animates), kept
#: out of the commands' (which get TERM and PYTHONPATH set besides). TMUX: the tests may
#: run in a tmux of the developer's.
UNSET = (
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "TMUX",
    "TMUX_PANE",
)

_UNIT = r"(?:bytes?|[kMGTP]B)"
#: One line of the bar, from the bytes read on (the description and bar glyphs before).
BAR = re.compile(
    rf"(?P<done>[\d,.]+)/(?P<total>[\d,.]+|\?) (?P<unit>{_UNIT})\s+"
    rf"(?P<rate>\?|[\d,.]+ {_UNIT}/s)\s+"
    r"(?P<records>[\d,]+) records (?P<per_second>\?|[\d,]+)/s"
    r"(?:\s+(?P<left>-:--:--|\d+:\d{2}:\d{2}))?"
)


@dataclass(frozen=True)
class Data:
    """An input file and the number of steps in it."""

    path: Path
    steps: int


@dataclass(frozen=True)
class Run:
    """One command's run in the pane: its exit status, the screens captured while it ran
    (until its status was written), and the screen once it had ended."""

    status: int
    screens: list[str]
    final: str


def _lines(steps: Sequence[dict[str, object]]) -> bytes:
    return "".join(json.dumps(step) + "\n" for step in steps).encode()


@pytest.fixture(scope="module")
def block() -> bytes:
    return _lines(stepgen.generate_steps(BLOCK_STEPS, seed=15))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, block: bytes) -> Data:
    path = tmp_path_factory.mktemp("terminal") / "big.ndjson"
    copies = -(-BIG_BYTES // len(block))
    with path.open("wb") as file:
        for _ in range(copies):
            file.write(block)
    return Data(path, copies * BLOCK_STEPS)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, block: bytes) -> Data:
    path = tmp_path_factory.mktemp("terminal") / "small.ndjson"
    path.write_bytes(block * SMALL_BLOCKS)
    return Data(path, SMALL_BLOCKS * BLOCK_STEPS)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in UNSET}


def _stepwire(args: Sequence[str]) -> str:
    """The shell words of ``stepwire ARGS`` run by this interpreter, from this checkout."""
    return shlex.join(
        [
            "env",
            "TERM=xterm-256color",
            f"PYTHONPATH={PYTHONPATH}",
            sys.executable,
            "-m",
            "stepwire",
            *args,
        ]
    )


class Tmux:
    """A tmux server of the test's own (``-L NAME``), one pane a run."""

    def __init__(self, tmux: str, name: str) -> None:
        self.tmux = tmux
        self.name = name
        self.env = _env()
        self.socket: str | None = None
        self.panes: list[int] = []
        self.runs = 0

    def _call(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-u", "-L", self.name, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TMUX_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"tmux {shlex.join(args)}: {done.stderr.strip()}"
        return done.stdout

    def run(self, command: str, cwd: Path) -> Run:
        """Run a shell command in a new pane of a ``WIDTH`` x ``HEIGHT`` window; its
        screens while it runs, its status and its last screen."""
        self.runs += 1
        session = f"run{self.runs}"
        status = cwd / f".status{self.runs}"
        partial = cwd / f".status{self.runs}.partial"
        status.unlink(missing_ok=True)
        script = (
            f"{command}; echo $? > {shlex.quote(str(partial))}; "
            f"mv {shlex.quote(str(partial))} {shlex.quote(str(status))}"
        )
        # The pane stays once its command ends (remain-on-exit), its screen to be read.
        self._call(
            "start-server",
            ";",
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            str(WIDTH),
            "-y",
            str(HEIGHT),
            "-c",
            str(cwd),
            "/bin/sh",
            "-c",
            script,
        )
        pane, socket = self._call(
            "display-message", "-p", "-t", session, "#{pane_pid} #{socket_path}"
        ).split(maxsplit=1)
        self.panes.append(int(pane))
        self.socket = socket.strip()
        screens: list[str] = []
        deadline = time.monotonic() + RUN_TIMEOUT
        while not status.exists():
            if time.monotonic() > deadline:
                last = screens[-1] if screens else ""
                pytest.fail(f"{command!r} still running after {RUN_TIMEOUT} s:\n{last}")
            screen = self.capture(session)
            if not screens or screen != screens[-1]:
                screens.append(screen)
            time.sleep(POLL)
        return Run(int(status.read_text()), screens, self.capture(session))

    def capture(self, session: str) -> str:
        """The pane's screen and the history above it (tmux scrolls the screen a line to
        say the pane is dead), wrapped lines joined, blank lines dropped."""
        screen = self._call("capture-pane", "-p", "-J", "-S", "-", "-t", session)
        return "\n".join(line.rstrip() for line in screen.splitlines() if line.strip())

    def kill(self) -> None:
        """Kill the server, then wait (bounded) for the panes' processes to go."""
        subprocess.run(
            [self.tmux, "-L", self.name, "kill-server"],
            env=self.env,
            capture_output=True,
            timeout=TMUX_TIMEOUT,
            check=False,
        )
        deadline = time.monotonic() + TMUX_TIMEOUT
        for pane in self.panes:  # each pane's shell leads its process group
            while _alive(pane) and time.monotonic() < deadline:
                time.sleep(POLL)
            if _alive(pane):
                os.killpg(pane, signal.SIGKILL)
        if self.socket is not None:  # tmux 3.3 leaves it behind
            Path(self.socket).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, reaped by init, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if TMUX is None:
        pytest.fail("tmux is not installed: the terminal tests need it (CI has it)")
    server = Tmux(TMUX, f"stepwire-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield server
    finally:
        server.kill()


def _bars(screens: Sequence[str]) -> list[tuple[str, re.Match[str]]]:
    """Every line of the bar in the screens, with its parsed fields."""
    return [
        (line, found)
        for screen in screens
        for line in screen.splitlines()
        if (found := BAR.search(line)) is not None
    ]


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _figure(size: str) -> str:
    """The number of a size as rich.filesize.decimal says it ("80.6" of "80.6 MB")."""
    return size.split()[0]


def _summary(steps: int, out: str) -> str:
    return f"stepwire convert: {steps:,} steps to {out}/steps.parquet and {out}/tool_calls.parquet"


def _parquet_written(out: Path) -> None:
    for name in ("steps.parquet", "tool_calls.parquet"):
        assert (out / name).is_file(), f"{out / name} not written"
        assert (out / name).stat().st_size > 0


# -- the bar, in a terminal ---------------------------------------------------------------


def test_convert_draws_the_bar_while_it_runs(tmux: Tmux, big: Data, tmp_path: Path) -> None:
    run = tmux.run(_stepwire(["convert", str(big.path), "-o", "out"]), tmp_path)
    assert run.status == 0, run.final
    _parquet_written(tmp_path / "out")
    total = decimal(big.path.stat().st_size)  # "80.6 MB": DownloadColumn's total and unit
    bars = _bars(run.screens)
    assert bars, "no progress bar on any screen:\n" + "\n---\n".join(run.screens)
    # While it runs: part of the bytes read, of the file's size; a rate; records and a
    # rate of them; a time left. Seen on more than one screen: the bar moves.
    running = [
        (line, found)
        for line, found in bars
        if found["total"] != "?"
        and _number(found["done"]) < _number(found["total"])
        and re.fullmatch(r"[\d,.]+ [kMG]B/s", found["rate"])
        and int(found["records"].replace(",", "")) > 0
        and found["per_second"] != "?"
        and found["left"] is not None
        and re.fullmatch(r"\d+:\d{2}:\d{2}", found["left"])
    ]
    assert running, "no screen shows the bar part-way, every column filled:\n" + "\n".join(
        line for line, _ in bars
    )
    for line, found in running:
        assert line.startswith(f"convert {big.path.name} "), line
        assert f"/{found['total']} {found['unit']}" == f"/{total}", line
        assert "records" in line
        assert "/s" in line
    assert len({found["done"] for _, found in running}) > 1, "the bar never moved"
    # Once it has ended: the bar complete, over the summary line.
    final_bars = _bars([run.final])
    assert len(final_bars) == 1, run.final
    line, found = final_bars[0]
    assert f"{found['done']}/{found['total']} {found['unit']}" == f"{_figure(total)}/{total}", line
    assert int(found["records"].replace(",", "")) == big.steps, line
    assert _summary(big.steps, "out") in run.final.splitlines()


def test_quiet_draws_nothing_in_a_terminal(tmux: Tmux, small: Data, tmp_path: Path) -> None:
    # The small input is enough: a bar, when drawn, is drawn as the command starts.
    run = tmux.run(_stepwire(["convert", "--quiet", str(small.path), "-o", "out"]), tmp_path)
    assert run.status == 0, run.final
    _parquet_written(tmp_path / "out")
    for screen in [*run.screens, run.final]:
        assert "records" not in screen, screen
        assert "B/s" not in screen, screen
        assert "stepwire convert:" not in screen, screen  # no summary either
        assert not _bars([screen]), screen


def test_gzip_total_is_the_compressed_size(tmux: Tmux, small: Data, tmp_path: Path) -> None:
    compressed = tmp_path / "small.ndjson.gz"
    compressed.write_bytes(gzip.compress(small.path.read_bytes(), compresslevel=1))
    stored, plain = compressed.stat().st_size, small.path.stat().st_size
    assert decimal(stored) != decimal(plain)
    # validate: it reads every byte as convert does, without pyarrow's import.
    run = tmux.run(_stepwire(["validate", str(compressed)]), tmp_path)
    assert run.status == 0, run.final
    bars = _bars([*run.screens, run.final])
    assert bars, run.final
    for line, found in bars:  # from the first screen on: the bytes as stored
        assert f"/{found['total']} {found['unit']}" == f"/{decimal(stored)}", line
        assert f"/{decimal(plain)}" not in line
    # Every stored byte read, once: the bar ends at the compressed size.
    line, found = _bars([run.final])[0]
    figure = _figure(decimal(stored))
    assert f"{found['done']}/{found['total']}" == f"{figure}/{figure}", line
    assert int(found["records"].replace(",", "")) == small.steps, line
    assert f"stepwire validate: {small.steps:,} records, valid, in 1 file" in run.final


# An input whose size is not known (stdin, a pipe, a FIFO, or a file not found: the bar's
# total is then None) with the bar on: rich's Progress.wrap_file refuses a task without a
# total (ValueError), and the command ends in "internal error". The same commands work
# with stderr not a terminal, or --quiet (the controls below).
UNSIZED = {
    "stdin-pipe": (
        "cat {small} | {stepwire}",
        ["validate", "-"],
        0,
        "stepwire validate: {steps:,} records, valid, in 1 file",
    ),
    "missing-file": (
        "{stepwire}",
        ["validate", "{small}", "missing.ndjson"],
        1,
        "missing.ndjson: not found",
    ),
}


@pytest.mark.parametrize("case", list(UNSIZED))
def test_input_of_unknown_size_in_a_terminal(
    tmux: Tmux, small: Data, tmp_path: Path, case: str
) -> None:
    shell, args, expected_status, expected_line = UNSIZED[case]
    args = [arg.format(small=small.path) for arg in args]
    expected = expected_line.format(steps=small.steps)

    def command(words: Sequence[str]) -> str:
        return shell.format(small=shlex.quote(str(small.path)), stepwire=_stepwire(words))

    # Controls: not a terminal (stdout and stderr to a file), and --quiet in the terminal.
    control = subprocess.run(
        ["/bin/sh", "-c", f"{command(args)} 2>&1"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert control.returncode == expected_status, control.stdout
    assert expected in control.stdout.splitlines(), control.stdout
    quiet = tmux.run(command([*args, "--quiet"]), tmp_path)
    assert quiet.status == expected_status, quiet.final
    assert "internal error" not in quiet.final
    # With the bar:
    run = tmux.run(command(args), tmp_path)
    assert "internal error" not in run.final, run.final
    assert run.status == expected_status, run.final
    assert expected in run.final.splitlines(), run.final


# -- not a terminal -----------------------------------------------------------------------


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "quiet"])
def test_no_bar_when_stderr_is_a_file(small: Data, tmp_path: Path, quiet: bool) -> None:
    err = tmp_path / "stderr"
    out = tmp_path / "out"
    args = ["convert", str(small.path), "-o", str(out), *(["--quiet"] if quiet else [])]
    env = _env() | {"TERM": "xterm-256color", "PYTHONPATH": PYTHONPATH}
    with err.open("wb") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "stepwire", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    text = err.read_text()
    assert done.returncode == 0, text
    assert done.stdout == b""
    _parquet_written(out)
    if quiet:
        assert text == ""
    else:  # the one summary line, and nothing of the bar
        assert text == _summary(small.steps, str(out)) + "\n"
        assert "\x1b" not in text  # no escape sequence
        assert "records" not in text
        assert "\r" not in text
