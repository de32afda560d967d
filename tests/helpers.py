"""Test helpers: the real recorded corpus (read in place) and the project's samples."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
# CI always has the corpus beside the checkout; STEPWIRE_FIXTURES points elsewhere.
REAL = Path(os.environ.get("STEPWIRE_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))


def real_files(suffix: str) -> list[Path]:
    """The real bodies with this suffix, or [] where the corpus is absent."""
    return sorted(REAL.glob(f"*{suffix}")) if REAL.is_dir() else []


def real_params(suffix: str) -> list[object]:
    """Parametrize over the real bodies; one visible skip where the corpus is absent."""
    files = real_files(suffix)
    if files:
        return [pytest.param(f, id=f.name) for f in files]
    reason = f"real corpus not found at {REAL} (set STEPWIRE_FIXTURES)"
    return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]


def sse_events(body: bytes) -> Iterator[tuple[str, bytes]]:
    """Minimal event-stream splitter for tests (stepwire's own framer is tested elsewhere)."""
    text = body.replace(b"\r\n", b"\n")
    for block in text.split(b"\n\n"):
        name = b"message"
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip()
            elif line.startswith(b"data:"):
                data.append(line[5:].removeprefix(b" "))
        if data:
            yield name.decode(), b"\n".join(data)


# -- streaming -----------------------------------------------------------------

#: The stream twins, by the name their module's IMPLEMENTATION gives.
STREAM_MODULES = {"python": "stepwire._stream_py", "cython": "stepwire._stream_c"}


def load_impl(name: str) -> Any:
    """The public stream classes over one twin (``.Accumulator``, ``.StreamEvent``,
    ``.IMPLEMENTATION``); skips the test when the extension was not built."""
    from stepwire._accumulate import on_twin

    module = STREAM_MODULES[name]
    try:
        twin = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if name == "cython" and exc.name == module:
            pytest.skip("built without the Cython extension")
        raise
    return on_twin(twin)


def to_json(obj: Any, *, ascii: bool = False) -> bytes:
    """Compact JSON, laid out the way the live API sends event data."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii).encode()


def frame(event: str, data: Any) -> bytes:
    """One event-stream block; ``data`` is JSON-encoded unless it is already bytes."""
    raw = data if isinstance(data, bytes) else to_json(data)
    return b"event: " + event.encode() + b"\ndata: " + raw + b"\n\n"


def step_object(
    details: dict[str, Any], step_id: str = "step_1", status: str = "in_progress"
) -> dict[str, Any]:
    """A run step body around ``details``."""
    return {
        "id": step_id,
        "object": "thread.run.step",
        "created_at": 1_700_000_000,
        "run_id": "run_1",
        "assistant_id": "asst_1",
        "thread_id": "thread_1",
        "type": details["type"],
        "status": status,
        "cancelled_at": None,
        "completed_at": None,
        "expires_at": 1_700_000_600,
        "failed_at": None,
        "last_error": None,
        "step_details": details,
        "usage": None,
    }


def tool_calls(*calls: dict[str, Any]) -> dict[str, Any]:
    """``step_details`` of a tool_calls step (or of its delta)."""
    return {"type": "tool_calls", "tool_calls": list(calls)}


def delta_object(details: dict[str, Any], step_id: str = "step_1") -> dict[str, Any]:
    """A ``thread.run.step.delta`` body carrying ``details``."""
    return {"id": step_id, "object": "thread.run.step.delta", "delta": {"step_details": details}}


def feed_through_errors(acc: Any, chunks: Any) -> list[Any]:
    """Feed ``chunks``, then close, going on after each StreamError as a caller would.

    Returns the events and the errors (``StreamError``) in the order they came,
    the events an error carried (``.events``) before it.
    """
    import stepwire

    out: list[Any] = []
    for chunk in [*chunks, None]:
        while True:
            try:
                events = acc.close() if chunk is None else acc.feed(chunk)
            except stepwire.StreamError as exc:
                out.extend(exc.events)
                out.append(exc)
                if chunk is not None:
                    chunk = b""  # the rest of the chunk stayed buffered
                continue
            out.extend(events)
            break
    return out


def accumulator_state(acc: Any) -> dict[str, Any]:
    """Everything an accumulator exposes, encoded: what two runs are compared on."""
    import stepwire

    return {
        "steps": {k: stepwire.encode(acc.steps[k]) for k in acc.steps},
        "pending": {k: [stepwire.encode(d) for d in acc.pending[k]] for k in acc.pending},
        "done": acc.done,
        "last_event_id": acc.last_event_id,
        "retry": acc.retry,
    }
