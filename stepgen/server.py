"""A real HTTP server that replays recorded Assistants API bodies, with fault modes.

Tests of stepwire's HTTP integrations need a server that behaves like
api.openai.com (or an Azure AI Agents endpoint) on the wire: real sockets,
HTTP/1.1 keep-alive, chunked event streams flushed as they are written, and
the ways such streams go wrong in production (a proxy that gzips, a load
balancer that cuts a connection mid-event, a server that stops talking). A
mock transport cannot show how httpx or openai-python's own client reacts to
those; a socket can. :class:`ReplayServer` serves the recorded corpus
(``shared/fixtures/real``, or ``STEPWIRE_FIXTURES``) and bodies added in
memory (the benchmarks' generated streams of many megabytes), and records
every request it receives so that tests can assert on what a client sent.

Standard library only (``http.server``, ``socket``, ``threading``, ``zlib``)
plus msgspec, to slice pages without re-encoding their items.

Routes
------
Every path is ``/{mode}/`` followed by any prefix (``v1/``, ``openai/`` or
nothing); the route is matched on the path's tail, and query strings such as
``api-version=...`` do not change it. A body is named by its fixture's file
stem, or by the name given to :meth:`ReplayServer.add`.

``POST .../threads/{thread_id}/runs[/{run_id}/submit_tool_outputs]``
    the SSE body named ``thread_id`` (``runs.create(stream=True)``,
    ``runs.stream()``, ``submit_tool_outputs(stream=True)``).
``POST .../threads/runs``
    the SSE body named by the JSON request's ``assistant_id``
    (``create_and_run``). POST routes always stream: a request with
    ``"stream": false`` gets a 400 rather than an event stream the client
    would fail to parse as a run object.
``GET .../sse/{name}``, ``GET .../json/{name}``
    the body as it is, for plain HTTP clients.
``GET .../threads/{thread_id}/runs/{run_id}/steps``
    a page sliced from the page body named ``thread_id``: ``limit``
    (default 20, at most 100) and ``after`` as the API takes them, ``order``
    accepted and ignored (the fixture's order is kept). Each item is the
    fixture's own bytes; ``first_id``, ``last_id`` and ``has_more`` describe the
    slice. The last slice carries the fixture's own ``has_more``, so a request
    that fits the whole page gets the fixture back byte for byte, and a client
    that follows a recorded ``has_more: true`` gets an empty last page.
``GET .../threads/{thread_id}/runs/{run_id}/steps/{step_id}``
    the step body named ``thread_id`` (whatever its id), or the step with that
    id inside the page named ``thread_id``.

An unknown body or route gets a 404 with an OpenAI-style error body.

Modes
-----
The path's first segment; several are joined by ``+`` (``gzip+drip``).

``plain``
    ``Transfer-Encoding: chunked``, chunks of ``chunk`` bytes, each sent as
    it is written.
``drip``
    chunks of one byte.
``keepalive``
    an SSE comment ``: keep-alive`` before every event (so the stream opens
    with one), each its own chunk; see :meth:`ReplayServer.with_keepalive`.
``gzip``
    ``Content-Encoding: gzip``, compressed with a sync flush per chunk so that
    a client decodes each chunk as it arrives.
``length``
    ``Content-Length`` instead of chunked.
``close``
    neither length nor chunked: the body ends when the server closes
    (``Connection: close``).
``drop``
    the body up to :meth:`ReplayServer.drop_offset` (halfway through the data
    of the event holding the body's middle byte), then the socket is shut
    down with no terminating chunk: a broken response. With ``close``, a
    clean end of file in the middle of an event; with ``length``, a short body.
``stall``
    the body up to the same cut, then nothing until ``stall_seconds`` pass
    or the server closes; then the connection is closed.
``error-<status>``
    that status (400 to 599) with an OpenAI-style JSON error, whatever the
    route; it takes no other mode.

With ``keepalive``, the cut of ``drop`` and ``stall`` is the drop offset of
the body with its comments; with ``gzip``, the cut counts decoded bytes.

Everything is bounded: connections have a socket timeout, handlers run in
daemon threads, and :meth:`ReplayServer.close` shuts every open connection
down (a stalled one included) and waits a bounded time for its handler.

``python -m stepgen.server [--port 0] [--fixtures DIR]`` serves from the
command line: it prints the URL as its first line and serves until SIGTERM,
SIGINT, or the end of its standard input (so that it dies with a parent that
holds the other end of the pipe; with stdin ``/dev/null`` it exits at once).

Examples
--------
>>> with ReplayServer() as server:  # doctest: +SKIP
...     client = openai.OpenAI(base_url=server.base_url("gzip"), api_key="-", max_retries=0)
...     stream = client.beta.threads.runs.create(
...         thread_id="openai__openai-dotnet__StreamingRunWorks", assistant_id="a", stream=True
...     )
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal, cast, overload
from urllib.parse import parse_qsl, unquote, urlsplit

import msgspec

__all__ = [
    "KEEPALIVE_COMMENT",
    "MODES",
    "REAL_FIXTURES",
    "RecordedRequest",
    "ReplayServer",
    "RequestLog",
    "main",
]

Kind = Literal["sse", "json"]

# The same default as tests/helpers.py REAL: the corpus beside the checkout.
REAL_FIXTURES = Path(
    os.environ.get(
        "STEPWIRE_FIXTURES",
        Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "real",
    )
)
#: What ``keepalive`` sends before every event.
KEEPALIVE_COMMENT = b": keep-alive\n\n"
#: The mode names (``error-<status>`` aside).
MODES = ("plain", "drip", "keepalive", "gzip", "length", "close", "drop", "stall")

_DEFAULT_LIMIT = 20  # the API's default page size
_MAX_LIMIT = 100
# Far above any recorded request; a client streaming more is a bug, not a test.
_MAX_REQUEST_BODY = 16 * 1024 * 1024
_MAX_TRAILER_LINES = 100
# How often the accept loop looks at the closing flag: the most close() waits for it.
_POLL_SECONDS = 0.05
# The most close() waits for handlers after shutting their sockets down.
_JOIN_SECONDS = 1.5

# A line end of the event-stream format; a lone \r is one only when no \n follows it, so
# that the two bytes of \r\n are never taken for two line ends.
_EOL = rb"(?:\r\n|\n|\r(?!\n))"
_EVENT_END = re.compile(_EOL + _EOL)
_LINE = re.compile(rb"([^\r\n]*)(?:\r\n|\n|\r|\Z)")


# -- what was received ---------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    Attributes
    ----------
    method, path
        The request line's method and path (without the query string).
    query
        The query parameters; a repeated name keeps its last value.
    headers
        The header fields, names lower-cased; repeated fields joined by ``", "``.
    body
        The request body, read in full (Content-Length or chunked).
    peer
        The client's address: two requests with the same one shared a connection.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self.body)


class RequestLog(Sequence[RecordedRequest]):
    """The requests received so far, in arrival order; safe to read while handlers append.

    Iterating, indexing and ``len`` see a consistent snapshot.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._items.append(request)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...
    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        with self._lock:
            return self._items[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"


# -- modes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Modes:
    drip: bool = False
    keepalive: bool = False
    gzip: bool = False
    length: bool = False
    close: bool = False
    drop: bool = False
    stall: bool = False
    error: int | None = None

    @classmethod
    def parse(cls, text: str) -> _Modes:
        """The modes of a path's first segment; ValueError says what is wrong with it."""
        flags: dict[str, bool] = {}
        error: int | None = None
        tokens = text.split("+")
        for token in tokens:
            if token.startswith("error-"):
                digits = token.removeprefix("error-")
                if not (digits.isdigit() and 400 <= int(digits) <= 599):
                    raise ValueError(f"{token!r}: error-<status> takes a status from 400 to 599")
                error = int(digits)
            elif token in MODES:
                if token != "plain":
                    flags[token] = True
            else:
                names = ", ".join(MODES)
                raise ValueError(f"unknown mode {token!r} (modes: {names}, error-<status>)")
        if error is not None and len(tokens) > 1:
            raise ValueError(f"{text!r}: error-<status> takes no other mode")
        if flags.get("length") and flags.get("close"):
            raise ValueError(f"{text!r}: a body is framed by length or by close, not both")
        if flags.get("drop") and flags.get("stall"):
            raise ValueError(f"{text!r}: drop and stall both cut the body; choose one")
        return cls(error=error, **flags)

    @property
    def cuts(self) -> bool:
        return self.drop or self.stall


# -- event-stream cutting --------------------------------------------------------------


def _event_spans(body: bytes) -> Iterator[tuple[int, int]]:
    """The events of an event stream as (start, end) offsets, each ending after its blank
    line; bytes after the last blank line (an unterminated event) are one more."""
    start = 0
    for match in _EVENT_END.finditer(body):
        yield start, match.end()
        start = match.end()
    if start < len(body):
        yield start, len(body)


def _keepalive_units(body: bytes) -> list[memoryview]:
    """The comment before every event, and the events: what ``keepalive`` sends, in order."""
    comment = memoryview(KEEPALIVE_COMMENT)
    view = memoryview(body)
    units = [comment]
    for start, end in _event_spans(body):
        if units[-1] is not comment:
            units.append(comment)
        units.append(view[start:end])
    return units


def _pieces(units: Iterable[memoryview], size: int, cut: int | None) -> Iterator[memoryview]:
    """The units in pieces of at most ``size`` bytes, one of them ending at ``cut``, so that
    whatever frames the pieces can stop exactly there."""
    offset = 0
    for unit in units:
        position = 0
        while position < len(unit):
            end = min(position + size, len(unit))
            if cut is not None and offset + position < cut < offset + end:
                end = cut - offset
            yield unit[position:end]
            position = end
        offset += len(unit)


def _gzipped(pieces: Iterable[memoryview]) -> Iterator[tuple[int, bytes]]:
    """Each piece compressed and sync-flushed, so that a client can decode what it has
    been sent without waiting for the rest; then the gzip trailer, which decodes to
    nothing. Yields (decoded length, wire bytes)."""
    compressor = zlib.compressobj(wbits=31)
    for piece in pieces:
        yield len(piece), compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield 0, compressor.flush(zlib.Z_FINISH)


# -- pages -----------------------------------------------------------------------------


class _Object(msgspec.Struct):
    kind: str | None = msgspec.field(default=None, name="object")


class _Identified(msgspec.Struct):
    id: str | None = None


class _CreateAndRun(msgspec.Struct):
    assistant_id: str | None = None
    stream: bool | None = None


class _ApiError(Exception):
    """A reply with an OpenAI-style error body, raised where a route gives up."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param
        self.code = code

    def body(self) -> bytes:
        return msgspec.json.encode(
            {
                "error": {
                    "message": self.message,
                    "type": self.kind,
                    "param": self.param,
                    "code": self.code,
                }
            }
        )


def _status_error(status: int) -> _ApiError:
    """What ``error-<status>`` replies: the type and code the API gives that kind of status."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    message = f"Replayed error: HTTP {status} {phrase}"
    if status == 429:
        return _ApiError(status, message, kind="requests", code="rate_limit_exceeded")
    if status >= 500:
        return _ApiError(status, message, kind="server_error", code="server_error")
    code = re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")
    return _ApiError(status, message, code=code)


@dataclass(frozen=True)
class _Page:
    top: dict[str, msgspec.Raw]
    items: list[msgspec.Raw]
    ids: list[str | None]


def _json_kind(body: bytes, name: str) -> str | None:
    try:
        return msgspec.json.decode(body, type=_Object).kind
    except msgspec.DecodeError as exc:
        message = f"JSON body {name!r} is not a JSON object: {exc}"
        raise _ApiError(500, message, kind="server_error") from None


def _split_page(body: bytes, name: str) -> _Page:
    """A page's top-level fields and its items, all as the fixture's own bytes."""
    try:
        top = msgspec.json.decode(body, type=dict[str, msgspec.Raw])
        items = msgspec.json.decode(top.get("data", msgspec.Raw(b"[]")), type=list[msgspec.Raw])
        ids = [msgspec.json.decode(item, type=_Identified).id for item in items]
    except msgspec.DecodeError as exc:
        message = f"JSON body {name!r} is not a page: {exc}"
        raise _ApiError(500, message, kind="server_error") from None
    return _Page(top, items, ids)


def _slice_page(body: bytes, name: str, query: dict[str, str]) -> bytes:
    page = _split_page(body, name)
    limit = _DEFAULT_LIMIT
    if "limit" in query:
        text = query["limit"]
        if not (text.isdigit() and 1 <= int(text) <= _MAX_LIMIT):
            message = f"Invalid 'limit': {text!r}; expected an integer from 1 to {_MAX_LIMIT}."
            raise _ApiError(400, message, param="limit")
        limit = int(text)
    if "before" in query:
        raise _ApiError(400, "The replay server pages forward only ('after').", param="before")
    start = 0
    after = query.get("after")
    if after is not None:
        if after not in page.ids:
            raise _ApiError(400, f"No step {after!r} in page {name!r}.", param="after")
        start = page.ids.index(after) + 1
    end = min(start + limit, len(page.items))
    data = page.items[start:end]
    recorded_more = msgspec.json.decode(page.top.get("has_more", msgspec.Raw(b"false")))
    has_more = end < len(page.items) or (bool(recorded_more) and bool(data))
    first_id = page.ids[start] if data else None
    last_id = page.ids[end - 1] if data else None
    fields: dict[str, object] = {"first_id": first_id, "last_id": last_id, "has_more": has_more}
    if start == 0 and end == len(page.items):
        recorded = {
            key: msgspec.json.decode(page.top.get(key, msgspec.Raw(b"0"))) for key in fields
        }
        if recorded == fields:
            return body  # the whole page: the fixture as recorded, whitespace and all
    encoded = {key: msgspec.Raw(msgspec.json.encode(value)) for key, value in fields.items()}
    encoded["data"] = msgspec.Raw(b"[" + b",".join(bytes(item) for item in data) + b"]")
    out = {key: encoded.pop(key, raw) for key, raw in page.top.items()}
    out.update(encoded)  # fields the fixture lacks
    return msgspec.json.encode(out)


# -- the server ------------------------------------------------------------------------


def _shut(connection: socket.socket) -> None:
    """End a connection now, both ways: a handler blocked on it returns at once."""
    with contextlib.suppress(OSError):  # already shut down, or closed by its handler
        connection.shutdown(socket.SHUT_RDWR)


class _ClientGoneError(Exception):
    """The client went away (or the server is closing): stop handling this connection."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # ReplayServer.close joins the handlers itself, with a limit

    def __init__(self, address: tuple[str, int], replay: ReplayServer) -> None:
        self.replay = replay
        self._handlers = 0
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup of unbounded time.
        socketserver.TCPServer.server_bind(self)
        host, port = cast("tuple[str, int]", self.server_address)[:2]
        self.server_name = host
        self.server_port = port

    def process_request(self, request: Any, client_address: Any) -> None:
        # ThreadingMixIn's, with the threads named and known, so that close() can wait for them.
        self._handlers += 1
        name = f"replay-{self.server_port}-handler-{self._handlers}"
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=name,
            daemon=True,
        )
        self.replay._thread_started(thread)
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.replay._thread_ended(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A handler's bug, not a client's disconnection (those are caught where they happen).
        self.replay.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stepgen-replay/1"
    # Each chunk is its own write; without this, Nagle's algorithm holds small writes back
    # until the previous one is acknowledged, and a drip stream crawls.
    disable_nagle_algorithm = True

    @property
    def replay(self) -> ReplayServer:
        return cast(_HTTPServer, self.server).replay

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.replay.timeout)
        self.replay._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.replay._connection_closed(self.connection)

    def handle(self) -> None:
        # BaseHTTPRequestHandler.handle, stopping when the server closes, and treating a
        # client that went away as the end of the connection rather than an error.
        self.close_connection = True
        try:
            self.handle_one_request()
            while not self.close_connection and not self.replay.closing:
                self.handle_one_request()
        except (_ClientGoneError, ConnectionError, TimeoutError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read .requests; a line per request on stderr is noise

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    # -- one request --

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        self.replay.requests.append(
            RecordedRequest(
                method=self.command,
                path=split.path,
                query=query,
                headers=self._header_fields(),
                body=body,
                peer=self.client_address,
            )
        )
        segments = [unquote(segment) for segment in split.path.split("/") if segment]
        try:
            if not segments:
                raise _ApiError(404, f"Invalid URL ({self.command} {split.path})")
            try:
                modes = _Modes.parse(segments[0])
            except ValueError as exc:
                raise _ApiError(400, f"Replay server: {exc}", param="mode") from None
            if modes.error is not None:
                raise _status_error(modes.error)
            payload, kind = self._route(segments[1:], split.path, query, body)
        except _ApiError as error:
            self._send_error_body(error)
            return
        self._stream(payload, kind, modes)

    def _header_fields(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
        return fields

    def _read_body(self) -> bytes | None:
        """The request body in full, so that the connection stays in step for the next
        request; None when the request was answered (or abandoned) here."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        text = self.headers.get("Content-Length")
        if text is None:
            return b""
        if not text.strip().isdigit():
            self.close_connection = True
            self._send_error_body(_ApiError(400, f"Invalid Content-Length: {text!r}"))
            return None
        length = int(text)
        if length > _MAX_REQUEST_BODY:
            self.close_connection = True
            self._send_error_body(_ApiError(413, f"Request body of {length} bytes is too large"))
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            raise _ClientGoneError
        return body

    def _read_chunked_body(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        # Each round reads a size line and at least one byte, or ends: at most
        # _MAX_REQUEST_BODY + 1 rounds.
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                if not line:
                    raise _ClientGoneError from None
                size = -1
            if size < 0 or total + size > _MAX_REQUEST_BODY:
                self.close_connection = True
                self._send_error_body(_ApiError(400, "Malformed or oversized chunked body"))
                return None
            if size == 0:
                break
            part = self.rfile.read(size)
            if len(part) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _ClientGoneError
            parts.append(part)
            total += size
        for _ in range(_MAX_TRAILER_LINES):
            if self.rfile.readline(65537) in (b"\r\n", b"\n", b""):
                break
        return b"".join(parts)

    def _route(
        self, tail: list[str], path: str, query: dict[str, str], body: bytes
    ) -> tuple[bytes, Kind]:
        n = len(tail)
        if self.command == "POST":
            if n >= 5 and (tail[-5], tail[-3], tail[-1]) == (
                "threads",
                "runs",
                "submit_tool_outputs",
            ):
                return self._stream_body(tail[-4], body), "sse"
            elif n >= 2 and tail[-2:] == ["threads", "runs"]:
                try:
                    request = msgspec.json.decode(body or b"{}", type=_CreateAndRun)
                except msgspec.DecodeError as exc:
                    raise _ApiError(400, f"Invalid JSON body: {exc}") from None
                if not request.assistant_id:
                    raise _ApiError(400, "Missing 'assistant_id'.", param="assistant_id")
                return self._stream_body(request.assistant_id, body), "sse"
            elif n >= 3 and tail[-3] == "threads" and tail[-1] == "runs":
                return self._stream_body(tail[-2], body), "sse"
        elif self.command == "GET":
            if n >= 2 and tail[-2] in ("sse", "json"):
                kind: Kind = "sse" if tail[-2] == "sse" else "json"
                return self._body(tail[-1], kind), kind
            if n >= 5 and tail[-5] == "threads" and tail[-3] == "runs" and tail[-1] == "steps":
                name = tail[-4]
                page = self._body(name, "json")
                if _json_kind(page, name) != "list":
                    raise _ApiError(404, f"JSON body {name!r} is not a page (object: list).")
                return _slice_page(page, name, query), "json"
            if n >= 6 and tail[-6] == "threads" and tail[-4] == "runs" and tail[-2] == "steps":
                return self._step(tail[-5], tail[-1]), "json"
        raise _ApiError(404, f"Invalid URL ({self.command} {path})")

    def _body(self, name: str, kind: Kind) -> bytes:
        body = self.replay._lookup(name, kind)
        if body is None:
            raise _ApiError(404, f"No {kind} body named {name!r}.")
        return body

    def _stream_body(self, name: str, request: bytes) -> bytes:
        if request:
            try:
                stream = msgspec.json.decode(request, type=_CreateAndRun).stream
            except msgspec.DecodeError:
                stream = None  # not JSON: a plain client's POST; stream regardless
            if stream is False:
                raise _ApiError(400, "The replay server only streams: send stream=true.")
        return self._body(name, "sse")

    def _step(self, name: str, step_id: str) -> bytes:
        body = self._body(name, "json")
        kind = _json_kind(body, name)
        if kind == "thread.run.step":
            return body
        if kind == "list":
            page = _split_page(body, name)
            if step_id in page.ids:
                return bytes(page.items[page.ids.index(step_id)])
        raise _ApiError(404, f"No step found with id {step_id!r} in {name!r}.", param="step_id")

    # -- replies --

    def _write(self, data: bytes | memoryview) -> None:
        try:
            self.wfile.write(data)
        except OSError as exc:
            raise _ClientGoneError from exc

    def _send_error_body(self, error: _ApiError) -> None:
        payload = error.body()
        self.send_response(error.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", self.replay._request_id())
        self._end_headers()
        self._write(payload)

    def _end_headers(self) -> None:
        try:
            self.end_headers()
        except OSError as exc:
            raise _ClientGoneError from exc

    def _stream(self, body: bytes, kind: Kind, modes: _Modes) -> None:
        replay = self.replay
        if modes.keepalive:
            units = _keepalive_units(body)
            payload = b"".join(units) if modes.cuts else body
        else:
            units = [memoryview(body)]
            payload = body
        cut = ReplayServer.drop_offset(payload) if modes.cuts else None
        size = 1 if modes.drip else replay.chunk
        wire: Iterable[tuple[int, bytes | memoryview]]
        pieces = _pieces(units, size, cut)
        wire = _gzipped(pieces) if modes.gzip else ((len(piece), piece) for piece in pieces)
        chunked = not (modes.length or modes.close) and self.request_version != "HTTP/1.0"

        self.send_response(200)
        self.send_header(
            "Content-Type", "text/event-stream" if kind == "sse" else "application/json"
        )
        if kind == "sse":
            self.send_header("Cache-Control", "no-cache")
        if modes.gzip:
            self.send_header("Content-Encoding", "gzip")
        if modes.length:
            # The length of the whole body, even where it will be cut: a short body.
            wire = list(wire)
            self.send_header("Content-Length", str(sum(len(data) for _, data in wire)))
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.send_header("x-request-id", replay._request_id())
        self._end_headers()

        sent = 0
        for decoded, data in wire:
            if cut is not None and sent >= cut:
                break
            if data:  # an empty chunk would end the body
                self._write(b"".join((b"%x\r\n" % len(data), data, b"\r\n")) if chunked else data)
            sent += decoded
        if cut is None:
            if chunked:
                self._write(b"0\r\n\r\n")
            return
        if modes.stall:
            replay._closed.wait(replay.stall_seconds)
        # No terminating chunk, no more bytes: the client sees the connection end mid-body.
        self.close_connection = True
        _shut(self.connection)


class ReplayServer:
    """An HTTP/1.1 server on 127.0.0.1 that replays recorded API bodies, with fault modes.

    It serves the recorded corpus and bodies added with :meth:`add` under the
    routes and modes the module docstring lists, so that tests can point real
    clients (``httpx``, ``OpenAI(base_url=server.base_url(...))``) at a real
    socket and see how they handle chunking, compression, keep-alive, and
    connections that break. Use it as a context manager, or call
    :meth:`start` and :meth:`close`.

    Parameters
    ----------
    fixtures
        The directory of ``*.sse`` and ``*.json`` bodies, named by file stem
        (default: ``STEPWIRE_FIXTURES`` or ``shared/fixtures/real`` beside the
        checkout). None, or a directory that is absent, serves added bodies only.
    chunk
        The size of each HTTP chunk (and of each write).
    stall_seconds
        How long ``stall`` holds a connection open before closing it.
    port
        The port to listen on; 0 picks a free one.
    timeout
        The socket timeout of every connection: how long a handler waits for
        a request, or for a client to take what it is sent.

    Attributes
    ----------
    requests : RequestLog
        Every request received, in order.
    errors : list[str]
        Tracebacks of handler failures that were not a client going away:
        empty unless the server has a bug.
    """

    def __init__(
        self,
        fixtures: Path | None = REAL_FIXTURES,
        *,
        chunk: int = 256,
        stall_seconds: float = 10.0,
        port: int = 0,
        timeout: float = 30.0,
    ) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1 byte, not {chunk}")
        if stall_seconds < 0:
            raise ValueError(f"stall_seconds must not be negative, not {stall_seconds}")
        if timeout <= 0:
            raise ValueError(f"timeout must be above 0, not {timeout}")
        self.fixtures = None if fixtures is None else Path(fixtures)
        self.chunk = chunk
        self.stall_seconds = stall_seconds
        self.timeout = timeout
        self.port = port
        self.requests = RequestLog()
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._added: dict[tuple[Kind, str], bytes] = {}
        # Indexed once, so that a name from a URL can only ever pick a file listed here.
        self._files: dict[tuple[Kind, str], Path] = {}
        if self.fixtures is not None and self.fixtures.is_dir():
            for path in sorted(self.fixtures.iterdir()):
                if path.suffix in (".sse", ".json") and path.is_file():
                    kind: Kind = "sse" if path.suffix == ".sse" else "json"
                    self._files[kind, path.stem] = path
        self._httpd: _HTTPServer | None = None
        self._accept: threading.Thread | None = None
        self._closed = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._replies = 0

    # -- bodies --

    def add(self, name: str, body: bytes, kind: Kind) -> None:
        """Serve ``body`` as ``name`` (over a fixture of that name and kind)."""
        if kind not in ("sse", "json"):
            raise ValueError(f"kind must be 'sse' or 'json', not {kind!r}")
        if not name or "/" in name:
            raise ValueError(f"a body's name is one path segment, not {name!r}")
        with self._lock:
            self._added[kind, name] = bytes(body)

    def names(self, kind: Kind) -> list[str]:
        """The names of the bodies of this kind it serves."""
        with self._lock:
            added = {name for k, name in self._added if k == kind}
        return sorted(added | {name for k, name in self._files if k == kind})

    def _lookup(self, name: str, kind: Kind) -> bytes | None:
        with self._lock:
            body = self._added.get((kind, name))
        if body is not None:
            return body
        path = self._files.get((kind, name))
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    @staticmethod
    def drop_offset(body: bytes) -> int:
        """How many bytes of ``body`` ``drop`` and ``stall`` send before they cut it.

        The cut falls halfway through the data of the event that holds the
        body's middle byte (from the first ``data:`` value's start to the last
        one's end), or halfway through that event where it has no data line
        (a JSON body is one event).
        """
        if not body:
            return 0
        middle = len(body) // 2
        start, end = next((s, e) for s, e in _event_spans(body) if s <= middle < e)
        first: int | None = None
        last = 0
        for match in _LINE.finditer(body, start, end):
            line = match.group(1)
            if line.startswith(b"data:"):
                value = match.start(1) + 5 + (line[5:6] == b" ")
                first = value if first is None else first
                last = match.end(1)
        if first is not None and last > first:
            return first + (last - first) // 2
        return start + (end - start) // 2

    @staticmethod
    def with_keepalive(body: bytes) -> bytes:
        """``body`` as ``keepalive`` sends it: :data:`KEEPALIVE_COMMENT` before every event.

        Events end at blank lines (``\\n``, ``\\r\\n`` or ``\\r`` line ends); bytes
        after the last blank line count as one more event.
        """
        return b"".join(_keepalive_units(body))

    # -- life --

    def start(self) -> ReplayServer:
        """Listen and serve in a daemon thread; returns the server."""
        if self._httpd is not None:
            raise RuntimeError("a ReplayServer starts once")
        self._httpd = _HTTPServer(("127.0.0.1", self.port), self)
        self._httpd.timeout = _POLL_SECONDS
        self.port = self._httpd.server_port
        self._accept = threading.Thread(
            target=self._serve, name=f"replay-{self.port}-accept", daemon=True
        )
        self._accept.start()
        return self

    def _serve(self) -> None:
        httpd = self._httpd
        assert httpd is not None
        # Each round waits at most _POLL_SECONDS for a connection, then looks at the flag.
        while not self._closed.is_set():
            httpd.handle_request()

    def close(self) -> None:
        """Stop accepting, shut every connection down, and wait (1.5 s at most) for the
        handlers; a stalled one is released at once. Safe to call twice."""
        httpd = self._httpd
        if httpd is None or self._closed.is_set():
            self._closed.set()
            return
        self._closed.set()
        if self._accept is not None:
            self._accept.join(_POLL_SECONDS * 10)
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            _shut(connection)
        deadline = time.monotonic() + _JOIN_SECONDS
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        httpd.server_close()

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed.is_set()

    def __enter__(self) -> ReplayServer:
        return self if self._httpd is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, once started."""
        if self._httpd is None:
            raise RuntimeError("the server has not been started")
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, mode: str = "plain") -> str:
        """The base URL a client takes to be served in ``mode`` (``"gzip+drip"``)."""
        return f"{self.url}/{mode}/v1"

    # -- bookkeeping for the handlers --

    def _request_id(self) -> str:
        with self._lock:
            self._replies += 1
            return f"req_replay_{self._replies}"

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
        if self._closed.is_set():  # accepted as close() ran: end it too
            _shut(connection)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _thread_started(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.add(thread)

    def _thread_ended(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.discard(thread)

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "not started"
        return f"ReplayServer({where}, fixtures={self.fixtures})"


# -- command line ----------------------------------------------------------------------


def _watch_stdin(stop: threading.Event) -> None:
    """Set ``stop`` when standard input ends: the parent holding the pipe is gone."""
    try:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered read holds the
        # buffer's lock, which the interpreter takes at exit.
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    stop.set()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM, SIGINT or the end of stdin; the URL is the first line out."""
    parser = argparse.ArgumentParser(
        prog="python -m stepgen.server",
        description="Replay recorded Assistants API bodies over HTTP, with fault modes.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 (the default) picks a free port")
    parser.add_argument("--fixtures", type=Path, default=None, help="a directory of bodies")
    parser.add_argument("--chunk", type=int, default=256, help="HTTP chunk size in bytes")
    parser.add_argument("--stall-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    fixtures: Path = REAL_FIXTURES if args.fixtures is None else args.fixtures
    if args.fixtures is not None and not fixtures.is_dir():
        parser.error(f"--fixtures {fixtures}: not a directory")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        watcher = threading.Thread(
            target=_watch_stdin, args=(stop,), name="replay-stdin", daemon=True
        )
        watcher.start()
        with ReplayServer(
            fixtures, chunk=args.chunk, stall_seconds=args.stall_seconds, port=args.port
        ) as server:
            print(server.url, flush=True)
            # Timed waits: the signal handler runs in this thread between them.
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
