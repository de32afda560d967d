"""Every step of a run, over the list endpoint's pages: ``iter_steps``.

The list endpoint (``GET /threads/{thread}/runs/{run}/steps``) pages by cursor:
a page says ``has_more``, and the next one is asked for ``after`` its
``last_id``. Each page's bytes are decoded by stepwire, never by the client's
own models: an openai client is used for its transport only (its raw response
path), so its retries, authentication and base URL apply.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from ._decode import decode_page
from ._errors import StepwireError
from ._model import RunStep, RunStepPage
from ._responses import BYTES, as_bytes, error_for, response_of

__all__ = ["iter_steps"]

#: A page's fetch: the cursor (``None`` for the first page) to the page's body.
Fetch = Callable[[str | None], object]


class Client(Protocol):
    """An openai-python client (``OpenAI``, ``AzureOpenAI``): its ``beta.threads.runs.steps``."""

    @property
    def beta(self) -> Any: ...


def iter_steps(
    source: Client | Fetch,
    *,
    thread_id: str | None = None,
    run_id: str | None = None,
    after: str | None = None,
    limit: int | None = None,
    order: str | None = None,
    strict: bool = False,
) -> Iterator[RunStep]:
    """Yield every step of a run, page after page.

    Parameters
    ----------
    source : openai.OpenAI or callable
        An openai-python client (``OpenAI``, ``AzureOpenAI``): each page is
        asked for through ``client.beta.threads.runs.steps.with_raw_response``
        and its bytes decoded by stepwire. Or any callable taking the cursor
        (``None`` for the first page, then the last step id of the page
        before) and returning the page's body: bytes, ``str``, or an HTTP
        response (httpx, azure-core), whose status is checked.
    thread_id, run_id : str, optional
        The run, for an openai client (required with one, unused otherwise).
    after : str, optional
        Start after this step id rather than at the first step.
    limit : int, optional
        Steps per page, for an openai client (the API's default is 20).
    order : {"asc", "desc"}, optional
        The order, for an openai client (the API's default is ``desc``).
    strict : bool, default False
        Decode each page with the spec's constraints enforced.

    Yields
    ------
    RunStep
        Every step of every page, in the order the pages give them.

    Raises
    ------
    DecodeError
        If a page is not a valid page of steps.
    ResponseError
        If a page's response has an error status (a callable's response; an
        openai client raises its own ``APIStatusError``).
    StepwireError
        If the pages do not advance: ``has_more`` with no step to go on
        from, or a cursor that was already followed (a server that would
        page forever).
    TypeError
        If ``source`` is neither a client nor a callable, or returns
        something that is not a body.

    Examples
    --------
    >>> client = openai.OpenAI()
    >>> for step in stepwire.iter_steps(client, thread_id="thread_abc", run_id="run_abc"):
    ...     print(step.id, step.status, step.usage)

    With httpx, or any transport:

    >>> def page(after):
    ...     params = {"limit": 100} | ({"after": after} if after else {})
    ...     return http.get(f"/threads/{thread}/runs/{run}/steps", params=params)
    >>> steps = list(stepwire.iter_steps(page))
    """
    fetch = _fetcher(source, thread_id, run_id, limit, order)
    seen: set[str | None] = {after}
    cursor = after
    while True:
        page = decode_page(_body(fetch(cursor)), strict=strict)
        yield from page.data
        if page.has_more is not True:
            return
        cursor = _next_cursor(page)
        if cursor in seen:
            raise StepwireError(
                f"the pages do not advance: has_more is true, and the next cursor "
                f"{cursor!r} was already followed"
            )
        seen.add(cursor)


def _next_cursor(page: RunStepPage) -> str:
    # last_id is the page's last step's id; a server that leaves it out (or
    # sends null) is paged by the id itself.
    if isinstance(page.last_id, str) and page.last_id:
        return page.last_id
    if page.data:
        return page.data[-1].id
    raise StepwireError("the pages do not advance: has_more is true on an empty page")


def _fetcher(
    source: Any, thread_id: str | None, run_id: str | None, limit: int | None, order: str | None
) -> Fetch:
    steps = _steps_resource(source)
    if steps is None:
        if callable(source):
            return source  # type: ignore[no-any-return]
        raise TypeError(
            "iter_steps() takes an openai-python client or a callable returning a page's "
            f"body, not {type(source).__module__}.{type(source).__qualname__}"
        )
    if not thread_id or not run_id:
        raise TypeError("iter_steps() with an openai client needs thread_id= and run_id=")
    listing = steps.with_raw_response.list
    if inspect.iscoroutinefunction(listing):
        raise TypeError("iter_steps() takes the sync client (OpenAI), not AsyncOpenAI")
    options = {
        name: value for name, value in (("limit", limit), ("order", order)) if value is not None
    }

    def fetch(cursor: str | None) -> Any:
        extra = {"after": cursor} if cursor is not None else {}
        return listing(run_id, thread_id=thread_id, **options, **extra)

    return fetch


def _steps_resource(client: Any) -> Any:
    """``client.beta.threads.runs.steps``, if ``client`` is an openai-python client."""
    node = client
    for name in ("beta", "threads", "runs", "steps"):
        node = getattr(node, name, None)
        if node is None:
            return None
    return node if hasattr(node, "with_raw_response") else None


def _body(reply: Any) -> Any:
    """A page's bytes out of what a fetch returned."""
    if isinstance(reply, (*BYTES, str)):
        return reply
    response = response_of(reply)
    if response is None:
        raise TypeError(
            "a page fetch must return bytes, str or an HTTP response, not "
            f"{type(reply).__module__}.{type(reply).__qualname__}"
        )
    # Read once, before the status is looked at: an error's body is the error's, and an
    # async response's read() is a coroutine, refused before anything else is made of it.
    try:
        data = response.read()
    finally:
        close = getattr(reply, "close", None)
        if callable(close):
            close()
    if inspect.iscoroutine(data):
        data.close()  # never awaited: closed, so that no "never awaited" warning follows
        raise TypeError("a page fetch returned an async response: iter_steps() is sync")
    if response.status_code >= 400:
        raise error_for(response.status_code, as_bytes(data))
    return data
