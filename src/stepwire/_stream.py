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


def pick_twin(stem: str) -> ModuleType:
    """``{stem}_c``, the compiled twin, unless told otherwise or absent; else ``{stem}_py``."""
    if not NO_EXTENSIONS:
        name = f"{__package__}.{stem}_c"
        try:
            # import_module, not "from . import": only it says which module is missing.
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:  # pure builds
            if exc.name != name:
                raise
    return importlib.import_module(f"{__package__}.{stem}_py")


TWIN: ModuleType
if TYPE_CHECKING:
    from . import _stream_py as TWIN  # noqa: N812
else:
    TWIN = pick_twin("_stream")

if TYPE_CHECKING:
    from ._stream_py import Event, Framer
else:
    Event, Framer = TWIN.Event, TWIN.Framer

IMPLEMENTATION: str = TWIN.IMPLEMENTATION

__all__ = ["IMPLEMENTATION", "NO_EXTENSIONS", "TWIN", "Event", "Framer", "pick_twin"]
