"""Twin types: what a decoder learned of the bodies it met, decoded in one pass.

When a service rolls out a new field or tool type, every body it sends has
it. The fallback (``_fallback``) keeps what it finds, but splits each body
into pieces to find it, and msgspec is fast enough that even one extra pass
over a step costs as much as decoding it. So a decoder learns the shape: the
unknown key of each Struct, and the keys of each unknown tag of a union. From
that it builds twin types that msgspec decodes in a single pass:

- a Struct with one unknown key gets a twin *subclass* of the same layout in
  which the ``extra`` field is renamed to that key and typed ``Any``; after
  the decode, each twin object becomes the real class again (its
  ``__class__`` is assigned back, which the equal layouts allow) and the
  value moves into an ``ExtraFields``;
- a union with unknown tags gets one Struct member per tag, with the keys
  seen for it typed ``Any``; each such object becomes the ``Unknown*`` stand-in;
- a Struct whose fields hold twins gets a twin subclass retyping those fields.

Bodies that fit the model never get here (the fast decoder takes them), and a
body with something not learned yet fails the twin decode as it failed the
fast one: the fallback then decodes it, and the decoder learns from it. What
is learned is bounded (``MAX_LEARNED``): a stream of ever new tags cannot
grow the types without end, it only stays on the fallback.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

from . import _fallback
from ._failures import FAILURES
from ._strict import UNION_TYPES
from ._unknown import EXTRA_KEY, ExtraFields, UnknownOutputDelta, UnknownToolCallDelta

__all__ = ["MAX_LEARNED", "MISS", "Twins"]

#: The most Struct shapes and unknown tags one decoder learns.
MAX_LEARNED = 64

# A JSON key msgspec cannot take as a field name (it writes names unescaped).
_UNNAMEABLE = frozenset('"\\') | frozenset(chr(c) for c in range(0x20))

#: What ``Twins.decode`` returns for a body its twins do not fit.
MISS: Any = object()


class Twins:
    """What one decoder learned, and the twin decoder built from it."""

    __slots__ = ("_built", "_keys", "_lock", "_tags", "tp")

    def __init__(self, tp: Any) -> None:
        self.tp = tp
        self._lock = threading.Lock()
        # The unknown key of each Struct; None once one had several (not learnable).
        self._keys: dict[type[msgspec.Struct], str | None] = {}
        # The keys seen for each unknown tag of a union (by member set and tag field).
        # Keys in the order first met (the tag field's included), so that a
        # stand-in holds its keys in the order a body of that shape has them.
        self._tags: dict[tuple[frozenset[Any], str], dict[str, tuple[str, ...]]] = {}
        # (decoder, fixer) of the current twins, or None: nothing learned yet.
        self._built: tuple[msgspec.json.Decoder[Any], _Fixer] | None = None

    def decode(self, buf: Any) -> Any:
        """``buf`` decoded through the twins, or ``MISS`` if it holds what they lack."""
        built = self._built
        if built is None:
            return MISS
        decoder, fixer = built
        try:
            value = decoder.decode(buf)
        except FAILURES:
            return MISS
        try:
            return fixer.fix(value, 0)
        except _Unfit:
            return MISS

    def learn(self, rescue: Any) -> None:
        """Learn from what the fallback met (``_fallback._Rescue``)."""
        if not rescue.seen_keys and not rescue.seen_tags:
            return
        with self._lock:
            changed = self._learn_keys(rescue.seen_keys)
            changed = self._learn_tags(rescue.seen_tags) or changed
            if changed:
                self._built = _Builder(self._keys, self._tags).build(self.tp)

    def _learn_keys(self, seen: dict[type[msgspec.Struct], set[str]]) -> bool:
        changed = False
        for cls, keys in seen.items():
            if cls in self._keys:
                learned = self._keys[cls]
                if learned is not None and keys != {learned}:
                    self._keys[cls] = None  # several keys: the layout cannot hold them
                    changed = True
            elif len(self._keys) < MAX_LEARNED:
                key = next(iter(keys))
                learnable = len(keys) == 1 and _nameable(key)
                self._keys[cls] = key if learnable else None
                changed = True
        return changed

    def _learn_tags(
        self, seen: dict[tuple[frozenset[Any], str], dict[str, dict[str, None]]]
    ) -> bool:
        changed = False
        for union, by_tag in seen.items():
            known = self._tags.setdefault(union, {})
            for tag, keys in by_tag.items():
                if not (_nameable(tag) and all(map(_nameable, keys))):
                    continue
                before = known.get(tag)
                if before is None and sum(map(len, self._tags.values())) >= MAX_LEARNED:
                    continue
                merged = tuple(dict.fromkeys((*(before or ()), *keys)))
                if merged != before:
                    known[tag] = merged
                    changed = True
        return changed


def _nameable(key: str) -> bool:
    """Whether msgspec takes ``key`` as a field's JSON name (it writes names unescaped)."""
    return not _UNNAMEABLE.intersection(key)


class _Unfit(Exception):  # noqa: N818 - a signal, not an error
    """A value kept through a twin breaks the free-form limits: the fallback says where."""


# -- building ---------------------------------------------------------------------------


class _Fixer:
    """Turns twin objects back into model objects, in place where it can."""

    __slots__ = ()

    def fix(self, value: Any, depth: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class _Same(_Fixer):
    """A value with nothing to fix."""

    __slots__ = ()

    def fix(self, value: Any, depth: int) -> Any:
        return value


_SAME = _Same()


class _Items(_Fixer):
    __slots__ = ("item",)

    def __init__(self, item: _Fixer) -> None:
        self.item = item

    def fix(self, value: Any, depth: int) -> Any:
        if type(value) is not list:
            return value
        depth += 1
        item_fixer = self.item
        if type(item_fixer) is _Classes and item_fixer.rest is _SAME:
            # The common case, inlined: most items are of a class with nothing to fix.
            by_class = item_fixer.by_class
            for i, item in enumerate(value):
                fixer = by_class.get(type(item))
                if fixer is not None:
                    new = fixer.fix(item, depth)
                    if new is not item:
                        value[i] = new
            return value
        fix = item_fixer.fix
        for i, item in enumerate(value):
            new = fix(item, depth)
            if new is not item:
                value[i] = new
        return value


class _Values(_Fixer):
    __slots__ = ("item",)

    def __init__(self, item: _Fixer) -> None:
        self.item = item

    def fix(self, value: Any, depth: int) -> Any:
        if type(value) is dict:
            fix = self.item.fix
            for key, item in value.items():
                new = fix(item, depth + 1)
                if new is not item:
                    value[key] = new
        return value


class _Classes(_Fixer):
    """By twin class: how to make each object of a (union) type a model object again."""

    __slots__ = ("by_class", "rest")

    def __init__(self) -> None:
        self.by_class: dict[type[Any], _Fixer] = {}
        # For a value of another member (a list, in ``list[X] | None``).
        self.rest: _Fixer = _SAME

    def fix(self, value: Any, depth: int) -> Any:
        fixer = self.by_class.get(type(value))
        if fixer is None:
            return self.rest.fix(value, depth)
        return fixer.fix(value, depth)


class _Twin(_Fixer):
    """A twin subclass: assign the real class back, move the learned key into ``extra``."""

    __slots__ = ("cls", "fields", "key")

    def __init__(self, cls: type[Any], key: str | None, fields: list[tuple[str, _Fixer]]):
        self.cls = cls
        self.key = key
        self.fields = fields

    def fix(self, value: Any, depth: int) -> Any:
        value.__class__ = self.cls
        if self.key is not None:
            kept = value.extra
            if kept is not msgspec.UNSET:
                _check(kept, depth + 1)
                value.extra = ExtraFields({self.key: kept})
        for name, fixer in self.fields:
            item = getattr(value, name)
            new = fixer.fix(item, depth + 1)
            if new is not item:
                setattr(value, name, new)
        return value


class _Stand(_Fixer):
    """A learned unknown tag: the object becomes its ``Unknown*`` stand-in."""

    __slots__ = ("cls", "indexed", "names", "tag")

    def __init__(self, cls: type[Any], tag: str, names: list[tuple[str | None, str]]):
        self.cls = cls
        self.tag = tag
        # A delta's stand-in: the merge places it by its index.
        self.indexed = issubclass(cls, (UnknownToolCallDelta, UnknownOutputDelta))
        # (attribute, JSON name) in the order the keys were met; the tag's attribute is None.
        self.names = names

    def fix(self, value: Any, depth: int) -> Any:
        out = self.cls()
        for name, key in self.names:
            if name is None:
                out[key] = self.tag
                continue
            item = getattr(value, name)
            if item is msgspec.UNSET:
                continue
            if type(item) in _NESTED and not _fallback.fits_free_form(item, depth + 1):
                raise _Unfit
            out[key] = item
        if self.indexed and type(out.get("index")) is not int:
            raise _Unfit  # the fallback names what is missing
        return out


def _check(value: Any, depth: int) -> None:
    """Refuse a kept value past the free-form limits; ``depth`` is its path's length."""
    if not _fallback.fits_free_form(value, depth):
        raise _Unfit


_NESTED = frozenset({dict, list, int})


class _Builder:
    """Builds the twin types for one set of learned shapes."""

    def __init__(
        self,
        keys: dict[type[msgspec.Struct], str | None],
        tags: dict[tuple[frozenset[Any], str], dict[str, tuple[str, ...]]],
    ) -> None:
        self.keys = keys
        self.tags = tags
        self.types: dict[Any, tuple[Any, _Fixer]] = {}

    def build(self, tp: Any) -> tuple[msgspec.json.Decoder[Any], _Fixer] | None:
        twin, fixer = self.twin(tp)
        if fixer is _SAME:
            return None
        return msgspec.json.Decoder(twin), fixer

    def twin(self, tp: Any) -> tuple[Any, _Fixer]:
        """The twin of ``tp`` and its fixer; ``(tp, _SAME)`` if nothing in it was learned."""
        done = self.types.get(tp)
        if done is None:
            self.types[tp] = (tp, _SAME)  # the model has no cycles; this only guards
            done = self.types[tp] = self._twin(tp)
        return done

    def _twin(self, tp: Any) -> tuple[Any, _Fixer]:
        metadata = getattr(tp, "__metadata__", None)
        if metadata is not None:  # Annotated: keep the constraints on the twin
            inner, fixer = self.twin(tp.__origin__)
            if fixer is _SAME:
                return tp, _SAME
            args = (inner, *metadata)
            return Annotated.__class_getitem__(args), fixer  # type: ignore[attr-defined]
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            return self._union((tp,), tp)
        origin = get_origin(tp)
        if origin in UNION_TYPES:
            return self._union(get_args(tp), tp)
        if origin is list:
            item, fixer = self.twin(get_args(tp)[0])
            return (tp, _SAME) if fixer is _SAME else (list[item], _Items(fixer))  # type: ignore[valid-type]
        if origin is dict:
            key, value = get_args(tp)
            inner, fixer = self.twin(value)
            if fixer is _SAME:
                return tp, _SAME
            return dict[key, inner], _Values(fixer)  # type: ignore[valid-type]
        return tp, _SAME

    def _union(self, args: tuple[Any, ...], tp: Any) -> tuple[Any, _Fixer]:
        members = _fallback._members(tp)
        fixer = _Classes()
        twins: list[Any] = []
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, msgspec.Struct):
                twin, member_fixer = self._struct(arg)
                if member_fixer is not _SAME:
                    fixer.by_class[twin] = member_fixer
                twins.append(twin)
            else:
                twin, member_fixer = self.twin(arg)
                if member_fixer is not _SAME:  # a list among the members
                    if fixer.rest is not _SAME:
                        return tp, _SAME  # two such members: not in the model
                    fixer.rest = member_fixer
                twins.append(twin)
        structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
        unknown = _fallback._UNKNOWN.get(frozenset(members))
        if structs and unknown is not None:
            tag_field = structs[0].__struct_config__.tag_field
            assert tag_field is not None
            for tag, keys in self.tags.get((frozenset(members), tag_field), {}).items():
                stand = self._stand(unknown, tag_field, tag, keys)
                fixer.by_class[stand[0]] = stand[1]
                twins.append(stand[0])
        if not fixer.by_class and fixer.rest is _SAME:
            return tp, _SAME
        return (twins[0] if len(twins) == 1 else Union[tuple(twins)]), fixer

    def _struct(self, cls: type[msgspec.Struct]) -> tuple[type[Any], _Fixer]:
        key = self.keys.get(cls)
        fields: list[Any] = []
        fixers: list[tuple[str, _Fixer]] = []
        rename: dict[str, str] = {}
        for f in msgspec.structs.fields(cls):
            ftype = f.type
            if f.encode_name == EXTRA_KEY:
                if key is None:
                    continue
                ftype = Any
                rename[f.name] = key
            else:
                twin, fixer = self.twin(f.type)
                if fixer is not _SAME:
                    ftype = twin
                    fixers.append((f.name, fixer))
                if f.encode_name != f.name:
                    rename[f.name] = f.encode_name
            fields.append((f.name, ftype) if f.required else (f.name, ftype, f.default))
        if key is None and not fixers:
            return cls, _SAME
        if key is None:
            rename.setdefault("extra", EXTRA_KEY)
        config = cls.__struct_config__
        twin_cls = msgspec.defstruct(
            f"_Twin{cls.__name__}",
            fields,
            bases=(cls,),
            kw_only=True,
            tag_field=config.tag_field,
            tag=config.tag,
            rename=rename,
        )
        return twin_cls, _Twin(cls, key, fixers)

    def _stand(
        self, cls: type[Any], tag_field: str, tag: str, keys: tuple[str, ...]
    ) -> tuple[type[Any], _Fixer]:
        names = [(None if key == tag_field else f"f{i}", key) for i, key in enumerate(keys)]
        fields = [(name, key) for name, key in names if name is not None]
        twin_cls = msgspec.defstruct(
            "_Unknown",
            [(name, Any, msgspec.UNSET) for name, _ in fields],
            kw_only=True,
            tag_field=tag_field,
            tag=tag,
            rename=dict(fields),
            forbid_unknown_fields=True,
            gc=False,
        )
        return twin_cls, _Stand(cls, tag, names)
