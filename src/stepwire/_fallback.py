"""The fallback decode: keep what the fast decoder refused, re-decoding only that.

Every model Struct forbids unknown fields, so the fast decoder (one
``msgspec.json.Decoder`` per type) fails on any body holding something it
cannot build: a field this release does not model, a union member of a type
it does not know, a payload value that breaks the spec's type, a free-form
value that is not a scalar. Bodies that fit never come here.

``rescue`` then works down from the value that failed. A value is split into
its children as zero-copy ``msgspec.Raw`` views (an object as
``dict[str, Raw]``, an array as ``list[Raw]``), each child is decoded on its
own by the fast decoder of its type, and only a child that fails again is
split further. The cost is that of the parts that do not fit, not of the
body, and a type whose values keep failing in one body is split at once for
the rest of it (``_Rescue.split_first``), so that a page of a hundred such
steps does not pay for a hundred failed attempts.

What is kept, in the default mode:

- an unknown field: in the object's ``extra`` (``ExtraFields``), as parsed;
- an unknown union member: as its ``Unknown*`` stand-in, as parsed;
- in a payload (every field of a tool call, tool-call delta or activity but
  ``id`` and ``index``, and everything below), a value that does not fit its
  type: as parsed, in the field; a required field that is missing: ``UNSET``;
- a free-form value that is not a scalar: as parsed.

Everything kept as parsed obeys the free-form limits (``MAX_DEPTH`` from the
document root, signed 64-bit integers). What cannot be kept (a step without
an ``id``, a ``created_at`` that is a string) is refused with its path.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any, Union, get_args, get_origin

import msgspec

from . import _failures, _locate, _refusal
from ._diagnose import as_bytes, diagnose, patch_despite, refused_at
from ._errors import DecodeError
from ._failures import FAILURES
from ._limits import MAX_DEPTH
from ._model import FALLBACKS, FREE_FORM, INT64_MAX, INT64_MIN, PAYLOAD_UNIONS
from ._strict import UNION_TYPES, derived_struct
from ._unknown import EXTRA_KEY, ExtraFields, UnknownOutputDelta, UnknownToolCallDelta

__all__ = ["fits_free_form", "rescue", "unparsable"]

Path = tuple[Any, ...]

_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])
_TAG = msgspec.json.Decoder(str)


class _RefusedError(Exception):
    """A value that cannot be kept: why, and its path from the root."""

    def __init__(self, reason: str, steps: Path, *, at_end: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.steps = list(steps)
        # Whether a decode meets it at the end of the value (a missing field), not its start.
        self.at_end = at_end


class _UnparsableError(Exception):
    """msgspec failed on a part for a reason other than its type (bytes, numbers, nesting)."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__(str(failure))
        self.failure = failure


class _Rescue:
    """The state of one fallback decode."""

    __slots__ = ("kept", "seen_keys", "seen_tags", "split_first", "unknown_keys")

    def __init__(self) -> None:
        # How many values were kept that the fast decoder refused.
        self.kept = 0
        # Types whose last value needed a split: the next one is split at once.
        self.split_first: set[Any] = set()
        # Unions whose objects had fields they do not model: not tried as shells.
        self.unknown_keys: set[_Union] = set()
        # What was met that the model lacks, for the decoder to learn (_twins):
        # the unknown keys of each Struct, and of each unknown tag of a union.
        self.seen_keys: dict[type[msgspec.Struct], set[str]] = {}
        # (Keys in the order first met, the tag's included: a stand-in keeps it.)
        self.seen_tags: dict[tuple[frozenset[Any], str], dict[str, dict[str, None]]] = {}


def rescue(buf: Any, tp: Any, line: int | None) -> tuple[Any, _Rescue]:
    """Decode ``buf`` as ``tp`` after the fast decoder refused it (see module docstring).

    Returns
    -------
    value : object
        The decoded value.
    rescue : _Rescue
        What was met that the model lacks (``seen_keys``, ``seen_tags``).

    Raises
    ------
    DecodeError
        For what cannot be kept, with its path and offset.
    """
    state = _Rescue()
    try:
        return _split(buf, _kind(tp), (), False, state), state
    except _RefusedError as exc:
        raise refused_at(exc.reason, as_bytes(buf), exc.steps, line) from None
    except _UnparsableError as exc:
        failure: BaseException = exc.failure
    except RecursionError as exc:
        failure = exc
    raise unparsable(failure, buf, tp, line) from None


def unparsable(failure: BaseException, buf: Any, tp: Any, line: int | None) -> DecodeError:
    """The error for a body msgspec cannot parse (bytes, a number, nesting).

    Numbers msgspec cannot hold and nesting past the stack are errors only
    if nothing else is: a body that would be refused anyway, without them,
    reports that refusal (the one a typed decode meets first).
    """
    defect = diagnose(failure, buf, None, line=line)
    data = as_bytes(buf)
    patched = patch_despite(data)
    if patched is None:
        return defect
    try:
        # The patched body has the paths of the original, not its offsets.
        _split(patched[0], _kind(tp), (), False, _Rescue())
    except _RefusedError as exc:
        refusal = refused_at(exc.reason, data, exc.steps, line)
        met_at = refusal.offset
        if exc.at_end and met_at is not None:
            met_at = _locate.end_of(data, met_at) - 1
        if met_at is not None and (defect.offset is None or met_at < defect.offset):
            return refusal
    except (_UnparsableError, RecursionError):
        pass
    return defect


# -- kinds of types -------------------------------------------------------------------

_FREE, _STRUCTS, _LIST, _DICT, _LEAF = range(5)


class _Kind:
    """How to decode one type: its fast decoder, and how to split a value it refuses."""

    __slots__ = ("args", "fast", "shape", "tp")

    def __init__(self, tp: Any) -> None:
        self.tp = tp
        self.fast: msgspec.json.Decoder[Any] = msgspec.json.Decoder(tp)
        self.shape, self.args = _shape(tp)


@cache
def _kind(tp: Any) -> _Kind:
    return _Kind(tp)


def _shape(tp: Any) -> tuple[int, Any]:
    if any(meta is FREE_FORM for meta in getattr(tp, "__metadata__", ())):
        return _FREE, None
    members = _members(tp)
    structs = tuple(m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct))
    if structs:
        return _STRUCTS, _Union(members, structs)
    for m in members:
        origin = get_origin(m)
        if origin is list:
            return _LIST, _kind(get_args(m)[0])
        if origin is dict:
            return _DICT, _kind(get_args(m)[1])
    return _LEAF, None


def _strip(tp: Any) -> Any:
    while hasattr(tp, "__metadata__"):  # Annotated[...]
        tp = tp.__origin__
    return tp


def _members(tp: Any) -> tuple[Any, ...]:
    """The members of a union that JSON can hold (or the type itself), Annotated stripped."""
    tp = _strip(tp)
    if get_origin(tp) in UNION_TYPES:
        out: list[Any] = []
        for arg in get_args(tp):
            out.extend(_members(arg))
        return tuple(m for m in out if m not in (type(None), msgspec.UnsetType))
    return (tp,)


class _Union:
    """The Struct members of a type, by tag, and the stand-in for an unknown tag."""

    __slots__ = ("_shell", "by_tag", "members", "single", "structs", "tag_field", "unknown")

    def __init__(self, members: tuple[Any, ...], structs: tuple[type[msgspec.Struct], ...]):
        self.members = frozenset(members)
        self.structs = structs
        self.single = structs[0] if len(structs) == 1 else None
        self.tag_field: str | None = structs[0].__struct_config__.tag_field
        self.by_tag = {s.__struct_config__.tag: s for s in structs}
        self.unknown: type[Any] | None = _UNKNOWN.get(frozenset(members))
        self._shell: msgspec.json.Decoder[Any] | None = None

    @property
    def shell(self) -> msgspec.json.Decoder[Any]:
        """A decoder of the members' shells (``_Plan.shell``), which picks one by tag."""
        if self._shell is None:
            shells = tuple(_plan(s).shell_cls for s in self.structs)
            self._shell = msgspec.json.Decoder(shells[0] if len(shells) == 1 else Union[shells])
        return self._shell


# By member set: ``Nullable[StepDetailsDelta]`` is a flat union of the same
# members plus None and UnsetType, no longer the ``StepDetailsDelta`` object.
_UNKNOWN = {frozenset(_members(union)): cls for union, cls in FALLBACKS.items()}
_PAYLOAD_CLASSES = frozenset(m for union in PAYLOAD_UNIONS for m in _members(union))
_ENVELOPE = frozenset({"id", "index"})
_SHELLS: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}  # shell class -> its Struct


class _Plan:
    """How to split one Struct.

    Attributes
    ----------
    fields : dict
        By JSON name: ``(attribute, kind, opens a payload)``.
    known : frozenset
        The JSON names the Struct models (its tag's included).
    fast : Decoder
        The Struct's own decoder (for the known fields of a body, once cut).
    shell_cls : type
        A twin Struct whose fields of a container type (objects, arrays,
        unions of them, free-form values) are ``msgspec.Raw``: it checks the
        scalars at once, and leaves each container to be decoded on its own.
    containers : list
        ``(attribute, JSON name, kind, opens a payload)`` of those fields.
    """

    __slots__ = (
        "_shell",
        "cls",
        "containers",
        "fast",
        "fields",
        "keys",
        "known",
        "required",
        "shell_cls",
        "tag_field",
    )

    def __init__(self, cls: type[msgspec.Struct]) -> None:
        payload = cls in _PAYLOAD_CLASSES
        config = cls.__struct_config__
        self.cls = cls
        self.fields: dict[str, tuple[str, _Kind, bool]] = {}
        self.required: list[tuple[str, str, bool]] = []
        self.containers: list[tuple[str, str, _Kind, bool]] = []
        shell_fields: list[Any] = []
        rename: dict[str, str] = {}
        for f in msgspec.structs.fields(cls):
            if f.encode_name == EXTRA_KEY:
                continue  # a body's key of that name is an unknown field
            opens = payload and f.encode_name not in _ENVELOPE
            kind = _kind(f.type)
            self.fields[f.encode_name] = (f.name, kind, opens)
            if f.required:
                self.required.append((f.name, f.encode_name, opens))
            shell_type = f.type
            if kind.shape == _LIST:
                # Split into items at once: the list itself is not worth a decode.
                items = list[msgspec.Raw]
                shell_type = Union[items, None] if _nullable(f.type) else items
                self.containers.append((f.name, f.encode_name, kind, opens))
            elif kind.shape != _LEAF:
                shell_type = msgspec.Raw
                self.containers.append((f.name, f.encode_name, kind, opens))
            shell_fields.append(
                (f.name, shell_type) if f.required else (f.name, shell_type, msgspec.UNSET)
            )
            if f.encode_name != f.name:
                rename[f.name] = f.encode_name
        self.tag_field = config.tag_field
        self.known = frozenset(self.fields) | ({self.tag_field} if self.tag_field else set())
        self.keys = {name: b'"' + name.encode() + b'":' for name in self.known}
        self.fast: msgspec.json.Decoder[Any] = msgspec.json.Decoder(cls)
        self.shell_cls = derived_struct(f"Shell{cls.__name__}", cls, shell_fields, rename)
        _SHELLS[self.shell_cls] = cls
        self._shell: msgspec.json.Decoder[Any] | None = None

    @property
    def shell(self) -> msgspec.json.Decoder[Any]:
        if self._shell is None:
            self._shell = msgspec.json.Decoder(self.shell_cls)
        return self._shell


@cache
def _plan(cls: type[msgspec.Struct]) -> _Plan:
    return _Plan(cls)


# -- the walk -------------------------------------------------------------------------


def _value(raw: Any, kind: _Kind, path: Path, open_: bool, rescue: _Rescue) -> Any:
    """Decode one value: the fast decoder, then a split if it refuses."""
    if kind not in rescue.split_first:
        try:
            return kind.fast.decode(raw)
        except FAILURES as exc:
            if not _failures.is_refusal(exc):
                raise _UnparsableError(exc) from None
    before = rescue.kept
    value = _split(raw, kind, path, open_, rescue)
    if rescue.kept == before:
        rescue.split_first.discard(kind)  # nothing kept: it fits again
    else:
        rescue.split_first.add(kind)
    return value


def _split(raw: Any, kind: _Kind, path: Path, open_: bool, rescue: _Rescue) -> Any:
    """Decode a value the fast decoder refused (or would), child by child."""
    shape = kind.shape
    if shape == _STRUCTS:
        union = kind.args
        if union not in rescue.unknown_keys:
            # Every field modelled, most of the time: the shell checks that,
            # and the scalars, in one decode.
            try:
                shell = union.shell.decode(raw)
            except FAILURES as exc:
                if not _failures.is_refusal(exc):
                    raise _UnparsableError(exc) from None
            else:
                return _from_shell(shell, _plan(_SHELLS[type(shell)]), path, open_, rescue)
        fields = _children(_OBJECT, raw)
        if fields is not None:
            return _struct(raw, fields, union, path, open_, rescue)
    elif shape == _LIST:
        items = _children(_ARRAY, raw)
        if items is not None:
            item_kind = kind.args
            return [
                _value(item, item_kind, (*path, i), open_, rescue) for i, item in enumerate(items)
            ]
    elif shape == _DICT:
        entries = _children(_OBJECT, raw)
        if entries is not None:
            value_kind = kind.args
            return {
                key: _value(item, value_kind, (*path, key), open_, rescue)
                for key, item in entries.items()
            }
    elif shape == _FREE:
        return _keep(raw, path, rescue)
    # The value is of the wrong JSON kind for its type (or a scalar out of its set).
    if open_:
        return _keep(raw, path, rescue)
    value = _parse(raw)
    steps, reason = _refusal.explain(value, kind.tp)
    if reason is None:  # no reason stepwire can give: msgspec's, as a detail
        try:
            kind.fast.decode(raw)
        except FAILURES as exc:
            reason = f"Invalid value ({_failures.detail(exc)})"
        else:  # pragma: no cover - the fast decoder refused this value before
            return value
    raise _RefusedError(reason, (*path, *steps))


def _children(decoder: msgspec.json.Decoder[Any], raw: Any) -> Any:
    """``raw`` split into ``Raw`` children, or None if it is not of that JSON kind."""
    try:
        return decoder.decode(raw)
    except FAILURES as exc:
        if not _failures.is_refusal(exc):
            raise _UnparsableError(exc) from None
        return None


def _struct(
    raw: Any, fields: dict[str, Any], union: _Union, path: Path, open_: bool, rescue: _Rescue
) -> Any:
    cls = union.single
    tag_field = union.tag_field
    if tag_field is not None and (cls is None or tag_field in fields):
        tag = _tag(fields, tag_field, path, open_)
        if tag is None:  # no usable tag in a payload: kept as it is
            return _keep(raw, path, rescue)
        cls = union.by_tag.get(tag)
        if cls is None:
            if union.unknown is not None:
                value = _unknown(raw, union.unknown, path, rescue)
                keys = rescue.seen_tags.setdefault((union.members, tag_field), {})
                keys.setdefault(tag, {}).update(dict.fromkeys(value))
                return value
            if open_:
                return _keep(raw, path, rescue)
            raise _RefusedError(_refusal.tag_reason(tag), (*path, tag_field))
    assert cls is not None
    plan = _plan(cls)
    unknown = fields.keys() - plan.known
    if not unknown:
        return _known(raw, fields, plan, path, open_, rescue)
    rescue.unknown_keys.add(union)
    rescue.seen_keys.setdefault(cls, set()).update(unknown)
    extra = ExtraFields()
    parts: list[Any] = []
    for key, item in fields.items():
        if key in unknown:
            extra[key] = _keep(item, (*path, key), rescue)
        else:
            parts += (b",", plan.keys[key], item)
    # The known fields alone, as one object: most of the time the Struct's own
    # decoder takes them, at its full speed.
    if parts:
        parts[0] = b"{"
    known = b"".join(parts) + b"}" if parts else b"{}"
    try:
        obj = plan.fast.decode(known)
    except FAILURES as exc:
        if not _failures.is_refusal(exc):
            raise _UnparsableError(exc) from None
        rest = {key: item for key, item in fields.items() if key not in unknown}
        obj = _known(known, rest, plan, path, open_, rescue)
    obj.extra = extra
    return obj


def _known(
    raw: Any, fields: dict[str, Any], plan: _Plan, path: Path, open_: bool, rescue: _Rescue
) -> Any:
    """A Struct whose fields are all modelled, but which its decoder refused."""
    try:
        shell = plan.shell.decode(raw)
    except FAILURES as exc:
        if not _failures.is_refusal(exc):
            raise _UnparsableError(exc) from None
        return _by_field(fields, plan, path, open_, rescue)
    return _from_shell(shell, plan, path, open_, rescue)


def _from_shell(shell: Any, plan: _Plan, path: Path, open_: bool, rescue: _Rescue) -> Any:
    """The Struct from its shell: scalars as decoded, containers decoded one by one."""
    values = msgspec.structs.asdict(shell)
    for name, json_name, kind, opens in plan.containers:
        item = values[name]
        if type(item) is list:
            at = (*path, json_name)
            item_kind = kind.args
            opened = open_ or opens
            values[name] = [
                _value(raw, item_kind, (*at, i), opened, rescue) for i, raw in enumerate(item)
            ]
        elif item is not msgspec.UNSET and item is not None:
            values[name] = _value(item, kind, (*path, json_name), open_ or opens, rescue)
    return plan.cls(**values)


def _nullable(tp: Any) -> bool:
    tp = _strip(tp)
    return get_origin(tp) in UNION_TYPES and type(None) in get_args(tp)


def _by_field(fields: dict[str, Any], plan: _Plan, path: Path, open_: bool, rescue: _Rescue) -> Any:
    """The Struct decoded field by field: where a scalar is off its type, or one is missing."""
    values: dict[str, Any] = {}
    for key, item in fields.items():
        entry = plan.fields.get(key)
        if entry is not None:
            name, kind, opens = entry
            values[name] = _value(item, kind, (*path, key), open_ or opens, rescue)
    for name, json_name, opens in plan.required:
        if name not in values:
            if not (open_ or opens):
                raise _RefusedError(
                    f"Object missing required field `{json_name}`", path, at_end=True
                )
            # A payload the service sent without it: absent stays absent.
            values[name] = msgspec.UNSET
            rescue.kept += 1
    return plan.cls(**values)


def _tag(fields: dict[str, Any], tag_field: str, path: Path, open_: bool) -> str | None:
    raw = fields.get(tag_field)
    if raw is None:
        if open_:
            return None
        raise _RefusedError(f"Object missing required field `{tag_field}`", path)
    try:
        tag: str = _TAG.decode(raw)
    except FAILURES as exc:
        if not _failures.is_refusal(exc):
            raise _UnparsableError(exc) from None
        if open_:
            return None
        value = _parse(raw)
        raise _RefusedError(_refusal.tag_reason(value), (*path, tag_field)) from None
    return tag


def _unknown(raw: Any, cls: type[Any], path: Path, rescue: _Rescue) -> Any:
    """An object of a type this release does not know, as parsed."""
    value = _parse(raw)
    if issubclass(cls, (UnknownToolCallDelta, UnknownOutputDelta)):
        # The merge places a delta by its index: it must have one.
        if "index" not in value:
            raise _RefusedError("Object missing required field `index`", path)
        if type(value["index"]) is not int:
            got = _refusal.json_kind(value["index"])
            raise _RefusedError(f"Expected `int`, got `{got}`", (*path, "index"))
    _check_free_form(value, path)
    rescue.kept += 1
    return cls(value)


def _keep(raw: Any, path: Path, rescue: _Rescue) -> Any:
    """A value kept as parsed, once checked against the free-form limits."""
    value = _parse(raw)
    _check_free_form(value, path)
    rescue.kept += 1
    return value


def _parse(raw: Any) -> Any:
    value, failure = _failures.parse(raw)
    if failure is not None:
        raise _UnparsableError(failure)
    return value


def fits_free_form(value: Any, depth: int) -> bool:
    """Whether a value kept as parsed, at a path ``depth`` steps from the root, obeys the
    free-form limits: nesting below MAX_DEPTH from the root, signed 64-bit integers.

    Recursive, but never more than MAX_DEPTH levels: it stops where the limit is.
    """
    kind = type(value)
    if kind is int:
        return bool(INT64_MIN <= value <= INT64_MAX)
    if kind is dict:
        items: Any = value.values()
    elif kind is list:
        items = value
    else:
        return True
    if depth >= MAX_DEPTH:
        return False
    for item in items:
        if item is not None and type(item) not in _FLAT and not fits_free_form(item, depth + 1):
            return False
    return True


_FLAT = frozenset({str, float, bool})


def _check_free_form(value: Any, path: Path) -> None:
    """Refuse a value kept as parsed that breaks the free-form limits, naming where.

    Only a value that does not fit is walked for the path (iteratively, so that
    the walk cannot run out of stack on what msgspec nested as deep as it can).
    """
    if fits_free_form(value, len(path)):
        return
    steps: list[Any] = list(path)
    if type(value) is int:
        _check_int(value, steps)
        return
    if not isinstance(value, (dict, list)):
        return
    if len(steps) >= MAX_DEPTH:
        _too_deep_at(steps)
    iterators: list[Iterator[tuple[Any, Any]]] = [_items(value)]
    steps.append(None)
    while iterators:
        for key, item in iterators[-1]:
            steps[-1] = key
            if type(item) is int:
                _check_int(item, steps)
            elif isinstance(item, (dict, list)):
                if len(steps) >= MAX_DEPTH:
                    _too_deep_at(steps)
                iterators.append(_items(item))
                steps.append(None)
                break
        else:
            iterators.pop()
            steps.pop()


def _items(container: Union[dict[str, Any], list[Any]]) -> Iterator[tuple[Any, Any]]:
    return iter(container.items()) if isinstance(container, dict) else enumerate(container)


def _check_int(value: int, steps: list[Any]) -> None:
    if not INT64_MIN <= value <= INT64_MAX:
        raise _RefusedError("Integer out of range (signed 64 bits)", tuple(steps))


def _too_deep_at(steps: list[Any]) -> None:
    raise _RefusedError(f"JSON is nested more than {MAX_DEPTH} levels deep", tuple(steps))
