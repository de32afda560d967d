"""iter_lines and decode_lines: type=, on_error= (true line numbers), paths, and gzip and
zstd content, told by its first bytes, from files and file objects."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

import stepwire
from stepgen import generate_delta_events, generate_steps

STEPS = generate_steps(60, seed=13)
LINES = [orjson.dumps(s) for s in STEPS]
BODY = b"\n".join(LINES) + b"\n"
DELTAS = generate_delta_events(40, seed=2, parallel=3)
DELTA_BODY = b"\n".join(orjson.dumps(d) for d in DELTAS) + b"\n"


def _plain(obj: Any) -> Any:
    return json.loads(stepwire.encode(obj))


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def _iter_decode(body: bytes, **kwargs: Any) -> list[Any]:
    return list(stepwire.iter_lines(io.BytesIO(body), **kwargs))


def _decode(body: bytes, **kwargs: Any) -> list[Any]:
    return stepwire.decode_lines(body, **kwargs)


READERS: dict[str, Callable[..., list[Any]]] = {"iter_lines": _iter_decode, "decode_lines": _decode}


# -- type= ------------------------------------------------------------------------------


@pytest.mark.parametrize("read", list(READERS))
def test_type_run_step_delta_event(read: str) -> None:
    events = READERS[read](DELTA_BODY, type=stepwire.RunStepDeltaEvent)
    assert all(type(e) is stepwire.RunStepDeltaEvent for e in events)
    assert [_plain(e) for e in events] == DELTAS
    # A delta is not a step: read as the default type, every line fails.
    errors: list[stepwire.DecodeError] = []
    assert READERS[read](DELTA_BODY, on_error=errors.append) == []
    assert [e.line for e in errors] == list(range(1, len(DELTAS) + 1))


@pytest.mark.parametrize("read", list(READERS))
def test_type_run_step_summary(read: str) -> None:
    summaries = READERS[read](BODY, type=stepwire.RunStepSummary)
    assert all(type(s) is stepwire.RunStepSummary for s in summaries)
    assert [s.id for s in summaries] == [s["id"] for s in STEPS]
    assert [s.status for s in summaries] == [s["status"] for s in STEPS]
    assert [_plain(s.details()) for s in summaries] == [s["step_details"] for s in STEPS]


@pytest.mark.parametrize("read", list(READERS))
def test_type_is_run_step_by_default(read: str) -> None:
    steps = READERS[read](BODY)
    assert steps == READERS[read](BODY, type=stepwire.RunStep)
    assert [_plain(s) for s in steps] == STEPS


def test_type_with_strict() -> None:
    bad = dict(DELTAS[0], surprise=True)
    body = b"\n".join([orjson.dumps(DELTAS[1]), orjson.dumps(bad)])
    tp = stepwire.RunStepDeltaEvent
    assert len(stepwire.decode_lines(body, type=tp)) == 2
    with pytest.raises(stepwire.DecodeError) as info:
        stepwire.decode_lines(body, type=tp, strict=True)
    assert info.value.line == 2
    errors: list[stepwire.DecodeError] = []
    got = list(stepwire.iter_lines(io.BytesIO(body), type=tp, strict=True, on_error=errors.append))
    assert [_plain(e) for e in got] == [DELTAS[1]]
    assert [e.line for e in errors] == [2]


# -- on_error ----------------------------------------------------------------------------

# Line number -> content; the other lines are the steps in order. Blank lines count.
PLANTED = {
    1: b"{oops",
    2: b"",
    5: b'{"id": 5}',
    6: b" \t ",
    11: b"[1]",
    12: b"\xff\xfe",
    13: b"null",
    30: b'{"id": "step_cut", "object": "thread.run.step", "created_at": 17',
}
BAD = [n for n, line in PLANTED.items() if line.strip()]


def _planted(lines: list[bytes], end: bytes = b"\n") -> bytes:
    out, good = [], iter(lines)
    number = 0
    while True:
        number += 1
        if number in PLANTED:
            out.append(PLANTED[number])
        elif (line := next(good, None)) is not None:
            out.append(line)
        else:
            return end.join(out) + end


@pytest.mark.parametrize("end", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("read", list(READERS))
def test_on_error_callable_gets_each_bad_line_with_its_number(read: str, end: bytes) -> None:
    body = _planted(LINES, end)
    errors: list[stepwire.DecodeError] = []
    steps = READERS[read](body, on_error=errors.append)
    assert [_plain(s) for s in steps] == STEPS
    assert all(type(e) is stepwire.DecodeError for e in errors)
    assert [e.line for e in errors] == BAD
    assert all(str(e).startswith(f"line {e.line}: ") for e in errors)


@pytest.mark.parametrize("read", list(READERS))
def test_on_error_skip_and_raise(read: str) -> None:
    body = _planted(LINES)
    assert [_plain(s) for s in READERS[read](body, on_error="skip")] == STEPS
    for on_error in ({"on_error": "raise"}, {}):
        with pytest.raises(stepwire.DecodeError) as info:
            READERS[read](body, **on_error)
        assert info.value.line == 1
    # The first bad line after some good ones.
    with pytest.raises(stepwire.DecodeError) as info:
        READERS[read](b"\n".join([*LINES[:3], b"", b"{x", *LINES[3:]]))
    assert info.value.line == 5


@pytest.mark.parametrize("read", list(READERS))
def test_an_exception_from_on_error_propagates(read: str) -> None:
    class StopReadingError(Exception):
        pass

    def stop(error: stepwire.DecodeError) -> None:
        raise StopReadingError(error.line)

    with pytest.raises(StopReadingError) as info:
        READERS[read](b"\n".join([LINES[0], b"{x", LINES[1]]), on_error=stop)
    assert info.value.args == (2,)


def test_iter_lines_on_error_is_lazy_and_goes_on() -> None:
    seen: list[int] = []
    it = stepwire.iter_lines(io.BytesIO(_planted(LINES)), on_error=lambda e: seen.append(e.line))
    first = next(it)
    assert first.id == STEPS[0]["id"]
    assert seen == [1]  # read up to the first good line, line 3
    assert len(list(it)) == len(STEPS) - 1
    assert seen == BAD


def test_on_error_with_a_too_long_line() -> None:
    limit = max(map(len, LINES)) + 1
    long = LINES[0] + b" " * limit
    body = b"\n".join([LINES[0], b"", long, b"{bad", LINES[1], long, LINES[2]])
    errors: list[stepwire.DecodeError] = []
    got = list(stepwire.iter_lines(io.BytesIO(body), max_line_bytes=limit, on_error=errors.append))
    assert [s.id for s in got] == [s["id"] for s in STEPS[:3]]
    assert [e.line for e in errors] == [3, 4, 6]
    skipped = list(stepwire.iter_lines(io.BytesIO(body), max_line_bytes=limit, on_error="skip"))
    assert skipped == got
    with pytest.raises(stepwire.DecodeError) as info:
        list(stepwire.iter_lines(io.BytesIO(body), max_line_bytes=limit))
    assert info.value.line == 3


@pytest.mark.parametrize("on_error", ["ignore", "Skip", "", None, 0, b"skip", ["raise"]])
def test_an_invalid_on_error_is_a_value_error(on_error: Any) -> None:
    with pytest.raises(ValueError, match="on_error"):
        stepwire.decode_lines(BODY, on_error=on_error)
    with pytest.raises(ValueError, match="on_error"):
        # Refused at the call, before any line is read.
        stepwire.iter_lines(io.BytesIO(BODY), on_error=on_error)


# -- paths and compression -------------------------------------------------------------


def _sources(tmp_path: Path, body: bytes) -> Iterator[tuple[str, Any]]:
    """The same NDJSON as every kind of input iter_lines takes."""
    files = {
        "plain.ndjson": body,
        "steps.ndjson.gz": gzip.compress(body),
        "steps.ndjson.zst": _zstd(body),
        "gzip.ndjson.zst": gzip.compress(body),  # the name says zstd, the content is gzip
        "zstd.ndjson.gz": _zstd(body),  # and the other way round
        "zstd.jsonl": _zstd(body),
        "gzip": gzip.compress(body, compresslevel=1),
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        yield f"{name} (Path)", path
        yield f"{name} (str)", str(path)


@pytest.mark.parametrize("body", [BODY, _planted(LINES)], ids=["clean", "planted"])
def test_paths_gzip_and_zstd_by_content(body: bytes, tmp_path: Path) -> None:
    for name, source in _sources(tmp_path, body):
        errors: list[stepwire.DecodeError] = []
        got = list(stepwire.iter_lines(source, on_error=errors.append))
        assert [_plain(s) for s in got] == STEPS, name
        assert [e.line for e in errors] == (BAD if body is not BODY else []), name


def test_file_objects_gzip_and_zstd_are_left_open(tmp_path: Path) -> None:
    for name, source in _sources(tmp_path, _planted(LINES)):
        if not isinstance(source, Path):
            continue
        with source.open("rb") as f:
            errors: list[stepwire.DecodeError] = []
            got = list(stepwire.iter_lines(f, on_error=errors.append))
            assert not f.closed, name
            assert [_plain(s) for s in got] == STEPS, name
            assert [e.line for e in errors] == BAD, name
            f.seek(0)  # still usable: read again
            assert len(list(stepwire.iter_lines(f, on_error="skip"))) == len(STEPS)
        # In-memory and buffered: sniffed too (a buffered reader can peek).
        buffered = io.BufferedReader(io.BytesIO(source.read_bytes()))  # type: ignore[arg-type]
        assert len(list(stepwire.iter_lines(buffered, on_error="skip"))) == len(STEPS)
        assert not buffered.closed


def test_compressed_deltas_with_type(tmp_path: Path) -> None:
    for data, name in ((gzip.compress(DELTA_BODY), "d.gz"), (_zstd(DELTA_BODY), "d.bin")):
        path = tmp_path / name
        path.write_bytes(data)
        events = list(stepwire.iter_lines(path, type=stepwire.RunStepDeltaEvent))
        assert [_plain(e) for e in events] == DELTAS


def test_a_path_is_closed_after_reading(tmp_path: Path) -> None:
    path = tmp_path / "steps.ndjson.gz"
    path.write_bytes(gzip.compress(BODY))
    it = stepwire.iter_lines(path)
    assert next(it).id == STEPS[0]["id"]
    it.close()  # an abandoned iterator closes its file (no ResourceWarning, an error here)
    assert len(list(stepwire.iter_lines(path))) == len(STEPS)


def test_a_missing_path_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(stepwire.iter_lines(tmp_path / "absent.ndjson"))


def test_compressed_line_numbers_count_blank_lines_of_the_decompressed_text(
    tmp_path: Path,
) -> None:
    body = b"\n\n" + LINES[0] + b"\n\r\n{bad\n" + LINES[1] + b"\n"
    for data in (gzip.compress(body), _zstd(body)):
        path = tmp_path / "x"
        path.write_bytes(data)
        errors: list[stepwire.DecodeError] = []
        assert len(list(stepwire.iter_lines(path, on_error=errors.append))) == 2
        assert [e.line for e in errors] == [5]


@pytest.mark.parametrize("compress", [gzip.compress, _zstd], ids=["gzip", "zstd"])
def test_a_seekable_file_without_peek_is_sniffed_too(compress: Callable[[bytes], bytes]) -> None:
    """io.BytesIO has no peek: its first bytes are read, and it is sought back to them."""
    f = io.BytesIO(b"ignored" + compress(BODY))
    f.seek(len(b"ignored"))
    assert [_plain(s) for s in stepwire.iter_lines(f)] == STEPS
    assert not f.closed


def test_an_unseekable_file_without_peek_is_read_as_it_is() -> None:
    """A pipe-like file that can neither peek nor seek: plain NDJSON reads, nothing sniffed."""

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            chunk = self._data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    assert [_plain(s) for s in stepwire.iter_lines(Pipe(BODY))] == STEPS  # type: ignore[arg-type]
    with pytest.raises(stepwire.DecodeError) as info:
        list(stepwire.iter_lines(Pipe(gzip.compress(BODY))))  # type: ignore[arg-type]
    assert info.value.line == 1
