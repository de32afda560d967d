"""iter_events / aiter_events from the responses users hold, against a real server.

The server is ``stepgen.server.ReplayServer`` on 127.0.0.1 (a real HTTP/1.1
server in a thread), replaying the recorded streams. The clients are real:
httpx, httpx2 (the fork openai-python 3.54 carries), and openai-python's
``OpenAI`` / ``AsyncOpenAI`` pointed at the server. For every recorded stream,
every path gives the events and final snapshots stepwire gives the file's bytes.

openai-python marks every Assistants method deprecated: each call here that
makes one is wrapped in ``pytest.warns(DeprecationWarning)`` (the suite turns
warnings into errors; nothing is switched off globally).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import openai
import pytest

import stepwire
from helpers import assistants_deprecated, real_file, real_params
from stepgen.server import ReplayServer

pytestmark = pytest.mark.filterwarnings("error")

STREAMS = real_params(".sse")
# One recorded stream for the paths x fault modes grid: a whole run, steps and messages.
ONE = "openai__openai-dotnet__StreamingToolCall_submit_tool_outputs"
# A short one, 2.5 KB: two parallel function calls, their arguments split over deltas.
SMALL = "Azure__azure-sdk-for-python__main_stream_response_STEP_EVENTS_ONLY"


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


def offline(body: bytes) -> tuple[list[stepwire.StreamEvent], dict[str, stepwire.RunStep]]:
    """The events and snapshots of the whole body fed at once: what every path must give."""
    acc = stepwire.Accumulator()
    events = acc.feed(body) + acc.close()
    return events, dict(acc.steps)


def offline_done(body: bytes) -> bool:
    acc = stepwire.Accumulator()
    acc.feed(body)
    acc.close()
    return acc.done


def body_of(name: str) -> bytes:
    return real_file(f"{name}.sse").read_bytes()


# -- the byte sources --------------------------------------------------------------


def via_httpx_stream(
    base: str, name: str, acc: stepwire.Accumulator, module: Any = httpx
) -> list[Any]:
    with module.Client(timeout=10) as client, client.stream("GET", f"{base}/sse/{name}") as r:
        events = list(stepwire.iter_events(r, acc))
        assert r.is_closed
    return events


def via_httpx_read(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    with httpx.Client(timeout=10) as client:
        response = client.get(f"{base}/sse/{name}")
        return list(stepwire.iter_events(response, acc))


def via_httpx2_stream(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    return via_httpx_stream(base, name, acc, httpx2)


def via_chunks(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    with httpx.Client(timeout=10) as client, client.stream("GET", f"{base}/sse/{name}") as r:
        return list(stepwire.iter_events(r.iter_bytes(), acc))


def _client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base, api_key="test", max_retries=0, timeout=10)


def via_openai_stream(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    with _client(base) as client:
        with assistants_deprecated():
            stream = client.beta.threads.runs.create(
                thread_id=name, assistant_id="asst_test", stream=True
            )
        assert isinstance(stream, openai.Stream)
        events = list(stepwire.iter_events(stream, acc))
        assert stream.response.is_closed
    return events


def via_openai_streaming_response(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    with _client(base) as client:
        with (
            assistants_deprecated(),
            client.beta.threads.runs.with_streaming_response.create(
                thread_id=name, assistant_id="asst_test", stream=True
            ) as response,
        ):
            events = list(stepwire.iter_events(response, acc))
        assert response.http_response.is_closed
    return events


def via_openai_raw_response(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    with _client(base) as client:
        with assistants_deprecated():
            response = client.beta.threads.runs.with_raw_response.create(
                thread_id=name, assistant_id="asst_test", stream=True
            )
        assert type(response).__name__ == "LegacyAPIResponse"
        return list(stepwire.iter_events(response, acc))


def via_openai_submit(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    with (
        _client(base) as client,
        assistants_deprecated(),
        client.beta.threads.runs.with_streaming_response.submit_tool_outputs(
            run_id="run_test", thread_id=name, tool_outputs=[], stream=True
        ) as response,
    ):
        return list(stepwire.iter_events(response, acc))


SYNC_PATHS: dict[str, Callable[[str, str, stepwire.Accumulator], list[Any]]] = {
    "httpx stream": via_httpx_stream,
    "httpx read": via_httpx_read,
    "httpx2 stream": via_httpx2_stream,
    "chunks": via_chunks,
    "openai Stream": via_openai_stream,
    "openai with_streaming_response": via_openai_streaming_response,
    "openai with_raw_response": via_openai_raw_response,
}


async def avia_httpx_stream(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", f"{base}/sse/{name}") as r,
    ):
        events = [e async for e in stepwire.aiter_events(r, acc)]
        assert r.is_closed
    return events


async def avia_httpx_chunks(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", f"{base}/sse/{name}") as r,
    ):
        return [e async for e in stepwire.aiter_events(r.aiter_bytes(), acc)]


async def avia_openai_stream(base: str, name: str, acc: stepwire.Accumulator) -> list[Any]:
    async with openai.AsyncOpenAI(base_url=base, api_key="test", max_retries=0) as client:
        with assistants_deprecated():
            stream = await client.beta.threads.runs.create(
                thread_id=name, assistant_id="asst_test", stream=True
            )
        assert isinstance(stream, openai.AsyncStream)
        events = [e async for e in stepwire.aiter_events(stream, acc)]
        assert stream.response.is_closed
    return events


async def avia_openai_streaming_response(
    base: str, name: str, acc: stepwire.Accumulator
) -> list[Any]:
    async with openai.AsyncOpenAI(base_url=base, api_key="test", max_retries=0) as client:
        with assistants_deprecated():
            manager = client.beta.threads.runs.with_streaming_response.create(
                thread_id=name, assistant_id="asst_test", stream=True
            )
        async with manager as response:
            return [e async for e in stepwire.aiter_events(response, acc)]


ASYNC_PATHS: dict[str, Callable[[str, str, stepwire.Accumulator], Any]] = {
    "httpx AsyncClient stream": avia_httpx_stream,
    "httpx aiter_bytes": avia_httpx_chunks,
    "openai AsyncStream": avia_openai_stream,
    "openai async with_streaming_response": avia_openai_streaming_response,
}


def run_path(path: str, base: str, name: str) -> tuple[list[Any], stepwire.Accumulator]:
    acc = stepwire.Accumulator()
    if path in SYNC_PATHS:
        return SYNC_PATHS[path](base, name, acc), acc
    return asyncio.run(ASYNC_PATHS[path](base, name, acc)), acc


ALL_PATHS = [*SYNC_PATHS, *ASYNC_PATHS]


# -- every recorded stream, by every path --------------------------------------------


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("fixture", STREAMS)
def test_every_path_gives_the_files_events_and_snapshots(
    server: ReplayServer, fixture: Path, path: str
) -> None:
    events, steps = offline(fixture.read_bytes())
    got, acc = run_path(path, server.base_url("plain"), fixture.stem)
    assert got == events
    assert dict(acc.steps) == steps
    assert acc.done == offline_done(fixture.read_bytes())


def test_submit_tool_outputs_stream(server: ReplayServer) -> None:
    acc = stepwire.Accumulator()
    got = via_openai_submit(server.base_url("plain"), ONE, acc)
    events, steps = offline(body_of(ONE))
    assert got == events
    assert dict(acc.steps) == steps
    last = server.requests[-1]
    assert last.method == "POST"
    assert last.path.endswith(f"/threads/{ONE}/runs/run_test/submit_tool_outputs")


@pytest.mark.parametrize("mode", ["drip", "keepalive", "gzip", "length", "close", "gzip+drip"])
@pytest.mark.parametrize("path", ALL_PATHS)
def test_transfer_modes_change_nothing(server: ReplayServer, mode: str, path: str) -> None:
    """1-byte chunks, keep-alive comments, gzip, a length, a close-delimited body."""
    # 1-byte chunks: a short stream (each byte is an HTTP chunk: about 70 us a byte)
    name = SMALL if "drip" in mode else ONE
    events, steps = offline(body_of(name))
    got, acc = run_path(path, server.base_url(mode), name)
    assert dict(acc.steps) == steps
    if mode == "keepalive":  # the comments are no events; everything else is the same
        assert [(e.event, e.raw) for e in got] == [(e.event, e.raw) for e in events]
    else:
        assert got == events


@pytest.mark.parametrize("mode", ["keepalive", "gzip", "close"])
@pytest.mark.parametrize("fixture", STREAMS)
def test_every_stream_in_every_mode_over_httpx(
    server: ReplayServer, fixture: Path, mode: str
) -> None:
    events, steps = offline(fixture.read_bytes())
    acc = stepwire.Accumulator()
    got = via_httpx_stream(server.base_url(mode), fixture.stem, acc)
    assert [(e.event, e.raw) for e in got] == [(e.event, e.raw) for e in events]
    assert dict(acc.steps) == steps


def test_gzip_is_really_sent_compressed(server: ReplayServer) -> None:
    """The gzip mode's bytes on the wire are gzip: what the clients decoded was compressed."""
    with (
        httpx.Client() as client,
        client.stream("GET", f"{server.base_url('gzip')}/sse/{ONE}") as r,
    ):
        assert r.headers["content-encoding"] == "gzip"
        raw = b"".join(r.iter_raw())
    assert raw != body_of(ONE)
    assert gzip.decompress(raw) == body_of(ONE)


# -- faults ------------------------------------------------------------------------


def _cut(name: str) -> tuple[list[Any], dict[str, Any], int]:
    """What a body cut at the server's drop offset holds: its complete events."""
    body = body_of(name)
    offset = ReplayServer.drop_offset(body)
    acc = stepwire.Accumulator()
    return acc.feed(body[:offset]), dict(acc.steps), offset


@pytest.mark.parametrize("path", ALL_PATHS)
def test_a_dropped_chunked_connection_keeps_what_came_and_raises(
    server: ReplayServer, path: str
) -> None:
    """The server closes the socket inside an event, without the last chunk.

    The events before the cut are delivered and applied; the client's own
    error (an incomplete chunked read) says the body ended early.
    """
    before, steps, _ = _cut(ONE)
    acc = stepwire.Accumulator()
    got: list[Any] = []

    def collect() -> None:
        if path in SYNC_PATHS:
            got.extend(_collect_sync(path, server.base_url("drop"), acc))
        else:
            asyncio.run(_collect_async(path, server.base_url("drop"), acc, got))

    # through an openai object, openai's own error, as its iteration raises it
    expected = openai.APIConnectionError if path.startswith("openai") else httpx.RemoteProtocolError
    if path.startswith("httpx2"):
        expected = httpx2.RemoteProtocolError
    with pytest.raises(expected) as caught:
        collect()
    if path.startswith("openai"):
        assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert got == before
    assert dict(acc.steps) == steps  # the partial snapshots are kept
    assert not acc.done


def _collect_sync(path: str, base: str, acc: stepwire.Accumulator) -> Iterator[Any]:
    # yields as it goes, so that the events before an error are seen
    if path.startswith("openai"):
        with _client(base) as client:
            with assistants_deprecated():
                stream = client.beta.threads.runs.create(
                    thread_id=ONE, assistant_id="asst_test", stream=True
                )
            yield from stepwire.iter_events(stream, acc)
    else:
        module = httpx2 if path.startswith("httpx2") else httpx
        with module.Client(timeout=10) as client, client.stream("GET", f"{base}/sse/{ONE}") as r:
            yield from stepwire.iter_events(r, acc)


async def _collect_async(path: str, base: str, acc: stepwire.Accumulator, into: list[Any]) -> None:
    if path.startswith("openai"):
        async with openai.AsyncOpenAI(base_url=base, api_key="test", max_retries=0) as client:
            with assistants_deprecated():
                stream = await client.beta.threads.runs.create(
                    thread_id=ONE, assistant_id="asst_test", stream=True
                )
            async for event in stepwire.aiter_events(stream, acc):
                into.append(event)  # noqa: PERF401 - one by one: those before an error stay
    else:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream("GET", f"{base}/sse/{ONE}") as r,
        ):
            async for event in stepwire.aiter_events(r, acc):
                into.append(event)  # noqa: PERF401 - one by one: those before an error stay


@pytest.mark.parametrize("path", ["httpx stream", "httpx2 stream", "openai Stream", "async"])
def test_a_body_closed_inside_an_event_is_a_stream_error(server: ReplayServer, path: str) -> None:
    """No length, no chunks: the connection's close ends the body, mid-event.

    The client sees a clean end; stepwire tells the cut from an end: the
    body stopped inside a line, without ``done``.
    """
    before, steps, offset = _cut(ONE)
    acc = stepwire.Accumulator()
    got: list[Any] = []
    base = server.base_url("drop+close")

    def collect() -> None:
        if path == "async":
            asyncio.run(_collect_async("httpx", base, acc, got))
        else:
            got.extend(_collect_sync(path, base, acc))

    with pytest.raises(stepwire.StreamError, match="ended early") as caught:
        collect()
    assert got == before
    assert dict(acc.steps) == steps
    assert str(offset) in str(caught.value)
    # the cut event stays buffered: close() hands it over, here as a bad event
    rest = body_of(ONE)[offset:]
    events = acc.feed(rest) + acc.close()
    assert [e.raw for e in before + events] == [e.raw for e in offline(body_of(ONE))[0]]


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
def test_an_error_status_is_a_response_error(server: ReplayServer, status: int) -> None:
    base = server.base_url(f"error-{status}")
    for module in (httpx, httpx2):
        with module.Client() as client, client.stream("GET", f"{base}/sse/{ONE}") as r:
            with pytest.raises(stepwire.ResponseError) as caught:
                list(stepwire.iter_events(r))
            assert r.is_closed
        error = caught.value
        assert error.status == status
        assert isinstance(error.error, stepwire.ApiError)
        assert isinstance(error.error.message, str)
        assert error.error.message in str(error)
        assert str(status) in str(error)
        assert isinstance(error, stepwire.StepwireError)
        assert error.body.startswith(b"{")


def test_an_error_status_async(server: ReplayServer) -> None:
    async def main() -> stepwire.ResponseError:
        async with (
            httpx.AsyncClient() as client,
            client.stream("GET", f"{server.base_url('error-500')}/sse/{ONE}") as r,
        ):
            with pytest.raises(stepwire.ResponseError) as caught:
                async for _ in stepwire.aiter_events(r):
                    pass
            assert r.is_closed
            return caught.value

    error = asyncio.run(main())
    assert error.status == 500
    assert error.error.type == "server_error"


def test_an_unknown_stream_is_a_404_response_error(server: ReplayServer) -> None:
    url = f"{server.base_url()}/sse/nothing"
    with (
        httpx.Client() as client,
        client.stream("GET", url) as r,
        pytest.raises(stepwire.ResponseError) as caught,
    ):
        next(stepwire.iter_events(r))
    assert caught.value.status == 404


def test_openai_raises_its_own_status_error_first(server: ReplayServer) -> None:
    """openai-python checks the status itself: stepwire never sees the body."""
    with (
        _client(server.base_url("error-429")) as client,
        assistants_deprecated(),
        pytest.raises(openai.RateLimitError),
    ):
        client.beta.threads.runs.create(thread_id=ONE, assistant_id="asst_test", stream=True)


@pytest.mark.parametrize("client_module", [httpx, httpx2])
def test_a_read_timeout_is_the_clients_and_the_accumulator_goes_on(
    server: ReplayServer, client_module: Any
) -> None:
    before, steps, offset = _cut(ONE)
    acc = stepwire.Accumulator()
    got: list[Any] = []
    timeout = client_module.Timeout(5, read=0.3)
    with (
        client_module.Client(timeout=timeout) as client,
        client.stream("GET", f"{server.base_url('stall')}/sse/{ONE}") as r,
    ):
        with pytest.raises(client_module.ReadTimeout):
            got.extend(stepwire.iter_events(r, acc))
        assert r.is_closed
    assert got == before
    assert dict(acc.steps) == steps
    # still usable: the rest of the body, fed by hand, completes the stream
    rest = acc.feed(body_of(ONE)[offset:]) + acc.close()
    events, final = offline(body_of(ONE))
    assert before + rest == events
    assert dict(acc.steps) == final


def test_a_read_timeout_through_openai(server: ReplayServer) -> None:
    """openai's Stream is read through its response: the timeout is openai's own, as its
    own iteration raises it, httpx2's as the cause."""
    acc = stepwire.Accumulator()
    client = openai.OpenAI(
        base_url=server.base_url("stall"), api_key="test", max_retries=0, timeout=0.3
    )
    with client:
        with assistants_deprecated():
            stream = client.beta.threads.runs.create(
                thread_id=ONE, assistant_id="asst_test", stream=True
            )
        with pytest.raises(openai.APITimeoutError) as caught:
            list(stepwire.iter_events(stream, acc))
        assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)
        assert stream.response.is_closed
    assert dict(acc.steps) == _cut(ONE)[1]


# -- closing -----------------------------------------------------------------------


def test_an_early_break_closes_the_response(server: ReplayServer) -> None:
    with httpx.Client() as client, client.stream("GET", f"{server.base_url()}/sse/{ONE}") as r:
        for _ in stepwire.iter_events(r):
            break
        assert r.is_closed


def test_an_early_break_closes_an_openai_stream(server: ReplayServer) -> None:
    with _client(server.base_url()) as client:
        with assistants_deprecated():
            stream = client.beta.threads.runs.create(
                thread_id=ONE, assistant_id="asst_test", stream=True
            )
        events = stepwire.iter_events(stream)
        next(events)
        events.close()
        assert stream.response.is_closed


def test_aclosing_closes_an_async_response_at_once(server: ReplayServer) -> None:
    async def main() -> bool:
        async with (
            httpx.AsyncClient() as client,
            client.stream("GET", f"{server.base_url()}/sse/{ONE}") as r,
        ):
            async with contextlib.aclosing(stepwire.aiter_events(r)) as events:
                async for _ in events:
                    break
            return r.is_closed

    assert asyncio.run(main())


def _stop_at_the_first(events: Iterator[Any]) -> None:
    for _ in events:
        raise KeyError("stop")


def test_an_exception_in_the_loop_closes_the_response(server: ReplayServer) -> None:
    with httpx.Client() as client, client.stream("GET", f"{server.base_url()}/sse/{ONE}") as r:
        with pytest.raises(KeyError):
            _stop_at_the_first(stepwire.iter_events(r))
        assert r.is_closed


def test_done_stops_reading_and_closes(server: ReplayServer) -> None:
    """A stream with ``done`` before the body ends: nothing after it is read."""
    name = "openai__openai-dotnet__StreamingRunWorks"
    body = body_of(name)
    server.add("done-then-more", body + b"event: thread.run.step.created\ndata: {bad\n\n", "sse")
    acc = stepwire.Accumulator()
    # 1-byte chunks: the bad event comes in chunks after the one that completes done
    url = f"{server.base_url('drip')}/sse/done-then-more"
    with httpx.Client() as client, client.stream("GET", url) as r:
        events = list(stepwire.iter_events(r, acc))
        assert r.is_closed
    assert events == offline(body)[0]
    assert acc.done


# -- what is not a source ----------------------------------------------------------


@pytest.mark.parametrize("bad", [42, None, object(), 3.5])
def test_not_a_source_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="iter_events"):
        next(stepwire.iter_events(bad))  # type: ignore[arg-type]

    async def main() -> None:
        async for _ in stepwire.aiter_events(bad):  # type: ignore[arg-type]
            pass

    with pytest.raises(TypeError, match="aiter_events"):
        asyncio.run(main())


def test_a_whole_body_as_bytes_or_str() -> None:
    body = body_of(ONE)
    events, _ = offline(body)
    assert list(stepwire.iter_events(body)) == events
    assert list(stepwire.iter_events(bytearray(body))) == events
    assert list(stepwire.iter_events(body.decode())) == events


def test_aiter_events_takes_sync_chunks() -> None:
    body = body_of(ONE)

    async def main() -> list[Any]:
        return [e async for e in stepwire.aiter_events([body[:100], body[100:]])]

    assert asyncio.run(main()) == offline(body)[0]


def test_after_done_the_rest_is_read_so_the_connection_is_reused(server: ReplayServer) -> None:
    """Closing a response before its end drops its connection: after ``done``, the body's
    end is read, and the next request goes out on the same connection."""
    name = "openai__openai-dotnet__StreamingRunWorks"
    server.requests.clear()
    with httpx.Client() as client:
        for _ in range(3):
            with client.stream("GET", f"{server.base_url()}/sse/{name}") as r:
                events = list(stepwire.iter_events(r))
    assert events == offline(body_of(name))[0]
    assert len({request.peer for request in server.requests}) == 1


def test_a_server_going_on_after_done_is_cut_off(server: ReplayServer) -> None:
    """More than 64 KiB after ``done``: the response is closed, not read to its end."""
    name = "openai__openai-dotnet__StreamingRunWorks"
    server.add("done-then-much", body_of(name) + b": " + b"x" * (1 << 20) + b"\n\n", "sse")
    server.requests.clear()
    with httpx.Client() as client:
        for _ in range(2):
            with client.stream("GET", f"{server.base_url()}/sse/done-then-much") as r:
                assert list(stepwire.iter_events(r)) == offline(body_of(name))[0]
                assert r.is_closed
                received = r.num_bytes_downloaded
            assert received < len(body_of(name)) + (1 << 18)
    assert len({request.peer for request in server.requests}) == 2


def test_a_read_timeout_through_async_openai(server: ReplayServer) -> None:
    acc = stepwire.Accumulator()

    async def main() -> BaseException | None:
        async with openai.AsyncOpenAI(
            base_url=server.base_url("stall"), api_key="test", max_retries=0, timeout=0.3
        ) as client:
            with assistants_deprecated():
                stream = await client.beta.threads.runs.create(
                    thread_id=ONE, assistant_id="asst_test", stream=True
                )
            with pytest.raises(openai.APITimeoutError) as caught:
                async for _ in stepwire.aiter_events(stream, acc):
                    pass
            assert stream.response.is_closed
            return caught.value.__cause__

    assert isinstance(asyncio.run(main()), httpx2.ReadTimeout)
    assert dict(acc.steps) == _cut(ONE)[1]
