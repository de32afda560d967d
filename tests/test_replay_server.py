"""The replay server (stepgen/server.py) on the wire, seen through the standard library.

Framing is read from a raw socket where it is the point (chunk sizes, a missing
terminating chunk); http.client shows what a client makes of each fault (IncompleteRead,
a timeout). The bodies are the real corpus, plus a synthetic stream with ``\\r\\n`` line
ends and a synthetic page (the corpus has neither line end nor a page over five steps), so
that every mode is checked where the corpus is absent too.
"""

from __future__ import annotations

import gzip
import http.client
import json
import math
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import msgspec
import pytest

from helpers import REAL, ROOT, real_files, real_params
from stepgen.server import KEEPALIVE_COMMENT, ReplayServer

CHUNK = 256
SLICE_FIELDS = ("data", "first_id", "last_id", "has_more")


class Body(NamedTuple):
    name: str
    data: bytes


def _crlf_stream() -> bytes:
    events = [
        b"event: thread.run.step.delta\r\ndata: "
        + json.dumps({"id": f"step_{i}", "delta": {"text": "x" * i}}).encode()
        + b"\r\n\r\n"
        for i in range(40)
    ]
    return b"".join(events) + b": a comment\r\n\r\nevent: done\r\ndata: [DONE]\r\n"


def _synthetic_page() -> bytes:
    steps = [{"id": f"step_{i}", "object": "thread.run.step", "usage": None} for i in range(7)]
    page = {
        "object": "list",
        "data": steps,
        "first_id": "step_0",
        "last_id": "step_6",
        "has_more": False,
    }
    return json.dumps(page, indent=2).encode()  # items spread over lines: sliced as they are


CRLF = Body("synthetic-crlf", _crlf_stream())
PAGE = Body("synthetic-page", _synthetic_page())


def bodies(suffix: str, *, pages_only: bool = False) -> list[Any]:
    """The real bodies with this suffix as parameters (the one visible skip without them)."""
    files = real_files(suffix)
    if not files:
        return real_params(suffix)
    if pages_only:
        files = [f for f in files if json.loads(f.read_bytes())["object"] == "list"]
    return [pytest.param(Body(f.stem, f.read_bytes()), id=f.name) for f in files]


SSE = [*bodies(".sse"), pytest.param(CRLF, id=CRLF.name)]
JSON = [*bodies(".json"), pytest.param(PAGE, id=PAGE.name)]
PAGES = [*bodies(".json", pages_only=True), pytest.param(PAGE, id=PAGE.name)]


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer(REAL, chunk=CHUNK) as replay:
        replay.add(CRLF.name, CRLF.data, "sse")
        replay.add(PAGE.name, PAGE.data, "json")
        yield replay
    assert replay.errors == []


# -- clients ---------------------------------------------------------------------------


def fetch(
    server: ReplayServer,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request on its own connection: the response (read, closed) and its body."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


class Wire(NamedTuple):
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes  # as sent: chunk framing and all


def raw_request(server: ReplayServer, request: bytes, timeout: float = 5.0) -> Wire:
    """Send ``request`` and read until the server closes (the request asks it to)."""
    data = bytearray()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            part = sock.recv(65536)
            if not part:
                break
            data += part
        else:
            raise AssertionError(f"no end of file in {timeout} s")
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines)
    return Wire(int(status_line.split()[1]), {k.lower(): v.strip() for k, _, v in fields}, body)


def raw_get(server: ReplayServer, path: str) -> Wire:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    return raw_request(server, request.encode())


def dechunk(wire: bytes) -> tuple[list[bytes], bool]:
    """The chunks of a chunked body, and whether the terminating chunk ended it."""
    chunks: list[bytes] = []
    position = 0
    while position < len(wire):  # each round consumes a chunk
        eol = wire.index(b"\r\n", position)
        size = int(wire[position:eol], 16)
        if size == 0:
            assert wire[eol:] == b"\r\n\r\n"
            return chunks, True
        start = eol + 2
        assert wire[start + size : start + size + 2] == b"\r\n"
        chunks.append(wire[start : start + size])
        position = start + size + 2
    return chunks, False


def raw_items(page: bytes) -> list[bytes]:
    """A page's items, each as its own bytes."""
    top = msgspec.json.decode(page, type=dict[str, msgspec.Raw])
    return [bytes(item) for item in msgspec.json.decode(top["data"], type=list[msgspec.Raw])]


def event_count(body: bytes) -> int:
    """Blank-line-terminated events, and an unterminated tail as one more."""
    text = body.replace(b"\r\n", b"\n")
    return text.count(b"\n\n") + (not text.endswith(b"\n\n"))


# -- framing modes ---------------------------------------------------------------------


@pytest.mark.parametrize("body", SSE)
def test_plain_sends_the_body_in_flushed_chunks(server: ReplayServer, body: Body) -> None:
    wire = raw_get(server, f"/plain/v1/sse/{body.name}")
    assert wire.status == 200
    assert wire.headers["content-type"] == "text/event-stream"
    assert wire.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in wire.headers
    chunks, ended = dechunk(wire.body)
    assert ended
    assert b"".join(chunks) == body.data
    assert {len(chunk) for chunk in chunks[:-1]} <= {CHUNK}
    assert 0 < len(chunks[-1]) <= CHUNK


@pytest.mark.parametrize("body", SSE)
def test_length_sends_a_content_length(server: ReplayServer, body: Body) -> None:
    response, payload = fetch(server, f"/length/v1/sse/{body.name}")
    assert response.status == 200
    assert response.getheader("Content-Length") == str(len(body.data))
    assert response.getheader("Transfer-Encoding") is None
    assert payload == body.data


@pytest.mark.parametrize("body", SSE)
def test_close_ends_the_body_by_closing(server: ReplayServer, body: Body) -> None:
    wire = raw_get(server, f"/close/v1/sse/{body.name}")
    assert wire.status == 200
    assert wire.headers["connection"] == "close"
    assert "content-length" not in wire.headers
    assert "transfer-encoding" not in wire.headers
    assert wire.body == body.data


@pytest.mark.parametrize("body", SSE)
def test_keepalive_adds_a_comment_before_every_event(server: ReplayServer, body: Body) -> None:
    wire = raw_get(server, f"/keepalive/v1/sse/{body.name}")
    chunks, ended = dechunk(wire.body)
    payload = b"".join(chunks)
    assert ended
    assert payload.startswith(KEEPALIVE_COMMENT)
    assert payload.replace(KEEPALIVE_COMMENT, b"") == body.data
    assert payload.count(KEEPALIVE_COMMENT) == event_count(body.data)
    # Each comment is a write of its own, as a server's keep-alive timer sends it.
    assert chunks.count(KEEPALIVE_COMMENT) == event_count(body.data)
    assert payload == ReplayServer.with_keepalive(body.data)


def _smallest_sse() -> list[Any]:
    files = real_files(".sse")
    if not files:
        return real_params(".sse")
    smallest = min(files, key=lambda f: f.stat().st_size)
    return [pytest.param(Body(smallest.stem, smallest.read_bytes()), id=smallest.name)]


@pytest.mark.parametrize("body", [*_smallest_sse(), pytest.param(CRLF, id=CRLF.name)])
def test_drip_sends_one_byte_a_chunk(server: ReplayServer, body: Body) -> None:
    chunks, ended = dechunk(raw_get(server, f"/drip/v1/sse/{body.name}").body)
    assert ended
    assert {len(chunk) for chunk in chunks} == {1}
    assert b"".join(chunks) == body.data


@pytest.mark.parametrize("body", SSE)
def test_gzip_decodes_chunk_by_chunk(server: ReplayServer, body: Body) -> None:
    wire = raw_get(server, f"/gzip/v1/sse/{body.name}")
    assert wire.headers["content-encoding"] == "gzip"
    chunks, ended = dechunk(wire.body)
    assert ended
    decoder = zlib.decompressobj(wbits=31)
    # Sync-flushed: every chunk decodes to the next CHUNK bytes the moment it arrives.
    for index, chunk in enumerate(chunks[:-1]):
        assert decoder.decompress(chunk) == body.data[index * CHUNK : (index + 1) * CHUNK]
    assert decoder.decompress(chunks[-1]) == b""  # the trailer
    assert decoder.eof
    assert gzip.decompress(b"".join(chunks)) == body.data


@pytest.mark.parametrize("mode", ["plain", "length", "close", "gzip", "drip+gzip+length"])
@pytest.mark.parametrize("body", JSON)
def test_json_bodies_in_every_framing(server: ReplayServer, body: Body, mode: str) -> None:
    response, payload = fetch(server, f"/{mode}/v1/json/{body.name}")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert (gzip.decompress(payload) if "gzip" in mode else payload) == body.data


def test_a_large_body_streams(server: ReplayServer) -> None:
    """The benchmarks' case: many megabytes from memory, in every framing."""
    data = CRLF.data * (2_000_000 // len(CRLF.data))
    server.add("large", data, "sse")
    for mode in ("plain", "length", "gzip"):
        _, payload = fetch(server, f"/{mode}/v1/sse/large")
        assert (gzip.decompress(payload) if mode == "gzip" else payload) == data


# -- faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", SSE)
def test_drop_cuts_mid_event_without_the_last_chunk(server: ReplayServer, body: Body) -> None:
    offset = ReplayServer.drop_offset(body.data)
    assert 0 < offset < len(body.data)
    line = body.data[body.data.rfind(b"\n", 0, offset) + 1 : offset]
    assert line.startswith(b"data:")  # inside an event's data ...
    assert body.data[offset : offset + 1] not in (b"\r", b"\n")  # ... not at its end
    middle = len(body.data) // 2
    between = body.data[min(middle, offset) : max(middle, offset)].replace(b"\r\n", b"\n")
    assert b"\n\n" not in between  # the event holding the middle byte

    chunks, ended = dechunk(raw_get(server, f"/drop/v1/sse/{body.name}").body)
    assert not ended
    assert b"".join(chunks) == body.data[:offset]

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", f"/drop/v1/sse/{body.name}")
        response = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead) as info:
            response.read()
        assert info.value.partial == body.data[:offset]
    finally:
        conn.close()


@pytest.mark.parametrize("body", SSE)
def test_drop_close_ends_cleanly_mid_event(server: ReplayServer, body: Body) -> None:
    response, payload = fetch(server, f"/drop+close/v1/sse/{body.name}")
    assert response.getheader("Transfer-Encoding") is None
    assert response.getheader("Content-Length") is None
    assert payload == body.data[: ReplayServer.drop_offset(body.data)]


@pytest.mark.parametrize("mode", ["drop+length", "gzip+drop", "drip+drop", "keepalive+drop"])
def test_drop_combines(server: ReplayServer, mode: str) -> None:
    data = ReplayServer.with_keepalive(CRLF.data) if "keepalive" in mode else CRLF.data
    sent = data[: ReplayServer.drop_offset(data)]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", f"/{mode}/v1/sse/{CRLF.name}")
        response = conn.getresponse()
        if "length" in mode:
            assert response.getheader("Content-Length") == str(len(data))
        with pytest.raises(http.client.IncompleteRead) as info:
            response.read()
    finally:
        conn.close()
    partial = info.value.partial
    if "gzip" in mode:
        partial = zlib.decompressobj(wbits=31).decompress(partial)  # no trailer: no gzip.
    assert partial == sent


def test_drop_offset() -> None:
    event = b"event: a\r\ndata: 0123456789\r\n\r\n"  # 30 bytes; data 46..56 in the second
    assert ReplayServer.drop_offset(event * 3) == 46 + 5
    assert ReplayServer.drop_offset(b'{"id": "step_1"}') == 8  # one event, no data line
    assert ReplayServer.drop_offset(b"data: ab\ndata: cdef\n\n") == 6 + (19 - 6) // 2
    assert ReplayServer.drop_offset(b"") == 0


def test_with_keepalive_splits_on_every_line_end() -> None:
    c = KEEPALIVE_COMMENT
    crlf = b"data: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\ndata: 4"
    assert ReplayServer.with_keepalive(crlf) == (
        c + b"data: 1\r\ndata: 2\r\n\r\n" + c + b"data: 3\r\n\r\n" + c + b"data: 4"
    )
    assert ReplayServer.with_keepalive(b"data: 1\r\rdata: 2\n\r\n") == (
        c + b"data: 1\r\r" + c + b"data: 2\n\r\n"
    )
    assert ReplayServer.with_keepalive(b"") == c


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", "server_error"),
        (503, "server_error", "server_error"),
        (400, "invalid_request_error", "bad_request"),
        (404, "invalid_request_error", "not_found"),
    ],
)
def test_error_modes(server: ReplayServer, status: int, kind: str, code: str) -> None:
    response, payload = fetch(
        server, f"/error-{status}/v1/threads/any/runs", method="POST", body=b'{"stream": true}'
    )
    assert response.status == status
    assert response.getheader("Content-Type") == "application/json"
    error = json.loads(payload)["error"]
    assert error == {"message": error["message"], "type": kind, "param": None, "code": code}
    assert str(status) in error["message"]


def test_stall_times_a_client_out_and_close_releases_it() -> None:
    offset = ReplayServer.drop_offset(CRLF.data)
    replay = ReplayServer(None, stall_seconds=10.0).start()
    conns = [http.client.HTTPConnection("127.0.0.1", replay.port, timeout=0.5) for _ in "ab"]
    try:
        replay.add(CRLF.name, CRLF.data, "sse")
        for conn in conns:
            conn.request("GET", f"/stall/v1/sse/{CRLF.name}")
            response = conn.getresponse()
            assert response.read(offset) == CRLF.data[:offset]
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                response.read(1)
            assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        replay.close()  # both handlers are waiting out their 10 s stall
        assert time.monotonic() - started < 2.0
        mine = f"replay-{replay.port}-"
        assert [t.name for t in threading.enumerate() if t.name.startswith(mine)] == []
    finally:
        for conn in conns:
            conn.close()
        replay.close()
    assert replay.errors == []


def test_stall_closes_after_stall_seconds() -> None:
    offset = ReplayServer.drop_offset(CRLF.data)
    with ReplayServer(None, stall_seconds=0.2) as replay:
        replay.add(CRLF.name, CRLF.data, "sse")
        started = time.monotonic()
        with pytest.raises(http.client.IncompleteRead) as info:
            fetch(replay, f"/stall/v1/sse/{CRLF.name}")
        assert 0.15 < time.monotonic() - started < 3.0
        assert info.value.partial == CRLF.data[:offset]
        _, payload = fetch(replay, f"/stall+close/v1/sse/{CRLF.name}")  # a clean end of file
        assert payload == CRLF.data[:offset]
    assert replay.errors == []


# -- pages and steps -------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize("body", PAGES)
def test_pages_concatenate_to_the_fixture(server: ReplayServer, body: Body, limit: int) -> None:
    fixture = json.loads(body.data)
    items = raw_items(body.data)
    pages: list[dict[str, Any]] = []
    got: list[bytes] = []
    after = ""
    for _ in range(len(items) + 2):
        query = f"?limit={limit}&order=desc&api-version=2025-05-01" + after
        response, payload = fetch(server, f"/plain/v1/threads/{body.name}/runs/run/steps{query}")
        assert response.status == 200
        page = json.loads(payload)
        page_items = raw_items(payload)
        ids = [json.loads(item)["id"] for item in page_items]
        assert page["first_id"] == (ids[0] if ids else None)
        assert page["last_id"] == (ids[-1] if ids else None)
        assert {k: v for k, v in page.items() if k not in SLICE_FIELDS} == {
            k: v for k, v in fixture.items() if k not in SLICE_FIELDS
        }
        pages.append(page)
        got.extend(page_items)
        if not page["has_more"]:
            break
        after = f"&after={page['last_id']}"
    else:
        raise AssertionError("has_more never ended")
    assert got == items  # byte for byte, item by item
    # A recorded has_more: true is kept on the last slice; following it gives an empty page.
    assert len(pages) == math.ceil(len(items) / limit) + bool(fixture["has_more"])
    assert [page["has_more"] for page in pages] == [True] * (len(pages) - 1) + [False]


@pytest.mark.parametrize("prefix", ["v1/", "openai/", ""])
@pytest.mark.parametrize("body", PAGES)
def test_a_page_that_fits_is_the_fixture(server: ReplayServer, body: Body, prefix: str) -> None:
    _, payload = fetch(server, f"/plain/{prefix}threads/{body.name}/runs/run/steps?limit=100")
    assert payload == body.data


@pytest.mark.parametrize(
    ("query", "param"), [("limit=0", "limit"), ("limit=x", "limit"), ("after=nope", "after")]
)
def test_page_queries_it_refuses(server: ReplayServer, query: str, param: str) -> None:
    response, payload = fetch(server, f"/plain/v1/threads/{PAGE.name}/runs/run/steps?{query}")
    assert response.status == 400
    assert json.loads(payload)["error"]["param"] == param


@pytest.mark.parametrize("body", JSON)
def test_a_step_by_id_is_its_own_bytes(server: ReplayServer, body: Body) -> None:
    steps = f"/plain/v1/threads/{body.name}/runs/run/steps"
    if json.loads(body.data)["object"] == "list":
        for item in raw_items(body.data):
            _, payload = fetch(server, f"{steps}/{json.loads(item)['id']}")
            assert payload == item
        response, _ = fetch(server, f"{steps}/step_unknown")
        assert response.status == 404
    else:
        _, payload = fetch(server, f"{steps}/step_any")
        assert payload == body.data


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/plain/v1/sse/no-such-body"),
        ("GET", "/plain/v1/json/no-such-body"),
        ("POST", "/plain/v1/threads/no-such-body/runs"),
        ("GET", "/plain/v1/threads/no-such-body/runs/run/steps"),
        ("GET", f"/plain/v1/sse/{PAGE.name}"),  # a JSON body is no event stream
        ("GET", "/plain/v1/no/such/route"),
    ],
)
def test_unknown_names_are_404(server: ReplayServer, method: str, path: str) -> None:
    response, payload = fetch(server, path, method=method, body=b"{}")
    assert response.status == 404
    assert response.getheader("Content-Type") == "application/json"
    error = json.loads(payload)["error"]
    assert error == {
        "message": error["message"],
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_an_unknown_mode_is_400(server: ReplayServer) -> None:
    response, payload = fetch(server, f"/bogus+gzip/v1/sse/{CRLF.name}")
    assert response.status == 400
    assert "bogus" in json.loads(payload)["error"]["message"]


# -- requests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [
        f"threads/{CRLF.name}/runs",
        f"threads/{CRLF.name}/runs/run_1/submit_tool_outputs",
        "threads/runs",
    ],
)
@pytest.mark.parametrize("prefix", ["v1/", "openai/", ""])
def test_post_routes_stream_and_are_recorded(server: ReplayServer, route: str, prefix: str) -> None:
    tag = f"{prefix}{route}"
    request = json.dumps({"assistant_id": CRLF.name, "stream": True}).encode()
    path = f"/plain/{prefix}{route}?api-version=2025-05-01"
    headers = {"Content-Type": "application/json", "X-Test": tag}
    response, payload = fetch(server, path, method="POST", body=request, headers=headers)
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    assert payload == CRLF.data
    (record,) = [r for r in server.requests if r.headers.get("x-test") == tag]
    assert record.method == "POST"
    assert record.path == f"/plain/{prefix}{route}"
    assert record.query == {"api-version": "2025-05-01"}
    assert record.headers["content-type"] == "application/json"
    assert record.body == request
    assert record.json()["assistant_id"] == CRLF.name


def test_a_non_streaming_run_is_refused(server: ReplayServer) -> None:
    body = b'{"assistant_id": "a", "stream": false}'
    response, _ = fetch(server, f"/plain/v1/threads/{CRLF.name}/runs", method="POST", body=body)
    assert response.status == 400


def test_a_chunked_request_body_is_read(server: ReplayServer) -> None:
    body = json.dumps({"assistant_id": CRLF.name}).encode()
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, body[:5], len(body) - 5, body[5:])
    request = (
        b"POST /plain/v1/threads/runs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"X-Test: chunked-request\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
    )
    wire = raw_request(server, request)
    assert wire.status == 200
    assert b"".join(dechunk(wire.body)[0]) == CRLF.data
    (record,) = [r for r in server.requests if r.headers.get("x-test") == "chunked-request"]
    assert record.body == body


def test_requests_share_a_keep_alive_connection(server: ReplayServer) -> None:
    paths = [
        f"/plain/v1/sse/{CRLF.name}",
        f"/length/v1/sse/{CRLF.name}",
        f"/gzip+keepalive/v1/sse/{CRLF.name}",
        f"/drip/v1/json/{PAGE.name}",
        f"/plain/v1/threads/{PAGE.name}/runs/run/steps?limit=2",
        "/error-429/v1/threads/any/runs",
        "/plain/v1/sse/no-such-body",
    ]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        sock = None
        for index, path in enumerate(paths):
            conn.request("GET", path, headers={"X-Test": f"keep-alive-{index}"})
            response = conn.getresponse()
            response.read()
            assert not response.will_close
            sock = sock or conn.sock
            assert conn.sock is sock
    finally:
        conn.close()
    peers = {r.peer for r in server.requests if r.headers.get("x-test", "").startswith("keep-")}
    assert len(peers) == 1


def test_urls(server: ReplayServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.base_url() == f"{server.url}/plain/v1"
    assert server.base_url("gzip+drip") == f"{server.url}/gzip+drip/v1"


def test_add_checks_its_arguments(server: ReplayServer) -> None:
    with pytest.raises(ValueError, match="kind"):
        server.add("x", b"", "xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="segment"):
        server.add("a/b", b"", "sse")


# -- the command -----------------------------------------------------------------------


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT", "stdin"])
def test_the_command_serves_until_told_to_stop(stop: str) -> None:
    command = [sys.executable, "-m", "stepgen.server", "--port", "0"]
    with subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 10)
            assert ready, "no URL printed in 10 s"
            url = proc.stdout.readline().decode().strip()
            assert url.startswith("http://127.0.0.1:")
            conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
            try:
                conn.request("GET", "/plain/v1/json/no-such-body")
                response = conn.getresponse()
                assert response.status == 404
                assert json.loads(response.read())["error"]["type"] == "invalid_request_error"
            finally:
                conn.close()
            if stop == "stdin":
                proc.stdin.close()
            else:
                proc.send_signal(getattr(signal, stop))
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


def test_the_command_refuses_a_missing_directory() -> None:
    missing = ROOT / "no-such-fixtures"
    result = subprocess.run(
        [sys.executable, "-m", "stepgen.server", "--fixtures", str(missing)],
        cwd=ROOT,
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 2
    assert b"not a directory" in result.stderr
