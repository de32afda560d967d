# The compiled twin (_columns_c.pyx), for type checkers: the same surface as _columns_py.
from typing import Any

from ._rows import ColumnsBase

IMPLEMENTATION: str

class Columns(ColumnsBase):
    def add_parts(self, step: Any, details: Any, raw_details: Any) -> int: ...
