"""Test helpers: the real recorded corpus (read in place), the project's samples, and the
suite's depth (``STEPWIRE_TEST_SCALE``)."""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
# CI always has the corpus beside the checkout; STEPWIRE_FIXTURES points elsewhere.
REAL = Path(os.environ.get("STEPWIRE_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))


# -- depth ------------------------------------------------------------------------

#: How deep the suite goes: a factor on its random examples and repetition counts (each
#: hypothesis test's ``max_examples``, the short fuzz run, the thread tests' rounds), never
#: on its cases: every test, parameter and assertion runs at any scale. 1.0 (the default) is
#: what ``make test`` and every developer target run; CI's version-matrix legs run a
#: smaller one (.ci/legs.py, docs/ci.md), the make-test leg the full one.
SCALE_VARIABLE = "STEPWIRE_TEST_SCALE"
#: The fewest hypothesis examples a test runs at any scale.
MIN_EXAMPLES = 10


def _read_scale(raw: str | None) -> float:
    if raw is None or not raw.strip():
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{SCALE_VARIABLE}={raw!r}: expected a number above 0, such as 0.2")
    return value


SCALE = _read_scale(os.environ.get(SCALE_VARIABLE))


def scaled(count: int, minimum: int = 1) -> int:
    """``count`` repetitions at the suite's scale: never fewer than ``minimum`` (nor than
    ``count`` itself, where that is fewer)."""
    return max(min(count, minimum), round(count * SCALE))


def examples(count: int) -> int:
    """A hypothesis test's ``max_examples`` at the suite's scale (at least MIN_EXAMPLES)."""
    return scaled(count, MIN_EXAMPLES)


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


def real_file(name: str) -> Path:
    """The recorded body of this file name: a visible skip where the corpus is absent, an
    error where it is there and lacks the name (a typo must not skip silently)."""
    if not REAL.is_dir():
        pytest.skip(f"real corpus not found at {REAL} (set STEPWIRE_FIXTURES)")
    path = REAL / name
    if not path.is_file():
        raise LookupError(f"{name}: not in the recorded corpus at {REAL}")
    return path


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


def forget_learned_shapes() -> None:
    """Give stepwire's shared decoders (``decode_*``, the accumulators', the summaries') a
    fresh memory.

    A decoder learns the unknown shapes the fallback meets (``_twins``), and what it
    learned decides the key order of an unknown object whose keys come in another order
    (docs/limits.md): a test that compares two decodes of one body must not depend on
    the bodies earlier tests (random hypothesis examples among them) taught the decoders.
    """
    from stepwire import _decode, _summary
    from stepwire._twins import Twins

    for decoder in _decode._DECODERS.values():
        decoder._twins = Twins(decoder.type)
    _summary._details_decoder.cache_clear()  # RunStepSummary.details()'s, built on first use


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


def assistants_deprecated() -> Any:
    """openai-python's Assistants methods are ``@deprecated``: each call warns, here expected.

    By category only: the message is openai-python's, not ours to match on (PT030).
    """
    return pytest.warns(DeprecationWarning)  # noqa: PT030
