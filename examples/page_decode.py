"""Decode a page of run steps and print what each step did.

    python examples/page_decode.py [PAGE.json ...]

A page is the body of ``GET /threads/{thread}/runs/{run}/steps`` (OpenAI or Azure AI
Agents). Without arguments, the two pages bundled in samples/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import stepwire

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def describe(page: stepwire.RunStepPage) -> None:
    for step in page.data:
        tokens = step.usage.total_tokens if isinstance(step.usage, stepwire.Usage) else None
        print(f"{step.id}  {step.status}  tokens={tokens}")
        details = step.step_details
        if isinstance(details, stepwire.ToolCallsStepDetails):
            for call in details.tool_calls:
                if isinstance(call, stepwire.FunctionToolCall):
                    print(f"  function {call.function.name}({call.function.arguments})")
                else:
                    # every tool call has .type, also one stepwire does not know yet
                    print(f"  {call.type} {call.id}")
        elif isinstance(details, stepwire.MessageCreationStepDetails):
            print(f"  message {details.message_creation.message_id}")


def main(paths: list[str]) -> int:
    files = [Path(p) for p in paths] or sorted(SAMPLES.glob("*_page.json"))
    for path in files:
        print(f"# {path.name}")
        page = stepwire.decode_page(path.read_bytes())
        describe(page)
        # lossless: the page encodes back to what was parsed
        assert stepwire.encode(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
