"""Picks the stream implementation: the Cython one, unless told otherwise or absent.

``STEPWIRE_NO_EXTENSIONS=1`` forces the pure-Python reference. Without it,
the Python one is used only when the compiled module is absent (a pure build,
or an interpreter it was not built for); a compiled module that fails to
import for any other reason is an error worth seeing, not a silent slowdown.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

NO_EXTENSIONS = bool(os.environ.get("STEPWIRE_NO_EXTENSIONS"))

if TYPE_CHECKING or NO_EXTENSIONS:
    from ._stream_py import IMPLEMENTATION, Accumulator, StreamEvent
else:
    try:
        from ._stream_c import IMPLEMENTATION, Accumulator, StreamEvent
    except ModuleNotFoundError as exc:  # pragma: no cover - pure builds
        if exc.name != f"{__package__}._stream_c":
            raise
        from ._stream_py import IMPLEMENTATION, Accumulator, StreamEvent

__all__ = ["IMPLEMENTATION", "NO_EXTENSIONS", "Accumulator", "StreamEvent"]
