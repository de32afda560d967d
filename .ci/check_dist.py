"""``make dist-check``: what ``make dist`` built is what a release should be.

    python .ci/check_dist.py [DIST_DIR]      # default: dist/

1. One sdist and one wheel. The wheel's platform tag is manylinux (auditwheel repair),
   and it holds only what users import: the ``stepwire`` modules, the compiled
   extension, ``py.typed`` (and stubs), the metadata with the licence. No generated
   ``.c``, no ``.pyx``, no test-only module (the seeded generator, ``stepgen``), no
   tests, benchmarks or fuzz target. Both file lists are printed.
2. The sdist builds a compiled wheel from scratch in an isolated build environment
   (``pip wheel --no-cache-dir``: no wheel built earlier is reused).
3. Without a C compiler (``CC`` pointing nowhere; ``PATH`` with no compiler on it),
   building the sdist fails, and says how to get the pure-Python build
   (``STEPWIRE_NO_EXTENSIONS=1``): it never silently builds without the extension.
4. With ``STEPWIRE_NO_EXTENSIONS=1`` and no compiler, the sdist installs into a fresh
   virtual environment and imports, as the pure-Python build.

Runs with the tools environment's Python (``make tools``); needs the registry for the
build requirements and msgspec.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE_HINT = "STEPWIRE_NO_EXTENSIONS=1"
# Anywhere in the wheel or the sdist: never shipped.
FORBIDDEN = [
    (re.compile(r"\.c$"), "generated C"),
    (re.compile(r"\.(pyx|pxd)$"), "Cython source (wheel)"),
    (re.compile(r"(^|/)_generate\.py$|(^|/)stepgen(/|$)"), "the test-only generator"),
    (re.compile(r"(^|/)(tests|benchmarks|fuzz)/"), "tests, benchmarks or fuzz"),
    (re.compile(r"\.(o|a)$|(^|/)__pycache__/"), "build leftovers"),
]
WHEEL_REQUIRED = [
    r"stepwire/__init__\.py",
    r"stepwire/py\.typed",
    r"stepwire/_stream_py\.py",
    r"stepwire/_stream_c\.cpython-\d+-[^/]+\.so",
    r"stepwire/_stream_c\.pyi",  # the compiled twin's types
    r"stepwire/_columns_py\.py",
    r"stepwire/_columns_c\.cpython-\d+-[^/]+\.so",
    r"stepwire/_columns_c\.pyi",
    r"stepwire-[^/]+\.dist-info/licenses/LICENSE",
    r"stepwire-[^/]+\.dist-info/METADATA",
]
SDIST_REQUIRED = [
    r"pyproject\.toml",
    r"setup\.py",
    r"LICENSE",
    r"CHANGELOG\.md",
    r"README\.md",
    r"src/stepwire/__init__\.py",
    r"src/stepwire/py\.typed",
    r"src/stepwire/_stream_c\.pyx",
    r"src/stepwire/_stream_c\.pyi",
    r"src/stepwire/_columns_c\.pyx",
    r"src/stepwire/_columns_c\.pyi",
]


class CheckError(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckError(message)


def one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    check(len(found) == 1, f"expected one {pattern} in {dist}, found {[p.name for p in found]}")
    return found[0]


def list_and_check(kind: str, names: list[str], required: list[str], forbidden_pyx: bool) -> None:
    print(f"{kind}: {len(names)} files")
    for name in names:
        print(f"    {name}")
    bad = [
        f"{name} ({why})"
        for name in names
        for pattern, why in FORBIDDEN
        if pattern.search(name) and (forbidden_pyx or "Cython source" not in why)
    ]
    check(not bad, f"{kind} holds what it must not: {bad}")
    missing = [r for r in required if not any(re.fullmatch(r, n) for n in names)]
    check(not missing, f"{kind} lacks {missing}")


def check_wheel(wheel: Path) -> None:
    # name-version(-build)?-python-abi-platform.whl; a repaired platform tag may be
    # compound (manylinux_2_17_x86_64.manylinux2014_x86_64).
    platforms = wheel.name.removesuffix(".whl").split("-")[-1].split(".")
    print(f"wheel: {wheel.name} (platform tags {', '.join(platforms)})")
    check(
        all(p.startswith("manylinux") for p in platforms),
        f"{wheel.name}: platform tag is not manylinux (auditwheel repair not run?)",
    )
    with zipfile.ZipFile(wheel) as zf:
        names = sorted(zf.namelist())
    outside = [n for n in names if not re.match(r"stepwire(/|-[^/]+\.dist-info/|\.libs/)", n)]
    check(not outside, f"wheel holds files outside the package: {outside}")
    list_and_check("wheel", names, WHEEL_REQUIRED, forbidden_pyx=True)


def check_sdist(sdist: Path) -> None:
    with tarfile.open(sdist) as tf:
        members = sorted(m.name.split("/", 1)[1] for m in tf.getmembers() if m.isfile())
    list_and_check("sdist", members, SDIST_REQUIRED, forbidden_pyx=False)


def run(args: list[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(args), flush=True)
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False)


def pip_wheel(sdist: Path, out: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(out),
         str(sdist)],
        env=env,
    )  # fmt: skip


def check_sdist_builds(sdist: Path, tmp: Path) -> None:
    out = tmp / "from-sdist"
    result = pip_wheel(sdist, out, os.environ)
    check(result.returncode == 0, f"the sdist did not build:\n{result.stdout}{result.stderr}")
    wheel = one(out, "*.whl")
    with zipfile.ZipFile(wheel) as zf:
        compiled = [n for n in zf.namelist() if re.fullmatch(r"stepwire/_stream_c\.[^/]+\.so", n)]
    check(bool(compiled), f"{wheel.name}, built from the sdist, has no compiled extension")
    print(f"sdist -> {wheel.name}: compiled ({compiled[0]})")


def no_compiler_env(tmp: Path, how: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("STEPWIRE_NO_EXTENSIONS", None)
    if how == "CC":
        env["CC"] = "/nonexistent/cc"
    else:  # a PATH on which no compiler (nor anything else) is found
        empty = tmp / "empty-path"
        empty.mkdir(exist_ok=True)
        env.pop("CC", None)
        env["PATH"] = str(empty)
    return env


def check_no_compiler(sdist: Path, tmp: Path) -> None:
    for how in ("CC", "PATH"):
        result = pip_wheel(sdist, tmp / f"nocc-{how}", no_compiler_env(tmp, how))
        output = result.stdout + result.stderr
        check(result.returncode != 0, f"without a compiler ({how}) the sdist built a wheel")
        check(PURE_HINT in output, f"without a compiler ({how}), no {PURE_HINT} hint:\n{output}")
        hint = next(line for line in output.splitlines() if "could not be built" in line)
        print(f"no compiler ({how}): fails, saying: {hint.strip()}")


def check_pure_install(sdist: Path, tmp: Path) -> None:
    venv = tmp / "pure-venv"
    result = run([sys.executable, "-m", "venv", str(venv)])
    check(result.returncode == 0, f"venv: {result.stderr}")
    python = str(venv / "bin" / "python")
    env = no_compiler_env(tmp, "PATH") | {"CC": "/nonexistent/cc", PURE_HINT.split("=")[0]: "1"}
    result = run([python, "-m", "pip", "install", "--no-cache-dir", str(sdist)], env=env)
    check(result.returncode == 0, f"pure install failed:\n{result.stdout}{result.stderr}")
    probe = (
        "import importlib.util, stepwire; "
        "print(stepwire.__version__, stepwire.IMPLEMENTATION, "
        "importlib.util.find_spec('stepwire._stream_c') is None)"
    )
    clean = {k: v for k, v in os.environ.items() if k != "STEPWIRE_NO_EXTENSIONS"}
    result = run([python, "-c", probe], env=clean)
    check(result.returncode == 0, f"the pure build does not import:\n{result.stderr}")
    version, implementation, absent = result.stdout.split()
    check(implementation == "python" and absent == "True", f"not pure: {result.stdout}")
    print(f"{PURE_HINT} without a compiler: stepwire {version} installs, imports, pure Python")


def main(argv: list[str]) -> int:
    dist = Path(argv[0]) if argv else ROOT / "dist"
    try:
        sdist, wheel = one(dist, "*.tar.gz"), one(dist, "*.whl")
        check_wheel(wheel)
        check_sdist(sdist)
        with tempfile.TemporaryDirectory(prefix="stepwire-dist-check-") as tmp:
            check_sdist_builds(sdist, Path(tmp))
            check_no_compiler(sdist, Path(tmp))
            check_pure_install(sdist, Path(tmp))
    except CheckError as exc:
        print(f"dist-check FAILED: {exc}", file=sys.stderr)
        return 1
    print("dist-check: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
