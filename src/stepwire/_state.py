"""What an accumulator knows of each step: its state, and the table that bounds them.

The contract the compiled fast path relies on is :meth:`StepState.fragments`:
it is the only way a stream twin reaches into a step's state (see
``_dispatch`` for the whole contract).
"""

from __future__ import annotations

from typing import Any

from ._model import RunStep, RunStepDeltaEvent

__all__ = ["Fragments", "Key", "StepState", "StepTable"]

#: A path from the step to a string that deltas extend (``StepState.bufs``):
#:
#: - ``(i, field, ...)``: a typed tool call at delta index ``i``, and what is
#:   below it (``(0, "function", "arguments")``);
#: - ``(i, type, None, key, ...)``: an ``UnknownToolCall`` (``None`` is never
#:   a field or a map key, so its paths never meet a typed call's);
#: - ``("step_details", ...)``: the step details (but their tool calls);
#: - ``(..., EXTRA_KEY, key)``: a field of an object's ``.extra``;
#: - ``(EXTRA_KEY, key, ...)``: the step's own ``.extra``.
Key = tuple[Any, ...]

#: The fragments of one string: ``str`` pieces, or ``bytearray`` runs of
#: UTF-8 text that a twin extends in place (one run costs a few bytes per
#: fragment where a ``str`` costs fifty). Joined once, when the snapshot is read.
Fragments = list[str | bytearray]


class StepState:
    """What an accumulator knows of one step.

    Attributes
    ----------
    snapshot : RunStep or None
        The merged snapshot; ``None`` while only deltas have arrived.
    pending : list of RunStepDeltaEvent
        Deltas that arrived before any full object of the step.
    bufs : dict
        The :data:`Fragments` of each string deltas extend, by :data:`Key`.
    targets : dict
        ``(object, field)`` for every entry of ``bufs``, by the same key: where
        :meth:`flush` writes the joined string. The object is also how the
        merge tells that an entry is still the snapshot's: where a delta
        replaced an object, the next string at the same path starts anew.
    ended : str or None
        The terminal event the snapshot came from, if it did. Deltas after it
        still merge (the service sends some: a function's output after a tool
        approval), through the shared merge only.
    """

    __slots__ = ("bufs", "ended", "pending", "snapshot", "targets")

    def __init__(self) -> None:
        self.snapshot: RunStep | None = None
        self.ended: str | None = None
        self.pending: list[RunStepDeltaEvent] = []
        self.bufs: dict[Key, Fragments] = {}
        self.targets: dict[Key, tuple[Any, str]] = {}

    def fragments(self, index: int, kind: str, field: str) -> Fragments | None:
        """The fragments of ``field`` of the typed ``kind`` tool call at delta ``index``.

        The fast path's one entry into the state: appending a fragment (a
        ``str``, or UTF-8 bytes added to a trailing ``bytearray``) to the list
        returned merges a delta carrying only that string, exactly as the
        shared merge would. The list stays this string's until the next
        event the shared dispatch handles.

        Returns
        -------
        list or None
            None where the shared merge must decide: the step has ended, or
            the string is not tracked yet (a new call or field, a replaced
            object).
        """
        if self.ended is not None:
            return None
        return self.bufs.get((index, kind, field))

    def flush(self) -> None:
        """Write the joined fragments into the snapshot."""
        bufs = self.bufs
        for key, (target, name) in self.targets.items():
            parts = bufs[key]
            if not parts:
                continue
            value = parts[0]
            if len(parts) > 1 or not isinstance(value, str):
                value = "".join([p if isinstance(p, str) else p.decode() for p in parts])
                parts[:] = [value]
            if isinstance(target, dict):
                target[name] = value
            elif getattr(target, name) is not value:
                setattr(target, name, value)

    def reset(self, snapshot: RunStep, ended: str | None = None) -> None:
        """Make ``snapshot`` (a server object) the step's, forgetting every fragment."""
        self.snapshot = snapshot
        self.ended = ended
        self.bufs = {}
        self.targets = {}


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

    def finish(self, step_id: str, ended: bool) -> None:
        """Record whether the step's last full object was a terminal one."""
        self.finished.pop(step_id, None)
        if ended:
            self.finished[step_id] = None
