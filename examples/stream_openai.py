"""Stream a run with openai-python's client, decoded by stepwire; then list its steps.

    python examples/stream_openai.py BASE_URL THREAD_ID ASSISTANT_ID [PAGES_THREAD_ID]

openai-python does the HTTP (retries, authentication); stepwire reads the raw
response: typed events, merged snapshots, several times less CPU than openai's own
event handler. The key is read from ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import os
import sys
import warnings

import openai

import stepwire


def main(base_url: str, thread_id: str, assistant_id: str, pages: str | None) -> int:
    client = openai.OpenAI(base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY", "-"))
    acc = stepwire.Accumulator()
    # openai-python marks every Assistants method deprecated (the API closed in August
    # 2026; Azure AI Agents serves the same shapes): said once here, on purpose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with client.beta.threads.runs.with_streaming_response.create(
            thread_id=thread_id, assistant_id=assistant_id, stream=True
        ) as response:
            for event in stepwire.iter_events(response, acc):
                print(event.event)
    for step in acc.steps.values():
        print(f"final  {step.id}  {step.status}  usage={step.usage}")

    if pages is not None:  # every step of a run, over the list endpoint's pages
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            listed = list(stepwire.iter_steps(client, thread_id=pages, run_id="run", limit=2))
        print(f"listed {len(listed)} steps: {', '.join(step.id for step in listed)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    base_url, thread_id, assistant_id = sys.argv[1:4]
    sys.exit(main(base_url, thread_id, assistant_id, sys.argv[4] if len(sys.argv) == 5 else None))
