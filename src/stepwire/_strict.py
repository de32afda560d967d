"""Strict-mode types, derived from the model.

``strict_type(RunStepPage)`` is a parallel tree of Structs with
``forbid_unknown_fields=True`` in which every ``StrictAs`` annotation replaces
the open type it annotates (open strings become the spec's enumerations,
metadata and scores get their limits), and the ``extra`` field is left out:
strict mode refuses the fields it would hold. Unknown tags need no extra code:
the strict unions simply have no fallback. The tree is derived rather than written
twice so that the two modes can never drift apart.
"""

from __future__ import annotations

from functools import cache
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from ._unknown import EXTRA_KEY, StrictAs

__all__ = ["UNION_TYPES", "derived_struct", "strict_type"]

#: The origins of ``Union[X, Y]`` and of ``X | Y``.
UNION_TYPES: tuple[Any, ...] = (Union, UnionType)


@cache
def strict_type(tp: Any) -> Any:
    """Return the strict counterpart of a model type (see module docstring)."""
    metadata = getattr(tp, "__metadata__", None)
    if metadata is not None:  # Annotated[...]
        for meta in metadata:
            if isinstance(meta, StrictAs):
                return strict_type(meta.type)
        result: Any = strict_type(tp.__origin__)
        for meta in metadata:  # nested Annotated flattens into one
            result = Annotated[result, meta]
        return result
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _strict_struct(tp)
    origin = get_origin(tp)
    if origin is None or origin is Literal:
        return tp
    args = tuple(strict_type(a) for a in get_args(tp))
    if origin in UNION_TYPES:
        return Union[args]
    return origin[args[0] if len(args) == 1 else args]


def _strict_struct(cls: type[msgspec.Struct]) -> type[msgspec.Struct]:
    fields: list[Any] = []
    rename: dict[str, str] = {}
    for f in msgspec.structs.fields(cls):
        if f.encode_name == EXTRA_KEY:
            continue
        ftype = strict_type(f.type)
        if f.required:
            fields.append((f.name, ftype))
        else:
            fields.append((f.name, ftype, f.default))
        if f.encode_name != f.name:
            rename[f.name] = f.encode_name
    return derived_struct(f"Strict{cls.__name__}", cls, fields, rename)


def derived_struct(
    name: str, cls: type[msgspec.Struct], fields: list[Any], rename: dict[str, str]
) -> type[msgspec.Struct]:
    """A Struct of ``fields`` tagged as ``cls`` is, that forbids unknown fields (not a subclass)."""
    config = cls.__struct_config__
    derived: type[msgspec.Struct] = msgspec.defstruct(
        name,
        fields,
        module=__name__,
        kw_only=True,
        tag_field=config.tag_field,
        tag=config.tag,
        rename=rename or None,
        forbid_unknown_fields=True,
        gc=False,
    )
    return derived
