"""Hypothesis properties (issue 5): valid objects round-trip, every split of a delta stream
merges to the same snapshot, and the Cython and Python accumulators agree on any stream,
broken ones included."""

from __future__ import annotations

import itertools
import json
import typing
from typing import Any

import msgspec
import msgspec.inspect as mi
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

import stepwire
from helpers import accumulator_state, examples, forget_learned_shapes, load_impl, step_object
from stepwire._model import FALLBACKS
from stepwire._unknown import EXTRA_KEY, UnknownOutputDelta, UnknownToolCallDelta

CREATED = "thread.run.step.created"
COMPLETED = "thread.run.step.completed"
DELTA = "thread.run.step.delta"
SID = "step_p"


# Generated objects are small and the streams short: the whole file must stay fast on a
# 2-core machine with the default profile. ``count`` examples at the suite's scale.
def fast(count: int) -> settings:
    return settings(
        max_examples=examples(count),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- values ---------------------------------------------------------------------------------

# JSON's special characters, text that looks like an escape or like event-stream syntax, and
# characters outside the BMP (a surrogate pair under ensure_ascii) made likely.
NASTY = [
    '"',
    "\\",
    "\\u0041",
    "\\n",
    "/",
    "\x00",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\ufeff",
    "\U0001f600",
    "\u00e9",
    "\u6771\u4eac",
    "\r\n",
    "\r",
    "\n\n",
    "data: x",
    ":",
]
TEXT = st.lists(st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY)), max_size=8).map(
    "".join
)
INT64 = st.integers(-(2**63), 2**63 - 1)
FLOAT = st.floats(allow_nan=False, allow_infinity=False)
SCALAR = st.one_of(st.none(), st.booleans(), INT64, FLOAT, TEXT)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)

# Tags of types stepwire does not model (each union filters out its own known tags).
FUTURE_TAGS = st.sampled_from(
    ["future_tool", "", "web_search", "Function", "function ", "mcp", "logs", "\u6771", "x" * 40]
) | TEXT.filter(bool)


def _members(union: Any) -> frozenset[type]:
    return frozenset(typing.get_args(union) or (union,))


# For each union with an unknown stand-in: whether the stand-in needs an integer ``index``.
UNKNOWN_NEEDS_INDEX = {
    _members(union): issubclass(cls, (UnknownToolCallDelta, UnknownOutputDelta))
    for union, cls in FALLBACKS.items()
}


def unknown_member(known: frozenset[str], needs_index: bool) -> st.SearchStrategy[dict]:
    """A tagged object of a type no member of the union has."""
    base: dict[str, Any] = {"type": FUTURE_TAGS.filter(lambda tag: tag not in known)}
    if needs_index:
        base["index"] = INT64
    reserved = {"type", "index"}
    extra = st.dictionaries(TEXT.filter(lambda k: k not in reserved), JSON, max_size=3)
    return st.tuples(st.fixed_dictionaries(base, optional={"id": TEXT}), extra).map(
        lambda parts: {**parts[1], **parts[0]}
    )


_STRUCTS: dict[type, st.SearchStrategy[dict]] = {}


def from_type(t: mi.Type) -> st.SearchStrategy[Any]:
    """JSON-level values (dicts, lists, scalars) that decode as ``t``."""
    if isinstance(t, mi.StrType):
        return TEXT
    if isinstance(t, mi.IntType):
        return INT64
    if isinstance(t, mi.FloatType):
        return FLOAT
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.AnyType):
        return JSON
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.ListType):
        return st.lists(from_type(t.item_type), max_size=3)
    if isinstance(t, mi.DictType):
        return st.dictionaries(TEXT, from_type(t.value_type), max_size=3)
    if isinstance(t, mi.StructType):
        return _tagged([t]) if isinstance(t.tag, str) else _struct(t)
    if isinstance(t, mi.UnionType):
        structs = [m for m in t.types if isinstance(m, mi.StructType)]
        others = [from_type(m) for m in t.types if not isinstance(m, mi.StructType)]
        return st.one_of(*([_tagged(structs)] if structs else []), *others)
    raise AssertionError(f"no strategy for {t!r}")


def _tagged(structs: list[mi.StructType]) -> st.SearchStrategy[dict]:
    """The members of a (tagged) union, and an unknown one where stepwire has a stand-in."""
    options = [_struct(m) for m in structs]
    needs_index = UNKNOWN_NEEDS_INDEX.get(frozenset(m.cls for m in structs))
    if needs_index is not None:
        options.append(unknown_member(frozenset(m.tag for m in structs), needs_index))
    return st.one_of(*options)


def _struct(t: mi.StructType) -> st.SearchStrategy[dict]:
    strategy = _STRUCTS.get(t.cls)
    if strategy is None:
        fields = [f for f in t.fields if f.encode_name != EXTRA_KEY]
        required = {f.encode_name: from_type(f.type) for f in fields if f.required}
        optional = {f.encode_name: from_type(f.type) for f in fields if not f.required}
        if isinstance(t.tag, str):
            required[t.tag_field] = st.just(t.tag)
        strategy = _STRUCTS[t.cls] = st.fixed_dictionaries(required, optional=optional)
    return strategy


def model(cls: type) -> st.SearchStrategy[dict]:
    return from_type(mi.type_info(cls))


ENCODERS = {
    "compact": lambda o: json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode(),
    "ascii": lambda o: json.dumps(o, separators=(",", ":")).encode(),
    "spaced": lambda o: json.dumps(o).encode(),
    "msgspec": msgspec.json.encode,
    "orjson": orjson.dumps,
    "lines": lambda o: json.dumps(o, indent=1, ensure_ascii=False).encode(),
}
ENCODER = st.sampled_from(sorted(ENCODERS))
# For stream events: compact JSON most of the time, the layout the compiled fast path takes.
EVENT_ENCODER = st.sampled_from(["compact"] * 4 + sorted(ENCODERS))


# -- 1. round trips -------------------------------------------------------------------------


def assert_presence(struct: msgspec.Struct, obj: dict[str, Any]) -> None:
    """Absent is UNSET and null is None, field by field (top level)."""
    for field in msgspec.structs.fields(struct):
        value = getattr(struct, field.name)
        if field.encode_name not in obj:
            assert value is UNSET, field.name
        elif obj[field.encode_name] is None:
            assert value is None, field.name
        else:
            assert value is not UNSET, field.name
            assert value is not None, field.name


@fast(150)
@given(obj=model(stepwire.RunStep), encoder=ENCODER)
def test_any_valid_step_round_trips(obj, encoder):
    body = ENCODERS[encoder](obj)
    step = stepwire.decode_step(body)
    assert_presence(step, obj)
    again = stepwire.encode(step)
    assert json.loads(again) == obj
    assert stepwire.decode_step(again) == step
    # Every input type, and a memoryview read in place, gives the same step.
    assert stepwire.decode_step(body.decode()) == step
    assert stepwire.decode_step(memoryview(bytearray(body))) == step


@fast(40)
@given(obj=model(stepwire.RunStepPage), encoder=ENCODER)
def test_any_valid_page_round_trips(obj, encoder):
    page = stepwire.decode_page(ENCODERS[encoder](obj))
    assert_presence(page, obj)
    assert json.loads(stepwire.encode(page)) == obj
    assert stepwire.decode_page(stepwire.encode(page)) == page
    # The same steps as NDJSON, one compact step per line, CRLF or LF.
    lines = [ENCODERS["compact"](step) for step in obj["data"]]
    assert stepwire.decode_lines(b"\r\n".join(lines)) == page.data
    assert stepwire.decode_lines(b"\n".join([*lines, b""])) == page.data


@fast(150)
@given(obj=model(stepwire.RunStepDeltaEvent), encoder=ENCODER)
def test_any_valid_delta_event_round_trips(obj, encoder):
    event = stepwire.decode_delta(ENCODERS[encoder](obj))
    assert_presence(event.delta, obj["delta"])
    assert json.loads(stepwire.encode(event)) == obj
    assert stepwire.decode_delta(stepwire.encode(event)) == event


@fast(60)
@given(obj=model(stepwire.ApiError), encoder=ENCODER)
def test_any_error_event_data_decodes_to_its_fields(impl, obj, encoder):
    # Bare and wrapped: the two forms an error event's data comes in.
    body = b"".join(
        b"event: error\n" + b"".join(b"data: " + line + b"\n" for line in data.split(b"\n")) + b"\n"
        for data in (ENCODERS[encoder](obj), ENCODERS[encoder]({"error": obj}))
    )
    events = impl.Accumulator().feed(body)
    assert [as_json(e.data) for e in events] == [obj, obj]


# -- 2. split invariance --------------------------------------------------------------------
#
# A final step is drawn together with the way a stream builds it: the created event holds a
# prefix of it (calls the server listed, strings cut short, lists not yet extended), and the
# deltas carry the rest, cut into fragments, interleaved across calls and fields, grouped
# into events at random. The expected snapshot is the final step itself, not the result of
# another run: the oracle is the merge rules of docs/merge.md, applied backwards.


class Spec:
    """How one field of a snapshot is built by deltas."""

    def __init__(self, required: bool = True) -> None:
        self.required = required  # every optional field of the model is nullable too

    def final(self, draw: Any) -> Any:
        """The field's value in the final step: UNSET (absent) or None if it is optional."""
        options = [] if self.required else [UNSET, None]
        choice = draw(st.sampled_from([*options, "value"]))
        return self.value(draw) if choice == "value" else choice

    def value(self, draw: Any) -> Any:
        raise NotImplementedError

    def split(self, draw: Any, final: Any, created: bool) -> tuple[Any, list[list[Any]]]:
        """The field's value in the created event (UNSET: left out), and its delta streams.

        ``created`` says whether the object holding the field is in the created event;
        otherwise a delta creates it, with required strings "" and lists []. Each stream is
        a list of values for the field, in the order they must be sent; streams interleave.
        """
        if final is UNSET:
            return UNSET, []
        if final is None:
            start = draw(st.sampled_from([UNSET, None])) if created else UNSET
            return start, [with_nulls(draw, [None] if start is UNSET else [])]
        start, streams = self.build(draw, final, created)
        return start, [with_nulls(draw, s) for s in streams]

    def build(self, draw: Any, final: Any, created: bool) -> tuple[Any, list[list[Any]]]:
        raise NotImplementedError


def with_nulls(draw: Any, stream: list[Any]) -> list[Any]:
    """``stream`` with a null anywhere: a null never erases a value."""
    out = list(stream)
    if draw(st.integers(0, 3)) == 0:
        out.insert(draw(st.integers(0, len(out))), None)
    return out


def fragments(draw: Any, text: str) -> list[str]:
    """``text`` cut at code-point boundaries (at least one fragment, empty ones possible)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    return [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]


class Null(Spec):
    """An untyped field whose final value is null."""

    def __init__(self) -> None:
        super().__init__(required=False)

    def final(self, draw: Any) -> None:
        return None


class Concat(Spec):
    """A string deltas extend (function arguments, code input, logs, untyped strings...)."""

    def value(self, draw: Any) -> str:
        return draw(TEXT)

    def build(self, draw, final, created):
        how = "absent"  # a delta-created object starts with "" (required) or nothing
        if created:
            how = draw(st.sampled_from(["prefix"] + ([] if self.required else ["absent", "null"])))
        cut = draw(st.integers(0, len(final))) if how == "prefix" else 0
        start = {"prefix": final[:cut], "absent": UNSET, "null": None}[how]
        rest = final[cut:]
        settled = isinstance(start, str) or (start is UNSET and self.required)
        if not rest and settled and draw(st.booleans()):
            return start, [[]]
        return start, [fragments(draw, rest)]


class Replace(Spec):
    """A value each delta replaces (ids, server_label, a computer-use action, numbers...)."""

    def __init__(self, strategy: st.SearchStrategy[Any], blank: Any = UNSET, **kw: Any) -> None:
        super().__init__(**kw)
        self.strategy = strategy
        self.blank = blank  # what a delta-created object holds: "" for required strings

    def value(self, draw: Any) -> Any:
        return draw(self.strategy)

    def build(self, draw, final, created):
        decoys = draw(st.lists(self.strategy, max_size=2))
        start = draw(st.sampled_from([final, *decoys[:1]])) if created else UNSET
        if not decoys and (start is final or (not created and self.blank == final)):
            return start, [draw(st.sampled_from([[], [final]]))]
        return start, [[*decoys, final]]


class Whole(Spec):
    """An object deltas send whole (file_search ranking_options, a computer screenshot)."""

    def __init__(self, strategy: st.SearchStrategy[Any]) -> None:
        super().__init__(required=False)
        self.strategy = strategy

    def value(self, draw: Any) -> Any:
        return draw(self.strategy)

    def build(self, draw, final, created):
        if created and draw(st.booleans()):
            return final, [draw(st.sampled_from([[], [final]]))]
        return UNSET, [[final]]


class Extend(Spec):
    """A list deltas extend (file_search results, safety checks, untyped lists...)."""

    def __init__(self, item: st.SearchStrategy[Any], **kw: Any) -> None:
        super().__init__(**kw)
        self.item = item

    def value(self, draw: Any) -> list[Any]:
        return draw(st.lists(self.item, max_size=3))

    def build(self, draw, final, created):
        how = "absent"
        if created:
            how = draw(st.sampled_from(["prefix"] + ([] if self.required else ["absent", "null"])))
        cut = draw(st.integers(0, len(final))) if how == "prefix" else 0
        start = {"prefix": final[:cut], "absent": UNSET, "null": None}[how]
        rest = final[cut:]
        cuts = sorted(draw(st.lists(st.integers(0, len(rest)), max_size=3)))
        parts = [rest[a:b] for a, b in itertools.pairwise([0, *cuts, len(rest)])]
        settled = isinstance(start, list) or (start is UNSET and self.required)
        if not rest and settled and draw(st.booleans()):
            parts = []
        return start, [parts]


class StringMap(Spec):
    """An open map (Azure's bing_grounding and the like), built the way the service builds
    it: key by key, each string fragment by fragment, a null replaced by a value and never
    erasing one (docs/merge.md, "Open maps"). ``index`` is a key like any other in a map;
    ``id`` and ``type`` are left out (they are replaced wherever they are)."""

    def value(self, draw: Any) -> dict[str, str | None]:
        return draw(st.dictionaries(MAP_KEY, st.one_of(TEXT, st.none()), max_size=3))

    def build(self, draw, final, created):
        spec = Obj({k: infer(v) for k, v in final.items()}, required=self.required)
        return spec.build(draw, final, created)


class Obj(Spec):
    """An object merged field by field (function, code_interpreter, untyped objects...)."""

    def __init__(self, fields: dict[str, Spec], **kw: Any) -> None:
        super().__init__(**kw)
        self.fields = fields

    def value(self, draw: Any) -> dict[str, Any]:
        out = {}
        for name, spec in self.fields.items():
            value = spec.final(draw)
            if value is not UNSET:
                out[name] = value
        return out

    def build(self, draw, final, created):
        inside = created and (self.required or draw(st.booleans()))
        start: Any = {} if inside else UNSET
        streams = []
        for name, spec in self.fields.items():
            value, parts = spec.split(draw, final.get(name, UNSET), inside)
            if inside and value is not UNSET:
                start[name] = value
            streams.extend([{name: atom} for atom in part] for part in parts)
        if start is UNSET and not self.required and not any(streams):
            streams.append([{}])  # an empty object still needs a delta to exist
        return start, streams


class Indexed(Spec):
    """In an untyped object: a list of objects, merged by the ``index`` their deltas carry."""

    def __init__(self, items: list[Obj]) -> None:
        super().__init__(required=False)
        self.items = items

    def build(self, draw, final, created):
        keep = draw(st.integers(0, len(final))) if created else 0
        start: Any = [] if created and (keep or draw(st.booleans())) else UNSET
        streams = []
        for j, (spec, item) in enumerate(zip(self.items, final, strict=True)):
            value, parts = spec.build(draw, item, j < keep)
            if j < keep:
                start.append(value)
            parts = [[{"index": j, **atom} for atom in part] for part in parts]
            if j >= keep:  # the first delta of an item creates it
                parts = [[{"index": j}, *itertools.chain.from_iterable(parts)]]
            streams.extend([[atom] for atom in part] for part in parts)
        return start, streams


# Untyped objects (types stepwire does not model) are merged by the runtime type of each
# value, so their spec is read off the final value. ``id``, ``type`` and ``index`` are left
# out of the keys: the first two are replaced wherever they are, the last is dropped.
UNTYPED_KEY = TEXT.filter(lambda k: k not in ("id", "type", "index"))
MAP_KEY = st.one_of(st.just("index"), TEXT.filter(lambda k: k not in ("id", "type")))
NOT_STR = st.one_of(st.booleans(), INT64, FLOAT)
UNTYPED_SCALAR = st.one_of(st.none(), NOT_STR, TEXT)
UNTYPED = st.recursive(
    st.dictionaries(UNTYPED_KEY, UNTYPED_SCALAR, max_size=3),
    lambda inner: st.dictionaries(
        UNTYPED_KEY,
        st.one_of(
            UNTYPED_SCALAR,
            st.lists(UNTYPED_SCALAR, max_size=3),
            st.lists(inner, min_size=1, max_size=2),
            inner,
        ),
        max_size=3,
    ),
    max_leaves=6,
)


def infer(value: Any, required: bool = False) -> Spec:
    if value is None:
        return Null()
    if isinstance(value, str):
        return Concat(required=False)
    if isinstance(value, dict):
        return Obj({k: infer(v) for k, v in value.items()}, required=required)
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return Indexed([infer(v, required=True) for v in value])
        return Extend(UNTYPED_SCALAR, required=False)
    return Replace(NOT_STR, required=False)


class Outputs(Spec):
    """Code interpreter outputs, merged by their own index (logs, image, unknown types)."""

    def value(self, draw: Any) -> list[dict[str, Any]]:
        out = []
        for kind in draw(st.lists(st.sampled_from(["logs", "image", "unknown"]), max_size=3)):
            if kind == "logs":
                out.append({"type": "logs", "logs": draw(TEXT)})
            elif kind == "image":
                out.append({"type": "image", "image": {"file_id": draw(TEXT)}})
            else:
                tag = draw(FUTURE_TAGS.filter(lambda t: t not in ("logs", "image")))
                out.append({**draw(UNTYPED), "type": tag})
        return out

    @staticmethod
    def spec(output: dict[str, Any]) -> Obj:
        if output["type"] == "logs":
            return Obj({"logs": Concat()})
        if output["type"] == "image":
            return Obj({"image": Obj({"file_id": Replace(TEXT, blank="")})})
        return infer({k: v for k, v in output.items() if k != "type"}, required=True)

    def build(self, draw, final, created):
        keep = draw(st.integers(0, len(final))) if created else 0
        start = []
        streams = []
        for j, output in enumerate(final):
            tag = output["type"]
            body = {k: v for k, v in output.items() if k != "type"}
            value, parts = self.spec(output).build(draw, body, j < keep)
            if j < keep:
                start.append({"type": tag, **value})
            parts = [[{"index": j, "type": tag, **atom} for atom in part] for part in parts]
            if j >= keep:  # the first delta of an output creates it
                parts = [[{"index": j, "type": tag}, *itertools.chain.from_iterable(parts)]]
            streams.extend([[atom] for atom in part] for part in parts)
        return start, streams


# Strategies for the values the typed deltas send whole.
RANKING = model(stepwire.FileSearchRankingOptions)
SCREENSHOT = model(stepwire.ComputerScreenshot)
ACTION = from_type(
    next(f.type for f in mi.type_info(stepwire.ComputerUse).fields if f.name == "action")
)
RESULT = model(stepwire.FileSearchResult)
SAFETY = model(stepwire.SafetyCheck)
BROWSER_STEP = model(stepwire.BrowserAutomationStep)


def _optional() -> Concat:
    return Concat(required=False)


# The payload of each known tool call type, as its snapshot holds it (``id`` aside).
TOOL_PAYLOADS: dict[str, dict[str, Spec]] = {
    "function": {"function": Obj({"name": Concat(), "arguments": Concat(), "output": _optional()})},
    "code_interpreter": {"code_interpreter": Obj({"input": Concat(), "outputs": Outputs()})},
    "file_search": {
        "file_search": Obj(
            {"ranking_options": Whole(RANKING), "results": Extend(RESULT, required=False)}
        )
    },
    "azure_function": {
        "azure_function": Obj(
            {"name": _optional(), "arguments": _optional(), "output": _optional()}
        )
    },
    "connected_agent": {
        "connected_agent": Obj(
            {
                "name": _optional(),
                "arguments": _optional(),
                "output": _optional(),
                "run_id": Replace(TEXT, required=False),
                "thread_id": Replace(TEXT, required=False),
                "assistant_id": Replace(TEXT, required=False),
            }
        )
    },
    "deep_research": {"deep_research": Obj({"input": Concat(), "output": _optional()})},
    "mcp": {
        "arguments": Concat(),
        "name": Concat(),
        "output": _optional(),
        "server_label": Replace(TEXT, required=False),
    },
    "computer_use_preview": {
        "computer_use_preview": Obj(
            {
                # Required, but a call opens with "action": null (or without it): a
                # delta-created call lacks it until a delta sends it.
                "action": Replace(ACTION, required=False),
                "pending_safety_checks": Extend(SAFETY),
                "output": Whole(SCREENSHOT),
                "acknowledged_safety_checks": Extend(SAFETY, required=False),
            }
        )
    },
    "browser_automation": {
        "browser_automation": Obj(
            {"input": Concat(), "output": Concat(), "steps": Extend(BROWSER_STEP)}
        )
    },
}
for _kind in [
    "bing_grounding",
    "bing_custom_search",
    "azure_ai_search",
    "sharepoint_grounding",
    "fabric_dataagent",
]:
    TOOL_PAYLOADS[_kind] = {_kind: StringMap()}
# The SDK's openapi map and the live service's function object: either may be absent.
TOOL_PAYLOADS["openapi"] = {
    "openapi": StringMap(required=False),
    "function": Obj(
        {"name": _optional(), "arguments": _optional(), "output": _optional()}, required=False
    ),
}
KNOWN_TOOL_TYPES = frozenset(m.__struct_config__.tag for m in typing.get_args(stepwire.ToolCall))
assert set(TOOL_PAYLOADS) == KNOWN_TOOL_TYPES, "a tool type without a delta strategy"
TOOL_KINDS = [*sorted(TOOL_PAYLOADS), "unknown"]


@st.composite
def tool_call(draw):
    """(type, spec, final call) of any tool call type, known or not."""
    # Function and code calls most often: theirs are the deltas the compiled fast path takes.
    kind = draw(st.sampled_from(["function"] * 6 + ["code_interpreter"] * 3 + [*TOOL_KINDS]))
    if kind == "unknown":
        tag = draw(FUTURE_TAGS.filter(lambda t: t not in KNOWN_TOOL_TYPES))
        body = draw(UNTYPED)
        spec = infer(body, required=True)
        call_id = draw(st.sampled_from([UNSET, None, "call_u"]))
        spec.fields["id"] = Replace(TEXT, required=False)
        if call_id is not UNSET:
            body["id"] = call_id
        return tag, spec, {**body, "type": tag}
    spec = Obj({"id": Replace(TEXT, blank=""), **TOOL_PAYLOADS[kind]})
    return kind, spec, {"type": kind, **spec.value(draw)}


def interleave(draw, streams: list[list[Any]]) -> list[Any]:
    """Merge ``streams`` into one list in a drawn order that keeps each stream's order."""
    queues = [list(s) for s in streams if s]
    out = []
    while queues:
        i = draw(st.integers(0, len(queues) - 1))
        out.append(queues[i].pop(0))
        if not queues[i]:
            queues.pop(i)
    return out


@st.composite
def tool_calls_stream(draw):
    """(created details, final details, the details of each delta) of a tool_calls step."""
    calls = draw(st.lists(tool_call(), max_size=4))
    keep = draw(st.integers(0, len(calls)))  # the calls the server lists in the created event
    created_calls, call_streams = [], []
    for i, (kind, spec, final) in enumerate(calls):
        body = {k: v for k, v in final.items() if k != "type"}
        server = i < keep
        start, streams = spec.build(draw, body, server)
        if server:
            created_calls.append({"type": kind, **start})
        atoms = interleave(draw, streams)
        if not server and not atoms:
            atoms = [{}]  # a call with nothing to say still needs the delta that creates it
        call_streams.append([{"index": i, "type": kind, **atom} for atom in atoms])
    merged = interleave(draw, call_streams)
    deltas = []
    while merged:
        size = draw(st.sampled_from([1, 1, 1, 2, 3]))
        tag = draw(st.sampled_from(["tool_calls"] * 4 + ["mcp", "openapi"]))
        deltas.append({"type": tag, "tool_calls": merged[:size]})
        del merged[:size]
    final = {"type": "tool_calls", "tool_calls": [c[2] for c in calls]}
    return {"type": "tool_calls", "tool_calls": created_calls}, final, deltas


@st.composite
def message_creation_stream(draw):
    spec = Obj({"message_creation": Obj({"message_id": Replace(TEXT, blank="")})})
    final = spec.value(draw)
    start, streams = spec.build(draw, final, True)
    tag = "message_creation"
    deltas = [{"type": tag, **atom} for atom in interleave(draw, streams)]
    return {"type": tag, **start}, {"type": tag, **final}, deltas


@st.composite
def unknown_details_stream(draw):
    tag = draw(FUTURE_TAGS.filter(lambda t: t not in ("tool_calls", "message_creation")))
    if tag in ("activities", "mcp", "openapi"):  # known step-details (delta) types
        tag = "future_details"
    final = draw(UNTYPED)
    start, streams = infer(final, required=True).build(draw, final, True)
    deltas = [{"type": tag, **atom} for atom in interleave(draw, streams)]
    return {"type": tag, **start}, {"type": tag, **final}, deltas


DETAILS_STREAM = st.one_of(
    tool_calls_stream(), tool_calls_stream(), message_creation_stream(), unknown_details_stream()
)


def delta_event(details: Any, step_id: str = SID) -> dict[str, Any]:
    return {"id": step_id, "object": "thread.run.step.delta", "delta": {"step_details": details}}


@st.composite
def sse_body(draw, events):
    """``events`` ((name, data) pairs; data an object to JSON-encode, or bytes) as an event
    stream: drawn encoders, line ends, comments, id/retry/unknown fields, blank lines.

    Returns (body, the last id it sets or None, the last retry it sets or None).
    """
    lines: list[bytes] = []
    for name, data in events:
        raw = data if isinstance(data, bytes) else ENCODERS[draw(EVENT_ENCODER)](data)
        space = draw(st.sampled_from([b" ", b""]))
        block = [b"data:" + space + line for line in raw.split(b"\n")]
        if name != "message" or draw(st.booleans()):
            block.insert(draw(st.integers(0, len(block))), b"event:" + space + name.encode())
        for _ in range(draw(st.integers(0, 2))):
            extra = draw(st.sampled_from(["comment", "id", "retry", "field"]))
            line = {
                "comment": b":" + draw(st.sampled_from([b"", b" keep-alive", b"data: x"])),
                "id": b"id: " + str(draw(st.integers(0, 99))).encode(),
                "retry": b"retry: " + str(draw(st.integers(0, 10**6))).encode(),
                "field": b"foo: bar",
            }[extra]
            block.insert(draw(st.integers(0, len(block))), line)
        lines.extend(block)
        lines.extend([b""] * draw(st.integers(1, 2)))
    out = []
    previous = b""
    last_id = retry = None
    for line in lines:
        end = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
        if previous == b"\r" and not line and end == b"\n":
            end = b"\r\n"  # a CR then an LF would be one line end, not a blank line
        out.append(line + end)
        previous = end
        if line.startswith(b"id: "):
            last_id = line[4:].decode()
        elif line.startswith(b"retry: "):
            retry = int(line[7:])
    return b"".join(out), last_id, retry


def chunked(draw, body: bytes) -> list[bytes]:
    """``body`` cut anywhere: inside a UTF-8 character, between CR and LF, empty chunks."""
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=12)))
    return [body[a:b] for a, b in itertools.pairwise([0, *cuts, len(body)])]


NOISE = [
    ("thread.message.delta", b'{"delta":{"content":[{"text":"caf\xc3\xa9"}]}}'),
    ("thread.run.created", b"{}"),
    ("message", b"ping"),
    ("error", b'{"error":{"message":"late","type":"server_error"}}'),
]


@st.composite
def split_case(draw):
    """A stream building one step, with everything the test needs to check it."""
    created_details, final_details, deltas = draw(DETAILS_STREAM)
    created = step_object(created_details, step_id=SID)
    expected = step_object(final_details, step_id=SID)
    completed = {**expected, "status": "completed", "completed_at": 1_700_000_100}
    delta_events = [(DELTA, delta_event(d)) for d in deltas]
    # Deltas before the created event wait in ``pending`` and are merged when it arrives.
    early = draw(st.integers(0, len(delta_events)))
    events = [*delta_events[:early], (CREATED, created), *delta_events[early:]]
    for noise in draw(st.lists(st.sampled_from(NOISE), max_size=2)):
        events.insert(draw(st.integers(0, len(events))), noise)
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    body, last_id, retry = draw(sse_body(events))
    tail, tail_id, tail_retry = draw(sse_body([(COMPLETED, completed)]))
    done = draw(st.sampled_from([b"data: [DONE]\n\n", b"event: done\ndata: [DONE]\n", b""]))
    return {
        "events": events,
        "created": created,
        "deltas": [d for _, d in delta_events],
        "expected": expected,
        "completed": completed,
        "chunks": chunked(draw, bom + body),
        "tail": chunked(draw, tail + done),
        "done": bool(done),
        "last_id": tail_id or last_id,
        "retry": tail_retry if tail_retry is not None else retry,
    }


def as_json(obj: Any) -> Any:
    return json.loads(stepwire.encode(obj))


@fast(120)
@given(case=split_case())
def test_any_split_of_a_delta_stream_gives_the_final_step(impl, case):
    acc = impl.Accumulator()
    events = [e for chunk in case["chunks"] for e in acc.feed(chunk)]
    assert [e.event for e in events] == [name for name, _ in case["events"]]
    for event, (_, data) in zip(events, case["events"], strict=True):
        if isinstance(data, bytes):
            assert event.raw == data
        else:
            assert json.loads(event.raw) == data
        if event.event == DELTA:  # decoded lazily by the compiled fast path
            assert event.data == stepwire.decode_delta(event.raw)
    assert list(acc.pending) == []
    assert as_json(acc.steps[SID]) == case["expected"]
    assert acc.steps[SID] == stepwire.decode_step(ENCODERS["compact"](case["expected"]))
    # The server's final object replaces the merged snapshot.
    tail = [e for chunk in case["tail"] for e in acc.feed(chunk)] + acc.close()
    assert [e.event for e in tail] == [COMPLETED]
    assert as_json(acc.steps[SID]) == case["completed"]
    assert (acc.last_event_id, acc.retry, acc.done) == (
        case["last_id"],
        case["retry"],
        case["done"],
    )


@fast(80)
@given(case=split_case())
def test_apply_delta_gives_the_final_step(case):
    deltas = [stepwire.decode_delta(ENCODERS["compact"](d)) for d in case["deltas"]]
    snapshot = stepwire.decode_step(ENCODERS["compact"](case["created"]))
    assert stepwire.apply_delta(snapshot, iter(deltas)) is snapshot
    assert as_json(snapshot) == case["expected"]
    # One call per delta (slower: each string is joined every time) merges the same.
    single = stepwire.decode_step(ENCODERS["compact"](case["created"]))
    for delta in deltas:
        assert stepwire.apply_delta(single, delta) is single
    assert single == snapshot
    # The merge never edits the deltas: they still encode as sent.
    assert [as_json(d) for d in deltas] == case["deltas"]


# -- 3. the two implementations agree -------------------------------------------------------


@pytest.fixture(scope="module")
def both():
    return load_impl("python"), load_impl("cython")


def describe(event: Any) -> tuple[Any, ...]:
    try:
        data = event.data
        shown = data if isinstance(data, bytes) else stepwire.encode(data)
        kind = type(data).__name__
    except Exception as exc:  # the compiled build decodes .data lazily: that may fail too
        kind, shown = "raised", (type(exc).__name__, str(exc))
    return (event.event, event.id, event.raw, kind, shown)


state = accumulator_state


def drive(acc: Any, chunks: list[bytes]) -> list[Any]:
    """Everything ``acc`` says while it reads ``chunks``: after every call, what it returned
    or raised, then its whole state. A StreamError is followed by feed(b"") until it passes.
    """
    log: list[Any] = []

    def call(method: Any, *args: Any) -> bool:
        try:
            events = method(*args)
        except stepwire.StreamError as exc:
            cause = type(exc.__cause__).__name__
            log.append(
                ("StreamError", str(exc), exc.event, cause, [describe(e) for e in exc.events])
            )
            log.append(state(acc))
            return False
        except Exception as exc:
            log.append((type(exc).__name__, str(exc)))
            log.append(state(acc))
            return True  # not a StreamError: feed(b"") would not be the way on
        log.append([describe(e) for e in events])
        log.append(state(acc))
        return True

    for chunk in chunks:
        ok = call(acc.feed, chunk)
        for _ in range(200):
            if ok:
                break
            ok = call(acc.feed, b"")
        assert ok, "StreamError on every feed(b'')"
    ok = call(acc.close)
    for _ in range(200):
        if ok:
            break
        ok = call(acc.feed, b"")
    assert ok, "StreamError on every feed(b'') after close()"
    return log


def agree(both: Any, chunks: list[bytes], limits: Any = None) -> list[Any]:
    python, cython = (_fresh_drive(module, chunks, limits) for module in both)
    assert cython == python
    return python


def _fresh_drive(module: Any, chunks: list[bytes], limits: Any) -> list[Any]:
    """``drive`` with decoders that have learned nothing yet.

    Both builds share the module-level decoders, which learn the shapes the
    fallback meets (_twins): without this, the second build would read the
    same bodies after the first had taught them, and compare decoder
    histories, not builds. (What a history changes: the key order of an
    unknown object whose keys came in another order before; see the note on
    issue 13.)
    """
    forget_learned_shapes()
    return drive(module.Accumulator(**(limits or {})), chunks)


# Pieces of broken streams. Each is raw event-stream bytes; the step they talk about is SID,
# opened by a created event with a function call at index 0 and a code call at index 1.
OPEN = step_object(
    {
        "type": "tool_calls",
        "tool_calls": [
            {
                "id": "c0",
                "type": "function",
                "function": {"name": "f", "arguments": "", "output": None},
            },
            {
                "id": "c1",
                "type": "code_interpreter",
                "code_interpreter": {"input": "", "outputs": []},
            },
        ],
    },
    step_id=SID,
)
FAST_TEMPLATE = (
    b'{"id":"%s","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls",'
    b'"tool_calls":[{"index":%s,"type":"%s","%s":{"%s":%s}}]}}}'
)
BAD_UTF8 = [
    b"\xff",
    b"\xc3",
    b"\xc3(",
    b"\xed\xa0\x80",
    b"\xc0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe6\x9d",
]


def block(name: bytes, data: bytes, eol: bytes = b"\n") -> bytes:
    return b"event: " + name + eol + b"data: " + data + eol + eol


# Where the fast path extends the strings of the step PRIME opens: (type, field, index).
FAST_FIELDS = [
    (b"function", b"arguments", b"0"),
    (b"function", b"name", b"0"),
    (b"function", b"output", b"0"),
    (b"code_interpreter", b"input", b"1"),
]
ODD_SIDS = [b"step_q", b"step_\xc3\xa9", b"step_\xff", b'st\\"p']
ODD_INDEXES = [
    b"0",
    b"1",
    b"2",
    b"00",
    b"-1",
    b"1.0",
    b"1e0",
    b"65536",
    b"999999999",
    b"9223372036854775808",
    b"true",
    b'"0"',
    b" 0 ",
]
ODD_FIELDS = [
    (b"code_interpreter", b"arguments"),
    (b"function", b"input"),
    (b"function", b"id"),
    (b"code_interpreter", b"logs"),
    (b"file_search", b"ranker"),
    (b"mcp", b"arguments"),
    *[(kind, key) for kind, key, _ in FAST_FIELDS],
]


@st.composite
def fast_shaped(draw):
    """A delta in the exact shape the compiled fast path scans: mostly one it takes (a string
    of the step PRIME opens), otherwise with parts it must hand on to msgspec."""
    if draw(st.integers(0, 2)):
        sid = SID.encode()
        kind, key, index = draw(st.sampled_from(FAST_FIELDS))
        payload = kind
        text = json.dumps(draw(TEXT), ensure_ascii=False).encode()
        if draw(st.integers(0, 3)) == 0:  # an escape the scan unescapes by hand
            text = (
                text[:-1] + draw(st.sampled_from([b"\\/", b"\\b\\f\\n\\r\\t", b'\\"\\\\'])) + b'"'
            )
        return block(DELTA.encode(), FAST_TEMPLATE % (sid, index, kind, payload, key, text))
    sid = draw(st.sampled_from([SID.encode(), *ODD_SIDS]))
    index = draw(st.sampled_from(ODD_INDEXES))
    kind, key = draw(st.sampled_from(ODD_FIELDS))
    payload = kind if draw(st.booleans()) else b"code_interpreter"
    text = draw(
        st.one_of(
            TEXT.map(lambda t: json.dumps(t).encode()),
            st.sampled_from(BAD_UTF8).map(lambda b: b'"a' + b + b'"'),
            st.sampled_from(
                [
                    b'"\\x"',
                    b'"\\u12"',
                    b'"\\ud800"',
                    b'"\x01"',
                    b'"a\\"',
                    b"null",
                    b"5",
                    b"[]",
                ]
            ),
        )
    )
    body = FAST_TEMPLATE % (sid, index, kind, payload, key, text)
    if draw(st.integers(0, 7)) == 0:
        body = body[: draw(st.integers(0, len(body)))]  # truncated JSON
    return block(b"thread.run.step.delta", body)


def delta_call(call: dict[str, Any], sid: str = SID) -> dict[str, Any]:
    return delta_event({"type": "tool_calls", "tool_calls": [call]}, sid)


# The open step's strings, each extended once by a delta the fast path does not take (two
# fields, or a \u escape): afterwards they are the fragment lists the fast path appends to.
SET_UP = b"".join(
    block(DELTA.encode(), ENCODERS["ascii"](delta_call(call)))
    for call in [
        {"index": 0, "type": "function", "function": {"arguments": "\u00e9"}},
        {"index": 0, "type": "function", "function": {"name": "\u00e9", "output": "\u00e9"}},
        {"index": 1, "type": "code_interpreter", "code_interpreter": {"input": "\u00e9"}},
    ]
)
PRIME = block(CREATED.encode(), ENCODERS["compact"](OPEN)) + SET_UP


# Fast-path deltas and the slow deltas that set them up most often: the compiled build's own
# code is there. Pieces that end a stream early (done, a terminal event) least often.
PIECE_KINDS = (
    ["fast"] * 6
    + ["typed"] * 2
    + [
        "garbage",
        "open",
        "wrong",
        "limits",
        "pending",
        "done",
        "names",
        "fields",
        "error",
        "full",
    ]
)


@st.composite
def broken_piece(draw):
    """One piece of a stream, most likely broken in some way."""
    kind = draw(st.sampled_from(PIECE_KINDS))
    encode = ENCODERS[draw(ENCODER)]
    if kind == "garbage":
        return draw(st.binary(max_size=24))
    if kind == "fast":
        return draw(fast_shaped())
    if kind == "open":
        # A full object resets the snapshot, and with it what the fast path may extend.
        event = draw(st.sampled_from([CREATED, "thread.run.step.in_progress", COMPLETED]))
        again = SET_UP if draw(st.booleans()) else b""
        return block(event.encode(), ENCODERS["compact"](OPEN)) + again
    if kind == "typed":
        # Slow-path deltas for the open step's calls: they set up what the fast path extends.
        index = draw(st.integers(0, 2))
        field = draw(st.sampled_from(["function", "code_interpreter"]))
        payload = {"arguments": draw(TEXT)} if field == "function" else {"input": draw(TEXT)}
        if field == "code_interpreter" and draw(st.booleans()):
            payload["outputs"] = [{"index": draw(st.integers(0, 2)), "type": "logs", "logs": "x"}]
        data = delta_call({"index": index, "type": field, field: payload})
        return block(DELTA.encode(), encode(data))
    if kind == "wrong":
        call = draw(
            st.sampled_from(
                [
                    {"index": "0", "type": "function", "function": {"arguments": "a"}},
                    {"index": 0, "type": "function", "function": {"arguments": 5}},
                    {"index": 1.5, "type": "function"},
                    {"index": True, "type": "function"},
                    {"type": "function", "function": {"arguments": "a"}},
                    {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": "x"}},
                    {"index": 1, "type": "function", "function": {"arguments": "x"}},
                    {"index": 0, "type": "future", "function": {"arguments": "x"}},
                    {"index": 0, "type": "computer_use_preview"},
                    {"index": 3, "type": "future", "x": [{"index": -1}]},
                    {"index": 3, "type": "future", "x": [{"index": 70000, "y": "z"}]},
                ]
            )
        )
        data = draw(
            st.sampled_from(
                [
                    delta_call(call),
                    delta_event({"type": "message_creation", "message_creation": {}}),
                    delta_event({"type": "future_details", "x": "y"}),
                    {"id": SID, "object": "thread.run.step.delta", "delta": {"step_details": 5}},
                    {"id": 5, "object": "thread.run.step.delta", "delta": {}},
                ]
            )
        )
        return block(DELTA.encode(), encode(data))
    if kind == "limits":
        index = draw(
            st.sampled_from([-1, 65535, 65536, 1026, 1027, 2**63 - 1, 2**63, 2**64, 10**30])
        )
        where = draw(st.sampled_from(["call", "output"]))
        if where == "call":
            call = {"index": index, "type": "function", "function": {"arguments": "a"}}
        else:
            outputs = [{"index": index, "type": "logs", "logs": "x"}]
            call = {
                "index": 1,
                "type": "code_interpreter",
                "code_interpreter": {"outputs": outputs},
            }
        # msgspec and orjson refuse integers past 64 bits; the json module writes them.
        return block(DELTA.encode(), ENCODERS["spaced"](delta_call(call)))
    if kind == "pending":
        # Kept until the step opens (step_q does, in "full" pieces), then merged or refused.
        sid = draw(st.sampled_from(["step_q", "step_r"]))
        index = draw(st.sampled_from([0, 1, 2, 70_000]))
        if draw(st.booleans()):
            call = {"index": index, "type": "function", "function": {"arguments": draw(TEXT)}}
        else:
            call = {"index": index, "type": "code_interpreter", "code_interpreter": {"input": "x"}}
        return block(DELTA.encode(), encode(delta_call(call, sid)))
    if kind == "done":
        return draw(
            st.sampled_from(
                [
                    b"data: [DONE]\n\n",
                    b"event: done\ndata: x\n\n",
                    b"event: done\n\n",
                    b"data: [DONE]\r\n",
                ]
            )
        )
    if kind == "names":
        name = draw(
            st.sampled_from(
                [
                    b"thread.run.created",
                    b"",
                    b"\xff\xfe",
                    b"thread.run.step",
                    b"Thread.Run.Step.Delta",
                    b"thread.run.step.delta ",
                    b"thread.run.step.deltas",
                ]
            )
        )
        return block(name, draw(st.sampled_from([b"{}", b"x", b"\xc3", b""])))
    if kind == "fields":
        return draw(
            st.sampled_from(
                [
                    b"id: 7\n",
                    b"id: a\x00b\n",
                    b"id: \xff\n",
                    b"id\n",
                    b"retry: 15\n",
                    b"retry: -1\n",
                    b"retry: 1.5\n",
                    b"retry:\n",
                    b"retry: \xd9\xa1\n",
                    b"retry: 007\n",
                    b"retry: " + b"9" * 18 + b"\n",
                    b"retry: " + b"9" * 19 + b"\n",
                    b"retry: " + b"0" * 30 + b"5\n",
                    b"retry: " + b"0" * 30 + b"\n",
                    b"\xef\xbb\xbf",
                    b": comment\n",
                    b"data\n",
                    b"data:\n",
                    b"\r",
                    b"\n",
                    b"\r\n",
                    b"event\n",
                    b"data: [DONE]\n",
                    b"data: a\r\ndata: b\r",
                ]
            )
        )
    if kind == "error":
        return block(
            b"error",
            draw(
                st.sampled_from(
                    [
                        b"{}",
                        b'{"error":5}',
                        b"nope",
                        b"\xff",
                        b'{"message":"m","code":null}',
                        b"[1]",
                    ]
                )
            ),
        )
    if kind == "full":
        data = draw(
            st.sampled_from(
                [
                    b"{}",
                    b'{"id":"step_q"}',
                    ENCODERS["compact"](OPEN)[:-3],
                    b"\xff",
                    ENCODERS["compact"]({**OPEN, "id": "step_q"}),
                ]
            )
        )
        event = draw(st.sampled_from([CREATED, COMPLETED, "thread.run.step.failed"]))
        return block(event.encode(), data)
    raise AssertionError(kind)


def draw_bom(data: Any) -> bytes:
    """A leading BOM, whole or cut short (then it is not a BOM), or none."""
    return data.draw(st.sampled_from([b"", b"", b"\xef\xbb\xbf", b"\xef\xbb"]))


# Limits small enough for the drawn streams to reach them.
LIMITS = st.fixed_dictionaries(
    {"max_steps": st.sampled_from([1, 2, 10_000])},
    optional={"max_event_bytes": st.sampled_from([1, 40, 200, 10_000])},
)


@fast(300)
@given(
    pieces=st.lists(broken_piece(), min_size=1, max_size=12),
    prime=st.sampled_from([True, True, False]),
    limits=LIMITS,
    data=st.data(),
)
def test_cython_and_python_agree_on_broken_streams(both, pieces, prime, limits, data):
    body = draw_bom(data) + (PRIME if prime else b"") + b"".join(pieces)
    agree(both, chunked(data.draw, body), limits)


@fast(60)
@given(case=split_case(), data=st.data())
def test_cython_and_python_agree_on_valid_streams_with_damage(both, case, data):
    body = b"".join(case["chunks"] + case["tail"])
    damage = data.draw(st.sampled_from(["none", "cut", "flip", "insert"]))
    if damage == "cut":
        body = body[: data.draw(st.integers(0, len(body)))]
    elif damage == "flip" and body:
        at = data.draw(st.integers(0, len(body) - 1))
        body = body[:at] + data.draw(st.binary(min_size=1, max_size=2)) + body[at + 1 :]
    elif damage == "insert":
        at = data.draw(st.integers(0, len(body)))
        body = body[:at] + data.draw(broken_piece()) + body[at:]
    agree(both, chunked(data.draw, body))


# -- regressions found by the properties -------------------------------------------------


def test_retry_with_too_many_digits_loses_no_event(impl):
    # int() refuses more than 4,300 digits; the ValueError it raised escaped feed(), lost
    # the chunk's other events (Python) or came back on every later feed (Cython).
    acc = impl.Accumulator()
    events = acc.feed(b"data: a\n\nretry: " + b"9" * 5000 + b"\ndata: b\n\n")
    events += acc.feed(b"") + acc.feed(b"data: c\n\n")
    assert [e.raw for e in events] == [b"a", b"b", b"c"]
    assert acc.retry is None
