"""What the tests compare: Spark's rows and stepwire.arrow's tables, as plain tuples."""

from __future__ import annotations

import datetime
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

import stepwire
import stepwire.arrow

TABLES = ("steps", "tool_calls")


def _plain(value: Any) -> Any:
    """A datetime as seconds since the epoch (Spark's are naive, in local time; Arrow's
    aware): ``.timestamp()`` reads both right. A map as a dict (Arrow's are pairs)."""
    if isinstance(value, datetime.datetime):
        seconds = value.timestamp()
        assert seconds == int(seconds)
        return int(seconds)
    if isinstance(value, list):
        return dict(value)
    return value


def spark_rows(df: Any) -> list[tuple[Any, ...]]:
    """``df.collect()``, each Row a tuple of plain values."""
    return [tuple(_plain(v) for v in row) for row in df.collect()]


def arrow_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(_plain(v) for v in row.values()) for row in table.to_pylist()]


def expected(path: Path) -> dict[str, pa.Table]:
    """stepwire.arrow's tables of an NDJSON file (the reference): its ``iter_batches``,
    whose JSON text columns are the input's own bytes, as stepwire.spark's are."""
    batches = list(stepwire.arrow.iter_batches(path))
    schemas = {"steps": stepwire.arrow.STEPS_SCHEMA, "tool_calls": stepwire.arrow.TOOL_CALLS_SCHEMA}
    return {
        name: pa.Table.from_batches([b[name] for b in batches], schema=schema)
        for name, schema in schemas.items()
    }


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def write_lines(path: Path, bodies: Iterable[Any], *, blank_every: int = 0) -> Path:
    """Each body (a dict, or JSON bytes) as one compact NDJSON line; a blank line (with
    spaces) after every ``blank_every`` lines when given."""
    out = bytearray()
    for i, body in enumerate(bodies, 1):
        if isinstance(body, (bytes, str)):
            body = json.loads(body)
        out += msgspec.json.encode(body) + b"\n"
        if blank_every and i % blank_every == 0:
            out += b"  \n"
    data = bytes(out)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def real_steps(directory: Path) -> list[dict[str, Any]]:
    """Every step of the real corpus' JSON bodies (pages and single steps), in file order."""
    steps: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.json")):
        body = json.loads(path.read_bytes())
        steps += body["data"] if body.get("object") == "list" else [body]
    return steps
