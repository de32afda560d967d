"""``Accumulator.steps`` and ``.pending``: read-only mappings over the step states."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ._model import RunStep, RunStepDeltaEvent
from ._state import StepState

__all__ = ["PendingDeltas", "StepSnapshots"]


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
