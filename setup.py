"""Build script: compiles stepwire's Cython modules (``src/stepwire/_*_c.pyx``).

``STEPWIRE_NO_EXTENSIONS=1`` or a non-CPython interpreter gives a pure-Python
build. Otherwise a compiler failure is an error: a build that silently drops
its extension would ship a slower library under the same version number. The
error says how to get the pure-Python build instead.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError, SetupError

HERE = Path(__file__).parent
NO_EXTENSIONS = bool(os.environ.get("STEPWIRE_NO_EXTENSIONS")) or (
    platform.python_implementation() != "CPython"
)
PURE_HINT = (
    "stepwire's compiled extension ({name}) could not be built: {error}\n"
    "Building it needs a C compiler (gcc or clang) and the Python headers "
    "(Debian/Ubuntu: apt-get install gcc python3-dev). Or install the pure-Python build "
    "(same API, slower streams):\n"
    "    STEPWIRE_NO_EXTENSIONS=1 pip install stepwire"
)


class CompilerMissingError(SetupError):  # type: ignore[misc]  # setuptools has no stubs here
    """Building the extension failed for want of a working C compiler."""


class BuildExt(build_ext):  # type: ignore[misc]
    """build_ext whose compiler failures name ``STEPWIRE_NO_EXTENSIONS=1``.

    The build still fails: a wheel without its extension is never made by accident.
    """

    def run(self) -> None:
        try:
            super().run()
        except (CCompilerError, ExecError, PlatformError) as exc:
            raise CompilerMissingError(PURE_HINT.format(name="stepwire._*_c", error=exc)) from exc

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError, OSError) as exc:
            raise CompilerMissingError(PURE_HINT.format(name=ext.name, error=exc)) from exc


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
    built: list[Extension] = cythonize(  # type: ignore[no-untyped-call, unused-ignore]
        exts,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )
    return built


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
