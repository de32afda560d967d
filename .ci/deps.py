"""The dependency ranges declared in pyproject.toml, against what CI runs.

    python .ci/deps.py check-lowest       # .ci/constraints-lowest.txt pins every floor
    python .ci/deps.py check-installed PYTHON   # PYTHON's environment holds exactly those pins
    python .ci/deps.py msgspec-releases   # the msgspec releases the declared range admits

Runs in the tools environment (``make tools``: ``packaging``, and ``tomli`` before
Python 3.11). ``check-lowest`` fails when a ranged requirement has no lower or no upper
bound, or when its floor and the constraints file disagree: the lowest CI leg must
install exactly the floors. ``msgspec-releases`` asks the registry (``pip index
versions``), so that a new release inside the range is tested without an edit here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOWEST = ROOT / ".ci" / "constraints-lowest.txt"
# The lowest leg's Python: the requirements whose markers exclude it are not pinned.
LOWEST_ENV = {"python_version": "3.10", "python_full_version": "3.10.0", "extra": ""}
# Pinned on purpose (exact versions): the linters and Cython for `make warnings`.
PINNED_EXTRAS = {"lint"}


def load_pyproject() -> dict[str, Any]:
    with PYPROJECT.open("rb") as f:
        loaded: dict[str, Any] = tomllib.load(f)
    return loaded


def declared(project: dict[str, Any]) -> list[tuple[str, Requirement]]:
    """Every requirement with where it is declared, the package's own extras left out."""
    name = canonicalize_name(project["project"]["name"])
    found = [("build-system.requires", Requirement(r)) for r in project["build-system"]["requires"]]
    found += [("dependencies", Requirement(r)) for r in project["project"]["dependencies"]]
    for extra, reqs in project["project"]["optional-dependencies"].items():
        if extra not in PINNED_EXTRAS:
            found += [(f"extra {extra}", Requirement(r)) for r in reqs]
    return [(where, req) for where, req in found if canonicalize_name(req.name) != name]


def floor_of(specifier: SpecifierSet) -> tuple[Version | None, bool]:
    """The ``>=`` bound, and whether some ``<`` (or ``<=``) bound caps the range."""
    floors = [Version(s.version) for s in specifier if s.operator == ">="]
    capped = any(s.operator in {"<", "<="} for s in specifier)
    return (max(floors) if floors else None), capped


def read_constraints(path: Path) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise SystemExit(f"{path.name}: {line!r} is not NAME==VERSION")
        pins[canonicalize_name(req.name)] = Version(specs[0].version)
    return pins


def check_lowest() -> int:
    problems: list[str] = []
    floors: dict[str, Version] = {}
    for where, req in declared(load_pyproject()):
        if any(s.operator == "==" for s in req.specifier):
            continue  # exact: the same version at both ends
        floor, capped = floor_of(req.specifier)
        if floor is None:
            problems.append(f"{where}: {req} has no lower bound (>=)")
            continue
        if not capped:
            problems.append(f"{where}: {req} has no upper bound (<)")
        if req.marker and not req.marker.evaluate(LOWEST_ENV):
            continue  # not installed on the lowest leg's Python (its floor is its newest)
        key = canonicalize_name(req.name)
        if floors.setdefault(key, floor) != floor:
            problems.append(f"{where}: {req} disagrees with another floor {floors[key]}")
    pins = read_constraints(LOWEST)
    for name, floor in sorted(floors.items()):
        if name not in pins:
            problems.append(f"{LOWEST.name}: no line for {name} (floor {floor})")
        elif pins[name] != floor:
            problems.append(f"{LOWEST.name}: {name}=={pins[name]}, but the floor is {floor}")
    problems += [
        f"{LOWEST.name}: {key} is not a ranged requirement of pyproject.toml"
        for key in sorted(set(pins) - set(floors))
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{LOWEST.name}: the floors of {len(floors)} ranged requirements")
    return 1 if problems else 0


def check_installed(python: str) -> int:
    """Whether ``python``'s environment holds every pin of the constraints file, exactly."""
    out = subprocess.run(
        [python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    ).stdout
    installed: dict[str, Version] = {
        canonicalize_name(p["name"]): Version(p["version"]) for p in json.loads(out)
    }
    pins = read_constraints(LOWEST)
    wrong = [
        f"{name}: {installed.get(name) or 'not installed'}, the floor is {floor}"
        for name, floor in sorted(pins.items())
        if installed.get(name) != floor
    ]
    for problem in wrong:
        print(problem, file=sys.stderr)
    print("installed at the floors:", " ".join(f"{n}=={v}" for n, v in sorted(pins.items())))
    return 1 if wrong else 0


def available(package: str) -> list[Version]:
    """The releases the registry serves (``pip index versions``), newest first."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", package],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        if line.startswith("Available versions:"):
            return [Version(v.strip()) for v in line.split(":", 1)[1].split(",") if v.strip()]
    raise SystemExit(f"pip index versions {package}: no 'Available versions:' line in\n{out}")


def in_range(package: str, versions: Iterable[Version]) -> list[Version]:
    """The versions the declared runtime requirement on ``package`` admits, oldest first."""
    for where, req in declared(load_pyproject()):
        if where == "dependencies" and canonicalize_name(req.name) == canonicalize_name(package):
            return sorted(req.specifier.filter(versions))
    raise SystemExit(f"pyproject.toml: no runtime dependency on {package}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check-lowest", "check-installed", "msgspec-releases"])
    parser.add_argument("python", nargs="?", help="check-installed: the environment's python")
    args = parser.parse_args(argv)
    if args.command == "check-lowest":
        return check_lowest()
    if args.command == "check-installed":
        if not args.python:
            parser.error("check-installed needs the environment's python")
        return check_installed(args.python)
    releases = in_range("msgspec", available("msgspec"))
    if not releases:
        raise SystemExit("no msgspec release in the declared range")
    print("\n".join(str(v) for v in releases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
