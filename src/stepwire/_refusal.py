"""Why, and where, a parsed value does not fit its type: used on error paths only.

When msgspec refuses a body for its type, stepwire finds the refused value
itself rather than reading msgspec's message: it walks the value (parsed
untyped) and the type side by side, asking msgspec only yes-or-no questions
(``_failures.converts``: does this sub-value fit this sub-type?), and descends
into the first child, in document order, that does not fit, as msgspec's
decoder would have met it. Where no child is to blame, the value itself is,
and the reason is worked out from the type: a JSON type that does not match,
a missing or unknown field, a tag or an enumeration value outside the set, a
number or a length past a ``Meta`` bound.

The walk is iterative and every step costs one ``converts`` per child, so a
refusal deep in a large body costs a few conversions of its branches.
"""

from __future__ import annotations

import enum
import re
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import msgspec

from . import _failures
from ._locate import Step
from ._strict import UNION_TYPES

__all__ = ["explain", "json_kind", "tag_reason"]


def explain(value: Any, tp: Any) -> tuple[list[Step], str | None]:
    """Find the value ``tp`` refuses in ``value``, and say why.

    Parameters
    ----------
    value : object
        A document parsed untyped (``msgspec.json.decode``).
    tp : type
        The type the document was refused for.

    Returns
    -------
    steps : list of int or str
        The path of the refused value, from the root.
    reason : str or None
        What is wrong with it, such as ``Expected `str`, got `int```; None
        where the type gives no reason (the caller shows msgspec's words).
    """
    steps: list[Step] = []
    while True:
        found = _blame(value, tp)
        if found is None or isinstance(found, str):
            return steps, found
        step, value, tp, last = found
        steps.append(step)
        if last is not None:  # the child itself is the answer (a tag, a key)
            return steps, last


# What _blame returns: the reason (the value itself is to blame), or the child
# to descend into: (step, child value, child type, reason if the child is final).
_Blame = Union[str, None, tuple[Step, Any, Any, Union[str, None]]]


def _blame(value: Any, tp: Any) -> _Blame:
    base, metas = _unwrap(tp)
    members = _members(base)
    kind = json_kind(value)
    fitting = [m for m in members if kind in _kinds_of(m)]
    if not fitting:
        return f"Expected `{_expected(members)}`, got `{kind}`"
    if len(fitting) > 1 and kind == "object":
        chosen = _by_tag(value, fitting)
        if isinstance(chosen, (str, tuple)):  # the tag is to blame
            return chosen
        fitting = [chosen]
    member = fitting[0]
    member_base, member_metas = _unwrap(member)
    metas = metas + member_metas
    if isinstance(member_base, type) and issubclass(member_base, msgspec.Struct):
        return _blame_struct(value, member_base)
    origin = get_origin(member_base)
    if kind == "array" and origin in (list, tuple, set, frozenset):
        for i, item in enumerate(value):
            item_type = _item_type(member_base, i)
            if item_type is not None and not _fits(item, item_type):
                return i, item, item_type, None
    elif kind == "object" and origin is dict:
        key_type, value_type = get_args(member_base) or (Any, Any)
        for key, item in value.items():
            if not _fits(key, key_type):  # the object is to blame, as msgspec says
                why = _scalar_reason(key, key_type)
                return f"Invalid key {key!r}" + (f": {why}" if why else "")
            if not _fits(item, value_type):
                return key, item, value_type, None
    reason = _bounds(value, kind, metas)
    if reason is not None:
        return reason
    return _scalar_reason(value, member)


def _fits(value: Any, tp: Any) -> bool:
    """Whether ``value`` fits ``tp``; a ``Raw`` field takes any JSON (convert never makes one)."""
    return _unwrap(tp)[0] is msgspec.Raw or _failures.converts(value, tp)


def _item_type(tp: Any, i: int) -> Any:
    """The type of item ``i`` of an array type (None past a fixed-length tuple's end)."""
    args = get_args(tp)
    if not args:
        return Any
    if get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args[i] if i < len(args) else None
    return args[0]


def _blame_struct(value: dict[str, Any], cls: type[msgspec.Struct]) -> _Blame:
    config = cls.__struct_config__
    fields = _fields(cls)
    for key, item in value.items():
        if key == config.tag_field:
            if item != config.tag:
                return key, item, str, tag_reason(item)
            continue
        ftype = fields.get(key)
        if ftype is None:
            if config.forbid_unknown_fields:  # the field is named by the path
                return key, item, Any, f"Object contains unknown field `{key}`"
            continue
        if not _fits(item, ftype):
            return key, item, ftype, None
    for f in msgspec.structs.fields(cls):
        if f.required and f.encode_name not in value:
            return f"Object missing required field `{f.encode_name}`"
    return None


def _by_tag(value: dict[str, Any], structs: list[Any]) -> Any:
    """The member of a tagged union ``value`` names, or the blame for its tag."""
    tagged = [s for s in structs if isinstance(s, type) and issubclass(s, msgspec.Struct)]
    if not tagged:
        return structs[0]
    tag_field = tagged[0].__struct_config__.tag_field
    if tag_field is None:
        return tagged[0]
    if tag_field not in value:
        return f"Object missing required field `{tag_field}`"
    tag = value[tag_field]
    for s in tagged:
        if s.__struct_config__.tag == tag:
            return s
    return tag_field, tag, str, tag_reason(tag)


def tag_reason(tag: Any) -> str:
    if isinstance(tag, str):
        return f"Invalid value {tag!r}"
    return f"Expected `str`, got `{json_kind(tag)}`"


def _bounds(value: Any, kind: str, metas: tuple[msgspec.Meta, ...]) -> str | None:
    """The ``Meta`` bound ``value`` breaks, if any."""
    for meta in metas:
        if kind in ("int", "float") and not isinstance(value, bool):
            for op, bound, broken in (
                (">=", meta.ge, meta.ge is not None and not value >= meta.ge),
                (">", meta.gt, meta.gt is not None and not value > meta.gt),
                ("<=", meta.le, meta.le is not None and not value <= meta.le),
                ("<", meta.lt, meta.lt is not None and not value < meta.lt),
            ):
                if broken:
                    return f"Expected `{kind}` {op} {bound!r}"
            if meta.multiple_of is not None and value % meta.multiple_of:
                return f"Expected `{kind}` that's a multiple of {meta.multiple_of!r}"
        if kind in ("str", "array", "object"):
            size = len(value)
            if meta.min_length is not None and size < meta.min_length:
                return f"Expected `{kind}` of length >= {meta.min_length}"
            if meta.max_length is not None and size > meta.max_length:
                return f"Expected `{kind}` of length <= {meta.max_length}"
        if kind == "str" and meta.pattern is not None and re.search(meta.pattern, value) is None:
            return f"Expected `str` matching regex {meta.pattern!r}"
    return None


def _scalar_reason(value: Any, tp: Any) -> str | None:
    base, metas = _unwrap(tp)
    kind = json_kind(value)
    reason = _bounds(value, kind, metas)
    if reason is not None:
        return reason
    if get_origin(base) is Literal or (isinstance(base, type) and issubclass(base, enum.Enum)):
        return f"Invalid enum value {value!r}"
    if kind not in _kinds_of(base):
        return f"Expected `{_expected(_members(base))}`, got `{kind}`"
    return None


# -- types --------------------------------------------------------------------------------


def _unwrap(tp: Any) -> tuple[Any, tuple[msgspec.Meta, ...]]:
    """A type without its ``Annotated`` layers, and the ``Meta`` constraints they held."""
    metas: tuple[msgspec.Meta, ...] = ()
    while hasattr(tp, "__metadata__"):
        metas += tuple(m for m in tp.__metadata__ if isinstance(m, msgspec.Meta))
        tp = tp.__origin__
    return tp, metas


@cache
def _members(tp: Any) -> tuple[Any, ...]:
    """The members a JSON value may match (``UNSET`` is never in JSON)."""
    if get_origin(tp) in UNION_TYPES:
        out: list[Any] = []
        for arg in get_args(tp):
            out.extend(m for m in _members(_unwrap(arg)[0] if _is_union(arg) else arg))
        return tuple(m for m in out if m is not msgspec.UnsetType)
    return (tp,)


def _is_union(tp: Any) -> bool:
    return get_origin(_unwrap(tp)[0]) in UNION_TYPES


@cache
def _kinds_of(tp: Any) -> frozenset[str]:
    """The JSON kinds (``object``, ``str``, ...) a member accepts."""
    base, _ = _unwrap(tp)
    if base is Any or base is msgspec.Raw:
        return frozenset(("object", "array", "str", "int", "float", "bool", "null"))
    if base is None or base is type(None):
        return frozenset(("null",))
    if base is bool:
        return frozenset(("bool",))
    if base is int:
        return frozenset(("int",))
    if base is float:
        return frozenset(("int", "float"))
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return frozenset(("object",))
    origin = get_origin(base)
    if origin is Literal:
        return frozenset(json_kind(v) for v in get_args(base))
    if origin in UNION_TYPES:
        return frozenset().union(*(_kinds_of(m) for m in _members(base)))
    if origin is dict or base is dict:
        return frozenset(("object",))
    if origin in (list, tuple, set, frozenset) or base in (list, tuple, set, frozenset):
        return frozenset(("array",))
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return frozenset(json_kind(m.value) for m in base)
    return frozenset(("str",))  # str, and what JSON carries as text (dates, UUIDs, ...)


_KIND_ORDER = ("object", "array", "str", "int", "float", "bool", "null")


def _expected(members: tuple[Any, ...]) -> str:
    """``object | null`` and the like: the JSON kinds the members accept, as msgspec says it."""
    names: list[str] = []
    for member in members:
        kinds = _kinds_of(member)
        if len(kinds) == len(_KIND_ORDER):
            names.append("any")
            continue
        if kinds == {"int", "float"}:  # a float takes ints too; say "float"
            kinds = frozenset(("float",))
        names.extend(k for k in _KIND_ORDER if k in kinds)
    return " | ".join(dict.fromkeys(names))


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "array"
    return "object"


@cache
def _fields(cls: type[msgspec.Struct]) -> dict[str, Any]:
    return {f.encode_name: f.type for f in msgspec.structs.fields(cls)}
