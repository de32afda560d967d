"""The command line's inputs: paths or ``-`` (stdin), read in turn, with progress.

Progress is one bar on stderr for all the inputs of a command, measured in bytes of
input as stored (a ``.gz`` or ``.zst`` file's compressed bytes, so that the total is the
files' sizes): bytes read, records a second, time left. It is drawn only when stderr
is a terminal and ``--quiet`` is not given, by rich (``stepwire[cli]``), imported only
then. Counting costs one call a 256 KiB block read, whatever the records.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import IO, Any

__all__ = ["STDIN", "InputError", "Inputs", "require_rich"]

#: The name that means stdin.
STDIN = "-"
# Seconds between two redraws of the bar, at most (a redraw takes about 2 ms).
_REDRAW = 0.25
# As large as block_lines asks for (256 KiB), so that the bar costs no extra reads.
_BLOCK = 1 << 18


class InputError(Exception):
    """An input that cannot be read: its name and why, for a one-line message."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


def require_rich() -> None:
    """Fail with the extra to install when rich is missing."""
    if not _has_rich():
        raise ModuleNotFoundError(
            "this needs rich, which stepwire's command line uses: pip install 'stepwire[cli]'",
            name="rich",
        )


def _has_rich() -> bool:
    import importlib.util

    return importlib.util.find_spec("rich") is not None


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "not found"
    if isinstance(exc, PermissionError):
        return "not readable (permission denied)"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    return f"not readable ({exc.strerror or type(exc).__name__})"


def _path_size(name: str) -> int | None:
    """The input's size, for a regular file (not stdin, a pipe or a FIFO)."""
    if name == STDIN:
        return None
    try:
        info = os.stat(name)
    except OSError:
        return None  # opening it says why
    return info.st_size if stat.S_ISREG(info.st_mode) else None


class _Counted(io.RawIOBase):
    """A binary file whose bytes read advance the bar.

    rich's own ``Progress.wrap_file`` refuses a task without a total (stdin, a
    pipe): this reader is the same, for any task.
    """

    def __init__(self, raw: IO[bytes], advance: Callable[[int], None]) -> None:
        self._raw = raw
        self._advance = advance

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        read = getattr(self._raw, "readinto1", None) or getattr(self._raw, "readinto")  # noqa: B009
        n: int = read(buffer) or 0
        if n:
            self._advance(n)
        return n


class Inputs:
    """The inputs of one command, opened one at a time.

    Parameters
    ----------
    names : sequence of str
        Paths, or ``-`` for stdin (at most once).
    progress : bool
        Draw the bar (when stderr is a terminal: the caller decides).
    records : callable
        How many records the command has handled so far: the bar's records a second.
    label : str
        What the bar says it is doing (``"stats"``).
    """

    def __init__(
        self,
        names: Sequence[str],
        *,
        progress: bool,
        records: Callable[[], int],
        label: str,
    ) -> None:
        self.names = list(names)
        self._records = records
        self._label = label
        self._progress: Any = None
        self._task: Any = None
        self._next_redraw = 0.0
        #: Bad records skipped (``--on-error skip``), by ``skip``.
        self.skipped = 0
        self._stack = ExitStack()
        if progress and _has_rich():  # without rich (stepwire[cli]), no bar: the rest works
            self._start()

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.text import Text

        count = self._records

        class RecordsColumn(ProgressColumn):
            """Records handled, and how many a second."""

            def render(self, task: Any) -> Text:
                n = count()
                elapsed = task.finished_time if task.finished else task.elapsed
                rate = f"{n / elapsed:,.0f}/s" if elapsed else "?/s"
                return Text(f"{n:,} records {rate}", style="progress.data.speed")

        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            RecordsColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
            # Redrawn by the reads (_advance), not by rich's thread: a redraw from another
            # thread cost 6% to 9% of stats' throughput (it takes the GIL from the decode,
            # and the caches with it), one between two reads about 1%.
            auto_refresh=False,
            # A command's stdout (validate's lines) printed above the bar when both are
            # the same terminal; left alone when it is a file or a pipe.
            redirect_stdout=sys.stdout.isatty(),
            redirect_stderr=False,
        )
        self._stack.enter_context(self._progress)
        # One bar for every input: its total is known when every input is a file.
        sizes = [_path_size(name) for name in self.names]
        total = None if None in sizes else sum(s for s in sizes if s is not None)
        self._task = self._progress.add_task(self._label, total=total)

    def skip(self, error: object) -> None:
        """Count one bad record skipped (the ``on_error`` callable of the readers)."""
        self.skipped += 1

    def _advance(self, n: int) -> None:
        """``n`` more bytes read: the bar's count, redrawn at most every ``_REDRAW`` s."""
        progress = self._progress
        progress.advance(self._task, n)
        now = time.monotonic()
        if now >= self._next_redraw:
            self._next_redraw = now + _REDRAW
            progress.refresh()

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the bar (drawn one last time: complete, when every input was read)."""
        if self._progress is not None and self._task is not None:
            task = self._progress.tasks[0]
            if task.total is None:  # stdin or a pipe: the total is what was read
                self._progress.update(self._task, total=task.completed)
            self._task = None
        self._stack.close()

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """One input as a binary file (stdin for ``-``), its bytes counted for the bar.

        Raises
        ------
        InputError
            If the path cannot be opened.
        """
        if name == STDIN:
            raw: IO[bytes] = sys.stdin.buffer
            owned = False
        else:
            try:
                raw = open(name, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise InputError(name, _reason(exc)) from None
            owned = True
        try:
            if self._progress is None:
                yield raw
                return
            shown = "<stdin>" if name == STDIN else os.path.basename(name)
            self._progress.update(self._task, description=f"{self._label} {shown}")
            counted = _Counted(raw, self._advance)
            # Buffered again: peek (compression is told by the first bytes) and read1.
            yield io.BufferedReader(counted, buffer_size=_BLOCK)
        finally:
            if owned:
                raw.close()
