"""``stepwire stats`` as tables for a reader, drawn by rich (``stepwire[cli]``).

The figures are ``Stats.as_json()``'s: the tables show the same numbers, and nothing
that the JSON does not have.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from ._stats import TOKEN_KEYS

__all__ = ["print_stats"]

# Short, so that the tables fit 80 columns; the caption says what they are.
_TOKEN_HEADERS = ("steps", "usage", "prompt", "compl.", "total", "cached", "reason.")
_CAPTION = (
    "usage: steps with usage; tokens: prompt, completion (compl.), total, cached, "
    "reasoning (reason.)"
)


def _text(value: Any) -> str:
    if value is None:
        return "(null)"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_stats(figures: dict[str, Any], files: Sequence[str]) -> None:
    """Print the figures as tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    class Out(Console):
        def on_broken_pipe(self) -> None:  # stdout closed early (| head): exit 141
            raise BrokenPipeError

    # Piped or redirected, rich would cut every table to 80 columns: ids unreadable.
    console = Out(width=None if sys.stdout.isatty() else 160)

    def table(
        title: str, headers: Sequence[str], rows: list[Sequence[Any]], caption: str | None = None
    ) -> None:
        t = Table(title=title, title_justify="left", title_style="bold", caption=caption)
        for i, header in enumerate(headers):
            left = i == 0 or header in ("type", "status")
            # Ids and types fold onto a second line rather than lose their ends.
            t.add_column(
                header,
                justify="left" if left else "right",
                no_wrap=not left,
                overflow="fold" if left else "ellipsis",
            )
        for row in rows:
            t.add_row(*(_text(v) for v in row))
        if not rows:
            t.add_row(*(["-"] * len(headers)))
        console.print(t)

    shown = files[0] if len(files) == 1 else f"{len(files):,} files"
    console.print(
        f"[bold]{figures['steps']:,}[/] steps, [bold]{figures['tool_calls']:,}[/] tool calls "
        f"in {shown}"
    )
    table(
        "Steps by type and status",
        ("type", "status", "steps"),
        [(r["type"], r["status"], r["steps"]) for r in figures["steps_by_type_status"]],
    )
    table(
        "Tool calls by type",
        ("type", "calls"),
        [(r["type"], r["calls"]) for r in figures["tool_calls_by_type"]],
    )
    table(
        "Tokens per tool type (a step counts once for each tool type it calls)",
        ("tool type", *_TOKEN_HEADERS),
        [(r["type"], *(r[k] for k in TOKEN_KEYS)) for r in figures["tokens_by_tool_type"]],
        _CAPTION,
    )
    table(
        "Tokens per assistant",
        ("assistant", *_TOKEN_HEADERS),
        [(r["assistant_id"], *(r[k] for k in TOKEN_KEYS)) for r in figures["tokens_by_assistant"]]
        + [("all steps", *(figures["tokens"][k] for k in TOKEN_KEYS))],
        _CAPTION,
    )
    table(
        "Failures by last_error.code",
        ("code", "steps"),
        [(r["code"], r["steps"]) for r in figures["failures_by_code"]],
    )
    d = figures["duration_seconds"]
    table(
        "Step duration, seconds (completed_at - created_at)",
        ("steps", "min", "p50", "p95", "p99", "max"),
        [(d["steps"], d["min"], d["p50"], d["p95"], d["p99"], d["max"])] if d["steps"] else [],
    )
