"""The two ``Columns`` twins: the compiled one is loaded when it should be, and both give
the same columns, value for value, on every kind of step and every path a step comes by."""

from __future__ import annotations

import importlib
import json
import os
import platform
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import stepwire
from helpers import REAL, examples, real_files
from stepgen import generate_steps, with_unknown_field, with_unknown_tool_types
from stepgen.azure import azure_pages, azure_streams
from stepwire import _columns
from stepwire._sources import records_of

TWINS = {"python": "stepwire._columns_py", "cython": "stepwire._columns_c"}


def _twin(name: str) -> Any:
    try:
        return importlib.import_module(TWINS[name])
    except ModuleNotFoundError as exc:
        if name == "cython" and exc.name == TWINS[name]:
            pytest.skip("built without the Cython extension")
        raise


def test_the_compiled_twin_is_loaded_when_expected() -> None:
    """Fails when a CPython build silently fell back to the Python column builder."""
    if os.environ.get("STEPWIRE_NO_EXTENSIONS"):
        assert _columns.IMPLEMENTATION == "python"
        assert _columns.Columns is importlib.import_module(TWINS["python"]).Columns
        return
    if platform.python_implementation() != "CPython":
        pytest.skip("the Cython extension is built for CPython only")
    try:
        module = importlib.import_module(TWINS["cython"])
    except ImportError as exc:
        pytest.fail(f"stepwire._columns_c does not import ({exc!r}): build the extension")
    assert module.IMPLEMENTATION == _columns.IMPLEMENTATION == stepwire.IMPLEMENTATION
    assert _columns.Columns is module.Columns


def _page_lines(pages: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(step) for page in pages for step in page["data"]) + b"\n"


def _with_extras() -> bytes:
    """Steps with unmodelled fields in usage, last_error and its details, both token
    spellings, null and absent details, metadata, and a failure."""
    base = generate_steps(1, seed=5)[0]
    bodies = [
        dict(base, usage={**base["usage"], "prompt_tokens_details": {"cached_tokens": 7}}),
        dict(base, usage={**base["usage"], "prompt_token_details": None, "surprise": 1}),
        dict(
            base,
            status="failed",
            last_error={"code": "server_error", "message": "boom", "trace": "x"},
            usage=None,
            metadata={"team": "billing"},
            new_field=[1, 2],
        ),
    ]
    return b"\n".join(orjson.dumps(b) for b in bodies) + b"\n"


def _sources() -> dict[str, bytes]:
    pages = [generate_steps(60, seed=s) for s in range(2)]
    sources = {
        "generated": b"\n".join(orjson.dumps(s) for steps in pages for s in steps) + b"\n",
        "unknown-types": _page_lines(
            [with_unknown_tool_types({"data": generate_steps(40, seed=9)})]
        ),
        "unknown-fields": _page_lines([with_unknown_field({"data": generate_steps(40, seed=8)})]),
        "extras": _with_extras(),
    }
    for i, page in enumerate(azure_pages(seed=3)):  # pretty-printed: documents, one each
        sources[f"azure-page-{i}"] = page
    for stream in azure_streams(seed=2):
        sources[f"azure-stream-{stream.name}"] = stream.sse
    for path in real_files(".json") + real_files(".sse"):
        sources[path.name] = path.read_bytes()
    return sources


SOURCES = _sources()


def _fill(columns: Any, body: bytes) -> Any:
    for header, details, raw in records_of(
        body, strict=False, on_error="raise", max_line_bytes=stepwire.MAX_LINE_BYTES
    ):
        columns.add_parts(header, details, raw)
    return columns


def _values(columns: Any) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    return columns.steps, columns.calls


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_both_twins_give_the_same_columns(name: str) -> None:
    python, cython = (_twin(t).Columns() for t in ("python", "cython"))
    body = SOURCES[name]
    assert _values(_fill(python, body)) == _values(_fill(cython, body))
    assert python.rows == cython.rows > 0
    assert python.text_bytes == cython.text_bytes


@pytest.mark.parametrize("twin", list(TWINS))
def test_a_step_without_its_body_is_encoded(twin: str) -> None:
    """add(step) (no body: a stream's snapshot) writes the JSON stepwire.encode writes,
    and it is the same JSON as the body's own bytes."""
    lines = SOURCES["generated"].splitlines()[:30] + SOURCES["extras"].splitlines()
    steps = [stepwire.decode_step(line) for line in lines]
    encoded, sliced = _twin(twin).Columns(), _twin(twin).Columns()
    for step, line in zip(steps, lines, strict=True):
        encoded.add(step)
        sliced.add(step, line)
    assert encoded.text("step_details").values() == [
        stepwire.encode(step.step_details) for step in steps
    ]
    a, b = _values(encoded), _values(sliced)
    for table in (0, 1):
        for column, values in a[table].items():
            if column in ("step_details", "payload", "extra"):
                assert [v and msgspec.json.decode(v) for v in values] == [
                    v and msgspec.json.decode(v) for v in b[table][column]
                ]
            else:
                assert values == b[table][column], column


@pytest.mark.parametrize("twin", list(TWINS))
def test_clear_starts_new_columns_and_leaves_the_old_ones(twin: str) -> None:
    columns = _fill(_twin(twin).Columns(), SOURCES["generated"])
    text, ids = columns.text("step_details"), columns.column("id")
    rows = columns.rows
    columns.clear()
    assert (columns.rows, columns.text_bytes) == (0, 0)
    assert len(text) == len(ids) == rows  # a batch handed out keeps its buffers


def test_the_real_corpus_is_there() -> None:
    """The parity cases above include every recorded body."""
    assert REAL.is_dir(), f"real corpus not found at {REAL}"
    assert sum(1 for name in SOURCES if name.endswith((".json", ".sse"))) == 30


@pytest.mark.parametrize("twin", list(TWINS))
def test_without_calls_the_steps_are_the_same_and_no_call_has_a_row(twin: str) -> None:
    body = SOURCES["generated"]
    full, steps_only = (
        _fill(_twin(twin).Columns(), body),
        _fill(_twin(twin).Columns(calls=False), body),
    )
    assert steps_only.steps == full.steps
    assert full.rows == steps_only.rows
    assert len(full.text("payload")) > 0
    assert (len(steps_only.text("payload")), steps_only.column("call.id")) == (0, [])


# -- each call's own bytes: the compiled twin scans for them, the Python twin decodes ----

_HEAD = (
    b'{"id":"step_x","object":"thread.run.step","created_at":1,"run_id":"run_x",'
    b'"assistant_id":"asst_x","thread_id":"thread_x","type":"tool_calls",'
    b'"status":"completed","step_details":'
)
_CALL = b'{"id":"call_%d","type":"function","function":{"name":"f","arguments":%s}}'
_TRICKY = [
    b'"{}"',
    b'"{\\"a\\": \\"]}\\\\\\\\\\"\\"}"',  # escaped quotes, backslashes, brackets in text
    b'"\\\\"',  # a string that ends in an escaped backslash
    b'"\xc3\xa9\xe6\x9d\xb1 ,]}"',
]


def _calls(*arguments: bytes, sep: bytes = b",") -> bytes:
    return sep.join(_CALL % (i, a) for i, a in enumerate(arguments))


# Details bodies, and the payloads the calls must have: their own bytes, exactly.
PAYLOAD_CASES = {
    "compact": (b'{"type":"tool_calls","tool_calls":[' + _calls(*_TRICKY) + b"]}", None),
    "spaced": (
        b'{ "type" : "tool_calls" ,\n "tool_calls" : [\n  '
        + _calls(*_TRICKY, sep=b" ,\n  ")
        + b'\n ] ,\n "after": [1, {"x": "]"}] }',
        None,
    ),
    # A repeated key: the decode keeps the last, and so must the payloads.
    "repeated-key": (
        b'{"type":"tool_calls","tool_calls":['
        + _calls(b'"1"')
        + b'],"tool_calls":['
        + _calls(b'"2"', b'"3"')
        + b"]}",
        None,
    ),
    # An escape in the key: still tool_calls to a decoder; the scan leaves it to one.
    "escaped-key": (b'{"type":"tool_calls","tool\\u005fcalls":[' + _calls(b'"e"') + b"]}", None),
    "empty": (b'{"type":"tool_calls","tool_calls":[ ]}', []),
    "unknown-step-type": (
        b'{"type":"future_step","tool_calls":[' + _calls(b'"u"') + b',{"type":"x"}]}',
        None,
    ),
}


def _payload_body(details: bytes) -> bytes:
    assert b"\n" not in details  # one NDJSON line
    return _HEAD + details + b"}\n"


@pytest.mark.parametrize("case", sorted(PAYLOAD_CASES))
@pytest.mark.parametrize("twin", list(TWINS))
def test_each_payload_is_the_calls_own_bytes(twin: str, case: str) -> None:
    details, expected = PAYLOAD_CASES[case]
    details = details.replace(b"\n", b"\t")  # JSON's whitespace, on one line
    raws = msgspec.json.decode(details, type=dict[str, Any])  # the decoder's view
    if expected is None:
        tool_calls = msgspec.json.decode(details, type=_ToolCallsRaw).tool_calls
        expected = [bytes(raw) for raw in tool_calls]
    columns = _fill(_twin(twin).Columns(), _payload_body(details))
    assert columns.text("payload").values() == expected
    assert len(expected) == len(raws["tool_calls"])
    assert columns.text("step_details").values() == [details.strip()]


class _ToolCallsRaw(msgspec.Struct):
    tool_calls: list[msgspec.Raw]


# Text made of what a scan for structure could trip on.
_JSON_TEXT = st.text(st.sampled_from([*'"\\]}[{,: \na', "\u00e9", "\U0001f600"]), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_JSON_TEXT, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=examples(200), deadline=None)
@given(
    arguments=st.lists(_JSON, min_size=1, max_size=4),
    extra=st.dictionaries(_JSON_TEXT, _JSON, max_size=3),
    indent=st.sampled_from([None, 1, 2]),
)
def test_the_twins_agree_on_the_payloads_of_any_details(
    arguments: list[Any], extra: dict[str, Any], indent: int | None
) -> None:
    calls = [
        {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": json.dumps(a)}}
        for i, a in enumerate(arguments)
    ]
    document = {**{k: v for k, v in extra.items() if k not in ("type", "tool_calls")}}
    document.update(type="tool_calls", tool_calls=calls)
    details = json.dumps(document, indent=indent, ensure_ascii=False).encode()
    body = _payload_body(details.replace(b"\n", b"\t"))
    python, cython = (_fill(_twin(t).Columns(), body) for t in TWINS)
    assert python.text("payload").values() == cython.text("payload").values()
    assert [json.loads(v) for v in cython.text("payload").values()] == calls
