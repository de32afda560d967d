"""Encoding back to JSON: msgspec's encoder, and the fields it cannot place itself.

msgspec writes every Struct field under its own name. The fields stepwire
does not model live in each object's ``extra`` (JSON name ``EXTRA_KEY``),
and must be written in the object instead. Most bodies have none: msgspec's
output is then the answer, and finding that it has none is one search of the
output for the key. Only a body that has some is encoded again, from plain
values built with its extra fields in place.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._unknown import EXTRA_KEY

__all__ = ["encode", "json_names", "to_builtins"]

_ENCODER = msgspec.json.Encoder()
_EXTRA_MARK = b'"' + EXTRA_KEY.encode() + b'":'


def encode(obj: Any) -> bytes:
    """Encode a stepwire object (or a list of them) back to JSON.

    Absent fields stay absent, nulls stay null, unknown union members are
    written back exactly as they were parsed, and so are the fields stepwire
    does not model (``.extra``), in the object they came in.

    Parameters
    ----------
    obj : RunStep, RunStepPage, RunStepDeltaEvent, or any model object

    Returns
    -------
    bytes
    """
    out = _ENCODER.encode(obj)
    if _EXTRA_MARK in out:
        out = _ENCODER.encode(to_builtins(obj))
    return out


def to_builtins(obj: Any) -> Any:
    """``obj`` as dicts, lists and scalars, each object's extra fields in it.

    ``msgspec.Raw`` values are left as they are (any msgspec encoder writes
    them out unchanged).
    """
    if isinstance(obj, msgspec.Struct):
        cls = type(obj)
        _, names, tag_field = json_names(cls)
        out: dict[str, Any] = {tag_field: cls.__struct_config__.tag} if tag_field else {}
        for attr, json_name in names.items():
            value = getattr(obj, attr)
            if value is not msgspec.UNSET:
                out[json_name] = to_builtins(value)
        extra = getattr(obj, "extra", msgspec.UNSET)
        if extra:
            for key, value in extra.items():
                # A modelled field of the same name (set by hand) wins.
                out.setdefault(key, to_builtins(value))
        return out
    if isinstance(obj, dict):
        return {key: to_builtins(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_builtins(value) for value in obj]
    return obj


_NAMES: dict[type[Any], tuple[dict[str, str], dict[str, str], str | None]] = {}


def json_names(cls: type[Any]) -> tuple[dict[str, str], dict[str, str], str | None]:
    """A Struct class's ``JSON name -> attribute`` and ``attribute -> JSON name`` (its
    ``extra`` left out: its fields are written in the object), and its tag field if it
    is tagged."""
    names = _NAMES.get(cls)
    if names is None:
        config = cls.__struct_config__
        tag_field = config.tag_field if isinstance(config.tag, str) else None
        fields = [f for f in msgspec.structs.fields(cls) if f.encode_name != EXTRA_KEY]
        names = _NAMES[cls] = (  # registered whole: another thread never sees half of it
            {f.encode_name: f.name for f in fields},
            {f.name: f.encode_name for f in fields},
            tag_field,
        )
    return names
