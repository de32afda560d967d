"""Out-of-tree builds of stepwire's Cython module, for the hardening targets.

Never touches ``src/stepwire/*.so`` or ``*.c`` (the in-place build) nor the virtual
environment: the package's Python files are copied to ``OUT/stepwire`` and the
extension is cythonized and compiled there, so that ``PYTHONPATH=OUT`` imports it.

    python fuzz/build_ext.py asan OUT       # -fsanitize=address (gcc's libasan)
    python fuzz/build_ext.py warnings OUT   # fail on warnings from our .pyx

``warnings`` cythonizes with extra Cython warnings and compiles with
``gcc -O3 -Wall -Wextra`` (the optimisation level of setup.py: some warnings need it).
It fails on

- Cython warnings in our .pyx from the default set plus ``warn.unused`` (an unused
  ``cdef`` local), ``warn.multiple_declarators`` and ``warn.unreachable``;
- gcc ``-Wall -Wextra`` warnings on C lines generated from our .pyx (attributed through
  the ``/* "..._c.pyx":N`` markers Cython writes before the code of each line).

It prints, without failing on them: Cython's ``warn.unused_result`` and
``warn.maybe_uninitialized`` (both give false positives on this code: an ``except ... as
exc`` used only through an attribute, and out-parameters set by ``and``-chained scanner
calls), and gcc ``-Wconversion -Wshadow`` on our lines. Warnings from Cython's own
runtime support code are counted, not listed: they are not ours to fix.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "stepwire"
# The directives of setup.py (the .pyx header repeats the first four).
DIRECTIVES = {
    "language_level": "3",
    "boundscheck": "False",
    "wraparound": "False",
    "cdivision": "True",
    "embedsignature": "True",
}
CYTHON_FAIL = {
    "warn.unused": "True",
    "warn.multiple_declarators": "True",
    "warn.unreachable": "True",
}
CYTHON_REPORT = {"warn.unused_result": "True", "warn.maybe_uninitialized": "True"}
GCC_FAIL = ["-Wall", "-Wextra"]
GCC_REPORT = ["-Wconversion", "-Wshadow"]
FLAGS = {
    "asan": (
        ["-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer"],
        ["-fsanitize=address"],
    ),
}


def copy_package(out: Path) -> Path:
    """``src/stepwire`` without build products, as ``out/stepwire``."""
    if out.exists():
        shutil.rmtree(out)
    pkg = out / "stepwire"
    shutil.copytree(
        PACKAGE, pkg, ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__", "*.pyd")
    )
    return pkg


def cythonize(pyx: Path, extra: dict[str, str]) -> tuple[Path, list[str]]:
    """The .c beside ``pyx``, and Cython's warnings (lines of its output)."""
    c_file = pyx.with_suffix(".c")
    args = [sys.executable, "-m", "cython", "--module-name", f"stepwire.{pyx.stem}"]
    for key, value in {**DIRECTIVES, **extra}.items():
        args += ["-X", f"{key}={value}"]
    result = subprocess.run(
        [*args, str(pyx), "-o", str(c_file)], capture_output=True, text=True, check=False
    )
    output = (result.stdout + result.stderr).splitlines()
    if result.returncode != 0:
        sys.exit("\n".join(["cython failed:", *output]))
    return c_file, [line for line in output if "warning" in line.lower()]


def compile_ext(pkg: Path, mode: str) -> list[Path]:
    """Cythonize and link every ``_*_c.pyx`` of ``pkg`` in place, with ``mode``'s flags."""
    from setuptools import Distribution, Extension

    cflags, ldflags = FLAGS[mode]
    exts = []
    for pyx in sorted(pkg.glob("_*_c.pyx")):
        c_file, _ = cythonize(pyx, {})
        exts.append(
            Extension(
                f"stepwire.{pyx.stem}",
                [str(c_file)],
                extra_compile_args=cflags,
                extra_link_args=ldflags,
            )
        )
    dist = Distribution({"name": "stepwire-" + mode, "ext_modules": exts})
    cmd = dist.get_command_obj("build_ext")
    cmd.build_lib = str(pkg.parent)
    cmd.build_temp = str(pkg.parent / "tmp")
    cmd.ensure_finalized()
    cmd.run()
    return sorted(pkg.glob("_*_c*.so"))


_MARKER = re.compile(r'^\s*/\* "(?:[^"]*/)?(_\w+_c\.pyx)":(\d+)')
_GCC = re.compile(r"^(?P<file>[^:\s]+\.c):(?P<line>\d+):(?P<col>\d+): warning: (?P<msg>.*)$")


def attribute(c_file: Path) -> list[str | None]:
    """For each line of ``c_file``: ``"file.pyx:N"`` when it is generated from our .pyx."""
    owners: list[str | None] = [None]  # 1-based
    current: str | None = None
    support = False
    for line in c_file.read_text(errors="replace").splitlines():
        if line.startswith("/* --- Runtime support code"):
            support, current = True, None
        match = _MARKER.match(line)
        if match and not support:
            current = f"{match.group(1)}:{match.group(2)}"
        owners.append(current)
        if line.startswith("/* --- Runtime support code (head)"):
            support = False  # the header utilities end where the module code starts
    return owners


def gcc_warnings(c_file: Path, flags: list[str]) -> tuple[list[str], int]:
    """gcc's warnings on our lines (``pyx:N: message``), and the count of the others."""
    cc = os.environ.get("CC", "gcc")
    include = sysconfig.get_paths()["include"]
    result = subprocess.run(
        [
            cc,
            "-c",
            "-O3",
            "-fPIC",
            "-fwrapv",
            *flags,
            f"-I{include}",
            str(c_file),
            "-o",
            os.devnull,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"{cc} failed:\n{result.stderr}")
    owners = attribute(c_file)
    ours, others = [], 0
    for line in result.stderr.splitlines():
        match = _GCC.match(line)
        if not match:
            continue
        n = int(match.group("line"))
        owner = owners[n] if n < len(owners) else None
        if owner is None:
            others += 1
        else:
            ours.append(f"{owner}: {match.group('msg')} (C line {n})")
    return sorted(set(ours)), others


def check_warnings(out: Path) -> int:
    pkg = copy_package(out)
    failures = 0
    for pyx in sorted(pkg.glob("_*_c.pyx")):
        _, fail = cythonize(pyx, CYTHON_FAIL)
        _, report = cythonize(pyx, {**CYTHON_FAIL, **CYTHON_REPORT})
        c_file, _ = cythonize(pyx, {})
        report = [w for w in report if w not in fail]
        ours, others = gcc_warnings(c_file, GCC_FAIL)
        extra, extra_others = gcc_warnings(c_file, GCC_FAIL + GCC_REPORT)
        extra = [w for w in extra if w not in ours]
        print(f"{pyx.name}:")
        print(f"  Cython ({', '.join(CYTHON_FAIL)} and the defaults): {len(fail)} warning(s)")
        print("".join(f"    {w}\n" for w in fail), end="")
        print(
            f"  gcc {' '.join(GCC_FAIL)} -O3 on our lines: {len(ours)}; in Cython's code: {others}"
        )
        print("".join(f"    {w}\n" for w in ours), end="")
        print(f"  not failing: Cython {', '.join(CYTHON_REPORT)}: {len(report)}")
        print("".join(f"    {w}\n" for w in report), end="")
        print(
            f"  not failing: gcc {' '.join(GCC_REPORT)} on our lines: {len(extra)}; "
            f"in Cython's code: {extra_others - others}"
        )
        print("".join(f"    {w}\n" for w in extra), end="")
        failures += len(fail) + len(ours)
    print(f"{failures} warning(s) to fix" if failures else "no warnings from our .pyx")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("asan", "warnings"):
        print(__doc__)
        return 2
    mode, out = argv[1], Path(argv[2])
    if mode == "warnings":
        return check_warnings(out)
    pkg = copy_package(out)
    for so in compile_ext(pkg, mode):
        print(f"built {so}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
