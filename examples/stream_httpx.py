"""Stream a run with httpx: the response, straight into typed events and merged steps.

    python examples/stream_httpx.py BASE_URL THREAD_ID ASSISTANT_ID

BASE_URL is the API's (``https://api.openai.com/v1``, or an Azure AI Agents project
endpoint); the key is read from ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import os
import sys

import httpx

import stepwire


def main(base_url: str, thread_id: str, assistant_id: str) -> int:
    key = os.environ.get("OPENAI_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"assistant_id": assistant_id, "stream": True}
    acc = stepwire.Accumulator()
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=30) as client,
        client.stream("POST", f"/threads/{thread_id}/runs", json=body) as response,
    ):
        # the response itself: its status is checked, and it is closed at the end
        for event in stepwire.iter_events(response, acc):
            if isinstance(event.data, stepwire.RunStepDeltaEvent):
                print(f"delta  {event.data.id}")
            elif isinstance(event.data, stepwire.RunStep):
                print(f"{event.event}  {event.data.id}")
            elif isinstance(event.data, stepwire.ApiError):
                print(f"error  {event.data.message}")
    for step in acc.steps.values():  # the merged snapshots
        print(f"final  {step.id}  {step.status}  usage={step.usage}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    try:
        sys.exit(main(*sys.argv[1:]))
    except stepwire.ResponseError as exc:  # a 4xx/5xx: the server's error, typed
        sys.exit(f"HTTP {exc.status}: {exc.error.message}")
