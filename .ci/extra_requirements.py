"""The requirements an extra of pyproject.toml adds, one a line, for ``pip install -r``.

    python .ci/extra_requirements.py spark

The project's own extras it names (``stepwire[arrow]``) are expanded into their
requirements; the project itself is left out: ``make test-spark`` installs what the
``spark`` extra adds into .venv, where the project is installed already, without building
it again (``pip install '.[spark]'`` would). The standard library only (``tomli`` before
Python 3.11, which the bench extra installs there), so that it runs in .venv.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# A requirement's name and extras: ``name[extra, other]``, then anything (PEP 508).
NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?(.*)", re.DOTALL)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(project: dict[str, Any], extra: str) -> list[str]:
    """``extra``'s requirements, the project's own extras expanded (each once)."""
    name = canonical(project["project"]["name"])
    extras: dict[str, list[str]] = project["project"]["optional-dependencies"]
    out: list[str] = []
    seen: set[str] = set()

    def add(wanted: str) -> None:
        if wanted not in extras:
            raise SystemExit(f"pyproject.toml declares no extra {wanted!r}: {', '.join(extras)}")
        if wanted in seen:
            return
        seen.add(wanted)
        for requirement in extras[wanted]:
            match = NAME.match(requirement)
            if match and canonical(match[1]) == name:
                if match[3].strip():  # a marker or a version on the project itself
                    raise SystemExit(f"extra {wanted!r}: {requirement!r} is not bare")
                for other in (match[2] or "").split(","):
                    if other.strip():
                        add(other.strip())
            elif requirement not in out:
                out.append(requirement)

    add(extra)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python .ci/extra_requirements.py EXTRA")
    with PYPROJECT.open("rb") as f:
        project: dict[str, Any] = tomllib.load(f)
    print("\n".join(requirements(project, args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
