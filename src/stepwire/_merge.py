"""Merging ``thread.run.step.delta`` events into run-step snapshots: the rules.

The reference of the merge semantics (docs/merge.md). The shared dispatch
(``_dispatch``) and :class:`~stepwire.StepMerger` call :func:`merge_delta` on
a :class:`~stepwire._state.StepState`; the compiled fast path only appends a
fragment where :meth:`StepState.fragments` says the merge would do just that.

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

A refusal is a :class:`MergeRefusedError` (a reason, no more); whoever merges turns it
into the ``StreamError`` its caller sees, with the event it came with.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import msgspec
import msgspec.inspect as mi
from msgspec import UNSET
from msgspec.structs import astuple

from ._encode import json_names, to_builtins
from ._failures import FAILURES
from ._limits import MAX_INDEX, MAX_INDEX_GAP
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
from ._state import Fragments, Key, StepState
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

__all__ = ["CONCAT", "REPLACED", "MergeRefusedError", "merge_delta", "merge_kept"]

# Typed string fields that deltas extend fragment by fragment. Every other
# typed string (ids, ``type``, ``ranker``, ``server_label``...) is replaced.
CONCAT = frozenset({"name", "arguments", "input", "output", "logs"})
# Strings replaced, never concatenated, wherever they are (in open maps and
# objects of unknown types too): every delta that names its object repeats them.
REPLACED = frozenset({"id", "type"})


class MergeRefusedError(Exception):
    """A delta the merge refuses; the snapshot is left as it was. ``args[0]`` says why."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


_TOOL_CALL_DETAILS = (ToolCallsStepDetailsDelta, MCPStepDetailsDelta, OpenAPIStepDetailsDelta)
_CONTAINERS = (dict, list, msgspec.Struct)
# The types of values that hold nothing to merge into; ``type(v) in _LEAVES`` is much
# cheaper than ``isinstance(v, msgspec.Struct)``, which goes through Struct's metaclass.
_LEAVES = frozenset({str, int, float, bool, type(None), type(UNSET)})
_STRUCT_META = type(msgspec.Struct)


def _is_struct(value: Any) -> bool:
    return type(type(value)) is _STRUCT_META


def merge_delta(state: StepState, delta: RunStepDeltaEvent) -> None:
    """Merge one delta into ``state`` (or keep it, if the step has no snapshot yet).

    A delta after the step's terminal event merges into the server's final
    object like any other: the live service sends some (the output of a
    function whose call needed approval).

    Raises
    ------
    MergeRefusedError
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
    if extra:
        _check_value(extra)
    if details is not UNSET and details is not None:
        _merge_details(state, snapshot.step_details, details)
    if extra:
        _merge_step_fields(state, snapshot, extra)


def merge_kept(state: StepState, pending: Iterable[RunStepDeltaEvent]) -> list[str]:
    """Merge deltas kept for a step into its first snapshot; the reasons of those refused.

    Each refused delta is skipped, as it would have been live; the others merge.
    """
    return [reason for reason in (_try_merge(state, d) for d in pending) if reason is not None]


def _try_merge(state: StepState, delta: RunStepDeltaEvent) -> str | None:
    try:
        merge_delta(state, delta)
    except MergeRefusedError as exc:
        return exc.reason
    return None


def _merge_details(state: StepState, target: Any, details: Any) -> None:
    # Everything that can be refused is checked before anything is changed.
    if isinstance(details, _TOOL_CALL_DETAILS):
        if not isinstance(target, ToolCallsStepDetails):
            raise MergeRefusedError(f"{details.type} delta for a {target.type} step")
        extra = details.extra
        if extra:
            _check_value(extra)
        calls = details.tool_calls
        new = _prepare_calls(state, target.tool_calls, calls) if calls else {}
        if extra:
            _merge_extra(state, ("step_details",), target, extra)
        if calls:
            for call in calls:
                _merge_call(state, target, call, new)
    elif isinstance(details, UnknownStepDetailsDelta):
        if not isinstance(target, UnknownStepDetails) or target.type != details.type:
            raise MergeRefusedError(f"{details.type} delta for a {target.type} step")
        _check_value(details)
        _merge_dict(state, ("step_details",), target, details, skip_index=False)
    else:
        if target.type != details.type:
            raise MergeRefusedError(f"{details.type} delta for a {target.type} step")
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


def _place(items: list[Any], index: list[int] | None, i: int) -> tuple[int, Any]:
    """Where delta index ``i`` is (or goes) in ``items``, and the item there or None.

    ``index`` lists the delta index of each item; None means the list came
    from the server, whose lists are in index order without gaps.
    """
    if index is None:
        return i, items[i] if i < len(items) else None
    pos = bisect_left(index, i)
    return pos, items[pos] if pos < len(index) and index[pos] == i else None


class IndexedList(list[Any]):
    """A list merged by index that deltas filled out of index order (1 before 0).

    Lists the server sends are in index order without gaps, so position i is
    delta index i. Once a delta opens an item out of order, only the delta
    index of each item says which is which: the list becomes an IndexedList,
    which keeps them (``indexes``), so that any later merge into the same
    snapshot, by an accumulator or by ``apply_delta`` call after call, finds
    each item again. It encodes, compares and pickles as the list it is.
    """

    __slots__ = ("indexes",)

    indexes: list[int]


def _indexes(items: list[Any]) -> list[int] | None:
    """The delta indexes of ``items``, or None where position is index."""
    return items.indexes if type(items) is IndexedList else None


def _insert(owner: Any, name: str, items: list[Any], pos: int, i: int, item: Any) -> list[Any]:
    """Put ``item`` (delta index ``i``) at ``pos`` of ``owner``'s list ``name``; the list."""
    index = _indexes(items)
    if index is None:
        if i == len(items):
            items.append(item)
            return items
        ordered = IndexedList(items)
        ordered.indexes = index = list(range(len(items)))
        _set(owner, name, ordered)
        items = ordered
    items.insert(pos, item)
    index.insert(pos, i)
    return items


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
            call = _place(calls, _indexes(calls), i)[1]
            if call is None:
                call = new[i] = _new_call(delta)
            objects[i] = call
            kind = kinds[i] = _call_type(call)
        if kind != delta.type:
            raise MergeRefusedError(f"{delta.type} delta for the {kind} tool call at index {i}")
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
    index = _indexes(current)
    added = 0
    for output in outputs:
        j = _item_index(output)
        assert j is not None  # _all_indexed
        _check_index(j, len(current) + added, f"output (of the tool call at index {i})")
        theirs = _item_type(output)
        if (i, j) not in kinds:
            existing = _place(current, index, j)[1]
            added += existing is None
            kinds[i, j] = theirs if existing is None else _item_type(existing)
        ours = kinds[i, j]
        if ours and theirs and ours != theirs:
            raise MergeRefusedError(f"{theirs} delta for the {ours} output at index {j}")


def _check_range(i: int, what: str) -> None:
    """Refuse an index that is negative or past MAX_INDEX; ``what`` names it ("index")."""
    if i < 0:
        raise MergeRefusedError(f"negative {what} {i}")
    if i >= MAX_INDEX:
        raise MergeRefusedError(f"{what} {i} is past the limit ({MAX_INDEX - 1})")


def _check_index(i: int, length: int, what: str) -> None:
    """Refuse an index that is negative, past the limit, or too far past the list's end."""
    _check_range(i, f"{what} index")
    if i > length + MAX_INDEX_GAP:
        raise MergeRefusedError(
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


def _merge_call(state: StepState, details: Any, delta: Any, new: dict[int, Any]) -> None:
    i = delta.index
    calls = details.tool_calls
    pos, call = _place(calls, _indexes(calls), i)
    if call is None:
        call = new.pop(i)
        _insert(details, "tool_calls", calls, pos, i, call)
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
        parts: Fragments = [current, text] if current else [text]
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
            _merge_outputs(state, k, target, name, value, arg)
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
    state: StepState,
    key: Key,
    owner: Any,
    name: str,
    deltas: list[Any],
    tags: dict[str, type[Any]],
) -> None:
    """Merge indexed output deltas into ``owner``'s list ``name`` (code outputs)."""
    # Indexes and types of code outputs were checked by _prepare_calls before
    # any change; the checks here hold for the same reasons there.
    for delta in deltas:
        outputs = getattr(owner, name)
        i = _item_index(delta)
        assert i is not None  # _all_indexed
        kind = _item_type(delta)
        pos, output = _place(outputs, _indexes(outputs), i)
        if isinstance(output, dict) or _is_struct(output):
            have = _item_type(output)
            if have and kind and have != kind:
                raise MergeRefusedError(f"{kind} delta for the {have} output at index {i}")
        else:
            cls = tags.get(kind) if kind is not None else None
            if isinstance(delta, UnknownObject) or (cls is None and kind is not None):
                fresh: Any = UnknownOutput(type=kind) if kind else UnknownOutput()
            else:
                fresh = _blank(cls) if cls is not None else {}
            if output is None:
                _check_index(i, len(outputs), "output")
                _insert(owner, name, outputs, pos, i, fresh)
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
            _merge_indexed(state, key, target, name, value)
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


def _merge_indexed(state: StepState, key: Key, owner: Any, name: str, deltas: list[Any]) -> None:
    """Merge indexed map deltas into ``owner``'s list ``name`` (a map key or a field)."""
    # Out-of-range indexes were refused by _check_value before any change.
    for delta in deltas:
        items = owner[name] if isinstance(owner, dict) else getattr(owner, name)
        i = delta["index"]
        pos, item = _place(items, _indexes(items), i)
        if item is None:
            item = {}
            _insert(owner, name, items, pos, i, item)
        elif not isinstance(item, (dict, msgspec.Struct)):
            item = items[pos] = {}  # a value that is not an object: replaced by one
        if isinstance(item, dict):
            _merge_dict(state, (*key, i), item, delta, skip_index=True)
        else:
            _merge_struct(state, (*key, i), item, delta, skip_index=True)
