"""iter_steps: every step of a run over the list endpoint's pages, against a real server.

The replay server (``stepgen.server``) pages the recorded list bodies by ``limit`` and
``after``, as the API does; the clients are openai-python's real ``OpenAI`` (its raw
response path) and httpx, through a callable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

import stepwire
from helpers import assistants_deprecated, real_params, step_object
from stepgen.server import ReplayServer

MESSAGE = {"type": "message_creation", "message_creation": {"message_id": "msg_1"}}
# The recorded pages (real_params' one visible skip where the corpus is absent).
PAGES = [
    param
    for param in real_params(".json")
    if param.values[0] is None or json.loads(param.values[0].read_bytes()).get("object") == "list"
]


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


def listed(server: ReplayServer, name: str, **options: Any) -> list[stepwire.RunStep]:
    with (
        openai.OpenAI(base_url=server.base_url(), api_key="test", max_retries=0) as client,
        assistants_deprecated(),
    ):
        return list(stepwire.iter_steps(client, thread_id=name, run_id="run_1", **options))


def many_steps(count: int) -> bytes:
    steps = [step_object(MESSAGE, step_id=f"step_{i:03d}") for i in range(count)]
    return json.dumps(
        {
            "object": "list",
            "data": steps,
            "first_id": steps[0]["id"],
            "last_id": steps[-1]["id"],
            "has_more": False,
        }
    ).encode()


@pytest.mark.parametrize("limit", [1, 2, 100])
@pytest.mark.parametrize("fixture", PAGES)
def test_every_recorded_page_over_the_openai_client(
    server: ReplayServer, fixture: Path, limit: int
) -> None:
    page = stepwire.decode_page(fixture.read_bytes())
    server.requests.clear()
    steps = listed(server, fixture.stem, limit=limit)
    assert steps == page.data
    asked = [r for r in server.requests if r.path.endswith("/steps")]
    # one request a page, each after the last step of the one before
    # (a recorded has_more: true is followed too, to the server's empty last page)
    ends = [min(k * limit, len(page.data)) - 1 for k in range(1, len(asked))]
    assert [r.query.get("after") for r in asked[1:]] == [page.data[i].id for i in ends]
    assert len(asked) >= -(-len(page.data) // limit)
    assert all(r.query["limit"] == str(limit) for r in asked)


def test_a_long_run_over_many_pages(server: ReplayServer) -> None:
    body = many_steps(45)
    server.add("long-run", body, "json")
    server.requests.clear()
    steps = listed(server, "long-run", limit=10, order="asc")
    assert [s.id for s in steps] == [f"step_{i:03d}" for i in range(45)]
    assert steps == stepwire.decode_page(body).data
    asked = [r for r in server.requests if r.path.endswith("/steps")]
    assert len(asked) == 5
    assert all(r.query["order"] == "asc" for r in asked)


def test_after_starts_later(server: ReplayServer) -> None:
    server.add("long-run", many_steps(45), "json")
    steps = listed(server, "long-run", limit=7, after="step_039")
    assert [s.id for s in steps] == [f"step_{i:03d}" for i in range(40, 45)]


def test_a_callable_over_httpx(server: ReplayServer) -> None:
    body = many_steps(12)
    server.add("httpx-run", body, "json")
    url = f"{server.base_url()}/threads/httpx-run/runs/run_1/steps"
    with httpx.Client() as http:

        def page(after: str | None) -> httpx.Response:
            params = {"limit": "5"} | ({"after": after} if after else {})
            return http.get(url, params=params)

        steps = list(stepwire.iter_steps(page))
    assert steps == stepwire.decode_page(body).data


def test_a_callable_returning_bytes_and_str() -> None:
    steps = [step_object(MESSAGE, step_id=f"step_{i}") for i in range(5)]
    pages = {
        None: {"object": "list", "data": steps[:2], "has_more": True, "last_id": "step_1"},
        "step_1": {"object": "list", "data": steps[2:4], "has_more": True, "last_id": "step_3"},
        "step_3": {"object": "list", "data": steps[4:], "has_more": False, "last_id": "step_4"},
    }
    asked: list[str | None] = []

    def fetch(after: str | None) -> bytes | str:
        asked.append(after)
        text = json.dumps(pages[after])
        return text if after else text.encode()

    got = list(stepwire.iter_steps(fetch))
    assert [s.id for s in got] == [f"step_{i}" for i in range(5)]
    assert asked == [None, "step_1", "step_3"]


def test_a_page_without_last_id_is_paged_by_its_last_step() -> None:
    steps = [step_object(MESSAGE, step_id=f"step_{i}") for i in range(3)]

    def fetch(after: str | None) -> bytes:
        if after is None:
            return json.dumps({"object": "list", "data": steps[:2], "has_more": True}).encode()
        assert after == "step_1"
        return json.dumps({"object": "list", "data": steps[2:], "has_more": False}).encode()

    assert [s.id for s in stepwire.iter_steps(fetch)] == ["step_0", "step_1", "step_2"]


def test_a_server_that_pages_forever_is_stopped() -> None:
    page = {"object": "list", "data": [step_object(MESSAGE)], "has_more": True, "last_id": "step_1"}
    calls = []

    def fetch(after: str | None) -> bytes:
        calls.append(after)
        return json.dumps(page).encode()

    with pytest.raises(stepwire.StepwireError, match="do not advance"):
        list(stepwire.iter_steps(fetch))
    assert calls == [None, "step_1"]


def test_has_more_on_an_empty_page_is_an_error() -> None:
    def fetch(after: str | None) -> bytes:
        return b'{"object": "list", "data": [], "has_more": true, "last_id": null}'

    with pytest.raises(stepwire.StepwireError, match="empty page"):
        list(stepwire.iter_steps(fetch))


def test_a_bad_page_is_a_decode_error_with_its_path() -> None:
    def fetch(after: str | None) -> bytes:
        return b'{"object": "list", "data": [{"id": 5}], "has_more": false}'

    with pytest.raises(stepwire.DecodeError) as caught:
        list(stepwire.iter_steps(fetch))
    assert caught.value.path is not None
    assert caught.value.path.startswith("$.data[0]")


def test_strict_is_passed_to_every_page() -> None:
    step = step_object(MESSAGE) | {"status": "mystery"}
    body = json.dumps({"object": "list", "data": [step], "has_more": False}).encode()
    assert [s.status for s in stepwire.iter_steps(lambda after: body)] == ["mystery"]
    with pytest.raises(stepwire.DecodeError):
        list(stepwire.iter_steps(lambda after: body, strict=True))


@pytest.mark.parametrize("status", [401, 500])
def test_an_error_status_from_a_callable_is_a_response_error(
    server: ReplayServer, status: int
) -> None:
    url = f"{server.base_url(f'error-{status}')}/threads/x/runs/run_1/steps"
    with httpx.Client() as http, pytest.raises(stepwire.ResponseError) as caught:
        list(stepwire.iter_steps(lambda after: http.get(url)))
    assert caught.value.status == status
    assert isinstance(caught.value.error, stepwire.ApiError)


def test_openai_raises_its_own_status_errors(server: ReplayServer) -> None:
    with (
        openai.OpenAI(
            base_url=server.base_url("error-500"), api_key="test", max_retries=0
        ) as client,
        assistants_deprecated(),
        pytest.raises(openai.InternalServerError),
    ):
        list(stepwire.iter_steps(client, thread_id="t", run_id="r"))


def test_what_is_not_a_source_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="iter_steps"):
        list(stepwire.iter_steps(42))
    with pytest.raises(TypeError, match="page fetch"):
        list(stepwire.iter_steps(lambda after: 42))
    with pytest.raises(TypeError, match="thread_id"):
        list(stepwire.iter_steps(openai.OpenAI(api_key="test", base_url="http://127.0.0.1:9")))


def test_the_async_client_is_refused_clearly() -> None:
    client = openai.AsyncOpenAI(api_key="test", base_url="http://127.0.0.1:9")
    with pytest.raises(TypeError, match="AsyncOpenAI"):
        list(stepwire.iter_steps(client, thread_id="t", run_id="r"))
