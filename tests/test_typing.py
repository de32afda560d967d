"""The public API as a type checker sees it: mypy and basedpyright over tests/typing/.

Each ``tests/typing/check_*.py`` is user code annotated with ``assert_type``; a
``assert_type`` whose type differs from what the checker infers is an error, so a
signature that loses its type (``Decoder[Any]``, an ``Any`` attribute) fails here.
The ``python`` blocks of README.md are checked the same way, extracted at run time.
A negative control feeds both checkers lines that must fail (a wrong ``assert_type``,
a write to a read-only property, ...), each for a named reason, so that the suite
cannot pass by checking nothing.

Each checker runs twice over everything (the examples, then the negative control),
the two checkers side by side: a few seconds in all. basedpyright is pyright's
engine with its JS bundled (PyPI only, no npm), in pyright's ``standard`` mode; the
example files ask for ``strict`` (``# pyright: strict``), as a strict user's code
would. mypy runs with the project's configuration ([tool.mypy]: strict, Python 3.10).
Both check the stepwire this run imports (the source tree with PYTHONPATH=src, the
installed package otherwise).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import stepwire
from helpers import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CHECKS = ROOT / "tests" / "typing"
CHECK_FILES = sorted(CHECKS.glob("check_*.py"))
README = ROOT / "README.md"
README_MODULE = "readme_examples.py"
TIMEOUT = 300

with (ROOT / "pyproject.toml").open("rb") as _f:
    # The Python version both checkers check for: the oldest supported, as [tool.mypy].
    PYTHON_VERSION: str = tomllib.load(_f)["tool"]["mypy"]["python_version"]

# -- README.md's code blocks ------------------------------------------------------------

# The languages of README.md's fenced blocks that are not Python: left out, by name.
# A block in any other language, or untagged, fails test_readme_blocks_are_known.
NOT_PYTHON = {"sh": "shell commands (make, pip)"}

# The names README.md's snippets use without defining them, as the parameters of the
# function each snippet becomes the body of.
README_PREAMBLE = '''\
"""README.md's python blocks, each the body of one function (from tests/test_typing.py).

The snippets assume ``import stepwire``; the parameters are the other names they use
without defining them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import openai

import stepwire


class Response(Protocol):
    """``response``: an ``httpx.Response`` read as a stream (``client.stream(...)``)."""

    def iter_bytes(self) -> Iterator[bytes]: ...

'''
README_PARAMS = (
    "body: bytes,"  # a response body: a page, or one step
    " data: bytes,"  # a thread.run.step.delta event's data
    " ndjson: bytes,"  # steps, one per line
    " response: Response,"
    " base: str, thread: str, assistant: str,"  # the API's base URL, a thread, an assistant
    " run: dict[str, Any], auth: dict[str, str],"  # a run's request body, its headers
    " client: openai.OpenAI"
)


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based
    language: str
    source: str


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[i])
        if fence is None:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        assert end < len(lines), f"README.md:{i + 1}: a code block that is not closed"
        blocks.append(Block(i + 1, fence.group(1), "\n".join(lines[i + 1 : end])))
        i = end + 1
    return blocks


def readme_module() -> tuple[str, dict[int, int]]:
    """README.md's python blocks as one module, and its lines' README.md line numbers."""
    text = README_PREAMBLE
    origin: dict[int, int] = {}
    for block in readme_blocks():
        if block.language != "python":
            continue
        text += f"\ndef readme_line_{block.line}({README_PARAMS}) -> None:\n"
        first = text.count("\n") + 1
        for n, line in enumerate(block.source.splitlines()):
            origin[first + n] = block.line + 1 + n
            text += f"    {line}\n" if line.strip() else "\n"
        text += "\n"
    return text, origin


def test_readme_blocks_are_known() -> None:
    """Every README.md block is checked (python) or left out by its language, by name."""
    blocks = readme_blocks()
    unknown = [
        f"README.md:{b.line}: ```{b.language}"
        for b in blocks
        if b.language != "python" and b.language not in NOT_PYTHON
    ]
    assert not unknown, (
        "README.md blocks in a language neither checked nor known not to be Python "
        f"(tag them, or add the language to NOT_PYTHON): {unknown}"
    )
    assert any(b.language == "python" for b in blocks), "README.md has no python block"


# -- running the checkers -----------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    path: Path
    line: int  # 1-based
    severity: str  # error, warning (mypy: note too)
    code: str  # mypy's error code, pyright's rule
    message: str

    def show(self, origin: dict[Path, Callable[[int], str]]) -> str:
        show_line = origin.get(self.path)
        where = show_line(self.line) if show_line else f"{self.path.name}:{self.line}"
        return f"{where}: {self.severity}: {self.message} [{self.code}]"


@dataclass
class Run:
    checker: str
    command: list[str]
    returncode: int
    output: str
    seconds: float
    diagnostics: list[Diagnostic]
    checked: int  # source files the checker says it checked

    def at(self, path: Path) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.path == path and d.severity != "note"]


def package_root() -> Path | None:
    """Where this run's stepwire is imported from, unless it is the installed package."""
    root = Path(stepwire.__file__).resolve().parent.parent
    paths = sysconfig.get_paths()
    installed = {Path(paths[key]).resolve() for key in ("purelib", "platlib")}
    return None if root in installed else root


def checker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "MYPYPATH"}}
    env["NO_COLOR"] = "1"
    return env


MYPY_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+): (?P<severity>error|warning|note): (?P<message>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


def run_mypy(files: Sequence[Path], workdir: Path, cache: Path) -> Run:
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(cache),
        "--python-executable",
        sys.executable,
        # stepwire's own errors are `make lint`'s: the examples are what is checked here,
        # whether stepwire is the source tree or the installed package.
        "--follow-imports=silent",
        "--show-absolute-path",
        "--show-error-codes",
        "--no-pretty",
        "--no-color-output",
        *map(str, files),
    ]
    env = checker_env()
    root = package_root()
    if root is not None:
        env["MYPYPATH"] = str(root)  # ahead of site-packages (a stale install)
    start = time.monotonic()
    proc = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    seconds = time.monotonic() - start
    output = proc.stdout + proc.stderr
    diagnostics = []
    for line in proc.stdout.splitlines():
        m = MYPY_LINE.match(line)
        if m:
            diagnostics.append(
                Diagnostic(
                    Path(m["path"]).resolve(),
                    int(m["line"]),
                    m["severity"],
                    m["code"] or "",
                    m["message"],
                )
            )
    summary = re.search(r"(?:in|checked) (\d+) source files?", proc.stdout)
    checked = int(summary.group(1)) if summary else 0
    return Run("mypy", command, proc.returncode, output, seconds, diagnostics, checked)


def run_basedpyright(files: Sequence[Path], workdir: Path) -> Run:
    root = package_root()
    config = {
        "include": [str(f) for f in files],
        "extraPaths": [] if root is None else [str(root)],
        "pythonVersion": PYTHON_VERSION,
        # pyright's own default; the example files ask for strict themselves.
        "typeCheckingMode": "standard",
    }
    config_path = workdir / "pyrightconfig.json"
    config_path.write_text(json.dumps(config, indent=2))
    command = [
        sys.executable,
        "-m",
        "basedpyright",
        "--outputjson",
        "--project",
        str(config_path),
        "--pythonpath",
        sys.executable,
    ]
    start = time.monotonic()
    proc = subprocess.run(
        command,
        cwd=workdir,
        env=checker_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    seconds = time.monotonic() - start
    output = proc.stdout + proc.stderr
    try:
        report = json.loads(proc.stdout)
    except ValueError:  # it did not get as far as a report (exit status 2 to 4)
        return Run("basedpyright", command, proc.returncode, output, seconds, [], 0)
    diagnostics = [
        Diagnostic(
            Path(d["file"]).resolve(),
            d["range"]["start"]["line"] + 1,
            d["severity"],
            d.get("rule", ""),
            d["message"].replace("\n", " "),
        )
        for d in report.get("generalDiagnostics", [])
        if d["severity"] in {"error", "warning"}
    ]
    checked = int(report.get("summary", {}).get("filesAnalyzed", 0))
    return Run("basedpyright", command, proc.returncode, output, seconds, diagnostics, checked)


CHECKERS = ("mypy", "basedpyright")

# -- the negative control ------------------------------------------------------------------

NEGATIVE_HEAD = """\
from __future__ import annotations

import sys

import stepwire

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type

BODY = b"{}"
dec: stepwire.Decoder[stepwire.RunStepPage] = stepwire.Decoder(stepwire.RunStepPage)
event: stepwire.StreamEvent = stepwire.Accumulator().feed(BODY)[0]
"""

# Lines that must fail both checkers, each with its reason: mypy's error code,
# pyright's rule. Every other line of the file must pass.
MUST_FAIL: list[tuple[str, str, str]] = [
    # The control itself: a wrong assert_type is an error (what every check rests on).
    (
        "assert_type(stepwire.decode_step(BODY), stepwire.RunStepPage)",
        "assert-type",
        "reportAssertTypeFailure",
    ),
    ("assert_type(dec.decode(BODY), stepwire.RunStep)", "assert-type", "reportAssertTypeFailure"),
    (
        "assert_type(stepwire.Accumulator().feed(BODY), list[bytes])",
        "assert-type",
        "reportAssertTypeFailure",
    ),
    # A decoder's type and strictness are read-only.
    ("dec.strict = True", "misc", "reportAttributeAccessIssue"),
    ("dec.type = stepwire.RunStepPage", "misc", "reportAttributeAccessIssue"),
    # StreamEvent.data is a union to narrow (by isinstance), not Any.
    ("_ = event.data.delta", "union-attr", "reportAttributeAccessIssue"),
    # What the functions do not take.
    ('stepwire.Accumulator().feed("data: x")', "arg-type", "reportArgumentType"),
    ("stepwire.decode_step(1)", "arg-type", "reportArgumentType"),
    # A source is a response, chunks or a body (Protocols, not Any).
    ("stepwire.iter_events(42)", "arg-type", "reportArgumentType"),
    ("stepwire.aiter_events(3.5)", "arg-type", "reportArgumentType"),
    # iter_steps takes an openai client (by its .beta) or a fetch of the cursor.
    ("stepwire.iter_steps(42)", "arg-type", "reportArgumentType"),
    (
        "page: stepwire.RunStepPage = stepwire.decode_step(BODY)",
        "assignment",
        "reportAssignmentType",
    ),
    # DecodeError and StreamError are two classes (under StepwireError: check_errors.py).
    (
        'decode_error: stepwire.DecodeError = stepwire.StreamError("x")',
        "assignment",
        "reportAssignmentType",
    ),
    # type= types the lines (it is not Any), and on_error takes no other string.
    (
        "assert_type(stepwire.decode_lines(BODY, type=stepwire.ApiError), list[stepwire.RunStep])",
        "assert-type",
        "reportAssertTypeFailure",
    ),
    ('stepwire.decode_lines(BODY, on_error="ignore")', "call-overload", "reportArgumentType"),
    # The limits are ints (and not Any).
    ("depth: str = stepwire.MAX_DEPTH", "assignment", "reportAssignmentType"),
    ("line: str = stepwire.MAX_LINE_BYTES", "assignment", "reportAssignmentType"),
    ("event_bytes: str = stepwire.MAX_EVENT_BYTES", "assignment", "reportAssignmentType"),
    ("steps: str = stepwire.MAX_STEPS", "assignment", "reportAssignmentType"),
]


def negative_module() -> tuple[str, dict[int, tuple[str, str, str]]]:
    text = NEGATIVE_HEAD
    expected: dict[int, tuple[str, str, str]] = {}
    for case in MUST_FAIL:
        expected[text.count("\n") + 1] = case
        text += case[0] + "\n"
    return text, expected


# -- the runs, once per module --------------------------------------------------------------


@dataclass
class Checked:
    positive: Run
    negative: Run
    files: dict[str, Path]  # the checked examples by test id
    negative_path: Path
    origin: dict[Path, Callable[[int], str]]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Checked]:
    base = tmp_path_factory.mktemp("typing")
    readme_text, readme_origin = readme_module()
    readme_path = (base / README_MODULE).resolve()
    readme_path.write_text(readme_text)
    negative_text, _ = negative_module()
    negative_path = (base / "must_fail.py").resolve()
    negative_path.write_text(negative_text)
    files = {p.name: p.resolve() for p in CHECK_FILES} | {"README.md": readme_path}
    origin: dict[Path, Callable[[int], str]] = {
        readme_path: lambda n: f"README.md:{readme_origin.get(n, f'? ({README_MODULE}:{n})')}",
    }

    def both(checker: str) -> Checked:
        work = base / checker
        pos, neg = work / "examples", work / "negative"
        pos.mkdir(parents=True)
        neg.mkdir()
        if checker == "mypy":
            cache = work / "cache"  # shared by the two runs: the second one is warm
            positive = run_mypy(list(files.values()), pos, cache)
            negative = run_mypy([negative_path], neg, cache)
        else:
            positive = run_basedpyright(list(files.values()), pos)
            negative = run_basedpyright([negative_path], neg)
        return Checked(positive, negative, files, negative_path, origin)

    with ThreadPoolExecutor(len(CHECKERS)) as pool:
        return dict(zip(CHECKERS, pool.map(both, CHECKERS), strict=True))


def _ids() -> list[str]:
    return [p.name for p in CHECK_FILES] + ["README.md"]


def _report(run: Run, diagnostics: Sequence[Diagnostic], checked: Checked) -> str:
    lines = [d.show(checked.origin) for d in diagnostics]
    return f"{run.checker} ({run.seconds:.1f} s):\n  " + "\n  ".join(lines)


def test_examples_are_found() -> None:
    assert {p.name for p in CHECK_FILES} >= {
        "check_decode.py",
        "check_errors.py",
        "check_merge.py",
        "check_stream.py",
    }


@pytest.mark.parametrize("checker", CHECKERS)
def test_checker_ran_over_every_example(checked: dict[str, Checked], checker: str) -> None:
    """Exit status 0 (1 only with errors in the examples), every file checked, none else."""
    c = checked[checker]
    run = c.positive
    ours = set(c.files.values())
    elsewhere = [d for d in run.diagnostics if d.path not in ours and d.severity != "note"]
    assert not elsewhere, "diagnostics outside the examples (stepwire's own source?):\n" + (
        _report(run, elsewhere, c)
    )
    in_examples = [d for d in run.diagnostics if d.path in ours and d.severity == "error"]
    assert run.returncode == (1 if in_examples else 0), (
        f"{run.checker} exited {run.returncode}: {' '.join(run.command)}\n{run.output[-4000:]}"
    )
    assert run.checked >= len(c.files), f"{run.checker} checked {run.checked} files:\n{run.output}"


@pytest.mark.parametrize("name", _ids())
@pytest.mark.parametrize("checker", CHECKERS)
def test_example_type_checks(checked: dict[str, Checked], checker: str, name: str) -> None:
    c = checked[checker]
    found = c.positive.at(c.files[name])
    assert not found, _report(c.positive, found, c)


@pytest.mark.parametrize("checker", CHECKERS)
def test_negative_control_fails(checked: dict[str, Checked], checker: str) -> None:
    """Each line of MUST_FAIL is an error for its reason, and nothing else is."""
    c = checked[checker]
    run = c.negative
    _, expected = negative_module()
    column = 1 if checker == "mypy" else 2
    found = run.at(c.negative_path)
    by_line: dict[int, list[Diagnostic]] = {}
    for d in found:
        by_line.setdefault(d.line, []).append(d)
    problems = []
    for line, case in expected.items():
        codes = {d.code for d in by_line.get(line, [])}
        if case[column] not in codes:
            got = "; ".join(f"{d.message} [{d.code}]" for d in by_line.get(line, []))
            problems.append(f"line {line} `{case[0]}`: no {case[column]} error ({got or 'passed'})")
    problems += [
        f"line {d.line}: unexpected {d.severity}: {d.message} [{d.code}]"
        for d in found
        if d.line not in expected and d.severity == "error"
    ]
    assert not problems, f"{run.checker} ({run.seconds:.1f} s):\n  " + "\n  ".join(problems)
    assert run.returncode == 1, f"{run.checker} exited {run.returncode}:\n{run.output[-4000:]}"
