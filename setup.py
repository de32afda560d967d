"""Build script: compiles stepwire's Cython modules (``src/stepwire/_*_c.pyx``).

``STEPWIRE_NO_EXTENSIONS=1`` or a non-CPython interpreter gives a pure-Python
build. Otherwise a compiler failure is an error: a build that silently drops
its extension would ship a slower library under the same version number.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
NO_EXTENSIONS = bool(os.environ.get("STEPWIRE_NO_EXTENSIONS")) or (
    platform.python_implementation() != "CPython"
)


def extensions() -> list[Extension]:
    if NO_EXTENSIONS:
        return []
    sources = sorted((HERE / "src" / "stepwire").glob("_*_c.pyx"))
    if not sources:
        return []
    from Cython.Build import cythonize

    exts = [
        Extension(
            f"stepwire.{src.stem}",
            [str(src.relative_to(HERE))],
            extra_compile_args=["-O3"] if os.name != "nt" else [],
        )
        for src in sources
    ]
    return cythonize(
        exts,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )


setup(ext_modules=extensions())
