"""Merging delta events into a snapshot the caller holds: ``StepMerger``, ``apply_delta``."""

from __future__ import annotations

from collections.abc import Iterable

from ._errors import StreamError
from ._merge import MergeRefusedError, merge_delta
from ._model import RunStep, RunStepDeltaEvent
from ._state import StepState

__all__ = ["StepMerger", "apply_delta"]


class StepMerger:
    """Merges delta events into one run-step snapshot, for callers that do their own framing.

    The same merge as ``Accumulator`` (docs/merge.md): tool calls merge
    by their ``index``, text fields are concatenated, null never erases a
    value, open maps and extra fields merge as the server builds them, and
    deltas merge whatever the snapshot's ``status``. Text fragments are joined
    once, when :attr:`snapshot` is read, so a long stream stays linear.

    Parameters
    ----------
    snapshot : RunStep
        The step to update, as sent by ``thread.run.step.created`` (or any
        later full object). It is modified in place.

    Raises
    ------
    TypeError
        If ``snapshot`` is not a ``RunStep``.

    Examples
    --------
    >>> merger = stepwire.StepMerger(stepwire.decode_step(created_body))
    >>> for body in delta_bodies:
    ...     merger.apply(stepwire.decode_delta(body))
    >>> merger.snapshot.step_details.tool_calls[0].function.arguments
    """

    __slots__ = ("_state",)

    def __init__(self, snapshot: RunStep) -> None:
        if not isinstance(snapshot, RunStep):
            raise TypeError(f"snapshot must be a RunStep, not {type(snapshot).__name__}")
        self._state = StepState()
        self._state.reset(snapshot)

    def __repr__(self) -> str:
        return f"<StepMerger step={self._held().id!r}>"

    @property
    def snapshot(self) -> RunStep:
        """The merged snapshot (the object given, updated in place)."""
        self._state.flush()
        return self._held()

    def _held(self) -> RunStep:
        """The snapshot as it is, fragments not joined: joining is for readers only."""
        snapshot = self._state.snapshot
        assert snapshot is not None  # set by __init__, never unset
        return snapshot

    def apply(self, delta: RunStepDeltaEvent | Iterable[RunStepDeltaEvent]) -> None:
        """Merge one delta event, or several in stream order.

        Raises
        ------
        StreamError
            If a delta belongs to another step, or its step details or a tool
            call's type differ from the snapshot's, or an index is out of
            bounds. That delta changes nothing; those before it are merged.
        TypeError
            If a delta is not a ``RunStepDeltaEvent``.
        """
        state = self._state
        step_id = self._held().id
        deltas = (delta,) if isinstance(delta, RunStepDeltaEvent) else delta
        for d in deltas:
            if not isinstance(d, RunStepDeltaEvent):
                raise TypeError(f"expected RunStepDeltaEvent, not {type(d).__name__}")
            if d.id != step_id:
                raise StreamError(f"delta for step {d.id!r} applied to step {step_id!r}")
            try:
                merge_delta(state, d)
            except MergeRefusedError as exc:
                raise StreamError(exc.reason) from None


def apply_delta(
    snapshot: RunStep, delta: RunStepDeltaEvent | Iterable[RunStepDeltaEvent]
) -> RunStep:
    """Merge delta events into a run-step snapshot, in place.

    ``StepMerger(snapshot).apply(delta)`` in one call, returning the joined
    snapshot. For many deltas into one snapshot, keep a ``StepMerger``
    (or pass the deltas together): one call per delta joins each growing
    string every time.

    Parameters
    ----------
    snapshot : RunStep
        The step to update, as sent by ``thread.run.step.created`` (or any
        later full object). It is modified in place.
    delta : RunStepDeltaEvent or iterable of RunStepDeltaEvent
        One delta, or several in stream order.

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
    merger = StepMerger(snapshot)
    try:
        merger.apply(delta)
    finally:
        snapshot = merger.snapshot
    return snapshot
