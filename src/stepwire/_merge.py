"""Merging ``thread.run.step.delta`` events into run-step snapshots.

This is the reference of the merge semantics (docs/merge.md). Both stream
implementations (``_stream_py`` and the Cython ``_stream_c``) keep their step
state in :class:`StepState` and call :func:`merge_delta` / :func:`set_step`;
the Cython one only short-cuts the dominant delta (one string fragment for a
tool call it has seen before) by appending to the same fragment lists.

Strings that deltas extend are never re-copied per delta: each one is a list
of fragments (``StepState.bufs``), joined once when the snapshot is read
(:meth:`StepState.flush`), which keeps a stream linear in its length.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import msgspec
import msgspec.inspect as mi
from msgspec import UNSET

from ._errors import StreamError
from ._model import (
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
    UnknownOutput,
    UnknownStepDetails,
    UnknownStepDetailsDelta,
    UnknownToolCall,
    UnknownToolCallDelta,
)

__all__ = ["PendingDeltas", "StepSnapshots", "StepState", "apply_delta", "merge_delta", "set_step"]

# String fields that deltas extend fragment by fragment. Every other string
# (ids, ``type``, ``ranker``, ``server_label``...) is replaced.
CONCAT = frozenset({"name", "arguments", "input", "output", "logs"})

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
    targets : list
        ``(object, field, fragments)`` for every entry of ``bufs``: where
        :meth:`flush` writes the joined string.
    indexes : dict
        For each list merged by index (tool calls, code outputs), the delta
        index of each element, in list order.
    ended : str or None
        The terminal event the snapshot came from, if it did: the server's
        final word, which later deltas may not change.
    """

    __slots__ = ("bufs", "ended", "indexes", "pending", "snapshot", "targets")

    def __init__(self) -> None:
        self.snapshot: RunStep | None = None
        self.ended: str | None = None
        self.pending: list[RunStepDeltaEvent] = []
        self.bufs: dict[Key, list[str | bytearray]] = {}
        self.targets: list[tuple[Any, str, list[str | bytearray]]] = []
        self.indexes: dict[Key, list[int]] = {}

    def flush(self) -> None:
        """Write the joined fragments into the snapshot."""
        for target, name, parts in self.targets:
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
        self.targets = []
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

    Raises
    ------
    StreamError
        If the delta's step details or a tool call's type differ from the
        snapshot's, or the step has ended (a terminal event); the snapshot
        is left unchanged.
    """
    snapshot = state.snapshot
    if snapshot is None:
        state.pending.append(delta)
        return
    if state.ended is not None:
        raise StreamError(
            f"delta for step {delta.id!r} after its terminal event ({state.ended!r}); "
            "the snapshot stays the server's final object",
            event=event,
        )
    details = delta.delta.step_details
    if details is UNSET or details is None:
        return
    try:
        _merge_details(state, snapshot.step_details, details)
    except StreamError as exc:
        if exc.event is None and event is not None:
            raise StreamError(str(exc), event=event) from None
        raise


def _merge_details(state: StepState, target: Any, details: Any) -> None:
    # Everything that can be refused is checked before anything is changed.
    if isinstance(details, _TOOL_CALL_DETAILS):
        if not isinstance(target, ToolCallsStepDetails):
            raise StreamError(f"{details.type} delta for a {target.type} step")
        calls = details.tool_calls
        if calls is UNSET or calls is None:
            return
        new = _prepare_calls(state, target.tool_calls, calls)
        for call in calls:
            _merge_call(state, target.tool_calls, call, new)
    elif isinstance(details, UnknownStepDetailsDelta):
        if not isinstance(target, UnknownStepDetails) or target.type != details.type:
            raise StreamError(f"{details.type} delta for a {target.type} step")
        _check_dict(details)
        _merge_dict(state, ("step_details",), target, details)
    else:
        if target.type != details.type:
            raise StreamError(f"{details.type} delta for a {target.type} step")
        _merge_struct(state, ("step_details",), target, details)


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


def _index(state: StepState, key: Key, items: list[Any]) -> list[int]:
    """The delta indexes of ``items``, tracked from the first delta that changes it."""
    index = state.indexes.get(key)
    if index is None:
        # Lists the server sent are in index order, without gaps.
        index = state.indexes[key] = list(range(len(items)))
    return index


def _prepare_calls(state: StepState, calls: list[Any], deltas: list[Any]) -> dict[int, Any]:
    """Check a batch of tool-call deltas, and build the calls it creates.

    Raises before anything is merged, so that a refused delta changes nothing.
    """
    kinds: dict[int, str] = {}
    objects: dict[int, Any] = {}
    new: dict[int, Any] = {}
    outputs: dict[tuple[int, int], str] = {}
    for delta in deltas:
        i = delta.index
        _check_index(i, len(calls) + len(new), "tool call")
        kind = kinds.get(i)
        if kind is None:
            call = _at(calls, state.indexes.get(_CALLS), i)[1]
            if call is None:
                call = new[i] = _new_call(delta)
            objects[i] = call
            kind = kinds[i] = _call_type(call)
        if kind != delta.type:
            raise StreamError(f"{delta.type} delta for the {kind} tool call at index {i}")
        if isinstance(delta, UnknownToolCallDelta):
            _check_dict(delta)
        elif isinstance(delta, CodeInterpreterToolCallDelta):
            _check_outputs(state, i, objects[i], delta, outputs)
    return new


def _check_outputs(
    state: StepState, i: int, call: Any, delta: Any, kinds: dict[tuple[int, int], str]
) -> None:
    payload = delta.code_interpreter
    if payload is UNSET or payload is None or not payload.outputs:
        return
    current = call.code_interpreter.outputs
    index = state.indexes.get((i, "code_interpreter", "outputs"))
    added = 0
    for output in payload.outputs:
        j = output.index
        _check_index(j, len(current) + added, f"output (of the tool call at index {i})")
        kind = kinds.get((i, j))
        if kind is None:
            existing = _at(current, index, j)[1]
            added += existing is None
            kind = kinds[i, j] = output.type if existing is None else existing.type
        if kind != output.type:
            raise StreamError(f"{output.type} delta for the {kind} output at index {j}")
        if isinstance(output, dict):
            _check_dict(output)


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


def _check_dict(obj: Any) -> None:
    """Refuse out-of-range indexes anywhere in an object merged untyped.

    Only the range is checked here: a list merged by index holds one item per
    distinct index, never placeholders for a gap, so 0 <= index < MAX_INDEX
    bounds its size.
    """
    values = obj.values() if isinstance(obj, dict) else obj
    if isinstance(obj, list) and _indexed(obj):
        for item in obj:
            _check_range(item["index"], "index")
    for value in values:
        if isinstance(value, (dict, list)):
            _check_dict(value)


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
        _merge_dict(state, (i, delta.type, None), call, delta)
    else:
        _merge_struct(state, (i,), call, delta)


def _new_call(delta: Any) -> Any:
    if isinstance(delta, UnknownToolCallDelta):
        return UnknownToolCall(type=delta.type)
    return _blank(_TOOL_CALLS[delta.type], delta)


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
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    plan = {}
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    for field in info.fields:
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


def _blank(cls: type[Any], source: Any = None) -> Any:
    """A ``cls`` with required strings ``""``, lists ``[]``, maps ``{}``.

    A required field of any other type is taken from ``source`` (the delta
    that creates the object), or the object cannot be created.
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
            values[name] = _blank(arg, _field(source, name))
        else:
            value = _field(source, name)
            if value is UNSET or value is None:
                raise StreamError(
                    f"a delta creates a {getattr(cls, 'type', cls.__name__)} object "
                    f"without its required {name!r}"
                )
            values[name] = _copy(value)
    return cls(**values)


def _field(obj: Any, name: str) -> Any:
    return getattr(obj, name, UNSET)


def _copy(value: Any) -> Any:
    """A deep copy of a delta value, so that merging never edits an event."""
    if isinstance(value, msgspec.Struct):
        changes = {
            f: _copy(v)
            for f in value.__struct_fields__
            if isinstance(v := getattr(value, f), (list, dict, msgspec.Struct))
        }
        return msgspec.structs.replace(value, **changes)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return type(value)((k, _copy(v)) for k, v in value.items())
    return value


def _append(state: StepState, key: Key, target: Any, name: str, current: Any, text: str) -> None:
    parts = state.bufs.get(key)
    if parts is None:
        parts = state.bufs[key] = [current] if isinstance(current, str) and current else []
        state.targets.append((target, name, parts))
    parts.append(text)


def _merge_struct(state: StepState, key: Key, target: Any, delta: Any) -> None:
    plan = _plan(type(target))
    for name in delta.__struct_fields__:
        value = getattr(delta, name)
        if value is UNSET or name == "index" or name not in plan:
            continue
        current = getattr(target, name)
        if value is None:
            # A null records "present but empty"; it never erases a value.
            if current is UNSET:
                setattr(target, name, None)
            continue
        kind, arg, _ = plan[name]
        if kind == _STR and name in CONCAT:
            _append(state, (*key, name), target, name, current, value)
        elif kind == _STRUCT:
            if isinstance(current, arg):
                _merge_struct(state, (*key, name), current, value)
            elif isinstance(value, arg):
                setattr(target, name, _copy(value))
            else:
                sub = _blank(arg, value)
                setattr(target, name, sub)
                _merge_struct(state, (*key, name), sub, value)
        elif kind == _OUTPUTS:
            if not isinstance(current, list):
                current = []
                setattr(target, name, current)
            _merge_outputs(state, (*key, name), current, value, arg)
        elif kind == _LIST:
            if isinstance(current, list):
                current.extend(_copy(value))
            else:
                setattr(target, name, _copy(value))
        elif kind == _DICT and isinstance(current, dict):
            current.update(_copy(value))
        else:
            setattr(target, name, _copy(value))


def _merge_outputs(
    state: StepState, key: Key, outputs: list[Any], deltas: list[Any], tags: dict[str, type[Any]]
) -> None:
    # Indexes and types were checked by _prepare_calls before any change.
    index = _index(state, key, outputs)
    for delta in deltas:
        i = delta.index
        pos, output = _at(outputs, index, i)
        if output is None:
            cls = tags.get(delta.type)
            if cls is None or isinstance(delta, dict):
                output = UnknownOutput(type=delta.type)
            else:
                output = _blank(cls, delta)
            outputs.insert(pos, output)
            index.insert(pos, i)
        if isinstance(output, dict):
            _merge_dict(state, (*key, i), output, delta)
        else:
            _merge_struct(state, (*key, i), output, delta)


# -- untyped merge (unknown types) -------------------------------------------


def _merge_dict(
    state: StepState, key: Key, target: dict[str, Any], delta: Mapping[str, Any]
) -> None:
    """Merge an object of a type stepwire does not model, the way openai-python does.

    Strings are concatenated (``id`` and ``type`` are replaced), objects are
    merged, lists of objects carrying ``index`` are merged by it, other lists
    are extended, anything else is replaced; ``index`` itself is left out.
    """
    for name, value in delta.items():
        if name == "index":
            continue
        current = target.get(name, UNSET)
        if value is None:
            if current is UNSET:
                target[name] = None
        elif isinstance(value, str) and name not in ("id", "type"):
            _append(state, (*key, name), target, name, current, value)
        elif isinstance(value, dict):
            # Merged into a new object rather than copied: indexes nested in it
            # are dropped, as everywhere else.
            if not isinstance(current, dict):
                current = target[name] = {}
            _merge_dict(state, (*key, name), current, value)
        elif isinstance(value, list) and _indexed(value):
            if not isinstance(current, list):
                current = target[name] = []
            _merge_indexed(state, (*key, name), current, value)
        elif isinstance(value, list) and isinstance(current, list):
            current.extend(_copy(value))
        else:
            target[name] = _copy(value)


def _indexed(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(v, dict) and type(v.get("index")) is int for v in items)


def _merge_indexed(state: StepState, key: Key, items: list[Any], deltas: list[Any]) -> None:
    # Out-of-range indexes were refused by _check_dict before any change.
    index = _index(state, key, items)
    for delta in deltas:
        i = delta["index"]
        pos, item = _at(items, index, i)
        if item is None:
            item = {}
            items.insert(pos, item)
            index.insert(pos, i)
        if isinstance(item, dict):
            _merge_dict(state, (*key, i), item, delta)


# -- public views --------------------------------------------------------------


def apply_delta(
    snapshot: RunStep, delta: RunStepDeltaEvent | Iterable[RunStepDeltaEvent]
) -> RunStep:
    """Merge delta events into a run-step snapshot, in place.

    For callers that do their own framing; :class:`Accumulator` does the
    same merge on a byte stream. The semantics are in docs/merge.md: tool
    calls merge by their ``index``, text fields are concatenated, null never
    erases a value.

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
_INDEXES: dict[int, tuple[weakref.ref[RunStep], dict[Key, list[int]]]] = {}


def _out_of_order_indexes(snapshot: RunStep) -> dict[Key, list[int]]:
    entry = _INDEXES.get(id(snapshot))
    if entry is None or entry[0]() is not snapshot:
        return {}
    return entry[1]


def _remember_indexes(snapshot: RunStep, indexes: dict[Key, list[int]]) -> None:
    key = id(snapshot)
    if all(index[-1] == len(index) - 1 for index in indexes.values() if index):
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
