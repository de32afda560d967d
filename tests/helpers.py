"""Test helpers: the real recorded corpus (read in place) and the project's samples."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
