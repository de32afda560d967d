"""iter_events and iter_steps over azure-core's responses, against the replay server.

The Azure AI Agents SDK sends its requests through azure-core's pipeline; a response of
``PipelineClient.send_request(request, stream=True)`` is an ``azure.core.rest.HttpResponse``
(``status_code``, ``iter_bytes()``, ``close()``), which stepwire reads by that shape.
The transport is azure-core's real one (requests) on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core import PipelineClient
from azure.core.rest import HttpRequest

import stepwire
from helpers import real_file, real_params
from stepgen.server import ReplayServer

STREAMS = real_params(".sse")
PAGE = "openai__openai-dotnet__BasicRunStepFunctionalityWorks_steps_list"


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


@pytest.fixture(scope="module")
def client(server: ReplayServer) -> Iterator[PipelineClient]:
    with PipelineClient(base_url=server.base_url()) as made:
        yield made


def offline(body: bytes) -> tuple[list[stepwire.StreamEvent], dict[str, stepwire.RunStep]]:
    acc = stepwire.Accumulator()
    return acc.feed(body) + acc.close(), dict(acc.steps)


@pytest.mark.parametrize("fixture", STREAMS)
def test_a_streamed_azure_core_response(
    server: ReplayServer, client: PipelineClient, fixture: Path
) -> None:
    body = fixture.read_bytes()
    url = f"{server.base_url()}/threads/{fixture.stem}/runs"
    request = HttpRequest("POST", url, json={"stream": True})
    response = client.send_request(request, stream=True)
    acc = stepwire.Accumulator()
    events = list(stepwire.iter_events(response, acc))
    assert (events, dict(acc.steps)) == offline(body)
    assert response.is_closed


def test_an_error_status_from_azure_core(server: ReplayServer) -> None:
    with PipelineClient(base_url=server.base_url("error-500")) as client:
        url = f"{server.base_url('error-500')}/sse/x"
        response = client.send_request(HttpRequest("GET", url), stream=True)
        with pytest.raises(stepwire.ResponseError) as caught:
            list(stepwire.iter_events(response))
    assert caught.value.status == 500
    assert caught.value.error.type == "server_error"
    assert response.is_closed


def test_pages_over_azure_core(server: ReplayServer, client: PipelineClient) -> None:
    path = real_file(f"{PAGE}.json")

    def page(after: str | None) -> object:
        params = {"limit": 5} | ({"after": after} if after else {})
        url = f"{server.base_url()}/threads/{PAGE}/runs/r/steps"
        return client.send_request(HttpRequest("GET", url, params=params))

    assert list(stepwire.iter_steps(page)) == stepwire.decode_page(path.read_bytes()).data
