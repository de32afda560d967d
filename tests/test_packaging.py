"""What the installed distribution says about itself: version, licence, Pythons, changelog.

These run against the stepwire under test (a source install, the built wheel or the
pure-Python build: docs/ci.md), so each CI leg checks the metadata it installed.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

import pytest

import stepwire
from helpers import ROOT

DIST = metadata.distribution("stepwire")
# The phrases of the MIT licence (https://spdx.org/licenses/MIT.html), whitespace aside.
MIT_PHRASES = [
    "MIT License",
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    'software and associated documentation files (the "Software"), to deal in the Software '
    "without restriction",
    "The above copyright notice and this permission notice shall be included in all copies "
    "or substantial portions of the Software.",
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND',
]


def _words(text: str) -> str:
    return " ".join(text.split())


def test_version_is_written_once() -> None:
    """``stepwire.__version__`` is the version the installed distribution declares."""
    assert stepwire.__version__ == metadata.version("stepwire") == DIST.metadata["Version"]


def test_declared_licence_is_mit_and_the_file_says_so() -> None:
    assert DIST.metadata["License-Expression"] == "MIT"
    assert DIST.metadata.get_all("License-File") == ["LICENSE"]
    shipped = next(f for f in DIST.files or [] if f.name == "LICENSE")
    text = shipped.read_text()
    for phrase in MIT_PHRASES:
        assert phrase in _words(text)
    assert re.search(r"^Copyright \(c\) \d{4} ", text, re.MULTILINE)
    assert text == (ROOT / "LICENSE").read_text()


def test_classifiers_name_this_python() -> None:
    """Every Python CI runs the suite on is one the classifiers say is supported."""
    classifiers = DIST.metadata.get_all("Classifier") or []
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"Programming Language :: Python :: {version}" in classifiers
    assert "License :: OSI Approved :: MIT License" not in classifiers  # the SPDX field says it
    supported = [c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)]
    assert supported == ["3.10", "3.11", "3.12", "3.13"]
    assert DIST.metadata["Requires-Python"] == f">={supported[0]}"


def test_changelog_starts_with_this_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    first = re.search(r"^## (\S+) \((\d{4}-\d{2}-\d{2})\)$", changelog, re.MULTILINE)
    assert first is not None, "CHANGELOG.md has no '## VERSION (YYYY-MM-DD)' heading"
    assert first.group(1) == stepwire.__version__


@pytest.mark.parametrize("name", ["stepgen", "_generate"])
def test_the_test_only_generator_is_not_installed(name: str) -> None:
    """The seeded generator is the repository's (stepgen/), not part of what users get."""
    assert not any(name in str(f) for f in DIST.files or [])
