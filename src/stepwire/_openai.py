"""Conversions to and from openai-python's types: ``from_openai`` and ``to_openai``.

Both go through JSON, the one form both libraries hold losslessly:

- ``from_openai`` dumps an openai-python object to exactly the keys it was
  built from (``model_dump(mode="json", by_alias=True, exclude_unset=True)``:
  openai-python's models record which fields the body set, a ``null``
  included, and keep the fields they do not declare as pydantic extras), then
  decodes that with stepwire's own decoders. A stream event is framed as
  ``event: <name>`` / ``data: <json>`` and fed to a new ``Accumulator``, so
  it is the ``StreamEvent`` stepwire itself makes of those bytes.
- ``to_openai`` encodes with ``stepwire.encode`` and builds openai-python's
  object from that JSON as its client builds one from a response body: the
  model class's ``construct``, which builds nested models and tagged unions
  without validation, and keeps unknown fields.

openai-python knows OpenAI's own tool-call types only. Its ``construct``
never refuses an object of a type it has no class for: it builds the first
member of the union (a ``bing_grounding`` tool call becomes a
``CodeInterpreterToolCall`` whose ``type`` is ``"bing_grounding"``). Its JSON
is intact, so ``from_openai`` reads such an object right; ``to_openai``
refuses to make one, with a ``ConversionError`` at its path. The types
openai-python knows are read from its unions at run time (each member's
``Literal`` tag), so a release that adds a type converts it.

openai-python is imported by ``to_openai`` only: ``from_openai`` reads the
objects it is given, and ``import stepwire`` never imports openai-python.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Union, overload

import msgspec

from ._accumulate import Accumulator, StreamEvent
from ._decode import _DELTA, _PAGE, _STEP
from ._encode import encode
from ._errors import ConversionError, StreamError
from ._failures import FAILURES
from ._limits import MAX_EVENT_BYTES
from ._locate import format_path
from ._model import RunStep, RunStepDeltaEvent, RunStepPage

if TYPE_CHECKING:  # openai-python's types, for the signatures only (Any where it is absent)
    from openai.pagination import (  # type: ignore[import-not-found, unused-ignore]
        AsyncCursorPage,
        SyncCursorPage,
    )
    from openai.types.beta import (  # type: ignore[import-not-found, unused-ignore]
        AssistantStreamEvent as OpenAIStreamEvent,
    )
    from openai.types.beta.threads.runs import (  # type: ignore[import-not-found, unused-ignore]
        RunStep as OpenAIRunStep,
    )
    from openai.types.beta.threads.runs import (  # type: ignore[import-not-found, unused-ignore]
        RunStepDeltaEvent as OpenAIRunStepDeltaEvent,
    )

__all__ = ["from_openai", "to_openai"]

INSTALL_HINT = "stepwire.to_openai needs openai-python: pip install 'stepwire[openai]'"

#: The ``object`` of a run step (Azure AI Agents' too) and of a delta event.
_STEP_OBJECTS = frozenset({"thread.run.step", "assistant.run.step"})
_DELTA_OBJECT = "thread.run.step.delta"

_ENCODER = msgspec.json.Encoder()
_JSON = msgspec.json.Decoder()

_TAKES = (
    "an openai-python RunStep, RunStepDeltaEvent, page of run steps (SyncCursorPage, "
    "AsyncCursorPage) or assistant stream event, or a list of them"
)
_GIVES = "a stepwire RunStep, RunStepDeltaEvent, RunStepPage or StreamEvent, or a list of them"


# --------------------------------------------------------------------------
# from_openai
# --------------------------------------------------------------------------


@overload
def from_openai(obj: OpenAIRunStep) -> RunStep: ...
@overload
def from_openai(obj: OpenAIRunStepDeltaEvent) -> RunStepDeltaEvent: ...
@overload
def from_openai(
    obj: SyncCursorPage[OpenAIRunStep] | AsyncCursorPage[OpenAIRunStep],
) -> RunStepPage: ...
@overload
def from_openai(obj: OpenAIStreamEvent) -> StreamEvent: ...
@overload
def from_openai(obj: Sequence[OpenAIRunStep]) -> list[RunStep]: ...
@overload
def from_openai(obj: Sequence[OpenAIStreamEvent]) -> list[StreamEvent]: ...
@overload
def from_openai(obj: Sequence[Any]) -> list[Any]: ...


def from_openai(obj: Any) -> Any:
    """Convert an openai-python object into stepwire's, losslessly.

    The object is read as the JSON it was built from: every field the body
    had, and no other (absent stays absent, ``null`` stays ``null``), the
    fields openai-python does not declare included. That JSON is decoded as
    ``decode_step``, ``decode_delta`` or ``decode_page`` would decode it, so a
    tool call of a type openai-python does not know (which it builds as
    another type's class) comes out as stepwire's type for it, or as an
    ``UnknownToolCall`` holding it whole.

    openai-python is not imported: any object with its models' ``model_dump``
    and shape is read.

    Parameters
    ----------
    obj : openai-python object, or a list or tuple of them
        A ``RunStep`` (``client.beta.threads.runs.steps.retrieve()``), a
        ``RunStepDeltaEvent``, a page of run steps (``SyncCursorPage`` or
        ``AsyncCursorPage``, as ``steps.list()`` returns; its ``object``,
        ``first_id`` and ``last_id`` are kept with it), or a member of
        ``AssistantStreamEvent`` (``ThreadRunStepCreated``,
        ``ThreadRunStepDelta``, ``ErrorEvent``, ``ThreadMessageDelta``...).

    Returns
    -------
    RunStep, RunStepDeltaEvent, RunStepPage, StreamEvent or list
        The same kind of object; a list for a list or tuple, item by item.
        A stream event becomes the ``StreamEvent`` a new ``Accumulator``
        makes of ``event: <name>`` and ``data: <the event's data as compact
        JSON>``: a ``RunStep`` or ``RunStepDeltaEvent`` for the step
        events, an ``ApiError`` for ``error``, the JSON bytes for any other
        event. Its ``raw`` is that JSON (openai-python does not keep the bytes
        it parsed: keys come in openai-python's field order), and its ``id``
        is ``None`` (openai-python's events carry no event id).

    Raises
    ------
    TypeError
        If ``obj`` is none of these (a ``Run``, a ``Message``, a page of
        messages, a dict...); the message names its type.
    DecodeError
        If the object's JSON is not a valid run step, delta or page (a
        ``RunStep`` built by hand without its required fields).
    StreamError
        If stepwire cannot apply the stream event, as for the same bytes
        in a stream.

    Examples
    --------
    >>> step = client.beta.threads.runs.steps.retrieve(step_id, thread_id=t, run_id=r)
    >>> stepwire.from_openai(step)
    RunStep(id='step_abc', ...)
    >>> page = stepwire.from_openai(client.beta.threads.runs.steps.list(r, thread_id=t))
    >>> with client.beta.threads.runs.stream(thread_id=t, assistant_id=a) as stream:
    ...     for event in stream:
    ...         print(stepwire.from_openai(event).data)
    """
    if isinstance(obj, (list, tuple)):
        return [_from_openai(item) for item in obj]
    return _from_openai(obj)


def _from_openai(obj: Any) -> RunStep | RunStepDeltaEvent | RunStepPage | StreamEvent:
    dump = _dump(obj)
    event = getattr(obj, "event", None)
    if isinstance(event, str) and "data" in dump:
        return _stream_event(event, dump["data"])
    data = getattr(obj, "data", None)
    if isinstance(data, list) and hasattr(obj, "has_more"):
        for item in data:
            if _kind(item) != "step":
                raise TypeError(f"from_openai() takes {_TAKES}, not a page of {_name(item)}")
        return _PAGE.decode(_ENCODER.encode(dump))
    kind = _kind(obj, dump)
    if kind == "step":
        return _STEP.decode(_ENCODER.encode(dump))
    if kind == "delta":
        return _DELTA.decode(_ENCODER.encode(dump))
    raise TypeError(f"from_openai() takes {_TAKES}, not {_name(obj)}")


def _dump(obj: Any) -> dict[str, Any]:
    """The JSON an openai-python model was built from: the fields it set, by wire name."""
    model_dump = getattr(obj, "model_dump", None)
    if not callable(model_dump) or isinstance(obj, type):
        raise TypeError(f"from_openai() takes {_TAKES}, not {_name(obj)}")
    options: dict[str, Any] = {"mode": "json", "by_alias": True, "exclude_unset": True}
    if hasattr(obj, "__pydantic_serializer__"):
        # pydantic 2 warns about every object built as a class it is not (a tool
        # call of a type openai-python does not know), and writes it all the same.
        options["warnings"] = False
    dump = model_dump(**options)
    if not isinstance(dump, dict):
        raise TypeError(f"from_openai() takes {_TAKES}, not {_name(obj)}")
    return dump


def _kind(obj: Any, dump: dict[str, Any] | None = None) -> str | None:
    """``"step"`` or ``"delta"`` for a run step or a delta event (by its ``object``)."""
    value = getattr(obj, "object", None) if dump is None else dump.get("object")
    if value in _STEP_OBJECTS:
        return "step"
    if value == _DELTA_OBJECT:
        return "delta"
    # Built without its ``object``: decoding it says what is missing.
    return {"RunStep": "step", "RunStepDeltaEvent": "delta"}.get(type(obj).__name__)


def _name(obj: Any) -> str:
    """The qualified name of an object's type (of a class: the class itself), for errors."""
    cls = obj if isinstance(obj, type) else type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _stream_event(name: str, data: Any) -> StreamEvent:
    """The ``StreamEvent`` stepwire makes of one event with this name and JSON data."""
    if "\n" in name or "\r" in name:
        raise StreamError("an event name holds a line break", event=name)
    raw = _ENCODER.encode(data)
    block = b"event: " + name.encode() + b"\ndata: " + raw + b"\n\n"
    acc = Accumulator(max_event_bytes=max(MAX_EVENT_BYTES, len(block)))
    events = acc.feed(block)
    if len(events) != 1:  # ``done``: the end of a stream, not an event
        raise StreamError("the event makes no stream event", event=name)
    return events[0]


# --------------------------------------------------------------------------
# to_openai
# --------------------------------------------------------------------------


class _OpenAI(NamedTuple):
    RunStep: Any
    RunStepDeltaEvent: Any
    Page: Any
    StreamEvent: Any


def _openai() -> _OpenAI:
    """openai-python's types, imported on first use (``ImportError`` if it is absent)."""
    try:
        import openai  # noqa: F401  (first: its absence is the error worth a hint)
    except ModuleNotFoundError as exc:
        if exc.name != "openai":
            raise
        raise ImportError(INSTALL_HINT, name="openai") from exc
    from openai.pagination import SyncCursorPage
    from openai.types.beta import AssistantStreamEvent
    from openai.types.beta.threads.runs import RunStep as OpenAIRunStep
    from openai.types.beta.threads.runs import RunStepDeltaEvent as OpenAIRunStepDeltaEvent

    return _OpenAI(
        RunStep=OpenAIRunStep,
        RunStepDeltaEvent=OpenAIRunStepDeltaEvent,
        Page=SyncCursorPage[OpenAIRunStep],
        StreamEvent=AssistantStreamEvent,
    )


@overload
def to_openai(obj: RunStep) -> OpenAIRunStep: ...
@overload
def to_openai(obj: RunStepDeltaEvent) -> OpenAIRunStepDeltaEvent: ...
@overload
def to_openai(obj: RunStepPage) -> SyncCursorPage[OpenAIRunStep]: ...
@overload
def to_openai(obj: StreamEvent) -> OpenAIStreamEvent: ...
@overload
def to_openai(obj: Sequence[RunStep]) -> list[OpenAIRunStep]: ...
@overload
def to_openai(obj: Sequence[StreamEvent]) -> list[OpenAIStreamEvent]: ...
@overload
def to_openai(
    obj: Sequence[RunStep | RunStepDeltaEvent | RunStepPage | StreamEvent],
) -> list[Any]: ...


def to_openai(obj: Any) -> Any:
    """Convert a stepwire object into openai-python's, as its client builds it.

    The object's JSON (``stepwire.encode``) is built into openai-python's
    type the way openai-python's client builds a response body: with the
    class's ``construct``, which builds nested models and tagged unions
    without validating them, and keeps the fields it does not declare as
    extras. Nothing is lost: the result's
    ``model_dump(mode="json", by_alias=True, exclude_unset=True)`` is the
    JSON ``stepwire.encode`` writes, and ``from_openai`` gives ``obj`` back.

    Parameters
    ----------
    obj : RunStep, RunStepDeltaEvent, RunStepPage or StreamEvent, or a list or tuple of them

    Returns
    -------
    openai-python object, or list
        ``openai.types.beta.threads.runs.RunStep`` or ``RunStepDeltaEvent``;
        for a page, ``openai.pagination.SyncCursorPage[RunStep]`` (its
        ``object``, ``first_id`` and ``last_id`` as extras, as
        ``steps.list()`` returns them), without a client: ``.data``,
        ``.has_more``, ``has_next_page()`` and iterating a last page work,
        fetching the next page does not (ask the client,
        ``steps.list(run_id, thread_id=..., after=page.last_id)``); for a
        ``StreamEvent``, the member of ``AssistantStreamEvent`` for its event
        name (``ThreadRunStepDelta``, ``ErrorEvent``...), whose ``data`` is
        built from the event's data (an ``error`` event's ``ApiError``
        becomes an ``ErrorObject``, without the ``{"error": ...}`` around it
        in some streams; the stream's event ``id`` has no place in it). A
        list for a list or tuple, item by item.

    Raises
    ------
    ConversionError
        If openai-python has no type for the object or for an object in it:
        a tool call, step details or code interpreter output (or their
        deltas) of a type it does not know (Azure AI Agents'
        ``bing_grounding``, ``mcp``, ``activities``...; stepwire's
        ``Unknown*`` objects, unless openai-python knows their type), or an
        event name it has no event type for. openai-python itself would
        build such an object as another type. Also if an event's data is
        not JSON, or where openai-python would put a field's default in
        place of a ``null``. ``path`` is the object's JSON path in ``obj``
        (``$.step_details.tool_calls[1]``; in a stream event's data, from
        its root; ``None`` for the event itself), ``kind`` its ``type`` tag
        (the event name for an event).
    TypeError
        If ``obj`` is none of these.
    ImportError
        If openai-python is not installed (``pip install 'stepwire[openai]'``).

    Examples
    --------
    >>> step = stepwire.decode_step(body)
    >>> stepwire.to_openai(step)
    RunStep(id='step_abc', ...)
    >>> try:
    ...     stepwire.to_openai(azure_step)
    ... except stepwire.ConversionError as exc:
    ...     print(exc.path, exc.kind)
    $.step_details.tool_calls[0] bing_grounding
    """
    oa = _openai()
    if isinstance(obj, (list, tuple)):
        return [_to_openai(item, oa, (i,)) for i, item in enumerate(obj)]
    return _to_openai(obj, oa, ())


def _to_openai(obj: Any, oa: _OpenAI, at: tuple[int, ...]) -> Any:
    if isinstance(obj, StreamEvent):
        return _to_event(obj, oa, at)
    if isinstance(obj, RunStep):
        cls, delta = oa.RunStep, False
    elif isinstance(obj, RunStepDeltaEvent):
        cls, delta = oa.RunStepDeltaEvent, True
    elif isinstance(obj, RunStepPage):
        cls, delta = oa.Page, False
    else:
        raise TypeError(f"to_openai() takes {_GIVES}, not {_name(obj)}")
    data = _JSON.decode(encode(obj))
    _check(data, cls, (), at, delta)
    return cls.model_construct(**data)


def _to_event(event: StreamEvent, oa: _OpenAI, at: tuple[int, ...]) -> Any:
    name = event.event
    members = _tagged_members(oa.StreamEvent)
    cls = members[1].get(name) if members is not None else None
    if cls is None:
        raise ConversionError(
            f"openai-python has no type for stream event {name!r}", path=_path(at), kind=name
        )
    data = event.data
    if isinstance(data, bytes):
        try:
            payload = _JSON.decode(data)
        except FAILURES:
            raise ConversionError(
                f"the data of event {name!r} is not JSON, which openai-python's events hold",
                path=_path(at),
                kind=name,
            ) from None
    else:
        payload = _JSON.decode(encode(data))
    field = _fields(cls).get("data")
    if field is not None:
        _check(payload, field.type, field.metadata, at, name.endswith(".delta"))
    return cls.model_construct(event=name, data=payload)


def _path(at: tuple[int | str, ...]) -> str | None:
    return format_path(at) if at else None


# --------------------------------------------------------------------------
# What openai-python has a type for: its models and unions, read at run time
# --------------------------------------------------------------------------


class _Field(NamedTuple):
    type: Any
    metadata: tuple[Any, ...]
    #: The default openai-python's ``construct`` puts in place of a ``null``.
    default: Any


#: What each union's objects are called in a ``ConversionError``, by the field
#: that holds them (other fields: their name, ``_`` as spaces).
_NOUNS = {
    "tool_calls": "tool call",
    "step_details": "step details",
    "outputs": "code interpreter output",
    "tools": "tool",
    "content": "content part",
}

Path = tuple[Union[int, str], ...]


def _check(value: Any, tp: Any, metadata: tuple[Any, ...], path: Path, delta: bool) -> None:
    """Raise ``ConversionError`` where openai-python would build ``value`` as a type it is not.

    ``value`` is JSON (dicts, lists, scalars) to be built into ``tp`` (with
    its ``Annotated`` metadata) by openai-python's ``construct``. Only objects
    are checked: a scalar of an unknown enumeration value is kept as it is.
    """
    tp, metadata = _unwrap(tp, metadata)
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        _check_union(value, tp, metadata, path, delta)
    elif _is_model(tp):
        if isinstance(value, dict):
            _check_model(value, tp, path, delta)
    elif origin in (list, Sequence) and isinstance(value, list):
        args = typing.get_args(tp)
        if args:
            for i, item in enumerate(value):
                _check(item, args[0], (), (*path, i), delta)
    elif origin is dict and isinstance(value, dict):
        args = typing.get_args(tp)
        if len(args) == 2:
            for key, item in value.items():
                _check(item, args[1], (), (*path, key), delta)


def _check_model(value: dict[str, Any], cls: Any, path: Path, delta: bool) -> None:
    for key, field in _fields(cls).items():
        if key not in value:
            continue
        item = value[key]
        if item is None and field.default is not None:
            raise ConversionError(
                f"openai-python would replace this null with {field.default!r}",
                path=format_path((*path, key)),
            )
        _check(item, field.type, field.metadata, (*path, key), delta)


def _check_union(value: Any, tp: Any, metadata: tuple[Any, ...], path: Path, delta: bool) -> None:
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if len(args) == 1:  # Optional[X]: X with its own metadata (an annotated union's tag)
        _check(value, args[0], metadata, path, delta)
        return
    members = [_unwrap(arg, ())[0] for arg in args]
    models = [m for m in members if _is_model(m)]
    if isinstance(value, dict) and models:
        tagged = _tagged_members(tp, metadata)
        if tagged is None:
            if len(models) == 1:
                _check_model(value, models[0], path, delta)
            return  # members told apart by their fields, not a tag: not ours to guess
        key, by_tag = tagged
        tag = value.get(key)
        cls = by_tag.get(tag) if isinstance(tag, str) else None
        if cls is None:
            noun = _noun(path, delta)
            reason = (
                f"openai-python has no type for {noun} type {tag!r}"
                if isinstance(tag, str)
                else f"openai-python has no type for a {noun} without a string {key!r}"
            )
            raise ConversionError(
                reason, path=format_path(path), kind=tag if isinstance(tag, str) else None
            )
        _check_model(value, cls, path, delta)
        return
    # A list or a map in a union of other types (Optional[List[ToolCall]]).
    kind = list if isinstance(value, list) else dict if isinstance(value, dict) else None
    containers = [m for m in members if kind is not None and typing.get_origin(m) is kind]
    if len(containers) == 1:
        _check(value, containers[0], (), path, delta)


def _noun(path: Path, delta: bool) -> str:
    field = next((step for step in reversed(path) if isinstance(step, str)), "")
    noun = _NOUNS.get(field, field.replace("_", " ") or "object")
    return f"{noun} delta" if delta else noun


def _unwrap(tp: Any, metadata: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """``tp`` without type aliases and ``Annotated``, and the metadata gathered on the way."""
    while True:
        if type(tp).__name__ == "TypeAliasType":  # typing's or typing_extensions'
            tp = tp.__value__
        elif typing.get_origin(tp) is typing.Annotated:
            args = typing.get_args(tp)
            tp, metadata = args[0], (*metadata, *args[1:])
        else:
            return tp, metadata


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and _model_fields(tp) is not None


def _model_fields(cls: type[Any]) -> dict[str, Any] | None:
    """A model class's fields: ``model_fields`` (pydantic 2), ``__fields__`` (pydantic 1)."""
    fields = getattr(cls, "model_fields", None)
    if fields is None:
        fields = getattr(cls, "__fields__", None)
    return fields if isinstance(fields, dict) else None


@cache
def _fields(cls: type[Any]) -> dict[str, _Field]:
    """A model's fields by the key the JSON gives them (their alias, where they have one)."""
    fields: dict[str, _Field] = {}
    for name, info in (_model_fields(cls) or {}).items():
        if hasattr(info, "annotation"):  # pydantic 2
            tp, metadata = info.annotation, tuple(info.metadata)
            default = info.get_default()
        else:  # pydantic 1: ModelField
            tp, metadata, default = info.outer_type_, (), info.default
        if default is not None and type(default).__name__ == "PydanticUndefinedType":
            default = None  # required: openai-python builds null as None
        fields[info.alias or name] = _Field(tp, metadata, default)
    return fields


def _tagged_members(
    union: Any, metadata: tuple[Any, ...] = ()
) -> tuple[str, dict[str, Any]] | None:
    """A union's tag key, and its model members by tag; ``None`` if it has no tag.

    The tag is the discriminator the union is annotated with (openai-python's
    ``PropertyInfo(discriminator=...)``, pydantic's ``Field(discriminator=...)``),
    or else the one field all its model members hold as string ``Literal``s.
    """
    union, metadata = _unwrap(union, metadata)
    key = next(
        (m.discriminator for m in metadata if isinstance(getattr(m, "discriminator", None), str)),
        None,
    )
    models = tuple(m for m in (_unwrap(a, ())[0] for a in typing.get_args(union)) if _is_model(m))
    return _by_tag(models, key)


@cache
def _by_tag(models: tuple[Any, ...], key: str | None) -> tuple[str, dict[str, Any]] | None:
    tags = [_literals(m) for m in models]
    if key is None:
        if len(models) < 2:
            return None
        common = set.intersection(*(set(t) for t in tags))
        if len(common) != 1:
            return None
        key = common.pop()
    by_tag: dict[str, Any] = {}
    for model, literals in zip(models, tags, strict=True):
        for tag in literals.get(key, ()):
            by_tag.setdefault(tag, model)
    return (key, by_tag) if by_tag else None


def _literals(model: Any) -> dict[str, tuple[str, ...]]:
    """A model's fields that hold string ``Literal``s, by key: their values."""
    out: dict[str, tuple[str, ...]] = {}
    for key, field in _fields(model).items():
        tp, _ = _unwrap(field.type, ())
        if typing.get_origin(tp) is Literal:
            values = tuple(v for v in typing.get_args(tp) if isinstance(v, str))
            if values:
                out[key] = values
    return out
