"""examples/spark_local.py, run as a user runs it: its own local Spark, in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import stepwire
from stepgen import generate_steps

ROOT = Path(__file__).resolve().parent.parent


def test_spark_local_example(tmp_path: Path) -> None:
    steps = generate_steps(120, seed=3)
    path = tmp_path / "steps.ndjson"
    path.write_text("".join(json.dumps(step) + "\n" for step in steps))
    kinds = Counter(
        call.type
        for step in stepwire.iter_lines(path)
        if isinstance(step.step_details, stepwire.ToolCallsStepDetails)
        for call in step.step_details.tool_calls
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "spark_local.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        # the workers run this interpreter, which has stepwire (as a user's venv would)
        env=os.environ | {"PYSPARK_PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"steps: {len(steps)}\n" in done.stdout
    for kind, count in kinds.items():
        assert f"  {kind}: {count}\n" in done.stdout
