"""Picks the stream twin: the compiled one, unless told otherwise or absent.

``STEPWIRE_NO_EXTENSIONS=1`` forces the pure-Python twin. Without it, the
Python one is used only when the compiled module is absent (a pure build, or
an interpreter it was not built for); a compiled module that fails to import
for any other reason is an error worth seeing, not a silent slowdown.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

NO_EXTENSIONS = bool(os.environ.get("STEPWIRE_NO_EXTENSIONS"))

TWIN: ModuleType
if TYPE_CHECKING or NO_EXTENSIONS:
    from . import _stream_py as TWIN  # noqa: N812
else:
    try:
        # import_module, not "from . import": only it says which module is missing.
        TWIN = importlib.import_module(f"{__package__}._stream_c")
    except ModuleNotFoundError as exc:  # pure builds
        if exc.name != f"{__package__}._stream_c":
            raise
        from . import _stream_py as TWIN  # noqa: N812

if TYPE_CHECKING:
    from ._stream_py import Event, Framer
else:
    Event, Framer = TWIN.Event, TWIN.Framer

IMPLEMENTATION: str = TWIN.IMPLEMENTATION

__all__ = ["IMPLEMENTATION", "NO_EXTENSIONS", "TWIN", "Event", "Framer"]
