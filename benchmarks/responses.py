"""Streams from a real HTTP server: CPU per event and per stream, client side.

The scenarios ``http-events`` and ``openai-stream`` of ``make bench-check``
(``benchmarks/check.py``), and ``python -m benchmarks.responses``, which prints
the same figures for every recorded stream. The server is ``stepgen.server``
in a process of its own, on 127.0.0.1, so that what is timed, this process's
CPU time (``time.process_time``), is the client's alone: the server's work and
the wait for the network are left out. Bodies go out in 256-byte chunks.

``http-events``: one call is one request, on a kept-alive ``httpx.Client``,
for a generated stream of ``EVENTS`` small events (``benchmarks.stream``'s
function-call deltas, about 150 bytes each):

* ``httpx drain``: ``for _ in response.iter_bytes(): pass``, the transport alone;
* ``stepwire iter_events``: ``for _ in stepwire.iter_events(response): pass``,
  framed, typed and merged, the response closed at the end.

``openai-stream``: one call is one ``runs.create`` of openai-python's real
client (``OpenAI(base_url=...)``, ``max_retries=0``), replaying the recorded
stream ``OPENAI_FIXTURE``:

* ``openai typed events``: ``for _ in client.beta.threads.runs.create(...,
  stream=True): pass``, openai's ``Stream`` of typed events;
* ``openai runs.stream()``: ``with runs.stream(...) as s: s.until_done()``, its
  ``AssistantEventHandler``, which keeps the snapshots;
* ``stepwire``: ``with runs.with_streaming_response.create(..., stream=True) as
  r: for _ in stepwire.iter_events(r): pass``, the same request through the
  same client, decoded by stepwire.

openai-python marks every Assistants method deprecated: the warning is
silenced around each call, here only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "EVENTS",
    "HTTP_CONTENDERS",
    "OPENAI_CONTENDERS",
    "OPENAI_FIXTURE",
    "Server",
    "http_contenders",
    "main",
    "openai_contenders",
    "real_streams",
]

EVENTS = 1_000
# A whole run's stream of 50 events: a function step completed with its output, then a
# message step and its deltas (the per-stream ratios of every recorded stream:
# docs/responses.md).
OPENAI_FIXTURE = "openai__openai-dotnet__StreamingToolCall_submit_tool_outputs"
ROOT = Path(__file__).resolve().parent.parent
REAL = Path(os.environ.get("STEPWIRE_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))
GENERATED = "generated-deltas"
HTTP_CONTENDERS = ("httpx drain", "stepwire iter_events")
OPENAI_CONTENDERS = ("openai typed events", "openai runs.stream()", "stepwire")

Run = Callable[[], Any]


class Server:
    """``python -m stepgen.server`` in a process of its own, over a fixtures directory.

    The directory holds the recorded streams (linked from ``REAL``) and the
    generated one; the process is stopped at ``close()`` (and by closing its
    stdin, should this process die first).
    """

    def __init__(self) -> None:
        self._closers: list[Callable[[], object]] = []
        self._dir = tempfile.TemporaryDirectory(prefix="stepwire-bench-http-")
        where = Path(self._dir.name)
        for path in REAL.glob("*"):
            (where / path.name).symlink_to(path)
        from benchmarks.stream import stream_bytes

        (where / f"{GENERATED}.sse").write_bytes(
            stream_bytes(EVENTS) + b"event: done\ndata: [DONE]\n\n"
        )
        self._process = subprocess.Popen(
            [sys.executable, "-m", "stepgen.server", "--port", "0", "--fixtures", str(where)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.close()
            raise RuntimeError(f"stepgen.server did not start (printed {self.url!r})")

    def base_url(self, mode: str = "plain") -> str:
        return f"{self.url}/{mode}/v1"

    def closes(self, close: Callable[[], object]) -> None:
        """Call ``close`` (a client's) at ``close()``, before the server stops."""
        self._closers.append(close)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._dir.cleanup()


def real_streams() -> list[str]:
    """The recorded streams' names (file stems), sorted."""
    return sorted(path.stem for path in REAL.glob("*.sse"))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # openai-python's Assistants methods are all @deprecated: silenced here, per call.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def http_contenders(server: Server, name: str = GENERATED) -> tuple[dict[str, Run], int]:
    """The ``http-events`` contenders for the stream ``name``, and its event count.

    Each contender runs once here and must see the whole body (the drain) or
    every event (iter_events).
    """
    import httpx

    import stepwire

    client = httpx.Client(base_url=server.base_url(), timeout=30)
    server.closes(client.close)
    url = f"/sse/{name}"

    def drain() -> int:
        size = 0
        with client.stream("GET", url) as response:
            for chunk in response.iter_bytes():
                size += len(chunk)
        return size

    def events() -> int:
        count = 0
        with client.stream("GET", url) as response:
            for _ in stepwire.iter_events(response):
                count += 1
        return count

    body = (REAL / f"{name}.sse") if name != GENERATED else None
    size = drain()
    if body is not None and size != body.stat().st_size:
        raise RuntimeError(f"{name}: drained {size} bytes, not the file's")
    count = events()
    if count == 0:
        raise RuntimeError(f"{name}: no event")
    return dict(zip(HTTP_CONTENDERS, (drain, events), strict=True)), count


def openai_contenders(server: Server, name: str = OPENAI_FIXTURE) -> dict[str, Run]:
    """The ``openai-stream`` contenders for the recorded stream ``name``.

    Each runs once here; stepwire's final snapshots must be those of a
    stepwire ``Accumulator`` fed the file itself.
    """
    import openai

    import stepwire

    client = openai.OpenAI(base_url=server.base_url(), api_key="bench", max_retries=0)
    server.closes(client.close)
    runs = client.beta.threads.runs

    def typed() -> None:
        with _quiet():
            for _ in runs.create(thread_id=name, assistant_id="asst_bench", stream=True):
                pass

    def handler() -> None:
        with _quiet(), runs.stream(thread_id=name, assistant_id="asst_bench") as stream:
            stream.until_done()

    def ours() -> Any:
        acc = stepwire.Accumulator()
        with (
            _quiet(),
            runs.with_streaming_response.create(
                thread_id=name, assistant_id="asst_bench", stream=True
            ) as response,
        ):
            for _ in stepwire.iter_events(response, acc):
                pass
        return acc

    expected = stepwire.Accumulator()
    expected.feed((REAL / f"{name}.sse").read_bytes())
    expected.close()
    if dict(ours().steps) != dict(expected.steps):
        raise RuntimeError(f"{name}: stepwire over openai's client merged other snapshots")
    typed()
    handler()
    return dict(zip(OPENAI_CONTENDERS, (typed, handler, ours), strict=True))


def main(argv: list[str] | None = None) -> int:
    """Print CPU per event (over an httpx drain) and per stream (against openai's paths)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.responses", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    from benchmarks.timing import interleaved

    server = Server()
    try:
        print(
            f"{'stream':72s} {'events':>6s} {'drain us':>9s} {'stepwire us':>11s} {'+us/event':>9s}"
        )
        for name in [GENERATED, *real_streams()]:
            runs, count = http_contenders(server, name)
            cpu = interleaved(runs, rounds=args.rounds, clock=time.process_time)
            drain, ours = cpu["httpx drain"], cpu["stepwire iter_events"]
            extra = (ours - drain) / count * 1e6
            print(f"{name:72s} {count:6d} {drain * 1e6:9.0f} {ours * 1e6:11.0f} {extra:9.2f}")
        print()
        print(f"{'stream':72s} {'typed/sw':>8s} {'handler/sw':>10s} {'stepwire us':>11s}")
        for name in real_streams():
            runs_ = openai_contenders(server, name)
            cpu = interleaved(runs_, rounds=args.rounds, clock=time.process_time)
            ours = cpu["stepwire"]
            print(
                f"{name:72s} {cpu['openai typed events'] / ours:8.2f} "
                f"{cpu['openai runs.stream()'] / ours:10.2f} {ours * 1e6:11.0f}"
            )
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
