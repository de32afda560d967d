"""CI's legs, run two at a time (the machine's two cores), then a summary table.

    python3 .ci/legs.py                 # every leg (what .ci/run does)
    python3 .ci/legs.py lowest py3.12   # these legs, and the legs they need (sdist, dist)
    python3 .ci/legs.py --list

A leg is a fresh virtual environment under build/ci/<leg>/, an install, and a test run;
its output goes to build/ci/<leg>.log. The legs (docs/ci.md says more):

- venv: ``make install`` (.venv, the source tree) and ``make install-spark`` (what the
  spark extra adds); make-test, warnings, lint: the developer targets, in .venv.
- sdist, dist: ``make sdist``, ``make wheel`` (the manylinux wheel, built for Python 3.12:
  CI's tools environment, build/ci/tools, is on 3.12); dist-check: ``make dist-check``.
- py3.12: the suite against dist/'s repaired wheel, what users install; py3.13: the suite,
  the extension compiled from the sdist. (3.11, compiled: make-test; 3.10: lowest.)
- pure: the suite on the pure-Python build (``STEPWIRE_NO_EXTENSIONS=1``), Python 3.10
  with the newest dependencies, openai's newest in the openai extra's range included (the
  bench extra's pin lifted).
- lowest: Python 3.10, every ranged dependency at its floor (.ci/constraints-lowest.txt),
  build requirements included, then tests_spark/; the newest releases are what the other
  legs get.
- msgspec-releases: the decode-error tests against every msgspec release in range.
- spark: ``make test-spark`` in .venv; bench-spark: ``make bench-spark`` (the floor's two
  jobs), alone (it times Spark jobs).
- docs: ``make docs`` in .venv: the documentation site, ``mkdocs build --strict`` (what
  the docs extra adds, pinned, installed by the target).
- bench-check: ``make bench-check``, last and alone (it measures speed ratios).

make-test runs the suite at full depth; the legs that run it elsewhere (py3.12, py3.13,
pure, lowest, msgspec-releases) at STEPWIRE_TEST_SCALE=MATRIX_SCALE: fewer hypothesis
examples and repetitions, every test and case (tests/helpers.py).

Every leg runs with one pip cache (build/pip-cache), even where the environment sets
PIP_NO_CACHE_DIR, no .pyc compiled at install, and bytecode cached under build/ci/pycache
(not PYTHONDONTWRITEBYTECODE). An interpreter that is missing fails its leg, by name.
Exit status 1 when any leg failed; the log tail of each failed leg is printed. CI_JOBS
sets how many legs run at a time (2; 3 measured no faster: the CPUs are busy throughout).
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
CI_DIR = ROOT / "build" / "ci"
PIP_CACHE = ROOT / "build" / "pip-cache"
PYCACHE = CI_DIR / "pycache"
DIST = ROOT / "dist"
# CI's own tools environment (``make tools``, the release tools), on WHEEL_PYTHON: `make
# wheel` builds dist/'s wheel for the tools' Python, and the py3.12 leg tests that wheel.
# Its own directory, so that a developer's build/tools (on python3) is neither reused nor
# replaced.
WHEEL_PYTHON = "3.12"
TOOLS = CI_DIR / "tools"
TOOLS_PY = TOOLS / "bin" / "python"
LOWEST = ROOT / ".ci" / "constraints-lowest.txt"
# The extra that brings everything the suite needs (test pulls in bench and fuzz).
EXTRAS = "[test]"
PYTEST = ["-m", "pytest", "-p", "no:cacheprovider"]
# No .pyc compiled at install (numpy, matplotlib, openai: thousands of files, most never
# imported by the suite); what is imported compiles on import.
PIP_INSTALL = ["-m", "pip", "install", "--no-compile"]
# The test files run against every msgspec release in range: the decode-error tests.
MSGSPEC_TESTS = ["tests/test_decode_errors.py"]
JOBS = int(os.environ.get("CI_JOBS", "2"))
# The suite's depth in the version-matrix legs (STEPWIRE_TEST_SCALE, tests/helpers.py): the
# hypothesis examples and repetition counts times this, every test and case still run.
# make-test (and every make target) runs at the full depth, 1.
MATRIX_SCALE = "0.2"
TAIL = 60


class LegError(Exception):
    pass


class MissingPythonError(LegError):
    pass


@dataclass
class Leg:
    name: str
    run: Callable[[Context], None]
    after: tuple[str, ...] = ()
    alone: bool = False  # nothing else runs meanwhile (timings)
    about: str = ""
    # Legs to wait for, whatever their result (ordering only).
    then: tuple[str, ...] = ()
    installed: bool = False  # its environment got as far as its tests


@dataclass
class Result:
    status: str = "not run"
    seconds: float = 0.0
    python: str = ""
    msgspec: str = ""
    tests: str = ""
    scale: str = ""  # STEPWIRE_TEST_SCALE of the leg's suite
    notes: list[str] = field(default_factory=list)


# Only one step at a time may write into the source tree (src/*.egg-info, the .c that
# cythonize writes beside the .pyx): `make install` and `make sdist`.
TREE_LOCK = threading.Lock()


def find_python(version: str) -> str:
    """An interpreter for ``version`` (``3.12``): on PATH, then under pyenv's versions."""
    name = f"python{version}"
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(name), f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
    candidates += sorted(glob.glob(str(pyenv / "versions" / f"{version}.*" / "bin" / name)))
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )  # a pyenv shim for a version it does not select exits non-zero
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise MissingPythonError(
        f"{name} not found (looked on PATH, in /usr/bin, /usr/local/bin and "
        f"{pyenv}/versions/{version}.*): install Python {version}, e.g. `pyenv install {version}`"
    )


class Context:
    """One leg's log, environment and venv."""

    def __init__(self, leg: Leg, env: Mapping[str, str]) -> None:
        self.leg = leg
        self.dir = CI_DIR / leg.name
        self.log_path = CI_DIR / f"{leg.name}.log"
        self.env = dict(env) | {"HYPOTHESIS_STORAGE_DIRECTORY": str(self.dir / "hypothesis")}
        self.result = Result()
        self.log: IO[str] | None = None
        self.closing_lines: list[str] = []  # of every pytest run in the leg

    def say(self, text: str) -> None:
        assert self.log is not None
        self.log.write(text + "\n")
        self.log.flush()

    def sh(
        self,
        args: Sequence[str | Path],
        *,
        env: Mapping[str, str] | None = None,
        tree: bool = False,
        check: bool = True,
    ) -> str:
        """Run a command from the repository's root, its output into the log."""
        assert self.log is not None
        extra = dict(env or {})
        shown = " ".join([*(f"{k}={v}" for k, v in extra.items()), *map(str, args)])
        self.say(f"\n$ {shown}")
        lock = TREE_LOCK if tree else None
        if lock:
            lock.acquire()
        start = time.monotonic()
        try:
            proc = subprocess.run(
                list(map(str, args)),
                cwd=ROOT,
                env=self.env | extra,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                check=False,
            )
        finally:
            if lock:
                lock.release()
        self.log.write(proc.stdout)
        self.say(f"[exit {proc.returncode}, {time.monotonic() - start:.1f} s]")
        if check and proc.returncode != 0:
            raise LegError(f"exit {proc.returncode}: {shown}")
        return proc.stdout

    # -- the steps legs share ------------------------------------------------------------

    def venv(self, version: str) -> Path:
        """A fresh venv under build/ci/<leg>/venv; its python."""
        base = find_python(version)
        venv = self.dir / "venv"
        shutil.rmtree(venv, ignore_errors=True)
        self.sh([base, "-m", "venv", venv])
        return venv / "bin" / "python"

    def build_wheel(self, python: Path, *, isolated: bool = True) -> Path:
        """The wheel of the sdist in dist/, built for ``python`` (no wheel cache reused)."""
        out = self.dir / "wheel"
        shutil.rmtree(out, ignore_errors=True)
        args: list[str | Path] = [
            python,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-cache-dir",
            "-w",
            out,
        ]
        if not isolated:
            args.append("--no-build-isolation")
        self.sh([*args, sdist()])
        (wheel,) = out.glob("stepwire-*.whl")
        self.result.notes.append(wheel.name)
        return wheel

    def pytest(
        self, python: Path, files: Sequence[str] = (), *, scale: str = "1", **env: str
    ) -> str:
        """The suite (or ``files``) against what ``python``'s venv installed, at ``scale``."""
        self.leg.installed = True
        expect = {"STEPWIRE_EXPECT_BUILD": str(python.parent.parent)}
        self.result.scale = scale
        depth = {"STEPWIRE_TEST_SCALE": scale}
        out = self.sh([python, *PYTEST, *files], env=expect | depth | env, check=False)
        self.tests_ran(out, "pytest")
        return out

    def tests_ran(self, out: str, what: str) -> None:
        """Record pytest's summary line from ``out``; fail unless tests passed and none failed."""
        self.result.tests = closing_line(out)
        self.closing_lines.append(self.result.tests)
        if not re.search(r"\b\d+ passed\b", self.result.tests) or re.search(
            r"\b\d+ (failed|errors?)\b", self.result.tests
        ):
            raise LegError(f"{what}: {self.result.tests or 'no summary line'}")

    def describe(self, python: Path, **env: str) -> None:
        """Record the leg's Python and msgspec versions, and the stream build imported."""
        probe = (
            "import platform, msgspec, stepwire; "
            "print(platform.python_version(), msgspec.__version__, stepwire.IMPLEMENTATION)"
        )
        out = self.sh([python, "-c", probe], env=env).split()
        self.result.python, self.result.msgspec = out[-3], out[-2]
        self.result.notes.append(f"stream build: {out[-1]}")


def closing_line(output: str) -> str:
    """pytest's last summary line (``== 1324 passed, 3 skipped in 90.1s ==``), bare."""
    for line in reversed(output.splitlines()):
        if re.search(r"\b(passed|failed|errors?|no tests ran)\b.* in [\d.]+s", line):
            return line.strip("= ")
    return ""


def sdist() -> Path:
    found = sorted(DIST.glob("stepwire-*.tar.gz"))
    if len(found) != 1:
        raise LegError(f"expected one sdist in {DIST}, found {[p.name for p in found]}")
    return found[0]


# -- the legs ------------------------------------------------------------------------------


def venv_python() -> Path:
    return ROOT / ".venv" / "bin" / "python"


def make_install(ctx: Context) -> None:
    ctx.sh(["make", "install"], tree=True)
    # What the spark extra adds (pyspark), now, before any other leg uses .venv: the spark
    # leg's `make test-spark` finds it installed and needs no leg to be done with .venv.
    ctx.sh(["make", "install-spark"])
    ctx.describe(venv_python())


def make_test(ctx: Context) -> None:
    ctx.describe(venv_python())
    ctx.result.scale = "1"  # STEPWIRE_TEST_SCALE is not set (ci_env): the full depth
    out = ctx.sh(["make", "test", "PYTEST_ARGS=-p no:cacheprovider"], check=False)
    ctx.tests_ran(out, "make test")
    if "make: ***" in out:
        raise LegError(f"make test: {ctx.result.tests}")


def make_target(target: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        ctx.describe(venv_python())
        ctx.sh(["make", target])

    return run


def spark(ctx: Context) -> None:
    """stepwire.spark on a local Spark: ``make test-spark`` (pyspark in .venv, the venv
    leg's); then bench-spark's input files, written here rather than in that leg, alone."""
    ctx.describe(venv_python())
    out = ctx.sh(["make", "test-spark"], check=False)
    ctx.tests_ran(out, "make test-spark")
    if "make: ***" in out:
        raise LegError(f"make test-spark: {ctx.result.tests}")
    probe = "import pyspark; print(pyspark.__version__)"
    ctx.result.notes.append(f"pyspark {ctx.sh([venv_python(), '-c', probe]).split()[-1]}")
    ctx.sh([venv_python(), "-m", "benchmarks.spark_bench", "--write-only"])


def bench_spark(ctx: Context) -> None:
    """``make bench-spark``: stepwire.spark's speed floor against spark.read.json, the two
    jobs the floor compares (``--judged-only``: not the two it only reports)."""
    ctx.describe(venv_python())
    bench = ctx.sh(["make", "bench-spark", "BENCH_SPARK_ARGS=--judged-only"], check=False)
    floor = [line for line in bench.splitlines() if line.startswith("floor:")]
    ctx.result.notes += floor
    if "make: ***" in bench or not floor:
        raise LegError(f"make bench-spark: {floor[0] if floor else 'no floor line'}")


def tools_python(ctx: Context) -> None:
    probe = "import platform; print(platform.python_version())"
    ctx.result.python = ctx.sh([TOOLS_PY, "-c", probe]).split()[-1]


def make_tools(target: str) -> list[str]:
    """``make target`` with CI's tools environment (TOOLS, on WHEEL_PYTHON)."""
    return ["make", target, f"TOOLS={TOOLS}", f"PYTHON={find_python(WHEEL_PYTHON)}"]


def make_sdist(ctx: Context) -> None:
    ctx.sh(make_tools("tools"))
    ctx.sh(make_tools("sdist"), tree=True)
    ctx.result.notes.append(sdist().name)
    tools_python(ctx)


def dist(ctx: Context) -> None:
    ctx.sh(make_tools("wheel"))
    ctx.result.notes += [p.name for p in sorted(DIST.glob("*.whl"))]
    tools_python(ctx)


def dist_check(ctx: Context) -> None:
    tools_python(ctx)
    ctx.sh(make_tools("dist-check"))
    ctx.sh([TOOLS_PY, ".ci/deps.py", "check-lowest"])


def source_leg(version: str) -> Callable[[Context], None]:
    """The suite on ``version``, the extension compiled from the sdist."""

    def run(ctx: Context) -> None:
        python = ctx.venv(version)
        wheel = ctx.build_wheel(python)
        ctx.sh([python, *PIP_INSTALL, f"{wheel}{EXTRAS}"])
        ctx.describe(python)
        ctx.pytest(python, scale=MATRIX_SCALE)

    return run


def dist_wheel(version: str) -> Path:
    """dist/'s repaired wheel for ``version`` (``make wheel`` on WHEEL_PYTHON)."""
    tag = f"cp{version.replace('.', '')}"
    wheels = sorted(DIST.glob(f"stepwire-*-{tag}-{tag}-manylinux*.whl"))
    if len(wheels) != 1:
        raise LegError(f"expected one {tag} manylinux wheel in dist/, found {wheels}")
    return wheels[0]


def wheel_leg(version: str) -> Callable[[Context], None]:
    """The suite against the repaired wheel in dist/: what users would install (built from
    the sdist, the extension compiled, repaired to manylinux)."""

    def run(ctx: Context) -> None:
        python = ctx.venv(version)
        wheel = dist_wheel(version)
        ctx.result.notes.append(wheel.name)
        ctx.sh([python, *PIP_INSTALL, f"{wheel}{EXTRAS}"])
        ctx.describe(python)
        ctx.pytest(python, scale=MATRIX_SCALE)

    return run


# The pure build's Python: the oldest supported, with the newest dependencies that support it.
PURE_PYTHON = "3.10"
# Run in an environment where stepwire is installed: whether any compiled module of it is.
COMPILED_PROBE = (
    "import importlib.util, pkgutil, stepwire; "
    "found = [m.name for m in pkgutil.iter_modules(stepwire.__path__) "
    "if importlib.util.find_spec('stepwire.' + m.name).origin.endswith('.so')]; "
    "print('compiled:', ' '.join(found) or 'none')"
)


def pure(ctx: Context) -> None:
    """The pure-Python build, on Python 3.10 with the newest dependencies (the only leg with
    both: lowest is 3.10 at the floors): built and tested with STEPWIRE_NO_EXTENSIONS=1."""
    python = ctx.venv(PURE_PYTHON)
    ctx.env["STEPWIRE_NO_EXTENSIONS"] = "1"
    wheel = ctx.build_wheel(python)
    if not wheel.name.endswith("-py3-none-any.whl"):
        raise LegError(f"STEPWIRE_NO_EXTENSIONS=1 built {wheel.name}, not a pure wheel")
    ctx.sh([python, *PIP_INSTALL, f"{wheel}{EXTRAS}"])
    # The openai extra's newest release: the bench extra pins openai (a floor compares the
    # same release from run to run), which the suite's other legs install; this one lifts
    # the pin, so that the interop tests (from_openai, to_openai, iter_events and iter_steps
    # over openai's clients) also run at the range's top. pip says the pin conflicts.
    interop = ctx.sh([TOOLS_PY, ".ci/extra_requirements.py", "openai"]).split()
    ctx.sh([python, *PIP_INSTALL, "--upgrade", *interop])
    openai_version = ctx.sh([python, "-c", "import openai; print(openai.__version__)"])
    ctx.result.notes.append(f"openai {openai_version.split()[-1]}")
    compiled = ctx.sh([python, "-c", COMPILED_PROBE]).split()[-1]
    if compiled != "none":
        raise LegError(f"the pure build's environment holds compiled modules: {compiled}")
    ctx.describe(python)
    ctx.pytest(python, scale=MATRIX_SCALE)


def lowest(ctx: Context) -> None:
    """Python 3.10, every ranged dependency at its floor, the build requirements too (and
    pyspark's: tests_spark/ runs there as well)."""
    python = ctx.venv("3.10")
    pip: list[str | Path] = [python, *PIP_INSTALL, "-c", LOWEST]
    ctx.sh([*pip, "setuptools", "Cython"])  # at their floors: the constraints file pins them
    wheel = ctx.build_wheel(python, isolated=False)
    # The spark extra too: pyspark at its floor, with tests_spark/ after the suite.
    ctx.sh([*pip, f"{wheel}[test,spark]"])
    ctx.sh([TOOLS_PY, ".ci/deps.py", "check-installed", python])
    ctx.describe(python)
    ctx.pytest(python, scale=MATRIX_SCALE)
    suite = ctx.result.tests
    ctx.pytest(python, ["tests_spark"], scale=MATRIX_SCALE)
    ctx.result.tests = f"{suite}; tests_spark: {ctx.result.tests}"


def msgspec_releases(ctx: Context) -> None:
    """The decode-error tests against every msgspec release the declared range admits."""
    releases = ctx.sh([TOOLS_PY, ".ci/deps.py", "msgspec-releases"]).split()
    ctx.say(f"msgspec releases in range: {' '.join(releases)}; tests: {' '.join(MSGSPEC_TESTS)}")
    # The py3.12 leg's environment (dist/'s wheel) once its suite has run (its install,
    # not its result, is what is needed); a fresh one where that leg did not get as far.
    python = CI_DIR / "py3.12" / "venv" / "bin" / "python"
    if BY_NAME["py3.12"].installed:
        ctx.say(f"reusing {python.parent.parent} (the py3.12 leg's)")
    else:
        python = ctx.venv("3.12")
        ctx.sh([python, *PIP_INSTALL, f"{dist_wheel('3.12')}{EXTRAS}"])
    newest = ctx.sh([python, "-c", "import msgspec; print(msgspec.__version__)"]).split()[-1]
    ctx.describe(python)
    outcomes: list[str] = []
    failed: list[str] = []
    try:
        for release in releases:
            ctx.sh([python, *PIP_INSTALL, f"msgspec=={release}"])
            try:
                ctx.pytest(python, MSGSPEC_TESTS, scale=MATRIX_SCALE)
                outcomes.append(f"{release} passed")
            except LegError as exc:
                outcomes.append(f"{release} FAILED ({exc})")
                failed.append(release)
    finally:  # as the environment was
        ctx.sh([python, *PIP_INSTALL, f"msgspec=={newest}"])
    ctx.result.msgspec = f"{releases[0]}..{releases[-1]} ({len(releases)})"
    ctx.result.tests = f"{len(releases) - len(failed)} of {len(releases)} releases passed"
    ctx.result.notes = [*outcomes, f"files: {' '.join(MSGSPEC_TESTS)}"]
    ctx.say("\n".join(["", "msgspec releases:", *outcomes]))
    if failed:
        raise LegError(f"msgspec {', '.join(failed)} failed {' '.join(MSGSPEC_TESTS)}")


LEGS = [
    # `make sdist` first, by itself: it and `make install` write into the source tree.
    Leg("sdist", make_sdist, about="make sdist (and make tools)"),
    Leg("dist", dist, ("sdist",), about="make wheel: the wheel built from the sdist, manylinux"),
    Leg("venv", make_install, ("sdist",), about="make install: .venv, the source tree installed"),
    Leg("lowest", lowest, ("sdist",), about="the suite, Python 3.10, every floor"),
    Leg("py3.12", wheel_leg("3.12"), ("dist",), about="the suite on dist/'s repaired wheel"),
    Leg("py3.13", source_leg("3.13"), ("sdist",), about="the suite, compiled from the sdist"),
    Leg("make-test", make_test, ("venv",), about="make test: the suite in .venv, full depth"),
    Leg(
        "msgspec-releases",
        msgspec_releases,
        ("dist",),
        then=("py3.12",),
        about="the decode-error tests on every msgspec in range (py3.12's venv)",
    ),
    Leg("pure", pure, ("sdist",), about="the suite, STEPWIRE_NO_EXTENSIONS=1 (Python 3.10)"),
    # A JVM and pyspark: the tests, with the other legs (the venv leg installed the spark
    # extra into .venv); the speed floor against spark.read.json, alone.
    Leg("spark", spark, ("venv",), about="make test-spark (.venv, with the spark extra)"),
    Leg("dist-check", dist_check, ("dist",), about="make dist-check, deps.py check-lowest"),
    Leg("lint", make_target("lint"), ("venv",), about="make lint"),
    Leg("warnings", make_target("warnings"), ("venv",), about="make warnings"),
    Leg("docs", make_target("docs"), ("venv",), about="make docs: the site, mkdocs --strict"),
    Leg(
        "bench-spark",
        bench_spark,
        ("spark",),
        alone=True,
        about="make bench-spark: read_steps at least 1.0x spark.read.json",
    ),
    # Last, when every other leg has finished: it measures speed ratios.
    Leg("bench-check", make_target("bench-check"), ("venv",), alone=True, about="make bench-check"),
]
BY_NAME = {leg.name: leg for leg in LEGS}


def with_prerequisites(names: Sequence[str]) -> list[Leg]:
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in BY_NAME:
            raise SystemExit(f"no leg {name!r}; the legs: {', '.join(BY_NAME)}")
        if name not in wanted:
            wanted.add(name)
            for dep in BY_NAME[name].after:
                add(dep)

    for name in names:
        add(name)
    return [leg for leg in LEGS if leg.name in wanted]


def ci_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PIP_NO_CACHE_DIR", None)  # one cache for every leg's downloads
    env["PIP_CACHE_DIR"] = str(PIP_CACHE)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # No .pyc compiled at install by any pip run, make install's included (PIP_INSTALL's
    # --no-compile, for every install): what is imported compiles once, on import. (Not
    # PIP_NO_COMPILE=1: pip reads a "no-" option's variable inverted, and compiles.)
    env["PIP_COMPILE"] = "0"
    # Bytecode written once and read back, under build/ci/pycache (not in the tree): the
    # installs compile none (--no-compile), and with PYTHONDONTWRITEBYTECODE every Python
    # process (each pytest run, every subprocess of the suite) would compile again all it
    # imports, pytest's assertion rewriting of the tests included.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    for name in ("STEPWIRE_NO_EXTENSIONS", "STEPWIRE_EXPECT_BUILD", "STEPWIRE_TEST_SCALE"):
        env.pop(name, None)  # each leg sets its own
    return env


def run_leg(ctx: Context) -> None:
    ctx.dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with ctx.log_path.open("w") as log:
        ctx.log = log
        ctx.say(f"# leg {ctx.leg.name}: {ctx.leg.about}")
        try:
            ctx.leg.run(ctx)
            ctx.result.status = "passed"
        except MissingPythonError as exc:
            ctx.result.status = "MISSING"
            ctx.result.notes.append(str(exc))
            ctx.say(f"\nMISSING: {exc}")
        except LegError as exc:
            ctx.result.status = "FAILED"
            ctx.result.notes.append(str(exc))
            ctx.say(f"\nFAILED: {exc}")
        except Exception as exc:  # a bug of this script: the leg fails, the others go on
            ctx.result.status = "FAILED"
            ctx.result.notes.append(f"{type(exc).__name__}: {exc}")
            ctx.say(f"\nFAILED: {type(exc).__name__}: {exc}")
        finally:
            ctx.log = None
    ctx.result.seconds = time.monotonic() - start


def progress(line: str) -> None:
    sys.stdout.write(f"[{time.strftime('%H:%M:%S')}] {line}\n")
    sys.stdout.flush()


def schedule(legs: list[Leg], jobs: int) -> dict[str, Context]:
    env = ci_env()
    contexts = {leg.name: Context(leg, env) for leg in legs}
    pending = list(legs)
    running: dict[str, threading.Thread] = {}
    done: set[str] = set()
    cond = threading.Condition()

    def worker(ctx: Context) -> None:
        run_leg(ctx)
        with cond:  # also keeps the progress lines whole
            done.add(ctx.leg.name)
            running.pop(ctx.leg.name, None)
            cond.notify_all()
            r = ctx.result
            progress(f"{ctx.leg.name}: {r.status} ({r.seconds:.0f} s) {r.tests}".rstrip())

    def ready(leg: Leg) -> bool:
        deps = [d for d in (*leg.after, *leg.then) if d in contexts]
        if not all(d in done for d in deps):
            return False
        if leg.alone:  # after every other leg, and by itself
            return not running and all(other.alone for other in pending)
        return not any(BY_NAME[name].alone for name in running)

    def blocked(leg: Leg) -> bool:
        """A leg it needs did not pass: it cannot run."""
        return any(
            d in done and contexts[d].result.status != "passed" for d in leg.after if d in contexts
        )

    with cond:
        while pending or running:
            for leg in list(pending):
                if blocked(leg):
                    pending.remove(leg)
                    contexts[leg.name].result.status = "skipped"
                    contexts[leg.name].result.notes.append("a leg it needs did not pass")
                    done.add(leg.name)
                elif len(running) < jobs and ready(leg):
                    pending.remove(leg)
                    progress(f"{leg.name}: started")
                    thread = threading.Thread(target=worker, args=(contexts[leg.name],))
                    running[leg.name] = thread
                    thread.start()
                    if leg.alone:
                        break
            if pending or running:
                cond.wait(timeout=5)
    return contexts


def summary(contexts: Mapping[str, Context], total: float) -> str:
    rows = [("leg", "python", "msgspec", "result", "seconds", "scale", "tests")]
    rows += [
        (
            name,
            ctx.result.python or "-",
            ctx.result.msgspec or "-",
            ctx.result.status,
            f"{ctx.result.seconds:.0f}",
            ctx.result.scale or "-",
            ctx.result.tests or "-",
        )
        for name, ctx in contexts.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"total: {total:.0f} s, {JOBS} at a time; logs in {CI_DIR.relative_to(ROOT)}/")
    notes = [f"  {name}: {note}" for name, ctx in contexts.items() for note in ctx.result.notes]
    return "\n".join([*lines, "", "notes:", *notes])


def tally(contexts: Iterable[Context]) -> str:
    """Every leg's pytest counts added up, as one plain closing line."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for ctx in contexts:
        for lines in ctx.closing_lines:
            for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)\b", lines):
                key = "failed" if word.startswith("error") else word
                counts[key] += int(number)
    return (
        f"tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("legs", nargs="*", help="legs to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the legs")
    args = parser.parse_args(argv)
    if args.list:
        for leg in LEGS:
            print(f"{leg.name:18} {leg.about}")
        return 0
    legs = with_prerequisites(args.legs) if args.legs else list(LEGS)
    CI_DIR.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    contexts = schedule(legs, JOBS)
    table = summary(contexts, time.monotonic() - start)
    (CI_DIR / "summary.txt").write_text(table + "\n")
    print("\n" + table)
    bad = [ctx for ctx in contexts.values() if ctx.result.status != "passed"]
    for ctx in bad:
        if ctx.log_path.exists() and ctx.result.status != "skipped":
            tail = ctx.log_path.read_text().splitlines()[-TAIL:]
            print(f"\n---- {ctx.leg.name} ({ctx.result.status}): last lines of {ctx.log_path}")
            print("\n".join(tail))
    if any(ctx.closing_lines for ctx in contexts.values()):
        print(f"\n{tally(contexts.values())}")
    if bad:
        print(f"\nCI FAILED: {', '.join(f'{c.leg.name} ({c.result.status})' for c in bad)}")
        return 1
    print("\nCI passed: every leg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
