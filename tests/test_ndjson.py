"""NDJSON: decode_lines over a buffer, iter_lines over a file of any size."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest

import stepwire
from stepgen import generate_steps

STEPS = generate_steps(200, seed=3)
LINES = [orjson.dumps(s) for s in STEPS]
STEP_BODY = LINES[0]


@pytest.mark.parametrize("end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("trailing", [b"", b"\n", b"\n\n  \n"], ids=["none", "one", "blank-lines"])
def test_decode_lines(end: bytes, trailing: bytes) -> None:
    body = end.join(LINES) + trailing
    decoded = stepwire.decode_lines(body)
    assert [json.loads(stepwire.encode(s)) for s in decoded] == STEPS
    assert stepwire.decode_lines(bytearray(body)) == decoded
    assert stepwire.decode_lines(memoryview(b"\n" + body)[1:]) == decoded
    assert stepwire.decode_lines(body.decode()) == decoded


def test_empty_ndjson_is_an_empty_list() -> None:
    assert stepwire.decode_lines(b"") == []
    assert stepwire.decode_lines(b"\n \n\t\r\n") == []
    assert list(stepwire.iter_lines(io.BytesIO(b"\n\n"))) == []


def test_iter_lines_matches_decode_lines(tmp_path: Path) -> None:
    path = tmp_path / "steps.ndjson"
    path.write_bytes(b"\n".join(LINES) + b"\n")
    with path.open("rb") as f:
        streamed = list(stepwire.iter_lines(f))
    assert streamed == stepwire.decode_lines(path.read_bytes())


def test_iter_lines_is_lazy_and_names_the_bad_line() -> None:
    body = b"\n".join([LINES[0], LINES[1], b"{oops", LINES[2]])
    it = stepwire.iter_lines(io.BytesIO(body))
    assert next(it).id == STEPS[0]["id"]
    assert next(it).id == STEPS[1]["id"]
    with pytest.raises(stepwire.DecodeError, match=r"^line 3: ") as info:
        next(it)
    assert info.value.line == 3


def test_iter_lines_needs_a_binary_file() -> None:
    with pytest.raises(TypeError, match="binary"):
        list(stepwire.iter_lines(io.StringIO(LINES[0].decode())))  # type: ignore[arg-type]


def test_strict_ndjson() -> None:
    bad = dict(STEPS[0], extra=1)
    body = b"\n".join([LINES[0], orjson.dumps(bad)])
    assert len(stepwire.decode_lines(body)) == 2
    with pytest.raises(stepwire.DecodeError, match=r"line 2: .*unknown field `extra`"):
        stepwire.decode_lines(body, strict=True)


# -- max_line_bytes ------------------------------------------------------------------


def _line(size: int) -> bytes:
    """A valid step line of exactly ``size`` bytes (without its newline), padded with spaces."""
    body = stepwire.encode(stepwire.decode_step(STEP_BODY))
    assert len(body) <= size
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("newline", [b"\n", b""], ids=["newline", "eof"])
def test_iter_lines_max_line_bytes_is_inclusive(newline):
    size = len(STEP_BODY) + 10
    steps = list(stepwire.iter_lines(io.BytesIO(_line(size) + newline), max_line_bytes=size))
    assert len(steps) == 1
    with pytest.raises(stepwire.DecodeError, match=r"^line 1: line longer than max_line_bytes"):
        list(stepwire.iter_lines(io.BytesIO(_line(size + 1) + newline), max_line_bytes=size))


def test_iter_lines_reads_no_further_than_the_limit_and_leaves_the_next_line():
    size = len(STEP_BODY) + 10
    reads = []

    class Recording(io.BytesIO):
        def readline(self, limit=-1):
            line = super().readline(limit)
            reads.append(len(line))
            return line

    f = Recording(_line(size) + b"\n" + b"x" * (50 * size) + b"\n" + _line(size) + b"\n")
    lines = stepwire.iter_lines(f, max_line_bytes=size)
    assert next(lines).id
    with pytest.raises(stepwire.DecodeError) as info:
        next(lines)
    assert info.value.line == 2
    assert max(reads) <= size + 1
    assert len(list(stepwire.iter_lines(f))) == 1  # the file is at the third line


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-1, ValueError), (1.0, TypeError), (True, TypeError)]
)
def test_iter_lines_max_line_bytes_must_be_a_positive_int(value, error):
    with pytest.raises(error, match="max_line_bytes"):
        stepwire.iter_lines(io.BytesIO(b""), max_line_bytes=value)
