"""Merging ``thread.run.step.delta`` events into run-step snapshots.

This is the reference of the merge semantics (docs/merge.md). Both stream
implementations (``_stream_py`` and the Cython ``_stream_c``) keep their step
state in :class:`StepState` and call :func:`merge_delta` / :func:`set_step`;
the Cython one only short-cuts the dominant delta (one string fragment for a
tool call it has seen before) by appending to the same fragment lists.

Typed fields merge by their declared kind. Everything else merges the way the
server builds its objects: open maps (Azure's string maps, file search
``attributes``), the fields no model has (each object's ``.extra``), values
kept as parsed where another type was declared, and objects of types stepwire
does not model (strings concatenate, a value replaces null, null never erases,
objects merge key by key, lists of objects carrying ``index`` merge by it,
other lists extend, anything else is replaced).

Strings that deltas extend are never re-copied per delta: each one is a list
of fragments (``StepState.bufs``), joined once when the snapshot is read
(:meth:`StepState.flush`), which keeps a stream linear in its length.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import msgspec
import msgspec.inspect as mi
from msgspec import UNSET
from msgspec.structs import astuple

from ._encode import json_names, to_builtins
from ._errors import StreamError
from ._failures import FAILURES
from ._model import (
    CodeInterpreter,
    CodeInterpreterDelta,
    CodeInterpreterToolCallDelta,
    MCPStepDetailsDelta,
    OpenAPIStepDetailsDelta,
    RunStep,
    RunStepDeltaEvent,
    ToolCall,
    ToolCallsStepDetails,
    ToolCallsStepDetailsDelta,
)
from ._unknown import (
    EXTRA_KEY,
    ExtraFields,
    UnknownObject,
    UnknownOutput,
    UnknownStepDetails,
    UnknownStepDetailsDelta,
    UnknownToolCall,
    UnknownToolCallDelta,
)

__all__ = ["PendingDeltas", "StepSnapshots", "StepState", "apply_delta", "merge_delta", "set_step"]

# Typed string fields that deltas extend fragment by fragment. Every other
# typed string (ids, ``type``, ``ranker``, ``server_label``...) is replaced.
CONCAT = frozenset({"name", "arguments", "input", "output", "logs"})
# Strings replaced, never concatenated, wherever they are (in open maps and
# objects of unknown types too): every delta that names its object repeats them.
REPLACED = frozenset({"id", "type"})

# Step events whose data is the server's full object. The first two open (or
# restate) a step; the others end it.
OPENING = frozenset({"thread.run.step.created", "thread.run.step.in_progress"})
TERMINAL = frozenset(
    {
        "thread.run.step.completed",
        "thread.run.step.failed",
        "thread.run.step.cancelled",
        "thread.run.step.expired",
    }
)
FULL = OPENING | TERMINAL

# Indexes a delta may use in a list merged by index (tool calls, code outputs,
# lists of unknown objects): below MAX_INDEX, and for tool calls and outputs at
# most MAX_INDEX_GAP past the list's current length. A stream cannot make a
# list grow past MAX_INDEX items, nor open calls far ahead of the ones it has.
MAX_INDEX = 65_536
MAX_INDEX_GAP = 1024
# The most step snapshots an accumulator keeps, by default.
MAX_STEPS = 10_000
# The largest event data (and line) an accumulator buffers, by default.
MAX_EVENT_BYTES = 16 * 1024 * 1024
# A longer ``retry:`` (over 31 million years, in milliseconds) is ignored:
# int() refuses very long digit strings, and no client could wait it.
MAX_RETRY_DIGITS = 18
DELTA = "thread.run.step.delta"

_TOOL_CALL_DETAILS = (ToolCallsStepDetailsDelta, MCPStepDetailsDelta, OpenAPIStepDetailsDelta)
_CONTAINERS = (dict, list, msgspec.Struct)
# The types of values that hold nothing to merge into; ``type(v) in _LEAVES`` is much
# cheaper than ``isinstance(v, msgspec.Struct)``, which goes through Struct's metaclass.
_LEAVES = frozenset({str, int, float, bool, type(None), type(UNSET)})
_STRUCT_META = type(msgspec.Struct)


def _is_struct(value: Any) -> bool:
    return type(type(value)) is _STRUCT_META


# Paths from the step, the keys of StepState.bufs and .indexes:
#   (i, field, ...)           a typed tool call at delta index i, and what is below it
#                             (the compiled fast path looks up (i, "function", "arguments"))
#   (i, type, None, key, ...) an UnknownToolCall: None is never a field or a map key
#   ("step_details", ...)     the step details (but their tool calls, which are (i, ...))
#   (..., EXTRA_KEY, key)     a field of an object's ``.extra``: EXTRA_KEY is never the
#                             name of a typed field, so an extra field of a Struct cannot
#                             share a path with one of its typed fields
#   (EXTRA_KEY, key, ...)     the step's own ``.extra``
_CALLS: tuple[Any, ...] = ("tool_calls",)

Key = tuple[Any, ...]


class StepState:
    """What an accumulator knows of one step.

    Attributes
    ----------
    snapshot : RunStep or None
        The merged snapshot; ``None`` while only deltas have arrived.
    pending : list of RunStepDeltaEvent
        Deltas that arrived before any full object of the step.
    bufs : dict
        Fragment lists of the strings deltas extend, by path from the step
        (``(index, "function", "arguments")``): ``str`` fragments, and in the
        compiled build ``bytearray`` runs of UTF-8 it extends in place.
    targets : dict
        ``(object, field)`` for every entry of ``bufs``, by the same path:
        where :meth:`flush` writes the joined string. The object is also how
        the merge tells that an entry is still the snapshot's: where a delta
        replaced an object, the next string at the same path starts anew.
    indexes : dict
        For each list merged by index (tool calls, code outputs, indexed
        lists of open maps), ``(the list, the delta index of each element)``.
    ended : str or None
        The terminal event the snapshot came from, if it did. Deltas after it
        still merge (the service sends some: a function's output after a tool
        approval); the step stays finished for the step table.
    """

    __slots__ = ("bufs", "ended", "indexes", "pending", "snapshot", "targets")

    def __init__(self) -> None:
        self.snapshot: RunStep | None = None
        self.ended: str | None = None
        self.pending: list[RunStepDeltaEvent] = []
        self.bufs: dict[Key, list[str | bytearray]] = {}
        self.targets: dict[Key, tuple[Any, str]] = {}
        self.indexes: dict[Key, tuple[list[Any], list[int]]] = {}

    def flush(self) -> None:
        """Write the joined fragments into the snapshot."""
        bufs = self.bufs
        for key, (target, name) in self.targets.items():
            parts = bufs[key]
            if not parts:
                continue
            value = parts[0]
            if len(parts) > 1 or not isinstance(value, str):
                # The compiled build appends a fragment's UTF-8 to a bytearray.
                value = "".join([p if isinstance(p, str) else p.decode() for p in parts])
                parts[:] = [value]
            if isinstance(target, dict):
                target[name] = value
            elif getattr(target, name) is not value:
                setattr(target, name, value)

    def reset(self, snapshot: RunStep) -> None:
        self.snapshot = snapshot
        self.bufs = {}
        self.targets = {}
        self.indexes = {}


def check_limit(name: str, value: object) -> int:
    """An accumulator limit: a positive ``int`` (``TypeError`` or ``ValueError`` if not)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


def concurrent_call(method: str) -> RuntimeError:
    """The error of an accumulator call made while another one is running."""
    return RuntimeError(
        f"Accumulator.{method}() called while another call on the same accumulator is "
        "running: an Accumulator is not thread-safe (use one per stream and thread)"
    )


class StepTable:
    """The step states of one accumulator, at most ``max_steps`` of them.

    A long-lived stream must not grow forever: when a new step would pass the
    limit, the step that finished first (its terminal object arrived) is
    dropped, or the oldest step if none has finished. A dropped step is
    forgotten; later events for it are those of a step never seen.
    """

    __slots__ = ("finished", "max_steps", "states")

    def __init__(self, max_steps: int) -> None:
        self.states: dict[str, StepState] = {}
        self.finished: dict[str, None] = {}  # in the order the steps finished
        self.max_steps = max_steps

    def open(self, step_id: str) -> StepState:
        """The state of ``step_id``, created (making room) if the step is new."""
        state = self.states.get(step_id)
        if state is None:
            if len(self.states) >= self.max_steps:
                victim = next(iter(self.finished or self.states))
                self.finished.pop(victim, None)
                del self.states[victim]
            state = self.states[step_id] = StepState()
        return state


def set_step(table: StepTable, event: str, step: RunStep) -> StreamError | None:
    """Apply a full step object (created, in_progress or a terminal event).

    The server's object replaces the snapshot. Deltas kept for a step never
    created are merged into an opening object; a terminal object already
    holds everything they carried, so it supersedes them.

    Returns
    -------
    StreamError or None
        What to raise once the event itself is delivered, if kept deltas
        were refused. Each refused delta is skipped, as it would have been
        live; the object and the other deltas are applied all the same.
    """
    state = table.open(step.id)
    table.finished.pop(step.id, None)
    if event in TERMINAL:
        table.finished[step.id] = None
    state.reset(step)
    state.ended = event if event in TERMINAL else None
    pending, state.pending = state.pending, []
    if event in TERMINAL:
        return None
    refused = [exc for exc in (_merge_kept(state, d) for d in pending) if exc is not None]
    if not refused:
        return None
    return StreamError(
        f"{len(refused)} of the {len(pending)} deltas kept for step {step.id!r} refused "
        f"when its {event!r} object arrived (the event and the rest are applied); "
        f"the first: {refused[0]}",
        event=DELTA,
    )


def _merge_kept(state: StepState, delta: RunStepDeltaEvent) -> StreamError | None:
    """Merge a kept delta; a refusal is returned, so that the next ones still merge."""
    try:
        merge_delta(state, delta, event=DELTA)
    except StreamError as exc:
        return exc
    return None


def merge_delta(state: StepState, delta: RunStepDeltaEvent, *, event: str | None = None) -> None:
    """Merge one delta into ``state`` (or keep it, if the step has no snapshot yet).

    A delta after the step's terminal event merges into the server's final
    object like any other: the live service sends some (the output of a
    function whose call needed approval).

    Raises
    ------
    StreamError
        If the delta's step details or a tool call's type differ from the
        snapshot's, or an index is out of bounds; the snapshot is left
        unchanged.
    """
    snapshot = state.snapshot
    if snapshot is None:
        state.pending.append(delta)
        return
    body = delta.delta
    details = body.step_details
    extra = body.extra
    try:
        if extra:
            _check_value(extra)
        if details is not UNSET and details is not None:
            _merge_details(state, snapshot.step_details, details)
    except StreamError as exc:
        if exc.event is None and event is not None:
            raise StreamError(str(exc), event=event) from None
        raise
    if extra:
        _merge_step_fields(state, snapshot, extra)


def _merge_details(state: StepState, target: Any, details: Any) -> None:
    # Everything that can be refused is checked before anything is changed.
    if isinstance(details, _TOOL_CALL_DETAILS):
        if not isinstance(target, ToolCallsStepDetails):
            raise StreamError(f"{details.type} delta for a {target.type} step")
        extra = details.extra
        if extra:
            _check_value(extra)
        calls = details.tool_calls
        new = _prepare_calls(state, target.tool_calls, calls) if calls else {}
        if extra:
            _merge_extra(state, ("step_details",), target, extra)
        if calls:
            for call in calls:
                _merge_call(state, target.tool_calls, call, new)
    elif isinstance(details, UnknownStepDetailsDelta):
        if not isinstance(target, UnknownStepDetails) or target.type != details.type:
            raise StreamError(f"{details.type} delta for a {target.type} step")
        _check_value(details)
        _merge_dict(state, ("step_details",), target, details, skip_index=False)
    else:
        if target.type != details.type:
            raise StreamError(f"{details.type} delta for a {target.type} step")
        _check_value(details)
        _merge_struct(state, ("step_details",), target, details)


def _merge_step_fields(state: StepState, snapshot: RunStep, extra: Mapping[str, Any]) -> None:
    """The fields of the event's ``delta`` object that RunStepDelta does not model.

    A field of RunStep (``status``, ``usage``...) replaces the snapshot's (a
    null never erases it), converted to its type where it converts, else as
    parsed; any other goes into the step's ``.extra``, merged.
    """
    fields = _step_fields()
    rest: dict[str, Any] = {}
    for name, value in extra.items():
        field = fields.get(name)
        if field is None:
            rest[name] = value
            continue
        attr, kind = field
        if value is None:
            if getattr(snapshot, attr) is UNSET:
                setattr(snapshot, attr, None)
            continue
        try:
            value = msgspec.convert(value, kind)
        except _CONVERT_FAILURES:
            value = _copy(value)
        setattr(snapshot, attr, value)
    if rest:
        _merge_extra(state, (), snapshot, rest)


_CONVERT_FAILURES: tuple[type[BaseException], ...] = (*FAILURES, TypeError)


@cache
def _step_fields() -> dict[str, tuple[str, Any]]:
    """RunStep's fields a delta's extra fields may set: JSON name -> (attribute, type)."""
    return {
        f.encode_name: (f.name, f.type)
        for f in msgspec.structs.fields(RunStep)
        if f.name not in ("extra", "step_details")
    }


def _call_type(call: Any) -> str:
    return call.type if isinstance(call, UnknownToolCall) else type(call).type


def _at(items: list[Any], index: list[int] | None, i: int) -> tuple[int, Any]:
    """Where delta index ``i`` is (or goes) in ``items``, and the item there or None.

    ``index`` lists the delta index of each item; None means the list came
    from the server, whose lists are in index order without gaps.
    """
    if index is None:
        return i, items[i] if i < len(items) else None
    pos = bisect_left(index, i)
    return pos, items[pos] if pos < len(index) and index[pos] == i else None


def _known(state: StepState, key: Key, items: list[Any]) -> list[int] | None:
    """The delta indexes of ``items`` if tracked (for this very list), else None."""
    entry = state.indexes.get(key)
    return entry[1] if entry is not None and entry[0] is items else None


def _index(state: StepState, key: Key, items: list[Any]) -> list[int]:
    """The delta indexes of ``items``, tracked from the first delta that changes it."""
    index = _known(state, key, items)
    if index is None:
        # Lists the server sent are in index order, without gaps. (A list a
        # delta replaced starts over: it is not the one the entry described.)
        index = list(range(len(items)))
        state.indexes[key] = (items, index)
    return index


def _prepare_calls(state: StepState, calls: list[Any], deltas: list[Any]) -> dict[int, Any]:
    """Check a batch of tool-call deltas, and build the calls it creates.

    Raises before anything is merged, so that a refused delta changes nothing.
    """
    kinds: dict[int, str] = {}
    objects: dict[int, Any] = {}
    new: dict[int, Any] = {}
    outputs: dict[tuple[int, int], str | None] = {}
    for delta in deltas:
        i = delta.index
        _check_index(i, len(calls) + len(new), "tool call")
        kind = kinds.get(i)
        if kind is None:
            call = _at(calls, _known(state, _CALLS, calls), i)[1]
            if call is None:
                call = new[i] = _new_call(delta)
            objects[i] = call
            kind = kinds[i] = _call_type(call)
        if kind != delta.type:
            raise StreamError(f"{delta.type} delta for the {kind} tool call at index {i}")
        if isinstance(delta, CodeInterpreterToolCallDelta):
            _check_outputs(state, i, objects[i], delta, outputs)
        _check_value(delta)
    return new


def _check_outputs(
    state: StepState, i: int, call: Any, delta: Any, kinds: dict[tuple[int, int], str | None]
) -> None:
    """Check the code outputs a delta merges by index into the call's typed outputs."""
    payload = delta.code_interpreter
    outputs = payload.outputs if isinstance(payload, CodeInterpreterDelta) else None
    if not isinstance(outputs, list) or not _all_indexed(outputs):
        return  # none, or not merged by index (extended, or merged as the value it replaces)
    body = call.code_interpreter
    if isinstance(body, dict):
        return  # merged as an open map: only index ranges, checked with the rest
    current = body.outputs if isinstance(body, CodeInterpreter) else None
    if not isinstance(current, list):
        current = []  # a new list replaces what is there
    index = _known(state, (i, "code_interpreter", "outputs"), current)
    added = 0
    for output in outputs:
        j = _item_index(output)
        assert j is not None  # _all_indexed
        _check_index(j, len(current) + added, f"output (of the tool call at index {i})")
        theirs = _item_type(output)
        if (i, j) not in kinds:
            existing = _at(current, index, j)[1]
            added += existing is None
            kinds[i, j] = theirs if existing is None else _item_type(existing)
        ours = kinds[i, j]
        if ours and theirs and ours != theirs:
            raise StreamError(f"{theirs} delta for the {ours} output at index {j}")


def _check_range(i: int, what: str) -> None:
    """Refuse an index that is negative or past MAX_INDEX; ``what`` names it ("index")."""
    if i < 0:
        raise StreamError(f"negative {what} {i}")
    if i >= MAX_INDEX:
        raise StreamError(f"{what} {i} is past the limit ({MAX_INDEX - 1})")


def _check_index(i: int, length: int, what: str) -> None:
    """Refuse an index that is negative, past the limit, or too far past the list's end."""
    _check_range(i, f"{what} index")
    if i > length + MAX_INDEX_GAP:
        raise StreamError(
            f"{what} index {i} is more than {MAX_INDEX_GAP} past the end of the list "
            f"({length} items)"
        )


def _check_value(value: Any) -> None:
    """Refuse out-of-range indexes anywhere a delta value is merged untyped.

    Only the range is checked here: a list merged by index holds one item per
    distinct index, never placeholders for a gap, so 0 <= index < MAX_INDEX
    bounds its size. Typed lists (tool calls, code outputs) are checked with
    their gaps by _prepare_calls.
    """
    values: Iterable[Any]
    if type(type(value)) is _STRUCT_META:
        values = astuple(value)
    elif isinstance(value, dict):
        values = value.values()
    elif isinstance(value, list):
        if _indexed(value):
            for item in value:
                _check_range(item["index"], "index")
        values = value
    else:
        return
    for v in values:
        if type(v) not in _LEAVES:
            _check_value(v)


def _merge_call(state: StepState, calls: list[Any], delta: Any, new: dict[int, Any]) -> None:
    i = delta.index
    index = _index(state, _CALLS, calls)
    pos, call = _at(calls, index, i)
    if call is None:
        call = new.pop(i)
        calls.insert(pos, call)
        index.insert(pos, i)
    if isinstance(delta, UnknownToolCallDelta):
        # Keyed apart from typed calls: the Cython fast path looks fragments
        # up by (index, type, field) and must never find an unknown call's.
        _merge_dict(state, (i, delta.type, None), call, delta, skip_index=True)
    else:
        _merge_struct(state, (i,), call, delta)


def _new_call(delta: Any) -> Any:
    if isinstance(delta, UnknownToolCallDelta):
        return UnknownToolCall(type=delta.type)
    return _blank(_TOOL_CALLS[delta.type])


# -- typed merge -------------------------------------------------------------

# Kinds of fields, from msgspec.inspect of the snapshot classes.
_PLANS: dict[type[Any], dict[str, tuple[int, Any, mi.Field]]] = {}
_STR, _STRUCT, _OUTPUTS, _LIST, _DICT, _OTHER = range(6)


def _plain(t: mi.Type) -> mi.Type:
    """``X | None`` (the UNSET default aside) as ``X``."""
    if isinstance(t, mi.UnionType):
        rest = [m for m in t.types if not isinstance(m, mi.NoneType)]
        if len(rest) == 1:
            return rest[0]
    return t


def _tags(t: mi.Type) -> dict[str, type[Any]] | None:
    """The ``tag -> class`` map of a union of tagged Structs."""
    members = t.types if isinstance(t, mi.UnionType) else (t,)
    tags = {}
    for m in members:
        if not isinstance(m, mi.StructType) or not isinstance(m.tag, str):
            return None
        tags[m.tag] = m.cls
    return tags


def _plan(cls: type[Any]) -> dict[str, tuple[int, Any, mi.Field]]:
    """``field -> (kind, arg, field)`` of a Struct class, ``extra`` left out."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    plan = {}
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    for field in info.fields:
        if field.name == "extra":
            continue  # merged by _merge_extra, untyped
        t = _plain(field.type)
        kind: int
        arg: Any = None
        if isinstance(t, mi.StrType):
            kind = _STR
        elif isinstance(t, mi.StructType):
            kind, arg = _STRUCT, t.cls
        elif isinstance(t, mi.ListType):
            arg = _tags(t.item_type)
            kind = _LIST if arg is None else _OUTPUTS
        elif isinstance(t, mi.DictType):
            kind = _DICT
        else:
            kind = _OTHER
        plan[field.name] = (kind, arg, field)
    _PLANS[cls] = plan  # registered whole: another thread never sees half a plan
    return plan


_TOOL_CALLS: dict[str, type[Any]] = _tags(mi.type_info(ToolCall)) or {}


def _blank(cls: type[Any]) -> Any:
    """A ``cls`` with required strings ``""``, lists ``[]``, maps ``{}``.

    Any other required field (a computer-use ``action``, a number) is left
    absent (``UNSET``) until a delta fills it: the delta that creates an
    object may not carry it (computer use opens with ``"action": null``).
    """
    values: dict[str, Any] = {}
    for name, (kind, arg, field) in _plan(cls).items():
        if not field.required:
            continue
        if kind == _STR:
            values[name] = ""
        elif kind in (_LIST, _OUTPUTS):
            values[name] = []
        elif kind == _DICT:
            values[name] = {}
        elif kind == _STRUCT:
            values[name] = _blank(arg)
        else:
            values[name] = UNSET
    return cls(**values)


def _copy(value: Any) -> Any:
    """A deep copy of a delta value (``.extra`` included), so that merging never edits an event."""
    if isinstance(value, msgspec.Struct):
        changes = {
            f: _copy(v)
            for f in value.__struct_fields__
            if isinstance(v := getattr(value, f), _CONTAINERS)
        }
        return msgspec.structs.replace(value, **changes)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return type(value)((k, _copy(v)) for k, v in value.items())
    return value


def _set(target: Any, name: str, value: Any) -> None:
    if isinstance(target, dict):
        target[name] = value
    else:
        setattr(target, name, value)


def _replace(state: StepState, key: Key, target: Any, name: str, current: Any, value: Any) -> None:
    """Set ``target``'s ``name`` (at ``key``) to ``value``, dropping the fragments it had.

    Fragments below a replaced object are left to the targets check of
    _append, except those the compiled fast path looks up without it: the
    strings of an object, one level down.
    """
    if state.targets:
        if state.targets.pop(key, None) is not None:
            del state.bufs[key]
        if type(current) not in _LEAVES:  # an object or a list
            for field in CONCAT:
                below = (*key, field)
                if state.targets.pop(below, None) is not None:
                    del state.bufs[below]
    _set(target, name, value)


def _append(state: StepState, key: Key, target: Any, name: str, current: Any, text: str) -> None:
    """Concatenate ``text`` to the string at ``key`` (a string replaces anything else)."""
    owner = state.targets.get(key)
    if owner is not None and owner[0] is target:
        state.bufs[key].append(text)
        return
    if isinstance(current, str):
        parts: list[str | bytearray] = [current, text] if current else [text]
    else:
        # The field holds a string from now on: what it holds is what the
        # merge goes by, and a map keeps its keys in the order they came.
        _replace(state, key, target, name, current, text)
        parts = [text]
    state.bufs[key] = parts
    state.targets[key] = (target, name)


def _merge_extra(state: StepState, key: Key, target: Any, values: Mapping[str, Any]) -> None:
    """Merge fields no model has into ``target.extra``, untyped."""
    extra = target.extra
    if not isinstance(extra, dict):
        extra = target.extra = ExtraFields()
    _merge_dict(state, (*key, EXTRA_KEY), extra, values, skip_index=False)


def _merge_struct(
    state: StepState, key: Key, target: Any, delta: Any, *, skip_index: bool = True
) -> None:
    """Merge ``delta`` (a Struct, or a mapping by JSON names) into the Struct ``target``.

    ``index`` is the delta's place in its list when the delta is an item of
    one (``skip_index``); a Struct field named ``index`` always is.
    """
    plan = _plan(type(target))
    if _is_struct(delta):
        for name, value in zip(delta.__struct_fields__, astuple(delta), strict=True):
            if value is UNSET or name == "index":
                continue
            if name == "extra":
                _merge_extra(state, key, target, value)
                continue
            entry = plan.get(name)
            if entry is None:  # a field the target's class lacks: kept with its extra fields
                _merge_extra(state, key, target, {json_names(type(delta))[1][name]: value})
            elif entry[0] == _STR and name in CONCAT and isinstance(value, str):
                # The fragment nearly every delta carries, without _merge_field's dispatch.
                _append(state, (*key, name), target, name, getattr(target, name), value)
            else:
                _merge_field(state, key, target, name, entry, value)
        return
    fields, _, tag_field = json_names(type(target))
    rest: dict[str, Any] = {}
    for json_name, value in delta.items():
        if json_name == "index" and skip_index:
            continue
        attr = fields.get(json_name)
        if attr is not None:
            _merge_field(state, key, target, attr, plan[attr], value)
        elif json_name != tag_field:  # the tag is the target's class
            rest[json_name] = value
    if rest:
        _merge_extra(state, key, target, rest)


def _merge_field(
    state: StepState, key: Key, target: Any, name: str, entry: tuple[int, Any, Any], value: Any
) -> None:
    """Merge a delta's value into the typed field ``name`` of ``target``.

    A value of the declared kind merges as that kind; a value kept as parsed
    where another type was declared (in the delta or in the snapshot) merges
    untyped (_merge_loose).
    """
    kind, arg, _ = entry
    k = (*key, name)
    current = getattr(target, name)
    if value is None:
        # A null records "present but empty"; it never erases a value.
        if current is UNSET:
            setattr(target, name, None)
        return
    if kind == _STR:
        if isinstance(value, str):
            if name in CONCAT:
                _append(state, k, target, name, current, value)
            else:
                _replace(state, k, target, name, current, value)
            return
    elif kind == _STRUCT:
        if _is_struct(value):
            if isinstance(current, arg):
                _merge_struct(state, k, current, value)
            elif isinstance(current, dict):  # kept as parsed: merged as a map
                _merge_dict(state, k, current, value, skip_index=False)
            elif isinstance(value, arg):
                _replace(state, k, target, name, current, _copy(value))
            else:
                sub = _blank(arg)
                _replace(state, k, target, name, current, sub)
                _merge_struct(state, k, sub, value)
            return
        if isinstance(value, Mapping) and not isinstance(current, dict):
            sub = current
            if not isinstance(sub, msgspec.Struct):
                sub = _blank(arg)
                _replace(state, k, target, name, current, sub)
            _merge_struct(state, k, sub, value, skip_index=False)
            return
    elif kind == _OUTPUTS:
        if isinstance(value, list):
            if not _all_indexed(value):
                if isinstance(current, list):
                    current.extend(_copy(value))
                else:
                    _replace(state, k, target, name, current, _copy(value))
                return
            if not isinstance(current, list):
                new: list[Any] = []
                _replace(state, k, target, name, current, new)
                current = new
            _merge_outputs(state, k, current, value, arg)
            return
    elif kind == _LIST:
        if isinstance(value, list):
            if isinstance(current, list):
                current.extend(_copy(value))
            else:
                _replace(state, k, target, name, current, _copy(value))
            return
    elif kind == _OTHER and not (type(value) is dict and type(current) is dict):
        # Numbers, booleans, tagged objects (a computer-use action): replaced.
        # Only two plain maps (kept as parsed) merge.
        _replace(state, k, target, name, current, _copy(value))
        return
    # Open maps, and values kept as parsed where another type was declared.
    _merge_loose(state, k, target, name, current, value)


def _item_index(item: Any) -> int | None:
    """The integer ``index`` of a delta list item, or None."""
    i = item.get("index") if isinstance(item, dict) else getattr(item, "index", None)
    return i if type(i) is int else None


def _all_indexed(items: Any) -> bool:
    return (
        isinstance(items, list) and bool(items) and all(_item_index(v) is not None for v in items)
    )


def _item_type(item: Any) -> str | None:
    """The type tag of an output (or its delta), or None if it has none."""
    if isinstance(item, msgspec.Struct):
        tag = item.__struct_config__.tag
        return tag if isinstance(tag, str) else None
    if isinstance(item, UnknownObject):
        return item.type or None
    tag = item.get("type") if isinstance(item, dict) else None
    return tag if isinstance(tag, str) else None


def _merge_outputs(
    state: StepState, key: Key, outputs: list[Any], deltas: list[Any], tags: dict[str, type[Any]]
) -> None:
    # Indexes and types of code outputs were checked by _prepare_calls before
    # any change; the checks here hold for the same reasons there.
    index = _index(state, key, outputs)
    for delta in deltas:
        i = _item_index(delta)
        assert i is not None  # _all_indexed
        kind = _item_type(delta)
        pos, output = _at(outputs, index, i)
        if isinstance(output, dict) or _is_struct(output):
            have = _item_type(output)
            if have and kind and have != kind:
                raise StreamError(f"{kind} delta for the {have} output at index {i}")
        else:
            cls = tags.get(kind) if kind is not None else None
            if isinstance(delta, UnknownObject) or (cls is None and kind is not None):
                fresh: Any = UnknownOutput(type=kind) if kind else UnknownOutput()
            else:
                fresh = _blank(cls) if cls is not None else {}
            if output is None:
                _check_index(i, len(outputs), "output")
                outputs.insert(pos, fresh)
                index.insert(pos, i)
            else:  # not an object (a value kept as parsed): replaced by one
                outputs[pos] = fresh
            output = fresh
        if isinstance(output, dict):
            _merge_dict(state, (*key, i), output, delta, skip_index=True)
        else:
            _merge_struct(state, (*key, i), output, delta)


# -- untyped merge -------------------------------------------------------------


def _merge_dict(
    state: StepState, key: Key, target: dict[str, Any], delta: Any, *, skip_index: bool
) -> None:
    """Merge ``delta`` (a mapping, or a Struct as its plain form) into the map ``target``.

    The rules the services build their objects with: strings concatenate
    (``id`` and ``type`` are replaced), a value replaces null, null never
    erases a value, objects merge key by key, lists of objects carrying an
    integer ``index`` merge by it, other lists extend, anything else is
    replaced. ``index`` is left out only where ``delta`` is an item of a list
    merged by index (``skip_index``); anywhere else it is a key like any other.
    """
    items = delta.items() if isinstance(delta, Mapping) else to_builtins(delta).items()
    for name, value in items:
        if skip_index and name == "index":
            continue
        _merge_loose(state, (*key, name), target, name, target.get(name, UNSET), value)


def _merge_loose(
    state: StepState, key: Key, target: Any, name: str, current: Any, value: Any
) -> None:
    """Merge ``value`` into ``target``'s ``name`` (a map key or a field; ``key`` is its path)
    by the untyped rules of _merge_dict."""
    if value is None:
        if current is UNSET:
            _set(target, name, None)
    elif isinstance(value, str):
        if name in REPLACED:
            _replace(state, key, target, name, current, value)
        else:
            _append(state, key, target, name, current, value)
    elif isinstance(value, (Mapping, msgspec.Struct)):
        if isinstance(current, msgspec.Struct):
            _merge_struct(state, key, current, value, skip_index=False)
        elif isinstance(current, dict):
            _merge_dict(state, key, current, value, skip_index=False)
        elif isinstance(value, msgspec.Struct):
            _replace(state, key, target, name, current, _copy(value))
        else:
            # Merged into a new map rather than copied, so that what is below
            # merges by the same rules (an indexed list's ``index`` is dropped).
            fresh: dict[str, Any] = {}
            _replace(state, key, target, name, current, fresh)
            _merge_dict(state, key, fresh, value, skip_index=False)
    elif isinstance(value, list):
        if _indexed(value):
            if not isinstance(current, list):
                new: list[Any] = []
                _replace(state, key, target, name, current, new)
                current = new
            _merge_indexed(state, key, current, value)
        elif isinstance(current, list):
            current.extend(_copy(value))
        else:
            _replace(state, key, target, name, current, _copy(value))
    else:  # numbers, booleans
        _replace(state, key, target, name, current, value)


def _indexed(items: Any) -> bool:
    """Whether ``items`` is a non-empty list of maps that all carry an integer ``index``."""
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(v, dict) and type(v.get("index")) is int for v in items)
    )


def _merge_indexed(state: StepState, key: Key, items: list[Any], deltas: list[Any]) -> None:
    # Out-of-range indexes were refused by _check_value before any change.
    index = _index(state, key, items)
    for delta in deltas:
        i = delta["index"]
        pos, item = _at(items, index, i)
        if item is None:
            item = {}
            items.insert(pos, item)
            index.insert(pos, i)
        elif not isinstance(item, (dict, msgspec.Struct)):
            item = items[pos] = {}  # a value that is not an object: replaced by one
        if isinstance(item, dict):
            _merge_dict(state, (*key, i), item, delta, skip_index=True)
        else:
            _merge_struct(state, (*key, i), item, delta, skip_index=True)


# -- public views --------------------------------------------------------------


def apply_delta(
    snapshot: RunStep, delta: RunStepDeltaEvent | Iterable[RunStepDeltaEvent]
) -> RunStep:
    """Merge delta events into a run-step snapshot, in place.

    For callers that do their own framing; :class:`Accumulator` does the
    same merge on a byte stream. The semantics are in docs/merge.md: tool
    calls merge by their ``index``, text fields are concatenated, null never
    erases a value, open maps and extra fields merge as the server builds
    them. It merges whatever the snapshot's ``status``.

    Parameters
    ----------
    snapshot : RunStep
        The step to update, as sent by ``thread.run.step.created`` (or any
        later full object). It is modified in place.
    delta : RunStepDeltaEvent or iterable of RunStepDeltaEvent
        One delta, or several in stream order. Pass several at once for long
        streams: their fragments are joined once, where one call per delta
        copies each growing string every time.

    Returns
    -------
    RunStep
        ``snapshot`` itself.

    Raises
    ------
    StreamError
        If a delta belongs to another step, or its step details or a tool
        call's type differ from the snapshot's.
    TypeError
        If the arguments are not a ``RunStep`` and delta events.

    Examples
    --------
    >>> step = stepwire.decode_step(created_body)
    >>> stepwire.apply_delta(step, stepwire.decode_delta(delta_body))
    """
    if not isinstance(snapshot, RunStep):
        raise TypeError(f"snapshot must be a RunStep, not {type(snapshot).__name__}")
    deltas = (delta,) if isinstance(delta, RunStepDeltaEvent) else delta
    state = StepState()
    state.reset(snapshot)
    state.indexes = _out_of_order_indexes(snapshot)
    try:
        for d in deltas:
            if not isinstance(d, RunStepDeltaEvent):
                raise TypeError(f"expected RunStepDeltaEvent, not {type(d).__name__}")
            if d.id != snapshot.id:
                raise StreamError(f"delta for step {d.id!r} applied to step {snapshot.id!r}")
            merge_delta(state, d)
    finally:
        state.flush()
        _remember_indexes(snapshot, state.indexes)
    return snapshot


# A list merged by index is kept in index order without gaps, so position i is
# index i, except where deltas opened items out of order (index 1 before 0):
# then only the delta indexes say which item is which. The Accumulator keeps
# them in its StepState; apply_delta, called once per delta, keeps them here,
# by snapshot, for as long as the snapshot lives.
_INDEXES: dict[int, tuple[weakref.ref[RunStep], dict[Key, tuple[list[Any], list[int]]]]] = {}


def _out_of_order_indexes(snapshot: RunStep) -> dict[Key, tuple[list[Any], list[int]]]:
    entry = _INDEXES.get(id(snapshot))
    if entry is None or entry[0]() is not snapshot:
        return {}
    return entry[1]


def _remember_indexes(snapshot: RunStep, indexes: dict[Key, tuple[list[Any], list[int]]]) -> None:
    key = id(snapshot)
    if all(index[-1] == len(index) - 1 for _, index in indexes.values() if index):
        _INDEXES.pop(key, None)  # positions are indexes again: nothing to remember
        return
    _INDEXES[key] = (weakref.ref(snapshot, lambda _: _INDEXES.pop(key, None)), indexes)


class _StateView:
    """A read-only mapping over the accumulator's step states, keeping those ``_has``."""

    __slots__ = ("_states",)

    def __init__(self, states: dict[str, StepState]) -> None:
        self._states = states

    @staticmethod
    def _has(state: StepState) -> bool:
        raise NotImplementedError

    def __iter__(self) -> Iterator[str]:
        return (k for k, s in list(self._states.items()) if self._has(s))

    def __len__(self) -> int:
        return sum(1 for s in self._states.values() if self._has(s))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {list(self)!r}>"


class StepSnapshots(_StateView, Mapping[str, RunStep]):
    """``Accumulator.steps``: the merged snapshot of each step, by step id.

    Reading a snapshot joins the text fragments merged since the last read;
    the snapshot object is then updated in place by later events (until a
    full object from the server replaces it).
    """

    __slots__ = ()

    @staticmethod
    def _has(state: StepState) -> bool:
        return state.snapshot is not None

    def __getitem__(self, step_id: str) -> RunStep:
        state = self._states[step_id]
        snapshot = state.snapshot
        if snapshot is None:
            raise KeyError(step_id)
        state.flush()
        return snapshot


class PendingDeltas(_StateView, Mapping[str, list[RunStepDeltaEvent]]):
    """``Accumulator.pending``: deltas of steps no full object has arrived for."""

    __slots__ = ()

    @staticmethod
    def _has(state: StepState) -> bool:
        return bool(state.pending)

    def __getitem__(self, step_id: str) -> list[RunStepDeltaEvent]:
        state = self._states[step_id]
        if not state.pending:
            raise KeyError(step_id)
        return list(state.pending)
