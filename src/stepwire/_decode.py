"""``Decoder`` and the one-call decode functions: a fast typed path, the rest kept.

The fast path is one ``msgspec.json.Decoder`` per type, built once. A body
the model does not hold (an unknown field or tool type, a payload value off
its type) makes msgspec raise; only then do the learned twins (``_twins``) or
the fallback (``_fallback``) decode it, keeping everything. Strict mode runs
a second decoder that enforces the spec, and refuses with a path
(``_diagnose``). Well-formed known bodies never pay for either.
"""

from __future__ import annotations

import builtins
from typing import Any, Generic, TypeVar, Union, overload

import msgspec

from ._diagnose import diagnose
from ._failures import FAILURES, is_refusal
from ._fallback import rescue, unparsable
from ._model import RunStep, RunStepDeltaEvent, RunStepPage
from ._strict import strict_type
from ._twins import MISS, Twins

__all__ = ["Buffer", "Decoder", "decode_delta", "decode_page", "decode_step"]

T = TypeVar("T")

#: What every decode function accepts.
Buffer = Union[bytes, bytearray, memoryview, str]


class Decoder(Generic[T]):
    """A reusable decoder of one stepwire type.

    Parameters
    ----------
    type : type
        The type to decode into: ``RunStep``, ``RunStepPage``,
        ``RunStepDeltaEvent``, or any other stepwire model type (a Struct, or
        a union such as ``ToolCall``), or a ``list`` of one.
    strict : bool, default False
        Enforce the spec: its enumerations, metadata limits (16 keys, keys of
        at most 64 characters, values of at most 512), scores in [0, 1], and
        reject unknown fields and unknown tool-call and step-details types.
        The default mode accepts all of these, and keeps them: unknown
        fields in each object's ``extra``, unknown union members as
        ``UnknownObject`` stand-ins.

    Examples
    --------
    >>> dec = stepwire.Decoder(stepwire.RunStepPage)
    >>> page = dec.decode(body)
    """

    __slots__ = ("_decoder", "_strict", "_strict_decoder", "_twins", "_type")

    @overload
    def __init__(self: Decoder[T], type: type[T], strict: bool = False) -> None: ...
    @overload
    def __init__(self: Decoder[Any], type: Any, strict: bool = False) -> None: ...

    def __init__(self, type: Any, strict: bool = False) -> None:
        self._type: Any = type  # a Struct, a union or a list: what msgspec takes
        self._strict = bool(strict)
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type)
        self._strict_decoder: msgspec.json.Decoder[Any] | None = (
            msgspec.json.Decoder(strict_type(type)) if strict else None
        )
        # What the fallback found in earlier bodies, decoded in one pass (_twins).
        self._twins = Twins(type)

    @property
    def type(self) -> builtins.type[T]:
        """The type decoded into (read-only)."""
        tp: builtins.type[T] = self._type
        return tp

    @property
    def strict(self) -> bool:
        """Whether the spec is enforced (read-only: a new mode is a new ``Decoder``)."""
        return self._strict

    def __repr__(self) -> str:
        name = getattr(self._type, "__name__", repr(self._type))
        return f"Decoder({name}, strict={self._strict})"

    def decode(self, buf: Buffer) -> T:
        """Decode one JSON document.

        Parameters
        ----------
        buf : bytes, bytearray, memoryview or str
            The document. Buffers are read in place, without a copy.

        Returns
        -------
        The decoded object.

        Raises
        ------
        DecodeError
            If ``buf`` is not valid JSON or not a valid object of this type.
        TypeError
            If ``buf`` is not one of the accepted types.
        """
        return self._decode(buf, None)

    def _decode(self, buf: Buffer, line: int | None) -> T:
        strict = self._strict_decoder
        try:
            if strict is not None:
                strict.decode(buf)
            return self._decoder.decode(buf)
        except FAILURES as exc:
            failure = exc
        if strict is not None:
            raise diagnose(failure, buf, strict_type(self._type), line=line) from None
        try:
            return self._keep(failure, buf, line)
        except RecursionError as exc:
            # The caller left too little stack for the fallback's own calls.
            raise diagnose(exc, buf, None, line=line) from None

    def _keep(self, failure: BaseException, buf: Buffer, line: int | None) -> T:
        """Decode what the fast decoder refused, keeping what the model does not hold."""
        if not is_refusal(failure):
            raise unparsable(failure, buf, self.type, line) from None
        # Something the model does not hold (an unknown field or tool type, a
        # payload value off its type): the twins or the fallback keep it.
        result: T = self._twins.decode(buf)
        if result is MISS:
            result, seen = rescue(buf, self.type, line)
            self._twins.learn(seen)
        return result


# --------------------------------------------------------------------------
# Module-level API, on prebuilt decoders
# --------------------------------------------------------------------------

_DECODERS: dict[tuple[Any, bool], Decoder[Any]] = {}


def _decoder(tp: type[T], strict: bool) -> Decoder[T]:
    dec: Decoder[T] | None = _DECODERS.get((tp, strict))
    if dec is None:  # strict decoders are built on first use: most callers never ask
        dec = _DECODERS[tp, strict] = Decoder(tp, strict=strict)
    return dec


_STEP: Decoder[RunStep] = _decoder(RunStep, False)
_PAGE: Decoder[RunStepPage] = _decoder(RunStepPage, False)
_DELTA: Decoder[RunStepDeltaEvent] = _decoder(RunStepDeltaEvent, False)


def _select(default: Decoder[T], strict: bool) -> Decoder[T]:
    """``default`` itself, or its strict twin (built on first use)."""
    return _decoder(default.type, True) if strict else default


def decode_step(buf: Buffer, *, strict: bool = False) -> RunStep:
    """Decode one run step (``GET .../steps/{step}``, or a step event's data).

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The JSON body.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Returns
    -------
    RunStep

    Raises
    ------
    DecodeError
        If the body is not a valid run step; the message names the JSON path.
    """
    return _select(_STEP, strict)._decode(buf, None)


def decode_page(buf: Buffer, *, strict: bool = False) -> RunStepPage:
    """Decode one page of run steps (``GET .../runs/{run}/steps``).

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The JSON body.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Returns
    -------
    RunStepPage

    Raises
    ------
    DecodeError
        If the body is not a valid page; the message names the JSON path.
    """
    return _select(_PAGE, strict)._decode(buf, None)


def decode_delta(buf: Buffer, *, strict: bool = False) -> RunStepDeltaEvent:
    """Decode the data of a ``thread.run.step.delta`` event.

    Parameters
    ----------
    buf : bytes, bytearray, memoryview or str
        The JSON body.
    strict : bool, default False
        Enforce the spec's constraints (see ``Decoder``).

    Returns
    -------
    RunStepDeltaEvent

    Raises
    ------
    DecodeError
        If the body is not a valid delta event; the message names the JSON path.
    """
    return _select(_DELTA, strict)._decode(buf, None)
