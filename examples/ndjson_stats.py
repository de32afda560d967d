"""Count the steps, tool calls and tokens of an NDJSON log of run steps.

    python examples/ndjson_stats.py STEPS.ndjson[.gz|.zst]

One step per line; gzip and zstd are read as they stream. Bad lines are counted and
reported with their line numbers, never fatal.
"""

from __future__ import annotations

import sys
from collections import Counter

import stepwire


def main(path: str) -> int:
    errors: list[stepwire.DecodeError] = []
    steps = 0
    calls: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for step in stepwire.iter_lines(path, on_error=errors.append):
        steps += 1
        if isinstance(step.usage, stepwire.Usage):
            tokens["prompt"] += step.usage.prompt_tokens or 0
            tokens["completion"] += step.usage.completion_tokens or 0
        if isinstance(step.step_details, stepwire.ToolCallsStepDetails):
            calls.update(call.type for call in step.step_details.tool_calls)
    print(f"steps: {steps}")
    for kind, count in calls.most_common():
        print(f"tool calls, {kind}: {count}")
    print(f"tokens: prompt {tokens['prompt']}, completion {tokens['completion']}")
    for error in errors[:10]:
        print(f"{path}:{error.line}: {error.reason}", file=sys.stderr)
    print(f"bad lines: {len(errors)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
