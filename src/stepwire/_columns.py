"""Run steps as columns: picks the ``Columns`` twin, as ``_stream`` picks its own.

``Columns`` grows the two tables' columns one step at a time
(``_columns_py`` is the reference, ``_columns_c`` the same loop compiled);
``_rows`` holds what they share: the columns, and every value's rule.
``STEPWIRE_NO_EXTENSIONS=1`` forces the pure-Python twin.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from ._rows import CALL_COLUMNS, STEP_COLUMNS, TEXT_COLUMNS, TIMESTAMPS, Text
from ._stream import pick_twin

TWIN: ModuleType
if TYPE_CHECKING:
    from . import _columns_py as TWIN  # noqa: N812
else:
    TWIN = pick_twin("_columns")

if TYPE_CHECKING:
    from ._columns_py import Columns
else:
    Columns = TWIN.Columns

IMPLEMENTATION: str = TWIN.IMPLEMENTATION

__all__ = [
    "CALL_COLUMNS",
    "IMPLEMENTATION",
    "STEP_COLUMNS",
    "TEXT_COLUMNS",
    "TIMESTAMPS",
    "TWIN",
    "Columns",
    "Text",
]
